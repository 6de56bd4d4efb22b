/* lang.c - see lang.h */
#include "lang.h"

#include <string.h>

#include "util.h"

/* Sorted: English function words that are no Dutch words, not even
 * loanwords a Dutch trainee types ("sorry", "thanks", "sure", "hey"
 * are left out on purpose). */
static const char *const english[] = {
	"about", "am", "are", "arent", "at", "be", "because", "but", "can", "cant",
	"could", "did", "didnt", "do", "does", "doesn", "doesnt", "don", "dont",
	"english", "feel", "for", "from", "going", "has", "have", "her", "here",
	"him", "his", "how", "i", "if", "im", "isn", "isnt", "it", "its", "know",
	"my", "need", "on", "or", "our", "shall", "she", "should", "speak", "that",
	"thats", "the", "their", "them", "there", "they", "think", "this", "to",
	"understand", "very", "were", "what", "whats", "when", "where", "which",
	"who", "why", "will", "with", "wont", "would", "you", "your", "youre",
	"yours",
};

static int is_english(const char *w, size_t n)
{
	size_t lo = 0, hi = ARRAY_LEN(english);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *e = english[mid];
		size_t i = 0;
		int c;

		while (i < n && e[i] && w[i] == e[i])
			i++;
		if (i == n)
			c = e[i] ? -1 : 0;
		else if (!e[i])
			c = 1;
		else
			c = (unsigned char)w[i] < (unsigned char)e[i] ? -1 : 1;
		if (!c)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

int lang_is_other(const struct norm *n)
{
	size_t en = 0, nl = 0;

	for (size_t i = 0; i < n->ntok; i++) {
		const struct norm_token *t = &n->tok[i];

		if (t->len > 10)
			continue;
		if (is_english(t->word, t->len))
			en++;
		else if (t->function)
			nl++;
	}
	return en >= 2 && en > nl;
}
