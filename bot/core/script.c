/* script.c - parser for the scenario language (docs/scenariotaal.md).
 *
 * Line based: every line starts with a keyword or a text marker (- + >),
 * indentation carries no meaning. Parsing collects every problem it can
 * (one per line) into a struct diag; names are resolved in a second pass
 * once all includes are read, so declarations may come in any order.
 */
#include "script.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clause.h"
#include "corpus.h"
#include "mcache.h"
#include "model.h"
#include "norm.h"

#define MAX_DIAGS 50
#define MAX_PAT_DEPTH 32

/* ---------------------------------------------------------------- diag */

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_release(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	diag_init(d);
}

void diag_take(struct diag *d, struct diag *from)
{
	for (size_t i = 0; i < from->n; i++) {
		if (d && d->n < MAX_DIAGS) {
			XGROW(d->msgs, d->cap, d->n + 1);
			d->msgs[d->n++] = from->msgs[i];
		} else {
			free(from->msgs[i]);
		}
	}
	free(from->msgs);
	diag_init(from);
}

void diag_add(struct diag *d, const struct loc *loc, const char *fmt, ...)
{
	struct sbuf sb;
	va_list ap;
	char tmp[1024];

	if (!d || d->n >= MAX_DIAGS)
		return;
	sbuf_init(&sb);
	if (loc && loc->file)
		sbuf_addf(&sb, "%s:%d:%d: ", loc->file, loc->line, loc->col);
	va_start(ap, fmt);
	vsnprintf_cut(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sbuf_adds(&sb, tmp);
	XGROW(d->msgs, d->cap, d->n + 1);
	d->msgs[d->n++] = sbuf_detach(&sb);
}

/* --------------------------------------------------------- word intern */

static uint32_t hash_str(const char *s, size_t n)
{
	return hash_fnv32(HASH_FNV32_START, s, n);
}

static void words_rehash(struct script *s, size_t cap)
{
	uint32_t *t = xcalloc(cap, sizeof(*t));

	for (size_t id = 1; id < s->nwords; id++) {
		const char *w = s->words[id];
		size_t i = hash_str(w, strlen(w)) & (cap - 1);

		while (t[i])
			i = (i + 1) & (cap - 1);
		t[i] = (uint32_t)id;
	}
	free(s->word_hash);
	s->word_hash = t;
	s->word_hash_cap = cap;
}

uint32_t script_word_id(const struct script *s, const char *word, size_t len)
{
	size_t mask, i;

	if (s->words_in_lex)
		return lexicon_word_id(&s->lex, word, len);
	if (!s->word_hash_cap)
		return 0;
	mask = s->word_hash_cap - 1;
	i = hash_str(word, len) & mask;
	while (s->word_hash[i]) {
		const char *w = s->words[s->word_hash[i]];

		if (strncmp(w, word, len) == 0 && w[len] == '\0')
			return s->word_hash[i];
		i = (i + 1) & mask;
	}
	return 0;
}

static uint32_t word_intern(struct script *s, const char *word, size_t len)
{
	uint32_t id = script_word_id(s, word, len);
	size_t cap = 0;

	if (id)
		return id;
	if (!s->nwords) {
		s->words = xmalloc(16 * sizeof(*s->words));
		s->words[0] = xstrdup("");
		s->nwords = 1;
	}
	cap = s->nwords;
	/* words grows by powers of two, like XGROW does */
	{
		size_t c = 16;

		while (c < s->nwords)
			c *= 2;
		cap = c;
	}
	XGROW(s->words, cap, s->nwords + 1);
	s->words[s->nwords] = xstrndup(word, len);
	id = (uint32_t)s->nwords++;
	if ((s->nwords + 1) * 2 > s->word_hash_cap)
		words_rehash(s, s->word_hash_cap ? s->word_hash_cap * 2 : 256);
	else {
		size_t i = hash_str(word, len) & (s->word_hash_cap - 1);

		while (s->word_hash[i])
			i = (i + 1) & (s->word_hash_cap - 1);
		s->word_hash[i] = id;
	}
	return id;
}

/* -------------------------------------------------------------- parser */

enum block {
	B_NONE, B_INTENT, B_RULE, B_NODE, B_STANDAARD
};

enum textmode { T_NONE, T_INTRO, T_EXPLAIN };

struct parser {
	struct script *s;
	struct diag *d;
	struct norm norm;
	enum block block;
	size_t cur;             /* index of the intent, rule or node */
	int part;               /* node: -1 enter, else transition index;
				 * fallbacks are parts >= FALLBACK_BASE */
	long say;               /* action index of the open zeg, or -1 */
	enum textmode text;
	int depth;              /* include depth */
	size_t nvariants;
	char *begin_name;       /* begin: <fase>, resolved at the end */
	struct intent *sup;     /* aanvulling blocks, merged by resolve */
	size_t nsup;
	int in_sup;             /* the open B_INTENT block is ps->sup[cur] */
	struct name_ent *names; /* declared names, see dup_name */
	size_t names_cap, nnames;
	struct loc begin_loc;
	/* Where each ~concept of a pattern was written: until resolve,
	 * a PAT_CONCEPT's concept field is its index here (struct pat
	 * keeps no location). */
	struct loc *concept_locs;
	size_t nconcept_locs, concept_locs_cap;
};

#define FALLBACK_BASE 100000

struct cursor {
	const char *p;
	const char *line;   /* start of the line, for columns */
	struct loc loc;     /* file and line; col computed */
};

static struct loc cur_loc(const struct cursor *c)
{
	struct loc l = c->loc;

	l.col = (int)(c->p - c->line) + 1;
	return l;
}

static void skip_ws(struct cursor *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

static int is_name_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_';
}

/* Read a name [a-z0-9_-]+; returns a new string or NULL. */
static char *read_name(struct cursor *c)
{
	const char *b = c->p;

	while (is_name_char((unsigned char)*c->p))
		c->p++;
	if (c->p == b)
		return NULL;
	return xstrndup(b, (size_t)(c->p - b));
}

static int at_end(struct cursor *c)
{
	skip_ws(c);
	return *c->p == '\0';
}

static char *rest_trimmed(struct cursor *c)
{
	const char *b, *e;

	skip_ws(c);
	b = c->p;
	e = b + strlen(b);
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	c->p = e;
	return xstrndup(b, (size_t)(e - b));
}

/* --- patterns --- */

static void pat_seq_release(struct pat_seq *q, const struct arena *a);

/* A pattern's vectors are the parser's (malloc) until shrink_seq moves
 * them into the script's arena a; a tree being released may hold both
 * (a line that failed half-way). */
static void pat_vec_free(void *v, const struct arena *a)
{
	if (!arena_owns(a, v))
		free(v);
}

static void pat_release(struct pat *p, const struct arena *a)
{
	free(p->text);
	for (size_t i = 0; i < p->nsubs; i++)
		pat_seq_release(&p->subs[i], a);
	pat_vec_free(p->subs, a);
}

static void pat_seq_release(struct pat_seq *q, const struct arena *a)
{
	for (size_t i = 0; i < q->n; i++)
		pat_release(&q->el[i], a);
	pat_vec_free(q->el, a);
	free(q->req);
	q->el = NULL;
	q->n = 0;
	q->req = NULL;
	q->nreq = 0;
}

static struct pat *seq_push(struct pat_seq *q, size_t *cap)
{
	struct pat *p;

	XGROW(q->el, *cap, q->n + 1);
	p = &q->el[q->n++];
	memset(p, 0, sizeof(*p));
	return p;
}

static int is_pat_special(int ch)
{
	return ch == '*' || ch == '[' || ch == ']' || ch == '(' ||
	       ch == ')' || ch == '|' || ch == '<' || ch == '>' ||
	       ch == '~' || ch == ',' || ch == '^' || ch == '$';
}

static int parse_seq(struct parser *ps, struct cursor *c, struct pat_seq *q,
		     int depth, int in_list);

/* Append one normalised word; a prefix pattern word ('woord*') when
 * prefix is set. */
static void push_word(struct parser *ps, struct pat_seq *q, size_t *cap,
		      const char *w, size_t len, int prefix, int exact)
{
	struct pat *p = seq_push(q, cap);

	if (prefix) {
		p->kind = PAT_PREFIX;
		p->text = xstrndup(w, len);
		p->len = (uint16_t)len;
	} else {
		p->kind = PAT_WORD;
		p->word = word_intern(ps->s, w, len);
		p->exact = (uint8_t)exact;
	}
}

/* Append the words of one raw pattern word, normalised (a prefix
 * applies to the last of them). */
static int add_words(struct parser *ps, struct pat_seq *q, size_t *cap,
		     const char *raw, size_t n, int prefix, int exact,
		     struct loc loc)
{
	const char *plain;
	size_t plen, nt;

	/* most pattern words are plain: no normaliser run for them */
	if (norm_plain_word(raw, n, &plain, &plen)) {
		push_word(ps, q, cap, plain, plen, prefix, exact);
		return 0;
	}
	nt = norm_run(&ps->norm, raw, n);
	if (nt == 0) {
		diag_add(ps->d, &loc, "'%.*s' bevat geen letters of cijfers",
			 (int)n, raw);
		return -1;
	}
	for (size_t i = 0; i < nt; i++)
		push_word(ps, q, cap, ps->norm.tok[i].word,
			  ps->norm.tok[i].len, prefix && i == nt - 1, exact);
	return 0;
}

static int parse_group(struct parser *ps, struct cursor *c, struct pat *p,
		       char close, int depth)
{
	size_t cap = 0;

	for (;;) {
		struct pat_seq *q;

		if (p->nsubs == UINT16_MAX) {
			struct loc l = cur_loc(c);

			/* struct pat counts them in 16 bits */
			diag_add(ps->d, &l, "te veel keuzes in één groep");
			return -1;
		}
		XGROW(p->subs, cap, p->nsubs + 1);
		q = &p->subs[p->nsubs++];
		memset(q, 0, sizeof(*q));
		if (parse_seq(ps, c, q, depth + 1, 0) < 0)
			return -1;
		skip_ws(c);
		if (*c->p == '|' && close == ')') {
			c->p++;
			continue;
		}
		if (*c->p == close) {
			c->p++;
			return 0;
		}
		{
			struct loc l = cur_loc(c);

			diag_add(ps->d, &l, "verwacht '%c'%s", close,
				 close == ')' ? " of '|'" : "");
		}
		return -1;
	}
}

/* Parse elements until a closing character, '|', end of line or (in a
 * concept list) a top-level comma. */
static int parse_seq(struct parser *ps, struct cursor *c, struct pat_seq *q,
		     int depth, int in_list)
{
	size_t cap = q->n;

	if (depth > MAX_PAT_DEPTH) {
		struct loc l = cur_loc(c);

		diag_add(ps->d, &l, "patroon is te diep genest");
		return -1;
	}
	for (;;) {
		struct loc l;
		int ch;

		skip_ws(c);
		ch = (unsigned char)*c->p;
		l = cur_loc(c);
		/* struct pat_seq counts in 16 bits, and one word may add up
		 * to NORM_MAX_TOKENS elements (a logical line can go on
		 * for ever: ',' at the end continues it) */
		if (q->n > UINT16_MAX - NORM_MAX_TOKENS - 1) {
			diag_add(ps->d, &l, "patroon is te lang");
			return -1;
		}
		if (ch == '\0' || ch == ')' || ch == ']' || ch == '|' ||
		    ch == '>')
			return 0;
		if (ch == ',') {
			if (in_list)
				return 0;
			c->p++;   /* a comma inside a pattern is punctuation */
			continue;
		}
		if (ch == '*') {
			struct pat *p = seq_push(q, &cap);

			p->kind = PAT_ANY;
			c->p++;
		} else if (ch == '^' || ch == '$') {
			struct pat *p = seq_push(q, &cap);

			p->kind = ch == '^' ? PAT_START : PAT_END;
			c->p++;
		} else if (ch == '[' || ch == '(' || ch == '<') {
			struct pat *p = seq_push(q, &cap);
			char close = ch == '[' ? ']' : ch == '(' ? ')' : '>';

			p->kind = ch == '[' ? PAT_OPT :
				  ch == '(' ? PAT_ALT : PAT_UNORDERED;
			c->p++;
			if (parse_group(ps, c, p, close, depth) < 0)
				return -1;
			if (p->kind == PAT_UNORDERED && depth > 0) {
				diag_add(ps->d, &l,
					 "<…> mag alleen bovenaan in een patroon staan");
				return -1;
			}
		} else if (ch == '~') {
			struct pat *p;
			char *name;

			c->p++;
			name = read_name(c);
			if (!name) {
				diag_add(ps->d, &l,
					 "verwacht de naam van een begrip na '~'");
				return -1;
			}
			p = seq_push(q, &cap);
			p->kind = PAT_CONCEPT;
			p->text = name;
			p->len = (uint16_t)strlen(name);
			XGROW(ps->concept_locs, ps->concept_locs_cap,
			      ps->nconcept_locs + 1);
			p->concept = (uint32_t)ps->nconcept_locs;
			ps->concept_locs[ps->nconcept_locs++] = l;
		} else {
			const char *b;
			int prefix = 0, exact = 0;

			if (*c->p == '=') {    /* =word: this form only */
				exact = 1;
				c->p++;
			}
			b = c->p;
			while (*c->p && *c->p != ' ' && *c->p != '\t' &&
			       !is_pat_special((unsigned char)*c->p))
				c->p++;
			if (*c->p == '*') {
				if (exact) {
					diag_add(ps->d, &l, "'=' en '*' gaan "
						 "niet samen op één woord");
					return -1;
				}
				prefix = 1;
				c->p++;
			}
			if (add_words(ps, q, &cap, b,
				      (size_t)(c->p - b - prefix), prefix,
				      exact, l) < 0)
				return -1;
		}
	}
}

/* Give back what doubling left unused: most sequences hold one to three
 * elements in room for eight. Done as each pattern is finished, so the
 * next one reuses the space. Copied, not realloc'd: shrinking in place
 * splits the block and leaves a tail that no later block of the parser
 * fits (12,000 such tails were 5.5 MB of a loaded catalog). The pattern
 * tree's own vectors go to the script's arena instead (to_arena). Safe
 * because every push derives its capacity from the count and
 * reallocates when unsure (parse_seq starts from cap = q->n); keep it
 * that way. */
static void *shrink(void *v, size_t n, size_t elsz)
{
	void *w;

	if (!n) {
		free(v);
		return NULL;
	}
	w = xmalloc(n * elsz);
	memcpy(w, v, n * elsz);
	free(v);
	return w;
}

/* A finished vector of the pattern tree: into the script's arena (see
 * pat_vec_free), where it takes no malloc header or rounding; there
 * are some 34,000 of them in the shipped catalog. */
static void *to_arena(struct arena *a, void *v, size_t n, size_t elsz,
		      size_t align)
{
	void *w;

	if (!n) {
		free(v);
		return NULL;
	}
	w = arena_dup(a, v, n * elsz, align);
	free(v);
	return w;
}

static void shrink_seq(struct pat_seq *q, struct arena *a)
{
	for (size_t i = 0; i < q->n; i++) {
		struct pat *p = &q->el[i];

		for (size_t j = 0; j < p->nsubs; j++)
			shrink_seq(&p->subs[j], a);
		p->subs = to_arena(a, p->subs, p->nsubs, sizeof(*p->subs),
				   _Alignof(struct pat_seq));
	}
	q->el = to_arena(a, q->el, q->n, sizeof(*q->el),
			 _Alignof(struct pat));
	q->req = shrink(q->req, q->nreq, sizeof(*q->req));
}

/* A whole pattern line: must end at end of line. */
static int parse_pattern(struct parser *ps, struct cursor *c,
			 struct pat_seq *q)
{
	memset(q, 0, sizeof(*q));
	if (parse_seq(ps, c, q, 0, 0) < 0)
		goto fail;
	skip_ws(c);
	if (*c->p) {
		struct loc l = cur_loc(c);

		diag_add(ps->d, &l, "onverwacht '%c' in patroon", *c->p);
		goto fail;
	}
	if (q->n == 0) {
		struct loc l = cur_loc(c);

		diag_add(ps->d, &l, "leeg patroon");
		goto fail;
	}
	shrink_seq(q, &ps->s->arena);
	return 0;
fail:
	pat_seq_release(q, &ps->s->arena);
	return -1;
}

/* --- expressions --- */

static void expr_free(struct expr *e)
{
	if (!e)
		return;
	expr_free(e->a);
	expr_free(e->b);
	free(e->name);
	free(e);
}

static struct expr *parse_or(struct parser *ps, struct cursor *c, int depth);

static int read_word_is(struct cursor *c, const char *w)
{
	size_t n = strlen(w);

	skip_ws(c);
	if (strncmp(c->p, w, n) == 0 && !is_name_char((unsigned char)c->p[n])) {
		c->p += n;
		return 1;
	}
	return 0;
}

static int read_cmp(struct cursor *c, enum cmp_op *op)
{
	skip_ws(c);
	if (c->p[0] == '!' && c->p[1] == '=') {
		*op = CMP_NE;
		c->p += 2;
	} else if (c->p[0] == '<' && c->p[1] == '=') {
		*op = CMP_LE;
		c->p += 2;
	} else if (c->p[0] == '>' && c->p[1] == '=') {
		*op = CMP_GE;
		c->p += 2;
	} else if (c->p[0] == '=' && c->p[1] == '=') {
		*op = CMP_EQ;
		c->p += 2;
	} else if (c->p[0] == '=') {
		*op = CMP_EQ;
		c->p++;
	} else if (c->p[0] == '<') {
		*op = CMP_LT;
		c->p++;
	} else if (c->p[0] == '>') {
		*op = CMP_GT;
		c->p++;
	} else {
		return 0;
	}
	return 1;
}

static int read_int(struct cursor *c, int *out)
{
	char *end;
	long v;

	skip_ws(c);
	if (!(isdigit((unsigned char)c->p[0]) ||
	      ((c->p[0] == '-' || c->p[0] == '+') &&
	       isdigit((unsigned char)c->p[1]))))
		return -1;
	v = strtol(c->p, &end, 10);
	if (v < -100000 || v > 100000)
		return -1;
	c->p = end;
	*out = (int)v;
	return 0;
}

static int read_act_list(struct parser *ps, struct cursor *c, char stop);

static struct expr *parse_atom(struct parser *ps, struct cursor *c,
			       int depth)
{
	struct loc l;
	struct expr *e;
	char *name;

	skip_ws(c);
	l = cur_loc(c);
	if (depth > 32) {
		diag_add(ps->d, &l, "voorwaarde is te diep genest");
		return NULL;
	}
	if (read_word_is(c, "niet")) {
		struct expr *a = parse_atom(ps, c, depth + 1);

		if (!a)
			return NULL;
		e = xcalloc(1, sizeof(*e));
		e->kind = EXPR_NOT;
		e->a = a;
		e->loc = l;
		return e;
	}
	if (*c->p == '(') {
		c->p++;
		e = parse_or(ps, c, depth + 1);
		if (!e)
			return NULL;
		skip_ws(c);
		if (*c->p != ')') {
			struct loc l2 = cur_loc(c);

			diag_add(ps->d, &l2, "verwacht ')'");
			expr_free(e);
			return NULL;
		}
		c->p++;
		return e;
	}
	name = read_name(c);
	if (!name) {
		diag_add(ps->d, &l,
			 "verwacht een bedoeling, een variabele of '('");
		return NULL;
	}
	e = xcalloc(1, sizeof(*e));
	e->name = name;
	e->loc = l;
	if (read_cmp(c, &e->op)) {
		e->kind = EXPR_CMP;
		if (read_int(c, &e->value) < 0) {
			struct loc l2 = cur_loc(c);

			diag_add(ps->d, &l2, "verwacht een getal na de vergelijking");
			expr_free(e);
			return NULL;
		}
	} else {
		e->kind = EXPR_INTENT;
		skip_ws(c);
		if (*c->p == '(') {     /* bereikbaarheid (vraag) */
			int acts;

			c->p++;
			acts = read_act_list(ps, c, ')');
			if (acts < 0) {
				expr_free(e);
				return NULL;
			}
			e->value = acts;
		}
	}
	return e;
}

static struct expr *parse_and(struct parser *ps, struct cursor *c, int depth)
{
	struct expr *e = parse_atom(ps, c, depth);

	while (e && read_word_is(c, "en")) {
		struct expr *n = xcalloc(1, sizeof(*n));

		n->kind = EXPR_AND;
		n->a = e;
		n->loc = e->loc;
		n->b = parse_atom(ps, c, depth);
		if (!n->b) {
			expr_free(n);
			return NULL;
		}
		e = n;
	}
	return e;
}

static struct expr *parse_or(struct parser *ps, struct cursor *c, int depth)
{
	struct expr *e = parse_and(ps, c, depth);

	while (e && read_word_is(c, "of")) {
		struct expr *n = xcalloc(1, sizeof(*n));

		n->kind = EXPR_OR;
		n->a = e;
		n->loc = e->loc;
		n->b = parse_and(ps, c, depth);
		if (!n->b) {
			expr_free(n);
			return NULL;
		}
		e = n;
	}
	return e;
}

/* A condition that must use up the rest of the line (or stop at stop). */
static struct expr *parse_cond(struct parser *ps, struct cursor *c, char stop)
{
	struct expr *e = parse_or(ps, c, 0);

	if (!e)
		return NULL;
	skip_ws(c);
	if (*c->p != stop) {
		struct loc l = cur_loc(c);

		if (*c->p)
			diag_add(ps->d, &l, "onverwacht '%.20s' in voorwaarde "
				 "(gebruik 'en', 'of', 'niet')", c->p);
		else
			diag_add(ps->d, &l, "verwacht '%c'", stop);
		expr_free(e);
		return NULL;
	}
	return e;
}

/* --- the structures being built --- */

static void actions_release(struct action_list *al)
{
	for (size_t i = 0; i < al->n; i++) {
		struct action *a = &al->v[i];

		free(a->name);
		free(a->reason);
		for (size_t j = 0; j < a->nvariants; j++) {
			expr_free(a->variants[j].cond);
			for (size_t k = 0; k < a->variants[j].nmsgs; k++)
				free(a->variants[j].msgs[k]);
			free(a->variants[j].elab);
		}
		free(a->variants);
	}
	free(al->v);
	al->v = NULL;
	al->n = 0;
}

static void node_release(struct node *n)
{
	free(n->name);
	free(n->explain);
	actions_release(&n->enter);
	for (size_t i = 0; i < n->ntrans; i++) {
		expr_free(n->trans[i].cond);
		actions_release(&n->trans[i].acts);
	}
	free(n->trans);
	for (size_t i = 0; i < n->nfallbacks; i++)
		actions_release(&n->fallbacks[i].acts);
	free(n->fallbacks);
}

void script_drop_examples(struct script *s)
{
	for (size_t i = 0; s && i < s->nintents; i++) {
		struct intent *in = &s->intents[i];

		for (size_t j = 0; j < in->nexamples; j++) {
			free(in->examples[j].text);
			free(in->examples[j].expect);
		}
		free(in->examples);
		in->examples = NULL;
		in->nexamples = 0;
	}
}

void script_free(struct script *s)
{
	if (!s)
		return;
	free(s->srcs);
	free(s->quiet);
	free(s->quiet_seen);
	free(s->quiet_right);
	free(s->path);
	free(s->id);
	free(s->title);
	free(s->persona);
	free(s->intro);
	free(s->own_words);
	free(s->lw_off);
	free(s->lw_stem);
	free(s->lw_cls);
	free(s->gates);
	for (size_t i = 0; i < s->nvars; i++) {
		free(s->vars[i].name);
		expr_free(s->vars[i].until);
	}
	free(s->vars);
	for (size_t i = 0; i < s->npoints; i++) {
		free(s->points[i].id);
		free(s->points[i].label);
	}
	free(s->points);
	/* trees in the pool are the pool's (pool_unref below) */
	for (size_t i = 0; i < s->nconcepts; i++) {
		free(s->concepts[i].name);
		if (s->pool)
			continue;
		for (size_t j = 0; j < s->concepts[i].nalts; j++)
			pat_seq_release(&s->concepts[i].alts[j],
					&s->arena);
		free(s->concepts[i].alts);
	}
	free(s->concepts);
	for (size_t i = 0; i < s->nintents; i++) {
		struct intent *in = &s->intents[i];

		free(in->name);
		for (size_t j = 0; j < in->nunless; j++)
			free(in->unless[j].name);
		free(in->unless);
		for (size_t j = 0; j < in->npats && !s->pool; j++)
			pat_seq_release(&in->pats[j], &s->arena);
		if (!s->pool)
			free(in->pats);
	}
	script_drop_examples(s);
	free(s->intents);
	for (size_t i = 0; i < s->nrules; i++) {
		free(s->rules[i].name);
		expr_free(s->rules[i].cond);
		actions_release(&s->rules[i].acts);
	}
	free(s->rules);
	for (size_t i = 0; i < s->nnodes; i++)
		node_release(&s->nodes[i]);
	free(s->nodes);
	if (s->standaard) {
		node_release(s->standaard);
		free(s->standaard);
	}
	model_free(s->model);
	free(s->train_path);
	free(s->variant_tab);
	free(s->first_off);
	free(s->first_refs);
	free(s->first_req);
	free(s->any_refs);
	free(s->concept_off);
	free(s->concept_of);
	for (size_t i = 0; i < s->nwords && !s->words_in_lex; i++)
		free(s->words[i]);
	free(s->words);
	free(s->word_hash);
	lexicon_release(&s->lex);
	arena_release(&s->arena);   /* after every pattern released */
	pool_unref(s->pool);
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s);
}

static struct node *cur_node(struct parser *ps)
{
	if (ps->block == B_STANDAARD)
		return ps->s->standaard;
	if (ps->block == B_NODE)
		return &ps->s->nodes[ps->cur];
	return NULL;
}

/* The action list that action lines append to, or NULL. */
static struct action_list *cur_actions(struct parser *ps)
{
	struct node *n;

	if (ps->block == B_RULE)
		return &ps->s->rules[ps->cur].acts;
	n = cur_node(ps);
	if (!n)
		return NULL;
	if (ps->part < 0)
		return &n->enter;
	if (ps->part >= FALLBACK_BASE)
		return &n->fallbacks[ps->part - FALLBACK_BASE].acts;
	return &n->trans[ps->part].acts;
}

/* Make room for element n + 1 of a vector whose capacity is derived
 * from its count: the smallest power of two >= n, so it is full exactly
 * when n is 0 or a power of two. Most of a script's vectors (a text's
 * variants, an intent's patterns, a list's actions) hold one to three
 * elements: starting at one element rather than XGROW's eight keeps
 * the loaded script from carrying their empty room. */
static void vec_room(void **v, size_t n, size_t elsz)
{
	if (n & (n - 1))
		return;
	if (n > SIZE_MAX / 2 / elsz)
		*v = xrealloc(*v, SIZE_MAX);    /* aborts: out of memory */
	*v = xrealloc(*v, (n ? 2 * n : 1) * elsz);
}

static struct action *push_action(struct parser *ps, enum action_kind k,
				  struct loc loc)
{
	struct action_list *al = cur_actions(ps);
	struct action *a;

	vec_room((void **)&al->v, al->n, sizeof(*al->v));
	a = &al->v[al->n++];
	memset(a, 0, sizeof(*a));
	a->kind = k;
	a->loc = loc;
	return a;
}

/* Grow a vector of count *n by one zeroed element (vec_room's caps). */
static void *vec_push(void **v, size_t *n, size_t elsz)
{
	char *p;

	vec_room(v, *n, elsz);
	p = (char *)*v + *n * elsz;
	memset(p, 0, elsz);
	(*n)++;
	return p;
}

static void close_block(struct parser *ps)
{
	ps->block = B_NONE;
	ps->in_sup = 0;
	ps->say = -1;
	ps->text = T_NONE;
	ps->part = -1;
}

static const char *block_keywords[] = {
	"gebruik", "scenario", "titel", "persona", "moeilijkheid", "begin",
	"inleiding", "leervoorbeelden", "eigen-woorden", "var", "begrip", "bedoeling", "aanvulling", "regel",
	"fase", "einde", "standaard"
};

static int is_block_keyword(const char *w)
{
	for (size_t i = 0; i < ARRAY_LEN(block_keywords); i++)
		if (strcmp(w, block_keywords[i]) == 0)
			return 1;
	return 0;
}

/* Declared names, hashed: (namespace, index into its array). Every
 * caller declares the name right after dup_name says it is new, so the
 * index is the array's length at that moment. */
struct name_ent {
	uint32_t hash;
	uint32_t idx;
	char ns;
};

static char name_ns(const char *kind)
{
	if (!strcmp(kind, "bedoeling"))
		return 'b';
	if (!strcmp(kind, "begrip"))
		return 'k';
	if (!strcmp(kind, "regel"))
		return 'r';
	if (!strcmp(kind, "var"))
		return 'v';
	if (!strcmp(kind, "punt"))
		return 'p';
	return 'n';   /* fases and eindes share one namespace */
}

static const char *name_at(const struct script *s, char ns, size_t i,
			   const struct loc **loc)
{
	switch (ns) {
	case 'b':
		*loc = &s->intents[i].loc;
		return s->intents[i].name;
	case 'k':
		*loc = &s->concepts[i].loc;
		return s->concepts[i].name;
	case 'r':
		*loc = &s->rules[i].loc;
		return s->rules[i].name;
	case 'v':
		*loc = &s->vars[i].loc;
		return s->vars[i].name;
	case 'p':
		*loc = &s->points[i].loc;
		return s->points[i].id;
	default:
		*loc = &s->nodes[i].loc;
		return s->nodes[i].name;
	}
}

static size_t name_count(const struct script *s, char ns)
{
	switch (ns) {
	case 'b':
		return s->nintents;
	case 'k':
		return s->nconcepts;
	case 'r':
		return s->nrules;
	case 'v':
		return s->nvars;
	case 'p':
		return s->npoints;
	default:
		return s->nnodes;
	}
}

static void names_grow(struct parser *ps)
{
	size_t cap = ps->names_cap ? ps->names_cap * 2 : 256;
	struct name_ent *t = xcalloc(cap, sizeof(*t));

	for (size_t i = 0; i < ps->names_cap; i++) {
		size_t j;

		if (!ps->names[i].ns)
			continue;
		j = ps->names[i].hash & (cap - 1);
		while (t[j].ns)
			j = (j + 1) & (cap - 1);
		t[j] = ps->names[i];
	}
	free(ps->names);
	ps->names = t;
	ps->names_cap = cap;
}

static int dup_name(struct parser *ps, const char *kind, const char *name,
		    const struct loc *loc)
{
	char ns = name_ns(kind);
	uint32_t h = hash_str(name, strlen(name)) ^ (uint32_t)ns * 0x9e3779b9u;
	size_t j;

	if ((ps->nnames + 1) * 2 > ps->names_cap)
		names_grow(ps);
	j = h & (ps->names_cap - 1);
	while (ps->names[j].ns) {
		const struct name_ent *e = &ps->names[j];
		const struct loc *prev;

		if (e->hash == h && e->ns == ns &&
		    !strcmp(name_at(ps->s, ns, e->idx, &prev), name)) {
			diag_add(ps->d, loc, "%s '%s' bestaat al (%s:%d)", kind,
				 name, prev->file, prev->line);
			return 1;
		}
		j = (j + 1) & (ps->names_cap - 1);
	}
	ps->names[j].hash = h;
	ps->names[j].ns = ns;
	ps->names[j].idx = (uint32_t)name_count(ps->s, ns);
	ps->nnames++;
	return 0;
}

static int parse_file(struct parser *ps, const char *path,
		      const struct loc *from);

/* --- text lines: "- [cond] text", "+ text", "> text" --- */

/* loc is where t starts in the line, so a bad '{' gets its own column. */
static int check_placeholders(struct parser *ps, const char *t,
			      struct loc loc)
{
	const char *p = t;

	for (p = strchr(p, '{'); p; p = strchr(p, '{')) {
		if (strncmp(p, "{woord}", 7) != 0) {
			loc.col += (int)(p - t);
			diag_add(ps->d, &loc, "onbekende invulplek '%.12s' "
				 "(alleen {woord} bestaat)", p);
			return -1;
		}
		p += 7;
	}
	return 0;
}

static void text_line(struct parser *ps, struct cursor *c, char marker)
{
	struct loc l = cur_loc(c);
	struct loc tl;          /* where the text starts, for placeholders */
	struct action_list *al;
	struct action *a;
	struct variant *v;
	char *t;

	c->p++;
	if (marker == '>') {
		skip_ws(c);
		t = rest_trimmed(c);
		if (ps->text == T_INTRO) {
			struct sbuf sb;

			sbuf_init(&sb);
			if (ps->s->intro) {
				sbuf_adds(&sb, ps->s->intro);
				sbuf_addc(&sb, '\n');
			}
			sbuf_adds(&sb, t);
			free(ps->s->intro);
			ps->s->intro = sbuf_detach(&sb);
		} else if (ps->text == T_EXPLAIN) {
			struct node *n = cur_node(ps);
			struct sbuf sb;

			sbuf_init(&sb);
			if (n->explain && *n->explain) {
				sbuf_adds(&sb, n->explain);
				sbuf_addc(&sb, ' ');
			}
			sbuf_adds(&sb, t);
			free(n->explain);
			n->explain = sbuf_detach(&sb);
		} else {
			diag_add(ps->d, &l, "'>' hoort onder 'inleiding:' "
				 "of 'uitleg:'");
		}
		free(t);
		return;
	}
	al = cur_actions(ps);
	if (!al || ps->say < 0) {
		diag_add(ps->d, &l, "'%c tekst' hoort onder 'zeg'", marker);
		return;
	}
	a = &al->v[ps->say];
	if (marker == '+') {
		if (a->nvariants == 0) {
			diag_add(ps->d, &l, "'+' volgt op een '- tekst'");
			return;
		}
		v = &a->variants[a->nvariants - 1];
		if (v->nmsgs >= SCRIPT_MAX_MSGS) {
			diag_add(ps->d, &l, "hoogstens %d berichten per variant",
				 SCRIPT_MAX_MSGS);
			return;
		}
		skip_ws(c);
		tl = cur_loc(c);
		t = rest_trimmed(c);
		if (!*t) {
			diag_add(ps->d, &l, "lege tekst na '+'");
			free(t);
			return;
		}
		if (check_placeholders(ps, t, tl) < 0) {
			free(t);
			return;
		}
		v->msgs[v->nmsgs++] = t;
		return;
	}
	{
		struct expr *cond = NULL;

		skip_ws(c);
		if (*c->p == '[') {
			c->p++;
			cond = parse_cond(ps, c, ']');
			if (!cond)
				return;
			c->p++;
		}
		skip_ws(c);
		tl = cur_loc(c);
		t = rest_trimmed(c);
		if (!*t) {
			diag_add(ps->d, &l, "lege tekst na '-'");
			free(t);
			expr_free(cond);
			return;
		}
		if (check_placeholders(ps, t, tl) < 0) {
			free(t);
			expr_free(cond);
			return;
		}
		v = vec_push((void **)&a->variants, &a->nvariants,
			     sizeof(*a->variants));
		v->cond = cond;
		v->msgs[0] = t;
		v->nmsgs = 1;
		v->loc = l;
		v->index = (uint32_t)ps->nvariants++;
	}
}

/* --- block openers --- */

static void open_intent(struct parser *ps, struct cursor *c, struct loc l)
{
	char *name;
	struct intent *in;

	skip_ws(c);
	name = read_name(c);
	if (!name || !at_end(c)) {
		diag_add(ps->d, &l, "verwacht: bedoeling <naam>");
		free(name);
		return;
	}
	if (!strcmp(name, INTENT_OTHER_LANGUAGE)) {
		diag_add(ps->d, &l, "bedoeling '%s' is ingebouwd: gebruik "
			 "haar in een 'als' zonder haar te declareren", name);
		free(name);
		return;
	}
	if (dup_name(ps, "bedoeling", name, &l)) {
		free(name);
		return;
	}
	in = vec_push((void **)&ps->s->intents, &ps->s->nintents,
		      sizeof(*in));
	in->name = name;
	in->loc = l;
	in->negation_guard = 1;
	in->cond_ok = 1;
	in->echo_ok = 1;
	ps->block = B_INTENT;
	ps->cur = ps->s->nintents - 1;
}

/* aanvulling NAME: more patterns and examples for a bedoeling declared
 * anywhere (usually an included file); resolve merges them. Options
 * left out are the bedoeling's own (-1 until then). */
static void open_supplement(struct parser *ps, struct cursor *c,
			    struct loc l)
{
	char *name;
	struct intent *in;

	skip_ws(c);
	name = read_name(c);
	if (!name || !at_end(c)) {
		diag_add(ps->d, &l, "verwacht: aanvulling <naam van een "
			 "bedoeling>");
		free(name);
		return;
	}
	in = vec_push((void **)&ps->sup, &ps->nsup, sizeof(*in));
	in->name = name;
	in->loc = l;
	in->negation_guard = -1;
	in->acts = -1;
	in->reported_ok = -1;
	in->cond_ok = -1;
	in->echo_ok = -1;
	in->minor = -1;
	ps->block = B_INTENT;
	ps->in_sup = 1;
	ps->cur = ps->nsup - 1;
}

static void open_rule(struct parser *ps, struct cursor *c, struct loc l)
{
	char *name;
	struct rule *r;

	skip_ws(c);
	name = read_name(c);
	if (!name || !at_end(c)) {
		diag_add(ps->d, &l, "verwacht: regel <naam>");
		free(name);
		return;
	}
	if (dup_name(ps, "regel", name, &l)) {
		free(name);
		return;
	}
	r = vec_push((void **)&ps->s->rules, &ps->s->nrules, sizeof(*r));
	r->name = name;
	r->loc = l;
	r->kind = TRIG_ALS;
	ps->block = B_RULE;
	ps->cur = ps->s->nrules - 1;
}

static void open_node(struct parser *ps, struct cursor *c, struct loc l,
		      enum node_kind kind)
{
	struct node *n;
	char *name = NULL;
	enum ending_kind ek = END_NONE;

	if (kind == NODE_STANDAARD) {
		if (!at_end(c)) {
			diag_add(ps->d, &l, "'standaard' heeft geen naam");
			return;
		}
		if (ps->s->standaard) {
			diag_add(ps->d, &l, "er is al een blok 'standaard' "
				 "(%s:%d)", ps->s->standaard->loc.file,
				 ps->s->standaard->loc.line);
			return;
		}
		ps->s->standaard = xcalloc(1, sizeof(*ps->s->standaard));
		ps->s->standaard->kind = NODE_STANDAARD;
		ps->s->standaard->name = xstrdup("standaard");
		ps->s->standaard->loc = l;
		ps->block = B_STANDAARD;
		ps->part = -1;
		return;
	}
	skip_ws(c);
	name = read_name(c);
	if (!name) {
		diag_add(ps->d, &l, "verwacht: %s <naam>",
			 kind == NODE_FASE ? "fase" : "einde");
		return;
	}
	if (kind == NODE_EINDE) {
		struct loc l2 = cur_loc(c);

		if (read_word_is(c, "goed"))
			ek = END_GOED;
		else if (read_word_is(c, "breuk"))
			ek = END_BREUK;
		else if (read_word_is(c, "neutraal"))
			ek = END_NEUTRAAL;
		else {
			l2 = cur_loc(c);
			diag_add(ps->d, &l2, "verwacht het soort einde: goed, "
				 "breuk of neutraal");
			free(name);
			return;
		}
	}
	if (!at_end(c)) {
		struct loc l2 = cur_loc(c);

		diag_add(ps->d, &l2, "onverwacht '%s' na de naam", c->p);
		free(name);
		return;
	}
	if (dup_name(ps, kind == NODE_FASE ? "fase" : "einde", name, &l)) {
		free(name);
		return;
	}
	n = vec_push((void **)&ps->s->nodes, &ps->s->nnodes, sizeof(*n));
	n->name = name;
	n->kind = kind;
	n->ending = ek;
	n->loc = l;
	ps->block = B_NODE;
	ps->cur = ps->s->nnodes - 1;
	ps->part = -1;
}

/* als / zodra / anders in a node or rule. */
static void trigger_line(struct parser *ps, struct cursor *c, struct loc l,
			 enum trig_kind kind)
{
	struct node *n = cur_node(ps);
	struct expr *cond = NULL;
	struct transition *t;

	if (kind != TRIG_ANDERS) {
		cond = parse_cond(ps, c, '\0');
		if (!cond)
			return;
	} else if (!at_end(c)) {
		struct loc l2 = cur_loc(c);

		diag_add(ps->d, &l2, "'anders' staat alleen op de regel");
		return;
	}
	if (ps->block == B_RULE) {
		struct rule *r = &ps->s->rules[ps->cur];

		if (kind == TRIG_ANDERS || r->cond) {
			diag_add(ps->d, &l, kind == TRIG_ANDERS ?
				 "'anders' hoort in een fase of 'standaard'" :
				 "een regel heeft één 'als' of 'zodra'");
			expr_free(cond);
			return;
		}
		r->kind = kind;
		r->cond = cond;
		return;
	}
	if (!n || n->kind == NODE_EINDE) {
		diag_add(ps->d, &l, "'%s' hoort in een fase, regel of "
			 "'standaard'", kind == TRIG_ALS ? "als" :
			 kind == TRIG_ZODRA ? "zodra" : "anders");
		expr_free(cond);
		return;
	}
	ps->say = -1;
	if (kind == TRIG_ANDERS) {
		t = vec_push((void **)&n->fallbacks, &n->nfallbacks,
			     sizeof(*t));
		ps->part = FALLBACK_BASE + (int)n->nfallbacks - 1;
	} else {
		t = vec_push((void **)&n->trans, &n->ntrans, sizeof(*t));
		ps->part = (int)n->ntrans - 1;
	}
	t->kind = kind;
	t->cond = cond;
	t->loc = l;
}

static void action_line(struct parser *ps, struct cursor *c, struct loc l,
			const char *kw)
{
	struct action *a;

	if (!cur_actions(ps)) {
		diag_add(ps->d, &l, "'%s' hoort in een regel, fase of einde",
			 kw);
		return;
	}
	if (strcmp(kw, "zeg") == 0 || strcmp(kw, "erkenning") == 0 ||
	    strcmp(kw, "herhaald") == 0 || strcmp(kw, "uitwijk") == 0 ||
	    strcmp(kw, "verduidelijk") == 0 ||
	    strcmp(kw, "niet-gezegd") == 0) {
		enum action_kind k = kw[0] == 'z' ? ACT_SAY :
				     kw[0] == 'e' ? ACT_ACK :
				     kw[0] == 'h' ? ACT_REPEAT :
				     kw[0] == 'u' ? ACT_FILLER :
				     kw[0] == 'n' ? ACT_UNSAID : ACT_VAGUE;

		if (!at_end(c)) {
			diag_add(ps->d, &l, "na '%s' komen de zinnen op "
				 "eigen regels: - tekst", kw);
			return;
		}
		if (k == ACT_ACK && (ps->block == B_RULE || ps->part < 0 ||
				     ps->part >= FALLBACK_BASE ||
				     cur_node(ps)->trans[ps->part].kind !=
				     TRIG_ALS)) {
			diag_add(ps->d, &l, "'erkenning' hoort onder een 'als' "
				 "in een fase of 'standaard'");
			return;
		}
		if ((k == ACT_REPEAT || k == ACT_FILLER || k == ACT_VAGUE ||
		     k == ACT_UNSAID) &&
		    (ps->block == B_RULE || ps->part >= 0 ||
		     cur_node(ps)->kind != NODE_STANDAARD)) {
			diag_add(ps->d, &l, "'%s' hoort direct onder "
				 "'standaard'", kw);
			return;
		}
		a = push_action(ps, k, l);
		ps->say = (long)(cur_actions(ps)->n - 1);
		(void)a;
		return;
	}
	ps->say = -1;
	if (strcmp(kw, "naar") == 0) {
		char *name;

		skip_ws(c);
		name = read_name(c);
		if (!name || !at_end(c)) {
			diag_add(ps->d, &l, "verwacht: naar <fase of einde>");
			free(name);
			return;
		}
		a = push_action(ps, ACT_GOTO, l);
		a->name = name;
	} else if (strcmp(kw, "punt") == 0) {
		char *name;
		int shown;

		skip_ws(c);
		name = read_name(c);
		if (!name) {
			diag_add(ps->d, &l, "verwacht: punt <id> getoond|gemist");
			return;
		}
		if (read_word_is(c, "getoond")) {
			shown = 1;
		} else if (read_word_is(c, "gemist")) {
			shown = 0;
		} else {
			struct loc l2 = cur_loc(c);

			diag_add(ps->d, &l2, "verwacht 'getoond' of 'gemist'");
			free(name);
			return;
		}
		a = push_action(ps, ACT_POINT, l);
		a->name = name;
		a->value = shown;
		skip_ws(c);
		if (*c->p == '"') {
			const char *b = ++c->p;
			const char *e = strchr(b, '"');

			if (!e) {
				struct loc l2 = cur_loc(c);

				diag_add(ps->d, &l2, "reden zonder sluitend '\"'");
				return;
			}
			a->reason = xstrndup(b, (size_t)(e - b));
			c->p = e + 1;
		}
		if (!at_end(c)) {
			struct loc l2 = cur_loc(c);

			diag_add(ps->d, &l2, "onverwacht '%s'", c->p);
		}
	} else if (strcmp(kw, "onderbreek") == 0 ||
		   strcmp(kw, "eenmalig") == 0) {
		if (ps->block != B_RULE) {
			diag_add(ps->d, &l, "'%s' hoort alleen in een regel",
				 kw);
			return;
		}
		if (kw[0] == 'o') {
			a = push_action(ps, ACT_INTERRUPT, l);
			ps->s->rules[ps->cur].interrupt = 1;
		} else {
			ps->s->rules[ps->cur].once = 1;
		}
		if (!at_end(c))
			diag_add(ps->d, &l, "'%s' staat alleen op de regel",
				 kw);
	}
}

static void var_change(struct parser *ps, struct cursor *c, struct loc l,
		       char *name)
{
	struct action *a;
	int v;
	int set = 0;

	skip_ws(c);
	if (*c->p == '=') {
		set = 1;
		c->p++;
	}
	if (read_int(c, &v) < 0 || !at_end(c)) {
		diag_add(ps->d, &l, "verwacht: %s +1, %s -1 of %s = 3",
			 name, name, name);
		free(name);
		return;
	}
	if (!cur_actions(ps)) {
		diag_add(ps->d, &l, "variabele aanpassen kan alleen in een "
			 "regel, fase of einde");
		free(name);
		return;
	}
	a = push_action(ps, set ? ACT_SET : ACT_ADD, l);
	a->name = name;
	a->value = v;
	ps->say = -1;
}

static void decl_var(struct parser *ps, struct cursor *c, struct loc l)
{
	struct var *v;
	struct expr *until = NULL;
	char *name;
	int init, min, max, cap = 0, step = 0;

	skip_ws(c);
	name = read_name(c);
	if (!name)
		goto bad;
	skip_ws(c);
	if (*c->p != '=')
		goto bad;
	c->p++;
	if (read_int(c, &init) < 0)
		goto bad;
	skip_ws(c);
	if (*c->p != '(')
		goto bad;
	c->p++;
	if (read_int(c, &min) < 0)
		goto bad;
	skip_ws(c);
	if (strncmp(c->p, "..", 2) != 0)
		goto bad;
	c->p += 2;
	if (read_int(c, &max) < 0)
		goto bad;
	skip_ws(c);
	if (*c->p != ')')
		goto bad;
	c->p++;
	skip_ws(c);
	if (read_word_is(c, "stap")) {
		if (read_int(c, &step) < 0)
			goto bad;
		if (step < 1 || step > max - min) {
			diag_add(ps->d, &l, "var %s: stap %d ligt niet tussen "
				 "1 en %d", name, step, max - min);
			free(name);
			return;
		}
		skip_ws(c);
	}
	if (!at_end(c)) {
		if (!read_word_is(c, "plafond") || read_int(c, &cap) < 0)
			goto bad;
		skip_ws(c);
		if (!read_word_is(c, "tot"))
			goto bad;
		until = parse_cond(ps, c, '\0');
		if (!until) {
			free(name);
			return;
		}
		if (cap < min || cap >= max) {
			diag_add(ps->d, &l, "var %s: plafond %d ligt niet "
				 "tussen %d en %d", name, cap, min, max - 1);
			expr_free(until);
			free(name);
			return;
		}
	}
	if (min > max || init < min || init > max) {
		diag_add(ps->d, &l, "var %s: beginwaarde %d ligt niet tussen "
			 "%d en %d", name, init, min, max);
		expr_free(until);
		free(name);
		return;
	}
	if (strcmp(name, "beurt") == 0 || strcmp(name, "gemist") == 0 ||
	    strcmp(name, "eerder") == 0) {
		diag_add(ps->d, &l, "'%s' is ingebouwd en kan geen variabele "
			 "zijn", name);
		expr_free(until);
		free(name);
		return;
	}
	if (dup_name(ps, "var", name, &l)) {
		expr_free(until);
		free(name);
		return;
	}
	v = vec_push((void **)&ps->s->vars, &ps->s->nvars, sizeof(*v));
	v->name = name;
	v->init = init;
	v->min = min;
	v->max = max;
	v->cap = cap;
	v->step = step;
	v->until = until;
	v->loc = l;
	return;
bad:
	diag_add(ps->d, &l, "verwacht: var <naam> = <begin> (<min>..<max>) "
		 "[stap <n>] [plafond <n> tot <voorwaarde>]");
	free(name);
}

static void decl_concept(struct parser *ps, struct cursor *c, struct loc l)
{
	struct concept *k;
	char *name;

	skip_ws(c);
	name = read_name(c);
	skip_ws(c);
	if (!name || *c->p != '=') {
		diag_add(ps->d, &l, "verwacht: begrip <naam> = item, item, …");
		free(name);
		return;
	}
	c->p++;
	if (dup_name(ps, "begrip", name, &l)) {
		free(name);
		return;
	}
	k = vec_push((void **)&ps->s->concepts, &ps->s->nconcepts,
		     sizeof(*k));
	k->name = name;
	k->loc = l;
	for (;;) {
		struct pat_seq *q = vec_push((void **)&k->alts, &k->nalts,
					     sizeof(*q));

		if (parse_seq(ps, c, q, 1, 1) < 0)
			return;
		if (q->n == 0) {
			struct loc l2 = cur_loc(c);

			diag_add(ps->d, &l2, "leeg item in begrip '%s'", name);
			return;
		}
		shrink_seq(q, &ps->s->arena);
		skip_ws(c);
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p) {
			struct loc l2 = cur_loc(c);

			diag_add(ps->d, &l2, "onverwacht '%c' in begrip",
				 *c->p);
		}
		return;
	}
}

static void decl_point(struct parser *ps, struct cursor *c, struct loc l,
		       char *name)
{
	struct point *p;
	char *label;

	c->p++;   /* ':' */
	label = rest_trimmed(c);
	if (!*label) {
		diag_add(ps->d, &l, "punt %s: label ontbreekt", name);
		free(label);
		free(name);
		return;
	}
	if (dup_name(ps, "punt", name, &l)) {
		free(label);
		free(name);
		return;
	}
	p = vec_push((void **)&ps->s->points, &ps->s->npoints, sizeof(*p));
	p->id = name;
	p->label = label;
	p->loc = l;
}

/* An example sentence may end in the rubric moments it earns:
 * "Ik kan niet beloven dat alles geheim blijft. [+eerlijk -druk]", or
 * "[]" for none. Cuts them off t and returns them ("" for none), or NULL
 * when the sentence has no such ending (a '[' that is not followed by
 * only +id/-id words is part of the sentence). */
static char *example_expect(char *t)
{
	size_t n = strlen(t);
	char *open, *r;

	if (!n || t[n - 1] != ']')
		return NULL;
	open = strrchr(t, '[');
	if (!open || open == t)
		return NULL;
	for (const char *p = open + 1; p < t + n - 1; p++) {
		int start = p == open + 1 || p[-1] == ' ';

		if (*p == ' ')
			continue;
		if (start && (*p == '+' || *p == '-'))
			continue;
		if (!start && (islower((unsigned char)*p) ||
			       isdigit((unsigned char)*p) || *p == '-'))
			continue;
		return NULL;
	}
	r = xstrndup(open + 1, (size_t)(t + n - 1 - (open + 1)));
	while (open > t && open[-1] == ' ')
		open--;
	*open = '\0';
	return r;
}

/* "ja" or "nee" and the end of the line: 1, 0; -1 otherwise. */
static int read_yes_no(struct cursor *c)
{
	if (read_word_is(c, "ja") && at_end(c))
		return 1;
	if (read_word_is(c, "nee") && at_end(c))
		return 0;
	return -1;
}

/* vraag[, voorstel…] up to stop ('\0': the end of the line, or ')',
 * which is read) → a mask of acts (1 << enum match_act), or -1. */
static int read_act_list(struct parser *ps, struct cursor *c, char stop)
{
	int mask = 0;

	for (;;) {
		const char *b;
		int a;

		skip_ws(c);
		b = c->p;
		while (*c->p >= 'a' && *c->p <= 'z')
			c->p++;
		a = clause_act_parse(b, (size_t)(c->p - b));
		if (a < 0) {
			struct loc at = cur_loc(c);

			at.col -= (int)(c->p - b);
			diag_add(ps->d, &at, "onbekende handeling '%.*s' "
				 "(verwacht vraag, voorstel, belofte of "
				 "mededeling)", (int)(c->p - b), b);
			return -1;
		}
		mask |= 1 << a;
		skip_ws(c);
		if (*c->p == stop) {
			if (stop)
				c->p++;
			return mask;
		}
		if (*c->p != ',') {
			struct loc at = cur_loc(c);

			diag_add(ps->d, &at, "verwacht ',' of %s na een "
				 "handeling", stop ? "')'" :
				 "het einde van de regel");
			return -1;
		}
		c->p++;
	}
}

static void intent_line(struct parser *ps, struct cursor *c, struct loc l,
			const char *kw)
{
	struct intent *in = ps->in_sup ? &ps->sup[ps->cur] :
			    &ps->s->intents[ps->cur];
	int v;

	if (strcmp(kw, "patroon") == 0) {
		struct pat_seq q;
		const char *b = c->p;
		int acts = -1;

		/* "patroon: (a | b)" is a pattern; "patroon (vraag): …" (no
		 * colon right after the keyword) gives the pattern's acts */
		while (b > c->line && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		skip_ws(c);
		if (*c->p == '(' && !(b > c->line && b[-1] == ':')) {
			c->p++;
			acts = read_act_list(ps, c, ')');
			if (acts < 0)
				return;
			skip_ws(c);
			if (*c->p != ':') {
				struct loc at = cur_loc(c);

				diag_add(ps->d, &at, "verwacht ':' na "
					 "'patroon (handeling)'");
				return;
			}
			c->p++;
		}
		if (parse_pattern(ps, c, &q) < 0)
			return;
		if (acts >= 0) {
			q.acts = (uint8_t)acts;
			q.own_acts = 1;
		}
		*(struct pat_seq *)vec_push((void **)&in->pats, &in->npats,
					    sizeof(q)) = q;
	} else if (strcmp(kw, "ja") == 0 || strcmp(kw, "nee") == 0) {
		struct example *e;
		char *t = rest_trimmed(c);

		if (!*t) {
			diag_add(ps->d, &l, "lege voorbeeldzin");
			free(t);
			return;
		}
		e = vec_push((void **)&in->examples, &in->nexamples,
			     sizeof(*e));
		e->expect = example_expect(t);
		e->text = t;
		e->should_match = kw[0] == 'j';
		e->loc = l;
	} else if (strcmp(kw, "ontkenning") == 0) {
		v = read_yes_no(c);
		if (v < 0)
			diag_add(ps->d, &l, "verwacht: ontkenning: ja|nee");
		else
			in->negation_guard = v;
	} else if (strcmp(kw, "citaat") == 0) {
		v = read_yes_no(c);
		if (v < 0)
			diag_add(ps->d, &l, "verwacht: citaat: ja|nee");
		else
			in->reported_ok = v;
	} else if (strcmp(kw, "voorwaarde") == 0) {
		v = read_yes_no(c);
		if (v < 0)
			diag_add(ps->d, &l, "verwacht: voorwaarde: ja|nee");
		else
			in->cond_ok = v;
	} else if (strcmp(kw, "overgenomen") == 0) {
		v = read_yes_no(c);
		if (v < 0)
			diag_add(ps->d, &l, "verwacht: overgenomen: ja|nee");
		else
			in->echo_ok = v;
	} else if (strcmp(kw, "hulp") == 0) {
		v = read_yes_no(c);
		if (v < 0)
			diag_add(ps->d, &l, "verwacht: hulp: ja|nee");
		else if (ps->in_sup)
			diag_add(ps->d, &l, "'hulp:' hoort bij een bedoeling, "
				 "niet bij een aanvulling");
		else
			in->helper = v;
	} else if (strcmp(kw, "bijzaak") == 0) {
		const char *at = c->p;

		if (read_word_is(c, "gehoord") && at_end(c)) {
			v = MINOR_HEARD;
		} else {
			c->p = at;
			v = read_yes_no(c);
		}
		if (v < 0)
			diag_add(ps->d, &l,
				 "verwacht: bijzaak: ja|nee|gehoord");
		else
			in->minor = v;
	} else if (strcmp(kw, "handeling") == 0) {
		v = read_act_list(ps, c, '\0');
		if (v >= 0)
			in->acts = v;
	} else if (strcmp(kw, "tenzij") == 0) {
		size_t before = in->nunless;

		for (;;) {
			struct unless_ref *u;
			struct loc at;
			char *name;

			skip_ws(c);
			if (*c->p == '|' || *c->p == ',') {
				c->p++;
				continue;
			}
			if (!*c->p)
				break;
			at = cur_loc(c);
			name = read_name(c);
			if (!name) {
				diag_add(ps->d, &at, "verwacht de naam van "
					 "een bedoeling na 'tenzij:'");
				return;
			}
			u = vec_push((void **)&in->unless, &in->nunless,
				     sizeof(*u));
			u->name = name;
			u->loc = at;
		}
		if (in->nunless == before)
			diag_add(ps->d, &l, "verwacht: tenzij: <bedoeling> "
				 "[| <bedoeling>…]");
	} else {
		diag_add(ps->d, &l, "onbekend in een %s: '%s' (verwacht "
			 "patroon, ja, nee, ontkenning, handeling, citaat, "
			 "voorwaarde, overgenomen, bijzaak, hulp of tenzij)",
			 ps->in_sup ? "aanvulling" : "bedoeling", kw);
	}
}

/* leervoorbeelden: PATH - a corpus training split (tests/corpus/README.md)
 * the statistical matcher learns from; relative to this file. */
static void train_line(struct parser *ps, struct cursor *c, struct loc l)
{
	struct script *s = ps->s;
	const char *slash = strrchr(l.file, '/');
	struct sbuf sb;
	struct loc at;
	char *rel;

	skip_ws(c);
	at = cur_loc(c);
	rel = rest_trimmed(c);

	if (!*rel) {
		diag_add(ps->d, &l, "verwacht: leervoorbeelden: <bestand>");
		free(rel);
		return;
	}
	if (s->train_path) {
		diag_add(ps->d, &l, "'leervoorbeelden' staat er al (%s:%d)",
			 s->train_loc.file, s->train_loc.line);
		free(rel);
		return;
	}
	sbuf_init(&sb);
	if (rel[0] != '/' && slash)
		sbuf_add(&sb, l.file, (size_t)(slash - l.file + 1));
	sbuf_adds(&sb, rel);
	free(rel);
	s->train_path = sbuf_detach(&sb);
	s->train_loc = at;
}

static void header_line(struct parser *ps, struct cursor *c, struct loc l,
			const char *kw)
{
	struct script *s = ps->s;

	if (strcmp(kw, "scenario") == 0) {
		char *id;

		skip_ws(c);
		id = read_name(c);
		if (!id || !at_end(c)) {
			diag_add(ps->d, &l, "verwacht: scenario <id> (kleine "
				 "letters, cijfers, - en _)");
			free(id);
			return;
		}
		if (s->id) {
			diag_add(ps->d, &l, "er staat al 'scenario %s' (%s:%d)",
				 s->id, s->id_loc.file, s->id_loc.line);
			free(id);
			return;
		}
		s->id = id;
		s->id_loc = l;
	} else if (strcmp(kw, "titel") == 0 || strcmp(kw, "persona") == 0) {
		char **dst = kw[0] == 't' ? &s->title : &s->persona;
		char *t = rest_trimmed(c);

		if (!*t || *dst) {
			diag_add(ps->d, &l, *t ? "'%s' staat er al" :
				 "'%s' is leeg", kw);
			free(t);
			return;
		}
		*dst = t;
	} else if (strcmp(kw, "moeilijkheid") == 0) {
		int v;

		if (read_int(c, &v) < 0 || v < 1 || v > 3 || !at_end(c)) {
			diag_add(ps->d, &l, "moeilijkheid is 1, 2 of 3");
			return;
		}
		s->difficulty = v;
	} else if (strcmp(kw, "begin") == 0) {
		char *name;

		skip_ws(c);
		name = read_name(c);
		if (!name || !at_end(c)) {
			diag_add(ps->d, &l, "verwacht: begin: <fase>");
			free(name);
			return;
		}
		if (ps->begin_name) {
			diag_add(ps->d, &l, "'begin' staat er al");
			free(name);
			return;
		}
		ps->begin_name = name;
		ps->begin_loc = l;
	} else if (strcmp(kw, "leervoorbeelden") == 0) {
		train_line(ps, c, l);
	} else if (strcmp(kw, "eigen-woorden") == 0) {
		char *t = rest_trimmed(c);

		if (!*t || s->own_words) {
			diag_add(ps->d, &l, *t ? "'eigen-woorden' staat er "
				 "al" : "'eigen-woorden' is leeg");
			free(t);
			return;
		}
		s->own_words = t;
	} else if (strcmp(kw, "inleiding") == 0) {
		if (!at_end(c)) {
			diag_add(ps->d, &l, "de inleiding staat op regels "
				 "met '>' eronder");
			return;
		}
		ps->text = T_INTRO;
	}
}

static void include_line(struct parser *ps, struct cursor *c, struct loc l)
{
	const char *b, *e;
	char *rel, *full;
	const char *slash;
	struct sbuf sb;

	skip_ws(c);
	if (*c->p != '"') {
		diag_add(ps->d, &l, "verwacht: gebruik \"bestand.oef\"");
		return;
	}
	b = ++c->p;
	e = strchr(b, '"');
	if (!e || e == b) {
		diag_add(ps->d, &l, "verwacht: gebruik \"bestand.oef\"");
		return;
	}
	c->p = e + 1;
	if (!at_end(c)) {
		diag_add(ps->d, &l, "onverwacht na de bestandsnaam");
		return;
	}
	rel = xstrndup(b, (size_t)(e - b));
	sbuf_init(&sb);
	slash = strrchr(l.file, '/');
	if (rel[0] != '/' && slash)
		sbuf_add(&sb, l.file, (size_t)(slash - l.file + 1));
	sbuf_adds(&sb, rel);
	full = sbuf_detach(&sb);
	free(rel);
	{
		/* The block state belongs to the including file. */
		enum block blk = ps->block;
		size_t cur = ps->cur;
		int part = ps->part;
		long say = ps->say;
		enum textmode text = ps->text;

		close_block(ps);
		parse_file(ps, full, &l);
		ps->block = blk;
		ps->cur = cur;
		ps->part = part;
		ps->say = say;
		ps->text = text;
	}
	free(full);
}

/* toelichting: TEXT under a '- tekst': what the persona says when the
 * trainee asks what that line means. */
static void elab_line(struct parser *ps, struct cursor *c, struct loc l)
{
	struct action_list *al = cur_actions(ps);
	struct action *a;
	struct variant *v;
	struct loc tl;
	char *t;

	if (!al || ps->say < 0 || !al->v[ps->say].nvariants) {
		diag_add(ps->d, &l, "'toelichting:' hoort direct onder een "
			 "'- tekst' van 'zeg'");
		return;
	}
	a = &al->v[ps->say];
	v = &a->variants[a->nvariants - 1];
	if (a->kind != ACT_SAY) {
		diag_add(ps->d, &l, "'toelichting:' hoort onder een zin van "
			 "'zeg'");
		return;
	}
	if (v->elab) {
		diag_add(ps->d, &l, "deze zin heeft al een toelichting");
		return;
	}
	skip_ws(c);
	tl = cur_loc(c);
	t = rest_trimmed(c);
	if (!*t) {
		diag_add(ps->d, &l, "lege toelichting");
		free(t);
		return;
	}
	if (check_placeholders(ps, t, tl) < 0) {
		free(t);
		return;
	}
	v->elab = t;
}

static void parse_line(struct parser *ps, struct cursor *c)
{
	struct loc l;
	char *kw;

	skip_ws(c);
	l = cur_loc(c);
	if (*c->p == '-' || *c->p == '+' || *c->p == '>') {
		text_line(ps, c, *c->p);
		return;
	}
	kw = read_name(c);
	if (!kw) {
		diag_add(ps->d, &l, "verwacht een opdracht (bijvoorbeeld "
			 "fase, als, zeg) of een regel met -, + of >");
		return;
	}
	skip_ws(c);
	/* "punt id: label" declares; "punt id getoond" is an action */
	if (strcmp(kw, "punt") == 0) {
		const char *save = c->p;
		char *name = read_name(c);

		if (name && *c->p == ':') {
			close_block(ps);
			decl_point(ps, c, l, name);
			free(kw);
			return;
		}
		free(name);
		c->p = save;
	}
	if (*c->p == ':')
		c->p++;
	if (strcmp(kw, "uitleg") != 0)
		ps->text = T_NONE;
	if (is_block_keyword(kw)) {
		close_block(ps);
		if (strcmp(kw, "gebruik") == 0)
			include_line(ps, c, l);
		else if (strcmp(kw, "var") == 0)
			decl_var(ps, c, l);
		else if (strcmp(kw, "begrip") == 0)
			decl_concept(ps, c, l);
		else if (strcmp(kw, "bedoeling") == 0)
			open_intent(ps, c, l);
		else if (strcmp(kw, "aanvulling") == 0)
			open_supplement(ps, c, l);
		else if (strcmp(kw, "regel") == 0)
			open_rule(ps, c, l);
		else if (strcmp(kw, "fase") == 0)
			open_node(ps, c, l, NODE_FASE);
		else if (strcmp(kw, "einde") == 0)
			open_node(ps, c, l, NODE_EINDE);
		else if (strcmp(kw, "standaard") == 0)
			open_node(ps, c, l, NODE_STANDAARD);
		else
			header_line(ps, c, l, kw);
		free(kw);
		return;
	}
	if (ps->block == B_INTENT) {
		intent_line(ps, c, l, kw);
	} else if (strcmp(kw, "als") == 0) {
		trigger_line(ps, c, l, TRIG_ALS);
	} else if (strcmp(kw, "zodra") == 0) {
		trigger_line(ps, c, l, TRIG_ZODRA);
	} else if (strcmp(kw, "anders") == 0) {
		trigger_line(ps, c, l, TRIG_ANDERS);
	} else if (strcmp(kw, "uitleg") == 0) {
		struct node *n = cur_node(ps);

		if (!n || n->kind != NODE_EINDE) {
			diag_add(ps->d, &l, "'uitleg' hoort bij een einde");
		} else {
			free(n->explain);
			n->explain = rest_trimmed(c);
			ps->text = T_EXPLAIN;
		}
	} else if (strcmp(kw, "toelichting") == 0) {
		elab_line(ps, c, l);
	} else if (strcmp(kw, "zeg") == 0 || strcmp(kw, "erkenning") == 0 ||
		   strcmp(kw, "herhaald") == 0 || strcmp(kw, "uitwijk") == 0 ||
		   strcmp(kw, "verduidelijk") == 0 ||
		   strcmp(kw, "niet-gezegd") == 0 || strcmp(kw, "naar") == 0 ||
		   strcmp(kw, "punt") == 0 || strcmp(kw, "onderbreek") == 0 ||
		   strcmp(kw, "eenmalig") == 0) {
		action_line(ps, c, l, kw);
	} else if (*c->p == '+' || *c->p == '-' || *c->p == '=') {
		var_change(ps, c, l, kw);
		return;
	} else {
		diag_add(ps->d, &l, "onbekende opdracht '%s'", kw);
	}
	free(kw);
}


static void parse_buffer(struct parser *ps, const char *fname, char *buf,
			 size_t len);

static int parse_file(struct parser *ps, const char *path,
		      const struct loc *from)
{
	struct err err;
	char *buf = NULL;
	size_t len = 0;

	for (size_t i = 0; i < ps->s->nfiles; i++) {
		if (strcmp(ps->s->files[i], path) == 0)
			return 0;   /* each file once per script */
	}
	if (ps->depth >= 8 || ps->s->nfiles >= SCRIPT_MAX_INCLUDES) {
		diag_add(ps->d, from, "te veel geneste of ingevoegde bestanden");
		return -1;
	}
	{
		struct stat st;

		/* only regular files: never a FIFO, a device or a folder */
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    access(path, R_OK) != 0) {
			diag_add(ps->d, from, "bestand niet gevonden of geen "
				 "leesbaar gewoon bestand: %s", path);
			return -1;
		}
	}
	if (read_file(path, SCRIPT_MAX_FILE, &buf, &len, &err) < 0) {
		diag_add(ps->d, from, "%s", err.msg);
		return -1;
	}
	parse_buffer(ps, path, buf, len);
	free(buf);
	return 0;
}

static void parse_buffer(struct parser *ps, const char *path, char *buf,
			 size_t len)
{
	char *p, *line_buf = NULL;
	size_t cap = 0;
	const char *fname;
	int lineno = 0;

	fname = *(char **)vec_push((void **)&ps->s->files, &ps->s->nfiles,
				   sizeof(char *)) = xstrdup(path);
	ps->s->digest = hash_fnv64(ps->s->digest ? ps->s->digest :
				   HASH_FNV64_START, buf, len);
	ps->depth++;
	p = buf;
	while (p < buf + len) {
		struct cursor c;
		size_t n = 0;
		int first = lineno + 1;

		/* gather one logical line (',' at the end continues it) */
		for (;;) {
			char *e = memchr(p, '\n', (size_t)(buf + len - p));
			size_t ll = e ? (size_t)(e - p) : (size_t)(buf + len - p);
			size_t t;

			lineno++;
			if (ll && p[ll - 1] == '\r')
				t = ll - 1;
			else
				t = ll;
			if (!utf8_valid(p, t) || memchr(p, '\0', t)) {
				struct loc l = { fname, lineno, 1 };

				diag_add(ps->d, &l, "geen geldige UTF-8-tekst");
				t = 0;
			}
			if (t > SCRIPT_MAX_LINE) {
				struct loc l = { fname, lineno, 1 };

				diag_add(ps->d, &l, "regel is langer dan %d "
					 "bytes", SCRIPT_MAX_LINE);
				t = 0;
			}
			XGROW(line_buf, cap, n + t + 2);
			if (n)
				line_buf[n++] = ' ';
			memcpy(line_buf + n, p, t);
			n += t;
			line_buf[n] = '\0';
			p = e ? e + 1 : buf + len;
			while (n && (line_buf[n - 1] == ' ' ||
				     line_buf[n - 1] == '\t'))
				line_buf[--n] = '\0';
			if (!n || line_buf[n - 1] != ',' || p >= buf + len)
				break;
			{
				/* comments never continue */
				const char *q = line_buf;

				while (*q == ' ' || *q == '\t')
					q++;
				if (*q == '#')
					break;
			}
		}
		if (!line_buf)
			continue;
		c.line = line_buf;
		c.p = line_buf;
		c.loc.file = fname;
		c.loc.line = first;
		c.loc.col = 1;
		skip_ws(&c);
		if (*c.p == '\0' || *c.p == '#')
			continue;
		parse_line(ps, &c);
	}
	ps->depth--;
	free(line_buf);
}

/* ------------------------------------------------------------- resolve */

const char *const script_meter_name[NMETERS] = {
	[METER_TRUST] = "vertrouwen",
	[METER_TENSION] = "spanning",
};

int script_find_var(const struct script *s, const char *name)
{
	for (size_t i = 0; i < s->nvars; i++)
		if (strcmp(s->vars[i].name, name) == 0)
			return (int)i;
	if (strcmp(name, "beurt") == 0)
		return (int)(s->nvars + BUILTIN_BEURT);
	if (strcmp(name, "gemist") == 0)
		return (int)(s->nvars + BUILTIN_GEMIST);
	if (strcmp(name, "eerder") == 0)
		return (int)(s->nvars + BUILTIN_EERDER);
	return -1;
}

int script_find_node(const struct script *s, const char *name)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (strcmp(s->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

int script_find_intent(const struct script *s, const char *name)
{
	for (size_t i = 0; i < s->nintents; i++)
		if (strcmp(s->intents[i].name, name) == 0)
			return (int)i;
	return -1;
}

int script_find_point(const struct script *s, const char *id)
{
	for (size_t i = 0; i < s->npoints; i++)
		if (strcmp(s->points[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int find_concept(const struct script *s, const char *name)
{
	for (size_t i = 0; i < s->nconcepts; i++)
		if (strcmp(s->concepts[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void resolve_seq(struct parser *ps, struct pat_seq *q)
{
	for (size_t i = 0; i < q->n; i++) {
		struct pat *p = &q->el[i];

		if (p->kind == PAT_CONCEPT) {
			int k = find_concept(ps->s, p->text);

			if (k < 0)
				diag_add(ps->d, p->concept < ps->nconcept_locs ?
					 &ps->concept_locs[p->concept] : NULL,
					 "onbekend begrip '~%s'", p->text);
			else
				p->concept = (uint32_t)k;
		}
		for (size_t j = 0; j < p->nsubs; j++)
			resolve_seq(ps, &p->subs[j]);
	}
}

/* Concepts may use concepts, but not themselves (directly or not). */
static int concept_cycle(const struct script *s, const struct pat_seq *q,
			 uint8_t *mark)
{
	for (size_t i = 0; i < q->n; i++) {
		const struct pat *p = &q->el[i];

		if (p->kind == PAT_CONCEPT) {
			const struct concept *k = &s->concepts[p->concept];

			if (mark[p->concept] == 1)
				return 1;
			if (mark[p->concept] == 0) {
				mark[p->concept] = 1;
				for (size_t j = 0; j < k->nalts; j++)
					if (concept_cycle(s, &k->alts[j], mark))
						return 1;
				mark[p->concept] = 2;
			}
		}
		for (size_t j = 0; j < p->nsubs; j++)
			if (concept_cycle(s, &p->subs[j], mark))
				return 1;
	}
	return 0;
}

static void resolve_expr(struct parser *ps, struct expr *e)
{
	int i;

	if (!e)
		return;
	resolve_expr(ps, e->a);
	resolve_expr(ps, e->b);
	if (e->kind == EXPR_INTENT) {
		i = script_find_intent(ps->s, e->name);
		if (i >= 0) {
			e->index = (uint32_t)i;
		} else if (script_find_var(ps->s, e->name) >= 0) {
			diag_add(ps->d, &e->loc, "'%s' is een variabele: "
				 "vergelijk hem, bijvoorbeeld %s >= 1",
				 e->name, e->name);
		} else {
			diag_add(ps->d, &e->loc, "onbekende bedoeling '%s'",
				 e->name);
		}
	} else if (e->kind == EXPR_CMP) {
		i = script_find_var(ps->s, e->name);
		if (i < 0)
			diag_add(ps->d, &e->loc, "onbekende variabele '%s'",
				 e->name);
		else
			e->index = (uint32_t)i;
	}
}

/* The intents of which one must be found for e to hold (struct expr
 * gate), into *v; 1 when e may hold without any. For 'a en b' one side's
 * set is enough (both must hold); 'a of b' needs both sides' sets. */
static int gate_collect(const struct expr *e, uint32_t **v, size_t *n)
{
	size_t mark;

	if (!e)
		return 1;
	switch (e->kind) {
	case EXPR_INTENT:
		*(uint32_t *)vec_push((void **)v, n, sizeof(uint32_t)) =
			e->index;
		return 0;
	case EXPR_AND:
		mark = *n;
		if (!gate_collect(e->a, v, n))
			return 0;
		*n = mark;
		return gate_collect(e->b, v, n);
	case EXPR_OR:
		return gate_collect(e->a, v, n) || gate_collect(e->b, v, n);
	default:
		return 1;
	}
}

/* Resolve a whole condition and give an 'en' or 'of' its gate in
 * s->gates (struct expr). */
static void resolve_cond(struct parser *ps, struct expr *e)
{
	struct script *s = ps->s;
	uint32_t *v = NULL;
	size_t n = 0;

	resolve_expr(ps, e);
	if (!e || (e->kind != EXPR_AND && e->kind != EXPR_OR))
		return;
	if (!gate_collect(e, &v, &n) && n && n <= INT32_MAX &&
	    s->ngates + n <= UINT32_MAX && s->nintents <= UINT16_MAX) {
		e->index = (uint32_t)s->ngates;
		e->value = (int)n;
		for (size_t k = 0; k < n; k++)
			*(uint16_t *)vec_push((void **)&s->gates, &s->ngates,
					      sizeof(uint16_t)) =
				(uint16_t)v[k];
	}
	free(v);
}

size_t script_gate(const struct script *s, const struct expr *e,
		   const uint16_t **gate, uint16_t *one)
{
	if (e->kind == EXPR_INTENT && e->index <= UINT16_MAX) {
		*one = (uint16_t)e->index;
		*gate = one;
		return 1;
	}
	if ((e->kind != EXPR_AND && e->kind != EXPR_OR) || e->value <= 0)
		return 0;
	*gate = s->gates + e->index;
	return (size_t)e->value;
}

/* The index in s->srcs of a's point, side and reason, added when new. */
static uint32_t point_source(struct script *s, const struct action *a)
{
	size_t i;

	for (i = 0; i < s->nsrcs; i++) {
		const struct point_src *p = &s->srcs[i];

		if (p->point == a->index && !p->shown == !a->value &&
		    (p->reason == a->reason ||
		     (p->reason && a->reason && !strcmp(p->reason, a->reason))))
			return (uint32_t)i;
	}
	s->srcs = xrealloc(s->srcs, (i + 1) * sizeof(*s->srcs));
	s->srcs[i].point = a->index;
	s->srcs[i].shown = a->value != 0;
	s->srcs[i].reason = a->reason;
	s->nsrcs = i + 1;
	return (uint32_t)i;
}

static void resolve_actions(struct parser *ps, struct action_list *al)
{
	for (size_t i = 0; i < al->n; i++) {
		struct action *a = &al->v[i];
		int k;

		switch (a->kind) {
		case ACT_ADD:
		case ACT_SET:
			k = script_find_var(ps->s, a->name);
			if (k < 0 || (size_t)k >= ps->s->nvars)
				diag_add(ps->d, &a->loc, k < 0 ?
					 "onbekende variabele '%s'" :
					 "'%s' is ingebouwd en alleen te lezen",
					 a->name);
			else
				a->index = (uint32_t)k;
			break;
		case ACT_GOTO:
			k = script_find_node(ps->s, a->name);
			if (k < 0)
				diag_add(ps->d, &a->loc, "onbekende fase of "
					 "einde '%s'", a->name);
			else
				a->index = (uint32_t)k;
			break;
		case ACT_POINT:
			k = script_find_point(ps->s, a->name);
			if (k < 0)
				diag_add(ps->d, &a->loc, "onbekend rubriekpunt "
					 "'%s' (zie scripts/gedeeld/rubriek.oef)",
					 a->name);
			else {
				a->index = (uint32_t)k;
				a->src = point_source(ps->s, a);
			}
			break;
		case ACT_SAY:
		case ACT_ACK:
		case ACT_REPEAT:
		case ACT_FILLER:
		case ACT_VAGUE:
		case ACT_UNSAID:
			if (a->nvariants == 0)
				diag_add(ps->d, &a->loc, "'%s' zonder zinnen "
					 "eronder (- tekst)", a->kind == ACT_SAY ?
					 "zeg" : a->kind == ACT_ACK ?
					 "erkenning" : a->kind == ACT_REPEAT ?
					 "herhaald" : a->kind == ACT_FILLER ?
					 "uitwijk" : a->kind == ACT_UNSAID ?
					 "niet-gezegd" : "verduidelijk");
			for (size_t j = 0; j < a->nvariants; j++)
				resolve_cond(ps, a->variants[j].cond);
			break;
		case ACT_INTERRUPT:
			break;
		}
	}
}

static void resolve_node(struct parser *ps, struct node *n)
{
	resolve_actions(ps, &n->enter);
	for (size_t i = 0; i < n->ntrans; i++) {
		resolve_cond(ps, n->trans[i].cond);
		resolve_actions(ps, &n->trans[i].acts);
	}
	for (size_t i = 0; i < n->nfallbacks; i++)
		resolve_actions(ps, &n->fallbacks[i].acts);
}

static void stamp(struct pat_seq *q, size_t n, int guard, int acts,
		  int reported_ok, int cond_ok)
{
	for (size_t i = 0; i < n; i++) {
		q[i].guard = (uint8_t)guard;
		if (!q[i].own_acts)
			q[i].acts = (uint8_t)acts;
		q[i].reported_ok = (uint8_t)reported_ok;
		q[i].cond_ok = (uint8_t)cond_ok;
	}
}

#define OR_BASE(sup, base, field) ((sup)->field >= 0 ? (sup)->field : \
				   (base)->field)

/* Give every pattern its block's options, move each aanvulling into its
 * bedoeling, and add the builtin andere-taal. */
static void intents_finish(struct parser *ps)
{
	struct script *s = ps->s;
	struct intent *in;

	for (size_t i = 0; i < s->nintents; i++) {
		in = &s->intents[i];
		stamp(in->pats, in->npats, in->negation_guard, in->acts,
		      in->reported_ok, in->cond_ok);
	}
	for (size_t i = 0; i < ps->nsup; i++) {
		struct intent *sup = &ps->sup[i];
		int k = script_find_intent(s, sup->name);

		if (k < 0) {
			diag_add(ps->d, &sup->loc, "aanvulling op een "
				 "onbekende bedoeling '%s'%s", sup->name,
				 strcmp(sup->name, INTENT_OTHER_LANGUAGE) ? "" :
				 " (andere-taal is ingebouwd en heeft geen "
				 "patronen)");
			continue;
		}
		in = &s->intents[k];
		if (sup->echo_ok >= 0)
			in->echo_ok = sup->echo_ok;
		if (sup->minor >= 0)
			in->minor = sup->minor;
		stamp(sup->pats, sup->npats, OR_BASE(sup, in, negation_guard),
		      OR_BASE(sup, in, acts), OR_BASE(sup, in, reported_ok),
		      OR_BASE(sup, in, cond_ok));
		for (size_t j = 0; j < sup->npats; j++)
			*(struct pat_seq *)vec_push((void **)&in->pats,
						    &in->npats,
						    sizeof(struct pat_seq)) =
				sup->pats[j];
		for (size_t j = 0; j < sup->nexamples; j++)
			*(struct example *)vec_push((void **)&in->examples,
						    &in->nexamples,
						    sizeof(struct example)) =
				sup->examples[j];
		for (size_t j = 0; j < sup->nunless; j++)
			*(struct unless_ref *)vec_push((void **)&in->unless,
						       &in->nunless,
						       sizeof(*in->unless)) =
				sup->unless[j];
		free(sup->pats);
		free(sup->examples);
		free(sup->unless);
		sup->pats = NULL;
		sup->npats = 0;
		sup->examples = NULL;
		sup->nexamples = 0;
		sup->unless = NULL;
		sup->nunless = 0;
	}
	in = vec_push((void **)&s->intents, &s->nintents, sizeof(*in));
	in->name = xstrdup(INTENT_OTHER_LANGUAGE);
	in->builtin = 1;
	in->negation_guard = 1;
	in->cond_ok = 1;
	in->echo_ok = 1;
	in->loc.file = s->nfiles ? s->files[0] : NULL;
	in->loc.line = 1;
	in->loc.col = 1;
	s->other_language = (int)(s->nintents - 1);
	/* tenzij: by name, now that every bedoeling is known */
	for (size_t i = 0; i < s->nintents; i++) {
		in = &s->intents[i];
		for (size_t j = 0; j < in->nunless; j++) {
			struct unless_ref *u = &in->unless[j];
			int k = script_find_intent(s, u->name);

			if (k < 0)
				diag_add(ps->d, &u->loc, "tenzij: onbekende "
					 "bedoeling '%s'", u->name);
			else if ((size_t)k == i)
				diag_add(ps->d, &u->loc, "tenzij: '%s' noemt "
					 "zichzelf", u->name);
			else
				u->intent = (uint32_t)k;
		}
	}
}

static void sups_release(struct parser *ps)
{
	for (size_t i = 0; i < ps->nsup; i++) {
		struct intent *sup = &ps->sup[i];

		free(sup->name);
		for (size_t j = 0; j < sup->nunless; j++)
			free(sup->unless[j].name);
		free(sup->unless);
		for (size_t j = 0; j < sup->npats; j++)
			pat_seq_release(&sup->pats[j], &ps->s->arena);
		free(sup->pats);
		for (size_t j = 0; j < sup->nexamples; j++) {
			free(sup->examples[j].text);
			free(sup->examples[j].expect);
		}
		free(sup->examples);
	}
	free(ps->sup);
	ps->sup = NULL;
	ps->nsup = 0;
}

static void resolve(struct parser *ps)
{
	struct script *s = ps->s;
	uint8_t *mark;

	for (size_t i = 0; i < s->nconcepts; i++)
		for (size_t j = 0; j < s->concepts[i].nalts; j++)
			resolve_seq(ps, &s->concepts[i].alts[j]);
	for (size_t i = 0; i < s->nintents; i++) {
		struct intent *in = &s->intents[i];

		if (in->npats == 0 && !in->builtin)
			diag_add(ps->d, &in->loc, "bedoeling '%s' heeft geen "
				 "patroon", in->name);
		for (size_t j = 0; j < in->npats; j++)
			resolve_seq(ps, &in->pats[j]);
	}
	if (ps->d->n)
		return;
	mark = xcalloc(s->nconcepts + 1, 1);
	for (size_t i = 0; i < s->nconcepts; i++) {
		memset(mark, 0, s->nconcepts);
		mark[i] = 1;
		for (size_t j = 0; j < s->concepts[i].nalts; j++) {
			if (concept_cycle(s, &s->concepts[i].alts[j], mark)) {
				diag_add(ps->d, &s->concepts[i].loc, "begrip "
					 "'%s' gebruikt zichzelf",
					 s->concepts[i].name);
				break;
			}
		}
	}
	free(mark);
	for (size_t i = 0; i < s->nvars; i++)
		resolve_cond(ps, s->vars[i].until);
	for (size_t i = 0; i < s->nrules; i++) {
		if (!s->rules[i].cond)
			diag_add(ps->d, &s->rules[i].loc, "regel '%s' heeft "
				 "geen 'als' of 'zodra'", s->rules[i].name);
		resolve_cond(ps, s->rules[i].cond);
		resolve_actions(ps, &s->rules[i].acts);
	}
	for (size_t i = 0; i < s->nnodes; i++)
		resolve_node(ps, &s->nodes[i]);
	if (s->standaard)
		resolve_node(ps, s->standaard);
	if (!s->id)
		return;
	/* a scenario, not a library file */
	if (!s->title)
		diag_add(ps->d, &s->id_loc, "scenario '%s' heeft geen titel:",
			 s->id);
	if (!s->persona)
		diag_add(ps->d, &s->id_loc, "scenario '%s' heeft geen "
			 "persona:", s->id);
	if (!s->intro)
		diag_add(ps->d, &s->id_loc, "scenario '%s' heeft geen "
			 "inleiding:", s->id);
	for (size_t k = 0; k < NMETERS; k++) {
		const char *need = script_meter_name[k];
		int v = script_find_var(s, need);

		if (v < 0 || (size_t)v >= s->nvars)
			diag_add(ps->d, &s->id_loc, "elk scenario heeft 'var "
				 "%s = … (0..10)'", need);
		else if (s->vars[v].min != 0 || s->vars[v].max != 10)
			diag_add(ps->d, &s->vars[v].loc, "%s loopt van 0 tot "
				 "en met 10", need);
		else
			s->meter[k] = v;
	}
	if (ps->begin_name) {
		int n = script_find_node(s, ps->begin_name);

		if (n < 0 || s->nodes[n].kind != NODE_FASE)
			diag_add(ps->d, &ps->begin_loc, "begin: '%s' is geen "
				 "fase", ps->begin_name);
		else
			s->start = (uint32_t)n;
	} else {
		size_t i;

		for (i = 0; i < s->nnodes; i++)
			if (s->nodes[i].kind == NODE_FASE)
				break;
		if (i == s->nnodes)
			diag_add(ps->d, &s->id_loc, "scenario '%s' heeft geen "
				 "fase", s->id);
		else
			s->start = (uint32_t)i;
	}
}

/* A set of word classes: a byte a class, and the classes added, so
 * that reading and clearing it costs its members, not every class of
 * the lexicon (the build_index loops over all classes took a quarter
 * of a cached load). */
struct wset {
	uint8_t *bm;        /* lex.ncls + 1 bytes, 0 outside the set */
	uint32_t *list;     /* the members, as added */
	size_t n;
};

static void wset_init(struct wset *ws, size_t nw)
{
	ws->bm = xcalloc(nw + 1, 1);
	ws->list = xcalloc(nw + 1, sizeof(uint32_t));
	ws->n = 0;
}

static void wset_release(struct wset *ws)
{
	free(ws->bm);
	free(ws->list);
}

static void wset_add(struct wset *ws, uint32_t w)
{
	if (!ws->bm[w]) {
		ws->bm[w] = 1;
		ws->list[ws->n++] = w;
	}
}

static void wset_clear(struct wset *ws)
{
	for (size_t k = 0; k < ws->n; k++)
		ws->bm[ws->list[k]] = 0;
	ws->n = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The members in ascending order, as a scan of all classes had them
 * (class 0, no word, is never one: the scans began at 1). */
static void wset_sort(struct wset *ws)
{
	size_t k = 0;

	if (ws->n > 1)
		qsort(ws->list, ws->n, sizeof(uint32_t), cmp_u32);
	while (k < ws->n && ws->list[k] == 0)
		k++;
	if (k) {
		memmove(ws->list, ws->list + k, (ws->n - k) * sizeof(uint32_t));
		ws->n -= k;
		ws->bm[0] = 0;
	}
}

/* Add the words q[i..] can start with to bm. Returns 1 if q[i..] can
 * match nothing at all; sets *any when the first word cannot be known.
 * With cm, a concept that open (concept_firsts) does not mark is set in
 * cm instead of being expanded into its words (req's groups). */
static int firsts_in(const struct script *s, const struct pat_seq *q,
		     size_t i, struct wset *bm, int *any, int depth, uint8_t *cm,
		     const uint8_t *open)
{
	if (depth > MAX_PAT_DEPTH) {
		*any = 1;
		return 0;
	}
	for (; i < q->n; i++) {
		const struct pat *p = &q->el[i];
		int empty = 0;

		switch (p->kind) {
		case PAT_WORD:
			wset_add(bm, lexicon_class(&s->lex, p->word));
			return 0;
		case PAT_PREFIX:
			if (!p->word) {    /* too long to be interned */
				*any = 1;
				return 0;
			}
			/* the class of "prefix*" */
			wset_add(bm, lexicon_class(&s->lex, p->word));
			return 0;
		case PAT_ANY:
		case PAT_UNORDERED:
			*any = 1;
			return 0;
		case PAT_START:
		case PAT_END:
			continue;   /* takes no word: the next element's */
		case PAT_OPT:
			firsts_in(s, &p->subs[0], 0, bm, any, depth + 1,
				  cm, open);
			continue;
		case PAT_ALT:
			for (size_t j = 0; j < p->nsubs; j++)
				empty |= firsts_in(s, &p->subs[j], 0, bm,
						   any, depth + 1, cm, open);
			break;
		case PAT_CONCEPT:
			if (cm && !open[p->concept]) {
				cm[p->concept] = 1;
				return 0;
			}
			for (size_t j = 0; j < s->concepts[p->concept].nalts;
			     j++)
				empty |= firsts_in(s, &s->concepts[p->concept]
						   .alts[j], 0, bm, any,
						   depth + 1, cm, open);
			break;
		}
		if (!empty)
			return 0;
	}
	return 1;
}

static int firsts(const struct script *s, const struct pat_seq *q, size_t i,
		  struct wset *bm, int *any, int depth)
{
	return firsts_in(s, q, i, bm, any, depth, NULL, NULL);
}

/* Give every prefix element the word id of "prefix*", so the index can
 * file patterns under it; remember the prefix lengths in use. */
static void intern_prefixes(struct script *s, struct pat_seq *q)
{
	for (size_t i = 0; i < q->n; i++) {
		struct pat *p = &q->el[i];

		if (p->kind == PAT_PREFIX && p->len < 64 && !p->word) {
			char key[72];

			memcpy(key, p->text, p->len);
			key[p->len] = '*';
			p->word = word_intern(s, key, p->len + 1);
			for (uint32_t l = 0, h = SCRIPT_PFX_H0; l < p->len;
			     l++) {
				uint32_t b;

				h = script_pfx_step(h, (unsigned char)key[l]);
				b = h % SCRIPT_PFX_BITS;
				s->pfx_begin[b / 64] |= UINT64_C(1) << (b % 64);
			}
			if (!s->prefix_min || p->len < s->prefix_min)
				s->prefix_min = p->len;
			if (p->len > s->prefix_max)
				s->prefix_max = p->len;
		}
		for (size_t j = 0; j < p->nsubs; j++)
			intern_prefixes(s, &p->subs[j]);
	}
}

/* Does q name a negation word ("niet", "geen"…) anywhere, in its
 * groups and concepts too? */
static int names_negation(const struct script *s, const struct pat_seq *q,
			  int depth)
{
	if (depth > MAX_PAT_DEPTH)
		return 1;   /* as before: a negation inside is the pattern's */
	for (size_t i = 0; i < q->n; i++) {
		const struct pat *p = &q->el[i];

		if (p->kind == PAT_WORD &&
		    norm_is_negation(lexicon_word(&s->lex, p->word)))
			return 1;
		if (p->kind == PAT_PREFIX &&
		    norm_is_negation(p->text))
			return 1;
		for (size_t j = 0; j < p->nsubs; j++)
			if (names_negation(s, &p->subs[j], depth + 1))
				return 1;
		if (p->kind == PAT_CONCEPT) {
			const struct concept *c = &s->concepts[p->concept];

			for (size_t j = 0; j < c->nalts; j++)
				if (names_negation(s, &c->alts[j], depth + 1))
					return 1;
		}
	}
	return 0;
}

/* <…> is checked by pattern_match only, which the index skips: a
 * pattern with one must be tried the slow way. */
static int has_unordered(const struct pat_seq *q)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->el[i].kind == PAT_UNORDERED)
			return 1;
	return 0;
}

/* The plain words outside any group: a match must contain them all
 * (words inside <…> count too, they must appear somewhere). Kept as
 * lexicon classes, which is what a message's words are looked up as. */
static void required_words(const struct script *s, struct pat_seq *q)
{
	size_t cap = 0;

	for (size_t i = 0; i < q->n; i++) {
		const struct pat *p = &q->el[i];
		const struct pat_seq *sub = NULL;

		/* nreq counts in 16 bits; fewer required words only make
		 * the filter let more through */
		if (q->nreq > UINT16_MAX - 1 - (p->nsubs ? p->subs[0].n : 0))
			break;
		if (p->kind == PAT_WORD || (p->kind == PAT_PREFIX && p->word)) {
			XGROW(q->req, cap, q->nreq + 1);
			q->req[q->nreq++] = lexicon_class(&s->lex, p->word);
		} else if (p->kind == PAT_UNORDERED) {
			sub = &p->subs[0];
			for (size_t j = 0; j < sub->n; j++) {
				if (sub->el[j].kind != PAT_WORD &&
				    (sub->el[j].kind != PAT_PREFIX ||
				     !sub->el[j].word))
					continue;
				XGROW(q->req, cap, q->nreq + 1);
				q->req[q->nreq++] = lexicon_class(&s->lex,
								  sub->el[j]
								  .word);
			}
		}
	}
	q->req = shrink(q->req, q->nreq, sizeof(*q->req));
}

struct group {
	uint32_t *v;
	size_t n;
};

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

/* The group of p, an element every match of q holds: a (…|…) or a
 * ~concept (plain words are required_words'): the words (bm) and
 * concepts (cm) one of which starts every match of p, in order; n 0
 * when p can start with anything or match nothing. bm and cm are
 * scratch of nw and nconcepts bytes. */
static struct group element_group(const struct script *s,
				  const struct pat *p, const uint8_t *open,
				  struct wset *bm, uint8_t *cm)
{
	struct pat_seq one = { .el = (struct pat *)p, .n = 1 };
	struct group g = { NULL, 0 };
	size_t nw = s->lex.ncls + 1, cap = 0;
	int any = 0;

	if (p->kind != PAT_ALT && p->kind != PAT_CONCEPT)
		return g;
	wset_clear(bm);
	memset(cm, 0, s->nconcepts + 1);
	if (firsts_in(s, &one, 0, bm, &any, 0, cm, open) || any ||
	    nw >= REQ_CONCEPT)
		return g;
	wset_sort(bm);
	for (size_t k = 0; k < bm->n; k++) {
		XGROW(g.v, cap, g.n + 1);
		g.v[g.n++] = bm->list[k];
	}
	for (size_t c = 0; c < s->nconcepts; c++)
		if (cm[c]) {
			XGROW(g.v, cap, g.n + 1);
			g.v[g.n++] = REQ_CONCEPT | (uint32_t)c;
		}
	return g;
}

/* Adds the groups of q to q->req: its (…|…) and ~concepts, at the top
 * and in <…>. A group of one word is a required word; the others come
 * after the words, the smallest first (the cheapest tests first). bm
 * and cm: element_group's scratch. */
static void required_groups(const struct script *s, struct pat_seq *q,
			    const uint8_t *open, struct wset *bm, uint8_t *cm)
{
	struct group *gs = NULL;
	size_t ng = 0, gcap = 0, rcap = q->nreq, first = 0;

	/* A pattern without <…> is tried from the first-word index, under
	 * the words its first element can start with: that element's
	 * group holds whenever it is tried (build_index; none of it is
	 * stored, 4 bytes an atom). */
	while (first < q->n && (q->el[first].kind == PAT_START ||
				q->el[first].kind == PAT_END))
		first++;
	if (has_unordered(q))
		first = q->n;
	for (size_t i = 0; i < q->n; i++) {
		const struct pat *p = &q->el[i];
		size_t nsub = p->kind == PAT_UNORDERED ? p->subs[0].n : 1;

		if (i == first)
			continue;

		for (size_t j = 0; j < nsub; j++) {
			struct group g = element_group(s, p->kind ==
				PAT_UNORDERED ? &p->subs[0].el[j] : p, open,
				bm, cm);

			if (!g.n)
				continue;
			XGROW(gs, gcap, ng + 1);
			gs[ng++] = g;
		}
	}
	if (ng)
		qsort(gs, ng, sizeof(*gs), cmp_group);
	for (size_t i = 0; i < ng; i++) {
		struct group *g = &gs[i];
		int one = g->n == 1 && !(g->v[0] & REQ_CONCEPT);
		size_t need = one ? 1 : g->n + 1;

		/* nreq counts in 16 bits: a group that does not fit is
		 * left out, which only lets more through */
		if (q->nreq + need >= UINT16_MAX) {
			free(g->v);
			continue;
		}
		XGROW(q->req, rcap, (size_t)q->nreq + need);
		if (!one) {
			q->req[q->nreq++] = REQ_GROUP | (uint32_t)g->n;
		}
		memcpy(q->req + q->nreq, g->v, g->n * sizeof(*g->v));
		q->nreq = (uint16_t)(q->nreq + g->n);
		free(g->v);
	}
	free(gs);
	q->req = shrink(q->req, q->nreq, sizeof(*q->req));
}

/* From count[w] entries per word class w < nw (the first of two
 * passes): the offsets where each class's entries start, nw + 1 of
 * them, and *total; count[w] becomes the next free slot of class w for
 * the second pass to fill. */
static uint32_t *csr_offsets(uint32_t *count, size_t nw, size_t *total)
{
	uint32_t *off = xcalloc(nw + 1, sizeof(uint32_t));

	*total = 0;
	for (size_t w = 0; w < nw; w++) {
		off[w] = (uint32_t)*total;
		*total += count[w];
		count[w] = off[w];
	}
	off[nw] = (uint32_t)*total;
	return off;
}

/* concept_off and concept_of (script.h); returns per concept whether
 * it is open: can start with any word, or match none. */
static uint8_t *concept_firsts(struct script *s)
{
	size_t nw = s->lex.ncls + 1, total = 0;
	uint8_t *open = xcalloc(s->nconcepts + 1, 1);
	struct wset bm;
	uint32_t *count = xcalloc(nw + 1, sizeof(uint32_t));

	wset_init(&bm, nw);

	for (int pass = 0; pass < 2; pass++) {
		for (size_t c = 0; c < s->nconcepts; c++) {
			const struct concept *cp = &s->concepts[c];
			int any = 0, empty = 0;

			if (open[c])
				continue;
			if (c >= UINT16_MAX) {     /* concept_of is 16 bits */
				open[c] = 1;
				continue;
			}
			wset_clear(&bm);
			for (size_t j = 0; j < cp->nalts; j++)
				empty |= firsts(s, &cp->alts[j], 0, &bm, &any,
						0);
			if (any || empty || !cp->nalts) {
				open[c] = 1;
				continue;
			}
			wset_sort(&bm);
			for (size_t k = 0; k < bm.n; k++) {
				uint32_t w = bm.list[k];

				if (pass == 0)
					count[w]++;
				else
					s->concept_of[count[w]++] =
						(uint16_t)c;
			}
		}
		if (pass == 0) {
			s->concept_off = csr_offsets(count, nw, &total);
			s->concept_of = xcalloc(total + 1, sizeof(uint16_t));
		}
	}
	wset_release(&bm);
	free(count);
	return open;
}

/* one_cls (script.h) of alternative a: the class of its one plain
 * word, or 0. */
static uint32_t one_word_class(const struct script *s,
			       const struct pat_seq *a)
{
	if (a->n != 1 || a->el[0].kind != PAT_WORD || a->el[0].exact)
		return 0;
	return lexicon_class(&s->lex, a->el[0].word);
}

/* Sets one_cls on every alternative under q. */
static void one_words(const struct script *s, struct pat_seq *q)
{
	for (size_t i = 0; i < q->n; i++) {
		struct pat *p = &q->el[i];

		for (size_t j = 0; j < p->nsubs; j++) {
			if (p->kind == PAT_ALT)
				p->subs[j].one_cls = one_word_class(s,
								    &p->subs[j]);
			one_words(s, &p->subs[j]);
		}
	}
}

static void concept_one_words(const struct script *s, struct concept *c)
{
	for (size_t j = 0; j < c->nalts; j++) {
		c->alts[j].one_cls = one_word_class(s, &c->alts[j]);
		one_words(s, &c->alts[j]);
	}
}

/* first_req (script.h) of pattern q in the first-word index under
 * class w. */
static uint16_t req_for(const struct pat_seq *q, uint32_t w)
{
	for (size_t i = 0; i < q->nreq; i++) {
		uint32_t e = q->req[i];

		if (e & REQ_GROUP)
			i += e & ~REQ_GROUP;
		else if (e != w && e <= UINT16_MAX)
			return (uint16_t)e;
	}
	return 0;
}

static void build_index(struct script *s)
{
	size_t nw;
	uint8_t *open, *gcm;
	struct wset gbm;


	for (size_t i = 0; i < s->nconcepts; i++)
		for (size_t j = 0; j < s->concepts[i].nalts; j++)
			intern_prefixes(s, &s->concepts[i].alts[j]);
	for (size_t i = 0; i < s->nintents; i++)
		for (size_t j = 0; j < s->intents[i].npats; j++)
			intern_prefixes(s, &s->intents[i].pats[j]);
	lexicon_build(&s->lex, s->words, s->nwords);
	/* one copy of each word's text, the lexicon's; its word table
	 * does what word_hash did */
	for (size_t i = 0; i < s->nwords; i++) {
		free(s->words[i]);
		s->words[i] = (char *)lexicon_word(&s->lex, (uint32_t)i);
	}
	s->words_in_lex = 1;
	/* no more words come: no room for them */
	s->words = shrink(s->words, s->nwords, sizeof(*s->words));
	free(s->word_hash);
	s->word_hash = NULL;
	s->word_hash_cap = 0;
	open = concept_firsts(s);
	wset_init(&gbm, s->lex.ncls + 1);
	gcm = xmalloc(s->nconcepts + 1);
	for (size_t i = 0; i < s->nintents; i++)
		for (size_t j = 0; j < s->intents[i].npats; j++) {
			struct pat_seq *q = &s->intents[i].pats[j];

			required_words(s, q);
			required_groups(s, q, open, &gbm, gcm);
			one_words(s, q);
			q->says_neg = (uint8_t)names_negation(s, q, 0);
		}
	for (size_t i = 0; i < s->nconcepts; i++)
		s->concepts[i].open = open[i];
	free(open);
	wset_release(&gbm);
	free(gcm);
	for (size_t i = 0; i < s->nconcepts; i++)
		concept_one_words(s, &s->concepts[i]);
	nw = s->lex.ncls + 1;
	struct wset bm;
	uint32_t *count = xcalloc(nw + 1, sizeof(uint32_t));
	size_t total = 0, anycap = 0;

	wset_init(&bm, nw);
	/* two passes: count per word, then fill */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->nintents; i++) {
			for (size_t j = 0; j < s->intents[i].npats; j++) {
				struct pat_ref r = { (uint32_t)i, (uint32_t)j };
				int any = 0;

				wset_clear(&bm);
				if (firsts(s, &s->intents[i].pats[j], 0, &bm,
					   &any, 0) ||
				    has_unordered(&s->intents[i].pats[j]))
					any = 1;
				if (any) {
					if (pass == 0) {
						XGROW(s->any_refs, anycap,
						      s->nany + 1);
						s->any_refs[s->nany++] = r;
					}
					continue;
				}
				wset_sort(&bm);
				for (size_t k = 0; k < bm.n; k++) {
					uint32_t w = bm.list[k];

					if (pass == 0)
						count[w]++;
					else {
						s->first_req[count[w]] =
							req_for(&s->intents[i]
								.pats[j],
								w);
						s->first_refs[count[w]++] = r;
					}
				}
			}
		}
		if (pass == 0) {
			s->first_off = csr_offsets(count, nw, &total);
			s->nfirst = total;
			s->first_refs = xcalloc(total + 1, sizeof(struct pat_ref));
			s->first_req = xcalloc(total + 1, sizeof(uint16_t));
		}
	}
	wset_release(&bm);
	free(count);
}

static void index_list(struct script *s, const struct action_list *al)
{
	for (size_t i = 0; i < al->n; i++)
		for (size_t j = 0; j < al->v[i].nvariants; j++) {
			const struct variant *v = &al->v[i].variants[j];

			if (v->index < s->nvariants)
				s->variant_tab[v->index] = v;
		}
}

static void index_node(struct script *s, const struct node *n)
{
	index_list(s, &n->enter);
	for (size_t i = 0; i < n->ntrans; i++)
		index_list(s, &n->trans[i].acts);
	for (size_t i = 0; i < n->nfallbacks; i++)
		index_list(s, &n->fallbacks[i].acts);
}

struct line_slot {
	const char *text;
	uint32_t id;
};

static uint32_t line_id(struct line_slot *tab, size_t cap, const char *text,
			size_t *nlines)
{
	size_t i = (size_t)hash_fnv64(HASH_FNV64_START, text,
				      strlen(text)) & (cap - 1);

	while (tab[i].text) {
		if (strcmp(tab[i].text, text) == 0)
			return tab[i].id;
		i = (i + 1) & (cap - 1);
	}
	tab[i].text = text;
	tab[i].id = (uint32_t)(*nlines)++;
	return tab[i].id;
}

/* Give every line text one id, the same wherever it is written (after
 * variant_tab): the engine never says one id twice in a rehearsal. */
static void number_lines(struct script *s)
{
	size_t cap = 16, nlines = 0;
	struct line_slot *tab;

	while (cap < s->nvariants * (SCRIPT_MAX_MSGS + 1) * 2)
		cap <<= 1;
	tab = xcalloc(cap, sizeof(*tab));
	for (size_t i = 0; i < s->nvariants; i++) {
		struct variant *v = (struct variant *)s->variant_tab[i];

		if (!v)
			continue;
		for (size_t j = 0; j < v->nmsgs; j++)
			v->line[j] = line_id(tab, cap, v->msgs[j], &nlines);
		if (v->elab)
			v->elab_line = line_id(tab, cap, v->elab, &nlines);
	}
	s->nlines = nlines;
	free(tab);
}

/* lw_off, lw_stem, lw_cls (script.h): each line's words normalised once
 * at load, where the engine normalised every line said so far on each
 * message with a jargon word (a tenth of a turn). */
static void line_words(struct script *s)
{
	const char **text;
	struct norm n;
	size_t cap = 0, total = 0;
	int any = 0;

	for (size_t i = 0; i < s->nintents; i++)
		any |= !s->intents[i].echo_ok;
	for (size_t i = 0; s->standaard && i < s->standaard->enter.n; i++)
		any |= s->standaard->enter.v[i].kind == ACT_UNSAID;
	if (!any)
		return;
	text = xcalloc(s->nlines + 3, sizeof(*text));
	for (size_t i = 0; i < s->nvariants; i++) {
		const struct variant *v = s->variant_tab[i];

		if (!v)
			continue;
		for (size_t j = 0; j < v->nmsgs; j++)
			text[v->line[j]] = v->msgs[j];
		if (v->elab)
			text[v->elab_line] = v->elab;
	}
	text[s->nlines] = s->own_words;
	text[s->nlines + 1] = s->intro;
	s->lw_off = xcalloc(s->nlines + 3, sizeof(uint32_t));
	norm_init(&n);
	for (size_t l = 0; l <= s->nlines + 1; l++) {
		s->lw_off[l] = (uint32_t)total;
		if (!text[l])
			continue;
		norm_run(&n, text[l], strlen(text[l]));
		for (size_t q = 0; q < n.ntok; q++) {
			enum lexicon_how how = LEXICON_NONE;
			uint32_t cls = lexicon_find_token(&s->lex, &n.tok[q],
							  &how);

			if (total + 1 > cap) {
				cap = cap ? cap * 2 : 1024;
				s->lw_stem = xrealloc(s->lw_stem,
						      cap * sizeof(uint32_t));
				s->lw_cls = xrealloc(s->lw_cls,
						     cap * sizeof(uint32_t));
			}
			s->lw_stem[total] = hash_fnv32(HASH_FNV32_START,
						       n.tok[q].stem,
						       n.tok[q].stem_len);
			s->lw_cls[total] = how != LEXICON_NONE &&
					   how != LEXICON_COMPOUND ? cls : 0;
			total++;
		}
	}
	s->lw_off[s->nlines + 2] = (uint32_t)total;
	s->lw_stem = shrink(s->lw_stem, total, sizeof(uint32_t));
	s->lw_cls = shrink(s->lw_cls, total, sizeof(uint32_t));
	norm_release(&n);
	free(text);
}

/* variant_tab: every variant by its index (the engine remembers the last
 * line it said by index, for its toelichting). */
static void index_variants(struct script *s)
{
	s->variant_tab = xcalloc(s->nvariants + 1, sizeof(*s->variant_tab));
	for (size_t i = 0; i < s->nrules; i++)
		index_list(s, &s->rules[i].acts);
	for (size_t i = 0; i < s->nnodes; i++)
		index_node(s, &s->nodes[i]);
	if (s->standaard)
		index_node(s, s->standaard);
	number_lines(s);
	line_words(s);
}

/* Train the statistical matcher; a 'leervoorbeelden:' file that cannot
 * be read or names what the script does not have is an error. When keep
 * is not NULL the corpus is handed over to it on success instead of
 * being released (the caller calibrates with it). */
static int learn(struct script *s, const char *cache_dir,
		 struct corpus *keep, struct diag *d)
{
	struct corpus c;
	struct err err;
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (s->train_path) {
		size_t before = d->n;

		if (access(s->train_path, R_OK) != 0) {
			diag_add(d, &s->train_loc, "leervoorbeelden: '%s' is "
				 "niet te lezen", s->train_path);
			goto out;
		}
		if (read_file(s->train_path, CORPUS_MAX_FILE, &text, &len,
			      &err) < 0) {
			diag_add(d, &s->train_loc, "%s", err.msg);
			goto out;
		}
		if (cache_dir &&
		    mcache_key_of(s, text, len, &s->cache_key) == 0) {
			s->keyed = 1;
			if (mcache_load(cache_dir, &s->cache_key, s) == 0) {
				s->cached = 1;
				rc = 0;
				goto out;
			}
		}
		corpus_parse(&c, s->train_path, text, len, d);
		if (d->n == before)
			corpus_resolve(&c, s, d);
		if (d->n != before)
			goto out;
	}
	s->model = model_train(s, s->train_path ? &c : NULL);
	rc = 0;
	if (keep) {
		*keep = c;
		memset(&c, 0, sizeof(c));
	}
out:
	free(text);
	corpus_release(&c);
	return rc;
}

/* --- the finished pattern trees into the pool --- */

static void pool_seq_into(struct pool *pl, struct pat_seq *to,
			  const struct pat_seq *q);

/* Field by field into zeroed copies, so that two equal vectors are
 * equal byte for byte, padding too. Pooled blocks are never written
 * again (the casts drop the const of pool_intern). */
static struct pat *pool_pats(struct pool *pl, const struct pat *el,
			     size_t n)
{
	struct pat *tmp;
	const void *r;

	if (!n)
		return NULL;
	tmp = xcalloc(n, sizeof(*tmp));
	for (size_t i = 0; i < n; i++) {
		const struct pat *p = &el[i];
		struct pat *t = &tmp[i];

		t->text = p->text ? (char *)pool_intern(pl, p->text,
							strlen(p->text) + 1,
							1) : NULL;
		if (p->nsubs) {
			struct pat_seq *subs = xcalloc(p->nsubs,
						       sizeof(*subs));

			for (size_t j = 0; j < p->nsubs; j++)
				pool_seq_into(pl, &subs[j], &p->subs[j]);
			t->subs = (struct pat_seq *)pool_intern(pl, subs,
				p->nsubs * sizeof(*subs),
				_Alignof(struct pat_seq));
			free(subs);
		}
		t->word = p->word;
		t->concept = p->concept;
		t->len = p->len;
		t->nsubs = p->nsubs;
		t->kind = p->kind;
		t->exact = p->exact;
	}
	r = pool_intern(pl, tmp, n * sizeof(*tmp), _Alignof(struct pat));
	free(tmp);
	return (struct pat *)r;
}

static void pool_seq_into(struct pool *pl, struct pat_seq *to,
			  const struct pat_seq *q)
{
	memset(to, 0, sizeof(*to));
	to->el = pool_pats(pl, q->el, q->n);
	to->req = (uint32_t *)pool_intern(pl, q->req,
					  q->nreq * sizeof(*q->req),
					  _Alignof(uint32_t));
	to->n = q->n;
	to->nreq = q->nreq;
	to->one_cls = q->one_cls;
	to->guard = q->guard;
	to->acts = q->acts;
	to->own_acts = q->own_acts;
	to->reported_ok = q->reported_ok;
	to->cond_ok = q->cond_ok;
	to->says_neg = q->says_neg;
}

/* The n top-level sequences at *v into pl, the vector too (a concept's
 * alternatives, an intent's patterns); the parser's copies freed. */
static void pool_top(struct pool *pl, struct pat_seq **v, size_t n,
		     const struct arena *a)
{
	struct pat_seq *tmp;

	if (!n)
		return;
	tmp = xcalloc(n, sizeof(*tmp));
	for (size_t j = 0; j < n; j++) {
		pool_seq_into(pl, &tmp[j], &(*v)[j]);
		pat_seq_release(&(*v)[j], a);
	}
	free(*v);
	*v = (struct pat_seq *)pool_intern(pl, tmp, n * sizeof(*tmp),
					   _Alignof(struct pat_seq));
	free(tmp);
}

/* Once the trees are final (build_index wrote the last of them): the
 * concepts' and intents' patterns into pl, down to their texts; the
 * parser's copies freed. The matcher only reads them from here on. */
static void share_patterns(struct script *s, struct pool *pl)
{
	for (size_t i = 0; i < s->nconcepts; i++)
		pool_top(pl, &s->concepts[i].alts, s->concepts[i].nalts,
			 &s->arena);
	for (size_t i = 0; i < s->nintents; i++)
		pool_top(pl, &s->intents[i].pats, s->intents[i].npats,
			 &s->arena);
	arena_release(&s->arena);
	s->pool = pool_ref(pl);
}

/* Parse into a diag of our own, so that messages already in the caller's
 * list (one diag serves many scripts) or a full list cannot make a
 * broken script look clean; then hand the messages over. */
static int load(const char *path, const char *text, size_t len,
		struct script **out, struct corpus *train, struct pool *pool,
		const char *cache_dir, struct diag *d)
{
	struct parser ps;
	struct diag own;
	int rc = -1;

	memset(&ps, 0, sizeof(ps));
	diag_init(&own);
	ps.s = xcalloc(1, sizeof(*ps.s));
	ps.s->path = xstrdup(path);
	for (size_t k = 0; k < NMETERS; k++)
		ps.s->meter[k] = -1;
	ps.d = &own;
	ps.say = -1;
	ps.part = -1;
	norm_init(&ps.norm);
	*out = NULL;
	if (text) {
		char *copy = xstrndup(text, len);

		parse_buffer(&ps, path, copy, len);
		free(copy);
	} else {
		parse_file(&ps, path, NULL);
	}
	if (!own.n)
		intents_finish(&ps);
	sups_release(&ps);
	if (!own.n)
		resolve(&ps);
	ps.s->nvariants = ps.nvariants;
	norm_release(&ps.norm);
	free(ps.begin_name);
	free(ps.names);
	free(ps.concept_locs);
	if (own.n) {
		script_free(ps.s);
		goto out;
	}
	build_index(ps.s);
	index_variants(ps.s);
	if (pool) {
		/* other scripts may be loading into it (catalog.c) */
		pool_lock(pool);
		share_patterns(ps.s, pool);
		pool_unlock(pool);
	} else {
		struct pool *own_pool = pool_new();

		share_patterns(ps.s, own_pool);
		pool_seal(own_pool);
		pool_unref(own_pool);
	}
	if (learn(ps.s, cache_dir, train, &own) < 0) {
		script_free(ps.s);
		goto out;
	}
	*out = ps.s;
	rc = 0;
out:
	diag_take(d, &own);
	return rc;
}

int script_load(const char *path, struct script **out, struct diag *d)
{
	return load(path, NULL, 0, out, NULL, NULL, NULL, d);
}

int script_load_train(const char *path, struct pool *pool,
		      const char *cache_dir, struct script **out,
		      struct corpus *train, struct diag *d)
{
	memset(train, 0, sizeof(*train));
	return load(path, NULL, 0, out, train, pool, cache_dir, d);
}

int script_load_text(const char *name, const char *text, size_t len,
		     struct script **out, struct diag *d)
{
	return load(name, text, len, out, NULL, NULL, NULL, d);
}

const char *script_ending_kind_name(enum ending_kind k)
{
	switch (k) {
	case END_GOED:
		return "goed";
	case END_BREUK:
		return "breuk";
	case END_NEUTRAAL:
		return "neutraal";
	case END_NONE:
		break;
	}
	return "";
}
