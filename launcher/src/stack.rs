//! The initial process stack a Linux program expects at its entry point (the System V psABI's
//! "initial process stack", as `binfmt_elf`'s `create_elf_tables` lays it out):
//!
//! ```text
//! high   8 zero bytes (end marker)
//!        AT_EXECFN string, environment strings, argument strings, AT_PLATFORM string,
//!        16 AT_RANDOM bytes
//!        (padding to 16 bytes)
//!        auxv pairs (a_type, a_val) ... AT_NULL 0
//!        envp[0] ... NULL
//!        argv[0] ... NULL
//! sp ->  argc                                  (sp is 16-byte aligned)
//! ```
//!
//! [`build`] is pure: it lays the block out for a given top-of-stack address and returns the
//! bytes and the entry `sp`, so the layout is tested without running anything.

use std::ffi::c_void;
use std::ptr::null_mut;

use goblin::elf::program_header::PT_GNU_STACK;
use rustix::mm::{mmap_anonymous, mprotect, MapFlags, MprotectFlags, ProtFlags};

use crate::auxv;
use crate::error::{sys, Error};
use crate::program::ElfFile;

/// Stack size when `RLIMIT_STACK` is unlimited (Linux's default limit).
const DEFAULT_STACK: u64 = 8 << 20;
/// Largest stack mapped (the mapping is lazy, but the address space is reserved).
const MAX_STACK: u64 = 256 << 20;
/// Smallest stack mapped.
const MIN_STACK: u64 = 128 << 10;

/// What goes on the stack.
#[derive(Clone, Debug, Default)]
pub struct StackSpec {
    /// Arguments (without their NUL terminators).
    pub argv: Vec<Vec<u8>>,
    /// Environment `NAME=value` strings.
    pub envp: Vec<Vec<u8>>,
    /// The path the program was run from (`AT_EXECFN`).
    pub execfn: Vec<u8>,
    /// `AT_PLATFORM`, if any.
    pub platform: Option<Vec<u8>>,
    /// The 16 bytes `AT_RANDOM` points at.
    pub random: [u8; 16],
    /// Every other auxv entry (`AT_RANDOM`, `AT_EXECFN`, `AT_PLATFORM` and `AT_NULL` are added).
    pub auxv: Vec<(u64, u64)>,
}

/// A laid-out stack block: copy `bytes` to `top - bytes.len()` and start with `sp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    /// The block's bytes, ending at the top of the stack.
    pub bytes: Vec<u8>,
    /// The entry stack pointer (points at argc).
    pub sp: u64,
}

/// Lays `spec` out below `top` (which must be 16-byte aligned).
pub fn build(spec: &StackSpec, top: u64) -> StackImage {
    assert_eq!(top % 16, 0, "stack top must be 16-byte aligned");
    // The string area, filled from its low end and placed so that it ends 8 bytes below `top`.
    let mut strings: Vec<u8> = Vec::new();
    let mut put = |s: &[u8], nul: bool| -> usize {
        let at = strings.len();
        strings.extend_from_slice(s);
        if nul {
            strings.push(0);
        }
        at
    };
    let random_at = put(&spec.random, false);
    let platform_at = spec.platform.as_ref().map(|p| put(p, true));
    let arg_at: Vec<usize> = spec.argv.iter().map(|a| put(a, true)).collect();
    let env_at: Vec<usize> = spec.envp.iter().map(|e| put(e, true)).collect();
    let execfn_at = put(&spec.execfn, true);
    let strings_base = top - 8 - strings.len() as u64;
    let addr = |off: usize| strings_base + off as u64;

    let mut aux: Vec<(u64, u64)> = spec.auxv.clone();
    aux.push((auxv::AT_RANDOM, addr(random_at)));
    aux.push((auxv::AT_EXECFN, addr(execfn_at)));
    if let Some(p) = platform_at {
        aux.push((auxv::AT_PLATFORM, addr(p)));
    }
    aux.push((auxv::AT_NULL, 0));

    let mut words: Vec<u64> = Vec::new();
    words.push(spec.argv.len() as u64);
    words.extend(arg_at.iter().map(|&o| addr(o)));
    words.push(0);
    words.extend(env_at.iter().map(|&o| addr(o)));
    words.push(0);
    for (t, v) in &aux {
        words.push(*t);
        words.push(*v);
    }
    let sp = (strings_base - words.len() as u64 * 8) & !15;

    let len = (top - sp) as usize;
    let mut bytes = vec![0u8; len];
    for (i, w) in words.iter().enumerate() {
        bytes[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    let s = (strings_base - sp) as usize;
    bytes[s..s + strings.len()].copy_from_slice(&strings);
    StackImage { bytes, sp }
}

/// Whether the program asks for an executable stack (`PT_GNU_STACK` with `PF_X`, or no
/// `PT_GNU_STACK` at all, as old toolchains left it).
pub fn exec_stack_wanted(program: &ElfFile) -> bool {
    match program.phdrs.iter().find(|p| p.p_type == PT_GNU_STACK) {
        Some(p) => p.p_flags & 1 != 0,
        None => true,
    }
}

/// Maps the program's stack (the size `RLIMIT_STACK` allows, a guard page below it) and returns
/// its top. The mapping holds at least `needed` bytes (the initial block) and a page more, even
/// when arguments the kernel accepted fill most of a small limit.
pub fn allocate(executable: bool, needed: usize) -> Result<u64, Error> {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Stack).current.unwrap_or(DEFAULT_STACK);
    let page = crate::program::page();
    let least = (needed as u64).next_multiple_of(page) + page;
    let size = limit.clamp(MIN_STACK, MAX_STACK).next_multiple_of(page).max(least) as usize;
    let guard = page as usize;
    let mut prot = ProtFlags::READ | ProtFlags::WRITE;
    if executable {
        prot |= ProtFlags::EXEC;
    }
    // SAFETY: a fresh anonymous mapping at an address the kernel picks; nothing is replaced.
    let base = unsafe {
        mmap_anonymous(
            null_mut(),
            size + guard,
            prot,
            MapFlags::PRIVATE | MapFlags::NORESERVE | MapFlags::STACK,
        )
    }
    .map_err(sys("cannot map the program's stack"))?;
    // SAFETY: the lowest page of the mapping just made becomes the guard page.
    unsafe { mprotect(base, guard, MprotectFlags::empty()) }
        .map_err(sys("cannot make the stack guard page"))?;
    Ok((base as u64 + (size + guard) as u64) & !15)
}

/// Copies `block` to its place below `top`.
///
/// # Safety
///
/// `top - block.bytes.len() .. top` must be writable memory nobody else uses.
pub unsafe fn install(block: &StackImage, top: u64) {
    let at = (top - block.bytes.len() as u64) as *mut u8;
    // SAFETY: forwarded from the caller; the source is a separate heap buffer.
    unsafe { std::ptr::copy_nonoverlapping(block.bytes.as_ptr(), at, block.bytes.len()) };
    let _ = at as *mut c_void;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(img: &StackImage, top: u64, at: u64) -> u64 {
        let base = top - img.bytes.len() as u64;
        let i = (at - base) as usize;
        u64::from_le_bytes(img.bytes[i..i + 8].try_into().unwrap())
    }

    fn cstr(img: &StackImage, top: u64, at: u64) -> Vec<u8> {
        let base = top - img.bytes.len() as u64;
        let i = (at - base) as usize;
        img.bytes[i..].iter().take_while(|&&b| b != 0).copied().collect()
    }

    #[test]
    fn the_block_reads_back_as_argc_argv_envp_auxv() {
        let top = 0x7fff_0000_0000u64;
        let spec = StackSpec {
            argv: vec![b"date".to_vec(), b"+%s".to_vec()],
            envp: vec![b"TZ=UTC".to_vec()],
            execfn: b"/bin/date".to_vec(),
            platform: Some(b"x86_64".to_vec()),
            random: [7; 16],
            auxv: vec![(auxv::AT_PAGESZ, 4096), (auxv::AT_SYSINFO_EHDR, 0x1234_5000)],
        };
        let img = build(&spec, top);
        assert_eq!(img.sp % 16, 0);
        assert_eq!(img.sp, top - img.bytes.len() as u64);
        let sp = img.sp;
        assert_eq!(word(&img, top, sp), 2);
        assert_eq!(cstr(&img, top, word(&img, top, sp + 8)), b"date");
        assert_eq!(cstr(&img, top, word(&img, top, sp + 16)), b"+%s");
        assert_eq!(word(&img, top, sp + 24), 0);
        assert_eq!(cstr(&img, top, word(&img, top, sp + 32)), b"TZ=UTC");
        assert_eq!(word(&img, top, sp + 40), 0);
        let mut at = sp + 48;
        let mut seen = Vec::new();
        loop {
            let (t, v) = (word(&img, top, at), word(&img, top, at + 8));
            at += 16;
            if t == auxv::AT_NULL {
                break;
            }
            seen.push((t, v));
        }
        assert!(seen.contains(&(auxv::AT_PAGESZ, 4096)));
        assert!(seen.contains(&(auxv::AT_SYSINFO_EHDR, 0x1234_5000)));
        let get = |t| seen.iter().find(|e| e.0 == t).unwrap().1;
        assert_eq!(cstr(&img, top, get(auxv::AT_EXECFN)), b"/bin/date");
        assert_eq!(cstr(&img, top, get(auxv::AT_PLATFORM)), b"x86_64");
        let r = get(auxv::AT_RANDOM);
        let base = top - img.bytes.len() as u64;
        assert_eq!(&img.bytes[(r - base) as usize..(r - base) as usize + 16], &[7; 16]);
        // The end marker: the last 8 bytes are zero.
        assert_eq!(word(&img, top, top - 8), 0);
    }

    #[test]
    fn the_stack_mapping_always_holds_the_block() {
        // Larger than any limit is clamped to: the mapping grows to hold the block anyway.
        let needed = (MAX_STACK + (1 << 20)) as usize;
        let top = allocate(false, needed).expect("a stack mapping");
        assert_eq!(top % 16, 0);
        let lowest = (top - needed as u64) as *mut u8;
        // SAFETY: `allocate` promises `needed` writable bytes below `top`; both ends are touched.
        unsafe {
            lowest.write_volatile(1);
            (top as *mut u8).sub(1).write_volatile(2);
        }
    }

    #[test]
    fn empty_argv_and_env_still_terminate() {
        let img = build(&StackSpec::default(), 0x10000);
        assert_eq!(word(&img, 0x10000, img.sp), 0);
        assert_eq!(word(&img, 0x10000, img.sp + 8), 0);
        assert_eq!(word(&img, 0x10000, img.sp + 16), 0);
    }
}
