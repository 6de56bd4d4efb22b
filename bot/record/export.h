/* export.h - a stored session as a debrief document.
 *
 * One model, several renderers: export_doc_load reads what a debrief
 * says from the store (the turns counted as trainee turns, the meters
 * from their starting value on, each rubric point's moments with their
 * quotes, the notes, the ending), and export_render writes it as HTML,
 * Markdown, JSON or plain text. `oefenkamer export`, the debrief the bot
 * posts at the end and `!nabespreking` all render this one model, so
 * they cannot disagree on a number.
 *
 * Reads only from the store; knows nothing of scripts or the engine. What
 * it needs from the scenario (rubric labels, the ending's explanation) is
 * passed in as plain values.
 */
#ifndef OEF_EXPORT_H
#define OEF_EXPORT_H

#include <stdint.h>
#include <stdio.h>
#include "script.h"
#include "store.h"
#include "util.h"

enum export_format {
	EXPORT_HTML,  /* one printable page, inline SVG chart, no scripts */
	EXPORT_MD,    /* the same content as Markdown */
	EXPORT_JSON,  /* everything, for tools */
	EXPORT_TEXT   /* the room's debrief as plain text: the body of
		       * export_render_matrix */
};

/* A rubric point: id as in scripts/gedeeld/rubriek.oef and its Dutch label. */
struct export_point {
	const char *id;
	const char *label;
};

struct export_info {
	const struct export_point *points;  /* all rubric points, in order */
	size_t npoints;
	const char *ending_text;  /* the ending's "uitleg", or NULL */
	const char *persona_name; /* display name of the persona, or NULL */
};

/* The meters a debrief charts, in this order. */
/* the meters, in script.h's order (enum meter, script_meter_name) */

/* The meters after one beurt; beurt 0 holds the starting values. */
struct export_step {
	int beurt;
	double v[NMETERS];  /* clamped to 0..10 */
	int has[NMETERS];   /* 0 when the turn did not store it */
};

/* One moment a rubric point was shown or missed. */
struct export_moment {
	const struct store_rubric *r;   /* borrowed from the doc */
	const struct store_turn *turn;  /* its trainee turn; NULL if gone;
					 * the quote is r->quote, or when
					 * that is NULL the turn's text */
};

/* A rubric point with its moments: shown ones first, each in turn order. */
struct export_doc_point {
	const char *id;     /* borrowed */
	const char *label;  /* borrowed; NULL when only seen in the store */
	int shown, missed;
	struct export_moment *moments;  /* shown + missed of them */
	/* with no moment at all: the moments the engine heard but did not
	 * record (store_doubts_get), at most EXPORT_DOUBTS_MAX, in turn
	 * order, so that "geen moment herkend" can say where to look */
	int ndoubts;
	struct export_moment *doubts;
};
#define EXPORT_DOUBTS_MAX 3

/* What a debrief says. Embedded: export_doc_load / export_doc_release;
 * everything is owned by the doc or borrowed from the info passed in. */
struct export_doc {
	struct store_session s;
	struct store_turn *turns;        /* every stored turn, by seq */
	size_t nturns;
	struct store_rubric *rubric;     /* as stored */
	size_t nrubric;
	struct store_rubric *doubt_rows; /* store_doubts_get */
	size_t ndoubt_rows;
	struct store_annotation *notes;  /* coaches' notes, as stored */
	size_t nnotes;
	const struct export_info *info;  /* may be NULL */
	const char *persona;             /* display name, never NULL */
	int beurten;                     /* trainee turns (not messages) */
	struct export_step *steps;       /* the meters, starting value first */
	size_t nsteps;
	struct export_doc_point *points; /* the info's points, then others */
	size_t npoints;
};

/* Parse "html", "md", "json" or "text". */
int export_format_parse(const char *s, enum export_format *out);

/* Load session id into d. Returns 0, 1 if the session does not exist,
 * <0 on a store error; d is to be released in every case. info is
 * borrowed until export_doc_release. */
int export_doc_load(struct export_doc *d, struct store *st, int64_t id,
		    const struct export_info *info, struct err *err);
void export_doc_release(struct export_doc *d);

/* The stored turn with this seq, or NULL. Borrowed from d. */
const struct store_turn *export_doc_turn(const struct export_doc *d,
					 int seq);

/* Append d in fmt to out (EXPORT_TEXT without a final newline, as a
 * message wants it). */
int export_render(const struct export_doc *d, enum export_format fmt,
		  struct sbuf *out, struct err *err);

/* The debrief as a Matrix message, appended to body (the plain text,
 * readable without HTML; it is also EXPORT_TEXT) and html (the
 * formatted_body, format "org.matrix.custom.html", in the subset clients
 * render: <h3>/<h4>, <p>, <ul>/<li>, <em>, <b>, <pre>; no CSS or SVG).
 * The ending, the meters from their starting value (a <pre> block with
 * aligned columns), each touched rubric point with its moments (turn
 * numbers as counted in d->beurten, quotes cut at a word boundary) and
 * the coaches' notes. No command line for the trainee: the full HTML
 * export travels as a file beside it. */
int export_render_matrix(const struct export_doc *d, struct sbuf *body,
			 struct sbuf *html, struct err *err);

/* !stand from the same model, for a session still running (the store
 * holds it after every turn): the turn the trainee is at (d->beurten,
 * the number the debrief will use), phase (a node name, or NULL) and
 * whether it is paused, the meters now beside their starting value, and
 * each rubric point touched so far once, with the turns it was shown
 * and missed in. Appended to body and html as above. */
int export_render_stand(const struct export_doc *d, const char *phase,
			int paused, struct sbuf *body, struct sbuf *html,
			struct err *err);

/* Write session id to out. Returns 1 if the session does not exist. */
int export_session(struct store *st, int64_t id, enum export_format fmt,
		   const struct export_info *info, FILE *out, struct err *err);

#endif
