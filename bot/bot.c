/* bot.c - see bot.h. */
#include "bot.h"
#include "bot_int.h"
#include "e2ee.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "export.h"
#include "model.h"
#include "mx.h"
#include "coach.h"
#include "outbox.h"
#include "rehearsal.h"
#include "room.h"
#include "roles.h"
#include "session.h"
#include "store.h"

#define MAX_BODY (64 * 1024)       /* longest message matched/answered */
#define STOP_GRACE_MS 15000        /* at shutdown: time to flush sends */
#define SYNC_TIMEOUT_MS 30000

/* The callbacks (with the event handlers below). */
static void on_joined(void *ctx, long status);
static void on_members(void *ctx, long status, const char *const *users,
		       size_t n);
static void on_whoami(void *ctx, long status, const char *user,
		      const char *device);

/* --- texts --- */

/* !hulp: the command table, grouped by who may use each command. */
static char *help_build(void)
{
	const struct bot_command *t;
	size_t n;
	unsigned group = 0;
	struct sbuf sb, who;

	sbuf_init(&sb);
	sbuf_init(&who);
	sbuf_adds(&sb, "Ik ben Oefenkamer: hier oefen je een gesprek over de "
		  "veiligheid van een kind met een gespeelde ouder of "
		  "jongere.");
	t = bot_commands(&n);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || t[i].who != group) {
			group = t[i].who;
			sbuf_reset(&who);
			roles_who(group, &who);
			sbuf_addf(&sb, "\nVoor %s:", who.buf);
		}
		sbuf_addf(&sb, "\n%s — %s", t[i].usage, t[i].help);
	}
	sbuf_adds(&sb, "\nEen reactie, of een antwoord in een thread, van een "
		  "coach of trainer op een bericht van de oefening wordt een "
		  "aantekening bij die beurt.\n"
		  "Tijdens de oefening praat je gewoon tegen de persona. "
		  "Anderen in de kamer mogen meelezen; alleen jouw berichten "
		  "krijgen antwoord.");
	sbuf_release(&who);
	return sbuf_detach(&sb);
}

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

/* --- roles and coaching --- */

/* The roles a command is checked against: as roles_in, and between
 * rehearsals the trainee of the room's last session stays its trainee
 * (for !nabespreking and !opnieuw). */
static unsigned roles_here(struct bot *b, struct room *r, const char *user)
{
	unsigned have = room_roles(b, r, user);

	if (!r->ss && r->last_trainee && user &&
	    !strcmp(r->last_trainee, user))
		have |= ROLE_TRAINEE;
	return have;
}

/* May sender use cmd? If not, say why (and log it): 1 allowed. */
static int allowed(struct bot *b, struct room *r, const char *sender,
		   unsigned need, const char *cmd, const char *event_id,
		   struct err *err)
{
	unsigned have = roles_here(b, r, sender);
	struct sbuf sb, who, may;
	int rc;

	if (roles_allow(need, have))
		return 1;
	sbuf_init(&sb);
	sbuf_init(&who);
	sbuf_init(&may);
	roles_name(have, &who);
	roles_who(need, &may);
	sbuf_addf(&sb, "!%s is voor %s. Jij bent hier %s; !rollen laat zien "
		  "wie wat is.", cmd, may.buf, who.buf);
	sbuf_release(&may);
	rc = outbox_notice(b, r->id, event_id, "refused", sb.buf, err);
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

/* --- commands --- */

struct bot_cmd {
	struct room *r;
	const char *name;          /* as typed, lower case */
	const char *arg;           /* the rest of the line, trimmed left */
	const char *sender;
	const char *event_id;
	const struct bot_command *def;
	struct err *err;
};

static int cmd_scenarios(struct bot *b, struct bot_cmd *c)
{
	struct sbuf sb;
	int rc;

	sbuf_init(&sb);
	scenarios_text(b, &sb);
	rc = outbox_notice(b, c->r->id, c->event_id, "list", sb.buf, c->err);
	sbuf_release(&sb);
	return rc;
}

static int cmd_help(struct bot *b, struct bot_cmd *c)
{
	return outbox_notice(b, c->r->id, c->event_id, "help", b->help, c->err);
}

static int cmd_start(struct bot *b, struct bot_cmd *c)
{
	struct room *r = c->r;
	const struct script *s = *c->arg ? catalog_find(&b->cat, c->arg) :
				 NULL;
	struct sbuf sb;
	int rc;

	sbuf_init(&sb);
	if (r->ss) {
		sbuf_addf(&sb, "Er loopt al een oefening (%s). Typ !stop om te "
			  "stoppen of !opnieuw om opnieuw te beginnen.",
			  session_script(r->ss)->title);
		rc = outbox_notice(b, r->id, c->event_id, "busy", sb.buf,
				   c->err);
	} else if (!s) {
		sbuf_addf(&sb, "%s'%s' ken ik niet. ", *c->arg ? "" :
			  "Welke oefening? ", c->arg);
		scenarios_text(b, &sb);
		rc = outbox_notice(b, r->id, c->event_id, "which", sb.buf,
				   c->err);
	} else {
		rc = rehearsal_start(b, r, c->sender, s, c->event_id, c->err);
	}
	sbuf_release(&sb);
	return rc;
}

static int cmd_stop(struct bot *b, struct bot_cmd *c)
{
	int replaying = outbox_replay_count(b, c->r->id, c->err);
	int rc;

	if (replaying < 0)
		return -1;
	if (replaying > 0) {
		/* for whoever started the replay, coaches and trainers */
		if (!coach_replay_mine(b, c->r, c->sender)) {
			rc = allowed(b, c->r, c->sender,
				     ROLE_COACH | ROLE_TRAINER, "stop",
				     c->event_id, c->err);
			if (rc <= 0)
				return rc;
		}
		return coach_replay_stop(b, c->r, c->event_id, c->err);
	}
	if (!c->r->ss)
		return outbox_notice(b, c->r->id, c->event_id, "none",
				     "Er loopt nu geen oefening. Begin er een "
				     "met !start <nummer> (zie !oefeningen).",
				     c->err);
	return rehearsal_end(b, c->r, c->event_id, c->err);
}

static int cmd_again(struct bot *b, struct bot_cmd *c)
{
	return rehearsal_again(b, c->r, c->sender, c->event_id, c->err);
}

static int cmd_stand(struct bot *b, struct bot_cmd *c)
{
	struct room *r = c->r;
	struct sbuf sb;
	int rc;

	sbuf_init(&sb);
	if (r->ss) {
		const struct script *s = session_script(r->ss);
		struct store_rubric *rv = NULL;
		size_t nr = 0;

		rehearsal_stand(r->ss, &sb);
		sbuf_addf(&sb, " · fase %s%s", s->nodes[engine_node(
			  session_engine(r->ss))].name, r->paused ?
			  " · gepauzeerd" : "");
		if (store_rubric_get(b->st, session_id(r->ss), &rv, &nr,
				     c->err) == 0)
			for (size_t i = 0; i < nr; i++) {
				int p = script_find_point(s, rv[i].point);

				sbuf_addf(&sb, "\n%s %s", rv[i].shown ?
					  "✔" : "✘", p >= 0 ?
					  s->points[p].label : rv[i].point);
			}
		store_rubric_free(rv, nr);
	} else {
		sbuf_adds(&sb, "Er loopt nu geen oefening.");
	}
	rc = outbox_notice(b, r->id, c->event_id, "stand", sb.buf, c->err);
	sbuf_release(&sb);
	return rc;
}

static int cmd_debrief(struct bot *b, struct bot_cmd *c)
{
	struct room *r = c->r;
	int64_t sid = r->ss ? session_id(r->ss) : r->last_session;
	const struct script *sc = r->ss ? session_script(r->ss) : NULL;
	struct sbuf sb;
	int rc;

	if (!sc && sid) {
		struct store_session rec;

		memset(&rec, 0, sizeof(rec));
		if (store_session_get(b->st, sid, &rec, c->err) == 0)
			sc = catalog_find(&b->cat, rec.scenario);
		store_session_release(&rec);
	}
	if (!sc)
		return outbox_notice(b, r->id, c->event_id, "debrief",
				     "Er is hier nog geen oefening om na te "
				     "bespreken.", c->err);
	sbuf_init(&sb);
	rehearsal_debrief(b, sid, sc, &sb);
	rc = outbox_notice(b, r->id, c->event_id, "debrief", sb.buf, c->err);
	sbuf_release(&sb);
	return rc;
}

static int cmd_roles(struct bot *b, struct bot_cmd *c)
{
	struct room *r = c->r;
	struct sbuf sb;
	int rc;

	sbuf_init(&sb);
	sbuf_addf(&sb, "Trainee: %s", r->ss && r->trainee ? r->trainee :
		  "niemand (er loopt geen oefening)");
	list_role(&sb, "Coaches", b->cfg->coaches, b->cfg->ncoaches,
		  r->power_users, r, b->cfg->user_id);
	list_role(&sb, "Trainers", b->cfg->trainers, b->cfg->ntrainers, NULL,
		  r, b->cfg->user_id);
	rc = outbox_notice(b, r->id, c->event_id, "roles", sb.buf, c->err);
	sbuf_release(&sb);
	return rc;
}

static int cmd_replay(struct bot *b, struct bot_cmd *c)
{
	return coach_replay(b, c->r, c->sender, c->arg, c->event_id,
			    c->def->who, c->err);
}

/* The coaches' commands act on the running rehearsal; without one they
 * say so. 1: go on; otherwise what the notice returned. */
static int need_rehearsal(struct bot *b, struct bot_cmd *c)
{
	if (c->r->ss)
		return 1;
	return outbox_notice(b, c->r->id, c->event_id, "none", "Er loopt nu "
			     "geen oefening.", c->err);
}

static int cmd_pause(struct bot *b, struct bot_cmd *c)
{
	int rc = need_rehearsal(b, c);

	return rc <= 0 ? rc : coach_pause(b, c->r, c->event_id, c->err);
}

static int cmd_resume(struct bot *b, struct bot_cmd *c)
{
	int rc = need_rehearsal(b, c);

	return rc <= 0 ? rc : coach_resume(b, c->r, c->event_id, c->err);
}

static int cmd_tip(struct bot *b, struct bot_cmd *c)
{
	int rc = need_rehearsal(b, c);

	return rc <= 0 ? rc : coach_tip(b, c->r, c->sender, c->arg,
					c->event_id, c->err);
}

static int cmd_say(struct bot *b, struct bot_cmd *c)
{
	int rc = need_rehearsal(b, c);

	return rc <= 0 ? rc : coach_say(b, c->r, c->sender, c->arg,
					c->event_id, c->err);
}

static int cmd_end(struct bot *b, struct bot_cmd *c)
{
	int rc = need_rehearsal(b, c);

	return rc <= 0 ? rc : rehearsal_end(b, c->r, c->event_id, c->err);
}

static int cmd_coachroom(struct bot *b, struct bot_cmd *c)
{
	int rc = need_rehearsal(b, c);

	return rc <= 0 ? rc : coach_side_room(b, c->r, c->sender,
					      c->event_id, c->err);
}

#define ANYONE ROLE_ANYONE
#define PART (ROLE_TRAINEE | ROLE_COACH | ROLE_TRAINER)
#define COACHES (ROLE_COACH | ROLE_TRAINER)

/* Grouped by who (!hulp lists them in this order); README.md's command
 * table says the same (tests/test_bot.c checks that). */
static const struct bot_command commands[] = {
	{ "oefeningen", "scenarios scenario's", ANYONE, 0, cmd_scenarios,
	  "!oefeningen", "welke oefeningen er zijn" },
	{ "start", NULL, ANYONE, 0, cmd_start, "!start <nummer>",
	  "begin een oefening (jij bent de professional)" },
	{ "rollen", NULL, ANYONE, 0, cmd_roles, "!rollen",
	  "wie is hier trainee, coach of trainer" },
	{ "hulp", "help", ANYONE, 0, cmd_help, "!hulp", "dit overzicht" },
	{ "stop", NULL, PART, 0, cmd_stop, "!stop",
	  "stop en krijg een korte nabespreking (loopt er een terugblik, "
	  "dan stopt die)" },
	{ "opnieuw", NULL, PART, 0, cmd_again, "!opnieuw",
	  "begin dezelfde oefening opnieuw" },
	{ "stand", NULL, PART, 0, cmd_stand, "!stand",
	  "hoe staan vertrouwen en spanning ervoor" },
	{ "nabespreking", NULL, PART, 0, cmd_debrief, "!nabespreking",
	  "de nabespreking (opnieuw)" },
	{ "terugkijken", NULL, PART, 1, cmd_replay,
	  "!terugkijken <sessie> [snelheid]",
	  "een oefening terugkijken (de trainee van die sessie, een coach "
	  "die meedeed of een trainer)" },
	{ "pauze", NULL, COACHES, 0, cmd_pause, "!pauze",
	  "de persona wacht even" },
	{ "verder", NULL, COACHES, 0, cmd_resume, "!verder",
	  "de persona gaat verder" },
	{ "tip", NULL, COACHES, 0, cmd_tip, "!tip <tekst>",
	  "een hint voor de trainee" },
	{ "zeg", NULL, COACHES, 0, cmd_say, "!zeg <tekst>",
	  "de persona zegt dit" },
	{ "einde", NULL, COACHES, 0, cmd_end, "!einde",
	  "beëindig de oefening, met de nabespreking" },
	{ "coachkamer", NULL, COACHES, 0, cmd_coachroom, "!coachkamer",
	  "een kamer waar je live meekijkt" },
};

#undef ANYONE
#undef PART
#undef COACHES

const struct bot_command *bot_commands(size_t *n)
{
	*n = ARRAY_LEN(commands);
	return commands;
}

static const struct bot_command *command_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		const char *a = commands[i].aliases;
		size_t len = strlen(name);

		if (!strcmp(commands[i].name, name))
			return &commands[i];
		while (a && *a) {
			size_t k = strcspn(a, " ");

			if (k == len && !strncmp(a, name, k))
				return &commands[i];
			a += k;
			a += *a == ' ';
		}
	}
	return NULL;
}

/* One allowance per user, over all rooms (a generic cell rate: each
 * command moves tat on by BOT_CMD_EVERY_MS; more than the burst ahead of
 * now is too many). Returns 1 when sender must wait; *tell is set the
 * first time since the allowance was last whole. */
static int rate_limited(struct bot *b, const char *sender, int *tell)
{
	int64_t now = mono_ms();
	int64_t ahead = (int64_t)(BOT_CMD_BURST - 1) * BOT_CMD_EVERY_MS;
	struct cmd_rate *x = NULL;

	*tell = 0;
	for (size_t i = 0; i < b->nrates && !x; i++)
		if (!strcmp(b->rates[i].user, sender))
			x = &b->rates[i];
	if (!x) {
		/* forget users whose allowance is whole again */
		size_t k = 0;

		for (size_t i = 0; i < b->nrates; i++) {
			if (b->rates[i].tat <= now)
				free(b->rates[i].user);
			else
				b->rates[k++] = b->rates[i];
		}
		b->nrates = k;
		XGROW(b->rates, b->rates_cap, b->nrates + 1);
		x = &b->rates[b->nrates++];
		x->user = xstrdup(sender);
		x->tat = now;
		x->told = 0;
	}
	/* told lasts until the allowance is whole again: one notice per
	 * flood, not one each time a single command gets through */
	if (x->tat <= now)
		x->told = 0;
	if (x->tat < now)
		x->tat = now;
	if (x->tat - now > ahead) {
		*tell = !x->told;
		x->told = 1;
		return 1;
	}
	x->tat += BOT_CMD_EVERY_MS;
	return 0;
}

static int command(struct bot *b, struct room *r, const char *sender,
		   const char *body, const char *event_id, struct err *err)
{
	char cmd[32];
	size_t n = strcspn(body + 1, " \t\n");
	struct bot_cmd c;
	int rc, tell;

	if (n >= sizeof(cmd))
		n = sizeof(cmd) - 1;
	memcpy(cmd, body + 1, n);
	cmd[n] = '\0';
	for (char *p = cmd; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	memset(&c, 0, sizeof(c));
	c.r = r;
	c.name = cmd;
	c.arg = body + 1 + strcspn(body + 1, " \t\n");
	while (*c.arg == ' ' || *c.arg == '\t' || *c.arg == '\n')
		c.arg++;
	c.sender = sender;
	c.event_id = event_id;
	c.err = err;
	if (rate_limited(b, sender, &tell)) {
		struct sbuf sb;

		if (!tell)
			return 0;
		sbuf_init(&sb);
		sbuf_addf(&sb, "Rustig aan, %s: je geeft te veel opdrachten "
			  "achter elkaar. Ik voer je opdrachten over een paar "
			  "seconden weer uit; wat je tot dan typt, sla ik "
			  "over.", sender);
		rc = outbox_notice(b, r->id, event_id, "slow", sb.buf, err);
		sbuf_release(&sb);
		return rc;
	}
	c.def = command_find(cmd);
	if (!c.def) {
		struct sbuf sb;

		sbuf_init(&sb);
		sbuf_addf(&sb, "Die opdracht ken ik niet (!%s). Typ !hulp "
			  "voor wat ik kan.", cmd);
		rc = outbox_notice(b, r->id, event_id, "unknown", sb.buf, err);
		sbuf_release(&sb);
		return rc;
	}
	if (!c.def->named) {
		rc = allowed(b, r, sender, c.def->who, cmd, event_id, err);
		if (rc <= 0)
			return rc;
	}
	return c.def->run(b, &c);
}

/* --- events --- */

static int is_coach(struct bot *b, struct room *r, const char *user)
{
	return (room_roles(b, r, user) & (ROLE_COACH | ROLE_TRAINER)) != 0;
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
			outbox_receipt(b, r->id, eid);
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

/* After a batch's room events: leave the rooms that became empty. */
static int leave_empty_rooms(struct bot *b, struct err *err)
{
	size_t i = 0;

	while (i < b->nrooms) {
		if (!b->rooms[i].empty) {
			i++;
			continue;
		}
		if (leave_empty(b, &b->rooms[i], err) < 0)
			return -1;
	}
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
		/* our own join: say hello once (the txn makes it once) */
		if (!strcmp(ms, "join") && !b->initial && !r->ss &&
		    !r->practice) {
			const char *prev = ev->prev_membership;

			if (prev && !strcmp(prev, "join"))
				return 0;   /* a display-name change */
			return outbox_notice(b, r->id, eid, "hello", b->help,
					     err);
		}
		return 0;
	}
	members_update(r, who, ms);
	if (r->members)
		r->empty = humans(b, r->members) == 0;
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
		users = json_object();
		for (size_t i = 0; i < ev->npower; i++)
			json_object_set_new(users, ev->power[i].user,
				json_integer((json_int_t)ev->power[i].level));
		json_decref(r->power_users);
		r->power_users = users;
		text = json_dumps(users, JSON_COMPACT);
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

/* What an encrypted event decrypted to: only messages and reactions.
 * State is never taken from ciphertext (e2ee drops any state_key too),
 * so an encrypted "m.room.create" or "m.room.power_levels" cannot
 * change who created the room or who coaches. */
static int on_decrypted(struct bot *b, struct room *r,
			const struct mx_event *plain, struct err *err)
{
	const char *type = plain->type;

	if (plain->state_key || (strcmp(type, "m.room.message") &&
				 strcmp(type, "m.reaction")))
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

static int on_invite(struct bot *b, const struct mx_room *room,
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

static int on_ready(struct bot *b, struct err *err);

/* Answer the rooms that are due now, in the caller's transaction. */
static int answer_now(struct bot *b, struct err *err)
{
	int64_t now = mono_ms();

	for (size_t i = 0; i < b->nrooms; i++) {
		struct room *r = &b->rooms[i];

		if (r->answer_at && r->answer_at <= now &&
		    rehearsal_answer(b, r, err) < 0)
			return -1;
	}
	return 0;
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

static int joined_process(struct bot *b, const struct mx_room *mr,
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

static int process(struct bot *b, const struct mx_sync *s, struct err *err)
{
	if (store_outbox_done_many(b->st, b->sent, b->nsent, err) < 0)
		return -1;
	if (b->e2ee && e2ee_sync(b->e2ee, s, err) < 0)
		return -1;
	for (size_t i = 0; i < s->ninvite; i++)
		if (on_invite(b, &s->invite[i], err) < 0)
			return -1;
	for (size_t i = 0; i < s->njoin; i++)
		if (joined_process(b, &s->join[i], err) < 0)
			return -1;
	if (on_ready(b, err) < 0 || leave_empty_rooms(b, err) < 0)
		return -1;
	for (size_t i = 0; i < s->nleave; i++) {
		const char *rid = s->leave[i];
		struct room *r = room_find(b, rid);

		if (!r)
			continue;
		if (r->ss && !session_ended(r->ss) &&
		    session_stop(r->ss, err) < 0)
			return -1;
		if (room_forget(b, rid, err) < 0)
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
		outbox_names_truncate(b, nnames);
		room_reload(b);
		for (size_t i = 0; i < b->njoins; i++)
			free(b->joins[i]);
		b->njoins = 0;
		for (size_t i = 0; i < b->nreceipts; i++)
			free(b->receipts[i]);
		b->nreceipts = 0;
		outbox_cancels_apply(b, 0);
		return -1;
	}
	b->initial = 0;
	b->nsent = 0;
	outbox_cancels_apply(b, 1);
	for (size_t i = 0; i < b->njoins; i++) {
		mx_join(b->mx, b->joins[i], on_joined,
			room_call_new(b, b->joins[i]));
		free(b->joins[i]);
	}
	b->njoins = 0;
	outbox_flush(b);
	return 0;
}

static void on_sent(void *arg, uint64_t cookie, int ok, const char *event_id)
{
	(void)ok;
	(void)event_id;
	outbox_sent((struct bot *)arg, cookie);
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

static void on_joined(void *ctx, long status)
{
	struct room_call *c = ctx;

	if (status != MX_CANCELLED && status != 200)
		log_line("kamer %s binnengaan mislukt (HTTP %ld)", c->room,
			 status);
	room_call_free(c);
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

static void on_whoami(void *ctx, long status, const char *uid,
		      const char *dev)
{
	struct bot *b = ctx;
	struct err err;

	if (status == MX_CANCELLED)
		return;
	if (status != 200 || !uid || strcmp(uid, b->cfg->user_id)) {
		log_line("het access token hoort niet bij %s (HTTP %ld)",
			 b->cfg->user_id, status);
		b->fatal = 1;
		return;
	}
	if (store_meta_set(b->st, "device_id", dev ? dev : "", &err) < 0 ||
	    store_meta_set(b->st, "user_id", uid, &err) < 0)
		log_line("%s", err.msg);
	b->ready = 1;
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
	b->help = help_build();
	memset(&h, 0, sizeof(h));
	h.arg = b;
	h.on_sync = on_sync;
	h.on_sent = on_sent;
	h.on_login = on_login;
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
	wipe_free(b->pickle_key, b->pickle_keylen);
	mx_free(b->mx);
	for (size_t i = 0; i < b->nrooms; i++)
		room_release(&b->rooms[i]);
	free(b->rooms);
	free(b->joins);
	for (size_t i = 0; i < b->nreceipts; i++)
		free(b->receipts[i]);
	free(b->receipts);
	outbox_cancels_apply(b, 0);
	free(b->cancels);
	outbox_names_truncate(b, 0);
	free(b->names);
	free(b->sent);
	for (size_t i = 0; i < b->nrates; i++)
		free(b->rates[i].user);
	free(b->rates);
	free(b->help);
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
		mx_whoami(b->mx, on_whoami, b);
	} else {
		if (config_read_secret(b->cfg->password_file, &secret,
				       err) < 0)
			goto out;
		mx_login(b->mx, secret, b->cfg->device_name);
	}
	rc = 0;
out:
	if (secret)
		wipe_free(secret, strlen(secret));
	if (token)
		wipe_free(token, strlen(token));
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
		if (store_begin(b->st, &err) < 0 ||
		    rehearsal_answer(b, r, &err) < 0 ||
		    store_commit(b->st, &err) < 0) {
			log_line("antwoord in %s niet opgeslagen, later opnieuw: "
			      "%s", r->id, err.msg);
			store_rollback(b->st);
			outbox_names_truncate(b, nnames);
			room_reload(b);
			return 1000;
		}
	}
	outbox_flush(b);
	outbox_send_receipts(b);
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
		outbox_cancels_apply(b, 0);
		room_reload(b);
		return;
	}
	outbox_cancels_apply(b, 1);
	outbox_flush(b);
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
	room_reload(b);
	outbox_flush(b);
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
		next = outbox_sent_delete(b, stop_at != 0);
		if (next >= 0 && next < timeout)
			timeout = (int)next;
		if (mx_poll(b->mx, timeout, stop_at ? -1 : wake_fd) == 1) {
			char buf[64];

			while (read(wake_fd, buf, sizeof(buf)) > 0)
				;
		}
	}
	outbox_sent_delete(b, 1);
	if (mx_sends_pending(b->mx))
		log_line("%zu berichten nog niet verstuurd; ze gaan mee bij de "
		      "volgende start", mx_sends_pending(b->mx));
	free(since);
	return 0;
}
