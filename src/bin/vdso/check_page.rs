//! `vdso check-page`: judge a kernel's data pages against the image that reads them.
//!
//! The pages come from a dump file (the data pages as mapped before the image, `data_pages *
//! page_size` bytes; `--later` a second dump taken a tick or more later) judged against a row of
//! the variant table (`--arch`/`--profile`/`--page-size`, or `--image FILE` to take them from an
//! image's own note), or from a live process (`--pid`):
//! - a process under `vdso run` has our image after read-only views of the launcher's data memfd
//!   (`/memfd:vdso-data` in its maps): the image's note names the row, the pages are read twice
//!   through `/proc/PID/mem`, the second as soon as `seq` moved (at most 2.5 s later: the
//!   second look checks `seq` advances), and on the
//!   process's own architecture the counter is read after them;
//! - a plain process has the host kernel's `[vvar]` before its `[vdso]`, which `/proc/PID/mem`
//!   cannot read (a PFN mapping: `EIO`); the same kernel pages are mapped in this command's own
//!   `[vvar]`, so they are read there when the process shares this command's time namespace,
//!   judged as the classic profile (Linux before 6.15) or the modern one (6.17+; 6.15 and 6.16
//!   are refused, their layout not checked here).
//!
//! Each look at a live page is a consistent snapshot: taken again while the seqlock was odd or
//! moved during the read, as a reader of the page would.
//!
//! The judging itself is `vdso_kernel_stub::check::check_pages`, the `no_std` function a kernel
//! calls on its own pages.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use linux_vdso::elf::ElfImage;
use linux_vdso::{Arch, Profile, Variant};
use vdso_kernel_stub::check::{check_pages, CheckOptions, RNG_RULE};
use vdso_kernel_stub::ArchLayout;
use vdso_launcher::shown;

use crate::procfs::{self, Mapping};
use crate::variant_arg;

/// How often the second look at a live process's pages is retried while `seq` has not moved.
const SECOND_LOOK_POLL: Duration = Duration::from_millis(5);
/// How long the second look waits for `seq` to move before judging it stuck: more than a tick
/// at any rate a writer may tick at (`vdso run --hz` goes down to 1).
const SECOND_LOOK_WITHIN: Duration = Duration::from_millis(2500);
/// The name of the launcher's data memfd in a process's maps (kernel-stub's mapping).
const DATA_MEMFD: &str = "/memfd:vdso-data";
/// The first release whose data pages are the split data store of the modern layout.
const MODERN_SINCE: (u32, u32) = (6, 15);
/// Reads of a live page before giving up on a consistent snapshot (a writer stuck mid-update).
const SNAPSHOT_TRIES: usize = 1000;

/// `vdso check-page`'s arguments.
#[derive(Args, Debug)]
pub struct CheckPageArgs {
    /// Dump of the data pages (all of them, as mapped before the image).
    #[arg(required_unless_present = "pid", conflicts_with = "pid")]
    pub file: Option<PathBuf>,
    /// A second dump of the same pages, taken at least a tick later (checks `seq` advances).
    #[arg(long, requires = "file")]
    pub later: Option<PathBuf>,
    /// Judge the data pages of this running process instead (its own image says their row;
    /// --arch, --profile and --page-size, if given, must match it).
    #[arg(long)]
    pub pid: Option<u32>,
    /// Architecture of the image that reads the pages (default: --image's, else this machine's).
    #[arg(long, value_parser = crate::parse_arch)]
    pub arch: Option<Arch>,
    /// Data layout (default: --image's, else classic).
    #[arg(long, value_parser = variant_arg::parse_profile)]
    pub profile: Option<Profile>,
    /// Page size (default: --image's, else the architecture's default image's).
    #[arg(long, value_parser = variant_arg::parse_page_size)]
    pub page_size: Option<usize>,
    /// Take architecture, profile and page size from this image's layout note.
    #[arg(long, conflicts_with_all = ["arch", "profile", "page_size", "pid"])]
    pub image: Option<PathBuf>,
    /// The counter's value, read after the dump (checks `cycle_last` is not ahead of it).
    #[arg(long, value_parser = parse_counter, requires = "file")]
    pub counter: Option<u64>,
    /// The pages are a task's in a time namespace: page 0 must be a namespace page.
    #[arg(long)]
    pub timens: bool,
}

fn parse_counter(s: &str) -> Result<u64, String> {
    let parsed = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("counter {s:?}: expected a decimal or 0x-prefixed number"))
}

/// The pages to judge and how.
struct Subject {
    label: String,
    variant: &'static Variant,
    pages: Vec<u8>,
    later: Option<Vec<u8>>,
    counter: Option<u64>,
}

/// A live process's row comes from its own image; `--arch`, `--profile` and `--page-size`, when
/// given with `--pid`, say what the user expects it to be, and a process of another row is an
/// error rather than a verdict against a layout nobody asked for.
fn expect_row(args: &CheckPageArgs, subject: Subject) -> Result<Subject, String> {
    let v = subject.variant;
    let asked = [
        args.arch.filter(|a| *a != v.arch).map(|a| format!("--arch {}", a.name())),
        args.profile.filter(|p| *p != v.profile).map(|p| format!("--profile {}", p.name())),
        args.page_size.filter(|s| *s != v.page_size).map(|s| format!("--page-size {s}")),
    ];
    let mismatched: Vec<String> = asked.into_iter().flatten().collect();
    if mismatched.is_empty() {
        return Ok(subject);
    }
    Err(format!(
        "{}: its pages are {} ({} profile, {}-byte pages), not what {} asks for",
        subject.label,
        v.dir,
        v.profile.name(),
        v.page_size,
        mismatched.join(" ")
    ))
}

/// Runs the command: `Ok(true)` when the pages pass, `Ok(false)` when findings were printed.
pub fn run(args: &CheckPageArgs) -> Result<bool, String> {
    let subject = match args.pid {
        Some(pid) => expect_row(args, live(pid)?)?,
        None => dump(args)?,
    };
    let layout = ArchLayout::of_variant(subject.variant);
    let opts =
        CheckOptions { counter: subject.counter, later: subject.later.as_deref(), timens: args.timens };
    let findings =
        check_pages(&layout, &subject.pages, &opts).map_err(|e| format!("{}: {e}", subject.label))?;
    let looks = if subject.later.is_some() { "two looks" } else { "one look (seq advance not checked)" };
    let counter =
        if subject.counter.is_some() { "counter read" } else { "no counter (cycle_last not checked)" };
    if findings.is_empty() {
        println!(
            "{}: no findings against {} ({looks}, {counter}; {RNG_RULE})",
            subject.label, subject.variant
        );
        return Ok(true);
    }
    eprintln!("{}: {} finding(s) against {}:", subject.label, findings.len(), subject.variant);
    for f in findings.iter() {
        eprintln!("  - {f}");
    }
    if findings.dropped() > 0 {
        eprintln!("  ({} more not kept)", findings.dropped());
    }
    eprintln!("  ({looks}, {counter}; {RNG_RULE})");
    Ok(false)
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    crate::read(path)
}

/// The pages of a dump file, judged against the row the options name.
fn dump(args: &CheckPageArgs) -> Result<Subject, String> {
    let file = args.file.as_deref().ok_or("no FILE")?;
    let variant = match &args.image {
        Some(image) => {
            let bytes = read_file(image)?;
            let parsed = ElfImage::parse(&bytes).map_err(|e| format!("{}: {e}", shown::path(image)))?;
            parsed.variant().ok_or_else(|| {
                format!(
                    "{}: no layout note naming a row of the variant table (not an image of this project?)",
                    shown::path(image)
                )
            })?
        }
        None => {
            let arch = match args.arch.or_else(Arch::native) {
                Some(a) => a,
                None => return Err(format!("--arch is needed: this machine is none of {}", Arch::names())),
            };
            variant_arg::choose(arch, args.profile, args.page_size, None)?
        }
    };
    let pages = read_file(file)?;
    let later = args.later.as_deref().map(read_file).transpose()?;
    Ok(Subject { label: shown::path(file), variant, pages, later, counter: args.counter })
}

/// The data pages of running process `pid`.
fn live(pid: u32) -> Result<Subject, String> {
    let p = pid.to_string();
    let maps = procfs::maps(&p)?;
    let label = format!("process {pid}");
    if maps.is_empty() {
        return Err(format!("{label} has no address space (a kernel thread?): no data pages to judge"));
    }
    match maps.iter().find(|m| m.name.starts_with(DATA_MEMFD)) {
        Some(_) => ours(&p, &label, &maps),
        None => host(&p, &label, &maps),
    }
}

/// A process under `vdso run`: our image right after the launcher's data pages.
fn ours(pid: &str, label: &str, maps: &[Mapping]) -> Result<Subject, String> {
    // The image is the mapping that starts where the last data-memfd view ends.
    let image_at = maps
        .windows(2)
        .find(|w| {
            w[0].name.starts_with(DATA_MEMFD) && !w[1].name.starts_with(DATA_MEMFD) && w[1].start == w[0].end
        })
        .map(|w| w[1].start)
        .ok_or_else(|| format!("{label}: no image mapped right after its {DATA_MEMFD} pages"))?;
    let head = procfs::read_mem(pid, image_at, 4096)?;
    let note = vdso_kernel_stub::layout::layout_note(&head)
        .map_err(|e| format!("{label}: the image at {image_at:#x}: {e}"))?;
    let machine = u16::from_le_bytes([head[18], head[19]]);
    let arch = Arch::from_e_machine(machine)
        .ok_or_else(|| format!("{label}: image of unknown machine {machine}"))?;
    let variant = Profile::from_note_value(note.profile)
        .and_then(|profile| Variant::find(arch, profile, note.page_size as usize))
        .ok_or_else(|| format!("{label}: its image's note names no row of the variant table"))?;
    let base = image_at - variant.data_size() as u64;
    if !maps.iter().any(|m| m.start == base && m.name.starts_with(DATA_MEMFD)) {
        return Err(format!(
            "{label}: {} data pages of {} bytes before the image at {image_at:#x} are not its data mapping",
            variant.data_pages(),
            variant.page_size
        ));
    }
    from_proc(pid, label, variant, base)
}

/// Reads the pages with `read` twice, the second time as soon as `seq` moved (at most
/// `SECOND_LOOK_WITHIN` later: a stuck seqlock is then a finding), each look a consistent
/// snapshot (taken again while `seq` of the time page's first struct is odd or changed during the
/// read, as a reader would), and the counter after the first look when it is comparable.
fn looks(
    label: String,
    variant: &'static Variant,
    read: &dyn Fn() -> Result<Vec<u8>, String>,
) -> Result<Subject, String> {
    let layout = ArchLayout::of_variant(variant);
    let seq_at = layout.vvar_page * layout.page_size + layout.vdso_data_offset;
    let seq = |b: &[u8]| b.get(seq_at..seq_at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
    let snapshot = || -> Result<Vec<u8>, String> {
        let mut last = read()?;
        for _ in 0..SNAPSHOT_TRIES {
            let again = read()?;
            if seq(&last) == seq(&again) && seq(&again).is_some_and(|s| s & 1 == 0) {
                return Ok(again);
            }
            last = again;
        }
        // Never consistent: judge what was seen (an odd seq is then a finding).
        Ok(last)
    };
    let pages = snapshot()?;
    // The counter is only comparable with the page's `cycle_last` when it is this machine's
    // counter (a foreign process runs under qemu, whose counter is not the host's).
    let counter = (Arch::native() == Some(variant.arch)).then(vdso_kernel_stub::counter::read_counter);
    let start = std::time::Instant::now();
    let later = loop {
        std::thread::sleep(SECOND_LOOK_POLL);
        let look = snapshot()?;
        if seq(&look) != seq(&pages) || start.elapsed() >= SECOND_LOOK_WITHIN {
            break look;
        }
    };
    Ok(Subject { label, variant, pages, later: Some(later), counter })
}

/// The pages of another process at `base`, through `/proc/PID/mem`.
fn from_proc(pid: &str, label: &str, variant: &'static Variant, base: u64) -> Result<Subject, String> {
    let len = variant.data_size();
    looks(format!("{label} (data pages at {base:#x})"), variant, &|| procfs::read_mem(pid, base, len))
}

/// A plain process: the host kernel's own data pages, before its `[vdso]`.
///
/// The kernel's `[vvar]` cannot be read through `/proc/PID/mem` (it is a PFN mapping: `EIO`),
/// but it is the same kernel pages in every process of a time namespace, and this process maps
/// them too: so they are read here, from this process's own `[vvar]`, when the target shares
/// this process's time namespace.
fn host(pid: &str, label: &str, _maps: &[Mapping]) -> Result<Subject, String> {
    procfs::auxv_value(pid, procfs::AT_SYSINFO_EHDR)?
        .ok_or_else(|| format!("{label} has no vDSO (AT_SYSINFO_EHDR absent) and no pages of ours"))?;
    let ns = |p: &str| {
        std::fs::read_link(format!("/proc/{p}/ns/time")).map_err(|e| format!("/proc/{p}/ns/time: {e}"))
    };
    if ns(pid)? != ns("self")? {
        return Err(format!(
            "{label} is in another time namespace than this command: its namespace page cannot be read from \
             here (the kernel's [vvar] is not readable through /proc/PID/mem); run check-page inside it"
        ));
    }
    let arch = Arch::native().ok_or("this machine is none of the table's architectures")?;
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let release = release.trim();
    let version =
        parse_release(release).ok_or_else(|| format!("cannot parse the kernel release {release:?}"))?;
    let page_size = vdso_launcher::variant::host_page_size();
    let profile = if version >= vdso_abi::modern::MIN_KERNEL {
        Profile::Modern
    } else if version < MODERN_SINCE {
        Profile::Classic
    } else {
        return Err(format!(
            "{label}: Linux {release} lays its data out in the split data store of 6.15+, but only 6.17+'s \
             vdso_time_data is checked against Linux's own image here"
        ));
    };
    let variant = Variant::find(arch, profile, page_size).ok_or_else(|| {
        format!(
            "{label}: Linux {release} uses the {profile} layout, for which there is no {} row",
            arch.name()
        )
    })?;
    let own = procfs::maps("self")?;
    let vvar = own
        .iter()
        .find(|m| m.name == "[vvar]")
        .ok_or("this process has no [vvar] mapping (qemu-user gives guests none)")?;
    let layout = ArchLayout::of_variant(variant);
    if vvar.end - vvar.start < (layout.timens_page.max(layout.vvar_page) as u64 + 1) * page_size as u64 {
        return Err(format!(
            "this process's [vvar] ({} bytes) is smaller than the {variant} layout",
            vvar.end - vvar.start
        ));
    }
    let base = vvar.start;
    let read = || -> Result<Vec<u8>, String> {
        let mut pages = vec![0u8; variant.data_size()];
        // Only pages the kernel backs are read: the time page, the RNG page (modern) and, when
        // the time page is a namespace page, the slot; reading an unbacked one (x86_64's arch
        // page, the slot outside a namespace) would fault.
        let copy = |pages: &mut [u8], page: usize| {
            let at = page * page_size;
            // SAFETY: `base + at .. base + at + page_size` lies inside this process's own
            // `[vvar]` mapping (checked against /proc/self/maps above), which is readable and
            // stays mapped for the life of the process; `page` is one the kernel backs (see
            // above). The kernel writes it concurrently: the bytes are read volatile and the
            // caller keeps only a snapshot whose seqlock was stable.
            for (i, b) in pages[at..at + page_size].iter_mut().enumerate() {
                *b = unsafe { core::ptr::read_volatile((base as usize + at + i) as *const u8) };
            }
        };
        copy(&mut pages, layout.vvar_page);
        if profile == Profile::Modern && vdso_abi::modern::page::RNG < layout.data_pages {
            copy(&mut pages, vdso_abi::modern::page::RNG);
        }
        let mode_at = layout.vvar_page * page_size + layout.vdso_data_offset + 4;
        let mode = i32::from_le_bytes(pages[mode_at..mode_at + 4].try_into().expect("4 bytes"));
        if mode == vdso_abi::clock_mode::TIMENS {
            copy(&mut pages, layout.timens_page);
        }
        Ok(pages)
    };
    looks(
        format!(
            "{label} (the host kernel's pages, Linux {release}, read through this command's own [vvar]: the same \
             kernel pages, which /proc/PID/mem cannot read)"
        ),
        variant,
        &read,
    )
}

/// `6.8.0-45-generic` → (6, 8).
fn parse_release(r: &str) -> Option<(u32, u32)> {
    let mut it = r.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}
