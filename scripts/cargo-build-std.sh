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
# The row, from the table itself (abi/examples/table.rs: NAME LINUX_TARGET BARE_TARGET STD
# PROFILES), built in a target dir of its own so that it never waits on a build lock of the
# cargo that may have started this script (tests build the launchers through it).
row=$(cargo run --quiet --manifest-path "$root/Cargo.toml" --target-dir "$root/target/table" -p vdso-abi --example table -- arches |
  awk -v a="$arch" '$1 == a')
if [ -z "$row" ]; then
  echo "cargo-build-std: no row named $arch in the architecture table (abi/src/arch.rs)" >&2; exit 2
fi
read -r _ target _ std _ <<<"$row"
if [ "$std" = build-std ]; then
  RUSTC_BOOTSTRAP=1 exec cargo "$sub" -Z build-std=std,panic_abort --target "$target" "$@"
fi
exec cargo "$sub" --target "$target" "$@"
