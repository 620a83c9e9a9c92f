//! `vdso`: build, inspect and verify `linux-vdso.so.1` images.
//!
//! `vdso build` writes both embedded images with their C headers and prints what they contain;
//! `vdso inspect` prints the same summary for any image file or for the running kernel's own
//! vDSO, so the two can be compared side by side; `vdso verify` runs the build's verifier on a
//! file; `vdso run` runs an unmodified program with our image as its vDSO. Every failure is one
//! line on stderr and a non-zero exit status.

mod host;
mod run;
mod summary;

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use linux_vdso::elf::ElfImage;
use linux_vdso::verify::{verify, Stage};
use linux_vdso::{Arch, Image};

/// Exit status for a file that could not be read or is not a usable image.
const EXIT_BAD_INPUT: u8 = 1;
/// Exit status for an image that parsed but breaks the contract.
const EXIT_VIOLATIONS: u8 = 3;

#[derive(Parser)]
#[command(name = "vdso", version, about = "linux-vdso.so.1 for riscv64 and x86_64, in no_std Rust")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write both images and their C headers (DIR/<arch>/linux-vdso.so.1 and vdso.h) and
    /// summarise them.
    Build {
        /// Output directory.
        #[arg(long, default_value = "target/vdso")]
        out: PathBuf,
    },
    /// Summarise a vDSO image: size, pages, notes, symbols with versions and offsets.
    Inspect {
        /// Image file to read.
        #[arg(required_unless_present = "host", conflicts_with = "host")]
        file: Option<PathBuf>,
        /// Read the running kernel's own vDSO from this process's memory instead.
        #[arg(long)]
        host: bool,
    },
    /// Check an image against the contract (docs/abi.md) of an architecture, as the build does.
    Verify {
        /// Image file to check.
        file: PathBuf,
        /// Architecture whose contract applies (default: the file's e_machine).
        #[arg(long, value_parser = parse_arch)]
        arch: Option<Arch>,
    },
    /// Run an unmodified Linux program with our image as its vDSO (a data page kept fresh by a
    /// writer process; optional wall-clock and time-namespace offsets).
    #[command(after_long_help = run::AFTER_HELP)]
    Run(run::RunArgs),
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    Arch::from_name(s).ok_or_else(|| format!("unknown architecture {s:?} (expected x86_64 or riscv64)"))
}

fn main() -> ExitCode {
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
            return ExitCode::from(2);
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
            for arch in Arch::ALL {
                let image = Image::get(arch);
                let dir = out.join(arch.name());
                fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let path = dir.join("linux-vdso.so.1");
                fs::write(&path, image.bytes())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                let header = dir.join("vdso.h");
                fs::write(&header, image.c_header())
                    .map_err(|e| format!("cannot write {}: {e}", header.display()))?;
                let parsed =
                    ElfImage::parse(image.bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
                println!("{}", summary::render(&path.display().to_string(), &parsed));
                println!("  C header: {}\n", header.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { file: Some(file), .. } => {
            let bytes = read(&file)?;
            let parsed = ElfImage::parse(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
            println!("{}", summary::render(&file.display().to_string(), &parsed));
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { file: None, .. } => {
            let (addr, bytes) = host::read_own_vdso()?;
            let parsed = ElfImage::parse(&bytes).map_err(|e| format!("the host vDSO at {addr:#x}: {e}"))?;
            println!(
                "{}",
                summary::render(&format!("host kernel vDSO at {addr:#x} (AT_SYSINFO_EHDR)"), &parsed)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => Ok(run::run(args)),
        Command::Verify { file, arch } => {
            let bytes = read(&file)?;
            let parsed = ElfImage::parse(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
            let arch = match arch {
                Some(a) => a,
                None => Arch::ALL.into_iter().find(|a| a.e_machine() == parsed.machine).ok_or_else(|| {
                    format!(
                        "{}: e_machine {} is neither x86_64 nor riscv64",
                        file.display(),
                        parsed.machine_name()
                    )
                })?,
            };
            let stage = if parsed.static_symbols.is_empty() { Stage::Stripped } else { Stage::Unstripped };
            let violations = verify(&parsed, arch, stage);
            if violations.is_empty() {
                println!(
                    "{}: a valid {} vDSO image (ABI revision {})",
                    file.display(),
                    arch.name(),
                    linux_vdso::abi::ABI_REVISION
                );
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!(
                    "{}: {} violation(s) of the {} vDSO contract:",
                    file.display(),
                    violations.len(),
                    arch.name()
                );
                for v in &violations {
                    eprintln!("  - {v}");
                }
                Ok(ExitCode::from(EXIT_VIOLATIONS))
            }
        }
    }
}

/// The most a file may hold to be read as an image: a vDSO is a few pages, so anything larger is
/// refused instead of read (`/dev/zero` would never end).
const MAX_IMAGE_FILE: u64 = 1 << 20;

/// Reads an image file: a regular file (a FIFO or a device would block or never end) of at most
/// [`MAX_IMAGE_FILE`] bytes.
fn read(file: &PathBuf) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", file.display());
    // Checked before opening: opening a FIFO for reading blocks until a writer comes.
    if !fs::metadata(file).map_err(cannot)?.is_file() {
        return Err(format!("cannot read {}: not a regular file", file.display()));
    }
    let f = fs::File::open(file).map_err(cannot)?;
    let mut bytes = Vec::new();
    f.take(MAX_IMAGE_FILE + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > MAX_IMAGE_FILE {
        return Err(format!(
            "{}: more than {MAX_IMAGE_FILE} bytes, too large for a vDSO image",
            file.display()
        ));
    }
    Ok(bytes)
}
