/* cmd_bench.c - figures, not tests: how fast the engine answers and how
 * much a live session costs. Prints numbers; asserts nothing. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "engine.h"

#define BENCH_SESSIONS 10000

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

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, res = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &res) != 2)
		res = 0;
	fclose(f);
	return res * 4;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_engine(void)
{
	struct catalog c;
	double loads[15];
	const char **msgs = NULL;
	size_t nmsgs = 0, cap = 0, total = 0, nscripts;
	struct engine **live, **start;
	struct engine_out out;
	struct match m;
	double t0, c0, el, cpu;
	size_t bytes = 0, maxbytes = 0;
	long r0, r1;

	for (size_t i = 0; i < ARRAY_LEN(loads); i++) {
		if (cli_catalog(&c, 1))
			return 2;
		loads[i] = c.load_ms;
		if (i + 1 < ARRAY_LEN(loads))
			catalog_release(&c);
	}
	qsort(loads, ARRAY_LEN(loads), sizeof(double), cmp_double);
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

		r0 = rss_kb();
		for (size_t i = 0; i < BENCH_SESSIONS; i++) {
			many[i] = engine_clone(start[i % nscripts]);
			engine_turn(many[i], &m, msgs[i % nmsgs],
				    strlen(msgs[i % nmsgs]), &out);
		}
		r1 = rss_kb();
		for (size_t i = 0; i < BENCH_SESSIONS; i++)
			engine_free(many[i]);
		free(many);
	}
	printf("oefenkamer bench engine\n");
	printf("  scenarios loaded:     %zu (persona's, scripts and includes)\n",
	       nscripts);
	printf("  load all scripts:     %.2f ms median, %.2f ms min "
	       "(%zu runs)\n", loads[ARRAY_LEN(loads) / 2], loads[0],
	       ARRAY_LEN(loads));
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
	match_release(&m);
	engine_out_release(&out);
	catalog_release(&c);
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "engine") == 0)
		return bench_engine();
	fprintf(stderr, "gebruik: oefenkamer bench engine\n");
	return 2;
}
