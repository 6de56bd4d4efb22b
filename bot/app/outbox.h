/* outbox.h - everything the bot says goes through the outbox: a row in
 * the store, written in the caller's transaction, sent (mx) after the
 * commit. Transaction ids come from the cause (an event id, or a name
 * when there is none), so a resend after a crash reuses them and the
 * homeserver drops the duplicate. Display-name changes and read
 * receipts wait for the rows queued before them; replay lines
 * (!terugkijken) go out in the background and can be dropped.
 */
#ifndef OEF_OUTBOX_H
#define OEF_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "bot_int.h"

/* The transaction id of the k-th message caused by cause, with what
 * telling the kinds apart; the same cause gives the same ids. */
void outbox_txn(char *buf, size_t n, const char *cause, const char *what,
		int k);
/* The transaction id of a replay's k-th line (k < 0: its last). */
void outbox_replay_txn(char *buf, size_t n, const char *cause, int k);
/* How long the persona types text (config's typing; 0 when off). */
int outbox_typing_ms(const struct config *cfg, const char *text);

/* The label every m.notice (out of character: notices, the debrief,
 * !hulp, refusals, hints, coaching) starts with, in body and in
 * formatted_body; the persona speaks only in m.text. */
#define OUTBOX_MARK_BODY "Oefenkamer · "
#define OUTBOX_MARK_NAME "<b>Oefenkamer</b>"
#define OUTBOX_MARK_HTML OUTBOX_MARK_NAME " · "

/* Append html to sb with the label in front where a client shows it on
 * the same line as the text: inside the first paragraph or heading when
 * html starts with one ("<h3><b>Oefenkamer</b> · Einde…"), as a
 * paragraph of its own before another block (a list, <pre>, a table),
 * else just in front. A label before a block would stand alone on its
 * line with a dangling " · ". */
void outbox_mark_html(struct sbuf *sb, const char *html);

/* Queue a message (msgtype m.text or m.notice), typing ms of typing
 * first; turn ("<session>:<seq>") ties a persona line to its stored
 * turn, or NULL. Part of the current transaction; 0 or -1. */
int outbox_say_turn(struct bot *b, const char *room, const char *msgtype,
		    const char *text, const char *txn, int typing,
		    const char *turn, struct err *err);
int outbox_say(struct bot *b, const char *room, const char *msgtype,
	       const char *text, const char *txn, int typing,
	       struct err *err);
/* An m.notice caused by cause; what names the kind (its txn id). */
int outbox_notice(struct bot *b, const char *room, const char *cause,
		  const char *what, const char *text, struct err *err);

/* The same with formatted_body html (org.matrix.custom.html) beside
 * the plain text; html is dropped first when the event would be too
 * large. */
int outbox_notice_html(struct bot *b, const char *room, const char *cause,
		       const char *what, const char *text, const char *html,
		       struct err *err);

/* A row of this type is no event of its own: it asks for session's
 * full HTML debrief as an m.file in room. Its content is
 * {"session": id, "txn": its txn}; the bot's prepare hook (attach.c)
 * uploads the file when the row comes up and then sends the m.file
 * (or a short notice when the upload failed) with the row's txn, so a
 * resend after a crash uploads again but posts once. */
#define OUTBOX_ATTACH_TYPE "nl.oefenkamer.attach"
int outbox_attach(struct bot *b, const char *room, const char *cause,
		  const char *what, int64_t session, struct err *err);

/* Queue a room event of another type (content: JSON text, copied),
 * e.g. an in-room m.key.verification.cancel; encrypted on the way out
 * where the room is, like every message. Part of the current
 * transaction; 0 or -1. */
int outbox_event(struct bot *b, const char *room, const char *type,
		 const char *content, const char *txn, struct err *err);

/* Change the display name in room after the rows queued so far. */
void outbox_name(struct bot *b, const char *room, const char *name);
/* Forget the name changes after the first n (a rolled-back batch). */
void outbox_names_truncate(struct bot *b, size_t n);

/* Hand the rows added since last time to the Matrix client. */
void outbox_flush(struct bot *b);

/* A read receipt for event_id, sent by outbox_send_receipts (after the
 * replies: a receipt queued first would delay the answer). One per
 * room: a later event_id in the same room replaces the earlier. */
void outbox_receipt(struct bot *b, const char *room, const char *event_id);
void outbox_send_receipts(struct bot *b);

/* Row cookie has been sent (or refused for good): it leaves the store
 * with the next batch, or by outbox_sent_delete. */
void outbox_sent(struct bot *b, uint64_t cookie);
/* Delete the sent rows no batch took along within a second (all: now).
 * Returns ms until the next is due, or -1. */
int64_t outbox_sent_delete(struct bot *b, int all);

/* Replay lines of room still waiting (-1: error). */
int outbox_replay_count(struct bot *b, const char *room, struct err *err);
/* Drop room's waiting replay lines: from the store now, from the Matrix
 * client's queue by outbox_cancels_apply once this commits. */
int outbox_replay_drop(struct bot *b, const char *room, struct err *err);
/* After the transaction: commit 1 cancels the dropped replays' sends,
 * 0 (rolled back) forgets them. */
void outbox_cancels_apply(struct bot *b, int commit);

#endif
