/* corpus.c - see corpus.h; the format is tests/corpus/README.md. */
#include "corpus.h"

#include <stdlib.h>
#include <string.h>


static const char *const style_names[CORPUS_NSTYLES] = {
	"vaardig", "gewoon", "zwak", "anders"
};

const char *corpus_style_name(enum corpus_style st)
{
	return (unsigned)st < CORPUS_NSTYLES ? style_names[st] : "?";
}

/* Which label lines the current turn has had. */
enum { HAVE_INTENTS = 1, HAVE_METERS = 2, HAVE_POINTS = 4, HAVE_ALL = 7 };

struct parse {
	struct corpus *c;
	struct diag *d;
	unsigned have;           /* of the last turn */
	int in_turn;
	size_t errors;
};

static struct loc at(const struct parse *p, int line, int col)
{
	struct loc l = { p->c->path, line, col };

	return l;
}

static void problem(struct parse *p, int line, int col, const char *msg,
		    const char *arg)
{
	struct loc l = at(p, line, col);

	diag_add(p->d, &l, msg, arg ? arg : "");
	p->errors++;
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* The next space-separated word of *s, NUL-terminated in place; its
 * column in *col. NULL when the line is done. */
static char *next_word(char **s, const char *line0, int *col)
{
	char *w = *s;

	while (is_space(*w))
		w++;
	if (!*w)
		return NULL;
	*col = (int)(w - line0) + 1;
	*s = w;
	while (**s && !is_space(**s))
		(*s)++;
	if (**s)
		*(*s)++ = '\0';
	return w;
}

/* End of the previous turn: all three label lines are required. */
static void close_turn(struct parse *p)
{
	const struct corpus_turn *t;

	if (!p->in_turn)
		return;
	t = &p->c->turns[p->c->nturns - 1];
	if (p->have != HAVE_ALL)
		problem(p, t->loc.line, 1, "dit bericht mist %s",
			!(p->have & HAVE_INTENTS) ? "'bedoelingen:'" :
			!(p->have & HAVE_METERS) ? "'meters:'" :
			"'rubriek:'");
	p->in_turn = 0;
}

static void parse_gesprek(struct parse *p, char *rest, char *line0,
			  int lineno)
{
	struct corpus *c = p->c;
	struct corpus_conv *cv;
	char *id, *style, *extra;
	int idcol = 1, stcol = 1, excol = 1;
	int st = -1;

	close_turn(p);
	id = next_word(&rest, line0, &idcol);
	style = next_word(&rest, line0, &stcol);
	extra = next_word(&rest, line0, &excol);
	if (!id || !style || extra) {
		problem(p, lineno, 1, "verwacht 'gesprek ID STIJL'%s", NULL);
		return;
	}
	for (int i = 0; i < CORPUS_NSTYLES; i++)
		if (strcmp(style, style_names[i]) == 0)
			st = i;
	if (st < 0) {
		problem(p, lineno, stcol, "onbekende stijl '%s' (vaardig, "
			"gewoon, zwak of anders)", style);
		return;
	}
	for (size_t i = 0; i < c->nconvs; i++)
		if (strcmp(c->convs[i].id, id) == 0) {
			problem(p, lineno, idcol, "gesprek '%s' staat al "
				"eerder in dit bestand", id);
			return;
		}
	XGROW(c->convs, c->convs_cap, c->nconvs + 1);
	cv = &c->convs[c->nconvs++];
	memset(cv, 0, sizeof(*cv));
	cv->id = xstrdup(id);
	cv->style = (enum corpus_style)st;
	cv->first = c->nturns;
	cv->loc = at(p, lineno, 1);
}

static void parse_message(struct parse *p, const char *text, int lineno)
{
	struct corpus *c = p->c;
	struct corpus_turn *t;
	struct sbuf sb;

	close_turn(p);
	if (!c->nconvs) {
		problem(p, lineno, 1, "een bericht hoort onder 'gesprek ID "
			"STIJL'%s", NULL);
		return;
	}
	while (is_space(*text))
		text++;
	if (!*text) {
		problem(p, lineno, 2, "leeg bericht%s", NULL);
		return;
	}
	sbuf_init(&sb);
	for (const char *s = text; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			sbuf_addc(&sb, '\n');
			s++;
		} else {
			sbuf_addc(&sb, *s);
		}
	}
	XGROW(c->turns, c->turns_cap, c->nturns + 1);
	t = &c->turns[c->nturns++];
	memset(t, 0, sizeof(*t));
	t->text = sbuf_detach(&sb);
	t->loc = at(p, lineno, 1);
	c->convs[c->nconvs - 1].nturns++;
	p->in_turn = 1;
	p->have = 0;
}

static void parse_intents(struct parse *p, struct corpus_turn *t,
			  char *rest, char *line0, int lineno)
{
	char *w;
	int col = 1;
	size_t cap = 0, lcap = 0;
	int none = 0;

	for (w = next_word(&rest, line0, &col); w;
	     w = next_word(&rest, line0, &col)) {
		if (strcmp(w, "-") == 0) {
			none = 1;
			continue;
		}
		for (size_t i = 0; i < t->nintents; i++)
			if (strcmp(t->intents[i], w) == 0) {
				problem(p, lineno, col, "bedoeling '%s' staat "
					"er twee keer", w);
				goto next;
			}
		XGROW(t->intents, cap, t->nintents + 1);
		XGROW(t->intent_locs, lcap, t->nintents + 1);
		t->intent_locs[t->nintents] = at(p, lineno, col);
		t->intents[t->nintents++] = xstrdup(w);
next:;
	}
	if (none == !!t->nintents)
		problem(p, lineno, 1, "'bedoelingen:' noemt namen of alleen "
			"'-'%s", NULL);
}

static void parse_meters(struct parse *p, struct corpus_turn *t,
			 char *rest, char *line0, int lineno)
{
	char *name, *dir;
	int col = 1, dcol = 1;
	size_t cap = 0;

	for (name = next_word(&rest, line0, &col); name;
	     name = next_word(&rest, line0, &col)) {
		struct corpus_meter *m;
		enum corpus_dir d;

		dir = next_word(&rest, line0, &dcol);
		if (!dir || dir[1]) {
			problem(p, lineno, col, "na meter '%s' hoort +, -, = "
				"of ?", name);
			return;
		}
		switch (dir[0]) {
		case '+': d = DIR_UP; break;
		case '-': d = DIR_DOWN; break;
		case '=': d = DIR_SAME; break;
		case '?': d = DIR_UNKNOWN; break;
		default:
			problem(p, lineno, dcol, "richting '%s': gebruik +, -, "
				"= of ?", dir);
			return;
		}
		XGROW(t->meters, cap, t->nmeters + 1);
		m = &t->meters[t->nmeters++];
		m->name = xstrdup(name);
		m->dir = d;
		m->var = 0;
		m->loc = at(p, lineno, col);
	}
}

static void parse_points(struct parse *p, struct corpus_turn *t,
			 char *rest, char *line0, int lineno)
{
	char *w;
	int col = 1, none = 0;
	size_t cap = 0;

	for (w = next_word(&rest, line0, &col); w;
	     w = next_word(&rest, line0, &col)) {
		struct corpus_point *pt;

		if (strcmp(w, "-") == 0) {
			none = 1;
			continue;
		}
		if ((w[0] != '+' && w[0] != '-') || !w[1]) {
			problem(p, lineno, col, "rubriekmoment '%s': schrijf "
				"+id of -id", w);
			continue;
		}
		XGROW(t->points, cap, t->npoints + 1);
		pt = &t->points[t->npoints++];
		pt->id = xstrdup(w + 1);
		pt->shown = w[0] == '+';
		pt->point = 0;
		pt->loc = at(p, lineno, col + 1);
	}
	if (none == !!t->npoints)
		problem(p, lineno, 1, "'rubriek:' noemt +id/-id of alleen "
			"'-'%s", NULL);
}

static void parse_label(struct parse *p, char *s, char *line0, int lineno)
{
	static const struct {
		const char *kw;
		unsigned bit;
	} kws[] = {
		{ "bedoelingen:", HAVE_INTENTS },
		{ "meters:", HAVE_METERS },
		{ "rubriek:", HAVE_POINTS },
	};
	struct corpus_turn *t;

	for (size_t i = 0; i < ARRAY_LEN(kws); i++) {
		size_t n = strlen(kws[i].kw);

		if (strncmp(s, kws[i].kw, n) != 0)
			continue;
		if (!p->in_turn) {
			problem(p, lineno, (int)(s - line0) + 1, "'%s' hoort "
				"onder een bericht ('> …')", kws[i].kw);
			return;
		}
		if (p->have & kws[i].bit) {
			problem(p, lineno, (int)(s - line0) + 1, "'%s' staat "
				"er al bij dit bericht", kws[i].kw);
			return;
		}
		p->have |= kws[i].bit;
		t = &p->c->turns[p->c->nturns - 1];
		if (kws[i].bit == HAVE_INTENTS)
			parse_intents(p, t, s + n, line0, lineno);
		else if (kws[i].bit == HAVE_METERS)
			parse_meters(p, t, s + n, line0, lineno);
		else
			parse_points(p, t, s + n, line0, lineno);
		return;
	}
	problem(p, lineno, (int)(s - line0) + 1, "onbekende regel; verwacht "
		"'gesprek', '>', 'bedoelingen:', 'meters:' of 'rubriek:'%s",
		NULL);
}

int corpus_parse(struct corpus *c, const char *name, const char *text,
		 size_t len, struct diag *d)
{
	struct parse p;
	size_t pos = 0;
	int lineno = 0;
	char *line = NULL;

	memset(c, 0, sizeof(*c));
	memset(&p, 0, sizeof(p));
	c->path = xstrdup(name);
	p.c = c;
	p.d = d;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;
		char *s;

		lineno++;
		free(line);
		line = NULL;
		if (memchr(text + pos, '\0', n)) {
			pos += n + (nl ? 1 : 0);
			problem(&p, lineno, 1, "NUL-teken in de regel%s", NULL);
			continue;
		}
		line = xstrndup(text + pos, n);
		pos += n + (nl ? 1 : 0);
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (!utf8_valid(line, strlen(line))) {
			problem(&p, lineno, 1, "geen geldige UTF-8%s", NULL);
			continue;
		}
		s = line;
		while (is_space(*s))
			s++;
		if (!*s || *s == '#')
			continue;
		if (strncmp(s, "gesprek", 7) == 0 && (is_space(s[7]) ||
						      !s[7]))
			parse_gesprek(&p, s + 7, line, lineno);
		else if (*s == '>')
			parse_message(&p, s + 1, lineno);
		else
			parse_label(&p, s, line, lineno);
	}
	free(line);
	close_turn(&p);
	for (size_t i = 0; i < c->nconvs; i++)
		if (!c->convs[i].nturns)
			problem(&p, c->convs[i].loc.line, 1, "gesprek '%s' "
				"heeft geen berichten", c->convs[i].id);
	return p.errors ? -1 : 0;
}

int corpus_load(struct corpus *c, const char *path, struct diag *d)
{
	struct err err;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (read_file(path, CORPUS_MAX_FILE, &text, &len, &err) < 0) {
		memset(c, 0, sizeof(*c));
		c->path = xstrdup(path);
		diag_add(d, NULL, "%s", err.msg);
		return -1;
	}
	rc = corpus_parse(c, path, text, len, d);
	free(text);
	return rc;
}

int corpus_resolve(struct corpus *c, const struct script *s,
		   struct diag *d)
{
	size_t errors = 0;

	for (size_t i = 0; i < c->nturns; i++) {
		struct corpus_turn *t = &c->turns[i];

		free(t->intent_ix);
		t->intent_ix = xcalloc(t->nintents + 1, sizeof(uint32_t));
		for (size_t j = 0; j < t->nintents; j++) {
			int k = script_find_intent(s, t->intents[j]);

			if (k < 0) {
				diag_add(d, &t->intent_locs[j], "onbekende "
					 "bedoeling '%s' in scenario '%s'",
					 t->intents[j], s->id ? s->id : "");
				errors++;
				continue;
			}
			t->intent_ix[j] = (uint32_t)k;
		}
		for (size_t j = 0; j < t->nmeters; j++) {
			struct corpus_meter *m = &t->meters[j];
			int k = script_find_var(s, m->name);

			if (k < 0) {
				diag_add(d, &m->loc, "onbekende meter '%s'",
					 m->name);
				errors++;
				continue;
			}
			m->var = (uint32_t)k;
		}
		for (size_t j = 0; j < t->npoints; j++) {
			struct corpus_point *pt = &t->points[j];
			int k = script_find_point(s, pt->id);

			if (k < 0) {
				diag_add(d, &pt->loc, "onbekend rubriekpunt "
					 "'%s'", pt->id);
				errors++;
				continue;
			}
			pt->point = (uint32_t)k;
		}
	}
	return errors ? -1 : 0;
}

void corpus_release(struct corpus *c)
{
	for (size_t i = 0; i < c->nturns; i++) {
		struct corpus_turn *t = &c->turns[i];

		free(t->text);
		for (size_t j = 0; j < t->nintents; j++)
			free(t->intents[j]);
		free(t->intents);
		free(t->intent_locs);
		free(t->intent_ix);
		for (size_t j = 0; j < t->nmeters; j++)
			free(t->meters[j].name);
		free(t->meters);
		for (size_t j = 0; j < t->npoints; j++)
			free(t->points[j].id);
		free(t->points);
	}
	free(c->turns);
	for (size_t i = 0; i < c->nconvs; i++)
		free(c->convs[i].id);
	free(c->convs);
	free(c->path);
	memset(c, 0, sizeof(*c));
}
