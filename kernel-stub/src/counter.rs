//! Reading the architecture's counter, the one the image reads (docs/abi.md §5a).
//!
//! - x86_64: `lfence; rdtsc`. `lfence` keeps the read from being executed before earlier loads
//!   (such as the seqlock's `seq`), which is the ordering the image needs too; Intel documents
//!   `lfence` as serializing `rdtsc` for this, and AMD with `LFENCE` made dispatch-serializing
//!   (which every kernel enables). Needs `CR4.TSD` clear in user mode.
//! - loongarch64: `rdtime.d` (the stable counter; under qemu-user 7.2 also derived from the
//!   host clock, so calibrated too).
//! - riscv64: `rdtime` (the `time` CSR). Under qemu-user 7.2 it returns the host's TSC, not a
//!   10 MHz timebase, which is why the rate is always calibrated (the `calibrate` module, with the `std` feature).

// One file per architecture; an architecture without one fails here, by name.
#[cfg_attr(target_arch = "x86_64", path = "counter/x86_64.rs")]
#[cfg_attr(target_arch = "riscv64", path = "counter/riscv64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "counter/aarch64.rs")]
#[cfg_attr(target_arch = "loongarch64", path = "counter/loongarch64.rs")]
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        target_arch = "riscv64",
        target_arch = "aarch64",
        target_arch = "loongarch64"
    )),
    path = "counter/unsupported.rs"
)]
mod imp;

pub use imp::read_counter;
