#!/usr/bin/env bash
# The riscv64 launcher (`vdso run --arch riscv64`): scripts/build-launcher.sh riscv64, kept
# under its old name. Prints the binary's path.
exec "$(dirname "$0")/build-launcher.sh" riscv64
