/* verify.h - the bot's answer to interactive key verification: a
 * polite cancel, with a reason.
 *
 * The bot's device is signed by its own account (cross-signing, see
 * e2ee.c), and nobody sits behind the bot to compare emoji, so every
 * verification a client starts with it is cancelled at once instead of
 * timing out after minutes. Both flows of the client-server spec's "Key
 * verification framework" are answered:
 *   - to-device: an m.key.verification.request (or a bare, deprecated
 *     m.key.verification.start) gets a to-device
 *     m.key.verification.cancel with the same transaction_id, sent to
 *     the requesting device (verify_cancel_to_device);
 *   - in a room: an m.room.message with msgtype
 *     m.key.verification.request addressed to the bot, and the steps
 *     that relate to one (m.relates_to rel_type m.reference), get an
 *     in-room m.key.verification.cancel relating to the request
 *     (verify_cancel_content; the caller sends it through the normal,
 *     encrypted where the room is, path).
 * Codes as the spec has them: m.user for a request (the spec's code for
 * "Bob rejects the request"), m.unknown_method for a start ("should be
 * sent for m.key.verification.start messages"), and for a later step of
 * a to-device verification the bot never took part in
 * m.unknown_transaction (in a room: m.unexpected_message). A cancel is
 * never answered (no ping-pong with another bot). This module owns the
 * wire format of these events; nothing above it reads their JSON.
 */
#ifndef OEF_VERIFY_H
#define OEF_VERIFY_H

#include <jansson.h>

struct mx;
struct mx_event;

#define VERIFY_CANCEL_TYPE "m.key.verification.cancel"

/* What the bot was asked. */
enum verify_step {
	VERIFY_REQUEST,      /* m.key.verification.request */
	VERIFY_START,        /* m.key.verification.start */
	VERIFY_LATER,        /* ready, accept, key, mac or done */
};

/* A verification message to cancel, parsed at the boundary. Strings
 * are borrowed from the event it was parsed from. */
struct verify_msg {
	enum verify_step step;
	const char *sender;      /* the user who asked */
	const char *device;      /* content from_device, or NULL */
	const char *txn;         /* to-device: transaction_id; else NULL */
	const char *room;        /* in-room: the room; to-device: NULL */
	const char *request;     /* in-room: the request's event id (the
				  * event itself for a request) */
};

/* The most to-device verification messages answered from one /sync
 * batch; more are left out with a log line (bound what comes from
 * outside: every answer is a request of ours). */
#define VERIFY_MAX_PER_SYNC 16

/* A to-device event ({type, sender, content}) of a /sync: 1 when it is
 * a verification message to cancel (*m set, borrowing ev), 0 when not
 * (another type, a cancel, a field missing). */
int verify_parse_to_device(json_t *ev, struct verify_msg *m);
/* A room event (decrypted where it was encrypted): 1 when it is an
 * in-room verification message to cancel, 0 when not. me is our user
 * id: a request must name us in "to" (others' requests are theirs), and
 * nothing we sent ourselves is answered. A later step is recognised by
 * its m.reference relation; whether its request was ours is the
 * caller's to decide (the room's members). */
int verify_parse_room(const struct mx_event *ev, const char *me,
		      struct verify_msg *m);

/* The cancel code for m (see above). */
const char *verify_code(const struct verify_msg *m);
/* The reason given with every cancel, Dutch and English (clients show
 * it when they do not know the code); it says the device is
 * cross-signed only when cross_signed (e2ee_cross_signed) is 1. */
const char *verify_reason(int cross_signed);
/* The content of the cancel for m: to-device with transaction_id, in a
 * room with m.relates_to (m.reference to the request). Caller decrefs. */
json_t *verify_cancel_content(const struct verify_msg *m, int cross_signed);
/* Send the to-device cancel for m (m->txn set) to the requesting device
 * (every device of the sender when the message does not say which).
 * The transaction id of the send derives from m, so the same message
 * answered twice (a batch handled again) is one message. */
void verify_cancel_to_device(struct mx *mx, const struct verify_msg *m,
			     int cross_signed);

#endif
