#!/bin/sh
# make demo: a local Synapse, the bot, and accounts for a trainee, a coach
# and a trainer, with a practice room waiting for the trainee.
#   demo.sh start | stop
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
SYN="$here/synapse.sh"
DIR="$root/build/demo"
PORT=${OEF_DEMO_PORT:-18008}
BIN="$root/build/oefenkamer"
PY=$(command -v python3)

stop() {
	if [ -f "$DIR/bot.pid" ] && kill -0 "$(cat "$DIR/bot.pid")" 2>/dev/null; then
		kill -TERM "$(cat "$DIR/bot.pid")"
		sleep 1
	fi
	rm -f "$DIR/bot.pid"
	bash "$SYN" stop demo >/dev/null 2>&1 || true
}

if [ "${1:-start}" = stop ]; then
	stop
	echo "demo gestopt"
	exit 0
fi

stop
umask 077
mkdir -p "$DIR"
rm -f "$DIR"/oefenkamer.db*
bash "$SYN" prepare
url=$(bash "$SYN" start demo --port "$PORT" | tail -n 1)
pw() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
BOTPW=$(pw); TRAINEEPW=$(pw); COACHPW=$(pw); TRAINERPW=$(pw)
bash "$SYN" register demo oefenkamer "$BOTPW" >/dev/null
bash "$SYN" register demo trainee "$TRAINEEPW" >/dev/null
bash "$SYN" register demo coach "$COACHPW" >/dev/null
bash "$SYN" register demo trainer "$TRAINERPW" >/dev/null
printf '%s\n' "$BOTPW" >"$DIR/bot-password"
# The pickle key encrypts the bot's keys in its store (umask 077: 0600).
head -c 32 /dev/urandom | base64 >"$DIR/pickle-key"
cat >"$DIR/config.json" <<JSON
{
  "homeserver": "$url",
  "user_id": "@oefenkamer:localhost",
  "password_file": "$DIR/bot-password",
  "device_name": "Oefenkamer",
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
OEF_URL="$url" OEF_PW="$TRAINEEPW" "$PY" - "$here/../matrix" <<'PY'
import os, sys, time
sys.path.insert(0, sys.argv[1])
from mxclient import Client
c = Client(os.environ["OEF_URL"], "@trainee:localhost", os.environ["OEF_PW"])
room = c.create_room(invite=["@oefenkamer:localhost", "@coach:localhost",
                             "@trainer:localhost"], name="Oefenkamer")
c.sync()
c.wait_for(lambda: c.messages(room, "@oefenkamer:localhost"), timeout=60,
           what="the bot's greeting")
PY
cat <<TXT

Oefenkamer draait.

  Homeserver:  $url   (alleen op deze computer)
  Trainee:     trainee   wachtwoord $TRAINEEPW
  Coach:       coach     wachtwoord $COACHPW
  Trainer:     trainer   wachtwoord $TRAINERPW

Log in met een Matrix-app op deze computer (Element Desktop, nheko,
FluffyChat…): kies "andere homeserver", vul $url in en log in als
trainee. De kamer "Oefenkamer" staat klaar; de bot heeft je begroet.
Typ daar !oefeningen en dan bijvoorbeeld !start 3. Een versleuteld
gesprek kan ook: begin in je app een direct gesprek met
@oefenkamer:localhost (de bot ondertekent zijn apparaat zelf).

De bot schrijft naar $DIR/bot.log; de oefeningen staan in
$DIR/oefenkamer.db (oefenkamer sessions --db $DIR/oefenkamer.db).
Stoppen: make demo-stop
TXT
