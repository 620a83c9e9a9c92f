//! Entering and leaving user mode.
//!
//! Every trap the kernel takes comes from user mode: the kernel itself runs with `sstatus.SIE`
//! clear, so a timer interrupt that fires while it works waits until it returns to the program.
//! That keeps the machine simple: one trap frame, one kernel stack, and the trap handler never
//! re-enters itself.
//!
//! The frame's first 32 slots are `pc, x1 .. x31`, exactly riscv64 Linux's `user_regs_struct`
//! (`sc_regs` of a signal frame), so delivering a signal and `rt_sigreturn` copy it as a block.

use core::arch::global_asm;

/// The saved user context, then the kernel stack pointer the entry code switches to.
#[repr(C)]
pub struct TrapFrame {
    /// `regs[0]` = pc (`sepc`), `regs[i]` = `x<i>` for i in 1..32.
    pub regs: [u64; 32],
    /// Kernel stack top, loaded on entry.
    pub kernel_sp: u64,
}

const _: () = assert!(core::mem::offset_of!(TrapFrame, kernel_sp) == 256);

/// Register indices used by the kernel.
pub mod reg {
    /// Program counter slot.
    pub const PC: usize = 0;
    /// `ra` (x1).
    pub const RA: usize = 1;
    /// `sp` (x2).
    pub const SP: usize = 2;
    /// `a0` (x10); a1.. follow.
    pub const A0: usize = 10;
    /// `a7` (x17), the syscall number.
    pub const A7: usize = 17;
    /// Where a syscall's number and arguments are.
    pub const SYSCALL: crate::regs::SyscallRegs = crate::regs::SyscallRegs { nr: A7, a0: A0 };
    /// What a signal handler is entered with.
    pub const ENTRY: crate::sigframe::EntryRegs =
        crate::sigframe::EntryRegs { pc: PC, ra: RA, sp: SP, a0: A0 };
}

global_asm!(
    ".section .text",
    ".balign 4",
    ".globl trap_entry",
    "trap_entry:",
    // sscratch holds the frame's address while the program runs and 0 while the kernel does;
    // swap it with sp. A trap from the kernel itself (a kernel bug) gets 0: undo and report it.
    "    csrrw sp, sscratch, sp",
    "    bnez sp, 1f",
    "    csrrw sp, sscratch, sp",
    "    j {kernel_fault}",
    "1:",
    "    sd x1, 8(sp)",
    "    sd x3, 24(sp)",
    "    sd x4, 32(sp)",
    "    sd x5, 40(sp)",
    "    sd x6, 48(sp)",
    "    sd x7, 56(sp)",
    "    sd x8, 64(sp)",
    "    sd x9, 72(sp)",
    "    sd x10, 80(sp)",
    "    sd x11, 88(sp)",
    "    sd x12, 96(sp)",
    "    sd x13, 104(sp)",
    "    sd x14, 112(sp)",
    "    sd x15, 120(sp)",
    "    sd x16, 128(sp)",
    "    sd x17, 136(sp)",
    "    sd x18, 144(sp)",
    "    sd x19, 152(sp)",
    "    sd x20, 160(sp)",
    "    sd x21, 168(sp)",
    "    sd x22, 176(sp)",
    "    sd x23, 184(sp)",
    "    sd x24, 192(sp)",
    "    sd x25, 200(sp)",
    "    sd x26, 208(sp)",
    "    sd x27, 216(sp)",
    "    sd x28, 224(sp)",
    "    sd x29, 232(sp)",
    "    sd x30, 240(sp)",
    "    sd x31, 248(sp)",
    "    csrr t0, sscratch",
    "    sd t0, 16(sp)",
    "    csrr t0, sepc",
    "    sd t0, 0(sp)",
    "    csrw sscratch, zero",
    "    mv a0, sp",
    "    ld sp, 256(sp)",
    "    call {handler}",
    // The handler returns the frame to resume (always the same one).
    ".globl trap_return",
    "trap_return:",
    "    ld t0, 0(a0)",
    "    csrw sepc, t0",
    "    csrw sscratch, a0",
    "    ld x1, 8(a0)",
    "    ld x2, 16(a0)",
    "    ld x3, 24(a0)",
    "    ld x4, 32(a0)",
    "    ld x5, 40(a0)",
    "    ld x6, 48(a0)",
    "    ld x7, 56(a0)",
    "    ld x8, 64(a0)",
    "    ld x9, 72(a0)",
    "    ld x11, 88(a0)",
    "    ld x12, 96(a0)",
    "    ld x13, 104(a0)",
    "    ld x14, 112(a0)",
    "    ld x15, 120(a0)",
    "    ld x16, 128(a0)",
    "    ld x17, 136(a0)",
    "    ld x18, 144(a0)",
    "    ld x19, 152(a0)",
    "    ld x20, 160(a0)",
    "    ld x21, 168(a0)",
    "    ld x22, 176(a0)",
    "    ld x23, 184(a0)",
    "    ld x24, 192(a0)",
    "    ld x25, 200(a0)",
    "    ld x26, 208(a0)",
    "    ld x27, 216(a0)",
    "    ld x28, 224(a0)",
    "    ld x29, 232(a0)",
    "    ld x30, 240(a0)",
    "    ld x31, 248(a0)",
    "    ld x10, 80(a0)",
    "    sret",
    handler = sym crate::kernel::trap_handler,
    kernel_fault = sym crate::kernel::kernel_fault,
);

extern "C" {
    /// The trap vector (`stvec`, direct mode).
    pub fn trap_entry();
    /// Restores the context in the frame at `a0` and `sret`s to it.
    pub fn trap_return(frame: *mut TrapFrame) -> !;
}
