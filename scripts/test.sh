#!/usr/bin/env bash
# Every test: set the machine up if needed, then style and lints, the whole test suite natively
# on x86_64 and again as riscv64 binaries under qemu-riscv64, as aarch64 binaries under
# qemu-aarch64 and as loongarch64 binaries under qemu-loongarch64 (std built from rust-src:
# scripts/cargo-build-std.sh), and the bare-metal builds a kernel uses. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

step() { printf '\n== %s\n' "$*" >&2; }

step "the committed images are exactly what the source builds (VDSO_IMAGES=check)"
VDSO_IMAGES=check cargo build --quiet --lib

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check
(cd vdso && cargo fmt -- --check)
(cd examples/kernel && cargo fmt --all -- --check)

step "lints (clippy, warnings denied)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
for t in x86_64-unknown-linux-gnu riscv64gc-unknown-linux-gnu aarch64-unknown-linux-gnu; do
  (cd vdso && cargo clippy --release --quiet --target "$t" -- -D warnings)
  (cd vdso && cargo clippy --quiet --all-targets --target "$t" -- -D warnings)
done
# The modern profile's data module, on every prebuilt-std target whose architecture has a modern
# row (the table's last column lists each arch's profiles; loongarch64, built with build-std,
# has both profiles' lines below).
modern_targets=$(cargo run -q -p vdso-abi --example table -- arches | awk '$4 == "prebuilt" && $5 ~ /modern/ { print $2 }')
for t in $modern_targets; do
  (cd vdso && cargo clippy --release --quiet --features modern --target "$t" -- -D warnings)
  (cd vdso && cargo clippy --quiet --all-targets --features modern --target "$t" -- -D warnings)
done
# loongarch64: no prebuilt std or core; the same two lints with them built from rust-src (the
# unit tests with unwinding, as `cargo test` builds the harness, see below; `--tests`, since the
# no_std library itself cannot unwind: the release lint covers it), in both profiles.
for features in "" "--features=modern"; do
  (cd vdso && ../scripts/cargo-build-std.sh loongarch64 clippy --release --quiet $features -- -D warnings)
  (cd vdso && ../scripts/cargo-build-std.sh loongarch64 clippy --quiet --tests $features \
    --config 'profile.dev.panic="unwind"' -- -D warnings)
done

# The example kernel: each arch's kernel and the shared user program, for that arch's target.
(cd examples/kernel && cargo clippy --release --quiet -p riscv-kernel -p kernel-user --target riscv64gc-unknown-none-elf -- -D warnings)
(cd examples/kernel && cargo clippy --release --quiet -p x86-kernel -p kernel-user --target x86_64-unknown-none -- -D warnings)
(cd examples/kernel && cargo clippy --release --quiet -p aarch64-kernel -p kernel-user --target aarch64-unknown-none -- -D warnings)
# loongarch64-unknown-none has no prebuilt core: built from rust-src (NOTES.md, "loongarch64").
(cd examples/kernel && RUSTC_BOOTSTRAP=1 cargo clippy -Z build-std=core --release --quiet -p loongarch-kernel -p kernel-user --target loongarch64-unknown-none -- -D warnings)
(cd examples/kernel && RUSTC_BOOTSTRAP=1 cargo clippy -Z build-std=core --release --quiet -p loongarch-kernel --features pages-4k --target loongarch64-unknown-none -- -D warnings)

step "API docs build without a warning (cargo doc, warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
# ... and each kernel-facing crate as a no_std kernel builds it (no std-only links dangling).
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet --no-default-features -p linux-vdso
(cd kernel-stub && RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet)
(cd abi && RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet)

step "each crate packages for the registry and builds from its package, in dependency order (cargo package, nothing published)"
# Tests and benches of the root package need the repository (vdso/ sources, fixtures), so the
# package leaves them out and cargo says so; everything else it prints matters.
# (pipefail: cargo's own failure fails the step.) Cargo treats the packaged crates, served from
# its temporary local registry, as immutable: it unpacks them into
# $CARGO_HOME/registry/src/-<hash>/ once and keeps their build as fresh by version alone, so a
# second run would verify against the first run's sources. Drop both before packaging (the
# packaging build has a target dir of its own, so nothing else is rebuilt).
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/{vdso-abi,vdso-kernel-stub,vdso-launcher,linux-vdso}-[0-9]*
rm -rf target/package-check/debug/.fingerprint/{vdso-abi,vdso-kernel-stub,vdso-launcher,linux-vdso}-*
cargo package --workspace --allow-dirty --quiet --target-dir target/package-check 2>&1 |
  { grep -v '^warning: ignoring \(test\|benchmark\) ' || true; } >&2

step "unit tests of the image's clock code with an injected counter (x86_64, then riscv64, aarch64 and loongarch64 under qemu)"
for t in x86_64-unknown-linux-gnu riscv64gc-unknown-linux-gnu aarch64-unknown-linux-gnu; do
  (cd vdso && cargo test --target "$t")
done
# ... and with the modern profile's data module (auxiliary clocks, tz and hrtimer_res per page;
# riscv64's hwprobe answers on the arch page).
for t in $modern_targets; do
  (cd vdso && cargo test --features modern --target "$t")
done
# vdso/'s dev profile aborts on panic (for its no_std build); with -Z build-std that would make
# cargo build a second, unwinding std for the test harness and fail on duplicate lang items, so
# the tests take the unwinding profile they get anyway.
(cd vdso && ../scripts/cargo-build-std.sh loongarch64 test --config 'profile.dev.panic="unwind"')
(cd vdso && ../scripts/cargo-build-std.sh loongarch64 test --features modern --config 'profile.dev.panic="unwind"')

step "tests on x86_64 (native)"
cargo test --workspace

step "tests on riscv64 (under qemu-riscv64)"
cargo test --workspace --target riscv64gc-unknown-linux-gnu

step "tests on aarch64 (under qemu-aarch64)"
cargo test --workspace --target aarch64-unknown-linux-gnu

step "tests on loongarch64 (static musl binaries under qemu-loongarch64, std built from rust-src)"
# Doc tests are left out: rustdoc does not take the target's rustflags (+crt-static), so Zig would
# link them against a dynamic musl this machine has no loader for; the x86_64 run covers them.
scripts/cargo-build-std.sh loongarch64 test --workspace --lib --bins --tests --examples

# x86_64: ours never more than the host kernel's vDSO (callgrind); riscv64 and aarch64 (single-
# stepped through qemu's gdb stub): never more than examples/icount-expected.txt records.
step "instructions per call on every arch: no regression (callgrind; qemu gdb stub)"
cargo run --release --quiet --example icount -- --check

step "bare-metal builds of the kernel-facing crates"
for t in riscv64gc-unknown-none-elf x86_64-unknown-none aarch64-unknown-none; do
  cargo build --quiet --no-default-features --target "$t" -p linux-vdso -p vdso-abi -p vdso-kernel-stub
done
# loongarch64-unknown-none: no prebuilt core either; a kernel builds it from rust-src the same way.
RUSTC_BOOTSTRAP=1 cargo build --quiet --no-default-features --target loongarch64-unknown-none \
  -Zbuild-std=core -p linux-vdso -p vdso-abi -p vdso-kernel-stub
echo "all checks passed" >&2
