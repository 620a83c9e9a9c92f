//! Property tests of the fixed-point math against 128-bit references.

mod common;

use proptest::prelude::*;
use vdso_kernel_stub::config::MAX_SHIFT;
use vdso_kernel_stub::timekeeping::{
    clocks_calc_mult_shift, cycles_to_ns, max_cycles, max_update_interval_ns, mult_to_hz,
};
use vdso_kernel_stub::ConfigError;

const NS: u128 = 1_000_000_000;

/// The number of mult bits Linux's rule allows for `max_secs * from_hz` (its `sftacc`).
fn allowed_mult_bits(from_hz: u64, max_secs: u32) -> u32 {
    let span = max_secs as u128 * from_hz as u128;
    32u32.saturating_sub(128 - (span >> 32).leading_zeros())
}

fn mult_for(from_hz: u64, shift: u32) -> u128 {
    ((NS << shift) + from_hz as u128 / 2) / from_hz as u128
}

fn cases() -> impl Strategy<Value = (u64, u32)> {
    (1_000_000u64..=10_000_000_000, prop_oneof![Just(600u32), 1u32..=3600])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::slow_under_emulation(2048, 256)))]

    /// `max_secs` seconds of counter ticks times `mult` never overflow 64 bits.
    #[test]
    fn mult_shift_never_overflows_over_max_secs((hz, max_secs) in cases()) {
        let (mult, shift) = clocks_calc_mult_shift(hz, 1_000_000_000, max_secs);
        prop_assert!(mult > 0 && shift <= 32);
        let span = max_secs as u128 * hz as u128;
        prop_assert!(span * mult as u128 <= u64::MAX as u128);
        prop_assert_eq!(mult as u128, mult_for(hz, shift), "mult is the rounded ratio");
        prop_assert!((mult as u128) < 1u128 << allowed_mult_bits(hz, max_secs));
    }

    /// The shift is the largest Linux's rule allows, so at most one bit of headroom is lost:
    /// one more bit of shift would exceed the rule, and (for spans past 2^32) would make the
    /// product over `max_secs` reach 2^63.
    #[test]
    fn shift_is_the_largest_allowed((hz, max_secs) in cases()) {
        let (_, shift) = clocks_calc_mult_shift(hz, 1_000_000_000, max_secs);
        if shift < 32 {
            let next = mult_for(hz, shift + 1);
            prop_assert!(next >= 1u128 << allowed_mult_bits(hz, max_secs));
            let span = max_secs as u128 * hz as u128;
            if span >= 1 << 32 {
                prop_assert!(span * next >= 1u128 << 63);
            }
        }
    }

    /// Stated bound: converting `delta` ticks is off the exact `delta * 1e9 / hz` by at most
    /// `delta / 2^(shift + 1) + 1` ns, over the whole update interval (`delta` up to
    /// `max_secs` seconds of ticks). Checked exactly in 128-bit integers.
    #[test]
    fn conversion_error_is_within_bound((hz, max_secs) in cases(), frac in 0.0f64..=1.0) {
        let (mult, shift) = clocks_calc_mult_shift(hz, 1_000_000_000, max_secs);
        let span = (max_secs as u128 * hz as u128) as u64;
        let delta = ((span as f64) * frac) as u64;
        let got = cycles_to_ns(delta, mult, shift) as i128;
        // |got - delta*1e9/hz| <= delta/2^(s+1) + 1, multiplied through by hz * 2^(s+1).
        let lhs = (got * hz as i128 - delta as i128 * NS as i128).abs() << (shift + 1);
        let rhs = delta as i128 * hz as i128 + ((hz as i128) << (shift + 1));
        prop_assert!(lhs <= rhs, "hz {} shift {} mult {} delta {} got {}", hz, shift, mult, delta, got);
    }

    /// `max_cycles` is exactly the largest delta for which `delta * mult` plus a base below
    /// `1e9 << shift` fits in 64 bits.
    #[test]
    fn max_cycles_is_the_largest_safe_delta(mult in 1u32.., shift in 0u32..=32) {
        let d = max_cycles(mult, shift).unwrap() as u128;
        let base = NS << shift;
        prop_assert!(d * mult as u128 + base <= u64::MAX as u128);
        prop_assert!((d + 1) * mult as u128 + base > u64::MAX as u128);
    }

    /// The `mult`/`shift` for a frequency leave at least `max_secs - 1` seconds between
    /// updates (the base's second of shifted nanoseconds takes the rest).
    #[test]
    fn update_interval_covers_max_secs((hz, max_secs) in cases()) {
        let (mult, shift) = clocks_calc_mult_shift(hz, 1_000_000_000, max_secs);
        let ns = max_update_interval_ns(mult, shift, hz).unwrap() as u128;
        prop_assert!(ns + NS >= max_secs as u128 * NS, "{} ns for {} s", ns, max_secs);
    }

    /// `cycles_to_ns` is the 128-bit product, shifted, saturated.
    #[test]
    fn cycles_to_ns_is_the_128_bit_product(delta: u64, mult: u32, shift in 0u32..=32) {
        let want = ((delta as u128 * mult as u128) >> shift).min(u64::MAX as u128) as u64;
        prop_assert_eq!(cycles_to_ns(delta, mult, shift), want);
    }

    /// Over the whole `u32` range of `mult` and `shift`, nothing panics (debug builds check
    /// shift amounts and overflow) and every answer is exact, saturated as documented, or a
    /// refusal of exactly the inputs no page may carry (`mult` 0, `shift` above 32).
    #[test]
    fn every_mult_and_shift_is_answered_or_refused(
        delta: u64,
        // The whole range, with the edges (0, the limit, 64, 128) and the valid shifts drawn
        // often enough to matter.
        mult in prop_oneof![Just(0u32), Just(1), Just(u32::MAX), any::<u32>()],
        shift in prop_oneof![0u32..=40, Just(64), Just(96), Just(127), Just(128), Just(u32::MAX), any::<u32>()],
        hz in prop_oneof![Just(0u64), Just(1), any::<u64>()],
    ) {
        let exact = (delta as u128 * mult as u128).checked_shr(shift).unwrap_or(0);
        prop_assert_eq!(cycles_to_ns(delta, mult, shift) as u128, exact.min(u64::MAX as u128));
        let bad = if mult == 0 {
            Some(ConfigError::MultZero)
        } else if shift > MAX_SHIFT {
            Some(ConfigError::ShiftTooLarge(shift))
        } else {
            None
        };
        match bad {
            Some(e) => {
                prop_assert_eq!(max_cycles(mult, shift), Err(e));
                prop_assert_eq!(max_update_interval_ns(mult, shift, hz), Err(e));
                prop_assert_eq!(mult_to_hz(mult, shift), Err(e));
            }
            None => {
                let d = max_cycles(mult, shift).unwrap() as u128;
                let base = NS << shift;
                prop_assert!(d * mult as u128 + base <= u64::MAX as u128);
                prop_assert!(d == u64::MAX as u128 || (d + 1) * mult as u128 + base > u64::MAX as u128);
                let want_hz = ((NS << shift) + mult as u128 / 2) / mult as u128;
                prop_assert_eq!(mult_to_hz(mult, shift).unwrap() as u128, want_hz);
                match max_update_interval_ns(mult, shift, hz) {
                    Err(e) => prop_assert!(hz == 0 && e == ConfigError::FrequencyZero),
                    Ok(ns) => prop_assert_eq!(ns as u128, (d * NS / hz as u128).min(u64::MAX as u128)),
                }
            }
        }
    }

    /// Shifts near and far above the limit, which a plain `u32` strategy rarely draws.
    #[test]
    fn large_shifts_are_refused(mult in 1u32.., shift in 33u32..=160) {
        prop_assert_eq!(max_cycles(mult, shift), Err(ConfigError::ShiftTooLarge(shift)));
        prop_assert_eq!(mult_to_hz(mult, shift), Err(ConfigError::ShiftTooLarge(shift)));
        let _ = cycles_to_ns(u64::MAX, mult, shift);
    }

    /// `mult_to_hz` inverts the choice to within the rounding of `mult`.
    #[test]
    fn mult_to_hz_round_trips((hz, max_secs) in cases()) {
        let (mult, shift) = clocks_calc_mult_shift(hz, 1_000_000_000, max_secs);
        let back = mult_to_hz(mult, shift).unwrap() as f64;
        let rel = (back - hz as f64).abs() / hz as f64;
        prop_assert!(rel <= 1.0 / mult as f64 + 1e-12, "{} -> {} (mult {})", hz, back, mult);
    }
}

/// Values a kernel would see: a 10 MHz riscv timebase and a 2.4 GHz TSC with Linux's 600 s.
#[test]
fn typical_clocks_get_linux_like_shifts() {
    let (mult, shift) = clocks_calc_mult_shift(10_000_000, 1_000_000_000, 600);
    assert_eq!((mult, shift), (100 << 24, 24));
    let (mult, shift) = clocks_calc_mult_shift(2_400_000_000, 1_000_000_000, 600);
    assert_eq!(shift, 24);
    assert_eq!(mult as u128, mult_for(2_400_000_000, 24));
    // The ABI's overflow horizon for shift 24 is about 1100 s whatever the frequency.
    let horizon = max_update_interval_ns(mult, shift, 2_400_000_000).unwrap() / 1_000_000_000;
    assert!((1000..1200).contains(&horizon), "{horizon}");
}

#[test]
fn degenerate_inputs_do_not_panic() {
    assert_eq!(clocks_calc_mult_shift(0, 1_000_000_000, 600), (0, 0));
    assert_eq!(max_cycles(0, 24), Err(ConfigError::MultZero));
    assert_eq!(max_update_interval_ns(1, 0, 0), Err(ConfigError::FrequencyZero));
    // A counter over 2^33 times faster than the unit: even shift 32 rounds the ratio to 0, and
    // `mult` 0 is what the caller gets (documented: not a usable clock).
    assert_eq!(clocks_calc_mult_shift(u64::MAX, 1_000_000_000, u32::MAX).0, 0);
    // Slower than the unit: shift 0 and the saturated ratio.
    assert_eq!(clocks_calc_mult_shift(1, u64::MAX, u32::MAX), (u32::MAX, 0));
}
