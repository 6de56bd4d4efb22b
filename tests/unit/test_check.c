/* test_check.c - check.h: a sound scenario passes with every figure as
 * counted by hand; each kind of problem is found, named with its place,
 * and counted; warnings are listed but not counted.
 *
 * The scenarios are one base text with slots (@VRAAGT@ more lines for
 * the intent 'vraagt', @DREIGT@ for 'dreigt', @TAAL@ the rule for another language, @BEGIN@
 * more lines for phase 'begin', @MEER@ more phases or endings, @BREUK@
 * the 'breuk' ending) filled per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util.h"

static const char base[] =
	"scenario t\n"
	"titel: T\n"
	"persona: linda\n"
	"inleiding:\n"
	"> Hier.\n"
	"var vertrouwen = 3 (0..10)\n"
	"var spanning = 5 (0..10)\n"
	"punt luistert: Luistert\n"
	"bedoeling vraagt\n"
	"  patroon: hoe gaat het\n"
	"  ja: hoe gaat het [+luistert]\n"
	"  nee: hoe laat is het\n"
	"@VRAAGT@"
	"bedoeling dreigt\n"
	"  patroon: rechter\n"
	"  ja: de rechter\n"
	"@DREIGT@"
	"bedoeling bye\n"
	"  patroon: doei\n"
	"  ja: doei\n"
	"@TAAL@"
	"fase begin\n"
	"  zeg\n"
	"  - Goedemiddag.\n"
	"  als vraagt\n"
	"    vertrouwen +3\n"
	"    punt luistert getoond\n"
	"    zeg\n"
	"    - Gaat wel.\n"
	"  als dreigt\n"
	"    spanning +5\n"
	"    zeg\n"
	"    - Wat?\n"
	"  anders\n"
	"@BEGIN@"
	"    zeg\n"
	"    - Hm.\n"
	"standaard\n"
	"  zodra vertrouwen >= 9\n"
	"    naar goed\n"
	"  zodra spanning >= 10\n"
	"    naar breuk\n"
	"  als bye\n"
	"    naar neutraal\n"
	"einde goed goed\n"
	"  zeg\n"
	"  - Fijn.\n"
	"@BREUK@"
	"einde neutraal neutraal\n"
	"  zeg\n"
	"  - Dag.\n"
	"@MEER@";

static const char taal[] =
	"regel taal\n"
	"  als andere-taal\n"
	"  zeg\n"
	"  - Ik versta u niet.\n";

static const char breuk[] =
	"einde breuk breuk\n"
	"  zeg\n"
	"  - Weg.\n";

/* The slots of base, each NULL for its default. */
struct slots {
	const char *vraagt, *dreigt, *taal, *begin, *meer, *breuk;
};

struct fx {
	struct script *s;
	struct check_result r;
	struct diag d;
	size_t problems;
};

static void fill(struct sbuf *out, const struct slots *sl)
{
	const struct {
		const char *name, *text;
	} v[] = {
		{ "@VRAAGT@", sl->vraagt ? sl->vraagt : "" },
		{ "@DREIGT@", sl->dreigt ? sl->dreigt : "" },
		{ "@TAAL@", sl->taal ? sl->taal : taal },
		{ "@BEGIN@", sl->begin ? sl->begin : "" },
		{ "@MEER@", sl->meer ? sl->meer : "" },
		{ "@BREUK@", sl->breuk ? sl->breuk : breuk },
	};
	const char *p = base;

	while (*p) {
		size_t i;

		for (i = 0; i < ARRAY_LEN(v); i++)
			if (strncmp(p, v[i].name, strlen(v[i].name)) == 0)
				break;
		if (i < ARRAY_LEN(v)) {
			sbuf_adds(out, v[i].text);
			p += strlen(v[i].name);
		} else {
			sbuf_addc(out, *p++);
		}
	}
}

/* Load the filled base and check it; the script must load. */
static void run(struct fx *f, const struct slots *sl)
{
	struct sbuf text;
	struct diag ld;

	sbuf_init(&text);
	fill(&text, sl);
	diag_init(&ld);
	if (script_load_text("t.oef", text.buf, text.len, &f->s, &ld) < 0)
		for (size_t i = 0; i < ld.n; i++)
			print_message("load: %s\n", ld.msgs[i]);
	diag_release(&ld);
	sbuf_release(&text);
	assert_non_null(f->s);
	diag_init(&f->d);
	f->problems = check_script(f->s, &f->r, &f->d);
}

static void done(struct fx *f)
{
	check_result_release(&f->r);
	diag_release(&f->d);
	script_free(f->s);
}

/* The number of messages in list holding needle. */
static size_t count(const struct diag *list, const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < list->n; i++)
		n += strstr(list->msgs[i], needle) != NULL;
	return n;
}

static void print_all(const struct fx *f)
{
	for (size_t i = 0; i < f->d.n; i++)
		print_message("problem: %s\n", f->d.msgs[i]);
	for (size_t i = 0; i < f->r.warnings.n; i++)
		print_message("warning: %s\n", f->r.warnings.msgs[i]);
}

static void test_sound(void **state)
{
	struct fx f = { 0 };
	const struct slots sl = { 0 };

	run(&f, &sl);
	if (f.problems || f.r.warnings.n)
		print_all(&f);
	assert_int_equal(f.problems, 0);
	assert_int_equal(f.d.n, 0);
	assert_int_equal(f.r.warnings.n, 0);
	/* ja: hoe gaat het, nee: hoe laat is het, ja: de rechter, ja: doei */
	assert_int_equal(f.r.examples, 4);
	assert_int_equal(f.r.examples_failed, 0);
	/* begin, goed, breuk, neutraal */
	assert_int_equal(f.s->nnodes, 4);
	assert_int_equal(f.r.unreachable, 0);
	for (size_t i = 0; i < f.s->nnodes; i++)
		assert_int_equal(f.r.reached[i], 1);
	assert_int_equal(f.r.endings[END_GOED], 1);
	assert_int_equal(f.r.endings[END_BREUK], 1);
	assert_int_equal(f.r.endings[END_NEUTRAAL], 1);
	/* Ik versta u niet, Goedemiddag, Gaat wel, Wat?, Hm, Fijn, Weg,
	 * Dag */
	assert_int_equal(f.r.lines, 8);
	assert_int_equal(f.r.points_used[0], 1);
	assert_true(f.r.states > 0);
	assert_true(f.r.turns > 0);
	done(&f);
}

/* A 'ja:' that does not match and a 'nee:' that does: two problems,
 * each at its own line. */
static void test_examples(void **state)
{
	struct fx f = { 0 };
	const struct slots sl = {
		.vraagt = "  ja: goedemorgen\n"
			  "  nee: hoe gaat het met u\n",
	};

	run(&f, &sl);
	assert_int_equal(f.r.examples, 6);
	assert_int_equal(f.r.examples_failed, 2);
	assert_int_equal(count(&f.d, "t.oef:13:"), 1);
	assert_int_equal(count(&f.d, "voorbeeld past niet op bedoeling "
			       "'vraagt': goedemorgen"), 1);
	assert_int_equal(count(&f.d, "t.oef:14:"), 1);
	assert_int_equal(count(&f.d, "voorbeeld past toch op bedoeling "
			       "'vraagt'"), 1);
	assert_int_equal(f.problems, 2);
	done(&f);
}

/* A phase nothing leads to: unreachable, counted, named. */
static void test_unreachable(void **state)
{
	struct fx f = { 0 };
	const struct slots sl = {
		.meer = "fase vergeten\n"
			"  zeg\n"
			"  - Nooit gezegd.\n",
	};

	run(&f, &sl);
	assert_int_equal(f.r.unreachable, 1);
	assert_int_equal(count(&f.d, "fase 'vergeten' is niet te "
			       "bereiken"), 1);
	assert_int_equal(f.problems, 1);
	done(&f);
}

/* Without an ending 'breuk' (and the way to it) and without a rule for
 * another language: one problem each. */
static void test_missing_parts(void **state)
{
	struct fx f = { 0 };
	struct slots sl = { 0 };
	static const char no_rule[] = "# geen regel voor andere talen\n";

	sl.taal = no_rule;
	run(&f, &sl);
	assert_int_equal(count(&f.d, "reageert nergens op"), 1);
	assert_int_equal(f.problems, 1);
	done(&f);

	memset(&f, 0, sizeof(f));
	sl.taal = NULL;
	sl.breuk = "einde breuk neutraal\n  zeg\n  - Weg.\n";
	run(&f, &sl);
	assert_int_equal(f.r.endings[END_BREUK], 0);
	assert_int_equal(count(&f.d, "heeft geen einde 'breuk'"), 1);
	assert_int_equal(f.problems, 1);
	done(&f);
}

/* An example that lists a moment no phase gives. */
static void test_moment_never_given(void **state)
{
	struct fx f = { 0 };
	const struct slots sl = { .dreigt = "  ja: bij de rechter "
					    "[+luistert]\n" };

	run(&f, &sl);
	assert_int_equal(count(&f.d, "t.oef:16:"), 1);
	assert_int_equal(count(&f.d, "voorbeeld zou +luistert krijgen, maar "
			       "krijgt dat in geen enkele fase"), 1);
	assert_int_equal(f.problems, 1);
	done(&f);
}

/* 'anders' lowering tension when nothing was recognised: a warning, not
 * a problem. */
static void test_tension_warning(void **state)
{
	struct fx f = { 0 };
	const struct slots sl = { .begin = "    spanning -1\n" };

	run(&f, &sl);
	if (f.problems)
		print_all(&f);
	assert_int_equal(f.problems, 0);
	assert_int_equal(count(&f.r.warnings, "'anders' verlaagt spanning"),
			 1);
	done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sound),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_missing_parts),
		cmocka_unit_test(test_moment_never_given),
		cmocka_unit_test(test_tension_warning),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
