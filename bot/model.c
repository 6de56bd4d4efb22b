/* model.c - see model.h.
 *
 * Counts, not gradients: training is one pass over the texts, so all six
 * scenarios learn in a few milliseconds, and leave-one-out is exact and
 * cheap (a text's own counts are subtracted from the totals). Counts are
 * integers and every sum runs in a fixed order, so the result does not
 * depend on the machine or on timing.
 */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "match.h"
#include "script.h"

#define ALPHA 0.5             /* additive smoothing of the counts */
#define STEM_LEN 5            /* letters of the crude stem feature */
#define MIN_THRESHOLD 0.5f    /* never guess below this confidence */
#define NBINS 480             /* score histogram for calibration */
#define BIN_LO (-60.0)
#define BIN_W 0.25

struct model {
	size_t nintents;
	size_t nfeat;
	uint64_t *keys;           /* open addressing, cap slots; 0 empty */
	uint32_t *rows;           /* slot -> feature row */
	size_t cap;
	float *w;                 /* nfeat * nintents */
	float *prior;             /* nintents */
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

/* Calls emit(key, clause, ctx) for every feature of every clause of the
 * normalised message n (text: the original, for the question mark). */
typedef void (*emit_fn)(uint64_t key, uint32_t clause, void *ctx);

static int ends_in_question(const struct norm *n, size_t last,
			    const char *text, size_t len)
{
	size_t p = (size_t)n->tok[last].src_start + n->tok[last].src_len;

	while (p < len && (text[p] == ' ' || text[p] == '"' ||
			   text[p] == '\''))
		p++;
	return p < len && text[p] == '?';
}

static void features(const struct norm *n, const char *text, size_t len,
		     emit_fn emit, void *ctx)
{
	size_t i = 0;

	while (i < n->ntok) {
		uint32_t cl = n->tok[i].clause;
		size_t j = i;
		int neg = 0;

		while (j < n->ntok && n->tok[j].clause == cl)
			j++;
		emit(fkey('^', n->tok[i].word, n->tok[i].len, NULL, 0), cl,
		     ctx);
		for (size_t k = i; k < j; k++) {
			const struct norm_token *t = &n->tok[k];

			emit(fkey('w', t->word, t->len, NULL, 0), cl, ctx);
			if (t->len > STEM_LEN)
				emit(fkey('p', t->word, STEM_LEN, NULL, 0), cl,
				     ctx);
			if (k + 1 < j)
				emit(fkey('b', t->word, t->len,
					  n->tok[k + 1].word,
					  n->tok[k + 1].len), cl, ctx);
			neg |= norm_is_negation(t->word);
		}
		if (neg)
			emit(fkey('n', "", 0, NULL, 0), cl, ctx);
		if (text && ends_in_question(n, j - 1, text, len))
			emit(fkey('?', "", 0, NULL, 0), cl, ctx);
		i = j;
	}
}

static size_t slot_of(const struct model *md, uint64_t key)
{
	size_t mask = md->cap - 1;
	size_t i = (size_t)(key ^ (key >> 29)) & mask;

	while (md->keys[i] && md->keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

/* Row of key, or -1. */
static long row_of(const struct model *md, uint64_t key)
{
	size_t i = slot_of(md, key);

	return md->keys[i] ? (long)md->rows[i] : -1;
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
	int insert;              /* add unknown keys */
};

static void table_grow(struct model *md)
{
	size_t ncap = md->cap ? md->cap * 2 : 4096;
	uint64_t *ok = md->keys;
	uint32_t *orow = md->rows;
	size_t ocap = md->cap;

	md->keys = xcalloc(ncap, sizeof(uint64_t));
	md->rows = xcalloc(ncap, sizeof(uint32_t));
	md->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (ok[i]) {
			size_t j = slot_of(md, ok[i]);

			md->keys[j] = ok[i];
			md->rows[j] = orow[i];
		}
	free(ok);
	free(orow);
}

static void collect(uint64_t key, uint32_t clause, void *ctx)
{
	struct trainer *tr = ctx;
	struct model *md = tr->md;
	size_t i;

	if ((md->nfeat + 1) * 2 > md->cap)
		table_grow(md);
	i = slot_of(md, key);
	if (!md->keys[i]) {
		md->keys[i] = key;
		md->rows[i] = (uint32_t)md->nfeat++;
	}
	if (tr->ntmp + 1 > tr->tmp_cap) {
		tr->tmp_cap = tr->tmp_cap ? tr->tmp_cap * 2 : 256;
		tr->tmp_row = xrealloc(tr->tmp_row, tr->tmp_cap *
				       sizeof(uint32_t));
		tr->tmp_cl = xrealloc(tr->tmp_cl, tr->tmp_cap *
				      sizeof(uint32_t));
	}
	tr->tmp_row[tr->ntmp] = md->rows[i];
	tr->tmp_cl[tr->ntmp] = clause;
	tr->ntmp++;
}

static void add_sample(struct trainer *tr, struct match *m, const char *text,
		       int corpus)
{
	const struct script *s = tr->s;
	struct sample *sm;
	size_t ni = s->nintents;

	match_run(m, s, text, strlen(text));
	tr->ntmp = 0;
	features(&m->norm, text, strlen(text), collect, tr);
	XGROW(tr->sm, tr->sm_cap, tr->nsm + 1);
	sm = &tr->sm[tr->nsm++];
	memset(sm, 0, sizeof(*sm));
	sm->text = text;
	sm->corpus = corpus;
	sm->pos = xcalloc(ni + 1, 1);
	sm->pat = xcalloc(ni + 1, 1);
	for (size_t i = 0; i < ni; i++)
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

/* Counts over all samples; LOO subtracts one sample from them. */
struct counts {
	uint32_t *ncf;            /* nfeat * nintents: samples of c with f */
	uint32_t *nf;             /* nfeat: samples with f */
	double *len_c;            /* nintents: features in samples of c */
	double len_all;
	uint32_t *docs_c;         /* nintents: samples of c */
	uint32_t docs;
	double *logk;             /* log(k + ALPHA), k < nlog */
	size_t nlog;
};

static double lg(const struct counts *ct, uint32_t k)
{
	return k < ct->nlog ? ct->logk[k] : log((double)k + ALPHA);
}

/* Scores of every intent for the features of one clause (rows[0..n))
 * of sample sm, with sm's own counts taken out when loo. */
static void score_rows(const struct counts *ct, size_t ni, size_t nfeat,
		       const struct sample *sm, int loo, const uint32_t *rows,
		       size_t n, double *out)
{
	double v = (double)nfeat * ALPHA;
	double ldocs = (double)ct->docs - (loo ? 1 : 0);
	double llen = ct->len_all - (loo ? (double)sm->nfeat : 0);

	for (size_t c = 0; c < ni; c++) {
		int in = loo && sm->pos[c];
		double dc = (double)ct->docs_c[c] - in;
		double lc = ct->len_c[c] - (in ? (double)sm->nfeat : 0);
		double lnc = llen - lc;
		double dpos = log(lc + v), dneg = log(lnc + v);
		double sc = log(dc + ALPHA) - log(ldocs - dc + ALPHA);

		for (size_t k = 0; k < n; k++) {
			uint32_t r = rows[k];
			uint32_t a = ct->ncf[(size_t)r * ni + c] -
				     (uint32_t)in;
			uint32_t b = ct->nf[r] - (loo ? 1u : 0u) - a;

			sc += lg(ct, a) - dpos - lg(ct, b) + dneg;
		}
		out[c] = sc;
	}
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

/* Leave-one-out scores of every sample (best clause, or the whole text
 * when better) into two histograms, then the sigmoid and the threshold
 * with the best F1 of patterns and model together. */
static void calibrate(struct model *md, const struct counts *ct,
		      const struct sample *sm, size_t nsm)
{
	size_t ni = md->nintents;
	double *pos = xcalloc(NBINS, sizeof(double));
	double *neg = xcalloc(NBINS, sizeof(double));
	double *best = xcalloc(ni + 1, sizeof(double));
	double *tmp = xcalloc(ni + 1, sizeof(double));
	double ptp = 0, pfp = 0, pfn = 0, bestf = -1;
	int bestb = NBINS - 1;

	for (size_t i = 0; i < nsm; i++) {
		const struct sample *x = &sm[i];
		size_t k = 0;

		score_rows(ct, ni, md->nfeat, x, 1, x->feat, x->nfeat, best);
		while (k < x->ncfeat) {
			size_t e = k;

			while (e < x->ncfeat && x->cfeat[e] == x->cfeat[k])
				e++;
			score_rows(ct, ni, md->nfeat, x, 1, x->crow + k,
				   e - k, tmp);
			for (size_t c = 0; c < ni; c++)
				if (tmp[c] > best[c])
					best[c] = tmp[c];
			k = e;
		}
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
	/* threshold: the bin from which model hits give the best F1 */
	{
		double tp = 0, fp = 0;

		md->info.loo_f1_pat = (float)f1_of(ptp, pfp, pfn);
		for (int b = NBINS - 1; b >= 0; b--) {
			double p, f;

			tp += pos[b];
			fp += neg[b];
			p = 1.0 / (1.0 + exp(-(md->platt_a * (BIN_LO + b *
					BIN_W) + md->platt_b)));
			if (p < MIN_THRESHOLD)
				break;
			f = f1_of(ptp + tp, pfp + fp, pfn - tp);
			if (f > bestf) {
				bestf = f;
				bestb = b;
			}
		}
	}
	md->threshold_score = (float)(BIN_LO + bestb * BIN_W);
	md->info.threshold = (float)(1.0 / (1.0 + exp(-(md->platt_a *
		md->threshold_score + md->platt_b))));
	md->info.loo_f1 = bestf < 0 ? md->info.loo_f1_pat : (float)bestf;
	if (bestf < md->info.loo_f1_pat) {
		/* the model does not help: it never fires */
		md->threshold_score = INFINITY;
		md->info.loo_f1 = md->info.loo_f1_pat;
	}
	free(pos);
	free(neg);
	free(best);
	free(tmp);
}

static void set_weights(struct model *md, const struct counts *ct)
{
	size_t ni = md->nintents;
	double v = (double)md->nfeat * ALPHA;

	md->w = xcalloc(md->nfeat * ni + 1, sizeof(float));
	md->prior = xcalloc(ni + 1, sizeof(float));
	for (size_t c = 0; c < ni; c++) {
		double lnc = ct->len_all - ct->len_c[c];
		double dpos = log(ct->len_c[c] + v), dneg = log(lnc + v);

		md->prior[c] = (float)(log(ct->docs_c[c] + ALPHA) -
				       log(ct->docs - ct->docs_c[c] + ALPHA));
		for (size_t r = 0; r < md->nfeat; r++) {
			uint32_t a = ct->ncf[r * ni + c];

			md->w[r * ni + c] = (float)(lg(ct, a) - dpos -
						    lg(ct, ct->nf[r] - a) +
						    dneg);
		}
	}
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
			memcpy(sm->pos, sm->pat, s->nintents);
			sm->pos[i] = (uint8_t)ex->should_match;
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

struct model *model_train(const struct script *s, const struct corpus *train)
{
	struct trainer tr;
	struct counts ct;
	struct match m;
	struct model *md;
	size_t ni = s->nintents;

	if (!ni)
		return NULL;
	memset(&tr, 0, sizeof(tr));
	memset(&ct, 0, sizeof(ct));
	md = xcalloc(1, sizeof(*md));
	md->nintents = ni;
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
	ct.ncf = xcalloc(md->nfeat * ni + 1, sizeof(uint32_t));
	ct.nf = xcalloc(md->nfeat + 1, sizeof(uint32_t));
	ct.len_c = xcalloc(ni + 1, sizeof(double));
	ct.docs_c = xcalloc(ni + 1, sizeof(uint32_t));
	for (size_t i = 0; i < tr.nsm; i++) {
		const struct sample *x = &tr.sm[i];

		ct.docs++;
		ct.len_all += (double)x->nfeat;
		for (size_t c = 0; c < ni; c++)
			if (x->pos[c]) {
				ct.docs_c[c]++;
				ct.len_c[c] += (double)x->nfeat;
			}
		for (size_t k = 0; k < x->nfeat; k++) {
			uint32_t r = x->feat[k];

			ct.nf[r]++;
			for (size_t c = 0; c < ni; c++)
				ct.ncf[(size_t)r * ni + c] += x->pos[c];
		}
	}
	ct.nlog = tr.nsm + 2;
	ct.logk = xcalloc(ct.nlog, sizeof(double));
	for (size_t k = 0; k < ct.nlog; k++)
		ct.logk[k] = log((double)k + ALPHA);
	set_weights(md, &ct);
	md->info.nsamples = tr.nsm;
	md->info.nfeatures = md->nfeat;
	calibrate(md, &ct, tr.sm, tr.nsm);
out:
	for (size_t i = 0; i < tr.nsm; i++)
		sample_release(&tr.sm[i]);
	free(tr.sm);
	free(tr.tmp_row);
	free(tr.tmp_cl);
	free(ct.ncf);
	free(ct.nf);
	free(ct.len_c);
	free(ct.docs_c);
	free(ct.logk);
	return md;
}

void model_free(struct model *md)
{
	if (!md)
		return;
	free(md->keys);
	free(md->rows);
	free(md->w);
	free(md->prior);
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

static void lookup(uint64_t key, uint32_t clause, void *ctx)
{
	struct runctx *rc = ctx;
	struct match *m = rc->m;
	long r = row_of(rc->md, key);

	if (r < 0)
		return;
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

static float confidence(const struct model *md, float score)
{
	return 1.0f / (1.0f + expf(-(md->platt_a * score + md->platt_b)));
}

/* Add the weights of the rows into acc, each row once (stamp). */
static void accumulate(const struct model *md, struct match *m,
		       const uint32_t *rows, size_t n, float *acc)
{
	size_t ni = md->nintents;

	memcpy(acc, md->prior, ni * sizeof(float));
	m->mstamp_gen++;
	if (m->mstamp_gen == 0) {
		memset(m->mstamp, 0, md->nfeat * sizeof(uint32_t));
		m->mstamp_gen = 1;
	}
	for (size_t k = 0; k < n; k++) {
		const float *w;

		if (m->mstamp[rows[k]] == m->mstamp_gen)
			continue;
		m->mstamp[rows[k]] = m->mstamp_gen;
		w = md->w + (size_t)rows[k] * ni;
		for (size_t c = 0; c < ni; c++)
			acc[c] += w[c];
	}
}

static void clause_span(const struct match *m, uint32_t clause,
			struct match_span *sp)
{
	const struct norm *n = &m->norm;
	size_t a = 0, b;

	while (a < n->ntok && n->tok[a].clause != clause)
		a++;
	sp->start = 0;
	sp->len = 0;
	if (a == n->ntok)
		return;
	b = a;
	while (b + 1 < n->ntok && n->tok[b + 1].clause == clause)
		b++;
	sp->start = n->tok[a].src_start;
	sp->len = n->tok[b].src_start + n->tok[b].src_len -
		  n->tok[a].src_start;
}

void model_run(const struct model *md, struct match *m, const char *text,
	       size_t len)
{
	struct runctx rc = { md, m };
	size_t ni, k = 0;
	float *acc, *best, *cbest;

	if (!md || !m->norm.ntok || md->threshold_score == INFINITY)
		return;
	ni = md->nintents;
	if (md->nfeat > m->mstamp_cap) {
		free(m->mstamp);
		m->mstamp = xcalloc(md->nfeat, sizeof(uint32_t));
		m->mstamp_cap = md->nfeat;
		m->mstamp_gen = 0;
	}
	if (3 * ni > m->macc_cap) {
		free(m->macc);
		m->macc = xcalloc(3 * ni, sizeof(float));
		m->macc_cap = 3 * ni;
	}
	acc = m->macc;
	best = m->macc + ni;
	cbest = m->macc + 2 * ni;
	m->nmfeat = 0;
	features(&m->norm, text, len, lookup, &rc);
	/* the whole message first, credited to the clause that scores
	 * best on its own */
	accumulate(md, m, m->mfeat, m->nmfeat, best);
	for (size_t c = 0; c < ni; c++)
		m->model_clause[c] = m->norm.tok[0].clause;
	for (size_t c = 0; c < ni; c++)
		cbest[c] = -INFINITY;
	while (k < m->nmfeat) {
		size_t e = k;
		uint32_t cl = m->mfclause[k];

		while (e < m->nmfeat && m->mfclause[e] == cl)
			e++;
		accumulate(md, m, m->mfeat + k, e - k, acc);
		for (size_t c = 0; c < ni; c++) {
			if (acc[c] > cbest[c]) {
				cbest[c] = acc[c];
				m->model_clause[c] = cl;
			}
			if (acc[c] > best[c])
				best[c] = acc[c];
		}
		k = e;
	}
	for (size_t c = 0; c < ni; c++) {
		if (m->hit[c])
			continue;
		m->conf[c] = confidence(md, best[c]);
		if (best[c] < md->threshold_score)
			continue;
		m->hit[c] = 1;
		m->how[c] = MATCH_BY_MODEL;
		clause_span(m, m->model_clause[c], &m->span[c]);
	}
}
