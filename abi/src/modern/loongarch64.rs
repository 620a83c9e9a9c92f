//! loongarch64 in Linux 6.18's layout as its default configuration builds it: eleven 16 KiB data
//! pages before the image (`[vvar]`: time, time-namespace slot, RNG, then eight arch pages holding
//! `struct vdso_arch_data`); the clock structs as aarch64's and riscv64's (`modern/plain.rs`:
//! loongarch selects neither `GENERIC_VDSO_OVERFLOW_PROTECT` nor an `arch_vdso_time_data`).
//!
//! Linux 6.18's `struct vdso_arch_data` (arch/loongarch/include/asm/vdso/arch_data.h) is the
//! per-CPU array 6.8 kept in `struct loongarch_vdso_data`: `struct vdso_pcpu_data { u32 node; }
//! ____cacheline_aligned_in_smp pdata[NR_CPUS]`, from page `VDSO_ARCH_PAGES_START` (3) on,
//! `VDSO_ARCH_DATA_PAGES` = its size rounded up to pages (include/vdso/datapage.h). Since Linux
//! 6.16 arch/loongarch/Kconfig defaults `NR_CPUS` to 2048 (its maximum) and loongson3_defconfig
//! sets `CONFIG_NR_CPUS=2048` with 16 KiB pages: 2048 * 64 bytes = 128 KiB = 8 arch pages, 11
//! data pages. This row follows that: [`NR_CPUS`] = 2048, unlike the classic rows' 63
//! ([`crate::loongarch64::NR_CPUS`]). A kernel built with another `NR_CPUS` has another page
//! count and cannot use this image. `getcpu` asks the kernel for a CPU number past the slots
//! (Linux's own never sees one: its CPU numbers are below `NR_CPUS`).

use core::mem::size_of;

pub use super::plain::*;
pub use crate::loongarch64::{PcpuData, PCPU_STRIDE};

/// Linux 6.18's default `NR_CPUS` on loongarch64 (arch/loongarch/Kconfig, loongson3_defconfig):
/// the CPUs this row's per-CPU array serves.
pub const NR_CPUS: usize = 2048;

/// The page size of this layout: Linux's default on loongarch64 (16 KiB).
pub const PAGE_SIZE: usize = crate::loongarch64::DEFAULT_PAGE_SIZE;

/// Linux 6.18's `struct vdso_arch_data`: the per-CPU array alone (the RNG data has its own page
/// in this layout, unlike 6.12's `struct loongarch_vdso_data`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchData {
    /// Indexed by the CPU number `rdtime.d` returns (`CSR.TID`).
    pub pdata: [PcpuData; NR_CPUS],
}

/// First page of the per-CPU array ([`ArchData`]): the first arch page.
pub const PCPU_PAGE: usize = ARCH_PAGE;

/// `VDSO_ARCH_DATA_PAGES`: [`ArchData`] rounded up to pages.
pub const ARCH_DATA_PAGES: usize = size_of::<ArchData>().div_ceil(PAGE_SIZE);

/// Pages mapped before the image (`VDSO_NR_PAGES`): time, namespace slot, RNG, arch pages.
pub const DATA_PAGES: usize = ARCH_PAGE + ARCH_DATA_PAGES;

/// The special mappings Linux 6.18 gives a process for these pages (one `[vvar]`).
pub const HOST_MAPPINGS: &[(&str, usize)] = &[("[vvar]", DATA_PAGES)];

/// This layout as a row (the host side is not checked on a live loongarch64 kernel).
pub const LAYOUT: super::ModernLayout =
    super::ModernLayout::of_types::<(), ()>(DATA_PAGES, HOST_MAPPINGS, None, false).with_pcpu_slots(NR_CPUS);

const _: () = {
    assert!(PCPU_PAGE == 3);
    assert!(size_of::<ArchData>() == NR_CPUS * PCPU_STRIDE);
    // Linux 6.18 defconfig: 2048 * 64 bytes on 16 KiB pages = 8 arch pages, 11 data pages.
    assert!(ARCH_DATA_PAGES == 8 && DATA_PAGES == 11);
    // The array ends on the last data page: nothing is read past the mapping.
    assert!(PCPU_PAGE * PAGE_SIZE + size_of::<ArchData>() <= DATA_PAGES * PAGE_SIZE);
    assert!(NR_CPUS > crate::loongarch64::NR_CPUS);
};
