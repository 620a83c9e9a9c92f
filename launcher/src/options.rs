//! Parsing the launcher's option values: offsets such as `+100y` or `-3600s`, absolute dates such
//! as `2099-01-01T00:00:00Z`, tick rates, architecture names.
//!
//! Everything here is pure (no clock is read): a [`RealtimeSpec::Date`] becomes an offset only
//! when the launcher knows the host's time ([`crate::clocks::resolve`]), so the
//! parsing can be tested exhaustively and a bad value is refused before anything is mapped.
//!
//! The calendar is `jiff`'s: dates, offsets, leap years and calendar years ([`parse_date`],
//! [`add_years`]); a hand-written calendar once panicked on a 17-digit year. Durations keep a
//! small unit parser of their own ([`parse_duration`], checked arithmetic only): the documented
//! syntax (a fraction on any unit, `y` as 365.25 days, a bare number as seconds) is not jiff's
//! "friendly" duration format, which takes fractions on hours and smaller units only and reads
//! `y` as a calendar year.

use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;
use jiff::{Span, Timestamp};
use vdso_kernel_stub::{Arch, Profile};

/// Nanoseconds per second.
const NS: i128 = 1_000_000_000;
/// A Julian year (365.25 days), the length `y` stands for.
const YEAR_NS: i128 = 31_557_600 * NS;

/// How the published wall clock relates to the host's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RealtimeSpec {
    /// The host's REALTIME plus this many nanoseconds (any sign).
    Offset(i128),
    /// The host's date moved by whole calendar years (same month, day and time of day; 29
    /// February becomes 28 February in a common year), then by `ns` nanoseconds.
    Years {
        /// Calendar years (any sign).
        years: i64,
        /// Nanoseconds added after the years.
        ns: i128,
    },
    /// The wall clock reads this date (nanoseconds since the Unix epoch) when the program starts.
    Date(i128),
}

impl Default for RealtimeSpec {
    fn default() -> Self {
        RealtimeSpec::Offset(0)
    }
}

/// The tick rate's accepted range (the kernel stub's ticker takes 1..=10000 Hz).
pub const HZ_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000;

/// What `vdso run` was asked to do, parsed and checked for syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// The architecture asked for; `None` follows the program's ELF header.
    pub arch: Option<Arch>,
    /// The wall clock.
    pub realtime: RealtimeSpec,
    /// Time-namespace offset of MONOTONIC (and MONOTONIC_RAW, MONOTONIC_COARSE), ns.
    pub monotonic_offset_ns: i128,
    /// Time-namespace offset of BOOTTIME; `None` means the same as MONOTONIC's.
    pub boottime_offset_ns: Option<i128>,
    /// Updates of the data page per second.
    pub hz: u32,
    /// Where the writer leaves its statistics when the program has ended (absolute path).
    pub writer_stats: Option<std::path::PathBuf>,
    /// Run on the host kernel's own live data pages, moved before the image (no writer; the
    /// clocks are the host's, so no offset applies): `vdso run --host-data`.
    pub host_data: bool,
    /// The data layout of the image and of the pages our writer keeps (`vdso run --profile`;
    /// `--host-data` implies [`Profile::Modern`]).
    pub profile: Profile,
}

impl RunOptions {
    /// Defaults: the host's clocks unchanged, the program's architecture, `hz` updates a second.
    pub fn new(hz: u32) -> Self {
        RunOptions {
            arch: None,
            realtime: RealtimeSpec::default(),
            monotonic_offset_ns: 0,
            boottime_offset_ns: None,
            hz,
            writer_stats: None,
            host_data: false,
            profile: Profile::Classic,
        }
    }

    /// Whether a time namespace is needed (some offset is not zero).
    pub fn needs_timens(&self) -> bool {
        self.monotonic_offset_ns != 0 || self.boottime_offset_ns.is_some_and(|b| b != 0)
    }

    /// BOOTTIME's namespace offset.
    pub fn boottime_offset(&self) -> i128 {
        self.boottime_offset_ns.unwrap_or(self.monotonic_offset_ns)
    }
}

/// Parses a signed duration: an optional sign, then one or more `<number><unit>` parts
/// (`+100y`, `-30y`, `+3600s`, `1d12h`, `-1.5h`, `250ms`); a lone bare number is seconds.
/// Units: `ns`, `us`, `ms`, `s`, `m` (minutes), `h`, `d`, `w`, `y` (365.25 days).
pub fn parse_duration(text: &str) -> Result<i128, String> {
    let bad = |why: &str| format!("invalid duration {text:?}: {why} (e.g. +100y, -30y, +3600s, 1d12h)");
    let s = text.trim();
    let (sign, mut rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        Some(_) => (1, s),
        None => return Err(bad("empty")),
    };
    if rest.is_empty() {
        return Err(bad("no number"));
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad("expected a number"));
        }
        let (num, after) = rest.split_at(num_len);
        // `is_alphabetic`, not the ASCII test: the unit `µs` starts with U+00B5.
        let unit_len = after.find(|c: char| !c.is_alphabetic()).unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "" | "s" => NS,
            "m" | "min" => 60 * NS,
            "h" => 3_600 * NS,
            "d" => 86_400 * NS,
            "w" => 7 * 86_400 * NS,
            "y" => YEAR_NS,
            _ => return Err(bad(&format!("unknown unit {unit:?}"))),
        };
        if unit.is_empty() && (!after.is_empty() || total != 0 || num_len != rest.len()) {
            return Err(bad("only a lone number may go without a unit"));
        }
        total = total
            .checked_add(
                scale_decimal(num, scale)
                    .ok_or_else(|| bad(&format!("{num:?} is malformed or out of range")))?,
            )
            .ok_or_else(|| bad("out of range"))?;
        if total > 1_000_000 * YEAR_NS {
            return Err(bad("more than a million years"));
        }
        rest = after;
    }
    Ok(sign * total)
}

/// `num` (digits with at most one `.`) times `scale`, truncated to whole nanoseconds.
fn scale_decimal(num: &str, scale: i128) -> Option<i128> {
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') || int.len() > 20 || frac.len() > 18 {
        return None;
    }
    let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut value = int.checked_mul(scale)?;
    if !frac.is_empty() {
        let digits: i128 = frac.parse().ok()?;
        value += digits * scale / 10i128.pow(frac.len() as u32);
    }
    Some(value)
}

/// Parses `--realtime-offset`: a duration ([`parse_duration`]; a leading whole number of years
/// counts calendar years, so `+100y` keeps the month, day and time of day), `@SECONDS` since the
/// epoch, or a date `YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|±HH:MM]` (UTC when no zone is given).
pub fn parse_realtime(text: &str) -> Result<RealtimeSpec, String> {
    let s = text.trim();
    if let Some((sign, years, rest)) = leading_years(s) {
        let ns = if rest.is_empty() { 0 } else { parse_duration(rest)? };
        if years > 1_000_000 {
            return Err(format!("invalid duration {text:?}: more than a million years"));
        }
        return Ok(RealtimeSpec::Years { years: sign * years, ns: sign as i128 * ns });
    }
    if let Some(secs) = s.strip_prefix('@') {
        let ns = scale_decimal(secs.strip_prefix('+').unwrap_or(secs), NS)
            .ok_or_else(|| format!("invalid time {text:?}: expected @SECONDS since 1970-01-01"))?;
        return Ok(RealtimeSpec::Date(ns));
    }
    // A date has a '-' after four or more digits; a duration starts with a sign or has a unit.
    let looks_like_date =
        s.len() >= 10 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit) && s.contains('-');
    if looks_like_date {
        return parse_date(s).map(RealtimeSpec::Date);
    }
    parse_duration(s)
        .map(RealtimeSpec::Offset)
        .map_err(|e| format!("{e}; or a date such as 2099-01-01T00:00:00Z, or @SECONDS"))
}

/// `[+|-]N y REST` with a whole `N`: the sign, `N` and `REST`.
fn leading_years(s: &str) -> Option<(i64, i64, &str)> {
    let (sign, body) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    let digits = body.find(|c: char| !c.is_ascii_digit()).unwrap_or(body.len());
    let rest = body[digits..].strip_prefix('y')?;
    if digits == 0 || digits > 7 || rest.starts_with(['+', '-']) {
        return None;
    }
    Some((sign, body[..digits].parse().ok()?, rest))
}

/// Moves `ns` (since the epoch) by `years` calendar years in UTC: the same month, day and time
/// of day, 29 February becoming the 28th in a common year (jiff's calendar arithmetic). Refused
/// when the date would leave the years jiff's calendar covers (-9999 to 9999).
pub fn add_years(ns: i128, years: i64) -> Result<i128, String> {
    let err = |e: jiff::Error| format!("{years:+} calendar years from now: {e}");
    let now = Offset::UTC.to_datetime(Timestamp::from_nanosecond(ns).map_err(err)?);
    let moved = now.checked_add(Span::new().try_years(years).map_err(err)?).map_err(err)?;
    Ok(Offset::UTC.to_timestamp(moved).map_err(err)?.as_nanosecond())
}

/// Parses an RFC 3339-style date, `YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|±HH:MM]` (UTC when no
/// offset is given; `t` or a space may stand for `T`), into nanoseconds since the Unix epoch.
/// jiff's Temporal/RFC 3339 parser reads it, and its error says what is wrong and where.
pub fn parse_date(text: &str) -> Result<i128, String> {
    let bad = |why: &dyn std::fmt::Display| {
        format!("invalid date {text:?}: {why} (expected YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|+HH:MM])")
    };
    let year_digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if year_digits > 4 {
        return Err(bad(&"a year has four digits (jiff's calendar covers the years -9999 to 9999)"));
    }
    let pieces = Pieces::parse(text).map_err(|e| bad(&e))?;
    if pieces.time_zone_annotation().is_some() {
        return Err(bad(&"a [time zone] annotation is not supported: give an offset such as +02:00"));
    }
    let offset = pieces.offset().map_or(Offset::UTC, |o| o.to_numeric_offset());
    let civil = pieces.date().to_datetime(pieces.time().unwrap_or_default());
    let at = offset.to_timestamp(civil).map_err(|e| bad(&e))?;
    Ok(at.as_nanosecond())
}

/// Parses `--hz`.
pub fn parse_hz(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(hz) if HZ_RANGE.contains(&hz) => Ok(hz),
        _ => Err(format!(
            "invalid tick rate {text:?}: expected a whole number of Hz from {} to {}",
            HZ_RANGE.start(),
            HZ_RANGE.end()
        )),
    }
}

/// Parses `--arch`.
/// Names and aliases come from the architecture table (`vdso_abi::Arch::from_name`).
pub fn parse_arch(text: &str) -> Result<Arch, String> {
    Arch::from_name(text.trim())
        .ok_or_else(|| format!("unknown architecture {text:?}: expected {}", Arch::names()))
}

/// The name `--arch` takes for `arch`.
pub fn arch_name(arch: Arch) -> &'static str {
    arch.name()
}

/// Parses a profile name of the variant table (`classic`, `modern`).
pub fn parse_profile(text: &str) -> Result<Profile, String> {
    Profile::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
        format!("unknown profile {text:?} (one of: {})", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_sign_units_and_compounds() {
        assert_eq!(parse_duration("+100y"), Ok(100 * YEAR_NS));
        assert_eq!(parse_duration("-30y"), Ok(-30 * YEAR_NS));
        assert_eq!(parse_duration("+3600s"), Ok(3600 * NS));
        assert_eq!(parse_duration("3600"), Ok(3600 * NS));
        assert_eq!(parse_duration("1d12h"), Ok(36 * 3600 * NS));
        assert_eq!(parse_duration("-1.5h"), Ok(-5400 * NS));
        assert_eq!(parse_duration("250ms"), Ok(250_000_000));
        assert_eq!(parse_duration("3µs"), Ok(3_000));
        assert_eq!(parse_duration("3us"), Ok(3_000));
        assert_eq!(parse_duration("2w"), Ok(14 * 86_400 * NS));
    }

    #[test]
    fn bad_durations_are_refused_with_a_reason() {
        for (bad, why) in [
            ("", "empty"),
            ("+", "no number"),
            ("y", "expected a number"),
            ("10x", "unknown unit \"x\""),
            ("1.2.3s", "\"1.2.3\" is malformed or out of range"),
            ("--1s", "expected a number"),
            ("5s3", "only a lone number may go without a unit"),
            ("99999999999999999999999y", "malformed or out of range"),
            ("2000000y", "more than a million years"),
        ] {
            let e = parse_duration(bad).expect_err(bad);
            assert!(e.starts_with(&format!("invalid duration {bad:?}: ")), "{e}");
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn dates_are_read_as_utc_unless_a_zone_says_otherwise() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_date("1970-01-02"), Ok(86_400 * NS));
        assert_eq!(parse_date("2000-03-01T00:00:00Z"), Ok(951_868_800 * NS));
        assert_eq!(parse_date("2099-01-01T00:00:00Z"), Ok(4_070_908_800 * NS));
        assert_eq!(parse_date("2099-01-01T01:00:00+01:00"), Ok(4_070_908_800 * NS));
        assert_eq!(parse_date("1969-12-31T23:59:59.5Z"), Ok(-NS / 2));
        assert_eq!(parse_date("2024-02-29T12:00"), Ok((1_709_164_800 + 43_200) * NS));
        assert_eq!(parse_date("2024-02-29 12:00:00.000000001+00:00"), Ok((1_709_164_800 + 43_200) * NS + 1));
        assert_eq!(parse_date("2099-01-01t00:00:00z"), Ok(4_070_908_800 * NS));
        assert_eq!(parse_date("1899-12-31T23:00:00-01:00"), Ok(-2_208_988_800 * NS));
        for (bad, why) in [
            ("2023-02-29", "'day' for `2023-02` is invalid"),
            ("2024-13-01", "'month' is not in the required range of 1..=12"),
            ("2024-01-01T25:00", "'hour' is not in the required range of 0..=23"),
            ("2024-01-01T-1:30Z", "hour: invalid digit"),
            ("2024-01-01T+1:30", "hour: invalid digit"),
            ("2024-01-01T10:00:00+99:00", "offset hours' is not in the required range"),
            ("2024-01-01T10:00:00+-1:00", "UTC numeric offset"),
            ("20x4-01-01", "year"),
            ("1000001-01-01", "a year has four digits"),
            ("9223372036854775807-01-01", "a year has four digits"),
            ("99999999999999999999-01-01", "a year has four digits"),
            ("99999999999999999-01-01", "a year has four digits"),
            ("-2024-01-01", "year"),
            ("2024-01-01T10:00:00[Europe/Paris]", "annotation is not supported"),
            ("2024-01-01junk", "unparsed input \"junk\""),
            ("", "year"),
        ] {
            let e = parse_date(bad).expect_err(bad);
            assert!(e.starts_with(&format!("invalid date {bad:?}: ")) && e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn realtime_takes_offsets_dates_and_epoch_seconds() {
        assert_eq!(parse_realtime("+100y"), Ok(RealtimeSpec::Years { years: 100, ns: 0 }));
        assert_eq!(parse_realtime("-30y2h"), Ok(RealtimeSpec::Years { years: -30, ns: -7200 * NS }));
        assert_eq!(parse_realtime("+1.5y"), Ok(RealtimeSpec::Offset(YEAR_NS * 3 / 2)));
        assert_eq!(parse_realtime("-3600s"), Ok(RealtimeSpec::Offset(-3600 * NS)));
        assert_eq!(parse_realtime("2099-01-01T00:00:00Z"), Ok(RealtimeSpec::Date(4_070_908_800 * NS)));
        assert_eq!(parse_realtime("@86400"), Ok(RealtimeSpec::Date(86_400 * NS)));
        assert!(parse_realtime("tomorrow").is_err());
    }

    #[test]
    fn calendar_years_keep_the_day_and_time() {
        let t = parse_date("2026-11-23T18:00:14Z").unwrap();
        assert_eq!(add_years(t, 100), Ok(parse_date("2126-11-23T18:00:14Z").unwrap()));
        assert_eq!(add_years(t, -30), Ok(parse_date("1996-11-23T18:00:14Z").unwrap()));
        let leap = parse_date("2024-02-29T01:02:03.5Z").unwrap();
        assert_eq!(add_years(leap, 1), Ok(parse_date("2025-02-28T01:02:03.5Z").unwrap()));
        assert_eq!(add_years(leap, 4), Ok(parse_date("2028-02-29T01:02:03.5Z").unwrap()));
        assert_eq!(add_years(-NS / 2, 1), Ok(parse_date("1970-12-31T23:59:59.5Z").unwrap()));
        // Beyond jiff's calendar (years -9999..=9999): refused with a reason, never a panic.
        for years in [9000, -20_000, 1_000_000, i64::MAX, i64::MIN] {
            let e = add_years(t, years).expect_err("out of the calendar");
            assert!(e.contains("calendar years from now") && e.contains("range"), "{years}: {e}");
        }
        assert!(add_years(i128::MAX, 1).is_err());
    }

    #[test]
    fn hz_and_arch_are_checked() {
        assert_eq!(parse_hz("250"), Ok(250));
        assert!(parse_hz("0").is_err() && parse_hz("10001").is_err() && parse_hz("fast").is_err());
        assert_eq!(parse_arch("riscv64"), Ok(Arch::Riscv64));
        assert_eq!(parse_arch("x86_64"), Ok(Arch::X86_64));
        assert_eq!(parse_arch("arm64"), Ok(Arch::Aarch64));
        assert!(parse_arch("sparc").is_err());
    }

    /// Parses `text` every way the command line can, and resolves what parsed against fixed host
    /// clocks: nothing may panic, whatever the text.
    fn parse_everything(text: &str) {
        let _ = (parse_duration(text), parse_date(text), parse_hz(text), parse_arch(text));
        if let Ok(spec) = parse_realtime(text) {
            let mut o = RunOptions::new(250);
            o.realtime = spec;
            let _ = crate::clocks::resolve_at(&o, 1_764_000_000 * NS, 1_000 * NS, 1_000 * NS);
        }
        if let Ok(ns) = parse_duration(text) {
            let mut o = RunOptions::new(250);
            o.monotonic_offset_ns = ns;
            o.boottime_offset_ns = Some(-ns);
            let _ = crate::clocks::resolve_at(&o, 1_764_000_000 * NS, 1_000 * NS, 1_000 * NS);
        }
    }

    proptest::proptest! {
        #[test]
        fn no_string_makes_option_parsing_panic(text in "\\PC{0,40}") {
            parse_everything(&text);
        }

        #[test]
        fn no_date_like_string_makes_option_parsing_panic(
            text in "[-+]?[0-9]{1,25}-[0-9]{1,3}-[0-9]{1,3}([Tt ][0-9]{1,3}(:[0-9]{1,3}){0,2}(\\.[0-9]{0,12})?)?([Zz]|[-+][0-9]{1,4}(:[0-9]{1,3})?)?"
        ) {
            parse_everything(&text);
        }

        #[test]
        fn no_duration_like_string_makes_option_parsing_panic(
            text in "@?[-+]?([0-9.]{0,30}(ns|us|µs|ms|s|m|min|h|d|w|y|x)?){1,4}"
        ) {
            parse_everything(&text);
        }
    }

    #[test]
    fn profiles_parse_by_name_and_an_unknown_one_is_refused_naming_the_choices() {
        assert_eq!(parse_profile("classic"), Ok(Profile::Classic));
        assert_eq!(parse_profile("modern"), Ok(Profile::Modern));
        let e = parse_profile("Modern").unwrap_err();
        assert!(e.contains("unknown profile \"Modern\"") && e.contains("classic, modern"), "{e}");
    }
}
