#!/usr/bin/env bash
# Does lstmkit train the seed's m1 as Keras does? For each seed: Keras 3 trains
# m1 as ../shared/bench/bench_keras.py does (quality mode), and lstmkit, started
# from Keras' initial weights and fed the window order Keras' fit used, runs
# the same recipe. Prints both test RMSEs and how many epochs' val_loss agree.
#   bash scripts/keras-recipe.sh [SEED ...]        (default: 42 1 2)
# Needs the reference Python environment (../shared/bench/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${LSTMKIT_BENCH_PY:-$HOME/.cache/lstmkit-bench/bin/python}
[ -x "$PY" ] || { echo "no Python environment at $PY: run ../shared/bench/setup.sh" >&2; exit 1; }
seeds=("$@"); [ ${#seeds[@]} -gt 0 ] || seeds=(42 1 2)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build -q --release --example keras_recipe
for s in "${seeds[@]}"; do
    "$PY" scripts/keras_recipe.py "$dir" "$s" 2>/dev/null | grep '^keras seed'
    ./target/release/examples/keras_recipe "$dir/init_$s.keras" "$dir/keras_$s.json"
done
