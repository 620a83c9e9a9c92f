//! Filling the page (every field where ABI.md §2 puts it) and the timekeeper's continuity.

mod common;

use proptest::prelude::*;
use vdso_abi::{clock, clock_mode, VdsoData, VdsoTimestamp, CS_BASES};
use vdso_kernel_stub::mapping::note_only_image;
use vdso_kernel_stub::update::{fill, ClockConfig, CoarseTimes, TimeSnapshot, Timekeeper, Times};
use vdso_kernel_stub::{ArchLayout, MappedVdso, Timespec};

type Native = vdso_kernel_stub::NativeArchData;

fn times() -> Times {
    Times {
        monotonic: Timespec::new(1000, 250),
        realtime: Timespec::new(1_700_000_000, 999_999_999),
        boot_offset: Timespec::new(5, 0),
        tai_offset: Timespec::new(37, 0),
        raw: Timespec::new(990, 1),
    }
}

#[test]
fn fill_puts_every_field_where_the_abi_says() {
    let cfg = ClockConfig { mult: 3 << 20, shift: 22, mask: u64::MAX };
    let mut snap = TimeSnapshot::new(cfg, 777, &times()).unwrap();
    snap.raw_mult = 5 << 20;
    snap.hrtimer_res = 1;
    snap.tz_minuteswest = -120;
    snap.tz_dsttime = 1;
    let mut vd: [VdsoData<Native>; CS_BASES] = Default::default();
    fill(&mut vd, &snap);
    let s = 22;
    let hres = |sec: u64, ns: u64| VdsoTimestamp { sec, nsec: ns << s };
    let coarse = |sec: u64, ns: u64| VdsoTimestamp { sec, nsec: ns };
    // SAFETY (union): plain integers.
    let (b0, b1) = unsafe { (vd[0].bases.basetime, vd[1].bases.basetime) };
    assert_eq!(b0[clock::REALTIME as usize], hres(1_700_000_000, 999_999_999));
    assert_eq!(b0[clock::MONOTONIC as usize], hres(1000, 250));
    assert_eq!(b0[clock::BOOTTIME as usize], hres(1005, 250));
    assert_eq!(b0[clock::TAI as usize], hres(1_700_000_037, 999_999_999));
    assert_eq!(b0[clock::REALTIME_COARSE as usize], coarse(1_700_000_000, 999_999_999));
    assert_eq!(b0[clock::MONOTONIC_COARSE as usize], coarse(1000, 250));
    assert_eq!(b1[clock::MONOTONIC_RAW as usize], hres(990, 1));
    for id in [2, 3, 4, 8, 9, 10] {
        assert_eq!(b0[id], VdsoTimestamp::default(), "[0].basetime[{id}] untouched");
    }
    for id in (0..12).filter(|&i| i != 4) {
        assert_eq!(b1[id], VdsoTimestamp::default(), "[1].basetime[{id}] untouched");
    }
    for v in &vd {
        assert_eq!((v.clock_mode, v.cycle_last, v.mask, v.shift), (clock_mode::ARCH, 777, u64::MAX, 22));
    }
    assert_eq!((vd[0].mult, vd[1].mult), (3 << 20, 5 << 20));
    assert_eq!((vd[0].hrtimer_res, vd[1].hrtimer_res), (1, 0));
    assert_eq!((vd[0].tz_minuteswest, vd[0].tz_dsttime), (-120, 1));
    assert_eq!((vd[1].tz_minuteswest, vd[1].tz_dsttime), (0, 0));
    assert_eq!((vd[0].seq, vd[1].seq), (0, 0), "seq belongs to the writer");
}

#[test]
fn realtime_steps_leave_monotonic_alone() {
    let cfg = ClockConfig { mult: 1 << 24, shift: 24, mask: u64::MAX };
    let mut tk = Timekeeper::new(cfg, 0, &times()).unwrap();
    tk.advance(1_000);
    let mono = tk.monotonic();
    tk.set_realtime(Timespec::new(42, 0));
    assert_eq!(tk.realtime(), Timespec::new(42, 0));
    assert_eq!(tk.monotonic(), mono);
    assert_eq!(mono, Timespec::new(1000, 1250));
    // TAI follows REALTIME.
    let b = tk.snapshot().hres_bases();
    assert_eq!(b[3].to_timespec(24), Timespec::new(79, 0));
}

#[test]
fn a_counter_behind_cycle_last_changes_nothing() {
    let cfg = ClockConfig { mult: 1 << 24, shift: 24, mask: u64::MAX };
    let mut tk = Timekeeper::new(cfg, 10_000, &times()).unwrap();
    let before = *tk.snapshot();
    assert_eq!(tk.advance(9_999), 0);
    assert_eq!(*tk.snapshot(), before);
    assert_eq!(tk.monotonic_at(5), tk.monotonic(), "readers get the base, not a jump");
}

#[test]
fn the_reader_computes_what_the_timekeeper_publishes() {
    let m = MappedVdso::map(&note_only_image(ArchLayout::native()), ArchLayout::native()).unwrap();
    let mut w = m.writer::<Native>().unwrap();
    let r = m.reader::<Native>().unwrap();
    let cfg = ClockConfig { mult: 0x1aa_aaab, shift: 26, mask: u64::MAX };
    let mut tk = Timekeeper::new(cfg, 1 << 40, &times()).unwrap();
    tk.set_tz(60, 0);
    tk.publish(&mut w);
    let at = (1u64 << 40) + 123_456_789;
    assert_eq!(r.clock_gettime(clock::MONOTONIC, || at), Some(tk.monotonic_at(at)));
    assert_eq!(r.clock_gettime(clock::MONOTONIC_RAW, || at), Some(tk.raw_at(at)));
    let mono = tk.monotonic_at(at).as_nanos();
    let real = r.clock_gettime(clock::REALTIME, || at).unwrap().as_nanos();
    assert_eq!(real - mono, times().realtime.as_nanos() - times().monotonic.as_nanos());
    let boot = r.clock_gettime(clock::BOOTTIME, || at).unwrap().as_nanos();
    assert_eq!(boot - mono, 5_000_000_000);
    let tai = r.clock_gettime(clock::TAI, || at).unwrap().as_nanos();
    assert_eq!(tai - real, 37_000_000_000);
    // COARSE: the base, no counter.
    assert_eq!(
        r.clock_gettime(clock::MONOTONIC_COARSE, || panic!("no counter for COARSE")),
        Some(Timespec::new(1000, 250))
    );
    // Ids the page does not serve.
    for id in [-1, 2, 3, 8, 9, 10, 12, 1000] {
        assert_eq!(r.clock_gettime(id, || at), None, "clock {id}");
    }
    // Mode NONE: counter clocks go to the syscall, COARSE still served.
    tk.set_clock_mode(clock_mode::NONE).unwrap();
    tk.publish(&mut w);
    assert_eq!(r.clock_gettime(clock::MONOTONIC, || at), None);
    assert_eq!(r.clock_gettime(clock::MONOTONIC_RAW, || at), None);
    let coarse = r.clock_gettime(clock::REALTIME_COARSE, || panic!("no counter for COARSE"));
    // SAFETY (union read): plain integers.
    let base = unsafe { r.snapshot().data[0].bases.basetime[clock::REALTIME_COARSE as usize] };
    assert_eq!(coarse, Some(Timespec::new(base.sec as i64, base.nsec as i64)), "the published base");
    assert_eq!(r.snapshot().data[0].tz_minuteswest, 60);
}

#[test]
fn past_the_overflow_horizon_the_reader_uses_128_bits() {
    let m = MappedVdso::map(&note_only_image(ArchLayout::native()), ArchLayout::native()).unwrap();
    let mut w = m.writer::<Native>().unwrap();
    let r = m.reader::<Native>().unwrap();
    // 1 GHz counter, shift 24: 64-bit products overflow after ~1100 s.
    let cfg = ClockConfig { mult: 1 << 24, shift: 24, mask: u64::MAX };
    Timekeeper::new(cfg, 0, &times()).unwrap().publish(&mut w);
    let t = r.clock_gettime(clock::MONOTONIC, || 5_000 * 1_000_000_000).unwrap();
    assert_eq!(t, Timespec::new(6000, 250));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::slow_under_emulation(512, 64)))]

    /// Whatever the deltas and slewed `mult`s, what a reader computes just before an update is
    /// exactly the new base (in shifted ns), so MONOTONIC and RAW never step back at an update
    /// and never decrease between updates.
    #[test]
    fn updates_are_continuous_and_monotonic(
        steps in prop::collection::vec((0u64..1u64 << 34, 0.99f64..1.01, 0.99f64..1.01), 1..40),
    ) {
        let (mult0, shift) = vdso_kernel_stub::clocks_calc_mult_shift(2_400_000_000, 1_000_000_000, 600);
        let cfg = ClockConfig { mult: mult0, shift, mask: u64::MAX };
        let mut tk = Timekeeper::new(cfg, 1 << 50, &times()).unwrap();
        let mut cycles = 1u64 << 50;
        let mut last = tk.monotonic();
        let mut last_raw = tk.raw();
        for (delta, slew, raw_slew) in steps {
            cycles += delta;
            let mid = tk.monotonic_at(cycles - delta / 2);
            let before = tk.snapshot().monotonic.add_cycles(delta, tk.snapshot().mult, shift);
            let before_raw = tk.snapshot().raw.add_cycles(delta, tk.snapshot().raw_mult, shift);
            let seen = tk.monotonic_at(cycles);
            prop_assert!(last <= mid && mid <= seen);
            tk.advance(cycles);
            prop_assert_eq!(tk.snapshot().monotonic, before);
            prop_assert_eq!(tk.snapshot().raw, before_raw);
            prop_assert_eq!(tk.monotonic(), seen);
            prop_assert!(tk.raw() >= last_raw);
            tk.set_mult((mult0 as f64 * slew) as u32).unwrap();
            tk.set_raw_mult((mult0 as f64 * raw_slew) as u32).unwrap();
            last = tk.monotonic();
            last_raw = tk.raw();
        }
    }
}

/// What the page's COARSE clocks say (REALTIME_COARSE, MONOTONIC_COARSE).
fn coarse_of(snap: &TimeSnapshot) -> (Timespec, Timespec) {
    let mut vd: [VdsoData<Native>; CS_BASES] = Default::default();
    fill(&mut vd, snap);
    // SAFETY (union read): plain integers.
    let b = unsafe { vd[0].bases.basetime };
    let t = |id: i32| Timespec::new(b[id as usize].sec as i64, b[id as usize].nsec as i64);
    (t(clock::REALTIME_COARSE), t(clock::MONOTONIC_COARSE))
}

#[test]
fn coarse_clocks_are_the_time_of_the_last_update_and_never_later() {
    let cfg = ClockConfig { mult: 1 << 24, shift: 24, mask: u64::MAX };
    let mut tk = Timekeeper::new(cfg, 0, &times()).unwrap();
    tk.advance(1_000_000); // 1 ms at 1 GHz
    let (real, mono) = (tk.realtime(), tk.monotonic());
    assert_eq!(coarse_of(tk.snapshot()), (real, mono), "by default: the fine clocks at the update");

    // An earlier source (a host's coarse clock that ticked before our update) is published as is.
    let earlier =
        CoarseTimes { realtime: Timespec::new(real.sec, 0), monotonic: Timespec::new(mono.sec - 1, 7) };
    tk.set_coarse(earlier);
    assert_eq!(coarse_of(tk.snapshot()), (earlier.realtime, earlier.monotonic));

    // A later one is capped at the update: COARSE never after a fine read that follows it.
    let later = CoarseTimes {
        realtime: Timespec::new(real.sec + 1, 0),
        monotonic: Timespec::new(mono.sec, 999_999_999),
    };
    tk.set_coarse(later);
    assert_eq!(coarse_of(tk.snapshot()), (real, mono));

    // One update only: the next advance publishes the fine clocks at that update again.
    tk.set_coarse(earlier);
    tk.advance(2_000_000);
    assert_eq!(coarse_of(tk.snapshot()), (tk.realtime(), tk.monotonic()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::slow_under_emulation(512, 64)))]

    /// Whatever a timekeeper is told of its COARSE clocks, a reader who reads COARSE and then a
    /// fine clock (at any later counter value) never sees the fine clock earlier.
    #[test]
    fn coarse_is_never_after_a_fine_clock_read_after_it(
        steps in prop::collection::vec((0u64..1u64 << 32, 0u64..1u64 << 32, -5_000_000i64..5_000_000, any::<bool>()), 1..30),
    ) {
        let (mult, shift) = vdso_kernel_stub::clocks_calc_mult_shift(2_400_000_000, 1_000_000_000, 600);
        let m = MappedVdso::map(&note_only_image(ArchLayout::native()), ArchLayout::native()).unwrap();
        let mut w = m.writer::<Native>().unwrap();
        let r = m.reader::<Native>().unwrap();
        let mut tk = Timekeeper::new(ClockConfig { mult, shift, mask: u64::MAX }, 1 << 40, &times()).unwrap();
        let mut cycles = 1u64 << 40;
        for (delta, later, skew_ns, given) in steps {
            cycles += delta;
            tk.advance(cycles);
            if given {
                let skew = |t: Timespec| Timespec::from_nanos(t.as_nanos() + skew_ns as i128);
                tk.set_coarse(CoarseTimes { realtime: skew(tk.realtime()), monotonic: skew(tk.monotonic()) });
            }
            tk.publish(&mut w);
            let at = cycles + later;
            for (coarse, fine) in [(clock::REALTIME_COARSE, clock::REALTIME), (clock::MONOTONIC_COARSE, clock::MONOTONIC)] {
                let c = r.clock_gettime(coarse, || panic!("no counter for COARSE")).unwrap();
                let f = r.clock_gettime(fine, || at).unwrap();
                prop_assert!(c <= f, "clock {coarse}: {c:?} after {f:?}");
            }
        }
    }
}
