//! The proof on bare metal: `examples/riscv-kernel` (a tiny S-mode kernel) maps the riscv64 image
//! at a random address in a user address space, keeps its data page fresh from the timer, and
//! runs a user program that resolves the image like a libc and checks every clock. Booted twice
//! under `qemu-system-riscv64 -machine virt -bios default` (OpenSBI); the kernel's report must
//! show that the served clocks never trapped, that unserved ids reached the kernel and came back
//! as -EINVAL, and that signal handlers returned through `__vdso_rt_sigreturn`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use linux_vdso::{Arch, Image};

#[path = "../support/nested_cargo.rs"]
mod nested_cargo;

const TARGET: &str = "riscv64gc-unknown-none-elf";
const QEMU_TIMEOUT: Duration = Duration::from_secs(60);

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/riscv-kernel")
}

fn build_kernel() -> PathBuf {
    let dir = example_dir();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // Run inside the example so its `.cargo/config.toml` applies too.
    cmd.current_dir(&dir)
        .args(["build", "--release", "--quiet", "--target", TARGET, "--manifest-path"])
        .arg(dir.join("Cargo.toml"));
    nested_cargo::scrub(&mut cmd);
    let out = cmd.output().expect("run cargo build for examples/riscv-kernel");
    assert!(
        out.status.success(),
        "building examples/riscv-kernel failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let elf = dir.join("target").join(TARGET).join("release/riscv-kernel");
    assert!(elf.exists(), "{} missing after the build", elf.display());
    elf
}

/// Boots the kernel and returns everything it printed.
fn boot(elf: &Path) -> String {
    let mut child = Command::new("qemu-system-riscv64")
        .args(["-machine", "virt", "-nographic", "-m", "128M", "-bios", "default", "-no-reboot", "-kernel"])
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-riscv64 (Debian: qemu-system-misc; scripts/setup.sh installs it)");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
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
    let out = reader.join().unwrap();
    assert!(status.is_some(), "qemu did not power off within {QEMU_TIMEOUT:?}; output:\n{out}");
    out
}

/// `key=value` from the report line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .unwrap_or_else(|| panic!("report lacks {key}: {line}"))
}

fn report_line(out: &str) -> &str {
    out.lines()
        .find(|l| l.starts_with("VDSO-KERNEL-REPORT:"))
        .unwrap_or_else(|| panic!("no VDSO-KERNEL-REPORT line; output:\n{out}"))
}

#[test]
#[cfg_attr(target_arch = "riscv64", ignore = "boots a full-system emulator; the x86_64 run covers it")]
fn riscv_kernel_serves_every_clock_without_a_trap_and_returns_from_signals_through_the_vdso() {
    let elf = build_kernel();
    let image = Image::get(Arch::Riscv64);
    let sigreturn = image.symbol("__vdso_rt_sigreturn").unwrap().offset;

    let mut bases = Vec::new();
    for _ in 0..2 {
        let out = boot(&elf);
        let line = report_line(&out);
        assert!(line.starts_with("VDSO-KERNEL-REPORT: ok "), "kernel reports failure:\n{out}");
        // The served clocks never entered the kernel; the unserved ones did, from inside the
        // image, and got the kernel's -EINVAL back unchanged.
        assert_eq!(field(line, "served_ecalls"), "0", "{line}");
        assert_eq!(field(line, "fallback_ecalls"), "4", "{line}");
        assert_eq!(field(line, "fallback_from_vdso"), "4", "{line}");
        assert_eq!(field(line, "fallback_results"), "-22,-22,-22,-22", "{line}");
        assert!(field(line, "served_calls").parse::<u64>().unwrap() > 10_000, "{line}");
        // Both handlers were entered with ra = __vdso_rt_sigreturn and returned through it.
        assert_eq!(field(line, "signals"), "2", "{line}");
        assert_eq!(field(line, "sigreturn_via_vdso"), "2", "{line}");
        assert_eq!(field(line, "handler_ra_ok"), "2", "{line}");
        assert_eq!(field(line, "frame_restored"), "1", "{line}");
        assert_eq!(field(line, "symbols"), "7", "{line}");
        assert_eq!(field(line, "kernel_bracket_err_ns"), "0", "{line}");
        assert_eq!(field(line, "res_coarse_ns"), (1_000_000_000 / image.hz()).to_string(), "{line}");
        assert_eq!(field(line, "timens_ok"), "1", "{line}");
        assert_eq!(field(line, "hwprobe_ok"), "1", "{line}");
        assert_eq!(field(line, "passthrough_from_vdso"), "2", "{line}");
        assert!(field(line, "ticks").parse::<u64>().unwrap() >= 5, "{line}");

        // The image sits where the kernel said, the program found it there, and the kernel's
        // sigreturn address is base + the generated table's offset.
        let base = u64::from_str_radix(field(line, "vdso_base").trim_start_matches("0x"), 16).unwrap();
        assert!((0x10_0000_0000..0x30_0000_0000).contains(&base), "{line}");
        assert!(out.contains(&format!("user: AT_SYSINFO_EHDR = {base:#x}")), "{out}");
        assert!(out.contains(&format!("= {:#x} (generated table)", base + sigreturn)), "{out}");
        bases.push(base);
    }
    assert_ne!(bases[0], bases[1], "the vDSO address is not randomised");
}
