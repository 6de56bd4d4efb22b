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

/* In tokens [from, to) of n: the English words that are no Dutch words
 * (*en) and the Dutch function words (*nl). */
void lang_count(const struct norm *n, size_t from, size_t to, size_t *en,
		size_t *nl);

/* What those counts say: 1 English (two English words and more of them
 * than Dutch function words; "see you" and "thank you" are what Dutch
 * trainees write too), -1 Dutch (a Dutch function word and more of
 * them than English words), else 0. match.c judges each clause so, and
 * the message by the clauses' sums: a message that mixes ("Where do you
 * live? Waar woont u?") is heard by its Dutch clauses. */
int lang_judge(size_t en, size_t nl);

#endif
