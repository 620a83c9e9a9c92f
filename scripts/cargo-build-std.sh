#!/usr/bin/env bash
# `cargo SUBCOMMAND --target T ARGS...` for an architecture whose Rust target rustup ships no
# prebuilt standard library for (the row's `build_std`, today loongarch64): builds `std` and
# `panic_abort` from the `rust-src` component (`-Z build-std`, allowed on the pinned stable
# compiler by `RUSTC_BOOTSTRAP=1`, as Linux builds its Rust code). The target's linker, runner
# and flags are in .cargo/config.toml; this script adds only what cargo cannot take from
# there per target. Any other architecture is passed through to plain cargo.
#   scripts/cargo-build-std.sh ARCH SUBCOMMAND [ARGS...]   e.g. loongarch64 test --workspace
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arch=${1:?usage: scripts/cargo-build-std.sh ARCH SUBCOMMAND [ARGS...]}
sub=${2:?usage: scripts/cargo-build-std.sh ARCH SUBCOMMAND [ARGS...]}
shift 2
row=$root/abi/src/$arch.rs
if [ ! -f "$row" ] || ! grep -q "^ *name: \"$arch\"," "$row"; then
  echo "cargo-build-std: no row named $arch in the architecture table (abi/src/*.rs)" >&2; exit 2
fi
target=$(sed -n 's/^ *linux_target: "\(.*\)",$/\1/p' "$row")
if grep -q '^ *build_std: true,' "$row"; then
  RUSTC_BOOTSTRAP=1 exec cargo "$sub" -Z build-std=std,panic_abort --target "$target" "$@"
fi
exec cargo "$sub" --target "$target" "$@"
