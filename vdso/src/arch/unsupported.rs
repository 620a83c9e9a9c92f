//! An architecture without a hook file: say so instead of "file not found for module".

compile_error!(
    "vdso-image: no hooks for this target_arch; add vdso/src/arch/<arch>.rs (the contract is \
     src/hooks.rs) and the architecture's row in vdso-abi's table"
);
