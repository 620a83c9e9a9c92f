//! Seqlock torture: a writer republishes the page as fast as it can while readers call the image.
//! Every update keeps `sec` and `nsec` of a clock derived from one counter `k` (and `mult` 0, so
//! the time is exactly the base): the image returns `sec = k + k / 10^9`, `nsec = k % 10^9`, so a
//! torn read (one field from one update, one from another) breaks
//! `(sec - nsec) % (10^9 + 1) == 0`, and `k` only grows, so a stale read after a newer one shows
//! as time going backwards.
//!
//! These hosts are strongly ordered (qemu-riscv64 runs on the same x86_64), so this cannot catch
//! a missing fence; `kernel-stub/tests/seqlock_model.rs` model-checks the protocol under a weak
//! memory model and `tests/image_disassembly.rs` checks the riscv64 image's `fence r,r`.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use common::harness::*;
use linux_vdso::abi::{clock, clock_mode, VdsoTimestamp};

const NS: i64 = 1_000_000_000;

fn consistent(ts: &Ts) -> bool {
    normalised(ts) && (ts.tv_sec - ts.tv_nsec) % (NS + 1) == 0
}

#[test]
fn readers_never_see_a_torn_or_backwards_time_under_a_full_speed_writer() {
    let total_reads: u64 = common::slow_under_emulation(10_000_000, 1_000_000);
    let readers = 2;
    let vdso = Arc::new(Vdso::map());
    let mut writer = vdso.writer();
    writer.update(|pair| {
        for vd in pair.iter_mut() {
            vd.clock_mode = clock_mode::ARCH;
            vd.mask = u64::MAX;
            vd.mult = 0;
            vd.shift = 0;
        }
    });
    let stop = Arc::new(AtomicBool::new(false));
    let updates = Arc::new(AtomicU64::new(0));
    let w = {
        let (stop, updates) = (Arc::clone(&stop), Arc::clone(&updates));
        thread::spawn(move || {
            let mut k = 0u64;
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                writer.update(|pair| {
                    let t = VdsoTimestamp { sec: k, nsec: k };
                    // SAFETY: `basetime` is the active member of a data page; plain integers.
                    unsafe {
                        pair[0].bases.basetime[clock::MONOTONIC as usize] = t;
                        pair[0].bases.basetime[clock::MONOTONIC_COARSE as usize] = t;
                        pair[1].bases.basetime[clock::MONOTONIC_RAW as usize] = t;
                    }
                    pair[0].cycle_last = k;
                });
            }
            updates.store(k, Ordering::Relaxed);
        })
    };
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let vdso = Arc::clone(&vdso);
            thread::spawn(move || {
                let clocks = [clock::MONOTONIC, clock::MONOTONIC_COARSE, clock::MONOTONIC_RAW];
                let mut last = [(0i64, 0i64); 3];
                let (mut torn, mut backwards) = (0u64, 0u64);
                for i in 0..total_reads / readers {
                    let c = (i % 3) as usize;
                    let (r, ts) = vdso.gettime(clocks[c]);
                    assert_eq!(r, 0);
                    if !consistent(&ts) {
                        torn += 1;
                    }
                    let now = (ts.tv_sec, ts.tv_nsec);
                    if now < last[c] {
                        backwards += 1;
                    }
                    last[c] = now;
                }
                (torn, backwards, last)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("reader finished")).collect();
    stop.store(true, Ordering::Relaxed);
    w.join().expect("writer finished");
    let updates = updates.load(Ordering::Relaxed);
    for (torn, backwards, last) in &results {
        assert_eq!((*torn, *backwards), (0, 0), "torn and backwards reads");
        assert!(last.iter().all(|&(s, _)| s > 0), "readers saw the writer's updates: {last:?}");
    }
    assert!(updates > 1000, "the writer really raced the readers: {updates} updates");
    eprintln!("{total_reads} reads by {readers} readers against {updates} updates: 0 torn, 0 backwards");
}
