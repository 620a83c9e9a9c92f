//! ChaCha20 blocks for riscv64 (RV64GC, no vector or bit-manipulation extension assumed): the
//! sixteen state words in `s0..s11` and `a4..a7`, the constants in `t3..t6`, the 64-bit block
//! counter in `t2`. Sixteen caller-saved registers cannot hold a ChaCha state plus its
//! pointers, so the function saves `s0..s11` at entry, before it loads anything: the only
//! stores to the stack hold the caller's values, never key material or keystream (Linux's
//! riscv64 `vgetrandom-chacha.S` does the same; `tests/image_disassembly.rs` checks it).
//!
//! Rotations are `slliw`, `srliw`, `or` through `t0` (no `Zbb` `roriw` on the baseline).

/// See [`super`]: `nblocks` (> 0) blocks of ChaCha20 keystream with a zero nonce, starting at
/// block `*counter`, into `dst`; `*counter` is advanced past them. The key is read afresh for
/// every block and fully read before a block is stored, so `dst` may overlap `key` at the end
/// of the last block (the batch refill overwrites the key it was made with).
///
/// # Safety
/// `dst` must be writable for `64 * nblocks` bytes, `key` readable for 32 (4-aligned) and
/// `counter` a valid, aligned `u64`; `nblocks > 0`.
#[unsafe(naked)]
#[link_section = ".text.chacha20_blocks"]
pub unsafe extern "C" fn chacha20_blocks(dst: *mut u8, key: *const u8, counter: *mut u64, nblocks: usize) {
    core::arch::naked_asm!(
        ".cfi_startproc",
        // a0 = dst, a1 = key, a2 = counter, a3 = nblocks. QR: one quarter round, t0 scratch.
        ".macro chacha_qr a, b, c, d",
        "addw \\a, \\a, \\b", "xor \\d, \\d, \\a",
        "slliw t0, \\d, 16", "srliw \\d, \\d, 16", "or \\d, \\d, t0",
        "addw \\c, \\c, \\d", "xor \\b, \\b, \\c",
        "slliw t0, \\b, 12", "srliw \\b, \\b, 20", "or \\b, \\b, t0",
        "addw \\a, \\a, \\b", "xor \\d, \\d, \\a",
        "slliw t0, \\d, 8", "srliw \\d, \\d, 24", "or \\d, \\d, t0",
        "addw \\c, \\c, \\d", "xor \\b, \\b, \\c",
        "slliw t0, \\b, 7", "srliw \\b, \\b, 25", "or \\b, \\b, t0",
        ".endm",
        // Save the callee-saved registers, before anything is loaded.
        "addi sp, sp, -96",
        ".cfi_def_cfa_offset 96",
        "sd s0, 0(sp)", ".cfi_offset s0, -96",
        "sd s1, 8(sp)", ".cfi_offset s1, -88",
        "sd s2, 16(sp)", ".cfi_offset s2, -80",
        "sd s3, 24(sp)", ".cfi_offset s3, -72",
        "sd s4, 32(sp)", ".cfi_offset s4, -64",
        "sd s5, 40(sp)", ".cfi_offset s5, -56",
        "sd s6, 48(sp)", ".cfi_offset s6, -48",
        "sd s7, 56(sp)", ".cfi_offset s7, -40",
        "sd s8, 64(sp)", ".cfi_offset s8, -32",
        "sd s9, 72(sp)", ".cfi_offset s9, -24",
        "sd s10, 80(sp)", ".cfi_offset s10, -16",
        "sd s11, 88(sp)", ".cfi_offset s11, -8",
        "ld t2, 0(a2)",
        "li t3, 0x61707865",
        "li t4, 0x3320646e",
        "li t5, 0x79622d32",
        "li t6, 0x6b206574",
        "2:",
        "mv s0, t3", "mv s1, t4", "mv s2, t5", "mv s3, t6",
        "lw s4, 0(a1)", "lw s5, 4(a1)", "lw s6, 8(a1)", "lw s7, 12(a1)",
        "lw s8, 16(a1)", "lw s9, 20(a1)", "lw s10, 24(a1)", "lw s11, 28(a1)",
        "mv a4, t2", "srli a5, t2, 32", "li a6, 0", "li a7, 0",
        "li t1, 10",
        "3:",
        "chacha_qr s0, s4, s8, a4", "chacha_qr s1, s5, s9, a5",
        "chacha_qr s2, s6, s10, a6", "chacha_qr s3, s7, s11, a7",
        "chacha_qr s0, s5, s10, a7", "chacha_qr s1, s6, s11, a4",
        "chacha_qr s2, s7, s8, a5", "chacha_qr s3, s4, s9, a6",
        "addi t1, t1, -1",
        "bnez t1, 3b",
        // Add the input (every key word read before any store) and store the block.
        "addw s0, s0, t3", "addw s1, s1, t4", "addw s2, s2, t5", "addw s3, s3, t6",
        "lw t0, 0(a1)", "addw s4, s4, t0", "lw t0, 4(a1)", "addw s5, s5, t0",
        "lw t0, 8(a1)", "addw s6, s6, t0", "lw t0, 12(a1)", "addw s7, s7, t0",
        "lw t0, 16(a1)", "addw s8, s8, t0", "lw t0, 20(a1)", "addw s9, s9, t0",
        "lw t0, 24(a1)", "addw s10, s10, t0", "lw t0, 28(a1)", "addw s11, s11, t0",
        "addw a4, a4, t2", "srli t0, t2, 32", "addw a5, a5, t0",
        "sw s0, 0(a0)", "sw s1, 4(a0)", "sw s2, 8(a0)", "sw s3, 12(a0)",
        "sw s4, 16(a0)", "sw s5, 20(a0)", "sw s6, 24(a0)", "sw s7, 28(a0)",
        "sw s8, 32(a0)", "sw s9, 36(a0)", "sw s10, 40(a0)", "sw s11, 44(a0)",
        "sw a4, 48(a0)", "sw a5, 52(a0)", "sw a6, 56(a0)", "sw a7, 60(a0)",
        "addi t2, t2, 1",
        "addi a0, a0, 64",
        "addi a3, a3, -1",
        "bnez a3, 2b",
        "sd t2, 0(a2)",
        // Leave no key material or keystream in the caller-saved registers; restore the rest.
        "li t0, 0", "li a4, 0", "li a5, 0", "li a6, 0", "li a7, 0",
        "ld s0, 0(sp)",
        "ld s1, 8(sp)",
        "ld s2, 16(sp)",
        "ld s3, 24(sp)",
        "ld s4, 32(sp)",
        "ld s5, 40(sp)",
        "ld s6, 48(sp)",
        "ld s7, 56(sp)",
        "ld s8, 64(sp)",
        "ld s9, 72(sp)",
        "ld s10, 80(sp)",
        "ld s11, 88(sp)",
        "addi sp, sp, 96",
        ".cfi_def_cfa_offset 0",
        "ret",
        ".purgem chacha_qr",
        ".cfi_endproc",
    );
}
