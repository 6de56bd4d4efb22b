/* model.c - see model.h.
 *
 * A logistic regression per intent rather than nearest neighbours: on
 * seven-fold cross-validation over the training splits' conversations
 * (`oefenkamer eval --kruis`) the regression found intents in a third of
 * the turns the patterns missed, where nearest neighbours added almost
 * nothing (test split F1 0.504 -> 0.619). Training is one pass of
 * gradient steps per epoch over all intents at once; a message costs
 * the stored weights of its features. Every sum runs in a fixed order,
 * so the result does not depend on the machine or timing.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "match.h"
#include "script.h"

#define STEM_LEN 5            /* letters of the crude stem feature */
/* Training (docs/scenariotaal.md, "Het leermodel"): one logistic
 * regression per intent, by stochastic gradient descent over the texts
 * in an order fixed by the texts themselves, positives and negatives
 * weighted to count equally.
 * The figures below were chosen by 7-fold cross-validation over the
 * conversations of the training splits (`oefenkamer eval --kruis`). */
#ifndef MODEL_THRESHOLD
#define MODEL_THRESHOLD 0.5f  /* the model fires from this confidence */
#endif
/* 5 passes since the training split has grown to 5,584 turns (was 12,
 * chosen on a third of that): on eval --kruis intent F1 0.667 -> 0.669,
 * no intent on 8.4% -> 7.9% of labelled turns, rubric precision 0.908
 * -> 0.909 (3: 0.661; 4: 0.668; 6: 0.670; 8: 0.668), and the gradient
 * steps of a load cost less than half. */
#ifndef EPOCHS
#define EPOCHS 5
#endif
#define RATE0 0.05f           /* learning rate of the first epoch */
/* Salts the epochs' orders (fit). Another salt is another draw of the
 * same training: the README's figures give the spread over five. */
#ifndef MODEL_ORDER_SEED
#define MODEL_ORDER_SEED 0x9e3779b97f4a7c15ull
#endif
/* A rare intent's positives weigh nsm / (2 * positives), at most this
 * much: larger steps made training unstable. */
#ifndef MAX_CLASS_WEIGHT
#define MAX_CLASS_WEIGHT 10.0f
#endif
#ifndef MODEL_C
#define MODEL_C 4.0f          /* inverse strength of the L2 penalty */
#endif
/* Smaller weights are dropped after training. 0.05 since the training
 * split grew by the dev split (702 turns, +0.37 MB of weights): on
 * eval --kruis it costs 0.002 of intent F1 and of rubric precision
 * against 0.03, and keeps 0.25 MB out of the bot (README, issue 15).
 * 0.06 since the second dev split joined it (731 turns, +0.13 MB): on
 * eval --kruis intent F1 0.671 -> 0.667, rubric precision 0.912 ->
 * 0.911, and the bot's catalog back where it was before (5.36 MB).
 * 0.08 since this round's scripts (two readers' fixes, +0.13 MB) and
 * the index's groups: on eval --kruis intent F1 0.669 -> 0.667, rubric
 * precision 0.923 -> 0.924, the bot's catalog 5.73 -> 5.59 MB. */
#ifndef PRUNE
#define PRUNE 0.08f
#endif
#define MIN_POSITIVES 2       /* an intent with fewer is not learned */
#define NCODES 256            /* the values a stored weight can take */
#define OFF_EVERY 8           /* rows per stored offset (column bits) */
/* A meter hint needs this many labelled turns of the intent with a
 * direction for the meter, and this share of them agreeing. */
#ifndef HINT_MIN_TURNS
#define HINT_MIN_TURNS 6
#endif
#ifndef HINT_MIN_SHARE
#define HINT_MIN_SHARE 0.75
#endif
#ifndef HINT_MIN_CONF
#define HINT_MIN_CONF 0.5f    /* a model hit gives hints from here
			       * (calibrated, with ANSWER_MODEL_CONF) */
#endif
/* The direct meter regressions (below) move a meter from this
 * confidence, when no intent found gives a hint. */
#ifndef METER_CONF
#define METER_CONF 0.6f
#endif

/* The regression has one column per intent and, after them, two per
 * hint var: "a trainer expects it to go up", "… down", learned from the
 * corpus's meter labels alone (the example sentences have none). */
_Static_assert(MODEL_MAX_HINT_VARS <= MATCH_METER_SLOTS,
	       "struct match keeps a direction per hint var");

struct model {
	size_t nintents;
	size_t ncols;             /* nintents + 2 * nhint */
	size_t nfeat;
	/* The feature table, open addressing over tags (the high half of
	 * the key | 1; 0 empty), at most three quarters full. A feature's
	 * row is the rank of its slot among the occupied ones, so no row
	 * is stored: occ has a bit per occupied slot, rank0 the occupied
	 * slots before each 64 (4.2 bytes a slot instead of 8). */
	uint32_t *tags;
	uint64_t *occ;
	uint32_t *rank0;
	size_t cap;
	/* The column of each weight, one of three ways (the others
	 * NULL), the smallest the model allows:
	 * - w_bits: per row, a bit for each learned column (lcol[j], in
	 *   nbm bytes) that has a weight there, the weights in column
	 *   order; for many weights a row among few columns;
	 * - w_col8: the learned column j of each weight in a byte (at
	 *   most 255 learned columns; every shipped scenario since the
	 *   weights under 0.05 are dropped: 60 to 75 learned columns,
	 *   about 6.5 weights a row, where a bit per column took 9
	 *   bytes a row and two bytes a weight 13);
	 * - w_col16: the column of each weight in two bytes (model_train
	 *   keeps ncols under 2^16).
	 * Where a row's weights start in w: for w_bits and w_col8, w_off
	 * holds it for every OFF_EVERY-th row, and a row between adds the
	 * weights of the rows before it in its group (their bits, or
	 * w_rel[r], two bytes a row, the next row's telling where it
	 * ends); for w_col16, w_off holds it for every row. */
	uint8_t *w_bits;
	uint8_t *w_col8;
	uint16_t *w_rel;
	uint16_t *lcol;
	size_t nl;                /* learned columns: lcol's length */
	uint16_t *jcol;           /* per column: its j in lcol (built, not
				   * stored; NULL for w_col16) */
	size_t nbm;
	uint16_t *w_col16;
	uint32_t *w_off;
	/* The weights as a byte each: the index of the nearest of the
	 * model's own NCODES values (code, make_codebook: within 2% of
	 * the trained weight, where IEEE half floats, two bytes, were
	 * within 0.05%; README, "Where the catalog's memory goes").
	 * Trained and summed in float. */
	uint8_t *w;
	float code[NCODES];
	float *bias;              /* per column; -INFINITY: not learned */
	/* meter hints: for the vars in hint_var, per intent the direction
	 * trainers expect (hint_dir[intent * nhint + k]: -1, 0 or +1) */
	uint32_t hint_var[MODEL_MAX_HINT_VARS];
	size_t nhint;
	int8_t *hint_dir;
	struct model_info info;
};
/* ------------------------------------------------------------ features */

#define NEG_BIT 0x80000000u
#define NEG_KEY 0x6e65676174696f6eull

static uint64_t fkey(char kind, const char *a, size_t la, const char *b,
		     size_t lb)
{
	uint64_t h = hash_fnv64(HASH_FNV64_START, &kind, 1);

	h = hash_fnv64(h, a, la);
	if (b) {
		h = hash_fnv64(h, " ", 1);
		h = hash_fnv64(h, b, lb);
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
		if (k + 1 < n->ntok &&
		    (!m->nclause || m->tok_clause[k + 1] == cl))
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

	while (md->tags[i] && md->tags[i] != tag)
		i = (i + 1) & mask;
	return i;
}

/* The row of occupied slot i: its rank among the occupied slots. */
static uint32_t slot_rank(const struct model *md, size_t i)
{
	return md->rank0[i / 64] +
	       (uint32_t)__builtin_popcountll(md->occ[i / 64] &
					      ((UINT64_C(1) << (i % 64)) - 1));
}

/* Row of key, or -1. (Two features whose keys share the probe start and
 * the high 32 bits are one feature: with a few thousand features that
 * does not happen in practice, and it would be deterministic if it did.) */
static long row_of(const struct model *md, uint64_t key)
{
	size_t i = slot_of(md, key);

	return md->tags[i] ? (long)slot_rank(md, i) : -1;
}

/* ------------------------------------------------------------ training */

struct sample {
	uint8_t *pos;          /* per column: contains it / goes that way */
	uint8_t has_meters;    /* a corpus turn: the meter columns learn */
	uint32_t *feat;        /* distinct feature rows (whole text) */
	size_t nfeat;
	long not_intent;       /* a 'nee:' of this intent, or -1 */
	uint64_t key;          /* hash of the text: its place in each
				* epoch's order (fit) */
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

/* occ and rank0 from the tags (a slot's row is its rank among the
 * occupied ones: slot_rank); returns the number of occupied slots.
 * Training and model_read both come here. */
static size_t rank_slots(struct model *md)
{
	size_t k = 0;

	md->occ = xcalloc(md->cap / 64, sizeof(*md->occ));
	md->rank0 = xcalloc(md->cap / 64, sizeof(*md->rank0));
	for (size_t i = 0; i < md->cap; i++) {
		if (i % 64 == 0)
			md->rank0[i / 64] = (uint32_t)k;
		if (!md->tags[i])
			continue;
		md->occ[i / 64] |= UINT64_C(1) << (i % 64);
		k++;
	}
	return k;
}

/* The model's table, at most three quarters full (half full took twice
 * the memory to save 0.6% of model_run's instructions: a probe run
 * stays within a cache line or two). Rows are numbered in slot order
 * (row_of); returns, per such row, the trainer's row of its feature,
 * and their number in *nrows (nfeat, less any two keys the table takes
 * for one: see row_of). Caller frees. */
static uint32_t *finish_table(struct model *md, const struct trainer *tr,
			      size_t *nrows)
{
	uint32_t *slot_row, *order;
	size_t k = 0;

	md->cap = 64;
	while (md->cap * 3 < 4 * (md->nfeat + 1))
		md->cap *= 2;
	md->tags = xcalloc(md->cap, sizeof(*md->tags));
	slot_row = xcalloc(md->cap, sizeof(*slot_row));
	for (size_t i = 0; i < tr->tcap; i++) {
		size_t j;

		if (!tr->tkeys[i])
			continue;
		j = slot_of(md, tr->tkeys[i]);
		md->tags[j] = tag_of(tr->tkeys[i]);
		slot_row[j] = tr->trows[i];
	}
	order = xcalloc(md->nfeat + 1, sizeof(*order));
	*nrows = rank_slots(md);
	for (size_t i = 0; i < md->cap; i++)
		if (md->tags[i])
			order[k++] = slot_row[i];
	free(slot_row);
	return order;
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

	if (corpus) {
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
	sm->not_intent = -1;
	sm->key = hash_fnv64(HASH_FNV64_START, text, strlen(text));
	sm->pos = xcalloc(tr->md->ncols + 1, 1);
	/* the distinct rows of the whole text: what the regression sees */
	sm->feat = xcalloc(tr->ntmp + 1, sizeof(uint32_t));
	for (size_t k = 0; k < tr->ntmp; k++) {
		int dup = 0;

		for (size_t q = 0; q < sm->nfeat && !dup; q++)
			dup = sm->feat[q] == tr->tmp_row[k];
		if (!dup)
			sm->feat[sm->nfeat++] = tr->tmp_row[k];
	}
}

static void sample_release(struct sample *sm)
{
	free(sm->pos);
	free(sm->feat);
}

/* z += row, four lanes at a time so that the compiler's straight-line
 * vectoriser turns each group into one SIMD add (the plain loop stayed
 * scalar at -O2, and was half of training). Each z[c] still gets the
 * same additions in the same order: the sums are bit for bit those of
 * the plain loop. */
static void add_to(float *restrict z, const float *restrict row, size_t n)
{
	size_t c = 0;

	for (; c + 4 <= n; c += 4) {
		float a0 = z[c] + row[c], a1 = z[c + 1] + row[c + 1];
		float a2 = z[c + 2] + row[c + 2], a3 = z[c + 3] + row[c + 3];

		z[c] = a0;
		z[c + 1] = a1;
		z[c + 2] = a2;
		z[c + 3] = a3;
	}
	for (; c < n; c++)
		z[c] += row[c];
}

/* Does sample x teach column c? Every sample teaches the intents; only
 * corpus turns teach the meter columns. */
static int teaches(const struct model *md, const struct sample *x,
		   uint32_t c)
{
	return c < md->nintents || x->has_meters;
}

static uint64_t epoch_key(const struct sample *x, uint64_t salt)
{
	uint64_t h = x->key ^ salt;

	/* splitmix64's finaliser: every bit of salt reaches every bit */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

struct keyed {
	uint64_t key;
	uint32_t index;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* order[0..n) by epoch_key, ties (the same text twice) by index. */
static void order_by_key(const struct sample *sm, uint32_t *order,
			 size_t n, uint64_t salt)
{
	struct keyed *k = xcalloc(n + 1, sizeof(*k));

	for (size_t i = 0; i < n; i++) {
		k[i].key = epoch_key(&sm[i], salt);
		k[i].index = (uint32_t)i;
	}
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (size_t i = 0; i < n; i++)
		order[i] = k[i].index;
	free(k);
}

/* Trains the regressions of the nl columns in lidx at once: W is
 * nfeat x nl, row-major, so one text's features touch nl-long rows. The
 * L2 penalty shrinks every weight once per epoch (its sum over the
 * epoch's texts); the shrinking is kept as one factor, scale, so that
 * the true weights are scale * W and an epoch costs only what its texts
 * touch. */
static void fit(const struct model *md, const struct sample *sm,
		size_t nsm, const uint32_t *lidx, size_t nl, float *W,
		float *bias)
{
	float *wpos = xcalloc(nl + 1, sizeof(float));
	float *wneg = xcalloc(nl + 1, sizeof(float));
	float *z = xcalloc(nl + 1, sizeof(float));
	uint32_t *order = xcalloc(nsm + 1, sizeof(uint32_t));
	uint32_t *act = xcalloc(nl + 1, sizeof(uint32_t));
	uint64_t rnd = MODEL_ORDER_SEED;
	float scale = 1.0f;

	for (size_t j = 0; j < nl; j++) {
		double p = 0, n, all = 0;

		for (size_t i = 0; i < nsm; i++)
			if (teaches(md, &sm[i], lidx[j])) {
				p += sm[i].pos[lidx[j]];
				all++;
			}
		n = all - p;
		wpos[j] = p > 0 ? (float)(all / (2 * p)) : 0;
		wneg[j] = n > 0 ? (float)(all / (2 * n)) : 0;
		if (wpos[j] > MAX_CLASS_WEIGHT)
			wpos[j] = MAX_CLASS_WEIGHT;
	}
	for (int ep = 0; ep < EPOCHS; ep++) {
		float rate = RATE0 / (1.0f + (float)ep);

		/* each epoch's order comes from the texts themselves (a hash
		 * of each text and the epoch), not from their positions: one
		 * sentence more or less moves only itself in the order, where
		 * a shuffle of positions reordered every text and moved the
		 * figures as much as a real change did */
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		order_by_key(sm, order, nsm, rnd);
		for (size_t q = 0; q < nsm; q++) {
			const struct sample *x = &sm[order[q]];
			size_t nact = 0;

			memset(z, 0, nl * sizeof(float));
			for (size_t k = 0; k < x->nfeat; k++)
				add_to(z, W + (size_t)x->feat[k] * nl, nl);
			for (size_t j = 0; j < nl; j++) {
				uint32_t c = lidx[j];
				float p, y, wt, g;

				/* before expf: most texts teach only the
				 * intent columns */
				if (!teaches(md, x, c))
					continue;
				p = 1.0f / (1.0f + expf(-(bias[j] +
							  scale * z[j])));
				y = x->pos[c];
				/* a 'nee:' sentence of c counts double */
				wt = y > 0 ? wpos[j] : wneg[j] *
				     ((long)c == x->not_intent ? 2 : 1);
				g = rate * wt * (p - y);
				bias[j] -= g;
				/* the intents this text still teaches */
				if (fabsf(g) > 1e-3f) {
					z[nact] = g / scale;
					act[nact++] = (uint32_t)j;
				}
			}
			for (size_t k = 0; k < x->nfeat; k++) {
				float *row = W + (size_t)x->feat[k] * nl;

				for (size_t j = 0; j < nact; j++)
					row[act[j]] -= z[j];
			}
		}
		scale *= 1.0f - rate / MODEL_C;
	}
	for (size_t r = 0; r < md->nfeat * nl; r++)
		W[r] *= scale;
	free(wpos);
	free(wneg);
	free(z);
	free(order);
	free(act);
}

/* The codebook for weights up to top in size (none under PRUNE are
 * stored): NCODES / 2 sizes each side of zero, from PRUNE to the largest
 * weight, each a fixed factor above the one before: every weight is
 * kept to within the same share of itself (under 2% for the shipped
 * scenarios), so a large weight, which decides most, is not stored
 * coarser than a small one. */
static void make_codebook(float *code, float top)
{
	const size_t half = NCODES / 2;
	double step;

	step = log((double)top / PRUNE) / (double)(half - 1);
	for (size_t k = 0; k < half; k++) {
		float x = (float)(PRUNE * exp(step * (double)k));

		code[half + k] = x;
		code[half - 1 - k] = -x;
	}
	code[0] = -top;
	code[NCODES - 1] = top;
}

/* The index of the code nearest to x (code sorted ascending; the
 * lower one on a tie). */
static uint8_t code_of(const float *code, float x)
{
	size_t lo = 0, hi = NCODES - 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (x <= 0.5f * (code[mid] + code[mid + 1]))
			hi = mid;
		else
			lo = mid + 1;
	}
	return (uint8_t)lo;
}

/* Row k's weights start at w[n] (k == nrows: the end of the last). */
static void row_starts(struct model *md, size_t k, size_t n)
{
	if (md->w_col16) {
		md->w_off[k] = (uint32_t)n;
		return;
	}
	if (k % OFF_EVERY == 0)
		md->w_off[k / OFF_EVERY] = (uint32_t)n;
	if (md->w_rel)
		md->w_rel[k] = (uint16_t)(n - md->w_off[k / OFF_EVERY]);
}

/* jcol from lcol, once lcol is there (trained or read). */
static void set_jcol(struct model *md)
{
	free(md->jcol);
	md->jcol = NULL;
	if (md->w_col16 || !md->lcol)
		return;
	md->jcol = xcalloc(md->ncols + 1, sizeof(*md->jcol));
	for (size_t j = 0; j < md->nl; j++)
		md->jcol[md->lcol[j]] = (uint16_t)j;
}

/* Weights to per-row lists, the small ones dropped. */
static void pack(struct model *md, const float *W, const float *bias,
		 const uint32_t *lidx, size_t nl, const uint32_t *order,
		 size_t nrows)
{
	size_t n = 0;
	float top = PRUNE;

	md->bias = xcalloc(md->ncols + 1, sizeof(float));
	for (size_t c = 0; c < md->ncols; c++)
		md->bias[c] = -INFINITY;
	for (size_t j = 0; j < nl; j++)
		md->bias[lidx[j]] = bias[j];
	/* how many weights are kept, and the largest (the codebook's) */
	for (size_t k = 0; k < nrows; k++)
		for (size_t j = 0; j < nl; j++) {
			float a = fabsf(W[(size_t)order[k] * nl + j]);

			n += a >= PRUNE;
			if (a > top)
				top = a;
		}
	md->w = xcalloc(n + 1, sizeof(*md->w));
	make_codebook(md->code, top);
	md->lcol = xcalloc(nl + 1, sizeof(*md->lcol));
	for (size_t j = 0; j < nl; j++)
		md->lcol[j] = (uint16_t)lidx[j];
	md->nl = nl;
	if (nrows * ((nl + 7) / 8) < n) {
		md->nbm = (nl + 7) / 8;
		md->w_bits = xcalloc(nrows * md->nbm + 1, 1);
	} else if (nl <= UINT8_MAX) {
		md->w_col8 = xcalloc(n + 1, 1);
		md->w_rel = xcalloc(nrows + 1, sizeof(uint16_t));
	} else {
		md->w_col16 = xcalloc(n + 1, sizeof(uint16_t));
	}
	set_jcol(md);
	md->w_off = md->w_col16 ?
		xcalloc(nrows + 2, sizeof(uint32_t)) :
		xcalloc(nrows / OFF_EVERY + 2, sizeof(uint32_t));
	n = 0;
	/* in the table's row order (finish_table) */
	for (size_t k = 0; k < nrows; k++) {
		size_t r = order[k];

		row_starts(md, k, n);
		for (size_t j = 0; j < nl; j++)
			if (fabsf(W[r * nl + j]) >= PRUNE) {
				float x = W[r * nl + j], e;

				md->w[n] = code_of(md->code, x);
				e = fabsf(md->code[md->w[n]] - x) / fabsf(x);
				if (e > md->info.wq_err)
					md->info.wq_err = e;
				if (md->w_bits)
					md->w_bits[k * md->nbm + j / 8] |=
						(uint8_t)(1u << (j % 8));
				else if (md->w_col8)
					md->w_col8[n] = (uint8_t)j;
				else
					md->w_col16[n] = (uint16_t)lidx[j];
				n++;
			}
	}
	row_starts(md, nrows, n);   /* where the last row ends */
	md->info.nweights = n;
}

/* The intents with at least MIN_POSITIVES texts (and some without). */
static void learn_weights(struct model *md, const struct sample *sm,
			  size_t nsm, const uint32_t *order, size_t nrows)
{
	uint32_t *lidx = xcalloc(md->ncols + 1, sizeof(uint32_t));
	size_t nl = 0;
	float *W, *bias;

	for (size_t c = 0; c < md->ncols; c++) {
		size_t np = 0, all = 0;

		for (size_t i = 0; i < nsm; i++)
			if (teaches(md, &sm[i], (uint32_t)c)) {
				np += sm[i].pos[c];
				all++;
			}
		if (np >= MIN_POSITIVES && np < all)
			lidx[nl++] = (uint32_t)c;
		if (np >= MIN_POSITIVES && np < all && c < md->nintents)
			md->info.nlearned++;
	}
	W = xcalloc(md->nfeat * nl + 1, sizeof(float));
	bias = xcalloc(nl + 1, sizeof(float));
	fit(md, sm, nsm, lidx, nl, W, bias);
	pack(md, W, bias, lidx, nl, order, nrows);
	free(W);
	free(bias);
	free(lidx);
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

/* Per intent and meter, what direction the corpus labels expect on
 * turns labelled with the intent (model.h: model_meter_hint). */
/* The vars the corpus labels, in the order first met. */
static void find_hint_vars(struct model *md, const struct corpus *c)
{
	for (size_t i = 0; c && i < c->nturns; i++)
		for (size_t k = 0; k < c->turns[i].nmeters; k++) {
			uint32_t v = c->turns[i].meters[k].var;
			size_t h = 0;

			while (h < md->nhint && md->hint_var[h] != v)
				h++;
			if (h == md->nhint && h < MODEL_MAX_HINT_VARS)
				md->hint_var[md->nhint++] = v;
		}
	md->ncols = md->nintents + 2 * md->nhint;
}

static size_t hint_index(const struct model *md, uint32_t var)
{
	size_t h = 0;

	while (h < md->nhint && md->hint_var[h] != var)
		h++;
	return h;
}

static void learn_hints(struct model *md, const struct corpus *c)
{
	size_t ni = md->nintents;
	uint32_t *cnt;

	if (!md->nhint)
		return;
	/* counts per (intent, hint var, up/down/same) */
	cnt = xcalloc(ni * md->nhint * 3 + 1, sizeof(uint32_t));
	for (size_t i = 0; i < c->nturns; i++) {
		const struct corpus_turn *t = &c->turns[i];

		for (size_t k = 0; k < t->nmeters; k++) {
			size_t h = 0;

			if (t->meters[k].dir == DIR_UNKNOWN)
				continue;
			while (h < md->nhint &&
			       md->hint_var[h] != t->meters[k].var)
				h++;
			if (h == md->nhint)
				continue;
			for (size_t j = 0; j < t->nintents; j++) {
				uint32_t in = t->intent_ix ? t->intent_ix[j] :
					      UINT32_MAX;

				if (in < ni)
					cnt[(in * md->nhint + h) * 3 +
					    (size_t)t->meters[k].dir]++;
			}
		}
	}
	md->hint_dir = xcalloc(ni * md->nhint + 1, sizeof(int8_t));
	for (size_t x = 0; x < ni * md->nhint; x++) {
		uint32_t up = cnt[x * 3 + DIR_UP], down = cnt[x * 3 + DIR_DOWN];
		uint32_t n = up + down + cnt[x * 3 + DIR_SAME];

		if (n < HINT_MIN_TURNS)
			continue;
		if (up >= HINT_MIN_SHARE * n)
			md->hint_dir[x] = 1;
		else if (down >= HINT_MIN_SHARE * n)
			md->hint_dir[x] = -1;
		md->info.nhints += md->hint_dir[x] != 0;
	}
	free(cnt);
}

int model_meter_hint(const struct model *md, const struct match *m,
		     uint32_t var)
{
	size_t h;
	int sum = 0;
	float up, down;

	if (!md || !md->hint_dir)
		return 0;
	h = hint_index(md, var);
	if (h == md->nhint)
		return 0;
	for (size_t c = 0; c < md->nintents; c++) {
		if (!m->hit[c] || (m->hit_how[c] == MATCH_BY_MODEL &&
				   m->conf[c] < HINT_MIN_CONF))
			continue;
		sum += md->hint_dir[c * md->nhint + h];
	}
	if (sum)
		return (sum > 0) - (sum < 0);
	/* no intent found says: the meter regressions, if sure */
	up = m->meter_up[h];
	down = m->meter_down[h];
	if (up >= METER_CONF && up > down)
		return 1;
	if (down >= METER_CONF && down > up)
		return -1;
	return 0;
}

size_t model_hint_vars(const struct model *md, const uint32_t **vars)
{
	if (!md || !md->hint_dir)
		return 0;
	*vars = md->hint_var;
	return md->nhint;
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
		sm->has_meters = 1;
		for (size_t k = 0; k < t->nmeters; k++) {
			size_t h = hint_index(tr->md, t->meters[k].var);
			size_t col = tr->md->nintents + 2 * h;

			if (h == tr->md->nhint)
				continue;
			if (t->meters[k].dir == DIR_UP)
				sm->pos[col] = 1;
			else if (t->meters[k].dir == DIR_DOWN)
				sm->pos[col + 1] = 1;
		}
		tr->md->info.ncorpus++;
	}
}

struct model *model_train(const struct script *s, const struct corpus *train)
{
	struct trainer tr;
	struct match m;
	struct model *md;
	size_t ni = s->nintents, nrows = 0;
	uint32_t *order = NULL;

	/* w_col16 holds a column in 16 bits; no script comes near */
	if (!ni || ni + 2 * MODEL_MAX_HINT_VARS > UINT16_MAX)
		return NULL;
	memset(&tr, 0, sizeof(tr));
	md = xcalloc(1, sizeof(*md));
	md->nintents = ni;
	find_hint_vars(md, train);
	tr.md = md;
	tr.s = s;
	match_init(&m);
	label_examples(&tr, &m);
	label_corpus(&tr, &m, train);
	match_release(&m);
	if (!tr.nsm || !md->nfeat) {
		model_free(md);
		md = NULL;
		goto out;
	}
	order = finish_table(md, &tr, &nrows);
	md->info.nsamples = tr.nsm;
	md->info.nfeatures = md->nfeat;
	md->info.threshold = MODEL_FIRE;
	/* without labelled conversations nothing shows that the model
	 * knows more than the patterns: it does not guess */
	md->info.fires = md->info.ncorpus > 0;
	if (md->info.fires) {
		learn_weights(md, tr.sm, tr.nsm, order, nrows);
		learn_hints(md, train);
	}
	/* from here on a row is the table's (finish_table) */
	md->nfeat = nrows;
out:
	free(order);
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
	free(md->tags);
	free(md->occ);
	free(md->rank0);
	free(md->w_off);
	free(md->w_bits);
	free(md->lcol);
	free(md->jcol);
	free(md->w_col8);
	free(md->w_rel);
	free(md->w_col16);
	free(md->w);
	free(md->bias);
	free(md->hint_dir);
	free(md);
}

const struct model_info *model_info(const struct model *md)
{
	return md ? &md->info : NULL;
}

int model_col_bytes(const struct model *md)
{
	if (!md || md->w_bits)
		return 0;
	return md->w_col8 ? 1 : 2;
}

size_t model_table_rows(const struct model *md, uint32_t *rows)
{
	size_t n = 0;

	for (size_t i = 0; md && i < md->cap; i++)
		if (md->tags[i])
			rows[n++] = slot_rank(md, i);
	return n;
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
 * words, not in a condition, only in the acts it asks for, not in
 * English. */
static int clause_allows(const struct intent *in,
			 const struct match_clause *cl)
{
	if (cl->other_lang || cl->offstage)
		return 0;
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

/* Adds row r's weights to sum: the learned columns' sums (j, lcol's
 * order; col_sum reads column c's) for w_bits and w_col8, so that a
 * weight needs no lcol lookup, the columns' own for w_col16. */
static void add_row(const struct model *md, uint32_t r, float *sum)
{
	uint32_t p, end;

	if (md->w_col16) {
		for (p = md->w_off[r], end = md->w_off[r + 1]; p < end; p++)
			sum[md->w_col16[p]] += md->code[md->w[p]];
		return;
	}
	/* the row's first weight: its group's, and the rows before it */
	p = md->w_off[r / OFF_EVERY];
	if (md->w_bits) {
		/* in column order, as packed: the same sums */
		const uint8_t *bm = md->w_bits + (size_t)r * md->nbm;
		const uint8_t *g = md->w_bits +
				   (size_t)(r - r % OFF_EVERY) * md->nbm;

		for (; g + 8 <= bm; g += 8) {
			uint64_t x;

			memcpy(&x, g, 8);
			p += (uint32_t)__builtin_popcountll(x);
		}
		for (; g < bm; g++)
			p += (uint32_t)__builtin_popcount(*g);
		for (size_t b = 0; b < md->nbm; b++)
			for (unsigned bits = bm[b]; bits; bits &= bits - 1)
				sum[b * 8 + (unsigned)__builtin_ctz(bits)] +=
					md->code[md->w[p++]];
		return;
	}
	p += md->w_rel[r];
	end = md->w_off[(r + 1) / OFF_EVERY] + md->w_rel[r + 1];
	for (; p < end; p++)
		sum[md->w_col8[p]] += md->code[md->w[p]];
}

/* How many sums add_row adds to, and column c's among them (-INFINITY
 * for a column not learned). */
static size_t nsums(const struct model *md)
{
	return md->w_col16 ? md->ncols : md->nl;
}

static inline float col_sum(const struct model *md, const float *sum,
			    size_t c)
{
	if (!isfinite(md->bias[c]))
		return -INFINITY;
	return md->jcol ? sum[md->jcol[c]] : sum[c];
}

/* ------------------------------------------------------- calibration */

/* The regression's probability is not a confidence: trained with the
 * positives and negatives of each intent weighing the same, it says
 * 0.5-0.6 of guesses that are right one time in four, and a guess
 * beside what the patterns found, or behind a surer guess, is right
 * less often than one alone. So the confidence of a candidate (an
 * intent the regression puts at MODEL_THRESHOLD or more) is a second,
 * small logistic regression over its probability and that context
 * (model_calib_features), fitted to the candidates of the training
 * split's cross-validation: `oefenkamer eval --kruis --ijking` fits and
 * prints these weights (docs/scenariotaal.md, "Het leermodel"). */
/* (-DCALIB_W=… tries other weights without editing this file.) Refitted
 * on 2026-12-07 when the thirteenth dev split joined the training split
 * (17,057 turns, 19,218 candidates): on eval --kruis F1 0.750 both,
 * rubric moments 4,178 of 4,562 -> 4,183 of 4,568 (precision 0.916
 * both), meters right on 10,178 -> 10,190 turns that should move; on
 * the dev split F1 0.769 -> 0.770. */
#ifndef CALIB_W
#define CALIB_W -0.275f, 0.659f, -0.355f, -0.877f, -0.111f, -0.293f, -0.861f
#endif
static const float calib_w[MODEL_CALIB_NFEAT] = { CALIB_W };

static int cand_cmp(const void *a, const void *b)
{
	const struct match_cand *x = a, *y = b;

	if (x->raw != y->raw)
		return x->raw < y->raw ? 1 : -1;
	return x->intent < y->intent ? -1 : x->intent > y->intent;
}

void model_calib_features(const struct match *m, size_t k, float *x)
{
	size_t npat = m->cand_npat;
	float p = m->cand[k].raw;

	if (p < 1e-4f)
		p = 1e-4f;
	if (p > 1 - 1e-4f)
		p = 1 - 1e-4f;
	x[0] = 1;
	x[1] = logf(p / (1 - p));
	x[2] = npat > 0;
	x[3] = (float)(npat < 3 ? npat : 3) / 3;
	x[4] = k == 1;
	x[5] = k >= 2;
	x[6] = (float)(m->ncand < 5 ? m->ncand : 5) / 5;
}

int model_fit_calib(const float *x, const uint8_t *y, size_t n, float *w)
{
	enum { K = MODEL_CALIB_NFEAT };
	double b[K] = { 0 };

	if (!n)
		return -1;
	/* Newton's method on the log-likelihood, with a slight L2 penalty
	 * (1e-3 a weight) so that a feature that never varies stays 0 */
	for (int it = 0; it < 50; it++) {
		double g[K] = { 0 }, h[K][K] = { { 0 } }, step = 0;

		for (size_t i = 0; i < n; i++) {
			const float *xi = x + i * K;
			double z = 0, p, v;

			for (int j = 0; j < K; j++)
				z += b[j] * xi[j];
			p = 1 / (1 + exp(-z));
			v = p * (1 - p);
			for (int j = 0; j < K; j++) {
				g[j] += (p - y[i]) * xi[j];
				for (int k = 0; k < K; k++)
					h[j][k] += v * xi[j] * xi[k];
			}
		}
		for (int j = 0; j < K; j++) {
			g[j] += 1e-3 * b[j];
			h[j][j] += 1e-3;
		}
		/* solve h d = g (Gauss-Jordan, partial pivoting) */
		for (int c = 0; c < K; c++) {
			int piv = c;

			for (int r = c + 1; r < K; r++)
				if (fabs(h[r][c]) > fabs(h[piv][c]))
					piv = r;
			if (fabs(h[piv][c]) < 1e-12)
				return -1;
			for (int k = 0; k < K; k++) {
				double t = h[c][k];

				h[c][k] = h[piv][k];
				h[piv][k] = t;
			}
			{
				double t = g[c];

				g[c] = g[piv];
				g[piv] = t;
			}
			for (int r = 0; r < K; r++) {
				double f;

				if (r == c)
					continue;
				f = h[r][c] / h[c][c];
				for (int k = c; k < K; k++)
					h[r][k] -= f * h[c][k];
				g[r] -= f * g[c];
			}
		}
		for (int j = 0; j < K; j++) {
			double d = g[j] / h[j][j];

			b[j] -= d;
			step += fabs(d);
		}
		if (step < 1e-9)
			break;
	}
	for (int j = 0; j < K; j++)
		w[j] = (float)b[j];
	return 0;
}

float model_calib_conf(const float *w, const float *x)
{
	float z = 0;

	for (size_t j = 0; j < MODEL_CALIB_NFEAT; j++)
		z += w[j] * x[j];
	return 1.0f / (1.0f + expf(-z));
}

/* Rank the candidates, surest first, and give each its confidence.
 * Before any model hit is marked, every hit is the patterns'. */
static void calibrate(struct match *m)
{
	float x[MODEL_CALIB_NFEAT];

	m->cand_npat = 0;
	if (!m->ncand)      /* most messages: nothing to rank */
		return;
	for (size_t i = 0; i < m->script->nintents; i++)
		m->cand_npat += m->hit[i];
	qsort(m->cand, m->ncand, sizeof(*m->cand), cand_cmp);
	for (size_t k = 0; k < m->ncand; k++) {
		model_calib_features(m, k, x);
		m->cand[k].conf = model_calib_conf(calib_w, x);
	}
}

/* The regression scores the whole message (each feature once, as it
 * was trained); the clause an intent is credited to is the one, among
 * the clauses it may count in, whose own features add most to it, and
 * they must add something. */
void model_run(const struct model *md, struct match *m, const char *text,
	       size_t len)
{
	const struct script *s = m->script;
	struct runctx rc = { md, m };
	size_t ni, nc, k = 0, ncand = 0;
	float *acc, *part, *bestp;
	size_t ns;
	/* the score from which the confidence reaches the threshold */
	const float min_logit = logf(MODEL_THRESHOLD / (1 - MODEL_THRESHOLD));
	uint8_t *cand;             /* per intent: over it on the whole */
	uint32_t gen;

	(void)text;
	(void)len;
	memset(m->meter_up, 0, sizeof(m->meter_up));
	memset(m->meter_down, 0, sizeof(m->meter_down));
	/* a message wholly about the rehearsal (clause.h) moves no meter */
	if (!md || !md->info.fires || !m->norm.ntok || m->unheard ||
	    m->lang_other)
		return;
	ni = md->nintents;
	nc = md->ncols;
	ns = nsums(md);
	if (md->nfeat > m->mstamp_cap) {
		free(m->mstamp);
		m->mstamp = xcalloc(md->nfeat, sizeof(uint32_t));
		m->mstamp_cap = md->nfeat;
		m->mstamp_gen = 0;
	}
	if (2 * nc + 2 * ni > m->macc_cap) {
		free(m->macc);
		m->macc_cap = 2 * nc + 2 * ni;
		m->macc = xcalloc(m->macc_cap, sizeof(float));
	}
	/* stamps: clause c of this message is gen + c + 1 */
	if (m->mstamp_gen > UINT32_MAX - 2 * NORM_MAX_TOKENS - 4) {
		memset(m->mstamp, 0, m->mstamp_cap * sizeof(uint32_t));
		m->mstamp_gen = 0;
	}
	/* the sums of add_row (col_sum reads a column's) */
	acc = m->macc;                          /* ns <= nc */
	part = m->macc + nc;                    /* ns <= nc */
	bestp = m->macc + 2 * nc;               /* ni */
	cand = (uint8_t *)(m->macc + 2 * nc + ni);   /* ni bytes fit */
	m->nmfeat = 0;
	features(m, lookup, &rc);
	m->mstamp_gen += (uint32_t)m->nclause + 1;
	for (size_t j = 0; j < ns; j++)
		acc[j] = md->jcol ? md->bias[md->lcol[j]] : md->bias[j];
	for (size_t c = 0; c < ni; c++)
		bestp[c] = 0;
	/* the whole message first: most messages leave no intent over
	 * the threshold, and then no clause needs scoring */
	gen = ++m->mstamp_gen;
	for (size_t q = 0; q < m->nmfeat; q++) {
		uint32_t r = m->mfeat[q];

		if (m->mstamp[r] == gen)
			continue;
		m->mstamp[r] = gen;
		add_row(md, r, acc);
	}
	for (size_t h = 0; h < md->nhint; h++) {
		float u = col_sum(md, acc, ni + 2 * h);
		float d = col_sum(md, acc, ni + 2 * h + 1);

		m->meter_up[h] = u == -INFINITY ? 0 : 1.0f / (1.0f + expf(-u));
		m->meter_down[h] = d == -INFINITY ? 0 :
				   1.0f / (1.0f + expf(-d));
	}
	/* candidates: over the threshold first (few are), by the sums */
	memset(cand, 0, ni);
	for (size_t j = 0; j < ns; j++) {
		size_t c = md->jcol ? md->lcol[j] : j;

		if (c >= ni || !(acc[j] >= min_logit) || m->hit[c] ||
		    s->intents[c].builtin || md->bias[c] == -INFINITY)
			continue;
		cand[c] = 1;
		ncand++;
	}
	/* One clause holds every feature: its sums are the message's less
	 * the bias, and so over 0 for a candidate whose bias is well under
	 * min_logit (the margin outweighs the sums' rounding); no need to
	 * add the rows again. */
	if (ncand && m->nmfeat &&
	    m->mfclause[0] == m->mfclause[m->nmfeat - 1]) {
		uint32_t cl = m->mfclause[0];
		int sure = 1;

		for (size_t c = 0; c < ni && sure; c++)
			sure = !cand[c] || md->bias[c] < min_logit - 0.01f;
		for (size_t c = 0; sure && c < ni; c++)
			if (cand[c] &&
			    clause_allows(&s->intents[c], &m->clause[cl])) {
				bestp[c] = 1;
				m->hit_clause[c] = cl;
				m->hit_reach[c] = cl;
			}
		if (sure)
			k = m->nmfeat;
	}
	while (ncand && k < m->nmfeat) {
		size_t e = k;
		uint32_t cl = m->mfclause[k];

		while (e < m->nmfeat && m->mfclause[e] == cl)
			e++;
		memset(part, 0, ns * sizeof(float));
		for (size_t q = k; q < e; q++)
			add_row(md, m->mfeat[q], part);
		for (size_t c = 0; c < ni; c++)
			if (cand[c] && col_sum(md, part, c) > bestp[c] &&
			    clause_allows(&s->intents[c], &m->clause[cl])) {
				bestp[c] = col_sum(md, part, c);
				m->hit_clause[c] = cl;
				m->hit_reach[c] = cl;
			}
		k = e;
	}
	m->ncand = 0;
	for (size_t c = 0; ncand && c < ni; c++) {
		float p;

		if (!cand[c] || bestp[c] <= 0)
			continue;
		p = 1.0f / (1.0f + expf(-col_sum(md, acc, c)));
		if (p < MODEL_THRESHOLD)
			continue;
		m->cand[m->ncand].intent = (uint32_t)c;
		m->cand[m->ncand].raw = p;
		m->ncand++;
	}
	calibrate(m);
	for (size_t q = 0; q < m->ncand; q++) {
		uint32_t c = m->cand[q].intent;

		if (m->cand[q].conf < MODEL_FIRE)
			continue;
		m->hit[c] = 1;
		m->hit_how[c] = MATCH_BY_MODEL;
		m->conf[c] = m->cand[q].conf;
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

/* --------------------------------------------------- kept between runs */

/* The layouts of the weights' columns (struct model). */
enum { LAYOUT_NONE, LAYOUT_BITS, LAYOUT_COL8, LAYOUT_COL16 };

static void put(struct sbuf *sb, const void *p, size_t n)
{
	sbuf_add(sb, (const char *)p, n);
}

static void put64(struct sbuf *sb, uint64_t v)
{
	put(sb, &v, sizeof(v));
}

/* The number of learned columns: those with a bias. */
static size_t nlearned_cols(const struct model *md)
{
	size_t nl = 0;

	for (size_t c = 0; md->bias && c < md->ncols; c++)
		nl += isfinite(md->bias[c]) != 0;
	return nl;
}

static size_t off_count(const struct model *md, int layout)
{
	return layout == LAYOUT_COL16 ? md->nfeat + 2 :
	       md->nfeat / OFF_EVERY + 2;
}

void model_write(const struct model *md, struct sbuf *sb)
{
	int layout = !md->bias ? LAYOUT_NONE : md->w_bits ? LAYOUT_BITS :
		     md->w_col8 ? LAYOUT_COL8 : LAYOUT_COL16;
	size_t nl = nlearned_cols(md), n = md->info.nweights;
	const struct model_info *in = &md->info;

	put64(sb, md->nintents);
	put64(sb, md->nhint);
	put64(sb, md->cap);
	put64(sb, (uint64_t)layout);
	put64(sb, nl);
	put64(sb, md->nbm);
	put64(sb, md->hint_dir ? 1 : 0);
	put(sb, md->hint_var, sizeof(md->hint_var));
	put64(sb, in->nsamples);
	put64(sb, in->nfeatures);
	put64(sb, in->ncorpus);
	put64(sb, in->nlearned);
	put64(sb, in->nweights);
	put64(sb, in->nhints);
	put(sb, &in->wq_err, sizeof(in->wq_err));
	put(sb, &in->threshold, sizeof(in->threshold));
	put64(sb, (uint64_t)in->fires);
	put(sb, md->code, sizeof(md->code));
	put(sb, md->tags, md->cap * sizeof(*md->tags));
	if (md->hint_dir)
		put(sb, md->hint_dir, md->nintents * md->nhint);
	if (layout == LAYOUT_NONE)
		return;
	put(sb, md->bias, md->ncols * sizeof(float));
	put(sb, md->lcol, nl * sizeof(*md->lcol));
	put(sb, md->w, n);
	put(sb, md->w_off, off_count(md, layout) * sizeof(*md->w_off));
	if (layout == LAYOUT_BITS)
		put(sb, md->w_bits, md->nfeat * md->nbm);
	else if (layout == LAYOUT_COL8) {
		put(sb, md->w_col8, n);
		put(sb, md->w_rel, (md->nfeat + 1) * sizeof(*md->w_rel));
	} else {
		put(sb, md->w_col16, n * sizeof(*md->w_col16));
	}
}

struct rd {
	const uint8_t *p, *end;
	int bad;
};

static int get(struct rd *r, void *to, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return -1;
	}
	memcpy(to, r->p, n);
	r->p += n;
	return 0;
}

/* A count, at most max (else the reader is bad and 0 comes back). */
static size_t get_count(struct rd *r, uint64_t max)
{
	uint64_t v = 0;

	if (get(r, &v, sizeof(v)) < 0 || v > max) {
		r->bad = 1;
		return 0;
	}
	return (size_t)v;
}

/* n elements of size sz into a new array with room for one more (the
 * trainer's allocations have it too), or NULL with r bad. */
static void *get_array(struct rd *r, size_t n, size_t sz)
{
	void *a;

	if (r->bad || n > (size_t)(r->end - r->p) / (sz ? sz : 1)) {
		r->bad = 1;
		return NULL;
	}
	a = xcalloc(n + 1, sz);
	get(r, a, n * sz);
	return a;
}

/* Where row k's weights start, as add_row finds it. */
static uint32_t stored_start(const struct model *md, size_t k)
{
	uint32_t p = md->w_off[k / OFF_EVERY];

	if (md->w_col16)
		return md->w_off[k];
	if (md->w_rel)
		return p + md->w_rel[k];
	for (size_t g = k - k % OFF_EVERY; g < k; g++)
		for (size_t b = 0; b < md->nbm; b++)
			p += (uint32_t)__builtin_popcount(
				md->w_bits[g * md->nbm + b]);
	return p;
}

/* Does every index the running model follows stay in its arrays? */
static int weights_sound(const struct model *md, size_t nl, int layout)
{
	size_t n = md->info.nweights, prev = 0, seen = 0;

	for (size_t j = 0; j < nl; j++)
		if (md->lcol[j] >= md->ncols ||
		    (j && md->lcol[j] <= md->lcol[j - 1]) ||
		    !isfinite(md->bias[md->lcol[j]]))
			return 0;
	for (size_t c = 0; c < md->ncols; c++)
		seen += isfinite(md->bias[c]) != 0;
	if (seen != nl)
		return 0;
	if (layout == LAYOUT_BITS) {
		size_t bits = 0;

		if (md->nbm != (nl + 7) / 8)
			return 0;
		for (size_t k = 0; k < md->nfeat * md->nbm; k++) {
			uint8_t b = md->w_bits[k];

			/* no bit past the last learned column */
			if (k % md->nbm == md->nbm - 1 && nl % 8 &&
			    (b >> (nl % 8)))
				return 0;
			bits += (size_t)__builtin_popcount(b);
		}
		if (bits != n)
			return 0;
	}
	for (size_t j = 0; layout == LAYOUT_COL8 && j < n; j++)
		if (md->w_col8[j] >= nl)
			return 0;
	for (size_t j = 0; layout == LAYOUT_COL16 && j < n; j++)
		if (md->w_col16[j] >= md->ncols)
			return 0;
	if (layout == LAYOUT_COL8 && nl > UINT8_MAX)
		return 0;
	/* each row's weights lie after the row before's, within w */
	for (size_t k = 0; k <= md->nfeat; k++) {
		size_t at = stored_start(md, k);

		if (at < prev || at > n)
			return 0;
		prev = at;
	}
	return prev == n;
}

struct model *model_read(const struct script *s, const void *data,
			 size_t len)
{
	struct rd r = { data, (const uint8_t *)data + len, 0 };
	struct model *md = xcalloc(1, sizeof(*md));
	struct model_info *in = &md->info;
	size_t nl, n;
	int layout, has_dir;
	uint64_t fires;

	md->nintents = get_count(&r, s->nintents);
	md->nhint = get_count(&r, MODEL_MAX_HINT_VARS);
	md->cap = get_count(&r, (uint64_t)1 << 28);
	layout = (int)get_count(&r, LAYOUT_COL16);
	nl = get_count(&r, UINT16_MAX);
	md->nbm = get_count(&r, UINT16_MAX);
	has_dir = (int)get_count(&r, 1);
	get(&r, md->hint_var, sizeof(md->hint_var));
	in->nsamples = get_count(&r, UINT32_MAX);
	in->nfeatures = get_count(&r, UINT32_MAX);
	in->ncorpus = get_count(&r, UINT32_MAX);
	in->nlearned = get_count(&r, UINT32_MAX);
	in->nweights = get_count(&r, UINT32_MAX);
	in->nhints = get_count(&r, UINT32_MAX);
	get(&r, &in->wq_err, sizeof(in->wq_err));
	get(&r, &in->threshold, sizeof(in->threshold));
	fires = get_count(&r, 1);
	in->fires = (int)fires;
	get(&r, md->code, sizeof(md->code));
	if (r.bad || md->nintents != s->nintents || md->cap < 64 ||
	    (md->cap & (md->cap - 1)))
		goto bad;
	md->ncols = md->nintents + 2 * md->nhint;
	for (size_t h = 0; h < md->nhint; h++)
		if (md->hint_var[h] >= s->nvars + BUILTIN_COUNT)
			goto bad;
	for (size_t k = 0; k < NCODES; k++)
		if (!isfinite(md->code[k]))
			goto bad;
	md->tags = get_array(&r, md->cap, sizeof(*md->tags));
	if (r.bad)
		goto bad;
	/* occ and rank0 follow from the tags, as in training */
	md->nfeat = rank_slots(md);
	/* the table is at most three quarters full: a probe ends */
	if (md->nfeat * 4 > md->cap * 3)
		goto bad;
	if (has_dir) {
		md->hint_dir = get_array(&r, md->nintents * md->nhint, 1);
		for (size_t x = 0; !r.bad && x < md->nintents * md->nhint;
		     x++)
			if (md->hint_dir[x] < -1 || md->hint_dir[x] > 1)
				goto bad;
	}
	n = in->nweights;
	if (layout == LAYOUT_NONE) {
		if (in->fires || n || nl)
			goto bad;
		goto done;
	}
	md->bias = get_array(&r, md->ncols, sizeof(float));
	md->lcol = get_array(&r, nl, sizeof(*md->lcol));
	md->nl = nl;
	md->w = get_array(&r, n, 1);
	md->w_off = get_array(&r, off_count(md, layout), sizeof(uint32_t));
	if (layout == LAYOUT_BITS) {
		md->w_bits = get_array(&r, md->nfeat * md->nbm, 1);
	} else if (layout == LAYOUT_COL8) {
		md->w_col8 = get_array(&r, n, 1);
		md->w_rel = get_array(&r, md->nfeat + 1, sizeof(uint16_t));
	} else {
		md->w_col16 = get_array(&r, n, sizeof(uint16_t));
	}
	if (r.bad || !weights_sound(md, nl, layout))
		goto bad;
	set_jcol(md);           /* lcol is sound */
done:
	if (r.p != r.end)
		goto bad;
	return md;
bad:
	model_free(md);
	return NULL;
}
