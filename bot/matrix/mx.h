/* mx.h - a Matrix client-server API client for one account and device.
 *
 * Knows Matrix and HTTP, nothing of personas or transcripts; owns the
 * client-server API's paths and wire format, so that nothing above it
 * reads Matrix JSON: /sync arrives as typed events (struct mx_event),
 * and each request reports to a callback of its own. The owner
 * (bot.c) gets each /sync response as a whole, so that it can store the
 * effects of every event together with the next sync token in one
 * transaction, and asks for sends, typing notifications, receipts, joins
 * and leaves. Sends to one room go out one at a time, in order:
 * foreground items (answers, notices) before background ones (replay
 * lines), and background items only while no room has a foreground item
 * queued. A 429 on a room's send pauses that room for retry_after_ms
 * (and background items everywhere); a 429 on any other request pauses
 * every send. Network errors and 5xx back off exponentially with
 * jitter, capped.
 *
 * A /sync batch whose room timeline is "limited" is held until the gap
 * is fetched with /rooms/{id}/messages (backwards from prev_batch to the
 * batch's since token, 100 events a page, at most 5,000 events per room
 * and 32 MB per batch; past that the oldest are skipped and logged); the
 * owner gets the batch with the gap in place, so the next since token is
 * stored only together with the gap's effects.
 */
#ifndef OEF_MX_H
#define OEF_MX_H

#include <jansson.h>
#include <stdint.h>
#include "util.h"

struct mx;
struct verify_msg;

/* How a room event relates to another (content "m.relates_to"). */
enum mx_rel {
	MX_REL_NONE,         /* none, or a kind the bot does not use */
	MX_REL_THREAD,       /* rel_type m.thread: rel_event is the root */
	MX_REL_REPLY,        /* m.in_reply_to outside a thread: rel_event
			      * is the event replied to */
	MX_REL_ANNOTATION,   /* m.annotation (a reaction): rel_event and
			      * rel_key, the reaction's text */
	MX_REL_REPLACE,      /* m.replace (an edit of rel_event), or an
			      * older client's m.new_content inside
			      * m.relates_to; new_* is the new content */
};

/* One user's level in m.room.power_levels "users". */
struct mx_power_level {
	const char *user;
	long long level;
};

/* A room event, parsed at the boundary: nothing above mx reads its
 * JSON. Every string is borrowed from the document it was parsed from
 * (a sync batch: valid for the on_sync callback; a decrypted event:
 * until mx_event_release). NULL means absent. */
struct mx_event {
	const char *room;        /* the room's id */
	const char *id;          /* event_id; NULL in invite state */
	const char *type;        /* never NULL */
	const char *sender;      /* never NULL */
	const char *state_key;   /* NULL: not a state event */
	/* m.room.message (and its edits) */
	const char *msgtype;
	const char *body;
	const char *format;      /* e.g. org.matrix.custom.html */
	const char *formatted_body;
	enum mx_rel rel;
	const char *rel_event;   /* the event it relates to, or NULL */
	const char *rel_key;     /* MX_REL_ANNOTATION: the reaction */
	const char *new_msgtype; /* MX_REL_REPLACE: the edited content */
	const char *new_body;
	const char *turn;        /* content MX_TURN_FIELD (our own lines) */
	/* m.room.member */
	const char *membership;
	const char *prev_membership;  /* unsigned.prev_content's */
	const char *displayname; /* content's; NULL when absent or null */
	/* m.room.create: content "creator" (older room versions) */
	const char *creator;
	/* m.room.power_levels: content "users" (has_power: it was an
	 * object; entries whose level is not an integer are left out) */
	int has_power;
	struct mx_power_level *power;
	size_t npower;
	/* The event as it came, for the E2EE layer (ciphertext, the
	 * encryption state's content); borrowed like the strings. */
	json_t *json;
	/* private: what mx_event_release frees */
	json_t *own_;
	char *own_room_;
};

/* A room of a /sync batch: for a joined room its state and timeline,
 * for an invite its invite_state (in state). */
struct mx_room {
	const char *id;
	struct mx_event *state;
	size_t nstate;
	struct mx_event *timeline;
	size_t ntimeline;
	size_t gap;              /* timeline events from a filled gap, at
				  * the start: older than "state" */
	int limited;             /* the server cut the timeline */
};

/* A /sync response, parsed. Borrowed for the duration of the callback. */
struct mx_sync {
	const char *next_batch;
	struct mx_room *join;
	size_t njoin;
	struct mx_room *invite;
	size_t ninvite;
	const char **leave;      /* ids of rooms we left */
	size_t nleave;
	/* To-device key verification messages to cancel (verify.h), at
	 * most VERIFY_MAX_PER_SYNC, in order. */
	struct verify_msg *verify;
	size_t nverify;
	/* The whole response, for the E2EE layer (to-device messages,
	 * device lists, key counts): nothing else reads it. */
	json_t *root;
};

/* Parse a /sync response body into s (release with mx_sync_release);
 * -1 if it is not a sync response (s is then empty). Events that are
 * not well formed are left out, each with a log line naming the field
 * that is missing or of the wrong type. */
int mx_sync_parse(const char *body, size_t len, struct mx_sync *s);
/* The same for a parsed document (s takes a reference of its own). */
int mx_sync_parse_root(json_t *root, struct mx_sync *s);
void mx_sync_release(struct mx_sync *s);

/* Parse one room event of room (see struct mx_event); ev borrows json
 * and room. -1 (with a log line naming the field) when it is not well
 * formed; *ev needs mx_event_release either way. */
int mx_event_parse(json_t *json, const char *room, struct mx_event *ev);
/* The same, but ev keeps its own reference of json and copy of room
 * (for events that outlive their batch, e.g. decrypted ones). */
int mx_event_take(json_t *json, const char *room, struct mx_event *ev);
void mx_event_release(struct mx_event *ev);
/* Release n events and free the array. */
void mx_events_free(struct mx_event *v, size_t n);

/* The bot's tag on its own persona lines (a content field, session id
 * and turn), handed back as struct mx_event.turn. */
#define MX_TURN_FIELD "nl.oefenkamer.turn"

/* In a joined room's "timeline" of a batch handed to on_sync: how many
 * events at the start of "events" came from a filled gap (they are
 * older than the room's "state", which describes the timeline's start
 * after them). Absent when there was no gap; parsed into
 * struct mx_room.gap. */
#define MX_GAP_FIELD "nl.oefenkamer.gap"

/* Synapse refuses an event whose whole JSON (content plus the envelope:
 * ids, hashes, signatures, auth and prev events) exceeds 65,536 bytes
 * with HTTP 413. 4 KB are left for the envelope. */
#define MX_EVENT_MAX 65536
#define MX_CONTENT_MAX (MX_EVENT_MAX - 4096)
/* ... and for a room that is encrypted: the plaintext event (content,
 * type, room id) becomes base64 ciphertext, 4/3 of it, plus keys. */
#define MX_CONTENT_MAX_ENCRYPTED ((MX_CONTENT_MAX - 1024) / 4 * 3 - 512)

struct mx_handlers {
	void *arg;
	/* A sync response arrived. Return 0 when its effects are stored
	 * (the client then syncs from next_batch), -1 to get the same batch
	 * again later (e.g. the database is locked). */
	int (*on_sync)(void *arg, const struct mx_sync *s);
	/* A queued send finished: ok = 1 sent (event_id given), 0 gave up
	 * for good (e.g. 403: not in the room). */
	void (*on_sent)(void *arg, uint64_t cookie, int ok,
			const char *event_id);
	/* Login finished (ok or not): the token and device to keep. */
	void (*on_login)(void *arg, int ok, const char *access_token,
			 const char *device_id, const char *error);
	/* Optional, just before a room event is first sent: 1 send it
	 * (with *new_type and *new_body instead when set, e.g. encrypted;
	 * the client frees them), 0 not yet (asked again on the next
	 * round; the room's later events wait behind it), -1 drop it
	 * (on_sent reports ok = 0). */
	int (*prepare)(void *arg, const char *room, const char *type,
		       const char *body, char **new_type, char **new_body);
};

/* Requests other than sends report to a callback of their own, given
 * with the request with its context (ctx): exactly one call per
 * request. status is the HTTP status, 0 when no answer came, or
 * MX_CANCELLED when the client is freed first: then the callback only
 * frees ctx (its owner may be gone already) and every other argument
 * is 0 or NULL. A NULL callback: nobody waits for the answer. */
#define MX_CANCELLED (-1L)
/* body: the parsed answer, or NULL; borrowed for the call. */
typedef void (*mx_json_cb)(void *ctx, long status, json_t *body);
typedef void (*mx_status_cb)(void *ctx, long status);
/* users: the joined members' ids (n of them), borrowed for the call. */
typedef void (*mx_members_cb)(void *ctx, long status,
			      const char *const *users, size_t n);
/* The account the token belongs to (user NULL if not said). */
typedef void (*mx_whoami_cb)(void *ctx, long status, const char *user,
			     const char *device);
/* The new room's id, NULL unless status is 200. */
typedef void (*mx_created_cb)(void *ctx, long status, const char *room);

/* A finished upload: content_uri is the mxc:// URI (valid as the spec
 * has it) when status is 200, else NULL with error the server's reason
 * or NULL. An answer of 200 without a valid content_uri is reported as
 * status 0. */
typedef void (*mx_upload_cb)(void *ctx, long status, const char *content_uri,
			     const char *error);
/* Our global profile; either may be NULL (not set, or status not 200). */
typedef void (*mx_profile_cb)(void *ctx, long status,
			      const char *displayname, const char *avatar_url);

/* The largest file mx_media_upload takes (Synapse's default limit is
 * 50 MB; a debrief or an avatar is far below this). */
#define MX_UPLOAD_MAX (8u << 20)

/* homeserver: base URL; the client borrows nothing. */
struct mx *mx_new(const char *homeserver, const char *user_id,
		  const struct mx_handlers *h);
void mx_free(struct mx *mx);

/* Use this token and device (from the store). The token is wiped on
 * mx_free and never logged. */
void mx_set_token(struct mx *mx, const char *access_token,
		  const char *device_id);
/* Log in with a password (m.login.password) as device_name; on_login
 * reports. Only when no token is stored: never a new device on restart. */
void mx_login(struct mx *mx, const char *password, const char *device_name);

/* Start (or continue) the /sync loop from since (NULL: initial sync).
 * One request at a time, long-polling timeout_ms on the server. After a
 * batch, the next /sync waits (at most 250 ms) for the sends the batch
 * caused that went out at once (not those waiting for typing time). */
void mx_sync_start(struct mx *mx, const char *since, int timeout_ms);
void mx_sync_stop(struct mx *mx);

/* Queue a room event. txn is the transaction id (derived from what is
 * being answered, so a resend is deduplicated by the homeserver).
 * content is copied. cookie comes back in on_sent. typing_ms > 0: show
 * "typing" that long before sending. */
void mx_send(struct mx *mx, const char *room, const char *type,
	     const char *txn, json_t *content, int typing_ms, uint64_t cookie);

/* The same, in the room's background list: sent after its foreground
 * items, and only while no room has a foreground item queued (replay
 * lines make way for answers). delay_ms paces it like typing_ms. */
void mx_send_background(struct mx *mx, const char *room, const char *type,
			const char *txn, json_t *content, int delay_ms,
			uint64_t cookie);
/* Drop the room's queued background items (not the one in flight, which
 * is reported as usual; the dropped ones are not). Returns how many. */
size_t mx_cancel_background(struct mx *mx, const char *room);

void mx_join(struct mx *mx, const char *room, mx_status_cb cb, void *ctx);
void mx_leave(struct mx *mx, const char *room, mx_status_cb cb, void *ctx);
/* A read receipt waits while a send to the room is in flight or about to
 * go, and then 200 ms more, so the reply reaches the trainee first; it
 * goes at once while the persona's reply waits for its typing time. A
 * newer one for the same room replaces it: one request after the
 * replies. */
void mx_receipt(struct mx *mx, const char *room, const char *event_id);
/* Our display name in room: queued behind the room's sends (retried
 * like them); a refusal is logged. */
void mx_set_displayname(struct mx *mx, const char *room, const char *name);
void mx_joined_members(struct mx *mx, const char *room, mx_members_cb cb,
		       void *ctx);

/* Upload len bytes at data to the media repository (POST
 * /_matrix/media/v3/upload?filename=…, the body as content_type); cb
 * gets the mxc:// URI to put in an m.file or an avatar. data is copied;
 * filename may be NULL. Returns -1 without a request (and without a
 * callback) when len is over MX_UPLOAD_MAX, content_type is empty or
 * holds a line break, or filename is "". For an encrypted room, upload
 * the ciphertext as application/octet-stream. */
int mx_media_upload(struct mx *mx, const char *filename,
		    const char *content_type, const void *data, size_t len,
		    mx_upload_cb cb, void *ctx);
/* Our global profile (GET /profile/{userId}). */
void mx_profile_get(struct mx *mx, mx_profile_cb cb, void *ctx);
/* The global display name (PUT /profile/{userId}/displayname). Synapse
 * copies it into the member event of every room we are in, replacing
 * per-room names (a persona's): set it only when it differs
 * (mx_profile_get) and before the per-room names. */
void mx_profile_set_displayname(struct mx *mx, const char *name,
				mx_status_cb cb, void *ctx);
/* The global avatar (PUT /profile/{userId}/avatar_url), an mxc:// URI
 * from mx_media_upload; Synapse copies it into every room as above.
 * Returns -1 without a request when mxc is not a valid mxc:// URI. */
int mx_profile_set_avatar_url(struct mx *mx, const char *mxc,
			      mx_status_cb cb, void *ctx);
/* Which account and device the token is for. */
void mx_whoami(struct mx *mx, mx_whoami_cb cb, void *ctx);
/* A private room named name, these users invited. */
void mx_create_room(struct mx *mx, const char *name,
		    const char *const *invite, size_t ninvite,
		    mx_created_cb cb, void *ctx);

/* The end-to-end encryption API (bodies as the spec has them; the E2EE
 * layer reads the answers). */
void mx_keys_upload(struct mx *mx, json_t *body, mx_json_cb cb, void *ctx);
void mx_keys_query(struct mx *mx, json_t *body, mx_json_cb cb, void *ctx);
void mx_keys_claim(struct mx *mx, json_t *body, mx_json_cb cb, void *ctx);
/* /keys/device_signing/upload (cross-signing keys) */
void mx_keys_signing_upload(struct mx *mx, json_t *body, mx_json_cb cb,
			    void *ctx);
/* /keys/signatures/upload */
void mx_keys_signatures_upload(struct mx *mx, json_t *body, mx_json_cb cb,
			       void *ctx);
/* PUT /sendToDevice/{type}/{txn} */
void mx_send_to_device(struct mx *mx, const char *type, const char *txn,
		       json_t *body, mx_json_cb cb, void *ctx);
/* The room's members but those who left (GET /rooms/{id}/members). */
void mx_room_members(struct mx *mx, const char *room, mx_json_cb cb,
		     void *ctx);

/* Drive: wait for network or extra_fd up to timeout_ms, run timers and
 * callbacks. Returns 1 if extra_fd became readable. */
int mx_poll(struct mx *mx, int timeout_ms, int extra_fd);

/* Sends queued or in flight (for a clean shutdown). */
size_t mx_sends_pending(const struct mx *mx);

/* Rooms with a send queue: something queued, in flight or to mark
 * read. A room whose queue ran empty costs nothing here. */
size_t mx_queues(const struct mx *mx);

/* Times the free heap went back to the system (xtrim): on the loop
 * round after a /sync batch of at least 64 KiB (or one whose gaps were
 * filled) went up, once the HTTP layer has freed its body, and when a
 * burst of at least 64 sends has drained (every send queue gone). Rare
 * by design: once per big batch or burst, not per send or loop round. */
size_t mx_trims(const struct mx *mx);

/* Response body bytes the HTTP layer still held at the last trim (see
 * http_body_bytes): a big batch's body must be gone by then, or its
 * heap stays resident after the trim. */
size_t mx_trim_body_bytes(const struct mx *mx);

#endif
