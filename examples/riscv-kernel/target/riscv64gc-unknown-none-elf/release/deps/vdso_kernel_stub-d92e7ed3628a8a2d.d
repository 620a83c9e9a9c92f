/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/deps/vdso_kernel_stub-d92e7ed3628a8a2d.d: /work/main/kernel-stub/src/lib.rs /work/main/kernel-stub/src/access.rs /work/main/kernel-stub/src/arch.rs /work/main/kernel-stub/src/counter.rs /work/main/kernel-stub/src/layout.rs /work/main/kernel-stub/src/protocol.rs /work/main/kernel-stub/src/reader.rs /work/main/kernel-stub/src/symbols.rs /work/main/kernel-stub/src/time.rs /work/main/kernel-stub/src/timekeeping.rs /work/main/kernel-stub/src/timens.rs /work/main/kernel-stub/src/update.rs /work/main/kernel-stub/src/writer.rs

/work/main/examples/riscv-kernel/target/riscv64gc-unknown-none-elf/release/deps/libvdso_kernel_stub-d92e7ed3628a8a2d.rmeta: /work/main/kernel-stub/src/lib.rs /work/main/kernel-stub/src/access.rs /work/main/kernel-stub/src/arch.rs /work/main/kernel-stub/src/counter.rs /work/main/kernel-stub/src/layout.rs /work/main/kernel-stub/src/protocol.rs /work/main/kernel-stub/src/reader.rs /work/main/kernel-stub/src/symbols.rs /work/main/kernel-stub/src/time.rs /work/main/kernel-stub/src/timekeeping.rs /work/main/kernel-stub/src/timens.rs /work/main/kernel-stub/src/update.rs /work/main/kernel-stub/src/writer.rs

/work/main/kernel-stub/src/lib.rs:
/work/main/kernel-stub/src/access.rs:
/work/main/kernel-stub/src/arch.rs:
/work/main/kernel-stub/src/counter.rs:
/work/main/kernel-stub/src/layout.rs:
/work/main/kernel-stub/src/protocol.rs:
/work/main/kernel-stub/src/reader.rs:
/work/main/kernel-stub/src/symbols.rs:
/work/main/kernel-stub/src/time.rs:
/work/main/kernel-stub/src/timekeeping.rs:
/work/main/kernel-stub/src/timens.rs:
/work/main/kernel-stub/src/update.rs:
/work/main/kernel-stub/src/writer.rs:
