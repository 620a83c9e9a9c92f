//! Reading the running kernel's own vDSO out of this process, for `vdso inspect --host`.
//!
//! The address comes from the auxiliary vector (`/proc/self/auxv`, `AT_SYSINFO_EHDR`), the
//! extent from the `[vdso]` line of `/proc/self/maps`, and the bytes from `/proc/self/mem`, so no
//! raw pointer is dereferenced. Under qemu-user 7.2 the guest has no vDSO at all, which is
//! reported as such.

use std::fs;
use std::os::unix::fs::FileExt;

const AT_SYSINFO_EHDR: u64 = 33;

/// Address and bytes of this process's vDSO.
pub fn read_own_vdso() -> Result<(u64, Vec<u8>), String> {
    let auxv = fs::read("/proc/self/auxv").map_err(|e| format!("cannot read /proc/self/auxv: {e}"))?;
    let addr = auxv
        .chunks_exact(16)
        .map(|c| {
            let w = |b: &[u8]| u64::from_ne_bytes(b.try_into().expect("8-byte chunk"));
            (w(&c[..8]), w(&c[8..]))
        })
        .take_while(|&(k, _)| k != 0)
        .find(|&(k, _)| k == AT_SYSINFO_EHDR)
        .map(|(_, v)| v)
        .filter(|&v| v != 0)
        .ok_or("this process has no vDSO: AT_SYSINFO_EHDR is absent from its auxiliary vector (qemu-user 7.2, for one, gives guests none)")?;
    let maps =
        fs::read_to_string("/proc/self/maps").map_err(|e| format!("cannot read /proc/self/maps: {e}"))?;
    let end = maps
        .lines()
        .filter_map(|l| {
            let range = l.split_whitespace().next()?;
            let (lo, hi) = range.split_once('-')?;
            Some((u64::from_str_radix(lo, 16).ok()?, u64::from_str_radix(hi, 16).ok()?))
        })
        .find(|&(lo, hi)| lo <= addr && addr < hi)
        .map(|(_, hi)| hi)
        .ok_or_else(|| format!("AT_SYSINFO_EHDR {addr:#x} is not inside any mapping of /proc/self/maps"))?;
    let mut bytes = vec![0u8; (end - addr) as usize];
    let mem = fs::File::open("/proc/self/mem").map_err(|e| format!("cannot open /proc/self/mem: {e}"))?;
    mem.read_exact_at(&mut bytes, addr).map_err(|e| format!("cannot read the vDSO at {addr:#x}: {e}"))?;
    Ok((addr, bytes))
}
