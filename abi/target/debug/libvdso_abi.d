/work/main/abi/target/debug/libvdso_abi.rlib: /work/main/abi/src/lib.rs /work/main/abi/src/riscv64.rs /work/main/abi/src/x86_64.rs
