//! Data pages in test memory, laid out as the kernel maps them for the native architecture and
//! the profile the crate is built for (classic, or `--features modern`).

use vdso_abi::rng::VdsoRngData;
use vdso_abi::{clock_mode, VdsoTimestamp};

use crate::data::{Clock as VdsoData, DATA_PAGES, TIMENS_PAGE, VDSO_DATA_OFFSET};

use crate::arch;
use crate::variant::PAGE_SIZE;

#[repr(C, align(4096))]
struct Pages([u8; DATA_PAGES * PAGE_SIZE]);

/// The data pages, installed as the pages the code under test reads.
pub struct TestPages(Box<Pages>);

impl TestPages {
    /// Zeroed pages, made current for this thread.
    pub fn new() -> TestPages {
        let pages = TestPages(Box::new(Pages([0; DATA_PAGES * PAGE_SIZE])));
        arch::set_page(pages.0 .0.as_ptr());
        arch::set_counter(0);
        arch::take_counter_reads();
        arch::take_syscall();
        arch::set_syscall_result(0);
        arch::take_getrandom_calls();
        arch::set_getrandom_fill(0);
        arch::set_getrandom_fails(false);
        arch::set_getrandom_hook(None);
        pages
    }

    #[allow(dead_code)] // the getrandom tests' (not on an arch without getrandom)
    fn rng_at(&mut self, page: usize) -> &mut VdsoRngData {
        use crate::data::{RNG_DATA_OFFSET, RNG_FOLLOWS_TIMENS};
        // Classic: on the data page (page 0 or the namespace slot); modern: its own page.
        let at = if RNG_FOLLOWS_TIMENS { page * PAGE_SIZE + RNG_DATA_OFFSET } else { RNG_DATA_OFFSET };
        let p = self.0 .0.as_mut_ptr().wrapping_add(at);
        // SAFETY: in bounds and 8-aligned (asserted by the abi crate's tables), exclusively
        // borrowed through `self`.
        unsafe { &mut *p.cast::<VdsoRngData>() }
    }

    /// `vdso_rng_data` of page 0.
    #[allow(dead_code)] // the getrandom tests' (not on an arch without getrandom)
    pub fn rng(&mut self) -> &mut VdsoRngData {
        self.rng_at(0)
    }

    /// `vdso_rng_data` of the time-namespace slot (the real page for a task in a namespace).
    #[allow(dead_code)] // the getrandom tests' (not on an arch without getrandom)
    pub fn timens_rng(&mut self) -> &mut VdsoRngData {
        self.rng_at(TIMENS_PAGE)
    }

    /// Address of page 0's `vdso_rng_data.generation`, for a hook that plays the kernel.
    #[allow(dead_code)] // the getrandom tests' (not on an arch without getrandom)
    pub fn rng_generation_ptr(&mut self) -> *mut u64 {
        &raw mut self.rng().generation
    }

    fn pair_at(&mut self, page: usize) -> &mut [VdsoData; 2] {
        let p = self.0 .0.as_mut_ptr().wrapping_add(page * PAGE_SIZE + VDSO_DATA_OFFSET);
        // SAFETY: in bounds (asserted by the abi crate: the pair fits after the offset), aligned
        // (page-aligned buffer, 8-aligned offset), and exclusively borrowed through `self`.
        unsafe { &mut *p.cast::<[VdsoData; 2]>() }
    }

    /// `vdso_data[0..2]` of page 0.
    pub fn page0(&mut self) -> &mut [VdsoData; 2] {
        self.pair_at(0)
    }

    /// `vdso_data[0..2]` of the time-namespace slot (the real page for a task in a namespace).
    pub fn timens_slot(&mut self) -> &mut [VdsoData; 2] {
        self.pair_at(TIMENS_PAGE)
    }

    /// Sets `tz` of data page `page`, wherever the profile keeps it.
    pub fn set_tz(&mut self, page: usize, minuteswest: i32, dsttime: i32) {
        let (m, d) = crate::data::tz(&raw const self.pair_at(page)[0]);
        // SAFETY: both point into the pages `self` owns exclusively.
        unsafe {
            *m.cast_mut() = minuteswest;
            *d.cast_mut() = dsttime;
        }
    }

    /// Sets `hrtimer_res` of data page `page`, wherever the profile keeps it.
    pub fn set_hrtimer_res(&mut self, page: usize, res: u32) {
        let p = crate::data::hrtimer_res(&raw const self.pair_at(page)[0]);
        // SAFETY: points into the pages `self` owns exclusively.
        unsafe { *p.cast_mut() = res };
    }

    /// riscv64's hwprobe answers the image reads when `real_page` is the real data page, wherever
    /// the profile keeps them (the end of that page's `vdso_data`; the arch page).
    #[cfg(target_arch = "riscv64")]
    pub fn hwprobe(&mut self, real_page: usize) -> &mut crate::data::HwprobeData {
        let p = self.0 .0.as_mut_ptr().wrapping_add(crate::data::hwprobe_offset(real_page));
        // SAFETY: inside the pages (the abi crate asserts the struct fits its page), aligned
        // (8-aligned offset in a page-aligned buffer), exclusively borrowed through `self`.
        unsafe { &mut *p.cast::<crate::data::HwprobeData>() }
    }

    /// Auxiliary clock `idx` of data page `page` (modern profile).
    #[cfg(feature = "modern")]
    pub fn aux(&mut self, page: usize, idx: usize) -> &mut VdsoData {
        let p = crate::data::aux_clock(&raw const self.pair_at(page)[0], idx);
        // SAFETY: inside the page (`idx < MAX_AUX_CLOCKS`, asserted by the abi crate's layout),
        // aligned, and exclusively borrowed through `self`.
        unsafe { &mut *p.cast_mut() }
    }
}

/// A counter-mode struct: 1 ns per cycle at shift 24.
pub fn counter_mode(vd: &mut VdsoData) {
    vd.clock_mode = clock_mode::ARCH;
    vd.mask = u64::MAX;
    vd.mult = 1 << 24;
    vd.shift = 24;
}

/// Sets base `clk` of `vd` (HRES form: `nsec` is shifted by the caller).
pub fn set_base(vd: &mut VdsoData, clk: i32, sec: u64, nsec: u64) {
    // SAFETY: `basetime` is the active member on a data page; plain integers.
    unsafe { vd.bases.basetime[clk as usize] = VdsoTimestamp { sec, nsec } };
}

/// Sets namespace offset `clk` of `vd`.
pub fn set_offset(vd: &mut VdsoData, clk: i32, sec: i64, nsec: u64) {
    // SAFETY: `offset` is the active member on a namespace page; plain integers.
    unsafe { vd.bases.offset[clk as usize] = vdso_abi::TimensOffset { sec, nsec } };
}
