/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/deps/riscv_kernel-506e831095ea3f34.d: src/main.rs src/console.rs src/fdt.rs src/kernel.rs src/loader.rs src/mm.rs src/sbi.rs src/trap.rs src/../shared/proto.rs /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/riscv-kernel-618ece54472da145/out/user-target/riscv64gc-unknown-none-elf/release/riscv-kernel-user Cargo.toml

/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/deps/libriscv_kernel-506e831095ea3f34.rmeta: src/main.rs src/console.rs src/fdt.rs src/kernel.rs src/loader.rs src/mm.rs src/sbi.rs src/trap.rs src/../shared/proto.rs /work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/riscv-kernel-618ece54472da145/out/user-target/riscv64gc-unknown-none-elf/release/riscv-kernel-user Cargo.toml

src/main.rs:
src/console.rs:
src/fdt.rs:
src/kernel.rs:
src/loader.rs:
src/mm.rs:
src/sbi.rs:
src/trap.rs:
src/../shared/proto.rs:
/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/riscv-kernel-618ece54472da145/out/user-target/riscv64gc-unknown-none-elf/release/riscv-kernel-user:
Cargo.toml:

# env-dep:CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
# env-dep:CLIPPY_CONF_DIR
# env-dep:USER_ELF=/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/build/riscv-kernel-618ece54472da145/out/user-target/riscv64gc-unknown-none-elf/release/riscv-kernel-user
