//! Entering the program on riscv64.
//!
//! The RISC-V psABI's process start: `sp` 16-byte aligned and pointing at `argc`, `a0` a function
//! to register with `atexit` (0: none, which is what Linux passes). Linux's `start_thread` zeroes
//! the other registers; so does this, `ra` included (the outermost frame for unwinders), `gp`
//! (the program's `_start` loads its own global pointer) and `tp` (its libc sets up TLS). The
//! jump goes through `t0`, the one register left holding a value (the entry address).

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
            "mv sp, a0",
            "mv t0, a1",
            "li ra, 0",
            "li gp, 0",
            "li tp, 0",
            "li t1, 0",
            "li t2, 0",
            "li s0, 0",
            "li s1, 0",
            "li a0, 0",
            "li a1, 0",
            "li a2, 0",
            "li a3, 0",
            "li a4, 0",
            "li a5, 0",
            "li a6, 0",
            "li a7, 0",
            "li s2, 0",
            "li s3, 0",
            "li s4, 0",
            "li s5, 0",
            "li s6, 0",
            "li s7, 0",
            "li s8, 0",
            "li s9, 0",
            "li s10, 0",
            "li s11, 0",
            "li t3, 0",
            "li t4, 0",
            "li t5, 0",
            "li t6, 0",
            "jr t0",
            in("a0") sp,
            in("a1") entry,
            options(noreturn)
        )
    }
}

/// The signature glibc registers its `rseq` area with.
pub const RSEQ_SIG: u32 = 0xf140_1073;

/// The thread pointer glibc's `__rseq_offset` is relative to.
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reads the `tp` register.
    unsafe { std::arch::asm!("mv {}, tp", out(reg) tp, options(nomem, nostack)) };
    tp
}
