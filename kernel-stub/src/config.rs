//! What a clock configuration must satisfy before it reaches a data page, and the error a bad
//! one gets.
//!
//! The image trusts the page: a `mult` of 0 freezes every counter-based clock, a `shift` above
//! 32 overflows the shifted nanoseconds Linux's layout keeps in 64 bits, a zero `mask` makes
//! every counter delta 0, and a `clock_mode` of `TIMENS` on the real data page sends readers to
//! look for a namespace page that is not there (`time()` then returns 0 and `gettimeofday`'s
//! time zone is lost). Every entry point of this crate where such a value can come in
//! ([`crate::update::ClockConfig`], [`crate::Timekeeper`], [`crate::update::update`], the
//! [`crate::timekeeping`] functions that take a `shift`, the std half's ticker) refuses it with
//! a [`ConfigError`] instead of publishing a page that stops or misleads readers.

use core::fmt;

use vdso_abi::clock_mode;

/// The largest `shift` the page's arithmetic allows (Linux's `clocks_calc_mult_shift` never
/// chooses more; ABI.md keeps `nsec << shift` for a whole second in 64 bits).
pub const MAX_SHIFT: u32 = 32;

/// A clock configuration value that cannot be published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `mult` is 0: the clocks would stand still.
    MultZero,
    /// `shift` is above [`MAX_SHIFT`].
    ShiftTooLarge(u32),
    /// The counter mask is 0: every counter delta would be 0.
    MaskZero,
    /// A counter frequency of 0 Hz.
    FrequencyZero,
    /// A clock mode the real data page cannot hold: `TIMENS` (it belongs on a namespace page
    /// only) or a value docs/abi.md §2 does not list.
    ClockMode(i32),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MultZero => write!(f, "mult is 0 (the clocks would stand still)"),
            ConfigError::ShiftTooLarge(s) => write!(f, "shift {s} is above {MAX_SHIFT}"),
            ConfigError::MaskZero => write!(f, "the counter mask is 0"),
            ConfigError::FrequencyZero => write!(f, "the counter frequency is 0 Hz"),
            ConfigError::ClockMode(m) if *m == clock_mode::TIMENS => {
                write!(f, "clock mode TIMENS belongs on a time-namespace page, not the real data page")
            }
            ConfigError::ClockMode(m) => write!(f, "clock mode {m} is not one ABI.md lists for a data page"),
        }
    }
}

impl core::error::Error for ConfigError {}

/// Checks a counter-to-nanoseconds conversion: `mult` not 0, `shift` at most [`MAX_SHIFT`].
pub const fn check_conversion(mult: u32, shift: u32) -> Result<(), ConfigError> {
    if mult == 0 {
        Err(ConfigError::MultZero)
    } else {
        check_shift(shift)
    }
}

/// Checks `shift` is at most [`MAX_SHIFT`].
pub const fn check_shift(shift: u32) -> Result<(), ConfigError> {
    if shift > MAX_SHIFT {
        Err(ConfigError::ShiftTooLarge(shift))
    } else {
        Ok(())
    }
}

/// Checks a clock mode for the real data page: `NONE`, `ARCH`, `PVCLOCK` or `HVCLOCK` (ABI.md
/// §2; revision 1's image treats the last two like `NONE`, on either architecture, so they are
/// harmless there). `TIMENS` and every unlisted value are refused.
pub const fn check_clock_mode(mode: i32) -> Result<(), ConfigError> {
    match mode {
        clock_mode::NONE | clock_mode::ARCH | clock_mode::PVCLOCK | clock_mode::HVCLOCK => Ok(()),
        _ => Err(ConfigError::ClockMode(mode)),
    }
}
