/* roles.h - who is who in a practice room.
 *
 * Trainee: who started the rehearsal. Coach: listed in roles.coaches, or
 * given power level 50 or more in the room (by its creator: the creator
 * and the bot themselves do not count). Trainer: listed in
 * roles.trainers. One person can have several roles.
 */
#ifndef OEF_ROLES_H
#define OEF_ROLES_H

#include <stddef.h>

#include "config.h"
#include "mx.h"
#include "util.h"

enum {
	ROLE_TRAINEE = 1,
	ROLE_COACH = 2,
	ROLE_TRAINER = 4,
	ROLE_ANYONE = 8      /* in an access rule: no role needed; roles_of
			      * never returns it */
};

#define ROLES_COACH_LEVEL 50

/* A room's m.room.power_levels as far as roles go: the users it raises
 * to ROLES_COACH_LEVEL or more, with their levels, in the order given,
 * in one allocation (freed with free()). Lower levels decide nothing
 * here, so they are not kept: a room the bot sits in holds a few dozen
 * bytes for its levels, not a JSON object (issue 15). NULL: nobody
 * that high. */
struct roles_power {
	size_t n;
	struct mx_power_level v[];   /* the user strings follow in the
				      * same block */
};

/* From the event's content.users (mx.h); NULL when nobody is at
 * ROLES_COACH_LEVEL or more. */
struct roles_power *roles_power_new(const struct mx_power_level *v,
				    size_t n);
/* From a JSON object of users and levels, as kept in the store; NULL
 * for nobody that high, or text that is not such an object (entries
 * whose level is not an integer are left out, as mx.h does). */
struct roles_power *roles_power_parse(const char *json);
/* user's level if p keeps it (>= ROLES_COACH_LEVEL), else 0. */
long long roles_power_level(const struct roles_power *p, const char *user);

struct room_roles {
	const char *trainee;     /* or NULL: no rehearsal */
	const char *creator;     /* sender of m.room.create, or NULL */
	const struct roles_power *power;  /* or NULL; borrowed */
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
