//! Loading the user program (a static ELF embedded in the kernel) and building its initial
//! stack, the way Linux's `binfmt_elf` lays it out: `argc`, `argv[]`, `NULL`, `envp[]`, `NULL`,
//! the auxiliary vector, then the strings and blobs it points at.
//!
//! Shared by every kernel of the example (included with `#[path]`): each provides
//! `crate::mm::{pte, AddressSpace, PAGE_SIZE, alloc_page}` (with `pte::{U, R, W, X}` meaning user,
//! read, write, execute in its own page-table format) and `crate::{ELF_MACHINE, HWCAP}`. The
//! kernel writes the stack through the program's own mapping.

use crate::mm::{pte, AddressSpace, PAGE_SIZE};

/// The user program, built by `build.rs` from `user/`.
static USER_ELF: &[u8] = include_bytes!(env!("USER_ELF"));

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// A user region the kernel may read or write on the program's behalf.
#[derive(Clone, Copy, Debug, Default)]
pub struct Region {
    /// Start (virtual).
    pub start: usize,
    /// End (exclusive).
    pub end: usize,
    /// Writable by the program.
    pub writable: bool,
}

/// What the loader produced.
pub struct Loaded {
    /// Entry point.
    pub entry: usize,
    /// Program headers: file offset, count, entry size (copied onto the stack for `AT_PHDR`).
    pub phoff: usize,
    /// See `phoff`.
    pub phnum: usize,
    /// See `phoff`.
    pub phentsize: usize,
}

fn u16_at(b: &[u8], o: usize) -> usize {
    u16::from_le_bytes([b[o], b[o + 1]]) as usize
}
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], o: usize) -> usize {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap()) as usize
}

/// Maps every `PT_LOAD` of the program with its own rights (plus `U`), copying its bytes into
/// fresh pages; pushes each mapped range to `regions`.
pub fn load(space: &mut AddressSpace, regions: &mut impl FnMut(Region)) -> Loaded {
    let elf = USER_ELF;
    assert!(elf.len() > 64 && elf[..4] == *b"\x7fELF" && elf[4] == 2, "user program is not ELF64");
    assert_eq!(u16_at(elf, 18), crate::ELF_MACHINE as usize, "user program is for another machine");
    let entry = u64_at(elf, 24);
    let phoff = u64_at(elf, 32);
    let phentsize = u16_at(elf, 54);
    let phnum = u16_at(elf, 56);
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(elf, ph) != PT_LOAD {
            continue;
        }
        let flags = u32_at(elf, ph + 4);
        let offset = u64_at(elf, ph + 8);
        let vaddr = u64_at(elf, ph + 16);
        let filesz = u64_at(elf, ph + 32);
        let memsz = u64_at(elf, ph + 40);
        let mut rights = pte::U;
        if flags & PF_R != 0 {
            rights |= pte::R;
        }
        if flags & PF_W != 0 {
            rights |= pte::W | pte::R;
        }
        if flags & PF_X != 0 {
            rights |= pte::X;
        }
        let start = vaddr & !(PAGE_SIZE - 1);
        let end = (vaddr + memsz).next_multiple_of(PAGE_SIZE);
        for page_va in (start..end).step_by(PAGE_SIZE) {
            let page = crate::mm::alloc_page();
            // Copy the part of the file image that falls into this page.
            let lo = page_va.max(vaddr);
            let hi = (page_va + PAGE_SIZE).min(vaddr + filesz);
            if lo < hi {
                let src = &elf[offset + (lo - vaddr)..offset + (hi - vaddr)];
                // SAFETY: `page` is a fresh pool page; `lo - page_va + src.len() <= PAGE_SIZE`.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        src.as_ptr(),
                        (page + (lo - page_va)) as *mut u8,
                        src.len(),
                    )
                };
            }
            space.map(page_va, page, rights);
        }
        regions(Region { start, end, writable: flags & PF_W != 0 });
    }
    Loaded { entry, phoff, phnum, phentsize }
}

/// Auxiliary vector tags (Linux `include/uapi/linux/auxvec.h`).
mod at {
    pub const NULL: usize = 0;
    pub const PHDR: usize = 3;
    pub const PHENT: usize = 4;
    pub const PHNUM: usize = 5;
    pub const PAGESZ: usize = 6;
    pub const ENTRY: usize = 9;
    pub const UID: usize = 11;
    pub const EUID: usize = 12;
    pub const GID: usize = 13;
    pub const EGID: usize = 14;
    pub const HWCAP: usize = 16;
    pub const CLKTCK: usize = 17;
    pub const SECURE: usize = 23;
    pub const RANDOM: usize = 25;
    pub const EXECFN: usize = 31;
    pub const SYSINFO_EHDR: usize = 33;
}

/// Builds the initial stack below `top` (already mapped and writable by the kernel) and returns the
/// program's starting `sp` (16-aligned, pointing at `argc`).
pub fn build_stack(top: usize, loaded: &Loaded, vdso: usize, random: [u8; 16]) -> usize {
    let mut sp = top;
    let push_bytes = |sp: &mut usize, bytes: &[u8], align: usize| -> usize {
        *sp = (*sp - bytes.len()) & !(align - 1);
        // SAFETY: the stack is mapped user memory, writable by the kernel (riscv64: SUM set), and
        // `sp` stays inside it (the blobs are a few hundred bytes of a 64 KiB stack).
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), *sp as *mut u8, bytes.len()) };
        *sp
    };
    let execfn = push_bytes(&mut sp, b"/init\0", 1);
    let rand = push_bytes(&mut sp, &random, 16);
    let phdrs = &USER_ELF[loaded.phoff..loaded.phoff + loaded.phnum * loaded.phentsize];
    let phdr = push_bytes(&mut sp, phdrs, 8);

    let hwcap = crate::HWCAP;
    let auxv = [
        (at::PHDR, phdr),
        (at::PHENT, loaded.phentsize),
        (at::PHNUM, loaded.phnum),
        (at::PAGESZ, PAGE_SIZE),
        (at::ENTRY, loaded.entry),
        (at::UID, 0),
        (at::EUID, 0),
        (at::GID, 0),
        (at::EGID, 0),
        (at::HWCAP, hwcap),
        (at::CLKTCK, 100),
        (at::SECURE, 0),
        (at::RANDOM, rand),
        (at::EXECFN, execfn),
        (at::SYSINFO_EHDR, vdso),
        (at::NULL, 0),
    ];
    // argc, argv[0], NULL, envp NULL, auxv pairs.
    let words = 1 + 2 + 1 + 2 * auxv.len();
    sp = (sp - words * 8) & !15;
    let mut w = sp as *mut usize;
    let mut put = |v: usize| {
        // SAFETY: as above: inside the mapped stack, 8-aligned.
        unsafe {
            w.write(v);
            w = w.add(1);
        }
    };
    put(1);
    put(execfn);
    put(0);
    put(0);
    for (k, v) in auxv {
        put(k);
        put(v);
    }
    sp
}
