/* catalog.c - see catalog.h */
#include "catalog.h"
#include "calib.h"
#include "mcache.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int cmp_script(const void *a, const void *b)
{
	const struct script *x = *(struct script *const *)a;
	const struct script *y = *(struct script *const *)b;

	if (x->difficulty != y->difficulty)
		return x->difficulty - y->difficulty;
	return strcmp(x->id, y->id);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t list_scripts(const char *dir, char ***out, struct diag *d)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!dp) {
		diag_add(d, NULL, "%s: map met scenario's niet te openen",
			 dir);
		return 0;
	}
	for (de = readdir(dp); de; de = readdir(dp)) {
		size_t len = strlen(de->d_name);
		struct sbuf sb;
		struct stat st;

		if (de->d_name[0] == '.' || len < 5 ||
		    strcmp(de->d_name + len - 4, ".oef") != 0)
			continue;
		sbuf_init(&sb);
		sbuf_addf(&sb, "%s/%s", dir, de->d_name);
		if (stat(sb.buf, &st) != 0 || !S_ISREG(st.st_mode)) {
			sbuf_release(&sb);
			continue;
		}
		XGROW(v, cap, n + 1);
		v[n++] = sbuf_detach(&sb);
	}
	closedir(dp);
	if (n)
		qsort(v, n, sizeof(*v), cmp_name);
	*out = v;
	return n;
}

size_t catalog_load(struct catalog *c, const char *scripts_dir,
		    const char *personas_dir, struct diag *d)
{
	return catalog_load_cached(c, scripts_dir, personas_dir, NULL, d);
}

/* One script file's load: its script (NULL on error), its own
 * messages, and whether it failed. */
struct job {
	const char *path;
	const char *cache_dir;
	struct pool *pool;
	struct script *s;
	struct diag d;
	int rc;
};

/* Load, and calibrate and cache what was trained: all of it the
 * script's own work, so scripts load side by side (only the pool is
 * shared, under its lock). A script without an id is left for the
 * caller to reject. */
static void load_one(struct job *j)
{
	struct corpus train;

	diag_init(&j->d);
	j->rc = script_load_train(j->path, j->pool, j->cache_dir, &j->s,
				  &train, &j->d);
	if (j->rc == 0 && j->s->id && j->s->train_path && !j->s->cached) {
		calib_points(j->s, &train);
		if (j->s->keyed)
			mcache_save(j->cache_dir, &j->s->cache_key, j->s);
	}
	corpus_release(&train);
}

struct crew {
	struct job *jobs;
	size_t njobs;
	atomic_size_t next;
};

static void *crew_work(void *arg)
{
	struct crew *c = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&c->next, 1);

		if (i >= c->njobs)
			return NULL;
		load_one(&c->jobs[i]);
	}
}

/* Threads for loading: one per core, at most CATALOG_MAX_THREADS (the
 * scripts are few), 1 when OEFENKAMER_THREADS=1. */
static size_t load_threads(size_t njobs)
{
	const char *v = getenv("OEFENKAMER_THREADS");
	long n = v && *v ? strtol(v, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > CATALOG_MAX_THREADS)
		n = CATALOG_MAX_THREADS;
	return (size_t)n < njobs ? (size_t)n : njobs;
}

size_t catalog_load_cached(struct catalog *c, const char *scripts_dir,
			   const char *personas_dir, const char *cache_dir,
			   struct diag *d)
{
	struct timespec t0, t1;
	char **files;
	size_t nfiles, before = d->n, cap = 0, nthreads, started = 0;
	struct err err;
	/* one pool for every script's pattern trees (script.h) */
	struct pool *pool = pool_new();
	struct crew crew;
	pthread_t tid[CATALOG_MAX_THREADS];

	memset(c, 0, sizeof(*c));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	nfiles = list_scripts(scripts_dir, &files, d);
	crew.jobs = xcalloc(nfiles + 1, sizeof(*crew.jobs));
	crew.njobs = nfiles;
	atomic_init(&crew.next, 0);
	for (size_t i = 0; i < nfiles; i++) {
		crew.jobs[i].path = files[i];
		crew.jobs[i].cache_dir = cache_dir;
		crew.jobs[i].pool = pool;
	}
	/* this thread works too; a thread that cannot start leaves its
	 * share to the others */
	nthreads = load_threads(nfiles);
	for (size_t k = 1; k < nthreads; k++)
		if (pthread_create(&tid[started], NULL, crew_work, &crew) == 0)
			started++;
	crew_work(&crew);
	for (size_t k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
	/* in file order, as one thread would have: messages, ids */
	for (size_t i = 0; i < nfiles; i++) {
		struct job *j = &crew.jobs[i];
		struct script *s = j->s;

		diag_take(d, &j->d);
		if (j->rc < 0)
			continue;
		if (!s->id) {
			struct loc l = { s->path, 1, 1 };

			diag_add(d, &l, "geen 'scenario <id>' in dit bestand "
				 "(hulpbestanden horen in een submap)");
			script_free(s);
			continue;
		}
		for (size_t k = 0; k < c->nscripts; k++) {
			if (strcmp(c->scripts[k]->id, s->id) == 0) {
				diag_add(d, &s->id_loc, "scenario '%s' bestaat "
					 "al in %s", s->id,
					 c->scripts[k]->path);
				script_free(s);
				s = NULL;
				break;
			}
		}
		if (!s)
			continue;
		c->ncached += s->cached;
		XGROW(c->scripts, cap, c->nscripts + 1);
		c->scripts[c->nscripts++] = s;
	}
	free(crew.jobs);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	/* the scripts hold their references; its index is load-time only */
	pool_seal(pool);
	pool_unref(pool);
	if (c->nscripts)
		qsort(c->scripts, c->nscripts, sizeof(*c->scripts),
		      cmp_script);
	if (persona_load_dir(personas_dir, &c->personas, &c->npersonas,
			     &err) < 0)
		diag_add(d, NULL, "%s", err.msg);
	for (size_t i = 0; i < c->nscripts; i++) {
		const struct script *s = c->scripts[i];

		if (c->npersonas && !catalog_persona(c, s))
			diag_add(d, &s->id_loc, "persona '%s' bestaat niet "
				 "(verwacht %s/%s.json)", s->persona,
				 personas_dir, s->persona);
	}
	xtrim();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	c->load_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	return d->n - before;
}

void catalog_drop_examples(struct catalog *c)
{
	for (size_t i = 0; i < c->nscripts; i++)
		script_drop_examples(c->scripts[i]);
	xtrim();
}

void catalog_release(struct catalog *c)
{
	for (size_t i = 0; i < c->nscripts; i++)
		script_free(c->scripts[i]);
	free(c->scripts);
	persona_list_free(c->personas, c->npersonas);
	memset(c, 0, sizeof(*c));
}

const struct script *catalog_find(const struct catalog *c, const char *key)
{
	long n;

	for (size_t i = 0; i < c->nscripts; i++)
		if (strcmp(c->scripts[i]->id, key) == 0)
			return c->scripts[i];
	if (parse_long(key, 1, (long)c->nscripts, &n) == 0)
		return c->scripts[n - 1];
	return NULL;
}

const struct persona *catalog_persona(const struct catalog *c,
				      const struct script *s)
{
	return persona_find(c->personas, c->npersonas, s->persona);
}

const char *catalog_persona_name(const struct catalog *c,
				 const struct script *s)
{
	const struct persona *p = catalog_persona(c, s);

	return p ? p->name : s->persona;
}

char *catalog_default_dir(const char *name, const char *env)
{
	const char *v = getenv(env);
	char exe[4096];
	ssize_t n;
	struct stat st;
	struct sbuf sb;
	char *slash;

	if (v && *v)
		return xstrdup(v);
	if (stat(name, &st) == 0 && S_ISDIR(st.st_mode))
		return xstrdup(name);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return xstrdup(name);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return xstrdup(name);
	*slash = '\0';
	sbuf_init(&sb);
	sbuf_addf(&sb, "%s/../%s", exe, name);
	return sbuf_detach(&sb);
}
