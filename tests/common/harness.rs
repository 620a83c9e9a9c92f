//! The native image mapped by the kernel stub, with its functions resolved through the image's
//! own dynamic tables (as a libc does), plus host-clock helpers.
#![allow(dead_code)]

use linux_vdso::Image;
use vdso_kernel_stub::{Arch, ArchLayout, MapOptions, MappedVdso, NativeArchData, TimensOffsets, Variant};

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
