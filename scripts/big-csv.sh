#!/bin/sh
# Writes target/tmp/big/big.csv (~7.8M rows x 4 columns, about 200 MB) and
# target/tmp/big/big.toml (epochs = 1), for measuring `lstmkit train`'s peak RSS:
#   scripts/big-csv.sh && /usr/bin/time -v target/release/lstmkit train \
#       --config target/tmp/big/big.toml --out target/tmp/big/run
set -e
d=target/tmp/big
mkdir -p "$d"
rows=${ROWS:-7800000}
awk -v n="$rows" 'BEGIN {
  print "step,a,b,y"; s = 12345
  for (i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648
    printf "%d,%.4f,%.4f,%.4f\n", i, sin(i * 0.01) * 10, cos(i * 0.003) * 5, 20 + sin(i * 0.05) * 3 + s / 2147483648
  }
}' > "$d/big.csv"
cat > "$d/big.toml" <<'TOML'
[data]
path = "big.csv"
time_column = "step"
target = "y"
features = ["a", "b", "y"]
timesteps = 10
test_split = 0.2
validation_split = 0.2

[[layers]]
type = "lstm"
units = 8

[[layers]]
type = "dense"
units = 1

[compile]
optimizer = "adam"
learning_rate = 0.001

[fit]
epochs = 1
batch_size = 1024
TOML
ls -l "$d/big.csv"
