//! ChaCha20 blocks for x86_64 in SSE2 (baseline on every x86_64 CPU). Each block's four rows
//! live in four registers; the input rows in `xmm8..xmm11`. Blocks go two at a time
//! (`xmm0..xmm3` and `xmm4..xmm7`, counters `n` and `n + 1`) while two remain: one block's
//! quarter rounds are a chain of dependent instructions, and a second, independent chain fills
//! the cycles the first waits (the generator's refill is always two blocks, and its direct
//! output often more). An odd last block goes alone. All sixteen `xmm` registers are
//! caller-saved in the SysV ABI, so nothing but the output buffer and the counter is ever
//! written: no push, no spill, no call (`tests/image_disassembly.rs` checks the machine code).
//!
//! Within a block, the usual SIMD arrangement: rotate by 16 with two 16-bit shuffles (SSE2 has
//! no `pshufb`), the others with shift, shift, or; the diagonal rounds by rotating rows with
//! `pshufd`. Linux's `arch/x86/entry/vdso/vgetrandom-chacha.S` makes one block at a time.

/// See [`super`]: `nblocks` (> 0) blocks of ChaCha20 keystream with a zero nonce, starting at
/// block `*counter`, into `dst`; `*counter` is advanced past them. The key is read once, before
/// anything is stored, so `dst` may overlap it.
///
/// # Safety
/// `dst` must be writable for `64 * nblocks` bytes, `key` readable for 32 and `counter` a valid
/// `u64`; `nblocks > 0`.
#[unsafe(naked)]
#[link_section = ".text.chacha20_blocks"]
pub unsafe extern "C" fn chacha20_blocks(dst: *mut u8, key: *const u8, counter: *mut u64, nblocks: usize) {
    core::arch::naked_asm!(
        ".cfi_startproc",
        // rotl R, T, N: R <<<= N through the scratch register T (for N != 16).
        ".macro chacha_rotl r, t, n",
        "movdqa \\t, \\r",
        "pslld \\r, \\n",
        "psrld \\t, 32 - \\n",
        "por \\r, \\t",
        ".endm",
        // One quarter round on whole rows A, B, C, D (scratch T).
        ".macro chacha_qr a, b, c, d, t",
        "paddd \\a, \\b",
        "pxor \\d, \\a",
        "pshuflw \\d, \\d, 0xb1",
        "pshufhw \\d, \\d, 0xb1",
        "paddd \\c, \\d",
        "pxor \\b, \\c",
        "chacha_rotl \\b, \\t, 12",
        "paddd \\a, \\b",
        "pxor \\d, \\a",
        "chacha_rotl \\d, \\t, 8",
        "paddd \\c, \\d",
        "pxor \\b, \\c",
        "chacha_rotl \\b, \\t, 7",
        ".endm",
        // Rows 1, 2, 3 rotated left by 1, 2, 3 words (diagonals into columns), and back.
        ".macro chacha_diag b, c, d",
        "pshufd \\b, \\b, 0x39",
        "pshufd \\c, \\c, 0x4e",
        "pshufd \\d, \\d, 0x93",
        ".endm",
        ".macro chacha_undiag b, c, d",
        "pshufd \\b, \\b, 0x93",
        "pshufd \\c, \\c, 0x4e",
        "pshufd \\d, \\d, 0x39",
        ".endm",
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
        "cmp rcx, 2",
        "jb 5f",
        // Two blocks: xmm0..3 at counter n, xmm4..7 at n + 1 (xmm15).
        "2:",
        "movdqa xmm15, xmm11",
        "paddq xmm15, xmm13",
        "movdqa xmm0, xmm8",
        "movdqa xmm1, xmm9",
        "movdqa xmm2, xmm10",
        "movdqa xmm3, xmm11",
        "movdqa xmm4, xmm8",
        "movdqa xmm5, xmm9",
        "movdqa xmm6, xmm10",
        "movdqa xmm7, xmm15",
        "mov r8d, 10",
        "3:",
        "chacha_qr xmm0, xmm1, xmm2, xmm3, xmm12",
        "chacha_qr xmm4, xmm5, xmm6, xmm7, xmm14",
        "chacha_diag xmm1, xmm2, xmm3",
        "chacha_diag xmm5, xmm6, xmm7",
        "chacha_qr xmm0, xmm1, xmm2, xmm3, xmm12",
        "chacha_qr xmm4, xmm5, xmm6, xmm7, xmm14",
        "chacha_undiag xmm1, xmm2, xmm3",
        "chacha_undiag xmm5, xmm6, xmm7",
        "dec r8d",
        "jnz 3b",
        "paddd xmm0, xmm8",
        "paddd xmm1, xmm9",
        "paddd xmm2, xmm10",
        "paddd xmm3, xmm11",
        "paddd xmm4, xmm8",
        "paddd xmm5, xmm9",
        "paddd xmm6, xmm10",
        "paddd xmm7, xmm15",
        "movdqu [rdi], xmm0",
        "movdqu [rdi + 16], xmm1",
        "movdqu [rdi + 32], xmm2",
        "movdqu [rdi + 48], xmm3",
        "movdqu [rdi + 64], xmm4",
        "movdqu [rdi + 80], xmm5",
        "movdqu [rdi + 96], xmm6",
        "movdqu [rdi + 112], xmm7",
        "movdqa xmm11, xmm15",
        "paddq xmm11, xmm13",
        "add rdi, 128",
        "sub rcx, 2",
        "cmp rcx, 2",
        "jae 2b",
        "test rcx, rcx",
        "jz 6f",
        // One block.
        "5:",
        "movdqa xmm0, xmm8",
        "movdqa xmm1, xmm9",
        "movdqa xmm2, xmm10",
        "movdqa xmm3, xmm11",
        "mov r8d, 10",
        "4:",
        "chacha_qr xmm0, xmm1, xmm2, xmm3, xmm12",
        "chacha_diag xmm1, xmm2, xmm3",
        "chacha_qr xmm0, xmm1, xmm2, xmm3, xmm12",
        "chacha_undiag xmm1, xmm2, xmm3",
        "dec r8d",
        "jnz 4b",
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
        "jnz 5b",
        "6:",
        "movq qword ptr [rdx], xmm11",
        // Leave no key material or keystream in registers.
        "pxor xmm0, xmm0",
        "pxor xmm1, xmm1",
        "pxor xmm2, xmm2",
        "pxor xmm3, xmm3",
        "pxor xmm4, xmm4",
        "pxor xmm5, xmm5",
        "pxor xmm6, xmm6",
        "pxor xmm7, xmm7",
        "pxor xmm9, xmm9",
        "pxor xmm10, xmm10",
        "pxor xmm11, xmm11",
        "pxor xmm12, xmm12",
        "pxor xmm14, xmm14",
        "pxor xmm15, xmm15",
        "ret",
        ".purgem chacha_rotl",
        ".purgem chacha_qr",
        ".purgem chacha_diag",
        ".purgem chacha_undiag",
        ".cfi_endproc",
    );
}
