//! Where the data pages, the `vdso_data` structs and the image sit in the mapping, per
//! architecture (ABI.md §1).
//!
//! Everything is built from `vdso-abi`'s constants, so the layout a kernel maps is the one the
//! image was compiled against. The pointer helpers only compute addresses; dereferencing them is
//! the writer's and the reader's business.

use core::mem::size_of;

use vdso_abi::{riscv64, x86_64, VdsoData, CS_BASES, PAGE_SIZE};

use crate::arch::VdsoArch;

/// An architecture this contract covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// x86_64 (Linux 6.2 layout).
    X86_64,
    /// riscv64 (Linux 6.8 layout).
    Riscv64,
}

/// One architecture's mapping: `data_pages` pages, then the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArchLayout {
    /// Which architecture.
    pub arch: Arch,
    /// Pages mapped before the image.
    pub data_pages: usize,
    /// Page holding `vdso_data` (the namespace page for a task in a time namespace).
    pub vvar_page: usize,
    /// Page where the real data page goes for a task in a time namespace.
    pub timens_page: usize,
    /// Offset of `vdso_data[0]` inside its page.
    pub vdso_data_offset: usize,
    /// `size_of::<VdsoData<A>>()`.
    pub vdso_data_size: usize,
    /// Number of riscv hwprobe values on the page (0 on x86_64).
    pub hwprobe_keys: usize,
    /// Offset in page 0 of the x86_64 `getcpu`-mode byte (our extension); `None` on riscv64.
    pub getcpu_mode_offset: Option<usize>,
}

impl ArchLayout {
    /// The x86_64 mapping: `vvar`, pvclock, hvclock, time-namespace slot, image.
    pub const X86_64: ArchLayout = ArchLayout {
        arch: Arch::X86_64,
        data_pages: x86_64::DATA_PAGES,
        vvar_page: x86_64::VVAR_PAGE,
        timens_page: x86_64::TIMENS_PAGE,
        vdso_data_offset: x86_64::VDSO_DATA_OFFSET,
        vdso_data_size: size_of::<x86_64::VdsoData>(),
        hwprobe_keys: x86_64::HWPROBE_KEYS,
        getcpu_mode_offset: Some(x86_64::GETCPU_MODE_OFFSET),
    };

    /// The riscv64 mapping: data, time-namespace slot, image.
    pub const RISCV64: ArchLayout = ArchLayout {
        arch: Arch::Riscv64,
        data_pages: riscv64::DATA_PAGES,
        vvar_page: riscv64::VVAR_PAGE,
        timens_page: riscv64::TIMENS_PAGE,
        vdso_data_offset: riscv64::VDSO_DATA_OFFSET,
        vdso_data_size: size_of::<riscv64::VdsoData>(),
        hwprobe_keys: riscv64::HWPROBE_KEYS,
        getcpu_mode_offset: None,
    };

    /// The layout of the architecture this crate is compiled for.
    #[cfg(target_arch = "x86_64")]
    pub const fn native() -> ArchLayout {
        ArchLayout::X86_64
    }

    /// The layout of the architecture this crate is compiled for.
    #[cfg(target_arch = "riscv64")]
    pub const fn native() -> ArchLayout {
        ArchLayout::RISCV64
    }

    /// The layout of an architecture.
    pub const fn of(arch: Arch) -> ArchLayout {
        match arch {
            Arch::X86_64 => ArchLayout::X86_64,
            Arch::Riscv64 => ArchLayout::RISCV64,
        }
    }

    /// Bytes of data pages before the image.
    pub const fn data_size(&self) -> usize {
        self.data_pages * PAGE_SIZE
    }

    /// Offset of the image (what `AT_SYSINFO_EHDR` points at) from the start of the mapping.
    pub const fn image_offset(&self) -> usize {
        self.data_size()
    }

    /// Offset of `vdso_data[0]` of the vvar page from the start of the mapping.
    pub const fn vdso_data_in_mapping(&self) -> usize {
        self.vvar_page * PAGE_SIZE + self.vdso_data_offset
    }

    /// Offset of the real `vdso_data[0]` for a task in a time namespace.
    pub const fn timens_data_in_mapping(&self) -> usize {
        self.timens_page * PAGE_SIZE + self.vdso_data_offset
    }

    /// Whether an image's layout note (ABI.md §7) describes this layout.
    pub fn matches_note(&self, note: &vdso_abi::note::Layout) -> bool {
        note.revision == vdso_abi::ABI_REVISION
            && note.data_pages as usize == self.data_pages
            && note.vdso_data_offset as usize == self.vdso_data_offset
            && note.vdso_data_size as usize == self.vdso_data_size
            && note.hwprobe_keys as usize == self.hwprobe_keys
    }

    /// The `vdso_data[0..2]` pair inside a data page starting at `page` (a page of the data
    /// area, e.g. the vvar page or a time-namespace page, or the writer's view of one).
    ///
    /// Returns `None` if `A` is not this layout's architecture. Computing the pointer is safe;
    /// using it needs the page to be mapped.
    pub fn vdso_data<A: VdsoArch>(&self, page: *mut u8) -> Option<*mut [VdsoData<A>; CS_BASES]> {
        (A::LAYOUT == *self).then(|| vdso_data_ptr::<A>(page))
    }
}

/// `vdso_data[0..2]` inside the data page starting at `page`, for architecture `A`.
pub fn vdso_data_ptr<A: VdsoArch>(page: *mut u8) -> *mut [VdsoData<A>; CS_BASES] {
    page.wrapping_add(A::LAYOUT.vdso_data_offset).cast()
}

const _: () = {
    // Both structs fit in their page and keep the 8-byte alignment the atomics need.
    let layouts = [ArchLayout::X86_64, ArchLayout::RISCV64];
    let mut i = 0;
    while i < layouts.len() {
        let l = layouts[i];
        assert!(l.vdso_data_offset + CS_BASES * l.vdso_data_size <= PAGE_SIZE);
        assert!(l.vdso_data_offset.is_multiple_of(8) && l.vdso_data_size.is_multiple_of(8));
        assert!(l.vvar_page < l.data_pages && l.timens_page < l.data_pages);
        assert!(l.vvar_page != l.timens_page);
        i += 1;
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_abi_table() {
        let x = ArchLayout::X86_64;
        assert_eq!((x.data_pages, x.timens_page, x.vdso_data_offset, x.vdso_data_size), (4, 3, 128, 240));
        assert_eq!(x.image_offset(), 4 * PAGE_SIZE);
        assert_eq!(x.timens_data_in_mapping(), 3 * PAGE_SIZE + 128);
        let r = ArchLayout::RISCV64;
        assert_eq!((r.data_pages, r.timens_page, r.vdso_data_offset, r.vdso_data_size), (2, 1, 0, 304));
        assert_eq!(r.hwprobe_keys, 7);
        let note = vdso_abi::note::Layout {
            revision: 1,
            data_pages: 2,
            vdso_data_offset: 0,
            vdso_data_size: 304,
            hwprobe_keys: 7,
            hz: 250,
        };
        assert!(r.matches_note(&note) && !x.matches_note(&note));
    }

    #[test]
    fn typed_pointers_need_the_matching_arch() {
        let page = 0x1000 as *mut u8;
        assert!(ArchLayout::X86_64.vdso_data::<vdso_abi::riscv64::ArchData>(page).is_none());
        let p = ArchLayout::X86_64.vdso_data::<vdso_abi::x86_64::ArchData>(page).unwrap();
        assert_eq!(p as usize, 0x1000 + 128);
    }
}
