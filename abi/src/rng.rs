//! `getrandom` in the vDSO (Linux 6.11+): the kernel's RNG state on the data page, the
//! per-thread state a caller allocates, and the query answer.
//!
//! Linux's `include/vdso/datapage.h` (`struct vdso_rng_data`), `include/vdso/getrandom.h`
//! (`struct vgetrandom_state`) and `include/uapi/linux/random.h`
//! (`struct vgetrandom_opaque_params`) fix these layouts; each offset is asserted below. Where
//! `vdso_rng_data` sits is a fact of each architecture's row (`ArchInfo::rng_data_offset`).

use core::mem::{offset_of, size_of};

/// `struct vdso_rng_data`: written by the kernel, read by the image.
///
/// The kernel sets `is_ready` once its RNG is seeded and stores `generation` (never 0) with
/// release ordering, bumping it on every reseed: a state whose key was drawn at another
/// generation refreshes its key with the `getrandom` syscall before giving out bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VdsoRngData {
    /// Changes whenever the kernel's RNG reseeds (or forks of a VM); never 0 once ready.
    pub generation: u64,
    /// Non-zero once the kernel's RNG is ready (`crng_ready()`); before that every call takes
    /// the syscall.
    pub is_ready: u8,
}

/// Offset of [`VdsoRngData::generation`].
pub const GENERATION: usize = 0;
/// Offset of [`VdsoRngData::is_ready`].
pub const IS_READY: usize = 8;
/// `size_of::<VdsoRngData>()`.
pub const RNG_DATA_SIZE: usize = 16;

/// ChaCha20's key size.
pub const CHACHA_KEY_SIZE: usize = 32;
/// ChaCha20's block size.
pub const CHACHA_BLOCK_SIZE: usize = 64;
/// Bytes of buffered output in a state (one and a half blocks).
pub const BATCH_SIZE: usize = CHACHA_BLOCK_SIZE * 3 / 2;

/// `struct vgetrandom_state`: one per thread, in memory the caller mapped with the query's
/// protection and flags. `batch` (96 bytes) then `key` (32 bytes) are refilled together as two
/// ChaCha20 blocks (`batch_key`), which overwrites the key they were made with.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VgetrandomState {
    /// `batch[96]` followed by `key[32]`.
    pub batch_key: [u8; 2 * CHACHA_BLOCK_SIZE],
    /// The kernel's `generation` when `key` was drawn (0: no valid key).
    pub generation: u64,
    /// Offset in `batch` of the next unused byte (96: empty).
    pub pos: u8,
    /// Reentrancy guard (a signal handler reusing its thread's state takes the syscall).
    pub in_use: u8,
}

impl Default for VgetrandomState {
    fn default() -> Self {
        VgetrandomState { batch_key: [0; 2 * CHACHA_BLOCK_SIZE], generation: 0, pos: 0, in_use: 0 }
    }
}

/// Offset of the key inside [`VgetrandomState::batch_key`].
pub const KEY_OFFSET: usize = BATCH_SIZE;
/// `sizeof(struct vgetrandom_state)`: what the query reports and `opaque_len` must be.
pub const STATE_SIZE: usize = 144;

/// `struct vgetrandom_opaque_params`: the query's answer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VgetrandomOpaqueParams {
    /// Size of one state ([`STATE_SIZE`]).
    pub size_of_opaque_state: u32,
    /// `prot` for the `mmap` that allocates states.
    pub mmap_prot: u32,
    /// `flags` for that `mmap`.
    pub mmap_flags: u32,
    /// Zeroed.
    pub reserved: [u32; 13],
}

/// `PROT_READ | PROT_WRITE`.
pub const MMAP_PROT: u32 = 0x1 | 0x2;
/// `MAP_DROPPABLE` (Linux 6.11; 0x08) `| MAP_ANONYMOUS` (0x20).
pub const MMAP_FLAGS: u32 = 0x08 | 0x20;
/// `GRND_NONBLOCK`.
pub const GRND_NONBLOCK: u32 = 0x1;
/// `GRND_RANDOM`.
pub const GRND_RANDOM: u32 = 0x2;
/// `GRND_INSECURE`.
pub const GRND_INSECURE: u32 = 0x4;
/// Flags the image serves itself; any other bit takes the syscall.
pub const GRND_KNOWN: u32 = GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE;
/// `MAX_RW_COUNT` (`INT_MAX & PAGE_MASK`) for pages of `page_size` bytes: the most one call
/// returns.
pub const fn max_rw_count(page_size: usize) -> usize {
    (i32::MAX as usize) & !(page_size - 1)
}
/// `EFAULT`: a state that straddles a page.
pub const EFAULT: isize = 14;

const _: () = {
    assert!(size_of::<VdsoRngData>() == RNG_DATA_SIZE);
    assert!(offset_of!(VdsoRngData, generation) == GENERATION);
    assert!(offset_of!(VdsoRngData, is_ready) == IS_READY);
    assert!(size_of::<VgetrandomState>() == STATE_SIZE);
    assert!(offset_of!(VgetrandomState, generation) == 128);
    assert!(offset_of!(VgetrandomState, pos) == 136);
    assert!(offset_of!(VgetrandomState, in_use) == 137);
    assert!(size_of::<VgetrandomOpaqueParams>() == 64);
    assert!(KEY_OFFSET + CHACHA_KEY_SIZE == 2 * CHACHA_BLOCK_SIZE);
    assert!(max_rw_count(4096) == 0x7fff_f000);
    assert!(max_rw_count(16384) == 0x7fff_c000);
};
