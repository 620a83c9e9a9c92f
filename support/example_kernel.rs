//! Building and booting the example kernel (`examples/kernel`, docs/example-kernel.md) from the
//! root package's tests: one helper for every arch's test (`tests/riscv_kernel.rs`,
//! `tests/x86_kernel.rs`), included through `#[path]`.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "nested_cargo.rs"]
mod nested_cargo;

/// How long a boot may take before the test gives up on it.
pub const QEMU_TIMEOUT: Duration = Duration::from_secs(60);

/// The example's workspace.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kernel")
}

/// Builds `package` (release) for `target` and returns its ELF.
pub fn build(package: &str, target: &str) -> PathBuf {
    build_plain(package, target, &[])
}

/// Builds `package` (release) for `target` with cargo `features` and returns a copy of its ELF
/// named after them (`<package>-<features>`, `<package>-default` for none), which a later build
/// of the package with other features does not overwrite. Builds from one test binary take
/// turns, so tests running in parallel each boot the kernel they built.
pub fn build_with(package: &str, target: &str, features: &[&str]) -> PathBuf {
    static BUILDS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let elf = build_plain(package, target, features);
    let name = if features.is_empty() { "default".to_string() } else { features.join("-") };
    let copy = elf.with_file_name(format!("{package}-{name}"));
    std::fs::copy(&elf, &copy)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", elf.display(), copy.display()));
    copy
}

/// `cargo build --release -p package --target target [--features ...]` in the example.
fn build_plain(package: &str, target: &str, features: &[&str]) -> PathBuf {
    let dir = example_dir();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // Run inside the example so its `.cargo/config.toml` applies too.
    cmd.current_dir(&dir)
        .args(["build", "--release", "--quiet", "-p", package, "--target", target, "--manifest-path"])
        .arg(dir.join("Cargo.toml"));
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    nested_cargo::scrub(&mut cmd);
    nested_cargo::build_core_if_missing(&mut cmd, target);
    let out = cmd.output().unwrap_or_else(|e| panic!("run cargo build for {package}: {e}"));
    assert!(
        out.status.success(),
        "building {package} in examples/kernel failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let elf = dir.join("target").join(target).join("release").join(package);
    assert!(elf.exists(), "{} missing after the build", elf.display());
    elf
}

/// Runs `qemu` (a `qemu-system-*` command line without its kernel) with `-kernel elf` and
/// returns everything it printed and how long it ran.
pub fn boot(qemu: &str, args: &[&str], elf: &Path, package_hint: &str) -> (String, Duration) {
    let start = Instant::now();
    let mut child = Command::new(qemu)
        .args(args)
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{qemu} ({package_hint}; scripts/setup.sh installs it): {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for qemu") {
            break Some(status);
        }
        if start.elapsed() > QEMU_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let out = reader.join().unwrap();
    assert!(status.is_some(), "qemu did not power off within {QEMU_TIMEOUT:?}; output:\n{out}");
    (out, elapsed)
}

/// `key=value` from the report line.
pub fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .unwrap_or_else(|| panic!("report lacks {key}: {line}"))
}

/// The kernel's `VDSO-KERNEL-REPORT:` line.
pub fn report_line(out: &str) -> &str {
    out.lines()
        .find(|l| l.starts_with("VDSO-KERNEL-REPORT:"))
        .unwrap_or_else(|| panic!("no VDSO-KERNEL-REPORT line; output:\n{out}"))
}
