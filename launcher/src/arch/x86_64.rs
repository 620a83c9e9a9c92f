//! Entering the program on x86_64.
//!
//! The System V AMD64 psABI (§3.4.1, "Process Initialization") says what `_start` finds: `%rsp`
//! 16-byte aligned and pointing at `argc`, `%rdx` a function to register with `atexit` (0: none),
//! and nothing else defined; Linux's `start_thread` zeroes every other register, so this does
//! too, including `%rbp` (the outermost frame for unwinders). The entry address is parked in
//! the word just below the new stack pointer (memory nobody has used yet) so that every
//! general-purpose register can be zero when the jump happens.

/// Switches to the stack `sp` and jumps to `entry`; never returns.
///
/// # Safety
///
/// `sp` must point at a complete initial stack (argc, argv, envp, auxv) inside a writable
/// mapping with at least 8 bytes free below it, and `entry` at the program's (or its loader's)
/// entry point, mapped executable. Nothing of the calling Rust code runs again.
pub unsafe fn jump(entry: u64, sp: u64) -> ! {
    // SAFETY: the caller guarantees the stack and the entry point; the asm never returns, so
    // clobbering every register and the stack pointer is fine.
    unsafe {
        core::arch::asm!(
            "mov [rdi - 8], rsi",
            "mov rsp, rdi",
            "cld",
            "xor eax, eax",
            "xor ebx, ebx",
            "xor ecx, ecx",
            "xor edx, edx",
            "xor esi, esi",
            "xor edi, edi",
            "xor ebp, ebp",
            "xor r8d, r8d",
            "xor r9d, r9d",
            "xor r10d, r10d",
            "xor r11d, r11d",
            "xor r12d, r12d",
            "xor r13d, r13d",
            "xor r14d, r14d",
            "xor r15d, r15d",
            "jmp qword ptr [rsp - 8]",
            in("rdi") sp,
            in("rsi") entry,
            options(noreturn)
        )
    }
}

/// The signature glibc registers its `rseq` area with.
pub const RSEQ_SIG: u32 = 0x5305_3053;

/// The thread pointer glibc's `__rseq_offset` is relative to.
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: on x86_64 glibc the TCB's first word (at %fs:0) points to itself.
    unsafe { std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags)) };
    tp
}
