/* catalog.h - every scenario and persona the program offers.
 *
 * Scenarios are the *.oef files directly in the scripts directory (files
 * in subdirectories, such as gedeeld/, are only included by them).
 * Personas are the *.json files of the personas directory.
 */
#ifndef OEF_CATALOG_H
#define OEF_CATALOG_H

#include <stddef.h>
#include "persona.h"
#include "script.h"

struct catalog {
	struct script **scripts;    /* sorted: difficulty, then id */
	size_t nscripts;
	struct persona **personas;
	size_t npersonas;
	double load_ms;             /* time it took to load everything */
	size_t ncached;             /* scripts whose model was cached */
};

/* Scripts load side by side on up to this many threads (one per core;
 * OEFENKAMER_THREADS=1 loads them one by one). */
#define CATALOG_MAX_THREADS 4

/* Load both directories. Problems (with file:line:col) go to d; scripts
 * and personas that load are kept even when others fail. Returns the
 * number of problems. */
size_t catalog_load(struct catalog *c, const char *scripts_dir,
		    const char *personas_dir, struct diag *d);
/* The same, keeping trained models in cache_dir (mcache.h; NULL: none):
 * a script whose sources, training split and program are unchanged
 * since a model was saved there reads it instead of training. */
size_t catalog_load_cached(struct catalog *c, const char *scripts_dir,
			   const char *personas_dir, const char *cache_dir,
			   struct diag *d);
void catalog_release(struct catalog *c);
/* The bot's catalog: forget every intent's example sentences, which
 * only training (done by now), check and eval read (script_drop_examples),
 * and give the heap back. */
void catalog_drop_examples(struct catalog *c);

/* By id, or by 1-based number in the sorted list. NULL if none. */
const struct script *catalog_find(const struct catalog *c, const char *key);
/* The persona of s, or NULL. */
const struct persona *catalog_persona(const struct catalog *c,
				      const struct script *s);
/* Display name for s: the persona's name, or its id. */
const char *catalog_persona_name(const struct catalog *c,
				 const struct script *s);

/* Where the scripts and personas are: $OEF_SCRIPTS / $OEF_PERSONAS, else
 * ./scripts and ./personas when they exist, else next to the program
 * (<dir of the binary>/../scripts). Caller frees. */
char *catalog_default_dir(const char *name, const char *env);

#endif
