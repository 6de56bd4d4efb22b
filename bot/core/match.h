/* match.h - which intents of a script a message matches.
 *
 * A struct match is scratch space reused across messages (one per thread):
 * once warmed up, matching allocates nothing. Matching rules are those of
 * docs/scenariotaal.md: pattern words match a message word or another
 * form of it (lexicon.h), sequences match inside one part of a sentence
 * (between punctuation), <…> anywhere, and a match counts only where its
 * clause (clause.h) allows: not under a negation for guarded patterns,
 * not in someone else's words, the act the pattern asks for. A message
 * in another language (lang.h) matches only the builtin andere-taal.
 */
#ifndef OEF_MATCH_H
#define OEF_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include "norm.h"
#include "script.h"

/* The dialogue act of a clause (docs/scenariotaal.md, "Handeling"). */
enum match_act { MATCH_MEDEDELING, MATCH_VRAAG, MATCH_VOORSTEL,
		 MATCH_BELOFTE };
#define MATCH_NACTS 4

/* A clause of the message (bot/clause.h says how it is found). */
struct match_clause {
	uint32_t start, len;      /* bytes of the message */
	uint32_t tok, ntok;       /* its tokens in m->norm.tok */
	uint8_t act;              /* enum match_act */
	uint8_t open;             /* a question led by a question word
				   * ("Wie brengt hem?", "Hoe bedoel je?"):
				   * no yes or no answers it */
	uint8_t negated;          /* a negation scopes over this clause */
	uint8_t neg_inherited;    /* ... from the clause it depends on ("ik
				   * zeg niet | dat…"), or the one that
				   * takes it up (a fronted phrase) */
	uint8_t reported;         /* someone else's words */
	uint8_t conditional;      /* an 'als/wanneer/tenzij' clause */
	uint8_t other_lang;       /* English (lang.h): no pattern counts
				   * in it */
	uint8_t offstage;         /* about the rehearsal, not in it
				   * (clause.h): nothing counts in it */
};

struct match_span {
	uint32_t start;   /* byte offset in the message */
	uint32_t len;     /* 0: no span */
};

/* How an intent was found (struct match's how). */
enum match_how { MATCH_BY_PATTERN = 1, MATCH_BY_MODEL = 2 };

/* An intent the model's regression put at MODEL_THRESHOLD or more
 * (model.c), with its confidence; it is a hit from MODEL_FIRE. */
struct match_cand {
	uint32_t intent;
	float raw;                /* the regression's probability */
	float conf;               /* calibrated: how often such a guess is
				   * right */
};

/* Room for the model's meter directions (model.h MODEL_MAX_HINT_VARS). */
#define MATCH_METER_SLOTS 4

struct match {
	struct norm norm;
	const struct script *script;   /* of the last match_run */
	uint8_t *hit;                  /* per intent: 1 if it matched */
	struct match_span *span;       /* per intent: what matched */
	struct match_clause *clause;   /* the message's clauses */
	size_t nclause;
	uint32_t *hit_clause;          /* per intent: the clause it matched
					* in (valid where hit is 1) */
	uint32_t *hit_reach;           /* per intent: the last clause its
					* match reaches ("<weekend bellen>"
					* over two sentences); hit_clause
					* for a one-clause match */
	uint8_t lang_other;            /* the message is not Dutch */
	uint8_t unheard;               /* no clause counts: each is English
					* or about the rehearsal (clause.h) */
	uint8_t *hit_how;              /* per intent: enum match_how of a
					* hit, 0 when not hit */
	float *conf;                   /* per intent: 1 for a pattern hit,
					* the model's confidence (0..1) for a
					* model hit */
	/* the model's candidates, surest first (at most one per intent),
	 * and how many intents the patterns had found when they were
	 * scored (model_calib_features) */
	struct match_cand *cand;
	size_t ncand, cand_npat;
	/* private model scratch (model.c) */
	uint32_t *mfeat, *mfclause, *mstamp;
	size_t mfeat_cap, mfclause_cap, nmfeat, mstamp_cap;
	uint32_t mstamp_gen;
	float *macc;
	size_t macc_cap;
	/* per model hint var (model.h): the regression's confidence that
	 * a trainer expects it to go up / down, 0 when it did not run */
	float meter_up[MATCH_METER_SLOTS], meter_down[MATCH_METER_SLOTS];
	uint32_t *mtouch;
	size_t mtouch_cap;
	/* private scratch */
	uint32_t *ids;                 /* per token: lexicon class, 0 none */
	uint32_t *tok_clause;          /* per token: index in clause */
	uint8_t *how;                  /* per token: enum lexicon_how */
	uint32_t *clause_end;
	uint8_t *neg;
	uint8_t *present;              /* per word id (and per "prefix*"
					* id): in this message */
	size_t present_cap;
	uint64_t *cpos;                /* per concept: where a word of this
					* message can start it (script.h,
					* concept_of): bit p for token p,
					* bit 63 for any token from 63 on;
					* 0 = nowhere */
	size_t cpos_cap;
	uint32_t *req_miss;            /* per first_refs entry (script.h):
					* req_gen when has_required failed
					* for it in this message */
	size_t req_miss_cap;
	uint32_t req_gen;
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

/* 1 if the intent matched in the last match_run in a clause whose act
 * is in acts (1 << enum match_act each; 0: any act): the clause it
 * matched in, or one its match reaches ("nog even over het weekend. …
 * is er iemand die je kan bellen" asks, though it starts by telling). */
static inline int match_hit_act(const struct match *m, uint32_t intent,
				unsigned acts)
{
	if (!m->hit[intent])
		return 0;
	if (!acts)
		return 1;
	for (uint32_t c = m->hit_clause[intent];
	     c <= m->hit_reach[intent] && c < m->nclause; c++)
		if ((acts >> m->clause[c].act) & 1u)
			return 1;
	return 0;
}

/* Does text match the one intent? For script examples. */
int match_intent(struct match *m, const struct script *s, uint32_t intent,
		 const char *text);

#endif
