//! The aarch64 export shells: the names of the aarch64 row of `vdso-abi`'s table (docs/abi.md
//! section 5), Linux 6.8's arm64 set. `__kernel_rt_sigreturn` is the `global_asm` of the hook
//! file.

crate::hooks::clock_exports!(__kernel_clock_gettime, __kernel_gettimeofday, __kernel_clock_getres);
crate::hooks::getrandom_export!(__kernel_getrandom);
