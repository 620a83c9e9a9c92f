//! Reading the running kernel's own vDSO out of this process, for `vdso inspect --host`.
//!
//! The address comes from the auxiliary vector (`/proc/self/auxv`, `AT_SYSINFO_EHDR`), the
//! extent from the `[vdso]` line of `/proc/self/maps`, and the bytes from `/proc/self/mem`, so no
//! raw pointer is dereferenced. Under qemu-user 7.2 the guest has no vDSO at all, which is
//! reported as such.

use crate::procfs::{auxv_value, maps, read_mem, AT_SYSINFO_EHDR};

/// Address and bytes of this process's vDSO.
pub fn read_own_vdso() -> Result<(u64, Vec<u8>), String> {
    let addr = auxv_value("self", AT_SYSINFO_EHDR)?.ok_or("this process has no vDSO: AT_SYSINFO_EHDR is absent from its auxiliary vector (qemu-user 7.2, for one, gives guests none)")?;
    let end =
        maps("self")?.into_iter().find(|m| m.start <= addr && addr < m.end).map(|m| m.end).ok_or_else(
            || format!("AT_SYSINFO_EHDR {addr:#x} is not inside any mapping of /proc/self/maps"),
        )?;
    let bytes =
        read_mem("self", addr, (end - addr) as usize).map_err(|e| format!("cannot read the vDSO: {e}"))?;
    Ok((addr, bytes))
}
