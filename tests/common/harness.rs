//! The native image mapped by the kernel stub, with its functions resolved through the image's
//! own dynamic tables (as a libc does), plus host-clock helpers.
#![allow(dead_code)]

use linux_vdso::Image;
use vdso_kernel_stub::modern::MaxCycles;
use vdso_kernel_stub::{
    Arch, ArchLayout, MapOptions, MappedVdso, NativeArchData, Profile, RngWriter, TimensOffsets, Variant,
};

/// `struct timespec`.
pub type Ts = libc::timespec;
/// `int clock_gettime(clockid_t, struct timespec *)`.
pub type ClockGettime = unsafe extern "C" fn(i32, *mut Ts) -> i32;
/// `int gettimeofday(struct timeval *, struct timezone *)`.
pub type Gettimeofday = unsafe extern "C" fn(*mut libc::timeval, *mut Timezone) -> i32;
/// `time_t time(time_t *)`.
pub type Time = unsafe extern "C" fn(*mut i64) -> i64;
/// `int getcpu(unsigned *, unsigned *, void *)`.
pub type Getcpu = unsafe extern "C" fn(*mut u32, *mut u32, *mut u8) -> i32;

/// `struct timezone`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timezone {
    pub minuteswest: i32,
    pub dsttime: i32,
}

/// The version node of the native image.
pub fn version() -> &'static str {
    Image::native().expect("native arch").arch().version_node()
}

/// The native image, mapped, with its entry points.
pub struct Vdso {
    /// The row of the variant table mapped.
    pub variant: &'static Variant,
    pub mapped: MappedVdso,
    pub clock_gettime: ClockGettime,
    pub clock_getres: ClockGettime,
    pub gettimeofday: Gettimeofday,
    /// `getcpu`, where the architecture exports one (not aarch64).
    pub getcpu: Option<Getcpu>,
}

/// Every row of the variant table this process can map with the kernel stub's writer: the native
/// architecture's rows of the host's page size (classic, and modern where the arch has a modern
/// row), default first. Behavioural tests loop over these so each profile's writer and image
/// face the same checks.
pub fn variants() -> Vec<&'static Variant> {
    let arch = Arch::native().expect("native arch");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let mut rows: Vec<&'static Variant> = Variant::of_arch(arch).filter(|v| v.page_size == page).collect();
    rows.sort_by_key(|v| !v.default);
    assert!(!rows.is_empty(), "no {arch:?} image for {page}-byte pages");
    rows
}

impl Vdso {
    /// Maps the native default image with plain data pages.
    pub fn map() -> Vdso {
        Vdso::map_variant(Variant::default_for(Arch::native().expect("native arch")))
    }

    /// Maps the native default image as for a task in a time namespace.
    pub fn map_timens(offsets: TimensOffsets) -> Vdso {
        Vdso::map_variant_timens(Variant::default_for(Arch::native().expect("native arch")), offsets)
    }

    /// Maps the image of `variant` (a row of [`variants`]) with plain data pages.
    pub fn map_variant(variant: &'static Variant) -> Vdso {
        Vdso::map_with(variant, MapOptions::new(ArchLayout::of_variant(variant)))
    }

    /// Maps the image of `variant` as for a task in a time namespace.
    pub fn map_variant_timens(variant: &'static Variant, offsets: TimensOffsets) -> Vdso {
        Vdso::map_with(variant, MapOptions::new(ArchLayout::of_variant(variant)).timens(offsets))
    }

    fn map_with(variant: &'static Variant, options: MapOptions) -> Vdso {
        let image = Image::of(variant);
        let mapped = MappedVdso::map_with(image.bytes(), options).expect("map the image");
        let v = version();
        let name = |base: &str| format!("{}{base}", image.arch().info().symbol_prefix);
        let exported = |base: &str| image.symbol(&name(base)).is_some();
        // SAFETY: each type matches the C prototype of the symbol (ABI.md section 5); the
        // pointers are used only while `mapped` lives (they are fields of the same struct).
        unsafe {
            Vdso {
                clock_gettime: mapped.resolve(&name("clock_gettime"), v).expect("clock_gettime"),
                clock_getres: mapped.resolve(&name("clock_getres"), v).expect("clock_getres"),
                gettimeofday: mapped.resolve(&name("gettimeofday"), v).expect("gettimeofday"),
                getcpu: exported("getcpu").then(|| mapped.resolve(&name("getcpu"), v).expect("getcpu")),
                variant,
                mapped,
            }
        }
    }

    /// `__vdso_time` (x86_64 only: riscv64 Linux exports no `time` from its vDSO).
    #[cfg(target_arch = "x86_64")]
    pub fn time(&self) -> Time {
        // SAFETY: the prototype matches; used while `self` lives.
        unsafe { self.mapped.resolve("__vdso_time", "LINUX_2.6").expect("time") }
    }

    /// The image's `clock_gettime`: return value and time.
    pub fn gettime(&self, clock: i32) -> (i32, Ts) {
        let mut ts = ts_zero();
        // SAFETY: a valid timespec; the image is mapped.
        let r = unsafe { (self.clock_gettime)(clock, &mut ts) };
        (r, ts)
    }

    /// The image's `clock_getres`.
    pub fn getres(&self, clock: i32) -> (i32, Ts) {
        let mut ts = Ts { tv_sec: -7, tv_nsec: -7 };
        // SAFETY: a valid timespec; the image is mapped.
        let r = unsafe { (self.clock_getres)(clock, &mut ts) };
        (r, ts)
    }

    /// The single writer of the real data page.
    pub fn writer(&self) -> vdso_kernel_stub::mapping::DataWriter<NativeArchData> {
        self.mapped.writer::<NativeArchData>().expect("writer")
    }

    /// The single writer of the mapping's pages, whichever profile it has (for what both
    /// profiles' writers do alike, e.g. the RNG data).
    pub fn page_writer(&self) -> PageWriter {
        match self.variant.profile {
            Profile::Classic => PageWriter::Classic(Box::new(self.writer())),
            Profile::Modern => PageWriter::Modern(self.mapped.time_page_writer().expect("writer")),
        }
    }
}

/// A profile's writer of a mapping ([`Vdso::page_writer`]).
pub enum PageWriter {
    /// `struct vdso_data` pages, with the RNG data on the real data page.
    Classic(Box<vdso_kernel_stub::mapping::DataWriter<NativeArchData>>),
    /// Linux 6.18's time page, with the RNG page beside it.
    Modern(vdso_kernel_stub::mapping::TimePageWriter),
}

/// The classic pair (`vdso_data[CS_HRES_COARSE]`, `vdso_data[CS_RAW]`), the view through which
/// [`PageWriter::update`] edits either profile's page.
pub type ClassicPair = [linux_vdso::abi::VdsoData<NativeArchData>; 2];
/// The native architecture's modern time page.
pub type ModernTimeData = linux_vdso::abi::modern::native::TimeData;
/// The native architecture's modern `vdso_clock` (one auxiliary clock's struct).
pub type ModernClock = linux_vdso::abi::modern::native::Clock;

impl PageWriter {
    /// The writer of `vdso_rng_data` (`None` where the image has no `getrandom`).
    pub fn rng(&mut self) -> Option<&mut RngWriter> {
        match self {
            PageWriter::Classic(w) => w.rng(),
            PageWriter::Modern(w) => w.rng(),
        }
    }

    /// Edits the page's time fields by hand through the classic pair's view, and publishes them
    /// under the seqlock. A modern page carries the same values in its own fields: each struct's
    /// clock fields in the matching `vdso_clock` (x86_64's `max_cycles` set for its conversion,
    /// as the kernel stub's modern writer sets it), the first struct's `tz` and `hrtimer_res` in
    /// the page's own fields, so one edit gives both profiles' images the same answers.
    pub fn update(&mut self, f: impl FnOnce(&mut ClassicPair)) {
        match self {
            PageWriter::Classic(w) => w.update(f),
            PageWriter::Modern(w) => w
                .update(|td: &mut ModernTimeData| {
                    let mut pair = ClassicPair::default();
                    for (vd, c) in pair.iter_mut().zip(&td.clock_data) {
                        (vd.clock_mode, vd.cycle_last, vd.mask, vd.mult, vd.shift, vd.bases) =
                            (c.clock_mode, c.cycle_last, c.mask, c.mult, c.shift, c.bases);
                    }
                    (pair[0].tz_minuteswest, pair[0].tz_dsttime, pair[0].hrtimer_res) =
                        (td.tz_minuteswest, td.tz_dsttime, td.hrtimer_res);
                    f(&mut pair);
                    for (c, vd) in td.clock_data.iter_mut().zip(&pair) {
                        (c.clock_mode, c.cycle_last, c.mask, c.mult, c.shift, c.bases) =
                            (vd.clock_mode, vd.cycle_last, vd.mask, vd.mult, vd.shift, vd.bases);
                        c.max_cycles = MaxCycles::for_conversion(vd.mult, vd.shift);
                    }
                    (td.tz_minuteswest, td.tz_dsttime, td.hrtimer_res) =
                        (pair[0].tz_minuteswest, pair[0].tz_dsttime, pair[0].hrtimer_res);
                })
                .expect("the native modern time page type"),
        }
    }

    /// Edits the modern page's auxiliary clocks (`CLOCK_AUX + i`) by hand, each published under
    /// its own `seq`; `None` for a classic page, which has none.
    pub fn update_aux(
        &mut self,
        f: impl FnOnce(&mut [ModernClock; linux_vdso::abi::modern::MAX_AUX_CLOCKS]),
    ) -> Option<()> {
        match self {
            PageWriter::Classic(_) => None,
            PageWriter::Modern(w) => {
                w.update(|td: &mut ModernTimeData| f(&mut td.aux_clock_data))
                    .expect("the native modern time page type");
                Some(())
            }
        }
    }
}

pub fn ts_zero() -> Ts {
    Ts { tv_sec: 0, tv_nsec: 0 }
}

/// The host kernel's `clock_gettime` as a raw syscall (never a vDSO): return value and time.
pub fn sys_gettime(clock: i32) -> (i32, Ts) {
    let mut ts = ts_zero();
    // SAFETY: a valid timespec pointer.
    let r = unsafe { libc::syscall(libc::SYS_clock_gettime, clock as libc::c_long, &mut ts as *mut Ts) };
    let r = if r == -1 { -std::io::Error::last_os_error().raw_os_error().unwrap_or(0) } else { r as i32 };
    (r, ts)
}

/// The host kernel's `clock_getres` as a raw syscall.
pub fn sys_getres(clock: i32) -> (i32, Ts) {
    let mut ts = Ts { tv_sec: -7, tv_nsec: -7 };
    // SAFETY: a valid timespec pointer.
    let r = unsafe { libc::syscall(libc::SYS_clock_getres, clock as libc::c_long, &mut ts as *mut Ts) };
    let r = if r == -1 { -std::io::Error::last_os_error().raw_os_error().unwrap_or(0) } else { r as i32 };
    (r, ts)
}

/// Nanoseconds of a timespec.
pub fn ns(ts: &Ts) -> i128 {
    ts.tv_sec as i128 * 1_000_000_000 + ts.tv_nsec as i128
}

/// Whether a timespec is normalised.
pub fn normalised(ts: &Ts) -> bool {
    (0..1_000_000_000).contains(&ts.tv_nsec)
}
