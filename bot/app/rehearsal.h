/* rehearsal.h - one rehearsal in a room: start it, answer the trainee,
 * end it with the debrief, start it again; the texts that show where it
 * stands. Everything said goes into the outbox in the caller's
 * transaction, and what happens is mirrored into the room's coaches'
 * side room when there is one.
 */
#ifndef OEF_REHEARSAL_H
#define OEF_REHEARSAL_H

#include <stdint.h>

#include "bot_int.h"

/* Start scenario s in r with trainee as the trainee; cause (the event
 * that asked for it) gives the engine's seed and the txn ids. */
int rehearsal_start(struct bot *b, struct room *r, const char *trainee,
		    const struct script *s, const char *cause,
		    struct err *err);
/* End r's rehearsal (if any): the meters and the debrief are posted;
 * the room keeps the persona's display name until the next start. */
int rehearsal_end(struct bot *b, struct room *r, const char *cause,
		  struct err *err);
/* !opnieuw: the running rehearsal again, or the room's last one; a
 * coach restarting keeps the trainee the trainee. */
int rehearsal_again(struct bot *b, struct room *r, const char *sender,
		    const char *event_id, struct err *err);
/* Answer what the trainee said (all waiting messages at once); ends
 * the rehearsal when the engine reaches an ending. */
int rehearsal_answer(struct bot *b, struct room *r, struct err *err);

/* A coach's pause (on) or resume; kept in the room's meta. */
int rehearsal_pause(struct bot *b, struct room *r, int on, struct err *err);
/* text into r's coaches' side room (if any), as the k-th of what
 * caused by cause. */
int rehearsal_mirror(struct bot *b, struct room *r, const char *cause,
		     const char *what, int k, const char *text,
		     struct err *err);

/* The persona whose display name room r carries: the running
 * rehearsal's, else the last one's (kept after the end), or NULL.
 * Looks in the store for the last one: not for the per-message path. */
const char *rehearsal_persona_name(struct bot *b, const struct room *r);

/* The meters and the turn, one line, appended to sb. */
void rehearsal_stand(struct session *ss, struct sbuf *sb);
/* Stored session sid's debrief as a Matrix message (export's
 * export_render_matrix: plain body, HTML formatted_body) appended to
 * body and html; a short sentence when it cannot be made. */
void rehearsal_debrief(struct bot *b, int64_t sid, const struct script *s,
		       struct sbuf *body, struct sbuf *html);
/* The same session's full HTML page (`oefenkamer export --format
 * html`), appended to out; 0 or -1. */
int rehearsal_debrief_page(struct bot *b, int64_t sid,
			   const struct script *s, struct sbuf *out,
			   struct err *err);
/* !stand for r's running rehearsal (export_render_stand of the stored
 * session, its phase and pause) appended to body and html. */
void rehearsal_stand_full(struct bot *b, struct room *r, struct sbuf *body,
			  struct sbuf *html);
/* Post session sid's debrief in r (!nabespreking), followed by the full
 * HTML debrief as a file, there and in r's coaches' side room. */
int rehearsal_post_debrief(struct bot *b, struct room *r, int64_t sid,
			   const struct script *s, const char *cause,
			   struct err *err);

#endif
