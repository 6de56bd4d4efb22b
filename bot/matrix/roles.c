/* roles.c - see roles.h */
#include "roles.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct roles_power *roles_power_new(const struct mx_power_level *v,
				    size_t n)
{
	struct roles_power *p;
	size_t k = 0, bytes = 0;
	char *s;

	for (size_t i = 0; i < n; i++)
		if (v[i].user && v[i].level >= ROLES_COACH_LEVEL) {
			k++;
			bytes += strlen(v[i].user) + 1;
		}
	if (!k)
		return NULL;
	p = xmalloc(sizeof(*p) + k * sizeof(p->v[0]) + bytes);
	p->n = 0;
	s = (char *)&p->v[k];
	for (size_t i = 0; i < n; i++) {
		size_t len;

		if (!v[i].user || v[i].level < ROLES_COACH_LEVEL)
			continue;
		len = strlen(v[i].user) + 1;
		memcpy(s, v[i].user, len);
		p->v[p->n].user = s;
		p->v[p->n++].level = v[i].level;
		s += len;
	}
	return p;
}

struct roles_power *roles_power_parse(const char *json)
{
	json_error_t je;
	json_t *users = json ? json_loads(json, 0, &je) : NULL, *lv;
	struct mx_power_level *v;
	struct roles_power *p;
	const char *u;
	size_t n = 0;

	if (!json_is_object(users)) {
		json_decref(users);
		return NULL;
	}
	v = xcalloc(json_object_size(users) + 1, sizeof(*v));
	json_object_foreach(users, u, lv) {
		if (!json_is_integer(lv))
			continue;
		v[n].user = u;
		v[n++].level = json_integer_value(lv);
	}
	p = roles_power_new(v, n);
	free(v);
	json_decref(users);
	return p;
}

long long roles_power_level(const struct roles_power *p, const char *user)
{
	if (!p || !user)
		return 0;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].user, user) == 0)
			return p->v[i].level;
	return 0;
}

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

	if (!user)
		return 0;
	if (rr->trainee && strcmp(rr->trainee, user) == 0)
		r |= ROLE_TRAINEE;
	if (listed(cfg->coaches, cfg->ncoaches, user))
		r |= ROLE_COACH;
	if (listed(cfg->trainers, cfg->ntrainers, user))
		r |= ROLE_TRAINER;
	if (roles_power_level(rr->power, user) >= ROLES_COACH_LEVEL &&
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
