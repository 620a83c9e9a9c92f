#!/usr/bin/env bash
# The real-client matrix in one command: builds the fixtures (once) and the riscv64 and aarch64
# launchers, runs every consumer on our image through `vdso run` (x86_64 natively under strace,
# riscv64 and aarch64 under qemu-user with its syscall log) and prints the table
# consumer x arch x verdict. Exits non-zero if a row fails. The same test runs in `cargo test`
# (tests/launcher_matrix.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --quiet --test launcher_matrix -- --nocapture 2>&1 \
  | grep -v -e "^running 1 test" -e "^test result" -e "^\.$" -e "^$" || true
test "${PIPESTATUS[0]}" -eq 0
