//! The real writer and reader under load: a writer publishing as fast as it can, values that
//! keep a checkable relation, readers that must never see a torn state.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use vdso_abi::clock;
use vdso_kernel_stub::mapping::note_only_image;
use vdso_kernel_stub::{ArchLayout, MappedVdso};

type Native = vdso_kernel_stub::NativeArchData;

/// Every field of update `k`, derived from `k`.
fn nsec_of(k: u64) -> u64 {
    k.wrapping_mul(7919) % 1_000_000_000
}

/// Publishes update `k`: every field of both structs derived from `k`.
fn publish(w: &mut vdso_kernel_stub::mapping::DataWriter<Native>, k: u64) {
    w.update(|vd| {
        for v in vd.iter_mut() {
            v.clock_mode = vdso_abi::clock_mode::ARCH;
            v.cycle_last = k;
            v.mask = u64::MAX;
            v.hrtimer_res = k as u32;
            v.mult = k as u32 | 1;
            v.shift = 0;
            v.tz_minuteswest = k as i32;
            // SAFETY (union): plain integers.
            let b = unsafe { &mut v.bases.basetime };
            for (id, ts) in b.iter_mut().enumerate() {
                *ts = vdso_abi::VdsoTimestamp { sec: k + id as u64, nsec: nsec_of(k) };
            }
        }
    });
}

#[test]
fn readers_never_see_a_torn_update() {
    // 10^7 reads natively, 10^6 under qemu-user (about ten times slower per read).
    let total: u64 = common::slow_under_emulation(10_000_000, 1_000_000);
    let readers = 2;
    let m = MappedVdso::map(&note_only_image(ArchLayout::native()), ArchLayout::native()).unwrap();
    let mut w = m.writer::<Native>().unwrap();
    // Update 0 is published before any reader starts, so every state a reader can see, the
    // first one included, satisfies the relation.
    publish(&mut w, 0);
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut k = 0u64;
            while !done.load(Ordering::Relaxed) {
                k += 1;
                publish(&mut w, k);
                // A short, varying pause between sections (0 to ~1 µs): without it a debug-build
                // reader, slower than one write section, would almost never fit between two and
                // the test would measure starvation instead of tearing.
                for _ in 0..k % 64 {
                    std::hint::spin_loop();
                }
            }
            k
        })
    };
    let threads: Vec<_> = (0..readers)
        .map(|_| {
            let r = m.reader::<Native>().unwrap();
            std::thread::spawn(move || {
                let mut last = 0u64;
                let mut distinct = 0u64;
                for i in 0..total / readers {
                    if i % 64 == 0 {
                        // The whole page: every field of both structs from one update.
                        let s = r.snapshot();
                        let k = s.data[0].cycle_last;
                        for v in &s.data {
                            assert_eq!(v.seq % 2, 0);
                            assert_eq!(
                                (v.cycle_last, v.hrtimer_res, v.mult),
                                (k, k as u32, k as u32 | 1),
                                "torn struct"
                            );
                            assert_eq!(v.tz_minuteswest, k as i32);
                            // SAFETY (union): plain integers.
                            let b = unsafe { v.bases.basetime };
                            for (id, ts) in b.iter().enumerate() {
                                assert_eq!((ts.sec, ts.nsec), (k + id as u64, nsec_of(k)), "torn base {id}");
                            }
                        }
                        assert!(k >= last, "went back from update {last} to {k}");
                        last = k;
                    } else {
                        // The image's path: the counter read inside the loop, behind cycle_last
                        // (so the base itself comes back), sec and nsec from one update.
                        let t = r.clock_gettime(clock::MONOTONIC, || 0).unwrap();
                        let k = t.sec as u64 - 1;
                        assert_eq!(t.nsec as u64, nsec_of(k), "torn read at update {k}");
                        assert!(k >= last, "went back from update {last} to {k}");
                        distinct += (k != last) as u64;
                        last = k;
                    }
                }
                distinct
            })
        })
        .collect();
    let distinct: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    done.store(true, Ordering::Relaxed);
    let updates = writer.join().unwrap();
    eprintln!("{total} reads, {updates} updates, {distinct} reads saw a new update");
    assert!(updates > 1000, "the writer barely ran: {updates} updates");
    assert!(distinct > 100, "readers and writer barely overlapped: {distinct}");
}
