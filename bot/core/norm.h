/* norm.h - turn what a trainee typed into words the matcher compares.
 *
 * Normalisation (docs/scenariotaal.md): lower case, diacritics folded to
 * ASCII (é→e, ë→e, ï→i, ç→c, ß→ss …), curly quotes to straight, then split
 * into words on anything that is not a letter or digit. Apostrophe forms
 * are rewritten first: m'n→mijn, z'n→zijn, d'r→haar, 't→het, 's→s, and any
 * other apostrophe inside a word is dropped ("zo'n"→"zon" is fine: patterns
 * go through the same function). Hyphens split words ("e-mail" → e mail).
 * Word forms are then mapped so that formal and informal Dutch compare
 * equal: u/jij/jou/je → je, uw/jouw → jouw, bent → ben, heeft/hebt → heb,
 * kunt/kun → kan, wilt → wil, zult → zal, and the -t of vindt, voelt,
 * denkt, wordt, zegt, snapt, hoort, ziet, begrijpt is dropped. Chat
 * spellings become words: k → ik, mn → mijn, zn → zijn, ff → even,
 * wrm → waarom, gwn → gewoon, ok/okee/okay/oki → oke.
 *
 * Clause breaks: . ? ! , ; : and newlines end a clause; each token records
 * its clause number (0-based). Invalid UTF-8 bytes and control characters
 * are treated as word separators, never as letters; they never crash.
 *
 * Hot path: a struct norm is reused across messages and only grows, so
 * normalising a message allocates nothing once warmed up.
 */
#ifndef OEF_NORM_H
#define OEF_NORM_H

#include <stddef.h>
#include <stdint.h>

struct norm_token {
	const char *word;    /* normalised, NUL-terminated; borrowed from
			      * the struct norm until the next norm_run */
	uint32_t len;        /* strlen(word) */
	uint32_t clause;     /* clause index, 0-based, non-decreasing */
	uint32_t src_start;  /* byte offset of the word in the input */
	uint32_t src_len;    /* byte length of the word in the input */
	const char *stem;    /* norm_stem of word (its matching key for
			      * inflection); equal to word when the word
			      * has none. Borrowed like word. */
	uint32_t stem_len;   /* strlen(stem) */
	uint8_t function;    /* norm_is_function(word) */
};

struct norm {
	struct norm_token *tok;  /* ntok tokens */
	size_t ntok;
	/* private: grow-only buffers */
	char *buf;
	size_t buf_cap;
	size_t tok_cap;
};

void norm_init(struct norm *n);
void norm_release(struct norm *n);

/* Normalise len bytes of in (need not be NUL-terminated). At most
 * NORM_MAX_TOKENS tokens are produced; the rest of a longer input is
 * ignored for matching. Returns the number of tokens. */
#define NORM_MAX_TOKENS 4096
size_t norm_run(struct norm *n, const char *in, size_t len);
/* A plain word, letters a-z only and shorter than norm_run's cap: the
 * one token norm_run would make of it (its spelling map applied), in
 * *out (static or w itself) and *outlen; 0 when the word needs norm_run
 * (any other character, or one it may split in two). For the script
 * parser's pattern words, most of which are plain. */
int norm_plain_word(const char *w, size_t n, const char **out,
		    size_t *outlen);

/* Stemming (docs/scenariotaal.md, "Verbuiging"): a light, inflection-only
 * stemmer of our own. Close to the dictionary form, but only a key on
 * which "lopen", "loopt" and "loop" (or "brieven" and "brief") are equal:
 * plural -s after e/r/l/n, then -en or -e, else a verb's -t; where -en
 * or -e came off, a doubled final consonant is undoubled (zitten → zit)
 * and a long vowel written single is written double again (lopen →
 * loop, lezen → lees, but lessen → les); a final v/z becomes f/s. Function words (norm_is_function),
 * words under four letters and plurals that mean something else than
 * their singular (schulden: debts, not blame) are their own stem.
 * Writes at most n bytes plus a NUL to out (out has room for n + 1);
 * returns the stem's length. */
size_t norm_stem(const char *word, size_t n, char *out);

/* 1 if word (normalised) is a Dutch function word: pronouns, articles,
 * prepositions, conjunctions, auxiliaries. They are never stemmed and
 * never typo-corrected onto another word. */
int norm_is_function(const char *word, size_t n);

/* 1 if word (normalised) is a negation word: niet geen nooit niks niets
 * niemand. */
int norm_is_negation(const char *word);

/* The length in bytes of the apostrophe at s[k] (s has end bytes): one
 * that norm_run reads as part of a word (' ` ´ ‘ ’ ‛ ′); 0 for none. */
size_t norm_apostrophe_at(const char *s, size_t k, size_t end);

#endif
