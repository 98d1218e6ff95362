#!/usr/bin/env bash
# Fuzzes every reader for SECONDS each (default 60), one target at a time,
# under `nice -n 19`: cargo fuzz (libFuzzer) on the targets of fuzz/, seeded
# from the committed corpora fuzz/corpus/<target>/ (new inputs go to
# fuzz/target/corpus/<target>/, crashes to fuzz/artifacts/<target>/).
# A run longer than 1 s on one input counts as a hang (-timeout=1); more than
# 2 GiB of memory as a failure (-rss_limit_mb=2048).
# Prints one line per target: executions, seconds, coverage (libFuzzer's
# edges `cov` and features `ft`). Exits non-zero on any crash, hang or leak.
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-60}"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "scripts/fuzz.sh: needs cargo-fuzz and a nightly toolchain (rustup toolchain install nightly; cargo install cargo-fuzz)" >&2
    exit 2
fi
targets="${FUZZ_TARGETS:-csv experiment_toml npy model_file}"
nice -n 19 cargo +nightly fuzz build -s none || exit 1
status=0
for t in $targets; do
    work="target/corpus/$t"
    mkdir -p "$work" "artifacts/$t"
    log="target/fuzz-$t.log"
    start=$(date +%s)
    nice -n 19 cargo +nightly fuzz run -s none "$t" "$work" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=1 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" >"$log" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    echo "{\"target\": \"$t\", \"execs\": ${execs:-0}, \"seconds\": $took, \"coverage\": \"${cov:-?}\", \"rc\": $rc}"
    if [ "$rc" -ne 0 ]; then
        status=1
        echo "scripts/fuzz.sh: $t failed (rc $rc): see fuzz/$log and fuzz/artifacts/$t/" >&2
        grep -E 'ERROR|panicked|timeout|Test unit written' "$log" | head -5 >&2
    fi
done
exit $status
