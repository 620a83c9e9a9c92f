//! loongarch64 hooks: the stable counter, the fallback syscalls, `getcpu` from the counter ID
//! and the per-CPU page, `__vdso_rt_sigreturn`, where the data pages are.
//!
//! How this differs from the other arches (Linux 6.8: `arch/loongarch/include/asm/vdso/`,
//! `arch/loongarch/vdso/`):
//! - the counter is the stable counter read by `rdtime.d rd, rj`, which user mode may execute
//!   unless the kernel sets `CSR.MISC.DRDTL3` (reset clear; no enable bit, unlike riscv's
//!   `scounteren.TM` or arm64's `CNTKCTL_EL1`); it also
//!   writes the counter ID (`CSR.TID`) to `rj`, which Linux sets to the CPU number on every CPU:
//!   `getcpu` reads the CPU number from there, with no syscall;
//! - three data pages (`abi/src/loongarch64.rs`): the per-CPU page after the namespace slot
//!   holds each CPU's NUMA node, at a 64-byte stride;
//! - the memory model is weak: the seqlock's read barrier is a real `dbar 0x15` (Linux's
//!   `smp_rmb`, "load before load"; a CPU that does not implement the hint executes it as the
//!   full `dbar 0`);
//! - the fallback is `syscall 0` with the number in `a7`; the kernel may clobber `t0`-`t8`;
//! - pages are 16 KiB in the default build (the row's `page_size`);
//! - with no `SA_RESTORER`, the kernel returns from a handler through `__vdso_rt_sigreturn`.

use core::arch::asm;

use linux_raw_sys::general as nr;
use vdso_abi::loongarch64::PcpuData;

use crate::data::{NR_CPUS, PCPU_PAGE};

#[path = "loongarch64/exports.rs"]
pub mod exports;

/// No `time` export (loongarch Linux has none).
pub const HAS_TIME: bool = false;
/// `__vdso_getcpu` is exported and served from `CSR.TID` and the per-CPU page.
pub const HAS_GETCPU: bool = true;

// `mulh.du` but no funnel shift: the default wide-path arithmetic; `ld.wu` zero-extends, so the
// default `seq_changed` costs nothing; predicted branches are cheap on LA464-class cores.
pub use crate::hooks::defaults::{scale, seq_changed, FOLD_BRANCHES};

const SYS_GETCPU: usize = nr::__NR_getcpu as usize;

/// Start of the data pages (page 0), `DATA_PAGES` pages before the ELF header, PC-relatively.
#[inline(always)]
pub fn vvar_start() -> *const u8 {
    let p: *const u8;
    // SAFETY: only computes an address (`vvar_start` is defined by linker/vdso.lds).
    unsafe {
        asm!("pcalau12i {p}, %pc_hi20(vvar_start)", "addi.d {p}, {p}, %pc_lo12(vvar_start)",
             p = out(reg) p, options(pure, nomem, nostack, preserves_flags));
    }
    p
}

/// The stable counter (`rdtime.d`; its counter-ID output is discarded). Not `nomem`: the
/// compiler must not move it across the seqlock loads.
#[inline(always)]
pub fn read_counter() -> u64 {
    let t: u64;
    // SAFETY: `rdtime.d` has no side effects; the kernel leaves it allowed in user mode.
    unsafe { asm!("rdtime.d {t}, $zero", t = out(reg) t, options(nostack, preserves_flags)) };
    t
}

/// `dbar 0x15`: loads before it are ordered before loads after it (Linux's `smp_rmb` on
/// loongarch). Also a compiler barrier, since the asm may touch memory.
#[inline(always)]
pub fn read_barrier() {
    // SAFETY: a barrier has no effect besides ordering.
    unsafe { asm!("dbar 0x15", options(nostack, preserves_flags)) };
}

/// # Safety
/// The kernel validates the arguments; the caller must expect them to be written as the
/// syscall writes them.
#[inline(always)]
unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: `syscall 0` returns in a0; Linux's syscall path may clobber t0-t8 (its own vDSO
    // lists them), and nothing else.
    unsafe {
        asm!("syscall 0", in("$a7") nr, inlateout("$a0") a0 as isize => ret, in("$a1") a1, in("$a2") a2,
             out("$t0") _, out("$t1") _, out("$t2") _, out("$t3") _, out("$t4") _, out("$t5") _,
             out("$t6") _, out("$t7") _, out("$t8") _, options(nostack, preserves_flags));
    }
    ret
}

crate::hooks::fallback_syscalls!(syscall3);

/// # Safety
/// As for the syscall.
#[inline(never)]
#[cold]
unsafe extern "C" fn sys_getcpu(cpu: *mut u32, node: *mut u32, tcache: *mut u8) -> i32 {
    // SAFETY: caller contract.
    unsafe { syscall3(SYS_GETCPU, cpu as usize, node as usize, tcache as usize) as i32 }
}

/// The counter ID `rdtime.d` writes to its second operand: `CSR.TID`, the CPU number.
#[inline(always)]
fn counter_id() -> u32 {
    let id: u64;
    // SAFETY: as for `read_counter`; the counter value goes to `$zero`.
    unsafe { asm!("rdtime.d $zero, {id}", id = out(reg) id, options(nomem, nostack, preserves_flags)) };
    id as u32
}

/// `getcpu`: the CPU number from `CSR.TID`, the node from that CPU's slot of the per-CPU page;
/// either pointer may be NULL, `tcache` is ignored (as in Linux). A CPU number past the
/// [`NR_CPUS`] slots of the profile's per-CPU array (63 classic, 2048 modern) asks the kernel
/// instead of reading past the mapping.
///
/// # Safety
/// Non-NULL `cpu` and `node` must be writable.
#[inline(always)]
pub unsafe fn getcpu(cpu: *mut u32, node: *mut u32, tcache: *mut u8) -> i32 {
    let id = counter_id();
    if id as usize >= NR_CPUS {
        // SAFETY: caller contract.
        return unsafe { sys_getcpu(cpu, node, tcache) };
    }
    if !cpu.is_null() {
        // SAFETY: non-NULL and writable, per the caller.
        unsafe { cpu.write(id) };
    }
    if !node.is_null() {
        let slot: *const PcpuData = vvar_start()
            .wrapping_add(PCPU_PAGE * crate::variant::PAGE_SIZE)
            .cast::<PcpuData>()
            .wrapping_add(id as usize);
        // SAFETY: `id < NR_CPUS`: the slot is inside the per-CPU array, mapped before the image;
        // non-NULL `node` is writable, per the caller.
        unsafe { node.write(crate::data::load_u32(&raw const (*slot).node)) };
    }
    0
}

// `__vdso_rt_sigreturn`: exactly `li.w a7, 139; syscall 0` (libgcc's loongarch fallback and
// gdb match these words), with a `nop` before it inside the FDE: unwinders look up the FDE of a
// return address at `pc - 1`, and a handler "returns" to the first byte of the trampoline.
//
// Linux 6.8's trampoline has no unwind information in the loaded image; ours describes the
// whole frame, so any DWARF unwinder walks through it, with the rules later Linux releases
// adopted too (`SYM_SIGFUNC_START` in arch/loongarch/include/asm/linkage.h). The rules describe the kernel's `struct rt_sigframe` at `sp`:
// `siginfo` (128 bytes), then `ucontext`, whose `uc_mcontext` starts 176 bytes in (flags,
// link, stack, sigmask, 120 bytes of padding, 16-byte alignment). `struct sigcontext` is
// `sc_pc, sc_regs[32], sc_flags, sc_extcontext`. The CFA is `sp + 304`, the address of the
// sigcontext; `rN` is saved at `CFA + 8 + 8N` (DWARF column N), and the interrupted pc, at
// `CFA + 0`, is described as column 0 (`r0` is hardwired to zero, so its column is free) made
// the return-address column, as riscv64's. The FP registers live in a variable-position
// extended-context record and are not described.
crate::sigreturn::sigreturn_trampoline! {
    name: "__vdso_rt_sigreturn",
    type_prefix: "@",
    return_column: 0,
    cfa: "3",
    first: [".cfi_offset 0, 0"],
    gprs_at: 8,
    rest: [],
    code: ["nop", "__vdso_rt_sigreturn:", "ori $a7, $zero, {nr}", "syscall 0"],
    cfa = const SIGFRAME_MCONTEXT_OFFSET,
    nr = const SYS_RT_SIGRETURN,
}

/// `__NR_rt_sigreturn` on loongarch64.
pub const SYS_RT_SIGRETURN: usize = nr::__NR_rt_sigreturn as usize;
/// Offset of `uc_mcontext` (`struct sigcontext`) in the kernel's `struct rt_sigframe`.
pub const SIGFRAME_MCONTEXT_OFFSET: usize = 128 + 176;
