//! A reader of the data page, in Rust, following the same protocol and arithmetic as the image.
//!
//! The image is the real reader; this one exists so the kernel half can be tested on its own
//! (torture tests of the writer, the ticker's accuracy) and as an executable statement of what
//! the image must compute: docs/abi.md §3 and §4, including time namespaces, a counter behind
//! `cycle_last` giving the base time, and 128-bit products past the overflow horizon.

use vdso_abi::{clock, clock_mode, TimensOffset, VdsoData, CS_BASES, CS_HRES_COARSE, CS_RAW};

use crate::access;
use crate::arch::VdsoArch;
use crate::protocol;
use crate::time::{Timespec, NSEC_PER_SEC};
use crate::writer::PageOps;

/// A consistent copy of what a reader sees.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot<A: VdsoArch> {
    /// The real data (from the time-namespace slot when page 0 is a namespace page).
    pub data: [VdsoData<A>; CS_BASES],
    /// The namespace offsets of page 0, per struct, when page 0 is a namespace page.
    pub timens: Option<[[TimensOffset; clock::VDSO_BASES]; CS_BASES]>,
}

/// Reads the data pages of a mapping of architecture `A`.
pub struct Reader<A: VdsoArch> {
    page0: PageOps<A>,
    timens_slot: PageOps<A>,
}

// SAFETY: a reader only performs atomic loads of memory that `new`'s contract keeps valid; any
// number of threads may do that at once.
unsafe impl<A: VdsoArch> Send for Reader<A> {}
// SAFETY: as above.
unsafe impl<A: VdsoArch> Sync for Reader<A> {}

impl<A: VdsoArch> Reader<A> {
    /// A reader of the data pages starting at `data_base` (page 0 of the mapping, laid out as
    /// `A::LAYOUT` says).
    ///
    /// # Safety
    ///
    /// Page 0 — and, if page 0 is or may become a time-namespace page, the namespace slot — must
    /// stay mapped and readable for as long as the reader exists, and be written only by a
    /// writer following the protocol (atomic stores, as [`crate::writer::SeqlockWriter`] does).
    pub unsafe fn new(data_base: *const u8) -> Self {
        let l = A::LAYOUT;
        let at = |off: usize| data_base.cast_mut().wrapping_add(off).cast();
        Reader {
            page0: PageOps { pair: at(l.vdso_data_in_mapping()) },
            timens_slot: PageOps { pair: at(l.timens_data_in_mapping()) },
        }
    }

    /// The page holding the real data, and the namespace page if page 0 is one.
    fn pages(&self) -> (&PageOps<A>, Option<&PageOps<A>>) {
        let p0 = self.page0.pair.cast::<VdsoData<A>>();
        // SAFETY: `new`'s contract keeps page 0 mapped and written atomically. A namespace
        // page is written once (seq = 1, odd forever) and then never changes, so this check
        // needs no seqlock, exactly as in the image.
        let is_timens =
            unsafe { access::load_seq(p0) & 1 == 1 && access::load_clock_mode(p0) == clock_mode::TIMENS };
        if is_timens {
            (&self.timens_slot, Some(&self.page0))
        } else {
            (&self.page0, None)
        }
    }

    /// A consistent copy of both structs (read under `vdso_data[0].seq`; the writer bumps both
    /// together), plus the namespace offsets if page 0 is a namespace page.
    pub fn snapshot(&self) -> Snapshot<A> {
        let (real, ns) = self.pages();
        let data = protocol::read(real, CS_HRES_COARSE, || load_pair(real));
        let timens = ns.map(|ns| {
            let pair = load_pair(ns);
            // SAFETY (union read): both members are arrays of plain integers of one size.
            pair.map(|vd| unsafe { vd.bases.offset })
        });
        Snapshot { data, timens }
    }

    /// `clock_gettime(clock)` as the image computes it from the page, with `counter` reading
    /// the counter (called inside the seqlock, as the image reads it). `None` where the image
    /// would make the syscall: an id it does not serve, or a counter-based clock while
    /// `clock_mode` is not the architecture counter.
    pub fn clock_gettime(&self, clock: i32, mut counter: impl FnMut() -> u64) -> Option<Timespec> {
        let hres = (0..32).contains(&clock) && clock::HRES_MASK & (1 << clock) != 0;
        let coarse = (0..32).contains(&clock) && clock::COARSE_MASK & (1 << clock) != 0;
        let raw = clock == clock::MONOTONIC_RAW;
        if !(hres || coarse || raw) {
            return None;
        }
        let idx = if raw { CS_RAW } else { CS_HRES_COARSE };
        let (real, ns) = self.pages();
        let slot = real.pair.cast::<VdsoData<A>>().wrapping_add(idx);
        let s = protocol::read(real, idx, || {
            // SAFETY: `new`'s contract: the page is mapped and written atomically. Only the
            // fields this clock needs are loaded, as the image does.
            let mut s = unsafe { access::load_clock_fields(slot, clock as usize) };
            if !coarse && s.mode == clock_mode::ARCH {
                s.cycles = counter();
            }
            s
        });
        if !coarse && s.mode != clock_mode::ARCH {
            return None;
        }
        let ns_total = if coarse {
            s.nsec as u128
        } else {
            let delta = s.cycles.wrapping_sub(s.cycle_last) & s.mask;
            // A counter behind `cycle_last` (a delta in the upper half of the mask) gives the
            // base time, never a jump of centuries.
            let delta = if delta > s.mask >> 1 { 0 } else { delta };
            (s.nsec as u128 + delta as u128 * s.mult as u128) >> s.shift
        };
        let mut t = Timespec::from_nanos((s.sec as i64) as i128 * NSEC_PER_SEC as i128 + ns_total as i128);
        if let Some(ns) = ns {
            let pair = load_pair(ns);
            // SAFETY (union read): plain integers.
            let off = unsafe { pair[idx].bases.offset[clock as usize] };
            t = Timespec::from_nanos(
                t.as_nanos() + off.sec as i128 * NSEC_PER_SEC as i128 + off.nsec as i128,
            );
        }
        Some(t)
    }
}

fn load_pair<A: VdsoArch>(ops: &PageOps<A>) -> [VdsoData<A>; CS_BASES] {
    core::array::from_fn(|i| {
        // SAFETY: `Reader::new`'s contract: the page is mapped and written atomically.
        unsafe { access::load_fields(ops.pair.cast::<VdsoData<A>>().add(i)) }
    })
}
