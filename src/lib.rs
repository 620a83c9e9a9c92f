//! `linux-vdso.so.1` for riscv64, x86_64 and aarch64, written in `no_std` Rust.
//!
//! This crate is what a kernel (or a test harness) depends on: the two images as page-aligned
//! bytes, their layout, and the offset of every exported symbol, generated when the images were
//! linked and verified. It is `no_std`; with the `std` feature it also reads and verifies ELF
//! images (the `elf` and `verify` modules), and with `cli` it is the `vdso` command.
//!
//! # What a kernel does with it
//!
//! Map `data_pages()` pages of data, then the image's `pages()`, contiguously at a page-aligned
//! address of your choosing; fill `vdso_data` at `vdso_data_offset()` in the first data page
//! (`vdso-kernel-stub` has the writer and the clock math); put the image's address in the
//! auxiliary vector as `AT_SYSINFO_EHDR`; on riscv64, return from signal handlers through
//! `__vdso_rt_sigreturn` (aarch64: `__kernel_rt_sigreturn`) at its generated offset, never a
//! literal:
//!
//! ```
//! use linux_vdso::{Arch, Image};
//!
//! const PAGE: usize = 4096;
//! let image = Image::get(Arch::Riscv64);
//! // The bytes are page-aligned, so they can be mapped where they are.
//! assert_eq!(image.bytes().as_ptr() as usize % PAGE, 0);
//!
//! // Where everything goes, for a region the kernel placed at `base` (any page, e.g. random).
//! let base = 0x7fff_0000_0000usize;
//! let image_at = base + image.data_pages() * PAGE; // AT_SYSINFO_EHDR
//! let vdso_data_at = base + image.vdso_data_offset(); // fill struct vdso_data[2] here
//! let region_end = image_at + image.pages() * PAGE;
//! assert_eq!((image_at - base, region_end - image_at), (2 * PAGE, PAGE));
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

pub use spec::{Arch, Export, HashStyles};
pub use vdso_abi as abi;

/// A value aligned to a page, so a kernel can map the embedded image bytes in place.
#[repr(C, align(4096))]
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

/// One built image and its layout.
#[derive(Clone, Copy, Debug)]
pub struct Image {
    arch: Arch,
    bytes: &'static PageAligned<[u8]>,
    load_size: usize,
    symbols: &'static [Symbol],
    hz: u32,
    c_header: &'static str,
}

impl Image {
    /// The image of `arch`.
    pub const fn get(arch: Arch) -> Image {
        // build.rs writes one arm per row of the architecture table.
        generated::image(arch)
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
        self.arch
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
        self.load_size.div_ceil(abi::PAGE_SIZE)
    }

    /// Pages of data to map before the image.
    pub const fn data_pages(&self) -> usize {
        self.arch.data_pages()
    }

    /// Offset of `vdso_data[0]` inside page 0.
    pub const fn vdso_data_offset(&self) -> usize {
        self.arch.vdso_data_offset()
    }

    /// Page index of the time-namespace slot.
    pub const fn timens_page(&self) -> usize {
        self.arch.timens_page()
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
