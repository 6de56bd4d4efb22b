/* cli.h - the commands of the oefenkamer program and what they share.
 * Every cmd_* gets argv starting at the command name and returns the
 * exit status: 0 ok, 1 failed at run time, 2 bad usage or invalid input. */
#ifndef OEF_CLI_H
#define OEF_CLI_H

#include <jansson.h>
#include <stdio.h>
#include "catalog.h"
#include "store.h"

int cmd_scenarios(int argc, char **argv);
int cmd_play(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_sessions(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_eval(int argc, char **argv);

/* Options: "--name value" or "--name=value"; flags without value. */
struct opts {
	const char *seed, *db, *format, *output, *speed, *transcripts;
	const char *days, *config;
	int json;
	int patterns_only;       /* --alleen-patronen (eval) */
	int turns;               /* --beurten (eval) */
	int cross;               /* --kruis (eval) */
	int calib;               /* --ijking (eval) */
	const char *args[64];   /* positional */
	int nargs;
};
int cli_opts(int argc, char **argv, struct opts *o, const char *allowed);

/* Load the catalog from the default directories, printing problems to
 * stderr. Returns 0, or 2 when nothing could be loaded. */
int cli_catalog(struct catalog *c, int quiet);

/* Open the store given by --db, $OEF_DB or ./oefenkamer.db. */
int cli_store(const char *db, struct store **st);

/* Print one JSON value on its own line (UTF-8, keys in order). */
void cli_json_line(FILE *f, json_t *v);

/* Rubric points of s for export. Caller frees the array. */
struct export_point;
struct export_point *cli_points(const struct script *s, size_t *n);

#endif
