//! riscv64: `rdtime`.

/// Reads the counter of the architecture this crate runs on.
#[inline]
pub fn read_counter() -> u64 {
    let t: u64;
    // SAFETY: `rdtime` reads the `time` CSR into a register and touches nothing else; it is
    // allowed in user mode when the kernel sets `scounteren.TM` (Linux does).
    unsafe { core::arch::asm!("rdtime {0}", out(reg) t, options(nomem, nostack, preserves_flags)) };
    t
}
