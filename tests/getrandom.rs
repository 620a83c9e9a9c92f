//! The image's `getrandom` mapped by the kernel stub, with the host kernel's real `getrandom`
//! syscall behind it (natively on x86_64, under qemu-user elsewhere): the query, the
//! not-ready fallback, the keystream against RustCrypto's ChaCha20 continued from the state's
//! own batch and key, a reseed, a time namespace, threads with states of their own, and a
//! statistical sanity check of a mebibyte.

mod common;

use std::sync::Arc;

use chacha20::ChaCha20Rng;
use common::harness::{variants, Vdso};
use rand_core::{Rng, SeedableRng};
use vdso_abi::rng::{VgetrandomOpaqueParams, VgetrandomState, BATCH_SIZE, KEY_OFFSET, STATE_SIZE};
use vdso_kernel_stub::TimensOffsets;
use vdso_kernel_stub::Variant;

/// The native variants whose image has `getrandom` (both profiles of a row that has it). A row
/// without it (loongarch64's until its `getrandom` lands: no `rng_data_offset` in its row, no
/// symbol in its image) is skipped here, and said so.
fn getrandom_variants() -> Vec<&'static Variant> {
    let (with, without): (Vec<&Variant>, Vec<&Variant>) =
        variants().into_iter().partition(|v| v.rng_data_offset().is_some());
    for v in without {
        println!("{}: the image has no getrandom (no RNG data in its row): skipped", v.name());
    }
    with
}

/// `ssize_t getrandom(void *, size_t, unsigned, void *, size_t)`.
type Getrandom = unsafe extern "C" fn(*mut u8, usize, u32, *mut u8, usize) -> isize;

fn resolve(vdso: &Vdso) -> Getrandom {
    let image = linux_vdso::Image::native().expect("native arch");
    let name = format!("{}getrandom", image.arch().info().symbol_prefix);
    // SAFETY: the prototype of Linux's vDSO getrandom; used while `vdso` lives.
    unsafe { vdso.mapped.resolve(&name, image.arch().version_node()).expect("getrandom") }
}

/// States allocated as the query says: `MAP_DROPPABLE | MAP_ANONYMOUS` where the kernel has it
/// (Linux 6.11+), private anonymous memory where it does not (qemu-user 7.2 refuses the flag).
struct States {
    base: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain memory; each thread uses its own state.
unsafe impl Send for States {}
// SAFETY: as above.
unsafe impl Sync for States {}

impl States {
    fn new(params: &VgetrandomOpaqueParams, n: usize) -> States {
        let len = (n * params.size_of_opaque_state as usize).next_multiple_of(4096);
        // SAFETY: a fresh anonymous mapping; no address given.
        let mut p = unsafe {
            libc::mmap(std::ptr::null_mut(), len, params.mmap_prot as i32, params.mmap_flags as i32, -1, 0)
        };
        if p == libc::MAP_FAILED {
            // SAFETY: as above.
            p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    params.mmap_prot as i32,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
        }
        assert_ne!(p, libc::MAP_FAILED, "mmap: {}", std::io::Error::last_os_error());
        States { base: p.cast(), len }
    }

    /// State `i` (never straddling a page: 144 does not divide 4096, so skip the straddlers).
    fn get(&self, i: usize) -> *mut u8 {
        let per_page = 4096 / STATE_SIZE;
        let off = (i / per_page) * 4096 + (i % per_page) * STATE_SIZE;
        assert!(off + STATE_SIZE <= self.len);
        self.base.wrapping_add(off)
    }
}

impl Drop for States {
    fn drop(&mut self) {
        // SAFETY: our own mapping.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

fn query(f: Getrandom) -> VgetrandomOpaqueParams {
    let mut params = VgetrandomOpaqueParams::default();
    // SAFETY: query mode writes the parameters only.
    assert_eq!(unsafe { f(std::ptr::null_mut(), 0, 0, (&raw mut params).cast(), usize::MAX) }, 0);
    params
}

fn read(f: Getrandom, state: *mut u8, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` is writable; the state was allocated as the query says and is ours.
    let r = unsafe { f(buf.as_mut_ptr(), len, 0, state, STATE_SIZE) };
    assert_eq!(r, len as isize);
    buf
}

fn snapshot(state: *mut u8) -> VgetrandomState {
    // SAFETY: a live state, not in use (no call running in this thread).
    unsafe { state.cast::<VgetrandomState>().read() }
}

/// The next `len` bytes a state in `st` gives (no reseed): Linux's algorithm over the reference.
fn predict(st: &VgetrandomState, len: usize) -> Vec<u8> {
    let keystream = |key: &[u8], counter: u64, n: usize| {
        let mut rng = ChaCha20Rng::from_seed(key.try_into().unwrap());
        rng.set_block_pos(counter);
        let mut v = vec![0; 64 * n];
        rng.fill_bytes(&mut v);
        v
    };
    let mut bk = st.batch_key;
    let mut pos = st.pos as usize;
    let (mut out, mut counter) = (Vec::new(), 0u64);
    loop {
        let take = (BATCH_SIZE - pos).min(len - out.len());
        out.extend_from_slice(&bk[pos..pos + take]);
        if out.len() == len {
            return out;
        }
        let n = (len - out.len()) / 64;
        out.extend(keystream(&bk[KEY_OFFSET..], counter, n));
        counter += n as u64;
        let refill = keystream(&bk[KEY_OFFSET..], counter, 2);
        bk.copy_from_slice(&refill);
        counter += 2;
        pos = 0;
    }
}

#[test]
fn the_query_gives_linux_parameters() {
    for v in getrandom_variants() {
        let vdso = Vdso::map_variant(v);
        let p = query(resolve(&vdso));
        assert_eq!((p.size_of_opaque_state, p.mmap_prot, p.mmap_flags), (144, 3, 0x28));
        assert_eq!(p.reserved, [0; 13]);
    }
}

#[test]
fn before_the_rng_is_ready_the_syscall_serves_and_the_state_is_untouched() {
    for v in getrandom_variants() {
        let vdso = Vdso::map_variant(v);
        let f = resolve(&vdso);
        let states = States::new(&query(f), 1);
        let out = read(f, states.get(0), 64);
        assert_ne!(out, vec![0; 64]);
        assert_eq!(snapshot(states.get(0)).generation, 0, "the image did not serve it");
    }
}

#[test]
fn the_keystream_continues_the_states_batch_and_key() {
    for v in getrandom_variants() {
        let vdso = Vdso::map_variant(v);
        let gen = vdso.page_writer().rng().expect("getrandom").publish_ready_generation();
        let f = resolve(&vdso);
        let states = States::new(&query(f), 1);
        let st = states.get(0);
        read(f, st, 10);
        assert_eq!(snapshot(st).generation, gen, "served by the image, key drawn at the page's generation");
        for len in [0, 1, 16, 31, 32, 63, 64, 65, 85, 86, 95, 96, 97, 128, 200, 256, 1000, 4095, 4096, 4097] {
            let want = predict(&snapshot(st), len);
            assert_eq!(read(f, st, len), want, "{len} bytes");
        }
    }
}

#[test]
fn a_reseed_draws_a_new_key_before_the_next_bytes() {
    for v in getrandom_variants() {
        let vdso = Vdso::map_variant(v);
        let mut writer = vdso.page_writer();
        writer.rng().expect("getrandom").publish_ready();
        let f = resolve(&vdso);
        let states = States::new(&query(f), 1);
        let st = states.get(0);
        read(f, st, 40);
        let before = snapshot(st);
        let gen = writer.rng().expect("getrandom").reseed();
        let out = read(f, st, 40);
        let after = snapshot(st);
        assert_eq!(after.generation, gen);
        assert_ne!(out, predict(&before, 40), "not the old key's bytes");
        assert_ne!(after.batch_key[KEY_OFFSET..], before.batch_key[KEY_OFFSET..]);
    }
}

#[test]
fn in_a_time_namespace_the_real_pages_rng_state_serves() {
    for v in getrandom_variants() {
        let vdso = Vdso::map_variant_timens(v, TimensOffsets::default());
        let gen = vdso.page_writer().rng().expect("getrandom").publish_ready_generation();
        let f = resolve(&vdso);
        let states = States::new(&query(f), 1);
        read(f, states.get(0), 16);
        assert_eq!(snapshot(states.get(0)).generation, gen);
    }
}

#[test]
fn threads_with_their_own_states_get_different_bytes() {
    for v in getrandom_variants() {
        let vdso = Vdso::map_variant(v);
        vdso.page_writer().rng().expect("getrandom").publish_ready();
        let f = resolve(&vdso);
        const THREADS: usize = 4;
        let states = Arc::new(States::new(&query(f), THREADS));
        let outs: Vec<Vec<u8>> = (0..THREADS)
            .map(|i| {
                let states = Arc::clone(&states);
                std::thread::spawn(move || (0..200).flat_map(|_| read(f, states.get(i), 48)).collect())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect();
        for i in 0..THREADS {
            for j in i + 1..THREADS {
                assert_ne!(outs[i][..32], outs[j][..32], "threads {i} and {j}");
            }
        }
        drop(vdso);
    }
}

#[test]
fn a_mebibyte_passes_a_statistical_sanity_check() {
    // The default row's image (the first of `variants`), if it has getrandom.
    let Some(&v) = getrandom_variants().first() else { return };
    let vdso = Vdso::map_variant(v);
    vdso.page_writer().rng().expect("getrandom").publish_ready();
    let f = resolve(&vdso);
    let states = States::new(&query(f), 1);
    let mut data = Vec::with_capacity(1 << 20);
    for len in [1usize, 7, 64, 100, 4096].iter().cycle() {
        if data.len() >= 1 << 20 {
            break;
        }
        data.extend(read(f, states.get(0), *len));
    }
    data.truncate(1 << 20);
    // Byte frequencies: chi-square with 255 degrees of freedom, mean 255, sd about 22.6; 400
    // is more than six sd out (a false alarm is far below one in a million).
    let mut counts = [0u64; 256];
    for &b in &data {
        counts[b as usize] += 1;
    }
    let expected = data.len() as f64 / 256.0;
    let chi2: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
    assert!(chi2 < 400.0, "byte chi-square {chi2}");
    // Ones among 8 Mi bits: within six standard deviations (sd = sqrt(n)/2) of half.
    let ones: u64 = data.iter().map(|b| b.count_ones() as u64).sum();
    let n = data.len() as f64 * 8.0;
    assert!((ones as f64 - n / 2.0).abs() < 6.0 * n.sqrt() / 2.0, "{ones} ones of {n}");
    // No repeated 16-byte block (a stuck or reused keystream).
    let mut blocks: Vec<&[u8]> = data.chunks_exact(16).collect();
    blocks.sort_unstable();
    blocks.dedup();
    assert_eq!(blocks.len(), data.len() / 16);
}
