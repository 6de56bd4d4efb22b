/* test_e2ee.c - the encryption module's promises that need no server:
 * where the pickle key comes from and when it is refused, and that an
 * identity once made is kept, never silently replaced. (The protocol
 * itself is tested against a real client: tests/integration/test_e2ee.py.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "e2ee.h"
#include "mx.h"
#include "store.h"
#include "util.h"

struct fx {
	char dir[64];
	char db[128];
	char key[128];
	struct config cfg;
};

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/oef-e2ee-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->db, sizeof(fx->db), "%s/bot.db", fx->dir);
	snprintf(fx->key, sizeof(fx->key), "%s/pickle.key", fx->dir);
	fx->cfg.user_id = "@bot:localhost";
	fx->cfg.store = fx->db;
	fx->cfg.rotation_messages = 100;
	fx->cfg.rotation_ms = 604800000;
	unsetenv("OEFENKAMER_PICKLE_KEY");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char p[256];
	static const char *const files[] = { "bot.db", "bot.db-wal",
					     "bot.db-shm", "pickle.key" };

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", fx->dir, files[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	unsetenv("OEFENKAMER_PICKLE_KEY");
	free(fx);
	return 0;
}

static void write_key(struct fx *fx, const char *text, mode_t mode)
{
	FILE *f;

	unlink(fx->key);
	f = fopen(fx->key, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(fx->key, mode), 0);
	fx->cfg.pickle_key_file = fx->key;
}

static struct store *open_store(struct fx *fx)
{
	struct store *st = NULL;
	struct err err;

	assert_int_equal(store_open(fx->db, &st, &err), 0);
	return st;
}

/* Open the identity with the configured key; returns its ed25519 key
 * (caller frees) or NULL with err filled. */
static char *identity(struct fx *fx, struct store *st, struct err *err)
{
	char *key = NULL;
	size_t len = 0;
	struct e2ee *e = NULL;
	char *ed = NULL;
	int rc = e2ee_pickle_key(&fx->cfg, st, &key, &len, err);

	if (rc != 0)
		return NULL;
	if (e2ee_open(st, NULL, &fx->cfg, "DEVICE1", key, len, &e, err) < 0)
		return NULL;
	ed = xstrdup(e2ee_identity(e));
	e2ee_free(e);
	return ed;
}

static void test_no_key_is_off(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	char *key = (char *)"x";
	size_t len = 7;
	struct err err;

	assert_int_equal(e2ee_pickle_key(&fx->cfg, st, &key, &len, &err), 1);
	assert_null(key);
	assert_int_equal(len, 0);
	store_free(st);
}

static void test_key_sources(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	char *key = NULL;
	size_t len = 0;
	struct err err;

	/* from the file, one trailing newline stripped */
	write_key(fx, "0123456789abcdefXYZ\n", 0600);
	assert_int_equal(e2ee_pickle_key(&fx->cfg, st, &key, &len, &err), 0);
	assert_string_equal(key, "0123456789abcdefXYZ");
	assert_int_equal(len, 19);
	free(key);

	/* the environment wins over the file */
	setenv("OEFENKAMER_PICKLE_KEY", "uit-de-omgeving-42", 1);
	assert_int_equal(e2ee_pickle_key(&fx->cfg, st, &key, &len, &err), 0);
	assert_string_equal(key, "uit-de-omgeving-42");
	free(key);
	unsetenv("OEFENKAMER_PICKLE_KEY");

	/* a file others can read is refused, not read */
	write_key(fx, "0123456789abcdefXYZ\n", 0644);
	assert_int_equal(e2ee_pickle_key(&fx->cfg, st, &key, &len, &err), -1);
	assert_null(key);
	assert_non_null(strstr(err.msg, "chmod 600"));

	/* a missing file before any identity exists: how to make one */
	unlink(fx->key);
	assert_int_equal(e2ee_pickle_key(&fx->cfg, st, &key, &len, &err), -1);
	assert_non_null(strstr(err.msg, "Maak een nieuwe sleutel"));

	/* too short to be a key */
	write_key(fx, "kort\n", 0600);
	assert_int_equal(e2ee_pickle_key(&fx->cfg, st, &key, &len, &err), -1);
	assert_null(key);
	assert_non_null(strstr(err.msg, "te kort"));
	store_free(st);
}

static void test_identity_kept(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	struct err err;
	char *first, *again;

	write_key(fx, "een-goede-lange-sleutel-0001\n", 0600);
	first = identity(fx, st, &err);
	assert_non_null(first);
	store_free(st);

	/* the same key opens the same identity after a restart */
	st = open_store(fx);
	again = identity(fx, st, &err);
	assert_non_null(again);
	assert_string_equal(first, again);
	free(again);
	store_free(st);
	free(first);
}

static void test_wrong_or_lost_key(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	struct err err;
	char *ed, *key = NULL;
	size_t len = 0;

	write_key(fx, "een-goede-lange-sleutel-0001\n", 0600);
	ed = identity(fx, st, &err);
	assert_non_null(ed);

	/* a different key: an error saying what to do, no new identity */
	write_key(fx, "een-andere-lange-sleutel-0002\n", 0600);
	assert_null(identity(fx, st, &err));
	assert_non_null(strstr(err.msg, "pickle-sleutel"));
	assert_non_null(strstr(err.msg, "niet stilletjes"));

	/* the key file gone: says it is the pickle key, and what to do */
	unlink(fx->key);
	assert_int_equal(e2ee_pickle_key(&fx->cfg, st, &key, &len, &err), -1);
	assert_non_null(strstr(err.msg, "pickle-sleutel is niet te lezen"));
	assert_non_null(strstr(err.msg, "sleutel van toen terug"));

	/* no key at all while the store has an identity: an error too */
	fx->cfg.pickle_key_file = NULL;
	assert_int_equal(e2ee_pickle_key(&fx->cfg, st, &key, &len, &err), -1);
	assert_non_null(strstr(err.msg, "geen pickle-sleutel"));

	/* the right key still opens the same identity */
	write_key(fx, "een-goede-lange-sleutel-0001\n", 0600);
	{
		char *again = identity(fx, st, &err);

		assert_non_null(again);
		assert_string_equal(ed, again);
		free(again);
	}
	free(ed);
	store_free(st);
}

static void test_other_device_refused(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	struct err err;
	char *key = NULL, *ed;
	size_t len = 0;
	struct e2ee *e = NULL;

	write_key(fx, "een-goede-lange-sleutel-0001\n", 0600);
	ed = identity(fx, st, &err);
	assert_non_null(ed);
	free(ed);
	assert_int_equal(e2ee_pickle_key(&fx->cfg, st, &key, &len, &err), 0);
	assert_int_equal(e2ee_open(st, NULL, &fx->cfg, "DEVICE2", key, len, &e,
				   &err), -1);
	assert_null(e);
	assert_non_null(strstr(err.msg, "DEVICE1"));
	store_free(st);
}

/* A state event of room, parsed as mx hands it over. */
static void room_state(struct e2ee *e, const char *type, const char *key,
		       const char *content)
{
	char buf[512];
	json_error_t je;
	json_t *j;
	struct mx_event ev;
	struct err err;

	snprintf(buf, sizeof(buf), "{\"type\":\"%s\",\"state_key\":"
		 "\"%s\",\"sender\":\"@trainee:localhost\","
		 "\"event_id\":\"$%s%s\",\"content\":%s}", type, key, type,
		 key, content);
	j = json_loads(buf, 0, &je);
	assert_non_null(j);
	assert_int_equal(mx_event_take(j, "!dm:localhost", &ev), 0);
	json_decref(j);
	assert_int_equal(e2ee_room_event(e, &ev, &err), 0);
	mx_event_release(&ev);
}

#define JOIN "{\"membership\":\"join\"}"

/* Where the bot explains a cancelled verification: an encrypted room
 * whose members are the bot and the asker, nobody else; and it claims
 * cross-signing only once it is done. */
static void test_direct_room(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_store(fx);
	struct err err;
	char *key = NULL;
	size_t len = 0;
	struct e2ee *e = NULL;

	write_key(fx, "een-goede-lange-sleutel-0001\n", 0600);
	assert_int_equal(e2ee_pickle_key(&fx->cfg, st, &key, &len, &err), 0);
	assert_int_equal(e2ee_open(st, NULL, &fx->cfg, "DEVICE1", key, len, &e,
				   &err), 0);
	assert_int_equal(e2ee_cross_signed(e), 0);
	/* members of a room that is not encrypted are not tracked */
	room_state(e, "m.room.member", "@trainee:localhost", JOIN);
	room_state(e, "m.room.member", "@bot:localhost", JOIN);
	assert_int_equal(e2ee_room_is_direct(e, "!dm:localhost",
					     "@trainee:localhost"), 0);
	room_state(e, "m.room.encryption", "",
		   "{\"algorithm\":\"m.megolm.v1.aes-sha2\"}");
	room_state(e, "m.room.member", "@trainee:localhost", JOIN);
	room_state(e, "m.room.member", "@bot:localhost", JOIN);
	assert_int_equal(e2ee_room_is_direct(e, "!dm:localhost",
					     "@trainee:localhost"), 1);
	assert_int_equal(e2ee_room_is_direct(e, "!dm:localhost",
					     "@coach:localhost"), 0);
	assert_int_equal(e2ee_room_is_direct(e, "!ander:localhost",
					     "@trainee:localhost"), 0);
	/* a third member: no longer theirs alone; gone again: it is */
	room_state(e, "m.room.member", "@coach:localhost",
		   "{\"membership\":\"invite\"}");
	assert_int_equal(e2ee_room_is_direct(e, "!dm:localhost",
					     "@trainee:localhost"), 0);
	room_state(e, "m.room.member", "@coach:localhost",
		   "{\"membership\":\"leave\"}");
	assert_int_equal(e2ee_room_is_direct(e, "!dm:localhost",
					     "@trainee:localhost"), 1);
	e2ee_free(e);
	store_free(st);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_no_key_is_off),
		T(test_key_sources),
		T(test_identity_kept),
		T(test_wrong_or_lost_key),
		T(test_other_device_refused),
		T(test_direct_room),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
