//! x86_64 hooks: the TSC, the fallback syscalls, `getcpu`, where the data pages are.
//!
//! The TSC is read as `lfence; rdtsc`. `lfence` is dispatch-serialising on every Intel CPU and
//! on AMD CPUs once the kernel sets the `LFENCE_RDTSC` MSR bit (Linux does), and unlike `rdtscp`
//! it needs no CPU feature beyond SSE2, which every x86_64 CPU has: an image that cannot patch
//! itself must run on any CPU a kernel may boot on.

use core::arch::asm;

// Where the `getcpu` mode byte is depends on the profile's page layout (byte 0 of the classic
// page; the first byte after `vdso_time_data` in the modern one).
#[cfg(feature = "modern")]
use vdso_abi::modern::x86_64::GETCPU_MODE_OFFSET;
#[cfg(not(feature = "modern"))]
use vdso_abi::x86_64::GETCPU_MODE_OFFSET;
use vdso_abi::x86_64::{GDT_CPUNODE_SELECTOR, GETCPU_MODE_RDPID};

use crate::data;

#[path = "x86_64/exports.rs"]
pub mod exports;

/// `__vdso_time` is exported (Linux's `VDSO_HAS_TIME`).
pub const HAS_TIME: bool = true;
/// `__vdso_getcpu` is exported, served without a syscall.
pub const HAS_GETCPU: bool = true;

use linux_raw_sys::general as nr;

const SYS_GETCPU: usize = nr::__NR_getcpu as usize;

/// Start of the data pages (page 0), `DATA_PAGES` pages before the ELF header.
#[inline(always)]
pub fn vvar_start() -> *const u8 {
    let p: *const u8;
    // SAFETY: only computes an address (`vvar_start` is defined by linker/vdso.lds).
    unsafe {
        asm!("lea {p}, [rip + vvar_start]", p = out(reg) p,
             options(pure, nomem, nostack, preserves_flags));
    }
    p
}

/// The TSC, ordered after every earlier load (including the seqlock's `seq`).
#[inline(always)]
pub fn read_counter() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: `lfence` and `rdtsc` have no memory effects; the kernel keeps CR4.TSD clear (ABI.md
    // section 6). Not `nomem`: the compiler must not move the read across the seqlock loads.
    unsafe {
        asm!("lfence", "rdtsc", out("eax") lo, out("edx") hi, options(nostack, preserves_flags));
    }
    (hi as u64) << 32 | lo as u64
}

/// `(delta * mult + base) >> shift` with the product in 128 bits (for deltas past the u64
/// horizon; the common case never comes here): one `mul` and one `shrd`.
#[inline(always)]
pub fn scale(delta: u64, mult: u32, base: u64, shift: u32) -> u64 {
    let wide = delta as u128 * mult as u128 + base as u128;
    let (mut lo, hi) = (wide as u64, (wide >> 64) as u64);
    // `(hi:lo) >> shift` in one `shrd` (which masks the count to 6 bits itself, so a corrupt page
    // cannot make it undefined).
    // SAFETY: pure register arithmetic.
    unsafe {
        asm!("shrd {lo}, {hi}, cl", lo = inout(reg) lo, hi = in(reg) hi, in("ecx") shift,
             options(pure, nomem, nostack));
    }
    lo
}

/// Whether the fast paths fold tests that would each be a branch into one branch over a few ALU
/// operations. Not here: predicted branches are nearly free on x86 silicon, and the fold would
/// cost instructions the kernel's image does not spend (the instruction-count gate).
pub const FOLD_BRANCHES: bool = false;

/// Nonzero exactly when `now != seq`, as a 64-bit word to fold into one test with others: a
/// 32-bit XOR zero-extends for free.
#[inline(always)]
pub fn seq_changed(now: u32, seq: u32) -> u64 {
    (now ^ seq) as u64
}

/// Loads are not reordered with other loads on x86: only the compiler must be held back.
#[inline(always)]
pub fn read_barrier() {
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::Acquire);
}

/// # Safety
/// The kernel validates the arguments; the caller must expect them to be written as the
/// syscall writes them.
#[inline(always)]
unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: the `syscall` instruction clobbers only rcx and r11 besides rax.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a0, in("rsi") a1,
             in("rdx") a2, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

crate::hooks::fallback_syscalls!(syscall3);

/// `(node << 12) | cpu` from the limit of the CPU-number GDT segment (every Linux sets it).
#[inline(always)]
fn cpunode_lsl() -> u32 {
    let p: u32;
    // SAFETY: `lsl` only reads the descriptor table; with a bad selector it leaves the output
    // unchanged (we start from 0) and only clears ZF.
    unsafe {
        asm!("lsl {p:e}, {sel:e}", p = inout(reg) 0u32 => p, sel = in(reg) GDT_CPUNODE_SELECTOR as u32,
             options(nomem, nostack));
    }
    p
}

/// `(node << 12) | cpu` from `TSC_AUX` (the kernel promised RDPID by setting the mode byte).
#[inline(always)]
fn cpunode_rdpid() -> u32 {
    let p: u64;
    // SAFETY: the kernel set the mode byte only on a CPU with RDPID (docs/abi.md section 2).
    unsafe {
        asm!("rdpid {p}", p = out(reg) p, options(nomem, nostack, preserves_flags));
    }
    p as u32
}

/// `getcpu` without a syscall: byte 0 of the data page says which instruction to use.
///
/// The byte is read from page 0 first. Only when it does not say RDPID is it worth checking
/// whether page 0 is a time-namespace page, whose byte the kernel may have left zero, and then
/// taking the real page's: the RDPID path stays as short as Linux's.
///
/// # Safety
/// Non-NULL pointers must be writable.
#[inline(always)]
pub unsafe fn getcpu(cpu: *mut u32, node: *mut u32, _tcache: *mut u8) -> i32 {
    if getcpu_mode_page0() != GETCPU_MODE_RDPID {
        // SAFETY: caller contract.
        return unsafe { getcpu_slow(cpu, node) };
    }
    // SAFETY: caller contract.
    unsafe { store_cpunode(cpunode_rdpid(), cpu, node) }
}

/// Byte 0 of page 0 in one instruction (a RIP-relative load), so the RDPID path is as short as
/// Linux's patched one. A byte load is single-copy atomic.
#[inline(always)]
fn getcpu_mode_page0() -> u8 {
    let mode: u32;
    // SAFETY: page 0 is mapped readable before the image (docs/abi.md section 1).
    unsafe {
        asm!("movzx {m:e}, byte ptr [rip + vvar_start + {off}]", m = out(reg) mode,
             off = const GETCPU_MODE_OFFSET, options(readonly, nostack, preserves_flags));
    }
    mode as u8
}

/// Splits `(node << 12) | cpu` into the non-NULL pointers.
///
/// # Safety
/// Non-NULL pointers must be writable.
#[inline(always)]
unsafe fn store_cpunode(p: u32, cpu: *mut u32, node: *mut u32) -> i32 {
    // SAFETY: non-NULL pointers are writable, per the caller.
    unsafe {
        if !cpu.is_null() {
            *cpu = p & 0xfff;
        }
        if !node.is_null() {
            *node = p >> 12;
        }
    }
    0
}

/// The mode byte of page 0 did not say RDPID: take the real page's (page 0 may be a
/// time-namespace page whose byte the kernel left zero), then `lsl` unless that one says RDPID.
/// A tail call, so the RDPID path keeps no register across a call.
///
/// # Safety
/// Non-NULL pointers must be writable.
#[inline(never)]
unsafe extern "C" fn getcpu_slow(cpu: *mut u32, node: *mut u32) -> i32 {
    let page = data::page_of(data::real_vdso_data());
    // SAFETY: the real data page is mapped.
    let mode = unsafe { data::load_u8(page.wrapping_add(GETCPU_MODE_OFFSET)) };
    let p = if mode == GETCPU_MODE_RDPID { cpunode_rdpid() } else { cpunode_lsl() };
    // SAFETY: caller contract.
    unsafe { store_cpunode(p, cpu, node) }
}

#[allow(dead_code)]
const _: () = {
    // Keep the getcpu syscall number documented next to the others although the image never
    // needs it: x86_64 always has one of the two instructions.
    let _ = SYS_GETCPU;
};

// The weak unprefixed aliases Linux exports on x86_64 (docs/abi.md section 5).
core::arch::global_asm!(
    ".weak clock_gettime",
    ".type clock_gettime, @function",
    ".set clock_gettime, __vdso_clock_gettime",
    ".weak gettimeofday",
    ".type gettimeofday, @function",
    ".set gettimeofday, __vdso_gettimeofday",
    ".weak time",
    ".type time, @function",
    ".set time, __vdso_time",
    ".weak getcpu",
    ".type getcpu, @function",
    ".set getcpu, __vdso_getcpu",
    ".weak clock_getres",
    ".type clock_getres, @function",
    ".set clock_getres, __vdso_clock_getres",
    ".weak getrandom",
    ".type getrandom, @function",
    ".set getrandom, __vdso_getrandom",
);
