/* command.c - see command.h. */
#include "command.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coach.h"
#include "outbox.h"
#include "rehearsal.h"
#include "roles.h"
#include "room.h"
#include "session.h"
#include "store.h"

/* !hulp: the command table, grouped by who may use each command. */
char *command_help(void)
{
	const struct command *t;
	size_t n;
	unsigned group = 0;
	struct sbuf sb, who;

	sbuf_init(&sb);
	sbuf_init(&who);
	sbuf_adds(&sb, "Ik ben Oefenkamer: hier oefen je een gesprek over de "
		  "veiligheid van een kind met een gespeelde ouder of "
		  "jongere.");
	t = command_table(&n);
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

/* The roles a command is checked against: as room_roles, and between
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
		      const struct roles_power *pl, const struct room *r,
		      const char *bot)
{
	int any = 0;

	sbuf_addf(sb, "\n%s: ", label);
	for (size_t i = 0; i < n; i++) {
		sbuf_addf(sb, "%s%s", any ? ", " : "", v[i]);
		any = 1;
	}
	for (size_t i = 0; pl && i < pl->n; i++) {
		const char *user = pl->v[i].user;

		if (pl->v[i].level < ROLES_COACH_LEVEL ||
		    (r->creator && !strcmp(user, r->creator)) ||
		    !strcmp(user, bot))
			continue;
		sbuf_addf(sb, "%s%s (machtsniveau %lld)", any ? ", " : "",
			  user, pl->v[i].level);
		any = 1;
	}
	if (!any)
		sbuf_adds(sb, "niemand");
}

/* One command being handled. */
struct command_call {
	struct room *r;
	const char *name;          /* as typed, lower case */
	const char *arg;           /* the rest of the line, trimmed left */
	const char *sender;
	const char *event_id;
	const struct command *def;
	struct err *err;
};

static int cmd_scenarios(struct bot *b, struct command_call *c)
{
	struct sbuf sb;
	int rc;

	sbuf_init(&sb);
	scenarios_text(b, &sb);
	rc = outbox_notice(b, c->r->id, c->event_id, "list", sb.buf, c->err);
	sbuf_release(&sb);
	return rc;
}

static int cmd_help(struct bot *b, struct command_call *c)
{
	return outbox_notice(b, c->r->id, c->event_id, "help", b->help, c->err);
}

static int cmd_start(struct bot *b, struct command_call *c)
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

static int cmd_stop(struct bot *b, struct command_call *c)
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

static int cmd_again(struct bot *b, struct command_call *c)
{
	return rehearsal_again(b, c->r, c->sender, c->event_id, c->err);
}

static int cmd_stand(struct bot *b, struct command_call *c)
{
	struct room *r = c->r;
	struct sbuf body, html;
	int rc;

	if (!r->ss)
		return outbox_notice(b, r->id, c->event_id, "stand",
				     "Er loopt nu geen oefening.", c->err);
	sbuf_init(&body);
	sbuf_init(&html);
	rehearsal_stand_full(b, r, &body, &html);
	rc = outbox_notice_html(b, r->id, c->event_id, "stand", body.buf,
				html.buf, c->err);
	sbuf_release(&body);
	sbuf_release(&html);
	return rc;
}

static int cmd_debrief(struct bot *b, struct command_call *c)
{
	struct room *r = c->r;
	int64_t sid = r->ss ? session_id(r->ss) : r->last_session;
	const struct script *sc = r->ss ? session_script(r->ss) : NULL;

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
	return rehearsal_post_debrief(b, r, sid, sc, c->event_id, c->err);
}

static int cmd_roles(struct bot *b, struct command_call *c)
{
	struct room *r = c->r;
	struct sbuf sb;
	int rc;

	sbuf_init(&sb);
	sbuf_addf(&sb, "Trainee: %s", r->ss && r->trainee ? r->trainee :
		  "niemand (er loopt geen oefening)");
	list_role(&sb, "Coaches", b->cfg->coaches, b->cfg->ncoaches,
		  r->power, r, b->cfg->user_id);
	list_role(&sb, "Trainers", b->cfg->trainers, b->cfg->ntrainers, NULL,
		  r, b->cfg->user_id);
	rc = outbox_notice(b, r->id, c->event_id, "roles", sb.buf, c->err);
	sbuf_release(&sb);
	return rc;
}

static int cmd_replay(struct bot *b, struct command_call *c)
{
	return coach_replay(b, c->r, c->sender, c->arg, c->event_id,
			    c->def->who, c->err);
}

static int cmd_pause(struct bot *b, struct command_call *c)
{
	return coach_pause(b, c->r, c->event_id, c->err);
}

static int cmd_resume(struct bot *b, struct command_call *c)
{
	return coach_resume(b, c->r, c->event_id, c->err);
}

static int cmd_tip(struct bot *b, struct command_call *c)
{
	return coach_tip(b, c->r, c->sender, c->arg, c->event_id, c->err);
}

static int cmd_say(struct bot *b, struct command_call *c)
{
	return coach_say(b, c->r, c->sender, c->arg, c->event_id, c->err);
}

static int cmd_end(struct bot *b, struct command_call *c)
{
	return rehearsal_end(b, c->r, c->event_id, c->err);
}

static int cmd_coachroom(struct bot *b, struct command_call *c)
{
	return coach_side_room(b, c->r, c->sender, c->event_id, c->err);
}

#define ANYONE ROLE_ANYONE
#define PART (ROLE_TRAINEE | ROLE_COACH | ROLE_TRAINER)
#define COACHES (ROLE_COACH | ROLE_TRAINER)

/* Grouped by who (!hulp lists them in this order); README.md's command
 * table says the same (tests/unit/test_bot.c checks that). */
static const struct command commands[] = {
	{ "oefeningen", "scenarios scenario's", ANYONE, 0, 0, cmd_scenarios,
	  "!oefeningen", "welke oefeningen er zijn" },
	{ "start", NULL, ANYONE, 0, 0, cmd_start, "!start <nummer>",
	  "begin een oefening (jij bent de professional)" },
	{ "rollen", NULL, ANYONE, 0, 0, cmd_roles, "!rollen",
	  "wie is hier trainee, coach of trainer" },
	{ "hulp", "help", ANYONE, 0, 0, cmd_help, "!hulp", "dit overzicht" },
	{ "stop", NULL, PART, 0, 0, cmd_stop, "!stop",
	  "stop en krijg een korte nabespreking (loopt er een terugblik, "
	  "dan stopt die)" },
	{ "opnieuw", NULL, PART, 0, 0, cmd_again, "!opnieuw",
	  "begin dezelfde oefening opnieuw" },
	{ "stand", NULL, PART, 0, 0, cmd_stand, "!stand",
	  "hoe staan vertrouwen en spanning ervoor" },
	{ "nabespreking", NULL, PART, 0, 0, cmd_debrief, "!nabespreking",
	  "de nabespreking (nog een keer), met de hele nabespreking "
	  "als bestand erbij" },
	{ "terugkijken", NULL, PART, 1, 0, cmd_replay,
	  "!terugkijken <sessie> [snelheid]",
	  "een oefening terugkijken (de trainee van die sessie, een coach "
	  "die meedeed of een trainer)" },
	{ "pauze", NULL, COACHES, 0, 1, cmd_pause, "!pauze",
	  "de persona wacht even" },
	{ "verder", NULL, COACHES, 0, 1, cmd_resume, "!verder",
	  "de persona gaat verder" },
	{ "tip", NULL, COACHES, 0, 1, cmd_tip, "!tip <tekst>",
	  "een hint voor de trainee" },
	{ "zeg", NULL, COACHES, 0, 1, cmd_say, "!zeg <tekst>",
	  "de persona zegt dit" },
	{ "einde", NULL, COACHES, 0, 1, cmd_end, "!einde",
	  "beëindig de oefening, met de nabespreking" },
	{ "coachkamer", NULL, COACHES, 0, 1, cmd_coachroom, "!coachkamer",
	  "een kamer waar je live meekijkt" },
};

#undef ANYONE
#undef PART
#undef COACHES

const struct command *command_table(size_t *n)
{
	*n = ARRAY_LEN(commands);
	return commands;
}

static const struct command *command_find(const char *name)
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
 * command moves tat on by COMMAND_EVERY_MS; more than the burst ahead of
 * now is too many). Returns 1 when sender must wait; *tell is set the
 * first time since the allowance was last whole. */
static int rate_limited(struct bot *b, const char *sender, int *tell)
{
	int64_t now = mono_ms();
	int64_t ahead = (int64_t)(COMMAND_BURST - 1) * COMMAND_EVERY_MS;
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
	x->tat += COMMAND_EVERY_MS;
	return 0;
}

int command_run(struct bot *b, struct room *r, const char *sender,
		const char *body, const char *event_id, struct err *err)
{
	char cmd[32];
	size_t n = strcspn(body + 1, " \t\n");
	struct command_call c;
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
	if (c.def->running && !r->ss)
		return outbox_notice(b, r->id, event_id, "none", "Er loopt nu "
				     "geen oefening.", err);
	return c.def->run(b, &c);
}
