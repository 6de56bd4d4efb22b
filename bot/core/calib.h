/* calib.h - which debrief moments a scenario can be trusted with.
 *
 * A trainer uses the debrief to tell a professional what they did well
 * and what hurt; a moment that is often wrong does more harm than a
 * silent debrief. When a scenario has a training split
 * ('leervoorbeelden:'), every labelled conversation of it is played
 * through the engine at load (seed 1), and each rubric moment (point and
 * side: shown or missed) the debrief records is held against the
 * labels. A moment recorded at least CALIB_MIN_SEEN times and right less
 * than CALIB_MIN_PRECISION of them becomes quiet: the persona still
 * reacts and the meters still move, but the debrief does not record it
 * (docs/scenariotaal.md, "Stille rubriekmomenten").
 */
#ifndef OEF_CALIB_H
#define OEF_CALIB_H

#include "corpus.h"
#include "script.h"

#define CALIB_MIN_SEEN 4
#ifndef CALIB_MIN_PRECISION
#define CALIB_MIN_PRECISION 0.7
#endif

/* Plays train through s and sets s->quiet (and s->quiet_seen,
 * s->quiet_right). train may be NULL: nothing is quiet. The catalog
 * calls it at load with the corpus script_load_train trained on, so
 * that each training split is read once. */
void calib_points(struct script *s, const struct corpus *train);

#endif
