//! The kernel's half of `getrandom` in the vDSO: the writer of `vdso_rng_data` (ABI revision 2).
//!
//! The image serves `getrandom` from a per-thread ChaCha20 key it draws with the syscall, and
//! draws a new one whenever `generation` on the page differs from the one its key was drawn at.
//! So a kernel must:
//! - set `is_ready` once its RNG is seeded (until then every call takes the syscall, which may
//!   block or fail as the flags ask; Linux sets it when `crng_ready()` first holds);
//! - store a `generation` that is **never 0** (0 is how a state says "no valid key") with
//!   **release** ordering, before or together with `is_ready`, and
//! - **bump it on every reseed** of its RNG, on a VM fork or snapshot restore (two VMs must not
//!   keep producing the same stream), and whenever it wants every process to drop its key.
//!
//! A kernel that never bumps it leaves every thread on the key it drew first: the output stays
//! a ChaCha20 stream under fast key erasure (each refill overwrites the key), but it no longer
//! follows the kernel's reseeds, and after a VM clone both copies produce the same bytes.
//!
//! Linux bumps the generation in `crng_reseed()` (`smp_store_release`, skipping 0 on
//! wrap-around), at most every `CRNG_RESEED_INTERVAL` (60 s) once the RNG is fully seeded, and on
//! a VM generation change.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use vdso_abi::rng::VdsoRngData;

/// The single writer of one data page's `vdso_rng_data`.
#[derive(Debug)]
pub struct RngWriter {
    data: NonNull<VdsoRngData>,
    generation: u64,
}

// SAFETY: the writer only holds a pointer to shared memory it writes atomically.
unsafe impl Send for RngWriter {}

impl RngWriter {
    /// A writer of the `vdso_rng_data` at `data`, continuing from the generation already there.
    ///
    /// # Safety
    /// `data` must stay valid, 8-aligned and mapped for as long as the writer lives, and no one
    /// else may write it meanwhile (readers read it atomically).
    pub unsafe fn new(data: NonNull<VdsoRngData>) -> RngWriter {
        // SAFETY: caller contract.
        let generation = unsafe { gen_atomic(data) }.load(Ordering::Relaxed);
        RngWriter { data, generation }
    }

    /// The generation last published (0 before [`publish_ready`](Self::publish_ready)).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether `is_ready` is set on the page.
    pub fn is_ready(&self) -> bool {
        // SAFETY: `new`'s contract.
        unsafe { AtomicU8::from_ptr(&raw mut (*self.data.as_ptr()).is_ready) }.load(Ordering::Relaxed) != 0
    }

    /// The RNG is seeded: publish a (non-zero) generation, then set `is_ready`. Calling it again
    /// changes nothing (`is_ready` is set once, as Linux sets it).
    pub fn publish_ready(&mut self) {
        if self.is_ready() {
            return;
        }
        if self.generation == 0 {
            self.reseed();
        }
        // SAFETY: `new`'s contract. Release: a reader that sees `is_ready` sees the generation.
        unsafe { AtomicU8::from_ptr(&raw mut (*self.data.as_ptr()).is_ready) }.store(1, Ordering::Release);
    }

    /// [`publish_ready`](Self::publish_ready), then the generation on the page.
    pub fn publish_ready_generation(&mut self) -> u64 {
        self.publish_ready();
        self.generation
    }

    /// The RNG reseeded (or the machine was cloned or restored): publish the next generation,
    /// never 0, with release ordering. Returns it.
    pub fn reseed(&mut self) -> u64 {
        self.generation = next_generation(self.generation);
        // SAFETY: `new`'s contract.
        unsafe { gen_atomic(self.data) }.store(self.generation, Ordering::Release);
        self.generation
    }
}

/// The generation after `g`: `g + 1`, skipping 0 when it wraps (0 means "no key" to a state).
pub const fn next_generation(g: u64) -> u64 {
    match g.wrapping_add(1) {
        0 => 1,
        n => n,
    }
}

/// # Safety
/// `data` valid and 8-aligned.
unsafe fn gen_atomic<'a>(data: NonNull<VdsoRngData>) -> &'a AtomicU64 {
    // SAFETY: caller contract; the field is only ever accessed atomically.
    unsafe { AtomicU64::from_ptr(&raw mut (*data.as_ptr()).generation) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_never_zero_and_ready_is_set_once_after_it() {
        let mut data = Box::new(VdsoRngData::default());
        // SAFETY: a live, aligned box nothing else writes.
        let mut w = unsafe { RngWriter::new(NonNull::from(&mut *data)) };
        assert!(!w.is_ready());
        w.publish_ready();
        assert!(w.is_ready());
        assert_eq!(w.generation(), 1);
        w.publish_ready();
        assert_eq!(w.generation(), 1, "publishing ready twice does not reseed");
        assert_eq!(w.reseed(), 2);
        assert_eq!(next_generation(u64::MAX), 1, "0 is skipped on wrap-around");
        w.generation = u64::MAX;
        assert_eq!(w.reseed(), 1);
        assert_eq!((data.generation, data.is_ready), (1, 1));
    }

    #[test]
    fn a_writer_continues_from_the_generation_on_the_page() {
        let mut data = Box::new(VdsoRngData { generation: 41, is_ready: 1 });
        // SAFETY: as above.
        let mut w = unsafe { RngWriter::new(NonNull::from(&mut *data)) };
        assert_eq!(w.reseed(), 42);
    }
}
