/* test_export.c - a stored session as HTML, Markdown and JSON debrief. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "export.h"
#include "store.h"
#include "util.h"

#define STARTED INT64_C(1796824800000)  /* wo 9 dec 2026 14:00 UTC */

struct fx {
	char dir[64];
	char path[128];
	struct store *st;
	int64_t id;
	char long_text[400];
};

static const struct export_point points[] = {
	{ "vertrouwen", "Oprechte belangstelling, echt luisteren, serieus "
	  "nemen" },
	{ "begrip-taal", "Nagaan of je elkaar begrijpt; geen "
	  "hulpverlenerstaal" },
	{ "rechten", "Ouders wijzen op hun rechten" },
};

static const struct export_info info = {
	.points = points,
	.npoints = 3,
	.ending_text = "Sandra voelt zich gehoord en stemt in met een "
		       "volgende stap.",
	.persona_name = "Sandra",
};

static void turn(struct fx *fx, const char *speaker, const char *author,
		 const char *text, int beurt, const char *rules,
		 const char *vars, int64_t ts)
{
	struct store_turn t = { 0 };
	struct err err = { "" };

	t.session_id = fx->id;
	t.speaker = (char *)speaker;
	t.author = (char *)author;
	t.text = (char *)text;
	t.beurt = beurt;
	t.rules_json = (char *)rules;
	t.vars_json = (char *)vars;
	t.node = strcmp(speaker, STORE_TRAINEE) == 0 ? "de-brief" : NULL;
	t.ts_ms = ts;
	if (store_turn_add(fx->st, &t, &err) != 0)
		fail_msg("turn: %s", err.msg);
}

static void moment(struct fx *fx, int seq, const char *point, int shown,
		   const char *reason, const char *quote)
{
	struct store_rubric r = { 0 };
	struct err err = { "" };

	r.session_id = fx->id;
	r.turn_seq = seq;
	r.point = (char *)point;
	r.shown = shown;
	r.reason = (char *)reason;
	r.quote = (char *)quote;
	assert_int_equal(store_rubric_add(fx->st, &r, &err), 0);
}

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	struct store_session s = { 0 };
	struct store_annotation a = { 0 };
	struct err err = { "" };
	size_t i;

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/oef-export-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/e.db", fx->dir);
	if (store_open(fx->path, &fx->st, &err) != 0)
		fail_msg("%s", err.msg);
	s.scenario = "moeder-brief";
	s.title = "De brief over de natte broek";
	s.persona = "sandra";
	s.seed = 42;
	s.trainee = "terminal";
	s.started_ms = STARTED;
	s.ended_ms = STARTED + 725000;
	s.ending = "sandra-gaat-akkoord";
	s.ending_kind = "goed";
	assert_int_equal(store_session_new(fx->st, &s, &err), 0);
	fx->id = s.id;

	/* 300 characters, the 201st is the first 'B' */
	for (i = 0; i < 200; i++)
		fx->long_text[i] = 'a' + (char)(i % 26);
	for (; i < 300; i++)
		fx->long_text[i] = 'B';
	fx->long_text[i] = '\0';

	turn(fx, STORE_NOTICE, NULL, "Je bent jeugdbeschermer.", 0, NULL,
	     NULL, STARTED + 1000);                                     /* 1 */
	turn(fx, STORE_PERSONA, "sandra", "Goedemiddag.", 0, NULL,
	     "{\"vertrouwen\":3,\"spanning\":5,\"brief\":0}",
	     STARTED + 2000);                                           /* 2 */
	turn(fx, STORE_TRAINEE, NULL, "Hoe gaat het met u? "
	     "<script>alert('x')</script> & \"zo\"", 1,
	     "[\"vraagt-hoe\"]", "{\"vertrouwen\":4,\"spanning\":4}",
	     STARTED + 61000);                                          /* 3 */
	turn(fx, STORE_PERSONA, "sandra", "Gaat wel.", 1, NULL,
	     "{\"vertrouwen\":4,\"spanning\":4}", STARTED + 62000);     /* 4 */
	turn(fx, STORE_TRAINEE, NULL, "Er komt misschien een OTS | `code`\n"
	     "# kop", 2, "[\"jargon-vraagt-uitleg\",\"druk\"]",
	     "{\"vertrouwen\":3,\"spanning\":6}", STARTED + 120000);    /* 5 */
	turn(fx, STORE_PERSONA, "sandra", "Wat bedoelt u met OTS?", 2, NULL,
	     NULL, STARTED + 121000);                                   /* 6 */
	turn(fx, STORE_TRAINEE, NULL, fx->long_text, 3, NULL,
	     "{\"vertrouwen\":6,\"spanning\":3}", STARTED + 300000);    /* 7 */
	turn(fx, STORE_COACH, "@coach:example.org", "Mooi zo.", 3, NULL,
	     NULL, STARTED + 310000);                                   /* 8 */
	turn(fx, STORE_OTHER, "@buur:example.org", "kapot \xff teken", 3,
	     NULL, NULL, STARTED + 320000);                             /* 9 */

	moment(fx, 3, "vertrouwen", 1, NULL, NULL);
	/* the clause that earned it, not the whole message */
	moment(fx, 5, "begrip-taal", 0, "afkorting of vakterm zonder uitleg",
	       "Er komt misschien een OTS");
	moment(fx, 7, "begrip-taal", 1, "legt uit", NULL);
	moment(fx, 7, "eigen-punt", 1, NULL, NULL);

	a.session_id = fx->id;
	a.turn_seq = 5;
	a.author = "@coach:example.org";
	a.kind = "tip";
	a.text = "Hier had je OTS kunnen uitleggen.";
	assert_int_equal(store_annotation_add(fx->st, &a, &err), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char p[256];

	store_free(fx->st);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Export to memory; caller frees. */
static char *export(struct fx *fx, enum export_format fmt,
		    const struct export_info *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct err err = { "" };
	int rc;

	assert_non_null(f);
	rc = export_session(fx->st, fx->id, fmt, in, f, &err);
	fclose(f);
	if (rc != 0)
		fail_msg("export: %s", err.msg);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static void has(const char *doc, const char *needle)
{
	if (!strstr(doc, needle))
		fail_msg("missing: %s", needle);
}

static const char *after(const char *doc, const char *a, const char *b)
{
	const char *pa = strstr(doc, a);
	const char *pb = pa ? strstr(pa + strlen(a), b) : NULL;

	if (!pb)
		fail_msg("'%s' is not followed by '%s'", a, b);
	return pb;
}

static void test_format_parse(void **state)
{
	enum export_format f = EXPORT_JSON;

	assert_int_equal(export_format_parse("html", &f), 0);
	assert_int_equal(f, EXPORT_HTML);
	assert_int_equal(export_format_parse("md", &f), 0);
	assert_int_equal(f, EXPORT_MD);
	assert_int_equal(export_format_parse("json", &f), 0);
	assert_int_equal(f, EXPORT_JSON);
	assert_int_equal(export_format_parse("text", &f), 0);
	assert_int_equal(f, EXPORT_TEXT);
	assert_int_equal(export_format_parse("pdf", &f), -1);
	assert_int_equal(export_format_parse("", &f), -1);
	assert_int_equal(export_format_parse(NULL, &f), -1);
}

static void test_html(void **state)
{
	struct fx *fx = *state;
	char *h = export(fx, EXPORT_HTML, &info);
	const char *p;

	assert_memory_equal(h, "<!DOCTYPE html>\n", 16);
	has(h, "<meta charset=\"utf-8\">");
	has(h, "@media print");
	has(h, "</html>\n");
	/* self-contained: no scripts, no external resources */
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "<link"));
	assert_null(strstr(h, "src="));
	assert_null(strstr(h, "href="));

	/* header */
	has(h, "<h1>Nabespreking: De brief over de natte broek</h1>");
	has(h, "<dd>Sandra</dd>");
	has(h, "<dd>terminal</dd>");
	has(h, "woensdag 9 december 2026, 14:00");
	has(h, "<dd>12 min 5 s</dd>");
	has(h, "goed einde <span class=\"id\">(sandra-gaat-akkoord)</span>");
	has(h, "Sandra voelt zich gehoord en stemt in met een volgende stap.");

	/* the chart: x = 40 + 520 * beurt / 3, y = 20 + 20 * (10 - v) */
	has(h, "<polyline class=\"vertrouwen\"");
	has(h, "points=\"40,160 213.3,140 386.7,160 560,100\"");
	has(h, "points=\"40,120 213.3,140 386.7,100 560,160\"");
	has(h, ">vertrouwen</text>");
	has(h, ">spanning</text>");
	has(h, "<text x=\"386.7\" y=\"238\" text-anchor=\"middle\">2</text>");

	/* escaping */
	has(h, "Hoe gaat het met u? &lt;script&gt;alert(&#39;x&#39;)"
	    "&lt;/script&gt; &amp; &quot;zo&quot;");
	has(h, "kapot \xef\xbf\xbd teken");

	/* transcript: speakers, times, rules, the annotation in place */
	has(h, "<b>Oefenkamer</b> 14:00:01");
	has(h, "<b>Sandra</b> 14:00:02");
	has(h, "<b>Trainee</b> 14:01:01 &middot; beurt 1");
	has(h, "<b>Coach</b> (@coach:example.org)");
	has(h, "<b>@buur:example.org</b>");
	has(h, "regels: vraagt-hoe &middot; fase: de-brief");
	has(h, "regels: jargon-vraagt-uitleg, druk");
	has(h, "Er komt misschien een OTS | `code`<br>\n# kop");
	p = after(h, "<h2>Gesprek</h2>", "Er komt misschien een OTS");
	p = after(p, "# kop", "<b>Tip</b> van @coach:example.org: "
		  "Hier had je OTS kunnen uitleggen.");
	after(p, "Hier had je", "Wat bedoelt u met OTS?");

	/* rubric, in the order of the points, quoting the trainee */
	p = after(h, "<h2>Rubriek</h2>", "Oprechte belangstelling");
	p = after(p, "1&times; getoond, 0&times; gemist",
		  "getoond</b> bij beurt 1: <q>Hoe gaat het met u? "
		  "&lt;script&gt;");
	p = after(p, "Nagaan of je elkaar begrijpt",
		  "1&times; getoond, 1&times; gemist");
	p = after(p, "getoond</b> bij beurt 3: <q>abcdefghij", "</q>");
	p = after(p, "gemist</b> bij beurt 2: <q>Er komt misschien een OTS"
		  "</q> &mdash; afkorting of vakterm zonder "
		  "uitleg", "Ouders wijzen op hun rechten");
	p = after(p, "rechten", "niet aan bod gekomen");
	after(p, "niet aan bod gekomen", "<b>eigen-punt</b>");
	/* the long message is quoted to 200 characters and an ellipsis */
	{
		char q[260];

		snprintf(q, sizeof(q), "<q>%.200s\xe2\x80\xa6</q>",
			 fx->long_text);
		has(h, q);
		assert_null(strstr(h, "<q>abcdefghijklmnopqrstuvwxyzab"
				   "cdefghijklmnopqrstuvwxyzabcdefghijklmnop"
				   "qrstuvwxyzabcdefghijklmnopqrstuvwxyzabcd"
				   "efghijklmnopqrstuvwxyzabcdefghijklmnopqr"
				   "stuvwxyzabcdefghijklmnopqrstuvwxyzabcdef"
				   "ghijklmnopqrsB"));
	}
	free(h);
}

static void test_markdown(void **state)
{
	struct fx *fx = *state;
	char *m = export(fx, EXPORT_MD, &info);
	const char *p;

	assert_memory_equal(m, "# Nabespreking: De brief over de natte "
			    "broek\n", 45);
	has(m, "- **Persona:** Sandra\n");
	has(m, "- **Begonnen:** woensdag 9 december 2026, 14:00\n");
	has(m, "- **Duur:** 12 min 5 s\n");
	has(m, "- **Einde:** goed einde (sandra-gaat-akkoord)\n");
	has(m, "> Sandra voelt zich gehoord");

	has(m, "| beurt | vertrouwen | spanning |\n|---:|---:|---:|\n"
	    "| 0 | 3 | 5 |\n| 1 | 4 | 4 |\n| 2 | 3 | 6 |\n| 3 | 6 | 3 |\n");
	/* levels 0..7 of U+2581..U+2588: 3,4,3,6 -> 2,3,2,4 */
	has(m, "vertrouwen  \xe2\x96\x83\xe2\x96\x84\xe2\x96\x83"
	    "\xe2\x96\x85\n");
	has(m, "spanning    \xe2\x96\x85\xe2\x96\x84\xe2\x96\x85"
	    "\xe2\x96\x83\n");

	/* escaping in the transcript: a quote block per turn */
	has(m, "> Hoe gaat het met u? \\<script\\>alert('x')\\</script\\> "
	    "\\& \"zo\"\n");
	has(m, "> Er komt misschien een OTS \\| \\`code\\`  \n> \\# kop\n");
	for (p = strchr(m, '<'); p; p = strchr(p + 1, '<'))
		assert_true(p > m && p[-1] == '\\');
	has(m, "**Trainee** \xc2\xb7 14:01:01 \xc2\xb7 beurt 1\n");
	has(m, "_regels: vraagt-hoe \xc2\xb7 fase: de-brief_");
	p = after(m, "\\# kop", "_Tip van @coach:example.org:_ "
		  "Hier had je OTS kunnen uitleggen.");
	after(p, "Hier had je", "Wat bedoelt u met OTS?");

	/* rubric */
	p = after(m, "## Rubriek", "- **Oprechte belangstelling");
	p = after(p, "  - getoond bij beurt 1: \xe2\x80\x9cHoe gaat het met "
		  "u? \\<script\\>", "- **Nagaan of je elkaar begrijpt");
	p = after(p, "  - gemist bij beurt 2: \xe2\x80\x9c"
		  "Er komt misschien een OTS"
		  "\xe2\x80\x9d \xe2\x80\x94 afkorting of vakterm zonder "
		  "uitleg\n", "- **Ouders wijzen op hun rechten** (rechten) "
		  "\xe2\x80\x94 _niet aan bod gekomen_\n");
	after(p, "niet aan bod", "- **eigen-punt** (eigen-punt)");
	free(m);
}

static void test_json(void **state)
{
	struct fx *fx = *state;
	char *j = export(fx, EXPORT_JSON, &info);
	json_error_t jerr;
	json_t *root = json_loads(j, 0, &jerr);
	json_t *s, *turns, *t, *pts;

	if (!root)
		fail_msg("json: %s (line %d)", jerr.text, jerr.line);
	s = json_object_get(root, "session");
	assert_string_equal(json_string_value(json_object_get(s, "title")),
			    "De brief over de natte broek");
	assert_string_equal(json_string_value(json_object_get(s,
				"ending_kind")), "goed");
	assert_string_equal(json_string_value(json_object_get(s, "seed")),
			    "42");
	assert_int_equal(json_integer_value(json_object_get(s, "nturns")), 9);
	turns = json_object_get(root, "turns");
	assert_int_equal(json_array_size(turns), 9);
	assert_int_equal(json_array_size(json_object_get(root, "rubric")), 4);
	assert_true(json_is_null(json_object_get(json_array_get(
		json_object_get(root, "rubric"), 0), "quote")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(root, "rubric"), 1), "quote")),
		"Er komt misschien een OTS");
	assert_int_equal(json_array_size(json_object_get(root,
				"annotations")), 1);
	pts = json_object_get(root, "points");
	assert_int_equal(json_array_size(pts), 4);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(pts, 3), "id")), "eigen-punt");
	assert_true(json_is_null(json_object_get(json_array_get(pts, 3),
						 "label")));
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(pts, 1), "missed")), 1);

	/* vars and rules are JSON values, not strings */
	t = json_array_get(turns, 2);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(t, "vars"), "vertrouwen")), 4);
	assert_true(json_is_array(json_object_get(t, "rules")));
	assert_string_equal(json_string_value(json_object_get(t, "text")),
			    "Hoe gaat het met u? <script>alert('x')</script> "
			    "& \"zo\"");
	assert_true(json_is_null(json_object_get(json_array_get(turns, 0),
						 "vars")));
	/* invalid UTF-8 is replaced, not dropped */
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(turns, 8), "text")), "kapot \xef\xbf\xbd teken");
	json_decref(root);
	free(j);
}

static void test_not_found(void **state)
{
	struct fx *fx = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct err err = { "" };

	assert_int_equal(export_session(fx->st, 999, EXPORT_HTML, &info, f,
					&err), 1);
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
}

/* No scenario at hand: the persona id names the persona, every point
 * seen is listed by id, an open session is "niet afgerond". */
static void test_without_info(void **state)
{
	struct fx *fx = *state;
	struct store_session s = { 0 };
	struct err err = { "" };
	const struct export_info none = { 0 };
	char *h, *m;

	s.scenario = "leeg";
	s.persona = "kees";
	s.started_ms = STARTED;
	assert_int_equal(store_session_new(fx->st, &s, &err), 0);
	fx->id = s.id;
	turn(fx, STORE_PERSONA, NULL, "Ja?", 0, NULL, NULL, STARTED + 5000);
	moment(fx, 1, "locatie", 0, NULL, NULL);
	h = export(fx, EXPORT_HTML, NULL);
	has(h, "<dd>kees</dd>");
	has(h, "<dt>Einde</dt><dd>niet afgerond</dd>");
	has(h, "5 s tot het laatste bericht");
	has(h, "<h1>Nabespreking: leeg</h1>");
	has(h, "Geen verloop van vertrouwen en spanning opgeslagen.");
	has(h, "<b>locatie</b>");
	free(h);
	m = export(fx, EXPORT_MD, &none);
	has(m, "- **Einde:** niet afgerond\n");
	has(m, "_Geen verloop van vertrouwen en spanning opgeslagen._");
	free(m);
	free(export(fx, EXPORT_JSON, NULL));
}

/* The short text debrief the bot posts in the room, from the same
 * model. */
static char *room_text(struct fx *fx, const struct export_info *in)
{
	struct export_doc d;
	struct sbuf sb;
	struct err err = { "" };

	sbuf_init(&sb);
	if (export_doc_load(&d, fx->st, fx->id, in, &err) != 0)
		fail_msg("load: %s", err.msg);
	assert_int_equal(export_render(&d, EXPORT_TEXT, &sb, &err), 0);
	export_doc_release(&d);
	return sbuf_detach(&sb);
}

/* What the JSON export says, worked out here from its raw turns and
 * rubric rows: the trainee turns (distinct beurten), the last stored
 * value of each meter per beurt (the opening's beurt 0 included), and
 * per moment its shown flag and beurt. */
struct said {
	int beurten;
	int nsteps;
	int v[2][16];
	int nmoments;
	int shown[16], beurt[16];
};

static void said_from_json(const char *j, struct said *w)
{
	json_t *root = json_loads(j, 0, NULL), *turns, *rubric, *t;
	int last_beurt = -1, last_trainee = 0;
	size_t i;

	memset(w, 0, sizeof(*w));
	assert_non_null(root);
	turns = json_object_get(root, "turns");
	rubric = json_object_get(root, "rubric");
	json_array_foreach(turns, i, t) {
		int b = (int)json_integer_value(json_object_get(t, "beurt"));
		json_t *vars = json_object_get(t, "vars");

		if (!strcmp(json_string_value(json_object_get(t, "speaker")),
			    "trainee") && b > last_trainee) {
			w->beurten++;
			last_trainee = b;
		}
		if (!json_is_object(vars))
			continue;
		if (b != last_beurt)
			w->nsteps++;
		assert_true(w->nsteps <= 16);
		last_beurt = b;
		w->v[0][w->nsteps - 1] = (int)json_integer_value(
			json_object_get(vars, "vertrouwen"));
		w->v[1][w->nsteps - 1] = (int)json_integer_value(
			json_object_get(vars, "spanning"));
	}
	json_array_foreach(rubric, i, t) {
		int seq = (int)json_integer_value(json_object_get(t,
							"turn_seq"));
		size_t k;
		json_t *u;

		assert_true(w->nmoments < 16);
		w->shown[w->nmoments] = json_is_true(json_object_get(t,
								"shown"));
		json_array_foreach(turns, k, u)
			if (json_integer_value(json_object_get(u, "seq")) ==
			    seq)
				w->beurt[w->nmoments] = (int)
					json_integer_value(json_object_get(u,
								"beurt"));
		w->nmoments++;
	}
	json_decref(root);
}

/* Meter name's sparkline in the text: one bar per step, then
 * "  (first → last)". */
static void text_meter(const char *text, const char *name, int nsteps,
		       const int *v)
{
	static const char *const bars[8] = {
		"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"
	};
	char head[32], tail[64];
	const char *p;

	snprintf(head, sizeof(head), "\n%-10s ", name);
	p = strstr(text, head);
	if (!p)
		fail_msg("no sparkline for %s", name);
	p += strlen(head);
	for (int i = 0; i < nsteps; i++) {
		const char *want = bars[(v[i] * 7 + 5) / 10];

		if (strncmp(p, want, strlen(want)) != 0)
			fail_msg("%s: step %d is not %s: %.20s", name, i, want,
				 p);
		p += strlen(want);
	}
	snprintf(tail, sizeof(tail), "  (%d → %d)\n", v[0], v[nsteps - 1]);
	if (strncmp(p, tail, strlen(tail)) != 0)
		fail_msg("%s: after the bars '%s', not '%.30s'", name, tail,
			 p);
}

/* The moments in the text, "✔ getoond bij beurt N" / "✘ gemist bij
 * beurt N", compared as a multiset with what the JSON says. */
static void text_moments(const char *text, const struct said *w)
{
	int used[16] = { 0 }, n = 0;
	const char *p = text;

	while ((p = strstr(p, "\n  ")) != NULL) {
		int shown, beurt, k;

		p += 3;
		if (!strncmp(p, "✔ getoond bij beurt ", strlen("✔ getoond "
							"bij beurt ")))
			shown = 1;
		else if (!strncmp(p, "✘ gemist bij beurt ", strlen("✘ gemist "
							  "bij beurt ")))
			shown = 0;
		else
			continue;
		p = strstr(p, "beurt ") + 6;
		beurt = (int)strtol(p, NULL, 10);
		for (k = 0; k < w->nmoments; k++)
			if (!used[k] && w->shown[k] == shown &&
			    w->beurt[k] == beurt)
				break;
		if (k == w->nmoments)
			fail_msg("moment %s at beurt %d not in the export",
				 shown ? "shown" : "missed", beurt);
		used[k] = 1;
		n++;
	}
	assert_int_equal(n, w->nmoments);
}

/* The room's text and the export agree on the turns, the meters and the
 * rubric moments; two messages answered as one count as one beurt, and
 * the chart starts at the opening's values. */
static void test_text_agrees(void **state)
{
	struct fx *fx = *state;
	struct said w;
	char *j, *t, *m, want[64];

	/* a second message in beurt 3, answered together with the first */
	turn(fx, STORE_TRAINEE, NULL, "En nog iets.", 3, NULL,
	     "{\"vertrouwen\":7,\"spanning\":2}", STARTED + 330000);   /* 10 */
	moment(fx, 10, "rechten", 0, NULL, NULL);
	j = export(fx, EXPORT_JSON, &info);
	t = room_text(fx, &info);
	m = export(fx, EXPORT_MD, &info);
	said_from_json(j, &w);
	/* what the fixture stored, so the helper cannot agree by accident */
	assert_int_equal(w.beurten, 3);
	assert_int_equal(w.nsteps, 4);
	assert_int_equal(w.v[0][0], 3);
	assert_int_equal(w.v[0][3], 7);
	assert_int_equal(w.nmoments, 5);

	snprintf(want, sizeof(want), "\nVerloop over %d beurten:", w.beurten);
	has(t, want);
	snprintf(want, sizeof(want), "\"beurten\": %d", w.beurten);
	has(j, want);
	text_meter(t, "vertrouwen", w.nsteps, w.v[0]);
	text_meter(t, "spanning", w.nsteps, w.v[1]);
	/* the Markdown table has the same steps, starting value first */
	has(m, "| 0 | 3 | 5 |\n| 1 | 4 | 4 |\n| 2 | 3 | 6 |\n| 3 | 7 | 2 |\n");
	text_moments(t, &w);
	/* the points in the scenario's order, the quote cut at a word */
	after(t, "\nOprechte belangstelling", "\nNagaan of je elkaar");
	after(t, "\nNagaan of je elkaar", "\nOuders wijzen op hun rechten:");
	has(t, "✘ gemist bij beurt 2: “Er komt misschien een OTS” "
	    "(afkorting of vakterm zonder uitleg)");
	has(t, "✔ getoond bij beurt 1: “Hoe gaat het met u? "
	    "<script>alert('x')</script> & \"zo\"”");
	has(t, "\nAantekeningen van de coaches:\n  beurt 2, "
	    "@coach:example.org (tip): Hier had je OTS kunnen uitleggen.");
	assert_true(!strncmp(t, "Einde van de oefening: De brief over de "
			     "natte broek — het gesprek is goed afgerond.\n"
			     "Sandra voelt zich gehoord", 100));
	free(j);
	free(t);
	free(m);
}

/* An open session: "loopt nog", no ending text, the meters so far. */
static void test_text_open(void **state)
{
	struct fx *fx = *state;
	struct store_session s = { 0 };
	struct err err = { "" };
	char *t;

	s.scenario = "leeg";
	s.title = "Leeg";
	s.persona = "kees";
	s.started_ms = STARTED;
	assert_int_equal(store_session_new(fx->st, &s, &err), 0);
	fx->id = s.id;
	turn(fx, STORE_PERSONA, NULL, "Ja?", 0, NULL,
	     "{\"vertrouwen\":5,\"spanning\":5}", STARTED + 5000);
	t = room_text(fx, &info);
	assert_string_equal(t, "Nabespreking: Leeg — de oefening loopt nog.\n"
			    "Verloop over 0 beurten:\n"
			    "vertrouwen ▅  (5 → 5)\n"
			    "spanning   ▅  (5 → 5)\n"
			    "Geen rubriekmomenten.\n"
			    "Sessie 2. Een trainer maakt de volledige "
			    "nabespreking met: oefenkamer export 2 --format "
			    "html");
	free(t);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		T(test_html),
		T(test_markdown),
		T(test_json),
		T(test_not_found),
		T(test_without_info),
		T(test_text_agrees),
		T(test_text_open),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
