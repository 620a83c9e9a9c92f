//! Making the launcher's process look like a freshly `execve`d one just before the jump.
//!
//! `execve` resets what belongs to the old program; the launcher does the same by hand:
//! - signal handlers go back to `SIG_DFL` (ignored signals stay ignored, as across `execve`),
//!   except `SIGPIPE`, which Rust's runtime set to ignored on the launcher's start and which is
//!   restored to the default, as `std::process::Command` does for its children;
//! - the alternate signal stack (Rust's runtime installs one for stack-overflow reports) is
//!   disabled;
//! - glibc's `rseq` registration of the launcher's thread is undone, so the program's libc can
//!   register its own area (a second registration would fail with `EBUSY`);
//! - the writer's view of the data page is unmapped: the program can only read the page (and
//!   cannot make it writable: the kernel stub sealed its memfd before mapping the reader's view);
//! - the descriptors the launcher opened are closed ([`crate::fds::close_new`]);
//! - the thread's name (`comm`) becomes the program's file name, as `execve` sets it.
//!
//! The launcher's own code and heap stay mapped (they are never used again); the program's
//! mappings never overlap them.

use std::ffi::c_void;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use vdso_kernel_stub::MappedVdso;

/// Restores default signal dispositions (see the module docs).
pub fn reset_signals() {
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: a zeroed sigaction is a valid out-parameter; querying with a NULL new action
        // changes nothing.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
            continue;
        }
        let handler = old.sa_sigaction;
        if handler == libc::SIG_DFL || (handler == libc::SIG_IGN && sig != libc::SIGPIPE) {
            continue;
        }
        // SAFETY: installing SIG_DFL with an empty mask is always valid.
        unsafe {
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(sig, &new, std::ptr::null_mut());
        }
    }
    // SAFETY: a zeroed stack_t with SS_DISABLE turns the alternate stack off; its memory is
    // simply left mapped.
    unsafe {
        let mut ss: libc::stack_t = std::mem::zeroed();
        ss.ss_flags = libc::SS_DISABLE;
        libc::sigaltstack(&ss, std::ptr::null_mut());
    }
}

use crate::arch::{thread_pointer, RSEQ_SIG};

const RSEQ_FLAG_UNREGISTER: u32 = 1;

/// Undoes glibc's registration of this thread's `rseq` area, if there is one.
pub fn unregister_rseq() {
    // glibc 2.35+ exports the area's offset from the thread pointer and its registered size; a
    // libc without them (or a static launcher, where `dlsym` finds nothing) registered nothing we
    // can name, and a failed registration (qemu-user has no rseq) leaves `__rseq_size` at 0.
    // SAFETY: dlsym with RTLD_DEFAULT and NUL-terminated names only looks symbols up.
    let (off, size) = unsafe {
        (
            libc::dlsym(libc::RTLD_DEFAULT, c"__rseq_offset".as_ptr()),
            libc::dlsym(libc::RTLD_DEFAULT, c"__rseq_size".as_ptr()),
        )
    };
    if off.is_null() || size.is_null() {
        return;
    }
    // SAFETY: glibc defines these as `ptrdiff_t __rseq_offset` and `unsigned int __rseq_size`.
    let (off, size) = unsafe { (*(off as *const isize), *(size as *const u32)) };
    if size == 0 {
        return;
    }
    let area = (thread_pointer() as isize + off) as *mut c_void;
    // glibc 2.35-2.39 register 32 bytes whatever `__rseq_size` says; later ones register
    // `__rseq_size` rounded up to 32.
    for len in [size.max(32), 32, size] {
        // SAFETY: unregistering only tells the kernel to stop writing to the area.
        let r = unsafe { libc::syscall(libc::SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) };
        if r == 0 {
            return;
        }
    }
}

/// Unmaps the writer's view of the data page and closes its memfd, leaving the reader's view
/// mapped: the program keeps reading it for the rest of its life.
pub fn keep_reader_view_only(mapped: MappedVdso) {
    // The writer and reader handles are all gone by now (the writer runs in its own process),
    // so the hand-over cannot fail; if it ever did, the mapping would simply stay as it is.
    let _ = mapped.into_reader_only();
}

/// Sets the thread name to the program's file name (15 bytes at most), as `execve` does.
pub fn set_comm(program: &Path) {
    let name = program.file_name().map(|n| n.as_bytes()).unwrap_or(b"");
    let mut buf = [0u8; 16];
    let n = name.len().min(15);
    buf[..n].copy_from_slice(&name[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes from `buf`.
    unsafe { libc::prctl(libc::PR_SET_NAME, buf.as_ptr()) };
}
