#!/usr/bin/env bash
# Benchmark for provisioning (issue: bulk provisioning). The sandbox runs as
# a separate process on loopback; each measurement gets a fresh one.
#
#  1. 50 ms latency, ROWS rows (default 1000): wall time at concurrency 1, 4,
#     8 and 16 against the ideal rows x latency / concurrency (target: at
#     least 90% of ideal at 8 and 16), and the vendor's documented way, one
#     curl per row, one after another, as the baseline.
#  2. No latency: our requests per second at concurrency 8 against what wrk
#     (a load generator) reaches on the same endpoint at the same
#     concurrency (target: at least half).
#  3. Peak memory of a 100,000-row run (target: under 150 MB).
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${ROWS:-1000}
big=${BIG_ROWS:-100000}
rounds=${ROUNDS:-3}
latency_ms=50
work=$(mktemp -d)
sandbox_pid=""
cleanup() { [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=scripts/apt-install.sh
. scripts/apt-install.sh
command -v wrk >/dev/null || apt_install wrk
cargo build --release --quiet --bin provision
# Where cargo just built it: CARGO_TARGET_DIR when set, else ./target.
bin=${CARGO_TARGET_DIR:-target}/release/provision

# start_sandbox LATENCY_MS: sets URL and TOKEN.
start_sandbox() {
    [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null || true
    rm -f "$work/sandbox.out"
    "$bin" -q sandbox --port 0 --latency-ms "$1" >"$work/sandbox.out" 2>/dev/null &
    sandbox_pid=$!
    for _ in $(seq 100); do grep -q '^Token: ' "$work/sandbox.out" 2>/dev/null && break; sleep 0.05; done
    URL=$(sed -n 's/^Sandbox dashboard listening on //p' "$work/sandbox.out")
    TOKEN=$(sed -n 's/^Token: //p' "$work/sandbox.out")
}

seconds() { python3 -c "import sys; print(f'{float(sys.argv[1]):.3f}')" "$1"; }
now() { date +%s.%N; }

python3 scripts/gen-agents.py --rows "$rows" "$work/agents.csv"

echo "== $rows rows, sandbox latency $latency_ms ms"
printf '%-14s %9s %9s %8s\n' run seconds ideal "of ideal"
for c in 1 4 8 16; do
    start_sandbox "$latency_ms"
    start=$(now)
    SOFTPHONE_TOKEN=$TOKEN "$bin" -qq --dashboard "$URL" --concurrency "$c" \
        --report "$work/results.csv" "$work/agents.csv" >/dev/null
    end=$(now)
    python3 - "$start" "$end" "$rows" "$latency_ms" "$c" <<'PY'
import sys
start, end, rows, latency, c = map(float, sys.argv[1:])
wall = end - start
ideal = rows * latency / 1000 / c
print(f"{'concurrency ' + str(int(c)):<14} {wall:9.3f} {ideal:9.3f} {100 * ideal / wall:7.1f}%")
PY
done

# The vendor's way: one curl per row, one after another.
start_sandbox "$latency_ms"
python3 - "$work/agents.csv" "$work/bodies" <<'PY'
import csv, json, sys, os
os.makedirs(sys.argv[2])
with open(sys.argv[1], encoding="utf-8") as f:
    for n, row in enumerate(csv.DictReader(f, delimiter=";"), 1):
        body = {"usesSoftphone": row["usesSP"].lower() == "true", "name": row["name"],
                "surname": row["surname"], "email": row["email"], "password": row["password"],
                "role": row["role"].upper(), "groups": [int(g) for g in row["groupsIn"].split(",")],
                "config": "{% include \"Default\" %}"}
        open(f"{sys.argv[2]}/{n}.json", "w").write(json.dumps(body))
PY
start=$(now)
for body in "$work"/bodies/*.json; do
    curl -s -o /dev/null -X POST -H "Content-Type: application/json" \
        -H "Authorization: Bearer $TOKEN" --data-binary "@$body" "${URL}api/settings/users/save"
done
end=$(now)
python3 -c "import sys; s,e,r,l=map(float,sys.argv[1:]); w=e-s; i=r*l/1000; print(f\"{'curl per row':<14} {w:9.3f} {i:9.3f} {100*i/w:7.1f}%\")" "$start" "$end" "$rows" "$latency_ms"

echo "== no latency, concurrency 8: requests per second (best of $rounds rounds, in turns)"
fast_rows=$((rows * 10))
cat >"$work/save.lua" <<'LUA'
-- Every request creates a new user, as provisioning does: each wrk thread
-- numbers its emails apart from the others' (a repeat would be a cheaper 500).
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("prefix", threads)
end
local n = 0
request = function()
    n = n + 1
    local body = string.format('{"usesSoftphone":true,"name":"W","surname":"R","email":"w%d-%d@example.com","password":"secret1","role":"EMPLOYEE","groups":[1],"config":"x"}', prefix, n)
    return wrk.format("POST", nil, nil, body)
end
LUA
ours=0
theirs=0
for round in $(seq "$rounds"); do
    python3 scripts/gen-agents.py --rows "$fast_rows" "$work/fast.csv"
    start_sandbox 0
    start=$(now)
    SOFTPHONE_TOKEN=$TOKEN "$bin" -qq --dashboard "$URL" --concurrency 8 --output json \
        --report "$work/results.csv" "$work/fast.csv" >"$work/fast.jsonl"
    end=$(now)
    rate=$(python3 -c "import sys; s,e,r=map(float,sys.argv[1:]); print(f'{r/(e-s):.0f}')" "$start" "$end" "$fast_rows")
    start_sandbox 0
    wrk -t 2 -c 8 -d 5s -H "Content-Type: application/json" -H "Authorization: Bearer $TOKEN" \
        -s "$work/save.lua" "${URL}api/settings/users/save" >"$work/wrk.txt"
    wrk_rate=$(sed -n 's/^Requests\/sec: *//p' "$work/wrk.txt" | cut -d. -f1)
    if grep -q "Non-2xx" "$work/wrk.txt"; then echo "wrk got errors:"; cat "$work/wrk.txt"; exit 1; fi
    echo "round $round: provision $rate rows/s, wrk $wrk_rate requests/s"
    [ "$rate" -gt "$ours" ] && ours=$rate
    [ "$wrk_rate" -gt "$theirs" ] && theirs=$wrk_rate
done
python3 -c "import sys; o,t=map(float,sys.argv[1:]); print(f'best: provision {o:.0f} rows/s (one save each), wrk {t:.0f} requests/s: {100*o/t:.0f}% (target: at least 50%)')" "$ours" "$theirs"

echo "== $big rows, no latency: peak memory"
python3 scripts/gen-agents.py --rows "$big" "$work/big.csv"
start_sandbox 0
SOFTPHONE_TOKEN=$TOKEN /usr/bin/time -f '%M %e' -o "$work/time.txt" "$bin" -qq --dashboard "$URL" \
    --concurrency 16 --report "$work/results.csv" "$work/big.csv" >/dev/null
read -r kib secs <"$work/time.txt"
python3 -c "import sys; k,s,r=map(float,sys.argv[1:]); print(f'{int(r)} rows in {s:.1f} s, peak {k/1024:.1f} MB')" "$kib" "$secs" "$big"
