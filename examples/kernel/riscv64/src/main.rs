//! A tiny riscv64 kernel that maps `linux-vdso.so.1` into a user address space, keeps its data
//! page fresh, and runs a program that proves every clock is served from the page
//! (`docs/example-kernel.md`).
//!
//! Boot: OpenSBI starts us in S-mode at 0x8020_0000 with the hart id in `a0` and the device tree
//! in `a1`. [`kmain`] reads the tree, builds an Sv39 address space, loads the user program,
//! maps the vDSO at a random address, fills its data page with `vdso-kernel-stub`, arms the timer
//! and drops to user mode. From then on the kernel only runs on traps ([`kernel::trap_handler`]).

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[path = "../../common/boot.rs"]
mod boot;
mod console;
mod fdt;
mod kernel;
#[path = "../../common/loader.rs"]
mod loader;
mod mm;
#[path = "../../common/process.rs"]
mod process;
#[path = "../../common/regs.rs"]
mod regs;
mod sbi;
#[path = "../../common/sigframe.rs"]
mod sigframe;
mod trap;

#[path = "../../shared/proto.rs"]
#[allow(dead_code)]
mod proto;

use core::arch::{asm, global_asm};

use boot::stack_top;
pub use boot::Global;

/// The user program's ELF machine (`EM_RISCV`).
pub const ELF_MACHINE: u16 = 243;
/// riscv64 `AT_HWCAP`: one bit per single-letter extension ('a' = bit 0): rv64imafdc.
pub const HWCAP: usize = {
    let mut bits = 0;
    let ext = b"imafdc";
    let mut i = 0;
    while i < ext.len() {
        bits |= 1 << (ext[i] - b'a');
        i += 1;
    }
    bits
};

global_asm!(
    ".section .text.entry",
    ".globl _start",
    "_start:",
    // Zero .bss (QEMU's loader does too, but do not rely on it), then set up the stack.
    "    la t0, __bss_start",
    "    la t1, __bss_end",
    "1:  bgeu t0, t1, 2f",
    "    sd zero, 0(t0)",
    "    addi t0, t0, 8",
    "    j 1b",
    "2:  la sp, {stack}",
    "    li t0, {size}",
    "    add sp, sp, t0",
    "    call {main}",
    "3:  wfi",
    "    j 3b",
    stack = sym boot::BOOT_STACK,
    size = const boot::STACK_SIZE,
    main = sym kmain,
);

/// Reads the `time` CSR.
pub fn rdtime() -> u64 {
    let t: u64;
    // SAFETY: reading `time` has no side effects.
    unsafe { asm!("rdtime {0}", out(reg) t, options(nomem, nostack)) };
    t
}

extern "C" fn kmain(hart: usize, dtb: usize) -> ! {
    kernel::boot(hart, dtb, stack_top())
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("kernel panic: {info}");
    println!("VDSO-KERNEL-REPORT: fail reason=kernel-panic");
    sbi::shutdown(true)
}
