#!/usr/bin/env bash
# Rebuilds every image from source and writes them into images/ (commit them afterwards).
# The library embeds the committed images so that a kernel using it needs no Linux target,
# rust-lld or nested build; CI rebuilds them (VDSO_IMAGES=check) and fails on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
VDSO_IMAGES=update cargo build --quiet --lib
git status --short images/
