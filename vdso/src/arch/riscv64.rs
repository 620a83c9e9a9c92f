//! riscv64 hooks: the `time` CSR, the fallback syscalls, `rt_sigreturn`, `flush_icache`,
//! `getcpu` and hwprobe.
//!
//! `rdtime` needs the kernel (and the firmware) to let user mode read `time`
//! (`scounteren.TM`, `mcounteren.TM`: docs/abi.md section 5a). riscv has no `SA_RESTORER`: the kernel
//! points a signal handler's `ra` at `__vdso_rt_sigreturn`, whose unwind information below lets
//! debuggers and libgcc walk from the handler back into the interrupted code.

use core::arch::asm;

#[path = "riscv64/hwprobe.rs"]
pub mod hwprobe;

#[path = "riscv64/exports.rs"]
pub mod exports;

/// No `time` export (riscv64 Linux has none).
pub const HAS_TIME: bool = false;
/// `__vdso_getcpu` is exported (as the syscall: riscv has no user-readable CPU number).
pub const HAS_GETCPU: bool = true;

use linux_raw_sys::general as nr;

const SYS_GETCPU: usize = nr::__NR_getcpu as usize;
const SYS_RISCV_HWPROBE: usize = nr::__NR_riscv_hwprobe as usize;
const SYS_RISCV_FLUSH_ICACHE: usize = nr::__NR_riscv_flush_icache as usize;

/// Start of the data pages (page 0), `DATA_PAGES` pages before the ELF header.
#[inline(always)]
pub fn vvar_start() -> *const u8 {
    let p: *const u8;
    // SAFETY: only computes an address (`vvar_start` is defined by linker/vdso.lds).
    unsafe {
        asm!("lla {p}, vvar_start", p = out(reg) p, options(pure, nomem, nostack, preserves_flags));
    }
    p
}

/// The `time` CSR. Not `nomem`: the compiler must not move it across the seqlock loads.
#[inline(always)]
pub fn read_counter() -> u64 {
    let t: u64;
    // SAFETY: reading `time` has no side effects; the kernel enables it for user mode.
    unsafe { asm!("rdtime {t}", t = out(reg) t, options(nostack, preserves_flags)) };
    t
}

// riscv has `mulhu` but no funnel shift: the default wide-path arithmetic.
pub use crate::hooks::defaults::scale;

/// Whether the fast paths fold tests that would each be a branch into one branch over a few ALU
/// operations. Yes here: under emulation (qemu) every conditional branch ends a translated block
/// and costs about as much as five ALU instructions, and on silicon the fold costs a cycle or two
/// in a path dominated by the `time` CSR read.
pub const FOLD_BRANCHES: bool = true;

/// Nonzero exactly when `now != seq`, as a 64-bit word to fold into one test with others: `lw`
/// sign-extends, so comparing the sign-extended values needs no zero-extension.
#[inline(always)]
pub fn seq_changed(now: u32, seq: u32) -> u64 {
    ((now as i32 as i64) ^ (seq as i32 as i64)) as u64
}

/// `fence r,r`: the reader's loads must not pass the `seq` loads that bracket them (Linux's
/// `smp_rmb`). Also a compiler barrier, since the asm may touch memory.
#[inline(always)]
pub fn read_barrier() {
    // SAFETY: a fence has no effect besides ordering.
    unsafe { asm!("fence r,r", options(nostack, preserves_flags)) };
}

/// # Safety
/// The kernel validates the arguments; the caller must expect them to be written as the
/// syscall writes them.
#[inline(always)]
pub unsafe fn syscall5(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> isize {
    let ret: isize;
    // SAFETY: `ecall` returns in a0 and clobbers nothing else.
    unsafe {
        asm!("ecall", in("a7") nr, inlateout("a0") a0 as isize => ret, in("a1") a1, in("a2") a2,
             in("a3") a3, in("a4") a4, options(nostack, preserves_flags));
    }
    ret
}

crate::hooks::fallback_syscalls!(syscall5, 0, 0);

/// `getcpu`: riscv has no user-readable CPU number, so this is the syscall (as in Linux).
///
/// # Safety
/// As for the syscall.
#[inline(always)]
pub unsafe fn getcpu(cpu: *mut u32, node: *mut u32, tcache: *mut u8) -> i32 {
    // SAFETY: caller contract.
    unsafe { syscall5(SYS_GETCPU, cpu as usize, node as usize, tcache as usize, 0, 0) as i32 }
}

/// `riscv_flush_icache`: the syscall, its answer unchanged.
///
/// # Safety
/// As for the syscall.
#[inline(always)]
pub unsafe fn flush_icache(start: usize, end: usize, flags: usize) -> i32 {
    // SAFETY: caller contract.
    unsafe { syscall5(SYS_RISCV_FLUSH_ICACHE, start, end, flags, 0, 0) as i32 }
}

/// The `riscv_hwprobe` syscall, for the queries the page cannot answer.
///
/// # Safety
/// As for the syscall.
#[inline(never)]
#[cold]
pub unsafe extern "C" fn sys_riscv_hwprobe(
    pairs: *mut vdso_abi::riscv64::hwprobe::Pair,
    pair_count: usize,
    cpusetsize: usize,
    cpus: *mut u8,
    flags: u32,
) -> i32 {
    // SAFETY: caller contract.
    unsafe {
        syscall5(SYS_RISCV_HWPROBE, pairs as usize, pair_count, cpusetsize, cpus as usize, flags as usize)
            as i32
    }
}

// `__vdso_rt_sigreturn`: exactly `li a7, 139; ecall`, uncompressed (libgcc and gdb recognise
// these bytes). The FDE starts one instruction early: unwinders look up the FDE of a return
// address at `pc - 1`, and a handler "returns" to the first byte of the trampoline.
//
// The unwind rules describe the kernel's `struct rt_sigframe` at `sp`: `siginfo` (128 bytes),
// then `ucontext`, whose `uc_mcontext` starts 176 bytes in (flags, link, stack, sigmask, 120 bytes
// of padding, 16-byte alignment). `uc_mcontext.sc_regs` is `pc, x1, ..., x31`. The CFA is
// `sp + 304`, the address of `sc_regs`; register `xN` is saved at `CFA + 8N`, and the interrupted
// pc, in slot 0, is described as column 0 (`x0` is hardwired to zero, so its column is free)
// made the return-address column.
crate::sigreturn::sigreturn_trampoline! {
    name: "__vdso_rt_sigreturn",
    type_prefix: "@",
    return_column: 0,
    cfa: "sp",
    first: [".cfi_offset 0, 0"],
    gprs_at: 0,
    rest: [],
    code: [".option push", ".option norvc", "nop", "__vdso_rt_sigreturn:", "li a7, {nr}", "ecall", ".option pop"],
    cfa = const SIGFRAME_MCONTEXT_OFFSET,
    nr = const SYS_RT_SIGRETURN,
}

/// `__NR_rt_sigreturn` on riscv64.
pub const SYS_RT_SIGRETURN: usize = nr::__NR_rt_sigreturn as usize;
/// Offset of `uc_mcontext.sc_regs` in the kernel's `struct rt_sigframe`.
pub const SIGFRAME_MCONTEXT_OFFSET: usize = 128 + 176;
