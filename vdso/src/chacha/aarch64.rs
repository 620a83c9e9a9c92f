//! ChaCha20 blocks for aarch64 in Advanced SIMD (NEON, which every AArch64 Linux CPU has): one
//! block at a time, the state's four rows in `v0..v3`, the input rows in `v16..v19`. Only
//! caller-saved vector registers (not `v8..v15`) are used, so nothing needs saving: no store to
//! the stack at all (the test `tests/image_disassembly.rs` checks the machine code).
//!
//! The usual one-block SIMD arrangement (Linux's arm64 `vgetrandom-chacha.S` is also one): rotate
//! by 16 with `rev32` on halfwords, the others with `shl` plus `sri`; diagonals with `ext`.

/// See [`super`]: `nblocks` (> 0) blocks of ChaCha20 keystream with a zero nonce, starting at
/// block `*counter`, into `dst`; `*counter` is advanced past them.
///
/// # Safety
/// `dst` must be writable for `64 * nblocks` bytes, `key` readable for 32 and `counter` a valid
/// `u64`; `nblocks > 0`.
#[unsafe(naked)]
#[link_section = ".text.chacha20_blocks"]
pub unsafe extern "C" fn chacha20_blocks(dst: *mut u8, key: *const u8, counter: *mut u64, nblocks: usize) {
    core::arch::naked_asm!(
        ".cfi_startproc",
        // x0 = dst, x1 = key, x2 = counter, x3 = nblocks.
        // v16 = "expand 32-byte k".
        "movz x4, #0x7865",
        "movk x4, #0x6170, lsl #16",
        "movk x4, #0x646e, lsl #32",
        "movk x4, #0x3320, lsl #48",
        "movz x5, #0x2d32",
        "movk x5, #0x7962, lsl #16",
        "movk x5, #0x6574, lsl #32",
        "movk x5, #0x6b20, lsl #48",
        "fmov d16, x4",
        "mov v16.d[1], x5",
        // v17, v18 = key; v19 = counter, nonce 0; v20 = 1 in the low doubleword.
        "ld1 {{v17.16b, v18.16b}}, [x1]",
        "ldr d19, [x2]",
        "mov x4, #1",
        "fmov d20, x4",
        "2:",
        "mov v0.16b, v16.16b",
        "mov v1.16b, v17.16b",
        "mov v2.16b, v18.16b",
        "mov v3.16b, v19.16b",
        "mov w5, #10",
        "3:",
        // Column round.
        "add v0.4s, v0.4s, v1.4s",
        "eor v3.16b, v3.16b, v0.16b",
        "rev32 v3.8h, v3.8h",
        "add v2.4s, v2.4s, v3.4s",
        "eor v4.16b, v1.16b, v2.16b",
        "shl v1.4s, v4.4s, #12",
        "sri v1.4s, v4.4s, #20",
        "add v0.4s, v0.4s, v1.4s",
        "eor v4.16b, v3.16b, v0.16b",
        "shl v3.4s, v4.4s, #8",
        "sri v3.4s, v4.4s, #24",
        "add v2.4s, v2.4s, v3.4s",
        "eor v4.16b, v1.16b, v2.16b",
        "shl v1.4s, v4.4s, #7",
        "sri v1.4s, v4.4s, #25",
        // Diagonals into columns: rows 1, 2, 3 rotated left by 1, 2, 3 words.
        "ext v1.16b, v1.16b, v1.16b, #4",
        "ext v2.16b, v2.16b, v2.16b, #8",
        "ext v3.16b, v3.16b, v3.16b, #12",
        // Diagonal round.
        "add v0.4s, v0.4s, v1.4s",
        "eor v3.16b, v3.16b, v0.16b",
        "rev32 v3.8h, v3.8h",
        "add v2.4s, v2.4s, v3.4s",
        "eor v4.16b, v1.16b, v2.16b",
        "shl v1.4s, v4.4s, #12",
        "sri v1.4s, v4.4s, #20",
        "add v0.4s, v0.4s, v1.4s",
        "eor v4.16b, v3.16b, v0.16b",
        "shl v3.4s, v4.4s, #8",
        "sri v3.4s, v4.4s, #24",
        "add v2.4s, v2.4s, v3.4s",
        "eor v4.16b, v1.16b, v2.16b",
        "shl v1.4s, v4.4s, #7",
        "sri v1.4s, v4.4s, #25",
        "ext v1.16b, v1.16b, v1.16b, #12",
        "ext v2.16b, v2.16b, v2.16b, #8",
        "ext v3.16b, v3.16b, v3.16b, #4",
        "subs w5, w5, #1",
        "b.ne 3b",
        // Add the input and store the block.
        "add v0.4s, v0.4s, v16.4s",
        "add v1.4s, v1.4s, v17.4s",
        "add v2.4s, v2.4s, v18.4s",
        "add v3.4s, v3.4s, v19.4s",
        "st1 {{v0.16b, v1.16b, v2.16b, v3.16b}}, [x0], #64",
        "add v19.2d, v19.2d, v20.2d",
        "subs x3, x3, #1",
        "b.ne 2b",
        "str d19, [x2]",
        // Leave no key material or keystream in registers.
        "movi v0.16b, #0",
        "movi v1.16b, #0",
        "movi v2.16b, #0",
        "movi v3.16b, #0",
        "movi v4.16b, #0",
        "movi v17.16b, #0",
        "movi v18.16b, #0",
        "movi v19.16b, #0",
        "ret",
        ".cfi_endproc",
    );
}
