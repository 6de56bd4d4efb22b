/* rehearsal.c - see rehearsal.h. */
#include "rehearsal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "model.h"
#include "outbox.h"
#include "roles.h"
#include "room.h"
#include "session.h"
#include "store.h"

static void meter(struct sbuf *sb, int v)
{
	for (int i = 0; i < 10; i++)
		sbuf_adds(sb, i < v ? "█" : "░");
	sbuf_addf(sb, " %d/10", v);
}

void rehearsal_stand(struct session *ss, struct sbuf *sb)
{
	const struct engine *e = session_engine(ss);
	const struct script *s = session_script(ss);
	int vi = s->meter[METER_TRUST];
	int si = s->meter[METER_TENSION];

	sbuf_adds(sb, "Vertrouwen ");
	meter(sb, engine_var(e, (size_t)vi));
	sbuf_adds(sb, " · spanning ");
	meter(sb, engine_var(e, (size_t)si));
	sbuf_addf(sb, " · beurt %d", engine_beurt(e));
}

/* A debrief renderer: the loaded doc into body (and html). */
typedef int (*render_fn)(const struct export_doc *d, void *arg,
			 struct sbuf *body, struct sbuf *html,
			 struct err *err);

/* Load stored session sid of script s as a debrief document and render
 * it with fn: labels, ending and persona name from the script, as
 * `oefenkamer export` has them, so the two say the same. 0, 1 when the
 * session does not exist, <0 on an error. */
static int debrief_render(struct bot *b, int64_t sid, const struct script *s,
			  render_fn fn, void *arg, struct sbuf *body,
			  struct sbuf *html, struct err *err)
{
	struct export_point *pts = xcalloc(s->npoints + 1, sizeof(*pts));
	struct export_info info = { .points = pts, .npoints = s->npoints };
	struct export_doc d;
	int n, rc;

	for (size_t i = 0; i < s->npoints; i++) {
		pts[i].id = s->points[i].id;
		pts[i].label = s->points[i].label;
	}
	info.persona_name = catalog_persona_name(&b->cat, s);
	rc = export_doc_load(&d, b->st, sid, &info, err);
	if (rc != 0)
		goto out;
	/* info is borrowed by d: the ending is known only now */
	n = d.s.ending ? script_find_node(s, d.s.ending) : -1;
	if (n >= 0)
		info.ending_text = s->nodes[n].explain;
	rc = fn(&d, arg, body, html, err);
out:
	export_doc_release(&d);
	free(pts);
	return rc;
}

static int render_matrix(const struct export_doc *d, void *arg,
			 struct sbuf *body, struct sbuf *html,
			 struct err *err)
{
	(void)arg;
	return export_render_matrix(d, body, html, err);
}

static int render_page(const struct export_doc *d, void *arg,
		       struct sbuf *body, struct sbuf *html, struct err *err)
{
	(void)arg;
	(void)html;
	return export_render(d, EXPORT_HTML, body, err);
}

/* What !stand passes to export_render_stand. */
struct stand_arg {
	const char *phase;
	int paused;
};

static int render_stand(const struct export_doc *d, void *arg,
			struct sbuf *body, struct sbuf *html,
			struct err *err)
{
	const struct stand_arg *a = arg;

	return export_render_stand(d, a->phase, a->paused, body, html, err);
}

/* On failure: one plain sentence in both. */
static void render_failed(struct sbuf *body, struct sbuf *html,
			  const char *text, const struct err *err)
{
	log_line("%s: %s", text, err->msg);
	sbuf_reset(body);
	sbuf_reset(html);
	sbuf_adds(body, text);
	html_escape(html, text, "<br>");
}

void rehearsal_debrief(struct bot *b, int64_t sid, const struct script *s,
		       struct sbuf *body, struct sbuf *html)
{
	struct err err;

	err_set(&err, "sessie %lld bestaat niet", (long long)sid);
	if (debrief_render(b, sid, s, render_matrix, NULL, body, html,
			   &err) != 0)
		render_failed(body, html, "De nabespreking is nu niet te "
			      "maken.", &err);
}

int rehearsal_debrief_page(struct bot *b, int64_t sid,
			   const struct script *s, struct sbuf *out,
			   struct err *err)
{
	int rc = debrief_render(b, sid, s, render_page, NULL, out, NULL, err);

	if (rc > 0)
		err_set(err, "sessie %lld bestaat niet", (long long)sid);
	return rc == 0 ? 0 : -1;
}

void rehearsal_stand_full(struct bot *b, struct room *r, struct sbuf *body,
			  struct sbuf *html)
{
	const struct script *s = session_script(r->ss);
	struct stand_arg a;
	struct err err;

	a.phase = s->nodes[engine_node(session_engine(r->ss))].name;
	a.paused = r->paused;
	err_set(&err, "sessie %lld bestaat niet",
		(long long)session_id(r->ss));
	if (debrief_render(b, session_id(r->ss), s, render_stand, &a, body,
			   html, &err) != 0)
		render_failed(body, html, "De stand is nu niet te maken.",
			      &err);
}

/* The debrief as a message, then the full HTML debrief as a file, in
 * room and in its coaches' side room; what tells the rows apart. */
static int post_debrief(struct bot *b, struct room *r, int64_t sid,
			const struct script *s, const char *cause,
			const char *what, struct err *err)
{
	struct sbuf body, html;
	char w[32];
	int rc;

	sbuf_init(&body);
	sbuf_init(&html);
	rehearsal_debrief(b, sid, s, &body, &html);
	rc = outbox_notice_html(b, r->id, cause, what, body.buf, html.buf,
				err);
	sbuf_release(&body);
	sbuf_release(&html);
	xsnprintf(w, sizeof(w), "%s-file", what);
	if (rc == 0)
		rc = outbox_attach(b, r->id, cause, w, sid, err);
	xsnprintf(w, sizeof(w), "%s-cfile", what);
	if (rc == 0 && r->coach_room)
		rc = outbox_attach(b, r->coach_room, cause, w, sid, err);
	return rc;
}

int rehearsal_post_debrief(struct bot *b, struct room *r, int64_t sid,
			   const struct script *s, const char *cause,
			   struct err *err)
{
	return post_debrief(b, r, sid, s, cause, "debrief", err);
}

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

		outbox_txn(txn, sizeof(txn), cause, "p", (int)i);
		xsnprintf(turn, sizeof(turn), "%lld:%d",
			 (long long)session_id(r->ss),
			 i < nsaid ? said[i] : 0);
		if (outbox_say_turn(b, r->id, "m.text", o->msgs[i].buf, txn,
				    outbox_typing_ms(b->cfg, o->msgs[i].buf),
				    i < nsaid ? turn : NULL, err) < 0)
			return -1;
	}
	return 0;
}

int rehearsal_pause(struct bot *b, struct room *r, int on, struct err *err)
{
	r->paused = on;
	return room_meta_set(b, "pause", r->id, on ? "1" : NULL, err);
}

/* What happens in a practice room, shown in its coaches' side room. */
int rehearsal_mirror(struct bot *b, struct room *r, const char *cause,
		     const char *what, int k, const char *text,
		     struct err *err)
{
	char txn[96], w[32];

	if (!r->coach_room)
		return 0;
	xsnprintf(w, sizeof(w), "%s%d-", what, k);
	outbox_txn(txn, sizeof(txn), cause, w, 0);
	return outbox_say(b, r->coach_room, "m.notice", text, txn, 0, err);
}

int rehearsal_end(struct bot *b, struct room *r, const char *cause,
		  struct err *err)
{
	struct sbuf sb;
	int rc;

	if (!r->ss)
		return 0;
	if (!session_ended(r->ss) && session_stop(r->ss, err) < 0)
		return -1;
	sbuf_init(&sb);
	rehearsal_stand(r->ss, &sb);
	rc = session_notice(r->ss, sb.buf, err);
	sbuf_reset(&sb);
	sbuf_release(&sb);
	if (rc == 0)
		rc = post_debrief(b, r, session_id(r->ss),
				  session_script(r->ss), cause, "end", err);
	if (rc < 0)
		return -1;
	r->last_session = session_id(r->ss);
	free(r->last_trainee);
	r->last_trainee = r->trainee ? xstrdup(r->trainee) : NULL;
	if (rehearsal_pause(b, r, 0, err) < 0)
		return -1;
	/* the persona's name stays until the next rehearsal: clients that
	 * show current names keep her lines hers (notices carry their own
	 * label, OUTBOX_MARK_BODY) */
	room_clear_session(b, r);
	return room_save(b, r, err);
}

int rehearsal_start(struct bot *b, struct room *r, const char *sender,
		    const struct script *s, const char *cause,
		    struct err *err)
{
	/* the engine's seed: the same cause plays the same rehearsal */
	uint64_t seed = hash_fnv64(HASH_FNV64_START, cause, strlen(cause));
	struct session *ss;
	struct sbuf sb;
	int rc;

	if (session_begin(b->st, s, seed & 0x7fffffff, sender, r->id, &ss,
			  &b->out, err) < 0)
		return -1;
	r->ss = ss;
	r->trainee = xstrdup(sender);
	/* the persona's name before its first words */
	outbox_name(b, r->id, display_name(b, s));
	sbuf_init(&sb);
	sbuf_addf(&sb, "Oefening: %s\n%s\n(Je praat nu met %s. !stop om te "
		  "stoppen, !hulp voor hulp.)", s->title, s->intro,
		  display_name(b, s));
	rc = outbox_notice(b, r->id, cause, "intro", sb.buf, err);
	sbuf_release(&sb);
	if (rc < 0 || say_answer(b, r, cause, &b->out, err) < 0)
		return -1;
	return room_save(b, r, err);
}

/* !opnieuw after a rehearsal ended: the room's last scenario again. */
static int restart_ended(struct bot *b, struct room *r, const char *sender,
			 const char *event_id, struct err *err)
{
	struct store_session rec;
	int64_t sid = r->last_session;
	const struct script *s = NULL;
	int rc;

	memset(&rec, 0, sizeof(rec));
	if (sid && store_session_get(b->st, sid, &rec, err) == 0)
		s = catalog_find(&b->cat, rec.scenario);
	if (!s) {
		store_session_release(&rec);
		return outbox_notice(b, r->id, event_id, "none",
				     "Er is geen oefening om opnieuw te "
				     "beginnen. Kies er een met !oefeningen.",
				     err);
	}
	/* a coach restarting keeps the trainee the trainee */
	rc = rehearsal_start(b, r, rec.trainee && (room_roles(b, r, sender) &
			     (ROLE_COACH | ROLE_TRAINER)) ? rec.trainee :
			     sender, s, event_id, err);
	store_session_release(&rec);
	return rc;
}

static int restart_session(struct bot *b, struct room *r, const char *sender,
			   const char *event_id, struct err *err)
{
	const struct script *s = session_script(r->ss);
	/* the trainee stays the trainee when a coach restarts */
	char *trainee = xstrdup(r->trainee && !(room_roles(b, r, sender) &
						ROLE_TRAINEE) ?
				r->trainee : sender);
	int rc = rehearsal_end(b, r, event_id, err);

	if (rc == 0)
		rc = rehearsal_start(b, r, trainee, s, event_id, err);
	free(trainee);
	return rc;
}

int rehearsal_again(struct bot *b, struct room *r, const char *sender,
		    const char *event_id, struct err *err)
{
	if (!r->ss)
		return restart_ended(b, r, sender, event_id, err);
	return restart_session(b, r, sender, event_id, err);
}

/* Answer what the trainee said (all waiting messages at once). The
 * transaction ids come from the session and the turn number, which a
 * replay after a crash reproduces exactly, and which no other answer
 * shares: a homeserver drops a second event with a used txn id. */
int rehearsal_answer(struct bot *b, struct room *r, struct err *err)
{
	char cause[64];

	room_due_clear(b, r);
	if (!r->ss)
		return 0;
	if (session_answer(r->ss, &b->m, &b->out, err) < 0)
		return -1;
	xsnprintf(cause, sizeof(cause), "s%lld-b%d",
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
			rc = rehearsal_mirror(b, r, cause, "p", (int)i, sb.buf,
					      err);
		}
		sbuf_reset(&sb);
		rehearsal_stand(r->ss, &sb);
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
			rc = rehearsal_mirror(b, r, cause, "m", 0, sb.buf, err);
		sbuf_release(&sb);
		if (rc < 0)
			return -1;
	}
	if (b->out.ended)
		return rehearsal_end(b, r, cause, err);
	return 0;
}

const char *rehearsal_persona_name(struct bot *b, const struct room *r)
{
	const struct script *s = NULL;
	struct store_session rec;
	struct err err;

	if (r->ss)
		return display_name(b, session_script(r->ss));
	if (!r->last_session)
		return NULL;
	memset(&rec, 0, sizeof(rec));
	if (store_session_get(b->st, r->last_session, &rec, &err) == 0)
		s = catalog_find(&b->cat, rec.scenario);
	store_session_release(&rec);
	return s ? display_name(b, s) : NULL;
}
