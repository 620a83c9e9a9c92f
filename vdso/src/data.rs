//! Where the data pages are, and relaxed atomic loads of their fields.
//!
//! The pages sit just before the image (docs/abi.md section 1) so that code can reach them
//! PC-relatively: the linker script defines `vvar_start` at `-DATA_PAGES * VDSO_PAGE_SIZE` (the
//! variant's page size, `crate::variant`) from the ELF header, and the arch hook takes its
//! address with one `lea`/`lla`. No pointer to the data is
//! ever stored, so the image needs no relocation wherever it is mapped.
//!
//! Which fields sit where is the profile's (`data/classic.rs`: Linux's `struct vdso_data` pair;
//! `data/modern.rs`: Linux 6.15+'s `struct vdso_time_data`), chosen at build time by the `modern`
//! feature as the architecture is by the target. Both hand the clock code a pointer to one
//! clock's struct (`Clock`) with the same field names, so the seqlock and the clock math are one.
//!
//! The kernel writes these fields while we read them; the seqlock tells us afterwards whether what
//! we read was consistent. Reading them as relaxed atomics keeps that race defined behaviour in
//! Rust's memory model and compiles to plain loads on both arches.

use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

#[cfg_attr(not(feature = "modern"), path = "data/classic.rs")]
#[cfg_attr(feature = "modern", path = "data/modern.rs")]
mod profile;
pub use profile::*;

use vdso_abi::clock_mode;
use vdso_abi::rng::VdsoRngData;

use crate::arch;
use crate::variant::PAGE_SIZE;

/// The first clock struct of page 0: the real data, or the namespace page for a task in a time
/// namespace.
#[inline(always)]
pub fn vdso_data() -> *const Clock {
    arch::vvar_start().wrapping_add(VDSO_DATA_OFFSET).cast()
}

/// The first clock struct of the real data page when page 0 is a time-namespace page.
#[inline(always)]
pub fn timens_vdso_data() -> *const Clock {
    const _: () = assert!(TIMENS_PAGE < DATA_PAGES);
    arch::vvar_start().wrapping_add(TIMENS_PAGE * PAGE_SIZE + VDSO_DATA_OFFSET).cast()
}

/// The real data page's first clock struct, whichever page holds it: for reads that do not
/// follow the clock protocol (`time`, `tz`, `clock_getres`, hwprobe values).
#[inline(always)]
pub fn real_vdso_data() -> *const Clock {
    let vd = vdso_data();
    // SAFETY: page 0 is always mapped readable before the image (docs/abi.md section 1).
    if unsafe { load_i32(&raw const (*vd).clock_mode) } == clock_mode::TIMENS {
        timens_vdso_data()
    } else {
        vd
    }
}

/// Start of the page whose first clock struct is `vd`.
#[inline(always)]
#[allow(dead_code)] // used by one arch only
pub fn page_of(vd: *const Clock) -> *const u8 {
    vd.cast::<u8>().wrapping_sub(VDSO_DATA_OFFSET)
}

/// The kernel's RNG state (`vdso_rng_data`), where the profile keeps it: classic, on the real
/// data page at the row's offset (a time-namespace page does not carry it, as in Linux, whose
/// `__arch_get_vdso_rng_data` looks past a namespace page the same way); modern, at the start of
/// its own page, which no namespace replaces.
#[inline(always)]
#[allow(dead_code)] // an architecture without getrandom (its row says so) has no caller
pub fn rng_data() -> *const VdsoRngData {
    if RNG_FOLLOWS_TIMENS {
        page_of(real_vdso_data()).wrapping_add(RNG_DATA_OFFSET).cast()
    } else {
        arch::vvar_start().wrapping_add(RNG_DATA_OFFSET).cast()
    }
}

/// # Safety
/// `p` must point into a mapped data page.
#[inline(always)]
pub unsafe fn load_u64(p: *const u64) -> u64 {
    // SAFETY: aligned (repr(C) field) and mapped, per the caller; only atomically accessed.
    unsafe { AtomicU64::from_ptr(p.cast_mut()) }.load(Relaxed)
}

/// # Safety
/// `p` must point into a mapped data page.
#[inline(always)]
pub unsafe fn load_u32(p: *const u32) -> u32 {
    // SAFETY: as for `load_u64`.
    unsafe { AtomicU32::from_ptr(p.cast_mut()) }.load(Relaxed)
}

/// # Safety
/// `p` must point into a mapped data page.
#[inline(always)]
pub unsafe fn load_i32(p: *const i32) -> i32 {
    // SAFETY: as for `load_u64`.
    unsafe { AtomicI32::from_ptr(p.cast_mut()) }.load(Relaxed)
}

/// # Safety
/// `p` must point into a mapped data page.
#[inline(always)]
#[allow(dead_code)] // getrandom's and x86_64 getcpu's (loongarch64 has neither)
pub unsafe fn load_u8(p: *const u8) -> u8 {
    // SAFETY: as for `load_u64`.
    unsafe { AtomicU8::from_ptr(p.cast_mut()) }.load(Relaxed)
}
