#!/usr/bin/env bash
# Every test: set the machine up if needed, then style and lints, the whole test suite natively
# on x86_64 and again under qemu-user for every other row of the architecture table (riscv64,
# aarch64, loongarch64 today; std built from rust-src where rustup ships none:
# scripts/cargo-build-std.sh), the image's unit tests in every profile, the instruction-count
# gate, and the bare-metal builds a kernel uses. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

step() { printf '\n== %s\n' "$*" >&2; }

# The architecture table's rows (abi/src/arch.rs, abi/src/variant.rs), one per line:
# NAME LINUX_TARGET BARE_TARGET prebuilt|build-std PROFILES. Every per-arch step below loops
# over them, so a new row gets its lints, tests and bare-metal build with no edit here.
ARCHES=$(cargo run --quiet --target-dir target/table -p vdso-abi --example table -- arches)

step "the committed images are exactly what the source builds (VDSO_IMAGES=check)"
VDSO_IMAGES=check cargo build --quiet --lib

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check
(cd vdso && cargo fmt -- --check)
(cd examples/kernel && cargo fmt --all -- --check)

step "lints (clippy, warnings denied)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The image's crate for every row of the architecture table and every profile it is built in
# (vdso/'s `modern` feature is the modern profile's data module).
for_each_arch_profile() { # $1: a function called as FN ARCH STD FEATURE_ARGS...
  local arch std profiles p
  while read -r arch _ _ std profiles; do
    for p in ${profiles//,/ }; do
      if [ "$p" = classic ]; then "$1" "$arch" "$std"; else "$1" "$arch" "$std" --features "$p"; fi
    done
  done <<<"$ARCHES"
}
vdso_clippy() {
  local arch=$1 std=$2; shift 2
  (cd vdso && ../scripts/cargo-build-std.sh "$arch" clippy --release --quiet "$@" -- -D warnings)
  local tests=(--all-targets)
  # build-std rows (no prebuilt std): the tests alone, their std built with unwinding as `cargo
  # test` builds the harness (vdso/'s dev profile aborts on panic for its no_std build, and two
  # stds would clash on lang items); the no_std library cannot build unwinding without std, and
  # the --release line above lints it.
  [ "$std" = build-std ] && tests=(--tests --config 'profile.dev.panic="unwind"')
  (cd vdso && ../scripts/cargo-build-std.sh "$arch" clippy --quiet "${tests[@]}" "$@" -- -D warnings)
}
for_each_arch_profile vdso_clippy

# The example kernel: each arch's kernel (examples/kernel/<arch>/, for each page size it builds
# for: its `pages-*` features) with the shared user program, for that arch's bare-metal target;
# core built from rust-src where rustup ships none.
while read -r arch _ bare std _; do
  kernel=$(python3 -c 'import sys,tomllib; print(tomllib.load(open(sys.argv[1],"rb"))["package"]["name"])' "examples/kernel/$arch/Cargo.toml")
  pages=$(python3 -c 'import sys,tomllib; print(" ".join(f for f in tomllib.load(open(sys.argv[1],"rb")).get("features",{}) if f.startswith("pages-")))' "examples/kernel/$arch/Cargo.toml")
  boot=(); core=(); [ "$std" = build-std ] && boot=(env RUSTC_BOOTSTRAP=1) && core=(-Z build-std=core)
  (cd examples/kernel && "${boot[@]}" cargo clippy "${core[@]}" --release --quiet -p "$kernel" -p kernel-user --target "$bare" -- -D warnings)
  for f in $pages; do
    (cd examples/kernel && "${boot[@]}" cargo clippy "${core[@]}" --release --quiet -p "$kernel" --features "$f" --target "$bare" -- -D warnings)
  done
done <<<"$ARCHES"

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

step "unit tests of the image's code with an injected counter, every arch and profile (foreign arches under qemu)"
vdso_test() {
  local arch=$1 std=$2; shift 2
  local unwind=()
  [ "$std" = build-std ] && unwind=(--config 'profile.dev.panic="unwind"') # as for the lints
  (cd vdso && ../scripts/cargo-build-std.sh "$arch" test "${unwind[@]}" "$@")
}
for_each_arch_profile vdso_test

step "tests on x86_64 (native)"
cargo test --workspace

# qemu-loongarch64 7.2 used to abort a process now and then with "memory allocation of N bytes
# failed" (its mmap and Zig's malloc with the host's layout randomized: docs/launcher.md, "Known
# emulator faults"); the row's `fixed_layout` now keeps it from happening. Should another path
# to it remain, a run that fails with that line, and only then, is run again, at most twice,
# saying so; any other failure fails at once.
qemu_tests() { # $1: arch, then cargo test's arguments
  local arch=$1 log try; shift
  log=$(mktemp)
  for try in 1 2 3; do
    if scripts/cargo-build-std.sh "$arch" test "$@" 2>&1 | tee "$log"; then rm -f "$log"; return 0; fi
    if ! grep -q 'memory allocation of [0-9]* bytes failed' "$log"; then rm -f "$log"; return 1; fi
    [ "$try" = 3 ] && break
    step "qemu-$arch aborted a process on an allocation (the emulator fault above): running the $arch tests again"
  done
  rm -f "$log"
  return 1
}
while read -r arch _ _ std _; do
  [ "$arch" = x86_64 ] && continue # the host: run natively above
  if [ "$std" = build-std ]; then
    step "tests on $arch (under qemu-user; std built from rust-src)"
    # Doc tests are left out: rustdoc does not take the target's rustflags (+crt-static), so
    # the static-musl linker would link them dynamically against a loader this machine lacks;
    # the x86_64 run covers them.
    qemu_tests "$arch" --workspace --lib --bins --tests --examples
  else
    step "tests on $arch (under qemu-user)"
    qemu_tests "$arch" --workspace
  fi
done <<<"$ARCHES"

# x86_64: ours never more than the host kernel's vDSO (callgrind); riscv64 and aarch64 (single-
# stepped through qemu's gdb stub): never more than examples/icount-expected.txt records.
step "instructions per call on every arch: no regression (callgrind; qemu gdb stub)"
cargo run --release --quiet --example icount -- --check

step "bare-metal builds of the kernel-facing crates, for every arch's bare-metal target"
while read -r _ _ bare std _; do
  boot=(); core=(); [ "$std" = build-std ] && boot=(env RUSTC_BOOTSTRAP=1) && core=(-Z build-std=core)
  "${boot[@]}" cargo build "${core[@]}" --quiet --no-default-features --target "$bare" \
    -p linux-vdso -p vdso-abi -p vdso-kernel-stub
done <<<"$ARCHES"
echo "all checks passed" >&2
