/* match.c - see match.h
 *
 * A message is normalised (norm.h), its words looked up as lexicon
 * classes of the script (lexicon.h: inflection, typos, compounds), split
 * into clauses (clause.h), and checked for another language (lang.h).
 * Patterns then match classes; a match counts only where its clause
 * allows it (scope_ok): not negated for a guarded pattern, not someone
 * else's words, not an als-clause when the pattern says so, and the act
 * the pattern asks for.
 */
#include "match.h"

#include <stdlib.h>
#include <string.h>

#include "clause.h"
#include "lang.h"
#include "model.h"

/* A pattern with many wildcards could backtrack a lot on a long message;
 * each match_run gets this many steps per intent, then gives up. In the
 * first-word index every (pattern, start) try draws from one pool of
 * that size times the number of intents (m->steps counts what is used):
 * a fresh budget per start would let one message of 4096 words cost
 * 4096 budgets. */
#define MATCH_STEP_BUDGET 200000

struct cont {
	const struct pat_seq *q;
	size_t i;
	const struct cont *next;
};

struct ctx {
	struct match *m;
	const struct script *s;
	size_t lim;      /* end of the clause (exclusive) */
	size_t budget;
};

static long seq_match(struct ctx *x, const struct pat_seq *q, size_t i,
		      size_t pos, const struct cont *k);

/* struct match's cpos bit of token pos */
static inline uint64_t pos_bit(size_t pos)
{
	return UINT64_C(1) << (pos < 63 ? pos : 63);
}

static int word_at(const struct ctx *x, const struct pat *p, size_t pos)
{
	const struct norm_token *t;

	if (pos >= x->lim)
		return 0;
	if (p->kind == PAT_WORD) {
		if (x->m->ids[pos] != lexicon_class(&x->s->lex, p->word))
			return 0;
		return !p->exact || !strcmp(x->m->norm.tok[pos].word,
					    x->s->words[p->word]);
	}
	t = &x->m->norm.tok[pos];
	return t->len >= p->len && memcmp(t->word, p->text, p->len) == 0;
}

/* seq_match at the end of a sequence: the continuation k from pos. */
static long seq_done(struct ctx *x, size_t pos, const struct cont *k)
{
	if (x->budget == 0)
		return -1;
	x->budget--;
	if (!k)
		return (long)pos;
	return seq_match(x, k->q, k->i, pos, k->next);
}

/* Match the alternatives subs (with continuation k after them). A
 * one-word alternative (one_cls) is tested here, as seq_match would
 * (the same steps of the budget, the same continuation), without
 * reading its elements: a concept's word list is mostly such words,
 * and reading each one's element was a cache miss per word. */
static long alts_match(struct ctx *x, const struct pat_seq *subs, size_t n,
		       size_t pos, const struct cont *k)
{
	for (size_t j = 0; j < n; j++) {
		long r;

		if (subs[j].one_cls) {
			if (x->budget == 0)
				continue;
			x->budget--;
			if (pos >= x->lim || x->m->ids[pos] != subs[j].one_cls)
				continue;
			r = seq_done(x, pos + 1, k);
		} else {
			r = seq_match(x, &subs[j], 0, pos, k);
		}
		if (r >= 0)
			return r;
	}
	return -1;
}

/* Returns the end position of a match of q[i..] followed by k, or -1. */
static long seq_match(struct ctx *x, const struct pat_seq *q, size_t i,
		      size_t pos, const struct cont *k)
{
	const struct pat *p;
	struct cont c;

	if (x->budget == 0)
		return -1;
	x->budget--;
	if (i == q->n) {
		if (!k)
			return (long)pos;
		return seq_match(x, k->q, k->i, pos, k->next);
	}
	p = &q->el[i];
	switch (p->kind) {
	case PAT_WORD:
	case PAT_PREFIX:
		if (!word_at(x, p, pos))
			return -1;
		return seq_match(x, q, i + 1, pos + 1, k);
	case PAT_ANY:
		for (size_t at = pos; at <= x->lim; at++) {
			long r = seq_match(x, q, i + 1, at, k);

			if (r >= 0)
				return r;
		}
		return -1;
	case PAT_OPT: {
		long r;

		c.q = q;
		c.i = i + 1;
		c.next = k;
		r = seq_match(x, &p->subs[0], 0, pos, &c);
		if (r >= 0)
			return r;
		return seq_match(x, q, i + 1, pos, k);
	}
	case PAT_ALT:
		c.q = q;
		c.i = i + 1;
		c.next = k;
		return alts_match(x, p->subs, p->nsubs, pos, &c);
	case PAT_CONCEPT: {
		const struct concept *cp = &x->s->concepts[p->concept];

		/* no word here can start it: none of its alternatives
		 * can match (concept_of lists every first word) */
		if (!cp->open && !(x->m->cpos[p->concept] & pos_bit(pos)))
			return -1;
		c.q = q;
		c.i = i + 1;
		c.next = k;
		return alts_match(x, cp->alts, cp->nalts, pos, &c);
	}
	case PAT_UNORDERED:
		/* handled by pattern_match; skip positionally */
		return seq_match(x, q, i + 1, pos, k);
	case PAT_START:
		/* ^: no word of the clause before pos */
		if (pos >= x->lim ||
		    pos != x->m->clause[x->m->tok_clause[pos]].tok)
			return -1;
		return seq_match(x, q, i + 1, pos, k);
	case PAT_END:
		/* $: no word of the clause from pos */
		if (pos != x->lim)
			return -1;
		return seq_match(x, q, i + 1, pos, k);
	}
	return -1;
}

/* Does a negation scope over a match of tokens [start, end) of q? A
 * negation word of the clause the match starts in, outside the match,
 * does; so does a negation that clause inherits ("ik zeg niet | dat…").
 * Negation words inside the match are part of what the pattern says
 * when it names one itself ("als je niet"); one that a * took in does
 * void it ("ik heb je dossier nog niet gelezen" is no "dossier *
 * gelezen"). A negation in a later clause the match runs into voids
 * it the same way when the match took it in with a *: "ik maak
 * aantekeningen, want … en niks gaat naar school" sends nothing to
 * school; one the pattern names stays its own ("ik snap | dat het
 * niet makkelijk is" for "snap * niet makkelijk"). */
static int negated(const struct match *m, const struct pat_seq *q,
		   size_t start, size_t end)
{
	uint32_t first = m->tok_clause[start];
	uint32_t last = end > start ? m->tok_clause[end - 1] : first;

	/* every clause the match runs through: "ik maak aantekeningen,
	 * want … maar jij leest ze eerst en niks gaat naar school" does
	 * not send the notes to school */
	for (uint32_t c = first; c <= last && c < m->nclause; c++) {
		const struct match_clause *cl = &m->clause[c];
		int own = 0;

		/* a later clause in someone's words: "Je zegt | dat je
		 * niet meer naar de training gaat" gives her words back */
		if (!cl->negated || (c != first && cl->reported))
			continue;
		/* "ik ga niet zeggen | dat het niet jouw schuld is": the
		 * negation the clause inherits voids even a pattern that
		 * names its own */
		if (cl->neg_inherited && c == first)
			return 1;
		for (size_t j = cl->tok; j < cl->tok + cl->ntok; j++) {
			if (!m->neg[j])
				continue;
			own = 1;
			/* in a later clause only a negation a * took in
			 * voids it */
			if (c != first && (j < start || j >= end))
				continue;
			if (j < start || j >= end || !q->says_neg)
				return 1;
		}
		if (!own && c == first)
			return 1;
	}
	return 0;
}

/* May a match of q on tokens [start, end) count, given its clause? */
static int scope_ok(const struct match *m, const struct pat_seq *q,
		    size_t start, size_t end)
{
	const struct match_clause *c = &m->clause[m->tok_clause[start]];

	if (q->guard && negated(m, q, start, end))
		return 0;
	if (c->other_lang || c->offstage)
		return 0;
	if (c->reported && !q->reported_ok)
		return 0;
	if (c->conditional && !q->cond_ok)
		return 0;
	if (q->acts && !(q->acts & (1u << c->act)))
		return 0;
	return 1;
}

/* Find q (positional part only) anywhere; fill span on success. */
static int find_seq(struct ctx *x, const struct pat_seq *q,
		    const struct pat_seq *top, struct match_span *span,
		    uint32_t *clause, uint32_t *reach)
{
	struct match *m = x->m;

	for (size_t start = 0; start < m->norm.ntok; start++) {
		long end;

		x->lim = m->clause_end[start];
		end = seq_match(x, q, 0, start, NULL);
		if (end <= (long)start)
			continue;
		if (!scope_ok(m, top, start, (size_t)end))
			continue;
		if (span) {
			const struct norm_token *a = &m->norm.tok[start];
			const struct norm_token *b = &m->norm.tok[end - 1];

			span->start = a->src_start;
			span->len = b->src_start + b->src_len - a->src_start;
		}
		if (clause)
			*clause = m->tok_clause[start];
		if (reach)
			*reach = m->tok_clause[end - 1];
		return 1;
	}
	return 0;
}

static int has_positional(const struct pat_seq *q)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->el[i].kind != PAT_UNORDERED)
			return 1;
	return 0;
}

static int pattern_match(struct ctx *x, const struct pat_seq *q,
			 struct match_span *span, uint32_t *clause,
			 uint32_t *reach)
{
	struct match_span first = { 0, 0 };
	uint32_t first_clause = 0, last = 0;

	for (size_t i = 0; i < q->n; i++) {
		const struct pat *p = &q->el[i];

		if (p->kind != PAT_UNORDERED)
			continue;
		/* every element of <a b c> on its own, anywhere */
		for (size_t j = 0; j < p->subs[0].n; j++) {
			struct pat_seq one = { .el = &p->subs[0].el[j],
					       .n = 1 };
			struct match_span sp;
			uint32_t c, r;

			if (!find_seq(x, &one, q, &sp, &c, &r))
				return 0;
			if (!first.len) {
				first = sp;
				first_clause = c;
			}
			if (r > last)
				last = r;
		}
	}
	if (has_positional(q)) {
		if (!find_seq(x, q, q, span, clause, reach))
			return 0;
		if (*reach < last)
			*reach = last;
		return 1;
	}
	*span = first;
	*clause = first_clause;
	*reach = last;   /* at least the first element's clause */
	return 1;
}

void match_init(struct match *m)
{
	memset(m, 0, sizeof(*m));
	norm_init(&m->norm);
}

void match_release(struct match *m)
{
	norm_release(&m->norm);
	free(m->hit);
	free(m->span);
	free(m->ids);
	free(m->tok_clause);
	free(m->how);
	free(m->clause);
	free(m->hit_clause);
	free(m->hit_reach);
	free(m->clause_end);
	free(m->neg);
	free(m->present);
	free(m->cpos);
	free(m->req_miss);
	free(m->pfx);
	free(m->hit_how);
	free(m->conf);
	free(m->cand);
	free(m->mfeat);
	free(m->mfclause);
	free(m->mstamp);
	free(m->macc);
	free(m->mtouch);
	memset(m, 0, sizeof(*m));
}

/* A 'moet' of supposition reads as 'lijkt' ("dat moet zwaar zijn" is
 * "dat lijkt zwaar"): patterns of empathy still find it, 'je moet' of
 * pressure does not (clause_is_supposition). 0 when no pattern of the
 * script names 'lijkt'. */
static uint32_t supposition_id(const struct script *s)
{
	uint32_t id = script_word_id(s, "lijkt", 5);

	return id ? lexicon_class(&s->lex, id) : 0;
}

static void prepare(struct match *m, const struct script *s, const char *text,
		    size_t len)
{
	size_t n = norm_run(&m->norm, text, len);
	size_t ni = s->nintents ? s->nintents : 1;
	size_t ncls = s->lex.ncls + 1;

	if (n > m->tok_cap) {
		size_t cap = m->tok_cap;

		XGROW(m->ids, cap, n);
		cap = m->tok_cap;
		XGROW(m->clause_end, cap, n);
		cap = m->tok_cap;
		XGROW(m->neg, cap, n);
		cap = m->tok_cap;
		XGROW(m->tok_clause, cap, n);
		cap = m->tok_cap;
		XGROW(m->how, cap, n);
		cap = m->tok_cap;
		XGROW(m->clause, cap, n);
		m->tok_cap = cap;
	}
	if (ni > m->intent_cap) {
		size_t cap = m->intent_cap;

		XGROW(m->hit, cap, ni);
		cap = m->intent_cap;
		XGROW(m->span, cap, ni);
		cap = m->intent_cap;
		XGROW(m->hit_clause, cap, ni);
		cap = m->intent_cap;
		XGROW(m->hit_reach, cap, ni);
		cap = m->intent_cap;
		XGROW(m->hit_how, cap, ni);
		cap = m->intent_cap;
		XGROW(m->conf, cap, ni);
		cap = m->intent_cap;
		XGROW(m->cand, cap, ni);
		m->intent_cap = cap;
	}
	if (ncls > m->present_cap) {
		size_t cap = m->present_cap;

		XGROW(m->present, cap, ncls);
		m->present_cap = cap;
	}
	memset(m->present, 0, ncls);
	m->script = s;
	m->nclause = clause_split(&m->norm, text, len, m->clause,
				  m->tok_clause);
	/* A message in another language gets the builtin andere-taal;
	 * one that mixes is heard by its Dutch clauses, and no pattern
	 * counts in an English clause (a coincidence of Dutch words). */
	{
		size_t en_all = 0, nl_all = 0, heard = 0;
		int dutch = 0;

		/* the clauses hold every word once (clause_split) */
		for (size_t c = 0; c < m->nclause; c++) {
			struct match_clause *cl = &m->clause[c];
			size_t en, nl;
			int l;

			lang_count(&m->norm, cl->tok, cl->tok + cl->ntok, &en,
				   &nl);
			l = lang_judge(en, nl);
			cl->other_lang = l > 0;
			dutch |= l < 0;
			en_all += en;
			nl_all += nl;
			heard += !cl->other_lang && !cl->offstage;
		}
		m->lang_other = lang_judge(en_all, nl_all) > 0 && !dutch;
		m->unheard = !heard;
	}
	for (size_t i = 0; i < n; i++) {
		const struct norm_token *t = &m->norm.tok[i];
		enum lexicon_how how = LEXICON_NONE;

		if (clause_is_supposition(&m->norm, i))
			m->ids[i] = supposition_id(s);
		else
			m->ids[i] = lexicon_find_token(&s->lex, t, &how);
		m->how[i] = (uint8_t)how;
		m->present[m->ids[i]] = 1;
		m->neg[i] = (uint8_t)clause_is_negation(&m->norm, i);
	}
	/* which "prefix*" of the script each word has; from the first
	 * length whose beginning no prefix has, none (pfx_begin) */
	m->npfx = 0;
	for (size_t i = 0; s->prefix_min && i < n; i++) {
		const struct norm_token *t = &m->norm.tok[i];
		uint32_t h = SCRIPT_PFX_H0;

		for (uint32_t l = 1; l <= s->prefix_max && l <= t->len; l++) {
			char key[72];
			uint32_t id, b;

			h = script_pfx_step(h, (unsigned char)t->word[l - 1]);
			b = h % SCRIPT_PFX_BITS;
			if (!((s->pfx_begin[b / 64] >> (b % 64)) & 1))
				break;
			if (l < s->prefix_min)
				continue;
			memcpy(key, t->word, l);
			key[l] = '*';
			id = script_word_id(s, key, l + 1);
			if (!id)
				continue;
			id = lexicon_class(&s->lex, id);
			m->present[id] = 1;
			XGROW(m->pfx, m->pfx_cap, m->npfx + 1);
			m->pfx[m->npfx].pos = (uint32_t)i;
			m->pfx[m->npfx].id = id;
			m->npfx++;
		}
	}
	/* where a word of the message can start which concept (req's
	 * groups; seq_match skips the others) */
	if (s->nconcepts + 1 > m->cpos_cap) {
		size_t cap = m->cpos_cap;

		XGROW(m->cpos, cap, s->nconcepts + 1);
		m->cpos_cap = cap;
	}
	memset(m->cpos, 0, (s->nconcepts + 1) * sizeof(*m->cpos));
	if (s->nfirst > m->req_miss_cap) {
		free(m->req_miss);
		m->req_miss = xcalloc(s->nfirst, sizeof(*m->req_miss));
		m->req_miss_cap = s->nfirst;
		m->req_gen = 0;
	}
	/* a new generation forgets the last message's misses; at the
	 * wrap, the stamps are cleared so that none is mistaken */
	if (++m->req_gen == 0) {
		memset(m->req_miss, 0, m->req_miss_cap * sizeof(*m->req_miss));
		m->req_gen = 1;
	}
	for (size_t i = 0; s->concept_off && i < n + m->npfx; i++) {
		uint32_t w = i < n ? m->ids[i] : m->pfx[i - n].id;
		uint64_t bit = pos_bit(i < n ? i : m->pfx[i - n].pos);

		for (uint32_t k = s->concept_off[w];
		     k < s->concept_off[w + 1]; k++)
			m->cpos[s->concept_of[k]] |= bit;
	}
	for (size_t i = n; i > 0; i--) {
		size_t j = i - 1;

		if (i == n || m->norm.tok[j].clause != m->norm.tok[i].clause)
			m->clause_end[j] = (uint32_t)i;
		else
			m->clause_end[j] = m->clause_end[i];
	}
}

static int intent_test(struct match *m, const struct script *s, uint32_t i)
{
	const struct intent *in = &s->intents[i];
	struct ctx x;

	x.m = m;
	x.s = s;
	x.lim = 0;
	x.budget = MATCH_STEP_BUDGET;
	m->span[i].start = 0;
	m->span[i].len = 0;
	if (in->builtin)
		return (int)i == s->other_language && m->lang_other;
	if (m->lang_other)
		return 0;
	for (size_t j = 0; j < in->npats; j++)
		if (pattern_match(&x, &in->pats[j], &m->span[i],
				  &m->hit_clause[i], &m->hit_reach[i]))
			return 1;
	return 0;
}

/* Try pattern r of s at start; on success mark the intent. */
/* Does the message hold what every match of q holds (script.h, req):
 * each plain word, and a word of each group? */
static int has_required(const struct match *m, const struct pat_seq *q)
{
	for (size_t i = 0; i < q->nreq; i++) {
		uint32_t e = q->req[i], k;
		int found = 0;

		if (!(e & REQ_GROUP)) {
			if (!m->present[e])
				return 0;
			continue;
		}
		k = e & ~REQ_GROUP;
		for (uint32_t j = 1; j <= k && !found; j++) {
			uint32_t a = q->req[i + j];

			found = a & REQ_CONCEPT ?
				m->cpos[a & ~REQ_CONCEPT] != 0 :
				m->present[a];
		}
		if (!found)
			return 0;
		i += k;
	}
	return 1;
}

static void try_at(struct match *m, const struct script *s,
		   const struct pat_ref *r, size_t start)
{
	const struct intent *in = &s->intents[r->intent];
	size_t pool = MATCH_STEP_BUDGET * (s->nintents ? s->nintents : 1);
	size_t given;
	struct ctx x;
	long end;

	if (m->steps >= pool)
		return;
	given = pool - m->steps;
	if (given > MATCH_STEP_BUDGET)
		given = MATCH_STEP_BUDGET;
	x.m = m;
	x.s = s;
	x.lim = m->clause_end[start];
	x.budget = given;
	end = seq_match(&x, &in->pats[r->pat], 0, start, NULL);
	m->steps += given - x.budget;
	if (end <= (long)start)
		return;
	if (!scope_ok(m, &in->pats[r->pat], start, (size_t)end))
		return;
	m->hit_clause[r->intent] = m->tok_clause[start];
	m->hit_reach[r->intent] = m->tok_clause[end - 1];
	{
		const struct norm_token *a = &m->norm.tok[start];
		const struct norm_token *b = &m->norm.tok[end - 1];

		m->span[r->intent].start = a->src_start;
		m->span[r->intent].len = b->src_start + b->src_len -
					 a->src_start;
	}
	m->hit[r->intent] = 1;
}

static void try_word(struct match *m, const struct script *s, uint32_t w,
		     size_t pos)
{
	if (!w)
		return;
	for (uint32_t k = s->first_off[w]; k < s->first_off[w + 1]; k++) {
		const struct pat_ref *r = &s->first_refs[k];
		uint16_t q = s->first_req[k];

		if (m->hit[r->intent] || (q && !m->present[q]) ||
		    m->req_miss[k] == m->req_gen)
			continue;
		/* what the message holds does not change between the
		 * places a word recurs: a pattern that lacks a required
		 * word lacks it at every one */
		if (!has_required(m, &s->intents[r->intent].pats[r->pat])) {
			m->req_miss[k] = m->req_gen;
			continue;
		}
		try_at(m, s, r, pos);
	}
}

/* What the patterns found is theirs; the model (model.h) may add. */
static void mark_patterns(struct match *m, const struct script *s)
{
	m->ncand = 0;
	for (size_t i = 0; i < s->nintents; i++) {
		m->hit_how[i] = m->hit[i] ? MATCH_BY_PATTERN : 0;
		m->conf[i] = m->hit[i] ? 1.0f : 0.0f;
	}
}

static void take_back_unless(struct match *m, const struct script *s);

/* Word by word, only the patterns that can start with that word are
 * tried (the first-word index of script.h); the rest the slow way. */
void match_run(struct match *m, const struct script *s, const char *text,
	       size_t len)
{
	prepare(m, s, text, len);
	memset(m->hit, 0, s->nintents);
	memset(m->span, 0, s->nintents * sizeof(*m->span));
	memset(m->hit_clause, 0, s->nintents * sizeof(*m->hit_clause));
	memset(m->hit_reach, 0, s->nintents * sizeof(*m->hit_reach));
	m->steps = 0;
	if (m->lang_other) {
		/* a Dutch pattern found in English is a coincidence */
		if (s->other_language >= 0 &&
		    (size_t)s->other_language < s->nintents)
			m->hit[s->other_language] = 1;
		mark_patterns(m, s);
		return;
	}
	for (size_t pos = 0, k = 0; pos < m->norm.ntok; pos++) {
		try_word(m, s, m->ids[pos], pos);
		/* patterns that start with a prefix of this word */
		for (; k < m->npfx && m->pfx[k].pos == pos; k++)
			try_word(m, s, m->pfx[k].id, pos);
	}
	for (size_t k = 0; k < s->nany; k++) {
		const struct pat_ref *r = &s->any_refs[k];
		const struct intent *in = &s->intents[r->intent];
		struct ctx x;

		if (m->hit[r->intent] ||
		    !has_required(m, &in->pats[r->pat]))
			continue;
		x.m = m;
		x.s = s;
		x.lim = 0;
		x.budget = MATCH_STEP_BUDGET;
		if (pattern_match(&x, &in->pats[r->pat], &m->span[r->intent],
				  &m->hit_clause[r->intent],
				  &m->hit_reach[r->intent]))
			m->hit[r->intent] = 1;
	}
	mark_patterns(m, s);
	model_run(s->model, m, text, len);
	take_back_unless(m, s);
}

/* 'tenzij': an intent found beside one of its tenzij-intents does not
 * count ("een risicotaxatie betekent…" explains the word, it is no
 * jargon). The tenzij-intent must be found by a pattern (so that
 * match_intent, which has no model, agrees); it is decided on the hits
 * before any is taken back, so the order of the intents does not
 * matter. */
static void take_back_unless(struct match *m, const struct script *s)
{
	/* mark first (hit 2), clear after: a mark leaves hit_how alone */
	for (uint32_t i = 0; i < s->nintents; i++) {
		const struct intent *in = &s->intents[i];

		for (size_t j = 0; m->hit[i] && j < in->nunless; j++)
			if (m->hit_how[in->unless[j].intent] ==
			    MATCH_BY_PATTERN) {
				m->hit[i] = 2;
				break;
			}
	}
	for (uint32_t i = 0; i < s->nintents; i++)
		if (m->hit[i] == 2) {
			m->hit[i] = 0;
			m->hit_how[i] = 0;
			m->conf[i] = 0;
			m->span[i].start = m->span[i].len = 0;
		}
}

int match_intent(struct match *m, const struct script *s, uint32_t intent,
		 const char *text)
{
	const struct intent *in = &s->intents[intent];

	prepare(m, s, text, strlen(text));
	if (!intent_test(m, s, intent))
		return 0;
	/* as match_run would take it back ('tenzij'; patterns only here) */
	for (size_t j = 0; j < in->nunless; j++)
		if (intent_test(m, s, in->unless[j].intent))
			return 0;
	return 1;
}
