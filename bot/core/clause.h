/* clause.h - a normalised message split into clauses, each with its
 * dialogue act and what scopes over it (docs/scenariotaal.md,
 * "Zinsdelen").
 *
 * A clause ends at . ? ! , ; : or a newline (the breaks norm.h records),
 * at an opening or closing quotation mark, and before a conjunction that
 * starts a clause of its own: maar, want, omdat, doordat, zodat, terwijl,
 * hoewel, tenzij, indien, als/wanneer when a subject follows, en before a
 * pronoun, and dat after a verb ("ik hoor | dat u schrok"). "volgens
 * school" is a frame clause of its own. In a message without a question
 * mark (dictated) a question word with its verb and subject after it
 * starts a question mid-sentence ("… in een half jaar | hoe was dat
 * voor u"), not after a verb of knowing or asking. A condition typed
 * without its comma ends at the main clause's verb and person or its
 * question word ("als het niet gaat | kun je bij oma terecht").
 *
 *   negated      the clause holds niet, geen, nooit, niks, niets or
 *                niemand (not "niet alleen", "of niet", "wel en niet"), or it is
 *                the dat-clause of a negated one ("ik zeg niet | dat…");
 *   reported     someone else's words: inside quotation marks
 *                (double ones, or a pair of single ones: "met
 *                'risicotaxatie' erin"; an apostrophe of "'s avonds",
 *                "auto's", "Thijs' moeder" is none), the
 *                content after a frame that names another speaker or a
 *                letter ("uw ex schrijft | dat…", "in de brief staat
 *                | dat…", "volgens school | …", "ze zeggen: …"). The
 *                frame itself is the trainee's own clause; "ik denk
 *                dat", "volgens mij" report nobody;
 *   conditional  it starts with als, wanneer, tenzij or indien (not
 *                "als ik vraag waar je woont", a question asked with
 *                leave);
 *   offstage     its sentence talks about the rehearsal, not in it: a
 *                word that names the exercise (programma, rollenspel,
 *                chatbot, simulatie, oefenkamer, …; bot, AI, oefening,
 *                acteur, scenario after an article; not "tv-programma"). Nothing
 *                counts in it (match.c, model.c);
 *   act          voorstel (zullen we, laten we, kunnen we, ik kan je…,
 *                je kunt mij…), belofte (ik beloof, ik zal, ik zorg
 *                ervoor…), vraag (a sentence ending in ?, a question
 *                word first, or verb then pronoun first: "heb je…",
 *                but not after als/dan/anders: "dan kun je mij
 *                bellen" offers, it asks nothing; or an indirect
 *                question: "ik wil graag weten wat…", "vertel eens
 *                hoe…", "ik ben benieuwd of…"; in a run-on sentence
 *                ending in a question of its own, the clauses before
 *                it that start with their subject state: "ik ben er
 *                het komende jaar, wat denk jij?"),
 *                otherwise mededeling;
 *   open         a vraag led by a question word (after a preposition:
 *                "bij wie"): "Wie brengt hem?", "Hoe bedoel je?"; not
 *                in a sentence ending in '.' or '!' ("wat dat met Noa
 *                doet."), nor "wat een…", "wat leuk…", which exclaim.
 *                A yes does not answer it (engine.c).
 *
 * Deterministic and allocation-free: the caller passes room for one
 * clause per token.
 */
#ifndef OEF_CLAUSE_H
#define OEF_CLAUSE_H

#include <stddef.h>
#include <stdint.h>

#include "match.h"
#include "norm.h"

/* Split the n->ntok tokens of text (len bytes, what n was run on) into
 * clauses. cl has room for max(n->ntok, 1) clauses; tok_clause gets each
 * token's clause index. Returns the number of clauses (0 for no tokens). */
size_t clause_split(const struct norm *n, const char *text, size_t len,
		    struct match_clause *cl, uint32_t *tok_clause);

/* 1 if token i of n is a negation that scopes: norm_is_negation, but
 * not the niet of "niet alleen"/"niet enkel", "of niet" or "wel en
 * niet". */
int clause_is_negation(const struct norm *n, size_t i);

/* Is token i a 'moet/moeten' of supposition, not of obligation: "dat
 * moet u hebben laten schrikken", "dat moet zwaar geweest zijn", "dat
 * moet heftig zijn" (a perfect infinitive after it in its clause, or
 * 'zijn' with a word of feeling)? Such a 'moet' asks nothing of anyone;
 * the matcher reads it as 'lijkt'. */
int clause_is_supposition(const struct norm *n, size_t i);

/* 1 if clause c is a summary's frame: "(dus) als ik het goed hoor /
 * begrijp / heb begrepen", "als ik je goed begrijp". The clauses after
 * it in its sentence are reported: the client's story told back. */
int clause_summary_frame(const struct norm *n, const struct match_clause *c);

/* 1 if token i of n is the trainee speaking of themself: ik, we, wij,
 * ikzelf. */
int clause_is_first_person(const struct norm *n, size_t i);

/* The Dutch name of an act: "mededeling", "vraag", "voorstel",
 * "belofte". */
const char *clause_act_name(unsigned act);

/* The act named name (Dutch, as above), or -1. */
int clause_act_parse(const char *name, size_t len);

#endif
