/* norm.c - see norm.h
 *
 * One pass over the input bytes. ASCII goes through a class table; other
 * bytes are decoded as UTF-8 by hand (no locale, no libc ctype). A word is
 * collected in a small fixed buffer, then rewritten (apostrophe forms,
 * word mapping) and copied into the grow-only output buffer.
 */
#include "norm.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define WORD_MAX 64        /* bytes of output kept per word */

static size_t stem_word(const char *word, size_t n, int function,
			char *out);
#define BAD_CP 0xffffffffu  /* an undecodable byte */

/* Classes of ASCII bytes. Any other value in the table is the lower-case
 * form of a letter or digit. */
enum { C_SEP = 0, C_BREAK = 1, C_APOS = 2 };

#define LETTER(c) [c] = c, [c - 32] = c
static const unsigned char ascii_class[128] = {
	['\n'] = C_BREAK, ['\r'] = C_BREAK, ['.'] = C_BREAK,
	['?'] = C_BREAK, ['!'] = C_BREAK, [','] = C_BREAK,
	[';'] = C_BREAK, [':'] = C_BREAK,
	['\''] = C_APOS, ['`'] = C_APOS,
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
	['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9',
	LETTER('a'), LETTER('b'), LETTER('c'), LETTER('d'), LETTER('e'),
	LETTER('f'), LETTER('g'), LETTER('h'), LETTER('i'), LETTER('j'),
	LETTER('k'), LETTER('l'), LETTER('m'), LETTER('n'), LETTER('o'),
	LETTER('p'), LETTER('q'), LETTER('r'), LETTER('s'), LETTER('t'),
	LETTER('u'), LETTER('v'), LETTER('w'), LETTER('x'), LETTER('y'),
	LETTER('z'),
};
#undef LETTER

/* ASCII folding of U+00C0..U+017F (Latin-1 Supplement letters and Latin
 * Extended-A); "" is not a letter (× and ÷). */
#define FOLD_FIRST 0xc0
#define FOLD_LAST 0x17f
static const char fold_tab[][3] = {
	/* U+00C0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
	/* U+00C8 */ "e", "e", "e", "e", "i", "i", "i", "i",
	/* U+00D0 */ "d", "n", "o", "o", "o", "o", "o", "",
	/* U+00D8 */ "o", "u", "u", "u", "u", "y", "th", "ss",
	/* U+00E0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
	/* U+00E8 */ "e", "e", "e", "e", "i", "i", "i", "i",
	/* U+00F0 */ "d", "n", "o", "o", "o", "o", "o", "",
	/* U+00F8 */ "o", "u", "u", "u", "u", "y", "th", "y",
	/* U+0100 */ "a", "a", "a", "a", "a", "a", "c", "c",
	/* U+0108 */ "c", "c", "c", "c", "c", "c", "d", "d",
	/* U+0110 */ "d", "d", "e", "e", "e", "e", "e", "e",
	/* U+0118 */ "e", "e", "e", "e", "g", "g", "g", "g",
	/* U+0120 */ "g", "g", "g", "g", "h", "h", "h", "h",
	/* U+0128 */ "i", "i", "i", "i", "i", "i", "i", "i",
	/* U+0130 */ "i", "i", "ij", "ij", "j", "j", "k", "k",
	/* U+0138 */ "k", "l", "l", "l", "l", "l", "l", "l",
	/* U+0140 */ "l", "l", "l", "n", "n", "n", "n", "n",
	/* U+0148 */ "n", "n", "ng", "ng", "o", "o", "o", "o",
	/* U+0150 */ "o", "o", "oe", "oe", "r", "r", "r", "r",
	/* U+0158 */ "r", "r", "s", "s", "s", "s", "s", "s",
	/* U+0160 */ "s", "s", "t", "t", "t", "t", "t", "t",
	/* U+0168 */ "u", "u", "u", "u", "u", "u", "u", "u",
	/* U+0170 */ "u", "u", "u", "u", "w", "w", "y", "y",
	/* U+0178 */ "y", "z", "z", "z", "z", "z", "z", "s",
};
_Static_assert(ARRAY_LEN(fold_tab) == FOLD_LAST - FOLD_FIRST + 1,
	       "fold_tab covers U+00C0..U+017F");

/* The word being collected. Apostrophes are not stored: only where they
 * were, which is all the apostrophe forms need. */
struct word {
	char w[WORD_MAX];   /* folded letters and digits, capped */
	size_t n;           /* bytes of w in use */
	size_t full;        /* bytes the word has without the cap */
	int open;           /* a letter or apostrophe was seen */
	int lead;           /* it starts with an apostrophe */
	unsigned pending;   /* apostrophes since the last letter */
	unsigned inner;     /* apostrophes between letters */
	size_t inner_at;    /* bytes of w before the first inner one */
	size_t start;       /* source offset of the first apostrophe/letter */
	size_t first;       /* source offset of the first letter */
	size_t end;         /* source offset just past the last letter */
	uint32_t clause;
};

struct run {
	struct norm *n;
	size_t pos;         /* bytes of n->buf in use */
	uint32_t clause;    /* breaks seen so far */
	struct word wd;
};

static void word_open(struct run *r, size_t at)
{
	struct word *wd = &r->wd;

	wd->n = 0;
	wd->full = 0;
	wd->open = 1;
	wd->lead = 0;
	wd->pending = 0;
	wd->inner = 0;
	wd->inner_at = 0;
	wd->start = at;
	wd->first = at;
	wd->end = at;
	wd->clause = r->clause;
}

/* Add k output bytes s for the letter at source bytes [at, end). */
static inline void word_letters(struct run *r, const char *s, size_t k,
				size_t at, size_t end)
{
	struct word *wd = &r->wd;

	if (!wd->open)
		word_open(r, at);
	if (wd->full == 0) {
		wd->first = at;
	} else if (wd->pending) {
		if (!wd->inner)
			wd->inner_at = wd->full;
		wd->inner += wd->pending;
	}
	wd->pending = 0;
	for (size_t i = 0; i < k; i++)
		if (wd->n < WORD_MAX)
			wd->w[wd->n++] = s[i];
	wd->full += k;
	wd->end = end;
}

/* The common case: more plain ASCII letters and digits right after a
 * letter. Returns the offset of the first byte that is not one. */
static inline size_t word_ascii_run(struct run *r, const unsigned char *p,
				    size_t len, size_t i)
{
	struct word *wd = &r->wd;
	size_t n = wd->n;
	size_t from = i;

	while (i < len && p[i] < 0x80 && ascii_class[p[i]] > C_APOS) {
		if (n < WORD_MAX)
			wd->w[n++] = (char)ascii_class[p[i]];
		i++;
	}
	wd->n = n;
	wd->full += i - from;
	if (i > from)
		wd->end = i;
	return i;
}

static void word_apostrophe(struct run *r, size_t at)
{
	struct word *wd = &r->wd;

	if (!wd->open)
		word_open(r, at);
	if (wd->full == 0)
		wd->lead = 1;
	else
		wd->pending++;
}

/* A combining mark (U+0300..U+036F) belongs to the letter before it: it
 * is dropped, but the source span covers it. */
static void word_mark(struct run *r, size_t end)
{
	struct word *wd = &r->wd;

	if (wd->open && wd->full > 0 && !wd->pending)
		wd->end = end;
}

/* Formal and informal forms that should compare equal: "u vindt" and
 * "vind je" both become "je vind". Chat spellings are never more than
 * twice as long (norm_reserve). Spoken and southern spellings ("Ik ga da
 * nie doen", "wa vin jij", "effe", "ge moet"): 'nie' must still scope as
 * 'niet'. By length, so a word is compared with few of them. */
struct word_to {
	const char *from, *to;
};

static const struct word_to word_map1[] = {
	{ "u", "je" }, { "k", "ik" },
};

static const struct word_to word_map2[] = {
	{ "uw", "jouw" }, { "mn", "mijn" }, { "zn", "zijn" },
	{ "ff", "even" }, { "ok", "oke" }, { "da", "dat" }, { "wa", "wat" },
	{ "ge", "je" },
};

static const struct word_to word_map3[] = {
	{ "jij", "je" }, { "jou", "je" }, { "kun", "kan" },
	{ "wrm", "waarom" }, { "gwn", "gewoon" }, { "oki", "oke" },
	{ "nie", "niet" }, { "gij", "je" },
};

static const struct word_to word_map4[] = {
	{ "bent", "ben" }, { "hebt", "heb" }, { "kunt", "kan" },
	{ "wilt", "wil" }, { "zult", "zal" }, { "zegt", "zeg" },
	{ "ziet", "zie" }, { "okee", "oke" }, { "okay", "oke" },
	{ "effe", "even" },
};

static const struct word_to word_map5[] = {
	{ "heeft", "heb" }, { "vindt", "vind" }, { "voelt", "voel" },
	{ "denkt", "denk" }, { "wordt", "word" }, { "snapt", "snap" },
	{ "hoort", "hoor" },
};

static const struct word_to word_map8[] = {
	{ "begrijpt", "begrijp" },
};

static const struct {
	const struct word_to *v;
	size_t n;
} word_map[] = {
	[1] = { word_map1, ARRAY_LEN(word_map1) },
	[2] = { word_map2, ARRAY_LEN(word_map2) },
	[3] = { word_map3, ARRAY_LEN(word_map3) },
	[4] = { word_map4, ARRAY_LEN(word_map4) },
	[5] = { word_map5, ARRAY_LEN(word_map5) },
	[8] = { word_map8, ARRAY_LEN(word_map8) },
};

static const char *map_word(const char *w, size_t n)
{
	if (n >= ARRAY_LEN(word_map))
		return NULL;
	for (size_t i = 0; i < word_map[n].n; i++)
		if (word_map[n].v[i].from[0] == w[0] &&
		    !memcmp(w, word_map[n].v[i].from, n))
			return word_map[n].v[i].to;
	return NULL;
}

/* Could w be one of word_split (below)? They all end in "je". */
static int may_split(const char *w, size_t n)
{
	return n >= 5 && w[n - 2] == 'j' && w[n - 1] == 'e';
}

int norm_plain_word(const char *w, size_t n, const char **out,
		    size_t *outlen)
{
	const char *m;

	if (!n || n >= WORD_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (w[i] < 'a' || w[i] > 'z')
			return 0;
	if (may_split(w, n))
		return 0;   /* norm_run decides those */
	m = map_word(w, n);
	*out = m ? m : w;
	*outlen = m ? strlen(m) : n;
	return 1;
}

/* 't, 's, m'n, z'n, d'r; NULL when the word is none of them. */
static const char *apostrophe_form(const struct word *wd)
{
	if (wd->lead && !wd->inner && wd->full == 1) {
		if (wd->w[0] == 't')
			return "het";
		if (wd->w[0] == 's')
			return "s";
	}
	if (wd->inner == 1 && wd->inner_at == 1 && wd->full == 2) {
		if (wd->w[0] == 'm' && wd->w[1] == 'n')
			return "mijn";
		if (wd->w[0] == 'z' && wd->w[1] == 'n')
			return "zijn";
		if (wd->w[0] == 'd' && wd->w[1] == 'r')
			return "haar";
	}
	return NULL;
}

/* Chat spellings that run a verb and 'je' together ("snapje een beetje
 * waar ik heen wil?" is no 'stapje' with a slip), and "da's": two
 * words. "weetje" stays (een weetje is a noun). */
static const struct {
	const char *from, *a, *b;
} word_split[] = {
	{ "snapje", "snap", "je" }, { "begrijpje", "begrijp", "je" },
	{ "hebje", "heb", "je" }, { "benje", "ben", "je" },
	{ "kanje", "kan", "je" }, { "wilje", "wil", "je" },
	{ "vindje", "vind", "je" }, { "denkje", "denk", "je" },
	{ "zieje", "zie", "je" }, { "hoorje", "hoor", "je" },
	{ "moetje", "moet", "je" }, { "zalje", "zal", "je" },
};

static void emit(struct run *r, const char *s, size_t len, size_t start,
		 size_t end);

/* The word as two tokens, when it is one of word_split or "da's";
 * returns 1 if so. Each token's source span is its own part of the
 * word when the letters map one to one, else the word up to its last
 * byte and that byte. */
static int split_word(struct run *r)
{
	const struct word *wd = &r->wd;
	const char *a = NULL, *b = NULL;
	size_t cut;

	if (wd->inner == 1 && wd->full == 3 && wd->inner_at == 2 &&
	    !memcmp(wd->w, "das", 3)) {
		a = "dat";
		b = "is";
	}
	if (!a && !may_split(wd->w, wd->n))
		return 0;
	/* also with an apostrophe before the je ("moet'je"), which the
	 * word would lose: the word "moetje" normalised again would be
	 * split, and norm_run must give the same tokens for its own
	 * words (tests/fuzz, fuzz_norm_idempotent) */
	for (size_t i = 0; !a && wd->full == wd->n &&
	     (!wd->inner || (wd->inner == 1 && wd->inner_at == wd->n - 2)) &&
	     i < sizeof(word_split) / sizeof(word_split[0]); i++)
		if (strlen(word_split[i].from) == wd->n &&
		    !memcmp(wd->w, word_split[i].from, wd->n)) {
			a = word_split[i].a;
			b = word_split[i].b;
		}
	if (!a)
		return 0;
	/* spans side by side, never overlapping: at the letter where b
	 * starts, or (da's, or letters that take more bytes) before the
	 * word's last byte */
	cut = wd->end - wd->first == wd->n ? wd->first + strlen(a) :
	      wd->end - 1;
	emit(r, a, strlen(a), wd->first, cut);
	emit(r, b, strlen(b), cut, wd->end);
	return 1;
}

/* End the current word and emit it as a token. */
static void word_close(struct run *r)
{
	struct word *wd = &r->wd;
	const char *s;
	size_t len, start;

	if (!wd->open)
		return;
	wd->open = 0;
	if (wd->full == 0)
		return;
	if (split_word(r))
		return;
	start = wd->first;
	s = apostrophe_form(wd);
	if (s) {
		if (wd->lead)
			start = wd->start;
	} else {
		s = map_word(wd->w, wd->n);
	}
	if (!s) {
		s = wd->w;
		len = wd->n;
	} else {
		len = strlen(s);
	}
	emit(r, s, len, start, wd->end);
}

/* One token: s (len bytes) from the source bytes [start, end). */
static void emit(struct run *r, const char *s, size_t len, size_t start,
		 size_t end)
{
	struct norm *n = r->n;
	struct norm_token *t;

	/* norm_run sized both buffers for the worst case; this is the
	 * guard against a mistake in that arithmetic, never a reallocation
	 * that would move the words already handed out. */
	if (n->ntok >= n->tok_cap || r->pos + 2 * (len + 1) > n->buf_cap)
		return;
	t = &n->tok[n->ntok++];
	memcpy(n->buf + r->pos, s, len);
	n->buf[r->pos + len] = '\0';
	t->word = n->buf + r->pos;
	t->len = (uint32_t)len;
	r->pos += len + 1;
	t->function = (uint8_t)norm_is_function(t->word, len);
	t->stem_len = (uint32_t)stem_word(t->word, len, t->function,
					  n->buf + r->pos);
	if (t->stem_len == len && !memcmp(t->word, n->buf + r->pos, len)) {
		t->stem = t->word;
	} else {
		t->stem = n->buf + r->pos;
		r->pos += t->stem_len + 1;
	}
	t->clause = r->wd.clause;
	t->src_start = (uint32_t)start;
	t->src_len = (uint32_t)(end - start);
}

/* Decode one UTF-8 sequence at p[*i]; advance *i past it. An invalid or
 * truncated sequence yields BAD_CP and advances one byte. */
static uint32_t utf8_next(const unsigned char *p, size_t len, size_t *i)
{
	size_t at = *i;
	unsigned c = p[at];
	unsigned lo = 0x80, hi = 0xbf;

	*i = at + 1;
	if (c >= 0xc2 && c <= 0xdf) {
		if (at + 1 < len && (p[at + 1] & 0xc0) == 0x80) {
			*i = at + 2;
			return ((uint32_t)(c & 0x1f) << 6) | (p[at + 1] & 0x3f);
		}
	} else if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		if (at + 2 < len && p[at + 1] >= lo && p[at + 1] <= hi &&
		    (p[at + 2] & 0xc0) == 0x80) {
			*i = at + 3;
			return ((uint32_t)(c & 0x0f) << 12) |
			       ((uint32_t)(p[at + 1] & 0x3f) << 6) |
			       (p[at + 2] & 0x3f);
		}
	} else if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (at + 3 < len && p[at + 1] >= lo && p[at + 1] <= hi &&
		    (p[at + 2] & 0xc0) == 0x80 &&
		    (p[at + 3] & 0xc0) == 0x80) {
			*i = at + 4;
			return ((uint32_t)(c & 0x07) << 18) |
			       ((uint32_t)(p[at + 1] & 0x3f) << 12) |
			       ((uint32_t)(p[at + 2] & 0x3f) << 6) |
			       (p[at + 3] & 0x3f);
		}
	}
	return BAD_CP;
}

static int is_apostrophe(uint32_t cp)
{
	/* ´ ‘ ’ ‛ ′ */
	return cp == 0xb4 || cp == 0x2018 || cp == 0x2019 || cp == 0x201b ||
	       cp == 0x2032;
}

size_t norm_apostrophe_at(const char *s, size_t k, size_t end)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = k;

	if (k >= end)
		return 0;
	if (p[k] < 0x80)
		return ascii_class[p[k]] == C_APOS;
	return is_apostrophe(utf8_next(p, end, &i)) ? i - k : 0;
}

static int is_break(uint32_t cp)
{
	/* … (phones turn "..." into it), line and paragraph separator;
	 * an emoji or pictograph ends what it follows like a full stop
	 * ("ik ben een prutser 😂 Vroeger zat ik altijd op de bank") */
	return cp == 0x2026 || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x2600 && cp <= 0x27bf) ||
	       (cp >= 0x1f000 && cp <= 0x1faff);
}

/* One code point from U+0080 up, source bytes [at, end). */
static void run_codepoint(struct run *r, uint32_t cp, size_t at, size_t end)
{
	if (cp >= FOLD_FIRST && cp <= FOLD_LAST) {
		const char *f = fold_tab[cp - FOLD_FIRST];

		if (f[0]) {
			word_letters(r, f, f[1] ? 2 : 1, at, end);
			return;
		}
	} else if (cp >= 0x300 && cp <= 0x36f) {
		word_mark(r, end);
		return;
	} else if (is_apostrophe(cp)) {
		word_apostrophe(r, at);
		return;
	} else if (is_break(cp)) {
		word_close(r);
		r->clause++;
		return;
	}
	word_close(r);
}

static void norm_reserve(struct norm *n, size_t len)
{
	const size_t max_buf = (size_t)NORM_MAX_TOKENS * 2 * (WORD_MAX + 1);
	size_t need_tok, need_buf;

	/* Tokens are at least one byte apart, so there are at most
	 * (len + 1) / 2. A word's output is at most twice its source
	 * bytes ("u" → "je", "'t" → "het", "ß" → "ss") plus a NUL, and
	 * its stem, when it has one, at most as long again. */
	need_tok = len / 2 + 1;
	if (need_tok > NORM_MAX_TOKENS)
		need_tok = NORM_MAX_TOKENS;
	need_buf = len < max_buf / 6 ? 6 * len + 2 : max_buf;
	XGROW(n->tok, n->tok_cap, need_tok);
	XGROW(n->buf, n->buf_cap, need_buf);
}

void norm_init(struct norm *n)
{
	n->tok = NULL;
	n->ntok = 0;
	n->buf = NULL;
	n->buf_cap = 0;
	n->tok_cap = 0;
}

void norm_release(struct norm *n)
{
	free(n->tok);
	free(n->buf);
	norm_init(n);
}

size_t norm_run(struct norm *n, const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	struct run r;
	size_t i = 0;

	n->ntok = 0;
	if (!in || !len)
		return 0;
	/* Token offsets are 32 bits; nobody types 4 GiB. */
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	norm_reserve(n, len);
	r.n = n;
	r.pos = 0;
	r.clause = 0;
	r.wd.open = 0;
	while (i < len && n->ntok < NORM_MAX_TOKENS) {
		unsigned c = p[i];
		size_t at = i;

		if (c < 0x80) {
			unsigned k = ascii_class[c];

			i++;
			if (k > C_APOS) {
				char ch = (char)k;

				word_letters(&r, &ch, 1, at, i);
				i = word_ascii_run(&r, p, len, i);
			} else if (k == C_APOS) {
				word_apostrophe(&r, at);
			} else {
				word_close(&r);
				if (k == C_BREAK)
					r.clause++;
			}
		} else {
			uint32_t cp = utf8_next(p, len, &i);

			if (cp == BAD_CP)
				word_close(&r);
			else
				run_codepoint(&r, cp, at, i);
		}
	}
	if (n->ntok < NORM_MAX_TOKENS)
		word_close(&r);
	return n->ntok;
}

int norm_is_negation(const char *word)
{
	static const char *const neg[] = {
		"niet", "geen", "nooit", "niks", "niets", "niemand",
	};

	/* every one starts with n or g: most words need no compare (this
	 * is asked of every word of every message, by clause and model) */
	if (!word || (word[0] != 'n' && word[0] != 'g'))
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(neg); i++)
		if (!strcmp(word, neg[i]))
			return 1;
	return 0;
}

/* ------------------------------------------------------------ stemming */

static const char *const function_words[] = {
	"aan", "al", "alle", "alleen", "alles", "als", "alsof", "altijd", "ben",
	"bij", "binnen", "daar", "daarna", "daarom", "dan", "dat", "de", "deze",
	"die", "dit", "doe", "doen", "door", "dus", "echt", "een", "eens", "elkaar",
	"en", "er", "eraan", "erbij", "ergens", "erin", "ermee", "erover", "eruit",
	"even", "ga", "gaan", "gaat", "geen", "had", "hadden", "heb", "hebben",
	"heel", "hem", "hen", "het", "hier", "hij", "hoe", "hoeveel", "hun",
	"iemand", "iets", "ik", "in", "is", "ja", "je", "jezelf", "jij", "jou",
	"jouw", "jullie", "kan", "kon", "kunnen", "maar", "mag", "me", "mee",
	"meer", "men", "met", "mezelf", "mij", "mijn", "mocht", "moet", "moeten",
	"mogen", "na", "naar", "nee", "niemand", "niet", "niets", "niks", "nog",
	"nooit", "nu", "of", "ofzo", "om", "omdat", "onder", "ons", "onze", "ook",
	"op", "over", "samen", "sinds", "te", "tegen", "toch", "toen", "tot", "u",
	"uit", "uw", "van", "veel", "voor", "waar", "waarmee", "waarom", "waarover",
	"wanneer", "want", "was", "wat", "we", "weer", "wel", "welk", "welke",
	"werd", "wie", "wij", "wil", "willen", "word", "worden", "zal", "ze", "zei",
	"zeker", "zelf", "zich", "zij", "zijn", "zo", "zoals", "zonder", "zou",
	"zouden",
};

int norm_is_function(const char *word, size_t n)
{
	if (!word || n > 8)
		return 0;
	static struct word_set set = WORD_SET(function_words);

	return word_set_has(&set, word, n);
}

static int is_vowel(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' ||
	       c == 'y';
}

static int is_consonant(char c)
{
	return c >= 'a' && c <= 'z' && !is_vowel(c);
}

static int ends_with(const char *w, size_t n, const char *suf)
{
	size_t k = strlen(suf);

	return n >= k && !memcmp(w + n - k, suf, k);
}

/* Plurals that are another word than their singular: schulden are
 * debts, schuld is blame. They keep their own stem. */
static int own_plural(const char *w, size_t n)
{
	return n == 8 && !memcmp(w, "schulden", 8);
}

size_t norm_stem(const char *word, size_t n, char *out)
{
	return stem_word(word, n, norm_is_function(word, n), out);
}

/* a, e, o, u: the vowels Dutch doubles to write them long */
static int is_long_able(char c)
{
	return c == 'a' || c == 'e' || c == 'o' || c == 'u';
}

/* Runs of vowels in w[0..n): syllables, roughly. */
static size_t vowel_groups(const char *w, size_t n)
{
	size_t g = 0;

	for (size_t i = 0; i < n; i++)
		if (is_vowel(w[i]) && (i == 0 || !is_vowel(w[i - 1])))
			g++;
	return g;
}

static size_t stem_word(const char *word, size_t n, int function, char *out)
{
	char w[WORD_MAX + 8];
	size_t o = 0;
	int open = 0;

	if (n > WORD_MAX || n < 4 || function || own_plural(word, n)) {
		memcpy(out, word, n);
		out[n] = '\0';
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		if (word[i] < 'a' || word[i] > 'z') {  /* digits: as is */
			memcpy(out, word, n);
			out[n] = '\0';
			return n;
		}
	}
	memcpy(w, word, n);
	/* plural -s after a vowel-less e, r, l or n: ouders, jongens */
	if (w[n - 1] == 's' && n - 1 >= 4 &&
	    (w[n - 2] == 'e' || w[n - 2] == 'r' || w[n - 2] == 'l' ||
	     w[n - 2] == 'n') && !ends_with(w, n, "ees"))
		n--;
	if (ends_with(w, n, "heden")) {          /* mogelijkheden */
		memcpy(w + n - 5, "heid", 4);
		n--;
	} else if (ends_with(w, n, "en") && n - 2 >= 3 &&
		   is_consonant(w[n - 3])) {
		n -= 2;
		open = 1;
	} else if (w[n - 1] == 'e' && n - 1 >= 3 && is_consonant(w[n - 2])) {
		n -= 1;
		open = 1;
	} else if (w[n - 1] == 't' && n - 1 >= 3 && is_consonant(w[n - 2]) &&
		   w[n - 2] != 's' && w[n - 2] != 'h' && w[n - 2] != 't') {
		n -= 1;
	}
	/* Where an ending came off, the spelling of the vowel changes
	 * back: a doubled consonant kept it short (zitten → zit, lessen →
	 * les), a single vowel before a single consonant was long (lopen
	 * → loop, lezen → lees) unless it is the e of an unstressed last
	 * syllable (kinderen → kinder). */
	if (open && w[n - 1] == w[n - 2] && is_consonant(w[n - 1])) {
		n--;
	} else if (open && is_consonant(w[n - 1]) && is_long_able(w[n - 2]) &&
		   is_consonant(w[n - 3]) &&
		   (w[n - 2] != 'e' || vowel_groups(w, n - 1) == 1)) {
		w[n] = w[n - 1];
		w[n - 1] = w[n - 2];
		n++;
	}
	/* v/z → f/s: brieven → brief, boze → boos */
	if (w[n - 1] == 'v')
		w[n - 1] = 'f';
	else if (w[n - 1] == 'z')
		w[n - 1] = 's';
	memcpy(out, w, n);
	o = n;
	out[o] = '\0';
	return o;
}
