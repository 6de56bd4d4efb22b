/* test_room.c - the room table's index by id and its due heap, on a bare
 * struct bot (no store, no network): many rooms added, found and
 * removed against a plain list kept beside them; the heap's order with
 * equal times, re-timed rooms and removal from the middle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot_int.h"
#include "room.h"
#include "util.h"

static struct bot *bare(void)
{
	return calloc(1, sizeof(struct bot));
}

static void bare_free(struct bot *b)
{
	room_remove_all(b);
	free(b);
}

static void room_name(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "!kamer%u:localhost", i);
}

/* Everything the table promises about itself: each room at its slot,
 * found through the index, the index at most half full and holding
 * exactly the rooms; the heap ordered, each room at its due_pos, and
 * answer_at set exactly for the rooms in it. */
static void check_table(struct bot *b)
{
	size_t in_index = 0, in_heap = 0;

	assert_true(b->nrooms <= b->by_id_cap / 2 || b->nrooms == 0);
	for (size_t i = 0; i < b->by_id_cap; i++)
		if (b->by_id[i])
			in_index++;
	assert_int_equal(in_index, b->nrooms);
	for (size_t i = 0; i < b->nrooms; i++) {
		struct room *r = b->rooms[i];

		assert_int_equal(r->slot, i);
		assert_ptr_equal(room_find(b, r->id), r);
		assert_int_equal(r->answer_at != 0, r->due_pos != SIZE_MAX);
		if (r->due_pos != SIZE_MAX)
			in_heap++;
	}
	assert_int_equal(in_heap, b->ndue);
	for (size_t i = 0; i < b->ndue; i++) {
		assert_int_equal(b->due[i]->due_pos, i);
		if (i > 0)
			assert_true(b->due[(i - 1) / 2]->answer_at <=
				    b->due[i]->answer_at);
	}
}

static void test_add_find_remove_many(void **state)
{
	enum { N = 5000 };
	struct bot *b = bare();
	struct room **kept = calloc(N, sizeof(*kept));
	char id[64];

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		room_name(id, sizeof(id), i);
		kept[i] = room_add(b, id, i % 2 ? "@trainee:localhost" : NULL);
		assert_string_equal(kept[i]->id, id);
	}
	assert_int_equal(b->nrooms, N);
	/* growth moved no room; adding again gives the same room */
	for (unsigned i = 0; i < N; i++) {
		room_name(id, sizeof(id), i);
		assert_ptr_equal(room_find(b, id), kept[i]);
	}
	room_name(id, sizeof(id), 17);
	assert_ptr_equal(room_add(b, id, NULL), kept[17]);
	assert_int_equal(b->nrooms, N);
	assert_null(room_find(b, "!nergens:localhost"));
	check_table(b);

	/* every third goes; the rest stay where they were */
	for (unsigned i = 0; i < N; i += 3) {
		room_name(id, sizeof(id), i);
		room_remove(b, id);
		kept[i] = NULL;
	}
	room_remove(b, "!nergens:localhost");   /* not there: nothing */
	for (unsigned i = 0; i < N; i++) {
		room_name(id, sizeof(id), i);
		assert_ptr_equal(room_find(b, id), kept[i]);
	}
	assert_int_equal(b->nrooms, N - (N + 2) / 3);
	check_table(b);

	/* and they come back */
	for (unsigned i = 0; i < N; i += 3) {
		room_name(id, sizeof(id), i);
		kept[i] = room_add(b, id, NULL);
	}
	assert_int_equal(b->nrooms, N);
	check_table(b);
	free(kept);
	bare_free(b);
}

/* Random adds and removes over few ids in a small table, so that probe
 * runs collide and wrap around the end: after each, every id is found
 * exactly when the list beside says it is in. */
static void test_index_against_list(void **state)
{
	enum { IDS = 40, OPS = 20000 };
	struct bot *b = bare();
	struct room *in[IDS] = { 0 };
	uint64_t x = 88172645463325252ull;   /* xorshift64, fixed seed */
	char id[64];

	(void)state;
	for (unsigned op = 0; op < OPS; op++) {
		unsigned k;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = (unsigned)(x % IDS);
		room_name(id, sizeof(id), k);
		if (in[k]) {
			room_remove(b, id);
			in[k] = NULL;
		} else {
			in[k] = room_add(b, id, NULL);
		}
		for (unsigned j = 0; j < IDS; j++) {
			room_name(id, sizeof(id), j);
			assert_ptr_equal(room_find(b, id), in[j]);
		}
	}
	check_table(b);
	bare_free(b);
}

/* Take the heap's first until it is empty: the times come out in order
 * and every room exactly once. */
static size_t drain(struct bot *b, int64_t *last, int *seen, size_t nseen)
{
	size_t n = 0;

	*last = 0;
	for (;;) {
		struct room *r = room_due_first(b);
		unsigned k;

		if (!r)
			break;
		assert_true(r->answer_at >= *last);
		*last = r->answer_at;
		assert_int_equal(sscanf(r->id, "!kamer%u:", &k), 1);
		assert_true(k < nseen);
		assert_int_equal(seen[k], 0);
		seen[k] = 1;
		room_due_clear(b, r);
		assert_int_equal(r->answer_at, 0);
		assert_int_equal(r->due_pos, SIZE_MAX);
		n++;
		check_table(b);
	}
	return n;
}

static void test_due_order(void **state)
{
	enum { N = 200 };
	struct bot *b = bare();
	struct room *r[N];
	int seen[N] = { 0 };
	int64_t last;
	char id[64];

	(void)state;
	assert_null(room_due_first(b));
	for (unsigned i = 0; i < N; i++) {
		room_name(id, sizeof(id), i);
		r[i] = room_add(b, id, NULL);
	}
	/* many equal times, added in descending order of time */
	for (unsigned i = 0; i < N; i++)
		room_due_set(b, r[i], 1000 + (int64_t)(N - i) / 10);
	check_table(b);
	assert_int_equal(room_due_first(b)->answer_at, 1000);
	/* setting a time again moves the room, in either direction, and
	 * does not add it twice */
	room_due_set(b, r[5], 1);
	assert_ptr_equal(room_due_first(b), r[5]);
	room_due_set(b, r[5], 5000);
	room_due_set(b, r[150], 5000);
	assert_int_equal(b->ndue, N);
	check_table(b);
	/* removal from the middle: cleared, or the room removed */
	room_due_clear(b, r[100]);
	room_due_clear(b, r[100]);   /* twice: nothing */
	room_name(id, sizeof(id), 101);
	room_remove(b, id);
	room_due_set(b, r[102], 0);  /* 0 clears */
	assert_int_equal(b->ndue, N - 3);
	check_table(b);
	assert_int_equal(drain(b, &last, seen, N), N - 3);
	assert_int_equal(last, 5000);
	assert_int_equal(seen[100] + seen[101] + seen[102], 0);
	assert_null(room_due_first(b));
	/* a room taken out of the heap can come back */
	room_due_set(b, r[100], 7);
	assert_ptr_equal(room_due_first(b), r[100]);
	check_table(b);
	bare_free(b);
}

/* Rooms whose session ends leave the heap with it; reload's
 * room_remove_all empties everything. */
static void test_due_clear_session_and_all(void **state)
{
	struct bot *b = bare();
	struct room *a, *c;

	(void)state;
	a = room_add(b, "!a:localhost", NULL);
	c = room_add(b, "!c:localhost", NULL);
	a->trainee = xstrdup("@trainee:localhost");
	room_due_set(b, a, 10);
	room_due_set(b, c, 20);
	room_clear_session(b, a);
	assert_null(a->trainee);
	assert_ptr_equal(room_due_first(b), c);
	check_table(b);
	room_remove_all(b);
	assert_int_equal(b->nrooms, 0);
	assert_null(room_due_first(b));
	assert_null(room_find(b, "!c:localhost"));
	/* usable again afterwards */
	a = room_add(b, "!a:localhost", NULL);
	assert_ptr_equal(room_find(b, "!a:localhost"), a);
	check_table(b);
	bare_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find_remove_many),
		cmocka_unit_test(test_index_against_list),
		cmocka_unit_test(test_due_order),
		cmocka_unit_test(test_due_clear_session_and_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
