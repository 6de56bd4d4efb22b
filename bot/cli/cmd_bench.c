/* cmd_bench.c - figures, not tests: how fast the engine answers, how
 * much a live session costs, what end-to-end encryption adds per
 * message. Prints numbers; asserts nothing. */
#include <dirent.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "crypto.h"
#include "engine.h"
#include "http.h"
#include "store.h"

#define BENCH_SESSIONS 10000
#define BENCH_CRYPTO_N 2000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A /proc/self/status figure in kB ("VmRSS:", "RssFile:" ...), or -1. */
static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(key);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0) {
			v = strtol(line + n, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Bytes malloc hands out right now (heap and mmapped chunks). */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Load the catalog runs times with the model cache in dir (NULL: none),
 * each time's wall and cpu milliseconds into wall and cpu (sorted); the
 * last load stays in c unless release. The first load's heap and RSS
 * growth into *held and *rss when those are not NULL. */
static int bench_loads(struct catalog *c, const char *dir, size_t runs,
		       double *wall, double *cpu, size_t *ncached,
		       size_t *held, long *rss, int release)
{
	setenv("OEFENKAMER_CACHE", dir ? dir : "uit", 1);
	*ncached = SIZE_MAX;
	for (size_t i = 0; i < runs; i++) {
		size_t h0 = heap_in_use();
		long r0 = status_kb("VmRSS:");
		double c0 = cpu_s();

		if (cli_catalog(c, 1))
			return -1;
		cpu[i] = (cpu_s() - c0) * 1e3;
		wall[i] = c->load_ms;
		if (c->ncached < *ncached)
			*ncached = c->ncached;
		/* the first load, on a heap nothing has used yet: what the
		 * catalog holds, and what loading it left resident */
		if (i == 0 && held) {
			*held = heap_in_use() - h0;
			*rss = status_kb("VmRSS:") - r0;
		}
		if (release || i + 1 < runs)
			catalog_release(c);
	}
	qsort(wall, runs, sizeof(double), cmp_double);
	qsort(cpu, runs, sizeof(double), cmp_double);
	return 0;
}

/* An empty folder for the model cache, under $TMPDIR or /tmp. */
static char *bench_cache_dir(void)
{
	const char *t = getenv("TMPDIR");
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_addf(&sb, "%s/oefenkamer-bench-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(sb.buf)) {
		sbuf_release(&sb);
		return NULL;
	}
	return sbuf_detach(&sb);
}

static void remove_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;

	if (!dp)
		return;
	while ((de = readdir(dp)) != NULL) {
		struct sbuf sb;

		if (de->d_name[0] == '.' && (!de->d_name[1] ||
		    (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		sbuf_init(&sb);
		sbuf_addf(&sb, "%s/%s", dir, de->d_name);
		unlink(sb.buf);
		sbuf_release(&sb);
	}
	closedir(dp);
	rmdir(dir);
}

#define COLD_RUNS 5
#define WARM_RUNS 15

static int bench_engine(void)
{
	struct catalog c;
	double cold[COLD_RUNS], cold_cpu[COLD_RUNS];
	double loads[WARM_RUNS], load_cpu[WARM_RUNS];
	size_t ncold, nwarm;
	char *cdir, *env_was;
	const char **msgs = NULL;
	size_t nmsgs = 0, cap = 0, total = 0, nscripts;
	struct engine **live, **start;
	struct engine_out out;
	struct match m;
	double t0, c0, el, cpu;
	size_t bytes = 0, maxbytes = 0, held = 0;
	long r0, r1, rss_load = 0;

	/* Cold: every load trains. Warm: a fresh cache folder, one load
	 * that trains and writes it, then loads that read it. The user's
	 * own cache is left alone. */
	env_was = getenv("OEFENKAMER_CACHE") ?
		  xstrdup(getenv("OEFENKAMER_CACHE")) : NULL;
	cdir = bench_cache_dir();
	if (bench_loads(&c, NULL, COLD_RUNS, cold, cold_cpu, &ncold, &held,
			&rss_load, 1) < 0 ||
	    bench_loads(&c, cdir, 1, loads, load_cpu, &nwarm, NULL, NULL,
			1) < 0 ||
	    bench_loads(&c, cdir, WARM_RUNS, loads, load_cpu, &nwarm, NULL,
			NULL, 0) < 0) {
		free(env_was);
		free(cdir);
		return 2;
	}
	if (env_was)
		setenv("OEFENKAMER_CACHE", env_was, 1);
	else
		unsetenv("OEFENKAMER_CACHE");
	free(env_was);
	if (cdir)
		remove_dir(cdir);
	free(cdir);
	nscripts = c.nscripts;
	/* The trainee sentences: every example of every intent. */
	for (size_t i = 0; i < nscripts; i++) {
		const struct script *s = c.scripts[i];

		for (size_t j = 0; j < s->nintents; j++)
			for (size_t k = 0; k < s->intents[j].nexamples; k++) {
				XGROW(msgs, cap, nmsgs + 1);
				msgs[nmsgs++] = s->intents[j].examples[k].text;
			}
	}
	live = xcalloc(nscripts, sizeof(*live));
	start = xcalloc(nscripts, sizeof(*start));
	engine_out_init(&out);
	match_init(&m);
	for (size_t i = 0; i < nscripts; i++) {
		start[i] = engine_new(c.scripts[i], 1);
		engine_start(start[i], &out);
		live[i] = engine_clone(start[i]);
	}
	/* warm up, then measure */
	t0 = now_s();
	c0 = cpu_s();
	for (size_t round = 0; ; round++) {
		for (size_t i = 0; i < nscripts; i++) {
			const char *t = msgs[(round * 7 + i * 13) % nmsgs];

			if (engine_ended(live[i])) {
				engine_free(live[i]);
				live[i] = engine_clone(start[i]);
			}
			engine_turn(live[i], &m, t, strlen(t), &out);
			total++;
		}
		if ((round & 1023) == 0 && now_s() - t0 > 3.0)
			break;
	}
	el = now_s() - t0;
	cpu = cpu_s() - c0;
	for (size_t i = 0; i < nscripts; i++) {
		size_t b = engine_size(live[i]);

		bytes += b;
		if (b > maxbytes)
			maxbytes = b;
	}
	/* Resident memory of many live sessions, all scripts mixed. */
	{
		struct engine **many = xcalloc(BENCH_SESSIONS, sizeof(*many));

		r0 = status_kb("VmRSS:");
		for (size_t i = 0; i < BENCH_SESSIONS; i++) {
			many[i] = engine_clone(start[i % nscripts]);
			engine_turn(many[i], &m, msgs[i % nmsgs],
				    strlen(msgs[i % nmsgs]), &out);
		}
		r1 = status_kb("VmRSS:");
		for (size_t i = 0; i < BENCH_SESSIONS; i++)
			engine_free(many[i]);
		free(many);
	}
	printf("oefenkamer bench engine\n");
	printf("  scenarios loaded:     %zu (persona's, scripts and includes)\n",
	       nscripts);
	/* CPU time too: on a shared machine wall clock counts the
	 * others' work */
	printf("  load, training:       %.2f ms median, %.2f ms min "
	       "(%d runs, no model cache); cpu %.2f ms median\n",
	       cold[COLD_RUNS / 2], cold[0], COLD_RUNS,
	       cold_cpu[COLD_RUNS / 2]);
	printf("  load all scripts:     %.2f ms median, %.2f ms min "
	       "(%d runs, models from the cache: %zu of %zu%s)\n",
	       loads[WARM_RUNS / 2], loads[0], WARM_RUNS, nwarm, nscripts,
	       cdir ? "" : "; no folder for it");
	printf("  load, cpu time:       %.2f ms median, %.2f ms min\n",
	       load_cpu[WARM_RUNS / 2], load_cpu[0]);
	printf("  catalog memory:       %zu bytes held after loading "
	       "(malloc's count), RSS +%ld kB\n", held, rss_load);
	printf("  trainee messages:     %zu distinct sentences, %zu turns "
	       "in %.2f s wall, %.2f s cpu (one thread)\n",
	       nmsgs, total, el, cpu);
	printf("  throughput:           %.0f messages/s (cpu), %.2f us per "
	       "message\n", (double)total / cpu, cpu * 1e6 / (double)total);
	printf("  session state:        %zu bytes mean, %zu bytes max "
	       "(engine_size)\n", bytes / nscripts, maxbytes);
	printf("  resident per session: %.0f bytes (%d live sessions, "
	       "RSS +%ld kB)\n", (double)(r1 - r0) * 1024.0 / BENCH_SESSIONS,
	       BENCH_SESSIONS, r1 - r0);
	printf("  scratch per thread:   struct match, %zu bytes + buffers "
	       "(shared by all sessions)\n", sizeof(struct match));
	for (size_t i = 0; i < nscripts; i++) {
		engine_free(live[i]);
		engine_free(start[i]);
	}
	free(live);
	free(start);
	free(msgs);
	/* what the bot holds: it drops the example sentences after load */
	{
		size_t h0 = heap_in_use();

		catalog_drop_examples(&c);
		printf("  catalog in the bot:   %zu bytes held after dropping "
		       "the example sentences (catalog_drop_examples)\n",
		       held - (h0 - heap_in_use()));
	}
	match_release(&m);
	engine_out_release(&out);
	catalog_release(&c);
	return 0;
}

/* --- bench crypto --------------------------------------------------- */

/* A persona's line as the event plaintext Megolm encrypts (~200 bytes). */
static const char BENCH_EVENT[] =
	"{\"type\":\"m.room.message\",\"content\":{\"msgtype\":\"m.text\","
	"\"body\":\"Ik weet eigenlijk niet of ik dit wel mag vertellen. "
	"Mama zegt dat het thuis moet blijven.\"},"
	"\"room_id\":\"!oefenkamer:example.org\"}";
static const char BENCH_PICKLE_KEY[] = "bench pickle key, not a secret";

static double median_us(double *t, size_t n)
{
	qsort(t, n, sizeof(double), cmp_double);
	return t[n / 2] * 1e6;
}

/* Olm both ways: a, b are sessions that have exchanged a message. */
static int bench_olm_pair(struct crypto_account *alice,
			  struct crypto_account *bob, struct crypto_olm **a,
			  struct crypto_olm **b)
{
	json_t *otks = crypto_account_new_otks(bob, 1);
	const char *id, *otk = NULL;
	json_t *v;
	char *body = NULL, *pt = NULL;
	int type, rc = -1;

	json_object_foreach(otks, id, v)
		otk = json_string_value(v);
	if (!otk || crypto_olm_outbound(alice,
					crypto_account_curve25519(bob), otk,
					a, NULL) < 0)
		goto out;
	if (crypto_olm_encrypt(*a, "hallo", &type, &body, NULL) < 0 ||
	    crypto_olm_inbound(bob, crypto_account_curve25519(alice), body,
			       b, NULL) < 0 ||
	    crypto_olm_decrypt(*b, type, body, &pt, NULL) < 0)
		goto out;
	rc = crypto_account_remove_otk(bob, *b, NULL);
out:
	crypto_free_secret(pt);
	free(body);
	json_decref(otks);
	return rc;
}

static int bench_crypto(void)
{
	enum { M_ENC, M_DEC, O_RT, P_PICKLE, P_UNPICKLE, V_JSON, V_RAW,
	       NROWS };
	double *t[NROWS];
	struct crypto_megolm_out *out = crypto_megolm_out_new();
	struct crypto_megolm_in *in = NULL, *back;
	struct crypto_account *alice = crypto_account_new();
	struct crypto_account *bob = crypto_account_new();
	struct crypto_olm *a = NULL, *b = NULL;
	char **ct = xcalloc(BENCH_CRYPTO_N, sizeof(*ct));
	char *key = NULL, *pt, *body, *p = NULL, *canon = NULL, *sig = NULL;
	json_t *keys = NULL;
	size_t pickle_len = 0;
	uint32_t idx;
	int type, rc = 1;
	double t0;

	for (size_t r = 0; r < NROWS; r++)
		t[r] = xcalloc(BENCH_CRYPTO_N, sizeof(double));
	if (!out || !alice || !bob)
		goto out;
	key = crypto_megolm_out_key(out);
	if (!key || crypto_megolm_in_new(key, 0, &in, NULL) < 0)
		goto out;
	for (size_t i = 0; i < BENCH_CRYPTO_N; i++) {
		t0 = now_s();
		ct[i] = crypto_megolm_out_encrypt(out, BENCH_EVENT);
		t[M_ENC][i] = now_s() - t0;
		if (!ct[i])
			goto out;
	}
	for (size_t i = 0; i < BENCH_CRYPTO_N; i++) {
		t0 = now_s();
		if (crypto_megolm_in_decrypt(in, ct[i], &pt, &idx, NULL) < 0)
			goto out;
		t[M_DEC][i] = now_s() - t0;
		crypto_free_secret(pt);
	}
	/* Olm, alternating directions: every message a new ratchet step,
	 * the most expensive case. */
	if (bench_olm_pair(alice, bob, &a, &b) < 0)
		goto out;
	for (size_t i = 0; i < BENCH_CRYPTO_N; i++) {
		struct crypto_olm *from = i & 1 ? a : b, *to = i & 1 ? b : a;

		t0 = now_s();
		if (crypto_olm_encrypt(from, BENCH_EVENT, &type, &body,
				       NULL) < 0)
			goto out;
		if (crypto_olm_decrypt(to, type, body, &pt, NULL) < 0) {
			free(body);
			goto out;
		}
		t[O_RT][i] = now_s() - t0;
		crypto_free_secret(pt);
		free(body);
	}
	for (size_t i = 0; i < BENCH_CRYPTO_N; i++) {
		free(p);
		t0 = now_s();
		p = crypto_megolm_in_pickle(in, BENCH_PICKLE_KEY,
					    sizeof(BENCH_PICKLE_KEY) - 1);
		t[P_PICKLE][i] = now_s() - t0;
		if (!p)
			goto out;
		t0 = now_s();
		if (crypto_megolm_in_unpickle(BENCH_PICKLE_KEY,
					      sizeof(BENCH_PICKLE_KEY) - 1, p,
					      &back, NULL) < 0)
			goto out;
		t[P_UNPICKLE][i] = now_s() - t0;
		crypto_megolm_in_free(back);
	}
	pickle_len = strlen(p);
	/* A device's keys as /keys/query returns them, signed. */
	keys = json_pack("{s:s,s:s,s:[s,s],s:{s:s,s:s}}",
			 "user_id", "@oefenkamer:example.org",
			 "device_id", "OEFENKAMER",
			 "algorithms", "m.olm.v1.curve25519-aes-sha2",
			 "m.megolm.v1.aes-sha2", "keys",
			 "curve25519:OEFENKAMER",
			 crypto_account_curve25519(alice),
			 "ed25519:OEFENKAMER", crypto_account_ed25519(alice));
	canon = crypto_canonical(keys);
	sig = canon ? crypto_account_sign(alice, canon, strlen(canon)) : NULL;
	if (!sig)
		goto out;
	json_object_set_new(keys, "signatures",
			    json_pack("{s:{s:s}}", "@oefenkamer:example.org",
				      "ed25519:OEFENKAMER", sig));
	for (size_t i = 0; i < BENCH_CRYPTO_N; i++) {
		t0 = now_s();
		if (crypto_verify_json(keys, "@oefenkamer:example.org",
				       "OEFENKAMER",
				       crypto_account_ed25519(alice),
				       NULL) < 0)
			goto out;
		t[V_JSON][i] = now_s() - t0;
		t0 = now_s();
		if (crypto_ed25519_verify(crypto_account_ed25519(alice), canon,
					  strlen(canon), sig) < 0)
			goto out;
		t[V_RAW][i] = now_s() - t0;
	}
	printf("oefenkamer bench crypto\n");
	printf("  per message, median of %d runs (one thread, libolm "
	       "3.2)\n", BENCH_CRYPTO_N);
	printf("  megolm encrypt:       %.1f us (%zu-byte event, %zu-byte "
	       "ciphertext)\n", median_us(t[M_ENC], BENCH_CRYPTO_N),
	       sizeof(BENCH_EVENT) - 1, strlen(ct[0]));
	printf("  megolm decrypt:       %.1f us\n",
	       median_us(t[M_DEC], BENCH_CRYPTO_N));
	printf("  olm encrypt+decrypt:  %.1f us (directions alternating: a "
	       "ratchet step each message)\n",
	       median_us(t[O_RT], BENCH_CRYPTO_N));
	printf("  pickle inbound:       %.1f us (%zu-byte pickle)\n",
	       median_us(t[P_PICKLE], BENCH_CRYPTO_N), pickle_len);
	printf("  unpickle inbound:     %.1f us\n",
	       median_us(t[P_UNPICKLE], BENCH_CRYPTO_N));
	printf("  verify signed JSON:   %.1f us (device keys: canonical "
	       "JSON + ed25519)\n", median_us(t[V_JSON], BENCH_CRYPTO_N));
	printf("  ed25519 verify:       %.1f us (signature only)\n",
	       median_us(t[V_RAW], BENCH_CRYPTO_N));
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "bench crypto: a crypto operation failed\n");
	for (size_t r = 0; r < NROWS; r++)
		free(t[r]);
	for (size_t i = 0; i < BENCH_CRYPTO_N; i++)
		free(ct[i]);
	free(ct);
	free(p);
	free(canon);
	free(sig);
	json_decref(keys);
	crypto_free_secret(key);
	crypto_olm_free(a);
	crypto_olm_free(b);
	crypto_account_free(alice);
	crypto_account_free(bob);
	crypto_megolm_in_free(in);
	crypto_megolm_out_free(out);
	return rc;
}

static void got_response(void *arg, const struct http_response *r)
{
	*(long *)arg = r->status;
}

/* The floor under the bot's resident memory: this binary using each of
 * its four libraries once and nothing else (one HTTP request to url,
 * a store created and closed, a JSON parse, an Olm account with its
 * keys). What the libraries map and touch for that is resident in any
 * program built on them. */
static int bench_libs(const char *url)
{
	static const char *const side[] = { "", "-wal", "-shm" };
	char dir[] = "/tmp/oefenkamer-bench-XXXXXX", path[64];
	struct http *h;
	struct store *st;
	struct crypto_account *a;
	struct err err;
	json_t *j;
	long status = -1;
	int64_t end;

	if (!mkdtemp(dir)) {
		perror("bench libs: mkdtemp");
		return 1;
	}
	xsnprintf(path, sizeof(path), "%s/store.db", dir);
	h = http_new();
	if (!h || store_open(path, &st, &err) < 0) {
		fprintf(stderr, "bench libs: %s\n", h ? err.msg :
			"libcurl kan niet starten");
		http_free(h);
		rmdir(dir);
		return 1;
	}
	http_request(h, "GET", url, NULL, NULL, 0, 10000, got_response,
		     &status);
	for (end = mono_ms() + 15000; http_pending(h) && mono_ms() < end;)
		http_poll(h, 100, -1);
	j = json_loads("{\"versions\":[\"v1.11\"],\"n\":1}", 0, NULL);
	a = crypto_account_new();
	if (a)
		json_decref(crypto_account_new_otks(a, 10));
	printf("libraries used once (HTTP %ld from %s):\n", status, url);
	printf("  VmHWM %ld kB, VmRSS %ld kB, RssFile %ld kB, "
	       "RssAnon %ld kB\n", status_kb("VmHWM:"), status_kb("VmRSS:"),
	       status_kb("RssFile:"), status_kb("RssAnon:"));
	crypto_account_free(a);
	json_decref(j);
	store_free(st);
	http_free(h);
	for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		char f[80];

		xsnprintf(f, sizeof(f), "%s%s", path, side[i]);
		unlink(f);
	}
	rmdir(dir);
	return status > 0 ? 0 : 1;
}

int cmd_bench(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "libs") == 0)
		return bench_libs(argv[2]);
	if (argc == 2 && strcmp(argv[1], "engine") == 0)
		return bench_engine();
	if (argc == 2 && strcmp(argv[1], "crypto") == 0)
		return bench_crypto();
	fprintf(stderr, "gebruik: oefenkamer bench engine|crypto|libs URL\n");
	return 2;
}
