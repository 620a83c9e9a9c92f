//! ChaCha20 block generation for `getrandom`, one file per architecture.
//!
//! `chacha20_blocks(dst, key, counter, nblocks)` writes `nblocks` 64-byte blocks of ChaCha20
//! (20 rounds, the 64-bit block counter in words 12 and 13, a zero nonce in words 14 and 15, as
//! Linux's `__arch_chacha20_blocks_nostack`) and advances `*counter`. It must never put key
//! material or keystream on the stack, where a later call or a forked child could find it:
//! Rust code gives no such promise, so each architecture's function is written in assembly
//! (a naked function, in section `.text.chacha20_blocks`, which the linker script places first
//! in `.text` so the disassembly test can find it in the stripped image).
//!
//! The same functions run in the unit tests (natively and under qemu), where RustCrypto's
//! `chacha20` checks their keystream.

#[cfg_attr(target_arch = "x86_64", path = "chacha/x86_64.rs")]
#[cfg_attr(target_arch = "riscv64", path = "chacha/riscv64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "chacha/aarch64.rs")]
#[cfg_attr(target_arch = "loongarch64", path = "chacha/loongarch64.rs")]
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        target_arch = "riscv64",
        target_arch = "aarch64",
        target_arch = "loongarch64"
    )),
    path = "chacha/unsupported.rs"
)]
mod imp;

pub use imp::chacha20_blocks;
