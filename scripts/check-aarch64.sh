#!/usr/bin/env bash
# The crate on aarch64 Linux: cross-builds the library's unit tests for
# aarch64-unknown-linux-gnu and runs the layer, kernel (nn::peak), optimiser,
# data and metric unit tests under qemu-user (slow: a chosen set, not the whole suite).
#   bash scripts/check-aarch64.sh [TEST FILTER ...]
# Installs what it needs (Debian: gcc-aarch64-linux-gnu, qemu-user; the
# rustup target) when it is missing. Uses its own target folder
# (target/aarch64) so the host build is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
T=aarch64-unknown-linux-gnu
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get install -y --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user >/dev/null
fi
rustup target list --installed | grep -qx "$T" || rustup target add "$T"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
FILTERS=("$@")
[ ${#FILTERS[@]} -gt 0 ] || FILTERS=(nn:: train:: data:: eval::)
start=$(date +%s)
for f in "${FILTERS[@]}"; do
  cargo test -q --target "$T" --target-dir target/aarch64 --lib -- "$f"
done
echo "aarch64: ${FILTERS[*]} passed under qemu in $(( $(date +%s) - start )) s"
