/* test_util.c - what util.c offers the rest: the one quoter, escaper,
 * hash, random source and wipe; jansson allocating through the x* family
 * once jansson_use_xmalloc() ran; xsnprintf aborting rather than cutting;
 * snprintf_cut and err_set cutting a message on a character boundary
 * with "…". */
#include <setjmp.h>
#include <locale.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>
#include <cmocka.h>

#include <jansson.h>

#include "util.h"

static void quoted(const char *s, size_t max, const char *want)
{
	struct sbuf sb;

	sbuf_init(&sb);
	quote_add(&sb, s, max);
	if (strcmp(sbuf_str(&sb), want) != 0)
		fail_msg("quote_add(\"%s\", %zu) = \"%s\", want \"%s\"", s, max,
			 sbuf_str(&sb), want);
	sbuf_release(&sb);
}

static void test_quote(void **state)
{
	static const struct {
		const char *s;
		size_t max;
		const char *want;
	} cases[] = {
		{ "kort", 10, "kort" },
		{ "", 10, "" },
		/* white space folded, ends trimmed */
		{ "  a \n\t b  ", 10, "a b" },
		/* cut at the last whole word, never inside one */
		{ "het gaat goed met Daan", 14, "het gaat goed…" },
		{ "het gaat goed met Daan", 13, "het gaat goed…" },
		{ "het gaat goed met Daan", 12, "het gaat…" },
		{ "het gaat goed met Daan", 22, "het gaat goed met Daan" },
		/* one word longer than max: cut inside it */
		{ "onderzoeksraadsbesluit", 5, "onder…" },
		/* characters, not bytes; control characters dropped */
		{ "één twee", 3, "één…" },
		{ "a\x01" "b", 5, "ab" },
		/* invalid UTF-8 as U+FFFD */
		{ "x\xff" "y", 5, "x\xef\xbf\xbdy" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		quoted(cases[i].s, cases[i].max, cases[i].want);
}

static void test_quote_short(void **state)
{
	char buf[80], tiny[12];

	assert_string_equal(quote_short("we\"ird\n", buf, sizeof(buf)),
			    "we?ird?");
	assert_string_equal(quote_short("ftp://matrix.example.org", buf,
					sizeof(buf)),
			    "ftp://matrix.example.org");
	/* never more than fits, always terminated */
	quote_short("ééééééééééééééééééééé", tiny, sizeof(tiny));
	assert_true(strlen(tiny) < sizeof(tiny));
	assert_true(utf8_valid(tiny, strlen(tiny)));
}

/* glibc's own UTF-8 decoder (C.UTF-8): an independent reading of RFC
 * 3629 to hold utf8_valid's eight-byte ASCII steps to. */
static int utf8_valid_libc(const unsigned char *p, size_t n)
{
	mbstate_t st;

	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < n;) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, (const char *)p + i, n - i, &st);

		if (k == (size_t)-1 || k == (size_t)-2)
			return 0;
		i += k ? k : 1;   /* a NUL byte is one character */
	}
	return 1;
}

static void test_utf8_valid(void **state)
{
	unsigned char buf[48];
	uint32_t x = 12345;
	size_t bad = 0;

	/* one stray byte after every length of plain text */
	for (size_t at = 0; at < 40; at++) {
		memset(buf, 'a', sizeof(buf));
		buf[at] = 0xff;
		assert_false(utf8_valid((char *)buf, 40));
		buf[at] = 0xc3;         /* a lead byte cut off by the end */
		assert_int_equal(utf8_valid((char *)buf, at + 1), 0);
		buf[at + 1] = 0xa9;     /* é */
		assert_true(utf8_valid((char *)buf, at + 2));
	}
	/* random mixes of ASCII and multi-byte bytes agree with libc */
	assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 47) + 1;

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (x >> 16) % 8 ? (unsigned char)('a' + (x >> 8) % 26) :
				 (unsigned char)(0x80 + (x >> 20) % 0x78);
		}
		assert_int_equal(utf8_valid((char *)buf, n),
				 utf8_valid_libc(buf, n));
		bad += !utf8_valid_libc(buf, n);
	}
	assert_true(bad > 1000 && bad < 19000);   /* both kinds were met */
	setlocale(LC_CTYPE, "C");
}

static void test_word_set(void **state)
{
	static const char *const words[] = {
		"aan", "al", "als", "dat", "de", "een", "het", "ik", "je",
		"niet", "ook", "u", "wat", "ze",
	};
	static struct word_set set = WORD_SET(words);
	char w[4];
	size_t in = 0;

	/* every word, and nothing else of up to three letters */
	for (size_t k = 0; k < ARRAY_LEN(words); k++)
		assert_true(word_set_has(&set, words[k], strlen(words[k])));
	for (int a = 'a'; a <= 'z'; a++)
		for (int b = 'a' - 1; b <= 'z'; b++)
			for (int c = 'a' - 1; c <= 'z'; c++) {
				size_t n = 1;

				w[0] = (char)a;
				if (b >= 'a') {
					w[n++] = (char)b;
					if (c >= 'a')
						w[n++] = (char)c;
				} else if (c >= 'a') {
					continue;
				}
				int want = 0;

				for (size_t k = 0; k < ARRAY_LEN(words); k++)
					want |= strlen(words[k]) == n &&
						!memcmp(words[k], w, n);
				assert_int_equal(word_set_has(&set, w, n), want);
				in += (size_t)word_set_has(&set, w, n);
			}
	assert_int_equal(in, 13);   /* all but "niet" */
	/* a prefix of a word is no word: "da" of "dat", "nie" */
	assert_false(word_set_has(&set, "da", 2));
	assert_false(word_set_has(&set, "nie", 3));
	assert_true(word_set_has(&set, "niet", 4));
}

static void test_html_escape(void **state)
{
	struct sbuf sb;

	sbuf_init(&sb);
	html_escape(&sb, "<b>\"a\" & 'b'</b>\nx\ty\x01\xff", "<br>");
	assert_string_equal(sbuf_str(&sb), "&lt;b&gt;&quot;a&quot; &amp; "
			    "&#39;b&#39;&lt;/b&gt;<br>x y\xef\xbf\xbd");
	sbuf_reset(&sb);
	html_escape(&sb, "a\nb", " ");
	assert_string_equal(sbuf_str(&sb), "a b");
	sbuf_release(&sb);
}

static void test_hash(void **state)
{
	/* the published FNV-1a test vectors */
	assert_true(hash_fnv64(HASH_FNV64_START, "", 0) ==
		    0xcbf29ce484222325ull);
	assert_true(hash_fnv64(HASH_FNV64_START, "a", 1) ==
		    0xaf63dc4c8601ec8cull);
	assert_true(hash_fnv64(HASH_FNV64_START, "foobar", 6) ==
		    0x85944171f73967e8ull);
	assert_true(hash_fnv32(HASH_FNV32_START, "a", 1) == 0xe40c292cu);
	assert_true(hash_fnv32(HASH_FNV32_START, "foobar", 6) ==
		    0xbf9cf968u);
	/* from a state: the same as all at once */
	assert_true(hash_fnv64(hash_fnv64(HASH_FNV64_START, "foo", 3),
			       "bar", 3) ==
		    hash_fnv64(HASH_FNV64_START, "foobar", 6));
}

static void test_random_wipe(void **state)
{
	unsigned char a[32], b[32];
	char *s = xstrdup("geheim");

	assert_int_equal(random_bytes(a, sizeof(a)), 0);
	assert_int_equal(random_bytes(b, sizeof(b)), 0);
	/* 2^-256 to fail by chance */
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(random_bytes(a, 0), 0);
	wipe_free(s, strlen(s));
	wipe_free(NULL, 10);
}

static void test_json_type_name(void **state)
{
	json_t *v = json_pack("[{}, [], s, i, f, b, b, n]", "x", 1, 1.5, 1, 0);

	assert_non_null(v);
	assert_string_equal(json_type_name(json_array_get(v, 0)),
			    "een object { \xe2\x80\xa6 }");
	assert_string_equal(json_type_name(json_array_get(v, 1)),
			    "een lijst [ \xe2\x80\xa6 ]");
	assert_string_equal(json_type_name(json_array_get(v, 2)), "een tekst");
	assert_string_equal(json_type_name(json_array_get(v, 3)),
			    "een geheel getal");
	assert_string_equal(json_type_name(json_array_get(v, 4)),
			    "een kommagetal");
	assert_string_equal(json_type_name(json_array_get(v, 5)), "true");
	assert_string_equal(json_type_name(json_array_get(v, 6)), "false");
	assert_string_equal(json_type_name(json_array_get(v, 7)), "null");
	json_decref(v);
}

static void test_json_text_check(void **state)
{
	static const struct {
		const char *json;
		int multiline;
		const char *want;  /* the reason, or NULL for accepted */
	} cases[] = {
		{ "[\"Sandra\"]", 0, NULL },
		{ "[\"twee\\nregels\"]", 1, NULL },
		{ "[\"twee\\nregels\"]", 0,
		  "mag geen regeleinde of tab bevatten" },
		{ "[\"\"]", 0, "mag niet leeg zijn" },
		{ "[\" \\n \"]", 1, "mag niet leeg zijn" },
		{ "[\"a\\u0007b\"]", 1,
		  "bevat een onzichtbaar stuurteken (byte 2)" },
		{ "[\"0123456789012345678901\"]", 0,
		  "te lang (22 bytes, hooguit 20)" },
		{ "[12]", 0, "verwacht een tekst, niet een geheel getal" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		json_t *a = json_loads(cases[i].json, 0, NULL);
		struct sbuf why;
		const char *got;

		assert_non_null(a);
		sbuf_init(&why);
		got = json_text_check(json_array_get(a, 0), 20,
				      cases[i].multiline, &why);
		if (cases[i].want) {
			assert_null(got);
			assert_string_equal(sbuf_str(&why), cases[i].want);
		} else {
			assert_non_null(got);
			assert_int_equal(why.len, 0);
		}
		sbuf_release(&why);
		json_decref(a);
	}
}

static void test_jansson_uses_xmalloc(void **state)
{
	json_malloc_t m = NULL;
	json_free_t f = NULL;
	json_t *j;

	jansson_use_xmalloc();
	json_get_alloc_funcs(&m, &f);
	assert_ptr_equal(m, xmalloc);
	assert_ptr_equal(f, free);
	/* and jansson still works through them */
	j = json_pack("{s:s}", "a", "b");
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "a")), "b");
	json_decref(j);
}

static void test_xsnprintf_fits(void **state)
{
	char buf[8];

	assert_int_equal(xsnprintf(buf, sizeof(buf), "s%d-%s", 12, "ab"), 6);
	assert_string_equal(buf, "s12-ab");
	/* exactly full: 7 characters and the NUL */
	assert_int_equal(xsnprintf(buf, sizeof(buf), "%s", "1234567"), 7);
	assert_string_equal(buf, "1234567");
}

/* One byte too many is a bug: the process aborts instead of going on
 * with a cut key. */
static void test_xsnprintf_aborts(void **state)
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[8];

		/* keep the child's abort message out of the test output */
		if (!freopen("/dev/null", "w", stderr))
			_exit(3);
		xsnprintf(buf, sizeof(buf), "%s", "12345678");
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void test_cut_on_character(void **state)
{
	char buf[10];

	assert_int_equal(snprintf_cut(buf, sizeof(buf), "%s", "kort"), 0);
	assert_string_equal(buf, "kort");
	/* 10 bytes: "abcdef" + "…" (3 bytes) + NUL */
	assert_int_equal(snprintf_cut(buf, sizeof(buf), "%s",
				      "abcdefghijk"), 1);
	assert_string_equal(buf, "abcdef\xe2\x80\xa6");
	/* a cut inside "ë" (bytes 5 and 6) drops the whole character */
	assert_int_equal(snprintf_cut(buf, sizeof(buf), "%s",
				      "abcde\xc3\xabxyz"), 1);
	assert_string_equal(buf, "abcde\xe2\x80\xa6");
}

static void test_err_set_long(void **state)
{
	struct err err;
	char big[3000];
	size_t n;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(&err, "%s", big);
	n = strlen(err.msg);
	assert_int_equal(n, sizeof(err.msg) - 1);
	assert_memory_equal(err.msg + n - 3, "\xe2\x80\xa6", 3);
	err_set(NULL, "%s", big);  /* NULL is allowed */
}

/* The arena: blocks keep their contents and alignment, never overlap,
 * big ones get a chunk of their own without losing the room of the one
 * filling, arena_owns knows its own blocks and no others, and release
 * leaves it empty and usable (valgrind: no leak, no stray write). */
static void test_arena(void **state)
{
	enum { N = 3000 };
	struct arena a;
	unsigned char *blk[N];
	size_t len[N];
	unsigned char *big, *after;
	char *heap = xmalloc(16);
	char local = 0;

	(void)state;
	arena_init(&a);
	assert_int_equal(arena_owns(&a, heap), 0);
	for (size_t i = 0; i < N; i++) {
		size_t al = (size_t)1 << (i % 4);   /* 1, 2, 4, 8 */

		len[i] = 1 + i * 7 % 61;
		blk[i] = arena_alloc(&a, len[i], al);
		assert_int_equal((uintptr_t)blk[i] % al, 0);
		memset(blk[i], (int)(i & 0xff), len[i]);
	}
	/* more than one chunk was used, and nothing overwrote anything */
	assert_true(a.bytes > ARENA_CHUNK);
	for (size_t i = 0; i < N; i++) {
		for (size_t k = 0; k < len[i]; k++)
			assert_int_equal(blk[i][k], i & 0xff);
		assert_int_equal(arena_owns(&a, blk[i]), 1);
		assert_int_equal(arena_owns(&a, blk[i] + len[i] - 1), 1);
	}
	/* a big block, then a small one still fits where the last small
	 * one ended */
	after = blk[N - 1] + len[N - 1];
	big = arena_alloc(&a, ARENA_CHUNK, 8);
	memset(big, 0x5a, ARENA_CHUNK);
	assert_int_equal(arena_owns(&a, big + ARENA_CHUNK - 1), 1);
	assert_ptr_equal(arena_alloc(&a, 1, 1), after);
	assert_int_equal(blk[N - 1][len[N - 1] - 1], (N - 1) & 0xff);
	/* a copy, and a zero-length block that is still the arena's */
	{
		static const char text[] = "schuldhulpverlening";
		char *cp = arena_dup(&a, text, sizeof(text), 1);

		assert_string_equal(cp, text);
		assert_ptr_not_equal(cp, text);
		assert_int_equal(arena_owns(&a, arena_alloc(&a, 0, 8)), 1);
	}
	assert_int_equal(arena_owns(&a, heap), 0);
	assert_int_equal(arena_owns(&a, &local), 0);
	assert_int_equal(arena_owns(&a, NULL), 0);
	arena_release(&a);
	assert_null(a.chunk);
	assert_int_equal(a.bytes, 0);
	assert_int_equal(arena_owns(&a, blk[0]), 0);
	/* usable again after release; a big block first */
	big = arena_alloc(&a, ARENA_CHUNK, 16);
	assert_int_equal((uintptr_t)big % 16, 0);
	assert_int_equal(arena_owns(&a, big), 1);
	blk[0] = arena_alloc(&a, 3, 1);
	assert_int_equal(arena_owns(&a, blk[0]), 1);
	assert_true(blk[0] < big || blk[0] >= big + ARENA_CHUNK);
	arena_release(&a);
	free(heap);
}

/* The pool: equal bytes give the same block, other bytes or a stricter
 * alignment another; sealing drops the index, not the blocks; the
 * blocks live until the last reference goes (valgrind: no leak, no use
 * after free). */
static void test_pool(void **state)
{
	struct pool *p = pool_new(), *q;
	static const char text[] = "hallo daar";
	char copy[sizeof(text)];
	const char *a, *b, *c;
	const uint32_t *w1, *w2;
	uint32_t words[4] = { 7, 8, 9, 10 };
	const void *blk[500];

	(void)state;
	memcpy(copy, text, sizeof(text));
	a = pool_intern(p, text, sizeof(text), 1);
	b = pool_intern(p, copy, sizeof(copy), 1);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, text);
	assert_string_equal(a, "hallo daar");
	c = pool_intern(p, "hallo", 6, 1);
	assert_ptr_not_equal(a, c);
	assert_null(pool_intern(p, text, 0, 1));
	w1 = pool_intern(p, words, sizeof(words), _Alignof(uint32_t));
	assert_int_equal((uintptr_t)w1 % _Alignof(uint32_t), 0);
	assert_int_equal(w1[3], 10);
	words[3] = 11;
	w2 = pool_intern(p, words, sizeof(words), _Alignof(uint32_t));
	assert_ptr_not_equal(w1, w2);
	assert_int_equal(w1[3], 10);
	assert_int_equal(pool_bytes(p), sizeof(text) + 6 + 2 * sizeof(words));
	assert_int_equal(pool_asked(p), 2 * sizeof(text) + 6 +
			 2 * sizeof(words));
	/* enough blocks to grow the index, each found again after */
	for (size_t i = 0; i < 500; i++) {
		char k[16];
		int n = snprintf(k, sizeof(k), "k%zu", i);

		blk[i] = pool_intern(p, k, (size_t)n + 1, 1);
	}
	for (size_t i = 0; i < 500; i++) {
		char k[16];
		int n = snprintf(k, sizeof(k), "k%zu", i);

		assert_ptr_equal(pool_intern(p, k, (size_t)n + 1, 1),
				 blk[i]);
	}
	/* sealed: the blocks stay, new ones are still interned */
	pool_seal(p);
	assert_string_equal(a, "hallo daar");
	c = pool_intern(p, "nieuw", 6, 1);
	assert_ptr_equal(pool_intern(p, "nieuw", 6, 1), c);
	q = pool_ref(p);
	assert_ptr_equal(q, p);
	pool_unref(p);
	assert_string_equal(a, "hallo daar");   /* q still holds it */
	assert_string_equal(blk[499], "k499");
	pool_unref(q);
	pool_unref(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_quote_short),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_random_wipe),
		cmocka_unit_test(test_json_type_name),
		cmocka_unit_test(test_json_text_check),
		cmocka_unit_test(test_jansson_uses_xmalloc),
		cmocka_unit_test(test_xsnprintf_fits),
		cmocka_unit_test(test_xsnprintf_aborts),
		cmocka_unit_test(test_cut_on_character),
		cmocka_unit_test(test_err_set_long),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_word_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
