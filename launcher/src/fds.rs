//! File descriptors: the program inherits exactly the launcher's (0, 1, 2 and whatever its
//! caller passed), none of those the launcher opened for itself; the writer keeps none of the
//! program's.
//!
//! A standard descriptor the caller closed stays closed in the program, as across `execve`.
//! Rust's runtime opens `/dev/null` on any of 0, 1, 2 it finds closed before `main` runs (so
//! that nothing the launcher opens can land there and be taken for standard output); a
//! constructor in `.init_array`, which runs before that, records which ones were closed
//! ([`std_closed_at_start`]), and [`close_std_closed_at_start`] closes them again just before
//! the program starts.

use std::collections::BTreeSet;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU8, Ordering};

/// Bit `i` set: descriptor `i` (0, 1 or 2) was closed when the process started.
static CLOSED_AT_START: AtomicU8 = AtomicU8::new(0);

/// Records which standard descriptors are closed; runs before Rust's runtime fills them.
extern "C" fn record_closed_std() {
    let mut bits = 0;
    for fd in 0..3 {
        // SAFETY: F_GETFD only queries the descriptor's flags.
        let closed = unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF);
        if closed {
            bits |= 1 << fd;
        }
    }
    CLOSED_AT_START.store(bits, Ordering::Relaxed);
}

/// Runs [`record_closed_std`] at start-up: the dynamic loader (or static start code) calls every
/// function in `.init_array` before `main`, and so before Rust's runtime touches descriptors.
#[used]
#[link_section = ".init_array"]
static RECORD_CLOSED_STD: extern "C" fn() = record_closed_std;

/// Which of descriptors 0, 1, 2 were closed when this process started.
pub fn std_closed_at_start() -> [bool; 3] {
    let bits = CLOSED_AT_START.load(Ordering::Relaxed);
    [0, 1, 2].map(|fd| bits & (1 << fd) != 0)
}

/// Closes each standard descriptor that was closed when the process started (Rust's runtime put
/// `/dev/null` there), so the program, or the process `exec`ed next, finds it closed as its
/// caller left it. Call only when nothing will be written to them any more.
pub fn close_std_closed_at_start() {
    for (fd, closed) in std_closed_at_start().into_iter().enumerate() {
        if closed {
            // SAFETY: the descriptor is the `/dev/null` Rust's runtime opened in place of a
            // closed one; nothing of the launcher's uses it from here on.
            unsafe { libc::close(fd as i32) };
        }
    }
}

/// The descriptors open in this process now.
pub fn open_fds() -> BTreeSet<i32> {
    let mut set = BTreeSet::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        // The directory's own descriptor is listed too; it is closed when `dir` is dropped, so
        // it is removed below.
        for entry in dir.flatten() {
            if let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
                set.insert(fd);
            }
        }
    }
    set.retain(|&fd| {
        // SAFETY: F_GETFD only queries the descriptor's flags.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        flags != -1
    });
    set
}

/// Closes every descriptor opened since `before` was taken.
pub fn close_new(before: &BTreeSet<i32>) {
    for fd in open_fds().difference(before) {
        // SAFETY: descriptors the launcher opened after `before` (its memfd, pipes, the pidfd);
        // whatever owned them is never used again (the process is about to become the program).
        unsafe { libc::close(*fd) };
    }
}

/// Closes every descriptor but standard input, output, error and `keep`.
pub fn close_all_but(keep: &[i32]) {
    for fd in open_fds() {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: in the writer process, which uses no descriptor but `keep`.
            unsafe { libc::close(fd) };
        }
    }
}

/// Points standard input, output and error at `/dev/null`.
pub fn detach_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors of the writer process, which never
            // uses the originals.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}
