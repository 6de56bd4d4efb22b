/* test_walk.c - property: a persona never says the same line twice in
 * one rehearsal (issue 12, item 4). For every shipped scenario, WALKS
 * random walks of up to WALK_TURNS trainee messages, each drawn from the
 * scenario's own intent examples and its training corpus
 * (tests/corpus/train/<id>.txt); every persona message of a walk must
 * differ from every earlier one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corpus.h"
#include "engine.h"
#include "util.h"

#define WALKS 1000
#define WALK_TURNS 40
#define SEEN_CAP 512     /* power of two, > persona messages per walk */

static const char *root(void)
{
	const char *r = getenv("OEF_ROOT");

	return r ? r : ".";
}

static uint64_t rng_next(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 2685821657736338717ull;
}

static uint64_t hash(const char *s, size_t n)
{
	return hash_fnv64(HASH_FNV64_START, s, n);
}

/* The messages of one walk so far. */
struct seen {
	uint64_t h[SEEN_CAP];
	char *text[SEEN_CAP];
	size_t n;
};

static void seen_reset(struct seen *sn)
{
	for (size_t i = 0; i < SEEN_CAP; i++) {
		free(sn->text[i]);
		sn->text[i] = NULL;
	}
	sn->n = 0;
}

/* 1 if text was said before in this walk; else remembers it. */
static int seen_add(struct seen *sn, const char *text, size_t len)
{
	uint64_t h = hash(text, len);
	size_t i = (size_t)h & (SEEN_CAP - 1);

	while (sn->text[i]) {
		if (sn->h[i] == h && strcmp(sn->text[i], text) == 0)
			return 1;
		i = (i + 1) & (SEEN_CAP - 1);
	}
	assert_true(sn->n + 1 < SEEN_CAP);
	sn->h[i] = h;
	sn->text[i] = strdup(text);
	sn->n++;
	return 0;
}

struct pool {
	const char **msg;
	size_t n, cap;
};

static void pool_add(struct pool *p, const char *m)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		p->msg = realloc(p->msg, p->cap * sizeof(*p->msg));
		assert_non_null(p->msg);
	}
	p->msg[p->n++] = m;
}

struct walk_stats {
	size_t turns, lines, silent, repeats;
};

/* One scenario: returns the number of walks with a repeated line. */
static size_t walk_scenario(const char *path, struct walk_stats *st)
{
	struct script *s = NULL;
	struct diag d;
	struct corpus c;
	struct pool p = { 0 };
	struct engine_out o;
	struct match m;
	struct seen *sn = calloc(1, sizeof(*sn));
	char cpath[1024];
	size_t bad = 0;
	int w;

	assert_non_null(sn);
	diag_init(&d);
	if (script_load(path, &s, &d) < 0)
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
	diag_release(&d);
	assert_non_null(s);
	for (size_t i = 0; i < s->nintents; i++)
		for (size_t k = 0; k < s->intents[i].nexamples; k++)
			pool_add(&p, s->intents[i].examples[k].text);
	memset(&c, 0, sizeof(c));
	w = snprintf(cpath, sizeof(cpath), "%s/tests/corpus/train/%s.txt",
		     root(), s->id);
	assert_true(w > 0 && (size_t)w < sizeof(cpath));
	diag_init(&d);
	assert_int_equal(corpus_load(&c, cpath, &d), 0);
	diag_release(&d);
	for (size_t i = 0; i < c.nturns; i++)
		pool_add(&p, c.turns[i].text);
	assert_true(p.n > 50);
	engine_out_init(&o);
	match_init(&m);
	for (uint64_t k = 0; k < WALKS; k++) {
		struct engine *e = engine_new(s, k + 1);
		uint64_t r = (k + 1) * 0x9e3779b97f4a7c15ull;
		int repeated = 0;

		seen_reset(sn);
		engine_start(e, &o);
		for (size_t t = 0; t <= WALK_TURNS; t++) {
			const char *msg;

			if (t) {
				msg = p.msg[rng_next(&r) % p.n];
				if (engine_turn(e, &m, msg, strlen(msg),
						&o) < 0)
					break;
				st->turns++;
				if (!o.nmsgs)
					st->silent++;
			}
			for (size_t j = 0; j < o.nmsgs; j++) {
				st->lines++;
				if (!seen_add(sn, o.msgs[j].buf,
					      o.msgs[j].len))
					continue;
				st->repeats++;
				if (!repeated && bad < 3)
					fprintf(stderr, "%s walk %llu turn "
						"%zu: said again: %s\n",
						s->id, (unsigned long long)k,
						t, o.msgs[j].buf);
				repeated = 1;
			}
			if (engine_ended(e))
				break;
		}
		bad += (size_t)repeated;
		engine_free(e);
	}
	seen_reset(sn);
	free(sn);
	match_release(&m);
	engine_out_release(&o);
	corpus_release(&c);
	free(p.msg);
	script_free(s);
	return bad;
}

static void test_no_line_twice(void **state)
{
	char pat[1024];
	glob_t g;
	size_t bad = 0;
	int w;

	(void)state;
	w = snprintf(pat, sizeof(pat), "%s/scripts/*.oef", root());
	assert_true(w > 0 && (size_t)w < sizeof(pat));
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 8);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct walk_stats st = { 0 };
		clock_t t0 = clock();
		size_t b = walk_scenario(g.gl_pathv[i], &st);

		printf("walk %s: %d walks, %zu turns, %zu lines, %zu silent "
		       "turns, %zu repeated lines in %zu walks (%.2f s)\n",
		       strrchr(g.gl_pathv[i], '/') + 1, WALKS, st.turns,
		       st.lines, st.silent, st.repeats, b,
		       (double)(clock() - t0) / CLOCKS_PER_SEC);
		bad += b;
	}
	globfree(&g);
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_line_twice),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
