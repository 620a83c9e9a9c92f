#!/usr/bin/env bash
# Builds the riscv64 launcher that `vdso run --arch riscv64` runs under qemu-riscv64: the `vdso`
# command for riscv64gc-unknown-linux-gnu, linked static (qemu-user then needs no guest loader
# for it) with its text at 0x60000000 (1.5 GiB), far from 0x10000 where riscv64 executables
# load, still inside the +-2 GiB that the medlow code model of crtbeginT.o can reach, and
# below qemu-user's mmap base (256 GiB), in its own target dir so its flags never mix
# with the test suite's riscv64 build. Prints the binary's path; idempotent (cargo rebuilds only
# what changed).
set -euo pipefail
cd "$(dirname "$0")/.."
# Flags of an outer cargo (coverage, clippy wrappers) must not leak into this build.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER \
  CARGO_BUILD_TARGET CARGO_TARGET_DIR CARGO_MAKEFLAGS MAKEFLAGS MFLAGS
target=riscv64gc-unknown-linux-gnu
export CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static -C link-arg=-Wl,-Ttext-segment=0x60000000"
cargo build --release --quiet --target "$target" --target-dir target/riscv64-launcher --bin vdso >&2
echo "$PWD/target/riscv64-launcher/$target/release/vdso"
