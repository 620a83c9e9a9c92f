/work/main/abi/target/debug/deps/vdso_abi-ba059bf7ca188cd3.d: src/lib.rs src/riscv64.rs src/x86_64.rs

/work/main/abi/target/debug/deps/libvdso_abi-ba059bf7ca188cd3.rlib: src/lib.rs src/riscv64.rs src/x86_64.rs

/work/main/abi/target/debug/deps/libvdso_abi-ba059bf7ca188cd3.rmeta: src/lib.rs src/riscv64.rs src/x86_64.rs

src/lib.rs:
src/riscv64.rs:
src/x86_64.rs:
