/* check.c - see check.h */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "match.h"

#define WALK_MAX_STATES 6000
#define RANDOM_WALKS 400
#define RANDOM_WALK_TURNS 60
#define SEARCH_EXPANSIONS 4000   /* per unreached node */
#define SEARCH_MAX_DEPTH 80
#define MAX_LINE_CHARS 400
#define REPS_PER_NODE 4          /* states per phase the examples run in */

void check_result_release(struct check_result *r)
{
	free(r->reached);
	free(r->points_used);
	diag_release(&r->warnings);
	memset(r, 0, sizeof(*r));
}

static size_t run_examples(const struct script *s, struct check_result *r,
			   struct diag *d)
{
	struct match m;
	size_t bad = 0;

	match_init(&m);
	for (size_t i = 0; i < s->nintents; i++) {
		const struct intent *in = &s->intents[i];
		size_t yes = 0;

		for (size_t j = 0; j < in->nexamples; j++) {
			const struct example *ex = &in->examples[j];
			int hit = match_intent(&m, s, (uint32_t)i, ex->text);

			r->examples++;
			yes += ex->should_match;
			if (hit == ex->should_match)
				continue;
			r->examples_failed++;
			bad++;
			diag_add(d, &ex->loc, ex->should_match ?
				 "voorbeeld past niet op bedoeling '%s': %s" :
				 "voorbeeld past toch op bedoeling '%s': %s",
				 in->name, ex->text);
		}
		if (!yes && !in->builtin) {
			bad++;
			diag_add(d, &in->loc, "bedoeling '%s' heeft geen "
				 "voorbeeld 'ja:'", in->name);
		}
	}
	match_release(&m);
	return bad;
}

static int expr_uses(const struct expr *e, uint32_t intent)
{
	if (!e)
		return 0;
	if (e->kind == EXPR_INTENT)
		return e->index == intent;
	return expr_uses(e->a, intent) || expr_uses(e->b, intent);
}

static int node_uses(const struct node *n, uint32_t intent)
{
	for (size_t i = 0; n && i < n->ntrans; i++)
		if (expr_uses(n->trans[i].cond, intent))
			return 1;
	return 0;
}

/* Every scenario answers a message in another language in character:
 * some rule or transition must use the builtin andere-taal. */
static size_t check_other_language(const struct script *s, struct diag *d)
{
	uint32_t k;

	if (!s->id || s->other_language < 0)
		return 0;
	k = (uint32_t)s->other_language;
	for (size_t i = 0; i < s->nrules; i++)
		if (expr_uses(s->rules[i].cond, k))
			return 0;
	for (size_t i = 0; i < s->nnodes; i++)
		if (node_uses(&s->nodes[i], k))
			return 0;
	if (node_uses(s->standaard, k))
		return 0;
	diag_add(d, &s->id_loc, "scenario '%s' reageert nergens op '%s' "
		 "(een bericht in een andere taal): geef het een regel "
		 "'als %s'", s->id, INTENT_OTHER_LANGUAGE,
		 INTENT_OTHER_LANGUAGE);
	return 1;
}

/* --- the walk --- */

struct input {
	const char *text;
	struct match m;
};

struct hset {
	uint64_t *v;
	size_t cap, n;
};

static int hset_add(struct hset *h, uint64_t x)
{
	size_t i;

	if (x == 0)
		x = 1;
	if ((h->n + 1) * 2 > h->cap) {
		struct hset n = { xcalloc(h->cap ? h->cap * 2 : 1024,
					  sizeof(uint64_t)),
				  h->cap ? h->cap * 2 : 1024, 0 };

		for (size_t k = 0; k < h->cap; k++)
			if (h->v[k])
				hset_add(&n, h->v[k]);
		free(h->v);
		*h = n;
	}
	i = (size_t)(x % h->cap);
	while (h->v[i]) {
		if (h->v[i] == x)
			return 0;
		i = (i + 1) % h->cap;
	}
	h->v[i] = x;
	h->n++;
	return 1;
}

/* A few states of the walk per phase, to run the examples in. */
struct reps {
	struct engine **v;     /* nnodes * REPS_PER_NODE */
	uint8_t *n;            /* per node */
};

static void rep_note(struct reps *rp, const struct engine *e)
{
	uint32_t node = engine_node(e);

	if (!rp || engine_ended(e) || rp->n[node] >= REPS_PER_NODE)
		return;
	rp->v[node * REPS_PER_NODE + rp->n[node]++] = engine_clone(e);
}

static size_t collect_inputs(const struct script *s, struct input **out)
{
	struct input *in = NULL;
	size_t n = 0, cap = 0;
	static const char miss[] = "xq zzv wubbel";

	for (size_t i = 0; i <= s->nintents; i++) {
		const struct intent *it = i < s->nintents ? &s->intents[i] :
					  NULL;
		size_t nex = it ? it->nexamples : 1;

		for (size_t j = 0; j < nex; j++) {
			const char *text = it ? it->examples[j].text : miss;
			int dup = 0;

			if (it && !it->examples[j].should_match)
				continue;
			XGROW(in, cap, n + 1);
			in[n].text = text;
			match_init(&in[n].m);
			match_run(&in[n].m, s, text, strlen(text));
			/* inputs that match the same intents act the same */
			for (size_t k = 0; k < n && !dup; k++)
				dup = memcmp(in[k].m.hit, in[n].m.hit,
					     s->nintents) == 0;
			if (dup)
				match_release(&in[n].m);
			else
				n++;
		}
	}
	*out = in;
	return n;
}

static size_t count_reached(const struct script *s, const uint8_t *reached)
{
	size_t k = 0;

	for (size_t i = 0; i < s->nnodes; i++)
		k += reached[i];
	return k;
}

/* --- guided search: best-first towards one node --- */

/* Static distance (in moves) from every node to target, following every
 * 'naar' of the node itself, of 'standaard' and of the rules. */
static void distances(const struct script *s, uint32_t target, int *dist)
{
	size_t n = s->nnodes;
	int changed = 1;

	for (size_t i = 0; i < n; i++)
		dist[i] = i == target ? 0 : 1 << 20;
	while (changed) {
		changed = 0;
		for (size_t i = 0; i < n; i++) {
			const struct node *nd = &s->nodes[i];
			int best = dist[i];

#define EDGES(list, count, field) \
	for (size_t a_ = 0; a_ < (count); a_++) \
		for (size_t b_ = 0; b_ < (list)[a_].field.n; b_++) \
			if ((list)[a_].field.v[b_].kind == ACT_GOTO && \
			    dist[(list)[a_].field.v[b_].index] + 1 < best) \
				best = dist[(list)[a_].field.v[b_].index] + 1;
			if (nd->kind == NODE_EINDE)
				continue;
			EDGES(nd->trans, nd->ntrans, acts)
			EDGES(nd->fallbacks, nd->nfallbacks, acts)
			if (s->standaard) {
				EDGES(s->standaard->trans,
				      s->standaard->ntrans, acts)
				EDGES(s->standaard->fallbacks,
				      s->standaard->nfallbacks, acts)
			}
			EDGES(s->rules, s->nrules, acts)
#undef EDGES
			if (best < dist[i]) {
				dist[i] = best;
				changed = 1;
			}
		}
	}
}

struct cand {
	long score;      /* lower is better */
	struct engine *e;
};

static void heap_push(struct cand **h, size_t *n, size_t *cap,
		      struct cand c)
{
	size_t i;

	XGROW(*h, *cap, *n + 1);
	i = (*n)++;
	while (i && (*h)[(i - 1) / 2].score > c.score) {
		(*h)[i] = (*h)[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	(*h)[i] = c;
}

static struct cand heap_pop(struct cand *h, size_t *n)
{
	struct cand top = h[0], last = h[--(*n)];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1].score < h[c].score)
			c++;
		if (h[c].score >= last.score)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = last;
	return top;
}

/* The comparisons of script variables in the conditions of the
 * transitions and rules that go straight to the target ("als afscheid
 * en geheim_beloofd = 1 / naar …"): a state that meets more of them is
 * closer than its node distance says. Meters are scored on their own. */
struct guide {
	const struct expr **cmp;
	size_t n, cap;
};

static void guide_expr(struct guide *g, const struct script *s,
		       const struct expr *x)
{
	if (!x)
		return;
	if (x->kind == EXPR_CMP) {
		if (x->index < s->nvars) {
			XGROW(g->cmp, g->cap, g->n + 1);
			g->cmp[g->n++] = x;
		}
		return;
	}
	/* what a 'niet' asks is the opposite: leave it out */
	if (x->kind == EXPR_AND || x->kind == EXPR_OR) {
		guide_expr(g, s, x->a);
		guide_expr(g, s, x->b);
	}
}

static int goes_to(const struct action_list *al, uint32_t target)
{
	for (size_t i = 0; i < al->n; i++)
		if (al->v[i].kind == ACT_GOTO && al->v[i].index == target)
			return 1;
	return 0;
}

static void guide_node(struct guide *g, const struct script *s,
		       const struct node *nd, uint32_t target)
{
	for (size_t i = 0; i < nd->ntrans; i++)
		if (goes_to(&nd->trans[i].acts, target))
			guide_expr(g, s, nd->trans[i].cond);
}

static void guide_init(struct guide *g, const struct script *s,
		       uint32_t target)
{
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < s->nnodes; i++)
		guide_node(g, s, &s->nodes[i], target);
	if (s->standaard)
		guide_node(g, s, s->standaard, target);
	for (size_t i = 0; i < s->nrules; i++)
		if (goes_to(&s->rules[i].acts, target))
			guide_expr(g, s, s->rules[i].cond);
}

static int cmp_holds(const struct engine *e, const struct expr *x)
{
	return cmp_apply(x->op, engine_var(e, x->index), x->value);
}

/* Closer to the target first; then (guided) more of the comparisons on
 * the way in met; then more trust and less tension (every scenario has
 * both), then fewer turns. */
static long score(const struct script *s, const struct engine *e,
		  const int *dist, int vi, int si, const struct guide *g)
{
	long d = dist[engine_node(e)];
	long v = vi >= 0 ? engine_var(e, (size_t)vi) : 0;
	long t = si >= 0 ? engine_var(e, (size_t)si) : 0;
	long unmet = 0;

	(void)s;
	for (size_t i = 0; i < g->n; i++)
		if ((int)g->cmp[i]->index != vi && (int)g->cmp[i]->index != si)
			unmet += !cmp_holds(e, g->cmp[i]);
	return d * 100000 + unmet * 5000 + (t - v) * 100 + engine_beurt(e);
}

static void search(const struct script *s, const struct input *in,
		   size_t nin, uint32_t target, struct check_result *r,
		   struct reps *rp, int guided)
{
	int *dist = xcalloc(s->nnodes, sizeof(int));
	struct hset seen = { NULL, 0, 0 };
	struct cand *heap = NULL;
	size_t n = 0, cap = 0;
	struct engine_out out;
	int vi = s->meter[METER_TRUST];
	int si = s->meter[METER_TENSION];
	int good = s->nodes[target].kind == NODE_EINDE &&
		   s->nodes[target].ending == END_GOED;
	struct cand c;
	struct guide g;

	distances(s, target, dist);
	memset(&g, 0, sizeof(g));
	if (guided)
		guide_init(&g, s, target);
	engine_out_init(&out);
	c.e = engine_new(s, 1);
	engine_start(c.e, &out);
	c.score = score(s, c.e, dist, vi, si, &g);
	heap_push(&heap, &n, &cap, c);
	for (size_t x = 0; x < SEARCH_EXPANSIONS && n && !r->reached[target];
	     x++) {
		struct cand cur = heap_pop(heap, &n);

		for (size_t i = 0; i < nin && !engine_ended(cur.e) &&
		     engine_beurt(cur.e) < SEARCH_MAX_DEPTH; i++) {
			struct cand nx;

			nx.e = engine_clone(cur.e);
			engine_turn_matched(nx.e, &in[i].m, in[i].text, &out);
			r->turns++;
			r->reached[engine_node(nx.e)] = 1;
			if (r->reached[target] ||
			    (engine_ended(nx.e) && !good) ||
			    !hset_add(&seen, engine_state_hash(nx.e))) {
				engine_free(nx.e);
				continue;
			}
			rep_note(rp, nx.e);
			nx.score = score(s, nx.e, dist, vi, si, &g);
			heap_push(&heap, &n, &cap, nx);
		}
		engine_free(cur.e);
	}
	while (n)
		engine_free(heap_pop(heap, &n).e);
	free(heap);
	free(seen.v);
	free(dist);
	free(g.cmp);
	engine_out_release(&out);
}

static void walk(const struct script *s, struct check_result *r,
		 struct reps *rp)
{
	struct input *in;
	size_t nin = collect_inputs(s, &in);
	struct engine **queue = NULL;
	size_t qcap = 0, qhead = 0, qn = 0;
	struct hset seen = { NULL, 0, 0 };
	struct engine_out out;
	struct engine *e;
	uint64_t rng = 42;

	engine_out_init(&out);
	e = engine_new(s, 1);
	engine_start(e, &out);
	r->reached[engine_node(e)] = 1;
	rep_note(rp, e);
	hset_add(&seen, engine_state_hash(e));
	XGROW(queue, qcap, 1);
	queue[qn++] = e;
	while (qhead < qn && count_reached(s, r->reached) < s->nnodes) {
		struct engine *cur = queue[qhead++];

		for (size_t i = 0; i < nin; i++) {
			struct engine *next;

			if (engine_ended(cur))
				break;
			next = engine_clone(cur);
			engine_turn_matched(next, &in[i].m, in[i].text, &out);
			r->turns++;
			r->reached[engine_node(next)] = 1;
			if (qn < WALK_MAX_STATES &&
			    hset_add(&seen, engine_state_hash(next))) {
				rep_note(rp, next);
				XGROW(queue, qcap, qn + 1);
				queue[qn++] = next;
			} else {
				engine_free(next);
			}
		}
	}
	r->states = seen.n;
	/* What breadth-first did not reach: search towards it, by node
	 * distance and meters; failing that, also by the variables the
	 * way in asks for (guide). Those states are steered, not typical
	 * of their phase: the examples are not run in them. */
	for (uint32_t t = 0; t < s->nnodes; t++)
		if (!r->reached[t])
			search(s, in, nin, t, r, rp, 0);
	for (uint32_t t = 0; t < s->nnodes; t++)
		if (!r->reached[t])
			search(s, in, nin, t, r, NULL, 1);
	/* Random conversations reach what depends on the turn count. */
	for (size_t w = 0; w < RANDOM_WALKS && nin &&
	     count_reached(s, r->reached) < s->nnodes; w++) {
		struct engine *x = engine_new(s, w);

		engine_start(x, &out);
		for (size_t t = 0; t < RANDOM_WALK_TURNS && !engine_ended(x);
		     t++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			{
				const struct input *pi = &in[rng % nin];

				engine_turn_matched(x, &pi->m, pi->text, &out);
			}
			r->turns++;
			r->reached[engine_node(x)] = 1;
			rep_note(rp, x);
		}
		engine_free(x);
	}
	for (size_t i = 0; i < qn; i++)
		engine_free(queue[i]);
	free(queue);
	free(seen.v);
	for (size_t i = 0; i < nin; i++)
		match_release(&in[i].m);
	free(in);
	engine_out_release(&out);
}

/* --- static facts: lines, endings, points --- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct lines {
	const char **v;
	size_t n, cap;
};

static size_t scan_actions(const struct script *s, const struct action_list *al,
			   struct lines *ls, struct check_result *r,
			   struct diag *d)
{
	size_t bad = 0;

	for (size_t i = 0; i < al->n; i++) {
		const struct action *a = &al->v[i];

		if (a->kind == ACT_POINT)
			r->points_used[a->index] = 1;
		if (a->kind != ACT_SAY && a->kind != ACT_ACK &&
		    a->kind != ACT_REPEAT && a->kind != ACT_FILLER &&
		    a->kind != ACT_VAGUE && a->kind != ACT_UNSAID)
			continue;
		for (size_t j = 0; j < a->nvariants; j++) {
			const struct variant *v = &a->variants[j];

			for (size_t k = 0; k < v->nmsgs; k++) {
				if (strlen(v->msgs[k]) > MAX_LINE_CHARS * 2) {
					bad++;
					diag_add(d, &v->loc, "zin is langer dan "
						 "%d tekens", MAX_LINE_CHARS);
				}
				XGROW(ls->v, ls->cap, ls->n + 1);
				ls->v[ls->n++] = v->msgs[k];
			}
		}
	}
	(void)s;
	return bad;
}

static size_t scan_node(const struct script *s, const struct node *n,
			struct lines *ls, struct check_result *r,
			struct diag *d)
{
	size_t bad = scan_actions(s, &n->enter, ls, r, d);

	for (size_t i = 0; i < n->ntrans; i++)
		bad += scan_actions(s, &n->trans[i].acts, ls, r, d);
	for (size_t i = 0; i < n->nfallbacks; i++)
		bad += scan_actions(s, &n->fallbacks[i].acts, ls, r, d);
	return bad;
}

static size_t scan(const struct script *s, struct check_result *r,
		   struct diag *d)
{
	struct lines ls = { NULL, 0, 0 };
	size_t bad = 0;

	for (size_t i = 0; i < s->nrules; i++)
		bad += scan_actions(s, &s->rules[i].acts, &ls, r, d);
	for (size_t i = 0; i < s->nnodes; i++) {
		bad += scan_node(s, &s->nodes[i], &ls, r, d);
		if (s->nodes[i].kind == NODE_EINDE)
			r->endings[s->nodes[i].ending]++;
	}
	if (s->standaard)
		bad += scan_node(s, s->standaard, &ls, r, d);
	if (ls.n) {
		qsort(ls.v, ls.n, sizeof(*ls.v), cmp_str);
		r->lines = 1;
		for (size_t i = 1; i < ls.n; i++)
			r->lines += strcmp(ls.v[i - 1], ls.v[i]) != 0;
	}
	free(ls.v);
	return bad;
}

/* --- rubric moments of the examples --- */

/* "+id" / "-id" words of an example's [ … ] as point * 2 + shown into
 * want; an unknown id is a problem. */
static size_t parse_expect(const struct script *s, const struct example *ex,
			   uint8_t *want, struct diag *d)
{
	const char *p = ex->expect;
	size_t bad = 0;

	memset(want, 0, s->npoints * 2);
	while (*p) {
		const char *q;
		char id[128];
		int pt;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		q = p + 1;
		while (*q && *q != ' ')
			q++;
		if ((size_t)(q - p - 1) >= sizeof(id)) {
			pt = -1;
		} else {
			memcpy(id, p + 1, (size_t)(q - p - 1));
			id[q - p - 1] = '\0';
			pt = script_find_point(s, id);
		}
		if (pt < 0) {
			bad++;
			diag_add(d, &ex->loc, "voorbeeld noemt onbekend "
				 "rubriekpunt '%.*s'", (int)(q - p), p);
		} else {
			want[pt * 2 + (*p == '+')] = 1;
		}
		p = q;
	}
	return bad;
}

/* The rules and 'als' that gave this turn's moments, for the message. */
static void fired_names(const struct script *s, const struct engine_out *o,
			char *buf, size_t len)
{
	size_t k = 0;
	int n;

	buf[0] = '\0';
	for (size_t i = 0; i < o->nrules && k < len; i++) {
		n = snprintf(buf + k, len - k, "%s%s", k ? ", " : "",
			     s->rules[o->rules[i]].name);
		if (n < 0 || (size_t)n >= len - k) {
			buf[k] = '\0';
			break;
		}
		k += (size_t)n;
	}
	if (o->trans && k < len) {
		n = snprintf(buf + k, len - k, "%s'als' op regel %d",
			     k ? ", " : "", o->trans->loc.line);
		if (n < 0 || (size_t)n >= len - k)
			buf[k] = '\0';
	}
}

/* Every example, said as a one-turn message in a few states of every
 * phase the walk reached. A problem: a moment that contradicts the
 * example's own [ … ] (earned but not listed, or listed and earned in no
 * phase). Warnings: a point earned both shown and missed by one message
 * (the engine records neither, so the debrief stays silent where the
 * script meant something), and a 'ja:' example that earns +P in one
 * phase and -P in another (the same move praised and blamed depending on
 * where it falls; sometimes meant, often not). */
static size_t check_moments(const struct script *s, struct check_result *r,
			    const struct reps *rp, struct diag *d)
{
	size_t np = s->npoints * 2, bad = 0;
	uint8_t *want = xcalloc(np + 1, 1), *got = xcalloc(np + 1, 1);
	long *where = xcalloc(np + 1, sizeof(long));
	struct engine_out out;
	struct match m;
	char names[256];

	engine_out_init(&out);
	match_init(&m);
	for (size_t i = 0; i < s->nintents; i++) {
		const struct intent *in = &s->intents[i];

		for (size_t j = 0; j < in->nexamples; j++) {
			const struct example *ex = &in->examples[j];
			int conflicted = 0;

			if (!ex->should_match && !ex->expect)
				continue;
			if (ex->expect)
				bad += parse_expect(s, ex, want, d);
			memset(got, 0, np);
			match_run(&m, s, ex->text, strlen(ex->text));
			for (size_t k = 0; k < s->nnodes * REPS_PER_NODE;
			     k++) {
				struct engine *e;

				if (!rp->v[k])
					continue;
				e = engine_clone(rp->v[k]);
				engine_turn_matched(e, &m, ex->text, &out);
				r->moments_checked++;
				for (size_t c = 0; c < out.nconflicts &&
				     !conflicted; c++) {
					conflicted = 1;
					fired_names(s, &out, names,
						    sizeof(names));
					diag_add(&r->warnings, &ex->loc,
						 "voorbeeld '%s' "
						 "krijgt in fase '%s' punt "
						 "'%s' zowel getoond als "
						 "gemist (%s)", ex->text,
						 s->nodes[k / REPS_PER_NODE]
						 .name, s->points[
						 out.conflicts[c]].id, names);
				}
				for (size_t c = 0; c < out.npoints; c++) {
					size_t x = out.points[c].point * 2 +
						   (out.points[c].shown ? 1 : 0);

					if (!got[x])
						where[x] = (long)(k /
							REPS_PER_NODE);
					got[x] = 1;
					if (!ex->expect || want[x] ||
					    got[np] == 0xff)
						continue;
					bad++;
					got[np] = 0xff;   /* once */
					fired_names(s, &out, names,
						    sizeof(names));
					diag_add(d, &ex->loc, "voorbeeld krijgt "
						 "in fase '%s' %c%s, dat staat "
						 "niet tussen [ ] (%s)",
						 s->nodes[k / REPS_PER_NODE]
						 .name, out.points[c].shown ?
						 '+' : '-', s->points[
						 out.points[c].point].id,
						 names);
				}
				engine_free(e);
			}
			got[np] = 0;
			for (size_t x = 0; ex->expect && x < np; x++) {
				if (!want[x] || got[x])
					continue;
				bad++;
				diag_add(d, &ex->loc, "voorbeeld zou %c%s "
					 "krijgen, maar krijgt dat in geen "
					 "enkele fase", x & 1 ? '+' : '-',
					 s->points[x / 2].id);
			}
			for (size_t p = 0; ex->should_match && p < np;
			     p += 2) {
				if (!got[p] || !got[p + 1])
					continue;
				diag_add(&r->warnings, &ex->loc, "voorbeeld "
					 "'%s' van '%s' krijgt %s gemist in "
					 "fase '%s' en getoond in fase '%s'",
					 ex->text, in->name,
					 s->points[p / 2].id,
					 s->nodes[where[p]].name,
					 s->nodes[where[p + 1]].name);
			}
		}
	}
	match_release(&m);
	engine_out_release(&out);
	free(want);
	free(got);
	free(where);
	return bad;
}

/* --- tension that falls for nothing --- */

/* Does e need an intent that was recognised (one not under 'niet')? */
static int expr_positive(const struct expr *e, int neg)
{
	if (!e)
		return 0;
	switch (e->kind) {
	case EXPR_INTENT:
		return !neg;
	case EXPR_NOT:
		return expr_positive(e->a, !neg);
	case EXPR_AND:
		return expr_positive(e->a, neg) || expr_positive(e->b, neg);
	case EXPR_OR:
		return expr_positive(e->a, neg) && expr_positive(e->b, neg);
	case EXPR_CMP:
		return 0;
	}
	return 0;
}

static int lowers_tension(const struct action_list *al, int si)
{
	for (size_t i = 0; i < al->n; i++)
		if (al->v[i].kind == ACT_ADD && al->v[i].value < 0 &&
		    al->v[i].index == (uint32_t)si)
			return 1;
	return 0;
}

/* A rule, an 'als' or an 'anders' that lowers spanning on a turn where
 * no move was recognised ("tension falls on anything not harmful" also
 * falls on "Heeft u Jayden geslagen?"): a warning. */
static void check_tension(const struct script *s, struct check_result *r)
{
	int si = s->meter[METER_TENSION];

	if (si < 0)
		return;
	for (size_t i = 0; i < s->nrules; i++)
		if (s->rules[i].kind == TRIG_ALS &&
		    !expr_positive(s->rules[i].cond, 0) &&
		    lowers_tension(&s->rules[i].acts, si))
			diag_add(&r->warnings, &s->rules[i].loc, "regel '%s' "
				 "verlaagt spanning zonder dat er een zet "
				 "herkend is", s->rules[i].name);
	for (size_t k = 0; k <= s->nnodes; k++) {
		const struct node *n = k < s->nnodes ? &s->nodes[k] :
				       s->standaard;

		for (size_t i = 0; n && i < n->ntrans; i++)
			if (n->trans[i].kind == TRIG_ALS &&
			    !expr_positive(n->trans[i].cond, 0) &&
			    lowers_tension(&n->trans[i].acts, si))
				diag_add(&r->warnings, &n->trans[i].loc, "'als' "
					 "verlaagt spanning zonder dat er een "
					 "zet herkend is");
		for (size_t i = 0; n && i < n->nfallbacks; i++)
			if (lowers_tension(&n->fallbacks[i].acts, si))
				diag_add(&r->warnings, &n->fallbacks[i].loc,
					 "'anders' verlaagt spanning terwijl er "
					 "niets herkend is");
	}
}

size_t check_script(const struct script *s, struct check_result *r,
		    struct diag *d)
{
	struct reps rp;
	size_t bad;

	memset(r, 0, sizeof(*r));
	diag_init(&r->warnings);
	r->reached = xcalloc(s->nnodes + 1, 1);
	r->points_used = xcalloc(s->npoints + 1, 1);
	bad = run_examples(s, r, d);
	bad += scan(s, r, d);
	if (!s->id)
		return bad;   /* a library file: no conversation to walk */
	bad += check_other_language(s, d);
	if (!r->endings[END_GOED]) {
		bad++;
		diag_add(d, &s->id_loc, "scenario '%s' heeft geen goed einde",
			 s->id);
	}
	if (!r->endings[END_BREUK]) {
		bad++;
		diag_add(d, &s->id_loc, "scenario '%s' heeft geen einde "
			 "'breuk'", s->id);
	}
	rp.v = xcalloc(s->nnodes * REPS_PER_NODE + 1, sizeof(*rp.v));
	rp.n = xcalloc(s->nnodes + 1, 1);
	walk(s, r, &rp);
	bad += check_moments(s, r, &rp, d);
	check_tension(s, r);
	for (size_t i = 0; i < s->nnodes * REPS_PER_NODE; i++)
		engine_free(rp.v[i]);
	free(rp.v);
	free(rp.n);
	for (size_t i = 0; i < s->nnodes; i++) {
		if (r->reached[i])
			continue;
		r->unreachable++;
		bad++;
		diag_add(d, &s->nodes[i].loc, "%s '%s' is niet te bereiken "
			 "(de automatische wandeling kwam er niet)",
			 s->nodes[i].kind == NODE_EINDE ? "einde" : "fase",
			 s->nodes[i].name);
	}
	return bad;
}
