//! The reader side of the data page's seqlock (docs/abi.md section 4).
//!
//! The kernel bumps `seq` to odd, writes, and bumps it to even again, with release fences in
//! between. A reader takes `seq`, waits while it is odd, reads, and retries when `seq` changed
//! underneath it. The barriers are the arch's read barrier (`fence r,r` on riscv64; loads are
//! never reordered with loads on x86_64, so there only the compiler must be stopped).
//!
//! A page that stays odd with `clock_mode == TIMENS` is a time-namespace page, not a writer in
//! progress: [`begin`] reports it so the caller takes the namespace path instead of spinning.

use vdso_abi::clock_mode;

use crate::arch;
use crate::data::{load_i32, load_u32, Clock as VdsoData};

/// What [`begin`] found on the page.
pub enum Begin {
    /// A stable snapshot starts: pass the value to [`retry`] after reading.
    Seq(u32),
    /// Page 0 is a time-namespace page.
    Timens,
}

/// Waits for an even `seq` and orders the following loads after it.
///
/// # Safety
/// `vd` must point to a mapped `vdso_data`.
#[inline(always)]
pub unsafe fn begin(vd: *const VdsoData) -> Begin {
    loop {
        // SAFETY: `vd` is mapped, per the caller.
        let seq = unsafe { load_u32(&raw const (*vd).seq) };
        if seq & 1 == 0 {
            arch::read_barrier();
            return Begin::Seq(seq);
        }
        // A writer in progress or a namespace page: rare, laid out off the straight line.
        core::hint::cold_path();
        // SAFETY: as above.
        if unsafe { load_i32(&raw const (*vd).clock_mode) } == clock_mode::TIMENS {
            return Begin::Timens;
        }
        core::hint::spin_loop();
    }
}

/// `seq` as it is now, with the following loads ordered after it, without waiting for it to be
/// even: for a fast path that tests `seq & 1` together with other conditions and leaves for a
/// path using [`begin`] when any of them holds.
///
/// # Safety
/// `vd` must point to a mapped `vdso_data`.
#[inline(always)]
pub unsafe fn peek(vd: *const VdsoData) -> u32 {
    // SAFETY: `vd` is mapped, per the caller.
    let seq = unsafe { load_u32(&raw const (*vd).seq) };
    arch::read_barrier();
    seq
}

/// Whether the loads since [`begin`] may have been torn and must be redone.
///
/// `seq` as it is now, after a read barrier: the reader compares it with [`begin`]'s value
/// itself, e.g. folded into one test with other conditions of its fast path.
///
/// # Safety
/// `vd` must point to a mapped `vdso_data`.
#[inline(always)]
pub unsafe fn end(vd: *const VdsoData) -> u32 {
    arch::read_barrier();
    // SAFETY: `vd` is mapped, per the caller.
    unsafe { load_u32(&raw const (*vd).seq) }
}

/// # Safety
/// `vd` must point to a mapped `vdso_data`.
#[inline(always)]
pub unsafe fn retry(vd: *const VdsoData, seq: u32) -> bool {
    arch::read_barrier();
    // SAFETY: `vd` is mapped, per the caller.
    let changed = unsafe { load_u32(&raw const (*vd).seq) != seq };
    if changed {
        core::hint::cold_path();
    }
    changed
}
