/* outbox.c - see outbox.h. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2ee.h"
#include "mx.h"
#include "store.h"

#define SENT_DELETE_MS 1000        /* sent rows not taken by a batch */

/* The content field that ties a persona line to its stored turn, so
 * that a coach's reaction or thread reply on it can be found again. */
#define TURN_FIELD MX_TURN_FIELD

/* Replay lines (!terugkijken) are known by their transaction ids: they
 * go out in the background, after answers, and !stop drops them. */
#define REPLAY_TXN "oefr-"

static uint64_t fnv(const char *s)
{
	return hash_fnv64(HASH_FNV64_START, s, strlen(s));
}

/* The transaction id of the k-th message caused by event (or by a name
 * when there is no event). The same cause gives the same ids. */
void outbox_txn(char *buf, size_t n, const char *cause, const char *what,
		int k)
{
	xsnprintf(buf, n, "oef-%016llx-%s%d", (unsigned long long)fnv(cause),
		 what, k);
}

int outbox_typing_ms(const struct config *cfg, const char *text)
{
	long ms;

	if (!cfg->typing_enabled)
		return 0;
	ms = (long)strlen(text) * 1000 / cfg->chars_per_second;
	if (ms < cfg->typing_min_ms)
		ms = cfg->typing_min_ms;
	if (ms > cfg->typing_max_ms)
		ms = cfg->typing_max_ms;
	return (int)ms;
}

/* Out of character: every m.notice starts with the bot's own name, so
 * that no client shows it as the persona's words (the persona speaks
 * only in m.text; the per-room display name may still be hers). */
static int is_notice(const char *msgtype)
{
	return strcmp(msgtype, "m.notice") == 0;
}

/* The length of html's opening tag when it is one of names ("<p>",
 * "<h3 class=x>"), else 0. */
static size_t open_tag(const char *html, const char *const *names)
{
	size_t i, n;

	if (html[0] != '<')
		return 0;
	for (i = 0; names[i]; i++) {
		const char *end;

		n = strlen(names[i]);
		if (strncmp(html + 1, names[i], n) != 0 ||
		    (html[1 + n] != '>' && html[1 + n] != ' '))
			continue;
		end = strchr(html + 1 + n, '>');
		if (!end)
			return 0;
		return (size_t)(end - html) + 1;
	}
	return 0;
}

void outbox_mark_html(struct sbuf *sb, const char *html)
{
	static const char *const inline_in[] = {
		"p", "h1", "h2", "h3", "h4", "h5", "h6", NULL
	};
	static const char *const blocks[] = {
		"ul", "ol", "pre", "table", "blockquote", "div", NULL
	};
	size_t n = open_tag(html, inline_in);

	if (n) {
		sbuf_add(sb, html, n);
		sbuf_adds(sb, OUTBOX_MARK_HTML);
		sbuf_adds(sb, html + n);
	} else if (open_tag(html, blocks)) {
		sbuf_adds(sb, "<p>" OUTBOX_MARK_NAME "</p>");
		sbuf_adds(sb, html);
	} else {
		sbuf_adds(sb, OUTBOX_MARK_HTML);
		sbuf_adds(sb, html);
	}
}

/* The content of a message event, JSON text, at most max bytes: when
 * it would be larger, formatted_body goes first (escaping can make it
 * several times the body), then the body is cut at a character boundary
 * with a visible "…". The whole text stays in the transcript. html is
 * the formatted_body, or NULL for the text escaped. A notice gets the
 * bot's label (OUTBOX_MARK_*) in front of both (in html's first
 * paragraph or heading: outbox_mark_html). Caller frees; NULL if
 * the text cannot be encoded (not valid UTF-8). */
static char *message_content(const char *msgtype, const char *text,
			     const char *html_in, const char *turn,
			     size_t max)
{
	size_t n = strlen(text), len;
	char *cut = NULL, *content = NULL;
	int html = 1;

	for (;;) {
		const char *body = cut ? cut : text;
		struct sbuf marked;
		json_t *c;

		sbuf_init(&marked);
		if (is_notice(msgtype))
			sbuf_adds(&marked, OUTBOX_MARK_BODY);
		sbuf_adds(&marked, body);
		c = json_pack("{s:s, s:s}", "msgtype", msgtype, "body",
			      sbuf_str(&marked));
		sbuf_release(&marked);
		if (c && html) {
			struct sbuf sb;

			sbuf_init(&sb);
			if (html_in && is_notice(msgtype)) {
				outbox_mark_html(&sb, html_in);
			} else if (html_in) {
				sbuf_adds(&sb, html_in);
			} else {
				if (is_notice(msgtype))
					sbuf_adds(&sb, OUTBOX_MARK_HTML);
				html_escape(&sb, body, "<br>");
			}
			json_object_set_new(c, "format", json_string(
				"org.matrix.custom.html"));
			json_object_set_new(c, "formatted_body",
					    json_string(sbuf_str(&sb)));
			sbuf_release(&sb);
		}
		if (c && turn)
			json_object_set_new(c, TURN_FIELD, json_string(turn));
		content = c ? json_dumps(c, JSON_COMPACT) : NULL;
		json_decref(c);
		if (!content)
			break;
		len = strlen(content);
		if (len <= max || (!html && n == 0))
			break;
		free(content);
		content = NULL;
		if (html) {
			html = 0;
			continue;
		}
		/* each byte less in the body is at least one less in the
		 * JSON; "…" is three */
		n = n > len - max + 3 ? n - (len - max + 3) : 0;
		while (n && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
		free(cut);
		cut = xmalloc(n + sizeof("…"));
		memcpy(cut, text, n);
		memcpy(cut + n, "…", sizeof("…"));
	}
	free(cut);
	return content;
}

/* Queue a row of type with content (JSON text). */
static int outbox_add(struct bot *b, const char *room, const char *type,
		      const char *content, const char *txn, int typing,
		      struct err *err)
{
	struct store_outbox o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.room = (char *)room;
	o.txn = (char *)txn;
	o.type = (char *)type;
	o.content = (char *)content;
	o.typing_ms = typing;
	rc = store_outbox_add(b->st, &o, err);
	b->outbox_dirty = 1;
	if (rc == 0 && o.id)
		b->outbox_last = o.id;
	return rc;
}

static size_t content_max(struct bot *b, const char *room)
{
	return b->e2ee && e2ee_room_encrypted(b->e2ee, room) ?
	       MX_CONTENT_MAX_ENCRYPTED : MX_CONTENT_MAX;
}

static int say(struct bot *b, const char *room, const char *msgtype,
	       const char *text, const char *html, const char *txn,
	       int typing, const char *turn, struct err *err)
{
	char *content;
	int rc;

	content = message_content(msgtype, text, html, turn,
				  content_max(b, room));
	if (!content) {
		err_set(err, "bericht niet te coderen (geen geldige UTF-8?)");
		return -1;
	}
	rc = outbox_add(b, room, "m.room.message", content, txn, typing, err);
	free(content);
	return rc;
}

int outbox_say_turn(struct bot *b, const char *room, const char *msgtype,
		    const char *text, const char *txn, int typing,
		    const char *turn, struct err *err)
{
	return say(b, room, msgtype, text, NULL, txn, typing, turn, err);
}

int outbox_notice_html(struct bot *b, const char *room, const char *cause,
		       const char *what, const char *text, const char *html,
		       struct err *err)
{
	char txn[96];

	outbox_txn(txn, sizeof(txn), cause, what, 0);
	return say(b, room, "m.notice", text, html, txn, 0, NULL, err);
}

int outbox_attach(struct bot *b, const char *room, const char *cause,
		  const char *what, int64_t session, struct err *err)
{
	char txn[96];
	char *content;
	json_t *c;
	int rc;

	outbox_txn(txn, sizeof(txn), cause, what, 0);
	c = json_pack("{s:I, s:s}", "session", (json_int_t)session,
		      "txn", txn);
	content = c ? json_dumps(c, JSON_COMPACT) : NULL;
	json_decref(c);
	if (!content) {
		err_set(err, "bijlage niet te coderen");
		return -1;
	}
	rc = outbox_add(b, room, OUTBOX_ATTACH_TYPE, content, txn, 0, err);
	free(content);
	return rc;
}

int outbox_say(struct bot *b, const char *room, const char *msgtype,
	       const char *text, const char *txn, int typing,
	       struct err *err)
{
	return outbox_say_turn(b, room, msgtype, text, txn, typing, NULL, err);
}

int outbox_event(struct bot *b, const char *room, const char *type,
		 const char *content, const char *txn, struct err *err)
{
	return outbox_add(b, room, type, content, txn, 0, err);
}

int outbox_notice(struct bot *b, const char *room, const char *cause,
		  const char *what, const char *text, struct err *err)
{
	char txn[96];

	outbox_txn(txn, sizeof(txn), cause, what, 0);
	return outbox_say(b, room, "m.notice", text, txn, 0, err);
}

/* Change the bot's display name in a room once the outbox rows queued
 * so far have gone out: it travels in the room's ordered send queue, so
 * the last persona line cannot appear under the next name. Part of the
 * current transaction: outbox_names_truncate() drops it when that rolls back.
					      */
void outbox_name(struct bot *b, const char *room, const char *name)
{
	struct name_change *c;

	XGROW(b->names, b->names_cap, b->nnames + 1);
	c = &b->names[b->nnames++];
	c->room = xstrdup(room);
	c->name = xstrdup(name);
	c->after = b->outbox_last;
	b->outbox_dirty = 1;   /* a name alone (no row with it) goes too */
}

/* Queue the name changes that come before outbox row upto (or all). */
static void flush_names(struct bot *b, int64_t upto)
{
	size_t k = 0;

	while (k < b->nnames && b->names[k].after < upto) {
		mx_set_displayname(b->mx, b->names[k].room, b->names[k].name);
		free(b->names[k].room);
		free(b->names[k].name);
		k++;
	}
	if (!k)
		return;   /* names may be NULL: no pointer arithmetic on it */
	memmove(b->names, b->names + k, (b->nnames - k) * sizeof(*b->names));
	b->nnames -= k;
}

/* Forget the name changes after the first n. */
void outbox_names_truncate(struct bot *b, size_t n)
{
	for (size_t i = n; i < b->nnames; i++) {
		free(b->names[i].room);
		free(b->names[i].name);
	}
	b->nnames = n;
}

static int is_replay_txn(const char *txn)
{
	return strncmp(txn, REPLAY_TXN, strlen(REPLAY_TXN)) == 0;
}

/* Hand outbox rows added since last time to the Matrix client. */
void outbox_flush(struct bot *b)
{
	struct store_outbox *v;
	size_t n;
	struct err err;

	if (!b->outbox_dirty)
		return;
	b->outbox_dirty = 0;
	if (store_outbox_list(b->st, b->outbox_after, &v, &n, &err) < 0) {
		log_line("%s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_error_t je;
		json_t *c = json_loads(v[i].content, 0, &je);

		flush_names(b, v[i].id);
		if (c && is_replay_txn(v[i].txn))
			mx_send_background(b->mx, v[i].room, v[i].type,
					   v[i].txn, c, v[i].typing_ms,
					   (uint64_t)v[i].id);
		else if (c)
			mx_send(b->mx, v[i].room, v[i].type, v[i].txn, c,
				v[i].typing_ms, (uint64_t)v[i].id);
		json_decref(c);
		b->outbox_after = v[i].id;
	}
	store_outbox_free(v, n);
	flush_names(b, INT64_MAX);
}

void outbox_receipt(struct bot *b, const char *room,
		    const char *event_id)
{
	/* a receipt means "read up to here": one per room, the newest */
	for (size_t i = 0; i + 1 < b->nreceipts; i += 2) {
		if (strcmp(b->receipts[i], room) == 0) {
			free(b->receipts[i + 1]);
			b->receipts[i + 1] = xstrdup(event_id);
			return;
		}
	}
	XGROW(b->receipts, b->receipts_cap, b->nreceipts + 2);
	b->receipts[b->nreceipts++] = xstrdup(room);
	b->receipts[b->nreceipts++] = xstrdup(event_id);
}

/* Read receipts go out after the replies: Synapse writes one transaction
 * at a time, and a receipt queued first would delay the answer. */
void outbox_send_receipts(struct bot *b)
{
	for (size_t i = 0; i + 1 < b->nreceipts; i += 2) {
		mx_receipt(b->mx, b->receipts[i], b->receipts[i + 1]);
		free(b->receipts[i]);
		free(b->receipts[i + 1]);
	}
	b->nreceipts = 0;
}

/* Forget the sent outbox rows that no sync batch took along within
 * SENT_DELETE_MS (or all, when stopping): a commit of their own costs as
 * much as a batch's. Returns ms until the next is due, or -1. */
int64_t outbox_sent_delete(struct bot *b, int all)
{
	struct err err;
	int64_t wait = SENT_DELETE_MS - (mono_ms() - b->sent_at);

	if (!b->nsent)
		return -1;
	if (!all && wait > 0)
		return wait;
	if (store_outbox_done_many(b->st, b->sent, b->nsent, &err) < 0) {
		log_line("%s", err.msg);
		b->sent_at = mono_ms();   /* again later */
		return SENT_DELETE_MS;
	}
	b->nsent = 0;
	return -1;
}

/* The replays stopped in a committed transaction leave the Matrix
 * client's queue (commit) or stay (rolled back). */
void outbox_cancels_apply(struct bot *b, int commit)
{
	for (size_t i = 0; i < b->ncancels; i++) {
		if (commit)
			mx_cancel_background(b->mx, b->cancels[i]);
		free(b->cancels[i]);
	}
	b->ncancels = 0;
}

/* The transaction id of a replay's k-th line (k < 0: its last). */
void outbox_replay_txn(char *buf, size_t n, const char *cause, int k)
{
	if (k < 0)
		xsnprintf(buf, n, REPLAY_TXN "%016llx-end",
			 (unsigned long long)fnv(cause));
	else
		xsnprintf(buf, n, REPLAY_TXN "%016llx-%d",
			 (unsigned long long)fnv(cause), k);
}

int outbox_replay_count(struct bot *b, const char *room, struct err *err)
{
	return store_outbox_count(b->st, room, REPLAY_TXN, err);
}

int outbox_replay_drop(struct bot *b, const char *room, struct err *err)
{
	if (store_outbox_drop(b->st, room, REPLAY_TXN, err) < 0)
		return -1;
	XGROW(b->cancels, b->cancels_cap, b->ncancels + 1);
	b->cancels[b->ncancels++] = xstrdup(room);
	return 0;
}

void outbox_sent(struct bot *b, uint64_t cookie)
{
	/* sent, or refused for good: either way it leaves the outbox, with
	 * the next batch or within SENT_DELETE_MS (a crash before that sends
	 * it again with the same txn: the homeserver drops it) */
	if (!b->nsent)
		b->sent_at = mono_ms();
	XGROW(b->sent, b->sent_cap, b->nsent + 1);
	b->sent[b->nsent++] = (int64_t)cookie;
}
