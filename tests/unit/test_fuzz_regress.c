/* test_fuzz_regress.c - replay every fuzz fixture without clang.
 *
 * Each file under tests/data/fuzz/<target>/ (seeds and inputs that once
 * crashed a fuzz target) goes through the same function the fuzz target
 * runs (tests/fuzz/targets.h), which abort()s on a broken promise; ASan
 * and valgrind (make asan, make valgrind) catch the memory errors. A
 * target directory without files fails, so the test cannot silently test
 * nothing. Inputs too big to commit are generated here. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "fuzz/targets.h"

#define FIXTURE_MAX (1u << 20)  /* bytes per fixture file */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feed every regular, non-hidden file of tests/data/fuzz/<target>/ to fn,
 * in name order; returns how many there were. */
static size_t replay_dir(const char *target,
			 void (*fn)(const uint8_t *, size_t))
{
	struct sbuf dir, path;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	sbuf_init(&dir);
	sbuf_init(&path);
	sbuf_addf(&dir, "%s/tests/data/fuzz/%s", fuzz_root(), target);
	d = opendir(sbuf_str(&dir));
	if (!d)
		print_error("cannot open %s\n", sbuf_str(&dir));
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		XGROW(names, cap, n + 1);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		struct err err;
		char *buf;
		size_t len;

		sbuf_reset(&path);
		sbuf_addf(&path, "%s/%s", sbuf_str(&dir), names[i]);
		assert_int_equal(stat(sbuf_str(&path), &st), 0);
		assert_true(S_ISREG(st.st_mode));
		if (read_file(sbuf_str(&path), FIXTURE_MAX, &buf, &len,
			      &err) < 0)
			print_error("%s\n", err.msg);
		assert_non_null(buf);
		fn((const uint8_t *)buf, len);
		free(buf);
		free(names[i]);
	}
	free(names);
	if (!n)
		print_error("%s has no fixtures\n", sbuf_str(&dir));
	else
		print_message("%zu %s fixtures\n", n, target);
	sbuf_release(&dir);
	sbuf_release(&path);
	return n;
}

static void test_script_fixtures(void **state)
{
	(void)state;
	assert_true(replay_dir("script", fuzz_script_input) > 0);
}

static void test_norm_fixtures(void **state)
{
	(void)state;
	assert_true(replay_dir("norm", fuzz_norm_input) > 0);
}

static void test_text_fixtures(void **state)
{
	(void)state;
	assert_true(replay_dir("text", fuzz_text_input) > 0);
}

static void test_corpus_fixtures(void **state)
{
	(void)state;
	assert_true(replay_dir("corpus", fuzz_corpus_input) > 0);
}

static void test_persona_fixtures(void **state)
{
	(void)state;
	assert_true(replay_dir("persona", fuzz_persona_input) > 0);
}

static void test_sync_fixtures(void **state)
{
	(void)state;
	assert_true(replay_dir("sync", fuzz_sync_input) > 0);
}

static void test_config_fixtures(void **state)
{
	(void)state;
	fuzz_config_loaded = 0;
	assert_true(replay_dir("config", fuzz_config_input) > 0);
	/* valid.json, odd-paths.json and secret-world-readable.json (the
	 * mode of a secret is checked when it is read) get through every
	 * check of the load */
	assert_int_equal(fuzz_config_loaded, 3);
}

static void test_bot_fixtures(void **state)
{
	(void)state;
	memset(&fuzz_bot_stats, 0, sizeof(fuzz_bot_stats));
	assert_true(replay_dir("bot", fuzz_bot_input) > 0);
	/* the seeds get past the parsers into the bot's handlers: three
	 * recorded batches parse (one is cut), the line seeds make their
	 * messages, and every batch is stored */
	assert_int_equal(fuzz_bot_stats.bodies, 3);
	assert_true(fuzz_bot_stats.messages >= 30);
	assert_int_equal(fuzz_bot_stats.synced, 3 + 4);
}

/* len bytes of unit repeated (the last copy may be cut). */
static char *repeat(const char *unit, size_t len)
{
	size_t u = strlen(unit);
	char *s = xmalloc(len + 1);

	for (size_t i = 0; i < len; i++)
		s[i] = unit[i % u];
	s[len] = '\0';
	return s;
}

/* Over FUZZ_MAX_INPUT: the fuzz entry skips it, the body does not. */
#define BIG (1u << 20)

static void test_big_norm(void **state)
{
	static const char *const units[] = {
		"a",                        /* one 1 MB word */
		"a ",                       /* past NORM_MAX_TOKENS */
		"\xff",                     /* invalid UTF-8 only */
		"\xc3\xa9",                 /* é, folded */
		"\xc3",                     /* cut sequences */
		". ",                       /* a million clauses */
		"m'n z'n 't ",              /* rewrites */
		"hoe gaat het met u ",      /* the fixed scenario matches */
		"u moet verplicht niet ",   /* negation everywhere */
		"ots \xe2\x80\x99 ",        /* {woord} said back */
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		s = repeat(units[i], BIG);
		fuzz_norm_run((const uint8_t *)s, BIG);
		free(s);
	}
	/* NUL bytes inside the text */
	s = xcalloc(1, 4096);
	memcpy(s + 100, "hoe gaat het", 12);
	fuzz_norm_run((const uint8_t *)s, 4096);
	fuzz_norm_run((const uint8_t *)s, 0);
	free(s);
}

static void test_big_text(void **state)
{
	static const char *const units[] = {
		"dat ",                     /* a clause per word */
		"volgens ",                 /* frames with nothing after */
		"\" ",                      /* a quote per word */
		"wie kun je bellen als het misgaat? ",
		"kinderne jeugdbeschermers ",   /* typos and compounds */
		"can you tell me what ",    /* another language */
		"niet dat ",                /* negation inherited */
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		s = repeat(units[i], BIG);
		fuzz_text_run((const uint8_t *)s, BIG);
		free(s);
	}
}

/* The shipped scenario library with a mass of declarations after it. */
static char *big_script(size_t nvars, size_t *len)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_adds(&sb, "gebruik \"gedeeld/begrippen.oef\"\n");
	sbuf_add(&sb, fuzz_norm_script, sizeof(fuzz_norm_script) - 1);
	for (size_t i = 0; i < nvars; i++)
		sbuf_addf(&sb, "var v%zu = 0 (0..1)\n", i);
	*len = sb.len;
	return sbuf_detach(&sb);
}

static void test_big_script(void **state)
{
	static const char *const units[] = {
		"a",              /* one line over SCRIPT_MAX_LINE */
		"\n",             /* a million empty lines */
		"- zeg\n",        /* text lines outside a block */
		"(",              /* deep nesting, on one line */
		"(,\n",           /* deep nesting, over continued lines */
		"bedoeling x\n",  /* the same name again and again */
		"\xff",           /* not UTF-8 */
	};
	char *s;
	size_t len;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		s = repeat(units[i], BIG);
		fuzz_script_run((const uint8_t *)s, BIG);
		free(s);
	}
	s = big_script(2000, &len);
	fuzz_script_run((const uint8_t *)s, len);
	free(s);
	/* a pattern as long as a line may be */
	s = xmalloc(SCRIPT_MAX_LINE + 64);
	len = (size_t)snprintf(s, 64, "bedoeling lang\n  patroon: ");
	memset(s + len, 'a', SCRIPT_MAX_LINE - 11);
	len += SCRIPT_MAX_LINE - 11;
	fuzz_script_run((const uint8_t *)s, len);
	free(s);
}

static void test_big_persona(void **state)
{
	struct persona *p;
	struct sbuf sb;
	char *s;

	(void)state;
	/* over PERSONA_MAX_BYTES, and nested past jansson's depth limit */
	s = repeat(" ", BIG);
	fuzz_persona_run((const uint8_t *)s, BIG);
	free(s);
	s = repeat("[", 200000);
	fuzz_persona_run((const uint8_t *)s, 200000);
	free(s);
	s = repeat("{\"a\":", 200000);
	fuzz_persona_run((const uint8_t *)s, 200000);
	free(s);

	/* the most sources allowed, and one more */
	for (size_t n = PERSONA_MAX_SOURCES; n <= PERSONA_MAX_SOURCES + 1;
	     n++) {
		sbuf_init(&sb);
		sbuf_adds(&sb, "{\"id\": \"fuzz\", \"fictief\": true, "
			  "\"naam\": \"Fuzz\", \"weergavenaam\": \"Fuzz\", "
			  "\"rol\": \"kind\", \"leeftijd\": 9, "
			  "\"situatie\": \"Verzonnen.\", "
			  "\"spreekstijl\": \"Kort.\", \"bronnen\": [");
		for (size_t i = 0; i < n; i++)
			sbuf_addf(&sb, "%s{\"sectie\": \"S%zu\", "
				  "\"citaat\": \"Citaat %zu\"}",
				  i ? ", " : "", i, i);
		sbuf_adds(&sb, "]}");
		fuzz_persona_run((const uint8_t *)sbuf_str(&sb), sb.len);
		p = NULL;
		assert_int_equal(persona_load_text(FUZZ_PERSONA_NAME,
						   sbuf_str(&sb), sb.len, &p,
						   NULL),
				 n > PERSONA_MAX_SOURCES ? -1 : 0);
		persona_free(p);
		sbuf_release(&sb);
	}
}

/* The fixed scenario of the norm target is valid and reacts: a match,
 * and {woord} said back. */
static void test_norm_scenario(void **state)
{
	static const char said[] = "Komt er een OTS?";
	const struct script *s;
	struct engine_out out;
	struct engine *e;
	struct match m;
	int i;

	(void)state;
	s = fuzz_norm_scenario();
	assert_non_null(s);
	assert_string_equal(s->id, "fuzz");
	assert_ptr_equal(fuzz_norm_scenario(), s);
	match_init(&m);
	match_run(&m, s, "Hoe gaat het met u?", 19);
	i = script_find_intent(s, "vraagt-hoe");
	assert_true(i >= 0);
	assert_int_equal(match_hit(&m, (uint32_t)i), 1);
	engine_out_init(&out);
	e = engine_new(s, 1);
	engine_start(e, &out);
	assert_int_equal(out.nmsgs, 2);
	assert_int_equal(engine_turn(e, &m, said, strlen(said), &out), 0);
	assert_int_equal(out.nmsgs, 1);
	assert_non_null(strstr(sbuf_str(&out.msgs[0]), "OTS?"));
	engine_free(e);
	engine_out_release(&out);
	match_release(&m);
}

/* The valid seeds get past the parsers, so the fuzzers start deep. */
static void test_seeds_load(void **state)
{
	static const char *const scripts[] = {
		"valid-minimal.oef", "include.oef", "library.oef",
	};
	struct sbuf path;
	struct persona *p = NULL;
	struct script *sc;
	struct diag d;
	struct err err;
	char *buf;
	size_t len;

	(void)state;
	sbuf_init(&path);
	for (size_t i = 0; i < ARRAY_LEN(scripts); i++) {
		sbuf_reset(&path);
		sbuf_addf(&path, "%s/tests/data/fuzz/script/%s", fuzz_root(),
			  scripts[i]);
		assert_int_equal(read_file(sbuf_str(&path), FIXTURE_MAX, &buf,
					   &len, &err), 0);
		sbuf_reset(&path);
		sbuf_addf(&path, "%s/scripts/fuzz-invoer.oef", fuzz_root());
		diag_init(&d);
		if (script_load_text(sbuf_str(&path), buf, len, &sc, &d) < 0)
			for (size_t k = 0; k < d.n; k++)
				print_error("%s: %s\n", scripts[i], d.msgs[k]);
		assert_int_equal(d.n, 0);
		script_free(sc);
		diag_release(&d);
		free(buf);
	}
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/tests/data/fuzz/persona/valid.json",
		  fuzz_root());
	assert_int_equal(read_file(sbuf_str(&path), FIXTURE_MAX, &buf, &len,
				   &err), 0);
	assert_int_equal(persona_load_text(FUZZ_PERSONA_NAME, buf, len, &p,
					   &err), 0);
	assert_int_equal(p->nsources, 2);
	persona_free(p);
	free(buf);
	sbuf_release(&path);
}

/* The sync seeds: what one run of each reached. */
static struct fuzz_sync_stats sync_seed(const char *name)
{
	struct sbuf path;
	struct err err;
	char *buf;
	size_t len;

	sbuf_init(&path);
	sbuf_addf(&path, "%s/tests/data/fuzz/sync/%s", fuzz_root(), name);
	if (read_file(sbuf_str(&path), FIXTURE_MAX, &buf, &len, &err) < 0)
		print_error("%s\n", err.msg);
	assert_non_null(buf);
	memset(&fuzz_sync_stats, 0, sizeof(fuzz_sync_stats));
	fuzz_sync_run((const uint8_t *)buf, len);
	free(buf);
	sbuf_release(&path);
	return fuzz_sync_stats;
}

/* The sync seeds get through the Olm and Megolm decryption to the
 * events, so the fuzzer starts deep (and the fixed state in targets.h
 * still matches what e2ee.c stores). */
static void test_sync_seeds_deep(void **state)
{
	struct fuzz_sync_stats s;

	(void)state;
	/* a room key in a pre-key message: three events and the waiting
	 * one readable, and the bot's own line encrypted */
	s = sync_seed("olm-prekey-room-key.json");
	assert_int_equal(s.parsed, 1);
	assert_int_equal(s.decrypted, 3);
	assert_int_equal(s.waiting + s.rejected, 0);
	assert_int_equal(s.ready, 1);
	assert_int_equal(s.encrypted, 1);
	/* the same in a message of an established Olm session */
	s = sync_seed("olm-session-room-key.json");
	assert_int_equal(s.decrypted, 1);
	assert_int_equal(s.ready, 0);
	assert_int_equal(s.encrypted, 1);
	/* a forwarded key for the waiting event */
	s = sync_seed("olm-forwarded-room-key.json");
	assert_int_equal(s.decrypted, 1);
	assert_int_equal(s.ready, 1);
	/* no keys: nothing readable, the rest of the batch still runs */
	s = sync_seed("megolm-no-key.json");
	assert_int_equal(s.decrypted, 0);
	assert_int_equal(s.waiting, 4);
	assert_int_equal(s.encrypted, 1);
	/* our own line back, then its replay under another event id; a
	 * member with unknown devices holds the next send back */
	s = sync_seed("megolm-own-echo.json");
	assert_int_equal(s.decrypted, 1);
	assert_int_equal(s.rejected, 1);
	assert_int_equal(s.encrypted, 0);
	/* rolled back: the first seed reads the same again */
	s = sync_seed("olm-prekey-room-key.json");
	assert_int_equal(s.decrypted, 3);
	assert_int_equal(s.ready, 1);
	/* not a sync body */
	s = sync_seed("plain-bad-truncated.json");
	assert_int_equal(s.parsed, 0);
}

/* Over FUZZ_MAX_INPUT: many rooms and events, deep nesting. */
static void test_big_sync(void **state)
{
	struct sbuf sb;
	char *s;

	(void)state;
	s = repeat("[", 200000);
	fuzz_sync_run((const uint8_t *)s, 200000);
	free(s);
	s = repeat("{\"next_batch\":", 200000);
	fuzz_sync_run((const uint8_t *)s, 200000);
	free(s);
	sbuf_init(&sb);
	sbuf_adds(&sb, "{\"next_batch\":\"x\",\"to_device\":{\"events\":[");
	for (size_t i = 0; i < 2000; i++)
		sbuf_addf(&sb, "%s{\"type\":\"m.room.encrypted\",\"sender\":"
			  "\"@u%zu:x\",\"content\":{\"algorithm\":\"m.olm.v1."
			  "curve25519-aes-sha2\",\"sender_key\":\"k%zu\","
			  "\"ciphertext\":{\"" FUZZ_SYNC_CURVE "\":{\"type\":"
			  "%zu,\"body\":\"AAAA\"}}}}", i ? "," : "", i, i,
			  i % 2);
	sbuf_adds(&sb, "]},\"rooms\":{\"join\":{");
	for (size_t i = 0; i < 500; i++)
		sbuf_addf(&sb, "%s\"!r%zu:x\":{\"state\":{\"events\":[{\"type\":"
			  "\"m.room.encryption\",\"state_key\":\"\",\"content\":"
			  "{\"algorithm\":\"m.megolm.v1.aes-sha2\"}}]},"
			  "\"timeline\":{\"events\":[{\"type\":"
			  "\"m.room.encrypted\",\"sender\":\"@u:x\","
			  "\"event_id\":\"$%zu\",\"content\":{\"algorithm\":"
			  "\"m.megolm.v1.aes-sha2\",\"sender_key\":\"k\","
			  "\"session_id\":\"s%zu\",\"ciphertext\":\"AAAA\"}}]}}",
			  i ? "," : "", i, i, i);
	sbuf_adds(&sb, "}}}");
	memset(&fuzz_sync_stats, 0, sizeof(fuzz_sync_stats));
	fuzz_sync_run((const uint8_t *)sbuf_str(&sb), sb.len);
	assert_int_equal(fuzz_sync_stats.parsed, 1);
	assert_int_equal(fuzz_sync_stats.waiting, 500);
	sbuf_release(&sb);
}

static int teardown(void **state)
{
	(void)state;
	fuzz_norm_cleanup();
	fuzz_text_cleanup();
	fuzz_corpus_cleanup();
	fuzz_sync_cleanup();
	fuzz_bot_cleanup();
	fuzz_dir_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_norm_scenario),
		cmocka_unit_test(test_seeds_load),
		cmocka_unit_test(test_script_fixtures),
		cmocka_unit_test(test_norm_fixtures),
		cmocka_unit_test(test_text_fixtures),
		cmocka_unit_test(test_corpus_fixtures),
		cmocka_unit_test(test_persona_fixtures),
		cmocka_unit_test(test_sync_fixtures),
		cmocka_unit_test(test_sync_seeds_deep),
		cmocka_unit_test(test_config_fixtures),
		cmocka_unit_test(test_bot_fixtures),
		cmocka_unit_test(test_big_norm),
		cmocka_unit_test(test_big_text),
		cmocka_unit_test(test_big_script),
		cmocka_unit_test(test_big_persona),
		cmocka_unit_test(test_big_sync),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, teardown);
}
