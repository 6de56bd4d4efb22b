/* coach.c - see coach.h. */
#include "coach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx.h"
#include "outbox.h"
#include "rehearsal.h"
#include "roles.h"
#include "room.h"
#include "session.h"
#include "store.h"

#define REPLAY_MAX_LINES 600

static void on_coach_room(void *ctx, long status, const char *cr);

int coach_pause(struct bot *b, struct room *r, const char *event_id,
		struct err *err)
{
	int rc = rehearsal_pause(b, r, 1, err);

	room_due_clear(b, r);
	if (rc == 0)
		rc = outbox_notice(b, r->id, event_id, "pause", "De oefening "
				   "staat even stil: de coach heeft pauze "
				   "gegeven. Berichten worden bewaard, de "
				   "persona antwoordt pas na !verder.", err);
	return rc;
}

int coach_resume(struct bot *b, struct room *r, const char *event_id,
		 struct err *err)
{
	int rc = rehearsal_pause(b, r, 0, err);

	if (rc == 0 && session_pending(r->ss, err) > 0)
		room_due_set(b, r, mono_ms());
	if (rc == 0)
		rc = outbox_notice(b, r->id, event_id, "resume", "We gaan "
				   "verder.", err);
	return rc;
}

int coach_tip(struct bot *b, struct room *r, const char *sender,
	      const char *arg, const char *event_id, struct err *err)
{
	struct sbuf sb;
	int rc;

	if (!*arg)
		return outbox_notice(b, r->id, event_id, "tip", "Gebruik: "
				     "!tip <tekst>", err);
	sbuf_init(&sb);
	sbuf_addf(&sb, "Tip van de coach: %s", arg);
	rc = outbox_notice(b, r->id, event_id, "tip", sb.buf, err);
	if (rc == 0)
		rc = session_log(r->ss, STORE_COACH, sender, sb.buf, NULL,
				 err) < 0 ? -1 : 0;
	sbuf_release(&sb);
	return rc;
}

/* The coach speaks as the persona; the engine goes on from where it
 * was. */
int coach_say(struct bot *b, struct room *r, const char *sender,
	      const char *arg, const char *event_id, struct err *err)
{
	char txn[96], turn[48];
	int seq = 0, rc;

	if (!*arg)
		return outbox_notice(b, r->id, event_id, "zeg", "Gebruik: "
				     "!zeg <wat de persona zegt>", err);
	outbox_txn(txn, sizeof(txn), event_id, "z", 0);
	rc = session_log_seq(r->ss, STORE_PERSONA, sender, arg, NULL, &seq,
			     err) < 0 ? -1 : 0;
	xsnprintf(turn, sizeof(turn), "%lld:%d", (long long)session_id(r->ss),
		  seq);
	if (rc == 0)
		rc = outbox_say_turn(b, r->id, "m.text", arg, txn,
				     outbox_typing_ms(b->cfg, arg), turn, err);
	return rc;
}

int coach_side_room(struct bot *b, struct room *r, const char *sender,
		    const char *event_id, struct err *err)
{
	const char **inv;
	size_t ninv = 0, npower = r->power ? r->power->n : 0;
	struct sbuf sb;

	if (r->coach_room)
		return outbox_notice(b, r->id, event_id, "coachroom", "Er is "
				     "al een coachkamer voor deze oefening.",
				     err);
	inv = xcalloc(b->cfg->ncoaches + b->cfg->ntrainers +
		      npower + 1, sizeof(*inv));
	/* the coaches and trainers of this room */
	for (size_t i = 0; i < b->cfg->ncoaches; i++)
		inv[ninv++] = b->cfg->coaches[i];
	for (size_t i = 0; i < b->cfg->ntrainers; i++)
		inv[ninv++] = b->cfg->trainers[i];
	for (size_t i = 0; i < npower; i++)
		if (room_roles(b, r, r->power->v[i].user) & ROLE_COACH)
			inv[ninv++] = r->power->v[i].user;
	inv[ninv++] = sender;
	sbuf_init(&sb);
	sbuf_addf(&sb, "Coachkamer — %s", session_script(r->ss)->title);
	mx_create_room(b->mx, sb.buf, inv, ninv, on_coach_room,
		       room_call_new(b, r->id));
	sbuf_release(&sb);
	free(inv);
	return 0;
}

int coach_replay_mine(struct bot *b, struct room *r, const char *sender)
{
	char *who = room_meta_get(b, "replay", r->id);
	int mine = who && !strcmp(who, sender);

	free(who);
	return mine;
}

int coach_replay_stop(struct bot *b, struct room *r, const char *event_id,
		      struct err *err)
{
	if (outbox_replay_drop(b, r->id, err) < 0 ||
	    room_meta_set(b, "replay", r->id, NULL, err) < 0)
		return -1;
	return outbox_notice(b, r->id, event_id, "replay-stop", r->ss ?
			     "Het terugkijken is gestopt. De oefening hier "
			     "loopt nog: typ nog een keer !stop om die te "
			     "stoppen." : "Het terugkijken is gestopt.", err);
}

/* The roles of user in a stored session: its trainee, a coach who
 * spoke in it (tips, puppeted lines), a trainer here. */
static unsigned session_roles(struct bot *b, struct room *r,
			      const struct store_session *rec,
			      const struct store_turn *t, size_t nt,
			      const char *user)
{
	unsigned have = room_roles(b, r, user) & ROLE_TRAINER;

	if (rec->trainee && !strcmp(rec->trainee, user))
		have |= ROLE_TRAINEE;
	for (size_t i = 0; i < nt && !(have & ROLE_COACH); i++)
		if (t[i].author && !strcmp(t[i].author, user) &&
		    (!strcmp(t[i].speaker, STORE_COACH) ||
		     !strcmp(t[i].speaker, STORE_PERSONA)))
			have |= ROLE_COACH;
	return have;
}

/* !terugkijken: replay a stored session into this room for a group
 * debrief: the turns in order, the meters after each trainee turn, each
 * annotation after its turn. The pace is the outbox's typing delay, so
 * the replay survives a restart and never posts a line twice. */
int coach_replay(struct bot *b, struct room *r, const char *sender,
		 const char *arg, const char *event_id, unsigned who,
		 struct err *err)
{
	struct store_session rec;
	struct store_turn *t = NULL;
	struct store_annotation *an = NULL;
	size_t nt = 0, na = 0, k = 0;
	long id = 0;
	double speed = 1.0;
	char *end;
	int rc = 0, found;
	struct sbuf sb;

	memset(&rec, 0, sizeof(rec));
	sbuf_init(&sb);
	id = strtol(arg, &end, 10);
	if (end == arg || id <= 0) {
		rc = outbox_notice(b, r->id, event_id, "replay", "Gebruik: "
				   "!terugkijken <sessienummer> [snelheid], "
				   "bijvoorbeeld !terugkijken 12 2", err);
		goto out;
	}
	while (*end == ' ')
		end++;
	if (*end) {
		speed = strtod(end, NULL);
		if (!(speed >= 0.1 && speed <= 100))
			speed = 1.0;
	}
	/* one at a time: a second would queue behind the first for as
	 * long as that one takes */
	rc = outbox_replay_count(b, r->id, err);
	if (rc != 0) {
		if (rc > 0)
			rc = outbox_notice(b, r->id, event_id, "replay-busy",
					   "Er loopt hier al een terugblik. "
					   "Wacht tot die klaar is, of stop "
					   "hem met !stop.", err);
		goto out;
	}
	found = store_session_get(b->st, id, &rec, err) == 0 &&
		store_turns_get(b->st, id, &t, &nt, err) == 0 &&
		store_annotations_get(b->st, id, &an, &na, err) == 0;
	/* One answer for "no such session" and "not yours": session ids
	 * cannot be probed. */
	if (!found || !roles_allow(who, session_roles(b, r, &rec, t, nt,
						      sender))) {
		sbuf_addf(&sb, "Sessie %ld kan ik je niet laten terugkijken: "
			  "die bestaat niet, of je hebt er geen toegang toe "
			  "(alleen de trainee, een coach die meedeed of een "
			  "trainer).", id);
		rc = outbox_notice(b, r->id, event_id, "replay", sb.buf, err);
		goto out;
	}
	sbuf_addf(&sb, "Terugkijken: sessie %ld, %s (%zu regels, snelheid "
		  "%.1f×)", id, rec.title ? rec.title : rec.scenario, nt,
		  speed);
	rc = outbox_notice(b, r->id, event_id, "replay-start", sb.buf, err);
	if (rc == 0)
		rc = room_meta_set(b, "replay", r->id, sender, err);
	for (size_t i = 0; i < nt && rc == 0 && k < REPLAY_MAX_LINES; i++) {
		const struct store_turn *x = &t[i];
		char txn[96];
		int delay;

		sbuf_reset(&sb);
		sbuf_addf(&sb, "%s: %s", !strcmp(x->speaker, STORE_TRAINEE) ?
			  "Trainee" : !strcmp(x->speaker, STORE_PERSONA) ?
			  (x->author ? "Coach als persona" : rec.persona) :
			  !strcmp(x->speaker, STORE_COACH) ? "Coach" :
			  !strcmp(x->speaker, STORE_NOTICE) ? "Oefenkamer" :
			  "Anderen", x->text);
		if (!strcmp(x->speaker, STORE_TRAINEE) && x->vars_json)
			sbuf_addf(&sb, "\n   [%s · fase %s]", x->vars_json,
				  x->node ? x->node : "-");
		for (size_t a = 0; a < na; a++)
			if (an[a].turn_seq == x->seq)
				sbuf_addf(&sb, "\n   ✎ %s (%s): %s",
					  an[a].author ? an[a].author : "?",
					  an[a].kind, an[a].text);
		delay = (int)((double)strlen(x->text) * 1000.0 /
			      b->cfg->chars_per_second / speed);
		if (delay > 8000)
			delay = 8000;
		outbox_replay_txn(txn, sizeof(txn), event_id, (int)k++);
		rc = outbox_say(b, r->id, "m.notice", sb.buf, txn, delay, err);
	}
	if (rc == 0) {
		char txn[96];

		outbox_replay_txn(txn, sizeof(txn), event_id, -1);
		sbuf_reset(&sb);
		sbuf_addf(&sb, "Einde van de terugblik op sessie %ld (%s).", id,
			  rec.ending ? rec.ending : "niet afgerond");
		rc = outbox_say(b, r->id, "m.notice", sb.buf, txn, 500, err);
	}
out:
	sbuf_release(&sb);
	store_session_release(&rec);
	store_turns_free(t, nt);
	store_annotations_free(an, na);
	return rc;
}

/* A coach's reaction or thread reply on a turn becomes an annotation. */
int coach_annotate(struct bot *b, struct room *r, const char *sender,
		   const char *target, const char *kind, const char *text,
		   struct err *err)
{
	struct store_annotation a;
	struct store_session rec;
	struct room *home;
	int64_t sid;
	int seq, rc;

	rc = store_turn_by_event(b->st, target, &sid, &seq, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = store_session_get(b->st, sid, &rec, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	/* Only on a turn of this room's session (or, from a coach room, of
	 * its practice room's), by a coach or trainer of that room: a
	 * relation may point at any event id, in any room. */
	home = rec.room && (!strcmp(rec.room, r->id) ||
			    (r->practice && !strcmp(rec.room, r->practice))) ?
	       room_find(b, rec.room) : NULL;
	if (!home || !(room_roles(b, home, sender) &
		       (ROLE_COACH | ROLE_TRAINER))) {
		if (!home)
			log_line("aantekening van %s in %s op een beurt uit "
				 "een andere kamer genegeerd", sender, r->id);
		store_session_release(&rec);
		return 0;
	}
	store_session_release(&rec);
	memset(&a, 0, sizeof(a));
	a.session_id = sid;
	a.turn_seq = seq;
	a.author = (char *)sender;
	a.kind = (char *)kind;
	a.text = (char *)text;
	return store_annotation_add(b->st, &a, err);
}

static void on_coach_room(void *ctx, long status, const char *cr)
{
	struct room_call *c = ctx;
	struct bot *b = c->b;
	struct room *p;
	struct err err;

	if (status == MX_CANCELLED)
		goto out;
	p = room_find(b, c->room);
	if (status != 200 || !cr || !p) {
		log_line("coachkamer maken mislukt (HTTP %ld)", status);
	} else if (store_begin(b->st, &err) == 0) {
		struct room *x = room_add(b, cr, NULL);

		x->practice = xstrdup(p->id);
		p->coach_room = xstrdup(cr);
		if (room_save(b, x, &err) < 0 ||
		    room_meta_set(b, "coachroom", p->id, cr, &err) < 0 ||
		    room_meta_set(b, "practice", cr, p->id, &err) < 0 ||
		    outbox_notice(b, cr, cr, "intro", "Dit is de coachkamer. "
				  "Hier zie je de oefening live, met na elke "
				  "beurt de meters en de regels die vuurden. "
				  "Opdrachten als !pauze, !tip en !zeg die je "
				  "hier typt, werken in de oefenkamer.", &err)
		    < 0 || store_commit(b->st, &err) < 0) {
			store_rollback(b->st);
			log_line("%s", err.msg);
			room_reload(b);
		}
		outbox_flush(b);
	}
out:
	room_call_free(c);
}
