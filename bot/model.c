/* model.c - see model.h.
 *
 * Nearest neighbours, not a trained classifier: with a few hundred
 * labelled texts per scenario, an inverted index over them is built in
 * one pass, leave-one-out is exact (the text itself is skipped), and a
 * message costs the postings of its rarer features. Every sum runs in a
 * fixed order, so the result does not depend on the machine or timing.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "match.h"
#include "script.h"

#define STEM_LEN 5            /* letters of the crude stem feature */
#define MIN_THRESHOLD 0.5f    /* never guess below this confidence */
#define NBINS 400             /* score histogram for calibration */
#define BIN_LO (-2.0)
#define BIN_W 0.01
#ifndef MODEL_MAX_DF
#define MODEL_MAX_DF 0.15     /* features in more texts carry no weight */
#endif
#define MODEL_MIN_DF_CUT 30   /* ...and in more than this many texts */
/* 1: score the whole message besides each clause. On the training split
 * that was no better (leave-one-out F1 within 0.005) and cost a scoring
 * pass per message, so clauses only. */
#ifndef MODEL_WHOLE
#define MODEL_WHOLE 0
#endif
#ifndef MODEL_MARGIN
#define MODEL_MARGIN 1.0f     /* weight of "the nearest text has it" */
#endif

struct model {
	size_t nintents;
	size_t nfeat;
	size_t nsamples;
	struct slot {             /* open addressing, one cache access */
		uint32_t tag;     /* high half of the key | 1; 0 empty */
		uint32_t row;     /* feature row */
	} *slots;
	size_t cap;
	float *idf;               /* per row */
	uint32_t *post_off;       /* per row: postings post_off[r..r+1) */
	uint32_t *post_sample;
	float *post_w;            /* idf / |sample vector| */
	uint32_t *lab_off;        /* per sample: its intents lab[..) */
	uint32_t *lab;            /* NEG_BIT set: the sample is a 'nee:'
				   * of that intent */
	float threshold_score;    /* score from which the model fires */
	float platt_a, platt_b;   /* confidence = 1/(1+exp(-(a*s+b))) */
	struct model_info info;
};
/* ------------------------------------------------------------ features */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

#define NEG_BIT 0x80000000u
#define NEG_KEY 0x6e65676174696f6eull

static uint64_t fkey(char kind, const char *a, size_t la, const char *b,
		     size_t lb)
{
	uint64_t h = fnv(14695981039346656037ull, &kind, 1);

	h = fnv(h, a, la);
	if (b) {
		h = fnv(h, " ", 1);
		h = fnv(h, b, lb);
	}
	return h ? h : 1;
}

/* Calls emit(key, clause, ctx) for every feature of the normalised
 * message of m, by clause (clause.h): each word, its first STEM_LEN letters, each pair of
 * neighbouring words in one clause, and NEG_KEY for a negation word (a
 * frequent feature that is never pruned: "ik geloof je niet" must not
 * look like "ik geloof je"). */
typedef void (*emit_fn)(uint64_t key, uint32_t clause, void *ctx);

static void features(const struct match *m, emit_fn emit, void *ctx)
{
	const struct norm *n = &m->norm;

	for (size_t k = 0; k < n->ntok; k++) {
		const struct norm_token *t = &n->tok[k];
		uint32_t cl = m->nclause ? m->tok_clause[k] : 0;

		emit(fkey('w', t->word, t->len, NULL, 0), cl, ctx);
		if (norm_is_negation(t->word))
			emit(NEG_KEY, cl, ctx);
		if (t->len > STEM_LEN)
			emit(fkey('p', t->word, STEM_LEN, NULL, 0), cl, ctx);
		if (k + 1 < n->ntok && m->nclause &&
		    m->tok_clause[k + 1] == cl)
			emit(fkey('b', t->word, t->len, n->tok[k + 1].word,
				  n->tok[k + 1].len), cl, ctx);
	}
}

static uint32_t tag_of(uint64_t key)
{
	return (uint32_t)(key >> 32) | 1u;
}

static size_t slot_of(const struct model *md, uint64_t key)
{
	size_t mask = md->cap - 1;
	size_t i = (size_t)key & mask;
	uint32_t tag = tag_of(key);

	while (md->slots[i].tag && md->slots[i].tag != tag)
		i = (i + 1) & mask;
	return i;
}

/* Row of key, or -1. (Two features whose keys share the probe start and
 * the high 32 bits are one feature: with a few thousand features that
 * does not happen in practice, and it would be deterministic if it did.) */
static long row_of(const struct model *md, uint64_t key)
{
	size_t i = slot_of(md, key);

	return md->slots[i].tag ? (long)md->slots[i].row : -1;
}

/* ------------------------------------------------------------ training */

struct sample {
	const char *text;
	uint8_t *pos;          /* per intent: contains it */
	uint8_t *pat;          /* per intent: the patterns find it */
	uint32_t *feat;        /* distinct feature rows (whole text) */
	uint32_t *fclause;     /* clause of the first occurrence */
	size_t nfeat;
	uint32_t *cfeat;       /* (clause, row) pairs, rows distinct per
				* clause, clauses in order */
	uint32_t *crow;
	size_t ncfeat;
	int corpus;
	long not_intent;       /* a 'nee:' of this intent, or -1 */
};

struct trainer {
	struct model *md;
	const struct script *s;
	struct sample *sm;
	size_t nsm, sm_cap;
	size_t grow_cap;         /* key table capacity while collecting */
	/* collecting one text */
	uint32_t *tmp_row, *tmp_cl;
	size_t ntmp, tmp_cap;
	uint64_t *tkeys;         /* feature keys while collecting */
	uint32_t *trows;
	size_t tcap;
	int examples_calibrate;  /* no corpus: calibrate on the examples */
};

/* While collecting: full 64-bit keys in the trainer's own table. */
static size_t tslot(const struct trainer *tr, uint64_t key)
{
	size_t mask = tr->tcap - 1;
	size_t i = (size_t)key & mask;

	while (tr->tkeys[i] && tr->tkeys[i] != key)
		i = (i + 1) & mask;
	return i;
}

static void tgrow(struct trainer *tr)
{
	size_t ncap = tr->tcap ? tr->tcap * 2 : 4096, ocap = tr->tcap;
	uint64_t *ok = tr->tkeys;
	uint32_t *orow = tr->trows;

	tr->tkeys = xcalloc(ncap, sizeof(uint64_t));
	tr->trows = xcalloc(ncap, sizeof(uint32_t));
	tr->tcap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (ok[i]) {
			size_t j = tslot(tr, ok[i]);

			tr->tkeys[j] = ok[i];
			tr->trows[j] = orow[i];
		}
	free(ok);
	free(orow);
}

/* The model's table: tag and row side by side, at most half full. */
static void finish_table(struct model *md, const struct trainer *tr)
{
	md->cap = 16;
	while (md->cap < 2 * md->nfeat + 2)
		md->cap *= 2;
	md->slots = xcalloc(md->cap, sizeof(*md->slots));
	for (size_t i = 0; i < tr->tcap; i++) {
		size_t j;

		if (!tr->tkeys[i])
			continue;
		j = slot_of(md, tr->tkeys[i]);
		md->slots[j].tag = tag_of(tr->tkeys[i]);
		md->slots[j].row = tr->trows[i];
	}
}

static void collect(uint64_t key, uint32_t clause, void *ctx)
{
	struct trainer *tr = ctx;
	struct model *md = tr->md;
	size_t i;

	if ((md->nfeat + 1) * 2 > tr->tcap)
		tgrow(tr);
	i = tslot(tr, key);
	if (!tr->tkeys[i]) {
		tr->tkeys[i] = key;
		tr->trows[i] = (uint32_t)md->nfeat++;
	}
	if (tr->ntmp + 1 > tr->tmp_cap) {
		tr->tmp_cap = tr->tmp_cap ? tr->tmp_cap * 2 : 256;
		tr->tmp_row = xrealloc(tr->tmp_row, tr->tmp_cap *
				       sizeof(uint32_t));
		tr->tmp_cl = xrealloc(tr->tmp_cl, tr->tmp_cap *
				      sizeof(uint32_t));
	}
	tr->tmp_row[tr->ntmp] = tr->trows[i];
	tr->tmp_cl[tr->ntmp] = clause;
	tr->ntmp++;
}

/* A corpus turn goes through the whole matcher (calibration needs what
 * the patterns find, features need its clauses); an example sentence,
 * one short sentence whose intent is known, only through the normaliser,
 * as one clause: that halves the time training takes. Without a corpus
 * the examples are what calibration scores, so they get the matcher. */
static void add_sample(struct trainer *tr, struct match *m, const char *text,
		       int corpus)
{
	const struct script *s = tr->s;
	struct sample *sm;
	size_t ni = s->nintents;

	if (corpus || tr->examples_calibrate) {
		match_run(m, s, text, strlen(text));
	} else {
		norm_run(&m->norm, text, strlen(text));
		m->nclause = 0;
	}
	tr->ntmp = 0;
	features(m, collect, tr);
	XGROW(tr->sm, tr->sm_cap, tr->nsm + 1);
	sm = &tr->sm[tr->nsm++];
	memset(sm, 0, sizeof(*sm));
	sm->text = text;
	sm->corpus = corpus;
	sm->not_intent = -1;
	sm->pos = xcalloc(ni + 1, 1);
	sm->pat = xcalloc(ni + 1, 1);
	for (size_t i = 0; (corpus || tr->examples_calibrate) && i < ni; i++)
		sm->pat[i] = (uint8_t)match_hit(m, (uint32_t)i);
	/* per clause, distinct rows (emitted in clause order) */
	sm->cfeat = xcalloc(tr->ntmp + 1, sizeof(uint32_t));
	sm->crow = xcalloc(tr->ntmp + 1, sizeof(uint32_t));
	sm->feat = xcalloc(tr->ntmp + 1, sizeof(uint32_t));
	sm->fclause = xcalloc(tr->ntmp + 1, sizeof(uint32_t));
	for (size_t k = 0; k < tr->ntmp; k++) {
		int dup = 0;

		for (size_t q = sm->ncfeat; q > 0 &&
		     sm->cfeat[q - 1] == tr->tmp_cl[k]; q--)
			if (sm->crow[q - 1] == tr->tmp_row[k])
				dup = 1;
		if (!dup) {
			sm->cfeat[sm->ncfeat] = tr->tmp_cl[k];
			sm->crow[sm->ncfeat++] = tr->tmp_row[k];
		}
		dup = 0;
		for (size_t q = 0; q < sm->nfeat; q++)
			if (sm->feat[q] == tr->tmp_row[k])
				dup = 1;
		if (!dup) {
			sm->fclause[sm->nfeat] = tr->tmp_cl[k];
			sm->feat[sm->nfeat++] = tr->tmp_row[k];
		}
	}
}

static void sample_release(struct sample *sm)
{
	free(sm->pos);
	free(sm->pat);
	free(sm->feat);
	free(sm->fclause);
	free(sm->cfeat);
	free(sm->crow);
}

/* Scratch for scoring: a dot product per training text, the texts
 * touched, and per intent the best similarity of a text that has it. */
struct scratch {
	float *dot;               /* nsamples, all 0 between calls */
	uint32_t *touched;
	float *pos, *neg;         /* nintents each */
};

/* Scores of every intent for the distinct rows[0..n) (one clause or a
 * whole message), leaving sample `skip` out (-1: none): the cosine of
 * the nearest text that has the intent, plus MODEL_MARGIN times how far
 * that is from the nearest text of all (0 when the nearest has it).
 * An intent with a 'nee:' sentence at least as close scores -1.
 * That score is never above the cosine, so texts closer than floor are
 * all that can lift an intent to floor or beyond: the others are skipped
 * (their intents then score -1). */
static void knn(const struct model *md, const uint32_t *rows, size_t n,
		long skip, float floor, struct scratch *sc, float *out)
{
	size_t ni = md->nintents, nt = 0;
	float qn = 0, nearest = 0;

	for (size_t c = 0; c < ni; c++)
		sc->pos[c] = sc->neg[c] = 0;
	for (size_t k = 0; k < n; k++)
		qn += md->idf[rows[k]] * md->idf[rows[k]];
	if (qn <= 0) {
		for (size_t c = 0; c < ni; c++)
			out[c] = -1;
		return;
	}
	qn = 1.0f / sqrtf(qn);
	for (size_t k = 0; k < n; k++) {
		uint32_t r = rows[k];
		float q = md->idf[r] * qn;

		if (q == 0)
			continue;
		for (uint32_t p = md->post_off[r]; p < md->post_off[r + 1];
		     p++) {
			uint32_t x = md->post_sample[p];

			if (sc->dot[x] == 0)
				sc->touched[nt++] = x;
			sc->dot[x] += q * md->post_w[p];
		}
	}
	for (size_t t = 0; t < nt; t++) {
		uint32_t x = sc->touched[t];
		float d = sc->dot[x];

		sc->dot[x] = 0;
		if ((long)x == skip)
			continue;
		if (d > nearest)
			nearest = d;
		if (d < floor)
			continue;
		for (uint32_t l = md->lab_off[x]; l < md->lab_off[x + 1];
		     l++) {
			uint32_t c = md->lab[l] & ~NEG_BIT;
			float *v = md->lab[l] & NEG_BIT ? sc->neg : sc->pos;

			if (d > v[c])
				v[c] = d;
		}
	}
	/* a 'nee:' sentence of the intent at least as close: no */
	for (size_t c = 0; c < ni; c++)
		out[c] = sc->pos[c] > 0 && sc->neg[c] < sc->pos[c] ?
			 sc->pos[c] + MODEL_MARGIN * (sc->pos[c] - nearest) :
			 -1;
}

static int bin_of(double s)
{
	long b = lround(floor((s - BIN_LO) / BIN_W));

	if (b < 0)
		b = 0;
	if (b >= NBINS)
		b = NBINS - 1;
	return (int)b;
}

static double bin_mid(int b)
{
	return BIN_LO + ((double)b + 0.5) * BIN_W;
}

/* Fit p = 1/(1+exp(-(a*s+b))) to the binned (score, label) counts by
 * Newton's method on the log-likelihood (a fixed number of steps). */
static void platt(const double *pos, const double *neg, float *a, float *b)
{
	double A = 1.0, B = 0.0;

	for (int it = 0; it < 50; it++) {
		double ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
		double det, da, db;

		for (int k = 0; k < NBINS; k++) {
			double n = pos[k] + neg[k], s = bin_mid(k), p, w;

			if (n == 0)
				continue;
			p = 1.0 / (1.0 + exp(-(A * s + B)));
			ga += (pos[k] - n * p) * s;
			gb += pos[k] - n * p;
			w = n * p * (1 - p);
			haa += w * s * s;
			hab += w * s;
			hbb += w;
		}
		det = haa * hbb - hab * hab;
		if (det <= 1e-12)
			break;
		da = (hbb * ga - hab * gb) / det;
		db = (haa * gb - hab * ga) / det;
		A += da;
		B += db;
		if (fabs(da) < 1e-7 && fabs(db) < 1e-7)
			break;
	}
	*a = (float)A;
	*b = (float)B;
}

static double f1_of(double tp, double fp, double fn)
{
	return tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0;
}

static float confidence(const struct model *md, float score)
{
	return 1.0f / (1.0f + expf(-(md->platt_a * score + md->platt_b)));
}

/* Best score per intent over the whole text and each of its clauses. */
static void score_sample(const struct model *md, const struct sample *x,
			 long skip, struct scratch *sc, float *best,
			 float *tmp)
{
	size_t ni = md->nintents, k = 0;

	if (MODEL_WHOLE || !x->ncfeat)
		knn(md, x->feat, x->nfeat, skip, -1, sc, best);
	else
		for (size_t c = 0; c < ni; c++)
			best[c] = -1;
	while (k < x->ncfeat) {
		size_t e = k;

		while (e < x->ncfeat && x->cfeat[e] == x->cfeat[k])
			e++;
		if (e - k < x->nfeat || !MODEL_WHOLE) {
			knn(md, x->crow + k, e - k, skip, -1, sc, tmp);
			for (size_t c = 0; c < ni; c++)
				if (tmp[c] > best[c])
					best[c] = tmp[c];
		}
		k = e;
	}
}

/* Leave-one-out scores of the corpus texts (of every text when there is
 * no corpus) into two histograms, then the sigmoid and the threshold
 * with the best F1 of patterns and model together. */
static void calibrate(struct model *md, const struct sample *sm, size_t nsm)
{
	size_t ni = md->nintents;
	double *pos = xcalloc(NBINS, sizeof(double));
	double *neg = xcalloc(NBINS, sizeof(double));
	float *best = xcalloc(ni + 1, sizeof(float));
	float *tmp = xcalloc(ni + 1, sizeof(float));
	struct scratch sc;
	double ptp = 0, pfp = 0, pfn = 0, bestf = -1;
	int bestb = NBINS - 1;

	sc.dot = xcalloc(nsm + 1, sizeof(float));
	sc.touched = xcalloc(nsm + 1, sizeof(uint32_t));
	sc.pos = xcalloc(ni + 1, sizeof(float));
	sc.neg = xcalloc(ni + 1, sizeof(float));
	for (size_t i = 0; i < nsm; i++) {
		const struct sample *x = &sm[i];

		if (md->info.ncorpus && !x->corpus)
			continue;
		score_sample(md, x, (long)i, &sc, best, tmp);
		for (size_t c = 0; c < ni; c++) {
			if (x->pat[c]) {
				ptp += x->pos[c];
				pfp += !x->pos[c];
				continue;
			}
			if (x->pos[c])
				pos[bin_of(best[c])]++;
			else
				neg[bin_of(best[c])]++;
			pfn += x->pos[c];
		}
	}
	platt(pos, neg, &md->platt_a, &md->platt_b);
	md->info.loo_f1_pat = (float)f1_of(ptp, pfp, pfn);
	{
		double tp = 0, fp = 0;

		for (int b = NBINS - 1; b >= 0; b--) {
			double f;

			tp += pos[b];
			fp += neg[b];
			if (confidence(md, (float)(BIN_LO + b * BIN_W)) <
			    MIN_THRESHOLD)
				break;
			f = f1_of(ptp + tp, pfp + fp, pfn - tp);
			if (f > bestf) {
				bestf = f;
				bestb = b;
			}
		}
	}
	md->threshold_score = (float)(BIN_LO + bestb * BIN_W);
	md->info.threshold = confidence(md, md->threshold_score);
	md->info.loo_f1 = (float)bestf;
	md->info.fires = 1;
	if (bestf <= md->info.loo_f1_pat) {
		/* the model does not help: it never fires */
		md->threshold_score = INFINITY;
		md->info.loo_f1 = md->info.loo_f1_pat;
		md->info.fires = 0;
		md->info.threshold = 1.0f;
	}
	free(pos);
	free(neg);
	free(best);
	free(tmp);
	free(sc.dot);
	free(sc.touched);
	free(sc.pos);
	free(sc.neg);
}

static void label_examples(struct trainer *tr, struct match *m)
{
	const struct script *s = tr->s;

	for (size_t i = 0; i < s->nintents; i++)
		for (size_t k = 0; k < s->intents[i].nexamples; k++) {
			const struct example *ex = &s->intents[i].examples[k];
			struct sample *sm;

			add_sample(tr, m, ex->text, 0);
			sm = &tr->sm[tr->nsm - 1];
			sm->pos[i] = (uint8_t)ex->should_match;
			sm->not_intent = ex->should_match ? -1 : (long)i;
		}
}

static void label_corpus(struct trainer *tr, struct match *m,
			 const struct corpus *c)
{
	for (size_t i = 0; c && i < c->nturns; i++) {
		const struct corpus_turn *t = &c->turns[i];
		struct sample *sm;

		add_sample(tr, m, t->text, 1);
		sm = &tr->sm[tr->nsm - 1];
		for (size_t j = 0; j < t->nintents; j++)
			if (t->intent_ix && t->intent_ix[j] < tr->s->nintents)
				sm->pos[t->intent_ix[j]] = 1;
		tr->md->info.ncorpus++;
	}
}

/* idf per feature, postings with each text's normalised weights, and
 * each text's intents. */
static void build(struct model *md, const struct sample *sm, size_t nsm)
{
	size_t ni = md->nintents, np = 0, nl = 0;
	long neg_row = row_of(md, NEG_KEY);
	uint32_t *fill;

	md->nsamples = nsm;
	md->idf = xcalloc(md->nfeat + 1, sizeof(float));
	md->post_off = xcalloc(md->nfeat + 2, sizeof(uint32_t));
	for (size_t i = 0; i < nsm; i++)
		for (size_t k = 0; k < sm[i].nfeat; k++)
			md->post_off[sm[i].feat[k] + 1]++;
	for (size_t r = 0; r < md->nfeat; r++) {
		md->idf[r] = logf((float)(nsm + 1) /
				  (float)(md->post_off[r + 1] + 1)) + 0.1f;
		if ((double)md->post_off[r + 1] > MODEL_MAX_DF * (double)nsm &&
		    md->post_off[r + 1] > MODEL_MIN_DF_CUT && (long)r != neg_row)
			md->idf[r] = 0;
		np += md->post_off[r + 1];
		md->post_off[r + 1] += md->post_off[r];
	}
	md->post_sample = xcalloc(np + 1, sizeof(uint32_t));
	md->post_w = xcalloc(np + 1, sizeof(float));
	fill = xcalloc(md->nfeat + 1, sizeof(uint32_t));
	md->lab_off = xcalloc(nsm + 2, sizeof(uint32_t));
	for (size_t i = 0; i < nsm; i++) {
		for (size_t c = 0; c < ni; c++)
			nl += sm[i].pos[c];
		nl += sm[i].not_intent >= 0;
	}
	md->lab = xcalloc(nl + 1, sizeof(uint32_t));
	nl = 0;
	for (size_t i = 0; i < nsm; i++) {
		const struct sample *x = &sm[i];
		float norm = 0;

		for (size_t k = 0; k < x->nfeat; k++)
			norm += md->idf[x->feat[k]] * md->idf[x->feat[k]];
		norm = norm > 0 ? 1.0f / sqrtf(norm) : 0;
		for (size_t k = 0; k < x->nfeat; k++) {
			uint32_t r = x->feat[k];
			uint32_t p = md->post_off[r] + fill[r]++;

			if (!md->idf[r]) {
				md->post_w[p] = 0;
				md->post_sample[p] = (uint32_t)i;
				continue;
			}

			md->post_sample[p] = (uint32_t)i;
			md->post_w[p] = md->idf[r] * norm;
		}
		md->lab_off[i] = (uint32_t)nl;
		for (size_t c = 0; c < ni; c++)
			if (x->pos[c])
				md->lab[nl++] = (uint32_t)c;
		if (x->not_intent >= 0)
			md->lab[nl++] = (uint32_t)x->not_intent | NEG_BIT;
	}
	md->lab_off[nsm] = (uint32_t)nl;
	free(fill);
}

struct model *model_train(const struct script *s, const struct corpus *train)
{
	struct trainer tr;
	struct match m;
	struct model *md;
	size_t ni = s->nintents;

	if (!ni)
		return NULL;
	memset(&tr, 0, sizeof(tr));
	md = xcalloc(1, sizeof(*md));
	md->nintents = ni;
	tr.md = md;
	tr.s = s;
	tr.examples_calibrate = !train || !train->nturns;
	match_init(&m);
	label_examples(&tr, &m);
	label_corpus(&tr, &m, train);
	match_release(&m);
	if (!tr.nsm || !md->nfeat) {
		model_free(md);
		md = NULL;
		goto out;
	}
	finish_table(md, &tr);
	build(md, tr.sm, tr.nsm);
	md->info.nsamples = tr.nsm;
	md->info.nfeatures = md->nfeat;
	calibrate(md, tr.sm, tr.nsm);
out:
	for (size_t i = 0; i < tr.nsm; i++)
		sample_release(&tr.sm[i]);
	free(tr.sm);
	free(tr.tmp_row);
	free(tr.tmp_cl);
	free(tr.tkeys);
	free(tr.trows);
	return md;
}

void model_free(struct model *md)
{
	if (!md)
		return;
	free(md->slots);
	free(md->idf);
	free(md->post_off);
	free(md->post_sample);
	free(md->post_w);
	free(md->lab_off);
	free(md->lab);
	free(md);
}

const struct model_info *model_info(const struct model *md)
{
	return md ? &md->info : NULL;
}

/* ------------------------------------------------------------- running */

struct runctx {
	const struct model *md;
	struct match *m;
};

/* Each known feature once per clause (m->mstamp marks rows seen in the
 * current clause; the whole message is deduplicated afterwards). */
static void lookup(uint64_t key, uint32_t clause, void *ctx)
{
	struct runctx *rc = ctx;
	struct match *m = rc->m;
	long r = row_of(rc->md, key);

	if (r < 0)
		return;
	if (m->mstamp[r] == m->mstamp_gen + clause + 1)
		return;
	m->mstamp[r] = m->mstamp_gen + clause + 1;
	XGROW(m->mfeat, m->mfeat_cap, m->nmfeat + 1);
	if (m->mfeat_cap > m->mfclause_cap) {
		m->mfclause = xrealloc(m->mfclause, m->mfeat_cap *
				       sizeof(uint32_t));
		m->mfclause_cap = m->mfeat_cap;
	}
	m->mfeat[m->nmfeat] = (uint32_t)r;
	m->mfclause[m->nmfeat] = clause;
	m->nmfeat++;
}

static void clause_span(const struct match *m, uint32_t cl,
			struct match_span *sp)
{
	sp->start = cl < m->nclause ? m->clause[cl].start : 0;
	sp->len = cl < m->nclause ? m->clause[cl].len : 0;
}

/* May intent in count in clause cl? The rules patterns follow there
 * (clause.h): not under a negation when guarded, not in someone else's
 * words, not in a condition, only in the acts it asks for. */
static int clause_allows(const struct intent *in,
			 const struct match_clause *cl)
{
	if (cl->negated && in->negation_guard)
		return 0;
	if (cl->reported && !in->reported_ok)
		return 0;
	if (cl->conditional && !in->cond_ok)
		return 0;
	if (in->acts && !(in->acts & (1u << cl->act)))
		return 0;
	return 1;
}

void model_run(const struct model *md, struct match *m, const char *text,
	       size_t len)
{
	const struct script *s = m->script;
	struct runctx rc = { md, m };
	struct scratch sc;
	size_t ni, k = 0, nwhole = 0, nclauses = 0;
	float *acc, *best;
	uint8_t *blocked;
	uint32_t *whole;

	(void)text;
	(void)len;
	if (!md || !m->norm.ntok || !m->nclause || m->lang_other ||
	    md->threshold_score == INFINITY)
		return;
	ni = md->nintents;
	if (md->nfeat > m->mstamp_cap) {
		free(m->mstamp);
		m->mstamp = xcalloc(md->nfeat, sizeof(uint32_t));
		m->mstamp_cap = md->nfeat;
		m->mstamp_gen = 0;
	}
	if (5 * ni + md->nsamples > m->macc_cap) {
		free(m->macc);
		m->macc_cap = 5 * ni + md->nsamples;
		m->macc = xcalloc(m->macc_cap, sizeof(float));
	}
	if (md->nsamples > m->mtouch_cap) {
		free(m->mtouch);
		m->mtouch_cap = md->nsamples;
		m->mtouch = xcalloc(m->mtouch_cap, sizeof(uint32_t));
	}
	/* stamps: clause c of this message is gen + c + 1 */
	if (m->mstamp_gen > UINT32_MAX - 2 * NORM_MAX_TOKENS - 2) {
		memset(m->mstamp, 0, md->nfeat * sizeof(uint32_t));
		m->mstamp_gen = 0;
	}
	acc = m->macc;
	best = m->macc + ni;
	sc.pos = m->macc + 2 * ni;
	sc.neg = m->macc + 3 * ni;
	blocked = (uint8_t *)(m->macc + 4 * ni);   /* ni bytes fit */
	sc.dot = m->macc + 5 * ni;
	sc.touched = m->mtouch;
	m->nmfeat = 0;
	features(m, lookup, &rc);
	m->mstamp_gen += (uint32_t)m->nclause + 1;
	memset(blocked, 0, ni);
	for (size_t c = 0; c < ni; c++) {
		best[c] = -INFINITY;
		for (size_t q = 0; q < m->nclause; q++)
			if (!clause_allows(&s->intents[c], &m->clause[q]))
				blocked[c] = 1;
	}
	while (k < m->nmfeat) {
		size_t e = k;
		uint32_t cl = m->mfclause[k];

		while (e < m->nmfeat && m->mfclause[e] == cl)
			e++;
		knn(md, m->mfeat + k, e - k, -1, md->threshold_score, &sc,
		    acc);
		for (size_t c = 0; c < ni; c++)
			if (acc[c] > best[c] &&
			    clause_allows(&s->intents[c], &m->clause[cl])) {
				best[c] = acc[c];
				if (!m->hit[c])
					m->hit_clause[c] = cl;
			}
		nclauses++;
		k = e;
	}
	/* the whole message, when it has more than one clause: each row
	 * once (stamped with a fresh generation); it counts only for
	 * intents no clause of the message rules out */
	if (nclauses > 1 && MODEL_WHOLE) {
		uint32_t gen = ++m->mstamp_gen;

		whole = m->mfclause;   /* reuse: rows go to the front */
		for (size_t i = 0; i < m->nmfeat; i++) {
			uint32_t r = m->mfeat[i];

			if (m->mstamp[r] == gen)
				continue;
			m->mstamp[r] = gen;
			whole[nwhole++] = r;
		}
		knn(md, whole, nwhole, -1, md->threshold_score, &sc, acc);
		for (size_t c = 0; c < ni; c++)
			if (acc[c] > best[c] && !blocked[c] &&
			    best[c] > -INFINITY)
				best[c] = acc[c];
	}
	for (size_t c = 0; c < ni; c++) {
		if (m->hit[c] || best[c] < md->threshold_score ||
		    s->intents[c].builtin)
			continue;
		m->hit[c] = 1;
		m->hit_how[c] = MATCH_BY_MODEL;
		m->conf[c] = confidence(md, best[c]);
		clause_span(m, m->hit_clause[c], &m->span[c]);
	}
}

/* ------------------------------------------------------------ explain */

uint32_t model_hit_clause(const struct match *m, uint32_t intent)
{
	return m->hit_clause[intent];
}

void model_clause_words(const struct match *m, uint32_t cl, struct sbuf *sb)
{
	const struct norm *n = &m->norm;
	size_t start = sb->len;

	if (cl >= m->nclause)
		return;
	for (size_t k = m->clause[cl].tok;
	     k < m->clause[cl].tok + m->clause[cl].ntok && k < n->ntok; k++) {
		if (sb->len - start + n->tok[k].len > 60) {
			sbuf_adds(sb, " …");
			return;
		}
		if (k > m->clause[cl].tok)
			sbuf_addc(sb, ' ');
		sbuf_add(sb, n->tok[k].word, n->tok[k].len);
	}
}

void model_explain(const struct match *m, struct sbuf *sb)
{
	const struct script *s = m->script;
	int any = 0;

	for (size_t i = 0; s && i < s->nintents; i++) {
		uint32_t cl;
		int pct;

		if (!m->hit[i])
			continue;
		sbuf_adds(sb, any ? ", " : "");
		sbuf_adds(sb, s->intents[i].name);
		any = 1;
		if (m->hit_how[i] != MATCH_BY_MODEL) {
			sbuf_adds(sb, " (patroon)");
			continue;
		}
		cl = model_hit_clause(m, (uint32_t)i);
		pct = (int)lroundf(m->conf[i] * 100.0f);
		sbuf_addf(sb, " (model 0,%02d, zinsdeel %u: ", pct > 99 ? 99 :
			  pct, cl + 1);
		model_clause_words(m, cl, sb);
		sbuf_addc(sb, ')');
	}
	if (!any)
		sbuf_adds(sb, "geen bedoeling herkend");
}
