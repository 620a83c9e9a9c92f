//! An architecture without a counter file: say so instead of "file not found for module".

compile_error!(
    "vdso-kernel-stub: no counter for this target_arch; add kernel-stub/src/counter/<arch>.rs and \
     its row in vdso-abi's architecture table"
);

/// Never compiled.
pub fn read_counter() -> u64 {
    0
}
