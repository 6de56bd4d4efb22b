/* lang.c - see lang.h */
#include "lang.h"

#include <string.h>

#include "util.h"

/* English function words that are no Dutch words, not even
 * loanwords a Dutch trainee types ("sorry", "thanks", "sure", "hey"
 * are left out on purpose). */
static const char *const english[] = {
	"about", "actually", "after", "again", "all", "also", "always", "am",
	"and", "any", "anything", "are", "arent", "ask", "asked", "at",
	"available", "be", "because", "before", "but", "call", "calling",
	"can", "cant", "colleague", "could", "did", "didnt", "do", "does",
	"doesn", "doesnt", "don", "dont", "english", "feel", "find", "for",
	"from", "get", "going", "good", "got", "has", "have", "her", "here",
	"him", "his", "how", "i", "if", "im", "isn", "isnt", "it", "its",
	"just", "know", "let", "lets", "many", "mean", "more", "much", "my",
	"need", "never", "not", "on", "one", "only", "or", "other", "our",
	"out", "programme", "really", "said", "say", "second", "shall",
	"she", "should", "some", "something", "speak", "still", "talk",
	"than", "that", "thats", "the", "their", "them", "then", "there",
	"these", "they", "thing", "think", "this", "those", "to", "today",
	"told", "understand", "understanding", "us", "very", "wait", "well",
	"were", "what", "whats", "when", "where", "which", "who", "why",
	"will", "with", "wont", "would", "you", "your", "youre", "yours",
};

static int is_english(const char *w, size_t n)
{
	static struct word_set set = WORD_SET(english);

	return word_set_has(&set, w, n);
}

void lang_count(const struct norm *n, size_t from, size_t to, size_t *en,
		size_t *nl)
{
	*en = *nl = 0;
	for (size_t i = from; i < to && i < n->ntok; i++) {
		const struct norm_token *t = &n->tok[i];

		if (t->len > 10)
			continue;
		if (is_english(t->word, t->len))
			(*en)++;
		else if (t->function)
			(*nl)++;
	}
}

int lang_judge(size_t en, size_t nl)
{
	if (en >= 2 && en > nl)
		return 1;
	if (nl && nl > en)
		return -1;
	return 0;
}

int lang_is_other(const struct norm *n)
{
	size_t en, nl;

	lang_count(n, 0, n->ntok, &en, &nl);
	return lang_judge(en, nl) > 0;
}
