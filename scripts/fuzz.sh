#!/usr/bin/env bash
# Fuzz the agents-file reader (read_agents) and the config-template parser
# (config_template) for a bounded time each, then print what each run did:
# executions, coverage, corpus size and crashes.
#
#   SECONDS_EACH=600 bash scripts/fuzz.sh            # both targets
#   SECONDS_EACH=60 bash scripts/fuzz.sh read_agents # one of them
#
# SECONDS_EACH (default 60) is each target's budget. The checks each input
# must pass are in fuzz/oracles.rs, shared with tests/fuzz_regressions.rs.
#
# The corpus starts from the fixtures and grows in fuzz/corpus/TARGET (not
# committed). libFuzzer runs in fork mode with crashes ignored, so one run
# reports every crash it meets, not only the first; each crashing input is
# left in fuzz/artifacts/TARGET/. To keep one: minimise it
# (`cargo fuzz tmin TARGET FILE`), copy it to fixtures/fuzz/TARGET/ and fix
# what it shows; tests/fuzz_regressions.rs replays it from then on
# (fixtures/fuzz/README.md).
#
# cargo-fuzz needs nightly features; this machine has one stable toolchain,
# so RUSTC_BOOTSTRAP=1 unlocks them for this build only.
set -euo pipefail
cd "$(dirname "$0")/.."

each=${SECONDS_EACH:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(read_agents config_template)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1

mkdir -p fuzz/logs fuzz/corpus/read_agents fuzz/corpus/config_template
for target in "${targets[@]}"; do mkdir -p "fuzz/artifacts/$target"; done
# Every fixture is a seed for the reader; -n keeps what the corpus already
# holds under the same name.
find fixtures -type f ! -name '*.md' ! -name '*.py' ! -name 'LICENSE*' \
    -exec cp -n {} fuzz/corpus/read_agents/ \;

for target in "${targets[@]}"; do
    log=fuzz/logs/$target.log
    touch "$log.start"
    before=$(find "fuzz/artifacts/$target" -type f | wc -l)
    echo "== building and fuzzing $target for $each s (log: $log)"
    # The saved inputs of fixtures/fuzz/TARGET are read as a second corpus;
    # new inputs go to the first.
    cargo fuzz run "$target" "fuzz/corpus/$target" "fixtures/fuzz/$target" -- \
        -max_total_time="$each" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
        -ignore_ooms=1 -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        >"$log" 2>&1 || true
    after=$(find "fuzz/artifacts/$target" -type f | wc -l)
    # The last fork-mode status line: "#EXECS: cov: C ft: F corp: N ...".
    status=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1 || true)
    if [ -z "$status" ]; then
        echo "no status line; the end of $log:"
        tail -n 20 "$log"
        exit 1
    fi
    echo "$status"
    echo "$target: $((after - before)) new crashing inputs in fuzz/artifacts/$target/"
    # What each crashing input does, replayed one by one (fork mode keeps
    # the panic messages out of the main log).
    for crash in $(find "fuzz/artifacts/$target" -type f -newer "$log.start"); do
        echo "  $crash:"
        "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "$crash" 2>&1 |
            grep -A1 'panicked at' | tail -n 1 | cut -c1-200 | sed 's/^/    /' || true
    done
done
