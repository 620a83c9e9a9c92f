/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/deps/riscv_kernel_user-ce749cfaa6a042cc.d: user/src/main.rs user/src/../../shared/proto.rs Cargo.toml

/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/deps/libriscv_kernel_user-ce749cfaa6a042cc.rmeta: user/src/main.rs user/src/../../shared/proto.rs Cargo.toml

user/src/main.rs:
user/src/../../shared/proto.rs:
Cargo.toml:

# env-dep:CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
# env-dep:CLIPPY_CONF_DIR
