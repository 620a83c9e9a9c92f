//! Reading an image file without ever blocking: what `vdso inspect` and `vdso verify` read.
//!
//! A path names whatever is there when it is opened, not when it was looked at: checking with
//! `stat` first and opening afterwards lets a FIFO slip in between, and opening a FIFO for
//! reading blocks until a writer comes. Some regular files block too (`/proc/kmsg` waits for the
//! next kernel message), and some never end (`/dev/zero`-like). So the file is opened once,
//! non-blocking (`O_NONBLOCK`, which also makes opening a FIFO return at once), without becoming
//! a controlling terminal (`O_NOCTTY`), and the *opened* descriptor is checked with `fstat`: a
//! regular file of at most [`MAX_IMAGE_FILE`] bytes. The read itself takes at most one byte more
//! than that bound, and a read that would block is an error, not a wait.

use std::fmt;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::string::{String, ToString};
use std::vec::Vec;

use rustix::fs::{fstat, open, FileType, Mode, OFlags};

/// The most a file may hold to be read as an image: a vDSO is a few pages.
pub const MAX_IMAGE_FILE: u64 = 1 << 20;

/// Why a file could not be read as an image (shown after the file's name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// `open` failed.
    Open(String),
    /// The opened file is not a regular file (a FIFO, a device, a directory, a socket).
    NotRegular(&'static str),
    /// The file holds more than [`MAX_IMAGE_FILE`] bytes.
    TooLarge,
    /// Reading would have blocked (a regular file that waits for data, such as `/proc/kmsg`).
    WouldBlock,
    /// `fstat` or `read` failed.
    Read(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Open(e) => write!(f, "cannot open: {e}"),
            ReadError::NotRegular(kind) => write!(f, "cannot read: not a regular file (a {kind})"),
            ReadError::TooLarge => {
                write!(f, "more than {MAX_IMAGE_FILE} bytes, too large for a vDSO image")
            }
            ReadError::WouldBlock => {
                f.write_str("cannot read: reading would block (not an ordinary file's contents)")
            }
            ReadError::Read(e) => write!(f, "cannot read: {e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Opens `path` once (read-only, non-blocking, no controlling terminal, close-on-exec) and
/// reads it with [`read_opened`].
pub fn read_image_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd =
        open(path, flags, Mode::empty()).map_err(|e| ReadError::Open(std::io::Error::from(e).to_string()))?;
    read_opened(fd)
}

/// Reads an opened file as an image: `fstat` must say it is a regular file of at most
/// [`MAX_IMAGE_FILE`] bytes, and no more than that bound plus one byte is read (a file that
/// grows, or lies about its size, is still refused). The descriptor should be non-blocking: a
/// read that would block is [`ReadError::WouldBlock`].
pub fn read_opened(fd: OwnedFd) -> Result<Vec<u8>, ReadError> {
    let st = fstat(&fd).map_err(|e| ReadError::Read(std::io::Error::from(e).to_string()))?;
    let kind = match FileType::from_raw_mode(st.st_mode) {
        FileType::RegularFile => None,
        FileType::Fifo => Some("FIFO"),
        FileType::CharacterDevice => Some("character device"),
        FileType::BlockDevice => Some("block device"),
        FileType::Directory => Some("directory"),
        FileType::Socket => Some("socket"),
        _ => Some("special file"),
    };
    if let Some(kind) = kind {
        return Err(ReadError::NotRegular(kind));
    }
    if u64::try_from(st.st_size).unwrap_or(u64::MAX) > MAX_IMAGE_FILE {
        return Err(ReadError::TooLarge);
    }
    let mut bytes = Vec::new();
    match File::from(fd).take(MAX_IMAGE_FILE + 1).read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::WouldBlock => return Err(ReadError::WouldBlock),
        Err(e) => return Err(ReadError::Read(e.to_string())),
    }
    if bytes.len() as u64 > MAX_IMAGE_FILE {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}
