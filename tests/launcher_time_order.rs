//! Time under `vdso run` is ordered as the kernel's own: a program that compares our vDSO with
//! the system call must never see our clocks out of step with the kernel's.
//!
//! A C fixture (`tests/fixtures/launcher/clock_order.c`) runs on our image with no offsets and
//! takes `SAMPLES` samples per clock of syscall, vDSO, syscall:
//! - REALTIME, MONOTONIC, MONOTONIC_RAW, BOOTTIME and TAI: `syscall <= vdso <= syscall`, every
//!   time (the writer tracks the host's MONOTONIC with feedback and takes REALTIME, BOOTTIME and
//!   TAI as the host's exact offsets from it);
//! - REALTIME_COARSE and MONOTONIC_COARSE: never after the following syscall, and behind the
//!   preceding one by at most the time between two updates of the page plus how stale the
//!   host's coarse clock was when the writer copied it (the writer reports both through
//!   `--writer-stats`; on time, that is one tick, since it copies just after a host tick);
//! - COARSE and `time()` never ahead of the fine clock read after them, and `time()` never ahead
//!   of REALTIME_COARSE, ours or the kernel's, read after it (over at least two second
//!   boundaries, where an early second would show) — with musl (the loongarch64 fixtures),
//!   whose `time()` is REALTIME's seconds, `time()` may lead the coarse clocks by what COARSE
//!   may lag (one update interval), no more;
//! - all of it at the default 250 Hz and at 10 kHz.
//!
//! One allowance, measured rather than assumed: qemu-aarch64 7.2's user mode derives
//! `CNTVCT_EL0` from a microsecond clock, so the counter our aarch64 image reads advances in
//! 1 µs steps (62 or 63 ticks of its 62.5 MHz) while the kernel's syscall answers to the
//! nanosecond. No reader of that counter can be ordered against the syscall more finely than
//! one step, so a fine clock's sample is out of order only when it lies outside the syscalls'
//! bracket by more than the step `counter_step.c` measures under `vdso run` (0 on x86_64 and
//! riscv64, where the counter is fine-grained: there the bracket is exact).
//!
//! On x86_64 the program and the launcher run natively; the program of every other architecture
//! of the table (riscv64, aarch64, loongarch64) runs on that architecture's static launcher under qemu-user,
//! driven from the x86_64 run as the matrix is.
//!
//! Not run as aarch64 binaries: the x86_64 run drives the aarch64 launcher (as it does the
//! riscv64 one, whose test binaries do compile this file and ignore its tests); an aarch64
//! launcher under qemu would start no second qemu, so there is nothing more to run there.
#![cfg(any(target_arch = "x86_64", target_arch = "riscv64"))]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::fixtures::{cc_from, cross_cc, foreign_arches, with_launcher};
use linux_vdso::{Arch, Profile, Variant};

const SAMPLES: u32 = 100_000;
/// The tick rates the launcher is asked for: the default, and the fastest it allows (where a
/// correction time constant of a few ticks once let one noisy bracket slew the clock out of
/// order).
const HZ: [u32; 2] = [250, 10_000];

/// The writer's statistics file, once it has appeared (the writer writes it after the program
/// ends, from a process of its own).
fn writer_stats(path: &Path) -> BTreeMap<String, u64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        if let Ok(t) = std::fs::read_to_string(path) {
            break t;
        }
        assert!(Instant::now() < deadline, "the writer left no statistics at {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    };
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

/// How the fixture's libc makes `time()`: glibc from the coarse clock (the kernel's `time` is
/// its coarse clock's seconds), musl as `clock_gettime(CLOCK_REALTIME)`'s seconds
/// (src/time/time.c), which by design runs ahead of the coarse clock by up to one tick, on
/// Linux too. The loongarch64 fixtures are musl (no loongarch64 glibc here).
#[derive(Clone, Copy, PartialEq)]
enum TimeSource {
    Coarse,
    Fine,
}

/// Runs the fixture through `vdso run` at each tick rate and checks every line it prints, in the
/// classic profile; then in every other profile `arch` has a row of the default page size of (`--profile modern`:
/// the same writer publishing Linux 6.18's layout) at the slower rate, whose longer gaps make
/// the COARSE lag the larger figure (one rate keeps the suite's time in check).
fn check(program: &Path, arch: &str, step_ns: u64, time: TimeSource) {
    for hz in HZ {
        check_at(program, arch, Profile::Classic, hz, step_ns, time);
    }
    let a = Arch::ALL.into_iter().find(|a| a.name() == arch).expect("an arch of the table");
    let page = Variant::default_for(a).page_size;
    for v in Variant::of_arch(a).filter(|v| v.profile != Profile::Classic && v.page_size == page) {
        check_at(program, arch, v.profile, HZ[0], step_ns, time);
    }
}

/// The `vdso` command, with the launcher for `arch` named if it is a foreign one.
fn vdso_for(arch: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vdso"));
    if let Some(foreign) = foreign_arches().into_iter().find(|a| a.name() == arch) {
        with_launcher(&mut cmd, foreign).unwrap_or_else(|e| panic!("the {arch} launcher: {e}"));
    }
    cmd
}

/// The counter's step under `vdso run` for `arch`, in ns (see the module docs).
fn counter_step_ns(arch: &str, cc: &str) -> u64 {
    let program =
        cc_from("counter_step.c", cc, &["-static"], &format!("counter-step-{arch}")).expect("fixture");
    let out = vdso_for(arch).args(["run", "--arch", arch, "--"]).arg(&program).output().expect("vdso run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{arch}: {out:?}");
    let step = text.strip_prefix("step_ns ").and_then(|n| n.trim().parse().ok());
    let step = step.unwrap_or_else(|| panic!("{arch}: counter_step printed {text:?}"));
    // A step of more than 10 µs would make the allowance meaningless.
    assert!(step <= 10_000, "{arch}: the counter moves in steps of {step} ns");
    step
}

fn check_at(program: &Path, arch_name: &str, profile: Profile, hz: u32, step_ns: u64, time: TimeSource) {
    let arch = arch_name;
    let dir = common::scratch_dir(&format!("time-order-{arch}-{}-{hz}", profile.name()));
    let stats_path = dir.join("writer-stats.txt");
    let mut cmd = vdso_for(arch);
    // Named in every message below.
    let arch = format!("{arch_name} {}", profile.name());
    let arch = arch.as_str();
    cmd.args([
        "run",
        "--arch",
        arch_name,
        "--profile",
        profile.name(),
        "--hz",
        &hz.to_string(),
        "--writer-stats",
    ])
    .arg(&stats_path)
    .arg("--")
    .arg(program)
    .arg(SAMPLES.to_string());
    const FINE: [&str; 5] = ["REALTIME", "MONOTONIC", "MONOTONIC_RAW", "BOOTTIME", "TAI"];
    let out = cmd.output().expect("vdso run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{arch}: {out:?}");
    assert_eq!(stdout.lines().last(), Some("DONE"), "{arch}: {stdout}");
    let stats = writer_stats(&stats_path);
    let figure = |k: &str| *stats.get(k).unwrap_or_else(|| panic!("{arch}: no {k} in {stats:?}"));
    // A COARSE read copies the host's coarse clock as of our last update: it lags the host's by
    // the time since that update (at most the longest gap between updates) plus how stale the
    // host's clock was when copied. The writer measured both; 100 µs covers the reads between
    // its samples. With the writer on time, that is one tick: gap = 1/HZ, staleness ~0.25 ms.
    let lag_allowed = figure("max_gap_ns") + figure("max_coarse_staleness_ns") + 100_000;
    let mut checks = 0;
    let mut failures = Vec::new();
    for line in stdout.lines().filter(|l| *l != "DONE") {
        let f: Vec<&str> = line.split_whitespace().collect();
        let samples = f.get(2).and_then(|n| n.parse::<u32>().ok());
        assert!(samples >= Some(SAMPLES), "{arch}: {line}");
        match f[..] {
            // A fine clock within one counter step of the bracket (see the module docs).
            [name, "samples", _, "bad", _, "worst_ns", worst]
                if FINE.contains(&name) && worst.parse::<u64>().is_ok_and(|w| w <= step_ns) => {}
            // musl's `time()` is the fine clock's seconds: ahead of the coarse ones by at most
            // the time since the last update, as the COARSE lag is behind (see `TimeSource`).
            ["TIME_AHEAD_OF_COARSE" | "TIME_AHEAD_OF_KERNEL_TIME", "samples", _, "bad", _, "worst_ns", worst]
                if time == TimeSource::Fine && worst.parse::<u64>().is_ok_and(|w| w <= lag_allowed) => {}
            [_, "samples", _, "bad", bad, "worst_ns", _] if bad != "0" => failures.push(line.to_string()),
            [_, "samples", _, "bad", _, "worst_ns", _] => {}
            [name, "samples", _, "max_ns", lag] => {
                let lag: u64 = lag.parse().expect("a lag in ns");
                if lag > lag_allowed {
                    failures.push(format!("{name} {lag} ns > {lag_allowed} ns allowed"));
                }
            }
            _ => panic!("{arch}: malformed line {line:?}"),
        }
        checks += 1;
    }
    println!(
        "{arch} at {hz} Hz (COARSE lag allowed {lag_allowed} ns, fine clocks {step_ns} ns):\n{stdout}writer:\n{stats:?}"
    );
    assert_eq!(checks, 5 + 2 * 3 + 3, "{arch}: every check reported: {stdout}");
    // The lag allowance comes from the writer's own figures; a writer that stalled for a second
    // would make it meaningless.
    assert!(figure("max_gap_ns") < 1_000_000_000, "{arch} at {hz} Hz: the writer stalled: {stats:?}");
    assert!(failures.is_empty(), "{arch} at {hz} Hz: out of order:\n{}", failures.join("\n"));
}

#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "drives both launchers from the x86_64 run (the riscv64 one under qemu-riscv64) with the x86_64 cross compiler"
)]
fn clocks_under_vdso_run_are_ordered_like_the_kernels_on_x86_64() {
    let program = cc_from("clock_order.c", "gcc", &[], "clock-order-x86_64").expect("fixture");
    check(&program, "x86_64", counter_step_ns("x86_64", "gcc"), TimeSource::Coarse);
}

#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "drives the other architectures' launchers under qemu-user from the x86_64 run, with the host's cross compilers"
)]
fn clocks_under_vdso_run_are_ordered_like_the_kernels_on_every_foreign_arch() {
    // riscv64, aarch64 and loongarch64 today: every architecture of the table but the host's.
    for arch in foreign_arches() {
        let name = arch.name();
        let cc = cross_cc(arch);
        let cc = cc.as_str();
        let program = cc_from("clock_order.c", cc, &[], &format!("clock-order-{name}")).expect("fixture");
        let time = if arch.info().emulation.glibc { TimeSource::Coarse } else { TimeSource::Fine };
        check(&program, name, counter_step_ns(name, cc), time);
    }
}

/// `vdso run --host-data`: the program's clocks come from the host kernel's own pages, so every
/// check is exact: fine clocks inside the syscalls' bracket, COARSE never behind the syscall
/// read before it (the kernel updates its coarse clock and our page's in one write section).
/// Inside a time namespace too (`unshare -T`, where permitted): the syscalls then answer the
/// namespace's clocks, and so must the image, from the namespace page the kernel maps.
#[test]
#[cfg_attr(
    not(target_arch = "x86_64"),
    ignore = "the host kernel's pages serve only an image of the host's architecture (x86_64 here)"
)]
fn clocks_under_vdso_run_host_data_are_ordered_exactly_like_the_kernels() {
    use vdso_launcher::host_data::{check, HostFacts, HostLayout};
    let layout = HostLayout::of(linux_vdso::Arch::X86_64).expect("a modern x86_64 row");
    if let Err(why) = check(&layout, &HostFacts::read().expect("host facts")) {
        eprintln!(
            "skipped: this host's pages are not the modern layout ({why}); launcher_cli checks the refusal"
        );
        return;
    }
    let program = cc_from("clock_order.c", "gcc", &[], "clock-order-x86_64").expect("fixture");
    let vdso = env!("CARGO_BIN_EXE_vdso");
    let unshare_works = Command::new("unshare")
        .args(["-T", "--monotonic", "1000", "--boottime", "2000", "--fork", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut runs = vec![("host", Command::new(vdso))];
    if unshare_works {
        let mut c = Command::new("unshare");
        c.args(["-T", "--monotonic", "1000", "--boottime", "2000", "--fork", vdso]);
        runs.push(("time namespace", c));
    } else {
        eprintln!("no time-namespace run: unshare -T is not permitted here");
    }
    for (what, mut cmd) in runs {
        let out = cmd
            .args(["run", "--host-data", "--"])
            .arg(&program)
            .arg(SAMPLES.to_string())
            .output()
            .expect("vdso run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{what}: {out:?}");
        assert_eq!(stdout.lines().last(), Some("DONE"), "{what}: {stdout}");
        let mut checks = 0;
        for line in stdout.lines().filter(|l| *l != "DONE") {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f[..] {
                [_, "samples", _, "bad", bad, "worst_ns", _] => assert_eq!(bad, "0", "{what}: {line}"),
                [_, "samples", _, "max_ns", lag] => {
                    assert_eq!(lag, "0", "{what}: COARSE behind the kernel's: {line}")
                }
                _ => panic!("{what}: malformed line {line:?}"),
            }
            checks += 1;
        }
        assert_eq!(checks, 5 + 2 * 3 + 3, "{what}: every check reported: {stdout}");
        println!("--host-data ({what}):\n{stdout}");
    }
}
