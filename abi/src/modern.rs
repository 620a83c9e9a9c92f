//! Linux 6.15+'s data layout (the "modern" profile), as Linux 6.18 lays it out.
//!
//! Since 6.15 Linux keeps the vDSO's data in a generic data store of separate pages
//! (`enum vdso_pages` in include/vdso/datapage.h): the time page (`struct vdso_time_data`), the
//! time-namespace slot, the RNG page (`struct vdso_rng_data`), then the architecture's own pages
//! (`struct vdso_arch_data`, `VDSO_ARCH_DATA_PAGES` of them); x86_64 maps its paravirtual and
//! Hyper-V clock pages after those (`[vvar_vclock]`). Since 6.16 the time page is one
//! `struct vdso_time_data` holding one `struct vdso_clock` per clock base, then one per
//! auxiliary clock (6.17 serves ids 16..23 from them), then `tz` and `hrtimer_res`.
//!
//! The per-clock struct is the classic `vdso_data` without `tz`, `hrtimer_res` and the arch tail,
//! plus x86_64's `max_cycles` (`CONFIG_GENERIC_VDSO_OVERFLOW_PROTECT`). It is generic here over
//! that field's type: `u64` where the architecture has it, `()` (no bytes) where it does not.
//! Every offset is asserted in the per-arch files (`modern/<arch>.rs`), against Linux's headers
//! and, for x86_64, against the offsets Linux 6.18's own image uses (docs/abi.md).

use core::mem::{offset_of, size_of};

use crate::{Bases, CS_BASES};

pub mod aarch64;
pub mod loongarch64;
mod plain;
pub mod riscv64;
pub mod x86_64;

// The modern layout types of the target being built.
#[cfg(target_arch = "aarch64")]
pub use aarch64 as native;
#[cfg(target_arch = "loongarch64")]
pub use loongarch64 as native;
#[cfg(target_arch = "riscv64")]
pub use riscv64 as native;
#[cfg(target_arch = "x86_64")]
pub use x86_64 as native;

/// The oldest Linux release whose data pages this profile's images read (major, minor): 6.17
/// serves auxiliary clocks from `aux_clock_data`; 6.15 and 6.16 also use the split data store,
/// but whether their `vdso_time_data` already ends in `aux_clock_data` (which moves `tz` and
/// `hrtimer_res`) was not checked against their images, so they are not claimed.
pub const MIN_KERNEL: (u32, u32) = (6, 17);

/// One architecture's facts in this profile: what a variant row of the modern profile reads where
/// a classic row reads its [`crate::ArchInfo`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModernLayout {
    /// Pages mapped before the image.
    pub data_pages: usize,
    /// The time page (the namespace page for a task in a time namespace).
    pub vvar_page: usize,
    /// Where the real time page goes for a task in a time namespace.
    pub timens_page: usize,
    /// Offset of `clock_data[0]` in the time page.
    pub vdso_data_offset: usize,
    /// `size_of` one `vdso_clock`.
    pub vdso_data_size: usize,
    /// `size_of` the whole `vdso_time_data`.
    pub time_data_size: usize,
    /// The "Linux" version note's value: the release whose layout this follows.
    pub linux_version_code: u32,
    /// The special mappings Linux gives a process for these pages, in address order, with their
    /// page counts.
    pub host_mappings: &'static [(&'static str, usize)],
    /// Offset of `hrtimer_res` in the time page.
    pub hrtimer_res_offset: usize,
    /// Offset in the time page of x86_64's `getcpu`-mode byte (our extension); `None` elsewhere.
    pub getcpu_mode_offset: Option<usize>,
    /// `vdso_clock` carries `max_cycles` (`CONFIG_GENERIC_VDSO_OVERFLOW_PROTECT`: x86_64).
    pub max_cycles: bool,
    /// The host side (`host_mappings`, moving them) was checked on a live Linux 6.18 kernel of
    /// this architecture: `vdso run --host-data` serves only these (x86_64; there is no
    /// aarch64 Linux host here, and qemu-user maps guests no `[vvar]`).
    pub host_checked: bool,
    /// riscv64's hwprobe values on the arch page (`RISCV_HWPROBE_MAX_KEY + 1`); 0 elsewhere.
    pub hwprobe_keys: usize,
    /// loongarch64's per-CPU slots from the arch page on (its `NR_CPUS`); 0 elsewhere.
    pub pcpu_slots: usize,
}

impl ModernLayout {
    /// The row of an architecture whose `vdso_clock` carries `max_cycles` of type `M` (`u64` or
    /// `()`) and whose `arch_vdso_time_data` is `A`: everything but the per-arch facts follows
    /// from the types and Linux 6.18's page order.
    pub const fn of_types<M, A>(
        data_pages: usize,
        host_mappings: &'static [(&'static str, usize)],
        getcpu_mode_offset: Option<usize>,
        host_checked: bool,
    ) -> ModernLayout {
        ModernLayout {
            data_pages,
            vvar_page: page::TIME,
            timens_page: page::TIMENS,
            vdso_data_offset: offset_of!(VdsoTimeData<M, A>, clock_data),
            vdso_data_size: size_of::<VdsoClock<M>>(),
            time_data_size: size_of::<VdsoTimeData<M, A>>(),
            linux_version_code: LINUX_VERSION_CODE,
            host_mappings,
            hrtimer_res_offset: offset_of!(VdsoTimeData<M, A>, hrtimer_res),
            getcpu_mode_offset,
            max_cycles: size_of::<M>() != 0,
            host_checked,
            hwprobe_keys: 0,
            pcpu_slots: 0,
        }
    }

    /// This row with `slots` per-CPU slots from its arch page on (loongarch64).
    pub const fn with_pcpu_slots(self, slots: usize) -> ModernLayout {
        ModernLayout { pcpu_slots: slots, ..self }
    }

    /// This row with `keys` hwprobe values on its arch page (riscv64).
    pub const fn with_hwprobe_keys(self, keys: usize) -> ModernLayout {
        ModernLayout { hwprobe_keys: keys, ..self }
    }
}

/// "Linux" version note value of this profile's images: Linux 6.18, whose layout they follow.
pub const LINUX_VERSION_CODE: u32 = 0x06_12_00;

/// The modern layout of `arch`, if it has been laid out (every architecture's is).
pub const fn layout(arch: crate::Arch) -> Option<&'static ModernLayout> {
    match arch {
        crate::Arch::X86_64 => Some(&x86_64::LAYOUT),
        crate::Arch::Riscv64 => Some(&riscv64::LAYOUT),
        crate::Arch::Aarch64 => Some(&aarch64::LAYOUT),
        crate::Arch::Loongarch64 => Some(&loongarch64::LAYOUT),
    }
}

/// The modern layout of `arch`, for a variant row of this profile (the table's const-asserts
/// evaluate it for every row, so a modern row of an architecture without one fails the build).
pub const fn of(arch: crate::Arch) -> &'static ModernLayout {
    match layout(arch) {
        Some(l) => l,
        None => panic!("no modern-profile layout for this architecture"),
    }
}

/// Number of auxiliary clocks (`MAX_AUX_CLOCKS`).
pub const MAX_AUX_CLOCKS: usize = 8;
/// The first auxiliary clock id (`CLOCK_AUX`); ids `CLOCK_AUX..CLOCK_AUX + MAX_AUX_CLOCKS`.
pub const CLOCK_AUX: i32 = 16;
/// `basetime` slot an auxiliary clock keeps its time in (`VDSO_BASE_AUX`).
pub const VDSO_BASE_AUX: usize = 0;
/// `clock_getres` of an enabled auxiliary clock, in ns (Linux's vDSO answers 1 ns).
pub const AUX_RES_NSEC: u32 = 1;

/// Page indices in the generic data store (`enum vdso_pages`).
pub mod page {
    /// `struct vdso_time_data` (or the namespace page for a task in a time namespace).
    pub const TIME: usize = 0;
    /// Where the real time page goes for a task in a time namespace.
    pub const TIMENS: usize = 1;
    /// `struct vdso_rng_data`.
    pub const RNG: usize = 2;
    /// The first page of `struct vdso_arch_data`.
    pub const ARCH_START: usize = 3;
}

/// Linux's `struct vdso_clock`: one clock base's counter conversion and base times.
///
/// `M` is the type of `max_cycles`: `u64` on x86_64, `()` elsewhere (the field then takes no
/// bytes, exactly as the `#ifdef` leaves it out).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VdsoClock<M> {
    /// Seqlock counter: odd while the kernel is writing (this clock's own).
    pub seq: u32,
    /// One of [`crate::clock_mode`]; NONE for a disabled auxiliary clock.
    pub clock_mode: i32,
    /// Counter value at the last update.
    pub cycle_last: u64,
    /// Largest delta whose `delta * mult` does not overflow 64 bits (x86_64 only).
    pub max_cycles: M,
    /// Counter mask (all ones for 64-bit counters).
    pub mask: u64,
    /// Multiplier: `ns = (delta * mult) >> shift`.
    pub mult: u32,
    /// Shift of the fixed-point conversion.
    pub shift: u32,
    /// Base times (time page) or namespace offsets (namespace page).
    pub bases: Bases,
}

/// Linux's `struct vdso_time_data` (`____cacheline_aligned`: 64 bytes on our architectures).
///
/// `A` is `struct arch_vdso_time_data`, empty on x86_64, riscv64 and aarch64.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, Default)]
pub struct VdsoTimeData<M, A> {
    /// `struct arch_vdso_time_data` (empty on our architectures).
    pub arch_data: A,
    /// `[CS_HRES_COARSE]` serves HRES and COARSE clocks, `[CS_RAW]` MONOTONIC_RAW.
    pub clock_data: [VdsoClock<M>; CS_BASES],
    /// Auxiliary clocks `CLOCK_AUX + i`, each under its own `seq`.
    pub aux_clock_data: [VdsoClock<M>; MAX_AUX_CLOCKS],
    /// `struct timezone`: minutes west of Greenwich.
    pub tz_minuteswest: i32,
    /// `struct timezone`: type of DST correction.
    pub tz_dsttime: i32,
    /// Resolution of HRES and RAW clocks, in ns.
    pub hrtimer_res: u32,
    /// Padding kept as Linux has it.
    pub unused: u32,
}

/// Linux's `struct vdso_rng_data`, at offset 0 of the RNG page ([`page::RNG`]): what
/// `getrandom` in the vDSO reads to know whether its per-thread state is stale.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VdsoRngData {
    /// Number of RNG reseeds: a state made under another generation is stale.
    pub generation: u64,
    /// Nonzero once the kernel's RNG is initialised.
    pub is_ready: u8,
}

/// Size of one `vdso_clock` without `max_cycles` (riscv64, aarch64).
pub const CLOCK_SIZE: usize = 224;
/// Offset of `is_ready` in the RNG page.
pub const RNG_IS_READY: usize = 8;

const _: () = {
    // Without `max_cycles`, a `vdso_clock` starts exactly as the classic `vdso_data` does.
    type C = VdsoClock<()>;
    use crate::offsets as o;
    assert!(offset_of!(C, seq) == o::SEQ && offset_of!(C, clock_mode) == o::CLOCK_MODE);
    assert!(offset_of!(C, cycle_last) == o::CYCLE_LAST && offset_of!(C, mask) == o::MASK);
    assert!(offset_of!(C, mult) == o::MULT && offset_of!(C, shift) == o::SHIFT);
    assert!(offset_of!(C, bases) == o::BASETIME && size_of::<C>() == CLOCK_SIZE);
    assert!(offset_of!(VdsoRngData, generation) == 0 && offset_of!(VdsoRngData, is_ready) == RNG_IS_READY);
    assert!(size_of::<VdsoRngData>() == 16);
};
