//! `vdso run`: the command-line face of the `vdso-launcher` crate. Parses the option values
//! (one line and status 125 for a bad one), hands the launcher the embedded images, and reports
//! a failure to start as one line with the launcher's exit status.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Args;
use linux_vdso::{Arch, Image};
use vdso_launcher::options::{parse_arch, parse_duration, parse_hz, parse_profile, parse_realtime};
use vdso_launcher::{Error, Kind, RunOptions};

/// Shown by `vdso run --help` after the options, before [`after_help`]'s exit statuses; the
/// per-architecture facts come from the table, so a new row shows up here by itself.
fn how_it_works() -> String {
    let pages: Vec<String> = Arch::ALL
        .iter()
        .map(|a| {
            let v = linux_vdso::Variant::default_for(*a);
            format!("{}: {} of {} KiB", a.name(), v.data_pages(), v.page_size / 1024)
        })
        .collect();
    let foreign: Vec<&Arch> = Arch::ALL.iter().filter(|a| Arch::native() != Some(**a)).collect();
    let names: Vec<&str> = foreign.iter().map(|a| a.name()).collect();
    let envs: Vec<String> =
        foreign.iter().map(|a| format!("${}", vdso_launcher::foreign::launcher_env(**a))).collect();
    let prefixes: Vec<String> =
        foreign.iter().map(|a| format!("{} {}", a.name(), a.info().emulation.ld_prefix)).collect();
    let fixed: Vec<&str> =
        foreign.iter().filter(|a| a.info().emulation.fixed_layout).map(|a| a.name()).collect();
    let fixed = if fixed.is_empty() {
        String::new()
    } else {
        format!(
            "\nqemu for {} runs with the host's address randomization off (as setarch -R;\n\
             docs/launcher.md, \"Known emulator faults\"): programs there see the same addresses every run.",
            fixed.join(", ")
        )
    };
    format!(
        "How it works: the launcher maps [data pages | image] as the ABI lays them out, loads PROGRAM\n\
         (static, static-pie, or dynamic through its PT_INTERP loader), builds a fresh initial stack\n\
         whose auxiliary vector has AT_SYSINFO_EHDR pointing at our image, and jumps to the entry\n\
         point: the process becomes the program (same pid, descriptors, arguments, environment; its\n\
         exit status and signals are its own). A writer process outside the program's sight keeps\n\
         the data page fresh (--hz updates a second) and exits with the program.\n\
         Data pages (default profile; --profile modern has more):\n  {pages}\n\
         \n\
         A PROGRAM of another architecture (chosen by its ELF header, or --arch ARCH) runs under\n\
         qemu-ARCH on the launcher's static build for ARCH: $VDSO_ARCH_LAUNCHER, else vdso-ARCH next\n\
         to this executable, else target/ARCH-launcher/TARGET/release/vdso (built by\n\
         scripts/build-launcher.sh ARCH). qemu: $VDSO_QEMU_ARCH (default qemu-ARCH) with\n\
         -L $VDSO_QEMU_LD_PREFIX. Here:\n  other architectures: {names}\n  launchers: {envs}\n  -L default: {prefixes}{fixed}\n\
         \n\
         Offsets: [+|-]N<unit>[N<unit>...] with units ns us ms s m h d w y (y = 365.25 days), e.g. +100y,\n\
         -30y, +3600s, 1d12h. --realtime-offset also takes a date, 2099-01-01T00:00:00Z (UTC unless a\n\
         zone such as +02:00 is given), or @SECONDS since 1970.\n\
         \n\
         A #! script is run by its interpreter as execve runs it (one optional argument, nested up to 5\n\
         deep); a standard descriptor closed by the caller stays closed in the program.\n",
        pages = pages.join(", "),
        names = names.join(", "),
        envs = envs.join(", "),
        prefixes = prefixes.join(", "),
    )
}

/// `--arch`'s help: the table's architectures.
fn arch_help() -> String {
    let names: Vec<&str> = Arch::ALL.iter().map(|a| a.name()).collect();
    format!("{} (default: the program's own, from its ELF header)", names.join(", "))
}

/// Shown by `vdso run --help` after the exit statuses.
const EXAMPLES: &str = "\
Examples:
  vdso run --realtime-offset +100y -- date
  vdso run --realtime-offset 2099-01-01T00:00:00Z --monotonic-offset +1d -- ./prog
  vdso run --arch riscv64 -- ./hello-riscv64
  vdso run -- ./hello-aarch64";

/// Everything `vdso run --help` shows after the options; the exit statuses come from the
/// launcher's own [`Kind`]s, so the help lists exactly the codes it returns.
pub fn after_help() -> String {
    let rows = Kind::ALL.map(|k| (k.exit_code(), k.meaning()));
    let table =
        crate::exit_status_help(" PROGRAM's own once it runs (or its death by a signal); before that", &rows);
    format!("{}\n{table}\n{EXAMPLES}", how_it_works())
}

/// `vdso run`'s arguments.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Shift the wall clock (CLOCK_REALTIME, TAI, gettimeofday, time): an offset such as +100y or
    /// -3600s, or an absolute date such as 2099-01-01T00:00:00Z. Default: the host's clock.
    #[arg(long, value_name = "OFFSET|DATE", allow_hyphen_values = true)]
    realtime_offset: Option<String>,
    /// Time-namespace offset of CLOCK_MONOTONIC (and _RAW, _COARSE), e.g. +1d; also applies to
    /// CLOCK_BOOTTIME unless --boottime-offset is given.
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    monotonic_offset: Option<String>,
    /// Time-namespace offset of CLOCK_BOOTTIME (default: the monotonic offset).
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    boottime_offset: Option<String>,
    /// Updates of the data page per second, 1..=10000 (default: the image's HZ, 250). The COARSE
    /// clocks copy the host's at each update, so below the host's tick rate they step by 1/HZ,
    /// while clock_getres still reports the image's built-in tick (as Linux's vDSO reports its
    /// TICK_NSEC).
    #[arg(long, value_name = "HZ", allow_negative_numbers = true)]
    hz: Option<String>,
    /// When the program has ended, the data-page writer writes its statistics to FILE, one
    /// `name value` line each: updates made, longest gap between them (max_gap_ns), how far
    /// its clocks were from the host's (max_error_ns, tolerance_ns, ...), and how stale the
    /// host's coarse clocks were when copied (max_coarse_staleness_ns). Written shortly after
    /// the program exits, by a process of its own: wait for the file to appear.
    #[arg(long, value_name = "FILE")]
    writer_stats: Option<std::path::PathBuf>,
    #[arg(long, value_name = "ARCH", help = arch_help())]
    arch: Option<String>,
    /// Run on the host kernel's own live data pages instead of ours: the host's `[vvar]` and
    /// `[vvar_vclock]` are moved (mremap) right before our modern-profile image, which then reads
    /// the host kernel's time data; no writer runs, and the clocks are the host's, so no offset
    /// or --hz applies. Needs Linux 6.17+ on x86_64 with unsealed data pages; any other host is
    /// refused with the reason.
    #[arg(long)]
    host_data: bool,
    /// The data layout: classic (Linux's `struct vdso_data`, 6.2/6.8; the default) or modern
    /// (Linux 6.18's split time/namespace/RNG/arch pages). Our writer keeps the pages of that
    /// layout and the program gets the image built for it; an architecture without a row of
    /// that profile is refused. --host-data implies modern.
    #[arg(long, value_name = "PROFILE")]
    profile: Option<String>,
    /// The program and its arguments (put `--` before them).
    #[arg(value_name = "PROGRAM [ARGS]", trailing_var_arg = true)]
    command: Vec<OsString>,
}

fn parse(args: &RunArgs) -> Result<RunOptions, Error> {
    let native = Arch::native().unwrap_or(Arch::X86_64);
    let mut o = RunOptions::new(Image::get(native).hz());
    let usage = |opt: &'static str| move |e: String| Error::usage(format!("{opt}: {e}"));
    if args.host_data {
        // The host kernel writes the pages: nothing of ours could shift or pace its clocks.
        let ours = [
            ("--realtime-offset", args.realtime_offset.is_some()),
            ("--monotonic-offset", args.monotonic_offset.is_some()),
            ("--boottime-offset", args.boottime_offset.is_some()),
            ("--hz", args.hz.is_some()),
            ("--writer-stats", args.writer_stats.is_some()),
        ];
        if let Some((name, _)) = ours.iter().find(|o| o.1) {
            return Err(Error::usage(format!(
                "--host-data runs on the host kernel's own clocks and writer: {name} does not apply"
            )));
        }
        o.host_data = true;
        o.profile = linux_vdso::Profile::Modern;
    }
    if let Some(p) = &args.profile {
        let profile = parse_profile(p).map_err(usage("--profile"))?;
        if args.host_data && profile != linux_vdso::Profile::Modern {
            return Err(Error::usage(format!(
                "--host-data serves the host kernel's pages to the modern image: --profile {p} does not apply"
            )));
        }
        o.profile = profile;
    }
    if let Some(a) = &args.arch {
        o.arch = Some(parse_arch(a).map_err(usage("--arch"))?);
    }
    if let Some(r) = &args.realtime_offset {
        o.realtime = parse_realtime(r).map_err(usage("--realtime-offset"))?;
    }
    if let Some(m) = &args.monotonic_offset {
        o.monotonic_offset_ns = parse_duration(m).map_err(usage("--monotonic-offset"))?;
    }
    if let Some(b) = &args.boottime_offset {
        o.boottime_offset_ns = Some(parse_duration(b).map_err(usage("--boottime-offset"))?);
    }
    if let Some(h) = &args.hz {
        o.hz = parse_hz(h).map_err(usage("--hz"))?;
    }
    if let Some(p) = &args.writer_stats {
        if p.to_str().is_none() {
            return Err(Error::usage("--writer-stats: the path must be valid UTF-8".to_string()));
        }
        let p = std::path::absolute(p).map_err(|e| Error::usage(format!("--writer-stats: {e}")))?;
        vdso_launcher::writer::check_stats_path(&p)
            .map_err(|e| Error::usage(format!("--writer-stats: {}: {e}", vdso_launcher::shown::path(&p))))?;
        o.writer_stats = Some(p);
    }
    Ok(o)
}

fn image_of(variant: &linux_vdso::Variant) -> &'static [u8] {
    Image::of(variant).bytes()
}

/// Runs the program; returns only when it could not be started.
pub fn run(args: RunArgs) -> ExitCode {
    let err = match parse(&args) {
        Ok(options) => match vdso_launcher::launch(&image_of, &options, &args.command) {
            Ok(never) => match never {},
            Err(e) => e,
        },
        Err(e) => e,
    };
    eprintln!("vdso run: {err}");
    ExitCode::from(err.exit_code())
}

/// The exit status for a command line `vdso run` could not parse (an unknown option, say).
pub const EXIT_USAGE: u8 = Kind::Usage.exit_code();
