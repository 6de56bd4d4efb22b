/* match.h - which intents of a script a message matches.
 *
 * A struct match is scratch space reused across messages (one per thread):
 * once warmed up, matching allocates nothing. Matching rules are those of
 * docs/scenariotaal.md: sequences match inside one clause, <…> anywhere,
 * and a negation word close before or after a match cancels it for intents
 * with the negation guard.
 */
#ifndef OEF_MATCH_H
#define OEF_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include "norm.h"
#include "script.h"

struct match_span {
	uint32_t start;   /* byte offset in the message */
	uint32_t len;     /* 0: no span */
};

/* How an intent was found (struct match's how). */
enum match_how { MATCH_BY_PATTERN = 1, MATCH_BY_MODEL = 2 };

struct match {
	struct norm norm;
	const struct script *script;   /* of the last match_run */
	uint8_t *hit;                  /* per intent: 1 if it matched */
	struct match_span *span;       /* per intent: what matched (a
					* model hit: its whole clause) */
	uint8_t *how;                  /* per intent: enum match_how of a
					* hit, 0 when not hit */
	float *conf;                   /* per intent: 1 for a pattern hit,
					* else the model's confidence 0..1
					* (0 without a model) */
	uint32_t *model_clause;        /* per intent: the clause (token
					* clause index) the model scored
					* best, for a model hit */
	/* private model scratch (model.c) */
	uint32_t *mfeat, *mfclause, *mstamp;
	size_t mfeat_cap, mfclause_cap, nmfeat, mstamp_cap;
	uint32_t mstamp_gen;
	float *macc;
	size_t macc_cap;
	uint32_t *mtouch;
	size_t mtouch_cap;
	/* private scratch */
	uint32_t *ids;
	uint32_t *clause_end;
	uint8_t *neg;
	uint8_t *present;              /* per word id (and per "prefix*"
					* id): in this message */
	size_t present_cap;
	struct { uint32_t pos, id; } *pfx;  /* prefixes of message words
					      * that patterns use */
	size_t npfx, pfx_cap;
	size_t tok_cap, intent_cap;
	size_t steps;                  /* backtracking budget use */
};

void match_init(struct match *m);
void match_release(struct match *m);

/* Match len bytes of text against every intent of s. */
void match_run(struct match *m, const struct script *s, const char *text,
	       size_t len);

/* 1 if the intent matched in the last match_run. */
static inline int match_hit(const struct match *m, uint32_t intent)
{
	return m->hit[intent];
}

/* Does text match the one intent? For script examples. */
int match_intent(struct match *m, const struct script *s, uint32_t intent,
		 const char *text);

#endif
