/* model.h - the statistical matcher: intents the patterns missed.
 *
 * Learned when a script is loaded, from every intent's 'ja:' sentences
 * (positive for that intent),
 * 'nee:' sentences (a veto for that intent) and, when the scenario names
 * one with 'leervoorbeelden:', the labelled turns of a corpus training
 * split. It compares a clause with those texts by cosine similarity over
 * idf-weighted features: each word, its first five letters (a crude
 * stem: "gesprekken" ~ "gesprek"), each pair of neighbouring words, and
 * a negation marker. An intent scores by the nearest text that has it,
 * less how much nearer the nearest text of all is; a 'nee:' sentence of
 * the intent at least as near vetoes it. Features found in more than 15%
 * of the texts carry no weight (except the negation marker).
 *
 * Calibration (docs/scenariotaal.md): every corpus turn (every text when
 * there is no corpus) is scored leave-one-out, its own text taken out.
 * A sigmoid fitted to those scores turns a score into a confidence
 * (0..1), and the threshold is the score at which patterns and model
 * together reach the best F1 on them, at a confidence of at least 0.5:
 * under it the model does not guess; when the model does not raise F1
 * at all it never fires. Training and calibration are deterministic.
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
	float threshold;      /* confidence from which the model fires */
	int fires;            /* 0: it does not raise F1, so never fires */
	float loo_f1;         /* leave-one-out F1, patterns and model */
	float loo_f1_pat;     /* the same, patterns alone */
};

/* Train on s (with its first-word index built) and train (or NULL).
 * Returns NULL when there is nothing to learn from. Caller frees with
 * model_free. */
struct model *model_train(const struct script *s, const struct corpus *train);
void model_free(struct model *md);
const struct model_info *model_info(const struct model *md);

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
