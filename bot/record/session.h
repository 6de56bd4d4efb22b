/* session.h - one recorded rehearsal: the engine plus the transcript.
 *
 * The order of writes is the promise to the trainee: their message is
 * committed before the engine runs, and the persona's answer is committed
 * (with the rubric moments and the engine state) before the caller shows
 * it. A crash therefore never loses anything that was shown, and a
 * restarted program can continue from the stored state.
 */
#ifndef OEF_SESSION_H
#define OEF_SESSION_H

#include <stdint.h>
#include "engine.h"
#include "store.h"

struct session;

/* Start a new rehearsal of s in st (both borrowed, must outlive the
 * session). The persona's opening lines are in *out. */
int session_begin(struct store *st, const struct script *s, uint64_t seed,
		  const char *trainee, const char *room,
		  struct session **ss, struct engine_out *out,
		  struct err *err);
void session_free(struct session *ss);

/* A trainee message: stored, answered, answer stored. text is the full
 * message (stored whole); only the first match_max bytes are matched. */
int session_message(struct session *ss, struct match *m, const char *text,
		    size_t len, const char *author, struct engine_out *out,
		    struct err *err);

/* A line of the bot itself (a notice) for the transcript. */
int session_notice(struct session *ss, const char *text, struct err *err);

/* Stop before an ending: the session is closed as "gestopt". */
int session_stop(struct session *ss, struct err *err);

/* --- for the Matrix bot ---------------------------------------------- */

/* Continue a stored, open session (after a restart). Fails with a clear
 * message when the script changed since (the state cannot be mapped). */
int session_resume(struct store *st, const struct script *s, int64_t id,
		   struct session **ss, struct err *err);

/* Store a message without answering it: speaker is STORE_TRAINEE (it
 * waits for session_answer), STORE_COACH or STORE_OTHER. event_id may be
 * NULL. Returns 1 if that event was stored before (nothing done). */
int session_log(struct session *ss, const char *speaker, const char *author,
		const char *text, const char *event_id, struct err *err);

/* The same, telling the turn's seq. */
int session_log_seq(struct session *ss, const char *speaker,
		    const char *author, const char *text,
		    const char *event_id, int *seq, struct err *err);

/* Trainee messages stored but not yet answered. */
int session_pending(struct session *ss, struct err *err);

/* Answer every waiting trainee message at once, as one turn (a trainee
 * who sends three messages in a row gets one considered answer). out is
 * empty (nmsgs 0, no turn taken) when nothing was waiting. */
int session_answer(struct session *ss, struct match *m,
		   struct engine_out *out, struct err *err);

/* The turn numbers (seq) of the persona lines of the last answer or
 * opening, in order; borrowed until the next call. */
const int *session_said(const struct session *ss, size_t *n);

const struct script *session_script(const struct session *ss);

int64_t session_id(const struct session *ss);
struct engine *session_engine(struct session *ss);
int session_ended(const struct session *ss);

/* The variables as a JSON object text {"vertrouwen":3,...}; caller frees
 * with sbuf_release. */
void session_vars_json(const struct engine *e, struct sbuf *out);

#define SESSION_MATCH_MAX (16 * 1024)

#endif
