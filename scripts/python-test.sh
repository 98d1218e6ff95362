#!/usr/bin/env bash
# The Python package's tests: builds the `lstmkit` wheel once into a virtual
# environment under target/tmp (maturin from pip; the extension is compiled in
# the dev profile into the shared target/, so the crates `cargo test` built are
# reused), then runs pytest on python/tests. PYTHON_TESTS=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${PYTHON_TESTS:-1}" = 0 ]; then
    echo "python tests skipped (PYTHON_TESTS=0)"
    exit 0
fi
PY="${PYTHON:-python3}"
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "python3 not found: install Python >= 3.9 (or set PYTHON_TESTS=0)" >&2
    exit 1
fi
venv=target/tmp/pyenv
if [ ! -x "$venv/bin/python" ]; then
    "$PY" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check numpy pandas pytest scikit-learn
# `pip install ./python` builds in release for users; here the dev profile
# shares target/debug with `cargo test` (release would rebuild every crate).
MATURIN_PEP517_ARGS="--profile dev" "$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./python
"$venv/bin/python" -m pytest -q python/tests
