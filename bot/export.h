/* export.h - a stored session as a debrief document.
 *
 * Reads only from the store; knows nothing of scripts or the engine. What
 * it needs from the scenario (rubric labels, the ending's explanation) is
 * passed in as plain values.
 */
#ifndef OEF_EXPORT_H
#define OEF_EXPORT_H

#include <stdint.h>
#include <stdio.h>
#include "store.h"
#include "util.h"

enum export_format {
	EXPORT_HTML,  /* one printable page, inline SVG chart, no scripts */
	EXPORT_MD,    /* the same content as Markdown */
	EXPORT_JSON   /* everything, for tools */
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

/* Parse "html", "md" or "json". */
int export_format_parse(const char *s, enum export_format *out);

/* Write session id to out. Returns 1 if the session does not exist. */
int export_session(struct store *st, int64_t id, enum export_format fmt,
		   const struct export_info *info, FILE *out, struct err *err);

#endif
