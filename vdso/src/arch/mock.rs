//! Test-only arch hooks: the counter is a value the test injects, the data pages are memory the
//! test owns, and every syscall is recorded instead of made. With these, the arch-neutral clock
//! code (`clock.rs`, `seqlock.rs`, hwprobe) runs in a host test binary — natively on x86_64 and
//! as a riscv64 binary under qemu-riscv64 — and is checked bit for bit against a reference.

use core::cell::Cell;

use crate::clock::Timespec;

#[cfg(target_arch = "riscv64")]
#[path = "riscv64/hwprobe.rs"]
pub mod hwprobe;

/// The generic code behind every optional export is tested on every arch.
pub const HAS_TIME: bool = true;
/// As above.
pub const HAS_GETCPU: bool = true;

/// A syscall the code under test asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Syscall {
    /// Which (a name of ours).
    pub name: &'static str,
    /// First argument.
    pub arg0: i64,
}

thread_local! {
    static PAGE: Cell<*const u8> = const { Cell::new(core::ptr::null()) };
    static COUNTER: Cell<u64> = const { Cell::new(0) };
    static COUNTER_READS: Cell<u32> = const { Cell::new(0) };
    static LAST_SYSCALL: Cell<Option<Syscall>> = const { Cell::new(None) };
    static SYSCALL_RESULT: Cell<i32> = const { Cell::new(0) };
    static COUNTER_HOOK: core::cell::RefCell<Option<Box<dyn FnMut()>>> = const { core::cell::RefCell::new(None) };
}

/// Runs `hook` on every counter read (e.g. to play a concurrent writer).
pub fn set_counter_hook(hook: Option<Box<dyn FnMut()>>) {
    COUNTER_HOOK.with(|c| *c.borrow_mut() = hook);
}

/// Points the code under test at data pages (page 0 of them).
pub fn set_page(p: *const u8) {
    PAGE.with(|c| c.set(p));
}
/// The counter value the next reads return.
pub fn set_counter(v: u64) {
    COUNTER.with(|c| c.set(v));
}
/// Counter reads since the last call (and resets the count).
pub fn take_counter_reads() -> u32 {
    COUNTER_READS.with(|c| c.replace(0))
}
/// The last syscall made (and forgets it).
pub fn take_syscall() -> Option<Syscall> {
    LAST_SYSCALL.with(|c| c.take())
}
/// What recorded syscalls return.
pub fn set_syscall_result(r: i32) {
    SYSCALL_RESULT.with(|c| c.set(r));
}

fn record(name: &'static str, arg0: i64) -> i32 {
    LAST_SYSCALL.with(|c| c.set(Some(Syscall { name, arg0 })));
    SYSCALL_RESULT.with(|c| c.get())
}

/// Seconds a recorded `clock_gettime` writes, to tell its answer from the page's.
pub const SYSCALL_SECONDS: i64 = 424_242;

pub fn vvar_start() -> *const u8 {
    PAGE.with(|c| c.get())
}

pub fn read_counter() -> u64 {
    COUNTER_READS.with(|c| c.set(c.get() + 1));
    COUNTER_HOOK.with(|c| {
        if let Some(hook) = c.borrow_mut().as_mut() {
            hook();
        }
    });
    COUNTER.with(|c| c.get())
}

/// As the target's own arch module, so each target's unit tests exercise its real code shape.
pub const FOLD_BRANCHES: bool = cfg!(target_arch = "riscv64");

/// Nonzero exactly when `now != seq`, computed as the target's own arch module does.
pub fn seq_changed(now: u32, seq: u32) -> u64 {
    if cfg!(target_arch = "riscv64") {
        ((now as i32 as i64) ^ (seq as i32 as i64)) as u64
    } else {
        (now ^ seq) as u64
    }
}

pub fn read_barrier() {
    core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
}

pub fn scale(delta: u64, mult: u32, base: u64, shift: u32) -> u64 {
    ((delta as u128 * mult as u128 + base as u128) >> (shift & 63)) as u64
}

/// # Safety
/// `ts` writable.
pub unsafe extern "C" fn sys_clock_gettime(clock: i32, ts: *mut Timespec) -> i32 {
    let r = record("clock_gettime", clock as i64);
    if r == 0 {
        // SAFETY: caller contract.
        unsafe { *ts = Timespec { tv_sec: SYSCALL_SECONDS, tv_nsec: 0 } };
    }
    r
}

/// # Safety
/// `res` writable or NULL.
pub unsafe extern "C" fn sys_clock_getres(clock: i32, res: *mut Timespec) -> i32 {
    let r = record("clock_getres", clock as i64);
    if r == 0 && !res.is_null() {
        // SAFETY: caller contract.
        unsafe { *res = Timespec { tv_sec: 0, tv_nsec: 1 } };
    }
    r
}

/// # Safety
/// None (recorded, not made).
#[cfg(target_arch = "riscv64")]
pub unsafe extern "C" fn sys_riscv_hwprobe(
    _pairs: *mut vdso_abi::riscv64::hwprobe::Pair,
    pair_count: usize,
    _cpusetsize: usize,
    _cpus: *mut u8,
    _flags: u32,
) -> i32 {
    record("riscv_hwprobe", pair_count as i64)
}

thread_local! {
    static GETRANDOM_CALLS: core::cell::RefCell<Vec<(usize, u32)>> = const { core::cell::RefCell::new(Vec::new()) };
    static GETRANDOM_FILL: Cell<u8> = const { Cell::new(0) };
    static GETRANDOM_FAIL: Cell<bool> = const { Cell::new(false) };
    static GETRANDOM_HOOK: core::cell::RefCell<Option<Box<dyn FnMut()>>> = const { core::cell::RefCell::new(None) };
}

/// Every `getrandom` syscall made since the last call, as `(len, flags)` (and forgets them).
pub fn take_getrandom_calls() -> Vec<(usize, u32)> {
    GETRANDOM_CALLS.with(|c| core::mem::take(&mut *c.borrow_mut()))
}

/// The first byte the next recorded `getrandom` writes.
pub fn set_getrandom_fill(v: u8) {
    GETRANDOM_FILL.with(|c| c.set(v));
}

/// Makes recorded `getrandom` syscalls fail with `-EAGAIN` (or succeed again).
pub fn set_getrandom_fails(fail: bool) {
    GETRANDOM_FAIL.with(|c| c.set(fail));
}

/// Runs `hook` inside every recorded `getrandom` syscall (e.g. to reseed the kernel's RNG).
pub fn set_getrandom_hook(hook: Option<Box<dyn FnMut()>>) {
    GETRANDOM_HOOK.with(|c| *c.borrow_mut() = hook);
}

/// A recorded `getrandom`: fills the buffer with bytes `n, n+1, ...` where `n` counts up across
/// calls (so each key differs, deterministically) and returns `len`.
///
/// # Safety
/// `buf` writable for `len` bytes.
pub unsafe extern "C" fn sys_getrandom(buf: *mut u8, len: usize, flags: u32) -> isize {
    GETRANDOM_CALLS.with(|c| c.borrow_mut().push((len, flags)));
    GETRANDOM_HOOK.with(|c| {
        if let Some(hook) = c.borrow_mut().as_mut() {
            hook();
        }
    });
    if GETRANDOM_FAIL.with(|c| c.get()) {
        return -11;
    }
    let start = GETRANDOM_FILL.with(|c| {
        let v = c.get();
        c.set(v.wrapping_add(1));
        v
    });
    for i in 0..len {
        // SAFETY: caller contract.
        unsafe { *buf.add(i) = start.wrapping_add(i as u8) };
    }
    len as isize
}
