#!/bin/sh
# Install the Debian packages Oefenkamer needs to build and test, when
# they are missing. Runs as root (CI, a fresh machine) or via sudo.
set -eu
need="build-essential pkg-config libcurl4-openssl-dev libjansson-dev
libolm-dev libsqlite3-dev libcmocka-dev sqlite3 valgrind clang
python3 python3-matrix-nio python3-olm
libclang-rt-14-dev"
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
