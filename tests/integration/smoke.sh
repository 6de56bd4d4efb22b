#!/bin/sh
# shellcheck disable=SC2317 # functions called through check() and trap
# Smoke test of the Synapse harness: start a real homeserver, register two
# users, log both in, create a room, invite and join, send a message, read
# it through the other user's /sync, survive a kill and restart, stop and
# leave nothing behind. Run as root: sh tests/integration/smoke.sh
# OEF_SYNAPSE_PORT picks the ports (default 18408 and the next one).
set -u
here=$(cd "$(dirname "$0")" && pwd)
S() { bash "$here/../../tools/synapse.sh" "$@"; }
NAME=smoke
PORT=${OEF_SYNAPSE_PORT:-18408}
T=$(mktemp -d)
pass=0
fail=0
cleanup() {
	S stop "$NAME" >/dev/null 2>&1
	S stop "$NAME-rl" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check NAME CMD...: CMD must succeed
	name=$1
	shift
	if "$@"; then ok; else bad "$name"; fi
}
not() { ! "$@"; }
quiet() { "$@" >/dev/null 2>&1; }
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

# Other instances (other tests, other checkouts) may share the chroot:
# look for this test's own processes only.
mine() { # mine DIR...: a process of an instance in one of the DIRs lives
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$c" ] || continue
		for dir in "$@"; do
			tr '\0' '\n' 2>/dev/null <"$p/environ" |
				grep -qxF "OEF_SYNAPSE_INSTANCE=$dir" && return 0
		done
	done
	return 1
}

# json_str KEY FILE: the first string value of KEY in a JSON file (enough
# for the flat answers used here; no jq on a fresh machine).
json_str() {
	sed -n 's/.*"'"$1"'":[ ]*"\([^"]*\)".*/\1/p' "$2" | head -n 1
}
urlenc() { printf '%s' "$1" | sed -e 's/!/%21/g' -e 's/:/%3A/g' -e 's/@/%40/g'; }

# api METHOD PATH TOKEN BODY OUT: HTTP status on stdout, body in OUT
api() {
	if [ -n "$4" ]; then
		curl -s -o "$5" -w '%{http_code}' -X "$1" \
			-H "Authorization: Bearer $3" \
			-H 'Content-Type: application/json' --data "$4" \
			--max-time 40 "$URL$2"
	else
		curl -s -o "$5" -w '%{http_code}' -X "$1" \
			-H "Authorization: Bearer $3" --max-time 40 "$URL$2"
	fi
}

login() { # login USER PASSWORD OUT: prints the access token
	curl -s -o "$3" --max-time 20 -H 'Content-Type: application/json' \
		--data '{"type":"m.login.password","identifier":{"type":"m.id.user","user":"'"$1"'"},"password":"'"$2"'","initial_device_display_name":"smoke"}' \
		"$URL/_matrix/client/v3/login"
	json_str access_token "$3"
}

# --- prepare and start --------------------------------------------------
t0=$(date +%s)
if ! S prepare; then bad "prepare"; finish; fi
t1=$(date +%s)
if ! URL=$(S start "$NAME" --port "$PORT"); then bad "start"; finish; fi
t2=$(date +%s)
echo "prepare $((t1 - t0)) s, start $((t2 - t1)) s, $URL"
check "url answers /versions" \
	curl -sf -o "$T/versions" "$URL/_matrix/client/versions"
check "versions lists v1.1" grep -q '"v1\.1' "$T/versions"
check "status says running" quiet S status "$NAME"
check "url command" test "$(S url "$NAME")" = "$URL"
check "bound to loopback only" \
	sh -c "ss -Htln 'sport = :$PORT' | grep -q '127.0.0.1:$PORT'"
root=$(cd "$here/../.." && pwd)
d=${OEF_SYNAPSE_STATE:-$root/build/synapse}/$NAME
c=${OEF_SYNAPSE_CHROOT:-/var/cache/oefenkamer/synapse-sid}
check "our Synapse runs in the chroot" mine "$d"
check "shared secret is 0600" \
	test "$(stat -c %a "$d/registration_shared_secret")" = 600
check "second start refused while running" \
	not quiet S start "$NAME" --port "$PORT"

# --- users --------------------------------------------------------------
pa=$(od -An -vtx1 -N12 /dev/urandom | tr -d ' \n')
pb=$(od -An -vtx1 -N12 /dev/urandom | tr -d ' \n')
ida=$(S register "$NAME" alice "$pa" --admin)
check "register alice prints her id" test "$ida" = "@alice:localhost"
idb=$(S register "$NAME" bob "$pb")
check "register bob prints his id" test "$idb" = "@bob:localhost"
check "password file removed" not quiet ls "$d"/password.*
check "registering twice fails" not quiet S register "$NAME" bob x

ta=$(login alice "$pa" "$T/la")
tb=$(login bob "$pb" "$T/lb")
check "alice logs in" test -n "$ta"
check "bob logs in" test -n "$tb"
check "wrong password refused" \
	test -z "$(login bob wrong "$T/lx")"

# --- a room, an invite, a message ----------------------------------------
code=$(api POST /_matrix/client/v3/createRoom "$ta" \
	'{"preset":"private_chat","name":"smoke"}' "$T/room")
room=$(json_str room_id "$T/room")
check "alice creates a room ($code)" test "$code" = 200 -a -n "$room"
r=$(urlenc "$room")
code=$(api POST "/_matrix/client/v3/rooms/$r/invite" "$ta" \
	'{"user_id":"@bob:localhost"}' "$T/inv")
check "alice invites bob ($code)" test "$code" = 200
code=$(api POST "/_matrix/client/v3/rooms/$r/join" "$tb" '{}' "$T/join")
check "bob joins ($code)" test "$code" = 200
msg="hallo bob, smoke $(od -An -vtx1 -N4 /dev/urandom | tr -d ' \n')"
code=$(api PUT \
	"/_matrix/client/v3/rooms/$r/send/m.room.message/smoke1" "$ta" \
	'{"msgtype":"m.text","body":"'"$msg"'"}' "$T/send")
ev=$(json_str event_id "$T/send")
check "alice sends a message ($code)" test "$code" = 200 -a -n "$ev"
code=$(api PUT \
	"/_matrix/client/v3/rooms/$r/send/m.room.message/smoke1" "$ta" \
	'{"msgtype":"m.text","body":"'"$msg"'"}' "$T/send2")
check "same txn id is deduplicated" \
	test "$code" = 200 -a "$(json_str event_id "$T/send2")" = "$ev"
code=$(api GET "/_matrix/client/v3/sync?timeout=0" "$tb" "" "$T/sync")
check "bob syncs ($code)" test "$code" = 200
check "bob's sync has the message" grep -qF "$msg" "$T/sync"
check "bob's sync has the event id" grep -qF "$ev" "$T/sync"

# --- rate limits: raised here, Synapse's own with --default-limits -------
burst() { # burst TOKEN ROOM N TAG: prints how many sends got HTTP 429
	i=0
	n429=0
	while [ "$i" -lt "$3" ]; do
		c=$(api PUT "/_matrix/client/v3/rooms/$2/send/m.room.message/$4$i" \
			"$1" '{"msgtype":"m.text","body":"burst"}' "$T/burst")
		if [ "$c" = 429 ]; then
			n429=$((n429 + 1))
			cp "$T/burst" "$T/429"
		fi
		i=$((i + 1))
	done
	echo "$n429"
}
check "30 quick messages, no 429 with raised limits" \
	test "$(burst "$ta" "$r" 30 fast)" = 0
RL=$NAME-rl
if URL2=$(S start "$RL" --port $((PORT + 1)) --default-limits); then
	ok
	pc=$(od -An -vtx1 -N12 /dev/urandom | tr -d ' \n')
	S register "$RL" carol "$pc" >/dev/null
	URL0=$URL
	URL=$URL2
	tc=$(login carol "$pc" "$T/lc")
	api POST /_matrix/client/v3/createRoom "$tc" '{}' "$T/room2" >/dev/null
	r2=$(urlenc "$(json_str room_id "$T/room2")")
	# Burst 10; Synapse holds each 429 back for half a second.
	check "default limits: 12 quick messages meet 429" \
		test "$(burst "$tc" "$r2" 12 slow)" -gt 0
	check "429 says retry_after_ms" grep -q retry_after_ms "$T/429"
	URL=$URL0
	check "stop the second instance" S stop "$RL"
else
	bad "start a second instance with --default-limits"
fi

# --- outage: kill, restart, same database --------------------------------
check "kill" S kill "$NAME"
check "status says stopped" not quiet S status "$NAME"
check "port closed after kill" \
	sh -c "! curl -s -o /dev/null --max-time 2 $URL/_matrix/client/versions"
check "restart" quiet S restart "$NAME"
code=$(api GET /_matrix/client/v3/account/whoami "$tb" "" "$T/who")
check "bob's token survives the restart ($code)" \
	test "$code" = 200 -a "$(json_str user_id "$T/who")" = "@bob:localhost"
code=$(api GET "/_matrix/client/v3/rooms/$r/event/$(urlenc "$ev")" "$tb" \
	"" "$T/ev")
check "the message survives the restart ($code)" grep -qF "$msg" "$T/ev"

# --- stop: nothing left --------------------------------------------------
pid=$(cat "$d/pid" 2>/dev/null)
check "stop" S stop "$NAME"
check "process gone" test ! -d "/proc/${pid:-0}"
check "port closed after stop" \
	sh -c "! curl -s -o /dev/null --max-time 2 $URL/_matrix/client/versions"
check "nothing mounted in the chroot" \
	sh -c "! grep -qF ' $c/' /proc/self/mounts"
check "no process of ours left in the chroot" \
	not mine "$d" "$d-rl"
check "database and secret removed" \
	test ! -e "$d/homeserver.db" -a ! -e "$d/registration_shared_secret"
check "log kept" test -f "$d/homeserver.log"
echo "total $(($(date +%s) - t0)) s"
finish
