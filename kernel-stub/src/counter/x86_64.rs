//! x86_64: `lfence; rdtsc`.

/// Reads the counter of the architecture this crate runs on.
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
