/* test_match.c - the intent matcher: every pattern form of
 * docs/scenariotaal.md, clauses, the negation guard and the matched span,
 * agreement between match_run (first-word index) and match_intent (plain
 * search) on the shipped scripts, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <cmocka.h>

#include "clause.h"
#include "match.h"
#include "script.h"
#include "util.h"

/* Concepts every case may use. */
static const char concepts[] =
	"begrip jargon = ots, gi, rvdk, je moet, veilig*, raads onderzoek\n"
	"begrip zwaar = ~jargon, uithuis*, (weg | mee) nemen\n"
	"begrip welzijn = gaat het, (voel | voelt) [je]\n"
	"begrip los = [heel] erg, * moe\n";

static void print_diags(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  diag: %s\n", d->msgs[i]);
}

/* A script of the concepts above and intent x with the given patterns
 * (one per line). */
static struct script *load_intent(const char *pats, int guard)
{
	struct script *s = NULL;
	struct diag d;
	struct sbuf sb;
	const char *p = pats;

	diag_init(&d);
	sbuf_init(&sb);
	sbuf_adds(&sb, concepts);
	sbuf_adds(&sb, "bedoeling x\n");
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		sbuf_adds(&sb, "  patroon: ");
		sbuf_add(&sb, p, n);
		sbuf_addc(&sb, '\n');
		p += n + (e ? 1 : 0);
	}
	if (!guard)
		sbuf_adds(&sb, "  ontkenning: nee\n");
	if (script_load_text("t.oef", sb.buf, sb.len, &s, &d) < 0) {
		print_message("%s", sb.buf);
		print_diags(&d);
	}
	assert_non_null(s);
	sbuf_release(&sb);
	diag_release(&d);
	return s;
}

struct match_case {
	const char *pats;    /* patterns, '\n' between them */
	int guard;           /* negation guard (ontkenning: ja) */
	const char *text;
	int hit;
	const char *span;    /* original text of the match, if hit */
};

#define J 1   /* ontkenning: ja */
#define N 0   /* ontkenning: nee */

static const struct match_case cases[] = {
	/* plain words: a run of whole words anywhere in a clause */
	{ "hoe gaat het", J, "Hoe gaat het met u?", 1, "Hoe gaat het" },
	{ "hoe gaat het", J, "Zeg, hoe gaat het nu", 1, "hoe gaat het" },
	{ "hoe gaat het", J, "Hoe het gaat", 0, NULL },
	{ "hoe gaat het", J, "hoe gaat", 0, NULL },
	{ "gaat", J, "gaatje", 0, NULL },
	{ "gaat", J, "", 0, NULL },
	{ "ben", J, "Ik ben er", 1, "ben" },
	/* case and accents, in the message and in the pattern */
	{ "een cafe", J, "ÉÉN CAFÉ graag", 1, "ÉÉN CAFÉ" },
	{ "ideeen", J, "Goede ideeën!", 1, "ideeën" },
	{ "één ideeën", J, "een ideeen", 1, "een ideeen" },
	{ "naief", J, "NAÏEF", 1, "NAÏEF" },
	/* u / jij / jou / je, uw / jouw, bent / heeft / kunt */
	{ "hoe gaat het met je", J, "Hoe gaat het met u?", 1,
	  "Hoe gaat het met u" },
	{ "met u", J, "met jou", 1, "met jou" },
	{ "met jij", J, "met je", 1, "met je" },
	{ "jij bent", J, "U bent", 1, "U bent" },
	{ "uw kant", J, "jouw kant", 1, "jouw kant" },
	{ "je hebt", J, "u heeft", 1, "u heeft" },
	{ "kun je", J, "Kunt u", 1, "Kunt u" },
	{ "mijn zoon", J, "Hoe gaat het met m'n zoon?", 1, "m'n zoon" },
	/* woord*: a word that starts so */
	{ "veilig*", J, "Het veiligheidsplan", 1, "veiligheidsplan" },
	{ "veilig*", J, "Is dit veilig?", 1, "veilig" },
	{ "veilig*", J, "onveilig", 0, NULL },
	{ "veilig*", J, "veili", 0, NULL },
	{ "het veilig*", J, "het VEILIGHEIDSPLAN", 1,
	  "het VEILIGHEIDSPLAN" },
	{ "nat* * broek", J, "een natte, gele broek", 0, NULL },
	{ "nat* * broek", J, "natte gele broek", 1, "natte gele broek" },
	/* ^ and $: the start and the end of a clause */
	{ "^ gaat het $", J, "gaat het?", 1, "gaat het" },
	{ "^ gaat het $", J, "Oké, gaat het?", 1, "gaat het" },
	{ "^ gaat het $", J, "Waar gaat het over?", 0, NULL },
	{ "^ gaat het $", J, "Gaat het om geld?", 0, NULL },
	{ "^ gaat het [wel] $", J, "En nu. Gaat het wel", 1, "Gaat het wel" },
	{ "gaat het ^", J, "gaat het, gaat het", 0, NULL },
	{ "$ gaat", J, "gaat", 0, NULL },
	{ "(^ anders | tenzij) * rechter", J,
	  "Werk mee, anders gaan we naar de rechter", 1,
	  "anders gaan we naar de rechter" },
	{ "(^ anders | tenzij) * rechter", J,
	  "Ergens anders wonen, dat zegt de rechter", 0, NULL },
	{ "<(^ anders | tenzij) rechter>", J,
	  "Een kind woont ergens anders, zegt de rechter", 0, NULL },
	{ "<(^ anders | tenzij) rechter>", J,
	  "Doe het nu. Anders de rechter.", 1, "Anders" },
	/* *: zero or more words, inside one clause only */
	{ "hoe * gaat", J, "hoe het gaat", 1, "hoe het gaat" },
	{ "hoe * gaat", J, "hoe gaat", 1, "hoe gaat" },
	{ "hoe * gaat", J, "hoe is het nu eigenlijk gegaan, gaat", 0, NULL },
	{ "hoe * gaat", J, "hoe het, gaat", 0, NULL },
	{ "hoe * gaat", J, "Hoe. Het gaat", 0, NULL },
	{ "hoe * gaat", J, "hoe? gaat", 0, NULL },
	{ "hoe * gaat", J, "hoe! gaat", 0, NULL },
	{ "hoe * gaat", J, "hoe; gaat", 0, NULL },
	{ "hoe * gaat", J, "hoe: gaat", 0, NULL },
	{ "hoe * gaat", J, "hoe\ngaat", 0, NULL },
	{ "hoe * gaat", J, "hoe - zeg - gaat", 1, "hoe - zeg - gaat" },
	{ "* gaat", J, "Het gaat", 1, "Het gaat" },
	{ "gaat *", J, "Het gaat", 1, "gaat" },
	{ "gaat * goed", J, "Nou. Gaat het goed?", 1, "Gaat het goed" },
	/* [optional] */
	{ "hoe [het] gaat", J, "hoe gaat", 1, "hoe gaat" },
	{ "hoe [het] gaat", J, "hoe het gaat", 1, "hoe het gaat" },
	{ "hoe [het] gaat", J, "hoe de gaat", 0, NULL },
	{ "[met] je", J, "samen met u", 1, "met u" },
	{ "hoe [het nu] gaat", J, "hoe het gaat", 0, NULL },
	{ "hoe [het nu] gaat", J, "hoe het nu gaat", 1, "hoe het nu gaat" },
	{ "[zeer] erg", J, "zeer, erg", 1, "erg" },
	/* (a | b c): alternatives, multi-word and nested */
	{ "(moeder | vader) komt", J, "De vader komt", 1, "vader komt" },
	{ "(a b | c) d", J, "x a b d", 1, "a b d" },
	{ "(a b | c) d", J, "c d", 1, "c d" },
	{ "(a b | c) d", J, "a d", 0, NULL },
	{ "(a b | a) b d", J, "a b d", 1, "a b d" },
	{ "(x (y | z w) | q) e", J, "x z w e", 1, "x z w e" },
	{ "(x (y | z w) | q) e", J, "x y e", 1, "x y e" },
	{ "(x (y | z w) | q) e", J, "q e", 1, "q e" },
	{ "(x (y | z w) | q) e", J, "x w e", 0, NULL },
	{ "(x (y | z w) | q) e", J, "x z e", 0, NULL },
	{ "([heel] erg | zeer) boos", J, "heel erg boos", 1, "heel erg boos" },
	{ "([heel] erg | zeer) boos", J, "erg boos", 1, "erg boos" },
	{ "([heel] erg | zeer) boos", J, "heel boos", 0, NULL },
	{ "(veilig* | zorg*) plan", J, "zorgelijk plan", 1,
	  "zorgelijk plan" },
	/* one-word alternatives are tested without their elements
	 * (script.h one_cls): inflections still count, =word still
	 * does not, and a later alternative is tried when what follows
	 * the first one fails */
	{ "(lopen | rennen) weg", J, "Hij loopt weg", 1, "loopt weg" },
	{ "(=lopen | rennen) weg", J, "Hij loopt weg", 0, NULL },
	{ "(lopen | =rennen) weg", J, "Hij rent weg", 0, NULL },
	{ "(heel | heel erg) boos", J, "heel erg boos", 1, "heel erg boos" },
	{ "(heel | zeer) boos", J, "heel, boos", 0, NULL },
	/* ~concept: items, multi-word items, prefixes, concepts of
	 * concepts, groups in items */
	{ "~jargon", N, "Er komt een OTS", 1, "OTS" },
	{ "~jargon", N, "De GI belt", 1, "GI" },
	{ "~jargon", N, "Je moet tekenen", 1, "Je moet" },
	{ "~jargon", N, "U moet tekenen", 1, "U moet" },
	{ "~jargon", N, "moet je tekenen", 0, NULL },
	{ "~jargon", N, "het veiligheidsplan", 1, "veiligheidsplan" },
	{ "~jargon", N, "een raads onderzoek", 1, "raads onderzoek" },
	{ "~jargon", N, "een raadsonderzoek", 0, NULL },
	{ "~jargon", N, "geen vakterm", 0, NULL },
	{ "~zwaar", N, "een uithuisplaatsing", 1, "uithuisplaatsing" },
	{ "~zwaar", N, "de RvdK komt", 1, "RvdK" },
	{ "~zwaar", N, "ze mee nemen", 1, "mee nemen" },
	{ "~zwaar", N, "ze weg, nemen", 0, NULL },
	{ "over ~jargon praten", N, "over veiligheid praten", 1,
	  "over veiligheid praten" },
	{ "hoe ~welzijn", J, "Hoe voel je je?", 1, "Hoe voel je" },
	{ "hoe ~welzijn", J, "hoe voelt", 1, "hoe voelt" },
	{ "hoe ~welzijn", J, "hoe het gaat", 0, NULL },
	/* <a b>: each part anywhere in the message, in any order, also
	 * in other clauses */
	{ "<kinderen gaat>", J, "Gaat het goed met de kinderen?", 1,
	  "kinderen" },
	{ "<kinderen school>", J, "Hoe is het met de kinderen. En op "
	  "school?", 1, "kinderen" },
	{ "<kinderen school>", J, "Op school. De kinderen.", 1, "kinderen" },
	{ "<kinderen school>", J, "De kinderen", 0, NULL },
	{ "<hoe ~welzijn>", J, "Vertel, hoe is het? Gaat het?", 1, "hoe" },
	{ "<hoe ~welzijn>", J, "Gaat het?", 0, NULL },
	{ "<(broek | kleren) nat*>", J, "De kleren. Ze waren nat.", 1,
	  "kleren" },
	{ "<(broek | kleren) nat*>", J, "De kleren waren droog.", 0, NULL },
	/* a pattern is tried only when the message holds a word each of
	 * its groups can start with (script.h, req): through a nested
	 * concept, a prefix, a two-word alternative; a concept that can
	 * start anywhere requires nothing */
	{ "<~zwaar kinderen>", J, "De kinderen, een raads onderzoek", 1,
	  "raads onderzoek" },
	{ "<~zwaar kinderen>", J, "De kinderen. Uithuisplaatsing", 1,
	  "Uithuisplaatsing" },
	{ "<~zwaar kinderen>", J, "De kinderen mee nemen", 1, "mee nemen" },
	{ "<~zwaar kinderen>", J, "De kinderen, is het veilig?", 1,
	  "veilig" },
	{ "<~zwaar kinderen>", J, "De kinderen thuis", 0, NULL },
	{ "<(veilig* | thuis) kinderen>", J, "De kinderen, veiligheid", 1,
	  "veiligheid" },
	{ "<~zwaar kinderen>", J, "Uithuisplaatsing", 0, NULL },
	/* where a concept can start is kept per token (match.h, cpos),
	 * tokens from 63 on share one bit: still found there */
	{ "<~jargon kinderen>", J, "De kinderen, "
	  "en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en "
	  "en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en een OTS", 1,
	  "OTS" },
	{ "~jargon", N, "Zeventig woorden: "
	  "en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en "
	  "en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en en een OTS", 1,
	  "OTS" },
	{ "<~los kinderen>", J, "De kinderen zijn moe", 1,
	  "De kinderen zijn moe" },
	{ "<~los kinderen>", J, "De kinderen. Heel erg.", 1, "Heel erg" },
	{ "<~los kinderen>", J, "De kinderen. Het is erg.", 1, "erg" },
	{ "<~los kinderen>", J, "De kinderen. Heel fijn.", 0, NULL },
	{ "kinderen (~zwaar | [de] school)", J, "kinderen de school", 1,
	  "kinderen de school" },
	{ "kinderen (~zwaar | [de] school)", J, "kinderen school", 1,
	  "kinderen school" },
	{ "kinderen (~zwaar | [de] school)", J, "kinderen ots", 1,
	  "kinderen ots" },
	{ "kinderen (~zwaar | [de] school)", J, "kinderen de", 0, NULL },
	/* <…> next to a sequence: both must match */
	{ "hoe gaat <kinderen>", J, "Hoe gaat het? En de kinderen?", 1,
	  "Hoe gaat" },
	{ "hoe gaat <kinderen>", J, "Hoe gaat het?", 0, NULL },
	{ "<kinderen> hoe gaat", J, "kinderen, hoe gaat het", 1,
	  "hoe gaat" },
	/* more patterns: any of them */
	{ "a b\nc d", J, "x c d", 1, "c d" },
	{ "a b\nc d", J, "a c b d", 0, NULL },
	/* negation: anywhere in the same clause (clause.h), not across a
	 * break or a conjunction that starts a clause */
	{ "verplicht", J, "U bent niet verplicht", 0, NULL },
	{ "verplicht", J, "niet u bent verplicht", 0, NULL },
	{ "verplicht", J, "niet a b c verplicht", 0, NULL },
	{ "verplicht", J, "niet, u bent verplicht", 1, "verplicht" },
	{ "verplicht", J, "verplicht niet", 0, NULL },
	{ "verplicht", J, "verplicht is niet", 0, NULL },
	{ "verplicht", J, "verplicht is het niet", 0, NULL },
	{ "verplicht", J, "verplicht. Niet", 1, "verplicht" },
	{ "verplicht", J, "verplicht? niet", 1, "verplicht" },
	{ "verplicht", J, "geen verplicht", 0, NULL },
	{ "verplicht", J, "nooit verplicht", 0, NULL },
	{ "verplicht", J, "niks verplicht", 0, NULL },
	{ "verplicht", J, "niets verplicht", 0, NULL },
	{ "verplicht", J, "niemand verplicht", 0, NULL },
	{ "verplicht", J, "NIET verplicht", 0, NULL },
	{ "verplicht", J, "nietverplicht verplicht", 1, "verplicht" },
	{ "verplicht", J, "Het is niet verplicht, maar wel VERPLICHT", 1,
	  "VERPLICHT" },
	{ "ben verplicht", J, "u bent verplicht, niet", 1, "bent verplicht" },
	{ "ben verplicht", J, "u bent verplicht niet", 0, NULL },
	{ "ben verplicht", J, "niet x y bent verplicht", 0, NULL },
	{ "ben verplicht", J, "niet x y z bent verplicht", 0, NULL },
	{ "ben verplicht", J, "niet x, maar je bent verplicht", 1,
	  "bent verplicht" },
	/* a negation the pattern names itself does not cancel it */
	{ "niet druk", J, "niet druk", 1, "niet druk" },
	{ "als je niet * komt", J, "Als je niet op tijd komt", 1,
	  "Als je niet op tijd komt" },
	{ "(niet | nooit) * komt", J, "nooit komt", 1, "nooit komt" },
	/* ... but not when the clause inherits a negation as well: "ik ga
	 * niet zeggen | dat het niet jouw schuld is" */
	{ "niet jouw schuld", J, "Het is niet jouw schuld.", 1,
	  "niet jouw schuld" },
	{ "niet jouw schuld", J,
	  "Ik ga niet zeggen dat het niet jouw schuld is.", 0, NULL },
	{ "niet jouw schuld", J,
	  "Ik ga zeggen dat het niet jouw schuld is.", 1,
	  "niet jouw schuld" },
	/* one that a * took in does */
	{ "dossier * gelezen", J, "Ik heb je dossier nog niet gelezen", 0,
	  NULL },
	{ "dossier * gelezen", J, "Ik heb je dossier gelezen", 1,
	  "dossier gelezen" },
	{ "ik zet * in het verslag", J, "Ik zet het niet in het verslag", 0,
	  NULL },
	/* ... also in a later clause the match runs into, unless that
	 * clause gives someone's words back */
	{ "aantekeningen * naar school", J,
	  "Ik maak aantekeningen maar niks gaat naar school", 0, NULL },
	{ "aantekeningen * naar school", J,
	  "Ik maak aantekeningen maar die gaan naar school", 1,
	  "aantekeningen maar die gaan naar school" },
	{ "je zegt * training", J,
	  "Je zegt dat je niet meer naar de training gaat", 1,
	  "Je zegt dat je niet meer naar de training" },
	/* "wel en niet" chooses, it negates nothing */
	{ "wat * zeg", J, "Wat wil je dat ik wel en niet zeg?", 1,
	  "Wat wil je dat ik wel en niet zeg" },
	/* a negation the pattern names stays its own there too */
	{ "snap * niet makkelijk", J,
	  "Ik snap dat het niet makkelijk is", 1,
	  "snap dat het niet makkelijk" },
	{ "ik zet * in het verslag", N, "Ik zet het niet in het verslag", 1,
	  "Ik zet het niet in het verslag" },
	/* ontkenning: nee: jargon stays jargon */
	{ "~jargon", N, "Er komt geen OTS", 1, "OTS" },
	{ "~jargon", J, "Er komt geen OTS", 0, NULL },
	{ "~jargon", J, "Er komt een OTS", 1, "OTS" },
	{ "verplicht", N, "U bent niet verplicht", 1, "verplicht" },
	/* and in <…>: each part on its own */
	{ "<kinderen school>", J, "Niet de kinderen. Op school.", 0, NULL },
	{ "<kinderen school>", N, "Niet de kinderen. Op school.", 1,
	  "kinderen" },
	{ "<kinderen school>", J, "Niet op school. Met de kinderen.", 0,
	  NULL },
	/* a 'moet' of supposition asks nothing (clause_is_supposition) */
	{ "~jargon", J, "U moet gewoon meewerken", 1, "U moet" },
	{ "~jargon", J, "U moet wel geschrokken zijn", 0, NULL },
	{ "~jargon", J, "Je moet het gelezen hebben", 0, NULL },
	{ "~jargon", J, "Je moet het hebben laten zien", 0, NULL },
	{ "~jargon", J, "Je moet het hebben over school", 1, "Je moet" },
	{ "~jargon", J, "Dat moet zwaar geweest zijn, je moet rusten", 1,
	  "je moet" },
	{ "~jargon", J, "Je moet het heel zwaar vinden, zijn", 1, "Je moet" },
	{ "~jargon", J, "Je moet er om negen uur zijn", 1, "Je moet" },
	/* asking a hand for oneself demands nothing */
	{ "~jargon", J, "Dan moet je me wel even helpen: wie is Pluis?", 0,
	  NULL },
	{ "~jargon", J, "Je moet mij helpen", 0, NULL },
	{ "~jargon", J, "Je moet je moeder helpen", 1, "Je moet" },
	{ "~jargon", J, "Je moet me vertellen wat er gebeurd is", 1,
	  "Je moet" },
};

/* The span as text of the message. */
static void assert_span(const struct match_span *sp, const char *text,
			const char *want)
{
	size_t n = strlen(text);

	assert_true(sp->start <= n && sp->len <= n - sp->start);
	if (sp->len != strlen(want) ||
	    memcmp(text + sp->start, want, sp->len) != 0) {
		print_message("span \"%.*s\", want \"%s\"\n", (int)sp->len,
			      text + sp->start, want);
		fail();
	}
}

static void test_cases(void **state)
{
	struct match m;
	size_t bad = 0;

	(void)state;
	match_init(&m);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct match_case *c = &cases[i];
		struct script *s = load_intent(c->pats, c->guard);
		uint32_t x = (uint32_t)script_find_intent(s, "x");
		struct match_span sp;
		int run, one;

		match_run(&m, s, c->text, strlen(c->text));
		run = match_hit(&m, x);
		sp = m.span[x];
		one = match_intent(&m, s, x, c->text);
		if (run != c->hit || one != c->hit) {
			print_message("case %zu: \"%s\" on \"%s\": match_run "
				      "%d, match_intent %d, want %d\n", i,
				      c->pats, c->text, run, one, c->hit);
			bad++;
		} else if (c->hit) {
			assert_span(&sp, c->text, c->span);
			assert_span(&m.span[x], c->text, c->span);
		}
		script_free(s);
	}
	match_release(&m);
	assert_int_equal(bad, 0);
}

/* --- issue 11: words in any form, clauses, acts, another language --- */

/* Intent x with one pattern and option lines opts ("" for none). */
static struct script *load_opts(const char *pat, const char *opts)
{
	struct script *s = NULL;
	struct diag d;
	struct sbuf sb;

	diag_init(&d);
	sbuf_init(&sb);
	sbuf_addf(&sb, "bedoeling x\n  patroon: %s\n%s", pat, opts);
	if (script_load_text("t.oef", sb.buf, sb.len, &s, &d) < 0) {
		print_message("%s", sb.buf);
		print_diags(&d);
	}
	assert_non_null(s);
	sbuf_release(&sb);
	diag_release(&d);
	return s;
}

#define VRAAG "  handeling: vraag\n"
#define VOORSTEL "  handeling: voorstel\n"
#define BELOFTE "  handeling: belofte\n"
#define MEDEDELING "  handeling: mededeling\n"

static const struct {
	const char *pat;
	const char *opts;
	const char *text;
	int hit;
} text_cases[] = {
	/* inflection, typos, compounds, =word */
	{ "lopen", "", "Hij loopt weg.", 1 },
	{ "=lopen", "", "Hij loopt weg.", 0 },
	{ "=lopen", "", "Ze lopen weg.", 1 },
	{ "brief", "", "Die brieven van school", 1 },
	{ "de kinderen", "", "Hoe gaat het met de kinderne?", 1 },
	{ "de kinderen", "", "Hoe gaat het met de kindren?", 1 },
	{ "veiligheid", "", "Het gaat om veilighied.", 1 },
	{ "kind", "", "Hoe is het met je kidn?", 0 },     /* short */
	{ "jouw kant", "", "jou kant", 0 },               /* short */
	{ "kopen", "", "Wanneer komen jullie?", 0 },      /* a word */
	{ "geslagen", "", "Ik heb slecht geslapen.", 0 },  /* a word */
	{ "geweld", "", "Ik ben het zo gewend.", 0 },      /* a word */
	{ "gelezen", "", "Dat is twee weken geleden.", 0 },/* a word */
	{ "geslagen", "", "Hij heeft me geslagne.", 1 },   /* a slip */
	{ "hulpverlening", "", "Heeft u schuldhulpverlening?", 1 },
	{ "beschermer", "", "Ik ben jeugdbeschermer.", 1 },
	{ "veilig", "", "Dat is onveilig.", 0 },
	/* negation: the clause, not across a break or conjunction */
	{ "samen aan tafel", "",
	  "Ik ga jullie niet samen aan tafel zetten.", 0 },
	{ "samen aan tafel", "", "Zullen we samen aan tafel gaan zitten?", 1 },
	{ "samen aan tafel", "",
	  "Ik wil niet dat het escaleert, maar we kunnen samen aan tafel", 1 },
	{ "samen aan tafel", "  ontkenning: nee\n",
	  "Ik ga jullie niet samen aan tafel zetten.", 1 },
	{ "je schuld", "", "Ik zeg niet dat het je schuld is.", 0 },
	{ "je schuld", "", "Ik zeg eerlijk dat het je schuld is.", 1 },
	{ "om je veilig voelen", "",
	  "Het gaat niet alleen om slaan, ook om je veilig voelen.", 1 },
	{ "je moet", "", "Wil je praten of niet? Je moet het zeggen.", 1 },
	/* an emoji ends a sentence */
	{ "ik ben * altijd * op", "",
	  "ik ben een prutser \xf0\x9f\x98\x82 Vroeger zat ik altijd op de "
	  "bank", 0 },
	{ "ik ben * altijd * op", "", "ik ben een prutser en vroeger zat ik "
	  "altijd op de bank", 1 },
	/* someone else's words */
	{ "verwaarloos*", "",
	  "In de brief staat dat u uw kinderen verwaarloost.", 0 },
	{ "verwaarloos*", "", "U verwaarloost uw kinderen.", 1 },
	{ "verwaarloos*", "", "Volgens school verwaarloost u de kinderen.",
	  0 },
	{ "verwaarloos*", "", "Uw ex schrijft dat u de kinderen "
	  "verwaarloost.", 0 },
	{ "verwaarloos*", "", "Ze zeggen: u verwaarloost ze.", 0 },
	{ "verwaarloos*", "", "Er staat \"verwaarloosd\" in het dossier.",
	  0 },
	{ "verwaarloos*", "", "Er staat \u201cverwaarloosd\u201d in het "
	  "dossier.", 0 },
	{ "verwaarloos*", "", "Ik denk dat u de kinderen verwaarloost.", 1 },
	{ "verwaarloos*", "", "Volgens mij verwaarloost u ze.", 1 },
	{ "verwaarloos*", "", "Kunt u vertellen dat u ze verwaarloost?", 1 },
	{ "verwaarloos*", "  citaat: ja\n",
	  "In de brief staat dat u uw kinderen verwaarloost.", 1 },
	/* the frame is the trainee's own */
	{ "de brief", "", "In de brief staat dat u tekortschiet.", 1 },
	{ "volgens school", "", "Volgens school komt hij te laat.", 1 },
	/* conditions */
	{ "naar de rechter", "", "Als u naar de rechter stapt, help ik.", 1 },
	{ "naar de rechter", "  voorwaarde: nee\n",
	  "Als u naar de rechter stapt, help ik.", 0 },
	{ "naar de rechter", "  voorwaarde: nee\n",
	  "Als het niet lukt, gaan we naar de rechter.", 1 },
	{ "naar de rechter", "  voorwaarde: nee\n",
	  "Ik help u wanneer u naar de rechter stapt.", 0 },
	/* acts: vraag */
	{ "bellen", VRAAG, "Wie kunt u bellen als het misgaat?", 1 },
	{ "bellen", VRAAG, "wie kun je bellen", 1 },
	{ "bellen", VRAAG, "Bij wie kun je bellen als het misgaat", 1 },
	{ "bellen", VRAAG, "Kun je je oma bellen", 1 },
	{ "bellen", VRAAG, "Je kunt mij altijd bellen.", 0 },
	{ "bellen", VRAAG, "Als het misgaat, kun je mij bellen.", 0 },
	{ "bellen", VRAAG, "Ik ga morgen bellen.", 0 },
	/* voorstel */
	{ "bellen", VOORSTEL, "Je kunt mij altijd bellen.", 1 },
	{ "bellen", VOORSTEL, "Zullen we je oma bellen?", 1 },
	{ "bellen", VOORSTEL, "Zal ik je moeder bellen?", 1 },
	{ "bellen", VOORSTEL, "Wie kun je bellen?", 0 },
	/* after "dan" the verb comes first without asking anything */
	{ "bellen", VOORSTEL,
	  "Ik schrijf mijn nummer op, dan kun je mij bellen.", 1 },
	{ "bellen", VRAAG,
	  "Ik schrijf mijn nummer op, dan kun je mij bellen.", 0 },
	{ "bellen", VRAAG, "Dan kun je oma bellen.", 0 },
	{ "bellen", VRAAG, "Dan kun je oma bellen?", 1 },
	/* belofte */
	{ "bellen", BELOFTE, "Ik zal je morgen bellen.", 1 },
	{ "bellen", BELOFTE, "Ik beloof je morgen te bellen.", 1 },
	{ "bellen", BELOFTE, "Ik ga je morgen bellen.", 0 },
	/* per pattern: "patroon (vraag): …" */
	{ "bellen\n  patroon (voorstel): (bel | bellen)", VRAAG,
	  "Je kunt mij altijd bellen.", 1 },
	{ "bellen\n  patroon (voorstel): (bel | bellen)", VRAAG,
	  "Wie kun je bellen?", 1 },
	{ "bellen\n  patroon (voorstel): (bel | bellen)", VRAAG,
	  "Ik ga morgen bellen.", 0 },
	/* mededeling */
	{ "bellen", MEDEDELING, "Ik ga morgen bellen.", 1 },
	{ "bellen", MEDEDELING, "Ga je morgen bellen?", 0 },
	{ "wat vervelend", "  handeling: vraag, mededeling\n",
	  "Wat vervelend!", 1 },
	{ "wat vervelend", VRAAG, "Wat vervelend!", 0 },
	/* another language matches no Dutch pattern */
	{ "sorry", "", "Sorry, dat bedoelde ik niet zo.", 1 },
	{ "sorry", "", "Sorry, I don't understand what you mean.", 0 },
	{ "sorry", "", "Wait, sorry, my colleague is calling me, one second "
	  "please", 0 },
};

static void test_text(void **state)
{
	struct match m;
	size_t bad = 0;

	(void)state;
	match_init(&m);
	for (size_t i = 0; i < ARRAY_LEN(text_cases); i++) {
		struct script *s = load_opts(text_cases[i].pat,
					     text_cases[i].opts);
		uint32_t x = (uint32_t)script_find_intent(s, "x");
		const char *t = text_cases[i].text;
		int run, one;

		match_run(&m, s, t, strlen(t));
		run = match_hit(&m, x);
		one = match_intent(&m, s, x, t);
		if (run != text_cases[i].hit || one != text_cases[i].hit) {
			print_message("text case %zu: \"%s\" %son \"%s\": "
				      "match_run %d, match_intent %d, want %d\n",
				      i, text_cases[i].pat, text_cases[i].opts,
				      t, run, one, text_cases[i].hit);
			bad++;
		}
		script_free(s);
	}
	match_release(&m);
	assert_int_equal(bad, 0);
}

/* A condition's act ("als x (vraag)") holds in any clause the match
 * reaches, not only the one it starts in: "<weekend bellen>" over two
 * sentences asks when the second one does. */
/* The real words (lexicon.c) are searched by bsearch: sorted, no twice,
 * each a plain lower-case word. */
static void test_real_words_sorted(void **state)
{
	(void)state;
	assert_true(lexicon_nreal_words > 100);
	for (size_t i = 0; i < lexicon_nreal_words; i++) {
		const char *w = lexicon_real_words[i];

		for (const char *c = w; *c; c++)
			assert_true(*c >= 'a' && *c <= 'z');
		if (i)
			assert_true(strcmp(lexicon_real_words[i - 1], w) < 0);
	}
}

static void test_act_reach(void **state)
{
	static const struct {
		const char *pat, *text;
		unsigned acts;
		int want;
	} reach[] = {
		{ "<weekend bellen>", "Nog even over het weekend. Is er "
		  "iemand die je kan bellen?", 1u << MATCH_VRAAG, 1 },
		{ "<weekend bellen>", "Nog even over het weekend. is er "
		  "iemand die je kan bellen als het misgaat",
		  1u << MATCH_VRAAG, 1 },
		{ "<weekend bellen>", "Nog even over het weekend. Ik ga je "
		  "dan bellen.", 1u << MATCH_VRAAG, 0 },
		{ "<weekend bellen>", "Wat doe je in het weekend? Ik ga je "
		  "dan bellen.", 1u << MATCH_VRAAG, 1 },
		{ "<weekend bellen>", "Nog even over het weekend. Ik ga je "
		  "dan bellen.", 1u << MATCH_MEDEDELING, 1 },
		/* a sequence in one clause: its own act only */
		{ "kun je bellen", "Kun je bellen? Ik ben er niet.",
		  1u << MATCH_MEDEDELING, 0 },
	};
	struct match m;

	(void)state;
	match_init(&m);
	for (size_t i = 0; i < ARRAY_LEN(reach); i++) {
		struct script *s = load_opts(reach[i].pat, "");
		uint32_t x = (uint32_t)script_find_intent(s, "x");

		match_run(&m, s, reach[i].text, strlen(reach[i].text));
		assert_true(match_hit(&m, x));
		if (match_hit_act(&m, x, reach[i].acts) != reach[i].want)
			print_message("act case %zu: \"%s\"\n", i,
				      reach[i].text);
		assert_int_equal(match_hit_act(&m, x, reach[i].acts),
				 reach[i].want);
		script_free(s);
	}
	match_release(&m);
}

/* A message and what its clauses should read as. */
struct clause_case {
	const char *text;
	const char *want;
};

/* Each clause as "act[+neg][+cit][+als]", joined by " | ". */
static const struct clause_case clause_cases[] = {
	{ "", "" },
	{ "Hoe gaat het?", "vraag" },
	{ "Hoe gaat het", "vraag" },
	{ "Wat fijn!", "mededeling" },
	/* a free relative, told; the verb after the wh-word asks */
	{ "Wat ik opschrijf krijgt u eerst te lezen.", "mededeling" },
	{ "Waar we praten mag jij kiezen.", "mededeling" },
	{ "Wat schrijf ik op?", "vraag" },
	{ "Wat ga je doen in het weekend.", "vraag" },
	/* without a full stop it may be a question typed without "?" */
	{ "wat ik opschrijf", "vraag" },
	{ "Ik hoor dat u schrok.", "mededeling | mededeling" },
	/* report language about the client: "aangeven" says */
	{ "Mevrouw geeft aan dat ze de brief heftig vond.",
	  "mededeling | mededeling+cit" },
	{ "Anyway, mevrouw geeft dus aan dat ze haar kind niet mishandelt.",
	  "mededeling | mededeling | mededeling+neg+cit" },
	{ "Het geeft niet dat je het niet weet.",
	  "mededeling+neg | mededeling+neg" },
	/* a summary's frame: what follows is the client's story */
	{ "Dus als ik het goed hoor: u schreeuwde terug. Klopt dat?",
	  "mededeling | mededeling+als | mededeling+cit | vraag" },
	{ "Als ik het goed begrijp, wil jij zelf kiezen.",
	  "mededeling+als | mededeling+cit" },
	{ "Als ik het goed heb gedaan, ben je blij.",
	  "mededeling+als | mededeling" },
	{ "Als ik het goed heb begrepen, ga je liever naar oma.",
	  "mededeling+als | mededeling+cit" },
	{ "Ik ga jullie niet samen aan tafel zetten.", "mededeling+neg" },
	{ "Ik zeg niet dat het uw schuld is.", "mededeling+neg | "
	  "mededeling+neg" },
	{ "Uw ex schrijft dat u schreeuwt.", "mededeling | mededeling+cit" },
	{ "In de brief staat: u schreeuwt.", "mededeling | mededeling+cit" },
	{ "Volgens school is hij vaak moe.", "mededeling | mededeling+cit" },
	/* what the client read about is her word, named back to her */
	{ "En dan las u op internet over uithuisplaatsing.",
	  "mededeling | mededeling+cit" },
	{ "Ik las over de OTS.", "mededeling" },
	{ "Je hebt over de OTS gelezen.", "mededeling" },
	{ "Volgens mij is hij vaak moe.", "mededeling" },
	{ "Ze zei \"ik kom niet\" en ging weg.",
	  "mededeling | mededeling+neg+cit | mededeling" },
	{ "Als u niet meewerkt, moeten we naar de rechter.",
	  "mededeling+neg+als | mededeling" },
	{ "Je kan mij bellen als het misgaat.",
	  "voorstel | mededeling+als" },
	{ "Wie kun je bellen als het misgaat?", "vraag | mededeling+als" },
	{ "Zullen we een rondje lopen?", "voorstel" },
	{ "Ik beloof het.", "belofte" },
	{ "Heb je vragen", "vraag" },
	{ "Als het misgaat, kun je mij bellen.",
	  "mededeling+als | mededeling" },
	/* the same after any fronted subordinate clause; a main clause
	 * before the comma still lets the next one ask */
	{ "Voordat ik aanbelde, heb ik het dossier opgevraagd.",
	  "mededeling | mededeling" },
	{ "Toen ik belde, was u er niet.", "mededeling | mededeling+neg" },
	{ "Ik ben Eva, heb je even", "mededeling | vraag" },
	{ "Het is niet alleen slaan, maar ook schreeuwen.",
	  "mededeling | mededeling" },
	{ "Ik kom morgen en ik bel je vanavond", "mededeling | mededeling" },
	{ "Wanneer kom je?", "vraag" },
	/* single quotes, straight and curly, in pairs: a word named,
	 * not used; apostrophes in and before words are no quotes */
	{ "Een brief met 'risicotaxatie' erin.",
	  "mededeling | mededeling+cit | mededeling" },
	{ "Er stond \xe2\x80\x98zorgen over Noa\xe2\x80\x99 in.",
	  "mededeling | mededeling+cit | mededeling" },
	{ "Ik kom 's avonds bij Thijs' moeder langs.", "mededeling" },
	/* "het woord X" names X; "die woorden uit de brief" goes on
	 * with its sentence */
	{ "Dat woord risicotaxatie is lastig.",
	  "mededeling | mededeling+cit" },
	{ "Heeft u die woorden uit de brief opgezocht?", "vraag" },
	{ "Je hebt die termen toen gegoogeld, toch?", "vraag | vraag" },
	{ "Die auto's van m'n buren.", "mededeling" },
	{ "Eh 'ik weet het niet. Later.", "mededeling+neg | mededeling" },
	/* a fronted phrase taken up by a negated clause shares its
	 * negation; one with a subject of its own, or taken up by an
	 * unnegated clause, keeps its own */
	{ "Een gesprek met z'n drieen aan tafel, daar begin ik niet aan.",
	  "mededeling+neg | mededeling+neg" },
	{ "Samen met haar aan tafel, dat doe ik niet.",
	  "mededeling+neg | mededeling+neg" },
	{ "Een gesprek met z'n drieen, dat lijkt me goed.",
	  "mededeling | mededeling" },
	{ "Ik wil een gesprek samen, dat doe ik niet graag.",
	  "mededeling | mededeling+neg" },
	{ "Een gesprek samen. Dat doe ik niet.",
	  "mededeling | mededeling+neg" },
	{ "Samen met haar aan tafel: dat doe ik niet.",
	  "mededeling+neg | mededeling+neg" },
	/* a part with a verb of its own is a clause, not a phrase */
	{ "De brief is weg, daar kan ik niets aan doen.",
	  "mededeling | mededeling+neg" },
	{ "Het plan klinkt zwaar, daar hoeft u niet van te schrikken.",
	  "mededeling | mededeling+neg" },
	/* a colon announces what follows; it asks nothing */
	{ "Wat het betekent: de kinderen blijven bij u.",
	  "mededeling | mededeling" },
	{ "Wat ik wel weet: ik blijf.", "mededeling | mededeling" },
	{ "Wat betekent dat: blijven ze thuis?", "vraag | vraag" },
	/* so does a wh-clause that is the subject of 'is' after a comma */
	{ "Wat veilig betekent, is voor mij dat niemand bang is.",
	  "mededeling | mededeling | mededeling+neg" },
	{ "Wat ik wil weten, is hoe het met je gaat.",
	  "vraag | mededeling" },
	{ "Wat vind je ervan, is het goed zo?", "vraag | vraag" },
	/* a free relative before a comma, in a sentence that asks nothing */
	{ "Wat ik wel even moet doen is de huisarts bellen, dat is standaard.",
	  "mededeling | mededeling" },
	{ "Wat ik moet doen, weet ik niet?", "vraag | vraag+neg" },
	/* a verb-first condition without a comma, 'dan' + verb after it:
	 * its negation stays its own, and it asks nothing */
	{ "Bent u het er niet mee eens dan mag u een klacht indienen.",
	  "mededeling+neg+als | mededeling" },
	{ "Heb je vragen dan bel je mij.", "mededeling+als | mededeling" },
	{ "Ben je dan boos?", "vraag" },
	{ "Heb je het dan ook gezegd?", "vraag" },
	/* about the rehearsal, not in it: the whole sentence */
	{ "Sorry, ik snap niet hoe deze oefening werkt.",
	  "mededeling+uit | mededeling+neg+uit" },
	{ "Ben jij een AI?", "vraag+uit" },
	{ "Is dat de bedoeling van de persona?", "vraag+uit" },
	{ "Sorry Sandra, ik was met het programma bezig. Hoe gaat het?",
	  "mededeling+uit | mededeling+uit | vraag" },
	{ "Ik hoop dat dit programma mijn typfouten niet meetelt, ik typ "
	  "snel", "mededeling+uit | mededeling+neg+uit | mededeling+uit" },
	/* the same words in the rehearsal */
	{ "Wat is uw favoriete tv-programma?", "vraag" },
	{ "Dat kwam bot binnen, sorry.", "mededeling | mededeling" },
	{ "Ai, dat doet pijn.", "mededeling | mededeling" },
	{ "We doen samen een ademhalingsoefening.", "mededeling" },
	{ "Ja, volgens het scenario heb ik ze gelezen.",
	  "mededeling+uit | mededeling+uit | mededeling+cit+uit" },
	{ "In het ergste scenario komt er een rechter.", "mededeling" },
	/* run on without a question mark: the question starts at its
	 * question word and verb with their subject, not after a verb of
	 * knowing or asking, not in a relative clause */
	{ "u had eerder hulp van het wijkteam met drie mensen in een "
	  "half jaar hoe was dat voor u", "mededeling | vraag" },
	{ "wacht even de taal stond verkeerd zo beter wat vond u van de "
	  "uitspraak", "mededeling | vraag" },
	{ "ok top dan zie ik je dinsdag wanneer ben je thuis",
	  "mededeling | vraag" },
	{ "ik weet niet goed hoe is het gegaan", "mededeling+neg" },
	{ "ik vroeg je hoe was het", "mededeling" },
	{ "ik ben benieuwd hoe was het op school", "vraag" },
	{ "alles wat is gebeurd vind ik erg", "mededeling" },
	{ "het huis waar hij woont is groot", "mededeling" },
	/* a condition without its comma: the main clause starts at its
	 * verb and person, or its question word, and the condition's
	 * negation stays in the condition */
	{ "als het thuis een keer echt niet gaat kun je dan bij oma "
	  "terecht?", "mededeling+neg+als | vraag" },
	{ "als je moeder niet opstaat wie brengt Fleur dan?",
	  "mededeling+neg+als | vraag" },
	{ "als het misgaat kun je mij bellen", "mededeling+als | mededeling" },
	{ "als ik je help gaat het beter", "mededeling+als" },
	{ "als ik weet wie het is bel ik je",
	  "mededeling+als | mededeling" },
	{ "als je wilt wat drinken zeg het", "mededeling+als" },
	/* an indirect question asks all the same; knowing is no asking */
	{ "ik wil graag weten wat jij fijn vindt", "vraag" },
	{ "vertel eens wat je dan doet", "vraag" },
	{ "ik ben benieuwd hoe het ging", "vraag" },
	{ "ik weet wat je bedoelt", "mededeling" },
	/* a question asked with leave sets no condition */
	{ "Is het goed als ik vraag waar je woont?", "vraag | vraag" },
	{ "als ik het vraag, ga je dan mee?", "mededeling+als | vraag" },
	/* with a question mark in the message it is left alone */
	{ "Klopt het? ik was daar toen hoe was dat voor u",
	  "vraag | mededeling" },
	/* a run-on sentence says before it asks; a tag asks with what
	 * came before */
	{ "ik ben er het komende jaar, wat denk jij?",
	  "mededeling | vraag" },
	{ "kijk het is zo, ik wil samen kijken hoe het beter kan, dat de "
	  "kids niet tussen jullie in staan, wat denk jij?",
	  "mededeling | mededeling | mededeling+neg | vraag" },
	{ "Je hebt hem geslagen, of niet?", "vraag | vraag" },
	{ "Je was bang, klopt dat?", "vraag | vraag" },
	{ "Ik wil weten hoe het gaat, vind je het goed als ik iets vraag?",
	  "vraag | vraag | mededeling+als" },
};

/* Clause c of m as test_clauses reads it. */
static void describe_scope(struct sbuf *sb, const struct match *m, size_t c)
{
	const struct match_clause *cl = &m->clause[c];

	sbuf_addf(sb, "%s%s%s%s%s%s", c ? " | " : "",
		  clause_act_name(cl->act), cl->negated ? "+neg" : "",
		  cl->reported ? "+cit" : "", cl->conditional ? "+als" : "",
		  cl->offstage ? "+uit" : "");
}

/* Clause c of m as test_clause_open reads it: 1 for an open question
 * (which only ever marks a question), else 0. */
static void describe_open(struct sbuf *sb, const struct match *m, size_t c)
{
	assert_true(!m->clause[c].open || m->clause[c].act == MATCH_VRAAG);
	sbuf_addf(sb, "%s%d", c ? " " : "", m->clause[c].open);
}

/* Runs every case through the matcher, checks that the clauses cover
 * the tokens in order within the text, and compares what describe
 * writes of them with the case's want; prints each mismatch. */
static void check_clause_cases(const struct clause_case *tab, size_t n,
			       void (*describe)(struct sbuf *,
						const struct match *, size_t))
{
	struct match m;
	struct script *s = load_opts("a", "");
	struct sbuf sb;
	size_t bad = 0;

	match_init(&m);
	sbuf_init(&sb);
	for (size_t i = 0; i < n; i++) {
		const char *t = tab[i].text;
		size_t prev_end = 0;

		match_run(&m, s, t, strlen(t));
		sbuf_reset(&sb);
		sbuf_adds(&sb, "");
		for (size_t c = 0; c < m.nclause; c++) {
			const struct match_clause *cl = &m.clause[c];

			assert_true(cl->ntok > 0);
			assert_true(cl->start >= prev_end);
			assert_true(cl->start + cl->len <= strlen(t));
			for (uint32_t k = cl->tok; k < cl->tok + cl->ntok; k++)
				assert_int_equal(m.tok_clause[k], c);
			prev_end = cl->start + cl->len;
			describe(&sb, &m, c);
		}
		if (strcmp(sb.buf ? sb.buf : "", tab[i].want)) {
			print_message("clause case %zu: \"%s\": \"%s\", want "
				      "\"%s\"\n", i, t, sb.buf ? sb.buf : "",
				      tab[i].want);
			bad++;
		}
	}
	sbuf_release(&sb);
	match_release(&m);
	script_free(s);
	assert_int_equal(bad, 0);
}

static void test_clauses(void **state)
{
	(void)state;
	check_clause_cases(clause_cases, ARRAY_LEN(clause_cases),
			   describe_scope);
}

/* Which clauses ask an open question (clause.h, open): 1 per clause. */
static void test_clause_open(void **state)
{
	static const struct clause_case open_cases[] = {
		{ "Wie brengt Daan naar school?", "1" },
		{ "Ik snap het. Hoe bedoel je?", "0 1" },
		{ "Bij wie kan je terecht?", "1" },
		{ "En waar werk je eigenlijk?", "1" },
		{ "Heb je een fiets?", "0" },
		{ "Wat doe je bij je club, speel je in het veld?", "1 0" },
		{ "Wat ik opschrijf krijg je eerst te lezen.", "0" },
		{ "Wat fijn!", "0" },
		{ "Wat een leuke kat heb je daar op je trui!", "0" },
		{ "Wat een mooie tekening is dat?", "0" },
		{ "Hoe gaat het? Ik ben Tom.", "1 0" },
		{ "hoe gaat het", "1" },
		/* a sentence ending in a full stop rarely asks */
		{ "Wat dat met Noa doet. Dat ze schrikt.", "0 0 0" },
	};

	(void)state;
	check_clause_cases(open_cases, ARRAY_LEN(open_cases), describe_open);
}

/* Another language: the builtin andere-taal and nothing else. */
static void test_language(void **state)
{
	static const struct {
		const char *text;
		int other;
	} lang_cases[] = {
		{ "Can you tell me what happened?", 1 },
		{ "I don't speak Dutch, sorry", 1 },
		{ "Where are the kids?", 1 },
		{ "Hello", 0 },
		{ "Sorry, thanks!", 0 },
		{ "Sorry, ik bedoel het niet zo.", 0 },
		{ "Oké, thanks, tot volgende week", 0 },
		{ "Ik snap het, is het weekend zwaar?", 0 },
		{ "Het is de bedoeling dat we samen een plan maken", 0 },
		/* mixed: the Dutch clause is what is heard */
		{ "Where do you live? Waar woont u?", 0 },
		{ "How are you doing? Oh wait, Nederlands. Hoe gaat ie?", 0 },
		{ "No no, I don't think that. Ik denk niet dat.", 0 },
		{ "Do you speak English? My Dutch is not so good.", 1 },
		/* an 'okay' and a Dutch-looking 'is' or 'me' do not make
		 * a clause Dutch */
		{ "Okay, got it. Is this thing actually understanding me, or "
		  "is it just matching keywords?", 1 },
		{ "Is this programme also available in English?", 1 },
		/* loanwords a Dutch trainee types stay Dutch */
		{ "Yes, please, dat is goed nieuws!", 0 },
		{ "Ik weet het ook niet, maar dat komt wel goed.", 0 },
		{ "", 0 },
	};
	struct script *s = load_opts("what", "");
	struct match m;
	uint32_t x = (uint32_t)script_find_intent(s, "x");
	uint32_t other = (uint32_t)script_find_intent(s, "andere-taal");
	size_t bad = 0;

	(void)state;
	assert_int_equal(other, (uint32_t)s->other_language);
	match_init(&m);
	for (size_t i = 0; i < ARRAY_LEN(lang_cases); i++) {
		const char *t = lang_cases[i].text;

		match_run(&m, s, t, strlen(t));
		if (m.lang_other != lang_cases[i].other ||
		    match_hit(&m, other) != lang_cases[i].other ||
		    match_intent(&m, s, other, t) != lang_cases[i].other ||
		    (lang_cases[i].other && match_hit(&m, x))) {
			print_message("language case %zu: \"%s\": other %d, "
				      "want %d\n", i, t, m.lang_other,
				      lang_cases[i].other);
			bad++;
		}
	}
	match_release(&m);
	script_free(s);
	assert_int_equal(bad, 0);
}

/* A message that mixes English and Dutch: patterns count in its Dutch
 * clauses only, and andere-taal does not fire. */
static void test_language_mixed(void **state)
{
	static const char text[] =
		"bedoeling woont\n  patroon: waar * (woont | live)\n"
		"bedoeling leeft\n  patroon: you live\n";
	static const char *const t[] = {
		"Where do you live? Waar woont u?",
		"Where do you live, Sandra?",
	};
	struct script *s = NULL;
	struct diag d;
	struct match m;
	uint32_t woont, leeft, other;

	(void)state;
	diag_init(&d);
	assert_int_equal(script_load_text("t.oef", text, strlen(text), &s,
					  &d), 0);
	diag_release(&d);
	woont = (uint32_t)script_find_intent(s, "woont");
	leeft = (uint32_t)script_find_intent(s, "leeft");
	other = (uint32_t)script_find_intent(s, "andere-taal");
	match_init(&m);
	match_run(&m, s, t[0], strlen(t[0]));
	assert_false(m.lang_other);
	assert_true(match_hit(&m, woont));
	assert_false(match_hit(&m, leeft));
	assert_false(match_hit(&m, other));
	assert_true(match_intent(&m, s, woont, t[0]));
	assert_false(match_intent(&m, s, leeft, t[0]));
	match_run(&m, s, t[1], strlen(t[1]));
	assert_true(m.lang_other);
	assert_true(match_hit(&m, other));
	assert_false(match_hit(&m, woont));
	match_release(&m);
	script_free(s);
}

/* A sentence about the rehearsal ("hoe werkt dit programma?") is
 * spoken outside it: no pattern counts in it, the rest of the message
 * is heard. */
static void test_offstage(void **state)
{
	static const char text[] =
		"bedoeling menselijk\n  patroon: (sorry | weet * niet)\n"
		"bedoeling vraagt-hoe\n  patroon: hoe gaat het\n"
		"bedoeling brief\n  patroon: de brief\n";
	static const struct {
		const char *text;
		const char *hits;     /* the intents found, in order */
	} off_cases[] = {
		{ "Sorry, ik weet niet hoe dit programma werkt.", "" },
		{ "Sorry, ik weet het niet.", "menselijk" },
		{ "Sorry, ik was met het programma bezig. Hoe gaat het?",
		  "vraagt-hoe" },
		{ "Ben jij een AI? Moet ik over de brief beginnen?", "brief" },
		{ "Moet ik over de brief beginnen, of leest de bot mee?", "" },
		{ "Sorry, dat kwam bot over.", "menselijk" },
	};
	struct script *s = NULL;
	struct diag d;
	struct match m;
	struct sbuf sb;
	size_t bad = 0;

	(void)state;
	diag_init(&d);
	assert_int_equal(script_load_text("t.oef", text, strlen(text), &s,
					  &d), 0);
	diag_release(&d);
	match_init(&m);
	sbuf_init(&sb);
	for (size_t i = 0; i < ARRAY_LEN(off_cases); i++) {
		match_run(&m, s, off_cases[i].text, strlen(off_cases[i].text));
		sbuf_reset(&sb);
		sbuf_adds(&sb, "");
		for (size_t k = 0; k < s->nintents; k++)
			if (match_hit(&m, (uint32_t)k))
				sbuf_addf(&sb, "%s%s", sb.len ? " " : "",
					  s->intents[k].name);
		if (strcmp(sb.buf, off_cases[i].hits)) {
			print_message("offstage case %zu: \"%s\": \"%s\", "
				      "want \"%s\"\n", i, off_cases[i].text,
				      sb.buf, off_cases[i].hits);
			bad++;
		}
	}
	sbuf_release(&sb);
	match_release(&m);
	script_free(s);
	assert_int_equal(bad, 0);
}

/* One script with many intents: every intent is judged on its own, and
 * state of the previous message does not leak into the next. */
static void test_many_intents(void **state)
{
	static const char text[] =
		"begrip jargon = ots, gi\n"
		"bedoeling groet\n  patroon: (hallo | dag)\n"
		"bedoeling jargon\n  patroon: ~jargon\n  ontkenning: nee\n"
		"bedoeling druk\n  patroon: je moet\n"
		"bedoeling vraag\n  patroon: <hoe gaat>\n"
		"bedoeling lang\n  patroon: * kinderen *\n";
	static const char one[] = "Dag, er komt een OTS. U moet niet.";
	static const char two[] = "Gaat het? Hoe? De kinderen";
	struct script *s = NULL;
	struct match m;
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_int_equal(script_load_text("t.oef", text, strlen(text), &s,
					  &d), 0);
	match_init(&m);
	match_run(&m, s, one, strlen(one));
	assert_int_equal(match_hit(&m, 0), 1);
	assert_int_equal(match_hit(&m, 1), 1);
	assert_int_equal(match_hit(&m, 2), 0);   /* niet after it */
	assert_int_equal(match_hit(&m, 3), 0);
	assert_int_equal(match_hit(&m, 4), 0);
	assert_span(&m.span[1], one, "OTS");
	match_run(&m, s, two, strlen(two));
	assert_int_equal(match_hit(&m, 0), 0);
	assert_int_equal(match_hit(&m, 1), 0);
	assert_int_equal(match_hit(&m, 3), 1);
	assert_int_equal(match_hit(&m, 4), 1);
	assert_span(&m.span[4], two, "De kinderen");
	match_run(&m, s, "", 0);
	for (uint32_t i = 0; i < s->nintents; i++)
		assert_int_equal(match_hit(&m, i), 0);
	match_release(&m);
	script_free(s);
	diag_release(&d);
}

/* A prefix as long as the longest normalised word (64 bytes) is found
 * by match_run's prefix index as well. */
static void test_long_prefix(void **state)
{
	char pat[80], text[100];
	struct script *s;
	struct match m;

	(void)state;
	memset(pat, 'a', 64);
	pat[64] = '*';
	pat[65] = '\0';
	memset(text, 'a', 64);
	memcpy(text + 64, "bbb x", 6);
	s = load_intent(pat, J);
	match_init(&m);
	match_run(&m, s, text, strlen(text));
	assert_int_equal(match_hit(&m, 0), 1);
	assert_int_equal(match_intent(&m, s, 0, text), 1);
	assert_int_equal(m.span[0].len, 67);
	match_release(&m);
	script_free(s);
}

/* ------------------------------------------- the shipped scripts agree */

static int is_oef(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".oef") == 0;
}

/* For every example sentence of every shipped script, match_run (the
 * first-word index) and match_intent (plain search per intent) agree
 * on every intent of that script. */
static void test_scripts_agree(void **state)
{
	const char *root = getenv("OEF_ROOT");
	struct sbuf dir, path;
	size_t nscripts = 0, nchecks = 0, bad = 0;
	struct match m;
	DIR *dp;
	struct dirent *de;

	(void)state;
	sbuf_init(&dir);
	sbuf_init(&path);
	sbuf_addf(&dir, "%s/scripts", root && *root ? root : ".");
	dp = opendir(dir.buf);
	assert_non_null(dp);
	match_init(&m);
	while ((de = readdir(dp)) != NULL) {
		struct script *s = NULL;
		struct diag d;

		if (!is_oef(de->d_name))
			continue;
		sbuf_reset(&path);
		sbuf_addf(&path, "%s/%s", dir.buf, de->d_name);
		diag_init(&d);
		if (script_load(path.buf, &s, &d) < 0) {
			/* check's business, not ours: say so and go on */
			print_message("%s does not load; skipped\n", path.buf);
			print_diags(&d);
			diag_release(&d);
			continue;
		}
		diag_release(&d);
		nscripts++;
		for (size_t i = 0; i < s->nintents; i++) {
			const struct intent *in = &s->intents[i];

			for (size_t e = 0; e < in->nexamples; e++) {
				const char *t = in->examples[e].text;
				uint8_t *hits = xmalloc(s->nintents);

				match_run(&m, s, t, strlen(t));
				/* the patterns' hits: the index against the
				 * slow path (model hits are model.c's) */
				for (size_t j = 0; j < s->nintents; j++)
					hits[j] = m.hit_how[j] == MATCH_BY_PATTERN;
				for (size_t j = 0; j < s->nintents; j++) {
					int one = match_intent(&m, s,
							       (uint32_t)j, t);

					nchecks++;
					if (one == hits[j])
						continue;
					print_message("%s: \"%s\": intent %s: "
						      "match_run %d, "
						      "match_intent %d\n",
						      path.buf, t,
						      s->intents[j].name,
						      hits[j], one);
					bad++;
				}
				free(hits);
			}
		}
		script_free(s);
	}
	closedir(dp);
	match_release(&m);
	sbuf_release(&dir);
	sbuf_release(&path);
	assert_true(nscripts > 0);
	assert_true(nchecks > 0);
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------ hostile input */

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The shipped scripts against 1 MB of their own example sentences, once
 * as written and once without punctuation (one long clause, the worst
 * case for '*'): every call returns. */
static void test_scripts_hostile(void **state)
{
	const char *root = getenv("OEF_ROOT");
	size_t n = 1u << 20;
	char *buf = xmalloc(n + 1);
	struct sbuf dir, path, all;
	struct match m;
	DIR *dp;
	struct dirent *de;

	(void)state;
	sbuf_init(&dir);
	sbuf_init(&path);
	sbuf_init(&all);
	sbuf_addf(&dir, "%s/scripts", root && *root ? root : ".");
	dp = opendir(dir.buf);
	assert_non_null(dp);
	match_init(&m);
	while ((de = readdir(dp)) != NULL) {
		struct script *s = NULL;
		struct diag d;
		double t0;

		if (!is_oef(de->d_name))
			continue;
		sbuf_reset(&path);
		sbuf_addf(&path, "%s/%s", dir.buf, de->d_name);
		diag_init(&d);
		if (script_load(path.buf, &s, &d) < 0) {
			diag_release(&d);
			continue;
		}
		diag_release(&d);
		sbuf_reset(&all);
		for (size_t i = 0; i < s->nintents; i++)
			for (size_t e = 0; e < s->intents[i].nexamples; e++) {
				sbuf_adds(&all, s->intents[i].examples[e].text);
				sbuf_addc(&all, ' ');
			}
		if (!all.len) {
			script_free(s);
			continue;
		}
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < n; i++) {
				char ch = all.buf[i % all.len];

				if (pass && strchr(".,?!;:\n", ch))
					ch = ' ';
				buf[i] = ch;
			}
			buf[n] = '\0';
			t0 = seconds();
			match_run(&m, s, buf, n);
			for (uint32_t i = 0; i < s->nintents; i++)
				match_intent(&m, s, i, buf);
			print_message("%s, 1 MB%s: %.3f s\n", de->d_name,
				      pass ? " in one clause" : "",
				      seconds() - t0);
		}
		script_free(s);
	}
	closedir(dp);
	match_release(&m);
	sbuf_release(&dir);
	sbuf_release(&path);
	sbuf_release(&all);
	free(buf);
}

/* Patterns that backtrack a lot, against 1 MB messages: every call
 * returns, within the step budget (seconds, not minutes, even under
 * valgrind), and gives the same answer both ways. */
static void test_hostile(void **state)
{
	static const char pats[] =
		"hoe * * * * gaat\n"
		"[hoe] * * * ~welzijn * nu\n"
		"<hoe * * * * gaat>\n"
		"(hoe | hoe hoe) (hoe | hoe hoe) * * (gaat | ~jargon)\n"
		"hoe* * * * * x\n";
	static const char *fills[] = {
		"hoe ", "hoe hoe, ", "h\xc3\xa9 ", "\xff\xfe\xc3 ", "\xe9",
		"a", "hoe\0", "niet hoe ", "veiligheid ", "\xf4\x90\x80\x80",
	};
	size_t n = 1u << 20;
	char *buf = xmalloc(n + 1);
	struct script *s = load_intent(pats, J);
	struct match m;

	(void)state;
	match_init(&m);
	for (size_t f = 0; f < ARRAY_LEN(fills); f++) {
		size_t fl = strlen(fills[f]) ? strlen(fills[f]) : 1;
		double t0;
		int run, one;

		if (f == 6)
			fl = 4;   /* with its NUL byte */
		for (size_t i = 0; i < n; i += fl)
			memcpy(buf + i, fills[f], i + fl <= n ? fl : n - i);
		buf[n] = '\0';
		t0 = seconds();
		match_run(&m, s, buf, n);
		run = match_hit(&m, 0);
		one = match_intent(&m, s, 0, buf);
		if (f != 6)   /* match_intent stops at the NUL */
			assert_int_equal(run, one);
		/* generous: a few ms plain, well under this with valgrind */
		assert_true(seconds() - t0 < 60.0);
	}
	/* random bytes */
	srand(42);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(rand() & 0xff);
	buf[n] = '\0';
	match_run(&m, s, buf, n);
	match_release(&m);
	script_free(s);
	free(buf);
}

/* match_run may not spend more than the step budget per intent: with a
 * pattern that cannot match and backtracks on every start, a 1 MB
 * message takes about as long as match_intent does. */
/* 'tenzij': an intent found beside one it names is taken back, from
 * its own block or from an aanvulling; an unknown name, or its own,
 * is an error at its place. */
static void test_unless(void **state)
{
	static const char text[] =
		"bedoeling jargon\n"
		"  patroon: risicotaxatie\n"
		"  patroon: ots\n"
		"  tenzij: legt-uit\n"
		"bedoeling legt-uit\n"
		"  patroon: betekent\n"
		"bedoeling groet\n"
		"  patroon: hallo\n"
		"aanvulling jargon\n"
		"  tenzij: groet\n";
	struct script *s = NULL;
	struct match m;
	struct diag d;
	int j, l, g;

	(void)state;
	diag_init(&d);
	assert_int_equal(script_load_text("t.oef", text, strlen(text), &s,
					  &d), 0);
	j = script_find_intent(s, "jargon");
	l = script_find_intent(s, "legt-uit");
	g = script_find_intent(s, "groet");
	assert_int_equal(s->intents[j].nunless, 2);
	match_init(&m);
	match_run(&m, s, "We doen een risicotaxatie.", 26);
	assert_true(match_hit(&m, (uint32_t)j));
	match_run(&m, s, "Een risicotaxatie betekent dat we samen kijken.", 47);
	assert_false(match_hit(&m, (uint32_t)j));
	assert_int_equal(m.hit_how[j], 0);
	assert_int_equal(m.span[j].len, 0);
	assert_true(match_hit(&m, (uint32_t)l));
	/* in another sentence of the message too; and by the aanvulling */
	match_run(&m, s, "Er komt een OTS. Dat betekent: iemand kijkt mee.",
		  48);
	assert_false(match_hit(&m, (uint32_t)j));
	match_run(&m, s, "Hallo, ik kom voor de risicotaxatie.", 36);
	assert_false(match_hit(&m, (uint32_t)j));
	assert_true(match_hit(&m, (uint32_t)g));
	/* the examples' test agrees */
	assert_int_equal(match_intent(&m, s, (uint32_t)j,
				      "We doen een risicotaxatie."), 1);
	assert_int_equal(match_intent(&m, s, (uint32_t)j,
				      "De risicotaxatie betekent dit."), 0);
	match_release(&m);
	script_free(s);
	diag_release(&d);

	diag_init(&d);
	s = NULL;
	{
		static const char bad[] =
			"bedoeling a\n  patroon: x\n"
			"  tenzij: b | nergens\n"
			"bedoeling b\n  patroon: y\n"
			"  tenzij: b\n";

		assert_true(script_load_text("u.oef", bad, strlen(bad), &s,
					     &d) < 0);
	}
	assert_int_equal(d.n, 2);
	assert_non_null(strstr(d.msgs[0], "u.oef:3:15: tenzij: onbekende "
				"bedoeling 'nergens'"));
	assert_non_null(strstr(d.msgs[1], "u.oef:6:11: tenzij: 'b' noemt "
				"zichzelf"));
	diag_release(&d);
}

static void test_budget(void **state)
{
	size_t n = 1u << 20;
	char *buf = xmalloc(n + 1);
	struct script *s = load_intent("hoe * * * * gaat", J);
	struct match m;
	double t0, t_run, t_one;

	(void)state;
	for (size_t i = 0; i < n; i += 4)
		memcpy(buf + i, "hoe ", 4);
	buf[n] = '\0';
	match_init(&m);
	t0 = seconds();
	match_intent(&m, s, 0, buf);
	t_one = seconds() - t0;
	t0 = seconds();
	match_run(&m, s, buf, n);
	t_run = seconds() - t0;
	print_message("1 MB, backtracking: match_intent %.3f s, "
		      "match_run %.3f s\n", t_one, t_run);
	assert_int_equal(match_hit(&m, 0), 0);
	assert_true(t_run < 10 * t_one + 0.5);
	match_release(&m);
	script_free(s);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_real_words_sorted),
		cmocka_unit_test(test_act_reach),
		cmocka_unit_test(test_clauses),
		cmocka_unit_test(test_clause_open),
		cmocka_unit_test(test_language),
		cmocka_unit_test(test_language_mixed),
		cmocka_unit_test(test_offstage),
		cmocka_unit_test(test_many_intents),
		cmocka_unit_test(test_long_prefix),
		cmocka_unit_test(test_scripts_agree),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_scripts_hostile),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_unless),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
