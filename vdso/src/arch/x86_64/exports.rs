//! The x86_64 export shells: the names of the x86_64 row of `vdso-abi`'s table (docs/abi.md
//! section 5), each a thin `extern "C"` shell around the generic code or a hook.

crate::hooks::clock_exports!(__vdso_clock_gettime, __vdso_gettimeofday, __vdso_clock_getres);
crate::hooks::getrandom_export!(__vdso_getrandom);

/// `time_t time(time_t *)`; `t` may be NULL.
///
/// # Safety
/// A non-NULL `t` must be writable.
#[no_mangle]
pub unsafe extern "C" fn __vdso_time(t: *mut i64) -> i64 {
    // SAFETY: forwarded caller contract.
    unsafe { crate::clock::time(t) }
}

/// `int getcpu(unsigned *cpu, unsigned *node, void *tcache)`; any pointer may be NULL.
///
/// # Safety
/// Non-NULL `cpu` and `node` must be writable.
#[no_mangle]
pub unsafe extern "C" fn __vdso_getcpu(cpu: *mut u32, node: *mut u32, tcache: *mut u8) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { super::getcpu(cpu, node, tcache) }
}
