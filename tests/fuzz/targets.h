/* targets.h - the body of every fuzz target, one function per target.
 *
 * Included by the libFuzzer programs in tests/fuzz/ (built by
 * tests/fuzz/fuzz.sh with clang) and by tests/unit/test_fuzz_regress.c (built by
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
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bot.h"
#include "clause.h"
#include "config.h"
#include "corpus.h"
#include "e2ee.h"
#include "engine.h"
#include "lang.h"
#include "lexicon.h"
#include "match.h"
#include "model.h"
#include "mx.h"
#include "norm.h"
#include "persona.h"
#include "script.h"
#include "store.h"
#include "util.h"

#include "../unit/scenario_small.h"

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

/* --- text: stems, lexicon, clauses, acts, language (issue 11) ------- */

/* A shipped scenario, for a lexicon of real pattern words: loaded on
 * first use, fuzz_text_cleanup() frees it. */
static struct script *fuzz_text_script_loaded;

FUZZ_FN const struct script *fuzz_text_scenario(void)
{
	struct diag d;
	struct sbuf path;

	if (fuzz_text_script_loaded)
		return fuzz_text_script_loaded;
	diag_init(&d);
	sbuf_init(&path);
	sbuf_addf(&path, "%s/scripts/moeder-brief.oef", fuzz_root());
	if (script_load(path.buf, &fuzz_text_script_loaded, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
		fuzz_fail("text", "scripts/moeder-brief.oef loads");
	}
	sbuf_release(&path);
	diag_release(&d);
	return fuzz_text_script_loaded;
}

FUZZ_FN void fuzz_text_cleanup(void)
{
	script_free(fuzz_text_script_loaded);
	fuzz_text_script_loaded = NULL;
}

/* The clauses of the last match_run keep the promises of clause.h. */
FUZZ_FN void fuzz_text_clauses(const struct match *m, size_t size)
{
	size_t ntok = m->norm.ntok, next = 0, prev_end = 0;

	FUZZ_CHECK("text", m->nclause <= (ntok ? ntok : 1));
	FUZZ_CHECK("text", ntok == 0 || m->nclause > 0);
	for (size_t c = 0; c < m->nclause; c++) {
		const struct match_clause *cl = &m->clause[c];

		FUZZ_CHECK("text", cl->tok == next && cl->ntok > 0);
		FUZZ_CHECK("text", cl->act < MATCH_NACTS);
		FUZZ_CHECK("text", cl->negated <= 1 && cl->reported <= 1 &&
			   cl->conditional <= 1);
		FUZZ_CHECK("text", cl->start >= prev_end);
		FUZZ_CHECK("text", (size_t)cl->start + cl->len <= size);
		for (uint32_t k = cl->tok; k < cl->tok + cl->ntok; k++) {
			const struct norm_token *t = &m->norm.tok[k];

			FUZZ_CHECK("text", m->tok_clause[k] == c);
			FUZZ_CHECK("text", t->src_start >= cl->start &&
				   t->src_start + t->src_len <=
				   cl->start + cl->len);
		}
		next = cl->tok + cl->ntok;
		prev_end = cl->start + cl->len;
	}
	FUZZ_CHECK("text", next == ntok);
}

FUZZ_FN void fuzz_text_run(const uint8_t *data, size_t size)
{
	const struct script *s = fuzz_text_scenario();
	const char *text = (const char *)data;
	struct match m, again;
	char stem[80];    /* a word is at most 64 bytes (norm.c) */

	match_init(&m);
	match_init(&again);
	match_run(&m, s, text, size);
	fuzz_text_clauses(&m, size);
	for (size_t i = 0; i < m.norm.ntok; i++) {
		const struct norm_token *t = &m.norm.tok[i];
		enum lexicon_how how;
		uint32_t c;

		/* the stem: a string no longer than the word, itself
		 * again when stemmed */
		FUZZ_CHECK("text", t->stem && strlen(t->stem) ==
			   t->stem_len && t->stem_len <= t->len);
		FUZZ_CHECK("text", norm_stem(t->word, t->len, stem) ==
			   t->stem_len && !memcmp(stem, t->stem,
						  t->stem_len));
		/* the lexicon: a class exactly when it says how */
		c = lexicon_find(&s->lex, t->word, t->len, t->stem,
				 t->stem_len, &how);
		/* a 'moet' of supposition reads as 'lijkt' (match.c), with
		 * no lexicon how of its own */
		if (clause_is_supposition(&m.norm, i))
			FUZZ_CHECK("text", m.how[i] == LEXICON_NONE &&
				   m.ids[i] <= s->lex.ncls);
		else
			FUZZ_CHECK("text", c == m.ids[i] && how == m.how[i]);
		FUZZ_CHECK("text", c <= s->lex.ncls);
		FUZZ_CHECK("text", (c == 0) == (how == LEXICON_NONE));
		FUZZ_CHECK("text", how <= LEXICON_COMPOUND);
		if (i > 0) {
			const struct norm_token *u = &m.norm.tok[i - 1];

			FUZZ_CHECK("text", lexicon_one_off(t->word, t->len,
							   u->word, u->len) ==
				   lexicon_one_off(u->word, u->len, t->word,
						   t->len));
		}
	}
	/* another language: the whole message is, and no clause of it is
	 * Dutch (a mixed message is heard by its Dutch clauses) */
	{
		int dutch = 0;

		for (size_t c = 0; c < m.nclause; c++) {
			const struct match_clause *cl = &m.clause[c];
			size_t en, nl;
			int l;

			lang_count(&m.norm, cl->tok, cl->tok + cl->ntok, &en,
				   &nl);
			l = lang_judge(en, nl);

			dutch |= l < 0;
			FUZZ_CHECK("text", cl->other_lang == (l > 0));
		}
		FUZZ_CHECK("text", m.lang_other ==
			   (lang_is_other(&m.norm) && !dutch));
	}
	/* a clause counts when it is neither English nor about the
	 * rehearsal (clause.h), and unheard says none does */
	{
		size_t heard = 0;

		for (size_t c = 0; c < m.nclause; c++)
			heard += !m.clause[c].other_lang &&
				 !m.clause[c].offstage;
		FUZZ_CHECK("text", m.unheard == !heard);
	}
	for (size_t i = 0; i < s->nintents; i++) {
		if (!m.hit[i])
			continue;
		/* another language matches andere-taal and nothing else */
		FUZZ_CHECK("text", !m.lang_other ||
			   (int)i == s->other_language);
		FUZZ_CHECK("text", m.lang_other ||
			   m.hit_clause[i] < m.nclause);
		/* no pattern or model hit in an English clause, or in one
		 * about the rehearsal */
		FUZZ_CHECK("text", m.lang_other ||
			   !m.clause[m.hit_clause[i]].other_lang);
		FUZZ_CHECK("text", m.lang_other ||
			   !m.clause[m.hit_clause[i]].offstage);
		FUZZ_CHECK("text", match_hit_act(&m, (uint32_t)i, 0));
	}
	/* the same text again, in fresh scratch: the same answer */
	match_run(&again, s, text, size);
	FUZZ_CHECK("text", again.nclause == m.nclause &&
		   again.lang_other == m.lang_other);
	FUZZ_CHECK("text", !m.nclause || !memcmp(again.clause, m.clause,
						 m.nclause *
						 sizeof(*m.clause)));
	FUZZ_CHECK("text", !memcmp(again.hit, m.hit, s->nintents));
	match_release(&again);
	match_release(&m);
}

FUZZ_FN void fuzz_text_input(const uint8_t *data, size_t size)
{
	if (size <= FUZZ_MAX_INPUT)
		fuzz_text_run(data, size);
}

/* --- corpus: the labelled-corpus parser, then the learned matcher -- */

/* A scenario the corpus is resolved against: its names are what a
 * fuzzed corpus can hit. Loaded on first use; fuzz_corpus_cleanup()
 * frees it. */
static const char fuzz_corpus_script[] =
	"scenario fuzz\ntitel: Fuzz\npersona: p\ninleiding:\n> x\n"
	"var vertrouwen = 3 (0..10)\nvar spanning = 5 (0..10)\n"
	"punt vertrouwen: Vertrouwen\npunt locatie: Locatie\n"
	"bedoeling groet\n  patroon: (hallo | dag)\n  ja: Hallo.\n"
	"bedoeling vraagt\n  patroon: hoe gaat het\n  ja: Hoe gaat het?\n"
	"  nee: Hoe laat is het?\n"
	"fase f\n  zeg\n  - Hoi.\n  als vraagt\n    zeg\n    - Goed.\n";
static struct script *fuzz_corpus_script_loaded;

FUZZ_FN void fuzz_corpus_cleanup(void)
{
	script_free(fuzz_corpus_script_loaded);
	fuzz_corpus_script_loaded = NULL;
}

/* The hits and confidences of md on text, into hit and conf (room for
 * s->nintents each). */
static void fuzz_model_on(const struct script *s, const struct model *md,
			  struct match *m, const char *t, uint8_t *hit,
			  float *conf)
{
	match_run(m, s, t, strlen(t));
	model_run(md, m, t, strlen(t));
	memcpy(hit, m->hit, s->nintents);
	memcpy(conf, m->conf, s->nintents * sizeof(float));
}

/* mcache.h: a model written and read back scores every turn as the
 * trained one did; the same bytes with one byte changed (where and how
 * the input says) are refused, or make a model that runs. */
static void fuzz_corpus_kept(const struct script *s, const struct model *md,
			     const struct corpus *c, const uint8_t *data,
			     size_t size)
{
	const char *T = "corpus";
	uint8_t *h1 = xcalloc(s->nintents + 1, 1);
	uint8_t *h2 = xcalloc(s->nintents + 1, 1);
	float *c1 = xcalloc(s->nintents + 1, sizeof(float));
	float *c2 = xcalloc(s->nintents + 1, sizeof(float));
	struct model *back;
	struct match m;
	struct sbuf sb;

	sbuf_init(&sb);
	model_write(md, &sb);
	back = model_read(s, sb.buf, sb.len);
	FUZZ_CHECK(T, back != NULL);
	match_init(&m);
	for (size_t i = 0; i < c->nturns && i < 16; i++) {
		fuzz_model_on(s, md, &m, c->turns[i].text, h1, c1);
		fuzz_model_on(s, back, &m, c->turns[i].text, h2, c2);
		FUZZ_CHECK(T, memcmp(h1, h2, s->nintents) == 0);
		FUZZ_CHECK(T, memcmp(c1, c2, s->nintents * sizeof(float)) ==
			   0);
	}
	model_free(back);
	if (sb.len && size) {
		size_t at = (size * 2654435761u) % sb.len;

		sb.buf[at] = (char)(sb.buf[at] ^ (data[size / 2] | 1));
		back = model_read(s, sb.buf, sb.len);
		if (back && c->nturns)
			fuzz_model_on(s, back, &m, c->turns[0].text, h2, c2);
		model_free(back);
	}
	match_release(&m);
	sbuf_release(&sb);
	free(h1);
	free(h2);
	free(c1);
	free(c2);
}

/* corpus.h: a parsed corpus is whole (conversations cover the turns in
 * order, every turn has text); a failed one says why; a resolved one
 * names only what the script has; the matcher learned from it keeps
 * match.h's promises. */
FUZZ_FN void fuzz_corpus_run(const uint8_t *data, size_t size)
{
	const char *T = "corpus";
	struct script *s;
	struct corpus c;
	struct diag d;
	struct model *md;
	struct match m;
	size_t next = 0;
	int rc;

	if (!fuzz_corpus_script_loaded) {
		diag_init(&d);
		FUZZ_CHECK(T, script_load_text("fuzz.oef", fuzz_corpus_script,
					       strlen(fuzz_corpus_script),
					       &fuzz_corpus_script_loaded,
					       &d) == 0);
		diag_release(&d);
	}
	s = fuzz_corpus_script_loaded;
	diag_init(&d);
	rc = corpus_parse(&c, "fuzz.txt", (const char *)data, size, &d);
	FUZZ_CHECK(T, (rc < 0) == (d.n > 0));
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < c.nconvs; i++) {
		FUZZ_CHECK(T, c.convs[i].first == next);
		FUZZ_CHECK(T, c.convs[i].nturns > 0);
		FUZZ_CHECK(T, c.convs[i].style < CORPUS_NSTYLES);
		next += c.convs[i].nturns;
	}
	FUZZ_CHECK(T, next == c.nturns);
	for (size_t i = 0; i < c.nturns; i++) {
		FUZZ_CHECK(T, c.turns[i].text && c.turns[i].text[0]);
		FUZZ_CHECK(T, utf8_valid(c.turns[i].text,
					 strlen(c.turns[i].text)));
	}
	if (corpus_resolve(&c, s, &d) < 0) {
		FUZZ_CHECK(T, d.n > 0);
		goto out;
	}
	for (size_t i = 0; i < c.nturns; i++) {
		for (size_t j = 0; j < c.turns[i].nintents; j++)
			FUZZ_CHECK(T, c.turns[i].intent_ix[j] < s->nintents);
		for (size_t j = 0; j < c.turns[i].nmeters; j++)
			FUZZ_CHECK(T, c.turns[i].meters[j].var < s->nvars);
		for (size_t j = 0; j < c.turns[i].npoints; j++)
			FUZZ_CHECK(T, c.turns[i].points[j].point < s->npoints);
	}
	/* learn from it, as a scenario with 'leervoorbeelden:' would,
	 * and match its own turns with what was learned */
	md = model_train(s, &c);
	FUZZ_CHECK(T, md != NULL);
	FUZZ_CHECK(T, model_info(md)->ncorpus == c.nturns);
	FUZZ_CHECK(T, model_info(md)->nlearned <= s->nintents);
	FUZZ_CHECK(T, model_info(md)->fires == (c.nturns > 0));
	match_init(&m);
	for (size_t i = 0; i < c.nturns && i < 16; i++) {
		const char *t = c.turns[i].text;

		match_run(&m, s, t, strlen(t));
		model_run(md, &m, t, strlen(t));
		for (uint32_t k = 0; k < s->nintents; k++) {
			if (!m.hit[k])
				continue;
			FUZZ_CHECK(T, m.hit_how[k] == MATCH_BY_PATTERN ||
				   m.hit_how[k] == MATCH_BY_MODEL);
			FUZZ_CHECK(T, m.conf[k] >= 0.0f && m.conf[k] <= 1.0f);
			FUZZ_CHECK(T, m.span[k].start + m.span[k].len <=
				   strlen(t));
		}
	}
	match_release(&m);
	fuzz_corpus_kept(s, md, &c, data, size);
	model_free(md);
out:
	corpus_release(&c);
	diag_release(&d);
}

FUZZ_FN void fuzz_corpus_input(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return;
	fuzz_corpus_run(data, size);
}

/* --- persona: the persona loader ------------------------------------ */


/* The input is the file "fuzz.json": its id must be "fuzz" to get past
 * the id check (tests/fuzz/fuzz.sh rewrites the seeds' ids). */
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


/* --- sync: a /sync body through the end-to-end encryption layer ---- */

/* The input is a /sync response body. mx_sync_parse makes typed events
 * of it (every event the parser keeps has a type, a sender and its JSON;
 * the gap count stays within the timeline), and they go through e2ee.h
 * as the bot (bot/app/event.c) takes them (e2ee_sync, then per joined
 * room its state and timeline events, each encrypted timeline event
 * decrypted),
 * then e2ee_take_ready and an e2ee_prepare per joined room, all inside
 * one transaction that is rolled back, so every input starts from the
 * same fixed state:
 *
 * - our device FUZZDEV of @bot:localhost with a fixed account (so seeds
 *   can hold Olm messages to it; one one-time key left for them);
 * - @alice:localhost's device ALICEDEV, known (as after /keys/query),
 *   with an Olm session that already has an answer from us (so her
 *   type 1 messages decrypt);
 * - !enc:localhost, encrypted, members fetched: Alice and the bot; our
 *   outbound Megolm session there, already shared with Alice, and its
 *   inbound copy;
 * - an event of Alice's Megolm session FUZZ_SYNC_MEGOLM_ID waiting for
 *   its key (the seeds olm-*-room-key.json bring it).
 *
 * The records mirror what e2ee.c stores (its header comment lists them);
 * test_fuzz_regress checks that the seeds still get deep, so a change
 * there shows up as a failing test, not as a fuzzer that quietly stops
 * reaching the decryption. The constants came from a one-off program on
 * crypto.h with FUZZ_SYNC_PICKLE_KEY (regenerate both together).
 *
 * The Matrix client and e2ee are made per input (e2ee_open inside the
 * transaction): requests are only queued, never sent, and would pile up
 * in one long-lived client, as would e2ee's in-memory "busy" marks that
 * make one input change what the next one does. */

#define FUZZ_SYNC_PICKLE_KEY "fuzz-pickle-key-0123456789"
#define FUZZ_SYNC_ROOM "!enc:localhost"
#define FUZZ_SYNC_ALICE "@alice:localhost"
#define FUZZ_SYNC_ME "@bot:localhost"
#define FUZZ_SYNC_MEGOLM "m.megolm.v1.aes-sha2"

#define FUZZ_SYNC_ACCOUNT \
	"oMULjLvfui9REoDPZSJdRis4xj0yGEiPjY0XXmWWuLMtH7O/fAKjQ+X4Z8ltD6lu" \
	"lrGiXkR6UJvtx9C29gijnEDPwzaI1y92JGWOAq7F01ebkjPuqTh2OGYMqT8w/6xi" \
	"r33PpVzNuFC3dnREW04jexXE2PEHxS88me6owQQjZQRcTaJEtu+oERlXfEt9jUai" \
	"wX4LZ27hj5TDYT8wsrsGq07wyvGcsDbng59KkSQ8g0pQAzSK5BILdCwz7LTVDuhz" \
	"/sw7kTYoga7RyP3wgFm/A0rLc1qD7QYFiEi8hzUvWCnXDkpKpRo46WLWtgCHMFYP" \
	"wtjEyW6vvfKBmPkaqhCvJQvNN0yR5fTRY2JyMehmIRyAbqBN6APQAbw2zZOgfwR6" \
	"tXvFdUVBF4L8TXlE8/m4kwULA9BFb2lY4KZFZ13xq7wTUX5ssRTFKLP7W1lfby78" \
	"dY4s7mDLKqoMBkV1woXbd2DUxvIX4bkD/ia5laRj6hskp342GSMFK6/S1WsU/BYV" \
	"LFcGyN6uxBo"
#define FUZZ_SYNC_CURVE \
	"Cg/Z1snHyW/KNIuspBDDYkPfozxz4RxxJne66SGvzGE"
#define FUZZ_SYNC_ED \
	"jalOQhUJnUulGETr9ysDuY8mmZBSjwSUNO6ZHgqlAjo"
#define FUZZ_SYNC_ALICE_CURVE \
	"p3uUFnF264lXmri66qmSSoQrx6Hya4HPAqIO/wNKjwo"
#define FUZZ_SYNC_ALICE_ED \
	"06DMoxXRpK06CzU9VXKOoPvLnU2vHLybvEuYo0YiXCY"
#define FUZZ_SYNC_OLM_ID \
	"P09Hzvv7vruFQ7aPbwmIye/uqAFoQAK1uOZ6thltWXU"
#define FUZZ_SYNC_OLM \
	"uUL6fWhNO4HE6USznLLeWu8UP/gFxokuVSKihuNNhuEw8PftBH61XdUw8YUOpKGp" \
	"ahNr0HRehcQC+37bly7UkwYDj6vNAOJz5tg+6A/QpNlUmgE0Qiap3E0KtP8VfDRE" \
	"cJ5tTf6UnxE8Fk3X8bTORRTcoX66YgmKTLkQJBr517haZuQHzxu8bSSFftOrYo5P" \
	"5B9YIYK+L7sYBZzMGpmflC2M18RByjOF0K8A9HG0L+l1z+StuTV8NuXUykFW7Ndn" \
	"7wqH0Jh/KokOIbZLhsr6p978wUOzUvxUxoxQKH5XvI1jQ0NTsn593x3Oo8Vu9Z55" \
	"7Fk3loStJ9OAPMA0J8bqxT4NJvEubEvfJuNIKmO+aqjeMEuxHd2Vm/xVupEXVlu+" \
	"rEqsGPuVnXQgQwwnGW0834IiCMW2osrM+SClD2lG2MS7Ilbp7jKlfA"
#define FUZZ_SYNC_WAIT_CIPHERTEXT \
	"AwgDEnBKa7DUP0sxsr7ZoPOiybCP92PZ1CMEt+PnjysvdTEb2HOFz9xhPlle5ABe" \
	"liPmsSd+KPl1Y/+eZHKryNJqrs98Z3GsWmOocOafUHv/caEVaba+9I+gEfHIKmZz" \
	"1Bwz9LGXMpswTffY2WaU5P9yFwiUdcvZGT9qIgQD6C/oyTZE+eq/BvinXqdltX8s" \
	"pcEedytS/PBWr08YZmB0QkSbJ1i4kCVGSbaMPRr9KKoL8mPJWAS6+Nr5oZUA"
#define FUZZ_SYNC_MEGOLM_ID \
	"Zf/trX3TTVzMeQbCkEU1MbyRtHUq8+gJCRb2Mj9jECo"
#define FUZZ_SYNC_OUT_ID \
	"bNLQX+DiwxLWiALrmw+S6uqV7y66fEZlE37FSBY+os8"
#define FUZZ_SYNC_OUT_IN \
	"xNBFNSgi8N5vwwQC49xZ5Bte4/wouMe5d0+1FSYsl7XU/gFhctvrUiTO79ym/l+1" \
	"h0CoDY8zCM5bHSAZUxv14dtaDH3QrrqqcjjnsSQvSbpube3aw0cPPhiCPWnjQylj" \
	"CS0hBZIs+evP62jY07ZfT4AQI/PlhS03rzXHJx4GKZaKaZlFPkZgG9tMFK0EwLJh" \
	"U8QHSE/eIBNpv4zCWiOmJ90VtYjbSv56O2T1uzSJQxnge36TtQ8AkigROod5LE5M" \
	"HVy2Ltfa/1wi3Dxwz+6dMzzCMJ/jtBaZv67mj+/6ZzZSs4+kvJ0PwO1eHpBqd1fT" \
	"PzeyLoqQqIN0raD5S4YLOyFiNhOo8ZRu9kRF8R8S5dKUaylTAL2XhtKjgOiDI3HO" \
	"yPml6xHBhuFCCWWoXwOOYqo2rBFiVlSk"
#define FUZZ_SYNC_OUT \
	"hxQjxwGO7jXPMyozOdwln3FdZ75/uY8QSldbietznpkNwMcBzHU+pvOeE390/iEa" \
	"Kq/Pu3JgdLYT3FvV6oh1MZMiSQLZ900CMm/xLl9UeKb9Y22zJXFUhHS1XnZenbqd" \
	"DqtXGfJlczrl2Xts6K3dZArojud7ezfC8Td/wn/p1SHSsiXHZ0vIhkZI3iMmUBdi" \
	"wMdCydD2e5hYklu58gb0rf+Q4MNQ4yEKLrA4RVraCg8MpK9m2MpoYdiBMWkDjWUt" \
	"u5axTU38Vkk/B3aygBQpWkXrzAZencBqtZCPaxjAEToGf/e2ssA4TgWJZGnyQGtL" \
	"2/7CliFJZ4k"
/* What the last runs reached (test_fuzz_regress: the seeds get deep). */
struct fuzz_sync_stats {
	size_t parsed;       /* inputs that were a sync body */
	size_t decrypted;    /* E2EE_OK */
	size_t waiting;      /* E2EE_WAITING and _FIRST */
	size_t rejected;     /* E2EE_REJECTED */
	size_t ready;        /* events e2ee_take_ready gave */
	size_t encrypted;    /* e2ee_prepare answers m.room.encrypted */
};

static struct fuzz_sync_stats fuzz_sync_stats;
static struct store *fuzz_sync_store;   /* fuzz_sync_cleanup() frees */
static struct config fuzz_sync_cfg;

FUZZ_FN void fuzz_sync_put(struct store *st, const char *kind,
			   const char *k1, const char *k2, const char *k3,
			   const char *value, int64_t n)
{
	struct store_crypto c = { (char *)kind, (char *)k1, (char *)k2,
				  (char *)k3, (char *)value, n };
	struct err err;

	if (store_crypto_put(st, &c, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		fuzz_fail("sync", "the fixed state is stored");
	}
}

FUZZ_FN void fuzz_sync_put_json(struct store *st, const char *kind,
				const char *k1, const char *k2,
				const char *k3, json_t *j, int64_t n)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	FUZZ_CHECK("sync", text != NULL);
	fuzz_sync_put(st, kind, k1, k2, k3, text, n);
	free(text);
	json_decref(j);
}

/* The in-memory store with the fixed state, made on first use. */
FUZZ_FN struct store *fuzz_sync_state(void)
{
	struct store *st;
	struct err err;
	char who[128];
	json_t *ev;

	if (fuzz_sync_store)
		return fuzz_sync_store;
	if (store_open(":memory:", &st, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		fuzz_fail("sync", "an in-memory store opens");
	}
	fuzz_sync_cfg.user_id = FUZZ_SYNC_ME;
	fuzz_sync_cfg.store = ":memory:";
	fuzz_sync_cfg.rotation_messages = 100;
	fuzz_sync_cfg.rotation_ms = 604800000;
	fuzz_sync_put(st, "account", NULL, NULL, NULL, FUZZ_SYNC_ACCOUNT, 0);
	fuzz_sync_put(st, "owner", NULL, NULL, NULL, "FUZZDEV", 0);
	fuzz_sync_put(st, "keys_up", NULL, NULL, NULL, "1", 0);
	fuzz_sync_put_json(st, "dev", FUZZ_SYNC_ALICE, "ALICEDEV", NULL,
			   json_pack("{s:s, s:s}", "c", FUZZ_SYNC_ALICE_CURVE,
				     "e", FUZZ_SYNC_ALICE_ED), 0);
	fuzz_sync_put(st, "track", FUZZ_SYNC_ALICE, NULL, NULL, "1", 0);
	fuzz_sync_put(st, "track", FUZZ_SYNC_ME, NULL, NULL, "1", 0);
	fuzz_sync_put(st, "olm", FUZZ_SYNC_ALICE_CURVE, FUZZ_SYNC_OLM_ID, NULL,
		      FUZZ_SYNC_OLM, now_ms());
	fuzz_sync_put_json(st, "enc", FUZZ_SYNC_ROOM, NULL, NULL,
			   json_pack("{s:s}", "algorithm", FUZZ_SYNC_MEGOLM),
			   0);
	fuzz_sync_put(st, "memok", FUZZ_SYNC_ROOM, NULL, NULL, "1", 0);
	fuzz_sync_put(st, "mem", FUZZ_SYNC_ROOM, FUZZ_SYNC_ALICE, NULL, "join",
		      0);
	fuzz_sync_put(st, "mem", FUZZ_SYNC_ROOM, FUZZ_SYNC_ME, NULL, "join",
		      0);
	/* created now: not due for rotation for a week */
	fuzz_sync_put(st, "mout", FUZZ_SYNC_ROOM, NULL, NULL, FUZZ_SYNC_OUT,
		      now_ms());
	fuzz_sync_put_json(st, "min", FUZZ_SYNC_ROOM, FUZZ_SYNC_CURVE,
			   FUZZ_SYNC_OUT_ID, json_pack("{s:s, s:s, s:s, s:i}",
			   "p", FUZZ_SYNC_OUT_IN, "s", FUZZ_SYNC_ME, "ed",
			   FUZZ_SYNC_ED, "v", 1), 0);
	snprintf(who, sizeof(who), "%s ALICEDEV", FUZZ_SYNC_ALICE);
	fuzz_sync_put(st, "shared", FUZZ_SYNC_ROOM, FUZZ_SYNC_OUT_ID, who, "1",
		      0);
	ev = json_pack("{s:s, s:s, s:s, s:i, s:{s:s, s:s, s:s, s:s, s:s}}",
		       "type", "m.room.encrypted", "sender", FUZZ_SYNC_ALICE,
		       "event_id", "$waiting", "origin_server_ts", 1,
		       "content", "algorithm", FUZZ_SYNC_MEGOLM,
		       "sender_key", FUZZ_SYNC_ALICE_CURVE,
		       "ciphertext", FUZZ_SYNC_WAIT_CIPHERTEXT,
		       "session_id", FUZZ_SYNC_MEGOLM_ID,
		       "device_id", "ALICEDEV");
	fuzz_sync_put_json(st, "wait", FUZZ_SYNC_MEGOLM_ID, "$waiting",
			   FUZZ_SYNC_ROOM, ev, now_ms());
	fuzz_sync_store = st;
	return st;
}

FUZZ_FN void fuzz_sync_cleanup(void)
{
	store_free(fuzz_sync_store);
	fuzz_sync_store = NULL;
}

/* A decrypted event: parsed, with a type and a sender, never state. */
FUZZ_FN void fuzz_sync_check_event(const struct mx_event *ev)
{
	FUZZ_CHECK("sync", json_is_object(ev->json));
	FUZZ_CHECK("sync", ev->type != NULL && ev->sender != NULL);
	FUZZ_CHECK("sync", ev->room != NULL);
	FUZZ_CHECK("sync", ev->state_key == NULL);
	FUZZ_CHECK("sync", json_is_object(json_object_get(ev->json,
							  "content")));
}

FUZZ_FN int fuzz_sync_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

FUZZ_FN void fuzz_sync_decrypt(struct e2ee *e, const struct mx_event *ev)
{
	enum e2ee_result res = (enum e2ee_result)-1;
	struct mx_event out;
	struct err err;
	int rc;

	memset(&out, 0xa5, sizeof(out));   /* e2ee_decrypt must set it */
	rc = e2ee_decrypt(e, ev, &res, &out, &err);
	FUZZ_CHECK("sync", rc == 0 || rc == -1);
	/* the store is in memory: a failure would be a body the bot
	 * retries for ever */
	FUZZ_CHECK("sync", rc == 0);
	switch (res) {
	case E2EE_OK:
		fuzz_sync_stats.decrypted++;
		fuzz_sync_check_event(&out);
		/* only type and content change: the rest is the server's */
		FUZZ_CHECK("sync", fuzz_sync_same(out.sender, ev->sender));
		FUZZ_CHECK("sync", fuzz_sync_same(out.id, ev->id));
		FUZZ_CHECK("sync", fuzz_sync_same(out.room, ev->room));
		mx_event_release(&out);
		break;
	case E2EE_WAITING:
	case E2EE_WAITING_FIRST:
		fuzz_sync_stats.waiting++;
		FUZZ_CHECK("sync", out.json == NULL && out.power == NULL);
		break;
	case E2EE_REJECTED:
		fuzz_sync_stats.rejected++;
		FUZZ_CHECK("sync", out.json == NULL && out.power == NULL);
		break;
	default:
		fuzz_fail("sync", "e2ee_decrypt sets a result");
	}
}

/* One joined room as the bot's event_joined walks it. */
FUZZ_FN void fuzz_sync_room(struct e2ee *e, const struct mx_room *r)
{
	struct err err;

	for (size_t i = 0; i < r->nstate; i++)
		FUZZ_CHECK("sync", e2ee_room_event(e, &r->state[i],
						   &err) == 0);
	FUZZ_CHECK("sync", r->gap <= r->ntimeline);
	for (size_t i = 0; i < r->ntimeline; i++) {
		const struct mx_event *ev = &r->timeline[i];

		FUZZ_CHECK("sync", ev->type && ev->sender &&
			   json_is_object(ev->json));
		FUZZ_CHECK("sync", e2ee_room_event(e, ev, &err) == 0);
		if (!strcmp(ev->type, "m.room.encrypted"))
			fuzz_sync_decrypt(e, ev);
	}
}

FUZZ_FN void fuzz_sync_ready(struct e2ee *e)
{
	struct err err;
	struct mx_event *ready;
	size_t n;

	FUZZ_CHECK("sync", e2ee_take_ready(e, &ready, &n, &err) == 0);
	FUZZ_CHECK("sync", !e2ee_has_ready(e));
	FUZZ_CHECK("sync", ready != NULL || n == 0);
	for (size_t i = 0; i < n; i++) {
		fuzz_sync_check_event(&ready[i]);
		fuzz_sync_stats.ready++;
	}
	mx_events_free(ready, n);
}

/* e2ee_prepare keeps the promises of mx.h's prepare hook. */
FUZZ_FN void fuzz_sync_prepare(struct e2ee *e, const char *room)
{
	static const char body[] = "{\"msgtype\":\"m.text\",\"body\":\"x\"}";
	char *t = (char *)body, *b = (char *)body;   /* sentinels */
	json_error_t je;
	json_t *c;
	int rc;

	rc = e2ee_prepare(e, room, "m.room.message", body, &t, &b);
	FUZZ_CHECK("sync", rc >= -1 && rc <= 1);
	FUZZ_CHECK("sync", (t == NULL) == (b == NULL));
	if (rc != 1 || !t) {
		FUZZ_CHECK("sync", t == NULL);
		return;
	}
	fuzz_sync_stats.encrypted++;
	FUZZ_CHECK("sync", e2ee_room_encrypted(e, room));
	FUZZ_CHECK("sync", strcmp(t, "m.room.encrypted") == 0);
	c = json_loads(b, 0, &je);
	FUZZ_CHECK("sync", json_is_object(c));
	FUZZ_CHECK("sync", !strcmp(json_string_value(json_object_get(c,
			   "algorithm")) ? json_string_value(
			   json_object_get(c, "algorithm")) : "",
			   FUZZ_SYNC_MEGOLM));
	FUZZ_CHECK("sync", json_is_string(json_object_get(c, "ciphertext")));
	FUZZ_CHECK("sync", json_is_string(json_object_get(c, "session_id")));
	/* the plaintext never travels beside the ciphertext */
	FUZZ_CHECK("sync", !strstr(b, "m.text"));
	json_decref(c);
	free(t);
	free(b);
}

FUZZ_FN void fuzz_sync_run(const uint8_t *data, size_t size)
{
	static const struct mx_handlers handlers;   /* all NULL */
	struct store *st = fuzz_sync_state();
	struct mx_sync s;
	struct e2ee *e = NULL;
	struct mx *mx;
	struct err err;
	int rc;

	rc = mx_sync_parse((const char *)data, size, &s);
	if (rc < 0) {
		FUZZ_CHECK("sync", rc == -1);
		FUZZ_CHECK("sync", s.root == NULL && s.join == NULL);
		return;
	}
	FUZZ_CHECK("sync", rc == 0 && json_is_object(s.root));
	FUZZ_CHECK("sync", s.next_batch != NULL);
	fuzz_sync_stats.parsed++;

	FUZZ_CHECK("sync", store_begin(st, &err) == 0);
	mx = mx_new("http://127.0.0.1:9", FUZZ_SYNC_ME, &handlers);
	rc = e2ee_open(st, mx, &fuzz_sync_cfg, "FUZZDEV",
		       xstrdup(FUZZ_SYNC_PICKLE_KEY),
		       strlen(FUZZ_SYNC_PICKLE_KEY), &e, &err);
	if (rc < 0)
		fprintf(stderr, "%s\n", err.msg);
	FUZZ_CHECK("sync", rc == 0 && e != NULL);
	FUZZ_CHECK("sync", strcmp(e2ee_identity(e), FUZZ_SYNC_ED) == 0);

	FUZZ_CHECK("sync", e2ee_sync(e, &s, &err) == 0);
	for (size_t i = 0; i < s.njoin; i++)
		fuzz_sync_room(e, &s.join[i]);
	fuzz_sync_ready(e);
	for (size_t i = 0; i < s.njoin; i++)
		fuzz_sync_prepare(e, s.join[i].id);

	FUZZ_CHECK("sync", store_rollback(st) == 0);
	FUZZ_CHECK("sync", e2ee_reload(e, &err) == 0);
	FUZZ_CHECK("sync", strcmp(e2ee_identity(e), FUZZ_SYNC_ED) == 0);
	e2ee_free(e);
	mx_free(mx);
	mx_sync_release(&s);
}

FUZZ_FN void fuzz_sync_input(const uint8_t *data, size_t size)
{
	if (size <= FUZZ_MAX_INPUT)
		fuzz_sync_run(data, size);
}

/* --- a scratch directory for the targets that need files ------------ */

static char fuzz_dir_path[64];

/* Made on first use under /tmp; fuzz_dir_cleanup() removes it. */
FUZZ_FN const char *fuzz_dir(void)
{
	if (!fuzz_dir_path[0]) {
		xsnprintf(fuzz_dir_path, sizeof(fuzz_dir_path),
			  "/tmp/oef-fuzz-XXXXXX");
		if (!mkdtemp(fuzz_dir_path))
			fuzz_fail("dir", "mkdtemp under /tmp");
	}
	return fuzz_dir_path;
}

/* Write text to <fuzz_dir>/name with mode; returns the path (caller
 * frees). */
FUZZ_FN char *fuzz_dir_put(const char *name, const void *text, size_t len,
			   mode_t mode)
{
	struct sbuf p;
	FILE *fp;

	sbuf_init(&p);
	sbuf_addf(&p, "%s/%s", fuzz_dir(), name);
	fp = fopen(sbuf_str(&p), "w");
	if (!fp || (len && fwrite(text, 1, len, fp) != len) ||
	    fclose(fp) != 0)
		fuzz_fail("dir", "a file in the scratch directory");
	if (chmod(sbuf_str(&p), mode) != 0)
		fuzz_fail("dir", "chmod in the scratch directory");
	return sbuf_detach(&p);
}

FUZZ_FN void fuzz_dir_cleanup(void)
{
	struct sbuf cmd;

	if (!fuzz_dir_path[0])
		return;
	sbuf_init(&cmd);
	sbuf_addf(&cmd, "rm -rf '%s'", fuzz_dir_path);
	if (system(sbuf_str(&cmd)) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_dir_path);
	sbuf_release(&cmd);
	fuzz_dir_path[0] = '\0';
}

/* --- config: the bot's configuration file --------------------------- */

/* The input is <fuzz_dir>/config.json. Beside it: "pw" (mode 0600) and
 * "pw-open" (0644) as secret files, so seeds can name them.
 *
 * config.h promises, for a file that loads: the homeserver without a
 * trailing slash, a user id, exactly one of password_file and
 * access_token_file, absolute paths, the typing figures in range
 * (min <= max), and every invites.allow pattern allowing itself. A file
 * that does not load leaves the struct empty and names itself. */
FUZZ_FN void fuzz_config_check_path(const char *p, int optional)
{
	if (optional && !p)
		return;
	FUZZ_CHECK("config", p != NULL);
	FUZZ_CHECK("config", p[0] == '/');
}

static size_t fuzz_config_loaded;   /* inputs that loaded */

FUZZ_FN void fuzz_config_run(const uint8_t *data, size_t size)
{
	static char *path;
	struct config c;
	struct err err;
	size_t n;
	int rc;

	if (!path) {
		free(fuzz_dir_put("pw", "geheim\n", 7, 0600));
		free(fuzz_dir_put("pw-open", "geheim\n", 7, 0644));
	}
	free(path);
	path = fuzz_dir_put("config.json", data, size, 0600);
	err.msg[0] = '\0';
	rc = config_load(path, &c, &err);
	if (rc < 0) {
		FUZZ_CHECK("config", rc == -1);
		FUZZ_CHECK("config", c.path == NULL && c.homeserver == NULL &&
			   c.ninvite_allow == 0);
		FUZZ_CHECK("config", strncmp(err.msg, path,
					     strlen(path)) == 0);
		return;
	}
	FUZZ_CHECK("config", rc == 0);
	FUZZ_CHECK("config", c.homeserver && *c.homeserver);
	n = strlen(c.homeserver);
	FUZZ_CHECK("config", c.homeserver[n - 1] != '/');
	FUZZ_CHECK("config", c.user_id && c.user_id[0] == '@');
	FUZZ_CHECK("config", !c.password_file != !c.access_token_file);
	fuzz_config_check_path(c.password_file, 1);
	fuzz_config_check_path(c.access_token_file, 1);
	fuzz_config_check_path(c.pickle_key_file, 1);
	fuzz_config_check_path(c.store, 0);
	fuzz_config_check_path(c.scripts_dir, 0);
	fuzz_config_check_path(c.personas_dir, 0);
	FUZZ_CHECK("config", c.device_name != NULL);
	FUZZ_CHECK("config", c.display_name != NULL &&
		   strlen(c.display_name) <= CONFIG_DISPLAY_NAME_MAX);
	FUZZ_CHECK("config", !c.avatar == !c.avatar_type);
	FUZZ_CHECK("config", c.chars_per_second >= 1 &&
		   c.chars_per_second <= 1000);
	FUZZ_CHECK("config", c.typing_min_ms <= c.typing_max_ms);
	for (size_t i = 0; i < c.ninvite_allow; i++)
		FUZZ_CHECK("config", config_invite_allowed(&c,
							   c.invite_allow[i]));
	fuzz_config_loaded++;
	config_release(&c);
}

FUZZ_FN void fuzz_config_input(const uint8_t *data, size_t size)
{
	if (size <= FUZZ_MAX_INPUT)
		fuzz_config_run(data, size);
}

/* --- bot: Matrix events and room commands through the bot ----------- */

/* Each input goes through bot_sync exactly as the sync loop hands a
 * batch over, on a bot made for that input (so every input starts from
 * the same state): an in-memory store, one small scenario
 * (scenario_small.h: number 1, "t"), the shipped personas, the room
 * !oefen:localhost just joined on the trainee's invite (the recorded
 * 01-invite and 02-joined batches).
 * Nothing leaves the process: the homeserver is 127.0.0.1:9 and nothing
 * polls the Matrix client, so what the bot would send stays queued.
 *
 * The first byte chooses what the rest is:
 * - even: a whole /sync body (mx_sync_parse, then bot_sync);
 * - odd: lines "<who><body>", each an m.room.message (m.text) in the
 *   room from who: 't' the trainee, 'c' a coach, 'x' a trainer, 'b' the
 *   bot itself, anything else a bystander. Commands ("!start 1",
 *   "!tip ...") are bodies like any other. Then bot_answer_waiting, as
 *   the gather timer would.
 *
 * Beyond not crashing or leaking: bot_sync returns 0 or -1, and 0 for
 * every batch of the second kind (well-formed, the store in memory:
 * nothing outside the bot can fail).
 *
 * Why this stops where it does: encryption starts in bot_run after the
 * login (start_e2ee), which needs the homeserver; without it the bot
 * treats m.room.encrypted events as it does before its first login.
 * The sync target covers the E2EE layer itself. */

#define FUZZ_BOT_MAX_LINES 64

struct fuzz_bot_stats {
	size_t bodies;     /* inputs that were a sync body */
	size_t messages;   /* m.room.message events built from lines */
	size_t synced;     /* bot_sync returned 0 */
};

static struct fuzz_bot_stats fuzz_bot_stats;
static struct config fuzz_bot_cfg;
static int fuzz_bot_ready;
static char *fuzz_bot_prelude[2];
static size_t fuzz_bot_prelude_len[2];

/* The config, the scenario and the two recorded batches, once. */
FUZZ_FN void fuzz_bot_setup(void)
{
	static const char *const prelude[2] = { "01-invite.json",
						"02-joined.json" };
	struct sbuf sb;
	struct err err;
	char *pw, *cfg;

	if (fuzz_bot_ready)
		return;
	sbuf_init(&sb);
	sbuf_addf(&sb, "%s/bot-scripts", fuzz_dir());
	if (mkdir(sbuf_str(&sb), 0700) != 0)
		fuzz_fail("bot", "a scripts directory");
	sbuf_reset(&sb);
	scenario_small(&sb, "t", 2, "linda");
	free(fuzz_dir_put("bot-scripts/t.oef", sb.buf, sb.len, 0600));
	sbuf_release(&sb);
	pw = fuzz_dir_put("bot-pw", "geheim\n", 7, 0600);
	sbuf_init(&sb);
	sbuf_addf(&sb, "{\"homeserver\": \"http://127.0.0.1:9\","
		  " \"user_id\": \"@oefenkamer:localhost\","
		  " \"password_file\": \"%s\", \"store\": \"bot.db\","
		  " \"scripts_dir\": \"bot-scripts\","
		  " \"personas_dir\": \"%s/personas\","
		  " \"invites\": {\"allow\": [\"@*:localhost\"]},"
		  " \"roles\": {\"coaches\": [\"@coach:localhost\"],"
		  " \"trainers\": [\"@trainer:localhost\"]},"
		  " \"gather_ms\": 0}", pw, fuzz_root());
	cfg = fuzz_dir_put("bot.json", sb.buf, sb.len, 0600);
	sbuf_release(&sb);
	if (config_load(cfg, &fuzz_bot_cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		fuzz_fail("bot", "the fixed config loads");
	}
	free(fuzz_bot_cfg.store);
	fuzz_bot_cfg.store = xstrdup(":memory:");
	free(pw);
	free(cfg);
	for (size_t i = 0; i < 2; i++) {
		sbuf_init(&sb);
		sbuf_addf(&sb, "%s/tests/data/sync/%s", fuzz_root(),
			  prelude[i]);
		if (read_file(sbuf_str(&sb), 1 << 20, &fuzz_bot_prelude[i],
			      &fuzz_bot_prelude_len[i], &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			fuzz_fail("bot", "the recorded batches (OEF_ROOT)");
		}
		sbuf_release(&sb);
	}
	fuzz_bot_ready = 1;
}

FUZZ_FN void fuzz_bot_cleanup(void)
{
	if (!fuzz_bot_ready)
		return;
	config_release(&fuzz_bot_cfg);
	for (size_t i = 0; i < 2; i++)
		free(fuzz_bot_prelude[i]);
	fuzz_bot_ready = 0;
}

FUZZ_FN int fuzz_bot_feed(struct bot *b, const char *body, size_t len)
{
	struct mx_sync s;
	int rc;

	if (mx_sync_parse(body, len, &s) < 0)
		return -2;
	rc = bot_sync(b, &s);
	mx_sync_release(&s);
	return rc;
}

/* The batch of the lines in data, or NULL (no line, or not UTF-8). */
FUZZ_FN json_t *fuzz_bot_messages(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	json_t *evs, *root;
	size_t n = 0;

	if (!utf8_valid(p, size))
		return NULL;
	evs = json_array();
	while (p < end && n < FUZZ_BOT_MAX_LINES) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		const char *who;
		char eid[32];

		if (stop > p) {
			switch (*p) {
			case 't': who = "@trainee:localhost"; break;
			case 'c': who = "@coach:localhost"; break;
			case 'x': who = "@trainer:localhost"; break;
			case 'b': who = "@oefenkamer:localhost"; break;
			default: who = "@iemand:localhost"; break;
			}
			xsnprintf(eid, sizeof(eid), "$fuzz%zu", n);
			json_array_append_new(evs, json_pack(
				"{s:s, s:s, s:s, s:I, s:{s:s, s:o}}",
				"type", "m.room.message", "sender", who,
				"event_id", eid, "origin_server_ts",
				(json_int_t)(100 + n), "content", "msgtype",
				"m.text", "body", json_stringn(p + 1,
					(size_t)(stop - p - 1))));
			n++;
		}
		p = nl ? nl + 1 : end;
	}
	if (!n) {
		json_decref(evs);
		return NULL;
	}
	fuzz_bot_stats.messages += n;
	root = json_pack("{s:s, s:{s:{s:{s:{s:o}}}}}", "next_batch", "s9",
			 "rooms", "join", "!oefen:localhost", "timeline",
			 "events", evs);
	FUZZ_CHECK("bot", root != NULL);
	return root;
}

FUZZ_FN void fuzz_bot_run(const uint8_t *data, size_t size)
{
	struct err err;
	struct mx_sync s;
	struct bot *b;
	json_t *root;
	int rc;

	if (!size)
		return;
	fuzz_bot_setup();
	b = bot_new(&fuzz_bot_cfg, &err);
	if (!b) {
		fprintf(stderr, "%s\n", err.msg);
		fuzz_fail("bot", "bot_new on the fixed config");
	}
	for (size_t i = 0; i < 2; i++)
		FUZZ_CHECK("bot", fuzz_bot_feed(b, fuzz_bot_prelude[i],
						fuzz_bot_prelude_len[i]) == 0);
	if (data[0] % 2 == 0) {
		if (mx_sync_parse((const char *)data + 1, size - 1, &s) == 0) {
			fuzz_bot_stats.bodies++;
			rc = bot_sync(b, &s);
			FUZZ_CHECK("bot", rc == 0 || rc == -1);
			fuzz_bot_stats.synced += rc == 0;
			mx_sync_release(&s);
		}
	} else {
		root = fuzz_bot_messages(data + 1, size - 1);
		if (root) {
			FUZZ_CHECK("bot", mx_sync_parse_root(root, &s) == 0);
			rc = bot_sync(b, &s);
			FUZZ_CHECK("bot", rc == 0);
			fuzz_bot_stats.synced++;
			mx_sync_release(&s);
			json_decref(root);
		}
	}
	bot_answer_waiting(b);
	bot_free(b);
}

FUZZ_FN void fuzz_bot_input(const uint8_t *data, size_t size)
{
	if (size <= FUZZ_MAX_INPUT)
		fuzz_bot_run(data, size);
}

#endif
