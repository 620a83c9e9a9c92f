//! `kernel-stub` refuses misuse instead of producing a page that hangs or misleads readers:
//! a writer taking over a page left mid-write, clock modes the real page cannot hold, and clock
//! configurations (`mult` 0, `shift` above 32, mask 0) that would freeze or overflow the clocks.
//! (Images the layout cannot map are refused in `tests/mapping.rs`.)

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use vdso_abi::{clock, clock_mode};
use vdso_kernel_stub::config::{check_clock_mode, MAX_SHIFT};
use vdso_kernel_stub::mapping::note_only_image;
use vdso_kernel_stub::update::{update, update_from_times, ClockConfig, ShiftedTime, TimeSnapshot, Times};
use vdso_kernel_stub::{
    ArchLayout, Calibration, ConfigError, Error, MappedVdso, NativeArchData, Ticker, TickerConfig,
    Timekeeper, Timespec,
};

fn times() -> Times {
    Times {
        monotonic: Timespec::new(100, 5),
        realtime: Timespec::new(1_700_000_000, 7),
        raw: Timespec::new(90, 3),
        ..Times::default()
    }
}

fn good() -> ClockConfig {
    ClockConfig { mult: 100 << 24, shift: 24, mask: u64::MAX }
}

/// Runs `f` on another thread and fails the test (instead of hanging it) if it does not finish
/// within 10 s. A reader spinning on an odd `seq` never finishes.
fn within_timeout<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("{what} did not finish: it hangs"))
}

/// A page whose writer died mid-section (odd `seq` on both structs, a torn field) is taken over
/// by a new writer: after its first update readers complete and see the new values, and `seq`
/// is even (so the next sections keep the normal parity).
#[test]
fn a_writer_taking_over_a_page_left_mid_write_leaves_it_readable() {
    let layout = ArchLayout::native();
    let m = MappedVdso::map(&note_only_image(layout), layout).unwrap();
    let page = m.data_page_rw();
    let seq_at = |i: usize| {
        // SAFETY: `seq` of struct `i` in the writer's view, mapped read-write and 4-aligned; no
        // writer exists yet, and readers only load it atomically.
        unsafe { AtomicU32::from_ptr(page.add(layout.vdso_data_offset + i * layout.vdso_data_size).cast()) }
    };
    seq_at(0).store(7, Ordering::Relaxed);
    seq_at(1).store(3, Ordering::Relaxed);

    let mut w = m.writer::<NativeArchData>().unwrap();
    let tk = Timekeeper::new(good(), 0, &times()).unwrap();
    tk.publish(&mut w);
    assert_eq!((seq_at(0).load(Ordering::Relaxed), seq_at(1).load(Ordering::Relaxed)), (8, 4));

    let r = m.reader::<NativeArchData>().unwrap();
    let got = within_timeout("a read after the take-over", move || {
        (r.clock_gettime(clock::MONOTONIC, || 0), r.clock_gettime(clock::MONOTONIC_RAW, || 0))
    });
    assert_eq!(got, (Some(Timespec::new(100, 5)), Some(Timespec::new(90, 3))));

    // The next sections keep working (parity normal: even between sections).
    tk.publish(&mut w);
    assert_eq!((seq_at(0).load(Ordering::Relaxed), seq_at(1).load(Ordering::Relaxed)), (10, 6));
    let r = m.reader::<NativeArchData>().unwrap();
    within_timeout("a later read", move || r.snapshot());
}

/// The real page only takes the modes ABI.md lists for it: TIMENS (which sends readers to a
/// namespace page that is not there, losing `time()` and `tz`) and unlisted values are refused
/// by the timekeeper, the stateless update and the ticker, and nothing reaches the page.
#[test]
fn clock_modes_the_real_page_cannot_hold_are_refused() {
    for mode in [clock_mode::NONE, clock_mode::ARCH, clock_mode::PVCLOCK, clock_mode::HVCLOCK] {
        assert_eq!(check_clock_mode(mode), Ok(()));
    }
    let layout = ArchLayout::native();
    let m = MappedVdso::map(&note_only_image(layout), layout).unwrap();
    let mut w = m.writer::<NativeArchData>().unwrap();
    let mut tk = Timekeeper::new(good(), 0, &times()).unwrap();
    tk.set_tz(-60, 1);
    for bad in [clock_mode::TIMENS, 4, -1, 42, i32::MIN] {
        assert_eq!(tk.set_clock_mode(bad), Err(ConfigError::ClockMode(bad)));
        assert_eq!(tk.snapshot().clock_mode, clock_mode::ARCH, "the old mode is kept");
        let mut snap = *tk.snapshot();
        snap.clock_mode = bad;
        assert_eq!(update(&mut w, &snap), Err(ConfigError::ClockMode(bad)));
    }
    assert!(ConfigError::ClockMode(clock_mode::TIMENS).to_string().contains("namespace"));
    tk.set_clock_mode(clock_mode::NONE).unwrap();
    tk.publish(&mut w);
    let snap = m.reader::<NativeArchData>().unwrap().snapshot();
    assert_eq!(snap.data[0].clock_mode, clock_mode::NONE);
    assert_eq!(snap.data[0].tz_minuteswest, -60);
    assert_eq!(snap.data[0].seq, 2, "only the good update was written");
    drop(w);

    // The ticker: at start (TickerConfig.clock_mode) and while running.
    let cal = Some(Calibration {
        freq_hz: 1_000_000_000,
        mono_freq_hz: 1_000_000_000,
        error_ppm: 0.0,
        window_ns: 1,
    });
    let config = TickerConfig { clock_mode: clock_mode::TIMENS, calibration: cal, ..TickerConfig::default() };
    match Ticker::start(&m, config) {
        Err(Error::Clock(ConfigError::ClockMode(clock_mode::TIMENS))) => {}
        other => panic!("expected a clock-mode error, got {:?}", other.map(|_| ())),
    }
    let ticker = Ticker::start(&m, TickerConfig { calibration: cal, ..TickerConfig::default() }).unwrap();
    assert!(matches!(ticker.set_clock_mode(clock_mode::TIMENS), Err(Error::Clock(_))));
    assert!(matches!(ticker.set_clock_mode(7), Err(Error::Clock(_))));
    ticker.sync();
    let snap = m.reader::<NativeArchData>().unwrap().snapshot();
    assert_eq!(snap.data[0].clock_mode, clock_mode::ARCH);
    ticker.stop();
}

/// `mult` 0 (a frozen clock), `shift` above 32 and mask 0 are refused wherever a configuration
/// comes in, and `set_mult`'s refusal is visible.
#[test]
fn clock_configurations_that_freeze_or_overflow_are_refused() {
    let bad = [
        (ClockConfig { mult: 0, ..good() }, ConfigError::MultZero),
        (ClockConfig { shift: 33, ..good() }, ConfigError::ShiftTooLarge(33)),
        (ClockConfig { shift: 64, ..good() }, ConfigError::ShiftTooLarge(64)),
        (ClockConfig { shift: u32::MAX, ..good() }, ConfigError::ShiftTooLarge(u32::MAX)),
        (ClockConfig { mask: 0, ..good() }, ConfigError::MaskZero),
    ];
    let layout = ArchLayout::native();
    let m = MappedVdso::map(&note_only_image(layout), layout).unwrap();
    let mut w = m.writer::<NativeArchData>().unwrap();
    for (cfg, e) in bad {
        assert_eq!(ClockConfig::new(cfg.mult, cfg.shift, cfg.mask), Err(e));
        assert_eq!(Timekeeper::new(cfg, 0, &times()).err(), Some(e));
        assert_eq!(TimeSnapshot::new(cfg, 0, &times()).err(), Some(e));
        assert_eq!(update_from_times(&mut w, cfg, 0, &times()), Err(e));
        let mut snap = TimeSnapshot::new(good(), 0, &times()).unwrap();
        (snap.mult, snap.shift, snap.mask) = (cfg.mult, cfg.shift, cfg.mask);
        assert_eq!(update(&mut w, &snap), Err(e));
        let mut snap = TimeSnapshot::new(good(), 0, &times()).unwrap();
        (snap.raw_mult, snap.raw_shift) = (cfg.mult, cfg.shift);
        if cfg.mask != 0 {
            assert_eq!(update(&mut w, &snap), Err(e), "RAW's mult/shift too");
        }
    }
    assert_eq!(w.shadow()[0].seq, 0, "nothing was written");
    assert_eq!(ClockConfig::new(1, 32, 1), Ok(ClockConfig { mult: 1, shift: 32, mask: 1 }));
    update_from_times(&mut w, good(), 0, &times()).unwrap();

    let mut tk = Timekeeper::new(good(), 0, &times()).unwrap();
    assert_eq!(tk.set_mult(0), Err(ConfigError::MultZero));
    assert_eq!(tk.set_raw_mult(0), Err(ConfigError::MultZero));
    assert_eq!((tk.snapshot().mult, tk.snapshot().raw_mult), (100 << 24, 100 << 24), "old mults kept");
    tk.set_mult(99 << 24).unwrap();
    assert_eq!(tk.snapshot().mult, 99 << 24);
    assert_eq!(ShiftedTime::from_timespec(Timespec::new(1, 2), 33), Err(ConfigError::ShiftTooLarge(33)));
    assert_eq!(
        ShiftedTime::from_timespec(Timespec::new(1, 2), 32),
        Ok(ShiftedTime { sec: 1, snsec: 2 << 32 })
    );
}

proptest! {
    /// `ShiftedTime`'s arithmetic never panics for any shift (debug builds check shift amounts
    /// and overflow); shifts above 32 are taken as 32, and up to 32 it is exact.
    #[test]
    fn shifted_time_never_panics(
        sec: i64,
        snsec: u64,
        ns: i128,
        delta: u64,
        mult: u32,
        shift in prop_oneof![0u32..=40, Just(64), Just(128), Just(u32::MAX), any::<u32>()],
    ) {
        let t = ShiftedTime { sec: sec / 4, snsec };
        let ns = ns % (1 << 72);
        let a = t.add_nanos(ns, shift);
        let b = t.add_cycles(delta, mult, shift);
        let _ = (a.to_timespec(shift), b.to_timespec(shift));
        let clamped = shift.min(MAX_SHIFT);
        prop_assert_eq!(a, t.add_nanos(ns, clamped));
        prop_assert_eq!(b, t.add_cycles(delta, mult, clamped));
        let ok = ShiftedTime::from_timespec(Timespec::new(sec, (snsec % 1_000_000_000) as i64), shift);
        prop_assert_eq!(ok.is_ok(), shift <= MAX_SHIFT);
    }

    /// Exactness up to shift 32: adding then subtracting nanoseconds is the identity, and a
    /// counter interval adds `delta * mult` shifted nanoseconds.
    #[test]
    fn shifted_time_is_exact_up_to_shift_32(sec in -(1i64 << 40)..(1i64 << 40), nsec in 0u32..1_000_000_000,
                                           ns in -(1i128 << 70)..(1i128 << 70), shift in 0u32..=32) {
        let t = ShiftedTime::from_timespec(Timespec::new(sec, nsec as i64), shift).unwrap();
        prop_assert_eq!(t.add_nanos(ns, shift).add_nanos(-ns, shift), t);
        prop_assert_eq!(t.to_timespec(shift), Timespec::new(sec, nsec as i64));
    }
}
