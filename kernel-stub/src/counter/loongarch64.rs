//! loongarch64: the stable counter, `rdtime.d`.

/// Reads the counter of the architecture this crate runs on (`rdtime.d`, the stable counter;
/// its counter-ID output, `CSR.TID`, is discarded). User mode may execute it unless the
/// kernel sets `CSR.MISC.DRDTL3` (Linux does not).
#[inline]
pub fn read_counter() -> u64 {
    let t: u64;
    // SAFETY: `rdtime.d` reads the stable counter into a register and touches nothing else.
    unsafe { core::arch::asm!("rdtime.d {0}, $zero", out(reg) t, options(nomem, nostack, preserves_flags)) };
    t
}
