//! The loongarch64 export shells: the names of the loongarch64 row of `vdso-abi`'s table
//! (docs/abi.md section 5), Linux 6.8's loongarch set plus 6.12's `__vdso_getrandom`. `__vdso_rt_sigreturn` is the
//! `global_asm` of the hook file.

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
