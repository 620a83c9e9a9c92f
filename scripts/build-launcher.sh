#!/usr/bin/env bash
# Builds the launcher that `vdso run --arch ARCH` runs under qemu-ARCH (docs/launcher.md): the
# `vdso` command for the row's Rust target, linked static (qemu-user then needs no guest loader
# for it) with its text at the row's `launcher_text`, clear of where that architecture's
# programs and qemu's own mappings go, in its own target dir target/ARCH-launcher/ so its flags
# never mix with the test suite's build for that target. ARCH is a row name of the architecture
# table (abi/src/ARCH.rs: `linux_target`, `launcher_text`). Prints the binary's path;
# idempotent (cargo rebuilds only what changed).
#   scripts/build-launcher.sh ARCH            build, print the path
#   scripts/build-launcher.sh --row ARCH      print "TARGET TEXT" as read from the row, build nothing
set -euo pipefail
cd "$(dirname "$0")/.."
row_only=
if [ "${1:-}" = --row ]; then row_only=1; shift; fi
arch=${1:?usage: scripts/build-launcher.sh [--row] ARCH}
row=abi/src/$arch.rs
if [ ! -f "$row" ] || ! grep -q "^ *name: \"$arch\"," "$row"; then
  echo "build-launcher: no row named $arch in the architecture table (abi/src/*.rs)" >&2; exit 2
fi
target=$(sed -n 's/^ *linux_target: "\(.*\)",$/\1/p' "$row")
text=$(sed -n 's/^ *launcher_text: \(0x[0-9a-fA-F_]*\),$/\1/p' "$row" | tr -d _)
if [ -z "$target" ] || [ -z "$text" ]; then
  echo "build-launcher: $row has no linux_target or launcher_text" >&2; exit 2
fi
if [ -n "$row_only" ]; then echo "$target $text"; exit 0; fi
# Flags of an outer cargo (coverage, clippy wrappers) must not leak into this build.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER \
  CARGO_BUILD_TARGET CARGO_TARGET_DIR CARGO_MAKEFLAGS MAKEFLAGS MFLAGS
var=CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$target")_RUSTFLAGS
export "$var=-C target-feature=+crt-static -C link-arg=-Wl,-Ttext-segment=$text"
# (Flags from the environment are appended to the target's flags in .cargo/config.toml; an
# architecture without a prebuilt std, the row's `build_std`, builds it from rust-src.)
scripts/cargo-build-std.sh "$arch" build --release --quiet --target-dir "target/$arch-launcher" --bin vdso >&2
echo "$PWD/target/$arch-launcher/$target/release/vdso"
