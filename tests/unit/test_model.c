/* test_model.c - the statistical matcher on a fixture made for it:
 * tests/data/model/scripts/gevoel.oef, whose patterns know one wording
 * of 'vraagt-gevoel' and whose training split has five others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calib.h"
#include "corpus.h"
#include "engine.h"
#include "match.h"
#include "model.h"
#include "script.h"
#include "util.h"

static struct script *load_fixture(void)
{
	const char *root = getenv("OEF_ROOT");
	struct script *s = NULL;
	struct sbuf path;
	struct diag d;

	sbuf_init(&path);
	sbuf_addf(&path, "%s/tests/data/model/scripts/gevoel.oef",
		  root && *root ? root : ".");
	diag_init(&d);
	if (script_load(path.buf, &s, &d) < 0)
		for (size_t i = 0; i < d.n; i++)
			print_message("%s\n", d.msgs[i]);
	diag_release(&d);
	sbuf_release(&path);
	assert_non_null(s);
	return s;
}

static uint32_t intent(const struct script *s, const char *name)
{
	int i = script_find_intent(s, name);

	assert_true(i >= 0);
	return (uint32_t)i;
}

static void run(struct match *m, const struct script *s, const char *text)
{
	match_run(m, s, text, strlen(text));
}

/* What one message gets from the script's model: hits, how, confidence
 * and clause per intent, and the meter regressions. */
struct outcome {
	size_t n;
	uint8_t *hit, *how;
	float *conf;
	uint32_t *clause;
	float up[MATCH_METER_SLOTS], down[MATCH_METER_SLOTS];
	int hint[MODEL_MAX_HINT_VARS];
};

static void outcome_of(struct match *m, const struct script *s,
		       const char *text, struct outcome *o)
{
	const uint32_t *vars = NULL;
	size_t nv;

	run(m, s, text);
	o->n = s->nintents;
	o->hit = xcalloc(o->n, 1);
	o->how = xcalloc(o->n, 1);
	o->conf = xcalloc(o->n, sizeof(float));
	o->clause = xcalloc(o->n, sizeof(uint32_t));
	for (size_t i = 0; i < o->n; i++) {
		o->hit[i] = m->hit[i];
		o->how[i] = m->hit_how[i];
		o->conf[i] = m->conf[i];
		o->clause[i] = m->hit[i] ? model_hit_clause(m, (uint32_t)i) : 0;
	}
	memcpy(o->up, m->meter_up, sizeof(o->up));
	memcpy(o->down, m->meter_down, sizeof(o->down));
	memset(o->hint, 0, sizeof(o->hint));
	nv = model_hint_vars(s->model, &vars);
	for (size_t k = 0; k < nv; k++)
		o->hint[k] = model_meter_hint(s->model, m, vars[k]);
}

static void outcome_release(struct outcome *o)
{
	free(o->hit);
	free(o->how);
	free(o->conf);
	free(o->clause);
}

/* The model written out and read back (model_write, model_read) finds
 * the very same in every text, to the last bit of its confidence, and
 * says the same of itself; returns the bytes it took. */
static size_t assert_round_trip(struct script *s, const char *const *texts,
				size_t ntexts)
{
	struct model *orig = s->model, *back;
	const struct model_info *a, *b;
	struct sbuf sb;
	struct match m;
	size_t len;

	sbuf_init(&sb);
	model_write(orig, &sb);
	len = sb.len;
	back = model_read(s, sb.buf, sb.len);
	assert_non_null(back);
	a = model_info(orig);
	b = model_info(back);
	assert_int_equal(a->nsamples, b->nsamples);
	assert_int_equal(a->nfeatures, b->nfeatures);
	assert_int_equal(a->ncorpus, b->ncorpus);
	assert_int_equal(a->nlearned, b->nlearned);
	assert_int_equal(a->nweights, b->nweights);
	assert_int_equal(a->nhints, b->nhints);
	assert_int_equal(a->fires, b->fires);
	assert_int_equal(model_col_bytes(orig), model_col_bytes(back));
	/* one byte short, or one more: not a model */
	assert_null(model_read(s, sb.buf, sb.len - 1));
	sbuf_addc(&sb, 0);
	assert_null(model_read(s, sb.buf, sb.len));
	match_init(&m);
	for (size_t i = 0; i < ntexts; i++) {
		struct outcome x, y;

		s->model = orig;
		outcome_of(&m, s, texts[i], &x);
		s->model = back;
		outcome_of(&m, s, texts[i], &y);
		assert_memory_equal(x.hit, y.hit, x.n);
		assert_memory_equal(x.how, y.how, x.n);
		assert_memory_equal(x.conf, y.conf, x.n * sizeof(float));
		assert_memory_equal(x.clause, y.clause,
				    x.n * sizeof(uint32_t));
		assert_memory_equal(x.up, y.up, sizeof(x.up));
		assert_memory_equal(x.down, y.down, sizeof(x.down));
		assert_memory_equal(x.hint, y.hint, sizeof(x.hint));
		outcome_release(&x);
		outcome_release(&y);
	}
	s->model = orig;
	match_release(&m);
	model_free(back);
	sbuf_release(&sb);
	return len;
}

/* The feature table: every feature its own row, in slot order, told
 * by the occupied slots before it; at least min of them. */
static void table_rows_in_order(const struct model *md, size_t min)
{
	const struct model_info *mi = model_info(md);
	uint32_t *rows = xcalloc(mi->nfeatures + 1, sizeof(*rows));
	size_t n = model_table_rows(md, rows);

	assert_true(mi->nfeatures >= min);
	assert_int_equal(n, mi->nfeatures);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(rows[k], k);
	free(rows);
}

static void test_learns_from_the_split(void **state)
{
	struct script *s = load_fixture();
	const struct model_info *mi = model_info(s->model);

	(void)state;
	assert_non_null(mi);
	/* 3 example sentences and 14 corpus turns */
	assert_int_equal(mi->nsamples, 17);
	assert_int_equal(mi->ncorpus, 14);
	assert_true(mi->threshold == MODEL_FIRE);
	assert_true(mi->fires);
	/* vraagt-gevoel and groet have positives to learn from */
	assert_true(mi->nlearned >= 1);
	assert_true(mi->nweights > 0);
	/* a byte per weight, each within 2% of what was trained */
	assert_true(mi->wq_err >= 0.0f && mi->wq_err < 0.02f);
	table_rows_in_order(s->model, 1);
	/* at most eight learned columns, a byte of bits a row: bits when
	 * the rows hold more weights than there are rows, else a byte a
	 * weight (test_dense_rows makes the bits) */
	assert_int_equal(model_col_bytes(s->model),
			 mi->nfeatures < mi->nweights ? 0 : 1);
	script_free(s);
}

/* Texts for the fixture: its patterns' wording, the paraphrases its
 * training split teaches, and things it must not take for them. */
static const char *const gevoel_texts[] = {
	"Hoe gaat het?", "Hallo.", "Hoe voelt u zich vandaag?",
	"Hoe is het nu met je, echt?", "Ik voel me vandaag niet zo lekker.",
	"Wat vindt u van het weer?", "Dag mevrouw, hoe gaat het met u?",
	"Ik wil niet weten hoe u zich voelt.", "",
};

/* Kept between runs (mcache.h): read back, the model is the same. */
static void test_write_read(void **state)
{
	struct script *s = load_fixture();

	(void)state;
	assert_true(assert_round_trip(s, gevoel_texts,
				      ARRAY_LEN(gevoel_texts)) > 0);
	script_free(s);
}

/* Every single-bit slip in a written model, anywhere: model_read turns
 * it down, or what it returns runs without reading outside its arrays
 * (the sanitizer and valgrind builds run this too). Most slips in
 * counts and indices must be turned down. */
static void test_read_damaged(void **state)
{
	struct script *s = load_fixture();
	struct model *orig = s->model;
	struct sbuf sb;
	struct match m;
	size_t refused = 0, head_refused = 0;
	char *copy;

	(void)state;
	sbuf_init(&sb);
	model_write(orig, &sb);
	copy = xmalloc(sb.len);
	match_init(&m);
	for (size_t i = 0; i < sb.len; i++)
		for (int bit = 0; bit < 8; bit += 7) {
			struct model *md;

			memcpy(copy, sb.buf, sb.len);
			copy[i] ^= (char)(1 << bit);
			md = model_read(s, copy, sb.len);
			if (!md) {
				refused++;
				head_refused += i < 8;
				continue;
			}
			s->model = md;
			run(&m, s, gevoel_texts[2]);
			run(&m, s, gevoel_texts[6]);
			s->model = orig;
			model_free(md);
		}
	/* the first field is the number of intents, which must be the
	 * script's: every slip in it is refused */
	assert_int_equal(head_refused, 16);
	assert_true(refused > 16);
	/* nothing at all, and a model for another script: refused */
	assert_null(model_read(s, sb.buf, 0));
	s->nintents++;
	assert_null(model_read(s, sb.buf, sb.len));
	s->nintents--;
	match_release(&m);
	free(copy);
	sbuf_release(&sb);
	script_free(s);
}

static void test_paraphrase_by_model(void **state)
{
	struct script *s = load_fixture();
	uint32_t g = intent(s, "vraagt-gevoel");
	struct match m;

	(void)state;
	match_init(&m);
	run(&m, s, "Hoe voelt u zich op dit moment?");
	assert_true(match_hit(&m, g));
	assert_int_equal(m.hit_how[g], MATCH_BY_MODEL);
	assert_true(m.conf[g] >= MODEL_FIRE);
	assert_true(model_info(s->model)->threshold == MODEL_FIRE);
	assert_true(m.conf[g] <= 1.0f);
	assert_int_equal(model_hit_clause(&m, g), 0);
	/* the span is the clause, for {woord} */
	assert_int_equal(m.span[g].start, 0);
	assert_int_equal(m.span[g].len, strlen("Hoe voelt u zich op dit "
					       "moment"));
	/* the pattern's own wording stays the pattern's */
	run(&m, s, "Hoe gaat het?");
	assert_int_equal(m.hit_how[g], MATCH_BY_PATTERN);
	assert_true(m.conf[g] == 1.0f);
	match_release(&m);
	script_free(s);
}

/* The candidates are ranked surest first; each hit is a candidate at
 * MODEL_FIRE or more, and a candidate under it is no hit. */
static void test_candidates(void **state)
{
	static const char *const texts[] = {
		"Hoe voelt u zich op dit moment?",
		"Hallo, hoe voelt u zich op dit moment?",
		"Hoe voelt u zich, en hoe gaat het met de kinderen?",
	};
	struct script *s = load_fixture();
	struct match m;
	size_t seen = 0;

	(void)state;
	match_init(&m);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		run(&m, s, texts[i]);
		seen += m.ncand;
		for (size_t k = 0; k < m.ncand; k++) {
			uint32_t c = m.cand[k].intent;

			assert_true(m.cand[k].raw >= 0.5f);
			assert_true(m.cand[k].conf > 0 && m.cand[k].conf < 1);
			if (k)
				assert_true(m.cand[k].raw <=
					    m.cand[k - 1].raw);
			if (m.cand[k].conf >= MODEL_FIRE) {
				assert_true(match_hit(&m, c));
				assert_int_equal(m.hit_how[c],
						 MATCH_BY_MODEL);
				assert_true(m.conf[c] == m.cand[k].conf);
			} else {
				assert_false(match_hit(&m, c));
			}
		}
		for (uint32_t c = 0; c < s->nintents; c++) {
			int found = 0;

			if (m.hit_how[c] != MATCH_BY_MODEL)
				continue;
			for (size_t k = 0; k < m.ncand; k++)
				found |= m.cand[k].intent == c;
			assert_true(found);
		}
	}
	assert_true(seen > 0);
	/* a pattern found beside it (groet, "Hallo") is context the
	 * confidence sees, and here lowers it */
	{
		uint32_t g = intent(s, "vraagt-gevoel");
		float alone, x[MODEL_CALIB_NFEAT];

		run(&m, s, "Hoe voelt u zich op dit moment?");
		assert_int_equal(m.cand_npat, 0);
		assert_int_equal(m.hit_how[g], MATCH_BY_MODEL);
		alone = m.conf[g];
		run(&m, s, "Hallo, hoe voelt u zich op dit moment?");
		assert_int_equal(m.cand_npat, 1);
		assert_int_equal(m.hit_how[g], MATCH_BY_MODEL);
		assert_true(m.conf[g] < alone);
		for (size_t k = 0; k < m.ncand; k++) {
			model_calib_features(&m, k, x);
			assert_true(x[2] == 1.0f);
		}
	}
	match_release(&m);
	script_free(s);
}

/* The fit finds the weights that made the data: samples drawn from a
 * known calibration come back to it. */
static void test_fit_calib(void **state)
{
	static const float truth[MODEL_CALIB_NFEAT] = {
		-0.5f, 0.8f, -0.4f, -0.6f, -0.2f, -0.5f, -0.7f
	};
	enum { N = 40000 };
	float *x = calloc((size_t)N * MODEL_CALIB_NFEAT, sizeof(float));
	uint8_t *y = calloc(N, 1);
	float w[MODEL_CALIB_NFEAT];
	uint64_t r = 88172645463325252ull;

	(void)state;
	assert_int_equal(model_fit_calib(x, y, 0, w), -1);
	for (size_t i = 0; i < N; i++) {
		float *xi = x + i * MODEL_CALIB_NFEAT, q;

#define NEXT() (r ^= r << 13, r ^= r >> 7, r ^= r << 17, \
		(float)(r >> 40) / (float)(1u << 24))
		xi[0] = 1;
		xi[1] = 6 * NEXT() - 2;
		xi[2] = NEXT() < 0.5f;
		xi[3] = xi[2] ? (float)(1 + (int)(NEXT() * 3)) / 3 : 0;
		q = NEXT();
		xi[4] = q < 0.3f;
		xi[5] = q >= 0.3f && q < 0.5f;
		xi[6] = (float)(1 + (int)(NEXT() * 5)) / 5;
		y[i] = NEXT() < model_calib_conf(truth, xi);
#undef NEXT
	}
	assert_int_equal(model_fit_calib(x, y, N, w), 0);
	for (size_t k = 0; k < MODEL_CALIB_NFEAT; k++)
		if (fabsf(w[k] - truth[k]) > 0.15f)
			fail_msg("weight %zu: %.3f, made with %.3f", k,
				 (double)w[k], (double)truth[k]);
	/* a feature that never varies from 0 stays 0 */
	for (size_t i = 0; i < N; i++)
		x[i * MODEL_CALIB_NFEAT + 5] = 0;
	assert_int_equal(model_fit_calib(x, y, N, w), 0);
	assert_true(fabsf(w[5]) < 1e-3f);
	free(x);
	free(y);
}

static void test_no_guess(void **state)
{
	static const char *const quiet[] = {
		/* a 'nee:' sentence of the intent vetoes it */
		"Ik voel me vandaag niet zo lekker.",
		"Waar is hier het station?",
		"ok",
		"",
	};
	struct script *s = load_fixture();
	struct match m;

	(void)state;
	match_init(&m);
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		run(&m, s, quiet[i]);
		for (uint32_t k = 0; k < s->nintents; k++)
			if (match_hit(&m, k))
				fail_msg("\"%s\" fired %s", quiet[i],
					 s->intents[k].name);
	}
	match_release(&m);
	script_free(s);
}

/* The meter regressions: turns with no intent but a labelled meter
 * direction teach the model which way a trainer expects the meters to
 * go; they speak only when no intent found gives a hint. */
static void test_meter_direct(void **state)
{
	struct script *s = load_fixture();
	int v = script_find_var(s, "vertrouwen");
	int sp = script_find_var(s, "spanning");
	struct match m;

	(void)state;
	assert_true(v >= 0 && sp >= 0);
	match_init(&m);
	run(&m, s, "U had toch echt beter moeten opletten thuis.");
	for (uint32_t k = 0; k < s->nintents; k++)
		assert_false(match_hit(&m, k));
	assert_int_equal(model_meter_hint(s->model, &m, (uint32_t)v), -1);
	assert_int_equal(model_meter_hint(s->model, &m, (uint32_t)sp), 1);
	/* small talk labelled '=' stays where it is */
	run(&m, s, "Mooi weer vandaag.");
	assert_int_equal(model_meter_hint(s->model, &m, (uint32_t)v), 0);
	assert_int_equal(model_meter_hint(s->model, &m, (uint32_t)sp), 0);
	/* another language: the model does not run, so no direction */
	run(&m, s, "You should have been more careful at home.");
	assert_int_equal(model_meter_hint(s->model, &m, (uint32_t)v), 0);
	match_release(&m);
	script_free(s);
}

/* 'vertrouwen +0' in the branch that answers holds the meter: no meter
 * hint moves it, where the same words without the greeting do. */
static void test_meter_held(void **state)
{
	static const char blame[] = "U had toch echt beter moeten opletten thuis.";
	static const char both[] =
		"Hallo. U had toch echt beter moeten opletten thuis.";
	struct script *s = load_fixture();
	int v = script_find_var(s, "vertrouwen");
	struct engine_out out;
	struct engine *e;
	struct match m;

	(void)state;
	assert_true(v >= 0);
	match_init(&m);
	engine_out_init(&out);
	e = engine_new(s, 1);
	engine_start(e, &out);
	assert_int_equal(engine_var(e, (size_t)v), 5);
	assert_int_equal(engine_turn(e, &m, blame, strlen(blame), &out), 0);
	assert_int_equal(engine_var(e, (size_t)v), 4);      /* the hint */
	assert_int_equal(engine_turn(e, &m, both, strlen(both), &out), 0);
	assert_true(match_hit(&m, intent(s, "groet")));
	assert_int_equal(engine_var(e, (size_t)v), 4);      /* held */
	engine_free(e);
	engine_out_release(&out);
	match_release(&m);
	script_free(s);
}

/* A sentence about the rehearsal itself (clause.h, offstage): the
 * model credits nothing in it, and a message that is nothing else
 * moves no meter; the same words in the rehearsal still do. */
static void test_offstage(void **state)
{
	struct script *s = load_fixture();
	uint32_t g = intent(s, "vraagt-gevoel");
	int v = script_find_var(s, "vertrouwen");
	struct match m;

	(void)state;
	assert_true(v >= 0);
	match_init(&m);
	run(&m, s, "Hoe voelt u zich op dit moment?");
	assert_true(match_hit(&m, g));
	run(&m, s, "Hoe voelt u zich op dit moment, vraagt het programma.");
	assert_false(match_hit(&m, g));
	assert_true(m.unheard);
	run(&m, s, "U had toch echt beter moeten opletten thuis.");
	assert_int_equal(model_meter_hint(s->model, &m, (uint32_t)v), -1);
	run(&m, s, "U had toch echt beter moeten opletten thuis, zegt de "
	    "chatbot.");
	assert_int_equal(model_meter_hint(s->model, &m, (uint32_t)v), 0);
	/* the rest of the message is heard */
	run(&m, s, "Sorry, ik zat in het programma. Hoe voelt u zich op dit "
	    "moment?");
	assert_true(match_hit(&m, g));
	assert_false(m.unheard);
	match_release(&m);
	script_free(s);
}

static void test_clause_and_explain(void **state)
{
	struct script *s = load_fixture();
	uint32_t g = intent(s, "vraagt-gevoel"), h = intent(s, "groet");
	struct match m;
	struct sbuf sb;

	(void)state;
	match_init(&m);
	sbuf_init(&sb);
	run(&m, s, "Hallo, hoe voel je je nu?");
	assert_int_equal(m.hit_how[h], MATCH_BY_PATTERN);
	assert_int_equal(model_hit_clause(&m, h), 0);
	assert_int_equal(m.hit_how[g], MATCH_BY_MODEL);
	assert_int_equal(model_hit_clause(&m, g), 1);
	model_explain(&m, &sb);
	if (!strstr(sb.buf, "groet (patroon)") ||
	    !strstr(sb.buf, "vraagt-gevoel (model 0,") ||
	    !strstr(sb.buf, ", zinsdeel 2: hoe voel je je nu)"))
		fail_msg("explained as: %s", sb.buf);
	sbuf_reset(&sb);
	run(&m, s, "Waar is hier het station?");
	model_explain(&m, &sb);
	assert_string_equal(sb.buf, "geen bedoeling herkend");
	sbuf_release(&sb);
	match_release(&m);
	script_free(s);
}

static void test_deterministic(void **state)
{
	struct script *a = load_fixture(), *b = load_fixture();
	const struct model_info *x = model_info(a->model);
	const struct model_info *y = model_info(b->model);
	struct match m;
	float ca, cb;

	(void)state;
	assert_memory_equal(x, y, sizeof(*x));
	match_init(&m);
	run(&m, a, "Hoe voel jij je vandaag?");
	ca = m.conf[intent(a, "vraagt-gevoel")];
	run(&m, b, "Hoe voel jij je vandaag?");
	cb = m.conf[intent(b, "vraagt-gevoel")];
	assert_memory_equal(&ca, &cb, sizeof(ca));
	match_release(&m);
	script_free(a);
	script_free(b);
}

/* Without a training split the examples alone teach nothing the
 * patterns do not already know: the model never fires. */
static void test_examples_only(void **state)
{
	static const char text[] =
		"scenario t\ntitel: T\npersona: p\ninleiding:\n> x\n"
		"var vertrouwen = 3 (0..10)\nvar spanning = 5 (0..10)\n"
		"bedoeling vraagt\n  patroon: hoe gaat het\n"
		"  ja: hoe gaat het\n  nee: hoe laat is het\n"
		"fase f\n  zeg\n  - Hoi.\n";
	struct script *s = NULL;
	struct match m;
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_int_equal(script_load_text("t.oef", text, strlen(text), &s,
					  &d), 0);
	diag_release(&d);
	assert_false(model_info(s->model)->fires);
	match_init(&m);
	run(&m, s, "hoe gaat het nou met je");
	assert_int_equal(m.hit_how[0], MATCH_BY_PATTERN);
	run(&m, s, "hoe gaat");
	assert_false(match_hit(&m, 0));
	match_release(&m);
	script_free(s);
}

static int has_diag(const struct diag *d, const char *want)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->msgs[i], want))
			return 1;
	print_message("want \"%s\", got:\n", want);
	for (size_t i = 0; i < d->n; i++)
		print_message("  %s\n", d->msgs[i]);
	return 0;
}

/* A directory of its own for a script t.oef and its corpus c.txt:
 * dir (a mkdtemp template) is made, path and corpus name the two. */
static void scratch_dir(char *dir, struct sbuf *path, struct sbuf *corpus)
{
	assert_non_null(mkdtemp(dir));
	sbuf_init(path);
	sbuf_init(corpus);
	sbuf_addf(path, "%s/t.oef", dir);
	sbuf_addf(corpus, "%s/c.txt", dir);
}

static void test_train_errors(void **state)
{
	static const char head[] =
		"scenario t\ntitel: T\npersona: p\ninleiding:\n> x\n"
		"var vertrouwen = 3 (0..10)\nvar spanning = 5 (0..10)\n"
		"bedoeling vraagt\n  patroon: hoe gaat het\n"
		"fase f\n  zeg\n  - Hoi.\n";
	char dir[] = "/tmp/oef-model-XXXXXX";
	struct sbuf text, path, corpus;
	struct script *s = NULL;
	struct diag d;
	FILE *f;

	(void)state;
	scratch_dir(dir, &path, &corpus);
	sbuf_init(&text);
	/* a missing file: named where the script names it */
	sbuf_addf(&text, "%sleervoorbeelden: nergens.txt\n", head);
	diag_init(&d);
	assert_int_equal(script_load_text(path.buf, text.buf, text.len, &s,
					  &d), -1);
	assert_null(s);
	assert_true(has_diag(&d, "t.oef:13:18: leervoorbeelden: '"));
	assert_true(has_diag(&d, "/nergens.txt' is niet te lezen"));
	diag_release(&d);
	/* an intent the script does not have: named in the corpus */
	f = fopen(corpus.buf, "w");
	assert_non_null(f);
	fputs("gesprek g1 vaardig\n> Hoe is het?\n  bedoelingen: vraagt "
	      "vraagt-gevoel\n  meters: vertrouwen +\n  rubriek: -\n", f);
	fclose(f);
	sbuf_reset(&text);
	sbuf_addf(&text, "%sleervoorbeelden: c.txt\n", head);
	diag_init(&d);
	assert_int_equal(script_load_text(path.buf, text.buf, text.len, &s,
					  &d), -1);
	assert_true(has_diag(&d, "c.txt:3:23: onbekende bedoeling "
			     "'vraagt-gevoel'"));
	diag_release(&d);
	/* twice */
	sbuf_reset(&text);
	sbuf_addf(&text, "%sleervoorbeelden: c.txt\nleervoorbeelden: c.txt\n",
		  head);
	diag_init(&d);
	assert_int_equal(script_load_text(path.buf, text.buf, text.len, &s,
					  &d), -1);
	assert_true(has_diag(&d, "t.oef:14:1: 'leervoorbeelden' staat er "
			     "al"));
	diag_release(&d);
	unlink(corpus.buf);
	rmdir(dir);
	sbuf_release(&text);
	sbuf_release(&path);
	sbuf_release(&corpus);
}

/* calib.h: a moment's quiet flag is kept per way it was earned. Here the
 * same point is right every time a pattern earns it and wrong every time
 * the model earns it: only the model's side goes quiet. (With one flag per
 * point and side, four right of twelve would silence both.) */
static void test_quiet_by_source(void **state)
{
	static const char script[] =
		"scenario t\ntitel: T\npersona: p\ninleiding:\n> x\n"
		"leervoorbeelden: c.txt\n"
		"var vertrouwen = 3 (0..10)\nvar spanning = 5 (0..10)\n"
		"punt vertrouwen: Oprechte belangstelling\n"
		"bedoeling vraagt-gevoel\n  patroon: hoe gaat het\n"
		"  ja: Hoe gaat het?\n"
		"fase f\n  zeg\n  - Hoi.\n"
		"  als vraagt-gevoel\n    punt vertrouwen getoond\n"
		"    zeg\n    - Gaat wel.\n";
	static const char *const by_pattern[] = {
		"Hoe gaat het?", "Hoe gaat het nu?", "En hoe gaat het?",
		"Hoe gaat het vandaag?",
	};
	static const char *const other[] = {
		"Mooi weer vandaag.", "Waar woont u precies?",
		"Hoe laat is het eigenlijk?", "Ik heb de brief bij me.",
	};
	static const char *const by_model[] = {
		"Hoe voelt u zich?", "Hoe voel je je nu?",
		"Voelt u zich goed?", "Hoe voelt u zich vandaag?",
	};
	char dir[] = "/tmp/oef-model-XXXXXX";
	struct sbuf path, cpath;
	struct script *s = NULL;
	struct corpus c;
	struct diag d;
	uint32_t pt;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sbuf_init(&path);
	sbuf_init(&cpath);
	sbuf_addf(&path, "%s/t.oef", dir);
	sbuf_addf(&cpath, "%s/c.txt", dir);
	f = fopen(cpath.buf, "w");
	assert_non_null(f);
	/* one turn a conversation: the phase stays, the point is earned on
	 * every turn; the labels credit the pattern's wording only. Each
	 * model wording four times and each other sentence sixteen: enough
	 * for the model to be sure of the model wordings (0.92 to 0.95), as
	 * a rubric moment by the model needs RUBRIC_MODEL_CONF (0.9) */
	for (size_t i = 0; i < 4; i++) {
		fprintf(f, "gesprek p%zu vaardig\n> %s\n  bedoelingen: "
			"vraagt-gevoel\n  meters: vertrouwen ?\n  rubriek: "
			"+vertrouwen\n", i, by_pattern[i]);
		for (int k = 0; k < 4; k++)
			fprintf(f, "gesprek m%zu-%d vaardig\n> %s\n  "
				"bedoelingen: vraagt-gevoel\n  meters: "
				"vertrouwen ?\n  rubriek: -\n", i, k,
				by_model[i]);
		for (int k = 0; k < 16; k++)
			fprintf(f, "gesprek a%zu-%d anders\n> %s\n  "
				"bedoelingen: -\n  meters: vertrouwen ?\n  "
				"rubriek: -\n", i, k, other[i]);
	}
	fclose(f);
	diag_init(&d);
	assert_int_equal(script_load_text(path.buf, script, strlen(script),
					  &s, &d), 0);
	diag_release(&d);
	assert_non_null(s->model);
	pt = 0;
	assert_string_equal(s->points[pt].id, "vertrouwen");
	memset(&c, 0, sizeof(c));
	diag_init(&d);
	assert_int_equal(corpus_load(&c, cpath.buf, &d), 0);
	assert_int_equal(corpus_resolve(&c, s, &d), 0);
	diag_release(&d);
	calib_points(s, &c);
	assert_non_null(s->quiet);
	/* every model wording (four times each) was found by the model,
	 * sure enough to earn a moment (RUBRIC_MODEL_CONF) */
	assert_int_equal(s->quiet_seen[calib_key(pt, 1, 1)], 16);
	assert_int_equal(s->quiet_right[calib_key(pt, 1, 1)], 0);
	assert_int_equal(s->quiet_seen[calib_key(pt, 1, 0)], 4);
	assert_int_equal(s->quiet_right[calib_key(pt, 1, 0)], 4);
	assert_true(s->quiet[calib_key(pt, 1, 1)]);
	assert_false(s->quiet[calib_key(pt, 1, 0)]);
	corpus_release(&c);
	script_free(s);
	unlink(cpath.buf);
	rmdir(dir);
	sbuf_release(&path);
	sbuf_release(&cpath);
}

/* A scenario of ni intents, each with a word of its own and a weight
 * or two a row: with more columns than one byte can name (300 intents)
 * the weights keep their columns in two bytes, and an intent past
 * column 255 is found by the model from its own word, not credited to
 * the intent 256 columns lower; with fewer (200), in a byte, and each
 * is found at its own column, not a neighbour's. */
static void many_columns(int ni)
{
	static const char head[] =
		"scenario t\ntitel: T\npersona: p\ninleiding:\n> x\n"
		"var vertrouwen = 3 (0..10)\nvar spanning = 5 (0..10)\n"
		"leervoorbeelden: c.txt\n";
	char dir[] = "/tmp/oef-model-XXXXXX";
	struct sbuf text, path, corpus, msg;
	struct script *s = NULL;
	struct match m;
	struct diag d;
	size_t checked = 0;
	FILE *f;

	scratch_dir(dir, &path, &corpus);
	sbuf_init(&text);
	sbuf_init(&msg);
	f = fopen(corpus.buf, "w");
	assert_non_null(f);
	sbuf_adds(&text, head);
	for (int k = 0; k < ni; k++) {
		/* a word of its own per intent: q, three letters, x */
		char w[8];

		xsnprintf(w, sizeof(w), "q%c%c%cx", 'a' + k / 676,
			  'a' + k / 26 % 26, 'a' + k % 26);
		sbuf_addf(&text, "bedoeling b%d\n  patroon: zz%d\n", k, k);
		fprintf(f, "gesprek g%d vaardig\n", k);
		for (int t = 0; t < 2; t++)
			fprintf(f, "> Ik wil %s %s bespreken.\n"
				"  bedoelingen: b%d\n"
				"  meters: vertrouwen +\n  rubriek: -\n",
				t ? "nu" : "graag", w, k);
	}
	fclose(f);
	sbuf_adds(&text, "fase f\n  zeg\n  - Hoi.\n");
	diag_init(&d);
	if (script_load_text(path.buf, text.buf, text.len, &s, &d) < 0)
		for (size_t i = 0; i < d.n; i++)
			print_message("%s\n", d.msgs[i]);
	diag_release(&d);
	assert_non_null(s);
	assert_true(s->nintents >= (size_t)ni);   /* and the built-in ones */
	assert_true(model_info(s->model)->fires);
	/* a table of several blocks of 64 slots */
	table_rows_in_order(s->model, 600);
	/* a weight or two a row: a byte a weight up to 255 learned
	 * columns, two bytes past them */
	assert_int_equal(model_col_bytes(s->model), ni > 255 ? 2 : 1);
	match_init(&m);
	for (uint32_t want = ni > 255 ? 256 : 1; want < s->nintents;
	     want += 5) {
		const char *name = s->intents[want].name;
		char w[8];
		long k;

		if (name[0] != 'b')
			continue;   /* a built-in one */
		assert_int_equal(parse_long(name + 1, 0, ni - 1, &k), 0);
		xsnprintf(w, sizeof(w), "q%c%c%cx", 'a' + (int)k / 676,
			  'a' + (int)k / 26 % 26, 'a' + (int)k % 26);
		sbuf_reset(&msg);
		sbuf_addf(&msg, "Kunnen we %s bespreken?", w);
		run(&m, s, msg.buf);
		assert_true(match_hit(&m, want));
		assert_int_equal(m.hit_how[want], MATCH_BY_MODEL);
		if (want >= 256)
			assert_false(match_hit(&m, want - 256));
		if (s->intents[want - 1].name[0] == 'b')
			assert_false(match_hit(&m, want - 1));
		if (want + 1 < s->nintents &&
		    s->intents[want + 1].name[0] == 'b')
			assert_false(match_hit(&m, want + 1));
		checked++;
	}
	assert_true(checked >= 5);
	match_release(&m);
	{
		static const char *const t[] = {
			"Kunnen we qaabx bespreken?", "Ik wil graag qakzx",
			"Kunnen we qajlx en qaaax nu bespreken?", "zz3",
		};

		/* a byte a column (200), or two (300) */
		assert_round_trip(s, t, ARRAY_LEN(t));
	}
	script_free(s);
	unlink(corpus.buf);
	rmdir(dir);
	sbuf_release(&text);
	sbuf_release(&path);
	sbuf_release(&corpus);
	sbuf_release(&msg);
}

/* Three intents whose training turns share their words: most rows
 * hold a weight in every learned column, so a bit per column is the
 * smallest (w_bits), and the model still tells them apart. */
static void test_dense_rows(void **state)
{
	static const char head[] =
		"scenario t\ntitel: T\npersona: p\ninleiding:\n> x\n"
		"var vertrouwen = 3 (0..10)\nvar spanning = 5 (0..10)\n"
		"leervoorbeelden: c.txt\n"
		"bedoeling b0\n  patroon: zz0\n"
		"bedoeling b1\n  patroon: zz1\n"
		"bedoeling b2\n  patroon: zz2\n"
		"fase f\n  zeg\n  - Hoi.\n";
	static const char *const words[] = { "appel", "banaan", "citroen" };
	char dir[] = "/tmp/oef-model-XXXXXX";
	struct sbuf path, corpus;
	struct script *s = NULL;
	const struct model_info *mi;
	struct match m;
	struct diag d;
	FILE *f;

	(void)state;
	scratch_dir(dir, &path, &corpus);
	f = fopen(corpus.buf, "w");
	assert_non_null(f);
	/* intent k: its own fruit with each other fruit, and all three
	 * together with "niet" before the other two */
	for (int k = 0; k < 3; k++) {
		fprintf(f, "gesprek g%d vaardig\n", k);
		for (int o = 0; o < 3; o++) {
			if (o == k)
				continue;
			for (int t = 0; t < 3; t++)
				fprintf(f, "> %s %s %s\n  bedoelingen: b%d\n"
					"  meters: vertrouwen +\n"
					"  rubriek: -\n",
					t == 1 ? "graag" : "vooral",
					words[k], t == 2 ? "nu" : words[o], k);
		}
	}
	fclose(f);
	f = fopen(path.buf, "w");
	assert_non_null(f);
	fputs(head, f);
	fclose(f);
	diag_init(&d);
	if (script_load(path.buf, &s, &d) < 0)
		for (size_t i = 0; i < d.n; i++)
			print_message("%s\n", d.msgs[i]);
	diag_release(&d);
	assert_non_null(s);
	mi = model_info(s->model);
	assert_true(mi->fires);
	assert_true(mi->nweights > mi->nfeatures);
	assert_int_equal(model_col_bytes(s->model), 0);
	table_rows_in_order(s->model, 3);
	match_init(&m);
	for (int k = 0; k < 3; k++) {
		char msg[64];

		xsnprintf(msg, sizeof(msg), "Vooral %s graag", words[k]);
		run(&m, s, msg);
		for (int j = 0; j < 3; j++)
			assert_int_equal(match_hit(&m, intent(s, j == 0 ?
				"b0" : j == 1 ? "b1" : "b2")), j == k);
	}
	match_release(&m);
	{
		static const char *const t[] = {
			"Vooral appel graag", "banaan nu", "citroen appel",
			"niet banaan maar citroen", "graag",
		};

		assert_round_trip(s, t, ARRAY_LEN(t));
	}
	script_free(s);
	unlink(corpus.buf);
	unlink(path.buf);
	rmdir(dir);
	sbuf_release(&path);
	sbuf_release(&corpus);
}

static void test_wide_columns(void **state)
{
	(void)state;
	many_columns(300);
}

static void test_byte_columns(void **state)
{
	(void)state;
	many_columns(200);
}

/* Where a moment goes quiet: seen CALIB_MIN_SEEN times or more and
 * right less than 0.8 of them by a pattern, 0.9 by the model. */
static void test_calib_quiet_bounds(void **state)
{
	(void)state;
	/* too few to judge, even when always wrong */
	assert_false(calib_quiet(CALIB_MIN_SEEN - 1, 0, 0));
	assert_false(calib_quiet(CALIB_MIN_SEEN - 1, 0, 1));
	assert_true(calib_quiet(CALIB_MIN_SEEN, 0, 0));
	/* 16 of 20 is 0.8: recorded; 15 of 20 (0.75: recorded under 0.7)
	 * quiet */
	assert_false(calib_quiet(20, 16, 0));
	assert_true(calib_quiet(20, 15, 0));
	assert_true(calib_quiet(5, 3, 0));
	assert_false(calib_quiet(5, 4, 0));
	/* the model's side: 18 of 20 recorded, 17 of 20 quiet */
	assert_false(calib_quiet(20, 18, 1));
	assert_true(calib_quiet(20, 17, 1));
	assert_false(calib_quiet(20, 20, 1));
}

/* Training does not depend on where a text stands: the fixture's
 * training conversations in reverse order give the very same model. (A
 * shuffle of positions made one sentence more or less reorder every
 * text, and the figures moved as much as a real change moved them.) */
static void slurp(const char *path, struct sbuf *sb)
{
	struct err err = { "" };
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(read_file(path, 1 << 20, &buf, &len, &err), 0);
	sbuf_add(sb, buf, len);
	free(buf);
}

/* Write sb to dir/sub/name (making dir/sub); *path gets its path. */
static void put_file(const char *dir, const char *sub, const char *name,
		     const struct sbuf *sb, struct sbuf *path)
{
	FILE *f;

	sbuf_reset(path);
	sbuf_addf(path, "%s/%s", dir, sub);
	assert_int_equal(mkdir(path->buf, 0700), 0);
	sbuf_addf(path, "/%s", name);
	f = fopen(path->buf, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(sb->buf, 1, sb->len, f), sb->len);
	assert_int_equal(fclose(f), 0);
}

static void test_order_free(void **state)
{
	static const char *const probes[] = {
		"Hoe voelt u zich op dit moment?", "Voel je je wel goed?",
		"Waar is hier het station?", "Hoe gaat het met de kinderen?",
		"Ik voel me vandaag niet zo lekker.",
	};
	const char *root = getenv("OEF_ROOT");
	char dir[] = "/tmp/oef-order-XXXXXX";
	struct sbuf src, path, text, rev;
	struct script *a = load_fixture(), *b = NULL;
	struct match ma, mb;
	struct diag d;
	const char *p, *conv[16];
	size_t nconv = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sbuf_init(&src);
	sbuf_init(&path);
	sbuf_init(&text);
	sbuf_init(&rev);
	/* the corpus, its conversations last to first */
	sbuf_addf(&src, "%s/tests/data/model/corpus/gevoel.txt",
		  root && *root ? root : ".");
	slurp(src.buf, &text);
	for (p = strstr(text.buf, "gesprek "); p && nconv < 16;
	     p = strstr(p + 1, "\ngesprek "))
		conv[nconv++] = *p == '\n' ? p + 1 : p;
	assert_true(nconv >= 3);
	for (size_t i = nconv; i-- > 0;) {
		const char *end = i + 1 < nconv ? conv[i + 1] :
				  text.buf + text.len;

		sbuf_add(&rev, conv[i], (size_t)(end - conv[i]));
		if (rev.buf[rev.len - 1] != '\n')
			sbuf_addc(&rev, '\n');
	}
	put_file(dir, "corpus", "gevoel.txt", &rev, &path);
	/* the script beside it, as in the fixture */
	sbuf_reset(&src);
	sbuf_addf(&src, "%s/tests/data/model/scripts/gevoel.oef",
		  root && *root ? root : ".");
	sbuf_reset(&text);
	slurp(src.buf, &text);
	put_file(dir, "scripts", "gevoel.oef", &text, &path);
	diag_init(&d);
	assert_int_equal(script_load(path.buf, &b, &d), 0);
	diag_release(&d);
	match_init(&ma);
	match_init(&mb);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		run(&ma, a, probes[i]);
		run(&mb, b, probes[i]);
		for (size_t k = 0; k < a->nintents; k++) {
			assert_int_equal(ma.hit[k], mb.hit[k]);
			assert_true(ma.conf[k] == mb.conf[k]);
		}
	}
	match_release(&ma);
	match_release(&mb);
	script_free(a);
	script_free(b);
	unlink(path.buf);
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/corpus/gevoel.txt", dir);
	unlink(path.buf);
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/corpus", dir);
	rmdir(path.buf);
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/scripts", dir);
	rmdir(path.buf);
	rmdir(dir);
	sbuf_release(&src);
	sbuf_release(&path);
	sbuf_release(&text);
	sbuf_release(&rev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learns_from_the_split),
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_read_damaged),
		cmocka_unit_test(test_paraphrase_by_model),
		cmocka_unit_test(test_no_guess),
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_fit_calib),
		cmocka_unit_test(test_meter_direct),
		cmocka_unit_test(test_meter_held),
		cmocka_unit_test(test_offstage),
		cmocka_unit_test(test_calib_quiet_bounds),
		cmocka_unit_test(test_order_free),
		cmocka_unit_test(test_clause_and_explain),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_examples_only),
		cmocka_unit_test(test_train_errors),
		cmocka_unit_test(test_quiet_by_source),
		cmocka_unit_test(test_dense_rows),
		cmocka_unit_test(test_wide_columns),
		cmocka_unit_test(test_byte_columns),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
