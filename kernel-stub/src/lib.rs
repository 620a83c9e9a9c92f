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
//! - behind the `std` feature, the test harness's "kernel": [`mapping`] maps `[data pages | image]`
//!   in the current process, [`calibrate`](mod@calibrate) measures the counter's rate and [`ticker`] keeps the page
//!   fresh from a background thread, tracking the host's clocks.
//!
//! The crate never depends on the image: everything it knows comes from `vdso-abi`.

#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod access;
pub mod arch;
pub mod config;
pub mod counter;
pub mod layout;
pub mod protocol;
pub mod reader;
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
pub use layout::{Arch, ArchLayout, ImageError};
pub use reader::Reader;
pub use time::Timespec;
pub use timekeeping::{clocks_calc_mult_shift, cycles_to_ns, max_cycles, max_update_interval_ns};
pub use timens::TimensOffsets;
pub use update::{TimeSnapshot, Timekeeper};
pub use writer::SeqlockWriter;

#[cfg(feature = "std")]
pub use calibrate::{calibrate, Calibration};
#[cfg(feature = "std")]
pub use error::Error;
#[cfg(feature = "std")]
pub use mapping::{MapOptions, MappedVdso};
#[cfg(feature = "std")]
pub use ticker::{Ticker, TickerConfig, TickerStats};

/// The architecture data type of the build target (`vdso_abi::native::ArchData`).
#[cfg(any(target_arch = "x86_64", target_arch = "riscv64"))]
pub type NativeArchData = vdso_abi::native::ArchData;
