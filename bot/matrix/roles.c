/* roles.c - see roles.h */
#include "roles.h"

#include <string.h>

static int listed(char **v, size_t n, const char *user)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], user) == 0)
			return 1;
	return 0;
}

unsigned roles_of(const struct config *cfg, const struct room_roles *rr,
		  const char *user)
{
	unsigned r = 0;
	json_t *pl;

	if (!user)
		return 0;
	if (rr->trainee && strcmp(rr->trainee, user) == 0)
		r |= ROLE_TRAINEE;
	if (listed(cfg->coaches, cfg->ncoaches, user))
		r |= ROLE_COACH;
	if (listed(cfg->trainers, cfg->ntrainers, user))
		r |= ROLE_TRAINER;
	pl = rr->power_users ? json_object_get(rr->power_users, user) : NULL;
	if (json_is_integer(pl) &&
	    json_integer_value(pl) >= ROLES_COACH_LEVEL &&
	    !(rr->creator && strcmp(rr->creator, user) == 0) &&
	    !(rr->bot && strcmp(rr->bot, user) == 0))
		r |= ROLE_COACH;
	return r;
}

void roles_name(unsigned roles, struct sbuf *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ ROLE_TRAINEE, "trainee" },
		{ ROLE_COACH, "coach" },
		{ ROLE_TRAINER, "trainer" },
	};
	int n = 0;

	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		if (!(roles & names[i].bit))
			continue;
		sbuf_adds(out, n ? " en " : "");
		sbuf_adds(out, names[i].name);
		n++;
	}
	if (!n)
		sbuf_adds(out, "deelnemer");
}

void roles_who(unsigned who, struct sbuf *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ ROLE_TRAINEE, "de trainee" },
		{ ROLE_COACH, "een coach" },
		{ ROLE_TRAINER, "een trainer" },
	};
	size_t n = 0, k = 0;

	if (who & ROLE_ANYONE) {
		sbuf_adds(out, "iedereen");
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		n += (who & names[i].bit) != 0;
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		if (!(who & names[i].bit))
			continue;
		sbuf_adds(out, k == 0 ? "" : k + 1 == n ? " of " : ", ");
		sbuf_adds(out, names[i].name);
		k++;
	}
	if (!n)
		sbuf_adds(out, "niemand");
}

int roles_allow(unsigned who, unsigned have)
{
	return (who & ROLE_ANYONE) || (who & have) != 0;
}
