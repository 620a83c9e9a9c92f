#!/usr/bin/env bash
# The main job: set the machine up if needed, build every linux-vdso.so.1 image (linked and
# verified by build.rs), write them with their C headers to target/vdso/<arch>/, summarise them,
# and show that each one answers: clock_gettime through the riscv64 image under qemu-riscv64,
# the aarch64 image under qemu-aarch64 and the x86_64 image natively, each mapped by the kernel
# stub with a live data page.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== building every image" >&2
cargo build --release --quiet --bin vdso
./target/release/vdso build --out target/vdso
echo "== building the riscv64 launcher for vdso run (docs/launcher.md)" >&2
scripts/build-riscv64-launcher.sh >/dev/null
echo "== an unmodified program on our image: vdso run --realtime-offset +100y -- date -u" >&2
./target/release/vdso run --realtime-offset +100y -- date -u
echo "== calling each image through its own symbol tables, with a live data page" >&2
cargo run --release --quiet --example demo
echo "== the same for riscv64, under qemu-riscv64" >&2
cargo run --release --quiet --example demo --target riscv64gc-unknown-linux-gnu
echo "== the same for aarch64, under qemu-aarch64" >&2
cargo run --release --quiet --example demo --target aarch64-unknown-linux-gnu
