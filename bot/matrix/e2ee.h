/* e2ee.h - end-to-end encryption for the bot's device (Olm/Megolm, the
 * Matrix protocol around them, cross-signing).
 *
 * Decides what is encrypted for whom; crypto.c does the cryptography and
 * store.c keeps the state (pickled with the pickle key). The bot hands it
 * each /sync batch inside the batch's transaction (to-device messages,
 * device list changes, one-time key counts, room encryption and
 * membership) and the room events it cannot read; mx.c asks it, just
 * before each room send, to encrypt the event (e2ee_prepare), which it
 * answers "not yet" until the room key has been shared with every device
 * of every member. No Olm or Megolm object lives in memory between calls
 * except the account: everything else is read from the store, so a
 * rolled-back batch leaves nothing behind in memory.
 */
#ifndef OEF_E2EE_H
#define OEF_E2EE_H

#include <stdint.h>
#include "util.h"

struct e2ee;
struct store;
struct mx;
struct mx_sync;
struct mx_event;
struct config;

/* The pickle key from OEFENKAMER_PICKLE_KEY or cfg->pickle_key_file.
 * Returns 1 when neither is set (encryption off), 0 with *key (caller
 * wipes and frees) and *len, -1 with a reason - also when there is no
 * key but st holds an encrypted identity (a lost key is never a quiet
 * switch to plain rooms). */
int e2ee_pickle_key(const struct config *cfg, struct store *st, char **key,
		    size_t *len, struct err *err);

/* Open our device's crypto state, creating the account on first use.
 * Takes ownership of key (wiped on e2ee_free). Fails - never silently
 * making a new identity - when the stored account does not open with the
 * key or belongs to another device. */
int e2ee_open(struct store *st, struct mx *mx, const struct config *cfg,
	      const char *device_id, char *key, size_t keylen,
	      struct e2ee **out, struct err *err);
/* Before the mx it was opened with: its requests' callbacks then run
 * (cancelled) when mx_free cancels them. */
void e2ee_free(struct e2ee *e);
/* The device's ed25519 identity key (borrowed). */
const char *e2ee_identity(const struct e2ee *e);
/* Drop in-memory state and read it back (after a rolled-back batch). */
int e2ee_reload(struct e2ee *e, struct err *err);

/* Once logged in, and then between batches, outside any transaction:
 * upload device keys, one-time keys, a fallback key and the
 * cross-signing keys as far as not done before; top up one-time keys;
 * refresh stale device lists. */
void e2ee_poll(struct e2ee *e);

/* A sync batch, inside its transaction, before its room events. */
int e2ee_sync(struct e2ee *e, const struct mx_sync *s, struct err *err);
/* Room state and membership (from state and timeline), for encrypted
 * rooms' member lists. */
int e2ee_room_event(struct e2ee *e, const struct mx_event *ev,
		    struct err *err);
int e2ee_room_encrypted(struct e2ee *e, const char *room);
/* 1 once our device is signed by our own account's cross-signing keys
 * and they are on the server (uploaded this run or before). */
int e2ee_cross_signed(const struct e2ee *e);
/* 1 when room is encrypted and its members (joined or invited, as
 * tracked for sharing keys) are just us and user: their direct chat. */
int e2ee_room_is_direct(struct e2ee *e, const char *room, const char *user);

enum e2ee_result {
	E2EE_OK,             /* *out is the decrypted event */
	E2EE_WAITING,        /* no key yet: kept, asked for */
	E2EE_WAITING_FIRST,  /* the same, first time for this sender and
			      * session: tell the sender */
	E2EE_REJECTED,       /* tampered, replayed, or not from its sender */
};
/* Decrypt a room's m.room.encrypted event. *plain (E2EE_OK) is the
 * event as it decrypted: ev's sender, id and room with the plaintext
 * type and content, never a state event; caller mx_event_release's it.
 * Returns -1 on a store error, else 0 with *res set. */
int e2ee_decrypt(struct e2ee *e, const struct mx_event *ev,
		 enum e2ee_result *res, struct mx_event *plain,
		 struct err *err);

/* Events that became readable since last asked (a key arrived or its
 * sender's device was confirmed), decrypted, in the order they arrived;
 * removed from the waiting list in the current transaction. *v: caller
 * frees with mx_events_free(*v, *n) (NULL when none). 0, or -1 on a
 * store error. */
int e2ee_take_ready(struct e2ee *e, struct mx_event **v, size_t *n,
		    struct err *err);
/* 1 when e2ee_take_ready has something (so the bot can open a
 * transaction for it outside a sync batch). */
int e2ee_has_ready(const struct e2ee *e);

/* mx.c's hook before each room send: 1 ready (*new_type and *new_body
 * set when encrypted; caller frees), 0 not yet (ask again), -1 give up. */
int e2ee_prepare(struct e2ee *e, const char *room, const char *type,
		 const char *body, char **new_type, char **new_body);

#endif
