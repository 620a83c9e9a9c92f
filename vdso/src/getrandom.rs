//! `getrandom` without a syscall (Linux 6.11+'s `lib/vdso/getrandom.c` contract): a per-thread
//! "fast key erasure" ChaCha20 generator keyed by the kernel and re-keyed whenever the kernel's
//! RNG reseeds (its `generation` on the data page changes).
//!
//! The answers, case by case, in Linux's order (docs/abi.md section 3 lists them):
//! 1. query (`buf` NULL, `len` 0, `flags` 0, `opaque_len` `~0`): the parameters for allocating
//!    states, return 0 (before anything else, even when the kernel's RNG is not ready);
//! 2. a state that straddles a page (it may be dropped page by page): `-EFAULT`;
//! 3. unknown flags, a wrong `opaque_len`, the RNG not ready, a state already in use (a signal
//!    handler interrupting its own thread), a failed key refresh, or a second reseed during one
//!    call: the syscall with the caller's arguments, its answer unchanged;
//! 4. `len` 0: 0; otherwise up to `MAX_RW_COUNT` bytes from the state's batch and fresh blocks.
//!
//! On a generation change the state's generation is written first, then the key is refreshed
//! with the `getrandom` syscall into the state (so a fork between the two still makes parent and
//! child differ), then bytes are produced. Bytes taken from the batch are zeroed there; every
//! refill overwrites the key with new output (forward secrecy). The block function
//! ([`crate::chacha`]) never puts key material on the stack.

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{compiler_fence, Ordering::SeqCst};

use vdso_abi::rng::{
    max_rw_count, VgetrandomOpaqueParams, VgetrandomState, BATCH_SIZE, CHACHA_BLOCK_SIZE, EFAULT, GRND_KNOWN,
    KEY_OFFSET, MMAP_FLAGS, MMAP_PROT, STATE_SIZE,
};

use crate::variant::PAGE_SIZE;
use crate::{arch, chacha, data};

/// `MAX_RW_COUNT` for the image's page size.
const MAX_RW_COUNT: usize = max_rw_count(PAGE_SIZE);

/// `ssize_t getrandom(void *buf, size_t len, unsigned flags, void *opaque_state, size_t
/// opaque_len)`.
///
/// # Safety
/// As Linux's: `buf` writable for `len` bytes; `opaque_state` a state allocated as the query
/// says and used by one thread at a time (or, in query mode, writable for the parameters).
#[inline(always)]
pub unsafe fn getrandom(buf: *mut u8, len: usize, flags: u32, opaque: *mut u8, opaque_len: usize) -> isize {
    if opaque_len == usize::MAX && buf.is_null() && len == 0 && flags == 0 {
        // SAFETY: in query mode `opaque` points at a `struct vgetrandom_opaque_params`.
        unsafe { query(opaque.cast()) };
        return 0;
    }
    if (opaque as usize & (PAGE_SIZE - 1)) + STATE_SIZE > PAGE_SIZE {
        return -EFAULT;
    }
    if flags & !GRND_KNOWN != 0 || opaque_len != STATE_SIZE {
        // SAFETY: the caller's arguments, as the syscall takes them.
        return unsafe { arch::sys_getrandom(buf, len, flags) };
    }
    let rng = data::rng_data();
    // SAFETY: the real data page is mapped.
    if unsafe { data::load_u8(&raw const (*rng).is_ready) } == 0 {
        // SAFETY: as above.
        return unsafe { arch::sys_getrandom(buf, len, flags) };
    }
    if len == 0 {
        return 0;
    }
    let state = opaque.cast::<VgetrandomState>();
    // SAFETY: `state` is the caller's state, which does not straddle a page (checked above).
    unsafe {
        if read_volatile(&raw const (*state).in_use) != 0 {
            return arch::sys_getrandom(buf, len, flags);
        }
        write_volatile(&raw mut (*state).in_use, 1);
        compiler_fence(SeqCst);
        generate(state, buf, len, flags)
    }
}

/// Fills the query's answer.
///
/// # Safety
/// `params` writable.
#[inline(never)]
#[cold]
unsafe fn query(params: *mut VgetrandomOpaqueParams) {
    // SAFETY: caller contract; field by field so no `memset` is ever called.
    unsafe {
        write_volatile(&raw mut (*params).size_of_opaque_state, STATE_SIZE as u32);
        write_volatile(&raw mut (*params).mmap_prot, MMAP_PROT);
        write_volatile(&raw mut (*params).mmap_flags, MMAP_FLAGS);
        let mut i = 0;
        while i < 13 {
            write_volatile((&raw mut (*params).reserved).cast::<u32>().wrapping_add(i), 0);
            i += 1;
        }
    }
}

/// The state is ours (`in_use` set): produce `len` bytes, re-keying first if the kernel's
/// generation moved. Clears `in_use` on every way out.
///
/// # Safety
/// `state` valid and marked in use by this call; `buf` writable for `len` bytes.
#[inline(always)]
unsafe fn generate(state: *mut VgetrandomState, buf: *mut u8, len: usize, flags: u32) -> isize {
    let rng = data::rng_data();
    let ret = if len < MAX_RW_COUNT { len } else { MAX_RW_COUNT };
    let mut counter: u64 = 0;
    let mut have_retried = false;
    // SAFETY (whole body): `state` is valid and ours (caller contract), `buf` writable for `len`
    // (>= `ret`) bytes, the real data page is mapped.
    unsafe {
        let batch = (&raw mut (*state).batch_key).cast::<u8>();
        let key = batch.wrapping_add(KEY_OFFSET);
        let generation = &raw mut (*state).generation;
        let pos = &raw mut (*state).pos;
        'retry: loop {
            let current = data::load_u64(&raw const (*rng).generation);
            if read_volatile(generation) != current {
                // The generation first, then the key (a fork in between makes both sides
                // re-key), ordered after the load of the kernel's generation.
                write_volatile(generation, current);
                arch::read_barrier();
                if arch::sys_getrandom(key, vdso_abi::rng::CHACHA_KEY_SIZE, 0)
                    != vdso_abi::rng::CHACHA_KEY_SIZE as isize
                {
                    return refresh_failed(state, buf, len, flags);
                }
                *pos = BATCH_SIZE as u8;
            }
            let mut out = buf;
            let mut left = ret;
            loop {
                let p = *pos as usize;
                let avail = BATCH_SIZE.saturating_sub(p);
                let take = if avail < left { avail } else { left };
                if take != 0 {
                    copy_and_zero_src(out, batch.wrapping_add(p), take);
                    *pos = (p + take) as u8;
                    out = out.wrapping_add(take);
                    left -= take;
                }
                if left == 0 {
                    compiler_fence(SeqCst);
                    // The state's generation, not `current`: a zeroed (dropped) state or a
                    // reseed during the call both show here.
                    if read_volatile(generation) != data::load_u64(&raw const (*rng).generation) {
                        if have_retried {
                            release(state);
                            return arch::sys_getrandom(buf, len, flags);
                        }
                        have_retried = true;
                        continue 'retry;
                    }
                    release(state);
                    return ret as isize;
                }
                let nblocks = left / CHACHA_BLOCK_SIZE;
                if nblocks != 0 {
                    chacha::chacha20_blocks(out, key, &mut counter, nblocks);
                    out = out.wrapping_add(nblocks * CHACHA_BLOCK_SIZE);
                    left -= nblocks * CHACHA_BLOCK_SIZE;
                }
                // Refill the batch and overwrite the key with the same two blocks.
                chacha::chacha20_blocks(batch, key, &mut counter, 2);
                *pos = 0;
            }
        }
    }
}

/// The key refresh failed: the key is invalid, so forget its generation, release the state and
/// take the syscall for the caller's bytes.
///
/// # Safety
/// As for [`generate`].
#[inline(never)]
#[cold]
unsafe fn refresh_failed(state: *mut VgetrandomState, buf: *mut u8, len: usize, flags: u32) -> isize {
    // SAFETY: caller contract.
    unsafe {
        write_volatile(&raw mut (*state).generation, 0);
        release(state);
        arch::sys_getrandom(buf, len, flags)
    }
}

/// Clears `in_use` after every other access to the state.
///
/// # Safety
/// `state` valid.
#[inline(always)]
unsafe fn release(state: *mut VgetrandomState) {
    compiler_fence(SeqCst);
    // SAFETY: caller contract.
    unsafe { write_volatile(&raw mut (*state).in_use, 0) };
}

/// Copies `len` bytes from `src` to `dst` and zeroes them at `src` (Linux's
/// `memcpy_and_zero_src`), eight bytes at a time then bytewise, through registers only. An
/// empty `asm!` (a compiler barrier on memory) in each loop keeps the compiler from turning the
/// loops into `memcpy`/`memset` calls (the image has no libc) without costing an instruction.
///
/// # Safety
/// `src` valid for reads and writes and `dst` for writes of `len` bytes; they do not overlap.
#[inline(always)]
unsafe fn copy_and_zero_src(mut dst: *mut u8, mut src: *mut u8, mut len: usize) {
    // SAFETY: caller contract; unaligned accesses are explicit.
    unsafe {
        while len >= 8 {
            let v = src.cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(v);
            src.cast::<u64>().write_unaligned(0);
            no_idiom();
            dst = dst.wrapping_add(8);
            src = src.wrapping_add(8);
            len -= 8;
        }
        while len != 0 {
            *dst = *src;
            *src = 0;
            no_idiom();
            dst = dst.wrapping_add(1);
            src = src.wrapping_add(1);
            len -= 1;
        }
    }
}

/// A compiler barrier on memory that emits nothing.
#[inline(always)]
fn no_idiom() {
    // SAFETY: an empty asm statement has no effect; without `nomem` the compiler must assume it
    // reads and writes memory, which is all we want from it.
    unsafe { core::arch::asm!("", options(nostack, preserves_flags)) };
}
