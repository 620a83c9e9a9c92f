//! What the benchmark and the instruction counter share: the three ways to get the time (our
//! image mapped by the kernel stub, the host kernel's own vDSO, the raw syscall), resolved to
//! plain function pointers so every variant is called the same way, through a pointer.
#![allow(dead_code)]

use std::fs;

use linux_vdso::Image;
use vdso_kernel_stub::symbols::DynImage;
use vdso_kernel_stub::MappedVdso;

pub type Ts = libc::timespec;
pub type ClockFn = unsafe extern "C" fn(i32, *mut Ts) -> i32;
pub type TodFn = unsafe extern "C" fn(*mut libc::timeval, *mut libc::c_void) -> i32;
pub type TimeFn = unsafe extern "C" fn(*mut i64) -> i64;
pub type CpuFn = unsafe extern "C" fn(*mut u32, *mut u32, *mut libc::c_void) -> i32;
/// `ssize_t getrandom(void *, size_t, unsigned, void *opaque_state, size_t opaque_len)`.
pub type GetrandomFn = unsafe extern "C" fn(*mut u8, usize, u32, *mut u8, usize) -> isize;

/// The entry points of one vDSO image.
#[derive(Clone, Copy)]
pub struct Entry {
    pub clock_gettime: ClockFn,
    pub clock_getres: ClockFn,
    pub gettimeofday: TodFn,
    pub time: Option<TimeFn>,
    /// The image's `getcpu`, or the raw syscall where it has none (aarch64).
    pub getcpu: CpuFn,
    /// Whether `getcpu` is the image's own (false: the syscall stands in).
    pub has_getcpu: bool,
    /// The image's `getrandom`, if it exports one (Linux 6.11+; ours since ABI revision 2).
    pub getrandom: Option<GetrandomFn>,
}

/// Resolves the entry points of an image mapped at `mem` (its ELF header first).
///
/// # Safety
/// `mem` must be the whole mapped image, executable, alive while the pointers are used.
/// `prefix` is the architecture's (`__vdso_`, aarch64's `__kernel_`).
pub unsafe fn resolve(mem: &[u8], version: &str, prefix: &str) -> Result<Entry, String> {
    let img = DynImage::parse(mem).map_err(|e| format!("parsing the image: {e:?}"))?;
    let get = |base: &str| {
        let name = format!("{prefix}{base}");
        img.lookup(&name, version).map(|s| img.address(&s)).map_err(|e| format!("{name}: {e:?}"))
    };
    // SAFETY: the addresses are the image's functions, whose C prototypes these types match.
    unsafe {
        Ok(Entry {
            clock_gettime: std::mem::transmute::<usize, ClockFn>(get("clock_gettime")?),
            clock_getres: std::mem::transmute::<usize, ClockFn>(get("clock_getres")?),
            gettimeofday: std::mem::transmute::<usize, TodFn>(get("gettimeofday")?),
            time: get("time").ok().map(|a| std::mem::transmute::<usize, TimeFn>(a)),
            getcpu: get("getcpu").map(|a| std::mem::transmute::<usize, CpuFn>(a)).unwrap_or(sys_getcpu),
            has_getcpu: get("getcpu").is_ok(),
            getrandom: get("getrandom").ok().map(|a| std::mem::transmute::<usize, GetrandomFn>(a)),
        })
    }
}

/// Our native image mapped with its data pages.
pub fn map_ours() -> (MappedVdso, Entry) {
    let image = Image::native().expect("an architecture of the table");
    let mapped =
        MappedVdso::map(image.bytes(), vdso_kernel_stub::ArchLayout::native()).expect("map our image");
    // SAFETY: the mapping holds the whole image and lives as long as the returned `MappedVdso`.
    let (version, prefix) = (image.arch().version_node(), image.arch().info().symbol_prefix);
    // SAFETY: as above.
    let entry = unsafe { resolve(mapped.image(), version, prefix) }.expect("resolve ours");
    (mapped, entry)
}

/// Address range of a line of `/proc/self/maps` ending in `name`.
pub fn maps_range(name: &str) -> Option<(usize, usize)> {
    let maps = fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().filter(|l| l.trim_end().ends_with(name)).find_map(|l| {
        let (lo, hi) = l.split_whitespace().next()?.split_once('-')?;
        Some((usize::from_str_radix(lo, 16).ok()?, usize::from_str_radix(hi, 16).ok()?))
    })
}

/// The host kernel's own vDSO (`AT_SYSINFO_EHDR`), if this process has one.
pub fn host() -> Option<Entry> {
    // SAFETY: getauxval only reads the auxiliary vector.
    let base = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) } as usize;
    if base == 0 {
        return None;
    }
    let (lo, hi) = maps_range("[vdso]")?;
    if lo != base {
        return None;
    }
    // SAFETY: the kernel maps the vDSO readable and executable for the life of the process.
    let mem = unsafe { std::slice::from_raw_parts(base as *const u8, hi - lo) };
    // SAFETY: as above.
    unsafe { resolve(mem, "LINUX_2.6", "__vdso_") }.ok()
}

/// A libc `syscall()` result in the vDSO convention: 0 or a negative errno.
fn neg_errno(r: libc::c_long) -> libc::c_long {
    if r == -1 {
        -(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL) as libc::c_long)
    } else {
        r
    }
}

/// `clock_gettime` as a raw syscall, with the vDSO calling convention.
pub unsafe extern "C" fn sys_clock_gettime(clock: i32, ts: *mut Ts) -> i32 {
    // SAFETY: the kernel validates the pointer.
    neg_errno(unsafe { libc::syscall(libc::SYS_clock_gettime, clock as libc::c_long, ts) }) as i32
}

/// `gettimeofday` as a raw syscall.
pub unsafe extern "C" fn sys_gettimeofday(tv: *mut libc::timeval, tz: *mut libc::c_void) -> i32 {
    // SAFETY: the kernel validates the pointers.
    neg_errno(unsafe { libc::syscall(libc::SYS_gettimeofday, tv, tz) }) as i32
}

/// `clock_getres` as a raw syscall.
pub unsafe extern "C" fn sys_clock_getres(clock: i32, ts: *mut Ts) -> i32 {
    // SAFETY: the kernel validates the pointer.
    neg_errno(unsafe { libc::syscall(libc::SYS_clock_getres, clock as libc::c_long, ts) }) as i32
}

/// `getcpu` as a raw syscall.
pub unsafe extern "C" fn sys_getcpu(cpu: *mut u32, node: *mut u32, t: *mut libc::c_void) -> i32 {
    // SAFETY: the kernel validates the pointers.
    neg_errno(unsafe { libc::syscall(libc::SYS_getcpu, cpu, node, t) }) as i32
}

/// `time` as a raw syscall (x86_64 has one).
#[cfg(target_arch = "x86_64")]
pub unsafe extern "C" fn sys_time(t: *mut i64) -> i64 {
    // SAFETY: the kernel validates the pointer.
    neg_errno(unsafe { libc::syscall(libc::SYS_time, t) })
}

/// `getrandom` as a raw syscall, shaped like the vDSO's (the state is ignored).
pub unsafe extern "C" fn sys_getrandom(buf: *mut u8, len: usize, flags: u32, _: *mut u8, _: usize) -> isize {
    // SAFETY: the kernel validates the buffer.
    neg_errno(unsafe { libc::syscall(libc::SYS_getrandom, buf, len, flags) }) as isize
}

/// One `getrandom` state allocated as `f`'s query says (`MAP_DROPPABLE` where the kernel has it,
/// private anonymous memory under qemu-user 7.2, which refuses the flag), leaked: the
/// measurement lives as long as the process. Returns the state and its length.
pub fn getrandom_state(f: GetrandomFn) -> (*mut u8, usize) {
    let mut params = [0u32; 16];
    // SAFETY: query mode writes the 64-byte parameters only.
    let r = unsafe { f(std::ptr::null_mut(), 0, 0, params.as_mut_ptr().cast(), usize::MAX) };
    assert_eq!(r, 0, "getrandom query");
    let (size, prot, flags) = (params[0] as usize, params[1] as i32, params[2] as i32);
    // SAFETY: a fresh anonymous mapping of one page (a state never straddles a page).
    let mut p = unsafe { libc::mmap(std::ptr::null_mut(), 4096, prot, flags, -1, 0) };
    if p == libc::MAP_FAILED {
        // SAFETY: as above.
        p = unsafe {
            libc::mmap(std::ptr::null_mut(), 4096, prot, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        };
    }
    assert_ne!(p, libc::MAP_FAILED, "mmap a getrandom state");
    (p.cast(), size)
}

/// Whether the CPU has RDPID (CPUID leaf 7, ECX bit 22), which our getcpu's mode 1 needs.
#[cfg(target_arch = "x86_64")]
pub fn has_rdpid() -> bool {
    // CPUID is available on every x86_64 CPU; leaf 7 exists when leaf 0 says so.
    core::arch::x86_64::__cpuid(0).eax >= 7 && core::arch::x86_64::__cpuid_count(7, 0).ecx & (1 << 22) != 0
}
