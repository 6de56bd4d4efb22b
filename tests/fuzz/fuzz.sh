#!/bin/sh
# Build the libFuzzer targets in tests/fuzz/ with clang (ASan + UBSan)
# and run each for SECONDS/8 seconds (eight targets), seeded from the
# shipped scripts, personas, dialogues, the corpus's training split,
# recorded /sync bodies and config files, plus the fixtures in
# tests/data/fuzz/<target>/.
#
#   sh tests/fuzz/fuzz.sh [SECONDS]      (make fuzz FUZZ_SECONDS=60)
#
# Everything goes under build/fuzz/: objects, the eight programs,
# corpus-<target>/ (grows across runs) and artifacts-<target>/ (the
# inputs that crashed the last run).
# Exits non-zero when a target crashes, hangs or leaks; the input that did
# it belongs in tests/data/fuzz/<target>/ as a regression fixture.
set -eu
cd "$(dirname "$0")/../.."

SECONDS_TOTAL=${1:-60}
TARGETS="script norm text corpus persona sync config bot"
CC=${FUZZ_CC:-clang}
B=build/fuzz

case $SECONDS_TOTAL in
''|*[!0-9]*) echo "fuzz: SECONDS must be a number, not '$SECONDS_TOTAL'" >&2
	exit 2 ;;
esac
ntargets=$(echo $TARGETS | wc -w)
per=$((SECONDS_TOTAL / ntargets))
[ "$per" -ge 1 ] || per=1

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found (make deps installs clang)" >&2
	exit 2
fi

# The Makefile's warning, language and feature flags and its libraries,
# asked from make itself so the two never drift apart (every source in bot/ is
# linked in: whatever the Makefile links, the fuzz targets need).
make_var() {
	# shellcheck disable=SC2016
	printf 'fuzz-print-var:\n\t@echo $(%s)\n' "$1" |
		make -s --no-print-directory -f Makefile -f - fuzz-print-var
}
WARN=$(make_var WARN)
DEFS=$(make_var DEFS)
PKG_CFLAGS=$(make_var PKG_CFLAGS)
LIBS=$(make_var LIBS)
INCS=$(make_var INCS)
SRCS=$(make_var SRCS)
if [ -z "$WARN" ] || [ -z "$LIBS" ] || [ -z "$SRCS" ]; then
	echo "fuzz: cannot read WARN, LIBS and SRCS from the Makefile" >&2
	exit 2
fi
SAN="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
-fno-sanitize-recover=all"

mkdir -p "$B/obj"

# Library objects: instrumented for coverage, without libFuzzer's main.
# Rebuilt when missing or older than the source or any header.
stale() {  # obj src
	[ ! -f "$1" ] || [ "$2" -nt "$1" ] ||
		[ -n "$(find bot -name '*.h' -newer "$1")" ]
}
objs=""
for src in $SRCS; do
	[ "$src" = bot/cli/main.c ] && continue
	obj="$B/obj/$(basename "$src" .c).o"
	objs="$objs $obj"
	if stale "$obj" "$src"; then
		echo "fuzz: cc $src"
		# shellcheck disable=SC2086
		$CC $WARN $DEFS $PKG_CFLAGS $INCS $SAN \
			-fsanitize=fuzzer-no-link -c -o "$obj" "$src"
	fi
done

for t in $TARGETS; do
	echo "fuzz: link $B/fuzz_$t"
	# shellcheck disable=SC2086
	$CC $WARN $DEFS $PKG_CFLAGS $INCS $SAN -fsanitize=fuzzer \
		-o "$B/fuzz_$t" "tests/fuzz/fuzz_$t.c" $objs $LIBS
done

# --- seeds ----------------------------------------------------------------

seed_copy() {  # dir files...: copy each file in, named after its path
	dir=$1
	shift
	for f in "$@"; do
		[ -f "$f" ] || continue
		cp "$f" "$dir/seed-$(echo "$f" | tr '/' '_')"
	done
}

c="$B/corpus-script"
mkdir -p "$c"
# shellcheck disable=SC2046
seed_copy "$c" $(find scripts -name '*.oef' 2>/dev/null | sort)

c="$B/corpus-persona"
mkdir -p "$c"
# The target loads its input as fuzz.json, so the id must be "fuzz".
for f in personas/*.json tests/data/personas/*/*.json; do
	[ -f "$f" ] || continue
	sed 's/"id"[[:space:]]*:[[:space:]]*"[^"]*"/"id": "fuzz"/' "$f" \
		>"$c/seed-$(echo "$f" | tr '/' '_')"
done

c="$B/corpus-sync"
mkdir -p "$c"
# shellcheck disable=SC2046
seed_copy "$c" $(find tests/data/sync -name '*.json' 2>/dev/null | sort)

c="$B/corpus-config"
mkdir -p "$c"
# shellcheck disable=SC2046
seed_copy "$c" config/oefenkamer.example.json \
	$(find tests/data/config -name '*.json' 2>/dev/null | sort)

c="$B/corpus-bot"
mkdir -p "$c"
# Recorded /sync bodies in the first form (a leading even byte); the
# seeds of the line form are the fixtures in tests/data/fuzz/bot/.
for f in tests/data/sync/*.json; do
	[ -f "$f" ] || continue
	{ printf '\000'; cat "$f"; } >"$c/seed-$(echo "$f" | tr '/' '_')"
done

c="$B/corpus-norm"
mkdir -p "$c"
# One seed per line of the recorded dialogues.
for f in tests/data/dialogues/*.txt; do
	[ -f "$f" ] || continue
	awk -v p="$c/seed-$(basename "$f" .txt)-" \
		'{ f = p NR; printf "%s", $0 > f; close(f) }' "$f"
done

c="$B/corpus-text"
mkdir -p "$c"
# The same lines, and the trainee turns of the corpus's training split
# (never the held-out test split).
cp "$B"/corpus-norm/seed-* "$c"/ 2>/dev/null || true
for f in tests/corpus/train/*.txt; do
	[ -f "$f" ] || continue
	awk -v p="$c/seed-train-$(basename "$f" .txt)-" \
		'/^> / { f = p NR; printf "%s", substr($0, 3) > f; close(f) }' \
		"$f"
done

c="$B/corpus-corpus"
mkdir -p "$c"
# The eval fixture and the training split's files (never the test split).
# shellcheck disable=SC2046
seed_copy "$c" tests/data/eval/corpus/proef.txt \
	$(find tests/corpus/train -name '*.txt' 2>/dev/null | sort)

# --- dictionaries ---------------------------------------------------------

cat >"$B/script.dict" <<'EOF'
"gebruik \"gedeeld/begrippen.oef\""
"scenario "
"titel: "
"persona: "
"moeilijkheid: "
"begin: "
"inleiding:"
"var "
"punt "
"begrip "
"bedoeling "
"patroon: "
"aanvulling "
"patroon (vraag): "
"handeling: voorstel, belofte"
"citaat: ja"
"voorwaarde: nee"
" (vraag)"
"=woord"
"andere-taal"
"ja: "
"nee: "
"ontkenning: "
"regel "
"als "
"zodra "
"anders"
"eenmalig"
"onderbreek"
"zeg"
"naar "
"getoond"
"gemist"
"fase "
"einde "
"standaard"
"uitleg: "
"goed"
"breuk"
"neutraal"
" en "
" of "
"niet "
"beurt"
"vertrouwen"
"spanning"
"\x0a- "
"\x0a+ "
"\x0a> "
"\x0a  "
",\x0a"
"{woord}"
"(0..10)"
" = "
" +1"
" -1"
">="
"<="
"!="
"~"
"*"
"|"
"("
")"
"["
"]"
"<"
">"
EOF

cat >"$B/persona.dict" <<'EOF'
"\"id\": \"fuzz\""
"\"naam\""
"\"weergavenaam\""
"\"rol\""
"\"ouder\""
"\"jongere\""
"\"kind\""
"\"leeftijd\""
"\"situatie\""
"\"spreekstijl\""
"\"bronnen\""
"\"sectie\""
"\"citaat\""
"\"fictief\": true"
"\\u00eb"
"\\n"
"{"
"}"
"["
"]"
":"
","
EOF

cat >"$B/norm.dict" <<'EOF'
"m'n"
"z'n"
"d'r"
"'t"
"'s"
"\xe2\x80\x99"
"\xc3\xa9"
"\xc3\xab"
"\xc3\x9f"
"niet"
"geen"
"nooit"
"hoe gaat het"
"u"
"uw"
"bent"
"heeft"
"kunt"
"wilt"
"zult"
"ots"
"verplicht"
"kinderen"
"moet"
"vertel"
"-"
"."
"?"
","
"\x0a"
EOF

cat >"$B/corpus.dict" <<'EOF'
"gesprek "
" vaardig"
" gewoon"
" zwak"
" anders"
"> "
"\\n"
"  bedoelingen: "
"  meters: "
"  rubriek: "
"vertrouwen + "
"spanning - "
" = "
" ? "
"+vertrouwen"
"-locatie"
"groet"
"vraagt"
"Hoe gaat het?"
EOF

cat >"$B/text.dict" <<'EOF'
"volgens "
"staat dat "
"schrijft dat "
"ze zeggen: "
"\""
"\xe2\x80\x9c"
"\xe2\x80\x9d"
" als "
" maar "
" dat "
" niet "
"niet alleen"
"zullen we "
"ik beloof "
"ik zal "
"wie "
"kun je "
"je kan mij "
"?"
","
":"
"the "
"you "
"what "
"jeugdbeschermer"
"kinderne"
"veilighied"
"brieven"
EOF

cat >"$B/sync.dict" <<'EOF'
"\"next_batch\":\"s\""
"\"to_device\":{\"events\":[]}"
"\"device_lists\":{\"changed\":[],\"left\":[]}"
"\"device_one_time_keys_count\":{\"signed_curve25519\":0}"
"\"device_unused_fallback_key_types\":[\"signed_curve25519\"]"
"\"rooms\":{\"join\":{}}"
"\"state\":{\"events\":[]}"
"\"timeline\":{\"events\":[]}"
"\"type\":\"m.room.encrypted\""
"\"type\":\"m.room.encryption\""
"\"type\":\"m.room.member\""
"\"type\":\"m.room_key\""
"\"type\":\"m.forwarded_room_key\""
"\"state_key\":\"\""
"\"membership\":\"join\""
"\"membership\":\"invite\""
"\"membership\":\"leave\""
"\"algorithm\":\"m.olm.v1.curve25519-aes-sha2\""
"\"algorithm\":\"m.megolm.v1.aes-sha2\""
"\"sender_key\""
"\"session_id\""
"\"ciphertext\""
"\"body\""
"\"type\":0"
"\"type\":1"
"\"m.relates_to\":{}"
"\"sender\":\"@alice:localhost\""
"\"sender\":\"@bot:localhost\""
"\"event_id\":\"$e\""
"\"!enc:localhost\""
"\"ALICEDEV\""
EOF

cat >"$B/config.dict" <<'EOF'
"\"homeserver\""
"\"user_id\""
"\"password_file\""
"\"access_token_file\""
"\"device_name\""
"\"display_name\""
"\"avatar\""
"\"store\""
"\"scripts_dir\""
"\"personas_dir\""
"\"invites\""
"\"allow\""
"\"typing\""
"\"enabled\""
"\"chars_per_second\""
"\"min_ms\""
"\"max_ms\""
"\"gather_ms\""
"\"roles\""
"\"coaches\""
"\"trainers\""
"\"retention_days\""
"\"encryption\""
"\"pickle_key_file\""
"\"rotation_messages\""
"\"rotation_ms\""
"\"pw\""
"\"pw-open\""
"\"http://127.0.0.1:8008\""
"\"@oefenkamer:localhost\""
"\"@*:localhost\""
"true"
"false"
"null"
"2147483648"
"-1"
"{"
"}"
"["
"]"
":"
","
EOF

cat >"$B/bot.dict" <<'EOF'
"\x0at"
"\x0ac"
"\x0ax"
"\x0ab"
"\x0ai"
"!oefeningen"
"!start 1"
"!start t"
"!rollen"
"!hulp"
"!stop"
"!opnieuw"
"!stand"
"!nabespreking"
"!terugkijken 1"
"!pauze"
"!verder"
"!tip "
"!zeg "
"!einde"
"!coachkamer"
"hoe gaat het"
"doei"
"\"type\":\"m.room.message\""
"\"type\":\"m.room.member\""
"\"type\":\"m.reaction\""
"\"m.relates_to\":{\"rel_type\":\"m.thread\",\"event_id\":\"$x\"}"
"\"m.new_content\":{}"
"\"membership\":\"leave\""
"\"membership\":\"invite\""
"\"!oefen:localhost\""
"\"@trainee:localhost\""
"\"@coach:localhost\""
"\"msgtype\":\"m.text\""
"\"body\":\"!start 1\""
"\"next_batch\":\"s\""
EOF

# --- run ------------------------------------------------------------------

# What of a failing log to show: the verdict and the stack.
STACK_RE='^(==[0-9]+==|SUMMARY|fuzz [a-z]+: broken)|runtime error|^ +#[0-9]+ '
passed=0
failed=0
crashes=""
for t in $TARGETS; do
	art="$B/artifacts-$t/"
	log="$B/fuzz_$t.log"
	rm -rf "$art"
	mkdir -p "$art"
	fixtures=""
	[ -d "tests/data/fuzz/$t" ] && fixtures="tests/data/fuzz/$t"
	# e2ee.c and bot.c log to stderr on most inputs of the sync and bot
	# targets; libFuzzer keeps its own output and the sanitizers'
	# reports, but the "broken promise" line of targets.h is lost
	# (test_fuzz_regress prints it)
	quiet=""
	case $t in sync | bot) quiet="-close_fd_mask=2" ;; esac
	start=$(date +%s)
	rc=0
	# shellcheck disable=SC2086
	OEF_ROOT=$(pwd) "./$B/fuzz_$t" -max_total_time="$per" -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-dict="$B/$t.dict" -artifact_prefix="$art" $quiet \
		"$B/corpus-$t" $fixtures </dev/null >"$log" 2>&1 || rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
		tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')
	found=$(find "$art" -type f | wc -l)
	if [ "$rc" -eq 0 ] && [ "$found" -eq 0 ]; then
		passed=$((passed + 1))
		echo "fuzz $t: ok, ${execs:-0} execs in ${took}s," \
			"coverage ${cov:-?}, corpus $(find "$B/corpus-$t" -type f |
			wc -l) inputs"
	else
		failed=$((failed + 1))
		echo "fuzz $t: FAILED (exit $rc) after ${execs:-0} execs in" \
			"${took}s; log: $log"
		# the stack and the sanitizer's verdict
		grep -E "$STACK_RE" "$log" | head -n 40 | sed 's/^/  /'
		for f in "$art"*; do
			[ -f "$f" ] || continue
			crashes="$crashes $t:$f"
			echo "  input: $f"
		done
		[ "$found" -ne 0 ] || tail -n 20 "$log" | sed 's/^/  /'
	fi
done

if [ -n "$crashes" ]; then
	echo
	echo "fuzz: copy each input into its target's fixtures, fix the bug"
	echo "and commit both; tests/unit/test_fuzz_regress replays them:"
	for x in $crashes; do
		echo "  cp ${x#*:} tests/data/fuzz/${x%%:*}/"
	done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
