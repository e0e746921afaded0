# Sourced by the scripts that need Debian packages (build-windows.sh,
# windows-smoke.sh, bench-send.sh); defines apt_install.

apt_sudo=""
[ "$(id -u)" -eq 0 ] || apt_sudo=sudo

# apt_install PACKAGE...: installs those not installed yet; refreshes the
# package lists only if apt does not know a package.
apt_install() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' ||
            missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return
    echo "installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    $apt_sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
        $apt_sudo apt-get update -qq >/dev/null &&
            $apt_sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    }
}
