#!/usr/bin/env bash
# Benchmark for `provision asterisk upload` (issue 5): peak memory of a
# large queue_log upload.
#
# Generates a queue_log of SIZE_MB megabytes (default 200) of realistic
# lines (ENTERQUEUE, RINGNOANSWER, CONNECT, COMPLETECALLER, ...), starts
# `provision sandbox --port 0` as a separate process, uploads the file with
# `provision asterisk upload` under /usr/bin/time, and prints the client's
# peak resident memory, the wall time, and the call count the sandbox
# answered next to the number of ENTERQUEUE lines written.
# Target: peak memory under 50 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mb=${SIZE_MB:-200}
work=$(mktemp -d)
sandbox_pid=""
cleanup() {
    if [ -n "$sandbox_pid" ]; then
        kill "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --quiet --bin provision
# Where cargo just built it: CARGO_TARGET_DIR when set, else ./target.
bin=${CARGO_TARGET_DIR:-target}/release/provision
log="$work/queue_log"

# Writes whole calls (1,000 at a time) until the file reaches the size.
python3 - "$log" "$size_mb" <<'PY'
import sys
path, size = sys.argv[1], int(sys.argv[2]) * 1024 * 1024
calls = written = 0
with open(path, "w", buffering=1 << 20) as out:
    while written < size:
        block = []
        for _ in range(1000):
            t = 1_700_000_000 + calls
            c = f"{t}.{calls}"
            agent = f"SIP/{100 + calls % 50}"
            block.append(
                f"{t}|{c}|support|NONE|ENTERQUEUE||+1555{calls:07d}|1\n"
                f"{t}|{c}|support|{agent}|RINGNOANSWER|15000\n"
                f"{t}|{c}|support|{agent}|CONNECT|12|{c}|9\n"
                f"{t}|{c}|support|{agent}|COMPLETECALLER|12|184|1\n"
                f"{t}|NONE|NONE|NONE|QUEUESTART|\n"
            )
            calls += 1
        text = "".join(block)
        out.write(text)
        written += len(text)

PY
expected=$(grep -c '|ENTERQUEUE|' "$log")
echo "file: $(du -m "$log" | cut -f1) MB, $expected calls (ENTERQUEUE lines)"

"$bin" sandbox -q --port 0 >"$work/sandbox.out" 2>"$work/sandbox.err" &
sandbox_pid=$!
for _ in $(seq 100); do
    grep -q '^Token: ' "$work/sandbox.out" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/^Sandbox dashboard listening on \(http[^ ]*\)$/\1/p' "$work/sandbox.out")
token=$(sed -n 's/^Token: //p' "$work/sandbox.out")
[ -n "$url" ] && [ -n "$token" ] || { echo "the sandbox did not start"; cat "$work/sandbox.err"; exit 1; }

start=$(date +%s.%N)
SOFTPHONE_TOKEN="$token" /usr/bin/time -f '%M' -o "$work/rss" \
    "$bin" asterisk upload -q --dashboard "$url" "$log" >"$work/upload.out"
end=$(date +%s.%N)

peak_kib=$(tail -n 1 "$work/rss")
counted=$(awk '{print $1}' "$work/upload.out")
peak_mb=$(echo "$peak_kib / 1024" | bc -l)
printf 'upload: %s\n' "$(cat "$work/upload.out")"
printf 'wall time %.2f s, client peak RSS %.1f MB (%s KiB)\n' "$(echo "$end - $start" | bc)" "$peak_mb" "$peak_kib"
verdict=ok
status=0
if [ "$counted" != "$expected" ]; then verdict="MISSED (count $counted, expected $expected)"; status=1; fi
if [ "$(echo "$peak_mb >= 50" | bc)" = 1 ]; then verdict="MISSED (peak >= 50 MB)"; status=1; fi
echo "count $counted of $expected, peak under 50 MB: $verdict"
exit $status
