/* bot_int.h - the bot's state, shared by its modules (not installed:
 * bot.h is the public face).
 *
 * The modules, from the bottom up; each uses only those above it:
 *   outbox.c     everything the bot says: txn ids, the outbox, names,
 *                receipts, sent rows
 *   room.c       the room table, per-room meta, roles in a room, reload
 *   rehearsal.c  a session in a room: start, end, again, answer, pause
 *   coach.c      coaching, the coaches' side room, replay, annotations
 *   command.c    the command table, access, rate limiting, !hulp
 *   event.c      Matrix events of a batch: network event -> the above
 *   attach.c     the debrief as a file: an outbox row, uploaded and
 *                sent when mx asks the prepare hook for it
 *   profile.c    the global display name and avatar, at startup
 *   bot.c        bot_new/bot_free, the sync transaction and the loop
 * Data flows one way: mx event -> event -> command/coach -> rehearsal
 * (session, engine) -> outbox -> mx.
 */
#ifndef OEF_BOT_INT_H
#define OEF_BOT_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "engine.h"
#include "match.h"
#include "util.h"

struct attach;
struct e2ee;
struct mx;
struct roles_power;
struct session;
struct store;

struct room {
	char *id;                  /* in the room's own block, after it */
	uint64_t hash;             /* hash_fnv64 of id: its place in by_id */
	size_t slot;               /* where it is in bot.rooms */
	size_t due_pos;            /* where it is in bot.due; SIZE_MAX: not
				    * there (answer_at is 0) */
	char *inviter;             /* in the block too, or NULL */
	struct session *ss;        /* running rehearsal, or NULL */
	char *trainee;             /* user id who started it */
	int64_t answer_at;         /* monotonic ms; 0 = nothing waiting;
				    * set only by room_due_set/_clear */
	int told_encrypted;        /* said once that we cannot read it */
	int paused;                /* a coach paused the persona */
	char *creator;             /* who made the room (m.room.create) */
	struct roles_power *power; /* m.room.power_levels: who is at a
				    * coach's level (roles.h), or NULL */
	int64_t last_session;      /* for !nabespreking after the end */
	char *last_trainee;        /* that session's trainee, or NULL */
	char *coach_room;          /* its coaches' side room, or NULL */
	char *practice;            /* for a side room: its practice room */
	json_t *members;           /* joined users, kept from sync; NULL:
				    * not known (after a start or a gap) */
	int members_asked;         /* a /joined_members is under way */
	int empty;                 /* the last human left: leave after the
				    * batch's events */
	int64_t hint_at;           /* monotonic ms of the last hint outside
				    * a rehearsal (EVENT_HINT_MS); 0: none */
};

/* A user's command allowance (see COMMAND_BURST). */
struct cmd_rate {
	char *user;
	int64_t tat;               /* monotonic ms when the allowance is
				    * whole again */
	int told;                  /* said once that they are limited */
};

/* A request whose answer concerns a room: the context of its
 * callback, freed by it. */
struct room_call {
	struct bot *b;
	char *room;
};

struct bot {
	const struct config *cfg;
	struct catalog cat;
	struct store *st;
	struct mx *mx;
	struct match m;
	struct engine_out out;
	/* the room table (room.c): each room its own allocation, so a
	 * room pointer stays valid until that room is removed */
	struct room **rooms;
	size_t nrooms, rooms_cap;
	struct room **by_id;       /* by id: open addressing on room.hash,
				    * by_id_cap a power of two, at most half
				    * full; NULL = free */
	size_t by_id_cap;
	struct room **due;         /* min-heap by answer_at: the rooms with
				    * an answer waiting */
	size_t ndue, due_cap;
	int64_t outbox_after;      /* highest outbox id handed to mx */
	int outbox_dirty;          /* rows added since the last flush */
	int ready;                 /* logged in, syncing */
	int fatal;
	int initial;               /* first sync ever: history, not answered */
	int empties;               /* a room was marked empty since the last
				    * event_leave_empty */
	/* after a committed batch */
	char **joins;
	size_t njoins, joins_cap;
	char **receipts;           /* room, event pairs */
	size_t nreceipts, receipts_cap;
	char **cancels;            /* rooms whose replay was stopped */
	size_t ncancels, cancels_cap;
	/* end-to-end encryption: on when a pickle key is given */
	char *pickle_key;          /* until e2ee_open takes it */
	size_t pickle_keylen;
	struct e2ee *e2ee;
	struct name_change *names; /* display names, in outbox order */
	size_t nnames, names_cap;
	int64_t outbox_last;       /* newest outbox id added */
	/* sent outbox rows, deleted together (see sent_delete) */
	int64_t *sent;
	size_t nsent, sent_cap;
	int64_t sent_at;           /* monotonic ms of the oldest in sent */
	struct cmd_rate *rates;    /* users who gave commands lately */
	size_t nrates, rates_cap;
	char *help;                /* !hulp, made from the command table */
	struct attach *attach;     /* debrief files under way (attach.c) */
	/* the global profile at startup (profile.c) */
	int profile_state;         /* idle, busy, done */
	char *profile_avatar_url;  /* the homeserver's, while busy */
	char profile_avatar_hash[17]; /* the avatar file's, while busy */
};

/* A display-name change waiting for the outbox rows before it. */
struct name_change {
	char *room;
	char *name;
	int64_t after;             /* goes out after outbox row <= this */
};

#endif
