//! Time-namespace pages (docs/abi.md §2 and §4).
//!
//! For a task in a time namespace the kernel maps a namespace page at page 0 and the real data
//! page at the namespace slot. The namespace page has the data page's layout, both structs
//! filled alike: `seq = 1` (odd forever, so a reader never takes it for data), `clock_mode =
//! TIMENS`, and per-clock offsets in place of the base times. As Linux's
//! `timens_setup_vdso_data` does, MONOTONIC, MONOTONIC_RAW and MONOTONIC_COARSE take the
//! namespace's monotonic offset and BOOTTIME and BOOTTIME_ALARM its boottime offset, in both
//! structs (the image reads RAW's from `[1]`, the rest from `[0]`); everything else is zero.

use core::ptr::NonNull;

use vdso_abi::{clock, clock_mode, Bases, TimensOffset, VdsoData, CS_BASES};

use crate::access;
use crate::arch::VdsoArch;
use crate::time::Timespec;

/// A time namespace's offsets (`/proc/PID/timens_offsets`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimensOffsets {
    /// Added to MONOTONIC, MONOTONIC_COARSE and MONOTONIC_RAW.
    pub monotonic: Timespec,
    /// Added to BOOTTIME and BOOTTIME_ALARM.
    pub boottime: Timespec,
}

fn offset(t: Timespec) -> TimensOffset {
    TimensOffset { sec: t.sec, nsec: t.nsec as u64 }
}

/// The two structs of a namespace page for `offsets`.
pub fn timens_page<A: VdsoArch>(offsets: &TimensOffsets) -> [VdsoData<A>; CS_BASES] {
    let mut off = [TimensOffset::default(); clock::VDSO_BASES];
    let mono = offset(offsets.monotonic);
    let boot = offset(offsets.boottime);
    off[clock::MONOTONIC as usize] = mono;
    off[clock::MONOTONIC_RAW as usize] = mono;
    off[clock::MONOTONIC_COARSE as usize] = mono;
    off[clock::BOOTTIME as usize] = boot;
    off[clock::BOOTTIME_ALARM as usize] = boot;
    let vd = VdsoData::<A> {
        seq: 1,
        clock_mode: clock_mode::TIMENS,
        bases: Bases { offset: off },
        ..VdsoData::default()
    };
    [vd; CS_BASES]
}

/// Writes a namespace page for `offsets` at `pair` (the `vdso_data[0..2]` of the page).
///
/// Write it before any task can read it, as Linux does when the namespace's first task enters
/// it: a namespace page is not protected by the seqlock (its `seq` is odd forever).
///
/// # Safety
///
/// `pair` must be valid for writes of two `VdsoData<A>`, 8-aligned, with no other writer;
/// concurrent readers must read atomically.
pub unsafe fn write_timens_page<A: VdsoArch>(
    pair: NonNull<[VdsoData<A>; CS_BASES]>,
    offsets: &TimensOffsets,
) {
    let page = timens_page::<A>(offsets);
    for (i, vd) in page.iter().enumerate() {
        let dst = pair.as_ptr().cast::<VdsoData<A>>().wrapping_add(i);
        // SAFETY: the caller guarantees the pair is valid, aligned and ours to write.
        unsafe {
            access::store_seq(dst, vd.seq);
            access::store_fields(dst, vd);
        }
    }
}
