//! aarch64's `arch_data`: none (Linux 6.8's arm64 does not select `ARCH_HAS_VDSO_DATA`).

use super::VdsoArch;
use crate::layout::ArchLayout;

impl VdsoArch for vdso_abi::aarch64::ArchData {
    const LAYOUT: ArchLayout = ArchLayout::of(vdso_abi::Arch::Aarch64);

    unsafe fn store_relaxed(_dst: *mut Self, _src: &Self) {
        // Zero-sized: the aarch64 struct ends at byte 240.
    }

    unsafe fn load_relaxed(_src: *const Self) -> Self {
        vdso_abi::aarch64::ArchData
    }
}
