//! A tiny aarch64 kernel that maps `linux-vdso.so.1` into a user address space, keeps its data
//! page fresh, and runs a program that proves every clock is served from the page
//! (`docs/example-kernel.md`).
//!
//! Boot: QEMU's `virt` machine loads the ELF and enters `_start` at EL1 (at EL2 with
//! `virtualization=on`: `_start` drops to EL1 first), MMU off, interrupts masked. [`kmain`] builds
//! a 4 KiB-granule address space, loads the user program, maps the vDSO at a random address,
//! fills its data page with `vdso-kernel-stub`, arms the generic timer through the GIC and drops
//! to EL0. From then on the kernel only runs on exceptions ([`kernel::trap_handler`]).

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[path = "../../common/boot.rs"]
mod boot;
mod console;
mod gic;
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

/// The user program's ELF machine (`EM_AARCH64`).
pub const ELF_MACHINE: u16 = 183;
/// arm64 `AT_HWCAP`: FP (bit 0) and ASIMD (bit 1), what the program is built to use.
pub const HWCAP: usize = 0b11;

global_asm!(
    ".section .text.entry",
    ".globl _start",
    "_start:",
    // x19 = the exception level QEMU started us at (1, or 2 with virtualization=on).
    "    mrs x19, CurrentEL",
    "    lsr x19, x19, #2",
    "    cmp x19, #2",
    "    b.ne 1f",
    // EL2: EL1 is AArch64 (HCR_EL2.RW), may use both counters and timers, sees no counter offset;
    // then return to EL1h with every interrupt masked.
    "    mov x0, #(1 << 31)",
    "    msr hcr_el2, x0",
    "    mov x0, #3",
    "    msr cnthctl_el2, x0",
    "    msr cntvoff_el2, xzr",
    // With a GICv3 (ID_AA64PFR0_EL1.GIC), let EL1 use its system-register interface.
    "    mrs x0, id_aa64pfr0_el1",
    "    ubfx x0, x0, #24, #4",
    "    cbz x0, 5f",
    "    mrs x0, icc_sre_el2",
    "    orr x0, x0, #0xf",
    "    msr icc_sre_el2, x0",
    "    isb",
    "5:",
    "    mov x0, #0x3c5",
    "    msr spsr_el2, x0",
    "    adr x0, 1f",
    "    msr elr_el2, x0",
    "    eret",
    "1:",
    // FP/SIMD at EL0 and EL1 (CPACR_EL1.FPEN = 0b11): both the kernel and the program use it.
    "    mov x0, #(3 << 20)",
    "    msr cpacr_el1, x0",
    "    isb",
    // Zero .bss, set up the stack.
    "    adrp x0, __bss_start",
    "    add x0, x0, :lo12:__bss_start",
    "    adrp x1, __bss_end",
    "    add x1, x1, :lo12:__bss_end",
    "2:  cmp x0, x1",
    "    b.hs 3f",
    "    str xzr, [x0], #8",
    "    b 2b",
    "3:  adrp x0, {stack}",
    "    add x0, x0, :lo12:{stack}",
    "    add x0, x0, #{size}",
    "    mov sp, x0",
    "    mov x0, x19",
    "    bl {main}",
    "4:  wfi",
    "    b 4b",
    stack = sym boot::BOOT_STACK,
    size = const boot::STACK_SIZE,
    main = sym kmain,
);

/// Reads the virtual counter `CNTVCT_EL0` as the image does (`isb` first).
pub fn cntvct() -> u64 {
    vdso_kernel_stub::counter::read_counter()
}

/// The counter's frequency, `CNTFRQ_EL0` (set by QEMU).
pub fn cntfrq() -> u64 {
    let f: u64;
    // SAFETY: reading a system register has no side effects.
    unsafe { asm!("mrs {0}, cntfrq_el0", out(reg) f, options(nomem, nostack)) };
    f
}

extern "C" fn kmain(el: u64) -> ! {
    kernel::boot(el, stack_top())
}

/// The PSCI call that powers off: `hvc` when QEMU started us at EL1 (its PSCI emulation takes
/// `hvc`), `smc` when it started us at EL2 (then `hvc` would come back to EL2, which is us).
pub fn power_off(started_at_el2: bool) -> ! {
    const PSCI_SYSTEM_OFF: u64 = 0x8400_0008;
    // SAFETY: SYSTEM_OFF does not return when the emulated firmware takes it.
    unsafe {
        if started_at_el2 {
            asm!("smc #0", in("x0") PSCI_SYSTEM_OFF, options(nostack));
        } else {
            asm!("hvc #0", in("x0") PSCI_SYSTEM_OFF, options(nostack));
        }
    }
    loop {
        // SAFETY: waiting for an interrupt has no memory effects.
        unsafe { asm!("wfi", options(nomem, nostack)) };
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("kernel panic: {info}");
    println!("VDSO-KERNEL-REPORT: fail reason=kernel-panic");
    power_off(kernel::started_at_el2())
}
