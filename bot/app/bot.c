/* bot.c - see bot.h. */
#include "bot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcache.h"

#include "attach.h"
#include "bot_int.h"
#include "command.h"
#include "e2ee.h"
#include "event.h"
#include "mx.h"
#include "outbox.h"
#include "profile.h"
#include "rehearsal.h"
#include "room.h"
#include "session.h"
#include "store.h"

#define STOP_GRACE_MS 15000        /* at shutdown: time to flush sends */
#define SYNC_TIMEOUT_MS 30000

/* The callbacks. */
static void on_joined(void *ctx, long status);
static void on_whoami(void *ctx, long status, const char *user,
		      const char *device);

/* Answer the rooms that are due now, in the caller's transaction
 * (rehearsal_answer takes each out of the due heap). */
static int answer_now(struct bot *b, struct err *err)
{
	int64_t now = mono_ms();

	for (;;) {
		struct room *r = room_due_first(b);

		if (!r || r->answer_at > now)
			return 0;
		if (rehearsal_answer(b, r, err) < 0)
			return -1;
	}
}

static int process(struct bot *b, const struct mx_sync *s, struct err *err)
{
	if (store_outbox_done_many(b->st, b->sent, b->nsent, err) < 0)
		return -1;
	if (b->e2ee && e2ee_sync(b->e2ee, s, err) < 0)
		return -1;
	for (size_t i = 0; i < s->ninvite; i++)
		if (event_invite(b, &s->invite[i], err) < 0)
			return -1;
	for (size_t i = 0; i < s->njoin; i++)
		if (event_joined(b, &s->join[i], err) < 0)
			return -1;
	if (event_ready(b, err) < 0 || event_verify(b, s, err) < 0 ||
	    event_leave_empty(b, err) < 0)
		return -1;
	for (size_t i = 0; i < s->nleave; i++) {
		const char *rid = s->leave[i];
		struct room *r = room_find(b, rid);

		if (!r)
			continue;
		if (r->ss && !session_ended(r->ss) &&
		    session_stop(r->ss, err) < 0)
			return -1;
		if (room_forget(b, rid, err) < 0)
			return -1;
		room_remove(b, rid);
	}
	/* Without gather_ms the answers share the batch's transaction:
	 * one commit per batch instead of one more per room. */
	if (b->cfg->gather_ms == 0 && answer_now(b, err) < 0)
		return -1;
	return store_meta_set(b->st, "sync_token", s->next_batch, err);
}

static int on_sync(void *arg, const struct mx_sync *s)
{
	return bot_sync((struct bot *)arg, s);
}

int bot_sync(struct bot *b, const struct mx_sync *s)
{
	struct err err;
	size_t nnames = b->nnames;

	if (store_begin(b->st, &err) < 0) {
		log_line("%s", err.msg);
		return -1;
	}
	if (process(b, s, &err) < 0 || store_commit(b->st, &err) < 0) {
		log_line("sync-batch niet verwerkt, volgt opnieuw: %s", err.msg);
		store_rollback(b->st);
		outbox_names_truncate(b, nnames);
		room_reload(b);
		for (size_t i = 0; i < b->njoins; i++)
			free(b->joins[i]);
		b->njoins = 0;
		for (size_t i = 0; i < b->nreceipts; i++)
			free(b->receipts[i]);
		b->nreceipts = 0;
		outbox_cancels_apply(b, 0);
		return -1;
	}
	b->initial = 0;
	b->nsent = 0;
	outbox_cancels_apply(b, 1);
	for (size_t i = 0; i < b->njoins; i++) {
		mx_join(b->mx, b->joins[i], on_joined,
			room_call_new(b, b->joins[i]));
		free(b->joins[i]);
	}
	b->njoins = 0;
	outbox_flush(b);
	return 0;
}

static void on_sent(void *arg, uint64_t cookie, int ok, const char *event_id)
{
	(void)ok;
	(void)event_id;
	outbox_sent((struct bot *)arg, cookie);
}

static void on_login(void *arg, int ok, const char *token,
		     const char *device, const char *error)
{
	struct bot *b = arg;
	struct err err;

	if (!ok) {
		log_line("inloggen als %s mislukt: %s", b->cfg->user_id,
		      error ? error : "onbekende fout");
		b->fatal = 1;
		return;
	}
	if (store_begin(b->st, &err) < 0 ||
	    store_meta_set(b->st, "access_token", token, &err) < 0 ||
	    store_meta_set(b->st, "device_id", device, &err) < 0 ||
	    store_meta_set(b->st, "user_id", b->cfg->user_id, &err) < 0 ||
	    store_commit(b->st, &err) < 0) {
		store_rollback(b->st);
		log_line("login niet op te slaan: %s", err.msg);
		b->fatal = 1;
		return;
	}
	log_line("ingelogd als %s (apparaat %s)", b->cfg->user_id, device);
	b->ready = 1;
}

static int on_prepare(void *arg, const char *room, const char *type,
		      const char *body, char **new_type, char **new_body)
{
	struct bot *b = arg;
	int rc = attach_prepare(b, room, type, body, new_type, new_body);

	if (rc != -2)
		return rc;
	*new_type = *new_body = NULL;
	if (!b->e2ee)
		return 1;
	return e2ee_prepare(b->e2ee, room, type, body, new_type, new_body);
}

static void on_joined(void *ctx, long status)
{
	struct room_call *c = ctx;

	if (status != MX_CANCELLED && status != 200)
		log_line("kamer %s binnengaan mislukt (HTTP %ld)", c->room,
			 status);
	room_call_free(c);
}

static void on_whoami(void *ctx, long status, const char *uid,
		      const char *dev)
{
	struct bot *b = ctx;
	struct err err;

	if (status == MX_CANCELLED)
		return;
	if (status != 200 || !uid || strcmp(uid, b->cfg->user_id)) {
		log_line("het access token hoort niet bij %s (HTTP %ld)",
			 b->cfg->user_id, status);
		b->fatal = 1;
		return;
	}
	if (store_meta_set(b->st, "device_id", dev ? dev : "", &err) < 0 ||
	    store_meta_set(b->st, "user_id", uid, &err) < 0)
		log_line("%s", err.msg);
	b->ready = 1;
}

struct bot *bot_new(const struct config *cfg, struct err *err)
{
	struct bot *b = xcalloc(1, sizeof(*b));
	struct diag d;
	struct mx_handlers h;

	b->cfg = cfg;
	char *cd = mcache_default_dir();

	diag_init(&d);
	catalog_load_cached(&b->cat, cfg->scripts_dir, cfg->personas_dir, cd,
			    &d);
	free(cd);
	for (size_t i = 0; i < d.n; i++)
		log_line("%s", d.msgs[i]);
	diag_release(&d);
	/* trained: the bot never reads the example sentences again */
	catalog_drop_examples(&b->cat);
	if (!b->cat.nscripts) {
		err_set(err, "geen bruikbare scenario's in %s",
			cfg->scripts_dir);
		goto fail;
	}
	if (store_open(cfg->store, &b->st, err) < 0)
		goto fail;
	if (e2ee_pickle_key(cfg, b->st, &b->pickle_key, &b->pickle_keylen,
			    err) < 0) {
		store_free(b->st);
		goto fail;
	}
	match_init(&b->m);
	engine_out_init(&b->out);
	b->help = command_help();
	memset(&h, 0, sizeof(h));
	h.arg = b;
	h.on_sync = on_sync;
	h.on_sent = on_sent;
	h.on_login = on_login;
	h.prepare = on_prepare;
	b->mx = mx_new(cfg->homeserver, cfg->user_id, &h);
	return b;
fail:
	catalog_release(&b->cat);
	free(b);
	return NULL;
}

void bot_free(struct bot *b)
{
	if (!b)
		return;
	e2ee_free(b->e2ee);
	wipe_free(b->pickle_key, b->pickle_keylen);
	mx_free(b->mx);
	attach_free(b);
	room_remove_all(b);
	free(b->joins);
	for (size_t i = 0; i < b->nreceipts; i++)
		free(b->receipts[i]);
	free(b->receipts);
	outbox_cancels_apply(b, 0);
	free(b->cancels);
	outbox_names_truncate(b, 0);
	free(b->names);
	free(b->sent);
	for (size_t i = 0; i < b->nrates; i++)
		free(b->rates[i].user);
	free(b->rates);
	free(b->help);
	free(b->profile_avatar_url);
	match_release(&b->m);
	engine_out_release(&b->out);
	store_free(b->st);
	catalog_release(&b->cat);
	free(b);
}

/* Log in once; afterwards the stored token and device are used. */
static int login(struct bot *b, struct err *err)
{
	char *token = NULL, *device = NULL, *user = NULL, *secret = NULL;
	int rc = -1;

	if (store_meta_get(b->st, "access_token", &token, err) < 0 ||
	    store_meta_get(b->st, "device_id", &device, err) < 0 ||
	    store_meta_get(b->st, "user_id", &user, err) < 0)
		goto out;
	if (token && user && strcmp(user, b->cfg->user_id) != 0) {
		err_set(err, "%s hoort bij %s, niet bij %s: gebruik een eigen "
			"store per account", b->cfg->store, user,
			b->cfg->user_id);
		goto out;
	}
	if (token) {
		mx_set_token(b->mx, token, device);
		b->ready = 1;
		rc = 0;
		goto out;
	}
	if (b->cfg->access_token_file) {
		if (config_read_secret(b->cfg->access_token_file, &secret,
				       err) < 0)
			goto out;
		mx_set_token(b->mx, secret, NULL);
		if (store_meta_set(b->st, "access_token", secret, err) < 0)
			goto out;
		mx_whoami(b->mx, on_whoami, b);
	} else {
		if (config_read_secret(b->cfg->password_file, &secret,
				       err) < 0)
			goto out;
		mx_login(b->mx, secret, b->cfg->device_name);
	}
	rc = 0;
out:
	if (secret)
		wipe_free(secret, strlen(secret));
	if (token)
		wipe_free(token, strlen(token));
	free(device);
	free(user);
	return rc;
}

static int64_t answer_due(struct bot *b, int all);

void bot_answer_waiting(struct bot *b)
{
	answer_due(b, 1);
}

/* Answer the rooms whose trainee has been quiet for gather_ms (all
 * that wait with all), first due first; returns ms until the next one
 * is due (or -1). Only the due heap's first room is looked at: rooms
 * with nothing due cost nothing here. */
static int64_t answer_due(struct bot *b, int all)
{
	int64_t now = mono_ms(), next = -1;
	struct err err;

	for (;;) {
		struct room *r = room_due_first(b);
		size_t nnames = b->nnames;

		if (!r)
			break;
		if (!all && r->answer_at > now) {
			next = r->answer_at - now;
			break;
		}
		/* rehearsal_answer takes r out of the heap */
		if (store_begin(b->st, &err) < 0 ||
		    rehearsal_answer(b, r, &err) < 0 ||
		    store_commit(b->st, &err) < 0) {
			log_line("antwoord in %s niet opgeslagen, later opnieuw: "
			      "%s", r->id, err.msg);
			store_rollback(b->st);
			outbox_names_truncate(b, nnames);
			room_reload(b);
			return 1000;
		}
	}
	outbox_flush(b);
	outbox_send_receipts(b);
	return next;
}

/* Encryption starts once the device id is known (after login). */
static int start_e2ee(struct bot *b)
{
	struct err err;
	char *device = NULL;

	if (store_meta_get(b->st, "device_id", &device, &err) < 0 ||
	    !device || !*device) {
		log_line("versleuteling: geen apparaat-ID bekend; log opnieuw "
			 "in met password_file");
		free(device);
		return -1;
	}
	if (e2ee_open(b->st, b->mx, b->cfg, device, b->pickle_key,
		      b->pickle_keylen, &b->e2ee, &err) < 0) {
		b->pickle_key = NULL;
		log_line("%s", err.msg);
		free(device);
		return -1;
	}
	b->pickle_key = NULL;   /* e2ee owns it now */
	free(device);
	e2ee_poll(b->e2ee);
	return 0;
}

/* Keys that arrive outside a sync batch (a device confirmed by a
 * /keys/query) release waiting messages: handle them in their own
 * transaction. */
static void ready_outside_sync(struct bot *b)
{
	struct err err;

	if (!e2ee_has_ready(b->e2ee))
		return;
	if (store_begin(b->st, &err) < 0 || event_ready(b, &err) < 0 ||
	    store_commit(b->st, &err) < 0) {
		log_line("ontsleutelde berichten niet verwerkt: %s", err.msg);
		store_rollback(b->st);
		outbox_cancels_apply(b, 0);
		room_reload(b);
		return;
	}
	outbox_cancels_apply(b, 1);
	outbox_flush(b);
}

int bot_run(struct bot *b, volatile int *stop, int wake_fd)
{
	struct err err;
	char *since = NULL;
	int started = 0;
	int64_t stop_at = 0;

	if (login(b, &err) < 0) {
		log_line("%s", err.msg);
		return -1;
	}
	room_reload(b);
	outbox_flush(b);
	if (store_meta_get(b->st, "sync_token", &since, &err) < 0) {
		log_line("%s", err.msg);
		return -1;
	}
	b->initial = since == NULL;
	for (;;) {
		int64_t next;
		int timeout = 1000;

		if (b->fatal) {
			free(since);
			return -1;
		}
		if (b->ready && !started && !*stop && b->pickle_key &&
		    !b->e2ee && start_e2ee(b) < 0) {
			free(since);
			return -1;
		}
		/* the global profile first: a change there replaces the
		 * rooms' persona names, which it then puts back */
		if (b->ready && !started && !*stop)
			profile_start(b);
		if (b->ready && !started && !*stop && profile_done(b)) {
			mx_sync_start(b->mx, since, SYNC_TIMEOUT_MS);
			started = 1;
			log_line("verbonden met %s als %s; %zu kamers",
			      b->cfg->homeserver, b->cfg->user_id, b->nrooms);
		}
		if (*stop && !stop_at) {
			log_line("stoppen: wat onderweg is wordt afgemaakt");
			mx_sync_stop(b->mx);
			stop_at = mono_ms() + STOP_GRACE_MS;
			answer_due(b, 1);
		}
		if (stop_at && (mx_sends_pending(b->mx) == 0 ||
				mono_ms() > stop_at))
			break;
		if (b->e2ee && started) {
			e2ee_poll(b->e2ee);
			ready_outside_sync(b);
		}
		next = answer_due(b, 0);
		if (next >= 0 && next < timeout)
			timeout = (int)next;
		next = outbox_sent_delete(b, stop_at != 0);
		if (next >= 0 && next < timeout)
			timeout = (int)next;
		if (mx_poll(b->mx, timeout, stop_at ? -1 : wake_fd) == 1) {
			char buf[64];

			while (read(wake_fd, buf, sizeof(buf)) > 0)
				;
		}
	}
	outbox_sent_delete(b, 1);
	if (mx_sends_pending(b->mx))
		log_line("%zu berichten nog niet verstuurd; ze gaan mee bij de "
		      "volgende start", mx_sends_pending(b->mx));
	free(since);
	return 0;
}
