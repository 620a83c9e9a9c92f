//! Calibrating the counter against the host's CLOCK_MONOTONIC_RAW.

use vdso_kernel_stub::calibrate::calibrate;

/// Two calibrations agree within the sum of their stated worst-case errors (the counter and
/// the host's RAW clock are both unslewed, so only measurement error separates them).
#[test]
fn two_calibrations_agree_within_their_stated_errors() {
    let a = calibrate().unwrap();
    let b = calibrate().unwrap();
    assert!(a.freq_hz >= 1_000_000, "{a:?}");
    assert!(a.error_ppm > 0.0 && a.error_ppm < 2_000.0, "{a:?}");
    let diff_ppm = (a.freq_hz as f64 - b.freq_hz as f64).abs() / a.freq_hz as f64 * 1e6;
    eprintln!("{a:?}\n{b:?}\ndifference {diff_ppm:.2} ppm");
    assert!(diff_ppm <= a.error_ppm + b.error_ppm, "{diff_ppm} ppm apart: {a:?} {b:?}");
}
