//! A tiny x86_64 SMP kernel that maps `linux-vdso.so.1` into a user address space, keeps its
//! data pages fresh, and runs a program on every CPU in turn that proves every clock and
//! `getcpu` are served from the page (`docs/example-kernel.md`).
//!
//! Boot: QEMU's `-kernel` loads this ELF by its program headers and, because of its Xen PVH
//! note, enters [`pvh_start`](boot) in 32-bit protected mode without paging. The boot code builds
//! the 4-level page tables, turns on long mode and calls [`kernel::boot`] on the bootstrap CPU,
//! which calibrates the TSC against the PIT, starts the other CPUs (INIT-SIPI-SIPI into a
//! 16-bit trampoline that goes straight to long mode), maps the program and the vDSO and enters
//! user mode. From then on the kernel runs on syscalls and interrupts ([`kernel`]).

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

mod boot;
mod console;
mod cpu;
mod kernel;
#[path = "../../common/loader.rs"]
mod loader;
mod mm;
#[path = "../../common/process.rs"]
mod process;

#[path = "../../shared/proto.rs"]
#[allow(dead_code)]
mod proto;

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// The user program's ELF machine (`EM_X86_64`).
pub const ELF_MACHINE: u16 = 62;
/// x86_64 `AT_HWCAP`. Linux passes CPUID.1:EDX; the program asks CPUID itself, so this kernel
/// passes 0.
pub const HWCAP: usize = 0;

/// A spinlock around kernel state shared by the CPUs. The kernel takes it with interrupts off
/// (every syscall and interrupt handler runs with IF clear) and never across a return to user
/// mode, so it cannot deadlock against itself.
pub struct Lock<T> {
    held: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through `lock`, which serialises the CPUs.
unsafe impl<T: Send> Sync for Lock<T> {}

/// Access to a locked value; unlocks when dropped.
pub struct Guard<'a, T>(&'a Lock<T>);

impl<T> Lock<T> {
    /// A lock holding `v`.
    pub const fn new(v: T) -> Self {
        Lock { held: AtomicBool::new(false), value: UnsafeCell::new(v) }
    }

    /// Spins until the lock is ours.
    pub fn lock(&self) -> Guard<'_, T> {
        while self.held.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
        Guard(self)
    }
}

impl<T> core::ops::Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.0.value.get() }
    }
}

impl<T> core::ops::DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, so this is the only reference.
        unsafe { &mut *self.0.value.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        self.0.held.store(false, Ordering::Release);
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    console::force_unlock();
    println!("kernel panic (CPU {}): {info}", cpu::current_or_zero());
    println!("VDSO-KERNEL-REPORT: fail reason=kernel-panic");
    cpu::power_off(false)
}
