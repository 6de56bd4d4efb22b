/* test_util.c - what util.c adds for issue 13: jansson allocates through
 * the x* family once jansson_use_xmalloc() ran; xsnprintf aborts rather
 * than cut; snprintf_cut and err_set cut a message on a character
 * boundary with "…". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "util.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jansson_uses_xmalloc),
		cmocka_unit_test(test_xsnprintf_fits),
		cmocka_unit_test(test_xsnprintf_aborts),
		cmocka_unit_test(test_cut_on_character),
		cmocka_unit_test(test_err_set_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
