//! The `virt` machine's interrupt controller, just enough to route one PPI, the generic timer's
//! virtual timer (INTID 27), to this CPU and to acknowledge it. QEMU gives a GICv2 by default
//! (`gic-version=2`) and a GICv3 with `gic-version=3`; `ID_AA64PFR0_EL1.GIC` says whether the
//! CPU has the GICv3 system-register interface, which picks the driver. Without security
//! extensions (no EL3) a GICv2 signals Group 0 as IRQ, and a GICv3 (single security state)
//! signals Group 1 as IRQ.

use core::arch::asm;

use crate::Global;

/// Distributor base on `virt` (both versions).
pub const GICD_BASE: usize = 0x0800_0000;
/// GICv2 CPU interface base on `virt`.
const GICC_BASE: usize = 0x0801_0000;
/// GICv3 redistributor of CPU 0 on `virt` (its SGI/PPI frame follows at +64 KiB).
const GICR_BASE: usize = 0x080a_0000;
const GICR_SGI: usize = GICR_BASE + 0x1_0000;

const GICD_CTLR: usize = 0x000;
const GICD_ISENABLER: usize = 0x100;
const GICD_IPRIORITYR: usize = 0x400;
const GICC_CTLR: usize = 0x000;
const GICC_PMR: usize = 0x004;
const GICC_IAR: usize = 0x00c;
const GICC_EOIR: usize = 0x010;
const GICR_WAKER: usize = 0x014;
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
const GICR_IGROUPR0: usize = 0x080;
const GICR_ISENABLER0: usize = 0x100;
const GICR_IPRIORITYR: usize = 0x400;
/// GICD_CTLR (single security state): EnableGrp0, EnableGrp1, ARE.
const GICD_CTLR_V3: u32 = (1 << 0) | (1 << 1) | (1 << 4);

/// The virtual timer's PPI (`CNTV`, PPI 11 = INTID 27 on every Arm machine).
pub const VTIMER_INTID: u32 = 27;
/// INTIDs 1020-1023 are special (1023: nothing pending).
pub const SPURIOUS: u32 = 1020;
/// The priority given to the timer; the mask lets anything above 0xf0 through.
const PRIORITY: u8 = 0x80;
const PMR: u32 = 0xf0;

/// Which GIC the machine has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// Memory-mapped CPU interface.
    V2,
    /// System-register CPU interface and redistributors.
    V3,
}

static VERSION: Global<Version> = Global::new(Version::V2);

fn write(addr: usize, v: u32) {
    // SAFETY: `addr` is a GIC register (the bases above, identity-mapped as device memory).
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) };
}

fn read(addr: usize) -> u32 {
    // SAFETY: as in `write`; the only read with a side effect (IAR) is meant to have it.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write_byte(addr: usize, v: u8) {
    // SAFETY: priority registers are byte-accessible; `addr` is one of them.
    unsafe { core::ptr::write_volatile(addr as *mut u8, v) };
}

/// The GIC in use (after [`init`]).
pub fn version() -> Version {
    // SAFETY: written once in `init`, before any interrupt; a plain enum.
    unsafe { *VERSION.get() }
}

/// Detects the GIC, enables the distributor and this CPU's interface, and the interrupt `intid`
/// (a PPI) at a priority the interface lets through.
pub fn init(intid: u32) {
    let pfr0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { asm!("mrs {0}, id_aa64pfr0_el1", out(reg) pfr0, options(nomem, nostack)) };
    let v = if (pfr0 >> 24) & 0xf != 0 { Version::V3 } else { Version::V2 };
    // SAFETY: boot, before interrupts; nothing else holds it.
    unsafe { *VERSION.get() = v };
    let i = intid as usize;
    match v {
        Version::V2 => {
            write_byte(GICD_BASE + GICD_IPRIORITYR + i, PRIORITY);
            write(GICD_BASE + GICD_ISENABLER + 4 * (i / 32), 1 << (i % 32));
            write(GICD_BASE + GICD_CTLR, 1);
            write(GICC_BASE + GICC_PMR, PMR);
            write(GICC_BASE + GICC_CTLR, 1);
        }
        Version::V3 => {
            // Affinity routing first, then the groups; wake this CPU's redistributor.
            write(GICD_BASE + GICD_CTLR, 1 << 4);
            write(GICD_BASE + GICD_CTLR, GICD_CTLR_V3);
            write(GICR_BASE + GICR_WAKER, read(GICR_BASE + GICR_WAKER) & !WAKER_PROCESSOR_SLEEP);
            while read(GICR_BASE + GICR_WAKER) & WAKER_CHILDREN_ASLEEP != 0 {}
            // PPIs live in the redistributor: Group 1, priority, enable.
            write(GICR_SGI + GICR_IGROUPR0, read(GICR_SGI + GICR_IGROUPR0) | 1 << i);
            write_byte(GICR_SGI + GICR_IPRIORITYR + i, PRIORITY);
            write(GICR_SGI + GICR_ISENABLER0, 1 << i);
            // SAFETY: the system-register interface exists (ID_AA64PFR0_EL1.GIC; `_start` let EL1
            // use it when it came from EL2); these enable it, set the mask and Group 1.
            unsafe {
                asm!(
                    "mrs {t}, icc_sre_el1",
                    "orr {t}, {t}, #1",
                    "msr icc_sre_el1, {t}",
                    "isb",
                    "msr icc_pmr_el1, {pmr}",
                    "msr icc_igrpen1_el1, {one}",
                    "isb",
                    t = out(reg) _,
                    pmr = in(reg) PMR as u64,
                    one = in(reg) 1u64,
                    options(nostack),
                );
            }
        }
    }
}

/// Acknowledges the highest-priority pending interrupt: its IAR value (INTID in bits 0-9 on a
/// GICv2, 0-23 on a GICv3).
pub fn ack() -> u32 {
    match version() {
        Version::V2 => read(GICC_BASE + GICC_IAR),
        Version::V3 => {
            let iar: u64;
            // SAFETY: acknowledging is what this read is for.
            unsafe { asm!("mrs {0}, icc_iar1_el1", out(reg) iar, options(nostack)) };
            iar as u32
        }
    }
}

/// The INTID in an IAR value.
pub fn intid(iar: u32) -> u32 {
    match version() {
        Version::V2 => iar & 0x3ff,
        Version::V3 => iar & 0xff_ffff,
    }
}

/// Ends the interrupt `iar` returned by [`ack`].
pub fn eoi(iar: u32) {
    match version() {
        Version::V2 => write(GICC_BASE + GICC_EOIR, iar),
        // SAFETY: ending the interrupt just acknowledged.
        Version::V3 => unsafe { asm!("msr icc_eoir1_el1, {0}", "isb", in(reg) iar as u64, options(nostack)) },
    }
}
