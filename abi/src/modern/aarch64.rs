//! aarch64 in Linux 6.18's layout: four data pages before the image (`[vvar]`: time,
//! time-namespace slot, RNG, and one page for the generic one-byte `vdso_arch_data` arm64 does not
//! use); the clock structs as riscv64's (`modern/plain.rs`).

pub use super::plain::*;
