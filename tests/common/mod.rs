//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// A command running one of this package's binaries. Under qemu-riscv64 the test process is a
/// riscv64 guest whose `execve` goes to the host kernel, which cannot run a riscv64 binary
/// without binfmt_misc: wrap it in `qemu-riscv64` (an x86_64 binary the host runs natively).
pub fn bin_command(path: &str) -> Command {
    if cfg!(target_arch = "riscv64") {
        let mut c = Command::new("qemu-riscv64");
        c.args(["-L", "/usr/riscv64-linux-gnu", path]);
        c
    } else {
        Command::new(path)
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
