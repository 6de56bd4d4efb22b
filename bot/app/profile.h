/* profile.h - the bot's global profile: its display name (config
 * display_name) and avatar (config avatar), set once at startup when
 * they differ from what the homeserver has, before the sync starts.
 * Synapse copies a global change into every room's member event, in
 * the background after the PUT has answered, replacing the per-room
 * persona names: event.c puts a persona's name back when that copy
 * arrives in a room that carries one. Never on the per-message path.
 */
#ifndef OEF_PROFILE_H
#define OEF_PROFILE_H

#include "bot_int.h"

/* Ask for the profile and set what differs (once; callbacks do the
 * rest). profile_done() says when the sync may start: also after a
 * failure, which is logged (the bot works without its profile). */
void profile_start(struct bot *b);
int profile_done(const struct bot *b);

#endif
