/* room.h - the bot's room table: the rooms it is in, what it keeps per
 * room in the store (the room row, "<what>:<room>" meta rows), who has
 * which role in a room, and the context of a request about a room.
 */
#ifndef OEF_ROOM_H
#define OEF_ROOM_H

#include "bot_int.h"

/* The room with this id, or NULL; borrowed until that room is removed
 * (each room is its own allocation: adding or removing others does not
 * move it). A lookup in an index by id, not a scan. */
struct room *room_find(struct bot *b, const char *id);
/* The room with this id, added (in memory only) when it is new. */
struct room *room_add(struct bot *b, const char *id, const char *inviter);
/* Free and drop the room with this id (in memory only). */
void room_remove(struct bot *b, const char *id);
/* Free and drop every room, the index and the due heap (in memory only):
 * before a reload and at the end. */
void room_remove_all(struct bot *b);
/* Forget r's rehearsal in memory (the session is not stopped); nothing
 * is due in r any more. */
void room_clear_session(struct bot *b, struct room *r);

/* The rooms with an answer waiting, by when it is due (r->answer_at,
 * monotonic ms), in a min-heap: the loop looks at the first only, so a
 * room with nothing due costs nothing per round. room_due_set sets
 * r->answer_at to at (> 0; 0 clears) and places r; room_due_clear sets
 * it to 0 and takes r out. Nothing else writes answer_at. */
void room_due_set(struct bot *b, struct room *r, int64_t at);
void room_due_clear(struct bot *b, struct room *r);
/* The room whose answer is due first, or NULL when none waits;
 * borrowed. */
struct room *room_due_first(struct bot *b);
/* The joined members are not known any more (a gap in the timeline). */
void room_members_forget(struct room *r);

/* Write r's row (inviter, running session) in the current transaction. */
int room_save(struct bot *b, const struct room *r, struct err *err);
/* Per-room facts kept in meta under "<what>:<room>"; value NULL deletes.
 * room_meta_get returns NULL when unset (or on error); caller frees. */
int room_meta_set(struct bot *b, const char *what, const char *room,
		  const char *value, struct err *err);
char *room_meta_get(struct bot *b, const char *what, const char *room);
/* Forget a room the bot has left: its row, its meta rows and its waiting
 * replay (in the current transaction). */
int room_forget(struct bot *b, const char *room, struct err *err);

/* Throw away in-memory state and read it back from the store (after a
 * failed transaction, memory may be ahead of the database): the rooms,
 * their running rehearsals, the encryption state; unsent outbox rows go
 * out again. */
void room_reload(struct bot *b);

/* user's roles (roles.h's ROLE_*) in r: the trainee of its running
 * rehearsal, its creator and power levels, the config's lists. */
unsigned room_roles(struct bot *b, struct room *r, const char *user);

/* A request whose answer concerns a room: the context of its callback,
 * which frees it with room_call_free. */
struct room_call *room_call_new(struct bot *b, const char *room);
void room_call_free(struct room_call *c);

#endif
