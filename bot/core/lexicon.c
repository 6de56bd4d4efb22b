/* lexicon.c - see lexicon.h
 *
 * Why our own index rather than a spelling library: the words that
 * matter are the few thousand a script's patterns use, so a
 * symmetric-deletion index over them (every word of five letters or
 * more, and each of its one-letter deletions) answers "which pattern
 * word is this one slip away from" with a dozen hash probes and no
 * dictionary to ship or load. Two words one slip apart always share a
 * key (the same deletion, or one word is the other's deletion); the
 * candidates a key gives are then checked with lexicon_one_off, because
 * a shared deletion also pairs words two edits apart.
 */
#include "lexicon.h"

#include <stdlib.h>
#include <string.h>

#include "norm.h"
#include "util.h"

#define TYPO_MIN 5       /* letters, both words */
#define COMPOUND_HEAD 4  /* letters of the pattern word at the end */
#define COMPOUND_LEFT 3  /* letters before it */
#define LEX_WORD_MAX 64
#define DELS_MAX_ID 0xffffffu  /* word ids the deletions index holds */
/* the deletions table is DELS_LOAD_NUM / DELS_LOAD_DEN full: probe
 * runs stay short, and a lookup reaches it only when the filter says
 * the key may be there */
#define DELS_LOAD_NUM 4
#define DELS_LOAD_DEN 5
#define BITS_PER_KEY 16  /* filter bits per key (a power of two at
			  * least this): 3 to 6% false hits */

/* The table's hash of a key is
 * fnv_final(hash_fnv32(HASH_FNV32_START, key, len)). */
static uint32_t fnv_final(uint32_t h)
{
	return h ? h : 1;   /* 0 marks a free slot */
}

static uint32_t hash_bytes(const char *s, size_t n)
{
	return fnv_final(hash_fnv32(HASH_FNV32_START, s, n));
}

/* Calls fn for every value stored under a key (dels_each_h); stops
 * when fn returns non-zero and returns that. */
typedef int (*tab_fn)(void *arg, uint32_t val);

/* Into a table the caller sized (struct lexicon_ids). */
static void ids_add(struct lexicon_ids *t, uint32_t h, uint32_t id)
{
	size_t mask = t->cap - 1;
	size_t i = h & mask;

	while (t->ent[i].hash)
		i = (i + 1) & mask;
	t->ent[i].hash = h;
	t->ent[i].id = id;
	t->n++;
}

/* The id of the len bytes at key (hash h), 0 if none; the text of id
 * is text + off[id]. */
static uint32_t ids_get(const struct lexicon_ids *t, const char *text,
			const uint32_t *off, const char *key, size_t len,
			uint32_t h)
{
	size_t mask, i;

	if (!t->cap)
		return 0;
	mask = t->cap - 1;
	for (i = h & mask; t->ent[i].hash; i = (i + 1) & mask) {
		const char *w;

		if (t->ent[i].hash != h)
			continue;
		w = text + off[t->ent[i].id];
		if (strncmp(w, key, len) == 0 && w[len] == '\0')
			return t->ent[i].id;
	}
	return 0;
}

static uint32_t stem_class(const struct lexicon *lx, const char *stem,
			   size_t len, uint32_t h)
{
	return ids_get(&lx->stems, lx->stem_text, lx->stem_off, stem, len, h);
}

uint32_t lexicon_word_id(const struct lexicon *lx, const char *word,
			 size_t len)
{
	return ids_get(&lx->words, lx->text, lx->word_off, word, len,
		       hash_bytes(word, len));
}

/* ------------------------------------------------------------- build */

static int is_content(const char *w, size_t n)
{
	if (!n || w[n - 1] == '*')
		return 0;
	return !norm_is_function(w, n);
}

static int bits_has(const uint64_t *bits, uint32_t mask, uint32_t h);
static uint64_t *bits_new(uint32_t *mask, size_t nkeys);
static void bits_set(uint64_t *bits, uint32_t mask, uint32_t h);

/* The deletions table is sized to its keys, counted before it is
 * filled (dels_count), at DELS_LOAD of capacity: not a power of two,
 * so a hash picks its first slot by multiplying (h * cap / 2^32)
 * rather than masking. A power of two at most three quarters full left
 * it between 38% and 75% full: 0.98 MB for the shipped catalog. */
static size_t dels_start(const struct lexicon_dels *t, uint32_t h)
{
	return (size_t)(((uint64_t)h * t->cap) >> 32);
}

static size_t dels_next(const struct lexicon_dels *t, size_t i)
{
	return i + 1 == t->cap ? 0 : i + 1;
}

static void dels_place(struct lexicon_dels *t, struct lexicon_del e)
{
	size_t i = dels_start(t, e.hash);

	while (t->ent[i].hash)
		i = dels_next(t, i);
	t->ent[i] = e;
}

/* Does word w (n bytes) go into the deletions table? */
static int dels_word(const char *w, size_t n, size_t id)
{
	return n >= TYPO_MIN && n <= LEX_WORD_MAX && w[n - 1] != '*' &&
	       id <= DELS_MAX_ID;
}

/* The keys lexicon_build puts in the table for words[1..nwords): each
 * word once, and each distinct one-letter deletion. */
static size_t dels_count(char *const *words, size_t nwords)
{
	size_t keys = 0;

	for (size_t id = 1; id < nwords; id++) {
		const char *w = words[id];
		size_t n = strlen(w);

		if (!dels_word(w, n, id))
			continue;
		keys++;
		for (size_t i = 0; i < n; i++)
			keys += !(i && w[i] == w[i - 1]);
	}
	return keys;
}

/* key (len bytes) is word id with letter pos left out, or the whole
 * word when pos is -1. The table has room (dels_count). */
static void dels_add(struct lexicon *lx, const char *key, size_t len,
		     uint32_t id, int pos)
{
	struct lexicon_del e;

	e.hash = hash_bytes(key, len);
	e.idpos = id << 8 | (uint32_t)(pos + 1);
	dels_place(&lx->dels, e);
	lx->dels.n++;
}

/* 1 if entry e's key is the len bytes at key. */
static int dels_is(const struct lexicon *lx, struct lexicon_del e,
		   const char *key, size_t len)
{
	uint32_t id = e.idpos >> 8, pos = e.idpos & 0xff;
	const char *w = lx->text + lx->word_off[id];
	size_t n = strlen(w);

	if (!pos)
		return n == len && !memcmp(w, key, len);
	pos--;
	return n == len + 1 && !memcmp(w, key, pos) &&
	       !memcmp(w + pos + 1, key + pos, len - pos);
}

/* Calls fn with the word id of every deletions entry whose key is the
 * len bytes at key (hash h). */
static int dels_each_h(const struct lexicon *lx, const char *key,
		       size_t len, uint32_t h, tab_fn fn, void *arg)
{
	const struct lexicon_dels *t = &lx->dels;
	size_t i;

	if (!t->cap)
		return 0;
	for (i = dels_start(t, h); t->ent[i].hash; i = dels_next(t, i)) {
		int r;

		if (t->ent[i].hash != h || !dels_is(lx, t->ent[i], key, len))
			continue;
		r = fn(arg, t->ent[i].idpos >> 8);
		if (r)
			return r;
	}
	return 0;
}

void lexicon_build(struct lexicon *lx, char *const *words, size_t nwords)
{
	char stem[LEX_WORD_MAX + 1];
	char del[LEX_WORD_MAX];

	size_t text_len = 1, stems_len = 1, stems_cap = 0;

	memset(lx, 0, sizeof(*lx));
	lx->nwords = nwords ? nwords : 1;
	lx->cls = xcalloc(lx->nwords, sizeof(*lx->cls));
	lx->first_word = xcalloc(lx->nwords + 1, sizeof(*lx->first_word));
	lx->word_off = xcalloc(lx->nwords, sizeof(*lx->word_off));
	/* the texts and the word table, sized once: the words are known */
	for (size_t id = 1; id < nwords; id++)
		text_len += strlen(words[id]) + 1;
	lx->text = xcalloc(text_len, 1);
	lx->words.cap = 16;
	while (lx->words.cap * 3 < 4 * lx->nwords)
		lx->words.cap *= 2;
	lx->words.ent = xcalloc(lx->words.cap, sizeof(*lx->words.ent));
	/* no more stems than words */
	lx->stems.cap = lx->words.cap;
	lx->stems.ent = xcalloc(lx->stems.cap, sizeof(*lx->stems.ent));
	lx->stem_off = xcalloc(lx->nwords + 1, sizeof(*lx->stem_off));
	/* at least one free slot, so that a probe ends */
	lx->dels.cap = dels_count(words, nwords) * DELS_LOAD_DEN /
		       DELS_LOAD_NUM + 1;
	lx->dels.ent = xcalloc(lx->dels.cap, sizeof(*lx->dels.ent));
	XGROW(lx->stem_text, stems_cap, 1);
	lx->stem_text[0] = '\0';
	text_len = 1;               /* "" at 0 for word id 0 */
	for (size_t id = 1; id < nwords; id++) {
		const char *w = words[id];
		size_t n = strlen(w);
		uint32_t c = 0;

		lx->word_off[id] = (uint32_t)text_len;
		memcpy(lx->text + text_len, w, n + 1);
		text_len += n + 1;
		ids_add(&lx->words, hash_bytes(w, n), (uint32_t)id);
		if (is_content(w, n) && n <= LEX_WORD_MAX) {
			size_t sn = norm_stem(w, n, stem);

			uint32_t h = hash_bytes(stem, sn);

			c = stem_class(lx, stem, sn, h);
			if (!c) {
				c = (uint32_t)++lx->ncls;
				XGROW(lx->stem_text, stems_cap,
				      stems_len + sn + 1);
				memcpy(lx->stem_text + stems_len, stem, sn);
				lx->stem_text[stems_len + sn] = '\0';
				lx->stem_off[c] = (uint32_t)stems_len;
				stems_len += sn + 1;
				ids_add(&lx->stems, h, c);
			}
		} else {
			c = (uint32_t)++lx->ncls;
		}
		lx->cls[id] = c;
		if (!lx->first_word[c])
			lx->first_word[c] = (uint32_t)id;
		if (!dels_word(w, n, id))
			continue;
		dels_add(lx, w, n, (uint32_t)id, -1);
		for (size_t i = 0; i < n; i++) {
			if (i && w[i] == w[i - 1])
				continue;   /* the same deletion again */
			memcpy(del, w, i);
			memcpy(del + i, w + i + 1, n - i - 1);
			dels_add(lx, del, n - 1, (uint32_t)id, (int)i);
		}
	}
	/* the stems' texts in a block of their size */
	{
		char *t = xmalloc(stems_len);

		memcpy(t, lx->stem_text, stems_len);
		free(lx->stem_text);
		lx->stem_text = t;
	}
	/* the filters, sized to the keys now that they are known */
	lx->dels_bits = bits_new(&lx->dels_mask, lx->dels.n);
	for (size_t i = 0; i < lx->dels.cap; i++)
		if (lx->dels.ent[i].hash)
			bits_set(lx->dels_bits, lx->dels_mask,
				 lx->dels.ent[i].hash);
	lx->stem_bits = bits_new(&lx->stem_mask, lx->stems.n);
	for (size_t i = 0; i < lx->stems.cap; i++)
		if (lx->stems.ent[i].hash)
			bits_set(lx->stem_bits, lx->stem_mask,
				 lx->stems.ent[i].hash);
}

void lexicon_release(struct lexicon *lx)
{
	free(lx->cls);
	free(lx->first_word);
	free(lx->word_off);
	free(lx->dels_bits);
	free(lx->stem_bits);
	free(lx->words.ent);
	free(lx->text);
	free(lx->stems.ent);
	free(lx->stem_text);
	free(lx->stem_off);
	free(lx->dels.ent);
	memset(lx, 0, sizeof(*lx));
}

/* ------------------------------------------------------------ lookup */

int lexicon_one_off(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0;

	if (an == bn) {
		while (i < an && a[i] == b[i])
			i++;
		if (i == an)
			return 0;
		/* one substitution, or two neighbours swapped */
		if (!memcmp(a + i + 1, b + i + 1, an - i - 1))
			return 1;
		return i + 1 < an && a[i] == b[i + 1] && a[i + 1] == b[i] &&
		       !memcmp(a + i + 2, b + i + 2, an - i - 2);
	}
	if (an + 1 == bn)
		return lexicon_one_off(b, bn, a, an);
	if (an != bn + 1)
		return 0;
	/* a has one letter more */
	while (i < bn && a[i] == b[i])
		i++;
	return !memcmp(a + i + 1, b + i, bn - i);
}

/* Real Dutch words one letter from other common words: never read as a
 * slip, whatever the script's patterns use ("geslapen" is not
 * "geslagen", "gewend" not "geweld", "geleden" not "gelezen"). Sorted
 * (bsearch); test_match checks the order. The list grew from the
 * words of the training split that a script read as a slip of a word
 * with another meaning; an inflection of the same word ("besproken",
 * "bespreken") is left to the slip. */
const char *const lexicon_real_words[] = {
	"ballen", "beker", "belang", "belde", "bellen", "betalen",
	"binnenkomt", "boeken", "bolletje", "borgen", "broek", "broer",
	"daardoor", "daarop", "danken", "delen", "denken", "dicht", "dieren",
	"draad", "dragen", "gaten", "gedag", "gegeten", "gekocht", "geleden",
	"gelegd", "gelegen", "gelopen", "geloven", "gemerkt", "gepakt",
	"geregend", "geslapen", "geven", "gewend", "gewerkt", "gewild",
	"gezakt", "halen", "hebben", "helft", "heten", "hoede", "hoeven",
	"hoger", "horen", "houden", "kanten", "kerken", "ketel", "keuren",
	"kijken", "kijkt", "kinder", "kleren", "komen", "kopen", "kopie",
	"kring", "kunnen", "leert", "leggen", "leren", "letter", "leven",
	"lezen", "liegen", "lieverd", "liggen", "lijken", "lijkt", "lijnen",
	"lijst", "lokaal", "maken", "meest", "meeste", "moeder", "negen",
	"nieuws", "ophangen", "ouder", "ouders", "petje", "raken", "regent",
	"reken", "ruimte", "schade", "scheef", "schoot", "serieus", "slaapt",
	"spelen", "sprak", "stand", "stellen", "stoel", "stoep", "straat",
	"trein", "vader", "vaker", "vallen", "vandaan", "vandaar", "visser",
	"voeren", "vooral", "voordeur", "voren", "vullen", "waardoor",
	"waarop", "waarvoor", "wegen", "wekker", "wennen", "werden", "werken",
	"werker", "weten", "wilden", "willen", "wonen", "zaten", "zeggen",
	"zeiden", "zeker", "zetten", "zingen", "zinnetje", "zitten", "zoeken",
	"zonde", "zonder", "zooitje", "zoontje", "zouden", "zover", "zullen",
};
const size_t lexicon_nreal_words = ARRAY_LEN(lexicon_real_words);

static int cmp_word(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_real_word(const char *w, size_t n)
{
	char buf[LEX_WORD_MAX + 1];
	const char *key = buf;

	if (n > LEX_WORD_MAX)
		return 0;
	memcpy(buf, w, n);
	buf[n] = '\0';
	return bsearch(&key, lexicon_real_words, ARRAY_LEN(lexicon_real_words),
		       sizeof(*lexicon_real_words), cmp_word) != NULL;
}

struct typo_ctx {
	const struct lexicon *lx;
	const char *w;
	size_t n;
	uint32_t cls;      /* the one class found so far, 0 none */
	int ambiguous;
};

static int typo_seen(void *arg, uint32_t id)
{
	struct typo_ctx *t = arg;
	const char *cand = t->lx->text + t->lx->word_off[id];
	uint32_t c = t->lx->cls[id];
	size_t cn;

	if (c == t->cls || cand[0] != t->w[0])
		return 0;
	cn = strlen(cand);
	if (!lexicon_one_off(t->w, t->n, cand, cn))
		return 0;
	if (t->cls) {
		t->ambiguous = 1;
		return 1;
	}
	t->cls = c;
	return 0;
}

/* A filter of at least BITS_PER_KEY bits per key, a power of two and
 * at least one word; *mask is its size in bits less one. */
static uint64_t *bits_new(uint32_t *mask, size_t nkeys)
{
	size_t nbits = 64;

	while (nbits < nkeys * BITS_PER_KEY && nbits < ((size_t)1 << 31))
		nbits *= 2;
	*mask = (uint32_t)(nbits - 1);
	return xcalloc(nbits / 64, sizeof(uint64_t));
}

static int bits_has(const uint64_t *bits, uint32_t mask, uint32_t h)
{
	uint32_t b = h & mask;

	return bits[b / 64] >> (b % 64) & 1;
}

static void bits_set(uint64_t *bits, uint32_t mask, uint32_t h)
{
	uint32_t b = h & mask;

	bits[b / 64] |= (uint64_t)1 << (b % 64);
}

static int dels_maybe(const struct lexicon *lx, uint32_t h)
{
	return bits_has(lx->dels_bits, lx->dels_mask, h);
}

static uint32_t find_typo(const struct lexicon *lx, const char *w, size_t n)
{
	struct typo_ctx t = { lx, w, n, 0, 0 };
	uint32_t pre[LEX_WORD_MAX + 1];  /* FNV state after w[0..i) */
	char del[LEX_WORD_MAX];

	if (n < TYPO_MIN || n > LEX_WORD_MAX || is_real_word(w, n))
		return 0;
	pre[0] = HASH_FNV32_START;
	for (size_t i = 0; i < n; i++)
		pre[i + 1] = hash_fnv32(pre[i], w + i, 1);
	if (dels_maybe(lx, fnv_final(pre[n])) &&
	    dels_each_h(lx, w, n, fnv_final(pre[n]), typo_seen, &t))
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t h;

		if (i && w[i] == w[i - 1])
			continue;
		h = fnv_final(hash_fnv32(pre[i], w + i + 1, n - i - 1));
		if (!dels_maybe(lx, h))
			continue;
		memcpy(del, w, i);
		memcpy(del + i, w + i + 1, n - i - 1);
		if (dels_each_h(lx, del, n - 1, h, typo_seen, &t))
			return 0;
	}
	return t.ambiguous ? 0 : t.cls;
}

/* Left parts that make a new word rather than a compound: verb
 * particles and prefixes (onveilig, ontmoeten, uitleggen, overleven). */
static const char *const not_left[] = {
	"aan", "achter", "door", "mee", "mis", "onder", "ont", "over",
	"samen", "tegen", "terug", "toe", "uit", "ver", "voor", "weg",
	"her", "bij", "niet", "zelf",
};

static int left_ok(const char *w, size_t k)
{
	if (k < COMPOUND_LEFT)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(not_left); i++)
		if (strlen(not_left[i]) == k && !memcmp(not_left[i], w, k))
			return 0;
	return 1;
}

static uint32_t find_compound(const struct lexicon *lx, const char *stem,
			      size_t n)
{
	if (n < COMPOUND_LEFT + COMPOUND_HEAD)
		return 0;
	/* the longest pattern word at the end wins; the bitmap keeps
	 * the table out of it for all but real heads */
	for (size_t k = COMPOUND_LEFT; k + COMPOUND_HEAD <= n; k++) {
		uint32_t c, h;

		h = hash_bytes(stem + k, n - k);
		if (!bits_has(lx->stem_bits, lx->stem_mask, h) ||
		    !left_ok(stem, k))
			continue;
		c = 0;
		c = stem_class(lx, stem + k, n - k, h);
		if (c)
			return c;
	}
	return 0;
}

/* The class of a diminutive's base (lexicon.h): the endings tried
 * longest first, so "praatje" tries "praa" (-tje) before "praat" (-je),
 * and the first base the lexicon knows, by its text or by its stem,
 * wins. */
static uint32_t find_diminutive(const struct lexicon *lx, const char *word,
				size_t len)
{
	static const char *const endings[] = { "etje", "tje", "pje", "je" };
	char base[LEX_WORD_MAX + 1], st[LEX_WORD_MAX + 1];

	if (len > LEX_WORD_MAX || len < 5)
		return 0;
	if (word[len - 1] == 's')               /* gesprekjes */
		len--;
	if (len < 5 || word[len - 2] != 'j' || word[len - 1] != 'e')
		return 0;
	for (size_t e = 0; e < ARRAY_LEN(endings); e++) {
		size_t k = strlen(endings[e]), n, sn;
		uint32_t id, c;

		if (len < k + 3 || memcmp(word + len - k, endings[e], k))
			continue;
		n = len - k;
		memcpy(base, word, n);
		/* mannetje → man, balletje → bal */
		if (e == 0 && n >= 4 && base[n - 1] == base[n - 2])
			n--;
		if (norm_is_function(base, n))
			continue;
		id = lexicon_word_id(lx, base, n);
		if (id)
			return lx->cls[id];
		sn = norm_stem(base, n, st);
		c = stem_class(lx, st, sn, hash_bytes(st, sn));
		if (c)
			return c;
	}
	return 0;
}

static uint32_t find(const struct lexicon *lx, const char *word, size_t len,
		     const char *stem, size_t stem_len, int function,
		     enum lexicon_how *how)
{
	enum lexicon_how h = LEXICON_NONE;
	uint32_t c = 0, id;

	if (!lx->cls || !len)
		goto out;
	id = lexicon_word_id(lx, word, len);
	if (id) {
		c = lx->cls[id];
		h = LEXICON_EXACT;
		goto out;
	}
	if (function)
		goto out;
	c = stem_class(lx, stem, stem_len, hash_bytes(stem, stem_len));
	if (c) {
		h = LEXICON_STEM;
		goto out;
	}
	c = find_typo(lx, word, len);
	if (c) {
		h = LEXICON_TYPO;
		goto out;
	}
	c = find_diminutive(lx, word, len);
	if (c) {
		h = LEXICON_DIMINUTIVE;
		goto out;
	}
	c = find_compound(lx, stem, stem_len);
	if (c)
		h = LEXICON_COMPOUND;
out:
	if (how)
		*how = h;
	return c;
}

uint32_t lexicon_find(const struct lexicon *lx, const char *word, size_t len,
		      const char *stem, size_t stem_len,
		      enum lexicon_how *how)
{
	return find(lx, word, len, stem, stem_len,
		    norm_is_function(word, len), how);
}

uint32_t lexicon_find_token(const struct lexicon *lx,
			    const struct norm_token *t,
			    enum lexicon_how *how)
{
	return find(lx, t->word, t->len, t->stem, t->stem_len, t->function,
		    how);
}
