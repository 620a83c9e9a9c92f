//! What the single-CPU kernels (riscv64, aarch64, loongarch64) set up the same way at boot: the
//! kernel stack their `_start` switches to (and every trap from user mode starts on), and
//! [`Global`], how they keep their state. x86_64, with several CPUs, has its own (`Lock`, a
//! stack per CPU).
//!
//! Shared by those kernels (included with `#[path]`); each `_start` names [`BOOT_STACK`] and
//! [`STACK_SIZE`] as its assembly operands.

use core::cell::UnsafeCell;

/// Kernel stack (boot, then every trap from user mode).
pub const STACK_SIZE: usize = 64 * 1024;

/// The kernel stack's memory.
#[repr(C, align(16))]
pub struct Stack([u8; STACK_SIZE]);

/// The one kernel stack.
#[unsafe(no_mangle)]
pub static mut BOOT_STACK: Stack = Stack([0; STACK_SIZE]);

/// The top of the kernel stack (where every trap from user mode starts).
pub fn stack_top() -> u64 {
    (&raw const BOOT_STACK) as u64 + STACK_SIZE as u64
}

/// A kernel global. The kernel runs on one CPU with interrupts off and never re-enters itself
/// (every trap it handles comes from user mode), so at most one `&mut` to a global is in use.
/// The cell is visible to the kernel for taking an address without a reference.
pub struct Global<T>(pub(crate) UnsafeCell<T>);

// SAFETY: see the type's documentation: one CPU, no re-entry.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    /// A global holding `v`.
    pub const fn new(v: T) -> Self {
        Global(UnsafeCell::new(v))
    }

    /// The value.
    ///
    /// # Safety
    ///
    /// No other reference to the value may be live: callers take it once per trap (or once at
    /// boot) and do not keep it across a return to user mode.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut T {
        // SAFETY: the caller guarantees exclusivity.
        unsafe { &mut *self.0.get() }
    }
}
