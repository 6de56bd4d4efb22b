/* room.c - see room.h. */
#include "room.h"

#include <stdlib.h>
#include <string.h>

#include "e2ee.h"
#include "outbox.h"
#include "roles.h"
#include "session.h"
#include "store.h"

/* The index: open addressing with linear probing on room.hash. A
 * lookup costs one hash of the id and, at most half full, a probe or
 * two, whatever the number of rooms. */
static size_t by_id_home(const struct bot *b, uint64_t h)
{
	return (size_t)h & (b->by_id_cap - 1);
}

static void by_id_put(struct bot *b, struct room *r)
{
	size_t i = by_id_home(b, r->hash);

	while (b->by_id[i])
		i = (i + 1) & (b->by_id_cap - 1);
	b->by_id[i] = r;
}

/* Room for one more with the table at most half full. */
static void by_id_reserve(struct bot *b, size_t n)
{
	size_t cap = b->by_id_cap ? b->by_id_cap : 16;

	while (n > cap / 2)
		cap *= 2;
	if (cap == b->by_id_cap)
		return;
	free(b->by_id);
	b->by_id = xcalloc(cap, sizeof(*b->by_id));
	b->by_id_cap = cap;
	for (size_t i = 0; i < b->nrooms; i++)
		by_id_put(b, b->rooms[i]);
}

/* Take r out of the index: backward-shift deletion, so that no probe
 * sequence is cut (no tombstones). */
static void by_id_delete(struct bot *b, const struct room *r)
{
	size_t mask = b->by_id_cap - 1;
	size_t i = by_id_home(b, r->hash);

	while (b->by_id[i] != r)
		i = (i + 1) & mask;
	for (size_t j = (i + 1) & mask; b->by_id[j]; j = (j + 1) & mask) {
		/* how far b->by_id[j] is from its home, and the hole */
		size_t k = by_id_home(b, b->by_id[j]->hash);

		if (((j - k) & mask) >= ((j - i) & mask)) {
			b->by_id[i] = b->by_id[j];
			i = j;
		}
	}
	b->by_id[i] = NULL;
}

struct room *room_find(struct bot *b, const char *id)
{
	uint64_t h;
	size_t i;

	if (!b->nrooms)
		return NULL;
	h = hash_fnv64(HASH_FNV64_START, id, strlen(id));
	for (i = by_id_home(b, h); b->by_id[i];
	     i = (i + 1) & (b->by_id_cap - 1)) {
		struct room *r = b->by_id[i];

		if (r->hash == h && strcmp(r->id, id) == 0)
			return r;
	}
	return NULL;
}

struct room *room_add(struct bot *b, const char *id,
		      const char *inviter)
{
	struct room *r = room_find(b, id);
	size_t idlen = strlen(id) + 1;
	size_t invlen = inviter ? strlen(inviter) + 1 : 0;

	if (r)
		return r;
	by_id_reserve(b, b->nrooms + 1);
	XGROW(b->rooms, b->rooms_cap, b->nrooms + 1);
	/* the id and inviter never change: one block with the room, not
	 * three (issue 15: fewer small blocks per room to keep resident) */
	r = xcalloc(1, sizeof(*r) + idlen + invlen);
	r->id = memcpy((char *)(r + 1), id, idlen);
	r->hash = hash_fnv64(HASH_FNV64_START, id, idlen - 1);
	r->slot = b->nrooms;
	r->due_pos = SIZE_MAX;
	r->inviter = inviter ? memcpy(r->id + idlen, inviter, invlen) : NULL;
	b->rooms[b->nrooms++] = r;
	by_id_put(b, r);
	return r;
}

/* The due heap: a binary min-heap of rooms by answer_at, each room's
 * position kept in room.due_pos. */
static void due_place(struct bot *b, struct room *r, size_t pos)
{
	b->due[pos] = r;
	r->due_pos = pos;
}

static void due_up(struct bot *b, struct room *r)
{
	size_t pos = r->due_pos;

	while (pos > 0) {
		struct room *p = b->due[(pos - 1) / 2];

		if (p->answer_at <= r->answer_at)
			break;
		due_place(b, p, pos);
		pos = (pos - 1) / 2;
	}
	due_place(b, r, pos);
}

static void due_down(struct bot *b, struct room *r)
{
	size_t pos = r->due_pos;

	for (;;) {
		size_t c = 2 * pos + 1;

		if (c >= b->ndue)
			break;
		if (c + 1 < b->ndue &&
		    b->due[c + 1]->answer_at < b->due[c]->answer_at)
			c++;
		if (r->answer_at <= b->due[c]->answer_at)
			break;
		due_place(b, b->due[c], pos);
		pos = c;
	}
	due_place(b, r, pos);
}

void room_due_set(struct bot *b, struct room *r, int64_t at)
{
	if (at <= 0) {
		room_due_clear(b, r);
		return;
	}
	r->answer_at = at;
	if (r->due_pos == SIZE_MAX) {
		XGROW(b->due, b->due_cap, b->ndue + 1);
		r->due_pos = b->ndue++;
	}
	due_up(b, r);
	due_down(b, r);
}

void room_due_clear(struct bot *b, struct room *r)
{
	size_t pos = r->due_pos;

	r->answer_at = 0;
	if (pos == SIZE_MAX)
		return;
	r->due_pos = SIZE_MAX;
	if (pos != --b->ndue) {
		struct room *last = b->due[b->ndue];

		last->due_pos = pos;
		b->due[pos] = last;
		due_up(b, last);
		due_down(b, last);
	}
}

struct room *room_due_first(struct bot *b)
{
	return b->ndue ? b->due[0] : NULL;
}

void room_members_forget(struct room *r)
{
	json_decref(r->members);
	r->members = NULL;
}

/* Forget r's rehearsal in memory (the heap is the caller's). */
static void room_session_free(struct room *r)
{
	session_free(r->ss);
	r->ss = NULL;
	free(r->trainee);
	r->trainee = NULL;
}

void room_clear_session(struct bot *b, struct room *r)
{
	room_due_clear(b, r);
	room_session_free(r);
}

/* Free r and what it holds; it is in neither by_id nor the heap. */
static void room_free(struct room *r)
{
	room_session_free(r);
	free(r->creator);
	free(r->power);
	free(r->coach_room);
	free(r->practice);
	free(r->last_trainee);
	json_decref(r->members);
	free(r);
}

void room_remove(struct bot *b, const char *id)
{
	struct room *r = room_find(b, id);

	if (!r)
		return;
	room_due_clear(b, r);
	by_id_delete(b, r);
	b->rooms[r->slot] = b->rooms[--b->nrooms];
	b->rooms[r->slot]->slot = r->slot;
	room_free(r);
}

void room_remove_all(struct bot *b)
{
	for (size_t i = 0; i < b->nrooms; i++)
		room_free(b->rooms[i]);
	free(b->rooms);
	free(b->by_id);
	free(b->due);
	b->rooms = NULL;
	b->by_id = NULL;
	b->due = NULL;
	b->nrooms = b->rooms_cap = b->by_id_cap = b->ndue = b->due_cap = 0;
	b->empties = 0;
}

int room_save(struct bot *b, const struct room *r, struct err *err)
{
	struct store_room sr;

	memset(&sr, 0, sizeof(sr));
	sr.room = r->id;
	sr.inviter = r->inviter;
	sr.joined_ms = now_ms();
	sr.session_id = r->ss ? session_id(r->ss) : 0;
	return store_room_set(b->st, &sr, err);
}

/* Per-room facts kept in meta under "<what>:<room>". */
int room_meta_set(struct bot *b, const char *what, const char *room,
		  const char *value, struct err *err)
{
	struct sbuf key;
	int rc;

	sbuf_init(&key);
	sbuf_addf(&key, "%s:%s", what, room);
	rc = store_meta_set(b->st, key.buf, value, err);
	sbuf_release(&key);
	return rc;
}

char *room_meta_get(struct bot *b, const char *what, const char *room)
{
	struct sbuf key;
	struct err err;
	char *v = NULL;

	sbuf_init(&key);
	sbuf_addf(&key, "%s:%s", what, room);
	if (store_meta_get(b->st, key.buf, &v, &err) < 0)
		v = NULL;
	sbuf_release(&key);
	return v;
}

unsigned room_roles(struct bot *b, struct room *r, const char *user)
{
	struct room_roles rr;

	rr.trainee = r->ss ? r->trainee : NULL;
	rr.creator = r->creator;
	rr.power = r->power;
	rr.bot = b->cfg->user_id;
	return roles_of(b->cfg, &rr, user);
}

struct room_call *room_call_new(struct bot *b, const char *room)
{
	struct room_call *c = xcalloc(1, sizeof(*c));

	c->b = b;
	c->room = xstrdup(room);
	return c;
}

void room_call_free(struct room_call *c)
{
	free(c->room);
	free(c);
}

/* Forget a room the bot has left, with its per-room meta rows. */
int room_forget(struct bot *b, const char *room, struct err *err)
{
	static const char *const keys[] = { "creator", "pl", "pause",
					    "coachroom", "practice",
					    "replay" };

	/* a replay into a room the bot left has nobody to show it to */
	if (store_room_delete(b->st, room, err) < 0 ||
	    outbox_replay_drop(b, room, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		if (room_meta_set(b, keys[i], room, NULL, err) < 0)
			return -1;
	return 0;
}

void room_reload(struct bot *b)
{
	struct store_room *v;
	size_t n;
	struct err err;

	b->outbox_dirty = 1;   /* whatever is stored and unsent goes out */
	if (b->e2ee && e2ee_reload(b->e2ee, &err) < 0)
		log_line("%s", err.msg);
	room_remove_all(b);
	if (store_rooms_list(b->st, &v, &n, &err) < 0) {
		log_line("%s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct room *r = room_add(b, v[i].room, v[i].inviter);
		struct store_session rec;
		const struct script *s;
		char *pause = room_meta_get(b, "pause", v[i].room);
		char *pl = room_meta_get(b, "pl", v[i].room);

		r->creator = room_meta_get(b, "creator", v[i].room);
		r->coach_room = room_meta_get(b, "coachroom", v[i].room);
		r->practice = room_meta_get(b, "practice", v[i].room);
		r->paused = pause != NULL;
		r->power = roles_power_parse(pl);
		free(pause);
		free(pl);

		/* the room's last session, for !nabespreking and !opnieuw
		 * (a running one is resumed below) */
		if (store_session_latest(b->st, v[i].room, &rec, &err) == 0) {
			r->last_session = rec.id;
			r->last_trainee = rec.trainee ? xstrdup(rec.trainee) :
					  NULL;
		}
		store_session_release(&rec);
		if (!v[i].session_id)
			continue;
		memset(&rec, 0, sizeof(rec));
		if (store_session_get(b->st, v[i].session_id, &rec, &err) != 0)
			continue;
		s = catalog_find(&b->cat, rec.scenario);
		if (!s || rec.ended_ms) {
			store_session_release(&rec);
			continue;
		}
		if (session_resume(b->st, s, v[i].session_id, &r->ss,
				   &err) < 0) {
			log_line("oefening in %s niet te hervatten: %s",
			      v[i].room, err.msg);
		} else {
			r->trainee = rec.trainee ? xstrdup(rec.trainee) : NULL;
			if (!r->paused && session_pending(r->ss, &err) > 0)
				room_due_set(b, r, mono_ms());
		}
		store_session_release(&rec);
	}
	store_rooms_free(v, n);
}
