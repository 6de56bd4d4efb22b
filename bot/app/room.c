/* room.c - see room.h. */
#include "room.h"

#include <stdlib.h>
#include <string.h>

#include "e2ee.h"
#include "outbox.h"
#include "roles.h"
#include "session.h"
#include "store.h"

struct room *room_find(struct bot *b, const char *id)
{
	for (size_t i = 0; i < b->nrooms; i++)
		if (strcmp(b->rooms[i].id, id) == 0)
			return &b->rooms[i];
	return NULL;
}

struct room *room_add(struct bot *b, const char *id,
		      const char *inviter)
{
	struct room *r = room_find(b, id);

	if (r)
		return r;
	XGROW(b->rooms, b->rooms_cap, b->nrooms + 1);
	r = &b->rooms[b->nrooms++];
	memset(r, 0, sizeof(*r));
	r->id = xstrdup(id);
	r->inviter = inviter ? xstrdup(inviter) : NULL;
	return r;
}

void room_members_forget(struct room *r)
{
	json_decref(r->members);
	r->members = NULL;
}

void room_clear_session(struct room *r)
{
	session_free(r->ss);
	r->ss = NULL;
	free(r->trainee);
	r->trainee = NULL;
	r->answer_at = 0;
}

void room_release(struct room *r)
{
	room_clear_session(r);
	free(r->id);
	free(r->inviter);
	free(r->creator);
	json_decref(r->power_users);
	free(r->coach_room);
	free(r->practice);
	free(r->last_trainee);
	json_decref(r->members);
}

void room_remove(struct bot *b, const char *id)
{
	for (size_t i = 0; i < b->nrooms; i++) {
		if (strcmp(b->rooms[i].id, id) != 0)
			continue;
		room_release(&b->rooms[i]);
		b->rooms[i] = b->rooms[--b->nrooms];
		return;
	}
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
	rr.power_users = r->power_users;
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
	for (size_t i = 0; i < b->nrooms; i++)
		room_release(&b->rooms[i]);
	b->nrooms = 0;
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
		if (pl) {
			json_error_t je;

			r->power_users = json_loads(pl, 0, &je);
		}
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
				r->answer_at = mono_ms();
		}
		store_session_release(&rec);
	}
	store_rooms_free(v, n);
}
