//! loongarch64's `arch_data` (none: Linux 6.8's loongarch does not select
//! `ARCH_HAS_VDSO_DATA`) and its per-CPU page, which `getcpu` reads: one
//! `struct vdso_pcpu_data { u32 node; }` per CPU at a 64-byte stride (`vdso_abi::loongarch64`).
//! Linux fills each CPU's `node` once at boot (`init_vdso`: `cpu_to_node(cpu)`); a kernel with
//! one node leaves the page zero. The CPU number itself comes from `CSR.TID`, which the kernel
//! sets on each CPU (docs/kernel-guide.md).

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

use vdso_abi::loongarch64::PcpuData;

use super::VdsoArch;
use crate::layout::ArchLayout;

impl VdsoArch for vdso_abi::loongarch64::ArchData {
    const LAYOUT: ArchLayout = ArchLayout::of(vdso_abi::Arch::Loongarch64);

    unsafe fn store_relaxed(_dst: *mut Self, _src: &Self) {
        // Zero-sized: the loongarch64 struct ends at byte 240.
    }

    unsafe fn load_relaxed(_src: *const Self) -> Self {
        vdso_abi::loongarch64::ArchData
    }
}

/// Where `cpu`'s node lives in the per-CPU array starting at `page`, which has `slots` slots
/// (the layout's `NR_CPUS`: `ArchLayout::pcpu_slots_mapped`, 63 classic, 2048 modern); `None`
/// past them. Computing the pointer is safe; using it needs the array mapped.
pub fn cpu_node_ptr(page: *mut u8, cpu: u32, slots: usize) -> Option<*mut u32> {
    let cpu = usize::try_from(cpu).ok().filter(|&c| c < slots)?;
    Some(page.cast::<PcpuData>().wrapping_add(cpu).cast::<u32>())
}

/// Stores `node` as `cpu`'s NUMA node in the per-CPU array of `slots` slots at `page` (a relaxed
/// atomic store: readers may be running). Returns `false`, storing nothing, for a CPU past the
/// slots.
///
/// # Safety
/// `page` must be the start of a mapped, writable per-CPU array of at least `slots` 64-byte
/// slots, 64-byte aligned.
pub unsafe fn store_cpu_node(page: *mut u8, cpu: u32, node: u32, slots: usize) -> bool {
    match cpu_node_ptr(page, cpu, slots) {
        // SAFETY: inside the array (slot < slots, 64 * slots bytes mapped per the caller),
        // 4-aligned, writable per the caller.
        Some(p) => unsafe { AtomicU32::from_ptr(p) }.store(node, Relaxed),
        None => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_cache_lines_and_bounded() {
        let base = 0x1_0000 as *mut u8;
        for slots in [vdso_abi::loongarch64::NR_CPUS, vdso_abi::modern::loongarch64::NR_CPUS] {
            assert_eq!(cpu_node_ptr(base, 0, slots), Some(base.cast()));
            assert_eq!(cpu_node_ptr(base, 5, slots).map(|p| p as usize), Some(0x1_0000 + 5 * 64));
            assert_eq!(
                cpu_node_ptr(base, slots as u32 - 1, slots).map(|p| p as usize),
                Some(0x1_0000 + (slots - 1) * 64)
            );
            assert_eq!(cpu_node_ptr(base, slots as u32, slots), None);
            assert_eq!(cpu_node_ptr(base, u32::MAX, slots), None);
        }
    }
}
