#!/usr/bin/env bash
# A real Synapse homeserver on loopback for the integration tests and the
# demo. Debian 12 has no Synapse package, so it runs from a cached Debian
# unstable (sid) chroot, built once with debootstrap from the mirror this
# machine's apt already uses.
#
#   synapse.sh prepare                 build or verify the cached chroot
#   synapse.sh start NAME [--port N] [--default-limits] [--legacy-media]
#                      [--keep] [--bench]
#                                      start a fresh instance, print its URL;
#                                      --bench: Synapse's bookkeeping that no
#                                      bench reads is off (see write_config)
#   synapse.sh stop NAME               stop it and delete its data (the logs
#                                      stay for a post-mortem)
#   synapse.sh stop-all                stop every instance under the state dir
#   synapse.sh kill NAME [--term]      outage: SIGKILL (or SIGTERM), keep data
#   synapse.sh restart NAME            start again on the same database
#   synapse.sh register NAME USER PASSWORD [--admin]
#                                      print the new user's id (@USER:localhost)
#   synapse.sh url NAME | status NAME
#
# Environment:
#   OEF_SYNAPSE_CHROOT  the cached chroot (/var/cache/oefenkamer/synapse-sid)
#   OEF_SYNAPSE_STATE   where instance directories live (<repo>/build/synapse)
#   OEF_SYNAPSE_MIRROR  Debian mirror for debootstrap (default: the main
#                       Debian archive in this machine's apt sources)
#
# Every Synapse runs in a private mount namespace (unshare -m): its instance
# directory is bind-mounted on /srv/instance inside the chroot and /proc is
# mounted there, both only in that namespace. When the process ends the
# kernel drops the mounts, so even a kill -9 of this script or of Synapse
# leaves nothing mounted on the host, and instances never see each other.
# Runs as root.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
CHROOT=${OEF_SYNAPSE_CHROOT:-/var/cache/oefenkamer/synapse-sid}
STATE=${OEF_SYNAPSE_STATE:-$root/build/synapse}
MARKER=.oefenkamer-synapse-ready
SERVER_NAME=localhost
DEFAULT_PORT=18008
START_TIMEOUT=90
STOP_TIMEOUT=20
INNER=/srv/instance
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() {
	echo "synapse: $*" >&2
	exit 1
}
say() { echo "synapse: $*" >&2; }

need_root() {
	[ "$(id -u)" -eq 0 ] ||
		die "must run as root (debootstrap, chroot and mounts need it)"
}

# --- host packages ------------------------------------------------------

host_install() { # host_install PKG...: apt-get install what is missing
	local missing p
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null ||
		die "apt-get update failed"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing \
		>/dev/null 2>&1 ||
		die "could not install$missing"
}

# --- mirror -------------------------------------------------------------

# The main Debian archive among this machine's apt sources: a "deb" entry
# for this release's codename with component main, not the security
# archive. Third-party repositories (other components, other suites) are
# skipped. Prints the URI or nothing.
find_mirror() {
	local codename f
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || codename=bookworm
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v cn="$codename" '
		function flush() {
			if (types ~ /(^| )deb( |$)/ && enabled != "no" &&
			    (" " suites " ") ~ (" " cn " ") &&
			    (" " comps " ") ~ / main / && uris !~ /security/) {
				split(uris, u, " "); print u[1]; found = 1; exit
			}
			types = uris = suites = comps = enabled = ""
		}
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		tolower($1) == "types:"      { $1 = ""; types = $0 }
		tolower($1) == "uris:"       { $1 = ""; uris = $0 }
		tolower($1) == "suites:"     { $1 = ""; suites = $0 }
		tolower($1) == "components:" { $1 = ""; comps = $0 }
		tolower($1) == "enabled:"    { enabled = tolower($2) }
		END { if (!found) flush() }
		' "$f"
	done | head -n 1 | grep . && return 0
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
			awk -v cn="$codename" '$1 == "deb" && $3 == cn &&
			    $2 !~ /security/ {
				for (i = 4; i <= NF; i++)
					if ($i == "main") { print $2; exit }
			}'
	done | head -n 1
}

# --- the cached chroot --------------------------------------------------

chroot_ready() {
	[ -f "$CHROOT/$MARKER" ] && [ -x "$CHROOT/usr/bin/python3" ] &&
		[ -d "$CHROOT$INNER" ]
}

# Fails when anything is mounted at or below $1 in this namespace: such a
# tree must never be removed with rm -rf.
no_mounts_under() {
	! awk -v d="$1" '$2 == d || index($2, d "/") == 1 { bad = 1 }
		END { exit !bad }' /proc/self/mounts
}

# In a private mount namespace so that /proc (and whatever debootstrap
# mounts) disappears with the process, whatever happens to it.
in_build_ns() { # in_build_ns DIR CMD...: run CMD chrooted in DIR
	local d=$1
	shift
	# shellcheck disable=SC2016
	unshare -m --propagation private sh -c '
		d=$1; shift
		mount -t proc proc "$d/proc" || exit 1
		exec chroot "$d" /usr/bin/env -i PATH='"$CHROOT_PATH"' \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' sh "$d" "$@"
}

build_chroot() {
	local mirror parent tmp log t0 ver
	mirror=${OEF_SYNAPSE_MIRROR:-$(find_mirror)}
	[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list*;
set OEF_SYNAPSE_MIRROR to the URL of a Debian archive that carries sid"
	parent=$(dirname "$CHROOT")
	mkdir -p "$parent"
	tmp=$(mktemp -d "$CHROOT.build.XXXXXX")
	log="$tmp.log"
	say "building the Synapse chroot in $CHROOT (Debian sid from $mirror);"
	say "this takes a few minutes, once; log: $log"
	t0=$(date +%s)
	step() { # step WHAT CMD...: run CMD, logging; die with the log tail
		what=$1
		shift
		echo "== $what" >>"$log"
		if ! "$@" >>"$log" 2>&1; then
			tail -n 25 "$log" >&2
			die "chroot build failed while $what (full log: $log)"
		fi
	}
	step "running debootstrap" unshare -m --propagation private \
		debootstrap --variant=minbase sid "$tmp" "$mirror"
	# The mirror's sid Release file may be past its Valid-Until date.
	printf '%s\n' 'Acquire::Check-Valid-Until "false";' \
		'Acquire::Languages "none";' \
		>"$tmp/etc/apt/apt.conf.d/99oefenkamer"
	# The package would start its own Synapse from its maintainer
	# scripts; nothing may start services inside this chroot.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	step "updating the package lists" in_build_ns "$tmp" \
		apt-get -o Acquire::Check-Valid-Until=false update
	printf '%s\n' \
		"matrix-synapse matrix-synapse/server-name string $SERVER_NAME" \
		'matrix-synapse matrix-synapse/report-stats boolean false' |
		step "preseeding debconf" in_build_ns "$tmp" \
			debconf-set-selections
	# cffi first: installed in one go with matrix-synapse, some of its
	# dependencies end up unconfigured.
	step "installing python3-cffi-backend" in_build_ns "$tmp" \
		apt-get install -y --no-install-recommends python3-cffi-backend
	step "installing matrix-synapse" in_build_ns "$tmp" \
		apt-get install -y --no-install-recommends matrix-synapse
	step "cleaning the package cache" in_build_ns "$tmp" apt-get clean
	mkdir -p "$tmp$INNER"
	ver=$(in_build_ns "$tmp" python3 -c \
		'import synapse; print(synapse.__version__)' 2>>"$log") ||
		die "Synapse does not import in the new chroot (log: $log)"
	echo "$ver" >"$tmp/$MARKER"
	if [ -e "$CHROOT" ]; then
		no_mounts_under "$CHROOT" ||
			die "$CHROOT is incomplete but has mounts below it;
unmount them, then run prepare again"
		rm -rf "$CHROOT"
	fi
	mv "$tmp" "$CHROOT"
	rm -f "$log"
	say "chroot ready: Synapse $ver, built in $(($(date +%s) - t0)) s"
}

cmd_prepare() {
	local old
	need_root
	host_install debootstrap curl util-linux
	chroot_ready && return 0
	mkdir -p "$(dirname "$CHROOT")"
	# One builder at a time; a second caller waits and then finds it done.
	exec 9>"$CHROOT.lock"
	flock 9
	if ! chroot_ready; then
		# Builds that were interrupted.
		for old in "$CHROOT".build.*; do
			[ -d "$old" ] || continue
			no_mounts_under "$old" && rm -rf "$old" "$old.log"
		done
		build_chroot
	fi
	exec 9>&-
}

# --- instances ----------------------------------------------------------

check_name() {
	case $1 in
	'' | *[!A-Za-z0-9_.-]* | .*) die "bad instance name '$1'" ;;
	esac
}

instance_dir() { echo "$STATE/$1"; }

# Prints the pid of the instance's Synapse when it is running. The pid
# file alone could name a recycled pid: the process must also carry this
# instance's directory in its environment.
running_pid() {
	local d pid
	d=$(instance_dir "$1")
	[ -f "$d/pid" ] || return 1
	pid=$(cat "$d/pid")
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	[ -r "/proc/$pid/environ" ] || return 1
	tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" |
		grep -qxF "OEF_SYNAPSE_INSTANCE=$d" || return 1
	echo "$pid"
}

rand_hex() { # rand_hex N: 2N hex digits from the kernel
	od -An -vtx1 -N"$1" /dev/urandom | tr -d ' \n'
}

port_busy() {
	ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" && return 0
	return 1
}

write_config() { # write_config DIR PORT DEFAULT_LIMITS LEGACY_MEDIA [BENCH]
	local d=$1 port=$2 bench=${5:-no}
	(
		umask 077
		rand_hex 32 >"$d/registration_shared_secret"
		cat >"$d/homeserver.yaml" <<EOF
# Written by tools/synapse.sh for a throwaway test instance.
server_name: "$SERVER_NAME"
public_baseurl: "http://127.0.0.1:$port/"
listeners:
  - port: $port
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: $INNER/homeserver.db
log_config: $INNER/log.yaml
media_store_path: $INNER/media
signing_key_path: $INNER/$SERVER_NAME.signing.key
registration_shared_secret_path: $INNER/registration_shared_secret
macaroon_secret_key: "$(rand_hex 32)"
form_secret: "$(rand_hex 32)"
report_stats: false
enable_registration: false
trusted_key_servers: []
suppress_key_server_warning: true
url_preview_enabled: false
enable_metrics: false
EOF
		# --legacy-media (make demo): uploads also on the older
		# unauthenticated media API, which clients before authenticated
		# media still use (Debian 12's nheko 0.11.3 gets a 404 for the
		# debrief's file otherwise). The tests keep Synapse's default.
		[ "$4" != yes ] ||
			echo "enable_authenticated_media: false" >>"$d/homeserver.yaml"
		[ "$3" = yes ] || cat >>"$d/homeserver.yaml" <<'EOF'
# Generous rate limits; start with --default-limits for Synapse's own.
rc_message: {per_second: 1000, burst_count: 1000}
rc_registration: {per_second: 1000, burst_count: 1000}
rc_registration_token_validity: {per_second: 1000, burst_count: 1000}
rc_login:
  address: {per_second: 1000, burst_count: 1000}
  account: {per_second: 1000, burst_count: 1000}
  failed_attempts: {per_second: 1000, burst_count: 1000}
rc_joins:
  local: {per_second: 1000, burst_count: 1000}
  remote: {per_second: 1000, burst_count: 1000}
rc_joins_per_room: {per_second: 1000, burst_count: 1000}
rc_invites:
  per_room: {per_second: 1000, burst_count: 1000}
  per_user: {per_second: 1000, burst_count: 1000}
  per_issuer: {per_second: 1000, burst_count: 1000}
rc_3pid_validation: {per_second: 1000, burst_count: 1000}
rc_admin_redaction: {per_second: 1000, burst_count: 1000}
rc_room_creation: {per_second: 1000, burst_count: 1000}
rc_presence:
  per_user: {per_second: 1000, burst_count: 1000}
rc_delayed_event_mgmt: {per_second: 1000, burst_count: 1000}
rc_third_party_invite: {per_second: 1000, burst_count: 1000}
rc_user_directory: {per_second: 1000, burst_count: 1000}
rc_key_requests: {per_second: 1000, burst_count: 1000}
rc_reports: {per_second: 1000, burst_count: 1000}
rc_media_create: {per_second: 1000, burst_count: 1000}
EOF
		# Only for tools/bench (the scale run makes thousands of
		# rooms, and it waits for Synapse's CPU): the user directory,
		# room statistics and presence are work Synapse does on every
		# membership or state event and no bench reads. The
		# integration tests never pass --bench.
		[ "$bench" = no ] || cat >>"$d/homeserver.yaml" <<'EOF'
# --bench: bookkeeping that no bench reads is off.
update_user_directory_from_worker: nobody
user_directory: {enabled: false}
stats: {enabled: false}
presence: {enabled: false}
caches: {global_factor: 4.0}
EOF
	)
	cat >"$d/log.yaml" <<EOF
version: 1
formatters:
  precise:
    format: "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s"
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: $INNER/homeserver.log
    encoding: utf8
loggers:
  synapse.storage.SQL:
    level: WARNING
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
EOF
	echo "$port" >"$d/port"
}

# in_instance NAME PIDFILE CMD...: run CMD in the chroot with the instance
# mounted, in a namespace of its own; the mounts vanish when CMD ends.
# PIDFILE (or -) receives CMD's pid: the shell below execs into it. With
# IN_EXEC=exec the caller's (sub)shell is replaced too, so that the pid of
# a background "in_instance ... &" is CMD's own.
in_instance() {
	local d pf=$2 ex=${IN_EXEC:-}
	d=$(instance_dir "$1")
	shift 2
	# shellcheck disable=SC2016
	$ex unshare -m --propagation private sh -c '
		d=$1 c=$2 pf=$3; shift 3
		mount --bind "$d" "$c'"$INNER"'" || exit 1
		mount -t proc proc "$c/proc" || exit 1
		[ "$pf" = - ] || echo $$ >"$pf"
		exec chroot "$c" /usr/bin/env -i PATH='"$CHROOT_PATH"' \
			HOME='"$INNER"' LANG=C.UTF-8 OEF_SYNAPSE_INSTANCE="$d" "$@"
	' sh "$d" "$CHROOT" "$pf" "$@"
}

log_tail() {
	local d=$1 f
	for f in console.log homeserver.log; do
		[ -s "$d/$f" ] || continue
		echo "--- last lines of $d/$f" >&2
		tail -n 20 "$d/$f" >&2
	done
}

cmd_start() {
	local name=${1:-} port limits media keep bench d pid old k v bg url t
	[ $# -gt 0 ] && shift
	check_name "$name"
	port="" limits=no media=no keep=no bench=no
	while [ $# -gt 0 ]; do
		case $1 in
		--port)
			[ $# -ge 2 ] || die "--port needs a number"
			port=$2
			shift
			;;
		--port=*) port=${1#--port=} ;;
		--default-limits) limits=yes ;;
		--legacy-media) media=yes ;;
		--keep) keep=yes ;;
		--bench) bench=yes ;;
		*) die "start: unknown option '$1'" ;;
		esac
		shift
	done
	d=$(instance_dir "$name")
	if [ -z "$port" ]; then
		port=$DEFAULT_PORT
		[ "$keep" = yes ] && [ -f "$d/port" ] && port=$(cat "$d/port")
	fi
	case $port in
	'' | *[!0-9]* | ??????*) die "bad port '$port'" ;;
	esac
	if [ "$port" -lt 1024 ] || [ "$port" -gt 65535 ]; then
		die "port $port is outside 1024-65535"
	fi
	cmd_prepare
	pid=$(running_pid "$name") &&
		die "instance $name is already running (pid $pid); stop it first"
	port_busy "$port" &&
		die "port $port on 127.0.0.1 is already in use; pick another with --port"
	if [ "$keep" = yes ] && [ -f "$d/homeserver.db" ]; then
		# Same database, keys and secrets; the limits may change.
		old=$(cat "$d/registration_shared_secret" 2>/dev/null || true)
		cp -p "$d/homeserver.yaml" "$d/homeserver.yaml.old"
		write_config "$d" "$port" "$limits" "$media" "$bench"
		if [ -n "$old" ]; then
			(umask 077 && echo "$old" >"$d/registration_shared_secret")
		fi
		# Keep the macaroon key: it signs the users' access tokens.
		for k in macaroon_secret_key form_secret; do
			v=$(sed -n "s/^$k: //p" "$d/homeserver.yaml.old")
			[ -n "$v" ] || continue
			sed -i "s/^$k: .*/$k: $v/" "$d/homeserver.yaml"
		done
		rm -f "$d/homeserver.yaml.old"
	else
		rm -rf "$d"
		mkdir -p "$d/media"
		chmod 700 "$d"
		# The signing key comes from Synapse's own generator; the
		# rest of the generated config is replaced by ours.
		if ! in_instance "$name" - python3 -m synapse.app.homeserver \
			--generate-config --server-name "$SERVER_NAME" \
			--config-path "$INNER/generated.yaml" \
			--data-directory "$INNER" --report-stats=no \
			>"$d/generate.log" 2>&1; then
			cat "$d/generate.log" >&2
			die "generating the config of $name failed"
		fi
		rm -f "$d/generated.yaml" "$d/$SERVER_NAME.log.config"
		write_config "$d" "$port" "$limits" "$media" "$bench"
	fi
	echo "$limits" >"$d/default-limits"
	echo "$media" >"$d/legacy-media"
	echo "$bench" >"$d/bench"
	rm -f "$d/pid" "$d/pid.new"
	: >"$d/console.log"
	IN_EXEC="exec" in_instance "$name" "$d/pid.new" python3 -m synapse.app.homeserver \
		-c "$INNER/homeserver.yaml" </dev/null >>"$d/console.log" 2>&1 &
	bg=$!
	url="http://127.0.0.1:$port"
	t=0
	while :; do
		if [ -f "$d/pid.new" ] && [ ! -f "$d/pid" ]; then
			mv "$d/pid.new" "$d/pid"
		fi
		if curl -sf -o /dev/null --max-time 2 \
			"$url/_matrix/client/versions"; then
			break
		fi
		if ! kill -0 "$bg" 2>/dev/null; then
			wait "$bg" || true
			log_tail "$d"
			die "Synapse $name exited during startup"
		fi
		if [ "$t" -ge $((START_TIMEOUT * 2)) ]; then
			log_tail "$d"
			kill -KILL "$bg" 2>/dev/null || true
			die "Synapse $name did not answer on $url within ${START_TIMEOUT} s"
		fi
		sleep 0.5
		t=$((t + 1))
	done
	[ -f "$d/pid.new" ] && mv "$d/pid.new" "$d/pid"
	echo "$url"
}

# stop_pid NAME SIGNAL: signal the instance's Synapse and wait until it is
# gone, escalating to SIGKILL after STOP_TIMEOUT seconds.
stop_pid() {
	local pid t
	pid=$(running_pid "$1") || return 0
	kill "-$2" "$pid" 2>/dev/null || true
	t=0
	while [ -d "/proc/$pid" ]; do
		if [ "$t" -eq $((STOP_TIMEOUT * 10)) ]; then
			say "$1 ignored SIGTERM for $STOP_TIMEOUT s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		if [ "$t" -ge $((STOP_TIMEOUT * 10 + 100)) ]; then
			die "Synapse $1 (pid $pid) does not die"
		fi
		sleep 0.1
		t=$((t + 1))
	done
}

known_instance() {
	check_name "$1"
	[ -d "$(instance_dir "$1")" ] || die "no instance '$1' in $STATE"
}

cmd_stop() {
	local d
	[ $# -eq 1 ] || die "usage: stop NAME"
	known_instance "$1"
	d=$(instance_dir "$1")
	stop_pid "$1" TERM
	# The data goes; the logs stay for a post-mortem until the next start.
	rm -rf "${d:?}/media" "$d"/homeserver.db* "$d"/*.signing.key \
		"$d/registration_shared_secret" "$d/homeserver.yaml" \
		"$d/pid" "$d/pid.new"
}

cmd_stop_all() {
	local d n
	[ -d "$STATE" ] || return 0
	for d in "$STATE"/*/; do
		[ -d "$d" ] || continue
		n=$(basename "$d")
		[ -f "$d/port" ] || continue
		cmd_stop "$n"
	done
}

cmd_kill() {
	local sig
	[ $# -ge 1 ] || die "usage: kill NAME [--term]"
	known_instance "$1"
	sig=KILL
	if [ $# -ge 2 ]; then
		[ "$2" = --term ] || die "kill: unknown option '$2'"
		sig=TERM
	fi
	stop_pid "$1" "$sig"
	rm -f "$(instance_dir "$1")/pid"
}

cmd_restart() {
	local d
	[ $# -eq 1 ] || die "usage: restart NAME"
	known_instance "$1"
	d=$(instance_dir "$1")
	[ -f "$d/homeserver.db" ] || die "instance $1 has no database to restart"
	stop_pid "$1" TERM
	set -- "$1" --keep
	[ "$(cat "$d/default-limits" 2>/dev/null)" = yes ] &&
		set -- "$@" --default-limits
	[ "$(cat "$d/legacy-media" 2>/dev/null)" = yes ] &&
		set -- "$@" --legacy-media
	[ "$(cat "$d/bench" 2>/dev/null)" = yes ] && set -- "$@" --bench
	cmd_start "$@"
}

cmd_register() {
	local name user pass admin d port tool pf
	[ $# -ge 3 ] || die "usage: register NAME USER PASSWORD [--admin]"
	name=$1 user=$2 pass=$3
	admin=--no-admin
	if [ $# -ge 4 ]; then
		[ "$4" = --admin ] || die "register: unknown option '$4'"
		admin=--admin
	fi
	known_instance "$name"
	case $user in
	'' | *[!a-z0-9._=/-]*) die "bad user name '$user' (lower case only)" ;;
	esac
	running_pid "$name" >/dev/null || die "instance $name is not running"
	d=$(instance_dir "$name")
	port=$(cat "$d/port")
	tool=register_new_matrix_user
	[ -x "$CHROOT/usr/bin/synapse_register_new_matrix_user" ] &&
		tool=synapse_register_new_matrix_user
	# The password goes through a 0600 file, not the command line.
	pf="$d/password.$$"
	(umask 077 && printf '%s\n' "$pass" >"$pf")
	if ! in_instance "$name" - "$tool" -c "$INNER/homeserver.yaml" \
		-u "$user" --password-file "$INNER/password.$$" "$admin" \
		"http://127.0.0.1:$port" >"$d/register.log" 2>&1; then
		rm -f "$pf"
		cat "$d/register.log" >&2
		die "registering $user on $name failed"
	fi
	rm -f "$pf"
	echo "@$user:$SERVER_NAME"
}

cmd_url() {
	local d
	[ $# -eq 1 ] || die "usage: url NAME"
	known_instance "$1"
	d=$(instance_dir "$1")
	[ -f "$d/port" ] || die "instance $1 has no port"
	echo "http://127.0.0.1:$(cat "$d/port")"
}

# Exit 0 when running, 3 when not (as init scripts do).
cmd_status() {
	local d pid
	[ $# -eq 1 ] || die "usage: status NAME"
	check_name "$1"
	d=$(instance_dir "$1")
	if pid=$(running_pid "$1"); then
		echo "$1: running, pid $pid, http://127.0.0.1:$(cat "$d/port")"
		return 0
	fi
	echo "$1: stopped"
	return 3
}

usage() {
	sed -n '2,/^set -eu/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
	exit 2
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
prepare) cmd_prepare ;;
start) need_root; cmd_start "$@" ;;
stop) need_root; cmd_stop "$@" ;;
stop-all) need_root; cmd_stop_all ;;
kill) need_root; cmd_kill "$@" ;;
restart) need_root; cmd_restart "$@" ;;
register) need_root; cmd_register "$@" ;;
url) cmd_url "$@" ;;
status) cmd_status "$@" ;;
-h | --help | help) usage ;;
*) die "unknown command '$cmd' (try --help)" ;;
esac
