#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (PostgreSQL for
# the tuner's storage tests, through scripts/pg-test.sh), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust (https://rustup.rs) first" >&2
    exit 1
fi
cargo fmt --all -- --check
# A clean CI build gains nothing from incremental caches; they only take disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
# PostgreSQL on 127.0.0.1 for tests/tune_workers.rs; stopped when the tests end.
bash scripts/pg-test.sh run cargo test --no-fail-fast
# The Python package (python/): its wheel built once on the same target/, then pytest.
bash scripts/python-test.sh
# A 20 s fuzz smoke per reader (scripts/fuzz.sh), only where cargo-fuzz and a
# nightly toolchain are installed (a clean CI machine has neither: skipped).
if [ "${FUZZ_SMOKE:-1}" != 0 ] && cargo +nightly fuzz --version >/dev/null 2>&1; then
    bash scripts/fuzz.sh 20
else
    echo "fuzz smoke skipped (no cargo-fuzz / nightly toolchain, or FUZZ_SMOKE=0)"
fi
