//! Mapping `[data pages | image]` in this process: permissions, the two views, randomisation,
//! time-namespace arrangement, unmapping, errors.
//!
//! Not run as loongarch64 binaries: these tests map the x86_64 and riscv64 layouts, whose 4 KiB
//! pages a qemu-loongarch64 guest (16 KiB pages) refuses (`Error::PageSize`); the loongarch64
//! layout is mapped there by `pcpu_page.rs` and the harness's tests (tests/getcpu.rs, the clock
//! tests).
#![cfg(not(target_arch = "loongarch64"))]

mod common;

use common::{synthetic_image_for, ElfOptions};
use vdso_abi::{clock, clock_mode};
use vdso_kernel_stub::mapping::{note_only_image, MAX_IMAGE_SIZE};
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

/// The page size of the mappings these tests make: the native default image's, which every
/// mapping here must have (see `a_page_size_other_than_the_hosts_is_refused`).
fn page_size() -> usize {
    ArchLayout::native().page_size
}

#[test]
fn data_pages_are_read_only_and_the_image_read_execute() {
    let _serial = serial();
    for layout in layouts() {
        let img = synthetic_image_for(ElfOptions::default(), layout);
        let m = MappedVdso::map(&img, layout).unwrap();
        assert_eq!(m.image_base() as usize - m.base() as usize, layout.data_pages * layout.page_size);
        assert_eq!(m.len(), (layout.data_pages + 1) * layout.page_size);
        for page in 0..layout.data_pages {
            let p = perms(m.base() as usize + page * layout.page_size).unwrap();
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
    let m = MappedVdso::map(&note_only_image(ArchLayout::X86_64), ArchLayout::X86_64).unwrap();
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

    let m = MappedVdso::map(&note_only_image(ArchLayout::RISCV64), ArchLayout::RISCV64).unwrap();
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
    let img = note_only_image(ArchLayout::native());
    let bases: std::collections::BTreeSet<usize> =
        (0..8).map(|_| MappedVdso::map(&img, ArchLayout::native()).unwrap().base() as usize).collect();
    assert!(bases.len() >= 6, "{bases:x?}");
    assert!(bases.iter().all(|b| b % page_size() == 0));
}

#[test]
fn drop_unmaps_everything() {
    let _serial = serial();
    let img = synthetic_image_for(ElfOptions::default(), ArchLayout::X86_64);
    let m = MappedVdso::map(&img, ArchLayout::X86_64).unwrap();
    let (base, len, rw) = (m.base() as usize, m.len(), m.data_page_rw() as usize);
    assert!(perms(base).is_some() && perms(base + len - 1).is_some() && perms(rw).is_some());
    drop(m);
    for a in (base..base + len).step_by(page_size()) {
        assert_eq!(still_ours(a), None, "page {a:#x} still mapped");
    }
    assert_eq!(still_ours(rw), None, "the writer's view is still mapped");
}

#[test]
fn writers_and_readers_keep_the_mapping_alive() {
    let _serial = serial();
    let m = MappedVdso::map(&note_only_image(ArchLayout::RISCV64), ArchLayout::RISCV64).unwrap();
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

    let m = MappedVdso::map(&note_only_image(ArchLayout::X86_64), ArchLayout::X86_64).unwrap();
    assert!(matches!(m.writer::<Rv>(), Err(Error::ArchMismatch { .. })));
    assert!(matches!(m.reader::<Rv>(), Err(Error::ArchMismatch { .. })));
    let w = m.writer::<X86>().unwrap();
    assert!(matches!(m.writer::<X86>(), Err(Error::WriterBusy)));
    drop(w);
    assert!(m.writer::<X86>().is_ok(), "the slot is free again");
    assert!(matches!(m.set_timens_offsets(&TimensOffsets::default()), Err(Error::NoTimensPage)));
    assert_eq!(m.timens_page_rw(), None);
}

/// An image laid out for another page size than this address space's would put every data page
/// and the image at the wrong offsets: refused before anything is mapped, naming both sizes.
#[test]
fn a_page_size_other_than_the_hosts_is_refused() {
    let _serial = serial();
    let host = rustix::param::page_size();
    assert_eq!(ArchLayout::native().page_size, host, "the default image matches this host");
    for layout in layouts() {
        let other = if host == 16384 { 4096 } else { 16384 };
        let layout = layout.with_page_size(other).unwrap();
        // The image says the same page size, so only the host check can refuse it.
        let img = note_only_image(layout);
        assert_eq!(layout.check_image(&img).map(|n| n.page_size as usize), Ok(other));
        let Err(e) = MappedVdso::map(&img, layout) else { panic!("{layout:?}: mapped") };
        assert!(matches!(e, Error::PageSize { layout: l, host: h } if l == other && h == host), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("{other}-byte pages")) && msg.contains(&format!("{host}-byte")),
            "{msg}"
        );
    }
}

#[test]
fn getcpu_mode_byte_is_x86_64_only() {
    let _serial = serial();
    let m = MappedVdso::map(&note_only_image(ArchLayout::X86_64), ArchLayout::X86_64).unwrap();
    assert_eq!(m.getcpu_mode(), Some(0), "Linux's default: lsl");
    m.set_getcpu_mode(vdso_abi::x86_64::GETCPU_MODE_RDPID).unwrap();
    assert_eq!(m.getcpu_mode(), Some(1));
    let m = MappedVdso::map(&note_only_image(ArchLayout::RISCV64), ArchLayout::RISCV64).unwrap();
    assert_eq!(m.getcpu_mode(), None);
    assert!(matches!(m.set_getcpu_mode(1), Err(Error::Config(_))), "riscv64 has no getcpu mode byte");
}

#[test]
fn time_namespace_arrangement_puts_the_namespace_page_first() {
    let _serial = serial();
    let offsets = TimensOffsets { monotonic: Timespec::new(1000, 5), boottime: Timespec::new(-20, 0) };
    for layout in layouts() {
        let m =
            MappedVdso::map_with(&note_only_image(layout), MapOptions::new(layout).timens(offsets)).unwrap();
        assert!(m.has_timens());
        let p = perms(m.base() as usize + layout.timens_page * layout.page_size).unwrap();
        assert!(p.starts_with("r--"), "{p}");
        // Page 0: seq 1, TIMENS. The namespace slot: the real data (seq 0 until written).
        let word = |off: usize| {
            // SAFETY: inside the readable data pages.
            unsafe { std::ptr::read_volatile(m.base().add(off).cast::<u32>()) }
        };
        let d0 = layout.vdso_data_offset;
        assert_eq!((word(d0), word(d0 + 4) as i32), (1, clock_mode::TIMENS));
        let real = layout.timens_page * layout.page_size + d0;
        assert_eq!((word(real), word(real + 4)), (0, 0));
    }

    // The reader follows it: MONOTONIC gets the offset, REALTIME does not.
    let m = MappedVdso::map_with(
        &note_only_image(ArchLayout::X86_64),
        MapOptions::new(ArchLayout::X86_64).timens(offsets),
    )
    .unwrap();
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
    let m = MappedVdso::map(&note_only_image(ArchLayout::X86_64), ArchLayout::X86_64).unwrap();
    let _w = m.writer::<X86>().unwrap();
    assert!(matches!(m.into_reader_only(), Err(Error::StillShared)));
}

#[test]
fn handing_over_the_reader_view_unmaps_the_writer_view_and_keeps_the_region() {
    let _serial = serial();
    let img = synthetic_image_for(ElfOptions::default(), ArchLayout::X86_64);
    let m = MappedVdso::map(&img, ArchLayout::X86_64).unwrap();
    let (base, len, rw) = (m.base() as usize, m.len(), m.data_page_rw() as usize);
    assert_eq!(m.into_reader_only().unwrap(), (base, len));
    assert_eq!(perms(base).as_deref(), Some("r--s"), "data pages stay mapped read-only");
    assert_eq!(perms(base + len - 1).as_deref(), Some("r-xp"), "the image stays mapped");
    assert_eq!(still_ours(rw), None, "the writer's view is gone");
    // SAFETY: the region was handed over to this test, which releases it.
    unsafe { rustix::mm::munmap(base as *mut _, len).unwrap() };
}

/// `mprotect(PROT_READ | PROT_WRITE)` of the page at `addr`: `Err(errno)` if refused.
fn make_writable(addr: usize) -> Result<(), rustix::io::Errno> {
    // SAFETY: only asks to change the protection of one page of a mapping this test owns; on
    // success (the defect this guards against) the page merely becomes writable.
    unsafe {
        rustix::mm::mprotect(
            addr as *mut _,
            page_size(),
            rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::WRITE,
        )
    }
}

/// Every data page of every reader view refuses write access with `EACCES`, as Linux's
/// `[vvar]` does: plain and namespace arrangements, both layouts, and after the hand-over.
#[test]
fn no_data_page_can_be_made_writable_by_the_reader() {
    let _serial = serial();
    let offsets = TimensOffsets { monotonic: Timespec::new(5, 0), boottime: Timespec::new(6, 0) };
    for layout in layouts() {
        let img = note_only_image(layout);
        for options in [MapOptions::new(layout), MapOptions::new(layout).timens(offsets)] {
            let m = MappedVdso::map_with(&img, options).unwrap();
            for page in 0..layout.data_pages {
                let at = m.base() as usize + page * layout.page_size;
                assert_eq!(
                    make_writable(at),
                    Err(rustix::io::Errno::ACCESS),
                    "{layout:?} timens={} data page {page}",
                    options.timens.is_some()
                );
                assert!(perms(at).unwrap().starts_with("r--"), "still read-only");
            }
            // The writer's own view still works, and the reader sees what it writes.
            m.writer::<X86>().map(|mut w| w.update(|vd| vd[0].mult = 99)).ok();
            m.writer::<Rv>().map(|mut w| w.update(|vd| vd[0].mult = 99)).ok();
            let real = if options.timens.is_some() { layout.timens_page } else { layout.vvar_page };
            let mult_at = real * layout.page_size + layout.vdso_data_offset + 24;
            // SAFETY: inside the readable data pages.
            assert_eq!(unsafe { std::ptr::read_volatile(m.base().add(mult_at).cast::<u32>()) }, 99);
            let (base, len) = m.into_reader_only().unwrap();
            for page in 0..layout.data_pages {
                let at = base + page * layout.page_size;
                assert_eq!(make_writable(at), Err(rustix::io::Errno::ACCESS), "handed over, page {page}");
            }
            // SAFETY: the region was handed over to this test, which releases it.
            unsafe { rustix::mm::munmap(base as *mut _, len).unwrap() };
        }
    }
}

/// Nor can the reader write the page through `/proc/self/mem` (a forced write to a shared,
/// read-only mapping), nor map the memfd writable again through `/proc/self/fd`.
#[test]
fn the_data_page_cannot_be_written_by_other_routes() {
    let _serial = serial();
    let layout = ArchLayout::native();
    let m = MappedVdso::map(&note_only_image(layout), layout).unwrap();
    let page0 = m.base() as usize + layout.vvar_page * layout.page_size;
    if cfg!(target_arch = "x86_64") {
        // Under qemu-user a guest address is not the host's, and qemu emulates /proc/self/mem
        // differently, so this part runs natively only.
        use std::os::unix::fs::FileExt;
        let mem = std::fs::OpenOptions::new().write(true).open("/proc/self/mem").unwrap();
        assert!(mem.write_at(&[0xff; 8], page0 as u64).is_err(), "write through /proc/self/mem");
    }
    // The memfd, opened again by path, refuses a writable shared mapping and `write(2)`.
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(maps.contains("memfd:vdso-data"), "{maps}");
    let fds: Vec<_> = std::fs::read_dir("/proc/self/fd").unwrap().flatten().collect();
    let memfd = fds
        .iter()
        .find(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().contains("memfd:vdso-data")))
        .expect("the data memfd is open while the mapping lives");
    let f = std::fs::OpenOptions::new().read(true).write(true).open(memfd.path()).expect("reopen the memfd");
    use std::os::unix::fs::FileExt;
    assert!(f.write_at(&[1], 0).is_err(), "write(2) to the sealed memfd");
    // SAFETY: asks for a fresh shared mapping at an address the kernel picks (replacing
    // nothing); the sealed memfd must refuse it.
    let r = unsafe {
        rustix::mm::mmap(
            std::ptr::null_mut(),
            page_size(),
            rustix::mm::ProtFlags::READ | rustix::mm::ProtFlags::WRITE,
            rustix::mm::MapFlags::SHARED,
            &f,
            0,
        )
    };
    assert_eq!(r.err(), Some(rustix::io::Errno::PERM), "a new writable mapping of the memfd");
    drop(m);
}

/// Images a layout cannot map are refused before anything is mapped, each with its reason.
#[test]
fn images_of_another_layout_or_no_image_at_all_are_refused() {
    let _serial = serial();
    use vdso_kernel_stub::ImageError;
    for layout in layouts() {
        let other = if layout == ArchLayout::X86_64 { ArchLayout::RISCV64 } else { ArchLayout::X86_64 };
        let refuse = |img: &[u8]| match MappedVdso::map(img, layout) {
            Err(Error::Image(e)) => e,
            other => panic!("{layout:?}: expected an image error, got {other:?}"),
        };
        assert_eq!(refuse(b"not an ELF file at all"), ImageError::NotElf);
        assert_eq!(refuse(&[0x7f, b'E', b'L', b'F']), ImageError::NotElf, "truncated header");
        let mut elf32 = note_only_image(layout);
        elf32[4] = 1;
        assert_eq!(refuse(&elf32), ImageError::NotElf, "ELFCLASS32");
        // The other architecture's image (its machine, and its note).
        let e = refuse(&note_only_image(other));
        assert_eq!(
            e,
            ImageError::WrongMachine { expected: layout.elf_machine(), found: other.elf_machine() }
        );
        // This machine, the other layout's note.
        let mut img = note_only_image(other);
        img[18..20].copy_from_slice(&layout.elf_machine().to_le_bytes());
        assert!(matches!(refuse(&img), ImageError::LayoutMismatch(n) if n == other.note(250)));
        // No note: the PT_NOTE becomes PT_NULL; or the note's owner is someone else's.
        let good = note_only_image(layout);
        let mut img = good.clone();
        img[64..68].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(refuse(&img), ImageError::NoLayoutNote);
        let mut img = good.clone();
        img[120 + 12] = b'X';
        assert_eq!(refuse(&img), ImageError::NoLayoutNote);
        // A note segment pointing outside the image.
        let mut img = good.clone();
        img[64 + 8..64 + 16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(refuse(&img), ImageError::NoLayoutNote);
        // Each field of the note: revision, data pages, vdso_data offset and size, hwprobe keys.
        for word in 0..5 {
            let mut img = good.clone();
            let at = 120 + 20 + 4 * word;
            img[at] ^= 0x40;
            assert!(matches!(refuse(&img), ImageError::LayoutMismatch(_)), "{layout:?} note word {word}");
        }
        // The tick rate is the image's own business.
        let mut img = good.clone();
        img[120 + 20 + 20..120 + 20 + 24].copy_from_slice(&1000u32.to_le_bytes());
        assert!(MappedVdso::map(&img, layout).is_ok());
        assert!(MappedVdso::map(&good, layout).is_ok());
        let msg = Error::Image(ImageError::NoLayoutNote).to_string();
        assert!(msg.contains("layout note"), "{msg}");
    }
}

/// Only loongarch64's layout has a per-CPU page (`pcpu_page.rs` maps it under qemu-loongarch64):
/// on any other, `set_cpu_node` is refused and nothing is written.
#[test]
fn a_layout_without_a_per_cpu_page_refuses_cpu_nodes() {
    let _serial = serial();
    for layout in layouts() {
        let m = MappedVdso::map(&note_only_image(layout), layout).unwrap();
        assert!(m.pcpu_page_rw().is_none());
        assert!(matches!(m.set_cpu_node(0, 1), Err(Error::NoPcpuPage { .. })), "{layout:?}");
    }
}

/// The modern profile's own pages for the RNG data and riscv64's hwprobe answers: the
/// `TimePageWriter` writes them through the writer's view and the image (the reader's view)
/// sees it at the pages the layout names; a layout without an arch page for hwprobe answers
/// refuses `set_hwprobe` with an error.
#[test]
fn modern_rng_and_hwprobe_pages_are_written_through_the_time_page_writer() {
    use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
    let arch = ArchLayout::native().arch;
    let page_size = rustix::param::page_size();
    let modern = vdso_kernel_stub::Variant::of_arch(arch)
        .find(|v| v.profile == vdso_kernel_stub::Profile::Modern && v.page_size == page_size)
        .expect("a modern row for the native arch");
    let layout = ArchLayout::of_variant(modern);
    for timens in [None, Some(TimensOffsets::default())] {
        let mut options = MapOptions::new(layout);
        if let Some(o) = timens {
            options = options.timens(o);
        }
        let m = MappedVdso::map_with(&note_only_image(layout), options).unwrap();
        let read_u64 = |offset: usize| {
            // SAFETY: a u64 inside the mapped (readable) data pages, 8-aligned, written atomically.
            unsafe { AtomicU64::from_ptr(m.data_base().add(offset) as *mut u64).load(Ordering::Acquire) }
        };
        let mut w = m.time_page_writer().unwrap();
        let rng = layout.rng_page().expect("the modern row has getrandom");
        assert_eq!(Some(rng * page_size), layout.rng_data_in_mapping());
        let generation = w.rng().expect("an RNG writer").publish_ready_generation();
        assert_ne!(generation, 0);
        assert_eq!(read_u64(rng * page_size), generation, "the RNG page holds the generation");
        // SAFETY: `is_ready`, one byte of the mapped RNG page.
        let ready = unsafe { AtomicU8::from_ptr(m.data_base().add(rng * page_size + 8) as *mut u8) }
            .load(Ordering::Acquire);
        assert_eq!(ready, 1);
        let values: Vec<u64> = (1..=layout.hwprobe_keys as u64).map(|k| k * 0x101).collect();
        match layout.hwprobe_page() {
            Some(p) => {
                w.set_hwprobe(&values, true).unwrap();
                for (k, v) in values.iter().enumerate() {
                    assert_eq!(read_u64(p * page_size + 8 * k), *v, "hwprobe key {k}");
                }
                // SAFETY: `homogeneous_cpus`, one byte of the mapped arch page.
                let homogeneous = unsafe {
                    AtomicU8::from_ptr(m.data_base().add(p * page_size + 8 * layout.hwprobe_keys) as *mut u8)
                }
                .load(Ordering::Acquire);
                assert_eq!(homogeneous, 1);
                assert_ne!(Some(p), Some(rng));
            }
            None => assert!(w.set_hwprobe(&values, true).is_err(), "{arch:?} has no hwprobe page"),
        }
    }
}
