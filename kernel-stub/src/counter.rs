//! Reading the architecture's counter, the one the image reads (docs/abi.md §5a).
//!
//! - x86_64: `lfence; rdtsc`. `lfence` keeps the read from being executed before earlier loads
//!   (such as the seqlock's `seq`), which is the ordering the image needs too; Intel documents
//!   `lfence` as serializing `rdtsc` for this, and AMD with `LFENCE` made dispatch-serializing
//!   (which every kernel enables). Needs `CR4.TSD` clear in user mode.
//! - riscv64: `rdtime` (the `time` CSR). Under qemu-user 7.2 it returns the host's TSC, not a
//!   10 MHz timebase, which is why the rate is always calibrated (the `calibrate` module, with the `std` feature).

/// Reads the counter of the architecture this crate runs on.
#[cfg(target_arch = "x86_64")]
#[inline]
pub fn read_counter() -> u64 {
    // SAFETY: `lfence` and `rdtsc` are part of x86_64's baseline (SSE2, TSC); they read no memory
    // and have no preconditions besides the kernel allowing `rdtsc` in user mode, which every
    // Linux does unless a process opts out with PR_SET_TSC (then this faults cleanly).
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::_mm_lfence();
        core::arch::x86_64::_rdtsc()
    }
}

/// Reads the counter of the architecture this crate runs on.
#[cfg(target_arch = "riscv64")]
#[inline]
pub fn read_counter() -> u64 {
    let t: u64;
    // SAFETY: `rdtime` reads the `time` CSR into a register and touches nothing else; it is
    // allowed in user mode when the kernel sets `scounteren.TM` (Linux does).
    unsafe { core::arch::asm!("rdtime {0}", out(reg) t, options(nomem, nostack, preserves_flags)) };
    t
}
