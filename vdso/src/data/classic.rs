//! The classic profile: Linux's `struct vdso_data` pair (6.2 on x86_64, 6.8 elsewhere) at
//! `VDSO_DATA_OFFSET` of page 0, `tz` and `hrtimer_res` inside each struct, no auxiliary clocks.

pub use vdso_abi::native::{DATA_PAGES, TIMENS_PAGE, VDSO_DATA_OFFSET};

/// One clock base's struct: the whole `vdso_data`.
pub type Clock = vdso_abi::native::VdsoData;

/// Auxiliary clocks on the page: none in this profile.
pub const AUX_CLOCKS: usize = 0;

/// Where `hrtimer_res` is for the page whose first clock is `vd`.
#[inline(always)]
pub fn hrtimer_res(vd: *const Clock) -> *const u32 {
    vd.cast::<u8>().wrapping_add(core::mem::offset_of!(Clock, hrtimer_res)).cast()
}

/// Where `tz_minuteswest` and `tz_dsttime` are for the page whose first clock is `vd`.
#[inline(always)]
pub fn tz(vd: *const Clock) -> (*const i32, *const i32) {
    // Only addresses are computed.
    (
        vd.cast::<u8>().wrapping_add(core::mem::offset_of!(Clock, tz_minuteswest)).cast(),
        vd.cast::<u8>().wrapping_add(core::mem::offset_of!(Clock, tz_dsttime)).cast(),
    )
}

/// Auxiliary clock `idx` of the page whose first clock is `vd` (never called: no aux clocks).
#[inline(always)]
#[allow(dead_code)]
pub fn aux_clock(vd: *const Clock, _idx: usize) -> *const Clock {
    vd
}

/// riscv64's hwprobe answers: Linux 6.8 keeps them at the end of each `vdso_data`.
#[cfg(target_arch = "riscv64")]
pub use vdso_abi::riscv64::{hwprobe::key_is_bitmask, ArchData as HwprobeData, HWPROBE_MAX_KEY};

/// Offset from the first data page of the hwprobe answers when `real_page` is the real data page
/// (page 0, or the namespace slot for a task in a time namespace).
#[cfg(target_arch = "riscv64")]
pub const fn hwprobe_offset(real_page: usize) -> usize {
    real_page * crate::variant::PAGE_SIZE + VDSO_DATA_OFFSET + core::mem::offset_of!(Clock, arch_data)
}

/// The hwprobe answers: in the real data page's first `vdso_data`.
#[cfg(target_arch = "riscv64")]
#[inline(always)]
pub fn hwprobe_data() -> *const HwprobeData {
    let vd = super::real_vdso_data();
    vd.cast::<u8>().wrapping_sub(VDSO_DATA_OFFSET).wrapping_add(hwprobe_offset(0)).cast()
}

/// loongarch64's per-CPU array: from page 2 (Linux 6.8's `VVAR_LOONGARCH_PAGES_START`), our
/// `NR_CPUS` (63) slots.
// Read by the real getcpu only (the unit tests' mock has no per-CPU page).
#[cfg(all(target_arch = "loongarch64", not(test)))]
pub use vdso_abi::loongarch64::{NR_CPUS, PCPU_PAGE};

/// Whether `vdso_rng_data` is on the data page, so that a task in a time namespace finds it on
/// the real page at the namespace slot (x86_64, aarch64, riscv64); loongarch64's is on its
/// per-CPU page, which is never swapped.
pub const RNG_FOLLOWS_TIMENS: bool = crate::variant::VARIANT.rng_follows_timens();

/// Offset of `vdso_rng_data`: in the data page when [`RNG_FOLLOWS_TIMENS`], else from the start
/// of the data pages (0 where there is no getrandom).
pub const RNG_DATA_OFFSET: usize = match (RNG_FOLLOWS_TIMENS, crate::variant::VARIANT.rng_data_offset()) {
    (true, Some(_)) => match vdso_abi::native::INFO.rng_data_offset {
        Some(offset) => offset,
        None => 0,
    },
    (false, Some(offset)) => offset,
    (_, None) => 0,
};
