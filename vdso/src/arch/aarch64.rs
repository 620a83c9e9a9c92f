//! aarch64 hooks: the generic timer's virtual counter, the fallback syscalls,
//! `__kernel_rt_sigreturn`, where the data pages are.
//!
//! How this differs from the other arches (Linux 6.8: `arch/arm64/include/asm/vdso/`,
//! `arch/arm64/kernel/vdso/`):
//! - the counter is `CNTVCT_EL0`, readable at EL0 once the kernel sets `CNTKCTL_EL1.EL0VCTEN`;
//!   its read is a system-register read, which memory barriers do not order, so it is bracketed:
//!   an `isb` before (the read is not speculated ahead of the seqlock's `seq` load) and a fake
//!   load that depends on the value after (the read then counts as a load for the `dmb ishld`
//!   that follows, as Linux's `arch_counter_enforce_ordering` does). An image cannot patch
//!   itself, so the FEAT_ECV self-synchronising `CNTVCTSS_EL0` Linux switches to is not used;
//! - the memory model is weak: the seqlock's read barrier is a real `dmb ishld` (Linux's
//!   `smp_rmb`);
//! - no `getcpu` and no `time` (Linux's arm64 exports neither), and the entry points are named
//!   `__kernel_*` at `LINUX_2.6.39` (the table's row; `aarch64/exports.rs`);
//! - without `SA_RESTORER` the kernel returns from a handler through `__kernel_rt_sigreturn`.

use core::arch::asm;

use linux_raw_sys::general as nr;

#[path = "aarch64/exports.rs"]
pub mod exports;

/// No `time` export (arm64 Linux has none).
pub const HAS_TIME: bool = false;
/// No `getcpu` export (arm64 Linux has none).
pub const HAS_GETCPU: bool = false;

// `umulh` but no funnel shift: the default wide-path arithmetic; `ldr w` zero-extends, so the
// default `seq_changed` costs nothing; predicted branches are cheap on out-of-order silicon.
pub use crate::hooks::defaults::{scale, seq_changed, FOLD_BRANCHES};

/// Start of the data pages (page 0), `DATA_PAGES` pages before the ELF header, PC-relatively.
#[inline(always)]
pub fn vvar_start() -> *const u8 {
    let p: *const u8;
    // SAFETY: only computes an address (`vvar_start` is defined by linker/vdso.lds).
    unsafe {
        asm!("adrp {p}, vvar_start", "add {p}, {p}, :lo12:vvar_start", p = out(reg) p,
             options(pure, nomem, nostack, preserves_flags));
    }
    p
}

/// `CNTVCT_EL0`, ordered after every earlier load (`isb`) and before every later one (the
/// dependent load of `[sp]`, which a later `dmb ishld` then orders). Not `nomem`: the compiler
/// must not move it across the seqlock loads either.
#[inline(always)]
pub fn read_counter() -> u64 {
    let t: u64;
    // SAFETY: `isb` and `mrs` have no memory effects; the kernel lets EL0 read the virtual
    // counter. The extra load reads `[sp + 0]` (the address depends on the counter value only
    // through `t ^ t`, which is zero), inside this thread's mapped stack.
    unsafe {
        asm!(
            "isb",
            "mrs {t}, cntvct_el0",
            "eor {z}, {t}, {t}",
            "add {z}, sp, {z}",
            "ldr xzr, [{z}]",
            t = out(reg) t,
            z = out(reg) _,
            options(nostack, preserves_flags),
        );
    }
    t
}

/// `dmb ishld`: loads before it are ordered before loads and stores after it (Linux's
/// `smp_rmb` on arm64). Also a compiler barrier, since the asm may touch memory.
#[inline(always)]
pub fn read_barrier() {
    // SAFETY: a barrier has no effect besides ordering.
    unsafe { asm!("dmb ishld", options(nostack, preserves_flags)) };
}

/// # Safety
/// The kernel validates the arguments; the caller must expect them to be written as the
/// syscall writes them.
#[inline(always)]
unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` returns in x0 and clobbers nothing else.
    unsafe {
        asm!("svc #0", in("x8") nr, inlateout("x0") a0 as isize => ret, in("x1") a1, in("x2") a2,
             options(nostack, preserves_flags));
    }
    ret
}

/// # Safety
/// The kernel validates the arguments; the caller must expect them to be written as the
/// syscall writes them.
#[inline(always)]
unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> isize {
    let ret: isize;
    // SAFETY: `svc #0` returns in x0 and clobbers nothing else.
    unsafe {
        asm!("svc #0", in("x8") nr, inlateout("x0") a0 as isize => ret, in("x1") a1,
             options(nostack, preserves_flags));
    }
    ret
}

crate::hooks::fallback_syscalls!(syscall3, clock: syscall2);

// `__kernel_rt_sigreturn`: exactly `mov x8, #139; svc #0` (libgcc, gdb and libunwind recognise
// these words), with a `nop` before it inside the FDE: unwinders look up the FDE of a return
// address at `pc - 1` (libc++ subtracts one unconditionally), and a handler "returns" to the
// first byte of the trampoline.
//
// Linux 6.8 leaves its trampoline without unwind information (its `.cfi_*` lines are commented
// out, so libgcc falls back to matching the two words and reading the sigcontext itself); ours
// describes the whole frame instead, so any DWARF unwinder walks through it. The rules describe
// the kernel's `struct rt_sigframe` at `sp`: `siginfo` (128 bytes), then `ucontext`, whose
// `uc_mcontext` starts 176 bytes in (flags, link, stack, sigmask, 120 bytes of padding, 16-byte
// alignment). `struct sigcontext` is `fault_address, regs[31], sp, pc, pstate`. The CFA is
// `sp + 304`, the address of the sigcontext (as libgcc's fallback has it); `xN` is saved at
// `CFA + 8 + 8N`, `sp` at `CFA + 256`, and the interrupted pc, at `CFA + 264`, is column 96,
// the column libgcc reserves for a signal frame's return address (no register has it). With
// d8-d15 below, every register the procedure-call standard has a callee preserve is described
// (Linux dropped its CFI because it described only x29 and x30, and libgcc then crashed
// unwinding out of a `SIGCANCEL` handler with the other callee-saved registers wrong).
crate::sigreturn::sigreturn_trampoline! {
    name: "__kernel_rt_sigreturn",
    type_prefix: "%",
    return_column: 96,
    cfa: "sp",
    first: [".cfi_offset 0, 8"],
    gprs_at: 8,
    // The pc, then d8-d15 (v8-v15's low halves, callee-saved by the procedure-call standard)
    // from the fpsimd_context record, which Linux always writes first in `__reserved`
    // (sigcontext + 288): an 8-byte header, fpsr, fpcr, then `vregs[32]` of 16 bytes, so `vN`
    // is at CFA + 304 + 16N.
    rest: [
        ".cfi_offset 96, 264",
        ".cfi_offset 72, 432", ".cfi_offset 73, 448", ".cfi_offset 74, 464", ".cfi_offset 75, 480",
        ".cfi_offset 76, 496", ".cfi_offset 77, 512", ".cfi_offset 78, 528", ".cfi_offset 79, 544",
    ],
    code: ["nop", "__kernel_rt_sigreturn:", "mov x8, #{nr}", "svc #0"],
    cfa = const SIGFRAME_MCONTEXT_OFFSET,
    nr = const SYS_RT_SIGRETURN,
}

/// `__NR_rt_sigreturn` on aarch64.
pub const SYS_RT_SIGRETURN: usize = nr::__NR_rt_sigreturn as usize;
/// Offset of `uc_mcontext` (`struct sigcontext`) in the kernel's `struct rt_sigframe`.
pub const SIGFRAME_MCONTEXT_OFFSET: usize = 128 + 176;
