/* cmd_play.c - rehearse a scenario in the terminal. stdin may be a pipe:
 * one trainee message per line. With --json every event is one JSON
 * object per line on stdout, and the same seed and input give the same
 * bytes (no clock, no session id). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <math.h>

#include "cli.h"
#include "model.h"
#include "session.h"

#define MAX_INPUT (1u << 20)   /* longest line read; longer is cut */

struct play {
	const struct catalog *c;
	const struct script *s;
	const char *name;        /* persona's name */
	struct session *ss;
	struct store *st;
	struct match m;
	struct engine_out out;
	int json;
	int tty;
	/* rubric moments of this rehearsal, for the closing summary */
	int *shown, *missed;
};

static json_t *event(const char *type)
{
	json_t *j = json_object();

	json_object_set_new(j, "type", json_string(type));
	return j;
}

static void notice(struct play *p, const char *text)
{
	if (p->json) {
		json_t *j = event("notice");

		json_object_set_new(j, "text", json_string(text));
		cli_json_line(stdout, j);
	} else {
		printf("[%s]\n", text);
	}
}

static void vars_object(struct play *p, json_t *j)
{
	const struct engine *e = session_engine(p->ss);
	json_t *v = json_object();

	for (size_t i = 0; i < p->s->nvars; i++)
		json_object_set_new(v, p->s->vars[i].name,
				    json_integer(engine_var(e, i)));
	json_object_set_new(j, "vars", v);
}

static void meter(int v, int max)
{
	for (int i = 0; i < max; i++)
		fputs(i < v ? "█" : "░", stdout);
	printf(" %d/%d", v, max);
}

static void show_stand(struct play *p)
{
	const struct engine *e = session_engine(p->ss);
	int vi = p->s->meter[METER_TRUST];
	int si = p->s->meter[METER_TENSION];

	if (p->json) {
		json_t *j = event("stand");

		json_object_set_new(j, "fase", json_string(
			p->s->nodes[engine_node(e)].name));
		vars_object(p, j);
		cli_json_line(stdout, j);
		return;
	}
	printf("[vertrouwen ");
	meter(engine_var(e, (size_t)vi), 10);
	printf("  spanning ");
	meter(engine_var(e, (size_t)si), 10);
	printf("  fase: %s  beurt: %d]\n",
	       p->s->nodes[engine_node(e)].name, engine_beurt(e));
}

/* Which intents fired, from which clause, by pattern or by model, with
 * what confidence: what the persona understood, explained. */
static json_t *hits_json(const struct match *m)
{
	const struct script *s = m->script;
	json_t *arr = json_array();
	struct sbuf sb;

	sbuf_init(&sb);
	for (size_t i = 0; s && i < s->nintents; i++) {
		json_t *h;
		uint32_t cl;

		if (!match_hit(m, (uint32_t)i))
			continue;
		cl = model_hit_clause(m, (uint32_t)i);
		sbuf_reset(&sb);
		model_clause_words(m, cl, &sb);
		h = json_object();
		json_object_set_new(h, "bedoeling", json_string(
			s->intents[i].name));
		json_object_set_new(h, "door", json_string(
			m->hit_how[i] == MATCH_BY_MODEL ? "model" : "patroon"));
		/* whole percents: --json stays byte-identical */
		json_object_set_new(h, "zekerheid", json_integer(
			lroundf(m->conf[i] * 100.0f)));
		json_object_set_new(h, "zinsdeel", json_integer(cl + 1));
		json_object_set_new(h, "tekst", json_string(sbuf_str(&sb)));
		json_array_append_new(arr, h);
	}
	sbuf_release(&sb);
	return arr;
}

static void show_turn(struct play *p, const char *text, int turn)
{
	const struct engine_out *o = &p->out;
	const struct engine *e = session_engine(p->ss);

	for (size_t i = 0; i < o->npoints; i++) {
		if (o->points[i].shown)
			p->shown[o->points[i].point]++;
		else
			p->missed[o->points[i].point]++;
	}
	if (p->json && turn) {
		json_t *j = event("turn");
		json_t *rules = json_array(), *pts = json_array();
		json_t *intents = json_array();

		json_object_set_new(j, "beurt", json_integer(engine_beurt(e)));
		json_object_set_new(j, "text", json_string(text));
		for (size_t i = 0; i < p->s->nintents; i++)
			if (match_hit(&p->m, (uint32_t)i))
				json_array_append_new(intents, json_string(
					p->s->intents[i].name));
		json_object_set_new(j, "intents", intents);
		json_object_set_new(j, "treffers", hits_json(&p->m));
		for (size_t i = 0; i < o->nrules; i++)
			json_array_append_new(rules, json_string(
				p->s->rules[o->rules[i]].name));
		json_object_set_new(j, "rules", rules);
		json_object_set_new(j, "from", json_string(
			p->s->nodes[o->from].name));
		json_object_set_new(j, "fase", json_string(
			p->s->nodes[o->node].name));
		json_object_set_new(j, "missed", json_boolean(o->missed));
		for (size_t i = 0; i < o->npoints; i++) {
			json_t *pt = json_object();

			json_object_set_new(pt, "punt", json_string(
				p->s->points[o->points[i].point].id));
			json_object_set_new(pt, "getoond",
					    json_boolean(o->points[i].shown));
			if (o->points[i].reason)
				json_object_set_new(pt, "reden", json_string(
					o->points[i].reason));
			json_array_append_new(pts, pt);
		}
		json_object_set_new(j, "punten", pts);
		if (o->ndoubts) {
			json_t *dv = json_array();

			for (size_t i = 0; i < o->ndoubts; i++) {
				json_t *pt = json_object();

				json_object_set_new(pt, "punt", json_string(
					p->s->points[o->doubts[i].point].id));
				json_object_set_new(pt, "getoond", json_boolean(
					o->doubts[i].shown));
				json_array_append_new(dv, pt);
			}
			json_object_set_new(j, "twijfel", dv);
		}
		vars_object(p, j);
		cli_json_line(stdout, j);
	}
	for (size_t i = 0; i < o->nmsgs; i++) {
		if (p->json) {
			json_t *j = event("persona");

			json_object_set_new(j, "name", json_string(p->name));
			json_object_set_new(j, "text",
					    json_string(o->msgs[i].buf));
			cli_json_line(stdout, j);
		} else {
			printf("%s: %s\n", p->name, o->msgs[i].buf);
		}
	}
}

static void show_end(struct play *p)
{
	const struct engine *e = session_engine(p->ss);
	const struct node *n = &p->s->nodes[engine_node(e)];
	int ended = engine_ended(e);

	if (p->json) {
		json_t *j = event("end");

		json_object_set_new(j, "ending", json_string(ended ? n->name :
							    "gestopt"));
		json_object_set_new(j, "kind", json_string(ended ?
			script_ending_kind_name(n->ending) : ""));
		if (ended && n->explain)
			json_object_set_new(j, "explain",
					    json_string(n->explain));
		vars_object(p, j);
		cli_json_line(stdout, j);
		return;
	}
	printf("\n── %s ──\n", !ended ? "Gestopt" :
	       n->ending == END_GOED ? "Einde: het gesprek is goed afgerond" :
	       n->ending == END_BREUK ? "Einde: het gesprek is vastgelopen" :
	       "Einde");
	if (ended && n->explain)
		printf("%s\n", n->explain);
	show_stand(p);
	printf("\nRubriek (getoond / gemist):\n");
	for (size_t i = 0; i < p->s->npoints; i++) {
		if (!p->shown[i] && !p->missed[i])
			continue;
		printf("  %-3d %-3d %s\n", p->shown[i], p->missed[i],
		       p->s->points[i].label);
	}
	printf("\nNabespreking: oefenkamer export %lld --format html "
	       "--output nabespreking.html\n",
	       (long long)session_id(p->ss));
}

/* Make a line safe to store and match: valid UTF-8 (invalid bytes become
 * U+FFFD) and no control characters. Returns 1 if anything changed. */
static int clean_line(char *in, size_t len, struct sbuf *out)
{
	int changed = 0;
	size_t i = 0;

	sbuf_reset(out);
	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f) {
				sbuf_addc(out, ' ');
				changed |= c != '\t';
			} else {
				sbuf_addc(out, (char)c);
			}
			i++;
			continue;
		}
		if (i + k <= len && utf8_valid(in + i, k)) {
			sbuf_add(out, in + i, k);
			i += k;
			continue;
		}
		sbuf_adds(out, "\xef\xbf\xbd");
		changed = 1;
		i++;
	}
	return changed;
}

static int handle_command(struct play *p, const char *line)
{
	if (strcmp(line, "/stop") == 0 || strcmp(line, "/einde") == 0)
		return 1;
	if (strcmp(line, "/stand") == 0) {
		show_stand(p);
		return 0;
	}
	if (strcmp(line, "/hulp") == 0 || strcmp(line, "/help") == 0) {
		notice(p, "Typ wat je tegen de persona zegt en druk op Enter. "
		       "/stand toont vertrouwen en spanning, /stop stopt de "
		       "oefening.");
		return 0;
	}
	notice(p, "Onbekende opdracht. Je kunt /stand, /stop of /hulp "
	       "gebruiken.");
	return 0;
}

static int choose(const struct catalog *c, const struct script **s)
{
	char buf[64];

	printf("Welk scenario wil je oefenen?\n\n");
	for (size_t i = 0; i < c->nscripts; i++)
		printf("  %zu. %s (%s)\n", i + 1, c->scripts[i]->title,
		       catalog_persona_name(c, c->scripts[i]));
	for (;;) {
		char *nl;

		printf("\nNummer: ");
		fflush(stdout);
		if (!fgets(buf, sizeof(buf), stdin))
			return -1;
		nl = strchr(buf, '\n');
		if (nl)
			*nl = '\0';
		*s = catalog_find(c, buf);
		if (*s)
			return 0;
		printf("Kies een nummer van 1 tot en met %zu.\n",
		       c->nscripts);
	}
}

static int rehearse(struct play *p)
{
	char *line = NULL;
	size_t cap = 0;
	struct sbuf clean;
	struct err err;
	int rc = 0;

	sbuf_init(&clean);
	for (;;) {
		ssize_t n;
		const char *text;

		if (p->tty && !p->json) {
			printf("jij> ");
			fflush(stdout);
		}
		n = getline(&line, &cap, stdin);
		if (n < 0)
			break;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if ((size_t)n > MAX_INPUT) {
			n = MAX_INPUT;
			notice(p, "Je bericht is langer dan 1 MB; de rest is "
			       "weggelaten.");
		}
		if (clean_line(line, (size_t)n, &clean))
			notice(p, "Je bericht bevatte onleesbare tekens of "
			       "stuurtekens; die zijn vervangen.");
		text = sbuf_str(&clean);
		while (*text == ' ' || *text == '\t')
			text++;
		if (!*text) {
			notice(p, "Leeg bericht: typ wat je wilt zeggen, of "
			       "/stop om te stoppen.");
			continue;
		}
		if (text[0] == '/') {
			if (handle_command(p, text))
				break;
			continue;
		}
		if (strlen(text) > SESSION_MATCH_MAX)
			notice(p, "Lang bericht: de persona reageert op de "
			       "eerste 16 kB, alles wordt bewaard.");
		if (!p->tty && !p->json)
			printf("jij> %s\n", text);
		if (session_message(p->ss, &p->m, text, strlen(text),
				    "terminal", &p->out, &err) < 0) {
			fprintf(stderr, "oefenkamer: %s\nDe oefening stopt; "
				"alles wat je zag is opgeslagen.\n", err.msg);
			rc = 1;
			break;
		}
		show_turn(p, text, 1);
		fflush(stdout);
		if (p->out.ended)
			break;
	}
	free(line);
	sbuf_release(&clean);
	if (rc == 0 && !session_ended(p->ss) &&
	    session_stop(p->ss, &err) < 0) {
		fprintf(stderr, "oefenkamer: %s\n", err.msg);
		rc = 1;
	}
	if (rc == 0)
		show_end(p);
	return rc;
}

int cmd_play(int argc, char **argv)
{
	struct catalog c;
	struct opts o;
	struct play p;
	struct err err;
	long seed = 0;
	int rc = 2;

	if (cli_opts(argc, argv, &o, "seed db json") < 0 || o.nargs > 1)
		return 2;
	if (o.seed && parse_long(o.seed, 0, 2147483647L, &seed) < 0) {
		fprintf(stderr, "oefenkamer: --seed verwacht een getal, niet "
			"'%s'\n", o.seed);
		return 2;
	}
	if (!o.seed)
		seed = (long)(now_ms() % 1000000);
	if (cli_catalog(&c, o.json))
		return 2;
	memset(&p, 0, sizeof(p));
	p.c = &c;
	p.json = o.json;
	p.tty = isatty(0);
	if (o.nargs) {
		p.s = catalog_find(&c, o.args[0]);
		if (!p.s) {
			fprintf(stderr, "oefenkamer: scenario '%s' bestaat "
				"niet; zie 'oefenkamer scenarios'\n",
				o.args[0]);
			goto out;
		}
	} else if (!p.tty || choose(&c, &p.s) < 0) {
		fprintf(stderr, "gebruik: oefenkamer play SCENARIO\n");
		goto out;
	}
	p.name = catalog_persona_name(&c, p.s);
	if (cli_store(o.db, &p.st) < 0) {
		rc = 1;
		goto out;
	}
	match_init(&p.m);
	engine_out_init(&p.out);
	p.shown = xcalloc(p.s->npoints + 1, sizeof(int));
	p.missed = xcalloc(p.s->npoints + 1, sizeof(int));
	if (session_begin(p.st, p.s, (uint64_t)seed, "terminal", NULL, &p.ss,
			  &p.out, &err) < 0) {
		fprintf(stderr, "oefenkamer: %s\n", err.msg);
		rc = 1;
		goto out;
	}
	if (p.json) {
		json_t *j = event("scene");

		json_object_set_new(j, "scenario", json_string(p.s->id));
		json_object_set_new(j, "title", json_string(p.s->title));
		json_object_set_new(j, "persona", json_string(p.s->persona));
		json_object_set_new(j, "name", json_string(p.name));
		json_object_set_new(j, "seed", json_integer(seed));
		json_object_set_new(j, "text", json_string(p.s->intro));
		vars_object(&p, j);
		cli_json_line(stdout, j);
	} else {
		printf("── %s ──\n%s\n\n(Typ je bericht en druk op Enter. "
		       "/stand toont de meters, /stop stopt.)\n\n",
		       p.s->title, p.s->intro);
	}
	show_turn(&p, NULL, 0);
	rc = rehearse(&p);
out:
	session_free(p.ss);
	if (p.st) {
		match_release(&p.m);
		engine_out_release(&p.out);
	}
	free(p.shown);
	free(p.missed);
	store_free(p.st);
	catalog_release(&c);
	return rc;
}
