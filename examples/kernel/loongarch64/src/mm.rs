//! Physical pages and the three-level page table the TLB refill handler walks.
//!
//! LoongArch's TLB is filled by software: a TLB miss enters the refill handler
//! (`trap.rs`, `CSR.TLBRENTRY`), which walks this tree with `lddir` (directory levels 3 and 1:
//! the root as `CSR.PWCH` describes it, whose 6-bit base field reaches bit 36, and the middle
//! level as `CSR.PWCL` does; level 2 has width 0, as in Linux's three-level configuration) and
//! `ldpte` (the even/odd PTE pair), then `tlbfill`s. Every
//! directory slot points somewhere: an empty one at the shared invalid table of the next level
//! (as Linux does), so a walk of an unmapped address ends in a zero PTE (not valid) and the access
//! takes a page-invalid exception instead of reading stray memory.
//!
//! Memory plan: the kernel runs in the direct-mapped windows (DMW1 cached, DMW0 uncached for the
//! devices), which translate without the TLB and only at PLV0; the tree holds only what the
//! program sees (its text, data, stack and the vDSO), as PLV3 pages. The kernel reads and writes
//! user memory directly through those addresses (a PLV3 page with RPLV clear is reachable from
//! PLV0 too), after checking each pointer against the program's regions.
//!
//! Pages come from a fixed pool in `.bss` (no allocator, no freeing: the kernel runs one program).

use core::arch::asm;

use crate::{csr, csrwr, Global};

/// log2 of the page size: 16 KiB, Linux's default on loongarch64, or 4 KiB with the `pages-4k`
/// feature (the walker's widths, the STLB page size and the TLB entries follow from it).
#[cfg(not(feature = "pages-4k"))]
pub const PAGE_SHIFT: usize = 14;
/// See above.
#[cfg(feature = "pages-4k")]
pub const PAGE_SHIFT: usize = 12;

/// QEMU 7.2's loongarch emulation caches translations in 16 KiB units (`TARGET_PAGE_BITS` 14;
/// "target/loongarch: Support 4K page size", October 2023, made it 12): it installs the
/// translation of a TLB hit for the whole 16 KiB block around the address, as if the block were
/// mapped contiguously. With 4 KiB pages a mapping is therefore only seen right when every
/// 16 KiB block of virtual addresses maps the four pages of one 16 KiB-aligned physical block,
/// in order. [`AddressSpace::map`] keeps that true (a no-op with 16 KiB pages); hardware needs
/// none of it.
pub const QEMU_BLOCK: usize = 16384;
/// What a mapping's start is aligned to: a page, and at least a [`QEMU_BLOCK`].
pub const MAP_ALIGN: usize = if PAGE_SIZE > QEMU_BLOCK { PAGE_SIZE } else { QEMU_BLOCK };
/// Page size.
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
/// Index bits of one table level (a page of 8-byte entries).
const LEVEL_BITS: usize = PAGE_SHIFT - 3;
/// Where the levels' indices start: PTE table, directory 1, directory 3 (the root).
const PT_BASE: usize = PAGE_SHIFT;
const DIR1_BASE: usize = PT_BASE + LEVEL_BITS;
const DIR3_BASE: usize = DIR1_BASE + LEVEL_BITS;
/// The user address space the tree covers (47 bits with 16 KiB pages, 39 with 4 KiB).
pub const VA_BITS: usize = DIR3_BASE + LEVEL_BITS;

/// `CSR.PWCL`: PTbase, PTwidth, Dir1_base, Dir1_width (directory 2: width 0); 64-bit entries.
const PWCL: u64 = (PT_BASE | LEVEL_BITS << 5 | DIR1_BASE << 10 | LEVEL_BITS << 15) as u64;
/// `CSR.PWCH`: Dir3_base, Dir3_width (directory 4: width 0).
const PWCH: u64 = (DIR3_BASE | LEVEL_BITS << 6) as u64;

/// The direct-mapped windows translate by dropping the window's top bits: a kernel address's
/// physical address is its low 48 bits (QEMU's PALEN).
const PHYS_MASK: usize = (1 << 48) - 1;

/// The cached window (DMW1) kernel addresses live in.
const KERNEL_WINDOW: usize = 0x9000_0000_0000_0000;

/// The physical address of a kernel (DMW1) address.
pub fn phys(kaddr: usize) -> usize {
    kaddr & PHYS_MASK
}

/// The kernel (DMW1) address of a physical address.
fn kaddr(phys: usize) -> usize {
    phys | KERNEL_WINDOW
}

/// What a mapping allows, as `common/loader.rs` asks for it; [`AddressSpace::map`] turns them
/// into the PTE's PLV, D, NR and NX bits.
pub mod pte {
    /// Readable.
    pub const R: u64 = 1 << 0;
    /// Writable.
    pub const W: u64 = 1 << 1;
    /// Executable.
    pub const X: u64 = 1 << 2;
    /// Accessible from PLV3.
    pub const U: u64 = 1 << 3;
}

/// TLB entry (PTE) bits (LoongArch Reference Manual vol. 1, 7.5.3 TLBELO0/1).
mod bits {
    /// Valid.
    pub const V: u64 = 1 << 0;
    /// Dirty: writes allowed (else a page-modify exception).
    pub const D: u64 = 1 << 1;
    /// PLV 3: reachable from every privilege level (RPLV clear).
    pub const PLV3: u64 = 3 << 2;
    /// Memory access type 1: coherent cached.
    pub const MAT_CC: u64 = 1 << 4;
    /// Not readable.
    pub const NR: u64 = 1 << 61;
    /// Not executable.
    pub const NX: u64 = 1 << 62;
}

/// 1 MiB of pages.
const POOL_PAGES: usize = (1 << 20) / PAGE_SIZE;

#[repr(C, align(16384))]
struct Pool([[u8; PAGE_SIZE]; POOL_PAGES]);

const _: () = assert!(align_of::<Pool>() >= PAGE_SIZE);

static POOL: Global<Pool> = Global::new(Pool([[0; PAGE_SIZE]; POOL_PAGES]));
static NEXT: Global<usize> = Global::new(0);
/// Pool blocks ([`QEMU_BLOCK`] each) that one owner holds whole: those [`alloc_pages`] handed out
/// (bit `i` = block `i`); any may be mapped directly.
static WHOLE_BLOCKS: Global<u64> = Global::new(0);

const _: () = assert!(POOL_PAGES * PAGE_SIZE / QEMU_BLOCK <= 64);

/// A zeroed page from the pool (a kernel address in DMW1).
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

/// `n` zeroed pages, contiguous and starting on a [`QEMU_BLOCK`] (pool pages skipped to get
/// there stay unused), whose blocks then belong to the caller whole.
pub fn alloc_pages(n: usize) -> usize {
    // SAFETY: see `alloc_page`.
    let next = unsafe { NEXT.get() };
    *next = (*next).next_multiple_of(QEMU_BLOCK.div_ceil(PAGE_SIZE));
    let first = alloc_page();
    for i in 1..n {
        assert_eq!(alloc_page(), first + i * PAGE_SIZE);
    }
    let pool = pool_start();
    for block in (first - pool) / QEMU_BLOCK..(first - pool + n * PAGE_SIZE).div_ceil(QEMU_BLOCK) {
        // SAFETY: see `alloc_page`.
        unsafe { *WHOLE_BLOCKS.get() |= 1 << block };
    }
    first
}

/// The pool's first page (a kernel address).
fn pool_start() -> usize {
    POOL.0.get() as usize
}

/// Whether the kernel page `kaddr` lies in a pool block one owner holds whole.
fn in_whole_block(kaddr: usize) -> bool {
    let pool = pool_start();
    let block = kaddr.wrapping_sub(pool) / QEMU_BLOCK;
    // SAFETY: see `alloc_page`.
    block < 64 && unsafe { *WHOLE_BLOCKS.get() } & (1 << block) != 0
}

/// Whether [`AddressSpace::map`] maps the page at `kaddr` itself at a suitably aligned address
/// (rather than a copy in a whole block: see [`QEMU_BLOCK`]).
pub fn maps_in_place(kaddr: usize) -> bool {
    PAGE_SIZE >= QEMU_BLOCK || in_whole_block(kaddr)
}

/// Pages handed out so far.
pub fn pages_used() -> usize {
    // SAFETY: see `alloc_page`.
    unsafe { *NEXT.get() }
}

/// Entry `index` of the table at kernel address `table`.
fn entry(table: usize, index: usize) -> *mut u64 {
    (table as *mut u64).wrapping_add(index)
}

/// A table whose every entry is `fill` (the physical address of the next level's invalid table).
fn table_of(fill: u64) -> usize {
    let t = alloc_page();
    for i in 0..1 << LEVEL_BITS {
        // SAFETY: `t` is a fresh pool page of `1 << LEVEL_BITS` entries.
        unsafe { *entry(t, i) = fill };
    }
    t
}

/// The three-level tree the refill handler walks (root indexed as directory 3).
pub struct AddressSpace {
    root: usize,
    /// Which physical block ([`QEMU_BLOCK`]) each virtual block maps (`(va block, kernel
    /// address of the physical block)`), for pages smaller than a block.
    blocks: [(usize, usize); 32],
    nblocks: usize,
    /// Physical addresses of the shared invalid directory-1 and PTE tables.
    invalid_dir1: u64,
    invalid_pt: u64,
}

impl AddressSpace {
    /// An empty tree: every root slot points at the invalid directory-1 table, whose every slot
    /// points at the (all-zero) invalid PTE table.
    pub fn new() -> Self {
        let invalid_pt = phys(alloc_page()) as u64;
        let invalid_dir1 = phys(table_of(invalid_pt)) as u64;
        let root = table_of(invalid_dir1);
        AddressSpace { root, invalid_dir1, invalid_pt, blocks: [(0, 0); 32], nblocks: 0 }
    }

    /// The next-level table an entry points at (a kernel address), made if it is the invalid one.
    fn next_table(slot: *mut u64, invalid: u64, fill: u64) -> usize {
        // SAFETY: `slot` is an entry of a pool page-table page.
        let e = unsafe { *slot };
        if e == invalid {
            let t = table_of(fill);
            // SAFETY: as above.
            unsafe { *slot = phys(t) as u64 };
            t
        } else {
            kaddr(e as usize)
        }
    }

    /// Maps the page at virtual `va` to the kernel page `kaddr` (its physical address goes into
    /// the PTE) with `flags` (`pte::{U, R, W, X}`), replacing whatever was there. The caller
    /// flushes the TLB ([`activate`]) if the page was mapped before.
    pub fn map(&mut self, va: usize, kaddr: usize, flags: u64) {
        assert!(va.is_multiple_of(PAGE_SIZE) && kaddr.is_multiple_of(PAGE_SIZE));
        let kaddr = self.qemu_block_page(va, kaddr);
        assert!(va < 1 << VA_BITS, "va {va:#x} is beyond the tree's {VA_BITS} bits");
        let index = |base: usize| (va >> base) & ((1 << LEVEL_BITS) - 1);
        let dir1 = Self::next_table(entry(self.root, index(DIR3_BASE)), self.invalid_dir1, self.invalid_pt);
        let pt = Self::next_table(entry(dir1, index(DIR1_BASE)), self.invalid_pt, 0);
        let mut e = phys(kaddr) as u64 | bits::V | bits::MAT_CC;
        if flags & pte::U != 0 {
            e |= bits::PLV3;
        }
        if flags & pte::W != 0 {
            e |= bits::D;
        }
        if flags & (pte::R | pte::W) == 0 {
            e |= bits::NR;
        }
        if flags & pte::X == 0 {
            e |= bits::NX;
        }
        // SAFETY: `pt` is a PTE-table pool page; the index is below its entry count.
        unsafe { *entry(pt, index(PT_BASE)) = e };
    }

    /// The page to map at `va` in place of `kaddr` so that [`QEMU_BLOCK`]s stay whole: `kaddr`
    /// itself with pages of a block or larger, or when it is at `va`'s offset inside a block its
    /// owner holds whole (then `va`'s block maps that block from now on); else the page at `va`'s
    /// offset in the block `va`'s block maps (a fresh whole block the first time), with `kaddr`'s
    /// contents copied in. The kernel hands over every page it later writes through its own
    /// address (the data pages) whole-block, so those are never copied.
    fn qemu_block_page(&mut self, va: usize, kaddr: usize) -> usize {
        if PAGE_SIZE >= QEMU_BLOCK {
            return kaddr;
        }
        let (vblock, off) = (va & !(QEMU_BLOCK - 1), va & (QEMU_BLOCK - 1));
        let slot = self.blocks[..self.nblocks].iter().position(|&(v, _)| v == vblock);
        if kaddr & (QEMU_BLOCK - 1) == off && in_whole_block(kaddr) {
            let pblock = kaddr - off;
            match slot {
                Some(i) => self.blocks[i].1 = pblock,
                None => {
                    self.blocks[self.nblocks] = (vblock, pblock);
                    self.nblocks += 1;
                }
            }
            return kaddr;
        }
        let pblock = match slot {
            Some(i) => self.blocks[i].1,
            None => {
                let pblock = alloc_pages(QEMU_BLOCK / PAGE_SIZE);
                self.blocks[self.nblocks] = (vblock, pblock);
                self.nblocks += 1;
                pblock
            }
        };
        let page = pblock + off;
        // SAFETY: both are pool pages (or the kernel's image bytes) of PAGE_SIZE bytes; `page` is
        // in a block this tree owns, distinct from `kaddr` (which is not at this offset of it).
        unsafe { core::ptr::copy_nonoverlapping(kaddr as *const u8, page as *mut u8, PAGE_SIZE) };
        page
    }

    /// The kernel address of the page mapped at `va`, if one is.
    pub fn user_kaddr(&self, va: usize) -> Option<usize> {
        let index = |base: usize| (va >> base) & ((1 << LEVEL_BITS) - 1);
        // SAFETY: every slot of the tree's tables holds a table's physical address (an invalid
        // table's for nothing mapped), and the last level PTEs; all are pool pages.
        let pte = unsafe {
            let dir1 = kaddr(*entry(self.root, index(DIR3_BASE)) as usize);
            let pt = kaddr(*entry(dir1, index(DIR1_BASE)) as usize);
            *entry(pt, index(PT_BASE))
        };
        (pte & bits::V != 0).then(|| kaddr(pte as usize & PHYS_MASK & !(PAGE_SIZE - 1)))
    }

    /// Maps `[va, va + len)` to the kernel's `[kaddr, kaddr + len)`, page by page.
    pub fn map_range(&mut self, va: usize, kaddr: usize, len: usize, flags: u64) {
        for off in (0..len).step_by(PAGE_SIZE) {
            self.map(va + off, kaddr + off, flags);
        }
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

/// Points the walker at the tree (both roots: the program only has addresses with bit 63 clear,
/// and the kernel's own are direct-mapped), describes the tree's shape, sets the refill entry, and
/// empties the TLB (after a change of the live tree too).
pub fn activate(space: &AddressSpace) {
    let root = phys(space.root) as u64;
    // The tree's shape (above); the STLB holds pages of this size; one address space.
    csrwr!(csr::PWCL, PWCL);
    csrwr!(csr::PWCH, PWCH);
    csrwr!(csr::STLBPS, PAGE_SHIFT as u64);
    csrwr!(csr::ASID, 0);
    // The root's physical address, for both halves of the address space.
    csrwr!(csr::PGDL, root);
    csrwr!(csr::PGDH, root);
    // Physical: refills run in direct-address mode.
    csrwr!(csr::TLBRENTRY, phys(crate::trap::tlb_refill as *const () as usize) as u64);
    // SAFETY: the table writes are ordinary stores: `dbar` orders them before the walker's loads;
    // `invtlb 0` drops every TLB entry, so nothing stale survives a change.
    unsafe { asm!("dbar 0", "invtlb 0, $zero, $zero", "dbar 0", options(nostack)) };
}
