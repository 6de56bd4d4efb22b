/* cli.c - what the commands share, and the small commands: scenarios and
 * graph. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "clause.h"
#include "mcache.h"
#include "export.h"

/* Is name one of the space-separated words of list? */
static int has_word(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (*list) {
		size_t k = strcspn(list, " ");

		if (k == n && strncmp(list, name, n) == 0)
			return 1;
		list += k;
		while (*list == ' ')
			list++;
	}
	return 0;
}

int cli_opts(int argc, char **argv, struct opts *o, const char *allowed)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		const char **dst = NULL;
		char name[32];
		const char *eq;
		size_t n;

		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (o->nargs >= (int)ARRAY_LEN(o->args)) {
				fprintf(stderr, "oefenkamer: te veel "
					"argumenten\n");
				return -1;
			}
			o->args[o->nargs++] = a;
			continue;
		}
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (n >= sizeof(name))
			goto unknown;
		memcpy(name, a + 2, n);
		name[n] = '\0';
		if (!has_word(allowed, name))
			goto unknown;
		if (strcmp(name, "json") == 0) {
			o->json = 1;
			continue;
		}
		if (strcmp(name, "alleen-patronen") == 0) {
			o->patterns_only = 1;
			continue;
		}
		if (strcmp(name, "beurten") == 0) {
			o->turns = 1;
			continue;
		}
		if (strcmp(name, "kruis") == 0) {
			o->cross = 1;
			continue;
		}
		if (strcmp(name, "ijking") == 0) {
			o->calib = 1;
			continue;
		}
		if (strcmp(name, "seed") == 0)
			dst = &o->seed;
		else if (strcmp(name, "db") == 0)
			dst = &o->db;
		else if (strcmp(name, "format") == 0)
			dst = &o->format;
		else if (strcmp(name, "output") == 0)
			dst = &o->output;
		else if (strcmp(name, "speed") == 0)
			dst = &o->speed;
		else if (strcmp(name, "transcripts") == 0)
			dst = &o->transcripts;
		else if (strcmp(name, "days") == 0)
			dst = &o->days;
		else if (strcmp(name, "config") == 0)
			dst = &o->config;
		else
			goto unknown;
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		if (!val) {
			fprintf(stderr, "oefenkamer: --%s heeft een waarde "
				"nodig\n", name);
			return -1;
		}
		*dst = val;
		continue;
unknown:
		fprintf(stderr, "oefenkamer %s: onbekende optie '%s'\n",
			argv[0], a);
		return -1;
	}
	return 0;
}

int cli_catalog(struct catalog *c, int quiet)
{
	char *sd = catalog_default_dir("scripts", "OEF_SCRIPTS");
	char *pd = catalog_default_dir("personas", "OEF_PERSONAS");
	char *cd = mcache_default_dir();
	struct diag d;

	diag_init(&d);
	catalog_load_cached(c, sd, pd, cd, &d);
	free(cd);
	if (!quiet)
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
	diag_release(&d);
	free(sd);
	free(pd);
	if (!c->nscripts) {
		fprintf(stderr, "oefenkamer: geen bruikbare scenario's "
			"gevonden\n");
		return 2;
	}
	return 0;
}

int cli_store(const char *db, struct store **st)
{
	const char *path = db ? db : getenv("OEF_DB");
	struct err err;

	if (!path || !*path)
		path = "oefenkamer.db";
	if (store_open(path, st, &err) < 0) {
		fprintf(stderr, "oefenkamer: %s\n", err.msg);
		return -1;
	}
	return 0;
}

void cli_json_line(FILE *f, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s) {
		fputs(s, f);
		fputc('\n', f);
		free(s);
	}
	json_decref(v);
}

struct export_point *cli_points(const struct script *s, size_t *n)
{
	struct export_point *v = xcalloc(s->npoints + 1, sizeof(*v));

	for (size_t i = 0; i < s->npoints; i++) {
		v[i].id = s->points[i].id;
		v[i].label = s->points[i].label;
	}
	*n = s->npoints;
	return v;
}

/* ------------------------------------------------------------ scenarios */

int cmd_scenarios(int argc, char **argv)
{
	struct catalog c;
	struct opts o;
	json_t *arr;

	if (cli_opts(argc, argv, &o, "json") < 0 || o.nargs)
		return 2;
	if (cli_catalog(&c, 0))
		return 2;
	arr = json_array();
	for (size_t i = 0; i < c.nscripts; i++) {
		const struct script *s = c.scripts[i];
		const struct persona *p = catalog_persona(&c, s);

		if (o.json) {
			json_t *j = json_object();

			json_object_set_new(j, "nummer",
					    json_integer((json_int_t)i + 1));
			json_object_set_new(j, "id", json_string(s->id));
			json_object_set_new(j, "titel", json_string(s->title));
			json_object_set_new(j, "persona",
					    json_string(s->persona));
			if (p) {
				json_object_set_new(j, "naam",
						    json_string(p->name));
				json_object_set_new(j, "rol", json_string(
					persona_role_name(p->role)));
				json_object_set_new(j, "leeftijd",
						    json_integer(p->age));
			}
			json_object_set_new(j, "moeilijkheid",
					    json_integer(s->difficulty));
			json_array_append_new(arr, j);
		} else {
			printf("%2zu  %-24s %-44s %-10s %s\n", i + 1, s->id,
			       s->title, p ? p->name : s->persona,
			       s->difficulty == 1 ? "instap" :
			       s->difficulty == 2 ? "gemiddeld" : "pittig");
		}
	}
	if (o.json)
		cli_json_line(stdout, arr);
	else
		json_decref(arr);
	catalog_release(&c);
	return 0;
}

/* ---------------------------------------------------------------- graph */

static void dot_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s == '\n' ? ' ' : *s);
	}
	putchar('"');
}

static void expr_text(const struct expr *e, struct sbuf *sb)
{
	static const char *ops[] = { "=", "!=", "<", "<=", ">", ">=" };

	switch (e->kind) {
	case EXPR_AND:
	case EXPR_OR:
		sbuf_addc(sb, '(');
		expr_text(e->a, sb);
		sbuf_adds(sb, e->kind == EXPR_AND ? " en " : " of ");
		expr_text(e->b, sb);
		sbuf_addc(sb, ')');
		break;
	case EXPR_NOT:
		sbuf_adds(sb, "niet ");
		expr_text(e->a, sb);
		break;
	case EXPR_INTENT:
		sbuf_adds(sb, e->name);
		for (unsigned a = 0, n = 0; a < MATCH_NACTS; a++)
			if ((unsigned)e->value >> a & 1u)
				sbuf_addf(sb, "%s%s", n++ ? ", " : " (",
					  clause_act_name(a));
		if (e->value)
			sbuf_addc(sb, ')');
		break;
	case EXPR_CMP:
		sbuf_addf(sb, "%s %s %d", e->name, ops[e->op], e->value);
		break;
	}
}

static void dot_edges(const struct script *s, const char *from,
		      const struct transition *t, size_t n, const char *pre,
		      const char *style)
{
	for (size_t i = 0; i < n; i++) {
		struct sbuf label;

		sbuf_init(&label);
		sbuf_adds(&label, pre ? pre : (t[i].kind == TRIG_ZODRA ?
				"zodra " : t[i].kind == TRIG_ANDERS ?
				"anders" : ""));
		if (t[i].cond)
			expr_text(t[i].cond, &label);
		for (size_t j = 0; j < t[i].acts.n; j++) {
			const struct action *a = &t[i].acts.v[j];

			if (a->kind != ACT_GOTO)
				continue;
			printf("  ");
			dot_str(from);
			printf(" -> ");
			dot_str(s->nodes[a->index].name);
			printf(" [label=");
			dot_str(sbuf_str(&label));
			printf("%s];\n", style);
		}
		sbuf_release(&label);
	}
}

int cmd_graph(int argc, char **argv)
{
	struct catalog c;
	struct opts o;
	const struct script *s;

	if (cli_opts(argc, argv, &o, "") < 0 || o.nargs != 1) {
		fprintf(stderr, "gebruik: oefenkamer graph SCENARIO\n");
		return 2;
	}
	if (cli_catalog(&c, 1))
		return 2;
	s = catalog_find(&c, o.args[0]);
	if (!s) {
		fprintf(stderr, "oefenkamer: scenario '%s' bestaat niet\n",
			o.args[0]);
		catalog_release(&c);
		return 2;
	}
	printf("digraph ");
	dot_str(s->id);
	printf(" {\n  label=");
	dot_str(s->title);
	printf(";\n  node [fontname=\"sans-serif\"];\n");
	printf("  edge [fontname=\"sans-serif\", fontsize=10];\n");
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct node *n = &s->nodes[i];

		printf("  ");
		dot_str(n->name);
		if (n->kind == NODE_FASE)
			printf(" [shape=box, style=rounded%s];\n",
			       i == s->start ? ", penwidth=2" : "");
		else
			printf(" [shape=doubleoctagon, style=filled, "
			       "fillcolor=%s];\n",
			       n->ending == END_GOED ? "palegreen" :
			       n->ending == END_BREUK ? "lightpink" :
			       "lightgrey");
	}
	for (size_t i = 0; i < s->nnodes; i++)
		dot_edges(s, s->nodes[i].name, s->nodes[i].trans,
			  s->nodes[i].ntrans, NULL, "");
	for (size_t i = 0; i < s->nnodes; i++)
		dot_edges(s, s->nodes[i].name, s->nodes[i].fallbacks,
			  s->nodes[i].nfallbacks, NULL, ", style=dotted");
	if (s->standaard) {
		printf("  \"(elke fase)\" [shape=plaintext];\n");
		dot_edges(s, "(elke fase)", s->standaard->trans,
			  s->standaard->ntrans, NULL, ", style=dashed");
		dot_edges(s, "(elke fase)", s->standaard->fallbacks,
			  s->standaard->nfallbacks, NULL,
			  ", style=dotted");
	}
	for (size_t i = 0; i < s->nrules; i++) {
		struct transition t;
		struct sbuf pre;

		t.kind = s->rules[i].kind;
		t.cond = s->rules[i].cond;
		t.acts = s->rules[i].acts;
		sbuf_init(&pre);
		sbuf_addf(&pre, "regel %s: ", s->rules[i].name);
		dot_edges(s, "(elke fase)", &t, 1, pre.buf, ", style=dashed");
		sbuf_release(&pre);
	}
	printf("}\n");
	catalog_release(&c);
	return 0;
}
