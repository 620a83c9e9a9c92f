//! Writing the modern profile's time page (Linux 6.15+'s `struct vdso_time_data`) from the same
//! [`TimeSnapshot`] a [`Timekeeper`](crate::Timekeeper) publishes into the classic pair.
//!
//! The per-clock fields are the classic ones ([`fill`] computes them once for both profiles);
//! the modern page keeps `tz` and `hrtimer_res` once for the page, carries x86_64's
//! `max_cycles` (the longest delta whose `delta * mult` stays within 64 bits, what Linux 6.10+'s
//! image tests before its 128-bit path) and leaves the auxiliary clocks disabled (`clock_mode`
//! NONE: the image asks the kernel). A namespace page marks every clock struct, auxiliary ones
//! included, with `seq = 1` and `clock_mode = TIMENS`, and carries the namespace offsets in the
//! two base clocks as the classic namespace page does.

use core::ptr::NonNull;

use vdso_abi::modern::{VdsoClock, VdsoTimeData};
use vdso_abi::{clock_mode, VdsoData, CS_BASES};

use crate::config::ConfigError;
use crate::timekeeping::max_cycles;
use crate::timens::{timens_page, TimensOffsets};
use crate::update::{fill, TimeSnapshot};

/// The type of `vdso_clock.max_cycles`: `u64` where the architecture has the field (x86_64),
/// `()` where it does not.
pub trait MaxCycles: Copy + Default {
    /// The field's value for a conversion (`max_cycles(mult, shift)`, saturated on a
    /// conversion no page may carry).
    fn for_conversion(mult: u32, shift: u32) -> Self;
}

impl MaxCycles for u64 {
    fn for_conversion(mult: u32, shift: u32) -> u64 {
        max_cycles(mult, shift).unwrap_or(0)
    }
}

impl MaxCycles for () {
    fn for_conversion(_: u32, _: u32) {}
}

/// The classic pair's per-clock fields as one `vdso_clock` (`seq` included).
fn clock_of<M: MaxCycles, T>(c: &VdsoData<T>) -> VdsoClock<M> {
    VdsoClock {
        seq: c.seq,
        clock_mode: c.clock_mode,
        cycle_last: c.cycle_last,
        max_cycles: M::for_conversion(c.mult, c.shift),
        mask: c.mask,
        mult: c.mult,
        shift: c.shift,
        bases: c.bases,
    }
}

/// Writes every time field of `snap` into `td` (a writer's copy of the time page): both base
/// clocks, `tz`, `hrtimer_res`. Leaves `seq`, the auxiliary clocks and `arch_data` alone. Checks
/// `snap` first (nothing is written if [`TimeSnapshot::check`] refuses it).
pub fn fill_time_data<M: MaxCycles, A>(
    td: &mut VdsoTimeData<M, A>,
    snap: &TimeSnapshot,
) -> Result<(), ConfigError> {
    snap.check()?;
    let mut pair = [VdsoData::<vdso_abi::x86_64::ArchData>::default(); CS_BASES];
    fill(&mut pair, snap);
    for (dst, src) in td.clock_data.iter_mut().zip(&pair) {
        let seq = dst.seq;
        *dst = clock_of(src);
        dst.seq = seq;
    }
    td.tz_minuteswest = snap.tz_minuteswest;
    td.tz_dsttime = snap.tz_dsttime;
    td.hrtimer_res = snap.hrtimer_res;
    Ok(())
}

/// The namespace time page for `offsets`.
pub fn timens_time_data<M: MaxCycles, A: Default>(offsets: &TimensOffsets) -> VdsoTimeData<M, A> {
    let pair = timens_page::<vdso_abi::x86_64::ArchData>(offsets);
    let mut td = VdsoTimeData::<M, A>::default();
    for (dst, src) in td.clock_data.iter_mut().zip(&pair) {
        *dst = clock_of(src);
        dst.max_cycles = M::default();
    }
    for aux in &mut td.aux_clock_data {
        aux.seq = 1;
        aux.clock_mode = clock_mode::TIMENS;
    }
    td
}

/// Publishes `snap` into the live time page at `page` under every base clock's `seq` (odd while
/// writing, with release fences, as the classic writer does), from the single writer.
///
/// # Safety
/// `page` must be valid for reads and writes of `VdsoTimeData<M, A>`, aligned, with no other
/// writer; concurrent readers follow the seqlock.
pub unsafe fn publish_time_data<M: MaxCycles, A: Copy>(
    page: NonNull<VdsoTimeData<M, A>>,
    snap: &TimeSnapshot,
) -> Result<(), ConfigError> {
    // SAFETY: per the caller, `page` is valid and ours to write.
    let mut copy = unsafe { core::ptr::read_volatile(page.as_ptr()) };
    fill_time_data(&mut copy, snap)?;
    // SAFETY: as above.
    unsafe { store_base_clocks(page, &copy) };
    Ok(())
}

/// Edits the live time page at `page` by hand: `f` gets a copy of the page as it is, and every
/// clock struct and field it may change is published: both base clocks, `tz` and `hrtimer_res`
/// under the base clocks' `seq` (as [`publish_time_data`]), then each auxiliary clock under its
/// own `seq`. The `seq` fields of the copy are ignored. For a kernel (or a test) that computes
/// the page's fields itself rather than from a [`TimeSnapshot`], and for auxiliary clocks, which
/// a `Timekeeper` leaves disabled.
///
/// # Safety
/// As [`publish_time_data`].
pub unsafe fn update_time_data<M: MaxCycles, A: Copy>(
    page: NonNull<VdsoTimeData<M, A>>,
    f: impl FnOnce(&mut VdsoTimeData<M, A>),
) {
    use core::sync::atomic::{fence, AtomicU32, Ordering};
    // SAFETY: per the caller, `page` is valid and ours to write; readers read atomically.
    unsafe {
        let mut copy = core::ptr::read_volatile(page.as_ptr());
        f(&mut copy);
        store_base_clocks(page, &copy);
        for (i, c) in copy.aux_clock_data.iter().enumerate() {
            let dst = &raw mut (*page.as_ptr()).aux_clock_data[i];
            let seq = AtomicU32::from_ptr(&raw mut (*dst).seq);
            seq.store(seq.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
            fence(Ordering::Release);
            store_clock(dst, c, false);
            fence(Ordering::Release);
            seq.store(seq.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        }
    }
}

/// Publishes `copy`'s base clocks (everything after each `seq`), `tz` and `hrtimer_res` into the
/// live page under every base clock's `seq`: odd while writing, with release fences.
///
/// # Safety
/// As [`publish_time_data`].
unsafe fn store_base_clocks<M: MaxCycles, A: Copy>(
    page: NonNull<VdsoTimeData<M, A>>,
    copy: &VdsoTimeData<M, A>,
) {
    use core::sync::atomic::{fence, AtomicU32, Ordering};
    // SAFETY: per the caller, `page` is valid and ours to write; readers read atomically.
    unsafe {
        let seqs: [&AtomicU32; CS_BASES] =
            core::array::from_fn(|i| AtomicU32::from_ptr(&raw mut (*page.as_ptr()).clock_data[i].seq));
        for s in seqs {
            s.store(s.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        }
        fence(Ordering::Release);
        for (i, c) in copy.clock_data.iter().enumerate() {
            // Everything after `seq` (readers race with us and retry).
            store_clock(&raw mut (*page.as_ptr()).clock_data[i], c, false);
        }
        core::ptr::write_volatile(&raw mut (*page.as_ptr()).tz_minuteswest, copy.tz_minuteswest);
        core::ptr::write_volatile(&raw mut (*page.as_ptr()).tz_dsttime, copy.tz_dsttime);
        core::ptr::write_volatile(&raw mut (*page.as_ptr()).hrtimer_res, copy.hrtimer_res);
        fence(Ordering::Release);
        for s in seqs {
            s.store(s.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        }
    }
}

/// The page writers of one architecture's time page type, chosen from its modern layout row
/// (`vdso_clock` with or without `max_cycles`: the only way the types differ), so a caller holding
/// only an untyped page (a mapping's writer's view) needs no `match` on the architecture.
#[derive(Clone, Copy, Debug)]
pub struct TimePageOps {
    /// [`publish_time_data`] for this architecture's type.
    pub publish: unsafe fn(NonNull<u8>, &TimeSnapshot) -> Result<(), ConfigError>,
    /// Writes the namespace page for the offsets ([`timens_time_data`]) over the page's clock
    /// structs, field by field (readers may be running: they see old or new offsets).
    pub write_timens: unsafe fn(NonNull<u8>, &TimensOffsets),
}

impl TimePageOps {
    /// The writers for `arch`'s modern time page; `None` for an architecture without a modern
    /// layout.
    pub fn of(arch: vdso_abi::Arch) -> Option<TimePageOps> {
        let layout = vdso_abi::modern::layout(arch)?;
        Some(if layout.max_cycles {
            TimePageOps { publish: publish_untyped::<u64>, write_timens: write_timens_untyped::<u64> }
        } else {
            TimePageOps { publish: publish_untyped::<()>, write_timens: write_timens_untyped::<()> }
        })
    }
}

/// # Safety
/// As [`publish_time_data`], for `page` holding a `VdsoTimeData<M, ()>`.
unsafe fn publish_untyped<M: MaxCycles>(page: NonNull<u8>, snap: &TimeSnapshot) -> Result<(), ConfigError> {
    // SAFETY: forwarded from our caller.
    unsafe { publish_time_data(page.cast::<VdsoTimeData<M, ()>>(), snap) }
}

/// # Safety
/// `page` must be valid for writes of a `VdsoTimeData<M, ()>`, 8-aligned, with no other writer.
unsafe fn write_timens_untyped<M: MaxCycles>(page: NonNull<u8>, offsets: &TimensOffsets) {
    let td = timens_time_data::<M, ()>(offsets);
    let page = page.cast::<VdsoTimeData<M, ()>>().as_ptr();
    for (i, c) in td.clock_data.iter().enumerate() {
        // SAFETY: a clock struct of the page, valid per our caller.
        unsafe { store_clock(&raw mut (*page).clock_data[i], c, true) };
    }
    for (i, c) in td.aux_clock_data.iter().enumerate() {
        // SAFETY: as above.
        unsafe { store_clock(&raw mut (*page).aux_clock_data[i], c, true) };
    }
}

/// Stores every field of `c` (`seq` too if `with_seq`) into `*dst`, field by field with volatile
/// stores (readers race with the writer and retry on `seq`; namespace pages are read without).
///
/// # Safety
/// `dst` must be valid for writes and aligned, with no other writer.
unsafe fn store_clock<M: MaxCycles>(dst: *mut VdsoClock<M>, c: &VdsoClock<M>, with_seq: bool) {
    // SAFETY: per our caller.
    unsafe {
        if with_seq {
            core::ptr::write_volatile(&raw mut (*dst).seq, c.seq);
        }
        core::ptr::write_volatile(&raw mut (*dst).clock_mode, c.clock_mode);
        core::ptr::write_volatile(&raw mut (*dst).cycle_last, c.cycle_last);
        core::ptr::write_volatile(&raw mut (*dst).max_cycles, c.max_cycles);
        core::ptr::write_volatile(&raw mut (*dst).mask, c.mask);
        core::ptr::write_volatile(&raw mut (*dst).mult, c.mult);
        core::ptr::write_volatile(&raw mut (*dst).shift, c.shift);
        core::ptr::write_volatile(&raw mut (*dst).bases, c.bases);
    }
}

/// Writes riscv64's hwprobe answers into Linux 6.18's `struct vdso_arch_data` (the modern
/// profile's arch page): `values[key]` for the keys it has (the rest 0), then
/// `homogeneous_cpus` with release ordering, so a reader that sees the flag sees the values.
///
/// # Safety
/// `page` must be a mapped, writable page that only this caller writes (readers read it
/// atomically), at least `size_of::<vdso_abi::modern::riscv64::ArchData>()` bytes, 8-aligned.
pub unsafe fn write_riscv64_hwprobe(page: core::ptr::NonNull<u8>, values: &[u64], homogeneous: bool) {
    use vdso_abi::modern::riscv64::{ArchData, HWPROBE_KEYS};
    let dst = page.as_ptr().cast::<ArchData>();
    // SAFETY: the caller's contract: `dst` is valid, aligned and written by us alone; every
    // element is in bounds and 8-aligned, the flag is one byte.
    unsafe {
        let slots = core::ptr::addr_of_mut!((*dst).all_cpu_hwprobe_values).cast::<u64>();
        for key in 0..HWPROBE_KEYS {
            core::sync::atomic::AtomicU64::from_ptr(slots.add(key))
                .store(values.get(key).copied().unwrap_or(0), core::sync::atomic::Ordering::Relaxed);
        }
        core::sync::atomic::AtomicU8::from_ptr(core::ptr::addr_of_mut!((*dst).homogeneous_cpus))
            .store(u8::from(homogeneous), core::sync::atomic::Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use vdso_abi::clock;

    use super::*;
    use crate::update::{ClockConfig, Times};
    use crate::Timespec;

    type X86 = vdso_abi::modern::x86_64::TimeData;
    type Plain = vdso_abi::modern::aarch64::TimeData;

    fn snapshot() -> TimeSnapshot {
        let cfg = ClockConfig { mult: 6_710_886, shift: 24, mask: u64::MAX };
        let times = Times {
            monotonic: Timespec { sec: 5_000, nsec: 7 },
            raw: Timespec { sec: 4_000, nsec: 9 },
            realtime: Timespec { sec: 1_700_000_000, nsec: 11 },
            boot_offset: Timespec { sec: 3, nsec: 0 },
            tai_offset: Timespec { sec: 37, nsec: 0 },
        };
        let mut s = TimeSnapshot::new(cfg, 1 << 40, &times).unwrap();
        s.hrtimer_res = 4;
        s.tz_minuteswest = -60;
        s.tz_dsttime = 1;
        s
    }

    #[test]
    fn the_modern_page_carries_the_classic_pairs_clock_fields() {
        let snap = snapshot();
        let mut pair = [VdsoData::<vdso_abi::x86_64::ArchData>::default(); CS_BASES];
        fill(&mut pair, &snap);
        let mut td = X86::default();
        fill_time_data(&mut td, &snap).unwrap();
        for (m, c) in td.clock_data.iter().zip(&pair) {
            assert_eq!(
                (m.clock_mode, m.cycle_last, m.mask, m.mult, m.shift),
                (c.clock_mode, c.cycle_last, c.mask, c.mult, c.shift)
            );
            // SAFETY: plain integers either way.
            assert_eq!(unsafe { m.bases.basetime }, unsafe { c.bases.basetime });
            assert_eq!(m.max_cycles, max_cycles(c.mult, c.shift).unwrap());
        }
        assert_eq!((td.tz_minuteswest, td.tz_dsttime, td.hrtimer_res), (-60, 1, 4));
        assert!(td.aux_clock_data.iter().all(|a| a.clock_mode == clock_mode::NONE));
        let mut plain = Plain::default();
        fill_time_data(&mut plain, &snap).unwrap();
        assert_eq!(plain.clock_data[1].mult, td.clock_data[1].mult);
    }

    #[test]
    fn a_refused_snapshot_writes_nothing() {
        let mut snap = snapshot();
        snap.mult = 0;
        let mut td = X86::default();
        assert!(fill_time_data(&mut td, &snap).is_err());
        assert_eq!(td.clock_data[0].cycle_last, 0);
    }

    #[test]
    fn the_namespace_page_marks_every_clock_and_carries_the_offsets() {
        let offsets = TimensOffsets {
            monotonic: Timespec { sec: 100, nsec: 5 },
            boottime: Timespec { sec: -7, nsec: 0 },
        };
        let td: X86 = timens_time_data(&offsets);
        for c in td.clock_data.iter().chain(&td.aux_clock_data) {
            assert_eq!((c.seq, c.clock_mode), (1, clock_mode::TIMENS));
        }
        // SAFETY: plain integers.
        let (o0, o1) = unsafe { (td.clock_data[0].bases.offset, td.clock_data[1].bases.offset) };
        assert_eq!((o0[clock::MONOTONIC as usize].sec, o0[clock::MONOTONIC as usize].nsec), (100, 5));
        assert_eq!(o0[clock::BOOTTIME as usize].sec, -7);
        assert_eq!(o1[clock::MONOTONIC_RAW as usize].sec, 100);
        assert_eq!(o0[clock::REALTIME as usize].sec, 0);
    }

    #[test]
    fn publishing_leaves_every_seq_even_and_advanced() {
        let mut td = Box::new(X86::default());
        let p = NonNull::from(&mut *td);
        // SAFETY: ours alone.
        unsafe { publish_time_data(p, &snapshot()).unwrap() };
        assert_eq!((td.clock_data[0].seq, td.clock_data[1].seq), (2, 2));
        assert_eq!(td.clock_data[0].cycle_last, 1 << 40);
        assert_eq!(td.aux_clock_data[0].seq, 0);
    }
}
