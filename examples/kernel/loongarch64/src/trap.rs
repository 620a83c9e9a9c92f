//! Entering and leaving PLV3, and the TLB refill handler.
//!
//! Every exception the kernel handles comes from PLV3: the kernel runs with `CRMD.IE` clear, so
//! the timer interrupt that fires while it works waits until it returns to the program. One trap
//! frame, one kernel stack; `CSR.SAVE0` holds the frame's address while the program runs and 0
//! while the kernel does, so an exception in the kernel itself (a kernel bug) is recognised at
//! the entry and reported instead of corrupting the frame.
//!
//! The frame's first 33 slots are `pc, r0 .. r31`, exactly `sc_pc, sc_regs[32]` of Linux's
//! loongarch `struct sigcontext`, so delivering a signal and `rt_sigreturn` copy it as a block.
//! Neither the kernel nor the program uses floating point (`EUEN.FPE` stays clear: an FP
//! instruction would trap), so there is no FP state to save.
//!
//! TLB refills (a miss on a program address, from either privilege level) go to their own entry,
//! `CSR.TLBRENTRY`, in direct-address mode with their own saved state (`TLBRERA`, `TLBRPRMD`),
//! so they never disturb the general exception's registers or `SAVE0`.

use core::arch::global_asm;

use crate::csr;

/// The saved user context, then what `ertn` restores and the kernel stack to switch to.
#[repr(C)]
pub struct TrapFrame {
    /// `regs[0]` = pc (`ERA`), `regs[1 + i]` = `r<i>` (`regs[1]`, r0, stays 0).
    pub regs: [u64; 33],
    /// `PRMD` to return with: PPLV = 3, PIE = 1.
    pub prmd: u64,
    /// Kernel stack top, loaded on entry.
    pub kernel_sp: u64,
}

const _: () = assert!(core::mem::offset_of!(TrapFrame, prmd) == 264);
const _: () = assert!(core::mem::offset_of!(TrapFrame, kernel_sp) == 272);

/// Register slots used by the kernel.
pub mod reg {
    /// Program counter slot.
    pub const PC: usize = 0;
    /// `ra` (r1).
    pub const RA: usize = 2;
    /// `sp` (r3).
    pub const SP: usize = 4;
    /// `a0` (r4); a1.. follow.
    pub const A0: usize = 5;
    /// `a7` (r11), the syscall number.
    pub const A7: usize = 12;
    /// Where a syscall's number and arguments are.
    pub const SYSCALL: crate::regs::SyscallRegs = crate::regs::SyscallRegs { nr: A7, a0: A0 };
    /// What a signal handler is entered with.
    pub const ENTRY: crate::sigframe::EntryRegs =
        crate::sigframe::EntryRegs { pc: PC, ra: RA, sp: SP, a0: A0 };
}

global_asm!(
    ".section .text",
    ".balign 4096",
    ".globl exception_entry",
    "exception_entry:",
    // sp <-> SAVE0: the frame while the program ran, 0 if the kernel itself took the exception.
    "    csrwr $sp, {save0}",
    "    bnez $sp, 1f",
    "    csrwr $sp, {save0}",
    "    b {kernel_fault}",
    "1:",
    "    st.d $r1, $sp, 16",
    "    st.d $r2, $sp, 24",
    "    st.d $r4, $sp, 40",
    "    st.d $r5, $sp, 48",
    "    st.d $r6, $sp, 56",
    "    st.d $r7, $sp, 64",
    "    st.d $r8, $sp, 72",
    "    st.d $r9, $sp, 80",
    "    st.d $r10, $sp, 88",
    "    st.d $r11, $sp, 96",
    "    st.d $r12, $sp, 104",
    "    st.d $r13, $sp, 112",
    "    st.d $r14, $sp, 120",
    "    st.d $r15, $sp, 128",
    "    st.d $r16, $sp, 136",
    "    st.d $r17, $sp, 144",
    "    st.d $r18, $sp, 152",
    "    st.d $r19, $sp, 160",
    "    st.d $r20, $sp, 168",
    "    st.d $r21, $sp, 176",
    "    st.d $r22, $sp, 184",
    "    st.d $r23, $sp, 192",
    "    st.d $r24, $sp, 200",
    "    st.d $r25, $sp, 208",
    "    st.d $r26, $sp, 216",
    "    st.d $r27, $sp, 224",
    "    st.d $r28, $sp, 232",
    "    st.d $r29, $sp, 240",
    "    st.d $r30, $sp, 248",
    "    st.d $r31, $sp, 256",
    "    csrrd $t0, {save0}",
    "    st.d $t0, $sp, 32",
    "    csrrd $t0, {era}",
    "    st.d $t0, $sp, 0",
    "    csrrd $t0, {prmd}",
    "    st.d $t0, $sp, 264",
    "    csrwr $zero, {save0}",
    "    move $a0, $sp",
    "    ld.d $sp, $sp, 272",
    "    bl {handler}",
    // fall through with a0 = the frame to return to
    ".globl trap_return",
    "trap_return:",
    "    move $sp, $a0",
    "    move $t0, $a0",
    "    csrwr $t0, {save0}",
    "    ld.d $t0, $sp, 0",
    "    csrwr $t0, {era}",
    "    ld.d $t0, $sp, 264",
    "    csrwr $t0, {prmd}",
    "    ld.d $r1, $sp, 16",
    "    ld.d $r2, $sp, 24",
    "    ld.d $r4, $sp, 40",
    "    ld.d $r5, $sp, 48",
    "    ld.d $r6, $sp, 56",
    "    ld.d $r7, $sp, 64",
    "    ld.d $r8, $sp, 72",
    "    ld.d $r9, $sp, 80",
    "    ld.d $r10, $sp, 88",
    "    ld.d $r11, $sp, 96",
    "    ld.d $r12, $sp, 104",
    "    ld.d $r13, $sp, 112",
    "    ld.d $r14, $sp, 120",
    "    ld.d $r15, $sp, 128",
    "    ld.d $r16, $sp, 136",
    "    ld.d $r17, $sp, 144",
    "    ld.d $r18, $sp, 152",
    "    ld.d $r19, $sp, 160",
    "    ld.d $r20, $sp, 168",
    "    ld.d $r21, $sp, 176",
    "    ld.d $r22, $sp, 184",
    "    ld.d $r23, $sp, 192",
    "    ld.d $r24, $sp, 200",
    "    ld.d $r25, $sp, 208",
    "    ld.d $r26, $sp, 216",
    "    ld.d $r27, $sp, 224",
    "    ld.d $r28, $sp, 232",
    "    ld.d $r29, $sp, 240",
    "    ld.d $r30, $sp, 248",
    "    ld.d $r31, $sp, 256",
    "    ld.d $sp, $sp, 32",
    "    ertn",
    // The TLB refill handler (direct-address mode, so TLBRENTRY holds its physical address).
    // Walk the tree PGD (CSR.PGD picks PGDL or PGDH by the failing address), indexed as
    // directory 3 -> directory 1 -> the PTE pair around the address, and fill a TLB entry.
    ".balign 4096",
    ".globl tlb_refill",
    "tlb_refill:",
    "    csrwr $t0, {tlbrsave}",
    "    csrrd $t0, {pgd}",
    "    lddir $t0, $t0, 3",
    "    lddir $t0, $t0, 1",
    "    ldpte $t0, 0",
    "    ldpte $t0, 1",
    "    tlbfill",
    "    csrrd $t0, {tlbrsave}",
    "    ertn",
    save0 = const csr::SAVE0,
    era = const csr::ERA,
    prmd = const csr::PRMD,
    tlbrsave = const csr::TLBRSAVE,
    pgd = const csr::PGD,
    kernel_fault = sym crate::kernel::kernel_fault,
    handler = sym crate::kernel::trap_handler,
);

unsafe extern "C" {
    /// The general exception entry (`CSR.EENTRY`, 4 KiB aligned).
    pub fn exception_entry();
    /// The TLB refill entry (`CSR.TLBRENTRY`, physical, 4 KiB aligned).
    pub fn tlb_refill();
    /// Restores the program's registers from `frame` and `ertn`s to PLV3. Never returns.
    pub fn trap_return(frame: *mut TrapFrame) -> !;
}
