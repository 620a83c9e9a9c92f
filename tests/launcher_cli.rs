//! `vdso run` at its edges: every bad input is refused before anything starts, with one line on
//! stderr and the exit status of its class (124 setup, 125 usage, 126 cannot execute, 127 not
//! found), never a panic; and a program that does run keeps its arguments, environment, output,
//! exit status and death by signal.
//!
//! Not run as aarch64 binaries: the x86_64 run drives the aarch64 launcher under qemu-aarch64
//! (tests/launcher_matrix.rs); the riscv64 run checks what a launcher under qemu sees of the
//! foreign-architecture cases (which an aarch64 run would repeat).
#![cfg(any(target_arch = "x86_64", target_arch = "riscv64"))]

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use linux_vdso::Arch;

fn vdso_run(args: &[&str]) -> Output {
    common::bin_command(env!("CARGO_BIN_EXE_vdso")).arg("run").args(args).output().expect("run vdso")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit status `code`, one line on stderr starting with `vdso run:`, no panic.
fn refused(o: &Output, code: i32, says: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "status; stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("vdso run: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(says), "{err:?} should mention {says:?}");
    assert!(o.stdout.is_empty(), "nothing ran");
}

fn executable(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn host_true() -> Vec<u8> {
    fs::read("/bin/true").expect("/bin/true")
}

#[test]
fn no_program_is_a_usage_error() {
    refused(&vdso_run(&[]), 125, "no program given");
    refused(&vdso_run(&["--"]), 125, "no program given");
}

#[test]
fn bad_option_values_are_usage_errors() {
    refused(&vdso_run(&["--hz", "0", "--", "true"]), 125, "--hz");
    refused(&vdso_run(&["--hz", "fast", "--", "true"]), 125, "--hz");
    refused(&vdso_run(&["--realtime-offset", "soon", "--", "true"]), 125, "--realtime-offset");
    refused(
        &vdso_run(&["--realtime-offset", "2023-02-29", "--", "true"]),
        125,
        "invalid date \"2023-02-29\"",
    );
    refused(
        &vdso_run(&["--realtime-offset", "99999999999999999-01-01", "--", "true"]),
        125,
        "a year has four digits",
    );
    refused(&vdso_run(&["--realtime-offset", "+9000y", "--", "true"]), 125, "calendar years from now");
    refused(&vdso_run(&["--monotonic-offset", "1x", "--", "true"]), 125, "unknown unit");
    refused(&vdso_run(&["--arch", "sparc", "--", "true"]), 125, "unknown architecture");
    refused(&vdso_run(&["--frobnicate", "--", "true"]), 125, "--frobnicate");
}

/// `--profile`: a name of the variant table, and never `classic` with `--host-data` (the host's
/// pages are the modern layout); an architecture without a row of the profile cannot execute
/// (names of the rows are in the message). Both profiles run a program of the launcher's own
/// architecture (the probe fixture) that reads our clock.
#[test]
fn profile_names_are_checked_and_each_profile_runs_a_program() {
    refused(&vdso_run(&["--profile", "newest", "--", "true"]), 125, "unknown profile \"newest\"");
    refused(&vdso_run(&["--host-data", "--profile", "classic", "--", "true"]), 125, "--profile classic");
    let probe = common::c_fixture("probe");
    for profile in ["classic", "modern"] {
        let o = vdso_run(&[
            "--profile",
            profile,
            "--realtime-offset",
            "2099-01-01T00:00:00Z",
            "--",
            probe.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "--profile {profile}: {o:?}");
        assert_eq!(probe_field(&o, "year"), "2099", "--profile {profile}: the probe reads our clock");
    }
}

#[test]
fn clocks_before_their_epoch_are_refused() {
    refused(&vdso_run(&["--realtime-offset", "-300y", "--", "true"]), 125, "before 1970");
    refused(&vdso_run(&["--realtime-offset", "1969-12-31T23:59:59Z", "--", "true"]), 125, "before 1970");
    refused(&vdso_run(&["--monotonic-offset", "-100y", "--", "true"]), 125, "negative");
    refused(&vdso_run(&["--boottime-offset", "-100y", "--", "true"]), 125, "negative");
}

#[test]
fn a_missing_program_is_not_found() {
    refused(&vdso_run(&["--", "/nonexistent/program"]), 127, "no such file");
    refused(&vdso_run(&["--", "no-such-command-anywhere-42"]), 127, "not found");
}

#[test]
fn files_that_are_not_runnable_elf_executables_cannot_execute() {
    let dir = common::scratch_dir("launcher-cli-bad-files");
    let script = executable(&dir, "text", b"just some text\n");
    refused(&vdso_run(&["--", script.to_str().unwrap()]), 126, "not an ELF file");

    let plain = dir.join("not-executable");
    fs::write(&plain, host_true()).unwrap();
    fs::set_permissions(&plain, fs::Permissions::from_mode(0o644)).unwrap();
    refused(&vdso_run(&["--", plain.to_str().unwrap()]), 126, "cannot execute");

    // An architecture no row of the table has (s390x; aarch64 has one).
    let mut s390 = host_true();
    s390[18..20].copy_from_slice(&22u16.to_le_bytes()); // EM_S390
    let s390 = executable(&dir, "s390x", &s390);
    refused(&vdso_run(&["--", s390.to_str().unwrap()]), 126, "ELF machine 22 is not one of");

    refused(&vdso_run(&["--", dir.to_str().unwrap()]), 126, "not a regular file");
}

/// The architectures the x86_64 launcher runs under qemu (every row but x86_64's).
fn emulated_arches() -> impl Iterator<Item = Arch> {
    Arch::ALL.into_iter().filter(|a| *a != Arch::X86_64)
}

/// The host's /bin/true with `arch`'s ELF machine in its header.
fn looking_like(dir: &Path, arch: Arch) -> PathBuf {
    let mut bytes = host_true();
    bytes[18..20].copy_from_slice(&arch.e_machine().to_le_bytes());
    executable(dir, &format!("{}-looking", arch.name()), &bytes)
}

#[test]
fn another_architecture_than_asked_cannot_execute() {
    let dir = common::scratch_dir("launcher-cli-arch");
    for arch in emulated_arches() {
        let prog = looking_like(&dir, arch);
        let o = vdso_run(&["--arch", "x86_64", "--", prog.to_str().unwrap()]);
        if cfg!(target_arch = "x86_64") {
            refused(&o, 126, &format!("a {} program, but --arch x86_64", arch.name()));
        } else {
            refused(&o, 126, "cannot run x86_64 programs from the riscv64 launcher");
        }
    }
}

#[test]
fn an_unusable_interpreter_cannot_execute() {
    let dir = common::scratch_dir("launcher-cli-interp");
    // A dynamic program of the launcher's own arch with its loader's path replaced: the host's
    // /bin/true natively, this test binary itself as riscv64 (the riscv64 launcher refuses
    // x86_64 programs before it looks at their interpreter).
    let (mut bytes, interp): (Vec<u8>, &[u8]) = if cfg!(target_arch = "x86_64") {
        (host_true(), b"/lib64/ld-linux-x86-64.so.2\0")
    } else {
        (fs::read(std::env::current_exe().unwrap()).unwrap(), b"/lib/ld-linux-riscv64-lp64d.so.1\0")
    };
    let at = bytes.windows(interp.len()).position(|w| w == interp).expect("the program names its loader");
    let bogus = b"/nonexistent/ld-linux.so";
    bytes[at..at + interp.len()].fill(0);
    bytes[at..at + bogus.len()].copy_from_slice(bogus);
    let prog = executable(&dir, "bad-interp", &bytes);
    refused(
        &vdso_run(&["--", prog.to_str().unwrap()]),
        126,
        "cannot use its interpreter /nonexistent/ld-linux.so",
    );
}

#[test]
fn help_explains_options_and_exit_statuses() {
    let o = vdso_run(&["--help"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in ["--realtime-offset", "--monotonic-offset", "--hz", "--arch"] {
        assert!(out.contains(needle), "help mentions {needle}");
    }
    // Every row of the table: named for --arch, with its data pages; every other architecture's
    // launcher variable.
    for arch in Arch::ALL {
        let v = linux_vdso::Variant::default_for(arch);
        assert!(
            out.contains(&format!("{}: {} of {} KiB", arch.name(), v.data_pages(), v.page_size / 1024)),
            "{out}"
        );
        if Arch::native() != Some(arch) {
            assert!(out.contains(&vdso_launcher::foreign::launcher_env(arch)), "{out}");
        }
    }
    // The exit-status table lists exactly the launcher's classes, with their codes.
    let rows = common::exit_status_rows(&out);
    let want: Vec<(i32, String)> =
        vdso_launcher::Kind::ALL.iter().map(|k| (k.exit_code().into(), k.meaning().to_string())).collect();
    assert_eq!(rows, want, "{out}");
    assert_eq!(want.iter().map(|r| r.0).collect::<Vec<_>>(), [124, 125, 126, 127]);
}

#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "runs the host's x86_64 /bin/sh; the riscv64 launcher's pass-through is tested from the x86_64 run \
              (launcher_matrix: the_riscv64_launcher_passes_arguments_environment_output_and_status_through)"
)]
fn arguments_environment_output_and_status_pass_through() {
    let o = common::bin_command(env!("CARGO_BIN_EXE_vdso"))
        .args(["run", "--", "sh", "-c", "echo \"$0|$1|$FOO\"; echo err >&2; exit 7", "first", "second"])
        .env("FOO", "bar baz")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "first|second|bar baz\n");
    assert_eq!(stderr(&o), "err\n");
    assert_eq!(o.status.code(), Some(7));

    let o = common::bin_command(env!("CARGO_BIN_EXE_vdso"))
        .args(["run", "--", "sh", "-c", "kill -TERM $$"])
        .output()
        .unwrap();
    assert_eq!(o.status.signal(), Some(15), "killed by SIGTERM, as the program was");
}

#[test]
#[cfg_attr(target_arch = "riscv64", ignore = "runs the host's x86_64 /bin/date; the x86_64 run covers it")]
fn date_reads_the_offset_wall_clock() {
    let o = common::bin_command(env!("CARGO_BIN_EXE_vdso"))
        .args(["run", "--realtime-offset", "2099-01-01T00:00:00Z", "--", "date", "-u", "+%Y-%m-%d %H:%M"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "2099-01-01 00:00\n");
}

#[test]
fn a_foreign_launcher_that_is_not_one_is_a_setup_error() {
    let dir = common::scratch_dir("launcher-cli-foreign");
    let not_a_launcher = executable(&dir, "not-a-launcher", b"#!/bin/sh\nexit 0\n");
    for arch in emulated_arches() {
        let name = arch.name();
        let prog = looking_like(&dir, arch);
        // `$VDSO_RISCV64_LAUNCHER`, `$VDSO_AARCH64_LAUNCHER`: one per row.
        let o = common::bin_command(env!("CARGO_BIN_EXE_vdso"))
            .args(["run", "--arch", name, "--", prog.to_str().unwrap()])
            .env(vdso_launcher::foreign::launcher_env(arch), &not_a_launcher)
            .output()
            .unwrap();
        if cfg!(target_arch = "x86_64") {
            refused(&o, 124, &format!("which is not a {name} ELF executable"));
        } else if Some(arch) == Arch::native() {
            // The riscv64 launcher runs riscv64 programs itself and never looks for another one:
            // this program (an x86_64 body with a riscv64 header) fails at its x86_64 loader.
            refused(&o, 126, "cannot use its interpreter /lib64/ld-linux-x86-64.so.2");
        } else {
            // A launcher under qemu starts no second qemu.
            refused(&o, 126, &format!("cannot run {name} programs from the riscv64 launcher"));
        }
    }
}

/// `scripts/build-launcher.sh` builds each launcher from its row of the table: the Rust target
/// and the text address it reads from `abi/src/<arch>.rs` are the row's (a row whose format the
/// script no longer reads would otherwise build with the wrong flags or not at all).
#[test]
fn the_launcher_build_script_reads_each_row() {
    for arch in emulated_arches() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-launcher.sh");
        let o = Command::new(&script).args(["--row", arch.name()]).output().expect("bash");
        assert!(o.status.success(), "{}: {}", arch.name(), stderr(&o));
        let want = format!("{} {:#x}\n", arch.linux_target(), arch.info().emulation.launcher_text);
        assert_eq!(String::from_utf8_lossy(&o.stdout), want, "{}", arch.name());
    }
    let o = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-launcher.sh"))
        .args(["--row", "s390x"])
        .output()
        .expect("bash");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no row named s390x"), "{}", stderr(&o));
}

/// Generous: qemu-riscv64 is slow; a hang is what this bounds.
const LIMIT: Duration = Duration::from_secs(120);

/// `vdso run ARGS`, started through `sh -c 'SETUP; exec "$@"'` (SETUP: `ulimit`, redirections),
/// ended by [`LIMIT`] at the latest.
fn vdso_run_in_shell(setup: &str, args: &[&OsStr], env: &[(&str, &str)]) -> Output {
    let vdso = common::bin_command(env!("CARGO_BIN_EXE_vdso"));
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(format!("{setup}\nexec \"$@\"")).arg("sh");
    cmd.arg(vdso.get_program()).args(vdso.get_args()).arg("run").args(args);
    cmd.envs(env.iter().copied());
    common::output_within(&mut cmd, LIMIT)
}

/// The `key=value` lines the probe fixture printed.
fn probe_fields(o: &Output) -> Vec<(String, String)> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect()
}

fn probe_field(o: &Output, key: &str) -> String {
    let fields = probe_fields(o);
    fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_else(|| {
        panic!("the probe printed no {key}=; stdout {:?} stderr {:?}", o.stdout, stderr(o))
    })
}

fn probe_argv(o: &Output) -> Vec<String> {
    probe_fields(o).into_iter().filter(|(k, _)| k.starts_with("argv[")).map(|(_, v)| v).collect()
}

#[test]
fn a_128_kib_stack_limit_with_100_kb_of_arguments_runs() {
    // The kernel accepts these arguments (up to max(RLIMIT_STACK / 4, 128 KiB) of them) and
    // leaves the program under 28 KiB of its 128 KiB stack; the launcher once overflowed that.
    let probe = common::c_fixture("probe");
    // 100 KB natively. Under qemu-riscv64 7.2, 60 KB: qemu gives its guest an 8 MiB stack
    // whatever the limit (so the riscv64 launcher itself is never short of stack there), but
    // qemu's own x86_64 main thread is held to the 128 KiB, and with 100 KB of arguments it
    // overflows it about every other run (SIGSEGV) while emulating the guest runtime's read of
    // /proc/self/maps, before any of our code runs (`vdso --version` crashes the same way).
    // What the riscv64 run checks is the program's side: a 128 KiB stack holding the arguments.
    let count = common::slow_under_emulation(1000, 600);
    let args: Vec<String> = (0..count).map(|i| format!("{i:04}{}", "x".repeat(95))).collect();
    let mut argv: Vec<&OsStr> = vec![OsStr::new("--"), probe.as_os_str()];
    argv.extend(args.iter().map(OsStr::new));
    let o = vdso_run_in_shell("ulimit -s 128 || exit 99", &argv, &[]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert_eq!(probe_field(&o, "argc"), (count + 1).to_string());
    let total: usize = probe.as_os_str().len() + args.iter().map(String::len).sum::<usize>();
    assert_eq!(probe_field(&o, "argbytes"), total.to_string());
    let seen = probe_argv(&o);
    assert_eq!(&seen[1..], &args[..], "every argument arrives, in order");
}

#[test]
fn standard_descriptors_closed_by_the_caller_stay_closed() {
    let probe = common::c_fixture("probe");
    let run = |setup: &str| vdso_run_in_shell(setup, &[OsStr::new("--"), probe.as_os_str()], &[]);
    let o = run("exec 0<&-");
    assert!(o.status.success(), "{}", stderr(&o));
    let fds = |o: &Output| ["fd0", "fd1", "fd2"].map(|k| probe_field(o, k));
    assert_eq!(fds(&o), ["closed", "open", "open"], "stdin closed by the caller");
    let o = run("exec 0<&- 2>&-");
    assert!(o.status.success());
    assert_eq!(fds(&o), ["closed", "open", "closed"], "stdin and stderr closed by the caller");
    let o = run("");
    assert_eq!(fds(&o), ["open", "open", "open"], "nothing closed");
}

/// Writes an executable script `name` in `dir` whose first line is `#!LINE`.
fn script(dir: &Path, name: &str, line: &[u8], body: &str) -> PathBuf {
    executable(dir, name, &[b"#!", line, b"\n", body.as_bytes()].concat())
}

fn os(p: &Path) -> &OsStr {
    p.as_os_str()
}

fn utf8(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn a_script_runs_on_our_image_through_its_interpreter_and_one_argument() {
    let dir = common::scratch_dir("launcher-cli-script");
    let probe = common::c_fixture("probe");
    let s = script(&dir, "probe-script", &[os(&probe).as_bytes(), b" -x  two words \t"].concat(), "");
    let o = vdso_run_in_shell(
        "",
        &[
            OsStr::new("--realtime-offset"),
            OsStr::new("2099-01-01T00:00:00Z"),
            OsStr::new("--"),
            os(&s),
            OsStr::new("a b"),
            OsStr::new("c"),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(probe_argv(&o), [utf8(&probe), "-x  two words".into(), utf8(&s), "a b".into(), "c".into()]);
    assert_eq!(probe_field(&o, "execfn"), utf8(&s), "AT_EXECFN is the script, as the kernel sets it");
    assert_eq!(probe_field(&o, "year"), "2099", "the interpreter reads our clock");

    // No argument: [interpreter, script, args].
    let s = script(&dir, "plain", os(&probe).as_bytes(), "");
    let o = vdso_run_in_shell("", &[OsStr::new("--"), os(&s), OsStr::new("z")], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(probe_argv(&o), [utf8(&probe), utf8(&s), "z".into()]);
}

#[test]
#[cfg_attr(
    target_arch = "riscv64",
    ignore = "the host's /bin/bash is x86_64; the riscv64 run covers scripts with the riscv64 probe as interpreter"
)]
fn a_shell_script_reads_our_clock() {
    let dir = common::scratch_dir("launcher-cli-shell-script");
    // bash's printf reads the time in-process (time(), through the vDSO); `date` would be a
    // new execve, with the kernel's own vDSO.
    let s = script(&dir, "year.sh", b"/bin/bash", "printf '%(%Y)T|%s|%s\\n' -1 \"$0\" \"$1\"\n");
    let o = vdso_run_in_shell(
        "",
        &[
            OsStr::new("--realtime-offset"),
            OsStr::new("2099-01-01T00:00:00Z"),
            OsStr::new("--"),
            os(&s),
            OsStr::new("arg"),
        ],
        &[("TZ", "UTC")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let (year, rest) = out.trim_end().split_once('|').expect("year|$0|$1");
    assert_eq!(year, "2099", "{out}");
    assert_eq!(rest, format!("{}|arg", utf8(&s)));
}

/// A chain of `depth` scripts: `s0` names the probe (with argument `x`), each next one the one
/// before. Returns the outermost.
fn script_chain(dir: &Path, probe: &Path, depth: usize) -> PathBuf {
    let mut last = script(dir, "s0", &[os(probe).as_bytes(), b" x"].concat(), "");
    for i in 1..depth {
        last = script(dir, &format!("s{i}"), os(&last).as_bytes(), "");
    }
    last
}

#[test]
fn nested_scripts_are_followed_to_the_kernels_depth_and_no_further() {
    let dir = common::scratch_dir("launcher-cli-nested");
    let probe = common::c_fixture("probe");
    let max = vdso_launcher::program::MAX_SCRIPT_DEPTH;
    for depth in 1..=max + 1 {
        let outer = script_chain(&dir, &probe, depth);
        let o = vdso_run_in_shell("", &[OsStr::new("--"), os(&outer), OsStr::new("arg")], &[]);
        // The kernel's own verdict on the same chain, where the kernel can run the probe (the
        // probe only prints and exits: no need for a time limit).
        let kernel = cfg!(target_arch = "x86_64").then(|| Command::new(&outer).arg("arg").output());
        if depth <= max {
            assert!(o.status.success(), "depth {depth}: {}", stderr(&o));
            let mut want = vec![utf8(&probe), "x".into()];
            want.extend((0..depth).map(|i| utf8(&dir.join(format!("s{i}")))));
            want.push("arg".into());
            assert_eq!(probe_argv(&o), want, "depth {depth}");
            assert_eq!(probe_field(&o, "execfn"), utf8(&outer));
            if let Some(k) = kernel {
                let k = k.expect("the kernel runs it too");
                assert!(k.status.success(), "the kernel runs depth {depth} too");
                assert_eq!(probe_argv(&k), want, "the kernel's argv at depth {depth}");
            }
        } else {
            refused(&o, 126, "ELOOP");
            if let Some(k) = kernel {
                let e = k.expect_err("the kernel refuses it too");
                assert_eq!(e.raw_os_error(), Some(libc::ELOOP), "{e}");
            }
        }
    }
}

#[test]
fn a_script_loop_and_a_missing_interpreter_are_refused_as_exec_refuses_them() {
    let dir = common::scratch_dir("launcher-cli-script-errors");
    let looping = dir.join("loop");
    script(&dir, "loop", os(&looping).as_bytes(), "");
    refused(
        &vdso_run(&["--", looping.to_str().unwrap()]),
        126,
        "levels of #! interpreters (a loop?), as exec refuses them (ELOOP)",
    );

    let missing = script(&dir, "missing", b"/nonexistent/interpreter -a", "");
    refused(
        &vdso_run(&["--", missing.to_str().unwrap()]),
        127,
        "bad #! interpreter: /nonexistent/interpreter: no such file",
    );

    let text = dir.join("not-executable.txt");
    fs::write(&text, "hello\n").unwrap();
    let odd = script(&dir, "names-a-text-file", text.to_str().unwrap().as_bytes(), "");
    refused(&vdso_run(&["--", odd.to_str().unwrap()]), 126, "bad #! interpreter");

    let empty = script(&dir, "empty", b"  ", "");
    refused(&vdso_run(&["--", empty.to_str().unwrap()]), 126, "names no interpreter (exec format error)");
}

#[test]
fn control_characters_in_paths_are_escaped_in_errors() {
    let dir = common::scratch_dir("launcher-cli-escape");
    let missing = dir.join("red\x1b[31m\nline");
    let o = vdso_run(&["--", missing.to_str().unwrap()]);
    refused(&o, 127, "red\\x1b[31m\\nline: no such file");
    assert!(!o.stderr.contains(&0x1b), "no raw ESC reaches the terminal: {:?}", stderr(&o));
    let text = executable(&dir, "text\x1b]0;title\x07", b"plain text\n");
    let o = vdso_run(&["--", text.to_str().unwrap()]);
    refused(&o, 126, "text\\x1b]0;title\\x07: not an ELF file");
    refused(&vdso_run(&["--", "no-such\x1bcommand"]), 127, "no-such\\x1bcommand: command not found");
}

/// `--writer-stats` names a file the writer writes after the program ends, from a process with
/// nobody left to tell of a failure: a path it could not write is refused before anything runs
/// (a caller would otherwise wait for a file that never comes), and a good one gets the figures.
#[test]
fn writer_stats_paths_are_checked_before_the_program_runs() {
    let dir = common::scratch_dir("launcher-writer-stats");
    refused(&vdso_run(&["--writer-stats", dir.to_str().unwrap(), "--", "true"]), 125, "is a directory");
    let missing = dir.join("no-such-dir/stats.txt");
    refused(&vdso_run(&["--writer-stats", missing.to_str().unwrap(), "--", "true"]), 125, "--writer-stats");
    let leftovers = || fs::read_dir(&dir).unwrap().count();
    assert_eq!(leftovers(), 0, "the check leaves nothing behind");

    let good = dir.join("stats.txt");
    // A program of the architecture under test (the host's `true` is x86_64).
    let prog = common::c_fixture("passthrough");
    let o = vdso_run(&["--writer-stats", good.to_str().unwrap(), "--", prog.to_str().unwrap(), "x"]);
    assert_eq!(o.status.code(), Some(7), "the fixture's own status: {o:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !good.exists() {
        assert!(std::time::Instant::now() < deadline, "no statistics written");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let text = fs::read_to_string(&good).unwrap();
    for key in ["ticks ", "max_gap_ns ", "tolerance_ns ", "max_coarse_staleness_ns "] {
        assert!(text.lines().any(|l| l.starts_with(key)), "{key:?} in {text}");
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(leftovers(), 1, "only the statistics, no temporary file");
}

#[test]
fn host_data_refuses_what_only_our_writer_could_do() {
    for opt in [
        &["--realtime-offset", "+1y"][..],
        &["--monotonic-offset", "+1d"],
        &["--boottime-offset", "+1d"],
        &["--hz", "100"],
        &["--writer-stats", "/tmp/x"],
    ] {
        let mut args = vec!["--host-data"];
        args.extend_from_slice(opt);
        args.extend_from_slice(&["--", "true"]);
        refused(
            &vdso_run(&args),
            125,
            &format!(
                "--host-data runs on the host kernel's own clocks and writer: {} does not apply",
                opt[0]
            ),
        );
    }
}

// x86_64 only: there the other architectures' programs are the emulated ones. The riscv64 and
// aarch64 launchers (under qemu) have no host pages at all; their refusal of the host is
// `host_data::check`'s, unit-tested in the launcher crate.
#[cfg(target_arch = "x86_64")]
#[test]
fn host_data_refuses_programs_of_another_architecture() {
    let dir = common::scratch_dir("launcher-cli-host-data-arch");
    for arch in emulated_arches() {
        let prog = looking_like(&dir, arch);
        let o = vdso_run(&["--host-data", "--", prog.to_str().unwrap()]);
        refused(&o, 126, &format!("--host-data: a {} program", arch.name()));
    }
}

// x86_64 only: the host's own pages can serve only an image of the host's architecture, and
// qemu-user gives riscv64 and aarch64 guests no pages at all (checked by the refusal below).
#[cfg(target_arch = "x86_64")]
#[test]
fn host_data_runs_a_program_on_the_host_kernels_pages_or_says_why_not() {
    use vdso_launcher::host_data::{check, HostFacts, HostLayout};
    let layout = HostLayout::of(linux_vdso::Arch::X86_64).expect("a modern x86_64 row");
    let verdict = check(&layout, &HostFacts::read().expect("host facts"));
    // The program sees its [vvar] and [vvar_vclock] right before the image AT_SYSINFO_EHDR names.
    let o = vdso_run(&["--host-data", "--", "/bin/sh", "-c", "cat /proc/$$/maps"]);
    match verdict {
        Err(why) => refused(&o, 126, &why.to_string()),
        Ok(()) => {
            assert!(o.status.success(), "{o:?}");
            let maps = String::from_utf8_lossy(&o.stdout);
            let range = |name: &str| {
                maps.lines().find(|l| l.ends_with(name)).map(|l| {
                    let (a, b) = l.split_whitespace().next().unwrap().split_once('-').unwrap();
                    (u64::from_str_radix(a, 16).unwrap(), u64::from_str_radix(b, 16).unwrap())
                })
            };
            let (vvar, vclock) =
                (range("[vvar]").expect("[vvar]"), range("[vvar_vclock]").expect("[vvar_vclock]"));
            assert_eq!(vvar.1, vclock.0, "[vvar_vclock] follows [vvar]: {maps}");
            // The image: an anonymous read+execute mapping right after them.
            let image = maps
                .lines()
                .find(|l| l.starts_with(&format!("{:x}-", vclock.1)))
                .unwrap_or_else(|| panic!("nothing mapped after [vvar_vclock]: {maps}"));
            assert!(image.split_whitespace().nth(1) == Some("r-xp") && !image.contains("[vdso]"), "{image}");
        }
    }
}
