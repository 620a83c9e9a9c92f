//! An architecture without an entry file: say so instead of "file not found for module".

compile_error!(
    "vdso-launcher: no program entry for this target_arch; add launcher/src/arch/<arch>.rs and its \
     row in vdso-abi's architecture table"
);

/// Never compiled.
///
/// # Safety
/// None: it does not exist.
pub unsafe fn jump(_entry: u64, _sp: u64) -> ! {
    loop {}
}

/// Never compiled.
pub const RSEQ_SIG: u32 = 0;

/// Never compiled.
pub fn thread_pointer() -> usize {
    0
}
