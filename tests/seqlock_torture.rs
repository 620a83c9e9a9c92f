//! Seqlock torture: a writer republishes the page as fast as it can while readers call the image.
//! Every update keeps `sec` and `nsec` of a clock derived from one counter `k` (and `mult` 0, so
//! the time is exactly the base): the image returns `sec = k + k / 10^9`, `nsec = k % 10^9`, so a
//! torn read (one field from one update, one from another) breaks
//! `(sec - nsec) % (10^9 + 1) == 0`, and `k` only grows, so a stale read after a newer one shows
//! as time going backwards.
//!
//! Each test runs on every native row of the variant table (`harness::variants()`): the classic
//! pair through the kernel stub's `DataWriter`, the modern time page through its
//! `TimePageWriter` (the same values in the page's `vdso_clock`s, via `PageWriter::update`),
//! where auxiliary clock `CLOCK_AUX` is hammered as well, under its own `seq`. The control
//! (`a_torn_update_is_caught_in_every_profile`) publishes each update's `sec` and `nsec` in two
//! separate sections, a torn page as readers can see it whenever a writer stores fields outside
//! its section, and requires the same readers to report it, so the check is live for both pages.
//!
//! These hosts are strongly ordered (qemu-riscv64 runs on the same x86_64), so this cannot catch
//! a missing fence; `kernel-stub/tests/seqlock_model.rs` model-checks the protocol under a weak
//! memory model and `tests/image_disassembly.rs` checks the riscv64 image's `fence r,r`.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::harness::*;
use linux_vdso::abi::modern::{CLOCK_AUX, VDSO_BASE_AUX};
use linux_vdso::abi::{clock, clock_mode, VdsoTimestamp};

const NS: i64 = 1_000_000_000;

fn consistent(ts: &Ts) -> bool {
    normalised(ts) && (ts.tv_sec - ts.tv_nsec) % (NS + 1) == 0
}

/// How the writer publishes update `k`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Publish {
    /// Every field of the update in one write section.
    Whole,
    /// The control: `sec` in one section, `nsec` in the next (a torn page between them).
    Torn,
}

/// Counter mode, `mult` 0 (the time is exactly the base) for both base structs and, on a page
/// that has them, auxiliary clock `CLOCK_AUX`. Returns the clock ids to read.
fn prepare(w: &mut PageWriter) -> Vec<i32> {
    w.update(|pair| {
        for vd in pair.iter_mut() {
            vd.clock_mode = clock_mode::ARCH;
            vd.mask = u64::MAX;
            vd.mult = 0;
            vd.shift = 0;
        }
    });
    let aux = w.update_aux(|aux| {
        let c = &mut aux[0];
        c.clock_mode = clock_mode::ARCH;
        c.mask = u64::MAX;
        c.mult = 0;
        c.shift = 0;
    });
    let mut clocks = vec![clock::MONOTONIC, clock::MONOTONIC_COARSE, clock::MONOTONIC_RAW];
    clocks.extend(aux.map(|()| CLOCK_AUX));
    clocks
}

/// Publishes update `k`: `sec` and `nsec` of every hammered clock set to `k`.
fn publish(w: &mut PageWriter, k: u64, how: Publish) {
    let (first, second) = match how {
        Publish::Whole => (VdsoTimestamp { sec: k, nsec: k }, None),
        Publish::Torn => (VdsoTimestamp { sec: k, nsec: k - 1 }, Some(VdsoTimestamp { sec: k, nsec: k })),
    };
    for t in [Some(first), second].into_iter().flatten() {
        w.update(|pair| {
            // SAFETY: `basetime` is the active member of a data page; plain integers.
            unsafe {
                pair[0].bases.basetime[clock::MONOTONIC as usize] = t;
                pair[0].bases.basetime[clock::MONOTONIC_COARSE as usize] = t;
                pair[1].bases.basetime[clock::MONOTONIC_RAW as usize] = t;
            }
            pair[0].cycle_last = k;
        });
        w.update_aux(|aux| {
            // SAFETY: `basetime` is the active member of a time page; plain integers.
            unsafe { aux[0].bases.basetime[VDSO_BASE_AUX] = t };
            aux[0].cycle_last = k;
        });
        if how == Publish::Torn {
            // Leave the torn state up for a moment (0 to ~1 µs), so readers can meet it.
            for _ in 0..k % 64 {
                std::hint::spin_loop();
            }
        }
    }
}

/// What one reader saw.
struct Seen {
    torn: u64,
    backwards: u64,
    reads: u64,
    last: Vec<(i64, i64)>,
}

/// Runs `readers` readers of `clocks` against a writer publishing updates `1, 2, ...` the
/// `how` way, each reader stopping after `reads` calls or once `stop_when_torn` and it saw a
/// torn time, or at `deadline`. Returns the readers' findings and the number of updates.
fn race(vdso: &Arc<Vdso>, clocks: &[i32], how: Publish, reads: u64, deadline: Duration) -> (Vec<Seen>, u64) {
    let readers = 2;
    let mut writer = vdso.page_writer();
    let stop = Arc::new(AtomicBool::new(false));
    let updates = Arc::new(AtomicU64::new(0));
    let w = {
        let (stop, updates) = (Arc::clone(&stop), Arc::clone(&updates));
        thread::spawn(move || {
            let mut k = 0u64;
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                publish(&mut writer, k, how);
            }
            updates.store(k, Ordering::Relaxed);
        })
    };
    let until = Instant::now().checked_add(deadline);
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let (vdso, clocks) = (Arc::clone(vdso), clocks.to_vec());
            thread::spawn(move || {
                let mut seen = Seen { torn: 0, backwards: 0, reads: 0, last: vec![(0, 0); clocks.len()] };
                for i in 0..reads / readers {
                    let c = i as usize % clocks.len();
                    let (r, ts) = vdso.gettime(clocks[c]);
                    assert_eq!(r, 0);
                    seen.reads += 1;
                    if !consistent(&ts) {
                        seen.torn += 1;
                    }
                    let now = (ts.tv_sec, ts.tv_nsec);
                    if now < seen.last[c] {
                        seen.backwards += 1;
                    }
                    seen.last[c] = now;
                    if how == Publish::Torn
                        && (seen.torn > 0 || (i % 1024 == 0 && until.is_some_and(|u| Instant::now() > u)))
                    {
                        break;
                    }
                }
                seen
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().expect("reader finished")).collect();
    stop.store(true, Ordering::Relaxed);
    w.join().expect("writer finished");
    (results, updates.load(Ordering::Relaxed))
}

#[test]
fn readers_never_see_a_torn_or_backwards_time_under_a_full_speed_writer() {
    let total_reads: u64 = common::slow_under_emulation(10_000_000, 1_000_000);
    for v in variants() {
        let vdso = Arc::new(Vdso::map_variant(v));
        let clocks = prepare(&mut vdso.page_writer());
        let (results, updates) = race(&vdso, &clocks, Publish::Whole, total_reads, Duration::MAX);
        for seen in &results {
            assert_eq!((seen.torn, seen.backwards), (0, 0), "{}: torn and backwards reads", v.dir);
            assert!(
                seen.last.iter().all(|&(s, _)| s > 0),
                "{}: readers saw the writer's updates on clocks {clocks:?}: {:?}",
                v.dir,
                seen.last
            );
        }
        assert!(updates > 1000, "{}: the writer really raced the readers: {updates} updates", v.dir);
        eprintln!(
            "{}: {total_reads} reads of clocks {clocks:?} by {} readers against {updates} updates: 0 torn, 0 backwards",
            v.dir,
            results.len()
        );
    }
}

/// The control: the same readers, checks and pages, against a writer whose every update is torn
/// across two sections. The readers must report a torn time (they stop at the first); a check
/// that cannot see the hammered page, or a relation a torn state keeps, fails here.
#[test]
fn a_torn_update_is_caught_in_every_profile() {
    let max_reads: u64 = common::slow_under_emulation(100_000_000, 10_000_000);
    for v in variants() {
        let vdso = Arc::new(Vdso::map_variant(v));
        let clocks = prepare(&mut vdso.page_writer());
        let (results, updates) = race(&vdso, &clocks, Publish::Torn, max_reads, Duration::from_secs(60));
        let torn: u64 = results.iter().map(|s| s.torn).sum();
        let reads: u64 = results.iter().map(|s| s.reads).sum();
        assert!(torn > 0, "{}: {reads} reads against {updates} torn updates, none caught", v.dir);
        eprintln!("{}: a torn update caught after {reads} reads ({updates} updates)", v.dir);
    }
}
