/* store.h - the transcript store: all SQL of Oefenkamer lives in store.c.
 *
 * One SQLite file (WAL, busy timeout, mode 0600, schema versioned with
 * PRAGMA user_version and migrated inside one transaction). It holds
 * sessions, every turn (speaker, text, time, fired rules, variable values),
 * rubric events and annotations. Each store_add_* call is its own committed
 * transaction unless wrapped in store_begin/store_commit, so a trainee
 * message is on disk before the persona's reply is shown. store_begin
 * nests: an inner begin/commit is a savepoint of the outer transaction.
 */
#ifndef OEF_STORE_H
#define OEF_STORE_H

#include <stdint.h>
#include "util.h"

struct store;

/* Speakers of a turn. */
#define STORE_TRAINEE "trainee"   /* the professional who practises */
#define STORE_PERSONA "persona"   /* a line of the scripted client */
#define STORE_NOTICE  "notice"    /* a message of the bot itself */
#define STORE_COACH   "coach"     /* coaching (tips, puppeted lines) */
#define STORE_OTHER   "other"     /* anyone else in the room */

struct store_session {
	int64_t id;
	char *scenario;      /* scenario id */
	char *title;         /* scenario title at the time */
	char *persona;       /* persona id */
	uint64_t seed;
	char *trainee;       /* who practised: "terminal" or a user id */
	char *room;          /* Matrix room id, or NULL for the terminal */
	int64_t started_ms;
	int64_t ended_ms;    /* 0 while open */
	char *ending;        /* ending id, or NULL while open */
	char *ending_kind;   /* "goed", "breuk", "neutraal", or NULL ("" and
			      * "none" are stored as NULL) */
	char *state;         /* engine state snapshot (opaque text), or NULL */
	int nturns;          /* number of turns stored */
};

struct store_turn {
	int64_t id;
	int64_t session_id;
	int seq;             /* 1, 2, 3 … within the session */
	int beurt;           /* trainee message number this turn belongs to */
	char *speaker;       /* one of STORE_* */
	char *author;        /* user id or NULL */
	char *text;
	int64_t ts_ms;
	char *node;          /* phase after this turn, or NULL */
	char *rules_json;    /* JSON array of fired rule names, or NULL */
	char *vars_json;     /* JSON object of variable values, or NULL */
	char *event_id;      /* Matrix event it came from, or NULL */
};

struct store_rubric {
	int64_t id;
	int64_t session_id;
	int turn_seq;        /* the trainee turn it belongs to */
	char *point;         /* rubric id, e.g. "begrip-taal" */
	int shown;           /* 1 = getoond, 0 = gemist */
	char *reason;        /* may be NULL */
	char *quote;         /* the clause that earned it; NULL: the whole
			      * message (and moments stored before 4) */
	int doubt;           /* 1: heard but not recorded (engine.h,
			      * doubts); store_rubric_get leaves these out,
			      * store_doubts_get reads only these */
};

struct store_annotation {
	int64_t id;
	int64_t session_id;
	int turn_seq;
	char *author;
	char *kind;          /* "note", "reaction", "tip", ... */
	char *text;
	int64_t ts_ms;
};

/* Open (creating and migrating as needed). Errors name the file and say
 * what to do (locked, corrupt, not a database, newer schema). */
int store_open(const char *path, struct store **out, struct err *err);
void store_free(struct store *st);

/* How long a call waits for another writer holding the database before
 * it fails with "in gebruik" (default 5000 ms). */
int store_set_busy_timeout(struct store *st, int ms);

int store_begin(struct store *st, struct err *err);
int store_commit(struct store *st, struct err *err);
int store_rollback(struct store *st);

/* Fills s->id and s->started_ms (if 0). Strings are copied. */
int store_session_new(struct store *st, struct store_session *s,
		      struct err *err);
int store_session_end(struct store *st, int64_t id, const char *ending,
		      const char *kind, struct err *err);
int store_session_set_state(struct store *st, int64_t id, const char *state,
			    struct err *err);
/* Caller releases with store_session_release. Returns 1 if not found. */
int store_session_get(struct store *st, int64_t id, struct store_session *out,
		      struct err *err);
void store_session_release(struct store_session *s);
/* The newest session of a room (open or ended); caller releases with
 * store_session_release. Returns 1 if the room has none. */
int store_session_latest(struct store *st, const char *room,
			 struct store_session *out, struct err *err);
/* All sessions, newest first; caller frees with store_sessions_free. */
int store_sessions_list(struct store *st, struct store_session **out,
			size_t *n, struct err *err);
void store_sessions_free(struct store_session *v, size_t n);

/* Fills t->id and t->seq (next in the session) and t->ts_ms (if 0). */
int store_turn_add(struct store *st, struct store_turn *t, struct err *err);
/* Record what the engine made of a trainee turn once it has run: the
 * phase after it, the rules that fired and the variables (each may be
 * NULL). An unknown turn_id is an error. */
int store_turn_set_eval(struct store *st, int64_t turn_id, const char *node,
			const char *rules_json, const char *vars_json,
			struct err *err);
int store_turns_get(struct store *st, int64_t session_id,
		    struct store_turn **out, size_t *n, struct err *err);
/* The turns after the last trainee turn the engine answered (node set):
 * what waits for an answer, and the persona lines in between. */
int store_turns_pending(struct store *st, int64_t session_id,
			struct store_turn **out, size_t *n, struct err *err);
/* The turns with a seq above after, for a caller that knows no trainee
 * turn up to it waits (the last turn of its last answer; 0: all). Reads
 * only those, where store_turns_pending walks back through the turns
 * before. */
int store_turns_after(struct store *st, int64_t session_id, int after,
		      struct store_turn **out, size_t *n, struct err *err);
void store_turns_free(struct store_turn *v, size_t n);

int store_rubric_add(struct store *st, struct store_rubric *r,
		     struct err *err);
int store_rubric_get(struct store *st, int64_t session_id,
		     struct store_rubric **out, size_t *n, struct err *err);
int store_doubts_get(struct store *st, int64_t session_id,
		     struct store_rubric **out, size_t *n, struct err *err);
void store_rubric_free(struct store_rubric *v, size_t n);

int store_annotation_add(struct store *st, struct store_annotation *a,
			 struct err *err);
int store_annotations_get(struct store *st, int64_t session_id,
			  struct store_annotation **out, size_t *n,
			  struct err *err);
void store_annotations_free(struct store_annotation *v, size_t n);

/* --- the Matrix bot's bookkeeping ---------------------------------- */

/* Which turn came from this event? Returns 1 if none. */
int store_turn_by_event(struct store *st, const char *event_id,
			int64_t *session_id, int *seq, struct err *err);

/* Key/value settings: the sync token, the access token and device id.
 * meta_get returns 1 if the key is not set (*value NULL); caller frees.
 * meta_set with value NULL deletes. */
int store_meta_get(struct store *st, const char *key, char **value,
		   struct err *err);
int store_meta_set(struct store *st, const char *key, const char *value,
		   struct err *err);

/* An answer waiting to be sent. txn is unique: adding the same txn again
 * is ignored (id 0), so replaying a sync batch cannot double a reply. */
struct store_outbox {
	int64_t id;
	char *room;
	char *txn;           /* Matrix transaction id */
	char *type;          /* event type, e.g. m.room.message */
	char *content;       /* event content, JSON text */
	int typing_ms;       /* show "typing" this long before sending */
	int64_t created_ms;
};
int store_outbox_add(struct store *st, struct store_outbox *o,
		     struct err *err);
/* Rows with id > after, oldest first. */
int store_outbox_list(struct store *st, int64_t after,
		      struct store_outbox **out, size_t *n, struct err *err);
void store_outbox_free(struct store_outbox *v, size_t n);
/* The room's rows whose txn starts with txn_prefix (e.g. a replay's):
 * how many are waiting (count), or delete them (drop, returns how many
 * it deleted); -1 on error. */
int store_outbox_count(struct store *st, const char *room,
		       const char *txn_prefix, struct err *err);
int store_outbox_drop(struct store *st, const char *room,
		      const char *txn_prefix, struct err *err);
int store_outbox_done(struct store *st, int64_t id, struct err *err);
/* The same for n rows in one transaction (a savepoint inside an open
 * one): all are deleted or none. */
int store_outbox_done_many(struct store *st, const int64_t *ids, size_t n,
			   struct err *err);

/* A room the bot is in, and its running session (0: none). */
struct store_room {
	char *room;
	char *inviter;
	int64_t joined_ms;
	int64_t session_id;
};
int store_room_set(struct store *st, const struct store_room *r,
		   struct err *err);
int store_rooms_list(struct store *st, struct store_room **out, size_t *n,
		     struct err *err);
void store_rooms_free(struct store_room *v, size_t n);
int store_room_delete(struct store *st, const char *room, struct err *err);

/* Tie a stored turn to the Matrix event that carried it (the bot learns
 * the event id of its own lines only when they come back in /sync). */
int store_turn_set_event(struct store *st, int64_t session_id, int seq,
			 const char *event_id, struct err *err);

/* End-to-end encryption records (their meaning is e2ee.c's): kind and
 * up to three keys name a record; value is text (pickles are encrypted
 * by the caller with the pickle key), n a number to sort by (newest
 * first) or a flag. In matches for list/delete a NULL key matches any;
 * in put and get NULL means "". Strings of returned records are the
 * caller's (store_crypto_free wipes the values); kind is not returned. */
struct store_crypto {
	char *kind, *k1, *k2, *k3;
	char *value;
	int64_t n;
};
int store_crypto_put(struct store *st, const struct store_crypto *c,
		     struct err *err);
/* 1 if there is no such record (*value NULL); caller frees *value. */
int store_crypto_get(struct store *st, const struct store_crypto *key,
		     char **value, int64_t *n, struct err *err);
int store_crypto_list(struct store *st, const struct store_crypto *match,
		      struct store_crypto **out, size_t *n, struct err *err);
int store_crypto_delete(struct store *st, const struct store_crypto *match,
			struct err *err);
/* Expiry: the records of kind whose n is below before (oldest first;
 * free with store_crypto_free), and deleting them. */
int store_crypto_older(struct store *st, const char *kind, int64_t before,
		       struct store_crypto **out, size_t *n, struct err *err);
int store_crypto_delete_older(struct store *st, const char *kind,
			      int64_t before, struct err *err);
void store_crypto_free(struct store_crypto *v, size_t n);

/* Retention: delete every session that ended before before_ms, with its
 * turns, rubric events and annotations, in one transaction. Open
 * sessions are kept. *out lists what was deleted (caller frees with
 * store_sessions_free). */
int store_purge(struct store *st, int64_t before_ms,
		struct store_session **out, size_t *n, struct err *err);

#endif
