//! riscv64 in Linux 6.18's layout: four data pages before the image (`[vvar]`: time,
//! time-namespace slot, RNG, and the arch page holding `struct vdso_arch_data`, the hwprobe answers
//! that 6.8 kept at the end of `vdso_data`); the clock structs as aarch64's (`modern/plain.rs`).
//!
//! Linux 6.18's `struct vdso_arch_data` (arch/riscv/include/asm/vdso/arch_data.h) is
//! `__u64 all_cpu_hwprobe_values[RISCV_HWPROBE_MAX_KEY + 1]; __u8 homogeneous_cpus;`, with
//! `RISCV_HWPROBE_MAX_KEY` 14 (arch/riscv/include/asm/hwprobe.h): the last key 6.18 defines is
//! `RISCV_HWPROBE_KEY_VENDOR_EXT_MIPS_0` (14). Key 15 (`ZICBOP_BLOCK_SIZE`) was first posted on
//! 2025-10-09 against a tree whose `RISCV_HWPROBE_MAX_KEY` was 14, after 6.18's merge window had
//! closed (6.18-rc1: 2025-10-12), so it is a 6.19+ key (docs/abi.md section 7).

use core::mem::{offset_of, size_of};

pub use super::plain::*;

/// `RISCV_HWPROBE_MAX_KEY` of Linux 6.18.
pub const HWPROBE_MAX_KEY: i64 = 14;
/// Number of hwprobe values on the arch page.
pub const HWPROBE_KEYS: usize = HWPROBE_MAX_KEY as usize + 1;

/// Linux 6.18's `struct vdso_arch_data`, at offset 0 of the arch page ([`ARCH_PAGE`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchData {
    /// `riscv_hwprobe` value of every key `0..=HWPROBE_MAX_KEY`, valid when all CPUs agree.
    pub all_cpu_hwprobe_values: [u64; HWPROBE_KEYS],
    /// Non-zero when every CPU reports the same values.
    pub homogeneous_cpus: u8,
}

/// The keys Linux 6.18 adds to 6.8's (`crate::riscv64::hwprobe` has keys 0..=6 and the flags).
pub mod hwprobe {
    pub use crate::riscv64::hwprobe::*;
    /// `RISCV_HWPROBE_KEY_HIGHEST_VIRT_ADDRESS`.
    pub const KEY_HIGHEST_VIRT_ADDRESS: i64 = 7;
    /// `RISCV_HWPROBE_KEY_TIME_CSR_FREQ`.
    pub const KEY_TIME_CSR_FREQ: i64 = 8;
    /// `RISCV_HWPROBE_KEY_MISALIGNED_SCALAR_PERF`.
    pub const KEY_MISALIGNED_SCALAR_PERF: i64 = 9;
    /// `RISCV_HWPROBE_KEY_MISALIGNED_VECTOR_PERF`.
    pub const KEY_MISALIGNED_VECTOR_PERF: i64 = 10;
    /// `RISCV_HWPROBE_KEY_VENDOR_EXT_THEAD_0` (a bitmask key).
    pub const KEY_VENDOR_EXT_THEAD_0: i64 = 11;
    /// `RISCV_HWPROBE_KEY_ZICBOM_BLOCK_SIZE`.
    pub const KEY_ZICBOM_BLOCK_SIZE: i64 = 12;
    /// `RISCV_HWPROBE_KEY_VENDOR_EXT_SIFIVE_0` (a bitmask key).
    pub const KEY_VENDOR_EXT_SIFIVE_0: i64 = 13;
    /// `RISCV_HWPROBE_KEY_VENDOR_EXT_MIPS_0` (a bitmask key).
    pub const KEY_VENDOR_EXT_MIPS_0: i64 = 14;

    /// Linux 6.18's `hwprobe_key_is_bitmask`: 6.8's three keys plus the three vendor-extension
    /// keys, matched by inclusion in `WHICH_CPUS` queries.
    pub const fn key_is_bitmask_6_18(key: i64) -> bool {
        key_is_bitmask(key)
            || key == KEY_VENDOR_EXT_THEAD_0
            || key == KEY_VENDOR_EXT_SIFIVE_0
            || key == KEY_VENDOR_EXT_MIPS_0
    }
}

/// This layout as a row (the host side is not checked on a live riscv64 kernel).
pub const LAYOUT: super::ModernLayout = super::plain::LAYOUT.with_hwprobe_keys(HWPROBE_KEYS);

const _: () = {
    assert!(offset_of!(ArchData, all_cpu_hwprobe_values) == 0);
    assert!(offset_of!(ArchData, homogeneous_cpus) == 120);
    assert!(size_of::<ArchData>() == 128);
    assert!(size_of::<ArchData>() <= PAGE_SIZE && ARCH_PAGE < DATA_PAGES);
    assert!(LAYOUT.hwprobe_keys == 15);
};
