/* script.h - a parsed scenario script (docs/scenariotaal.md).
 *
 * script_load() reads a .oef file and its includes into one immutable
 * struct script: names are resolved to indices, pattern words are interned,
 * every error carries file:line:col. The engine, check and graph modules
 * read these structures directly; nothing changes them after loading.
 */
#ifndef OEF_SCRIPT_H
#define OEF_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include "lexicon.h"
#include "mcache.h"
#include "util.h"

#define SCRIPT_MAX_MSGS 3      /* persona messages per turn */
#define SCRIPT_MAX_LINE 4000   /* bytes per source line */
#define SCRIPT_MAX_FILE (4u << 20)
#define SCRIPT_MAX_INCLUDES 32

/* Where something was written: for error messages. */
struct loc {
	const char *file;  /* borrowed from the script's file list */
	int line;
	int col;
};

/* --- patterns -------------------------------------------------------- */

enum pat_kind {
	PAT_WORD,       /* one word: word id */
	PAT_PREFIX,     /* word*: text */
	PAT_ANY,        /* * : zero or more words in the clause */
	PAT_OPT,        /* [seq]: subs[0] */
	PAT_ALT,        /* (a | b): subs */
	PAT_CONCEPT,    /* ~name: concept index, resolved */
	PAT_UNORDERED,  /* <a b c>: each of subs anywhere, any order */
	PAT_START,      /* ^ : the start of a clause (takes no word) */
	PAT_END         /* $ : the end of a clause (takes no word) */
};

struct pat_seq;

/* A pattern tree has some 40,000 elements and 20,000 sequences in the
 * shipped catalog, so both are packed (32 bytes each): counts and
 * lengths in 16 bits (a pattern is one line, at most SCRIPT_MAX_LINE
 * bytes, and every element takes at least one byte of it), the kind in
 * a byte, and no source location (the one message that needs it,
 * an unknown ~concept, is given during the load from the parser's own
 * list; script.c). */
_Static_assert(SCRIPT_MAX_LINE < UINT16_MAX, "pattern counts in 16 bits");

struct pat {
	char *text;             /* PAT_PREFIX: normalised prefix;
				 * PAT_CONCEPT: concept name */
	struct pat_seq *subs;   /* PAT_OPT, PAT_ALT, PAT_UNORDERED */
	uint32_t word;          /* PAT_WORD: id in script->words;
				 * PAT_PREFIX: id of "text*" (index only) */
	uint32_t concept;       /* PAT_CONCEPT: index, after resolving */
	uint16_t len;           /* strlen(text) */
	uint16_t nsubs;
	uint8_t kind;           /* enum pat_kind */
	uint8_t exact;          /* PAT_WORD written =word: this form only,
				 * not another inflection, slip or compound */
};

#define REQ_GROUP 0x80000000u
#define REQ_CONCEPT 0x40000000u

/* The Bloom filter of prefix beginnings (struct script, pfx_begin):
 * its size, and the hash it is filled and asked with. */
#define SCRIPT_PFX_BITS 8192
#define SCRIPT_PFX_H0 2166136261u
static inline uint32_t script_pfx_step(uint32_t h, unsigned char c)
{
	return (h ^ c) * 16777619u;
}

struct pat_seq {
	struct pat *el;
	/* Top-level patterns only (built at load): what every match
	 * contains, so a message without it is skipped at once. An entry
	 * is a lexicon class that must be present, or REQ_GROUP | k
	 * followed by k atoms of which one must be: a class, or
	 * REQ_CONCEPT | concept index (a word its match can start with;
	 * struct script's concept_of). */
	uint32_t *req;
	uint16_t n;
	uint16_t nreq;
	/* An alternative (of (a|b) or of a concept) that is one plain
	 * word, not =exact: its lexicon class, so that matching tests it
	 * without reading el; 0 otherwise. Built at load. */
	uint32_t one_cls;
	/* Top-level patterns only: the options of the bedoeling or
	 * aanvulling block the pattern was written in. */
	uint8_t guard;          /* ontkenning: ja — void in a negated clause */
	uint8_t acts;           /* handeling: bit (1 << enum match_act) per
				 * act allowed; 0 = any act */
	uint8_t own_acts;       /* written "patroon (vraag): …": acts are
				 * the pattern's own, not the block's */
	uint8_t reported_ok;    /* citaat: ja — counts in someone else's
				 * words too */
	uint8_t cond_ok;        /* voorwaarde: ja (default) — counts in an
				 * als-clause too */
	uint8_t says_neg;       /* names a negation word itself ("als je
				 * niet"): a negation inside its match is
				 * its own, not one that voids it. Built at
				 * load. */
};

/* --- conditions ------------------------------------------------------ */

enum expr_kind { EXPR_AND, EXPR_OR, EXPR_NOT, EXPR_INTENT, EXPR_CMP };
enum cmp_op { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

/* v op value, for a condition's comparison (engine.c, check.c). */
static inline int cmp_apply(enum cmp_op op, int v, int value)
{
	switch (op) {
	case CMP_EQ:
		return v == value;
	case CMP_NE:
		return v != value;
	case CMP_LT:
		return v < value;
	case CMP_LE:
		return v <= value;
	case CMP_GT:
		return v > value;
	case CMP_GE:
		return v >= value;
	}
	return 0;
}

/* Builtin variables come after the script's own: index nvars + BUILTIN_*. */
/* eerder: in a variant's condition, how many lines of that 'zeg' were
 * said before in this rehearsal (0 elsewhere). */
enum { BUILTIN_BEURT, BUILTIN_GEMIST, BUILTIN_EERDER, BUILTIN_COUNT };

/* Pointers first: 56 bytes, not 64 with the padding after kind (a
 * catalog holds some 4,000; malloc rounds 56 to 64, 64 to 80). */
struct expr {
	struct expr *a, *b;     /* AND, OR: both; NOT: a */
	char *name;             /* INTENT, CMP: as written */
	struct loc loc;
	enum expr_kind kind;
	uint32_t index;         /* INTENT: intent index; CMP: variable */
	enum cmp_op op;
	int value;              /* CMP: the number; INTENT: the acts it
				 * must have been said as, "naam (vraag)":
				 * mask as in pat_seq.acts, 0 = any */
	/* AND, OR of a whole condition (built at load): index and value
	 * are its gate in script.gates, the offset and the count (0: none):
	 * see script_gate. The fields are unused otherwise in these kinds,
	 * so the gate costs the many small nodes nothing. */
};

/* --- actions --------------------------------------------------------- */

struct variant {
	struct expr *cond;                  /* or NULL */
	char *msgs[SCRIPT_MAX_MSGS];        /* nmsgs lines */
	size_t nmsgs;
	uint32_t index;                     /* global, for least-recently-used */
	char *elab;                         /* toelichting: said when the
					     * trainee asks what this line
					     * means, or NULL */
	/* Line ids (built at load): the same text has the same id
	 * anywhere in the script, so the engine can tell a line was
	 * already said in this rehearsal. */
	uint32_t line[SCRIPT_MAX_MSGS];     /* per message */
	uint32_t elab_line;                 /* of elab, if any */
	struct loc loc;
};

enum action_kind {
	ACT_ADD,        /* var += value */
	ACT_SET,        /* var = value */
	ACT_SAY,        /* one of variants */
	ACT_GOTO,       /* node = target */
	ACT_POINT,      /* rubric moment */
	ACT_INTERRUPT,  /* skip phase transitions this turn (rules only) */
	ACT_ACK,        /* erkenning: one of variants, said only when this
			 * 'als' counts beside a more important one */
	ACT_REPEAT,     /* herhaald (standaard only): one of variants, said
			 * before the answer to a question just asked */
	ACT_FILLER,     /* uitwijk (standaard only): said instead when
			 * every line of a 'zeg' was said already */
	ACT_VAGUE,      /* verduidelijk (standaard only): said when asked
			 * what a line without toelichting means */
	ACT_UNSAID      /* niet-gezegd (standaard only): said when the
			 * trainee quotes words the persona never said */
};

/* Where a rubric moment comes from: a point, a side, and the reason
 * the debrief gives (borrowed from the first action with it; NULL for
 * none). */
struct point_src {
	uint32_t point;
	int shown;
	const char *reason;
};

struct action {
	enum action_kind kind;
	char *name;             /* var, target or point, as written */
	uint32_t index;         /* resolved var, node or point index */
	int value;              /* ADD/SET amount; POINT: 1 shown, 0 missed */
	char *reason;           /* POINT: optional */
	uint32_t src;           /* POINT: its moment source (script->srcs) */
	struct variant *variants;  /* SAY */
	size_t nvariants;
	struct loc loc;
};

struct action_list {
	struct action *v;
	size_t n;
};

/* --- rules, phases, endings ------------------------------------------ */

enum trig_kind { TRIG_ALS, TRIG_ZODRA, TRIG_ANDERS };

struct transition {
	enum trig_kind kind;
	struct expr *cond;      /* NULL for ANDERS */
	struct action_list acts;
	struct loc loc;
};

struct rule {
	char *name;
	enum trig_kind kind;    /* ALS or ZODRA */
	struct expr *cond;
	int once;               /* eenmalig */
	int interrupt;          /* has an onderbreek action */
	struct action_list acts;
	struct loc loc;
};

enum node_kind { NODE_FASE, NODE_EINDE, NODE_STANDAARD };
enum ending_kind { END_NONE, END_GOED, END_BREUK, END_NEUTRAAL };

struct node {
	char *name;
	enum node_kind kind;
	enum ending_kind ending;
	struct action_list enter;   /* said/done when entering */
	struct transition *trans;   /* ALS and ZODRA, in order */
	size_t ntrans;
	struct transition *fallbacks; /* ANDERS, in order */
	size_t nfallbacks;
	char *explain;              /* einde: uitleg, or NULL */
	struct loc loc;
};

/* --- declarations ---------------------------------------------------- */

struct var {
	char *name;
	int init, min, max;
	int step;               /* 'stap N': one trainee message raises it
				 * by N at most (falls are not limited);
				 * 0 none */
	int cap;                /* 'plafond N tot …': a change never raises
				 * it above cap while until is false */
	struct expr *until;     /* NULL: no cap */
	struct loc loc;
};

struct point {
	char *id;
	char *label;
	struct loc loc;
};

struct concept {
	char *name;
	struct pat_seq *alts;
	size_t nalts;
	struct loc loc;
	uint8_t open;           /* may start with any word (a *, a <…>, an
				 * empty alternative), so concept_of does
				 * not list it. Built at load. */
};

struct example {
	char *text;
	int should_match;
	char *expect;     /* "+id -id …" after the sentence between [ ]: the
			   * rubric moments it earns, or NULL: not said */
	struct loc loc;
};

/* The one builtin intent (docs/scenariotaal.md): no patterns, it
 * matches when lang.h says the message is not Dutch. */
#define INTENT_OTHER_LANGUAGE "andere-taal"

/* One name after 'tenzij:', resolved to an intent when all are known. */
struct unless_ref {
	char *name;
	struct loc loc;
	uint32_t intent;
};

/* intent.minor ('bijzaak') */
enum { MINOR_NO = 0, MINOR_ASIDE = 1, MINOR_HEARD = 2 };

struct intent {
	char *name;
	struct pat_seq *pats;   /* its own and those of its aanvullingen */
	size_t npats;
	int negation_guard;     /* ontkenning: ja (default) */
	int acts;               /* handeling: mask as in pat_seq.acts */
	int reported_ok;        /* citaat: ja */
	int cond_ok;            /* voorwaarde: ja (default) */
	int echo_ok;            /* overgenomen: ja (default); nee: words
				 * the persona said first, taken over by
				 * the trainee, do not count (engine.c) */
	int minor;              /* bijzaak: MINOR_ASIDE ('ja'): a
				 * courtesy (a thank-you) that never
				 * answers a message whose question went
				 * unheard, nor one whose question another
				 * 'als' answers; MINOR_HEARD ('gehoord'):
				 * only the latter (engine.c); -1 in an
				 * aanvulling: the bedoeling's */
	int builtin;            /* 1 for andere-taal */
	int helper;             /* hulp: ja — written only for the
				 * script's own conditions ('tenzij', an
				 * 'als'), no move a trainer names: eval
				 * leaves it out of its intent figures */
	/* tenzij: intents that, found in the same message, take this one
	 * back (its own and its aanvullingen's; match.c) */
	struct unless_ref *unless;
	size_t nunless;
	struct example *examples;
	size_t nexamples;
	struct loc loc;
};

/* A pattern of an intent, for the first-word index. */
struct pat_ref {
	uint32_t intent;
	uint32_t pat;
};

/* The two meters every scenario has (var NAME = … (0..10)): a load
 * without either fails, so a loaded scenario's meter[] always holds
 * valid indices into vars. Their names are also the keys of the stored
 * variables (session_vars_json). */
enum meter { METER_TRUST, METER_TENSION, NMETERS };
extern const char *const script_meter_name[NMETERS];

struct script {
	char *path;             /* the file given to script_load */
	char *id;               /* scenario id, or NULL for a library file */
	char *title;
	char *persona;
	int difficulty;         /* 1..3, 0 if not given */
	char *intro;            /* inleiding, lines joined by '\n' */
	uint16_t *gates;        /* the conditions' gates (struct expr),
				 * intent indices */
	size_t ngates;
	char *own_words;        /* eigen-woorden: words the persona knows
				 * from before the rehearsal (the scene),
				 * as written; NULL none (engine.c,
				 * 'overgenomen: nee') */
	uint32_t start;         /* start node */
	struct loc id_loc;

	struct var *vars;        size_t nvars;
	/* index into vars of each enum meter, resolved at load; -1 in a
	 * library file (one without 'scenario') */
	int meter[NMETERS];
	struct point *points;    size_t npoints;
	struct concept *concepts; size_t nconcepts;
	struct intent *intents;  size_t nintents;
	struct rule *rules;      size_t nrules;
	struct node *nodes;      size_t nnodes;   /* fases and eindes */
	struct node *standaard;  /* or NULL */
	size_t nvariants;        /* total, for least-recently-used state */
	const struct variant **variant_tab;  /* by variant index */
	size_t nlines;           /* distinct line texts (variant.line) */
	/* The words of each line text, by line id, then of own_words (at
	 * nlines) and of the intro (at nlines + 1): for the engine's
	 * 'overgenomen: nee' test, whether the persona said a word first,
	 * and its 'niet-gezegd' test, whether she ever said a quote. Per word the FNV-32 of its stem
	 * (lw_stem) and its lexicon class when the lexicon knows it other
	 * than by a compound or not at all (lw_cls, else 0); a line's
	 * words are lw_*[lw_off[id] .. lw_off[id + 1]). Set at load when
	 * an intent has 'overgenomen: nee' or 'standaard' has
	 * 'niet-gezegd', else NULL. */
	uint32_t *lw_off, *lw_stem, *lw_cls;

	/* interned pattern words: id 0 is "no word"; once the lexicon is
	 * built (words_in_lex), their texts are its own and word_hash is
	 * gone: lexicon_word_id finds a word */
	char **words;            size_t nwords;
	uint32_t *word_hash;     size_t word_hash_cap;  /* open addressing */
	int words_in_lex;
	/* Their classes (inflection, typos, compounds); built at load. */
	struct lexicon lex;
	int other_language;      /* index of the builtin andere-taal */

	/* First-word index, built at load: the patterns that can only
	 * start with a word of lexicon class w are
	 * first_refs[first_off[w] .. first_off[w+1]);
	 * patterns that can start anywhere (prefix, *, <…>) are any_refs. */
	uint32_t *first_off;
	struct pat_ref *first_refs;
	/* Beside each first_refs entry: a word class other than the
	 * indexing one that every match of its pattern holds (from the
	 * pattern's req; one under 2^16), or 0: a message without it
	 * skips the pattern before reading it. */
	uint16_t *first_req;
	size_t nfirst;           /* first_refs' entries */
	struct pat_ref *any_refs; size_t nany;
	/* The concepts a word of class w can start a match of:
	 * concept_of[concept_off[w] .. concept_off[w+1]) (the concepts
	 * that can start with any word, or with none, are not listed:
	 * no pattern requires them). Built at load, for req's groups. */
	uint32_t *concept_off;
	uint16_t *concept_of;
	uint32_t prefix_min, prefix_max;  /* lengths of prefixes in use */
	/* What the prefixes in use begin with: for each prefix and each l
	 * up to its length, bit script_pfx_bit(FNV-1a of its first l
	 * bytes), a Bloom filter. A word whose first l bytes begin no
	 * prefix has no prefix of l bytes or more (prepare, match.c). */
	uint64_t pfx_begin[SCRIPT_PFX_BITS / 64];

	/* The statistical matcher (model.h), trained at load from the
	 * intents' examples and the corpus of 'leervoorbeelden:'. */
	struct model *model;
	char *train_path;        /* leervoorbeelden, resolved, or NULL */
	/* The sources of rubric moments: each distinct point, side and
	 * reason that a 'punt' action records (action.src), in the order
	 * first met. */
	struct point_src *srcs;  size_t nsrcs;
	/* Quiet rubric moments (calib.h), CALIB_KEYS(s) of them: set by
	 * calib_points after loading, NULL when none were measured. */
	uint8_t *quiet;
	uint32_t *quiet_seen, *quiet_right;
	struct loc train_loc;
	/* The model cache (mcache.h): the key of this script's training,
	 * when one was taken (keyed), and whether the model and quiet
	 * table were read from it (cached: nothing to calibrate or save). */
	struct mcache_key cache_key;
	uint8_t keyed, cached;

	char **files;            size_t nfiles;  /* every file read */
	uint64_t digest;         /* FNV-1a over all sources: script version */
	/* The pattern tree's element and alternative vectors, moved here
	 * as each pattern is parsed (script.c, shrink_seq), until the
	 * load moves the finished patterns (the intents' pats and the
	 * concepts' alts vectors, and all below them) into pool; freed by
	 * script_free. */
	struct arena arena;
	/* Where the finished pattern trees live, shared with the other
	 * scripts of the catalog (util.h, struct pool): one reference. */
	struct pool *pool;
};

/* A list of diagnostics "file:line:col: message". */
struct diag {
	char **msgs;
	size_t n, cap;
};
void diag_init(struct diag *d);
void diag_release(struct diag *d);
/* Move from's messages to the end of d (NULL: drop them), as many as d
 * has room for; from is left empty. */
void diag_take(struct diag *d, struct diag *from);
void diag_add(struct diag *d, const struct loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Load path and its includes. On any error returns -1, *out is NULL and
 * every problem found is in d (callers print them). */
int script_load(const char *path, struct script **out, struct diag *d);
/* script_load that also hands over the training split it learned from,
 * so that calibration (calib_points) need not read and resolve the
 * corpus again: *train is the 'leervoorbeelden:' corpus resolved against
 * *out, or empty (no conversations) when the script names none or
 * loading failed. Caller releases *train with corpus_release, always.
 * The pattern trees go into pool (the catalog's, shared by its scripts:
 * the gedeeld/ includes parse to the same trees in every scenario that
 * includes them first, and are then held once), or, when pool is NULL,
 * into one of the script's own, as with script_load. With cache_dir
 * (mcache.h), a model trained before on the same sources, training
 * split and program is read from there instead: then cached is set and
 * *train is empty (there is nothing to calibrate). */
struct corpus;
struct pool;
int script_load_train(const char *path, struct pool *pool,
		      const char *cache_dir, struct script **out,
		      struct corpus *train, struct diag *d);
/* The same for text in memory; name stands for the file in messages and
 * includes are looked up relative to it. */
int script_load_text(const char *name, const char *text, size_t len,
		     struct script **out, struct diag *d);
void script_free(struct script *s);
/* Free every intent's example sentences (ja:/nee:). Training has read
 * them at load; after this, check and eval --kruis cannot run on s, a
 * rehearsal can. */
void script_drop_examples(struct script *s);

/* Word id of a normalised word, or 0 if no pattern uses it. */
uint32_t script_word_id(const struct script *s, const char *word,
			size_t len);

/* The gate of a whole condition e: the intents of which one must have
 * been found for e to hold (its one intent, for a condition that is a
 * single intent, put in *one), into *gate; returns their number, 0 when e may hold
 * without any ("niet x", "vertrouwen > 6"), so that the engine skips a
 * condition at once when none was found. */
size_t script_gate(const struct script *s, const struct expr *e,
		   const uint16_t **gate, uint16_t *one);

int script_find_var(const struct script *s, const char *name);
int script_find_node(const struct script *s, const char *name);
int script_find_intent(const struct script *s, const char *name);
int script_find_point(const struct script *s, const char *id);

const char *script_ending_kind_name(enum ending_kind k);

#endif
