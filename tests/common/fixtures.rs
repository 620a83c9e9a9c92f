//! Programs the launcher tests run under `vdso run`: C fixtures compiled at test time into the
//! target dir, and the static launchers that `vdso run --arch <arch>` runs under qemu-<arch>
//! for every architecture of the table other than the host's.

use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The C cross compiler of `arch` (the row's `cross_gcc`): a command on `PATH` (Debian's
/// `riscv64-linux-gnu-gcc`), or a path relative to the repository (loongarch64's Zig wrapper,
/// `scripts/loongarch64-linux-musl-cc`, which links static musl programs).
pub fn cross_cc(arch: linux_vdso::Arch) -> String {
    let cc = arch.info().emulation.cross_gcc;
    if cc.contains('/') {
        manifest().join(cc).display().to_string()
    } else {
        cc.to_string()
    }
}

/// `tests/fixtures/launcher`.
pub fn sources() -> PathBuf {
    manifest().join("tests/fixtures/launcher")
}

/// Where fixtures are built (shared by the tests, kept between runs).
pub fn work_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("launcher-matrix");
    std::fs::create_dir_all(&d).expect("fixture dir");
    d
}

/// Runs `cmd`; its stdout, or the last line of its stderr as the error.
pub fn run_tool(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{what}: cannot run: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").to_string();
        return Err(format!("{what} failed: {last}"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `out` exists and is at least as new as `src`.
pub fn newer(out: &Path, src: &Path) -> bool {
    let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((m(out), m(src)), (Some(o), Some(s)) if o >= s)
}

/// Compiles the C fixture `source` to `name` in the work directory, unless it is up to date.
pub fn cc_from(source: &str, compiler: &str, flags: &[&str], name: &str) -> Result<PathBuf, String> {
    let src = sources().join(source);
    let out = work_dir().join(name);
    if !newer(&out, &src) {
        run_tool(Command::new(compiler).args(flags).arg("-O2").arg("-o").arg(&out).arg(&src), compiler)?;
    }
    Ok(out)
}

/// The architectures of the table that the x86_64 launcher runs under qemu-user (every one but
/// the host's), in the table's order.
pub fn foreign_arches() -> Vec<linux_vdso::Arch> {
    linux_vdso::Arch::ALL.into_iter().filter(|a| Some(*a) != linux_vdso::Arch::native()).collect()
}

/// The static launcher for `arch` (built by `scripts/build-launcher.sh <arch>`, idempotent).
pub fn launcher_for(arch: linux_vdso::Arch) -> Result<PathBuf, String> {
    let out = run_tool(
        Command::new(manifest().join("scripts/build-launcher.sh")).arg(arch.name()),
        &format!("scripts/build-launcher.sh {}", arch.name()),
    )?;
    Ok(PathBuf::from(out.lines().last().unwrap_or("").trim()))
}

/// `cmd` with `arch`'s launcher named in its environment (`VDSO_AARCH64_LAUNCHER`), or the
/// launcher's build error.
pub fn with_launcher(cmd: &mut Command, arch: linux_vdso::Arch) -> Result<(), String> {
    let launcher = launcher_for(arch)?;
    cmd.env(vdso_launcher::foreign::launcher_env(arch), launcher);
    Ok(())
}

/// Builds the Go program in `dir` for `goarch` to `out` with the `go` command `go`, unless `out`
/// is newer than `newest` (cgo off, caches in the work directory, no module proxy).
pub fn go_build(go: &Path, dir: &Path, goarch: &str, out: &Path, newest: &Path) -> Result<(), String> {
    if newer(out, newest) {
        return Ok(());
    }
    let w = work_dir();
    run_tool(
        Command::new(go)
            .args(["build", "-trimpath", "-o"])
            .arg(out)
            .arg(".")
            .current_dir(dir)
            .env("GOARCH", goarch)
            .env("GOOS", "linux")
            .env("CGO_ENABLED", "0")
            .env("GOCACHE", w.join("gocache"))
            .env("GOPATH", w.join("gopath"))
            .env("GOFLAGS", "-mod=mod")
            .env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off"),
        "go build",
    )?;
    Ok(())
}
