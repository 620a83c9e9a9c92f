#!/usr/bin/env bash
# The main job: set the machine up if needed, build every linux-vdso.so.1 image (linked and
# verified by build.rs), write them with their C headers to target/vdso/<arch>/, summarise them,
# and show that each one answers: clock_gettime through the riscv64 image under qemu-riscv64,
# the aarch64 image under qemu-aarch64, the loongarch64 images (16 KiB and 4 KiB pages) under
# qemu-loongarch64 and the x86_64 image natively, each mapped with a live data page; and every
# arch's modern-profile image running the same unmodified programs (vdso run --profile modern),
# x86_64's also over the host kernel's own live pages (vdso run --host-data).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== building every image" >&2
cargo build --release --quiet --bin vdso
./target/release/vdso build --out target/vdso
echo "== building the riscv64, aarch64 and loongarch64 launchers for vdso run (docs/launcher.md)" >&2
scripts/build-launcher.sh riscv64 >/dev/null
scripts/build-launcher.sh aarch64 >/dev/null
scripts/build-launcher.sh loongarch64 >/dev/null
echo "== an unmodified program on our image: vdso run --realtime-offset +100y -- date -u" >&2
./target/release/vdso run --realtime-offset +100y -- date -u
echo "== the same for an unmodified aarch64 program, under qemu-aarch64" >&2
mkdir -p target/tmp
aarch64-linux-gnu-gcc -O2 -o target/tmp/clocks-aarch64 tests/fixtures/launcher/clocks.c
./target/release/vdso run --realtime-offset 2099-01-01T00:00:00Z -- target/tmp/clocks-aarch64
echo "== and for a static musl loongarch64 program (Zig), under qemu-loongarch64 (16 KiB pages)" >&2
scripts/loongarch64-linux-musl-cc -static -O2 -o target/tmp/clocks-loongarch64 tests/fixtures/launcher/clocks.c
./target/release/vdso run --realtime-offset 2099-01-01T00:00:00Z -- target/tmp/clocks-loongarch64
echo "== the modern profile (Linux 6.18's data layout): the same programs on each arch's modern image" >&2
riscv64-linux-gnu-gcc -O2 -o target/tmp/clocks-riscv64 tests/fixtures/launcher/clocks.c
./target/release/vdso run --profile modern --realtime-offset +100y -- date -u
for arch in riscv64 aarch64 loongarch64; do
  echo "-- $arch, modern" >&2
  ./target/release/vdso run --profile modern --realtime-offset 2099-01-01T00:00:00Z -- "target/tmp/clocks-$arch"
done
echo "== x86_64's modern image over the host kernel's own live data pages, no writer (vdso run --host-data)" >&2
# Needs a Linux 6.17+ x86_64 host; elsewhere it refuses, saying why, and the job goes on.
./target/release/vdso run --host-data -- date -u || echo "(host-data mode refused on this host: see above)" >&2
echo "== calling each image through its own symbol tables, with a live data page" >&2
cargo run --release --quiet --example demo
echo "== the same for riscv64, under qemu-riscv64" >&2
cargo run --release --quiet --example demo --target riscv64gc-unknown-linux-gnu
echo "== the same for aarch64, under qemu-aarch64" >&2
cargo run --release --quiet --example demo --target aarch64-unknown-linux-gnu
echo "== the same for loongarch64's 16 KiB image, under qemu-loongarch64 (std built from rust-src)" >&2
scripts/cargo-build-std.sh loongarch64 run --release --quiet --example demo
echo "== loongarch64's 4 KiB image, under qemu-loongarch64 inside one 16 KiB page (its test)" >&2
scripts/cargo-build-std.sh loongarch64 test --release --quiet --test loongarch64_4k
