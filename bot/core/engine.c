/* engine.c - see engine.h and docs/scenariotaal.md for the turn order:
 * rules ('als'), then the first matching transition of the phase and of
 * 'standaard', else a fallback; then the move; then 'zodra' checks. */
#include "engine.h"
#include "calib.h"
#include "clause.h"
#include "model.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PENDING 16

struct engine {
	const struct script *s;
	uint32_t node;
	uint32_t beurt;
	uint32_t gemist;
	uint32_t counter;      /* say counter for least-recently-used */
	int ended;
	uint64_t rng;
	int *vars;             /* nvars */
	uint32_t *last_used;   /* per variant: counter when last said */
	uint8_t *fired;        /* per rule: fired before (eenmalig) */
	uint32_t *asked;       /* per intent: beurt the persona last
				* answered it as a question, 0 never
				* (see notice_repeat); then per intent
				* the content key of that question */
	uint32_t prev_line;    /* the variant said before last_line in the
				* same turn (index + 1), 0 none */
	uint32_t last_line;    /* variant index + 1 of the persona's last
				* line, 0 none (for its toelichting) */
	uint8_t *said;         /* bit per line id: said in this rehearsal */
	size_t size;
};

/* How a turn's actions run: all of them; or only what counts (meters,
 * memory, rubric) plus an 'erkenning' for an 'als' beside the one that
 * answers; or everything but what is said and where it goes, when the
 * persona explains its last line instead. */
enum run_mode { RUN_FULL, RUN_BESIDE, RUN_SILENT };

/* A question clause of this many words or more that takes up a word
 * of her line is a question of its own when the patterns understood it
 * ("Je hebt onze brief gehad he?"); shorter, it asks what she meant
 * ("Van internet?", "Die brief van school?"). */
#define WEAK_ASK_WORDS 5

/* Two turns back at most: "Dat vroeg u net al." */
#define REPEAT_WINDOW 2
/* A model hit at least this sure still answers beside a clarifying
 * question. (The confidences here are calibrated ones, model.c: with
 * the weights there, a lone candidate the regression put at 0.9, the
 * old value, gets 0.76.) */
#define CLARIFY_MODEL_CONF 0.7f
/* A rubric moment earned by a model hit needs at least this confidence
 * (the persona may still react to it): on the training split's
 * cross-validation (`eval --kruis`) crediting every model hit cost 4
 * points of rubric precision for 3 of recall; after the scripts' rubric
 * pass of 2026-12-05, 0.9 against 0.7 gave 0.873 against 0.857
 * precision for 0.402 against 0.412 recall (1.0: 0.873, 0.388).
 * Since the confidence is calibrated (model.c), 0.7: on `eval --kruis`
 * rubric precision 0.920 at recall 0.410, against 0.919 at 0.408 for
 * 0.75 and 0.919 at 0.405 for 0.8 (each tried with the answer
 * threshold at 0.5, 0.55 and 0.6 beside it). */
#ifndef RUBRIC_MODEL_CONF
#define RUBRIC_MODEL_CONF 0.7f
#endif
/* The rules (regels), and the first pass choosing the answer, see only
 * what the patterns found, so that a guess never earns a moment or
 * moves a meter; but a credit ('punt … getoond') also needs its
 * condition to hold when, under a 'niet', a model hit this sure counts:
 * "als kleine-stappen en niet legt-op" must not credit a step the model
 * hears imposed. (Only the credit: the rule still fires, so that what
 * the script does with a guess stays what the patterns decide.)
 * Calibrated (model.c), 0.7, with RUBRIC_MODEL_CONF. */
#ifndef NOT_MODEL_CONF
#define NOT_MODEL_CONF 0.7f
#endif
/* The second pass choosing the answer counts model hits from this
 * confidence (the model fires from MODEL_FIRE), as the meter hints do:
 * a branch the model chose moves meters and sets memory, and a guess at
 * 0.57-0.63 ("mag ik een mop vertellen?" as samen-doen, depending on the
 * examples the model learned from) let small talk lift Noor's trust past
 * its ceiling of 6. On `eval --kruis` 0.7 against 0.5: rubric precision
 * 0.909 against 0.911, recall 0.436 against 0.431; on the dev split 0.837
 * against 0.831 (0.6 was tried first; a later retraining put the same
 * guess at 0.63). Since the confidence is calibrated (model.c): 0.5,
 * where a lone candidate the regression put at 0.7 lands (0.54); on
 * `eval --kruis` meters right on 60.0% of the turns that should move,
 * against 59.7% at 0.55 and 59.4% at 0.6 (the latter with the rubric
 * threshold at 0.8). */
#ifndef ANSWER_MODEL_CONF
#define ANSWER_MODEL_CONF 0.5f
#endif

/* A message chosen during a turn, rendered when the turn is done. */
struct pending {
	const char *text;
	struct match_span span;
	const char *msg_text;  /* the message the span points into */
	long node;             /* entry lines of this node, or -1 */
};

#define TURN_MAX_QUIET 8
#define TURN_MAX_STEPPED 8
#define TURN_MAX_START 64
#define TURN_MAX_SILENCED 4

struct turn {
	struct engine *e;
	const struct match *m;     /* NULL outside a trainee message */
	const char *text;
	size_t len;                /* bytes of text (it need not end in
				    * a NUL: engine_turn's contract) */
	struct engine_out *out;
	struct pending pend[MAX_PENDING];
	size_t npend;
	long go;                   /* node to move to, or -1 */
	int interrupt;
	enum run_mode mode;
	int acked;                 /* an erkenning was said this turn */
	int spoke_line;            /* a line was said this turn */
	long clause;               /* clause of the transition that answers,
				    * for moments of actions without an
				    * intent of their own; -1 none */
	const struct action *choosing;  /* whose variants choose() tests,
					 * for 'eerder' */
	int open;                  /* the message's last question is an
				    * open one (ends_open_question) */
	int strict;                /* model hits do not count (the first
				    * pass choosing the answer) */
	float min_conf;            /* model hits under this do not count
				    * (ANSWER_MODEL_CONF) */
	int no_credit;             /* the actions running may not credit
				    * (NOT_MODEL_CONF) */
	const struct transition *silenced[TURN_MAX_SILENCED];
	size_t nsilenced;          /* the courtesies that ran silently
				    * (run_silent): beside() skips them */
	uint64_t held;             /* vars (index < 64) an action added 0
				    * to: they stay, no meter hint moves
				    * them (meter_hints) */
	/* where the vars (the first TURN_MAX_START) stood when the trainee
	 * message came, for engine_out's capped; nstart 0 outside one */
	int start[TURN_MAX_START];
	size_t nstart;
	/* quiet moments of this message (calib.h): not recorded, but they
	 * still cancel the other side of their point */
	/* vars with a 'stap', and their value when the message came */
	uint32_t step_var[TURN_MAX_STEPPED];
	int step_before[TURN_MAX_STEPPED];
	size_t nstep;
	uint32_t quiet_pt[TURN_MAX_QUIET];
	uint8_t quiet_shown[TURN_MAX_QUIET];
	size_t nquiet;
};

void engine_out_init(struct engine_out *o)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < SCRIPT_MAX_MSGS; i++)
		sbuf_init(&o->msgs[i]);
}

void engine_out_release(struct engine_out *o)
{
	for (size_t i = 0; i < SCRIPT_MAX_MSGS; i++)
		sbuf_release(&o->msgs[i]);
	free(o->rules);
	free(o->points);
	free(o->doubts);
	free(o->conflicts);
	memset(o, 0, sizeof(*o));
}

static void out_reset(struct engine_out *o, const struct engine *e)
{
	for (size_t i = 0; i < SCRIPT_MAX_MSGS; i++)
		sbuf_reset(&o->msgs[i]);
	o->nmsgs = 0;
	o->nrules = 0;
	o->npoints = 0;
	o->ndoubts = 0;
	o->nconflicts = 0;
	o->trans = NULL;
	o->missed = 0;
	o->capped = 0;
	o->from = e->node;
	o->node = e->node;
	o->ended = e->ended;
}

/* xorshift64*: small, fast, and the same on every machine. */
static uint64_t rng_next(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 2685821657736338717ull;
}

/* The arrays after the struct, in one allocation: ints first, then
 * uint32s, then bytes, so every one is aligned. */
static void layout(struct engine *e)
{
	const struct script *s = e->s;
	char *p = (char *)(e + 1);

	e->vars = (int *)p;
	p += s->nvars * sizeof(int);
	e->last_used = (uint32_t *)p;
	p += s->nvariants * sizeof(uint32_t);
	e->asked = (uint32_t *)p;
	p += 2 * s->nintents * sizeof(uint32_t);
	e->fired = (uint8_t *)p;
	p += s->nrules;
	e->said = (uint8_t *)p;
}

struct engine *engine_new(const struct script *s, uint64_t seed)
{
	size_t sz = sizeof(struct engine) + s->nvars * sizeof(int) +
		    s->nvariants * sizeof(uint32_t) +
		    2 * s->nintents * sizeof(uint32_t) + s->nrules +
		    (s->nlines + 7) / 8;
	struct engine *e = xcalloc(1, sz);

	e->s = s;
	e->size = sz;
	layout(e);
	e->rng = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	if (!e->rng)
		e->rng = 1;
	for (size_t i = 0; i < s->nvars; i++)
		e->vars[i] = s->vars[i].init;
	e->node = s->start;
	return e;
}

void engine_free(struct engine *e)
{
	free(e);
}

struct engine *engine_clone(const struct engine *e)
{
	struct engine *c = xmalloc(e->size);

	memcpy(c, e, e->size);
	layout(c);
	return c;
}

const struct script *engine_script(const struct engine *e)
{
	return e->s;
}

int engine_var(const struct engine *e, size_t i)
{
	return e->vars[i];
}

uint32_t engine_node(const struct engine *e)
{
	return e->node;
}

int engine_ended(const struct engine *e)
{
	return e->ended;
}

int engine_beurt(const struct engine *e)
{
	return (int)e->beurt;
}

size_t engine_size(const struct engine *e)
{
	return e->size;
}

/* 'eerder': lines of the 'zeg' being chosen that were said before. */
static int said_before(const struct turn *t)
{
	const struct action *a = t->choosing;
	int n = 0;

	for (size_t i = 0; a && i < a->nvariants; i++)
		n += t->e->last_used[a->variants[i].index] != 0;
	return n;
}

static int var_value(const struct engine *e, uint32_t i)
{
	if (i < e->s->nvars)
		return e->vars[i];
	if (i == e->s->nvars + BUILTIN_BEURT)
		return (int)e->beurt;
	return (int)e->gemist;
}

/* Evaluate under neg 'niet's; *trigger gets the first intent that made
 * it true. With sure, model hits from NOT_MODEL_CONF count under an odd
 * number of 'niet's even while t is strict. */
static int eval_neg(const struct turn *t, const struct expr *x,
		    long *trigger, unsigned neg, int sure)
{
	int v;

	switch (x->kind) {
	case EXPR_AND:
		return eval_neg(t, x->a, trigger, neg, sure) &&
		       eval_neg(t, x->b, trigger, neg, sure);
	case EXPR_OR:
		return eval_neg(t, x->a, trigger, neg, sure) ||
		       eval_neg(t, x->b, trigger, neg, sure);
	case EXPR_NOT: {
		long ignore = -1;

		return !eval_neg(t, x->a, &ignore, neg + 1, sure);
	}
	case EXPR_INTENT:
		if (!t->m || !match_hit_act(t->m, x->index,
					    (unsigned)x->value))
			return 0;
		if (t->strict && t->m->hit_how[x->index] == MATCH_BY_MODEL &&
		    (!sure || neg % 2 == 0 ||
		     t->m->conf[x->index] < NOT_MODEL_CONF))
			return 0;
		if (t->m->hit_how[x->index] == MATCH_BY_MODEL &&
		    t->m->conf[x->index] < t->min_conf)
			return 0;
		if (*trigger < 0)
			*trigger = (long)x->index;
		return 1;
	case EXPR_CMP:
		if (x->index == t->e->s->nvars + BUILTIN_EERDER)
			v = said_before(t);
		else
			v = var_value(t->e, x->index);
		return cmp_apply(x->op, v, x->value);
	}
	return 0;
}

static int eval(const struct turn *t, const struct expr *x, long *trigger)
{
	const uint16_t *gate = NULL;
	uint16_t one;
	size_t ngate = script_gate(t->e->s, x, &gate, &one), k = 0;

	/* most conditions need an intent this message did not have */
	while (k < ngate && !(t->m && t->m->hit[gate[k]]))
		k++;
	if (ngate && k == ngate)
		return 0;
	return eval_neg(t, x, trigger, 0, 0);
}

/* Would cond fail if sure model hits counted under its 'niet's? */
static int credit_blocked(const struct turn *t, const struct expr *cond)
{
	long ignore = -1;

	return cond && t->strict && !eval_neg(t, cond, &ignore, 0, 1);
}

static int line_said(const struct engine *e, uint32_t line)
{
	return (e->said[line >> 3] >> (line & 7)) & 1;
}

static void line_mark(struct engine *e, uint32_t line)
{
	e->said[line >> 3] |= (uint8_t)(1u << (line & 7));
}

/* Not one of v's lines was said in this rehearsal. */
static int fresh(const struct engine *e, const struct variant *v)
{
	for (size_t j = 0; j < v->nmsgs; j++)
		if (line_said(e, v->line[j]))
			return 0;
	return 1;
}

/* v is said now: least recently used, and never again. */
static void mark_said(struct engine *e, const struct variant *v)
{
	e->last_used[v->index] = ++e->counter;
	for (size_t j = 0; j < v->nmsgs; j++)
		line_mark(e, v->line[j]);
}

/* The message's last question is an open one (clause.h): "Wie brengt
 * Daan naar school?", "Hoe lang duurt dit? Ik heb om elf uur
 * overleg."; not "Wat doe je bij je club, speel je in het veld?",
 * which a yes answers. */
static int ends_open_question(const struct match *m)
{
	for (size_t c = m ? m->nclause : 0; c-- > 0;)
		if (m->clause[c].act == MATCH_VRAAG && !m->clause[c].reported)
			return m->clause[c].open;
	return 0;
}

/* The line says nothing but yes: "Ja.", "Oké…", "*haalt haar
 * schouders op* Ja.", "Hm. Ja.", "Mm, ja". "Ja, die brief. Hij ligt in
 * de la." answers; its "ja" is no yes. */
static int says_yes(const char *line)
{
	static const char *const yes[] = {
		"ja", "jawel", "jaja", "oké", "okee", "oke", "ok", "okay",
	};
	static const char *const hum[] = { "hm", "hmm", "mm", "mmm", "nou" };
	const char *p = line;
	int said = 0;

	for (;;) {
		size_t w = 0;
		int known = 0;

		while (*p == ' ' || *p == ',' || *p == '.' || *p == '!' ||
		       *p == '?')
			p++;
		if (strncmp(p, "…", strlen("…")) == 0) {
			p += strlen("…");
			continue;
		}
		if (*p == '*') {                 /* a stage direction */
			const char *q = strchr(p + 1, '*');

			if (!q)
				return 0;
			p = q + 1;
			continue;
		}
		if (!*p)
			return said;
		while (p[w] && !strchr(" ,.!?*", p[w]) &&
		       strncmp(p + w, "…", strlen("…")) != 0)
			w++;
		for (size_t k = 0; k < ARRAY_LEN(yes) && !known; k++)
			if (strlen(yes[k]) == w &&
			    strncasecmp(p, yes[k], w) == 0)
				known = said = 1;
		for (size_t k = 0; k < ARRAY_LEN(hum) && !known; k++)
			known = strlen(hum[k]) == w &&
				strncasecmp(p, hum[k], w) == 0;
		if (!known)
			return 0;
		p += w;
	}
}

/* A variant of a whose condition holds and whose lines were not said
 * yet (the least recently used of them; the seed breaks ties). After
 * an open question a line that says nothing but yes is said only
 * when no other is left: "Wie brengt Daan naar school?" gets no "Ja."
 * while "Sorry, ik volg het even niet." is still there. The seed is
 * drawn as if every line could be said, so that leaving one out does
 * not change what the seed picks later in the rehearsal. */
static const struct variant *choose(struct turn *t, const struct action *a)
{
	struct engine *e = t->e;
	const struct variant *best[64];
	uint8_t yes[64];
	size_t nbest = 0, nyes = 0;
	uint32_t oldest = UINT32_MAX;
	size_t pick;
	uint64_t draw;

	for (size_t i = 0; a && i < a->nvariants; i++) {
		const struct variant *v = &a->variants[i];
		long ignore = -1;
		uint32_t lu;
		int ok;

		t->choosing = a;
		ok = !v->cond || eval(t, v->cond, &ignore);
		t->choosing = NULL;
		if (!ok)
			continue;
		if (!fresh(e, v))
			continue;
		lu = e->last_used[v->index];
		if (lu < oldest) {
			oldest = lu;
			nbest = nyes = 0;
		}
		if (lu == oldest && nbest < ARRAY_LEN(best)) {
			yes[nbest] = t->open && v->nmsgs &&
				     says_yes(v->msgs[0]);
			nyes += yes[nbest];
			best[nbest++] = v;
		}
	}
	if (!nbest)
		return NULL;
	draw = nbest == 1 ? 0 : rng_next(&e->rng);
	pick = draw % nbest;
	if (!yes[pick] || nyes == nbest)
		return best[pick];
	/* the seed drew a bare yes: the same draw picks among the rest */
	pick = (draw / nbest) % (nbest - nyes);
	for (size_t i = 0; i < nbest; i++)
		if (!yes[i] && pick-- == 0)
			return best[i];
	return best[0];
}

/* The first action of kind directly under 'standaard', or NULL. */
static const struct action *standaard_action(const struct script *s,
					      enum action_kind kind)
{
	if (!s->standaard)
		return NULL;
	for (size_t i = 0; i < s->standaard->enter.n; i++)
		if (s->standaard->enter.v[i].kind == kind)
			return &s->standaard->enter.v[i];
	return NULL;
}

/* What a 'zeg' says: a fresh variant; when all were said, a fresh line
 * of 'uitwijk'; when those are gone too, nothing. */
static const struct variant *pick(struct turn *t, const struct action *a)
{
	const struct variant *v = choose(t, a);

	if (!v && a->kind == ACT_SAY)
		v = choose(t, standaard_action(t->e->s, ACT_FILLER));
	return v;
}

/* The clause an intent was found in, or -1. */
static long intent_clause(const struct turn *t, long intent)
{
	if (intent < 0 || !t->m || !t->m->nclause ||
	    t->m->hit_clause[intent] >= t->m->nclause)
		return -1;
	return (long)t->m->hit_clause[intent];
}

static int point_conflicted(const struct engine_out *o, uint32_t point)
{
	for (size_t i = 0; i < o->nconflicts; i++)
		if (o->conflicts[i] == point)
			return 1;
	return 0;
}

/* "Ik begrijp | dat het schrikken was", "Wie kun je bellen | als het
 * misgaat?": a quote goes on through the clauses that complete it (a
 * 'dat', 'wat' or 'hoe' clause, or a subordinate one: als, wanneer,
 * zodra, zodat, omdat, voordat), when only spaces part them. */
static int quote_goes_on(const char *w)
{
	static const char *const words[] = {
		"dat", "wat", "hoe", "als", "wanneer", "zodra", "zodat",
		"omdat", "voordat",
	};

	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (!strcmp(w, words[i]))
			return 1;
	return 0;
}

/* "Wat ik opschrijf, lees ik eerst met u door": a clause that opens
 * with a subordinator, then a comma, then the main clause with its verb
 * first (the subject right after it) is one sentence; a quote of
 * either half alone misses what was said. */
static int starts_subordinate(const struct match *m,
			      const struct match_clause *c)
{
	static const char *const words[] = {
		"als", "wanneer", "zodra", "wat", "wie", "waar", "voordat",
		"nadat", "zolang", "omdat", "hoe",
	};
	uint32_t k = c->tok;

	if (c->ntok > 1 && (!strcmp(m->norm.tok[k].word, "en") ||
			    !strcmp(m->norm.tok[k].word, "maar")))
		k++;
	if (k >= m->norm.ntok || k >= c->tok + c->ntok)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (!strcmp(m->norm.tok[k].word, words[i]))
			return 1;
	return 0;
}

static int verb_then_subject(const struct match *m,
			     const struct match_clause *c)
{
	static const char *const subj[] = {
		"ik", "je", "jij", "u", "we", "wij", "jullie", "ze", "zij",
		"hij", "het", "er",
	};

	if (c->ntok < 2 || c->tok + 1 >= m->norm.ntok)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(subj); i++)
		if (!strcmp(m->norm.tok[c->tok + 1].word, subj[i]))
			return 1;
	return 0;
}

/* Only a comma and spaces between clause a's end and clause b. */
static int comma_between(const struct turn *t, const struct match_clause *a,
			 const struct match_clause *b)
{
	int comma = 0;

	if (b->start < a->start + a->len)
		return 0;
	for (uint32_t i = a->start + a->len; i < b->start; i++) {
		if (t->text[i] == ',' && !comma)
			comma = 1;
		else if (t->text[i] != ' ')
			return 0;
	}
	return comma;
}

static void quote_sentence(const struct turn *t, size_t cl,
			   struct engine_point *p)
{
	const struct match *m = t->m;
	const struct match_clause *c = &m->clause[cl];

	if (!t->text)
		return;
	if (cl > 0 && starts_subordinate(m, &m->clause[cl - 1]) &&
	    verb_then_subject(m, c) &&
	    comma_between(t, &m->clause[cl - 1], c)) {
		p->qlen += p->qstart - m->clause[cl - 1].start;
		p->qstart = m->clause[cl - 1].start;
	} else if (cl + 1 < m->nclause && starts_subordinate(m, c) &&
		   verb_then_subject(m, &m->clause[cl + 1]) &&
		   comma_between(t, c, &m->clause[cl + 1])) {
		p->qlen = m->clause[cl + 1].start + m->clause[cl + 1].len -
			  p->qstart;
	}
}

static void quote_complements(const struct turn *t, size_t cl,
			      struct engine_point *p)
{
	const struct match *m = t->m;

	for (size_t c = cl + 1; t->text && c < m->nclause; c++) {
		const struct match_clause *k = &m->clause[c];
		const char *w;
		uint32_t end = p->qstart + p->qlen;

		if (k->ntok && k->start < end)
			continue;   /* taken in by quote_sentence */
		if (!k->ntok || k->tok >= m->norm.ntok)
			return;
		for (uint32_t b = end; b < k->start; b++)
			if (t->text[b] != ' ')
				return;
		w = m->norm.tok[k->tok].word;
		if (!quote_goes_on(w))
			return;
		p->qlen = k->start + k->len - p->qstart;
	}
}


/* Record a rubric moment for the clause that earned it: the trigger's
 * clause, else the clause of the answering transition, else the only
 * clause; with none of these the whole message is quoted. Once per point
 * per message; both sides in one message cancel out (a debrief that is
 * silent beats one that praises and blames the same words). */
static void add_conflict(struct engine_out *o, uint32_t point)
{
	XGROW(o->conflicts, o->conflicts_cap, o->nconflicts + 1);
	o->conflicts[o->nconflicts++] = point;
}

static void point_fill(const struct turn *t, const struct action *a,
		       long cl, int by_model, struct engine_point *p);

/* A moment the engine heard but does not record (a quiet one, or one
 * only the model heard and not surely): kept apart as a doubt, for
 * the debrief's "not recognised" list (turn_doubts). */
static void add_doubt(struct turn *t, const struct action *a, long cl)
{
	struct engine_out *o = t->out;

	for (size_t i = 0; i < o->ndoubts; i++)
		if (o->doubts[i].point == a->index &&
		    o->doubts[i].shown == a->value)
			return;
	XGROW(o->doubts, o->doubts_cap, o->ndoubts + 1);
	point_fill(t, a, cl, 1, &o->doubts[o->ndoubts++]);
}

static void add_point(struct turn *t, const struct action *a, long trigger)
{
	struct engine_out *o = t->out;
	struct engine_point *p;
	long cl = intent_clause(t, trigger);
	int quiet;
	int by_model = trigger >= 0 && t->m &&
		       (size_t)trigger < t->e->s->nintents &&
		       t->m->hit[trigger] &&
		       t->m->hit_how[trigger] == MATCH_BY_MODEL;

	if (cl < 0)
		cl = t->clause;
	if (cl < 0 && t->m && t->m->nclause == 1)
		cl = 0;
	if (a->value && t->no_credit)
		return;
	if (by_model && t->m->conf[trigger] < RUBRIC_MODEL_CONF) {
		/* heard, but not surely enough to count: a doubt */
		add_doubt(t, a, cl);
		return;
	}
	quiet = t->e->s->quiet &&
		t->e->s->quiet[calib_src_key(t->e->s, a->src, by_model)];
	if (point_conflicted(o, a->index))
		return;
	/* a quiet moment is not recorded (calib.h: too often wrong on the
	 * training split), but praise and blame for one point in one
	 * message still cancel out, whichever side is quiet */
	for (size_t i = 0; i < t->nquiet; i++)
		if (t->quiet_pt[i] == a->index &&
		    t->quiet_shown[i] != (a->value != 0)) {
			add_conflict(o, a->index);
			return;
		}
	for (size_t i = 0; i < o->npoints; i++) {
		if (o->points[i].point != a->index)
			continue;
		if (o->points[i].shown == a->value)
			return;
		memmove(&o->points[i], &o->points[i + 1],
			(o->npoints - i - 1) * sizeof(*o->points));
		o->npoints--;
		add_conflict(o, a->index);
		return;
	}
	if (quiet) {
		if (t->nquiet < TURN_MAX_QUIET) {
			t->quiet_pt[t->nquiet] = a->index;
			t->quiet_shown[t->nquiet] = a->value != 0;
			t->nquiet++;
		}
		add_doubt(t, a, cl);
		return;
	}
	XGROW(o->points, o->points_cap, o->npoints + 1);
	p = &o->points[o->npoints++];
	point_fill(t, a, cl, by_model, p);
}

/* The moment a's point, side and quote: the clause cl (-1: the whole
 * message). */
static void point_fill(const struct turn *t, const struct action *a,
		       long cl, int by_model, struct engine_point *p)
{
	p->point = a->index;
	p->shown = a->value;
	p->reason = a->reason;
	p->src = a->src;
	p->clause = cl;
	p->by_model = by_model;
	p->qstart = 0;
	p->qlen = 0;
	if (cl >= 0) {
		p->qstart = t->m->clause[cl].start;
		p->qlen = t->m->clause[cl].len;
		quote_sentence(t, (size_t)cl, p);
		quote_complements(t, (size_t)cl, p);
		/* with the sentence mark that closes the clause */
		while (t->text && (size_t)p->qstart + p->qlen < t->len &&
		       t->text[p->qstart + p->qlen] &&
		       strchr(".?!", t->text[p->qstart + p->qlen]))
			p->qlen++;
	}
}

/* 'plafond N tot …': while the condition is false a change raises the
 * meter to N at most (it never lowers what is already above N). */
static void cap_var(struct turn *t, uint32_t i, int old)
{
	const struct var *vd = &t->e->s->vars[i];
	int *var = &t->e->vars[i];
	long ignore = -1;

	/* 'stap N': the whole message raises it by N at most */
	for (size_t k = 0; vd->step && k < t->nstep; k++)
		if (t->step_var[k] == i &&
		    *var > t->step_before[k] + vd->step)
			*var = t->step_before[k] + vd->step > old ?
			       t->step_before[k] + vd->step : old;
	if (!vd->until || *var <= vd->cap || *var <= old ||
	    eval(t, vd->until, &ignore))
		return;
	*var = old > vd->cap ? old : vd->cap;
	if (i < 64)
		t->out->capped |= UINT64_C(1) << i;
}

static void run_actions(struct turn *t, const struct action_list *al,
			long trigger, long entry_node)
{
	struct engine *e = t->e;
	const struct script *s = e->s;

	for (size_t i = 0; i < al->n; i++) {
		const struct action *a = &al->v[i];
		const struct variant *v;
		int *var, old;

		if (t->mode == RUN_BESIDE && a->kind != ACT_ADD &&
		    a->kind != ACT_SET && a->kind != ACT_POINT &&
		    (a->kind != ACT_ACK || t->acked))
			continue;
		if (t->mode == RUN_SILENT && (a->kind == ACT_SAY ||
					      a->kind == ACT_GOTO))
			continue;
		switch (a->kind) {
		case ACT_ADD:
		case ACT_SET:
			var = &e->vars[a->index];
			old = *var;
			/* 'vertrouwen +0': the script says it stays */
			if (a->kind == ACT_ADD && !a->value && a->index < 64)
				t->held |= UINT64_C(1) << a->index;
			*var = a->kind == ACT_SET ? a->value : *var + a->value;
			if (*var < s->vars[a->index].min)
				*var = s->vars[a->index].min;
			if (*var > s->vars[a->index].max)
				*var = s->vars[a->index].max;
			cap_var(t, a->index, old);
			break;
		case ACT_ACK:
			if (t->mode != RUN_BESIDE)
				break;
			t->acked = 1;
			/* fall through - said like a 'zeg' */
		case ACT_SAY:
			v = pick(t, a);
			if (!v)
				break;
			mark_said(e, v);
			e->prev_line = t->spoke_line ? e->last_line : 0;
			e->last_line = v->index + 1;
			t->spoke_line = 1;
			for (size_t j = 0; j < v->nmsgs &&
			     t->npend < MAX_PENDING; j++) {
				struct pending *p = &t->pend[t->npend++];

				p->text = v->msgs[j];
				p->node = entry_node;
				p->span.start = 0;
				p->span.len = 0;
				if (trigger >= 0 && t->m)
					p->span = t->m->span[trigger];
			}
			break;
		case ACT_GOTO:
			t->go = (long)a->index;
			break;
		case ACT_POINT:
			add_point(t, a, trigger);
			break;
		case ACT_INTERRUPT:
			t->interrupt = 1;
			break;
		case ACT_REPEAT:
		case ACT_FILLER:
		case ACT_VAGUE:
		case ACT_UNSAID:
			break;   /* said by notice_repeat, pick, clarify,
				  * quotes_unsaid */
		}
	}
}

static void enter(struct turn *t, uint32_t node)
{
	struct engine *e = t->e;

	e->node = node;
	if (e->s->nodes[node].kind == NODE_EINDE)
		e->ended = 1;
	run_actions(t, &e->s->nodes[node].enter, -1, (long)node);
}

static void fire_rule(struct turn *t, size_t r, long trigger)
{
	struct engine_out *o = t->out;
	const struct action_list *al = &t->e->s->rules[r].acts;
	int zodra = t->e->s->rules[r].kind == TRIG_ZODRA;
	int was[8];

	t->e->fired[r] = 1;
	XGROW(o->rules, o->rules_cap, o->nrules + 1);
	o->rules[o->nrules++] = (uint32_t)r;
	for (size_t i = 0; zodra && i < al->n && i < 8; i++)
		if (al->v[i].kind == ACT_SET && al->v[i].index < t->nstart)
			was[i] = t->e->vars[al->v[i].index];
	run_actions(t, al, trigger, -1);
	/* A 'zodra' rule that sets a meter back from where this message
	 * took it, not under where it stood ('zodra vertrouwen > 8 en …:
	 * vertrouwen = 8'), is a ceiling written as a rule: the rise was
	 * held, as by a 'plafond' */
	for (size_t i = 0; zodra && i < al->n && i < 8; i++) {
		uint32_t v = al->v[i].index;
		int now;

		if (al->v[i].kind != ACT_SET || v >= t->nstart)
			continue;
		now = t->e->vars[v];
		if (was[i] > t->start[v] && now < was[i] && now >= t->start[v])
			o->capped |= UINT64_C(1) << v;
	}
}

static void rules(struct turn *t, enum trig_kind kind)
{
	const struct script *s = t->e->s;

	for (size_t r = 0; r < s->nrules; r++) {
		const struct rule *ru = &s->rules[r];
		long trigger = -1;

		if (ru->kind != kind || (ru->once && t->e->fired[r]))
			continue;
		if (eval(t, ru->cond, &trigger)) {
			t->no_credit = credit_blocked(t, ru->cond);
			fire_rule(t, r, trigger);
			t->no_credit = 0;
		}
	}
}

/* First transition of kind in node n whose condition holds, after
 * 'after' when it is one of n's (NULL: from the first). */
static const struct transition *next_true(struct turn *t,
					  const struct node *n,
					  enum trig_kind kind,
					  const struct transition *after,
					  long *trigger)
{
	size_t i = 0;

	if (!n)
		return NULL;
	if (after && after >= n->trans && after < n->trans + n->ntrans)
		i = (size_t)(after - n->trans) + 1;
	for (; i < n->ntrans; i++) {
		const struct transition *tr = &n->trans[i];

		*trigger = -1;
		if (tr->kind == kind && eval(t, tr->cond, trigger))
			return tr;
	}
	return NULL;
}

static const struct transition *first_true(struct turn *t,
					   const struct node *n,
					   enum trig_kind kind, long *trigger)
{
	return next_true(t, n, kind, NULL, trigger);
}

/* Does message m ask about the rehearsal itself (a question clause
 * spoken outside it: "Is dit een bot?")? */
static int asks_offstage(const struct match *m)
{
	for (size_t c = 0; m && c < m->nclause; c++)
		if (m->clause[c].act == MATCH_VRAAG && m->clause[c].offstage)
			return 1;
	return 0;
}

static void fallback(struct turn *t)
{
	const struct script *s = t->e->s;
	const struct node *n = &s->nodes[t->e->node];
	size_t k;
	int open;

	if (!n->nfallbacks && s->standaard)
		n = s->standaard;
	if (!n->nfallbacks)
		return;
	k = t->e->gemist ? t->e->gemist - 1 : 0;
	if (k >= n->nfallbacks)
		k = n->nfallbacks - 1;
	/* a question about the rehearsal itself gets no bare yes either:
	 * "Is dit een bot?" answered "*haalt haar schouders op* Ja."
	 * steps out of the role. (Any closed question she did not
	 * understand was tried too: blind judges preferred the "Ja." to
	 * "Was je die ochtend al gespannen?" over "Hm." 5 times in 22.) */
	open = t->open;
	t->open = open || asks_offstage(t->m);
	run_actions(t, &n->fallbacks[k].acts, -1, -1);
	t->open = open;
}

/* Quote what the trainee typed, but never a control character or an
 * invalid UTF-8 byte (they would break a chat message). */
static void add_clean(struct sbuf *sb, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

		if (c < 0x20 || c == 0x7f) {
			sbuf_addc(sb, ' ');
			i++;
		} else if (k == 1 || (i + k <= n && utf8_valid(s + i, k))) {
			sbuf_add(sb, s + i, k);
			i += k;
		} else {
			sbuf_adds(sb, "\xef\xbf\xbd");
			i++;
		}
	}
}

/* Does the persona's line start a sentence at ph? */
static int line_start(const char *line, const char *ph)
{
	while (ph > line && ph[-1] == ' ')
		ph--;
	/* after a stage direction, as after the line's start or a full
	 * stop: "*zucht* Escalaties. Jullie praten…" */
	if (ph > line && ph[-1] == '*') {
		const char *open = ph - 1;

		while (open > line && open[-1] != '*')
			open--;
		if (open > line)
			return line_start(line, open - 1);
	}
	return ph == line || ph[-1] == '.' || ph[-1] == '?' ||
	       ph[-1] == '!';
}

/* Quote the trainee's words s[0..n) inside a persona's line: a capital
 * that only marked the start of the trainee's sentence follows the
 * persona's sentence instead ("Er is sprake van" mid-line is "er is
 * sprake van"), while OTS and Veilig Thuis keep theirs; a phrase of three
 * words or more goes between quotes, so "Wat bedoelt u met ‘er is sprake
 * van’?" reads as a question about those words. */
static void add_quote(struct sbuf *sb, const char *s, size_t n, int start)
{
	size_t words = 1, from;
	int later_cap = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' && i + 1 < n && s[i + 1] != ' ')
			words++;
		if (i && isupper((unsigned char)s[i]))
			later_cap = 1;
	}
	if (words >= 3)
		sbuf_adds(sb, "\xe2\x80\x98");
	from = sb->len;
	add_clean(sb, s, n);
	if (sb->len > from && !later_cap) {
		char *f = &sb->buf[from];

		if (start)
			*f = (char)toupper((unsigned char)*f);
		else
			*f = (char)tolower((unsigned char)*f);
	}
	if (words >= 3)
		sbuf_adds(sb, "\xe2\x80\x99");
}

/* Substitute {woord} and copy the chosen messages into out. */
static void render(struct turn *t)
{
	struct engine_out *o = t->out;
	size_t keep[MAX_PENDING], nkeep = 0, nentry = 0, nother = 0;
	long final = (long)t->e->node;

	for (size_t i = 0; i < t->npend; i++) {
		if (t->pend[i].node >= 0 && t->pend[i].node != final)
			continue;   /* lines of a phase passed through */
		if (t->pend[i].node == final)
			nentry++;
		keep[nkeep++] = i;
	}
	/* Never more than SCRIPT_MAX_MSGS: the phase's own lines win,
	 * then the earliest reactions. */
	if (nentry > SCRIPT_MAX_MSGS)
		nentry = SCRIPT_MAX_MSGS;
	for (size_t k = 0; k < nkeep && o->nmsgs < SCRIPT_MAX_MSGS; k++) {
		const struct pending *p = &t->pend[keep[k]];
		const char *c = p->text;
		struct sbuf *sb = &o->msgs[o->nmsgs];

		if (p->node < 0) {
			if (nother + nentry >= SCRIPT_MAX_MSGS)
				continue;
			nother++;
		}
		while (*c) {
			const char *ph = strstr(c, "{woord}");

			if (!ph) {
				sbuf_adds(sb, c);
				break;
			}
			sbuf_add(sb, c, (size_t)(ph - c));
			if (p->span.len && t->text)
				add_quote(sb, t->text + p->span.start,
					  p->span.len, line_start(p->text, ph));
			else
				sbuf_adds(sb, "dat");
			c = ph + 7;
		}
		o->nmsgs++;
	}
}

static void turn_init(struct turn *t, struct engine *e, const struct match *m,
		      const char *text, struct engine_out *out)
{
	t->e = e;
	t->m = m;
	t->open = ends_open_question(m);
	t->text = text;
	t->len = 0;
	t->out = out;
	t->npend = 0;
	t->go = -1;
	t->interrupt = 0;
	t->mode = RUN_FULL;
	t->held = 0;
	t->nstart = 0;
	if (m) {
		t->nstart = e->s->nvars < TURN_MAX_START ?
			    e->s->nvars : TURN_MAX_START;
		memcpy(t->start, e->vars, t->nstart * sizeof(int));
	}
	t->acked = 0;
	t->nsilenced = 0;
	t->spoke_line = 0;
	t->clause = -1;
	t->choosing = NULL;
	t->nquiet = 0;
	t->nstep = 0;
	/* a trainee message: remember where the stepped meters stood */
	for (size_t i = 0; m && i < e->s->nvars &&
	     t->nstep < TURN_MAX_STEPPED; i++)
		if (e->s->vars[i].step) {
			t->step_var[t->nstep] = (uint32_t)i;
			t->step_before[t->nstep] = e->vars[i];
			t->nstep++;
		}
	t->strict = 0;
	t->min_conf = 0;
	t->no_credit = 0;
	out_reset(out, e);
}

/* A doubt stays only for a point the message recorded nothing of (on
 * either side, nor a conflict), and only when it is one-sided. */
static void turn_doubts(struct engine_out *o)
{
	size_t n = 0;

	for (size_t i = 0; i < o->ndoubts; i++) {
		const struct engine_point *d = &o->doubts[i];
		int keep = !point_conflicted(o, d->point);

		for (size_t k = 0; keep && k < o->npoints; k++)
			keep = o->points[k].point != d->point;
		for (size_t k = 0; keep && k < o->ndoubts; k++)
			keep = o->doubts[k].point != d->point ||
			       o->doubts[k].shown == d->shown;
		if (keep)
			o->doubts[n++] = *d;
	}
	o->ndoubts = n;
}

static void turn_finish(struct turn *t)
{
	turn_doubts(t->out);
	t->out->node = t->e->node;
	t->out->ended = t->e->ended;
	render(t);
}

void engine_start(struct engine *e, struct engine_out *out)
{
	struct turn t;

	turn_init(&t, e, NULL, NULL, out);
	enter(&t, e->node);
	turn_finish(&t);
}

/* The 'zodra' checks after a turn: at most one move. */
static void after(struct turn *t)
{
	const struct script *s = t->e->s;
	const struct transition *tr;
	long trigger = -1;

	rules(t, TRIG_ZODRA);
	if (t->go < 0 && !t->e->ended) {
		tr = first_true(t, &s->nodes[t->e->node], TRIG_ZODRA,
				&trigger);
		if (!tr)
			tr = first_true(t, s->standaard, TRIG_ZODRA, &trigger);
		if (tr)
			run_actions(t, &tr->acts, -1, -1);
	}
	if (t->go >= 0 && !t->e->ended) {
		uint32_t go = (uint32_t)t->go;

		t->go = -1;
		enter(t, go);
	}
}

static int turn_matched(struct engine *e, const struct match *m,
			const char *text, size_t len,
			struct engine_out *out);

int engine_turn(struct engine *e, struct match *m, const char *text,
		size_t len, struct engine_out *out)
{
	if (e->ended) {
		out_reset(out, e);
		return -1;
	}
	match_run(m, e->s, text, len);
	return turn_matched(e, m, text, len, out);
}

/* The clause a transition's triggering intent came from, or -1. */
static long trigger_clause(const struct turn *t, long trigger)
{
	if (trigger < 0 || !t->m || !t->m->nclause)
		return -1;
	return (long)t->m->hit_clause[trigger];
}

/* Is clause c a question inside the rehearsal, in Dutch? */
static int asked_in(const struct match *m, size_t c)
{
	const struct match_clause *cl = &m->clause[c];

	return cl->act == MATCH_VRAAG && !cl->other_lang && !cl->offstage;
}

/* Was something heard in clause c: found by a pattern, or by the model
 * sure enough to answer? */
static int heard_in(const struct turn *t, size_t c)
{
	const struct match *m = t->m;

	for (size_t i = 0; i < t->e->s->nintents; i++)
		if (m->hit[i] && m->hit_clause[i] == c &&
		    (m->hit_how[i] == MATCH_BY_PATTERN ||
		     m->conf[i] >= ANSWER_MODEL_CONF))
			return 1;
	return 0;
}

/* Is there a question in the message, outside clause 'except', in which
 * nothing was heard (no pattern, no model hit sure enough to answer)?
 * "Dank u voor uw eerlijkheid. Wat heeft u toen gedaan?" */
static int question_unheard(const struct turn *t, long except)
{
	const struct match *m = t->m;

	for (size_t c = 0; m && c < m->nclause; c++)
		if ((long)c != except && asked_in(m, c) && !heard_in(t, c))
			return 1;
	return 0;
}

/* Is clause c a question the persona heard? */
static int question_heard(const struct turn *t, size_t c)
{
	return t->m && c < t->m->nclause && asked_in(t->m, c) &&
	       heard_in(t, c);
}

static int silenced(const struct turn *t, const struct transition *tr)
{
	for (size_t i = 0; i < t->nsilenced; i++)
		if (t->silenced[i] == tr)
			return 1;
	return 0;
}

/* The next 'als' after tr (of the phase, then of 'standaard') that the
 * patterns find true for an intent of a heard question in a clause after
 * clause cl; NULL when none. */
static const struct transition *
answers_later_question(struct turn *t, const struct transition *tr,
		       long cl, long *trigger)
{
	const struct script *s = t->e->s;
	const struct node *nodes[2] = { &s->nodes[t->e->node], s->standaard };
	const struct transition *found = NULL;
	int strict = t->strict;

	t->strict = 1;
	for (size_t k = 0; k < 2 && !found; k++) {
		const struct transition *from = tr;

		while (!found &&
		       (from = next_true(t, nodes[k], TRIG_ALS, from,
					 trigger)) != NULL) {
			long c = trigger_clause(t, *trigger);

			if (c > cl && question_heard(t, (size_t)c))
				found = from;
		}
	}
	t->strict = strict;
	return found;
}

/* Every other 'als' of the phase (then of 'standaard') that holds for an
 * intent of a clause not yet answered counts too: its meters, memory and
 * rubric moments, and at most one 'erkenning' line; what it says and
 * where it goes are the answering one's. One 'als' per clause. */
static void beside(struct turn *t, const struct transition *primary,
		   long ptrigger)
{
	const struct script *s = t->e->s;
	const struct node *nodes[2] = { &s->nodes[t->e->node], s->standaard };
	uint64_t used = 0;
	long pc = trigger_clause(t, ptrigger);

	if (pc >= 0 && pc < 64)
		used |= 1ull << pc;
	t->mode = RUN_BESIDE;
	for (size_t k = 0; k < 2; k++) {
		const struct node *n = nodes[k];

		for (size_t i = 0; n && i < n->ntrans; i++) {
			const struct transition *tr = &n->trans[i];
			long trigger = -1, cl;

			if (tr == primary || tr->kind != TRIG_ALS ||
			    silenced(t, tr) || !eval(t, tr->cond, &trigger))
				continue;
			cl = trigger_clause(t, trigger);
			if (cl < 0 || cl >= 64 || (used & (1ull << cl)))
				continue;
			used |= 1ull << cl;
			run_actions(t, &tr->acts, trigger, -1);
		}
	}
	t->mode = RUN_FULL;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (unsigned char)c >= 0x80;
}

/* Is the normalised (lower-case ASCII, not empty) word w a word of
 * line, ignoring case: at a word's start, with at most two letters
 * after it ("broek" in "broeken", not "goede" in "Goedemiddag")? */
static int line_has(const char *line, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = line; *p; p++) {
		size_t i = 1, rest = 0;

		if (ascii_lower(*p) != w[0] || (p > line && is_letter(p[-1])))
			continue;
		while (i < n && p[i] && ascii_lower(p[i]) == w[i])
			i++;
		if (i < n)
			continue;
		while (rest < 3 && is_letter(p[i + rest]))
			rest++;
		if (rest <= 2)
			return 1;
	}
	return 0;
}

/* Does w stand in line as a name: with a capital, not at the start of
 * a sentence ("Met Pluis op schoot")? A short question about a name
 * ("Wat eet Pluis het liefst?") asks something new about it. */
static int name_in_line(const char *line, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = line; *p; p++) {
		const char *b = p;
		size_t i = 1;

		if (*p < 'A' || *p > 'Z' || ascii_lower(*p) != w[0] ||
		    (p > line && is_letter(p[-1])))
			continue;
		while (i < n && p[i] && ascii_lower(p[i]) == w[i])
			i++;
		if (i < n || is_letter(p[i]))
			continue;
		while (b > line && (b[-1] == ' ' || b[-1] == '*'))
			b--;
		if (b > line && !strchr(".!?:", b[-1]) &&
		    (unsigned char)b[-1] != 0xa6)   /* the end of "…" */
			return 1;
	}
	return 0;
}

/* A question clause that asks for more about something ("kun je daar
 * iets meer over vertellen?", "wat moet ik me daarbij voorstellen?",
 * "hoe zit dat precies?") and points back at it: "daar…"/"er…" or a word
 * of five letters or more from the line. */
static int asks_more(const struct norm *n, const struct match_clause *cl,
		     const struct variant *last)
{
	static const char *const back[] = {
		"daar", "daarover", "daarbij", "daarmee", "daarvan", "erover",
		"ermee", "erbij", "ervan",
	};
	int more = 0, points_back = 0;

	for (size_t k = cl->tok; k < cl->tok + cl->ntok && k < n->ntok; k++) {
		const char *w = n->tok[k].word;
		const char *nx = k + 1 < cl->tok + cl->ntok &&
				 k + 1 < n->ntok ? n->tok[k + 1].word : "";

		if ((!strcmp(w, "meer") && (!strcmp(nx, "over") ||
					    !strcmp(nx, "vertellen"))) ||
		    !strcmp(w, "voorstellen") || !strcmp(w, "precies") ||
		    (!strcmp(w, "zit") && !strcmp(nx, "dat")) ||
		    (!strcmp(w, "houdt") && !strcmp(nx, "dat")))
			more = 1;
		for (size_t i = 0; i < ARRAY_LEN(back); i++)
			if (!strcmp(w, back[i]))
				points_back = 1;
		if (n->tok[k].len >= 5 && strcmp(w, "vertellen") &&
		    strcmp(w, "voorstellen") && strcmp(w, "precies"))
			for (size_t j = 0; j < last->nmsgs; j++)
				if (line_has(last->msgs[j], w))
					points_back = 1;
	}
	return more && points_back;
}

/* Is there an "ik" or "we" in clause cl ("Mag ik het uitleggen?", "Leg
 * ik het zo goed uit?")? */
static int first_person(const struct norm *n, const struct match_clause *cl)
{
	for (size_t k = cl->tok; k < cl->tok + cl->ntok; k++)
		if (clause_is_first_person(n, k))
			return 1;
	return 0;
}

static int is_word(const struct norm_token *t, const char *const *list,
		   size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t->word, list[i]))
			return 1;
	return 0;
}

/* Words that say how much, how often or how sure, not what: no sign
 * that a question takes up her line ("…, gewoon hier aan de
 * keukentafel?" after a line with "gewoon"), nor content of a claim
 * put in her mouth ("hoe bedoel je, dat zeiden ze allemaal?"). The
 * short ones (altijd, nooit, alles…) are function words already. */
static const char *const filler[] = {
	"gewoon", "eigenlijk", "natuurlijk", "helemaal", "allemaal",
	"misschien", "iedereen", "steeds", "ineens", "eventjes", "zomaar",
	"sowieso", "inderdaad", "trouwens", "ongeveer", "meestal",
};

/* "Hoe bedoelt u, alweer iemand nieuw?": the question clause after the
 * one that asks what is meant names what it is about. 1 when the
 * asking clause points back itself ("hoe bedoelt u dat, van
 * internet?": a guess at what the line meant), when what follows names
 * nothing of five letters or more, or something of the persona's last
 * line; 0 when it names only other words (a line from before, the
 * trainee's own). */
static int about_last_line(const struct match *m, size_t c,
			   const struct variant *last)
{
	static const char *const back[] = {
		"dat", "dit", "het", "daarmee", "mee",
	};
	const struct norm *n = &m->norm;
	const struct match_clause *cl = &m->clause[c];
	int named = 0;

	for (size_t k = cl->tok; k < cl->tok + cl->ntok && k < n->ntok; k++)
		for (size_t i = 0; i < ARRAY_LEN(back); i++)
			if (!strcmp(n->tok[k].word, back[i]))
				return 1;
	/* the asking clause may name the word itself, right before
	 * "betekent" or after "bedoel… met": "Weet jij wat 'veilig'
	 * betekent?" asks about her line only when 'veilig' is in it */
	for (size_t k = cl->tok; k < cl->tok + cl->ntok && k < n->ntok; k++) {
		const struct norm_token *t = NULL;

		/* (a quoted word is a clause of its own: the word before
		 * may lie in the clause before) */
		if (!strncmp(n->tok[k].word, "beteken", 7) && k > 0)
			t = &n->tok[k - 1];
		else if (!strncmp(n->tok[k].word, "bedoel", 6))
			for (size_t j = k + 1; j + 1 < cl->tok + cl->ntok &&
			     j + 1 < n->ntok && !t; j++)
				if (!strcmp(n->tok[j].word, "met"))
					t = &n->tok[j + 1];
		if (!t || t->len < 5 || t->function ||
		    !strncmp(t->word, "woord", 5) ||
		    is_word(t, filler, ARRAY_LEN(filler)))
			continue;
		named = 1;
		for (size_t j = 0; j < last->nmsgs; j++)
			if (line_has(last->msgs[j], t->word))
				return 1;
	}
	if (named)
		return 0;
	if (c + 1 >= m->nclause || m->clause[c + 1].act != MATCH_VRAAG)
		return 1;
	cl = &m->clause[c + 1];
	for (size_t k = cl->tok; k < cl->tok + cl->ntok && k < n->ntok; k++) {
		if (n->tok[k].len < 5)
			continue;
		named = 1;
		for (size_t j = 0; j < last->nmsgs; j++)
			if (line_has(last->msgs[j], n->tok[k].word))
				return 1;
	}
	return !named;
}

/* u, je or jij right before or after token k, in its clause cl ("hoe
 * bedoelt u", "u bedoelt", "je zei"). */
static int you_beside(const struct norm *n, const struct match_clause *cl,
		      size_t k)
{
	static const char *const you[] = { "u", "je", "jij" };
	size_t end = cl->tok + cl->ntok;

	for (size_t i = 0; i < ARRAY_LEN(you); i++)
		if ((k > cl->tok && !strcmp(n->tok[k - 1].word, you[i])) ||
		    (k + 1 < end && k + 1 < n->ntok &&
		     !strcmp(n->tok[k + 1].word, you[i])))
			return 1;
	return 0;
}

/* Clear evidence of a clarifying question ("hoe bedoelt u?"): not the
 * weak kind a pattern-understood question outranks. */
static int strong(long *weak)
{
	*weak = -1;
	return 1;
}

/* Does the trainee ask what the persona's last line means? A question
 * clause with "bedoel…", "beteken…", "hoezo", "hoe dan", "wat dan",
 * "uitleg…" (not about the trainee's own words: "Snap je wat ik
 * bedoel?", "Mag ik het uitleggen?"; nor about other words than the
 * line's: about_last_line), one that
 * asks for more about it (asks_more), or a short question that takes up
 * a word of five letters or more from that line ("Van internet?"). */
static int asks_clarification(const struct match *m,
			      const struct variant *last, long *weak)
{
	const struct norm *n = &m->norm;

	*weak = -1;
	for (size_t c = 0; c < m->nclause; c++) {
		const struct match_clause *cl = &m->clause[c];

		if (cl->act != MATCH_VRAAG)
			continue;
		if (asks_more(n, cl, last))
			return strong(weak);
		for (size_t k = cl->tok; k < cl->tok + cl->ntok &&
		     k < n->ntok; k++) {
			const char *w = n->tok[k].word;
			const char *nx = k + 1 < cl->tok + cl->ntok &&
					 k + 1 < n->ntok ?
					 n->tok[k + 1].word : "";

			/* the trainee's own words ask nothing: "wat ik
			 * bedoel", "mag ik het uitleggen?"; nor what
			 * someone else means: "wat denkt u dat school
			 * bedoelt?", "anders dan ik het bedoel" */
			if (!strncmp(w, "bedoel", 6) ||
			    !strncmp(w, "beteken", 7)) {
				if (!(k > cl->tok &&
				      clause_is_first_person(n, k - 1)) &&
				    (w[1] != 'e' || w[2] != 'd' ||
				     !strcmp(w, "bedoeld") ||
				     you_beside(n, cl, k)) &&
				    about_last_line(m, c, last))
					return strong(weak);
			} else if (!strncmp(w, "uitleg", 6)) {
				if (!first_person(n, cl))
					return strong(weak);
			} else if (!strcmp(w, "hoezo") ||
				   ((!strcmp(w, "hoe") || !strcmp(w, "wat")) &&
				    !strcmp(nx, "dan"))) {
				return strong(weak);
			}
			if (cl->ntok > 6 || n->tok[k].len < 5 ||
			    n->tok[k].function ||
			    is_word(&n->tok[k], filler, ARRAY_LEN(filler)))
				continue;
			for (size_t j = 0; j < last->nmsgs; j++)
				if (*weak < 0 && line_has(last->msgs[j], w) &&
				    !name_in_line(last->msgs[j], w))
					*weak = (long)c;
		}
	}
	return *weak >= 0;
}

/* Does a question clause of m take up a word of five letters or more
 * from line v ("Dat wekker-gevoel, …?")? Words that ask for more
 * (vertellen, voorstellen, precies) do not count. */
static int names_line(const struct match *m, const struct variant *v)
{
	const struct norm *n = &m->norm;

	for (size_t c = 0; c < m->nclause; c++) {
		const struct match_clause *cl = &m->clause[c];

		if (cl->act != MATCH_VRAAG)
			continue;
		for (size_t k = cl->tok; k < cl->tok + cl->ntok &&
		     k < n->ntok; k++) {
			const char *w = n->tok[k].word;

			if (n->tok[k].len < 5 || !strcmp(w, "vertellen") ||
			    !strcmp(w, "voorstellen") || !strcmp(w, "precies"))
				continue;
			for (size_t j = 0; j < v->nmsgs; j++)
				if (line_has(v->msgs[j], w))
					return 1;
		}
	}
	return 0;
}

/* Does the message only ask her to go on: "En toen?", "En daarna?",
 * "Vertel eens.", "Ga maar door."? At most four words, all from the
 * short list below, one of them asking for what came next or for more
 * ("en dan?" too, but not "En nu?": that asks about what is to come).
 * Such a message takes up her last line without naming a word of it. */
static int asks_continuation(const struct match *m)
{
	static const char *const words[] = {
		"en", "toen", "daarna", "verder", "vervolgens", "dan",
		"vertel", "vertelt", "eens", "maar", "ga", "door", "oke", "ok",
		"ja", "nou", "hm", "mm", "hmm",
	};
	const struct norm *n = &m->norm;
	int next = 0, en = 0, dan = 0, ga = 0, door = 0;

	if (n->ntok == 0 || n->ntok > 4)
		return 0;
	for (size_t k = 0; k < n->ntok; k++) {
		const char *w = n->tok[k].word;
		size_t i;

		for (i = 0; i < ARRAY_LEN(words); i++)
			if (!strcmp(w, words[i]))
				break;
		if (i == ARRAY_LEN(words))
			return 0;
		if (!strcmp(w, "toen") || !strcmp(w, "daarna") ||
		    !strcmp(w, "verder") || !strcmp(w, "vervolgens") ||
		    !strncmp(w, "vertel", 6))
			next = 1;
		en |= !strcmp(w, "en");
		dan |= !strcmp(w, "dan");
		ga |= !strcmp(w, "ga");
		door |= !strcmp(w, "door");
	}
	return next || (en && dan) || (ga && door);
}

/* Which line of the persona's last turn the trainee asks about: the
 * line before the last one when the question names it and not the last
 * ("Dat wekker-gevoel, kunt u daar meer over vertellen?" after the
 * wekker line and one more), else the last. NULL: no clarifying
 * question. */
static const struct variant *clarified(const struct match *m,
				       const struct variant *last,
				       const struct variant *prev, long *weak)
{
	if (prev && names_line(m, prev) && !names_line(m, last) &&
	    asks_clarification(m, prev, weak))
		return prev;
	return asks_clarification(m, last, weak) ? last : NULL;
}

/* The question the answering 'als' answers: its triggering intent,
 * found by a pattern (not the model, not a builtin) in a clause that is
 * a question (act vraag). -1 when the answer is not to a question. */
static long answers_question(const struct turn *t, long trigger)
{
	const struct script *s = t->e->s;
	const struct match *m = t->m;

	if (trigger < 0 || (size_t)trigger >= s->nintents || !m ||
	    !m->hit[trigger] || m->hit_how[trigger] != MATCH_BY_PATTERN ||
	    s->intents[trigger].builtin || m->hit_clause[trigger] >= m->nclause)
		return -1;
	if (m->clause[m->hit_clause[trigger]].act != MATCH_VRAAG)
		return -1;
	return trigger;
}

/* tk is one of the n words of list. */
static int word_in(const struct norm_token *tk, const char *const *list,
		   size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == tk->len &&
		    !memcmp(list[i], tk->word, tk->len))
			return 1;
	return 0;
}

/* Words that do not change what a question asks ("hoe gaat het nou
 * eigenlijk?" asks what "hoe gaat het?" asks). */
static const char *const question_fillers[] = {
	"allemaal", "eigenlijk", "gewoon", "nou", "precies", "trouwens",
	"vandaag",
};

/* Function words that do change what a question asks: when ("Hoe was
 * het voor jou, daarna?" is not "Hoe gaat het met je?" again), and
 * which question word ("Wat voor hond is het?" is not "Heb je een
 * hond?" again). */
static const char *const question_time_words[] = {
	"daarna", "later", "sinds", "straks", "toen", "vroeger", "was", "waren",
	"hoe", "hoeveel", "waar", "waarom", "wanneer", "wat", "welke", "wie",
};

/* What question q asked about: the stems of the content words (not
 * function words or fillers, but words of time and question words:
 * question_time_words) of
 * the clause it was asked in, as a set
 * (the order does not matter). "Hoe gaat het met jou?" and
 * "Hoe gaat het met Jayden?" match the same pattern but ask about
 * different people. 0 for a question of one word: "Stapjes?" echoes
 * her word, and "Wat voor stapje zou jij willen?" after it is no
 * repeat. */
static uint32_t question_key(const struct match *m, long q)
{
	const struct norm *n = &m->norm;
	const struct match_clause *c = &m->clause[m->hit_clause[q]];
	uint32_t h = 0;

	if (c->ntok < 2)
		return 0;

	for (size_t i = c->tok; i < c->tok + c->ntok && i < n->ntok; i++) {
		const struct norm_token *tk = &n->tok[i];

		if ((tk->function &&
		     !word_in(tk, question_time_words,
			      ARRAY_LEN(question_time_words))) ||
		    word_in(tk, question_fillers, ARRAY_LEN(question_fillers)))
			continue;
		h += hash_fnv32(HASH_FNV32_START, tk->stem, tk->stem_len);
	}
	return h ? h : 1;
}

/* A repeated question (docs/scenariotaal.md, 'herhaald'): the 'als'
 * that answers this turn answers question q (answers_question), and
 * the persona answered q as a question in one of the REPEAT_WINDOW
 * turns before, matched by the same content words (question_key).
 * Then one 'herhaald' line of 'standaard' comes before the answer.
 * Called before the answer runs; answered is 0 when the answer is not
 * given this turn (a toelichting instead), so q is not remembered as
 * answered. */
static void notice_repeat(struct turn *t, long q, int answered)
{
	struct engine *e = t->e;
	const struct variant *v;
	uint32_t *key;
	uint32_t k;
	int again;

	if (q < 0)
		return;
	key = &e->asked[e->s->nintents + (size_t)q];
	k = question_key(t->m, q);
	again = e->asked[q] && e->beurt - e->asked[q] <= REPEAT_WINDOW &&
		k && *key == k;
	if (!answered)
		return;
	e->asked[q] = e->beurt;
	*key = k;
	if (!again || t->npend >= MAX_PENDING)
		return;
	v = choose(t, standaard_action(e->s, ACT_REPEAT));
	if (!v)
		return;
	mark_said(e, v);
	t->pend[t->npend].text = v->msgs[0];
	t->pend[t->npend].span.start = 0;
	t->pend[t->npend].span.len = 0;
	t->pend[t->npend].node = -1;
	t->npend++;
}

/* Say one line instead of an answer (a toelichting or a 'verduidelijk'
 * line): counts as understood, moves nothing. */
static void say_instead(struct turn *t, const char *text)
{
	struct pending *p = &t->pend[t->npend++];

	p->text = text;
	p->span.start = 0;
	p->span.len = 0;
	p->node = -1;
	t->e->gemist = 0;
}

int engine_turn_matched(struct engine *e, const struct match *m,
			const char *text, struct engine_out *out)
{
	return turn_matched(e, m, text, text ? strlen(text) : 0, out);
}

/* A meter nothing in the script moved this turn moves one step the way
 * trainers expect for the intents found (model.h: model_meter_hint),
 * within its bounds and its 'plafond'; not one the script held with
 * '+0'. */
static void meter_hints(struct turn *t, const uint32_t *vars,
			const int *before, size_t n)
{
	const struct script *s = t->e->s;

	for (size_t k = 0; k < n; k++) {
		uint32_t v = vars[k];
		int *var = &t->e->vars[v];
		int d;

		if (!t->m || *var != before[k] ||
		    (v < 64 && (t->held >> v) & 1))
			continue;
		d = model_meter_hint(s->model, t->m, v);
		if (!d)
			continue;
		*var += d;
		if (*var < s->vars[v].min)
			*var = s->vars[v].min;
		if (*var > s->vars[v].max)
			*var = s->vars[v].max;
		cap_var(t, v, before[k]);
	}
}

static int any_model_hit(const struct match *m)
{
	for (size_t i = 0; m && m->script && i < m->script->nintents; i++)
		if (m->hit[i] && m->hit_how[i] == MATCH_BY_MODEL)
			return 1;
	return 0;
}

/* --- words the persona said first ('overgenomen: nee') --------------- */

/* Mark in found[] each of the n span tokens that line (a line id, or
 * nlines for the eigen-woorden) has: the same stem (by its hash, ah[k]),
 * or, for a word the lexicon knows other than by a compound or not at
 * all (acls[k], else 0), a word of the same class known the same way
 * (script.h, lw_*). */
static void span_said(const struct script *s, const uint32_t *ah,
		      const uint32_t *acls, size_t n, uint32_t line,
		      uint8_t *found)
{
	uint32_t b = s->lw_off[line], e = s->lw_off[line + 1];

	for (size_t k = 0; k < n; k++)
		for (uint32_t q = b; q < e && !found[k]; q++)
			found[k] = s->lw_stem[q] == ah[k] ||
				   (acls[k] && s->lw_cls[q] == acls[k]);
}

/* What span_said compares of token k of m: the hash of its stem, and
 * its class when the lexicon knows it other than by a compound (else
 * 0). */
static void token_key(const struct match *m, size_t k, uint32_t *ah,
		      uint32_t *acls)
{
	const struct norm_token *t = &m->norm.tok[k];
	enum lexicon_how how = (enum lexicon_how)m->how[k];

	*ah = hash_fnv32(HASH_FNV32_START, t->stem, t->stem_len);
	*acls = m->ids[k] && how != LEXICON_NONE &&
		how != LEXICON_COMPOUND ? m->ids[k] : 0;
}

/* span_said over every line the persona said in this rehearsal and
 * every toelichting she gave. */
static void lines_said(const struct engine *e, const uint32_t *ah,
		       const uint32_t *acls, size_t n, uint8_t *found)
{
	const struct script *s = e->s;

	for (size_t v = 0; v < s->nvariants; v++) {
		const struct variant *var = s->variant_tab[v];

		/* its lines, then its toelichting */
		for (size_t j = 0; j <= var->nmsgs; j++) {
			const char *line = j < var->nmsgs ? var->msgs[j] :
					   var->elab;
			uint32_t id = j < var->nmsgs ? var->line[j] :
				      var->elab_line;

			if (line && line_said(e, id))
				span_said(s, ah, acls, n, id, found);
		}
	}
}

/* Did the persona say, in a line of this rehearsal, every content word
 * that intent i matched in the message (or know it from before the
 * rehearsal: the script's eigen-woorden)? */
static int echoes_persona(const struct engine *e, const struct match *m,
			  uint32_t i)
{
	const struct script *s = e->s;
	struct match_span sp = m->span[i];
	size_t n = 0, k;
	uint32_t ah[16], acls[16];
	uint8_t found[16] = { 0 };

	if (!s->lw_off)
		return 0;
	for (k = 0; sp.len && k < m->norm.ntok; k++) {
		const struct norm_token *t = &m->norm.tok[k];

		if (t->src_start < sp.start ||
		    t->src_start + t->src_len > sp.start + sp.len ||
		    t->function)
			continue;
		if (n == ARRAY_LEN(ah))
			return 0;   /* a long match is no word given back */
		token_key(m, k, &ah[n], &acls[n]);
		n++;
	}
	if (!n)
		return 0;
	if (s->own_words)
		span_said(s, ah, acls, n, (uint32_t)s->nlines, found);
	lines_said(e, ah, acls, n, found);
	for (k = 0; k < n && found[k]; k++)
		;
	return k == n;
}

/* A quotation mark at p (before end): its length in bytes, or 0. A '
 * inside or at the end of a word ("zo'n", "'s ochtends", "kids'") is
 * an apostrophe, not a quote. */
static size_t quote_at(const char *text, size_t p, size_t end, int open)
{
	const unsigned char *u = (const unsigned char *)text;

	if (u[p] == '"')
		return 1;
	/* ‘ ’ “ ” „ */
	if (p + 2 < end && u[p] == 0xE2 && u[p + 1] == 0x80 &&
	    (u[p + 2] == 0x98 || u[p + 2] == 0x99 || u[p + 2] == 0x9C ||
	     u[p + 2] == 0x9D || u[p + 2] == 0x9E))
		return 3;
	if (u[p] != '\'')
		return 0;
	if (open)
		return (p == 0 || !isalnum(u[p - 1])) && p + 1 < end &&
		       isalpha(u[p + 1]) &&
		       !(p + 2 < end && strchr("stn", u[p + 1]) &&
			 (u[p + 2] == ' ' || u[p + 2] == '.')) ? 1 : 0;
	return p > 0 && u[p - 1] != ' ' &&
	       (p + 1 >= end || !isalnum(u[p + 1])) ? 1 : 0;
}

/* Is the word at byte p of text written as a name: a capital letter
 * inside a sentence (not at its start, nor after a quote or a line
 * break)? A message typed in lower case has no names. */
static int is_name(const char *text, size_t p)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t b = p;

	if (!isupper(u[p]))
		return 0;
	while (b > 0 && u[b - 1] == ' ')
		b--;
	return b > 0 && !strchr(".!?:;\n\"'(", u[b - 1]);
}


/* Verbs with which the trainee lays words at the persona's door: before
 * a quote ("je zei: '…'", "u noemde '…'"), and before a dat-clause
 * ("je vertelde dat…"; "u noemt dat" names no words of hers). */
static const char *const saying[] = {
	"zei", "zegt", "zeg", "zeggen", "noemde", "noemt", "zeide",
	/* "ik hoorde u net 'fair enough' zeggen" */
	"hoorde", "hoor",
};
static const char *const telling[] = {
	"zei", "zegt", "zeg", "zeggen", "vertelde", "vertelt", "vertellen",
	"noemde", "zeide", "zeiden",
};

/* The bytes from p to the end of its sentence (a ?, . or !, or the end
 * of the text), as [*qs, *qe). */
static void rest_of_sentence(const char *text, size_t len, size_t p,
			     size_t *qs, size_t *qe)
{
	*qs = p;
	while (p < len && !strchr("?.!", text[p]))
		p++;
	*qe = p;
}

/* Without quotation marks, the words after "je zegt:" / "u zei net:"
 * (a verb of telling with u, je or jij beside it, not the trainee's
 * own "ik zei:", and at most one word between it and the colon): to
 * the end of that sentence, as [*qs, *qe) ("Je zegt: dus ik heb nog
 * wat te zeggen."); left alone when there is none. */
static void said_colon(const struct match *m, const char *text,
		       size_t len, size_t *qs, size_t *qe, int *summary)
{
	const struct norm *n = &m->norm;

	for (size_t k = 0; k < n->ntok; k++) {
		const struct match_clause *cl = &m->clause[m->tok_clause[k]];
		size_t last = k, p;

		if (!is_word(&n->tok[k], telling, ARRAY_LEN(telling)) ||
		    !you_beside(n, cl, k) ||
		    (k > cl->tok && clause_is_first_person(n, k - 1)) ||
		    cl->conditional)
			continue;
		/* "u zei net:", "je zegt dus:", "zegt u:" */
		if (k + 1 < n->ntok && m->tok_clause[k + 1] == m->tok_clause[k])
			last = k + 1;
		for (size_t j = k; j <= last; j++) {
			p = n->tok[j].src_start + n->tok[j].src_len;
			while (p < len && text[p] == ' ')
				p++;
			if (p >= len || text[p] != ':')
				continue;
			rest_of_sentence(text, len, p + 1, qs, qe);
			return;
		}
	}
	/* "Even checken of ik het snap: …", "Samengevat: …" */
	for (size_t c = 0; c < m->nclause; c++) {
		const struct match_clause *cl = &m->clause[c];
		size_t p = cl->start + cl->len;
		int frame = 0;

		for (size_t k = cl->tok; k < cl->tok + cl->ntok; k++)
			frame |= !strcmp(n->tok[k].word, "checken") ||
				 !strncmp(n->tok[k].word, "samengevat", 10) ||
				 !strncmp(n->tok[k].word, "samenvatt", 9);
		while (p < len && text[p] == ' ')
			p++;
		if (!frame || p >= len || text[p] != ':')
			continue;
		*summary = 1;
		rest_of_sentence(text, len, p + 1, qs, qe);
		return;
	}
}

/* A word that names a feeling or a state of mind (by its start: bang,
 * schaamt, verdrietig, boosheid). */
static int feeling_word(const struct norm_token *t)
{
	static const char *const stems[] = {
		"bang", "boos", "boze", "kwaad", "woede", "schaam", "schaamt",
		"verdriet", "zwaar", "moeilijk", "eng", "lastig", "vervelend",
		"pijn", "heftig", "rot", "spannend", "akelig", "angst",
		"zorgen", "bezorgd", "machteloos", "frustr", "teleurgesteld",
		"onzeker", "schuldig", "gespannen", "moe", "alleen", "eenzaam",
		"opgelucht", "blij", "trots", "schrik", "geschrokken",
		"overvallen", "verward", "wantrouw", "boosheid", "stress",
	};

	for (size_t i = 0; i < ARRAY_LEN(stems); i++)
		if (!strncmp(t->word, stems[i], strlen(stems[i])))
			return 1;
	return 0;
}

/* Without quotation marks, a summary: the reported clauses after "als
 * ik je goed begrijp" (clause_summary_frame) in its sentence ("Als ik
 * het goed begrijp bent u vooral boos op ons?"), as [*qs, *qe); left
 * alone when there is none. */
static void said_summary(const struct match *m, size_t *qs, size_t *qe)
{
	for (size_t c = 0; c + 1 < m->nclause; c++) {
		const struct match_clause *fr = &m->clause[c];
		size_t e = c + 1;
		int seen = 0;

		/* "als ik het goed zie" is what the trainee saw, not
		 * what she said */
		for (size_t k = fr->tok; k < fr->tok + fr->ntok; k++)
			seen |= !strcmp(m->norm.tok[k].word, "zie");
		if (seen || !clause_summary_frame(&m->norm, fr) ||
		    !m->clause[e].reported)
			continue;
		while (e + 1 < m->nclause && m->clause[e + 1].reported)
			e++;
		*qs = m->clause[c + 1].start;
		*qe = m->clause[e].start + m->clause[e].len;
		return;
	}
}

/* Without quotation marks, what the trainee says the persona said:
 * the dat-clause after "je zegt / u zei / je vertelde" ("Je zegt dat u
 * het verkeerde voorbeeld heeft gehad"), with the reported clauses
 * that go on from it, as the bytes [*qs, *qe); left alone when there
 * is none. */
static void said_that(const struct match *m, const char *text, size_t len,
		      size_t *qs, size_t *qe, int *summary)
{
	const struct norm *n = &m->norm;

	for (size_t c = 1; c < m->nclause; c++) {
		const struct match_clause *cl = &m->clause[c];
		const struct match_clause *pv = &m->clause[c - 1];
		size_t e = c;
		int told = 0, brk = 0;

		/* "pas als u zegt dat het mag" reports nothing yet */
		if (!cl->ntok || strcmp(n->tok[cl->tok].word, "dat") != 0 ||
		    pv->conditional)
			continue;
		/* "je zei | dat…", not "je zei het. | Dat was goed." */
		for (size_t b = pv->start + pv->len; b < cl->start; b++)
			brk |= text[b] && strchr(".!?;:\n", text[b]);
		if (brk)
			continue;
		/* "je vertelde dat…", not "ik vertelde u dat…" */
		for (size_t k = pv->tok; k < pv->tok + pv->ntok && !told; k++)
			told = is_word(&n->tok[k], telling,
				       ARRAY_LEN(telling)) &&
			       you_beside(n, pv, k) &&
			       !(k > pv->tok &&
				 clause_is_first_person(n, k - 1));
		if (!told)
			continue;
		/* and what goes on from it ("…, en dat je bang was") */
		while (e + 1 < m->nclause && m->clause[e + 1].reported)
			e++;
		*qs = cl->start;
		*qe = m->clause[e].start + m->clause[e].len;
		return;
	}
	said_colon(m, text, len, qs, qe, summary);
	if (*qe <= *qs) {
		said_summary(m, qs, qe);
		*summary = *qe > *qs;
	}
}

/* Without quotation marks, the words a "hoe bedoel je," or "wat bedoelt
 * u:" asks about: from the comma or colon after the pronoun to the end of
 * the sentence ("Hoe bedoel je, het weekend is kut?"), as [*qs, *qe);
 * left alone when there is none. */
static void asked_meaning(const struct match *m, const char *text,
			  size_t len, size_t *qs, size_t *qe)
{
	const struct norm *n = &m->norm;

	static const char *const how[] = { "hoe", "wat" };
	static const char *const you[] = { "je", "u", "jij" };

	for (size_t k = 1; k + 1 < n->ntok; k++) {
		const struct norm_token *t = &n->tok[k], *pr = &n->tok[k + 1];
		size_t p;

		if (strncmp(t->word, "bedoel", 6) != 0 ||
		    !is_word(&n->tok[k - 1], how, ARRAY_LEN(how)) ||
		    !is_word(pr, you, ARRAY_LEN(you)))
			continue;
		p = pr->src_start + pr->src_len;
		while (p < len && text[p] == ' ')
			p++;
		if (p >= len || (text[p] != ',' && text[p] != ':'))
			continue;
		rest_of_sentence(text, len, p + 1, qs, qe);
		return;
	}
}

/* Does the message quote the persona with words she never said ("Hoe
 * bedoelt u, 'weer hetzelfde liedje'?", "U zei net: 'ze kijkt me anders
 * aan'")? Between quotation marks, two content words or more (or one
 * in a quote of four words or more), none of
 * them in a line she said in this rehearsal, a toelichting she gave,
 * the eigen-woorden or the scene's introduction (where what she said
 * on the phone stands; a quote in other words than hers, "u zei net
 * 'het ging één keer mis bij het ophalen'", shares one); and outside
 * them words that put the quote in her mouth: bedoel…, or a verb of
 * saying (zei, noemde…), with u, je or jij right before or
 * after it ("hoe bedoelt u", "je zei net"; not "ik bedoel", nor "hoe
 * jij het zelf zou zeggen"). Without quotation marks: said_that, then
 * asked_meaning. */
static int quotes_unsaid(const struct engine *e, const struct match *m,
			 const char *text, size_t len)
{
	const struct script *s = e->s;
	size_t qs = 0, qe = 0, n = 0, nfound = 0, nwords = 0;
	int says = 0, asks = 0, marked, summary = 0;
	uint32_t ah[16], acls[16];
	uint8_t found[16] = { 0 }, name[16] = { 0 };

	if (!s->lw_off || !m || !text)
		return 0;
	/* the first quoted stretch: [qs, qe) */
	for (size_t p = 0, l; p < len; p++)
		if ((l = quote_at(text, p, len, 1)) != 0) {
			qs = p + l;
			for (size_t r = qs; r < len; r++)
				if ((l = quote_at(text, r, len, 0)) != 0) {
					qe = r;
					break;
				}
			break;
		}
	marked = qe > qs;
	if (qe <= qs) {
		said_that(m, text, len, &qs, &qe, &summary);
		/* said_that found the verb ("je vertelde dat…") */
		says = qe > qs;
	}
	if (qe <= qs)
		asked_meaning(m, text, len, &qs, &qe);
	if (qe <= qs)
		return 0;
	for (size_t k = 0; k < m->norm.ntok; k++) {
		const struct norm_token *t = &m->norm.tok[k];

		if (t->src_start < qs || t->src_start >= qe) {
			/* "hoe zeg je dat (in het Nederlands)?" asks for
			 * words, it lays none at her door */
			if ((!strncmp(t->word, "bedoel", 6) ||
			     is_word(t, saying, ARRAY_LEN(saying))) &&
			    you_beside(&m->norm,
				       &m->clause[m->tok_clause[k]], k) &&
			    !(k > 0 && !strcmp(m->norm.tok[k - 1].word, "hoe") &&
			      is_word(t, saying, ARRAY_LEN(saying)))) {
				says = 1;
				asks |= !strncmp(t->word, "bedoel", 6);
			}
			continue;
		}
		nwords++;
		/* a verb of saying in the quote ("'alles wat ik zeg…'")
		 * says nothing of what she said: not a content word */
		if (t->function || is_word(t, saying, ARRAY_LEN(saying)) ||
		    is_word(t, telling, ARRAY_LEN(telling)) ||
		    is_word(t, filler, ARRAY_LEN(filler)))
			continue;
		if (n == ARRAY_LEN(ah))
			return 0;   /* a long quote: no judgement */
		/* a summary that names a feeling ("als ik je goed begrijp
		 * schaam je je") reads what is under her words, as a
		 * reflection does: hers to answer, not to deny */
		if (summary && feeling_word(t))
			return 0;
		token_key(m, k, &ah[n], &acls[n]);
		name[n] = !marked && is_name(text, t->src_start);
		n++;
	}
	/* two content words, or one in a sentence of four words or more
	 * ("'het is niet leuk om hier te zijn'"), or one she is asked the
	 * meaning of between quotation marks ("Hoe bedoel je,
	 * 'binnenstebuiten'?": a word of hers, or none) */
	if (!says || n < 1 || (n < 2 && nwords < 4 && !(marked && asks)))
		return 0;
	span_said(s, ah, acls, n, (uint32_t)s->nlines, found);
	span_said(s, ah, acls, n, (uint32_t)s->nlines + 1, found);
	lines_said(e, ah, acls, n, found);
	/* a name she knows ("U vertelde net dat Daan vaak alleen thuis
	 * is") does not make a claim about him hers: in a dat-clause, at
	 * least one other word has to be */
	for (size_t k = 0; k < n; k++)
		nfound += found[k] && !name[k];
	return nfound == 0;
}

/* The hits of m without the intents marked 'overgenomen: nee' whose
 * words the persona said first ("…en toen las ik over
 * uithuisplaatsingen." "Uithuisplaatsing, dat woord vond u op
 * internet": her word given back, no jargon). NULL when none is void:
 * then m stands as it is. */
static uint8_t *echo_void(const struct engine *e, const struct match *m)
{
	const struct script *s = e->s;
	uint8_t *hit = NULL;

	for (uint32_t i = 0; m->script == s && i < s->nintents; i++) {
		if (!m->hit[i] || s->intents[i].echo_ok)
			continue;
		if (!echoes_persona(e, m, i))
			continue;
		if (!hit) {
			hit = xmalloc(s->nintents);
			memcpy(hit, m->hit, s->nintents);
		}
		hit[i] = 0;
	}
	return hit;
}

void engine_heard(const struct engine *e, const struct match *m,
		  uint8_t *hit)
{
	uint8_t *v = echo_void(e, m);

	memcpy(hit, v ? v : m->hit, e->s->nintents);
	free(v);
}

static int turn_decided(struct engine *e, const struct match *m,
			const char *text, size_t len,
			struct engine_out *out);

static int turn_matched(struct engine *e, const struct match *m,
			const char *text, size_t len, struct engine_out *out)
{
	uint8_t *hit = m ? echo_void(e, m) : NULL;
	struct match own;
	int rc;

	if (!hit)
		return turn_decided(e, m, text, len, out);
	own = *m;
	own.hit = hit;
	rc = turn_decided(e, &own, text, len, out);
	free(hit);
	return rc;
}

/* What tr does counts (meters, memory, rubric) from its trigger's
 * clause, but it says nothing and moves no phase; blocked: it may not
 * credit (credit_blocked). t stays silent. */
static void run_silent(struct turn *t, const struct transition *tr,
		       long trigger, int blocked)
{
	t->clause = trigger_clause(t, trigger);
	t->mode = RUN_SILENT;
	t->no_credit = blocked;
	run_actions(t, &tr->acts, trigger, -1);
	t->no_credit = 0;
}

static int turn_decided(struct engine *e, const struct match *m,
			const char *text, size_t len, struct engine_out *out)
{
	const struct script *s = e->s;
	const struct transition *tr = NULL;
	const struct variant *last, *prev, *asked, *vague = NULL;
	const struct variant *unsaid = NULL;
	struct turn t;
	long trigger = -1, weak = -1;
	size_t spoke, nhint;
	int explain, clarify, tr_blocked = 0, go_on = 0;
	const uint32_t *hint_vars = NULL;
	int hint_before[MODEL_MAX_HINT_VARS];

	if (e->ended) {
		out_reset(out, e);
		return -1;
	}
	turn_init(&t, e, m, text, out);
	t.len = len;
	e->beurt++;
	nhint = model_hint_vars(s->model, &hint_vars);
	for (size_t k = 0; k < nhint; k++)
		hint_before[k] = e->vars[hint_vars[k]];
	last = e->last_line && e->last_line <= s->nvariants ?
	       s->variant_tab[e->last_line - 1] : NULL;
	prev = e->prev_line && e->prev_line <= s->nvariants ?
	       s->variant_tab[e->prev_line - 1] : NULL;
	/* rules fire on what the patterns found (a rule has no "nothing
	 * else answered" to wait for) */
	t.strict = 1;
	rules(&t, TRIG_ALS);
	t.strict = 0;
	spoke = t.npend;
	asked = !spoke && !t.interrupt && last ?
		clarified(m, last, prev, &weak) : NULL;
	/* words put in her mouth that she never said: she says so, and
	 * does not explain them ('niet-gezegd') */
	if (!spoke && !t.interrupt && quotes_unsaid(e, m, text, len))
		unsaid = choose(&t, standaard_action(s, ACT_UNSAID));
	if (unsaid)
		asked = NULL;
	/* "En toen?" after a line with a toelichting not yet given: she
	 * goes on with it (unless the patterns heard something to answer,
	 * below) */
	if (!asked && !unsaid && !spoke && !t.interrupt && last &&
	    last->elab && !line_said(e, last->elab_line) &&
	    asks_continuation(m)) {
		asked = last;
		go_on = 1;
	}
	clarify = asked != NULL;
	explain = clarify && asked->elab && !line_said(e, asked->elab_line);
	/* the answer: first to what the patterns found, then to what the
	 * model thinks it heard (a script's order of transitions was
	 * written for its patterns; on the training split's
	 * cross-validation this kept meters and rubric as good and every
	 * test dialogue on its path) */
	t.min_conf = ANSWER_MODEL_CONF;
	for (t.strict = any_model_hit(m); !t.interrupt && !tr && t.strict >= 0;
	     t.strict--) {
		tr = first_true(&t, &s->nodes[e->node], TRIG_ALS, &trigger);
		if (!tr)
			tr = first_true(&t, s->standaard, TRIG_ALS, &trigger);
		/* a clarifying question outranks what only the model
		 * thinks it heard, unless it is sure ("Het meeste, wat
		 * moet ik me daarbij voorstellen?" is no "hoe gaat het?"
		 * at 0.63; "Is het in het weekend onrustig thuis?" after
		 * it is a question about home at 0.97) */
		if (tr && clarify && !t.strict && any_model_hit(m) &&
		    (trigger < 0 || m->conf[trigger] < CLARIFY_MODEL_CONF))
			tr = NULL;
		tr_blocked = tr && credit_blocked(&t, tr->cond);
	}
	t.strict = 0;
	t.min_conf = 0;
	/* asked to go on, she tells what a pattern-understood 'als'
	 * answers ("En toen?" where the script has a question about what
	 * happened next) rather than her toelichting */
	if (go_on && tr && trigger >= 0 &&
	    m->hit_how[trigger] == MATCH_BY_PATTERN) {
		asked = NULL;
		clarify = explain = 0;
	}
	/* a short question that only shares a word with her line yields
	 * to a question the patterns understood in another clause: "Hoe
	 * gaat het nu met je, sinds zaterdag?" asks how he is, not what
	 * she meant by zaterdag; and in its own clause, when that has a
	 * sentence of its own around the word: "Je hebt onze brief gehad
	 * he?" asks about the letter, "Van internet?" asks what she meant */
	if (clarify && weak >= 0 && tr && trigger >= 0 &&
	    m->hit_how[trigger] == MATCH_BY_PATTERN &&
	    (trigger_clause(&t, trigger) != weak ||
	     m->clause[weak].ntok >= WEAK_ASK_WORDS)) {
		asked = NULL;
		clarify = explain = 0;
	}
	/* a courtesy ('bijzaak: ja', a thank-you) does not answer a
	 * question it did not hear: "Mm. Graag gedaan." to "Dank u. Wat
	 * heeft u toen gedaan?" drops the question; the message is not
	 * understood, and the courtesy counts silently */
	while (tr && trigger >= 0 &&
	       s->intents[trigger].minor == MINOR_ASIDE &&
	       question_unheard(&t, trigger_clause(&t, trigger))) {
		const struct transition *dropped = tr;
		const struct node *in = &s->nodes[e->node];

		run_silent(&t, tr, trigger, tr_blocked);
		if (t.nsilenced < TURN_MAX_SILENCED)
			t.silenced[t.nsilenced++] = tr;
		t.mode = RUN_FULL;
		t.clause = -1;
		/* what else the patterns heard may still answer: "Dank je
		 * wel Noor. Ik ga nu weer. Was het goed zo?" says goodbye
		 * (the phase's next 'als', then 'standaard''s) */
		t.strict = 1;
		if (dropped >= in->trans && dropped < in->trans + in->ntrans)
			tr = next_true(&t, in, TRIG_ALS, dropped, &trigger);
		else
			tr = NULL;
		if (!tr)
			tr = next_true(&t, s->standaard, TRIG_ALS,
				       dropped, &trigger);
		t.strict = 0;
		tr_blocked = tr && credit_blocked(&t, tr->cond);
	}
	/* nor does it answer a question another 'als' answers: "Speel
	 * je… sorry, stomme vraag. Sta je in het veld of op doel?" gets
	 * the answer about the goal; the courtesy counts beside it (its
	 * meters, rubric and 'erkenning') */
	if (tr && trigger >= 0 && s->intents[trigger].minor > 0 && !clarify) {
		long qtrigger = -1;
		const struct transition *q =
			answers_later_question(&t, tr,
					       trigger_clause(&t, trigger),
					       &qtrigger);

		if (q) {
			tr = q;
			trigger = qtrigger;
			tr_blocked = credit_blocked(&t, tr->cond);
		}
	}
	/* asked what a line without (a fresh) toelichting means, and
	 * nothing else to answer: 'verduidelijk', not a non sequitur */
	if (clarify && !explain && !tr)
		vague = choose(&t, standaard_action(s, ACT_VAGUE));
	if (tr && !t.interrupt && !unsaid)
		notice_repeat(&t, answers_question(&t, trigger), !explain);
	if (unsaid) {
		/* what the message also did still counts, but moves no
		 * phase: as with a toelichting; and it wins no trust
		 * (words put in her mouth do not warm her up, whatever
		 * else the message did) */
		int tv = s->meter[METER_TRUST];

		say_instead(&t, unsaid->msgs[0]);
		mark_said(e, unsaid);
		e->prev_line = 0;
		e->last_line = unsaid->index + 1;
		if (tr)
			run_silent(&t, tr, trigger, tr_blocked);
		if (tv >= 0 && (size_t)tv < t.nstart) {
			if (e->vars[tv] > t.start[tv])
				e->vars[tv] = t.start[tv];
			if (tv < 64)
				t.held |= UINT64_C(1) << tv;
		}
	} else if (explain) {
		/* the persona explains what it just said; what the
		 * message also did still counts, but moves nothing */
		say_instead(&t, asked->elab);
		line_mark(e, asked->elab_line);
		e->prev_line = 0;
		if (tr)
			run_silent(&t, tr, trigger, tr_blocked);
		beside(&t, tr, trigger);
	} else if (vague) {
		say_instead(&t, vague->msgs[0]);
		mark_said(e, vague);
		e->prev_line = 0;
		e->last_line = vague->index + 1;
	} else if (tr) {
		e->gemist = 0;
		out->trans = tr;
		t.clause = trigger_clause(&t, trigger);
		t.no_credit = tr_blocked;
		run_actions(&t, &tr->acts, trigger, -1);
		t.no_credit = 0;
		beside(&t, tr, trigger);
	} else if (!spoke && !t.interrupt) {
		e->gemist++;
		out->missed = 1;
		fallback(&t);
	}
	if (t.go >= 0) {
		uint32_t go = (uint32_t)t.go;

		t.go = -1;
		enter(&t, go);
	}
	if (!e->ended) {
		meter_hints(&t, hint_vars, hint_before, nhint);
		after(&t);
	}
	turn_finish(&t);
	return 0;
}

uint64_t engine_state_hash(const struct engine *e)
{
	uint64_t h;
	const struct script *s = e->s;
	uint32_t head[4];

	head[0] = e->node;
	head[1] = e->gemist > 8 ? 8 : e->gemist;
	head[2] = (uint32_t)e->ended;
	head[3] = 0;
	h = hash_fnv64(HASH_FNV64_START, head, sizeof(head));
	h = hash_fnv64(h, e->vars, s->nvars * sizeof(int));
	return hash_fnv64(h, e->fired, s->nrules);
}

/* Format: "v4 <digest> <node> <beurt> <gemist> <counter> <ended> <rng>
 * vars… | last_used… | fired… | last_line asked… | said… | keys… |
 * prev_line" — all decimal; said lists the line ids said so far, keys
 * the question key per intent, prev_line the line said before the last
 * one in the same turn. A v3 state restores with no prev_line. A v1
 * state (without the
 * last two parts) still restores, with nothing asked and no last line; a
 * v1 or v2 state takes the lines said from last_used (a toelichting
 * given before is then not known). */
void engine_save(const struct engine *e, struct sbuf *out)
{
	const struct script *s = e->s;

	sbuf_addf(out, "v4 %016" PRIx64 " %u %u %u %u %d %" PRIu64,
		  s->digest, e->node, e->beurt, e->gemist, e->counter,
		  e->ended, e->rng);
	for (size_t i = 0; i < s->nvars; i++) {
		sbuf_addc(out, ' ');
		sbuf_addi(out, e->vars[i]);
	}
	sbuf_adds(out, " |");
	for (size_t i = 0; i < s->nvariants; i++) {
		sbuf_addc(out, ' ');
		sbuf_addu(out, e->last_used[i]);
	}
	sbuf_adds(out, " |");
	for (size_t i = 0; i < s->nrules; i++) {
		sbuf_addc(out, ' ');
		sbuf_addu(out, e->fired[i]);
	}
	sbuf_adds(out, " | ");
	sbuf_addu(out, e->last_line);
	for (size_t i = 0; i < s->nintents; i++) {
		sbuf_addc(out, ' ');
		sbuf_addu(out, e->asked[i]);
	}
	sbuf_adds(out, " |");
	for (size_t i = 0; i < s->nlines; i++) {
		if (!line_said(e, (uint32_t)i))
			continue;
		sbuf_addc(out, ' ');
		sbuf_addu(out, i);
	}
	sbuf_adds(out, " |");
	for (size_t i = 0; i < s->nintents; i++) {
		sbuf_addc(out, ' ');
		sbuf_addu(out, e->asked[s->nintents + i]);
	}
	sbuf_adds(out, " | ");
	sbuf_addu(out, e->prev_line);
}

static int next_num(const char **p, unsigned long long *v)
{
	char *end;

	while (**p == ' ')
		(*p)++;
	if (**p < '0' || **p > '9') {
		if (**p != '-')
			return -1;
	}
	*v = strtoull(*p, &end, 10);
	if (end == *p)
		return -1;
	*p = end;
	return 0;
}

static int expect_bar(const char **p)
{
	while (**p == ' ')
		(*p)++;
	if (**p != '|')
		return -1;
	(*p)++;
	return 0;
}

int engine_restore(struct engine *e, const char *state, struct err *err)
{
	const struct script *s = e->s;
	struct engine *tmp = engine_clone(e);
	const char *p = state;
	unsigned long long v[7];
	char *end;
	uint64_t digest;
	int rc = -1, v2, v3, v4;

	if (strncmp(p, "v1 ", 3) != 0 && strncmp(p, "v2 ", 3) != 0 &&
	    strncmp(p, "v3 ", 3) != 0 && strncmp(p, "v4 ", 3) != 0)
		goto bad;
	v4 = p[1] == '4';
	v3 = p[1] == '3' || v4;
	v2 = p[1] == '2' || v3;
	p += 3;
	digest = strtoull(p, &end, 16);
	if (end == p)
		goto bad;
	p = end;
	if (digest != s->digest) {
		err_set(err, "de opgeslagen sessie hoort bij een andere versie "
			"van scenario '%s'", s->id ? s->id : s->path);
		goto out;
	}
	for (size_t i = 1; i < 7; i++)
		if (next_num(&p, &v[i]) < 0)
			goto bad;
	if (v[1] >= s->nnodes || v[5] > 1)
		goto bad;
	tmp->node = (uint32_t)v[1];
	tmp->beurt = (uint32_t)v[2];
	tmp->gemist = (uint32_t)v[3];
	tmp->counter = (uint32_t)v[4];
	tmp->ended = (int)v[5];
	tmp->rng = v[6];
	for (size_t i = 0; i < s->nvars; i++) {
		long x = strtol(p, &end, 10);

		if (end == p || x < s->vars[i].min || x > s->vars[i].max)
			goto bad;
		tmp->vars[i] = (int)x;
		p = end;
	}
	if (expect_bar(&p) < 0)
		goto bad;
	for (size_t i = 0; i < s->nvariants; i++) {
		unsigned long long x;

		if (next_num(&p, &x) < 0 || x > UINT32_MAX)
			goto bad;
		tmp->last_used[i] = (uint32_t)x;
	}
	if (expect_bar(&p) < 0)
		goto bad;
	for (size_t i = 0; i < s->nrules; i++) {
		unsigned long long x;

		if (next_num(&p, &x) < 0 || x > 1)
			goto bad;
		tmp->fired[i] = (uint8_t)x;
	}
	tmp->last_line = 0;
	memset(tmp->asked, 0, 2 * s->nintents * sizeof(uint32_t));
	if (v2) {
		unsigned long long x;

		if (expect_bar(&p) < 0 || next_num(&p, &x) < 0 ||
		    x > s->nvariants)
			goto bad;
		tmp->last_line = (uint32_t)x;
		for (size_t i = 0; i < s->nintents; i++) {
			if (next_num(&p, &x) < 0 || x > UINT32_MAX)
				goto bad;
			tmp->asked[i] = (uint32_t)x;
		}
	}
	memset(tmp->said, 0, (s->nlines + 7) / 8);
	if (v3) {
		unsigned long long x;

		if (expect_bar(&p) < 0)
			goto bad;
		while (next_num(&p, &x) == 0) {
			if (x >= s->nlines)
				goto bad;
			line_mark(tmp, (uint32_t)x);
		}
		if (expect_bar(&p) < 0)
			goto bad;
		for (size_t i = 0; i < s->nintents; i++) {
			if (next_num(&p, &x) < 0 || x > UINT32_MAX)
				goto bad;
			tmp->asked[s->nintents + i] = (uint32_t)x;
		}
		tmp->prev_line = 0;
		if (v4 && (expect_bar(&p) < 0 || next_num(&p, &x) < 0 ||
			   x > s->nvariants))
			goto bad;
		if (v4)
			tmp->prev_line = (uint32_t)x;
	} else {
		for (size_t i = 0; i < s->nvariants; i++)
			if (tmp->last_used[i] && s->variant_tab[i])
				for (size_t j = 0;
				     j < s->variant_tab[i]->nmsgs; j++)
					line_mark(tmp,
						  s->variant_tab[i]->line[j]);
	}
	while (*p == ' ')
		p++;
	if (*p)
		goto bad;
	memcpy(e->vars, tmp->vars, s->nvars * sizeof(int));
	memcpy(e->last_used, tmp->last_used, s->nvariants * sizeof(uint32_t));
	memcpy(e->fired, tmp->fired, s->nrules);
	memcpy(e->asked, tmp->asked, 2 * s->nintents * sizeof(uint32_t));
	memcpy(e->said, tmp->said, (s->nlines + 7) / 8);
	e->last_line = tmp->last_line;
	e->prev_line = v3 ? tmp->prev_line : 0;
	e->node = tmp->node;
	e->beurt = tmp->beurt;
	e->gemist = tmp->gemist;
	e->counter = tmp->counter;
	e->ended = tmp->ended;
	e->rng = tmp->rng;
	rc = 0;
	goto out;
bad:
	err_set(err, "opgeslagen sessiestatus is beschadigd");
out:
	engine_free(tmp);
	return rc;
}
