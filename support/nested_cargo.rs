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
