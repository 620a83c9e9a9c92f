//! What riscv64 and aarch64 share in Linux 6.18's layout: `vdso_clock` without `max_cycles`
//! (neither selects `GENERIC_VDSO_OVERFLOW_PROTECT`), an empty `arch_vdso_time_data`, and four
//! data pages (`[vvar]`: time, time-namespace slot, RNG, one arch page).

use core::mem::{offset_of, size_of};

use super::{VdsoClock, VdsoTimeData};

/// `struct vdso_clock` without `max_cycles`.
pub type Clock = VdsoClock<()>;
/// `struct vdso_time_data` (`arch_vdso_time_data` is empty).
pub type TimeData = VdsoTimeData<(), ()>;

/// The page size of this layout (4 KiB pages).
pub const PAGE_SIZE: usize = 4096;
/// Pages mapped before the image.
pub const DATA_PAGES: usize = 4;
/// The time page.
pub const TIME_PAGE: usize = super::page::TIME;
/// The time-namespace slot.
pub const TIMENS_PAGE: usize = super::page::TIMENS;
/// The RNG page.
pub const RNG_PAGE: usize = super::page::RNG;
/// The arch page (`struct vdso_arch_data`).
pub const ARCH_PAGE: usize = super::page::ARCH_START;
/// The special mappings Linux 6.18 gives a process for these pages (one `[vvar]`).
pub const HOST_MAPPINGS: &[(&str, usize)] = &[("[vvar]", DATA_PAGES)];
/// Offset of `clock_data[0]` inside the time page.
pub const VDSO_DATA_OFFSET: usize = 0;
pub use super::LINUX_VERSION_CODE;

/// This layout as a row (the host side is not checked on a live kernel of these arches).
pub const LAYOUT: super::ModernLayout =
    super::ModernLayout::of_types::<(), ()>(DATA_PAGES, HOST_MAPPINGS, None, false);

const _: () = {
    assert!(size_of::<Clock>() == super::CLOCK_SIZE);
    assert!(offset_of!(TimeData, aux_clock_data) == 2 * 224);
    assert!(offset_of!(TimeData, tz_minuteswest) == 2240);
    assert!(offset_of!(TimeData, hrtimer_res) == 2248);
    assert!(size_of::<TimeData>() == 2304);
};
