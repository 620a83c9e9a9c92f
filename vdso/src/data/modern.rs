//! The modern profile: Linux 6.15+'s data store (docs/abi.md, "modern profile"). Page 0 holds
//! `struct vdso_time_data` at offset 0: the two clock bases' `vdso_clock`s, then the auxiliary
//! clocks', then `tz` and `hrtimer_res` once for the page; the namespace slot is page 1.
//! riscv64's hwprobe answers are on the arch page (page 3), the same page in a time namespace.

use core::mem::{offset_of, size_of};

use vdso_abi::CS_BASES;

use vdso_abi::modern::native::TimeData;
pub use vdso_abi::modern::native::{DATA_PAGES, TIMENS_PAGE, VDSO_DATA_OFFSET};
use vdso_abi::modern::MAX_AUX_CLOCKS;

/// One clock's struct: `struct vdso_clock`.
pub type Clock = vdso_abi::modern::native::Clock;

/// Auxiliary clocks on the page (ids `CLOCK_AUX..CLOCK_AUX + AUX_CLOCKS`).
pub const AUX_CLOCKS: usize = MAX_AUX_CLOCKS;

/// The page's `vdso_time_data`, from its first clock.
#[inline(always)]
fn time_data(vd: *const Clock) -> *const TimeData {
    const _: () = assert!(offset_of!(TimeData, clock_data) == 0);
    vd.cast()
}

/// Where `hrtimer_res` is for the page whose first clock is `vd`.
#[inline(always)]
pub fn hrtimer_res(vd: *const Clock) -> *const u32 {
    time_data(vd).cast::<u8>().wrapping_add(offset_of!(TimeData, hrtimer_res)).cast()
}

/// Where `tz_minuteswest` and `tz_dsttime` are for the page whose first clock is `vd`.
#[inline(always)]
pub fn tz(vd: *const Clock) -> (*const i32, *const i32) {
    let td = time_data(vd).cast::<u8>();
    // Only addresses are computed.
    (
        td.wrapping_add(offset_of!(TimeData, tz_minuteswest)).cast(),
        td.wrapping_add(offset_of!(TimeData, tz_dsttime)).cast(),
    )
}

/// `aux_clock_data[idx]` of the page whose first clock is `vd` (`idx < AUX_CLOCKS`): the clock
/// struct `CS_BASES + idx` counted from `clock_data[0]`, which the clock code relies on.
#[inline(always)]
pub fn aux_clock(vd: *const Clock, idx: usize) -> *const Clock {
    const _: () = assert!(offset_of!(TimeData, aux_clock_data) == CS_BASES * size_of::<Clock>());
    vd.wrapping_add(CS_BASES + idx)
}

/// riscv64's hwprobe answers: Linux 6.18's `struct vdso_arch_data` on the arch page.
#[cfg(target_arch = "riscv64")]
pub use vdso_abi::modern::riscv64::{
    hwprobe::key_is_bitmask_6_18 as key_is_bitmask, ArchData as HwprobeData, HWPROBE_MAX_KEY,
};

/// Offset from the first data page of the hwprobe answers: the arch page, whichever page is the
/// real time page (`_real_page`: a time namespace swaps only the time pages).
#[cfg(target_arch = "riscv64")]
pub const fn hwprobe_offset(_real_page: usize) -> usize {
    vdso_abi::modern::riscv64::ARCH_PAGE * crate::variant::PAGE_SIZE
}

/// The hwprobe answers: at the start of the arch page.
#[cfg(target_arch = "riscv64")]
#[inline(always)]
pub fn hwprobe_data() -> *const HwprobeData {
    crate::arch::vvar_start().wrapping_add(hwprobe_offset(0)).cast()
}

/// loongarch64's per-CPU array: Linux 6.18's `struct vdso_arch_data`, from the first arch page
/// on, `NR_CPUS` slots (Linux 6.18 defconfig's 2048, over eight 16 KiB arch pages).
// Read by the real getcpu only (the unit tests' mock has no per-CPU page).
#[cfg(all(target_arch = "loongarch64", not(test)))]
pub use vdso_abi::modern::loongarch64::{NR_CPUS, PCPU_PAGE};

/// `vdso_rng_data` has a page of its own, which a time namespace does not replace.
pub const RNG_FOLLOWS_TIMENS: bool = false;

/// Offset of `vdso_rng_data` from the start of the data pages: the RNG page's start.
pub const RNG_DATA_OFFSET: usize = vdso_abi::modern::page::RNG * crate::variant::PAGE_SIZE;
