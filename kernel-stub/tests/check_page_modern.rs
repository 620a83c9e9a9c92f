//! `check_pages` on the modern profile (Linux 6.15+'s `vdso_time_data`, RNG page): a time page
//! published from the same `Timekeeper` passes; the RNG rule, a moved `hrtimer_res` and an
//! unwritten base are each named (the field offsets follow x86_64's `max_cycles`). Runs for every
//! architecture with a modern row: x86_64 natively, aarch64, riscv64 and loongarch64 (16 KiB
//! pages, its default row's) under qemu.

use std::ptr::NonNull;

use vdso_abi::modern::{self, native::TimeData};
use vdso_abi::{clock, Arch, Profile, Variant};
use vdso_kernel_stub::check::{check_pages, CheckOptions, Finding};
use vdso_kernel_stub::modern::publish_time_data;
use vdso_kernel_stub::update::{ClockConfig, Times};
use vdso_kernel_stub::{clocks_calc_mult_shift, ArchLayout, Timekeeper, Timespec};

/// 64-byte aligned chunks: `vdso_time_data` is cache-line aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Chunk([u8; 64]);

struct Pages {
    layout: ArchLayout,
    chunks: Vec<Chunk>,
}

impl Pages {
    fn new(layout: ArchLayout) -> Pages {
        Pages { layout, chunks: vec![Chunk([0; 64]); layout.data_pages * layout.page_size / 64] }
    }
    fn bytes(&self) -> &[u8] {
        // SAFETY: the chunks viewed as their bytes, shared borrow.
        unsafe { std::slice::from_raw_parts(self.chunks.as_ptr().cast(), self.chunks.len() * 64) }
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as `bytes`, exclusively borrowed.
        unsafe { std::slice::from_raw_parts_mut(self.chunks.as_mut_ptr().cast(), self.chunks.len() * 64) }
    }
    fn publish(&mut self, tk: &Timekeeper) {
        let at = self.layout.vvar_page * self.layout.page_size + self.layout.vdso_data_offset;
        let page = NonNull::new(self.bytes_mut()[at..].as_mut_ptr().cast::<TimeData>()).unwrap();
        // SAFETY: the time page lies inside the buffer (asserted by the table), 64-aligned (page
        // start in 64-byte chunks), and nothing else writes it.
        unsafe { publish_time_data(page, tk.snapshot()) }.unwrap();
    }
    fn check(&self, opts: &CheckOptions<'_>) -> Vec<Finding> {
        check_pages(&self.layout, self.bytes(), opts).unwrap().iter().copied().collect()
    }
}

fn timekeeper(cycles: u64) -> Timekeeper {
    let (mult, shift) = clocks_calc_mult_shift(100_000_000, 1_000_000_000, 600);
    let times = Times {
        monotonic: Timespec::new(100, 5),
        realtime: Timespec::new(1_700_000_000, 7),
        boot_offset: Timespec::new(1, 0),
        tai_offset: Timespec::new(37, 0),
        raw: Timespec::new(99, 0),
    };
    let mut tk = Timekeeper::new(ClockConfig { mult, shift, mask: u64::MAX }, 1000, &times).unwrap();
    tk.advance(cycles);
    tk
}

/// The native modern row's layout, or `None` (with the reason printed) where there is none.
fn layout() -> Option<ArchLayout> {
    let arch = Arch::native()?;
    match Variant::find(arch, Profile::Modern, Variant::default_for(arch).page_size) {
        Some(v) => Some(ArchLayout::of_variant(v)),
        None => {
            eprintln!("skipped: {arch:?} has no modern-profile row (docs/abi.md)");
            None
        }
    }
}

#[test]
fn a_time_page_from_the_timekeeper_passes_and_each_mistake_is_named() {
    let Some(l) = layout() else { return };
    let mut p = Pages::new(l);
    let tk = timekeeper(5000);
    p.publish(&tk);
    let mut later = Pages::new(l);
    later.publish(&timekeeper(9000));
    later.publish(&timekeeper(9000));
    let opts = CheckOptions { counter: Some(5001), later: Some(later.bytes()), timens: false };
    assert_eq!(p.check(&opts), []);

    // The RNG page: ready with generation 0 is named; a generation, or not ready, passes.
    let rng = modern::page::RNG * l.page_size;
    p.bytes_mut()[rng + modern::RNG_IS_READY] = 1;
    assert_eq!(p.check(&CheckOptions::default()), [Finding::RngGenerationZero { is_ready: 1 }]);
    p.bytes_mut()[rng] = 3;
    assert_eq!(p.check(&CheckOptions::default()), []);

    // hrtimer_res is once per time page, at the row's offset.
    let m = modern::of(l.arch);
    let res = l.vvar_page * l.page_size + m.hrtimer_res_offset;
    p.bytes_mut()[res..res + 4].fill(0);
    assert_eq!(p.check(&CheckOptions::default()), [Finding::HrtimerResZero { next_word: 0 }]);
    p.bytes_mut()[res] = 1;

    // basetime[TAI] after `max_cycles` where the row has it (x86_64: 8 bytes further on).
    let bases = vdso_abi::offsets::BASETIME + if m.max_cycles { 8 } else { 0 };
    let tai = l.vvar_page * l.page_size + l.vdso_data_offset + bases + 16 * clock::TAI as usize;
    p.bytes_mut()[tai..tai + 16].fill(0);
    assert_eq!(p.check(&CheckOptions::default()), [Finding::BaseUnwritten { index: 0, clock: clock::TAI }]);
}
