/* test_verify.c - the bot's answer to key verification (verify.c):
 * which messages are recognised, the cancel's code, reason and
 * relation, and the to-device cancel as the homeserver receives it
 * (fakehttp.h: PUT /sendToDevice answered with {}). */
#include "fakehttp.h"

#include <jansson.h>

#include "mx.h"
#include "util.h"
#include "verify.h"

#define ME "@oefenkamer:localhost"
#define ROOM "!oefen:localhost"

/* ---- parsing ---- */

static json_t *to_device(const char *type, const char *content)
{
	json_error_t je;
	json_t *c = json_loads(content, 0, &je);

	assert_non_null(c);
	return json_pack("{s:s, s:s, s:o}", "type", type, "sender",
			 "@trainee:localhost", "content", c);
}

struct td_case {
	const char *type;
	const char *content;
	int want;                 /* verify_parse_to_device's answer */
	enum verify_step step;
	const char *code;
	const char *device;
};

static void test_parse_to_device(void **state)
{
	static const struct td_case cases[] = {
		{ "m.key.verification.request",
		  "{\"transaction_id\":\"T1\",\"from_device\":\"DEV\","
		  "\"methods\":[\"m.sas.v1\"],\"timestamp\":1}",
		  1, VERIFY_REQUEST, "m.user", "DEV" },
		{ "m.key.verification.start",
		  "{\"transaction_id\":\"T2\",\"from_device\":\"DEV\","
		  "\"method\":\"m.sas.v1\"}",
		  1, VERIFY_START, "m.unknown_method", "DEV" },
		{ "m.key.verification.key", "{\"transaction_id\":\"T3\"}",
		  1, VERIFY_LATER, "m.unknown_transaction", NULL },
		{ "m.key.verification.ready",
		  "{\"transaction_id\":\"T4\",\"from_device\":\"\"}",
		  1, VERIFY_LATER, "m.unknown_transaction", NULL },
		/* never answered: a cancel, other types, no txn id */
		{ "m.key.verification.cancel",
		  "{\"transaction_id\":\"T5\",\"code\":\"m.user\"}", 0, 0,
		  NULL, NULL },
		{ "m.key.verification.bogus", "{\"transaction_id\":\"T6\"}",
		  0, 0, NULL, NULL },
		{ "m.room_key_request", "{\"transaction_id\":\"T7\"}", 0, 0,
		  NULL, NULL },
		{ "m.key.verification.request", "{\"from_device\":\"D\"}", 0,
		  0, NULL, NULL },
		{ "m.key.verification.request", "{\"transaction_id\":\"\"}",
		  0, 0, NULL, NULL },
		{ "m.key.verification.request", "{\"transaction_id\":7}", 0,
		  0, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct td_case *tc = &cases[i];
		json_t *ev = to_device(tc->type, tc->content);
		struct verify_msg m;

		assert_int_equal(verify_parse_to_device(ev, &m), tc->want);
		if (tc->want) {
			assert_int_equal(m.step, tc->step);
			assert_string_equal(verify_code(&m), tc->code);
			assert_string_equal(m.sender, "@trainee:localhost");
			if (tc->device)
				assert_string_equal(m.device, tc->device);
			else
				assert_null(m.device);
			assert_null(m.room);
			assert_non_null(m.txn);
		}
		json_decref(ev);
	}
}

/* A room event as the bot gets it from mx. */
static int room_parse(const char *json, struct verify_msg *m,
		      struct mx_event *ev)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);

	assert_non_null(j);
	assert_int_equal(mx_event_take(j, ROOM, ev), 0);
	json_decref(j);
	return verify_parse_room(ev, ME, m);
}

struct room_case {
	const char *json;
	int want;
	enum verify_step step;
	const char *code;
	const char *request;
};

static void test_parse_room(void **state)
{
	static const struct room_case cases[] = {
		/* a request to us */
		{ "{\"type\":\"m.room.message\",\"event_id\":\"$req\","
		  "\"sender\":\"@trainee:localhost\",\"content\":{"
		  "\"msgtype\":\"m.key.verification.request\",\"body\":\"x\","
		  "\"to\":\"" ME "\",\"from_device\":\"DEV\","
		  "\"methods\":[\"m.sas.v1\"]}}",
		  1, VERIFY_REQUEST, "m.user", "$req" },
		/* ... to someone else: theirs */
		{ "{\"type\":\"m.room.message\",\"event_id\":\"$req2\","
		  "\"sender\":\"@trainee:localhost\",\"content\":{"
		  "\"msgtype\":\"m.key.verification.request\",\"body\":\"x\","
		  "\"to\":\"@coach:localhost\",\"from_device\":\"DEV\","
		  "\"methods\":[\"m.sas.v1\"]}}", 0, 0, NULL, NULL },
		/* ... without "to" */
		{ "{\"type\":\"m.room.message\",\"event_id\":\"$req3\","
		  "\"sender\":\"@trainee:localhost\",\"content\":{"
		  "\"msgtype\":\"m.key.verification.request\",\"body\":\"x\"}}",
		  0, 0, NULL, NULL },
		/* our own request is never answered */
		{ "{\"type\":\"m.room.message\",\"event_id\":\"$req4\","
		  "\"sender\":\"" ME "\",\"content\":{"
		  "\"msgtype\":\"m.key.verification.request\",\"body\":\"x\","
		  "\"to\":\"" ME "\"}}", 0, 0, NULL, NULL },
		/* a start and a ready relating to a request */
		{ "{\"type\":\"m.key.verification.start\",\"event_id\":\"$s\","
		  "\"sender\":\"@trainee:localhost\",\"content\":{"
		  "\"from_device\":\"DEV\",\"method\":\"m.sas.v1\","
		  "\"m.relates_to\":{\"rel_type\":\"m.reference\","
		  "\"event_id\":\"$req\"}}}",
		  1, VERIFY_START, "m.unknown_method", "$req" },
		{ "{\"type\":\"m.key.verification.ready\",\"event_id\":\"$r\","
		  "\"sender\":\"@trainee:localhost\",\"content\":{"
		  "\"from_device\":\"DEV\",\"methods\":[\"m.sas.v1\"],"
		  "\"m.relates_to\":{\"rel_type\":\"m.reference\","
		  "\"event_id\":\"$req\"}}}",
		  1, VERIFY_LATER, "m.unexpected_message", "$req" },
		/* without the relation, or another relation */
		{ "{\"type\":\"m.key.verification.start\",\"event_id\":\"$s\","
		  "\"sender\":\"@trainee:localhost\",\"content\":{"
		  "\"method\":\"m.sas.v1\"}}", 0, 0, NULL, NULL },
		{ "{\"type\":\"m.key.verification.start\",\"event_id\":\"$s\","
		  "\"sender\":\"@trainee:localhost\",\"content\":{"
		  "\"m.relates_to\":{\"rel_type\":\"m.thread\","
		  "\"event_id\":\"$req\"}}}", 0, 0, NULL, NULL },
		/* a cancel is never answered */
		{ "{\"type\":\"m.key.verification.cancel\",\"event_id\":\"$c\","
		  "\"sender\":\"@trainee:localhost\",\"content\":{"
		  "\"code\":\"m.user\",\"reason\":\"x\","
		  "\"m.relates_to\":{\"rel_type\":\"m.reference\","
		  "\"event_id\":\"$req\"}}}", 0, 0, NULL, NULL },
		/* an ordinary message */
		{ "{\"type\":\"m.room.message\",\"event_id\":\"$t\","
		  "\"sender\":\"@trainee:localhost\",\"content\":{"
		  "\"msgtype\":\"m.text\",\"body\":\"hallo\"}}",
		  0, 0, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct room_case *tc = &cases[i];
		struct mx_event ev;
		struct verify_msg m;

		assert_int_equal(room_parse(tc->json, &m, &ev), tc->want);
		if (tc->want) {
			json_t *c = verify_cancel_content(&m, 1);
			json_t *rel = json_object_get(c, "m.relates_to");

			assert_int_equal(m.step, tc->step);
			assert_string_equal(m.room, ROOM);
			assert_null(m.txn);
			assert_string_equal(m.request, tc->request);
			assert_string_equal(json_string_value(json_object_get(
					    c, "code")), tc->code);
			assert_string_equal(json_string_value(json_object_get(
					    rel, "rel_type")), "m.reference");
			assert_string_equal(json_string_value(json_object_get(
					    rel, "event_id")), tc->request);
			assert_null(json_object_get(c, "transaction_id"));
			json_decref(c);
		}
		mx_event_release(&ev);
	}
}

/* The reason claims cross-signing only when asked to. */
static void test_reason(void **state)
{
	struct verify_msg m = { .step = VERIFY_REQUEST, .sender = "@a:x",
				.txn = "T" };
	json_t *c;

	(void)state;
	assert_non_null(strstr(verify_reason(1), "cross-sign"));
	assert_null(strstr(verify_reason(0), "cross-sign"));
	assert_non_null(strstr(verify_reason(0), "geen emoji"));
	c = verify_cancel_content(&m, 0);
	assert_string_equal(json_string_value(json_object_get(c, "reason")),
			    verify_reason(0));
	assert_string_equal(json_string_value(json_object_get(c,
			    "transaction_id")), "T");
	assert_null(json_object_get(c, "m.relates_to"));
	json_decref(c);
}

/* A sync batch's to-device messages arrive typed (and bounded). */
static void test_sync_to_device(void **state)
{
	json_t *evs = json_array(), *root;
	struct mx_sync s;

	(void)state;
	json_array_append_new(evs, to_device("m.room.encrypted", "{}"));
	for (int i = 0; i < VERIFY_MAX_PER_SYNC + 3; i++) {
		char c[64];

		snprintf(c, sizeof(c), "{\"transaction_id\":\"T%d\"}", i);
		json_array_append_new(evs, to_device(
			"m.key.verification.request", c));
	}
	root = json_pack("{s:s, s:{s:o}}", "next_batch", "s1", "to_device",
			 "events", evs);
	assert_int_equal(mx_sync_parse_root(root, &s), 0);
	assert_int_equal(s.nverify, VERIFY_MAX_PER_SYNC);
	assert_string_equal(s.verify[0].txn, "T0");
	assert_string_equal(s.verify[VERIFY_MAX_PER_SYNC - 1].txn, "T15");
	mx_sync_release(&s);
	json_decref(root);
}

/* ---- the to-device cancel, as the homeserver sees it ---- */

struct fx {
	struct server *srv;
	struct mx *mx;
	/* under srv->mu */
	int puts;
	char path[256];
	char body[2048];
};

static void route(struct server *s, struct conn *c, const char *method,
		  const char *path, const char *hdr, size_t hlen,
		  const char *body, size_t blen)
{
	struct fx *fx = s->arg;

	pthread_mutex_lock(&s->mu);
	if (!strcmp(method, "PUT")) {
		fx->puts++;
		snprintf(fx->path, sizeof(fx->path), "%s", path);
		snprintf(fx->body, sizeof(fx->body), "%.*s", (int)blen,
			 body ? body : "");
	}
	pthread_mutex_unlock(&s->mu);
	add_reply(&c->out, 200, "OK", "", "{}", 2);
}

static int puts_seen(struct fx *fx)
{
	int n;

	pthread_mutex_lock(&fx->srv->mu);
	n = fx->puts;
	pthread_mutex_unlock(&fx->srv->mu);
	return n;
}

static int no_sync(void *arg, const struct mx_sync *s)
{
	(void)arg;
	(void)s;
	return 0;
}

static void cancel_sent(struct fx *fx, const struct verify_msg *m,
			json_t **body, char *path, size_t n)
{
	int before = puts_seen(fx);
	int64_t t0 = mono_ms();
	json_error_t je;

	verify_cancel_to_device(fx->mx, m, 1);
	while (puts_seen(fx) == before) {
		assert_true(mono_ms() - t0 < 10000);
		assert_true(mx_poll(fx->mx, 10, -1) >= 0);
	}
	pthread_mutex_lock(&fx->srv->mu);
	snprintf(path, n, "%s", fx->path);
	*body = json_loads(fx->body, 0, &je);
	pthread_mutex_unlock(&fx->srv->mu);
	assert_non_null(*body);
}

static void test_cancel_to_device(void **state)
{
	struct mx_handlers h = { .on_sync = no_sync };
	struct fx fx;
	char hs[64], path[256], path2[256];
	json_t *body, *c;
	struct verify_msg m = { .step = VERIFY_REQUEST,
				.sender = "@trainee:localhost",
				.device = "DEV", .txn = "T1" };
	struct verify_msg start = { .step = VERIFY_START,
				    .sender = "@trainee:localhost",
				    .txn = "T2" };

	(void)state;
	memset(&fx, 0, sizeof(fx));
	h.arg = &fx;
	fx.srv = server_start(route, &fx);
	snprintf(hs, sizeof(hs), "http://127.0.0.1:%d", fx.srv->port);
	fx.mx = mx_new(hs, ME, &h);
	mx_set_token(fx.mx, "syt_test", "BOTDEV");

	cancel_sent(&fx, &m, &body, path, sizeof(path));
	assert_true(!strncmp(path, "/_matrix/client/v3/sendToDevice/"
			     "m.key.verification.cancel/oef-vc-",
			     strlen("/_matrix/client/v3/sendToDevice/"
				    "m.key.verification.cancel/oef-vc-")));
	c = json_object_get(json_object_get(json_object_get(body, "messages"),
					    "@trainee:localhost"), "DEV");
	assert_string_equal(json_string_value(json_object_get(c,
			    "transaction_id")), "T1");
	assert_string_equal(json_string_value(json_object_get(c, "code")),
			    "m.user");
	assert_string_equal(json_string_value(json_object_get(c, "reason")),
			    verify_reason(1));
	json_decref(body);

	/* the same message again: the same transaction id (a batch
	 * handled twice is one message on the server) */
	cancel_sent(&fx, &m, &body, path2, sizeof(path2));
	assert_string_equal(path, path2);
	json_decref(body);

	/* no from_device: every device of the sender */
	cancel_sent(&fx, &start, &body, path2, sizeof(path2));
	assert_string_not_equal(path, path2);
	c = json_object_get(json_object_get(json_object_get(body, "messages"),
					    "@trainee:localhost"), "*");
	assert_string_equal(json_string_value(json_object_get(c, "code")),
			    "m.unknown_method");
	assert_string_equal(json_string_value(json_object_get(c,
			    "transaction_id")), "T2");
	json_decref(body);
	/* nothing else went to the server: three requests, three PUTs */
	assert_int_equal(server_count(fx.srv, &fx.srv->requests), 3);

	mx_free(fx.mx);
	server_stop(fx.srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_to_device),
		cmocka_unit_test(test_parse_room),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_sync_to_device),
		cmocka_unit_test(test_cancel_to_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
