/* e2ee.c - end-to-end encryption: the Matrix protocol around Olm and
 * Megolm (see e2ee.h). All cryptography is in crypto.c, all SQL in
 * store.c; this file decides what is encrypted for whom and when.
 *
 * Records in the store (kind: keys -> value):
 *   account                      -> account pickle
 *   keys_up                      -> device keys uploaded
 *   xsign:  master|self|user     -> signing key pickle
 *   xsign_done                   -> cross-signing keys and device
 *                                   signature uploaded
 *   olm:    curve, session id    -> Olm session pickle, n = last used
 *   min:    room, sender key, id -> {"p": pickle, "s": sender user,
 *                                    "ed": claimed ed25519, "v": 0|1}
 *                                   v = 1 once the sending device is
 *                                   known to own that key
 *   seen:   sender key, id, idx  -> event id (replay guard), n = when
 *   seenmax: sender key, id       -> n = highest index whose seen row
 *                                   expired: that and lower are
 *                                   replays
 *   mout:   room                 -> our outbound session pickle,
 *                                   n = created (ms)
 *   shared: room, id, "user dev" -> "1" shared, "0" no Olm session
 *   dev:    user, device         -> {"c": curve25519, "e": ed25519}
 *   track:  user                 -> n = 1 when its device list is stale
 *   enc:    room                 -> m.room.encryption content
 *   mem:    room, user           -> membership (encrypted rooms)
 *   memok:  room                 -> member list fetched
 *   wait:   session id, event id, room -> the encrypted event,
 *                                         n = arrival (ms)
 *   told:   room, sender, session id   -> the key was asked for, n = when
 *   told1:  room, sender         -> n = when the sender was last told
 *                                   that a message is unreadable
 *   kreq:   session id, room     -> {"id": request id, "u": user}: our
 *                                   key request, cancelled once the key
 *                                   comes
 *   dummy:  curve                -> n = when an m.dummy went out
 */
#include "e2ee.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "config.h"
#include "crypto.h"
#include "mx.h"
#include "store.h"
#include "verify.h"

#define OLM_ALG "m.olm.v1.curve25519-aes-sha2"
#define MEGOLM_ALG "m.megolm.v1.aes-sha2"
#define OTK_ALG "signed_curve25519"
#define DUMMY_EVERY_MS (60LL * 60 * 1000)   /* m.dummy per device at most */
#define HOLD_MS 2000                         /* after a failed request */
#define QUERY_MAX_USERS 100
#define WAIT_MAX 20                          /* per sender and room */
#define TELL_EVERY_MS (60LL * 60 * 1000)     /* "cannot read" notices */
#define EXPIRE_MS (7LL * 24 * 60 * 60 * 1000) /* wait, told, seen rows */
#define EXPIRE_EVERY_MS (60LL * 60 * 1000)

enum call_kind {
	C_KEYS, C_OTKS, C_XSIGN, C_SIGS, C_QUERY, C_CLAIM, C_SHARE,
	C_MEMBERS, C_OTHER,
};

/* A request of ours: the context its answer is handled in. */
struct call {
	struct e2ee *e;
	enum call_kind kind;
	char *room;          /* C_SHARE, C_MEMBERS */
	json_t *ctx;         /* kind-specific */
};

struct e2ee {
	struct store *st;
	struct mx *mx;
	const struct config *cfg;
	char *user, *device;
	char *key;               /* the pickle key; wiped on free */
	size_t keylen;
	struct crypto_account *acct;
	json_t *ready;           /* [{room, event, id}] readable again */
	json_t *busy;            /* room -> true: a share or member fetch */
	int keys_busy, query_busy, claim_busy, xsign_busy;
	int otk_count;           /* on the server; -1 unknown */
	int want_fallback;
	int xsign_failed;        /* do not retry cross-signing this run */
	int keys_up, xsign_up;   /* the keys_up / xsign_done records exist */
	int stale;               /* some tracked device list may be stale:
				  * query() lists them (else skips the SQL) */
	int64_t hold_until;      /* mono ms: no new requests before */
	int64_t expired_at;      /* mono ms of the last expiry; 0 never */
};

/* --- records --------------------------------------------------------- */

static int rec_put(struct e2ee *e, const char *kind, const char *k1,
		   const char *k2, const char *k3, const char *value,
		   int64_t n, struct err *err)
{
	struct store_crypto c = { (char *)kind, (char *)k1, (char *)k2,
				  (char *)k3, (char *)value, n };

	return store_crypto_put(e->st, &c, err);
}

/* 1 if absent. */
static int rec_get(struct e2ee *e, const char *kind, const char *k1,
		   const char *k2, const char *k3, char **value, int64_t *n,
		   struct err *err)
{
	struct store_crypto c = { (char *)kind, (char *)k1, (char *)k2,
				  (char *)k3, NULL, 0 };

	return store_crypto_get(e->st, &c, value, n, err);
}

static int rec_has(struct e2ee *e, const char *kind, const char *k1,
		   const char *k2, const char *k3)
{
	char *v = NULL;
	int rc = rec_get(e, kind, k1, k2, k3, &v, NULL, NULL);

	crypto_free_secret(v);
	return rc == 0;
}

static int rec_del(struct e2ee *e, const char *kind, const char *k1,
		   const char *k2, const char *k3, struct err *err)
{
	struct store_crypto c = { (char *)kind, (char *)k1, (char *)k2,
				  (char *)k3, NULL, 0 };

	return store_crypto_delete(e->st, &c, err);
}

static int rec_list(struct e2ee *e, const char *kind, const char *k1,
		    const char *k2, struct store_crypto **v, size_t *n,
		    struct err *err)
{
	struct store_crypto c = { (char *)kind, (char *)k1, (char *)k2,
				  NULL, NULL, 0 };

	return store_crypto_list(e->st, &c, v, n, err);
}

/* A JSON record; NULL if absent or unreadable. */
static json_t *rec_json(struct e2ee *e, const char *kind, const char *k1,
			const char *k2, const char *k3)
{
	char *v = NULL;
	json_t *j = NULL;
	json_error_t je;

	if (rec_get(e, kind, k1, k2, k3, &v, NULL, NULL) == 0)
		j = json_loads(v, 0, &je);
	crypto_free_secret(v);
	return j;
}

static int rec_put_json(struct e2ee *e, const char *kind, const char *k1,
			const char *k2, const char *k3, json_t *j,
			int64_t n, struct err *err)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (!text) {
		err_set(err, "e2ee: record %s not encodable", kind);
		return -1;
	}
	rc = rec_put(e, kind, k1, k2, k3, text, n, err);
	crypto_free_secret(text);
	return rc;
}

/* A store call in its own transaction (outside a sync batch). */
static int tx_begin(struct e2ee *e)
{
	struct err err;

	if (store_begin(e->st, &err) < 0) {
		log_line("versleuteling: %s", err.msg);
		return -1;
	}
	return 0;
}

static void tx_end(struct e2ee *e, int ok)
{
	struct err err;

	if (ok && store_commit(e->st, &err) == 0)
		return;
	if (ok)
		log_line("versleuteling: %s", err.msg);
	store_rollback(e->st);
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* --- requests -------------------------------------------------------- */

/* The context of a request (takes ctx); call_done frees it. */
static struct call *call_new(struct e2ee *e, enum call_kind kind,
			     const char *room, json_t *ctx)
{
	struct call *c = xcalloc(1, sizeof(*c));

	c->e = e;
	c->kind = kind;
	c->room = room ? xstrdup(room) : NULL;
	c->ctx = ctx;
	return c;
}

static void call_done(void *arg, long status, json_t *body);

static void txn_id(char *buf, size_t n)
{
	unsigned char r[12];

	if (random_bytes(r, sizeof(r)) < 0)
		abort();
	xsnprintf(buf, n, "oef-td-%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x"
		 "%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
		 r[8], r[9], r[10], r[11]);
}

static void send_to_device(struct e2ee *e, const char *type,
			   json_t *messages, enum call_kind kind,
			   const char *room, json_t *ctx)
{
	char txn[64];
	json_t *body = json_pack("{s:O}", "messages", messages);

	txn_id(txn, sizeof(txn));
	mx_send_to_device(e->mx, type, txn, body, call_done,
			  call_new(e, kind, room, ctx));
	/* the body may hold room keys only inside Olm ciphertexts */
	json_decref(body);
}

/* --- signing --------------------------------------------------------- */

/* "alg:id" into sb. Growable: device ids come from the server, and a
 * key or record name cut short could make two devices one. */
static void key_id(struct sbuf *sb, const char *alg, const char *id)
{
	sbuf_reset(sb);
	sbuf_adds(sb, alg);
	sbuf_addc(sb, ':');
	sbuf_adds(sb, id ? id : "");
}

/* "user device", the last key of a "shared" record (user ids hold no
 * space, so the first space divides them). Growable, as key_id. */
static void user_device(struct sbuf *sb, const char *user,
			const char *device)
{
	sbuf_reset(sb);
	sbuf_adds(sb, user ? user : "");
	sbuf_addc(sb, ' ');
	sbuf_adds(sb, device ? device : "");
}

/* Add our device's signature to obj. */
static int sign_json(struct e2ee *e, json_t *obj)
{
	char *canon = crypto_canonical(obj);
	char *sig;
	struct sbuf kid;
	json_t *sigs, *mine;

	if (!canon)
		return -1;
	sig = crypto_account_sign(e->acct, canon, strlen(canon));
	free(canon);
	sbuf_init(&kid);
	key_id(&kid, "ed25519", e->device);
	sigs = json_object_get(obj, "signatures");
	if (!json_is_object(sigs)) {
		sigs = json_object();
		json_object_set_new(obj, "signatures", sigs);
	}
	mine = json_object_get(sigs, e->user);
	if (!json_is_object(mine)) {
		mine = json_object();
		json_object_set_new(sigs, e->user, mine);
	}
	json_object_set_new(mine, sbuf_str(&kid), json_string(sig));
	free(sig);
	sbuf_release(&kid);
	return 0;
}

static int sign_json_with(struct e2ee *e, struct crypto_signing *k,
			  json_t *obj)
{
	char *canon = crypto_canonical(obj);
	char *sig, kid[256];
	json_t *sigs;

	if (!canon)
		return -1;
	sig = crypto_signing_sign(k, canon, strlen(canon));
	free(canon);
	xsnprintf(kid, sizeof(kid), "ed25519:%s", crypto_signing_public(k));
	sigs = json_object_get(obj, "signatures");
	if (!json_is_object(sigs)) {
		sigs = json_object();
		json_object_set_new(obj, "signatures", sigs);
	}
	json_object_set_new(sigs, e->user, json_pack("{s:s}", kid, sig));
	free(sig);
	return 0;
}

static json_t *device_keys(struct e2ee *e)
{
	struct sbuf ck, ek;
	json_t *dk;

	sbuf_init(&ck);
	sbuf_init(&ek);
	key_id(&ck, "curve25519", e->device);
	key_id(&ek, "ed25519", e->device);
	dk = json_pack("{s:s, s:s, s:[s, s], s:{s:s, s:s}}",
		       "user_id", e->user, "device_id", e->device,
		       "algorithms", OLM_ALG, MEGOLM_ALG,
		       "keys", sbuf_str(&ck), crypto_account_curve25519(e->acct),
		       sbuf_str(&ek), crypto_account_ed25519(e->acct));
	sign_json(e, dk);
	sbuf_release(&ck);
	sbuf_release(&ek);
	return dk;
}

/* Signed one-time keys (or the fallback key) ready for /keys/upload. */
static json_t *signed_keys(struct e2ee *e, json_t *keys, int fallback)
{
	json_t *out = json_object(), *v;
	const char *id;

	json_object_foreach(keys, id, v) {
		char name[128];
		json_t *k = json_pack("{s:O}", "key", v);

		if (fallback)
			json_object_set_new(k, "fallback", json_true());
		sign_json(e, k);
		xsnprintf(name, sizeof(name), OTK_ALG ":%s", id);
		json_object_set_new(out, name, k);
	}
	return out;
}

static int save_account(struct e2ee *e, struct err *err)
{
	char *p = crypto_account_pickle(e->acct, e->key, e->keylen);
	int rc = rec_put(e, "account", NULL, NULL, NULL, p, 0, err);

	crypto_free_secret(p);
	return rc;
}

/* --- opening --------------------------------------------------------- */

/* 1 if st holds an account (an identity made with some pickle key). */
static int has_identity(struct store *st, struct err *err)
{
	struct store_crypto c = { "account", NULL, NULL, NULL, NULL, 0 };
	char *v = NULL;
	int rc = store_crypto_get(st, &c, &v, NULL, err);

	crypto_free_secret(v);
	return rc < 0 ? -1 : rc == 0;
}

int e2ee_pickle_key(const struct config *cfg, struct store *st, char **key,
		    size_t *len, struct err *err)
{
	const char *env = getenv("OEFENKAMER_PICKLE_KEY");

	*key = NULL;
	*len = 0;
	if (env && *env) {
		*key = xstrdup(env);
	} else if (cfg->pickle_key_file) {
		struct err why;

		if (config_read_secret(cfg->pickle_key_file, key, &why) < 0) {
			int have = has_identity(st, err);

			if (have < 0)
				return -1;
			err_set(err, "de pickle-sleutel is niet te lezen (%s). "
				"%s", why.msg, have ?
				"De store heeft al een versleutelde identiteit: "
				"zet de sleutel van toen terug (of geef hem in "
				"OEFENKAMER_PICKLE_KEY); een nieuwe maak ik niet "
				"stilletjes." : "Maak een nieuwe sleutel met: "
				"(umask 077 && head -c 32 /dev/urandom | base64 "
				"> BESTAND), met het bestand uit "
				"encryption.pickle_key_file.");
			return -1;
		}
	} else {
		int rc = has_identity(st, err);

		if (rc < 0)
			return -1;
		if (rc == 1) {
			err_set(err, "%s bevat de versleutelde identiteit van "
				"dit apparaat, maar er is geen pickle-sleutel: "
				"zet encryption.pickle_key_file in de "
				"configuratie of OEFENKAMER_PICKLE_KEY in de "
				"omgeving, met de sleutel van toen",
				cfg->store);
			return -1;
		}
		return 1;
	}
	*len = strlen(*key);
	if (*len < 16) {
		err_set(err, "de pickle-sleutel (%s) is te kort: gebruik "
			"minstens 16 tekens, bijvoorbeeld: head -c 32 "
			"/dev/urandom | base64", env && *env ?
			"OEFENKAMER_PICKLE_KEY" : cfg->pickle_key_file);
		crypto_free_secret(*key);
		*key = NULL;
		return -1;
	}
	return 0;
}

static int load_account(struct e2ee *e, struct err *err)
{
	char *p = NULL, *owner = NULL;
	int rc;
	struct crypto_account *a = NULL;
	struct err cerr;

	rc = rec_get(e, "account", NULL, NULL, NULL, &p, NULL, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		e->acct = crypto_account_new();
		return save_account(e, err);
	}
	rc = crypto_account_unpickle(e->key, e->keylen, p, &a, &cerr);
	crypto_free_secret(p);
	if (rc == CRYPTO_EBADKEY) {
		err_set(err, "de pickle-sleutel opent de versleutelde identiteit "
			"van dit apparaat in %s niet. Zet de oorspronkelijke "
			"sleutel terug (encryption.pickle_key_file of "
			"OEFENKAMER_PICKLE_KEY). Is die kwijt, begin dan met "
			"een nieuwe store en een nieuw apparaat: een nieuwe "
			"identiteit maak ik niet stilletjes.", e->cfg->store);
		return -1;
	}
	if (rc < 0) {
		err_set(err, "de versleutelde identiteit in %s is onleesbaar "
			"(%s)", e->cfg->store, cerr.msg);
		return -1;
	}
	if (rec_get(e, "owner", NULL, NULL, NULL, &owner, NULL, err) == 0 &&
	    strcmp(owner, e->device) != 0) {
		err_set(err, "de sleutels in %s horen bij apparaat %s, niet "
			"bij %s", e->cfg->store, owner, e->device);
		free(owner);
		crypto_account_free(a);
		return -1;
	}
	free(owner);
	crypto_account_free(e->acct);
	e->acct = a;
	return 0;
}

static int release_all(struct e2ee *e, struct err *err);

int e2ee_open(struct store *st, struct mx *mx, const struct config *cfg,
	      const char *device_id, char *key, size_t keylen,
	      struct e2ee **out, struct err *err)
{
	struct e2ee *e = xcalloc(1, sizeof(*e));

	e->st = st;
	e->mx = mx;
	e->cfg = cfg;
	e->user = xstrdup(cfg->user_id);
	e->device = xstrdup(device_id);
	e->key = key;
	e->keylen = keylen;
	e->ready = json_array();
	e->busy = json_object();
	e->otk_count = -1;
	e->stale = 1;
	e->keys_up = rec_has(e, "keys_up", NULL, NULL, NULL);
	e->xsign_up = rec_has(e, "xsign_done", NULL, NULL, NULL);
	if (store_begin(st, err) < 0)
		goto fail;
	if (load_account(e, err) < 0 ||
	    rec_put(e, "owner", NULL, NULL, NULL, device_id, 0, err) < 0 ||
	    release_all(e, err) < 0 ||
	    store_commit(st, err) < 0) {
		store_rollback(st);
		goto fail;
	}
	log_line("versleuteling aan: apparaat %s, sleutel %s", e->device,
		 crypto_account_ed25519(e->acct));
	*out = e;
	return 0;
fail:
	e2ee_free(e);
	*out = NULL;
	return -1;
}

void e2ee_free(struct e2ee *e)
{
	if (!e)
		return;
	crypto_account_free(e->acct);
	wipe_free(e->key, e->keylen);
	json_decref(e->ready);
	json_decref(e->busy);
	free(e->user);
	free(e->device);
	free(e);
}

static int release_waiting(struct e2ee *e, const char *sid,
			   struct err *err);

/* Waiting events whose key is there (a crash came between the key and
 * the answer): ready again. */
static int release_all(struct e2ee *e, struct err *err)
{
	struct store_crypto *v;
	size_t n;
	int rc = 0;

	if (rec_list(e, "wait", NULL, NULL, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (i == 0 || strcmp(v[i].k1, v[i - 1].k1))
			rc = release_waiting(e, v[i].k1, err);
	store_crypto_free(v, n);
	return rc;
}

int e2ee_reload(struct e2ee *e, struct err *err)
{
	e->expired_at = 0;
	json_array_clear(e->ready);
	if (load_account(e, err) < 0)
		return -1;
	return release_all(e, err);
}

const char *e2ee_identity(const struct e2ee *e)
{
	return crypto_account_ed25519(e->acct);
}

int e2ee_has_ready(const struct e2ee *e)
{
	return json_array_size(e->ready) > 0;
}

/* --- devices --------------------------------------------------------- */

/* The device of user with this curve key: its id and ed25519 key
 * (caller frees both). 1 if not known. */
static int device_by_curve(struct e2ee *e, const char *user,
			   const char *curve, char **device, char **ed)
{
	struct store_crypto *v;
	size_t n;
	int rc = 1;

	*device = *ed = NULL;
	if (rec_list(e, "dev", user, NULL, &v, &n, NULL) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 1; i++) {
		json_error_t je;
		json_t *d = json_loads(v[i].value, 0, &je);

		if (d && jstr(d, "c") && !strcmp(jstr(d, "c"), curve) &&
		    jstr(d, "e")) {
			*device = xstrdup(v[i].k2);
			*ed = xstrdup(jstr(d, "e"));
			rc = 0;
		}
		json_decref(d);
	}
	store_crypto_free(v, n);
	return rc;
}

/* Mark user's device list stale (and start tracking it). */
static int track(struct e2ee *e, const char *user, struct err *err)
{
	e->stale = 1;
	return rec_put(e, "track", user, NULL, NULL, "1", 1, err);
}

/* --- sessions with devices (Olm) ------------------------------------ */

static int has_olm(struct e2ee *e, const char *curve)
{
	struct store_crypto *v;
	size_t n;

	if (rec_list(e, "olm", curve, NULL, &v, &n, NULL) < 0)
		return 0;
	store_crypto_free(v, n);
	return n > 0;
}

/* Encrypt a to-device event for one device with our newest Olm session
 * to it; adds it to messages[user][device]. 1 if there is no session. */
static int olm_wrap(struct e2ee *e, const char *user, const char *device,
		    const char *curve, const char *ed, const char *type,
		    json_t *content, json_t *messages, struct err *err)
{
	struct store_crypto *v;
	size_t n;
	struct crypto_olm *s = NULL;
	json_t *pt, *msg, *per;
	char *text, *body = NULL, *p;
	int t, rc = -1;

	if (rec_list(e, "olm", curve, NULL, &v, &n, err) < 0)
		return -1;
	if (!n) {
		store_crypto_free(v, n);
		return 1;
	}
	if (crypto_olm_unpickle(e->key, e->keylen, v[0].value, &s, err) < 0)
		goto out;
	pt = json_pack("{s:s, s:O, s:s, s:s, s:{s:s}, s:s, s:{s:s}}",
		       "type", type, "content", content, "sender", e->user,
		       "sender_device", e->device, "keys", "ed25519",
		       crypto_account_ed25519(e->acct), "recipient", user,
		       "recipient_keys", "ed25519", ed);
	text = json_dumps(pt, JSON_COMPACT);
	json_decref(pt);
	if (!text || crypto_olm_encrypt(s, text, &t, &body, err) < 0) {
		crypto_free_secret(text);
		goto out;
	}
	crypto_free_secret(text);
	p = crypto_olm_pickle(s, e->key, e->keylen);
	rc = rec_put(e, "olm", curve, v[0].k2, NULL, p, now_ms(), err);
	crypto_free_secret(p);
	if (rc < 0)
		goto out;
	msg = json_pack("{s:s, s:s, s:{s:{s:i, s:s}}}", "algorithm", OLM_ALG,
			"sender_key", crypto_account_curve25519(e->acct),
			"ciphertext", curve, "type", t, "body", body);
	per = json_object_get(messages, user);
	if (!per) {
		per = json_object();
		json_object_set_new(messages, user, per);
	}
	json_object_set_new(per, device, msg);
	rc = 0;
out:
	free(body);
	crypto_olm_free(s);
	store_crypto_free(v, n);
	return rc;
}

/* Decrypt an Olm message from curve with a stored session, or a new one
 * from a pre-key message. *plain: caller frees with crypto_free_secret. */
static int olm_unwrap(struct e2ee *e, const char *curve, int type,
		      const char *body, char **plain, struct err *err)
{
	struct store_crypto *v;
	size_t n;
	struct crypto_olm *s = NULL;
	char *p, *sid;
	int rc = -1;

	*plain = NULL;
	if (rec_list(e, "olm", curve, NULL, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && !*plain; i++) {
		if (crypto_olm_unpickle(e->key, e->keylen, v[i].value, &s,
					NULL) < 0)
			continue;
		if ((type == 0 && crypto_olm_matches(s, curve, body) != 1) ||
		    crypto_olm_decrypt(s, type, body, plain, NULL) < 0) {
			crypto_olm_free(s);
			s = NULL;
			continue;
		}
		p = crypto_olm_pickle(s, e->key, e->keylen);
		rc = rec_put(e, "olm", curve, v[i].k2, NULL, p, now_ms(), err);
		crypto_free_secret(p);
		crypto_olm_free(s);
		store_crypto_free(v, n);
		return rc;
	}
	store_crypto_free(v, n);
	if (type != 0)
		return 1;
	if (crypto_olm_inbound(e->acct, curve, body, &s, err) < 0)
		return 1;
	if (crypto_olm_decrypt(s, 0, body, plain, err) < 0) {
		crypto_olm_free(s);
		return 1;
	}
	/* the one-time key goes only now that a message decrypted */
	if (crypto_account_remove_otk(e->acct, s, err) < 0 ||
	    save_account(e, err) < 0)
		goto fail;
	p = crypto_olm_pickle(s, e->key, e->keylen);
	sid = crypto_olm_id(s);
	rc = rec_put(e, "olm", curve, sid, NULL, p, now_ms(), err);
	crypto_free_secret(p);
	free(sid);
	crypto_olm_free(s);
	return rc;
fail:
	crypto_free_secret(*plain);
	*plain = NULL;
	crypto_olm_free(s);
	return -1;
}

/* Claim one-time keys of these devices ({user: {device: alg}}) and
 * start Olm sessions with them. ctx: what to do afterwards. */
static void claim(struct e2ee *e, json_t *want, json_t *ctx)
{
	json_t *body = json_pack("{s:O, s:i}", "one_time_keys", want,
				 "timeout", 10000);

	e->claim_busy = 1;
	mx_keys_claim(e->mx, body, call_done, call_new(e, C_CLAIM, NULL, ctx));
	json_decref(body);
}

static void claim_done(struct e2ee *e, long status, json_t *body,
		       json_t *ctx)
{
	json_t *otks = json_object_get(body, "one_time_keys"), *devs, *keys;
	const char *user, *device, *kid;
	struct err err;

	e->claim_busy = 0;
	if (status != 200) {
		log_line("versleuteling: sleutels ophalen mislukt (HTTP %ld)",
			 status);
		e->hold_until = mono_ms() + HOLD_MS;
		return;
	}
	if (tx_begin(e) < 0)
		return;
	json_object_foreach(otks, user, devs) {
		json_object_foreach(devs, device, keys) {
			json_t *dev = rec_json(e, "dev", user, device, NULL);
			json_t *k;

			json_object_foreach(keys, kid, k) {
				struct crypto_olm *s;
				char *p, *sid;

				if (!dev || strncmp(kid, OTK_ALG ":",
						    strlen(OTK_ALG) + 1) ||
				    crypto_verify_json(k, user, device,
						       jstr(dev, "e"), NULL) ||
				    !jstr(k, "key")) {
					log_line("versleuteling: eenmalige "
						 "sleutel van %s %s niet "
						 "geldig", user, device);
					continue;
				}
				if (crypto_olm_outbound(e->acct, jstr(dev, "c"),
							jstr(k, "key"), &s,
							&err) < 0)
					continue;
				p = crypto_olm_pickle(s, e->key, e->keylen);
				sid = crypto_olm_id(s);
				if (rec_put(e, "olm", jstr(dev, "c"), sid, NULL,
					    p, now_ms(), &err) < 0)
					log_line("versleuteling: %s", err.msg);
				crypto_free_secret(p);
				free(sid);
				crypto_olm_free(s);
				break;
			}
			json_decref(dev);
		}
	}
	/* an m.dummy to unwedge a broken session goes out over the new one */
	if (json_is_true(json_object_get(ctx, "dummy"))) {
		json_t *m = json_object(), *c = json_object();
		json_t *dev = rec_json(e, "dev", jstr(ctx, "user"),
				       jstr(ctx, "device"), NULL);

		if (dev && olm_wrap(e, jstr(ctx, "user"), jstr(ctx, "device"),
				    jstr(dev, "c"), jstr(dev, "e"), "m.dummy",
				    c, m, &err) == 0)
			send_to_device(e, "m.room.encrypted", m, C_OTHER, NULL,
				       NULL);
		json_decref(dev);
		json_decref(m);
		json_decref(c);
	}
	/* devices that gave no key: none of our room keys reach them */
	json_t *skip = json_object_get(ctx, "room_devices");
	size_t i;
	json_t *d;

	struct sbuf who;

	sbuf_init(&who);
	json_array_foreach(skip, i, d) {
		json_t *dev = rec_json(e, "dev", jstr(d, "u"), jstr(d, "d"),
				       NULL);
		int have = dev && has_olm(e, jstr(dev, "c"));

		if (!have) {
			user_device(&who, jstr(d, "u"), jstr(d, "d"));
			log_line("versleuteling: %s heeft geen eenmalige "
				 "sleutels; het krijgt de kamersleutel niet",
				 sbuf_str(&who));
			rec_put(e, "shared", jstr(ctx, "room"),
				jstr(ctx, "session"), sbuf_str(&who), "0", 0,
				NULL);
		}
		json_decref(dev);
	}
	sbuf_release(&who);
	tx_end(e, 1);
}

/* --- device lists ---------------------------------------------------- */

static void query(struct e2ee *e)
{
	struct store_crypto *v;
	size_t n;
	json_t *users, *ask, *body;

	if (!e->stale || e->query_busy || mono_ms() < e->hold_until)
		return;
	if (rec_list(e, "track", NULL, NULL, &v, &n, NULL) < 0)
		return;
	users = json_array();
	ask = json_object();
	for (size_t i = 0; i < n && json_array_size(users) < QUERY_MAX_USERS;
	     i++) {
		if (v[i].n != 1)
			continue;
		json_array_append_new(users, json_string(v[i].k1));
		json_object_set_new(ask, v[i].k1, json_array());
	}
	store_crypto_free(v, n);
	if (!json_array_size(users)) {
		e->stale = 0;
		json_decref(users);
		json_decref(ask);
		return;
	}
	body = json_pack("{s:o, s:i}", "device_keys", ask, "timeout", 10000);
	e->query_busy = 1;
	mx_keys_query(e->mx, body, call_done, call_new(e, C_QUERY, NULL,
						       users));
	json_decref(body);
}

/* Whether any member of room has a stale or unknown device list. */
static int members_stale(struct e2ee *e, const char *room)
{
	struct store_crypto *v;
	size_t n;
	int stale = 0;

	if (rec_list(e, "mem", room, NULL, &v, &n, NULL) < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		char *t = NULL;
		int64_t flag = 1;

		if (rec_get(e, "track", v[i].k2, NULL, NULL, &t, &flag,
			    NULL) != 0 || flag)
			stale = 1;
		free(t);
		if (stale && track(e, v[i].k2, NULL) < 0)
			break;
	}
	store_crypto_free(v, n);
	return stale;
}

/* A device of user left or changed: rooms with user get a new room key
 * before our next message. */
static int rotate_rooms_of(struct e2ee *e, const char *user, struct err *err)
{
	struct store_crypto m = { "mem", NULL, (char *)user, NULL, NULL, 0 };
	struct store_crypto *v;
	size_t n;
	int rc = 0;

	if (store_crypto_list(e->st, &m, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = rec_del(e, "mout", v[i].k1, NULL, NULL, err);
	store_crypto_free(v, n);
	return rc;
}

/* Room keys that came from a device we did not know yet: now that the
 * user's devices are known, keep those that match and drop the rest. */
static int confirm_sessions(struct e2ee *e, const char *user,
			    struct err *err)
{
	struct store_crypto *v;
	size_t n;
	int rc = 0;

	if (rec_list(e, "min", NULL, NULL, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_error_t je;
		json_t *j = json_loads(v[i].value, 0, &je);
		char *dev = NULL, *ed = NULL;

		if (j && json_integer_value(json_object_get(j, "v")) == 0 &&
		    jstr(j, "s") && !strcmp(jstr(j, "s"), user)) {
			if (device_by_curve(e, user, v[i].k2, &dev, &ed) == 0 &&
			    jstr(j, "ed") && !strcmp(ed, jstr(j, "ed"))) {
				json_object_set_new(j, "v", json_integer(1));
				rc = rec_put_json(e, "min", v[i].k1, v[i].k2,
						  v[i].k3, j, 0, err);
				if (rc == 0)
					rc = release_waiting(e, v[i].k3, err);
			} else {
				log_line("versleuteling: kamersleutel van %s "
					 "hoort bij geen van zijn apparaten; "
					 "weggegooid", user);
				rc = rec_del(e, "min", v[i].k1, v[i].k2,
					     v[i].k3, err);
			}
		}
		free(dev);
		free(ed);
		json_decref(j);
	}
	store_crypto_free(v, n);
	return rc;
}

/* One user's devices from /keys/query: signed by themselves, ids as
 * claimed, an identity key never changing under a device id. */
static int devices_update(struct e2ee *e, const char *user, json_t *devs,
			  struct err *err)
{
	struct store_crypto *v;
	size_t n;
	const char *did;
	json_t *keys;
	int gone = 0, rc = 0;
	struct sbuf ck, ek;

	sbuf_init(&ck);
	sbuf_init(&ek);
	json_object_foreach(devs, did, keys) {
		const char *c, *ed;
		json_t *old;

		key_id(&ck, "curve25519", did);
		key_id(&ek, "ed25519", did);
		c = jstr(json_object_get(keys, "keys"), sbuf_str(&ck));
		ed = jstr(json_object_get(keys, "keys"), sbuf_str(&ek));
		if (!c || !ed || !jstr(keys, "user_id") ||
		    strcmp(jstr(keys, "user_id"), user) ||
		    !jstr(keys, "device_id") ||
		    strcmp(jstr(keys, "device_id"), did) ||
		    crypto_verify_json(keys, user, did, ed, NULL) != 0) {
			log_line("versleuteling: sleutels van %s %s niet "
				 "geldig ondertekend; genegeerd", user, did);
			continue;
		}
		old = rec_json(e, "dev", user, did, NULL);
		if (old && jstr(old, "e") && strcmp(jstr(old, "e"), ed)) {
			log_line("versleuteling: %s %s kreeg andere sleutels; "
				 "genegeerd", user, did);
			json_decref(old);
			continue;
		}
		json_decref(old);
		old = json_pack("{s:s, s:s}", "c", c, "e", ed);
		rc = rec_put_json(e, "dev", user, did, NULL, old, 0, err);
		json_decref(old);
		if (rc < 0)
			break;
	}
	sbuf_release(&ck);
	sbuf_release(&ek);
	if (rc < 0 || rec_list(e, "dev", user, NULL, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (json_object_get(devs, v[i].k2))
			continue;
		gone = 1;
		rc = rec_del(e, "dev", user, v[i].k2, NULL, err);
	}
	store_crypto_free(v, n);
	if (rc == 0 && gone)
		rc = rotate_rooms_of(e, user, err);
	if (rc == 0)
		rc = rec_put(e, "track", user, NULL, NULL, "1", 0, err);
	if (rc == 0)
		rc = confirm_sessions(e, user, err);
	return rc;
}

static void query_done(struct e2ee *e, long status, json_t *body,
		       json_t *users)
{
	json_t *all = json_object_get(body, "device_keys"), *u;
	size_t i;
	struct err err;
	int ok = 1;

	e->query_busy = 0;
	e->stale = 1;   /* more may have gone stale meanwhile: look again */
	if (status != 200) {
		log_line("versleuteling: apparaten opvragen mislukt (HTTP %ld)",
			 status);
		e->hold_until = mono_ms() + HOLD_MS;
		return;
	}
	if (tx_begin(e) < 0)
		return;
	json_array_foreach(users, i, u) {
		json_t *devs = json_object_get(all, json_string_value(u));

		if (!json_is_object(devs)) {
			/* its server did not answer (see "failures"): keep
			 * what we know rather than forget every device */
			log_line("versleuteling: apparaten van %s niet "
				 "opgehaald; ik houd wat ik weet",
				 json_string_value(u));
			if (rec_put(e, "track", json_string_value(u), NULL,
				    NULL, "1", 0, &err) < 0) {
				ok = 0;
				break;
			}
			continue;
		}
		if (devices_update(e, json_string_value(u), devs, &err) < 0) {
			log_line("versleuteling: %s", err.msg);
			ok = 0;
			break;
		}
	}
	tx_end(e, ok);
}

static void fetch_members(struct e2ee *e, const char *room)
{
	json_object_set_new(e->busy, room, json_true());
	mx_room_members(e->mx, room, call_done, call_new(e, C_MEMBERS, room,
							 NULL));
}

static int member_set(struct e2ee *e, const char *room, const char *user,
		      const char *membership, struct err *err)
{
	int was = rec_has(e, "mem", room, user, NULL);

	if (!strcmp(membership, "join") || !strcmp(membership, "invite")) {
		if (rec_put(e, "mem", room, user, NULL, membership, 0,
			    err) < 0)
			return -1;
		if (!rec_has(e, "track", user, NULL, NULL))
			return track(e, user, err);
		return 0;
	}
	if (!was)
		return 0;
	/* someone left: the next message gets a key they do not have */
	if (rec_del(e, "mem", room, user, NULL, err) < 0)
		return -1;
	return rec_del(e, "mout", room, NULL, NULL, err);
}

static void members_done(struct e2ee *e, const char *room, long status,
			 json_t *body)
{
	json_t *ev;
	size_t i;
	struct err err;
	int ok = 1;

	json_object_del(e->busy, room);
	if (status != 200) {
		e->hold_until = mono_ms() + HOLD_MS;
		return;
	}
	if (tx_begin(e) < 0)
		return;
	json_array_foreach(json_object_get(body, "chunk"), i, ev) {
		const char *who = jstr(ev, "state_key");
		const char *ms = jstr(json_object_get(ev, "content"),
				      "membership");

		if (who && ms && member_set(e, room, who, ms, &err) < 0) {
			ok = 0;
			break;
		}
	}
	if (ok && rec_put(e, "memok", room, NULL, NULL, "1", 0, &err) < 0)
		ok = 0;
	if (!ok)
		log_line("versleuteling: %s", err.msg);
	tx_end(e, ok);
}

/* --- our keys on the server ------------------------------------------ */

static void upload_keys(struct e2ee *e, int with_device)
{
	size_t half = crypto_account_max_otks(e->acct) / 2;
	size_t n = with_device || e->otk_count < 0 ? half :
		   (size_t)e->otk_count < half ? half - (size_t)e->otk_count : 0;
	json_t *otks, *fb, *body;
	struct err err;

	if (tx_begin(e) < 0)
		return;
	otks = crypto_account_new_otks(e->acct, n);
	if (with_device || e->want_fallback)
		crypto_account_new_fallback(e->acct, NULL);
	fb = crypto_account_fallback(e->acct);
	/* stored before they leave: a key on the server is always ours */
	if (save_account(e, &err) < 0) {
		log_line("versleuteling: %s", err.msg);
		tx_end(e, 0);
		json_decref(otks);
		json_decref(fb);
		return;
	}
	tx_end(e, 1);
	body = json_pack("{s:o, s:o}", "one_time_keys", signed_keys(e, otks, 0),
			 "fallback_keys", signed_keys(e, fb, 1));
	if (with_device)
		json_object_set_new(body, "device_keys", device_keys(e));
	e->keys_busy = 1;
	mx_keys_upload(e->mx, body, call_done, call_new(e, C_KEYS, NULL,
		       json_pack("{s:b}", "device", with_device)));
	json_decref(body);
	json_decref(otks);
	json_decref(fb);
}

static void keys_done(struct e2ee *e, long status, json_t *body,
		      json_t *ctx)
{
	json_t *cnt = json_object_get(json_object_get(body,
				"one_time_key_counts"), OTK_ALG);
	struct err err;
	int ok;

	e->keys_busy = 0;
	if (status != 200) {
		log_line("versleuteling: sleutels uploaden mislukt (HTTP %ld "
			 "%s)", status, jstr(body, "errcode") ?
			 jstr(body, "errcode") : "");
		e->hold_until = mono_ms() + HOLD_MS * 5;
		return;
	}
	if (tx_begin(e) < 0)
		return;
	crypto_account_mark_published(e->acct);
	ok = save_account(e, &err) == 0;
	if (ok && json_is_true(json_object_get(ctx, "device"))) {
		ok = rec_put(e, "keys_up", NULL, NULL, NULL, "1", 0, &err) == 0;
		e->keys_up = ok;
	}
	if (!ok)
		log_line("versleuteling: %s", err.msg);
	tx_end(e, ok);
	e->otk_count = json_is_integer(cnt) ? (int)json_integer_value(cnt) :
		       -1;
	e->want_fallback = 0;
}

/* One of our cross-signing keys, made and stored on first use. */
static struct crypto_signing *xsign_key(struct e2ee *e, const char *name,
					struct err *err)
{
	struct crypto_signing *k = NULL;
	char *p = NULL;
	int rc = rec_get(e, "xsign", name, NULL, NULL, &p, NULL, err);

	if (rc < 0)
		return NULL;
	if (rc == 0) {
		rc = crypto_signing_unpickle(e->key, e->keylen, p, &k, err);
		crypto_free_secret(p);
		return rc < 0 ? NULL : k;
	}
	k = crypto_signing_new();
	p = crypto_signing_pickle(k, e->key, e->keylen);
	rc = rec_put(e, "xsign", name, NULL, NULL, p, 0, err);
	crypto_free_secret(p);
	if (rc < 0) {
		crypto_signing_free(k);
		return NULL;
	}
	return k;
}

static json_t *xsign_obj(struct e2ee *e, struct crypto_signing *k,
			 const char *usage)
{
	char kid[128];

	xsnprintf(kid, sizeof(kid), "ed25519:%s", crypto_signing_public(k));
	return json_pack("{s:s, s:[s], s:{s:s}}", "user_id", e->user,
			 "usage", usage, "keys", kid,
			 crypto_signing_public(k));
}

static void xsign_start(struct e2ee *e)
{
	struct crypto_signing *m = NULL, *s = NULL, *u = NULL;
	struct err err;
	json_t *body = NULL, *so, *uo;
	int ok;

	if (!e->cfg->password_file) {
		log_line("versleuteling: zonder password_file kan ik mijn "
			 "apparaat niet kruislings ondertekenen; clients die "
			 "alleen ondertekende apparaten vertrouwen, lezen "
			 "mij dan niet");
		e->xsign_failed = 1;
		return;
	}
	if (tx_begin(e) < 0)
		return;
	m = xsign_key(e, "master", &err);
	s = m ? xsign_key(e, "self", &err) : NULL;
	u = s ? xsign_key(e, "user", &err) : NULL;
	ok = u != NULL;
	if (!ok)
		log_line("versleuteling: %s", err.msg);
	tx_end(e, ok);
	if (ok) {
		so = xsign_obj(e, s, "self_signing");
		uo = xsign_obj(e, u, "user_signing");
		sign_json_with(e, m, so);
		sign_json_with(e, m, uo);
		body = json_pack("{s:o, s:o, s:o}", "master_key",
				 xsign_obj(e, m, "master"),
				 "self_signing_key", so,
				 "user_signing_key", uo);
		e->xsign_busy = 1;
		mx_keys_signing_upload(e->mx, body, call_done,
			call_new(e, C_XSIGN, NULL,
				 json_pack("{s:O}", "body", body)));
	}
	json_decref(body);
	crypto_signing_free(m);
	crypto_signing_free(s);
	crypto_signing_free(u);
}

/* The upload asked for the password (user-interactive auth). */
static void xsign_auth(struct e2ee *e, json_t *ctx, const char *session)
{
	char *pw = NULL;
	struct err err;
	json_t *body;
	const char *v;

	if (config_read_secret(e->cfg->password_file, &pw, &err) < 0) {
		log_line("versleuteling: %s", err.msg);
		e->xsign_failed = 1;
		return;
	}
	body = json_deep_copy(json_object_get(ctx, "body"));
	json_object_set_new(body, "auth", json_pack(
		"{s:s, s:{s:s, s:s}, s:s, s:s}", "type", "m.login.password",
		"identifier", "type", "m.id.user", "user", e->user,
		"password", pw, "session", session));
	crypto_free_secret(pw);
	e->xsign_busy = 1;
	mx_keys_signing_upload(e->mx, body, call_done,
			       call_new(e, C_XSIGN, NULL,
					json_pack("{s:b}", "auth", 1)));
	v = jstr(json_object_get(body, "auth"), "password");
	if (v)
		explicit_bzero((char *)v, strlen(v));
	json_decref(body);
}

static void xsign_done(struct e2ee *e, long status, json_t *body,
		       json_t *ctx)
{
	struct crypto_signing *s;
	struct err err;
	json_t *dk, *req;

	e->xsign_busy = 0;
	if (status == 401 && jstr(body, "session") &&
	    json_object_get(ctx, "body")) {
		xsign_auth(e, ctx, jstr(body, "session"));
		return;
	}
	if (status != 200) {
		log_line("versleuteling: kruisondertekeningssleutels uploaden "
			 "mislukt (HTTP %ld %s)", status, jstr(body, "errcode") ?
			 jstr(body, "errcode") : "");
		e->xsign_failed = 1;
		return;
	}
	if (tx_begin(e) < 0)
		return;
	s = xsign_key(e, "self", &err);
	tx_end(e, s != NULL);
	if (!s) {
		log_line("versleuteling: %s", err.msg);
		e->xsign_failed = 1;
		return;
	}
	dk = device_keys(e);
	sign_json_with(e, s, dk);
	crypto_signing_free(s);
	req = json_pack("{s:{s:o}}", e->user, e->device, dk);
	e->xsign_busy = 1;
	mx_keys_signatures_upload(e->mx, req, call_done,
				  call_new(e, C_SIGS, NULL, NULL));
	json_decref(req);
}

static void sigs_done(struct e2ee *e, long status, json_t *body)
{
	struct err err;

	e->xsign_busy = 0;
	if (status != 200 || json_object_size(json_object_get(body,
							      "failures"))) {
		log_line("versleuteling: apparaat ondertekenen mislukt (HTTP "
			 "%ld)", status);
		e->xsign_failed = 1;
		return;
	}
	if (rec_put(e, "xsign_done", NULL, NULL, NULL, "1", 0, &err) < 0) {
		log_line("versleuteling: %s", err.msg);
		return;
	}
	e->xsign_up = 1;
	log_line("versleuteling: apparaat %s kruislings ondertekend",
		 e->device);
}

void e2ee_poll(struct e2ee *e)
{
	size_t half = crypto_account_max_otks(e->acct) / 2;

	if (mono_ms() < e->hold_until)
		return;
	if (!e->keys_busy) {
		if (!e->keys_up)
			upload_keys(e, 1);
		else if ((e->otk_count >= 0 && (size_t)e->otk_count < half) ||
			 e->want_fallback)
			upload_keys(e, 0);
	}
	if (e->keys_up && !e->xsign_busy && !e->xsign_failed && !e->xsign_up)
		xsign_start(e);
	query(e);
}

/* --- receiving ------------------------------------------------------- */

enum dec { DEC_OK, DEC_NOKEY, DEC_UNCONFIRMED, DEC_REJECT };

/* Decrypt a Megolm room event with a stored session. */
static int megolm_decrypt(struct e2ee *e, const char *room, json_t *ev,
			  enum dec *res, json_t **out, struct err *err)
{
	json_t *c = json_object_get(ev, "content"), *j = NULL, *pt = NULL;
	const char *sk = jstr(c, "sender_key"), *sid = jstr(c, "session_id");
	const char *ct = jstr(c, "ciphertext"), *alg = jstr(c, "algorithm");
	const char *sender = jstr(ev, "sender"), *eid = jstr(ev, "event_id");
	struct crypto_megolm_in *s = NULL;
	char *plain = NULL, *seen = NULL, idx[16];
	uint32_t index;
	json_error_t je;
	int rc = 0, dr;
	struct err cerr;

	*out = NULL;
	*res = DEC_REJECT;
	if (!sk || !sid || !ct || !alg || !sender || !eid ||
	    strcmp(alg, MEGOLM_ALG))
		goto out;
	j = rec_json(e, "min", room, sk, sid);
	if (!j) {
		*res = DEC_NOKEY;
		goto out;
	}
	if (json_integer_value(json_object_get(j, "v")) != 1) {
		*res = DEC_UNCONFIRMED;
		goto out;
	}
	if (crypto_megolm_in_unpickle(e->key, e->keylen, jstr(j, "p"), &s,
				      &cerr) < 0)
		goto out;
	dr = crypto_megolm_in_decrypt(s, ct, &plain, &index, &cerr);
	if (dr == CRYPTO_EUNKNOWN) {
		*res = DEC_NOKEY;
		goto out;
	}
	if (dr < 0) {
		log_line("versleuteling: bericht %s in %s geweigerd: %s", eid,
			 room, cerr.msg);
		goto out;
	}
	if (!jstr(j, "s") || strcmp(jstr(j, "s"), sender)) {
		log_line("versleuteling: bericht %s in %s geweigerd: de sleutel "
			 "hoort bij %s, niet bij %s", eid, room,
			 jstr(j, "s") ? jstr(j, "s") : "?", sender);
		goto out;
	}
	xsnprintf(idx, sizeof(idx), "%u", (unsigned)index);
	{
		char *v = NULL;
		int64_t floor = -1;

		rc = rec_get(e, "seenmax", sk, sid, NULL, &v, &floor, err);
		free(v);
		if (rc < 0)
			goto out;
		if (rc == 0 && (int64_t)index <= floor) {
			log_line("versleuteling: bericht %s in %s geweigerd: "
				 "index %s is al verlopen (herhaling?)", eid,
				 room, idx);
			rc = 0;
			goto out;
		}
	}
	rc = rec_get(e, "seen", sk, sid, idx, &seen, NULL, err);
	if (rc < 0)
		goto out;
	if (rc == 0 && strcmp(seen, eid)) {
		log_line("versleuteling: bericht %s in %s geweigerd: herhaling "
			 "van %s (index %s)", eid, room, seen, idx);
		rc = 0;
		goto out;
	}
	rc = rec_put(e, "seen", sk, sid, idx, eid, now_ms(), err);
	if (rc < 0)
		goto out;
	pt = json_loads(plain, 0, &je);
	if (!json_is_object(pt) || !jstr(pt, "type") ||
	    !json_is_object(json_object_get(pt, "content")) ||
	    !jstr(pt, "room_id") || strcmp(jstr(pt, "room_id"), room)) {
		log_line("versleuteling: bericht %s in %s geweigerd: inhoud "
			 "hoort niet bij deze kamer", eid, room);
		goto out;
	}
	*out = json_deep_copy(ev);
	/* The plaintext is never state: an encrypted state event must not
	 * pass for m.room.create or m.room.power_levels. */
	json_object_del(*out, "state_key");
	json_object_set(*out, "type", json_object_get(pt, "type"));
	/* relations travel in the clear, beside the ciphertext */
	if (json_is_object(json_object_get(c, "m.relates_to")) &&
	    !json_object_get(json_object_get(pt, "content"), "m.relates_to"))
		json_object_set(json_object_get(pt, "content"), "m.relates_to",
				json_object_get(c, "m.relates_to"));
	json_object_set(*out, "content", json_object_get(pt, "content"));
	*res = DEC_OK;
out:
	json_decref(pt);
	crypto_free_secret(plain);
	free(seen);
	crypto_megolm_in_free(s);
	json_decref(j);
	return rc < 0 ? -1 : 0;
}

/* Oldest first: by arrival (n), then by how the store listed them. */
struct waiting {
	int64_t n;
	size_t i;
};

static int waiting_cmp(const void *a, const void *b)
{
	const struct waiting *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Waiting events of session sid that now decrypt go to e->ready, in the
 * order they arrived (the persona answers them in that order). */
static int release_waiting(struct e2ee *e, const char *sid, struct err *err)
{
	struct store_crypto *v;
	struct waiting *order;
	size_t n;
	int rc = 0;

	if (rec_list(e, "wait", sid, NULL, &v, &n, err) < 0)
		return -1;
	order = xcalloc(n ? n : 1, sizeof(*order));
	for (size_t i = 0; i < n; i++) {
		order[i].n = v[i].n;
		order[i].i = i;
	}
	qsort(order, n, sizeof(*order), waiting_cmp);
	for (size_t k = 0; k < n && rc == 0; k++) {
		size_t i = order[k].i;
		json_error_t je;
		json_t *ev = json_loads(v[i].value, 0, &je), *out = NULL;
		enum dec res = DEC_REJECT;

		if (ev)
			rc = megolm_decrypt(e, v[i].k3, ev, &res, &out, err);
		if (rc == 0 && res == DEC_OK)
			json_array_append_new(e->ready, json_pack(
				"{s:s, s:o, s:s, s:s}", "room", v[i].k3,
				"event", out, "sid", sid, "eid", v[i].k2));
		else if (rc == 0 && res == DEC_REJECT)
			rc = rec_del(e, "wait", sid, v[i].k2, v[i].k3, err);
		json_decref(ev);
	}
	free(order);
	store_crypto_free(v, n);
	return rc;
}

int e2ee_take_ready(struct e2ee *e, struct mx_event **out, size_t *n,
		    struct err *err)
{
	json_t *r = e->ready, *it;
	size_t i, k = 0;
	struct mx_event *v;

	*out = NULL;
	*n = 0;
	if (!json_array_size(r))
		return 0;
	json_array_foreach(r, i, it) {
		if (rec_del(e, "wait", jstr(it, "sid"), jstr(it, "eid"),
			    jstr(it, "room"), err) < 0)
			return -1;
	}
	v = xcalloc(json_array_size(r), sizeof(*v));
	json_array_foreach(r, i, it) {
		if (mx_event_take(json_object_get(it, "event"),
				  jstr(it, "room"), &v[k]) < 0) {
			mx_event_release(&v[k]);
			continue;
		}
		k++;
	}
	json_decref(r);
	e->ready = json_array();
	*out = v;
	*n = k;
	return 0;
}

static int key_request(struct e2ee *e, const char *room, const char *user,
		       const char *sk, const char *sid, struct err *err)
{
	char rid[64];
	json_t *m, *rec;
	int rc;

	txn_id(rid, sizeof(rid));
	rec = json_pack("{s:s, s:s}", "id", rid, "u", user);
	rc = rec_put_json(e, "kreq", sid, room, NULL, rec, now_ms(), err);
	json_decref(rec);
	if (rc < 0)
		return -1;
	m = json_pack("{s:{s:{s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:s}}}",
		      user, "*", "action", "request", "body",
		      "algorithm", MEGOLM_ALG, "room_id", room,
		      "sender_key", sk, "session_id", sid,
		      "request_id", rid, "requesting_device_id", e->device);
	send_to_device(e, "m.room_key_request", m, C_OTHER, NULL, NULL);
	json_decref(m);
	return 0;
}

/* The key of session sid in room came: withdraw our request for it, so
 * the sender's other devices stop offering it. */
static int key_request_cancel(struct e2ee *e, const char *room,
			      const char *sid, struct err *err)
{
	json_t *rec = rec_json(e, "kreq", sid, room, NULL), *m;

	if (!rec)
		return 0;
	if (jstr(rec, "id") && jstr(rec, "u")) {
		m = json_pack("{s:{s:{s:s, s:s, s:s}}}", jstr(rec, "u"), "*",
			      "action", "request_cancellation", "request_id",
			      jstr(rec, "id"), "requesting_device_id",
			      e->device);
		send_to_device(e, "m.room_key_request", m, C_OTHER, NULL,
			       NULL);
		json_decref(m);
	}
	json_decref(rec);
	return rec_del(e, "kreq", sid, room, NULL, err);
}

/* How many events from sender wait in room. */
static int waiting_from(struct e2ee *e, const char *room, const char *sender,
			size_t *count, struct err *err)
{
	struct store_crypto m = { "wait", NULL, NULL, (char *)room, NULL, 0 };
	struct store_crypto *v;
	size_t n;

	*count = 0;
	if (store_crypto_list(e->st, &m, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_error_t je;
		json_t *w = json_loads(v[i].value, 0, &je);

		*count += w && jstr(w, "sender") &&
			  !strcmp(jstr(w, "sender"), sender);
		json_decref(w);
	}
	store_crypto_free(v, n);
	return 0;
}

int e2ee_decrypt(struct e2ee *e, const struct mx_event *mev,
		 enum e2ee_result *res, struct mx_event *plain,
		 struct err *err)
{
	const char *room = mev->room;
	json_t *ev = mev->json, *out = NULL;
	json_t *c = json_object_get(ev, "content");
	const char *sk = jstr(c, "sender_key"), *sid = jstr(c, "session_id");
	const char *sender = mev->sender, *eid = mev->id;
	enum dec d;
	char *text;
	int rc;

	memset(plain, 0, sizeof(*plain));
	if (megolm_decrypt(e, room, ev, &d, &out, err) < 0)
		return -1;
	if (d == DEC_OK) {
		/* what it decrypted to is parsed like any event; one that
		 * is not well formed is as good as rejected */
		rc = mx_event_take(out, room, plain);
		json_decref(out);
		*res = rc == 0 ? E2EE_OK : E2EE_REJECTED;
		if (rc < 0)
			mx_event_release(plain);
		return 0;
	}
	if (d == DEC_REJECT) {
		*res = E2EE_REJECTED;
		return 0;
	}
	/* kept until its key arrives (or its sender's device is known),
	 * up to WAIT_MAX per sender and room: more is a flood */
	{
		size_t waiting;

		if (waiting_from(e, room, sender, &waiting, err) < 0)
			return -1;
		if (waiting >= WAIT_MAX) {
			log_line("versleuteling: al %zu onleesbare berichten "
				 "van %s in %s; %s niet bewaard", waiting,
				 sender, room, eid);
			*res = E2EE_WAITING;
			return 0;
		}
	}
	text = json_dumps(ev, JSON_COMPACT);
	rc = rec_put(e, "wait", sid, eid, room, text ? text : "{}", now_ms(),
		     err);
	free(text);
	if (rc < 0)
		return -1;
	*res = E2EE_WAITING;
	if (d == DEC_UNCONFIRMED)
		return track(e, sender, err);
	if (rec_has(e, "told", room, sender, sid))
		return 0;
	if (rec_put(e, "told", room, sender, sid, "1", now_ms(), err) < 0 ||
	    key_request(e, room, sender, sk, sid, err) < 0)
		return -1;
	/* one notice per sender and room an hour, however many sessions */
	{
		char *v = NULL;
		int64_t when = 0;

		rc = rec_get(e, "told1", room, sender, NULL, &v, &when, err);
		free(v);
		if (rc < 0)
			return -1;
		if (rc == 0 && now_ms() - when < TELL_EVERY_MS)
			return 0;
	}
	if (rec_put(e, "told1", room, sender, NULL, "1", now_ms(), err) < 0)
		return -1;
	*res = E2EE_WAITING_FIRST;
	return 0;
}

/* An m.room_key (from the session's creator) or m.forwarded_room_key. */
static int room_key(struct e2ee *e, const char *sender, const char *curve,
		    const char *ed, json_t *c, int forwarded,
		    struct err *err)
{
	const char *room = jstr(c, "room_id"), *sid = jstr(c, "session_id");
	const char *skey = jstr(c, "session_key");
	const char *owner_key = forwarded ? jstr(c, "sender_key") : curve;
	const char *claimed = forwarded ?
			      jstr(c, "sender_claimed_ed25519_key") : ed;
	struct crypto_megolm_in *s = NULL, *old = NULL;
	char *dev = NULL, *ded = NULL, *id = NULL, *p = NULL;
	json_t *j = NULL, *rec = NULL;
	int verified = 0, rc = 0, known;

	if (!room || !sid || !skey || !owner_key || !claimed ||
	    !jstr(c, "algorithm") || strcmp(jstr(c, "algorithm"), MEGOLM_ALG))
		return 0;
	known = device_by_curve(e, sender, curve, &dev, &ded);
	if (known < 0)
		return -1;
	if (known == 0 && strcmp(ded, ed)) {
		log_line("versleuteling: sleutel van %s komt niet van zijn "
			 "apparaat %s; genegeerd", sender, dev);
		goto out;
	}
	verified = known == 0;
	if (forwarded) {
		/* only for a message we wait for, from the forwarder itself */
		struct store_crypto *v;
		size_t n;
		int match = 0;

		if (!verified)
			goto out;
		if (rec_list(e, "wait", sid, NULL, &v, &n, err) < 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			json_error_t je;
			json_t *w = json_loads(v[i].value, 0, &je);

			match |= w && !strcmp(v[i].k3, room) &&
				 jstr(w, "sender") &&
				 !strcmp(jstr(w, "sender"), sender);
			json_decref(w);
		}
		store_crypto_free(v, n);
		if (!match)
			goto out;
	}
	if (crypto_megolm_in_new(skey, forwarded, &s, NULL) < 0)
		goto out;
	id = crypto_megolm_in_id(s);
	if (strcmp(id, sid))
		goto out;
	j = rec_json(e, "min", room, owner_key, sid);
	if (j && crypto_megolm_in_unpickle(e->key, e->keylen, jstr(j, "p"),
					   &old, NULL) == 0 &&
	    crypto_megolm_in_first_index(old) <=
	    crypto_megolm_in_first_index(s) &&
	    json_integer_value(json_object_get(j, "v")) >= verified)
		goto out;   /* what we have is as good */
	if (!verified) {
		rc = track(e, sender, err);
		if (rc < 0)
			goto out;
	}
	p = crypto_megolm_in_pickle(s, e->key, e->keylen);
	rec = json_pack("{s:s, s:s, s:s, s:i}", "p", p, "s", sender,
			"ed", claimed, "v", verified);
	rc = rec_put_json(e, "min", room, owner_key, sid, rec, 0, err);
	if (rc == 0)
		rc = key_request_cancel(e, room, sid, err);
	if (rc == 0 && verified)
		rc = release_waiting(e, sid, err);
out:
	crypto_free_secret(p);
	json_decref(rec);
	json_decref(j);
	free(id);
	free(dev);
	free(ded);
	crypto_megolm_in_free(s);
	crypto_megolm_in_free(old);
	return rc;
}

/* An Olm session that no longer decrypts: start a fresh one with an
 * m.dummy, at most once an hour per device. */
static int unwedge(struct e2ee *e, const char *sender, const char *curve,
		   struct err *err)
{
	char *dev = NULL, *ed = NULL, *t = NULL;
	int64_t when = 0;
	int rc;

	rc = device_by_curve(e, sender, curve, &dev, &ed);
	if (rc != 0) {
		free(dev);
		free(ed);
		return rc < 0 ? -1 : track(e, sender, err);
	}
	if (rec_get(e, "dummy", curve, NULL, NULL, &t, &when, NULL) == 0 &&
	    now_ms() - when < DUMMY_EVERY_MS)
		goto out;
	if (e->claim_busy)
		goto out;
	rc = rec_put(e, "dummy", curve, NULL, NULL, "1", now_ms(), err);
	if (rc == 0) {
		log_line("versleuteling: sessie met %s %s hapert; ik begin een "
			 "nieuwe", sender, dev);
		json_t *want = json_pack("{s:{s:s}}", sender, dev, OTK_ALG);

		claim(e, want, json_pack("{s:b, s:s, s:s}", "dummy", 1, "user",
					 sender, "device", dev));
		json_decref(want);
	}
out:
	free(t);
	free(dev);
	free(ed);
	return rc;
}

/* A key verification message that came Olm-encrypted (its sender is
 * checked): cancelled like a plain one (verify.h; the cancel goes
 * plain, as clients accept). Only logged: the notice is for the plain
 * ones, which mx hands to the bot. */
static void verify_olm(struct e2ee *e, json_t *pt)
{
	struct verify_msg m;

	if (!verify_parse_to_device(pt, &m))
		return;
	verify_cancel_to_device(e->mx, &m, e->xsign_up);
	log_line("verificatie door %s (versleuteld) afgebroken (%s)",
		 m.sender, verify_code(&m));
}

static int olm_event(struct e2ee *e, json_t *ev, struct err *err)
{
	json_t *c = json_object_get(ev, "content"), *pt = NULL, *m;
	const char *sender = jstr(ev, "sender"), *sk = jstr(c, "sender_key");
	const char *body, *type;
	char *plain = NULL;
	json_error_t je;
	int rc;

	m = json_object_get(json_object_get(c, "ciphertext"),
			    crypto_account_curve25519(e->acct));
	body = jstr(m, "body");
	if (!sender || !sk || !body || !json_is_integer(json_object_get(m,
			"type")) || !jstr(c, "algorithm") ||
	    strcmp(jstr(c, "algorithm"), OLM_ALG) ||
	    !strcmp(sk, crypto_account_curve25519(e->acct)))
		return 0;
	rc = olm_unwrap(e, sk, (int)json_integer_value(json_object_get(m,
			"type")), body, &plain, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return unwedge(e, sender, sk, err);
	pt = json_loads(plain, 0, &je);
	crypto_free_secret(plain);
	type = jstr(pt, "type");
	if (!type || !jstr(pt, "sender") || strcmp(jstr(pt, "sender"), sender) ||
	    !jstr(pt, "recipient") || strcmp(jstr(pt, "recipient"), e->user) ||
	    !jstr(json_object_get(pt, "recipient_keys"), "ed25519") ||
	    strcmp(jstr(json_object_get(pt, "recipient_keys"), "ed25519"),
		   crypto_account_ed25519(e->acct)) ||
	    !jstr(json_object_get(pt, "keys"), "ed25519")) {
		log_line("versleuteling: bericht van %s niet voor mij of niet "
			 "van hem; genegeerd", sender);
		rc = 0;
	} else if (!strcmp(type, "m.room_key") ||
		   !strcmp(type, "m.forwarded_room_key")) {
		rc = room_key(e, sender, sk, jstr(json_object_get(pt, "keys"),
			      "ed25519"), json_object_get(pt, "content"),
			      !strcmp(type, "m.forwarded_room_key"), err);
	} else {
		verify_olm(e, pt);
	}
	/* the plaintext held a room key: wipe it */
	if (pt) {
		json_t *ck = json_object_get(json_object_get(pt, "content"),
					     "session_key");

		if (json_string_value(ck))
			explicit_bzero((char *)json_string_value(ck),
				       strlen(json_string_value(ck)));
	}
	json_decref(pt);
	return rc;
}

/* Seen rows older than EXPIRE_MS go; per Megolm session the highest
 * expired index is kept, and that index and those below count as
 * replays from then on. */
static int expire_seen(struct e2ee *e, int64_t before, struct err *err)
{
	struct store_crypto *v;
	size_t n;
	int rc = 0;

	if (store_crypto_older(e->st, "seen", before, &v, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *end, *old = NULL;
		long long idx = strtoll(v[i].k3, &end, 10);
		int64_t floor = -1;

		if (end == v[i].k3 || *end || idx < 0)
			continue;
		rc = rec_get(e, "seenmax", v[i].k1, v[i].k2, NULL, &old, &floor,
			     err);
		free(old);
		if (rc == 1 || (rc == 0 && idx > floor))
			rc = rec_put(e, "seenmax", v[i].k1, v[i].k2, NULL, "1",
				     idx, err);
	}
	store_crypto_free(v, n);
	if (rc < 0)
		return -1;
	return store_crypto_delete_older(e->st, "seen", before, err);
}

/* At most once an EXPIRE_EVERY_MS: forget what has waited, been told or
 * been seen longer than EXPIRE_MS (in the batch's transaction). */
static int expire(struct e2ee *e, struct err *err)
{
	static const char *const kinds[] = { "wait", "told", "told1",
					     "kreq" };
	int64_t before = now_ms() - EXPIRE_MS;

	if (e->expired_at && mono_ms() - e->expired_at < EXPIRE_EVERY_MS)
		return 0;
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
		if (store_crypto_delete_older(e->st, kinds[i], before, err) < 0)
			return -1;
	if (expire_seen(e, before, err) < 0)
		return -1;
	e->expired_at = mono_ms();
	return 0;
}

int e2ee_sync(struct e2ee *e, const struct mx_sync *s, struct err *err)
{
	json_t *root = s->root, *ev, *dl, *u, *cnt, *fb;
	size_t i;

	if (expire(e, err) < 0)
		return -1;

	json_array_foreach(json_object_get(json_object_get(root, "to_device"),
					   "events"), i, ev) {
		if (jstr(ev, "type") && !strcmp(jstr(ev, "type"),
						"m.room.encrypted") &&
		    olm_event(e, ev, err) < 0)
			return -1;
	}
	dl = json_object_get(root, "device_lists");
	json_array_foreach(json_object_get(dl, "changed"), i, u) {
		if (json_is_string(u) &&
		    rec_has(e, "track", json_string_value(u), NULL, NULL) &&
		    track(e, json_string_value(u), err) < 0)
			return -1;
	}
	json_array_foreach(json_object_get(dl, "left"), i, u) {
		if (!json_is_string(u))
			continue;
		if (rec_del(e, "dev", json_string_value(u), NULL, NULL,
			    err) < 0 ||
		    rec_del(e, "track", json_string_value(u), NULL, NULL,
			    err) < 0)
			return -1;
	}
	cnt = json_object_get(json_object_get(root,
			"device_one_time_keys_count"), OTK_ALG);
	if (json_is_integer(cnt))
		e->otk_count = (int)json_integer_value(cnt);
	else if (json_object_get(root, "device_one_time_keys_count"))
		e->otk_count = 0;
	fb = json_object_get(root, "device_unused_fallback_key_types");
	if (json_is_array(fb)) {
		int have = 0;

		json_array_foreach(fb, i, u)
			have |= json_is_string(u) &&
				!strcmp(json_string_value(u), OTK_ALG);
		e->want_fallback = !have;
	}
	return 0;
}

int e2ee_room_event(struct e2ee *e, const struct mx_event *ev,
		    struct err *err)
{
	const char *room = ev->room, *sk = ev->state_key;
	json_t *c = json_object_get(ev->json, "content");

	if (!sk)
		return 0;
	if (!strcmp(ev->type, "m.room.encryption") && !*sk) {
		if (!jstr(c, "algorithm") || strcmp(jstr(c, "algorithm"),
						    MEGOLM_ALG) ||
		    rec_has(e, "enc", room, NULL, NULL))
			return 0;
		return rec_put_json(e, "enc", room, NULL, NULL, c, 0, err);
	}
	if (!strcmp(ev->type, "m.room.member") && ev->membership &&
	    rec_has(e, "enc", room, NULL, NULL))
		return member_set(e, room, sk, ev->membership, err);
	return 0;
}

int e2ee_room_encrypted(struct e2ee *e, const char *room)
{
	return rec_has(e, "enc", room, NULL, NULL);
}

int e2ee_cross_signed(const struct e2ee *e)
{
	return e->xsign_up;
}

int e2ee_room_is_direct(struct e2ee *e, const char *room, const char *user)
{
	struct store_crypto *v;
	size_t n;
	int us = 0, them = 0;

	if (!rec_has(e, "enc", room, NULL, NULL) ||
	    rec_list(e, "mem", room, NULL, &v, &n, NULL) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		us += !strcmp(v[i].k2, e->user);
		them += !strcmp(v[i].k2, user);
	}
	store_crypto_free(v, n);
	return n == 2 && us == 1 && them == 1;
}

/* --- sending --------------------------------------------------------- */

/* The room's outbound session: the stored one, or a new one when there
 * is none or it is due for rotation. *sid: caller frees. */
static int outbound(struct e2ee *e, const char *room,
		    struct crypto_megolm_out **out, char **sid,
		    int64_t *created, struct err *err)
{
	struct crypto_megolm_out *s = NULL;
	struct crypto_megolm_in *mine = NULL;
	char *p = NULL, *k = NULL;
	json_t *rec;
	int rc;

	*out = NULL;
	*sid = NULL;
	rc = rec_get(e, "mout", room, NULL, NULL, &p, created, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		rc = crypto_megolm_out_unpickle(e->key, e->keylen, p, &s, err);
		crypto_free_secret(p);
		p = NULL;
		if (rc < 0)
			return -1;
		int64_t msgs = e->cfg->rotation_messages;
		int64_t ms = e->cfg->rotation_ms;
		json_t *enc = rec_json(e, "enc", room, NULL, NULL);
		json_t *rm = json_object_get(enc, "rotation_period_msgs");
		json_t *rt = json_object_get(enc, "rotation_period_ms");

		/* the room's own settings, when stricter, win */
		if (json_is_integer(rm) && json_integer_value(rm) > 0 &&
		    json_integer_value(rm) < msgs)
			msgs = json_integer_value(rm);
		if (json_is_integer(rt) && json_integer_value(rt) > 0 &&
		    json_integer_value(rt) < ms)
			ms = json_integer_value(rt);
		json_decref(enc);
		if ((int64_t)crypto_megolm_out_index(s) < msgs &&
		    now_ms() - *created < ms) {
			*out = s;
			*sid = crypto_megolm_out_id(s);
			return 0;
		}
		crypto_megolm_out_free(s);
	}
	s = crypto_megolm_out_new();
	*created = now_ms();
	*sid = crypto_megolm_out_id(s);
	/* our own inbound copy: our lines come back encrypted in /sync */
	k = crypto_megolm_out_key(s);
	rc = crypto_megolm_in_new(k, 0, &mine, err);
	crypto_free_secret(k);
	if (rc < 0)
		goto fail;
	p = crypto_megolm_in_pickle(mine, e->key, e->keylen);
	rec = json_pack("{s:s, s:s, s:s, s:i}", "p", p, "s", e->user,
			"ed", crypto_account_ed25519(e->acct), "v", 1);
	crypto_free_secret(p);
	rc = rec_put_json(e, "min", room, crypto_account_curve25519(e->acct),
			  *sid, rec, 0, err);
	json_decref(rec);
	crypto_megolm_in_free(mine);
	if (rc < 0)
		goto fail;
	p = crypto_megolm_out_pickle(s, e->key, e->keylen);
	rc = rec_put(e, "mout", room, NULL, NULL, p, *created, err);
	crypto_free_secret(p);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	crypto_megolm_out_free(s);
	free(*sid);
	*sid = NULL;
	return -1;
}

/* Give the room key to every member device that lacks it. 1 when all
 * have it, 0 when a request went out (or must wait), -1 on error. */
static int share(struct e2ee *e, const char *room,
		 struct crypto_megolm_out *s, const char *sid,
		 struct err *err)
{
	struct store_crypto *mem, *dev;
	size_t nmem, ndev;
	json_t *want = json_object(), *todo = json_array();
	json_t *messages = json_object(), *who = json_array(), *content;
	char *key = crypto_megolm_out_key(s);
	struct sbuf w;
	int rc = -1;

	sbuf_init(&w);
	content = json_pack("{s:s, s:s, s:s, s:s}", "algorithm", MEGOLM_ALG,
			    "room_id", room, "session_id", sid,
			    "session_key", key);
	crypto_free_secret(key);
	if (rec_list(e, "mem", room, NULL, &mem, &nmem, err) < 0)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < nmem; i++) {
			const char *u = mem[i].k2;

			if (!u || rec_list(e, "dev", u, NULL, &dev, &ndev,
					   err) < 0)
				continue;
			for (size_t d = 0; d < ndev; d++) {
				json_error_t je;
				json_t *k = json_loads(dev[d].value, 0, &je);

				user_device(&w, u, dev[d].k2);
				if (!k || (!strcmp(u, e->user) &&
					   !strcmp(dev[d].k2, e->device)) ||
				    rec_has(e, "shared", room, sid,
					    sbuf_str(&w))) {
					json_decref(k);
					continue;
				}
				if (pass == 0 && !has_olm(e, jstr(k, "c"))) {
					json_t *pu = json_object_get(want, u);

					if (!pu) {
						pu = json_object();
						json_object_set_new(want, u,
								    pu);
					}
					json_object_set_new(pu, dev[d].k2,
						json_string(OTK_ALG));
					json_array_append_new(todo, json_pack(
						"{s:s, s:s}", "u", u, "d",
						dev[d].k2));
				} else if (pass == 1 &&
					   olm_wrap(e, u, dev[d].k2,
						    jstr(k, "c"), jstr(k, "e"),
						    "m.room_key", content,
						    messages, err) == 0) {
					json_array_append_new(who,
						json_string(sbuf_str(&w)));
				}
				json_decref(k);
			}
			store_crypto_free(dev, ndev);
		}
		if (pass == 0 && json_object_size(want)) {
			if (!e->claim_busy)
				claim(e, want, json_pack("{s:s, s:s, s:O}",
					"room", room, "session", sid,
					"room_devices", todo));
			rc = 0;
			break;
		}
	}
	store_crypto_free(mem, nmem);
	if (rc == 0)
		goto out;
	if (!json_array_size(who)) {
		rc = 1;
		goto out;
	}
	json_object_set_new(e->busy, room, json_true());
	send_to_device(e, "m.room.encrypted", messages, C_SHARE, room,
		       json_pack("{s:s, s:O}", "session", sid, "who", who));
	rc = 0;
out:
	{
		json_t *sk = json_object_get(content, "session_key");

		explicit_bzero((char *)json_string_value(sk),
			       strlen(json_string_value(sk)));
	}
	json_decref(content);
	json_decref(want);
	json_decref(todo);
	json_decref(messages);
	json_decref(who);
	sbuf_release(&w);
	return rc;
}

static void share_done(struct e2ee *e, const char *room, long status,
		       json_t *ctx)
{
	json_t *w;
	size_t i;
	int ok = 1;

	json_object_del(e->busy, room);
	if (status != 200) {
		log_line("versleuteling: kamersleutel delen in %s mislukt "
			 "(HTTP %ld)", room, status);
		e->hold_until = mono_ms() + HOLD_MS;
		return;
	}
	if (tx_begin(e) < 0)
		return;
	json_array_foreach(json_object_get(ctx, "who"), i, w)
		if (rec_put(e, "shared", room, jstr(ctx, "session"),
			    json_string_value(w), "1", 0, NULL) < 0)
			ok = 0;
	tx_end(e, ok);
}

static int encrypt_event(struct e2ee *e, const char *room,
			 struct crypto_megolm_out *s, const char *sid,
			 int64_t created, const char *type, const char *body,
			 char **new_body, struct err *err)
{
	json_error_t je;
	json_t *content = json_loads(body, 0, &je), *pt, *c, *rel;
	char *text, *ct = NULL, *p;
	int rc = -1;

	if (!content)
		content = json_object();
	/* The relation also travels in the clear, beside the ciphertext, as
	 * the spec has it: the server aggregates by it, and nheko takes an
	 * encrypted event's relations from there only (without it, nheko
	 * never matches a verification cancel to its request). */
	rel = json_object_get(content, "m.relates_to");
	if (json_is_object(rel))
		json_incref(rel);
	else
		rel = NULL;
	pt = json_pack("{s:s, s:o, s:s}", "type", type, "content", content,
		       "room_id", room);
	text = json_dumps(pt, JSON_COMPACT);
	json_decref(pt);
	if (!text) {
		err_set(err, "bericht niet te coderen");
		goto out;
	}
	ct = crypto_megolm_out_encrypt(s, text);
	crypto_free_secret(text);
	/* stored before it leaves: an index is never used twice */
	p = crypto_megolm_out_pickle(s, e->key, e->keylen);
	rc = rec_put(e, "mout", room, NULL, NULL, p, created, err);
	crypto_free_secret(p);
	if (rc < 0)
		goto out;
	c = json_pack("{s:s, s:s, s:s, s:s, s:s}", "algorithm", MEGOLM_ALG,
		      "sender_key", crypto_account_curve25519(e->acct),
		      "ciphertext", ct, "session_id", sid,
		      "device_id", e->device);
	if (rel)
		json_object_set(c, "m.relates_to", rel);
	*new_body = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	rc = 0;
out:
	free(ct);
	json_decref(rel);
	return rc;
}

int e2ee_prepare(struct e2ee *e, const char *room, const char *type,
		 const char *body, char **new_type, char **new_body)
{
	struct crypto_megolm_out *s = NULL;
	char *sid = NULL;
	int64_t created = 0;
	struct err err;
	int rc;

	*new_type = *new_body = NULL;
	if (!e2ee_room_encrypted(e, room))
		return 1;
	if (json_object_get(e->busy, room) || mono_ms() < e->hold_until)
		return 0;
	if (!rec_has(e, "memok", room, NULL, NULL)) {
		fetch_members(e, room);
		return 0;
	}
	if (members_stale(e, room)) {
		query(e);
		return 0;
	}
	if (tx_begin(e) < 0)
		return 0;
	rc = outbound(e, room, &s, &sid, &created, &err);
	if (rc == 0)
		rc = share(e, room, s, sid, &err);
	if (rc == 1) {
		rc = encrypt_event(e, room, s, sid, created, type, body,
				   new_body, &err);
		if (rc == 0 && *new_body) {
			*new_type = xstrdup("m.room.encrypted");
			rc = 1;
		}
	}
	if (rc < 0)
		log_line("versleuteling: versturen in %s: %s", room, err.msg);
	tx_end(e, rc >= 0);
	crypto_megolm_out_free(s);
	free(sid);
	if (rc < 0) {
		free(*new_body);
		*new_body = NULL;
		e->hold_until = mono_ms() + HOLD_MS;
		return 0;
	}
	return rc;
}

/* A request of ours finished: handled by its kind, in its context. */
static void call_done(void *arg, long status, json_t *body)
{
	struct call *cp = arg, c = *cp;
	struct e2ee *e = c.e;

	free(cp);
	if (status == MX_CANCELLED) {   /* e may be gone: only free */
		free(c.room);
		json_decref(c.ctx);
		return;
	}
	switch (c.kind) {
	case C_KEYS:
		keys_done(e, status, body, c.ctx);
		break;
	case C_XSIGN:
		xsign_done(e, status, body, c.ctx);
		break;
	case C_SIGS:
		sigs_done(e, status, body);
		break;
	case C_QUERY:
		query_done(e, status, body, c.ctx);
		break;
	case C_CLAIM:
		claim_done(e, status, body, c.ctx);
		break;
	case C_SHARE:
		share_done(e, c.room, status, c.ctx);
		break;
	case C_MEMBERS:
		members_done(e, c.room, status, body);
		break;
	default:
		if (status != 200)
			log_line("versleuteling: verzoek mislukt (HTTP %ld)",
				 status);
		break;
	}
	free(c.room);
	json_decref(c.ctx);
}
