//! Turning the clock options into what the page's writer publishes, and refusing values that
//! would make a clock read before its epoch.
//!
//! REALTIME: the writer publishes the host's REALTIME plus a fixed offset, so an absolute date
//! becomes "the offset that makes the wall clock read that date now". MONOTONIC and BOOTTIME:
//! the offsets go into a time-namespace page (docs/abi.md §4), exactly as Linux's time namespaces
//! shift them; like Linux (`timens_offsets` refuses a negative result), a namespace whose clock
//! would be negative is refused, and so is an offset beyond Linux's limit (`KTIME_SEC_MAX / 2`,
//! about 146 years).

use rustix::time::{clock_gettime, ClockId};
use vdso_kernel_stub::{TimensOffsets, Timespec};

use crate::error::Error;
use crate::options::{RealtimeSpec, RunOptions};

const NS: i128 = 1_000_000_000;
/// Largest namespace offset Linux accepts, ns (`KTIME_SEC_MAX / 2` seconds).
const MAX_TIMENS_NS: i128 = (i64::MAX as i128 / NS / 2) * NS;

/// What the writer is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clocks {
    /// Added to the host's REALTIME, ns.
    pub realtime_offset_ns: i64,
    /// The time namespace, if any offset is not zero.
    pub timens: Option<TimensOffsets>,
}

fn host(clock: ClockId) -> i128 {
    let t = clock_gettime(clock);
    t.tv_sec as i128 * NS + t.tv_nsec as i128
}

/// Checks `options` against the host's clocks now.
pub fn resolve(options: &RunOptions) -> Result<Clocks, Error> {
    resolve_at(options, host(ClockId::Realtime), host(ClockId::Monotonic), host(ClockId::Boottime))
}

/// [`resolve`] with the host's clocks given (for tests).
pub fn resolve_at(options: &RunOptions, real: i128, mono: i128, boot: i128) -> Result<Clocks, Error> {
    let offset = match options.realtime {
        RealtimeSpec::Offset(o) => o,
        RealtimeSpec::Years { years, ns } => {
            crate::options::add_years(real, years)
                .map_err(|e| Error::usage(format!("--realtime-offset: {e}")))?
                - real
                + ns
        }
        RealtimeSpec::Date(d) => d - real,
    };
    if real + offset < 0 {
        return Err(Error::usage(format!(
            "--realtime-offset: the wall clock would read {:.0} s before 1970-01-01 (the epoch)",
            (-(real + offset)) as f64 / 1e9
        )));
    }
    let realtime_offset_ns = i64::try_from(offset).map_err(|_| {
        Error::usage("--realtime-offset: more than 292 years away from the host's clock".to_string())
    })?;
    let mono_off = options.monotonic_offset_ns;
    let boot_off = options.boottime_offset();
    for (name, off, now) in [("--monotonic-offset", mono_off, mono), ("--boottime-offset", boot_off, boot)] {
        if off.abs() > MAX_TIMENS_NS {
            return Err(Error::usage(format!("{name}: more than 146 years (Linux's limit)")));
        }
        if now + off < 0 {
            return Err(Error::usage(format!(
                "{name}: the clock would be negative (it reads {:.0} s now)",
                now as f64 / 1e9
            )));
        }
    }
    let timens = options.needs_timens().then(|| TimensOffsets {
        monotonic: Timespec::from_nanos(mono_off),
        boottime: Timespec::from_nanos(boot_off),
    });
    Ok(Clocks { realtime_offset_ns, timens })
}

/// riscv64 `hwprobe` answers for the page, for the profile with the most keys (Linux 6.18's
/// 0..=14; the classic page keeps the first 7, Linux 6.8's): the kernel's own when it has the
/// syscall (keys it does not know 0), else what qemu-user 7.2's default CPU (rv64gc) is:
/// `BASE_BEHAVIOR` = IMA, `IMA_EXT_0` = FD | C, the rest 0 (unknown vendor, misaligned-access
/// speed unknown).
pub fn hwprobe_values() -> (Vec<u64>, bool) {
    let keys = vdso_abi::riscv64::HWPROBE_KEYS.max(vdso_abi::modern::riscv64::HWPROBE_KEYS);
    #[cfg(target_arch = "riscv64")]
    {
        #[repr(C)]
        struct Pair {
            key: i64,
            value: u64,
        }
        let mut pairs: Vec<Pair> = (0..keys as i64).map(|key| Pair { key, value: 0 }).collect();
        // SAFETY: riscv_hwprobe (258) writes `pairs.len()` key/value pairs into the buffer given.
        let r = unsafe { libc::syscall(258, pairs.as_mut_ptr(), pairs.len(), 0usize, 0usize, 0usize) };
        if r == 0 {
            return (pairs.iter().map(|p| if p.key < 0 { 0 } else { p.value }).collect(), true);
        }
    }
    let mut v = vec![0u64; keys];
    v[3] = 1; // RISCV_HWPROBE_KEY_BASE_BEHAVIOR: RISCV_HWPROBE_BASE_BEHAVIOR_IMA
    v[4] = 0b11; // RISCV_HWPROBE_KEY_IMA_EXT_0: IMA_FD | IMA_C
    (v, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i128 = 1_700_000_000 * NS;

    #[test]
    fn hwprobe_values_cover_every_profiles_keys() {
        let (values, _) = hwprobe_values();
        assert_eq!(values.len(), vdso_abi::modern::riscv64::HWPROBE_KEYS);
        assert!(values.len() >= vdso_abi::riscv64::HWPROBE_KEYS);
    }

    #[test]
    fn offsets_and_dates_become_a_realtime_offset() {
        let mut o = RunOptions::new(250);
        o.realtime = RealtimeSpec::Offset(3600 * NS);
        assert_eq!(resolve_at(&o, NOW, NS, NS).unwrap().realtime_offset_ns, 3600 * 1_000_000_000);
        o.realtime = RealtimeSpec::Date(NOW + 10 * NS);
        assert_eq!(resolve_at(&o, NOW, NS, NS).unwrap().realtime_offset_ns, 10_000_000_000);
    }

    #[test]
    fn a_wall_clock_before_1970_is_refused() {
        let mut o = RunOptions::new(250);
        o.realtime = RealtimeSpec::Offset(-NOW - NS);
        let e = resolve_at(&o, NOW, NS, NS).unwrap_err();
        assert_eq!(e.kind, crate::Kind::Usage);
        assert!(e.message.contains("before 1970"), "{}", e.message);
    }

    #[test]
    fn namespace_offsets_must_keep_clocks_non_negative() {
        let mut o = RunOptions::new(250);
        o.monotonic_offset_ns = 3600 * NS;
        let c = resolve_at(&o, NOW, 10 * NS, 10 * NS).unwrap();
        assert_eq!(c.timens.unwrap().monotonic, Timespec { sec: 3600, nsec: 0 });
        assert_eq!(c.timens.unwrap().boottime, Timespec { sec: 3600, nsec: 0 });
        o.monotonic_offset_ns = -20 * NS;
        assert!(resolve_at(&o, NOW, 10 * NS, 30 * NS).is_err());
        assert!(resolve_at(&RunOptions::new(250), NOW, NS, NS).unwrap().timens.is_none());
    }
}
