//! Running cargo from inside a cargo build script or test (the image's build, the bare-metal
//! example, test fixtures): variables the outer cargo — or a clippy, coverage or wrapper tool
//! around it — sets for *its* build must not leak into the nested one, whose own profile, target
//! and flags are the point. Shared by `build.rs`, `examples/kernel/*/build.rs` and the tests
//! through `#[path]`, since they live in different crates.
#![allow(dead_code)]

use std::process::Command;

/// Variables removed from a nested cargo's environment.
pub const SCRUBBED_ENV: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_PROFILE_RELEASE_LTO",
    "CARGO_INCREMENTAL",
    "CARGO_MAKEFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_LLVM_COV",
    "LLVM_PROFILE_FILE",
];

/// Removes [`SCRUBBED_ENV`] and the outer build script's `CARGO_FEATURE_*` / `CARGO_CFG_*`.
pub fn scrub(cmd: &mut Command) {
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_FEATURE_") || key.starts_with("CARGO_CFG_") {
            cmd.env_remove(&*key);
        }
    }
}

/// Adds `-Z build-std=core` (under `RUSTC_BOOTSTRAP=1`) to a nested `cargo build` for `target`
/// when the toolchain has no prebuilt `core` for it: rustup ships none for the loongarch64
/// targets, whose `core` is built from the `rust-src` component (NOTES.md, "loongarch64"). Every
/// other target uses its installed standard library, as before.
pub fn build_core_if_missing(cmd: &mut Command, target: &str) {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let libdir = Command::new(rustc).args(["--print", "target-libdir", "--target", target]).output();
    let has_core = libdir.ok().filter(|o| o.status.success()).is_some_and(|o| {
        let dir = String::from_utf8_lossy(&o.stdout).trim().to_string();
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libcore-"))
        })
    });
    if !has_core {
        cmd.arg("-Zbuild-std=core").env("RUSTC_BOOTSTRAP", "1");
    }
}
