//! `linux-vdso.so.1` for x86_64, riscv64, aarch64 and loongarch64, written in `no_std` Rust.
//!
//! This crate is what a kernel (or a test harness) depends on: the images (one per row of the
//! variant table, [`abi::VARIANTS`]: architecture, profile, page size) as page-aligned bytes, their layout, and the offset of every exported symbol, generated when the images were
//! linked and verified. It is `no_std`; with the `std` feature it also reads and verifies ELF
//! images (the `elf` and `verify` modules), and with `cli` it is the `vdso` command.
//!
//! # What a kernel does with it
//!
//! Pick the image for your architecture and page size ([`Image::find`]; [`Image::get`] is the
//! architecture's default row), then map `data_pages()` pages of `page_size()` bytes of data, then
//! the image's `pages()`, contiguously at a page-aligned address of your choosing; fill `vdso_data` at `vdso_data_offset()` in the first data page
//! (`vdso-kernel-stub` has the writer and the clock math); put the image's address in the
//! auxiliary vector as `AT_SYSINFO_EHDR`; on riscv64 and loongarch64, return from signal handlers
//! through `__vdso_rt_sigreturn` (aarch64: `__kernel_rt_sigreturn`) at its generated offset, never
//! a literal:
//!
//! ```
//! use linux_vdso::{Arch, Image, Profile};
//!
//! let image = Image::find(Arch::Riscv64, Profile::Classic, 4096).expect("a 4 KiB riscv64 image");
//! let PAGE = image.page_size();
//! // The bytes are page-aligned, so they can be mapped where they are.
//! assert_eq!(image.bytes().as_ptr() as usize % PAGE, 0);
//!
//! // Where everything goes, for a region the kernel placed at `base` (any page, e.g. random).
//! let base = 0x7fff_0000_0000usize;
//! let image_at = base + image.data_pages() * PAGE; // AT_SYSINFO_EHDR
//! let vdso_data_at = base + image.vdso_data_offset(); // fill struct vdso_data[2] here
//! let region_end = image_at + image.pages() * PAGE;
//! assert_eq!(image_at - base, 2 * PAGE); // riscv64's classic layout: data page, namespace slot
//! assert_eq!(region_end - image_at, 2 * PAGE); // the image: two pages since getrandom
//! assert_eq!(vdso_data_at, base);
//!
//! // A signal handler without SA_RESTORER returns to the trampoline (riscv64's `ra`).
//! let sigreturn = image.symbol("__vdso_rt_sigreturn").expect("riscv64 exports it");
//! let return_address = image_at + sigreturn.offset as usize;
//! assert!(return_address < region_end);
//! ```
//!
//! # Trying it in a process
//!
//! `vdso-kernel-stub` (with its `std` feature) plays the kernel in a user process: it maps the
//! region with a read-only data page at a random address, keeps the page fresh from a thread,
//! and finds symbols as a libc does. The image then answers like the kernel's own vDSO:
//!
//! ```
//! # #[cfg(any(target_arch = "x86_64", target_arch = "riscv64"))] {
//! use linux_vdso::Image;
//! use vdso_kernel_stub::{ArchLayout, MappedVdso, Ticker, TickerConfig};
//!
//! let image = Image::native().expect("an architecture with an image");
//! let mapped = MappedVdso::map(image.bytes(), ArchLayout::native()).expect("mapped");
//! let ticker = Ticker::start(&mapped, TickerConfig::default()).expect("the page is live");
//!
//! let sym = image.symbol("__vdso_clock_gettime").expect("exported");
//! let at = mapped.symbol_address(sym.name, sym.version).expect("found as a libc finds it");
//! type ClockGettime = unsafe extern "C" fn(i32, *mut [i64; 2]) -> i32;
//! // SAFETY: `at` is the image's `clock_gettime`, mapped executable with its live data pages,
//! // which stay mapped while `mapped` lives.
//! let clock_gettime: ClockGettime = unsafe { core::mem::transmute(at) };
//! let mut ts = [0i64; 2];
//! // SAFETY: `ts` is a writable timespec; clock 1 is CLOCK_MONOTONIC.
//! assert_eq!(unsafe { clock_gettime(1, &mut ts) }, 0);
//! assert!(ts[0] > 0 || ts[1] > 0);
//! drop(ticker);
//! # }
//! ```

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
pub mod elf;
#[cfg(feature = "std")]
pub mod image_file;
pub mod spec;
#[cfg(feature = "std")]
pub mod verify;

pub use spec::{Arch, Export, HashStyles, Profile, Variant};
pub use vdso_abi as abi;

/// A value aligned to the largest page size of any row ([`abi::variant::MAX_PAGE_SIZE`]), so a
/// kernel can map the embedded image bytes in place whatever its page size.
#[repr(C, align(65536))]
#[derive(Debug)]
pub struct PageAligned<T: ?Sized>(pub T);

/// An exported symbol of an image, from the generated tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Symbol name.
    pub name: &'static str,
    /// Version node (`LINUX_2.6` or `LINUX_4.15`).
    pub version: &'static str,
    /// Offset from the image start (add `AT_SYSINFO_EHDR` to call it).
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// A weak alias.
    pub weak: bool,
}

#[allow(missing_docs)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/images.rs"));
}

const _: () = assert!(core::mem::align_of::<PageAligned<u8>>() == abi::variant::MAX_PAGE_SIZE);

/// Every image, one per row of [`abi::VARIANTS`] (the rows' order).
static ALL: [Image; generated::IMAGES.len()] = generated::IMAGES;

/// One built image and its layout.
#[derive(Clone, Copy, Debug)]
pub struct Image {
    variant: &'static Variant,
    bytes: &'static PageAligned<[u8]>,
    load_size: usize,
    symbols: &'static [Symbol],
    hz: u32,
    c_header: &'static str,
}

impl Image {
    /// The default image of `arch` ([`Variant::default_for`]: classic profile, 4 KiB pages).
    pub const fn get(arch: Arch) -> Image {
        Image::of(Variant::default_for(arch))
    }

    /// The image of a row of [`abi::VARIANTS`].
    ///
    /// # Panics
    /// If `variant` is not a row of the table (every `&'static Variant` the crate hands out is).
    pub const fn of(variant: &Variant) -> Image {
        match variant.position() {
            Some(i) => generated::IMAGES[i],
            None => panic!("not a row of vdso_abi::VARIANTS"),
        }
    }

    /// The image for `arch`, `profile` and `page_size`, if the project builds one.
    pub fn find(arch: Arch, profile: Profile, page_size: usize) -> Option<Image> {
        Variant::find(arch, profile, page_size).map(Image::of)
    }

    /// Every image, in the order of [`abi::VARIANTS`].
    pub fn all() -> &'static [Image] {
        &ALL
    }

    /// The image for the architecture being compiled for, if it is one of ours.
    pub const fn native() -> Option<Image> {
        match Arch::native() {
            Some(arch) => Some(Image::get(arch)),
            None => None,
        }
    }

    /// Its architecture.
    pub const fn arch(&self) -> Arch {
        self.variant.arch
    }

    /// Its row of the variant table.
    pub const fn variant(&self) -> &'static Variant {
        self.variant
    }

    /// The page size it is linked for: each data page before it is this long, and the mapping
    /// must use pages of this size.
    pub const fn page_size(&self) -> usize {
        self.variant.page_size
    }

    /// The data layout it reads.
    pub const fn profile(&self) -> Profile {
        self.variant.profile
    }

    /// The file bytes (`linux-vdso.so.1`), starting on a page boundary.
    pub const fn bytes(&self) -> &'static [u8] {
        &self.bytes.0
    }

    /// Bytes occupied once mapped (the loaded segment); map `pages()` pages of [`Image::bytes`].
    pub const fn load_size(&self) -> usize {
        self.load_size
    }

    /// Pages of text to map after the data pages.
    pub const fn pages(&self) -> usize {
        self.load_size.div_ceil(self.variant.page_size)
    }

    /// Pages of data to map before the image.
    pub const fn data_pages(&self) -> usize {
        self.variant.data_pages()
    }

    /// Offset of `vdso_data[0]` inside page 0.
    pub const fn vdso_data_offset(&self) -> usize {
        self.variant.vdso_data_offset()
    }

    /// Page index of the time-namespace slot.
    pub const fn timens_page(&self) -> usize {
        self.variant.timens_page()
    }

    /// Tick rate the image was built for (COARSE clocks' resolution is one tick).
    pub const fn hz(&self) -> u32 {
        self.hz
    }

    /// Every exported symbol.
    pub const fn symbols(&self) -> &'static [Symbol] {
        self.symbols
    }

    /// A symbol by name.
    pub fn symbol(&self, name: &str) -> Option<Symbol> {
        self.symbols.iter().find(|s| s.name == name).copied()
    }

    /// The C header describing this image (`vdso.h`).
    pub const fn c_header(&self) -> &'static str {
        self.c_header
    }
}
