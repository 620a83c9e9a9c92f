//! Entering and leaving EL0.
//!
//! Every exception the kernel handles comes from EL0: the kernel runs with PSTATE.I set (the
//! CPU sets it on every exception), so the timer's interrupt waits while it works. One frame,
//! one kernel stack: `SP_EL1` is the stack's top whenever the program runs, and the entry code
//! builds the frame just below it.
//!
//! The frame's first 34 slots are `x0 .. x30, sp, pc, pstate`, exactly `regs[31], sp, pc,
//! pstate` of Linux's arm64 `struct sigcontext`, so delivering a signal and `rt_sigreturn` copy
//! them as a block; the FP/SIMD state follows as Linux's `fpsimd_context` holds it.

use core::arch::global_asm;

/// The saved EL0 context.
#[repr(C, align(16))]
pub struct TrapFrame {
    /// `regs[i]` = `x<i>` for i in 0..31, then `sp` (SP_EL0), `pc` (ELR_EL1), `pstate` (SPSR_EL1).
    pub regs: [u64; 34],
    /// `v0 .. v31`.
    pub vregs: [u128; 32],
    /// FPSR.
    pub fpsr: u32,
    /// FPCR.
    pub fpcr: u32,
}

/// Size of the frame on the kernel stack.
pub const FRAME_SIZE: usize = 800;
const _: () = assert!(core::mem::size_of::<TrapFrame>() == FRAME_SIZE);
const _: () = assert!(core::mem::offset_of!(TrapFrame, vregs) == 272);
const _: () = assert!(core::mem::offset_of!(TrapFrame, fpsr) == 784);

/// Register indices used by the kernel.
pub mod reg {
    /// `x0`, the first argument and the result; x1.. follow.
    pub const X0: usize = 0;
    /// `x8`, the syscall number.
    pub const X8: usize = 8;
    /// `x29`, the frame pointer.
    pub const FP: usize = 29;
    /// `x30`, the link register.
    pub const LR: usize = 30;
    /// `sp` (SP_EL0).
    pub const SP: usize = 31;
    /// The program counter (ELR_EL1).
    pub const PC: usize = 32;
    /// PSTATE (SPSR_EL1).
    pub const PSTATE: usize = 33;
    /// Where a syscall's number and arguments are.
    pub const SYSCALL: crate::regs::SyscallRegs = crate::regs::SyscallRegs { nr: X8, a0: X0 };
    /// What a signal handler is entered with.
    pub const ENTRY: crate::sigframe::EntryRegs =
        crate::sigframe::EntryRegs { pc: PC, ra: LR, sp: SP, a0: X0 };
}

/// What kind of exception `trap_handler` is told it got (0: synchronous, `svc` or a fault).
pub mod kind {
    /// IRQ.
    pub const IRQ: u64 = 1;
}

global_asm!(
    ".section .text",
    ".balign 2048",
    ".globl vectors",
    "vectors:",
    ".balign 128",
    "    mov x0, #0",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #1",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #2",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #3",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #4",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #5",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #6",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #7",
    "    b {kernel_fault}",
    ".balign 128",
    "    sub sp, sp, #{frame}",
    "    stp x0, x1, [sp, #0]",
    "    mov x1, #0",
    "    b el0_entry",
    ".balign 128",
    "    sub sp, sp, #{frame}",
    "    stp x0, x1, [sp, #0]",
    "    mov x1, #1",
    "    b el0_entry",
    ".balign 128",
    "    mov x0, #10",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #11",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #12",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #13",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #14",
    "    b {kernel_fault}",
    ".balign 128",
    "    mov x0, #15",
    "    b {kernel_fault}",
    "el0_entry:",
    "    stp x2, x3, [sp, #16]",
    "    stp x4, x5, [sp, #32]",
    "    stp x6, x7, [sp, #48]",
    "    stp x8, x9, [sp, #64]",
    "    stp x10, x11, [sp, #80]",
    "    stp x12, x13, [sp, #96]",
    "    stp x14, x15, [sp, #112]",
    "    stp x16, x17, [sp, #128]",
    "    stp x18, x19, [sp, #144]",
    "    stp x20, x21, [sp, #160]",
    "    stp x22, x23, [sp, #176]",
    "    stp x24, x25, [sp, #192]",
    "    stp x26, x27, [sp, #208]",
    "    stp x28, x29, [sp, #224]",
    "    mrs x2, sp_el0",
    "    stp x30, x2, [sp, #240]",
    "    mrs x2, elr_el1",
    "    mrs x3, spsr_el1",
    "    stp x2, x3, [sp, #256]",
    "    add x2, sp, #272",
    "    stp q0, q1, [x2, #0]",
    "    stp q2, q3, [x2, #32]",
    "    stp q4, q5, [x2, #64]",
    "    stp q6, q7, [x2, #96]",
    "    stp q8, q9, [x2, #128]",
    "    stp q10, q11, [x2, #160]",
    "    stp q12, q13, [x2, #192]",
    "    stp q14, q15, [x2, #224]",
    "    stp q16, q17, [x2, #256]",
    "    stp q18, q19, [x2, #288]",
    "    stp q20, q21, [x2, #320]",
    "    stp q22, q23, [x2, #352]",
    "    stp q24, q25, [x2, #384]",
    "    stp q26, q27, [x2, #416]",
    "    stp q28, q29, [x2, #448]",
    "    stp q30, q31, [x2, #480]",
    "    mrs x3, fpsr",
    "    mrs x4, fpcr",
    "    add x2, x2, #512",
    "    stp w3, w4, [x2]",
    "    mov x0, sp",
    "    bl {handler}",
    ".globl trap_return",
    "trap_return:",
    "    mov sp, x0",
    "    add x2, sp, #272",
    "    ldp q0, q1, [x2, #0]",
    "    ldp q2, q3, [x2, #32]",
    "    ldp q4, q5, [x2, #64]",
    "    ldp q6, q7, [x2, #96]",
    "    ldp q8, q9, [x2, #128]",
    "    ldp q10, q11, [x2, #160]",
    "    ldp q12, q13, [x2, #192]",
    "    ldp q14, q15, [x2, #224]",
    "    ldp q16, q17, [x2, #256]",
    "    ldp q18, q19, [x2, #288]",
    "    ldp q20, q21, [x2, #320]",
    "    ldp q22, q23, [x2, #352]",
    "    ldp q24, q25, [x2, #384]",
    "    ldp q26, q27, [x2, #416]",
    "    ldp q28, q29, [x2, #448]",
    "    ldp q30, q31, [x2, #480]",
    "    add x5, x2, #512",
    "    ldp w3, w4, [x5]",
    "    msr fpsr, x3",
    "    msr fpcr, x4",
    "    ldp x2, x3, [sp, #256]",
    "    msr elr_el1, x2",
    "    msr spsr_el1, x3",
    "    ldp x30, x2, [sp, #240]",
    "    msr sp_el0, x2",
    "    ldp x0, x1, [sp, #0]",
    "    ldp x2, x3, [sp, #16]",
    "    ldp x4, x5, [sp, #32]",
    "    ldp x6, x7, [sp, #48]",
    "    ldp x8, x9, [sp, #64]",
    "    ldp x10, x11, [sp, #80]",
    "    ldp x12, x13, [sp, #96]",
    "    ldp x14, x15, [sp, #112]",
    "    ldp x16, x17, [sp, #128]",
    "    ldp x18, x19, [sp, #144]",
    "    ldp x20, x21, [sp, #160]",
    "    ldp x22, x23, [sp, #176]",
    "    ldp x24, x25, [sp, #192]",
    "    ldp x26, x27, [sp, #208]",
    "    ldp x28, x29, [sp, #224]",
    "    add sp, sp, #{frame}",
    "    eret",
    frame = const FRAME_SIZE,
    handler = sym crate::kernel::trap_handler,
    kernel_fault = sym crate::kernel::kernel_fault,
);

extern "C" {
    /// The exception vector table (`VBAR_EL1`): EL0's synchronous exceptions and IRQs go to the
    /// kernel; anything taken at EL1 (a kernel bug) to `kernel_fault`.
    pub fn vectors();
    /// Restores the context in the frame at `x0` (which must lie just below the kernel stack's
    /// top) and `eret`s to it.
    pub fn trap_return(frame: *mut TrapFrame) -> !;
}
