/* lang.h - is a message written in another language than Dutch?
 *
 * Deterministic, from a profile of function words: English words that
 * are no Dutch words (the, you, what, is not one of them: "is" is Dutch
 * too) against Dutch function words (norm_is_function). A message is
 * "other" when it has at least two English function words and more of
 * them than Dutch ones: "Can you help me with this?" is other, "Sorry,
 * ik bedoel het niet zo" and "oké, thanks" are not. Function words and
 * not a trained model because a chat turn is a handful of words (too
 * short for letter n-gram statistics such as libexttextcat's, which
 * needs sentences) and because every trainee message must get the same
 * answer on every run.
 */
#ifndef OEF_LANG_H
#define OEF_LANG_H

#include "norm.h"

/* 1 if the normalised message n is not Dutch (English first). */
int lang_is_other(const struct norm *n);

#endif
