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
 * leermodel"). An intent it puts at 0.5 or more (MODEL_THRESHOLD in
 * model.c) is a candidate; a second regression over that probability
 * and the message's context (what the patterns found, the candidate's
 * rank) calibrates its confidence: how often such a guess is right.
 * Under MODEL_FIRE the model does not guess. An intent is credited
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
	float threshold;      /* confidence from which the model fires
			       * (MODEL_FIRE) */
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

/* A candidate fires from this confidence: a hit right with probability
 * q raises the expected F1 when q is over half the F1 itself (about
 * 0.7 on `eval --kruis`), and there 0.35 gave the highest F1 (0.703;
 * 0.3: 0.701, 0.4: 0.702) without more turns going without an intent. */
#ifndef MODEL_FIRE
#define MODEL_FIRE 0.35f
#endif

/* The features the confidence of candidate k of m (struct match_cand)
 * is calibrated on, into x: a constant, the regression's log-odds,
 * whether and how many intents the patterns found (before 'tenzij'
 * took any back: m->cand_npat), the candidate's rank (second, third or
 * later) and how many candidates there are. */
#define MODEL_CALIB_NFEAT 7
void model_calib_features(const struct match *m, size_t k, float *x);
/* The confidence weights w give features x. */
float model_calib_conf(const float *w, const float *x);
/* Fit the weights (w: MODEL_CALIB_NFEAT) to n candidates' features x
 * (n rows of MODEL_CALIB_NFEAT) and whether each was right (y, 0/1):
 * a logistic regression, by Newton's method. -1 when n is 0 or the
 * features leave it undetermined. */
int model_fit_calib(const float *x, const uint8_t *y, size_t n, float *w);

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
