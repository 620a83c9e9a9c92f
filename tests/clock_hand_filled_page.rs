//! The mapped image against a page filled by hand with known values (the kernel stub's writer,
//! no ticker), so results are exact. On x86_64 the counter itself is chosen (a trapped `rdtsc`,
//! see `common/tsc_trap.rs`), which also proves when no counter is read. qemu-user cannot trap
//! `rdtime`, so on riscv64 the real counter is read just before and after the call and the
//! result must lie exactly between the reference values for those two readings (the conversion
//! is monotonic in the counter).

mod common;

use common::harness::*;
use linux_vdso::abi::{clock, clock_mode, VdsoTimestamp};
use vdso_kernel_stub::counter::read_counter;
use vdso_kernel_stub::{NativeArchData, TimensOffsets, Timespec as StubTs};

type VdsoData = linux_vdso::abi::VdsoData<NativeArchData>;
const NS: u64 = 1_000_000_000;

fn set_base(vd: &mut VdsoData, clk: i32, sec: u64, nsec: u64) {
    // SAFETY: `basetime` is the active member of a data page; plain integers.
    unsafe { vd.bases.basetime[clk as usize] = VdsoTimestamp { sec, nsec } };
}

/// Fills the page: counter mode, the given conversion, bases for every clock.
fn fill(vdso: &Vdso, last: u64, mult: u32, shift: u32) {
    let mut w = vdso.writer();
    w.update(|pair| {
        for vd in pair.iter_mut() {
            vd.clock_mode = clock_mode::ARCH;
            vd.cycle_last = last;
            vd.mask = u64::MAX;
            vd.mult = mult;
            vd.shift = shift;
        }
        let [hres, raw] = pair;
        set_base(hres, clock::REALTIME, 1_700_000_000, 100 << shift);
        set_base(hres, clock::MONOTONIC, 5_000, 200 << shift);
        set_base(hres, clock::BOOTTIME, 6_000, 300 << shift);
        set_base(hres, clock::TAI, 1_700_000_037, 400 << shift);
        set_base(hres, clock::REALTIME_COARSE, 1_699_999_999, 999_999_999);
        set_base(hres, clock::MONOTONIC_COARSE, 4_999, 123);
        set_base(raw, clock::MONOTONIC_RAW, 7_000, 500 << shift);
        hres.hrtimer_res = 1;
    });
}

/// ABI.md section 4's conversion in 128 bits: (seconds, nanoseconds).
fn reference(base_sec: u64, base_snsec: u64, last: u64, mult: u32, shift: u32, counter: u64) -> (i64, i64) {
    let mut delta = counter.wrapping_sub(last);
    if delta > u64::MAX / 2 {
        delta = 0;
    }
    let ns = ((delta as u128 * mult as u128 + base_snsec as u128) >> shift) as u64;
    ((base_sec + ns / NS) as i64, (ns % NS) as i64)
}

fn key(ts: &Ts) -> (i64, i64) {
    (ts.tv_sec, ts.tv_nsec)
}

// x86_64 only: the counter is chosen by trapping `rdtsc` (PR_SET_TSC); qemu-user cannot trap
// `rdtime`, so riscv64 checks the same arithmetic with the real counter bracketing the result
// (`the_real_counter_brackets_the_result_exactly`) and with the injected counter of the image's
// unit tests.
#[cfg(target_arch = "x86_64")]
#[test]
fn a_chosen_counter_gives_bit_exact_times_on_every_counter_clock() {
    use common::tsc_trap::TscTrap;
    let vdso = Vdso::map();
    // 2.5 GHz: mult = 0.4 ns per cycle << 24.
    let (mult, shift) = (6_710_886, 24);
    let last = 1 << 50;
    fill(&vdso, last, mult, shift);
    let trap = TscTrap::new();
    for delta in [0u64, 1, 2_500_000_000, 7_777_777_777, 1 << 44, (1 << 62) - 1] {
        trap.set(last + delta);
        for (clk, sec, snsec) in [
            (clock::REALTIME, 1_700_000_000, 100 << shift),
            (clock::MONOTONIC, 5_000, 200 << shift),
            (clock::BOOTTIME, 6_000, 300 << shift),
            (clock::TAI, 1_700_000_037, 400 << shift),
            (clock::MONOTONIC_RAW, 7_000, 500 << shift),
        ] {
            let (r, ts) = vdso.gettime(clk);
            assert_eq!(r, 0);
            assert_eq!(
                key(&ts),
                reference(sec, snsec, last, mult, shift, last + delta),
                "clock {clk} delta {delta}"
            );
        }
        // One counter read per call; past 2^31 cycles the 64-bit fast path hands over to the
        // wide one, which reads again.
        let reads = if delta < 1 << 31 { 5 } else { 10 };
        assert_eq!(trap.take_reads(), reads, "counter reads for delta {delta}");
    }
}

// x86_64 only: the counter is chosen by trapping `rdtsc` (PR_SET_TSC); qemu-user cannot trap
// `rdtime`, so riscv64 checks the same arithmetic with the real counter bracketing the result
// (`the_real_counter_brackets_the_result_exactly`) and with the injected counter of the image's
// unit tests.
#[cfg(target_arch = "x86_64")]
#[test]
fn past_the_overflow_horizon_and_behind_cycle_last_with_a_chosen_counter() {
    use common::tsc_trap::TscTrap;
    let vdso = Vdso::map();
    // 1 ns per cycle at shift 24: delta * mult overflows u64 after 2^40 cycles (18 minutes).
    let (mult, shift) = (1 << 24, 24);
    let last = 1 << 52;
    fill(&vdso, last, mult, shift);
    let trap = TscTrap::new();
    trap.set(last + (1 << 44)); // 2^44 ns = 17592 s + 186044416 ns
    assert_eq!(key(&vdso.gettime(clock::MONOTONIC).1), (5_000 + 17_592, 186_044_416 + 200));
    for behind in [1u64, 1 << 20, 1 << 40] {
        trap.set(last - behind);
        assert_eq!(key(&vdso.gettime(clock::MONOTONIC).1), (5_000, 200), "{behind} cycles behind");
    }
}

// x86_64 only: the counter is chosen by trapping `rdtsc` (PR_SET_TSC); qemu-user cannot trap
// `rdtime`, so riscv64 checks the same arithmetic with the real counter bracketing the result
// (`the_real_counter_brackets_the_result_exactly`) and with the injected counter of the image's
// unit tests.
#[cfg(target_arch = "x86_64")]
#[test]
fn coarse_time_tz_and_getres_read_no_counter() {
    use common::tsc_trap::TscTrap;
    let vdso = Vdso::map();
    fill(&vdso, 0, 1 << 24, 24);
    let time = vdso.time();
    let trap = TscTrap::new();
    trap.set(12345);
    vdso.gettime(clock::REALTIME_COARSE);
    vdso.gettime(clock::MONOTONIC_COARSE);
    vdso.getres(clock::MONOTONIC);
    // SAFETY: NULL allowed.
    unsafe { time(std::ptr::null_mut()) };
    let mut tz = Timezone::default();
    // SAFETY: NULL tv allowed; `tz` a local.
    unsafe { (vdso.gettimeofday)(std::ptr::null_mut(), &mut tz) };
    assert_eq!(trap.take_reads(), 0);
}

#[test]
fn the_real_counter_brackets_the_result_exactly() {
    let vdso = Vdso::map();
    let (mult, shift) = (6_710_886, 24);
    for ahead in [1_000u64, 3_000_000_000, 1 << 40] {
        // The counter may be younger than `ahead` on a freshly booted machine (the TSC passes
        // 2^40 only after minutes): `cycle_last` then wraps, which the image must handle the
        // same way, since it takes the delta modulo 2^64.
        let last = read_counter().wrapping_sub(ahead);
        fill(&vdso, last, mult, shift);
        let c0 = read_counter();
        let (r, ts) = vdso.gettime(clock::MONOTONIC);
        let c1 = read_counter();
        assert_eq!(r, 0);
        let lo = reference(5_000, 200 << shift, last, mult, shift, c0);
        let hi = reference(5_000, 200 << shift, last, mult, shift, c1);
        assert!(lo <= key(&ts) && key(&ts) <= hi, "{ahead} ahead: {:?} not in [{lo:?}, {hi:?}]", key(&ts));
    }
}

#[test]
fn a_counter_behind_cycle_last_gives_exactly_the_base() {
    let vdso = Vdso::map();
    fill(&vdso, read_counter() + (1 << 40), 6_710_886, 24);
    assert_eq!(key(&vdso.gettime(clock::MONOTONIC).1), (5_000, 200));
    assert_eq!(key(&vdso.gettime(clock::MONOTONIC_RAW).1), (7_000, 500));
}

#[test]
fn coarse_clocks_return_exactly_the_published_base() {
    let vdso = Vdso::map();
    fill(&vdso, 0, 1 << 24, 24);
    let (r, ts) = vdso.gettime(clock::REALTIME_COARSE);
    assert_eq!((r, key(&ts)), (0, (1_699_999_999, 999_999_999)));
    assert_eq!(key(&vdso.gettime(clock::MONOTONIC_COARSE).1), (4_999, 123));
    // Republished values are seen at once.
    let mut w = vdso.writer();
    w.update(|pair| set_base(&mut pair[0], clock::MONOTONIC_COARSE, 5_001, 7));
    drop(w);
    assert_eq!(key(&vdso.gettime(clock::MONOTONIC_COARSE).1), (5_001, 7));
}

#[test]
fn without_a_counter_hres_clocks_come_from_the_kernel_and_coarse_from_the_page() {
    let vdso = Vdso::map();
    fill(&vdso, 0, 1 << 24, 24);
    let mut w = vdso.writer();
    w.update(|pair| pair.iter_mut().for_each(|vd| vd.clock_mode = clock_mode::NONE));
    drop(w);
    #[cfg(target_arch = "x86_64")]
    let trap = common::tsc_trap::TscTrap::new();
    for clk in [clock::REALTIME, clock::MONOTONIC, clock::BOOTTIME, clock::MONOTONIC_RAW] {
        let (_, before) = sys_gettime(clk);
        let (r, ours) = vdso.gettime(clk);
        let (_, after) = sys_gettime(clk);
        assert_eq!(r, 0);
        assert!(ns(&before) <= ns(&ours) && ns(&ours) <= ns(&after), "clock {clk}: the kernel's time");
    }
    assert_eq!(key(&vdso.gettime(clock::MONOTONIC_COARSE).1), (4_999, 123), "COARSE still from the page");
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let (_, before) = sys_gettime(clock::REALTIME);
    // SAFETY: valid pointers.
    assert_eq!(unsafe { (vdso.gettimeofday)(&mut tv, std::ptr::null_mut()) }, 0);
    let (_, after) = sys_gettime(clock::REALTIME);
    let us = tv.tv_sec as i128 * 1_000_000 + tv.tv_usec as i128;
    assert!(ns(&before) / 1000 <= us && us <= ns(&after) / 1000);
    #[cfg(target_arch = "x86_64")]
    assert_eq!(trap.take_reads(), 0, "no counter read in mode NONE");
}

#[test]
fn a_time_namespace_shifts_exactly_by_its_offsets_and_leaves_the_rest_on_the_real_page() {
    let offsets = TimensOffsets {
        monotonic: StubTs { sec: 1_000_000, nsec: 900_000_000 },
        boottime: StubTs { sec: -3_000, nsec: 0 },
    };
    let vdso = Vdso::map_timens(offsets);
    // mult 0: the counter does not matter, so the result is exact on both arches.
    fill(&vdso, 0, 0, 24);
    let mut w = vdso.writer();
    w.update(|pair| {
        pair[0].tz_minuteswest = -330;
        pair[0].hrtimer_res = 3;
    });
    drop(w);
    assert_eq!(key(&vdso.gettime(clock::MONOTONIC).1), (5_000 + 1_000_000, 900_000_200));
    assert_eq!(key(&vdso.gettime(clock::MONOTONIC_COARSE).1), (4_999 + 1_000_000, 900_000_123));
    assert_eq!(key(&vdso.gettime(clock::MONOTONIC_RAW).1), (7_000 + 1_000_000, 900_000_500));
    assert_eq!(key(&vdso.gettime(clock::BOOTTIME).1), (6_000 - 3_000, 300));
    assert_eq!(key(&vdso.gettime(clock::REALTIME).1), (1_700_000_000, 100), "REALTIME unshifted");
    assert_eq!(key(&vdso.gettime(clock::REALTIME_COARSE).1), (1_699_999_999, 999_999_999));
    assert_eq!(key(&vdso.gettime(clock::TAI).1), (1_700_000_037, 400));
    assert_eq!(vdso.getres(clock::MONOTONIC).1.tv_nsec, 3, "getres from the real page");
    let mut tz = Timezone::default();
    // SAFETY: NULL tv allowed; `tz` a local.
    assert_eq!(unsafe { (vdso.gettimeofday)(std::ptr::null_mut(), &mut tz) }, 0);
    assert_eq!(tz.minuteswest, -330, "tz from the real page");
    // `time` exists on x86_64 only (riscv64 Linux exports none).
    #[cfg(target_arch = "x86_64")]
    {
        let time = vdso.time();
        // SAFETY: NULL allowed.
        assert_eq!(unsafe { time(std::ptr::null_mut()) }, 1_700_000_000, "time from the real page");
    }
}
