//! Field-by-field atomic copies of `struct vdso_data` to and from shared memory.
//!
//! The seqlock lets a reader run while the writer stores; in Rust's (C++'s) memory model that is
//! only defined if both sides use atomic accesses. Relaxed atomic loads and stores compile to
//! plain `mov`/`ld`/`sd` instructions, so this costs nothing, and unlike plain writes the compiler
//! may neither merge them, tear them, nor move them across the protocol's fences. Each field is
//! copied with its own width: the image reads `seq`, `clock_mode` and `mult` as 32-bit words and
//! the rest as 64-bit words, and nothing here is wider than what it reads.

use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering::Relaxed};

use vdso_abi::{clock::VDSO_BASES, Bases, VdsoData, VdsoTimestamp};

use crate::arch::VdsoArch;

/// Stores every field of `src` except `seq` into `*dst` with relaxed atomic stores.
///
/// # Safety
///
/// `dst` must be valid for writes of a `VdsoData<A>` and 8-aligned, and no other thread may
/// write it concurrently (readers may read it with atomic loads).
pub unsafe fn store_fields<A: VdsoArch>(dst: *mut VdsoData<A>, src: &VdsoData<A>) {
    // SAFETY: the caller guarantees `dst` is valid, aligned and written by us alone; every
    // pointer below is a field of `*dst`, naturally aligned for its type because the struct is
    // `repr(C)` and 8-aligned.
    unsafe {
        AtomicI32::from_ptr(addr_of_mut!((*dst).clock_mode)).store(src.clock_mode, Relaxed);
        AtomicU64::from_ptr(addr_of_mut!((*dst).cycle_last)).store(src.cycle_last, Relaxed);
        AtomicU64::from_ptr(addr_of_mut!((*dst).mask)).store(src.mask, Relaxed);
        AtomicU32::from_ptr(addr_of_mut!((*dst).mult)).store(src.mult, Relaxed);
        AtomicU32::from_ptr(addr_of_mut!((*dst).shift)).store(src.shift, Relaxed);
        let bases = addr_of_mut!((*dst).bases).cast::<u64>();
        // SAFETY (union read): both members are arrays of plain integers of the same size.
        let basetime = src.bases.basetime;
        for (i, ts) in basetime.iter().enumerate() {
            AtomicU64::from_ptr(bases.add(2 * i)).store(ts.sec, Relaxed);
            AtomicU64::from_ptr(bases.add(2 * i + 1)).store(ts.nsec, Relaxed);
        }
        AtomicI32::from_ptr(addr_of_mut!((*dst).tz_minuteswest)).store(src.tz_minuteswest, Relaxed);
        AtomicI32::from_ptr(addr_of_mut!((*dst).tz_dsttime)).store(src.tz_dsttime, Relaxed);
        AtomicU32::from_ptr(addr_of_mut!((*dst).hrtimer_res)).store(src.hrtimer_res, Relaxed);
        AtomicU32::from_ptr(addr_of_mut!((*dst).unused)).store(src.unused, Relaxed);
        A::store_relaxed(addr_of_mut!((*dst).arch_data), &src.arch_data);
    }
}

/// Stores `seq` of `*dst` (relaxed).
///
/// # Safety
///
/// As [`store_fields`].
pub unsafe fn store_seq<A: VdsoArch>(dst: *mut VdsoData<A>, seq: u32) {
    // SAFETY: the caller guarantees `dst` is valid and aligned; `seq` is a 4-aligned u32.
    unsafe { AtomicU32::from_ptr(addr_of_mut!((*dst).seq)).store(seq, Relaxed) }
}

/// Loads `seq` of `*src` (relaxed).
///
/// # Safety
///
/// `src` must be valid for reads of a `VdsoData<A>` and 8-aligned; concurrent writers must use
/// atomic stores.
pub unsafe fn load_seq<A: VdsoArch>(src: *const VdsoData<A>) -> u32 {
    // SAFETY: the caller guarantees `src` is valid and aligned; the atomic is only loaded from,
    // so handing out a shared reference built from a `*const` is fine.
    unsafe { AtomicU32::from_ptr(addr_of_mut!((*src.cast_mut()).seq)).load(Relaxed) }
}

/// Loads `clock_mode` of `*src` (relaxed).
///
/// # Safety
///
/// As [`load_seq`].
pub unsafe fn load_clock_mode<A: VdsoArch>(src: *const VdsoData<A>) -> i32 {
    // SAFETY: as `load_seq`.
    unsafe { AtomicI32::from_ptr(addr_of_mut!((*src.cast_mut()).clock_mode)).load(Relaxed) }
}

/// Loads every field of `*src`, `seq` included, with relaxed atomic loads.
///
/// # Safety
///
/// As [`load_seq`].
pub unsafe fn load_fields<A: VdsoArch>(src: *const VdsoData<A>) -> VdsoData<A> {
    let p = src.cast_mut();
    let mut basetime = [VdsoTimestamp::default(); VDSO_BASES];
    // SAFETY: the caller guarantees `src` is valid and aligned; every pointer is a naturally
    // aligned field of `*src`; the atomics are only loaded from.
    unsafe {
        let bases = addr_of_mut!((*p).bases).cast::<u64>();
        for (i, ts) in basetime.iter_mut().enumerate() {
            ts.sec = AtomicU64::from_ptr(bases.add(2 * i)).load(Relaxed);
            ts.nsec = AtomicU64::from_ptr(bases.add(2 * i + 1)).load(Relaxed);
        }
        VdsoData {
            seq: AtomicU32::from_ptr(addr_of_mut!((*p).seq)).load(Relaxed),
            clock_mode: AtomicI32::from_ptr(addr_of_mut!((*p).clock_mode)).load(Relaxed),
            cycle_last: AtomicU64::from_ptr(addr_of_mut!((*p).cycle_last)).load(Relaxed),
            mask: AtomicU64::from_ptr(addr_of_mut!((*p).mask)).load(Relaxed),
            mult: AtomicU32::from_ptr(addr_of_mut!((*p).mult)).load(Relaxed),
            shift: AtomicU32::from_ptr(addr_of_mut!((*p).shift)).load(Relaxed),
            bases: Bases { basetime },
            tz_minuteswest: AtomicI32::from_ptr(addr_of_mut!((*p).tz_minuteswest)).load(Relaxed),
            tz_dsttime: AtomicI32::from_ptr(addr_of_mut!((*p).tz_dsttime)).load(Relaxed),
            hrtimer_res: AtomicU32::from_ptr(addr_of_mut!((*p).hrtimer_res)).load(Relaxed),
            unused: AtomicU32::from_ptr(addr_of_mut!((*p).unused)).load(Relaxed),
            arch_data: A::load_relaxed(addr_of_mut!((*p).arch_data)),
        }
    }
}

/// The fields one clock read needs, as the image loads them.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClockFields {
    /// `clock_mode`.
    pub mode: i32,
    /// `basetime[clock].sec`.
    pub sec: u64,
    /// `basetime[clock].nsec`.
    pub nsec: u64,
    /// `cycle_last`.
    pub cycle_last: u64,
    /// `mask`.
    pub mask: u64,
    /// `mult`.
    pub mult: u32,
    /// `shift`.
    pub shift: u32,
    /// The counter value read with them (filled by the caller).
    pub cycles: u64,
}

/// Loads what a read of clock `clock` (`< VDSO_BASES`) needs from `*src` (relaxed).
///
/// # Safety
///
/// As [`load_seq`].
pub unsafe fn load_clock_fields<A: VdsoArch>(src: *const VdsoData<A>, clock: usize) -> ClockFields {
    assert!(clock < VDSO_BASES);
    let p = src.cast_mut();
    // SAFETY: the caller guarantees `src` is valid and aligned; every pointer is a naturally
    // aligned field of `*src` (`clock` is in bounds); the atomics are only loaded from.
    unsafe {
        let base = addr_of_mut!((*p).bases).cast::<u64>().add(2 * clock);
        ClockFields {
            mode: AtomicI32::from_ptr(addr_of_mut!((*p).clock_mode)).load(Relaxed),
            sec: AtomicU64::from_ptr(base).load(Relaxed),
            nsec: AtomicU64::from_ptr(base.add(1)).load(Relaxed),
            cycle_last: AtomicU64::from_ptr(addr_of_mut!((*p).cycle_last)).load(Relaxed),
            mask: AtomicU64::from_ptr(addr_of_mut!((*p).mask)).load(Relaxed),
            mult: AtomicU32::from_ptr(addr_of_mut!((*p).mult)).load(Relaxed),
            shift: AtomicU32::from_ptr(addr_of_mut!((*p).shift)).load(Relaxed),
            cycles: 0,
        }
    }
}
