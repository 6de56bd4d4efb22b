/* test_util.c - the one hash, random source, wipe and JSON type name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_random_wipe),
		cmocka_unit_test(test_json_type_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
