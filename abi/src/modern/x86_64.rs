//! x86_64 in Linux 6.18's layout: six data pages before the image. `[vvar]` holds the time page,
//! the time-namespace slot, the RNG page and one arch page (x86_64 has no `vdso_arch_data`: the
//! page is reserved and faults if read); `[vvar_vclock]` holds the paravirtual and Hyper-V clock
//! pages. `vdso_clock` carries `max_cycles` (x86_64 selects `GENERIC_VDSO_OVERFLOW_PROTECT`).
//!
//! Checked against Linux 6.18.44's own image on this host: `__vdso_time` reads
//! `basetime[REALTIME].sec` at byte 40 of the time page, six pages before the image;
//! `__vdso_clock_getres` reads `hrtimer_res` at 2328; the RAW clock is 232 bytes on; the fast path
//! compares the delta with `max_cycles` at 16 and multiplies by `mult` at 32 (shift at 36);
//! `__vdso_getrandom` reads `is_ready` at byte 8 of the page four pages before the image.

use core::mem::{offset_of, size_of};

use super::{VdsoClock, VdsoTimeData};

/// `struct vdso_clock` on x86_64 (with `max_cycles`).
pub type Clock = VdsoClock<u64>;
/// `struct vdso_time_data` on x86_64 (`arch_vdso_time_data` is empty).
pub type TimeData = VdsoTimeData<u64, ()>;

/// The page size of this layout (Linux 6.18 x86_64).
pub const PAGE_SIZE: usize = 4096;
/// Pages mapped before the image.
pub const DATA_PAGES: usize = 6;
/// The time page.
pub const TIME_PAGE: usize = super::page::TIME;
/// The time-namespace slot.
pub const TIMENS_PAGE: usize = super::page::TIMENS;
/// The RNG page.
pub const RNG_PAGE: usize = super::page::RNG;
/// The (reserved) arch page: x86_64 has no `vdso_arch_data`, Linux leaves it unbacked.
pub const ARCH_PAGE: usize = super::page::ARCH_START;
/// The paravirtual clock page (`[vvar_vclock]` page 0).
pub const PVCLOCK_PAGE: usize = 4;
/// The Hyper-V reference TSC page (`[vvar_vclock]` page 1).
pub const HVCLOCK_PAGE: usize = 5;
/// Pages of `[vvar]` as Linux 6.18 maps it (time, time namespace, RNG, arch).
pub const VVAR_PAGES: usize = 4;
/// Pages of `[vvar_vclock]`.
pub const VCLOCK_PAGES: usize = 2;
/// The special mappings Linux 6.18 gives a process for these pages, in address order, with their
/// page counts (what `/proc/self/maps` shows; `vdso run --host-data` moves them before the image).
pub const HOST_MAPPINGS: &[(&str, usize)] = &[("[vvar]", VVAR_PAGES), ("[vvar_vclock]", VCLOCK_PAGES)];
/// Offset of `clock_data[0]` inside the time page.
pub const VDSO_DATA_OFFSET: usize = 0;
/// Offset in the time page of the byte saying how `getcpu` reads the CPU number (this project's
/// extension, as in the classic profile): the first byte after `struct vdso_time_data`, which
/// Linux leaves zero (0 = `lsl`, Linux's behaviour without RDPID).
pub const GETCPU_MODE_OFFSET: usize = size_of::<TimeData>();
pub use super::LINUX_VERSION_CODE;

/// This layout as a row.
pub const LAYOUT: super::ModernLayout =
    super::ModernLayout::of_types::<u64, ()>(DATA_PAGES, HOST_MAPPINGS, Some(GETCPU_MODE_OFFSET), true);

const _: () = {
    assert!(offset_of!(Clock, seq) == 0);
    assert!(offset_of!(Clock, clock_mode) == 4);
    assert!(offset_of!(Clock, cycle_last) == 8);
    assert!(offset_of!(Clock, max_cycles) == 16);
    assert!(offset_of!(Clock, mask) == 24);
    assert!(offset_of!(Clock, mult) == 32);
    assert!(offset_of!(Clock, shift) == 36);
    assert!(offset_of!(Clock, bases) == 40);
    assert!(size_of::<Clock>() == 232);
    assert!(offset_of!(TimeData, clock_data) == 0);
    assert!(offset_of!(TimeData, aux_clock_data) == 2 * 232);
    assert!(offset_of!(TimeData, tz_minuteswest) == 2320);
    assert!(offset_of!(TimeData, tz_dsttime) == 2324);
    assert!(offset_of!(TimeData, hrtimer_res) == 2328);
    assert!(offset_of!(TimeData, unused) == 2332);
    assert!(size_of::<TimeData>() == 2368);
    assert!(GETCPU_MODE_OFFSET < PAGE_SIZE);
    assert!(DATA_PAGES == VVAR_PAGES + VCLOCK_PAGES);
};
