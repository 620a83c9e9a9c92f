//! The kernel side of the seqlock: the single writer of a data page's `vdso_data[0..2]`.
//!
//! The writer keeps a private copy (its *shadow*) of both structs. Callers edit the shadow with
//! ordinary Rust (`&mut [VdsoData<A>; 2]`), and the writer publishes it inside one write section
//! with field-by-field relaxed atomic stores ([`crate::access`]) between the protocol's fences
//! ([`crate::protocol`]). Editing a copy rather than the shared page keeps the `&mut` honest (no
//! reader can observe memory a `&mut` points at) and lets a section be built up in several calls.
//!
//! **Exactly one writer may run at a time** for a given page. The type enforces it within one
//! owner (`&mut self` everywhere, and the constructor is `unsafe`), but a kernel must also make
//! sure no interrupt handler or other CPU writes the same page meanwhile: take the timekeeping
//! lock and disable interrupts around an update, as Linux does with `vdso_write_begin`.

use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{fence, Ordering};

use vdso_abi::{VdsoData, CS_BASES};

use crate::access;
use crate::arch::VdsoArch;
use crate::protocol::{self, SeqlockOps};

/// The seqlock operations on a real `vdso_data[0..2]` pair.
pub(crate) struct PageOps<A: VdsoArch> {
    pub(crate) pair: *mut [VdsoData<A>; CS_BASES],
}

impl<A: VdsoArch> PageOps<A> {
    fn slot(&self, idx: usize) -> *mut VdsoData<A> {
        debug_assert!(idx < CS_BASES);
        self.pair.cast::<VdsoData<A>>().wrapping_add(idx)
    }
}

impl<A: VdsoArch> SeqlockOps for PageOps<A> {
    fn load_seq(&self, idx: usize) -> u32 {
        // SAFETY: whoever built this `PageOps` guaranteed `pair` valid and aligned for as long
        // as it is used (see `SeqlockWriter::new` and `Reader::new`).
        unsafe { access::load_seq(self.slot(idx)) }
    }

    fn store_seq(&self, idx: usize, seq: u32) {
        // SAFETY: as above; only the (single) writer calls `store_seq`.
        unsafe { access::store_seq(self.slot(idx), seq) }
    }

    fn release_fence(&self) {
        fence(Ordering::Release);
    }

    fn acquire_fence(&self) {
        fence(Ordering::Acquire);
    }
}

/// The single writer of one data page's `vdso_data[0..2]`.
pub struct SeqlockWriter<A: VdsoArch> {
    ops: PageOps<A>,
    shadow: [VdsoData<A>; CS_BASES],
    _not_sync: PhantomData<*mut ()>,
}

// SAFETY: the writer owns the right to write the page (the contract of `new`); moving that right
// to another thread is fine, sharing it is not (hence no `Sync`).
unsafe impl<A: VdsoArch> Send for SeqlockWriter<A> {}

impl<A: VdsoArch> SeqlockWriter<A> {
    /// A writer for the pair at `pair`, whose shadow starts as a copy of what the page holds now
    /// (so a writer can take over a page another writer filled).
    ///
    /// A page left mid-write (an odd `seq`: its writer died or was stopped inside a section) is
    /// taken over safely: readers keep waiting until this writer's first section, which completes
    /// the interrupted one (its `begin` leaves the odd `seq` odd, its end makes it even), so
    /// `seq` has its normal parity from then on. The fields that interrupted writer left half
    /// written are in the shadow as they were found: the first section should rewrite every
    /// field it relies on (as [`crate::update::fill`] and a [`crate::Timekeeper`]'s publish do).
    ///
    /// # Safety
    ///
    /// - `pair` must be valid for reads and writes of two `VdsoData<A>`, 8-aligned, for as long
    ///   as the writer (or anything built from it) exists;
    /// - nothing else may write that memory meanwhile: this is the only writer, and readers only
    ///   read it with the protocol of docs/abi.md §4 (atomically, as the image and
    ///   [`crate::reader::Reader`] do).
    pub unsafe fn new(pair: NonNull<[VdsoData<A>; CS_BASES]>) -> Self {
        let pair = pair.as_ptr();
        let shadow = core::array::from_fn(|i| {
            // SAFETY: the caller guarantees `pair` is valid and aligned; `i < CS_BASES`.
            unsafe { access::load_fields(pair.cast::<VdsoData<A>>().add(i)) }
        });
        SeqlockWriter { ops: PageOps { pair }, shadow, _not_sync: PhantomData }
    }

    /// The page's structs as last published (or being built in an open section).
    pub fn shadow(&self) -> &[VdsoData<A>; CS_BASES] {
        &self.shadow
    }

    /// Where this writer writes.
    pub fn as_ptr(&self) -> *mut [VdsoData<A>; CS_BASES] {
        self.ops.pair
    }

    /// Opens a write section: `seq` of both structs becomes odd at once, and readers wait (or
    /// retry) until the returned guard is ended or dropped, which publishes the edits.
    pub fn begin(&mut self) -> WriteSection<'_, A> {
        protocol::write_begin(&self.ops, CS_BASES);
        WriteSection { writer: self }
    }

    /// Edits both structs with `f` and publishes the result in one write section.
    pub fn update<R>(&mut self, f: impl FnOnce(&mut [VdsoData<A>; CS_BASES]) -> R) -> R {
        let mut section = self.begin();
        let r = f(section.data());
        section.end();
        r
    }

    fn publish(&mut self) {
        for (i, vd) in self.shadow.iter().enumerate() {
            // SAFETY: `new`'s contract: the pair is valid, aligned and written by us alone.
            unsafe { access::store_fields(self.ops.slot(i), vd) };
        }
    }
}

/// An open write section (from [`SeqlockWriter::begin`]). Readers see an odd `seq` until it ends.
pub struct WriteSection<'w, A: VdsoArch> {
    writer: &'w mut SeqlockWriter<A>,
}

impl<A: VdsoArch> WriteSection<'_, A> {
    /// The writer's copy of both structs, to edit. `seq` is managed by the writer: whatever is
    /// written to it here is ignored.
    pub fn data(&mut self) -> &mut [VdsoData<A>; CS_BASES] {
        &mut self.writer.shadow
    }

    /// Publishes the edits and closes the section (dropping the guard does the same).
    pub fn end(self) {}
}

impl<A: VdsoArch> Drop for WriteSection<'_, A> {
    fn drop(&mut self) {
        // Stores between the two fences of the protocol: the first was issued by `begin`.
        self.writer.publish();
        protocol::write_end(&self.writer.ops, CS_BASES);
        for (i, vd) in self.writer.shadow.iter_mut().enumerate() {
            vd.seq = self.writer.ops.load_seq(i);
        }
    }
}
