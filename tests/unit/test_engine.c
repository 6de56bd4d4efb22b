/* test_engine.c - the turn order of docs/scenariotaal.md, on a small
 * script written for the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "corpus.h"
#include "engine.h"
#include "util.h"

/* The lines every fixture scenario below starts with, after its
 * scenario, titel and persona: an inleiding and the two meters. */
#define FX_HEAD \
	"inleiding:\n" \
	"> Je bent hier.\n" \
	"var vertrouwen = 3 (0..10)\n" \
	"var spanning = 5 (0..10)\n"

static const char script_text[] =
	"scenario t\n"
	"titel: Test\n"
	"persona: p\n"
	FX_HEAD
	"var genoemd = 0 (0..1)\n"
	"punt begrip-taal: Taal\n"
	"punt vertrouwen: Vertrouwen\n"
	"begrip jargon = ots, risicotaxatie*\n"
	"bedoeling jargon\n"
	"  patroon: ~jargon\n"
	"  ontkenning: nee\n"
	"  ja: ots\n"
	"bedoeling groet\n"
	"  patroon: hallo\n"
	"  ja: hallo\n"
	"bedoeling vraagt\n"
	"  patroon: hoe gaat het\n"
	"  ja: hoe gaat het\n"
	"bedoeling dreigt\n"
	"  patroon: rechter\n"
	"  ja: rechter\n"
	"bedoeling bye\n"
	"  patroon: doei\n"
	"  ja: doei\n"
	"regel jargon\n"
	"  als jargon\n"
	"  vertrouwen -1\n"
	"  punt begrip-taal gemist \"jargon\"\n"
	"  onderbreek\n"
	"  zeg\n"
	"  - Wat is {woord}?\n"
	"  - [spanning >= 99] {woord}? Nooit van gehoord.\n"
	"  - [vertrouwen < 2] {woord}? Wat is dat nou weer?\n"
	"regel eerste-groet\n"
	"  als groet\n"
	"  eenmalig\n"
	"  vertrouwen +1\n"
	"regel dreig\n"
	"  als dreigt\n"
	"  spanning +3\n"
	"fase begin\n"
	"  zeg\n"
	"  - Goedemiddag.\n"
	"  als vraagt\n"
	"    vertrouwen +2\n"
	"    genoemd = 1\n"
	"    punt vertrouwen getoond\n"
	"    zeg\n"
	"    - Gaat wel.\n"
	"    naar midden\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n"
	"  anders\n"
	"    zeg\n"
	"    - Wat wilt u nou eigenlijk?\n"
	"fase midden\n"
	"  zeg\n"
	"  - [vertrouwen >= 6] Fijn dat u het vraagt.\n"
	"  - [vertrouwen < 6] Nou ja.\n"
	"  als groet\n"
	"    zeg\n"
	"    - Een.\n"
	"    - Twee.\n"
	"    - Drie.\n"
	"  zodra vertrouwen >= 9\n"
	"    naar goed\n"
	"standaard\n"
	"  uitwijk\n"
	"  - Tja.\n"
	"  als bye\n"
	"    naar neutraal\n"
	"  zodra spanning >= 10\n"
	"    naar breuk\n"
	"  zodra beurt >= 30\n"
	"    naar neutraal\n"
	"  anders\n"
	"    zeg\n"
	"    - Standaard.\n"
	"einde goed goed\n"
	"  zeg\n"
	"  - Tot volgende week.\n"
	"  + Echt.\n"
	"  uitleg: Goed gedaan.\n"
	"einde breuk breuk\n"
	"  zeg\n"
	"  - Ik stop ermee.\n"
	"einde neutraal neutraal\n"
	"  zeg\n"
	"  - Dag.\n";

struct fx {
	struct script *s;
	struct engine *e;
	struct match m;
	struct engine_out out;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct diag d;

	diag_init(&d);
	if (script_load_text("t.oef", script_text, strlen(script_text), &f->s,
			     &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
		diag_release(&d);
		free(f);
		return -1;
	}
	diag_release(&d);
	f->e = engine_new(f->s, 7);
	match_init(&f->m);
	engine_out_init(&f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	engine_free(f->e);
	script_free(f->s);
	match_release(&f->m);
	engine_out_release(&f->out);
	free(f);
	return 0;
}

static void say(struct fx *f, const char *text)
{
	assert_int_equal(engine_turn(f->e, &f->m, text, strlen(text),
				     &f->out), 0);
}

static int var(struct fx *f, const char *name)
{
	return engine_var(f->e, (size_t)script_find_var(f->s, name));
}

static const char *node(struct fx *f)
{
	return f->s->nodes[engine_node(f->e)].name;
}

static void test_start(void **state)
{
	struct fx *f = *state;

	engine_start(f->e, &f->out);
	assert_int_equal(f->out.nmsgs, 1);
	assert_string_equal(f->out.msgs[0].buf, "Goedemiddag.");
	assert_string_equal(node(f), "begin");
	assert_int_equal(var(f, "vertrouwen"), 3);
	assert_int_equal(engine_beurt(f->e), 0);
}

static void test_jargon_interrupts(void **state)
{
	struct fx *f = *state;

	engine_start(f->e, &f->out);
	/* jargon and a transition intent in one message: the rule
	 * interrupts, so the phase does not change */
	say(f, "Hoe gaat het met de risicotaxatie?");
	assert_int_equal(f->out.nmsgs, 1);
	assert_string_equal(f->out.msgs[0].buf, "Wat is risicotaxatie?");
	assert_string_equal(node(f), "begin");
	assert_int_equal(var(f, "vertrouwen"), 2);
	assert_int_equal(f->out.nrules, 1);
	assert_int_equal(f->out.npoints, 1);
	assert_int_equal(f->out.points[0].shown, 0);
	assert_string_equal(f->out.points[0].reason, "jargon");
	assert_int_equal(f->out.missed, 0);
	/* {woord} quotes what the trainee typed, case and all; a line
	 * said once is not said again: the next variant whose condition
	 * holds */
	say(f, "Er komt een OTS.");
	assert_string_equal(f->out.msgs[0].buf, "OTS? Wat is dat nou weer?");
	/* every variant said: the uitwijk line, once; then nothing */
	say(f, "Er komt een OTS.");
	assert_int_equal(f->out.nmsgs, 1);
	assert_string_equal(f->out.msgs[0].buf, "Tja.");
	say(f, "Er komt een OTS.");
	assert_int_equal(f->out.nmsgs, 0);
	assert_int_equal(f->out.nrules, 1);
}

static void test_transition_and_entry(void **state)
{
	struct fx *f = *state;

	engine_start(f->e, &f->out);
	say(f, "Hoe gaat het?");
	assert_string_equal(node(f), "midden");
	assert_int_equal(f->out.from, 0);
	assert_non_null(f->out.trans);
	/* the transition's line, then the new phase's entry line */
	assert_int_equal(f->out.nmsgs, 2);
	assert_string_equal(f->out.msgs[0].buf, "Gaat wel.");
	/* vertrouwen 5 now: the conditional variant for < 6 */
	assert_string_equal(f->out.msgs[1].buf, "Nou ja.");
	assert_int_equal(var(f, "genoemd"), 1);
	assert_int_equal(f->out.points[0].shown, 1);
}

static void test_fallbacks_escalate(void **state)
{
	struct fx *f = *state;

	engine_start(f->e, &f->out);
	say(f, "blabla");
	assert_int_equal(f->out.missed, 1);
	assert_string_equal(f->out.msgs[0].buf, "Hm.");
	say(f, "nog meer blabla");
	assert_string_equal(f->out.msgs[0].buf, "Wat wilt u nou eigenlijk?");
	say(f, "en nog eens");
	/* the second anders again, its line said already: uitwijk */
	assert_int_equal(f->out.missed, 1);
	assert_string_equal(f->out.msgs[0].buf, "Tja.");
	/* a recognised message resets the count */
	say(f, "hoe gaat het");
	assert_int_equal(f->out.missed, 0);
	/* phase midden has no anders: standaard's is used */
	say(f, "blabla");
	assert_string_equal(f->out.msgs[0].buf, "Standaard.");
}

static void test_once_rule_and_lru(void **state)
{
	struct fx *f = *state;
	char seen[3][32];

	engine_start(f->e, &f->out);
	say(f, "hoe gaat het");
	say(f, "hallo");
	assert_int_equal(var(f, "vertrouwen"), 6);   /* 3 +2 +1 */
	assert_int_equal(f->out.nrules, 1);
	strcpy(seen[0], f->out.msgs[0].buf);
	say(f, "hallo");
	assert_int_equal(f->out.nrules, 0);         /* eenmalig */
	assert_int_equal(var(f, "vertrouwen"), 6);
	strcpy(seen[1], f->out.msgs[0].buf);
	say(f, "hallo");
	strcpy(seen[2], f->out.msgs[0].buf);
	/* three variants, three turns: never the same line twice */
	assert_string_not_equal(seen[0], seen[1]);
	assert_string_not_equal(seen[0], seen[2]);
	assert_string_not_equal(seen[1], seen[2]);
	say(f, "hallo");
	/* the fourth time no line comes back: the uitwijk line */
	assert_string_equal(f->out.msgs[0].buf, "Tja.");
}

static void test_zodra_breakdown(void **state)
{
	struct fx *f = *state;

	engine_start(f->e, &f->out);
	say(f, "anders naar de rechter");
	assert_int_equal(var(f, "spanning"), 8);
	assert_int_equal(engine_ended(f->e), 0);
	say(f, "de rechter");
	/* clamped at the bound, and the standaard zodra ends it */
	assert_int_equal(var(f, "spanning"), 10);
	assert_int_equal(engine_ended(f->e), 1);
	assert_int_equal(f->out.ended, 1);
	assert_string_equal(node(f), "breuk");
	assert_string_equal(f->out.msgs[f->out.nmsgs - 1].buf,
			    "Ik stop ermee.");
	assert_int_equal(engine_turn(f->e, &f->m, "hallo", 5, &f->out), -1);
	assert_int_equal(f->out.nmsgs, 0);
}

static void test_good_ending_two_messages(void **state)
{
	struct fx *f = *state;

	engine_start(f->e, &f->out);
	say(f, "hoe gaat het");      /* 5 */
	say(f, "hallo");             /* 6, eenmalig */
	/* raise trust by hand through repeated vraagt? midden has no
	 * vraagt transition, so use restore to set the state */
	{
		struct sbuf sb;
		struct err err;
		char *p;

		sbuf_init(&sb);
		engine_save(f->e, &sb);
		/* vars come right after the 7 header fields */
		p = sb.buf;
		for (int i = 0; i < 8; i++)
			p = strchr(p, ' ') + 1;
		assert_int_equal(p[0], '6');
		p[0] = '9';
		assert_int_equal(engine_restore(f->e, sb.buf, &err), 0);
		sbuf_release(&sb);
	}
	say(f, "hallo");
	assert_string_equal(node(f), "goed");
	assert_int_equal(f->out.ended, 1);
	/* entry lines of the ending win the three slots: 1 + 2 */
	assert_int_equal(f->out.nmsgs, 3);
	assert_string_equal(f->out.msgs[1].buf, "Tot volgende week.");
	assert_string_equal(f->out.msgs[2].buf, "Echt.");
}

static void test_turn_count_ending(void **state)
{
	struct fx *f = *state;

	engine_start(f->e, &f->out);
	for (int i = 0; i < 29; i++) {
		say(f, "hallo");
		assert_int_equal(engine_ended(f->e), 0);
	}
	say(f, "hallo");
	assert_int_equal(engine_beurt(f->e), 30);
	assert_string_equal(node(f), "neutraal");
}

static void test_save_restore_continues_identically(void **state)
{
	struct fx *f = *state;
	const char *msgs[] = { "hallo", "hoe gaat het", "hallo", "hallo",
			       "blabla", "hallo" };
	struct engine *b;
	struct engine_out o2;
	struct sbuf sb;
	struct err err;

	engine_start(f->e, &f->out);
	say(f, msgs[0]);
	say(f, msgs[1]);
	sbuf_init(&sb);
	engine_save(f->e, &sb);
	b = engine_new(f->s, 999);   /* other seed: restore overrides */
	assert_int_equal(engine_restore(b, sb.buf, &err), 0);
	engine_out_init(&o2);
	for (size_t i = 2; i < ARRAY_LEN(msgs); i++) {
		say(f, msgs[i]);
		assert_int_equal(engine_turn(b, &f->m, msgs[i],
					     strlen(msgs[i]), &o2), 0);
		assert_int_equal(o2.nmsgs, f->out.nmsgs);
		for (size_t k = 0; k < o2.nmsgs; k++)
			assert_string_equal(o2.msgs[k].buf,
					    f->out.msgs[k].buf);
	}
	assert_int_equal(engine_state_hash(b), engine_state_hash(f->e));
	/* damaged or foreign state is refused, the engine unchanged */
	assert_int_equal(engine_restore(b, "v1 garbage", &err), -1);
	assert_non_null(strstr(err.msg, "beschadigd"));
	sb.buf[3] = sb.buf[3] == '0' ? '1' : '0';
	assert_int_equal(engine_restore(b, sb.buf, &err), -1);
	assert_non_null(strstr(err.msg, "andere versie"));
	assert_int_equal(engine_state_hash(b), engine_state_hash(f->e));
	sbuf_release(&sb);
	engine_out_release(&o2);
	engine_free(b);
}

static void test_same_seed_same_lines(void **state)
{
	struct fx *f = *state;
	struct engine *a = engine_new(f->s, 5), *b = engine_new(f->s, 5);
	struct engine_out oa, ob;

	engine_out_init(&oa);
	engine_out_init(&ob);
	engine_start(a, &oa);
	engine_start(b, &ob);
	engine_turn(a, &f->m, "hoe gaat het", 12, &oa);
	engine_turn(b, &f->m, "hoe gaat het", 12, &ob);
	for (int i = 0; i < 6; i++) {
		engine_turn(a, &f->m, "hallo", 5, &oa);
		engine_turn(b, &f->m, "hallo", 5, &ob);
		assert_string_equal(oa.msgs[0].buf, ob.msgs[0].buf);
	}
	engine_out_release(&oa);
	engine_out_release(&ob);
	engine_free(a);
	engine_free(b);
}

static void test_size_is_small(void **state)
{
	struct fx *f = *state;

	/* far under the 16 KB per live session of the issue */
	assert_true(engine_size(f->e) < 1024);
	assert_true(engine_size(f->e) >= sizeof(int) * f->s->nvars);
}

/* The saved state's numbers are written without printf: the extremes
 * come out as printf would write them. */
static void test_decimal_numbers(void **state)
{
	const int64_t iv[] = { 0, 7, -1, 10, -10, 123456789, INT64_MAX,
			       INT64_MIN };
	const uint64_t uv[] = { 0, 9, 10, 4294967295u, UINT64_MAX };
	char want[32];
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	for (size_t i = 0; i < sizeof(iv) / sizeof(iv[0]); i++) {
		sbuf_reset(&sb);
		sbuf_addi(&sb, iv[i]);
		snprintf(want, sizeof(want), "%" PRId64, iv[i]);
		assert_string_equal(sbuf_str(&sb), want);
	}
	for (size_t i = 0; i < sizeof(uv) / sizeof(uv[0]); i++) {
		sbuf_reset(&sb);
		sbuf_adds(&sb, "x");
		sbuf_addu(&sb, uv[i]);
		snprintf(want, sizeof(want), "x%" PRIu64, uv[i]);
		assert_string_equal(sbuf_str(&sb), want);
	}
	sbuf_release(&sb);
}


/* ------------------------------------------ several moves, context */

static const char context_text[] =
	"scenario c\n"
	"titel: Context\n"
	"persona: p\n"
	FX_HEAD
	"var koffie = 0 (0..1)\n"
	"punt vertrouwen: Vertrouwen\n"
	"punt locatie: Locatie\n"
	"bedoeling vraagt\n"
	"  patroon: hoe gaat het\n"
	"bedoeling koffie\n"
	"  patroon: koffie\n"
	"  patroon: thee\n"
	"bedoeling jargon\n"
	"  patroon: ots\n"
	"  ontkenning: nee\n"
	"bedoeling doei\n"
	"  patroon: tot ziens\n"
	"regel jargon\n"
	"  als jargon\n"
	"  onderbreek\n"
	"  zeg\n"
	"  - Wat is {woord}?\n"
	"  - Wat is dat nou weer?\n"
	"  - Alweer zo'n woord.\n"
	"fase begin\n"
	"  zeg\n"
	"  - Ik heb alles opgezocht op internet.\n"
	"    toelichting: De afkortingen uit de brief, die heb ik gegoogeld.\n"
	"  als doei\n"
	"    zeg\n"
	"    - [eerder = 0] Dag.\n"
	"    - [eerder >= 1] Dat zei je al.\n"
	"  als vraagt\n"
	"    vertrouwen +1\n"
	"    zeg\n"
	"    - [vertrouwen < 5] Gaat wel.\n"
	"    - [vertrouwen >= 5] Het gaat, dank u.\n"
	"  als koffie\n"
	"    vertrouwen +1\n"
	"    koffie = 1\n"
	"    punt locatie getoond\n"
	"    zeg\n"
	"    - Graag.\n"
	"    erkenning\n"
	"    - En koffie graag, dank u.\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n"
	"standaard\n"
	"  herhaald\n"
	"  - Dat vroeg u net al.\n"
	"  verduidelijk\n"
	"  - Gewoon, zoals ik het zeg.\n";

/* A script from text that must load; its problems printed if not. */
static struct script *load_text(const char *name, const char *text)
{
	struct script *s = NULL;
	struct diag d;

	diag_init(&d);
	if (script_load_text(name, text, strlen(text), &s, &d) < 0)
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
	diag_release(&d);
	assert_non_null(s);
	return s;
}

static struct script *load_context(void)
{
	return load_text("c.oef", context_text);
}

/* A fresh rehearsal of s with seed, with its output and match
 * scratch; rehearsal_end releases all three. */
static struct engine *rehearse_seed(struct script *s, uint64_t seed,
				    struct engine_out *o, struct match *m)
{
	struct engine *e = engine_new(s, seed);

	engine_out_init(o);
	match_init(m);
	engine_start(e, o);
	return e;
}

/* The same with seed 3. */
static struct engine *rehearse(struct script *s, struct engine_out *o,
			       struct match *m)
{
	return rehearse_seed(s, 3, o, m);
}

static void rehearsal_end(struct engine *e, struct engine_out *o,
			  struct match *m)
{
	match_release(m);
	engine_out_release(o);
	engine_free(e);
}

static void turn(struct engine *e, struct match *m, struct engine_out *o,
		 const char *text)
{
	assert_int_equal(engine_turn(e, m, text, strlen(text), o), 0);
}

/* A fresh rehearsal of s (seed 1) and its first trainee message. */
static void first_turn(struct script *s, struct match *m,
		       struct engine_out *o, const char *text)
{
	struct engine *e = engine_new(s, 1);

	engine_start(e, o);
	turn(e, m, o, text);
	engine_free(e);
}

/* Both clauses count; the first 'als' answers, the other acknowledges;
 * one clause never counts twice. */
static void test_two_moves(void **state)
{
	struct script *s = load_context();
	struct engine *e = engine_new(s, 1);
	struct engine_out o;
	struct match m;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	engine_start(e, &o);
	turn(e, &m, &o, "Hoe gaat het? Wilt u koffie?");
	assert_int_equal(engine_var(e, 0), 5);
	assert_int_equal(engine_var(e, 2), 1);
	assert_int_equal(o.nmsgs, 2);
	assert_string_equal(o.msgs[0].buf, "Gaat wel.");
	assert_string_equal(o.msgs[1].buf, "En koffie graag, dank u.");
	assert_int_equal(o.npoints, 1);
	assert_int_equal(o.points[0].shown, 1);
	assert_false(o.missed);
	/* one clause with both intents: the first 'als' only */
	turn(e, &m, &o, "hoe gaat het met de koffie");
	assert_int_equal(engine_var(e, 0), 6);
	assert_int_equal(o.npoints, 0);
	rehearsal_end(e, &o, &m);
	script_free(s);
}

/* "Hoe bedoelt u dat?" about the last line gets its toelichting, once;
 * a repeated question is noticed. */
static void test_context(void **state)
{
	struct script *s = load_context();
	struct engine *e = engine_new(s, 1), *b;
	struct engine_out o;
	struct match m;
	struct sbuf sb;
	struct err err;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	sbuf_init(&sb);
	engine_start(e, &o);
	engine_save(e, &sb);
	b = engine_new(s, 99);
	assert_int_equal(engine_restore(b, sb.buf, &err), 0);
	turn(e, &m, &o, "Hoe bedoelt u dat, van internet?");
	assert_int_equal(o.nmsgs, 1);
	assert_string_equal(o.msgs[0].buf,
			    "De afkortingen uit de brief, die heb ik "
			    "gegoogeld.");
	assert_false(o.missed);
	/* the restored engine remembers the line too */
	turn(b, &m, &o, "Internet?");
	assert_string_equal(o.msgs[0].buf,
			    "De afkortingen uit de brief, die heb ik "
			    "gegoogeld.");
	/* explained once: now the line has no toelichting left, so
	 * 'verduidelijk' rather than a non sequitur */
	turn(e, &m, &o, "Hoe bedoelt u?");
	assert_false(o.missed);
	assert_int_equal(o.nmsgs, 1);
	assert_string_equal(o.msgs[0].buf, "Gewoon, zoals ik het zeg.");
	/* not a question about the line: no toelichting */
	turn(b, &m, &o, "Ik ben Fleur.");
	assert_true(o.missed);
	/* the same question twice in a row */
	turn(e, &m, &o, "Hoe gaat het?");
	assert_int_equal(o.nmsgs, 1);
	assert_string_equal(o.msgs[0].buf, "Gaat wel.");
	turn(e, &m, &o, "En hoe gaat het nu?");
	assert_int_equal(o.nmsgs, 2);
	assert_string_equal(o.msgs[0].buf, "Dat vroeg u net al.");
	assert_string_equal(o.msgs[1].buf, "Het gaat, dank u.");
	/* the lines said survive save and restore: the restored engine
	 * does not say "Gaat wel." again */
	sbuf_reset(&sb);
	engine_save(e, &sb);
	assert_int_equal(engine_restore(b, sb.buf, &err), 0);
	turn(b, &m, &o, "Wilt u koffie?");
	turn(b, &m, &o, "Ik ben Fleur.");
	turn(b, &m, &o, "Ik ben Fleur.");
	turn(b, &m, &o, "Hoe gaat het?");
	assert_int_equal(o.nmsgs, 0);
	/* a v3 state (before the line said before the last one was
	 * kept) still restores */
	*strrchr(sb.buf, '|') = '\0';
	sb.buf[1] = '3';
	assert_int_equal(engine_restore(b, sb.buf, &err), 0);
	/* a v2 state (before lines said were remembered) takes them
	 * from the variants used; a v1 state still restores */
	*strrchr(sb.buf, '|') = '\0';
	*strrchr(sb.buf, '|') = '\0';
	sb.buf[1] = '2';
	assert_int_equal(engine_restore(b, sb.buf, &err), 0);
	turn(b, &m, &o, "Hoe gaat het?");
	assert_int_equal(o.nmsgs, 0);
	*strrchr(sb.buf, '|') = '\0';
	sb.buf[1] = '1';
	assert_int_equal(engine_restore(b, sb.buf, &err), 0);
	sbuf_release(&sb);
	rehearsal_end(e, &o, &m);
	engine_free(b);
	script_free(s);
}

/* 'herhaald' fires only when the answering 'als' answers a question
 * (act vraag, by a pattern, the same content words matched) that the
 * persona answered as a question in one of the two turns before. */
static void test_repeat_table(void **state)
{
	static const struct {
		const char *msgs[5];
		int repeat;    /* herhaald on the last message */
	} cases[] = {
		/* repeats that count */
		{ { "Hoe gaat het?", "Hoe gaat het?" }, 1 },
		{ { "Hoe gaat het?", "Ik ben Fleur.", "En hoe gaat het nu?" },
		  1 },
		{ { "Hoe gaat het met u?", "Wilt u koffie?",
		    "Maar hoe gaat het?" }, 1 },
		{ { "Wilt u koffie?", "Wilt u nou koffie of niet?" }, 1 },
		/* near-misses */
		{ { "Hoe gaat het?", "Ik ben Fleur.", "Ik werk hier.",
		    "Hoe gaat het?" }, 0 },                /* too long ago */
		{ { "Ik heb koffie gezet.", "Wilt u koffie?" }, 0 },
		/* first not asked */
		{ { "Wilt u koffie?", "Ik heb koffie gezet." }, 0 },
		/* now not asked */
		{ { "Hoe gaat het met de OTS?", "Hoe gaat het?" }, 0 },
		/* the first was not answered: a rule interrupted */
		{ { "Hoe gaat het?", "Hoe gaat het? Tot ziens dan." }, 0 },
		/* another move answers this turn */
		{ { "Hoe gaat het?", "Tot ziens." }, 0 },
		{ { "Hoe gaat het?" }, 0 },
		/* the same intent about something else */
		{ { "Wilt u koffie?", "Of wilt u thee?" }, 0 },
		/* a question of one word echoes; the next one asks */
		{ { "Koffie?", "Wilt u koffie?" }, 0 },
		/* ... or someone else: the whole clause's words count */
		{ { "Hoe gaat het met u?", "Hoe gaat het met Jayden?" }, 0 },
		{ { "Hoe gaat het met Jayden?",
		    "En hoe gaat het nou eigenlijk met Jayden?" }, 1 },
		/* ... or another time: "daarna", "toen", "was" count */
		{ { "Hoe gaat het met u?", "Hoe gaat het daarna met u?" }, 0 },
		{ { "Hoe gaat het toen?", "Hoe gaat het toen eigenlijk?" }, 1 },
		/* ... or another question word: which, not whether */
		{ { "Wilt u koffie?", "Wat voor koffie wilt u?" }, 0 },
		{ { "Wat voor koffie wilt u?", "En wat voor koffie wilt u nou?" },
		  1 },
	};
	struct script *s = load_context();
	struct engine_out o;
	struct match m;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct engine *e = engine_new(s, i + 1);
		int got = 0;

		engine_start(e, &o);
		for (size_t k = 0; k < 5 && cases[i].msgs[k]; k++) {
			turn(e, &m, &o, cases[i].msgs[k]);
			got = 0;
			for (size_t j = 0; j < o.nmsgs; j++)
				got |= !strcmp(o.msgs[j].buf,
					       "Dat vroeg u net al.");
			/* never before the last message */
			if (k + 1 < 5 && cases[i].msgs[k + 1] && got)
				fail_msg("case %zu: herhaald at turn %zu", i,
					 k + 1);
		}
		if (got != cases[i].repeat)
			fail_msg("case %zu: herhaald %d, want %d", i, got,
				 cases[i].repeat);
		engine_free(e);
	}
	match_release(&m);
	engine_out_release(&o);
	script_free(s);
}

/* "En toen?" asks her to go on with her last line: its toelichting
 * when it has one still to give, else nothing special; a continuation
 * the patterns understand gets its 'als'; "En nu?" asks about what is
 * to come, not about her line. */
static void test_go_on(void **state)
{
	static const char *const go_on[] = {
		"En toen?", "en daarna?", "Vertel eens.", "Oké, ga maar door.",
		"En dan?", "En verder?",
	};
	static const char *const text =
		"scenario go-on\n"
		"titel: Verder\n"
		"persona: p\n"
		FX_HEAD
		"bedoeling vraagt\n"
		"  patroon: hoe gaat het\n"
		"bedoeling verder\n"
		"  patroon: en vervolgens\n"
		"fase begin\n"
		"  zeg\n"
		"  - Ik heb alles opgezocht op internet.\n"
		"    toelichting: De afkortingen uit de brief, die heb ik "
		"gegoogeld.\n"
		"  als vraagt\n"
		"    zeg\n"
		"    - Gaat wel.\n"
		"  als verder\n"
		"    zeg\n"
		"    - Toen ben ik gaan bellen.\n"
		"  anders\n"
		"    zeg\n"
		"    - Hm.\n";
	struct script *s = load_text("go-on.oef", text);
	struct engine *e;
	struct engine_out o;
	struct match m;

	(void)state;
	assert_non_null(s);
	for (size_t i = 0; i < ARRAY_LEN(go_on); i++) {
		e = rehearse(s, &o, &m);
		turn(e, &m, &o, go_on[i]);
		assert_false(o.missed);
		assert_int_equal(o.nmsgs, 1);
		assert_string_equal(o.msgs[0].buf,
				    "De afkortingen uit de brief, die heb ik "
				    "gegoogeld.");
		/* given once: asked again, nothing special */
		turn(e, &m, &o, go_on[i]);
		assert_true(o.missed);
		assert_string_equal(o.msgs[0].buf, "Hm.");
		rehearsal_end(e, &o, &m);
	}
	/* what the patterns understand answers */
	e = rehearse(s, &o, &m);
	turn(e, &m, &o, "En vervolgens?");
	assert_false(o.missed);
	assert_string_equal(o.msgs[0].buf, "Toen ben ik gaan bellen.");
	rehearsal_end(e, &o, &m);
	/* not asking her to go on */
	e = rehearse(s, &o, &m);
	turn(e, &m, &o, "En nu?");
	assert_true(o.missed);
	turn(e, &m, &o, "Dan ga ik nu naar huis.");
	assert_true(o.missed);
	rehearsal_end(e, &o, &m);
	script_free(s);
}

/* "Hoe bedoelt u?" about a line without toelichting, when nothing else
 * answers: a 'verduidelijk' line, once; after that it is a miss. A
 * clarifying message that an 'als' answers gets that answer. */
static void test_clarify_without_elab(void **state)
{
	static const char *const not_asking[] = {
		"Snap je wat ik bedoel?",
		"Mag ik het uitleggen?",
		"Wat denkt u dat school bedoelt?",
		"Komt dat anders binnen dan ik het bedoel?",
	};
	struct script *s = load_context();
	struct engine *e = engine_new(s, 3);
	struct engine_out o;
	struct match m;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	engine_start(e, &o);
	turn(e, &m, &o, "Hoe gaat het?");
	assert_string_equal(o.msgs[0].buf, "Gaat wel.");
	turn(e, &m, &o, "Hoe bedoelt u?");
	assert_false(o.missed);
	assert_int_equal(o.nmsgs, 1);
	assert_string_equal(o.msgs[0].buf, "Gewoon, zoals ik het zeg.");
	turn(e, &m, &o, "Wat bedoelt u daarmee?");
	assert_true(o.missed);
	assert_string_equal(o.msgs[0].buf, "Hm.");
	turn(e, &m, &o, "Wilt u koffie?");
	turn(e, &m, &o, "Hoe bedoelt u, koffie?");
	assert_false(o.missed);
	assert_non_null(o.trans);
	rehearsal_end(e, &o, &m);
	/* the trainee's own words are no question about the persona's
	 * line, nor what someone else means */
	e = rehearse(s, &o, &m);
	for (size_t i = 0; i < ARRAY_LEN(not_asking); i++) {
		turn(e, &m, &o, "Hoe gaat het?");
		turn(e, &m, &o, not_asking[i]);
		assert_string_not_equal(o.msgs[0].buf,
					"Gewoon, zoals ik het zeg.");
	}
	/* ... while "wat je bedoelt" still asks */
	turn(e, &m, &o, "Hoe gaat het?");
	turn(e, &m, &o, "Begrijp ik goed wat u bedoelt?");
	assert_string_equal(o.msgs[0].buf, "Gewoon, zoals ik het zeg.");
	rehearsal_end(e, &o, &m);
	/* and so does a "bedoeld" without anyone */
	e = rehearse(s, &o, &m);
	turn(e, &m, &o, "Hoe gaat het?");
	turn(e, &m, &o, "Hoe bedoeld?");
	assert_string_equal(o.msgs[0].buf, "Gewoon, zoals ik het zeg.");
	rehearsal_end(e, &o, &m);
	script_free(s);
}

static int denies(const char *line)
{
	return !strcmp(line, "Dat heb ik niet gezegd.") ||
	       !strcmp(line, "Dat zei ik niet.");
}

/* One rehearsal of s: each message in turn, and whether the persona
 * denies having said it. */
struct unsaid_case {
	const char *text;
	int denied;
};

static void unsaid_cases(struct script *s, const struct unsaid_case *c,
			 size_t n)
{
	struct engine_out o;
	struct match m;
	struct engine *e = rehearse(s, &o, &m);

	for (size_t i = 0; i < n; i++) {
		turn(e, &m, &o, c[i].text);
		if (denies(o.msgs[0].buf) != c[i].denied)
			fail_msg("\"%s\": %s", c[i].text, o.msgs[0].buf);
	}
	rehearsal_end(e, &o, &m);
}

/* A quote of words the persona never said ('niet-gezegd'): she says
 * so instead of explaining them; a quote of her own line, of the
 * scene's introduction, or in her words, and the trainee's own "ik
 * bedoel 'x'", are not that. */
static void test_quote_unsaid(void **state)
{
	static const char *const text =
		"scenario q\n"
		"titel: Citaat\n"
		"persona: p\n"
		"inleiding:\n"
		"> Aan de telefoon zei ze: kom maar kijken.\n"
		"> Haar zoon Daan is zeven.\n"
		"var vertrouwen = 3 (0..10)\n"
		"var spanning = 5 (0..10)\n"
		"bedoeling vraagt\n"
		"  patroon: hoe gaat het\n"
		"fase begin\n"
		"  zeg\n"
		"  - Ik heb alles opgezocht op internet.\n"
		"    toelichting: De afkortingen uit de brief.\n"
		"  als vraagt\n"
		"    vertrouwen +1\n"
		"    zeg\n"
		"    - Gaat wel, zeg ik toch.\n"
		"  anders\n"
		"    zeg\n"
		"    - Hm.\n"
		"standaard\n"
		"  niet-gezegd\n"
		"  - Dat heb ik niet gezegd.\n"
		"  - Dat zei ik niet.\n"
		"  verduidelijk\n"
		"  - Gewoon, zoals ik het zeg.\n";
	struct script *s = load_text("q.oef", text);
	struct engine_out o;
	struct match m;
	struct engine *e = rehearse(s, &o, &m);
	char first[64];

	(void)state;
	/* her own line, quoted: explained */
	turn(e, &m, &o, "Hoe bedoelt u, 'alles opgezocht op internet'?");
	assert_string_equal(o.msgs[0].buf, "De afkortingen uit de brief.");
	/* words she never said: she says so, understood, no phase moves */
	turn(e, &m, &o, "Hoe bedoelt u, \"weer hetzelfde liedje\"?");
	assert_false(o.missed);
	assert_null(o.trans);
	assert_int_equal(o.nmsgs, 1);
	assert_true(denies(o.msgs[0].buf));
	strcpy(first, o.msgs[0].buf);
	/* curly quotes, and "u zei" before them: the other line */
	turn(e, &m, &o, "U zei net \u201cde buren klagen steeds\u201d.");
	assert_true(denies(o.msgs[0].buf));
	assert_string_not_equal(o.msgs[0].buf, first);
	rehearsal_end(e, &o, &m);
	/* what the introduction has her say on the phone */
	e = rehearse(s, &o, &m);
	turn(e, &m, &o, "U zei 'kom maar kijken'. Hoe bedoelt u dat?");
	assert_false(denies(o.msgs[0].buf));
	/* her words put differently: one of them is hers (internet) */
	turn(e, &m, &o, "U zei 'het stond op internet, vreselijk eng'.");
	assert_false(denies(o.msgs[0].buf));
	rehearsal_end(e, &o, &m);
	/* the trainee's own words in quotes, and a quote of one word
	 * that is not asked about: no denial (and each line once: both
	 * lines were fresh here) */
	e = rehearse(s, &o, &m);
	turn(e, &m, &o, "Dat heet bij ons 'vrijwillig kader'. Ik bedoel: "
	     "jij beslist mee.");
	assert_string_equal(o.msgs[0].buf, "Hm.");
	assert_false(denies(o.msgs[0].buf));
	turn(e, &m, &o, "U zei 'liedje'.");
	assert_false(denies(o.msgs[0].buf));
	/* one word she is asked the meaning of: hers is explained, one
	 * she never said is denied */
	turn(e, &m, &o, "Wat bedoelt u met 'internet'?");
	assert_false(denies(o.msgs[0].buf));
	turn(e, &m, &o, "Hoe bedoel je, 'liedje'?");
	assert_true(denies(o.msgs[0].buf));
	rehearsal_end(e, &o, &m);
	/* without quotation marks: the dat-clause after "je zei" or "u
	 * zegt" is what she is said to have said; the trainee's own "ik
	 * zei dat" and her words put differently are not */
	{
		static const struct unsaid_case cases[] = {
			{ "Ik zei net dat de buren steeds klagen.", 0 },
			{ "Pas als u zegt dat de buren het mogen weten, bel "
			  "ik ze.", 0 },
			{ "Je zei dat je het op internet had opgezocht.", 0 },
			{ "U zegt dat uw vader vroeger sloeg, klopt dat?", 1 },
		};

		unsaid_cases(s, cases, ARRAY_LEN(cases));
	}
	/* "je vertelde dat…" lays words at her door as "je zei dat…"
	 * does; a name she knows (Daan, from the introduction) does not
	 * make a claim about him hers, another word of hers does; typed
	 * in lower case a name is a word like any other */
	{
		static const struct unsaid_case cases[] = {
			{ "Je vertelde dat Daan vaak alleen thuis is.", 1 },
			{ "U vertelde net dat Daan het op internet opzocht.",
			  0 },
			{ "je vertelde dat daan vaak alleen thuis is", 0 },
			{ "Ik vertelde u dat Daan vaak alleen thuis is.", 0 },
		};

		unsaid_cases(s, cases, ARRAY_LEN(cases));
	}
	/* nor after "je zegt:" / "u zei net:" with a colon: up to the end
	 * of that sentence; the trainee's own "ik zei:" is not */
	{
		static const struct unsaid_case cases[] = {
			{ "Je zegt: dus de buren klagen steeds. Snap ik.", 1 },
			{ "U zei net: het stond allemaal op internet.", 0 },
			{ "Ik zei: de buren klagen steeds.", 0 },
		};

		unsaid_cases(s, cases, ARRAY_LEN(cases));
	}
	/* a summary's frame lays what follows at her door, "als ik het
	 * goed zie" does not (what the trainee saw), nor one that names a
	 * feeling (a reflection: hers to answer) */
	{
		static const struct unsaid_case cases[] = {
			{ "Als ik het goed zie klagen de buren steeds.", 0 },
			{ "Als ik het goed begrijp bent u bang voor de "
			  "buren?", 0 },
			{ "Als ik het goed begrijp, klagen de buren steeds?",
			  1 },
			{ "Even checken of ik het snap: de buren klagen "
			  "steeds.", 1 },
		};

		unsaid_cases(s, cases, ARRAY_LEN(cases));
	}
	/* words of how much or how often are no content of a claim
	 * ("allemaal" alone puts nothing in her mouth), and asking how
	 * to say something lays no words at her door */
	{
		static const struct unsaid_case cases[] = {
			{ "Hoe bedoel je, dat zeiden ze allemaal?", 0 },
			{ "Hoe zeg je dat in het Nederlands, \"a fish out of "
			  "water\"?", 0 },
		};

		unsaid_cases(s, cases, ARRAY_LEN(cases));
	}
	/* nor for what "hoe bedoel je," asks about: the rest of the
	 * sentence (her own words explained, others denied; "Ik bedoel,
	 * …" and a one-word echo judge nothing) */
	e = rehearse(s, &o, &m);
	turn(e, &m, &o, "Hoe bedoel je, alles opgezocht op internet?");
	assert_string_equal(o.msgs[0].buf, "De afkortingen uit de brief.");
	turn(e, &m, &o, "Wacht, hoe bedoel je, het weekend is altijd kut?");
	assert_true(denies(o.msgs[0].buf));
	turn(e, &m, &o, "Ik bedoel, de buren klagen steeds.");
	assert_false(denies(o.msgs[0].buf));
	turn(e, &m, &o, "Hoe bedoelt u: liedje?");
	assert_false(denies(o.msgs[0].buf));
	rehearsal_end(e, &o, &m);
	/* one content word in a quote of four words or more is judged;
	 * in a shorter one it is not */
	e = rehearse(s, &o, &m);
	turn(e, &m, &o, "U zei 'het is niet leuk om hier te zijn'.");
	assert_true(denies(o.msgs[0].buf));
	turn(e, &m, &o, "U zei 'niet leuk'.");
	assert_false(denies(o.msgs[0].buf));
	turn(e, &m, &o, "U zei 'het is niet leuk op internet'.");
	assert_false(denies(o.msgs[0].buf));
	/* heard her say it */
	turn(e, &m, &o, "Ik hoorde u net 'fair enough' zeggen.");
	assert_true(denies(o.msgs[0].buf));
	rehearsal_end(e, &o, &m);
	/* a verb of saying she used ("zeg ik toch") makes no quote hers;
	 * and words put in her mouth win no trust, whatever else the
	 * message did (here a question that raises it) */
	e = rehearse(s, &o, &m);
	turn(e, &m, &o, "Hoe gaat het?");
	assert_string_equal(o.msgs[0].buf, "Gaat wel, zeg ik toch.");
	assert_int_equal(engine_var(e, 0), 4);
	turn(e, &m, &o, "Hoe gaat het nu? U zei 'ik zeg niks meer tegen de "
	     "buren'.");
	assert_true(denies(o.msgs[0].buf));
	assert_int_equal(engine_var(e, 0), 4);
	rehearsal_end(e, &o, &m);
	script_free(s);
}

/* Asking for more about the last line ("kun je daar iets meer over
 * vertellen?", "wat moet ik me bij internet voorstellen?") is a
 * clarifying question; asking for more about something else is not. */
static void test_clarify_asks_more(void **state)
{
	static const char *const more[] = {
		"Kun je daar iets meer over vertellen?",
		"Dat internet, wat moet ik me daarbij voorstellen?",
		"Hoe zit dat precies met internet?",
	};
	struct script *s = load_context();
	struct engine_out o;
	struct match m;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	for (size_t i = 0; i < ARRAY_LEN(more); i++) {
		first_turn(s, &m, &o, more[i]);
		assert_false(o.missed);
		assert_string_equal(o.msgs[0].buf,
				    "De afkortingen uit de brief, die heb "
				    "ik gegoogeld.");
	}
	{
		struct engine *e = engine_new(s, 1);

		engine_start(e, &o);
		turn(e, &m, &o, "Kun je iets meer over je werk vertellen?");
		assert_true(o.missed);
		assert_string_equal(o.msgs[0].buf, "Hm.");
		engine_free(e);
	}
	/* a short question that only shares a word with her line yields
	 * to a question the patterns understood in another clause; on
	 * its own it still asks about the line */
	first_turn(s, &m, &o, "Hoe gaat het nu, met dat internet?");
	assert_string_equal(o.msgs[0].buf, "Gaat wel.");
	/* and in its own clause, when that is a sentence of its own */
	first_turn(s, &m, &o, "Hoe gaat het met internet?");
	assert_string_equal(o.msgs[0].buf, "Gaat wel.");
	first_turn(s, &m, &o, "Van internet?");
	assert_string_equal(o.msgs[0].buf,
			    "De afkortingen uit de brief, die heb ik "
			    "gegoogeld.");
	/* "hoe bedoelt u" is no weak question: it still asks */
	first_turn(s, &m, &o, "Hoe gaat het? Hoe bedoelt u, internet?");
	assert_string_equal(o.msgs[0].buf,
			    "De afkortingen uit de brief, die heb ik "
			    "gegoogeld.");
	match_release(&m);
	engine_out_release(&o);
	script_free(s);
}

/* A short question sharing only a word like "gewoon" with her line
 * does not ask about it: "Zullen we morgen afspreken, gewoon hier?"
 * after "Ik doe gewoon mijn best." proposes; "Hoe bedoel je?" asks.
 * Nor does a "wat betekent …?" that names a word not in her line:
 * "Weet jij wat veilig betekent?" is the question it is. */
static void test_clarify_not_filler(void **state)
{
	static const char text[] =
		"scenario t\n"
		"titel: Vulwoord\n"
		"persona: p\n"
		FX_HEAD
		"bedoeling vraagt\n"
		"  patroon: hoe gaat het\n"
		"bedoeling veilig\n"
		"  patroon: weet * veilig\n"
		"fase begin\n"
		"  zeg\n"
		"  - Ik doe gewoon mijn uiterste best.\n"
		"    toelichting: Meer kan ik niet.\n"
		"  als veilig\n"
		"    zeg\n"
		"    - Veilig? Zoals met oversteken?\n"
		"  anders\n"
		"    zeg\n"
		"    - Hm.\n";
	static const char *const cases[][2] = {
		{ "Zullen we morgen afspreken, gewoon hier?", "Hm." },
		{ "Mijn best, hoe bedoel je?", "Meer kan ik niet." },
		{ "Weet jij wat veilig betekent?",
		  "Veilig? Zoals met oversteken?" },
		{ "Weet jij wat \"veilig\" betekent?",
		  "Veilig? Zoals met oversteken?" },
		{ "Wat betekent uiterste?", "Meer kan ik niet." },
		{ "Wat bedoel je met uiterste?", "Meer kan ik niet." },
	};
	struct script *s = load_text("v.oef", text);
	struct engine_out o;
	struct match m;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		first_turn(s, &m, &o, cases[i][0]);
		assert_string_equal(o.msgs[0].buf, cases[i][1]);
	}
	match_release(&m);
	engine_out_release(&o);
	script_free(s);
}

/* Two lines in one turn: a question that names the first ("Die wekker,
 * hoe bedoelt u?") gets the first one's toelichting, also after a save
 * and restore; one that names neither gets the last one's. */
static const char two_lines_text[] =
	"scenario t\n"
	"titel: Twee\n"
	"persona: p\n"
	FX_HEAD
	"bedoeling vraagt\n"
	"  patroon: hoe gaat het\n"
	"fase begin\n"
	"  zeg\n"
	"  - Hoi.\n"
	"  als vraagt\n"
	"    zeg\n"
	"    - Ik heb een wekker in mijn hoofd.\n"
	"      toelichting: Die tikt de hele dag.\n"
	"    naar twee\n"
	"fase twee\n"
	"  zeg\n"
	"  - Verder gaat het prima met de kinderen.\n"
	"    toelichting: Ze slapen goed.\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n"
	"standaard\n"
	"  verduidelijk\n"
	"  - Gewoon.\n";

/* A short question takes up a word of the persona's line only when it
 * is that word (with at most two letters more): "goede" is no word of
 * "Goedemiddag". "Hoe bedoelt u, …?" asks about the line only when what
 * follows is from it, or names nothing, or "bedoelt u dat" points back
 * itself. */
static const char greet_text[] =
	"scenario g\n"
	"titel: Groet\n"
	"persona: p\n"
	FX_HEAD
	"bedoeling vraagt\n"
	"  patroon: hoe gaat het\n"
	"fase begin\n"
	"  zeg\n"
	"  - Goedemiddag. Ik kom met Marco voor de brieven.\n"
	"    toelichting: Die van mijn ex.\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n";

/* After an open question ("Wie brengt hem?") a line that starts with a
 * bare yes waits while another is left; a yes/no question may get it;
 * with only yes lines left the persona still answers. */
static const char yes_text[] =
	"scenario y\n"
	"titel: Ja\n"
	"persona: p\n"
	FX_HEAD
	"bedoeling groet\n"
	"  patroon: hallo\n"
	"  ja: hallo\n"
	"fase begin\n"
	"  zeg\n"
	"  - Goedemiddag.\n"
	"  anders\n"
	"    zeg\n"
	"    - *haalt haar schouders op* Ja.\n"
	"    - Oké…\n"
	"    - Hm. Ja.\n"
	"    - Sorry, ik volg het even niet.\n"
	"    - Hm.\n"
	"    - Ja, die brief. Die ligt in de la.\n"
	"    - Daar moet ik even over nadenken.\n";

static int yes_line(const char *line)
{
	return !strcmp(line, "*haalt haar schouders op* Ja.") ||
	       !strcmp(line, "Oké…") || !strcmp(line, "Hm. Ja.");
}

static void test_open_question_no_bare_yes(void **state)
{
	static const char *const open_q[] = {
		"Wie brengt Daan naar school?",
		"Ik snap het. Bij wie kan hij terecht?",
		"Wat deed die brief met u?",
		/* the last question counts, a statement may follow it */
		"Hoe lang duurt dit? Ik heb om elf uur overleg.",
	};
	struct script *s = load_text("y.oef", yes_text);
	struct engine_out o;
	struct match m;
	struct engine *e;
	int yes = 0;

	(void)state;
	/* every seed: the four open questions get the four lines that
	 * are no bare yes ("Ja, die brief…" answers), whichever order the
	 * seed picks */
	for (uint64_t seed = 1; seed <= 8; seed++) {
		e = rehearse_seed(s, seed, &o, &m);
		for (size_t i = 0; i < ARRAY_LEN(open_q); i++) {
			turn(e, &m, &o, open_q[i]);
			assert_int_equal(o.nmsgs, 1);
			if (yes_line(o.msgs[0].buf))
				fail_msg("seed %" PRIu64 ": \"%s\" got \"%s\"",
					 seed, open_q[i], o.msgs[0].buf);
		}
		/* only yes lines left: one of them, not silence */
		turn(e, &m, &o, "Wanneer was dat?");
		assert_int_equal(o.nmsgs, 1);
		assert_true(yes_line(o.msgs[0].buf));
		rehearsal_end(e, &o, &m);
	}
	/* a yes/no question about the rehearsal gets no yes either
	 * ("Is dit een bot?" -> "Ja." confirmed it), while one inside it
	 * may: over the seeds, the first answer to it is a yes line at
	 * least once */
	for (uint64_t seed = 1; seed <= 16; seed++) {
		e = rehearse_seed(s, seed, &o, &m);
		turn(e, &m, &o, "Is dit een bot?");
		assert_int_equal(o.nmsgs, 1);
		if (yes_line(o.msgs[0].buf))
			fail_msg("seed %" PRIu64 ": a yes to a closed question",
				 seed);
		rehearsal_end(e, &o, &m);
	}
	for (uint64_t seed = 1; seed <= 16 && !yes; seed++) {
		e = rehearse_seed(s, seed, &o, &m);
		turn(e, &m, &o, "Wat doe je bij je club, speel je in het veld?");
		yes = o.nmsgs == 1 && yes_line(o.msgs[0].buf);
		rehearsal_end(e, &o, &m);
	}
	assert_true(yes);
	script_free(s);
}

static void test_clarify_word_start(void **state)
{
	static const struct {
		const char *msg;
		int asks;
	} cases[] = {
		{ "Is dit de goede kamer?", 0 },
		{ "Goedemiddag?", 1 },
		{ "Brieven?", 1 },
		{ "De brief?", 0 },       /* four letters: too short to tell */
		/* a name of her line: a new question about him */
		{ "Wat doet Marco hier?", 0 },
		{ "Marco?", 0 },
		/* what "hoe bedoelt u" is about, named after it */
		{ "Hoe bedoelt u, de brieven?", 1 },
		{ "Hoe bedoelt u, alweer iemand nieuw?", 0 },
		{ "Hoe bedoelt u dat, alweer iemand nieuw?", 1 },
		{ "Hoe bedoelt u?", 1 },
	};
	struct script *s = load_text("g.oef", greet_text);
	struct engine_out o;
	struct match m;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		first_turn(s, &m, &o, cases[i].msg);
		if ((o.nmsgs && !strcmp(o.msgs[0].buf, "Die van mijn ex.")) !=
		    cases[i].asks)
			fail_msg("\"%s\": answered \"%s\"", cases[i].msg,
				 o.nmsgs ? o.msgs[0].buf : "");
	}
	match_release(&m);
	engine_out_release(&o);
	script_free(s);
}

static void test_clarify_earlier_line(void **state)
{
	struct script *s = load_text("t.oef", two_lines_text);
	struct engine *e, *b;
	struct engine_out o;
	struct match m;
	struct sbuf sb;
	struct err err;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	sbuf_init(&sb);
	e = engine_new(s, 1);
	engine_start(e, &o);
	turn(e, &m, &o, "Hoe gaat het?");
	assert_int_equal(o.nmsgs, 2);
	engine_save(e, &sb);
	b = engine_new(s, 7);
	assert_int_equal(engine_restore(b, sb.buf, &err), 0);
	turn(e, &m, &o, "Die wekker, hoe bedoelt u?");
	assert_string_equal(o.msgs[0].buf, "Die tikt de hele dag.");
	turn(b, &m, &o, "Die wekker, kunt u daar iets meer over vertellen?");
	assert_string_equal(o.msgs[0].buf, "Die tikt de hele dag.");
	engine_free(b);
	engine_free(e);
	e = engine_new(s, 1);
	engine_start(e, &o);
	turn(e, &m, &o, "Hoe gaat het?");
	turn(e, &m, &o, "Hoe bedoelt u?");
	assert_string_equal(o.msgs[0].buf, "Ze slapen goed.");
	engine_free(e);
	sbuf_release(&sb);
	match_release(&m);
	engine_out_release(&o);
	script_free(s);
}

/* A memory line only when it was said: 'eerder' counts the lines this
 * 'zeg' said before, whatever the seed. */
static void test_eerder(void **state)
{
	struct script *s = load_context();
	struct engine_out o;
	struct match m;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct engine *e = engine_new(s, seed);

		engine_start(e, &o);
		turn(e, &m, &o, "Tot ziens.");
		assert_string_equal(o.msgs[0].buf, "Dag.");
		turn(e, &m, &o, "Hoe gaat het?");
		turn(e, &m, &o, "Tot ziens dan.");
		assert_string_equal(o.msgs[0].buf, "Dat zei je al.");
		engine_free(e);
	}
	match_release(&m);
	engine_out_release(&o);
	script_free(s);
}

static void test_context_syntax(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "regel r\n  als vraagt\n  erkenning\n  - Ja.\n",
		  "c.oef:5:3: 'erkenning' hoort onder een 'als'" },
		{ "fase f\n  toelichting: Zo.\n",
		  "c.oef:4:3: 'toelichting:' hoort direct onder een '- tekst'" },
		{ "fase f\n  herhaald\n  - Ja.\n",
		  "c.oef:4:3: 'herhaald' hoort direct onder 'standaard'" },
		{ "fase f\n  uitwijk\n  - Ja.\n",
		  "c.oef:4:3: 'uitwijk' hoort direct onder 'standaard'" },
		{ "standaard\n  als vraagt\n    verduidelijk\n    - Ja.\n",
		  "c.oef:5:5: 'verduidelijk' hoort direct onder 'standaard'" },
		{ "fase f\n  niet-gezegd\n  - Ja.\n",
		  "c.oef:4:3: 'niet-gezegd' hoort direct onder 'standaard'" },
		{ "standaard\n  niet-gezegd\n",
		  "'niet-gezegd' zonder zinnen eronder" },
		{ "standaard\n  uitwijk\n",
		  "'uitwijk' zonder zinnen eronder" },
		{ "var eerder = 0 (0..3)\n",
		  "c.oef:3:1: 'eerder' is ingebouwd" },
		{ "fase f\n  als vraagt\n    eerder +1\n",
		  "'eerder' is ingebouwd en alleen te lezen" },
		{ "fase f\n  zeg\n  - Ja.\n    toelichting: A.\n"
		  "    toelichting: B.\n",
		  "c.oef:7:5: deze zin heeft al een toelichting" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct sbuf sb;
		struct script *s = NULL;
		struct diag d;
		int found = 0;

		sbuf_init(&sb);
		sbuf_addf(&sb, "bedoeling vraagt\n  patroon: hoe\n%s",
			  bad[i].text);
		diag_init(&d);
		assert_int_equal(script_load_text("c.oef", sb.buf, sb.len,
						  &s, &d), -1);
		for (size_t k = 0; k < d.n; k++)
			found |= strstr(d.msgs[k], bad[i].want) != NULL;
		if (!found)
			for (size_t k = 0; k < d.n; k++)
				fprintf(stderr, "got: %s\n", d.msgs[k]);
		assert_true(found);
		diag_release(&d);
		sbuf_release(&sb);
	}
}

/* ------------------------------------------------ scoring integrity */

static const char score_text[] =
	"scenario s\n"
	"titel: Score\n"
	"persona: p\n"
	FX_HEAD
	"punt veiligheid: Veiligheid\n"
	"punt eerlijk: Eerlijk\n"
	"bedoeling veilig\n"
	"  patroon: veilig\n"
	"bedoeling geheim\n"
	"  patroon: geheim\n"
	"  ontkenning: nee\n"
	"bedoeling schuld\n"
	"  patroon: schuld\n"
	"regel veilig-telt\n"
	"  als veilig\n"
	"  punt veiligheid getoond\n"
	"regel schuld-telt\n"
	"  als schuld\n"
	"  punt veiligheid gemist\n"
	"fase begin\n"
	"  zeg\n"
	"  - Ja?\n"
	"  als veilig\n"
	"    punt veiligheid getoond\n"
	"    zeg\n"
	"    - Gaat wel.\n"
	"    naar midden\n"
	"  als geheim\n"
	"    punt eerlijk getoond\n"
	"    zeg\n"
	"    - Goed om te weten.\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n"
	"fase midden\n"
	"  punt eerlijk getoond\n"
	"  zeg\n"
	"  - Nou.\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n";

struct score_fx {
	struct script *s;
	struct engine *e;
	struct match m;
	struct engine_out o;
};

/* A script from text with one started engine (seed), a match and an
 * output: the fixture most tests here need. */
static void fx_open(struct score_fx *f, const char *text, uint64_t seed)
{
	f->s = load_text("s.oef", text);
	f->e = engine_new(f->s, seed);
	match_init(&f->m);
	engine_out_init(&f->o);
	engine_start(f->e, &f->o);
}

static void score_open(struct score_fx *f)
{
	fx_open(f, score_text, 3);
}

static void score_close(struct score_fx *f)
{
	engine_out_release(&f->o);
	match_release(&f->m);
	engine_free(f->e);
	script_free(f->s);
}

/* The moment of point id in the last turn, or NULL. */
static const struct engine_point *moment(const struct score_fx *f,
					 const char *id)
{
	int p = script_find_point(f->s, id);

	assert_true(p >= 0);
	for (size_t i = 0; i < f->o.npoints; i++)
		if (f->o.points[i].point == (uint32_t)p)
			return &f->o.points[i];
	return NULL;
}

static void assert_quote(const char *text, const struct engine_point *p,
			 const char *want)
{
	char got[128];
	size_t a = p->qstart, b = (size_t)p->qstart + p->qlen;

	assert_true(p->qlen > 0);
	assert_true(b <= strlen(text));
	while (a < b && text[a] == ' ')
		a++;
	while (b > a && text[b - 1] == ' ')
		b--;
	assert_true(b - a < sizeof(got));
	memcpy(got, text + a, b - a);
	got[b - a] = '\0';
	assert_string_equal(got, want);
}

/* A rule and a transition both crediting one point: one moment, quoting
 * the clause that earned it, not the whole message. */
static void test_point_once_per_message(void **state)
{
	struct score_fx f;
	const char *text = "Goedemiddag. Voelt u zich veilig thuis?";
	const struct engine_point *p;

	(void)state;
	score_open(&f);
	assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text), &f.o), 0);
	assert_int_equal(f.o.npoints, 2);   /* veiligheid, and eerlijk from
					     * the entry of midden */
	p = moment(&f, "veiligheid");
	assert_non_null(p);
	assert_int_equal(p->shown, 1);
	assert_int_equal(p->clause, 1);
	assert_quote(text, p, "Voelt u zich veilig thuis?");
	/* the entry of the phase it moved to quotes the same clause */
	p = moment(&f, "eerlijk");
	assert_non_null(p);
	assert_quote(text, p, "Voelt u zich veilig thuis?");
	assert_int_equal(f.o.nconflicts, 0);
	score_close(&f);
}

/* Two moves in one message: each its own moment from its own clause. */
static void test_points_per_clause(void **state)
{
	struct score_fx f;
	const char *text = "Niet alles blijft geheim, dat zeg ik eerlijk. "
			   "Voelt u zich veilig?";
	const struct engine_point *p;

	(void)state;
	score_open(&f);
	assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text), &f.o), 0);
	p = moment(&f, "veiligheid");
	assert_non_null(p);
	assert_quote(text, p, "Voelt u zich veilig?");
	p = moment(&f, "eerlijk");
	assert_non_null(p);
	assert_int_equal(p->shown, 1);
	assert_true(p->clause >= 0);
	assert_quote(text, p, "Niet alles blijft geheim");
	assert_int_equal(f.o.npoints, 2);
	score_close(&f);
}

/* A quote goes on through the clause that completes it: a 'dat' or a
 * subordinate clause; a fronted subordinate clause and its verb-first
 * main clause are one sentence, whichever half earned the moment; a
 * comma before a clause that is not verb-first ends the quote. */
static void test_quote_complement(void **state)
{
	static const struct {
		const char *text, *quote;
		int shown;
	} cases[] = {
		{ "Het is uw schuld dat het misging. Hoi.",
		  "Het is uw schuld dat het misging.", 0 },
		{ "Voelt u zich veilig als het misgaat? Hoi.",
		  "Voelt u zich veilig als het misgaat?", 1 },
		{ "Hoi. En wat ik als veilig opschrijf, lees ik eerst met u "
		  "door. Goed?",
		  "En wat ik als veilig opschrijf, lees ik eerst met u door.",
		  1 },
		{ "Hoi. Als het thuis misgaat, bent u dan veilig? Goed.",
		  "Als het thuis misgaat, bent u dan veilig?", 1 },
		{ "Hoi. Wat ik zie is veilig, ik ben blij. Goed.",
		  "Wat ik zie is veilig", 1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct score_fx f;
		const char *text = cases[i].text;
		const struct engine_point *p;

		score_open(&f);
		assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text),
					     &f.o), 0);
		p = moment(&f, "veiligheid");
		assert_non_null(p);
		assert_int_equal(p->shown, cases[i].shown);
		assert_quote(text, p, cases[i].quote);
		score_close(&f);
	}
}

/* Credited and blamed in one message: neither is recorded, and the
 * conflict is reported (for check). */
static void test_point_conflict_silent(void **state)
{
	struct score_fx f;
	const char *text = "Voelt u zich veilig? Het is uw eigen schuld.";

	(void)state;
	score_open(&f);
	assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text), &f.o), 0);
	assert_null(moment(&f, "veiligheid"));
	assert_int_equal(f.o.nconflicts, 1);
	assert_int_equal(f.o.conflicts[0],
			 (uint32_t)script_find_point(f.s, "veiligheid"));
	/* the next message starts clean */
	text = "Het is uw eigen schuld.";
	assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text), &f.o), 0);
	assert_int_equal(f.o.nconflicts, 0);
	assert_non_null(moment(&f, "veiligheid"));
	assert_int_equal(moment(&f, "veiligheid")->shown, 0);
	score_close(&f);
}

/* Make every source of point pt's side shown quiet (patterns' side),
 * as calib_points would. */
static void set_quiet(struct script *s, uint32_t pt, int shown)
{
	free(s->quiet);
	s->quiet = xcalloc(CALIB_KEYS(s), 1);
	for (uint32_t i = 0; i < s->nsrcs; i++)
		if (s->srcs[i].point == pt && s->srcs[i].shown == shown)
			s->quiet[calib_src_key(s, i, 0)] = 1;
}

/* A quiet moment is not recorded, but it still cancels the other side
 * of its point in the same message, whichever comes first. */
static void test_quiet_moment_cancels(void **state)
{
	struct score_fx f;
	const char *both = "Voelt u zich veilig? Het is uw eigen schuld.";
	const char *blame_first = "Het is uw eigen schuld. Voelt u zich "
				  "veilig?";
	uint32_t pt;

	(void)state;
	for (int quiet_side = 0; quiet_side <= 1; quiet_side++) {
		for (int order = 0; order <= 1; order++) {
			const char *text = order ? blame_first : both;

			score_open(&f);
			pt = (uint32_t)script_find_point(f.s, "veiligheid");
			set_quiet(f.s, pt, quiet_side);
			assert_int_equal(engine_turn(f.e, &f.m, text,
						     strlen(text), &f.o), 0);
			assert_null(moment(&f, "veiligheid"));
			assert_int_equal(f.o.nconflicts, 1);
			/* alone, the side that is not quiet is recorded */
			text = quiet_side ? "Het is uw eigen schuld." :
					    "Voelt u zich veilig?";
			assert_int_equal(engine_turn(f.e, &f.m, text,
						     strlen(text), &f.o), 0);
			assert_non_null(moment(&f, "veiligheid"));
			assert_int_equal(moment(&f, "veiligheid")->shown,
					 !quiet_side);
			score_close(&f);
		}
	}
}

/* A quiet moment is kept as a doubt (the debrief's "not recognised"
 * list says where to look); a doubt never stands beside a recorded
 * moment or a conflict of its point, and one-sided only. */
static void test_quiet_moment_is_a_doubt(void **state)
{
	struct score_fx f;
	const char *text = "Voelt u zich veilig?";
	uint32_t pt;

	(void)state;
	score_open(&f);
	pt = (uint32_t)script_find_point(f.s, "veiligheid");
	set_quiet(f.s, pt, 1);
	assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text), &f.o),
			 0);
	assert_null(moment(&f, "veiligheid"));
	assert_int_equal(f.o.ndoubts, 1);
	assert_int_equal(f.o.doubts[0].point, pt);
	assert_int_equal(f.o.doubts[0].shown, 1);
	/* the quote is the clause, as for a moment */
	assert_int_equal(f.o.doubts[0].qstart, 0);
	assert_int_equal(f.o.doubts[0].qlen, strlen(text));
	/* the next message starts without it */
	text = "Hoe laat is het?";
	assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text), &f.o),
			 0);
	assert_int_equal(f.o.ndoubts, 0);
	/* praise (quiet) and blame in one message: a conflict, no doubt */
	text = "Voelt u zich veilig? Het is uw eigen schuld.";
	assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text), &f.o),
			 0);
	assert_int_equal(f.o.nconflicts, 1);
	assert_int_equal(f.o.ndoubts, 0);
	score_close(&f);
	/* nothing quiet: a moment, no doubt */
	score_open(&f);
	text = "Voelt u zich veilig?";
	assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text), &f.o),
			 0);
	assert_non_null(moment(&f, "veiligheid"));
	assert_int_equal(f.o.ndoubts, 0);
	score_close(&f);
}

/* A quiet moment that comes first still cancels an opposite one
 * recorded after it (the only two moments of the message). */
static const char quiet_first_text[] =
	"scenario q\n"
	"titel: Stil\n"
	"persona: p\n"
	FX_HEAD
	"punt veiligheid: Veiligheid\n"
	"bedoeling veilig\n"
	"  patroon: veilig\n"
	"bedoeling schuld\n"
	"  patroon: schuld\n"
	"regel veilig-telt\n"
	"  als veilig\n"
	"  punt veiligheid getoond\n"
	"regel schuld-telt\n"
	"  als schuld\n"
	"  punt veiligheid gemist\n"
	"fase begin\n"
	"  zeg\n"
	"  - Ja?\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n";

static void test_quiet_moment_first(void **state)
{
	struct score_fx f;
	const char *text = "Voelt u zich veilig? Het is uw eigen schuld.";
	uint32_t pt;

	(void)state;
	fx_open(&f, quiet_first_text, 1);
	pt = (uint32_t)script_find_point(f.s, "veiligheid");
	set_quiet(f.s, pt, 1);
	assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text), &f.o), 0);
	assert_null(moment(&f, "veiligheid"));
	assert_int_equal(f.o.nconflicts, 1);
	score_close(&f);
}

/* calib_points judges each source of a moment (point, side, reason)
 * by its own record on the training split: blame for jargon that the
 * labels bear out stays, blame for street language that they do not
 * goes quiet, though both are "taal gemist"; a source seen too seldom
 * to judge alone goes with its point and side. */
static const char by_source_text[] =
	"scenario q\n"
	"titel: Bron\n"
	"persona: p\n"
	FX_HEAD
	"punt taal: Taal\n"
	"bedoeling vakwoord\n"
	"  patroon: mdo\n"
	"bedoeling straat\n"
	"  patroon: bro\n"
	"bedoeling afkorting\n"
	"  patroon: zat\n"
	"regel vakwoord-telt\n"
	"  als vakwoord\n"
	"  punt taal gemist \"vakwoord\"\n"
	"regel straat-telt\n"
	"  als straat\n"
	"  punt taal gemist \"straattaal\"\n"
	"regel afkorting-telt\n"
	"  als afkorting\n"
	"  punt taal gemist \"afkorting\"\n"
	"fase begin\n"
	"  zeg\n"
	"  - Ja?\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n";

#define BY_SOURCE_CONV(id, rare) \
	"gesprek " id " zwak\n" \
	"> Dat is besproken in het MDO.\n" \
	"  bedoelingen: vakwoord\n" \
	"  meters: vertrouwen ? spanning ?\n" \
	"  rubriek: -taal\n" \
	"> Yo bro.\n" \
	"  bedoelingen: straat\n" \
	"  meters: vertrouwen ? spanning ?\n" \
	"  rubriek: -\n" \
	rare

static void test_quiet_by_source(void **state)
{
	static const char train[] =
		BY_SOURCE_CONV("a", "")
		BY_SOURCE_CONV("b", "")
		BY_SOURCE_CONV("c", "")
		BY_SOURCE_CONV("d", "> Dat zegt het ZAT.\n"
		  "  bedoelingen: afkorting\n"
		  "  meters: vertrouwen ? spanning ?\n"
		  "  rubriek: -taal\n")
		BY_SOURCE_CONV("e", "");
	struct score_fx f;
	struct corpus c;
	struct diag d;
	uint32_t pt;

	(void)state;
	fx_open(&f, by_source_text, 1);
	pt = (uint32_t)script_find_point(f.s, "taal");
	assert_int_equal(f.s->nsrcs, 3);
	memset(&c, 0, sizeof(c));
	diag_init(&d);
	assert_int_equal(corpus_parse(&c, "t.txt", train, strlen(train),
				      &d), 0);
	assert_int_equal(corpus_resolve(&c, f.s, &d), 0);
	calib_points(f.s, &c);
	/* pooled, "taal gemist" was right 6 times of 11: quiet */
	assert_int_equal(f.s->quiet_seen[calib_key(pt, 0, 0)], 11);
	assert_int_equal(f.s->quiet_right[calib_key(pt, 0, 0)], 6);
	assert_true(f.s->quiet[calib_key(pt, 0, 0)]);
	/* jargon: 5 of 5, recorded */
	engine_turn(f.e, &f.m, "Het MDO heeft besloten.", 23, &f.o);
	assert_non_null(moment(&f, "taal"));
	assert_int_equal(moment(&f, "taal")->shown, 0);
	/* street language: 0 of 5, quiet, a doubt */
	engine_turn(f.e, &f.m, "Alles goed bro?", 15, &f.o);
	assert_null(moment(&f, "taal"));
	assert_int_equal(f.o.ndoubts, 1);
	/* the abbreviation, seen once: as its point and side, quiet */
	engine_turn(f.e, &f.m, "Het ZAT zegt dat.", 17, &f.o);
	assert_null(moment(&f, "taal"));
	assert_int_equal(f.o.ndoubts, 1);
	corpus_release(&c);
	diag_release(&d);
	score_close(&f);
}

/* 'plafond 6 tot …': small talk alone stops at 6; the key move lifts the
 * cap; the cap never lowers a value. */
static const char cap_text[] =
	"scenario k\n"
	"titel: Plafond\n"
	"persona: p\n"
	"inleiding:\n"
	"> Je bent hier.\n"
	"var vertrouwen = 3 (0..10) plafond 6 tot gevraagd = 1\n"
	"var spanning = 5 (0..10)\n"
	"var gevraagd = 0 (0..1)\n"
	"bedoeling praat\n"
	"  patroon: weer\n"
	"bedoeling veilig\n"
	"  patroon: veilig\n"
	"fase begin\n"
	"  zeg\n"
	"  - Ja?\n"
	"  als veilig\n"
	"    gevraagd = 1\n"
	"    vertrouwen +2\n"
	"  als praat\n"
	"    vertrouwen +2\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n";

/* The rules see only what the patterns found, but a credit also needs
 * its condition to hold with sure model hits under a 'niet': a step the
 * model hears imposed earns no credit (the rule still fires), a guess
 * below NOT_MODEL_CONF (0.9) does not block it, and a model hit alone
 * never earns one. */
static const char not_model_text[] =
	"scenario n\n"
	"titel: Niet\n"
	"persona: p\n"
	FX_HEAD
	"punt stappen: Stappen\n"
	"bedoeling stap\n"
	"  patroon: stapje\n"
	"bedoeling legt-op\n"
	"  patroon: xyzzy\n"
	"regel stap-telt\n"
	"  als stap en niet legt-op\n"
	"  punt stappen getoond\n"
	"fase begin\n"
	"  zeg\n"
	"  - Ja?\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n";

static void model_turn(struct score_fx *f, const char *text, uint32_t in,
		       float conf)
{
	match_run(&f->m, f->s, text, strlen(text));
	f->m.hit[in] = 1;
	f->m.hit_how[in] = MATCH_BY_MODEL;
	f->m.conf[in] = conf;
	assert_int_equal(engine_turn_matched(f->e, &f->m, text, &f->o), 0);
}

static void test_not_counts_sure_model_hit(void **state)
{
	struct score_fx f;
	const char *text = "Dit is jouw stapje.";
	uint32_t stap, legt_op;

	(void)state;
	fx_open(&f, not_model_text, 5);
	stap = (uint32_t)script_find_intent(f.s, "stap");
	legt_op = (uint32_t)script_find_intent(f.s, "legt-op");
	/* by the patterns alone: credited */
	assert_int_equal(engine_turn(f.e, &f.m, text, strlen(text), &f.o), 0);
	assert_non_null(moment(&f, "stappen"));
	/* the model sure it is imposed: no credit */
	model_turn(&f, text, legt_op, 0.95f);
	assert_null(moment(&f, "stappen"));
	assert_int_equal(f.o.nrules, 1);
	/* the model guessing: the patterns' credit stands */
	model_turn(&f, text, legt_op, 0.6f);
	assert_non_null(moment(&f, "stappen"));
	/* a step only the model heard, however sure: no rule fires */
	model_turn(&f, "Wat zou je willen proberen?", stap, 0.99f);
	assert_null(moment(&f, "stappen"));
	score_close(&f);
}

static void test_meter_cap(void **state)
{
	struct score_fx f;
	int vi;

	(void)state;
	fx_open(&f, cap_text, 1);
	vi = script_find_var(f.s, "vertrouwen");
	turn(f.e, &f.m, &f.o, "Mooi weer he.");
	assert_int_equal(engine_var(f.e, (size_t)vi), 5);
	turn(f.e, &f.m, &f.o, "Echt mooi weer.");
	assert_int_equal(engine_var(f.e, (size_t)vi), 6);
	for (int i = 0; i < 5; i++)
		turn(f.e, &f.m, &f.o, "Wat een weer.");
	assert_int_equal(engine_var(f.e, (size_t)vi), 6);
	turn(f.e, &f.m, &f.o, "Voel je je veilig thuis?");
	assert_int_equal(engine_var(f.e, (size_t)vi), 8);
	turn(f.e, &f.m, &f.o, "Mooi weer he.");
	assert_int_equal(engine_var(f.e, (size_t)vi), 10);
	score_close(&f);
}

/* 'stap 1': one message raises trust by one at most, however many of
 * its moves count (two +2 actions here); falls are not limited; the
 * meter still reaches its top over more messages. */
static const char step_text[] =
	"scenario k\n"
	"titel: Stap\n"
	"persona: p\n"
	"inleiding:\n"
	"> Je bent hier.\n"
	"var vertrouwen = 3 (0..10) stap 1\n"
	"var spanning = 5 (0..10)\n"
	"bedoeling praat\n"
	"  patroon: weer\n"
	"bedoeling veilig\n"
	"  patroon: veilig\n"
	"bedoeling boos\n"
	"  patroon: stom\n"
	"regel veilig-telt\n"
	"  als veilig\n"
	"  vertrouwen +2\n"
	"  spanning +3\n"
	"fase begin\n"
	"  zeg\n"
	"  - Ja?\n"
	"  als praat\n"
	"    vertrouwen +2\n"
	"  als boos\n"
	"    vertrouwen -3\n"
	"  anders\n"
	"    zeg\n"
	"    - Hm.\n";

static void test_meter_step(void **state)
{
	struct score_fx f;
	int vi, si;

	(void)state;
	fx_open(&f, step_text, 1);
	vi = script_find_var(f.s, "vertrouwen");
	si = script_find_var(f.s, "spanning");
	turn(f.e, &f.m, &f.o, "Mooi weer. Voel je je veilig?");
	assert_int_equal(engine_var(f.e, (size_t)vi), 4);
	assert_int_equal(engine_var(f.e, (size_t)si), 8);   /* not stepped */
	turn(f.e, &f.m, &f.o, "Wat stom.");
	assert_int_equal(engine_var(f.e, (size_t)vi), 1);
	for (int i = 0; i < 12; i++)
		turn(f.e, &f.m, &f.o, "Mooi weer.");
	assert_int_equal(engine_var(f.e, (size_t)vi), 10);
	score_close(&f);
}

static void test_meter_cap_syntax(void **state)
{
	static const char *bad[] = {
		"var vertrouwen = 3 (0..10) plafond 11 tot x = 1\n",
		"var vertrouwen = 3 (0..10) plafond 6\n",
		"var vertrouwen = 3 (0..10) plafond 6 tot\n",
		"var vertrouwen = 3 (0..10) plafond 6 tot onbekend = 1\n",
		"var vertrouwen = 3 (0..10) stap 0\n",
		"var vertrouwen = 3 (0..10) stap 11\n",
		"var vertrouwen = 3 (0..10) stap\n",
		"var vertrouwen = 3 (0..10) plafond 6 tot x = 1 stap 1\n",
	};
	char buf[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct script *s = NULL;
		struct diag d;
		int n = snprintf(buf, sizeof(buf), "scenario k\ntitel: K\n"
				 "persona: p\ninleiding:\n> x\n%s"
				 "var spanning = 5 (0..10)\nvar x = 0 (0..1)\n"
				 "fase begin\n  zeg\n  - Ja?\n", bad[i]);

		assert_true(n > 0 && (size_t)n < sizeof(buf));
		diag_init(&d);
		assert_int_equal(script_load_text("k.oef", buf, strlen(buf),
						  &s, &d), -1);
		assert_true(d.n > 0);
		diag_release(&d);
	}
}

/* 'overgenomen: nee': a word the persona said first (or knew before:
 * eigen-woorden), given back by the trainee, does not count for the
 * intent; a word she did not say still does, and so does another intent
 * without the option. */
static void test_persona_word_given_back(void **state)
{
	static const char text[] =
		"scenario w\n"
		"titel: Woorden\n"
		"persona: p\n"
		"inleiding:\n"
		"> Ze las over uithuisplaatsingen.\n"
		"eigen-woorden: veiligheidsplan\n"
		"var vertrouwen = 5 (0..10)\n"
		"var spanning = 3 (0..10)\n"
		"begrip vak = uithuisplaatsing, ots, risicotaxatie, "
		"veiligheidsplan\n"
		"bedoeling jargon\n"
		"  patroon: ~vak\n"
		"  overgenomen: nee\n"
		"bedoeling vak-gewoon\n"
		"  patroon: ~vak\n"
		"regel jargon\n"
		"  als jargon\n"
		"  vertrouwen -1\n"
		"  onderbreek\n"
		"  zeg\n"
		"  - Wat is {woord}?\n"
		"fase start\n"
		"  zeg\n"
		"  - Ik las op internet over uithuisplaatsingen.\n"
		"  als vak-gewoon\n"
		"    zeg\n"
		"    - Dat woord, ja.\n"
		"  anders\n"
		"    zeg\n"
		"    - Hm.\n";
	struct script *s = load_text("w.oef", text);
	struct engine *e = engine_new(s, 1);
	struct engine_out o;
	struct match m;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	engine_start(e, &o);
	assert_int_equal(o.nmsgs, 1);
	/* her own word back (another inflection, a typo-free stem); what
	 * eval counts as recognised (engine_heard) agrees */
	{
		static const char back[] = "Uithuisplaatsing, dat woord las u?";
		uint8_t heard[64];

		assert_true(s->nintents <= sizeof(heard));

		match_run(&m, s, back, strlen(back));
		assert_int_equal(match_hit(&m, 0), 1);
		engine_heard(e, &m, heard);
		assert_int_equal(heard[0], 0);
		assert_int_equal(heard[1], 1);
	}
	turn(e, &m, &o, "Uithuisplaatsing, dat woord las u?");
	assert_int_equal(o.nrules, 0);
	assert_int_equal(engine_var(e, 0), 5);
	assert_int_equal(o.nmsgs, 1);
	assert_string_equal(o.msgs[0].buf, "Dat woord, ja.");
	/* a word of the trainee's own */
	{
		static const char own[] = "Er komt een OTS.";
		uint8_t heard[64];

		match_run(&m, s, own, strlen(own));
		engine_heard(e, &m, heard);
		assert_int_equal(heard[0], 1);
	}
	turn(e, &m, &o, "Er komt een OTS.");
	assert_int_equal(o.nrules, 1);
	assert_int_equal(engine_var(e, 0), 4);
	assert_string_equal(o.msgs[0].buf, "Wat is OTS?");
	/* a word she knew before the rehearsal (eigen-woorden) */
	turn(e, &m, &o, "Dat veiligheidsplan dus.");
	assert_int_equal(o.nrules, 0);
	assert_int_equal(engine_var(e, 0), 4);
	/* both in one match: the trainee's own word still counts */
	turn(e, &m, &o, "Een risicotaxatie over uithuisplaatsing.");
	assert_int_equal(o.nrules, 1);
	assert_int_equal(engine_var(e, 0), 3);
	rehearsal_end(e, &o, &m);
	script_free(s);
}

/* {woord} inside a persona's line: a capital that only started the
 * trainee's sentence follows the persona's sentence, OTS and Veilig
 * Thuis keep their capitals, a phrase of three words or more goes
 * between quotes. */
static void test_word_slot_case(void **state)
{
	static const char head[] =
		"scenario w\n"
		"titel: Woorden\n"
		"persona: p\n"
		"inleiding:\n"
		"> Vaktaal.\n"
		"var vertrouwen = 5 (0..10)\n"
		"var spanning = 3 (0..10)\n"
		"bedoeling jargon\n"
		"  patroon: (risicotaxatie | ots | veilig thuis)\n"
		"  patroon: er is sprake van\n"
		"regel jargon\n"
		"  als jargon\n"
		"  onderbreek\n"
		"  zeg\n";
	static const char tail[] =
		"fase start\n"
		"  zeg\n"
		"  - Hm.\n";
	static const struct {
		const char *line, *say, *want;
	} cases[] = {
		{ "Wat bedoelt u met {woord}?", "Risicotaxatie, daar gaat "
		  "het om.", "Wat bedoelt u met risicotaxatie?" },
		{ "Wat bedoelt u met {woord}?", "Er is sprake van zorgen.",
		  "Wat bedoelt u met \xe2\x80\x98" "er is sprake van"
		  "\xe2\x80\x99?" },
		{ "Wat bedoelt u met {woord}?", "de OTS loopt nog",
		  "Wat bedoelt u met OTS?" },
		{ "Wat bedoelt u met {woord}?", "Veilig Thuis belde.",
		  "Wat bedoelt u met Veilig Thuis?" },
		{ "{woord}? Nooit van gehoord.", "Er is sprake van zorgen.",
		  "\xe2\x80\x98" "Er is sprake van\xe2\x80\x99? Nooit van "
		  "gehoord." },
		{ "Nee. {woord}? Nooit van gehoord.", "risicotaxatie!",
		  "Nee. Risicotaxatie? Nooit van gehoord." },
		{ "{woord}? Nooit van gehoord.", "de OTS loopt nog",
		  "OTS? Nooit van gehoord." },
		/* after a stage direction a sentence starts */
		{ "*zucht* {woord}. Alweer.", "er is een risicotaxatie",
		  "*zucht* Risicotaxatie. Alweer." },
		{ "Nou *zucht* {woord}.", "er is een risicotaxatie",
		  "Nou *zucht* risicotaxatie." },
	};
	struct engine_out o;
	struct match m;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf src;
		struct script *s;
		struct engine *e;

		sbuf_init(&src);
		sbuf_addf(&src, "%s  - %s\n%s", head, cases[i].line, tail);
		s = load_text("w.oef", sbuf_str(&src));
		e = engine_new(s, 1);
		engine_start(e, &o);
		turn(e, &m, &o, cases[i].say);
		assert_int_equal(o.nmsgs, 1);
		assert_string_equal(o.msgs[0].buf, cases[i].want);
		engine_free(e);
		script_free(s);
		sbuf_release(&src);
	}
	match_release(&m);
	engine_out_release(&o);
}

/* A courtesy before a question another 'als' answers does not answer,
 * even when its own 'als' comes first: the question's answers, the
 * courtesy counts beside it (once) and says its 'erkenning'. 'bijzaak:
 * gehoord' yields only to such a question: before an unheard one it
 * answers. */
static void test_minor_yields_to_a_heard_question(void **state)
{
	static const char text[] =
		"scenario b\n"
		"titel: Bijzaak\n"
		"persona: p\n"
		"inleiding:\n"
		"> Een sorry.\n"
		"var vertrouwen = 0 (0..10)\n"
		"var spanning = 3 (0..10)\n"
		"bedoeling sorry\n"
		"  bijzaak: gehoord\n"
		"  patroon: stomme vraag\n"
		"bedoeling bedankt\n"
		"  bijzaak: ja\n"
		"  patroon: dank je\n"
		"bedoeling keeper\n"
		"  patroon: op doel\n"
		"bedoeling afscheid\n"
		"  patroon: ik ga nu\n"
		"fase start\n"
		"  zeg\n"
		"  - Ja?\n"
		"  als sorry\n"
		"    vertrouwen +1\n"
		"    zeg\n"
		"    - Fijn dat je dat zegt.\n"
		"    erkenning\n"
		"    - Geeft niks.\n"
		"  als bedankt\n"
		"    vertrouwen +2\n"
		"    zeg\n"
		"    - Graag gedaan.\n"
		"  als keeper\n"
		"    zeg\n"
		"    - Op doel.\n"
		"  als afscheid\n"
		"    zeg\n"
		"    - Doei.\n"
		"  anders\n"
		"    zeg\n"
		"    - Hm.\n";
	struct script *s = load_text("b.oef", text);
	struct engine_out o;
	struct match m;
	struct engine *e = rehearse_seed(s, 1, &o, &m);

	(void)state;
	turn(e, &m, &o, "Speel je? Sorry, stomme vraag. Sta je op doel?");
	assert_int_equal(o.missed, 0);
	assert_int_equal(o.nmsgs, 2);
	assert_string_equal(o.msgs[0].buf, "Op doel.");
	assert_string_equal(o.msgs[1].buf, "Geeft niks.");
	assert_int_equal(engine_var(e, 0), 1);
	/* before a question nobody understood the sorry answers */
	turn(e, &m, &o, "Sorry, stomme vraag. Wat eet je graag?");
	assert_int_equal(o.missed, 0);
	assert_string_equal(o.msgs[0].buf, "Fijn dat je dat zegt.");
	assert_int_equal(engine_var(e, 0), 2);
	/* a thank-you dropped for an unheard question counts once, also
	 * when a goodbye the patterns heard answers instead */
	turn(e, &m, &o, "Dank je. Ik ga nu. Wat eet je graag?");
	assert_string_equal(o.msgs[0].buf, "Doei.");
	assert_int_equal(engine_var(e, 0), 4);
	rehearsal_end(e, &o, &m);
	script_free(s);
}

/* 'bijzaak: ja': a thank-you does not answer a message whose question
 * went unheard; the message is not understood (a fallback line) and
 * the thank-you's meters still count. Alone, or beside a question that
 * was heard, it is what it was; beside another move the patterns heard
 * (a goodbye), that move answers. */
static void test_minor_does_not_drop_a_question(void **state)
{
	static const char text[] =
		"scenario b\n"
		"titel: Bijzaak\n"
		"persona: p\n"
		"inleiding:\n"
		"> Een bedankje.\n"
		"var vertrouwen = 5 (0..10)\n"
		"var spanning = 3 (0..10)\n"
		"bedoeling bedankt\n"
		"  bijzaak: ja\n"
		"  patroon: (bedankt | dank je)\n"
		"bedoeling vraagt\n"
		"  patroon: hoe gaat het\n"
		"bedoeling groet\n"
		"  patroon: hallo\n"
		"bedoeling afscheid\n"
		"  patroon: ik ga nu\n"
		"regel groet\n"
		"  als groet\n"
		"  zeg\n"
		"  - Hoi.\n"
		"fase start\n"
		"  zeg\n"
		"  - Ja?\n"
		"  als vraagt\n"
		"    zeg\n"
		"    - Gaat wel.\n"
		"  anders\n"
		"    zeg\n"
		"    - Hm.\n"
		"    - Wat bedoel je?\n"
		"    - Tja.\n"
		"standaard\n"
		"  als bedankt\n"
		"    vertrouwen +1\n"
		"    zeg\n"
		"    - Graag gedaan.\n"
		"  als afscheid\n"
		"    zeg\n"
		"    - Doei.\n";
	struct script *s = load_text("b.oef", text);
	struct engine *e = engine_new(s, 1);
	struct engine_out o;
	struct match m;

	(void)state;
	engine_out_init(&o);
	match_init(&m);
	engine_start(e, &o);
	turn(e, &m, &o, "Dank je. Wat heb je toen gedaan?");
	assert_int_equal(o.missed, 1);
	assert_int_equal(o.nmsgs, 1);
	assert_string_equal(o.msgs[0].buf, "Hm.");
	assert_int_equal(engine_var(e, 0), 6);
	/* a question that was heard answers; the thank-you still counts */
	turn(e, &m, &o, "Dank je. Hoe gaat het?");
	assert_int_equal(o.missed, 0);
	assert_string_equal(o.msgs[0].buf, "Gaat wel.");
	assert_int_equal(engine_var(e, 0), 7);
	/* alone it answers */
	turn(e, &m, &o, "Dank je wel!");
	assert_int_equal(o.missed, 0);
	assert_string_equal(o.msgs[0].buf, "Graag gedaan.");
	assert_int_equal(engine_var(e, 0), 8);
	/* a rule that spoke is the reply; the thank-you still counts */
	turn(e, &m, &o, "Hallo. Dank je. Wat heb je toen gedaan?");
	assert_int_equal(o.nmsgs, 1);
	assert_string_equal(o.msgs[0].buf, "Hoi.");
	assert_int_equal(engine_var(e, 0), 9);
	/* beside a goodbye the patterns heard: the goodbye answers */
	turn(e, &m, &o, "Dank je. Ik ga nu. Was het een beetje goed zo?");
	assert_int_equal(o.missed, 0);
	assert_string_equal(o.msgs[0].buf, "Doei.");
	assert_int_equal(engine_var(e, 0), 10);
	rehearsal_end(e, &o, &m);
	script_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jargon_interrupts, setup,
						teardown),
		cmocka_unit_test(test_word_slot_case),
		cmocka_unit_test(test_minor_does_not_drop_a_question),
		cmocka_unit_test(test_minor_yields_to_a_heard_question),
		cmocka_unit_test_setup_teardown(test_transition_and_entry,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallbacks_escalate,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_once_rule_and_lru, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_zodra_breakdown, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_good_ending_two_messages,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_turn_count_ending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_save_restore_continues_identically, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_same_seed_same_lines,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_is_small, setup,
						teardown),
		cmocka_unit_test(test_decimal_numbers),
		cmocka_unit_test(test_two_moves),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_go_on),
		cmocka_unit_test(test_context_syntax),
		cmocka_unit_test(test_point_once_per_message),
		cmocka_unit_test(test_points_per_clause),
		cmocka_unit_test(test_point_conflict_silent),
		cmocka_unit_test(test_quiet_moment_cancels),
		cmocka_unit_test(test_quiet_moment_is_a_doubt),
		cmocka_unit_test(test_quiet_moment_first),
		cmocka_unit_test(test_quiet_by_source),
		cmocka_unit_test(test_not_counts_sure_model_hit),
		cmocka_unit_test(test_persona_word_given_back),
		cmocka_unit_test(test_quote_complement),
		cmocka_unit_test(test_meter_cap),
		cmocka_unit_test(test_meter_cap_syntax),
		cmocka_unit_test(test_meter_step),
		cmocka_unit_test(test_repeat_table),
		cmocka_unit_test(test_eerder),
		cmocka_unit_test(test_clarify_without_elab),
		cmocka_unit_test(test_quote_unsaid),
		cmocka_unit_test(test_clarify_asks_more),
		cmocka_unit_test(test_clarify_not_filler),
		cmocka_unit_test(test_clarify_earlier_line),
		cmocka_unit_test(test_clarify_word_start),
		cmocka_unit_test(test_open_question_no_bare_yes),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
