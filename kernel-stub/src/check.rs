//! Judging a kernel's data pages against the image that will read them (`vdso check-page`).
//!
//! Both profiles: the classic `vdso_data[2]` pair and Linux 6.15+'s `vdso_time_data` (the same
//! per-clock fields in `clock_data[2]`, shifted by x86_64's `max_cycles`, with `tz` and
//! `hrtimer_res` once per page, and a separate RNG page). Where this says `vdso_data[i]` for the
//! modern profile it means `clock_data[i]`.
//!
//! A kernel that fills the data pages wrongly rarely crashes: the image just returns 1970, a
//! 0 ns resolution or a clock that jumps, and users see it long after. [`check_pages`] reads the
//! data pages exactly where the image of a [`ArchLayout`] reads them and returns *every*
//! [`Finding`], each naming the field, the struct (`vdso_data[0]`/`[1]`) or clock base and the
//! value found, so a kernel can call it on its own pages in a debug build (it is `no_std`, needs
//! no allocator and never panics, whatever the bytes) and the `vdso check-page` command can run
//! it on a dump or a live process's pages.
//!
//! What it checks (docs/kernel-guide.md's checklist explains each finding):
//! - the page is written at all, and where the image reads it (data found on another data page
//!   instead is the "KVM clock page registered at the wrong page" mistake);
//! - the seqlock: `seq` even (odd means a write section never ended: readers spin forever) and,
//!   given a second look taken at least a tick later, advancing (a `seq` that never moves lets
//!   readers accept torn values);
//! - `clock_mode` a mode the image knows, the same in both structs; `mult` not 0 and `shift` at
//!   most 32 where the counter is used;
//! - every base the image serves written (REALTIME, MONOTONIC, BOOTTIME, TAI and both COARSE
//!   clocks in `vdso_data[0]`, MONOTONIC_RAW in `vdso_data[1]`), judged against a clock that
//!   must be at least as large, so a freshly booted page with MONOTONIC 0 is not a finding;
//! - `hrtimer_res` not 0 (a struct 4 bytes too long moves it: the word after it is shown);
//! - the clocks consistent with each other: MONOTONIC not after BOOTTIME, TAI - REALTIME a
//!   whole number of seconds, neither COARSE clock ahead of its fine clock;
//! - given the counter's value, `cycle_last` not ahead of it;
//! - a time-namespace page (page 0 with `clock_mode` TIMENS, or any page 0 when the caller says
//!   the task is in a namespace) with `seq` 1 and `clock_mode` TIMENS in both structs, and the
//!   real data checked at the namespace slot.
//!
//! - the RNG data (`vdso_rng_data`, ABI revision 2): `generation` not 0 once `is_ready` is set,
//!   on the modern profile's RNG page and on a classic row's real data page at its offset
//!   (loongarch64: its per-CPU page, after the per-CPU array).

use core::fmt;

use vdso_abi::{
    clock, clock_mode, modern, offsets, Profile, VdsoTimestamp, CS_BASES, CS_HRES_COARSE, CS_RAW,
};

use crate::config::{check_clock_mode, MAX_SHIFT};
use crate::layout::ArchLayout;

/// What the RNG rule (`generation` 0 with `is_ready` set) covers: the modern profile's RNG page
/// and, on classic rows with `getrandom`, `vdso_rng_data` on the real data page.
pub const RNG_RULE: &str = "RNG data: is_ready with generation 0 is a finding";

/// Most findings kept; more are counted in [`Findings::dropped`].
pub const MAX_FINDINGS: usize = 32;

/// What [`check_pages`] is told besides the pages.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckOptions<'a> {
    /// The counter's value, read *after* the pages were (to check `cycle_last` is not ahead).
    pub counter: Option<u64>,
    /// The same pages looked at again, at least one tick later (to check `seq` advances).
    pub later: Option<&'a [u8]>,
    /// The pages are a task's in a time namespace: page 0 must be a namespace page.
    pub timens: bool,
}

/// Why the pages could not be checked at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// The bytes given are not the layout's data pages (`data_pages * page_size` bytes).
    WrongLength {
        /// Bytes given.
        len: usize,
        /// Bytes the layout's data pages take.
        expected: usize,
    },
    /// The layout's profile is not described for its architecture.
    Profile(Profile),
    /// The layout cannot be a row's: its page size is not a power of two in 4096..=65536, or its
    /// structs do not fit its page.
    BadLayout {
        /// Its page size.
        page_size: usize,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::WrongLength { len, expected } => {
                write!(f, "{len} bytes of data pages given, but the layout's data pages are {expected} bytes")
            }
            CheckError::Profile(p) => write!(f, "the {p} layout is not described for this architecture"),
            CheckError::BadLayout { page_size } => write!(
                f,
                "a layout of {page_size}-byte pages (or whose structs do not fit its page) is no image's"
            ),
        }
    }
}

impl core::error::Error for CheckError {}

/// One thing wrong with the pages. `index` is the struct (`vdso_data[index]`), `clock` a
/// clock id whose `basetime` slot is meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The page the image reads holds nothing (all zero); `found_on` is another data page that
    /// does hold a `vdso_data` at the layout's offset (the data went to the wrong page).
    NothingWritten {
        /// The page the image reads.
        page: usize,
        /// A data page holding data instead, if any.
        found_on: Option<usize>,
    },
    /// `seq` is odd: a write section never ended (readers spin until it does).
    SeqOdd {
        /// Which struct.
        index: usize,
        /// The value.
        seq: u32,
    },
    /// `seq` did not change between two looks a tick apart: readers cannot see updates.
    SeqNotAdvancing {
        /// Which struct (MONOTONIC_RAW readers use `vdso_data[1]`'s).
        index: usize,
        /// The value both times.
        seq: u32,
    },
    /// `mask` is 0 or not of the form 2^n - 1 in a struct whose counter is used: the image
    /// computes `(counter - cycle_last) & mask`, so clocks stand still or jump.
    BadMask {
        /// Which struct.
        index: usize,
        /// The value.
        mask: u64,
    },
    /// `clock_mode` is none the image knows on a data page.
    UnknownClockMode {
        /// Which struct.
        index: usize,
        /// The value.
        mode: i32,
    },
    /// The two structs have different `clock_mode`s (Linux writes the same to both).
    ClockModesDiffer {
        /// `vdso_data[0].clock_mode`.
        hres: i32,
        /// `vdso_data[1].clock_mode`.
        raw: i32,
    },
    /// `mult` is 0 in a struct whose counter is used: every clock stands still.
    MultZero {
        /// Which struct.
        index: usize,
    },
    /// `shift` is above 32.
    ShiftTooLarge {
        /// Which struct.
        index: usize,
        /// The value.
        shift: u32,
    },
    /// A base the image serves is 0 while a clock that cannot be smaller is not: never written.
    BaseUnwritten {
        /// Which struct.
        index: usize,
        /// The clock id of the `basetime` slot.
        clock: i32,
    },
    /// `hrtimer_res` is 0: `clock_getres` answers 0 ns.
    HrtimerResZero {
        /// The word after it (`unused`): a resolution there means the kernel's struct is 4
        /// bytes longer than Linux's before `hrtimer_res`.
        next_word: u32,
    },
    /// MONOTONIC is after BOOTTIME (BOOTTIME = MONOTONIC + time suspended).
    MonotonicAfterBoottime {
        /// MONOTONIC base (seconds, shifted nanoseconds).
        monotonic: VdsoTimestamp,
        /// BOOTTIME base.
        boottime: VdsoTimestamp,
    },
    /// TAI and REALTIME differ by a fraction of a second (they differ by leap seconds only).
    TaiNotWholeSeconds {
        /// TAI's shifted nanoseconds.
        tai_nsec: u64,
        /// REALTIME's shifted nanoseconds.
        realtime_nsec: u64,
    },
    /// A COARSE clock (the time of the last tick) is ahead of its fine clock at that tick.
    CoarseAhead {
        /// The COARSE clock id.
        clock: i32,
        /// Its base (plain nanoseconds).
        coarse: VdsoTimestamp,
        /// The fine clock's base in plain nanoseconds.
        fine: VdsoTimestamp,
    },
    /// `cycle_last` is ahead of the counter read after the pages: the first reads after an
    /// update go backwards (or jump by a wrapped delta).
    CycleLastAhead {
        /// Which struct.
        index: usize,
        /// The value.
        cycle_last: u64,
        /// The counter.
        counter: u64,
    },
    /// The RNG data says the RNG is ready but `generation` is 0: getrandom's per-thread state
    /// never goes stale (modern profile, the RNG page).
    RngGenerationZero {
        /// The `is_ready` byte.
        is_ready: u8,
    },
    /// Page 0 is (or must be) a time-namespace page but a struct lacks `seq` 1 or `clock_mode`
    /// TIMENS: readers take it for data.
    BadNamespacePage {
        /// Which struct.
        index: usize,
        /// Its `seq`.
        seq: u32,
        /// Its `clock_mode`.
        mode: i32,
    },
}

/// A clock's name as Linux spells it.
pub fn clock_name(id: i32) -> &'static str {
    match id {
        clock::REALTIME => "REALTIME",
        clock::MONOTONIC => "MONOTONIC",
        clock::MONOTONIC_RAW => "MONOTONIC_RAW",
        clock::REALTIME_COARSE => "REALTIME_COARSE",
        clock::MONOTONIC_COARSE => "MONOTONIC_COARSE",
        clock::BOOTTIME => "BOOTTIME",
        clock::TAI => "TAI",
        _ => "clock",
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Finding::NothingWritten { page, found_on: None } => {
                write!(f, "data page {page} (where the image reads vdso_data) is all zero: never written")
            }
            Finding::NothingWritten { page, found_on: Some(p) } => write!(
                f,
                "data page {page} (where the image reads vdso_data) is all zero, but data page {p} holds a \
                 vdso_data: the data was registered at the wrong page"
            ),
            Finding::SeqOdd { index, seq } => write!(
                f,
                "vdso_data[{index}].seq = {seq}: odd, a write section never ended (readers spin until it does)"
            ),
            Finding::SeqNotAdvancing { index, seq } => write!(
                f,
                "vdso_data[{index}].seq = {seq} in both looks a tick apart: the seqlock never advances, so \
                 readers cannot tell a torn read"
            ),
            Finding::BadMask { index, mask } => write!(
                f,
                "vdso_data[{index}].mask = {mask:#x}: not 2^n - 1, so (counter - cycle_last) & mask loses the delta"
            ),
            Finding::UnknownClockMode { index, mode } => write!(
                f,
                "vdso_data[{index}].clock_mode = {mode}: not a mode this architecture's image serves on a data page"
            ),
            Finding::ClockModesDiffer { hres, raw } => write!(
                f,
                "vdso_data[0].clock_mode = {hres} but vdso_data[1].clock_mode = {raw}: both structs must carry \
                 the same mode (MONOTONIC_RAW reads [1]'s)"
            ),
            Finding::MultZero { index } => {
                write!(f, "vdso_data[{index}].mult = 0: counter-based clocks stand still")
            }
            Finding::ShiftTooLarge { index, shift } => {
                write!(f, "vdso_data[{index}].shift = {shift}: above {MAX_SHIFT}")
            }
            Finding::BaseUnwritten { index, clock } => write!(
                f,
                "vdso_data[{index}].basetime[{}] ({clock}) = 0 s 0 ns: never written (the image serves it from there)",
                clock_name(clock)
            ),
            Finding::HrtimerResZero { next_word: 0 } => {
                write!(f, "hrtimer_res = 0: clock_getres answers 0 ns")
            }
            Finding::HrtimerResZero { next_word } => write!(
                f,
                "hrtimer_res = 0 but the next word holds {next_word}: the kernel's struct is 4 bytes longer than \
                 Linux's before hrtimer_res"
            ),
            Finding::MonotonicAfterBoottime { monotonic, boottime } => write!(
                f,
                "vdso_data[0].basetime[MONOTONIC] = {} s {} (shifted ns) is after basetime[BOOTTIME] = {} s {}",
                monotonic.sec, monotonic.nsec, boottime.sec, boottime.nsec
            ),
            Finding::TaiNotWholeSeconds { tai_nsec, realtime_nsec } => write!(
                f,
                "vdso_data[0].basetime[TAI].nsec = {tai_nsec} but basetime[REALTIME].nsec = {realtime_nsec} \
                 (shifted): TAI - REALTIME is not a whole number of seconds"
            ),
            Finding::CoarseAhead { clock, coarse, fine } => write!(
                f,
                "vdso_data[0].basetime[{}] = {} s {} ns is ahead of the fine clock at the same tick ({} s {} ns)",
                clock_name(clock),
                coarse.sec,
                coarse.nsec,
                fine.sec,
                fine.nsec
            ),
            Finding::CycleLastAhead { index, cycle_last, counter } => write!(
                f,
                "vdso_data[{index}].cycle_last = {cycle_last} is ahead of the counter ({counter}) read after the page"
            ),
            Finding::RngGenerationZero { is_ready } => write!(
                f,
                "RNG page: generation = 0 with is_ready = {is_ready}: the RNG is ready but no generation was \
                 published, so getrandom's per-thread state never goes stale"
            ),
            Finding::BadNamespacePage { index, seq, mode } => write!(
                f,
                "namespace page: vdso_data[{index}].seq = {seq}, clock_mode = {mode}; a time-namespace page needs \
                 seq 1 and clock_mode {} (TIMENS) in both structs",
                clock_mode::TIMENS
            ),
        }
    }
}

/// Every finding of one check, in the order found (no allocation: at most [`MAX_FINDINGS`]).
#[derive(Clone, Copy, Debug)]
pub struct Findings {
    list: [Option<Finding>; MAX_FINDINGS],
    len: usize,
    dropped: usize,
}

impl Findings {
    const fn new() -> Findings {
        Findings { list: [None; MAX_FINDINGS], len: 0, dropped: 0 }
    }

    fn push(&mut self, f: Finding) {
        match self.list.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(f);
                self.len += 1;
            }
            None => self.dropped += 1,
        }
    }

    /// The findings.
    pub fn iter(&self) -> impl Iterator<Item = &Finding> {
        self.list[..self.len].iter().flatten()
    }

    /// Number of findings kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the pages passed.
    pub fn is_empty(&self) -> bool {
        self.len == 0 && self.dropped == 0
    }

    /// Findings beyond [`MAX_FINDINGS`], not kept.
    pub fn dropped(&self) -> usize {
        self.dropped
    }
}

/// Where a profile keeps each field.
#[derive(Clone, Copy)]
struct Geometry {
    /// Offsets in one clock struct of `mask`, `mult`, `shift`, `basetime[0]`.
    mask: usize,
    mult: usize,
    shift: usize,
    bases: usize,
    /// `hrtimer_res`: in `vdso_data[0]` (classic) or at this offset of the time page (modern).
    hrtimer_res_in_page: Option<usize>,
    /// The RNG page (modern).
    rng_page: Option<usize>,
}

impl Geometry {
    fn of(layout: &ArchLayout) -> Result<Geometry, CheckError> {
        match layout.profile {
            Profile::Classic => Ok(Geometry {
                mask: offsets::MASK,
                mult: offsets::MULT,
                shift: offsets::SHIFT,
                bases: offsets::BASETIME,
                hrtimer_res_in_page: None,
                rng_page: None,
            }),
            Profile::Modern => {
                let m = modern::layout(layout.arch).ok_or(CheckError::Profile(layout.profile))?;
                // x86_64's `max_cycles` follows `cycle_last` and moves everything after it.
                let extra = if m.max_cycles { 8 } else { 0 };
                Ok(Geometry {
                    mask: offsets::MASK + extra,
                    mult: offsets::MULT + extra,
                    shift: offsets::SHIFT + extra,
                    bases: offsets::BASETIME + extra,
                    hrtimer_res_in_page: Some(m.hrtimer_res_offset),
                    rng_page: Some(modern::page::RNG),
                })
            }
        }
    }
}

/// One `vdso_data` (classic) or `vdso_clock` (modern) read from bytes at the offsets the image
/// uses.
#[derive(Clone, Copy)]
struct Fields<'a> {
    bytes: &'a [u8],
    g: Geometry,
}

impl Fields<'_> {
    fn u32_at(&self, off: usize) -> u32 {
        let b = self.bytes.get(off..off + 4).unwrap_or(&[0; 4]);
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
    fn u64_at(&self, off: usize) -> u64 {
        u64::from(self.u32_at(off)) | u64::from(self.u32_at(off + 4)) << 32
    }
    fn seq(&self) -> u32 {
        self.u32_at(offsets::SEQ)
    }
    fn mode(&self) -> i32 {
        self.u32_at(offsets::CLOCK_MODE) as i32
    }
    fn cycle_last(&self) -> u64 {
        self.u64_at(offsets::CYCLE_LAST)
    }
    fn mask(&self) -> u64 {
        self.u64_at(self.g.mask)
    }
    fn mult(&self) -> u32 {
        self.u32_at(self.g.mult)
    }
    fn shift(&self) -> u32 {
        self.u32_at(self.g.shift)
    }
    fn base(&self, clock: i32) -> VdsoTimestamp {
        let at = self.g.bases + 16 * clock as usize;
        VdsoTimestamp { sec: self.u64_at(at), nsec: self.u64_at(at + 8) }
    }
    fn zero(&self) -> bool {
        self.bytes.iter().all(|&b| b == 0)
    }
}

/// The two structs of data page `page` of `pages`.
fn pair<'a>(layout: &ArchLayout, g: Geometry, pages: &'a [u8], page: usize) -> [Fields<'a>; CS_BASES] {
    let at = |i: usize| {
        let start = page * layout.page_size + layout.vdso_data_offset + i * layout.vdso_data_size;
        Fields { bytes: pages.get(start..start + layout.vdso_data_size).unwrap_or(&[]), g }
    };
    [at(CS_HRES_COARSE), at(CS_RAW)]
}

/// `len` bytes at `off` of data page `page` as a little-endian number (0 outside the bytes).
fn page_word(layout: &ArchLayout, pages: &[u8], page: usize, off: usize, len: usize) -> u64 {
    let start = page * layout.page_size + off;
    let b = pages.get(start..start + len).unwrap_or(&[]);
    b.iter().rev().fold(0, |acc, &x| acc << 8 | u64::from(x))
}

/// Each served base, the struct it is in, and a base (struct, clock) that cannot be smaller:
/// a base is unwritten when it is 0 while that one is a second or more.
const SERVED_BASES: [(usize, i32, usize, i32); 7] = [
    (CS_HRES_COARSE, clock::REALTIME, CS_HRES_COARSE, clock::MONOTONIC),
    (CS_HRES_COARSE, clock::MONOTONIC, CS_RAW, clock::MONOTONIC_RAW),
    (CS_HRES_COARSE, clock::BOOTTIME, CS_HRES_COARSE, clock::MONOTONIC),
    (CS_HRES_COARSE, clock::TAI, CS_HRES_COARSE, clock::REALTIME),
    (CS_HRES_COARSE, clock::REALTIME_COARSE, CS_HRES_COARSE, clock::REALTIME),
    (CS_HRES_COARSE, clock::MONOTONIC_COARSE, CS_HRES_COARSE, clock::MONOTONIC),
    (CS_RAW, clock::MONOTONIC_RAW, CS_HRES_COARSE, clock::MONOTONIC),
];

/// Each COARSE clock and the fine clock it is the last tick of.
const COARSE_OF: [(i32, i32); 2] =
    [(clock::REALTIME_COARSE, clock::REALTIME), (clock::MONOTONIC_COARSE, clock::MONOTONIC)];

/// Checks the data pages `pages` (all `layout.data_pages` of them, as mapped before the image)
/// and returns every finding; empty when the image would serve every clock correctly from them.
pub fn check_pages(
    layout: &ArchLayout,
    pages: &[u8],
    opts: &CheckOptions<'_>,
) -> Result<Findings, CheckError> {
    let g = Geometry::of(layout)?;
    // A layout a row can have: then every offset below stays far inside `usize`.
    let ps = layout.page_size;
    let fits = layout.vdso_data_offset.checked_add(layout.vdso_data_size.saturating_mul(CS_BASES));
    if layout.with_page_size(ps).is_none()
        || fits.is_none_or(|end| end > ps)
        || layout.data_pages > 64
        || layout.vvar_page >= layout.data_pages
        || layout.timens_page >= layout.data_pages
    {
        return Err(CheckError::BadLayout { page_size: ps });
    }
    let expected = layout.data_pages * layout.page_size;
    for len in [Some(pages.len()), opts.later.map(<[u8]>::len)].into_iter().flatten() {
        if len != expected {
            return Err(CheckError::WrongLength { len, expected });
        }
    }
    let mut out = Findings::new();

    // Page 0: the data, or a time-namespace page sending readers to the slot.
    let page0 = pair(layout, g, pages, layout.vvar_page);
    let is_ns = page0[CS_HRES_COARSE].mode() == clock_mode::TIMENS;
    let real_page = if is_ns || opts.timens { layout.timens_page } else { layout.vvar_page };
    if is_ns || opts.timens {
        for (index, vd) in page0.iter().enumerate() {
            if vd.seq() != 1 || vd.mode() != clock_mode::TIMENS {
                out.push(Finding::BadNamespacePage { index, seq: vd.seq(), mode: vd.mode() });
            }
        }
    }

    // The RNG data (modern): ready with no generation published.
    if let Some(rng) = g.rng_page {
        let generation = page_word(layout, pages, rng, 0, 8);
        let is_ready = page_word(layout, pages, rng, modern::RNG_IS_READY, 1) as u8;
        if generation == 0 && is_ready != 0 {
            out.push(Finding::RngGenerationZero { is_ready });
        }
    }

    let vd = pair(layout, g, pages, real_page);
    if vd.iter().all(Fields::zero) {
        let found_on = (0..layout.data_pages)
            .filter(|&p| p != real_page && !(p == layout.vvar_page && (is_ns || opts.timens)))
            .filter(|&p| Some(p) != g.rng_page)
            .find(|&p| !pair(layout, g, pages, p)[CS_HRES_COARSE].zero());
        out.push(Finding::NothingWritten { page: real_page, found_on });
        return Ok(out);
    }

    for (index, v) in vd.iter().enumerate() {
        if v.seq() & 1 == 1 {
            out.push(Finding::SeqOdd { index, seq: v.seq() });
        }
    }
    if let Some(later) = opts.later {
        for (index, (now, then)) in pair(layout, g, later, real_page).iter().zip(&vd).enumerate() {
            if now.seq() == then.seq() {
                out.push(Finding::SeqNotAdvancing { index, seq: now.seq() });
            }
        }
    }

    let mut modes_known = true;
    for (index, v) in vd.iter().enumerate() {
        // Paravirtual clock modes exist on the architectures whose row says so (x86_64); the
        // image elsewhere serves only the architecture's counter.
        let paravirt = matches!(v.mode(), clock_mode::PVCLOCK | clock_mode::HVCLOCK);
        if check_clock_mode(v.mode()).is_err() || (paravirt && !layout.arch.info().paravirt_clocks) {
            out.push(Finding::UnknownClockMode { index, mode: v.mode() });
            modes_known = false;
        }
    }
    let (hres, raw) = (vd[CS_HRES_COARSE].mode(), vd[CS_RAW].mode());
    if modes_known && hres != raw {
        out.push(Finding::ClockModesDiffer { hres, raw });
    }
    for (index, v) in vd.iter().enumerate() {
        if v.mode() == clock_mode::NONE {
            continue; // the counter is not used: mult, shift and cycle_last do not matter
        }
        if v.mult() == 0 {
            out.push(Finding::MultZero { index });
        }
        if v.shift() > MAX_SHIFT {
            out.push(Finding::ShiftTooLarge { index, shift: v.shift() });
        }
        if v.mask() == 0 || v.mask() & v.mask().wrapping_add(1) != 0 {
            out.push(Finding::BadMask { index, mask: v.mask() });
        }
        // Only the architecture's counter is the one the caller read (pvclock's is not).
        if let (Some(counter), clock_mode::ARCH) = (opts.counter, v.mode()) {
            // The image computes `(counter - cycle_last) & mask`: ahead means that wraps.
            let back = v.cycle_last().wrapping_sub(counter) & v.mask();
            if back != 0 && back <= v.mask() >> 1 {
                out.push(Finding::CycleLastAhead { index, cycle_last: v.cycle_last(), counter });
            }
        }
    }

    // The RNG data (classic rows with getrandom): on the real data page at the row's offset,
    // or where the row puts it on a page a namespace does not swap (loongarch64's per-CPU page).
    if let (None, Some(offset)) = (g.rng_page, layout.rng_data_offset) {
        let at = if layout.rng_follows_timens {
            real_page * layout.page_size + offset % layout.page_size
        } else {
            offset
        };
        let word = |o: usize| {
            pages.get(at + o..at + o + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        };
        let (generation, ready) = (word(0).unwrap_or(0), word(8).unwrap_or(0) as u8);
        if ready != 0 && generation == 0 {
            out.push(Finding::RngGenerationZero { is_ready: ready });
        }
    }

    let h = vd[CS_HRES_COARSE];
    let (res, next_word) = match g.hrtimer_res_in_page {
        None => (h.u32_at(offsets::HRTIMER_RES), h.u32_at(offsets::HRTIMER_RES + 4)),
        Some(at) => (
            page_word(layout, pages, real_page, at, 4) as u32,
            page_word(layout, pages, real_page, at + 4, 4) as u32,
        ),
    };
    if res == 0 {
        out.push(Finding::HrtimerResZero { next_word });
    }

    let is_zero = |t: VdsoTimestamp| t.sec == 0 && t.nsec == 0;
    let mut unwritten = [false; clock::VDSO_BASES];
    for (index, id, ref_index, ref_id) in SERVED_BASES {
        if is_zero(vd[index].base(id)) && vd[ref_index].base(ref_id).sec >= 1 {
            out.push(Finding::BaseUnwritten { index, clock: id });
            unwritten[id as usize] = true;
        }
    }
    let written = |id: i32| !unwritten[id as usize];

    let (mono, boot) = (h.base(clock::MONOTONIC), h.base(clock::BOOTTIME));
    if written(clock::MONOTONIC) && written(clock::BOOTTIME) && (mono.sec, mono.nsec) > (boot.sec, boot.nsec)
    {
        out.push(Finding::MonotonicAfterBoottime { monotonic: mono, boottime: boot });
    }
    let (tai, real) = (h.base(clock::TAI), h.base(clock::REALTIME));
    if written(clock::TAI) && written(clock::REALTIME) && tai.nsec != real.nsec {
        out.push(Finding::TaiNotWholeSeconds { tai_nsec: tai.nsec, realtime_nsec: real.nsec });
    }
    // The fine clocks' nanoseconds are only known with a valid shift (a finding of its own).
    let shift = h.shift();
    for (coarse_id, fine_id) in COARSE_OF.into_iter().filter(|_| shift <= MAX_SHIFT) {
        let (coarse, fine) = (h.base(coarse_id), h.base(fine_id));
        let fine = VdsoTimestamp { sec: fine.sec, nsec: fine.nsec >> shift };
        // Seconds are two's complement on the page: compare them as the signed values readers get.
        if written(coarse_id)
            && written(fine_id)
            && (coarse.sec as i64, coarse.nsec) > (fine.sec as i64, fine.nsec)
        {
            out.push(Finding::CoarseAhead { clock: coarse_id, coarse, fine });
        }
    }
    Ok(out)
}
