//! Unit tests of the arch-neutral code against hand-built data pages and an injected counter
//! (`arch/mock.rs`). They run natively on x86_64 and under qemu-user for riscv64, aarch64 and loongarch64,
//! each with its own architecture's page layout.

// Auxiliary clocks exist in the modern profile only.
#[cfg(feature = "modern")]
mod aux;
mod clock;
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "riscv64",
    target_arch = "aarch64",
    target_arch = "loongarch64"
))]
mod getrandom;
// `riscv_hwprobe` is a riscv64-only symbol, and its code is compiled for riscv64 only.
#[cfg(target_arch = "riscv64")]
mod hwprobe;
mod page;
