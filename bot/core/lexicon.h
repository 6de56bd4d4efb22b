/* lexicon.h - which word of a script a word of a message stands for.
 *
 * Built once per script at load (script.c), read-only afterwards, so any
 * number of threads may look words up at the same time. Every interned
 * pattern word gets a class; words whose stems (norm_stem) are equal
 * share one, so "loopt" in a message finds the pattern word "lopen". A
 * message word that is no pattern word is looked up, in this order
 * (docs/scenariotaal.md, "Verbuiging, tikfouten en samenstellingen"):
 *
 *   stem      its stem is the stem of a pattern word (not for function
 *             words: "heet" must not become "het");
 *   typo      one letter off (one substitution, insertion, deletion or
 *             swap of two neighbours) from exactly one class of pattern
 *             words, both words five letters or more, the first letter
 *             the same, and the message word not a common Dutch word
 *             of its own ("lijken" is no slip for "kijken"). Found
 *             through an index of one-letter deletions built at load;
 *   diminutive  a -je/-tje/-pje/-etje word (plural -jes too) whose
 *             base is a pattern word or has a pattern word's stem:
 *             afspraakje → afspraak, broertje → broer, boompje → boom,
 *             mannetje → man, gesprekjes → gesprek (a pattern word
 *             itself, like "meisje" or "beetje", is itself first);
 *   compound  it ends in a pattern word of four letters or more after
 *             at least three letters that are not a verb particle or
 *             prefix (jeugdbeschermer → beschermer, but onveilig,
 *             ontmoeten and gevoel stay themselves).
 */
#ifndef OEF_LEXICON_H
#define OEF_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#include "norm.h"

enum lexicon_how {
	LEXICON_NONE,       /* no pattern word */
	LEXICON_EXACT,      /* the word itself */
	LEXICON_STEM,       /* another inflection */
	LEXICON_TYPO,       /* a one-letter slip */
	LEXICON_DIMINUTIVE, /* a diminutive of a pattern word */
	LEXICON_COMPOUND    /* a compound ending in a pattern word */
};

/* A table from a key to an id (open addressing, sized when built, at
 * most three quarters full): an entry is the key's hash (0: free slot)
 * and the id, a word id or a class; the key's text is found by the id
 * (the table holds no key text). */
struct lexicon_ids {
	struct lexicon_id {
		uint32_t hash;
		uint32_t id;
	} *ent;
	size_t cap, n;
};

struct lexicon {
	uint32_t *cls;            /* per word id: its class, 1..ncls */
	size_t nwords, ncls;
	uint32_t *first_word;     /* per class: one word id of it */
	uint32_t *word_off;       /* per word id: its text in text */
	char *text;               /* every word NUL-terminated, "" first
				   * (word id 0); the script's words[]
				   * point here once it is built */
	struct lexicon_ids words;  /* word → word id (text, word_off) */
	/* stem of a content word → class; the stems' texts NUL-terminated
	 * in stem_text, "" first, the class's at stem_off[class] (0: a
	 * class without one) */
	struct lexicon_ids stems;
	char *stem_text;
	uint32_t *stem_off;
	/* A word and its one-letter deletions → word id (words of 5+
	 * letters). The key is not stored: an entry names the word and
	 * which letter is left out, so 8 bytes an entry and no key text
	 * (the deletions are most of the lexicon's memory). */
	struct lexicon_dels {
		struct lexicon_del {
			uint32_t hash;   /* 0: free slot */
			uint32_t idpos;  /* word id << 8 | (deleted letter
					  * + 1), 0 in the low byte for the
					  * whole word */
		} *ent;
		size_t cap, n;
	} dels;
	uint64_t *dels_bits;      /* a bit per hash of a dels key: most
				   * deletions of a message word are no
				   * key, and this says so from cache */
	uint64_t *stem_bits;      /* the same for stems, for compounds */
	uint32_t dels_mask;       /* bits in dels_bits less one (a power
				   * of two, 32 or more per key) */
	uint32_t stem_mask;       /* the same for stem_bits */
};

/* words[1..nwords) are the script's interned words (words[0] is "");
 * a word ending in '*' is a prefix key and gets a class of its own.
 * Borrowed during the call only. */
void lexicon_build(struct lexicon *lx, char *const *words, size_t nwords);
void lexicon_release(struct lexicon *lx);

/* The word id of the len bytes at word (0: no pattern word), and the
 * text of a word id (nwords or more: ""). */
uint32_t lexicon_word_id(const struct lexicon *lx, const char *word,
			 size_t len);
static inline const char *lexicon_word(const struct lexicon *lx,
				       uint32_t id)
{
	return id < lx->nwords && lx->text ? lx->text + lx->word_off[id] :
	       "";
}

static inline uint32_t lexicon_class(const struct lexicon *lx, uint32_t word)
{
	return word < lx->nwords ? lx->cls[word] : 0;
}

/* The class a normalised message word stands for, 0 if none; *how says
 * why (may be NULL). stem is norm_stem of word. */
uint32_t lexicon_find(const struct lexicon *lx, const char *word, size_t len,
		      const char *stem, size_t stem_len,
		      enum lexicon_how *how);

/* lexicon_find for a token of norm_run, which knows its stem and
 * whether it is a function word already. */
uint32_t lexicon_find_token(const struct lexicon *lx,
			    const struct norm_token *t,
			    enum lexicon_how *how);

/* Real words never read as a slip of a pattern word, sorted by strcmp. */
extern const char *const lexicon_real_words[];
extern const size_t lexicon_nreal_words;

/* 1 if a and b are one substitution, insertion, deletion or swap of
 * neighbours apart (0 when equal). For tests and the index. */
int lexicon_one_off(const char *a, size_t an, const char *b, size_t bn);

#endif
