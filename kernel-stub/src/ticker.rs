//! A background thread that keeps a mapped data page fresh, as a kernel's timer tick does.
//!
//! Each tick it reads the counter bracketed by the host's MONOTONIC (and MONOTONIC_RAW), advances
//! a [`Timekeeper`] by the counter delta, compares what readers computed with the host, and
//! publishes. It tracks the host the way a kernel timekeeper tracks NTP: it never steps a
//! monotonic clock back, it *slews* — chooses the next interval's `mult` so that the error
//! measured now is worked off over a few ticks, bounded by a maximum rate — and it re-estimates
//! the counter's rate over an ever longer baseline. REALTIME, BOOTTIME and TAI are offsets from
//! MONOTONIC taken from the host, as the host's kernel keeps them: REALTIME − MONOTONIC and
//! BOOTTIME − MONOTONIC are constants between steps, so each tick's bracketed read narrows an
//! [`OffsetEstimate`] that converges on the host's offset and restarts when the host steps;
//! REALTIME adds a fixed offset of one's choosing (e.g. +100 years for a launcher that wants to
//! prove where a program got its time).
//!
//! The COARSE clocks are the host's own: each tick publishes the host's `CLOCK_*_COARSE` read
//! just before the update (plus the fixed REALTIME offset), capped at our fine clocks at the
//! update. The host's coarse clocks only move forward, so ours are **never ahead** of the host's
//! at any later instant. Their lag is the host's coarse advance since our last update: to keep
//! it within one of our ticks, a ticker no faster than the host's tick wakes just after a host
//! tick ([`next_tick_ns`]), when the host's coarse clocks are freshest. (Publishing our fine clock at the update instead, as a kernel does for its own ticks,
//! put ours up to a host tick *ahead* of the host's coarse clocks, which file timestamps and
//! `vdso_test_correctness` compare against.)
//!
//! # Tolerance
//!
//! Let `B` be the largest half-width of a tick's host bracket (measurement noise), `G` the
//! longest gap between two updates, `τ` the correction time constant (4 ticks), `S` the maximum
//! slew rate and `ε` the worst error of the rate guess (the calibration error, plus
//! [`HOST_SLEW_ALLOWANCE_PPM`] because the host may itself slew MONOTONIC against the counter).
//! With error `e` at a tick the controller applies `a = clamp(ê/τ, ±S)`, so between ticks
//! `e_{k+1} = e_k (1 - G/τ) + (noise·G/τ) + ρ·G` with `|ρ| ≤ ε`; at the fixed point
//! `|e_k| ≤ B + ε·τ`, and within an interval the error moves by at most `(ε + S)·G` more. Hence
//! a reader comparing a published MONOTONIC with the host's (its own bracket aside) is within
//!
//! ```text
//! tolerance = 2·B + ε·τ + (ε + S)·G + 1 µs      (the 1 µs covers mult rounding and ns truncation)
//! ```
//!
//! [`TickerStats::tolerance_ns`] evaluates it with the measured `B` and `G`. It does not grow
//! with the run length: the feedback bounds the error however long the ticker runs (an
//! open-loop ticker would drift by `ε · run length`). It grows with `G`, i.e. with how late the
//! scheduler lets the thread run. MONOTONIC_RAW is tracked the same way against the host's RAW
//! clock with `ε` = the calibration error alone ([`TickerStats::raw_tolerance_ns`]); REALTIME
//! adds the uncertainty of its offset, at most the widest bracket
//! ([`TickerStats::realtime_tolerance_ns`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::time::ClockId;
use vdso_abi::{clock_mode, CS_HRES_COARSE};

use crate::arch::{with_arch_data, VdsoArch};
use crate::calibrate::{calibrate, host_ns, Calibration};
use crate::config::check_clock_mode;
use crate::counter::read_counter;
use crate::error::Error;
use crate::layout::Profile;
use crate::mapping::{DataWriter, MappedVdso, TimePageWriter};
use crate::offset_estimate::{Feed, OffsetEstimate};
use crate::rng::RngWriter;
use crate::time::{Timespec, NSEC_PER_SEC};
use crate::timekeeping::{clocks_calc_mult_shift, max_update_interval_ns, DEFAULT_MAX_SECS};
use crate::timens::TimensOffsets;
use crate::update::{ClockConfig, CoarseTimes, Timekeeper, Times};

/// Allowance for the host's own slewing of MONOTONIC relative to the counter (Linux caps NTP
/// frequency corrections at 500 ppm).
pub const HOST_SLEW_ALLOWANCE_PPM: f64 = 500.0;
/// A published MONOTONIC behind the host by more than this is stepped forward, not slewed.
pub const STEP_FORWARD_NS: i128 = 1_000_000;
/// Ticks over which a measured error is worked off (τ = this many tick periods, and at least
/// [`MIN_CORRECTION_NS`]).
pub const CORRECTION_TICKS: u32 = 4;
/// The shortest correction time constant, ns. At 10 kHz four ticks are 0.4 ms: one noisy
/// bracket would then swing the slew to its limit, and a writer the scheduler holds back for
/// milliseconds would keep that slew for the whole gap.
pub const MIN_CORRECTION_NS: f64 = 16_000_000.0;
/// The most the integral term of a tracker moves in one tick (a rate, 1 ppm): a rate error of
/// a few ppm is absorbed within tens of ticks, while noise can only random-walk it slowly.
const INTEGRAL_STEP: f64 = 1e-6;
/// A tick whose host bracket is this many times wider than the narrowest seen measures the
/// error too coarsely to correct by: it keeps the previous `mult`.
const WIDE_BRACKET_FACTOR: i128 = 4;
/// Floor of "the narrowest bracket seen", ns (so a lucky 5 ns bracket does not make every
/// later one "wide").
const MIN_BRACKET_NS: i128 = 50;
/// A ticker aligned with the host's tick wakes this long after it (host ticks jitter by tens of
/// µs).
pub const HOST_TICK_MARGIN_NS: i128 = 250_000;
/// The rate is re-estimated from the first sample once this much host time has passed.
const REESTIMATE_AFTER_NS: i128 = 100_000_000;

/// How the ticker runs.
#[derive(Clone, Debug)]
pub struct TickerConfig {
    /// Updates per second (1..=10000; default [`vdso_abi::DEFAULT_HZ`]).
    pub hz: u32,
    /// Added to the host's REALTIME (and TAI), in ns: e.g. +100 years to tell our clock apart.
    pub realtime_offset_ns: i64,
    /// Write these offsets to the namespace page at start (the mapping must have one).
    pub timens: Option<TimensOffsets>,
    /// Clock mode published (`vdso_abi::clock_mode::ARCH` or `NONE`; [`Ticker::start`] refuses
    /// `TIMENS` and unlisted modes with [`Error::Clock`]).
    pub clock_mode: i32,
    /// `tz_minuteswest` published.
    pub tz_minuteswest: i32,
    /// `tz_dsttime` published.
    pub tz_dsttime: i32,
    /// `hrtimer_res` published (ns).
    pub hrtimer_res: u32,
    /// A calibration to use; `None` calibrates when the ticker starts.
    pub calibration: Option<Calibration>,
    /// `max_secs` for [`clocks_calc_mult_shift`].
    pub max_secs: u32,
    /// Maximum slew rate, ppm (default 500).
    pub max_slew_ppm: u32,
    /// riscv64 hwprobe values (`values[key]`) and whether all CPUs agree; ignored on x86_64.
    pub hwprobe: Option<(Vec<u64>, bool)>,
    /// `getrandom`: how often to bump the RNG generation (every thread's vDSO state then draws
    /// a new key), or `None` never. The ticker publishes the RNG ready (generation 1) with its
    /// first update, since the host's RNG, which the image's key refreshes read, is seeded
    /// by then. Default [`RNG_RESEED_INTERVAL`], Linux's `CRNG_RESEED_INTERVAL`: the host
    /// reseeds its own RNG about that often, and a user-space writer cannot see when.
    pub rng_reseed_interval: Option<Duration>,
}

/// Linux's `CRNG_RESEED_INTERVAL` once the RNG is fully seeded: 60 s.
pub const RNG_RESEED_INTERVAL: Duration = Duration::from_secs(60);

impl Default for TickerConfig {
    fn default() -> Self {
        TickerConfig {
            hz: vdso_abi::DEFAULT_HZ,
            realtime_offset_ns: 0,
            timens: None,
            clock_mode: clock_mode::ARCH,
            tz_minuteswest: 0,
            tz_dsttime: 0,
            hrtimer_res: 1,
            calibration: None,
            max_secs: DEFAULT_MAX_SECS,
            max_slew_ppm: 500,
            hwprobe: None,
            rng_reseed_interval: Some(RNG_RESEED_INTERVAL),
        }
    }
}

/// What the ticker has done and measured.
#[derive(Clone, Debug, PartialEq)]
pub struct TickerStats {
    /// Updates published (the first one, at start, included).
    pub ticks: u64,
    /// The counter calibration in use.
    pub calibration: Calibration,
    /// Tick rate asked for.
    pub hz: u32,
    /// `shift` of HRES and RAW.
    pub shift: u32,
    /// `mult` for the calibrated rate.
    pub base_mult: u32,
    /// `mult` published for MONOTONIC at the last update.
    pub mult: u32,
    /// `mult` published for MONOTONIC_RAW at the last update.
    pub raw_mult: u32,
    /// Largest |published MONOTONIC − host MONOTONIC| seen at a tick, ns.
    pub max_error_ns: u64,
    /// Largest |published MONOTONIC_RAW − host MONOTONIC_RAW| seen at a tick, ns.
    pub max_raw_error_ns: u64,
    /// Longest gap between two updates, ns.
    pub max_gap_ns: u64,
    /// Largest half-width of a tick's host bracket, ns.
    pub max_bracket_ns: u64,
    /// Times REALTIME was re-synchronised with a host step.
    pub realtime_steps: u64,
    /// Times MONOTONIC was stepped forward.
    pub monotonic_steps: u64,
    /// Maximum slew rate, ppm.
    pub max_slew_ppm: u32,
    /// Longest update interval the `mult`/`shift` allow before overflow, ns.
    pub max_update_interval_ns: u64,
    /// Largest staleness of the host's COARSE clocks when an update copied them (host
    /// MONOTONIC − MONOTONIC_COARSE just after the read), ns. A reader's COARSE clock lags the
    /// host's by at most [`max_gap_ns`](Self::max_gap_ns) plus this.
    pub max_coarse_staleness_ns: u64,
    /// Updates published just before a second boundary instead of at the counter's value,
    /// because the host's coarse clock had not crossed it yet (so `time()` never runs ahead of
    /// the host's).
    pub second_boundary_updates: u64,
}

impl core::fmt::Display for TickerStats {
    /// One `name value` line per figure, for a file a test or a person reads after a run.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let c = &self.calibration;
        let lines: [(&str, &dyn core::fmt::Display); 21] = [
            ("ticks", &self.ticks),
            ("hz", &self.hz),
            ("counter_hz", &c.freq_hz),
            ("calibration_error_ppm", &c.error_ppm),
            ("shift", &self.shift),
            ("base_mult", &self.base_mult),
            ("mult", &self.mult),
            ("raw_mult", &self.raw_mult),
            ("max_error_ns", &self.max_error_ns),
            ("max_raw_error_ns", &self.max_raw_error_ns),
            ("max_gap_ns", &self.max_gap_ns),
            ("max_bracket_ns", &self.max_bracket_ns),
            ("max_coarse_staleness_ns", &self.max_coarse_staleness_ns),
            ("second_boundary_updates", &self.second_boundary_updates),
            ("realtime_steps", &self.realtime_steps),
            ("monotonic_steps", &self.monotonic_steps),
            ("max_slew_ppm", &self.max_slew_ppm),
            ("max_update_interval_ns", &self.max_update_interval_ns),
            ("tolerance_ns", &self.tolerance_ns()),
            ("raw_tolerance_ns", &self.raw_tolerance_ns()),
            ("realtime_tolerance_ns", &self.realtime_tolerance_ns()),
        ];
        for (name, value) in lines {
            writeln!(f, "{name} {value}")?;
        }
        Ok(())
    }
}

impl TickerStats {
    fn tau_ns(&self) -> f64 {
        correction_ns(self.hz)
    }

    fn bound(&self, eps_ppm: f64) -> u64 {
        let b = self.max_bracket_ns as f64;
        let g = (self.max_gap_ns as f64).max(NSEC_PER_SEC as f64 / self.hz as f64);
        let eps = eps_ppm * 1e-6;
        let s = self.max_slew_ppm as f64 * 1e-6;
        (2.0 * b + eps * self.tau_ns() + (eps + s) * g + 1000.0).ceil() as u64
    }

    /// How far a published MONOTONIC (or BOOTTIME) may be from the host's, ns (module docs).
    pub fn tolerance_ns(&self) -> u64 {
        self.bound(self.calibration.error_ppm + HOST_SLEW_ALLOWANCE_PPM)
    }

    /// The same for MONOTONIC_RAW (the counter and host RAW are both unslewed).
    pub fn raw_tolerance_ns(&self) -> u64 {
        self.bound(self.calibration.error_ppm)
    }

    /// How far the published REALTIME − MONOTONIC offset may be from the host's, ns: half the
    /// first bracket's width at most (the estimate only narrows), so the widest bracket bounds it.
    pub fn realtime_offset_error_ns(&self) -> u64 {
        self.max_bracket_ns + 2
    }

    /// The same as [`tolerance_ns`](Self::tolerance_ns) for REALTIME and TAI (plus the
    /// uncertainty of their offset).
    pub fn realtime_tolerance_ns(&self) -> u64 {
        self.tolerance_ns() + self.realtime_offset_error_ns()
    }
}

#[derive(Default)]
struct Pending {
    clock_mode: Option<i32>,
    tz: Option<(i32, i32)>,
    realtime_offset_ns: Option<i64>,
    hwprobe: Option<(Vec<u64>, bool)>,
}

struct State {
    stats: TickerStats,
    pending: Pending,
}

struct Shared {
    stop: AtomicBool,
    state: Mutex<State>,
    ticked: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Keeps a [`MappedVdso`]'s data page fresh from a background thread; stops on
/// [`stop`](Ticker::stop) or drop.
pub struct Ticker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// The counter bracketed by host MONOTONIC, with host RAW read inside the bracket too.
#[derive(Clone, Copy)]
struct HostSample {
    counter: u64,
    mono: i128,
    raw: i128,
    half_width: i128,
}

fn host_sample(tries: usize) -> HostSample {
    let mut best: Option<HostSample> = None;
    for _ in 0..tries {
        let m0 = host_ns(ClockId::Monotonic);
        let r0 = host_ns(ClockId::MonotonicRaw);
        let counter = read_counter();
        let r1 = host_ns(ClockId::MonotonicRaw);
        let m1 = host_ns(ClockId::Monotonic);
        let s =
            HostSample { counter, mono: (m0 + m1) / 2, raw: (r0 + r1) / 2, half_width: (m1 - m0 + 1) / 2 };
        if best.is_none_or(|b| s.half_width < b.half_width) {
            best = Some(s);
        }
    }
    best.expect("tries > 0")
}

/// Feeds `tries` brackets of `clock` between two reads of the host's MONOTONIC into `estimate`
/// (starting it if `None`); whether any of them showed a step.
fn measure_offset(clock: ClockId, estimate: &mut Option<OffsetEstimate>, tries: usize) -> bool {
    let mut stepped = false;
    for _ in 0..tries {
        let m0 = host_ns(ClockId::Monotonic);
        let x = host_ns(clock);
        let m1 = host_ns(ClockId::Monotonic);
        match estimate {
            None => *estimate = Some(OffsetEstimate::new(m0, x, m1)),
            Some(e) => stepped |= e.feed(m0, x, m1) == Feed::Stepped,
        }
    }
    stepped
}

/// The offset an estimate started by [`measure_offset`] stands for.
fn offset_of(estimate: &Option<OffsetEstimate>) -> i128 {
    estimate.map_or(0, |e| e.offset())
}

/// When the next tick should come, in host MONOTONIC ns, given `now`, our `period`, and the
/// host's last tick (`last_host_tick`, the host's MONOTONIC_COARSE) and tick length (its
/// `clock_getres` of a COARSE clock). One period after `now`, except that a ticker no faster
/// than the host's moves its tick to just after a host tick, no later than `period` plus the
/// margin from `now` and no earlier than the host tick after `now`: then readers of the
/// COARSE clocks, which we copy from the host at each update, never see the host advance by
/// more than our period past what we published (module docs).
pub fn next_tick_ns(now: i128, period: i128, last_host_tick: i128, host_tick: i128) -> i128 {
    if host_tick <= 0 || period < host_tick || last_host_tick > now {
        return now + period;
    }
    let earliest = now + period - host_tick;
    let ticks = (earliest - last_host_tick + host_tick - 1).div_euclid(host_tick).max(1);
    last_host_tick + ticks * host_tick + HOST_TICK_MARGIN_NS
}

/// The host's tick length, ns (`clock_getres` of its COARSE clocks), or 0 if it will not say.
fn host_tick_ns() -> i128 {
    rustix::time::clock_getres(ClockId::MonotonicCoarse).tv_nsec as i128
}

/// The instant `at_host_mono` (host MONOTONIC ns) will be, seen from now.
fn instant_at(at_host_mono: i128) -> Instant {
    let ahead = (at_host_mono - host_ns(ClockId::Monotonic)).clamp(0, i64::MAX as i128) as u64;
    Instant::now() + Duration::from_nanos(ahead)
}

/// The host's COARSE clocks now, as the next update publishes them, and how stale they are
/// (host MONOTONIC read right after, minus MONOTONIC_COARSE), ns.
fn host_coarse(fixed_real: i128) -> (CoarseTimes, i128) {
    let realtime = host_ns(ClockId::RealtimeCoarse) + fixed_real;
    let monotonic = host_ns(ClockId::MonotonicCoarse);
    let staleness = host_ns(ClockId::Monotonic) - monotonic;
    let coarse =
        CoarseTimes { realtime: Timespec::from_nanos(realtime), monotonic: Timespec::from_nanos(monotonic) };
    (coarse, staleness)
}

/// TAI − REALTIME on the host, rounded to whole seconds (Linux keeps it in seconds).
fn host_tai_offset() -> i128 {
    let d = host_ns(ClockId::Tai) - host_ns(ClockId::Realtime);
    let s = NSEC_PER_SEC as i128;
    (d + s / 2).div_euclid(s) * s
}

impl Ticker {
    /// Starts ticking `mapped`'s data page. Returns once the first update is published, so the
    /// page is valid as soon as this returns. Takes the mapping's writer (so a second ticker, or
    /// a manual writer, gets [`Error::WriterBusy`] until this one stops).
    pub fn start(mapped: &MappedVdso, config: TickerConfig) -> Result<Ticker, Error> {
        if !(1..=10_000).contains(&config.hz) {
            return Err(Error::Config("tick rate must be 1..=10000 Hz"));
        }
        if config.max_slew_ppm == 0 || config.max_slew_ppm > 100_000 {
            return Err(Error::Config("max_slew_ppm must be 1..=100000"));
        }
        check_clock_mode(config.clock_mode)?;
        if let Some(offsets) = &config.timens {
            mapped.set_timens_offsets(offsets)?;
        }
        // The profile chooses the page writer; the clock math below is the same for both.
        match mapped.layout().profile {
            Profile::Classic => {
                with_arch_data!(mapped.layout().arch, |A| Ticker::spawn(mapped.writer::<A>()?, config))
            }
            Profile::Modern => Ticker::spawn(mapped.time_page_writer()?, config),
        }
    }

    fn spawn<W: PageWriter>(writer: W, config: TickerConfig) -> Result<Ticker, Error> {
        let cal = match config.calibration {
            Some(c) => c,
            None => calibrate()?,
        };
        if cal.freq_hz == 0 {
            return Err(Error::Config("calibration frequency is 0"));
        }
        let (mult, shift) = clocks_calc_mult_shift(cal.freq_hz, NSEC_PER_SEC, config.max_secs);
        if mult == 0 {
            return Err(Error::Config("counter frequency out of range"));
        }
        let limit = max_update_interval_ns(mult, shift, cal.freq_hz)?;
        let stats = TickerStats {
            ticks: 0,
            calibration: cal,
            hz: config.hz,
            shift,
            base_mult: mult,
            mult,
            raw_mult: mult,
            max_error_ns: 0,
            max_raw_error_ns: 0,
            max_gap_ns: 0,
            max_bracket_ns: 0,
            realtime_steps: 0,
            monotonic_steps: 0,
            max_slew_ppm: config.max_slew_ppm,
            max_update_interval_ns: limit,
            max_coarse_staleness_ns: 0,
            second_boundary_updates: 0,
        };
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            state: Mutex::new(State { stats, pending: Pending::default() }),
            ticked: Condvar::new(),
        });
        let s2 = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("vdso-ticker".into())
            .spawn(move || run(writer, config, cal, mult, shift, &s2))
            .map_err(Error::Spawn)?;
        let ticker = Ticker { shared, thread: Some(thread) };
        ticker.wait_ticks(1);
        Ok(ticker)
    }

    /// Waits until `n` updates in total have been published (or the thread ended).
    fn wait_ticks(&self, n: u64) {
        let mut st = self.shared.lock();
        while st.stats.ticks < n && !self.thread.as_ref().is_none_or(|t| t.is_finished()) {
            st = self
                .shared
                .ticked
                .wait_timeout(st, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until an update that started after this call has been published (so settings made
    /// before the call are visible on the page).
    pub fn sync(&self) {
        let now = self.shared.lock().stats.ticks;
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
        self.wait_ticks(now + 2);
    }

    /// A copy of the statistics so far.
    pub fn stats(&self) -> TickerStats {
        self.shared.lock().stats.clone()
    }

    /// Publishes `mode` (ARCH or NONE) from the next tick on. Refuses what
    /// [`Timekeeper::set_clock_mode`] refuses (TIMENS above all) with [`Error::Clock`].
    pub fn set_clock_mode(&self, mode: i32) -> Result<(), Error> {
        check_clock_mode(mode)?;
        self.shared.lock().pending.clock_mode = Some(mode);
        Ok(())
    }

    /// Publishes a time zone from the next tick on.
    pub fn set_tz(&self, minuteswest: i32, dsttime: i32) {
        self.shared.lock().pending.tz = Some((minuteswest, dsttime));
    }

    /// Changes the fixed offset added to the host's REALTIME (a REALTIME step).
    pub fn set_realtime_offset(&self, ns: i64) {
        self.shared.lock().pending.realtime_offset_ns = Some(ns);
    }

    /// Publishes riscv64 hwprobe values from the next tick on (ignored on x86_64).
    pub fn set_hwprobe(&self, values: &[u64], homogeneous: bool) {
        self.shared.lock().pending.hwprobe = Some((values.to_vec(), homogeneous));
    }

    /// Stops the thread and returns the final statistics. The page keeps its last values.
    pub fn stop(mut self) -> TickerStats {
        self.halt();
        self.stats()
    }

    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The correction time constant τ at `hz` ticks a second, ns.
fn correction_ns(hz: u32) -> f64 {
    (CORRECTION_TICKS as f64 * NSEC_PER_SEC as f64 / hz.max(1) as f64).max(MIN_CORRECTION_NS)
}

/// The rate-and-error controller of one clock: returns the next interval's `mult`.
///
/// Proportional to the error over τ, plus an integral term while the rate is still the
/// calibration's guess: a rate off by ρ would otherwise leave a standing error of ρ·τ (tens of
/// ns for a few ppm), enough for a reader comparing with the host's syscall to see our clock
/// out of order. Once the rate is measured over a long baseline (after
/// [`REESTIMATE_AFTER_NS`]) that measurement replaces the integral.
struct Tracker {
    first: Option<(u64, i128)>,
    freq: f64,
    shift: u32,
    tau_ns: f64,
    period_ns: f64,
    max_slew: f64,
    integral: f64,
}

impl Tracker {
    fn new(freq_hz: u64, shift: u32, tau_ns: f64, period_ns: f64, max_slew: f64) -> Self {
        Tracker { first: None, freq: freq_hz as f64, shift, tau_ns, period_ns, max_slew, integral: 0.0 }
    }

    fn next_mult(&mut self, counter: u64, host: i128, error_ns: i128) -> u32 {
        let e = error_ns as f64;
        match self.first {
            None => self.first = Some((counter, host)),
            Some((c0, h0)) if host - h0 >= REESTIMATE_AFTER_NS => {
                let dc = counter.wrapping_sub(c0) as f64;
                self.freq = dc * 1e9 / (host - h0) as f64;
                self.integral = 0.0;
            }
            Some(_) => {
                // Critically damped (integral gain a quarter of the proportional gain squared),
                // and at most INTEGRAL_STEP per tick: one noisy bracket (microseconds under
                // qemu) must not leave a lasting rate error behind.
                let gain = self.period_ns / (4.0 * self.tau_ns * self.tau_ns);
                let step = (e * gain).clamp(-INTEGRAL_STEP, INTEGRAL_STEP);
                self.integral = (self.integral + step).clamp(-self.max_slew, self.max_slew);
            }
        }
        let slew = (e / self.tau_ns + self.integral).clamp(-self.max_slew, self.max_slew);
        let nominal = (1u64 << self.shift) as f64 * 1e9 / self.freq;
        (nominal * (1.0 - slew)).round().clamp(1.0, u32::MAX as f64) as u32
    }
}

fn run<W: PageWriter>(
    mut writer: W,
    config: TickerConfig,
    cal: Calibration,
    mult: u32,
    shift: u32,
    shared: &Shared,
) {
    let period = Duration::from_nanos((NSEC_PER_SEC / config.hz as u64).max(1));
    let tau_ns = correction_ns(config.hz);
    let max_slew = config.max_slew_ppm as f64 * 1e-6;
    let period_f = period.as_nanos() as f64;
    // MONOTONIC starts from its own measured rate (the host's NTP correction included), RAW
    // from RAW's.
    let mono_freq = if cal.mono_freq_hz == 0 { cal.freq_hz } else { cal.mono_freq_hz };
    let mut mono_tr = Tracker::new(mono_freq, shift, tau_ns, period_f, max_slew);
    let mut raw_tr = Tracker::new(cal.freq_hz, shift, tau_ns, period_f, max_slew);
    let mut fixed_real = config.realtime_offset_ns as i128;

    let s = host_sample(8);
    // Many brackets before the first update, so the offsets start out narrow.
    let mut host_real = None;
    let mut host_boot = None;
    measure_offset(ClockId::Realtime, &mut host_real, 32);
    measure_offset(ClockId::Boottime, &mut host_boot, 32);
    let mut host_tai = host_tai_offset();
    let times = Times {
        monotonic: Timespec::from_nanos(s.mono),
        realtime: Timespec::from_nanos(s.mono + offset_of(&host_real) + fixed_real),
        boot_offset: Timespec::from_nanos(offset_of(&host_boot)),
        tai_offset: Timespec::from_nanos(host_tai),
        raw: Timespec::from_nanos(s.raw),
    };
    // `spawn` checked `mult`/`shift` (max_update_interval_ns) and `start` the clock mode.
    let Ok(mut tk) = Timekeeper::new(ClockConfig { mult, shift, mask: u64::MAX }, s.counter, &times) else {
        return;
    };
    let _ = tk.set_clock_mode(config.clock_mode);
    tk.set_tz(config.tz_minuteswest, config.tz_dsttime);
    tk.set_hrtimer_res(config.hrtimer_res);
    let _ = tk.set_mult(mono_tr.next_mult(s.counter, s.mono, 0));
    let (coarse, staleness) = host_coarse(fixed_real);
    if tk.realtime().sec > coarse.realtime.sec {
        // Started just after a second boundary the host's coarse clock has not reached: begin
        // just before it instead (see `update_at_tick`).
        let back = tk.realtime().nsec as i128 + 1;
        let cycles = (back as u128 * mono_freq as u128).div_ceil(NSEC_PER_SEC as u128) as u64;
        let times = Times {
            monotonic: Timespec::from_nanos(s.mono - back),
            realtime: Timespec::from_nanos(s.mono - back + offset_of(&host_real) + fixed_real),
            raw: Timespec::from_nanos(s.raw - back),
            ..times
        };
        if let Ok(mut earlier) = Timekeeper::new(
            ClockConfig { mult, shift, mask: u64::MAX },
            s.counter.wrapping_sub(cycles),
            &times,
        ) {
            let _ = earlier.set_clock_mode(config.clock_mode);
            earlier.set_tz(config.tz_minuteswest, config.tz_dsttime);
            earlier.set_hrtimer_res(config.hrtimer_res);
            let _ = earlier.set_mult(tk.snapshot().mult);
            tk = earlier;
        }
    }
    tk.set_coarse(coarse);
    let mut hwprobe = config.hwprobe.clone();
    writer.publish(&tk, hwprobe.take());
    if let Some(rng) = writer.rng_writer() {
        rng.publish_ready();
    }
    let mut last_reseed = Instant::now();
    let mut last_host = s.mono;
    {
        let mut st = shared.lock();
        st.stats.ticks = 1;
        st.stats.max_bracket_ns = s.half_width as u64;
        st.stats.max_coarse_staleness_ns = staleness.max(0) as u64;
    }
    shared.ticked.notify_all();

    let period_ns = period.as_nanos() as i128;
    let host_tick = host_tick_ns();
    let mut best_bracket = s.half_width.max(MIN_BRACKET_NS);
    let mut boundary_updates = 0u64;
    let mut next = instant_at(next_tick_ns(
        host_ns(ClockId::Monotonic),
        period_ns,
        tk.snapshot().coarse.map_or(0, |c| c.monotonic.as_nanos()),
        host_tick,
    ));
    while !shared.stop.load(Ordering::Acquire) {
        let now = Instant::now();
        if now < next {
            std::thread::park_timeout(next - now);
            if Instant::now() < next && !shared.stop.load(Ordering::Acquire) {
                // Woken early (by `sync`): tick now.
                next = Instant::now();
            }
            continue;
        }

        let pending = std::mem::take(&mut shared.lock().pending);
        if config.rng_reseed_interval.is_some_and(|i| last_reseed.elapsed() >= i) {
            if let Some(rng) = writer.rng_writer() {
                rng.reseed();
            }
            last_reseed = Instant::now();
        }
        let s = host_sample(4);
        let gap = s.mono - last_host;
        last_host = s.mono;
        best_bracket = best_bracket.min(s.half_width.max(MIN_BRACKET_NS));

        // REALTIME, BOOTTIME, TAI: the host's offsets from MONOTONIC, each tick's brackets
        // narrowing the estimate (module docs). Published REALTIME = our MONOTONIC + the host's
        // offset, so REALTIME is off the host's by exactly what MONOTONIC is (which the
        // controller keeps within the tolerance), as on the host itself.
        let mut real_steps = 0;
        if let Some(o) = pending.realtime_offset_ns {
            fixed_real = o as i128;
            real_steps = 1;
        }
        if measure_offset(ClockId::Realtime, &mut host_real, 4) {
            real_steps = 1;
        }
        measure_offset(ClockId::Boottime, &mut host_boot, 4);
        host_tai = host_tai_offset();
        // Before publishing: the host's coarse clocks can only move forward after this read, so
        // what we publish from it is never ahead of them.
        let (coarse, staleness) = host_coarse(fixed_real);

        // The update at the counter now, tried on a copy.
        let mut next_tk = tk.clone();
        next_tk.advance(s.counter);
        let err = next_tk.monotonic().as_nanos() - s.mono;
        let raw_err = next_tk.raw().as_nanos() - s.raw;
        let mut mono_steps = 0;
        if err < -STEP_FORWARD_NS {
            next_tk.step_monotonic_forward((-err) as u64);
            mono_steps = 1;
        }
        // A bracket much wider than usual measures the error too coarsely to act on.
        if s.half_width <= WIDE_BRACKET_FACTOR * best_bracket || mono_steps == 1 {
            // A refused (zero) `mult` keeps the previous one.
            let _ = next_tk.set_mult(mono_tr.next_mult(s.counter, s.mono, err.max(-STEP_FORWARD_NS)));
            let _ = next_tk.set_raw_mult(raw_tr.next_mult(s.counter, s.raw, raw_err));
        }
        let settings = |t: &mut Timekeeper| {
            t.set_realtime_offset(offset_of(&host_real) + fixed_real);
            t.set_boot_offset(offset_of(&host_boot));
            t.set_tai_offset(host_tai);
            if let Some(m) = pending.clock_mode {
                let _ = t.set_clock_mode(m);
            }
            if let Some((w, d)) = pending.tz {
                t.set_tz(w, d);
            }
        };
        settings(&mut next_tk);
        if next_tk.realtime().sec <= coarse.realtime.sec {
            tk = next_tk;
        } else {
            // A second boundary lies between the host's last tick and now. `time()` reads the
            // seconds of this update's REALTIME base, and the host's `time()` (its coarse
            // clock's seconds) has not crossed that boundary yet: publish the update at the
            // last counter value before the boundary instead, with the interval's `mult`
            // unchanged (so readers past that value see the same clock as before the update).
            settings(&mut tk);
            let boundary = Timespec { sec: next_tk.realtime().sec, nsec: 0 };
            let real_off = tk.realtime().as_nanos() - tk.monotonic().as_nanos();
            let mono_limit = Timespec::from_nanos(boundary.as_nanos() - 1 - real_off);
            let at = tk.cycles_at_monotonic(mono_limit).map_or(s.counter, |c| {
                if c.wrapping_sub(s.counter) as i64 > 0 {
                    s.counter
                } else {
                    c
                }
            });
            tk.advance(at);
            boundary_updates += 1;
        }
        tk.set_coarse(coarse);
        writer.publish(&tk, pending.hwprobe);
        let last_host_tick = coarse.monotonic.as_nanos();
        next = instant_at(next_tick_ns(host_ns(ClockId::Monotonic), period_ns, last_host_tick, host_tick));

        let mut st = shared.lock();
        let stats = &mut st.stats;
        stats.ticks += 1;
        stats.mult = tk.snapshot().mult;
        stats.raw_mult = tk.snapshot().raw_mult;
        stats.max_error_ns = stats.max_error_ns.max(err.unsigned_abs() as u64);
        stats.max_raw_error_ns = stats.max_raw_error_ns.max(raw_err.unsigned_abs() as u64);
        stats.max_gap_ns = stats.max_gap_ns.max(gap.max(0) as u64);
        stats.max_bracket_ns = stats.max_bracket_ns.max(s.half_width as u64);
        stats.max_coarse_staleness_ns = stats.max_coarse_staleness_ns.max(staleness.max(0) as u64);
        stats.realtime_steps += real_steps;
        stats.monotonic_steps += mono_steps;
        stats.second_boundary_updates = boundary_updates;
        drop(st);
        shared.ticked.notify_all();
    }
    // A gap still open when the ticker stops counts too: readers may have run through it.
    let gap = host_ns(ClockId::Monotonic) - last_host;
    let mut st = shared.lock();
    st.stats.max_gap_ns = st.stats.max_gap_ns.max(gap.max(0) as u64);
}

/// A profile's writer of a mapping's live page, as the ticker drives it: one [`Timekeeper`]
/// publishes through whichever the mapping's profile has.
trait PageWriter: Send + 'static {
    /// Publishes `tk`'s snapshot (and riscv64's hwprobe values, where the profile's page has
    /// them) in one write section.
    fn publish(&mut self, tk: &Timekeeper, hwprobe: Option<(Vec<u64>, bool)>);

    /// The writer of the profile's `vdso_rng_data`, where the stub keeps one.
    fn rng_writer(&mut self) -> Option<&mut RngWriter>;
}

impl<A: VdsoArch> PageWriter for DataWriter<A> {
    fn publish(&mut self, tk: &Timekeeper, hwprobe: Option<(Vec<u64>, bool)>) {
        self.update(|vd| {
            crate::update::fill(vd, tk.snapshot());
            if let Some((values, homogeneous)) = &hwprobe {
                vd[CS_HRES_COARSE].arch_data.set_hwprobe(values, *homogeneous);
            }
        });
    }

    fn rng_writer(&mut self) -> Option<&mut RngWriter> {
        self.rng()
    }
}

impl PageWriter for TimePageWriter {
    /// Not yet for riscv64's modern arch page (its hwprobe values): the stub maps that page as
    /// the never-written zero page, so the values are dropped (a gap: the riscv64 modern image
    /// then answers all-CPU hwprobe queries with zeros).
    fn publish(&mut self, tk: &Timekeeper, _hwprobe: Option<(Vec<u64>, bool)>) {
        // The Timekeeper only holds snapshots `TimeSnapshot::check` accepts.
        let _ = TimePageWriter::publish(self, tk.snapshot());
    }

    /// Not yet: the modern RNG page stays zero (`is_ready` 0), so the image's `getrandom` takes
    /// the syscall.
    fn rng_writer(&mut self) -> Option<&mut RngWriter> {
        None
    }
}
