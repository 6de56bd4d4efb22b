/* engine.h - one rehearsal: the persona's state and how it answers.
 *
 * The engine knows scripts and nothing else: no terminal, no store, no
 * Matrix. Give it the trainee's message, get back the persona's messages,
 * the rules that fired, the rubric moments and the new state. Same script,
 * seed and messages give the same answers.
 */
#ifndef OEF_ENGINE_H
#define OEF_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "match.h"
#include "script.h"
#include "util.h"

struct engine;

/* A rubric moment. One per point per message at most: the first clause
 * that earns it is quoted; a point earned both shown and missed in one
 * message is not recorded at all (it goes to engine_out.conflicts). */
struct engine_point {
	uint32_t point;       /* index in script->points */
	int shown;            /* 1 getoond, 0 gemist */
	const char *reason;   /* borrowed from the script, or NULL */
	long clause;          /* clause of the message that earned it, or
			       * -1 (not earned by one clause) */
	uint32_t qstart;      /* the quote: bytes of the message (the */
	uint32_t qlen;        /* clause); qlen 0: the whole message */
	int by_model;         /* earned by an intent the model found */
	uint32_t src;         /* its source (script->srcs) */
};

/* What one call produced. Embedded: engine_out_init/release; reused
 * across turns (engine calls reset it). */
struct engine_out {
	struct sbuf msgs[SCRIPT_MAX_MSGS];  /* persona messages, in order;
					     * valid UTF-8, no control
					     * characters from {woord} */
	size_t nmsgs;
	uint32_t *rules;           /* fired rule indices */
	size_t nrules, rules_cap;
	struct engine_point *points;
	size_t npoints, points_cap;
	struct engine_point *doubts;  /* moments heard but not recorded: a
				       * quiet one (calib.h) or one only the
				       * model heard, not surely; never for a
				       * point in points or conflicts */
	size_t ndoubts, doubts_cap;
	uint32_t *conflicts;       /* points earned both shown and missed
				    * this message: not recorded */
	size_t nconflicts, conflicts_cap;
	const struct transition *trans;  /* the 'als' that matched, or NULL */
	int missed;                /* nothing recognised: a fallback */
	uint64_t capped;           /* meters (var index < 64) a ceiling
				    * kept from rising this message: a
				    * 'plafond', or a 'zodra' rule that
				    * set it back from where the message
				    * took it, not under where it stood */
	uint32_t from;             /* node before the turn */
	uint32_t node;             /* node after the turn */
	int ended;                 /* node is an einde */
};

void engine_out_init(struct engine_out *o);
void engine_out_release(struct engine_out *o);

/* The script is borrowed and must outlive the engine. */
struct engine *engine_new(const struct script *s, uint64_t seed);
void engine_free(struct engine *e);
/* A copy with the same state. */
struct engine *engine_clone(const struct engine *e);

/* Enter the start phase: the persona's opening lines. */
void engine_start(struct engine *e, struct engine_out *out);

/* One trainee message. m is scratch (see match.h). Returns -1 if the
 * conversation has already ended. */
int engine_turn(struct engine *e, struct match *m, const char *text,
		size_t len, struct engine_out *out);

/* The intents of m (match_run on this turn's text) that e acts on in
 * its next turn, as 0/1 into hit (s->nintents bytes): m's hits without
 * those marked 'overgenomen: nee' whose words the persona said first.
 * What `eval` counts as recognised. */
void engine_heard(const struct engine *e, const struct match *m,
		  uint8_t *hit);

/* The same, with m already run on text by match_run (for callers that
 * match one message once and feed it to many engines). */
int engine_turn_matched(struct engine *e, const struct match *m,
			const char *text, struct engine_out *out);

const struct script *engine_script(const struct engine *e);
int engine_var(const struct engine *e, size_t i);
uint32_t engine_node(const struct engine *e);
int engine_ended(const struct engine *e);
int engine_beurt(const struct engine *e);
/* Bytes of memory this session holds. */
size_t engine_size(const struct engine *e);

/* Hash of everything that decides what happens next, except which line
 * variants were used: for the reachability walk of `check`. */
uint64_t engine_state_hash(const struct engine *e);

/* Serialise the state as one line of text, and restore it into an engine
 * made for the same script. A state of another script version is
 * refused. */
void engine_save(const struct engine *e, struct sbuf *out);
int engine_restore(struct engine *e, const char *state, struct err *err);

#endif
