//! Measuring a constant offset between two clocks exactly enough, from bracketed reads.
//!
//! A host kernel keeps REALTIME and BOOTTIME as MONOTONIC plus an offset that changes only when
//! someone steps the clock (`settimeofday`, a resume from suspend): between steps the offset is a
//! constant. One read of the other clock `x` between two reads of MONOTONIC `m0 <= m1` proves
//! the offset lies in `[x - m1, x - m0]`, whatever the reads cost. Every further bracket proves
//! the same of its own interval, so the offset lies in their *intersection*, which only narrows:
//! the estimate converges on the offset instead of carrying the error of whichever single
//! bracket was taken (under qemu-user each read is an emulated syscall of a few hundred ns, and
//! a one-off midpoint was off by 1-3 µs for the whole run). An empty intersection can only mean
//! the offset changed: that is a step, and the estimate starts again from the new bracket.

/// The interval the offset is known to lie in, ns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetEstimate {
    lo: i128,
    hi: i128,
}

/// What one more bracket did to an [`OffsetEstimate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// The bracket agreed with the estimate (which may have narrowed).
    Agreed,
    /// The bracket excluded the whole estimate: the offset was stepped, the estimate restarted.
    Stepped,
}

/// Allowance for each clock's truncation to whole nanoseconds: two clocks that differ by a
/// constant number of shifted nanoseconds can read one nanosecond further apart or closer.
const TRUNCATION_NS: i128 = 1;

impl OffsetEstimate {
    /// The estimate from one bracket: `other` read between `before` and `after` (ns).
    pub fn new(before: i128, other: i128, after: i128) -> Self {
        let (lo, hi) = Self::interval(before, other, after);
        OffsetEstimate { lo, hi }
    }

    fn interval(before: i128, other: i128, after: i128) -> (i128, i128) {
        let (before, after) = (before.min(after), before.max(after));
        (other - after - TRUNCATION_NS, other - before + TRUNCATION_NS)
    }

    /// Narrows the estimate by one more bracket, or restarts it from that bracket when the two
    /// cannot both hold.
    pub fn feed(&mut self, before: i128, other: i128, after: i128) -> Feed {
        let (lo, hi) = Self::interval(before, other, after);
        let (nlo, nhi) = (self.lo.max(lo), self.hi.min(hi));
        if nlo > nhi {
            *self = OffsetEstimate { lo, hi };
            Feed::Stepped
        } else {
            *self = OffsetEstimate { lo: nlo, hi: nhi };
            Feed::Agreed
        }
    }

    /// The middle of the interval (the estimate to publish), ns.
    pub fn offset(&self) -> i128 {
        self.lo + (self.hi - self.lo) / 2
    }

    /// Half the interval's width: the estimate is off by at most this, ns.
    pub fn uncertainty(&self) -> i128 {
        (self.hi - self.lo + 1) / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_narrow_the_estimate_to_their_intersection() {
        // True offset 1000; reads 50 ns apart, the other clock read at different points.
        let mut e = OffsetEstimate::new(0, 1010, 50);
        assert_eq!((e.lo, e.hi), (959, 1011));
        assert_eq!(e.feed(100, 1140, 150), Feed::Agreed);
        assert_eq!((e.lo, e.hi), (989, 1011));
        assert_eq!(e.feed(200, 1210, 250), Feed::Agreed);
        assert_eq!((e.lo, e.hi), (989, 1011));
        assert!((e.offset() - 1000).abs() <= e.uncertainty());
        assert!(e.uncertainty() <= 12);
    }

    #[test]
    fn a_disjoint_bracket_is_a_step_and_restarts_the_estimate() {
        let mut e = OffsetEstimate::new(0, 1000, 10);
        assert_eq!(e.feed(100, 5100, 110), Feed::Stepped);
        assert_eq!(e, OffsetEstimate::new(100, 5100, 110));
        assert!((e.offset() - 5000).abs() <= e.uncertainty());
    }

    #[test]
    fn truncation_by_one_nanosecond_is_not_a_step() {
        let mut e = OffsetEstimate::new(0, 1000, 0);
        assert_eq!(e.feed(10, 1011, 10), Feed::Agreed);
        assert_eq!(e.feed(20, 1019, 20), Feed::Agreed);
    }

    #[test]
    fn a_bracket_read_in_reverse_order_is_still_an_interval() {
        assert_eq!(OffsetEstimate::new(50, 1010, 0), OffsetEstimate::new(0, 1010, 50));
    }
}
