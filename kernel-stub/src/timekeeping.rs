//! Fixed-point counter-to-nanoseconds math: choosing `mult`/`shift`, and how long a page may go
//! without an update.
//!
//! The image computes `ns = (base_snsec + (counter - cycle_last) * mult) >> shift` with `base_snsec`
//! below `NSEC_PER_SEC << shift`. `mult`/`shift` are chosen as Linux's `clocks_calc_mult_shift`
//! chooses them (kernel/time/clocksource.c; this is an independent implementation of its
//! specification): the largest shift whose `mult` still keeps `max_secs` seconds of counter
//! ticks times `mult` inside 64 bits. A larger shift means a finer `mult` (less conversion error,
//! finer slewing); a smaller one a longer overflow horizon.
//!
//! Error bound of the conversion (checked by the property tests): with `mult` the rounded value
//! of `to_hz * 2^shift / from_hz`, converting `delta` counter ticks differs from the exact
//! `delta * to_hz / from_hz` by at most `delta / 2^(shift + 1) + 1` units of `to_hz` (half a unit
//! of `mult` per tick, plus the truncation of the final shift). Relative to the exact value that
//! is at most `from_hz / (to_hz * 2^(shift + 1))` plus the one-unit truncation.

use crate::config::{check_conversion, ConfigError};
use crate::time::NSEC_PER_SEC;

/// Computes `(mult, shift)` converting a counter of `from_hz` into units of `to_hz` (usually
/// [`NSEC_PER_SEC`]), such that `max_secs` seconds of ticks times `mult` fit in 64 bits, with the
/// largest such shift (at most 32) in the sense Linux uses: `mult` must fit in
/// `32 - (bits of (max_secs * from_hz) above bit 32)` bits. That test is on powers of two, so it
/// may give up one bit of shift a tighter bound would allow; it is kept for compatibility (a
/// kernel comparing with Linux's numbers gets the same `mult`/`shift`).
///
/// Unlike Linux, the product `max_secs * from_hz` is computed without overflow (Linux wraps in
/// 64 bits above 4.29 GHz with `max_secs` = 2^32 - 1). `from_hz == 0` returns `(0, 0)`, and a
/// counter more than 2^33 times faster than `to_hz` gets `mult` 0 (even shift 32 rounds the ratio
/// to 0): a `mult` of 0 is never a usable conversion, so check for it.
pub fn clocks_calc_mult_shift(from_hz: u64, to_hz: u64, max_secs: u32) -> (u32, u32) {
    if from_hz == 0 {
        return (0, 0);
    }
    // How many bits of mult we can afford: 32 minus the bits `max_secs * from_hz` needs beyond
    // 32, so the 64-bit product keeps its top bit clear of overflow.
    let span = max_secs as u128 * from_hz as u128;
    let excess_bits = 128 - (span >> 32).leading_zeros();
    let mult_bits = 32u32.saturating_sub(excess_bits);
    let mut best = None;
    for shift in (1..=32u32).rev() {
        // Rounded to nearest, as Linux does (`+ from / 2` before dividing).
        let mult = ((to_hz as u128) << shift) + from_hz as u128 / 2;
        let mult = mult / from_hz as u128;
        if mult >> mult_bits == 0 && mult <= u32::MAX as u128 {
            best = Some((mult as u32, shift));
            break;
        }
    }
    best.unwrap_or_else(|| {
        // No shift fits: the counter is so fast (or `max_secs` so long) that even shift 1
        // overflows; use shift 0 and the rounded ratio, saturated.
        let mult = (to_hz as u128 + from_hz as u128 / 2) / from_hz as u128;
        (mult.min(u32::MAX as u128) as u32, 0)
    })
}

/// The longest counter delta the image can convert in 64 bits: the largest `delta` with
/// `delta * mult + (NSEC_PER_SEC << shift) <= u64::MAX` (the base's shifted nanoseconds are
/// below `NSEC_PER_SEC << shift`). Refuses `mult` 0 and `shift` above
/// [`MAX_SHIFT`](crate::config::MAX_SHIFT), which no page may carry.
pub const fn max_cycles(mult: u32, shift: u32) -> Result<u64, ConfigError> {
    if let Err(e) = check_conversion(mult, shift) {
        return Err(e);
    }
    // shift <= 32: the base is below 2^62, so neither the shift nor the subtraction overflows.
    let base = (NSEC_PER_SEC as u128) << shift;
    let room = u64::MAX as u128 - base;
    let d = room / mult as u128;
    Ok(if d > u64::MAX as u128 { u64::MAX } else { d as u64 })
}

/// [`max_cycles`] in nanoseconds at a counter frequency of `freq_hz`: the longest safe interval
/// between updates of the page (rounded down, saturated at `u64::MAX`). Keep the tick well
/// inside it. Refuses what [`max_cycles`] refuses and a frequency of 0.
pub const fn max_update_interval_ns(mult: u32, shift: u32, freq_hz: u64) -> Result<u64, ConfigError> {
    let cycles = match max_cycles(mult, shift) {
        Ok(c) => c,
        Err(e) => return Err(e),
    };
    if freq_hz == 0 {
        return Err(ConfigError::FrequencyZero);
    }
    let ns = cycles as u128 * NSEC_PER_SEC as u128 / freq_hz as u128;
    Ok(if ns > u64::MAX as u128 { u64::MAX } else { ns as u64 })
}

/// Converts a counter delta to nanoseconds, `(delta * mult) >> shift`, in 128 bits: exact for
/// every `mult` and `shift` (a shift of 96 or more leaves nothing of the at most 96-bit product,
/// so the answer is 0, which is the exact value), saturated at `u64::MAX` (only possible with
/// a shift below 32). Never panics.
pub const fn cycles_to_ns(delta: u64, mult: u32, shift: u32) -> u64 {
    let ns = match (delta as u128 * mult as u128).checked_shr(shift) {
        Some(ns) => ns,
        None => 0,
    };
    if ns > u64::MAX as u128 {
        u64::MAX
    } else {
        ns as u64
    }
}

/// The counter frequency a `mult`/`shift` pair stands for, in Hz (rounded). Refuses `mult` 0
/// and `shift` above [`MAX_SHIFT`](crate::config::MAX_SHIFT).
pub const fn mult_to_hz(mult: u32, shift: u32) -> Result<u64, ConfigError> {
    if let Err(e) = check_conversion(mult, shift) {
        return Err(e);
    }
    // shift <= 32 and mult >= 1: at most 2^62 + 2^31, well inside u64.
    let hz = ((NSEC_PER_SEC as u128) << shift) + mult as u128 / 2;
    Ok((hz / mult as u128) as u64)
}

/// The default `max_secs` for [`clocks_calc_mult_shift`], Linux's clocksource cap (10 minutes):
/// with it the overflow horizon is at least 10 minutes, far beyond any tick.
pub const DEFAULT_MAX_SECS: u32 = 600;
