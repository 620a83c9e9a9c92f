//! loongarch64's 4 KiB-page image, run where it can be: qemu-loongarch64 guests have 16 KiB
//! pages, so a mapping of 4 KiB pages cannot be made page by page there (and `kernel-stub`
//! refuses the 4 KiB layout on such a host). Its three 4 KiB data pages and its two-page image
//! (getrandom took it past one page) fit a 32 KiB mapping, laid out as a 4 KiB-page kernel maps them
//! (NOTES.md "loongarch64"): `[data | timens | per-CPU | image]`, made read+write+execute for
//! the test alone. The page is filled by hand (seqlock even, counter mode, known bases) and every
//! export is called through the offsets of the embedded 4 KiB image's own symbol table: COARSE
//! clocks, `clock_getres`, `gettimeofday`'s time zone and `getcpu`'s node exactly, the HRES clocks
//! between the references of two counter reads taken around the call (qemu-user cannot trap
//! `rdtime.d`). A control places the data one 4 KiB page off, where the image must not find it.
//!
//! Only as loongarch64 binaries: the image is loongarch64 code; the x86_64 run checks the 4 KiB
//! row's ELF facts (tests/variants.rs, image_elf_shape.rs).
#![cfg(target_arch = "loongarch64")]

use linux_vdso::abi::loongarch64::{ArchData, PCPU_PAGE};
use linux_vdso::abi::{clock, clock_mode, VdsoData, VdsoTimestamp};
use linux_vdso::{Arch, Image, Profile};
use vdso_kernel_stub::counter::read_counter;

type Ts = libc::timespec;
type ClockFn = unsafe extern "C" fn(i32, *mut Ts) -> i32;
type TodFn = unsafe extern "C" fn(*mut libc::timeval, *mut [i32; 2]) -> i32;
type CpuFn = unsafe extern "C" fn(*mut u32, *mut u32, *mut u8) -> i32;

const SMALL_PAGE: usize = 4096;
const BASE_SEC: u64 = 1_700_000_000;

/// One anonymous mapping (whole 16 KiB host pages) holding the 4 KiB image's data pages and the image.
struct Region {
    base: *mut u8,
    len: usize,
    image: Image,
}

impl Region {
    /// The image copied after its three 4 KiB data pages.
    fn new() -> Region {
        let image = Image::find(Arch::Loongarch64, Profile::Classic, SMALL_PAGE).expect("the 4 KiB row");
        // SAFETY: sysconf has no preconditions.
        let host = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let len = (image.data_pages() + image.pages()) * SMALL_PAGE;
        assert_eq!(host, 16384, "qemu-loongarch64 guests have 16 KiB pages");
        // Whole host pages: two since getrandom made the image two 4 KiB pages.
        let map_len = len.next_multiple_of(host);
        assert!(map_len <= 2 * host, "data pages and image fit two host pages: {len}");
        // SAFETY: a fresh anonymous mapping at an address the kernel picks; nothing is replaced.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        let base = base.cast::<u8>();
        let at = image.data_pages() * SMALL_PAGE;
        // SAFETY: the image's loaded bytes fit the mapping after `at` (checked above).
        unsafe { std::ptr::copy_nonoverlapping(image.bytes().as_ptr(), base.add(at), image.load_size()) };
        Region { base, len: map_len, image }
    }

    fn func<T: Copy>(&self, name: &str) -> T {
        let sym = self.image.symbol(name).unwrap_or_else(|| panic!("{name}"));
        let addr = self.base as usize + self.image.data_pages() * SMALL_PAGE + sym.offset as usize;
        assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<usize>());
        // SAFETY: `T` is the function pointer type of the export's C prototype.
        unsafe { std::mem::transmute_copy(&addr) }
    }

    /// Fills the data pages as a 4 KiB-page kernel would: counter mode, 1 ns per tick from
    /// `last`, known bases, a time zone, CPU 0's node (qemu-user's `CSR.TID` is 0). `page` is
    /// where the `vdso_data` pair goes: 0 as the layout says, another page for the control.
    fn fill(&self, last: u64, page: usize) {
        let pair = self.base.wrapping_add(page * SMALL_PAGE).cast::<[VdsoData<ArchData>; 2]>();
        // SAFETY: page 0 of the region, writable, 8-aligned; nothing reads it concurrently.
        let pair = unsafe { &mut *pair };
        for vd in pair.iter_mut() {
            vd.seq = 2;
            vd.clock_mode = clock_mode::ARCH;
            vd.cycle_last = last;
            vd.mask = u64::MAX;
            vd.mult = 1;
            vd.shift = 0;
        }
        let set = |vd: &mut VdsoData<ArchData>, id: i32, sec: u64, nsec: u64| {
            // SAFETY: `basetime` is the active member of a data page; plain integers.
            unsafe { vd.bases.basetime[id as usize] = VdsoTimestamp { sec, nsec } };
        };
        set(&mut pair[0], clock::REALTIME, BASE_SEC, 100);
        set(&mut pair[0], clock::MONOTONIC, 5_000, 200);
        set(&mut pair[0], clock::REALTIME_COARSE, BASE_SEC - 1, 999_999_999);
        set(&mut pair[0], clock::MONOTONIC_COARSE, 4_999, 123);
        pair[0].hrtimer_res = 1;
        pair[0].tz_minuteswest = -60;
        pair[0].tz_dsttime = 1;
        let node0 = self.base.wrapping_add(PCPU_PAGE * SMALL_PAGE).cast::<u32>();
        // SAFETY: CPU 0's slot of the per-CPU page, inside the region.
        unsafe { node0.write(42) };
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the mapping made by `new`, no longer used.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

fn ts() -> Ts {
    Ts { tv_sec: -1, tv_nsec: -1 }
}

#[test]
fn the_4k_image_serves_every_export_from_three_4k_data_pages_before_it() {
    let r = Region::new();
    let last = read_counter();
    r.fill(last, 0);
    let gettime: ClockFn = r.func("__vdso_clock_gettime");
    let getres: ClockFn = r.func("__vdso_clock_getres");
    let tod: TodFn = r.func("__vdso_gettimeofday");
    let getcpu: CpuFn = r.func("__vdso_getcpu");
    // SAFETY (every call): the exports of the copied image, with their C prototypes and valid
    // pointers; its data pages are the region's first three 4 KiB.
    unsafe {
        let mut t = ts();
        assert_eq!(gettime(clock::REALTIME_COARSE, &mut t), 0);
        assert_eq!((t.tv_sec, t.tv_nsec), ((BASE_SEC - 1) as i64, 999_999_999));
        assert_eq!(gettime(clock::MONOTONIC_COARSE, &mut t), 0);
        assert_eq!((t.tv_sec, t.tv_nsec), (4_999, 123));
        assert_eq!(getres(clock::MONOTONIC, &mut t), 0);
        assert_eq!((t.tv_sec, t.tv_nsec), (0, 1));
        for (id, sec, nsec) in [(clock::REALTIME, BASE_SEC, 100u64), (clock::MONOTONIC, 5_000, 200)] {
            let c0 = read_counter();
            assert_eq!(gettime(id, &mut t), 0);
            let c1 = read_counter();
            // 1 ns per tick: base + (counter - last) ns, within the two readings.
            let at = |c: u64| (sec as i128) * 1_000_000_000 + (nsec + (c - last)) as i128;
            let got = t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128;
            assert!(at(c0) <= got && got <= at(c1), "clock {id}: {got} not in [{}, {}]", at(c0), at(c1));
        }
        let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
        let mut tz = [0i32; 2];
        assert_eq!(tod(&mut tv, &mut tz), 0);
        assert_eq!(tz, [-60, 1]);
        assert_eq!(tv.tv_sec, BASE_SEC as i64);
        let (mut cpu, mut node) = (u32::MAX, u32::MAX);
        assert_eq!(getcpu(&mut cpu, &mut node, std::ptr::null_mut()), 0);
        assert_eq!((cpu, node), (0, 42));
    }
}

#[test]
fn control_data_one_4k_page_off_is_not_what_the_image_reads() {
    // The same fill one 4 KiB page later (where a 4 KiB kernel puts the namespace slot): the
    // image reads page 0, which is zero, so its COARSE clock is not the filled one.
    let r = Region::new();
    r.fill(read_counter(), 1);
    let gettime: ClockFn = r.func("__vdso_clock_gettime");
    let mut t = ts();
    // SAFETY: as above; page 0 is all zeroes (clock mode NONE does not matter to COARSE
    // clocks, which read its zero bases).
    let rc = unsafe { gettime(clock::MONOTONIC_COARSE, &mut t) };
    assert_eq!(rc, 0);
    assert_ne!((t.tv_sec, t.tv_nsec), (4_999, 123), "the misplaced image found the data");
}
