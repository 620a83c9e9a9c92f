//! Mapping an ELF file's `PT_LOAD` segments the way Linux's `binfmt_elf` does: file pages
//! mapped privately with the segment's permissions, the rest of the last file page zeroed and
//! anonymous zero pages for the remainder of `.bss`.
//!
//! Nothing is relocated (the kernel never does: a dynamic program's loader relocates itself and
//! the program, a static-pie program relocates itself). A position-independent file goes where
//! an address-space reservation of its whole span landed (aligned to its largest `p_align`); a
//! fixed-position one must find its addresses free, which is checked by asking for them as a
//! hint and refusing any other answer (qemu-user 7.2 does not know `MAP_FIXED_NOREPLACE`).

use std::ffi::c_void;
use std::ptr::null_mut;

use rustix::mm::{mmap, mmap_anonymous, mprotect, munmap, MapFlags, MprotectFlags, ProtFlags};

use crate::error::{sys, Error};
use crate::program::{page, ElfFile};

/// Where a file landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// Added to every `p_vaddr` (0 for a fixed-position file).
    pub bias: u64,
    /// The entry point in memory.
    pub entry: u64,
    /// The program headers in memory (`AT_PHDR`), 0 if they are not loaded.
    pub phdr: u64,
    /// End of the highest segment in memory.
    pub end: u64,
}

const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

fn prot(flags: u32) -> ProtFlags {
    let mut p = ProtFlags::empty();
    if flags & PF_R != 0 {
        p |= ProtFlags::READ;
    }
    if flags & PF_W != 0 {
        p |= ProtFlags::WRITE;
    }
    if flags & PF_X != 0 {
        p |= ProtFlags::EXEC;
    }
    p
}

fn page_down(x: u64) -> u64 {
    x & !(page() - 1)
}

fn page_up(x: u64) -> u64 {
    x.div_ceil(page()) * page()
}

/// Reserves the span of `elf` (`PROT_NONE`), returning the bias.
fn reserve(elf: &ElfFile) -> Result<u64, Error> {
    let (lo, hi) = elf.span();
    let len = (hi - lo) as usize;
    let name = crate::shown::path(&elf.path);
    if elf.relocatable {
        let align = elf.max_align().min(1 << 30) as usize;
        // Over-reserve by the alignment, keep an aligned window, give the rest back.
        // SAFETY: a fresh anonymous reservation at an address the kernel picks; nothing is
        // replaced.
        let at = unsafe {
            mmap_anonymous(
                null_mut(),
                len + align,
                ProtFlags::empty(),
                MapFlags::PRIVATE | MapFlags::NORESERVE,
            )
        }
        .map_err(sys("cannot reserve address space for the program"))? as usize;
        let start = at.next_multiple_of(align);
        // SAFETY: both ranges are parts of the reservation just made, which nothing uses.
        unsafe {
            if start > at {
                let _ = munmap(at as *mut c_void, start - at);
            }
            let tail = at + len + align - (start + len);
            if tail > 0 {
                let _ = munmap((start + len) as *mut c_void, tail);
            }
        }
        Ok((start as u64).wrapping_sub(lo))
    } else {
        // SAFETY: a hint only (no MAP_FIXED): the kernel never replaces an existing mapping.
        let at = unsafe {
            mmap_anonymous(
                lo as *mut c_void,
                len,
                ProtFlags::empty(),
                MapFlags::PRIVATE | MapFlags::NORESERVE,
            )
        }
        .map_err(sys("cannot reserve address space for the program"))?;
        if at as u64 != lo {
            // SAFETY: the mapping just made, unused.
            unsafe {
                let _ = munmap(at, len);
            }
            return Err(Error::setup(format!(
                "{name}: its fixed addresses {lo:#x}..{hi:#x} are taken in the launcher's address space"
            )));
        }
        Ok(0)
    }
}

/// Maps every `PT_LOAD` segment of `elf`.
pub fn load(elf: &ElfFile) -> Result<Loaded, Error> {
    let bias = reserve(elf)?;
    for p in elf.loads() {
        map_segment(elf, bias, p.p_vaddr, p.p_memsz, p.p_offset, p.p_filesz, p.p_flags)?;
    }
    let phdr = phdr_address(elf).map_or(0, |a| a.wrapping_add(bias));
    let (_, hi) = elf.span();
    Ok(Loaded { bias, entry: elf.entry.wrapping_add(bias), phdr, end: hi.wrapping_add(bias) })
}

/// The program headers' virtual address: `PT_PHDR`'s, or found in the segment that loads
/// `e_phoff` (as glibc's loader does when `PT_PHDR` is absent).
fn phdr_address(elf: &ElfFile) -> Option<u64> {
    const PT_PHDR: u32 = goblin::elf::program_header::PT_PHDR;
    if let Some(p) = elf.phdrs.iter().find(|p| p.p_type == PT_PHDR) {
        return Some(p.p_vaddr);
    }
    elf.loads()
        .find(|p| p.p_offset <= elf.phoff && elf.phoff < p.p_offset + p.p_filesz)
        .map(|p| p.p_vaddr + (elf.phoff - p.p_offset))
}

fn map_segment(
    elf: &ElfFile,
    bias: u64,
    vaddr: u64,
    memsz: u64,
    offset: u64,
    filesz: u64,
    flags: u32,
) -> Result<(), Error> {
    let prot = prot(flags);
    let start = bias.wrapping_add(vaddr);
    let map_start = page_down(start);
    let file_end = start + filesz;
    let mem_end = start + memsz;
    if filesz > 0 {
        let len = (file_end - map_start) as usize;
        // SAFETY: the range lies inside the reservation made for this file (its span), so
        // MAP_FIXED replaces only our own PROT_NONE pages (or an earlier segment's page that the
        // ELF file itself overlaps, as the kernel's loader also allows).
        unsafe {
            mmap(
                map_start as *mut c_void,
                len,
                prot,
                MapFlags::PRIVATE | MapFlags::FIXED,
                &elf.file,
                offset - (start - map_start),
            )
        }
        .map_err(sys("cannot map a segment of the program"))?;
        // Zero the rest of the last file page when .bss starts inside it, and, as the kernel's
        // `padzero` does, for any writable segment: memory past the file data must read as
        // zero (ld.so's start-up allocator hands out the bytes after its own `_end`).
        let zero_from = file_end;
        let zero_to = page_up(file_end);
        if (memsz > filesz || flags & PF_W != 0) && zero_to > zero_from {
            let writable = flags & PF_W != 0;
            let page = page_down(zero_from);
            if !writable {
                // SAFETY: our own private mapping of this segment, made writable for a moment.
                unsafe {
                    mprotect(
                        page as *mut c_void,
                        crate::program::page() as usize,
                        MprotectFlags::READ | MprotectFlags::WRITE,
                    )
                }
                .map_err(sys("cannot zero the end of a segment"))?;
            }
            // SAFETY: `zero_from..zero_to` lies in the page just mapped privately and writable;
            // nothing else refers to it yet.
            unsafe { std::ptr::write_bytes(zero_from as *mut u8, 0, (zero_to - zero_from) as usize) };
            if !writable {
                // SAFETY: as above, restoring the segment's own permissions.
                unsafe {
                    mprotect(
                        page as *mut c_void,
                        crate::program::page() as usize,
                        MprotectFlags::from_bits_retain(prot.bits()),
                    )
                }
                .map_err(sys("cannot restore a segment's permissions"))?;
            }
        }
    }
    let anon_from = if filesz > 0 { page_up(file_end) } else { map_start };
    let anon_to = page_up(mem_end);
    if anon_to > anon_from {
        // SAFETY: inside our reservation, as above; fresh zero pages for .bss.
        unsafe {
            mmap_anonymous(
                anon_from as *mut c_void,
                (anon_to - anon_from) as usize,
                prot,
                MapFlags::PRIVATE | MapFlags::FIXED,
            )
        }
        .map_err(sys("cannot map the zero-filled part of a segment"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_p_flags() {
        assert_eq!(prot(PF_R | PF_X), ProtFlags::READ | ProtFlags::EXEC);
        assert_eq!(prot(PF_R | PF_W), ProtFlags::READ | ProtFlags::WRITE);
        assert_eq!(prot(0), ProtFlags::empty());
    }

    #[test]
    fn page_rounding() {
        // At the process's page size (4 KiB, or 16 KiB under qemu-loongarch64).
        let p = page();
        assert_eq!(page_down(2 * p - 1), p);
        assert_eq!(page_up(p + 1), 2 * p);
        assert_eq!(page_up(2 * p), 2 * p);
    }
}
