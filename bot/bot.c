/* bot.c - see bot.h. */
#include "bot.h"
#include "e2ee.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "model.h"
#include "mx.h"
#include "roles.h"
#include "session.h"
#include "store.h"

#define MAX_BODY (64 * 1024)       /* longest message matched/answered */
#define STOP_GRACE_MS 15000        /* at shutdown: time to flush sends */
#define SYNC_TIMEOUT_MS 30000
#define SENT_DELETE_MS 1000        /* sent rows not taken by a batch */

struct room {
	char *id;
	char *inviter;
	struct session *ss;        /* running rehearsal, or NULL */
	char *trainee;             /* user id who started it */
	int64_t answer_at;         /* monotonic ms; 0 = nothing waiting */
	int told_encrypted;        /* said once that we cannot read it */
	int paused;                /* a coach paused the persona */
	char *creator;             /* who made the room (m.room.create) */
	json_t *power_users;       /* m.room.power_levels users, or NULL */
	int64_t last_session;      /* for !nabespreking after the end */
	char *coach_room;          /* its coaches' side room, or NULL */
	char *practice;            /* for a side room: its practice room */
};

/* Requests whose answer we wait for. */
enum call_kind { CALL_JOIN, CALL_MEMBERS, CALL_WHOAMI, CALL_CREATE,
		 CALL_OTHER };

struct call {
	uint64_t cookie;
	enum call_kind kind;
	char *room;
};

struct bot {
	const struct config *cfg;
	struct catalog cat;
	struct store *st;
	struct mx *mx;
	struct match m;
	struct engine_out out;
	struct room *rooms;
	size_t nrooms, rooms_cap;
	struct call *calls;
	size_t ncalls, calls_cap;
	uint64_t next_cookie;
	int64_t outbox_after;      /* highest outbox id handed to mx */
	int outbox_dirty;          /* rows added since the last flush */
	int ready;                 /* logged in, syncing */
	int fatal;
	int initial;               /* first sync ever: history, not answered */
	/* after a committed batch */
	char **joins;
	size_t njoins, joins_cap;
	char **receipts;           /* room, event pairs */
	size_t nreceipts, receipts_cap;
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
};

/* A display-name change waiting for the outbox rows before it. */
struct name_change {
	char *room;
	char *name;
	int64_t after;             /* goes out after outbox row <= this */
};

static unsigned roles_in(struct bot *b, struct room *r, const char *user);

/* --- rooms --- */

static struct room *room_find(struct bot *b, const char *id)
{
	for (size_t i = 0; i < b->nrooms; i++)
		if (strcmp(b->rooms[i].id, id) == 0)
			return &b->rooms[i];
	return NULL;
}

static struct room *room_add(struct bot *b, const char *id,
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

static void room_clear_session(struct room *r)
{
	session_free(r->ss);
	r->ss = NULL;
	free(r->trainee);
	r->trainee = NULL;
	r->answer_at = 0;
}

static void room_release(struct room *r)
{
	room_clear_session(r);
	free(r->id);
	free(r->inviter);
	free(r->creator);
	json_decref(r->power_users);
	free(r->coach_room);
	free(r->practice);
}

static void room_remove(struct bot *b, const char *id)
{
	for (size_t i = 0; i < b->nrooms; i++) {
		if (strcmp(b->rooms[i].id, id) != 0)
			continue;
		room_release(&b->rooms[i]);
		b->rooms[i] = b->rooms[--b->nrooms];
		return;
	}
}

static int room_save(struct bot *b, const struct room *r, struct err *err)
{
	struct store_room sr;

	memset(&sr, 0, sizeof(sr));
	sr.room = r->id;
	sr.inviter = r->inviter;
	sr.joined_ms = now_ms();
	sr.session_id = r->ss ? session_id(r->ss) : 0;
	return store_room_set(b->st, &sr, err);
}

/* --- calls --- */

static uint64_t call_new(struct bot *b, enum call_kind kind,
			 const char *room)
{
	struct call *c;

	XGROW(b->calls, b->calls_cap, b->ncalls + 1);
	c = &b->calls[b->ncalls++];
	c->cookie = ++b->next_cookie;
	c->kind = kind;
	c->room = room ? xstrdup(room) : NULL;
	return c->cookie;
}

/* --- the outbox: everything the bot says goes through it --- */

static uint64_t fnv(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* The transaction id of the k-th message caused by event (or by a name
 * when there is no event). The same cause gives the same ids. */
static void txn_for(char *buf, size_t n, const char *cause, const char *what,
		    int k)
{
	snprintf(buf, n, "oef-%016llx-%s%d", (unsigned long long)fnv(cause),
		 what, k);
}

static void html_escape(struct sbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			sbuf_adds(sb, "&amp;");
			break;
		case '<':
			sbuf_adds(sb, "&lt;");
			break;
		case '>':
			sbuf_adds(sb, "&gt;");
			break;
		case '"':
			sbuf_adds(sb, "&quot;");
			break;
		case '\'':
			sbuf_adds(sb, "&#39;");
			break;
		case '\n':
			sbuf_adds(sb, "<br>");
			break;
		default:
			sbuf_addc(sb, *s);
		}
	}
}

static int typing_ms(const struct config *cfg, const char *text)
{
	long ms;

	if (!cfg->typing_enabled)
		return 0;
	ms = (long)strlen(text) * 1000 / cfg->chars_per_second;
	if (ms < cfg->typing_min_ms)
		ms = cfg->typing_min_ms;
	if (ms > cfg->typing_max_ms)
		ms = cfg->typing_max_ms;
	return (int)ms;
}

/* Queue a message in the outbox (part of the current transaction). */
/* The content field that ties a persona line to its stored turn, so
 * that a coach's reaction or thread reply on it can be found again. */
#define TURN_FIELD "nl.oefenkamer.turn"

static int say_turn(struct bot *b, const char *room, const char *msgtype,
		    const char *text, const char *txn, int typing,
		    const char *turn, struct err *err)
{
	struct store_outbox o;
	struct sbuf html;
	json_t *c;
	char *content;
	int rc;

	sbuf_init(&html);
	html_escape(&html, text);
	c = json_pack("{s:s, s:s, s:s, s:s}", "msgtype", msgtype,
		      "body", text, "format", "org.matrix.custom.html",
		      "formatted_body", sbuf_str(&html));
	if (c && turn)
		json_object_set_new(c, TURN_FIELD, json_string(turn));
	content = c ? json_dumps(c, JSON_COMPACT) : NULL;
	json_decref(c);
	sbuf_release(&html);
	if (!content) {
		err_set(err, "bericht niet te coderen (geen geldige UTF-8?)");
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.room = (char *)room;
	o.txn = (char *)txn;
	o.type = "m.room.message";
	o.content = content;
	o.typing_ms = typing;
	rc = store_outbox_add(b->st, &o, err);
	free(content);
	b->outbox_dirty = 1;
	if (rc == 0 && o.id)
		b->outbox_last = o.id;
	return rc;
}

static int say(struct bot *b, const char *room, const char *msgtype,
	       const char *text, const char *txn, int typing,
	       struct err *err)
{
	return say_turn(b, room, msgtype, text, txn, typing, NULL, err);
}

static int notice(struct bot *b, const char *room, const char *cause,
		  const char *what, const char *text, struct err *err)
{
	char txn[96];

	txn_for(txn, sizeof(txn), cause, what, 0);
	return say(b, room, "m.notice", text, txn, 0, err);
}

/* Change the bot's display name in a room once the outbox rows queued
 * so far have gone out: it travels in the room's ordered send queue, so
 * the last persona line cannot appear under the next name. Part of the
 * current transaction: names_truncate() drops it when that rolls back. */
static void name_change(struct bot *b, const char *room, const char *name)
{
	struct name_change *c;

	XGROW(b->names, b->names_cap, b->nnames + 1);
	c = &b->names[b->nnames++];
	c->room = xstrdup(room);
	c->name = xstrdup(name);
	c->after = b->outbox_last;
}

/* Queue the name changes that come before outbox row upto (or all). */
static void flush_names(struct bot *b, int64_t upto)
{
	size_t k = 0;

	while (k < b->nnames && b->names[k].after < upto) {
		mx_set_displayname(b->mx, b->names[k].room, b->names[k].name,
				   call_new(b, CALL_OTHER, b->names[k].room));
		free(b->names[k].room);
		free(b->names[k].name);
		k++;
	}
	if (!k)
		return;   /* names may be NULL: no pointer arithmetic on it */
	memmove(b->names, b->names + k, (b->nnames - k) * sizeof(*b->names));
	b->nnames -= k;
}

/* Forget the name changes after the first n. */
static void names_truncate(struct bot *b, size_t n)
{
	for (size_t i = n; i < b->nnames; i++) {
		free(b->names[i].room);
		free(b->names[i].name);
	}
	b->nnames = n;
}

/* Hand outbox rows added since last time to the Matrix client. */
static void flush_outbox(struct bot *b)
{
	struct store_outbox *v;
	size_t n;
	struct err err;

	if (!b->outbox_dirty)
		return;
	b->outbox_dirty = 0;
	if (store_outbox_list(b->st, b->outbox_after, &v, &n, &err) < 0) {
		log_line("%s", err.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_error_t je;
		json_t *c = json_loads(v[i].content, 0, &je);

		flush_names(b, v[i].id);
		if (c) {
			mx_send(b->mx, v[i].room, v[i].type, v[i].txn, c,
				v[i].typing_ms, (uint64_t)v[i].id);
			json_decref(c);
		}
		b->outbox_after = v[i].id;
	}
	store_outbox_free(v, n);
	flush_names(b, INT64_MAX);
}

/* --- texts --- */

static const char help_text[] =
	"Ik ben Oefenkamer: hier oefen je een gesprek over de veiligheid "
	"van een kind met een gespeelde ouder of jongere.\n"
	"!oefeningen — welke oefeningen er zijn\n"
	"!start <nummer> — begin een oefening (jij bent de professional)\n"
	"!stop — stop en krijg een korte nabespreking\n"
	"!opnieuw — begin dezelfde oefening opnieuw\n"
	"!stand — hoe staan vertrouwen en spanning ervoor\n"
	"!nabespreking — de nabespreking (opnieuw)\n"
	"!rollen — wie is hier trainee, coach of trainer\n"
	"!terugkijken <sessie> [snelheid] — een oefening terugkijken\n"
	"Voor coaches en trainers: !pauze en !verder, !tip <tekst> (een "
	"hint voor de trainee), !zeg <tekst> (de persona zegt dit), !einde, "
	"!coachkamer (een kamer waar je live meekijkt). "
	"Een reactie of een reactie in een thread op een bericht wordt een "
	"aantekening bij die beurt.\n"
	"!hulp — dit overzicht\n"
	"Tijdens de oefening praat je gewoon tegen de persona. Anderen in de "
	"kamer mogen meelezen; alleen jouw berichten krijgen antwoord.";

static void scenarios_text(struct bot *b, struct sbuf *sb)
{
	sbuf_adds(sb, "Deze oefeningen zijn er (start met !start <nummer>):");
	for (size_t i = 0; i < b->cat.nscripts; i++) {
		const struct script *s = b->cat.scripts[i];

		sbuf_addf(sb, "\n%zu. %s — %s (%s)", i + 1, s->title,
			  catalog_persona_name(&b->cat, s),
			  s->difficulty == 1 ? "instap" :
			  s->difficulty == 2 ? "gemiddeld" : "pittig");
	}
}

static void meter(struct sbuf *sb, int v)
{
	for (int i = 0; i < 10; i++)
		sbuf_adds(sb, i < v ? "█" : "░");
	sbuf_addf(sb, " %d/10", v);
}

static void stand_text(struct session *ss, struct sbuf *sb)
{
	const struct engine *e = session_engine(ss);
	const struct script *s = session_script(ss);
	int vi = script_find_var(s, "vertrouwen");
	int si = script_find_var(s, "spanning");

	sbuf_adds(sb, "Vertrouwen ");
	meter(sb, engine_var(e, (size_t)vi));
	sbuf_adds(sb, " · spanning ");
	meter(sb, engine_var(e, (size_t)si));
	sbuf_addf(sb, " · beurt %d", engine_beurt(e));
}

/* A sparkline of a variable over the trainee's turns. */
static void spark(struct sbuf *sb, const char *name, const int *v, size_t n)
{
	static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆",
					    "▇", "█" };

	sbuf_addf(sb, "\n%-10s ", name);
	for (size_t i = 0; i < n; i++)
		sbuf_adds(sb, bars[(v[i] < 0 ? 0 : v[i] > 10 ? 10 : v[i]) * 7
				   / 10]);
	if (n)
		sbuf_addf(sb, "  (%d → %d)", v[0], v[n - 1]);
}

static void quote(struct sbuf *sb, const char *text)
{
	size_t n = strlen(text);

	if (n > 90) {
		n = 90;
		while (n && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	sbuf_adds(sb, "“");
	sbuf_add(sb, text, n);
	sbuf_adds(sb, n < strlen(text) ? "…”" : "”");
}

/* The debrief posted at the end (and again with !nabespreking): the
 * ending, the meters over the turns, each rubric point's moments quoting
 * the trainee, and the coaches' annotations. From the store, so it is the
 * same after a restart. */
static void debrief_text(struct bot *b, int64_t sid, const struct script *s,
			 struct sbuf *sb)
{
	struct store_session rec;
	struct store_turn *t = NULL;
	struct store_rubric *rv = NULL;
	struct store_annotation *an = NULL;
	size_t nt = 0, nr = 0, na = 0, nv = 0;
	int *tr = NULL, *sp = NULL;
	struct err err;
	int n = -1;

	memset(&rec, 0, sizeof(rec));
	if (store_session_get(b->st, sid, &rec, &err) != 0 ||
	    store_turns_get(b->st, sid, &t, &nt, &err) < 0 ||
	    store_rubric_get(b->st, sid, &rv, &nr, &err) < 0 ||
	    store_annotations_get(b->st, sid, &an, &na, &err) < 0) {
		sbuf_adds(sb, "De nabespreking is nu niet te maken.");
		goto out;
	}
	if (rec.ending)
		n = script_find_node(s, rec.ending);
	sbuf_addf(sb, "%s: %s — %s.", rec.ended_ms ?
		  "Einde van de oefening" : "Nabespreking", s->title,
		  !rec.ended_ms ? "de oefening loopt nog" :
		  n < 0 ? "gestopt voor het einde" :
		  s->nodes[n].ending == END_GOED ?
		  "het gesprek is goed afgerond" :
		  s->nodes[n].ending == END_BREUK ?
		  "het gesprek is vastgelopen" :
		  "het gesprek eindigde neutraal");
	if (n >= 0 && s->nodes[n].explain)
		sbuf_addf(sb, "\n%s", s->nodes[n].explain);
	tr = xcalloc(nt + 1, sizeof(int));
	sp = xcalloc(nt + 1, sizeof(int));
	for (size_t i = 0; i < nt; i++) {
		json_error_t je;
		json_t *v;

		if (strcmp(t[i].speaker, STORE_TRAINEE) || !t[i].vars_json)
			continue;
		v = json_loads(t[i].vars_json, 0, &je);
		tr[nv] = (int)json_integer_value(json_object_get(v,
							"vertrouwen"));
		sp[nv] = (int)json_integer_value(json_object_get(v,
							"spanning"));
		nv++;
		json_decref(v);
	}
	sbuf_addf(sb, "\nVerloop over %zu beurten:", nv);
	spark(sb, "vertrouwen", tr, nv);
	spark(sb, "spanning", sp, nv);
	if (nr)
		sbuf_adds(sb, "\nRubriek:");
	for (size_t p = 0; p < s->npoints; p++) {
		int any = 0;

		for (size_t i = 0; i < nr; i++) {
			if (strcmp(rv[i].point, s->points[p].id))
				continue;
			if (!any)
				sbuf_addf(sb, "\n%s:", s->points[p].label);
			any = 1;
			sbuf_addf(sb, "\n  %s beurt ", rv[i].shown ?
				  "✔ getoond bij" : "✘ gemist bij");
			for (size_t k = 0; k < nt; k++) {
				if (t[k].seq != rv[i].turn_seq)
					continue;
				sbuf_addf(sb, "%d: ", t[k].beurt);
				quote(sb, t[k].text);
			}
			if (rv[i].reason)
				sbuf_addf(sb, " (%s)", rv[i].reason);
		}
	}
	if (!nr)
		sbuf_adds(sb, "\nGeen rubriekmomenten.");
	if (na)
		sbuf_adds(sb, "\nAantekeningen van de coaches:");
	for (size_t i = 0; i < na; i++) {
		int beurt = 0;

		for (size_t k = 0; k < nt; k++)
			if (t[k].seq == an[i].turn_seq)
				beurt = t[k].beurt;
		sbuf_addf(sb, "\n  beurt %d, %s (%s): %s", beurt,
			  an[i].author ? an[i].author : "?", an[i].kind,
			  an[i].text);
	}
	sbuf_addf(sb, "\nSessie %lld. Een trainer maakt de volledige "
		  "nabespreking met: oefenkamer export %lld --format html",
		  (long long)sid, (long long)sid);
out:
	free(tr);
	free(sp);
	store_session_release(&rec);
	store_turns_free(t, nt);
	store_rubric_free(rv, nr);
	store_annotations_free(an, na);
}

/* --- sessions in rooms --- */

static const char *display_name(struct bot *b, const struct script *s)
{
	const struct persona *p = catalog_persona(&b->cat, s);

	return p ? p->display_name : s->persona;
}

/* Persona lines as m.text (with typing), in order. */
static int say_answer(struct bot *b, struct room *r, const char *cause,
		      const struct engine_out *o, struct err *err)
{
	size_t nsaid;
	const int *said = session_said(r->ss, &nsaid);

	for (size_t i = 0; i < o->nmsgs; i++) {
		char txn[96], turn[48];

		txn_for(txn, sizeof(txn), cause, "p", (int)i);
		snprintf(turn, sizeof(turn), "%lld:%d",
			 (long long)session_id(r->ss),
			 i < nsaid ? said[i] : 0);
		if (say_turn(b, r->id, "m.text", o->msgs[i].buf, txn,
			     typing_ms(b->cfg, o->msgs[i].buf),
			     i < nsaid ? turn : NULL, err) < 0)
			return -1;
	}
	return 0;
}

/* Per-room facts kept in meta under "<what>:<room>". */
static int room_meta_set(struct bot *b, const char *what, const char *room,
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

static char *room_meta_get(struct bot *b, const char *what, const char *room)
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

static int set_pause(struct bot *b, struct room *r, int on, struct err *err)
{
	r->paused = on;
	return room_meta_set(b, "pause", r->id, on ? "1" : NULL, err);
}

/* What happens in a practice room, shown in its coaches' side room. */
static int mirror(struct bot *b, struct room *r, const char *cause,
		  const char *what, int k, const char *text, struct err *err)
{
	char txn[96], w[32];

	if (!r->coach_room)
		return 0;
	snprintf(w, sizeof(w), "%s%d-", what, k);
	txn_for(txn, sizeof(txn), cause, w, 0);
	return say(b, r->coach_room, "m.notice", text, txn, 0, err);
}

static int end_session(struct bot *b, struct room *r, const char *cause,
		       struct err *err)
{
	struct sbuf sb;
	int rc;

	if (!r->ss)
		return 0;
	if (!session_ended(r->ss) && session_stop(r->ss, err) < 0)
		return -1;
	sbuf_init(&sb);
	stand_text(r->ss, &sb);
	rc = session_notice(r->ss, sb.buf, err);
	sbuf_reset(&sb);
	if (rc == 0) {
		debrief_text(b, session_id(r->ss), session_script(r->ss), &sb);
		rc = notice(b, r->id, cause, "end", sb.buf, err);
	}
	sbuf_release(&sb);
	if (rc < 0)
		return -1;
	r->last_session = session_id(r->ss);
	if (set_pause(b, r, 0, err) < 0)
		return -1;
	name_change(b, r->id, b->cfg->device_name);
	room_clear_session(r);
	return room_save(b, r, err);
}

static int start_session(struct bot *b, struct room *r, const char *sender,
			 const struct script *s, const char *cause,
			 struct err *err)
{
	struct session *ss;
	struct sbuf sb;
	int rc;

	if (session_begin(b->st, s, fnv(cause) & 0x7fffffff, sender, r->id,
			  &ss, &b->out, err) < 0)
		return -1;
	r->ss = ss;
	r->trainee = xstrdup(sender);
	/* the persona's name before its first words */
	name_change(b, r->id, display_name(b, s));
	sbuf_init(&sb);
	sbuf_addf(&sb, "Oefening: %s\n%s\n(Je praat nu met %s. !stop om te "
		  "stoppen, !hulp voor hulp.)", s->title, s->intro,
		  display_name(b, s));
	rc = notice(b, r->id, cause, "intro", sb.buf, err);
	sbuf_release(&sb);
	if (rc < 0 || say_answer(b, r, cause, &b->out, err) < 0)
		return -1;
	return room_save(b, r, err);
}

/* !opnieuw after a rehearsal ended: the room's last scenario again. */
static int restart_ended(struct bot *b, struct room *r, const char *sender,
			 const char *event_id, struct err *err)
{
	struct store_session *v = NULL, rec;
	size_t n = 0;
	int64_t sid = r->last_session;
	const struct script *s = NULL;
	int rc;

	memset(&rec, 0, sizeof(rec));
	if (!sid) {   /* after a restart: the newest session of this room */
		if (store_sessions_list(b->st, &v, &n, err) < 0)
			return -1;
		for (size_t i = 0; i < n && !sid; i++)
			if (v[i].room && !strcmp(v[i].room, r->id))
				sid = v[i].id;
		store_sessions_free(v, n);
	}
	if (sid && store_session_get(b->st, sid, &rec, err) == 0)
		s = catalog_find(&b->cat, rec.scenario);
	if (!s) {
		store_session_release(&rec);
		return notice(b, r->id, event_id, "none", "Er is geen "
			      "oefening om opnieuw te beginnen. Kies er een "
			      "met !oefeningen.", err);
	}
	/* a coach restarting keeps the trainee the trainee */
	rc = start_session(b, r, rec.trainee && (roles_in(b, r, sender) &
						 (ROLE_COACH | ROLE_TRAINER)) ?
			   rec.trainee : sender, s, event_id, err);
	store_session_release(&rec);
	return rc;
}

static int restart_session(struct bot *b, struct room *r, const char *sender,
			   const char *event_id, struct err *err)
{
	const struct script *s = session_script(r->ss);
	/* the trainee stays the trainee when a coach restarts */
	char *trainee = xstrdup(r->trainee && !(roles_in(b, r, sender) &
						ROLE_TRAINEE) ?
				r->trainee : sender);
	int rc = end_session(b, r, event_id, err);

	if (rc == 0)
		rc = start_session(b, r, trainee, s, event_id, err);
	free(trainee);
	return rc;
}

/* Answer what the trainee said (all waiting messages at once). The
 * transaction ids come from the session and the turn number, which a
 * replay after a crash reproduces exactly, and which no other answer
 * shares: a homeserver drops a second event with a used txn id. */
static int answer(struct bot *b, struct room *r, struct err *err)
{
	char cause[64];

	r->answer_at = 0;
	if (!r->ss)
		return 0;
	if (session_answer(r->ss, &b->m, &b->out, err) < 0)
		return -1;
	snprintf(cause, sizeof(cause), "s%lld-b%d",
		 (long long)session_id(r->ss),
		 engine_beurt(session_engine(r->ss)));
	if (say_answer(b, r, cause, &b->out, err) < 0)
		return -1;
	if (r->coach_room) {
		const struct script *s = session_script(r->ss);
		struct sbuf sb;
		int rc = 0;

		sbuf_init(&sb);
		for (size_t i = 0; i < b->out.nmsgs && rc == 0; i++) {
			sbuf_reset(&sb);
			sbuf_addf(&sb, "%s: %s", display_name(b, s),
				  b->out.msgs[i].buf);
			rc = mirror(b, r, cause, "p", (int)i, sb.buf, err);
		}
		sbuf_reset(&sb);
		stand_text(r->ss, &sb);
		sbuf_addf(&sb, " · fase %s", s->nodes[b->out.node].name);
		if (b->out.nrules)
			sbuf_adds(&sb, " · regels:");
		for (size_t i = 0; i < b->out.nrules; i++)
			sbuf_addf(&sb, " %s", s->rules[b->out.rules[i]].name);
		sbuf_adds(&sb, "\nbegrepen: ");
		model_explain(&b->m, &sb);
		for (size_t i = 0; i < b->out.npoints; i++)
			sbuf_addf(&sb, "\n%s %s", b->out.points[i].shown ?
				  "✔" : "✘", s->points[b->out.points[i].point]
				  .label);
		if (rc == 0)
			rc = mirror(b, r, cause, "m", 0, sb.buf, err);
		sbuf_release(&sb);
		if (rc < 0)
			return -1;
	}
	if (b->out.ended)
		return end_session(b, r, cause, err);
	return 0;
}

/* --- roles and coaching --- */

static unsigned roles_in(struct bot *b, struct room *r, const char *user)
{
	struct room_roles rr;

	rr.trainee = r->ss ? r->trainee : NULL;
	rr.creator = r->creator;
	rr.power_users = r->power_users;
	rr.bot = b->cfg->user_id;
	return roles_of(b->cfg, &rr, user);
}

/* May sender use cmd? If not, say why (and log it): 1 allowed. */
static int allowed(struct bot *b, struct room *r, const char *sender,
		   unsigned need, const char *cmd, const char *event_id,
		   struct err *err)
{
	unsigned have = roles_in(b, r, sender);
	struct sbuf sb, who;
	int rc;

	if (have & need)
		return 1;
	sbuf_init(&sb);
	sbuf_init(&who);
	roles_name(have, &who);
	sbuf_addf(&sb, "!%s is voor %s. Jij bent hier %s; !rollen laat zien "
		  "wie wat is.", cmd, need & ROLE_TRAINEE ?
		  "de trainee, een coach of een trainer" :
		  "een coach of een trainer", who.buf);
	rc = notice(b, r->id, event_id, "refused", sb.buf, err);
	if (rc == 0 && r->ss) {
		sbuf_reset(&who);
		sbuf_addf(&who, "geweigerd: !%s van %s", cmd, sender);
		rc = session_notice(r->ss, who.buf, err);
	}
	sbuf_release(&sb);
	sbuf_release(&who);
	return rc < 0 ? -1 : 0;
}

static void list_role(struct sbuf *sb, const char *label, char **v, size_t n,
		      json_t *pl, const struct room *r, const char *bot)
{
	const char *user;
	json_t *level;
	int any = 0;

	sbuf_addf(sb, "\n%s: ", label);
	for (size_t i = 0; i < n; i++) {
		sbuf_addf(sb, "%s%s", any ? ", " : "", v[i]);
		any = 1;
	}
	json_object_foreach(pl, user, level) {
		if (json_integer_value(level) < ROLES_COACH_LEVEL ||
		    (r->creator && !strcmp(user, r->creator)) ||
		    !strcmp(user, bot))
			continue;
		sbuf_addf(sb, "%s%s (machtsniveau %lld)", any ? ", " : "",
			  user, (long long)json_integer_value(level));
		any = 1;
	}
	if (!any)
		sbuf_adds(sb, "niemand");
}

static int coach_command(struct bot *b, struct room *r, const char *cmd,
			 const char *arg, const char *sender,
			 const char *event_id, struct err *err)
{
	struct sbuf sb;
	int rc = 0;

	sbuf_init(&sb);
	if (!strcmp(cmd, "rollen")) {
		sbuf_addf(&sb, "Trainee: %s", r->ss && r->trainee ? r->trainee :
			  "niemand (er loopt geen oefening)");
		list_role(&sb, "Coaches", b->cfg->coaches, b->cfg->ncoaches,
			  r->power_users, r, b->cfg->user_id);
		list_role(&sb, "Trainers", b->cfg->trainers,
			  b->cfg->ntrainers, NULL, r, b->cfg->user_id);
		rc = notice(b, r->id, event_id, "roles", sb.buf, err);
		goto out;
	}
	rc = allowed(b, r, sender, ROLE_COACH | ROLE_TRAINER, cmd, event_id,
		     err);
	if (rc <= 0)
		goto out;
	rc = 0;
	if (!r->ss) {
		rc = notice(b, r->id, event_id, "none", "Er loopt nu geen "
			    "oefening.", err);
	} else if (!strcmp(cmd, "pauze")) {
		rc = set_pause(b, r, 1, err);
		r->answer_at = 0;
		if (rc == 0)
			rc = notice(b, r->id, event_id, "pause", "De oefening "
				    "staat even stil: de coach heeft pauze "
				    "gegeven. Berichten worden bewaard, de "
				    "persona antwoordt pas na !verder.", err);
	} else if (!strcmp(cmd, "verder")) {
		rc = set_pause(b, r, 0, err);
		if (rc == 0 && session_pending(r->ss, err) > 0)
			r->answer_at = mono_ms();
		if (rc == 0)
			rc = notice(b, r->id, event_id, "resume", "We gaan "
				    "verder.", err);
	} else if (!strcmp(cmd, "tip")) {
		if (!*arg) {
			rc = notice(b, r->id, event_id, "tip", "Gebruik: "
				    "!tip <tekst>", err);
			goto out;
		}
		sbuf_addf(&sb, "Tip van de coach: %s", arg);
		rc = notice(b, r->id, event_id, "tip", sb.buf, err);
		if (rc == 0)
			rc = session_log(r->ss, STORE_COACH, sender, sb.buf,
					 NULL, err) < 0 ? -1 : 0;
	} else if (!strcmp(cmd, "zeg")) {
		char txn[96];

		if (!*arg) {
			rc = notice(b, r->id, event_id, "zeg", "Gebruik: "
				    "!zeg <wat de persona zegt>", err);
			goto out;
		}
		/* the coach speaks as the persona; the engine goes on from
		 * where it was */
		int seq = 0;
		char turn[48];

		txn_for(txn, sizeof(txn), event_id, "z", 0);
		rc = session_log_seq(r->ss, STORE_PERSONA, sender, arg, NULL,
				     &seq, err) < 0 ? -1 : 0;
		snprintf(turn, sizeof(turn), "%lld:%d",
			 (long long)session_id(r->ss), seq);
		if (rc == 0)
			rc = say_turn(b, r->id, "m.text", arg, txn,
				      typing_ms(b->cfg, arg), turn, err);
	} else if (!strcmp(cmd, "einde")) {
		rc = end_session(b, r, event_id, err);
	} else if (!strcmp(cmd, "coachkamer")) {
		if (r->coach_room) {
			rc = notice(b, r->id, event_id, "coachroom", "Er is al "
				    "een coachkamer voor deze oefening.", err);
		} else {
			json_t *inv = json_array();
			json_t *body;

			/* the coaches and trainers of this room */
			for (size_t i = 0; i < b->cfg->ncoaches; i++)
				json_array_append_new(inv, json_string(
					b->cfg->coaches[i]));
			for (size_t i = 0; i < b->cfg->ntrainers; i++)
				json_array_append_new(inv, json_string(
					b->cfg->trainers[i]));
			{
				const char *u;
				json_t *lv;

				json_object_foreach(r->power_users, u, lv)
					if (roles_in(b, r, u) & ROLE_COACH)
						json_array_append_new(inv,
							json_string(u));
			}
			json_array_append_new(inv, json_string(sender));
			sbuf_addf(&sb, "Coachkamer — %s",
				  session_script(r->ss)->title);
			body = json_pack("{s:s, s:s, s:o}", "preset",
					 "private_chat", "name", sb.buf,
					 "invite", inv);
			mx_call(b->mx, "POST", "/createRoom", body,
				call_new(b, CALL_CREATE, r->id));
			json_decref(body);
		}
	}
out:
	sbuf_release(&sb);
	return rc;
}

#define REPLAY_MAX_LINES 600

/* !terugkijken: replay a stored session into this room for a group
 * debrief: the turns in order, the meters after each trainee turn, each
 * annotation after its turn. The pace is the outbox's typing delay, so
 * the replay survives a restart and never posts a line twice. */
static int replay(struct bot *b, struct room *r, const char *sender,
		  const char *arg, const char *event_id, struct err *err)
{
	struct store_session rec;
	struct store_turn *t = NULL;
	struct store_annotation *an = NULL;
	size_t nt = 0, na = 0, k = 0;
	long id = 0;
	double speed = 1.0;
	char *end;
	int rc = 0, part = 0;
	struct sbuf sb;

	memset(&rec, 0, sizeof(rec));
	sbuf_init(&sb);
	id = strtol(arg, &end, 10);
	if (end == arg || id <= 0) {
		rc = notice(b, r->id, event_id, "replay", "Gebruik: "
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
	if (store_session_get(b->st, id, &rec, err) != 0 ||
	    store_turns_get(b->st, id, &t, &nt, err) < 0 ||
	    store_annotations_get(b->st, id, &an, &na, err) < 0) {
		rc = notice(b, r->id, event_id, "replay", "Die sessie bestaat "
			    "niet.", err);
		goto out;
	}
	/* trainers, and the people who took part */
	if (rec.trainee && !strcmp(rec.trainee, sender))
		part = 1;
	/* the coaches who spoke in it took part; bystanders did not */
	for (size_t i = 0; i < nt && !part; i++)
		part = t[i].author && !strcmp(t[i].author, sender) &&
		       (!strcmp(t[i].speaker, STORE_COACH) ||
			!strcmp(t[i].speaker, STORE_PERSONA));
	if (!part && !(roles_in(b, r, sender) & ROLE_TRAINER)) {
		rc = notice(b, r->id, event_id, "replay", "Alleen een trainer "
			    "of wie aan die oefening meedeed, kan hem "
			    "terugkijken.", err);
		goto out;
	}
	sbuf_addf(&sb, "Terugkijken: sessie %ld, %s (%zu regels, snelheid "
		  "%.1f×)", id, rec.title ? rec.title : rec.scenario, nt,
		  speed);
	rc = notice(b, r->id, event_id, "replay-start", sb.buf, err);
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
		txn_for(txn, sizeof(txn), event_id, "r", (int)k++);
		rc = say(b, r->id, "m.notice", sb.buf, txn, delay, err);
	}
	if (rc == 0) {
		char txn[96];

		txn_for(txn, sizeof(txn), event_id, "r-end", 0);
		sbuf_reset(&sb);
		sbuf_addf(&sb, "Einde van de terugblik op sessie %ld (%s).", id,
			  rec.ending ? rec.ending : "niet afgerond");
		rc = say(b, r->id, "m.notice", sb.buf, txn, 500, err);
	}
out:
	sbuf_release(&sb);
	store_session_release(&rec);
	store_turns_free(t, nt);
	store_annotations_free(an, na);
	return rc;
}

/* A coach's reaction or thread reply on a turn becomes an annotation. */
static int annotate(struct bot *b, struct room *r, const char *sender,
		    const char *target, const char *kind, const char *text,
		    struct err *err)
{
	struct store_annotation a;
	int64_t sid;
	int seq, rc;

	if (!(roles_in(b, r, sender) & (ROLE_COACH | ROLE_TRAINER)))
		return 0;
	rc = store_turn_by_event(b->st, target, &sid, &seq, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	memset(&a, 0, sizeof(a));
	a.session_id = sid;
	a.turn_seq = seq;
	a.author = (char *)sender;
	a.kind = (char *)kind;
	a.text = (char *)text;
	return store_annotation_add(b->st, &a, err);
}

/* --- commands --- */

static int command(struct bot *b, struct room *r, const char *sender,
		   const char *body, const char *event_id, struct err *err)
{
	char cmd[32];
	const char *arg;
	size_t n = strcspn(body + 1, " \t\n");
	struct sbuf sb;
	int rc = 0;

	if (n >= sizeof(cmd))
		n = sizeof(cmd) - 1;
	memcpy(cmd, body + 1, n);
	cmd[n] = '\0';
	for (char *c = cmd; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	arg = body + 1 + strcspn(body + 1, " \t\n");
	while (*arg == ' ' || *arg == '\t' || *arg == '\n')
		arg++;
	sbuf_init(&sb);
	if (!strcmp(cmd, "rollen") || !strcmp(cmd, "pauze") ||
	    !strcmp(cmd, "verder") || !strcmp(cmd, "tip") ||
	    !strcmp(cmd, "zeg") || !strcmp(cmd, "einde") ||
	    !strcmp(cmd, "coachkamer")) {
		rc = coach_command(b, r, cmd, arg, sender, event_id, err);
	} else if ((!strcmp(cmd, "stop") || !strcmp(cmd, "opnieuw")) &&
		   r->ss) {
		rc = allowed(b, r, sender, ROLE_TRAINEE | ROLE_COACH |
			     ROLE_TRAINER, cmd, event_id, err);
		if (rc > 0)
			rc = !strcmp(cmd, "stop") ?
			     end_session(b, r, event_id, err) :
			     restart_session(b, r, sender, event_id, err);
	} else if (!strcmp(cmd, "terugkijken")) {
		rc = replay(b, r, sender, arg, event_id, err);
	} else if (!strcmp(cmd, "nabespreking")) {
		int64_t sid = r->ss ? session_id(r->ss) : r->last_session;
		const struct script *sc = r->ss ? session_script(r->ss) : NULL;

		if (!sc && sid) {
			struct store_session rec;

			memset(&rec, 0, sizeof(rec));
			if (store_session_get(b->st, sid, &rec, err) == 0)
				sc = catalog_find(&b->cat, rec.scenario);
			store_session_release(&rec);
		}
		if (!sc) {
			rc = notice(b, r->id, event_id, "debrief", "Er is hier "
				    "nog geen oefening om na te bespreken.",
				    err);
		} else {
			debrief_text(b, sid, sc, &sb);
			rc = notice(b, r->id, event_id, "debrief", sb.buf,
				    err);
		}
	} else if (!strcmp(cmd, "oefeningen") || !strcmp(cmd, "scenarios") ||
	    !strcmp(cmd, "scenario's")) {
		scenarios_text(b, &sb);
		rc = notice(b, r->id, event_id, "list", sb.buf, err);
	} else if (!strcmp(cmd, "hulp") || !strcmp(cmd, "help")) {
		rc = notice(b, r->id, event_id, "help", help_text, err);
	} else if (!strcmp(cmd, "start")) {
		const struct script *s = *arg ? catalog_find(&b->cat, arg) :
					 NULL;

		if (r->ss) {
			sbuf_addf(&sb, "Er loopt al een oefening (%s). Typ "
				  "!stop om te stoppen of !opnieuw om opnieuw "
				  "te beginnen.", session_script(r->ss)->title);
			rc = notice(b, r->id, event_id, "busy", sb.buf, err);
		} else if (!s) {
			sbuf_addf(&sb, "%s'%s' ken ik niet. ", *arg ? "" :
				  "Welke oefening? ", arg);
			scenarios_text(b, &sb);
			rc = notice(b, r->id, event_id, "which", sb.buf, err);
		} else {
			rc = start_session(b, r, sender, s, event_id, err);
		}
	} else if (!strcmp(cmd, "stop") || !strcmp(cmd, "einde")) {
		if (!r->ss)
			rc = notice(b, r->id, event_id, "none", "Er loopt nu "
				    "geen oefening. Begin er een met !start "
				    "<nummer> (zie !oefeningen).", err);
		else
			rc = end_session(b, r, event_id, err);
	} else if (!strcmp(cmd, "opnieuw")) {
		if (!r->ss) {
			rc = restart_ended(b, r, sender, event_id, err);
		} else {
			rc = restart_session(b, r, sender, event_id, err);
		}
	} else if (!strcmp(cmd, "stand")) {
		if (r->ss) {
			const struct script *s = session_script(r->ss);
			struct store_rubric *rv = NULL;
			size_t nr = 0;

			stand_text(r->ss, &sb);
			sbuf_addf(&sb, " · fase %s%s", s->nodes[engine_node(
				  session_engine(r->ss))].name, r->paused ?
				  " · gepauzeerd" : "");
			if (store_rubric_get(b->st, session_id(r->ss), &rv,
					     &nr, err) == 0)
				for (size_t i = 0; i < nr; i++) {
					int p = script_find_point(s,
								  rv[i].point);

					sbuf_addf(&sb, "\n%s %s", rv[i].shown ?
						  "✔" : "✘", p >= 0 ?
						  s->points[p].label :
						  rv[i].point);
				}
			store_rubric_free(rv, nr);
		} else {
			sbuf_adds(&sb, "Er loopt nu geen oefening.");
		}
		rc = notice(b, r->id, event_id, "stand", sb.buf, err);
	} else {
		sbuf_addf(&sb, "Die opdracht ken ik niet (!%s). Typ !hulp "
			  "voor wat ik kan.", cmd);
		rc = notice(b, r->id, event_id, "unknown", sb.buf, err);
	}
	sbuf_release(&sb);
	return rc;
}

/* --- events --- */

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int is_coach(struct bot *b, struct room *r, const char *user)
{
	return (roles_in(b, r, user) & (ROLE_COACH | ROLE_TRAINER)) != 0;
}

static void queue_receipt(struct bot *b, const char *room,
			  const char *event_id)
{
	XGROW(b->receipts, b->receipts_cap, b->nreceipts + 2);
	b->receipts[b->nreceipts++] = xstrdup(room);
	b->receipts[b->nreceipts++] = xstrdup(event_id);
}

static int on_message(struct bot *b, struct room *r, json_t *ev,
		      struct err *err)
{
	const char *sender = str(ev, "sender");
	const char *eid = str(ev, "event_id");
	json_t *content = json_object_get(ev, "content");
	const char *body = str(content, "body");
	const char *mt = str(content, "msgtype");
	char *cut = NULL;
	int rc = 0;

	if (!sender || !eid || !body || !mt)
		return 0;   /* malformed: nothing to answer */
	if (strcmp(mt, "m.text") && strcmp(mt, "m.emote") &&
	    strcmp(mt, "m.notice"))
		return 0;
	if (json_object_get(content, "m.relates_to") &&
	    json_is_object(json_object_get(json_object_get(content,
				"m.relates_to"), "m.new_content")))
		return 0;   /* an edit: the original was answered */
	if (strlen(body) > MAX_BODY) {
		/* cut on a UTF-8 boundary */
		size_t n = MAX_BODY;

		while (n && ((unsigned char)body[n] & 0xc0) == 0x80)
			n--;
		cut = xstrndup(body, n);
		body = cut;
	}
	{
		json_t *rel = json_object_get(content, "m.relates_to");
		const char *root = NULL;

		if (json_is_object(rel) && str(rel, "rel_type") &&
		    !strcmp(str(rel, "rel_type"), "m.thread"))
			root = str(rel, "event_id");
		if (!root && json_is_object(rel) &&
		    (roles_in(b, r, sender) & (ROLE_COACH | ROLE_TRAINER)))
			root = str(json_object_get(rel, "m.in_reply_to"),
				   "event_id");
		/* Threads (and coaches' replies) are talk about the
		 * rehearsal: never input for the persona. */
		if (root) {
			rc = annotate(b, r, sender, root, "notitie", body, err);
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
			rc = command(b, p, sender, body, eid, err);
		free(cut);
		return rc;
	}
	if (body[0] == '!' && strcmp(mt, "m.notice") != 0) {
		if (!b->initial)
			rc = command(b, r, sender, body, eid, err);
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
				r->answer_at = mono_ms() + b->cfg->gather_ms;
			queue_receipt(b, r->id, eid);
			sbuf_init(&sb);
			sbuf_addf(&sb, "Trainee%s: %s", r->paused ?
				  " (tijdens de pauze)" : "", body);
			rc = mirror(b, r, eid, "t", 0, sb.buf, err);
			sbuf_release(&sb);
		}
	} else if (r->ss) {
		rc = session_log(r->ss, is_coach(b, r, sender) ?
				 STORE_COACH : STORE_OTHER, sender, body, eid,
				 err) < 0 ? -1 : 0;
	}
	free(cut);
	return rc;
}

static int on_member(struct bot *b, struct room *r, json_t *ev,
		     const char *me, struct err *err)
{
	const char *who = str(ev, "state_key");
	const char *eid = str(ev, "event_id");
	const char *ms = str(json_object_get(ev, "content"), "membership");

	if (!who || !ms || !eid)
		return 0;
	if (strcmp(who, me) == 0) {
		/* our own join: say hello once (the txn makes it once) */
		if (!strcmp(ms, "join") && !b->initial && !r->ss &&
		    !r->practice) {
			const char *prev = str(json_object_get(
				json_object_get(ev, "unsigned"),
				"prev_content"), "membership");

			if (prev && !strcmp(prev, "join"))
				return 0;   /* a display-name change */
			return notice(b, r->id, eid, "hello", help_text, err);
		}
		return 0;
	}
	if (!strcmp(ms, "leave") || !strcmp(ms, "ban"))
		mx_joined_members(b->mx, r->id,
				  call_new(b, CALL_MEMBERS, r->id));
	return 0;
}

/* The room's creator and power levels decide who may coach. Kept in
 * meta too: an incremental sync does not repeat room state. */
static int on_state(struct bot *b, struct room *r, json_t *ev,
		    struct err *err)
{
	const char *type = str(ev, "type");
	json_t *content = json_object_get(ev, "content");

	if (!type || !json_is_object(content) ||
	    !json_is_string(json_object_get(ev, "state_key")) ||
	    strcmp(str(ev, "state_key"), ""))
		return 0;
	if (!strcmp(type, "m.room.create")) {
		const char *c = str(content, "creator") ?
				str(content, "creator") : str(ev, "sender");

		if (!c)
			return 0;
		free(r->creator);
		r->creator = xstrdup(c);
		return room_meta_set(b, "creator", r->id, c, err);
	}
	if (!strcmp(type, "m.room.power_levels")) {
		json_t *users = json_object_get(content, "users");
		char *text;
		int rc;

		if (!json_is_object(users))
			return 0;
		json_decref(r->power_users);
		r->power_users = json_deep_copy(users);
		text = json_dumps(users, JSON_COMPACT);
		rc = room_meta_set(b, "pl", r->id, text ? text : "{}", err);
		free(text);
		return rc;
	}
	return 0;
}

/* Our own persona lines come back with their event id: remember it on
 * the turn, so reactions and thread replies can find the turn. */
static int on_own(struct bot *b, json_t *ev, struct err *err)
{
	const char *eid = str(ev, "event_id");
	const char *turn = str(json_object_get(ev, "content"), TURN_FIELD);
	long long sid;
	int seq;

	if (!eid || !turn || sscanf(turn, "%lld:%d", &sid, &seq) != 2)
		return 0;
	return store_turn_set_event(b->st, sid, seq, eid, err);
}

static int on_event(struct bot *b, struct room *r, json_t *ev,
		    struct err *err);

/* An encrypted room event: handled as what it decrypts to; a message
 * whose key is missing is kept (e2ee) and its sender told once. */
static int on_encrypted(struct bot *b, struct room *r, json_t *ev,
			struct err *err)
{
	enum e2ee_result res;
	json_t *plain = NULL;
	const char *sender = str(ev, "sender");
	const char *eid = str(ev, "event_id");
	int rc;

	if (e2ee_decrypt(b->e2ee, r->id, ev, &res, &plain, err) < 0)
		return -1;
	if (res == E2EE_OK) {
		rc = strcmp(str(plain, "type") ? str(plain, "type") : "",
			    "m.room.encrypted") ? on_event(b, r, plain, err) :
			 0;
		json_decref(plain);
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
		rc = notice(b, r->id, eid, "unreadable", sb.buf, err);
		sbuf_release(&sb);
	}
	return rc;
}

static int on_event(struct bot *b, struct room *r, json_t *ev,
		    struct err *err)
{
	const char *type = str(ev, "type");
	const char *sender = str(ev, "sender");
	const char *me = b->cfg->user_id;

	if (!type || !sender)
		return 0;
	if (b->e2ee && !strcmp(type, "m.room.encrypted"))
		return on_encrypted(b, r, ev, err);
	if (!strcmp(type, "m.room.member"))
		return on_member(b, r, ev, me, err);
	if (!strcmp(type, "m.room.create") || !strcmp(type,
						      "m.room.power_levels"))
		return on_state(b, r, ev, err);
	if (!strcmp(sender, me))
		return on_own(b, ev, err);
	if (!strcmp(type, "m.reaction")) {
		json_t *rel = json_object_get(json_object_get(ev, "content"),
					      "m.relates_to");
		const char *target = str(rel, "event_id");
		const char *key = str(rel, "key");

		if (!target || !key || strcmp(str(rel, "rel_type") ?
					      str(rel, "rel_type") : "",
					      "m.annotation"))
			return 0;
		return annotate(b, r, sender, target, "reactie", key, err);
	}
	if (!strcmp(type, "m.room.message"))
		return on_message(b, r, ev, err);
	if (!strcmp(type, "m.room.encrypted") && !r->told_encrypted &&
	    !b->initial) {
		r->told_encrypted = 1;
		return notice(b, r->id, str(ev, "event_id") ?
			      str(ev, "event_id") : r->id, "enc",
			      "Deze kamer is versleuteld en dat kan ik nog "
			      "niet lezen. Maak een kamer zonder versleuteling "
			      "en nodig mij daar uit.", err);
	}
	return 0;
}

static int on_invite(struct bot *b, const char *room_id, json_t *room,
		     struct err *err)
{
	json_t *events = json_object_get(json_object_get(room, "invite_state"),
					 "events");
	const char *inviter = NULL;
	size_t i;
	json_t *ev;

	json_array_foreach(events, i, ev) {
		if (json_is_string(json_object_get(ev, "state_key")) &&
		    !strcmp(str(ev, "type") ? str(ev, "type") : "",
			    "m.room.member") &&
		    !strcmp(str(ev, "state_key"), b->cfg->user_id))
			inviter = str(ev, "sender");
	}
	if (!inviter || !config_invite_allowed(b->cfg, inviter)) {
		log_line("uitnodiging voor %s van %s geweigerd (niet in "
		      "invites.allow)", room_id, inviter ? inviter : "?");
		mx_leave(b->mx, room_id, call_new(b, CALL_OTHER, room_id));
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

/* Throw away in-memory state and read it back from the store (after a
 * failed transaction, memory may be ahead of the database). */
static void reload(struct bot *b);
static int on_ready(struct bot *b, struct err *err);

static int answer(struct bot *b, struct room *r, struct err *err);

/* Answer the rooms that are due now, in the caller's transaction. */
static int answer_now(struct bot *b, struct err *err)
{
	int64_t now = mono_ms();

	for (size_t i = 0; i < b->nrooms; i++) {
		struct room *r = &b->rooms[i];

		if (r->answer_at && r->answer_at <= now &&
		    answer(b, r, err) < 0)
			return -1;
	}
	return 0;
}

static int process(struct bot *b, const struct mx_sync *s, struct err *err)
{
	const char *rid;
	json_t *room;

	if (store_outbox_done_many(b->st, b->sent, b->nsent, err) < 0)
		return -1;
	if (b->e2ee && e2ee_sync(b->e2ee, s, err) < 0)
		return -1;
	json_object_foreach(s->rooms_invite, rid, room)
		if (on_invite(b, rid, room, err) < 0)
			return -1;
	json_object_foreach(s->rooms_join, rid, room) {
		json_t *tl = json_object_get(json_object_get(room, "timeline"),
					     "events");
		struct room *r = room_find(b, rid);
		size_t i;
		json_t *ev;

		if (!r) {
			r = room_add(b, rid, NULL);
			if (room_save(b, r, err) < 0)
				return -1;
		}
		json_array_foreach(json_object_get(json_object_get(room,
				"state"), "events"), i, ev) {
			if (!json_is_object(ev))
				continue;
			if (b->e2ee && e2ee_room_event(b->e2ee, rid, ev,
						       err) < 0)
				return -1;
			if (on_state(b, r, ev, err) < 0)
				return -1;
		}
		json_array_foreach(tl, i, ev) {
			if (!json_is_object(ev))
				continue;
			if (b->e2ee && e2ee_room_event(b->e2ee, rid, ev,
						       err) < 0)
				return -1;
			if (on_event(b, r, ev, err) < 0)
				return -1;
		}
	}
	if (on_ready(b, err) < 0)
		return -1;
	json_object_foreach(s->rooms_leave, rid, room) {
		struct room *r = room_find(b, rid);

		if (!r)
			continue;
		if (r->ss && !session_ended(r->ss) &&
		    session_stop(r->ss, err) < 0)
			return -1;
		if (store_room_delete(b->st, rid, err) < 0)
			return -1;
		room_remove(b, rid);
	}
	/* Without gather_ms the answers share the batch's transaction:
	 * one commit per batch instead of one more per room. */
	if (b->cfg->gather_ms == 0 && answer_now(b, err) < 0)
		return -1;
	return store_meta_set(b->st, "sync_token", s->next_batch, err);
}

/* Encrypted events that became readable (their key arrived, or their
 * sender's device was confirmed), handled as if they arrived now. */
static int on_ready(struct bot *b, struct err *err)
{
	json_t *ready, *it;
	size_t i;
	int rc = 0;

	if (!b->e2ee || !e2ee_has_ready(b->e2ee))
		return 0;
	ready = e2ee_take_ready(b->e2ee, err);
	if (!ready)
		return e2ee_has_ready(b->e2ee) ? -1 : 0;
	json_array_foreach(ready, i, it) {
		struct room *r = room_find(b, str(it, "room"));

		if (r && on_event(b, r, json_object_get(it, "event"),
				  err) < 0) {
			rc = -1;
			break;
		}
	}
	json_decref(ready);
	return rc;
}

static int on_sync(void *arg, const struct mx_sync *s)
{
	return bot_sync((struct bot *)arg, s);
}

int bot_sync(struct bot *b, const struct mx_sync *s)
{
	struct err err;
	size_t nnames = b->nnames;

	if (store_begin(b->st, &err) < 0) {
		log_line("%s", err.msg);
		return -1;
	}
	if (process(b, s, &err) < 0 || store_commit(b->st, &err) < 0) {
		log_line("sync-batch niet verwerkt, volgt opnieuw: %s", err.msg);
		store_rollback(b->st);
		names_truncate(b, nnames);
		reload(b);
		for (size_t i = 0; i < b->njoins; i++)
			free(b->joins[i]);
		b->njoins = 0;
		for (size_t i = 0; i < b->nreceipts; i++)
			free(b->receipts[i]);
		b->nreceipts = 0;
		return -1;
	}
	b->initial = 0;
	b->nsent = 0;
	for (size_t i = 0; i < b->njoins; i++) {
		mx_join(b->mx, b->joins[i], call_new(b, CALL_JOIN,
						     b->joins[i]));
		free(b->joins[i]);
	}
	b->njoins = 0;
	flush_outbox(b);
	return 0;
}

/* Read receipts go out after the replies: Synapse writes one transaction
 * at a time, and a receipt queued first would delay the answer. */
static void send_receipts(struct bot *b)
{
	for (size_t i = 0; i + 1 < b->nreceipts; i += 2) {
		mx_receipt(b->mx, b->receipts[i], b->receipts[i + 1]);
		free(b->receipts[i]);
		free(b->receipts[i + 1]);
	}
	b->nreceipts = 0;
}

/* Forget the sent outbox rows that no sync batch took along within
 * SENT_DELETE_MS (or all, when stopping): a commit of their own costs as
 * much as a batch's. Returns ms until the next is due, or -1. */
static int64_t sent_delete(struct bot *b, int all)
{
	struct err err;
	int64_t wait = SENT_DELETE_MS - (mono_ms() - b->sent_at);

	if (!b->nsent)
		return -1;
	if (!all && wait > 0)
		return wait;
	if (store_outbox_done_many(b->st, b->sent, b->nsent, &err) < 0) {
		log_line("%s", err.msg);
		b->sent_at = mono_ms();   /* again later */
		return SENT_DELETE_MS;
	}
	b->nsent = 0;
	return -1;
}

static void on_sent(void *arg, uint64_t cookie, int ok, const char *event_id)
{
	struct bot *b = arg;

	(void)ok;
	(void)event_id;
	/* sent, or refused for good: either way it leaves the outbox, with
	 * the next batch or within SENT_DELETE_MS (a crash before that sends
	 * it again with the same txn: the homeserver drops it) */
	if (!b->nsent)
		b->sent_at = mono_ms();
	XGROW(b->sent, b->sent_cap, b->nsent + 1);
	b->sent[b->nsent++] = (int64_t)cookie;
}

static void on_login(void *arg, int ok, const char *token,
		     const char *device, const char *error)
{
	struct bot *b = arg;
	struct err err;

	if (!ok) {
		log_line("inloggen als %s mislukt: %s", b->cfg->user_id,
		      error ? error : "onbekende fout");
		b->fatal = 1;
		return;
	}
	if (store_begin(b->st, &err) < 0 ||
	    store_meta_set(b->st, "access_token", token, &err) < 0 ||
	    store_meta_set(b->st, "device_id", device, &err) < 0 ||
	    store_meta_set(b->st, "user_id", b->cfg->user_id, &err) < 0 ||
	    store_commit(b->st, &err) < 0) {
		store_rollback(b->st);
		log_line("login niet op te slaan: %s", err.msg);
		b->fatal = 1;
		return;
	}
	log_line("ingelogd als %s (apparaat %s)", b->cfg->user_id, device);
	b->ready = 1;
}

static int on_prepare(void *arg, const char *room, const char *type,
		      const char *body, char **new_type, char **new_body)
{
	struct bot *b = arg;

	*new_type = *new_body = NULL;
	if (!b->e2ee)
		return 1;
	return e2ee_prepare(b->e2ee, room, type, body, new_type, new_body);
}

static void on_done(void *arg, uint64_t cookie, long status, json_t *body)
{
	struct bot *b = arg;
	struct call c;
	size_t i;
	struct err err;

	if (b->e2ee && e2ee_on_done(b->e2ee, cookie, status, body))
		return;

	for (i = 0; i < b->ncalls; i++)
		if (b->calls[i].cookie == cookie)
			break;
	if (i == b->ncalls)
		return;
	c = b->calls[i];
	b->calls[i] = b->calls[--b->ncalls];
	if (c.kind == CALL_JOIN && status != 200) {
		log_line("kamer %s binnengaan mislukt (HTTP %ld)", c.room, status);
	} else if (c.kind == CALL_MEMBERS && status == 200) {
		json_t *joined = json_object_get(body, "joined");
		size_t humans = json_object_size(joined) -
				(json_object_get(joined, b->cfg->user_id) ?
				 1 : 0);
		struct room *r = room_find(b, c.room);

		/* the last human left: close the rehearsal and leave */
		if (r && humans == 0) {
			log_line("iedereen is weg uit %s: ik ga ook", c.room);
			if (store_begin(b->st, &err) == 0) {
				if ((r->ss && !session_ended(r->ss) &&
				     session_stop(r->ss, &err) < 0) ||
				    store_room_delete(b->st, c.room, &err) < 0 ||
				    store_commit(b->st, &err) < 0) {
					store_rollback(b->st);
					log_line("%s", err.msg);
				}
			}
			mx_leave(b->mx, c.room, call_new(b, CALL_OTHER,
							 c.room));
			room_remove(b, c.room);
		}
	} else if (c.kind == CALL_CREATE) {
		const char *cr = str(body, "room_id");
		struct room *p = room_find(b, c.room);

		if (status != 200 || !cr || !p) {
			log_line("coachkamer maken mislukt (HTTP %ld)", status);
		} else if (store_begin(b->st, &err) == 0) {
			struct room *x = room_add(b, cr, NULL);

			p = room_find(b, c.room);   /* room_add may move it */
			x->practice = xstrdup(p->id);
			p->coach_room = xstrdup(cr);
			if (room_save(b, x, &err) < 0 ||
			    room_meta_set(b, "coachroom", p->id, cr, &err) < 0 ||
			    room_meta_set(b, "practice", cr, p->id, &err) < 0 ||
			    notice(b, cr, cr, "intro", "Dit is de coachkamer. "
				   "Hier zie je de oefening live, met na elke "
				   "beurt de meters en de regels die vuurden. "
				   "Opdrachten als !pauze, !tip en !zeg die je "
				   "hier typt, werken in de oefenkamer.", &err)
			    < 0 || store_commit(b->st, &err) < 0) {
				store_rollback(b->st);
				log_line("%s", err.msg);
				reload(b);
			}
			flush_outbox(b);
		}
	} else if (c.kind == CALL_WHOAMI) {
		const char *dev = str(body, "device_id");
		const char *uid = str(body, "user_id");

		if (status != 200 || !uid || strcmp(uid, b->cfg->user_id)) {
			log_line("het access token hoort niet bij %s (HTTP %ld)",
			      b->cfg->user_id, status);
			b->fatal = 1;
		} else {
			if (store_meta_set(b->st, "device_id", dev ? dev : "",
					   &err) < 0 ||
			    store_meta_set(b->st, "user_id", uid, &err) < 0)
				log_line("%s", err.msg);
			b->ready = 1;
		}
	}
	free(c.room);
}

/* --- lifecycle --- */

static void reload(struct bot *b)
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

struct bot *bot_new(const struct config *cfg, struct err *err)
{
	struct bot *b = xcalloc(1, sizeof(*b));
	struct diag d;
	struct mx_handlers h;

	b->cfg = cfg;
	diag_init(&d);
	catalog_load(&b->cat, cfg->scripts_dir, cfg->personas_dir, &d);
	for (size_t i = 0; i < d.n; i++)
		log_line("%s", d.msgs[i]);
	diag_release(&d);
	if (!b->cat.nscripts) {
		err_set(err, "geen bruikbare scenario's in %s",
			cfg->scripts_dir);
		goto fail;
	}
	if (store_open(cfg->store, &b->st, err) < 0)
		goto fail;
	if (e2ee_pickle_key(cfg, b->st, &b->pickle_key, &b->pickle_keylen,
			    err) < 0) {
		store_free(b->st);
		goto fail;
	}
	match_init(&b->m);
	engine_out_init(&b->out);
	memset(&h, 0, sizeof(h));
	h.arg = b;
	h.on_sync = on_sync;
	h.on_sent = on_sent;
	h.on_login = on_login;
	h.on_done = on_done;
	h.prepare = on_prepare;
	b->mx = mx_new(cfg->homeserver, cfg->user_id, &h);
	return b;
fail:
	catalog_release(&b->cat);
	free(b);
	return NULL;
}

void bot_free(struct bot *b)
{
	if (!b)
		return;
	e2ee_free(b->e2ee);
	if (b->pickle_key) {
		explicit_bzero(b->pickle_key, b->pickle_keylen);
		free(b->pickle_key);
	}
	mx_free(b->mx);
	for (size_t i = 0; i < b->nrooms; i++)
		room_release(&b->rooms[i]);
	free(b->rooms);
	for (size_t i = 0; i < b->ncalls; i++)
		free(b->calls[i].room);
	free(b->calls);
	free(b->joins);
	for (size_t i = 0; i < b->nreceipts; i++)
		free(b->receipts[i]);
	free(b->receipts);
	names_truncate(b, 0);
	free(b->names);
	free(b->sent);
	match_release(&b->m);
	engine_out_release(&b->out);
	store_free(b->st);
	catalog_release(&b->cat);
	free(b);
}

/* Log in once; afterwards the stored token and device are used. */
static int login(struct bot *b, struct err *err)
{
	char *token = NULL, *device = NULL, *user = NULL, *secret = NULL;
	int rc = -1;

	if (store_meta_get(b->st, "access_token", &token, err) < 0 ||
	    store_meta_get(b->st, "device_id", &device, err) < 0 ||
	    store_meta_get(b->st, "user_id", &user, err) < 0)
		goto out;
	if (token && user && strcmp(user, b->cfg->user_id) != 0) {
		err_set(err, "%s hoort bij %s, niet bij %s: gebruik een eigen "
			"store per account", b->cfg->store, user,
			b->cfg->user_id);
		goto out;
	}
	if (token) {
		mx_set_token(b->mx, token, device);
		b->ready = 1;
		rc = 0;
		goto out;
	}
	if (b->cfg->access_token_file) {
		if (config_read_secret(b->cfg->access_token_file, &secret,
				       err) < 0)
			goto out;
		mx_set_token(b->mx, secret, NULL);
		if (store_meta_set(b->st, "access_token", secret, err) < 0)
			goto out;
		mx_call(b->mx, "GET", "/account/whoami", NULL,
			call_new(b, CALL_WHOAMI, NULL));
	} else {
		if (config_read_secret(b->cfg->password_file, &secret,
				       err) < 0)
			goto out;
		mx_login(b->mx, secret, b->cfg->device_name);
	}
	rc = 0;
out:
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	free(device);
	free(user);
	return rc;
}

static int64_t answer_due(struct bot *b, int all);

void bot_answer_waiting(struct bot *b)
{
	answer_due(b, 1);
}

/* Answer the rooms whose trainee has been quiet for gather_ms; returns
 * ms until the next one is due (or -1). */
static int64_t answer_due(struct bot *b, int all)
{
	int64_t now = mono_ms(), next = -1;
	struct err err;

	for (size_t i = 0; i < b->nrooms; i++) {
		struct room *r = &b->rooms[i];
		size_t nnames = b->nnames;

		if (!r->answer_at)
			continue;
		if (!all && r->answer_at > now) {
			if (next < 0 || r->answer_at - now < next)
				next = r->answer_at - now;
			continue;
		}
		if (store_begin(b->st, &err) < 0 || answer(b, r, &err) < 0 ||
		    store_commit(b->st, &err) < 0) {
			log_line("antwoord in %s niet opgeslagen, later opnieuw: "
			      "%s", r->id, err.msg);
			store_rollback(b->st);
			names_truncate(b, nnames);
			reload(b);
			return 1000;
		}
	}
	flush_outbox(b);
	send_receipts(b);
	return next;
}

/* Encryption starts once the device id is known (after login). */
static int start_e2ee(struct bot *b)
{
	struct err err;
	char *device = NULL;

	if (store_meta_get(b->st, "device_id", &device, &err) < 0 ||
	    !device || !*device) {
		log_line("versleuteling: geen apparaat-ID bekend; log opnieuw "
			 "in met password_file");
		free(device);
		return -1;
	}
	if (e2ee_open(b->st, b->mx, b->cfg, device, b->pickle_key,
		      b->pickle_keylen, &b->e2ee, &err) < 0) {
		b->pickle_key = NULL;
		log_line("%s", err.msg);
		free(device);
		return -1;
	}
	b->pickle_key = NULL;   /* e2ee owns it now */
	free(device);
	e2ee_poll(b->e2ee);
	return 0;
}

/* Keys that arrive outside a sync batch (a device confirmed by a
 * /keys/query) release waiting messages: handle them in their own
 * transaction. */
static void ready_outside_sync(struct bot *b)
{
	struct err err;

	if (!e2ee_has_ready(b->e2ee))
		return;
	if (store_begin(b->st, &err) < 0 || on_ready(b, &err) < 0 ||
	    store_commit(b->st, &err) < 0) {
		log_line("ontsleutelde berichten niet verwerkt: %s", err.msg);
		store_rollback(b->st);
		reload(b);
		return;
	}
	flush_outbox(b);
}

int bot_run(struct bot *b, volatile int *stop, int wake_fd)
{
	struct err err;
	char *since = NULL;
	int started = 0;
	int64_t stop_at = 0;

	if (login(b, &err) < 0) {
		log_line("%s", err.msg);
		return -1;
	}
	reload(b);
	flush_outbox(b);
	if (store_meta_get(b->st, "sync_token", &since, &err) < 0) {
		log_line("%s", err.msg);
		return -1;
	}
	b->initial = since == NULL;
	for (;;) {
		int64_t next;
		int timeout = 1000;

		if (b->fatal) {
			free(since);
			return -1;
		}
		if (b->ready && !started && !*stop && b->pickle_key &&
		    !b->e2ee && start_e2ee(b) < 0) {
			free(since);
			return -1;
		}
		if (b->ready && !started && !*stop) {
			mx_sync_start(b->mx, since, SYNC_TIMEOUT_MS);
			started = 1;
			log_line("verbonden met %s als %s; %zu kamers",
			      b->cfg->homeserver, b->cfg->user_id, b->nrooms);
		}
		if (*stop && !stop_at) {
			log_line("stoppen: wat onderweg is wordt afgemaakt");
			mx_sync_stop(b->mx);
			stop_at = mono_ms() + STOP_GRACE_MS;
			answer_due(b, 1);
		}
		if (stop_at && (mx_sends_pending(b->mx) == 0 ||
				mono_ms() > stop_at))
			break;
		if (b->e2ee && started) {
			e2ee_poll(b->e2ee);
			ready_outside_sync(b);
		}
		next = answer_due(b, 0);
		if (next >= 0 && next < timeout)
			timeout = (int)next;
		next = sent_delete(b, stop_at != 0);
		if (next >= 0 && next < timeout)
			timeout = (int)next;
		if (mx_poll(b->mx, timeout, stop_at ? -1 : wake_fd) == 1) {
			char buf[64];

			while (read(wake_fd, buf, sizeof(buf)) > 0)
				;
		}
	}
	sent_delete(b, 1);
	if (mx_sends_pending(b->mx))
		log_line("%zu berichten nog niet verstuurd; ze gaan mee bij de "
		      "volgende start", mx_sends_pending(b->mx));
	free(since);
	return 0;
}
