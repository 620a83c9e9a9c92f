//! A tiny loongarch64 kernel that maps `linux-vdso.so.1` into a user address space, keeps its
//! data page fresh, and runs a program that proves every clock is served from the page
//! (`docs/example-kernel.md`).
//!
//! Boot: QEMU's `virt` machine loads the ELF and starts `_start` at PLV0 in direct-address mode
//! (no firmware with `-kernel`), interrupts off. `_start` opens the two direct-mapped windows
//! Linux uses (DMW0 uncached at 0x8000..., DMW1 cached at 0x9000..., PLV0 only), turns paging on
//! (the kernel keeps running in DMW1, where it is linked) and calls [`kmain`]. The kernel builds
//! a page table for the program's addresses (walked by the TLB refill handler with `lddir`/
//! `ldpte`), loads the program, maps the vDSO at a random address, fills its data pages with
//! `vdso-kernel-stub`, starts the constant timer and enters PLV3. From then on the kernel only
//! runs on exceptions ([`kernel::trap_handler`]).

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[path = "../../common/boot.rs"]
mod boot;
mod console;
mod csr;
mod kernel;
#[path = "../../common/loader.rs"]
mod loader;
mod mm;
#[path = "../../common/process.rs"]
mod process;
#[path = "../../common/regs.rs"]
mod regs;
#[path = "../../common/sigframe.rs"]
mod sigframe;
mod trap;

#[path = "../../shared/proto.rs"]
#[allow(dead_code)]
mod proto;

use core::arch::{asm, global_asm};

use boot::stack_top;
pub use boot::Global;

/// The user program's ELF machine (`EM_LOONGARCH`).
pub const ELF_MACHINE: u16 = 258;
/// loongarch `AT_HWCAP`: CPUCFG (bit 0) and LAM (bit 1); no FPU bit: the kernel keeps EUEN.FPE
/// off and the program uses no floating point.
pub const HWCAP: usize = 0b11;

global_asm!(
    ".section .text.entry",
    ".globl _start",
    "_start:",
    // DMW0: 0x8000... uncached (MAT 0), DMW1: 0x9000... coherent cached (MAT 1), both PLV0 only.
    "    li.d $t0, 0x8000000000000001",
    "    csrwr $t0, {dmw0}",
    "    li.d $t0, 0x9000000000000011",
    "    csrwr $t0, {dmw1}",
    // Paging on (PG = 1, DA = 0), PLV0, interrupts off, cached accesses in DA mode (DATF = DATM
    // = 1). The PC (linked at 0x9000...) now goes through DMW1.
    "    li.w $t0, 0xb0",
    "    csrwr $t0, {crmd}",
    "    csrwr $zero, {prmd}",
    "    csrwr $zero, {euen}",
    // SAVE0 = 0: "the kernel is running" for the exception entry.
    "    csrwr $zero, {save0}",
    // Zero .bss, set up the stack.
    "    la.pcrel $t0, __bss_start",
    "    la.pcrel $t1, __bss_end",
    "2:  bgeu $t0, $t1, 3f",
    "    st.d $zero, $t0, 0",
    "    addi.d $t0, $t0, 8",
    "    b 2b",
    "3:  la.pcrel $sp, {stack}",
    "    li.d $t0, {size}",
    "    add.d $sp, $sp, $t0",
    "    bl {main}",
    "4:  idle 0",
    "    b 4b",
    dmw0 = const csr::DMW0,
    dmw1 = const csr::DMW1,
    crmd = const csr::CRMD,
    prmd = const csr::PRMD,
    euen = const csr::EUEN,
    save0 = const csr::SAVE0,
    stack = sym boot::BOOT_STACK,
    size = const boot::STACK_SIZE,
    main = sym kmain,
);

/// The stable counter as the image reads it (`rdtime.d`), and the counter id (`CSR.TID`).
pub fn rdtime() -> (u64, u64) {
    let (t, id): (u64, u64);
    // SAFETY: reading the stable counter has no side effects.
    unsafe { asm!("rdtime.d {0}, {1}", out(reg) t, out(reg) id, options(nomem, nostack)) };
    (t, id)
}

/// The stable counter.
pub fn now() -> u64 {
    rdtime().0
}

/// The stable counter's frequency: `CPUCFG` word 4 (the crystal's frequency) times word 5's
/// `CC_MUL / CC_DIV`.
pub fn counter_freq() -> u64 {
    let (base, ratio): (u64, u64);
    // SAFETY: `cpucfg` reads configuration words; no side effects.
    unsafe {
        asm!("cpucfg {0}, {2}", "cpucfg {1}, {3}", out(reg) base, out(reg) ratio, in(reg) 4u64, in(reg) 5u64,
             options(nomem, nostack))
    };
    let (mul, div) = (ratio & 0xffff, (ratio >> 16) & 0xffff);
    base * mul.max(1) / div.max(1)
}

extern "C" fn kmain() -> ! {
    kernel::boot(stack_top())
}

/// Powers off through the `virt` machine's ACPI GED (hardware-reduced ACPI): sleep type S5 with
/// SLP_EN into its sleep control register (0x100e_001c), through the uncached window.
pub fn power_off() -> ! {
    const GED_SLEEP_CTL: usize = 0x8000_0000_100e_001c;
    const SLP_TYP_S5: u8 = 5 << 2;
    const SLP_EN: u8 = 1 << 5;
    // SAFETY: the GED's sleep control register is a byte register; writing S5 | SLP_EN ends QEMU.
    unsafe { core::ptr::write_volatile(GED_SLEEP_CTL as *mut u8, SLP_TYP_S5 | SLP_EN) };
    loop {
        // SAFETY: waiting for an interrupt has no memory effects.
        unsafe { asm!("idle 0", options(nomem, nostack)) };
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("kernel panic: {info}");
    println!("VDSO-KERNEL-REPORT: fail reason=kernel-panic");
    power_off()
}
