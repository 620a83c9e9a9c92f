//! Running an image on the host kernel's own live data pages (`vdso run --host-data`).
//!
//! Since Linux 6.15 a process's data pages are the special mappings `[vvar]` (time page,
//! time-namespace slot, RNG page, arch pages) and, on x86_64, `[vvar_vclock]` (paravirtual and
//! Hyper-V clock pages), laid out as the modern profile of docs/abi.md says. A process may move
//! them with `mremap` (checkpoint/restore tools do) and the kernel keeps updating them where they
//! land. Moved directly before a modern-profile image, they make that image read the host
//! kernel's own time data: no writer of ours at all.
//!
//! Facts measured on Linux 6.18.44 x86_64 (docs/launcher.md, "Host data"): the moved pages stay
//! live (`seq` and `cycle_last` advance); the time-namespace slot and x86_64's arch and Hyper-V
//! pages are unbacked outside a time namespace (reading them raises SIGBUS), so the image may
//! only touch the namespace slot when page 0 says TIMENS; inside a namespace (`unshare -T`) page 0
//! is the namespace page and page 1 the real one, and moving works the same; an `mseal`ed
//! `[vvar]` cannot be moved (`mremap` fails with EPERM). Once moved, the process's own kernel
//! vDSO reads at the old place and faults, so a process that moved them calls no libc clock
//! function afterwards (the launcher jumps to the program; tests use raw syscalls).
//!
//! A host whose pages the image does not speak is refused before anything moves ([`check`]):
//! another architecture, another page size, a kernel older than the layout, mappings of other
//! sizes or names, sealed mappings, or a time page whose fields do not look like Linux's.

use std::ops::Range;

use vdso_kernel_stub::{Arch, Profile, Variant};

use crate::error::Error;

/// What the host must map for an image of the modern profile, from the architecture's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostLayout {
    /// The image's architecture.
    pub arch: Arch,
    /// The special mappings, in address order, with their page counts (`[vvar]` 4,
    /// `[vvar_vclock]` 2 on x86_64); together they are the image's data pages.
    pub mappings: &'static [(&'static str, usize)],
    /// Page size of the image's layout.
    pub page_size: usize,
    /// The oldest Linux release laying the pages out so (major, minor).
    pub min_kernel: (u32, u32),
    /// Offset of `hrtimer_res` in the time page (sanity check of the live page).
    pub hrtimer_res_offset: usize,
}

impl HostLayout {
    /// The layout a modern-profile image of `arch` expects the host to have, if the project
    /// builds one and its host side has been checked on a live kernel (x86_64, Linux 6.18).
    pub fn of(arch: Arch) -> Option<HostLayout> {
        let v = Variant::of_arch(arch).find(|v| v.profile == Profile::Modern)?;
        let m = vdso_abi::modern::layout(arch).filter(|m| m.host_checked)?;
        Some(HostLayout {
            arch,
            mappings: m.host_mappings,
            page_size: v.page_size,
            min_kernel: vdso_abi::modern::MIN_KERNEL,
            hrtimer_res_offset: m.hrtimer_res_offset,
        })
    }

    /// The image row that reads this layout.
    pub fn variant(&self) -> &'static Variant {
        Variant::find(self.arch, Profile::Modern, self.page_size)
            .expect("HostLayout::of only builds layouts of existing rows")
    }

    /// Pages of data before the image: every mapping's pages.
    pub fn data_pages(&self) -> usize {
        self.mappings.iter().map(|m| m.1).sum()
    }
}

/// One special mapping of the host as `/proc/self/maps` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostMapping {
    /// Its name (`[vvar]`).
    pub name: String,
    /// Its addresses.
    pub range: Range<usize>,
    /// `mseal`ed (`sl` in `/proc/self/smaps`'s `VmFlags`).
    pub sealed: bool,
}

/// Parses the `[vvar*]` mappings out of `/proc/PID/smaps` text (ranges from the header lines,
/// sealing from each one's `VmFlags`).
pub fn parse_smaps(text: &str) -> Vec<HostMapping> {
    let mut out: Vec<HostMapping> = Vec::new();
    let mut current: Option<usize> = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            if let Some(i) = current.take() {
                out[i].sealed = flags.split_whitespace().any(|f| f == "sl");
            }
            continue;
        }
        let Some((lo, hi)) = first.split_once('-') else { continue };
        let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16)) else {
            continue;
        };
        current = None;
        if let Some(name) = line.split_whitespace().nth(5).filter(|n| n.starts_with("[vvar")) {
            current = Some(out.len());
            out.push(HostMapping { name: name.to_string(), range: lo..hi, sealed: false });
        }
    }
    out
}

/// Parses `major.minor` from a kernel release string (`6.18.44-fc-v1045`).
pub fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The facts about the host [`check`] judges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFacts {
    /// The machine the launcher runs on.
    pub arch: Option<Arch>,
    /// `uname -r`.
    pub release: String,
    /// `sysconf(_SC_PAGESIZE)`.
    pub page_size: usize,
    /// The `[vvar*]` mappings, in address order.
    pub mappings: Vec<HostMapping>,
}

impl HostFacts {
    /// This process's host.
    pub fn read() -> Result<HostFacts, Error> {
        let smaps = std::fs::read_to_string("/proc/self/smaps")
            .map_err(|e| Error::setup(format!("--host-data: reading /proc/self/smaps: {e}")))?;
        let mut mappings = parse_smaps(&smaps);
        mappings.sort_by_key(|m| m.range.start);
        // SAFETY: `uname` fills the zeroed struct; its fields are NUL-terminated.
        let release = unsafe {
            let mut u: libc::utsname = core::mem::zeroed();
            if libc::uname(&mut u) != 0 {
                return Err(Error::setup("--host-data: uname failed".to_string()));
            }
            std::ffi::CStr::from_ptr(u.release.as_ptr()).to_string_lossy().into_owned()
        };
        // SAFETY: a plain query.
        let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        Ok(HostFacts { arch: Arch::native(), release, page_size, mappings })
    }
}

/// Whether an image of `layout` can run on the host `facts` describe; the refusal says why.
pub fn check(layout: &HostLayout, facts: &HostFacts) -> Result<(), Error> {
    let refuse = |why: String| Err(Error::cannot_execute(format!("--host-data: {why}")));
    if facts.arch != Some(layout.arch) {
        let host = facts.arch.map_or("an architecture without an image", |a| a.info().name);
        return refuse(format!(
            "the host is {host}, the image is {}: the host's pages can only serve an image of its own \
             architecture",
            layout.arch.info().name
        ));
    }
    if facts.page_size != layout.page_size {
        return refuse(format!(
            "the host's pages are {} bytes, the image's layout is for {}-byte pages",
            facts.page_size, layout.page_size
        ));
    }
    match parse_release(&facts.release) {
        Some(v) if v >= layout.min_kernel => {}
        _ => {
            return refuse(format!(
                "the host runs Linux {}; its data pages follow Linux {}.{}+'s layout only from that \
                 release on",
                facts.release, layout.min_kernel.0, layout.min_kernel.1
            ))
        }
    }
    let names: Vec<&str> = facts.mappings.iter().map(|m| m.name.as_str()).collect();
    let wanted: Vec<&str> = layout.mappings.iter().map(|m| m.0).collect();
    if names != wanted {
        return refuse(format!(
            "the host maps {names:?}, the image's layout needs {wanted:?} (qemu-user gives guests no vDSO \
             pages at all)"
        ));
    }
    let mut end = None;
    for (m, (name, pages)) in facts.mappings.iter().zip(layout.mappings) {
        let have = m.range.len() / layout.page_size;
        if have != *pages || m.range.len() % layout.page_size != 0 {
            return refuse(format!("the host's {name} is {have} pages, the image's layout has {pages}"));
        }
        if m.sealed {
            return refuse(format!(
                "the host's {name} is sealed (mseal): it cannot be moved before the image"
            ));
        }
        if end.is_some_and(|e| e != m.range.start) {
            return refuse(format!("the host's {name} does not follow the mapping before it"));
        }
        end = Some(m.range.end);
    }
    Ok(())
}

/// The live time page's `hrtimer_res`, read where the host mapped it (the real page when page 0
/// is a time-namespace page), as a check that the page is the layout we think: Linux sets it to
/// the hrtimer resolution (1 ns with high-resolution timers, one tick without), never 0.
///
/// # Safety
/// `facts` must describe this process's current mappings, checked by [`check`].
pub unsafe fn live_hrtimer_res(layout: &HostLayout, facts: &HostFacts) -> u32 {
    let base = facts.mappings[0].range.start;
    let load = |at: usize| {
        // SAFETY: page 0 of [vvar] is readable; the namespace slot only when page 0 says TIMENS
        // (the kernel backs it then). Aligned fields of the time page.
        unsafe { core::ptr::read_volatile(at as *const u32) }
    };
    let mode = load(base + vdso_abi::offsets::CLOCK_MODE) as i32;
    let page = if mode == vdso_abi::clock_mode::TIMENS {
        base + vdso_abi::modern::page::TIMENS * layout.page_size
    } else {
        base
    };
    load(page + layout.hrtimer_res_offset)
}

/// Where the image goes: a reservation of `[data pages | image]`, PROT_NONE until [`place`].
#[derive(Debug)]
pub struct Reservation {
    /// Start of the data pages.
    pub base: usize,
    /// Start of the image (`AT_SYSINFO_EHDR`).
    pub image: usize,
    /// Bytes reserved.
    pub len: usize,
}

/// Checks the host and reserves room for `[its data pages | image]`, mapping the image (read and
/// execute) at its place; the data pages stay PROT_NONE until [`place`] moves the host's there.
pub fn reserve(layout: &HostLayout, image: &[u8], image_pages: usize) -> Result<Reservation, Error> {
    let facts = HostFacts::read()?;
    check(layout, &facts)?;
    // SAFETY: `check` verified `facts` against this process's mappings just now.
    let res = unsafe { live_hrtimer_res(layout, &facts) };
    if res == 0 || res > 1_000_000_000 {
        return Err(Error::cannot_execute(format!(
            "--host-data: the host's time page has hrtimer_res {res} at byte {}: not the layout the image \
             reads",
            layout.hrtimer_res_offset
        )));
    }
    let page = layout.page_size;
    let data = layout.data_pages() * page;
    let len = data + image_pages * page;
    if image.len() > image_pages * page {
        return Err(Error::setup("--host-data: the image is larger than its pages".to_string()));
    }
    use rustix::mm::{mmap_anonymous, mprotect, MapFlags, MprotectFlags, ProtFlags};
    // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
    let base = unsafe { mmap_anonymous(core::ptr::null_mut(), len, ProtFlags::empty(), MapFlags::PRIVATE) }
        .map_err(|e| Error::setup(format!("--host-data: reserving {len} bytes: {e}")))?
        as usize;
    let image_at = base + data;
    // SAFETY: the image pages of the fresh reservation, ours alone.
    unsafe {
        mprotect(image_at as *mut _, image_pages * page, MprotectFlags::READ | MprotectFlags::WRITE)
            .map_err(|e| Error::setup(format!("--host-data: mprotect: {e}")))?;
        core::ptr::copy_nonoverlapping(image.as_ptr(), image_at as *mut u8, image.len());
        mprotect(image_at as *mut _, image_pages * page, MprotectFlags::READ | MprotectFlags::EXEC)
            .map_err(|e| Error::setup(format!("--host-data: mprotect: {e}")))?;
    }
    Ok(Reservation { base, image: image_at, len })
}

/// Moves the host's data pages into `r`'s data pages, in order. After this the process's own
/// kernel vDSO no longer works (it reads at the old place): use no libc clock function.
///
/// # Safety
/// `r` came from [`reserve`] for `layout` in this process; no other thread uses the kernel's vDSO.
pub unsafe fn place(layout: &HostLayout, r: &Reservation) -> Result<(), Error> {
    let facts = HostFacts::read()?;
    check(layout, &facts)?;
    let mut at = r.base;
    for m in &facts.mappings {
        // SAFETY: `m` is a host special mapping of this process; the target is our reservation.
        let moved = unsafe {
            libc::mremap(
                m.range.start as *mut libc::c_void,
                m.range.len(),
                m.range.len(),
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                at as *mut libc::c_void,
            )
        };
        if moved == libc::MAP_FAILED {
            let e = std::io::Error::last_os_error();
            return Err(Error::cannot_execute(format!("--host-data: moving the host's {}: {e}", m.name)));
        }
        at += m.range.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
7ffd1000-7ffd5000 r--p 00000000 00:00 0                          [vvar]
Size:                 16 kB
VmFlags: rd mr pf io de dd
7ffd5000-7ffd7000 r--p 00000000 00:00 0                          [vvar_vclock]
Size:                  8 kB
VmFlags: rd mr pf io de dd
7ffd7000-7ffd9000 r-xp 00000000 00:00 0                          [vdso]
VmFlags: rd ex mr mw me de
";

    fn facts(smaps: &str) -> HostFacts {
        HostFacts {
            arch: Some(Arch::X86_64),
            release: "6.18.44-fc".into(),
            page_size: 4096,
            mappings: parse_smaps(smaps),
        }
    }

    fn refusal(f: &HostFacts) -> String {
        check(&HostLayout::of(Arch::X86_64).unwrap(), f).unwrap_err().to_string()
    }

    #[test]
    fn a_linux_6_18_x86_64_host_is_accepted() {
        let f = facts(SMAPS);
        assert_eq!(f.mappings.len(), 2);
        assert_eq!(f.mappings[0].range, 0x7ffd1000..0x7ffd5000);
        assert!(check(&HostLayout::of(Arch::X86_64).unwrap(), &f).is_ok());
    }

    #[test]
    fn sealed_mappings_are_refused() {
        let f = facts(&SMAPS.replacen("VmFlags: rd mr pf io de dd", "VmFlags: rd mr pf io de dd sl", 1));
        assert!(f.mappings[0].sealed);
        assert!(refusal(&f).contains("sealed"), "{}", refusal(&f));
    }

    #[test]
    fn older_kernels_are_refused() {
        let mut f = facts(SMAPS);
        f.release = "6.8.0-31-generic".into();
        assert!(refusal(&f).contains("Linux 6.8.0-31-generic"), "{}", refusal(&f));
    }

    #[test]
    fn other_architectures_and_page_sizes_are_refused() {
        let mut f = facts(SMAPS);
        f.arch = Some(Arch::Riscv64);
        assert!(refusal(&f).contains("the host is riscv64"), "{}", refusal(&f));
        let mut f = facts(SMAPS);
        f.page_size = 16384;
        assert!(refusal(&f).contains("16384"), "{}", refusal(&f));
        // riscv64 has a modern row but no host side checked on a live riscv64 kernel.
        assert!(HostLayout::of(Arch::Riscv64).is_none());
    }

    #[test]
    fn other_mappings_are_refused() {
        // Linux 6.2's x86_64 layout: one 4-page [vvar], no [vvar_vclock].
        let f = facts("7ffd1000-7ffd5000 r--p 00000000 00:00 0 [vvar]\nVmFlags: rd\n");
        assert!(refusal(&f).contains("needs [\"[vvar]\", \"[vvar_vclock]\"]"), "{}", refusal(&f));
        // qemu-user: none at all.
        assert!(refusal(&facts("")).contains("qemu-user"), "{}", refusal(&facts("")));
        let f = facts(&SMAPS.replace("7ffd5000-7ffd7000", "7ffd5000-7ffd6000"));
        assert!(refusal(&f).contains("is 1 pages"), "{}", refusal(&f));
    }

    #[test]
    fn releases_parse() {
        assert_eq!(parse_release("6.18.44-fc-v1045"), Some((6, 18)));
        assert_eq!(parse_release("5.4"), Some((5, 4)));
        assert_eq!(parse_release("garbage"), None);
    }
}
