/* test_roles.c - who is trainee, coach or trainer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "roles.h"
#include "util.h"

static void test_roles(void **state)
{
	char *coaches[] = { "@coach:x" }, *trainers[] = { "@trainer:x",
							    "@coach:x" };
	struct config cfg;
	const struct mx_power_level levels[] = {
		{ "@maker:x", 100 }, { "@ervaring:x", 50 }, { "@bot:x", 100 },
		{ "@gewoon:x", 10 },
	};
	struct roles_power *pl = roles_power_new(levels, 4);
	struct room_roles rr = { "@trainee:x", "@maker:x", pl, "@bot:x" };
	struct sbuf sb;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.coaches = coaches;
	cfg.ncoaches = 1;
	cfg.trainers = trainers;
	cfg.ntrainers = 2;
	assert_int_equal(roles_of(&cfg, &rr, "@trainee:x"), ROLE_TRAINEE);
	assert_int_equal(roles_of(&cfg, &rr, "@coach:x"),
			 ROLE_COACH | ROLE_TRAINER);
	assert_int_equal(roles_of(&cfg, &rr, "@trainer:x"), ROLE_TRAINER);
	/* power level 50 from the creator makes a coach; the creator's own
	 * 100, the bot's, or a low level do not */
	assert_int_equal(roles_of(&cfg, &rr, "@ervaring:x"), ROLE_COACH);
	assert_int_equal(roles_of(&cfg, &rr, "@maker:x"), 0);
	assert_int_equal(roles_of(&cfg, &rr, "@bot:x"), 0);
	assert_int_equal(roles_of(&cfg, &rr, "@gewoon:x"), 0);
	assert_int_equal(roles_of(&cfg, &rr, NULL), 0);
	sbuf_init(&sb);
	roles_name(ROLE_COACH | ROLE_TRAINER, &sb);
	assert_string_equal(sb.buf, "coach en trainer");
	sbuf_reset(&sb);
	roles_name(0, &sb);
	assert_string_equal(sb.buf, "deelnemer");
	sbuf_release(&sb);
	free(pl);
}

/* The levels a room keeps: only those at a coach's level, in the order
 * given, in one block; the same from the store's JSON text. */
static void test_power(void **state)
{
	const struct mx_power_level levels[] = {
		{ "@maker:x", 100 }, { "@gewoon:x", 10 }, { "@ervaring:x", 50 },
		{ "@bijna:x", 49 },
	};
	const struct mx_power_level low[] = { { "@gewoon:x", 0 } };
	struct roles_power *p = roles_power_new(levels, 4);

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->n, 2);
	assert_string_equal(p->v[0].user, "@maker:x");
	assert_int_equal(p->v[0].level, 100);
	assert_string_equal(p->v[1].user, "@ervaring:x");
	assert_int_equal(roles_power_level(p, "@ervaring:x"), 50);
	assert_int_equal(roles_power_level(p, "@bijna:x"), 0);
	assert_int_equal(roles_power_level(p, "@gewoon:x"), 0);
	assert_int_equal(roles_power_level(p, NULL), 0);
	assert_int_equal(roles_power_level(NULL, "@maker:x"), 0);
	free(p);
	assert_null(roles_power_new(low, 1));
	assert_null(roles_power_new(NULL, 0));

	p = roles_power_parse("{\"@maker:x\":100,\"@gewoon:x\":10,"
			      "\"@raar:x\":\"100\",\"@ervaring:x\":75}");
	assert_non_null(p);
	assert_int_equal(p->n, 2);
	assert_string_equal(p->v[1].user, "@ervaring:x");
	assert_int_equal(roles_power_level(p, "@ervaring:x"), 75);
	/* a level that is not a number counts for nothing, as from sync */
	assert_int_equal(roles_power_level(p, "@raar:x"), 0);
	free(p);
	assert_null(roles_power_parse("{\"@gewoon:x\":10}"));
	assert_null(roles_power_parse("[1]"));
	assert_null(roles_power_parse("kapot"));
	assert_null(roles_power_parse(NULL));
}

/* Access rules: who they let in, and how a refusal names them. */
static void test_access(void **state)
{
	const struct {
		unsigned who;
		const char *text;
	} cases[] = {
		{ ROLE_ANYONE, "iedereen" },
		{ ROLE_TRAINEE | ROLE_COACH | ROLE_TRAINER,
		  "de trainee, een coach of een trainer" },
		{ ROLE_COACH | ROLE_TRAINER, "een coach of een trainer" },
		{ ROLE_TRAINER, "een trainer" },
		{ 0, "niemand" },
	};
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sbuf_reset(&sb);
		roles_who(cases[i].who, &sb);
		assert_string_equal(sb.buf, cases[i].text);
	}
	sbuf_release(&sb);
	assert_true(roles_allow(ROLE_ANYONE, 0));
	assert_true(roles_allow(ROLE_COACH | ROLE_TRAINER, ROLE_TRAINER));
	assert_false(roles_allow(ROLE_COACH | ROLE_TRAINER, ROLE_TRAINEE));
	assert_false(roles_allow(ROLE_TRAINEE | ROLE_COACH, 0));
	assert_false(roles_allow(0, ROLE_TRAINEE | ROLE_COACH |
				 ROLE_TRAINER));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_access),
		cmocka_unit_test(test_power),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
