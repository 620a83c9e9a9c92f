//! Reading another (or this) process through `/proc/PID`: its auxiliary vector, its mappings and
//! its memory, with no raw pointer dereferenced. `vdso inspect --host` reads its own vDSO this
//! way; `vdso check-page --pid` reads a process's data pages.

use std::fs;
use std::os::unix::fs::FileExt;

/// `AT_SYSINFO_EHDR`.
pub const AT_SYSINFO_EHDR: u64 = 33;

/// `self` or a process id, as `/proc` spells it.
pub type Pid<'a> = &'a str;

/// A line of `/proc/PID/maps`.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// Start address.
    pub start: u64,
    /// End address (exclusive).
    pub end: u64,
    /// The path or name (`[vvar]`, `/memfd:vdso-data (deleted)`), empty for anonymous memory.
    pub name: String,
}

/// The value of auxiliary-vector entry `kind` of process `pid` (as the kernel gave it at
/// `execve`), `None` if absent or 0.
pub fn auxv_value(pid: Pid, kind: u64) -> Result<Option<u64>, String> {
    let path = format!("/proc/{pid}/auxv");
    let auxv = fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Ok(auxv
        .chunks_exact(16)
        .map(|c| {
            let w = |b: &[u8]| u64::from_ne_bytes(b.try_into().expect("8-byte chunk"));
            (w(&c[..8]), w(&c[8..]))
        })
        .take_while(|&(k, _)| k != 0)
        .find(|&(k, _)| k == kind)
        .map(|(_, v)| v)
        .filter(|&v| v != 0))
}

/// The mappings of process `pid`.
pub fn maps(pid: Pid) -> Result<Vec<Mapping>, String> {
    let path = format!("/proc/{pid}/maps");
    let text = fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (lo, hi) = f.next()?.split_once('-')?;
            let name = f.nth(4).map_or_else(String::new, |first| {
                // The name is everything after the inode, spaces included.
                let at = l.find(first).unwrap_or(l.len());
                l[at..].to_string()
            });
            Some(Mapping {
                start: u64::from_str_radix(lo, 16).ok()?,
                end: u64::from_str_radix(hi, 16).ok()?,
                name,
            })
        })
        .collect())
}

/// `len` bytes of process `pid`'s memory at `addr`, through `/proc/PID/mem`.
pub fn read_mem(pid: Pid, addr: u64, len: usize) -> Result<Vec<u8>, String> {
    let path = format!("/proc/{pid}/mem");
    let mem = fs::File::open(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let mut bytes = vec![0u8; len];
    mem.read_exact_at(&mut bytes, addr)
        .map_err(|e| format!("cannot read {len} bytes at {addr:#x} through {path}: {e}"))?;
    Ok(bytes)
}
