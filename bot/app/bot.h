/* bot.h - Oefenkamer in Matrix rooms: invites, commands, one rehearsal
 * per room, pacing, and the order of writes that makes restarts safe.
 *
 * Data flows one way: mx (network) hands over a /sync batch; bot turns
 * each event into a command or a transcript line (session); the engine
 * answers; the answer goes into the outbox together with the sync token,
 * in one transaction; then the outbox is sent (mx). A crash anywhere
 * either loses the whole batch (it is synced again) or nothing; resends
 * reuse their transaction ids, so the homeserver drops duplicates.
 */
#ifndef OEF_BOT_H
#define OEF_BOT_H

#include <stddef.h>
#include "config.h"
#include "util.h"

struct bot;

/* Everything from the config; loads scripts, personas and the store.
 * Returns NULL with err filled on failure. */
struct bot *bot_new(const struct config *cfg, struct err *err);
void bot_free(struct bot *b);

/* Run until *stop becomes non-zero (set from a signal handler; wake_fd
 * becomes readable then). Finishes what is in flight and returns 0; -1
 * on a fatal error (e.g. the login is refused). */
int bot_run(struct bot *b, volatile int *stop, int wake_fd);

/* The steps of bot_run, for tests on recorded /sync responses:
 * handle one batch exactly as the sync loop does (0 stored, -1 rolled
 * back), and answer every trainee who is waiting, due or not. */
struct mx_sync;
int bot_sync(struct bot *b, const struct mx_sync *s);
void bot_answer_waiting(struct bot *b);

/* The room commands: one table that the dispatcher, the access check
 * and !hulp are made from. who is a mask of roles.h's ROLE_* (the
 * trainee of the room's running or last session, a coach, a trainer),
 * or ROLE_ANYONE. With named set, the roles are those in the session the
 * argument names (its trainee, a coach who took part, a trainer), and
 * the handler checks them. */
struct bot_cmd;   /* one command being handled (bot.c) */
struct bot_command {
	const char *name;        /* without the "!" */
	const char *aliases;     /* other names, space separated, or NULL */
	unsigned who;
	int named;
	int (*run)(struct bot *b, struct bot_cmd *c);
	const char *usage;       /* as !hulp shows it, e.g. "!start <nummer>" */
	const char *help;        /* one line for !hulp, Dutch */
};
/* The table (static; *n entries). */
const struct bot_command *bot_commands(size_t *n);

/* Commands one user may give: CMD_BURST at once, then one per
 * CMD_EVERY_MS; the rest are ignored after one notice. */
#define BOT_CMD_BURST 6
#define BOT_CMD_EVERY_MS 2000

#endif
