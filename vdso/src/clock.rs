//! `clock_gettime`, `gettimeofday`, `time` and `clock_getres`: one arch-neutral algorithm with
//! three arch hooks (read the counter, make the syscall, find the data), as Linux's `lib/vdso`
//! is organised.
//!
//! What is served from where is docs/abi.md section 3: HRES clocks (REALTIME, MONOTONIC, BOOTTIME,
//! TAI) and MONOTONIC_RAW from the counter while `clock_mode` is the arch counter, COARSE clocks
//! from the published base in every mode, every other id straight to the syscall with its answer
//! unchanged.
//!
//! The counter arithmetic does better than Linux 6.2/6.8 (docs/abi.md section 4): a counter behind
//! `cycle_last` counts as no time elapsed instead of a huge unsigned delta, and the product
//! `delta * mult` is taken in 128 bits, so a page left without updates past the u64 overflow
//! horizon still gives the right time. Seconds are split off after the seqlock loop.

use vdso_abi::clock::{COARSE_MASK, HRES_MASK, RAW_MASK, VDSO_BASES};
use vdso_abi::modern::{AUX_RES_NSEC, CLOCK_AUX, VDSO_BASE_AUX};
use vdso_abi::{clock, clock_mode, CS_BASES, CS_HRES_COARSE, CS_RAW, DEFAULT_HZ};

use crate::arch;
use crate::data::{self, load_i32, load_u32, load_u64, Clock as VdsoData};
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
    /// The fast path's 64-bit arithmetic would not be exact: take the slow path.
    Slow,
}

/// Zero exactly when the 64-bit arithmetic of the fast path is exact: a 64-bit counter (every
/// x86 TSC and riscv `time`), `delta` below 2^31 and the shifted base below 2^63, so
/// `delta * mult + base` fits in 64 bits. Between two ticks that always holds, and a counter
/// behind `cycle_last` (whose `delta` wraps to nearly 2^64) cannot pass for one.
#[inline(always)]
fn inexact_64(delta: u64, mask: u64, base_nsec: u64) -> u64 {
    ((delta | (base_nsec >> 32)) >> 31) | (mask ^ u64::MAX)
}

/// `(delta * mult + base_nsec) >> shift` for every case the fast path leaves alone: a counter
/// narrower than 64 bits (`mask`), a counter behind `cycle_last` — which yields the base time,
/// never a jump of centuries (with a narrow counter "behind" means more than half its range
/// ahead) — and a delta past the u64 overflow horizon (updates that stopped for a while), with
/// the product taken in 128 bits.
#[inline(always)]
fn scaled_ns_wide(delta: u64, mask: u64, mult: u32, shift: u32, base_nsec: u64) -> u64 {
    let mut delta = delta & mask;
    if delta > mask >> 1 {
        delta = 0;
    }
    arch::scale(delta, mult, base_nsec, shift)
}

/// Makes the compiler compute `x` at this point instead of sinking the arithmetic past the
/// seqlock check: with the product taken inside the loop, its inputs die there, and the fast
/// path fits in the caller-saved registers (no pushes and pops on entry and exit).
#[inline(always)]
fn computed_here(mut x: u64) -> u64 {
    // SAFETY: an empty asm that only claims to read and write a register.
    unsafe { core::arch::asm!("/* {0} */", inout(reg) x, options(nomem, nostack, preserves_flags)) };
    x
}

/// One HRES or RAW read of `clk` on `vd` following the seqlock protocol. The fast variant
/// (`WIDE = false`) does 64-bit arithmetic only and answers [`Read::Slow`] when that would not
/// be exact (see [`inexact_64`]); the wide one handles every page.
///
/// # Safety
/// `vd` must point to a mapped `vdso_data`; `clk < VDSO_BASES`.
#[inline(always)]
unsafe fn read_hres<const WIDE: bool>(vd: *const VdsoData, clk: usize) -> Read {
    // SAFETY (whole function): `vd` is mapped and `clk` in bounds, per the caller.
    unsafe {
        let bt = (&raw const (*vd).bases.basetime).cast::<vdso_abi::VdsoTimestamp>().add(clk);
        loop {
            let seq = if !WIDE && arch::FOLD_BRANCHES {
                // One branch for "a writer is in progress or page 0 is a namespace page" and
                // "no counter to read": the wide path sorts out which it was.
                let seq = seqlock::peek(vd);
                let mode = load_i32(&raw const (*vd).clock_mode);
                if computed_here((seq & 1) as u64 | (mode ^ clock_mode::ARCH) as u32 as u64) != 0 {
                    core::hint::cold_path();
                    return Read::Slow;
                }
                seq
            } else {
                let seq = match seqlock::begin(vd) {
                    Begin::Seq(seq) => seq,
                    Begin::Timens => return Read::Timens,
                };
                if load_i32(&raw const (*vd).clock_mode) != clock_mode::ARCH {
                    core::hint::cold_path();
                    return Read::Fallback;
                }
                seq
            };
            // The fields the arithmetic needs first are loaded before the counter is read: the
            // read is ordered after every earlier load anyway (x86 `lfence`; riscv reads `time`
            // in order), so their latency hides behind it. The rest are loaded after it, which
            // keeps the values live across the counter read within the caller-saved registers.
            // The product is taken inside the loop (as Linux does); only the split into seconds
            // waits until after the loop.
            let last = load_u64(&raw const (*vd).cycle_last);
            let mult = load_u32(&raw const (*vd).mult);
            let cycles = arch::read_counter();
            let delta = cycles.wrapping_sub(last);
            let mask = load_u64(&raw const (*vd).mask);
            let shift = load_u32(&raw const (*vd).shift);
            let base = load_u64(&raw const (*bt).nsec);
            if WIDE {
                let nsec = computed_here(scaled_ns_wide(delta, mask, mult, shift, base));
                let sec = load_u64(&raw const (*bt).sec);
                if seqlock::retry(vd, seq) {
                    continue;
                }
                return Read::Done(Raw { sec, nsec });
            }
            // The fast path computes with 64 bits whether or not that is exact, and tests
            // exactness together with the seqlock in one branch: every branch costs (a
            // translated-block boundary under qemu, a predictor slot on silicon).
            let nsec = computed_here((delta.wrapping_mul(mult as u64).wrapping_add(base)) >> (shift & 63));
            let sec = load_u64(&raw const (*bt).sec);
            let now = seqlock::end(vd);
            // Zero exactly when `seq` is unchanged and the arithmetic was exact; opaque to the
            // compiler, which would otherwise split it back into three branches.
            let bad = computed_here(arch::seq_changed(now, seq) | inexact_64(delta, mask, base));
            if bad != 0 {
                core::hint::cold_path();
                if now != seq {
                    continue;
                }
                return Read::Slow;
            }
            return Read::Done(Raw { sec, nsec });
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
#[inline(always)]
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
            // Only after an update came seconds late.
            core::hint::cold_path();
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

/// Whether clock `clk` (below 32) is in the set `mask` of clock bits: one shift of a constant
/// (x86 `bt`, riscv `srl`).
#[inline(always)]
fn in_set(mask: u32, clk: u32) -> bool {
    (mask >> clk) & 1 != 0
}

/// Whether `clk` is REALTIME_COARSE or MONOTONIC_COARSE (5 and 6): one compare, so no `1 << clk`
/// is computed (and kept) on the paths that test other sets with [`in_set`].
#[inline(always)]
fn is_coarse(clk: u32) -> bool {
    const _: () = assert!(COARSE_MASK == 0b11 << clock::REALTIME_COARSE);
    clk.wrapping_sub(clock::REALTIME_COARSE as u32) < 2
}

/// Whether `clk` (any value) is an HRES clock or MONOTONIC_RAW. Where branches cost more than a
/// few ALU operations ([`arch::FOLD_BRANCHES`]) the range and set tests share one branch.
#[inline(always)]
fn counter_clock(clk: u32) -> bool {
    if arch::FOLD_BRANCHES {
        let in_range = (clk < VDSO_BASES as u32) as u64;
        computed_here(in_range & ((HRES_MASK | RAW_MASK) as u64 >> (clk & 31))) & 1 != 0
    } else {
        clk < VDSO_BASES as u32 && in_set(HRES_MASK | RAW_MASK, clk)
    }
}

/// Which struct and which read a clock id takes, or `None` for ids the kernel serves.
#[inline(always)]
fn route(clock: i32) -> Option<(usize, usize, bool)> {
    let clk = clock as u32;
    if is_aux(clk) {
        // Auxiliary clock `i` is the clock struct right after the two base clocks' (asserted by
        // the data module), its time in `basetime[VDSO_BASE_AUX]`, read like an HRES clock
        // under its own `seq`; a disabled one (`clock_mode` NONE) falls back to the syscall.
        return Some((CS_BASES + (clk - CLOCK_AUX as u32) as usize, VDSO_BASE_AUX, false));
    }
    if clk >= VDSO_BASES as u32 {
        return None;
    }
    if in_set(HRES_MASK, clk) {
        Some((CS_HRES_COARSE, clk as usize, false))
    } else if is_coarse(clk) {
        Some((CS_HRES_COARSE, clk as usize, true))
    } else if in_set(RAW_MASK, clk) {
        Some((CS_RAW, clk as usize, false))
    } else {
        None
    }
}

/// Every clock read off the fast paths: tasks in a time namespace, clocks without a counter,
/// and `gettimeofday` with a `tz`. `extern "C"` like every function the fast paths leave
/// through: its `i32` result is then sign-extended by the callee as the C ABI wants on riscv64,
/// so the exported functions can tail-call it instead of calling it and extending the result. One copy of each read loop serves them all (the image must fit
/// in one page): the loop runs on page 0 and, when that is a namespace page, once more on the
/// real page, whose result then gets the namespace offset.
///
/// # Safety
/// As for [`clock_gettime`].
#[inline(never)]
unsafe extern "C" fn clock_gettime_slow(clock: i32, ts: *mut Timespec) -> i32 {
    if let Some((cs, clk, coarse)) = route(clock) {
        let ns_page = data::vdso_data().wrapping_add(cs);
        let mut vd = ns_page;
        let mut in_namespace = false;
        loop {
            // SAFETY: `vd` is struct `cs` of page 0 or of the real page (mapped at the namespace
            // slot whenever page 0 says TIMENS), an auxiliary clock's inside the time page too;
            // `clk < VDSO_BASES` (from `route`).
            let read = unsafe {
                if coarse {
                    read_coarse(vd, clk)
                } else {
                    read_hres::<true>(vd, clk)
                }
            };
            match read {
                Read::Done(mut t) => {
                    // Auxiliary clocks are not shifted by a time namespace.
                    if in_namespace && (data::AUX_CLOCKS == 0 || cs < CS_BASES) {
                        // SAFETY: page 0 is the mapped namespace page; `clk` in bounds.
                        t = unsafe { add_timens_offset(ns_page, clk, t) };
                    }
                    // SAFETY: caller contract.
                    unsafe { store_timespec(ts, t) };
                    return 0;
                }
                Read::Timens if !in_namespace => {
                    in_namespace = true;
                    vd = data::timens_vdso_data().wrapping_add(cs);
                }
                // `Slow` comes only from the fast read, never from the wide one used here.
                Read::Timens | Read::Fallback | Read::Slow => break,
            }
        }
    }
    // SAFETY: the kernel validates every argument of a syscall.
    unsafe { arch::sys_clock_gettime(clock, ts) }
}

/// `clock_gettime`.
///
/// HRES, RAW and COARSE clocks are read inline; every way out of that fast path (a namespace,
/// no counter, another id) is a tail call, so no value has to survive a call and the fast path
/// saves no register.
///
/// # Safety
/// `ts` must be writable when the clock is served (the kernel checks it otherwise).
#[inline(always)]
pub unsafe fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32 {
    let clk = clock as u32;
    let page = data::vdso_data();
    // With folded branches the range test is part of each set test below, not a branch of its
    // own (`is_coarse` holds only for ids 5 and 6 anyway).
    if clk < VDSO_BASES as u32 || arch::FOLD_BRANCHES {
        if counter_clock(clk) {
            // One loop for both: RAW differs only in reading `vdso_data[1]`.
            let raw = clk == clock::MONOTONIC_RAW as u32;
            let vd = if raw { page.wrapping_add(CS_RAW) } else { page };
            // SAFETY: `vd` is one of the two mapped structs of page 0; `clk < VDSO_BASES`.
            if let Read::Done(t) = unsafe { read_hres::<false>(vd, clk as usize) } {
                // SAFETY: caller contract.
                unsafe { store_timespec(ts, t) };
                return 0;
            }
            // SAFETY: caller contract.
            return unsafe { clock_gettime_slow(clock, ts) };
        }
        if is_coarse(clk) {
            // SAFETY: page 0 is mapped; `clk < VDSO_BASES`.
            if let Read::Done(t) = unsafe { read_coarse(page, clk as usize) } {
                // SAFETY: caller contract.
                unsafe { store_timespec(ts, t) };
                return 0;
            }
            // SAFETY: caller contract.
            return unsafe { clock_gettime_slow(clock, ts) };
        }
    }
    if is_aux(clk) {
        // SAFETY: caller contract.
        return unsafe { clock_gettime_slow(clock, ts) };
    }
    // SAFETY: the kernel validates every argument of a syscall.
    unsafe { arch::sys_clock_gettime(clock, ts) }
}

/// Whether `clk` is an auxiliary clock id the page serves (never, in a profile without them:
/// the test then folds away).
#[inline(always)]
fn is_aux(clk: u32) -> bool {
    data::AUX_CLOCKS != 0 && clk.wrapping_sub(CLOCK_AUX as u32) < data::AUX_CLOCKS as u32
}

/// `clock_getres` of an auxiliary clock: 1 ns (Linux's answer) while the clock is enabled, the
/// syscall's answer otherwise (Linux's own vDSO answers 1 ns even for a disabled or unsupported
/// auxiliary clock, where the syscall says `-EINVAL` or `-ENODEV`).
///
/// # Safety
/// As for [`clock_getres`]; `clock` is an auxiliary id ([`is_aux`]).
#[inline(never)]
#[cold]
unsafe extern "C" fn clock_getres_aux(clock: i32, res: *mut Timespec) -> i32 {
    let idx = (clock - CLOCK_AUX) as usize;
    let vd = data::aux_clock(data::real_vdso_data(), idx);
    // SAFETY: the real time page is mapped; `idx < AUX_CLOCKS`.
    if unsafe { load_i32(&raw const (*vd).clock_mode) } != clock_mode::NONE {
        if !res.is_null() {
            // SAFETY: non-NULL and writable, per the caller.
            unsafe {
                (*res).tv_sec = 0;
                (*res).tv_nsec = AUX_RES_NSEC as i64;
            }
        }
        return 0;
    }
    // SAFETY: the kernel validates every argument of a syscall.
    unsafe { arch::sys_clock_getres(clock, res) }
}

/// Stores a REALTIME read as a `timeval`.
///
/// # Safety
/// `tv` must be writable.
#[inline(always)]
unsafe fn store_timeval(tv: *mut Timeval, t: Raw) {
    let mut ts = Timespec::default();
    // SAFETY: a local.
    unsafe { store_timespec(&mut ts, t) };
    // SAFETY: caller contract. `tv_nsec < 10^9` fits in u32, whose division by a constant is
    // cheaper.
    unsafe {
        (*tv).tv_sec = ts.tv_sec;
        (*tv).tv_usec = ((ts.tv_nsec as u32) / 1000) as i64;
    }
}

/// Fills `tz` from the real data page.
///
/// # Safety
/// `tz` must be writable.
#[inline(always)]
unsafe fn store_timezone(tz: *mut Timezone) {
    // SAFETY: the real data page is mapped; `tz` writable per the caller.
    unsafe {
        let (minuteswest, dsttime) = data::tz(data::real_vdso_data());
        (*tz).tz_minuteswest = load_i32(minuteswest);
        (*tz).tz_dsttime = load_i32(dsttime);
    }
}

/// Everything of `gettimeofday` except the fast path: a time namespace, no counter, a `tz`.
/// `tv` is REALTIME through [`clock_gettime_slow`] (the kernel's REALTIME when there is no
/// counter: the same clock, one syscall wrapper fewer in a one-page image).
///
/// # Safety
/// As for [`gettimeofday`].
#[cold]
#[inline(never)]
unsafe extern "C" fn gettimeofday_slow(tv: *mut Timeval, tz: *mut Timezone) -> i32 {
    if !tv.is_null() {
        let mut ts = Timespec::default();
        // SAFETY: a local timespec.
        let ret = unsafe { clock_gettime_slow(clock::REALTIME, &mut ts) };
        if ret != 0 {
            return ret;
        }
        // SAFETY: non-NULL, writable per the caller.
        unsafe { store_timeval(tv, Raw { sec: ts.tv_sec as u64, nsec: ts.tv_nsec as u64 }) };
    }
    if !tz.is_null() {
        // SAFETY: non-NULL, writable per the caller.
        unsafe { store_timezone(tz) };
    }
    0
}

/// `gettimeofday`: `tv` as REALTIME (the kernel's when there is no counter), `tz` from the
/// real page in every mode.
///
/// # Safety
/// Non-NULL pointers must be writable.
#[inline(always)]
pub unsafe fn gettimeofday(tv: *mut Timeval, tz: *mut Timezone) -> i32 {
    if !tv.is_null() && tz.is_null() {
        // SAFETY: page 0 is mapped; REALTIME < VDSO_BASES.
        if let Read::Done(t) = unsafe { read_hres::<false>(data::vdso_data(), clock::REALTIME as usize) } {
            // SAFETY: non-NULL, writable per the caller.
            unsafe { store_timeval(tv, t) };
            return 0;
        }
    }
    // SAFETY: caller contract.
    unsafe { gettimeofday_slow(tv, tz) }
}

/// `time`: seconds of the REALTIME base, one load, no seqlock (a torn read is impossible for
/// one aligned word), in every clock mode.
///
/// # Safety
/// A non-NULL `t` must be writable.
#[cfg_attr(not(test), allow(dead_code))] // exported only by arches with `arch::HAS_TIME`
#[inline(always)]
pub unsafe fn time(t: *mut i64) -> i64 {
    let vd = data::vdso_data();
    // SAFETY: page 0 is mapped.
    if unsafe { load_i32(&raw const (*vd).clock_mode) } == clock_mode::TIMENS {
        core::hint::cold_path();
        // SAFETY: caller contract.
        return unsafe { time_from(data::timens_vdso_data(), t) };
    }
    // SAFETY: page 0 is the real data page; caller contract.
    unsafe { time_from(vd, t) }
}

/// `time` from the real page `vd`.
///
/// # Safety
/// `vd` mapped; a non-NULL `t` writable.
#[cfg_attr(not(test), allow(dead_code))]
#[inline(always)]
unsafe fn time_from(vd: *const VdsoData, t: *mut i64) -> i64 {
    // SAFETY: the page is mapped; REALTIME < VDSO_BASES.
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

/// `hrtimer_res` of the real page for a task in a time namespace. Out of line: inlined, its load
/// would be merged with the fast path's into one that needs an index register.
#[cold]
#[inline(never)]
fn hrtimer_res_timens() -> u32 {
    // SAFETY: the real page is mapped at the namespace slot whenever page 0 says TIMENS.
    unsafe { load_u32(data::hrtimer_res(data::timens_vdso_data())) }
}

/// `clock_getres`: HRES and RAW report `hrtimer_res`, COARSE one tick; other ids ask the kernel.
///
/// # Safety
/// A non-NULL `res` must be writable.
#[inline(always)]
pub unsafe fn clock_getres(clock: i32, res: *mut Timespec) -> i32 {
    let clk = clock as u32;
    if clk < VDSO_BASES as u32 && in_set(HRES_MASK | RAW_MASK | COARSE_MASK, clk) {
        // One straight line for every served id: `hrtimer_res` is loaded either way (the page is
        // always mapped) and COARSE's tick chosen without a branch.
        let vd = data::vdso_data();
        // SAFETY: page 0 is mapped.
        let hres = if unsafe { load_i32(&raw const (*vd).clock_mode) } == clock_mode::TIMENS {
            hrtimer_res_timens()
        } else {
            // SAFETY: page 0 is the real data page.
            unsafe { load_u32(data::hrtimer_res(vd)) }
        };
        let ns = if is_coarse(clk) { COARSE_RES_NSEC } else { hres };
        if !res.is_null() {
            // SAFETY: non-NULL and writable, per the caller.
            unsafe {
                (*res).tv_sec = 0;
                (*res).tv_nsec = ns as i64;
            }
        }
        return 0;
    }
    if is_aux(clk) {
        // SAFETY: caller contract.
        return unsafe { clock_getres_aux(clock, res) };
    }
    // SAFETY: the kernel validates every argument of a syscall.
    unsafe { arch::sys_clock_getres(clock, res) }
}
