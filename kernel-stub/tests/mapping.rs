//! Mapping `[data pages | image]` in this process: permissions, the two views, randomisation,
//! time-namespace arrangement, unmapping, errors.

mod common;

use common::{synthetic_image, ElfOptions};
use vdso_abi::{clock, clock_mode, PAGE_SIZE};
use vdso_kernel_stub::mapping::MAX_IMAGE_SIZE;
use vdso_kernel_stub::{ArchLayout, Error, MapOptions, MappedVdso, TimensOffsets, Timespec};

type X86 = vdso_abi::x86_64::ArchData;
type Rv = vdso_abi::riscv64::ArchData;

/// Permissions and path of the mapping containing `addr`, from /proc/self/maps.
fn mapping(addr: usize) -> Option<(String, String)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        let (lo, hi) = it.next()?.split_once('-')?;
        let (lo, hi) = (usize::from_str_radix(lo, 16).ok()?, usize::from_str_radix(hi, 16).ok()?);
        let perms = it.next()?.to_string();
        let path = it.nth(3).unwrap_or("").to_string();
        (lo <= addr && addr < hi).then_some((perms, path))
    })
}

/// Permissions of the mapping containing `addr`.
fn perms(addr: usize) -> Option<String> {
    mapping(addr).map(|(perms, _)| perms)
}

/// Whether the page at `addr` still holds something a `MappedVdso` maps: the data memfd (either
/// view), read-only data pages or the read-execute image.
///
/// "Unmapped" cannot be asserted as "nothing there": the harness's other threads map their stacks,
/// guard pages and malloc arenas at any moment, and the kernel hands them the addresses a dropped
/// mapping just freed (CI saw a thread's `rw-p` land on a freed writer's view). Those are always
/// private `rw-p` or `---p` and never our memfd, so anything else at the address is ours.
fn still_ours(addr: usize) -> Option<(String, String)> {
    mapping(addr).filter(|(perms, path)| {
        path.contains("memfd:vdso-data") || !matches!(perms.as_str(), "rw-p" | "---p")
    })
}

/// The tests of this file map and unmap in one process: serialised, so that a page another test
/// maps meanwhile cannot be mistaken for one a dropped mapping left behind.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn layouts() -> [ArchLayout; 2] {
    [ArchLayout::X86_64, ArchLayout::RISCV64]
}

#[test]
fn data_pages_are_read_only_and_the_image_read_execute() {
    let _serial = serial();
    let img = synthetic_image(ElfOptions::default());
    for layout in layouts() {
        let m = MappedVdso::map(&img, layout).unwrap();
        assert_eq!(m.image_base() as usize - m.base() as usize, layout.data_pages * PAGE_SIZE);
        assert_eq!(m.len(), (layout.data_pages + 1) * PAGE_SIZE);
        for page in 0..layout.data_pages {
            let p = perms(m.base() as usize + page * PAGE_SIZE).unwrap();
            assert!(p.starts_with("r--"), "{layout:?} data page {page}: {p}");
        }
        let p = perms(m.sysinfo_ehdr()).unwrap();
        assert!(p.starts_with("r-x"), "image: {p}");
        // The writer's view is elsewhere, read-write and shared.
        let p = perms(m.data_page_rw() as usize).unwrap();
        assert_eq!(p, "rw-s");
        assert_eq!(&m.image()[..img.len()], &img[..]);
        assert!(m.image()[img.len()..].iter().all(|&b| b == 0));
        assert_eq!(m.image_len(), img.len());
    }
}

#[test]
fn writes_through_the_writer_appear_in_the_read_view() {
    let _serial = serial();
    let img = [0xc3u8; 10];
    let m = MappedVdso::map(&img, ArchLayout::X86_64).unwrap();
    let mut w = m.writer::<X86>().unwrap();
    w.update(|vd| {
        vd[0].cycle_last = 0x1234_5678_9abc;
        vd[1].mult = 77;
        vd[0].tz_minuteswest = -60;
    });
    let r = m.reader::<X86>().unwrap();
    let snap = r.snapshot();
    assert_eq!(snap.data[0].cycle_last, 0x1234_5678_9abc);
    assert_eq!(snap.data[1].mult, 77);
    assert_eq!(snap.data[0].tz_minuteswest, -60);
    assert_eq!(snap.data[0].seq, 2, "one section: seq went 0 -> 1 -> 2");
    assert_eq!(snap.data[1].seq, 2);
    // The raw bytes where the image looks: vdso_data at page 0 + 128, cycle_last at +8.
    // SAFETY: page 0 of the mapping is readable.
    let raw = unsafe { std::ptr::read_volatile(m.base().add(128 + 8).cast::<u64>()) };
    assert_eq!(raw, 0x1234_5678_9abc);

    let m = MappedVdso::map(&img, ArchLayout::RISCV64).unwrap();
    let mut w = m.writer::<Rv>().unwrap();
    w.update(|vd| vdso_kernel_stub::update::set_hwprobe(vd, [1, 2, 3, 4, 5, 6, 7], true));
    // SAFETY: page 0 of the mapping is readable; riscv64 keeps vdso_data at byte 0.
    let raw = unsafe { std::ptr::read_volatile(m.base().add(240 + 6 * 8).cast::<u64>()) };
    assert_eq!(raw, 7);
    // SAFETY: as above.
    assert_eq!(unsafe { std::ptr::read_volatile(m.base().add(296)) }, 1);
}

#[test]
fn the_address_is_randomised() {
    let _serial = serial();
    let img = [0u8; 1];
    let bases: std::collections::BTreeSet<usize> =
        (0..8).map(|_| MappedVdso::map(&img, ArchLayout::native()).unwrap().base() as usize).collect();
    assert!(bases.len() >= 6, "{bases:x?}");
    assert!(bases.iter().all(|b| b % PAGE_SIZE == 0));
}

#[test]
fn drop_unmaps_everything() {
    let _serial = serial();
    let img = synthetic_image(ElfOptions::default());
    let m = MappedVdso::map(&img, ArchLayout::X86_64).unwrap();
    let (base, len, rw) = (m.base() as usize, m.len(), m.data_page_rw() as usize);
    assert!(perms(base).is_some() && perms(base + len - 1).is_some() && perms(rw).is_some());
    drop(m);
    for a in (base..base + len).step_by(PAGE_SIZE) {
        assert_eq!(still_ours(a), None, "page {a:#x} still mapped");
    }
    assert_eq!(still_ours(rw), None, "the writer's view is still mapped");
}

#[test]
fn writers_and_readers_keep_the_mapping_alive() {
    let _serial = serial();
    let m = MappedVdso::map(&[1u8], ArchLayout::RISCV64).unwrap();
    let base = m.base() as usize;
    let r = m.reader::<Rv>().unwrap();
    drop(m);
    assert!(perms(base).is_some());
    let _ = r.snapshot();
    drop(r);
    assert_eq!(still_ours(base), None);
}

#[test]
fn bad_requests_are_errors_not_panics() {
    let _serial = serial();
    assert!(matches!(MappedVdso::map(&[], ArchLayout::native()), Err(Error::EmptyImage)));
    let big = vec![0u8; MAX_IMAGE_SIZE + 1];
    let e = MappedVdso::map(&big, ArchLayout::native()).unwrap_err();
    assert!(matches!(e, Error::ImageTooLarge { .. }));
    assert!(e.to_string().contains("more than"), "{e}");

    let m = MappedVdso::map(&[0u8], ArchLayout::X86_64).unwrap();
    assert!(matches!(m.writer::<Rv>(), Err(Error::ArchMismatch { .. })));
    assert!(matches!(m.reader::<Rv>(), Err(Error::ArchMismatch { .. })));
    let w = m.writer::<X86>().unwrap();
    assert!(matches!(m.writer::<X86>(), Err(Error::WriterBusy)));
    drop(w);
    assert!(m.writer::<X86>().is_ok(), "the slot is free again");
    assert!(matches!(m.set_timens_offsets(&TimensOffsets::default()), Err(Error::NoTimensPage)));
    assert_eq!(m.timens_page_rw(), None);
}

#[test]
fn getcpu_mode_byte_is_x86_64_only() {
    let _serial = serial();
    let m = MappedVdso::map(&[0u8], ArchLayout::X86_64).unwrap();
    assert_eq!(m.getcpu_mode(), Some(0), "Linux's default: lsl");
    m.set_getcpu_mode(vdso_abi::x86_64::GETCPU_MODE_RDPID).unwrap();
    assert_eq!(m.getcpu_mode(), Some(1));
    let m = MappedVdso::map(&[0u8], ArchLayout::RISCV64).unwrap();
    assert_eq!(m.getcpu_mode(), None);
    assert!(matches!(m.set_getcpu_mode(1), Err(Error::Config(_))), "riscv64 has no getcpu mode byte");
}

#[test]
fn time_namespace_arrangement_puts_the_namespace_page_first() {
    let _serial = serial();
    let offsets = TimensOffsets { monotonic: Timespec::new(1000, 5), boottime: Timespec::new(-20, 0) };
    for layout in layouts() {
        let m = MappedVdso::map_with(&[0u8; 8], MapOptions::new(layout).timens(offsets)).unwrap();
        assert!(m.has_timens());
        let p = perms(m.base() as usize + layout.timens_page * PAGE_SIZE).unwrap();
        assert!(p.starts_with("r--"), "{p}");
        // Page 0: seq 1, TIMENS. The namespace slot: the real data (seq 0 until written).
        let word = |off: usize| {
            // SAFETY: inside the readable data pages.
            unsafe { std::ptr::read_volatile(m.base().add(off).cast::<u32>()) }
        };
        let d0 = layout.vdso_data_offset;
        assert_eq!((word(d0), word(d0 + 4) as i32), (1, clock_mode::TIMENS));
        let real = layout.timens_page * PAGE_SIZE + d0;
        assert_eq!((word(real), word(real + 4)), (0, 0));
    }

    // The reader follows it: MONOTONIC gets the offset, REALTIME does not.
    let m = MappedVdso::map_with(&[0u8; 8], MapOptions::new(ArchLayout::X86_64).timens(offsets)).unwrap();
    let mut w = m.writer::<X86>().unwrap();
    w.update(|vd| {
        vd[0].clock_mode = clock_mode::ARCH;
        vd[0].mask = u64::MAX;
        vd[0].mult = 1;
        // SAFETY (union): plain integers.
        let b = unsafe { &mut vd[0].bases.basetime };
        b[clock::MONOTONIC as usize] = vdso_abi::VdsoTimestamp { sec: 50, nsec: 7 };
        b[clock::REALTIME as usize] = vdso_abi::VdsoTimestamp { sec: 60, nsec: 0 };
    });
    let r = m.reader::<X86>().unwrap();
    assert_eq!(r.clock_gettime(clock::MONOTONIC, || 0), Some(Timespec::new(1050, 12)));
    assert_eq!(r.clock_gettime(clock::REALTIME, || 0), Some(Timespec::new(60, 0)));
    assert!(r.snapshot().timens.is_some());
    // Offsets can be rewritten (as for a test), and the reader sees the new ones.
    m.set_timens_offsets(&TimensOffsets::default()).unwrap();
    assert_eq!(r.clock_gettime(clock::MONOTONIC, || 0), Some(Timespec::new(50, 7)));
}

#[test]
fn a_live_writer_blocks_handing_over_the_reader_view() {
    let _serial = serial();
    let m = MappedVdso::map(&[0u8], ArchLayout::X86_64).unwrap();
    let _w = m.writer::<X86>().unwrap();
    assert!(matches!(m.into_reader_only(), Err(Error::StillShared)));
}

#[test]
fn handing_over_the_reader_view_unmaps_the_writer_view_and_keeps_the_region() {
    let _serial = serial();
    let img = synthetic_image(ElfOptions::default());
    let m = MappedVdso::map(&img, ArchLayout::X86_64).unwrap();
    let (base, len, rw) = (m.base() as usize, m.len(), m.data_page_rw() as usize);
    assert_eq!(m.into_reader_only().unwrap(), (base, len));
    assert_eq!(perms(base).as_deref(), Some("r--s"), "data pages stay mapped read-only");
    assert_eq!(perms(base + len - 1).as_deref(), Some("r-xp"), "the image stays mapped");
    assert_eq!(still_ours(rw), None, "the writer's view is gone");
    // SAFETY: the region was handed over to this test, which releases it.
    unsafe { rustix::mm::munmap(base as *mut _, len).unwrap() };
}
