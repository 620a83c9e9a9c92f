//! The real-client matrix: unmodified programs of every kind we promise, run by `vdso run` on our
//! image, each proving it got its time from our data page.
//!
//! Proof, per row:
//! - the wall clock the program reads through its libc or runtime is the one only our page can
//!   give (`--realtime-offset 2099-01-01T00:00:00Z`; `date` gets `+100y`), and MONOTONIC is the
//!   host's plus the `--monotonic-offset` (a time-namespace page, which the kernel knows nothing
//!   of);
//! - `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)` still works (the image's syscall fallback);
//! - on x86_64, under `strace -f`, the program's own threads make no `clock_gettime` syscall for
//!   a clock the page serves and no `gettimeofday` or `time` syscall, while its CPU-time
//!   `clock_gettime` does show up (so the trace does see the program). The launcher's writer
//!   process is told apart by ancestry: it is the first process the launcher forks, with its
//!   descendants; everything else is the program.
//!
//! Fixtures are built once into `target/tmp/launcher-matrix/` (gcc, musl-gcc, riscv64-linux-gnu-gcc,
//! Go with its cache there, cargo with their own lockfile for the Rust ones); the riscv64 rows run under qemu-riscv64
//! on the static riscv64 launcher that `scripts/build-riscv64-launcher.sh` builds. The table is
//! printed (see it with `scripts/matrix.sh`) and written to `target/tmp/launcher-matrix/matrix.txt`.
//!
//! Not run as aarch64 binaries: `vdso run` on aarch64 (its launcher rows, the foreign-arch cases
//! seen from an aarch64 launcher) is the launcher part of issue 11, not done yet; the aarch64
//! image itself is tested by every other test file.
#![cfg(any(target_arch = "x86_64", target_arch = "riscv64"))]

mod common;
#[path = "../support/nested_cargo.rs"]
mod nested_cargo;

use common::fixtures::{cc_from, newer, riscv64_launcher, run_tool, sources as fixtures, work_dir};

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The wall clock every clocks row is started at.
const DATE: &str = "2099-01-01T00:00:00Z";
const DATE_SECS: f64 = 4_070_908_800.0;
/// The namespace offset of MONOTONIC.
const MONO_OFFSET: &str = "+1d";
const MONO_OFFSET_SECS: f64 = 86_400.0;
/// Slack for start-up and qemu's translation time.
const SLACK: f64 = 2.0;

const SERVED: &[&str] = &[
    "CLOCK_REALTIME",
    "CLOCK_MONOTONIC",
    "CLOCK_MONOTONIC_RAW",
    "CLOCK_REALTIME_COARSE",
    "CLOCK_MONOTONIC_COARSE",
    "CLOCK_BOOTTIME",
    "CLOCK_TAI",
];

fn cc(compiler: &str, flags: &[&str], name: &str) -> Result<PathBuf, String> {
    cc_from("clocks.c", compiler, flags, name)
}

fn go(goarch: &str) -> Result<PathBuf, String> {
    let out = work_dir().join(format!("go-clocks-{goarch}"));
    let src = fixtures().join("go/clocks.go");
    if !newer(&out, &src) {
        let w = work_dir();
        run_tool(
            Command::new("go")
                .args(["build", "-trimpath", "-o"])
                .arg(&out)
                .arg(".")
                .current_dir(fixtures().join("go"))
                .env("GOARCH", goarch)
                .env("GOOS", "linux")
                .env("CGO_ENABLED", "0")
                .env("GOCACHE", w.join("gocache"))
                .env("GOPATH", w.join("gopath"))
                .env("GOFLAGS", "-mod=mod")
                .env("GOPROXY", "off"),
            "go build",
        )?;
    }
    Ok(out)
}

fn rust(target: Option<&str>, bin: &str) -> Result<PathBuf, String> {
    let dir = work_dir().join("rust");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.args(["build", "--locked", "--release", "--quiet", "--bin", bin, "--target-dir"])
        .arg(&dir)
        .current_dir(fixtures().join("rust"));
    nested_cargo::scrub(&mut c);
    if let Some(t) = target {
        c.args(["--target", t]);
    }
    run_tool(&mut c, "cargo build of the Rust fixtures")?;
    Ok(match target {
        Some(t) => dir.join(t).join("release").join(bin),
        None => dir.join("release").join(bin),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// `date -u`: only the wall clock, as a calendar date.
    Date,
    /// The clocks fixtures: REALTIME, MONOTONIC, CPUTIME (and GETTIMEOFDAY, TIME for C).
    Clocks,
}

struct Row {
    consumer: &'static str,
    arch: &'static str,
    shape: Shape,
    program: Result<Vec<OsString>, String>,
}

fn rows() -> Vec<Row> {
    let one = |p: Result<PathBuf, String>| p.map(|p| vec![p.into_os_string()]);
    let row = |consumer, arch, program| Row { consumer, arch, shape: Shape::Clocks, program };
    vec![
        Row {
            consumer: "/bin/date (coreutils, glibc)",
            arch: "x86_64",
            shape: Shape::Date,
            program: Ok(vec!["date".into(), "-u".into(), "+DATE %Y-%m-%d %s".into()]),
        },
        row("glibc C, dynamic", "x86_64", one(cc("gcc", &[], "c-glibc-dynamic-x86_64"))),
        row("glibc C, static", "x86_64", one(cc("gcc", &["-static"], "c-glibc-static-x86_64"))),
        row("musl C, static", "x86_64", one(cc("musl-gcc", &["-static"], "c-musl-static-x86_64"))),
        row("Go (runtime)", "x86_64", one(go("amd64"))),
        row("Rust std", "x86_64", one(rust(None, "std_clocks"))),
        row("rustix (use-libc-auxv)", "x86_64", one(rust(None, "rustix_clocks"))),
        row("glibc C, dynamic", "riscv64", one(cc("riscv64-linux-gnu-gcc", &[], "c-glibc-dynamic-riscv64"))),
        row(
            "glibc C, static",
            "riscv64",
            one(cc("riscv64-linux-gnu-gcc", &["-static"], "c-glibc-static-riscv64")),
        ),
        row("Go (runtime)", "riscv64", one(go("riscv64"))),
        row("Rust std", "riscv64", one(rust(Some("riscv64gc-unknown-linux-gnu"), "std_clocks"))),
    ]
}

fn now(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn utc_date(secs: i64) -> (i64, u32, u32) {
    // Civil date of a Unix time (days since 1970-01-01 shifted to a March-based era).
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// What one run showed.
#[derive(Default)]
struct Seen {
    realtime: String,
    monotonic: String,
    cputime: String,
    syscalls: String,
    problems: Vec<String>,
}

fn field(out: &str, key: &str) -> Option<Vec<String>> {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .map(|l| l.split_whitespace().skip(1).map(str::to_string).collect())
}

fn num(v: Option<&String>) -> Option<f64> {
    v.and_then(|s| s.parse().ok())
}

/// Counts the program's clock syscalls in an `strace -f` log: (served clock ids + gettimeofday +
/// time, CPU-time clock_gettime).
fn program_clock_syscalls(log: &str) -> (Vec<String>, usize) {
    let mut parent: BTreeMap<u32, u32> = BTreeMap::new();
    let mut order: Vec<(u32, u32)> = Vec::new();
    let mut root = None;
    for line in log.lines() {
        let Some((pid, rest)) = line.split_once(char::is_whitespace) else { continue };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        root.get_or_insert(pid);
        let rest = rest.trim_start();
        let is_clone = ["clone(", "clone3(", "fork(", "vfork(", "<... clone", "<... fork", "<... vfork"]
            .iter()
            .any(|p| rest.starts_with(p));
        if is_clone {
            if let Some(child) = rest.rsplit("= ").next().and_then(|c| c.trim().parse::<u32>().ok()) {
                parent.insert(child, pid);
                order.push((pid, child));
            }
        }
    }
    let root = root.unwrap_or(0);
    // The writer: the launcher's first child and everything below it.
    let mut writer: BTreeSet<u32> = BTreeSet::new();
    if let Some(&(_, first)) = order.iter().find(|(p, _)| *p == root) {
        writer.insert(first);
        loop {
            let before = writer.len();
            for (&c, p) in &parent {
                if writer.contains(p) {
                    writer.insert(c);
                }
            }
            if writer.len() == before {
                break;
            }
        }
    }
    let mut bad = Vec::new();
    let mut cpu = 0;
    for line in log.lines() {
        let Some((pid, rest)) = line.split_once(char::is_whitespace) else { continue };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if writer.contains(&pid) {
            continue;
        }
        let rest = rest.trim_start();
        if let Some(args) = rest.strip_prefix("clock_gettime(") {
            let id = args.split([',', ' ']).next().unwrap_or("");
            if SERVED.contains(&id) {
                bad.push(format!("clock_gettime({id})"));
            } else if id.contains("CPUTIME") {
                cpu += 1;
            }
        } else if rest.starts_with("gettimeofday(") || rest.starts_with("time(") {
            bad.push(rest.split('(').next().unwrap_or("").to_string());
        }
    }
    (bad, cpu)
}

fn run_row(row: &Row, vdso: &Path, rv_launcher: &Result<PathBuf, String>, strace: bool) -> Seen {
    let mut seen = Seen::default();
    let program = match &row.program {
        Ok(p) => p.clone(),
        Err(e) => {
            seen.problems.push(format!("fixture: {e}"));
            return seen;
        }
    };
    let mut args: Vec<OsString> = vec!["run".into()];
    match row.shape {
        Shape::Date => args.extend(["--realtime-offset".into(), "+100y".into()]),
        Shape::Clocks => args.extend([
            "--realtime-offset".into(),
            DATE.into(),
            "--monotonic-offset".into(),
            MONO_OFFSET.into(),
        ]),
    }
    args.push("--".into());
    args.extend(program);
    let trace =
        work_dir().join(format!("strace-{}-{}.txt", row.arch, row.consumer.replace(['/', ' ', ','], "_")));
    let traced = strace && row.arch == "x86_64";
    let mut cmd = if traced {
        let mut c = Command::new("strace");
        c.args(["-f", "-qq", "-e", "trace=clock_gettime,gettimeofday,time,clone,clone3,fork,vfork", "-o"])
            .arg(&trace)
            .arg(vdso);
        c
    } else {
        Command::new(vdso)
    };
    cmd.args(&args);
    if row.arch == "riscv64" {
        match rv_launcher {
            Ok(p) => {
                cmd.env("VDSO_RISCV64_LAUNCHER", p);
            }
            Err(e) => {
                seen.problems.push(format!("riscv64 launcher: {e}"));
                return seen;
            }
        }
    }
    let (real0, mono0) = (now(libc::CLOCK_REALTIME), now(libc::CLOCK_MONOTONIC));
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => {
            seen.problems.push(format!("cannot run: {e}"));
            return seen;
        }
    };
    let (real1, mono1) = (now(libc::CLOCK_REALTIME), now(libc::CLOCK_MONOTONIC));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        seen.problems.push(format!("exit {:?}: {}", out.status, err.lines().next().unwrap_or("")));
        return seen;
    }
    match row.shape {
        Shape::Date => {
            // `DATE YYYY-MM-DD SECONDS`: the host's calendar date 100 years on, same day.
            let f = field(&stdout, "DATE").unwrap_or_default();
            let got = f.first().cloned().unwrap_or_default();
            let want: Vec<String> = [real0, real1]
                .iter()
                .map(|&t| {
                    let (y, m, d) = utc_date(t as i64);
                    format!("{:04}-{m:02}-{d:02}", y + 100)
                })
                .collect();
            seen.realtime = format!("{got} (+100y)");
            if !want.contains(&got) {
                seen.problems.push(format!("date {got:?}, expected {}", want[0]));
            }
            seen.monotonic = "-".into();
            seen.cputime = "-".into();
        }
        Shape::Clocks => {
            let real = num(field(&stdout, "REALTIME").as_ref().and_then(|v| v.first()));
            let mono = num(field(&stdout, "MONOTONIC").as_ref().and_then(|v| v.first()));
            let cpu = field(&stdout, "CPUTIME").unwrap_or_default();
            match real {
                Some(r) if r >= DATE_SECS - SLACK && r <= DATE_SECS + (real1 - real0) + SLACK => {
                    seen.realtime = format!("{:.3} (2099)", r)
                }
                other => seen.problems.push(format!("REALTIME {other:?}, expected ~{DATE_SECS}")),
            }
            match mono {
                Some(m) if m >= mono0 + MONO_OFFSET_SECS - SLACK && m <= mono1 + MONO_OFFSET_SECS + SLACK => {
                    seen.monotonic = format!("host{:+.3}", m - mono1)
                }
                other => seen
                    .problems
                    .push(format!("MONOTONIC {other:?}, expected host {mono0:.3} + {MONO_OFFSET_SECS}")),
            }
            match (cpu.first().map(String::as_str), num(cpu.get(1))) {
                (Some("0"), Some(c)) if (0.0..60.0).contains(&c) => seen.cputime = format!("{c:.4} s"),
                other => seen.problems.push(format!("CPUTIME {other:?}")),
            }
            // The C fixture (clocks.c) also prints `gettimeofday` and `time`; the other consumers
            // have no such calls of their own.
            let c_fixture = row.consumer.contains(" C, ");
            for key in ["GETTIMEOFDAY", "TIME"] {
                match (num(field(&stdout, key).as_ref().and_then(|v| v.first())), real) {
                    (Some(v), Some(r)) if (v - r).abs() > SLACK => {
                        seen.problems.push(format!("{key} {v} far from REALTIME {r}"))
                    }
                    (None, _) if c_fixture => seen.problems.push(format!("no {key} line from the C fixture")),
                    _ => {}
                }
            }
        }
    }
    if traced {
        let log = match std::fs::read_to_string(&trace) {
            // strace logs at least the launcher's own fork of the page writer.
            Ok(log) if !log.trim().is_empty() => log,
            Ok(_) => {
                seen.problems.push(format!("empty strace log {}", trace.display()));
                return seen;
            }
            Err(e) => {
                seen.problems.push(format!("no strace log {}: {e}", trace.display()));
                return seen;
            }
        };
        let (bad, cpu) = program_clock_syscalls(&log);
        seen.syscalls = format!("{} served, {} cpu", bad.len(), cpu);
        if !bad.is_empty() {
            seen.problems.push(format!("time syscalls from the program: {}", bad.join(" ")));
        }
        if row.shape == Shape::Clocks && cpu == 0 {
            seen.problems.push("the trace shows no CPU-time clock_gettime of the program".into());
        }
    } else {
        seen.syscalls = if row.arch == "riscv64" { "n/a (qemu)".into() } else { "no strace".into() };
    }
    seen
}

fn render(rows: &[Row], seen: &[Seen]) -> String {
    let header =
        ["consumer", "arch", "REALTIME read", "MONOTONIC read", "CPU time", "kernel clock calls", "verdict"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .zip(seen)
        .map(|(r, s)| {
            let verdict = if s.problems.is_empty() {
                "ok".to_string()
            } else {
                format!("FAIL: {}", s.problems.join("; "))
            };
            [
                r.consumer.to_string(),
                r.arch.to_string(),
                s.realtime.clone(),
                s.monotonic.clone(),
                s.cputime.clone(),
                s.syscalls.clone(),
                verdict,
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for c in &cells {
        for (w, v) in width.iter_mut().zip(c) {
            *w = (*w).max(v.len());
        }
    }
    let line = |c: &[String]| {
        c.iter()
            .zip(width)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = line(&header.map(String::from));
    out.push('\n');
    out.push_str(&width.map(|w| "-".repeat(w)).join("-|-"));
    out.push('\n');
    for c in &cells {
        out.push_str(&line(c));
        out.push('\n');
    }
    out
}

#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "the matrix drives x86_64 tools (gcc, go, strace) and the riscv64 rows through qemu-riscv64 from the x86_64 run"
)]
fn unmodified_programs_get_their_time_from_our_image() {
    let started = std::time::Instant::now();
    let vdso = PathBuf::from(env!("CARGO_BIN_EXE_vdso"));
    let rv_launcher = riscv64_launcher();
    let strace = Command::new("strace").arg("-V").output().is_ok_and(|o| o.status.success());
    let rows = rows();
    let seen: Vec<Seen> = rows.iter().map(|r| run_row(r, &vdso, &rv_launcher, strace)).collect();
    let table = render(&rows, &seen);
    let _ = std::fs::write(work_dir().join("matrix.txt"), &table);
    println!(
        "\nvdso run matrix (REALTIME from --realtime-offset {DATE} or +100y, MONOTONIC with \
         --monotonic-offset {MONO_OFFSET}; {:.0} s)\n\n{table}",
        started.elapsed().as_secs_f64()
    );
    assert!(strace, "strace is needed for the x86_64 syscall proof (scripts/setup.sh installs it)");
    let failed: Vec<String> = rows
        .iter()
        .zip(&seen)
        .filter(|(_, s)| !s.problems.is_empty())
        .map(|(r, s)| format!("{} on {}: {}", r.consumer, r.arch, s.problems.join("; ")))
        .collect();
    assert!(failed.is_empty(), "matrix rows failed:\n{}\n\n{table}", failed.join("\n"));
}

#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "drives the riscv64 launcher through qemu-riscv64 from the x86_64 run, with the x86_64 cross compiler"
)]
fn the_riscv64_launcher_passes_arguments_environment_output_and_status_through() {
    // The riscv64 counterpart of launcher_cli's pass-through test, which runs the host's x86_64
    // /bin/sh and so can only exercise the x86_64 launcher.
    let rv_launcher = riscv64_launcher().expect("the riscv64 launcher");
    let prog =
        cc_from("passthrough.c", "riscv64-linux-gnu-gcc", &[], "passthrough-riscv64").expect("fixture");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_vdso"))
            .args(["run", "--arch", "riscv64", "--"])
            .arg(&prog)
            .args(args)
            .env("VDSO_RISCV64_LAUNCHER", &rv_launcher)
            .env("FOO", "bar baz")
            .output()
            .expect("vdso run")
    };
    let o = run(&["first", "second"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "first|second|bar baz\n");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "err\n");
    assert_eq!(o.status.code(), Some(7));

    use std::os::unix::process::ExitStatusExt;
    let o = run(&["kill"]);
    assert_eq!(o.status.signal(), Some(15), "killed by SIGTERM, as the program was: {o:?}");

    // A script whose interpreter is a riscv64 program: the x86_64 launcher follows the #! line
    // to find the architecture, and the riscv64 launcher runs it as exec would.
    let dir = work_dir().join("riscv64-script");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("script");
    std::fs::write(&script, format!("#!{} first\n", prog.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_vdso"))
        .args(["run", "--"])
        .arg(&script)
        .env("VDSO_RISCV64_LAUNCHER", &rv_launcher)
        .env("FOO", "x")
        .output()
        .expect("vdso run");
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("first|{}|x\n", script.display()), "{o:?}");
    assert_eq!(o.status.code(), Some(7));

    // Standard input closed by the caller stays closed through qemu to the program.
    let probe = cc_from("probe.c", "riscv64-linux-gnu-gcc", &["-static"], "probe-riscv64").expect("fixture");
    let o = Command::new("/bin/sh")
        .arg("-c")
        .arg("exec 0<&-; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_vdso"))
        .args(["run", "--"])
        .arg(&probe)
        .env("VDSO_RISCV64_LAUNCHER", &rv_launcher)
        .output()
        .expect("vdso run");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("fd0=closed\nfd1=open\nfd2=open\n"), "{out} {}", String::from_utf8_lossy(&o.stderr));
}

/// Under `vdso run` the program cannot make any data page writable: `mprotect(PROT_WRITE)` of
/// each page before `AT_SYSINFO_EHDR` fails with `EACCES`, as on Linux's `[vvar]` (it used to
/// succeed, and the program could scribble on the live shared page). x86_64 natively, and the
/// riscv64 launcher under qemu-riscv64 (qemu-user passes `mprotect` of such a mapping through to
/// the host, which refuses it).
#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "drives both launchers from the x86_64 run (the riscv64 one under qemu-riscv64), with the host's compilers"
)]
fn the_program_cannot_make_the_data_pages_writable() {
    let expect =
        |pages: usize| -> String { (1..=pages).rev().map(|i| format!("page -{i}: EACCES\n")).collect() };

    let prog = cc_from("data_pages_readonly.c", "gcc", &[], "data-pages-readonly-x86_64").expect("fixture");
    let o =
        Command::new(env!("CARGO_BIN_EXE_vdso")).args(["run", "--"]).arg(&prog).output().expect("vdso run");
    assert!(o.status.success(), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), expect(4), "x86_64");

    let rv_launcher = riscv64_launcher().expect("the riscv64 launcher");
    let prog = cc_from("data_pages_readonly.c", "riscv64-linux-gnu-gcc", &[], "data-pages-readonly-riscv64")
        .expect("fixture");
    let o = Command::new(env!("CARGO_BIN_EXE_vdso"))
        .args(["run", "--arch", "riscv64", "--"])
        .arg(&prog)
        .env("VDSO_RISCV64_LAUNCHER", &rv_launcher)
        .output()
        .expect("vdso run");
    assert!(o.status.success(), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), expect(2), "riscv64");
}

/// Runs `cmd` as user `nobody` when this test runs as root (CAP_SYS_PTRACE would open any
/// process's memory, so only an unprivileged program shows what a program can do).
fn unprivileged(cmd: Command) -> Command {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return cmd;
    }
    let mut c = Command::new("setpriv");
    c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c
}

/// The writer keeps a read-write view of the data page, and runs as the program's user: unless
/// it is non-dumpable, the program could open its `/proc/PID/mem` and write the page through it
/// (a hostile tester did: REALTIME jumped by 10^6 s). The program must find the writer and be
/// refused.
#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "drives both launchers from the x86_64 run (the riscv64 one under qemu-riscv64), with the host's compilers"
)]
fn the_program_cannot_write_the_page_through_the_writer() {
    let token = format!("writer-mem-token-{}", std::process::id());
    let rv_launcher = riscv64_launcher().expect("the riscv64 launcher");
    for (arch, compiler) in [("x86_64", "gcc"), ("riscv64", "riscv64-linux-gnu-gcc")] {
        let prog = cc_from("writer_mem.c", compiler, &[], &format!("writer-mem-{arch}")).expect("fixture");
        let mut c = Command::new(env!("CARGO_BIN_EXE_vdso"));
        c.args(["run", "--arch", arch, "--"])
            .arg(&prog)
            .arg(&token)
            .env("VDSO_RISCV64_LAUNCHER", &rv_launcher);
        let o = unprivileged(c).output().expect("vdso run");
        assert!(o.status.success(), "{arch}: {o:?}");
        let out = String::from_utf8_lossy(&o.stdout);
        let n = |k: &str| -> usize {
            let f: Vec<&str> = out.split_whitespace().collect();
            f.iter()
                .position(|w| *w == k)
                .and_then(|i| f.get(i + 1))
                .and_then(|v| v.parse().ok())
                .expect("a count")
        };
        assert!(n("candidates") >= 1, "{arch}: the writer was not found at all: {out}");
        assert_eq!(n("opened"), 0, "{arch}: the program opened the writer's memory: {out}");
    }
}
