//! Physical pages and Sv39 page tables.
//!
//! Memory plan (one address space, shared by the kernel and its single process):
//! - the kernel runs identity-mapped: one 1 GiB leaf at 0x8000_0000 (RAM), readable, writable
//!   and executable by the supervisor only (no `U` bit, so the program cannot touch it);
//! - everything the program sees is mapped with 4 KiB pages below that, with `U` set: its text,
//!   data and stack, and the vDSO's `[data pages | image]`. The kernel reads and writes user
//!   memory directly through those addresses with `sstatus.SUM` set.
//!
//! Pages come from a fixed pool in `.bss` (no allocator, no freeing: the kernel runs one program).

use crate::Global;

/// Page size.
pub const PAGE_SIZE: usize = 4096;

/// PTE bits (privileged spec, "Sv39").
pub mod pte {
    /// Valid.
    pub const V: u64 = 1 << 0;
    /// Readable.
    pub const R: u64 = 1 << 1;
    /// Writable.
    pub const W: u64 = 1 << 2;
    /// Executable.
    pub const X: u64 = 1 << 3;
    /// Accessible from user mode.
    pub const U: u64 = 1 << 4;
    /// Global (present in every address space).
    pub const G: u64 = 1 << 5;
    /// Accessed (set up front: no A/D-update faults).
    pub const A: u64 = 1 << 6;
    /// Dirty.
    pub const D: u64 = 1 << 7;
}

const POOL_PAGES: usize = 96;

#[repr(C, align(4096))]
struct Pool([[u8; PAGE_SIZE]; POOL_PAGES]);

static POOL: Global<Pool> = Global::new(Pool([[0; PAGE_SIZE]; POOL_PAGES]));
static NEXT: Global<usize> = Global::new(0);

/// A zeroed page from the pool (its physical = kernel virtual address).
pub fn alloc_page() -> usize {
    // SAFETY: single hart, and the kernel never re-enters itself (see `Global`).
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

/// An Sv39 page-table tree.
pub struct AddressSpace {
    root: usize,
}

fn entry(table: usize, index: usize) -> *mut u64 {
    (table as *mut u64).wrapping_add(index)
}

impl AddressSpace {
    /// A tree with the kernel's identity map of RAM (1 GiB at 0x8000_0000).
    pub fn new() -> Self {
        let root = alloc_page();
        let ram = 0x8000_0000u64;
        // SAFETY: `root` is a fresh, zeroed, page-aligned page of the pool; index 2 is in range.
        unsafe {
            *entry(root, 2) =
                ((ram >> 12) << 10) | pte::V | pte::R | pte::W | pte::X | pte::G | pte::A | pte::D
        };
        AddressSpace { root }
    }

    /// The `satp` value that selects this tree (Sv39, ASID 0).
    pub fn satp(&self) -> usize {
        (8 << 60) | (self.root >> 12)
    }

    /// Maps the 4 KiB page at virtual `va` to physical `pa` with `flags` (`R`/`W`/`X`/`U`),
    /// replacing whatever was there. The caller flushes the TLB (`sfence.vma`) if the tree is live.
    pub fn map(&mut self, va: usize, pa: usize, flags: u64) {
        assert!(va.is_multiple_of(PAGE_SIZE) && pa.is_multiple_of(PAGE_SIZE));
        assert!(va < 1 << 38, "user addresses live in the lower half of Sv39");
        let mut table = self.root;
        for level in [2, 1] {
            let index = (va >> (12 + 9 * level)) & 0x1ff;
            let slot = entry(table, index);
            // SAFETY: `table` is a page-table page from the pool, `index` < 512.
            let e = unsafe { *slot };
            if e & pte::V == 0 {
                let next = alloc_page();
                // SAFETY: as above.
                unsafe { *slot = ((next as u64 >> 12) << 10) | pte::V };
                table = next;
            } else {
                assert!(e & (pte::R | pte::W | pte::X) == 0, "va {va:#x} is inside a large page");
                table = ((e >> 10) << 12) as usize;
            }
        }
        let leaf = entry(table, (va >> 12) & 0x1ff);
        let mut bits = flags | pte::V | pte::A;
        if flags & pte::W != 0 {
            bits |= pte::D;
        }
        // SAFETY: `table` is a level-0 page-table page from the pool, the index < 512.
        unsafe { *leaf = ((pa as u64 >> 12) << 10) | bits };
    }

    /// Maps `[va, va + len)` to freshly allocated zeroed pages (not contiguous physically; the
    /// kernel reaches them through `va` with `sstatus.SUM` set).
    pub fn map_fresh(&mut self, va: usize, len: usize, flags: u64) {
        let mut off = 0;
        while off < len {
            let page = alloc_page();
            self.map(va + off, page, flags);
            off += PAGE_SIZE;
        }
    }
}

/// Turns the tree on (or flushes the TLB after a change of the live tree).
pub fn activate(space: &AddressSpace) {
    // SAFETY: the tree maps the kernel's RAM identically, so the next instruction fetch and
    // every kernel access stay valid across the switch.
    unsafe {
        core::arch::asm!("csrw satp, {0}", "sfence.vma", in(reg) space.satp(), options(nostack));
    }
}
