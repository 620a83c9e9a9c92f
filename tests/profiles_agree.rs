//! One `TimeSnapshot`, written by the kernel stub into both profiles' pages, gives bit-identical
//! answers from the classic and the modern image: every clock id, `clock_getres`,
//! `gettimeofday`'s `tz`, `time`, with the counter chosen (a trapped `rdtsc`), outside and inside
//! a time namespace. This proves the kernel stub's modern writer and the image's modern reader
//! agree with the classic pair (whose image is proven against Linux elsewhere).
//!
//! The bit-exact tests are x86_64 only: the counter is chosen by trapping `rdtsc`, which
//! qemu-user cannot do for `rdtime`/`cntvct`. On every architecture with a modern image
//! (x86_64, and aarch64, riscv64 and loongarch64 under qemu) the same snapshot is also read with the real
//! counter running: the modern image's fine clocks lie between two classic reads around them,
//! and everything else is identical.

mod common;

use common::harness::{ns, ts_zero, ClockGettime, Timezone, Ts, Vdso};
use linux_vdso::Arch;
use vdso_kernel_stub::modern::{fill_time_data, timens_time_data};
use vdso_kernel_stub::symbols::DynImage;
use vdso_kernel_stub::update::{fill, ClockConfig, Times};
use vdso_kernel_stub::{TimeSnapshot, TimensOffsets, Timespec as StubTs};

type TimeData = linux_vdso::abi::modern::native::TimeData;
/// The ids both images answer from their pages.
const SERVED: [i32; 7] = [0, 1, 4, 5, 6, 7, 11];

/// The native architecture's modern image for this process's page size (the default row's: 16 KiB
/// on loongarch64, 4 KiB elsewhere), if the project builds one.
fn modern_image() -> Option<linux_vdso::Image> {
    let arch = Arch::native()?;
    linux_vdso::Image::find(
        arch,
        linux_vdso::Profile::Modern,
        linux_vdso::Variant::default_for(arch).page_size,
    )
}

/// The modern image mapped after six data pages of our own (read-write for the test).
struct Modern {
    base: *mut u8,
    page_size: usize,
    clock_gettime: ClockGettime,
    clock_getres: ClockGettime,
    gettimeofday: common::harness::Gettimeofday,
}

impl Modern {
    fn map() -> Modern {
        let image = modern_image().expect("a modern image for this architecture");
        let page_size = image.page_size();
        let data = image.data_pages() * page_size;
        let len = data + image.pages() * page_size;
        // SAFETY: a fresh anonymous mapping, ours alone.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        let base = base.cast::<u8>();
        // SAFETY: inside the mapping; then the image pages become read+execute.
        let mem = unsafe {
            core::ptr::copy_nonoverlapping(image.bytes().as_ptr(), base.add(data), image.load_size());
            assert_eq!(
                libc::mprotect(
                    base.add(data).cast(),
                    image.pages() * page_size,
                    libc::PROT_READ | libc::PROT_EXEC
                ),
                0
            );
            std::slice::from_raw_parts(base.add(data), image.load_size())
        };
        let img = DynImage::parse(mem).expect("parses");
        let arch = image.arch();
        let (v, name) = (arch.version_node(), |base: &str| format!("{}{base}", arch.info().symbol_prefix));
        // SAFETY: the prototypes match docs/abi.md section 5; the mapping is never unmapped.
        unsafe {
            Modern {
                base,
                page_size,
                clock_gettime: img.resolve(&name("clock_gettime"), v).unwrap(),
                clock_getres: img.resolve(&name("clock_getres"), v).unwrap(),
                gettimeofday: img.resolve(&name("gettimeofday"), v).unwrap(),
            }
        }
    }

    fn page(&mut self, n: usize) -> &mut TimeData {
        // SAFETY: data page `n` of our read-write mapping, page-aligned; the test is the only
        // writer and reads happen only through the image between writes.
        unsafe { &mut *self.base.add(n * self.page_size).cast::<TimeData>() }
    }
}

fn snapshot(last: u64) -> TimeSnapshot {
    let cfg = ClockConfig { mult: 6_710_886, shift: 24, mask: u64::MAX };
    let times = Times {
        monotonic: StubTs { sec: 5_000, nsec: 123_456_789 },
        raw: StubTs { sec: 4_000, nsec: 987_654_321 },
        realtime: StubTs { sec: 1_700_000_000, nsec: 500_000_001 },
        boot_offset: StubTs { sec: 3, nsec: 5 },
        tai_offset: StubTs { sec: 37, nsec: 0 },
    };
    let mut s = TimeSnapshot::new(cfg, last, &times).unwrap();
    s.hrtimer_res = 1;
    s.tz_minuteswest = -120;
    s.tz_dsttime = 1;
    s
}

fn call(f: ClockGettime, id: i32) -> (i32, (i64, i64)) {
    let mut ts = ts_zero();
    // SAFETY: a valid timespec.
    let r = unsafe { f(id, &mut ts) };
    (r, (ts.tv_sec, ts.tv_nsec))
}

fn tz_of(f: common::harness::Gettimeofday) -> (i32, Timezone, i128) {
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let mut tz = Timezone::default();
    // SAFETY: valid pointers.
    let r = unsafe { f(&mut tv, &mut tz) };
    (r, tz, ns(&Ts { tv_sec: tv.tv_sec, tv_nsec: tv.tv_usec * 1000 }))
}

/// Every answer of both images at counter values around `last`.
#[cfg(target_arch = "x86_64")]
fn assert_same(classic: &Vdso, modern: &Modern, last: u64) {
    let classic_time = classic.time();
    let modern_time: common::harness::Time = {
        let image = modern_image().unwrap();
        let at = image.symbol("__vdso_time").unwrap().offset as usize;
        // SAFETY: `__vdso_time`'s prototype; the image stays mapped.
        unsafe { core::mem::transmute(modern.base.add(image.data_pages() * modern.page_size + at)) }
    };
    let trap = common::tsc_trap::TscTrap::new();
    for delta in [0u64, 1, 2_500_000_000, 7_777_777_777, 1 << 44] {
        trap.set(last.wrapping_add(delta));
        for id in -1..=25 {
            trap.take_reads();
            let c = call(classic.clock_gettime, id);
            let classic_reads = trap.take_reads();
            let m = call(modern.clock_gettime, id);
            assert_eq!(
                classic_reads,
                trap.take_reads(),
                "counter reads, clock {id} delta {delta}: {c:?} {m:?}"
            );
            if SERVED.contains(&id) {
                assert_eq!(c, m, "clock {id} delta {delta}");
                assert_eq!(call(classic.clock_getres, id), call(modern.clock_getres, id), "getres {id}");
            } else {
                // The kernel's answer (CPU time, the host's alarm clocks...): the same verdict.
                assert_eq!(c.0, m.0, "clock {id}");
                assert_eq!(call(classic.clock_getres, id).0, call(modern.clock_getres, id).0, "getres {id}");
            }
        }
        assert_eq!(tz_of(classic.gettimeofday), tz_of(modern.gettimeofday));
        // SAFETY: NULL allowed.
        assert_eq!(unsafe { classic_time(core::ptr::null_mut()) }, unsafe {
            modern_time(core::ptr::null_mut())
        });
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn one_snapshot_gives_the_same_answers_from_both_profiles() {
    let last = 1 << 50;
    let snap = snapshot(last);
    let classic = Vdso::map();
    classic.writer().update(|pair| fill(pair, &snap));
    let mut modern = Modern::map();
    fill_time_data(modern.page(0), &snap).unwrap();
    assert_same(&classic, &modern, last);
    // And the modern page is what the image reads: a changed `hrtimer_res` shows.
    modern.page(0).hrtimer_res = 7;
    assert_eq!(call(modern.clock_getres, 1), (0, (0, 7)));
}

#[cfg(target_arch = "x86_64")]
#[test]
fn one_snapshot_gives_the_same_answers_from_both_profiles_in_a_time_namespace() {
    let last = 1 << 50;
    let snap = snapshot(last);
    let offsets = TimensOffsets {
        monotonic: StubTs { sec: 100, nsec: 900_000_000 },
        boottime: StubTs { sec: -7, nsec: 3 },
    };
    let classic = Vdso::map_timens(offsets);
    classic.writer().update(|pair| fill(pair, &snap));
    let mut modern = Modern::map();
    *modern.page(0) = timens_time_data(&offsets);
    fill_time_data(modern.page(linux_vdso::abi::modern::native::TIMENS_PAGE), &snap).unwrap();
    assert_same(&classic, &modern, last);
    let _ = Arch::X86_64;
}

/// The same snapshot, the real counter running: the modern image's fine clocks between two
/// classic reads around them, COARSE, `clock_getres` and `tz` identical; in a time namespace too.
#[test]
fn with_the_real_counter_the_modern_image_reads_between_two_classic_reads() {
    assert!(modern_image().is_some(), "every architecture these tests run on has a modern image");
    let last = vdso_kernel_stub::counter::read_counter();
    let snap = snapshot(last);
    let ns_offsets =
        TimensOffsets { monotonic: StubTs { sec: 100, nsec: 1 }, boottime: StubTs { sec: 9, nsec: 0 } };
    for offsets in [None, Some(ns_offsets)] {
        let classic = match offsets {
            Some(o) => Vdso::map_timens(o),
            None => Vdso::map(),
        };
        classic.writer().update(|pair| fill(pair, &snap));
        let mut modern = Modern::map();
        let real_page = match offsets {
            Some(o) => {
                *modern.page(0) = timens_time_data(&o);
                linux_vdso::abi::modern::native::TIMENS_PAGE
            }
            None => 0,
        };
        fill_time_data(modern.page(real_page), &snap).unwrap();
        for id in SERVED {
            let c1 = call(classic.clock_gettime, id);
            let m = call(modern.clock_gettime, id);
            let c2 = call(classic.clock_gettime, id);
            assert!(c1 <= m && m <= c2, "clock {id} ({offsets:?}): classic {c1:?} .. {c2:?}, modern {m:?}");
            if id == 5 || id == 6 {
                assert_eq!(c1, m, "COARSE clock {id}");
            }
            assert_eq!(call(classic.clock_getres, id), call(modern.clock_getres, id), "getres {id}");
        }
        assert_eq!(tz_of(classic.gettimeofday).1, tz_of(modern.gettimeofday).1);
    }
}

/// x86_64's modern time page keeps the `getcpu`-mode byte at 2368 (`image_disassembly` pins that
/// the image loads exactly that byte): in both modes, with byte 0 of the page (the classic place,
/// `clock_data[0].seq` here) odd, the modern image answers `getcpu` as the syscall does.
#[cfg(target_arch = "x86_64")]
#[test]
fn the_modern_image_answers_getcpu_in_both_modes() {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    if !(__cpuid(0).eax >= 7 && __cpuid_count(7, 0).ecx & (1 << 22) != 0) {
        eprintln!("skipped: no RDPID on this CPU (CPUID 7.ECX bit 22), mode 1 would fault");
        return;
    }
    let mut modern = Modern::map();
    let image = modern_image().unwrap();
    let at = image.symbol("__vdso_getcpu").unwrap().offset as usize;
    // SAFETY: `__vdso_getcpu`'s prototype; the image stays mapped.
    let getcpu: common::harness::Getcpu =
        unsafe { core::mem::transmute(modern.base.add(image.data_pages() * modern.page_size + at)) };
    let mode_at = image.variant().getcpu_mode_offset().expect("x86_64 has the byte");
    assert_eq!(mode_at, core::mem::size_of::<TimeData>());
    let sys = || {
        let (mut c, mut n) = (u32::MAX, u32::MAX);
        // SAFETY: valid pointers; the raw syscall.
        unsafe { libc::syscall(libc::SYS_getcpu, &mut c, &mut n, 0usize) };
        (c, n)
    };
    for mode in [1u8, 0] {
        // SAFETY: a byte of our own read-write data page 0, inside it.
        unsafe { *modern.base.add(mode_at) = mode };
        modern.page(0).clock_data[0].seq = 1; // byte 0 = 1: not the mode byte
        let mut matched = false;
        for _ in 0..100 {
            let before = sys();
            let (mut c, mut n) = (u32::MAX, u32::MAX);
            // SAFETY: valid pointers.
            let r = unsafe { getcpu(&mut c, &mut n, core::ptr::null_mut()) };
            if before == sys() {
                assert_eq!((r, (c, n)), (0, before), "mode {mode}");
                matched = true;
                break;
            }
        }
        assert!(matched, "the task never stayed on one CPU around a call");
    }
}

/// Seqlock torture on the modern layout: a writer publishes snapshots with
/// `vdso_kernel_stub::modern::publish_time_data` as fast as it can (every base clock's time is
/// `k` seconds and `k` ns, `cycle_last` far ahead of the counter so the image returns the base
/// exactly) while readers call the modern image: a torn read shows as `sec != nsec`, a stale one
/// after a newer one as time going backwards. (These hosts are strongly ordered: this checks the
/// protocol's structure, `kernel-stub/tests/seqlock_model.rs` the ordering.)
#[test]
fn the_modern_page_is_never_read_torn_under_a_full_speed_writer() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    assert!(modern_image().is_some(), "every architecture these tests run on has a modern image");
    let mut modern = Modern::map();
    let ahead = vdso_kernel_stub::counter::read_counter().wrapping_add(1 << 62);
    let snap_for = move |k: i64| {
        let t = StubTs { sec: k, nsec: k as u32 };
        let times = Times {
            monotonic: t,
            raw: t,
            realtime: t,
            boot_offset: StubTs::default(),
            tai_offset: StubTs::default(),
        };
        TimeSnapshot::new(ClockConfig { mult: 1, shift: 0, mask: u64::MAX }, ahead, &times).unwrap()
    };
    fill_time_data(modern.page(0), &snap_for(1)).unwrap();
    let page = std::ptr::NonNull::from(modern.page(0));
    let page_addr = page.as_ptr() as usize;
    let gettime = modern.clock_gettime;
    let stop = Arc::new(AtomicBool::new(false));
    let updates = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, updates) = (Arc::clone(&stop), Arc::clone(&updates));
        std::thread::spawn(move || {
            let mut k = 1;
            while !stop.load(Ordering::Relaxed) && k < 999_999_999 {
                k += 1;
                let p = std::ptr::NonNull::new(page_addr as *mut TimeData).unwrap();
                // SAFETY: the test's own page, this thread its only writer; readers follow the
                // seqlock.
                unsafe { vdso_kernel_stub::modern::publish_time_data(p, &snap_for(k)).unwrap() };
            }
            updates.store(k as u64, Ordering::Relaxed);
        })
    };
    let reads = common::slow_under_emulation(2_000_000u64, 200_000);
    let readers: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let clocks = [1, 6, 4];
                let mut last = [(0i64, 0i64); 3];
                let (mut torn, mut backwards) = (0u64, 0u64);
                for i in 0..reads {
                    let c = (i % 3) as usize;
                    let (r, (sec, nsec)) = call(gettime, clocks[c]);
                    assert_eq!(r, 0);
                    torn += u64::from(sec != nsec);
                    backwards += u64::from((sec, nsec) < last[c]);
                    last[c] = (sec, nsec);
                }
                (torn, backwards, last)
            })
        })
        .collect();
    let results: Vec<_> = readers.into_iter().map(|h| h.join().expect("reader")).collect();
    stop.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    let _ = page;
    let updates = updates.load(Ordering::Relaxed);
    for (torn, backwards, last) in results {
        assert_eq!((torn, backwards), (0, 0), "torn and backwards reads (last {last:?})");
        assert!(last.iter().all(|&(s, _)| s > 1), "the readers saw the writer's updates: {last:?}");
    }
    assert!(updates > 1000, "the writer raced the readers: {updates} updates");
}

/// loongarch64's per-CPU array is on the modern profile's arch pages (Linux 6.18 defconfig's
/// 2048 slots from page 3 on), not at the classic page 2: with each CPU's node written only
/// there, the modern image's `getcpu` answers the classic image's (over the kernel stub's classic
/// per-CPU page holding the same nodes for its 63 CPUs).
#[cfg(target_arch = "loongarch64")]
#[test]
fn loongarch64_modern_getcpu_reads_the_nodes_on_the_arch_page() {
    use linux_vdso::abi::modern::loongarch64::{DATA_PAGES, NR_CPUS, PCPU_PAGE, PCPU_STRIDE};
    let classic = Vdso::map();
    let modern = Modern::map();
    assert_eq!(modern_image().unwrap().data_pages(), DATA_PAGES);
    for cpu in 0..NR_CPUS as u32 {
        if (cpu as usize) < linux_vdso::abi::loongarch64::NR_CPUS {
            classic.mapped.set_cpu_node(cpu, 500 + 3 * cpu).unwrap();
        }
        // SAFETY: CPU `cpu`'s slot inside our read-write arch page.
        unsafe {
            modern
                .base
                .add(PCPU_PAGE * modern.page_size + PCPU_STRIDE * cpu as usize)
                .cast::<u32>()
                .write(500 + 3 * cpu)
        };
    }
    let image = modern_image().unwrap();
    let at = image.symbol("__vdso_getcpu").unwrap().offset as usize;
    // SAFETY: `__vdso_getcpu`'s prototype; the image stays mapped.
    let getcpu: common::harness::Getcpu =
        unsafe { core::mem::transmute(modern.base.add(image.data_pages() * modern.page_size + at)) };
    let call = |f: common::harness::Getcpu| {
        let (mut c, mut n) = (u32::MAX, u32::MAX);
        // SAFETY: valid pointers.
        let r = unsafe { f(&mut c, &mut n, core::ptr::null_mut()) };
        (r, c, n)
    };
    let (r, cpu, node) = call(getcpu);
    assert_eq!(r, 0);
    assert_eq!(node, 500 + 3 * cpu, "the node of CPU {cpu} on the arch page");
    assert_eq!(call(classic.getcpu.expect("getcpu")), (r, cpu, node));
}
