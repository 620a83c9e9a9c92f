//! Running a program of another architecture from this launcher: `exec` qemu-user with the
//! launcher's build for that architecture, which then does everything a native launcher does,
//! inside the emulator. Everything architecture-specific (qemu's name, its sysroot, the Rust
//! target, `e_machine`, the launcher's text address) is the architecture's row of `vdso-abi`'s
//! table; today the x86_64 launcher runs riscv64 and aarch64 programs this way.
//!
//! qemu-user 7.2 gives its guests no vDSO of their own and runs whatever entry point the guest
//! jumps to, so a riscv64 (aarch64) launcher under `qemu-riscv64` (`qemu-aarch64`) can map our
//! image and become the program exactly as the x86_64 launcher does natively. That launcher
//! must be a *static* executable whose code sits far from where programs load:
//! `scripts/build-launcher.sh <arch>` builds the `vdso` command for the row's Rust target with
//! `+crt-static` and `-Ttext-segment=<the row's launcher_text>` (0x60000000, 1.5 GiB, for both:
//! clear of riscv64's 0x10000 and aarch64's 0x400000 executables, within reach of the static
//! start files' code models, far below where qemu maps loaders and position-independent
//! programs) into `target/<arch>-launcher/`.
//!
//! Where the launcher for `<arch>` is looked for, first found wins:
//! 1. `$VDSO_<ARCH>_LAUNCHER` (`VDSO_RISCV64_LAUNCHER`, `VDSO_AARCH64_LAUNCHER`);
//! 2. `vdso-<arch>` next to the running executable;
//! 3. `../<arch>-launcher/<target>/release/vdso` from the running executable's directory (where
//!    the script builds it, seen from `target/<profile>/vdso`).
//!
//! qemu is `$VDSO_QEMU_<ARCH>` or the row's qemu (`qemu-riscv64`, `qemu-aarch64`) from `PATH`, with the sysroot
//! `$VDSO_QEMU_LD_PREFIX` (default: the row's, `/usr/riscv64-linux-gnu`) passed as `-L`, where
//! qemu finds dynamic programs' loader and libraries.
//!
//! The options are forwarded in a canonical form (nanoseconds; the wall clock's offset as this
//! side resolved it), so the other side works with exactly what this side checked.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use vdso_kernel_stub::Arch;

use crate::error::Error;
use crate::options::{arch_name, RunOptions};
use crate::{fds, shown};

/// Environment variable naming the launcher for `arch` (`VDSO_RISCV64_LAUNCHER`).
pub fn launcher_env(arch: Arch) -> String {
    format!("VDSO_{}_LAUNCHER", arch.name().to_uppercase())
}
/// Environment variable naming the qemu-user binary for `arch` (`VDSO_QEMU_RISCV64`).
pub fn qemu_env(arch: Arch) -> String {
    format!("VDSO_QEMU_{}", arch.name().to_uppercase())
}
/// Environment variable naming qemu's sysroot.
pub const LD_PREFIX_ENV: &str = "VDSO_QEMU_LD_PREFIX";

/// Where the launcher for `arch` is (see the module docs).
pub fn foreign_launcher(arch: Arch) -> Result<PathBuf, Error> {
    let env = launcher_env(arch);
    let name = arch.name();
    if let Some(p) = std::env::var_os(&env) {
        let p = PathBuf::from(p);
        return if !p.is_file() {
            Err(Error::setup(format!("${env} names {}, which is not a file", shown::path(&p))))
        } else if !is_elf_of(&p, arch) {
            // qemu would fail on it without a word.
            Err(Error::setup(format!(
                "${env} names {}, which is not a {name} ELF executable",
                shown::path(&p)
            )))
        } else {
            Ok(p)
        };
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::setup(format!("cannot find the running executable: {e}")))?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let candidates = [
        dir.join(format!("vdso-{name}")),
        dir.join(format!("../{name}-launcher/{}/release/vdso", arch.linux_target())),
    ];
    candidates.into_iter().find(|p| p.is_file() && is_elf_of(p, arch)).ok_or_else(|| {
        Error::setup(format!(
            "no {name} launcher: run scripts/build-launcher.sh {name} or set ${env} (looked in {})",
            shown::path(dir)
        ))
    })
}

/// Whether `path` starts as a 64-bit little-endian ELF file for `arch`'s `e_machine`.
fn is_elf_of(path: &Path, arch: Arch) -> bool {
    use std::io::Read;
    let mut header = [0u8; 20];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header)).is_ok()
        && header.starts_with(b"\x7fELF\x02\x01")
        && u16::from_le_bytes([header[18], header[19]]) == arch.e_machine()
}

/// A command running `qemu` (the row's qemu-user binary, or another the user named) as `arch`'s
/// row needs it: with the host's address-space randomization off where the row says
/// `fixed_layout` (qemu-loongarch64 7.2's `mmap` fault, see `Emulation::fixed_layout`). Every
/// place that starts qemu-user for a row goes through here.
pub fn qemu_command(arch: Arch, qemu: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(qemu);
    if arch.info().emulation.fixed_layout {
        // SAFETY: between fork and exec the closure makes two `personality` system calls
        // (async-signal-safe, no allocation, no locks) and touches nothing of the parent.
        unsafe {
            c.pre_exec(|| {
                // 0xffff_ffff reads the current persona without changing it.
                let current = libc::personality(0xffff_ffff);
                if current == -1 || libc::personality((current as libc::c_ulong) | ADDR_NO_RANDOMIZE) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
        };
    }
    c
}
/// `ADDR_NO_RANDOMIZE` of `<linux/personality.h>` (what `setarch -R` sets).
const ADDR_NO_RANDOMIZE: libc::c_ulong = 0x0040000;

/// The command line that runs `command` on `arch`'s launcher under qemu.
pub fn command(
    arch: Arch,
    launcher: &Path,
    options: &RunOptions,
    realtime_offset_ns: i64,
    command: &[OsString],
) -> Command {
    let emu = arch.info().emulation;
    let qemu = std::env::var_os(qemu_env(arch)).unwrap_or_else(|| emu.qemu.into());
    let prefix = std::env::var_os(LD_PREFIX_ENV).unwrap_or_else(|| emu.ld_prefix.into());
    let mut c = qemu_command(arch, qemu);
    c.arg("-L").arg(prefix).arg(launcher).arg("run");
    c.args(forwarded_options(options, realtime_offset_ns, arch));
    c.arg("--").args(command);
    c
}
/// `options` as arguments for another launcher, for architecture `arch`, with the wall clock's
/// offset as this side resolved it (both sides read the same host clock).
pub fn forwarded_options(options: &RunOptions, realtime_offset_ns: i64, arch: Arch) -> Vec<String> {
    let mut v = vec!["--arch".to_string(), arch_name(arch).to_string()];
    if realtime_offset_ns != 0 {
        v.push(format!("--realtime-offset={realtime_offset_ns:+}ns"));
    }
    if options.monotonic_offset_ns != 0 {
        v.push(format!("--monotonic-offset={:+}ns", options.monotonic_offset_ns));
    }
    if let Some(b) = options.boottime_offset_ns {
        v.push(format!("--boottime-offset={b:+}ns"));
    }
    v.push(format!("--hz={}", options.hz));
    v.push(format!("--profile={}", options.profile.name()));
    if let Some(p) = &options.writer_stats {
        // UTF-8: `vdso run` refuses any other path.
        v.push(format!("--writer-stats={}", p.to_string_lossy()));
    }
    v
}

/// Replaces this process with qemu running `arch`'s launcher; returns only on failure.
pub fn exec_foreign(arch: Arch, options: &RunOptions, realtime_offset_ns: i64, cmd: &[OsString]) -> Error {
    let launcher = match foreign_launcher(arch) {
        Ok(l) => l,
        Err(e) => return e,
    };
    // Standard descriptors the caller closed are closed for qemu (and the program) too.
    fds::close_std_closed_at_start();
    let err = command(arch, &launcher, options, realtime_offset_ns, cmd).exec();
    let qemu = arch.info().emulation.qemu;
    Error::setup(format!("cannot run {qemu} (set ${} to its path): {err}", qemu_env(arch)))
}
