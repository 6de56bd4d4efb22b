/* mx.c - see mx.h */
#include "mx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 10000
#define SYNC_SLACK_MS 30000      /* client timeout beyond the long poll */
#define REQUEST_TIMEOUT_MS 30000
/* After a /sync batch the next /sync waits (at most this long) for the
 * replies the batch caused: Synapse, one Python thread, would otherwise
 * serve our /sync while it delivers the reply to the trainee. */
#define SYNC_HOLD_MS 250
/* A read receipt follows the room's last send by this much, for the
 * same reason: the reply reaches the trainee first. */
#define RECEIPT_AFTER_SEND_MS 200

/* Only the event types the bot uses; members lazily loaded. */
static const char sync_filter[] =
	"{\"presence\":{\"types\":[]},"
	"\"account_data\":{\"types\":[]},"
	"\"room\":{\"timeline\":{\"limit\":200,\"types\":"
	"[\"m.room.message\",\"m.room.member\",\"m.reaction\","
	"\"m.room.encrypted\",\"m.room.encryption\",\"m.room.power_levels\","
	"\"m.room.create\"]},"
	"\"state\":{\"lazy_load_members\":true,\"types\":"
	"[\"m.room.member\",\"m.room.encryption\",\"m.room.power_levels\","
	"\"m.room.create\"]},"
	"\"ephemeral\":{\"types\":[]},"
	"\"account_data\":{\"types\":[]}}}";

struct send_item {
	char *room, *type, *txn, *body;
	char *state_key;         /* a state event (on_done reports), or NULL */
	int typing_ms;
	int typed;               /* typing notification already sent */
	int prepared;            /* passed the prepare hook (e.g. encrypted):
				  * a resend carries the same body */
	uint64_t cookie;
	int attempts;
	int64_t not_before;
	struct send_item *next;
};

struct room_q {
	char *room;
	struct send_item *head, *tail;
	uint64_t inflight;       /* http request id, 0 if none */
	char *receipt;           /* event to mark read after the sends */
	int64_t receipt_at;      /* not before this (set by the last send) */
	struct mx *mx;
};

struct mx {
	struct http *http;
	char *hs, *user, *token, *device;
	struct mx_handlers h;
	/* sync */
	int syncing;
	char *since;
	int sync_timeout;
	uint64_t sync_req;
	int64_t sync_at;         /* next sync attempt not before this */
	int held;                /* sends in flight the next /sync waits for */
	int64_t hold_until;      /* ... but no longer than this */
	unsigned hold_gen;       /* which batch's sends hold: the last one */
	int sync_fails;
	/* sends */
	struct room_q *rooms;
	size_t nrooms, rooms_cap;
	int64_t paused_until;    /* 429: all sends wait until then */
	int send_fails;
	uint64_t rng;
};

struct call {
	struct mx *mx;
	uint64_t cookie;
	int kind;
};

enum { CALL_DONE, CALL_LOGIN, CALL_QUIET };

/* Exponential backoff with +-25% jitter, capped. */
static int64_t backoff_ms(struct mx *mx, int fails)
{
	int64_t b = BACKOFF_MIN_MS;
	uint64_t x;

	for (int i = 1; i < fails && b < BACKOFF_MAX_MS; i++)
		b *= 2;
	if (b > BACKOFF_MAX_MS)
		b = BACKOFF_MAX_MS;
	mx->rng ^= mx->rng << 13;
	mx->rng ^= mx->rng >> 7;
	mx->rng ^= mx->rng << 17;
	x = mx->rng % 1000;
	return b * 3 / 4 + (int64_t)((uint64_t)b / 2 * x / 1000);
}

/* Log the first failure, then every power of two, so a long outage says
 * what is happening without flooding. */
static int worth_logging(int fails)
{
	return (fails & (fails - 1)) == 0;
}

static void url(struct mx *mx, struct sbuf *sb, const char *path)
{
	sbuf_reset(sb);
	sbuf_adds(sb, mx->hs);
	sbuf_adds(sb, "/_matrix/client/v3");
	sbuf_adds(sb, path);
}

struct mx *mx_new(const char *homeserver, const char *user_id,
		  const struct mx_handlers *h)
{
	struct mx *mx = xcalloc(1, sizeof(*mx));
	size_t n = strlen(homeserver);

	while (n && homeserver[n - 1] == '/')
		n--;
	mx->hs = xstrndup(homeserver, n);
	mx->user = xstrdup(user_id);
	mx->h = *h;
	mx->http = http_new();
	mx->rng = (uint64_t)mono_ms() | 1;
	return mx;
}

static void item_free(struct send_item *it)
{
	free(it->room);
	free(it->type);
	free(it->txn);
	free(it->body);
	free(it->state_key);
	free(it);
}

void mx_free(struct mx *mx)
{
	if (!mx)
		return;
	mx->syncing = 0;
	/* in-flight callbacks run with "cancelled" and find nothing to do */
	for (size_t i = 0; i < mx->nrooms; i++)
		mx->rooms[i].mx = NULL;
	http_free(mx->http);
	for (size_t i = 0; i < mx->nrooms; i++) {
		struct send_item *it = mx->rooms[i].head;

		while (it) {
			struct send_item *n = it->next;

			item_free(it);
			it = n;
		}
		free(mx->rooms[i].room);
		free(mx->rooms[i].receipt);
	}
	free(mx->rooms);
	if (mx->token) {
		explicit_bzero(mx->token, strlen(mx->token));
		free(mx->token);
	}
	free(mx->device);
	free(mx->hs);
	free(mx->user);
	free(mx->since);
	free(mx);
}

void mx_set_token(struct mx *mx, const char *access_token,
		  const char *device_id)
{
	if (mx->token) {
		explicit_bzero(mx->token, strlen(mx->token));
		free(mx->token);
	}
	free(mx->device);
	mx->token = xstrdup(access_token);
	mx->device = device_id ? xstrdup(device_id) : NULL;
}

/* --- generic calls --- */

static json_t *parse_body(const struct http_response *r)
{
	json_error_t e;

	if (!r->body || !r->len)
		return NULL;
	return json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &e);
}

static void call_done(void *arg, const struct http_response *r)
{
	struct call *c = arg;
	struct mx *mx = c->mx;
	json_t *body = parse_body(r);

	if (r->error && strcmp(r->error, "cancelled") == 0) {
		json_decref(body);
		free(c);
		return;
	}
	if (c->kind == CALL_LOGIN) {
		const char *tok = json_string_value(json_object_get(body,
							"access_token"));
		const char *dev = json_string_value(json_object_get(body,
							"device_id"));
		const char *err = json_string_value(json_object_get(body,
							"error"));

		if (r->status == 200 && tok && dev) {
			mx_set_token(mx, tok, dev);
			mx->h.on_login(mx->h.arg, 1, tok, dev, NULL);
		} else {
			mx->h.on_login(mx->h.arg, 0, NULL, NULL, err ? err :
				       r->error ? r->error : "login mislukt");
		}
	} else if (c->kind == CALL_DONE && mx->h.on_done) {
		mx->h.on_done(mx->h.arg, c->cookie, r->status, body);
	}
	json_decref(body);
	free(c);
}

static void request(struct mx *mx, const char *method, const char *path,
		    json_t *body, int kind, uint64_t cookie)
{
	struct call *c = xcalloc(1, sizeof(*c));
	struct sbuf u;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	c->mx = mx;
	c->kind = kind;
	c->cookie = cookie;
	sbuf_init(&u);
	url(mx, &u, path);
	http_request(mx->http, method, u.buf, mx->token, text,
		     text ? strlen(text) : 0, REQUEST_TIMEOUT_MS, call_done,
		     c);
	if (text) {
		if (kind == CALL_LOGIN)
			explicit_bzero(text, strlen(text));
		free(text);
	}
	sbuf_release(&u);
}

void mx_login(struct mx *mx, const char *password, const char *device_name)
{
	json_t *b = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s}",
			      "type", "m.login.password",
			      "identifier", "type", "m.id.user",
			      "user", mx->user,
			      "password", password,
			      "initial_device_display_name", device_name);

	request(mx, "POST", "/login", b, CALL_LOGIN, 0);
	/* the copy of the password inside b */
	{
		json_t *p = json_object_get(b, "password");
		const char *v = json_string_value(p);

		if (v)
			explicit_bzero((char *)v, strlen(v));
	}
	json_decref(b);
}

static void room_path(struct sbuf *sb, const char *room, const char *rest)
{
	sbuf_reset(sb);
	sbuf_adds(sb, "/rooms/");
	http_escape(sb, room);
	sbuf_adds(sb, rest);
}

void mx_call(struct mx *mx, const char *method, const char *path,
	     json_t *body, uint64_t cookie)
{
	request(mx, method, path, body, CALL_DONE, cookie);
}

void mx_join(struct mx *mx, const char *room, uint64_t cookie)
{
	struct sbuf p;
	json_t *b = json_object();

	sbuf_init(&p);
	sbuf_adds(&p, "/join/");
	http_escape(&p, room);
	request(mx, "POST", p.buf, b, CALL_DONE, cookie);
	json_decref(b);
	sbuf_release(&p);
}

void mx_leave(struct mx *mx, const char *room, uint64_t cookie)
{
	struct sbuf p;
	json_t *b = json_object();

	sbuf_init(&p);
	room_path(&p, room, "/leave");
	request(mx, "POST", p.buf, b, CALL_DONE, cookie);
	json_decref(b);
	sbuf_release(&p);
}

static struct room_q *room_get(struct mx *mx, const char *room);

/* Synapse writes one transaction at a time: a receipt beside a reply
 * delays the reply, so it goes once the room's sends are out. */
void mx_receipt(struct mx *mx, const char *room, const char *event_id)
{
	struct room_q *q = room_get(mx, room);

	free(q->receipt);
	q->receipt = xstrdup(event_id);
}

static void receipt_issue(struct mx *mx, struct room_q *q)
{
	struct sbuf p;
	json_t *b = json_object();

	sbuf_init(&p);
	room_path(&p, q->room, "/receipt/m.read/");
	http_escape(&p, q->receipt);
	request(mx, "POST", p.buf, b, CALL_QUIET, 0);
	json_decref(b);
	sbuf_release(&p);
	free(q->receipt);
	q->receipt = NULL;
}

static void mx_typing(struct mx *mx, const char *room, int typing,
		      int timeout_ms)
{
	struct sbuf p;
	json_t *b = typing ? json_pack("{s:b, s:i}", "typing", 1, "timeout",
				       timeout_ms) :
			     json_pack("{s:b}", "typing", 0);

	sbuf_init(&p);
	room_path(&p, room, "/typing/");
	http_escape(&p, mx->user);
	request(mx, "PUT", p.buf, b, CALL_QUIET, 0);
	json_decref(b);
	sbuf_release(&p);
}

static struct send_item *queue_item(struct mx *mx, const char *room,
				    const char *type, const char *txn,
				    json_t *content, uint64_t cookie);

/* In the room's send queue, so that it keeps its place between the
 * messages before and after it. */
void mx_set_displayname(struct mx *mx, const char *room, const char *name,
			uint64_t cookie)
{
	json_t *b = json_pack("{s:s, s:s}", "membership", "join",
			      "displayname", name);
	struct send_item *it = queue_item(mx, room, "m.room.member", "", b,
					  cookie);

	it->state_key = xstrdup(mx->user);
	json_decref(b);
}

void mx_joined_members(struct mx *mx, const char *room, uint64_t cookie)
{
	struct sbuf p;

	sbuf_init(&p);
	room_path(&p, room, "/joined_members");
	request(mx, "GET", p.buf, NULL, CALL_DONE, cookie);
	sbuf_release(&p);
}

/* --- sync --- */

static void sync_issue(struct mx *mx);

static void sync_failed(struct mx *mx, const struct http_response *r,
			json_t *body)
{
	int64_t wait;
	const char *err = json_string_value(json_object_get(body, "error"));

	mx->sync_fails++;
	if (r->status == 429) {
		json_t *ra = json_object_get(body, "retry_after_ms");

		wait = json_is_integer(ra) ? json_integer_value(ra) :
		       r->retry_after_ms >= 0 ? r->retry_after_ms : 1000;
	} else {
		wait = backoff_ms(mx, mx->sync_fails);
	}
	if (wait > BACKOFF_MAX_MS * 4)
		wait = BACKOFF_MAX_MS * 4;
	if (worth_logging(mx->sync_fails))
		log_line("sync mislukt (%s%s%s), opnieuw over %.1f s "
		      "(poging %d)", r->status ? "HTTP " : "",
		      r->status ? (err ? err : "fout") :
		      (r->error ? r->error : "geen antwoord"),
		      r->status ? "" : "", (double)wait / 1000.0,
		      mx->sync_fails);
	mx->sync_at = mono_ms() + wait;
}

int mx_sync_parse(const char *body, size_t len, struct mx_sync *s)
{
	json_error_t e;
	json_t *root, *rooms;

	memset(s, 0, sizeof(*s));
	root = body && len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &e)
			   : NULL;
	if (!json_is_object(root) ||
	    !json_is_string(json_object_get(root, "next_batch"))) {
		json_decref(root);
		return -1;
	}
	s->root = root;
	s->next_batch = json_string_value(json_object_get(root, "next_batch"));
	rooms = json_object_get(root, "rooms");
	if (json_is_object(rooms)) {
		s->rooms_join = json_object_get(rooms, "join");
		s->rooms_invite = json_object_get(rooms, "invite");
		s->rooms_leave = json_object_get(rooms, "leave");
		if (!json_is_object(s->rooms_join))
			s->rooms_join = NULL;
		if (!json_is_object(s->rooms_invite))
			s->rooms_invite = NULL;
		if (!json_is_object(s->rooms_leave))
			s->rooms_leave = NULL;
	}
	return 0;
}

static void sync_done(void *arg, const struct http_response *r)
{
	struct mx *mx = arg;
	struct mx_sync s;

	if (r->error && strcmp(r->error, "cancelled") == 0)
		return;
	mx->sync_req = 0;
	if (r->status != 200 || mx_sync_parse(r->body, r->len, &s) < 0) {
		json_t *body = parse_body(r);

		if (r->status == 200)
			log_line("sync: onleesbaar antwoord van de homeserver "
			      "(%zu bytes)", r->len);
		sync_failed(mx, r, body);
		json_decref(body);
		return;
	}
	if (mx->sync_fails)
		log_line("sync: weer verbonden na %d mislukte pogingen",
		      mx->sync_fails);
	mx->sync_fails = 0;
	if (mx->h.on_sync(mx->h.arg, &s) == 0) {
		free(mx->since);
		mx->since = xstrdup(s.next_batch);
		mx->sync_at = 0;
		/* only this batch's own replies hold the next /sync */
		mx->hold_gen++;
		mx->held = 0;
		mx->hold_until = mono_ms() + SYNC_HOLD_MS;
	} else {
		mx->sync_at = mono_ms() + 1000;   /* same batch again */
	}
	json_decref(s.root);
}

static void sync_issue(struct mx *mx)
{
	struct sbuf u;

	sbuf_init(&u);
	url(mx, &u, "/sync?filter=");
	http_escape(&u, sync_filter);
	sbuf_addf(&u, "&timeout=%d", mx->since ? mx->sync_timeout : 0);
	if (mx->since) {
		sbuf_adds(&u, "&since=");
		http_escape(&u, mx->since);
	}
	mx->sync_req = http_request(mx->http, "GET", u.buf, mx->token, NULL,
				    0, mx->sync_timeout + SYNC_SLACK_MS,
				    sync_done, mx);
	sbuf_release(&u);
}

void mx_sync_start(struct mx *mx, const char *since, int timeout_ms)
{
	free(mx->since);
	mx->since = since ? xstrdup(since) : NULL;
	mx->sync_timeout = timeout_ms;
	mx->syncing = 1;
	mx->sync_at = 0;
}

void mx_sync_stop(struct mx *mx)
{
	mx->syncing = 0;
	if (mx->sync_req)
		http_cancel(mx->http, mx->sync_req);
	mx->sync_req = 0;
}

/* --- sends --- */

static struct room_q *room_get(struct mx *mx, const char *room)
{
	for (size_t i = 0; i < mx->nrooms; i++)
		if (strcmp(mx->rooms[i].room, room) == 0)
			return &mx->rooms[i];
	XGROW(mx->rooms, mx->rooms_cap, mx->nrooms + 1);
	memset(&mx->rooms[mx->nrooms], 0, sizeof(mx->rooms[0]));
	mx->rooms[mx->nrooms].room = xstrdup(room);
	mx->rooms[mx->nrooms].mx = mx;
	return &mx->rooms[mx->nrooms++];
}

static struct send_item *queue_item(struct mx *mx, const char *room,
				    const char *type, const char *txn,
				    json_t *content, uint64_t cookie)
{
	struct room_q *q = room_get(mx, room);
	struct send_item *it = xcalloc(1, sizeof(*it));

	it->room = xstrdup(room);
	it->type = xstrdup(type);
	it->txn = xstrdup(txn);
	it->body = json_dumps(content, JSON_COMPACT);
	if (!it->body)
		it->body = xstrdup("{}");
	it->cookie = cookie;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	return it;
}

void mx_send(struct mx *mx, const char *room, const char *type,
	     const char *txn, json_t *content, int typing_ms, uint64_t cookie)
{
	queue_item(mx, room, type, txn, content, cookie)->typing_ms =
		typing_ms;
}

size_t mx_sends_pending(const struct mx *mx)
{
	size_t n = 0;

	for (size_t i = 0; i < mx->nrooms; i++)
		for (struct send_item *it = mx->rooms[i].head; it;
		     it = it->next)
			n++;
	return n;
}

/* The room queue of a finished send: found by room name, since the
 * rooms array may have grown (and moved) meanwhile. */
struct send_ctx {
	struct mx *mx;
	char *room;
	int holds;               /* the next /sync waits for this send */
	unsigned gen;            /* ... if no batch came since (hold_gen) */
};

/* A queued item leaves the queue: sent (200) or refused for good. */
static void item_report(struct mx *mx, const struct send_item *it,
			long status, json_t *body)
{
	if (it->state_key) {
		if (mx->h.on_done)
			mx->h.on_done(mx->h.arg, it->cookie, status, body);
	} else if (mx->h.on_sent) {
		mx->h.on_sent(mx->h.arg, it->cookie, status == 200,
			      json_string_value(json_object_get(body,
							"event_id")));
	}
}

/* The head item is finished (sent, or given up): report and drop it. */
static void head_done(struct mx *mx, struct room_q *q, long status,
		      json_t *body)
{
	struct send_item *it = q->head;

	q->head = it->next;
	if (!q->head) {
		q->tail = NULL;
		q->receipt_at = mono_ms() + RECEIPT_AFTER_SEND_MS;
	}
	if (it->typing_ms > 0 && !q->head)
		mx_typing(mx, it->room, 0, 0);
	item_report(mx, it, status, body);
	item_free(it);
}

static void send_done(void *arg, const struct http_response *r)
{
	struct send_ctx *sc = arg;
	struct mx *mx = sc->mx;
	struct room_q *q;
	struct send_item *it;
	json_t *body;

	if (sc->holds && sc->gen == mx->hold_gen)
		mx->held--;
	if (r->error && strcmp(r->error, "cancelled") == 0) {
		free(sc->room);
		free(sc);
		return;
	}
	q = room_get(mx, sc->room);
	free(sc->room);
	free(sc);
	q->inflight = 0;
	it = q->head;
	if (!it)
		return;
	body = parse_body(r);
	if (r->status == 200) {
		if (mx->send_fails)
			log_line("versturen lukt weer");
		mx->send_fails = 0;
		head_done(mx, q, r->status, body);
	} else if (r->status == 429) {
		json_t *ra = json_object_get(body, "retry_after_ms");
		int64_t wait = json_is_integer(ra) ? json_integer_value(ra) :
			       r->retry_after_ms >= 0 ? r->retry_after_ms :
			       1000;

		if (wait > 600000)
			wait = 600000;
		mx->paused_until = mono_ms() + wait;
		log_line("homeserver vraagt te wachten (429): versturen "
		      "gepauzeerd voor %.1f s", (double)wait / 1000.0);
	} else if (r->status == 0 || r->status >= 500 || r->status == 401) {
		int64_t wait;

		it->attempts++;
		mx->send_fails++;
		wait = backoff_ms(mx, it->attempts);
		it->not_before = mono_ms() + wait;
		if (worth_logging(mx->send_fails))
			log_line("versturen naar %s mislukt (%s), opnieuw over "
			      "%.1f s", it->room, r->status ? "serverfout" :
			      (r->error ? r->error : "geen antwoord"),
			      (double)wait / 1000.0);
	} else {
		const char *err = json_string_value(json_object_get(body,
							"error"));

		log_line("bericht in %s niet verstuurd: HTTP %ld %s", it->room,
		      r->status, err ? err : "");
		head_done(mx, q, r->status, body);
	}
	json_decref(body);
}

static void send_issue(struct mx *mx, struct room_q *q)
{
	struct send_item *it = q->head;
	struct send_ctx *sc = xcalloc(1, sizeof(*sc));
	struct sbuf p, u;

	sc->mx = mx;
	sc->room = xstrdup(q->room);
	if (mx->syncing && !mx->sync_req) {   /* a reply to the last batch */
		sc->holds = 1;
		sc->gen = mx->hold_gen;
		mx->held++;
	}
	sbuf_init(&p);
	sbuf_init(&u);
	room_path(&p, it->room, it->state_key ? "/state/" : "/send/");
	http_escape(&p, it->type);
	sbuf_addc(&p, '/');
	http_escape(&p, it->state_key ? it->state_key : it->txn);
	url(mx, &u, p.buf);
	q->inflight = http_request(mx->http, "PUT", u.buf, mx->token,
				   it->body, strlen(it->body),
				   REQUEST_TIMEOUT_MS, send_done, sc);
	sbuf_release(&p);
	sbuf_release(&u);
}

/* Run the owner's prepare hook on the head item: 1 ready, 0 wait, -1
 * dropped. */
static int prepare(struct mx *mx, struct room_q *q, struct send_item *it)
{
	char *type = NULL, *body = NULL;
	int rc;

	/* state events (display names) are never encrypted */
	if (!mx->h.prepare || it->state_key) {
		it->prepared = 1;
		return 1;
	}
	rc = mx->h.prepare(mx->h.arg, it->room, it->type, it->body, &type,
			   &body);
	if (rc < 0) {
		head_done(mx, q, 0, NULL);
		return -1;
	}
	if (rc == 0)
		return 0;
	if (type && body) {
		free(it->type);
		free(it->body);
		it->type = type;
		it->body = body;
	} else {
		free(type);
		free(body);
	}
	it->prepared = 1;
	return 1;
}

/* Start what is due; return ms until the next thing is due (or -1). */
static int64_t tick(struct mx *mx, int64_t now)
{
	int64_t next = -1;

#define DUE(t) do { int64_t d_ = (t) - now; \
		if (d_ < 0) d_ = 0; \
		if (next < 0 || d_ < next) next = d_; } while (0)
	for (size_t i = 0; i < mx->nrooms && mx->token; i++) {
		struct room_q *q = &mx->rooms[i];
		struct send_item *it = q->head;
		int64_t at;

		if (q->receipt && !q->inflight) {
			if (it ? it->typing_ms > 0 : now >= q->receipt_at)
				receipt_issue(mx, q);
			else if (!it)
				DUE(q->receipt_at);
		}
		if (!it || q->inflight)
			continue;
		at = it->not_before > mx->paused_until ? it->not_before :
		     mx->paused_until;
		if (now < at) {
			DUE(at);
			continue;
		}
		if (it->typing_ms > 0 && !it->typed) {
			it->typed = 1;
			mx_typing(mx, it->room, 1, it->typing_ms + 2000);
			it->not_before = now + it->typing_ms;
			DUE(it->not_before);
			continue;
		}
		if (!it->prepared && prepare(mx, q, it) <= 0)
			continue;
		send_issue(mx, q);
	}
	/* after the sends: a reply should not queue behind a new /sync */
	if (mx->syncing && !mx->sync_req && mx->token) {
		int64_t at = mx->sync_at;

		if (mx->held > 0 && mx->hold_until > at)
			at = mx->hold_until;
		if (now >= at)
			sync_issue(mx);
		else
			DUE(at);
	}
#undef DUE
	return next;
}

int mx_poll(struct mx *mx, int timeout_ms, int extra_fd)
{
	int64_t next = tick(mx, mono_ms());
	int rc;

	if (next >= 0 && next < timeout_ms)
		timeout_ms = (int)next;
	rc = http_poll(mx->http, timeout_ms, extra_fd);
	tick(mx, mono_ms());
	return rc;
}
