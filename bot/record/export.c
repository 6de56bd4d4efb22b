/* export.c - see export.h
 *
 * The document is built in memory and written with one fwrite, so a
 * failed export never leaves half a page behind a success code. Every
 * string from the store is treated as untrusted: invalid UTF-8 becomes
 * U+FFFD and each format escapes what its readers would interpret.
 */
#include "export.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#define QUOTE_CHARS 200          /* characters quoted from a message */
#define ROOM_QUOTE_CHARS 90      /* the same in the short text debrief */

/* Chart geometry (SVG user units): values 0..10 map to PLOT_H pixels. */
#define SVG_W 600
#define SVG_H 290
#define PLOT_L 40
#define PLOT_T 20
#define PLOT_W 520
#define PLOT_H 200
#define MAX_XLABELS 20

int export_format_parse(const char *s, enum export_format *out)
{
	static const struct {
		const char *name;
		enum export_format fmt;
	} names[] = {
		{ "html", EXPORT_HTML },
		{ "md", EXPORT_MD },
		{ "markdown", EXPORT_MD },
		{ "json", EXPORT_JSON },
		{ "text", EXPORT_TEXT },
	};

	for (size_t i = 0; s && i < ARRAY_LEN(names); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].fmt;
			return 0;
		}
	}
	return -1;
}

/* ---- text helpers ---- */

/* Markdown text: nl replaces each newline ("  \n> " inside a quote, " "
 * in a table cell). Punctuation that Markdown would read as markup is
 * backslash-escaped, and so are list or heading markers at a line start. */
static void md_add(struct sbuf *sb, const char *s, const char *nl)
{
	size_t n = strlen(s), i = 0;
	int bol = 1;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80) {
			i += utf8_add_char(sb, s + i, n - i);
			bol = 0;
			continue;
		}
		if (bol) {
			size_t d = i;

			while (d < n && s[d] >= '0' && s[d] <= '9')
				d++;
			if (d > i && d < n && (s[d] == '.' || s[d] == ')')) {
				sbuf_add(sb, s + i, d - i);
				sbuf_addc(sb, '\\');
				sbuf_addc(sb, s[d]);
				i = d + 1;
				bol = 0;
				continue;
			}
			if (c == '-' || c == '+' || c == '=')
				sbuf_addc(sb, '\\');
		}
		bol = 0;
		i++;
		if (c == '\n') {
			sbuf_adds(sb, nl);
			bol = 1;
		} else if (strchr("\\`*_[]<>|#~&!", c)) {
			sbuf_addc(sb, '\\');
			sbuf_addc(sb, (char)c);
		} else if (c == '\t') {
			sbuf_addc(sb, ' ');
		} else if (c >= 0x20 && c != 0x7f) {
			sbuf_addc(sb, (char)c);
		}
	}
}

/* A number for SVG coordinates: no trailing ".0". */
static void add_num(struct sbuf *sb, double v)
{
	if (v == floor(v) && fabs(v) < 1e9)
		sbuf_addf(sb, "%.0f", v);
	else
		sbuf_addf(sb, "%.1f", v);
}

/* ---- time ---- */

static const char *const months[12] = {
	"januari", "februari", "maart", "april", "mei", "juni", "juli",
	"augustus", "september", "oktober", "november", "december"
};
static const char *const weekdays[7] = {
	"zondag", "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag",
	"zaterdag"
};

static int local_tm(int64_t ms, struct tm *tm)
{
	time_t t = (time_t)(ms / 1000);

	return localtime_r(&t, tm) ? 0 : -1;
}

/* "zaterdag 28 november 2026, 13:46" in local time. */
static void add_date(struct sbuf *sb, int64_t ms)
{
	struct tm tm;

	if (local_tm(ms, &tm) < 0 || tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    tm.tm_wday < 0 || tm.tm_wday > 6) {
		sbuf_adds(sb, "onbekend");
		return;
	}
	sbuf_addf(sb, "%s %d %s %d, %02d:%02d", weekdays[tm.tm_wday],
		  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
		  tm.tm_hour, tm.tm_min);
}

static void add_clock(struct sbuf *sb, int64_t ms)
{
	struct tm tm;

	if (local_tm(ms, &tm) < 0)
		sbuf_adds(sb, "--:--:--");
	else
		sbuf_addf(sb, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min,
			  tm.tm_sec);
}

static void add_span(struct sbuf *sb, int64_t ms)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;

	if (s >= 3600)
		sbuf_addf(sb, "%lld uur %lld min", (long long)(s / 3600),
			  (long long)(s % 3600 / 60));
	else if (s >= 60 && s % 60 == 0)
		sbuf_addf(sb, "%lld min", (long long)(s / 60));
	else if (s >= 60)
		sbuf_addf(sb, "%lld min %lld s", (long long)(s / 60),
			  (long long)(s % 60));
	else
		sbuf_addf(sb, "%lld s", (long long)s);
}

static void add_duration(struct sbuf *sb, const struct export_doc *d)
{
	if (d->s.ended_ms > 0) {
		add_span(sb, d->s.ended_ms - d->s.started_ms);
	} else if (d->nturns) {
		add_span(sb, d->turns[d->nturns - 1].ts_ms - d->s.started_ms);
		sbuf_adds(sb, " tot het laatste bericht");
	} else {
		sbuf_adds(sb, "onbekend");
	}
}

/* ---- what the document says ---- */

static const char *ending_label(const char *kind)
{
	if (kind && strcmp(kind, "goed") == 0)
		return "goed einde";
	if (kind && strcmp(kind, "breuk") == 0)
		return "gesprek afgebroken";
	if (kind && strcmp(kind, "neutraal") == 0)
		return "neutraal einde";
	return "niet afgerond";
}

static const char *doc_title(const struct export_doc *d)
{
	if (d->s.title && *d->s.title)
		return d->s.title;
	return d->s.scenario ? d->s.scenario : "gesprek";
}

/* Who spoke, as the reader knows them. */
static const char *speaker_name(const struct export_doc *d,
				const struct store_turn *t)
{
	if (strcmp(t->speaker, STORE_TRAINEE) == 0)
		return "Trainee";
	if (strcmp(t->speaker, STORE_PERSONA) == 0)
		return d->persona;
	if (strcmp(t->speaker, STORE_NOTICE) == 0)
		return "Oefenkamer";
	if (strcmp(t->speaker, STORE_COACH) == 0)
		return "Coach";
	return t->author ? t->author : "Iemand anders";
}

static const char *note_kind(const char *kind)
{
	if (!kind || strcmp(kind, "note") == 0)
		return "Notitie";
	if (strcmp(kind, "reaction") == 0)
		return "Reactie";
	if (strcmp(kind, "tip") == 0)
		return "Tip";
	return kind;
}

const struct store_turn *export_doc_turn(const struct export_doc *d,
					 int seq)
{
	size_t lo = 0, hi = d->nturns;

	/* turns come ordered by seq */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->turns[mid].seq == seq)
			return &d->turns[mid];
		if (d->turns[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int note_has_turn(const struct export_doc *d,
			 const struct store_annotation *a)
{
	return export_doc_turn(d, a->turn_seq) != NULL;
}

/* The fired rules of a turn, "a, b", or NULL. Caller frees. */
static char *rules_dup(const struct store_turn *t)
{
	struct sbuf sb;
	json_t *arr;
	size_t i;
	json_t *v;

	if (!t->rules_json)
		return NULL;
	arr = json_loads(t->rules_json, 0, NULL);
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		json_decref(arr);
		return NULL;
	}
	sbuf_init(&sb);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			continue;
		if (sb.len)
			sbuf_adds(&sb, ", ");
		sbuf_adds(&sb, json_string_value(v));
	}
	json_decref(arr);
	if (!sb.len) {
		sbuf_release(&sb);
		return NULL;
	}
	return sbuf_detach(&sb);
}

/* The meters per beurt: the last stored values of each, from the
 * opening (beurt 0, the starting values) on; and the trainee turns,
 * counted as beurten (several messages answered at once are one). */
static void steps_build(struct export_doc *d)
{
	size_t cap = 0;
	int last = 0;

	for (size_t i = 0; i < d->nturns; i++) {
		const struct store_turn *t = &d->turns[i];
		struct export_step p = { .beurt = t->beurt };
		json_t *o;
		int any = 0;

		if (strcmp(t->speaker, STORE_TRAINEE) == 0 && t->beurt > last) {
			d->beurten++;
			last = t->beurt;
		}
		if (!t->vars_json)
			continue;
		o = json_loads(t->vars_json, 0, NULL);
		for (int k = 0; json_is_object(o) && k < NMETERS; k++) {
			json_t *v = json_object_get(o, script_meter_name[k]);

			if (!json_is_number(v))
				continue;
			p.v[k] = fmin(10.0, fmax(0.0, json_number_value(v)));
			p.has[k] = 1;
			any = 1;
		}
		json_decref(o);
		if (!any)
			continue;
		if (d->nsteps && d->steps[d->nsteps - 1].beurt == p.beurt) {
			d->steps[d->nsteps - 1] = p;
			continue;
		}
		XGROW(d->steps, cap, d->nsteps + 1);
		d->steps[d->nsteps++] = p;
	}
}

static struct export_doc_point *point_add(struct export_doc *d,
					  size_t *cap, const char *id,
					  const char *label)
{
	struct export_doc_point *p;

	XGROW(d->points, *cap, d->npoints + 1);
	p = &d->points[d->npoints++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->label = label;
	return p;
}

/* A rubric point's moments, shown ones first, each in turn order. */
static void moments_build(struct export_doc *d, struct export_doc_point *p)
{
	size_t n = 0;

	for (size_t j = 0; j < d->nrubric; j++) {
		if (strcmp(d->rubric[j].point, p->id) != 0)
			continue;
		if (d->rubric[j].shown)
			p->shown++;
		else
			p->missed++;
	}
	p->moments = xcalloc((size_t)(p->shown + p->missed) + 1,
			     sizeof(*p->moments));
	for (int want = 1; want >= 0; want--) {
		for (size_t j = 0; j < d->nrubric; j++) {
			const struct store_rubric *r = &d->rubric[j];
			struct export_moment *m = &p->moments[n];

			if (r->shown != want || strcmp(r->point, p->id) != 0)
				continue;
			m->r = r;
			m->turn = export_doc_turn(d, r->turn_seq);
			n++;
		}
	}
}

/* A point without moments: where the engine was in doubt. */
static void doubts_build(struct export_doc *d, struct export_doc_point *p)
{
	if (p->shown || p->missed)
		return;
	for (size_t j = 0; j < d->ndoubt_rows; j++) {
		const struct store_rubric *r = &d->doubt_rows[j];
		struct export_moment *m;

		if (strcmp(r->point, p->id) != 0)
			continue;
		if (!p->doubts)
			p->doubts = xcalloc(EXPORT_DOUBTS_MAX,
					    sizeof(*p->doubts));
		m = &p->doubts[p->ndoubts++];
		m->r = r;
		m->turn = export_doc_turn(d, r->turn_seq);
		if (p->ndoubts == EXPORT_DOUBTS_MAX)
			break;
	}
}

/* The points of export_info in order, then ids only seen in events. */
static void points_build(struct export_doc *d)
{
	size_t cap = 0;
	const struct export_info *info = d->info;

	for (size_t i = 0; info && i < info->npoints; i++)
		point_add(d, &cap, info->points[i].id, info->points[i].label);
	for (size_t i = 0; i < d->nrubric; i++) {
		const char *id = d->rubric[i].point;
		size_t j;

		for (j = 0; j < d->npoints; j++)
			if (strcmp(d->points[j].id, id) == 0)
				break;
		if (j == d->npoints)
			point_add(d, &cap, id, NULL);
	}
	for (size_t i = 0; i < d->npoints; i++)
		moments_build(d, &d->points[i]);
	for (size_t i = 0; i < d->npoints; i++)
		doubts_build(d, &d->points[i]);
}

int export_doc_load(struct export_doc *d, struct store *st, int64_t id,
		    const struct export_info *info, struct err *err)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->info = info;
	d->persona = "Persona";
	rc = store_session_get(st, id, &d->s, err);
	if (rc)
		return rc;
	if (store_turns_get(st, id, &d->turns, &d->nturns, err) < 0 ||
	    store_rubric_get(st, id, &d->rubric, &d->nrubric, err) < 0 ||
	    store_doubts_get(st, id, &d->doubt_rows, &d->ndoubt_rows,
			     err) < 0 ||
	    store_annotations_get(st, id, &d->notes, &d->nnotes, err) < 0)
		return -1;
	if (info && info->persona_name)
		d->persona = info->persona_name;
	else if (d->s.persona)
		d->persona = d->s.persona;
	steps_build(d);
	points_build(d);
	return 0;
}

void export_doc_release(struct export_doc *d)
{
	store_session_release(&d->s);
	store_turns_free(d->turns, d->nturns);
	store_rubric_free(d->rubric, d->nrubric);
	store_rubric_free(d->doubt_rows, d->ndoubt_rows);
	store_annotations_free(d->notes, d->nnotes);
	free(d->steps);
	for (size_t i = 0; i < d->npoints; i++) {
		free(d->points[i].moments);
		free(d->points[i].doubts);
	}
	free(d->points);
	memset(d, 0, sizeof(*d));
}

/* The quote of moment m, cut to max characters. */
static void moment_quote(struct sbuf *sb, const struct export_moment *m,
			 size_t max)
{
	quote_add(sb, m->r->quote ? m->r->quote : m->turn->text, max);
}

/* "twijfel bij beurt 4: “…” (misschien getoond); bij beurt 7: …",
 * plain text, for each format to escape its own way. */
static void doubts_text(struct sbuf *sb, const struct export_doc_point *p,
			size_t max)
{
	for (int j = 0; j < p->ndoubts; j++) {
		const struct export_moment *m = &p->doubts[j];

		if (!m->turn)
			continue;
		sbuf_addf(sb, "%s beurt %d: \xe2\x80\x9c",
			  sb->len ? "; bij" : "twijfel bij", m->turn->beurt);
		moment_quote(sb, m, max);
		sbuf_addf(sb, "\xe2\x80\x9d (misschien %s)",
			  m->r->shown ? "getoond" : "gemist");
	}
}

/* ---- HTML ---- */

static const char html_css[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;"
	"max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222;"
	"line-height:1.45}\n"
	"h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;"
	"border-bottom:1px solid #ccc}\n"
	"dl.info{display:grid;grid-template-columns:max-content 1fr;"
	"gap:.2rem 1rem}dl.info dt{font-weight:600}dl.info dd{margin:0}\n"
	".uitleg{font-style:italic}\n"
	".turn{margin:.6rem 0;padding:.3rem .6rem;border-left:3px solid #ddd}"
	"\n.turn.trainee{border-color:#1f6fb2}"
	".turn.persona{border-color:#999}"
	".turn.notice,.turn.coach,.turn.other{border-color:#e0a030;"
	"font-size:.92em}\n"
	".meta{margin:0;font-size:.85em;color:#555}.tekst{margin:.2rem 0}\n"
	".regels{margin:0;font-size:.8em;color:#777}\n"
	".notitie{margin:.2rem 0 .6rem 1.5rem;padding:.3rem .6rem;"
	"background:#fff8e1;font-size:.92em}\n"
	".getoond b{color:#1b7a3a}.gemist b{color:#b3261e}"
	".leeg{color:#777;font-style:italic}.id{color:#777;font-size:.8em}\n"
	"svg{max-width:100%;height:auto}\n"
	"@media print{body{margin:0;max-width:none;font-size:10.5pt}"
	"h2{break-after:avoid}.turn,.notitie,li{break-inside:avoid}"
	"svg,.turn{-webkit-print-color-adjust:exact;"
	"print-color-adjust:exact}}\n";

static void html_chart(struct sbuf *sb, const struct export_doc *d)
{
	static const char *const color[NMETERS] = {
		"#1f6fb2", "#c0392b"
	};
	static const char *const dash[NMETERS] = {
		"", " stroke-dasharray=\"6 4\""
	};
	int bmin, bmax, step;

	sbuf_adds(sb, "<section class=\"verloop\">\n"
		  "<h2>Vertrouwen en spanning</h2>\n");
	if (!d->nsteps) {
		sbuf_adds(sb, "<p class=\"leeg\">Geen verloop van vertrouwen "
			  "en spanning opgeslagen.</p>\n</section>\n");
		return;
	}
	bmin = d->steps[0].beurt;
	bmax = d->steps[d->nsteps - 1].beurt;
	sbuf_addf(sb, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
		  "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		  "role=\"img\" aria-labelledby=\"grafiek-titel\">\n"
		  "<title id=\"grafiek-titel\">Vertrouwen en spanning per "
		  "beurt (0 tot 10)</title>\n", SVG_W, SVG_H, SVG_W, SVG_H);
	sbuf_addf(sb, "<g font-size=\"11\" fill=\"#555\">\n");
	for (int v = 0; v <= 10; v += 2) {
		int y = PLOT_T + PLOT_H * (10 - v) / 10;

		sbuf_addf(sb, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			  "stroke=\"%s\"/>\n", PLOT_L, y, PLOT_L + PLOT_W, y,
			  v == 0 ? "#888" : "#e4e4e4");
		sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">"
			  "%d</text>\n", PLOT_L - 6, y + 4, v);
	}
	step = (int)((d->nsteps + MAX_XLABELS - 1) / MAX_XLABELS);
	for (size_t i = 0; i < d->nsteps; i += (size_t)step) {
		double x = bmax == bmin ? PLOT_L + PLOT_W / 2.0 :
			PLOT_L + (double)PLOT_W * (d->steps[i].beurt - bmin) /
			(bmax - bmin);

		sbuf_adds(sb, "<text x=\"");
		add_num(sb, x);
		sbuf_addf(sb, "\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
			  PLOT_T + PLOT_H + 18, d->steps[i].beurt);
	}
	sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
		  "beurt</text>\n</g>\n", PLOT_L + PLOT_W / 2,
		  PLOT_T + PLOT_H + 36);
	for (int k = 0; k < NMETERS; k++) {
		struct sbuf dots;

		sbuf_init(&dots);
		sbuf_addf(sb, "<polyline class=\"%s\" fill=\"none\" "
			  "stroke=\"%s\" stroke-width=\"2\"%s points=\"",
			  script_meter_name[k], color[k], dash[k]);
		for (size_t i = 0, first = 1; i < d->nsteps; i++) {
			const struct export_step *p = &d->steps[i];
			double x, y;

			if (!p->has[k])
				continue;
			x = bmax == bmin ? PLOT_L + PLOT_W / 2.0 :
				PLOT_L + (double)PLOT_W * (p->beurt - bmin) /
				(bmax - bmin);
			y = PLOT_T + PLOT_H * (10.0 - p->v[k]) / 10.0;
			if (!first)
				sbuf_addc(sb, ' ');
			first = 0;
			add_num(sb, x);
			sbuf_addc(sb, ',');
			add_num(sb, y);
			sbuf_adds(&dots, "<circle cx=\"");
			add_num(&dots, x);
			sbuf_adds(&dots, "\" cy=\"");
			add_num(&dots, y);
			sbuf_addf(&dots, "\" r=\"3\" fill=\"%s\"/>\n",
				  color[k]);
		}
		sbuf_adds(sb, "\"/>\n");
		sbuf_adds(sb, sbuf_str(&dots));
		sbuf_release(&dots);
	}
	/* legend */
	for (int k = 0; k < NMETERS; k++) {
		int x = PLOT_L + 150 * k;
		int y = SVG_H - 10;

		sbuf_addf(sb, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			  "stroke=\"%s\" stroke-width=\"2\"%s/>"
			  "<text x=\"%d\" y=\"%d\" font-size=\"12\">"
			  "%s</text>\n",
			  x, y - 4, x + 24, y - 4, color[k], dash[k], x + 30,
			  y, script_meter_name[k]);
	}
	sbuf_adds(sb, "</svg>\n</section>\n");
}

static void html_moment(struct sbuf *sb, const struct export_moment *m)
{
	const struct store_rubric *r = m->r;

	sbuf_addf(sb, "<li class=\"%s\"><b>%s</b>", r->shown ? "getoond" :
		  "gemist", r->shown ? "getoond" : "gemist");
	if (m->turn) {
		struct sbuf q;

		sbuf_init(&q);
		moment_quote(&q, m, QUOTE_CHARS);
		sbuf_addf(sb, " bij beurt %d: <q>", m->turn->beurt);
		html_escape(sb, sbuf_str(&q), " ");
		sbuf_adds(sb, "</q>");
		sbuf_release(&q);
	} else {
		sbuf_addf(sb, " (bericht %d niet gevonden)", r->turn_seq);
	}
	if (r->reason && *r->reason) {
		sbuf_adds(sb, " &mdash; ");
		html_escape(sb, r->reason, " ");
	}
	sbuf_adds(sb, "</li>\n");
}

static void html_rubric(struct sbuf *sb, const struct export_doc *d)
{
	sbuf_adds(sb, "<section class=\"rubriek\">\n<h2>Rubriek</h2>\n");
	if (!d->npoints) {
		sbuf_adds(sb, "<p class=\"leeg\">Geen rubriekpunten.</p>\n"
			  "</section>\n");
		return;
	}
	sbuf_adds(sb, "<ul>\n");
	for (size_t i = 0; i < d->npoints; i++) {
		const struct export_doc_point *p = &d->points[i];

		sbuf_adds(sb, "<li><b>");
		html_escape(sb, p->label ? p->label : p->id, " ");
		sbuf_adds(sb, "</b> <span class=\"id\">(");
		html_escape(sb, p->id, " ");
		sbuf_adds(sb, ")</span>");
		if (!p->shown && !p->missed) {
			struct sbuf q;

			sbuf_init(&q);
			doubts_text(&q, p, QUOTE_CHARS);
			sbuf_adds(sb, " &mdash; <span class=\"leeg\">geen "
				  "moment herkend");
			if (q.len) {
				sbuf_adds(sb, "; ");
				html_escape(sb, sbuf_str(&q), " ");
			}
			sbuf_adds(sb, "</span></li>\n");
			sbuf_release(&q);
			continue;
		}
		sbuf_addf(sb, " &mdash; %d&times; getoond, %d&times; gemist"
			  "\n<ul>\n", p->shown, p->missed);
		for (int j = 0; j < p->shown + p->missed; j++)
			html_moment(sb, &p->moments[j]);
		sbuf_adds(sb, "</ul></li>\n");
	}
	sbuf_adds(sb, "</ul>\n</section>\n");
}

static void html_note(struct sbuf *sb, const struct store_annotation *a)
{
	sbuf_adds(sb, "<aside class=\"notitie\"><b>");
	html_escape(sb, note_kind(a->kind), " ");
	sbuf_adds(sb, "</b>");
	if (a->author) {
		sbuf_adds(sb, " van ");
		html_escape(sb, a->author, " ");
	}
	sbuf_adds(sb, ": ");
	html_escape(sb, a->text, "<br>\n");
	sbuf_adds(sb, "</aside>\n");
}

static void html_turn(struct sbuf *sb, const struct export_doc *d,
		      const struct store_turn *t)
{
	int trainee = strcmp(t->speaker, STORE_TRAINEE) == 0;
	char *rules = trainee ? rules_dup(t) : NULL;

	sbuf_adds(sb, "<div class=\"turn ");
	html_escape(sb, t->speaker, " ");
	sbuf_adds(sb, "\">\n<p class=\"meta\"><b>");
	html_escape(sb, speaker_name(d, t), " ");
	if (strcmp(t->speaker, STORE_COACH) == 0 && t->author) {
		sbuf_adds(sb, "</b> (");
		html_escape(sb, t->author, " ");
		sbuf_adds(sb, ")<b>");
	}
	sbuf_adds(sb, "</b> ");
	add_clock(sb, t->ts_ms);
	if (trainee)
		sbuf_addf(sb, " &middot; beurt %d", t->beurt);
	sbuf_adds(sb, "</p>\n<p class=\"tekst\">");
	html_escape(sb, t->text, "<br>\n");
	sbuf_adds(sb, "</p>\n");
	if (rules || (trainee && t->node)) {
		sbuf_adds(sb, "<p class=\"regels\">");
		if (rules) {
			sbuf_adds(sb, "regels: ");
			html_escape(sb, rules, " ");
		}
		if (trainee && t->node) {
			sbuf_adds(sb, rules ? " &middot; fase: " : "fase: ");
			html_escape(sb, t->node, " ");
		}
		sbuf_adds(sb, "</p>\n");
	}
	sbuf_adds(sb, "</div>\n");
	for (size_t i = 0; i < d->nnotes; i++)
		if (d->notes[i].turn_seq == t->seq)
			html_note(sb, &d->notes[i]);
	free(rules);
}

static void html_transcript(struct sbuf *sb, const struct export_doc *d)
{
	int loose = 0;

	sbuf_adds(sb, "<section class=\"gesprek\">\n<h2>Gesprek</h2>\n");
	if (!d->nturns)
		sbuf_adds(sb, "<p class=\"leeg\">Er zijn geen berichten "
			  "opgeslagen.</p>\n");
	for (size_t i = 0; i < d->nturns; i++)
		html_turn(sb, d, &d->turns[i]);
	for (size_t i = 0; i < d->nnotes; i++) {
		if (note_has_turn(d, &d->notes[i]))
			continue;
		if (!loose++)
			sbuf_adds(sb, "<h3>Overige notities</h3>\n");
		html_note(sb, &d->notes[i]);
	}
	sbuf_adds(sb, "</section>\n");
}

static void html_doc(struct sbuf *sb, const struct export_doc *d)
{
	const char *ending_text = d->info ? d->info->ending_text : NULL;

	sbuf_adds(sb, "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n"
		  "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
		  "content=\"width=device-width, initial-scale=1\">\n"
		  "<title>Nabespreking: ");
	html_escape(sb, doc_title(d), " ");
	sbuf_adds(sb, "</title>\n<style>\n");
	sbuf_adds(sb, html_css);
	sbuf_adds(sb, "</style>\n</head>\n<body>\n<header>\n"
		  "<h1>Nabespreking: ");
	html_escape(sb, doc_title(d), " ");
	sbuf_adds(sb, "</h1>\n<dl class=\"info\">\n<dt>Scenario</dt><dd>");
	html_escape(sb, d->s.scenario ? d->s.scenario : "", " ");
	sbuf_adds(sb, "</dd>\n<dt>Persona</dt><dd>");
	html_escape(sb, d->persona, " ");
	sbuf_adds(sb, "</dd>\n<dt>Trainee</dt><dd>");
	html_escape(sb, d->s.trainee ? d->s.trainee : "onbekend", " ");
	sbuf_adds(sb, "</dd>\n<dt>Begonnen</dt><dd>");
	add_date(sb, d->s.started_ms);
	sbuf_adds(sb, "</dd>\n<dt>Duur</dt><dd>");
	add_duration(sb, d);
	sbuf_adds(sb, "</dd>\n<dt>Einde</dt><dd>");
	sbuf_adds(sb, ending_label(d->s.ending ? d->s.ending_kind : NULL));
	if (d->s.ending) {
		sbuf_adds(sb, " <span class=\"id\">(");
		html_escape(sb, d->s.ending, " ");
		sbuf_adds(sb, ")</span>");
	}
	sbuf_adds(sb, "</dd>\n</dl>\n");
	if (ending_text && *ending_text) {
		sbuf_adds(sb, "<p class=\"uitleg\">");
		html_escape(sb, ending_text, "<br>\n");
		sbuf_adds(sb, "</p>\n");
	}
	sbuf_adds(sb, "</header>\n");
	html_chart(sb, d);
	html_rubric(sb, d);
	html_transcript(sb, d);
	sbuf_adds(sb, "</body>\n</html>\n");
}

/* ---- Markdown ---- */

/* Meter k over the steps as a sparkline, a blank where a step lacks it. */
static void spark_add(struct sbuf *sb, const struct export_doc *d, int k)
{
	static const char *const bars[8] = {
		"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
		"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"
	};

	for (size_t i = 0; i < d->nsteps; i++) {
		const struct export_step *p = &d->steps[i];

		if (p->has[k])
			sbuf_adds(sb, bars[lround(p->v[k] * 7 / 10)]);
		else
			sbuf_addc(sb, ' ');
	}
}

static void md_chart(struct sbuf *sb, const struct export_doc *d)
{
	sbuf_adds(sb, "## Vertrouwen en spanning\n\n");
	if (!d->nsteps) {
		sbuf_adds(sb, "_Geen verloop van vertrouwen en spanning "
			  "opgeslagen._\n\n");
		return;
	}
	sbuf_adds(sb, "| beurt | vertrouwen | spanning |\n"
		  "|---:|---:|---:|\n");
	for (size_t i = 0; i < d->nsteps; i++) {
		const struct export_step *p = &d->steps[i];

		sbuf_addf(sb, "| %d |", p->beurt);
		for (int k = 0; k < NMETERS; k++) {
			sbuf_addc(sb, ' ');
			if (p->has[k])
				add_num(sb, p->v[k]);
			else
				sbuf_adds(sb, "-");
			sbuf_adds(sb, " |");
		}
		sbuf_addc(sb, '\n');
	}
	sbuf_adds(sb, "\n```\n");
	for (int k = 0; k < NMETERS; k++) {
		sbuf_addf(sb, "%-11s ", script_meter_name[k]);
		spark_add(sb, d, k);
		sbuf_addc(sb, '\n');
	}
	sbuf_adds(sb, "```\n\n");
}

static void md_moment(struct sbuf *sb, const struct export_moment *m)
{
	const struct store_rubric *r = m->r;

	sbuf_adds(sb, r->shown ? "  - getoond" : "  - gemist");
	if (m->turn) {
		struct sbuf q;

		sbuf_init(&q);
		moment_quote(&q, m, QUOTE_CHARS);
		sbuf_addf(sb, " bij beurt %d: \xe2\x80\x9c", m->turn->beurt);
		md_add(sb, sbuf_str(&q), " ");
		sbuf_adds(sb, "\xe2\x80\x9d");
		sbuf_release(&q);
	} else {
		sbuf_addf(sb, " (bericht %d niet gevonden)", r->turn_seq);
	}
	if (r->reason && *r->reason) {
		sbuf_adds(sb, " \xe2\x80\x94 ");
		md_add(sb, r->reason, " ");
	}
	sbuf_addc(sb, '\n');
}

static void md_rubric(struct sbuf *sb, const struct export_doc *d)
{
	sbuf_adds(sb, "## Rubriek\n\n");
	if (!d->npoints)
		sbuf_adds(sb, "_Geen rubriekpunten._\n");
	for (size_t i = 0; i < d->npoints; i++) {
		const struct export_doc_point *p = &d->points[i];

		sbuf_adds(sb, "- **");
		md_add(sb, p->label ? p->label : p->id, " ");
		sbuf_adds(sb, "** (");
		md_add(sb, p->id, " ");
		sbuf_adds(sb, ")");
		if (!p->shown && !p->missed) {
			/* what the engine did not recognise, not a claim
			 * about the conversation: a quiet moment (calib.h)
			 * or a move put in other words may have happened */
			struct sbuf q;

			sbuf_init(&q);
			doubts_text(&q, p, QUOTE_CHARS);
			sbuf_adds(sb, " \xe2\x80\x94 _geen moment herkend_");
			if (q.len) {
				sbuf_adds(sb, "; ");
				md_add(sb, sbuf_str(&q), " ");
			}
			sbuf_adds(sb, "\n");
			sbuf_release(&q);
			continue;
		}
		sbuf_addf(sb, " \xe2\x80\x94 %d\xc3\x97 getoond, "
			  "%d\xc3\x97 gemist\n", p->shown, p->missed);
		for (int j = 0; j < p->shown + p->missed; j++)
			md_moment(sb, &p->moments[j]);
	}
	sbuf_addc(sb, '\n');
}

static void md_note(struct sbuf *sb, const struct store_annotation *a)
{
	sbuf_adds(sb, "_");
	md_add(sb, note_kind(a->kind), " ");
	if (a->author) {
		sbuf_adds(sb, " van ");
		md_add(sb, a->author, " ");
	}
	sbuf_adds(sb, ":_ ");
	md_add(sb, a->text, "  \n");
	sbuf_adds(sb, "\n\n");
}

static void md_turn(struct sbuf *sb, const struct export_doc *d,
		    const struct store_turn *t)
{
	int trainee = strcmp(t->speaker, STORE_TRAINEE) == 0;
	char *rules = trainee ? rules_dup(t) : NULL;

	sbuf_adds(sb, "**");
	md_add(sb, speaker_name(d, t), " ");
	sbuf_adds(sb, "**");
	if (strcmp(t->speaker, STORE_COACH) == 0 && t->author) {
		sbuf_adds(sb, " (");
		md_add(sb, t->author, " ");
		sbuf_adds(sb, ")");
	}
	sbuf_adds(sb, " \xc2\xb7 ");
	add_clock(sb, t->ts_ms);
	if (trainee)
		sbuf_addf(sb, " \xc2\xb7 beurt %d", t->beurt);
	sbuf_adds(sb, "\n\n> ");
	md_add(sb, t->text, "  \n> ");
	sbuf_adds(sb, "\n\n");
	if (rules || (trainee && t->node)) {
		sbuf_adds(sb, "_");
		if (rules) {
			sbuf_adds(sb, "regels: ");
			md_add(sb, rules, " ");
		}
		if (trainee && t->node) {
			sbuf_adds(sb, rules ? " \xc2\xb7 fase: " : "fase: ");
			md_add(sb, t->node, " ");
		}
		sbuf_adds(sb, "_\n\n");
	}
	for (size_t i = 0; i < d->nnotes; i++)
		if (d->notes[i].turn_seq == t->seq)
			md_note(sb, &d->notes[i]);
	free(rules);
}

static void md_doc(struct sbuf *sb, const struct export_doc *d)
{
	const char *ending_text = d->info ? d->info->ending_text : NULL;
	int loose = 0;

	sbuf_adds(sb, "# Nabespreking: ");
	md_add(sb, doc_title(d), " ");
	sbuf_adds(sb, "\n\n- **Scenario:** ");
	md_add(sb, d->s.scenario ? d->s.scenario : "", " ");
	sbuf_adds(sb, "\n- **Persona:** ");
	md_add(sb, d->persona, " ");
	sbuf_adds(sb, "\n- **Trainee:** ");
	md_add(sb, d->s.trainee ? d->s.trainee : "onbekend", " ");
	sbuf_adds(sb, "\n- **Begonnen:** ");
	add_date(sb, d->s.started_ms);
	sbuf_adds(sb, "\n- **Duur:** ");
	add_duration(sb, d);
	sbuf_adds(sb, "\n- **Einde:** ");
	sbuf_adds(sb, ending_label(d->s.ending ? d->s.ending_kind : NULL));
	if (d->s.ending) {
		sbuf_adds(sb, " (");
		md_add(sb, d->s.ending, " ");
		sbuf_adds(sb, ")");
	}
	sbuf_adds(sb, "\n\n");
	if (ending_text && *ending_text) {
		sbuf_adds(sb, "> ");
		md_add(sb, ending_text, "  \n> ");
		sbuf_adds(sb, "\n\n");
	}
	md_chart(sb, d);
	md_rubric(sb, d);
	sbuf_adds(sb, "## Gesprek\n\n");
	if (!d->nturns)
		sbuf_adds(sb, "_Er zijn geen berichten opgeslagen._\n\n");
	for (size_t i = 0; i < d->nturns; i++)
		md_turn(sb, d, &d->turns[i]);
	for (size_t i = 0; i < d->nnotes; i++) {
		if (note_has_turn(d, &d->notes[i]))
			continue;
		if (!loose++)
			sbuf_adds(sb, "### Overige notities\n\n");
		md_note(sb, &d->notes[i]);
	}
}

/* ---- JSON ---- */

static json_t *jstr(const char *s)
{
	struct sbuf c;
	json_t *v;

	if (!s)
		return json_null();
	sbuf_init(&c);
	utf8_add_clean(&c, s);
	v = json_string(sbuf_str(&c));
	sbuf_release(&c);
	return v ? v : json_null();
}

/* A stored JSON text as a JSON value; kept as a string if it does not
 * parse, so that nothing stored is lost. */
static json_t *jraw(const char *s)
{
	json_t *v;

	if (!s)
		return json_null();
	v = json_loads(s, JSON_DECODE_ANY, NULL);
	return v ? v : jstr(s);
}

static void jset(json_t *o, const char *key, json_t *v)
{
	if (!v)
		v = json_null();
	json_object_set_new(o, key, v);
}

static json_t *json_session(const struct export_doc *d)
{
	json_t *o = json_object();
	char seed[32];

	xsnprintf(seed, sizeof(seed), "%llu", (unsigned long long)d->s.seed);
	jset(o, "id", json_integer(d->s.id));
	jset(o, "scenario", jstr(d->s.scenario));
	jset(o, "title", jstr(d->s.title));
	jset(o, "persona", jstr(d->s.persona));
	jset(o, "persona_name", jstr(d->persona));
	/* a string: a 64-bit seed does not survive a double */
	jset(o, "seed", json_string(seed));
	jset(o, "trainee", jstr(d->s.trainee));
	jset(o, "room", jstr(d->s.room));
	jset(o, "started_ms", json_integer(d->s.started_ms));
	jset(o, "ended_ms", json_integer(d->s.ended_ms));
	jset(o, "ending", jstr(d->s.ending));
	jset(o, "ending_kind", jstr(d->s.ending_kind));
	jset(o, "ending_label",
	     jstr(ending_label(d->s.ending ? d->s.ending_kind : NULL)));
	jset(o, "ending_text", jstr(d->info ? d->info->ending_text : NULL));
	jset(o, "nturns", json_integer(d->s.nturns));
	jset(o, "beurten", json_integer(d->beurten));
	return o;
}

static json_t *json_doc(const struct export_doc *d)
{
	json_t *root = json_object();
	json_t *turns = json_array(), *rubric = json_array();
	json_t *doubts = json_array();
	json_t *notes = json_array(), *points = json_array();

	jset(root, "session", json_session(d));
	for (size_t i = 0; i < d->nturns; i++) {
		const struct store_turn *t = &d->turns[i];
		json_t *o = json_object();

		jset(o, "seq", json_integer(t->seq));
		jset(o, "beurt", json_integer(t->beurt));
		jset(o, "speaker", jstr(t->speaker));
		jset(o, "author", jstr(t->author));
		jset(o, "text", jstr(t->text));
		jset(o, "ts_ms", json_integer(t->ts_ms));
		jset(o, "node", jstr(t->node));
		jset(o, "rules", jraw(t->rules_json));
		jset(o, "vars", jraw(t->vars_json));
		json_array_append_new(turns, o);
	}
	for (size_t i = 0; i < d->nrubric; i++) {
		const struct store_rubric *r = &d->rubric[i];
		json_t *o = json_object();

		jset(o, "turn_seq", json_integer(r->turn_seq));
		jset(o, "point", jstr(r->point));
		jset(o, "shown", json_boolean(r->shown));
		jset(o, "reason", jstr(r->reason));
		jset(o, "quote", jstr(r->quote));
		json_array_append_new(rubric, o);
	}
	/* heard, not recorded: no moment, a place to look */
	for (size_t i = 0; i < d->ndoubt_rows; i++) {
		const struct store_rubric *r = &d->doubt_rows[i];
		json_t *o = json_object();

		jset(o, "turn_seq", json_integer(r->turn_seq));
		jset(o, "point", jstr(r->point));
		jset(o, "shown", json_boolean(r->shown));
		jset(o, "quote", jstr(r->quote));
		json_array_append_new(doubts, o);
	}
	for (size_t i = 0; i < d->nnotes; i++) {
		const struct store_annotation *a = &d->notes[i];
		json_t *o = json_object();

		jset(o, "turn_seq", json_integer(a->turn_seq));
		jset(o, "author", jstr(a->author));
		jset(o, "kind", jstr(a->kind));
		jset(o, "text", jstr(a->text));
		jset(o, "ts_ms", json_integer(a->ts_ms));
		json_array_append_new(notes, o);
	}
	for (size_t i = 0; i < d->npoints; i++) {
		json_t *o = json_object();

		jset(o, "id", jstr(d->points[i].id));
		jset(o, "label", jstr(d->points[i].label));
		jset(o, "shown", json_integer(d->points[i].shown));
		jset(o, "missed", json_integer(d->points[i].missed));
		json_array_append_new(points, o);
	}
	jset(root, "turns", turns);
	jset(root, "rubric", rubric);
	jset(root, "twijfel", doubts);
	jset(root, "annotations", notes);
	jset(root, "points", points);
	return root;
}

static int json_out(struct sbuf *sb, const struct export_doc *d,
		    struct err *err)
{
	json_t *root = json_doc(d);
	char *text = json_dumps(root, JSON_INDENT(2));

	json_decref(root);
	if (!text) {
		err_set(err, "export: kan de JSON niet maken");
		return -1;
	}
	sbuf_adds(sb, text);
	sbuf_addc(sb, '\n');
	free(text);
	return 0;
}

/* ---- in the room: the debrief and !stand as a Matrix message ----
 *
 * One walk writes both halves of the message: the plain body (for
 * clients without HTML, and `export --format text`) and the
 * formatted_body in the HTML subset Matrix clients render (headings,
 * paragraphs, lists, <pre>; no CSS, no SVG). Store text goes to both
 * through room_text(), escaped for the HTML half. */

/* What one message in the room lists, so that a long session still
 * fits in one event (test_matrix_bounded); the attached HTML export
 * has everything. */
#define ROOM_MOMENTS_MAX 4       /* moments listed per point */
#define ROOM_NOTES_MAX 10        /* coaches' notes listed */
#define ROOM_NOTE_CHARS 200      /* characters of a note */
#define ROOM_NAME_COL 12         /* meter names in the <pre> block */

struct room_out {
	struct sbuf *t;   /* the plain body */
	struct sbuf *h;   /* the formatted body */
};

/* Store text to both halves: clean UTF-8, escaped in the HTML. */
static void room_text(const struct room_out *o, const char *s)
{
	utf8_add_clean(o->t, s);
	html_escape(o->h, s, "<br>");
}

/* Our own text (no markup, nothing to escape) to both halves. */
static void room_lit(const struct room_out *o, const char *s)
{
	sbuf_adds(o->t, s);
	sbuf_adds(o->h, s);
}

/* Markup: plain text t, HTML h (either may be ""). */
static void room_mark(const struct room_out *o, const char *t,
		      const char *h)
{
	sbuf_adds(o->t, t);
	sbuf_adds(o->h, h);
}

/* "1 beurt", "2 beurten". */
static void add_count(struct sbuf *sb, long n, const char *one,
		      const char *many)
{
	sbuf_addf(sb, "%ld %s", n, n == 1 ? one : many);
}

static void room_count(const struct room_out *o, long n, const char *one,
		       const char *many)
{
	add_count(o->t, n, one, many);
	add_count(o->h, n, one, many);
}

/* A quote cut at a word boundary, in curly quotes. */
static void room_quote(const struct room_out *o, const char *s,
		       size_t max)
{
	struct sbuf q;

	sbuf_init(&q);
	quote_add(&q, s, max);
	room_lit(o, "\xe2\x80\x9c");
	room_text(o, sbuf_str(&q));
	room_lit(o, "\xe2\x80\x9d");
	sbuf_release(&q);
}

/* s right-aligned in w columns (s is ASCII). */
static void add_right(struct sbuf *sb, const char *s, size_t w)
{
	for (size_t n = strlen(s); n < w; n++)
		sbuf_addc(sb, ' ');
	sbuf_adds(sb, s);
}

/* The first and last stored value of meter k, or NULL. */
static const struct export_step *meter_end(const struct export_doc *d,
					   int k, int last)
{
	const struct export_step *p = NULL;

	for (size_t i = 0; i < d->nsteps; i++) {
		if (!d->steps[i].has[k])
			continue;
		p = &d->steps[i];
		if (!last)
			break;
	}
	return p;
}

static void add_value(struct sbuf *sb, const struct export_step *p, int k,
		      size_t w)
{
	struct sbuf v;

	sbuf_init(&v);
	if (p)
		add_num(&v, p->v[k]);
	else
		sbuf_adds(&v, "-");
	add_right(sb, sbuf_str(&v), w);
	sbuf_release(&v);
}

/* The meters over the whole session, one line each, columns aligned:
 *   "            begin  eind  per beurt"
 *   "vertrouwen      3     7  ▃▄▃▆"
 * Written to sb as plain text (no markup: it goes inside <pre>). */
static void meters_table(struct sbuf *sb, const struct export_doc *d)
{
	sbuf_addf(sb, "%*s%6s%6s  per beurt", ROOM_NAME_COL, "", "begin",
		  "eind");
	for (int k = 0; k < NMETERS; k++) {
		sbuf_addf(sb, "\n%-*s", ROOM_NAME_COL, script_meter_name[k]);
		add_value(sb, meter_end(d, k, 0), k, 6);
		add_value(sb, meter_end(d, k, 1), k, 6);
		sbuf_adds(sb, "  ");
		spark_add(sb, d, k);
	}
}

/* The meters now: "vertrouwen  ███████░░░  7/10  (begin 3)". */
static void meters_now(struct sbuf *sb, const struct export_doc *d)
{
	for (int k = 0; k < NMETERS; k++) {
		const struct export_step *first = meter_end(d, k, 0);
		const struct export_step *last = meter_end(d, k, 1);
		struct sbuf v;
		long full = last ? lround(last->v[k]) : 0;

		sbuf_init(&v);
		if (k)
			sbuf_addc(sb, '\n');
		sbuf_addf(sb, "%-*s", ROOM_NAME_COL, script_meter_name[k]);
		for (long i = 0; i < 10; i++)
			sbuf_adds(sb, i < full ? "\xe2\x96\x88" :
				  "\xe2\x96\x91");
		if (last)
			add_num(&v, last->v[k]);
		else
			sbuf_addc(&v, '-');
		sbuf_adds(&v, "/10");
		sbuf_addc(sb, ' ');
		add_right(sb, sbuf_str(&v), 7);
		if (first) {
			sbuf_adds(sb, "  (begin ");
			add_num(sb, first->v[k]);
			sbuf_addc(sb, ')');
		}
		sbuf_release(&v);
	}
}

/* Lines of our own as a <pre> block in the HTML, as they are in the
 * body. */
static void room_pre(const struct room_out *o, const char *lines)
{
	sbuf_adds(o->h, "<pre>");
	html_escape(o->h, lines, "\n");
	sbuf_adds(o->h, "</pre>\n");
	sbuf_adds(o->t, lines);
}

static const char *room_ending(const struct export_doc *d)
{
	const char *kind = d->s.ending ? d->s.ending_kind : NULL;

	if (!d->s.ended_ms)
		return "de oefening loopt nog";
	if (kind && strcmp(kind, "goed") == 0)
		return "het gesprek is goed afgerond";
	if (kind && strcmp(kind, "breuk") == 0)
		return "het gesprek is vastgelopen";
	if (kind && strcmp(kind, "neutraal") == 0)
		return "het gesprek eindigde neutraal";
	return "gestopt voor het einde";
}

static const char *point_name(const struct export_doc_point *p)
{
	return p->label ? p->label : p->id;
}

static void room_moment(const struct room_out *o,
			const struct export_moment *m)
{
	room_mark(o, "\n  ", "<li>");
	room_lit(o, m->r->shown ? "\xe2\x9c\x94 getoond bij" :
		 "\xe2\x9c\x98 gemist bij");
	if (m->turn) {
		char b[32];

		xsnprintf(b, sizeof(b), " beurt %d: ", m->turn->beurt);
		room_lit(o, b);
		room_quote(o, m->r->quote ? m->r->quote : m->turn->text,
			   ROOM_QUOTE_CHARS);
	} else {
		char b[48];

		xsnprintf(b, sizeof(b), " bericht %d (niet gevonden)",
			  m->r->turn_seq);
		room_lit(o, b);
	}
	if (m->r->reason && *m->r->reason) {
		room_mark(o, " (", " <em>(");
		room_text(o, m->r->reason);
		room_mark(o, ")", ")</em>");
	}
	room_mark(o, "", "</li>\n");
}

/* Each point with moments: its counts, then the moments (at most
 * ROOM_MOMENTS_MAX); the points not touched on one line. */
static void room_rubric(const struct room_out *o, const struct export_doc *d)
{
	int listed = 0, quiet = 0;

	room_mark(o, "\n\nRubriek:", "<h4>Rubriek</h4>\n");
	for (size_t i = 0; i < d->npoints; i++) {
		const struct export_doc_point *p = &d->points[i];
		int n = p->shown + p->missed;

		if (!n)
			continue;
		if (!listed++)
			room_mark(o, "", "<ul>\n");
		room_mark(o, "\n", "<li><b>");
		room_text(o, point_name(p));
		room_mark(o, "", "</b>");
		/* "2 keer getoond", "1 keer gemist", or both */
		room_lit(o, " \xe2\x80\x94 ");
		if (p->shown)
			room_count(o, p->shown, "keer getoond", "keer getoond");
		room_lit(o, p->shown && p->missed ? ", " : "");
		if (p->missed)
			room_count(o, p->missed, "keer gemist", "keer gemist");
		room_mark(o, "", "\n<ul>\n");
		for (int j = 0; j < n && j < ROOM_MOMENTS_MAX; j++)
			room_moment(o, &p->moments[j]);
		if (n > ROOM_MOMENTS_MAX) {
			room_mark(o, "\n  ", "<li>");
			room_lit(o, "en nog ");
			room_count(o, n - ROOM_MOMENTS_MAX, "moment",
				   "momenten");
			room_mark(o, "", "</li>\n");
		}
		room_mark(o, "", "</ul></li>\n");
	}
	if (listed)
		room_mark(o, "", "</ul>\n");
	else
		room_mark(o, "\nNog geen rubriekmomenten.",
			  "<p>Nog geen rubriekmomenten.</p>\n");
	for (size_t i = 0; i < d->npoints; i++) {
		const struct export_doc_point *p = &d->points[i];

		if (p->shown || p->missed)
			continue;
		if (!quiet++)
			room_mark(o, "\nGeen moment herkend (kijk het zelf "
				  "na in het gesprek):",
				  "<p>Geen moment herkend (kijk het zelf na in "
				  "het gesprek):</p>\n<ul>\n");
		room_mark(o, "\n  - ", "<li>");
		room_text(o, point_name(p));
		if (p->ndoubts) {
			struct sbuf q;

			sbuf_init(&q);
			doubts_text(&q, p, ROOM_QUOTE_CHARS);
			if (q.len) {
				room_lit(o, " \xe2\x80\x94 ");
				room_text(o, sbuf_str(&q));
			}
			sbuf_release(&q);
		}
		room_mark(o, "", "</li>\n");
	}
	if (quiet)
		room_mark(o, "", "</ul>\n");
}

static void room_notes(const struct room_out *o, const struct export_doc *d)
{
	if (!d->nnotes)
		return;
	room_mark(o, "\n\n", "<h4>");
	room_lit(o, d->nnotes == 1 ? "Aantekening van een coach" :
		 "Aantekeningen van de coaches");
	room_mark(o, ":", "</h4>\n<ul>\n");
	for (size_t i = 0; i < d->nnotes && i < ROOM_NOTES_MAX; i++) {
		const struct store_annotation *a = &d->notes[i];
		const struct store_turn *t = export_doc_turn(d, a->turn_seq);
		struct sbuf q;

		sbuf_init(&q);
		room_mark(o, "\n  ", "<li>");
		if (t && t->beurt > 0) {
			char b[32];

			xsnprintf(b, sizeof(b), "bij beurt %d", t->beurt);
			room_lit(o, b);
		} else {
			room_lit(o, "bij het begin");
		}
		room_lit(o, ", ");
		room_text(o, note_kind(a->kind));
		room_lit(o, " van ");
		room_text(o, a->author ? a->author : "een coach");
		room_lit(o, ": ");
		quote_add(&q, a->text, ROOM_NOTE_CHARS);
		room_text(o, sbuf_str(&q));
		room_mark(o, "", "</li>\n");
		sbuf_release(&q);
	}
	if (d->nnotes > ROOM_NOTES_MAX) {
		room_mark(o, "\n  ", "<li>");
		room_lit(o, "en nog ");
		room_count(o, (long)(d->nnotes - ROOM_NOTES_MAX),
			   "aantekening", "aantekeningen");
		room_mark(o, "", "</li>\n");
	}
	room_mark(o, "", "</ul>\n");
}

static void room_doc(const struct room_out *o, const struct export_doc *d)
{
	const char *ending_text = d->info ? d->info->ending_text : NULL;
	const char *ending;
	struct sbuf pre;

	room_mark(o, "", "<h3>");
	room_lit(o, d->s.ended_ms ? "Einde van de oefening: " :
		 "Nabespreking: ");
	room_text(o, doc_title(d));
	/* "Titel — het gesprek …" in the body, a sentence of its own in
	 * the HTML (every ending starts with an ASCII letter) */
	ending = room_ending(d);
	sbuf_adds(o->t, " \xe2\x80\x94 ");
	sbuf_adds(o->t, ending);
	sbuf_addf(o->h, "</h3>\n<p>%c%s.</p>\n",
		  toupper((unsigned char)*ending), ending + 1);
	sbuf_addc(o->t, '.');
	if (d->s.ended_ms && ending_text && *ending_text) {
		room_mark(o, "\n", "<p><em>");
		room_text(o, ending_text);
		room_mark(o, "", "</em></p>\n");
	}
	room_mark(o, "\n\n", "<h4>");
	room_lit(o, "Verloop over ");
	room_count(o, d->beurten, "beurt", "beurten");
	room_mark(o, ":\n", "</h4>\n");
	sbuf_init(&pre);
	if (d->nsteps)
		meters_table(&pre, d);
	else
		sbuf_adds(&pre, "Geen verloop van vertrouwen en spanning "
			  "opgeslagen.");
	room_pre(o, sbuf_str(&pre));
	sbuf_release(&pre);
	room_rubric(o, d);
	room_notes(o, d);
}

int export_render_matrix(const struct export_doc *d, struct sbuf *body,
			 struct sbuf *html, struct err *err)
{
	struct room_out o = { body, html };

	(void)err;
	room_doc(&o, d);
	return 0;
}

/* "1 en 3", "1, 2 en 3": the beurten of p's moments shown (or not),
 * each once. Returns how many. */
static int beurt_list(struct sbuf *sb, const struct export_doc_point *p,
		      int shown)
{
	int last = -1, n = 0, total = 0;

	for (int j = 0; j < p->shown + p->missed; j++) {
		const struct export_moment *m = &p->moments[j];

		if (m->r->shown == shown && m->turn && m->turn->beurt != last) {
			last = m->turn->beurt;
			total++;
		}
	}
	last = -1;
	for (int j = 0; j < p->shown + p->missed; j++) {
		const struct export_moment *m = &p->moments[j];

		if (m->r->shown != shown || !m->turn ||
		    m->turn->beurt == last)
			continue;
		last = m->turn->beurt;
		n++;
		if (n > 1)
			sbuf_adds(sb, n == total ? " en " : ", ");
		sbuf_addf(sb, "%d", last);
	}
	return total;
}

static void stand_point(const struct room_out *o,
			const struct export_doc_point *p)
{
	struct sbuf b;
	int k = 0;

	sbuf_init(&b);
	room_mark(o, "\n", "<li>");
	room_lit(o, p->missed == 0 ? "\xe2\x9c\x94 " : p->shown == 0 ?
		 "\xe2\x9c\x98 " : "\xe2\x9c\x94\xe2\x9c\x98 ");
	room_mark(o, "", "<b>");
	room_text(o, point_name(p));
	room_mark(o, "", "</b>");
	for (int shown = 1; shown >= 0; shown--) {
		int n;

		sbuf_reset(&b);
		n = beurt_list(&b, p, shown);
		if (!n)
			continue;
		room_lit(o, k++ ? "; " : ": ");
		room_lit(o, shown ? "getoond bij " : "gemist bij ");
		room_lit(o, n == 1 ? "beurt " : "beurten ");
		room_lit(o, sbuf_str(&b));
	}
	room_mark(o, "", "</li>\n");
	sbuf_release(&b);
}

int export_render_stand(const struct export_doc *d, const char *phase,
			int paused, struct sbuf *body, struct sbuf *html,
			struct err *err)
{
	struct room_out o = { body, html };
	struct sbuf pre;
	int listed = 0;

	(void)err;
	room_mark(&o, "", "<p><b>");
	if (d->beurten > 0) {
		char b[32];

		xsnprintf(b, sizeof(b), "Stand na beurt %d", d->beurten);
		room_lit(&o, b);
	} else {
		room_lit(&o, "Stand bij het begin");
	}
	room_mark(&o, "", "</b>");
	if (phase && *phase) {
		room_lit(&o, " \xc2\xb7 fase ");
		room_text(&o, phase);
	}
	if (paused)
		room_lit(&o, " \xc2\xb7 gepauzeerd");
	room_mark(&o, "\n", "</p>\n");
	sbuf_init(&pre);
	meters_now(&pre, d);
	room_pre(&o, sbuf_str(&pre));
	sbuf_release(&pre);
	for (size_t i = 0; i < d->npoints; i++) {
		const struct export_doc_point *p = &d->points[i];

		if (!p->shown && !p->missed)
			continue;
		if (!listed++)
			room_mark(&o, "\nRubriek tot nu toe:",
				  "<p><b>Rubriek tot nu toe</b></p>\n<ul>\n");
		stand_point(&o, p);
	}
	if (listed)
		room_mark(&o, "", "</ul>\n");
	else
		room_mark(&o, "\nNog geen rubriekmomenten.",
			  "<p>Nog geen rubriekmomenten.</p>\n");
	return 0;
}

/* The plain body of the room's debrief. */
static void text_doc(struct sbuf *sb, const struct export_doc *d)
{
	struct sbuf html;

	sbuf_init(&html);
	export_render_matrix(d, sb, &html, NULL);
	sbuf_release(&html);
}

/* ---- entry ---- */

int export_render(const struct export_doc *d, enum export_format fmt,
		  struct sbuf *out, struct err *err)
{
	switch (fmt) {
	case EXPORT_HTML:
		html_doc(out, d);
		return 0;
	case EXPORT_MD:
		md_doc(out, d);
		return 0;
	case EXPORT_JSON:
		return json_out(out, d, err);
	case EXPORT_TEXT:
		text_doc(out, d);
		return 0;
	}
	err_set(err, "export: onbekend formaat %d", (int)fmt);
	return -1;
}

int export_session(struct store *st, int64_t id, enum export_format fmt,
		   const struct export_info *info, FILE *out, struct err *err)
{
	struct export_doc d;
	struct sbuf sb;
	int rc;

	sbuf_init(&sb);
	rc = export_doc_load(&d, st, id, info, err);
	if (rc == 0)
		rc = export_render(&d, fmt, &sb, err);
	if (rc)
		goto out;
	if (fmt == EXPORT_TEXT)
		sbuf_addc(&sb, '\n');
	if (fwrite(sbuf_str(&sb), 1, sb.len, out) != sb.len ||
	    fflush(out) != 0 || ferror(out)) {
		err_set(err, "export: kan de nabespreking niet wegschrijven");
		rc = -1;
	}
out:
	export_doc_release(&d);
	sbuf_release(&sb);
	return rc;
}
