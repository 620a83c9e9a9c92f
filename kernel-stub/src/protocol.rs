//! The seqlock protocol of docs/abi.md §4, written once against an abstract memory so that the
//! writer, the reader and the loom model check all run the same steps.
//!
//! Writer (exactly one at a time): `seq += 1` on both structs (relaxed stores), release fence,
//! write the fields, release fence, `seq += 1` on both. Reader: load `seq` (relaxed), spin while
//! it is odd, acquire fence, read, acquire fence, reload `seq` and retry if it changed.
//!
//! Why fences and relaxed accesses rather than acquire loads and release stores: this is what the
//! image does (a `fence r,r` on riscv64 and nothing but compiler ordering on x86_64), and fences
//! order *all* the field accesses around them, which is what a seqlock needs. With the data
//! accessed atomically (see [`crate::access`]) this is the data-race-free seqlock of Boehm's
//! "Can seqlocks get along with programming language memory models?" (2012): if a reader's data
//! load sees a store that follows the writer's first release fence, its acquire fence makes the
//! odd `seq` store visible to its reload, so it retries; if its first `seq` load sees the final
//! even store, the writer's second release fence makes every field store visible to it.
//!
//! `seq` is always incremented, never written as "1 then 0": a reader that sampled the value
//! before an update can never see the same value after it (until 2^32 updates wrap around, which
//! at 1000 Hz takes 50 days and would need the reader to sleep exactly that long mid-read).

/// The memory operations the protocol needs. [`crate::writer`] and [`crate::reader`] implement
/// them on a real data page; the loom model check implements them with loom's atomics.
pub trait SeqlockOps {
    /// Loads the `seq` of struct `idx` (relaxed).
    fn load_seq(&self, idx: usize) -> u32;
    /// Stores the `seq` of struct `idx` (relaxed). Only the writer calls this.
    fn store_seq(&self, idx: usize, seq: u32);
    /// A release fence.
    fn release_fence(&self);
    /// An acquire fence.
    fn acquire_fence(&self);
    /// Called while a reader waits for an odd `seq` to become even.
    fn spin_hint(&self) {
        core::hint::spin_loop();
    }
}

/// Opens a write section over structs `0..n`: their `seq` becomes odd.
///
/// An even `seq` is incremented. An odd one is left as it is: the only way a single writer can
/// find it odd is a section some earlier writer opened and never closed (a crash, or a page taken
/// over mid-update), and readers are already waiting on it; this section completes that one, so
/// the [`write_end`] that follows makes it even again. (Incrementing it would make it even
/// *during* the write and odd for good after it: every later reader would spin for ever.)
///
/// The caller must be the only writer and must call [`write_end`] with the same `n`.
pub fn write_begin<O: SeqlockOps + ?Sized>(ops: &O, n: usize) {
    for idx in 0..n {
        ops.store_seq(idx, ops.load_seq(idx) | 1);
    }
    ops.release_fence();
}

/// Closes a write section opened by [`write_begin`]: `seq` becomes even again.
///
/// The structs are closed in the reverse order they were opened, so the sections nest: a reader
/// that sees `seq[0]` even again also sees every later struct's `seq` even, and a snapshot of
/// both structs taken under `seq[0]` never holds an odd `seq[1]`.
pub fn write_end<O: SeqlockOps + ?Sized>(ops: &O, n: usize) {
    ops.release_fence();
    for idx in (0..n).rev() {
        ops.store_seq(idx, ops.load_seq(idx).wrapping_add(1));
    }
}

/// Runs `write` inside a write section over structs `0..n`.
pub fn write<O: SeqlockOps + ?Sized, R>(ops: &O, n: usize, write: impl FnOnce() -> R) -> R {
    write_begin(ops, n);
    let r = write();
    write_end(ops, n);
    r
}

/// Starts a read of struct `idx`: waits for an even `seq`, then orders the reads that follow
/// after it. Returns the `seq` to pass to [`read_retry`].
pub fn read_begin<O: SeqlockOps + ?Sized>(ops: &O, idx: usize) -> u32 {
    loop {
        let seq = ops.load_seq(idx);
        if seq & 1 == 0 {
            ops.acquire_fence();
            return seq;
        }
        ops.spin_hint();
    }
}

/// Ends a read started by [`read_begin`]: `true` if the writer intervened and the values read
/// must be thrown away.
pub fn read_retry<O: SeqlockOps + ?Sized>(ops: &O, idx: usize, start: u32) -> bool {
    ops.acquire_fence();
    ops.load_seq(idx) != start
}

/// Runs `read` until it ran without a writer intervening, and returns its consistent result.
/// Do conversions *after* this returns, not inside `read` (it may run several times).
pub fn read<O: SeqlockOps + ?Sized, T>(ops: &O, idx: usize, mut read: impl FnMut() -> T) -> T {
    loop {
        let start = read_begin(ops, idx);
        let value = read();
        if !read_retry(ops, idx, start) {
            return value;
        }
    }
}
