//! The hook contract: what an architecture file (`arch/<arch>.rs`) provides to the generic code.
//!
//! Linux's `lib/vdso/gettimeofday.c` opens by listing what `asm/vdso/gettimeofday.h` must define
//! and lets `#ifndef` defaults stand; this is that list. The generic algorithm (`clock.rs`,
//! `seqlock.rs`, `data.rs`) calls exactly these, through `crate::arch`, and never asks which
//! architecture it is compiled for.
//!
//! | hook | what | default here |
//! |---|---|---|
//! | `vvar_start() -> *const u8` | address of data page 0, PC-relative (`vvar_start` of `linker/vdso.lds`) | none |
//! | `read_counter() -> u64` | the counter, ordered after the seqlock's `seq` load and before later page loads | none |
//! | `read_barrier()` | the reader's `smp_rmb` between `seq` and the data loads | [`defaults::read_barrier`] (a full acquire fence) |
//! | `scale(delta, mult, base, shift) -> u64` | `(delta * mult + base) >> shift` in 128 bits (the wide path) | [`defaults::scale`] (branch-free, for a multiply-high without a funnel shift) |
//! | `seq_changed(now, seq) -> u64` | nonzero when `now != seq`, as a word to fold with other tests | [`defaults::seq_changed`] |
//! | `FOLD_BRANCHES: bool` | fold the fast path's tests into one branch (cheap ALU, costly branches) | `false` |
//! | `sys_clock_gettime`, `sys_clock_getres`, `sys_getrandom` | the fallback syscalls, `#[cold]` and out of line | none: [`fallback_syscalls!`] defines them around the arch's raw syscall |
//!
//! Entry points only one architecture has (x86_64's and riscv64's `getcpu`, riscv64's
//! `flush_icache` and hwprobe, aarch64's and riscv64's sigreturn trampoline) live in that
//! architecture's files alone; the generic code never calls them.
//!
//! Capability flags (Linux's `VDSO_HAS_TIME` and friends) say which optional entry points the
//! architecture's export shell (`arch/<arch>/exports.rs`) offers: `HAS_TIME`, `HAS_GETCPU`. The
//! names the shells export, and their version node, are the architecture's row of `vdso-abi`'s
//! table (from which the build generates the version script).
//!
//! An arch file takes a default by re-exporting it (`pub use crate::hooks::defaults::scale;`).
//! The signatures are checked below, for every build including the unit tests' mock.

#![allow(dead_code)] // each default is taken by some architectures only

use crate::clock::Timespec;

/// Defines the three clock entry points every architecture exports, under the names of its row
/// of `vdso-abi`'s table: `clock_exports!(__vdso_clock_gettime, __vdso_gettimeofday,
/// __vdso_clock_getres)`. Each is a thin `extern "C"` shell around the generic code.
#[allow(unused_macros)] // not used by the unit tests' mock
macro_rules! clock_exports {
    ($clock_gettime:ident, $gettimeofday:ident, $clock_getres:ident) => {
        /// `int clock_gettime(clockid_t, struct timespec *)`.
        ///
        /// # Safety
        /// `ts` must point to writable memory for a `Timespec` (as for the syscall).
        #[no_mangle]
        pub unsafe extern "C" fn $clock_gettime(clock: i32, ts: *mut $crate::clock::Timespec) -> i32 {
            // SAFETY: forwarded caller contract.
            unsafe { $crate::clock::clock_gettime(clock, ts) }
        }

        /// `int gettimeofday(struct timeval *, struct timezone *)`; either pointer may be NULL.
        ///
        /// # Safety
        /// Non-NULL pointers must be writable.
        #[no_mangle]
        pub unsafe extern "C" fn $gettimeofday(
            tv: *mut $crate::clock::Timeval,
            tz: *mut $crate::clock::Timezone,
        ) -> i32 {
            // SAFETY: forwarded caller contract.
            unsafe { $crate::clock::gettimeofday(tv, tz) }
        }

        /// `int clock_getres(clockid_t, struct timespec *)`; `res` may be NULL.
        ///
        /// # Safety
        /// A non-NULL `res` must be writable.
        #[no_mangle]
        pub unsafe extern "C" fn $clock_getres(clock: i32, res: *mut $crate::clock::Timespec) -> i32 {
            // SAFETY: forwarded caller contract.
            unsafe { $crate::clock::clock_getres(clock, res) }
        }
    };
}
#[allow(unused_imports)] // not used by the unit tests' mock
pub(crate) use clock_exports;

/// Defines the `getrandom` entry point under the architecture's name for it
/// (`getrandom_export!(__vdso_getrandom)`), a thin shell around [`crate::getrandom`].
#[allow(unused_macros)] // not used by the unit tests' mock
macro_rules! getrandom_export {
    ($name:ident) => {
        /// `ssize_t getrandom(void *buf, size_t len, unsigned flags, void *opaque_state,
        /// size_t opaque_len)` (Linux 6.11+).
        ///
        /// # Safety
        /// As Linux's: `buf` writable for `len` bytes, `opaque_state` a state allocated as the
        /// query says, used by one thread at a time (or the query's parameters in query mode).
        #[no_mangle]
        pub unsafe extern "C" fn $name(
            buf: *mut u8,
            len: usize,
            flags: u32,
            opaque_state: *mut u8,
            opaque_len: usize,
        ) -> isize {
            // SAFETY: forwarded caller contract.
            unsafe { $crate::getrandom::getrandom(buf, len, flags, opaque_state, opaque_len) }
        }
    };
}
#[allow(unused_imports)] // not used by the unit tests' mock
pub(crate) use getrandom_export;

/// Defines the fallback syscalls of the hook contract (`sys_clock_gettime`, `sys_clock_getres`,
/// `sys_getrandom`), `#[cold]` and out of line, around the architecture's own raw syscall
/// function, which takes the number then the arguments:
/// - `fallback_syscalls!(syscall3)`: `syscall3(nr, a0, a1, a2)` serves all three (the clock calls
///   pass a zero third argument);
/// - `fallback_syscalls!(syscall5, 0, 0)`: the literals pad every call to the function's arity;
/// - `fallback_syscalls!(syscall3, clock: syscall2)`: the clock calls use a two-argument function
///   (aarch64's, which leaves `x2` alone).
#[allow(unused_macros)] // not used by the unit tests' mock
macro_rules! fallback_syscalls {
    (@ clock: $clock:ident [$($cpad:literal),*], random: $random:ident [$($rpad:literal),*]) => {
        $crate::hooks::fallback_syscalls!(@ clock sys_clock_gettime = __NR_clock_gettime, $clock [$($cpad),*]);
        $crate::hooks::fallback_syscalls!(@ clock sys_clock_getres = __NR_clock_getres, $clock [$($cpad),*]);

        /// `getrandom(2)`: the fallback and the key refresh of the `getrandom` entry point.
        ///
        /// # Safety
        /// As for the syscall: `buf` writable for `len` bytes.
        #[inline(never)]
        #[cold]
        pub unsafe extern "C" fn sys_getrandom(buf: *mut u8, len: usize, flags: u32) -> isize {
            // SAFETY: caller contract.
            unsafe {
                $random(
                    linux_raw_sys::general::__NR_getrandom as usize,
                    buf as usize,
                    len,
                    flags as usize
                    $(, $rpad)*
                )
            }
        }
    };
    (@ clock $name:ident = $nr:ident, $clock:ident [$($cpad:literal),*]) => {
        /// # Safety
        /// As for the syscall.
        #[inline(never)]
        #[cold]
        pub unsafe extern "C" fn $name(clock: i32, ts: *mut $crate::clock::Timespec) -> i32 {
            // SAFETY: caller contract.
            unsafe {
                $clock(linux_raw_sys::general::$nr as usize, clock as isize as usize, ts as usize $(, $cpad)*) as i32
            }
        }
    };
    ($syscall3:ident, clock: $syscall2:ident) => {
        $crate::hooks::fallback_syscalls!(@ clock: $syscall2 [], random: $syscall3 []);
    };
    ($syscall:ident $(, $pad:literal)*) => {
        $crate::hooks::fallback_syscalls!(@ clock: $syscall [0 $(, $pad)*], random: $syscall [$($pad),*]);
    };
}
#[allow(unused_imports)] // not used by the unit tests' mock
pub(crate) use fallback_syscalls;

/// Defaults an arch file may re-export instead of writing its own.
pub mod defaults {
    /// Whether to fold the fast path's tests into one branch: not by default (predicted
    /// branches are nearly free on out-of-order silicon).
    pub const FOLD_BRANCHES: bool = false;

    /// `(delta * mult + base) >> shift` with the product in 128 bits (for deltas past the u64
    /// horizon; the common case never comes here), for an arch with a multiply-high (`mulhu`,
    /// `umulh`) but no funnel shift: the shift of the 128-bit value is done branch-free on its
    /// halves. The shift is masked so a corrupt page cannot make it undefined.
    #[inline(always)]
    pub fn scale(delta: u64, mult: u32, base: u64, shift: u32) -> u64 {
        let s = shift & 63;
        let wide = delta as u128 * mult as u128 + base as u128;
        let (lo, hi) = (wide as u64, (wide >> 64) as u64);
        (lo >> s) | ((hi << 1) << (63 - s))
    }

    /// `now ^ seq`, zero-extended.
    #[inline(always)]
    pub fn seq_changed(now: u32, seq: u32) -> u64 {
        (now ^ seq) as u64
    }

    /// A full acquire fence: correct on every architecture, if not the cheapest.
    #[inline(always)]
    pub fn read_barrier() {
        core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
    }
}

// Every hook exists with its contract's signature (a mismatch fails to compile here, naming the
// hook, rather than somewhere in the generic code).
const _: fn() -> *const u8 = crate::arch::vvar_start;
const _: fn() -> u64 = crate::arch::read_counter;
const _: fn() = crate::arch::read_barrier;
const _: fn(u64, u32, u64, u32) -> u64 = crate::arch::scale;
const _: fn(u32, u32) -> u64 = crate::arch::seq_changed;
const _: bool = crate::arch::FOLD_BRANCHES;
const _: bool = crate::arch::HAS_TIME;
const _: bool = crate::arch::HAS_GETCPU;
const _: unsafe extern "C" fn(i32, *mut Timespec) -> i32 = crate::arch::sys_clock_gettime;
const _: unsafe extern "C" fn(i32, *mut Timespec) -> i32 = crate::arch::sys_clock_getres;
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "riscv64",
    target_arch = "aarch64",
    target_arch = "loongarch64"
))] // getrandom's
const _: unsafe extern "C" fn(*mut u8, usize, u32) -> isize = crate::arch::sys_getrandom;
