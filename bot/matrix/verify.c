/* verify.c - see verify.h. */
#include "verify.h"

#include <string.h>

#include "mx.h"
#include "util.h"

#define PREFIX "m.key.verification."

/* Shown by clients that do not know the code; kept short (nheko and
 * Element show it in one line). The first only where it is true. */
static const char reason_signed[] =
	"Deze bot vergelijkt geen emoji: zijn apparaat is ondertekend door "
	"zijn eigen account (cross-signing). / This bot does not do "
	"interactive verification: its device is cross-signed by its own "
	"account.";
static const char reason_plain[] =
	"Deze bot vergelijkt geen emoji. / This bot does not do "
	"interactive verification.";

/* The steps after a request or start; each gets a cancel. "cancel"
 * itself is never answered. */
static const char *const later[] = {
	"ready", "accept", "key", "mac", "done",
};

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The step a type names (after PREFIX); -1 for none we answer. */
static int step_of(const char *type)
{
	if (!type || strncmp(type, PREFIX, strlen(PREFIX)))
		return -1;
	type += strlen(PREFIX);
	if (!strcmp(type, "request"))
		return VERIFY_REQUEST;
	if (!strcmp(type, "start"))
		return VERIFY_START;
	for (size_t i = 0; i < ARRAY_LEN(later); i++)
		if (!strcmp(type, later[i]))
			return VERIFY_LATER;
	return -1;
}

int verify_parse_to_device(json_t *ev, struct verify_msg *m)
{
	json_t *c = json_object_get(ev, "content");
	int step = step_of(jstr(ev, "type"));

	memset(m, 0, sizeof(*m));
	if (step < 0 || !jstr(ev, "sender") || !json_is_object(c) ||
	    !jstr(c, "transaction_id") || !*jstr(c, "transaction_id"))
		return 0;
	m->step = (enum verify_step)step;
	m->sender = jstr(ev, "sender");
	m->device = jstr(c, "from_device");
	if (m->device && !*m->device)
		m->device = NULL;
	m->txn = jstr(c, "transaction_id");
	return 1;
}

int verify_parse_room(const struct mx_event *ev, const char *me,
		      struct verify_msg *m)
{
	json_t *c = json_object_get(ev->json, "content"), *rel;
	int step;

	memset(m, 0, sizeof(*m));
	if (!ev->id || !ev->room || !strcmp(ev->sender, me) ||
	    !json_is_object(c))
		return 0;
	if (!strcmp(ev->type, "m.room.message")) {
		const char *to = jstr(c, "to");

		if (!ev->msgtype || strcmp(ev->msgtype, PREFIX "request") ||
		    !to || strcmp(to, me))
			return 0;
		m->step = VERIFY_REQUEST;
		m->request = ev->id;
	} else {
		step = step_of(ev->type);
		rel = json_object_get(c, "m.relates_to");
		if (step < 0 || step == VERIFY_REQUEST ||
		    !jstr(rel, "rel_type") ||
		    strcmp(jstr(rel, "rel_type"), "m.reference") ||
		    !jstr(rel, "event_id") || !*jstr(rel, "event_id"))
			return 0;
		m->step = (enum verify_step)step;
		m->request = jstr(rel, "event_id");
	}
	m->sender = ev->sender;
	m->room = ev->room;
	m->device = jstr(c, "from_device");
	return 1;
}

const char *verify_code(const struct verify_msg *m)
{
	switch (m->step) {
	case VERIFY_REQUEST:
		return "m.user";
	case VERIFY_START:
		return "m.unknown_method";
	case VERIFY_LATER:
		break;
	}
	return m->room ? "m.unexpected_message" : "m.unknown_transaction";
}

const char *verify_reason(int cross_signed)
{
	return cross_signed ? reason_signed : reason_plain;
}

json_t *verify_cancel_content(const struct verify_msg *m, int cross_signed)
{
	json_t *c = json_pack("{s:s, s:s}", "code", verify_code(m), "reason",
			      verify_reason(cross_signed));

	if (m->room)
		json_object_set_new(c, "m.relates_to", json_pack("{s:s, s:s}",
				    "rel_type", "m.reference", "event_id",
				    m->request));
	else
		json_object_set_new(c, "transaction_id",
				    json_string(m->txn));
	return c;
}

void verify_cancel_to_device(struct mx *mx, const struct verify_msg *m,
			     int cross_signed)
{
	json_t *body, *content;
	uint64_t h = HASH_FNV64_START;
	char txn[64];
	const char *parts[] = { m->sender, m->device ? m->device : "*",
				m->txn, verify_code(m) };

	if (!m->txn)
		return;
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		h = hash_fnv64(h, parts[i], strlen(parts[i]) + 1);
	xsnprintf(txn, sizeof(txn), "oef-vc-%016llx", (unsigned long long)h);
	content = verify_cancel_content(m, cross_signed);
	body = json_pack("{s:{s:{s:o}}}", "messages", m->sender,
			 m->device ? m->device : "*", content);
	mx_send_to_device(mx, VERIFY_CANCEL_TYPE, txn, body, NULL, NULL);
	json_decref(body);
}
