/work/main/examples/riscv-kernel/target/release/deps/vdso_abi-5e1b9bda43ba3269.d: /work/main/abi/src/lib.rs /work/main/abi/src/riscv64.rs /work/main/abi/src/x86_64.rs

/work/main/examples/riscv-kernel/target/release/deps/libvdso_abi-5e1b9bda43ba3269.rlib: /work/main/abi/src/lib.rs /work/main/abi/src/riscv64.rs /work/main/abi/src/x86_64.rs

/work/main/examples/riscv-kernel/target/release/deps/libvdso_abi-5e1b9bda43ba3269.rmeta: /work/main/abi/src/lib.rs /work/main/abi/src/riscv64.rs /work/main/abi/src/x86_64.rs

/work/main/abi/src/lib.rs:
/work/main/abi/src/riscv64.rs:
/work/main/abi/src/x86_64.rs:
