/* test_norm.c - text normalisation: folding, apostrophes, word forms,
 * clauses, hostile bytes, bounds and source spans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lexicon.h"
#include "norm.h"
#include "util.h"

/* Tokens as "w1 w2 …" and their clauses as "0 0 1 …". */
static void join(const struct norm *n, struct sbuf *words,
		 struct sbuf *clauses)
{
	sbuf_reset(words);
	sbuf_reset(clauses);
	for (size_t i = 0; i < n->ntok; i++) {
		if (i) {
			sbuf_addc(words, ' ');
			sbuf_addc(clauses, ' ');
		}
		sbuf_add(words, n->tok[i].word, n->tok[i].len);
		sbuf_addf(clauses, "%u", (unsigned)n->tok[i].clause);
		assert_int_equal(strlen(n->tok[i].word), n->tok[i].len);
	}
}

struct norm_case {
	const char *in;
	size_t len;          /* 0: strlen(in) */
	const char *words;
	const char *clauses;
};

/* Inputs with NUL bytes in them need an explicit length. */
#define BYTES(s) s, sizeof(s) - 1

static const struct norm_case cases[] = {
	/* lower case, separators, word mapping */
	{ "Hoe gaat het met u?", 0, "hoe gaat het met je", "0 0 0 0 0" },
	{ "U uw jij jou je jouw bent heeft hebt kunt kun wilt zult", 0,
	  "je jouw je je je jouw ben heb heb kan kan wil zal",
	  "0 0 0 0 0 0 0 0 0 0 0 0 0" },
	{ "UW Jouw BENT Heeft", 0, "jouw jouw ben heb", "0 0 0 0" },
	{ "vindt voelt denkt wordt zegt snapt hoort ziet begrijpt", 0,
	  "vind voel denk word zeg snap hoor zie begrijp",
	  "0 0 0 0 0 0 0 0 0" },
	/* only whole words are mapped */
	{ "ubent uwe jijzelf jouwe kunnen willen bentje", 0,
	  "ubent uwe jijzelf jouwe kunnen willen bentje",
	  "0 0 0 0 0 0 0" },
	/* diacritics, both cases */
	{ "Één café, naïef!", 0, "een cafe naief", "0 0 1" },
	{ "ÀÁÂÃÄÅ àáâãäå", 0, "aaaaaa aaaaaa", "0 0" },
	{ "ÈÉÊË èéêë ÌÍÎÏ ìíîï", 0, "eeee eeee iiii iiii", "0 0 0 0" },
	{ "ÒÓÔÕÖØ òóôõöø ÙÚÛÜ ùúûü", 0, "oooooo oooooo uuuu uuuu",
	  "0 0 0 0" },
	{ "Çç Ññ ß Ææ Œœ Ĳĳ Ýýÿ", 0, "cc nn ss aeae oeoe ijij yyy",
	  "0 0 0 0 0 0 0" },
	{ "STRAßE ĳs Ĳsland Łódź Šťastný", 0,
	  "strasse ijs ijsland lodz stastny", "0 0 0 0 0" },
	/* × and ÷ are not letters */
	{ "3×4÷2", 0, "3 4 2", "0 0 0" },
	/* a combining accent (decomposed input) stays inside the word */
	{ "e\xcc\x81\xc3\xa9n cafe\xcc\x81s", 0, "een cafes", "0 0" },
	/* digits are word characters */
	{ "3 kinderen, 12jaar en 2x", 0, "3 kinderen 12jaar en 2x",
	  "0 0 1 1 1" },
	/* apostrophe forms, straight and curly, any case */
	{ "m'n z'n d'r 't 's", 0, "mijn zijn haar het s", "0 0 0 0 0" },
	{ "M'N Z'N D'R 'T 'S", 0, "mijn zijn haar het s", "0 0 0 0 0" },
	{ "m\xe2\x80\x99n z\xe2\x80\x98n d\xe2\x80\x9br \xe2\x80\x99t "
	  "\xe2\x80\xb2s avonds", 0, "mijn zijn haar het s avonds",
	  "0 0 0 0 0 0" },
	{ "Is 't goed met m'n zoon?", 0, "is het goed met mijn zoon",
	  "0 0 0 0 0 0" },
	{ "'s-Hertogenbosch", 0, "s hertogenbosch", "0 0" },
	/* other apostrophes inside a word are dropped */
	{ "zo'n opa's baby's", 0, "zon opas babys", "0 0 0" },
	/* quotes around a word are not part of it */
	{ "'hallo' 'm'n' t' 'tis", 0, "hallo mijn t tis", "0 0 0 0" },
	{ "' '' ''' ", 0, "", "" },
	/* only these exact apostrophe forms; mn and zn are chat spellings
	 * of mijn and zijn (and m''n is mn) */
	{ "mn zn dr t s m''n mm'n 'ts", 0, "mijn zijn dr t s mijn mmn ts",
	  "0 0 0 0 0 0 0 0" },
	{ "k snap t ff niet, ok?", 0, "ik snap t even niet oke",
	  "0 0 0 0 0 1" },
	/* spoken and southern spellings */
	{ "Ge moet da effe nie doen, wa?", 0,
	  "je moet dat even niet doen wat", "0 0 0 0 0 0 1" },
	{ "gij dada wat genie", 0, "je dada wat genie", "0 0 0 0" },
	/* hyphens and other punctuation separate words */
	{ "e-mail Zeeuws-Vlaanderen a/b(c)d*e\"f<g>h", 0,
	  "e mail zeeuws vlaanderen a b c d e f g h",
	  "0 0 0 0 0 0 0 0 0 0 0 0" },
	{ "\xe2\x80\x9cja\xe2\x80\x9d \xc2\xabnee\xc2\xbb", 0, "ja nee",
	  "0 0" },
	/* clause breaks */
	{ "a. b? c! d, e; f: g\nh\ri", 0, "a b c d e f g h i",
	  "0 1 2 3 4 5 6 7 8" },
	{ "Ja. Nee", 0, "ja nee", "0 1" },
	{ "...nou!? ja", 0, "nou ja", "3 5" },
	{ "a\r\nb", 0, "a b", "0 2" },
	{ "nou\xe2\x80\xa6 ja", 0, "nou ja", "0 1" },
	/* an emoji or a pictograph ends a clause like a full stop */
	{ "ok\xf0\x9f\x91\x8dtop", 0, "oke top", "0 1" },
	{ "prutser \xf0\x9f\x98\x82 Vroeger", 0, "prutser vroeger", "0 1" },
	{ "top \xe2\x9d\xa4 dank", 0, "top dank", "0 1" },
	/* control characters and NUL bytes separate */
	{ BYTES("ab\0cd\tef\x01gh\x7fij"), "ab cd ef gh ij",
	  "0 0 0 0 0" },
	/* invalid UTF-8 separates and is never a letter */
	{ "\xff", 0, "", "" },
	{ "a\xc3" "b", 0, "a b", "0 0" },
	{ "\xc0\xafx \xc1\x81y", 0, "x y", "0 0" },
	{ "\xe0\x80\xafz", 0, "z", "0" },
	{ "\xed\xa0\x80y", 0, "y", "0" },
	/* overlong forms of an apostrophe or a full stop are not one */
	{ "m\xc0\xa7n z\xe0\x80\xa7n", 0, "m n z n", "0 0 0 0" },
	{ "a\xe0\x80\xae" "b\xf0\x80\x80\xae" "c", 0, "a b c", "0 0 0" },
	{ "m\xf0\x82\x80\x99n caf\xe0\x83\xa9", 0, "m n caf", "0 0 0" },
	{ "\xf4\x90\x80\x80q \xf5\x80\x80\x80r", 0, "q r", "0 0" },
	{ "\x80\x80z\xbf", 0, "z", "0" },
	{ "abc\xe2\x80", 0, "abc", "0" },
	{ "caf\xc3", 0, "caf", "0" },
	{ "\xf0\x9f\x91", 0, "", "" },
	/* valid but unfolded characters separate */
	{ "\xce\xb1\xce\xb2 ja", 0, "ja", "0" },
	{ "a\xc2\xa0" "b", 0, "a b", "0 0" },
	{ "", 0, "", "" },
};

static void test_table(void **state)
{
	struct norm n;
	struct sbuf words, clauses;

	(void)state;
	norm_init(&n);
	sbuf_init(&words);
	sbuf_init(&clauses);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct norm_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		size_t got = norm_run(&n, c->in, len);

		assert_int_equal(got, n.ntok);
		join(&n, &words, &clauses);
		if (strcmp(sbuf_str(&words), c->words) ||
		    strcmp(sbuf_str(&clauses), c->clauses))
			print_error("case %zu: \"%s\"\n", i, c->in);
		assert_string_equal(sbuf_str(&words), c->words);
		assert_string_equal(sbuf_str(&clauses), c->clauses);
	}
	sbuf_release(&words);
	sbuf_release(&clauses);
	norm_release(&n);
}

struct span_case {
	const char *in;
	size_t tok;
	const char *word;
	const char *src;     /* the bytes the span covers */
};

static const struct span_case spans[] = {
	{ "Wat is OTS?", 2, "ots", "OTS" },
	{ "Wat is OTS?", 0, "wat", "Wat" },
	{ "  'hallo'  ", 0, "hallo", "hallo" },
	{ "Is \xe2\x80\x99t zo?", 1, "het", "\xe2\x80\x99t" },
	{ "met m'n zoon", 1, "mijn", "m'n" },
	{ "de opa's.", 1, "opas", "opa's" },
	{ "Één keer", 0, "een", "Één" },
	{ "U bent", 0, "je", "U" },
	{ "cafe\xcc\x81!", 0, "cafe", "cafe\xcc\x81" },
	{ "zo'n' x", 0, "zon", "zo'n" },
	/* run-together chat spellings are two words, side by side */
	{ "Snapje?", 0, "snap", "Snap" },
	{ "Snapje?", 1, "je", "je" },
	{ "da's goed", 0, "dat", "da'" },
	{ "da's goed", 1, "is", "s" },
	{ "da's goed", 2, "goed", "goed" },
	{ "een weetje", 1, "weetje", "weetje" },
	/* with an apostrophe before the je: the same two words (what
	 * "moetje" itself gives; fuzz_norm found "moet'je") */
	{ "moet'je nou", 0, "moet", "moet'j" },
	{ "moet'je nou", 1, "je", "e" },
	{ "moet'je nou", 2, "nou", "nou" },
};

static void test_spans(void **state)
{
	struct norm n;

	(void)state;
	norm_init(&n);
	for (size_t i = 0; i < ARRAY_LEN(spans); i++) {
		const struct span_case *c = &spans[i];
		const struct norm_token *t;

		norm_run(&n, c->in, strlen(c->in));
		assert_true(c->tok < n.ntok);
		t = &n.tok[c->tok];
		assert_string_equal(t->word, c->word);
		assert_true(t->src_start + t->src_len <= strlen(c->in));
		assert_int_equal(t->src_len, strlen(c->src));
		assert_memory_equal(c->in + t->src_start, c->src, t->src_len);
	}
	norm_release(&n);
}

static void test_long_word(void **state)
{
	char in[200];
	char want[65];
	struct norm n;

	(void)state;
	memset(in, 'A', 100);
	memcpy(in + 100, " b", 2);
	memset(want, 'a', 64);
	want[64] = '\0';
	norm_init(&n);
	assert_int_equal(norm_run(&n, in, 102), 2);
	assert_string_equal(n.tok[0].word, want);
	assert_int_equal(n.tok[0].len, 64);
	assert_int_equal(n.tok[0].src_start, 0);
	assert_int_equal(n.tok[0].src_len, 100);
	assert_string_equal(n.tok[1].word, "b");
	assert_int_equal(n.tok[1].src_start, 101);

	/* a two-byte fold straddling the cap: 63 letters, then ß */
	memset(in, 'x', 63);
	memcpy(in + 63, "\xc3\x9f" "y z", 5);
	memset(want, 'x', 63);
	want[63] = 's';
	assert_int_equal(norm_run(&n, in, 68), 2);
	assert_string_equal(n.tok[0].word, want);
	assert_int_equal(n.tok[0].src_len, 66);
	assert_string_equal(n.tok[1].word, "z");
	norm_release(&n);
}

/* Largest buffers norm may ever hold, whatever the input: room for each
 * token's word and stem (2 × 65 bytes), and doubling may overshoot the
 * need by up to twice. */
#define MAX_BUF (2u * 2u * NORM_MAX_TOKENS * 65)

static void test_megabyte(void **state)
{
	const size_t len = 1u << 20;
	char *in = xmalloc(len);
	struct norm n;

	(void)state;
	norm_init(&n);

	/* "w w w. w …": far more words than the cap */
	for (size_t i = 0; i < len; i += 2) {
		in[i] = 'w';
		in[i + 1] = i % 20 == 18 ? '.' : ' ';
	}
	assert_int_equal(norm_run(&n, in, len), NORM_MAX_TOKENS);
	assert_int_equal(n.ntok, NORM_MAX_TOKENS);
	assert_string_equal(n.tok[NORM_MAX_TOKENS - 1].word, "w");
	assert_int_equal(n.tok[NORM_MAX_TOKENS - 1].src_start,
			 2 * (NORM_MAX_TOKENS - 1));
	assert_int_equal(n.tok[NORM_MAX_TOKENS - 1].clause,
			 (NORM_MAX_TOKENS - 1) / 10);
	assert_true(n.tok_cap <= NORM_MAX_TOKENS);
	assert_true(n.buf_cap <= MAX_BUF);

	/* one megabyte-long word */
	memset(in, 'Z', len);
	assert_int_equal(norm_run(&n, in, len), 1);
	assert_int_equal(n.tok[0].len, 64);
	assert_int_equal(n.tok[0].src_len, len);
	assert_true(n.buf_cap <= MAX_BUF);

	/* nothing but separators and invalid bytes */
	for (size_t i = 0; i < len; i++)
		in[i] = (char)(i % 3 ? 0xff : ',');
	assert_int_equal(norm_run(&n, in, len), 0);

	/* the last word before the cap is still whole */
	memset(in, ' ', len);
	for (size_t i = 0; i < NORM_MAX_TOKENS + 10; i++)
		memcpy(in + 8 * i, "\xc3\xa9\xc3\xa9n", 5);
	assert_int_equal(norm_run(&n, in, len), NORM_MAX_TOKENS);
	assert_string_equal(n.tok[NORM_MAX_TOKENS - 1].word, "een");
	assert_int_equal(n.tok[1].src_start, 8);
	assert_int_equal(n.tok[1].src_len, 5);
	assert_true(n.tok_cap <= NORM_MAX_TOKENS);
	assert_true(n.buf_cap <= MAX_BUF);

	/* every byte value in every position: no crash, spans in bounds */
	for (size_t i = 0; i < len; i++)
		in[i] = (char)((i * 2654435761u) >> 13);
	norm_run(&n, in, len);
	for (size_t i = 0; i < n.ntok; i++) {
		assert_true(n.tok[i].src_start + n.tok[i].src_len <= len);
		assert_true(n.tok[i].len > 0 && n.tok[i].len <= 64);
		if (i)
			assert_true(n.tok[i].clause >= n.tok[i - 1].clause);
	}
	assert_true(n.buf_cap <= MAX_BUF);

	free(in);
	norm_release(&n);
}

static void test_reuse(void **state)
{
	const char *msg = "Heeft u m'n brief gelezen?";
	struct norm n;
	struct sbuf words, clauses;
	char *big = xmalloc(10000);
	size_t tok_cap, buf_cap;
	char *buf;

	(void)state;
	norm_init(&n);
	sbuf_init(&words);
	sbuf_init(&clauses);
	memset(big, 'q', 10000);
	for (size_t i = 3; i < 10000; i += 4)
		big[i] = ',';
	norm_run(&n, big, 10000);
	assert_int_equal(n.ntok, 2500);

	/* a shorter message after a longer one: no stale tokens */
	assert_int_equal(norm_run(&n, msg, strlen(msg)), 5);
	join(&n, &words, &clauses);
	assert_string_equal(sbuf_str(&words), "heb je mijn brief gelezen");
	assert_string_equal(sbuf_str(&clauses), "0 0 0 0 0");

	/* warmed up: the buffers do not grow or move any more */
	tok_cap = n.tok_cap;
	buf_cap = n.buf_cap;
	buf = n.buf;
	for (int k = 0; k < 1000; k++) {
		norm_run(&n, msg, strlen(msg));
		norm_run(&n, big, 10000);
	}
	assert_int_equal(n.tok_cap, tok_cap);
	assert_int_equal(n.buf_cap, buf_cap);
	assert_ptr_equal(n.buf, buf);

	/* empty and NULL input give no tokens */
	assert_int_equal(norm_run(&n, "", 0), 0);
	assert_int_equal(norm_run(&n, NULL, 0), 0);
	assert_int_equal(n.ntok, 0);

	/* release leaves a usable, empty struct */
	norm_release(&n);
	assert_null(n.tok);
	assert_null(n.buf);
	assert_int_equal(norm_run(&n, "Ja", 2), 1);
	assert_string_equal(n.tok[0].word, "ja");
	norm_release(&n);
	norm_release(&n);
	sbuf_release(&words);
	sbuf_release(&clauses);
	free(big);
}

static void test_negation(void **state)
{
	static const char *const yes[] = {
		"niet", "geen", "nooit", "niks", "niets", "niemand",
	};
	static const char *const no[] = {
		"", "nie", "nietje", "geene", "Niet", "ooit", "nee", "wel",
		"niemanden",
	};
	struct norm n;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(yes); i++)
		assert_true(norm_is_negation(yes[i]));
	for (size_t i = 0; i < ARRAY_LEN(no); i++)
		assert_false(norm_is_negation(no[i]));
	assert_false(norm_is_negation(NULL));

	/* normalised input meets the list */
	norm_init(&n);
	norm_run(&n, "NIÉT", 5);
	assert_true(norm_is_negation(n.tok[0].word));
	norm_release(&n);
}

/* --- stems (norm_stem) and the lexicon built on them ---------------- */

static const struct {
	const char *a, *b;
	int same;            /* equal stems? */
} stem_cases[] = {
	/* inflection: verbs, plurals, adjectives */
	{ "lopen", "loopt", 1 }, { "loop", "lopen", 1 },
	{ "geven", "geef", 1 }, { "bellen", "belt", 1 },
	{ "praten", "praat", 1 }, { "zitten", "zit", 1 },
	{ "gebeuren", "gebeurt", 1 }, { "vragen", "vraagt", 1 },
	{ "brieven", "brief", 1 }, { "ouders", "ouder", 1 },
	{ "jongens", "jongen", 1 }, { "meisjes", "meisje", 1 },
	{ "boze", "boos", 1 }, { "kleine", "klein", 1 },
	{ "zware", "zwaar", 1 }, { "scholen", "school", 1 },
	{ "mogelijkheden", "mogelijkheid", 1 },
	{ "lezen", "leest", 0 },     /* -t stays after s: best, echt */
	{ "lezen", "lees", 1 }, { "grote", "groot", 1 },
	{ "spelen", "speelt", 1 },
	/* different words stay apart */
	{ "kinderen", "kind", 0 }, { "schulden", "schuld", 0 },
	{ "lezen", "lessen", 0 }, { "weten", "wet", 0 },
	{ "zoon", "zon", 0 }, { "boos", "bos", 0 },
	{ "lopen", "lepel", 0 }, { "bellen", "ballen", 0 },
	/* function words and short words are their own stem */
	{ "niet", "nie", 0 }, { "moet", "moe", 0 }, { "echt", "ech", 0 },
	{ "best", "bes", 0 },
};

static void test_stems(void **state)
{
	char a[80], b[80];
	size_t bad = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(stem_cases); i++) {
		size_t an = norm_stem(stem_cases[i].a, strlen(stem_cases[i].a),
				      a);
		size_t bn = norm_stem(stem_cases[i].b, strlen(stem_cases[i].b),
				      b);
		int same = an == bn && !memcmp(a, b, an);

		assert_int_equal(strlen(a), an);
		if (same != stem_cases[i].same) {
			print_message("stem case %zu: %s → %s, %s → %s, want "
				      "%s\n", i, stem_cases[i].a, a,
				      stem_cases[i].b, b, stem_cases[i].same ?
				      "equal" : "different");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	/* a function word as is; the stem of a token is in the token */
	assert_int_equal(norm_stem("niet", 4, a), 4);
	assert_string_equal(a, "niet");
	{
		struct norm n;

		norm_init(&n);
		assert_int_equal(norm_run(&n, "Hij loopt niet", 14), 3);
		assert_string_equal(n.tok[1].stem, "loop");
		assert_int_equal(n.tok[1].stem_len, 4);
		assert_ptr_equal(n.tok[2].stem, n.tok[2].word);
		norm_release(&n);
	}
}

/* Pattern words of a pretend script (index 0 is "no word"). */
static char *const lex_words[] = {
	"", "kinderen", "veiligheid", "beschermer", "hulpverlening",
	"veilig", "voel", "kopen", "tafel", "tabel", "het", "heten",
	"lopen", "kind", "wat", "prefix*", "jouw", "afspraak", "broer",
	"boom", "man", "praten", "meisje",
};

static const struct {
	const char *word;
	enum lexicon_how how;
	const char *as;      /* the pattern word it stands for */
} lex_cases[] = {
	{ "kinderen", LEXICON_EXACT, "kinderen" },
	{ "loopt", LEXICON_STEM, "lopen" },
	{ "heet", LEXICON_STEM, "heten" },       /* not "het" */
	/* typos: one letter off, five letters or more */
	{ "kinderne", LEXICON_TYPO, "kinderen" },  /* swap */
	{ "kindren", LEXICON_TYPO, "kinderen" },   /* one missing */
	{ "kinderean", LEXICON_TYPO, "kinderen" }, /* one too many */
	{ "kinderren", LEXICON_STEM, "kinderen" }, /* undoubled anyway */
	{ "veilighied", LEXICON_TYPO, "veiligheid" },
	{ "veiligjeid", LEXICON_TYPO, "veiligheid" },  /* substitution */
	{ "beschemer", LEXICON_TYPO, "beschermer" },
	/* …but never between short words, across a first letter, onto
	 * two words at once or from a real word of its own */
	{ "kidn", LEXICON_NONE, NULL },
	{ "wad", LEXICON_NONE, NULL },
	{ "jou", LEXICON_NONE, NULL },
	{ "ninderen", LEXICON_NONE, NULL },
	{ "tanel", LEXICON_NONE, NULL },     /* tafel or tabel? */
	{ "komen", LEXICON_NONE, NULL },     /* a word, not a slip of kopen */
	{ "kinderenn", LEXICON_TYPO, "kinderen" },
	{ "kinderrenn", LEXICON_NONE, NULL },   /* two letters off */
	/* diminutives: the base a pattern word, or with its stem */
	{ "afspraakje", LEXICON_DIMINUTIVE, "afspraak" },
	{ "afspraakjes", LEXICON_DIMINUTIVE, "afspraak" },
	{ "kindertjes", LEXICON_DIMINUTIVE, "kinderen" },
	{ "kindje", LEXICON_DIMINUTIVE, "kind" },
	{ "broertje", LEXICON_DIMINUTIVE, "broer" },
	{ "boompje", LEXICON_DIMINUTIVE, "boom" },
	{ "mannetje", LEXICON_DIMINUTIVE, "man" },
	{ "praatje", LEXICON_DIMINUTIVE, "praten" },  /* -je, not -tje */
	{ "tafeltje", LEXICON_DIMINUTIVE, "tafel" },
	{ "meisje", LEXICON_EXACT, "meisje" },   /* a pattern word itself */
	{ "beetje", LEXICON_NONE, NULL },        /* no "beet" */
	{ "wattje", LEXICON_NONE, NULL },        /* no function word */
	/* compounds: a pattern word at the end, a real word before it */
	{ "jeugdbeschermer", LEXICON_COMPOUND, "beschermer" },
	{ "jeugdbeschermers", LEXICON_COMPOUND, "beschermer" },
	{ "schuldhulpverlening", LEXICON_COMPOUND, "hulpverlening" },
	{ "onveilig", LEXICON_NONE, NULL },
	{ "gevoel", LEXICON_NONE, NULL },
	{ "zelfveilig", LEXICON_NONE, NULL },
	{ "pleegkind", LEXICON_COMPOUND, "kind" },
	{ "bijvoel", LEXICON_NONE, NULL },      /* a particle before it */
	{ "", LEXICON_NONE, NULL },
};

/* The apostrophes norm reads inside words, as clause.c asks for them:
 * their length in bytes, 0 for anything else. */
static void test_apostrophe_at(void **state)
{
	static const struct {
		const char *s;
		size_t want;
	} apos[] = {
		{ "'", 1 }, { "`", 1 }, { "\xc2\xb4", 2 },
		{ "\xe2\x80\x98", 3 }, { "\xe2\x80\x99", 3 },
		{ "\xe2\x80\x9b", 3 }, { "\xe2\x80\xb2", 3 },
		{ "\"", 0 }, { "\xe2\x80\x9c", 0 }, { "a", 0 }, { "", 0 },
		{ "\xe2\x80", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(apos) / sizeof(apos[0]); i++)
		assert_int_equal(norm_apostrophe_at(apos[i].s, 0,
						    strlen(apos[i].s)),
				 apos[i].want);
}

static void test_lexicon(void **state)
{
	struct lexicon lx;
	size_t bad = 0;
	char stem[80];

	(void)state;
	lexicon_build(&lx, lex_words, ARRAY_LEN(lex_words));
	/* every word has a class; equal stems share one, prefixes not */
	for (size_t i = 1; i < ARRAY_LEN(lex_words); i++)
		assert_true(lexicon_class(&lx, (uint32_t)i) > 0);
	assert_int_equal(lexicon_class(&lx, 0), 0);
	assert_int_not_equal(lexicon_class(&lx, 10), lexicon_class(&lx, 11));
	/* its word table: every word finds its id and text, nothing else
	 * is a word (not a part of one, not one with more after it) */
	for (size_t i = 1; i < ARRAY_LEN(lex_words); i++) {
		const char *w = lex_words[i];
		size_t n = strlen(w);
		char longer[80];

		assert_int_equal(lexicon_word_id(&lx, w, n), i);
		assert_string_equal(lexicon_word(&lx, (uint32_t)i), w);
		assert_ptr_not_equal(lexicon_word(&lx, (uint32_t)i), w);
		assert_int_equal(lexicon_word_id(&lx, w, n - 1) == i, 0);
		xsnprintf(longer, sizeof(longer), "%sx", w);
		assert_int_equal(lexicon_word_id(&lx, longer, n + 1), 0);
	}
	assert_int_equal(lexicon_word_id(&lx, "", 0), 0);
	assert_string_equal(lexicon_word(&lx, 0), "");
	assert_string_equal(lexicon_word(&lx, (uint32_t)ARRAY_LEN(lex_words)),
			    "");
	assert_int_equal(lexicon_word_id(&lx, "qqqqq", 5), 0);
	assert_true(lx.words.cap * 3 >= 4 * ARRAY_LEN(lex_words));
	for (size_t i = 0; i < ARRAY_LEN(lex_cases); i++) {
		const char *w = lex_cases[i].word;
		size_t n = strlen(w), sn = norm_stem(w, n, stem);
		enum lexicon_how how;
		uint32_t c = lexicon_find(&lx, w, n, stem, sn, &how);
		uint32_t want = 0;

		for (size_t j = 1; lex_cases[i].as &&
		     j < ARRAY_LEN(lex_words); j++)
			if (!strcmp(lex_words[j], lex_cases[i].as))
				want = lexicon_class(&lx, (uint32_t)j);
		if (how != lex_cases[i].how || c != want) {
			print_message("lexicon case %zu: %s: how %d class %u, "
				      "want how %d class %u\n", i, w, (int)how,
				      c, (int)lex_cases[i].how, want);
			bad++;
		}
	}
	lexicon_release(&lx);
	assert_int_equal(bad, 0);
	/* the one-edit test on its own */
	assert_int_equal(lexicon_one_off("abcde", 5, "abcde", 5), 0);
	assert_int_equal(lexicon_one_off("abcde", 5, "abdce", 5), 1);
	assert_int_equal(lexicon_one_off("abcde", 5, "abde", 4), 1);
	assert_int_equal(lexicon_one_off("abde", 4, "abcde", 5), 1);
	assert_int_equal(lexicon_one_off("abcde", 5, "abxye", 5), 0);
	assert_int_equal(lexicon_one_off("abcdef", 6, "abdecf", 6), 0);
	assert_int_equal(lexicon_one_off("abc", 3, "abcde", 5), 0);
}

/* Enough words for a deletions index of thousands of keys (its
 * entries hold no key text: each names a word and the letter left out),
 * sized to them, four fifths full (lexicon.c, DELS_LOAD_NUM), not to
 * the next power of two; and a slip of every one of them still finds
 * that word and no other:
 * a deletion (the key is a deletion of the word), an added letter (the
 * word is a deletion of the message word) and a swap (they share one). */
static void test_lexicon_many(void **state)
{
	enum { NW = 400 };
	char *words[NW + 1];
	struct lexicon lx;
	size_t bad = 0;
	char stem[80];

	(void)state;
	words[0] = xstrdup("");
	for (size_t i = 1; i <= NW; i++) {
		char w[16];

		/* qa..: three base-26 digits, each written twice apart, so
		 * two words are never one slip apart */
		xsnprintf(w, sizeof(w), "q%c%c%cm%c%c%cx",
			  'a' + (int)(i / 676), 'a' + (int)(i / 26 % 26),
			  'a' + (int)(i % 26), 'a' + (int)(i / 676),
			  'a' + (int)(i / 26 % 26), 'a' + (int)(i % 26));
		words[i] = xstrdup(w);
	}
	lexicon_build(&lx, words, NW + 1);
	assert_true(lx.dels.cap >= 4096);
	/* every word once and its distinct deletions: 9 letters, so 8
	 * to 10 keys a word */
	assert_true(lx.dels.n >= NW * 8 && lx.dels.n <= NW * 10);
	assert_true(lx.dels.n < lx.dels.cap);
	assert_true(lx.dels.n * 5 >= (lx.dels.cap - 1) * 4);
	for (size_t i = 1; i <= NW; i++) {
		const char *w = words[i];
		char slip[3][16];
		size_t n = strlen(w);

		/* w without its 'm'; with a letter added; two swapped */
		xsnprintf(slip[0], sizeof(slip[0]), "%.4s%s", w, w + 5);
		xsnprintf(slip[1], sizeof(slip[1]), "%.6sk%s", w, w + 6);
		xsnprintf(slip[2], sizeof(slip[2]), "%.4s%c%c%s", w, w[5],
			  w[4], w + 6);
		for (size_t k = 0; k < 3; k++) {
			size_t sn = strlen(slip[k]);
			enum lexicon_how how;
			uint32_t c;

			sn = norm_stem(slip[k], sn, stem);
			c = lexicon_find(&lx, slip[k], strlen(slip[k]), stem,
					 sn, &how);
			if (how != LEXICON_TYPO ||
			    c != lexicon_class(&lx, (uint32_t)i)) {
				print_message("%s as %s: how %d class %u\n",
					      slip[k], w, (int)how, c);
				bad++;
			}
		}
		(void)n;
	}
	lexicon_release(&lx);
	for (size_t i = 0; i <= NW; i++)
		free(words[i]);
	assert_int_equal(bad, 0);
}

/* norm_plain_word against norm_run: for a plain word it gives what
 * norm_run gives, and it leaves the rest to norm_run. Words: a few
 * chosen ones, then every a-z run of the shipped shared scenario file
 * ($OEF_ROOT/scripts/gedeeld/begrippen.oef). */
static void plain_agrees(struct norm *n, const char *w, size_t len,
			 size_t *plain)
{
	const char *out;
	size_t olen;

	if (!norm_plain_word(w, len, &out, &olen))
		return;
	(*plain)++;
	assert_int_equal(norm_run(n, w, len), 1);
	assert_int_equal(n->tok[0].len, olen);
	assert_memory_equal(n->tok[0].word, out, olen);
}

static void test_plain_word(void **state)
{
	static const char *const words[] = {
		"brief", "u", "jij", "kun", "ok", "nie", "effe", "ge", "zn",
		"hebt", "uithuisplaatsing", "a", "ondertoezichtstelling",
	};
	const char *root = getenv("OEF_ROOT");
	const char *out;
	size_t olen, plain = 0;
	struct sbuf path;
	struct err err;
	struct norm n;
	char *text;
	size_t len;

	(void)state;
	norm_init(&n);
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		plain_agrees(&n, words[i], strlen(words[i]), &plain);
	assert_int_equal(plain, ARRAY_LEN(words));
	/* not plain: norm_run's to decide */
	assert_false(norm_plain_word("Brief", 5, &out, &olen));
	assert_false(norm_plain_word("snapje", 6, &out, &olen));
	assert_false(norm_plain_word("m'n", 3, &out, &olen));
	assert_false(norm_plain_word("caf\xc3\xa9", 5, &out, &olen));
	assert_false(norm_plain_word("", 0, &out, &olen));
	sbuf_init(&path);
	sbuf_addf(&path, "%s/scripts/gedeeld/begrippen.oef",
		  root && *root ? root : ".");
	assert_int_equal(read_file(path.buf, 1u << 22, &text, &len, &err), 0);
	plain = 0;
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && text[j] >= 'a' && text[j] <= 'z')
			j++;
		if (j > i)
			plain_agrees(&n, text + i, j - i, &plain);
		i = j + 1;
	}
	assert_true(plain > 1000);
	free(text);
	sbuf_release(&path);
	norm_release(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_spans),
		cmocka_unit_test(test_plain_word),
		cmocka_unit_test(test_long_word),
		cmocka_unit_test(test_megabyte),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_negation),
		cmocka_unit_test(test_stems),
		cmocka_unit_test(test_apostrophe_at),
		cmocka_unit_test(test_lexicon),
		cmocka_unit_test(test_lexicon_many),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
