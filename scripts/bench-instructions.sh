#!/usr/bin/env bash
# Instructions per row of `provision --dry-run` and of merely parsing with
# the csv crate, counted by valgrind's cachegrind: the same on every run
# and unmoved by other tenants of a shared VM, so it shows what a change
# does to the work itself, where wall times (scripts/bench-dry-run.sh)
# spread by 10 to 20%. It counts instructions, not time: cache misses and
# the threads' parallelism are not in it.
#
# Each program reads ROWS and then 2 x ROWS generated rows (default 20,000);
# the difference over ROWS is the cost of a row, without the start-up.
# QUOTED=1 quotes every row's display name, so that no line is plain and
# every record goes through csv_core.
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${ROWS:-20000}
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin provision --example csv_parse_only
release=${CARGO_TARGET_DIR:-target}/release
quoted=()
if [ "${QUOTED:-0}" = 1 ]; then quoted=(--quoted); fi
python3 scripts/gen-agents.py --rows "$((2 * rows))" "${quoted[@]}" "$work/big.csv"
head -n "$((rows + 1))" "$work/big.csv" >"$work/small.csv"

# instructions FILE COMMAND...: the instructions COMMAND FILE runs.
instructions() {
    local file=$1; shift
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        "$@" "$file" 2>&1 >/dev/null | awk '/I *refs/ { gsub(",", "", $4); print $4 }'
}
per_row() {
    local small big
    small=$(instructions "$work/small.csv" "$@")
    big=$(instructions "$work/big.csv" "$@")
    echo $(((big - small) / rows))
}

parse=$(per_row "$release/examples/csv_parse_only")
dry=$(per_row "$release/provision" -q --dry-run)
echo "parse only:  $parse instructions a row"
echo "--dry-run:   $dry instructions a row ($(echo "scale=2; $dry / $parse" | bc)x)"
