/* event.h - the Matrix events of one /sync batch, handed over typed by
 * mx (and decrypted by e2ee), turned into what they mean here: a
 * command, a trainee's line for the rehearsal, a coach's annotation,
 * a member joining or leaving, the room state that decides who coaches.
 * All in the batch's transaction (bot.c's bot_sync).
 */
#ifndef OEF_EVENT_H
#define OEF_EVENT_H

#include "bot_int.h"

struct mx_room;
struct mx_sync;

/* A plain message outside a rehearsal gets a hint how to begin at most
 * this often per room (5 minutes): a second "hallo?" right after the
 * first is not answered twice. */
#define EVENT_HINT_MS (5 * 60 * 1000)

/* An invite: accepted (joined after the commit) when the inviter may
 * invite the bot, refused otherwise. */
int event_invite(struct bot *b, const struct mx_room *room,
		 struct err *err);
/* A joined room's events of this batch: a filled gap, the state, then
 * the timeline, in order. */
int event_joined(struct bot *b, const struct mx_room *mr, struct err *err);
/* Encrypted events that became readable, handled as if they arrived
 * now. */
int event_ready(struct bot *b, struct err *err);
/* The batch's to-device key verification messages: each cancelled at
 * once, with a notice in the asker's direct chat with us if any. */
int event_verify(struct bot *b, const struct mx_sync *s, struct err *err);
/* After a batch's room events: close the rehearsal in, forget and
 * leave each room whose last human left. */
int event_leave_empty(struct bot *b, struct err *err);

#endif
