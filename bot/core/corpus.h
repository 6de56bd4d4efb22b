/* corpus.h - labelled trainee conversations (tests/corpus/README.md).
 *
 * A corpus file is read in two steps: corpus_parse() checks the format
 * and keeps names as written; corpus_resolve() turns intent, meter and
 * rubric names into indices of one script and reports every unknown name
 * with file:line:col. `oefenkamer eval` plays a resolved corpus; the
 * statistical matcher (model.h) learns from the training split a
 * scenario names with 'leervoorbeelden:'.
 */
#ifndef OEF_CORPUS_H
#define OEF_CORPUS_H

#include <stddef.h>
#include <stdint.h>
#include "script.h"

enum corpus_style {
	CORPUS_VAARDIG,   /* a skilled professional */
	CORPUS_GEWOON,    /* an ordinary one */
	CORPUS_ZWAK,      /* poor */
	CORPUS_ANDERS,    /* off-script */
	CORPUS_NSTYLES
};

/* The direction a trainer expects a meter to move. */
enum corpus_dir { DIR_UP, DIR_DOWN, DIR_SAME, DIR_UNKNOWN };

struct corpus_meter {
	char *name;
	enum corpus_dir dir;
	uint32_t var;            /* after corpus_resolve */
	struct loc loc;
};

struct corpus_point {
	char *id;
	int shown;               /* +id 1, -id 0 */
	uint32_t point;          /* after corpus_resolve */
	struct loc loc;
};

struct corpus_turn {
	char *text;              /* "\n" already turned into a newline */
	struct loc loc;
	char **intents;          /* names as written; none for '-' */
	struct loc *intent_locs;
	uint32_t *intent_ix;     /* after corpus_resolve */
	size_t nintents;
	struct corpus_meter *meters;
	size_t nmeters;
	struct corpus_point *points;
	size_t npoints;
};

struct corpus_conv {
	char *id;
	enum corpus_style style;
	size_t first, nturns;    /* turns[first .. first + nturns) */
	struct loc loc;
};

/* The largest corpus file read. */
#define CORPUS_MAX_FILE (8u << 20)

struct corpus {
	char *path;              /* owned; every loc.file points here */
	struct corpus_turn *turns;
	size_t nturns, turns_cap;
	struct corpus_conv *convs;
	size_t nconvs, convs_cap;
};

/* Read path. Returns 0, or -1 with every problem in d (c is then still
 * safe to release). */
int corpus_load(struct corpus *c, const char *path, struct diag *d);
/* The same for text in memory; name stands for the file in messages. */
int corpus_parse(struct corpus *c, const char *name, const char *text,
		 size_t len, struct diag *d);
/* Names to indices of s; every unknown one is a problem in d. */
int corpus_resolve(struct corpus *c, const struct script *s,
		   struct diag *d);
void corpus_release(struct corpus *c);

/* "vaardig", "gewoon", "zwak", "anders". */
const char *corpus_style_name(enum corpus_style st);

#endif
