/* clause.c - see clause.h
 *
 * Two passes over the tokens: the first finds where clauses start and
 * why (a break, a quote, a conjunction, a frame), the second gives each
 * clause its act and scope from its words, the break after it and the
 * clause before it. Every rule looks at a few words at the start of a
 * clause; nothing backtracks.
 */
#include "clause.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "util.h"

enum why {
	W_START,      /* first clause of the message */
	W_BREAK,      /* after . ? ! , ; : newline */
	W_QUOTE,      /* a quotation mark opened or closed */
	W_CONJ,       /* a conjunction (the clause's first word) */
	W_DAT,        /* the complementiser dat */
	W_FRAME,      /* after "volgens X" */
	W_WH,         /* a question word and its verb in a run-on message
		       * without a question mark (wh_run_starts) */
	W_MAIN        /* the main clause after a condition without a comma
		       * (cond_main_starts) */
};

/* What the first pass knows of a clause, besides match_clause. */
struct cinfo {
	uint8_t why;
	char brk_after;   /* the break character after it, 0 none */
	uint8_t quoted;
};

/* Token words are NUL-terminated: no length needed. */
static int is(const struct norm_token *t, const char *w)
{
	/* two bytes inline first: most words differ there */
	return t->word[0] == w[0] && t->word[1] == w[1] &&
	       (!w[1] || !strcmp(t->word + 2, w + 2));
}

static int is_any(const struct norm_token *t, const char *const *list,
		  size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is(t, list[i]))
			return 1;
	return 0;
}

#define IS_ANY(t, list) is_any((t), (list), ARRAY_LEN(list))

static const char *const subjects[] = {
	"ik", "je", "we", "wij", "jullie", "hij", "zij", "ze", "het", "er",
	"dat", "dit", "de", "iemand", "niemand", "alles", "iets", "mijn",
	"jouw", "zijn", "haar", "hun", "daan", "noor", "men", "u",
};

static const char *const conj_always[] = {
	"maar", "want", "omdat", "doordat", "zodat", "terwijl", "hoewel",
	"tenzij", "indien",
};

static const char *const after_no_dat[] = {
	/* "met dat boek", "zo dat", "niet dat" are no complementiser */
	"met", "van", "over", "door", "na", "voor", "om", "op", "in",
	"aan", "bij", "zo", "al", "en", "of", "maar", "is", "was", "als",
	"omdat", "want", "zonder",
};

static int v1_then(const struct norm *n, size_t i, size_t first);

/* Does a new clause start at token i (not the first of its break)? */
static int conj_starts(const struct norm *n, size_t i, size_t first)
{
	const struct norm_token *t = &n->tok[i];
	const struct norm_token *next = i + 1 < n->ntok &&
		n->tok[i + 1].clause == t->clause ? &n->tok[i + 1] : NULL;

	if (i == first)
		return 0;
	if (IS_ANY(t, conj_always))
		return 1;
	if (v1_then(n, i, first))
		return 1;
	if ((is(t, "als") || is(t, "wanneer")) && next &&
	    IS_ANY(next, subjects))
		return 1;
	if (is(t, "en") && next && (is(next, "ik") || is(next, "je") ||
				    is(next, "we") || is(next, "wij") ||
				    is(next, "jullie") || is(next, "wie") ||
				    is(next, "wat") || is(next, "hoe") ||
				    is(next, "waar") || is(next, "waarom")))
		return 1;
	return 0;
}

/* "aangeven" split: "mevrouw geeft (dus) aan | dat…" (scope below) */
static const char *const giving[] = { "geeft", "gaf", "geven", "gaven" };

static int dat_starts(const struct norm *n, size_t i, size_t first)
{
	const struct norm_token *t = &n->tok[i];

	if (i == first || !is(t, "dat"))
		return 0;
	if (i + 1 >= n->ntok || n->tok[i + 1].clause != t->clause)
		return 0;
	if (is(&n->tok[i - 1], "aan"))
		for (size_t k = first; k + 1 < i; k++)
			if (IS_ANY(&n->tok[k], giving))
				return 1;
	return !IS_ANY(&n->tok[i - 1], after_no_dat);
}

/* Conjunctions that open a subordinate clause which, fronted, puts the
 * main clause's verb first ("toen ik belde, was u er niet"). */
static const char *const subordinators[] = {
	"voordat", "nadat", "toen", "omdat", "zodra", "terwijl", "sinds",
	"hoewel", "doordat", "zolang",
};

/* A mention: "woorden als X", "een term zoals X", "het woord X" name
 * words without using them (naming "risicotaxatie" is not jargon). The
 * token after the frame, or 0 when i starts none. */
static size_t mention_end(const struct norm *n, size_t i)
{
	static const char *const nouns[] = {
		"woord", "woorden", "woordje", "term", "termen", "begrip",
		"begrippen",
	};
	static const char *const dets[] = { "het", "dat", "dit", "die" };
	const struct norm_token *t = &n->tok[i];
	size_t j;

	if (IS_ANY(t, nouns)) {
		j = i + 1;
		if (j < n->ntok && n->tok[j].clause == t->clause &&
		    (is(&n->tok[j], "als") || is(&n->tok[j], "zoals")))
			j++;
		else
			return 0;
	} else if (IS_ANY(t, dets) && i + 1 < n->ntok &&
		   n->tok[i + 1].clause == t->clause &&
		   IS_ANY(&n->tok[i + 1], nouns)) {
		j = i + 2;
		/* "het woord OTS" names it; "die woorden uit de brief",
		 * "die termen toen gegoogeld" go on with the sentence */
		if (j < n->ntok && n->tok[j].function)
			return 0;
	} else {
		return 0;
	}
	if (j >= n->ntok || n->tok[j].clause != t->clause)
		return 0;   /* nothing named after it */
	return j;
}

static const char *const first_person[] = {
	"ik", "we", "wij", "ikzelf",
};

/* What the client read about: "u las op internet over X", "je hebt
 * opgezocht over X". X is her word, named back to her, not the
 * trainee's own (naming the "uithuisplaatsing" she read about is no
 * jargon). The token after "over", or 0 when i is no such "over": a
 * verb of reading and a second person before it in its clause. */
static size_t read_about_end(const struct norm *n, size_t i)
{
	static const char *const reading[] = {
		"las", "lees", "leest", "lazen", "lezen", "gelezen",
		"opgezocht", "zocht", "zoekt", "googelde", "gegoogeld",
		"zag", "gezien",
	};
	int verb = 0, you = 0;

	if (!is(&n->tok[i], "over") || i + 1 >= n->ntok ||
	    n->tok[i + 1].clause != n->tok[i].clause)
		return 0;
	for (size_t k = i; k-- > 0 && n->tok[k].clause == n->tok[i].clause;) {
		if (IS_ANY(&n->tok[k], reading))
			verb = 1;
		else if (is(&n->tok[k], "je") || is(&n->tok[k], "jullie"))
			you = 1;
		else if (IS_ANY(&n->tok[k], first_person))
			return 0;
	}
	return verb && you ? i + 1 : 0;
}

/* "volgens X": the token after the frame, or 0 when i starts none. */
static size_t frame_end(const struct norm *n, size_t i)
{
	static const char *const dets[] = {
		"de", "het", "een", "jouw", "zijn", "haar", "hun", "die",
		"deze", "mijn",
	};
	static const char *const own[] = { "mij", "me", "ons", "je" };
	size_t j = i + 1;

	if (!is(&n->tok[i], "volgens")) {
		j = mention_end(n, i);
		return j ? j : read_about_end(n, i);
	}
	if (j >= n->ntok ||
	    n->tok[j].clause != n->tok[i].clause || IS_ANY(&n->tok[j], own))
		return 0;
	while (j < n->ntok && n->tok[j].clause == n->tok[i].clause &&
	       IS_ANY(&n->tok[j], dets))
		j++;
	j++;   /* the noun */
	if (j >= n->ntok || n->tok[j].clause != n->tok[i].clause)
		return 0;   /* nothing reported after it */
	return j;
}

static int is_quote_at(const unsigned char *p, size_t k, size_t end,
		       size_t *adv)
{
	*adv = 1;
	if (p[k] == '"')
		return 1;
	/* “ ” „ (E2 80 9C/9D/9E), « » (C2 AB/BB) */
	if (p[k] == 0xe2 && k + 2 < end && p[k + 1] == 0x80 &&
	    p[k + 2] >= 0x9c && p[k + 2] <= 0x9e) {
		*adv = 3;
		return 1;
	}
	if (p[k] == 0xc2 && k + 1 < end && (p[k + 1] == 0xab ||
					     p[k + 1] == 0xbb)) {
		*adv = 2;
		return 1;
	}
	return 0;
}

static int letter_at(const unsigned char *p, size_t k, size_t end)
{
	return k < end && (p[k] >= 0x80 || isalnum(p[k]));
}

/* Single quotation marks: 'OTS', ‘risicotaxatie’ (any mark norm.h reads
 * as an apostrophe: norm_apostrophe_at). An apostrophe inside
 * or before a word ("auto's", "'s avonds", "m'n") is part of the word
 * (norm.c), so one between tokens is a quotation mark or a trailing
 * apostrophe ("Thijs' moeder"); only a pair counts: one right before
 * token i after a space, a break or the start, and the next one right
 * after a token of the same sentence, not before a letter. Returns the
 * token the quote closes after, or SIZE_MAX when no quote opens before
 * token i. */
static size_t single_quote_span(const struct norm *n, const char *text,
				size_t len, size_t from, size_t i)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t to = n->tok[i].src_start < len ? n->tok[i].src_start : len;
	size_t q;

	/* the mark ends right at the token (at most 3 bytes of UTF-8) */
	for (q = 1; q <= 3 && q <= to - from; q++)
		if (norm_apostrophe_at(text, to - q, to) == q)
			break;
	if (q > 3 || q > to - from)
		return SIZE_MAX;
	if (to - q > 0 && letter_at(p, to - q - 1, len))
		return SIZE_MAX;
	for (size_t j = i; j < n->ntok && j < i + 12; j++) {
		size_t e = n->tok[j].src_start + n->tok[j].src_len;
		size_t m;

		if (n->tok[j].clause != n->tok[i].clause)
			return SIZE_MAX;   /* a break first */
		m = norm_apostrophe_at(text, e, len);
		if (m && !letter_at(p, e + m, len))
			return j;
	}
	return SIZE_MAX;
}

/* Scan the bytes between two tokens: quotation marks and the last break
 * character (? beats the rest: "echt?!"). */
static void scan_gap(const char *text, size_t from, size_t to, int *quotes,
		     char *brk)
{
	const unsigned char *p = (const unsigned char *)text;

	*quotes = 0;
	*brk = 0;
	for (size_t k = from; k < to;) {
		size_t adv;

		if (is_quote_at(p, k, to, &adv)) {
			(*quotes)++;
		} else if (p[k] == '?') {
			*brk = '?';
		} else if ((p[k] == '.' || p[k] == '!' || p[k] == '\n' ||
			    p[k] == '\r' || p[k] == ',' || p[k] == ';' ||
			    p[k] == ':') && *brk != '?') {
			if (*brk != '.' && *brk != '!' && *brk != '\n')
				*brk = p[k] == '\r' ? '\n' : (char)p[k];
			else if (p[k] == '.' || p[k] == '!' || p[k] == '\n')
				*brk = p[k] == '\r' ? '\n' : (char)p[k];
		} else if (p[k] == 0xe2 && k + 2 < to && p[k + 1] == 0x80 &&
			   p[k + 2] == 0xa6 && *brk != '?') {
			*brk = '.';   /* … */
			adv = 3;
		}
		k += adv;
	}
}

static int ends_sentence(char c)
{
	return c == '.' || c == '?' || c == '!' || c == '\n' || c == 0;
}

/* Does the sentence end after clause k of nc? A clause cut off by a
 * conjunction has no break of its own (0), so only the last one ends
 * there. */
static int sentence_ends(const struct cinfo *ci, size_t nc, size_t k)
{
	char b = ci[k].brk_after;

	return k + 1 == nc || (b && ends_sentence(b));
}

/* ------------------------------------------------------------- acts */

static const char *const wh_words[] = {
	"wie", "wat", "waar", "wanneer", "waarom", "hoe", "welke", "welk",
	"hoeveel", "hoezo", "waarover", "waarmee", "waardoor", "waarvoor",
};

static const char *const verbs_first[] = {
	"heb", "ben", "kan", "wil", "weet", "vind", "snap", "zie", "hoor",
	"mag", "zou", "is", "was", "klopt", "gaat", "doe", "denk", "voel",
	"begrijp", "had", "moet", "word", "zal", "kom", "ken", "woon",
	"krijg", "wist", "wilde", "kon", "mocht", "zit", "slaap", "speel",
	"zijn", "hebben", "kunnen", "willen", "gaan", "heeft", "durf",
	"herken", "merk", "praat", "bedoel", "lukt", "werkt", "helpt",
};

static const char *const pronouns[] = {
	"je", "jullie", "ik", "we", "wij", "hij", "zij", "ze", "het", "er",
	"dat", "dit", "iemand", "u",
};

/* A condition with the verb first, without a comma, and the main
 * clause after it led by 'dan' and its verb: "Bent u het er niet mee
 * eens dan mag u een klacht indienen", "Heb je vragen dan bel je mij".
 * Token i is that 'dan'. Not "Ben je dan boos?" ('dan' followed by no
 * verb) nor "dan" as the clause's second word. */
static int v1_then(const struct norm *n, size_t i, size_t first)
{
	static const char *const then_verbs[] = {
		"mag", "kan", "kun", "kunt", "wil", "ga", "gaat", "gaan",
		"bel", "belt", "kom", "komt", "moet", "zal", "zullen", "wordt",
		"word", "is", "ben", "heb", "hebt", "heeft", "krijg", "krijgt",
		"doe", "doen", "zeg", "help", "neem", "maak", "maken", "hoor",
		"laat", "zoek", "regel", "praat", "kijk", "kijken",
	};

	if (!is(&n->tok[i], "dan") || i < first + 2 ||
	    i + 1 >= n->ntok || n->tok[i + 1].clause != n->tok[i].clause)
		return 0;
	return IS_ANY(&n->tok[first], verbs_first) &&
	       IS_ANY(&n->tok[first + 1], pronouns) &&
	       IS_ANY(&n->tok[i + 1], then_verbs);
}

/* Word k of clause c, or NULL. */
static const struct norm_token *w_at(const struct norm *n,
				     const struct match_clause *c, size_t k)
{
	return k < c->ntok ? &n->tok[c->tok + k] : NULL;
}

static int w_is(const struct norm *n, const struct match_clause *c,
		size_t k, const char *w)
{
	const struct norm_token *t = w_at(n, c, k);

	return t && is(t, w);
}

/* Skip a leading "en", "maar", "dus", "misschien", "oke", "nou". */
static size_t lead(const struct norm *n, const struct match_clause *c)
{
	static const char *const fill[] = {
		"en", "maar", "dus", "misschien", "oke", "ok", "nou", "dan",
		"anders", "ja", "nee", "want", "goed",
	};
	size_t k = 0;

	while (k + 1 < c->ntok && IS_ANY(w_at(n, c, k), fill))
		k++;
	return k;
}

/* 1 when the clause's lead (the fill words before its first real word)
 * holds "dan" or "anders": what follows is inverted word order, not a
 * question ("…, dan kun je mij bellen"). */
static int led_by_dan(const struct norm *n, const struct match_clause *c)
{
	size_t k = lead(n, c);

	for (size_t i = 0; i < k; i++)
		if (is(w_at(n, c, i), "dan") || is(w_at(n, c, i), "anders"))
			return 1;
	return 0;
}

static int is_proposal(const struct norm *n, const struct match_clause *c)
{
	size_t k = lead(n, c);
	const struct norm_token *a = w_at(n, c, k), *b = w_at(n, c, k + 1);
	const struct norm_token *d = w_at(n, c, k + 2);

	if (!a || !b)
		return 0;
	/* "dan kun je mij bellen": an offer, not a question */
	if (led_by_dan(n, c) && (is(a, "kan") || is(a, "kun") ||
				 is(a, "mag")) &&
	    (is(b, "je") || is(b, "jij") || is(b, "u")) && d &&
	    (is(d, "mij") || is(d, "me") || is(d, "ons") || is(d, "altijd")))
		return 1;
	if ((is(a, "zullen") || is(a, "kunnen") || is(a, "laten") ||
	     is(a, "gaan")) && (is(b, "we") || is(b, "wij")))
		return 1;
	if ((is(a, "we") || is(a, "wij")) && (is(b, "kunnen") ||
					       is(b, "zouden")))
		return 1;
	if (is(a, "zal") && is(b, "ik"))
		return 1;
	if (is(a, "ik") && (is(b, "stel") || is(b, "bied")))
		return 1;
	/* ik kan je helpen / ik kan jullie … : an offer */
	if (is(a, "ik") && (is(b, "kan") || is(b, "wil")) && d &&
	    (is(d, "je") || is(d, "jullie")))
		return 1;
	/* je kan mij bellen, je mag me altijd appen */
	if (is(a, "je") && (is(b, "kan") || is(b, "mag")) && d &&
	    (is(d, "mij") || is(d, "me") || is(d, "ons") || is(d, "altijd")))
		return 1;
	/* kan ik je / mag ik je … helpen: an offer put as a question */
	if ((is(a, "kan") || is(a, "mag") || is(a, "zal")) && is(b, "ik") &&
	    d && (is(d, "je") || is(d, "jullie")))
		return 1;
	if (is(a, "ik") && is(b, "geef") && d && (is(d, "je") ||
						 is(d, "jullie")))
		return 1;
	if (is(a, "wat") && is(b, "als") && d && (is(d, "we") ||
						 is(d, "wij")))
		return 1;
	if (is(a, "zou") && is(b, "je") && d && is(d, "willen"))
		return 1;
	if (is(a, "hier") && is(b, "is") && d && is(d, "mijn"))
		return 1;
	return 0;
}

static int is_promise(const struct norm *n, const struct match_clause *c)
{
	size_t k = lead(n, c);
	const struct norm_token *a = w_at(n, c, k), *b = w_at(n, c, k + 1);

	if (a && (is(a, "beloofd") || is(a, "beloof")))
		return 1;
	if (!a || !b)
		return 0;
	if (is(a, "ik") && (is(b, "beloof") || is(b, "zal") ||
			    is(b, "zorg") || is(b, "regel")))
		return 1;
	if ((is(a, "we") || is(a, "wij")) && (is(b, "beloven") ||
					       is(b, "zullen") ||
					       is(b, "zorgen")))
		return 1;
	if (is(a, "dat") && (is(b, "regel") || is(b, "beloof")))
		return 1;
	if (is(a, "ik") && is(b, "ga") && w_is(n, c, k + 2, "ervoor") &&
	    w_is(n, c, k + 3, "zorgen"))
		return 1;
	if (is(a, "je") && is(b, "kan") && w_is(n, c, k + 2, "erop") &&
	    w_is(n, c, k + 3, "rekenen"))
		return 1;
	return 0;
}

/* What an indirect question or one asked with leave goes on with, in
 * clause c from word i on: a question word or "of" ("ik wil weten
 * wie…", "als ik vraag of…"). */
static int asked_from(const struct norm *n, const struct match_clause *c,
		      size_t i)
{
	for (; i < c->ntok; i++)
		if (IS_ANY(w_at(n, c, i), wh_words) || w_is(n, c, i, "of"))
			return 1;
	return 0;
}

/* "als ik vraag waar je woont", "als ik je mag vragen hoe je dag was":
 * a question asked with leave, no condition. The clause starts with
 * "als ik" and holds "vraag"/"vragen" with a question word (or "of")
 * after it. */
static int leave_to_ask(const struct norm *n, const struct match_clause *c)
{
	size_t k = lead(n, c), i;

	if (!w_is(n, c, k, "als") || !w_is(n, c, k + 1, "ik"))
		return 0;
	for (i = k + 2; i < c->ntok; i++)
		if (w_is(n, c, i, "vraag") || w_is(n, c, i, "vragen"))
			break;
	return i < c->ntok && asked_from(n, c, i + 1);
}

/* An indirect question asks all the same: "ik wil graag van jou weten
 * welke dingen mama mag weten", "ik ben benieuwd hoe het ging",
 * "vertel eens wat je dan doet", "ik vraag me af wie er thuis is". A
 * frame of wanting to know, being curious, wondering or telling, then
 * a question word (or "of") later in the clause. Not "ik weet wat je
 * bedoelt" (no wish to know) nor "vertel het maar" (no question). */
static int asks_indirectly(const struct norm *n, const struct match_clause *c)
{
	size_t k = lead(n, c), frame = SIZE_MAX;

	for (size_t i = k; i < c->ntok && frame == SIZE_MAX; i++) {
		const struct norm_token *t = w_at(n, c, i);

		if (is(t, "benieuwd") || is(t, "nieuwsgierig"))
			frame = i;
		/* "wil/wilde/zou graag … weten", "wil weten" */
		else if (is(t, "weten") && i >= 1 &&
			 (w_is(n, c, i - 1, "graag") ||
			  w_is(n, c, i - 1, "wil") ||
			  w_is(n, c, i - 2, "wil") || w_is(n, c, i - 2, "wilde") ||
			  w_is(n, c, i - 3, "wil") || w_is(n, c, i - 3, "zou") ||
			  w_is(n, c, i - 4, "wil")))
			frame = i;
		/* "vraag me af", "vraag ik me af" */
		else if (is(t, "af") && i >= 1 && w_is(n, c, i - 1, "me") &&
			 (w_is(n, c, i - 2, "vraag") || w_is(n, c, i - 3, "vraag")))
			frame = i;
		/* "vertel eens / maar / me" first */
		else if (i == k && is(t, "vertel") &&
			 (w_is(n, c, i + 1, "eens") || w_is(n, c, i + 1, "maar") ||
			  w_is(n, c, i + 1, "me") || w_is(n, c, i + 1, "mij")))
			frame = i + 1;
	}
	return frame != SIZE_MAX && asked_from(n, c, frame + 1);
}

/* A person as subject: "wat ik opschrijf", "daar begin ik niet aan". */
static const char *const own_subject[] = {
	"ik", "je", "u", "we", "wij", "jullie", "hij", "zij", "ze", "jij",
};

/* Where a question word would stand in clause c: its first real word,
 * or the one after a preposition ("bij wie", "met wie", "in welke");
 * *kp gets its place in the clause. */
static const struct norm_token *wh_slot(const struct norm *n,
					const struct match_clause *c,
					size_t *kp)
{
	static const char *const preps[] = {
		"bij", "met", "naar", "voor", "van", "over", "in", "op", "om",
		"aan", "door", "tot", "tegen",
	};
	size_t k = lead(n, c);
	const struct norm_token *a = w_at(n, c, k);

	if (a && IS_ANY(a, preps))
		a = w_at(n, c, ++k);
	*kp = k;
	return a;
}

/* wh-word first: a question, unless it is "wat fijn!" (three words or
 * fewer ending in . or !). brk is the break after the clause; told: it
 * is a comma in a sentence that asks nothing, and what follows is not
 * this clause's predicate ("wat ik wil weten, is hoe het gaat" asks). */
static int is_wh_question(const struct norm *n, const struct match_clause *c,
			  char brk, int told)
{
	size_t k;
	const struct norm_token *a = wh_slot(n, c, &k), *b;

	if (!a || !IS_ANY(a, wh_words))
		return 0;
	if ((brk == '.' || brk == '!') && c->ntok - k <= 3)
		return 0;
	/* a free relative, told: "Wat ik opschrijf krijgt u eerst te
	 * lezen.", "Waar we praten mag jij kiezen.", also before a comma
	 * in a sentence that asks nothing ("wat ik wel moet doen is de
	 * huisarts bellen, dat is standaard"); a question puts the verb
	 * after the wh-word: "Wat schrijf ik op?" */
	if ((brk == '.' || brk == '!' || told) &&
	    (b = w_at(n, c, k + 1)) && IS_ANY(b, own_subject))
		return 0;
	/* a colon announces what follows: "wat het betekent: de
	 * kinderen blijven bij u", "wat ik wel kan beloven: …" */
	if (brk == ':')
		return 0;
	return 1;
}

/* The clause's first real word (after its lead and a preposition: "bij
 * wie", "in welke") is a question word. */
static int wh_first(const struct norm *n, const struct match_clause *c)
{
	size_t k;
	const struct norm_token *a = wh_slot(n, c, &k);
	const struct norm_token *b = w_at(n, c, k + 1);

	/* "Wat een mooie tekening", "wat leuk" exclaim */
	if (a && is(a, "wat") && b && (is(b, "een") || is(b, "leuk") ||
				       is(b, "fijn") || is(b, "mooi") ||
				       is(b, "goed") || is(b, "knap")))
		return 0;
	return a && IS_ANY(a, wh_words);
}

/* The clause starts with a form of 'zijn' ("…, is hoe het gaat"). */
static int starts_with_zijn(const struct norm *n,
			    const struct match_clause *c)
{
	static const char *const zijn[] = { "is", "was", "zijn", "waren" };
	const struct norm_token *v = w_at(n, c, 0);

	return v && IS_ANY(v, zijn);
}

/* "Wat veilig betekent, is voor mij dat…": a wh-clause before a comma
 * and a clause that starts with a form of 'zijn' is that clause's
 * subject, no question (in a sentence that does not end in '?'); "wat
 * ik wil weten, is hoe het gaat" still asks. */
static int subject_clause(const struct norm *n,
			  const struct match_clause *next, char brk)
{
	static const char *const zijn[] = { "is", "was", "zijn", "waren" };
	const struct norm_token *v = w_at(n, next, 0);
	const struct norm_token *after = w_at(n, next, 1);

	return brk == ',' && v && IS_ANY(v, zijn) &&
	       !(after && IS_ANY(after, wh_words));
}

static int is_verb_first(const struct norm *n, const struct match_clause *c)
{
	size_t k = lead(n, c);
	const struct norm_token *a = w_at(n, c, k), *b = w_at(n, c, k + 1);

	return a && b && IS_ANY(a, verbs_first) && IS_ANY(b, pronouns) &&
	       !led_by_dan(n, c);
}

/* ------------------------------------------------------------ scope */

static const char *const saying[] = {
	"zeg", "zei", "zeiden", "zeggen", "schrijft", "schreef",
	"schreven", "schrijven", "beweert", "beweren", "beweerde",
	"vertelde", "vertellen", "vertelden", "meldt", "meldde", "vind",
	"vinden", "vond", "vonden", "denk", "denken", "dacht", "dachten",
	"staat", "stond", "staan", "stonden", "roept", "klaagt", "noemt",
	"appt", "appte", "mailde", "mailt", "belde",
};


/* "aangeven" as saying, in report language about the client: "mevrouw
 * geeft aan | dat ze de brief heftig vond" ("aangeeft", "aangegeven";
 * "geeft"/"gaf" only with its "aan" in the clause: "dat geeft niet |
 * dat je te laat bent" reports nobody) */
static const char *const indicated[] = {
	"aangeeft", "aangaf", "aangeven", "aangegeven", "aangaven",
};

/* A frame that hands the next clause to another speaker: a verb of
 * saying or thinking whose subject is not the trainee. */
static int reports(const struct norm *n, const struct match_clause *c)
{
	int verb = 0, give = 0, aan = 0;

	for (size_t k = 0; k < c->ntok; k++) {
		const struct norm_token *t = &n->tok[c->tok + k];

		if (IS_ANY(t, first_person))
			return 0;
		if (IS_ANY(t, saying) || IS_ANY(t, indicated))
			verb = 1;
		if (IS_ANY(t, giving))
			give = 1;
		else if (give && is(t, "aan"))
			aan = 1;
	}
	return verb || aan;
}

int clause_is_negation(const struct norm *n, size_t i)
{
	const struct norm_token *t = &n->tok[i];

	if (!norm_is_negation(t->word))
		return 0;
	if (is(t, "niet") && i + 1 < n->ntok &&
	    n->tok[i + 1].clause == t->clause &&
	    (is(&n->tok[i + 1], "alleen") || is(&n->tok[i + 1], "enkel")))
		return 0;   /* "niet alleen … maar ook" */
	if (is(t, "niet") && i > 0 && n->tok[i - 1].clause == t->clause &&
	    is(&n->tok[i - 1], "of"))
		return 0;   /* "of niet?" */
	if (is(t, "niet") && i > 1 && n->tok[i - 2].clause == t->clause &&
	    is(&n->tok[i - 1], "en") && is(&n->tok[i - 2], "wel"))
		return 0;   /* "wat ik wel en niet zeg": a choice */
	return 1;
}

int clause_is_first_person(const struct norm *n, size_t i)
{
	return i < n->ntok && IS_ANY(&n->tok[i], first_person);
}

int clause_is_supposition(const struct norm *n, size_t i)
{
	static const char *const feeling[] = {
		"zwaar", "moeilijk", "eng", "naar", "lastig", "vervelend",
		"pijnlijk", "heftig", "rot", "spannend", "verdrietig",
		"akelig", "raar", "confronterend", "pittig", "schrikken",
		"geschrokken", "fijn", "gek",
	};
	const struct norm_token *t = &n->tok[i];
	int feel = 0, hebben = 0, participle = 0, me = 0;

	if (!is(t, "moet") && !is(t, "moeten"))
		return 0;
	for (size_t k = i + 1; k < n->ntok && n->tok[k].clause == t->clause;
	     k++) {
		const struct norm_token *w = &n->tok[k];

		if (is(w, "geweest"))
			return 1;
		/* "hebben laten schrikken", "gelezen hebben"; not the
		 * "het hebben over" of "we moeten het hebben over…" */
		if (is(w, "hebben")) {
			hebben = 1;
			if (k + 1 < n->ntok && n->tok[k + 1].clause ==
			    t->clause && is(&n->tok[k + 1], "laten"))
				return 1;
		}
		if (w->len >= 6 && w->word[0] == 'g' && w->word[1] == 'e')
			participle = 1;
		if (hebben && participle)
			return 1;
		if (IS_ANY(w, feeling))
			feel = 1;
		else if (is(w, "zijn") && feel)
			return 1;
		/* "dan moet je me even helpen: wie is Pluis?" asks a hand
		 * for the trainee, it demands nothing of the client */
		if (is(w, "me") || is(w, "mij"))
			me = 1;
		else if (me && is(w, "helpen"))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ split */

static void open_clause(struct match_clause *cl, struct cinfo *ci,
			size_t *nc, const struct norm *n, size_t i,
			enum why why, int quoted)
{
	struct match_clause *c = &cl[*nc];

	memset(c, 0, sizeof(*c));
	c->tok = (uint32_t)i;
	c->start = n->tok[i].src_start;
	ci[*nc].why = (uint8_t)why;
	ci[*nc].brk_after = 0;
	ci[*nc].quoted = (uint8_t)quoted;
	(*nc)++;
}

/* A summary's frame: "(dus) als ik het goed hoor / begrijp / snap /
 * heb begrepen", "als ik je goed begrijp". What follows it in the
 * sentence is the client's story told back ("…: u schreeuwde terug"),
 * not the trainee's own claim. */
static int summary_frame(const struct norm *n, const struct match_clause *c)
{
	static const char *const heard[] = {
		"hoor", "hoorde", "begrijp", "begreep", "snap", "snapte",
		"zie", "volg",
	};
	/* "als ik het goed heb begrepen", not "… heb gedaan" */
	static const char *const taken[] = {
		"begrepen", "gehoord", "samengevat", "onthouden", "gesnapt",
	};

	for (size_t k = 0; k + 3 < c->ntok; k++) {
		const struct norm_token *t = &n->tok[c->tok + k];

		if (!is(t, "als") || !is(t + 1, "ik") ||
		    !(is(t + 2, "het") || is(t + 2, "je") || is(t + 2, "u")) ||
		    !is(t + 3, "goed"))
			continue;
		return k + 4 < c->ntok &&
		       (IS_ANY(t + 4, heard) ||
			(is(t + 4, "heb") && k + 5 < c->ntok &&
			 IS_ANY(t + 5, taken)));
	}
	return 0;
}

int clause_summary_frame(const struct norm *n, const struct match_clause *c)
{
	return summary_frame(n, c);
}

/* A question mark asks with the whole sentence, but a run-on sentence
 * may say things before it asks: "ik ben er het komende jaar en ik wil
 * gewoon samen kijken hoe het brengen beter kan, wat denk jij?" says,
 * then asks. Clause j (not the sentence's last) states when it starts
 * with its subject ("ik…", "het…", "daar…"), or is the "dat…" of a
 * clause that states, and the sentence ends in a question of its own
 * (a question word or the verb first), not a tag that turns what came
 * before into the question ("je hebt hem geslagen, of niet?", "je was
 * bang, klopt dat?"). */
static int states_before_question(const struct norm *n,
				  const struct match_clause *cl,
				  const struct cinfo *ci, size_t j,
				  size_t last)
{
	static const char *const tags[] = {
		"toch", "of", "he", "klopt", "oke", "ok", "ja", "niet",
		"right", "zeker", "echt", "waar", "goed", "gelijk", "nee",
	};
	const struct match_clause *c = &cl[j], *q = &cl[last];
	const struct norm_token *first, *qfirst;
	size_t k;

	if (last <= j || q->ntok < 3)
		return 0;
	qfirst = w_at(n, q, lead(n, q));
	if (!qfirst || IS_ANY(qfirst, tags) ||
	    !(IS_ANY(qfirst, wh_words) || is_verb_first(n, q)))
		return 0;
	k = lead(n, c);
	if (ci[j].why == W_DAT || w_is(n, c, k, "dat"))
		return j > 0 && cl[j - 1].act != MATCH_VRAAG;
	/* "kijk, het is zo" */
	if (w_is(n, c, k, "kijk") || w_is(n, c, k, "luister"))
		k++;
	first = w_at(n, c, k);
	return first && !is_verb_first(n, c) &&
	       (IS_ANY(first, own_subject) || is(first, "het") ||
		is(first, "daar") || is(first, "er") || is(first, "dit"));
}

static void classify(const struct norm *n, struct match_clause *cl,
		     const struct cinfo *ci, size_t nc)
{
	int summary = 0;   /* in a sentence after a summary's frame */

	for (size_t j = 0; j < nc; j++) {
		struct match_clause *c = &cl[j];
		const struct match_clause *prev = j ? &cl[j - 1] : NULL;
		char sent_end = ci[j].brk_after;
		int after_sub, with_leave;
		size_t last = j;   /* the sentence's last clause */

		/* the break that ends the sentence this clause is in (a
		 * clause cut off by a conjunction has none of its own) */
		for (size_t k = j; k < nc; k++) {
			sent_end = ci[k].brk_after;
			last = k;
			if (sentence_ends(ci, nc, k))
				break;
		}
		for (size_t k = 0; k < c->ntok; k++)
			if (clause_is_negation(n, c->tok + k))
				c->negated = 1;
		c->conditional = w_is(n, c, 0, "als") ||
				 w_is(n, c, 0, "tenzij") ||
				 w_is(n, c, 0, "indien") ||
				 /* "Heb je vragen | dan bel je mij" */
				 (j + 1 < nc && ci[j + 1].why == W_CONJ &&
				  w_is(n, &cl[j + 1], 0, "dan")) ||
				 (w_is(n, c, 0, "wanneer") &&
				  (ci[j].why == W_CONJ ||
				   ci[j].brk_after == ','));
		/* "als ik vraag waar je woont" asks, it sets no condition */
		with_leave = leave_to_ask(n, c);
		if (with_leave)
			c->conditional = 0;
		if (prev && sentence_ends(ci, nc, j - 1))
			summary = 0;
		if (ci[j].quoted) {
			c->reported = 1;
		} else if (summary) {
			c->reported = 1;
		} else if (prev && ci[j].why == W_FRAME) {
			c->reported = 1;
		} else if (prev && ci[j].why == W_DAT &&
			   prev->act != MATCH_VRAAG && reports(n, prev)) {
			/* "kunt u vertellen | dat…" asks, it reports nobody */
			c->reported = 1;
		} else if (prev && ci[j].why == W_BREAK &&
			   ci[j - 1].brk_after == ':' &&
			   prev->act != MATCH_VRAAG && reports(n, prev)) {
			c->reported = 1;
		} else if (prev && prev->reported && !ci[j - 1].quoted &&
			   (ci[j].why == W_DAT || (ci[j].why == W_CONJ &&
						   !w_is(n, c, 0, "maar")))) {
			c->reported = 1;
		}
		if (prev && ci[j].why == W_DAT && prev->negated)
			c->negated = c->neg_inherited = 1;
		/* after a fronted subordinate clause Dutch puts the verb
		 * first: "als het misgaat, kun je mij bellen", "voordat ik
		 * aanbelde, heb ik het dossier opgevraagd" ask nothing */
		if (!c->reported && summary_frame(n, c))
			summary = 1;
		after_sub = (prev && ci[j].why == W_BREAK &&
			     ci[j - 1].brk_after == ',' &&
			     (prev->conditional ||
			      (w_at(n, prev, 0) &&
			       IS_ANY(w_at(n, prev, 0), subordinators)))) ||
			    ci[j].why == W_MAIN;
		if (is_proposal(n, c))
			c->act = MATCH_VOORSTEL;
		else if (is_promise(n, c))
			c->act = MATCH_BELOFTE;
		else if (sent_end == '?' && !c->conditional &&
			 !states_before_question(n, cl, ci, j, last))
			c->act = MATCH_VRAAG;
		else if (with_leave ||
			 (!c->conditional && asks_indirectly(n, c)))
			c->act = MATCH_VRAAG;
		else if (ci[j].why == W_WH)
			c->act = MATCH_VRAAG;
		else if ((ci[j].why == W_START || ci[j].why == W_BREAK ||
			  ci[j].why == W_QUOTE) &&
			 is_wh_question(n, c, ci[j].brk_after,
					ci[j].brk_after == ',' &&
					sent_end != '?' &&
					!(j + 1 < nc &&
					  starts_with_zijn(n, &cl[j + 1]))) &&
			 !(j + 1 < nc && subject_clause(n, &cl[j + 1],
							ci[j].brk_after)))
			c->act = MATCH_VRAAG;
		else if (!after_sub && !c->conditional &&
			 (ci[j].why == W_START || ci[j].why == W_BREAK) &&
			 is_verb_first(n, c))
			c->act = MATCH_VRAAG;
		else
			c->act = MATCH_MEDEDELING;
		/* a sentence ending in '.' or '!' rarely asks: "wat dat met
		 * Noa doet.", "Wat een tekening!" */
		c->open = c->act == MATCH_VRAAG &&
			  (sent_end == '?' || !sent_end ||
			   ci[j].why == W_WH) &&
			  wh_first(n, c);
	}
}

/* A fronted phrase taken up again after a comma or a colon: "Een gesprek met z'n
 * drieen aan tafel, daar begin ik niet aan" / "Samen met haar, dat doe
 * ik niet". The phrase has no subject or finite verb of its own, so it gets the
 * negation of the clause that takes it up (and is what that clause
 * negates). */
static const char *const fronted_first[] = {
	"een", "de", "het", "die", "dit", "zo'n", "samen", "zo",
};
static const char *const resumptive[] = { "daar", "dat", "die", "dit" };
/* A finite verb makes the part before the comma a clause of its own
 * ("Het woord veiligheid is gewoon een woord, daar hoeft u niet van te
 * schrikken": the first part says it is only a word, with no 'niet').
 * The common ones; a phrase rarely has them ("zijn" not: "z'n" is
 * normalised to it). */
static const char *const finite_verb[] = {
	"is", "was", "waren", "wordt", "werd", "heeft", "had",
	"kan", "kon", "moet", "moest", "mag", "mocht", "wil", "wilde",
	"zal", "zou", "gaat", "ging", "komt", "kwam", "blijft", "bleef",
	"staat", "stond", "klinkt", "lijkt", "betekent",
};

static void fronted_negation(const struct norm *n, struct match_clause *cl,
			     const struct cinfo *ci, size_t nc)
{
	for (size_t j = 1; j < nc; j++) {
		struct match_clause *p = &cl[j - 1];
		const struct norm_token *r = w_at(n, &cl[j], 0);
		const struct norm_token *f = w_at(n, p, 0);
		int subj = 0;

		if (!cl[j].negated || p->negated || p->reported ||
		    ci[j].why != W_BREAK || (ci[j - 1].brk_after != ',' &&
					     ci[j - 1].brk_after != ':') ||
		    !r || !IS_ANY(r, resumptive) || !f ||
		    !IS_ANY(f, fronted_first))
			continue;
		for (size_t k = 0; k < p->ntok && !subj; k++)
			subj = IS_ANY(&n->tok[p->tok + k], own_subject) ||
			       IS_ANY(&n->tok[p->tok + k], finite_verb);
		if (!subj)
			p->negated = p->neg_inherited = 1;
	}
}

/* Talk about the rehearsal instead of in it: "hoe werkt dit
 * programma?", "ben jij een AI?", "ik snap deze oefening niet". Words
 * that name the exercise itself; the ones with a second meaning only
 * after an article ("dat kwam bot binnen", "ai, dat doet pijn", "een
 * ademhalingsoefening" stay in the rehearsal). */
static const char *const offstage_words[] = {
	"programma", "oefenprogramma", "rollenspel", "chatbot", "chatbots",
	"simulatie", "oefenkamer", "voorgeprogrammeerd",
	"voorgeprogrammeerde", "oefengesprek", "persona",
};
static const char *const offstage_after_article[] = {
	"bot", "ai", "oefening", "acteur", "actrice", "scenario",
};
/* what may stand right before those: articles and the like ("een
 * echte AI") */
static const char *const determiners[] = {
	"een", "de", "het", "die", "deze", "dit", "echte", "echt", "the", "a",
	"an",
};

static int offstage_at(const struct norm *n, size_t i)
{
	const struct norm_token *t = &n->tok[i];

	if (IS_ANY(t, offstage_words))
		/* "je favoriete tv-programma" (norm splits the hyphen) */
		return !(i && (is(&n->tok[i - 1], "tv") ||
			       is(&n->tok[i - 1], "televisie") ||
			       is(&n->tok[i - 1], "radio")));
	return i && IS_ANY(t, offstage_after_article) &&
	       IS_ANY(&n->tok[i - 1], determiners);
}

/* A sentence with a word about the rehearsal is spoken outside it,
 * every clause of it: "Sorry, | ik snap niet hoe deze oefening werkt"
 * owns no mistake. */
static void offstage(const struct norm *n, struct match_clause *cl,
		     const struct cinfo *ci, size_t nc)
{
	size_t from = 0;

	for (size_t j = 0; j < nc; j++) {
		int any = 0;

		if (!sentence_ends(ci, nc, j))
			continue;
		for (size_t k = from; k <= j && !any; k++)
			for (size_t w = 0; w < cl[k].ntok && !any; w++)
				any = offstage_at(n, cl[k].tok + w);
		for (size_t k = from; any && k <= j; k++)
			cl[k].offstage = 1;
		from = j + 1;
	}
}

/* A message typed (or dictated) without a question mark runs its
 * question into what came before: "u had eerder hulp van het wijkteam
 * in een half jaar hoe was dat voor u". A question word followed by
 * its verb, with three words or more of its clause before it, starts
 * a question there, unless what comes before asks or tells about it
 * ("ik weet niet hoe het moet", "vertel eens wat er gebeurde", "dat
 * is wat ik bedoel"): then it is an indirect question, part of its
 * clause. The verb must have its subject after it ("hoe was dat",
 * "wat vond je"): a relative clause puts it before ("het huis waar
 * hij woont", "alles wat is gebeurd"). */
static int wh_run_starts(const struct norm *n, size_t i, size_t first)
{
	static const char *const verbs[] = {
		"was", "is", "ging", "gaat", "kwam", "komt", "vond", "vind",
		"voelde", "voel", "deed", "doe", "heb", "had", "kan", "kon",
		"wil", "wilde", "moet", "moest", "zou", "zal", "denk", "dacht",
		"ben", "waren", "zijn", "gebeurde", "gebeurt", "lukt", "lukte",
		"werkt", "werkte", "word", "werd", "staat", "stond", "ervaar",
		"ervoer", "merk", "merkte", "kijk", "keek", "bedoel",
	};
	/* words before it that make it an indirect question or a
	 * relative: asking, knowing, telling, and what leans on them */
	static const char *const lead_in[] = {
		"weet", "weten", "wist", "snap", "snapte", "begrijp", "vraag",
		"vroeg", "vragen", "afvragen", "af", "zie", "zag", "hoor",
		"hoorde", "horen", "vertel", "vertelde", "vertellen", "zeg",
		"zei", "zeggen", "leg", "uitleggen", "uit", "kijk", "kijken",
		"denk", "dacht", "bedenk", "bedenken", "zoek", "zoeken",
		"uitzoeken", "bespreken", "afspreken", "laat", "laten",
		"benieuwd", "nieuwsgierig", "niet", "nog", "precies", "eens",
		"dat", "of", "ook", "al", "goed", "wel", "idee",
	};
	/* right before it, the one asked: "ik vroeg je hoe het ging" */
	static const char *const asked[] = {
		"ik", "we", "wij", "hij", "zij", "ze", "je", "jullie", "hem",
		"haar", "mij", "me", "ons", "dan", "daar", "hier", "nou",
	};
	/* after the verb its subject: "hoe was dat", "wat vond je", "wie
	 * heeft het gedaan" (a relative has none: "wat is gebeurd") */
	static const char *const subj[] = {
		"dat", "het", "je", "jij", "jullie", "hij", "ze", "zij", "er",
		"we", "wij", "ik", "de", "die", "dit", "hem", "haar",
	};
	const struct norm_token *t = &n->tok[i];
	const struct norm_token *v = i + 1 < n->ntok &&
		n->tok[i + 1].clause == t->clause ? &n->tok[i + 1] : NULL;

	const struct norm_token *w = v && i + 2 < n->ntok &&
		n->tok[i + 2].clause == t->clause ? &n->tok[i + 2] : NULL;

	if (i < first + 3 || !IS_ANY(t, wh_words) || !v ||
	    !IS_ANY(v, verbs) || !w || !IS_ANY(w, subj))
		return 0;
	return !IS_ANY(&n->tok[i - 1], lead_in) &&
	       !IS_ANY(&n->tok[i - 1], asked) &&
	       !IS_ANY(&n->tok[i - 2], lead_in);
}

/* A condition typed without its comma runs into the main clause: "als
 * het thuis echt niet gaat kun je dan bij oma terecht", "als je moeder
 * niet opstaat wie brengt Fleur dan". Where the condition (a clause
 * that starts with als, wanneer or indien) has ended in its verb, a
 * finite verb with a person after it, or a question word with a verb
 * after it, starts the main clause, so that the condition's "niet"
 * stays in the condition. */
static int cond_main_starts(const struct norm *n, size_t i, size_t first)
{
	/* not "wat": "als je wilt wat drinken" is iets */
	static const char *const wh[] = {
		"wie", "waar", "wanneer", "hoe", "waarom",
	};
	/* verbs a main clause after a condition starts with, besides
	 * verbs_first: "bel je mij", "ga je naar oma" */
	static const char *const main_verbs[] = {
		"bel", "ga", "gaan", "breng", "haal", "loop", "zeg", "vraag",
		"stuur", "app", "moeten", "mogen", "kunnen", "zullen",
	};
	const struct norm_token *f = &n->tok[first];
	const struct norm_token *t = &n->tok[i];
	const struct norm_token *next = i + 1 < n->ntok &&
		n->tok[i + 1].clause == t->clause ? &n->tok[i + 1] : NULL;
	const struct norm_token *before = &n->tok[i - 1];

	if (i < first + 3 || !next ||
	    !(is(f, "als") || is(f, "wanneer") || is(f, "indien")))
		return 0;
	/* the condition's own last word is its verb, no person or
	 * article: "als ik je | help" is not split, "als het niet gaat |
	 * kun je" is */
	if (IS_ANY(before, own_subject) || IS_ANY(before, pronouns) ||
	    is(before, "de") || is(before, "een") || is(before, "als") ||
	    is(before, "wanneer") || is(before, "niet"))
		return 0;
	if ((IS_ANY(t, verbs_first) || IS_ANY(t, main_verbs)) &&
	    IS_ANY(next, own_subject))
		return 1;
	/* "… niet opstaat | wie brengt Fleur dan", not "als ik weet wie
	 * het is" */
	return IS_ANY(t, wh) && !IS_ANY(next, own_subject) &&
	       !IS_ANY(next, pronouns) && !is(next, "de") &&
	       !is(next, "een");
}

size_t clause_split(const struct norm *n, const char *text, size_t len,
		    struct match_clause *cl, uint32_t *tok_clause)
{
	struct cinfo ci_small[64];
	struct cinfo *ci = ci_small;
	size_t nc = 0, first = 0, frame_to = 0;
	int quoted = 0;
	size_t prev_end = 0;
	size_t sq_close = SIZE_MAX;   /* a single quote closes after it */
	int qmark = memchr(text, '?', len) != NULL;

	if (!n->ntok)
		return 0;
	/* Past 64 clauses (a pasted essay) the rest are plain statements
	 * with no scope: the analysis stays on the stack. */
	for (size_t i = 0; i < n->ntok; i++) {
		const struct norm_token *t = &n->tok[i];
		int q = 0;
		char brk = 0;
		enum why why = W_START;
		int open = 0;

		scan_gap(text, prev_end, t->src_start < len ? t->src_start : len,
			 &q, &brk);
		if (sq_close != SIZE_MAX && i == sq_close + 1) {
			q++;      /* the closing single quote */
			sq_close = SIZE_MAX;
		}
		if (sq_close == SIZE_MAX) {
			sq_close = single_quote_span(n, text, len, prev_end, i);
			if (sq_close != SIZE_MAX)
				q++;
		}
		if (q & 1)
			quoted = !quoted;
		if (i == 0) {
			open = 1;
			why = q ? W_QUOTE : W_START;
		} else if (t->clause != n->tok[i - 1].clause) {
			open = 1;
			why = W_BREAK;
			/* a break norm made without a mark (an emoji, a
			 * line separator) ends what it follows like a full
			 * stop */
			if (!brk)
				brk = '.';
		} else if (q) {
			open = 1;
			why = W_QUOTE;
		} else if (frame_to && i == frame_to) {
			open = 1;
			why = W_FRAME;
		} else if (conj_starts(n, i, first)) {
			open = 1;
			why = W_CONJ;
		} else if (dat_starts(n, i, first)) {
			open = 1;
			why = W_DAT;
		} else if (!qmark && wh_run_starts(n, i, first)) {
			open = 1;
			why = W_WH;
		} else if (cond_main_starts(n, i, first)) {
			open = 1;
			why = W_MAIN;
		}
		if (open) {
			if (nc && nc <= ARRAY_LEN(ci_small))
				ci[nc - 1].brk_after = brk;
			if (nc < ARRAY_LEN(ci_small)) {
				open_clause(cl, ci, &nc, n, i, why, quoted);
			} else {
				/* past 64 clauses: plain statements */
				memset(&cl[nc], 0, sizeof(cl[nc]));
				cl[nc].tok = (uint32_t)i;
				cl[nc].start = t->src_start;
				nc++;
			}
			first = i;
		}
		if (!frame_to || i >= frame_to)
			frame_to = frame_end(n, i);
		cl[nc - 1].ntok++;
		cl[nc - 1].len = t->src_start + t->src_len - cl[nc - 1].start;
		tok_clause[i] = (uint32_t)(nc - 1);
		prev_end = t->src_start + t->src_len;
	}
	{
		int q;
		char brk;

		scan_gap(text, prev_end, len, &q, &brk);
		if (nc <= ARRAY_LEN(ci_small))
			ci[nc - 1].brk_after = brk;
	}
	classify(n, cl, ci, nc < ARRAY_LEN(ci_small) ? nc :
		 ARRAY_LEN(ci_small));
	fronted_negation(n, cl, ci, nc < ARRAY_LEN(ci_small) ? nc :
			 ARRAY_LEN(ci_small));
	offstage(n, cl, ci, nc < ARRAY_LEN(ci_small) ? nc :
		 ARRAY_LEN(ci_small));
	return nc;
}

const char *clause_act_name(unsigned act)
{
	static const char *const names[] = {
		"mededeling", "vraag", "voorstel", "belofte",
	};

	return act < ARRAY_LEN(names) ? names[act] : "";
}

int clause_act_parse(const char *name, size_t len)
{
	for (unsigned a = 0; a < MATCH_NACTS; a++) {
		const char *s = clause_act_name(a);

		if (strlen(s) == len && !memcmp(s, name, len))
			return (int)a;
	}
	return -1;
}
