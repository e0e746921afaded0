#!/usr/bin/env bash
# Builds provision.exe for 64-bit Windows on this Linux machine and packs it,
# with the two double-click launchers, the example agents file and
# README-windows.txt, into a zip that a Windows admin unpacks and uses
# without installing anything.
#
# Cross-compiles for x86_64-pc-windows-gnu with MinGW (see
# shared/reference/windows-notes.md), installing the MinGW linker and the
# Rust target first if they are missing. Honours CARGO_TARGET_DIR.
#
# Prints the path of the zip on stdout, and nothing else there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

triple=x86_64-pc-windows-gnu
linker=x86_64-w64-mingw32-gcc
target_dir=${CARGO_TARGET_DIR:-$root/target}

# shellcheck source=scripts/apt-install.sh
. "$root/scripts/apt-install.sh"

# crlf FILE: the file with Windows line ends, whatever it has in git. cmd
# misreads labels in a batch file with bare LF, and old Notepad shows such
# a text as one line.
crlf() { sed 's/\r*$/\r/' "$1"; }

# The smaller of Debian's MinGW packages: enough for 64-bit programs.
apt_install gcc-mingw-w64-x86-64-win32 binutils-mingw-w64-x86-64 zip
if ! rustup target list --installed | grep -qx "$triple"; then
    echo "adding the Rust target $triple" >&2
    rustup target add "$triple" >&2
fi

# Line tables are no use in a Windows exe built with MinGW (no Windows tool
# reads them) and would make it 100 MB; leaving them out also builds faster.
cargo build --release --locked --target "$triple" \
    --config "target.$triple.linker=\"$linker\"" \
    --config 'profile.release.debug=false' >&2
exe=$target_dir/$triple/release/provision.exe

# Anything MinGW's runtime (libgcc, libwinpthread, ...) linked in
# dynamically would be missing on the admin's machine.
dlls=$(x86_64-w64-mingw32-objdump -p "$exe" | sed -n 's/^[[:space:]]*DLL Name: //p')
if grep -qi '^lib' <<<"$dlls"; then
    echo "provision.exe needs DLLs that Windows does not have: $(grep -i '^lib' <<<"$dlls" | tr '\n' ' ')" >&2
    exit 1
fi

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
name=provision-$version-windows-x86_64
out=$target_dir/windows
stage=$out/$name
rm -rf "$stage" "$out/$name.zip"
mkdir -p "$stage"

x86_64-w64-mingw32-strip -o "$stage/provision.exe" "$exe"
crlf scripts/add_agents.bat >"$stage/add_agents.bat"
crlf scripts/check_agents.bat >"$stage/check_agents.bat"
crlf scripts/README-windows.txt >"$stage/README-windows.txt"
# With a byte-order mark, Excel opens the example as UTF-8; without one it
# reads the Cyrillic names in the ANSI code page and garbles them.
{
    [ "$(head -c 3 agents.example.csv | od -An -tx1 | tr -d ' ')" = efbbbf ] || printf '\xef\xbb\xbf'
    crlf agents.example.csv
} >"$stage/agents.example.csv"

# The files at the top of the zip: Explorer's "Extract All" already makes a
# folder named after the zip.
(cd "$stage" && zip -q -X "../$name.zip" provision.exe add_agents.bat check_agents.bat \
    agents.example.csv README-windows.txt)
echo "$out/$name.zip"
