//! "Slow under emulation", decided in one place for every test crate (included with `#[path]`).
//!
//! The suite runs natively on x86_64 hosts; every other architecture's test binaries run under
//! qemu-user (`scripts/test.sh`, the cargo runners in `.cargo/config.toml`), where a test's inner
//! loop is 10-50 times slower. Tests that scale a count or a duration by that ask here instead of
//! naming architectures.
#![allow(dead_code)]

/// Whether this test binary runs under qemu-user.
pub const EMULATED: bool = !cfg!(target_arch = "x86_64");

/// `native` on the host, `emulated` under qemu-user.
pub fn slow_under_emulation<T>(native: T, emulated: T) -> T {
    if EMULATED {
        emulated
    } else {
        native
    }
}
