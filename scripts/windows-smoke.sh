#!/usr/bin/env bash
# A real test of the Windows build and its launchers, on this Linux machine.
#
# Builds the zip with scripts/build-windows.sh, unpacks it into a folder
# whose path has a space and Cyrillic letters in it, starts the Linux
# build's simulated dashboard on 127.0.0.1, and runs the launchers under
# Wine as an admin would, in a Russian locale (code pages 1251 and 866):
#
#  0. add_agents.bat as shipped, settings empty: it says so, sends nothing,
#     exit 2.
#  1. check_agents.bat in a console (a pseudo-terminal), a Windows-1251
#     file (Excel's CSV on Russian Windows) dropped onto it: each row with
#     its Cyrillic name, the summary, and the window waits for a key; exit 0.
#  2. add_agents.bat in a console, started from another folder, on its
#     default .\agents.csv (Excel's "CSV UTF-8", with a byte-order mark):
#     a line per row, the summary, the results file's path; waits; exit 0.
#  3. add_agents.bat, the Windows-1251 file dropped onto it, output
#     redirected, the dashboard failing every save with 500: the three
#     users of run 2 are found, the new one fails; exit 1.
#
# Installs what it needs (MinGW, the Rust target, Wine, a Russian locale)
# when missing, so it needs apt and rustup to reach their registries; that
# and its run time keep it out of .ci/run (README.md, "Windows", says how to
# run it). Honours CARGO_TARGET_DIR. Keeps its folder (Wine prefix, logs,
# results files) when it fails, or when KEEP=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

target_dir=${CARGO_TARGET_DIR:-$root/target}
# A token must reach provision.exe from the launcher's settings, not from
# this shell (Wine passes the Linux environment on to Windows programs).
unset SOFTPHONE_TOKEN SOFTPHONE_DASHBOARD SOFTPHONE_EMAIL SOFTPHONE_PASSWORD

# shellcheck source=scripts/apt-install.sh
. "$root/scripts/apt-install.sh"

step() { echo "windows-smoke: $*" >&2; }

fail() {
    echo "windows-smoke: FAILED: $1" >&2
    [ $# -lt 2 ] || { echo "--- $2" >&2; cat "$2" >&2; echo "---" >&2; }
    echo "windows-smoke: the test folder is kept: $work" >&2
    keep=1
    exit 1
}

# Wine's own messages go to stderr; WINEDLLOVERRIDES skips offering to
# install Mono and Gecko into the new prefix. LANG picks the code pages of
# Russian Windows; LC_MESSAGES keeps cmd's own words (the pause prompt) in
# English, which is what the checks below look for.
wine_env() {
    env -u LC_ALL -u LC_CTYPE WINEPREFIX="$work/wine" WINEDEBUG=-all \
        WINEDLLOVERRIDES='mscoree,mshtml=' LOCPATH="$work/locale" LANG=ru_RU.UTF-8 \
        LC_MESSAGES=en_US.UTF-8 "$@"
}

# winpath PATH: the Windows name Wine gives a Linux path (drive Z: is /).
winpath() { printf 'Z:%s' "${1//\//\\}"; }

# screen LOG: the text a console window showed, from a pseudo-terminal's
# log: Wine's console draws a space as "cursor right" and ends lines with
# CR CR LF; colours, cursor hiding and trailing blanks go.
screen() {
    perl -0777 -pe 's/\e\[(\d*)C/" " x ($1 || 1)/ge; s/\e\[[0-9;?]*[A-Za-z]//g;
        s/\r+\n?/\n/g; s/ +\n/\n/g' "$1"
}

# in_console LOG FOLDER LAUNCHER [DROPPED]: runs LAUNCHER (a Windows path)
# from FOLDER under a pseudo-terminal, as if double-clicked, with DROPPED
# as a file dropped onto it. Presses a key only once the pause prompt is on
# screen and the window has stayed open a second. Writes the screen's text
# to LOG.txt; sets rc to the launcher's exit code.
in_console() {
    local log=$1 folder=$2 keys=$work/keys pid key_fd tries=0
    rm -f "$keys" "$log"
    mkfifo "$keys"
    # 300 columns: Wine's console wraps lines at its width, which would
    # split the lines checked below. The variables are expanded by the
    # shell that script starts, so no path is quoted twice.
    # shellcheck disable=SC2016
    (cd "$folder" && wine_env SHELL=/bin/sh LAUNCHER="$3" DROPPED="${4:-}" \
        timeout 120 script -q -e -f -c \
        'stty cols 300 rows 100; exec wine "$LAUNCHER" ${DROPPED:+"$DROPPED"}' \
        "$log" <"$keys" >/dev/null) &
    pid=$!
    exec {key_fd}>"$keys"
    until [ -f "$log" ] && screen "$log" | grep -q '^Press any key'; do
        kill -0 "$pid" 2>/dev/null || { screen "$log" >"$log.txt"; fail "the window closed before the pause prompt" "$log.txt"; }
        ((tries++ < 600)) || { screen "$log" >"$log.txt"; fail "no pause prompt within 60 s" "$log.txt"; }
        sleep 0.1
    done
    sleep 1
    kill -0 "$pid" 2>/dev/null || fail "the window did not wait for a key" "$log"
    printf '\r' >&"$key_fd"
    exec {key_fd}>&-
    rc=0
    wait "$pid" || rc=$?
    screen "$log" >"$log.txt"
}

# expect TEXT_FILE REGEX: some whole line of the file matches REGEX.
expect() { grep -Eq -- "^$2\$" "$1" || fail "no line matching /$2/ in $1" "$1"; }
# expect_line TEXT_FILE LINE: the file has exactly this line.
expect_line() { grep -Fxq -- "$2" "$1" || fail "no line \"$2\" in $1" "$1"; }
expect_rc() { [ "$rc" -eq "$1" ] || fail "exit code $rc, expected $1${2:+, in $2}" "${2:-/dev/null}"; }

# outcomes RESULTS_CSV: "row;name;surname;outcome;http_status" per row, in
# row order (the file has them in the order they finished).
outcomes() {
    sed '1s/^\xef\xbb\xbf//; s/\r$//' "$1" |
        awk -F';' 'NR > 1 { print $1 ";" $4 ";" $5 ";" $7 ";" $9 }' | sort -t';' -k1,1n
}

# expect_outcomes RESULTS_CSV LINE...: its outcomes are exactly these lines.
expect_outcomes() {
    outcomes "$1" >"$1.got"
    printf '%s\n' "${@:2}" >"$1.want"
    diff -u "$1.want" "$1.got" >"$1.diff" || fail "unexpected outcomes in $1" "$1.diff"
}

dashboard_pid=""
# start_dashboard FLAG...: a simulated dashboard keeping its users in the
# test folder across restarts; sets url and token.
start_dashboard() {
    # The child truncates the file only once it runs: the previous
    # dashboard's lines must not be there for the wait below to see.
    rm -f "$work/dashboard.out"
    "$bin" sandbox --port 0 --state "$work/dashboard.json" "$@" \
        >"$work/dashboard.out" 2>"$work/dashboard.err" &
    dashboard_pid=$!
    local tries=0
    until grep -q '^Token: ' "$work/dashboard.out" 2>/dev/null; do
        ((tries++ < 100)) || fail "the simulated dashboard did not start" "$work/dashboard.err"
        sleep 0.1
    done
    url=$(sed -n 's/^Sandbox dashboard listening on //p' "$work/dashboard.out")
    token=$(sed -n 's/^Token: //p' "$work/dashboard.out")
}
stop_dashboard() {
    [ -n "$dashboard_pid" ] || return 0
    kill "$dashboard_pid" 2>/dev/null || true
    wait "$dashboard_pid" 2>/dev/null || true
    dashboard_pid=""
}

# set_launcher_settings: what the admin types into add_agents.bat in
# Notepad; the file keeps its CRLF line ends.
set_launcher_settings() {
    sed -i "s|^set \"token=.*\"\r\$|set \"token=$token\"\r|;
        s|^set \"dashboard=.*\"\r\$|set \"dashboard=$url\"\r|" "$app/add_agents.bat"
}

work=""
keep=${KEEP:-0}
cleanup() {
    stop_dashboard
    if [ -n "$work" ]; then
        [ ! -d "$work/wine" ] || wine_env wineserver -k 2>/dev/null || true
        [ "$keep" -eq 1 ] || rm -rf "$work"
    fi
}
trap cleanup EXIT

# --- Set up ------------------------------------------------------------
start=$SECONDS
apt_install wine wine64 unzip locales
step "building the Windows zip"
zip=$(bash scripts/build-windows.sh)
step "building the Linux sandbox"
# A debug build: it serves a few rows, `cargo test` has usually built it
# already, and from a fresh clone it takes half the time of a release one.
cargo build --locked >&2
bin=$target_dir/debug/provision
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)

work=$(mktemp -d "${TMPDIR:-/tmp}/provision windows smoke.XXXXXX")
app="$work/Отдел продаж"    # "Sales department"
dropped="$work/Новая папка" # "New folder", Explorer's default name
mkdir -p "$app" "$dropped"
unzip -q "$zip" -d "$app"
cp fixtures/windows/agents-utf8-bom.csv "$app/agents.csv"
cp fixtures/windows/agents-windows-1251.csv "$dropped/agents.csv"

unzip -Z1 "$zip" | LC_ALL=C sort >"$work/zip.txt"
printf '%s\n' README-windows.txt add_agents.bat agents.example.csv check_agents.bat \
    provision.exe | LC_ALL=C sort >"$work/zip.want"
diff -u "$work/zip.want" "$work/zip.txt" >"$work/zip.diff" || fail "unexpected zip contents" "$work/zip.diff"
for launcher in add_agents.bat check_agents.bat; do
    # cmd reads a batch file in the OEM code page: only ASCII is safe.
    [ "$(LC_ALL=C tr -d '\000-\177' <"$app/$launcher" | wc -c)" -eq 0 ] ||
        fail "$launcher is not ASCII"
    ! grep -qv $'\r$' "$app/$launcher" || fail "$launcher has lines without CRLF"
done
# The token must reach provision.exe through the environment only.
! grep -qi -- '--token' "$app/add_agents.bat" || fail "add_agents.bat passes a token on the command line"

mkdir -p "$work/locale"
localedef -i ru_RU -f UTF-8 "$work/locale/ru_RU.UTF-8" 2>/dev/null ||
    [ -d "$work/locale/ru_RU.UTF-8" ] || fail "could not make the ru_RU.UTF-8 locale"

step "starting Wine (the first run makes its prefix)"
if ! wine_env wine "$app/provision.exe" --version </dev/null >"$work/version.txt" 2>"$work/version.err"; then
    # Wine before 8.13 lacks ProcessPrng, which Rust's standard library
    # needs (windows-notes.md): a stand-in, in the test folder only.
    step "Wine lacks bcryptprimitives.dll: adding a test-only stand-in"
    x86_64-w64-mingw32-gcc -shared -O2 -s -Wall -o "$app/bcryptprimitives.dll" \
        fixtures/windows/bcryptprimitives.c -ladvapi32
    wine_env wine "$app/provision.exe" --version </dev/null >"$work/version.txt" 2>"$work/version.err" ||
        fail "provision.exe does not run under Wine" "$work/version.err"
fi
tr -d '\r' <"$work/version.txt" | grep -qx "provision $version" ||
    fail "unexpected --version" "$work/version.txt"
# What a Russian Windows console uses; Rust's console output must not
# depend on it.
(cd "$work" && wine_env SHELL=/bin/sh timeout 60 script -q -e -c 'wine cmd /c chcp' \
    "$work/chcp.log" </dev/null >/dev/null) || true
screen "$work/chcp.log" >"$work/chcp.txt"
expect_line "$work/chcp.txt" 'Active code page: 866'

# --- 0. The launcher as shipped -----------------------------------------
step "0. add_agents.bat with its settings empty"
rc=0
(cd "$app" && wine_env wine "$(winpath "$app/add_agents.bat")" </dev/null >"$work/run0.out" 2>"$work/run0.err") ||
    rc=$?
sed -i 's/\r$//' "$work/run0.out"
expect_rc 2 "$work/run0.out"
expect "$work/run0.out" 'The token and dashboard settings at the top of add_agents.bat are empty\.'
expect "$work/run0.out" 'Press any key to continue.*'
[ ! -e "$app/agents.results.csv" ] || fail "provision.exe ran with empty settings"

# --- 1. Check a Windows-1251 file dropped onto check_agents.bat ---------
step "1. check_agents.bat, a Windows-1251 file dropped onto it"
in_console "$work/run1.log" "$work" "$(winpath "$app/check_agents.bat")" "$(winpath "$dropped/agents.csv")"
expect_rc 0 "$work/run1.log.txt"
expect "$work/run1.log.txt" 'Row #1 is valid and would be sent: Ольга Ёлкина <olga\.yolkina@example\.com>, .*'
expect "$work/run1.log.txt" 'Row #2 is valid and would be sent: John Smith <john\.smith@example\.com>, .*'
expect "$work/run1.log.txt" 'Row #3 is valid and would be sent: Юрий Щукин <yuri\.shchukin@example\.com>, .*'
expect "$work/run1.log.txt" 'Row #4 is valid and would be sent: Анна Йорданова <anna\.yordanova@example\.com>, .*'
expect "$work/run1.log.txt" 'Summary: 4 rows: 4 valid, 0 invalid, 0 warnings; nothing was sent'
[ ! -e "$dropped/agents.results.csv" ] || fail "the dry run wrote a results file"

# --- 2. Add the agents of .\agents.csv, started from another folder -----
step "2. add_agents.bat, started from another folder"
start_dashboard
set_launcher_settings
in_console "$work/run2.log" "$work" "$(winpath "$app/add_agents.bat")"
expect_rc 0 "$work/run2.log.txt"
for row in 1 2 3; do
    expect "$work/run2.log.txt" "Successfully added user #$row from csv with ID [0-9]+"
done
expect "$work/run2.log.txt" 'Summary: 3 rows: 3 created, 0 already there, 0 failed, 0 invalid, 0 not sent; .*'
expect_line "$work/run2.log.txt" "Results written to $(winpath "$app/agents.results.csv")"
expect "$work/run2.log.txt" 'Press any key to continue.*'
! grep -qF "$token" "$work/run2.log" || fail "the token was shown" "$work/run2.log.txt"
expect_outcomes "$app/agents.results.csv" \
    '1;Ольга;Ёлкина;created;' '2;John;Smith;created;' '3;Юрий;Щукин;created;'

# --- 3. A failing row, output redirected --------------------------------
step "3. add_agents.bat, a Windows-1251 file dropped onto it, every save failing"
stop_dashboard
start_dashboard --save-error-rate 1 --save-error-status 500
set_launcher_settings
rc=0
(cd "$app" && wine_env wine "$(winpath "$app/add_agents.bat")" "$(winpath "$dropped/agents.csv")" \
    </dev/null >"$work/run3.out" 2>"$work/run3.err") || rc=$?
sed -i 's/\r$//' "$work/run3.out" "$work/run3.err"
expect_rc 1 "$work/run3.out"
for row in 1 2 3; do
    expect "$work/run3.out" "User #$row from csv already exists with ID [0-9]+"
done
expect "$work/run3.out" 'Error adding user #4 from csv, got error 500 from Team Dashboard\..*'
expect "$work/run3.out" 'Summary: 4 rows: 0 created, 3 already there, 1 failed, 0 invalid, 0 not sent; .*'
expect "$work/run3.out" 'Press any key to continue.*'
expect_line "$work/run3.err" "Results written to $(winpath "$dropped/agents.results.csv")"
! grep -qF "$token" "$work/run3.out" "$work/run3.err" || fail "the token was shown" "$work/run3.out"
expect_outcomes "$dropped/agents.results.csv" \
    '1;Ольга;Ёлкина;exists;' '2;John;Smith;exists;' '3;Юрий;Щукин;exists;' '4;Анна;Йорданова;failed;500'

step "passed in $((SECONDS - start)) s"
[ "$keep" -ne 1 ] || step "the test folder is kept: $work"
