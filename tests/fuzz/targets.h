/* targets.h - the body of every fuzz target, one function per target.
 *
 * Included by the libFuzzer programs in tests/fuzz/ (built by
 * tests/fuzz.sh with clang) and by tests/test_fuzz_regress.c (built by
 * the Makefile with any compiler), so a crash fixture in
 * tests/data/fuzz/<target>/ is replayed through exactly the code that
 * found it.
 *
 * fuzz_<target>_input(data, size) is what the fuzzer calls: inputs over
 * FUZZ_MAX_INPUT are skipped so one input costs milliseconds.
 * fuzz_<target>_run() has no size cap: the regression test feeds it
 * generated big inputs (the modules bound their own work).
 *
 * Besides "does not crash, leak or hit undefined behaviour", each target
 * checks the contract its header promises and abort()s when it does not
 * hold, so a broken promise shows up as a crash with a message.
 *
 * Paths: the script target names its input <root>/scripts/fuzz-invoer.oef
 * so that `gebruik "gedeeld/begrippen.oef"` finds the shipped library;
 * root is $OEF_ROOT or ".". Inputs that could include something outside
 * scripts/ (an absolute path or "../") are skipped: a fuzzer that finds
 * `gebruik "/dev/stdin"` would hang, not crash.
 */
#ifndef OEF_FUZZ_TARGETS_H
#define OEF_FUZZ_TARGETS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "match.h"
#include "norm.h"
#include "persona.h"
#include "script.h"
#include "util.h"

#define FUZZ_MAX_INPUT (64 * 1024)  /* bytes; larger inputs are skipped */
#define FUZZ_MAX_EXAMPLES 64        /* ja:/nee: lines matched per script */

/* Each program uses some of these; unused is not a mistake. */
#define FUZZ_FN static __attribute__((unused))

FUZZ_FN void fuzz_fail(const char *target, const char *what)
{
	fprintf(stderr, "fuzz %s: broken promise: %s\n", target, what);
	abort();
}

#define FUZZ_CHECK(target, cond) \
	do { \
		if (!(cond)) \
			fuzz_fail((target), #cond); \
	} while (0)

FUZZ_FN const char *fuzz_root(void)
{
	const char *root = getenv("OEF_ROOT");

	return root && *root ? root : ".";
}

/* What the trainee says in every script target run. */
static const char *const fuzz_sentences[] = {
	"Goedemiddag, hoe gaat het met u? Ik ben Lotte.",
	"Wat bedoelt u met OTS? Ik wil graag uw kant van het verhaal horen.",
	"U hoeft niet bang te zijn, we komen m'n kinderen niet weghalen!",
};

/* The persona messages of one engine call keep the promises of
 * engine.h. */
FUZZ_FN void fuzz_check_out(const char *target, const struct script *s,
			    const struct engine_out *out, int text_utf8)
{
	FUZZ_CHECK(target, out->nmsgs <= SCRIPT_MAX_MSGS);
	FUZZ_CHECK(target, out->node < s->nnodes);
	FUZZ_CHECK(target, out->from < s->nnodes);
	FUZZ_CHECK(target, out->ended == (s->nodes[out->node].kind ==
					  NODE_EINDE));
	for (size_t i = 0; i < out->nrules; i++)
		FUZZ_CHECK(target, out->rules[i] < s->nrules);
	for (size_t i = 0; i < out->npoints; i++)
		FUZZ_CHECK(target, out->points[i].point < s->npoints);
	for (size_t i = 0; i < out->nmsgs; i++) {
		const struct sbuf *m = &out->msgs[i];

		/* Script lines are valid UTF-8 without NUL, and {woord}
		 * quotes the trainee cleaned of control characters and
		 * invalid bytes (fixture norm/woord-nul-byte.txt), so every
		 * message is clean whatever the input. */
		(void)text_utf8;
		FUZZ_CHECK(target, strlen(sbuf_str(m)) == m->len);
		FUZZ_CHECK(target, utf8_valid(sbuf_str(m), m->len));
	}
}

/* A saved state restores into a fresh engine and saves the same. */
FUZZ_FN void fuzz_check_save(const char *target, const struct engine *e)
{
	struct engine *r = engine_new(engine_script(e), 99);
	struct sbuf a, b;
	struct err err;

	sbuf_init(&a);
	sbuf_init(&b);
	engine_save(e, &a);
	FUZZ_CHECK(target, engine_restore(r, sbuf_str(&a), &err) == 0);
	engine_save(r, &b);
	FUZZ_CHECK(target, strcmp(sbuf_str(&a), sbuf_str(&b)) == 0);
	FUZZ_CHECK(target, engine_node(r) == engine_node(e));
	FUZZ_CHECK(target, engine_ended(r) == engine_ended(e));
	sbuf_release(&a);
	sbuf_release(&b);
	engine_free(r);
}

/* --- script: the scenario parser, then a few turns of the engine ---- */

/* Could this input make the parser open a file outside scripts/? */
FUZZ_FN int fuzz_script_escapes(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 1 < size; i++) {
		if (data[i] == '"' && data[i + 1] == '/')
			return 1;
		if (i + 2 < size && data[i] == '.' && data[i + 1] == '.' &&
		    data[i + 2] == '/')
			return 1;
	}
	return 0;
}

/* The ja:/nee: examples, matched as `check` does (without its walk). */
FUZZ_FN void fuzz_script_examples(const struct script *s, struct match *m)
{
	size_t done = 0;

	for (size_t i = 0; i < s->nintents; i++) {
		const struct intent *in = &s->intents[i];

		for (size_t j = 0; j < in->nexamples; j++) {
			int hit;

			if (done++ >= FUZZ_MAX_EXAMPLES)
				return;
			hit = match_intent(m, s, (uint32_t)i,
					   in->examples[j].text);
			FUZZ_CHECK("script", hit == 0 || hit == 1);
		}
	}
}

/* Start a conversation and say the fixed sentences, then the first few
 * ja: examples (they move the conversation on). */
FUZZ_FN void fuzz_script_play(const struct script *s, struct match *m)
{
	struct engine_out out;
	struct engine *e, *c;
	size_t turns = 0;

	engine_out_init(&out);
	e = engine_new(s, 1);
	engine_start(e, &out);
	fuzz_check_out("script", s, &out, 1);
	for (size_t i = 0; i < ARRAY_LEN(fuzz_sentences); i++) {
		const char *t = fuzz_sentences[i];

		if (engine_turn(e, m, t, strlen(t), &out) < 0)
			break;
		fuzz_check_out("script", s, &out, 1);
	}
	for (size_t i = 0; i < s->nintents && turns < 3; i++) {
		const struct intent *in = &s->intents[i];
		const char *t;

		if (!in->nexamples || !in->examples[0].should_match)
			continue;
		t = in->examples[0].text;
		turns++;
		if (engine_turn(e, m, t, strlen(t), &out) < 0)
			break;
		fuzz_check_out("script", s, &out, 1);
	}
	fuzz_check_save("script", e);
	c = engine_clone(e);
	FUZZ_CHECK("script", engine_state_hash(c) == engine_state_hash(e));
	engine_free(c);
	engine_free(e);
	engine_out_release(&out);
}

FUZZ_FN void fuzz_script_run(const uint8_t *data, size_t size)
{
	struct script *s = (struct script *)&fuzz_sentences;  /* sentinel */
	struct match m;
	struct diag d;
	struct sbuf name;
	int rc;

	if (fuzz_script_escapes(data, size))
		return;
	sbuf_init(&name);
	sbuf_addf(&name, "%s/scripts/fuzz-invoer.oef", fuzz_root());
	diag_init(&d);
	match_init(&m);
	rc = script_load_text(sbuf_str(&name), (const char *)data, size, &s,
			      &d);
	if (rc < 0) {
		/* every failure says why, and *out is NULL */
		FUZZ_CHECK("script", rc == -1);
		FUZZ_CHECK("script", s == NULL);
		FUZZ_CHECK("script", d.n > 0);
		goto out;
	}
	FUZZ_CHECK("script", rc == 0 && s != NULL);
	FUZZ_CHECK("script", d.n == 0);
	fuzz_script_examples(s, &m);
	if (s->id) {
		/* a scenario, not a library file: it can be played */
		FUZZ_CHECK("script", s->start < s->nnodes);
		fuzz_script_play(s, &m);
	}
	script_free(s);
out:
	for (size_t i = 0; i < d.n; i++)
		FUZZ_CHECK("script", d.msgs[i] != NULL);
	match_release(&m);
	diag_release(&d);
	sbuf_release(&name);
}

FUZZ_FN void fuzz_script_input(const uint8_t *data, size_t size)
{
	if (size <= FUZZ_MAX_INPUT)
		fuzz_script_run(data, size);
}

/* --- norm: the normaliser, the matcher and the engine on any text -- */

/* A scenario that uses every kind of pattern, a rule that says
 * {woord} back, and every kind of action: the trainee input is what
 * varies. */
static const char fuzz_norm_script[] =
	"scenario fuzz\n"
	"titel: Alles door elkaar\n"
	"persona: sandra\n"
	"moeilijkheid: 2\n"
	"begin: start\n"
	"inleiding:\n"
	"> Een proefgesprek voor de fuzzer.\n"
	"var vertrouwen = 3 (0..10)\n"
	"var spanning = 4 (0..10)\n"
	"var gezien = 0 (0..1)\n"
	"punt begrip-taal: Nagaan of je elkaar begrijpt\n"
	"punt vertrouwen: Echt luisteren\n"
	"begrip jargon = ots, gi, vt, ondertoezichtstelling*,\n"
	"    plan van aanpak, veiligheidsplan*\n"
	"begrip kind = kind, kinderen, zoon, dochter, daan\n"
	"begrip zorg = ~kind, zorg*, (bang | ongerust)\n"
	"bedoeling groet\n"
	"  patroon: (hallo | goedemiddag | dag) [(mevrouw | sandra)]\n"
	"  ja: Goedemiddag Sandra.\n"
	"bedoeling vraagt-hoe\n"
	"  patroon: hoe gaat het [met] (je | jullie | ~kind)\n"
	"  patroon: <hoe ~zorg>\n"
	"  ja: Hoe gaat het met u?\n"
	"  nee: Het gaat niet.\n"
	"bedoeling jargon\n"
	"  patroon: ~jargon\n"
	"  ontkenning: nee\n"
	"  ja: Er komt geen OTS.\n"
	"bedoeling druk\n"
	"  patroon: je (moet | dient) * (doen | meewerken)\n"
	"  patroon: verplicht*\n"
	"  ja: U moet meewerken.\n"
	"  nee: U bent niet verplicht.\n"
	"bedoeling luistert\n"
	"  patroon: (je | jouw) (kant | verhaal)\n"
	"  patroon: vertel* * (wat | hoe) * (gebeurd | ging)\n"
	"  patroon: <ik ~zorg [heel] (begrijp* | snap*)>\n"
	"  ja: Ik wil uw kant horen.\n"
	"regel jargon-vraagt-uitleg\n"
	"  als jargon\n"
	"  spanning +1\n"
	"  punt begrip-taal gemist \"vakterm zonder uitleg\"\n"
	"  onderbreek\n"
	"  zeg\n"
	"  - Wacht even. Wat bedoelt u met {woord}?\n"
	"  - {woord}? Wat is {woord}?\n"
	"regel boos\n"
	"  zodra spanning >= 8\n"
	"  eenmalig\n"
	"  zeg\n"
	"  - Nu is het genoeg.\n"
	"fase start\n"
	"  zeg\n"
	"  - Goedemiddag.\n"
	"  + Komt u maar.\n"
	"  als groet of vraagt-hoe\n"
	"    vertrouwen +1\n"
	"    zeg\n"
	"    - [vertrouwen >= 5] Het gaat wel, {woord}.\n"
	"    - Gaat wel.\n"
	"    naar midden\n"
	"  als druk en niet luistert\n"
	"    spanning +3\n"
	"    zeg\n"
	"    - Ho even.\n"
	"  zodra spanning >= 10\n"
	"    naar weg\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm?\n"
	"  anders\n"
	"    spanning +1\n"
	"    zeg\n"
	"    - Wat wilt u nou?\n"
	"fase midden\n"
	"  als luistert en (vertrouwen >= 4 of gemist < 2)\n"
	"    gezien = 1\n"
	"    punt vertrouwen getoond\n"
	"    zeg\n"
	"    - Oké. {woord}, zegt u.\n"
	"    naar goed\n"
	"  zodra beurt > 6\n"
	"    naar weg\n"
	"standaard\n"
	"  als druk\n"
	"    spanning +2\n"
	"    vertrouwen -1\n"
	"    zeg\n"
	"    - Dat zegt iedereen.\n"
	"  anders\n"
	"    zeg\n"
	"    - Pardon?\n"
	"einde goed goed\n"
	"  zeg\n"
	"  - Goed, volgende week dan.\n"
	"  uitleg: Ze voelt zich gehoord.\n"
	"einde weg breuk\n"
	"  zeg\n"
	"  - Ik ga.\n"
	"  uitleg: Ze stapt op.\n";

/* Loaded on first use; fuzz_norm_cleanup() frees it. */
static struct script *fuzz_norm_script_loaded;

FUZZ_FN const struct script *fuzz_norm_scenario(void)
{
	struct diag d;

	if (fuzz_norm_script_loaded)
		return fuzz_norm_script_loaded;
	diag_init(&d);
	if (script_load_text("fuzz.oef", fuzz_norm_script,
			     sizeof(fuzz_norm_script) - 1,
			     &fuzz_norm_script_loaded, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
		fuzz_fail("norm", "the fixed scenario loads");
	}
	diag_release(&d);
	return fuzz_norm_script_loaded;
}

FUZZ_FN void fuzz_norm_cleanup(void)
{
	script_free(fuzz_norm_script_loaded);
	fuzz_norm_script_loaded = NULL;
}

/* The tokens keep the promises of norm.h. */
FUZZ_FN void fuzz_norm_check(const struct norm *n, size_t ntok,
			     size_t size)
{
	uint32_t clause = 0;

	FUZZ_CHECK("norm", ntok == n->ntok);
	FUZZ_CHECK("norm", ntok <= NORM_MAX_TOKENS);
	for (size_t i = 0; i < ntok; i++) {
		const struct norm_token *t = &n->tok[i];

		FUZZ_CHECK("norm", t->len > 0);
		FUZZ_CHECK("norm", strlen(t->word) == t->len);
		FUZZ_CHECK("norm", utf8_valid(t->word, t->len));
		for (uint32_t k = 0; k < t->len; k++) {
			char ch = t->word[k];

			FUZZ_CHECK("norm", !(ch >= 'A' && ch <= 'Z'));
			FUZZ_CHECK("norm", !strchr(" \t\n.?!,;:'-", ch));
		}
		FUZZ_CHECK("norm", t->clause >= clause);
		clause = t->clause;
		FUZZ_CHECK("norm", t->src_len > 0);
		FUZZ_CHECK("norm", (size_t)t->src_start + t->src_len <= size);
		if (i)
			FUZZ_CHECK("norm", t->src_start >=
				   n->tok[i - 1].src_start +
				   n->tok[i - 1].src_len);
		FUZZ_CHECK("norm", norm_is_negation(t->word) == 0 ||
			   norm_is_negation(t->word) == 1);
	}
}

/* Normalising normalised words changes nothing: patterns and messages go
 * through the same function, so a pattern word must survive it. */
FUZZ_FN void fuzz_norm_idempotent(const struct norm *n, size_t ntok)
{
	struct norm again;
	struct sbuf sb;
	size_t k;

	norm_init(&again);
	sbuf_init(&sb);
	for (size_t i = 0; i < ntok; i++) {
		if (i)
			sbuf_addc(&sb, ' ');
		sbuf_add(&sb, n->tok[i].word, n->tok[i].len);
	}
	k = norm_run(&again, sbuf_str(&sb), sb.len);
	FUZZ_CHECK("norm", k == ntok);
	for (size_t i = 0; i < k; i++)
		FUZZ_CHECK("norm", strcmp(again.tok[i].word,
					  n->tok[i].word) == 0);
	sbuf_release(&sb);
	norm_release(&again);
}

FUZZ_FN void fuzz_norm_run(const uint8_t *data, size_t size)
{
	const struct script *s = fuzz_norm_scenario();
	const char *text = (const char *)data;
	int text_utf8 = utf8_valid(text, size) && !memchr(text, '\0', size);
	struct engine_out out;
	struct engine *e;
	struct match m;
	struct norm n;
	size_t ntok;

	norm_init(&n);
	ntok = norm_run(&n, text, size);
	fuzz_norm_check(&n, ntok, size);
	fuzz_norm_idempotent(&n, ntok);
	norm_release(&n);

	match_init(&m);
	match_run(&m, s, text, size);
	FUZZ_CHECK("norm", m.script == s);
	for (size_t i = 0; i < s->nintents; i++) {
		FUZZ_CHECK("norm", m.hit[i] == 0 || m.hit[i] == 1);
		/* a span means something only for an intent that matched */
		if (m.hit[i])
			FUZZ_CHECK("norm", (size_t)m.span[i].start +
				   m.span[i].len <= size);
	}

	/* the same text as the first and the second message */
	engine_out_init(&out);
	e = engine_new(s, 7);
	engine_start(e, &out);
	for (int turn = 0; turn < 2; turn++) {
		if (engine_turn(e, &m, text, size, &out) < 0)
			break;
		fuzz_check_out("norm", s, &out, text_utf8);
	}
	fuzz_check_save("norm", e);
	engine_free(e);
	engine_out_release(&out);
	match_release(&m);
}

FUZZ_FN void fuzz_norm_input(const uint8_t *data, size_t size)
{
	if (size <= FUZZ_MAX_INPUT)
		fuzz_norm_run(data, size);
}

/* --- persona: the persona loader ------------------------------------ */

/* The input is the file "fuzz.json": its id must be "fuzz" to get past
 * the id check (tests/fuzz.sh rewrites the seeds' ids). */
#define FUZZ_PERSONA_NAME "fuzz.json"

/* persona.h: every string is valid UTF-8 and non-empty; only the long
 * texts may hold newlines and tabs, no field other control characters. */
FUZZ_FN void fuzz_persona_text(const char *s, int multiline)
{
	size_t len;

	FUZZ_CHECK("persona", s != NULL);
	len = strlen(s);
	FUZZ_CHECK("persona", len > 0);
	FUZZ_CHECK("persona", utf8_valid(s, len));
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (multiline && (ch == '\n' || ch == '\t'))
			continue;
		FUZZ_CHECK("persona", ch >= 0x20 && ch != 0x7f);
	}
}

FUZZ_FN void fuzz_persona_run(const uint8_t *data, size_t size)
{
	struct persona *p = NULL;
	struct err err;
	int rc;

	err.msg[0] = '\0';
	rc = persona_load_text(FUZZ_PERSONA_NAME, (const char *)data, size,
			       &p, &err);
	if (rc < 0) {
		FUZZ_CHECK("persona", rc == -1 && p == NULL);
		FUZZ_CHECK("persona", memchr(err.msg, '\0', sizeof(err.msg)));
		FUZZ_CHECK("persona", strncmp(err.msg, FUZZ_PERSONA_NAME,
					      strlen(FUZZ_PERSONA_NAME)) == 0);
		return;
	}
	FUZZ_CHECK("persona", rc == 0 && p != NULL);
	FUZZ_CHECK("persona", strcmp(p->path, FUZZ_PERSONA_NAME) == 0);
	FUZZ_CHECK("persona", strcmp(p->id, "fuzz") == 0);
	fuzz_persona_text(p->name, 0);
	fuzz_persona_text(p->display_name, 0);
	fuzz_persona_text(p->situation, 1);
	fuzz_persona_text(p->speech, 1);
	FUZZ_CHECK("persona", strcmp(persona_role_name(p->role), "?") != 0);
	FUZZ_CHECK("persona", p->age >= 4 && p->age <= 99);
	FUZZ_CHECK("persona", p->nsources >= 1 &&
		   p->nsources <= PERSONA_MAX_SOURCES);
	for (size_t i = 0; i < p->nsources; i++) {
		fuzz_persona_text(p->sources[i].section, 0);
		fuzz_persona_text(p->sources[i].quote, 1);
	}
	persona_free(p);
}

FUZZ_FN void fuzz_persona_input(const uint8_t *data, size_t size)
{
	if (size <= FUZZ_MAX_INPUT)
		fuzz_persona_run(data, size);
}

#endif
