//! ChaCha20 blocks for x86_64 in SSE2 (baseline on every x86_64 CPU): one block at a time, the
//! state's four rows in `xmm0..xmm3`, the input rows in `xmm8..xmm11`. Nothing but the output
//! buffer and the counter is ever written: no push, no spill, no call (the test
//! `tests/image_disassembly.rs` checks the machine code).
//!
//! The usual one-block SIMD arrangement (Linux's `arch/x86/entry/vdso/vgetrandom-chacha.S` is
//! also one): rotate by 16 with two 16-bit shuffles (SSE2 has no `pshufb`), the others with
//! shift, shift, or; the diagonal rounds by rotating rows with `pshufd`.

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
        // rdi = dst, rsi = key, rdx = counter, rcx = nblocks.
        // xmm8 = "expand 32-byte k".
        "movabs rax, 0x3320646e61707865",
        "movq xmm8, rax",
        "movabs rax, 0x6b20657479622d32",
        "movq xmm12, rax",
        "punpcklqdq xmm8, xmm12",
        // xmm9, xmm10 = key; xmm11 = counter, nonce 0.
        "movdqu xmm9, [rsi]",
        "movdqu xmm10, [rsi + 16]",
        "movq xmm11, qword ptr [rdx]",
        // xmm13 = 1 in the low quadword: the 64-bit block counter's increment.
        "mov eax, 1",
        "movq xmm13, rax",
        "2:",
        "movdqa xmm0, xmm8",
        "movdqa xmm1, xmm9",
        "movdqa xmm2, xmm10",
        "movdqa xmm3, xmm11",
        "mov r8d, 10",
        "3:",
        // Column round.
        "paddd xmm0, xmm1",
        "pxor xmm3, xmm0",
        "pshuflw xmm3, xmm3, 0xb1",
        "pshufhw xmm3, xmm3, 0xb1",
        "paddd xmm2, xmm3",
        "pxor xmm1, xmm2",
        "movdqa xmm4, xmm1",
        "pslld xmm1, 12",
        "psrld xmm4, 20",
        "por xmm1, xmm4",
        "paddd xmm0, xmm1",
        "pxor xmm3, xmm0",
        "movdqa xmm4, xmm3",
        "pslld xmm3, 8",
        "psrld xmm4, 24",
        "por xmm3, xmm4",
        "paddd xmm2, xmm3",
        "pxor xmm1, xmm2",
        "movdqa xmm4, xmm1",
        "pslld xmm1, 7",
        "psrld xmm4, 25",
        "por xmm1, xmm4",
        // Diagonals into columns: rows 1, 2, 3 rotated left by 1, 2, 3 words.
        "pshufd xmm1, xmm1, 0x39",
        "pshufd xmm2, xmm2, 0x4e",
        "pshufd xmm3, xmm3, 0x93",
        // Diagonal round.
        "paddd xmm0, xmm1",
        "pxor xmm3, xmm0",
        "pshuflw xmm3, xmm3, 0xb1",
        "pshufhw xmm3, xmm3, 0xb1",
        "paddd xmm2, xmm3",
        "pxor xmm1, xmm2",
        "movdqa xmm4, xmm1",
        "pslld xmm1, 12",
        "psrld xmm4, 20",
        "por xmm1, xmm4",
        "paddd xmm0, xmm1",
        "pxor xmm3, xmm0",
        "movdqa xmm4, xmm3",
        "pslld xmm3, 8",
        "psrld xmm4, 24",
        "por xmm3, xmm4",
        "paddd xmm2, xmm3",
        "pxor xmm1, xmm2",
        "movdqa xmm4, xmm1",
        "pslld xmm1, 7",
        "psrld xmm4, 25",
        "por xmm1, xmm4",
        "pshufd xmm1, xmm1, 0x93",
        "pshufd xmm2, xmm2, 0x4e",
        "pshufd xmm3, xmm3, 0x39",
        "dec r8d",
        "jnz 3b",
        // Add the input and store the block.
        "paddd xmm0, xmm8",
        "paddd xmm1, xmm9",
        "paddd xmm2, xmm10",
        "paddd xmm3, xmm11",
        "movdqu [rdi], xmm0",
        "movdqu [rdi + 16], xmm1",
        "movdqu [rdi + 32], xmm2",
        "movdqu [rdi + 48], xmm3",
        "paddq xmm11, xmm13",
        "add rdi, 64",
        "dec rcx",
        "jnz 2b",
        "movq qword ptr [rdx], xmm11",
        // Leave no key material or keystream in registers.
        "pxor xmm0, xmm0",
        "pxor xmm1, xmm1",
        "pxor xmm2, xmm2",
        "pxor xmm3, xmm3",
        "pxor xmm4, xmm4",
        "pxor xmm9, xmm9",
        "pxor xmm10, xmm10",
        "pxor xmm11, xmm11",
        "ret",
        ".cfi_endproc",
    );
}
