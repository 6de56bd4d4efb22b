/* room.h - the bot's room table: the rooms it is in, what it keeps per
 * room in the store (the room row, "<what>:<room>" meta rows), who has
 * which role in a room, and the context of a request about a room.
 */
#ifndef OEF_ROOM_H
#define OEF_ROOM_H

#include "bot_int.h"

/* The room with this id, or NULL; borrowed until the table changes
 * (room_add and room_remove move entries). */
struct room *room_find(struct bot *b, const char *id);
/* The room with this id, added (in memory only) when it is new. */
struct room *room_add(struct bot *b, const char *id, const char *inviter);
/* Release and drop the room with this id (in memory only). */
void room_remove(struct bot *b, const char *id);
/* Free what r holds (not r itself). */
void room_release(struct room *r);
/* Forget r's rehearsal in memory (the session is not stopped). */
void room_clear_session(struct room *r);
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
