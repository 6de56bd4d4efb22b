/* model.h - the statistical matcher: intents the patterns missed.
 *
 * Learned when a script is loaded, from every intent's 'ja:' sentences
 * (positive for that intent and for whatever the patterns find in them),
 * 'nee:' sentences (negative for that intent) and, when the scenario
 * names one with 'leervoorbeelden:', the labelled turns of a corpus
 * training split. It is a naive Bayes classifier per intent over the
 * words of a clause: each word, its first five letters (a crude stem),
 * each pair of neighbouring words, the clause's first word, whether the
 * clause holds a negation and whether it ends in a question mark.
 *
 * Calibration (docs/scenariotaal.md): every training text is scored
 * leave-one-out (its own counts taken out). A sigmoid fitted to those
 * scores turns a score into a confidence (0..1), and the threshold is
 * the confidence at which patterns and model together reach the best F1
 * on the training texts, never below 0.5: under it the model does not
 * guess. Training and calibration are deterministic; the same script
 * and corpus give the same model on every machine.
 */
#ifndef OEF_MODEL_H
#define OEF_MODEL_H

#include <stddef.h>
#include <stdint.h>

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

#endif
