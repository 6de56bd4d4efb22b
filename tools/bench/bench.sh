#!/bin/sh
# The Matrix figures of `make bench`: the Oefenkamer bot and a matrix-nio
# echo bot side by side on one local Synapse (tools/bench/bench.py says
# what is measured and how). Installs Debian's python3-matrix-nio when it
# is missing and runs everything with Debian's own /usr/bin/python3, never
# a python that happens to be first on PATH. Arguments go to bench.py.
# Needs root, like tools/synapse.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (Synapse runs in a chroot; packet capture)" >&2
	exit 2
fi
if ! dpkg-query -W -f '${Status}' python3-matrix-nio 2>/dev/null |
	grep -q 'install ok installed'; then
	echo "bench: installing Debian's python3-matrix-nio" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q python3-matrix-nio >&2 ||
		{ apt-get update -q >&2 &&
		  apt-get install -y -q python3-matrix-nio >&2; }
fi
exec /usr/bin/python3 "$here/bench.py" "$@"
