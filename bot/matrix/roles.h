/* roles.h - who is who in a practice room.
 *
 * Trainee: who started the rehearsal. Coach: listed in roles.coaches, or
 * given power level 50 or more in the room (by its creator: the creator
 * and the bot themselves do not count). Trainer: listed in
 * roles.trainers. One person can have several roles.
 */
#ifndef OEF_ROLES_H
#define OEF_ROLES_H

#include <jansson.h>
#include "config.h"
#include "util.h"

enum {
	ROLE_TRAINEE = 1,
	ROLE_COACH = 2,
	ROLE_TRAINER = 4,
	ROLE_ANYONE = 8      /* in an access rule: no role needed; roles_of
			      * never returns it */
};

#define ROLES_COACH_LEVEL 50

struct room_roles {
	const char *trainee;     /* or NULL: no rehearsal */
	const char *creator;     /* sender of m.room.create, or NULL */
	json_t *power_users;     /* m.room.power_levels content.users, or
				  * NULL; borrowed */
	const char *bot;         /* the bot's own user id */
};

unsigned roles_of(const struct config *cfg, const struct room_roles *rr,
		  const char *user);

/* "trainee", "coach en trainer", … ("deelnemer" for none). */
void roles_name(unsigned roles, struct sbuf *out);

/* Who an access rule lets in, for a refusal: "de trainee, een coach of
 * een trainer", "een coach of een trainer", "iedereen". */
void roles_who(unsigned who, struct sbuf *out);

/* May someone with roles have use a command for who? */
int roles_allow(unsigned who, unsigned have);

#endif
