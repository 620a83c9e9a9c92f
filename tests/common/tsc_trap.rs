//! x86_64 only: make `rdtsc`/`rdtscp` trap in the calling thread (`PR_SET_TSC`,
//! `PR_TSC_SIGSEGV`) and answer them from a SIGSEGV handler with a chosen value. The image's
//! counter can then be set to anything, bit-exact results checked, and counter reads counted —
//! which proves when the image read no counter at all.
#![cfg(target_arch = "x86_64")]
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

static VALUE: AtomicU64 = AtomicU64::new(0);
static TRAPS: AtomicU64 = AtomicU64::new(0);
static SERIAL: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();

extern "C" fn on_sigsegv(_sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let uc = ctx.cast::<libc::ucontext_t>();
    // SAFETY: the kernel passes a valid ucontext to an SA_SIGINFO handler; RIP points at the
    // faulting instruction, which is mapped and readable (it was just fetched).
    unsafe {
        let gregs = &mut (*uc).uc_mcontext.gregs;
        let rip = gregs[libc::REG_RIP as usize] as *const u8;
        let v = VALUE.load(Ordering::Relaxed);
        let len = match (*rip, *rip.add(1), *rip.add(2)) {
            (0x0f, 0x31, _) => 2,    // rdtsc
            (0x0f, 0x01, 0xf9) => 3, // rdtscp
            _ => {
                // A real fault: restore the default action and let it happen again.
                libc::signal(libc::SIGSEGV, libc::SIG_DFL);
                return;
            }
        };
        if len == 3 {
            gregs[libc::REG_RCX as usize] = 0;
        }
        gregs[libc::REG_RAX as usize] = (v & 0xffff_ffff) as i64;
        gregs[libc::REG_RDX as usize] = (v >> 32) as i64;
        gregs[libc::REG_RIP as usize] += len;
    }
    TRAPS.fetch_add(1, Ordering::Relaxed);
}

/// While alive, this thread's TSC reads trap and return the value set with [`TscTrap::set`].
pub struct TscTrap {
    _serial: MutexGuard<'static, ()>,
}

impl TscTrap {
    pub fn new() -> TscTrap {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        INSTALL.call_once(|| {
            // SAFETY: installing an SA_SIGINFO handler with a zeroed, then filled, sigaction.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_sigsegv as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
                libc::sigemptyset(&mut sa.sa_mask);
                assert_eq!(libc::sigaction(libc::SIGSEGV, &sa, std::ptr::null_mut()), 0);
            }
        });
        TRAPS.store(0, Ordering::Relaxed);
        // SAFETY: prctl with integer arguments.
        let r = unsafe { libc::prctl(libc::PR_SET_TSC, libc::PR_TSC_SIGSEGV, 0, 0, 0) };
        assert_eq!(r, 0, "PR_SET_TSC: {}", std::io::Error::last_os_error());
        TscTrap { _serial: serial }
    }

    /// The value the next counter reads return.
    pub fn set(&self, v: u64) {
        VALUE.store(v, Ordering::Relaxed);
    }

    /// Counter reads trapped since the last call.
    pub fn take_reads(&self) -> u64 {
        TRAPS.swap(0, Ordering::Relaxed)
    }
}

impl Drop for TscTrap {
    fn drop(&mut self) {
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_TSC, libc::PR_TSC_ENABLE, 0, 0, 0) };
    }
}
