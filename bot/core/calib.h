/* calib.h - which debrief moments a scenario can be trusted with.
 *
 * A trainer uses the debrief to tell a professional what they did well
 * and what hurt; a moment that is often wrong does more harm than a
 * silent debrief. When a scenario has a training split
 * ('leervoorbeelden:'), every labelled conversation of it is played
 * through the engine at load (seed 1), and each rubric moment (point and
 * side: shown or missed) the debrief records is held against the
 * labels, apart by how it was earned (an intent the patterns found, or
 * one only the model found) and by its source: the point, side and
 * reason a 'punt' action gives (struct point_src). A source recorded at
 * least CALIB_MIN_SEEN times and right less than CALIB_MIN_PRECISION of
 * them (CALIB_MODEL_MIN_PRECISION when the model earned it) becomes
 * quiet: the persona still reacts and the meters still move, but the
 * debrief does not record it (docs/scenariotaal.md, "Stille
 * rubriekmomenten"). A source seen fewer times is judged with every
 * source of its point and side together, as before there were sources.
 *
 * Why by source: one point and side can be earned by rules a trainer
 * judges very differently. In jongere-meebeslissen "begrip-taal
 * gemist" is recorded for unexplained jargon (right almost always)
 * and for a trainee trying street language (the labels split half and
 * half); pooled, the jargon moment went quiet too, and poor
 * conversations full of "MDO" and "SMART-doelen" had nothing about
 * language in their debrief.
 */
#ifndef OEF_CALIB_H
#define OEF_CALIB_H

#include "corpus.h"
#include "script.h"

#define CALIB_MIN_SEEN 4
/* 0.7 until the round after 3f3c18f. On the fourth dev split 0.85 gave
 * rubric precision 0.847 at recall 0.244 (0.804 / 0.262 at 0.7); on the
 * fifth, read later, 0.8 did better than both: 0.789 at recall 0.222
 * (0.771 / 0.235 at 0.7, 0.782 / 0.197 at 0.85), and cross-validated on
 * the training split 0.899 / 0.359 (0.888 / 0.383 at 0.7, 0.901 / 0.327
 * at 0.85). A moment right on four of five training turns is wrong more
 * often than that on turns the patterns were not written for; above
 * 0.8 the labels' own noise starts to silence good moments (a repeated
 * "wat zou jij anders willen?" that one writer left unlabelled). */
#ifndef CALIB_MIN_PRECISION
#define CALIB_MIN_PRECISION 0.8
#endif
/* The model's side has to clear a higher bar: it learned these very
 * turns, so on them it looks better than it is. (Cross-validated on the
 * training split: rubric precision 0.762 at 0.8, 0.773 at 0.9.) */
#define CALIB_MODEL_MIN_PRECISION 0.9

/* The quiet table of a script: first a key per point, side (1 shown)
 * and whether a model hit earned it (calib_key: the counts of all
 * sources of that point and side together), then one per source and
 * model (calib_src_key: its own counts; its quiet byte is the verdict
 * the engine reads). CALIB_KEYS(s) entries in all. */
#define CALIB_KEYS(s) ((size_t)(s)->npoints * 4 + (size_t)(s)->nsrcs * 2)
static inline size_t calib_key(uint32_t point, int shown, int by_model)
{
	return ((size_t)point * 2 + (shown ? 1 : 0)) * 2 + (by_model ? 1 : 0);
}
static inline size_t calib_src_key(const struct script *s, uint32_t src,
				   int by_model)
{
	return (size_t)s->npoints * 4 + (size_t)src * 2 + (by_model ? 1 : 0);
}

/* Is a moment recorded seen times on the training split, right times,
 * quiet? */
static inline int calib_quiet(uint32_t seen, uint32_t right, int by_model)
{
	return seen >= CALIB_MIN_SEEN &&
	       right < (by_model ? CALIB_MODEL_MIN_PRECISION :
				   CALIB_MIN_PRECISION) * seen;
}

/* Plays train through s and sets s->quiet (and s->quiet_seen,
 * s->quiet_right). train may be NULL: nothing is quiet. The catalog
 * calls it at load with the corpus script_load_train trained on, so
 * that each training split is read once. */
void calib_points(struct script *s, const struct corpus *train);

#endif
