//! Every arch's kernel's build script (each package points `build` here): links the kernel
//! with its own `kernel.ld`, and builds the user program (`../user`, a member of this workspace)
//! for the kernel's target with a nested `cargo build` so the kernel can embed its ELF file.
//!
//! The nested build gets its own target directory (under `OUT_DIR`; sharing the outer one would
//! deadlock on cargo's lock) and a scrubbed environment, as the library's own build script does:
//! flags and wrappers meant for the outer build (clippy, coverage) must not leak into it.

use std::env;
use std::path::PathBuf;
use std::process::Command;

#[path = "../../../support/nested_cargo.rs"]
mod nested_cargo;

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let target = env::var("TARGET").expect("TARGET");
    println!("cargo:rerun-if-changed=kernel.ld");
    println!("cargo:rustc-link-arg-bins=-T{}", dir.join("kernel.ld").display());
    for path in ["../user", "../shared", "../common", "../../../support"] {
        println!("cargo:rerun-if-changed={path}");
    }

    let target_dir = out.join("user-target");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&dir)
        .args(["build", "--release", "--quiet", "-p", "kernel-user", "--target", &target])
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("--manifest-path")
        .arg(dir.join("../Cargo.toml"));
    nested_cargo::scrub(&mut cmd);
    nested_cargo::build_core_if_missing(&mut cmd, &target);
    let status = cmd.status().expect("running cargo for the user program");
    assert!(status.success(), "building the user program failed ({status})");
    let elf = target_dir.join(&target).join("release/kernel-user");
    assert!(elf.exists(), "{} missing after the build", elf.display());
    println!("cargo:rustc-env=USER_ELF={}", elf.display());
}
