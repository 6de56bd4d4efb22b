/* check.h - is a scenario script sound? Runs the intent examples as tests
 * and walks the conversation automatically to prove that every phase and
 * every ending can be reached. */
#ifndef OEF_CHECK_H
#define OEF_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include "script.h"

struct check_result {
	size_t examples;        /* example sentences run */
	size_t examples_failed;
	size_t states;          /* distinct states the walk visited */
	size_t turns;           /* engine turns the walk took */
	uint8_t *reached;       /* per node: 1 if the walk got there */
	size_t unreachable;     /* nodes not reached */
	size_t lines;           /* distinct persona lines in the script */
	size_t endings[4];      /* per enum ending_kind: how many */
	uint8_t *points_used;   /* per point: 1 if some action names it */
	size_t moments_checked; /* example turns whose rubric moments were
				 * checked */
	struct diag warnings;   /* doubtful but not wrong: listed, not
				 * counted as problems */
};

void check_result_release(struct check_result *r);

/* Check s (a loaded scenario or library file). Every problem goes to d
 * with its file:line:col. Returns the number of problems. */
size_t check_script(const struct script *s, struct check_result *r,
		    struct diag *d);

#endif
