//! aarch64: the generic timer's virtual counter, `CNTVCT_EL0`, read as the image reads it.

/// Reads the counter of the architecture this crate runs on: `isb` first (so the read is not
/// speculated before earlier instructions), then `mrs CNTVCT_EL0`. EL0 may read it when the
/// kernel sets `CNTKCTL_EL1.EL0VCTEN` (Linux does).
#[inline]
pub fn read_counter() -> u64 {
    let t: u64;
    // SAFETY: `isb` and an EL0-readable system register read touch no memory.
    unsafe {
        core::arch::asm!("isb", "mrs {0}, cntvct_el0", out(reg) t, options(nomem, nostack, preserves_flags))
    };
    t
}
