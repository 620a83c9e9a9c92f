compile_error!("no ChaCha20 block function for this architecture: add vdso/src/chacha/<arch>.rs");
