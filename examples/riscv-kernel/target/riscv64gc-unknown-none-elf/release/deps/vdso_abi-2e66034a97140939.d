/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/deps/vdso_abi-2e66034a97140939.d: /work/main/abi/src/lib.rs /work/main/abi/src/riscv64.rs /work/main/abi/src/x86_64.rs

/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/deps/libvdso_abi-2e66034a97140939.rmeta: /work/main/abi/src/lib.rs /work/main/abi/src/riscv64.rs /work/main/abi/src/x86_64.rs

/work/main/abi/src/lib.rs:
/work/main/abi/src/riscv64.rs:
/work/main/abi/src/x86_64.rs:
