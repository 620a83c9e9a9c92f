//! `linux-vdso.so.1`: the generic clock code, the hook contract, and the architecture chosen.
//!
//! Each export is a thin `extern "C"` shell in the architecture's `arch/<arch>/exports.rs` around
//! the arch-neutral clock code in [`clock`] or an arch hook in [`arch`] (the hooks are listed in
//! [`hooks`]). The symbol names, their version node and the weak aliases are the architecture's
//! row of `vdso-abi`'s table (docs/abi.md section 5), from which build.rs generates the version
//! script.
//!
//! The image must never contain a relocation, a libcall, writable data or a reachable panic: the
//! build script verifies the first three after every link; the fourth is why nothing here indexes
//! a slice or divides by a variable.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

// One hook file per architecture (the contract is `hooks.rs`), the mock under `cargo test`.
#[cfg_attr(all(not(test), target_arch = "x86_64"), path = "arch/x86_64.rs")]
#[cfg_attr(all(not(test), target_arch = "riscv64"), path = "arch/riscv64.rs")]
#[cfg_attr(all(not(test), target_arch = "aarch64"), path = "arch/aarch64.rs")]
#[cfg_attr(all(not(test), target_arch = "loongarch64"), path = "arch/loongarch64.rs")]
#[cfg_attr(
    all(
        not(test),
        not(any(
            target_arch = "x86_64",
            target_arch = "riscv64",
            target_arch = "aarch64",
            target_arch = "loongarch64"
        ))
    ),
    path = "arch/unsupported.rs"
)]
#[cfg_attr(test, path = "arch/mock.rs")]
mod arch;
// getrandom needs the architecture's ChaCha20 block function (`chacha/<arch>.rs`). The row's `rng_data_offset` says the same (asserted below), so the image, its
// note and the tables agree on whether `getrandom` is exported.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "riscv64",
    target_arch = "aarch64",
    target_arch = "loongarch64"
))]
mod chacha;
mod clock;
mod data;
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "riscv64",
    target_arch = "aarch64",
    target_arch = "loongarch64"
))]
mod getrandom;
mod hooks;
#[cfg(not(test))]
mod note;
mod seqlock;
// The signal-return trampoline's shell, for the arches whose kernel returns through the vDSO.
#[cfg(all(not(test), any(target_arch = "riscv64", target_arch = "aarch64", target_arch = "loongarch64")))]
mod sigreturn;
#[cfg(test)]
mod tests;
mod variant;

pub use clock::{Timespec, Timeval, Timezone};

const _: () = assert!(
    vdso_abi::native::INFO.rng_data_offset.is_some()
        == cfg!(any(
            target_arch = "x86_64",
            target_arch = "riscv64",
            target_arch = "aarch64",
            target_arch = "loongarch64"
        )),
    "the row's rng_data_offset and the ChaCha20 files disagree on getrandom"
);

/// The image never panics (nothing in it indexes or divides by a variable), but `no_std` needs a
/// handler. It must not touch its argument: formatting would pull in code and relocations.
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
