/* command.h - the room commands ("!start 2", "!tip ..."): one table
 * that the dispatcher, the access check and !hulp are made from, and
 * the allowance that keeps one user from flooding the bot.
 */
#ifndef OEF_COMMAND_H
#define OEF_COMMAND_H

#include <stddef.h>

#include "bot_int.h"

/* One command of the table. who is a mask of roles.h's ROLE_* (the
 * trainee of the room's running or last session, a coach, a trainer),
 * or ROLE_ANYONE. With named set, the roles are those in the session the
 * argument names (its trainee, a coach who took part, a trainer), and
 * the handler checks them. */
struct command_call;   /* one command being handled (command.c) */
struct command {
	const char *name;        /* without the "!" */
	const char *aliases;     /* other names, space separated, or NULL */
	unsigned who;
	int named;
	int running;             /* needs a running rehearsal: without one
				  * the bot says so and run is not called */
	int (*run)(struct bot *b, struct command_call *c);
	const char *usage;       /* as !hulp shows it, e.g. "!start <nummer>" */
	const char *help;        /* one line for !hulp, Dutch */
};
/* The table (static; *n entries), grouped by who. */
const struct command *command_table(size_t *n);

/* !hulp, made from the table; caller frees. */
char *command_help(void);

/* body (starting with "!") from sender in r: rate limit, find it, check
 * the roles, run it; whatever it says goes into the outbox in the
 * current transaction. 0, or -1 with err set. */
int command_run(struct bot *b, struct room *r, const char *sender,
		const char *body, const char *event_id, struct err *err);

/* Commands one user may give: COMMAND_BURST at once, then one per
 * COMMAND_EVERY_MS; the rest are ignored after one notice. */
#define COMMAND_BURST 6
#define COMMAND_EVERY_MS 2000

#endif
