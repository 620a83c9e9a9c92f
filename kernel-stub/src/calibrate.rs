//! Measuring the counter's frequency against the host's `CLOCK_MONOTONIC_RAW`, and against its
//! `CLOCK_MONOTONIC` in the same brackets: the two differ by the host's NTP frequency correction
//! (tens of ppm on a synchronised host, up to 500), and a tracker of MONOTONIC that started from
//! the RAW rate would spend its first tenth of a second working that difference off.
//!
//! The rate is never assumed: under qemu-user 7.2 riscv64's `rdtime` returns the host's TSC
//! (about 2.4 GHz here), not the 10 MHz timebase real boards have. The method: take the counter
//! bracketed by two reads of the host clock, keep the bracket that is narrowest out of several
//! tries (a preempted or slow try only widens its own bracket), once at the start and once after
//! sleeping for the calibration window; the rate is the ratio of the two differences. The error
//! estimate is the worst case of that ratio: half of each bracket's width over the window, plus
//! one counter tick and one host nanosecond of quantisation.

use std::time::Duration;

use rustix::time::{clock_gettime, ClockId};

use crate::counter::read_counter;
use crate::error::Error;

/// A host clock reading in nanoseconds.
pub(crate) fn host_ns(clock: ClockId) -> i128 {
    let t = clock_gettime(clock);
    t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128
}

/// The counter read between two reads of a host clock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    /// The counter.
    pub counter: u64,
    /// The host clock at the middle of the bracket, ns.
    pub host_ns: i128,
    /// Half the bracket's width, ns: the host time of the counter read is `host_ns` ± this.
    pub half_width_ns: i128,
}

/// The narrowest of `tries` brackets of the counter by `clock`.
pub(crate) fn sample(clock: ClockId, tries: usize) -> Sample {
    let mut best: Option<Sample> = None;
    for _ in 0..tries.max(1) {
        let t0 = host_ns(clock);
        let counter = read_counter();
        let t1 = host_ns(clock);
        let s = Sample { counter, host_ns: (t0 + t1) / 2, half_width_ns: (t1 - t0 + 1) / 2 };
        if best.is_none_or(|b| s.half_width_ns < b.half_width_ns) {
            best = Some(s);
        }
    }
    best.expect("at least one try")
}

/// The counter's measured frequency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    /// Counter ticks per second of host `CLOCK_MONOTONIC_RAW`.
    pub freq_hz: u64,
    /// Counter ticks per second of host `CLOCK_MONOTONIC` (what NTP slews), measured over the
    /// same window; equal to `freq_hz` for a [`known`](Self::known) frequency.
    pub mono_freq_hz: u64,
    /// Worst-case relative error of `freq_hz`, in parts per million.
    pub error_ppm: f64,
    /// Length of the measurement window, ns.
    pub window_ns: u64,
}

impl Calibration {
    /// A calibration of a known frequency (e.g. a device tree's `timebase-frequency`).
    pub const fn known(freq_hz: u64) -> Calibration {
        Calibration { freq_hz, mono_freq_hz: freq_hz, error_ppm: 0.0, window_ns: 0 }
    }
}

/// Default window: long enough for tens of ppm under qemu, short enough for every test to pay.
pub const DEFAULT_WINDOW: Duration = Duration::from_millis(40);

/// Calibrates over [`DEFAULT_WINDOW`].
pub fn calibrate() -> Result<Calibration, Error> {
    calibrate_for(DEFAULT_WINDOW)
}

/// Calibrates over `window` (at least 1 ms).
pub fn calibrate_for(window: Duration) -> Result<Calibration, Error> {
    const TRIES: usize = 64;
    let window = window.max(Duration::from_millis(1));
    let a = sample(ClockId::MonotonicRaw, TRIES);
    let ma = sample(ClockId::Monotonic, TRIES);
    std::thread::sleep(window);
    let b = sample(ClockId::MonotonicRaw, TRIES);
    let mb = sample(ClockId::Monotonic, TRIES);
    let dt = b.host_ns - a.host_ns;
    let dc = b.counter.wrapping_sub(a.counter);
    if dt <= 0 {
        return Err(Error::Calibration("host CLOCK_MONOTONIC_RAW did not advance"));
    }
    if dc == 0 || dc > u64::MAX / 2 {
        return Err(Error::Calibration("the counter did not advance"));
    }
    let freq = (dc as u128 * 1_000_000_000 + dt as u128 / 2) / dt as u128;
    let freq = u64::try_from(freq).map_err(|_| Error::Calibration("frequency out of range"))?;
    if freq == 0 {
        return Err(Error::Calibration("the counter is slower than 1 Hz"));
    }
    let uncertainty_ns = (a.half_width_ns + b.half_width_ns + 1) as f64;
    let error_ppm = uncertainty_ns / dt as f64 * 1e6 + 1e6 / dc as f64;
    // MONOTONIC's rate from its own brackets; if they are useless, RAW's (no NTP correction).
    let (mdt, mdc) = (mb.host_ns - ma.host_ns, mb.counter.wrapping_sub(ma.counter));
    let mono_freq = if mdt > 0 && mdc != 0 && mdc <= u64::MAX / 2 {
        u64::try_from((mdc as u128 * 1_000_000_000 + mdt as u128 / 2) / mdt as u128).unwrap_or(freq)
    } else {
        freq
    };
    Ok(Calibration { freq_hz: freq, mono_freq_hz: mono_freq, error_ppm, window_ns: dt as u64 })
}
