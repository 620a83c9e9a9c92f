//! `clock_gettime`, `gettimeofday`, `time` and `clock_getres`: one arch-neutral algorithm with
//! three arch hooks (read the counter, make the syscall, find the data), as Linux's `lib/vdso`
//! is organised.
//!
//! What is served from where is ABI.md section 3: HRES clocks (REALTIME, MONOTONIC, BOOTTIME,
//! TAI) and MONOTONIC_RAW from the counter while `clock_mode` is the arch counter, COARSE clocks
//! from the published base in every mode, every other id straight to the syscall with its answer
//! unchanged.
//!
//! The counter arithmetic does better than Linux 6.2/6.8 (ABI.md section 4): a counter behind
//! `cycle_last` counts as no time elapsed instead of a huge unsigned delta, and the product
//! `delta * mult` is taken in 128 bits, so a page left without updates past the u64 overflow
//! horizon still gives the right time. Seconds are split off after the seqlock loop.

use vdso_abi::clock::{COARSE_MASK, HRES_MASK, RAW_MASK, VDSO_BASES};
use vdso_abi::native::VdsoData;
use vdso_abi::{clock, clock_mode, CS_HRES_COARSE, CS_RAW, DEFAULT_HZ};

use crate::arch;
use crate::data::{self, load_i32, load_u32, load_u64};
use crate::seqlock::{self, Begin};

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// Tick rate the image is built for (`VDSO_HZ` at build time, default 250): COARSE clocks
/// advance once a tick, so their resolution is one tick, as Linux's `LOW_RES_NSEC`.
pub const HZ: u32 = match option_env!("VDSO_HZ") {
    None => DEFAULT_HZ,
    Some(s) => match vdso_abi::parse_u32(s) {
        Some(hz) => hz,
        None => panic!("VDSO_HZ must be a positive decimal number"),
    },
};
/// `clock_getres` of the COARSE clocks.
pub const COARSE_RES_NSEC: u32 = vdso_abi::tick_nsec(HZ);

/// `struct timespec` (64-bit).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Timespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub tv_nsec: i64,
}

/// `struct timeval` (64-bit).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Timeval {
    /// Seconds.
    pub tv_sec: i64,
    /// Microseconds.
    pub tv_usec: i64,
}

/// `struct timezone`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Timezone {
    /// Minutes west of Greenwich.
    pub tz_minuteswest: i32,
    /// Type of DST correction.
    pub tz_dsttime: i32,
}

/// A time read from the page: seconds plus nanoseconds that may exceed one second.
struct Raw {
    sec: u64,
    nsec: u64,
}

/// Result of one clock read on one page.
enum Read {
    Done(Raw),
    /// Page 0 is a time-namespace page: read the real page and add the offsets.
    Timens,
    /// The clock mode has no counter we can read: ask the kernel.
    Fallback,
}

/// Nanoseconds elapsed since `cycle_last`, in the shifted fixed point of `base_nsec`, then
/// shifted down: `(delta * mult + base_nsec) >> shift` computed in 128 bits.
///
/// A counter that reads behind `cycle_last` (a slightly unsynchronised counter on another CPU)
/// yields `delta = 0`, i.e. the base time, never a jump of centuries; with a counter narrower
/// than 64 bits, "behind" means more than half the counter's range ahead.
#[inline(always)]
fn scaled_ns(cycles: u64, last: u64, mask: u64, mult: u32, shift: u32, base_nsec: u64) -> u64 {
    let mut delta = cycles.wrapping_sub(last) & mask;
    if delta > mask >> 1 {
        delta = 0;
    }
    let wide = delta as u128 * mult as u128 + base_nsec as u128;
    (wide >> (shift & 127)) as u64
}

/// One HRES or RAW read of `clk` on `vd` following the seqlock protocol.
///
/// # Safety
/// `vd` must point to a mapped `vdso_data`; `clk < VDSO_BASES`.
#[inline(always)]
unsafe fn read_hres(vd: *const VdsoData, clk: usize) -> Read {
    // SAFETY (whole function): `vd` is mapped and `clk` in bounds, per the caller.
    unsafe {
        let bt = (&raw const (*vd).bases.basetime).cast::<vdso_abi::VdsoTimestamp>().add(clk);
        loop {
            let seq = match seqlock::begin(vd) {
                Begin::Seq(seq) => seq,
                Begin::Timens => return Read::Timens,
            };
            if load_i32(&raw const (*vd).clock_mode) != clock_mode::ARCH {
                return Read::Fallback;
            }
            let cycles = arch::read_counter();
            let last = load_u64(&raw const (*vd).cycle_last);
            let mask = load_u64(&raw const (*vd).mask);
            let mult = load_u32(&raw const (*vd).mult);
            let shift = load_u32(&raw const (*vd).shift);
            let sec = load_u64(&raw const (*bt).sec);
            let base = load_u64(&raw const (*bt).nsec);
            if seqlock::retry(vd, seq) {
                continue;
            }
            return Read::Done(Raw { sec, nsec: scaled_ns(cycles, last, mask, mult, shift, base) });
        }
    }
}

/// One COARSE read of `clk` on `vd`: the published base, no counter.
///
/// # Safety
/// As for [`read_hres`].
#[inline(always)]
unsafe fn read_coarse(vd: *const VdsoData, clk: usize) -> Read {
    // SAFETY (whole function): as for `read_hres`.
    unsafe {
        let bt = (&raw const (*vd).bases.basetime).cast::<vdso_abi::VdsoTimestamp>().add(clk);
        loop {
            let seq = match seqlock::begin(vd) {
                Begin::Seq(seq) => seq,
                Begin::Timens => return Read::Timens,
            };
            let sec = load_u64(&raw const (*bt).sec);
            let nsec = load_u64(&raw const (*bt).nsec);
            if seqlock::retry(vd, seq) {
                continue;
            }
            return Read::Done(Raw { sec, nsec });
        }
    }
}

/// Adds the namespace offset of `clk` (from the namespace page `ns`) to a time read from the
/// real page. Kept out of line: only tasks in a time namespace take it.
///
/// # Safety
/// `ns` must point to a mapped namespace `vdso_data`; `clk < VDSO_BASES`.
#[cold]
#[inline(never)]
unsafe fn add_timens_offset(ns: *const VdsoData, clk: usize, t: Raw) -> Raw {
    // SAFETY: `ns` mapped and `clk` in bounds, per the caller.
    let (sec, nsec) = unsafe {
        let off = (&raw const (*ns).bases.offset).cast::<vdso_abi::TimensOffset>().add(clk);
        (load_u64((&raw const (*off).sec).cast()), load_u64(&raw const (*off).nsec))
    };
    Raw { sec: t.sec.wrapping_add(sec), nsec: t.nsec + nsec }
}

/// Stores `t` normalised into `ts`.
///
/// # Safety
/// `ts` must be writable.
#[inline(always)]
unsafe fn store_timespec(ts: *mut Timespec, t: Raw) {
    let (mut sec, mut nsec) = (t.sec, t.nsec);
    // Usually less than two seconds' worth: one compare instead of a division.
    if nsec >= NSEC_PER_SEC {
        if nsec < 2 * NSEC_PER_SEC {
            sec += 1;
            nsec -= NSEC_PER_SEC;
        } else {
            sec += nsec / NSEC_PER_SEC;
            nsec %= NSEC_PER_SEC;
        }
    }
    // SAFETY: writable, per the caller.
    unsafe {
        (*ts).tv_sec = sec as i64;
        (*ts).tv_nsec = nsec as i64;
    }
}

/// Reads clock `clk` from struct `cs` of the page, through the namespace when page 0 is one.
/// `None`: the kernel must answer.
#[inline(always)]
fn read_clock(cs: usize, clk: usize, coarse: bool) -> Option<Raw> {
    let vd = data::vdso_data().wrapping_add(cs);
    let read = |vd| {
        // SAFETY: `vd` is one of the two mapped `vdso_data` of page 0 or of the real page, and
        // every caller passes `clk < VDSO_BASES`.
        unsafe {
            if coarse {
                read_coarse(vd, clk)
            } else {
                read_hres(vd, clk)
            }
        }
    };
    match read(vd) {
        Read::Done(t) => Some(t),
        Read::Fallback => None,
        Read::Timens => match read(data::timens_vdso_data().wrapping_add(cs)) {
            // SAFETY: page 0 is the mapped namespace page; `clk` in bounds.
            Read::Done(t) => Some(unsafe { add_timens_offset(vd, clk, t) }),
            Read::Fallback | Read::Timens => None,
        },
    }
}

/// `clock_gettime`.
///
/// # Safety
/// `ts` must be writable when the clock is served (the kernel checks it otherwise).
#[inline(always)]
pub unsafe fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32 {
    let clk = clock as u32;
    if clk < VDSO_BASES as u32 {
        let bit = 1u32 << clk;
        let t = if bit & HRES_MASK != 0 {
            read_clock(CS_HRES_COARSE, clk as usize, false)
        } else if bit & COARSE_MASK != 0 {
            read_clock(CS_HRES_COARSE, clk as usize, true)
        } else if bit & RAW_MASK != 0 {
            read_clock(CS_RAW, clk as usize, false)
        } else {
            None
        };
        if let Some(t) = t {
            // SAFETY: caller contract.
            unsafe { store_timespec(ts, t) };
            return 0;
        }
    }
    // SAFETY: the kernel validates every argument of a syscall.
    unsafe { arch::sys_clock_gettime(clock, ts) }
}

/// `gettimeofday`: `tv` as REALTIME (the kernel's when there is no counter), `tz` from the
/// real page in every mode.
///
/// # Safety
/// Non-NULL pointers must be writable.
#[inline(always)]
pub unsafe fn gettimeofday(tv: *mut Timeval, tz: *mut Timezone) -> i32 {
    if !tv.is_null() {
        match read_clock(CS_HRES_COARSE, clock::REALTIME as usize, false) {
            Some(t) => {
                let mut ts = Timespec::default();
                // SAFETY: a local.
                unsafe { store_timespec(&mut ts, t) };
                // SAFETY: non-NULL, caller contract. `tv_nsec < 10^9` fits in u32, whose
                // division by a constant is cheaper.
                unsafe {
                    (*tv).tv_sec = ts.tv_sec;
                    (*tv).tv_usec = ((ts.tv_nsec as u32) / 1000) as i64;
                }
            }
            None => {
                // SAFETY: the kernel validates the pointer.
                let ret = unsafe { arch::sys_gettimeofday(tv, core::ptr::null_mut()) };
                if ret != 0 {
                    return ret;
                }
            }
        }
    }
    if !tz.is_null() {
        let vd = data::real_vdso_data();
        // SAFETY: the real data page is mapped; `tz` non-NULL and writable per the caller.
        unsafe {
            (*tz).tz_minuteswest = load_i32(&raw const (*vd).tz_minuteswest);
            (*tz).tz_dsttime = load_i32(&raw const (*vd).tz_dsttime);
        }
    }
    0
}

/// `time`: seconds of the REALTIME base, one load, no seqlock (a torn read is impossible for
/// one aligned word), in every clock mode.
///
/// # Safety
/// A non-NULL `t` must be writable.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub unsafe fn time(t: *mut i64) -> i64 {
    let vd = data::real_vdso_data();
    // SAFETY: the real data page is mapped; REALTIME < VDSO_BASES.
    let sec = unsafe {
        let bt = (&raw const (*vd).bases.basetime).cast::<vdso_abi::VdsoTimestamp>();
        load_u64(&raw const (*bt.add(clock::REALTIME as usize)).sec)
    } as i64;
    if !t.is_null() {
        // SAFETY: non-NULL and writable, per the caller.
        unsafe { *t = sec };
    }
    sec
}

/// `clock_getres`: HRES and RAW report `hrtimer_res`, COARSE one tick; other ids ask the kernel.
///
/// # Safety
/// A non-NULL `res` must be writable.
#[inline(always)]
pub unsafe fn clock_getres(clock: i32, res: *mut Timespec) -> i32 {
    let clk = clock as u32;
    if clk < VDSO_BASES as u32 {
        let bit = 1u32 << clk;
        let ns = if bit & (HRES_MASK | RAW_MASK) != 0 {
            let vd = data::real_vdso_data();
            // SAFETY: the real data page is mapped.
            Some(unsafe { load_u32(&raw const (*vd).hrtimer_res) })
        } else if bit & COARSE_MASK != 0 {
            Some(COARSE_RES_NSEC)
        } else {
            None
        };
        if let Some(ns) = ns {
            if !res.is_null() {
                // SAFETY: non-NULL and writable, per the caller.
                unsafe {
                    (*res).tv_sec = 0;
                    (*res).tv_nsec = ns as i64;
                }
            }
            return 0;
        }
    }
    // SAFETY: the kernel validates every argument of a syscall.
    unsafe { arch::sys_clock_getres(clock, res) }
}
