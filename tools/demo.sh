#!/bin/sh
# make demo: a local Synapse, the bot, and accounts for a trainee, a coach
# and a trainer, with a practice room waiting for the trainee.
#   demo.sh start [PORT] | stop
# PORT (make demo PORT=N) is the homeserver's port on 127.0.0.1; without
# it OEF_DEMO_PORT, else 18008. A port that something else holds is
# refused with a free one to try, before a running demo is touched.
# OEF_DEMO_NAME (default demo) names the Synapse instance and the directory
# build/NAME; the integration test uses its own so that it never stops a
# demo someone is using. OEF_BIN is the bot (default build/oefenkamer).
# Everything the user reads is Dutch.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SYN="$here/synapse.sh"
NAME=${OEF_DEMO_NAME:-demo}
case $NAME in
'' | *[!a-z0-9-]*)
	echo "demo: OEF_DEMO_NAME: alleen kleine letters, cijfers en -" >&2
	exit 2
	;;
esac
DIR="$root/build/$NAME"
STATE=${OEF_SYNAPSE_STATE:-$root/build/synapse}
BIN=${OEF_BIN:-$root/build/oefenkamer}
PY=$(command -v python3)
SUGGEST_STEP=10

stop() {
	if [ -f "$DIR/bot.pid" ] && kill -0 "$(cat "$DIR/bot.pid")" 2>/dev/null; then
		kill -TERM "$(cat "$DIR/bot.pid")"
		sleep 1
	fi
	rm -f "$DIR/bot.pid"
	bash "$SYN" stop "$NAME" >/dev/null 2>&1 || true
}

# port_free N: nothing listens on 127.0.0.1:N, so Synapse can bind it
# (SO_REUSEADDR, as Synapse: a closed socket in TIME_WAIT does not count).
port_free() {
	"$PY" - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

# suggest N: a free port to offer instead of N (N+10, N+20, ...).
suggest() {
	p=$1 i=0
	while [ "$i" -lt 50 ]; do
		p=$((p + SUGGEST_STEP))
		[ "$p" -le 65535 ] || p=$((18008 + i))
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
		i=$((i + 1))
	done
	return 1
}

# ours_on N: this demo's own Synapse is the one on port N (make demo on
# the same port again restarts the demo).
ours_on() {
	bash "$SYN" status "$NAME" >/dev/null 2>&1 &&
		[ "$(cat "$STATE/$NAME/port" 2>/dev/null)" = "$1" ]
}

if [ "${1:-start}" = stop ]; then
	stop
	echo "demo gestopt"
	exit 0
fi
[ "${1:-start}" = start ] || {
	echo "gebruik: demo.sh start [POORT] | stop" >&2
	exit 2
}

PORT=${2:-${OEF_DEMO_PORT:-18008}}
case $PORT in
'' | *[!0-9]* | ??????*) ok=no ;;
*) ok=yes; [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65535 ] || ok=no ;;
esac
if [ "$ok" = no ]; then
	alt=$(suggest 17998) || alt=18018
	printf '%s %s\n' "poort '$PORT' kan niet: kies een getal van 1024" \
		"tot en met 65535, bijvoorbeeld: make demo PORT=$alt" >&2
	exit 2
fi
if ! ours_on "$PORT" && ! port_free "$PORT"; then
	if alt=$(suggest "$PORT"); then
		echo "poort $PORT is bezet; kies een andere: make demo PORT=$alt" >&2
	else
		printf '%s %s\n' "poort $PORT is bezet, en de poorten erna ook;" \
			"kies een andere: make demo PORT=<poort>" >&2
	fi
	exit 1
fi

stop
umask 077
mkdir -p "$DIR"
chmod 700 "$DIR"
# Fresh files, so that they get umask 077's modes whatever an earlier
# run left (a redirection into an existing file keeps its mode).
rm -f "$DIR"/oefenkamer.db* "$DIR/bot-password" "$DIR/pickle-key" \
	"$DIR/config.json" "$DIR/bot.log" "$DIR/bot.pid"
bash "$SYN" prepare
if ! out=$(bash "$SYN" start "$NAME" --port "$PORT" --legacy-media); then
	alt=$(suggest "$PORT") || alt="<poort>"
	printf '%s %s\n' "de homeserver start niet (zie hierboven); probeer" \
		"het opnieuw of op een andere poort: make demo PORT=$alt" >&2
	exit 1
fi
url=$(printf '%s\n' "$out" | tail -n 1)
pw() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
BOTPW=$(pw) TRAINEEPW=$(pw) COACHPW=$(pw) TRAINERPW=$(pw)
export BOTPW TRAINEEPW COACHPW TRAINERPW
# The accounts, through Synapse's shared-secret registration: the
# passwords travel in this process's environment (readable by its owner
# only), never on a command line that every user can list with ps.
OEF_URL="$url" OEF_SECRET_FILE="$STATE/$NAME/registration_shared_secret" \
	"$PY" - <<'PY'
import hashlib, hmac, json, os, urllib.request
url = os.environ["OEF_URL"] + "/_synapse/admin/v1/register"
with open(os.environ["OEF_SECRET_FILE"], "rb") as f:
    secret = f.read().strip()
for user, var in (("oefenkamer", "BOTPW"), ("trainee", "TRAINEEPW"),
                  ("coach", "COACHPW"), ("trainer", "TRAINERPW")):
    pw = os.environ[var]
    with urllib.request.urlopen(url, timeout=30) as r:
        nonce = json.load(r)["nonce"]
    mac = hmac.new(secret, b"\0".join(
        [nonce.encode(), user.encode(), pw.encode(), b"notadmin"]),
        hashlib.sha1).hexdigest()
    body = json.dumps({"nonce": nonce, "username": user, "password": pw,
                       "admin": False, "mac": mac}).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
PY
printf '%s\n' "$BOTPW" >"$DIR/bot-password"
# The pickle key encrypts the bot's keys in its store (umask 077: 0600).
head -c 32 /dev/urandom | base64 >"$DIR/pickle-key"
cat >"$DIR/config.json" <<JSON
{
  "homeserver": "$url",
  "user_id": "@oefenkamer:localhost",
  "password_file": "$DIR/bot-password",
  "device_name": "Oefenkamer",
  "display_name": "Oefenkamer",
  "avatar": "$root/config/avatar.png",
  "store": "$DIR/oefenkamer.db",
  "scripts_dir": "$root/scripts",
  "personas_dir": "$root/personas",
  "invites": { "allow": ["@*:localhost"] },
  "typing": { "enabled": true, "chars_per_second": 30,
              "min_ms": 800, "max_ms": 5000 },
  "roles": { "coaches": ["@coach:localhost"],
             "trainers": ["@trainer:localhost"] },
  "encryption": { "pickle_key_file": "$DIR/pickle-key" }
}
JSON
nohup "$BIN" run --config "$DIR/config.json" >"$DIR/bot.log" 2>&1 &
echo $! >"$DIR/bot.pid"
# The practice room: created by the trainee, the bot invited.
OEF_URL="$url" "$PY" - "$here/../tests/integration" <<'PY'
import os, sys, time
sys.path.insert(0, sys.argv[1])
from mxclient import Client
c = Client(os.environ["OEF_URL"], "@trainee:localhost",
           os.environ["TRAINEEPW"])
room = c.create_room(invite=["@oefenkamer:localhost", "@coach:localhost",
                             "@trainer:localhost"], name="Oefenkamer")
c.sync()
c.wait_for(lambda: c.messages(room, "@oefenkamer:localhost"), timeout=60,
           what="the bot's greeting")
PY
stopcmd="make demo-stop"
# Paths as seen from the checkout, where make runs.
rdir=${DIR#"$root"/} rbin=${BIN#"$root"/}
[ "$NAME" = demo ] || stopcmd="OEF_DEMO_NAME=$NAME make demo-stop"
cat <<TXT

Oefenkamer draait.

Homeserver-adres:  $url   (werkt alleen op deze computer)

  wie        Matrix-ID               wachtwoord
  trainee    @trainee:localhost      $TRAINEEPW
  coach      @coach:localhost        $COACHPW
  trainer    @trainer:localhost      $TRAINERPW
  de bot     @oefenkamer:localhost

Log in met een Matrix-app op deze computer. Bij "localhost" is geen
homeserver automatisch te vinden (autodiscovery mislukt), dus vul je het
adres $url zelf in. Per app:
  Element Desktop: klik bij de homeserver (matrix.org) op "Bewerken"
    ("Edit"), vul bij "Andere homeserver" ("Other homeserver")
    $url in, klik "Doorgaan" en log in met
    gebruikersnaam trainee.
  nheko: vul bij "Matrix ID" @trainee:localhost in. nheko meldt
    "Automatische herkenning mislukt" ("Autodiscovery failed") en
    toont het veld "Thuisserveradres" ("Homeserver address") met
    localhost erin: vervang dat door $url.
  Een andere app: zoek bij het inloggen het veld voor de homeserver
    (of server) en vul daar $url in.

De kamer "Oefenkamer" staat klaar; de bot heeft je begroet. Typ daar
!oefeningen en dan bijvoorbeeld !start 3. Een versleuteld gesprek kan
ook: begin in je app een direct gesprek met @oefenkamer:localhost (de bot
ondertekent zijn apparaat zelf).

De bot schrijft naar $rdir/bot.log. De oefeningen staan in
$rdir/oefenkamer.db; bekijk ze met
  $rbin sessions --db $rdir/oefenkamer.db
Een andere poort: make demo PORT=<nummer>. Stoppen: $stopcmd
TXT
