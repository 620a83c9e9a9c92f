//! Entering the program on aarch64.
//!
//! The AArch64 Linux process start: `sp` 16-byte aligned and pointing at `argc`, `x0` a function
//! to register with `atexit` (0: none, which is what Linux passes). Linux's `start_thread` zeroes
//! the other general registers; so does this, the frame pointer `x29` and the link register
//! `x30` included (the outermost frame for unwinders). The jump goes through `x16` (IP0, the
//! register the procedure-call standard leaves to veneers), zeroed by nothing after it.

/// Switches to the stack `sp` and jumps to `entry`; never returns.
///
/// # Safety
///
/// `sp` must point at a complete initial stack (argc, argv, envp, auxv) inside a writable
/// mapping, and `entry` at the program's (or its loader's) entry point, mapped executable.
/// Nothing of the calling Rust code runs again.
pub unsafe fn jump(entry: u64, sp: u64) -> ! {
    // SAFETY: the caller guarantees the stack and the entry point; the asm never returns, so
    // clobbering every register and the stack pointer is fine.
    unsafe {
        core::arch::asm!(
            "mov sp, x0",
            "mov x16, x1",
            "mov x0, xzr", "mov x1, xzr", "mov x2, xzr", "mov x3, xzr",
            "mov x4, xzr", "mov x5, xzr", "mov x6, xzr", "mov x7, xzr",
            "mov x8, xzr", "mov x9, xzr", "mov x10, xzr", "mov x11, xzr",
            "mov x12, xzr", "mov x13, xzr", "mov x14, xzr", "mov x15, xzr",
            "mov x17, xzr", "mov x18, xzr", "mov x19, xzr", "mov x20, xzr",
            "mov x21, xzr", "mov x22, xzr", "mov x23, xzr", "mov x24, xzr",
            "mov x25, xzr", "mov x26, xzr", "mov x27, xzr", "mov x28, xzr",
            "mov x29, xzr", "mov x30, xzr",
            "br x16",
            in("x0") sp,
            in("x1") entry,
            options(noreturn)
        )
    }
}

/// The signature glibc registers its `rseq` area with (`brk #0x45e0`, little-endian).
pub const RSEQ_SIG: u32 = 0xd428_bc00;

/// The thread pointer glibc's `__rseq_offset` is relative to (`TPIDR_EL0`).
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reads TPIDR_EL0, which user mode may always read.
    unsafe { std::arch::asm!("mrs {}, tpidr_el0", out(reg) tp, options(nomem, nostack, preserves_flags)) };
    tp
}
