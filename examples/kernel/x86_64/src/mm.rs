//! Physical pages and 4-level page tables.
//!
//! Memory plan (one address space, shared by every CPU and the single process):
//! - the kernel runs identity-mapped through `boot_pml4` (built by the boot code): the first
//!   GiB in 2 MiB pages and the local APIC's page, supervisor only (no `U` bit in the leaves);
//! - everything the program sees is mapped with 4 KiB pages from 1 GiB up, with `U` set: its
//!   text, data and stack, and the vDSO's `[data pages | image]`. Pages that are not executable
//!   get `NX` (`EFER.NXE` is on). The kernel reads and writes user memory directly through those
//!   addresses (SMAP is off).
//!
//! Pages come from a fixed pool in `.bss` (no allocator, no freeing: the kernel runs one program).

use crate::Lock;

/// Page size.
pub const PAGE_SIZE: usize = 4096;

/// Rights for [`AddressSpace::map`] (the loader's vocabulary; translated to x86 bits there).
pub mod pte {
    /// Readable (every present x86 page is).
    pub const R: u64 = 1 << 0;
    /// Writable.
    pub const W: u64 = 1 << 1;
    /// Accessible from user mode.
    pub const U: u64 = 1 << 2;
    /// Executable (without it the page gets `NX`).
    pub const X: u64 = 1 << 3;
}

const P: u64 = 1;
const RW: u64 = 1 << 1;
const US: u64 = 1 << 2;
const PS: u64 = 1 << 7;
const NX: u64 = 1 << 63;
const ADDR: u64 = 0x000f_ffff_ffff_f000;

const POOL_PAGES: usize = 96;

#[repr(C, align(4096))]
struct Pool([[u8; PAGE_SIZE]; POOL_PAGES]);

static POOL: Lock<(Pool, usize)> = Lock::new((Pool([[0; PAGE_SIZE]; POOL_PAGES]), 0));

/// A zeroed page from the pool (its physical = kernel virtual address).
pub fn alloc_page() -> usize {
    let mut guard = POOL.lock();
    let (pool, next) = &mut *guard;
    let page = pool.0.get_mut(*next).expect("page pool exhausted");
    page.fill(0);
    *next += 1;
    page.as_mut_ptr() as usize
}

/// Pages handed out so far.
pub fn pages_used() -> usize {
    POOL.lock().1
}

/// The page-table tree every CPU uses.
pub struct AddressSpace {
    root: usize,
}

fn entry(table: usize, index: usize) -> *mut u64 {
    (table as *mut u64).wrapping_add(index)
}

impl AddressSpace {
    /// The boot tree (`boot_pml4`), which already maps the kernel.
    pub fn new() -> Self {
        AddressSpace { root: (&raw const crate::boot::boot_pml4) as usize }
    }

    /// Maps the 4 KiB page at virtual `va` to physical `pa` with `flags` ([`pte`]), replacing
    /// whatever was there. The caller flushes the TLB ([`activate`]) if the tree is live.
    pub fn map(&mut self, va: usize, pa: usize, flags: u64) {
        assert!(va.is_multiple_of(PAGE_SIZE) && pa.is_multiple_of(PAGE_SIZE));
        assert!(va < 1 << 47, "user addresses live in the lower half");
        let mut table = self.root;
        for level in [3, 2, 1] {
            let slot = entry(table, (va >> (12 + 9 * level)) & 0x1ff);
            // SAFETY: `table` is a page-table page (boot's or the pool's), the index < 512.
            let e = unsafe { *slot };
            if e & P == 0 {
                let next = alloc_page();
                // SAFETY: as above. Intermediate entries allow everything; the leaf decides.
                unsafe { *slot = next as u64 | P | RW | US };
                table = next;
            } else {
                assert!(e & PS == 0, "va {va:#x} is inside a large page");
                table = (e & ADDR) as usize;
            }
        }
        let mut bits = pa as u64 | P;
        if flags & pte::W != 0 {
            bits |= RW;
        }
        if flags & pte::U != 0 {
            bits |= US;
        }
        if flags & pte::X == 0 {
            bits |= NX;
        }
        // SAFETY: `table` is a last-level page-table page, the index < 512.
        unsafe { *entry(table, (va >> 12) & 0x1ff) = bits };
    }

    /// Maps `[va, va + len)` to freshly allocated zeroed pages.
    pub fn map_fresh(&mut self, va: usize, len: usize, flags: u64) {
        for off in (0..len).step_by(PAGE_SIZE) {
            self.map(va + off, alloc_page(), flags);
        }
    }
}

/// Flushes this CPU's TLB (reloads CR3 with the one tree).
pub fn activate() {
    // SAFETY: CR3 keeps pointing at the same tree, which maps the kernel identically.
    unsafe { core::arch::asm!("mov rax, cr3", "mov cr3, rax", out("rax") _, options(nostack)) };
}
