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

#endif
