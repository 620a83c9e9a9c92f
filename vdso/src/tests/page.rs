//! Data pages in test memory, laid out as the kernel maps them for the native architecture.

use vdso_abi::native::{VdsoData, DATA_PAGES, INFO, TIMENS_PAGE, VDSO_DATA_OFFSET};
use vdso_abi::rng::VdsoRngData;
use vdso_abi::{clock_mode, VdsoTimestamp};

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
        let offset = INFO.rng_data_offset.expect("an architecture with getrandom");
        let p = self.0 .0.as_mut_ptr().wrapping_add(page * PAGE_SIZE + offset);
        // SAFETY: in bounds and 8-aligned (asserted by the abi crate's table), exclusively
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
