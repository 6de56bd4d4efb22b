/* export.c - see export.h
 *
 * The document is built in memory and written with one fwrite, so a
 * failed export never leaves half a page behind a success code. Every
 * string from the store is treated as untrusted: invalid UTF-8 becomes
 * U+FFFD and each format escapes what its readers would interpret.
 */
#include "export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "script.h"

#define QUOTE_CHARS 200          /* code points quoted from a message */
#define REPLACEMENT "\xef\xbf\xbd"
#define ELLIPSIS "\xe2\x80\xa6"

/* Chart geometry (SVG user units): values 0..10 map to PLOT_H pixels. */
#define SVG_W 600
#define SVG_H 290
#define PLOT_L 40
#define PLOT_T 20
#define PLOT_W 520
#define PLOT_H 200
#define MAX_XLABELS 20

/* one series per meter, named as the stored variables are */
enum series { VERTROUWEN = METER_TRUST, SPANNING = METER_TENSION,
	      NSERIES = NMETERS };
static const char *const *const series_name = script_meter_name;

struct chart_point {
	int beurt;
	double v[NSERIES];
	int has[NSERIES];
};

/* A rubric point to list: from export_info, or only seen in events. */
struct point_ref {
	const char *id;     /* borrowed */
	const char *label;  /* borrowed, NULL when unknown */
};

/* Everything one export reads, loaded once. */
struct doc {
	struct store_session s;
	struct store_turn *turns;
	size_t nturns;
	struct store_rubric *rubric;
	size_t nrubric;
	struct store_annotation *notes;
	size_t nnotes;
	const struct export_info *info;  /* may be NULL */
	const char *persona;             /* display name, borrowed */
	struct chart_point *chart;
	size_t nchart;
	struct point_ref *points;
	size_t npoints;
};

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

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t k;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		k = 1;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		k = 2;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		k = 3;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (k >= n)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[j] & 0x3f);
	}
	if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k + 1;
}

/* Copy the non-ASCII character at s (invalid bytes become U+FFFD);
 * returns the bytes consumed. */
static size_t add_utf8(struct sbuf *sb, const char *s, size_t n)
{
	size_t k = utf8_seq((const unsigned char *)s, n);

	if (!k) {
		sbuf_adds(sb, REPLACEMENT);
		return 1;
	}
	sbuf_add(sb, s, k);
	return k;
}

/* s as valid UTF-8 (for jansson, which rejects anything else). */
static char *clean_dup(const char *s)
{
	struct sbuf sb;
	size_t n = strlen(s), i = 0;

	sbuf_init(&sb);
	sbuf_add(&sb, "", 0);
	while (i < n) {
		if ((unsigned char)s[i] < 0x80)
			sbuf_addc(&sb, s[i++]);
		else
			i += add_utf8(&sb, s + i, n - i);
	}
	return sbuf_detach(&sb);
}

/* At most QUOTE_CHARS characters of s on one line, with an ellipsis
 * when cut. Caller frees. */
static char *quote_dup(const char *s)
{
	struct sbuf sb;
	size_t n = strlen(s), i = 0, chars = 0;
	int space = 0;

	sbuf_init(&sb);
	sbuf_add(&sb, "", 0);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
			space = sb.len > 0;
			i++;
			continue;
		}
		if (chars == QUOTE_CHARS) {
			sbuf_adds(&sb, ELLIPSIS);
			break;
		}
		if (space)
			sbuf_addc(&sb, ' ');
		space = 0;
		if (c < 0x80)
			sbuf_addc(&sb, s[i++]);
		else
			i += add_utf8(&sb, s + i, n - i);
		chars++;
	}
	return sbuf_detach(&sb);
}

/* HTML text or attribute value; br turns newlines into <br>. */
static void html_add(struct sbuf *sb, const char *s, int br)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80) {
			i += add_utf8(sb, s + i, n - i);
			continue;
		}
		i++;
		switch (c) {
		case '&': sbuf_adds(sb, "&amp;"); break;
		case '<': sbuf_adds(sb, "&lt;"); break;
		case '>': sbuf_adds(sb, "&gt;"); break;
		case '"': sbuf_adds(sb, "&quot;"); break;
		case '\'': sbuf_adds(sb, "&#39;"); break;
		case '\n': sbuf_adds(sb, br ? "<br>\n" : " "); break;
		case '\t': sbuf_addc(sb, ' '); break;
		default:
			if (c >= 0x20 && c != 0x7f)
				sbuf_addc(sb, (char)c);
			break;
		}
	}
}

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
			i += add_utf8(sb, s + i, n - i);
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

static void add_duration(struct sbuf *sb, const struct doc *d)
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

static const char *doc_title(const struct doc *d)
{
	if (d->s.title && *d->s.title)
		return d->s.title;
	return d->s.scenario ? d->s.scenario : "gesprek";
}

/* Who spoke, as the reader knows them. */
static const char *speaker_name(const struct doc *d,
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

static const struct store_turn *turn_by_seq(const struct doc *d, int seq)
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

static int note_has_turn(const struct doc *d,
			 const struct store_annotation *a)
{
	return turn_by_seq(d, a->turn_seq) != NULL;
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

/* vertrouwen and spanning per beurt: the last stored values of each. */
static void chart_build(struct doc *d)
{
	size_t cap = 0;

	for (size_t i = 0; i < d->nturns; i++) {
		const struct store_turn *t = &d->turns[i];
		struct chart_point p = { .beurt = t->beurt };
		json_t *o;
		int any = 0;

		if (!t->vars_json)
			continue;
		o = json_loads(t->vars_json, 0, NULL);
		for (int k = 0; json_is_object(o) && k < NSERIES; k++) {
			json_t *v = json_object_get(o, series_name[k]);

			if (!json_is_number(v))
				continue;
			p.v[k] = fmin(10.0, fmax(0.0, json_number_value(v)));
			p.has[k] = 1;
			any = 1;
		}
		json_decref(o);
		if (!any)
			continue;
		if (d->nchart && d->chart[d->nchart - 1].beurt == p.beurt) {
			d->chart[d->nchart - 1] = p;
			continue;
		}
		XGROW(d->chart, cap, d->nchart + 1);
		d->chart[d->nchart++] = p;
	}
}

/* The points of export_info in order, then ids only seen in events. */
static void points_build(struct doc *d)
{
	size_t cap = 0;
	const struct export_info *info = d->info;

	for (size_t i = 0; info && i < info->npoints; i++) {
		XGROW(d->points, cap, d->npoints + 1);
		d->points[d->npoints].id = info->points[i].id;
		d->points[d->npoints++].label = info->points[i].label;
	}
	for (size_t i = 0; i < d->nrubric; i++) {
		const char *id = d->rubric[i].point;
		size_t j;

		for (j = 0; j < d->npoints; j++)
			if (strcmp(d->points[j].id, id) == 0)
				break;
		if (j < d->npoints)
			continue;
		XGROW(d->points, cap, d->npoints + 1);
		d->points[d->npoints].id = id;
		d->points[d->npoints++].label = NULL;
	}
}

static void point_counts(const struct doc *d, const char *id, int *shown,
			 int *missed)
{
	*shown = *missed = 0;
	for (size_t i = 0; i < d->nrubric; i++) {
		if (strcmp(d->rubric[i].point, id) != 0)
			continue;
		if (d->rubric[i].shown)
			(*shown)++;
		else
			(*missed)++;
	}
}

static int doc_load(struct doc *d, struct store *st, int64_t id,
		    const struct export_info *info, struct err *err)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->info = info;
	rc = store_session_get(st, id, &d->s, err);
	if (rc)
		return rc;
	if (store_turns_get(st, id, &d->turns, &d->nturns, err) < 0 ||
	    store_rubric_get(st, id, &d->rubric, &d->nrubric, err) < 0 ||
	    store_annotations_get(st, id, &d->notes, &d->nnotes, err) < 0)
		return -1;
	if (info && info->persona_name)
		d->persona = info->persona_name;
	else if (d->s.persona)
		d->persona = d->s.persona;
	else
		d->persona = "Persona";
	chart_build(d);
	points_build(d);
	return 0;
}

static void doc_release(struct doc *d)
{
	store_session_release(&d->s);
	store_turns_free(d->turns, d->nturns);
	store_rubric_free(d->rubric, d->nrubric);
	store_annotations_free(d->notes, d->nnotes);
	free(d->chart);
	free(d->points);
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

static void html_chart(struct sbuf *sb, const struct doc *d)
{
	static const char *const color[NSERIES] = { "#1f6fb2", "#c0392b" };
	static const char *const dash[NSERIES] = {
		"", " stroke-dasharray=\"6 4\""
	};
	int bmin, bmax, step;

	sbuf_adds(sb, "<section class=\"verloop\">\n"
		  "<h2>Vertrouwen en spanning</h2>\n");
	if (!d->nchart) {
		sbuf_adds(sb, "<p class=\"leeg\">Geen verloop van vertrouwen "
			  "en spanning opgeslagen.</p>\n</section>\n");
		return;
	}
	bmin = d->chart[0].beurt;
	bmax = d->chart[d->nchart - 1].beurt;
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
	step = (int)((d->nchart + MAX_XLABELS - 1) / MAX_XLABELS);
	for (size_t i = 0; i < d->nchart; i += (size_t)step) {
		double x = bmax == bmin ? PLOT_L + PLOT_W / 2.0 :
			PLOT_L + (double)PLOT_W * (d->chart[i].beurt - bmin) /
			(bmax - bmin);

		sbuf_adds(sb, "<text x=\"");
		add_num(sb, x);
		sbuf_addf(sb, "\" y=\"%d\" text-anchor=\"middle\">%d</text>\n",
			  PLOT_T + PLOT_H + 18, d->chart[i].beurt);
	}
	sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
		  "beurt</text>\n</g>\n", PLOT_L + PLOT_W / 2,
		  PLOT_T + PLOT_H + 36);
	for (int k = 0; k < NSERIES; k++) {
		struct sbuf dots;

		sbuf_init(&dots);
		sbuf_addf(sb, "<polyline class=\"%s\" fill=\"none\" "
			  "stroke=\"%s\" stroke-width=\"2\"%s points=\"",
			  series_name[k], color[k], dash[k]);
		for (size_t i = 0, first = 1; i < d->nchart; i++) {
			const struct chart_point *p = &d->chart[i];
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
	for (int k = 0; k < NSERIES; k++) {
		int x = PLOT_L + 150 * k;
		int y = SVG_H - 10;

		sbuf_addf(sb, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			  "stroke=\"%s\" stroke-width=\"2\"%s/>"
			  "<text x=\"%d\" y=\"%d\" font-size=\"12\">"
			  "%s</text>\n",
			  x, y - 4, x + 24, y - 4, color[k], dash[k], x + 30,
			  y, series_name[k]);
	}
	sbuf_adds(sb, "</svg>\n</section>\n");
}

static void html_moment(struct sbuf *sb, const struct doc *d,
			const struct store_rubric *r)
{
	const struct store_turn *t = turn_by_seq(d, r->turn_seq);

	sbuf_addf(sb, "<li class=\"%s\"><b>%s</b>", r->shown ? "getoond" :
		  "gemist", r->shown ? "getoond" : "gemist");
	if (t) {
		char *q = quote_dup(r->quote ? r->quote : t->text);

		sbuf_addf(sb, " bij beurt %d: <q>", t->beurt);
		html_add(sb, q, 0);
		sbuf_adds(sb, "</q>");
		free(q);
	} else {
		sbuf_addf(sb, " (bericht %d niet gevonden)", r->turn_seq);
	}
	if (r->reason && *r->reason) {
		sbuf_adds(sb, " &mdash; ");
		html_add(sb, r->reason, 0);
	}
	sbuf_adds(sb, "</li>\n");
}

static void html_rubric(struct sbuf *sb, const struct doc *d)
{
	sbuf_adds(sb, "<section class=\"rubriek\">\n<h2>Rubriek</h2>\n");
	if (!d->npoints) {
		sbuf_adds(sb, "<p class=\"leeg\">Geen rubriekpunten.</p>\n"
			  "</section>\n");
		return;
	}
	sbuf_adds(sb, "<ul>\n");
	for (size_t i = 0; i < d->npoints; i++) {
		const struct point_ref *p = &d->points[i];
		int shown, missed;

		point_counts(d, p->id, &shown, &missed);
		sbuf_adds(sb, "<li><b>");
		html_add(sb, p->label ? p->label : p->id, 0);
		sbuf_adds(sb, "</b> <span class=\"id\">(");
		html_add(sb, p->id, 0);
		sbuf_adds(sb, ")</span>");
		if (!shown && !missed) {
			sbuf_adds(sb, " &mdash; <span class=\"leeg\">niet aan "
				  "bod gekomen</span></li>\n");
			continue;
		}
		sbuf_addf(sb, " &mdash; %d&times; getoond, %d&times; gemist"
			  "\n<ul>\n", shown, missed);
		for (int want = 1; want >= 0; want--)
			for (size_t j = 0; j < d->nrubric; j++)
				if (d->rubric[j].shown == want &&
				    strcmp(d->rubric[j].point, p->id) == 0)
					html_moment(sb, d, &d->rubric[j]);
		sbuf_adds(sb, "</ul></li>\n");
	}
	sbuf_adds(sb, "</ul>\n</section>\n");
}

static void html_note(struct sbuf *sb, const struct store_annotation *a)
{
	sbuf_adds(sb, "<aside class=\"notitie\"><b>");
	html_add(sb, note_kind(a->kind), 0);
	sbuf_adds(sb, "</b>");
	if (a->author) {
		sbuf_adds(sb, " van ");
		html_add(sb, a->author, 0);
	}
	sbuf_adds(sb, ": ");
	html_add(sb, a->text, 1);
	sbuf_adds(sb, "</aside>\n");
}

static void html_turn(struct sbuf *sb, const struct doc *d,
		      const struct store_turn *t)
{
	int trainee = strcmp(t->speaker, STORE_TRAINEE) == 0;
	char *rules = trainee ? rules_dup(t) : NULL;

	sbuf_adds(sb, "<div class=\"turn ");
	html_add(sb, t->speaker, 0);
	sbuf_adds(sb, "\">\n<p class=\"meta\"><b>");
	html_add(sb, speaker_name(d, t), 0);
	if (strcmp(t->speaker, STORE_COACH) == 0 && t->author) {
		sbuf_adds(sb, "</b> (");
		html_add(sb, t->author, 0);
		sbuf_adds(sb, ")<b>");
	}
	sbuf_adds(sb, "</b> ");
	add_clock(sb, t->ts_ms);
	if (trainee)
		sbuf_addf(sb, " &middot; beurt %d", t->beurt);
	sbuf_adds(sb, "</p>\n<p class=\"tekst\">");
	html_add(sb, t->text, 1);
	sbuf_adds(sb, "</p>\n");
	if (rules || (trainee && t->node)) {
		sbuf_adds(sb, "<p class=\"regels\">");
		if (rules) {
			sbuf_adds(sb, "regels: ");
			html_add(sb, rules, 0);
		}
		if (trainee && t->node) {
			sbuf_adds(sb, rules ? " &middot; fase: " : "fase: ");
			html_add(sb, t->node, 0);
		}
		sbuf_adds(sb, "</p>\n");
	}
	sbuf_adds(sb, "</div>\n");
	for (size_t i = 0; i < d->nnotes; i++)
		if (d->notes[i].turn_seq == t->seq)
			html_note(sb, &d->notes[i]);
	free(rules);
}

static void html_transcript(struct sbuf *sb, const struct doc *d)
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

static void html_doc(struct sbuf *sb, const struct doc *d)
{
	const char *ending_text = d->info ? d->info->ending_text : NULL;

	sbuf_adds(sb, "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n"
		  "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
		  "content=\"width=device-width, initial-scale=1\">\n"
		  "<title>Nabespreking: ");
	html_add(sb, doc_title(d), 0);
	sbuf_adds(sb, "</title>\n<style>\n");
	sbuf_adds(sb, html_css);
	sbuf_adds(sb, "</style>\n</head>\n<body>\n<header>\n"
		  "<h1>Nabespreking: ");
	html_add(sb, doc_title(d), 0);
	sbuf_adds(sb, "</h1>\n<dl class=\"info\">\n<dt>Scenario</dt><dd>");
	html_add(sb, d->s.scenario ? d->s.scenario : "", 0);
	sbuf_adds(sb, "</dd>\n<dt>Persona</dt><dd>");
	html_add(sb, d->persona, 0);
	sbuf_adds(sb, "</dd>\n<dt>Trainee</dt><dd>");
	html_add(sb, d->s.trainee ? d->s.trainee : "onbekend", 0);
	sbuf_adds(sb, "</dd>\n<dt>Begonnen</dt><dd>");
	add_date(sb, d->s.started_ms);
	sbuf_adds(sb, "</dd>\n<dt>Duur</dt><dd>");
	add_duration(sb, d);
	sbuf_adds(sb, "</dd>\n<dt>Einde</dt><dd>");
	sbuf_adds(sb, ending_label(d->s.ending ? d->s.ending_kind : NULL));
	if (d->s.ending) {
		sbuf_adds(sb, " <span class=\"id\">(");
		html_add(sb, d->s.ending, 0);
		sbuf_adds(sb, ")</span>");
	}
	sbuf_adds(sb, "</dd>\n</dl>\n");
	if (ending_text && *ending_text) {
		sbuf_adds(sb, "<p class=\"uitleg\">");
		html_add(sb, ending_text, 1);
		sbuf_adds(sb, "</p>\n");
	}
	sbuf_adds(sb, "</header>\n");
	html_chart(sb, d);
	html_rubric(sb, d);
	html_transcript(sb, d);
	sbuf_adds(sb, "</body>\n</html>\n");
}

/* ---- Markdown ---- */

static void md_chart(struct sbuf *sb, const struct doc *d)
{
	static const char *const bars[8] = {
		"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
		"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"
	};

	sbuf_adds(sb, "## Vertrouwen en spanning\n\n");
	if (!d->nchart) {
		sbuf_adds(sb, "_Geen verloop van vertrouwen en spanning "
			  "opgeslagen._\n\n");
		return;
	}
	sbuf_adds(sb, "| beurt | vertrouwen | spanning |\n"
		  "|---:|---:|---:|\n");
	for (size_t i = 0; i < d->nchart; i++) {
		const struct chart_point *p = &d->chart[i];

		sbuf_addf(sb, "| %d |", p->beurt);
		for (int k = 0; k < NSERIES; k++) {
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
	for (int k = 0; k < NSERIES; k++) {
		sbuf_addf(sb, "%-11s ", series_name[k]);
		for (size_t i = 0; i < d->nchart; i++) {
			const struct chart_point *p = &d->chart[i];

			if (p->has[k])
				sbuf_adds(sb, bars[lround(p->v[k] * 7 / 10)]);
			else
				sbuf_addc(sb, ' ');
		}
		sbuf_addc(sb, '\n');
	}
	sbuf_adds(sb, "```\n\n");
}

static void md_moment(struct sbuf *sb, const struct doc *d,
		      const struct store_rubric *r)
{
	const struct store_turn *t = turn_by_seq(d, r->turn_seq);

	sbuf_adds(sb, r->shown ? "  - getoond" : "  - gemist");
	if (t) {
		char *q = quote_dup(r->quote ? r->quote : t->text);

		sbuf_addf(sb, " bij beurt %d: \xe2\x80\x9c", t->beurt);
		md_add(sb, q, " ");
		sbuf_adds(sb, "\xe2\x80\x9d");
		free(q);
	} else {
		sbuf_addf(sb, " (bericht %d niet gevonden)", r->turn_seq);
	}
	if (r->reason && *r->reason) {
		sbuf_adds(sb, " \xe2\x80\x94 ");
		md_add(sb, r->reason, " ");
	}
	sbuf_addc(sb, '\n');
}

static void md_rubric(struct sbuf *sb, const struct doc *d)
{
	sbuf_adds(sb, "## Rubriek\n\n");
	if (!d->npoints)
		sbuf_adds(sb, "_Geen rubriekpunten._\n");
	for (size_t i = 0; i < d->npoints; i++) {
		const struct point_ref *p = &d->points[i];
		int shown, missed;

		point_counts(d, p->id, &shown, &missed);
		sbuf_adds(sb, "- **");
		md_add(sb, p->label ? p->label : p->id, " ");
		sbuf_adds(sb, "** (");
		md_add(sb, p->id, " ");
		sbuf_adds(sb, ")");
		if (!shown && !missed) {
			sbuf_adds(sb, " \xe2\x80\x94 _niet aan bod gekomen_\n");
			continue;
		}
		sbuf_addf(sb, " \xe2\x80\x94 %d\xc3\x97 getoond, "
			  "%d\xc3\x97 gemist\n", shown, missed);
		for (int want = 1; want >= 0; want--)
			for (size_t j = 0; j < d->nrubric; j++)
				if (d->rubric[j].shown == want &&
				    strcmp(d->rubric[j].point, p->id) == 0)
					md_moment(sb, d, &d->rubric[j]);
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

static void md_turn(struct sbuf *sb, const struct doc *d,
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

static void md_doc(struct sbuf *sb, const struct doc *d)
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
	char *c;
	json_t *v;

	if (!s)
		return json_null();
	c = clean_dup(s);
	v = json_string(c);
	free(c);
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

static json_t *json_session(const struct doc *d)
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
	return o;
}

static json_t *json_doc(const struct doc *d)
{
	json_t *root = json_object();
	json_t *turns = json_array(), *rubric = json_array();
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
		int shown, missed;

		point_counts(d, d->points[i].id, &shown, &missed);
		jset(o, "id", jstr(d->points[i].id));
		jset(o, "label", jstr(d->points[i].label));
		jset(o, "shown", json_integer(shown));
		jset(o, "missed", json_integer(missed));
		json_array_append_new(points, o);
	}
	jset(root, "turns", turns);
	jset(root, "rubric", rubric);
	jset(root, "annotations", notes);
	jset(root, "points", points);
	return root;
}

static int json_out(struct sbuf *sb, const struct doc *d, struct err *err)
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

/* ---- entry ---- */

int export_session(struct store *st, int64_t id, enum export_format fmt,
		   const struct export_info *info, FILE *out, struct err *err)
{
	struct doc d;
	struct sbuf sb;
	int rc;

	sbuf_init(&sb);
	rc = doc_load(&d, st, id, info, err);
	if (rc)
		goto out;
	switch (fmt) {
	case EXPORT_HTML:
		html_doc(&sb, &d);
		break;
	case EXPORT_MD:
		md_doc(&sb, &d);
		break;
	case EXPORT_JSON:
		rc = json_out(&sb, &d, err);
		break;
	default:
		err_set(err, "export: onbekend formaat %d", (int)fmt);
		rc = -1;
		break;
	}
	if (rc)
		goto out;
	if (fwrite(sbuf_str(&sb), 1, sb.len, out) != sb.len ||
	    fflush(out) != 0 || ferror(out)) {
		err_set(err, "export: kan de nabespreking niet wegschrijven");
		rc = -1;
	}
out:
	doc_release(&d);
	sbuf_release(&sb);
	return rc;
}
