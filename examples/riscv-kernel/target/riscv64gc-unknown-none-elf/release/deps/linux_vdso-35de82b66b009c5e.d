/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/deps/linux_vdso-35de82b66b009c5e.d: /work/main/src/lib.rs /work/main/src/spec.rs /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/images.rs /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/riscv64/linux-vdso.so.1 /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/riscv64/vdso.h /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/x86_64/linux-vdso.so.1 /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/x86_64/vdso.h

/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/deps/liblinux_vdso-35de82b66b009c5e.rmeta: /work/main/src/lib.rs /work/main/src/spec.rs /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/images.rs /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/riscv64/linux-vdso.so.1 /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/riscv64/vdso.h /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/x86_64/linux-vdso.so.1 /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/x86_64/vdso.h

/work/main/src/lib.rs:
/work/main/src/spec.rs:
/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/images.rs:
/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/riscv64/linux-vdso.so.1:
/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/riscv64/vdso.h:
/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/x86_64/linux-vdso.so.1:
/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out/x86_64/vdso.h:

# env-dep:OUT_DIR=/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/linux-vdso-4777c744c37e35f4/out
