/* test_catalog.c - catalog.h: which files become scenarios, in what
 * order, what a broken or doubled file costs the others, how scenarios
 * are found and their personas named, and where the directories are.
 *
 * Scenarios are written to a fresh directory per test; personas come
 * from the shipped personas/ ($OEF_ROOT). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "match.h"
#include "scenario_small.h"
#include "util.h"

struct fx {
	char dir[64];
	struct sbuf personas;
	struct catalog c;
	struct diag d;
};

static const char *root(void)
{
	const char *r = getenv("OEF_ROOT");

	return r && *r ? r : ".";
}

static void put(struct fx *f, const char *name, const char *text)
{
	struct sbuf p;
	FILE *fp;

	sbuf_init(&p);
	sbuf_addf(&p, "%s/%s", f->dir, name);
	fp = fopen(sbuf_str(&p), "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	sbuf_release(&p);
}

static void put_scenario(struct fx *f, const char *name, const char *id,
			 int difficulty, const char *persona)
{
	struct sbuf sb;

	sbuf_init(&sb);
	scenario_small(&sb, id, difficulty, persona);
	put(f, name, sbuf_str(&sb));
	sbuf_release(&sb);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	xsnprintf(f->dir, sizeof(f->dir), "/tmp/oef-test-catalog-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	sbuf_init(&f->personas);
	sbuf_addf(&f->personas, "%s/personas", root());
	diag_init(&f->d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct sbuf cmd;

	catalog_release(&f->c);
	diag_release(&f->d);
	sbuf_release(&f->personas);
	sbuf_init(&cmd);
	sbuf_addf(&cmd, "rm -rf '%s'", f->dir);
	if (system(sbuf_str(&cmd)) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	sbuf_release(&cmd);
	free(f);
	return 0;
}

static size_t load(struct fx *f)
{
	return catalog_load(&f->c, f->dir, sbuf_str(&f->personas), &f->d);
}

/* 1 if some diagnostic holds needle. */
static int said(const struct fx *f, const char *needle)
{
	for (size_t i = 0; i < f->d.n; i++)
		if (strstr(f->d.msgs[i], needle))
			return 1;
	return 0;
}

static void print_diags(const struct fx *f)
{
	for (size_t i = 0; i < f->d.n; i++)
		print_message("%s\n", f->d.msgs[i]);
}

/* Sorted by difficulty, then id; found by id and by number. */
static void test_order_and_find(void **state)
{
	struct fx *f = *state;

	put_scenario(f, "a.oef", "zeta", 1, "linda");
	put_scenario(f, "b.oef", "alfa", 3, "linda");
	put_scenario(f, "c.oef", "beta", 1, "sandra");
	put_scenario(f, "d.oef", "gamma", 2, "marco");
	if (load(f) != 0)
		print_diags(f);
	assert_int_equal(f->d.n, 0);
	assert_int_equal(f->c.nscripts, 4);
	assert_string_equal(f->c.scripts[0]->id, "beta");
	assert_string_equal(f->c.scripts[1]->id, "zeta");
	assert_string_equal(f->c.scripts[2]->id, "gamma");
	assert_string_equal(f->c.scripts[3]->id, "alfa");
	assert_ptr_equal(catalog_find(&f->c, "gamma"), f->c.scripts[2]);
	assert_ptr_equal(catalog_find(&f->c, "1"), f->c.scripts[0]);
	assert_ptr_equal(catalog_find(&f->c, "4"), f->c.scripts[3]);
	assert_null(catalog_find(&f->c, "0"));
	assert_null(catalog_find(&f->c, "5"));
	assert_null(catalog_find(&f->c, "-1"));
	assert_null(catalog_find(&f->c, "2x"));
	assert_null(catalog_find(&f->c, "delta"));
	assert_null(catalog_find(&f->c, ""));
	assert_true(f->c.npersonas >= 3);
}

/* Only *.oef files directly in the directory are scenarios: not other
 * files, not directories named *.oef, not the library in a subdirectory
 * (which scenarios can still include). */
static void test_which_files(void **state)
{
	struct fx *f = *state;
	struct sbuf p, sb;

	sbuf_init(&p);
	sbuf_addf(&p, "%s/gedeeld", f->dir);
	assert_int_equal(mkdir(sbuf_str(&p), 0700), 0);
	sbuf_reset(&p);
	sbuf_addf(&p, "%s/map.oef", f->dir);
	assert_int_equal(mkdir(sbuf_str(&p), 0700), 0);
	sbuf_release(&p);
	put(f, "gedeeld/lib.oef", "begrip groet = hallo, hoi\n");
	sbuf_init(&sb);
	sbuf_adds(&sb, "gebruik \"gedeeld/lib.oef\"\n");
	scenario_small(&sb, "een", 1, "linda");
	put(f, "een.oef", sbuf_str(&sb));
	sbuf_release(&sb);
	put_scenario(f, "twee.oef.bak", "twee", 1, "linda");
	put_scenario(f, ".verborgen.oef", "verborgen", 1, "linda");
	put(f, "LEESMIJ.txt", "geen scenario\n");
	if (load(f) != 0)
		print_diags(f);
	assert_int_equal(f->d.n, 0);
	assert_int_equal(f->c.nscripts, 1);
	assert_string_equal(f->c.scripts[0]->id, "een");
}

/* The pattern trees go into one pool for the whole catalog: a library
 * included first by two scenarios parses to the same tree in both, and
 * they hold it once; each script keeps a reference, so the other's
 * trees outlive a script freed first (valgrind and asan see a use
 * after free), and they still match. */
static void test_shared_patterns(void **state)
{
	struct fx *f = *state;
	struct sbuf p, sb;
	const struct script *a, *b;
	struct script *gone;
	struct match m;
	int in;

	sbuf_init(&p);
	sbuf_addf(&p, "%s/gedeeld", f->dir);
	assert_int_equal(mkdir(sbuf_str(&p), 0700), 0);
	sbuf_release(&p);
	put(f, "gedeeld/lib.oef", "begrip groet = hallo (daar | hier), hoi, "
	    "goedemorgen\nbedoeling groet\n  patroon: ~groet *\n");
	sbuf_init(&sb);
	sbuf_adds(&sb, "gebruik \"gedeeld/lib.oef\"\n");
	scenario_small(&sb, "een", 1, "linda");
	put(f, "een.oef", sbuf_str(&sb));
	sbuf_reset(&sb);
	sbuf_adds(&sb, "gebruik \"gedeeld/lib.oef\"\n");
	scenario_small(&sb, "twee", 2, "sandra");
	sbuf_adds(&sb, "bedoeling eigen\n  patroon: alleen hier\n");
	put(f, "twee.oef", sbuf_str(&sb));
	sbuf_release(&sb);
	if (load(f) != 0)
		print_diags(f);
	assert_int_equal(f->d.n, 0);
	assert_int_equal(f->c.nscripts, 2);
	a = f->c.scripts[0];
	b = f->c.scripts[1];
	assert_non_null(a->pool);
	assert_ptr_equal(a->pool, b->pool);
	assert_int_equal(a->nconcepts, 1);
	assert_int_equal(b->nconcepts, 1);
	/* the same tree, not two equal ones */
	assert_int_equal(a->concepts[0].nalts, 3);
	assert_ptr_equal(a->concepts[0].alts, b->concepts[0].alts);
	for (size_t j = 0; j < 3; j++)
		assert_ptr_equal(a->concepts[0].alts[j].el,
				 b->concepts[0].alts[j].el);
	assert_ptr_equal(a->concepts[0].alts[0].el[1].subs,
			 b->concepts[0].alts[0].el[1].subs);
	in = script_find_intent(b, "groet");
	assert_true(in >= 0);
	assert_ptr_equal(a->intents[script_find_intent(a, "groet")].pats,
			 b->intents[in].pats);
	/* but not what differs: the second's own intent */
	assert_true(script_find_intent(a, "eigen") < 0);
	/* the first goes, the second still reads and matches its trees */
	gone = f->c.scripts[0];
	f->c.scripts[0] = f->c.scripts[1];
	f->c.nscripts = 1;
	script_free(gone);
	assert_string_equal(b->words[b->concepts[0].alts[0].el[0].word],
			    "hallo");
	match_init(&m);
	match_run(&m, b, "hallo hier, hoe gaat het", 24);
	assert_true(m.hit[in]);
	assert_true(m.hit[script_find_intent(b, "vraagt")]);
	match_run(&m, b, "alleen hier", 11);
	assert_false(m.hit[in]);
	assert_true(m.hit[script_find_intent(b, "eigen")]);
	match_release(&m);
}

/* The bot drops the example sentences once the catalog is trained:
 * none is left and the scripts still match (valgrind and ASan see that
 * the memory is freed, not leaked). */
static void test_drop_examples(void **state)
{
	struct fx *f = *state;
	struct sbuf sb;
	struct match m;
	size_t n = 0;
	const struct script *s;

	sbuf_init(&sb);
	scenario_small(&sb, "een", 1, "linda");
	sbuf_adds(&sb, "bedoeling eigen\n  patroon: alleen hier\n"
		  "  ja: Alleen hier, graag.\n  nee: Ergens anders.\n");
	put(f, "een.oef", sbuf_str(&sb));
	sbuf_release(&sb);
	if (load(f) != 0)
		print_diags(f);
	assert_int_equal(f->c.nscripts, 1);
	s = f->c.scripts[0];
	for (size_t i = 0; i < s->nintents; i++)
		n += s->intents[i].nexamples;
	assert_true(n >= 2);
	catalog_drop_examples(&f->c);
	for (size_t i = 0; i < s->nintents; i++) {
		assert_int_equal(s->intents[i].nexamples, 0);
		assert_null(s->intents[i].examples);
	}
	match_init(&m);
	match_run(&m, s, "alleen hier", 11);
	assert_true(m.hit[script_find_intent(s, "eigen")]);
	match_release(&m);
}

/* Files a-f: two good scenarios, a broken one, one without an id and
 * an id twice (d first). */
static void put_mixed(struct fx *f)
{
	put_scenario(f, "a.oef", "goed", 1, "linda");
	put(f, "b.oef", "scenario kapot\ntitel: Kapot\nonzin hier\n");
	put(f, "c.oef", "begrip groet = hallo\n");
	put_scenario(f, "d.oef", "dubbel", 2, "linda");
	put_scenario(f, "e.oef", "dubbel", 1, "sandra");
	put_scenario(f, "f.oef", "ook-goed", 3, "sandra");
}

/* A broken file, a library file at the top and a doubled id are each a
 * problem with its file named; every sound scenario is still offered,
 * and of a doubled id the first file (in name order) wins. */
static void test_problems_keep_the_rest(void **state)
{
	struct fx *f = *state;

	put_mixed(f);
	assert_true(load(f) >= 3);
	assert_int_equal(f->c.nscripts, 3);
	assert_string_equal(f->c.scripts[0]->id, "goed");
	assert_string_equal(f->c.scripts[1]->id, "dubbel");
	assert_string_equal(f->c.scripts[2]->id, "ook-goed");
	/* the first file of the doubled id */
	assert_string_equal(f->c.scripts[1]->persona, "linda");
	assert_true(said(f, "b.oef:"));
	assert_true(said(f, "c.oef:1:1: geen 'scenario <id>'"));
	assert_true(said(f, "scenario 'dubbel' bestaat al in"));
	assert_true(said(f, "e.oef:"));
}

/* Scripts load side by side (catalog.h): on four threads the catalog
 * and its messages are what one thread gives, in the same order, the
 * doubled id still kept from the first file. */
static void test_threads_same_as_one(void **state)
{
	struct fx *f = *state;
	const char *was = getenv("OEFENKAMER_THREADS");
	char *keep = was ? xstrdup(was) : NULL;
	struct diag one;
	char *ids[8];
	size_t n;

	put_mixed(f);
	put_scenario(f, "g.oef", "nog-een", 2, "marco");
	put(f, "h.oef", "scenario ook-kapot\ntitel: Ook kapot\nvar x\n");
	assert_int_equal(setenv("OEFENKAMER_THREADS", "1", 1), 0);
	assert_true(load(f) >= 4);
	n = f->c.nscripts;
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		ids[i] = xstrdup(f->c.scripts[i]->id);
	one = f->d;
	diag_init(&f->d);
	catalog_release(&f->c);
	assert_int_equal(setenv("OEFENKAMER_THREADS", "4", 1), 0);
	assert_true(load(f) >= 4);
	assert_int_equal(f->c.nscripts, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(f->c.scripts[i]->id, ids[i]);
		free(ids[i]);
	}
	assert_string_equal(catalog_find(&f->c, "dubbel")->persona, "linda");
	assert_int_equal(f->d.n, one.n);
	for (size_t i = 0; i < one.n; i++)
		assert_string_equal(f->d.msgs[i], one.msgs[i]);
	diag_release(&one);
	if (keep)
		setenv("OEFENKAMER_THREADS", keep, 1);
	else
		unsetenv("OEFENKAMER_THREADS");
	free(keep);
}

/* A scenario whose persona has no file is a problem, still offered, and
 * named by its persona id. */
static void test_persona(void **state)
{
	struct fx *f = *state;
	const struct script *s;

	put_scenario(f, "a.oef", "met", 1, "linda");
	put_scenario(f, "b.oef", "zonder", 1, "niemand");
	assert_int_equal(load(f), 1);
	assert_true(said(f, "persona 'niemand' bestaat niet"));
	s = catalog_find(&f->c, "met");
	assert_non_null(s);
	assert_non_null(catalog_persona(&f->c, s));
	assert_string_equal(catalog_persona_name(&f->c, s), "Linda");
	s = catalog_find(&f->c, "zonder");
	assert_non_null(s);
	assert_null(catalog_persona(&f->c, s));
	assert_string_equal(catalog_persona_name(&f->c, s), "niemand");
}

/* A missing scripts directory is one problem, not a crash. */
static void test_missing_dir(void **state)
{
	struct fx *f = *state;
	struct sbuf p;

	sbuf_init(&p);
	sbuf_addf(&p, "%s/bestaat-niet", f->dir);
	assert_int_equal(catalog_load(&f->c, sbuf_str(&p),
				      sbuf_str(&f->personas), &f->d), 1);
	assert_int_equal(f->c.nscripts, 0);
	assert_true(said(f, "map met scenario's niet te openen"));
	sbuf_release(&p);
}

/* The environment first, then ./name, then beside the program. */
static void test_default_dir(void **state)
{
	struct fx *f = *state;
	char cwd[4096];
	char *d;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	setenv("OEF_TEST_CATALOG_DIR", "/ergens/anders", 1);
	d = catalog_default_dir("scripts", "OEF_TEST_CATALOG_DIR");
	assert_string_equal(d, "/ergens/anders");
	free(d);
	setenv("OEF_TEST_CATALOG_DIR", "", 1);
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(mkdir("hier", 0700), 0);
	d = catalog_default_dir("hier", "OEF_TEST_CATALOG_DIR");
	assert_string_equal(d, "hier");
	free(d);
	unsetenv("OEF_TEST_CATALOG_DIR");
	d = catalog_default_dir("nergens", "OEF_TEST_CATALOG_DIR");
	/* <dir of this test program>/../nergens */
	assert_non_null(strstr(d, "/../nergens"));
	assert_int_equal(d[0], '/');
	free(d);
	assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_order_and_find),
		T(test_which_files),
		T(test_shared_patterns),
		T(test_drop_examples),
		T(test_problems_keep_the_rest),
		T(test_threads_same_as_one),
		T(test_persona),
		T(test_missing_dir),
		T(test_default_dir),
	};
#undef T

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
