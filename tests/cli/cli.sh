#!/bin/sh
# End-to-end tests of the oefenkamer command line on the shipped scripts:
# every dialogue reaches its ending, output is reproducible, bad input is
# reported and loses nothing. Run by `make test` (OEF_BIN, OEF_ROOT set).
set -u
ROOT=${OEF_ROOT:-$(pwd)}
BIN=${OEF_BIN:-$ROOT/build/oefenkamer}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$ROOT" || exit 1
export OEF_DB="$T/test.db"
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check NAME CMD...: CMD must succeed
	name=$1; shift
	if "$@"; then ok; else bad "$name"; fi
}
has() { grep -q -- "$2" "$1"; }

# --- the shipped scripts are valid, every point practised -------------
$BIN check >"$T/check.out" 2>"$T/check.err"
rc=$?
if [ $rc -eq 0 ] && has "$T/check.out" "alles in orde" &&
   has "$T/check.out" "rubriek: alle 18 punten"; then ok
else bad "check of shipped scripts (exit $rc)"; cat "$T/check.err"; fi

$BIN check --json >"$T/check.json" 2>&1
check "check --json says ok" has "$T/check.json" '"ok":true'

# --- the folders of bot/ are layers ---------------------------------------
# A source includes headers of its own folder and of the folders above it
# in README's Layout (core, record, matrix, app, cli), never one below:
# data flows one way.
layers() {
	order="core record matrix app cli"
	rc=0
	for f in bot/*/*.c bot/*/*.h; do
		dir=${f#bot/}; dir=${dir%%/*}
		mine=$(echo "$order" | tr ' ' '\n' | grep -n -x "$dir" | cut -d: -f1)
		for h in $(sed -n 's/^#include "\([a-z_]*\.h\)".*/\1/p' "$f"); do
			hd=$(ls bot/*/"$h" 2>/dev/null | head -1)
			[ -n "$hd" ] || { echo "$f: includes $h, not in bot/"; rc=1; continue; }
			hd=${hd#bot/}; hd=${hd%%/*}
			theirs=$(echo "$order" | tr ' ' '\n' | grep -n -x "$hd" | cut -d: -f1)
			if [ "$theirs" -gt "$mine" ]; then
				echo "$f ($dir) includes $h ($hd), a layer below"
				rc=1
			fi
		done
	done
	return $rc
}
check "bot/ includes only from its own layer and the layers above" layers

# --- sources live in the project ------------------------------------------
# Every persona's `bronnen` quote stands in docs/bronnen.md, in a table row
# whose section cell is the quote's `sectie` (whitespace runs count as one
# space: the factsheet's quotes run over line breaks).
cat >"$T/bronnen.py" <<'PY'
import glob, json, re, sys
norm = lambda s: re.sub(r"\s+", " ", s).strip()
rows = []
for line in open("docs/bronnen.md", encoding="utf-8"):
    m = re.match(r"^\| (.+?) \| (.+) \|$", line.rstrip("\n"))
    if m:
        rows.append((m.group(1), norm(m.group(2))))
bad = n = 0
for path in sorted(glob.glob("personas/*.json")):
    for i, b in enumerate(json.load(open(path, encoding="utf-8"))["bronnen"]):
        n += 1
        q = norm(b["citaat"])
        if not any(s == b["sectie"] and q in c for s, c in rows):
            bad += 1
            print("%s: bronnen[%d] (%s) not in docs/bronnen.md: %s"
                  % (path, i, b["sectie"], q[:60]))
print("checked %d quotes" % n)
sys.exit(1 if bad or n == 0 else 0)
PY
if python3 "$T/bronnen.py" >"$T/bronnen.out"; then ok
else bad "persona quotes missing from docs/bronnen.md"; cat "$T/bronnen.out"; fi
# No file points outside the repository (the pattern is split so that
# this file does not match itself).
pat='share''d/'
if grep -rIn -- "$pat" README.md docs scripts personas bot config tests \
	>"$T/outside.out"; then
	bad "paths outside the repository:"; cat "$T/outside.out"
else ok; fi

# --- every dialogue ends where its file name says ----------------------
# File names: <scenario>.<ending>[.<label>].txt
n=0
long=0
for f in tests/data/dialogues/*.txt; do
	b=$(basename "$f" .txt)
	sc=${b%%.*}
	want=${b#*.}
	want=${want%%.*}
	grep -v '^#' "$f" >"$T/in.txt"
	$BIN play "$sc" --seed 1 --json <"$T/in.txt" >"$T/d.json" 2>"$T/d.err"
	got=$(grep '"type":"end"' "$T/d.json" |
	      sed 's/.*"ending":"\([^"]*\)".*/\1/')
	if [ "$got" = "$want" ]; then ok
	else bad "dialogue $b ended in '$got'"; fi
	n=$((n + 1))
	# A long conversation: the persona rarely repeats itself.
	turns=$(grep -c '"type":"turn"' "$T/d.json")
	if [ "$turns" -ge 25 ]; then
		long=$((long + 1))
		grep '"type":"persona"' "$T/d.json" >"$T/lines"
		all=$(wc -l <"$T/lines")
		uniq=$(sort -u "$T/lines" | wc -l)
		if [ $((uniq * 100)) -ge $((all * 90)) ]; then ok
		else bad "$b: $uniq distinct of $all persona lines"; fi
	fi
done
[ $n -ge 18 ] && ok || bad "expected 3+ dialogues per scenario, found $n"
[ $long -ge 6 ] && ok || bad "expected a 25+ turn dialogue per scenario, found $long"

# --- small talk alone never takes trust above 6 (every scenario) -------
# tests/data/kletsen/: weather, food, a joke, hobbies; no safety question,
# no key move. A weak model guess must not open the way to more.
for s in scripts/*.oef; do
	id=$(basename "$s" .oef)
	case $id in
	jongere-*) f=tests/data/kletsen/jongere.txt ;;
	kind-*) f=tests/data/kletsen/kind.txt ;;
	*) f=tests/data/kletsen/ouder.txt ;;
	esac
	grep -v '^#' "$f" >"$T/in.txt"
	$BIN play "$id" --seed 1 --json <"$T/in.txt" >"$T/k.json" 2>"$T/k.err"
	top=$(grep '"type":"turn"' "$T/k.json" |
	      sed 's/.*"vertrouwen":\([0-9]*\).*/\1/' | sort -n | tail -1)
	if [ -n "$top" ] && [ "$top" -le 6 ]; then ok
	else bad "$id: small talk took trust to '${top}'"; fi
done

# --- every scenario has a good, a break-down and a neutral dialogue -----
for s in scripts/*.oef; do
	id=$(basename "$s" .oef)
	for kind in goed breuk neutraal; do
		found=0
		for f in tests/data/dialogues/"$id".*.txt; do
			[ -e "$f" ] || continue
			e=$(basename "$f" .txt); e=${e#*.}; e=${e%%.*}
			grep -q "^einde $e $kind" "$s" && found=1
		done
		[ $found -eq 1 ] && ok ||
			bad "$id: no dialogue for a '$kind' ending"
	done
done

# --- same seed, same input: the same bytes --------------------------------
f=$(ls tests/data/dialogues/*.txt | head -1)
sc=$(basename "$f" .txt); sc=${sc%%.*}
grep -v '^#' "$f" >"$T/in.txt"
$BIN play "$sc" --seed 42 --json <"$T/in.txt" >"$T/a.json" 2>/dev/null
$BIN play "$sc" --seed 42 --json <"$T/in.txt" >"$T/b.json" 2>/dev/null
check "same seed gives identical --json" cmp -s "$T/a.json" "$T/b.json"
check "--json has turn events with vars" has "$T/a.json" '"vars":{"vertrouwen"'

# --- bad input: a clear notice, no crash, nothing lost --------------------
python3 -c 'import sys; sys.stdout.write("a" * (1 << 20) + "\n")' \
	>"$T/big.txt" 2>/dev/null ||
	head -c 1048576 /dev/zero | tr '\0' a >"$T/big.txt"
{
	printf 'Hallo, ik ben Sanne.\n'
	printf '\n'
	printf 'caf\351 met \377\376 rommel\n'
	printf 'tab\there en bel\007 hier\n'
	cat "$T/big.txt"
	echo
	printf 'Hoe gaat het met u?\n'
} >"$T/bad.txt"
rm -f "$OEF_DB"
$BIN play moeder-brief --seed 3 --json <"$T/bad.txt" >"$T/bad.json" 2>"$T/bad.err"
rc=$?
[ $rc -eq 0 ] && ok || bad "bad input: exit $rc"
has "$T/bad.json" "Leeg bericht" && ok || bad "empty line notice"
has "$T/bad.json" "onleesbare tekens" && ok || bad "invalid UTF-8 notice"
has "$T/bad.json" "eerste 16 kB" && ok || bad "long message notice"
# 5 trainee messages stored, the 1 MB one whole
$BIN sessions --json >"$T/s.json"
turns=$(sqlite3 "$OEF_DB" "select count(*) from turns where speaker='trainee'" 2>/dev/null)
[ "$turns" = "5" ] && ok || bad "bad input: $turns trainee turns stored, want 5"
len=$(sqlite3 "$OEF_DB" "select max(length(text)) from turns" 2>/dev/null)
[ "$len" = "1048576" ] && ok || bad "1 MB message stored as $len bytes"
mode=$(stat -c %a "$OEF_DB")
[ "$mode" = "600" ] && ok || bad "database mode $mode, want 600"

# --- transcripts: sessions, replay, export, re-check -----------------------
rm -f "$OEF_DB"
f=tests/data/dialogues/moeder-brief.sandra-doet-mee.txt
grep -v '^#' "$f" | $BIN play moeder-brief --seed 1 >"$T/play.txt" 2>&1
check "text play ends well" has "$T/play.txt" "goed afgerond"
$BIN sessions >"$T/sessions.txt"
check "sessions lists it" has "$T/sessions.txt" "moeder-brief"
$BIN replay 1 --speed 0 >"$T/replay.txt"
check "replay shows the trainee" has "$T/replay.txt" "trainee: "
$BIN export 1 --format html --output "$T/d.html"
check "html export has the chart" has "$T/d.html" "<svg"
check "html export quotes the trainee" has "$T/d.html" "$(sed -n 1p "$f" | cut -c1-20)"
$BIN export 1 --format md >"$T/d.md"
check "md export has the rubric" has "$T/d.md" "Bewust van wat er"
$BIN export 1 --format json >"$T/d.json"
check "json export has turns" has "$T/d.json" '"turns"'
$BIN check --transcripts "$OEF_DB" >"$T/tr.txt" 2>&1
check "stored session replays identically" has "$T/tr.txt" "zelfde antwoorden"
$BIN export 99 --format html >/dev/null 2>"$T/e.err"
[ $? -ne 0 ] && has "$T/e.err" "bestaat niet" && ok || bad "export of a missing session"

# --- a corrupt database: a clear message, the file untouched --------------
head -c 4096 /dev/urandom >"$T/corrupt.db"
cp "$T/corrupt.db" "$T/corrupt.orig"
echo hallo | $BIN play moeder-brief --db "$T/corrupt.db" >/dev/null 2>"$T/c.err"
rc=$?
[ $rc -eq 1 ] && has "$T/c.err" "corrupt.db" && ok ||
	bad "corrupt db: exit $rc: $(cat "$T/c.err")"
check "corrupt db left as it was" cmp -s "$T/corrupt.db" "$T/corrupt.orig"

# --- broken scripts: file:line:col, exit 2 ---------------------------------
mkdir -p "$T/s/gedeeld" "$T/p"
cp scripts/gedeeld/*.oef "$T/s/gedeeld/"
cp personas/sandra.json "$T/p/"
cat >"$T/s/kapot.oef" <<'OEF'
gebruik "gedeeld/begrippen.oef"
scenario kapot
titel: Kapot
persona: sandra
inleiding:
> Test.
var vertrouwen = 3 (0..10)
var spanning = 3 (0..10)
fase begin
  als vraagt-hoe-het-gaat
    naar nergens
  zeg
  - [vertrouwen >>= 3] hoi
OEF
OEF_SCRIPTS="$T/s" OEF_PERSONAS="$T/p" $BIN check >"$T/k.out" 2>"$T/k.err"
rc=$?
[ $rc -eq 2 ] && ok || bad "broken script: exit $rc, want 2"
has "$T/k.err" "kapot.oef:13:18: verwacht een getal na de vergelijking" &&
	ok || bad "syntax error with file:line:col: $(cat "$T/k.err")"
sed -i 's/>>= 3/>= 3/' "$T/s/kapot.oef"
OEF_SCRIPTS="$T/s" OEF_PERSONAS="$T/p" $BIN check >"$T/k.out" 2>"$T/k.err"
has "$T/k.err" "kapot.oef:11:5: onbekende fase of einde 'nergens'" && ok ||
	bad "unknown target reported with file:line:col: $(cat "$T/k.err")"
cat >"$T/s/kapot.oef" <<'OEF'
gebruik "gedeeld/begrippen.oef"
scenario kapot
titel: Kapot
persona: niemand
inleiding:
> Test.
var vertrouwen = 3 (0..10)
var spanning = 3 (0..10)
fase begin
  zeg
  - Hoi.
  als vraagt-hoe-het-gaat
    naar goed
fase eiland
  zeg
  - Hier kom je nooit.
einde goed goed
  zeg
  - Dag.
einde stuk breuk
  zeg
  - Weg.
OEF
OEF_SCRIPTS="$T/s" OEF_PERSONAS="$T/p" $BIN check >"$T/k.out" 2>"$T/k.err"
has "$T/k.err" "kapot.oef:14:1: fase 'eiland' is niet te bereiken" && ok ||
	bad "unreachable phase: $(cat "$T/k.err")"
has "$T/k.err" "einde 'stuk' is niet te bereiken" && ok ||
	bad "unreachable ending not reported"
has "$T/k.err" "persona 'niemand' bestaat niet" && ok ||
	bad "missing persona not reported"
# rubric moments of the examples against their own [+id -id]
cat >"$T/s/kapot.oef" <<'OEF'
scenario kapot
titel: Kapot
persona: sandra
inleiding:
> Test.
var vertrouwen = 3 (0..10)
var spanning = 3 (0..10)
punt eerlijk: Eerlijk
punt druk: Druk
bedoeling geheim
  patroon: geheim
  ontkenning: nee
  ja: Niet alles blijft geheim. [+eerlijk]
  ja: Dat is geheim. []
  ja: Het geheim [bijlage]
bedoeling moet
  patroon: moet
  ja: U moet meewerken. [-druk]
  ja: Het blijft geheim, maar u moet.
regel moet-telt
  als moet
  punt eerlijk gemist
fase begin
  zeg
  - Hoi.
  als geheim
    punt eerlijk getoond
    naar goed
  als andere-taal
    spanning +1
  anders
    zeg
    - Hm.
einde goed goed
  zeg
  - Dag.
OEF
OEF_SCRIPTS="$T/s" OEF_PERSONAS="$T/p" $BIN check >"$T/k.out" 2>"$T/k.err"
has "$T/k.err" "kapot.oef:14:3: voorbeeld krijgt in fase 'begin' +eerlijk, dat staat niet tussen" &&
	ok || bad "moment not in [] not reported: $(cat "$T/k.err")"
has "$T/k.err" "kapot.oef:18:3: voorbeeld zou -druk krijgen, maar krijgt dat in geen enkele fase" &&
	ok || bad "[-druk] never earned not reported: $(cat "$T/k.err")"
has "$T/k.err" "kapot.oef:18:3: voorbeeld krijgt in fase 'begin' -eerlijk" &&
	ok || bad "-eerlijk not in [] not reported: $(cat "$T/k.err")"
has "$T/k.err" "^waarschuwing: .*kapot.oef:19:3: voorbeeld 'Het blijft geheim, maar u moet.' krijgt in fase 'begin' punt 'eerlijk' zowel getoond als gemist" &&
	ok || bad "+/- in one message not warned: $(cat "$T/k.err")"
grep -q "kapot.oef:13:3\|kapot.oef:15:3" "$T/k.err" &&
	bad "a right [] or a [word] in the sentence reported: $(cat "$T/k.err")" || ok

# --- retention: purge what ended long enough ago, nothing else -------------
rm -f "$OEF_DB"
grep -v '^#' tests/data/dialogues/kind-stapjes.noor-wil-naar-mama.txt |
	$BIN play kind-stapjes --seed 1 >/dev/null 2>&1
printf 'Hoi Noor\n' | $BIN play kind-stapjes --seed 2 >/dev/null 2>&1
sqlite3 "$OEF_DB" "UPDATE sessions SET ended_ms = ended_ms - 40 * 86400000 WHERE id = 1"
$BIN purge --days 30 >"$T/purge.txt" 2>&1
has "$T/purge.txt" "gewist: sessie 1 (kind-stapjes" && ok ||
	bad "purge says what it deleted: $(cat "$T/purge.txt")"
left=$(sqlite3 "$OEF_DB" "SELECT group_concat(id) FROM sessions")
orphans=$(sqlite3 "$OEF_DB" "SELECT count(*) FROM turns WHERE session_id = 1")
[ "$left" = "2" ] && [ "$orphans" = "0" ] && ok ||
	bad "purge kept '$left', $orphans turns of session 1 left"
$BIN purge --days 30 >"$T/purge.txt" 2>&1
has "$T/purge.txt" "^0 sessies gewist" && ok || bad "second purge deletes nothing"

# --- eval: figures on a fixture worked out by hand -----------------------------
# tests/data/eval/scripts/proef.oef and tests/data/eval/corpus/proef.txt:
# groet is found 3 times (1 expected), missed once ("Goedemorgen"); the
# debrief credits +vertrouwen once too often and misses it once.
evalrun() {
	OEF_SCRIPTS=tests/data/eval/scripts OEF_PERSONAS=tests/data/personas/good \
		$BIN eval "$@"
}
evalrun tests/data/eval/corpus/proef.txt >"$T/eval.txt" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "eval of the fixture: exit $rc"
for want in \
	'groet                         0.33  0.50  0.40  (1/2/1)' \
	'vraagt-gevoel                 1.00  1.00  1.00  (2/0/0)' \
	'micro: prec 0.667 rec 0.800 F1 0.727' \
	'geen bedoeling: alle beurten 33.3% (2/6), beurten met een label 25.0% (1/4)' \
	'2x (niets) -> groet' \
	'1x groet -> (niets)' \
	'meters goed: bewegen 60.0% (3/5), blijven gelijk 85.7% (6/7)' \
	'spanning       bewegen 0.0% (0/1), gelijk 80.0% (4/5)' \
	'vaardig 6.00 (1) gewoon - (0) zwak 4.00 (1) anders 5.00 (1); vaardig boven zwak: ja' \
	'vaardig boven zwak: ja; vaardig > gewoon > zwak: -; anders onder vaardig: ja' \
	'vaardig > gewoon > zwak: 0 van 0; anders onder vaardig: 1 van 1' \
	'rubriek: precisie 0.667 (2/3), recall 0.667 (2/3)' \
	'+vertrouwen               1 goed, 1 onterecht, 1 gemist'; do
	grep -qF -- "$want" "$T/eval.txt" && ok || bad "eval lacks: $want"
done
# an intent with 'hulp: ja' (written for the script's own conditions) is
# left out of the intent figures: without groet the fixture's intents
# are all right, and the turns only groet was found in have no intent
mkdir -p "$T/hulp"
sed 's/^  ja: Hallo\.$/  ja: Hallo.\n  hulp: ja/' tests/data/eval/scripts/proef.oef \
	>"$T/hulp/proef.oef"
OEF_SCRIPTS="$T/hulp" OEF_PERSONAS=tests/data/personas/good \
	$BIN eval tests/data/eval/corpus/proef.txt >"$T/hulp.txt" 2>&1
for want in \
	'micro: prec 1.000 rec 1.000 F1 1.000' \
	'geen bedoeling: alle beurten 50.0% (3/6), beurten met een label 25.0% (1/4); hulpbedoelingen (niet meegeteld) 3 keer gevonden'; do
	grep -qF -- "$want" "$T/hulp.txt" && ok || bad "eval with a helper intent lacks: $want ($(grep -F 'micro' "$T/hulp.txt"))"
done
! grep -q '^  groet ' "$T/hulp.txt" && ok || bad "eval scores a helper intent"
# tests/data/eval/*/plafond.*: trust rises three times, twice a ceiling
# holds what the script raised (its 'plafond', then a 'zodra' rule setting
# it back), once nothing moves it; --beurten marks the held turns
evalrun tests/data/eval/corpus/plafond.txt >"$T/plafond.txt" 2>&1
for want in \
	'meters goed: bewegen 50.0% (3/6), blijven gelijk 100.0% (6/6)' \
	'gemist: bleef staan 1, verkeerde kant 0, stond al aan de grens 0, door een plafond tegengehouden 2' \
	'waar ook het plafond de stijging toeliet 75.0% (3/4)'; do
	grep -qF -- "$want" "$T/plafond.txt" && ok || bad "eval of ceilings lacks: $want"
done
evalrun --beurten tests/data/eval/corpus/plafond.txt >"$T/plafond.txt" 2>&1
[ "$(grep -c 'kreeg +0 (stond op [68], plafond)' "$T/plafond.txt")" = 2 ] &&
	has "$T/plafond.txt" 'kreeg +0 (stond op 9);' && ok ||
	bad "eval --beurten marks the turns a ceiling held: $(grep 'meters:' "$T/plafond.txt")"
evalrun --json tests/data/eval/corpus/plafond.txt >"$T/plafond.json" 2>&1
python3 - "$T/plafond.json" <<'PY' && ok || bad "eval --json: meters within the ceilings"
import json, sys
t = json.load(open(sys.argv[1]))["totaal"]
assert t["meters_bewegen_binnen_plafond"]["aantal"] == 3, t
assert t["meters_bewegen_binnen_plafond"]["van"] == 4, t
PY
evalrun --json tests/data/eval/corpus/proef.txt >"$T/eval.json" 2>&1
python3 - "$T/eval.json" <<'PY' && ok || bad "eval --json figures"
import json, sys
j = json.load(open(sys.argv[1]))
t = j["totaal"]
sc = j["scenarios"][0]
assert t["micro"]["goed"] == 4 and t["micro"]["onterecht"] == 2, t
assert t["micro"]["gemist"] == 1, t
assert t["geen_bedoeling"]["aantal"] == 2, t
assert t["meters_bewegen"]["aantal"] == 3 and t["meters_bewegen"]["van"] == 5
assert t["anders_onder_vaardig"]["aantal"] == 1, t
assert t["vaardig_gewoon_zwak"]["van"] == 0, t
assert sc["eindvertrouwen"]["vaardig_boven_zwak"] is True
assert sc["eindvertrouwen"]["gewoon"]["gemiddeld"] is None
assert sc["rubriek_per_moment"]["+vertrouwen"]["onterecht"] == 1
assert sc["verward"][0] == {"verwacht": None, "gevonden": "groet",
                            "aantal": 2}, sc["verward"]
PY
# --ijking fits the matcher's confidence to what the folds guessed; it
# needs --kruis, where every guess is on a turn the fold did not learn
mkdir -p "$T/ijk/scripts" "$T/ijk/tests/corpus/train"
cp -r "$ROOT/scripts/gedeeld" "$ROOT/scripts/ouder-schulden.oef" "$T/ijk/scripts/"
cp "$ROOT/tests/corpus/train/ouder-schulden.txt" "$T/ijk/tests/corpus/train/"
OEF_SCRIPTS="$T/ijk/scripts" OEF_PERSONAS="$ROOT/personas" \
	$BIN eval --ijking "$T/ijk/tests/corpus/train/ouder-schulden.txt" \
	>/dev/null 2>"$T/ijk.err"
[ $? -eq 2 ] && has "$T/ijk.err" "gebruik het met --kruis" && ok ||
	bad "eval --ijking without --kruis: $(cat "$T/ijk.err")"
OEF_SCRIPTS="$T/ijk/scripts" OEF_PERSONAS="$ROOT/personas" \
	$BIN eval --kruis --ijking --json \
	"$T/ijk/tests/corpus/train/ouder-schulden.txt" >"$T/ijk.json" 2>&1
python3 - "$T/ijk.json" <<'PY' && ok || bad "eval --kruis --ijking: $(head -c 300 "$T/ijk.json")"
import json, sys
j = json.load(open(sys.argv[1]))["ijking"]
assert j["kandidaten"] > 100 and 0 < j["juist"] < j["kandidaten"], j
w = j["gewichten"]
# a surer regression means a surer guess; a guess beside what the
# patterns found is less sure
assert len(w) == 7 and w[1] > 0.3 and w[2] + w[3] < 0, w
PY
# errors name file:line:col; nothing is played
sed 's/bedoelingen: druk$/bedoelingen: drukk/' \
	tests/data/eval/corpus/proef.txt >"$T/proef.txt"
evalrun "$T/proef.txt" >"$T/eval.out" 2>"$T/eval.err"
rc=$?
[ $rc -eq 2 ] && has "$T/eval.err" "proef.txt:15:16: onbekende bedoeling 'drukk'" &&
	! has "$T/eval.out" "micro" && ok ||
	bad "eval with an unknown intent: exit $rc, $(cat "$T/eval.err")"
sed -e 's/rubriek: -machtspositie/rubriek: -machtpositie/' \
    -e 's/meters: vertrouwen + spanning -/meters: vertrouwen + spaning -/' \
	tests/data/eval/corpus/proef.txt >"$T/proef.txt"
evalrun "$T/proef.txt" >/dev/null 2>"$T/eval.err"
has "$T/eval.err" "proef.txt:17:13: onbekend rubriekpunt 'machtpositie'" &&
	has "$T/eval.err" "proef.txt:20:24: onbekende meter 'spaning'" && ok ||
	bad "eval with an unknown point and meter: $(cat "$T/eval.err")"
printf 'gesprek x1 vaardig\n> Hallo\n  bedoelingen: groet\n  meters: vertrouwen +\n' \
	>"$T/proef.txt"
evalrun "$T/proef.txt" >/dev/null 2>"$T/eval.err"
has "$T/eval.err" "proef.txt:2:1: dit bericht mist 'rubriek:'" && ok ||
	bad "eval with a missing label line: $(cat "$T/eval.err")"
evalrun "$T/nergens.txt" >/dev/null 2>"$T/eval.err"
[ $? -eq 2 ] && has "$T/eval.err" "geen scenario 'nergens'" && ok ||
	bad "eval of a file named after no scenario"

# --- play --json explains what the persona understood ---------------------------
printf 'Hallo, hoe voelt u zich op dit moment?\n' |
	OEF_SCRIPTS=tests/data/model/scripts OEF_PERSONAS=tests/data/personas/good \
	$BIN play gevoel --seed 1 --json >"$T/model.json" 2>&1
has "$T/model.json" '{"bedoeling":"groet","door":"patroon","zekerheid":100,"zinsdeel":1,"tekst":"hallo"}' &&
	has "$T/model.json" '"bedoeling":"vraagt-gevoel","door":"model","zekerheid":\([3-9][0-9]\|100\),"zinsdeel":2,"tekst":"hoe voel je zich op dit moment"' &&
	ok || bad "play --json treffers: $(grep turn "$T/model.json")"

# --- context: a question about Sandra's last line gets its toelichting ---------
printf 'Goedemiddag, fijn dat u er bent. Hoe was het om onze brief te krijgen?\nHoe bedoelt u dat, van internet?\n' |
	$BIN play moeder-brief --seed 1 --json >"$T/ctx.json" 2>&1
tail -n +2 "$T/ctx.json" | grep '"type":"persona"' | tail -1 >"$T/ctx.last"
has "$T/ctx.last" 'Op internet\|Gewoon, op mijn telefoon\|Ik heb de afkortingen uit de brief ingetypt\|De naam van jullie organisatie' &&
	grep '"beurt":2' "$T/ctx.json" | grep -q '"missed":false' && ok ||
	bad "moeder-brief: no toelichting for 'Hoe bedoelt u dat, van internet?': $(cat "$T/ctx.last")"

# --- toelichting: every scenario explains a line it just said ----------------
# toel SCENARIO WANT MESSAGE...: play the messages (--seed 1, so the path is
# fixed); the persona's first line after the last message must be exactly
# WANT, WANT must be a toelichting in the scenario's script, and the
# question must count as understood.
toel() {
	sc=$1; want=$2; shift 2
	printf '%s\n' "$@" | $BIN play "$sc" --seed 1 --json >"$T/toel.json" 2>&1
	got=$(awk '/"type":"turn"/ { n = NR } { l[NR] = $0 } END { print l[n + 1] }' \
		"$T/toel.json" |
		sed -n 's/^{"type":"persona","name":"[^"]*","text":"\(.*\)"}$/\1/p')
	if [ "$got" = "$want" ] &&
	   grep -q -F -- "toelichting: $want" "scripts/$sc.oef" &&
	   grep '"type":"turn"' "$T/toel.json" | tail -1 | grep -q '"missed":false'
	then ok
	else bad "$sc: asked 'hoe bedoel…' after '$(printf '%s' "$*" | tail -c 60)', got '$got'"
	fi
}
# Sandra's first line: why she came
toel moeder-brief 'Ik dacht: als ik niet kom, staat dat vast ook weer ergens. Mijn zus haalt de kinderen vandaag van school, anders had ik niet gekund.' \
	'Hoe bedoelt u dat?'
# "Behalve die broek", after a reflection in the phase about the letter
toel moeder-brief 'Die ochtend dat Daan in natte kleren op school kwam. Iets anders kon ik echt niet bedenken, en ik heb lang liggen denken.' \
	'Goedemiddag, fijn dat u er bent. Hoe was het om onze brief te krijgen?' \
	'Dat klinkt alsof u erg geschrokken bent.' \
	'Hoe bedoelt u dat?'
# Marco, after a reflection in the phase about his ex's letters
toel vader-scheiding 'Jullie hebben haar brieven, zij weet wat ze geschreven heeft. Ik ben de enige die moet raden wat er over mij gezegd wordt.' \
	'Goedemiddag Marco. Ja, ik heb de brieven van uw ex gelezen, dat wil ik eerlijk zeggen.' \
	'Dat klinkt alsof u zich oneerlijk behandeld voelt.' \
	'Hoe bedoelt u dat?'
# Noor, right after she answered how her day was
toel kind-stapjes 'Omdat ik mijn tafel van zes goed had. Die vind ik eigenlijk best moeilijk.' \
	'Hoi Noor! Hoe was je dag vandaag?' \
	'Hoe bedoel je dat?'
# Mila, after she says yes to a walk instead of the table
toel jongere-dichtklappen 'Dan zit je daar met je handen op tafel en schrijft iemand alles op wat je zegt. Bij de vorige ging het ook zo.' \
	'Hoi Mila. Ik ben je nieuwe jeugdbeschermer. Zullen we een stukje gaan lopen in plaats van hier te zitten?' \
	'Hoe bedoel je dat?'
# Jesse, after hearing he is seen without his mother this time
toel jongere-meebeslissen 'Vorige week zat iedereen om me heen: mijn moeder, mijn mentor, jij. En ik zat daar maar.' \
	'Hoi Jesse. Ik wilde je graag een keer apart spreken, zonder je moeder erbij.' \
	'Hoe bedoel je dat?'
# Yvonne, after what she read about 'risicotaxatie'
toel moeder-eigen-verleden "Op internet, 's nachts op mijn telefoon. Bij dat woord stond overal dat het daarmee begint: dat ze je kind weghalen." \
	'Goedemiddag, ik ben Fleur van het buurtteam. Hoe was het voor u om die brief te krijgen?' \
	'Hoe bedoelt u dat?'
# Linda, after she hears the decision stands
toel moeder-uitspraak 'Elke keer dat jij hier bent, schrijf je iets op. Of de vaat gedaan is, of ik schreeuw, of Thijs naar school ging. Een jaar lang.' \
	'Ja, het gaat door. De rechter heeft een ondertoezichtstelling uitgesproken voor een jaar.' \
	'Hoe bedoel je dat?'
# Kevin, right after he says he vacuumed this morning
toel ouder-schulden 'Om half zeven, voordat de kinderen wakker waren. Ik wilde niet dat u dacht dat we in een zwijnenstal wonen.' \
	'Goedemorgen Kevin. Maakt u zich over die rommel geen zorgen, zo ziet het er bij iedereen weleens uit.' \
	'Hoe bedoelt u dat?'
# the testers' own question: a word from the line, no 'bedoel'; the
# wekker line is the first of two Kevin says in that turn
toel ouder-schulden 'Elke brief, elk telefoontje van een nummer dat ik niet ken, tikt erbij. En op zaterdag, als ik moe ben en de kinderen ruzie maken, houdt niks hem meer tegen.' \
	'Goedemorgen Kevin. Maakt u zich over die rommel geen zorgen, zo ziet het er bij iedereen weleens uit.' \
	'Het gaat mij niet om schuld. Wat speelt er allemaal bij u?' \
	'Dat klinkt echt zwaar.' \
	'Wat vervelend, dat is veel tegelijk.' \
	'Dat is heftig, zoveel stress.' \
	'Dat wekker-gevoel, kunt u daar iets meer over vertellen?'
# every shipped scenario explains at least 12 of its lines
for f in scripts/*.oef; do
	n=$(grep -c '^[[:space:]]*toelichting:' "$f")
	[ "$n" -ge 12 ] && ok || bad "$f: $n toelichtingen, want at least 12"
done

# --- niet-gezegd: a quote the persona never said is not explained ----------
# every shipped scenario answers an invented quote with one of its own
# 'niet-gezegd' lines, and the message counts as understood
for f in scripts/*.oef; do
	sc=$(basename "$f" .oef)
	awk '/^  niet-gezegd$/ { on = 1; next } on && /^  - / { sub(/^  - /, ""); print; next } { on = 0 }' \
		"$f" >"$T/ng.lines"
	printf '%s\n' 'Hallo, ik ben Fleur.' \
		'Hoe bedoelt u, "mijn kanarie zingt niet meer"?' |
		$BIN play "$sc" --seed 1 --json >"$T/ng.json" 2>&1
	got=$(awk '/"type":"turn"/ { n = NR } { l[NR] = $0 } END { print l[n + 1] }' \
		"$T/ng.json" |
		sed -n 's/^{"type":"persona","name":"[^"]*","text":"\(.*\)"}$/\1/p')
	if [ -s "$T/ng.lines" ] && grep -q -x -F -- "$got" "$T/ng.lines" &&
	   grep '"type":"turn"' "$T/ng.json" | tail -1 | grep -q '"missed":false'
	then ok
	else bad "$sc: invented quote answered '$got'"
	fi
done

# --- the other commands -------------------------------------------------------
$BIN scenarios --json >"$T/sc.json"
check "scenarios --json lists six" test "$(grep -o '"id"' "$T/sc.json" | wc -l)" -ge 6
$BIN graph moeder-brief >"$T/g.dot"
check "graph is dot" has "$T/g.dot" "^digraph"
$BIN play nietbestaand </dev/null >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "unknown scenario: exit status"
$BIN bogus >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "unknown command: exit status"
$BIN bench libs >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "bench libs without a URL: exit status"
$BIN bench libs http://127.0.0.1:9/ >"$T/libs.txt" 2>&1
rc=$?
[ $rc -eq 1 ] && has "$T/libs.txt" "HTTP 0 from" &&
	has "$T/libs.txt" "RssFile [0-9]* kB" && ok ||
	bad "bench libs, nobody listening: exit $rc, $(cat "$T/libs.txt")"

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
