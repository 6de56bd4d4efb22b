/* cmd_store.c - commands on stored rehearsals: sessions, replay, export. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "export.h"

static void fmt_time(int64_t ms, char *buf, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!ms || !localtime_r(&t, &tm) ||
	    !strftime(buf, n, "%Y-%m-%d %H:%M", &tm))
		xsnprintf(buf, n, "-");
}

int cmd_sessions(int argc, char **argv)
{
	struct opts o;
	struct store *st;
	struct store_session *v = NULL;
	size_t n = 0;
	struct err err;
	json_t *arr;

	if (cli_opts(argc, argv, &o, "db json") < 0 || o.nargs)
		return 2;
	if (cli_store(o.db, &st) < 0)
		return 1;
	if (store_sessions_list(st, &v, &n, &err) < 0) {
		fprintf(stderr, "oefenkamer: %s\n", err.msg);
		store_free(st);
		return 1;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char when[32];

		if (o.json) {
			json_t *j = json_object();

			json_object_set_new(j, "id", json_integer(v[i].id));
			json_object_set_new(j, "scenario",
					    json_string(v[i].scenario));
			json_object_set_new(j, "title",
					    json_string(v[i].title));
			json_object_set_new(j, "trainee",
					    json_string(v[i].trainee));
			json_object_set_new(j, "started_ms",
					    json_integer(v[i].started_ms));
			json_object_set_new(j, "ending", v[i].ending ?
					    json_string(v[i].ending) :
					    json_null());
			json_object_set_new(j, "kind", v[i].ending_kind ?
					    json_string(v[i].ending_kind) :
					    json_null());
			json_object_set_new(j, "turns",
					    json_integer(v[i].nturns));
			json_array_append_new(arr, j);
			continue;
		}
		fmt_time(v[i].started_ms, when, sizeof(when));
		printf("%4lld  %s  %-24s %-10s %3d regels  %s\n",
		       (long long)v[i].id, when, v[i].scenario,
		       v[i].ending_kind && *v[i].ending_kind ?
		       v[i].ending_kind : v[i].ending ? "gestopt" : "open",
		       v[i].nturns, v[i].trainee ? v[i].trainee : "");
	}
	if (o.json)
		cli_json_line(stdout, arr);
	else
		json_decref(arr);
	if (!n && !o.json)
		printf("Nog geen oefeningen opgeslagen.\n");
	store_sessions_free(v, n);
	store_free(st);
	return 0;
}

static int parse_id(const char *s, int64_t *id)
{
	long v;

	if (parse_long(s, 1, 2147483647L, &v) < 0) {
		fprintf(stderr, "oefenkamer: '%s' is geen sessienummer (zie "
			"'oefenkamer sessions')\n", s);
		return -1;
	}
	*id = v;
	return 0;
}

static void pause_ms(double ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
	nanosleep(&ts, NULL);
}

int cmd_replay(int argc, char **argv)
{
	struct opts o;
	struct store *st = NULL;
	struct store_session s;
	struct store_turn *t = NULL;
	struct store_annotation *an = NULL;
	size_t nt = 0, nan = 0;
	struct err err;
	int64_t id;
	double speed = 1.0;
	int rc = 1, got;

	if (cli_opts(argc, argv, &o, "db speed") < 0 || o.nargs != 1) {
		fprintf(stderr, "gebruik: oefenkamer replay ID [--speed X]\n");
		return 2;
	}
	if (parse_id(o.args[0], &id) < 0)
		return 2;
	if (o.speed) {
		char *end;

		speed = strtod(o.speed, &end);
		if (*end || speed < 0 || speed > 1000) {
			fprintf(stderr, "oefenkamer: --speed verwacht een "
				"getal van 0 (geen pauzes) tot 1000\n");
			return 2;
		}
	}
	if (cli_store(o.db, &st) < 0)
		return 1;
	memset(&s, 0, sizeof(s));
	got = store_session_get(st, id, &s, &err);
	if (got != 0) {
		if (got < 0)
			fprintf(stderr, "oefenkamer: %s\n", err.msg);
		else
			fprintf(stderr, "oefenkamer: sessie %lld bestaat "
				"niet\n", (long long)id);
		goto out;
	}
	if (store_turns_get(st, id, &t, &nt, &err) < 0 ||
	    store_annotations_get(st, id, &an, &nan, &err) < 0) {
		fprintf(stderr, "oefenkamer: %s\n", err.msg);
		goto out;
	}
	printf("── %s (sessie %lld) ──\n", s.title, (long long)id);
	for (size_t i = 0; i < nt; i++) {
		const struct store_turn *x = &t[i];
		const char *who = strcmp(x->speaker, STORE_TRAINEE) == 0 ?
			"trainee" : strcmp(x->speaker, STORE_PERSONA) == 0 ?
			s.persona : strcmp(x->speaker, STORE_COACH) == 0 ?
			"coach" : "oefenkamer";

		/* the time it took to type it, sped up */
		if (speed > 0)
			pause_ms(strlen(x->text) * 40.0 / speed > 4000 ?
				 4000 : strlen(x->text) * 40.0 / speed);
		printf("%s: %s\n", who, x->text);
		if (strcmp(x->speaker, STORE_TRAINEE) == 0 && x->vars_json)
			printf("   [%s  fase: %s]\n", x->vars_json,
			       x->node ? x->node : "-");
		for (size_t k = 0; k < nan; k++)
			if (an[k].turn_seq == x->seq)
				printf("   (%s, %s) %s\n", an[k].kind,
				       an[k].author ? an[k].author : "",
				       an[k].text);
		fflush(stdout);
	}
	printf("── %s ──\n", s.ending ? s.ending : "niet afgerond");
	rc = 0;
out:
	store_turns_free(t, nt);
	store_annotations_free(an, nan);
	store_session_release(&s);
	store_free(st);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	struct opts o;
	struct store *st = NULL;
	struct store_session s;
	struct catalog c;
	struct export_info info;
	enum export_format fmt;
	struct err err;
	FILE *out = stdout;
	int64_t id;
	int rc = 1, got, have_cat;
	struct export_point *pts = NULL;

	if (cli_opts(argc, argv, &o, "db format output") < 0 ||
	    o.nargs != 1 || !o.format) {
		fprintf(stderr, "gebruik: oefenkamer export ID --format "
			"html|md|json|text [--output BESTAND]\n");
		return 2;
	}
	if (export_format_parse(o.format, &fmt) < 0) {
		fprintf(stderr, "oefenkamer: --format is html, md, json of "
			"text, niet '%s'\n", o.format);
		return 2;
	}
	if (parse_id(o.args[0], &id) < 0)
		return 2;
	if (cli_store(o.db, &st) < 0)
		return 1;
	memset(&s, 0, sizeof(s));
	memset(&info, 0, sizeof(info));
	have_cat = cli_catalog(&c, 1) == 0;
	got = store_session_get(st, id, &s, &err);
	if (got != 0) {
		fprintf(stderr, "oefenkamer: %s\n", got < 0 ? err.msg :
			"sessie bestaat niet (zie 'oefenkamer sessions')");
		goto out;
	}
	if (have_cat) {
		const struct script *sc = catalog_find(&c, s.scenario);

		if (sc) {
			int n = s.ending ? script_find_node(sc, s.ending) : -1;

			pts = cli_points(sc, &info.npoints);
			info.points = pts;
			info.persona_name = catalog_persona_name(&c, sc);
			if (n >= 0)
				info.ending_text = sc->nodes[n].explain;
		}
	}
	if (o.output) {
		out = fopen(o.output, "w");
		if (!out) {
			fprintf(stderr, "oefenkamer: %s: kan niet schrijven\n",
				o.output);
			goto out;
		}
	}
	got = export_session(st, id, fmt, &info, out, &err);
	if (got < 0)
		fprintf(stderr, "oefenkamer: %s\n", err.msg);
	else
		rc = 0;
	if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, "oefenkamer: %s: schrijven mislukt\n",
			o.output);
		rc = 1;
	}
out:
	free(pts);
	catalog_release(&c);
	store_session_release(&s);
	store_free(st);
	return rc;
}

/* Retention: the config's retention_days (or --days) decides what goes. */
int cmd_purge(int argc, char **argv)
{
	struct opts o;
	struct config cfg;
	struct store *st = NULL;
	struct store_session *v = NULL;
	size_t n = 0;
	struct err err;
	const char *db;
	long days = 0;
	int have_cfg = 0, rc = 1;

	if (cli_opts(argc, argv, &o, "db days config") < 0 || o.nargs ||
	    (!o.days && !o.config)) {
		fprintf(stderr, "gebruik: oefenkamer purge (--config BESTAND "
			"| --days N [--db BESTAND])\n");
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (o.config) {
		if (config_load(o.config, &cfg, &err) < 0) {
			fprintf(stderr, "oefenkamer: %s\n", err.msg);
			return 2;
		}
		have_cfg = 1;
		days = cfg.retention_days;
	}
	if (o.days && parse_long(o.days, 1, 36500, &days) < 0) {
		fprintf(stderr, "oefenkamer: --days verwacht een getal van 1 "
			"tot 36500\n");
		goto out;
	}
	if (days <= 0) {
		printf("retention_days is 0: alles wordt bewaard, er is niets "
		       "gewist.\n");
		rc = 0;
		goto out;
	}
	db = have_cfg && !o.db ? cfg.store : o.db;
	if (cli_store(db, &st) < 0)
		goto out;
	if (store_purge(st, now_ms() - (int64_t)days * 86400000, &v, &n,
			&err) < 0) {
		fprintf(stderr, "oefenkamer: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char when[32];

		fmt_time(v[i].ended_ms, when, sizeof(when));
		printf("gewist: sessie %lld (%s, %s, afgesloten %s, %d "
		       "regels)\n", (long long)v[i].id, v[i].scenario,
		       v[i].trainee ? v[i].trainee : "?", when, v[i].nturns);
	}
	printf("%zu sessie%s gewist die langer dan %ld dagen geleden "
	       "afgesloten %s.\n", n, n == 1 ? "" : "s", days,
	       n == 1 ? "is" : "zijn");
	rc = 0;
out:
	store_sessions_free(v, n);
	store_free(st);
	if (have_cfg)
		config_release(&cfg);
	return rc;
}
