/* scenario_small.h - one small, sound scenario for the tests that need
 * some scenario but not a particular one (test_session, test_catalog,
 * the bot fuzz target): persona, title and difficulty as asked, the two
 * meters, the point 'luistert', the intents 'vraagt' ("hoe gaat het":
 * vertrouwen +3, luistert shown, "Gaat wel.") and 'bye' ("doei": the
 * ending 'neutraal'), a rule for another language, anything else
 * "Hm." with spanning +2, and the endings goed, breuk and neutraal. */
#ifndef OEF_TESTS_SCENARIO_SMALL_H
#define OEF_TESTS_SCENARIO_SMALL_H

#include "util.h"

static __attribute__((unused)) void scenario_small(struct sbuf *sb,
		const char *id, int difficulty, const char *persona)
{
	sbuf_addf(sb,
		  "scenario %s\n"
		  "titel: Titel van %s\n"
		  "persona: %s\n"
		  "moeilijkheid: %d\n"
		  "inleiding:\n"
		  "> Je bent hier.\n"
		  "var vertrouwen = 3 (0..10)\n"
		  "var spanning = 5 (0..10)\n"
		  "punt luistert: Luistert\n"
		  "bedoeling vraagt\n"
		  "  patroon: hoe gaat het\n"
		  "  ja: hoe gaat het\n"
		  "bedoeling bye\n"
		  "  patroon: doei\n"
		  "  ja: doei\n"
		  "regel taal\n"
		  "  als andere-taal\n"
		  "  zeg\n"
		  "  - Ik versta u niet.\n"
		  "fase begin\n"
		  "  zeg\n"
		  "  - Goedemiddag.\n"
		  "  als vraagt\n"
		  "    vertrouwen +3\n"
		  "    punt luistert getoond\n"
		  "    zeg\n"
		  "    - Gaat wel.\n"
		  "  anders\n"
		  "    spanning +2\n"
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
		  "einde breuk breuk\n"
		  "  zeg\n"
		  "  - Weg.\n"
		  "einde neutraal neutraal\n"
		  "  zeg\n"
		  "  - Dag.\n", id, id, persona, difficulty);
}

#endif
