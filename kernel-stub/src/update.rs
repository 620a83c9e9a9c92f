//! Filling every time field of the data page, and a timekeeper that produces those values the
//! way a kernel's does.
//!
//! Two layers:
//! - [`TimeSnapshot`] + [`fill`] / [`update`]: stateless. Given the counter value of the update
//!   and the times to publish at that instant, write every field docs/abi.md §2 lists (REALTIME 0,
//!   MONOTONIC 1, BOOTTIME 7 and TAI 11 as HRES bases, the COARSE bases 5 and 6, MONOTONIC_RAW 4
//!   in `vdso_data[1]`, `cycle_last`, `mask`, `mult`, `shift`, `clock_mode`, `hrtimer_res`, the
//!   time zone) inside one write section.
//! - [`Timekeeper`]: stateful, as Linux's `struct timekeeper`. It keeps `cycle_last` and a shifted
//!   nanosecond accumulator for MONOTONIC and MONOTONIC_RAW, advances them by the counter delta
//!   at each tick with the `mult` that was published for that interval (so what readers computed
//!   just before the update is exactly the new base: no clock ever steps back at an update), lets
//!   the next interval use a different (slewed) `mult`, and derives REALTIME, BOOTTIME and TAI
//!   as offsets from MONOTONIC, so REALTIME can be stepped (`settimeofday`) without touching
//!   MONOTONIC.
//!
//! All HRES clocks share MONOTONIC's sub-nanosecond fraction (they differ by whole nanoseconds),
//! so they advance in lock-step between updates, as in Linux.
//!
//! # What a COARSE clock means
//!
//! REALTIME_COARSE and MONOTONIC_COARSE are the time *of the last update* (Linux: of the last
//! tick), read without the counter. So they are never later than a fine clock read after the
//! update: by default they are exactly the fine clocks at `cycle_last`. A timekeeper that mirrors
//! another clock source which keeps its own tick (the launcher mirrors a host kernel, whose
//! coarse clocks lag its fine ones by up to one of *its* ticks) may publish an earlier value with
//! [`Timekeeper::set_coarse`]; it is capped at the fine clocks at `cycle_last`, so the rule holds
//! whatever is given, and it lasts for one update only (the next [`Timekeeper::advance`] drops it).

use vdso_abi::{clock, riscv64, VdsoData, VdsoTimestamp, CS_BASES, CS_HRES_COARSE, CS_RAW};

use crate::arch::VdsoArch;
use crate::config::{check_clock_mode, check_conversion, check_shift, ConfigError, MAX_SHIFT};
use crate::time::{Timespec, NSEC_PER_SEC};
use crate::writer::SeqlockWriter;

/// A time with shifted nanoseconds, as the page stores HRES bases: `sec` seconds plus
/// `snsec / 2^shift` nanoseconds, `snsec < NSEC_PER_SEC << shift`.
///
/// `shift` is at most [`MAX_SHIFT`]: [`from_timespec`](Self::from_timespec) refuses more, and
/// the other methods, which take it again, use [`MAX_SHIFT`] in place of anything larger (so a
/// wrong call saturates instead of panicking or overflowing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShiftedTime {
    /// Seconds.
    pub sec: i64,
    /// Nanoseconds shifted left by the clock's `shift`.
    pub snsec: u64,
}

impl ShiftedTime {
    /// `t` with nanoseconds shifted by `shift`; refuses a `shift` above [`MAX_SHIFT`] (the
    /// shifted nanoseconds of a second would no longer fit the page's 64 bits).
    pub const fn from_timespec(t: Timespec, shift: u32) -> Result<Self, ConfigError> {
        if let Err(e) = check_shift(shift) {
            return Err(e);
        }
        Ok(ShiftedTime { sec: t.sec, snsec: (t.nsec as u64) << shift })
    }

    /// The value in shifted nanoseconds (`sec * (NSEC_PER_SEC << shift) + snsec`).
    const fn total(self, shift: u32) -> i128 {
        self.sec as i128 * ((NSEC_PER_SEC as i128) << clamp(shift)) + self.snsec as i128
    }

    const fn from_total(total: i128, shift: u32) -> Self {
        let unit = (NSEC_PER_SEC as i128) << clamp(shift);
        ShiftedTime { sec: total.div_euclid(unit) as i64, snsec: total.rem_euclid(unit) as u64 }
    }

    /// Adds `ns` whole nanoseconds (any sign; saturated at about ±2^94 ns, far beyond any
    /// offset the timekeeper accepts).
    pub const fn add_nanos(self, ns: i128, shift: u32) -> Self {
        let ns = if ns > 1 << 94 {
            1 << 94
        } else if ns < -(1 << 94) {
            -(1 << 94)
        } else {
            ns
        };
        ShiftedTime::from_total(self.total(shift) + (ns << clamp(shift)), shift)
    }

    /// Adds `delta * mult` shifted nanoseconds (a counter interval).
    pub const fn add_cycles(self, delta: u64, mult: u32, shift: u32) -> Self {
        ShiftedTime::from_total(self.total(shift) + delta as i128 * mult as i128, shift)
    }

    /// The value rounded down to whole nanoseconds.
    pub const fn to_timespec(self, shift: u32) -> Timespec {
        Timespec { sec: self.sec, nsec: (self.snsec >> clamp(shift)) as u32 }
    }

    /// The HRES form on the page. Negative seconds are stored in two's complement, which is what
    /// a reader's `time_t` gets back.
    const fn hres(self) -> VdsoTimestamp {
        VdsoTimestamp { sec: self.sec as u64, nsec: self.snsec }
    }

    /// The COARSE form on the page (plain nanoseconds).
    const fn coarse(self, shift: u32) -> VdsoTimestamp {
        VdsoTimestamp { sec: self.sec as u64, nsec: self.snsec >> clamp(shift) }
    }
}

/// `shift`, or [`MAX_SHIFT`] if larger (see [`ShiftedTime`]).
const fn clamp(shift: u32) -> u32 {
    if shift > MAX_SHIFT {
        MAX_SHIFT
    } else {
        shift
    }
}

/// Everything one update publishes: the state of every clock at counter value `cycle_last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeSnapshot {
    /// One of `vdso_abi::clock_mode` (ARCH or NONE; the image treats anything else as NONE).
    pub clock_mode: i32,
    /// Counter value these times belong to.
    pub cycle_last: u64,
    /// Counter mask (all ones for a 64-bit counter).
    pub mask: u64,
    /// `mult` for HRES clocks in the interval starting now.
    pub mult: u32,
    /// `shift` for HRES clocks.
    pub shift: u32,
    /// `mult` for MONOTONIC_RAW.
    pub raw_mult: u32,
    /// `shift` for MONOTONIC_RAW.
    pub raw_shift: u32,
    /// MONOTONIC at `cycle_last`, nanoseconds shifted by `shift`.
    pub monotonic: ShiftedTime,
    /// MONOTONIC_RAW at `cycle_last`, nanoseconds shifted by `raw_shift`.
    pub raw: ShiftedTime,
    /// REALTIME − MONOTONIC, in ns.
    pub realtime_offset: i128,
    /// BOOTTIME − MONOTONIC, in ns.
    pub boot_offset: i128,
    /// TAI − REALTIME, in ns (Linux keeps whole seconds).
    pub tai_offset: i128,
    /// `clock_getres` of HRES and RAW clocks, in ns.
    pub hrtimer_res: u32,
    /// `tz_minuteswest`.
    pub tz_minuteswest: i32,
    /// `tz_dsttime`.
    pub tz_dsttime: i32,
    /// COARSE times to publish instead of the fine clocks at `cycle_last`, if earlier (see the
    /// module docs); `None` publishes the fine clocks at `cycle_last`.
    pub coarse: Option<CoarseTimes>,
}

/// The COARSE clocks' values for one update, when they come from a source of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoarseTimes {
    /// REALTIME_COARSE.
    pub realtime: Timespec,
    /// MONOTONIC_COARSE.
    pub monotonic: Timespec,
}

impl TimeSnapshot {
    /// A snapshot from plain times at counter value `cycles`: the times to publish for
    /// REALTIME, MONOTONIC and MONOTONIC_RAW, and the BOOTTIME (boot = mono + offset) and TAI
    /// (tai = realtime + offset) offsets, with one `mult`/`shift` for HRES and RAW alike, clock
    /// mode ARCH, `hrtimer_res` 1 and time zone 0. Refuses a `cfg` that
    /// [`ClockConfig::check`] refuses.
    pub fn new(cfg: ClockConfig, cycles: u64, times: &Times) -> Result<Self, ConfigError> {
        cfg.check()?;
        let clamp = |ns: i128| ns.clamp(-MAX_OFFSET_NS, MAX_OFFSET_NS);
        Ok(TimeSnapshot {
            clock_mode: vdso_abi::clock_mode::ARCH,
            cycle_last: cycles,
            mask: cfg.mask,
            mult: cfg.mult,
            shift: cfg.shift,
            raw_mult: cfg.mult,
            raw_shift: cfg.shift,
            monotonic: ShiftedTime::from_timespec(times.monotonic, cfg.shift)?,
            raw: ShiftedTime::from_timespec(times.raw, cfg.shift)?,
            realtime_offset: clamp(times.realtime.as_nanos() - times.monotonic.as_nanos()),
            // Time spent suspended: never negative (BOOTTIME is never before MONOTONIC).
            boot_offset: clamp(times.boot_offset.as_nanos()).max(0),
            tai_offset: clamp(times.tai_offset.as_nanos()),
            hrtimer_res: 1,
            tz_minuteswest: 0,
            tz_dsttime: 0,
            coarse: None,
        })
    }

    /// Checks what the page cannot carry: a `mult` or `raw_mult` of 0, a `shift` or
    /// `raw_shift` above [`MAX_SHIFT`], a zero `mask`, a clock mode other than those
    /// [`check_clock_mode`] accepts.
    pub fn check(&self) -> Result<(), ConfigError> {
        check_conversion(self.mult, self.shift)?;
        check_conversion(self.raw_mult, self.raw_shift)?;
        if self.mask == 0 {
            return Err(ConfigError::MaskZero);
        }
        check_clock_mode(self.clock_mode)
    }

    /// MONOTONIC, REALTIME, BOOTTIME and TAI at `cycle_last` (shifted), in that order.
    pub fn hres_bases(&self) -> [ShiftedTime; 4] {
        let m = self.monotonic;
        let s = self.shift;
        [
            m,
            m.add_nanos(self.realtime_offset, s),
            m.add_nanos(self.boot_offset, s),
            m.add_nanos(self.realtime_offset + self.tai_offset, s),
        ]
    }
}

/// Writes every time field of `snap` into `vd` (the writer's copy of the two structs).
/// Leaves `seq`, the unused base slots and `arch_data` alone. Does not check `snap` (it never
/// panics, whatever it holds): [`update`] checks it first, and a [`Timekeeper`]'s snapshot is
/// always valid.
pub fn fill<A: VdsoArch>(vd: &mut [VdsoData<A>; CS_BASES], snap: &TimeSnapshot) {
    let [mono, real, boot, tai] = snap.hres_bases();
    let shift = snap.shift;

    let hres = &mut vd[CS_HRES_COARSE];
    hres.clock_mode = snap.clock_mode;
    hres.cycle_last = snap.cycle_last;
    hres.mask = snap.mask;
    hres.mult = snap.mult;
    hres.shift = shift;
    hres.hrtimer_res = snap.hrtimer_res;
    hres.tz_minuteswest = snap.tz_minuteswest;
    hres.tz_dsttime = snap.tz_dsttime;
    // SAFETY (union access): `basetime` and `offset` are plain integers of the same size; the
    // data page uses `basetime`.
    let bases = unsafe { &mut hres.bases.basetime };
    bases[clock::REALTIME as usize] = real.hres();
    bases[clock::MONOTONIC as usize] = mono.hres();
    bases[clock::BOOTTIME as usize] = boot.hres();
    bases[clock::TAI as usize] = tai.hres();
    let (real_coarse, mono_coarse) = match snap.coarse {
        None => (real.coarse(shift), mono.coarse(shift)),
        Some(c) => (earlier(real.coarse(shift), c.realtime), earlier(mono.coarse(shift), c.monotonic)),
    };
    bases[clock::REALTIME_COARSE as usize] = real_coarse;
    bases[clock::MONOTONIC_COARSE as usize] = mono_coarse;

    let raw = &mut vd[CS_RAW];
    raw.clock_mode = snap.clock_mode;
    raw.cycle_last = snap.cycle_last;
    raw.mask = snap.mask;
    raw.mult = snap.raw_mult;
    raw.shift = snap.raw_shift;
    // SAFETY (union access): as above.
    let bases = unsafe { &mut raw.bases.basetime };
    bases[clock::MONOTONIC_RAW as usize] = snap.raw.hres();
}

/// The earlier of a COARSE base (plain ns) and `t`, in the page's COARSE form.
fn earlier(base: VdsoTimestamp, t: Timespec) -> VdsoTimestamp {
    // The page keeps seconds as u64 in two's complement: compare them as the signed values
    // readers get back.
    if (t.sec, t.nsec as u64) < (base.sec as i64, base.nsec) {
        VdsoTimestamp { sec: t.sec as u64, nsec: t.nsec as u64 }
    } else {
        base
    }
}

/// Publishes `snap` in one write section, unless [`TimeSnapshot::check`] refuses it (then
/// nothing is written).
pub fn update<A: VdsoArch>(writer: &mut SeqlockWriter<A>, snap: &TimeSnapshot) -> Result<(), ConfigError> {
    snap.check()?;
    writer.update(|vd| fill(vd, snap));
    Ok(())
}

/// Publishes `times` as of counter value `cycles` with conversion `cfg` in one write section
/// (the stateless form of [`Timekeeper::publish`]). Refuses a `cfg` that [`ClockConfig::check`]
/// refuses (then nothing is written).
pub fn update_from_times<A: VdsoArch>(
    writer: &mut SeqlockWriter<A>,
    cfg: ClockConfig,
    cycles: u64,
    times: &Times,
) -> Result<(), ConfigError> {
    update(writer, &TimeSnapshot::new(cfg, cycles, times)?)
}

/// Sets riscv64's hwprobe answers (in `vdso_data[0].arch_data`, where Linux 6.8 keeps them):
/// `values[key]` for every key `0..=HWPROBE_MAX_KEY`, and whether all CPUs agree. Call inside a
/// write section, e.g. `writer.update(|vd| set_hwprobe(vd, values, true))`.
pub fn set_hwprobe(
    vd: &mut [riscv64::VdsoData; CS_BASES],
    values: [u64; riscv64::HWPROBE_KEYS],
    homogeneous: bool,
) {
    vd[CS_HRES_COARSE].arch_data.all_cpu_hwprobe_values = values;
    vd[CS_HRES_COARSE].arch_data.homogeneous_cpus = homogeneous as u8;
}

/// The counter-to-time conversion of a [`Timekeeper`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockConfig {
    /// Initial `mult` (HRES and RAW), e.g. from [`crate::clocks_calc_mult_shift`].
    pub mult: u32,
    /// `shift` (HRES and RAW).
    pub shift: u32,
    /// Counter mask (`u64::MAX` for a 64-bit counter).
    pub mask: u64,
}

impl ClockConfig {
    /// A checked configuration (see [`check`](Self::check)).
    pub const fn new(mult: u32, shift: u32, mask: u64) -> Result<Self, ConfigError> {
        let cfg = ClockConfig { mult, shift, mask };
        match cfg.check() {
            Ok(()) => Ok(cfg),
            Err(e) => Err(e),
        }
    }

    /// Refuses `mult` 0 (a frozen clock), `shift` above [`MAX_SHIFT`] and `mask` 0.
    pub const fn check(&self) -> Result<(), ConfigError> {
        if let Err(e) = check_conversion(self.mult, self.shift) {
            return Err(e);
        }
        if self.mask == 0 {
            return Err(ConfigError::MaskZero);
        }
        Ok(())
    }
}

/// The times to publish at one counter value (or a [`Timekeeper`] starts from).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Times {
    /// MONOTONIC.
    pub monotonic: Timespec,
    /// REALTIME.
    pub realtime: Timespec,
    /// BOOTTIME − MONOTONIC.
    pub boot_offset: Timespec,
    /// TAI − REALTIME.
    pub tai_offset: Timespec,
    /// MONOTONIC_RAW.
    pub raw: Timespec,
}

/// Largest magnitude accepted for an offset (about 39 million years); keeps the shifted
/// arithmetic inside `i128`.
const MAX_OFFSET_NS: i128 = 1 << 72;

/// A kernel-style timekeeper: accumulates counter deltas into MONOTONIC and MONOTONIC_RAW and
/// publishes everything through [`update`].
#[derive(Clone, Debug)]
pub struct Timekeeper {
    snap: TimeSnapshot,
}

impl Timekeeper {
    /// Starts at counter value `cycles` with the given times, clock mode ARCH, `hrtimer_res` 1.
    /// Refuses a `cfg` that [`ClockConfig::check`] refuses (`mult` 0, `shift` above
    /// [`MAX_SHIFT`], `mask` 0). What a timekeeper holds is always publishable: every setter
    /// refuses what would break that.
    pub fn new(cfg: ClockConfig, cycles: u64, times: &Times) -> Result<Self, ConfigError> {
        Ok(Timekeeper { snap: TimeSnapshot::new(cfg, cycles, times)? })
    }

    /// Advances to counter value `cycles`: MONOTONIC by `delta * mult`, MONOTONIC_RAW by
    /// `delta * raw_mult`, exactly the amounts readers computed for this interval, so the new
    /// bases continue the old ones. A counter behind `cycle_last` (a delta in the upper half of
    /// the mask) changes nothing: clocks never step back. Returns the delta applied.
    pub fn advance(&mut self, cycles: u64) -> u64 {
        let s = &mut self.snap;
        s.coarse = None;
        let delta = cycles.wrapping_sub(s.cycle_last) & s.mask;
        if delta > s.mask >> 1 {
            return 0;
        }
        s.monotonic = s.monotonic.add_cycles(delta, s.mult, s.shift);
        s.raw = s.raw.add_cycles(delta, s.raw_mult, s.raw_shift);
        s.cycle_last = cycles;
        delta
    }

    /// Sets `mult` for HRES clocks from `cycle_last` on (call right after [`advance`](Self::advance)
    /// and before publishing). Continuity at the update point is kept because the base was
    /// accumulated with the old `mult`. A `mult` of 0 is refused (clocks would stop) and the
    /// old one kept.
    pub fn set_mult(&mut self, mult: u32) -> Result<(), ConfigError> {
        check_conversion(mult, self.snap.shift)?;
        self.snap.mult = mult;
        Ok(())
    }

    /// Sets `mult` for MONOTONIC_RAW from `cycle_last` on (0 is refused, the old one kept).
    pub fn set_raw_mult(&mut self, mult: u32) -> Result<(), ConfigError> {
        check_conversion(mult, self.snap.raw_shift)?;
        self.snap.raw_mult = mult;
        Ok(())
    }

    /// Steps REALTIME (and so TAI) to `realtime` as of `cycle_last`, leaving MONOTONIC alone,
    /// as `settimeofday` does.
    pub fn set_realtime(&mut self, realtime: Timespec) {
        let mono = self.snap.monotonic.to_timespec(self.snap.shift).as_nanos();
        self.set_realtime_offset(realtime.as_nanos() - mono);
    }

    /// Sets REALTIME − MONOTONIC in ns (clamped to about ±39 million years).
    pub fn set_realtime_offset(&mut self, ns: i128) {
        self.snap.realtime_offset = ns.clamp(-MAX_OFFSET_NS, MAX_OFFSET_NS);
    }

    /// Sets BOOTTIME − MONOTONIC in ns (time spent suspended). A negative value is published
    /// as 0: BOOTTIME is never before MONOTONIC (Linux's `offs_boot` only grows), and an offset
    /// estimated from another clock source (the ticker's, from host reads) may come out a few
    /// nanoseconds below 0.
    pub fn set_boot_offset(&mut self, ns: i128) {
        self.snap.boot_offset = ns.clamp(0, MAX_OFFSET_NS);
    }

    /// Sets TAI − REALTIME in ns.
    pub fn set_tai_offset(&mut self, ns: i128) {
        self.snap.tai_offset = ns.clamp(-MAX_OFFSET_NS, MAX_OFFSET_NS);
    }

    /// Steps MONOTONIC (and BOOTTIME with it) forward by `ns`, keeping REALTIME and TAI where
    /// they are. Only forward: a monotonic clock may jump ahead, never back.
    pub fn step_monotonic_forward(&mut self, ns: u64) {
        let s = &mut self.snap;
        s.monotonic = s.monotonic.add_nanos(ns as i128, s.shift);
        s.realtime_offset = (s.realtime_offset - ns as i128).clamp(-MAX_OFFSET_NS, MAX_OFFSET_NS);
    }

    /// Publishes `coarse` as the COARSE clocks of the next update where it is earlier than the
    /// fine clocks at `cycle_last` (the time of this update), which it never exceeds; call after
    /// [`advance`](Self::advance), which drops it again (module docs, "What a COARSE clock means").
    pub fn set_coarse(&mut self, coarse: CoarseTimes) {
        self.snap.coarse = Some(coarse);
    }

    /// Sets the clock mode published: ARCH or NONE (or x86's PVCLOCK and HVCLOCK, which the
    /// image treats as NONE). `TIMENS` (a namespace page's mode: on the real page it would make
    /// readers look for a namespace page that is not there) and unlisted values are refused and
    /// the old mode kept.
    pub fn set_clock_mode(&mut self, mode: i32) -> Result<(), ConfigError> {
        check_clock_mode(mode)?;
        self.snap.clock_mode = mode;
        Ok(())
    }

    /// Sets the time zone `gettimeofday` reports.
    pub fn set_tz(&mut self, minuteswest: i32, dsttime: i32) {
        self.snap.tz_minuteswest = minuteswest;
        self.snap.tz_dsttime = dsttime;
    }

    /// Sets the resolution `clock_getres` reports for HRES and RAW clocks.
    pub fn set_hrtimer_res(&mut self, ns: u32) {
        self.snap.hrtimer_res = ns;
    }

    /// What the next update publishes.
    pub fn snapshot(&self) -> &TimeSnapshot {
        &self.snap
    }

    /// MONOTONIC at `cycle_last`.
    pub fn monotonic(&self) -> Timespec {
        self.snap.monotonic.to_timespec(self.snap.shift)
    }

    /// MONOTONIC_RAW at `cycle_last`.
    pub fn raw(&self) -> Timespec {
        self.snap.raw.to_timespec(self.snap.raw_shift)
    }

    /// REALTIME at `cycle_last`.
    pub fn realtime(&self) -> Timespec {
        self.snap.hres_bases()[1].to_timespec(self.snap.shift)
    }

    /// MONOTONIC as a reader computes it at counter value `cycles` from what was published.
    pub fn monotonic_at(&self, cycles: u64) -> Timespec {
        let s = &self.snap;
        let delta = cycles.wrapping_sub(s.cycle_last) & s.mask;
        let delta = if delta > s.mask >> 1 { 0 } else { delta };
        s.monotonic.add_cycles(delta, s.mult, s.shift).to_timespec(s.shift)
    }

    /// The last counter value at which a reader computes MONOTONIC no later than `mono`, from
    /// what would be published now; `None` if MONOTONIC at `cycle_last` is already later. (A
    /// timekeeper that must not publish past an instant, such as a second boundary that
    /// `time()` would cross early, advances to this.)
    pub fn cycles_at_monotonic(&self, mono: Timespec) -> Option<u64> {
        let s = &self.snap;
        // `shift` was checked when it was set (at most 32), so the shifted totals fit in i128.
        let target = mono.as_nanos() << s.shift;
        let room = target - s.monotonic.total(s.shift);
        if room < 0 {
            return None;
        }
        let delta = (room / s.mult.max(1) as i128).min((s.mask >> 1) as i128) as u64;
        Some(s.cycle_last.wrapping_add(delta) & s.mask)
    }

    /// MONOTONIC_RAW as a reader computes it at counter value `cycles`.
    pub fn raw_at(&self, cycles: u64) -> Timespec {
        let s = &self.snap;
        let delta = cycles.wrapping_sub(s.cycle_last) & s.mask;
        let delta = if delta > s.mask >> 1 { 0 } else { delta };
        s.raw.add_cycles(delta, s.raw_mult, s.raw_shift).to_timespec(s.raw_shift)
    }

    /// Publishes the current state in one write section. (Cannot fail: `new` and the setters
    /// keep the state publishable.)
    pub fn publish<A: VdsoArch>(&self, writer: &mut SeqlockWriter<A>) {
        writer.update(|vd| fill(vd, &self.snap));
    }
}
