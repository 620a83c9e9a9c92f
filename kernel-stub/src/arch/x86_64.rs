//! x86_64's `arch_data`: none (the struct ends at byte 240).

use super::VdsoArch;
use crate::layout::ArchLayout;

impl VdsoArch for vdso_abi::x86_64::ArchData {
    const LAYOUT: ArchLayout = ArchLayout::of(vdso_abi::Arch::X86_64);

    unsafe fn store_relaxed(_dst: *mut Self, _src: &Self) {
        // Zero-sized: the x86_64 struct ends at byte 240.
    }

    unsafe fn load_relaxed(_src: *const Self) -> Self {
        vdso_abi::x86_64::ArchData
    }
}
