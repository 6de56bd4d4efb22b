/* test_mx.c - when the Matrix client sends what, against a fake
 * homeserver (fakehttp.h) that logs every request with its arrival time
 * and answers:
 *   GET  .../sync, no since   at once: one message in ROOM
 *   GET  .../sync?...&since=  SYNC_POLL_MS later: nothing new (a short
 *                             long-poll, to keep the tests quick)
 *   PUT  .../send/...         put_delay_ms later: {"event_id":"$x"}
 *   POST .../receipt/...      at once: {}
 *   PUT  .../typing/...       at once: {}
 * The client's on_sync answers the message (typing_ms per test) and marks
 * it read. Variants per test (fx->mode): a limited second batch whose gap
 * comes from GET .../messages (two pages, then the end); no /sync at all,
 * sends only, with a 429 for ROOM's first send. The timing rules under
 * test are mx.c's: the /sync after a batch waits for the sends the batch
 * caused, at most SYNC_HOLD_MS; a receipt goes RECEIPT_AFTER_SEND_MS
 * after the room's last send, or at once while the reply is still being
 * typed.
 *
 * Bounds follow from cause and effect where they can (the server logs
 * every arrival and every reply on its one thread, and on_sync when the
 * batch came in, all with one clock), so they hold on a slow machine
 * too. Two cannot: that the hold ends with a quick reply (answered after
 * 50 ms, leaving 200 ms for the round trips: under valgrind the first
 * send reaches the server some 80 ms after the batch, on a loaded
 * machine more; checked only when the answer left in time), and that
 * the slow reply's hold ends at the cap (a second of slack).
 */
#include "fakehttp.h"

#include <jansson.h>

#include "mx.h"
#include "util.h"

/* mx.c's constants */
#define SYNC_HOLD_MS 250
#define RECEIPT_AFTER_SEND_MS 200
#define TRIM_AFTER_BYTES (64 * 1024)

#define ROOM "!oefen:localhost"
#define PROFILE "/_matrix/client/v3/profile/%40oefenkamer%3Alocalhost"
#define ROOM2 "!ander:localhost"
#define EVENT "$m1"
#define SYNC_POLL_MS 80
#define MAX_HITS 512
#define DEADLINE_MS 10000
#define MIN(a, b) ((a) < (b) ? (a) : (b))

enum kind { K_OTHER, K_SYNC, K_SEND, K_RECEIPT, K_TYPING, K_MESSAGES };

enum mode { M_PLAIN, M_GAP, M_SENDS, M_BIG };

struct hit {
	int seq;                 /* arrival order, from 0 */
	enum kind kind;
	int since;               /* a /sync with since= */
	char method[8];
	char path[160];          /* without the query, maybe cut */
	char query[320];         /* from '?' on, maybe cut (/messages) */
	char since_tok[16];      /* a /sync's since= value */
	int64_t at;              /* arrival, mono_ms() */
	int64_t sent_at;         /* reply written, 0 before */
};

struct fx {
	struct server *srv;
	struct mx *mx;
	char *big_batch;         /* M_BIG: the first batch, over 64 KiB */
	/* set before the server starts */
	int put_delay_ms;
	int typing_ms;
	enum mode mode;
	int limited_sent;        /* M_GAP: the limited batch went out */
	int refused;             /* M_SENDS: ROOM's first send had its 429 */
	/* under srv->mu */
	struct hit hits[MAX_HITS];
	int nhits;               /* requests seen, may exceed MAX_HITS */
	/* the client's, on this thread */
	int batches;
	int64_t batch_at;        /* the first batch reached on_sync */
	int sent_calls;
	int sent_ok;
	char *sent_event;
	char order[128];         /* M_GAP: event ids of the limited batch */
	long long gap;           /* ... and its MX_GAP_FIELD */
	char answers[512];       /* what the request callbacks were told */
	int answered;            /* how many callbacks ran */
	/* media and profile requests, under srv->mu */
	enum { U_OK, U_TOO_LARGE, U_BAD_URI } upload;  /* how to answer */
	char ctype[128];         /* the last one's Content-Type */
	char auth[64];           /* ... and Authorization */
	char body[256];          /* ... and body (blen bytes) */
	size_t blen;
};

/* ---- the fake homeserver ---- */

static const char first_batch[] =
	"{\"next_batch\":\"s1\",\"rooms\":{\"join\":{\"" ROOM "\":"
	"{\"timeline\":{\"events\":[{\"type\":\"m.room.message\","
	"\"sender\":\"@trainee:localhost\",\"event_id\":\"" EVENT "\","
	"\"origin_server_ts\":1,\"content\":{\"msgtype\":\"m.text\","
	"\"body\":\"Goedemiddag, ik ben Lotte.\"}}]}}}}}";
static const char empty_batch[] = "{\"next_batch\":\"s2\"}";
static const char sent_reply[] = "{\"event_id\":\"$x\"}";
/* M_GAP: the second batch, cut by the server; the gap in two pages */
static const char limited_batch[] =
	"{\"next_batch\":\"s2\",\"rooms\":{\"join\":{\"" ROOM "\":"
	"{\"timeline\":{\"limited\":true,\"prev_batch\":\"p1\","
	"\"events\":[{\"type\":\"m.room.message\",\"event_id\":\"$m4\","
	"\"sender\":\"@t:localhost\",\"content\":{}}]}}}}}";
static const char gap_page1[] =
	"{\"start\":\"p1\",\"end\":\"p2\",\"chunk\":["
	"{\"type\":\"m.room.message\",\"event_id\":\"$m3\","
	"\"sender\":\"@t:localhost\",\"content\":{}},"
	"{\"type\":\"m.room.message\",\"event_id\":\"$m2\","
	"\"sender\":\"@t:localhost\",\"content\":{}}]}";
static const char gap_page2[] = "{\"start\":\"p2\",\"chunk\":[]}";
/* M_SENDS: the answers of the other requests */
static const char joined_reply[] =
	"{\"joined\":{\"@a:x\":{\"display_name\":\"A\"},\"@b:x\":{}}}";
static const char whoami_reply[] =
	"{\"user_id\":\"@oefenkamer:localhost\",\"device_id\":\"DEV\"}";
static const char created_reply[] = "{\"room_id\":\"!nieuw:x\"}";
static const char upload_ok[] =
	"{\"content_uri\":\"mxc://localhost/AbC-1_x\"}";
static const char upload_big[] =
	"{\"errcode\":\"M_TOO_LARGE\",\"error\":\"Te groot\"}";
static const char upload_bad[] = "{\"content_uri\":\"https://x/y\"}";
static const char profile_reply[] =
	"{\"displayname\":\"oefenkamer\","
	"\"avatar_url\":\"mxc://localhost/oud\"}";
static const char too_many[] =
	"{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":1000}";

/* path: without the query */
static enum kind classify(const char *method, const char *path)
{
	if (strcmp(method, "GET") == 0 &&
	    strcmp(path, "/_matrix/client/v3/sync") == 0)
		return K_SYNC;
	if (strcmp(method, "PUT") == 0 && strstr(path, "/send/"))
		return K_SEND;
	if (strcmp(method, "GET") == 0 && strstr(path, "/messages"))
		return K_MESSAGES;
	if (strcmp(method, "PUT") == 0 && strstr(path, "/typing/"))
		return K_TYPING;
	if (strcmp(method, "POST") == 0 && strstr(path, "/receipt/m.read/"))
		return K_RECEIPT;
	return K_OTHER;
}

/* A route_fn: log, then answer as in the table at the top. */
static void route(struct server *s, struct conn *c, const char *method,
		  const char *path, const char *hdr, size_t hlen,
		  const char *body, size_t blen)
{
	struct fx *fx = s->arg;
	const char *q = strchr(path, '?');
	int since = q && strstr(q, "&since=");
	char p[MAX_PATH];
	enum kind kind;
	struct hit *h = NULL;

	snprintf(p, sizeof(p), "%.*s", q ? (int)(q - path) : MAX_PATH, path);
	kind = classify(method, p);

	pthread_mutex_lock(&s->mu);
	if (fx->nhits < MAX_HITS) {
		h = &fx->hits[fx->nhits];
		h->seq = fx->nhits;
		h->kind = kind;
		h->since = since;
		snprintf(h->method, sizeof(h->method), "%s", method);
		snprintf(h->path, sizeof(h->path), "%.*s",
			 (int)sizeof(h->path) - 1, p);
		snprintf(h->query, sizeof(h->query), "%.*s",
			 (int)sizeof(h->query) - 1, q ? q : "");
		snprintf(h->since_tok, sizeof(h->since_tok), "%.*s",
			 since ? (int)strcspn(strstr(q, "&since=") + 7, "&") :
			 0, since ? strstr(q, "&since=") + 7 : "");
		h->at = mono_ms();
	}
	fx->nhits++;
	pthread_mutex_unlock(&s->mu);
	if (h)
		c->sent_at = &h->sent_at;

	switch (kind) {
	case K_SYNC:
		if (since && fx->mode == M_GAP && !fx->limited_sent) {
			fx->limited_sent = 1;
			add_reply(&c->out, 200, "OK", "", limited_batch,
				  strlen(limited_batch));
		} else if (since) {
			add_reply(&c->out, 200, "OK", "", empty_batch,
				  strlen(empty_batch));
			c->reply_at = mono_ms() + SYNC_POLL_MS;
		} else if (fx->mode == M_BIG) {
			add_reply(&c->out, 200, "OK", "", fx->big_batch,
				  strlen(fx->big_batch));
		} else {
			add_reply(&c->out, 200, "OK", "", first_batch,
				  strlen(first_batch));
		}
		break;
	case K_SEND:
		if (fx->mode == M_SENDS && !fx->refused &&
		    strstr(p, "%21oefen%3Alocalhost")) {
			fx->refused = 1;
			add_reply(&c->out, 429, "Too Many Requests", "",
				  too_many, strlen(too_many));
			break;
		}
		add_reply(&c->out, 200, "OK", "", sent_reply,
			  strlen(sent_reply));
		c->reply_at = mono_ms() + fx->put_delay_ms;
		break;
	case K_MESSAGES:
		if (strstr(q, "from=p1"))
			add_reply(&c->out, 200, "OK", "", gap_page1,
				  strlen(gap_page1));
		else
			add_reply(&c->out, 200, "OK", "", gap_page2,
				  strlen(gap_page2));
		break;
	case K_RECEIPT:
	case K_TYPING:
		add_reply(&c->out, 200, "OK", "", "{}", 2);
		break;
	default:
		if (strstr(p, "/_matrix/media/") || strstr(p, "/profile/")) {
			pthread_mutex_lock(&s->mu);
			header_value(hdr, hlen, "content-type:", fx->ctype,
				     sizeof(fx->ctype));
			header_value(hdr, hlen, "authorization:", fx->auth,
				     sizeof(fx->auth));
			fx->blen = MIN(blen, sizeof(fx->body));
			memcpy(fx->body, body, fx->blen);
			pthread_mutex_unlock(&s->mu);
		}
		if (!strcmp(p, "/_matrix/media/v3/upload") &&
		    fx->upload == U_TOO_LARGE)
			add_reply(&c->out, 413, "Payload Too Large", "",
				  upload_big, strlen(upload_big));
		else if (!strcmp(p, "/_matrix/media/v3/upload"))
			add_reply(&c->out, 200, "OK", "",
				  fx->upload == U_OK ? upload_ok : upload_bad,
				  strlen(fx->upload == U_OK ? upload_ok :
					 upload_bad));
		else if (!strcmp(method, "GET") && !strcmp(p, PROFILE))
			add_reply(&c->out, 200, "OK", "", profile_reply,
				  strlen(profile_reply));
		else if (!strcmp(method, "PUT") &&
			 !strncmp(p, PROFILE "/", strlen(PROFILE "/")))
			add_reply(&c->out, 200, "OK", "", "{}", 2);
		else if (strstr(p, "/joined_members"))
			add_reply(&c->out, 200, "OK", "", joined_reply,
				  strlen(joined_reply));
		else if (strstr(p, "/account/whoami"))
			add_reply(&c->out, 200, "OK", "", whoami_reply,
				  strlen(whoami_reply));
		else if (strstr(p, "/createRoom") && strstr(body ? body : "",
				"\"invite\":[\"@a:x\",\"@b:x\"]"))
			add_reply(&c->out, 200, "OK", "", created_reply,
				  strlen(created_reply));
		else if (strstr(p, "/join/"))
			add_reply(&c->out, 403, "Forbidden", "",
				  "{\"errcode\":\"M_FORBIDDEN\"}", 26);
		else
			add_reply(&c->out, 404, "Not Found", "",
				  "{\"errcode\":\"M_UNRECOGNIZED\"}", 28);
	}
}

/* The nth request of this kind (a copy, taken under the lock); seq is
 * -1 when there is none (yet). */
static struct hit hit(struct fx *fx, enum kind kind, int nth)
{
	struct hit h = { .seq = -1 };

	pthread_mutex_lock(&fx->srv->mu);
	for (int i = 0; i < fx->nhits && i < MAX_HITS; i++) {
		if (fx->hits[i].kind == kind && nth-- == 0) {
			h = fx->hits[i];
			break;
		}
	}
	pthread_mutex_unlock(&fx->srv->mu);
	return h;
}

static int count(struct fx *fx, enum kind kind)
{
	int n = 0;

	while (hit(fx, kind, n).seq >= 0)
		n++;
	return n;
}

/* ---- the client ---- */

static int on_sync(void *arg, const struct mx_sync *s)
{
	struct fx *fx = arg;
	const struct mx_room *room = NULL;
	json_t *content;
	const char *id;

	for (size_t i = 0; i < s->njoin; i++)
		if (!strcmp(s->join[i].id, ROOM))
			room = &s->join[i];
	if (!fx->batches++)
		fx->batch_at = mono_ms();
	if (!room)
		return 0;
	if (fx->mode == M_GAP) {
		if (!room->limited)
			return 0;
		for (size_t i = 0; i < room->ntimeline; i++)
			snprintf(fx->order + strlen(fx->order),
				 sizeof(fx->order) - strlen(fx->order), "%s ",
				 room->timeline[i].id);
		fx->gap = (long long)room->gap;
		return 0;
	}
	for (size_t i = 0; i < room->ntimeline; i++) {
		id = room->timeline[i].id;
		if (!id)
			continue;
		content = json_pack("{s:s, s:s}", "msgtype", "m.text",
				    "body", "Dag Lotte.");
		mx_send(fx->mx, ROOM, "m.room.message", id, content,
			fx->typing_ms, 7);
		json_decref(content);
		mx_receipt(fx->mx, ROOM, id);
	}
	return 0;
}

static void on_sent(void *arg, uint64_t cookie, int ok, const char *event_id)
{
	struct fx *fx = arg;

	if (fx->mode != M_SENDS)
		assert_int_equal(cookie, 7);
	fx->sent_calls++;
	fx->sent_ok = ok;
	free(fx->sent_event);
	fx->sent_event = event_id ? xstrdup(event_id) : NULL;
}

static int setup(void **state)
{
	*state = xcalloc(1, sizeof(struct fx));
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	mx_free(fx->mx);
	if (fx->srv)
		server_stop(fx->srv);
	free(fx->sent_event);
	free(fx->big_batch);
	free(fx);
	return 0;
}

/* Serve, and start a client with a token that syncs from scratch
 * (unless fx->mode is M_SENDS). */
static void start(struct fx *fx, int put_delay_ms, int typing_ms)
{
	struct mx_handlers h = {
		.arg = fx,
		.on_sync = on_sync,
		.on_sent = on_sent,
	};
	char hs[64];

	fx->put_delay_ms = put_delay_ms;
	fx->typing_ms = typing_ms;
	fx->srv = server_start(route, fx);
	snprintf(hs, sizeof(hs), "http://127.0.0.1:%d", fx->srv->port);
	fx->mx = mx_new(hs, "@oefenkamer:localhost", &h);
	mx_set_token(fx->mx, "syt_test", "DEVICE");
	if (fx->mode != M_SENDS)
		mx_sync_start(fx->mx, NULL, 30000);
}

/* Drive the client until done(fx), failing after DEADLINE_MS. */
static void run_until(struct fx *fx, int (*done)(struct fx *))
{
	int64_t t0 = mono_ms();

	while (!done(fx)) {
		assert_true(mono_ms() - t0 < DEADLINE_MS);
		assert_true(mx_poll(fx->mx, 10, -1) >= 0);
	}
}

static int second_sync(struct fx *fx)
{
	return hit(fx, K_SYNC, 1).seq >= 0;
}

static int put_answered(struct fx *fx)
{
	return fx->sent_calls > 0;
}

static int sync_and_put_answered(struct fx *fx)
{
	return second_sync(fx) && put_answered(fx);
}

static int receipt_and_put_answered(struct fx *fx)
{
	return hit(fx, K_RECEIPT, 0).seq >= 0 && put_answered(fx);
}

static int typing_off_and_receipt(struct fx *fx)
{
	return hit(fx, K_TYPING, 1).seq >= 0 &&
	       hit(fx, K_RECEIPT, 0).seq >= 0;
}

/* What every test expects of the first batch and the reply. */
static void check_common(struct fx *fx, struct hit *first, struct hit *put)
{
	*first = hit(fx, K_SYNC, 0);
	*put = hit(fx, K_SEND, 0);
	assert_int_equal(first->seq, 0);
	assert_false(first->since);
	assert_true(put->seq > 0);
	assert_string_equal(put->path, "/_matrix/client/v3/rooms/"
			    "%21oefen%3Alocalhost/send/m.room.message/%24m1");
	assert_true(fx->batches >= 1);
	assert_int_equal(count(fx, K_SEND), 1);
	assert_int_equal(count(fx, K_OTHER), 0);
	assert_true(server_count(fx->srv, &fx->nhits) <= MAX_HITS);
}

/* ---- tests ---- */

/* (a) The reply (answered after 50 ms, within the cap) goes before the
 * next /sync: that /sync arrives only after the reply was answered (or
 * the cap passed, on a machine too slow for 50 ms), and then without
 * waiting for the cap. */
static void test_sync_waits_for_reply(void **state)
{
	struct fx *fx = *state;
	struct hit first, put, second;
	int64_t hold_end;

	start(fx, 50, 0);
	run_until(fx, sync_and_put_answered);
	check_common(fx, &first, &put);
	second = hit(fx, K_SYNC, 1);
	assert_true(second.since);
	assert_true(put.seq < second.seq);
	assert_true(put.sent_at > 0);
	hold_end = fx->batch_at + SYNC_HOLD_MS;
	assert_true(second.at >= MIN(put.sent_at, hold_end));
	/* 100 ms for the client to see the answer: else it cannot tell */
	if (put.sent_at + 100 <= hold_end)
		assert_true(second.at < hold_end);
	assert_int_equal(fx->sent_ok, 1);
}

static int third_sync(struct fx *fx)
{
	return hit(fx, K_SYNC, 2).seq >= 0;
}

/* (b) A slow reply (2 s) holds the next /sync no longer than
 * SYNC_HOLD_MS after the batch; and only a batch's own replies hold:
 * while that reply is still out, the next (empty) batch's /sync follows
 * at once. */
static void test_sync_hold_capped(void **state)
{
	struct fx *fx = *state;
	struct hit first, put, second, third;

	start(fx, 2000, 0);
	run_until(fx, third_sync);
	check_common(fx, &first, &put);
	second = hit(fx, K_SYNC, 1);
	assert_true(second.since);
	/* held: the hold counts from after on_sync */
	assert_true(second.at - fx->batch_at >= SYNC_HOLD_MS);
	/* ... but not for the reply */
	assert_true(second.at - fx->batch_at < SYNC_HOLD_MS + 1000);
	assert_true(second.at < put.at + 2000);
	third = hit(fx, K_SYNC, 2);
	assert_true(third.since);
	assert_true(second.sent_at > 0);
	assert_true(third.at < put.at + 2000);   /* the reply still out */
	assert_true(third.at - second.sent_at < SYNC_HOLD_MS);
}

/* (c) Not typing: the receipt follows the reply's answer by
 * RECEIPT_AFTER_SEND_MS. */
static void test_receipt_after_reply(void **state)
{
	struct fx *fx = *state;
	struct hit first, put, receipt;

	start(fx, 100, 0);
	run_until(fx, receipt_and_put_answered);
	check_common(fx, &first, &put);
	receipt = hit(fx, K_RECEIPT, 0);
	assert_string_equal(receipt.path, "/_matrix/client/v3/rooms/"
			    "%21oefen%3Alocalhost/receipt/m.read/%24m1");
	assert_true(put.seq < receipt.seq);
	assert_true(put.sent_at > 0);
	/* the client had the answer no earlier than sent_at */
	assert_true(receipt.at - put.sent_at >= RECEIPT_AFTER_SEND_MS);
	assert_int_equal(fx->sent_ok, 1);
	assert_string_equal(fx->sent_event, "$x");
	assert_int_equal(count(fx, K_TYPING), 0);
	assert_int_equal(count(fx, K_RECEIPT), 1);
}

/* (d) While the persona types (300 ms), the receipt goes at once, before
 * the reply; the typing notification precedes the reply by the typing
 * time, and typing stops once the reply is sent. */
static void test_receipt_while_typing(void **state)
{
	struct fx *fx = *state;
	struct hit first, put, receipt, typing, done;

	start(fx, 100, 300);
	run_until(fx, typing_off_and_receipt);
	check_common(fx, &first, &put);
	receipt = hit(fx, K_RECEIPT, 0);
	typing = hit(fx, K_TYPING, 0);
	done = hit(fx, K_TYPING, 1);
	assert_true(receipt.seq < put.seq);
	assert_true(typing.seq >= 0);
	assert_true(typing.seq < put.seq);
	/* the typing time starts after the batch came in */
	assert_true(put.at - fx->batch_at >= 300);
	/* typing off once the reply is sent */
	assert_true(put.seq < done.seq);
	assert_true(done.at >= put.sent_at);
	assert_int_equal(fx->sent_ok, 1);
	assert_int_equal(count(fx, K_RECEIPT), 1);
	assert_int_equal(count(fx, K_TYPING), 2);
}

static int second_send_seen(struct fx *fx)
{
	return hit(fx, K_SEND, 0).seq >= 0 && fx->refused;
}

static int after_gap(struct fx *fx)
{
	return hit(fx, K_SYNC, 2).seq >= 0;
}

/* (e) A limited batch: its gap is fetched backwards from prev_batch to
 * the since token the batch started at, page by page, and the owner
 * gets the batch once, oldest event first, with the gap's length; only
 * then does the next /sync go, from the batch's next_batch. */
static void test_gap_filled(void **state)
{
	struct fx *fx = *state;
	struct hit m1, m2, third;

	fx->mode = M_GAP;
	start(fx, 0, 0);
	run_until(fx, after_gap);
	m1 = hit(fx, K_MESSAGES, 0);
	m2 = hit(fx, K_MESSAGES, 1);
	third = hit(fx, K_SYNC, 2);
	assert_true(m1.seq > 0 && m2.seq > m1.seq);
	assert_int_equal(count(fx, K_MESSAGES), 2);
	assert_string_equal(m1.path, "/_matrix/client/v3/rooms/"
			    "%21oefen%3Alocalhost/messages");
	assert_non_null(strstr(m1.query, "dir=b"));
	assert_non_null(strstr(m1.query, "from=p1"));
	assert_non_null(strstr(m1.query, "to=s1"));
	assert_non_null(strstr(m2.query, "from=p2"));
	assert_non_null(strstr(m2.query, "to=s1"));
	/* pages come newest first; the owner gets the oldest first */
	assert_string_equal(fx->order, "$m2 $m3 $m4 ");
	assert_int_equal(fx->gap, 2);
	/* the second sync's since is s1; the one after the gap, s2 */
	assert_string_equal(hit(fx, K_SYNC, 1).since_tok, "s1");
	assert_true(third.seq > m2.seq);
	assert_string_equal(third.since_tok, "s2");
}

static void send_text(struct fx *fx, const char *room, const char *txn,
		      int bg)
{
	json_t *c = json_pack("{s:s, s:s}", "msgtype", "m.notice", "body",
			      txn);

	if (bg)
		mx_send_background(fx->mx, room, "m.room.message", txn, c, 0,
				   1);
	else
		mx_send(fx->mx, room, "m.room.message", txn, c, 0, 1);
	json_decref(c);
}

static int four_sent(struct fx *fx)
{
	return fx->sent_calls >= 4;
}

/* The index among the sends of the one whose path ends in txn. */
static int send_no(struct fx *fx, const char *txn)
{
	for (int i = 0;; i++) {
		struct hit h = hit(fx, K_SEND, i);
		size_t n = strlen(h.path), k = strlen(txn);

		if (h.seq < 0)
			return -1;
		if (n >= k && strcmp(h.path + n - k, txn) == 0)
			return i;
	}
}

/* (f) Background lines (replays) wait while any room has a foreground
 * item: the answers in both rooms go first, queued after them or not. */
static void test_background_after_foreground(void **state)
{
	struct fx *fx = *state;

	fx->mode = M_SENDS;
	start(fx, 20, 0);
	fx->refused = 1;                     /* no 429 in this test */
	send_text(fx, ROOM, "b1", 1);
	send_text(fx, ROOM, "b2", 1);
	send_text(fx, ROOM, "f1", 0);
	send_text(fx, ROOM2, "f2", 0);
	run_until(fx, four_sent);
	assert_int_equal(count(fx, K_SEND), 4);
	assert_true(send_no(fx, "f1") < send_no(fx, "b1"));
	assert_true(send_no(fx, "f2") < send_no(fx, "b1"));
	assert_true(send_no(fx, "b1") < send_no(fx, "b2"));
}

static int both_sent(struct fx *fx)
{
	return fx->sent_calls >= 2;
}

/* (g) A 429 on one room's send pauses that room for retry_after_ms,
 * not the other room. */
static void test_429_pauses_one_room(void **state)
{
	struct fx *fx = *state;
	struct hit first, retry, other;

	fx->mode = M_SENDS;
	start(fx, 0, 0);
	send_text(fx, ROOM, "a1", 0);
	run_until(fx, second_send_seen);
	send_text(fx, ROOM2, "o1", 0);
	run_until(fx, both_sent);
	first = hit(fx, K_SEND, 0);
	retry = hit(fx, K_SEND, 2);
	other = hit(fx, K_SEND, 1);
	assert_non_null(strstr(first.path, "%21oefen%3Alocalhost"));
	assert_non_null(strstr(other.path, "%21ander%3Alocalhost"));
	assert_non_null(strstr(retry.path, "%21oefen%3Alocalhost"));
	/* the other room did not wait for the 429's second */
	assert_true(other.at - first.at < 500);
	assert_true(retry.at - first.at >= 1000);
}

static int receipt_seen(struct fx *fx)
{
	return hit(fx, K_RECEIPT, 0).seq >= 0;
}

/* (g2) A room's send queue goes once its sends are out and the
 * receipt pause has passed; a receipt after that makes a queue again,
 * which goes once the receipt is out. */
static void test_empty_queues_dropped(void **state)
{
	struct fx *fx = *state;
	int64_t t0;

	fx->mode = M_SENDS;
	start(fx, 0, 0);
	fx->refused = 1;                     /* no 429 in this test */
	send_text(fx, ROOM, "q1", 0);
	send_text(fx, ROOM2, "q2", 0);
	assert_int_equal(mx_queues(fx->mx), 2);
	t0 = mono_ms();
	run_until(fx, both_sent);
	assert_int_equal(mx_queues(fx->mx), 2);
	while (mx_queues(fx->mx) > 0) {
		assert_true(mono_ms() - t0 < DEADLINE_MS);
		assert_true(mx_poll(fx->mx, 10, -1) >= 0);
	}
	/* not before the receipt pause after the last send */
	assert_true(mono_ms() - t0 >= 200);
	mx_receipt(fx->mx, ROOM, "$read");
	assert_int_equal(mx_queues(fx->mx), 1);
	run_until(fx, receipt_seen);
	assert_int_equal(count(fx, K_RECEIPT), 1);
	assert_int_equal(mx_queues(fx->mx), 0);
	assert_int_equal(mx_sends_pending(fx->mx), 0);
}

static int all_drained(struct fx *fx)
{
	return mx_queues(fx->mx) == 0;
}

/* (g3) The free heap goes back to the system once a burst of sends
 * (TRIM_AFTER_SENDS, 64) has drained, once per burst: not after a
 * handful of sends, not while queues are left, and a burst counts from
 * the last trim. */
static void test_trim_after_burst(void **state)
{
	struct fx *fx = *state;
	char room[32], txn[16];

	fx->mode = M_SENDS;
	start(fx, 0, 0);
	fx->refused = 1;                     /* no 429 in this test */
	for (int i = 0; i < 3; i++) {
		snprintf(txn, sizeof(txn), "s%d", i);
		send_text(fx, ROOM2, txn, 0);
	}
	run_until(fx, all_drained);
	assert_int_equal(mx_trims(fx->mx), 0);
	/* 3 before + 60: one short of the burst */
	for (int i = 0; i < 60; i++) {
		snprintf(room, sizeof(room), "!r%d:localhost", i % 12);
		snprintf(txn, sizeof(txn), "a%d", i);
		send_text(fx, room, txn, 0);
	}
	run_until(fx, all_drained);
	assert_int_equal(fx->sent_calls, 63);
	assert_int_equal(mx_trims(fx->mx), 0);
	send_text(fx, ROOM2, "b0", 0);
	run_until(fx, all_drained);
	assert_int_equal(mx_trims(fx->mx), 1);
	/* the next burst counts from here */
	for (int i = 0; i < 5; i++) {
		snprintf(txn, sizeof(txn), "c%d", i);
		send_text(fx, ROOM2, txn, 0);
	}
	run_until(fx, all_drained);
	assert_int_equal(fx->sent_calls, 69);
	assert_int_equal(mx_trims(fx->mx), 1);
}

static int third_sync_answered(struct fx *fx)
{
	return third_sync(fx) && put_answered(fx);
}

/* (g3b) A /sync batch of TRIM_AFTER_BYTES or more leaves its freed heap
 * to give back, but its response body lives until the callback has
 * returned: the trim comes on the loop round after the batch, when the
 * HTTP layer holds none of that body any more (a trim inside the
 * callback would leave the body's heap resident once freed), and once
 * for the batch, not on every round after it. */
static void test_trim_after_big_batch(void **state)
{
	struct fx *fx = *state;
	struct sbuf b;

	sbuf_init(&b);
	sbuf_adds(&b, "{\"next_batch\":\"s1\",\"rooms\":{\"join\":{\""
		  ROOM "\":{\"timeline\":{\"events\":[{\"type\":"
		  "\"m.room.message\",\"sender\":\"@trainee:localhost\","
		  "\"event_id\":\"" EVENT "\",\"origin_server_ts\":1,"
		  "\"content\":{\"msgtype\":\"m.text\",\"body\":\"");
	while (b.len < TRIM_AFTER_BYTES + 1024)
		sbuf_adds(&b, "Goedemiddag, ik ben Lotte. ");
	sbuf_adds(&b, "\"}}]}}}}}");
	fx->big_batch = xstrdup(b.buf);
	sbuf_release(&b);
	fx->mode = M_BIG;
	start(fx, 0, 0);
	/* the batch went up, was answered, and two long-polls followed:
	 * rounds enough for a trim per round to show */
	run_until(fx, third_sync_answered);
	assert_true(fx->batches >= 2);
	assert_int_equal(mx_trims(fx->mx), 1);
	assert_true(mx_trim_body_bytes(fx->mx) < TRIM_AFTER_BYTES);
}

/* A small batch (the plain first batch, under TRIM_AFTER_BYTES) and a
 * send or two: nothing to give back. */
static void test_no_trim_after_small_batch(void **state)
{
	struct fx *fx = *state;

	start(fx, 0, 0);
	run_until(fx, third_sync_answered);
	assert_int_equal(mx_trims(fx->mx), 0);
}

/* (g4) Many rooms' queues at once (a join storm's greetings): each
 * room has one queue, found again by its id after the index has grown,
 * and every queue goes once drained. */
static void test_many_queues(void **state)
{
	struct fx *fx = *state;
	char room[32], txn[16];

	fx->mode = M_SENDS;
	start(fx, 0, 0);
	fx->refused = 1;                     /* no 429 in this test */
	for (int i = 0; i < 300; i++) {
		snprintf(room, sizeof(room), "!g%d:localhost", i);
		snprintf(txn, sizeof(txn), "g%d", i);
		send_text(fx, room, txn, 0);
	}
	assert_int_equal(mx_queues(fx->mx), 300);
	/* a second line for rooms made first and last: no new queue */
	send_text(fx, "!g0:localhost", "h0", 0);
	send_text(fx, "!g299:localhost", "h299", 0);
	assert_int_equal(mx_queues(fx->mx), 300);
	assert_int_equal(mx_sends_pending(fx->mx), 302);
	run_until(fx, all_drained);
	assert_int_equal(fx->sent_calls, 302);
	assert_int_equal(count(fx, K_SEND), 302);
	assert_int_equal(mx_sends_pending(fx->mx), 0);
	/* a queue made again after its room's was dropped */
	send_text(fx, "!g7:localhost", "again", 0);
	assert_int_equal(mx_queues(fx->mx), 1);
	run_until(fx, all_drained);
	assert_int_equal(fx->sent_calls, 303);
}

/* (h) A content the server would refuse (over MX_CONTENT_MAX) is not
 * sent: reported as not sent, no request. */
static void test_too_large_dropped(void **state)
{
	struct fx *fx = *state;
	char *big = xmalloc(MX_CONTENT_MAX + 2);
	json_t *c;

	memset(big, 'a', MX_CONTENT_MAX + 1);
	big[MX_CONTENT_MAX + 1] = '\0';
	c = json_pack("{s:s, s:s}", "msgtype", "m.text", "body", big);
	fx->mode = M_SENDS;
	fx->refused = 1;
	start(fx, 0, 0);
	mx_send(fx->mx, ROOM, "m.room.message", "big", c, 0, 1);
	send_text(fx, ROOM, "small", 0);
	run_until(fx, both_sent);
	assert_int_equal(count(fx, K_SEND), 1);
	assert_true(send_no(fx, "small") == 0);
	json_decref(c);
	free(big);
}

/* ---- the event parser: what the bot gets instead of wire JSON ---- */

/* Run mx_event_parse on text with stderr caught: its return value, and
 * the log line (if any) in log. */
static int parse_caught(const char *text, struct mx_event *ev, char *log,
			size_t logsz)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	FILE *tmp = tmpfile();
	int saved, rc;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	rc = mx_event_take(j, "!r:localhost", ev);
	fflush(stderr);
	assert_true(dup2(saved, 2) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(log, 1, logsz - 1, tmp);
	log[n] = '\0';
	fclose(tmp);
	json_decref(j);   /* ev keeps its own reference */
	return rc;
}

#define ENV "\"sender\":\"@t:localhost\",\"event_id\":\"$e\","

struct rel_case {
	const char *content;
	enum mx_rel rel;
	const char *rel_event, *rel_key, *new_body;
};

/* Each relation kind, from the content as clients send it. */
static void test_event_relations(void **state)
{
	static const struct rel_case cases[] = {
		{ "{\"msgtype\":\"m.text\",\"body\":\"hoi\"}",
		  MX_REL_NONE, NULL, NULL, NULL },
		{ "{\"msgtype\":\"m.text\",\"body\":\"hoi\",\"m.relates_to\":"
		  "{\"rel_type\":\"m.thread\",\"event_id\":\"$root\","
		  "\"m.in_reply_to\":{\"event_id\":\"$last\"}}}",
		  MX_REL_THREAD, "$root", NULL, NULL },
		{ "{\"msgtype\":\"m.text\",\"body\":\"hoi\",\"m.relates_to\":"
		  "{\"m.in_reply_to\":{\"event_id\":\"$q\"}}}",
		  MX_REL_REPLY, "$q", NULL, NULL },
		{ "{\"m.relates_to\":{\"rel_type\":\"m.annotation\","
		  "\"event_id\":\"$t\",\"key\":\"\\ud83d\\udc4d\"}}",
		  MX_REL_ANNOTATION, "$t", "\xf0\x9f\x91\x8d", NULL },
		/* an edit as the spec has it: m.new_content beside */
		{ "{\"msgtype\":\"m.text\",\"body\":\"* nieuw\","
		  "\"m.new_content\":{\"msgtype\":\"m.text\",\"body\":"
		  "\"nieuw\"},\"m.relates_to\":{\"rel_type\":\"m.replace\","
		  "\"event_id\":\"$old\"}}",
		  MX_REL_REPLACE, "$old", NULL, "nieuw" },
		/* ... and inside m.relates_to, as the bot once expected */
		{ "{\"msgtype\":\"m.text\",\"body\":\"* nieuw\","
		  "\"m.relates_to\":{\"event_id\":\"$old\",\"m.new_content\":"
		  "{\"body\":\"nieuw\"}}}",
		  MX_REL_REPLACE, "$old", NULL, "nieuw" },
		/* a relation the bot does not use */
		{ "{\"msgtype\":\"m.text\",\"body\":\"x\",\"m.relates_to\":"
		  "{\"rel_type\":\"m.reference\",\"event_id\":\"$r\"}}",
		  MX_REL_NONE, "$r", NULL, NULL },
	};
	char text[1024], log[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct mx_event ev;

		snprintf(text, sizeof(text), "{\"type\":\"m.room.message\","
			 ENV "\"content\":%s}", cases[i].content);
		assert_int_equal(parse_caught(text, &ev, log, sizeof(log)), 0);
		assert_string_equal(log, "");
		assert_int_equal(ev.rel, cases[i].rel);
		if (cases[i].rel_event)
			assert_string_equal(ev.rel_event, cases[i].rel_event);
		else
			assert_null(ev.rel_event);
		if (cases[i].rel_key)
			assert_string_equal(ev.rel_key, cases[i].rel_key);
		else
			assert_null(ev.rel_key);
		if (cases[i].new_body)
			assert_string_equal(ev.new_body, cases[i].new_body);
		else
			assert_null(ev.new_body);
		assert_string_equal(ev.sender, "@t:localhost");
		assert_string_equal(ev.id, "$e");
		assert_string_equal(ev.room, "!r:localhost");
		mx_event_release(&ev);
	}
}

/* The other fields: message text and HTML, membership with what it
 * was, state keys, creator, power levels, our turn tag; a redacted
 * message (empty content) parses, with nothing to read. */
static void test_event_fields(void **state)
{
	struct mx_event ev;
	char log[512];

	(void)state;
	assert_int_equal(parse_caught("{\"type\":\"m.room.message\"," ENV
		"\"content\":{\"msgtype\":\"m.notice\",\"body\":\"a<b\","
		"\"format\":\"org.matrix.custom.html\",\"formatted_body\":"
		"\"a&lt;b\",\"" MX_TURN_FIELD "\":\"3:4\"}}", &ev, log,
		sizeof(log)), 0);
	assert_string_equal(ev.type, "m.room.message");
	assert_string_equal(ev.msgtype, "m.notice");
	assert_string_equal(ev.body, "a<b");
	assert_string_equal(ev.format, "org.matrix.custom.html");
	assert_string_equal(ev.formatted_body, "a&lt;b");
	assert_string_equal(ev.turn, "3:4");
	assert_null(ev.state_key);
	mx_event_release(&ev);

	assert_int_equal(parse_caught("{\"type\":\"m.room.member\"," ENV
		"\"state_key\":\"@t:localhost\",\"content\":{\"membership\":"
		"\"join\",\"displayname\":\"T\"},\"unsigned\":{"
		"\"prev_content\":{\"membership\":\"invite\"}}}", &ev, log,
		sizeof(log)), 0);
	assert_string_equal(ev.state_key, "@t:localhost");
	assert_string_equal(ev.membership, "join");
	assert_string_equal(ev.prev_membership, "invite");
	assert_string_equal(ev.displayname, "T");
	mx_event_release(&ev);

	/* invite state: stripped, no event id */
	assert_int_equal(parse_caught("{\"type\":\"m.room.member\","
		"\"sender\":\"@a:localhost\",\"state_key\":\"@bot:localhost\","
		"\"content\":{\"membership\":\"invite\"}}", &ev, log,
		sizeof(log)), 0);
	assert_null(ev.id);
	assert_null(ev.prev_membership);
	assert_null(ev.displayname);
	mx_event_release(&ev);

	assert_int_equal(parse_caught("{\"type\":\"m.room.create\"," ENV
		"\"state_key\":\"\",\"content\":{\"creator\":"
		"\"@c:localhost\"}}",
		&ev, log, sizeof(log)), 0);
	assert_string_equal(ev.state_key, "");
	assert_string_equal(ev.creator, "@c:localhost");
	mx_event_release(&ev);

	/* a level that is not an integer is left out, not the event */
	assert_int_equal(parse_caught("{\"type\":\"m.room.power_levels\","
		ENV "\"state_key\":\"\",\"content\":{\"users\":{"
		"\"@a:localhost\":100,\"@b:localhost\":\"50\","
		"\"@c:localhost\":50}}}", &ev, log, sizeof(log)), 0);
	assert_true(ev.has_power);
	assert_int_equal(ev.npower, 2);
	assert_string_equal(ev.power[0].user, "@a:localhost");
	assert_int_equal(ev.power[0].level, 100);
	assert_string_equal(ev.power[1].user, "@c:localhost");
	assert_int_equal(ev.power[1].level, 50);
	mx_event_release(&ev);

	assert_int_equal(parse_caught("{\"type\":\"m.room.power_levels\","
		ENV "\"state_key\":\"\",\"content\":{}}", &ev, log,
		sizeof(log)), 0);
	assert_false(ev.has_power);
	mx_event_release(&ev);

	/* redacted: content emptied by the server, no relation left */
	assert_int_equal(parse_caught("{\"type\":\"m.room.message\"," ENV
		"\"content\":{},\"unsigned\":{\"redacted_because\":{}}}", &ev,
		log, sizeof(log)), 0);
	assert_string_equal(log, "");
	assert_null(ev.body);
	assert_null(ev.msgtype);
	assert_int_equal(ev.rel, MX_REL_NONE);
	mx_event_release(&ev);
}

/* A missing or mistyped field: the event is refused with a log line
 * that names the field; never a crash. */
static void test_event_bad_fields(void **state)
{
	static const char *const cases[][2] = {
		{ "\"geen object\"", "geen object" },
		{ "{\"sender\":\"@t:localhost\",\"content\":{}}", "\"type\"" },
		{ "{\"type\":7,\"sender\":\"@t:localhost\",\"content\":{}}",
		  "\"type\"" },
		{ "{\"type\":\"m.room.message\",\"content\":{}}",
		  "\"sender\"" },
		{ "{\"type\":\"m.room.message\",\"sender\":null,"
		  "\"content\":{}}", "\"sender\"" },
		{ "{\"type\":\"x\",\"sender\":\"@t:localhost\","
		  "\"event_id\":5,\"content\":{}}", "\"event_id\"" },
		{ "{\"type\":\"m.room.member\"," ENV "\"state_key\":7,"
		  "\"content\":{\"membership\":\"join\"}}", "\"state_key\"" },
		{ "{\"type\":\"m.room.message\"," ENV "\"content\":\"x\"}",
		  "\"content\"" },
		{ "{\"type\":\"m.room.message\",\"sender\":\"@t:localhost\"}",
		  "\"content\"" },
		{ "{\"type\":\"m.room.message\"," ENV "\"content\":{"
		  "\"msgtype\":\"m.text\",\"body\":42}}", "\"content.body\"" },
		{ "{\"type\":\"m.room.message\"," ENV "\"content\":{"
		  "\"msgtype\":[\"m.text\"],\"body\":\"x\"}}",
		  "\"content.msgtype\"" },
		{ "{\"type\":\"m.room.message\"," ENV "\"content\":{"
		  "\"body\":\"x\",\"formatted_body\":{}}}",
		  "\"content.formatted_body\"" },
		{ "{\"type\":\"m.room.message\"," ENV "\"content\":{"
		  "\"body\":\"x\",\"m.relates_to\":\"$t\"}}",
		  "\"content.m.relates_to\"" },
		{ "{\"type\":\"m.reaction\"," ENV "\"content\":{"
		  "\"m.relates_to\":{\"rel_type\":\"m.annotation\","
		  "\"event_id\":\"$t\",\"key\":1}}}", "\"m.relates_to.key\"" },
		{ "{\"type\":\"m.room.message\"," ENV "\"content\":{"
		  "\"body\":\"x\",\"m.relates_to\":{\"m.in_reply_to\":{"
		  "\"event_id\":[]}}}}", "\"m.in_reply_to.event_id\"" },
		{ "{\"type\":\"m.room.message\"," ENV "\"content\":{"
		  "\"body\":\"x\",\"m.new_content\":[],\"m.relates_to\":{"
		  "\"rel_type\":\"m.replace\",\"event_id\":\"$o\"}}}",
		  "\"content.m.new_content\"" },
		{ "{\"type\":\"m.room.member\"," ENV "\"state_key\":\"@t\","
		  "\"content\":{\"membership\":null}}",
		  "\"content.membership\"" },
		{ "{\"type\":\"m.room.member\"," ENV "\"state_key\":\"@t\","
		  "\"content\":{\"membership\":\"join\"},\"unsigned\":{"
		  "\"prev_content\":{\"membership\":1}}}",
		  "\"unsigned.prev_content.membership\"" },
		{ "{\"type\":\"m.room.power_levels\"," ENV "\"state_key\":\"\","
		  "\"content\":{\"users\":[]}}", "\"content.users\"" },
		{ "{\"type\":\"m.room.create\"," ENV "\"state_key\":\"\","
		  "\"content\":{\"creator\":{}}}", "\"content.creator\"" },
	};
	char log[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct mx_event ev;

		if (parse_caught(cases[i][0], &ev, log, sizeof(log)) != -1)
			fail_msg("accepted: %s", cases[i][0]);
		if (!strstr(log, "overgeslagen") || !strstr(log, cases[i][1]))
			fail_msg("%s: log does not name %s: %s", cases[i][0],
				 cases[i][1], log);
		mx_event_release(&ev);
	}
}

/* A whole batch: bad events are left out, the rest keep their order;
 * the gap count follows the events kept; invites and leaves are there;
 * something that is not a sync response is refused. */
static void test_sync_batch(void **state)
{
	static const char body[] =
		"{\"next_batch\":\"s2\",\"rooms\":{\"join\":{\"!a:x\":{"
		"\"state\":{\"events\":[{\"type\":\"m.room.create\","
		"\"sender\":\"@c:x\",\"state_key\":\"\",\"content\":{}}]},"
		"\"timeline\":{\"limited\":true,\"" MX_GAP_FIELD "\":3,"
		"\"events\":[{\"type\":\"m.room.message\",\"sender\":\"@t:x\","
		"\"event_id\":\"$1\",\"content\":{}},\"rommel\","
		"{\"type\":\"m.room.message\",\"sender\":\"@t:x\","
		"\"event_id\":\"$2\",\"content\":{}},{\"type\":\"m.room."
		"message\",\"sender\":\"@t:x\",\"event_id\":\"$3\","
		"\"content\":{}}]}},\"!b:x\":{\"timeline\":\"geen lijst\"}},"
		"\"invite\":{\"!i:x\":{\"invite_state\":{\"events\":[{\"type\":"
		"\"m.room.member\",\"sender\":\"@a:x\","
		"\"state_key\":\"@bot:x\","
		"\"content\":{\"membership\":\"invite\"}}]}}},"
		"\"leave\":{\"!l:x\":{}}}}";
	struct mx_sync s;
	const struct mx_room *a = NULL, *bx = NULL;
	FILE *tmp = tmpfile();
	int saved;

	(void)state;
	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	assert_int_equal(mx_sync_parse(body, strlen(body), &s), 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fclose(tmp);
	assert_string_equal(s.next_batch, "s2");
	assert_int_equal(s.njoin, 2);
	for (size_t i = 0; i < s.njoin; i++) {
		if (!strcmp(s.join[i].id, "!a:x"))
			a = &s.join[i];
		if (!strcmp(s.join[i].id, "!b:x"))
			bx = &s.join[i];
	}
	assert_non_null(a);
	assert_non_null(bx);
	assert_true(a->limited);
	assert_int_equal(a->nstate, 1);
	assert_int_equal(a->ntimeline, 3);
	assert_int_equal(a->gap, 2);   /* "rommel" was one of the three */
	assert_string_equal(a->timeline[0].id, "$1");
	assert_string_equal(a->timeline[1].id, "$2");
	assert_string_equal(a->timeline[2].id, "$3");
	assert_int_equal(bx->ntimeline, 0);
	assert_int_equal(s.ninvite, 1);
	assert_string_equal(s.invite[0].id, "!i:x");
	assert_int_equal(s.invite[0].nstate, 1);
	assert_string_equal(s.invite[0].state[0].sender, "@a:x");
	assert_int_equal(s.nleave, 1);
	assert_string_equal(s.leave[0], "!l:x");
	mx_sync_release(&s);

	assert_int_equal(mx_sync_parse("{\"rooms\":{}}", 12, &s), -1);
	assert_null(s.root);
	assert_int_equal(mx_sync_parse("[1", 2, &s), -1);
	assert_int_equal(mx_sync_parse(NULL, 0, &s), -1);
}

/* ---- a callback per request ---- */

static void note(struct fx *fx, const char *what)
{
	size_t n = strlen(fx->answers);

	snprintf(fx->answers + n, sizeof(fx->answers) - n, "%s;", what);
	fx->answered++;
}

static void on_members_cb(void *ctx, long status, const char *const *users,
			  size_t n)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "members %ld %zu %s %s", status, n,
		 n > 0 ? users[0] : "-", n > 1 ? users[1] : "-");
	note(ctx, buf);
}

/* "what status a b", "-" for NULL. */
static void note_pair(void *ctx, const char *what, long status,
		      const char *a, const char *b)
{
	char buf[192];

	snprintf(buf, sizeof(buf), "%s %ld %s %s", what, status, a ? a : "-",
		 b ? b : "-");
	note(ctx, buf);
}

static void on_whoami_cb(void *ctx, long status, const char *user,
			 const char *device)
{
	note_pair(ctx, "whoami", status, user, device);
}
static void on_created_cb(void *ctx, long status, const char *room)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "created %ld %s", status,
		 room ? room : "-");
	note(ctx, buf);
}

static void on_status_cb(void *ctx, long status)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "status %ld", status);
	note(ctx, buf);
}

static int one_answered(struct fx *fx)
{
	return fx->answered >= 1;
}

static int two_answered(struct fx *fx)
{
	return fx->answered >= 2;
}

static int three_answered(struct fx *fx)
{
	return fx->answered >= 3;
}

static int four_answered(struct fx *fx)
{
	return fx->answered >= 4;
}

/* (i) Each request's answer reaches its own callback, typed; a request
 * still running when the client is freed reports MX_CANCELLED, once,
 * so its context can be freed. */
static void test_request_callbacks(void **state)
{
	struct fx *fx = *state;
	static const char *const invite[] = { "@a:x", "@b:x" };

	fx->mode = M_SENDS;
	start(fx, 0, 0);
	mx_joined_members(fx->mx, ROOM, on_members_cb, fx);
	run_until(fx, one_answered);
	mx_whoami(fx->mx, on_whoami_cb, fx);
	run_until(fx, two_answered);
	mx_create_room(fx->mx, "Coachkamer", invite, 2, on_created_cb, fx);
	run_until(fx, three_answered);
	mx_join(fx->mx, ROOM2, on_status_cb, fx);
	mx_leave(fx->mx, ROOM2, NULL, NULL);   /* nobody waits: fine */
	run_until(fx, four_answered);
	assert_string_equal(fx->answers,
			    "members 200 2 @a:x @b:x;"
			    "whoami 200 @oefenkamer:localhost DEV;"
			    "created 200 !nieuw:x;"
			    "status 403;");
	/* still running when the client goes */
	mx_joined_members(fx->mx, ROOM, on_members_cb, fx);
	mx_free(fx->mx);
	fx->mx = NULL;
	assert_int_equal(fx->answered, 5);
	assert_non_null(strstr(fx->answers, "members -1 0 - -;"));
}

static void on_upload_cb(void *ctx, long status, const char *uri,
			 const char *error)
{
	note_pair(ctx, "upload", status, uri, error);
}

static void on_profile_cb(void *ctx, long status, const char *name,
			  const char *avatar)
{
	note_pair(ctx, "profile", status, name, avatar);
}

/* The last media or profile request as the server saw it. */
struct seen {
	struct hit h;
	char ctype[128], auth[64], body[256];
	size_t blen;
};

static void last_hit(struct fx *fx, struct seen *w)
{
	pthread_mutex_lock(&fx->srv->mu);
	w->h = fx->hits[MIN(fx->nhits, MAX_HITS) - 1];
	snprintf(w->ctype, sizeof(w->ctype), "%s", fx->ctype);
	snprintf(w->auth, sizeof(w->auth), "%s", fx->auth);
	memcpy(w->body, fx->body, fx->blen);
	w->blen = fx->blen;
	pthread_mutex_unlock(&fx->srv->mu);
}

/* Nothing reached the server after it had seen before requests, and
 * no callback ran beyond the answered ones, for 100 ms of polling. */
static void no_request_since(struct fx *fx, int before, int answered)
{
	for (int i = 0; i < 10; i++)
		assert_true(mx_poll(fx->mx, 10, -1) >= 0);
	assert_int_equal(server_count(fx->srv, &fx->srv->requests), before);
	assert_int_equal(fx->answered, answered);
}

static void set_upload(struct fx *fx, int mode)
{
	pthread_mutex_lock(&fx->srv->mu);
	fx->upload = mode;
	pthread_mutex_unlock(&fx->srv->mu);
}

/* An upload goes to the media API with its bytes (any bytes) as its
 * content type, the file name in the query; the callback gets the
 * mxc:// URI, or the server's reason; an answer without a valid
 * content_uri is no success; what cannot be sent is refused at once. */
static void test_media_upload(void **state)
{
	struct fx *fx = *state;
	static const char data[] = "<p>\x00\xff bytes</p>";
	struct seen w;
	int before;

	fx->mode = M_SENDS;
	start(fx, 0, 0);
	assert_int_equal(mx_media_upload(fx->mx, "nabespreking 1.html",
					 "text/html; charset=utf-8", data,
					 sizeof(data) - 1, on_upload_cb, fx),
			 0);
	run_until(fx, one_answered);
	assert_string_equal(fx->answers,
			    "upload 200 mxc://localhost/AbC-1_x -;");
	last_hit(fx, &w);
	assert_string_equal(w.h.method, "POST");
	assert_string_equal(w.h.path, "/_matrix/media/v3/upload");
	assert_string_equal(w.h.query, "?filename=nabespreking%201.html");
	assert_string_equal(w.ctype, "text/html; charset=utf-8");
	assert_string_equal(w.auth, "Bearer syt_test");
	assert_int_equal(w.blen, sizeof(data) - 1);
	assert_memory_equal(w.body, data, w.blen);

	set_upload(fx, U_TOO_LARGE);
	assert_int_equal(mx_media_upload(fx->mx, NULL, "image/png", "x", 1,
					 on_upload_cb, fx), 0);
	run_until(fx, two_answered);
	last_hit(fx, &w);
	assert_string_equal(w.h.query, "");
	assert_string_equal(w.ctype, "image/png");
	set_upload(fx, U_BAD_URI);
	assert_int_equal(mx_media_upload(fx->mx, "a.png", "image/png", "x", 1,
					 on_upload_cb, fx), 0);
	run_until(fx, three_answered);
	assert_string_equal(fx->answers,
			    "upload 200 mxc://localhost/AbC-1_x -;"
			    "upload 413 - Te groot;"
			    "upload 0 - het antwoord heeft geen geldige "
			    "content_uri;");

	/* refused before any request: no callback either */
	before = server_count(fx->srv, &fx->srv->requests);
	assert_int_equal(mx_media_upload(fx->mx, "a", "image/png", data,
					 MX_UPLOAD_MAX + 1, on_upload_cb, fx),
			 -1);
	assert_int_equal(mx_media_upload(fx->mx, "a", "text/html\r\nX: y",
					 "x", 1, on_upload_cb, fx), -1);
	assert_int_equal(mx_media_upload(fx->mx, "a", "", "x", 1,
					 on_upload_cb, fx), -1);
	assert_int_equal(mx_media_upload(fx->mx, "", "image/png", "x", 1,
					 on_upload_cb, fx), -1);
	no_request_since(fx, before, 3);
}

/* The global profile: read it, set the name and the avatar (as JSON
 * bodies on our own user's paths); an avatar that is no mxc:// URI is
 * refused without a request. */
static void test_profile(void **state)
{
	struct fx *fx = *state;
	struct seen w;
	int before;

	fx->mode = M_SENDS;
	start(fx, 0, 0);
	mx_profile_get(fx->mx, on_profile_cb, fx);
	run_until(fx, one_answered);
	last_hit(fx, &w);
	assert_string_equal(w.h.method, "GET");
	assert_string_equal(w.h.path, "/_matrix/client/v3/profile/"
			    "%40oefenkamer%3Alocalhost");
	mx_profile_set_displayname(fx->mx, "Oefenkamer", on_status_cb, fx);
	run_until(fx, two_answered);
	last_hit(fx, &w);
	assert_string_equal(w.h.method, "PUT");
	assert_string_equal(w.h.path, "/_matrix/client/v3/profile/"
			    "%40oefenkamer%3Alocalhost/displayname");
	assert_string_equal(w.ctype, "application/json");
	assert_int_equal(w.blen, strlen("{\"displayname\":"
					"\"Oefenkamer\"}"));
	assert_memory_equal(w.body, "{\"displayname\":\"Oefenkamer\"}",
			    w.blen);
	assert_int_equal(mx_profile_set_avatar_url(fx->mx,
			 "mxc://localhost/AbC-1_x", on_status_cb, fx), 0);
	run_until(fx, three_answered);
	last_hit(fx, &w);
	assert_string_equal(w.h.path, "/_matrix/client/v3/profile/"
			    "%40oefenkamer%3Alocalhost/avatar_url");
	assert_int_equal(w.blen, strlen("{\"avatar_url\":"
				      "\"mxc://localhost/AbC-1_x\"}"));
	assert_memory_equal(w.body, "{\"avatar_url\":"
			    "\"mxc://localhost/AbC-1_x\"}", w.blen);
	assert_string_equal(fx->answers,
			    "profile 200 oefenkamer mxc://localhost/oud;"
			    "status 200;status 200;");

	before = server_count(fx->srv, &fx->srv->requests);
	assert_int_equal(mx_profile_set_avatar_url(fx->mx, "https://x/y.png",
						   on_status_cb, fx), -1);
	assert_int_equal(mx_profile_set_avatar_url(fx->mx, "mxc://localhost/",
						   on_status_cb, fx), -1);
	assert_int_equal(mx_profile_set_avatar_url(fx->mx, "mxc:///abc",
						   on_status_cb, fx), -1);
	assert_int_equal(mx_profile_set_avatar_url(fx->mx,
			 "mxc://localhost/a\"b", on_status_cb, fx), -1);
	no_request_since(fx, before, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_sync_waits_for_reply),
		T(test_sync_hold_capped),
		T(test_receipt_after_reply),
		T(test_receipt_while_typing),
		T(test_gap_filled),
		T(test_background_after_foreground),
		T(test_429_pauses_one_room),
		T(test_empty_queues_dropped),
		T(test_trim_after_burst),
		T(test_trim_after_big_batch),
		T(test_no_trim_after_small_batch),
		T(test_many_queues),
		T(test_too_large_dropped),
		T(test_request_callbacks),
		T(test_media_upload),
		T(test_profile),
#undef T
		cmocka_unit_test(test_event_relations),
		cmocka_unit_test(test_event_fields),
		cmocka_unit_test(test_event_bad_fields),
		cmocka_unit_test(test_sync_batch),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
