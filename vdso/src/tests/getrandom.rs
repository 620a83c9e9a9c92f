//! `getrandom`: the architecture's ChaCha20 block function against RustCrypto's `chacha20`, the
//! whole generator against a model built on that reference, and every case of the contract
//! (docs/abi.md section 3) with the kernel's RNG state and the syscall injected.

use crate::variant::PAGE_SIZE;
use chacha20::ChaCha20Rng;
use proptest::prelude::*;
use rand_core::{Rng, SeedableRng};
use vdso_abi::rng::{
    VgetrandomOpaqueParams, VgetrandomState, BATCH_SIZE, CHACHA_BLOCK_SIZE, EFAULT, KEY_OFFSET, MMAP_FLAGS,
    MMAP_PROT, STATE_SIZE,
};

use super::page::TestPages;
use crate::arch;
use crate::chacha::chacha20_blocks;
use crate::getrandom::getrandom;

/// The reference keystream: `nblocks` blocks from block `counter` under `key`, nonce 0.
fn reference(key: &[u8; 32], counter: u64, nblocks: usize) -> Vec<u8> {
    let mut rng = ChaCha20Rng::from_seed(*key);
    rng.set_stream(0);
    rng.set_block_pos(counter);
    let mut out = vec![0; nblocks * CHACHA_BLOCK_SIZE];
    rng.fill_bytes(&mut out);
    out
}

/// The block function under test.
fn blocks(key: &[u8; 32], counter: u64, nblocks: usize) -> (Vec<u8>, u64) {
    let mut out = vec![0xa5; nblocks * CHACHA_BLOCK_SIZE];
    let mut c = counter;
    // SAFETY: `out` holds `nblocks` blocks, `key` 32 bytes, `c` is a live u64; nblocks > 0.
    unsafe { chacha20_blocks(out.as_mut_ptr(), key.as_ptr(), &mut c, nblocks) };
    (out, c)
}

#[test]
fn chacha_blocks_of_the_zero_key_are_the_published_ones() {
    // ChaCha20, all-zero key and nonce, block 0 (the first test vector of
    // draft-agl-tls-chacha20poly1305 and of many libraries): 76 b8 e0 ad a0 f1 3d 90 ...
    let (out, c) = blocks(&[0; 32], 0, 1);
    assert_eq!(out[..8], [0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90]);
    assert_eq!(out[56..], [0xc3, 0x87, 0xb6, 0x69, 0xb2, 0xee, 0x65, 0x86]);
    assert_eq!(c, 1);
}

#[test]
fn chacha_blocks_carry_the_counter_into_its_high_word() {
    let key: [u8; 32] = core::array::from_fn(|i| i as u8);
    let (out, c) = blocks(&key, 0xffff_fffe, 4);
    assert_eq!(out, reference(&key, 0xffff_fffe, 4));
    assert_eq!(c, 0x1_0000_0002);
}

#[test]
fn the_batch_refill_may_overwrite_the_key_it_is_made_with() {
    // As the generator calls it: two blocks into `batch_key`, whose last 32 bytes are the key.
    let key: [u8; 32] = core::array::from_fn(|i| 0x40 + i as u8);
    let mut bk = [0u8; 2 * CHACHA_BLOCK_SIZE];
    bk[KEY_OFFSET..].copy_from_slice(&key);
    let mut c = 7u64;
    // SAFETY: `bk` holds two blocks; the key is read before each block is stored (the block
    // functions' contract).
    unsafe { chacha20_blocks(bk.as_mut_ptr(), bk.as_ptr().add(KEY_OFFSET), &mut c, 2) };
    assert_eq!(bk.to_vec(), reference(&key, 7, 2));
    assert_eq!(c, 9);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if cfg!(target_arch = "x86_64") { 256 } else { 48 }, ..ProptestConfig::default() })]

    #[test]
    fn chacha_blocks_equal_the_reference(key: [u8; 32], counter in prop_oneof![
        0u64..8, 0xffff_fff0u64..0x1_0000_0010, any::<u64>().prop_map(|c| c >> 1)
    ], nblocks in 1usize..=64) {
        let (out, c) = blocks(&key, counter, nblocks);
        prop_assert_eq!(out, reference(&key, counter, nblocks));
        prop_assert_eq!(c, counter + nblocks as u64);
    }
}

// ---- the generator ----

/// A state in page-aligned memory, as `mmap` gives them (aligned for the largest page size a
/// row has: loongarch64's 16 KiB).
#[repr(C, align(65536))]
struct StatePage([u8; PAGE_SIZE]);

struct Env {
    pages: TestPages,
    states: Box<StatePage>,
}

impl Env {
    /// Data pages with the RNG ready at generation 1.
    fn ready() -> Env {
        let mut pages = TestPages::new();
        pages.rng().generation = 1;
        pages.rng().is_ready = 1;
        Env { pages, states: Box::new(StatePage([0; PAGE_SIZE])) }
    }

    fn state_ptr(&mut self, offset: usize) -> *mut u8 {
        self.states.0.as_mut_ptr().wrapping_add(offset)
    }

    fn state(&mut self) -> &mut VgetrandomState {
        // SAFETY: offset 0 of an aligned page, exclusively borrowed.
        unsafe { &mut *self.state_ptr(0).cast::<VgetrandomState>() }
    }

    fn call(&mut self, buf: &mut [u8], flags: u32) -> isize {
        self.call_with(buf, flags, 0, STATE_SIZE)
    }

    fn call_with(&mut self, buf: &mut [u8], flags: u32, offset: usize, opaque_len: usize) -> isize {
        let st = self.state_ptr(offset);
        // SAFETY: `buf` is writable for its length; the state is ours, used by this thread only.
        unsafe { getrandom(buf.as_mut_ptr(), buf.len(), flags, st, opaque_len) }
    }
}

/// The generator rebuilt on the reference ChaCha20, from Linux's description.
struct Model {
    batch_key: [u8; 2 * CHACHA_BLOCK_SIZE],
    pos: usize,
    generation: u64,
    fill: u8,
}

impl Model {
    fn new() -> Model {
        Model { batch_key: [0; 2 * CHACHA_BLOCK_SIZE], pos: 0, generation: 0, fill: 0 }
    }

    /// What a read of `len` bytes gives when the kernel's generation is `kernel_gen`; the
    /// number of key refreshes it makes.
    fn read(&mut self, len: usize, kernel_gen: u64) -> (Vec<u8>, usize) {
        let mut refreshes = 0;
        if self.generation != kernel_gen {
            self.generation = kernel_gen;
            // The mock syscall writes `fill, fill+1, ...`.
            for i in 0..32 {
                self.batch_key[KEY_OFFSET + i] = self.fill.wrapping_add(i as u8);
            }
            self.fill = self.fill.wrapping_add(1);
            self.pos = BATCH_SIZE;
            refreshes = 1;
        }
        let mut out = Vec::with_capacity(len);
        let mut counter = 0u64;
        loop {
            let take = (BATCH_SIZE - self.pos).min(len - out.len());
            out.extend_from_slice(&self.batch_key[self.pos..self.pos + take]);
            self.batch_key[self.pos..self.pos + take].fill(0);
            self.pos += take;
            if out.len() == len {
                return (out, refreshes);
            }
            let key: [u8; 32] = self.batch_key[KEY_OFFSET..].try_into().unwrap();
            let n = (len - out.len()) / CHACHA_BLOCK_SIZE;
            if n > 0 {
                out.extend(reference(&key, counter, n));
                counter += n as u64;
            }
            self.batch_key.copy_from_slice(&reference(&key, counter, 2));
            counter += 2;
            self.pos = 0;
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Read(usize),
    Reseed,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..=4096).prop_map(Op::Read),
        3 => (0usize..=200).prop_map(Op::Read),
        1 => Just(Op::Reseed),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if cfg!(target_arch = "x86_64") { 128 } else { 24 }, ..ProptestConfig::default() })]

    /// Keystream equal to the model for every length 0..=4096 across calls and block
    /// boundaries, positions carried across calls, and exactly one key refresh (a 32-byte
    /// syscall with no flags) per generation change, none otherwise.
    #[test]
    fn output_follows_the_reference_model(ops in prop::collection::vec(op(), 1..24)) {
        let mut env = Env::ready();
        let mut model = Model::new();
        for op in ops {
            match op {
                Op::Reseed => env.pages.rng().generation += 1,
                Op::Read(len) => {
                    let mut buf = vec![0u8; len];
                    let r = env.call(&mut buf, 0);
                    let gen = env.pages.rng().generation;
                    let (want, refreshes) = model.read(len, gen);
                    prop_assert_eq!(r, len as isize);
                    if len == 0 {
                        // Served before the state is touched: no refresh either.
                        prop_assert_eq!(arch::take_getrandom_calls(), vec![]);
                        // Undo the model's refresh, which Linux does not make for len 0.
                        if refreshes == 1 {
                            model.generation = env.state().generation;
                            model.fill = model.fill.wrapping_sub(1);
                            model.pos = env.state().pos as usize;
                            model.batch_key = env.state().batch_key;
                        }
                        continue;
                    }
                    prop_assert_eq!(buf, want);
                    prop_assert_eq!(arch::take_getrandom_calls(), vec![(32, 0); refreshes]);
                    let st = *env.state();
                    prop_assert_eq!(st.batch_key, model.batch_key, "the batch is zeroed as it is used");
                    prop_assert_eq!(st.pos as usize, model.pos);
                    prop_assert_eq!(st.generation, gen);
                    prop_assert_eq!(st.in_use, 0);
                }
            }
        }
    }
}

#[test]
fn the_query_answers_the_state_size_protection_and_flags_even_before_the_rng_is_ready() {
    let _pages = TestPages::new();
    let mut params = VgetrandomOpaqueParams { reserved: [0xdead; 13], ..Default::default() };
    // SAFETY: query mode writes the parameters only.
    let r = unsafe { getrandom(core::ptr::null_mut(), 0, 0, (&raw mut params).cast(), usize::MAX) };
    assert_eq!(r, 0);
    assert_eq!(
        params,
        VgetrandomOpaqueParams {
            size_of_opaque_state: 144,
            mmap_prot: MMAP_PROT,
            mmap_flags: MMAP_FLAGS,
            reserved: [0; 13]
        }
    );
    assert_eq!((MMAP_PROT, MMAP_FLAGS), (3, 0x28), "PROT_READ|PROT_WRITE, MAP_DROPPABLE|MAP_ANONYMOUS");
    assert_eq!(arch::take_getrandom_calls(), vec![]);
}

#[test]
fn a_query_with_any_other_argument_is_not_a_query() {
    let mut env = Env::ready();
    let mut buf = [0u8; 1];
    // flags set: to the syscall (unknown `opaque_len`).
    assert_eq!(env.call_with(&mut buf[..0], 1, 0, usize::MAX), 0);
    assert_eq!(arch::take_getrandom_calls(), vec![(0, 1)]);
    // A buffer: not a query either.
    assert_eq!(env.call_with(&mut buf, 0, 0, usize::MAX), 1);
    assert_eq!(arch::take_getrandom_calls(), vec![(1, 0)]);
}

#[test]
fn a_state_that_straddles_a_page_is_efault() {
    let mut env = Env::ready();
    let mut buf = [0u8; 16];
    assert_eq!(env.call_with(&mut buf, 0, PAGE_SIZE - STATE_SIZE + 1, STATE_SIZE), -EFAULT);
    // Even with flags or a length that would take the syscall: this check comes first.
    assert_eq!(env.call_with(&mut buf, 0x80, PAGE_SIZE - 1, 7), -EFAULT);
    assert_eq!(arch::take_getrandom_calls(), vec![]);
    // The last place a state fits is fine.
    assert_eq!(env.call_with(&mut buf, 0, PAGE_SIZE - STATE_SIZE, STATE_SIZE), 16);
}

#[test]
fn unknown_flags_and_a_wrong_length_take_the_syscall_with_the_callers_arguments() {
    let mut env = Env::ready();
    let mut buf = [0u8; 40];
    for flags in [8, 0x10, 1 << 31] {
        assert_eq!(env.call(&mut buf, flags), 40);
        assert_eq!(arch::take_getrandom_calls(), vec![(40, flags)]);
    }
    for len in [0, STATE_SIZE - 1, STATE_SIZE + 1] {
        assert_eq!(env.call_with(&mut buf, 2, 0, len), 40);
        assert_eq!(arch::take_getrandom_calls(), vec![(40, 2)]);
    }
    assert_eq!(env.state().generation, 0, "the state is not touched");
    // Every known flag is served by the image (after the one key refresh).
    for flags in [0, 1, 2, 4, 7] {
        assert_eq!(env.call(&mut buf, flags), 40);
    }
    assert_eq!(arch::take_getrandom_calls(), vec![(32, 0)]);
}

#[test]
fn before_the_rng_is_ready_every_call_takes_the_syscall_even_for_zero_bytes() {
    let mut env = Env::ready();
    env.pages.rng().is_ready = 0;
    let mut buf = [0u8; 8];
    assert_eq!(env.call(&mut buf, 1), 8);
    assert_eq!(env.call(&mut buf[..0], 1), 0);
    assert_eq!(arch::take_getrandom_calls(), vec![(8, 1), (0, 1)]);
    arch::set_getrandom_fails(true);
    assert_eq!(env.call(&mut buf, 1), -11, "the syscall's answer, unchanged");
}

#[test]
fn zero_bytes_once_ready_is_zero_without_touching_the_state() {
    let mut env = Env::ready();
    assert_eq!(env.call(&mut [], 0), 0);
    assert_eq!(arch::take_getrandom_calls(), vec![]);
    assert_eq!(*env.state(), VgetrandomState::default());
}

#[test]
fn a_state_in_use_takes_the_syscall_and_is_left_alone() {
    let mut env = Env::ready();
    env.state().in_use = 1;
    let before = *env.state();
    let mut buf = [0u8; 24];
    assert_eq!(env.call(&mut buf, 4), 24);
    assert_eq!(arch::take_getrandom_calls(), vec![(24, 4)]);
    assert_eq!(*env.state(), before);
}

#[test]
fn a_failed_key_refresh_forgets_the_generation_and_takes_the_syscall() {
    let mut env = Env::ready();
    arch::set_getrandom_fails(true);
    let mut buf = [0u8; 24];
    assert_eq!(env.call(&mut buf, 1), -11);
    assert_eq!(arch::take_getrandom_calls(), vec![(32, 0), (24, 1)]);
    assert_eq!((env.state().generation, env.state().in_use), (0, 0));
    // The next call refreshes again (the generation was forgotten).
    arch::set_getrandom_fails(false);
    assert_eq!(env.call(&mut buf, 0), 24);
    assert_eq!(arch::take_getrandom_calls(), vec![(32, 0)]);
}

#[test]
fn a_reseed_during_a_call_retries_once_then_takes_the_syscall() {
    let mut env = Env::ready();
    let gen = env.pages.rng_generation_ptr();
    let bump = move || {
        // SAFETY: the test's own page, alive for the call; single-threaded.
        unsafe { *gen += 1 }
    };
    // One reseed while the key is refreshed: the output is made again with a second key.
    let mut once = Some(bump);
    arch::set_getrandom_hook(Some(Box::new(move || {
        if let Some(b) = once.take() {
            b()
        }
    })));
    let mut buf = [0u8; 100];
    assert_eq!(env.call(&mut buf, 0), 100);
    assert_eq!(arch::take_getrandom_calls(), vec![(32, 0), (32, 0)]);
    assert_eq!(env.state().generation, 2);
    // A reseed at every refresh: after one retry, the syscall.
    let mut fresh = Env::ready();
    let gen = fresh.pages.rng_generation_ptr();
    arch::set_getrandom_hook(Some(Box::new(move || {
        // SAFETY: as above.
        unsafe { *gen += 1 }
    })));
    assert_eq!(fresh.call(&mut buf, 2), 100);
    assert_eq!(arch::take_getrandom_calls(), vec![(32, 0), (32, 0), (100, 2)]);
    assert_eq!(fresh.state().in_use, 0);
}

#[test]
fn in_a_time_namespace_the_rng_state_is_read_from_the_real_page() {
    let mut env = Env::ready();
    // Page 0 becomes a namespace page, whose RNG fields Linux leaves zero; the real page (at the
    // namespace slot) says ready.
    *env.pages.rng() = Default::default();
    env.pages.page0()[0].clock_mode = vdso_abi::clock_mode::TIMENS;
    env.pages.timens_rng().generation = 5;
    env.pages.timens_rng().is_ready = 1;
    let mut buf = [0u8; 10];
    assert_eq!(env.call(&mut buf, 0), 10);
    assert_eq!(arch::take_getrandom_calls(), vec![(32, 0)], "one key refresh, no fallback");
    assert_eq!(env.state().generation, 5);
}

#[test]
fn independent_states_give_different_bytes() {
    let mut a = Env::ready();
    let mut x = [0u8; 64];
    a.call(&mut x, 0);
    let mut b = Env::ready();
    arch::set_getrandom_fill(100);
    let mut y = [0u8; 64];
    b.call(&mut y, 0);
    assert_ne!(x, y);
}
