//! Errors of the std half (mapping, symbol resolution, calibration, ticking).

use std::fmt;

use crate::symbols::SymbolError;

/// What went wrong, with enough context to act on.
#[derive(Debug)]
pub enum Error {
    /// The image to map is empty.
    EmptyImage,
    /// The image is not one this layout can map (not ELF, another architecture, or its layout
    /// note missing or describing another layout): see [`crate::ArchLayout::check_image`].
    Image(crate::ImageError),
    /// The image is larger than [`crate::mapping::MAX_IMAGE_SIZE`].
    ImageTooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The layout's page size is not the page size of this address space: every data page and
    /// the image would sit at the wrong offsets (map the image built for the host's page size).
    PageSize {
        /// The layout's (the image's) page size.
        layout: usize,
        /// The host's page size.
        host: usize,
    },
    /// A system call failed.
    Sys {
        /// What was being done.
        op: &'static str,
        /// The error.
        errno: rustix::io::Errno,
    },
    /// The data type asked for is not the mapping's architecture.
    ArchMismatch {
        /// The mapping's layout.
        mapping: crate::Arch,
        /// The type's layout.
        requested: crate::Arch,
    },
    /// The page already has a writer (the seqlock allows exactly one).
    WriterBusy,
    /// A writer or reader still shares the mapping, so it cannot be handed over.
    StillShared,
    /// The mapping has no time-namespace page (map with [`crate::MapOptions::timens`]).
    NoTimensPage,
    /// A symbol lookup failed.
    Symbol {
        /// The symbol asked for.
        name: String,
        /// The version asked for.
        version: String,
        /// Why it failed.
        cause: SymbolError,
    },
    /// The counter could not be calibrated (it did not advance, or the host clock misbehaved).
    Calibration(&'static str),
    /// A configuration value is out of range.
    Config(&'static str),
    /// A clock configuration the data page cannot carry (see [`crate::config`]).
    Clock(crate::ConfigError),
    /// The ticker thread could not be started.
    Spawn(std::io::Error),
    /// The layout has no per-CPU page (only loongarch64's has one).
    NoPcpuPage {
        /// The mapping's architecture.
        arch: crate::Arch,
    },
    /// A CPU number past the per-CPU page's slots.
    CpuOutOfRange {
        /// The CPU asked for.
        cpu: u32,
        /// The number of slots.
        slots: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyImage => write!(f, "the vDSO image is empty"),
            Error::Image(e) => write!(f, "the vDSO image does not fit the layout: {e}"),
            Error::ImageTooLarge { len, max } => {
                write!(f, "the vDSO image is {len} bytes, more than the {max} bytes allowed")
            }
            Error::PageSize { layout, host } => write!(
                f,
                "the image is laid out for {layout}-byte pages but this address space has {host}-byte \
                 pages: map the image built for {host}-byte pages"
            ),
            Error::Sys { op, errno } => write!(f, "{op} failed: {errno}"),
            Error::ArchMismatch { mapping, requested } => {
                write!(f, "the mapping has the {mapping:?} layout, not the {requested:?} one")
            }
            Error::WriterBusy => write!(f, "the data page already has a writer"),
            Error::StillShared => write!(f, "a writer or reader of this mapping is still alive"),
            Error::NoTimensPage => write!(f, "the mapping has no time-namespace page"),
            Error::Symbol { name, version, cause } => {
                write!(f, "cannot resolve {name}@{version}: {cause}")
            }
            Error::Calibration(why) => write!(f, "counter calibration failed: {why}"),
            Error::Config(why) => write!(f, "invalid configuration: {why}"),
            Error::Clock(e) => write!(f, "invalid clock configuration: {e}"),
            Error::Spawn(e) => write!(f, "cannot start the ticker thread: {e}"),
            Error::NoPcpuPage { arch } => write!(f, "the {arch:?} layout has no per-CPU page"),
            Error::CpuOutOfRange { cpu, slots } => {
                write!(f, "CPU {cpu} is past the {slots} slots of the per-CPU page")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Sys { errno, .. } => Some(errno),
            Error::Spawn(e) => Some(e),
            Error::Image(e) => Some(e),
            Error::Clock(e) => Some(e),
            _ => None,
        }
    }
}

/// Shorthand for a failed system call.
pub(crate) fn sys(op: &'static str) -> impl FnOnce(rustix::io::Errno) -> Error {
    move |errno| Error::Sys { op, errno }
}

impl From<crate::ConfigError> for Error {
    fn from(e: crate::ConfigError) -> Error {
        Error::Clock(e)
    }
}
