//! Where the data pages, the `vdso_data` structs and the image sit in the mapping, per variant
//! of the image (architecture, profile, page size: docs/abi.md §1).
//!
//! Everything is built from `vdso-abi`'s tables (the architecture row and the variant row), so
//! the layout a kernel maps is the one the image was compiled against, page size included. The pointer helpers only compute addresses; dereferencing them is
//! the writer's and the reader's business.

use core::fmt;

use vdso_abi::variant::MIN_PAGE_SIZE;
use vdso_abi::{VdsoData, CS_BASES};

use crate::arch::VdsoArch;

/// An architecture this contract covers: `vdso-abi`'s table, whose row gives every fact used here.
pub use vdso_abi::Arch;
/// The variant table's row of an image (architecture, profile, page size) and its profile.
pub use vdso_abi::{Profile, Variant};

/// One image variant's mapping: `data_pages` pages of `page_size` bytes, then the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArchLayout {
    /// Which architecture.
    pub arch: Arch,
    /// The data layout (profile) of the image.
    pub profile: Profile,
    /// The page size the image is linked for; the mapping is made of pages of this size, so it
    /// must be the page size of the address space it goes into.
    pub page_size: usize,
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
    /// Number of riscv hwprobe values on the page (0 elsewhere).
    pub hwprobe_keys: usize,
    /// Offset in page 0 of the x86_64 `getcpu`-mode byte (our extension); `None` elsewhere.
    pub getcpu_mode_offset: Option<usize>,
    /// loongarch64's per-CPU page (each CPU's NUMA node for `getcpu`): the first page of the
    /// per-CPU array; `None` elsewhere.
    pub pcpu_page: Option<usize>,
    /// Pages the per-CPU array spans from `pcpu_page` (1 classic, 8 modern); 0 elsewhere.
    pub pcpu_pages: usize,
    /// CPUs the per-CPU array has slots for (the layout's `NR_CPUS`: 63 classic, 2048
    /// modern); 0 elsewhere. See [`ArchLayout::pcpu_slots_mapped`].
    pub pcpu_slots: usize,
    /// Offset of `vdso_rng_data` from the start of the data pages for a task outside a time
    /// namespace (ABI revision 2: classic, on the arch row's RNG page at its offset: the vvar
    /// page, or loongarch64's per-CPU page; modern, the RNG page's start); `None` where the
    /// image has no `getrandom`.
    pub rng_data_offset: Option<usize>,
    /// Whether `vdso_rng_data` is on the real data page (classic rows whose RNG page is the
    /// vvar page), so a task in a time namespace finds it at the namespace slot instead.
    pub rng_follows_timens: bool,
}

impl ArchLayout {
    /// The x86_64 mapping: `vvar`, pvclock, hvclock, time-namespace slot, image.
    pub const X86_64: ArchLayout = ArchLayout::of(Arch::X86_64);

    /// The riscv64 mapping: data, time-namespace slot, image.
    pub const RISCV64: ArchLayout = ArchLayout::of(Arch::Riscv64);

    /// The layout of an architecture's default image ([`Variant::default_for`]).
    pub const fn of(arch: Arch) -> ArchLayout {
        ArchLayout::of_variant(Variant::default_for(arch))
    }

    /// The layout of the image of a row of `vdso-abi`'s variant table.
    pub const fn of_variant(v: &Variant) -> ArchLayout {
        ArchLayout {
            arch: v.arch,
            profile: v.profile,
            page_size: v.page_size,
            data_pages: v.data_pages(),
            vvar_page: v.vvar_page(),
            timens_page: v.timens_page(),
            vdso_data_offset: v.vdso_data_offset(),
            vdso_data_size: v.vdso_data_size(),
            hwprobe_keys: v.hwprobe_keys(),
            getcpu_mode_offset: v.getcpu_mode_offset(),
            pcpu_page: v.pcpu_page(),
            pcpu_pages: v.pcpu_pages(),
            pcpu_slots: v.pcpu_slots(),
            rng_data_offset: v.rng_data_offset(),
            rng_follows_timens: v.rng_follows_timens(),
        }
    }

    /// The same layout for pages of `page_size` bytes (for a variant table row the caller has
    /// in mind, or a test of the page-size checks): offsets inside a page stay as they are (the
    /// RNG data stays at its offset on its page).
    /// `None` unless `page_size` is a power of two from `MIN_PAGE_SIZE` (4096) to
    /// `MAX_PAGE_SIZE` (65536), the sizes a row may have.
    pub const fn with_page_size(self, page_size: usize) -> Option<ArchLayout> {
        if page_size.is_power_of_two()
            && page_size >= vdso_abi::variant::MIN_PAGE_SIZE
            && page_size <= vdso_abi::variant::MAX_PAGE_SIZE
        {
            let rng_data_offset = match self.rng_data_offset {
                Some(o) => Some(o / self.page_size * page_size + o % self.page_size),
                None => None,
            };
            Some(ArchLayout { page_size, rng_data_offset, ..self })
        } else {
            None
        }
    }

    /// Per-CPU slots inside the array's pages at this layout's page size: `pcpu_slots`, or fewer
    /// if the pages are smaller than the row's (a layout from [`with_page_size`](Self::with_page_size)),
    /// so nothing is ever written or read past them.
    pub const fn pcpu_slots_mapped(&self) -> usize {
        let fit = self.pcpu_pages * self.page_size / vdso_abi::loongarch64::PCPU_STRIDE;
        if fit < self.pcpu_slots {
            fit
        } else {
            self.pcpu_slots
        }
    }

    /// Bytes of data pages before the image.
    pub const fn data_size(&self) -> usize {
        self.data_pages * self.page_size
    }

    /// Offset of the image (what `AT_SYSINFO_EHDR` points at) from the start of the mapping.
    pub const fn image_offset(&self) -> usize {
        self.data_size()
    }

    /// The page of its own that holds `vdso_rng_data` (the modern profile's RNG page); `None`
    /// where it is on the real data page (classic) or the image has no `getrandom`.
    pub const fn rng_page(&self) -> Option<usize> {
        match (self.profile, self.rng_data_offset) {
            (Profile::Modern, Some(offset)) => Some(offset / self.page_size),
            _ => None,
        }
    }

    /// The page of its own that holds riscv64's hwprobe answers (the modern profile's arch
    /// page, `struct vdso_arch_data`); `None` where they are part of `vdso_data` (classic) or
    /// the layout has none.
    pub const fn hwprobe_page(&self) -> Option<usize> {
        match self.profile {
            Profile::Modern if self.hwprobe_keys > 0 => Some(vdso_abi::modern::page::ARCH_START),
            _ => None,
        }
    }

    /// Offset of `vdso_data[0]` of the vvar page from the start of the mapping.
    pub const fn vdso_data_in_mapping(&self) -> usize {
        self.vvar_page * self.page_size + self.vdso_data_offset
    }

    /// Offset of the real `vdso_rng_data` from the start of the mapping (when it is on the vvar
    /// page, [`rng_follows_timens`](Self::rng_follows_timens), a task in a time namespace finds
    /// it at the same offset of the namespace slot, where the real page then is).
    pub const fn rng_data_in_mapping(&self) -> Option<usize> {
        self.rng_data_offset
    }

    /// Offset of the real `vdso_data[0]` for a task in a time namespace.
    pub const fn timens_data_in_mapping(&self) -> usize {
        self.timens_page * self.page_size + self.vdso_data_offset
    }

    /// The ELF `e_machine` of this architecture's images (from the table: `EM_X86_64` 62, ...).
    pub const fn elf_machine(&self) -> u16 {
        self.arch.e_machine()
    }

    /// Checks that `image` (its bytes from the ELF header on, as they would be mapped) is an
    /// image this layout can map: a 64-bit little-endian `ET_DYN` ELF file of this architecture
    /// whose own layout note (docs/abi.md §6, found through `PT_NOTE` as a loader finds notes) says
    /// exactly this layout. Returns the note.
    ///
    /// A kernel should call this before mapping an image: an image of another architecture or
    /// layout reads the data page at the wrong offsets (or is not code for this CPU at all), and
    /// the first call into it crashes or returns garbage.
    pub fn check_image(&self, image: &[u8]) -> Result<vdso_abi::note::Layout, ImageError> {
        let machine = elf_machine_of(image)?;
        if machine != self.elf_machine() {
            return Err(ImageError::WrongMachine { expected: self.elf_machine(), found: machine });
        }
        let note = layout_note(image)?;
        if !self.matches_note(&note) {
            return Err(ImageError::LayoutMismatch(note));
        }
        Ok(note)
    }

    /// The layout note (docs/abi.md §6) an image built for this layout carries (with `hz` the tick
    /// rate it was built for, which [`matches_note`](Self::matches_note) does not compare).
    pub const fn note(&self, hz: u32) -> vdso_abi::note::Layout {
        vdso_abi::note::Layout {
            revision: vdso_abi::ABI_REVISION,
            data_pages: self.data_pages as u32,
            vdso_data_offset: self.vdso_data_offset as u32,
            vdso_data_size: self.vdso_data_size as u32,
            hwprobe_keys: self.hwprobe_keys as u32,
            hz,
            page_size: self.page_size as u32,
            profile: self.profile.note_value(),
            rng_data_offset: match self.rng_data_offset {
                Some(offset) => offset as u32,
                None => 0,
            },
        }
    }

    /// Whether an image's layout note (docs/abi.md §6) describes this layout.
    pub fn matches_note(&self, note: &vdso_abi::note::Layout) -> bool {
        note.revision == vdso_abi::ABI_REVISION
            && note.data_pages as usize == self.data_pages
            && note.vdso_data_offset as usize == self.vdso_data_offset
            && note.vdso_data_size as usize == self.vdso_data_size
            && note.hwprobe_keys as usize == self.hwprobe_keys
            && note.page_size as usize == self.page_size
            && note.profile == self.profile.note_value()
            && note.rng_data_offset == self.rng_data_offset.map_or(0, |o| o as u32)
    }

    /// The `vdso_data[0..2]` pair inside a data page starting at `page` (a page of the data
    /// area, e.g. the vvar page or a time-namespace page, or the writer's view of one).
    ///
    /// Returns `None` if `A` is not this layout's architecture (or profile). Computing the pointer is safe;
    /// using it needs the page to be mapped.
    pub fn vdso_data<A: VdsoArch>(&self, page: *mut u8) -> Option<*mut [VdsoData<A>; CS_BASES]> {
        A::LAYOUT.same_data_as(self).then(|| vdso_data_ptr::<A>(page))
    }

    /// Whether `other` lays the data out as this layout does inside each page (architecture and
    /// profile; page sizes may differ).
    pub fn same_data_as(&self, other: &ArchLayout) -> bool {
        *self == ArchLayout { page_size: self.page_size, ..*other }
    }
}

const ET_DYN: u16 = 3;
const PT_NOTE: u32 = 4;

/// Why an image does not fit a layout ([`ArchLayout::check_image`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Not a 64-bit little-endian `ET_DYN` ELF file (or its headers lie outside the bytes).
    NotElf,
    /// An ELF image for another machine.
    WrongMachine {
        /// `e_machine` of the layout's architecture.
        expected: u16,
        /// `e_machine` of the image.
        found: u16,
    },
    /// No well-formed `rs-vdso` layout note in any `PT_NOTE` segment.
    NoLayoutNote,
    /// The image's layout note describes another layout (revision, data pages, offsets or
    /// sizes).
    LayoutMismatch(vdso_abi::note::Layout),
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::NotElf => write!(f, "not a 64-bit little-endian ELF shared object"),
            ImageError::WrongMachine { expected, found } => {
                write!(f, "an image for ELF machine {found}, not {expected}")
            }
            ImageError::NoLayoutNote => {
                write!(f, "no {:?} layout note (docs/abi.md section 6)", vdso_abi::note::OWNER)
            }
            ImageError::LayoutMismatch(n) => write!(
                f,
                "its layout note says revision {}, {} data pages of {} bytes, vdso_data at {} of {} \
                 bytes, {} hwprobe keys, profile {}: not this layout",
                n.revision,
                n.data_pages,
                n.page_size,
                n.vdso_data_offset,
                n.vdso_data_size,
                n.hwprobe_keys,
                n.profile
            ),
        }
    }
}

impl core::error::Error for ImageError {}

fn bytes_at<const N: usize>(mem: &[u8], off: u64) -> Option<[u8; N]> {
    let off = usize::try_from(off).ok()?;
    mem.get(off..off.checked_add(N)?)?.try_into().ok()
}

fn u16_at(mem: &[u8], off: u64) -> Option<u16> {
    bytes_at(mem, off).map(u16::from_le_bytes)
}

fn u32_at(mem: &[u8], off: u64) -> Option<u32> {
    bytes_at(mem, off).map(u32::from_le_bytes)
}

fn u64_at(mem: &[u8], off: u64) -> Option<u64> {
    bytes_at(mem, off).map(u64::from_le_bytes)
}

/// `e_machine` of a 64-bit little-endian `ET_DYN` ELF image.
fn elf_machine_of(image: &[u8]) -> Result<u16, ImageError> {
    let ident: [u8; 6] = bytes_at(image, 0).ok_or(ImageError::NotElf)?;
    if ident != *b"\x7fELF\x02\x01" || u16_at(image, 16) != Some(ET_DYN) {
        return Err(ImageError::NotElf);
    }
    u16_at(image, 18).ok_or(ImageError::NotElf)
}

/// The `rs-vdso` layout note of an ELF image, read as a loader reads notes: from the `PT_NOTE`
/// program headers (no section headers). Every read is bounds-checked.
pub fn layout_note(image: &[u8]) -> Result<vdso_abi::note::Layout, ImageError> {
    elf_machine_of(image)?;
    let phoff = u64_at(image, 32).ok_or(ImageError::NotElf)?;
    let phentsize = u16_at(image, 54).ok_or(ImageError::NotElf)? as u64;
    let phnum = u16_at(image, 56).ok_or(ImageError::NotElf)? as u64;
    if phentsize < 56 {
        return Err(ImageError::NotElf);
    }
    for i in 0..phnum {
        let ph = phoff.checked_add(i * phentsize).ok_or(ImageError::NotElf)?;
        if u32_at(image, ph).ok_or(ImageError::NotElf)? != PT_NOTE {
            continue;
        }
        let (Some(off), Some(size)) = (u64_at(image, ph + 8), u64_at(image, ph + 32)) else {
            return Err(ImageError::NotElf);
        };
        let Some(end) = off.checked_add(size) else { continue };
        if let Some(note) = find_layout_note(image, off, end) {
            return Ok(note);
        }
    }
    Err(ImageError::NoLayoutNote)
}

/// Walks the notes in `image[off..end]` for the layout note.
fn find_layout_note(image: &[u8], mut off: u64, end: u64) -> Option<vdso_abi::note::Layout> {
    let pad4 = |n: u64| n.checked_add(3).map(|n| n & !3);
    while off.checked_add(12)? <= end {
        let namesz = u32_at(image, off)? as u64;
        let descsz = u32_at(image, off + 4)? as u64;
        let kind = u32_at(image, off + 8)?;
        let name_at = off + 12;
        let desc_at = name_at.checked_add(pad4(namesz)?)?;
        let next = desc_at.checked_add(pad4(descsz)?)?;
        if next > end {
            return None;
        }
        let name = image.get(usize::try_from(name_at).ok()?..usize::try_from(name_at + namesz).ok()?)?;
        let owner = vdso_abi::note::OWNER.as_bytes();
        if kind == vdso_abi::note::TYPE_LAYOUT && name.strip_suffix(b"\0") == Some(owner) {
            let desc = image.get(usize::try_from(desc_at).ok()?..usize::try_from(desc_at + descsz).ok()?)?;
            return vdso_abi::note::Layout::from_le_bytes(desc);
        }
        off = next;
    }
    None
}

/// `vdso_data[0..2]` inside the data page starting at `page`, for architecture `A`.
pub fn vdso_data_ptr<A: VdsoArch>(page: *mut u8) -> *mut [VdsoData<A>; CS_BASES] {
    page.wrapping_add(A::LAYOUT.vdso_data_offset).cast()
}

const _: () = {
    // Every variant's structs fit in their page and keep the 8-byte alignment the atomics need.
    let mut i = 0;
    while i < vdso_abi::VARIANTS.len() {
        let l = ArchLayout::of_variant(&vdso_abi::VARIANTS[i]);
        assert!(l.vdso_data_offset + CS_BASES * l.vdso_data_size <= l.page_size);
        assert!(l.page_size >= MIN_PAGE_SIZE);
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
        assert_eq!(x.image_offset(), 4 * 4096);
        assert_eq!(x.timens_data_in_mapping(), 3 * 4096 + 128);
        let x16 = x.with_page_size(16384).unwrap();
        for bad in [0, 4095, 6000, 2048, 1 << 17, usize::MAX / 2 + 1] {
            assert_eq!(x.with_page_size(bad), None, "{bad}");
        }
        assert_eq!((x16.image_offset(), x16.timens_data_in_mapping()), (4 * 16384, 3 * 16384 + 128));
        let r = ArchLayout::RISCV64;
        assert_eq!((r.data_pages, r.timens_page, r.vdso_data_offset, r.vdso_data_size), (2, 1, 0, 304));
        assert_eq!(r.hwprobe_keys, 7);
        let note = vdso_abi::note::Layout {
            revision: 2,
            data_pages: 2,
            vdso_data_offset: 0,
            vdso_data_size: 304,
            hwprobe_keys: 7,
            hz: 250,
            page_size: 4096,
            profile: Profile::Classic.note_value(),
            rng_data_offset: 608,
        };
        assert!(r.matches_note(&note) && !x.matches_note(&note));
        // The page size is part of the layout: a 16 KiB image is not this 4 KiB one.
        assert!(!r.matches_note(&vdso_abi::note::Layout { page_size: 16384, ..note }));
        assert!(r
            .with_page_size(16384)
            .unwrap()
            .matches_note(&vdso_abi::note::Layout { page_size: 16384, ..note }));
    }

    #[test]
    fn typed_pointers_need_the_matching_arch() {
        let page = 0x1000 as *mut u8;
        assert!(ArchLayout::X86_64.vdso_data::<vdso_abi::riscv64::ArchData>(page).is_none());
        let p = ArchLayout::X86_64.vdso_data::<vdso_abi::x86_64::ArchData>(page).unwrap();
        assert_eq!(p as usize, 0x1000 + 128);
    }
}
