//! `__vdso_riscv_hwprobe`: Linux 6.8's rules (docs/abi.md section 5; 6.18's are the same over
//! more keys). The page carries every key's value for the "all CPUs" case; a query the page
//! cannot answer goes to the syscall. Where the values are, how many there are and which keys
//! are bitmasks is the profile's (`crate::data`).
//!
//! Byte loops over the CPU set use volatile accesses: LLVM would otherwise turn them into
//! `memset`/`memchr`-like libcalls, which the image cannot have.

use vdso_abi::riscv64::hwprobe::{Pair, WHICH_CPUS};

use crate::data::{self, key_is_bitmask, load_u64, load_u8, HwprobeData as ArchData, HWPROBE_MAX_KEY};

/// # Safety
/// `avd` must point to the mapped arch data.
#[inline(always)]
unsafe fn value_of(avd: *const ArchData, key: i64) -> u64 {
    // SAFETY: `0 <= key <= MAX_KEY` is checked by every caller; mapped per the caller.
    unsafe { load_u64((&raw const (*avd).all_cpu_hwprobe_values).cast::<u64>().add(key as usize)) }
}

#[inline(always)]
fn key_is_valid(key: i64) -> bool {
    (0..=HWPROBE_MAX_KEY).contains(&key)
}

/// Answers a pair whose key the kernel does not know: key -1, value 0 (Linux's rule).
///
/// # Safety
/// `p` must be writable.
#[inline(always)]
unsafe fn mark_unknown(p: *mut Pair) {
    // SAFETY: writable, per the caller.
    unsafe {
        core::ptr::write_volatile(&raw mut (*p).key, -1);
        core::ptr::write_volatile(&raw mut (*p).value, 0);
    }
}

/// Whether a CPU whose value for `key` is `have` satisfies the queried value `want`.
#[inline(always)]
fn pair_matches(key: i64, have: u64, want: u64) -> bool {
    if key_is_bitmask(key) {
        // Every bit asked for must be present.
        have & want == want
    } else {
        have == want
    }
}

/// # Safety
/// See `__vdso_riscv_hwprobe`.
pub unsafe fn riscv_hwprobe(
    pairs: *mut Pair,
    pair_count: usize,
    cpusetsize: usize,
    cpus: *mut u8,
    flags: u32,
) -> i32 {
    let avd = data::hwprobe_data();
    // SAFETY: the page holding the hwprobe answers is mapped.
    let homogeneous = unsafe { load_u8(&raw const (*avd).homogeneous_cpus) } != 0;

    if flags & WHICH_CPUS != 0 {
        // SAFETY: caller contract.
        return unsafe { which_cpus(avd, homogeneous, pairs, pair_count, cpusetsize, cpus, flags) };
    }

    let all_cpus = cpusetsize == 0 && cpus.is_null();
    if flags != 0 || (!all_cpus && !homogeneous) {
        // SAFETY: caller contract.
        return unsafe { super::sys_riscv_hwprobe(pairs, pair_count, cpusetsize, cpus, flags) };
    }
    for i in 0..pair_count {
        // SAFETY: `pairs` holds `pair_count` writable pairs, per the caller.
        unsafe {
            let p = pairs.add(i);
            let key = core::ptr::read_volatile(&raw const (*p).key);
            if key_is_valid(key) {
                core::ptr::write_volatile(&raw mut (*p).value, value_of(avd, key));
            } else {
                mark_unknown(p);
            }
        }
    }
    0
}

/// The `RISCV_HWPROBE_WHICH_CPUS` form: keep the CPUs of the set that match every pair.
///
/// # Safety
/// See `__vdso_riscv_hwprobe`.
unsafe fn which_cpus(
    avd: *const ArchData,
    homogeneous: bool,
    pairs: *mut Pair,
    pair_count: usize,
    cpusetsize: usize,
    cpus: *mut u8,
    flags: u32,
) -> i32 {
    if cpusetsize == 0 || cpus.is_null() {
        return -22; // -EINVAL
    }
    let mut empty = true;
    for i in 0..cpusetsize {
        // SAFETY: `cpus` holds `cpusetsize` bytes, per the caller.
        if unsafe { core::ptr::read_volatile(cpus.add(i)) } != 0 {
            empty = false;
            break;
        }
    }
    if empty || flags != WHICH_CPUS || !homogeneous {
        // SAFETY: caller contract.
        return unsafe { super::sys_riscv_hwprobe(pairs, pair_count, cpusetsize, cpus, flags) };
    }
    let mut clear_all = false;
    for i in 0..pair_count {
        // SAFETY: `pairs` holds `pair_count` writable pairs, per the caller.
        unsafe {
            let p = pairs.add(i);
            let key = core::ptr::read_volatile(&raw const (*p).key);
            if key_is_valid(key) {
                let want = core::ptr::read_volatile(&raw const (*p).value);
                if !pair_matches(key, value_of(avd, key), want) {
                    clear_all = true;
                }
            } else {
                clear_all = true;
                mark_unknown(p);
            }
        }
    }
    if clear_all {
        for i in 0..cpusetsize {
            // SAFETY: `cpus` holds `cpusetsize` writable bytes, per the caller.
            unsafe { core::ptr::write_volatile(cpus.add(i), 0) };
        }
    }
    0
}
