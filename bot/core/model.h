/* model.h - the statistical matcher: intents the patterns missed.
 *
 * Learned when a script is loaded, from every intent's 'ja:' sentences
 * (positive for that intent), 'nee:' sentences (a counter-example that
 * weighs double) and, when the scenario names
 * one with 'leervoorbeelden:', the labelled turns of a corpus training
 * split. Features of a text: each word, its first five letters (a crude
 * stem: "gesprekken" ~ "gesprek"), each pair of neighbouring words in a
 * clause, and a negation marker. Each intent gets a logistic regression
 * over the features of the whole message (docs/scenariotaal.md, "Het
 * leermodel"); its probability is the confidence, and under
 * MODEL_THRESHOLD (0.5) the model does not guess. An intent is credited
 * to the clause whose features add most to it, among the clauses it may
 * count in. Without corpus turns the model never fires. Training is
 * deterministic: each epoch's order of texts comes from a hash of the
 * texts themselves, not from where they stand (model.c, fit).
 */
#ifndef OEF_MODEL_H
#define OEF_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

struct script;
struct corpus;
struct match;
struct model;

/* What training found, for `check` and the docs. */
struct model_info {
	size_t nsamples;      /* texts learned from */
	size_t nfeatures;
	size_t ncorpus;       /* of which corpus turns */
	size_t nlearned;      /* intents with a regression */
	size_t nweights;      /* weights kept after training */
	float wq_err;         /* largest share by which a kept weight's
			       * stored value differs from the trained one */
	size_t nhints;        /* (intent, meter) pairs with a direction */
	float threshold;      /* confidence from which the model fires */
	int fires;            /* 0: no corpus turns, so it never fires */
};

/* Train on s (with its first-word index built) and train (or NULL).
 * Returns NULL when there is nothing to learn from. Caller frees with
 * model_free. */
struct model *model_train(const struct script *s, const struct corpus *train);
void model_free(struct model *md);

/* Meter hints, learned from the corpus labels: on training turns
 * labelled with an intent, did trainers expect the meter to go up or
 * down (at least 6 such turns, 3 in 4 agreeing)? For the intents m found
 * (a model hit from confidence 0.7), the sign of the sum of their hints
 * for var: +1, -1 or 0. When that sum is 0, the meter's own regressions
 * on the message ("a trainer expects it to go up / down", learned from
 * the corpus turns' meter labels) decide from a confidence of 0.6. The
 * engine moves a meter by it only when nothing in the script moved that
 * meter this turn. */
#define MODEL_MAX_HINT_VARS 4
int model_meter_hint(const struct model *md, const struct match *m,
		     uint32_t var);
/* The vars that have hints (at most MODEL_MAX_HINT_VARS), into *vars. */
size_t model_hint_vars(const struct model *md, const uint32_t **vars);
const struct model_info *model_info(const struct model *md);
/* For tests: the row the feature table gives each of its occupied
 * slots, in slot order, into rows (room for model_info()->nfeatures);
 * returns how many. A row is its slot's rank, so they run 0, 1, 2, … */
size_t model_table_rows(const struct model *md, uint32_t *rows);
/* For tests and eval: how the weights' columns are kept (model.c): 0 as
 * a bit per learned column and row, 1 as a byte a weight, 2 as two
 * bytes a weight. */
int model_col_bytes(const struct model *md);

/* Kept between runs (mcache.h): the trained model as bytes, appended
 * to sb, and back. model_read checks every count and index the running
 * model follows against s and the data's own sizes, and returns NULL
 * when anything is off; a model it returns scores as the written one. */
void model_write(const struct model *md, struct sbuf *sb);
struct model *model_read(const struct script *s, const void *data,
			 size_t len);

/* Run after the patterns: for every intent m->hit leaves at 0, score
 * each clause of m->norm (text is the message m was run on) and mark
 * the intent hit by the model when the best clause reaches the
 * threshold; sets how, conf, span and clause of struct match. */
void model_run(const struct model *md, struct match *m, const char *text,
	       size_t len);

/* The clause (token clause index) a hit of intent came from: the
 * model's best clause, or the clause where the pattern's span starts. */
uint32_t model_hit_clause(const struct match *m, uint32_t intent);
/* The normalised words of clause cl of m's message, space-separated
 * (at most about 60 bytes, then "…"), appended to sb. */
void model_clause_words(const struct match *m, uint32_t cl, struct sbuf *sb);
/* One line for the coaches, appended to sb: each intent hit, by pattern
 * or by model with its confidence and clause, e.g.
 * "groet (patroon), vraagt-door (model 0,72, zinsdeel 2: hoe was dat)";
 * "geen bedoeling herkend" when none. */
void model_explain(const struct match *m, struct sbuf *sb);

#endif
