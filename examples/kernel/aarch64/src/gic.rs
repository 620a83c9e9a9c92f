//! The `virt` machine's GICv2 (QEMU's default `gic-version=2`, no security extensions, so every
//! interrupt is Group 0 and signals IRQ): just enough to route one PPI, the generic timer's
//! virtual timer (INTID 27), to this CPU, and to acknowledge it.

/// Distributor base on `virt`.
pub const GICD_BASE: usize = 0x0800_0000;
/// CPU interface base on `virt`.
pub const GICC_BASE: usize = 0x0801_0000;

const GICD_CTLR: usize = 0x000;
const GICD_ISENABLER: usize = 0x100;
const GICD_IPRIORITYR: usize = 0x400;
const GICC_CTLR: usize = 0x000;
const GICC_PMR: usize = 0x004;
const GICC_IAR: usize = 0x00c;
const GICC_EOIR: usize = 0x010;

/// The virtual timer's PPI (`CNTV`, PPI 11 = INTID 27 on every Arm machine).
pub const VTIMER_INTID: u32 = 27;
/// INTIDs 1020-1023 are special (1023: nothing pending).
pub const SPURIOUS: u32 = 1020;

fn write(addr: usize, v: u32) {
    // SAFETY: `addr` is a GIC register (the bases above, identity-mapped as device memory).
    unsafe { core::ptr::write_volatile(addr as *mut u32, v) };
}

fn read(addr: usize) -> u32 {
    // SAFETY: as in `write`; the only read with a side effect (IAR) is meant to have it.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

/// Enables the distributor and this CPU's interface, and the interrupt `intid` (a PPI) at a
/// priority the interface lets through.
pub fn init(intid: u32) {
    let i = intid as usize;
    // SAFETY: IPRIORITYR is byte-accessible; one byte per interrupt.
    unsafe { core::ptr::write_volatile((GICD_BASE + GICD_IPRIORITYR + i) as *mut u8, 0x80) };
    write(GICD_BASE + GICD_ISENABLER + 4 * (i / 32), 1 << (i % 32));
    write(GICD_BASE + GICD_CTLR, 1);
    write(GICC_BASE + GICC_PMR, 0xf0);
    write(GICC_BASE + GICC_CTLR, 1);
}

/// Acknowledges the highest-priority pending interrupt: its IAR value (INTID in bits 0-9).
pub fn ack() -> u32 {
    read(GICC_BASE + GICC_IAR)
}

/// Ends the interrupt `iar` returned by [`ack`].
pub fn eoi(iar: u32) {
    write(GICC_BASE + GICC_EOIR, iar);
}
