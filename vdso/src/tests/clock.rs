//! The clock algorithm, bit for bit: HRES, RAW, COARSE, the arithmetic corners (overflow
//! horizon, counter behind `cycle_last`, multi-second deltas), the seqlock retry, time
//! namespaces, clock modes without a counter, and the fallbacks.

use proptest::prelude::*;
use vdso_abi::clock::*;
use vdso_abi::clock_mode;

use super::page::{counter_mode, set_base, set_offset, TestPages};
use crate::arch::{self, Syscall, SYSCALL_SECONDS};
use crate::clock::{self as c, Timespec, Timeval, Timezone};
use crate::data::TIMENS_PAGE;

const NS: u64 = 1_000_000_000;

fn gettime(clock: i32) -> (i32, Timespec) {
    let mut ts = Timespec { tv_sec: -1, tv_nsec: -1 };
    // SAFETY: a local timespec.
    let r = unsafe { c::clock_gettime(clock, &mut ts) };
    (r, ts)
}

/// The conversion as docs/abi.md section 4 states it, in 128 bits.
fn reference(last: u64, mask: u64, mult: u32, shift: u32, sec: u64, snsec: u64, counter: u64) -> (i64, i64) {
    let mut delta = counter.wrapping_sub(last) & mask;
    if delta > mask / 2 {
        delta = 0;
    }
    let ns = ((delta as u128 * mult as u128 + snsec as u128) >> shift) as u64;
    ((sec + ns / NS) as i64, (ns % NS) as i64)
}

#[test]
fn monotonic_is_base_plus_scaled_delta() {
    let mut p = TestPages::new();
    let vd = &mut p.page0()[0];
    counter_mode(vd);
    vd.cycle_last = 1000;
    set_base(vd, MONOTONIC, 50, 123 << 24);
    arch::set_counter(1000 + 1_500_000_005); // 1 ns per cycle
    assert_eq!(gettime(MONOTONIC), (0, Timespec { tv_sec: 51, tv_nsec: 500_000_128 }));
    assert_eq!(arch::take_counter_reads(), 1, "the 64-bit fast path: one read");
    assert_eq!(arch::take_syscall(), None);
    // Past 2^31 cycles the fast path hands over to the wide one, which reads again.
    arch::set_counter(1000 + 3 * NS + 5);
    assert_eq!(gettime(MONOTONIC), (0, Timespec { tv_sec: 53, tv_nsec: 128 }));
    assert_eq!(arch::take_counter_reads(), 2, "fast path, then the wide path");
}

#[test]
fn each_hres_clock_reads_its_own_base() {
    let mut p = TestPages::new();
    let vd = &mut p.page0()[0];
    counter_mode(vd);
    for (clk, sec) in [(REALTIME, 1_700_000_000), (MONOTONIC, 10), (BOOTTIME, 20), (TAI, 1_700_000_037)] {
        set_base(vd, clk, sec, 0);
    }
    arch::set_counter(7);
    for (clk, sec) in [(REALTIME, 1_700_000_000), (MONOTONIC, 10), (BOOTTIME, 20), (TAI, 1_700_000_037)] {
        assert_eq!(gettime(clk), (0, Timespec { tv_sec: sec, tv_nsec: 7 }), "clock {clk}");
    }
}

#[test]
fn a_delta_past_the_u64_overflow_horizon_is_still_exact() {
    let mut p = TestPages::new();
    let vd = &mut p.page0()[0];
    counter_mode(vd);
    // 2^44 cycles of 1 ns: delta * mult = 2^68 overflows u64; 2^44 ns = 17592 s + 186044416 ns.
    vd.cycle_last = 5;
    set_base(vd, MONOTONIC, 100, 0);
    arch::set_counter(5 + (1 << 44));
    assert_eq!(gettime(MONOTONIC), (0, Timespec { tv_sec: 100 + 17_592, tv_nsec: 186_044_416 }));
}

#[test]
fn a_counter_behind_cycle_last_gives_the_base_time() {
    let mut p = TestPages::new();
    let vd = &mut p.page0()[0];
    counter_mode(vd);
    vd.cycle_last = 1_000_000;
    set_base(vd, MONOTONIC, 42, 999 << 24);
    for behind in [1, 1000, 999_999] {
        arch::set_counter(1_000_000 - behind);
        assert_eq!(gettime(MONOTONIC), (0, Timespec { tv_sec: 42, tv_nsec: 999 }), "{behind} behind");
    }
}

#[test]
fn a_narrow_counter_wraps_through_its_mask() {
    let mut p = TestPages::new();
    let vd = &mut p.page0()[0];
    counter_mode(vd);
    vd.mask = (1 << 32) - 1;
    vd.cycle_last = 0xffff_fff0;
    set_base(vd, MONOTONIC, 1, 0);
    arch::set_counter(0x1_0000_0010); // wrapped: 0x20 cycles later
    assert_eq!(gettime(MONOTONIC), (0, Timespec { tv_sec: 1, tv_nsec: 0x20 }));
}

#[test]
fn raw_uses_the_second_struct_and_its_own_conversion() {
    let mut p = TestPages::new();
    let [hres, raw] = p.page0();
    counter_mode(hres);
    hres.mult = 0; // would give the base only: proves RAW does not use [0]
    counter_mode(raw);
    raw.mult = 3 << 23; // 1.5 ns per cycle
    raw.cycle_last = 100;
    set_base(raw, MONOTONIC_RAW, 7, 0);
    arch::set_counter(100 + 2 * NS);
    assert_eq!(gettime(MONOTONIC_RAW), (0, Timespec { tv_sec: 10, tv_nsec: 0 }));
}

#[test]
fn coarse_clocks_return_the_published_base_without_a_counter_in_every_mode() {
    for mode in [clock_mode::ARCH, clock_mode::NONE, clock_mode::PVCLOCK, clock_mode::HVCLOCK] {
        let mut p = TestPages::new();
        let vd = &mut p.page0()[0];
        vd.clock_mode = mode;
        set_base(vd, REALTIME_COARSE, 1_700_000_000, 5);
        set_base(vd, MONOTONIC_COARSE, 77, 999_999_999);
        assert_eq!(gettime(REALTIME_COARSE), (0, Timespec { tv_sec: 1_700_000_000, tv_nsec: 5 }));
        assert_eq!(gettime(MONOTONIC_COARSE), (0, Timespec { tv_sec: 77, tv_nsec: 999_999_999 }));
        assert_eq!(arch::take_counter_reads(), 0, "mode {mode}");
        assert_eq!(arch::take_syscall(), None);
    }
}

#[test]
fn without_a_counter_hres_and_raw_go_to_the_syscall_and_read_no_counter() {
    for mode in [clock_mode::NONE, clock_mode::PVCLOCK, clock_mode::HVCLOCK, 42] {
        let mut p = TestPages::new();
        let [hres, raw] = p.page0();
        hres.clock_mode = mode;
        raw.clock_mode = mode;
        for clk in [REALTIME, MONOTONIC, BOOTTIME, TAI, MONOTONIC_RAW] {
            assert_eq!(gettime(clk), (0, Timespec { tv_sec: SYSCALL_SECONDS, tv_nsec: 0 }));
            assert_eq!(arch::take_syscall(), Some(Syscall { name: "clock_gettime", arg0: clk as i64 }));
        }
        assert_eq!(arch::take_counter_reads(), 0, "mode {mode}");
    }
}

#[test]
fn every_other_id_goes_to_the_syscall_with_its_result_unchanged() {
    let mut p = TestPages::new();
    counter_mode(&mut p.page0()[0]);
    arch::set_syscall_result(-22);
    for clk in [
        PROCESS_CPUTIME_ID,
        THREAD_CPUTIME_ID,
        REALTIME_ALARM,
        BOOTTIME_ALARM,
        SGI_CYCLE,
        -1,
        i32::MIN,
        i32::MAX,
        12,
        13,
        14,
        15,
    ] {
        assert_eq!(gettime(clk).0, -22, "clock {clk}");
        assert_eq!(arch::take_syscall(), Some(Syscall { name: "clock_gettime", arg0: clk as i64 }));
    }
    assert_eq!(arch::take_counter_reads(), 0);
}

#[test]
fn a_write_in_progress_when_the_read_starts_makes_the_reader_wait_for_it() {
    use std::sync::atomic::{AtomicU32, Ordering};
    let mut p = TestPages::new();
    let vd = &mut p.page0()[0];
    counter_mode(vd);
    // The writer has bumped `seq` to odd and left a half-written base: a reader that does not
    // wait for an even `seq` (the riscv64 fast path folds that test into one branch with the
    // clock-mode test) returns 999 s.
    set_base(vd, MONOTONIC, 999, 0);
    vd.seq = 3;
    arch::set_counter(10);
    let seq = &raw mut vd.seq as usize;
    // SAFETY: only takes the address of a field of plain integers (no read).
    let sec = unsafe { &raw mut vd.bases.basetime[MONOTONIC as usize].sec } as usize;
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        // SAFETY: the test page outlives the join below; the reader only loads these words
        // atomically, so storing them atomically here is a well-defined concurrent write.
        unsafe {
            std::sync::atomic::AtomicU64::from_ptr(sec as *mut u64).store(5, Ordering::Relaxed);
            AtomicU32::from_ptr(seq as *mut u32).store(4, Ordering::Release);
        }
    });
    let t = gettime(MONOTONIC);
    writer.join().unwrap();
    assert_eq!(t, (0, Timespec { tv_sec: 5, tv_nsec: 10 }), "the finished write, never the torn one");
    assert_eq!(arch::take_syscall(), None);
}

#[test]
fn a_write_during_the_read_makes_the_reader_retry() {
    let mut p = TestPages::new();
    let vd = &mut p.page0()[0];
    counter_mode(vd);
    set_base(vd, MONOTONIC, 5, 0);
    vd.seq = 2;
    // The first read sees seq 2, then "the kernel" bumps it; the retry must read again.
    let seq: *mut u32 = &mut vd.seq;
    arch::set_counter(10);
    let mut reads = 0;
    let mut ts = Timespec::default();
    // SAFETY: single-threaded; `seq` points into the live test page.
    unsafe {
        arch::set_counter_hook(Some(Box::new(move || {
            reads += 1;
            if reads == 1 {
                *seq = 4;
            }
        })));
        assert_eq!(c::clock_gettime(MONOTONIC, &mut ts), 0);
        arch::set_counter_hook(None);
    }
    assert_eq!(arch::take_counter_reads(), 2, "read, retry, read again");
    assert_eq!((ts.tv_sec, ts.tv_nsec), (5, 10));
}

fn timens_pages() -> TestPages {
    let mut p = TestPages::new();
    {
        let [hres, raw] = p.timens_slot();
        counter_mode(hres);
        counter_mode(raw);
        for clk in [REALTIME, MONOTONIC, BOOTTIME, TAI] {
            set_base(hres, clk, 1000 + clk as u64, 0);
        }
        set_base(hres, REALTIME_COARSE, 2000, 1);
        set_base(hres, MONOTONIC_COARSE, 3000, 2);
        set_base(raw, MONOTONIC_RAW, 4000, 0);
    }
    p.set_tz(TIMENS_PAGE, -60, 1);
    p.set_hrtimer_res(TIMENS_PAGE, 3);
    let [ns0, ns1] = p.page0();
    for vd in [&mut *ns0, &mut *ns1] {
        vd.seq = 1;
        vd.clock_mode = clock_mode::TIMENS;
    }
    set_offset(ns0, MONOTONIC, 100, 500_000_000);
    set_offset(ns0, MONOTONIC_COARSE, 100, 500_000_000);
    set_offset(ns0, BOOTTIME, -7, 0);
    set_offset(ns1, MONOTONIC_RAW, 100, 999_999_999);
    p
}

#[test]
fn a_time_namespace_shifts_monotonic_boottime_coarse_and_raw_by_its_offsets() {
    let _p = timens_pages();
    arch::set_counter(600_000_000);
    assert_eq!(gettime(MONOTONIC).1, Timespec { tv_sec: 1001 + 101, tv_nsec: 100_000_000 });
    assert_eq!(gettime(BOOTTIME).1, Timespec { tv_sec: 1007 - 7, tv_nsec: 600_000_000 });
    assert_eq!(gettime(MONOTONIC_COARSE).1, Timespec { tv_sec: 3100, tv_nsec: 500_000_002 });
    assert_eq!(gettime(MONOTONIC_RAW).1, Timespec { tv_sec: 4000 + 101, tv_nsec: 599_999_999 });
    assert_eq!(gettime(REALTIME).1, Timespec { tv_sec: 1000, tv_nsec: 600_000_000 }, "REALTIME unshifted");
    assert_eq!(gettime(REALTIME_COARSE).1, Timespec { tv_sec: 2000, tv_nsec: 1 });
    assert_eq!(gettime(TAI).1, Timespec { tv_sec: 1011, tv_nsec: 600_000_000 });
    assert_eq!(arch::take_syscall(), None);
}

#[test]
fn in_a_time_namespace_tz_getres_and_time_read_the_real_page() {
    let _p = timens_pages();
    let mut tz = Timezone { tz_minuteswest: 0, tz_dsttime: 0 };
    // SAFETY: NULL tv allowed; `tz` a local.
    assert_eq!(unsafe { c::gettimeofday(core::ptr::null_mut(), &mut tz) }, 0);
    assert_eq!((tz.tz_minuteswest, tz.tz_dsttime), (-60, 1));
    let mut res = Timespec::default();
    // SAFETY: a local.
    assert_eq!(unsafe { c::clock_getres(MONOTONIC, &mut res) }, 0);
    assert_eq!((res.tv_sec, res.tv_nsec), (0, 3));
    // `time` exists on x86_64 only (riscv64 Linux exports none).
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: NULL allowed.
        assert_eq!(unsafe { c::time(core::ptr::null_mut()) }, 1000);
    }
}

#[test]
fn gettimeofday_gives_realtime_in_microseconds_and_the_page_timezone() {
    let mut p = TestPages::new();
    let vd = &mut p.page0()[0];
    counter_mode(vd);
    set_base(vd, REALTIME, 1_700_000_000, 0);
    p.set_tz(0, 120, 3);
    arch::set_counter(1_999_999_999);
    let mut tv = Timeval::default();
    let mut tz = Timezone::default();
    // SAFETY: locals.
    assert_eq!(unsafe { c::gettimeofday(&mut tv, &mut tz) }, 0);
    assert_eq!((tv.tv_sec, tv.tv_usec), (1_700_000_001, 999_999));
    assert_eq!((tz.tz_minuteswest, tz.tz_dsttime), (120, 3));
    let mut tv2 = Timeval::default();
    // SAFETY: a local; NULL tz allowed.
    assert_eq!(unsafe { c::gettimeofday(&mut tv2, core::ptr::null_mut()) }, 0);
    assert_eq!((tv2.tv_sec, tv2.tv_usec), (tv.tv_sec, tv.tv_usec));
    // SAFETY: both NULL allowed.
    assert_eq!(unsafe { c::gettimeofday(core::ptr::null_mut(), core::ptr::null_mut()) }, 0);
    assert_eq!(arch::take_syscall(), None);
}

#[test]
fn gettimeofday_without_a_counter_takes_tv_from_the_kernel_and_tz_from_the_page() {
    let mut p = TestPages::new();
    p.page0()[0].clock_mode = clock_mode::NONE;
    p.set_tz(0, 30, 0);
    let mut tv = Timeval::default();
    let mut tz = Timezone::default();
    // SAFETY: locals.
    assert_eq!(unsafe { c::gettimeofday(&mut tv, &mut tz) }, 0);
    assert_eq!(tv.tv_sec, SYSCALL_SECONDS);
    assert_eq!(tz.tz_minuteswest, 30);
    assert_eq!(arch::take_syscall(), Some(Syscall { name: "clock_gettime", arg0: REALTIME as i64 }));
    assert_eq!(arch::take_counter_reads(), 0);
    arch::set_syscall_result(-14);
    // SAFETY: locals.
    assert_eq!(unsafe { c::gettimeofday(&mut tv, &mut tz) }, -14, "the kernel's error unchanged");
}

#[test]
fn clock_getres_serves_hres_raw_and_coarse_and_asks_the_kernel_for_the_rest() {
    let mut p = TestPages::new();
    p.set_hrtimer_res(0, 1);
    // RAW's resolution is read from [0] in the classic profile (the modern one has one per page).
    #[cfg(not(feature = "modern"))]
    {
        p.page0()[1].hrtimer_res = 999;
    }
    for (clk, want) in [
        (REALTIME, 1),
        (MONOTONIC, 1),
        (BOOTTIME, 1),
        (TAI, 1),
        (MONOTONIC_RAW, 1),
        (REALTIME_COARSE, c::COARSE_RES_NSEC as i64),
        (MONOTONIC_COARSE, c::COARSE_RES_NSEC as i64),
    ] {
        let mut res = Timespec { tv_sec: 9, tv_nsec: 9 };
        // SAFETY: a local.
        assert_eq!(unsafe { c::clock_getres(clk, &mut res) }, 0);
        assert_eq!((res.tv_sec, res.tv_nsec), (0, want), "clock {clk}");
        // SAFETY: NULL allowed.
        assert_eq!(unsafe { c::clock_getres(clk, core::ptr::null_mut()) }, 0);
    }
    assert_eq!(c::COARSE_RES_NSEC, 4_000_000, "HZ 250 by default");
    assert_eq!(arch::take_syscall(), None);
    arch::set_syscall_result(-22);
    for clk in [PROCESS_CPUTIME_ID, SGI_CYCLE, -1, 12] {
        let mut res = Timespec::default();
        // SAFETY: a local.
        assert_eq!(unsafe { c::clock_getres(clk, &mut res) }, -22);
        assert_eq!(arch::take_syscall(), Some(Syscall { name: "clock_getres", arg0: clk as i64 }));
    }
}

// The generic `time` (exported where `arch::HAS_TIME`, today x86_64), tested on every arch.
#[test]
fn time_is_the_realtime_base_seconds_in_every_mode() {
    let mut p = TestPages::new();
    let vd = &mut p.page0()[0];
    vd.clock_mode = clock_mode::NONE;
    set_base(vd, REALTIME, 1_234_567_890, 999 << 24);
    let mut t = 0;
    // SAFETY: a local.
    assert_eq!(unsafe { c::time(&mut t) }, 1_234_567_890);
    assert_eq!(t, 1_234_567_890);
    assert_eq!(arch::take_syscall(), None);
    assert_eq!(arch::take_counter_reads(), 0);
}

proptest! {
    /// The image's conversion agrees with the 128-bit reference over the whole input space.
    #[test]
    fn hres_matches_the_128_bit_reference(
        last in any::<u64>(),
        ahead in prop_oneof![0u64..1 << 20, 0u64..1 << 40, any::<u64>()],
        narrow in any::<bool>(),
        mult in any::<u32>(),
        shift in 0u32..32,
        sec in 0u64..1 << 40,
        nsec in 0u64..NS,
    ) {
        let mut p = TestPages::new();
        let vd = &mut p.page0()[0];
        counter_mode(vd);
        vd.mask = if narrow { (1 << 40) - 1 } else { u64::MAX };
        vd.cycle_last = last;
        vd.mult = mult;
        vd.shift = shift;
        set_base(vd, MONOTONIC, sec, nsec << shift);
        let counter = last.wrapping_add(ahead);
        arch::set_counter(counter);
        let (r, ts) = gettime(MONOTONIC);
        prop_assert_eq!(r, 0);
        let want = reference(last, vd.mask, mult, shift, sec, nsec << shift, counter);
        prop_assert_eq!((ts.tv_sec, ts.tv_nsec), want);
        prop_assert!((0..NS as i64).contains(&ts.tv_nsec));
    }
}
