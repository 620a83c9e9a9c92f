//! The real-client matrix: unmodified programs of every kind we promise, run by `vdso run` on our
//! image, each proving it got its time from our data page.
//!
//! Proof, per row:
//! - the wall clock the program reads through its libc or runtime is the one only our page can
//!   give (`--realtime-offset 2099-01-01T00:00:00Z`; `date` gets `+100y`), and MONOTONIC is the
//!   host's plus the `--monotonic-offset` (a time-namespace page, which the kernel knows nothing
//!   of);
//! - `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)` still works (the image's syscall fallback);
//! - the program's own threads make no `clock_gettime` syscall for a clock the page serves and no
//!   `gettimeofday` or `time` syscall, while its CPU-time `clock_gettime` does show up (so the
//!   trace does see the program): on x86_64 under `strace -f`; on the other architectures under
//!   qemu-user's own syscall log (`QEMU_STRACE`, written to `QEMU_LOG_FILENAME`), where the
//!   launcher's clock reads before it forks the writer are its own set-up (qemu gives the
//!   launcher no vDSO) and are left out. The launcher's writer process is told apart by
//!   ancestry: it is the first process the launcher forks, with its descendants; everything
//!   else is the program.
//!
//! Rows: x86_64's (`date`, glibc C dynamic and static, musl C static, Go, Rust std, rustix), and
//! for every other architecture of the table (riscv64, aarch64) glibc C dynamic and static (the
//! row's cross gcc), musl C static (Zig's C compiler, `python3 -m ziglang cc -target
//! <arch>-linux-musl -static`: Debian has no cross musl-gcc), Go (the row's `GOARCH`) and Rust std
//! (the row's Rust target), each run under qemu-user on that architecture's static launcher
//! (`scripts/build-launcher.sh <arch>`). loongarch64 has no glibc rows (Debian 12 has no
//! loongarch64 glibc: the row's `glibc` is false); its musl row is built by the row's own cross
//! compiler (Zig for the CPU Debian's qemu runs) and its Rust row with std built from rust-src.
//!
//! Fixtures are built once into `target/tmp/launcher-matrix/` (Go with its cache there, cargo with
//! their own lockfile for the Rust ones). The table is printed (see it with `scripts/matrix.sh`)
//! and written to `target/tmp/launcher-matrix/matrix.txt`.
//!
//! Not run as aarch64 or loongarch64 binaries: the x86_64 run drives their launchers under
//! qemu-user (as it does the riscv64 one); a launcher under qemu would start no second qemu.
#![cfg(any(target_arch = "x86_64", target_arch = "riscv64"))]

mod common;
#[path = "../support/nested_cargo.rs"]
mod nested_cargo;

use common::fixtures::{
    cc_from, cross_cc, foreign_arches, go_build, launcher_for, run_tool, sources as fixtures, work_dir,
};
use linux_vdso::{Arch, Profile, Variant};

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
    go_build(Path::new("go"), &fixtures().join("go"), goarch, &out, &src)?;
    Ok(out)
}

/// The Rust fixture `bin`, for the host or for `arch` (its std built from rust-src where the
/// row says rustup has none: `build_std`, as scripts/cargo-build-std.sh does).
fn rust(arch: Option<Arch>, bin: &str) -> Result<PathBuf, String> {
    let target = arch.map(Arch::linux_target);
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
    if arch.is_some_and(|a| a.info().build_std) {
        c.env("RUSTC_BOOTSTRAP", "1").arg("-Zbuild-std=std,panic_abort");
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
    /// `date -u` under `vdso run --host-data`: the host's own date.
    HostDate,
    /// The clocks fixtures under `vdso run --host-data`: the host's own clocks, read by our
    /// image from the host kernel's moved pages.
    HostClocks,
}

impl Shape {
    /// Run with `--host-data` (the host kernel's pages, no writer of ours).
    fn host_data(self) -> bool {
        matches!(self, Shape::HostDate | Shape::HostClocks)
    }

    /// Reads the clocks fixtures' lines.
    fn clocks(self) -> bool {
        matches!(self, Shape::Clocks | Shape::HostClocks)
    }
}

#[derive(Clone)]
struct Row {
    consumer: String,
    arch: &'static str,
    /// `vdso run --profile` (rows of our own writer; the `--host-data` rows are modern anyway).
    profile: Profile,
    shape: Shape,
    program: Result<Vec<OsString>, String>,
    /// Why this client, as built here, never calls a vDSO on this architecture (read from the
    /// client's own sources, so a fixed client turns the row into an ordinary one): the row must
    /// then show exactly the fallback, the host's time through syscalls, and says so.
    no_vdso: Option<String>,
}

/// Why Go's runtime for `arch` cannot find the row's `clock_gettime` in our image, if it cannot:
/// Go 1.19's arm64 table pairs `__kernel_clock_gettime` with the GNU hash of
/// `__vdso_clock_gettime` (golang/go#62309), and Go looks symbols up through `DT_GNU_HASH`
/// whenever there is one, comparing hashes first. Linux links its arm64 vDSO
/// `--hash-style=sysv`, and so do we (the row's `hash_style` is `SysvOnly`): through `DT_HASH`
/// alone Go walks the chain by name and finds it, so the row is an ordinary one and must show
/// our clock. Only an image with `DT_GNU_HASH` would still hit the bug.
fn go_cannot_find_clock_gettime(arch: Arch) -> Option<String> {
    if !arch.hash_style().has_gnu() {
        return None;
    }
    let goroot = run_tool(Command::new("go").args(["env", "GOROOT"]), "go env").ok()?;
    let goarch = arch.info().emulation.goarch;
    let table =
        std::fs::read_to_string(Path::new(goroot.trim()).join(format!("src/runtime/vdso_linux_{goarch}.go")))
            .ok()?;
    let name = format!("{}clock_gettime", arch.info().symbol_prefix);
    let line = table.lines().find(|l| l.contains(&format!("\"{name}\"")))?;
    let hash = format!("{:#x}", vdso_kernel_stub::symbols::gnu_hash(name.as_bytes()));
    (!line.contains(&hash)).then(|| {
        format!("Go's {goarch} table gives {name} another name's GNU hash (golang/go#62309); it finds it only through DT_HASH alone, as Linux links arm64's vDSO")
    })
}

/// Why musl (Zig's copy) makes the syscall on `arch` without looking at a vDSO, if it does: its
/// `syscall_arch.h` defines no `VDSO_CGT_SYM` (musl's riscv64 has those lines commented out,
/// so a riscv64 musl program never looks at any vDSO).
fn musl_uses_no_vdso(arch: Arch) -> Option<String> {
    let dir = run_tool(
        Command::new("python3").args(["-c", "import ziglang, os; print(os.path.dirname(ziglang.__file__))"]),
        "python3 -m ziglang",
    )
    .ok()?;
    let header = Path::new(dir.trim()).join(format!("lib/libc/musl/arch/{}/syscall_arch.h", arch.name()));
    let mut text = std::fs::read_to_string(header).ok()?;
    // Without its block comments (riscv64's definitions sit inside one).
    while let Some(start) = text.find("/*") {
        let end = text[start..].find("*/").map_or(text.len(), |e| start + e + 2);
        text.replace_range(start..end, "");
    }
    (!text.lines().any(|l| l.trim_start().starts_with("#define VDSO_CGT_SYM")))
        .then(|| format!("musl uses no vDSO on {} (no VDSO_CGT_SYM in its syscall_arch.h)", arch.name()))
}

fn rows() -> Vec<Row> {
    let one = |p: Result<PathBuf, String>| p.map(|p| vec![p.into_os_string()]);
    let row = |consumer: &str, arch, program| Row {
        consumer: consumer.to_string(),
        arch,
        profile: Profile::Classic,
        shape: Shape::Clocks,
        program,
        no_vdso: None,
    };
    let mut rows = vec![
        Row {
            consumer: "/bin/date (coreutils, glibc)".to_string(),
            arch: "x86_64",
            profile: Profile::Classic,
            shape: Shape::Date,
            program: Ok(vec!["date".into(), "-u".into(), "+DATE %Y-%m-%d %s".into()]),
            no_vdso: None,
        },
        row("glibc C, dynamic", "x86_64", one(cc("gcc", &[], "c-glibc-dynamic-x86_64"))),
        row("glibc C, static", "x86_64", one(cc("gcc", &["-static"], "c-glibc-static-x86_64"))),
        row("musl C, static", "x86_64", one(cc("musl-gcc", &["-static"], "c-musl-static-x86_64"))),
        row("Go (runtime)", "x86_64", one(go("amd64"))),
        row("Rust std", "x86_64", one(rust(None, "std_clocks"))),
        row("rustix (use-libc-auxv)", "x86_64", one(rust(None, "rustix_clocks"))),
    ];
    // The same x86_64 clients on our writer's pages in every other profile x86_64 has a row of
    // (`vdso run --profile modern`: Linux 6.18's layout kept by the kernel stub's writer).
    let x86: Vec<Row> = rows.clone();
    for v in Variant::of_arch(Arch::X86_64).filter(|v| v.profile != Profile::Classic && v.page_size == 4096) {
        rows.extend(x86.iter().map(|r| Row {
            consumer: format!("{}, --profile {}", r.consumer, v.profile.name()),
            profile: v.profile,
            ..r.clone()
        }));
    }
    // The same x86_64 clients on the host kernel's own pages (`vdso run --host-data`), where
    // the host has the layout (Linux 6.17+ x86_64; elsewhere the refusal is tested instead).
    if host_data_host() {
        let host = |consumer: &str, program| Row {
            consumer: consumer.to_string(),
            arch: "x86_64",
            profile: Profile::Modern,
            shape: Shape::HostClocks,
            program,
            no_vdso: None,
        };
        rows.extend([
            Row {
                consumer: "/bin/date (coreutils, glibc), --host-data".to_string(),
                arch: "x86_64",
                profile: Profile::Modern,
                shape: Shape::HostDate,
                program: Ok(vec!["date".into(), "-u".into(), "+DATE %Y-%m-%d %s".into()]),
                no_vdso: None,
            },
            host("glibc C, dynamic, --host-data", one(cc("gcc", &[], "c-glibc-dynamic-x86_64"))),
            host("glibc C, static, --host-data", one(cc("gcc", &["-static"], "c-glibc-static-x86_64"))),
            host("musl C, static, --host-data", one(cc("musl-gcc", &["-static"], "c-musl-static-x86_64"))),
            host("Go (runtime), --host-data", one(go("amd64"))),
            host("Rust std, --host-data", one(rust(None, "std_clocks"))),
            host("rustix (use-libc-auxv), --host-data", one(rust(None, "rustix_clocks"))),
        ]);
    }
    for arch in foreign_arches() {
        let (name, emu) = (arch.name(), arch.info().emulation);
        let fixture = |kind: &str| format!("c-{kind}-{name}");
        let zig =
            ["-m", "ziglang", "cc", "-target", &format!("{name}-linux-musl"), "-static"].map(String::from);
        let zig: Vec<&str> = zig.iter().map(String::as_str).collect();
        if emu.glibc {
            rows.extend([
                row("glibc C, dynamic", name, one(cc(emu.cross_gcc, &[], &fixture("glibc-dynamic")))),
                row("glibc C, static", name, one(cc(emu.cross_gcc, &["-static"], &fixture("glibc-static")))),
            ]);
        }
        // No glibc here (loongarch64: Debian 12 has no loongarch64 glibc, NOTES.md): the row's
        // cross compiler is itself Zig's musl toolchain, with the CPU Debian's qemu runs.
        let musl = if emu.glibc {
            cc("python3", &zig, &fixture("musl-static"))
        } else {
            cc(&cross_cc(arch), &["-static"], &fixture("musl-static"))
        };
        rows.extend([
            Row { no_vdso: musl_uses_no_vdso(arch), ..row("musl C, static", name, one(musl)) },
            Row {
                no_vdso: go_cannot_find_clock_gettime(arch),
                ..row("Go (runtime)", name, one(go(emu.goarch)))
            },
            row("Rust std", name, one(rust(Some(arch), "std_clocks"))),
        ]);
    }
    rows
}

/// Whether this host's data pages are the layout the modern x86_64 image reads (the
/// `--host-data` rows run only there; `launcher_cli` checks the refusal elsewhere).
fn host_data_host() -> bool {
    use vdso_launcher::host_data::{check, HostFacts, HostLayout};
    Arch::native() == Some(Arch::X86_64)
        && HostLayout::of(Arch::X86_64)
            .is_some_and(|l| HostFacts::read().is_ok_and(|f| check(&l, &f).is_ok()))
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
    /// REALTIME was the host's own (the fallback's answer).
    host_wall_clock: bool,
    /// Served-clock syscalls the trace showed from the program.
    served_syscalls: usize,
    /// The row's client uses no vDSO here, and the row showed exactly that.
    no_vdso: Option<String>,
}

fn field(out: &str, key: &str) -> Option<Vec<String>> {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .map(|l| l.split_whitespace().skip(1).map(str::to_string).collect())
}

fn num(v: Option<&String>) -> Option<f64> {
    v.and_then(|s| s.parse().ok())
}

/// Every `PID call(...` record of a log line. qemu-user prints a call's result after it returns,
/// so a blocking call left unfinished (`4879 nanosleep(...)`) can share its line with the next
/// record (`4879 clock_gettime(...) = 0`); each starts with a PID, a space and a call name.
fn records(line: &str) -> Vec<(u32, &str)> {
    let b = line.as_bytes();
    let starts: Vec<usize> = (0..b.len())
        .filter(|&i| {
            (i == 0 || !b[i - 1].is_ascii_digit()) && {
                // PID, one or more spaces (strace pads the PID), then `name(`, `<... ` or `--- `.
                let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let spaces = b[i + digits..].iter().take_while(|c| **c == b' ').count();
                let call = &b[i + digits + spaces..];
                let name = call.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count();
                digits > 0
                    && spaces > 0
                    && (name > 0 && call.get(name) == Some(&b'(')
                        || call.starts_with(b"<... ")
                        || call.starts_with(b"--- "))
            }
        })
        .collect();
    starts
        .iter()
        .enumerate()
        .filter_map(|(k, &at)| {
            let end = starts.get(k + 1).copied().unwrap_or(b.len());
            let (pid, rest) = line[at..end].split_once(' ')?;
            Some((pid.parse().ok()?, rest.trim_start()))
        })
        .collect()
}

#[test]
fn records_sharing_a_line_of_qemus_log_are_each_found() {
    let line = "4879 nanosleep(824634040120,0,0,50,0,10000)4879 clock_gettime(CLOCK_PROCESS_CPUTIME_ID,0x1) = 0 ({tv_sec = 0})";
    assert_eq!(
        records(line),
        [
            (4879, "nanosleep(824634040120,0,0,50,0,10000)"),
            (4879, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID,0x1) = 0 ({tv_sec = 0})")
        ]
    );
    assert_eq!(records("12 clone(CLONE_VM) = 13"), [(12, "clone(CLONE_VM) = 13")]);
    assert_eq!(records("4879  time(NULL) = 5"), [(4879, "time(NULL) = 5")], "strace pads the PID");
    assert_eq!(records("7 <... clone resumed>) = 9"), [(7, "<... clone resumed>) = 9")]);
    assert!(records("read(3, \"12 abc\", 6) = 6").is_empty());
}

/// Counts the program's clock syscalls in an `strace -f` log or qemu-user's syscall log (both
/// `PID call(args) = result` records, see [`records`]): (served clock ids + gettimeofday + time, CPU-time
/// clock_gettime). With `setup_before_fork`, the root process's lines before its first fork
/// are the launcher's own set-up and are left out.
fn program_clock_syscalls(log: &str, setup_before_fork: bool, has_writer: bool) -> (Vec<String>, usize) {
    let mut parent: BTreeMap<u32, u32> = BTreeMap::new();
    let mut order: Vec<(u32, u32)> = Vec::new();
    let mut root = None;
    for (pid, rest) in log.lines().flat_map(records) {
        root.get_or_insert(pid);
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
    if let Some(&(_, first)) = order.iter().find(|(p, _)| *p == root).filter(|_| has_writer) {
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
    let mut forked = !setup_before_fork;
    for (pid, rest) in log.lines().flat_map(records) {
        if pid == root && rest.starts_with("clone") {
            forked = true;
        }
        if writer.contains(&pid) || (pid == root && !forked) {
            continue;
        }
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

fn run_row(
    row: &Row,
    vdso: &Path,
    launchers: &BTreeMap<&str, Result<PathBuf, String>>,
    strace: bool,
) -> Seen {
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
        Shape::HostDate | Shape::HostClocks => args.push("--host-data".into()),
    }
    if !row.shape.host_data() {
        args.extend(["--profile".into(), row.profile.name().into()]);
    }
    args.push("--".into());
    args.extend(program);
    let trace =
        work_dir().join(format!("strace-{}-{}.txt", row.arch, row.consumer.replace(['/', ' ', ','], "_")));
    let native = Some(row.arch) == Arch::native().map(Arch::name);
    let traced = strace && native;
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
    let qemu_traced = !native;
    if let Some(launcher) = launchers.get(row.arch) {
        match launcher {
            Ok(p) => {
                let arch = Arch::from_name(row.arch).expect("a row of the table");
                cmd.env(vdso_launcher::foreign::launcher_env(arch), p);
            }
            Err(e) => {
                seen.problems.push(format!("{} launcher: {e}", row.arch));
                return seen;
            }
        }
        // qemu-user's own syscall log, one line per call of every guest process.
        let _ = std::fs::remove_file(&trace);
        cmd.env("QEMU_STRACE", "1").env("QEMU_LOG_FILENAME", &trace);
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
        Shape::Date | Shape::HostDate => {
            // `DATE YYYY-MM-DD SECONDS`: the host's calendar date 100 years on, same day (the
            // host's own with --host-data).
            let years = if row.shape == Shape::Date { 100 } else { 0 };
            let f = field(&stdout, "DATE").unwrap_or_default();
            let got = f.first().cloned().unwrap_or_default();
            let want: Vec<String> = [real0, real1]
                .iter()
                .map(|&t| {
                    let (y, m, d) = utc_date(t as i64);
                    format!("{:04}-{m:02}-{d:02}", y + years)
                })
                .collect();
            seen.realtime = if years == 0 { format!("{got} (host)") } else { format!("{got} (+100y)") };
            if !want.contains(&got) {
                seen.problems.push(format!("date {got:?}, expected {}", want[0]));
            }
            seen.monotonic = "-".into();
            seen.cputime = "-".into();
        }
        Shape::HostClocks => {
            // The host's own clocks, read by our image from the host kernel's moved pages.
            let real = num(field(&stdout, "REALTIME").as_ref().and_then(|v| v.first()));
            let mono = num(field(&stdout, "MONOTONIC").as_ref().and_then(|v| v.first()));
            match real {
                Some(r) if r >= real0 - SLACK && r <= real1 + SLACK => {
                    seen.realtime = format!("{r:.3} (host)")
                }
                other => seen.problems.push(format!("REALTIME {other:?}, expected the host's {real0:.3}")),
            }
            match mono {
                Some(m) if m >= mono0 - SLACK && m <= mono1 + SLACK => {
                    seen.monotonic = format!("host{:+.3}", m - mono1)
                }
                other => seen.problems.push(format!("MONOTONIC {other:?}, expected the host's {mono0:.3}")),
            }
            seen.cputime = check_cputime(&stdout, &mut seen.problems);
            check_c_lines(row, &stdout, real, &mut seen.problems);
        }
        Shape::Clocks => {
            let real = num(field(&stdout, "REALTIME").as_ref().and_then(|v| v.first()));
            let mono = num(field(&stdout, "MONOTONIC").as_ref().and_then(|v| v.first()));
            seen.host_wall_clock = real.is_some_and(|r| r >= real0 - SLACK && r <= real1 + SLACK);
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

            seen.cputime = check_cputime(&stdout, &mut seen.problems);
            check_c_lines(row, &stdout, real, &mut seen.problems);
        }
    }
    if traced || qemu_traced {
        let log = match std::fs::read_to_string(&trace) {
            // strace logs at least the launcher's own fork of the page writer; with --host-data
            // there is none, and a program reading only served clocks leaves the log empty.
            Ok(log) if !log.trim().is_empty() || row.shape.host_data() => log,
            Ok(_) => {
                seen.problems.push(format!("empty strace log {}", trace.display()));
                return seen;
            }
            Err(e) => {
                seen.problems.push(format!("no strace log {}: {e}", trace.display()));
                return seen;
            }
        };
        // With --host-data no writer is forked: every process is the program's.
        let (bad, cpu) = program_clock_syscalls(&log, qemu_traced, !row.shape.host_data());
        seen.served_syscalls = bad.len();
        let how = if qemu_traced { " (qemu)" } else { "" };
        seen.syscalls = format!("{} served, {} cpu{how}", bad.len(), cpu);
        if !bad.is_empty() {
            seen.problems.push(format!("time syscalls from the program: {}", bad.join(" ")));
        }
        if row.shape.clocks() && cpu == 0 {
            seen.problems.push("the trace shows no CPU-time clock_gettime of the program".into());
        }
    } else {
        seen.syscalls = "no strace".into();
    }
    if let Some(why) = &row.no_vdso {
        // The fallback, exactly: the host's wall clock and MONOTONIC, through served-clock
        // syscalls the trace shows; nothing else may be wrong.
        let expected = ["REALTIME ", "MONOTONIC ", "time syscalls from the program"];
        seen.problems.retain(|p| !expected.iter().any(|e| p.starts_with(e)));
        if seen.host_wall_clock && seen.served_syscalls > 0 {
            seen.realtime = "host's (syscall)".into();
            seen.monotonic = "host's (syscall)".into();
            seen.no_vdso = Some(why.clone());
        } else {
            seen.problems.push(format!(
                "expected the syscall fallback ({why}), saw REALTIME {} with {} served-clock syscalls: drop the known issue if it is fixed",
                seen.realtime, seen.served_syscalls
            ));
        }
    }
    seen
}

/// The `CPUTIME` line: the image's syscall fallback worked.
fn check_cputime(stdout: &str, problems: &mut Vec<String>) -> String {
    let cpu = field(stdout, "CPUTIME").unwrap_or_default();
    match (cpu.first().map(String::as_str), num(cpu.get(1))) {
        (Some("0"), Some(c)) if (0.0..60.0).contains(&c) => format!("{c:.4} s"),
        other => {
            problems.push(format!("CPUTIME {other:?}"));
            String::new()
        }
    }
}

/// The C fixture (clocks.c) also prints `gettimeofday` and `time`, which must agree with its
/// REALTIME; the other consumers have no such calls of their own.
fn check_c_lines(row: &Row, stdout: &str, real: Option<f64>, problems: &mut Vec<String>) {
    let c_fixture = row.consumer.contains(" C, ");
    for key in ["GETTIMEOFDAY", "TIME"] {
        match (num(field(stdout, key).as_ref().and_then(|v| v.first())), real) {
            (Some(v), Some(r)) if (v - r).abs() > SLACK => {
                problems.push(format!("{key} {v} far from REALTIME {r}"))
            }
            (None, _) if c_fixture => problems.push(format!("no {key} line from the C fixture")),
            _ => {}
        }
    }
}

fn render(rows: &[Row], seen: &[Seen]) -> String {
    let header =
        ["consumer", "arch", "REALTIME read", "MONOTONIC read", "CPU time", "kernel clock calls", "verdict"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .zip(seen)
        .map(|(r, s)| {
            let verdict = if let (true, Some(why)) = (s.problems.is_empty(), &s.no_vdso) {
                format!("no vDSO in the client: {why}")
            } else if s.problems.is_empty() {
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
    let launchers: BTreeMap<&str, Result<PathBuf, String>> =
        foreign_arches().into_iter().map(|a| (a.name(), launcher_for(a))).collect();
    let strace = Command::new("strace").arg("-V").output().is_ok_and(|o| o.status.success());
    let rows = rows();
    let seen: Vec<Seen> = rows.iter().map(|r| run_row(r, &vdso, &launchers, strace)).collect();
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

/// `cmd` with the launcher for programs of `arch` named in its environment, if `arch` is not
/// the host's.
fn naming_launcher(mut cmd: Command, arch: Arch) -> Command {
    if Some(arch) != Arch::native() {
        common::fixtures::with_launcher(&mut cmd, arch)
            .unwrap_or_else(|e| panic!("the {} launcher: {e}", arch.name()));
    }
    cmd
}

/// The `vdso` command, ready to run programs of `arch`.
fn vdso_run_for(arch: Arch) -> Command {
    naming_launcher(Command::new(env!("CARGO_BIN_EXE_vdso")), arch)
}

#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "drives the other architectures' launchers under qemu-user from the x86_64 run, with the host's cross compilers"
)]
fn foreign_launchers_pass_arguments_environment_output_and_status_through() {
    // The counterpart, for every architecture of the table but the host's (riscv64, aarch64),
    // of launcher_cli's pass-through test, which runs the host's x86_64 /bin/sh and so can only
    // exercise the x86_64 launcher.
    for arch in foreign_arches() {
        let (name, cc) = (arch.name(), cross_cc(arch));
        let cc = cc.as_str();
        let prog = cc_from("passthrough.c", cc, &[], &format!("passthrough-{name}")).expect("fixture");
        let run = |args: &[&str]| {
            vdso_run_for(arch)
                .args(["run", "--arch", name, "--"])
                .arg(&prog)
                .args(args)
                .env("FOO", "bar baz")
                .output()
                .expect("vdso run")
        };
        let o = run(&["first", "second"]);
        assert_eq!(String::from_utf8_lossy(&o.stdout), "first|second|bar baz\n", "{name}");
        assert_eq!(String::from_utf8_lossy(&o.stderr), "err\n", "{name}");
        assert_eq!(o.status.code(), Some(7), "{name}");

        use std::os::unix::process::ExitStatusExt;
        let o = run(&["kill"]);
        assert_eq!(o.status.signal(), Some(15), "{name}: killed by SIGTERM, as the program was: {o:?}");

        // A script whose interpreter is a program of `arch`: the x86_64 launcher follows the #!
        // line to find the architecture, and that arch's launcher runs it as exec would.
        let dir = work_dir().join(format!("{name}-script"));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("script");
        std::fs::write(&script, format!("#!{} first\n", prog.display())).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let o =
            vdso_run_for(arch).args(["run", "--"]).arg(&script).env("FOO", "x").output().expect("vdso run");
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            format!("first|{}|x\n", script.display()),
            "{name}: {o:?}"
        );
        assert_eq!(o.status.code(), Some(7), "{name}");

        // Standard input closed by the caller stays closed through qemu to the program.
        let probe = cc_from("probe.c", cc, &["-static"], &format!("probe-{name}")).expect("fixture");
        let mut c = naming_launcher(Command::new("/bin/sh"), arch);
        c.arg("-c").arg("exec 0<&-; exec \"$@\"").arg("sh").arg(env!("CARGO_BIN_EXE_vdso"));
        let o = c.args(["run", "--"]).arg(&probe).output().expect("vdso run");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("fd0=closed\nfd1=open\nfd2=open\n"),
            "{name}: {out} {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // qemu runs with the host's layout randomization off exactly where the row says
        // `fixed_layout` (qemu-loongarch64 7.2's mmap fault); otherwise as this process does.
        let randomize =
            if arch.info().emulation.fixed_layout || !this_process_randomizes() { "off" } else { "on" };
        assert!(out.contains(&format!("\nrandomize={randomize}\n")), "{name}: {out}");
    }
}

/// Under `vdso run` the program cannot make any data page writable: `mprotect(PROT_WRITE)` of
/// each page before `AT_SYSINFO_EHDR` fails with `EACCES`, as on Linux's `[vvar]` (it used to
/// succeed, and the program could scribble on the live shared page). x86_64 natively, and every
/// other architecture's launcher under qemu-user (which passes `mprotect` of such a mapping
/// through to the host, which refuses it).
#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "drives every launcher from the x86_64 run (the others under qemu-user), with the host's compilers"
)]
fn the_program_cannot_make_the_data_pages_writable() {
    for arch in Arch::ALL {
        let (name, cc) = (arch.name(), cross_cc(arch));
        let cc = cc.as_str();
        let pages = format!("-DDATA_PAGES={}", arch.data_pages());
        let prog = cc_from("data_pages_readonly.c", cc, &[&pages], &format!("data-pages-readonly-{name}"))
            .expect("fixture");
        let o = vdso_run_for(arch).args(["run", "--arch", name, "--"]).arg(&prog).output().expect("vdso run");
        assert!(o.status.success(), "{name}: {o:?}");
        let want: String = (1..=arch.data_pages()).rev().map(|i| format!("page -{i}: EACCES\n")).collect();
        assert_eq!(String::from_utf8_lossy(&o.stdout), want, "{name}");
    }
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
/// refused, on every architecture's launcher.
#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "drives every launcher from the x86_64 run (the others under qemu-user), with the host's compilers"
)]
fn the_program_cannot_write_the_page_through_the_writer() {
    let token = format!("writer-mem-token-{}", std::process::id());
    for arch in Arch::ALL {
        let (name, cc) = (arch.name(), cross_cc(arch));
        let cc = cc.as_str();
        let prog = cc_from("writer_mem.c", cc, &[], &format!("writer-mem-{name}")).expect("fixture");
        let mut c = vdso_run_for(arch);
        c.args(["run", "--arch", name, "--"]).arg(&prog).arg(&token);
        let o = unprivileged(c).output().expect("vdso run");
        assert!(o.status.success(), "{name}: {o:?}");
        let out = String::from_utf8_lossy(&o.stdout);
        let n = |k: &str| -> usize {
            let f: Vec<&str> = out.split_whitespace().collect();
            f.iter()
                .position(|w| *w == k)
                .and_then(|i| f.get(i + 1))
                .and_then(|v| v.parse().ok())
                .expect("a count")
        };
        assert!(n("candidates") >= 1, "{name}: the writer was not found at all: {out}");
        assert_eq!(n("opened"), 0, "{name}: the program opened the writer's memory: {out}");
    }
}

/// Whether this process runs with address randomization (no `ADDR_NO_RANDOMIZE` persona).
fn this_process_randomizes() -> bool {
    // SAFETY: 0xffffffff only reads the persona.
    let persona = unsafe { libc::personality(0xffff_ffff) };
    persona == -1 || persona & 0x0040000 == 0
}
