//! Physical pages and the 4 KiB-granule, 39-bit (three-level) translation tables of TTBR0_EL1.
//!
//! Memory plan (one address space, shared by the kernel and its single process):
//! - the kernel runs identity-mapped: RAM (0x4000_0000, 1 GiB) as one level-1 block of normal
//!   write-back memory, EL1 read/write only, never executable at EL0; the GIC and the UART/RTC
//!   as 2 MiB device blocks (nGnRnE, never executable);
//! - everything the program sees is mapped with 4 KiB pages marked EL0-accessible: its text,
//!   data and stack, and the vDSO's `[data pages | image]`. The kernel reads and writes user
//!   memory directly through those addresses (PSTATE.PAN stays clear: SCTLR_EL1.SPAN = 1).
//!
//! Pages come from a fixed pool in `.bss` (no allocator, no freeing: the kernel runs one program).

use core::arch::asm;

use crate::Global;

/// Page size.
pub const PAGE_SIZE: usize = 4096;

/// What a mapping allows, as `common/loader.rs` asks for it; [`AddressSpace::map`] turns them
/// into the descriptor's AP, UXN and PXN bits.
pub mod pte {
    /// Readable.
    pub const R: u64 = 1 << 0;
    /// Writable.
    pub const W: u64 = 1 << 1;
    /// Executable.
    pub const X: u64 = 1 << 2;
    /// Accessible from EL0.
    pub const U: u64 = 1 << 3;
}

/// Descriptor bits (Arm ARM D8.3, VMSAv8-64 4 KiB granule).
mod desc {
    /// Valid.
    pub const VALID: u64 = 1 << 0;
    /// Table (levels 1-2) or page (level 3); clear = block.
    pub const TABLE: u64 = 1 << 1;
    /// MAIR_EL1 attribute index 0: Device-nGnRnE.
    pub const ATTR_DEVICE: u64 = 0 << 2;
    /// MAIR_EL1 attribute index 1: Normal, inner/outer write-back.
    pub const ATTR_NORMAL: u64 = 1 << 2;
    /// AP[1]: EL0 may access.
    pub const AP_EL0: u64 = 1 << 6;
    /// AP[2]: read-only (at every EL that may access).
    pub const AP_RO: u64 = 1 << 7;
    /// Inner shareable.
    pub const SH_INNER: u64 = 3 << 8;
    /// Access flag (set up front: no access-flag faults).
    pub const AF: u64 = 1 << 10;
    /// Not executable at EL1.
    pub const PXN: u64 = 1 << 53;
    /// Not executable at EL0.
    pub const UXN: u64 = 1 << 54;
}

/// MAIR_EL1: attribute 0 Device-nGnRnE (0x00), attribute 1 Normal write-back (0xff).
pub const MAIR: u64 = 0xff << 8;
/// TCR_EL1: T0SZ = 25 (39-bit VA, walks start at level 1), 4 KiB granule, inner-shareable
/// write-back walks, TTBR1 walks disabled (EPD1), 40-bit physical addresses (IPS = 0b010).
pub const TCR: u64 = 25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (2 << 32);
/// SCTLR_EL1: MMU, data and instruction caches on; EL0 may use `dc zva`, CTR_EL0, WFI/WFE;
/// PSTATE.PAN is left alone on exceptions (SPAN); the ARMv8.0 RES1 bits (11, 20, 22, 28, 29).
pub const SCTLR: u64 = (1 << 0)
    | (1 << 2)
    | (1 << 12)
    | (1 << 14)
    | (1 << 15)
    | (1 << 16)
    | (1 << 18)
    | (1 << 23)
    | (1 << 11)
    | (1 << 20)
    | (1 << 22)
    | (1 << 28)
    | (1 << 29);

const POOL_PAGES: usize = 96;

#[repr(C, align(4096))]
struct Pool([[u8; PAGE_SIZE]; POOL_PAGES]);

static POOL: Global<Pool> = Global::new(Pool([[0; PAGE_SIZE]; POOL_PAGES]));
static NEXT: Global<usize> = Global::new(0);

/// A zeroed page from the pool (its physical = kernel virtual address).
pub fn alloc_page() -> usize {
    // SAFETY: one CPU, and the kernel never re-enters itself (see `Global`).
    let next = unsafe { NEXT.get() };
    // SAFETY: as above; the pool is only handed out page by page, each page once.
    let pool = unsafe { POOL.get() };
    let page = pool.0.get_mut(*next).expect("page pool exhausted");
    *next += 1;
    page.fill(0);
    page.as_mut_ptr() as usize
}

/// Pages handed out so far.
pub fn pages_used() -> usize {
    // SAFETY: see `alloc_page`.
    unsafe { *NEXT.get() }
}

/// A three-level translation table tree (level 1 root, 1 GiB per entry).
pub struct AddressSpace {
    root: usize,
}

fn entry(table: usize, index: usize) -> *mut u64 {
    (table as *mut u64).wrapping_add(index)
}

/// The next-level table an entry points at, made if the entry is empty.
fn next_table(slot: *mut u64, va: usize) -> usize {
    // SAFETY: `slot` is an entry of a pool page-table page.
    let e = unsafe { *slot };
    if e & desc::VALID == 0 {
        let next = alloc_page();
        // SAFETY: as above.
        unsafe { *slot = next as u64 | desc::TABLE | desc::VALID };
        next
    } else {
        assert!(e & desc::TABLE != 0, "va {va:#x} is inside a block");
        (e & 0x0000_ffff_ffff_f000) as usize
    }
}

impl AddressSpace {
    /// A tree with the kernel's identity map: RAM and the devices it uses.
    pub fn new() -> Self {
        let root = alloc_page();
        let ram = 0x4000_0000u64;
        let kernel = desc::VALID | desc::ATTR_NORMAL | desc::SH_INNER | desc::AF | desc::UXN;
        // SAFETY: `root` is a fresh, zeroed, page-aligned pool page; index 1 < 512.
        unsafe { *entry(root, 1) = ram | kernel };
        let devices = next_table(entry(root, 0), 0);
        let device = desc::VALID | desc::ATTR_DEVICE | desc::AF | desc::UXN | desc::PXN;
        for base in [crate::gic::GICD_BASE, crate::console::UART_BASE] {
            // SAFETY: `devices` is a level-2 pool page; a 2 MiB index < 512.
            unsafe { *entry(devices, base >> 21) = (base as u64 & !0x1f_ffff) | device };
        }
        AddressSpace { root }
    }

    /// Maps the 4 KiB page at virtual `va` to physical `pa` with `flags` (`pte::{U, R, W, X}`),
    /// replacing whatever was there. The caller invalidates the TLB ([`activate`]) if the tree
    /// is live.
    pub fn map(&mut self, va: usize, pa: usize, flags: u64) {
        assert!(va.is_multiple_of(PAGE_SIZE) && pa.is_multiple_of(PAGE_SIZE));
        assert!(va < 1 << 39, "user addresses live below 2^39 (T0SZ = 25)");
        assert!(va >> 30 != 1, "va {va:#x} is inside the kernel's RAM block");
        let l2 = next_table(entry(self.root, (va >> 30) & 0x1ff), va);
        let l3 = next_table(entry(l2, (va >> 21) & 0x1ff), va);
        let mut bits = desc::VALID | desc::TABLE | desc::ATTR_NORMAL | desc::SH_INNER | desc::AF;
        if flags & pte::U != 0 {
            bits |= desc::AP_EL0;
        }
        if flags & pte::W == 0 {
            bits |= desc::AP_RO;
        }
        // Never executable by the kernel; by EL0 only where asked.
        bits |= desc::PXN;
        if flags & pte::X == 0 {
            bits |= desc::UXN;
        }
        // SAFETY: `l3` is a level-3 pool page-table page, the index < 512.
        unsafe { *entry(l3, (va >> 12) & 0x1ff) = pa as u64 | bits };
    }

    /// Maps `[va, va + len)` to freshly allocated zeroed pages.
    pub fn map_fresh(&mut self, va: usize, len: usize, flags: u64) {
        let mut off = 0;
        while off < len {
            let page = alloc_page();
            self.map(va + off, page, flags);
            off += PAGE_SIZE;
        }
    }
}

/// Turns the tree on with the MMU and caches (the first time) or, after a change of the live
/// tree, invalidates the TLB.
pub fn activate(space: &AddressSpace) {
    // SAFETY: the tree maps the kernel's RAM and devices identically, so the next instruction
    // fetch and every kernel access stay valid across the switch; the barriers make the table
    // writes visible to the walker before the TLB is emptied and the MMU (re)reads them.
    unsafe {
        asm!(
            "dsb ishst",
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {root}",
            "isb",
            "tlbi vmalle1",
            "dsb ish",
            "isb",
            "msr sctlr_el1, {sctlr}",
            "isb",
            "ic iallu",
            "dsb ish",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) TCR,
            root = in(reg) space.root as u64,
            sctlr = in(reg) SCTLR,
            options(nostack),
        );
    }
}
