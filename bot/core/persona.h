/* persona.h - the fictional clients a scenario lets the trainee talk to.
 *
 * A persona is one JSON file, personas/<id>.json, written by a trainer
 * (docs/persona.md describes the fields in Dutch). Loading checks every
 * field and refuses anything it does not know, so a typo in a key is an
 * error and not a silently missing value. Errors name the file and the
 * field, in Dutch, because trainers read them:
 *
 *   personas/sandra.json: veld "rol": verwacht ouder, jongere of kind,
 *   niet "moeder"
 *
 * JSON syntax errors give file:line:column. Files over PERSONA_MAX_BYTES
 * are refused. All jansson calls live in persona.c.
 */
#ifndef OEF_PERSONA_H
#define OEF_PERSONA_H

#include <stddef.h>

#include "util.h"

#define PERSONA_MAX_BYTES (256 * 1024)  /* largest persona file */
#define PERSONA_MAX_FILES 1000          /* personas in one directory */
#define PERSONA_MAX_SOURCES 64          /* entries in "bronnen" */

enum persona_role {
	PERSONA_PARENT,   /* "ouder" */
	PERSONA_YOUTH,    /* "jongere" */
	PERSONA_CHILD     /* "kind" */
};

/* One passage of the factsheet the persona is built on. */
struct persona_source {
	char *section;   /* "sectie": heading in the factsheet */
	char *quote;     /* "citaat": the passage, quoted */
};

/* A loaded persona. Every string is valid UTF-8, non-empty and owned by
 * the struct. "fictief" is not stored: a persona that loads is fictional,
 * the loader refuses any other. */
struct persona {
	char *path;          /* the file it was loaded from, as given */
	char *id;            /* "id": [a-z0-9_-]+, equals the file name
			      * without .json */
	char *name;          /* "naam": how the persona is addressed */
	char *display_name;  /* "weergavenaam": the name shown in chat */
	enum persona_role role;  /* "rol" */
	int age;             /* "leeftijd": 4..99 */
	char *situation;     /* "situatie": who they are, what happened */
	char *speech;        /* "spreekstijl": how they talk */
	struct persona_source *sources;  /* "bronnen": at least one */
	size_t nsources;
};

/* Load and check one file. On success *out is a new persona the caller
 * frees with persona_free; on failure *out is untouched and err says why
 * (file and field). */
int persona_load(const char *path, struct persona **out, struct err *err);

/* The same for len bytes of text in memory (need not be NUL-terminated);
 * name stands for the file: the id must match it and messages and
 * p->path use it. Text over PERSONA_MAX_BYTES is refused. */
int persona_load_text(const char *name, const char *text, size_t len,
		      struct persona **out, struct err *err);

/* persona_free(NULL) is a no-op. */
void persona_free(struct persona *p);

/* Load every *.json in dir (hidden files skipped), sorted by file name.
 * All or nothing: the first bad file fails the whole load and err names
 * it. On success *out is an array of *n personas (NULL if none) the
 * caller frees with persona_list_free. */
int persona_load_dir(const char *dir, struct persona ***out, size_t *n,
		     struct err *err);
void persona_list_free(struct persona **v, size_t n);

/* The persona with this id, or NULL. Borrowed from v. */
const struct persona *persona_find(struct persona *const *v, size_t n,
				   const char *id);

/* "ouder", "jongere" or "kind": the role as trainers write it. */
const char *persona_role_name(enum persona_role role);

#endif
