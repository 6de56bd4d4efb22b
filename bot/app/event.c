/* event.c - see event.h. */
#include "event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coach.h"
#include "command.h"
#include "e2ee.h"
#include "mx.h"
#include "outbox.h"
#include "rehearsal.h"
#include "roles.h"
#include "room.h"
#include "session.h"
#include "store.h"
#include "verify.h"

#define MAX_BODY (64 * 1024)       /* longest message matched/answered */
#define VERIFY_NOTICE_MS (10LL * 60 * 1000)  /* to-device asks explained */

static void on_members(void *ctx, long status, const char *const *users,
		       size_t n);

static int is_coach(struct bot *b, struct room *r, const char *user)
{
	return (room_roles(b, r, user) & (ROLE_COACH | ROLE_TRAINER)) != 0;
}

/* Chatter outside a rehearsal gets a short hint how to begin, at most
 * once per EVENT_HINT_MS per room (a notice from another bot none: no
 * two bots talking to each other). */
static int hint(struct bot *b, struct room *r, const char *eid,
		struct err *err)
{
	int64_t now = mono_ms();

	if (r->hint_at && now - r->hint_at < EVENT_HINT_MS)
		return 0;
	r->hint_at = now;
	return outbox_notice(b, r->id, eid, "hint", "Er loopt hier nu geen "
			     "oefening, dus ik reageer nog niet. Typ "
			     "!oefeningen om er een te kiezen en !start "
			     "<nummer> om te beginnen, of !hulp voor alles "
			     "wat ik kan.", err);
}

static int on_message(struct bot *b, struct room *r,
		      const struct mx_event *ev, struct err *err)
{
	const char *sender = ev->sender;
	const char *eid = ev->id;
	const char *body = ev->body;
	const char *mt = ev->msgtype;
	char *cut = NULL;
	int rc = 0;

	if (!eid || !body || !mt)
		return 0;   /* e.g. redacted: nothing to answer */
	if (strcmp(mt, "m.text") && strcmp(mt, "m.emote") &&
	    strcmp(mt, "m.notice"))
		return 0;
	if (ev->rel == MX_REL_REPLACE)
		return 0;   /* an edit: the original was answered */
	/* handled from here on (a turn, a command, a note, chatter): read */
	if (!b->initial)
		outbox_receipt(b, r->id, eid);
	if (strlen(body) > MAX_BODY) {
		/* cut on a UTF-8 boundary */
		size_t n = MAX_BODY;

		while (n && ((unsigned char)body[n] & 0xc0) == 0x80)
			n--;
		cut = xstrndup(body, n);
		body = cut;
	}
	{
		const char *root = NULL;

		if (ev->rel == MX_REL_THREAD)
			root = ev->rel_event;
		if (!root && ev->rel == MX_REL_REPLY &&
		    (room_roles(b, r, sender) & (ROLE_COACH | ROLE_TRAINER)))
			root = ev->rel_event;
		/* Threads (and coaches' replies) are talk about the
		 * rehearsal: never input for the persona. */
		if (root) {
			rc = coach_annotate(b, r, sender, root, "notitie", body,
					    err);
			if (rc == 0 && r->ss)
				rc = session_log(r->ss, is_coach(b, r,
						 sender) ? STORE_COACH :
						 STORE_OTHER, sender, body,
						 eid, err) < 0 ? -1 : 0;
			free(cut);
			return rc;
		}
	}
	/* in a coaches' side room, commands act on the practice room */
	if (r->practice) {
		struct room *p = room_find(b, r->practice);

		if (p && body[0] == '!' && strcmp(mt, "m.notice") != 0 &&
		    !b->initial)
			rc = command_run(b, p, sender, body, eid, err);
		free(cut);
		return rc;
	}
	if (body[0] == '!' && strcmp(mt, "m.notice") != 0) {
		if (!b->initial)
			rc = command_run(b, r, sender, body, eid, err);
		if (r->ss && rc == 0)
			rc = session_log(r->ss, STORE_OTHER, sender, body,
					 eid, err) < 0 ? -1 : 0;
	} else if (r->ss && r->trainee && strcmp(sender, r->trainee) == 0) {
		int added = session_log(r->ss, STORE_TRAINEE, sender, body,
					eid, err);

		if (added < 0) {
			rc = -1;
		} else if (added == 0) {
			struct sbuf sb;

			if (!r->paused)
				room_due_set(b, r, mono_ms() +
					     b->cfg->gather_ms);
			sbuf_init(&sb);
			sbuf_addf(&sb, "Trainee%s: %s", r->paused ?
				  " (tijdens de pauze)" : "", body);
			rc = rehearsal_mirror(b, r, eid, "t", 0, sb.buf, err);
			sbuf_release(&sb);
		}
	} else if (r->ss) {
		rc = session_log(r->ss, is_coach(b, r, sender) ?
				 STORE_COACH : STORE_OTHER, sender, body, eid,
				 err) < 0 ? -1 : 0;
	} else if (strcmp(mt, "m.notice") != 0 && !b->initial) {
		rc = hint(b, r, eid, err);
	}
	free(cut);
	return rc;
}

/* --- membership: kept from sync, asked for only when not known --- */

static void members_update(struct room *r, const char *who, const char *ms)
{
	if (!r->members)
		return;
	if (!strcmp(ms, "join"))
		json_object_set_new(r->members, who, json_true());
	else
		json_object_del(r->members, who);
}

static size_t humans(struct bot *b, json_t *members)
{
	return json_object_size(members) -
	       (json_object_get(members, b->cfg->user_id) ? 1 : 0);
}

/* The last human left: close the rehearsal, forget the room and leave
 * it (in the caller's transaction). r is gone afterwards. */
static int leave_empty(struct bot *b, struct room *r, struct err *err)
{
	char *id = xstrdup(r->id);
	int rc = 0;

	log_line("iedereen is weg uit %s: ik ga ook", id);
	if ((r->ss && !session_ended(r->ss) && session_stop(r->ss, err) < 0) ||
	    room_forget(b, id, err) < 0)
		rc = -1;
	if (rc == 0) {
		mx_leave(b->mx, id, NULL, NULL);
		room_remove(b, id);
	}
	free(id);
	return rc;
}

/* After a batch's room events: leave the rooms that became empty. The
 * scan runs only in a batch that marked one (rarely). */
int event_leave_empty(struct bot *b, struct err *err)
{
	size_t i = 0;

	if (!b->empties)
		return 0;
	while (i < b->nrooms) {
		if (!b->rooms[i]->empty) {
			i++;
			continue;
		}
		/* the last room takes its slot */
		if (leave_empty(b, b->rooms[i], err) < 0)
			return -1;
	}
	b->empties = 0;
	return 0;
}

/* Our own display name changed in r. Synapse copies a new global
 * profile (profile.c) into every room in the background, room by room,
 * after the PUT has returned, so a persona's name the bot put back at
 * once could be overwritten later: the copy itself is the moment to
 * put her name back. Only the global name is repaired: the bot's own
 * per-room changes (outbox_name) never set it in a room with a
 * persona. */
static int name_back(struct bot *b, struct room *r,
		     const struct mx_event *ev)
{
	const char *name;

	if (b->initial || !ev->displayname ||
	    strcmp(ev->displayname, b->cfg->display_name) != 0)
		return 0;
	name = rehearsal_persona_name(b, r);
	if (name && strcmp(name, ev->displayname) != 0)
		outbox_name(b, r->id, name);
	return 0;
}

static int on_member(struct bot *b, struct room *r,
		     const struct mx_event *ev, const char *me,
		     struct err *err)
{
	const char *who = ev->state_key;
	const char *eid = ev->id;
	const char *ms = ev->membership;

	if (!who || !ms || !eid)
		return 0;
	if (strcmp(who, me) == 0) {
		const char *prev = ev->prev_membership;

		if (strcmp(ms, "join") != 0)
			return 0;
		if (prev && !strcmp(prev, "join"))
			return name_back(b, r, ev);   /* a profile change */
		/* our own join: say hello once (the txn makes it once) */
		if (!b->initial && !r->ss && !r->practice)
			return outbox_notice(b, r->id, eid, "hello", b->help,
					     err);
		return 0;
	}
	members_update(r, who, ms);
	if (r->members)
		r->empty = humans(b, r->members) == 0;
	if (r->empty)
		b->empties = 1;
	if (strcmp(ms, "leave") && strcmp(ms, "ban"))
		return 0;
	if (!r->members && !r->members_asked) {
		/* not known since the start (or a gap): ask once */
		r->members_asked = 1;
		mx_joined_members(b->mx, r->id, on_members,
				  room_call_new(b, r->id));
	}
	return 0;
}

/* The room's creator and power levels decide who may coach. Kept in
 * meta too: an incremental sync does not repeat room state. */
static int on_state(struct bot *b, struct room *r,
		    const struct mx_event *ev, struct err *err)
{
	const char *type = ev->type;

	if (!strcmp(type, "m.room.member") && ev->state_key &&
	    ev->membership)
		members_update(r, ev->state_key, ev->membership);
	if (!ev->state_key || strcmp(ev->state_key, ""))
		return 0;
	if (!strcmp(type, "m.room.create")) {
		const char *c = ev->creator ? ev->creator : ev->sender;

		free(r->creator);
		r->creator = xstrdup(c);
		return room_meta_set(b, "creator", r->id, c, err);
	}
	if (!strcmp(type, "m.room.power_levels")) {
		json_t *users;
		char *text;
		int rc;

		if (!ev->has_power)
			return 0;
		free(r->power);
		r->power = roles_power_new(ev->power, ev->npower);
		/* the store keeps every level, as it came */
		users = json_object();
		for (size_t i = 0; i < ev->npower; i++)
			json_object_set_new(users, ev->power[i].user,
				json_integer((json_int_t)ev->power[i].level));
		text = json_dumps(users, JSON_COMPACT);
		json_decref(users);
		rc = room_meta_set(b, "pl", r->id, text ? text : "{}", err);
		free(text);
		return rc;
	}
	return 0;
}

/* Our own persona lines come back with their event id: remember it on
 * the turn, so reactions and thread replies can find the turn. */
static int on_own(struct bot *b, const struct mx_event *ev,
		  struct err *err)
{
	const char *eid = ev->id;
	const char *turn = ev->turn;
	long long sid;
	int seq;

	if (!eid || !turn || sscanf(turn, "%lld:%d", &sid, &seq) != 2)
		return 0;
	return store_turn_set_event(b->st, sid, seq, eid, err);
}

static int on_event(struct bot *b, struct room *r,
		    const struct mx_event *ev, struct err *err);

/* --- key verification: cancelled at once (verify.h), and why --- */

static int cross_signed(const struct bot *b)
{
	return b->e2ee && e2ee_cross_signed(b->e2ee);
}

/* What the asker reads in room: why the bot cancelled, and (only where
 * it is true) that its device is signed by its own account and that
 * the room is encrypted. */
static void verify_notice(struct bot *b, const char *room, struct sbuf *sb)
{
	sbuf_adds(sb, "Je vroeg je app om mij te verifiëren, maar dat doe "
		  "ik niet: ik ben een programma en er kijkt niemand mee die "
		  "emoji of getallen kan vergelijken. Daarom heb ik het "
		  "verzoek meteen afgebroken.");
	if (cross_signed(b))
		sbuf_addf(sb, " Het is ook niet nodig: mijn apparaat is "
			  "ondertekend door mijn eigen account (%s) met "
			  "cross-signing. Apps die cross-signing gebruiken, "
			  "zoals Element en nheko, zien daaraan dat dit "
			  "apparaat door het account zelf is bevestigd en geen "
			  "onbekend apparaat is.", b->cfg->user_id);
	if (cross_signed(b) && e2ee_room_encrypted(b->e2ee, room))
		sbuf_adds(sb, " Je berichten aan mij in dit gesprek blijven "
			  "gewoon versleuteld.");
}

/* Whether user is the only one in room besides us: then every
 * verification step there is with us. Known from sync (members) or,
 * in an encrypted room, from the member list kept for its keys. */
static int room_is_direct(struct bot *b, struct room *r, const char *user)
{
	if (r->members)
		return humans(b, r->members) == 1 &&
		       json_object_get(r->members, user) != NULL;
	return b->e2ee && e2ee_room_is_direct(b->e2ee, r->id, user);
}

/* An in-room verification message: the cancel goes into the room,
 * relating to the request (encrypted where the room is); a request
 * also gets the notice. A later step counts only where the request
 * can only have been to us (a direct chat): others verify each other
 * in shared rooms too. */
static int on_verify(struct bot *b, struct room *r,
		     const struct verify_msg *m, struct err *err)
{
	json_t *c;
	char *text;
	char txn[96];
	int rc;

	if (b->initial)
		return 0;   /* history: the asker gave up long ago */
	if (m->step != VERIFY_REQUEST && !room_is_direct(b, r, m->sender))
		return 0;
	c = verify_cancel_content(m, cross_signed(b));
	text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	if (!text) {
		err_set(err, "verificatie: antwoord niet te coderen");
		return -1;
	}
	outbox_txn(txn, sizeof(txn), m->request, "vcancel",
		   (int)m->step);
	rc = outbox_event(b, r->id, VERIFY_CANCEL_TYPE, text, txn, err);
	free(text);
	log_line("verificatie door %s in %s afgebroken (%s)", m->sender,
		 r->id, verify_code(m));
	if (rc == 0 && m->step != VERIFY_LATER) {
		struct sbuf sb;

		sbuf_init(&sb);
		verify_notice(b, r->id, &sb);
		rc = outbox_notice(b, r->id, m->request, "verify", sb.buf,
				   err);
		sbuf_release(&sb);
	}
	return rc;
}

/* The notice for a to-device request or start, in the asker's direct
 * chat with us (none: only logged). One per asker and VERIFY_NOTICE_MS
 * window: the transaction id derives from both, and the homeserver
 * drops a resend (a to-device request costs nothing to repeat). */
static int verify_dm_notice(struct bot *b, const struct verify_msg *m,
			    struct err *err)
{
	struct room *dm = NULL;
	struct sbuf text, cause;
	int rc;

	for (size_t k = 0; k < b->nrooms && !dm; k++)
		if (!b->rooms[k]->practice &&
		    room_is_direct(b, b->rooms[k], m->sender))
			dm = b->rooms[k];
	if (!dm) {
		log_line("geen direct gesprek met %s voor de uitleg",
			 m->sender);
		return 0;
	}
	sbuf_init(&text);
	sbuf_init(&cause);
	verify_notice(b, dm->id, &text);
	sbuf_addf(&cause, "verify|%s|%lld", m->sender,
		  (long long)(now_ms() / VERIFY_NOTICE_MS));
	rc = outbox_notice(b, dm->id, cause.buf, "verify", text.buf, err);
	sbuf_release(&cause);
	sbuf_release(&text);
	return rc;
}

/* The to-device verification messages of a batch: each gets its
 * cancel (to-device, to the asking device); a request or start also
 * gets the notice (verify_dm_notice). */
int event_verify(struct bot *b, const struct mx_sync *s, struct err *err)
{
	for (size_t i = 0; i < s->nverify; i++) {
		const struct verify_msg *m = &s->verify[i];

		if (b->initial || !strcmp(m->sender, b->cfg->user_id))
			continue;
		verify_cancel_to_device(b->mx, m, cross_signed(b));
		log_line("verificatie door %s (%s) afgebroken (%s)",
			 m->sender, m->device ? m->device : "?",
			 verify_code(m));
		if (m->step != VERIFY_LATER && verify_dm_notice(b, m, err) < 0)
			return -1;
	}
	return 0;
}

/* What an encrypted event decrypted to: only messages, reactions and
 * key verification steps.
 * State is never taken from ciphertext (e2ee drops any state_key too),
 * so an encrypted "m.room.create" or "m.room.power_levels" cannot
 * change who created the room or who coaches. */
static int on_decrypted(struct bot *b, struct room *r,
			const struct mx_event *plain, struct err *err)
{
	const char *type = plain->type;

	if (plain->state_key || (strcmp(type, "m.room.message") &&
				 strcmp(type, "m.reaction") &&
				 strncmp(type, "m.key.verification.",
					 strlen("m.key.verification."))))
		return 0;
	return on_event(b, r, plain, err);
}

/* An encrypted room event: handled as what it decrypts to; a message
 * whose key is missing is kept (e2ee) and its sender told once. */
static int on_encrypted(struct bot *b, struct room *r,
			const struct mx_event *ev, struct err *err)
{
	enum e2ee_result res;
	struct mx_event plain;
	const char *sender = ev->sender;
	const char *eid = ev->id;
	int rc;

	if (e2ee_decrypt(b->e2ee, ev, &res, &plain, err) < 0)
		return -1;
	if (res == E2EE_OK) {
		rc = on_decrypted(b, r, &plain, err);
		mx_event_release(&plain);
		return rc;
	}
	if (res != E2EE_WAITING_FIRST || b->initial || !eid ||
	    !strcmp(sender, b->cfg->user_id))
		return 0;
	{
		struct sbuf sb;

		sbuf_init(&sb);
		sbuf_addf(&sb, "Ik kan je bericht niet lezen, %s: ik heb de "
			  "sleutel ervan (nog) niet gekregen. Ik heb je app "
			  "erom gevraagd; komt hij binnen, dan antwoord ik "
			  "alsnog. Gebeurt dit vaker, kijk dan of je app "
			  "sleutels deelt met niet-geverifieerde apparaten, "
			  "of begin een nieuwe kamer.", sender);
		rc = outbox_notice(b, r->id, eid, "unreadable", sb.buf, err);
		sbuf_release(&sb);
	}
	return rc;
}

static int on_event(struct bot *b, struct room *r,
		    const struct mx_event *ev, struct err *err)
{
	const char *type = ev->type;
	const char *sender = ev->sender;
	const char *me = b->cfg->user_id;

	if (b->e2ee && !strcmp(type, "m.room.encrypted"))
		return on_encrypted(b, r, ev, err);
	if (!strcmp(type, "m.room.member"))
		return on_member(b, r, ev, me, err);
	if (!strcmp(type, "m.room.create") || !strcmp(type,
						      "m.room.power_levels"))
		return on_state(b, r, ev, err);
	if (!strcmp(sender, me))
		return on_own(b, ev, err);
	{
		struct verify_msg vm;

		if (verify_parse_room(ev, me, &vm))
			return on_verify(b, r, &vm, err);
	}
	if (!strcmp(type, "m.reaction")) {
		if (ev->rel != MX_REL_ANNOTATION || !ev->rel_event ||
		    !ev->rel_key)
			return 0;
		return coach_annotate(b, r, sender, ev->rel_event, "reactie",
				      ev->rel_key, err);
	}
	if (!strcmp(type, "m.room.message"))
		return on_message(b, r, ev, err);
	if (!strcmp(type, "m.room.encrypted") && !r->told_encrypted &&
	    !b->initial) {
		r->told_encrypted = 1;
		return outbox_notice(b, r->id, ev->id ? ev->id : r->id, "enc",
				     "Deze kamer is versleuteld en dat kan ik "
				     "nog niet lezen. Maak een kamer zonder "
				     "versleuteling en nodig mij daar uit.",
				     err);
	}
	return 0;
}

int event_invite(struct bot *b, const struct mx_room *room,
		 struct err *err)
{
	const char *room_id = room->id;
	const char *inviter = NULL;

	for (size_t i = 0; i < room->nstate; i++) {
		const struct mx_event *ev = &room->state[i];

		if (ev->state_key && !strcmp(ev->type, "m.room.member") &&
		    !strcmp(ev->state_key, b->cfg->user_id))
			inviter = ev->sender;
	}
	if (!inviter || !config_invite_allowed(b->cfg, inviter)) {
		log_line("uitnodiging voor %s van %s geweigerd (niet in "
		      "invites.allow)", room_id, inviter ? inviter : "?");
		mx_leave(b->mx, room_id, NULL, NULL);
		return 0;
	}
	if (room_find(b, room_id))
		return 0;
	{
		struct room *r = room_add(b, room_id, inviter);

		if (room_save(b, r, err) < 0)
			return -1;
	}
	XGROW(b->joins, b->joins_cap, b->njoins + 1);
	b->joins[b->njoins++] = xstrdup(room_id);
	return 0;
}


/* Encrypted events that became readable (their key arrived, or their
 * sender's device was confirmed), handled as if they arrived now. */
int event_ready(struct bot *b, struct err *err)
{
	struct mx_event *ready;
	size_t n;
	int rc = 0;

	if (!b->e2ee || !e2ee_has_ready(b->e2ee))
		return 0;
	if (e2ee_take_ready(b->e2ee, &ready, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct room *r = room_find(b, ready[i].room);

		if (r && on_decrypted(b, r, &ready[i], err) < 0) {
			rc = -1;
			break;
		}
	}
	mx_events_free(ready, n);
	return rc;
}

static void on_members(void *ctx, long status, const char *const *users,
		       size_t n)
{
	struct room_call *c = ctx;
	struct bot *b = c->b;
	struct room *r;
	struct err err;

	if (status == MX_CANCELLED)
		goto out;
	r = room_find(b, c->room);
	if (!r)
		goto out;
	r->members_asked = 0;
	if (status == 200) {
		/* from now on kept from sync */
		json_decref(r->members);
		r->members = json_object();
		for (size_t i = 0; i < n; i++)
			json_object_set_new(r->members, users[i],
					    json_true());
	}
	/* the last human left: close the rehearsal and leave */
	if (r->members && humans(b, r->members) == 0 &&
	    store_begin(b->st, &err) == 0) {
		if (leave_empty(b, r, &err) < 0 ||
		    store_commit(b->st, &err) < 0) {
			store_rollback(b->st);
			log_line("%s", err.msg);
			room_reload(b);
		}
	}
out:
	room_call_free(c);
}

/* Timeline events [from, to) of room r, in order. */
static int timeline_process(struct bot *b, struct room *r,
			    const struct mx_room *mr, size_t from, size_t to,
			    struct err *err)
{
	if (to > mr->ntimeline)
		to = mr->ntimeline;
	for (size_t i = from; i < to; i++) {
		const struct mx_event *ev = &mr->timeline[i];

		if (b->e2ee && e2ee_room_event(b->e2ee, ev, err) < 0)
			return -1;
		if (on_event(b, r, ev, err) < 0)
			return -1;
	}
	return 0;
}

int event_joined(struct bot *b, const struct mx_room *mr,
		 struct err *err)
{
	struct room *r = room_find(b, mr->id);

	if (!r) {
		r = room_add(b, mr->id, NULL);
		if (room_save(b, r, err) < 0)
			return -1;
	}
	/* a filled gap comes first: "state" is the state after it */
	if (timeline_process(b, r, mr, 0, mr->gap, err) < 0)
		return -1;
	if (mr->limited)
		room_members_forget(r);   /* changes may be in the gap */
	for (size_t i = 0; i < mr->nstate; i++) {
		if (b->e2ee && e2ee_room_event(b->e2ee, &mr->state[i],
					       err) < 0)
			return -1;
		if (on_state(b, r, &mr->state[i], err) < 0)
			return -1;
	}
	return timeline_process(b, r, mr, mr->gap, mr->ntimeline, err);
}
