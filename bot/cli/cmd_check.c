/* cmd_check.c - validate scripts and personas; re-run stored sessions. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "cli.h"
#include "engine.h"

struct checker {
	struct diag d;
	json_t *scripts;         /* --json: per script */
	int json;
	size_t nscenarios;
	/* rubric coverage over every scenario checked */
	char **points;
	uint8_t *covered;
	size_t npoints;
};

static void note_points(struct checker *ck, const struct script *s,
			const struct check_result *r)
{
	if (!ck->points && s->npoints) {
		ck->npoints = s->npoints;
		ck->points = xcalloc(s->npoints, sizeof(char *));
		ck->covered = xcalloc(s->npoints, 1);
		for (size_t i = 0; i < s->npoints; i++)
			ck->points[i] = xstrdup(s->points[i].id);
	}
	for (size_t i = 0; i < s->npoints; i++) {
		if (!r->points_used[i])
			continue;
		for (size_t j = 0; j < ck->npoints; j++)
			if (strcmp(ck->points[j], s->points[i].id) == 0)
				ck->covered[j] = 1;
	}
}

static void check_one(struct checker *ck, const char *path)
{
	struct script *s;
	struct check_result r;
	size_t before = ck->d.n, bad;

	if (script_load(path, &s, &ck->d) < 0) {
		if (ck->json) {
			json_t *j = json_object();

			json_object_set_new(j, "path", json_string(path));
			json_object_set_new(j, "loaded", json_false());
			json_array_append_new(ck->scripts, j);
		} else {
			printf("%s: kan niet geladen worden\n", path);
		}
		return;
	}
	bad = check_script(s, &r, &ck->d);
	if (s->id) {
		ck->nscenarios++;
		note_points(ck, s, &r);
	}
	if (ck->json) {
		json_t *j = json_object(), *un = json_array();
		json_t *pts = json_array(), *ends = json_object();
		json_t *warn = json_array();

		json_object_set_new(j, "path", json_string(path));
		json_object_set_new(j, "loaded", json_true());
		if (s->id)
			json_object_set_new(j, "id", json_string(s->id));
		json_object_set_new(j, "examples", json_integer(
			(json_int_t)r.examples));
		json_object_set_new(j, "examples_failed", json_integer(
			(json_int_t)r.examples_failed));
		json_object_set_new(j, "nodes", json_integer(
			(json_int_t)s->nnodes));
		json_object_set_new(j, "states", json_integer(
			(json_int_t)r.states));
		for (size_t i = 0; s->id && i < s->nnodes; i++)
			if (!r.reached[i])
				json_array_append_new(un, json_string(
					s->nodes[i].name));
		json_object_set_new(j, "unreachable", un);
		json_object_set_new(j, "lines", json_integer(
			(json_int_t)r.lines));
		json_object_set_new(ends, "goed", json_integer(
			(json_int_t)r.endings[END_GOED]));
		json_object_set_new(ends, "breuk", json_integer(
			(json_int_t)r.endings[END_BREUK]));
		json_object_set_new(ends, "neutraal", json_integer(
			(json_int_t)r.endings[END_NEUTRAAL]));
		json_object_set_new(j, "endings", ends);
		for (size_t i = 0; i < s->npoints; i++)
			if (r.points_used[i])
				json_array_append_new(pts, json_string(
					s->points[i].id));
		json_object_set_new(j, "points", pts);
		json_object_set_new(j, "problems", json_integer(
			(json_int_t)(ck->d.n - before)));
		json_object_set_new(j, "moments_checked", json_integer(
			(json_int_t)r.moments_checked));
		for (size_t i = 0; i < r.warnings.n; i++)
			json_array_append_new(warn, json_string(
				r.warnings.msgs[i]));
		json_object_set_new(j, "warnings", warn);
		json_array_append_new(ck->scripts, j);
	} else if (s->id) {
		for (size_t i = 0; i < r.warnings.n; i++)
			fprintf(stderr, "waarschuwing: %s\n",
				r.warnings.msgs[i]);
		printf("%s: %s — %zu voorbeelden (%zu fout), %zu van %zu "
		       "fases/eindes bereikt (%zu toestanden), %zu zinnen, "
		       "eindes %zu goed / %zu breuk / %zu neutraal%s\n",
		       path, s->id, r.examples, r.examples_failed,
		       s->nnodes - r.unreachable, s->nnodes, r.states,
		       r.lines, r.endings[END_GOED], r.endings[END_BREUK],
		       r.endings[END_NEUTRAAL], bad ? "" : " — in orde");
	} else {
		printf("%s: %zu voorbeelden (%zu fout)%s\n", path,
		       r.examples, r.examples_failed, bad ? "" :
		       " — in orde");
	}
	check_result_release(&r);
	script_free(s);
}

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n >= k && strcmp(s + n - k, suf) == 0;
}

static void check_persona_file(struct checker *ck, const char *path)
{
	struct persona *p;
	struct err err;

	if (persona_load(path, &p, &err) < 0) {
		diag_add(&ck->d, NULL, "%s", err.msg);
		return;
	}
	if (!ck->json)
		printf("%s: persona %s — in orde\n", path, p->id);
	persona_free(p);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_dir(struct checker *ck, const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!dp) {
		diag_add(&ck->d, NULL, "%s: map niet te openen", dir);
		return;
	}
	for (de = readdir(dp); de; de = readdir(dp)) {
		struct sbuf sb;

		if (de->d_name[0] == '.' || (!ends_with(de->d_name, ".oef") &&
					     !ends_with(de->d_name, ".json")))
			continue;
		sbuf_init(&sb);
		sbuf_addf(&sb, "%s/%s", dir, de->d_name);
		XGROW(v, cap, n + 1);
		v[n++] = sbuf_detach(&sb);
	}
	closedir(dp);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (ends_with(v[i], ".json"))
			check_persona_file(ck, v[i]);
		else
			check_one(ck, v[i]);
		free(v[i]);
	}
	free(v);
}

/* Every scenario's persona must exist. */
static void check_catalog(struct checker *ck)
{
	struct catalog c;
	char *sd = catalog_default_dir("scripts", "OEF_SCRIPTS");
	char *pd = catalog_default_dir("personas", "OEF_PERSONAS");
	struct diag d;

	diag_init(&d);
	catalog_load(&c, sd, pd, &d);
	for (size_t i = 0; i < c.nscripts; i++)
		if (!catalog_persona(&c, c.scripts[i]))
			diag_add(&ck->d, &c.scripts[i]->id_loc, "persona '%s' "
				 "bestaat niet in %s", c.scripts[i]->persona,
				 pd);
	diag_release(&d);
	catalog_release(&c);
	free(sd);
	free(pd);
}

/* --transcripts: would the persona still answer the same? */
static int check_transcripts(struct checker *ck, const char *db,
			     json_t *out)
{
	struct catalog c;
	struct store *st;
	struct store_session *ss = NULL;
	size_t nss = 0, changed = 0;
	struct err err;
	struct match m;
	struct engine_out eo;

	if (cli_catalog(&c, 1))
		return -1;
	if (cli_store(db, &st) < 0) {
		catalog_release(&c);
		return -1;
	}
	if (store_sessions_list(st, &ss, &nss, &err) < 0) {
		fprintf(stderr, "oefenkamer: %s\n", err.msg);
		store_free(st);
		catalog_release(&c);
		return -1;
	}
	match_init(&m);
	engine_out_init(&eo);
	for (size_t i = 0; i < nss; i++) {
		const struct script *s = catalog_find(&c, ss[i].scenario);
		struct store_turn *t = NULL;
		size_t nt = 0, next = 0, diffs = 0;
		struct engine *e;
		int beurt = 0;

		if (!s) {
			diag_add(&ck->d, NULL, "sessie %lld: scenario '%s' "
				 "bestaat niet meer", (long long)ss[i].id,
				 ss[i].scenario);
			continue;
		}
		if (store_turns_get(st, ss[i].id, &t, &nt, &err) < 0) {
			diag_add(&ck->d, NULL, "sessie %lld: %s",
				 (long long)ss[i].id, err.msg);
			continue;
		}
		e = engine_new(s, ss[i].seed);
		engine_start(e, &eo);
		for (;;) {
			/* compare eo with the stored persona lines of this
			 * beurt, then feed the next trainee message */
			size_t k = 0;

			while (next < nt && strcmp(t[next].speaker,
						   STORE_TRAINEE) != 0) {
				if (strcmp(t[next].speaker,
					   STORE_PERSONA) == 0) {
					if (k >= eo.nmsgs ||
					    strcmp(eo.msgs[k].buf,
						   t[next].text) != 0) {
						diffs++;
						if (diffs <= 3)
							diag_add(&ck->d, NULL,
							 "sessie %lld, beurt "
							 "%d: toen '%s', nu "
							 "'%s'", (long long)
							 ss[i].id, beurt,
							 t[next].text,
							 k < eo.nmsgs ?
							 eo.msgs[k].buf :
							 "(niets)");
					}
					k++;
				}
				next++;
			}
			if (k < eo.nmsgs)
				diffs++;
			if (next >= nt)
				break;
			beurt++;
			engine_turn(e, &m, t[next].text, strlen(t[next].text),
				    &eo);
			next++;
		}
		if (diffs)
			changed++;
		if (out) {
			json_t *j = json_object();

			json_object_set_new(j, "session",
					    json_integer(ss[i].id));
			json_object_set_new(j, "scenario",
					    json_string(ss[i].scenario));
			json_object_set_new(j, "differences",
					    json_integer((json_int_t)diffs));
			json_array_append_new(out, j);
		} else {
			printf("sessie %lld (%s): %s\n", (long long)ss[i].id,
			       ss[i].scenario, diffs ? "de persona zou nu "
			       "anders antwoorden" : "zelfde antwoorden");
		}
		engine_free(e);
		store_turns_free(t, nt);
	}
	match_release(&m);
	engine_out_release(&eo);
	store_sessions_free(ss, nss);
	store_free(st);
	catalog_release(&c);
	return (int)changed;
}

int cmd_check(int argc, char **argv)
{
	struct checker ck;
	struct opts o;
	json_t *tr = NULL;
	int full = 0, changed = 0;
	size_t missing = 0;
	int rc;

	if (cli_opts(argc, argv, &o, "json transcripts") < 0)
		return 2;
	memset(&ck, 0, sizeof(ck));
	diag_init(&ck.d);
	ck.json = o.json;
	ck.scripts = json_array();
	if (!o.nargs && !o.transcripts) {
		char *sd = catalog_default_dir("scripts", "OEF_SCRIPTS");
		char *pd = catalog_default_dir("personas", "OEF_PERSONAS");

		check_dir(&ck, sd);
		check_dir(&ck, pd);
		check_catalog(&ck);
		free(sd);
		free(pd);
		full = 1;
	}
	for (int i = 0; i < o.nargs; i++) {
		if (is_dir(o.args[i])) {
			check_dir(&ck, o.args[i]);
			full = 1;
		} else if (ends_with(o.args[i], ".json")) {
			check_persona_file(&ck, o.args[i]);
		} else {
			check_one(&ck, o.args[i]);
		}
	}
	if (o.transcripts) {
		tr = o.json ? json_array() : NULL;
		changed = check_transcripts(&ck, o.transcripts, tr);
		if (changed < 0) {
			json_decref(tr);
			json_decref(ck.scripts);
			diag_release(&ck.d);
			return 1;
		}
	}
	/* Over the whole set, every rubric point must be practised. */
	if (full && ck.nscenarios) {
		for (size_t i = 0; i < ck.npoints; i++) {
			if (ck.covered[i])
				continue;
			missing++;
			diag_add(&ck.d, NULL, "rubriekpunt '%s' komt in geen "
				 "enkel scenario voor", ck.points[i]);
		}
	}
	if (o.json) {
		json_t *j = json_object(), *pr = json_array();

		json_object_set_new(j, "ok", json_boolean(ck.d.n == 0));
		json_object_set_new(j, "scripts", ck.scripts);
		for (size_t i = 0; i < ck.d.n; i++)
			json_array_append_new(pr, json_string(ck.d.msgs[i]));
		json_object_set_new(j, "problems", pr);
		if (tr)
			json_object_set_new(j, "transcripts", tr);
		cli_json_line(stdout, j);
	} else {
		json_decref(ck.scripts);
		for (size_t i = 0; i < ck.d.n; i++)
			fprintf(stderr, "%s\n", ck.d.msgs[i]);
		if (full && ck.nscenarios && !missing)
			printf("rubriek: alle %zu punten komen in een "
			       "scenario voor\n", ck.npoints);
		printf("%s\n", ck.d.n ? "problemen gevonden" : "alles in orde");
	}
	rc = ck.d.n ? 2 : 0;
	for (size_t i = 0; i < ck.npoints; i++)
		free(ck.points[i]);
	free(ck.points);
	free(ck.covered);
	diag_release(&ck.d);
	(void)changed;
	return rc;
}
