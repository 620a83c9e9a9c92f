//! Entering the program on loongarch64.
//!
//! The LoongArch ELF psABI's process start: `sp` (`$r3`) 16-byte aligned and pointing at
//! `argc`, `a0` a function to register with `atexit` (0: none, which is what Linux passes).
//! Linux's `start_thread` leaves the other registers zero; so does this, `ra` included (the
//! outermost frame for unwinders) and `tp` (the program's libc sets up TLS). The jump goes
//! through `t0`, the one register left holding a value (the entry address).

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
            "move $sp, $a0",
            "move $t0, $a1",
            "move $ra, $zero", "move $tp, $zero",
            "move $a0, $zero", "move $a1, $zero", "move $a2, $zero", "move $a3, $zero",
            "move $a4, $zero", "move $a5, $zero", "move $a6, $zero", "move $a7, $zero",
            "move $t1, $zero", "move $t2, $zero", "move $t3, $zero", "move $t4, $zero",
            "move $t5, $zero", "move $t6, $zero", "move $t7, $zero", "move $t8, $zero",
            "move $r21, $zero", "move $fp, $zero",
            "move $s0, $zero", "move $s1, $zero", "move $s2, $zero", "move $s3, $zero",
            "move $s4, $zero", "move $s5, $zero", "move $s6, $zero", "move $s7, $zero",
            "move $s8, $zero",
            "jr $t0",
            in("$a0") sp,
            in("$a1") entry,
            options(noreturn)
        )
    }
}

/// The signature glibc registers its `rseq` area with on loongarch (`break 0x10`).
pub const RSEQ_SIG: u32 = 0x002a_0010;

/// The thread pointer glibc's `__rseq_offset` is relative to (`$tp`, `$r2`).
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: copies a register.
    unsafe { std::arch::asm!("move {}, $tp", out(reg) tp, options(nomem, nostack, preserves_flags)) };
    tp
}
