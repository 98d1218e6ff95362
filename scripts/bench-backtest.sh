#!/usr/bin/env bash
# Backtest speed and error next to Darts, same machine, same run: the elec protocol of
# ../shared/bench/bench_darts.py (daily demand, train to 2014-10-31, origins every day of
# Nov-Dec 2014, horizon 7, last points only, 100 epochs) with retrain never and every 10
# origins. Prints one JSON line per engine and run, then a summary table.
#
# usage: scripts/bench-backtest.sh [OUT_DIR]   (default /tmp/lstmkit-bench-backtest)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/lstmkit-bench-backtest}
PY=${PYTHON:-$HOME/.cache/lstmkit-bench/bin/python}
mkdir -p "$OUT"
cargo build --release --quiet
for R in 0 10; do
  if [ "$R" = 0 ]; then RT=never; else RT=$R; fi
  t0=$(date +%s.%N)
  ./target/release/lstmkit backtest --config examples/elecdaily_backtest.toml --out "$OUT/lstmkit-r$R" \
    --retrain "$RT" --quiet > "$OUT/lstmkit-r$R.txt"
  t1=$(date +%s.%N)
  echo "{\"engine\": \"lstmkit\", \"retrain\": $R, \"wall_s\": $(printf "%.3f" "$(echo "$t1 - $t0" | bc)")}" | tee "$OUT/lstmkit-r$R.json"
  t0=$(date +%s.%N)
  "$PY" ../shared/bench/bench_darts.py elec --retrain "$R" --json "$OUT/darts-r$R.json" > /dev/null
  t1=$(date +%s.%N)
  echo "{\"engine\": \"darts\", \"retrain\": $R, \"wall_s\": $(printf "%.3f" "$(echo "$t1 - $t0" | bc)")}" | tee "$OUT/darts-wall-r$R.json"
done
"$PY" - "$OUT" <<'PYEOF'
import json, sys, os
out = sys.argv[1]
print(f"{'run':<22} {'fit+backtest s':>15} {'process s':>10} {'MASE':>8}")
for r in (0, 10):
    d = json.load(open(os.path.join(out, f"darts-r{r}.json")))
    dw = json.load(open(os.path.join(out, f"darts-wall-r{r}.json")))
    m = json.load(open(os.path.join(out, f"lstmkit-r{r}", "backtest_metrics.json")))
    lw = json.load(open(os.path.join(out, f"lstmkit-r{r}.json")))
    ds = d["fit_s"] + d["backtest_s"]
    print(f"{'darts retrain=' + str(r):<22} {ds:>15.2f} {dw['wall_s']:>10.2f} {d['mase']:>8.4f}")
    print(f"{'lstmkit retrain=' + str(r):<22} {m['seconds']:>15.2f} {lw['wall_s']:>10.2f} {m['overall']['model']['mase']:>8.4f}"
          f"   ({ds / m['seconds']:.0f}x faster; retrains {m['retrains']}, origins {m['origins']})")
    for name, v in m["overall"].items():
        if name != "model":
            print(f"{'  ' + name:<22} {'':>15} {'':>10} {v['mase']:>8.4f}")
PYEOF
