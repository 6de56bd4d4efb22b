/* mx.c - see mx.h */
#include "mx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "verify.h"

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
/* A /sync body this large (about a hundred events) leaves enough freed
 * heap behind to give back (xtrim) once the batch is released: on the
 * loop round after it, when the HTTP layer has freed the body too (it
 * frees it after the callback; a trim inside the callback left the
 * body's heap resident once it was freed). */
#define TRIM_AFTER_BYTES (64 * 1024)
/* Sends finished since the heap was last given back: once this many
 * have gone and every send queue has drained (rooms_prune), the heap
 * the burst grew (the bodies, the batches and outbox rows behind them)
 * goes back too. A join storm's greetings come in batches under
 * TRIM_AFTER_BYTES, so without this the freed heap stayed resident. */
#define TRIM_AFTER_SENDS 64
/* Filling a limited timeline's gap: events per /messages page, and the
 * bounds: events per room, bytes of pages per batch (see mx.h). */
#define GAP_PAGE 100
#define GAP_MAX_EVENTS 5000
#define GAP_MAX_BYTES (32u << 20)

/* Only the event types the bot uses; members lazily loaded. The gap
 * filter (for /messages) has the timeline's types. */
#define TIMELINE_TYPES \
	"[\"m.room.message\",\"m.room.member\",\"m.reaction\"," \
	"\"m.room.encrypted\",\"m.room.encryption\",\"m.room.power_levels\"," \
	"\"m.room.create\"]"
static const char gap_filter[] = "{\"types\":" TIMELINE_TYPES "}";
static const char sync_filter[] =
	"{\"presence\":{\"types\":[]},"
	"\"account_data\":{\"types\":[]},"
	"\"room\":{\"timeline\":{\"limit\":200,\"types\":"
	TIMELINE_TYPES "},"
	"\"state\":{\"lazy_load_members\":true,\"types\":"
	"[\"m.room.member\",\"m.room.encryption\",\"m.room.power_levels\","
	"\"m.room.create\"]},"
	"\"ephemeral\":{\"types\":[]},"
	"\"account_data\":{\"types\":[]}}}";

struct send_item {
	char *room, *type, *txn, *body;
	char *state_key;         /* a state event (display name), or NULL */
	int typing_ms;
	int typed;               /* typing notification already sent */
	int prepared;            /* passed the prepare hook (e.g. encrypted):
				  * a resend carries the same body */
	int bg;                  /* background: after every foreground item */
	uint64_t cookie;
	int attempts;
	int64_t not_before;
	struct send_item *next;
};

/* A room's sends: two ordered lists, foreground (answers, notices,
 * display names) before background (replay lines); one request in
 * flight per room. */
struct room_q {
	char *room;
	struct send_item *head, *tail;
	struct send_item *bg_head, *bg_tail;
	struct send_item *cur;   /* the item in flight, or NULL */
	uint64_t inflight;       /* http request id, 0 if none */
	int64_t paused_until;    /* a 429 on this room's sends */
	char *receipt;           /* event to mark read after the sends */
	int64_t receipt_at;      /* not before this (set by the last send) */
	uint64_t hash;           /* of room, for the index */
	struct room_q *chain;    /* next in its index bucket */
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
	/* a limited timeline's gap being filled before the batch goes up */
	struct gap {
		json_t *root;        /* the held /sync response, or NULL */
		json_t *todo;        /* room ids still to fill */
		size_t next;         /* index into todo */
		char *room;          /* being filled, or NULL */
		char *from;          /* next page's token */
		json_t *events;      /* the room's gap so far, newest first */
		size_t bytes;        /* of the whole batch's pages */
		int fails;
		uint64_t req;        /* http request id, 0 if none */
		int64_t at;          /* next page not before this */
	} gap;
	/* sends: the rooms with a queue, and an index of them by room id
	 * (chained buckets, at most one queue per bucket on average) */
	struct room_q **rooms;
	size_t nrooms, rooms_cap;
	struct room_q **bucket;
	size_t nbuckets;         /* 0 or a power of two */
	int64_t paused_until;    /* a 429 outside a room: all sends wait */
	int64_t bg_paused_until; /* any 429: background sends wait */
	size_t nfg;              /* foreground items queued, all rooms */
	int send_fails;
	size_t sent_since_trim;  /* items finished since the last xtrim */
	int trim_due;            /* a big batch went up: xtrim next round */
	size_t trims;            /* xtrim calls (big batch, drained burst) */
	size_t trim_body_bytes;  /* response bytes held at the last one */
	uint64_t rng;
};

/* Any of the mx_*_cb types, stored as one; adapt casts it back. */
typedef void (*any_cb)(void);

/* One request and whom its answer goes to: adapt turns the parsed body
 * into the owner's callback fn (of the type adapt knows). */
struct call {
	struct mx *mx;
	int kind;
	void (*adapt)(struct call *c, long status, json_t *body);
	any_cb fn;
	void *ctx;
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

#define CLIENT_API "/_matrix/client/v3"
#define MEDIA_API "/_matrix/media/v3"

/* The URL of path in api (CLIENT_API or MEDIA_API). */
static void api_url(struct mx *mx, struct sbuf *sb, const char *api,
		    const char *path)
{
	sbuf_reset(sb);
	sbuf_adds(sb, mx->hs);
	sbuf_adds(sb, api);
	sbuf_adds(sb, path);
}

static void url(struct mx *mx, struct sbuf *sb, const char *path)
{
	api_url(mx, sb, CLIENT_API, path);
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

static void items_free(struct send_item *it)
{
	while (it) {
		struct send_item *n = it->next;

		item_free(it);
		it = n;
	}
}

/* Forget a gap being filled (and the batch held for it). */
static void gap_clear(struct mx *mx)
{
	struct gap *g = &mx->gap;

	if (g->req)
		http_cancel(mx->http, g->req);
	json_decref(g->root);
	json_decref(g->todo);
	json_decref(g->events);
	free(g->room);
	free(g->from);
	memset(g, 0, sizeof(*g));
}

void mx_free(struct mx *mx)
{
	if (!mx)
		return;
	mx->syncing = 0;
	/* in-flight callbacks run with "cancelled" and find nothing to do */
	gap_clear(mx);             /* cancels its request: before http_free */
	http_free(mx->http);
	for (size_t i = 0; i < mx->nrooms; i++) {
		items_free(mx->rooms[i]->head);
		items_free(mx->rooms[i]->bg_head);
		free(mx->rooms[i]->room);
		free(mx->rooms[i]->receipt);
		free(mx->rooms[i]);
	}
	free(mx->rooms);
	free(mx->bucket);
	if (mx->token)
		wipe_free(mx->token, strlen(mx->token));
	free(mx->device);
	free(mx->hs);
	free(mx->user);
	free(mx->since);
	free(mx);
}

void mx_set_token(struct mx *mx, const char *access_token,
		  const char *device_id)
{
	if (mx->token)
		wipe_free(mx->token, strlen(mx->token));
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

/* How long a 429 asks us to wait (capped at ten minutes). */
static int64_t retry_after(const struct http_response *r, json_t *body)
{
	json_t *ra = json_object_get(body, "retry_after_ms");
	int64_t wait = json_is_integer(ra) ? json_integer_value(ra) :
		       r->retry_after_ms >= 0 ? r->retry_after_ms : 1000;

	if (wait < 0)
		wait = 1000;
	return wait > 600000 ? 600000 : wait;
}

/* A 429 on a request that is not a room's send: the limit is the
 * account's, so every send waits. */
static void pause_all(struct mx *mx, const struct http_response *r,
		      json_t *body)
{
	int64_t until = mono_ms() + retry_after(r, body);

	if (until > mx->paused_until)
		mx->paused_until = until;
	if (until > mx->bg_paused_until)
		mx->bg_paused_until = until;
	log_line("homeserver vraagt te wachten (429, geen kamer): alles "
		 "versturen gepauzeerd voor %.1f s",
		 (double)(until - mono_ms()) / 1000.0);
}

static void call_done(void *arg, const struct http_response *r)
{
	struct call *c = arg;
	struct mx *mx = c->mx;
	json_t *body;

	if (r->error && strcmp(r->error, "cancelled") == 0) {
		if (c->adapt)
			c->adapt(c, MX_CANCELLED, NULL);
		free(c);
		return;
	}
	body = parse_body(r);
	if (r->status == 429 && c->kind != CALL_QUIET)
		pause_all(mx, r, body);
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
	} else if (c->adapt) {
		c->adapt(c, r->status, body);
	}
	json_decref(body);
	free(c);
}

/* The adapters: from the answer's JSON to what the owner asked. */
static void adapt_json(struct call *c, long status, json_t *body)
{
	((mx_json_cb)c->fn)(c->ctx, status, body);
}

static void adapt_status(struct call *c, long status, json_t *body)
{
	(void)body;
	((mx_status_cb)c->fn)(c->ctx, status);
}

static void adapt_members(struct call *c, long status, json_t *body)
{
	json_t *joined = json_object_get(body, "joined"), *v;
	const char **users = NULL;
	const char *u;
	size_t n = 0;

	if (status == 200 && !json_is_object(joined))
		status = 0;   /* not an answer we can use */
	if (status == 200) {
		users = xcalloc(json_object_size(joined) + 1,
				sizeof(*users));
		json_object_foreach(joined, u, v)
			users[n++] = u;
	}
	((mx_members_cb)c->fn)(c->ctx, status, users, n);
	free(users);
}

static void adapt_whoami(struct call *c, long status, json_t *body)
{
	((mx_whoami_cb)c->fn)(c->ctx, status,
		     json_string_value(json_object_get(body, "user_id")),
		     json_string_value(json_object_get(body, "device_id")));
}

static void adapt_created(struct call *c, long status, json_t *body)
{
	const char *room = json_string_value(json_object_get(body,
							     "room_id"));

	((mx_created_cb)c->fn)(c->ctx, status, status == 200 ? room : NULL);
}

/* An mxc:// URI as the spec has it: mxc://<server-name>/<media-id>,
 * both parts non-empty, the media id of [A-Za-z0-9_-]. */
static int mxc_valid(const char *s)
{
	const char *slash;

	if (!s || strncmp(s, "mxc://", 6) != 0)
		return 0;
	s += 6;
	slash = strchr(s, '/');
	if (!slash || slash == s || !slash[1] || strlen(s) > 255)
		return 0;
	for (const char *p = s; p < slash; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	for (const char *p = slash + 1; *p; p++)
		if (!(*p == '_' || *p == '-' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return 0;
	return 1;
}

/* The server's "error" text of an answer, or NULL. */
static const char *answer_error(json_t *body)
{
	return json_string_value(json_object_get(body, "error"));
}

static void adapt_upload(struct call *c, long status, json_t *body)
{
	const char *uri = json_string_value(json_object_get(body,
							    "content_uri"));

	if (status == 200 && !mxc_valid(uri)) {
		((mx_upload_cb)c->fn)(c->ctx, 0, NULL, "het antwoord heeft "
				      "geen geldige content_uri");
		return;
	}
	((mx_upload_cb)c->fn)(c->ctx, status, status == 200 ? uri : NULL,
			      status == 200 ? NULL : answer_error(body));
}

static void adapt_profile(struct call *c, long status, json_t *body)
{
	const char *name = json_string_value(json_object_get(body,
							     "displayname"));
	const char *avatar = json_string_value(json_object_get(body,
							       "avatar_url"));

	if (status != 200)
		name = avatar = NULL;
	((mx_profile_cb)c->fn)(c->ctx, status, name, avatar);
}

/* Start a request; c (the caller fills fn and ctx, or NULL: nobody
 * waits) is freed when it ends. */
static void request(struct mx *mx, const char *method, const char *path,
		    json_t *body, int kind, struct call *c)
{
	struct sbuf u;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	if (!c)
		c = xcalloc(1, sizeof(*c));
	c->mx = mx;
	c->kind = kind;
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

/* A request whose answer goes to the owner's callback fn (NULL:
 * nobody waits for it), through adapt. */
static struct call *call_to(void (*adapt)(struct call *, long, json_t *),
			    any_cb fn, void *ctx)
{
	struct call *c;

	if (!fn)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->adapt = adapt;
	c->fn = fn;
	c->ctx = ctx;
	return c;
}

#define CALL_JSON(cb, ctx) call_to(adapt_json, (any_cb)(cb), ctx)

int mx_media_upload(struct mx *mx, const char *filename,
		    const char *content_type, const void *data, size_t len,
		    mx_upload_cb cb, void *ctx)
{
	struct sbuf p, u;
	struct call *c;

	if (len > MX_UPLOAD_MAX || !content_type || !*content_type ||
	    strpbrk(content_type, "\r\n") || (filename && !*filename))
		return -1;
	sbuf_init(&p);
	sbuf_init(&u);
	sbuf_adds(&p, "/upload");
	if (filename) {
		sbuf_adds(&p, "?filename=");
		http_escape(&p, filename);
	}
	api_url(mx, &u, MEDIA_API, p.buf);
	c = call_to(adapt_upload, (any_cb)cb, ctx);
	if (!c)
		c = xcalloc(1, sizeof(*c));
	c->mx = mx;
	c->kind = CALL_DONE;
	/* an empty file still needs a body: "" with length 0 */
	http_request_typed(mx->http, "POST", u.buf, mx->token, content_type,
			   data ? data : "", len, REQUEST_TIMEOUT_MS,
			   call_done, c);
	sbuf_release(&u);
	sbuf_release(&p);
	return 0;
}

/* /profile/{our user id}{rest} */
static void profile_path(struct mx *mx, struct sbuf *sb, const char *rest)
{
	sbuf_adds(sb, "/profile/");
	http_escape(sb, mx->user);
	sbuf_adds(sb, rest);
}

void mx_profile_get(struct mx *mx, mx_profile_cb cb, void *ctx)
{
	struct sbuf p;

	sbuf_init(&p);
	profile_path(mx, &p, "");
	request(mx, "GET", p.buf, NULL, CALL_DONE,
		call_to(adapt_profile, (any_cb)cb, ctx));
	sbuf_release(&p);
}

/* PUT /profile/{our user id}/{field} {field: value} */
static void profile_put(struct mx *mx, const char *field, const char *value,
			mx_status_cb cb, void *ctx)
{
	struct sbuf p;
	json_t *b = json_object();

	json_object_set_new(b, field, json_string(value));
	sbuf_init(&p);
	profile_path(mx, &p, "/");
	sbuf_adds(&p, field);
	request(mx, "PUT", p.buf, b, CALL_DONE,
		call_to(adapt_status, (any_cb)cb, ctx));
	json_decref(b);
	sbuf_release(&p);
}

void mx_profile_set_displayname(struct mx *mx, const char *name,
				mx_status_cb cb, void *ctx)
{
	profile_put(mx, "displayname", name, cb, ctx);
}

int mx_profile_set_avatar_url(struct mx *mx, const char *mxc,
			      mx_status_cb cb, void *ctx)
{
	if (!mxc_valid(mxc))
		return -1;
	profile_put(mx, "avatar_url", mxc, cb, ctx);
	return 0;
}

void mx_login(struct mx *mx, const char *password, const char *device_name)
{
	json_t *b = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s}",
			      "type", "m.login.password",
			      "identifier", "type", "m.id.user",
			      "user", mx->user,
			      "password", password,
			      "initial_device_display_name", device_name);

	request(mx, "POST", "/login", b, CALL_LOGIN, NULL);
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

/* method on /rooms/{room}{rest}, answered to c. */
static void room_request(struct mx *mx, const char *method,
			 const char *room, const char *rest, json_t *body,
			 struct call *c)
{
	struct sbuf p;

	sbuf_init(&p);
	room_path(&p, room, rest);
	request(mx, method, p.buf, body, CALL_DONE, c);
	sbuf_release(&p);
}

void mx_join(struct mx *mx, const char *room, mx_status_cb cb, void *ctx)
{
	struct sbuf p;
	json_t *b = json_object();

	sbuf_init(&p);
	sbuf_adds(&p, "/join/");
	http_escape(&p, room);
	request(mx, "POST", p.buf, b, CALL_DONE,
		call_to(adapt_status, (any_cb)cb, ctx));
	json_decref(b);
	sbuf_release(&p);
}

void mx_leave(struct mx *mx, const char *room, mx_status_cb cb, void *ctx)
{
	json_t *b = json_object();

	room_request(mx, "POST", room, "/leave", b,
		     call_to(adapt_status, (any_cb)cb, ctx));
	json_decref(b);
}

void mx_whoami(struct mx *mx, mx_whoami_cb cb, void *ctx)
{
	request(mx, "GET", "/account/whoami", NULL, CALL_DONE,
		call_to(adapt_whoami, (any_cb)cb, ctx));
}

void mx_create_room(struct mx *mx, const char *name,
		    const char *const *invite, size_t ninvite,
		    mx_created_cb cb, void *ctx)
{
	json_t *inv = json_array(), *body;

	for (size_t i = 0; i < ninvite; i++)
		json_array_append_new(inv, json_string(invite[i]));
	body = json_pack("{s:s, s:s, s:o}", "preset", "private_chat",
			 "name", name, "invite", inv);
	request(mx, "POST", "/createRoom", body, CALL_DONE,
		call_to(adapt_created, (any_cb)cb, ctx));
	json_decref(body);
}

void mx_keys_upload(struct mx *mx, json_t *body, mx_json_cb cb, void *ctx)
{
	request(mx, "POST", "/keys/upload", body, CALL_DONE,
		CALL_JSON(cb, ctx));
}

void mx_keys_query(struct mx *mx, json_t *body, mx_json_cb cb, void *ctx)
{
	request(mx, "POST", "/keys/query", body, CALL_DONE,
		CALL_JSON(cb, ctx));
}

void mx_keys_claim(struct mx *mx, json_t *body, mx_json_cb cb, void *ctx)
{
	request(mx, "POST", "/keys/claim", body, CALL_DONE,
		CALL_JSON(cb, ctx));
}

void mx_keys_signing_upload(struct mx *mx, json_t *body, mx_json_cb cb,
			    void *ctx)
{
	request(mx, "POST", "/keys/device_signing/upload", body, CALL_DONE,
		CALL_JSON(cb, ctx));
}

void mx_keys_signatures_upload(struct mx *mx, json_t *body, mx_json_cb cb,
			       void *ctx)
{
	request(mx, "POST", "/keys/signatures/upload", body, CALL_DONE,
		CALL_JSON(cb, ctx));
}

void mx_send_to_device(struct mx *mx, const char *type, const char *txn,
		       json_t *body, mx_json_cb cb, void *ctx)
{
	struct sbuf p;

	sbuf_init(&p);
	sbuf_adds(&p, "/sendToDevice/");
	http_escape(&p, type);
	sbuf_addc(&p, '/');
	http_escape(&p, txn);
	request(mx, "PUT", p.buf, body, CALL_DONE,
		CALL_JSON(cb, ctx));
	sbuf_release(&p);
}

void mx_room_members(struct mx *mx, const char *room, mx_json_cb cb,
		     void *ctx)
{
	room_request(mx, "GET", room, "/members?not_membership=leave", NULL,
		     CALL_JSON(cb, ctx));
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
	request(mx, "POST", p.buf, b, CALL_QUIET, NULL);
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
	request(mx, "PUT", p.buf, b, CALL_QUIET, NULL);
	json_decref(b);
	sbuf_release(&p);
}

static struct send_item *queue_item(struct mx *mx, const char *room,
				    const char *type, const char *txn,
				    json_t *content, uint64_t cookie);

/* In the room's send queue, so that it keeps its place between the
 * messages before and after it. */
void mx_set_displayname(struct mx *mx, const char *room, const char *name)
{
	json_t *b = json_pack("{s:s, s:s}", "membership", "join",
			      "displayname", name);
	struct send_item *it = queue_item(mx, room, "m.room.member", "", b,
					  0);

	it->state_key = xstrdup(mx->user);
	json_decref(b);
}

void mx_joined_members(struct mx *mx, const char *room, mx_members_cb cb,
		       void *ctx)
{
	room_request(mx, "GET", room, "/joined_members", NULL,
		     call_to(adapt_members, (any_cb)cb, ctx));
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

/* --- events: parsed here, so nothing above reads wire JSON --- */

/* A field that is there but not what the spec says (or a required one
 * that is missing): the event is left out, and the log says why. */
static int bad_field(json_t *json, const char *room, const char *field)
{
	const char *id = json_string_value(json_object_get(json, "event_id"));

	if (!json_is_object(json)) {
		log_line("gebeurtenis in %s overgeslagen: geen object",
			 room ? room : "?");
		return -1;
	}
	log_line("gebeurtenis %s in %s overgeslagen: veld \"%s\" ontbreekt "
		 "of heeft het verkeerde type", id ? id : "(zonder id)",
		 room ? room : "?", field);
	return -1;
}

/* An optional string member: *out is NULL when absent; -1 when present
 * with another type. */
static int opt_str(json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = json_string_value(v);
	return v && !json_is_string(v) ? -1 : 0;
}

/* An optional object member: NULL when absent; *bad set when present
 * with another type. */
static json_t *opt_obj(json_t *o, const char *key, int *bad)
{
	json_t *v = json_object_get(o, key);

	if (v && !json_is_object(v)) {
		*bad = 1;
		return NULL;
	}
	return v;
}

/* content "m.relates_to" (and "m.new_content" of an edit). Returns the
 * name of a bad field, or NULL. */
static const char *parse_relation(json_t *content, struct mx_event *ev)
{
	int bad = 0;
	json_t *rel = opt_obj(content, "m.relates_to", &bad);
	json_t *reply, *nc;
	const char *type;

	if (bad)
		return "content.m.relates_to";
	if (!rel)
		return NULL;
	if (opt_str(rel, "rel_type", &type) < 0)
		return "m.relates_to.rel_type";
	if (opt_str(rel, "event_id", &ev->rel_event) < 0)
		return "m.relates_to.event_id";
	if (opt_str(rel, "key", &ev->rel_key) < 0)
		return "m.relates_to.key";
	reply = opt_obj(rel, "m.in_reply_to", &bad);
	if (bad)
		return "m.relates_to.m.in_reply_to";
	nc = opt_obj(content, "m.new_content", &bad);
	if (bad)
		return "content.m.new_content";
	if (!nc) {
		nc = opt_obj(rel, "m.new_content", &bad);
		if (bad)
			return "m.relates_to.m.new_content";
	}
	if (type && !strcmp(type, "m.thread")) {
		ev->rel = MX_REL_THREAD;
	} else if (type && !strcmp(type, "m.annotation")) {
		ev->rel = MX_REL_ANNOTATION;
	} else if ((type && !strcmp(type, "m.replace")) || nc) {
		ev->rel = MX_REL_REPLACE;
		if (opt_str(nc, "msgtype", &ev->new_msgtype) < 0)
			return "m.new_content.msgtype";
		if (opt_str(nc, "body", &ev->new_body) < 0)
			return "m.new_content.body";
	} else if (reply) {
		ev->rel = MX_REL_REPLY;
		if (opt_str(reply, "event_id", &ev->rel_event) < 0)
			return "m.in_reply_to.event_id";
	}
	return NULL;
}

/* content "users" of m.room.power_levels. */
static const char *parse_power(json_t *content, struct mx_event *ev)
{
	int bad = 0;
	json_t *users = opt_obj(content, "users", &bad), *v;
	const char *u;

	if (bad)
		return "content.users";
	if (!users)
		return NULL;
	ev->has_power = 1;
	ev->power = xcalloc(json_object_size(users) + 1, sizeof(*ev->power));
	json_object_foreach(users, u, v) {
		if (!json_is_integer(v))
			continue;
		ev->power[ev->npower].user = u;
		ev->power[ev->npower++].level = json_integer_value(v);
	}
	return NULL;
}

/* The fields of struct mx_event; the name of a bad one, or NULL. */
static const char *parse_fields(json_t *json, struct mx_event *ev)
{
	json_t *content, *prev;
	int bad = 0;
	const char *f;

	if (!json_is_object(json))
		return "";
	if (opt_str(json, "type", &ev->type) < 0 || !ev->type)
		return "type";
	if (opt_str(json, "sender", &ev->sender) < 0 || !ev->sender)
		return "sender";
	if (opt_str(json, "event_id", &ev->id) < 0)
		return "event_id";
	if (opt_str(json, "state_key", &ev->state_key) < 0)
		return "state_key";
	content = json_object_get(json, "content");
	if (!json_is_object(content))
		return "content";
	if (opt_str(content, "msgtype", &ev->msgtype) < 0)
		return "content.msgtype";
	if (opt_str(content, "body", &ev->body) < 0)
		return "content.body";
	if (opt_str(content, "format", &ev->format) < 0)
		return "content.format";
	if (opt_str(content, "formatted_body", &ev->formatted_body) < 0)
		return "content.formatted_body";
	if (opt_str(content, MX_TURN_FIELD, &ev->turn) < 0)
		return "content." MX_TURN_FIELD;
	f = parse_relation(content, ev);
	if (f)
		return f;
	if (!strcmp(ev->type, "m.room.member")) {
		if (opt_str(content, "membership", &ev->membership) < 0)
			return "content.membership";
		/* optional and nullable: read, never a reason to refuse */
		ev->displayname = json_string_value(json_object_get(content,
							       "displayname"));
		prev = opt_obj(opt_obj(json, "unsigned", &bad), "prev_content",
			       &bad);
		if (bad || opt_str(prev, "membership",
				   &ev->prev_membership) < 0)
			return "unsigned.prev_content.membership";
	} else if (!strcmp(ev->type, "m.room.create")) {
		if (opt_str(content, "creator", &ev->creator) < 0)
			return "content.creator";
	} else if (!strcmp(ev->type, "m.room.power_levels")) {
		return parse_power(content, ev);
	}
	return NULL;
}

int mx_event_parse(json_t *json, const char *room, struct mx_event *ev)
{
	const char *f;

	memset(ev, 0, sizeof(*ev));
	ev->room = room;
	ev->json = json;
	f = parse_fields(json, ev);
	if (!f)
		return 0;
	free(ev->power);
	ev->power = NULL;
	ev->npower = 0;
	return bad_field(json, room, f);
}

int mx_event_take(json_t *json, const char *room, struct mx_event *ev)
{
	char *r = room ? xstrdup(room) : NULL;
	int rc = mx_event_parse(json, r, ev);

	ev->own_room_ = r;
	ev->own_ = json_incref(json);
	return rc;
}

void mx_event_release(struct mx_event *ev)
{
	if (!ev)
		return;
	free(ev->power);
	json_decref(ev->own_);
	free(ev->own_room_);
	memset(ev, 0, sizeof(*ev));
}

void mx_events_free(struct mx_event *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mx_event_release(&v[i]);
	free(v);
}

/* The well-formed events of a JSON array (anything else: none). first:
 * how many of the array's first *first entries were kept (the gap). */
static struct mx_event *parse_events(json_t *arr, const char *room,
				     size_t *n, size_t *first)
{
	size_t len = json_array_size(arr), k = 0, kept_first = 0;
	struct mx_event *v = xcalloc(len + 1, sizeof(*v));

	for (size_t i = 0; i < len; i++) {
		if (mx_event_parse(json_array_get(arr, i), room, &v[k]) < 0)
			continue;
		if (first && i < *first)
			kept_first++;
		k++;
	}
	if (first)
		*first = kept_first;
	*n = k;
	return v;
}

static void sync_room_release(struct mx_room *r)
{
	mx_events_free(r->state, r->nstate);
	mx_events_free(r->timeline, r->ntimeline);
}

static void parse_joined(const char *id, json_t *room, struct mx_room *r)
{
	json_t *tl = json_object_get(room, "timeline");
	json_int_t gap = json_integer_value(json_object_get(tl,
							    MX_GAP_FIELD));

	r->id = id;
	r->limited = json_is_true(json_object_get(tl, "limited"));
	r->gap = gap > 0 ? (size_t)gap : 0;
	r->state = parse_events(json_object_get(json_object_get(room,
				"state"), "events"), id, &r->nstate, NULL);
	r->timeline = parse_events(json_object_get(tl, "events"), id,
				   &r->ntimeline, &r->gap);
}

/* The to-device verification messages of a batch (plain ones: one
 * that came Olm-encrypted is e2ee's, which cancels it itself). */
static void parse_verify(json_t *arr, struct mx_sync *s)
{
	size_t i, skipped = 0;
	json_t *ev;

	s->verify = xcalloc(VERIFY_MAX_PER_SYNC, sizeof(*s->verify));
	json_array_foreach(arr, i, ev) {
		struct verify_msg m;

		if (!verify_parse_to_device(ev, &m))
			continue;
		if (s->nverify == VERIFY_MAX_PER_SYNC) {
			skipped++;
			continue;
		}
		s->verify[s->nverify++] = m;
	}
	if (skipped)
		log_line("%zu verificatieverzoeken in één sync overgeslagen "
			 "(meer dan %d)", skipped, VERIFY_MAX_PER_SYNC);
}

int mx_sync_parse_root(json_t *root, struct mx_sync *s)
{
	json_t *rooms, *join, *invite, *leave, *room;
	const char *rid;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (!json_is_object(root) ||
	    !json_is_string(json_object_get(root, "next_batch")))
		return -1;
	s->root = json_incref(root);
	s->next_batch = json_string_value(json_object_get(root, "next_batch"));
	rooms = json_object_get(root, "rooms");
	join = json_object_get(rooms, "join");
	invite = json_object_get(rooms, "invite");
	leave = json_object_get(rooms, "leave");
	s->join = xcalloc(json_object_size(join) + 1, sizeof(*s->join));
	json_object_foreach(join, rid, room)
		parse_joined(rid, room, &s->join[s->njoin++]);
	s->invite = xcalloc(json_object_size(invite) + 1,
			    sizeof(*s->invite));
	json_object_foreach(invite, rid, room) {
		struct mx_room *r = &s->invite[s->ninvite++];

		r->id = rid;
		r->state = parse_events(json_object_get(json_object_get(room,
					"invite_state"), "events"), rid,
					&r->nstate, NULL);
		r->timeline = xcalloc(1, sizeof(*r->timeline));
	}
	s->leave = xcalloc(json_object_size(leave) + 1, sizeof(*s->leave));
	i = 0;
	json_object_foreach(leave, rid, room)
		s->leave[i++] = rid;
	s->nleave = i;
	parse_verify(json_object_get(json_object_get(root, "to_device"),
				     "events"), s);
	return 0;
}

void mx_sync_release(struct mx_sync *s)
{
	for (size_t i = 0; i < s->njoin; i++)
		sync_room_release(&s->join[i]);
	for (size_t i = 0; i < s->ninvite; i++)
		sync_room_release(&s->invite[i]);
	free(s->join);
	free(s->invite);
	free(s->leave);
	free(s->verify);
	json_decref(s->root);
	memset(s, 0, sizeof(*s));
}

int mx_sync_parse(const char *body, size_t len, struct mx_sync *s)
{
	json_error_t e;
	json_t *root;
	int rc;

	root = body && len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &e)
			   : NULL;
	rc = mx_sync_parse_root(root, s);
	json_decref(root);
	return rc;
}

/* The batch is complete (gaps filled): hand it to the owner. */
static void sync_deliver(struct mx *mx, struct mx_sync *s)
{
	if (mx->h.on_sync(mx->h.arg, s) == 0) {
		free(mx->since);
		mx->since = xstrdup(s->next_batch);
		mx->sync_at = 0;
		/* only this batch's own replies hold the next /sync */
		mx->hold_gen++;
		mx->held = 0;
		mx->hold_until = mono_ms() + SYNC_HOLD_MS;
	} else {
		mx->sync_at = mono_ms() + 1000;   /* same batch again */
	}
}

/* The joined rooms whose timeline the server cut (limited, with a
 * prev_batch to page back from): an array of room ids, or NULL. */
static json_t *gap_rooms(json_t *root)
{
	json_t *todo = NULL, *room;
	const char *rid;

	json_object_foreach(json_object_get(json_object_get(root, "rooms"),
					    "join"), rid, room) {
		json_t *tl = json_object_get(room, "timeline");

		if (!json_is_true(json_object_get(tl, "limited")) ||
		    !json_is_string(json_object_get(tl, "prev_batch")))
			continue;
		if (!todo)
			todo = json_array();
		json_array_append_new(todo, json_string(rid));
	}
	return todo;
}

/* Put the room's gap (collected newest first) before its timeline, in
 * order, without the events the timeline has already; mark how many
 * came from the gap (see mx.h). */
static void gap_merge(struct mx *mx)
{
	struct gap *g = &mx->gap;
	json_t *rooms = json_object_get(json_object_get(g->root, "rooms"),
					"join");
	json_t *tl = json_object_get(json_object_get(rooms, g->room),
				     "timeline");
	json_t *events = json_object_get(tl, "events");
	json_t *merged = json_array(), *ev, *seen = json_object();
	size_t i, n = 0;

	json_array_foreach(events, i, ev) {
		const char *id = json_string_value(json_object_get(ev,
							"event_id"));

		if (id)
			json_object_set_new(seen, id, json_true());
	}
	for (i = json_array_size(g->events); i-- > 0;) {
		const char *id;

		ev = json_array_get(g->events, i);
		id = json_string_value(json_object_get(ev, "event_id"));
		if (!json_is_object(ev) || !id || json_object_get(seen, id))
			continue;
		json_object_set_new(seen, id, json_true());
		json_array_append(merged, ev);
		n++;
	}
	if (json_is_array(events))
		json_array_extend(merged, events);
	if (json_is_object(tl)) {
		json_object_set_new(tl, "events", merged);
		json_object_set_new(tl, MX_GAP_FIELD,
				    json_integer((json_int_t)n));
	} else {
		json_decref(merged);
	}
	json_decref(seen);
	json_decref(g->events);
	g->events = NULL;
	free(g->room);
	g->room = NULL;
	free(g->from);
	g->from = NULL;
}

/* The next room with a gap, or the batch when none is left. */
static void gap_next(struct mx *mx)
{
	struct gap *g = &mx->gap;
	struct mx_sync s;

	while (g->next < json_array_size(g->todo)) {
		const char *rid = json_string_value(json_array_get(g->todo,
								  g->next++));
		json_t *tl = json_object_get(json_object_get(json_object_get(
			json_object_get(g->root, "rooms"), "join"), rid),
			"timeline");

		g->room = xstrdup(rid);
		g->from = xstrdup(json_string_value(json_object_get(tl,
							"prev_batch")));
		g->events = json_array();
		g->fails = 0;
		g->at = 0;
		return;   /* tick() asks for the first page */
	}
	/* every gap filled: the batch, as the server would have sent it
	 * without a limit */
	if (mx_sync_parse_root(g->root, &s) == 0)
		sync_deliver(mx, &s);
	else
		mx->sync_at = mono_ms() + 1000;
	mx_sync_release(&s);
	gap_clear(mx);
	mx->trim_due = 1;   /* a batch with gaps is a big one */
}

static void gap_done(void *arg, const struct http_response *r)
{
	struct mx *mx = arg;
	struct gap *g = &mx->gap;
	json_t *body, *chunk, *ev;
	const char *end;
	size_t i;
	int full;

	if (r->error && strcmp(r->error, "cancelled") == 0)
		return;
	g->req = 0;
	body = parse_body(r);
	if (r->status == 429 || r->status == 0 || r->status >= 500) {
		int64_t wait = r->status == 429 ? retry_after(r, body) :
			       backoff_ms(mx, ++g->fails);

		if (worth_logging(g->fails + (r->status == 429)))
			log_line("gemiste berichten in %s ophalen mislukt "
				 "(%s), opnieuw over %.1f s", g->room,
				 r->status ? "HTTP-fout" : (r->error ?
				 r->error : "geen antwoord"),
				 (double)wait / 1000.0);
		g->at = mono_ms() + wait;
		json_decref(body);
		return;
	}
	chunk = json_object_get(body, "chunk");
	if (r->status != 200 || !json_is_array(chunk)) {
		/* e.g. 403: the room's history is not ours to read */
		log_line("gemiste berichten in %s niet op te halen (HTTP %ld): "
			 "de batch gaat zonder", g->room, r->status);
		json_decref(body);
		gap_merge(mx);
		gap_next(mx);
		return;
	}
	g->bytes += r->len;
	json_array_foreach(chunk, i, ev)
		json_array_append(g->events, ev);
	end = json_string_value(json_object_get(body, "end"));
	full = json_array_size(g->events) >= GAP_MAX_EVENTS ||
	       g->bytes >= GAP_MAX_BYTES;
	if (full)
		log_line("in %s zijn meer dan %zu berichten gemist; de "
			 "oudste daarvan worden overgeslagen", g->room,
			 json_array_size(g->events));
	if (!full && end && json_array_size(chunk) > 0 &&
	    strcmp(end, g->from) != 0) {
		free(g->from);
		g->from = xstrdup(end);
		g->at = 0;
		json_decref(body);
		return;   /* the next page */
	}
	json_decref(body);
	if (json_array_size(g->events))
		log_line("%zu gemiste gebeurtenissen in %s opgehaald",
			 json_array_size(g->events), g->room);
	gap_merge(mx);
	gap_next(mx);
}

/* GET /rooms/{id}/messages, backwards from the page token to the sync
 * token the batch started at: the events the limit cut off. */
static void gap_issue(struct mx *mx)
{
	struct gap *g = &mx->gap;
	struct sbuf p, u;

	sbuf_init(&p);
	sbuf_init(&u);
	room_path(&p, g->room, "/messages?dir=b&limit=");
	sbuf_addi(&p, GAP_PAGE);
	sbuf_adds(&p, "&from=");
	http_escape(&p, g->from);
	sbuf_adds(&p, "&to=");
	http_escape(&p, mx->since);
	sbuf_adds(&p, "&filter=");
	http_escape(&p, gap_filter);
	url(mx, &u, p.buf);
	g->req = http_request(mx->http, "GET", u.buf, mx->token, NULL, 0,
			      REQUEST_TIMEOUT_MS, gap_done, mx);
	sbuf_release(&p);
	sbuf_release(&u);
}

static void sync_done(void *arg, const struct http_response *r)
{
	struct mx *mx = arg;
	struct mx_sync s;
	json_t *root, *todo;

	if (r->error && strcmp(r->error, "cancelled") == 0)
		return;
	mx->sync_req = 0;
	root = r->status == 200 ? parse_body(r) : NULL;
	if (r->status != 200 || !json_is_object(root) ||
	    !json_is_string(json_object_get(root, "next_batch"))) {
		json_t *body = root ? root : parse_body(r);

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
	/* the first sync is history: no gap to fill before it */
	todo = mx->since ? gap_rooms(root) : NULL;
	if (todo) {
		gap_clear(mx);
		mx->gap.root = root;
		mx->gap.todo = todo;
		gap_next(mx);
		return;
	}
	if (mx_sync_parse_root(root, &s) == 0)
		sync_deliver(mx, &s);
	mx_sync_release(&s);
	json_decref(root);
	if (r->len >= TRIM_AFTER_BYTES)
		mx->trim_due = 1;   /* r->body is still ours: next round */
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
	gap_clear(mx);
	if (mx->sync_req)
		http_cancel(mx->http, mx->sync_req);
	mx->sync_req = 0;
}

/* --- sends --- */

static struct room_q **room_bucket(struct mx *mx, uint64_t h)
{
	return &mx->bucket[(size_t)h & (mx->nbuckets - 1)];
}

/* The index at least as large as the number of queues (doubling, so a
 * join storm's thousands of queues rehash a few times, not per room). */
static void room_index_grow(struct mx *mx, size_t need)
{
	size_t n = mx->nbuckets ? mx->nbuckets : 64;

	while (n < need)
		n *= 2;
	if (n == mx->nbuckets)
		return;
	free(mx->bucket);
	mx->bucket = xcalloc(n, sizeof(*mx->bucket));
	mx->nbuckets = n;
	for (size_t i = 0; i < mx->nrooms; i++) {
		struct room_q **b = room_bucket(mx, mx->rooms[i]->hash);

		mx->rooms[i]->chain = *b;
		*b = mx->rooms[i];
	}
}

/* A room's send queue, made when it has none: one hash of the id and a
 * bucket's short chain, whatever the number of queues (a join storm
 * has one per greeted room). */
static struct room_q *room_get(struct mx *mx, const char *room)
{
	uint64_t h = hash_fnv64(HASH_FNV64_START, room, strlen(room));
	struct room_q *q, **b;

	if (mx->nbuckets) {
		for (q = *room_bucket(mx, h); q; q = q->chain)
			if (q->hash == h && strcmp(q->room, room) == 0)
				return q;
	}
	room_index_grow(mx, mx->nrooms + 1);
	XGROW(mx->rooms, mx->rooms_cap, mx->nrooms + 1);
	q = xcalloc(1, sizeof(*q));
	q->room = xstrdup(room);
	q->hash = h;
	b = room_bucket(mx, h);
	q->chain = *b;
	*b = q;
	mx->rooms[mx->nrooms++] = q;
	return q;
}

/* Drop the queue in slot i (the last one takes the slot). */
static void room_drop(struct mx *mx, size_t i)
{
	struct room_q *q = mx->rooms[i], **b = room_bucket(mx, q->hash);

	while (*b != q)
		b = &(*b)->chain;
	*b = q->chain;
	free(q->room);
	free(q->receipt);
	free(q);
	mx->rooms[i] = mx->rooms[--mx->nrooms];
}

/* A send of content into room, not yet in any queue. */
static struct send_item *item_new(const char *room, const char *type,
				  const char *txn, json_t *content,
				  uint64_t cookie)
{
	struct send_item *it = xcalloc(1, sizeof(*it));

	it->room = xstrdup(room);
	it->type = xstrdup(type);
	it->txn = xstrdup(txn);
	it->body = json_dumps(content, JSON_COMPACT);
	if (!it->body)
		it->body = xstrdup("{}");
	it->cookie = cookie;
	return it;
}

static struct send_item *queue_item(struct mx *mx, const char *room,
				    const char *type, const char *txn,
				    json_t *content, uint64_t cookie)
{
	struct room_q *q = room_get(mx, room);
	struct send_item *it = item_new(room, type, txn, content, cookie);

	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	mx->nfg++;
	return it;
}

void mx_send(struct mx *mx, const char *room, const char *type,
	     const char *txn, json_t *content, int typing_ms, uint64_t cookie)
{
	queue_item(mx, room, type, txn, content, cookie)->typing_ms =
		typing_ms;
}

void mx_send_background(struct mx *mx, const char *room, const char *type,
			const char *txn, json_t *content, int delay_ms,
			uint64_t cookie)
{
	struct room_q *q = room_get(mx, room);
	struct send_item *it = item_new(room, type, txn, content, cookie);

	it->typing_ms = delay_ms;
	it->bg = 1;
	if (q->bg_tail)
		q->bg_tail->next = it;
	else
		q->bg_head = it;
	q->bg_tail = it;
}

size_t mx_cancel_background(struct mx *mx, const char *room)
{
	struct room_q *q = room_get(mx, room);
	struct send_item *keep = NULL, *it = q->bg_head;
	size_t n = 0;

	/* the one in flight finishes (and is reported) as usual */
	if (it && it == q->cur) {
		keep = it;
		it = it->next;
		keep->next = NULL;
	}
	while (it) {
		struct send_item *next = it->next;

		item_free(it);
		n++;
		it = next;
	}
	q->bg_head = q->bg_tail = keep;
	return n;
}

size_t mx_sends_pending(const struct mx *mx)
{
	size_t n = 0;

	for (size_t i = 0; i < mx->nrooms; i++) {
		for (struct send_item *it = mx->rooms[i]->head; it;
		     it = it->next)
			n++;
		for (struct send_item *it = mx->rooms[i]->bg_head; it;
		     it = it->next)
			n++;
	}
	return n;
}

size_t mx_queues(const struct mx *mx)
{
	return mx->nrooms;
}

size_t mx_trims(const struct mx *mx)
{
	return mx->trims;
}

size_t mx_trim_body_bytes(const struct mx *mx)
{
	return mx->trim_body_bytes;
}

/* Give the free heap back to the system, and count it. */
static void heap_trim(struct mx *mx)
{
	mx->trim_body_bytes = http_body_bytes(mx->http);
	xtrim();
	mx->trims++;
	mx->trim_due = 0;
	mx->sent_since_trim = 0;
}

/* The room queue of a finished send: found by room name (an index
 * lookup), since the queue may have been dropped and made again. */
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
		/* a display name: send_done has logged a refusal */
		(void)status;
	} else if (mx->h.on_sent) {
		mx->h.on_sent(mx->h.arg, it->cookie, status == 200,
			      json_string_value(json_object_get(body,
							"event_id")));
	}
}

/* Item it, the head of its list, is finished (sent, or given up):
 * report and drop it. */
static void item_done(struct mx *mx, struct room_q *q, struct send_item *it,
		      long status, json_t *body)
{
	if (it->bg) {
		q->bg_head = it->next;
		if (!q->bg_head)
			q->bg_tail = NULL;
	} else {
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		mx->nfg--;
	}
	if (q->cur == it)
		q->cur = NULL;
	mx->sent_since_trim++;
	if (!q->head && !q->bg_head)
		q->receipt_at = mono_ms() + RECEIPT_AFTER_SEND_MS;
	if (it->typing_ms > 0 && !q->head && !q->bg_head)
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
	it = q->cur;
	if (!it)
		return;
	body = parse_body(r);
	if (r->status == 200) {
		if (mx->send_fails)
			log_line("versturen lukt weer");
		mx->send_fails = 0;
		item_done(mx, q, it, r->status, body);
	} else if (r->status == 429) {
		int64_t until = mono_ms() + retry_after(r, body);

		/* this room waits; the others try for themselves, but
		 * background lines everywhere make way for answers */
		q->paused_until = until;
		if (until > mx->bg_paused_until)
			mx->bg_paused_until = until;
		q->cur = NULL;
		log_line("homeserver vraagt te wachten (429): versturen naar "
			 "%s gepauzeerd voor %.1f s", q->room,
			 (double)(until - mono_ms()) / 1000.0);
	} else if (r->status == 0 || r->status >= 500 || r->status == 401) {
		int64_t wait;

		it->attempts++;
		mx->send_fails++;
		wait = backoff_ms(mx, it->attempts);
		it->not_before = mono_ms() + wait;
		q->cur = NULL;
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
		item_done(mx, q, it, r->status, body);
	}
	json_decref(body);
}

static void send_issue(struct mx *mx, struct room_q *q, struct send_item *it)
{
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
	q->cur = it;
	q->inflight = http_request(mx->http, "PUT", u.buf, mx->token,
				   it->body, strlen(it->body),
				   REQUEST_TIMEOUT_MS, send_done, sc);
	sbuf_release(&p);
	sbuf_release(&u);
}

/* Run the owner's prepare hook on a head item: 1 ready, 0 wait, -1
 * dropped. An event the server would refuse as too large is dropped
 * here too (the owner shortens what it queues; this catches what
 * encryption made of it). */
static int prepare(struct mx *mx, struct room_q *q, struct send_item *it)
{
	char *type = NULL, *body = NULL;
	int rc;

	/* state events (display names) are never encrypted */
	if (!mx->h.prepare || it->state_key) {
		rc = 1;
	} else {
		rc = mx->h.prepare(mx->h.arg, it->room, it->type, it->body,
				   &type, &body);
		if (rc < 0) {
			item_done(mx, q, it, 0, NULL);
			return -1;
		}
		if (rc == 0)
			return 0;
	}
	if (type && body) {
		free(it->type);
		free(it->body);
		it->type = type;
		it->body = body;
	} else {
		free(type);
		free(body);
	}
	if (strlen(it->body) > MX_CONTENT_MAX) {
		log_line("bericht in %s niet verstuurd: %zu bytes, meer dan de "
			 "homeserver aanneemt", it->room, strlen(it->body));
		item_done(mx, q, it, 413, NULL);
		return -1;
	}
	it->prepared = 1;
	return 1;
}

/* The item a room sends next: its foreground head, else its background
 * head once no room has a foreground item left and no 429 holds
 * background lines back. */
static struct send_item *next_item(struct mx *mx, struct room_q *q,
				   int64_t now, int64_t *at)
{
	struct send_item *it = q->head;
	int64_t t;

	if (!it) {
		it = q->bg_head;
		if (!it || mx->nfg > 0)
			return NULL;
	}
	t = it->not_before;
	if (q->paused_until > t)
		t = q->paused_until;
	if (mx->paused_until > t)
		t = mx->paused_until;
	if (it->bg && mx->bg_paused_until > t)
		t = mx->bg_paused_until;
	*at = t > now ? t : now;
	return it;
}

/* A room queue with nothing queued, in flight or to mark read holds
 * nothing worth keeping: drop it, so that the send queues are the rooms
 * with something to do, not every room the bot ever spoke in (tick
 * walks them). Kept until receipt_at has passed, so that a
 * receipt that comes right after the last send still waits for it.
 * Only between ticks: no queue pointer is held. */
static void rooms_prune(struct mx *mx, int64_t now)
{
	size_t i = 0;

	while (i < mx->nrooms) {
		struct room_q *q = mx->rooms[i];

		if (q->head || q->bg_head || q->cur || q->inflight ||
		    q->receipt || q->receipt_at > now) {
			i++;
			continue;
		}
		room_drop(mx, i);
	}
	if (mx->nrooms == 0 && mx->rooms_cap > 64) {
		free(mx->rooms);
		mx->rooms = NULL;
		mx->rooms_cap = 0;
		free(mx->bucket);
		mx->bucket = NULL;
		mx->nbuckets = 0;
	}
	/* a big batch went up in the last round (its body is freed by
	 * now), or a burst has drained: once per batch or burst, never
	 * while sends wait */
	if (mx->trim_due ||
	    (mx->nrooms == 0 && mx->sent_since_trim >= TRIM_AFTER_SENDS))
		heap_trim(mx);
}

/* Start what is due; return ms until the next thing is due (or -1). */
static int64_t tick(struct mx *mx, int64_t now)
{
	int64_t next = -1;

#define DUE(t) do { int64_t d_ = (t) - now; \
		if (d_ < 0) d_ = 0; \
		if (next < 0 || d_ < next) next = d_; } while (0)
	for (size_t i = 0; i < mx->nrooms && mx->token; i++) {
		struct room_q *q = mx->rooms[i];
		struct send_item *it = q->head ? q->head : q->bg_head;
		int64_t at;

		if (q->receipt && !q->inflight) {
			if (it ? it->typing_ms > 0 : now >= q->receipt_at)
				receipt_issue(mx, q);
			else if (!it)
				DUE(q->receipt_at);
		}
		if (q->inflight)
			continue;
		it = next_item(mx, q, now, &at);
		if (!it)
			continue;
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
		send_issue(mx, q, it);
	}
	rooms_prune(mx, now);
	/* a limited batch's gap, a page at a time */
	if (mx->gap.root && mx->gap.room && !mx->gap.req && mx->token) {
		if (now >= mx->gap.at)
			gap_issue(mx);
		else
			DUE(mx->gap.at);
	}
	/* after the sends: a reply should not queue behind a new /sync */
	if (mx->syncing && !mx->sync_req && !mx->gap.root && mx->token) {
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
