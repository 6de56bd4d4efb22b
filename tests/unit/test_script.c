/* test_script.c - the scenario parser: every construct of
 * docs/scenariotaal.md parses into the right structure, includes are
 * relative and read once, and every bad input gets a diagnostic with the
 * exact "file:line:col: " prefix and a message that says what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "script.h"
#include "util.h"

/* ------------------------------------------------------------ helpers */

static const char *root(void)
{
	const char *r = getenv("OEF_ROOT");

	return r && *r ? r : ".";
}

/* A path under tests/data/scripts; caller frees. */
static char *fixture(const char *rel)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_addf(&sb, "%s/tests/data/scripts/%s", root(), rel);
	return sbuf_detach(&sb);
}

static void print_diags(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  diag: %s\n", d->msgs[i]);
}

static struct script *load_ok(const char *text)
{
	struct script *s = NULL;
	struct diag d;
	int rc;

	diag_init(&d);
	rc = script_load_text("t.oef", text, strlen(text), &s, &d);
	if (rc != 0 || d.n)
		print_diags(&d);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	assert_non_null(s);
	diag_release(&d);
	return s;
}

/* Does some diagnostic start with where and contain what? */
static int has_diag(const struct diag *d, const char *where,
		    const char *what)
{
	for (size_t i = 0; i < d->n; i++)
		if (strncmp(d->msgs[i], where, strlen(where)) == 0 &&
		    strstr(d->msgs[i] + strlen(where), what))
			return 1;
	return 0;
}

static void expect_diag(const struct diag *d, const char *where,
			const char *what)
{
	if (!has_diag(d, where, what)) {
		print_message("expected a diagnostic \"%s…%s…\", got:\n",
			      where, what);
		print_diags(d);
		fail();
	}
}

/* Render a condition as text, with resolved indices after '@'. */
static void expr_str(struct sbuf *sb, const struct expr *e)
{
	static const char *ops[] = { "=", "!=", "<", "<=", ">", ">=" };

	switch (e->kind) {
	case EXPR_AND:
	case EXPR_OR:
		sbuf_adds(sb, e->kind == EXPR_AND ? "en(" : "of(");
		expr_str(sb, e->a);
		sbuf_addc(sb, ',');
		expr_str(sb, e->b);
		sbuf_addc(sb, ')');
		break;
	case EXPR_NOT:
		sbuf_adds(sb, "niet(");
		expr_str(sb, e->a);
		sbuf_addc(sb, ')');
		break;
	case EXPR_INTENT:
		sbuf_addf(sb, "%s@%u", e->name, (unsigned)e->index);
		break;
	case EXPR_CMP:
		sbuf_addf(sb, "%s%s%d@%u", e->name, ops[e->op], e->value,
			  (unsigned)e->index);
		break;
	}
}

static void assert_expr(const struct expr *e, const char *want)
{
	struct sbuf sb;

	sbuf_init(&sb);
	if (e)
		expr_str(&sb, e);
	else
		sbuf_adds(&sb, "-");
	assert_string_equal(sbuf_str(&sb), want);
	sbuf_release(&sb);
}

/* Render an action list as "a; b; c" (variants of zeg: "zeg/2"). */
static void assert_actions(const struct action_list *al, const char *want)
{
	struct sbuf sb;

	sbuf_init(&sb);
	for (size_t i = 0; i < al->n; i++) {
		const struct action *a = &al->v[i];

		if (i)
			sbuf_adds(&sb, "; ");
		switch (a->kind) {
		case ACT_ADD:
			sbuf_addf(&sb, "%s%+d@%u", a->name, a->value,
				  (unsigned)a->index);
			break;
		case ACT_SET:
			sbuf_addf(&sb, "%s=%d@%u", a->name, a->value,
				  (unsigned)a->index);
			break;
		case ACT_SAY:
			sbuf_addf(&sb, "zeg/%zu", a->nvariants);
			break;
		case ACT_GOTO:
			sbuf_addf(&sb, "naar %s@%u", a->name,
				  (unsigned)a->index);
			break;
		case ACT_POINT:
			sbuf_addf(&sb, "punt %s %s@%u", a->name,
				  a->value ? "getoond" : "gemist",
				  (unsigned)a->index);
			if (a->reason)
				sbuf_addf(&sb, " \"%s\"", a->reason);
			break;
		case ACT_INTERRUPT:
			sbuf_adds(&sb, "onderbreek");
			break;
		}
	}
	assert_string_equal(sbuf_str(&sb), want);
	sbuf_release(&sb);
}

/* --------------------------------------------------- a whole scenario */

static const char full[] =
	"# Een scenario met elk onderdeel van de taal.\n"
	"scenario test-scenario\n"                         /* 2 */
	"titel: Een test met een titel\n"
	"persona: sandra\n"
	"moeilijkheid: 2\n"
	"begin: tweede\n"
	"inleiding:\n"
	"> Regel een.\n"
	">    Regel twee.   \n"
	"\n"
	"var vertrouwen = 3 (0..10)\n"                     /* 11 */
	"var spanning = 5 (0..10)\n"
	"var besproken = 0 (0..1)\n"
	"var laag = -2 (-5..+5)\n"
	"\n"
	"punt begrip-taal: Nagaan of je elkaar begrijpt\n" /* 16 */
	"punt vertrouwen: Vertrouwen opbouwen\n"
	"\n"
	"begrip jargon = ots, gi, je moet,\n"              /* 19 */
	"    veilig*\n"
	"begrip zwaar = ~jargon, (uithuis* | raads onderzoek)\n"
	"\n"
	"bedoeling groet\n"                                /* 23 */
	"  patroon: hallo [daar]\n"
	"  patroon: <goede ~jargon>\n"
	"  ja: Hallo daar\n"
	"  nee: Dag\n"
	"  ontkenning: nee\n"
	"bedoeling druk\n"                                 /* 29 */
	"  patroon: (je | jij) moet * nu\n"
	"\n"
	"regel vakterm\n"                                  /* 32 */
	"  als groet en niet druk\n"
	"  eenmalig\n"
	"  vertrouwen -1\n"
	"  spanning +2\n"
	"  besproken = 1\n"
	"  punt begrip-taal gemist \"afkorting zonder uitleg\"\n"
	"  onderbreek\n"
	"  zeg\n"
	"  - Wat bedoelt u met {woord}?\n"                 /* 41 */
	"  - [vertrouwen >= 6 of beurt > 2] Hm.\n"
	"  + Tweede bericht.\n"
	"  + Derde bericht.\n"
	"regel te-veel\n"                                  /* 45 */
	"  zodra spanning >= 10\n"
	"  naar weg\n"
	"\n"
	"fase eerste\n"                                    /* 49 */
	"  zeg\n"
	"  - Goedemiddag.\n"
	"  als groet\n"
	"    vertrouwen +1\n"
	"    punt vertrouwen getoond\n"
	"    naar tweede\n"
	"  zodra vertrouwen >= 8 of spanning < 2 en besproken = 1\n"
	"    naar klaar\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n"
	"  anders\n"
	"    zeg\n"
	"    - Wat wilt u nou?\n"
	"\n"
	"fase tweede\n"                                    /* 65 */
	"  als (druk of groet) en gemist != 0\n"
	"    naar weg\n"
	"\n"
	"standaard\n"                                      /* 69 */
	"  als druk\n"
	"    spanning +1\n"
	"  anders\n"
	"    zeg\n"
	"    - Pardon?\n"
	"\n"
	"einde klaar goed\n"                               /* 76 */
	"  zeg\n"
	"  - Oké.\n"
	"  uitleg: Ze voelt zich gehoord\n"
	"  > en stemt in.\n"
	"einde weg breuk\n"                                /* 81 */
	"  uitleg: Ze stopt.\n"
	"einde niks neutraal\n";

static void test_full_header(void **state)
{
	struct script *s = load_ok(full);

	(void)state;
	assert_string_equal(s->path, "t.oef");
	assert_string_equal(s->id, "test-scenario");
	assert_int_equal(s->id_loc.line, 2);
	assert_int_equal(s->id_loc.col, 1);
	assert_string_equal(s->title, "Een test met een titel");
	assert_string_equal(s->persona, "sandra");
	assert_int_equal(s->difficulty, 2);
	assert_string_equal(s->intro, "Regel een.\nRegel twee.");
	assert_int_equal(s->nnodes, 5);
	assert_string_equal(s->nodes[s->start].name, "tweede");
	assert_int_equal(s->nfiles, 1);
	assert_string_equal(s->files[0], "t.oef");
	assert_true(s->digest != 0);
	assert_int_equal(s->nvariants, 7);
	script_free(s);
}

static void test_full_decls(void **state)
{
	struct script *s = load_ok(full);
	const struct concept *k;

	(void)state;
	/* var: name, init, bounds, location */
	assert_int_equal(s->nvars, 4);
	assert_string_equal(s->vars[0].name, "vertrouwen");
	assert_int_equal(s->vars[0].init, 3);
	assert_int_equal(s->vars[0].min, 0);
	assert_int_equal(s->vars[0].max, 10);
	assert_int_equal(s->vars[0].loc.line, 11);
	assert_string_equal(s->vars[2].name, "besproken");
	assert_int_equal(s->vars[2].max, 1);
	assert_string_equal(s->vars[3].name, "laag");
	assert_int_equal(s->vars[3].init, -2);
	assert_int_equal(s->vars[3].min, -5);
	assert_int_equal(s->vars[3].max, 5);
	assert_int_equal(script_find_var(s, "laag"), 3);
	assert_int_equal(script_find_var(s, "beurt"), 4 + BUILTIN_BEURT);
	assert_int_equal(script_find_var(s, "gemist"), 4 + BUILTIN_GEMIST);
	assert_int_equal(script_find_var(s, "niets"), -1);

	/* punt declarations (not actions) */
	assert_int_equal(s->npoints, 2);
	assert_string_equal(s->points[0].id, "begrip-taal");
	assert_string_equal(s->points[0].label,
			    "Nagaan of je elkaar begrijpt");
	assert_int_equal(s->points[0].loc.line, 16);
	assert_string_equal(s->points[1].id, "vertrouwen");
	assert_int_equal(script_find_point(s, "vertrouwen"), 1);

	/* begrip over two lines: the ',' at the end continues it */
	assert_int_equal(s->nconcepts, 2);
	k = &s->concepts[0];
	assert_string_equal(k->name, "jargon");
	assert_int_equal(k->loc.line, 19);
	assert_int_equal(k->nalts, 4);
	assert_int_equal(k->alts[0].n, 1);
	assert_int_equal(k->alts[0].el[0].kind, PAT_WORD);
	assert_string_equal(s->words[k->alts[0].el[0].word], "ots");
	assert_int_equal(k->alts[2].n, 2);        /* je moet */
	assert_string_equal(s->words[k->alts[2].el[0].word], "je");
	assert_string_equal(s->words[k->alts[2].el[1].word], "moet");
	assert_int_equal(k->alts[3].n, 1);        /* veilig* */
	assert_int_equal(k->alts[3].el[0].kind, PAT_PREFIX);
	assert_string_equal(k->alts[3].el[0].text, "veilig");
	assert_int_equal(k->alts[3].el[0].len, 6);
	/* a begrip using a begrip, and a group inside an item */
	k = &s->concepts[1];
	assert_string_equal(k->name, "zwaar");
	assert_int_equal(k->nalts, 2);
	assert_int_equal(k->alts[0].el[0].kind, PAT_CONCEPT);
	assert_int_equal(k->alts[0].el[0].concept, 0);
	assert_int_equal(k->alts[1].el[0].kind, PAT_ALT);
	assert_int_equal(k->alts[1].el[0].nsubs, 2);
	assert_int_equal(k->alts[1].el[0].subs[1].n, 2);
	/* the line after the continuation keeps its own number */
	assert_int_equal(k->loc.line, 21);
	script_free(s);
}

static void test_full_intents(void **state)
{
	struct script *s = load_ok(full);
	const struct intent *in;
	const struct pat *p;

	(void)state;
	/* two declared, then the builtin andere-taal */
	assert_int_equal(s->nintents, 3);
	assert_string_equal(s->intents[2].name, "andere-taal");
	assert_int_equal(s->intents[2].builtin, 1);
	assert_int_equal(s->other_language, 2);
	in = &s->intents[0];
	assert_string_equal(in->name, "groet");
	assert_int_equal(in->loc.line, 23);
	assert_int_equal(in->npats, 2);
	/* hallo [daar] */
	assert_int_equal(in->pats[0].n, 2);
	assert_int_equal(in->pats[0].el[0].kind, PAT_WORD);
	assert_int_equal(in->pats[0].el[0].word,
			 script_word_id(s, "hallo", 5));
	assert_int_equal(in->pats[0].el[1].kind, PAT_OPT);
	assert_int_equal(in->pats[0].el[1].nsubs, 1);
	assert_int_equal(in->pats[0].el[1].subs[0].n, 1);
	/* one copy of each word, the lexicon's; found through it */
	assert_true(s->words_in_lex);
	assert_null(s->word_hash);
	for (size_t i = 0; i < s->nwords; i++) {
		assert_ptr_equal(s->words[i],
				 lexicon_word(&s->lex, (uint32_t)i));
		assert_int_equal(script_word_id(s, s->words[i],
						strlen(s->words[i])),
				 i);   /* 0 for "" */
	}
	assert_int_equal(script_word_id(s, "halloo", 6), 0);
	assert_int_equal(script_word_id(s, "hall", 4), 0);
	/* packed (script.h): two of them fit a cache line */
	assert_int_equal(sizeof(struct pat), 32);
	assert_int_equal(sizeof(struct pat_seq), 32);
	/* <goede ~jargon> */
	assert_int_equal(in->pats[1].n, 1);
	p = &in->pats[1].el[0];
	assert_int_equal(p->kind, PAT_UNORDERED);
	assert_int_equal(p->nsubs, 1);
	assert_int_equal(p->subs[0].n, 2);
	assert_int_equal(p->subs[0].el[1].kind, PAT_CONCEPT);
	assert_string_equal(p->subs[0].el[1].text, "jargon");
	assert_int_equal(p->subs[0].el[1].concept, 0);
	/* ja/nee examples, ontkenning: nee */
	assert_int_equal(in->nexamples, 2);
	assert_string_equal(in->examples[0].text, "Hallo daar");
	assert_int_equal(in->examples[0].should_match, 1);
	assert_string_equal(in->examples[1].text, "Dag");
	assert_int_equal(in->examples[1].should_match, 0);
	assert_int_equal(in->negation_guard, 0);

	in = &s->intents[1];
	assert_string_equal(in->name, "druk");
	assert_int_equal(in->negation_guard, 1);   /* the default */
	assert_int_equal(in->nexamples, 0);
	/* (je | jij) moet * nu: jij is normalised to je */
	assert_int_equal(in->pats[0].n, 4);
	p = &in->pats[0].el[0];
	assert_int_equal(p->kind, PAT_ALT);
	assert_int_equal(p->nsubs, 2);
	assert_int_equal(p->subs[0].el[0].word, p->subs[1].el[0].word);
	assert_int_equal(in->pats[0].el[2].kind, PAT_ANY);
	assert_int_equal(script_word_id(s, "jij", 3), 0);
	assert_int_equal(script_find_intent(s, "druk"), 1);
	assert_int_equal(script_find_intent(s, "geen"), -1);
	script_free(s);
}

static void test_full_rules(void **state)
{
	struct script *s = load_ok(full);
	const struct rule *r;
	const struct action *say;

	(void)state;
	assert_int_equal(s->nrules, 2);
	r = &s->rules[0];
	assert_string_equal(r->name, "vakterm");
	assert_int_equal(r->loc.line, 32);
	assert_int_equal(r->kind, TRIG_ALS);
	assert_expr(r->cond, "en(groet@0,niet(druk@1))");
	assert_int_equal(r->once, 1);
	assert_int_equal(r->interrupt, 1);
	assert_actions(&r->acts, "vertrouwen-1@0; spanning+2@1; "
		       "besproken=1@2; punt begrip-taal gemist@0 "
		       "\"afkorting zonder uitleg\"; onderbreek; zeg/2");
	say = &r->acts.v[5];
	assert_int_equal(say->loc.line, 40);
	assert_null(say->variants[0].cond);
	assert_int_equal(say->variants[0].nmsgs, 1);
	assert_string_equal(say->variants[0].msgs[0],
			    "Wat bedoelt u met {woord}?");
	assert_int_equal(say->variants[0].loc.line, 41);
	assert_int_equal(say->variants[0].loc.col, 3);
	/* - [cond] text, then + continuation messages */
	assert_expr(say->variants[1].cond, "of(vertrouwen>=6@0,beurt>2@4)");
	assert_int_equal(say->variants[1].nmsgs, 3);
	assert_string_equal(say->variants[1].msgs[0], "Hm.");
	assert_string_equal(say->variants[1].msgs[1], "Tweede bericht.");
	assert_string_equal(say->variants[1].msgs[2], "Derde bericht.");
	assert_int_equal(say->variants[0].index, 0);
	assert_int_equal(say->variants[1].index, 1);

	r = &s->rules[1];
	assert_string_equal(r->name, "te-veel");
	assert_int_equal(r->kind, TRIG_ZODRA);
	assert_expr(r->cond, "spanning>=10@1");
	assert_int_equal(r->once, 0);
	assert_int_equal(r->interrupt, 0);
	assert_actions(&r->acts, "naar weg@3");
	script_free(s);
}

static void test_full_nodes(void **state)
{
	struct script *s = load_ok(full);
	const struct node *n;

	(void)state;
	/* fase: entry actions, then als/zodra transitions and anders */
	n = &s->nodes[0];
	assert_string_equal(n->name, "eerste");
	assert_int_equal(n->kind, NODE_FASE);
	assert_int_equal(n->ending, END_NONE);
	assert_int_equal(n->loc.line, 49);
	assert_actions(&n->enter, "zeg/1");
	assert_string_equal(n->enter.v[0].variants[0].msgs[0],
			    "Goedemiddag.");
	assert_int_equal(n->ntrans, 2);
	assert_int_equal(n->trans[0].kind, TRIG_ALS);
	assert_int_equal(n->trans[0].loc.line, 52);
	assert_expr(n->trans[0].cond, "groet@0");
	assert_actions(&n->trans[0].acts, "vertrouwen+1@0; "
		       "punt vertrouwen getoond@1; naar tweede@1");
	assert_int_equal(n->trans[1].kind, TRIG_ZODRA);
	/* en binds tighter than of */
	assert_expr(n->trans[1].cond, "of(vertrouwen>=8@0,"
		    "en(spanning<2@1,besproken=1@2))");
	assert_actions(&n->trans[1].acts, "naar klaar@2");
	assert_int_equal(n->nfallbacks, 2);
	assert_int_equal(n->fallbacks[0].kind, TRIG_ANDERS);
	assert_null(n->fallbacks[0].cond);
	assert_actions(&n->fallbacks[0].acts, "zeg/1");
	assert_string_equal(n->fallbacks[0].acts.v[0].variants[0].msgs[0],
			    "Hm.");
	assert_string_equal(n->fallbacks[1].acts.v[0].variants[0].msgs[0],
			    "Wat wilt u nou?");
	assert_null(n->explain);

	n = &s->nodes[1];
	assert_string_equal(n->name, "tweede");
	assert_int_equal(n->enter.n, 0);
	assert_expr(n->trans[0].cond, "en(of(druk@1,groet@0),gemist!=0@5)");

	/* standaard: the shape of a fase, without a name */
	assert_non_null(s->standaard);
	n = s->standaard;
	assert_int_equal(n->kind, NODE_STANDAARD);
	assert_int_equal(n->loc.line, 69);
	assert_int_equal(n->ntrans, 1);
	assert_actions(&n->trans[0].acts, "spanning+1@1");
	assert_int_equal(n->nfallbacks, 1);
	assert_int_equal(script_find_node(s, "standaard"), -1);

	/* einde: kind, zeg, uitleg with a '>' continuation */
	n = &s->nodes[2];
	assert_string_equal(n->name, "klaar");
	assert_int_equal(n->kind, NODE_EINDE);
	assert_int_equal(n->ending, END_GOED);
	assert_actions(&n->enter, "zeg/1");
	assert_string_equal(n->enter.v[0].variants[0].msgs[0], "Oké.");
	assert_string_equal(n->explain, "Ze voelt zich gehoord en stemt in.");
	n = &s->nodes[3];
	assert_int_equal(n->ending, END_BREUK);
	assert_string_equal(n->explain, "Ze stopt.");
	n = &s->nodes[4];
	assert_string_equal(n->name, "niks");
	assert_int_equal(n->ending, END_NEUTRAAL);
	assert_null(n->explain);
	assert_int_equal(n->enter.n, 0);
	assert_int_equal(script_find_node(s, "niks"), 4);
	assert_string_equal(script_ending_kind_name(END_GOED), "goed");
	assert_string_equal(script_ending_kind_name(END_BREUK), "breuk");
	assert_string_equal(script_ending_kind_name(END_NEUTRAAL),
			    "neutraal");
	assert_string_equal(script_ending_kind_name(END_NONE), "");
	script_free(s);
}

/* Small forms: defaults, comments, CRLF, a library file. */
static void test_small_forms(void **state)
{
	struct script *s;

	(void)state;
	/* without begin: the first fase, even after an einde */
	s = load_ok("scenario s\ntitel: T\npersona: p\ninleiding:\n> I\n"
		    "var vertrouwen = 0 (0..10)\n"
		    "var spanning = 10 (0..10)\n"
		    "einde e neutraal\nfase a\nfase b\n");
	assert_string_equal(s->nodes[s->start].name, "a");
	assert_int_equal(s->difficulty, 0);
	assert_null(s->standaard);
	script_free(s);

	/* a library file: no scenario, no header needed */
	s = load_ok("# alleen commentaar\n\n   # ingesprongen\n"
		    "begrip k = a\r\nbedoeling x\r\n  patroon: ~k\r\n");
	assert_null(s->id);
	assert_null(s->title);
	assert_int_equal(s->nintents, 2);   /* x and andere-taal */
	assert_int_equal(s->nconcepts, 1);
	assert_string_equal(s->words[s->concepts[0].alts[0].el[0].word],
			    "a");
	script_free(s);

	/* a comment ending in ',' does not continue */
	s = load_ok("# een, twee,\nbegrip k = a, b\n");
	assert_int_equal(s->nconcepts, 1);
	assert_int_equal(s->concepts[0].loc.line, 2);
	script_free(s);

	/* a rule with zodra and no zeg; an empty file */
	s = load_ok("var v = 0 (0..3)\nregel r\n  zodra v = 3\n  v = 0\n");
	assert_int_equal(s->rules[0].kind, TRIG_ZODRA);
	assert_actions(&s->rules[0].acts, "v=0@0");
	script_free(s);
	s = load_ok("");
	assert_int_equal(s->nintents, 1);   /* only andere-taal */
	script_free(s);
}

/* A condition's gate: the intents of which one must be found for it to
 * hold ('en': either side's; 'of': both sides'); none when it may hold
 * without any intent. */
static void test_condition_gate(void **state)
{
	static const struct {
		const char *cond;
		const char *gate;   /* intent names, sorted, or "" */
	} cases[] = {
		{ "a", "a" },
		{ "a en b", "a" },
		{ "v > 1 en b", "b" },
		{ "(a of b) en c", "a b" },
		{ "a of (b en v > 1)", "a b" },
		{ "niet a", "" },
		{ "a of v > 1", "" },
		{ "niet a en c", "c" },
		{ "v = 0", "" },
	};
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct script *s;
		const struct expr *e;
		char *names[4];
		size_t n = 0;

		sbuf_reset(&sb);
		sbuf_addf(&sb, "var v = 0 (0..3)\nbedoeling a\n  patroon: a\n"
			  "bedoeling b\n  patroon: b\nbedoeling c\n"
			  "  patroon: c\nregel r\n  als %s\n  v = 1\n",
			  cases[i].cond);
		s = load_ok(sb.buf);
		const uint16_t *gate = NULL;
		uint16_t one;
		size_t ngate;

		e = s->rules[0].cond;
		ngate = script_gate(s, e, &gate, &one);
		assert_true(ngate <= 4);
		for (size_t k = 0; k < ngate; k++)
			names[n++] = s->intents[gate[k]].name;
		/* the names in order, for comparing */
		for (size_t x = 1; x < n; x++)
			for (size_t y = x; y > 0 &&
			     strcmp(names[y - 1], names[y]) > 0; y--) {
				char *tmp = names[y];

				names[y] = names[y - 1];
				names[y - 1] = tmp;
			}
		sbuf_reset(&sb);
		sbuf_adds(&sb, "");
		for (size_t k = 0; k < n; k++)
			sbuf_addf(&sb, "%s%s", k ? " " : "", names[k]);
		if (strcmp(sb.buf, cases[i].gate))
			print_message("gate of '%s': '%s', want '%s'\n",
				      cases[i].cond, sb.buf, cases[i].gate);
		assert_string_equal(sb.buf, cases[i].gate);
		script_free(s);
	}
	sbuf_release(&sb);
}

/* aanvulling: patterns and examples join the intent, with their own
 * options where given; the act list of a condition; andere-taal. */
static void test_supplement(void **state)
{
	struct script *s = load_ok(
		"aanvulling x\n"
		"  patroon: b\n"
		"  ontkenning: nee\n"
		"  ja: b\n"
		"bedoeling x\n"
		"  patroon: a\n"
		"  handeling: vraag, voorstel\n"
		"  citaat: ja\n"
		"  voorwaarde: nee\n"
		"  ja: a?\n"
		"aanvulling x\n"
		"  patroon: =c\n"
		"  patroon (mededeling, vraag): (d | e)\n"
		"  patroon:(f)\n"
		"  handeling: belofte\n"
		"fase f\n"
		"  als x (vraag) of andere-taal\n"
		"    zeg\n"
		"    - Hm.\n");
	const struct intent *in;
	const struct expr *e;

	(void)state;
	assert_int_equal(s->nintents, 2);
	in = &s->intents[0];
	assert_string_equal(in->name, "x");
	assert_int_equal(in->npats, 5);
	/* "patroon (mededeling, vraag):" keeps its own acts; "patroon:(f)"
	 * is a pattern that starts with a group */
	assert_int_equal(in->pats[3].acts, (1 << 0) | (1 << 1));
	assert_int_equal(in->pats[3].el[0].kind, PAT_ALT);
	assert_int_equal(in->pats[4].acts, 1 << 3);
	assert_int_equal(in->pats[4].el[0].kind, PAT_ALT);
	assert_int_equal(in->nexamples, 2);
	/* its own pattern: its own options */
	assert_int_equal(in->pats[0].guard, 1);
	assert_int_equal(in->pats[0].acts, (1 << 1) | (1 << 2));
	assert_int_equal(in->pats[0].reported_ok, 1);
	assert_int_equal(in->pats[0].cond_ok, 0);
	/* the first aanvulling: ontkenning nee, the rest the intent's */
	assert_int_equal(in->pats[1].guard, 0);
	assert_int_equal(in->pats[1].acts, (1 << 1) | (1 << 2));
	assert_int_equal(in->pats[1].reported_ok, 1);
	/* the second: belofte only, and an exact word */
	assert_int_equal(in->pats[2].acts, 1 << 3);
	assert_int_equal(in->pats[2].guard, 1);
	assert_int_equal(in->pats[2].el[0].exact, 1);
	assert_int_equal(in->pats[0].el[0].exact, 0);
	/* "x (vraag) of andere-taal" */
	e = s->nodes[0].trans[0].cond;
	assert_int_equal(e->kind, EXPR_OR);
	assert_int_equal(e->a->kind, EXPR_INTENT);
	assert_int_equal(e->a->value, 1 << 1);
	assert_int_equal(e->b->index, (uint32_t)s->other_language);
	assert_int_equal(e->b->value, 0);
	assert_string_equal(s->intents[s->other_language].name,
			    "andere-taal");
	script_free(s);
}

/* ------------------------------------------------------------- includes */

static void test_include_files(void **state)
{
	char *main_path = fixture("main.oef");
	char *lib = fixture("lib/begrippen.oef");
	char *rub = fixture("lib/rubriek.oef");
	struct script *s = NULL;
	struct diag d;

	(void)state;
	diag_init(&d);
	if (script_load(main_path, &s, &d) < 0)
		print_diags(&d);
	assert_non_null(s);
	assert_int_equal(d.n, 0);
	/* rubriek.oef is reached from main.oef and from lib/begrippen.oef
	 * (as "rubriek.oef", relative to lib/): read once, so no
	 * duplicate punt */
	assert_int_equal(s->nfiles, 3);
	assert_string_equal(s->files[0], main_path);
	assert_string_equal(s->files[1], lib);
	assert_string_equal(s->files[2], rub);
	assert_int_equal(s->npoints, 1);
	assert_string_equal(s->points[0].loc.file, rub);
	assert_int_equal(s->points[0].loc.line, 2);
	assert_int_equal(s->nconcepts, 1);
	assert_int_equal(s->concepts[0].nalts, 3);
	assert_string_equal(s->concepts[0].loc.file, lib);
	assert_string_equal(s->id, "fixture-main");
	assert_actions(&s->nodes[0].trans[0].acts,
		       "punt begrip-taal gemist@0 \"vakterm\"; zeg/1");
	script_free(s);
	free(main_path);
	free(lib);
	free(rub);
	diag_release(&d);
}

static void test_include_text(void **state)
{
	/* script_load_text: includes relative to the name given */
	char *name = fixture("in-geheugen.oef");
	char *rub = fixture("lib/rubriek.oef");
	static const char text[] =
		"gebruik \"lib/rubriek.oef\"\n"
		"  gebruik \"lib/rubriek.oef\"\n"
		"fase a\n  punt begrip-taal getoond\n";
	struct script *s = NULL;
	struct diag d;

	(void)state;
	diag_init(&d);
	if (script_load_text(name, text, strlen(text), &s, &d) < 0)
		print_diags(&d);
	assert_non_null(s);
	assert_int_equal(s->nfiles, 2);
	assert_string_equal(s->files[1], rub);
	assert_int_equal(s->npoints, 1);
	assert_actions(&s->nodes[0].enter, "punt begrip-taal getoond@0");
	script_free(s);

	/* a cycle of includes ends: each file once */
	free(name);
	name = fixture("lib/cyclus-a.oef");
	assert_int_equal(script_load(name, &s, &d), 0);
	assert_int_equal(s->nfiles, 2);
	assert_int_equal(s->nconcepts, 2);
	assert_string_equal(s->concepts[0].name, "b");
	assert_string_equal(s->concepts[1].name, "a");
	script_free(s);
	free(name);
	free(rub);
	diag_release(&d);
}

static void test_include_errors(void **state)
{
	char *name = fixture("kapot.oef");
	char *lib = fixture("lib/kapot.oef");
	char *where;
	static const char missing[] =
		"# x\n  gebruik \"lib/bestaat-niet.oef\"\n";
	static const char bad_form[] = "gebruik lib.oef\n";
	struct script *s = (struct script *)1;
	struct sbuf sb;
	struct diag d;

	(void)state;
	diag_init(&d);
	sbuf_init(&sb);
	/* an error in an included file names that file and line */
	assert_int_equal(script_load(name, &s, &d), -1);
	assert_null(s);
	sbuf_addf(&sb, "%s:3:1: ", lib);
	expect_diag(&d, sbuf_str(&sb), "onbekende opdracht 'blaat'");
	diag_release(&d);

	/* a missing include: at the gebruik line, naming the file */
	free(name);
	name = fixture("in-geheugen.oef");
	sbuf_reset(&sb);
	sbuf_addf(&sb, "%s:2:3: ", name);
	where = xstrdup(sbuf_str(&sb));
	assert_int_equal(script_load_text(name, missing, strlen(missing),
					  &s, &d), -1);
	assert_null(s);
	expect_diag(&d, where, "lib/bestaat-niet.oef");
	diag_release(&d);

	/* a missing top file: no location, but the path */
	assert_int_equal(script_load("tests/data/scripts/bestaat-niet.oef",
				     &s, &d), -1);
	assert_null(s);
	expect_diag(&d, "", "tests/data/scripts/bestaat-niet.oef");
	diag_release(&d);

	/* bad forms of gebruik */
	assert_int_equal(script_load_text("t.oef", bad_form,
					  strlen(bad_form), &s, &d), -1);
	expect_diag(&d, "t.oef:1:1: ", "verwacht: gebruik \"bestand.oef\"");
	diag_release(&d);
	free(where);
	free(name);
	free(lib);
	sbuf_release(&sb);
}

/* --------------------------------------------------------------- errors */

/* A scenario header that passes; cases leave out or change one part. */
#define SC "scenario s\n"
#define TI "titel: T\n"
#define PE "persona: p\n"
#define IN "inleiding:\n> I\n"
#define VT "var vertrouwen = 3 (0..10)\n"
#define SP "var spanning = 3 (0..10)\n"
#define FA "fase a\n  zeg\n  - Hoi.\n"

struct err_case {
	const char *text;
	size_t len;           /* 0: strlen(text) */
	const char *where;    /* exact prefix "file:line:col: " */
	const char *what;     /* a phrase of the message */
};

#define BYTES(s) s, sizeof(s) - 1

static const struct err_case err_cases[] = {
	/* intent options, aanvulling, the builtin andere-taal (issue 11) */
	{ "bedoeling x\n  patroon: a\n  handeling: vraagje\n", 0,
	  "t.oef:3:14: ", "onbekende handeling 'vraagje'" },
	{ "bedoeling x\n  patroon: a\n  handeling: vraag voorstel\n", 0,
	  "t.oef:3:20: ", "verwacht ',' of het einde van de regel" },
	{ "bedoeling x\n  patroon: a\n  citaat: misschien\n", 0,
	  "t.oef:3:3: ", "verwacht: citaat: ja|nee" },
	{ "bedoeling x\n  patroon: a\n  voorwaarde:\n", 0,
	  "t.oef:3:3: ", "verwacht: voorwaarde: ja|nee" },
	{ "bedoeling x\n  patroon: a\n  bijzaak: soms\n", 0,
	  "t.oef:3:3: ", "verwacht: bijzaak: ja|nee" },
	{ "bedoeling x\n  patroon: a\n  hulp: graag\n", 0,
	  "t.oef:3:3: ", "verwacht: hulp: ja|nee" },
	{ "bedoeling x\n  patroon: a\n  beleefd: ja\n", 0,
	  "t.oef:3:3: ", "bijzaak, hulp of tenzij)" },
	{ "bedoeling x\n  patroon: =a*\n", 0, "t.oef:2:12: ",
	  "'=' en '*' gaan niet samen" },
	{ "aanvulling y\n  patroon: a\n", 0, "t.oef:1:1: ",
	  "aanvulling op een onbekende bedoeling 'y'" },
	{ "aanvulling andere-taal\n  patroon: a\n", 0, "t.oef:1:1: ",
	  "andere-taal is ingebouwd" },
	{ "aanvulling\n", 0, "t.oef:1:1: ", "verwacht: aanvulling <naam" },
	{ "aanvulling x\n  zeg\nbedoeling x\n  patroon: a\n", 0,
	  "t.oef:2:3: ", "onbekend in een aanvulling: 'zeg'" },
	{ "bedoeling x\n  patroon: a\naanvulling x\n  hulp: ja\n", 0,
	  "t.oef:4:3: ", "'hulp:' hoort bij een bedoeling" },
	{ "bedoeling andere-taal\n  patroon: a\n", 0, "t.oef:1:1: ",
	  "'andere-taal' is ingebouwd" },
	{ "bedoeling x\n  patroon (vraag) a\n", 0, "t.oef:2:19: ",
	  "verwacht ':' na 'patroon (handeling)'" },
	{ "bedoeling x\n  patroon (wens): a\n", 0, "t.oef:2:12: ",
	  "onbekende handeling 'wens'" },
	{ "bedoeling x\n  patroon: a\nfase f\n  als x (vraag\n", 0,
	  "t.oef:4:15: ", "verwacht ',' of ')'" },
	{ "bedoeling x\n  patroon: a\nfase f\n  als x (wens)\n", 0,
	  "t.oef:4:10: ", "onbekende handeling 'wens'" },

	/* unknown keywords */
	{ "fase a\n  blaat x\n", 0, "t.oef:2:3: ",
	  "onbekende opdracht 'blaat'" },
	{ "bedoeling x\n  patroon: a\n  zeg\n", 0, "t.oef:3:3: ",
	  "onbekend in een bedoeling: 'zeg'" },
	{ "  !x\n", 0, "t.oef:1:3: ", "verwacht een opdracht" },
	{ "fase a\n  Zeg\n", 0, "t.oef:2:3: ", "verwacht een opdracht" },

	/* unknown references */
	{ "fase a\n  als groet\n", 0, "t.oef:2:7: ",
	  "onbekende bedoeling 'groet'" },
	{ "fase a\n  als x > 1\n", 0, "t.oef:2:7: ",
	  "onbekende variabele 'x'" },
	{ "fase a\n  zeg\n  - [y = 1] Hoi.\n", 0, "t.oef:3:6: ",
	  "onbekende variabele 'y'" },
	{ "fase a\n  x +1\n", 0, "t.oef:2:3: ", "onbekende variabele 'x'" },
	{ "fase a\n  beurt +1\n", 0, "t.oef:2:3: ",
	  "'beurt' is ingebouwd en alleen te lezen" },
	{ "var v = 0 (0..1)\nfase a\n  als v\n", 0, "t.oef:3:7: ",
	  "'v' is een variabele" },
	{ "fase a\n  naar b\n", 0, "t.oef:2:3: ",
	  "onbekende fase of einde 'b'" },
	{ "fase a\n  punt p getoond\n", 0, "t.oef:2:3: ",
	  "onbekend rubriekpunt 'p'" },
	{ "bedoeling x\n  patroon: a ~k\n", 0, "t.oef:2:14: ",
	  "onbekend begrip '~k'" },
	{ "begrip k = a, (b | ~m)\n", 0, "t.oef:1:20: ",
	  "onbekend begrip '~m'" },
	/* the place of the second ~concept, not the first's */
	{ "begrip k = a\nbedoeling x\n  patroon: ~k\n  patroon: b ~q\n",
	  0, "t.oef:4:14: ", "onbekend begrip '~q'" },
	{ SC TI PE IN VT SP "begin: b\n" FA, 0, "t.oef:8:1: ",
	  "begin: 'b' is geen fase" },
	{ SC TI PE IN VT SP "begin: e\n" FA "einde e goed\n", 0,
	  "t.oef:8:1: ", "begin: 'e' is geen fase" },

	/* duplicates name the earlier place */
	{ "bedoeling x\n  patroon: a\nbedoeling x\n  patroon: b\n", 0,
	  "t.oef:3:1: ", "bedoeling 'x' bestaat al (t.oef:1)" },
	{ "begrip k = a\n\nbegrip k = b\n", 0, "t.oef:3:1: ",
	  "begrip 'k' bestaat al (t.oef:1)" },
	{ "var v = 0 (0..1)\nvar v = 1 (0..1)\n", 0, "t.oef:2:1: ",
	  "var 'v' bestaat al (t.oef:1)" },
	{ "punt p: Een\npunt p: Twee\n", 0, "t.oef:2:1: ",
	  "punt 'p' bestaat al (t.oef:1)" },
	{ "fase a\n  als beurt > 1\nregel r\n  als beurt > 1\n"
	  "regel r\n  als beurt > 2\n", 0, "t.oef:5:1: ",
	  "regel 'r' bestaat al (t.oef:3)" },
	{ "fase a\nfase a\n", 0, "t.oef:2:1: ",
	  "fase 'a' bestaat al (t.oef:1)" },
	{ "fase a\neinde a goed\n", 0, "t.oef:2:1: ",
	  "einde 'a' bestaat al (t.oef:1)" },
	{ "standaard\n  anders\nstandaard\n", 0, "t.oef:3:1: ",
	  "er is al een blok 'standaard' (t.oef:1)" },
	{ "scenario a\nscenario b\n", 0, "t.oef:2:1: ",
	  "er staat al 'scenario a' (t.oef:1)" },
	{ SC TI "titel: U\n" PE IN VT SP FA, 0, "t.oef:3:1: ",
	  "'titel' staat er al" },

	/* text lines */
	{ "fase a\n  - hallo\n", 0, "t.oef:2:3: ",
	  "'- tekst' hoort onder 'zeg'" },
	{ "fase a\n  zeg\n  - a\n  naar a\n  - b\n", 0, "t.oef:5:3: ",
	  "'- tekst' hoort onder 'zeg'" },
	{ "- hallo\n", 0, "t.oef:1:1: ", "'- tekst' hoort onder 'zeg'" },
	{ "fase a\n  zeg\n  + b\n", 0, "t.oef:3:3: ",
	  "'+' volgt op een '- tekst'" },
	{ "fase a\n  + b\n", 0, "t.oef:2:3: ", "'+ tekst' hoort onder 'zeg'" },
	{ "fase a\n  zeg\n  - 1\n  + 2\n  + 3\n  + 4\n", 0, "t.oef:6:3: ",
	  "hoogstens 3 berichten per variant" },
	{ "fase a\n  zeg\n  -   \n", 0, "t.oef:3:3: ", "lege tekst na '-'" },
	{ "fase a\n  zeg\n  - a\n  +\n", 0, "t.oef:4:3: ",
	  "lege tekst na '+'" },
	{ "fase a\n  zeg\n", 0, "t.oef:2:3: ", "'zeg' zonder zinnen" },
	{ "fase a\n  zeg nu\n", 0, "t.oef:2:3: ",
	  "na 'zeg' komen de zinnen op eigen regels" },
	{ "fase a\n> tekst\n", 0, "t.oef:2:1: ",
	  "'>' hoort onder 'inleiding:' of 'uitleg:'" },
	{ "fase a\n  uitleg: x\n", 0, "t.oef:2:3: ",
	  "'uitleg' hoort bij een einde" },
	{ "fase a\n  zeg\n  - [beurt >= 1 Hoi\n", 0, "t.oef:3:17: ",
	  "onverwacht 'Hoi' in voorwaarde" },

	/* unknown placeholder: the column of the '{' */
	{ "fase a\n  zeg\n  - Hallo {naam}!\n", 0, "t.oef:3:11: ",
	  "onbekende invulplek '{naam}" },
	{ "fase a\n  zeg\n  - a\n  + Dag {wie}\n", 0, "t.oef:4:9: ",
	  "onbekende invulplek '{wie}" },
	{ "fase a\n  zeg\n  - [beurt > 1] {woord}, {Woord}\n", 0,
	  "t.oef:3:26: ", "onbekende invulplek '{Woord}" },

	/* var */
	{ "var x = 3 0..10\n", 0, "t.oef:1:1: ",
	  "verwacht: var <naam> = <begin> (<min>..<max>)" },
	{ "var X = 1 (0..1)\n", 0, "t.oef:1:1: ", "verwacht: var <naam>" },
	{ "var x = (0..1)\n", 0, "t.oef:1:1: ", "verwacht: var <naam>" },
	{ "var x = 1 (0..1) extra\n", 0, "t.oef:1:1: ",
	  "verwacht: var <naam>" },
	{ "var x = 1 (0...1)\n", 0, "t.oef:1:1: ", "verwacht: var <naam>" },
	{ "var x = 11 (0..10)\n", 0, "t.oef:1:1: ",
	  "var x: beginwaarde 11 ligt niet tussen 0 en 10" },
	{ "var x = -1 (0..10)\n", 0, "t.oef:1:1: ",
	  "beginwaarde -1 ligt niet tussen 0 en 10" },
	{ "var x = 1 (5..0)\n", 0, "t.oef:1:1: ", "ligt niet tussen 5 en 0" },
	{ "var beurt = 1 (0..5)\n", 0, "t.oef:1:1: ",
	  "'beurt' is ingebouwd" },
	{ "fase a\n  vertrouwen ++1\n", 0, "t.oef:2:3: ",
	  "verwacht: vertrouwen +1" },

	/* a scenario needs titel, persona, inleiding, vertrouwen, spanning,
	 * and vertrouwen/spanning run from 0 to 10 */
	{ SC PE IN VT SP FA, 0, "t.oef:1:1: ",
	  "scenario 's' heeft geen titel:" },
	{ SC TI IN VT SP FA, 0, "t.oef:1:1: ",
	  "scenario 's' heeft geen persona:" },
	{ SC TI PE VT SP FA, 0, "t.oef:1:1: ",
	  "scenario 's' heeft geen inleiding:" },
	{ SC TI PE IN SP FA, 0, "t.oef:1:1: ",
	  "elk scenario heeft 'var vertrouwen" },
	{ SC TI PE IN VT FA, 0, "t.oef:1:1: ",
	  "elk scenario heeft 'var spanning" },
	{ SC TI PE IN "var vertrouwen = 3 (0..9)\n" SP FA, 0, "t.oef:6:1: ",
	  "vertrouwen loopt van 0 tot en met 10" },
	{ SC TI PE IN VT "var spanning = 3 (1..10)\n" FA, 0, "t.oef:7:1: ",
	  "spanning loopt van 0 tot en met 10" },
	{ SC TI PE IN VT SP, 0, "t.oef:1:1: ",
	  "scenario 's' heeft geen fase" },
	{ "scenario S\n", 0, "t.oef:1:1: ", "verwacht: scenario <id>" },
	{ "titel:\n", 0, "t.oef:1:1: ", "'titel' is leeg" },
	{ "moeilijkheid: 4\n", 0, "t.oef:1:1: ", "moeilijkheid is 1, 2 of 3" },
	{ "inleiding: tekst\n", 0, "t.oef:1:1: ",
	  "de inleiding staat op regels met '>'" },

	/* concepts */
	{ "begrip a = ~b\nbegrip b = x, ~a\n", 0, "t.oef:1:1: ",
	  "begrip 'a' gebruikt zichzelf" },
	{ "begrip a = x, [~a]\n", 0, "t.oef:1:1: ",
	  "begrip 'a' gebruikt zichzelf" },
	{ "begrip a = x,, y\n", 0, "t.oef:1:14: ", "leeg item in begrip 'a'" },
	{ "begrip a x\n", 0, "t.oef:1:1: ", "verwacht: begrip <naam> =" },

	/* source lines */
	{ BYTES("fase a\n  zeg\n  - caf\xe9\n"), "t.oef:3:1: ",
	  "geen geldige UTF-8-tekst" },
	{ BYTES("# a\n\xff\xfe\n"), "t.oef:2:1: ",
	  "geen geldige UTF-8-tekst" },
	{ BYTES("fase a\n  zeg\n  - a\0b\n"), "t.oef:3:1: ",
	  "geen geldige UTF-8-tekst" },

	/* patterns */
	{ "bedoeling x\n  patroon: (a | b\n", 0, "t.oef:2:18: ",
	  "verwacht ')' of '|'" },
	{ "bedoeling x\n  patroon: [a b\n", 0, "t.oef:2:16: ",
	  "verwacht ']'" },
	{ "bedoeling x\n  patroon: <a b\n", 0, "t.oef:2:16: ",
	  "verwacht '>'" },
	{ "bedoeling x\n  patroon: (a | [b c)\n", 0, "t.oef:2:21: ",
	  "verwacht ']'" },
	{ "bedoeling x\n  patroon: a b)\n", 0, "t.oef:2:15: ",
	  "onverwacht ')' in patroon" },
	{ "bedoeling x\n  patroon: a ] b\n", 0, "t.oef:2:14: ",
	  "onverwacht ']' in patroon" },
	{ "bedoeling x\n  patroon:\n", 0, "t.oef:2:11: ", "leeg patroon" },
	{ "bedoeling x\n  patroon:  , \n", 0, "t.oef:2:14: ",
	  "leeg patroon" },
	{ "bedoeling x\n  patroon: a ~\n", 0, "t.oef:2:14: ",
	  "verwacht de naam van een begrip na '~'" },
	{ "bedoeling x\n  patroon: a (b | <c>)\n", 0, "t.oef:2:19: ",
	  "<…> mag alleen bovenaan" },
	{ "bedoeling x\n  patroon: a ?!\n", 0, "t.oef:2:14: ",
	  "'?!' bevat geen letters of cijfers" },
	{ "bedoeling x\n  ja: a\n", 0, "t.oef:1:1: ",
	  "bedoeling 'x' heeft geen patroon" },
	{ "bedoeling x\n  patroon: a\n  ja:\n", 0, "t.oef:3:3: ",
	  "lege voorbeeldzin" },
	{ "bedoeling x\n  patroon: a\n  ontkenning: soms\n", 0,
	  "t.oef:3:3: ", "verwacht: ontkenning: ja|nee" },

	/* rules, phases, endings */
	{ "fase a\n  onderbreek\n", 0, "t.oef:2:3: ",
	  "'onderbreek' hoort alleen in een regel" },
	{ "einde e goed\n  eenmalig\n", 0, "t.oef:2:3: ",
	  "'eenmalig' hoort alleen in een regel" },
	{ "onderbreek\n", 0, "t.oef:1:1: ", "'onderbreek' hoort in een regel" },
	{ "regel r\n  als beurt > 1\n  anders\n", 0, "t.oef:3:3: ",
	  "'anders' hoort in een fase of 'standaard'" },
	{ "regel r\n  als beurt > 1\n  zodra beurt > 2\n", 0, "t.oef:3:3: ",
	  "een regel heeft één 'als' of 'zodra'" },
	{ "regel r\n  zeg\n  - Hoi.\n", 0, "t.oef:1:1: ",
	  "regel 'r' heeft geen 'als' of 'zodra'" },
	{ "einde e goed\n  als beurt > 1\n", 0, "t.oef:2:3: ",
	  "'als' hoort in een fase, regel of 'standaard'" },
	{ "fase a\n  anders nu\n", 0, "t.oef:2:10: ",
	  "'anders' staat alleen op de regel" },
	{ "einde e\n", 0, "t.oef:1:8: ", "verwacht het soort einde" },
	{ "einde e slecht\n", 0, "t.oef:1:9: ", "verwacht het soort einde" },
	{ "fase a b\n", 0, "t.oef:1:8: ", "onverwacht 'b' na de naam" },
	{ "fase\n", 0, "t.oef:1:1: ", "verwacht: fase <naam>" },
	{ "standaard x\n", 0, "t.oef:1:1: ", "'standaard' heeft geen naam" },
	{ "fase a\n  naar\n", 0, "t.oef:2:3: ", "verwacht: naar <fase" },
	{ "punt p: P\nfase a\n  punt p gezien\n", 0, "t.oef:3:10: ",
	  "verwacht 'getoond' of 'gemist'" },
	{ "punt p: P\nfase a\n  punt p getoond \"reden\n", 0,
	  "t.oef:3:19: ", "reden zonder sluitend" },
	{ "punt p:\n", 0, "t.oef:1:1: ", "punt p: label ontbreekt" },
	{ "fase a\n  als beurt > 1 beurt\n", 0, "t.oef:2:17: ",
	  "onverwacht 'beurt' in voorwaarde" },
	{ "fase a\n  als beurt >\n", 0, "t.oef:2:14: ",
	  "verwacht een getal na de vergelijking" },
	{ "fase a\n  als (beurt > 1\n", 0, "t.oef:2:17: ", "verwacht ')'" },
	{ "fase a\n  als\n", 0, "t.oef:2:6: ",
	  "verwacht een bedoeling, een variabele of '('" },
};

static void test_errors(void **state)
{
	size_t bad = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(err_cases); i++) {
		const struct err_case *c = &err_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		struct script *s = (struct script *)1;
		struct diag d;
		int rc;

		diag_init(&d);
		rc = script_load_text("t.oef", c->text, len, &s, &d);
		if (rc != -1 || s || !has_diag(&d, c->where, c->what)) {
			print_message("case %zu: \"%s\": rc %d, expected "
				      "\"%s…%s…\", got:\n", i, c->text, rc,
				      c->where, c->what);
			print_diags(&d);
			if (s != (struct script *)1)
				script_free(s);
			bad++;
		}
		diag_release(&d);
	}
	assert_int_equal(bad, 0);
}

/* Source lines longer than SCRIPT_MAX_LINE bytes are refused; exactly
 * that many are fine. */
static void test_long_lines(void **state)
{
	struct sbuf sb;
	struct script *s = NULL;
	struct diag d;

	(void)state;
	diag_init(&d);
	sbuf_init(&sb);
	sbuf_adds(&sb, "fase a\n  zeg\n  - ");
	for (size_t i = 4; i < SCRIPT_MAX_LINE; i++)
		sbuf_addc(&sb, 'x');
	sbuf_adds(&sb, "\n");
	assert_int_equal(script_load_text("t.oef", sb.buf, sb.len, &s, &d),
			 0);
	assert_int_equal(strlen(s->nodes[0].enter.v[0].variants[0].msgs[0]),
			 SCRIPT_MAX_LINE - 4);
	script_free(s);

	sbuf_reset(&sb);
	sbuf_adds(&sb, "fase a\n# ");
	for (size_t i = 2; i < SCRIPT_MAX_LINE + 1; i++)
		sbuf_addc(&sb, 'x');
	sbuf_adds(&sb, "\nblaat\n");
	assert_int_equal(script_load_text("t.oef", sb.buf, sb.len, &s, &d),
			 -1);
	assert_null(s);
	expect_diag(&d, "t.oef:2:1: ", "regel is langer dan 4000 bytes");
	/* parsing goes on after it */
	expect_diag(&d, "t.oef:3:1: ", "onbekende opdracht 'blaat'");
	diag_release(&d);
	sbuf_release(&sb);
}

/* head, then lines lines of 1,000 times each ending in ',' (so the
 * logical line goes on), then tail. */
static void long_pattern(struct sbuf *sb, const char *head, const char *each,
			 size_t lines, const char *tail)
{
	sbuf_reset(sb);
	sbuf_adds(sb, head);
	for (size_t line = 0; line < lines; line++) {
		for (size_t i = 0; i < 1000; i++)
			sbuf_adds(sb, each);
		sbuf_adds(sb, ",\n");
	}
	sbuf_adds(sb, tail);
}

/* A pattern's counts are 16 bits (struct pat, struct pat_seq), but a
 * logical line goes on as long as its lines end in ',': a pattern or a
 * group too long for them is refused, not cut short. */
static void test_pattern_counts(void **state)
{
	static const struct {
		const char *head, *each, *tail, *what;
	} bad[] = {
		{ "bedoeling x\n  patroon:", " a", " a\n",
		  "patroon is te lang" },
		{ "bedoeling x\n  patroon: (a", "|a", ")\n",
		  "te veel keuzes in één groep" },
	};
	struct sbuf sb;
	struct script *s = NULL;
	struct diag d;

	(void)state;
	sbuf_init(&sb);
	for (size_t k = 0; k < ARRAY_LEN(bad); k++) {
		diag_init(&d);
		long_pattern(&sb, bad[k].head, bad[k].each, 70, bad[k].tail);
		assert_int_equal(script_load_text("t.oef", sb.buf, sb.len, &s,
						  &d), -1);
		assert_null(s);
		expect_diag(&d, "t.oef:2:", bad[k].what);
		diag_release(&d);
	}

	/* 30,000 words still load, every one of them */
	diag_init(&d);
	long_pattern(&sb, "bedoeling x\n  patroon:", " a", 30, " b\n");
	assert_int_equal(script_load_text("t.oef", sb.buf, sb.len, &s, &d),
			 0);
	assert_int_equal(s->intents[0].pats[0].n, 30001);
	assert_int_equal(s->intents[0].pats[0].nreq, 30001);
	script_free(s);
	diag_release(&d);
	sbuf_release(&sb);
}

/* Every problem is reported, each on its own line and place. */
static void test_many_errors(void **state)
{
	static const char text[] =
		"fase a\n"
		"  blaat\n"
		"  naar nergens\n"
		"  als onbekend\n"
		"begrip k = x,\n"
		"   y,\n"
		"   z\n"
		"  wauw\n";
	struct script *s = NULL;
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_int_equal(script_load_text("t.oef", text, strlen(text), &s,
					  &d), -1);
	/* line numbers stay right after a continued begrip; name errors
	 * are only looked for when the lines parse */
	expect_diag(&d, "t.oef:2:3: ", "onbekende opdracht 'blaat'");
	expect_diag(&d, "t.oef:8:3: ", "onbekende opdracht 'wauw'");
	assert_int_equal(d.n, 2);
	diag_release(&d);
}

/* A struct diag is reused across scripts (oefenkamer check, the
 * catalog): earlier messages must not hide the errors of the next
 * script, nor a full list. */
static void test_diag_reuse(void **state)
{
	static const char bad[] = "fase a\n  als onbekend\n";
	static const char good[] = "bedoeling x\n  patroon: a\n"
				   "bedoeling y\n  patroon: b\n"
				   "fase a\n  als y\n    naar b\nfase b\n";
	struct loc l = { "eerder.oef", 1, 1 };
	struct script *s = NULL;
	struct diag d;

	(void)state;
	diag_init(&d);
	diag_add(&d, &l, "een eerdere fout");
	assert_int_equal(script_load_text("t.oef", bad, strlen(bad), &s, &d),
			 -1);
	assert_null(s);
	expect_diag(&d, "t.oef:2:7: ", "onbekende bedoeling 'onbekend'");
	assert_string_equal(d.msgs[0], "eerder.oef:1:1: een eerdere fout");

	/* a good script after errors is resolved in full */
	assert_int_equal(script_load_text("t.oef", good, strlen(good), &s,
					  &d), 0);
	assert_expr(s->nodes[0].trans[0].cond, "y@1");
	assert_actions(&s->nodes[0].trans[0].acts, "naar b@1");
	script_free(s);

	/* with the list full, a bad script still fails */
	while (d.n < 100) {
		size_t n = d.n;

		diag_add(&d, &l, "vulsel");
		if (d.n == n)
			break;
	}
	assert_int_equal(script_load_text("t.oef", bad, strlen(bad), &s, &d),
			 -1);
	assert_null(s);
	diag_release(&d);
}

/* Variant indices are global over the script, for least-recently-used. */
static void test_variant_index(void **state)
{
	struct script *s = load_ok(
		"regel r\n  als beurt > 0\n  zeg\n  - a\n  - b\n"
		"fase f\n  zeg\n  - c\n  als beurt = 1\n    zeg\n    - d\n"
		"    + e\n  anders\n    zeg\n    - f\n    - g\n");

	(void)state;
	assert_int_equal(s->nvariants, 6);
	assert_int_equal(s->rules[0].acts.v[0].variants[1].index, 1);
	assert_int_equal(s->nodes[0].enter.v[0].variants[0].index, 2);
	assert_int_equal(s->nodes[0].trans[0].acts.v[0].variants[0].index,
			 3);
	assert_int_equal(s->nodes[0].trans[0].acts.v[0].variants[0].nmsgs,
			 2);
	assert_int_equal(s->nodes[0].fallbacks[0].acts.v[0].variants[1]
			 .index, 5);
	script_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_header),
		cmocka_unit_test(test_full_decls),
		cmocka_unit_test(test_full_intents),
		cmocka_unit_test(test_full_rules),
		cmocka_unit_test(test_full_nodes),
		cmocka_unit_test(test_small_forms),
		cmocka_unit_test(test_supplement),
		cmocka_unit_test(test_include_files),
		cmocka_unit_test(test_include_text),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_pattern_counts),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_diag_reuse),
		cmocka_unit_test(test_variant_index),
		cmocka_unit_test(test_condition_gate),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
