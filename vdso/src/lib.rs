//! `linux-vdso.so.1`: the exported entry points, nothing else.
//!
//! Each export is a thin `extern "C"` shell around the arch-neutral clock code in [`clock`] or an
//! arch hook in [`arch`]. The symbol names, their version node and the weak aliases are fixed by
//! docs/abi.md section 5 and given their version by `linker/<arch>.ver`.
//!
//! The image must never contain a relocation, a libcall, writable data or a reachable panic: the
//! build script verifies the first three after every link; the fourth is why nothing here indexes
//! a slice or divides by a variable.

#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg_attr(all(not(test), target_arch = "x86_64"), path = "arch/x86_64.rs")]
#[cfg_attr(all(not(test), target_arch = "riscv64"), path = "arch/riscv64.rs")]
#[cfg_attr(test, path = "arch/mock.rs")]
mod arch;
mod clock;
mod data;
#[cfg(not(test))]
mod note;
mod seqlock;
#[cfg(test)]
mod tests;

pub use clock::{Timespec, Timeval, Timezone};

/// `int clock_gettime(clockid_t, struct timespec *)`.
///
/// # Safety
/// `ts` must point to writable memory for a `Timespec` (as for the syscall).
#[no_mangle]
pub unsafe extern "C" fn __vdso_clock_gettime(clock: i32, ts: *mut Timespec) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { clock::clock_gettime(clock, ts) }
}

/// `int gettimeofday(struct timeval *, struct timezone *)`; either pointer may be NULL.
///
/// # Safety
/// Non-NULL pointers must be writable.
#[no_mangle]
pub unsafe extern "C" fn __vdso_gettimeofday(tv: *mut Timeval, tz: *mut Timezone) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { clock::gettimeofday(tv, tz) }
}

/// `int clock_getres(clockid_t, struct timespec *)`; `res` may be NULL.
///
/// # Safety
/// A non-NULL `res` must be writable.
#[no_mangle]
pub unsafe extern "C" fn __vdso_clock_getres(clock: i32, res: *mut Timespec) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { clock::clock_getres(clock, res) }
}

/// `time_t time(time_t *)` (x86_64 only); `t` may be NULL.
///
/// # Safety
/// A non-NULL `t` must be writable.
#[cfg(target_arch = "x86_64")]
#[no_mangle]
pub unsafe extern "C" fn __vdso_time(t: *mut i64) -> i64 {
    // SAFETY: forwarded caller contract.
    unsafe { clock::time(t) }
}

/// `int getcpu(unsigned *cpu, unsigned *node, void *tcache)`; any pointer may be NULL.
///
/// # Safety
/// Non-NULL `cpu` and `node` must be writable.
#[no_mangle]
pub unsafe extern "C" fn __vdso_getcpu(cpu: *mut u32, node: *mut u32, tcache: *mut u8) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { arch::getcpu(cpu, node, tcache) }
}

/// `int __vdso_flush_icache(void *start, void *end, unsigned long flags)` (riscv64 only).
///
/// # Safety
/// Same contract as the `riscv_flush_icache` syscall (it is one).
#[cfg(target_arch = "riscv64")]
#[no_mangle]
pub unsafe extern "C" fn __vdso_flush_icache(start: usize, end: usize, flags: usize) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { arch::flush_icache(start, end, flags) }
}

/// `int __vdso_riscv_hwprobe(struct riscv_hwprobe *pairs, size_t pair_count, size_t cpusetsize,
/// cpu_set_t *cpus, unsigned int flags)` (riscv64 only).
///
/// # Safety
/// `pairs` must point to `pair_count` writable pairs and `cpus`, when non-NULL, to
/// `cpusetsize` writable bytes.
#[cfg(target_arch = "riscv64")]
#[no_mangle]
pub unsafe extern "C" fn __vdso_riscv_hwprobe(
    pairs: *mut vdso_abi::riscv64::hwprobe::Pair,
    pair_count: usize,
    cpusetsize: usize,
    cpus: *mut u8,
    flags: u32,
) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { arch::hwprobe::riscv_hwprobe(pairs, pair_count, cpusetsize, cpus, flags) }
}

/// The image never panics (nothing in it indexes or divides by a variable), but `no_std` needs a
/// handler. It must not touch its argument: formatting would pull in code and relocations.
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
