/work/main/examples/riscv-kernel/target/release/deps/crypto_common-712c76879cd8b053.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/crypto-common-0.1.7/src/lib.rs

/work/main/examples/riscv-kernel/target/release/deps/libcrypto_common-712c76879cd8b053.rlib: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/crypto-common-0.1.7/src/lib.rs

/work/main/examples/riscv-kernel/target/release/deps/libcrypto_common-712c76879cd8b053.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/crypto-common-0.1.7/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/crypto-common-0.1.7/src/lib.rs:
