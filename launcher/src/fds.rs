//! File descriptors: the program inherits exactly the launcher's (0, 1, 2 and whatever its
//! caller passed), none of those the launcher opened for itself; the writer keeps none of the
//! program's.

use std::collections::BTreeSet;
use std::os::fd::AsRawFd;

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
