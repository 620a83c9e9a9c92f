//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

#[path = "../../support/emulation.rs"]
mod emulation;
#[allow(unused_imports)]
pub use emulation::{slow_under_emulation, EMULATED};

/// A command running one of this package's binaries. Under qemu-riscv64 the test process is a
/// riscv64 guest whose `execve` goes to the host kernel, which cannot run a riscv64 binary
/// without binfmt_misc: wrap it in `qemu-riscv64` (an x86_64 binary the host runs natively).
pub fn bin_command(path: &str) -> Command {
    match linux_vdso::Arch::native() {
        Some(arch) if EMULATED => {
            let emu = arch.info().emulation;
            let mut c = vdso_launcher::foreign::qemu_command(arch, emu.qemu);
            c.args(["-L", emu.ld_prefix, path]);
            c
        }
        _ => Command::new(path),
    }
}

/// A fresh, empty directory under the target dir for one test.
#[allow(unused)]
pub mod fixtures;
#[allow(unused)]
pub mod harness;
#[allow(unused)]
pub mod tsc_trap;

pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Runs `cmd` (standard input closed to `/dev/null`, output captured) and returns its output;
/// fails the test, killing the child, if it has not ended within `limit`. Tests of things that
/// must never hang run their children through this, so a regression fails instead of hanging.
pub fn output_within(cmd: &mut Command, limit: std::time::Duration) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let err = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}: it hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    std::process::Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

/// Builds the C fixture `tests/fixtures/launcher/<name>.c` as a static executable of the
/// architecture under test (`cc` natively; `riscv64-linux-gnu-gcc` for the riscv64 run, whose
/// test process asks the host kernel to run the x86_64 cross compiler) and returns its path.
/// Rebuilt only when the source is newer; parallel tests never see a half-written file.
pub fn c_fixture(name: &str) -> PathBuf {
    let src =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/launcher").join(format!("{name}.c"));
    let arch = linux_vdso::Arch::native().expect("a test target of the architecture table");
    let compiler = if EMULATED { fixtures::cross_cc(arch) } else { "cc".to_string() };
    let arch = arch.name();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("c-fixtures-{arch}"));
    std::fs::create_dir_all(&dir).expect("fixture dir");
    let out = dir.join(name);
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if matches!((modified(&out), modified(&src)), (Some(o), Some(s)) if o >= s) {
        return out;
    }
    let tmp = dir.join(format!(".{name}-{}-{:?}", std::process::id(), std::thread::current().id()));
    let o = Command::new(&compiler)
        .args(["-static", "-O1", "-o"])
        .arg(&tmp)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(o.status.success(), "{compiler} {}: {}", src.display(), String::from_utf8_lossy(&o.stderr));
    std::fs::rename(&tmp, &out).expect("move the fixture into place");
    out
}

/// The rows of the "Exit status:" table in a `--help` text: each code with its meaning.
pub fn exit_status_rows(help: &str) -> Vec<(i32, String)> {
    let table = help.split_once("Exit status:").unwrap_or_else(|| panic!("no exit-status table in {help}")).1;
    table
        .lines()
        .skip(1)
        .map_while(|l| {
            let (code, meaning) = l.trim().split_once("  ")?;
            Some((code.parse().ok()?, meaning.trim().to_string()))
        })
        .collect()
}
