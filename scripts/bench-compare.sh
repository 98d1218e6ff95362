#!/usr/bin/env bash
# Training-step speed of lstmkit next to Keras and PyTorch, measured in the same run
# (the reference scripts live in ../shared/bench; see its README for the Python env).
#   bash scripts/bench-compare.sh [MODELS="m1 m2"] [ROUNDS=1]
# Prints one JSON object per model with the ms/step of each engine and the ratios.
# LSTMKIT_BASELINE=/path/to/lstmkit (an older build) is measured in the same run,
# interleaved, and reported as `baseline_ms` with `speedup_vs_baseline`.
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=${1:-"m1 m2"}
ROUNDS=${2:-1}
PY=${LSTMKIT_BENCH_PY:-$HOME/.cache/lstmkit-bench/bin/python}
BENCH=${LSTMKIT_BENCH_DIR:-../shared/bench}
[ -x "$PY" ] || { echo "no Python env at $PY (run $BENCH/setup.sh)" >&2; exit 1; }
cargo build --release -q
out=$(mktemp -d)
for r in $(seq 1 "$ROUNDS"); do
  for m in $MODELS; do
    ./target/release/lstmkit bench train --model "$m" --json > "$out/lstmkit_${m}_$r.json"
    if [ -n "${LSTMKIT_BASELINE:-}" ]; then
      "$LSTMKIT_BASELINE" bench train --model "$m" --json > "$out/baseline_${m}_$r.json"
    fi
    "$PY" "$BENCH/bench_keras.py" --model "$m" --mode speed --json "$out/keras_${m}_$r.json" > /dev/null 2>"$out/keras.err" || { cat "$out/keras.err" >&2; exit 1; }
    # the hand-written PyTorch cell exists for some models only
    "$PY" "$BENCH/bench_torch.py" --model "$m" --impl hand --threads 1 --mode speed --json "$out/torch_hand_${m}_$r.json" > /dev/null 2>"$out/torch.err" || rm -f "$out/torch_hand_${m}_$r.json"
    "$PY" "$BENCH/bench_torch.py" --model "$m" --impl nnlstm --threads 1 --mode speed --json "$out/torch_nn_${m}_$r.json" > /dev/null 2>"$out/torch.err" || { cat "$out/torch.err" >&2; exit 1; }
  done
done
"$PY" - "$out" "$MODELS" "$ROUNDS" <<'PYEOF'
import json, os, statistics, sys
out, models, rounds = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
def ms(path, key):
    d = json.load(open(path))
    for k in key.split("."):
        d = d[k]
    return float(d)
for m in models:
    r = range(1, rounds + 1)
    ours = statistics.median(ms(f"{out}/lstmkit_{m}_{i}.json", "ms_per_step") for i in r)
    keras = statistics.median(ms(f"{out}/keras_{m}_{i}.json", "speed.steady_ms_per_step_median_epoch") for i in r)
    hand = [f"{out}/torch_hand_{m}_{i}.json" for i in r]
    th = statistics.median(ms(p, "speed.steady_ms_per_step_median_epoch") for p in hand) if all(map(os.path.exists, hand)) else None
    tn = statistics.median(ms(f"{out}/torch_nn_{m}_{i}.json", "speed.steady_ms_per_step_median_epoch") for i in r)
    base = [f"{out}/baseline_{m}_{i}.json" for i in r]
    bl = statistics.median(ms(p, "ms_per_step") for p in base) if all(map(os.path.exists, base)) else None
    isa = json.load(open(f"{out}/lstmkit_{m}_1.json")).get("simd")
    print(json.dumps({"model": m, "lstmkit_ms": round(ours, 4), "keras_ms": round(keras, 3),
                      "torch_hand_ms": th and round(th, 3), "torch_nnlstm_ms": round(tn, 3),
                      "speedup_vs_keras": round(keras / ours, 2),
                      "speedup_vs_torch_hand": th and round(th / ours, 2),
                      "speedup_vs_torch_nnlstm": round(tn / ours, 2),
                      "baseline_ms": bl and round(bl, 4),
                      "speedup_vs_baseline": bl and round(bl / ours, 3), "simd": isa}))
PYEOF
