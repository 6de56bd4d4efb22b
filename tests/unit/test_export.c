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
	p = after(p, "rechten", "geen moment herkend");
	after(p, "geen moment herkend", "<b>eigen-punt</b>");
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
		  "\xe2\x80\x94 _geen moment herkend_\n");
	after(p, "geen moment herkend", "- **eigen-punt** (eigen-punt)");
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

/* Meter name's row in the text's meter table: "name  begin  eind  "
 * then one bar per step, starting value first. */
static void text_meter(const char *text, const char *name, int nsteps,
		       const int *v)
{
	static const char *const bars[8] = {
		"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"
	};
	char head[32];
	const char *p;
	char *end;
	long first, last;

	snprintf(head, sizeof(head), "\n%s ", name);
	p = strstr(text, head);
	if (!p)
		fail_msg("no meter row for %s", name);
	p += strlen(head);
	first = strtol(p, &end, 10);
	last = strtol(end, &end, 10);
	assert_int_equal(first, v[0]);
	assert_int_equal(last, v[nsteps - 1]);
	if (strncmp(end, "  ", 2) != 0)
		fail_msg("%s: no bars after the values: %.20s", name, end);
	p = end + 2;
	for (int i = 0; i < nsteps; i++) {
		const char *want = bars[(v[i] * 7 + 5) / 10];

		if (strncmp(p, want, strlen(want)) != 0)
			fail_msg("%s: step %d is not %s: %.20s", name, i, want,
				 p);
		p += strlen(want);
	}
	if (*p != '\n' && *p != '\0')
		fail_msg("%s: more bars than steps: %.20s", name, p);
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

	snprintf(want, sizeof(want), "\n\nVerloop over %d beurten:\n",
		 w.beurten);
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
	after(t, "\nNagaan of je elkaar", "\nOuders wijzen op hun rechten "
	      "\xe2\x80\x94 1 keer gemist\n");
	has(t, "✘ gemist bij beurt 2: “Er komt misschien een OTS” "
	    "(afkorting of vakterm zonder uitleg)");
	has(t, "✔ getoond bij beurt 1: “Hoe gaat het met u? "
	    "<script>alert('x')</script> & \"zo\"”");
	has(t, "\n\nAantekening van een coach:\n  bij beurt 2, "
	    "Tip van @coach:example.org: Hier had je OTS kunnen uitleggen.");
	/* no command line for the trainee */
	assert_null(strstr(t, "oefenkamer export"));
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
			    "\n"
			    "Verloop over 0 beurten:\n"
			    "             begin  eind  per beurt\n"
			    "vertrouwen       5     5  ▅\n"
			    "spanning         5     5  ▅\n"
			    "\n"
			    "Rubriek:\n"
			    "Nog geen rubriekmomenten.\n"
			    "Geen moment herkend (kijk het zelf na in het gesprek):\n"
			    "  - Oprechte belangstelling, echt luisteren, "
			    "serieus nemen\n"
			    "  - Nagaan of je elkaar begrijpt; geen "
			    "hulpverlenerstaal\n"
			    "  - Ouders wijzen op hun rechten");
	free(t);
}

/* A new session of scenario (title as given, or NULL), persona kees,
 * ended a minute in when ended; it becomes fx->id. */
static void new_session(struct fx *fx, const char *scenario,
			const char *title, int ended)
{
	struct store_session s = { 0 };
	struct err err = { "" };

	s.scenario = (char *)scenario;
	s.title = (char *)title;
	s.persona = "kees";
	s.started_ms = STARTED;
	s.ended_ms = ended ? STARTED + 60000 : 0;
	assert_int_equal(store_session_new(fx->st, &s, &err), 0);
	fx->id = s.id;
}

/* The room's debrief as a Matrix message (body and formatted_body) and
 * !stand, both from the loaded model; caller frees *body and *html. */
static void room_msg(struct fx *fx, const struct export_info *in,
		     const char *phase, int paused, int stand, char **body,
		     char **html)
{
	struct export_doc d;
	struct sbuf b, h;
	struct err err = { "" };

	sbuf_init(&b);
	sbuf_init(&h);
	if (export_doc_load(&d, fx->st, fx->id, in, &err) != 0)
		fail_msg("load: %s", err.msg);
	if (stand)
		assert_int_equal(export_render_stand(&d, phase, paused, &b,
						     &h, &err), 0);
	else
		assert_int_equal(export_render_matrix(&d, &b, &h, &err), 0);
	export_doc_release(&d);
	*body = sbuf_detach(&b);
	*html = sbuf_detach(&h);
}

static int count(const char *doc, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(doc, needle); p;
	     p = strstr(p + strlen(needle), needle))
		n++;
	return n;
}

/* Every element the formatted body opens is closed, and nothing
 * outside the subset clients render (no CSS, no SVG, no classes). */
static void html_subset(const char *h)
{
	static const char *const tags[] = {
		"h3", "h4", "p", "ul", "li", "b", "em", "pre"
	};
	const char *p = h;
	char open[16], close[16];

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		snprintf(open, sizeof(open), "<%s>", tags[i]);
		snprintf(close, sizeof(close), "</%s>", tags[i]);
		if (count(h, open) != count(h, close))
			fail_msg("<%s>: %d opened, %d closed", tags[i],
				 count(h, open), count(h, close));
	}
	while ((p = strchr(p, '<')) != NULL) {
		size_t i, n;

		p++;
		if (*p == '/')
			p++;
		n = strcspn(p, ">");
		for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
			if (strlen(tags[i]) == n && !strncmp(p, tags[i], n))
				break;
		if (i == sizeof(tags) / sizeof(tags[0]))
			fail_msg("element outside the subset: <%.20s", p);
	}
}

/* The lines of the first <pre> block, entities undone; caller frees. */
static char *pre_block(const char *h)
{
	const char *a = strstr(h, "<pre>"), *b;
	struct sbuf sb;

	assert_non_null(a);
	a += 5;
	b = strstr(a, "</pre>");
	assert_non_null(b);
	sbuf_init(&sb);
	while (a < b) {
		if (!strncmp(a, "&amp;", 5)) {
			sbuf_addc(&sb, '&');
			a += 5;
		} else {
			assert_true(*a != '<' && *a != '&');
			sbuf_addc(&sb, *a++);
		}
	}
	return sbuf_detach(&sb);
}

/* The column (in characters) where field k (0-based, split at runs of
 * spaces) of line starts; -1 if there are fewer fields. */
static int field_col(const char *line, size_t len, int k)
{
	int col = 0, field = -1, in = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c & 0xc0) == 0x80)
			continue;   /* a continuation byte: same character */
		if (c != ' ' && !in) {
			if (++field == k)
				return col;
		}
		in = c != ' ';
		col++;
	}
	return -1;
}

/* The end column of field k: where the next space run starts. */
static int field_end(const char *line, size_t len, int k)
{
	int start = field_col(line, len, k), col = 0;

	if (start < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c & 0xc0) == 0x80)
			continue;
		if (col > start && c == ' ')
			return col;
		col++;
	}
	return col;
}

/* A debrief as a trainee sees it in a client: headings, the meters in
 * a <pre> block, each touched point once as a list item with its
 * moments, the untouched ones listed, the coaches' note, no command
 * line, nothing outside the subset; the body says the same. */
static void test_matrix_debrief(void **state)
{
	struct fx *fx = *state;
	char *b, *h;

	room_msg(fx, &info, NULL, 0, 0, &b, &h);
	html_subset(h);
	has(h, "<h3>Einde van de oefening: De brief over de natte broek"
	    "</h3>\n<p>Het gesprek is goed afgerond.</p>\n"
	    "<p><em>Sandra voelt zich gehoord");
	has(h, "<h4>Verloop over 3 beurten</h4>\n<pre>");
	has(h, "<h4>Rubriek</h4>\n<ul>\n");
	/* each touched point once, as a list item, in the scenario order */
	assert_int_equal(count(h, "<li><b>Oprechte belangstelling"), 1);
	assert_int_equal(count(h, "<li><b>Nagaan of je elkaar begrijpt; "
			       "geen hulpverlenerstaal</b> — 1 keer getoond, "
			       "1 keer gemist\n<ul>\n"), 1);
	assert_int_equal(count(h, "<li><b>eigen-punt</b> — 1 keer "
			       "getoond\n<ul>\n"), 1);
	assert_int_equal(count(b, "\nNagaan of je elkaar begrijpt"), 1);
	after(h, "<b>Oprechte", "<b>Nagaan");
	/* moments with their turn, shown first */
	after(h, "<li>✔ getoond bij beurt 3: “", "<li>✘ gemist bij beurt 2: "
	      "“Er komt misschien een OTS” <em>(afkorting of vakterm zonder "
	      "uitleg)</em></li>");
	/* the untouched point, listed as such and not among the moments */
	has(h, "<p>Geen moment herkend (kijk het zelf na in het gesprek):</p>\n<ul>\n<li>Ouders wijzen op hun "
	    "rechten</li>\n</ul>\n");
	assert_int_equal(count(h, "Ouders wijzen"), 1);
	has(h, "<h4>Aantekening van een coach</h4>\n<ul>\n<li>bij beurt "
	    "2, Tip van @coach:example.org: Hier had je OTS kunnen "
	    "uitleggen.</li>");
	/* what the trainee cannot use or a client would not render */
	assert_null(strstr(h, "oefenkamer export"));
	assert_null(strstr(b, "oefenkamer export"));
	assert_null(strstr(b, "<h"));
	/* the trainee's text escaped in the HTML, as typed in the body */
	has(h, "“Hoe gaat het met u? &lt;script&gt;alert(&#39;x&#39;)"
	    "&lt;/script&gt; &amp; &quot;zo&quot;”");
	assert_null(strstr(h, "<script>"));
	has(b, "“Hoe gaat het met u? <script>alert('x')</script> & \"zo\"”");
	free(b);
	free(h);
}

/* Counts are Dutch: "1 beurt", "2 beurten"; one coach's note is
 * "Aantekening van een coach", more "Aantekeningen van de coaches". */
static void test_matrix_plural(void **state)
{
	struct fx *fx = *state;
	struct store_annotation a = { 0 };
	struct err err = { "" };
	char *b, *h;

	new_session(fx, "een", "Een", 1);
	turn(fx, STORE_PERSONA, NULL, "Ja?", 0, NULL,
	     "{\"vertrouwen\":5,\"spanning\":5}", STARTED + 1000);
	turn(fx, STORE_TRAINEE, NULL, "Hallo.", 1, NULL,
	     "{\"vertrouwen\":6,\"spanning\":4}", STARTED + 2000);
	/* a second message in the same beurt: still one beurt */
	turn(fx, STORE_TRAINEE, NULL, "Ik ben Sanne.", 1, NULL,
	     "{\"vertrouwen\":6,\"spanning\":4}", STARTED + 2500);
	room_msg(fx, &info, NULL, 0, 0, &b, &h);
	has(h, "<h4>Verloop over 1 beurt</h4>");
	has(b, "\nVerloop over 1 beurt:\n");
	assert_null(strstr(b, "antekening"));
	free(b);
	free(h);

	a.session_id = fx->id;
	a.turn_seq = 2;
	a.author = "@coach:example.org";
	a.kind = "note";
	a.text = "Goed begin.";
	assert_int_equal(store_annotation_add(fx->st, &a, &err), 0);
	room_msg(fx, &info, NULL, 0, 0, &b, &h);
	has(b, "\nAantekening van een coach:\n  bij beurt 1, Notitie van "
	    "@coach:example.org: Goed begin.");
	free(b);
	free(h);
	a.turn_seq = 1;
	a.text = "Let op de toon.";
	assert_int_equal(store_annotation_add(fx->st, &a, &err), 0);
	turn(fx, STORE_TRAINEE, NULL, "Hoe gaat het?", 2, NULL, NULL,
	     STARTED + 9000);
	room_msg(fx, &info, NULL, 0, 0, &b, &h);
	has(h, "<h4>Verloop over 2 beurten</h4>");
	has(h, "<h4>Aantekeningen van de coaches</h4>");
	has(h, "<li>bij het begin, Notitie van @coach:example.org: Let op de "
	    "toon.</li>");
	free(b);
	free(h);
}

/* A long message is quoted up to a word boundary and ends in "…"; a
 * trainee's <b> is text, not markup. */
static void test_matrix_quote(void **state)
{
	struct fx *fx = *state;
	static const char msg[] = "Ik wil graag met u bespreken wat er "
		"<b>precies</b> is gebeurd op school, want de leerkracht "
		"maakt zich zorgen over hoe Daan er de laatste weken bij "
		"zit en dat wil ik samen met u goed begrijpen.";
	const char *q, *e;
	char *b, *h;
	size_t n;

	turn(fx, STORE_TRAINEE, NULL, msg, 4, NULL, NULL, STARTED + 400000);
	moment(fx, 10, "rechten", 1, NULL, NULL);
	room_msg(fx, &info, NULL, 0, 0, &b, &h);
	html_subset(h);
	has(h, "&lt;b&gt;precies&lt;/b&gt;");
	assert_null(strstr(h, "<b>precies"));
	q = strstr(b, "✔ getoond bij beurt 4: “");
	assert_non_null(q);
	q += strlen("✔ getoond bij beurt 4: “");
	e = strstr(q, "…”");
	assert_non_null(e);
	n = (size_t)(e - q);
	/* a prefix of the message that ends at a word: the message goes on
	 * with a space, and the quote does not end in one */
	assert_true(n > 40 && n < strlen(msg));
	assert_memory_equal(q, msg, n);
	assert_int_equal(msg[n], ' ');
	assert_true(q[n - 1] != ' ');
	free(b);
	free(h);
}

/* The meters block: the header's columns and each row's values end in
 * the same column, and the bars start in the same column, counted in
 * characters (HTML keeps the spaces inside <pre>). */
static void test_matrix_pre(void **state)
{
	struct fx *fx = *state;
	char *b, *h, *pre;
	const char *line[3];
	size_t len[3];

	room_msg(fx, &info, NULL, 0, 0, &b, &h);
	pre = pre_block(h);
	line[0] = pre;
	for (int i = 1; i < 3; i++) {
		line[i] = strchr(line[i - 1], '\n');
		assert_non_null(line[i]);
		len[i - 1] = (size_t)(line[i] - line[i - 1]);
		line[i]++;
	}
	len[2] = strlen(line[2]);
	assert_null(memchr(line[2], '\n', len[2]));
	assert_true(!strncmp(line[1], "vertrouwen ", 11));
	assert_true(!strncmp(line[2], "spanning ", 9));
	for (int i = 1; i < 3; i++) {
		/* header: begin eind per beurt; rows: name begin eind bars */
		assert_int_equal(field_end(line[i], len[i], 1),
				 field_end(line[0], len[0], 0));
		assert_int_equal(field_end(line[i], len[i], 2),
				 field_end(line[0], len[0], 1));
		assert_int_equal(field_col(line[i], len[i], 3),
				 field_col(line[0], len[0], 2));
		assert_int_equal(field_col(line[i], len[i], 4), -1);
	}
	/* the body has the same lines */
	has(b, pre);
	free(pre);
	free(b);
	free(h);
}

/* !stand while the session runs: the turn as the trainee counts it
 * (the debrief's number), phase and pause, the meters now with their
 * start, and each point once with its turns. */
static void test_stand(void **state)
{
	struct fx *fx = *state;
	char *b, *h, *pre, *db, *dh, want[64];

	/* beurt 3 again (answered together), and the same point again */
	turn(fx, STORE_TRAINEE, NULL, "En nog iets.", 3, NULL,
	     "{\"vertrouwen\":7,\"spanning\":2}", STARTED + 330000);   /* 10 */
	moment(fx, 10, "begrip-taal", 1, NULL, NULL);
	room_msg(fx, &info, "de-brief", 1, 1, &b, &h);
	html_subset(h);
	has(h, "<p><b>Stand na beurt 3</b> · fase de-brief · gepauzeerd"
	    "</p>\n<pre>");
	has(b, "Stand na beurt 3 · fase de-brief · gepauzeerd\n");
	pre = pre_block(h);
	assert_string_equal(pre, "vertrouwen  ███████░░░    7/10  (begin 3)\n"
			    "spanning    ██░░░░░░░░    2/10  (begin 5)");
	has(b, pre);
	/* each point once; beurt 3 once although shown in two messages */
	assert_int_equal(count(h, "Nagaan of je elkaar"), 1);
	has(h, "<li>✔✘ <b>Nagaan of je elkaar begrijpt; geen "
	    "hulpverlenerstaal</b>: getoond bij beurt 3; gemist bij beurt 2"
	    "</li>");
	has(h, "<li>✔ <b>Oprechte belangstelling, echt luisteren, serieus "
	    "nemen</b>: getoond bij beurt 1</li>");
	has(b, "\nRubriek tot nu toe:\n✔ Oprechte belangstelling");
	assert_null(strstr(h, "Ouders wijzen"));
	/* the same number as the debrief's */
	room_msg(fx, &info, NULL, 0, 0, &db, &dh);
	snprintf(want, sizeof(want), "Verloop over %d beurten", 3);
	has(db, want);
	free(db);
	free(dh);
	free(pre);
	free(b);
	free(h);

	/* not paused, no phase; turns listed "1, 2 en 3" */
	moment(fx, 5, "vertrouwen", 1, NULL, NULL);
	moment(fx, 7, "vertrouwen", 1, NULL, NULL);
	room_msg(fx, &info, NULL, 0, 1, &b, &h);
	has(b, "Stand na beurt 3\n");
	assert_null(strstr(b, "gepauzeerd"));
	assert_null(strstr(b, "fase"));
	has(h, "</b>: getoond bij beurten 1, 2 en 3</li>");
	free(b);
	free(h);
}

/* Before the first turn: no turn number, no moments. */
static void test_stand_start(void **state)
{
	struct fx *fx = *state;
	char *b, *h;

	new_session(fx, "leeg", NULL, 0);
	turn(fx, STORE_PERSONA, NULL, "Ja?", 0, NULL,
	     "{\"vertrouwen\":4.5,\"spanning\":5}", STARTED + 5000);
	room_msg(fx, &info, "begin", 0, 1, &b, &h);
	html_subset(h);
	assert_string_equal(b, "Stand bij het begin · fase begin\n"
			    "vertrouwen  █████░░░░░  4.5/10  (begin 4.5)\n"
			    "spanning    █████░░░░░    5/10  (begin 5)\n"
			    "Nog geen rubriekmomenten.");
	free(b);
	free(h);
}

/* A long session stays one message: per point at most a few moments
 * (then "en nog N momenten"), at most 10 notes, each cut; every quote
 * escaped in the HTML. Synapse takes 64 KB for a whole event with its
 * envelope (mx.h: MX_CONTENT_MAX); 200 turns with 16 points touched in
 * each and 40 notes stay under 40 KB for body and HTML together,
 * leaving room for the JSON escaping. (Text that is all markup
 * characters can still make the HTML too large: the bot then sends the
 * body alone, as for any message.) */
static void test_matrix_bounded(void **state)
{
	struct fx *fx = *state;
	struct store_annotation a = { 0 };
	struct err err = { "" };
	struct sbuf text;
	char id[16], want[64];
	char *b, *h;
	int seq = 0;

	new_session(fx, "lang", "Lang", 1);
	sbuf_init(&text);
	for (int i = 0; i < 30; i++)
		sbuf_adds(&text, "Ik <b>hoor</b> wat u zegt & \"dat\" klopt. ");
	for (int t = 1; t <= 200; t++) {
		turn(fx, STORE_TRAINEE, NULL, text.buf, t, NULL,
		     "{\"vertrouwen\":5,\"spanning\":5}", STARTED + t * 1000);
		seq++;
		for (int p = 0; p < 16; p++) {
			snprintf(id, sizeof(id), "punt-%d", p);
			moment(fx, seq, id, (t + p) % 3 != 0,
			       "een reden die ook wat langer mag zijn dan "
			       "strikt nodig", NULL);
		}
	}
	a.session_id = fx->id;
	a.author = "@coach:example.org";
	a.kind = "tip";
	a.text = text.buf;
	for (int i = 1; i <= 40; i++) {
		a.turn_seq = i;
		assert_int_equal(store_annotation_add(fx->st, &a, &err), 0);
	}
	room_msg(fx, &info, NULL, 0, 0, &b, &h);
	html_subset(h);
	if (strlen(b) + strlen(h) >= 40 * 1024)
		fail_msg("body %zu + html %zu bytes", strlen(b), strlen(h));
	/* each of the 16 points lists 4 of its 200 moments */
	assert_int_equal(count(h, "<li>en nog 196 momenten</li>"), 16);
	assert_int_equal(count(h, "<li>✔ getoond bij beurt") +
			 count(h, "<li>✘ gemist bij beurt"), 16 * 4);
	has(h, "<h4>Aantekeningen van de coaches</h4>");
	has(h, "<li>en nog 30 aantekeningen</li>");
	snprintf(want, sizeof(want), "Verloop over %d beurten", 200);
	has(b, want);
	assert_null(strstr(h, "<&"));
	free(b);
	free(h);
	sbuf_release(&text);
}

/* A doubt (heard, not recorded) is no moment: it never counts, and it
 * shows only beside a point with no moment, as a place to look. */
static void test_doubts(void **state)
{
	struct fx *fx = *state;
	struct store_rubric r = { 0 };
	struct err err = { "" };
	char *m, *h, *t, *j;

	r.session_id = fx->id;
	r.turn_seq = 5;
	r.point = "rechten";
	r.shown = 1;
	r.doubt = 1;
	r.quote = "misschien een OTS";
	assert_int_equal(store_rubric_add(fx->st, &r, &err), 0);
	/* beside a point with moments it says nothing */
	r.point = "vertrouwen";
	r.shown = 0;
	assert_int_equal(store_rubric_add(fx->st, &r, &err), 0);
	m = export(fx, EXPORT_MD, &info);
	has(m, "- **Ouders wijzen op hun rechten** (rechten) \xe2\x80\x94 "
	    "_geen moment herkend_; twijfel bij beurt 2: \xe2\x80\x9c"
	    "misschien een OTS\xe2\x80\x9d (misschien getoond)\n");
	assert_null(strstr(m, "misschien gemist"));
	has(m, "(vertrouwen) \xe2\x80\x94 1\xc3\x97 getoond, "
	    "0\xc3\x97 gemist\n");
	h = export(fx, EXPORT_HTML, &info);
	has(h, "geen moment herkend; twijfel bij beurt 2: \xe2\x80\x9c"
	    "misschien een OTS\xe2\x80\x9d (misschien getoond)</span>");
	t = room_text(fx, &info);
	has(t, "  - Ouders wijzen op hun rechten \xe2\x80\x94 twijfel bij "
	    "beurt 2: \xe2\x80\x9cmisschien een OTS\xe2\x80\x9d "
	    "(misschien getoond)");
	j = export(fx, EXPORT_JSON, &info);
	has(j, "\"twijfel\"");
	has(j, "\"point\": \"rechten\"");
	free(m);
	free(h);
	free(t);
	free(j);
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
		T(test_matrix_debrief),
		T(test_matrix_plural),
		T(test_matrix_quote),
		T(test_matrix_pre),
		T(test_matrix_bounded),
		T(test_stand),
		T(test_stand_start),
		T(test_doubts),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
