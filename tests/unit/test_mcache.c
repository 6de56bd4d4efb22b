/* test_mcache.c - mcache.h: a trained model kept between runs. Read
 * back only when the sources, the training split and the program are
 * the same; a damaged file is never used; one file a scenario.
 *
 * The fixture is the model tests' (tests/data/model/: a scenario with a
 * training split), copied per test into a fresh folder as
 * <dir>/scripts/gevoel.oef and <dir>/corpus/gevoel.txt, with the cache
 * in <dir>/cache; personas come from the shipped personas/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calib.h"
#include "catalog.h"
#include "corpus.h"
#include "mcache.h"
#include "model.h"
#include "script.h"
#include "util.h"

struct fx {
	char dir[64];
	struct sbuf scripts, script, corpus, cache, personas;
};

static const char *root(void)
{
	const char *r = getenv("OEF_ROOT");

	return r && *r ? r : ".";
}

static void copy_file(const char *from, const char *to)
{
	struct err err;
	char *buf;
	size_t len;
	FILE *f;

	assert_int_equal(read_file(from, 1u << 20, &buf, &len, &err), 0);
	f = fopen(to, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(buf);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct sbuf p;

	xsnprintf(f->dir, sizeof(f->dir), "/tmp/oef-test-mcache-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	sbuf_init(&f->scripts);
	sbuf_init(&f->script);
	sbuf_init(&f->corpus);
	sbuf_init(&f->cache);
	sbuf_init(&f->personas);
	sbuf_addf(&f->scripts, "%s/scripts", f->dir);
	sbuf_addf(&f->script, "%s/scripts/gevoel.oef", f->dir);
	sbuf_addf(&f->corpus, "%s/corpus/gevoel.txt", f->dir);
	/* two levels the cache makes itself */
	sbuf_addf(&f->cache, "%s/cache/oefenkamer", f->dir);
	sbuf_addf(&f->personas, "%s/personas", root());
	mkdir(f->scripts.buf, 0700);
	sbuf_init(&p);
	sbuf_addf(&p, "%s/corpus", f->dir);
	mkdir(p.buf, 0700);
	sbuf_reset(&p);
	sbuf_addf(&p, "%s/tests/data/model/scripts/gevoel.oef", root());
	copy_file(p.buf, f->script.buf);
	sbuf_reset(&p);
	sbuf_addf(&p, "%s/tests/data/model/corpus/gevoel.txt", root());
	copy_file(p.buf, f->corpus.buf);
	sbuf_release(&p);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct sbuf cmd;

	sbuf_init(&cmd);
	sbuf_addf(&cmd, "rm -rf '%s'", f->dir);
	if (system(cmd.buf) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	sbuf_release(&cmd);
	sbuf_release(&f->scripts);
	sbuf_release(&f->script);
	sbuf_release(&f->corpus);
	sbuf_release(&f->cache);
	sbuf_release(&f->personas);
	free(f);
	return 0;
}

/* Load the fixture with the cache; *ntrain gets the conversations it
 * handed over for calibration (none when the model came from the
 * cache). */
static struct script *load(struct fx *f, size_t *ntrain)
{
	struct script *s = NULL;
	struct corpus train;
	struct diag d;

	diag_init(&d);
	if (script_load_train(f->script.buf, NULL, f->cache.buf, &s, &train,
			      &d) < 0)
		for (size_t i = 0; i < d.n; i++)
			print_message("%s\n", d.msgs[i]);
	assert_non_null(s);
	assert_int_equal(d.n, 0);
	*ntrain = train.nconvs;
	if (!s->cached)
		calib_points(s, &train);
	corpus_release(&train);
	diag_release(&d);
	return s;
}

/* The model as bytes: two models with the same bytes score the same
 * (test_model.c, test_write_read). */
static void model_bytes(const struct script *s, struct sbuf *sb)
{
	assert_non_null(s->model);
	model_write(s->model, sb);
}

static void assert_same_training(const struct script *a,
				 const struct script *b)
{
	size_t nk = CALIB_KEYS(a);
	struct sbuf x, y;

	sbuf_init(&x);
	sbuf_init(&y);
	model_bytes(a, &x);
	model_bytes(b, &y);
	assert_int_equal(x.len, y.len);
	assert_memory_equal(x.buf, y.buf, x.len);
	assert_non_null(a->quiet);
	assert_non_null(b->quiet);
	assert_memory_equal(a->quiet, b->quiet, nk);
	assert_memory_equal(a->quiet_seen, b->quiet_seen, nk * 4);
	assert_memory_equal(a->quiet_right, b->quiet_right, nk * 4);
	sbuf_release(&x);
	sbuf_release(&y);
}

/* The cache's files, by name, into names (room for max); their count. */
static size_t cache_files(const struct fx *f, char names[][128], size_t max)
{
	DIR *dp = opendir(f->cache.buf);
	struct dirent *de;
	size_t n = 0;

	if (!dp)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n < max)
			xsnprintf(names[n], sizeof(names[n]), "%s",
				  de->d_name);
		n++;
	}
	closedir(dp);
	return n;
}

static void cache_path(const struct fx *f, const char *name,
		       struct sbuf *sb)
{
	sbuf_reset(sb);
	sbuf_addf(sb, "%s/%s", f->cache.buf, name);
}

/* The fixture's folder as a catalog with the cache in dir: one
 * scenario, trained or read, no problems; how many came from the
 * cache. */
static size_t catalog_cached(const struct fx *f, const char *dir)
{
	struct catalog c;
	struct diag d;
	size_t n;

	diag_init(&d);
	catalog_load_cached(&c, f->scripts.buf, f->personas.buf, dir, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(c.nscripts, 1);
	assert_non_null(c.scripts[0]->model);
	assert_non_null(c.scripts[0]->quiet);
	n = c.ncached;
	catalog_release(&c);
	diag_release(&d);
	return n;
}

static void test_default_dir(void **state)
{
	const char *home = getenv("HOME");
	char *was_home = home ? xstrdup(home) : NULL;
	char *d;

	(void)state;
	setenv("OEFENKAMER_CACHE", "/srv/oefenkamer/cache", 1);
	d = mcache_default_dir();
	assert_string_equal(d, "/srv/oefenkamer/cache");
	free(d);
	setenv("OEFENKAMER_CACHE", "uit", 1);
	assert_null(mcache_default_dir());
	setenv("OEFENKAMER_CACHE", "", 1);
	assert_null(mcache_default_dir());
	unsetenv("OEFENKAMER_CACHE");
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	d = mcache_default_dir();
	assert_string_equal(d, "/x/cache/oefenkamer");
	free(d);
	/* a relative XDG_CACHE_HOME is ignored, as the spec says */
	setenv("XDG_CACHE_HOME", "cache", 1);
	setenv("HOME", "/home/trainer", 1);
	d = mcache_default_dir();
	assert_string_equal(d, "/home/trainer/.cache/oefenkamer");
	free(d);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_null(mcache_default_dir());
	if (was_home)
		setenv("HOME", was_home, 1);
	free(was_home);
}

/* Trained once, saved, then read back: the same model and quiet table,
 * with no corpus to calibrate on. Folder 0700, file 0600. */
static void test_save_and_read(void **state)
{
	struct fx *f = *state;
	struct script *a, *b;
	char names[4][128];
	struct sbuf p;
	struct stat st;
	size_t ntrain;

	a = load(f, &ntrain);
	assert_true(a->keyed);
	assert_false(a->cached);
	assert_true(ntrain > 0);
	assert_int_equal(cache_files(f, names, 4), 0);
	assert_int_equal(mcache_save(f->cache.buf, &a->cache_key, a), 0);
	assert_int_equal(cache_files(f, names, 4), 1);
	assert_int_equal(strncmp(names[0], "gevoel-", 7), 0);
	assert_int_equal(stat(f->cache.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	sbuf_init(&p);
	cache_path(f, names[0], &p);
	assert_int_equal(stat(p.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	b = load(f, &ntrain);
	assert_true(b->cached);
	assert_int_equal(ntrain, 0);
	assert_memory_equal(&a->cache_key, &b->cache_key,
			    sizeof(a->cache_key));
	assert_same_training(a, b);
	script_free(b);
	/* a file others may write is not trusted */
	assert_int_equal(chmod(p.buf, 0622), 0);
	b = load(f, &ntrain);
	assert_false(b->cached);
	assert_same_training(a, b);
	sbuf_release(&p);
	script_free(a);
	script_free(b);
}

/* A damaged file, wherever the damage is, is not used: the load trains
 * and comes to the same model. */
static void test_damaged_file(void **state)
{
	struct fx *f = *state;
	struct script *a = NULL, *b;
	char names[4][128];
	struct sbuf p;
	struct err err;
	char *good;
	size_t len, ntrain;
	size_t at[] = { 0, 9, 20, 40, 60, 0, 0 };

	a = load(f, &ntrain);
	assert_int_equal(mcache_save(f->cache.buf, &a->cache_key, a), 0);
	assert_int_equal(cache_files(f, names, 4), 1);
	sbuf_init(&p);
	cache_path(f, names[0], &p);
	assert_int_equal(read_file(p.buf, 1u << 24, &good, &len, &err), 0);
	at[5] = len / 2;
	at[6] = len - 1;
	for (size_t k = 0; k <= ARRAY_LEN(at); k++) {
		FILE *fp = fopen(p.buf, "w");

		assert_non_null(fp);
		if (k < ARRAY_LEN(at)) {
			good[at[k]] ^= 0x10;
			assert_int_equal(fwrite(good, 1, len, fp), len);
			good[at[k]] ^= 0x10;
		} else {
			/* cut short */
			assert_int_equal(fwrite(good, 1, len - 3, fp),
					 len - 3);
		}
		assert_int_equal(fclose(fp), 0);
		b = load(f, &ntrain);
		assert_false(b->cached);
		assert_true(ntrain > 0);
		assert_same_training(a, b);
		script_free(b);
	}
	/* and whole again: read */
	{
		FILE *fp = fopen(p.buf, "w");

		assert_non_null(fp);
		assert_int_equal(fwrite(good, 1, len, fp), len);
		assert_int_equal(fclose(fp), 0);
	}
	b = load(f, &ntrain);
	assert_true(b->cached);
	script_free(b);
	free(good);
	sbuf_release(&p);
	script_free(a);
}

/* The catalog: the first load trains and saves, the second reads. A
 * changed training split is a new key: trained again, and its file
 * comes beside the old one; so does a changed script. Of one
 * scenario's files the MCACHE_KEEP last used stay. */
static void test_catalog_keys(void **state)
{
	struct fx *f = *state;
	struct catalog c;
	struct diag d;
	char names[4][128], first[128];
	FILE *fp;

	for (int round = 0; round < 4; round++) {
		/* rounds 0 and 2 train (new), 1 and 3 read */
		assert_int_equal(catalog_cached(f, f->cache.buf), round % 2);
		assert_int_equal(cache_files(f, names, 4), round < 2 ? 1 : 2);
		if (round == 0)
			memcpy(first, names[0], sizeof(first));
		if (round == 1) {
			fp = fopen(f->corpus.buf, "a");
			assert_non_null(fp);
			fputs("\ngesprek extra gewoon\n> Hoe voelt u zich?\n"
			      "  bedoelingen: vraagt-gevoel\n"
			      "  meters: vertrouwen +\n  rubriek: -\n", fp);
			assert_int_equal(fclose(fp), 0);
		}
	}
	/* a comment more in the script: its digest, so its key, changes */
	fp = fopen(f->script.buf, "a");
	assert_non_null(fp);
	fputs("# nog een opmerking\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(catalog_cached(f, f->cache.buf), 0);
	assert_int_equal(cache_files(f, names, 4), 3);
	/* two more versions: the oldest (the first) goes, the newest
	 * reads back */
	for (int k = 0; k < 2; k++) {
		fp = fopen(f->script.buf, "a");
		assert_non_null(fp);
		fprintf(fp, "# versie %d\n", k);
		assert_int_equal(fclose(fp), 0);
		assert_int_equal(catalog_cached(f, f->cache.buf), 0);
	}
	assert_int_equal(cache_files(f, names, 4), MCACHE_KEEP);
	for (size_t i = 0; i < MCACHE_KEEP; i++)
		assert_string_not_equal(names[i], first);
	assert_int_equal(catalog_cached(f, f->cache.buf), 1);
	/* without a cache folder nothing is read or written */
	diag_init(&d);
	catalog_load(&c, f->scripts.buf, f->personas.buf, &d);
	assert_int_equal(c.ncached, 0);
	catalog_release(&c);
	diag_release(&d);
}

/* A cache folder that cannot be made: the load works as without one. */
static void test_unwritable(void **state)
{
	struct fx *f = *state;
	struct sbuf blocked;
	FILE *fp;

	sbuf_init(&blocked);
	sbuf_addf(&blocked, "%s/a-file", f->dir);
	fp = fopen(blocked.buf, "w");
	assert_non_null(fp);
	assert_int_equal(fclose(fp), 0);
	sbuf_adds(&blocked, "/cache");
	for (int round = 0; round < 2; round++)
		assert_int_equal(catalog_cached(f, blocked.buf), 0);
	sbuf_release(&blocked);
}

static void test_hash(void **state)
{
	struct mcache_key a, b, c;
	char buf[64];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	/* every length up to the buffer differs, and so does the seed */
	for (size_t n = 0; n < sizeof(buf); n++) {
		mcache_hash(buf, n, 1, &a);
		mcache_hash(buf, n + 1, 1, &b);
		mcache_hash(buf, n, 2, &c);
		assert_memory_not_equal(&a, &b, sizeof(a));
		assert_memory_not_equal(&a, &c, sizeof(a));
		mcache_hash(buf, n, 1, &b);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	/* one bit anywhere */
	mcache_hash(buf, sizeof(buf), 1, &a);
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 4;
		mcache_hash(buf, sizeof(buf), 1, &b);
		buf[i] ^= 4;
		assert_memory_not_equal(&a, &b, sizeof(a));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_dir),
		cmocka_unit_test(test_hash),
		cmocka_unit_test_setup_teardown(test_save_and_read, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_catalog_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
