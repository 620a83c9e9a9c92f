//! `vdso`: build, inspect and verify `linux-vdso.so.1` images.
//!
//! `vdso build` writes both embedded images with their C headers and prints what they contain;
//! `vdso inspect` prints the same summary for any image file or for the running kernel's own
//! vDSO, so the two can be compared side by side; `vdso verify` runs the build's verifier on a
//! file; `vdso run` runs an unmodified program with our image as its vDSO. Every failure is one
//! line on stderr and a non-zero exit status.

mod check_page;
mod host;
mod procfs;
mod run;
mod summary;
mod variant_arg;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use linux_vdso::elf::ElfImage;
use linux_vdso::image_file;
use linux_vdso::verify::{verify, Stage};
use linux_vdso::{Arch, Image};
use vdso_launcher::shown;

/// Exit status: done (`build`, `inspect`), or the image is valid (`verify`).
const EXIT_OK: u8 = 0;
/// Exit status for a file that could not be read or is not a usable image.
const EXIT_BAD_INPUT: u8 = 1;
/// Exit status for a command line that could not be parsed (clap's).
const EXIT_USAGE: u8 = 2;
/// Exit status for an image that parsed but breaks the contract.
const EXIT_VIOLATIONS: u8 = 3;

/// `--help`'s explanation of `inspect`'s exit statuses.
const INSPECT_EXIT: &[(u8, &str)] = &[
    (EXIT_OK, "the summary was printed"),
    (
        EXIT_BAD_INPUT,
        "FILE cannot be read (missing, not a regular file, a read that would block, over 1 MiB) or is not a usable ELF image; with --host, this process has no vDSO",
    ),
    (EXIT_USAGE, "bad usage (an unknown option, no FILE)"),
];

/// `--help`'s explanation of `verify`'s exit statuses.
const VERIFY_EXIT: &[(u8, &str)] = &[
    (EXIT_OK, "FILE is a valid image of the architecture"),
    (
        EXIT_BAD_INPUT,
        "FILE cannot be read (missing, not a regular file, a read that would block, over 1 MiB) or is not a usable ELF image",
    ),
    (EXIT_USAGE, "bad usage (an unknown option or architecture, no FILE)"),
    (EXIT_VIOLATIONS, "FILE breaks the contract: each violation is listed on stderr"),
];

/// `--help`'s explanation of `check-page`'s exit statuses.
const CHECK_PAGE_EXIT: &[(u8, &str)] = &[
    (EXIT_OK, "no findings: the image reads every served clock correctly from the pages"),
    (
        EXIT_BAD_INPUT,
        "the pages cannot be read (a file missing or of the wrong length, a process whose pages are not readable or not of a layout the checker supports)",
    ),
    (EXIT_USAGE, "bad usage (an unknown option, arch or profile, no FILE or --pid)"),
    (EXIT_VIOLATIONS, "findings: each is listed on stderr"),
];

/// The "Exit status:" table of a subcommand's `--help`, from the codes the code returns;
/// `intro` follows the heading on its line.
pub(crate) fn exit_status_help<S: AsRef<str>>(intro: &str, rows: &[(u8, S)]) -> String {
    let mut s = format!("Exit status:{intro}\n");
    for (code, meaning) in rows {
        s.push_str(&format!("  {code:>3}  {}\n", meaning.as_ref()));
    }
    s
}

#[derive(Parser)]
#[command(
    name = "vdso",
    version,
    about = "linux-vdso.so.1 for x86_64, riscv64, aarch64 and loongarch64, in no_std Rust"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write every image and their C headers (DIR/VARIANT/linux-vdso.so.1 and vdso.h, VARIANT
    /// the row's directory: the arch name for its default image) and summarise them.
    Build {
        /// Output directory.
        #[arg(long, default_value = "target/vdso")]
        out: PathBuf,
    },
    /// Summarise a vDSO image: size, pages, notes, symbols with versions and offsets.
    #[command(after_help = exit_status_help("", INSPECT_EXIT))]
    Inspect {
        /// Image file to read.
        #[arg(required_unless_present = "host", conflicts_with = "host")]
        file: Option<PathBuf>,
        /// Read the running kernel's own vDSO from this process's memory instead.
        #[arg(long)]
        host: bool,
    },
    /// Check an image against the contract (docs/abi.md) of an architecture, as the build does.
    #[command(after_help = exit_status_help("", VERIFY_EXIT))]
    Verify {
        /// Image file to check.
        file: PathBuf,
        /// Architecture whose contract applies (default: the file's e_machine).
        #[arg(long, value_parser = parse_arch)]
        arch: Option<Arch>,
        /// Data layout whose contract applies (default: the file's layout note, else classic).
        #[arg(long, value_parser = variant_arg::parse_profile)]
        profile: Option<linux_vdso::Profile>,
        /// Page size whose contract applies (default: the file's layout note, else the
        /// architecture's default image's).
        #[arg(long, value_parser = variant_arg::parse_page_size)]
        page_size: Option<usize>,
    },
    /// Judge a kernel's data pages (a dump file, or a live process's) against the image that
    /// reads them: every finding, named by field, base and value (docs/kernel-guide.md).
    #[command(name = "check-page", after_help = exit_status_help("", CHECK_PAGE_EXIT))]
    CheckPage(check_page::CheckPageArgs),
    /// Run an unmodified Linux program with our image as its vDSO (a data page kept fresh by a
    /// writer process; optional wall-clock and time-namespace offsets).
    #[command(after_long_help = run::after_help())]
    Run(run::RunArgs),
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    vdso_launcher::options::parse_arch(s)
}

/// The stack every subcommand runs on (reserved, not committed: pages are touched on use).
///
/// The kernel counts the arguments and environment it copies onto the main thread's stack
/// against `RLIMIT_STACK`: under `ulimit -s 128` with 100 KB of arguments, which `execve`
/// accepts, the main thread has under 28 KiB left, less than argument parsing alone takes in a
/// debug build. So `main` moves at once to a stack of its own (an anonymous mapping with a guard
/// page, through `stacker`), whatever the limit. `vdso run` never comes back from it: the
/// program gets a fresh stack sized by `RLIMIT_STACK` as the kernel would give it.
const MAIN_STACK: usize = 16 << 20;

fn main() -> ExitCode {
    stacker::grow(MAIN_STACK, main_on_own_stack)
}

fn main_on_own_stack() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // `vdso run`'s own errors are one line with the launcher's usage status (125), so a
        // caller can tell them from the program's; help and version print as usual.
        Err(e) if e.use_stderr() => {
            // Every usage error is one line, as every other error; exit status 2 (clap's), or
            // for `vdso run` the launcher's 125.
            // clap's message is its first paragraph (a list of missing arguments continues on
            // indented lines); the usage and tips after it are left to `--help`.
            let text = e.to_string();
            let para: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
            let joined = para.join(" ");
            let line = joined.trim_start_matches("error: ");
            if std::env::args_os().nth(1).is_some_and(|a| a == "run") {
                eprintln!("vdso run: {line} (see vdso run --help)");
                return ExitCode::from(run::EXIT_USAGE);
            }
            eprintln!("vdso: {line} (see vdso --help)");
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => e.exit(),
    };
    if let Command::Run(args) = cli.command {
        return run::run(args);
    }
    match run(cli.command) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("vdso: {msg}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Build { out } => {
            for image in Image::all() {
                let dir = out.join(image.variant().dir);
                fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", shown::path(&dir)))?;
                let path = dir.join("linux-vdso.so.1");
                fs::write(&path, image.bytes())
                    .map_err(|e| format!("cannot write {}: {e}", shown::path(&path)))?;
                let header = dir.join("vdso.h");
                fs::write(&header, image.c_header())
                    .map_err(|e| format!("cannot write {}: {e}", shown::path(&header)))?;
                let parsed =
                    ElfImage::parse(image.bytes()).map_err(|e| format!("{}: {e}", shown::path(&path)))?;
                println!("{}", summary::render(&shown::path(&path), &parsed));
                println!("  C header: {}\n", shown::path(&header));
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Inspect { file: Some(file), .. } => {
            let bytes = read(&file)?;
            let parsed = ElfImage::parse(&bytes).map_err(|e| format!("{}: {e}", shown::path(&file)))?;
            println!("{}", summary::render(&shown::path(&file), &parsed));
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Inspect { file: None, .. } => {
            let (addr, bytes) = host::read_own_vdso()?;
            let parsed = ElfImage::parse(&bytes).map_err(|e| format!("the host vDSO at {addr:#x}: {e}"))?;
            println!(
                "{}",
                summary::render(&format!("host kernel vDSO at {addr:#x} (AT_SYSINFO_EHDR)"), &parsed)
            );
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Run(args) => Ok(run::run(args)),
        Command::CheckPage(args) => {
            Ok(ExitCode::from(if check_page::run(&args)? { EXIT_OK } else { EXIT_VIOLATIONS }))
        }
        Command::Verify { file, arch, profile, page_size } => {
            let bytes = read(&file)?;
            let parsed = ElfImage::parse(&bytes).map_err(|e| format!("{}: {e}", shown::path(&file)))?;
            let arch = match arch {
                Some(a) => a,
                None => Arch::from_e_machine(parsed.machine).ok_or_else(|| {
                    format!(
                        "{}: e_machine {} is not one of {}",
                        shown::path(&file),
                        parsed.machine_name(),
                        Arch::names()
                    )
                })?,
            };
            let stage = if parsed.static_symbols.is_empty() { Stage::Stripped } else { Stage::Unstripped };
            let variant = variant_arg::choose(arch, profile, page_size, Some(&parsed))?;
            let violations = verify(&parsed, variant, stage);
            if violations.is_empty() {
                println!(
                    "{}: a valid {} vDSO image ({} profile, {}-byte pages; ABI revision {})",
                    shown::path(&file),
                    variant.name(),
                    variant.profile,
                    variant.page_size,
                    linux_vdso::abi::ABI_REVISION
                );
                Ok(ExitCode::from(EXIT_OK))
            } else {
                eprintln!(
                    "{}: {} violation(s) of the {} vDSO contract:",
                    shown::path(&file),
                    violations.len(),
                    variant
                );
                for v in &violations {
                    eprintln!("  - {}", shown::escaped(v.to_string()));
                }
                Ok(ExitCode::from(EXIT_VIOLATIONS))
            }
        }
    }
}

/// Reads an image file without blocking (see [`linux_vdso::image_file`]); the error names the
/// file, escaped.
fn read(file: &Path) -> Result<Vec<u8>, String> {
    image_file::read_image_file(file).map_err(|e| format!("{}: {e}", shown::path(file)))
}
