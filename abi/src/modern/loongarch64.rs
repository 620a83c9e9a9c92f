//! loongarch64 in Linux 6.18's layout: four data pages before the image (`[vvar]`: time,
//! time-namespace slot, RNG, and the arch page holding `struct vdso_arch_data`); the clock
//! structs as aarch64's and riscv64's (`modern/plain.rs`: loongarch selects neither
//! `GENERIC_VDSO_OVERFLOW_PROTECT` nor an `arch_vdso_time_data`).
//!
//! Linux 6.18's `struct vdso_arch_data` (arch/loongarch/include/asm/vdso/arch_data.h) is the
//! per-CPU array 6.8 kept in `struct loongarch_vdso_data`: `struct vdso_pcpu_data { u32 node; }
//! ____cacheline_aligned_in_smp pdata[NR_CPUS]`, now from page `VDSO_ARCH_PAGES_START` (3) on,
//! `VDSO_ARCH_DATA_PAGES` = its size rounded up to pages. This image serves
//! [`crate::loongarch64::NR_CPUS`] = 63 CPUs (the classic rows' count, under 4 KiB of slots, one page; `getcpu` asks the kernel
//! for a CPU past them), which is also Linux's page count for any `NR_CPUS` up to 256 with
//! 16 KiB pages (256 * 64 bytes = one 16 KiB page).

use core::mem::size_of;

pub use super::plain::*;
pub use crate::loongarch64::{PcpuData, NR_CPUS, PCPU_STRIDE};

/// Linux 6.18's `struct vdso_arch_data`: the per-CPU array alone (the RNG data has its own page
/// in this layout, unlike 6.12's `struct loongarch_vdso_data`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchData {
    /// Indexed by the CPU number `rdtime.d` returns (`CSR.TID`).
    pub pdata: [PcpuData; NR_CPUS],
}

/// First page of the per-CPU array ([`ArchData`]): the arch page.
pub const PCPU_PAGE: usize = ARCH_PAGE;

/// This layout as a row (the host side is not checked on a live loongarch64 kernel).
pub const LAYOUT: super::ModernLayout = super::plain::LAYOUT;

const _: () = {
    assert!(PCPU_PAGE == 3 && PCPU_PAGE + 1 == DATA_PAGES);
    // The per-CPU array fits the one arch page at the smallest page size a row may have.
    assert!(size_of::<ArchData>() == NR_CPUS * PCPU_STRIDE);
    assert!(size_of::<ArchData>() <= crate::variant::MIN_PAGE_SIZE);
};
