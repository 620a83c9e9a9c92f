//! riscv64 in Linux 6.18's layout: four data pages before the image (`[vvar]`: time,
//! time-namespace slot, RNG, and the arch page holding `struct vdso_arch_data`, the hwprobe answers
//! that 6.8 kept at the end of `vdso_data`); the clock structs as aarch64's (`modern/plain.rs`).
//! The arch page's hwprobe key count for 6.18 is not pinned here yet (docs/abi.md).

pub use super::plain::*;
