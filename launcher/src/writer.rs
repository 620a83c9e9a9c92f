//! The data page's writer: a process of its own, outside the program's sight.
//!
//! A kernel keeps the page fresh from its timer interrupt; the program never sees who writes.
//! Here the writer is a grandchild of the launcher, made with a double fork so that it is *not*
//! the program's child (a program that waits for "all its children" must not find it), in a
//! session of its own (the terminal's ^C for the program's process group does not stop the
//! clock), with `/dev/null` for standard input and output (a caller reading the program's output
//! to its end is not held open by it) and no other descriptor of the program's. It shares the
//! data page with the program through the memfd both map (`MAP_SHARED`), runs the kernel stub's
//! [`Ticker`] on it, and exits when the program does: it holds a pidfd of the program (the
//! launcher's own pid, which the program inherits) and sleeps in `poll` on it; where pidfds are
//! missing it checks the pid once a tick instead.
//!
//! The launcher waits until the writer reports the first update published (one byte over a
//! pipe), so the page is valid before the program's first instruction.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags};
use rustix::pipe::{pipe_with, PipeFlags};
use rustix::process::{getpid, pidfd_open, PidfdFlags};
use vdso_kernel_stub::{MappedVdso, Ticker, TickerConfig};

use crate::error::{sys, Error};
use crate::fds;

/// The byte a writer sends once its first update is on the page.
const READY: u8 = b'K';

/// Starts the writer of `mapped`'s data page and returns once the page holds a first update.
/// When the program has ended, the writer leaves the ticker's statistics at `stats` if given.
pub fn start(mapped: &MappedVdso, config: TickerConfig, stats: Option<&Path>) -> Result<(), Error> {
    let program = getpid();
    let pidfd = pidfd_open(program, PidfdFlags::empty()).ok();
    let (ready_r, ready_w) = pipe_with(PipeFlags::CLOEXEC).map_err(sys("cannot create a pipe"))?;

    // SAFETY: the launcher is single-threaded here (no thread has been started), so the child
    // may run arbitrary code; it never returns into the caller (it ends in `_exit`).
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(Error::setup(format!("cannot fork the writer: {}", std::io::Error::last_os_error())));
    }
    if child == 0 {
        drop(ready_r);
        middle(mapped, config, ready_w, pidfd, program.as_raw_nonzero().get(), stats);
    }
    drop(ready_w);
    let mut status = 0;
    // SAFETY: waits for the child just forked; `status` is a valid out-pointer.
    unsafe { libc::waitpid(child, &mut status, 0) };
    drain_blocked_sigchld();
    drop(pidfd);
    let mut reply = Vec::new();
    let _ = std::fs::File::from(ready_r).read_to_end(&mut reply);
    match reply.first() {
        Some(&READY) => Ok(()),
        Some(_) => Err(Error::setup(format!(
            "the data-page writer could not start: {}",
            String::from_utf8_lossy(&reply).trim()
        ))),
        None => Err(Error::setup("the data-page writer exited before publishing the page")),
    }
}

/// If the caller left `SIGCHLD` blocked, the first child's exit left one pending, which the
/// program would receive for a child it never had: take it back.
fn drain_blocked_sigchld() {
    // SAFETY: sigset_t values are plain data initialised by sigemptyset/sigprocmask before use;
    // sigtimedwait with a zero timeout only dequeues a pending SIGCHLD, if any.
    unsafe {
        let mut current: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut current);
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut current);
        if libc::sigismember(&current, libc::SIGCHLD) == 1 {
            let mut only: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut only);
            libc::sigaddset(&mut only, libc::SIGCHLD);
            let zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            libc::sigtimedwait(&only, std::ptr::null_mut(), &zero);
        }
    }
}

/// The first child: leaves the session and forks the writer, then exits so that the writer is
/// reparented away from the program.
fn middle(
    mapped: &MappedVdso,
    config: TickerConfig,
    ready: OwnedFd,
    pidfd: Option<OwnedFd>,
    program: i32,
    stats: Option<&Path>,
) -> ! {
    // SAFETY: setsid and fork have no memory-safety preconditions; this process is a
    // single-threaded copy of the launcher.
    let grandchild = unsafe {
        libc::setsid();
        libc::fork()
    };
    if grandchild == 0 {
        writer(mapped, config, ready, pidfd, program, stats);
    }
    if grandchild < 0 {
        let _ = std::fs::File::from(ready).write_all(b"cannot fork the writer");
    }
    // SAFETY: ends this intermediate process at once, without running the launcher's exit
    // handlers (they belong to the program's process).
    unsafe { libc::_exit(0) }
}

/// The writer itself.
fn writer(
    mapped: &MappedVdso,
    config: TickerConfig,
    ready: OwnedFd,
    pidfd: Option<OwnedFd>,
    program: i32,
    stats: Option<&Path>,
) -> ! {
    // The writer holds a read-write view of the page and runs as the program's user: a
    // dumpable writer would let the program open /proc/<writer>/mem (or ptrace it) and write
    // the live page through that view. Non-dumpable, only a process with CAP_SYS_PTRACE can,
    // as only the kernel can write a kernel's [vvar]. (The program can still signal it, as it
    // can signal any process of its user: stopping the writer freezes the COARSE clocks.)
    if let Err(e) = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable) {
        let _ = std::fs::File::from(ready)
            .write_all(format!("cannot make the writer non-dumpable: {e}").as_bytes());
        // SAFETY: ends the writer process without running exit handlers.
        unsafe { libc::_exit(1) }
    }
    let keep = [ready.as_raw_fd(), pidfd.as_ref().map_or(-1, |f| f.as_raw_fd())];
    fds::detach_stdio();
    fds::close_all_but(&keep);
    let mut ready = std::fs::File::from(ready);
    let ticker = match Ticker::start(mapped, config) {
        Ok(t) => t,
        Err(e) => {
            let _ = ready.write_all(e.to_string().as_bytes());
            // SAFETY: ends the writer process without running exit handlers.
            unsafe { libc::_exit(1) }
        }
    };
    let _ = ready.write_all(&[READY]);
    drop(ready);
    wait_for_exit(pidfd, program);
    let figures = ticker.stop();
    if let Some(path) = stats {
        // Nobody is left to tell of a failure: the file is simply missing then.
        let _ = write_stats(path, &figures.to_string());
    }
    // SAFETY: as above.
    unsafe { libc::_exit(0) }
}

/// Writes `text` to `path` whole or not at all (a temporary file renamed over it), so a reader
/// polling for the file never sees half of it.
fn write_stats(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Refuses a `--writer-stats` path the writer could not write at the end (a directory, a
/// missing or read-only directory): the writer has nobody left to tell by then, and a caller
/// waiting for the file would wait for ever. Proves it by creating and removing a file beside
/// it, as the writer will.
pub fn check_stats_path(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err("is a directory".to_string());
    }
    let mut probe = path.as_os_str().to_owned();
    probe.push(format!(".{}.probe", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| format!("cannot create a file beside it: {e}"))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Returns once process `program` has ended.
fn wait_for_exit(pidfd: Option<OwnedFd>, program: i32) {
    if let Some(fd) = pidfd {
        loop {
            let mut fds = [PollFd::new(&fd, PollFlags::IN)];
            match poll(&mut fds, None) {
                Ok(n) if n > 0 => return,
                Err(rustix::io::Errno::INTR) | Ok(_) => continue,
                Err(_) => break,
            }
        }
    }
    // SAFETY: `kill(pid, 0)` sends nothing; it only asks whether the process exists.
    while unsafe { libc::kill(program, 0) } == 0 {
        std::thread::sleep(Duration::from_millis(20));
    }
}
