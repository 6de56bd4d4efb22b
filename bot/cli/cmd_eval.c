/* cmd_eval.c - how well the personas understand labelled conversations.
 *
 * Every conversation of a corpus file (tests/corpus/README.md) is played
 * through the engine of the scenario the file is named after, with seed
 * 1, and what the engine did is held against the trainer's labels:
 * intents (precision, recall, F1; turns with no intent; what was found
 * instead of what), meter directions, final trust per style, and the
 * rubric moments the debrief would record. Figures only: the exit status
 * says whether the input was valid, never whether a figure is good.
 */
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "cli.h"
#include "corpus.h"
#include "engine.h"
#include "model.h"

#define EVAL_SEED 1
#define EVAL_FOLDS 7     /* --kruis: the training split has 7 per style */
#define EVAL_TOP_CONFUSED 10

struct count {
	size_t tp, fp, fn;
};

/* An expected intent a that was not found, with an intent b found that
 * was not expected (-1: nothing in its place). */
struct confusion {
	long a, b;
	size_t n;
};

struct stats {
	size_t nconvs, nturns, after_end;
	size_t none, labelled, labelled_none;
	/* hits of 'hulp: ja' intents (no move a trainer names: left out
	 * of the intent figures, counted here) */
	size_t helper_hits;
	struct count *intent;            /* per intent */
	struct confusion *conf;
	size_t nconf, conf_cap;
	size_t move, move_ok, same, same_ok;
	/* of the moves missed: the meter stayed, it went the other way,
	 * it stood at its bound already (min/max) and could not move, or
	 * a ceiling of the script (a 'plafond', or a 'zodra' rule that
	 * sets it back: engine_out's capped) held back the rise its
	 * actions made */
	size_t move_still, move_wrong, move_bound, move_capped;
	size_t *vmove, *vmove_ok, *vsame, *vsame_ok;  /* per var */
	double trust_sum[CORPUS_NSTYLES];
	size_t trust_n[CORPUS_NSTYLES];
	struct count *point;             /* per point * 2 + shown */
	struct count rubric;
	struct count doubt;              /* the debrief's doubts: tp, fp */
};

struct run {
	int patterns_only;       /* model hits are taken back */
	int list_turns;          /* --beurten: print each disagreement */
	int cross;               /* --kruis: cross-validate the model */
	int calib;               /* --ijking: keep the model's candidates */
	const char *path;
	const struct script *s;
	struct corpus c;
	struct stats st;
	/* --ijking: each candidate's calibration features (model.h) and
	 * whether the trainer labelled its intent */
	float *cx;
	uint8_t *cy;
	size_t cn, cxcap, cycap;
};

static void stats_init(struct stats *st, const struct script *s)
{
	memset(st, 0, sizeof(*st));
	st->intent = xcalloc(s->nintents + 1, sizeof(*st->intent));
	st->vmove = xcalloc(s->nvars + 1, sizeof(size_t));
	st->vmove_ok = xcalloc(s->nvars + 1, sizeof(size_t));
	st->vsame = xcalloc(s->nvars + 1, sizeof(size_t));
	st->vsame_ok = xcalloc(s->nvars + 1, sizeof(size_t));
	st->point = xcalloc(s->npoints * 2 + 1, sizeof(*st->point));
}

static void stats_release(struct stats *st)
{
	free(st->intent);
	free(st->conf);
	free(st->vmove);
	free(st->vmove_ok);
	free(st->vsame);
	free(st->vsame_ok);
	free(st->point);
}

static void confuse(struct stats *st, long a, long b)
{
	for (size_t i = 0; i < st->nconf; i++)
		if (st->conf[i].a == a && st->conf[i].b == b) {
			st->conf[i].n++;
			return;
		}
	XGROW(st->conf, st->conf_cap, st->nconf + 1);
	st->conf[st->nconf].a = a;
	st->conf[st->nconf].b = b;
	st->conf[st->nconf].n = 1;
	st->nconf++;
}

/* Is intent i one eval scores? Not a 'hulp: ja' intent: written for
 * the script's own conditions, it is no move a trainer names, so a
 * label never has it (and one that does is not held against it). */
static int scored(const struct script *s, uint32_t i)
{
	return !s->intents[i].helper;
}

static int turn_wants(const struct corpus_turn *t, uint32_t intent)
{
	for (size_t j = 0; j < t->nintents; j++)
		if (t->intent_ix[j] == intent)
			return 1;
	return 0;
}

static void score_intents(struct stats *st, const struct script *s,
			  const struct match *m, const struct corpus_turn *t)
{
	size_t found = 0, missed = 0, extra = 0;

	for (uint32_t i = 0; i < s->nintents; i++) {
		int hit = match_hit(m, i), want = turn_wants(t, i);

		if (!scored(s, i)) {
			st->helper_hits += (size_t)hit;
			continue;
		}
		found += (size_t)hit;
		if (hit && want)
			st->intent[i].tp++;
		else if (hit)
			st->intent[i].fp++, extra++;
		else if (want)
			st->intent[i].fn++, missed++;
	}
	st->none += !found;
	if (t->nintents) {
		st->labelled++;
		st->labelled_none += !found;
	}
	/* what came instead of what */
	for (uint32_t a = 0; a < s->nintents; a++) {
		if (!scored(s, a) || !turn_wants(t, a) || match_hit(m, a))
			continue;
		if (!extra)
			confuse(st, (long)a, -1);
		for (uint32_t b = 0; b < s->nintents; b++)
			if (scored(s, b) && match_hit(m, b) &&
			    !turn_wants(t, b))
				confuse(st, (long)a, (long)b);
	}
	if (!missed)
		for (uint32_t b = 0; b < s->nintents; b++)
			if (scored(s, b) && match_hit(m, b) &&
			    !turn_wants(t, b))
				confuse(st, -1, (long)b);
}

static void pct(const char *what, size_t a, size_t b);

/* Why the meters missed the moves a trainer expected; and the share
 * right among the moves a meter could make (one at the end of its
 * scale, 0 or 10, cannot go further: a trainer who expects tension to
 * fall at 0 sees it stay there). */
static void missed_moves(size_t ok, size_t move, size_t still, size_t wrong,
			 size_t bound, size_t capped)
{
	if (still + wrong + bound + capped)
		printf("    gemist: bleef staan %zu, verkeerde kant %zu, "
		       "stond al aan de grens %zu, door een plafond "
		       "tegengehouden %zu\n", still, wrong, bound, capped);
	if (bound && move > bound) {
		pct("    waar de meter kon bewegen", ok, move - bound);
		printf("\n");
	}
	if (capped && move > bound + capped) {
		pct("    waar ook het plafond de stijging toeliet", ok,
		    move - bound - capped);
		printf("\n");
	}
}

static void score_meters(struct stats *st, const struct corpus_turn *t,
			 const int *before, const struct engine *e,
			 const struct engine_out *o)
{
	for (size_t j = 0; j < t->nmeters; j++) {
		const struct corpus_meter *cm = &t->meters[j];
		int delta = engine_var(e, cm->var) - before[cm->var];

		const struct var *vd = &engine_script(e)->vars[cm->var];

		switch (cm->dir) {
		case DIR_UP:
		case DIR_DOWN:
			st->move++;
			st->vmove[cm->var]++;
			if ((cm->dir == DIR_UP && delta > 0) ||
			    (cm->dir == DIR_DOWN && delta < 0)) {
				st->move_ok++;
				st->vmove_ok[cm->var]++;
			} else if ((cm->dir == DIR_UP &&
				    before[cm->var] >= vd->max) ||
				   (cm->dir == DIR_DOWN &&
				    before[cm->var] <= vd->min)) {
				st->move_bound++;
			} else if (cm->dir == DIR_UP && delta <= 0 &&
				   cm->var < 64 &&
				   ((o->capped >> cm->var) & 1)) {
				/* the script raised it; a ceiling (the key
				 * moves not made yet) held it */
				st->move_capped++;
			} else if (delta == 0) {
				st->move_still++;
			} else {
				st->move_wrong++;
			}
			break;
		case DIR_SAME:
			st->same++;
			st->vsame[cm->var]++;
			if (delta == 0) {
				st->same_ok++;
				st->vsame_ok[cm->var]++;
			}
			break;
		case DIR_UNKNOWN:
			break;
		}
	}
}

/* The debrief's moments of this turn (each point and side once) against
 * the labels. */
static void score_points(struct stats *st, const struct script *s,
			 const struct engine_out *o,
			 const struct corpus_turn *t, uint8_t *seen)
{
	memset(seen, 0, s->npoints * 2 + 1);
	for (size_t j = 0; j < o->npoints; j++)
		seen[o->points[j].point * 2 + (o->points[j].shown ? 1 : 0)] = 1;
	for (size_t k = 0; k < s->npoints * 2; k++) {
		int want = 0;

		for (size_t j = 0; j < t->npoints; j++)
			if (t->points[j].point * 2 + (size_t)t->points[j].shown
			    == k)
				want = 1;
		if (seen[k] && want) {
			st->point[k].tp++;
			st->rubric.tp++;
		} else if (seen[k]) {
			st->point[k].fp++;
			st->rubric.fp++;
		} else if (want) {
			st->point[k].fn++;
			st->rubric.fn++;
		}
	}
	/* a doubt is right when the trainer labelled that point and side */
	for (size_t j = 0; j < o->ndoubts; j++) {
		int want = 0;

		for (size_t k = 0; k < t->npoints; k++)
			want |= t->points[k].point == o->doubts[j].point &&
				!t->points[k].shown == !o->doubts[j].shown;
		if (want)
			st->doubt.tp++;
		else
			st->doubt.fp++;
	}
}

/* For --alleen-patronen: what the engine did before the model. */
static void drop_model_hits(struct match *m, const struct script *s)
{
	for (size_t i = 0; i < s->nintents; i++)
		if (m->hit_how[i] == MATCH_BY_MODEL) {
			m->hit[i] = 0;
			m->hit_how[i] = 0;
			m->span[i].len = 0;
		}
	/* and the model's own meter directions */
	memset(m->meter_up, 0, sizeof(m->meter_up));
	memset(m->meter_down, 0, sizeof(m->meter_down));
}

/* --beurten: one block per turn where the engine and the trainer
 * disagree, for tuning on the training split (never on the test split:
 * tests/corpus/README.md). */
static const char dir_sign[] = { '+', '-', '=', '?' };

static int meter_agrees(enum corpus_dir dir, int delta)
{
	switch (dir) {
	case DIR_UP:
		return delta > 0;
	case DIR_DOWN:
		return delta < 0;
	case DIR_SAME:
		return delta == 0;
	case DIR_UNKNOWN:
		break;
	}
	return 1;
}

static void list_turn(const struct run *r, const struct corpus_conv *cv,
		      const struct corpus_turn *t, const struct match *m,
		      const struct engine_out *o, const int *before,
		      const struct engine *e, int ended)
{
	const struct script *s = r->s;
	int bad_intents = 0, bad_meters = 0, bad_points = 0;

	for (uint32_t i = 0; i < s->nintents; i++)
		if (scored(s, i) && match_hit(m, i) != turn_wants(t, i))
			bad_intents = 1;
	for (size_t j = 0; j < t->nmeters && !ended; j++)
		if (!meter_agrees(t->meters[j].dir,
				  engine_var(e, t->meters[j].var) -
				  before[t->meters[j].var]))
			bad_meters = 1;
	for (size_t j = 0; j < t->npoints && !ended; j++) {
		int got = 0;

		for (size_t k = 0; k < o->npoints; k++)
			got |= o->points[k].point == t->points[j].point &&
			       o->points[k].shown == t->points[j].shown;
		bad_points |= !got;
	}
	for (size_t k = 0; k < o->npoints && !ended; k++) {
		int want = 0;

		for (size_t j = 0; j < t->npoints; j++)
			want |= o->points[k].point == t->points[j].point &&
				o->points[k].shown == t->points[j].shown;
		bad_points |= !want;
	}
	if (!bad_intents && !bad_meters && !bad_points)
		return;
	printf("%s:%d: %s (%s): %s\n", t->loc.file, t->loc.line, cv->id,
	       corpus_style_name(cv->style), t->text);
	if (bad_intents) {
		printf("  bedoelingen: verwacht");
		for (size_t j = 0; j < t->nintents; j++)
			printf(" %s", t->intents[j]);
		printf("%s; gevonden", t->nintents ? "" : " -");
		for (uint32_t i = 0; i < s->nintents; i++)
			if (match_hit(m, i)) {
				printf(" %s%s", s->intents[i].name,
				       scored(s, i) ? "" : "(hulp)");
				if (m->hit_how[i] == MATCH_BY_MODEL)
					printf("(model %.2f)",
					       (double)m->conf[i]);
			}
		printf("\n");
	}
	if (ended) {
		printf("  (na het einde van het gesprek)\n");
		return;
	}
	if (bad_meters) {
		printf("  meters:");
		for (size_t j = 0; j < t->nmeters; j++) {
			uint32_t v = t->meters[j].var;

			printf(" %s verwacht %c kreeg %+d (stond op %d%s);",
			       s->vars[v].name, dir_sign[t->meters[j].dir],
			       engine_var(e, v) - before[v], before[v],
			       v < 64 && ((o->capped >> v) & 1) ?
			       ", plafond" : "");
		}
		printf("\n");
	}
	if (bad_points) {
		printf("  rubriek: verwacht");
		for (size_t j = 0; j < t->npoints; j++)
			printf(" %c%s", t->points[j].shown ? '+' : '-',
			       t->points[j].id);
		printf("%s; vastgelegd", t->npoints ? "" : " -");
		for (size_t k = 0; k < o->npoints; k++)
			printf(" %c%s", o->points[k].shown ? '+' : '-',
			       s->points[o->points[k].point].id);
		printf("\n");
	}
	printf("  regels:");
	for (size_t k = 0; k < o->nrules; k++)
		printf(" %s", s->rules[o->rules[k]].name);
	printf("\n  persona:");
	for (size_t k = 0; k < o->nmsgs; k++)
		printf(" \"%s\"", o->msgs[k].buf ? o->msgs[k].buf : "");
	printf("\n");
}

/* Fold of conversation ci: its place among the file's conversations of
 * its style, modulo EVAL_FOLDS, so every fold has each style. */
static int fold_of(const struct corpus *c, size_t ci)
{
	size_t k = 0;

	for (size_t i = 0; i < ci; i++)
		k += c->convs[i].style == c->convs[ci].style;
	return (int)(k % EVAL_FOLDS);
}

/* --ijking: the model's candidates for turn t, as samples. */
static void keep_candidates(struct run *r, const struct match *m,
			    const struct corpus_turn *t)
{
	for (size_t k = 0; k < m->ncand; k++) {
		XGROW(r->cx, r->cxcap, (r->cn + 1) * MODEL_CALIB_NFEAT);
		XGROW(r->cy, r->cycap, r->cn + 1);
		model_calib_features(m, k, r->cx + r->cn * MODEL_CALIB_NFEAT);
		r->cy[r->cn++] = (uint8_t)turn_wants(t, m->cand[k].intent);
	}
}

/* Plays the conversations of fold (all when fold < 0). */
static void play_fold(struct run *r, int fold)
{
	const struct script *s = r->s;
	struct stats *st = &r->st;
	struct engine_out out;
	struct match m, heard;
	int *before = xcalloc(s->nvars + 1, sizeof(int));
	uint8_t *seen = xcalloc(s->npoints * 2 + 1, 1);
	uint8_t *heard_hit = xcalloc(s->nintents + 1, 1);
	int trust = s->meter[METER_TRUST];

	engine_out_init(&out);
	match_init(&m);
	for (size_t ci = 0; ci < r->c.nconvs; ci++) {
		const struct corpus_conv *cv = &r->c.convs[ci];
		struct engine *e;

		if (fold >= 0 && fold_of(&r->c, ci) != fold)
			continue;
		e = engine_new(s, EVAL_SEED);

		st->nconvs++;
		engine_start(e, &out);
		for (size_t ti = cv->first; ti < cv->first + cv->nturns; ti++) {
			const struct corpus_turn *t = &r->c.turns[ti];

			st->nturns++;
			for (size_t v = 0; v < s->nvars; v++)
				before[v] = engine_var(e, v);
			match_run(&m, s, t->text, strlen(t->text));
			if (r->patterns_only)
				drop_model_hits(&m, s);
			if (r->calib)
				keep_candidates(r, &m, t);
			/* recognised: what the engine acts on (engine_heard) */
			heard = m;
			heard.hit = heard_hit;
			engine_heard(e, &m, heard_hit);
			score_intents(st, s, &heard, t);
			if (engine_turn_matched(e, &m, t->text, &out) < 0) {
				st->after_end++;
				if (r->list_turns)
					list_turn(r, cv, t, &heard, &out,
						  before, e, 1);
				continue;
			}
			if (r->list_turns)
				list_turn(r, cv, t, &heard, &out, before, e,
					  0);
			score_meters(st, t, before, e, &out);
			score_points(st, s, &out, t, seen);
		}
		if (trust >= 0) {
			st->trust_sum[cv->style] += engine_var(e,
							       (size_t)trust);
			st->trust_n[cv->style]++;
		}
		engine_free(e);
	}
	match_release(&m);
	engine_out_release(&out);
	free(before);
	free(seen);
	free(heard_hit);
}

/* --kruis: for each fold, the model learns from the scenario's examples
 * and the file's other conversations only, then plays the fold. The
 * script's own model is put back afterwards. (The patterns are not
 * retrained: where they were tuned to this file, they still know it.) */
static void play_cross(struct run *r)
{
	struct script *s = (struct script *)r->s;
	struct model *own = s->model;
	/* the quiet moments as loaded, put back afterwards */
	uint8_t *quiet = s->quiet;
	uint32_t *seen = s->quiet_seen, *right = s->quiet_right;

	s->quiet = NULL;
	s->quiet_seen = s->quiet_right = NULL;
	struct corpus sub;

	memset(&sub, 0, sizeof(sub));
	sub.path = r->c.path;
	sub.turns = xcalloc(r->c.nturns + 1, sizeof(*sub.turns));
	sub.convs = xcalloc(r->c.nconvs + 1, sizeof(*sub.convs));
	for (int f = 0; f < EVAL_FOLDS; f++) {
		sub.nturns = sub.nconvs = 0;
		for (size_t ci = 0; ci < r->c.nconvs; ci++) {
			const struct corpus_conv *cv = &r->c.convs[ci];

			if (fold_of(&r->c, ci) == f)
				continue;
			sub.convs[sub.nconvs] = *cv;
			sub.convs[sub.nconvs++].first = sub.nturns;
			for (size_t t = 0; t < cv->nturns; t++)
				sub.turns[sub.nturns++] =
					r->c.turns[cv->first + t];
		}
		s->model = NULL;   /* training runs the matcher */
		s->model = model_train(s, &sub);
		calib_points(s, &sub);
		play_fold(r, f);
		model_free(s->model);
	}
	s->model = own;
	calib_points(s, NULL);    /* frees the last fold's */
	s->quiet = quiet;
	s->quiet_seen = seen;
	s->quiet_right = right;
	free(sub.turns);
	free(sub.convs);
}

static void play_corpus(struct run *r)
{
	stats_init(&r->st, r->s);
	if (r->cross && !r->patterns_only)
		play_cross(r);
	else
		play_fold(r, -1);
}

/* ------------------------------------------------------------ figures */

static double ratio(size_t a, size_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static double prec(const struct count *c)
{
	return ratio(c->tp, c->tp + c->fp);
}

static double rec(const struct count *c)
{
	return ratio(c->tp, c->tp + c->fn);
}

static double f1(const struct count *c)
{
	return ratio(2 * c->tp, 2 * c->tp + c->fp + c->fn);
}

static void add_count(struct count *to, const struct count *c)
{
	to->tp += c->tp;
	to->fp += c->fp;
	to->fn += c->fn;
}

static struct count micro(const struct run *r)
{
	struct count c = { 0, 0, 0 };

	for (size_t i = 0; i < r->s->nintents; i++)
		add_count(&c, &r->st.intent[i]);
	return c;
}

static double trust_avg(const struct stats *st, int style)
{
	return st->trust_n[style] ?
	       st->trust_sum[style] / (double)st->trust_n[style] : 0.0;
}

/* 1 skilled above poor, 0 not, -1 one of them has no conversation. */
static int skilled_above_poor(const struct stats *st)
{
	if (!st->trust_n[CORPUS_VAARDIG] || !st->trust_n[CORPUS_ZWAK])
		return -1;
	return trust_avg(st, CORPUS_VAARDIG) > trust_avg(st, CORPUS_ZWAK);
}

/* Issue 12's orderings of the final trust: skilled > ordinary > poor,
 * and off-script below skilled. 1 holds, 0 not, -1 a style has no
 * conversation. */
static int styles_ordered(const struct stats *st)
{
	if (!st->trust_n[CORPUS_VAARDIG] || !st->trust_n[CORPUS_GEWOON] ||
	    !st->trust_n[CORPUS_ZWAK])
		return -1;
	return trust_avg(st, CORPUS_VAARDIG) > trust_avg(st, CORPUS_GEWOON) &&
	       trust_avg(st, CORPUS_GEWOON) > trust_avg(st, CORPUS_ZWAK);
}

static int offscript_below(const struct stats *st)
{
	if (!st->trust_n[CORPUS_VAARDIG] || !st->trust_n[CORPUS_ANDERS])
		return -1;
	return trust_avg(st, CORPUS_ANDERS) < trust_avg(st, CORPUS_VAARDIG);
}

static const char *yes_no(int v)
{
	return v < 0 ? "-" : v ? "ja" : "nee";
}

static const char *intent_name(const struct script *s, long i)
{
	return i < 0 ? "(niets)" : s->intents[i].name;
}

static int cmp_conf(const void *a, const void *b)
{
	const struct confusion *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return x->b < y->b ? -1 : x->b > y->b;
}

static void pct(const char *what, size_t a, size_t b)
{
	if (b)
		printf("%s %.1f%% (%zu/%zu)", what, 100.0 * ratio(a, b), a, b);
	else
		printf("%s - (0/0)", what);
}

/* The debrief moments calib.h made quiet, per source, with how often
 * they were right on the training split (a source seen too seldom to
 * judge alone: the counts of its point and side, "punt"). */
static void print_quiet(const struct script *s)
{
	int any = 0;

	for (uint32_t i = 0; s->quiet && i < s->nsrcs; i++)
		for (int bm = 0; bm < 2; bm++) {
			const struct point_src *ps = &s->srcs[i];
			size_t k = calib_src_key(s, i, bm);
			int own = s->quiet_seen[k] >= CALIB_MIN_SEEN;

			if (!s->quiet[k])
				continue;
			if (!own)
				k = calib_key(ps->point, ps->shown, bm);
			printf("%s %c%s%s%s%s%s (%s%u/%u juist)", any ? "," :
			       "  stil in de nabespreking:",
			       ps->shown ? '+' : '-', s->points[ps->point].id,
			       ps->reason ? " \"" : "",
			       ps->reason ? ps->reason : "",
			       ps->reason ? "\"" : "", bm ? " (model)" : "",
			       own ? "" : "punt: ", s->quiet_right[k],
			       s->quiet_seen[k]);
			any = 1;
		}
	if (any)
		printf("\n");
}

static void print_model(const struct script *s, int patterns_only)
{
	const struct model_info *mi = model_info(s->model);

	if (patterns_only || !mi) {
		printf("  leermodel: %s\n", patterns_only ? "uit "
		       "(--alleen-patronen)" : "geen");
		return;
	}
	printf("  leermodel: %zu teksten (%zu uit %s), %zu kenmerken, ",
	       mi->nsamples, mi->ncorpus, s->train_path ? s->train_path :
	       "geen corpus", mi->nfeatures);
	if (mi->fires)
		printf("%zu bedoelingen geleerd, %zu gewichten (tot %.1f%% "
		       "afgerond, kolom in %s), drempel %.2f, %zu "
		       "meterhints\n", mi->nlearned, mi->nweights,
		       100.0 * mi->wq_err, (const char *[]){ "een bit",
		       "een byte", "twee bytes" }[model_col_bytes(s->model)],
		       (double)mi->threshold, mi->nhints);
	else
		printf("vuurt niet (geen gesprekken om van te leren)\n");
	print_quiet(s);
}

static json_t *model_json(const struct script *s, int patterns_only)
{
	const struct model_info *mi = model_info(s->model);
	json_t *j;

	if (patterns_only || !mi)
		return json_null();
	j = json_object();
	json_object_set_new(j, "teksten", json_integer(
		(json_int_t)mi->nsamples));
	json_object_set_new(j, "uit_corpus", json_integer(
		(json_int_t)mi->ncorpus));
	json_object_set_new(j, "kenmerken", json_integer(
		(json_int_t)mi->nfeatures));
	json_object_set_new(j, "drempel", mi->fires ?
			    json_real(mi->threshold) : json_null());
	json_object_set_new(j, "geleerde_bedoelingen", json_integer(
		(json_int_t)mi->nlearned));
	json_object_set_new(j, "gewichten", json_integer(
		(json_int_t)mi->nweights));
	json_object_set_new(j, "meterhints", json_integer(
		(json_int_t)mi->nhints));
	return j;
}

static void print_run(struct run *r)
{
	const struct script *s = r->s;
	struct stats *st = &r->st;
	struct count mc = micro(r);
	int sap = skilled_above_poor(st);

	printf("== %s (%s): %zu gesprekken, %zu beurten\n", s->id, r->path,
	       st->nconvs, st->nturns);
	print_model(s, r->patterns_only);
	printf("  %-28s %5s %5s %5s  %s\n", "bedoeling", "prec", "rec", "F1",
	       "(goed/onterecht/gemist)");
	for (size_t i = 0; i < s->nintents; i++) {
		const struct count *c = &st->intent[i];

		if (!c->tp && !c->fp && !c->fn)
			continue;
		printf("  %-28s %5.2f %5.2f %5.2f  (%zu/%zu/%zu)\n",
		       s->intents[i].name, prec(c), rec(c), f1(c), c->tp,
		       c->fp, c->fn);
	}
	printf("  micro: prec %.3f rec %.3f F1 %.3f\n", prec(&mc), rec(&mc),
	       f1(&mc));
	pct("  geen bedoeling: alle beurten", st->none, st->nturns);
	pct(", beurten met een label", st->labelled_none, st->labelled);
	if (st->helper_hits)
		printf("; hulpbedoelingen (niet meegeteld) %zu keer gevonden",
		       st->helper_hits);
	printf("\n");
	if (st->nconf) {
		qsort(st->conf, st->nconf, sizeof(*st->conf), cmp_conf);
		printf("  vaakst verward (verwacht -> gevonden):\n");
		for (size_t i = 0; i < st->nconf && i < EVAL_TOP_CONFUSED; i++)
			printf("    %zux %s -> %s\n", st->conf[i].n,
			       intent_name(s, st->conf[i].a),
			       intent_name(s, st->conf[i].b));
	}
	pct("  meters goed: bewegen", st->move_ok, st->move);
	pct(", blijven gelijk", st->same_ok, st->same);
	printf("\n");
	missed_moves(st->move_ok, st->move, st->move_still, st->move_wrong,
		     st->move_bound, st->move_capped);
	for (size_t v = 0; v < s->nvars; v++) {
		if (!st->vmove[v] && !st->vsame[v])
			continue;
		printf("    %-14s", s->vars[v].name);
		pct(" bewegen", st->vmove_ok[v], st->vmove[v]);
		pct(", gelijk", st->vsame_ok[v], st->vsame[v]);
		printf("\n");
	}
	printf("  eindvertrouwen:");
	for (int k = 0; k < CORPUS_NSTYLES; k++) {
		if (st->trust_n[k])
			printf(" %s %.2f (%zu)", corpus_style_name(
				(enum corpus_style)k), trust_avg(st, k),
			       st->trust_n[k]);
		else
			printf(" %s - (0)", corpus_style_name(
				(enum corpus_style)k));
	}
	printf("; vaardig boven zwak: %s; vaardig > gewoon > zwak: %s; "
	       "anders onder vaardig: %s\n", yes_no(sap),
	       yes_no(styles_ordered(st)), yes_no(offscript_below(st)));
	printf("  rubriek: precisie %.3f (%zu/%zu), recall %.3f (%zu/%zu)\n",
	       prec(&st->rubric), st->rubric.tp,
	       st->rubric.tp + st->rubric.fp, rec(&st->rubric),
	       st->rubric.tp, st->rubric.tp + st->rubric.fn);
	for (size_t k = 0; k < s->npoints * 2; k++) {
		const struct count *c = &st->point[k];

		if (!c->fp && !c->fn)
			continue;
		printf("    %c%-24s %zu goed, %zu onterecht, %zu gemist\n",
		       k & 1 ? '+' : '-', s->points[k / 2].id, c->tp, c->fp,
		       c->fn);
	}
	if (st->after_end)
		printf("  %zu beurten na het einde van een gesprek (alleen "
		       "bedoelingen geteld)\n", st->after_end);
}

struct total {
	struct count intents, rubric, doubt;
	size_t nconvs, nturns, none, labelled, labelled_none, helper_hits;
	size_t move, move_ok, same, same_ok;
	size_t move_still, move_wrong, move_bound, move_capped;
	size_t sap_yes, sap_known;
	size_t order_yes, order_known, below_yes, below_known;
};

static void sum_total(struct total *t, const struct run *r)
{
	struct count mc = micro(r);
	const struct stats *st = &r->st;
	int sap = skilled_above_poor(st);

	add_count(&t->intents, &mc);
	add_count(&t->rubric, &st->rubric);
	add_count(&t->doubt, &st->doubt);
	t->nconvs += st->nconvs;
	t->nturns += st->nturns;
	t->none += st->none;
	t->labelled += st->labelled;
	t->labelled_none += st->labelled_none;
	t->helper_hits += st->helper_hits;
	t->move += st->move;
	t->move_ok += st->move_ok;
	t->same += st->same;
	t->same_ok += st->same_ok;
	t->move_still += st->move_still;
	t->move_wrong += st->move_wrong;
	t->move_bound += st->move_bound;
	t->move_capped += st->move_capped;
	if (sap >= 0) {
		t->sap_known++;
		t->sap_yes += (size_t)sap;
	}
	sap = styles_ordered(st);
	if (sap >= 0) {
		t->order_known++;
		t->order_yes += (size_t)sap;
	}
	sap = offscript_below(st);
	if (sap >= 0) {
		t->below_known++;
		t->below_yes += (size_t)sap;
	}
}

static void print_total(const struct total *t, size_t nruns)
{
	printf("== totaal: %zu bestanden, %zu gesprekken, %zu beurten\n",
	       nruns, t->nconvs, t->nturns);
	printf("  bedoelingen micro: prec %.3f rec %.3f F1 %.3f\n",
	       prec(&t->intents), rec(&t->intents), f1(&t->intents));
	pct("  geen bedoeling: alle beurten", t->none, t->nturns);
	pct(", beurten met een label", t->labelled_none, t->labelled);
	if (t->helper_hits)
		printf("; hulpbedoelingen (niet meegeteld) %zu keer gevonden",
		       t->helper_hits);
	printf("\n");
	pct("  meters goed: bewegen", t->move_ok, t->move);
	pct(", blijven gelijk", t->same_ok, t->same);
	printf("\n");
	missed_moves(t->move_ok, t->move, t->move_still, t->move_wrong,
		     t->move_bound, t->move_capped);
	printf("  vaardig boven zwak: %zu van %zu scenario's\n", t->sap_yes,
	       t->sap_known);
	printf("  vaardig > gewoon > zwak: %zu van %zu; anders onder vaardig: "
	       "%zu van %zu\n", t->order_yes, t->order_known, t->below_yes,
	       t->below_known);
	printf("  rubriek: precisie %.3f (%zu/%zu), recall %.3f (%zu/%zu)\n",
	       prec(&t->rubric), t->rubric.tp, t->rubric.tp + t->rubric.fp,
	       rec(&t->rubric), t->rubric.tp, t->rubric.tp + t->rubric.fn);
	printf("  twijfel (niet meegeteld, wel genoemd): %zu, waarvan %zu "
	       "terecht (%.3f)\n", t->doubt.tp + t->doubt.fp, t->doubt.tp,
	       prec(&t->doubt));
}

/* ---------------------------------------------------------------- JSON */

static json_t *count_json(const struct count *c)
{
	json_t *j = json_object();

	json_object_set_new(j, "goed", json_integer((json_int_t)c->tp));
	json_object_set_new(j, "onterecht", json_integer((json_int_t)c->fp));
	json_object_set_new(j, "gemist", json_integer((json_int_t)c->fn));
	json_object_set_new(j, "precisie", json_real(prec(c)));
	json_object_set_new(j, "recall", json_real(rec(c)));
	json_object_set_new(j, "f1", json_real(f1(c)));
	return j;
}

static json_t *share_json(size_t a, size_t b)
{
	json_t *j = json_object();

	json_object_set_new(j, "aantal", json_integer((json_int_t)a));
	json_object_set_new(j, "van", json_integer((json_int_t)b));
	json_object_set_new(j, "aandeel", json_real(ratio(a, b)));
	return j;
}

static json_t *run_json(struct run *r)
{
	const struct script *s = r->s;
	struct stats *st = &r->st;
	struct count mc = micro(r);
	json_t *j = json_object(), *in = json_object(), *cf = json_array();
	json_t *met = json_object(), *tr = json_object(), *pts = json_object();
	int sap = skilled_above_poor(st);

	json_object_set_new(j, "scenario", json_string(s->id));
	json_object_set_new(j, "bestand", json_string(r->path));
	json_object_set_new(j, "gesprekken", json_integer(
		(json_int_t)st->nconvs));
	json_object_set_new(j, "beurten", json_integer((json_int_t)st->nturns));
	json_object_set_new(j, "leermodel", model_json(s, r->patterns_only));
	for (size_t i = 0; i < s->nintents; i++) {
		const struct count *c = &st->intent[i];

		if (c->tp || c->fp || c->fn)
			json_object_set_new(in, s->intents[i].name,
					    count_json(c));
	}
	json_object_set_new(j, "bedoelingen", in);
	json_object_set_new(j, "micro", count_json(&mc));
	json_object_set_new(j, "geen_bedoeling", share_json(st->none,
							    st->nturns));
	json_object_set_new(j, "geen_bedoeling_gelabeld",
			    share_json(st->labelled_none, st->labelled));
	json_object_set_new(j, "hulpbedoelingen_gevonden",
			    json_integer((json_int_t)st->helper_hits));
	if (st->nconf)   /* conf is NULL when nothing was confused */
		qsort(st->conf, st->nconf, sizeof(*st->conf), cmp_conf);
	for (size_t i = 0; i < st->nconf && i < EVAL_TOP_CONFUSED; i++) {
		json_t *p = json_object();

		json_object_set_new(p, "verwacht", st->conf[i].a < 0 ?
			json_null() : json_string(intent_name(s,
							      st->conf[i].a)));
		json_object_set_new(p, "gevonden", st->conf[i].b < 0 ?
			json_null() : json_string(intent_name(s,
							      st->conf[i].b)));
		json_object_set_new(p, "aantal", json_integer(
			(json_int_t)st->conf[i].n));
		json_array_append_new(cf, p);
	}
	json_object_set_new(j, "verward", cf);
	json_object_set_new(met, "bewegen", share_json(st->move_ok, st->move));
	json_object_set_new(met, "bewegen_binnen_grenzen", share_json(
		st->move_ok, st->move - st->move_bound));
	json_object_set_new(met, "bewegen_binnen_plafond", share_json(
		st->move_ok, st->move - st->move_bound - st->move_capped));
	json_object_set_new(met, "gelijk", share_json(st->same_ok, st->same));
	for (size_t v = 0; v < s->nvars; v++) {
		json_t *mv;

		if (!st->vmove[v] && !st->vsame[v])
			continue;
		mv = json_object();
		json_object_set_new(mv, "bewegen", share_json(
			st->vmove_ok[v], st->vmove[v]));
		json_object_set_new(mv, "gelijk", share_json(
			st->vsame_ok[v], st->vsame[v]));
		json_object_set_new(met, s->vars[v].name, mv);
	}
	json_object_set_new(j, "meters", met);
	for (int k = 0; k < CORPUS_NSTYLES; k++) {
		json_t *x = json_object();

		json_object_set_new(x, "gemiddeld", st->trust_n[k] ?
				    json_real(trust_avg(st, k)) : json_null());
		json_object_set_new(x, "gesprekken", json_integer(
			(json_int_t)st->trust_n[k]));
		json_object_set_new(tr, corpus_style_name(
			(enum corpus_style)k), x);
	}
	json_object_set_new(tr, "vaardig_boven_zwak", sap < 0 ? json_null() :
			    json_boolean(sap));
	json_object_set_new(j, "eindvertrouwen", tr);
	for (size_t k = 0; k < s->npoints * 2; k++) {
		const struct count *c = &st->point[k];
		char key[80];
		int n;

		if (!c->tp && !c->fp && !c->fn)
			continue;
		n = snprintf(key, sizeof(key), "%c%s", k & 1 ? '+' : '-',
			     s->points[k / 2].id);
		if (n < 0 || (size_t)n >= sizeof(key))
			continue;   /* point ids are short names */
		json_object_set_new(pts, key, count_json(c));
	}
	json_object_set_new(j, "rubriek", count_json(&st->rubric));
	json_object_set_new(j, "rubriek_per_moment", pts);
	json_object_set_new(j, "na_einde", json_integer(
		(json_int_t)st->after_end));
	return j;
}

static json_t *total_json(const struct total *t, size_t nruns)
{
	json_t *j = json_object();

	json_object_set_new(j, "bestanden", json_integer((json_int_t)nruns));
	json_object_set_new(j, "gesprekken", json_integer(
		(json_int_t)t->nconvs));
	json_object_set_new(j, "beurten", json_integer((json_int_t)t->nturns));
	json_object_set_new(j, "micro", count_json(&t->intents));
	json_object_set_new(j, "geen_bedoeling", share_json(t->none,
							    t->nturns));
	json_object_set_new(j, "geen_bedoeling_gelabeld",
			    share_json(t->labelled_none, t->labelled));
	json_object_set_new(j, "hulpbedoelingen_gevonden",
			    json_integer((json_int_t)t->helper_hits));
	json_object_set_new(j, "meters_bewegen", share_json(t->move_ok,
							    t->move));
	json_object_set_new(j, "meters_bewegen_binnen_grenzen", share_json(
		t->move_ok, t->move - t->move_bound));
	json_object_set_new(j, "meters_bewegen_binnen_plafond", share_json(
		t->move_ok, t->move - t->move_bound - t->move_capped));
	json_object_set_new(j, "meters_gelijk", share_json(t->same_ok,
							   t->same));
	json_object_set_new(j, "vaardig_boven_zwak", share_json(t->sap_yes,
								t->sap_known));
	json_object_set_new(j, "vaardig_gewoon_zwak",
			    share_json(t->order_yes, t->order_known));
	json_object_set_new(j, "anders_onder_vaardig",
			    share_json(t->below_yes, t->below_known));
	json_object_set_new(j, "rubriek", count_json(&t->rubric));
	return j;
}

/* --------------------------------------------------------------- main */

/* --ijking: fit the model's confidence (model.c, calib_w) to the
 * candidates of every run; NULL when there were none. */
static json_t *calib_fit(const struct run *runs, size_t nruns, int print)
{
	size_t n = 0, right = 0, bin_n[10] = { 0 }, bin_ok[10] = { 0 };
	float w[MODEL_CALIB_NFEAT], *x;
	uint8_t *y;
	json_t *j, *ws;

	for (size_t i = 0; i < nruns; i++)
		n += runs[i].cn;
	if (!n)
		return NULL;
	x = xcalloc(n * MODEL_CALIB_NFEAT, sizeof(float));
	y = xcalloc(n, 1);
	n = 0;
	for (size_t i = 0; i < nruns; i++) {
		memcpy(x + n * MODEL_CALIB_NFEAT, runs[i].cx,
		       runs[i].cn * MODEL_CALIB_NFEAT * sizeof(float));
		memcpy(y + n, runs[i].cy, runs[i].cn);
		n += runs[i].cn;
	}
	if (model_fit_calib(x, y, n, w) < 0) {
		free(x);
		free(y);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		float q = model_calib_conf(w, x + i * MODEL_CALIB_NFEAT);
		int b = (int)(q * 10);

		b = b > 9 ? 9 : b;
		bin_n[b]++;
		bin_ok[b] += y[i];
		right += y[i];
	}
	j = json_object();
	ws = json_array();
	for (size_t k = 0; k < MODEL_CALIB_NFEAT; k++)
		json_array_append_new(ws, json_real(w[k]));
	json_object_set_new(j, "kandidaten", json_integer((json_int_t)n));
	json_object_set_new(j, "juist", json_integer((json_int_t)right));
	json_object_set_new(j, "gewichten", ws);
	if (print) {
		printf("ijking van het leermodel: %zu kandidaten, %.1f%% "
		       "juist\n  gewichten (bot/core/model.c, calib_w): {",
		       n, 100.0 * ratio(right, n));
		for (size_t k = 0; k < MODEL_CALIB_NFEAT; k++)
			printf("%s%.3ff", k ? ", " : " ", (double)w[k]);
		printf(" }\n  zekerheid   kandidaten  juist\n");
		for (int b = 0; b < 10; b++)
			if (bin_n[b])
				printf("  0,%d-%d,%d  %10zu  %5.1f%%\n", b,
				       (b + 1) / 10, (b + 1) % 10, bin_n[b],
				       100.0 * ratio(bin_ok[b], bin_n[b]));
	}
	free(x);
	free(y);
	return j;
}

/* tests/corpus/train/moeder-brief.txt -> moeder-brief */
static char *scenario_of(const char *path)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strlen(b);
	if (n > 4 && strcmp(b + n - 4, ".txt") == 0)
		n -= 4;
	return xstrndup(b, n);
}

int cmd_eval(int argc, char **argv)
{
	struct catalog cat;
	struct opts o;
	struct run *runs = NULL;
	struct diag d;
	struct total tot;
	size_t nruns = 0;
	int rc = 2;

	if (cli_opts(argc, argv, &o,
		     "json alleen-patronen beurten kruis ijking") < 0)
		return 2;
	if (o.calib && (!o.cross || o.patterns_only)) {
		fprintf(stderr, "oefenkamer eval: --ijking past de zekerheid "
			"van het leermodel aan op voorspellingen die het niet "
			"uit zijn eigen lesstof kent: gebruik het met --kruis "
			"(en zonder --alleen-patronen)\n");
		return 2;
	}
	if (!o.nargs) {
		fprintf(stderr, "gebruik: oefenkamer eval CORPUS… [--json] "
			"[--alleen-patronen] [--beurten] [--kruis "
			"[--ijking]]\n"
			"  CORPUS: tests/corpus/<deel>/<scenario>.txt\n");
		return 2;
	}
	if (cli_catalog(&cat, 1))
		return 2;
	diag_init(&d);
	runs = xcalloc((size_t)o.nargs, sizeof(*runs));
	for (int i = 0; i < o.nargs; i++) {
		struct run *r = &runs[nruns++];
		char *id = scenario_of(o.args[i]);

		r->path = o.args[i];
		r->patterns_only = o.patterns_only;
		r->list_turns = o.turns && !o.json;
		r->cross = o.cross;
		r->calib = o.calib;
		r->s = catalog_find(&cat, id);
		if (!r->s || strcmp(r->s->id, id) != 0) {
			struct loc l = { o.args[i], 1, 1 };

			r->s = NULL;
			diag_add(&d, &l, "geen scenario '%s' (het bestand "
				 "heet naar het scenario)", id);
		}
		free(id);
		if (corpus_load(&r->c, o.args[i], &d) < 0 || !r->s)
			continue;
		corpus_resolve(&r->c, r->s, &d);
	}
	if (d.n) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
		goto out;
	}
	memset(&tot, 0, sizeof(tot));
	for (size_t i = 0; i < nruns; i++) {
		play_corpus(&runs[i]);
		sum_total(&tot, &runs[i]);
	}
	if (o.json) {
		json_t *j = json_object(), *arr = json_array();

		for (size_t i = 0; i < nruns; i++)
			json_array_append_new(arr, run_json(&runs[i]));
		json_object_set_new(j, "scenarios", arr);
		json_object_set_new(j, "totaal", total_json(&tot, nruns));
		if (o.calib) {
			json_t *c = calib_fit(runs, nruns, 0);

			json_object_set_new(j, "ijking", c ? c : json_null());
		}
		cli_json_line(stdout, j);
	} else {
		for (size_t i = 0; i < nruns; i++)
			print_run(&runs[i]);
		print_total(&tot, nruns);
		if (o.calib) {
			json_t *c = calib_fit(runs, nruns, 1);

			if (!c)
				printf("ijking van het leermodel: geen "
				       "kandidaten om van te leren\n");
			json_decref(c);
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < nruns; i++) {
		corpus_release(&runs[i].c);
		free(runs[i].cx);
		free(runs[i].cy);
		if (runs[i].s && runs[i].st.intent)
			stats_release(&runs[i].st);
	}
	free(runs);
	diag_release(&d);
	catalog_release(&cat);
	return rc;
}
