//! Unit tests of the arch-neutral code against hand-built data pages and an injected counter
//! (`arch/mock.rs`). They run natively on x86_64 and as a riscv64 binary under qemu-riscv64,
//! each with its own architecture's page layout.

mod clock;
#[cfg(target_arch = "riscv64")]
mod hwprobe;
mod page;
