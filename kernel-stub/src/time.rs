//! A signed time value in seconds and nanoseconds, and conversions to and from plain nanoseconds.
//!
//! The data page stores seconds as `u64` and (shifted) nanoseconds as `u64`; offsets and
//! namespace shifts can be negative. Everything in this crate computes in `i128` nanoseconds,
//! which holds any `(i64 seconds, nanoseconds)` pair exactly, and converts at the edges.

/// Nanoseconds in a second.
pub const NSEC_PER_SEC: u64 = 1_000_000_000;

/// A time or a signed duration: `sec + nsec / 1e9`, with `nsec` always in `0..1_000_000_000`
/// (a negative value has a negative `sec` and a non-negative `nsec`, as `struct timespec`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timespec {
    /// Whole seconds (floor).
    pub sec: i64,
    /// Nanoseconds past `sec`, `0..1_000_000_000`.
    pub nsec: u32,
}

impl Timespec {
    /// Zero.
    pub const ZERO: Timespec = Timespec { sec: 0, nsec: 0 };

    /// A normalised value from seconds and a nanosecond count of any size or sign.
    pub const fn new(sec: i64, nsec: i64) -> Timespec {
        Timespec::from_nanos(sec as i128 * NSEC_PER_SEC as i128 + nsec as i128)
    }

    /// The value of `ns` nanoseconds; seconds saturate at the range of `i64`.
    pub const fn from_nanos(ns: i128) -> Timespec {
        let n = NSEC_PER_SEC as i128;
        let mut sec = ns.div_euclid(n);
        let nsec = ns.rem_euclid(n) as u32;
        if sec > i64::MAX as i128 {
            sec = i64::MAX as i128;
        } else if sec < i64::MIN as i128 {
            sec = i64::MIN as i128;
        }
        Timespec { sec: sec as i64, nsec }
    }

    /// The value in nanoseconds (exact).
    pub const fn as_nanos(self) -> i128 {
        self.sec as i128 * NSEC_PER_SEC as i128 + self.nsec as i128
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_values_keep_nsec_positive() {
        assert_eq!(Timespec::from_nanos(-1), Timespec { sec: -1, nsec: 999_999_999 });
        assert_eq!(Timespec::new(-1, -500_000_000), Timespec { sec: -2, nsec: 500_000_000 });
        assert_eq!(Timespec::new(1, 2_500_000_000).as_nanos(), 3_500_000_000);
    }

    #[test]
    fn seconds_saturate() {
        assert_eq!(Timespec::from_nanos(i128::MAX).sec, i64::MAX);
        assert_eq!(Timespec::from_nanos(i128::MIN).sec, i64::MIN);
    }
}
