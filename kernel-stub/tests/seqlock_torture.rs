//! The real writer and reader under load: a writer publishing as fast as it can, values that
//! keep a checkable relation, readers that must never see a torn state. Both profiles: the
//! classic pair (`DataWriter`, read by the kernel stub's `Reader`) and the modern time page
//! (`TimePageWriter::update`, read here under each seqlock as the image reads it: both base
//! clocks with `tz` and `hrtimer_res`, and each auxiliary clock on its own).

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

/// The native architecture's modern time page and `vdso_clock`.
type ModernTimeData = vdso_abi::modern::native::TimeData;
type ModernClock = vdso_abi::modern::native::Clock;

/// Publishes update `k` into the modern page (`TimePageWriter::update`): every field of both base
/// clocks, `tz` and `hrtimer_res` (under the base clocks' `seq`) and every auxiliary clock's
/// (each under its own) derived from `k`.
fn publish_modern(w: &mut vdso_kernel_stub::mapping::TimePageWriter, k: u64) {
    let clock = |c: &mut ModernClock, first_id: u64| {
        c.clock_mode = vdso_abi::clock_mode::ARCH;
        c.cycle_last = k;
        c.mask = u64::MAX;
        c.mult = k as u32 | 1;
        c.shift = 0;
        // SAFETY (union): plain integers.
        let b = unsafe { &mut c.bases.basetime };
        for (id, ts) in b.iter_mut().enumerate() {
            *ts = vdso_abi::VdsoTimestamp { sec: k + first_id + id as u64, nsec: nsec_of(k) };
        }
    };
    w.update(|td: &mut ModernTimeData| {
        for c in &mut td.clock_data {
            clock(c, 0);
        }
        for (i, c) in td.aux_clock_data.iter_mut().enumerate() {
            clock(c, 100 * (i as u64 + 1));
        }
        td.tz_minuteswest = k as i32;
        td.hrtimer_res = k as u32;
    })
    .expect("the native modern time page type");
}

/// Reads `structs` clock structs at `first` (and, if `page_fields`, `tz` and `hrtimer_res` of the
/// page at `td`) under their `seq`s as the image does: all even and unchanged around the
/// reads, acquire fences between. Returns the structs and (`tz_minuteswest`, `hrtimer_res`).
///
/// # Safety
/// `first..first + structs` and `td` must be mapped, readable and written only atomically.
unsafe fn read_modern(
    td: *const ModernTimeData,
    first: *const ModernClock,
    structs: usize,
) -> (Vec<ModernClock>, (i32, u32)) {
    use std::sync::atomic::{fence, AtomicU32};
    let seq = |i: usize| {
        // SAFETY: per the caller.
        unsafe {
            AtomicU32::from_ptr(std::ptr::addr_of!((*first.add(i)).seq).cast_mut()).load(Ordering::Relaxed)
        }
    };
    loop {
        let before: Vec<u32> = (0..structs).map(seq).collect();
        if before.iter().any(|s| s % 2 == 1) {
            std::hint::spin_loop();
            continue;
        }
        fence(Ordering::Acquire);
        // SAFETY: per the caller (the fields are read volatile, and discarded if a seq moved).
        let (clocks, page) = unsafe {
            (
                (0..structs).map(|i| std::ptr::read_volatile(first.add(i))).collect::<Vec<_>>(),
                (
                    std::ptr::read_volatile(&raw const (*td).tz_minuteswest),
                    std::ptr::read_volatile(&raw const (*td).hrtimer_res),
                ),
            )
        };
        fence(Ordering::Acquire);
        if (0..structs).map(seq).eq(before) {
            return (clocks, page);
        }
    }
}

/// The modern profile's time page under the same load: the kernel stub's `TimePageWriter`
/// publishing every field from one update, readers checking each base-clock read (both
/// structs, `tz`, `hrtimer_res`) and each auxiliary clock's (under its own `seq`) comes from
/// one update.
#[test]
fn modern_readers_never_see_a_torn_update() {
    let total: u64 = common::slow_under_emulation(2_000_000, 200_000);
    let readers = 2;
    let arch = ArchLayout::native().arch;
    let page_size = rustix::param::page_size();
    let modern = vdso_kernel_stub::Variant::of_arch(arch)
        .find(|v| v.profile == vdso_kernel_stub::Profile::Modern && v.page_size == page_size)
        .expect("a modern row for the native arch");
    let layout = ArchLayout::of_variant(modern);
    let m = Arc::new(MappedVdso::map(&note_only_image(layout), layout).unwrap());
    let mut w = m.time_page_writer().unwrap();
    publish_modern(&mut w, 0);
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut k = 0u64;
            while !done.load(Ordering::Relaxed) {
                k += 1;
                publish_modern(&mut w, k);
                // A short, varying pause between sections (see `readers_never_see_a_torn_update`).
                for _ in 0..k % 64 {
                    std::hint::spin_loop();
                }
            }
            k
        })
    };
    let threads: Vec<_> = (0..readers)
        .map(|_| {
            let m = Arc::clone(&m);
            std::thread::spawn(move || {
                // The reader's view of the time page (what the image reads).
                let td =
                    m.data_base().wrapping_add(layout.vvar_page * layout.page_size).cast::<ModernTimeData>();
                // The last update seen under each seqlock: the base clocks', then each auxiliary
                // clock's (published one after another, so only each on its own only grows).
                let mut lasts = [0u64; 1 + vdso_abi::modern::MAX_AUX_CLOCKS];
                let mut distinct = 0u64;
                for i in 0..total / readers {
                    let domain =
                        if i % 2 == 0 { 0 } else { 1 + (i / 2) as usize % vdso_abi::modern::MAX_AUX_CLOCKS };
                    // SAFETY: the time page's clock structs, inside the mapped data pages, written
                    // only atomically by the writer.
                    let (k, clocks) = unsafe {
                        if i % 2 == 0 {
                            let (clocks, (tz, res)) = read_modern(td, (*td).clock_data.as_ptr(), 2);
                            let k = clocks[0].cycle_last;
                            assert_eq!(
                                (tz, res),
                                (k as i32, k as u32),
                                "torn tz or hrtimer_res at update {k}"
                            );
                            (k, clocks.into_iter().map(|c| (c, 0)).collect::<Vec<_>>())
                        } else {
                            let a = domain - 1;
                            let (clocks, _) = read_modern(td, (*td).aux_clock_data.as_ptr().add(a), 1);
                            (clocks[0].cycle_last, vec![(clocks[0], 100 * (a as u64 + 1))])
                        }
                    };
                    for (c, first_id) in clocks {
                        assert_eq!(
                            (c.cycle_last, c.mult, c.mask),
                            (k, k as u32 | 1, u64::MAX),
                            "torn struct"
                        );
                        // SAFETY (union): plain integers.
                        let b = unsafe { c.bases.basetime };
                        for (id, ts) in b.iter().enumerate() {
                            assert_eq!(
                                (ts.sec, ts.nsec),
                                (k + first_id + id as u64, nsec_of(k)),
                                "torn base {id}"
                            );
                        }
                    }
                    let last = &mut lasts[domain];
                    assert!(k >= *last, "went back from update {last} to {k} (seqlock {domain})");
                    distinct += (k != *last) as u64;
                    *last = k;
                }
                distinct
            })
        })
        .collect();
    let distinct: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    done.store(true, Ordering::Relaxed);
    let updates = writer.join().unwrap();
    eprintln!("modern: {total} reads, {updates} updates, {distinct} reads saw a new update");
    assert!(updates > 1000, "the writer barely ran: {updates} updates");
    assert!(distinct > 100, "readers and writer barely overlapped: {distinct}");
}
