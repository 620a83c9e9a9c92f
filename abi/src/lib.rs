//! The contract between the vDSO image and the kernel that maps it (ABI revision 1).
//!
//! Both sides include this crate: the image reads the data page through these types, the kernel
//! (or `kernel-stub`) writes it through them. It depends on nothing, so a hobby kernel can take it
//! as is. Every offset below is asserted at compile time against the numbers of Linux's own
//! `struct vdso_data` (Linux 6.2 on x86_64, 6.8 on riscv64 and aarch64), because kernels that already fill
//! Linux's page keep their code unchanged when they switch to our image.
//!
//! The layouts of *every* architecture are available whatever the compilation target (the host
//! tools inspect and map any image); [`native`] names the one of the target being built.

#![no_std]
#![deny(missing_docs)]

pub mod aarch64;
pub mod arch;
pub mod loongarch64;
pub mod modern;
pub mod riscv64;
pub mod rng;
pub mod variant;
pub mod x86_64;

pub use arch::{Arch, ArchInfo, Export, HashStyles};
pub use variant::{Profile, Variant, VARIANTS};

// The layout types of the target being built, for code that runs on it (the image, a kernel).
#[cfg(target_arch = "aarch64")]
pub use aarch64 as native;
#[cfg(target_arch = "loongarch64")]
pub use loongarch64 as native;
#[cfg(target_arch = "riscv64")]
pub use riscv64 as native;
#[cfg(target_arch = "x86_64")]
pub use x86_64 as native;

use core::mem::size_of;

/// The revision of the contract this crate describes, carried in the image's own note.
///
/// Revision 2 added `getrandom`: [`rng::VdsoRngData`] on the data page at each row's
/// `rng_data_offset`, and that offset as the layout note's ninth word.
pub const ABI_REVISION: u32 = 2;

/// Clock ids (`clockid_t`) as Linux numbers them.
pub mod clock {
    /// Wall-clock time.
    pub const REALTIME: i32 = 0;
    /// Time since boot, not counting suspend.
    pub const MONOTONIC: i32 = 1;
    /// CPU time of the process (always served by the kernel).
    pub const PROCESS_CPUTIME_ID: i32 = 2;
    /// CPU time of the thread (always served by the kernel).
    pub const THREAD_CPUTIME_ID: i32 = 3;
    /// Monotonic time not slewed by NTP.
    pub const MONOTONIC_RAW: i32 = 4;
    /// Wall-clock time as of the last tick.
    pub const REALTIME_COARSE: i32 = 5;
    /// Monotonic time as of the last tick.
    pub const MONOTONIC_COARSE: i32 = 6;
    /// Monotonic time including suspend.
    pub const BOOTTIME: i32 = 7;
    /// Alarm variant of REALTIME (kernel only).
    pub const REALTIME_ALARM: i32 = 8;
    /// Alarm variant of BOOTTIME (kernel only).
    pub const BOOTTIME_ALARM: i32 = 9;
    /// Unused id 10 (formerly SGI_CYCLE).
    pub const SGI_CYCLE: i32 = 10;
    /// International Atomic Time.
    pub const TAI: i32 = 11;

    /// Number of `basetime` slots: one per clock id `0..=TAI`.
    pub const VDSO_BASES: usize = 12;

    /// Clocks computed from the counter and `vdso_data[0]`.
    pub const HRES_MASK: u32 = 1 << REALTIME | 1 << MONOTONIC | 1 << BOOTTIME | 1 << TAI;
    /// Clocks read straight from `vdso_data[0].basetime`, no counter.
    pub const COARSE_MASK: u32 = 1 << REALTIME_COARSE | 1 << MONOTONIC_COARSE;
    /// The clock computed from the counter and `vdso_data[1]`.
    pub const RAW_MASK: u32 = 1 << MONOTONIC_RAW;
}

/// Values of [`VdsoData::clock_mode`].
pub mod clock_mode {
    /// No user-readable counter: counter-based clocks go to the syscall.
    pub const NONE: i32 = 0;
    /// The architecture's counter (x86 TSC, riscv `time` CSR).
    pub const ARCH: i32 = 1;
    /// x86 paravirtual clock (not implemented by revision 1; treated as NONE).
    pub const PVCLOCK: i32 = 2;
    /// x86 Hyper-V clock (not implemented by revision 1; treated as NONE).
    pub const HVCLOCK: i32 = 3;
    /// This page is a time-namespace page; the real data is at the namespace slot.
    pub const TIMENS: i32 = i32::MAX;
}

/// Index of the struct serving HRES and COARSE clocks in the `vdso_data` pair.
pub const CS_HRES_COARSE: usize = 0;
/// Index of the struct serving MONOTONIC_RAW.
pub const CS_RAW: usize = 1;
/// Number of `vdso_data` structs in a row on the page.
pub const CS_BASES: usize = 2;

/// One clock's base time. HRES clocks keep `nsec << shift`; COARSE clocks plain nanoseconds.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VdsoTimestamp {
    /// Seconds.
    pub sec: u64,
    /// Nanoseconds, shifted left by `shift` for HRES clocks.
    pub nsec: u64,
}

/// A time-namespace offset, in place of a [`VdsoTimestamp`] on the namespace page.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimensOffset {
    /// Seconds to add (may be negative).
    pub sec: i64,
    /// Nanoseconds to add, `0..1_000_000_000`.
    pub nsec: u64,
}

/// `basetime` on the data page and `offset` on a time-namespace page share their place.
#[repr(C)]
#[derive(Clone, Copy)]
pub union Bases {
    /// Per clock id: the base time (data page).
    pub basetime: [VdsoTimestamp; clock::VDSO_BASES],
    /// Per clock id: the namespace offset (time-namespace page).
    pub offset: [TimensOffset; clock::VDSO_BASES],
}

impl Default for Bases {
    fn default() -> Self {
        Bases { basetime: [VdsoTimestamp::default(); clock::VDSO_BASES] }
    }
}

impl core::fmt::Debug for Bases {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // SAFETY: both union members are plain integers of the same size; any bit pattern is a
        // valid array of timestamps.
        let basetime = unsafe { self.basetime };
        f.debug_struct("Bases").field("basetime", &basetime).finish()
    }
}

/// Linux's `struct vdso_data`, generic over the architecture's trailing `arch_data`.
///
/// Two of these sit in a row on the data page: `[CS_HRES_COARSE]` and `[CS_RAW]`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VdsoData<A> {
    /// Seqlock counter: odd while the kernel is writing.
    pub seq: u32,
    /// One of [`clock_mode`].
    pub clock_mode: i32,
    /// Counter value at the last update.
    pub cycle_last: u64,
    /// Counter mask (all ones for 64-bit counters).
    pub mask: u64,
    /// Multiplier: `ns = (delta * mult) >> shift`.
    pub mult: u32,
    /// Shift of the fixed-point conversion.
    pub shift: u32,
    /// Base times (data page) or namespace offsets (namespace page).
    pub bases: Bases,
    /// `struct timezone` for `gettimeofday`: minutes west of Greenwich.
    pub tz_minuteswest: i32,
    /// `struct timezone`: type of DST correction.
    pub tz_dsttime: i32,
    /// Resolution of HRES and RAW clocks, in ns (`clock_getres`).
    pub hrtimer_res: u32,
    /// Padding kept as Linux has it.
    pub unused: u32,
    /// Architecture-specific tail.
    pub arch_data: A,
}

/// Offsets every architecture shares, asserted against Linux's numbers.
pub mod offsets {
    /// `seq`.
    pub const SEQ: usize = 0;
    /// `clock_mode`.
    pub const CLOCK_MODE: usize = 4;
    /// `cycle_last`.
    pub const CYCLE_LAST: usize = 8;
    /// `mask`.
    pub const MASK: usize = 16;
    /// `mult`.
    pub const MULT: usize = 24;
    /// `shift`.
    pub const SHIFT: usize = 28;
    /// `basetime[0]` / `offset[0]`.
    pub const BASETIME: usize = 32;
    /// `tz_minuteswest`.
    pub const TZ_MINUTESWEST: usize = 224;
    /// `tz_dsttime`.
    pub const TZ_DSTTIME: usize = 228;
    /// `hrtimer_res`.
    pub const HRTIMER_RES: usize = 232;
    /// `arch_data`.
    pub const ARCH_DATA: usize = 240;
}

macro_rules! assert_common_layout {
    ($t:ty) => {
        const _: () = {
            assert!(core::mem::offset_of!($t, seq) == $crate::offsets::SEQ);
            assert!(core::mem::offset_of!($t, clock_mode) == $crate::offsets::CLOCK_MODE);
            assert!(core::mem::offset_of!($t, cycle_last) == $crate::offsets::CYCLE_LAST);
            assert!(core::mem::offset_of!($t, mask) == $crate::offsets::MASK);
            assert!(core::mem::offset_of!($t, mult) == $crate::offsets::MULT);
            assert!(core::mem::offset_of!($t, shift) == $crate::offsets::SHIFT);
            assert!(core::mem::offset_of!($t, bases) == $crate::offsets::BASETIME);
            assert!(core::mem::offset_of!($t, tz_minuteswest) == $crate::offsets::TZ_MINUTESWEST);
            assert!(core::mem::offset_of!($t, tz_dsttime) == $crate::offsets::TZ_DSTTIME);
            assert!(core::mem::offset_of!($t, hrtimer_res) == $crate::offsets::HRTIMER_RES);
            assert!(core::mem::offset_of!($t, arch_data) == $crate::offsets::ARCH_DATA);
        };
    };
}
pub(crate) use assert_common_layout;

const _: () = {
    assert!(size_of::<VdsoTimestamp>() == 16);
    assert!(size_of::<TimensOffset>() == 16);
    assert!(size_of::<Bases>() == 16 * clock::VDSO_BASES);
};

/// The image's own ELF note (owner [`note::OWNER`], type [`note::TYPE_LAYOUT`]) describing the
/// data-page layout it expects, so a kernel can refuse an image it does not speak.
pub mod note {
    /// Owner name of the note (without its terminating NUL).
    pub const OWNER: &str = "rs-vdso";
    /// Note type of the layout descriptor.
    pub const TYPE_LAYOUT: u32 = 1;
    /// Number of `u32` words in the descriptor, in this order: ABI revision, data pages,
    /// offset of `vdso_data` in page 0, size of one `vdso_data`, hwprobe keys, HZ of the COARSE
    /// resolution, page size, profile ([`crate::Profile::note_value`]), offset of
    /// `vdso_rng_data` in the real data page (0: the image has no `getrandom`; revision 2).
    pub const WORDS: usize = 9;
    /// Words of the descriptor before `getrandom` (ABI revision 1 with the variant table).
    pub const WORDS_BEFORE_RNG: usize = 8;
    /// Words of the descriptor before page size and profile were added (read as 4 KiB, classic).
    pub const WORDS_BEFORE_VARIANTS: usize = 6;

    /// The decoded descriptor.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Layout {
        /// ABI revision ([`crate::ABI_REVISION`]).
        pub revision: u32,
        /// Pages mapped before the image.
        pub data_pages: u32,
        /// Offset of `vdso_data[0]` inside page 0.
        pub vdso_data_offset: u32,
        /// `size_of::<VdsoData>()` for the architecture.
        pub vdso_data_size: u32,
        /// Number of riscv hwprobe values on the page (0 on x86_64).
        pub hwprobe_keys: u32,
        /// Tick rate the image was built for (COARSE `clock_getres` is one tick).
        pub hz: u32,
        /// Page size the image is linked for (each data page is this long).
        pub page_size: u32,
        /// The data layout ([`crate::Profile::note_value`]).
        pub profile: u32,
        /// Offset of `vdso_rng_data` inside the real data page; 0 when the image exports no
        /// `getrandom`.
        pub rng_data_offset: u32,
    }

    impl Layout {
        /// Decodes a descriptor of [`WORDS`] little-endian words, of the first eight (images
        /// before `getrandom`: no RNG data) or of the first six of them as images before the
        /// variant table carried (4 KiB pages and the classic profile were the only ones then,
        /// so that is what such a note means).
        pub fn from_le_bytes(desc: &[u8]) -> Option<Layout> {
            if desc.len() == WORDS_BEFORE_RNG * 4 {
                let mut full = [0u8; WORDS * 4];
                full[..desc.len()].copy_from_slice(desc);
                return Layout::from_le_bytes(&full);
            }
            if desc.len() == WORDS_BEFORE_VARIANTS * 4 {
                let mut full = [0u8; WORDS * 4];
                full[..desc.len()].copy_from_slice(desc);
                full[24..28].copy_from_slice(&4096u32.to_le_bytes());
                full[28..32].copy_from_slice(&crate::Profile::Classic.note_value().to_le_bytes());
                return Layout::from_le_bytes(&full);
            }
            if desc.len() != WORDS * 4 {
                return None;
            }
            let w = |i: usize| {
                u32::from_le_bytes([desc[4 * i], desc[4 * i + 1], desc[4 * i + 2], desc[4 * i + 3]])
            };
            Some(Layout {
                revision: w(0),
                data_pages: w(1),
                vdso_data_offset: w(2),
                vdso_data_size: w(3),
                hwprobe_keys: w(4),
                hz: w(5),
                page_size: w(6),
                profile: w(7),
                rng_data_offset: w(8),
            })
        }

        /// The descriptor's words, in note order.
        pub const fn words(&self) -> [u32; WORDS] {
            [
                self.revision,
                self.data_pages,
                self.vdso_data_offset,
                self.vdso_data_size,
                self.hwprobe_keys,
                self.hz,
                self.page_size,
                self.profile,
                self.rng_data_offset,
            ]
        }
    }
}

/// The SysV ELF hash: how `DT_HASH` buckets names and what a version definition's `vd_hash`
/// must hold (the Go runtime and musl compare it). `LINUX_2.6` hashes to 0x03ae75f6,
/// `LINUX_4.15` to 0x0ae77f75.
pub const fn elf_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 0;
    let mut i = 0;
    while i < name.len() {
        h = (h << 4).wrapping_add(name[i] as u32);
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
        i += 1;
    }
    h
}

/// Default tick rate: COARSE clocks advance once per tick, `clock_getres` reports its length.
pub const DEFAULT_HZ: u32 = 250;

/// Linux's `TICK_NSEC` for a tick rate: the nanoseconds in one tick, rounded.
pub const fn tick_nsec(hz: u32) -> u32 {
    ((1_000_000_000u64 + hz as u64 / 2) / hz as u64) as u32
}

/// Parses a decimal `u32` at compile time (for build-time options passed through the
/// environment); `None` on anything that is not a positive decimal number.
pub const fn parse_u32(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut i = 0;
    let mut v: u64 = 0;
    while i < b.len() {
        let c = b[i];
        if c < b'0' || c > b'9' {
            return None;
        }
        v = v * 10 + (c - b'0') as u64;
        if v > u32::MAX as u64 {
            return None;
        }
        i += 1;
    }
    if v == 0 {
        None
    } else {
        Some(v as u32)
    }
}
