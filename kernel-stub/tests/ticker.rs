//! The ticker keeps the page fresh and tracks the host's clocks within its stated tolerance.

use std::time::{Duration, Instant};

use rustix::time::{clock_gettime, ClockId};
use vdso_abi::{clock, clock_mode};
use vdso_kernel_stub::counter::read_counter;
use vdso_kernel_stub::mapping::note_only_image;
use vdso_kernel_stub::{
    ArchLayout, MapOptions, MappedVdso, Profile, Ticker, TickerConfig, TimensOffsets, Timespec,
};

type Native = vdso_kernel_stub::NativeArchData;

fn host(id: ClockId) -> i128 {
    let t = clock_gettime(id);
    t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128
}

/// Largest distance of `clock` read from the page outside the host bracket, over `run`.
struct Track {
    max_dev: i128,
    reads: u64,
}

fn track(
    r: &vdso_kernel_stub::mapping::MappedReader<Native>,
    id: i32,
    host_id: ClockId,
    offset: i128,
    run: Duration,
) -> Track {
    let start = Instant::now();
    let mut last = None;
    let mut t = Track { max_dev: 0, reads: 0 };
    while start.elapsed() < run {
        let h0 = host(host_id);
        let v = r.clock_gettime(id, read_counter).unwrap().as_nanos() - offset;
        let h1 = host(host_id);
        t.max_dev = t.max_dev.max(h0 - v).max(v - h1);
        if let Some(l) = last {
            assert!(v >= l, "clock {id} went back by {} ns", l - v);
        }
        last = Some(v);
        t.reads += 1;
    }
    t
}

#[test]
fn monotonic_follows_the_host_within_tolerance_and_never_goes_back() {
    let m = MappedVdso::map(&note_only_image(ArchLayout::native()), ArchLayout::native()).unwrap();
    let ticker = Ticker::start(&m, TickerConfig::default()).unwrap();
    let r = m.reader::<Native>().unwrap();
    let mono = track(&r, clock::MONOTONIC, ClockId::Monotonic, 0, Duration::from_millis(700));
    let raw = track(&r, clock::MONOTONIC_RAW, ClockId::MonotonicRaw, 0, Duration::from_millis(300));
    let stats = ticker.stop();
    eprintln!("{stats:#?}");
    eprintln!(
        "MONOTONIC: {} reads, max deviation {} ns, tolerance {} ns; RAW: {} reads, {} ns, tolerance {} ns",
        mono.reads,
        mono.max_dev,
        stats.tolerance_ns(),
        raw.reads,
        raw.max_dev,
        stats.raw_tolerance_ns()
    );
    assert!(stats.ticks >= 50, "{} ticks in a second at 250 Hz", stats.ticks);
    assert!(mono.max_dev <= stats.tolerance_ns() as i128, "MONOTONIC off by {} ns", mono.max_dev);
    assert!(raw.max_dev <= stats.raw_tolerance_ns() as i128, "RAW off by {} ns", raw.max_dev);
    assert!(stats.max_error_ns <= stats.tolerance_ns());
    // The tolerance is meaningful: well under a tick's worth of time.
    assert!(stats.tolerance_ns() < 1_000_000, "tolerance {} ns", stats.tolerance_ns());
    assert!(stats.max_update_interval_ns > 100 * 1_000_000_000);
}

#[test]
fn realtime_offset_mode_tz_and_namespace_are_published() {
    const CENTURY: i64 = 100 * 365 * 86_400 * 1_000_000_000;
    let ns = TimensOffsets { monotonic: Timespec::new(3600, 0), boottime: Timespec::new(7200, 0) };
    let m = MappedVdso::map_with(
        &note_only_image(ArchLayout::native()),
        MapOptions::new(ArchLayout::native()).timens(ns),
    )
    .unwrap();
    let cfg = TickerConfig {
        realtime_offset_ns: CENTURY,
        tz_minuteswest: -90,
        tz_dsttime: 1,
        timens: Some(ns),
        hz: 500,
        ..Default::default()
    };
    let ticker = Ticker::start(&m, cfg).unwrap();
    let r = m.reader::<Native>().unwrap();
    let real = track(&r, clock::REALTIME, ClockId::Realtime, CENTURY as i128, Duration::from_millis(200));
    let mono = track(&r, clock::MONOTONIC, ClockId::Monotonic, 3_600_000_000_000, Duration::from_millis(100));
    let boot = track(&r, clock::BOOTTIME, ClockId::Boottime, 7_200_000_000_000, Duration::from_millis(100));
    let tai = track(&r, clock::TAI, ClockId::Tai, CENTURY as i128, Duration::from_millis(100));
    let snap = r.snapshot();
    assert_eq!((snap.data[0].tz_minuteswest, snap.data[0].tz_dsttime), (-90, 1));
    assert_eq!(snap.data[0].hrtimer_res, 1);

    // COARSE clocks trail the host by at most about a tick.
    let h = host(ClockId::MonotonicCoarse);
    let c =
        r.clock_gettime(clock::MONOTONIC_COARSE, || unreachable!()).unwrap().as_nanos() - 3_600_000_000_000;
    assert!((c - h).abs() < 50_000_000, "COARSE {c} vs host {h}");

    // Mode NONE: counter clocks go to the syscall, COARSE ones stay.
    ticker.set_clock_mode(clock_mode::NONE).unwrap();
    ticker.sync();
    assert_eq!(r.clock_gettime(clock::MONOTONIC, read_counter), None);
    let c =
        r.clock_gettime(clock::MONOTONIC_COARSE, || unreachable!()).unwrap().as_nanos() - 3_600_000_000_000;
    let h = host(ClockId::MonotonicCoarse);
    assert!((c - h).abs() < 50_000_000, "COARSE without a counter {c} vs host {h}");
    ticker.set_clock_mode(clock_mode::ARCH).unwrap();
    ticker.sync();
    // A REALTIME step: REALTIME moves, MONOTONIC does not.
    let before = r.clock_gettime(clock::MONOTONIC, read_counter);
    ticker.set_realtime_offset(0);
    ticker.sync();
    let after = r.clock_gettime(clock::MONOTONIC, read_counter).unwrap();
    assert!(after >= before.unwrap());
    let rt = r.clock_gettime(clock::REALTIME, read_counter).unwrap().as_nanos();
    assert!((rt - host(ClockId::Realtime)).abs() < 1_000_000, "REALTIME did not step back to the host's");

    let stats = ticker.stop();
    eprintln!("{stats:#?}");
    let tol = |t: u64| t as i128;
    assert!(real.max_dev <= tol(stats.realtime_tolerance_ns()), "REALTIME off by {}", real.max_dev);
    assert!(tai.max_dev <= tol(stats.realtime_tolerance_ns()), "TAI off by {}", tai.max_dev);
    assert!(mono.max_dev <= tol(stats.tolerance_ns()), "MONOTONIC off by {}", mono.max_dev);
    assert!(boot.max_dev <= tol(stats.tolerance_ns()), "BOOTTIME off by {}", boot.max_dev);
    assert!(stats.realtime_steps >= 1);
}

#[test]
fn ticker_config_errors_and_writer_exclusion() {
    let m = MappedVdso::map(&note_only_image(ArchLayout::native()), ArchLayout::native()).unwrap();
    assert!(Ticker::start(&m, TickerConfig { hz: 0, ..Default::default() }).is_err());
    let t = Ticker::start(&m, TickerConfig::default()).unwrap();
    assert!(matches!(Ticker::start(&m, TickerConfig::default()), Err(vdso_kernel_stub::Error::WriterBusy)));
    drop(t);
    let t = Ticker::start(&m, TickerConfig { hz: 1000, ..Default::default() }).unwrap();
    t.sync();
    assert!(t.stats().ticks >= 2);
    // A namespace offset without a namespace page is refused.
    let cfg = TickerConfig { timens: Some(TimensOffsets::default()), ..Default::default() };
    let m2 = MappedVdso::map(&note_only_image(ArchLayout::native()), ArchLayout::native()).unwrap();
    assert!(matches!(Ticker::start(&m2, cfg), Err(vdso_kernel_stub::Error::NoTimensPage)));
}

mod tick_alignment {
    use proptest::prelude::*;
    use vdso_kernel_stub::ticker::{next_tick_ns, HOST_TICK_MARGIN_NS};

    const MS: i128 = 1_000_000;

    #[test]
    fn a_ticker_faster_than_the_host_keeps_its_own_period() {
        assert_eq!(next_tick_ns(100 * MS, MS, 99 * MS, 4 * MS), 101 * MS);
        assert_eq!(next_tick_ns(100 * MS, 4 * MS, 99 * MS, 0), 104 * MS, "no host tick known");
    }

    #[test]
    fn a_ticker_as_slow_as_the_host_wakes_just_after_the_next_host_tick() {
        // Host ticked at 99 ms, ticks every 4 ms; now 100 ms: wake after its tick at 103 ms.
        assert_eq!(next_tick_ns(100 * MS, 4 * MS, 99 * MS, 4 * MS), 103 * MS + HOST_TICK_MARGIN_NS);
        // A host tick long past (an idle host skips ticks): the grid still holds.
        assert_eq!(
            next_tick_ns(100 * MS, 4 * MS, 89 * MS + MS / 2, 4 * MS),
            101 * MS + MS / 2 + HOST_TICK_MARGIN_NS
        );
        // Twice the host's period: two host ticks later at most.
        assert_eq!(next_tick_ns(100 * MS, 8 * MS, 99 * MS, 4 * MS), 107 * MS + HOST_TICK_MARGIN_NS);
    }

    proptest! {
        #[test]
        fn the_next_tick_is_after_now_within_a_period_and_on_the_host_grid(
            now in 0i128..1 << 50,
            back in 0i128..1 << 30,
            host_tick in 1i128..20_000_000,
            extra in 0i128..40_000_000,
        ) {
            let period = host_tick + extra;
            let last = now - back;
            let t = next_tick_ns(now, period, last, host_tick) - HOST_TICK_MARGIN_NS;
            prop_assert!(t > now, "after now");
            prop_assert!(t <= now + period, "within a period");
            prop_assert_eq!((t - last) % host_tick, 0, "on the host's grid");
        }
    }
}

/// `(generation, is_ready)` of the mapping's `vdso_rng_data`, as the image reads it (the real
/// data page's in the classic profile, the RNG page in the modern one).
fn rng_state(m: &MappedVdso) -> (u64, u8) {
    use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
    let p = m.data_base().wrapping_add(m.layout().rng_data_in_mapping().expect("getrandom"));
    // SAFETY: `vdso_rng_data` of the mapped data pages (8-aligned, alive with `m`), which the
    // ticker writes atomically.
    unsafe {
        (
            AtomicU64::from_ptr(p as *mut u64).load(Ordering::Acquire),
            AtomicU8::from_ptr(p.add(8) as *mut u8).load(Ordering::Acquire),
        )
    }
}

/// The native architecture's layouts for this host's page size: both profiles.
fn native_layouts() -> Vec<ArchLayout> {
    let arch = ArchLayout::native().arch;
    let page = rustix::param::page_size();
    let layouts: Vec<ArchLayout> = vdso_kernel_stub::Variant::of_arch(arch)
        .filter(|v| v.page_size == page)
        .map(ArchLayout::of_variant)
        .collect();
    assert!(layouts.iter().any(|l| l.profile == Profile::Modern), "a modern row for {arch:?}");
    layouts
}

#[test]
fn the_ticker_publishes_the_rng_ready_and_bumps_its_generation_as_configured() {
    for layout in native_layouts() {
        println!("{:?} {:?}", layout.arch, layout.profile);
        let m = MappedVdso::map(&note_only_image(layout), layout).unwrap();
        assert_eq!(rng_state(&m), (0, 0), "a fresh page: not ready");
        // Never reseeding: ready at generation 1 with the first update, and it stays there.
        let t = Ticker::start(&m, TickerConfig { hz: 1000, rng_reseed_interval: None, ..Default::default() })
            .unwrap();
        assert_eq!(rng_state(&m), (1, 1));
        for _ in 0..5 {
            t.sync();
        }
        assert_eq!(rng_state(&m), (1, 1));
        drop(t);
        // Reseeding every tick: the generation goes up, never to 0, is_ready stays set.
        let t = Ticker::start(
            &m,
            TickerConfig { hz: 1000, rng_reseed_interval: Some(Duration::ZERO), ..Default::default() },
        )
        .unwrap();
        for _ in 0..5 {
            t.sync();
        }
        let (generation, ready) = rng_state(&m);
        assert!(generation >= 3, "generation {generation} after five synced updates");
        assert_eq!(ready, 1);
        drop(t);
    }
    assert_eq!(vdso_kernel_stub::TickerConfig::default().rng_reseed_interval, Some(Duration::from_secs(60)));
}
