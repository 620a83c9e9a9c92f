//! The riscv64 export shells: the names of the riscv64 row of `vdso-abi`'s table (docs/abi.md
//! section 5), each a thin `extern "C"` shell around the generic code or a hook.

crate::hooks::clock_exports!(__vdso_clock_gettime, __vdso_gettimeofday, __vdso_clock_getres);
crate::hooks::getrandom_export!(__vdso_getrandom);

/// `int getcpu(unsigned *cpu, unsigned *node, void *tcache)`; any pointer may be NULL.
///
/// # Safety
/// Non-NULL `cpu` and `node` must be writable.
#[no_mangle]
pub unsafe extern "C" fn __vdso_getcpu(cpu: *mut u32, node: *mut u32, tcache: *mut u8) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { super::getcpu(cpu, node, tcache) }
}

/// `int __vdso_flush_icache(void *start, void *end, unsigned long flags)`.
///
/// # Safety
/// Same contract as the `riscv_flush_icache` syscall (it is one).
#[no_mangle]
pub unsafe extern "C" fn __vdso_flush_icache(start: usize, end: usize, flags: usize) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { super::flush_icache(start, end, flags) }
}

/// `int __vdso_riscv_hwprobe(struct riscv_hwprobe *pairs, size_t pair_count, size_t cpusetsize,
/// cpu_set_t *cpus, unsigned int flags)`.
///
/// # Safety
/// `pairs` must point to `pair_count` writable pairs and `cpus`, when non-NULL, to
/// `cpusetsize` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn __vdso_riscv_hwprobe(
    pairs: *mut vdso_abi::riscv64::hwprobe::Pair,
    pair_count: usize,
    cpusetsize: usize,
    cpus: *mut u8,
    flags: u32,
) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { super::hwprobe::riscv_hwprobe(pairs, pair_count, cpusetsize, cpus, flags) }
}
