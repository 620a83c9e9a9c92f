//! The variant table: one `const` row per image the project builds.
//!
//! An image is not identified by its architecture alone: the same architecture can be built for
//! several page sizes (loongarch64 ships 16 KiB and 4 KiB) and for several data layouts
//! (*profiles*: Linux's classic `struct vdso_data`, Linux 6.15+'s per-clock layout). Each
//! combination the project builds is a [`Variant`] row of [`VARIANTS`]; the build script builds
//! one image per row (into `images/<dir>/linux-vdso.so.1`), the root library embeds one per row
//! and selects by architecture, profile and page size, the verifier judges an image against its
//! row, and `kernel-stub` and the launcher map with the row's page size.
//!
//! Adding a row is one entry in [`VARIANTS`] (and committing its image with
//! `VDSO_IMAGES=update cargo build`); the const-asserts below check the table's invariants.
//! The image's own build learns its row from `VDSO_VARIANT=<dir>` (the build script sets it on
//! the nested build; [`Variant::by_name`] finds the row at compile time).

use crate::arch::{str_eq, Arch};
use crate::CS_BASES;

/// Which data-page layout an image reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// Linux's classic `struct vdso_data[2]` layout, as the architecture row's
    /// `linux_version_code` has it (6.2 on x86_64, 6.8 on riscv64 and aarch64).
    Classic,
    /// Linux 6.15+'s split data store as Linux 6.18 lays it out (`struct vdso_time_data` with
    /// one `vdso_clock` per base and per auxiliary clock; time, namespace, RNG, arch pages):
    /// [`crate::modern`].
    Modern,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 2] = [Profile::Classic, Profile::Modern];

    /// Name used on the command line and in output (`classic`).
    pub const fn name(self) -> &'static str {
        match self {
            Profile::Classic => "classic",
            Profile::Modern => "modern",
        }
    }

    /// The value the image's layout note carries for it (docs/abi.md section 6); never 0, so an
    /// unwritten word is not a profile.
    pub const fn note_value(self) -> u32 {
        match self {
            Profile::Classic => 1,
            Profile::Modern => 2,
        }
    }

    /// The profile a layout note's word names.
    pub fn from_note_value(v: u32) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.note_value() == v)
    }

    /// Parses [`Profile::name`].
    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl core::fmt::Display for Profile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// One image the project builds: an architecture, a data layout and a page size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Variant {
    /// The architecture (its [`crate::ArchInfo`] row holds every per-arch fact).
    pub arch: Arch,
    /// The data-page layout the image reads.
    pub profile: Profile,
    /// The page size the image is linked for: `p_align`, the size of each data page before it.
    pub page_size: usize,
    /// Directory under `images/` (and the short name in output): the architecture's name for
    /// its default row, so `images/<arch>/linux-vdso.so.1` stays where it always was.
    pub dir: &'static str,
    /// The row [`Variant::default_for`] picks for its architecture (exactly one per arch).
    pub default: bool,
}

/// The classic-profile default row of `arch` with `page_size`-byte pages, named after the arch.
const fn classic_default(arch: Arch, page_size: usize) -> Variant {
    Variant { arch, profile: Profile::Classic, page_size, dir: arch.name(), default: true }
}

/// Every image the project builds, in the order they are built and printed.
pub const VARIANTS: &[Variant] = &[
    classic_default(Arch::Aarch64, 4096),
    // Linux's default page size on loongarch64.
    classic_default(Arch::Loongarch64, crate::loongarch64::DEFAULT_PAGE_SIZE),
    // The 4 KiB build some hobby kernels need (Linux's CONFIG_4KB_3LEVEL/4LEVEL): the same
    // layout, three 4 KiB data pages (the 64 CPUs' 4 KiB of per-CPU slots fill the third).
    Variant {
        arch: Arch::Loongarch64,
        profile: Profile::Classic,
        page_size: 4096,
        dir: "loongarch64-4k",
        default: false,
    },
    classic_default(Arch::Riscv64, 4096),
    classic_default(Arch::X86_64, 4096),
    // Linux 6.18's layout (docs/abi.md "The modern profile").
    modern_4k(Arch::X86_64, "x86_64-modern"),
    modern_4k(Arch::Aarch64, "aarch64-modern"),
    modern_4k(Arch::Riscv64, "riscv64-modern"),
    // loongarch64's with its default 16 KiB pages (its per-CPU array on the arch page).
    Variant {
        arch: Arch::Loongarch64,
        profile: Profile::Modern,
        page_size: crate::loongarch64::DEFAULT_PAGE_SIZE,
        dir: "loongarch64-modern",
        default: false,
    },
];

/// A modern-profile, 4 KiB row.
const fn modern_4k(arch: Arch, dir: &'static str) -> Variant {
    Variant { arch, profile: Profile::Modern, page_size: 4096, dir, default: false }
}

/// The smallest page size a row may have (every layout must fit in it).
pub const MIN_PAGE_SIZE: usize = 4096;

/// The largest page size a row may have: the root library aligns the embedded images to it so a
/// kernel can map them in place.
pub const MAX_PAGE_SIZE: usize = 65536;

impl Variant {
    /// The default row of `arch` (classic profile; 4 KiB pages, 16 KiB on loongarch64).
    pub const fn default_for(arch: Arch) -> &'static Variant {
        let mut i = 0;
        while i < VARIANTS.len() {
            if VARIANTS[i].default && VARIANTS[i].arch as u8 == arch as u8 {
                return &VARIANTS[i];
            }
            i += 1;
        }
        panic!("an architecture without a default variant (the const-asserts forbid it)")
    }

    /// The row for `arch`, `profile` and `page_size`, if the project builds it.
    pub fn find(arch: Arch, profile: Profile, page_size: usize) -> Option<&'static Variant> {
        VARIANTS.iter().find(|v| v.arch == arch && v.profile == profile && v.page_size == page_size)
    }

    /// The row whose [`Variant::dir`] is `name` (a `const fn`: the image build looks its
    /// `VDSO_VARIANT` up with it).
    pub const fn by_name(name: &str) -> Option<&'static Variant> {
        let mut i = 0;
        while i < VARIANTS.len() {
            if str_eq(VARIANTS[i].dir, name) {
                return Some(&VARIANTS[i]);
            }
            i += 1;
        }
        None
    }

    /// This row's index in [`VARIANTS`] (`None` for a value that is not a row of the table).
    pub const fn position(&self) -> Option<usize> {
        let mut i = 0;
        while i < VARIANTS.len() {
            if str_eq(VARIANTS[i].dir, self.dir) {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// Every row of `arch`.
    pub fn of_arch(arch: Arch) -> impl Iterator<Item = &'static Variant> {
        VARIANTS.iter().filter(move |v| v.arch == arch)
    }

    /// Short name for output and paths (`x86_64`, `loongarch64-4k`, `x86_64-modern`).
    pub const fn name(&self) -> &'static str {
        self.dir
    }

    /// Pages mapped before the image.
    pub const fn data_pages(&self) -> usize {
        match self.profile {
            Profile::Classic => self.arch.info().data_pages,
            Profile::Modern => crate::modern::of(self.arch).data_pages,
        }
    }

    /// Bytes of data mapped before the image (`data_pages() * page_size`).
    pub const fn data_size(&self) -> usize {
        self.data_pages() * self.page_size
    }

    /// Page holding `vdso_data` (the namespace page for a task in a time namespace).
    pub const fn vvar_page(&self) -> usize {
        match self.profile {
            Profile::Classic => self.arch.info().vvar_page,
            Profile::Modern => crate::modern::of(self.arch).vvar_page,
        }
    }

    /// Page where the real data page goes for a task in a time namespace.
    pub const fn timens_page(&self) -> usize {
        match self.profile {
            Profile::Classic => self.arch.info().timens_page,
            Profile::Modern => crate::modern::of(self.arch).timens_page,
        }
    }

    /// Offset of `vdso_data[0]` inside its page.
    pub const fn vdso_data_offset(&self) -> usize {
        match self.profile {
            Profile::Classic => self.arch.info().vdso_data_offset,
            Profile::Modern => crate::modern::of(self.arch).vdso_data_offset,
        }
    }

    /// `size_of` one `vdso_data`.
    pub const fn vdso_data_size(&self) -> usize {
        match self.profile {
            Profile::Classic => self.arch.info().vdso_data_size,
            Profile::Modern => crate::modern::of(self.arch).vdso_data_size,
        }
    }

    /// Offset of `vdso_rng_data` from the start of the data pages for a task outside a time
    /// namespace (`None`: the image has no `getrandom`); the layout note's ninth word.
    pub const fn rng_data_offset(&self) -> Option<usize> {
        match (self.profile, self.arch.info().rng_data_offset) {
            // Classic: on the row's RNG page (the vvar page, or loongarch64's per-CPU page), at
            // the row's offset in it.
            (Profile::Classic, Some(offset)) => {
                Some(self.arch.info().rng_data_page * self.page_size + offset)
            }
            (Profile::Classic, None) => None,
            // Modern: the RNG page, at its start (Linux 6.15+'s `vdso_rng_data` page).
            (Profile::Modern, Some(_)) => Some(crate::modern::page::RNG * self.page_size),
            (Profile::Modern, None) => None,
        }
    }

    /// Whether `vdso_rng_data` is on the real data page, so that a task in a time namespace
    /// finds it at the namespace slot (`timens_page`) rather than at [`Self::rng_data_offset`].
    /// Classic rows whose RNG data is on the vvar page; never loongarch64's per-CPU page or
    /// the modern RNG page.
    pub const fn rng_follows_timens(&self) -> bool {
        match self.profile {
            Profile::Classic => self.arch.info().rng_data_page == self.arch.info().vvar_page,
            Profile::Modern => false,
        }
    }

    /// Number of riscv hwprobe values the image reads (0 elsewhere): at the end of `vdso_data`
    /// in the classic profile (Linux 6.8: 7), on the arch page in the modern one (6.18: 15).
    pub const fn hwprobe_keys(&self) -> usize {
        match self.profile {
            Profile::Classic => self.arch.info().hwprobe_keys,
            Profile::Modern => crate::modern::of(self.arch).hwprobe_keys,
        }
    }

    /// The first page of loongarch64's per-CPU array (`None` elsewhere): after the two time
    /// pages in the classic profile, the arch page in the modern one.
    pub const fn pcpu_page(&self) -> Option<usize> {
        match (self.profile, self.arch.info().pcpu_page) {
            (_, None) => None,
            (Profile::Classic, Some(p)) => Some(p),
            (Profile::Modern, Some(_)) => Some(crate::modern::page::ARCH_START),
        }
    }

    /// CPUs loongarch64's per-CPU array serves (the layout's `NR_CPUS`: 63 in the classic
    /// profile, Linux 6.18 defconfig's 2048 in the modern one); 0 where there is none.
    pub const fn pcpu_slots(&self) -> usize {
        match self.profile {
            Profile::Classic => self.arch.info().pcpu_slots,
            Profile::Modern => crate::modern::of(self.arch).pcpu_slots,
        }
    }

    /// Pages the per-CPU array spans from [`pcpu_page`](Self::pcpu_page) (its 64-byte slots
    /// rounded up to pages; Linux's `VDSO_ARCH_DATA_PAGES` in the modern profile); 0 where
    /// there is none.
    pub const fn pcpu_pages(&self) -> usize {
        (self.pcpu_slots() * crate::loongarch64::PCPU_STRIDE).div_ceil(self.page_size)
    }

    /// Offset in the data page of x86_64's `getcpu`-mode byte (our extension); `None` elsewhere.
    pub const fn getcpu_mode_offset(&self) -> Option<usize> {
        match self.profile {
            Profile::Classic => self.arch.info().getcpu_mode_offset,
            Profile::Modern => crate::modern::of(self.arch).getcpu_mode_offset,
        }
    }

    /// Value of the "Linux" version note: the release whose layout this row follows.
    pub const fn linux_version_code(&self) -> u32 {
        match self.profile {
            Profile::Classic => self.arch.info().linux_version_code,
            Profile::Modern => crate::modern::of(self.arch).linux_version_code,
        }
    }
}

impl core::fmt::Display for Variant {
    /// `x86_64 (classic profile, 4096-byte pages)`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({} profile, {}-byte pages)", self.name(), self.profile, self.page_size)
    }
}

const _: () = {
    let mut i = 0;
    while i < VARIANTS.len() {
        let v = &VARIANTS[i];
        // A page size the hardware can have, no larger than the embedded images' alignment.
        assert!(
            v.page_size.is_power_of_two() && v.page_size >= MIN_PAGE_SIZE && v.page_size <= MAX_PAGE_SIZE
        );
        // The layout fits in its page.
        assert!(v.vdso_data_offset() + CS_BASES * v.vdso_data_size() <= v.page_size);
        assert!(v.vvar_page() < v.data_pages() && v.timens_page() < v.data_pages());
        // A per-CPU array exactly where the row has a per-CPU page, inside the data pages.
        match v.pcpu_page() {
            Some(p) => {
                assert!(v.pcpu_slots() > 0 && p + v.pcpu_pages() <= v.data_pages());
                // Modern: the arch pages (`VDSO_ARCH_DATA_PAGES` at the row's page size) are
                // the last data pages, so the layout's page count matches the row's page size.
                assert!(!matches!(v.profile, Profile::Modern) || p + v.pcpu_pages() == v.data_pages());
            }
            None => assert!(v.pcpu_slots() == 0),
        }
        assert!(!v.dir.is_empty());
        let mut j = 0;
        let mut defaults = 0;
        while j < VARIANTS.len() {
            let w = &VARIANTS[j];
            // Directories (names) unique, and no two rows for the same image.
            assert!(i == j || !str_eq(v.dir, w.dir));
            assert!(
                i == j
                    || !(v.arch as u8 == w.arch as u8
                        && v.profile as u8 == w.profile as u8
                        && v.page_size == w.page_size)
            );
            if w.default && w.arch as u8 == v.arch as u8 {
                defaults += 1;
            }
            j += 1;
        }
        // Exactly one default per architecture that has rows...
        assert!(defaults == 1);
        i += 1;
    }
    // ...and every architecture has rows.
    let mut a = 0;
    while a < Arch::ALL.len() {
        let mut found = false;
        let mut i = 0;
        while i < VARIANTS.len() {
            found |= VARIANTS[i].arch as u8 == Arch::ALL[a] as u8 && VARIANTS[i].default;
            i += 1;
        }
        assert!(found);
        a += 1;
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_arch_has_one_default_row_at_its_old_path() {
        for arch in Arch::ALL {
            let d = Variant::default_for(arch);
            assert_eq!((d.arch, d.profile, d.default), (arch, Profile::Classic, true));
            // The default rows keep `images/<arch>/` and the arch's name in output.
            assert_eq!(d.dir, arch.name());
            assert_eq!(Variant::of_arch(arch).filter(|v| v.default).count(), 1);
            assert_eq!(Variant::find(arch, d.profile, d.page_size), Some(d));
        }
    }

    #[test]
    fn find_and_by_name_return_rows_and_refuse_what_is_not_built() {
        for (i, v) in VARIANTS.iter().enumerate() {
            assert_eq!(Variant::find(v.arch, v.profile, v.page_size), Some(v));
            assert_eq!(Variant::by_name(v.name()), Some(v));
            assert_eq!(v.position(), Some(i));
            assert_eq!(Profile::from_note_value(v.profile.note_value()), Some(v.profile));
            assert_eq!(Profile::from_name(v.profile.name()), Some(v.profile));
            // Offsets inside a page come from the arch row; sizes scale with the page.
            assert_eq!(v.data_size(), v.data_pages() * v.page_size);
        }
        assert_eq!(Variant::find(Arch::X86_64, Profile::Classic, 8192), None);
        assert_eq!(Variant::find(Arch::X86_64, Profile::Classic, 65536), None);
        assert_eq!(Variant::by_name("x86_64-none"), None);
        let stray = Variant { dir: "not-a-row", ..*Variant::default_for(Arch::X86_64) };
        assert_eq!(stray.position(), None);
        assert_eq!(Profile::from_note_value(0), None);
        assert_eq!(Profile::from_name("newest"), None);
    }

    #[test]
    fn loongarch64_per_cpu_array_follows_each_profile() {
        // Classic (Linux 6.8 with our NR_CPUS 63): one page, page 2, at both page sizes.
        for page_size in [16384, 4096] {
            let c = Variant::find(Arch::Loongarch64, Profile::Classic, page_size).unwrap();
            assert_eq!((c.pcpu_page(), c.pcpu_slots(), c.pcpu_pages(), c.data_pages()), (Some(2), 63, 1, 3));
        }
        // Modern (Linux 6.18 defconfig: NR_CPUS 2048, 16 KiB pages): arch pages 3..=10.
        let m = Variant::find(Arch::Loongarch64, Profile::Modern, 16384).unwrap();
        assert_eq!((m.pcpu_page(), m.pcpu_slots(), m.pcpu_pages(), m.data_pages()), (Some(3), 2048, 8, 11));
        assert_eq!(m.data_size(), 11 * 16384);
        for v in VARIANTS.iter().filter(|v| v.arch != Arch::Loongarch64) {
            assert_eq!((v.pcpu_page(), v.pcpu_slots(), v.pcpu_pages()), (None, 0, 0), "{v}");
        }
    }

    #[test]
    fn rng_data_offset_counts_from_the_data_pages_start_and_only_vvar_page_rng_follows_timens() {
        // x86_64: on the vvar page (page 0), swapped by a time namespace.
        let x = Variant::default_for(Arch::X86_64);
        assert_eq!(x.rng_data_offset(), Some(crate::x86_64::RNG_DATA_OFFSET));
        assert!(x.rng_follows_timens());
        // loongarch64: after the 63 per-CPU slots on page 2, at both page sizes; never swapped.
        for page_size in [16384, 4096] {
            let l = Variant::find(Arch::Loongarch64, Profile::Classic, page_size).unwrap();
            assert_eq!(l.rng_data_offset(), Some(2 * page_size + 63 * 64));
            assert!(!l.rng_follows_timens());
        }
    }

    #[test]
    fn layout_notes_carry_page_size_and_profile_and_old_six_word_notes_mean_4k_classic() {
        use crate::note::{Layout, WORDS};
        let words = [2u32, 2, 0, 304, 7, 250, 16384, Profile::Classic.note_value(), 608];
        let mut bytes = [0u8; WORDS * 4];
        for (i, w) in words.iter().enumerate() {
            bytes[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
        let l = Layout::from_le_bytes(&bytes).unwrap();
        assert_eq!((l.page_size, l.profile), (16384, 1));
        assert_eq!(l.words(), words);
        let old = Layout::from_le_bytes(&bytes[..24]).unwrap();
        assert_eq!((old.hz, old.page_size, old.profile), (250, 4096, Profile::Classic.note_value()));
        assert_eq!(Layout::from_le_bytes(&bytes[..28]), None);
        // An eight-word note (before getrandom): no RNG data.
        let before_rng = Layout::from_le_bytes(&bytes[..32]).unwrap();
        assert_eq!((before_rng.page_size, before_rng.rng_data_offset), (16384, 0));
        assert_eq!(l.rng_data_offset, 608);
    }
}
