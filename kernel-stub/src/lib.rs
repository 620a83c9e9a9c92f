//! The kernel's half of the vDSO contract (`shared/ABI.md`, revision 1).
//!
//! A kernel that maps `linux-vdso.so.1` must keep its data page fresh: publish base times under a
//! seqlock every tick, with a counter-to-nanoseconds conversion the image can apply, and build
//! time-namespace pages for tasks that live in one. This crate is that half, written so a kernel
//! can take it unchanged:
//!
//! - the `#![no_std]` core: [`layout`] (where the pages and structs are), [`arch`] (the
//!   per-architecture tail of `struct vdso_data`), [`config`] (what a clock configuration must
//!   satisfy before it reaches a page), [`protocol`] (the seqlock steps, shared by the
//!   writer, the reader and the model check), [`writer`] and [`reader`], [`timekeeping`] (the
//!   fixed-point math), [`update`] (a timekeeper that fills every field), [`timens`] (namespace
//!   pages), [`symbols`] (a libc-style versioned-symbol lookup in a mapped image) and [`counter`]
//!   (reading the architecture's counter);
//! - behind the `std` feature, the test harness's "kernel": `mapping` maps `[data pages | image]`
//!   in the current process, `calibrate` measures the counter's rate and `ticker` keeps the page
//!   fresh from a background thread, tracking the host's clocks (documented with the feature on,
//!   as docs.rs builds it).
//!
//! The crate never depends on the image: everything it knows comes from `vdso-abi`.
//!
//! # A kernel's tick, in brief
//!
//! Choose `mult`/`shift` for the counter once, keep a [`Timekeeper`], and publish it through
//! the one [`SeqlockWriter`] of the data page at every tick (here a page in memory stands in for
//! the page a kernel maps before the image; `linux-vdso` documents where it goes):
//!
//! ```
//! use core::ptr::NonNull;
//! use vdso_abi::{clock, riscv64, CS_BASES};
//! use vdso_kernel_stub::update::{ClockConfig, Times};
//! use vdso_kernel_stub::{clocks_calc_mult_shift, Reader, SeqlockWriter, Timekeeper, Timespec};
//!
//! #[repr(C, align(4096))]
//! struct Page([u8; 4096]);
//! let mut page = Box::new(Page([0; 4096]));
//! let data = page.0.as_mut_ptr();
//!
//! // A 10 MHz counter (riscv64's `time` on QEMU's virt board, say).
//! let (mult, shift) = clocks_calc_mult_shift(10_000_000, 1_000_000_000, 600);
//! let boot = Times { realtime: Timespec::new(1_700_000_000, 0), ..Times::default() };
//! // Refused, with a reason, if the configuration could not work (mult 0, shift over 32, ...).
//! let mut tk = Timekeeper::new(ClockConfig { mult, shift, mask: u64::MAX }, 0, &boot).expect("usable");
//! let pair = NonNull::new(vdso_kernel_stub::layout::vdso_data_ptr::<riscv64::ArchData>(data)).unwrap();
//! // SAFETY: `pair` is the page's `vdso_data[2]`, which outlives the writer; nothing else writes it.
//! let mut writer = unsafe { SeqlockWriter::new(pair) };
//! tk.publish(&mut writer);
//!
//! // Every tick: advance to the counter's value, publish.
//! tk.advance(10_000_000); // one second later
//! tk.publish(&mut writer);
//!
//! // What the image computes from the page, half a second after that tick.
//! // SAFETY: the page stays alive and only `writer` writes it, with the seqlock protocol.
//! let reader = unsafe { Reader::<riscv64::ArchData>::new(data) };
//! let now = reader.clock_gettime(clock::MONOTONIC, || 15_000_000).unwrap();
//! assert_eq!(now, Timespec::new(1, 500_000_000));
//! let wall = reader.clock_gettime(clock::REALTIME_COARSE, || unreachable!("COARSE reads no counter"));
//! assert_eq!(wall, Some(Timespec::new(1_700_000_001, 0)), "the time of the last tick");
//! drop(writer);
//! ```

#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod access;
pub mod arch;
pub mod check;
pub mod config;
pub mod counter;
pub mod layout;
pub mod modern;
pub mod offset_estimate;
pub mod protocol;
pub mod reader;
pub mod rng;
pub mod symbols;
pub mod time;
pub mod timekeeping;
pub mod timens;
pub mod update;
pub mod writer;

#[cfg(feature = "std")]
pub mod calibrate;
#[cfg(feature = "std")]
pub mod error;
#[cfg(feature = "std")]
pub mod mapping;
#[cfg(feature = "std")]
pub mod ticker;

pub use arch::VdsoArch;
pub use config::ConfigError;
pub use layout::{Arch, ArchLayout, ImageError, Profile, Variant};
pub use reader::Reader;
pub use rng::RngWriter;
pub use time::Timespec;
pub use timekeeping::{clocks_calc_mult_shift, cycles_to_ns, max_cycles, max_update_interval_ns};
pub use timens::TimensOffsets;
pub use update::{CoarseTimes, TimeSnapshot, Timekeeper};
pub use writer::SeqlockWriter;

#[cfg(feature = "std")]
pub use calibrate::{calibrate, Calibration};
#[cfg(feature = "std")]
pub use error::Error;
#[cfg(feature = "std")]
pub use mapping::{MapOptions, MappedVdso};
#[cfg(feature = "std")]
pub use ticker::{Ticker, TickerConfig, TickerStats};

/// The architecture data type of the build target (`vdso_abi::native::ArchData`), where the
/// target is one of the table's architectures.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "riscv64",
    target_arch = "aarch64",
    target_arch = "loongarch64"
))]
pub type NativeArchData = vdso_abi::native::ArchData;

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "riscv64",
    target_arch = "aarch64",
    target_arch = "loongarch64"
))]
impl ArchLayout {
    /// The layout of the architecture this crate is compiled for.
    pub const fn native() -> ArchLayout {
        <NativeArchData as VdsoArch>::LAYOUT
    }
}
