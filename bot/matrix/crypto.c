/* crypto.c - Olm, Megolm and Ed25519 through libolm 3.2; the AES-256-CTR
 * of encrypted attachments, which libolm's API does not offer, is ours
 * (at the end of the file).
 *
 * Every libolm call of the project is in this file. Three traps of the
 * library shape the code:
 * - Functions that take base64 input (decrypt, unpickle, create inbound
 *   session, verify) decode it IN PLACE: we always hand them a copy, and
 *   after decrypting or unpickling that copy holds secret plaintext, so it
 *   is wiped.
 * - Every size_t result may be olm_error(); the reason is the object's
 *   last_error, which we turn into a CRYPTO_E* code and an err message.
 * - Objects live in memory we allocate; olm_clear_*() and explicit_bzero
 *   run before every free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <olm/olm.h>
#include <olm/pk.h>

#include "crypto.h"

/* Longest base64 input (ciphertext, pickle, session key) we hand to
 * libolm. A Matrix event is at most 64 KiB, so anything longer is not a
 * message but an attack on our memory. */
#define CRYPTO_MAX_INPUT (256 * 1024)

#define ED25519_SEED_LEN 32

struct crypto_account {
	OlmAccount *acc;
	char curve[64];   /* identity keys, unpadded base64 (43 chars) */
	char ed[64];
};

struct crypto_olm {
	OlmSession *s;
};

struct crypto_megolm_out {
	OlmOutboundGroupSession *s;
};

struct crypto_megolm_in {
	OlmInboundGroupSession *s;
};

struct crypto_signing {
	OlmPkSigning *s;
	unsigned char seed[ED25519_SEED_LEN];   /* kept for pickling */
	char pub[64];
};

/* --- helpers ---------------------------------------------------------- */

void crypto_free_secret(char *s)
{
	if (s)
		wipe_free(s, strlen(s));
}

/* A buffer of n random bytes (at least 1 allocated); NULL when the
 * kernel gives none. Release with wipe_free. */
static unsigned char *random_new(size_t n)
{
	unsigned char *r = xmalloc(n ? n : 1);

	if (random_bytes(r, n) < 0) {
		free(r);
		return NULL;
	}
	return r;
}


/* A writable copy of len bytes of s (NUL-terminated) for the libolm
 * functions that decode their input in place. Wipe with wipe_free. */
static char *copy_in(const char *s, size_t len)
{
	char *c = xmalloc(len + 1);

	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/* Map a libolm error to our code, with "fn: LAST_ERROR" in err. */
static int olm_fail(struct err *err, const char *fn, enum OlmErrorCode code,
		    const char *last)
{
	switch (code) {
	case OLM_BAD_ACCOUNT_KEY:
		err_set(err, "%s: %s: the pickle key does not open this "
			"pickle", fn, last);
		return CRYPTO_EBADKEY;
	case OLM_BAD_MESSAGE_MAC:
	case OLM_BAD_MESSAGE_FORMAT:
	case OLM_BAD_MESSAGE_VERSION:
	case OLM_INVALID_BASE64:
	case OLM_BAD_MESSAGE_KEY_ID:   /* the one-time key is gone */
	case OLM_BAD_SESSION_KEY:
	case OLM_BAD_SIGNATURE:
		err_set(err, "%s: %s", fn, last);
		return CRYPTO_EBADMSG;
	case OLM_UNKNOWN_MESSAGE_INDEX:
		err_set(err, "%s: %s", fn, last);
		return CRYPTO_EUNKNOWN;
	default:
		err_set(err, "%s: %s", fn, last);
		return CRYPTO_EFAIL;
	}
}

#define FAIL_ACC(err, fn, a) \
	olm_fail(err, fn, olm_account_last_error_code(a), \
		 olm_account_last_error(a))
#define FAIL_SES(err, fn, s) \
	olm_fail(err, fn, olm_session_last_error_code(s), \
		 olm_session_last_error(s))
#define FAIL_OGS(err, fn, s) \
	olm_fail(err, fn, olm_outbound_group_session_last_error_code(s), \
		 olm_outbound_group_session_last_error(s))
#define FAIL_IGS(err, fn, s) \
	olm_fail(err, fn, olm_inbound_group_session_last_error_code(s), \
		 olm_inbound_group_session_last_error(s))
#define FAIL_PKD(err, fn, s) \
	olm_fail(err, fn, olm_pk_decryption_last_error_code(s), \
		 olm_pk_decryption_last_error(s))
#define FAIL_PKS(err, fn, s) \
	olm_fail(err, fn, olm_pk_signing_last_error_code(s), \
		 olm_pk_signing_last_error(s))
#define FAIL_UTIL(err, fn, u) \
	olm_fail(err, fn, olm_utility_last_error_code(u), \
		 olm_utility_last_error(u))

/* Reject base64 input libolm should never see. */
static int input_check(const char *s, const char *what, struct err *err)
{
	if (!s) {
		err_set(err, "%s: missing", what);
		return CRYPTO_EBADMSG;
	}
	if (strnlen(s, CRYPTO_MAX_INPUT + 1) > CRYPTO_MAX_INPUT) {
		err_set(err, "%s: longer than %d bytes", what,
			CRYPTO_MAX_INPUT);
		return CRYPTO_EBADMSG;
	}
	return 0;
}

/* Constructors and destructors of the libolm objects: clear and wipe
 * before free, so no key material stays behind in the heap. */
static OlmAccount *acc_alloc(void)
{
	return olm_account(xmalloc(olm_account_size()));
}

static void acc_free(OlmAccount *a)
{
	if (!a)
		return;
	olm_clear_account(a);
	wipe_free(a, olm_account_size());
}

static OlmSession *ses_alloc(void)
{
	return olm_session(xmalloc(olm_session_size()));
}

static void ses_free(OlmSession *s)
{
	if (!s)
		return;
	olm_clear_session(s);
	wipe_free(s, olm_session_size());
}

static OlmOutboundGroupSession *ogs_alloc(void)
{
	return olm_outbound_group_session(
		xmalloc(olm_outbound_group_session_size()));
}

static void ogs_free(OlmOutboundGroupSession *s)
{
	if (!s)
		return;
	olm_clear_outbound_group_session(s);
	wipe_free(s, olm_outbound_group_session_size());
}

static OlmInboundGroupSession *igs_alloc(void)
{
	return olm_inbound_group_session(
		xmalloc(olm_inbound_group_session_size()));
}

static void igs_free(OlmInboundGroupSession *s)
{
	if (!s)
		return;
	olm_clear_inbound_group_session(s);
	wipe_free(s, olm_inbound_group_session_size());
}

static OlmPkDecryption *pkd_alloc(void)
{
	return olm_pk_decryption(xmalloc(olm_pk_decryption_size()));
}

static void pkd_free(OlmPkDecryption *d)
{
	if (!d)
		return;
	olm_clear_pk_decryption(d);
	wipe_free(d, olm_pk_decryption_size());
}

static OlmPkSigning *pks_alloc(void)
{
	return olm_pk_signing(xmalloc(olm_pk_signing_size()));
}

static void pks_free(OlmPkSigning *s)
{
	if (!s)
		return;
	olm_clear_pk_signing(s);
	wipe_free(s, olm_pk_signing_size());
}

static OlmUtility *util_alloc(void)
{
	return olm_utility(xmalloc(olm_utility_size()));
}

static void util_free(OlmUtility *u)
{
	if (!u)
		return;
	olm_clear_utility(u);
	wipe_free(u, olm_utility_size());
}

/* A pickle buffer of len + 1 bytes. The pickle functions write the
 * plaintext state there before encrypting it in place: on failure it is
 * wiped. */
static char *pickle_done(char *buf, size_t cap, size_t r)
{
	if (r == olm_error()) {
		wipe_free(buf, cap);
		return NULL;
	}
	buf[r] = '\0';
	return buf;
}

/* --- account ---------------------------------------------------------- */

/* Read the identity keys into a->curve and a->ed. */
static int account_load_keys(struct crypto_account *a, struct err *err)
{
	size_t len = olm_account_identity_keys_length(a->acc), r;
	char *buf = xmalloc(len + 1);
	json_t *j = NULL;
	const char *c, *e;
	int rc = CRYPTO_EFAIL;

	r = olm_account_identity_keys(a->acc, buf, len);
	if (r == olm_error()) {
		rc = FAIL_ACC(err, "olm_account_identity_keys", a->acc);
		goto out;
	}
	j = json_loadb(buf, r, 0, NULL);
	c = json_string_value(json_object_get(j, "curve25519"));
	e = json_string_value(json_object_get(j, "ed25519"));
	if (!c || !e || strlen(c) >= sizeof(a->curve) ||
	    strlen(e) >= sizeof(a->ed)) {
		err_set(err, "olm_account_identity_keys: unexpected JSON");
		goto out;
	}
	memcpy(a->curve, c, strlen(c) + 1);
	memcpy(a->ed, e, strlen(e) + 1);
	rc = 0;
out:
	json_decref(j);
	free(buf);
	return rc;
}

struct crypto_account *crypto_account_new(void)
{
	struct crypto_account *a = xcalloc(1, sizeof(*a));
	size_t n;
	unsigned char *rnd;

	a->acc = acc_alloc();
	n = olm_create_account_random_length(a->acc);
	rnd = random_new(n);
	if (!rnd)
		goto fail;
	if (olm_create_account(a->acc, rnd, n) == olm_error()) {
		wipe_free(rnd, n);
		goto fail;
	}
	wipe_free(rnd, n);
	if (account_load_keys(a, NULL) < 0)
		goto fail;
	return a;
fail:
	crypto_account_free(a);
	return NULL;
}

int crypto_account_unpickle(const void *key, size_t keylen,
			    const char *pickle,
			    struct crypto_account **out, struct err *err)
{
	struct crypto_account *a = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = input_check(pickle, "account pickle", err);
	if (rc < 0)
		return rc;
	len = strlen(pickle);
	buf = copy_in(pickle, len);
	a = xcalloc(1, sizeof(*a));
	a->acc = acc_alloc();
	if (olm_unpickle_account(a->acc, key, keylen, buf, len) ==
	    olm_error()) {
		rc = FAIL_ACC(err, "olm_unpickle_account", a->acc);
		goto out;
	}
	rc = account_load_keys(a, err);
	if (rc < 0)
		goto out;
	*out = a;
	a = NULL;
out:
	wipe_free(buf, len + 1);
	crypto_account_free(a);
	return rc;
}

char *crypto_account_pickle(struct crypto_account *a, const void *key,
			    size_t keylen)
{
	size_t len = olm_pickle_account_length(a->acc);
	char *buf = xmalloc(len + 1);

	return pickle_done(buf, len + 1,
			   olm_pickle_account(a->acc, key, keylen, buf, len));
}

void crypto_account_free(struct crypto_account *a)
{
	if (!a)
		return;
	acc_free(a->acc);
	wipe_free(a, sizeof(*a));
}

const char *crypto_account_curve25519(const struct crypto_account *a)
{
	return a->curve;
}

const char *crypto_account_ed25519(const struct crypto_account *a)
{
	return a->ed;
}

char *crypto_account_sign(struct crypto_account *a, const char *msg,
			  size_t len)
{
	size_t n = olm_account_signature_length(a->acc), r;
	char *sig = xmalloc(n + 1);

	r = olm_account_sign(a->acc, msg, len, sig, n);
	if (r == olm_error()) {
		free(sig);
		return NULL;
	}
	sig[r] = '\0';
	return sig;
}

size_t crypto_account_max_otks(const struct crypto_account *a)
{
	return olm_account_max_number_of_one_time_keys(a->acc);
}

/* The inner object of {"curve25519": {id: key}} as libolm writes the
 * one-time and fallback keys; NULL on anything else. */
static json_t *curve_keys(const char *buf, size_t len)
{
	json_t *j = json_loadb(buf, len, 0, NULL);
	json_t *in = json_object_get(j, "curve25519");

	if (!json_is_object(in)) {
		json_decref(j);
		return NULL;
	}
	json_incref(in);
	json_decref(j);
	return in;
}

json_t *crypto_account_new_otks(struct crypto_account *a, size_t n)
{
	size_t max = crypto_account_max_otks(a), rlen, len, r;
	unsigned char *rnd;
	char *buf;
	json_t *keys;

	/* More than fit would only push out the ones we just made. */
	if (n > max)
		n = max;
	if (n > 0) {
		rlen = olm_account_generate_one_time_keys_random_length(
			a->acc, n);
		rnd = random_new(rlen);
		if (!rnd)
			return NULL;
		r = olm_account_generate_one_time_keys(a->acc, n, rnd, rlen);
		wipe_free(rnd, rlen);
		if (r == olm_error())
			return NULL;
	}
	len = olm_account_one_time_keys_length(a->acc);
	buf = xmalloc(len + 1);
	r = olm_account_one_time_keys(a->acc, buf, len);
	keys = r == olm_error() ? NULL : curve_keys(buf, r);
	free(buf);
	return keys;
}

int crypto_account_new_fallback(struct crypto_account *a, struct err *err)
{
	size_t n = olm_account_generate_fallback_key_random_length(a->acc);
	unsigned char *rnd = random_new(n);
	int rc = 0;

	if (!rnd) {
		err_set(err, "getrandom: %s", strerror(errno));
		return CRYPTO_EFAIL;
	}
	if (olm_account_generate_fallback_key(a->acc, rnd, n) == olm_error())
		rc = FAIL_ACC(err, "olm_account_generate_fallback_key",
			      a->acc);
	wipe_free(rnd, n);
	return rc;
}

json_t *crypto_account_fallback(struct crypto_account *a)
{
	size_t len = olm_account_unpublished_fallback_key_length(a->acc), r;
	char *buf = xmalloc(len + 1);
	json_t *keys;

	r = olm_account_unpublished_fallback_key(a->acc, buf, len);
	keys = r == olm_error() ? NULL : curve_keys(buf, r);
	free(buf);
	return keys;
}

void crypto_account_mark_published(struct crypto_account *a)
{
	/* Returns the number of keys marked; it cannot fail. */
	olm_account_mark_keys_as_published(a->acc);
}

/* --- Olm -------------------------------------------------------------- */

static struct crypto_olm *olm_wrap(OlmSession *s)
{
	struct crypto_olm *o = xmalloc(sizeof(*o));

	o->s = s;
	return o;
}

int crypto_olm_outbound(struct crypto_account *a, const char *their_curve,
			const char *their_otk, struct crypto_olm **out,
			struct err *err)
{
	OlmSession *s;
	unsigned char *rnd;
	size_t n;
	int rc = 0;

	*out = NULL;
	if (!their_curve || !their_otk) {
		err_set(err, "olm outbound: missing key");
		return CRYPTO_EFAIL;
	}
	s = ses_alloc();
	n = olm_create_outbound_session_random_length(s);
	rnd = random_new(n);
	if (!rnd) {
		err_set(err, "getrandom: %s", strerror(errno));
		ses_free(s);
		return CRYPTO_EFAIL;
	}
	if (olm_create_outbound_session(s, a->acc, their_curve,
					strlen(their_curve), their_otk,
					strlen(their_otk), rnd, n) ==
	    olm_error()) {
		rc = FAIL_SES(err, "olm_create_outbound_session", s);
		ses_free(s);
	} else {
		*out = olm_wrap(s);
	}
	wipe_free(rnd, n);
	return rc;
}

int crypto_olm_matches(struct crypto_olm *s, const char *their_curve,
		       const char *prekey_body)
{
	char *buf;
	size_t len, r;

	if (!their_curve || input_check(prekey_body, "", NULL) < 0)
		return 0;
	len = strlen(prekey_body);
	buf = copy_in(prekey_body, len);
	r = olm_matches_inbound_session_from(s->s, their_curve,
					     strlen(their_curve), buf, len);
	wipe_free(buf, len + 1);
	return r != olm_error() && r == 1;
}

int crypto_olm_inbound(struct crypto_account *a, const char *their_curve,
		       const char *prekey_body, struct crypto_olm **out,
		       struct err *err)
{
	OlmSession *s;
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	rc = input_check(prekey_body, "olm pre-key message", err);
	if (rc < 0)
		return rc;
	if (!their_curve) {
		err_set(err, "olm inbound: missing sender key");
		return CRYPTO_EFAIL;
	}
	/* Not olm_create_inbound_session_from: libolm 3.2.13 then accepts a
	 * pre-key message without the sender's identity key and copies it
	 * from a NULL pointer (found by tests/fuzz sync). Create from the
	 * message's own key, then check that key is their_curve. */
	len = strlen(prekey_body);
	buf = copy_in(prekey_body, len);
	s = ses_alloc();
	if (olm_create_inbound_session(s, a->acc, buf, len) == olm_error()) {
		rc = FAIL_SES(err, "olm_create_inbound_session", s);
		ses_free(s);
		wipe_free(buf, len + 1);
		return rc;
	}
	wipe_free(buf, len + 1);
	buf = copy_in(prekey_body, len);
	if (olm_matches_inbound_session_from(s, their_curve,
					     strlen(their_curve), buf, len) !=
	    1) {
		err_set(err, "olm inbound: pre-key message not from %.60s",
			their_curve);
		rc = CRYPTO_EBADMSG;
		ses_free(s);
	} else {
		*out = olm_wrap(s);
	}
	wipe_free(buf, len + 1);
	return rc;
}

int crypto_account_remove_otk(struct crypto_account *a,
			      struct crypto_olm *s, struct err *err)
{
	if (olm_remove_one_time_keys(a->acc, s->s) == olm_error())
		return FAIL_ACC(err, "olm_remove_one_time_keys", a->acc);
	return 0;
}

int crypto_olm_encrypt(struct crypto_olm *s, const char *plaintext,
		       int *type, char **body, struct err *err)
{
	size_t ptlen = strlen(plaintext), t, n, len, r;
	unsigned char *rnd = NULL;
	char *buf = NULL;
	int rc = 0;

	*body = NULL;
	t = olm_encrypt_message_type(s->s);
	if (t == olm_error())
		return FAIL_SES(err, "olm_encrypt_message_type", s->s);
	n = olm_encrypt_random_length(s->s);
	rnd = random_new(n);
	if (!rnd) {
		err_set(err, "getrandom: %s", strerror(errno));
		return CRYPTO_EFAIL;
	}
	len = olm_encrypt_message_length(s->s, ptlen);
	buf = xmalloc(len + 1);
	r = olm_encrypt(s->s, plaintext, ptlen, rnd, n, buf, len);
	if (r == olm_error()) {
		rc = FAIL_SES(err, "olm_encrypt", s->s);
		wipe_free(buf, len + 1);
		goto out;
	}
	buf[r] = '\0';
	*type = (int)t;
	*body = buf;
out:
	wipe_free(rnd, n);
	return rc;
}

int crypto_olm_decrypt(struct crypto_olm *s, int type, const char *body,
		       char **plaintext, struct err *err)
{
	char *buf = NULL, *pt = NULL;
	size_t len = 0, max = 0, r;
	int rc;

	*plaintext = NULL;
	if (type != 0 && type != 1) {
		err_set(err, "olm_decrypt: message type %d", type);
		return CRYPTO_EBADMSG;
	}
	rc = input_check(body, "olm message", err);
	if (rc < 0)
		return rc;
	len = strlen(body);
	/* Both calls decode their input in place: a fresh copy each. */
	buf = copy_in(body, len);
	max = olm_decrypt_max_plaintext_length(s->s, (size_t)type, buf, len);
	if (max == olm_error()) {
		rc = FAIL_SES(err, "olm_decrypt_max_plaintext_length", s->s);
		max = 0;
		goto out;
	}
	memcpy(buf, body, len);
	pt = xmalloc(max + 1);
	r = olm_decrypt(s->s, (size_t)type, buf, len, pt, max);
	if (r == olm_error()) {
		rc = FAIL_SES(err, "olm_decrypt", s->s);
		goto out;
	}
	pt[r] = '\0';
	*plaintext = pt;
	pt = NULL;
out:
	wipe_free(pt, max + 1);
	wipe_free(buf, len + 1);
	return rc;
}

char *crypto_olm_id(struct crypto_olm *s)
{
	size_t len = olm_session_id_length(s->s), r;
	char *id = xmalloc(len + 1);

	r = olm_session_id(s->s, id, len);
	if (r == olm_error()) {
		free(id);
		return NULL;
	}
	id[r] = '\0';
	return id;
}

int crypto_olm_unpickle(const void *key, size_t keylen, const char *pickle,
			struct crypto_olm **out, struct err *err)
{
	OlmSession *s;
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	rc = input_check(pickle, "olm session pickle", err);
	if (rc < 0)
		return rc;
	len = strlen(pickle);
	buf = copy_in(pickle, len);
	s = ses_alloc();
	if (olm_unpickle_session(s, key, keylen, buf, len) == olm_error()) {
		rc = FAIL_SES(err, "olm_unpickle_session", s);
		ses_free(s);
	} else {
		*out = olm_wrap(s);
	}
	wipe_free(buf, len + 1);
	return rc;
}

char *crypto_olm_pickle(struct crypto_olm *s, const void *key,
			size_t keylen)
{
	size_t len = olm_pickle_session_length(s->s);
	char *buf = xmalloc(len + 1);

	return pickle_done(buf, len + 1,
			   olm_pickle_session(s->s, key, keylen, buf, len));
}

void crypto_olm_free(struct crypto_olm *s)
{
	if (!s)
		return;
	ses_free(s->s);
	free(s);
}

/* --- Megolm, outbound ------------------------------------------------- */

struct crypto_megolm_out *crypto_megolm_out_new(void)
{
	OlmOutboundGroupSession *s = ogs_alloc();
	struct crypto_megolm_out *o;
	size_t n = olm_init_outbound_group_session_random_length(s), r;
	unsigned char *rnd = random_new(n);

	if (!rnd) {
		ogs_free(s);
		return NULL;
	}
	r = olm_init_outbound_group_session(s, rnd, n);
	wipe_free(rnd, n);
	if (r == olm_error()) {
		ogs_free(s);
		return NULL;
	}
	o = xmalloc(sizeof(*o));
	o->s = s;
	return o;
}

char *crypto_megolm_out_id(struct crypto_megolm_out *s)
{
	size_t len = olm_outbound_group_session_id_length(s->s), r;
	char *id = xmalloc(len + 1);

	r = olm_outbound_group_session_id(s->s, (uint8_t *)id, len);
	if (r == olm_error()) {
		free(id);
		return NULL;
	}
	id[r] = '\0';
	return id;
}

char *crypto_megolm_out_key(struct crypto_megolm_out *s)
{
	size_t len = olm_outbound_group_session_key_length(s->s), r;
	char *key = xmalloc(len + 1);

	r = olm_outbound_group_session_key(s->s, (uint8_t *)key, len);
	if (r == olm_error()) {
		wipe_free(key, len + 1);
		return NULL;
	}
	key[r] = '\0';
	return key;
}

uint32_t crypto_megolm_out_index(struct crypto_megolm_out *s)
{
	return olm_outbound_group_session_message_index(s->s);
}

char *crypto_megolm_out_encrypt(struct crypto_megolm_out *s,
				const char *plaintext)
{
	size_t ptlen = strlen(plaintext), len, r;
	char *buf;

	len = olm_group_encrypt_message_length(s->s, ptlen);
	buf = xmalloc(len + 1);
	r = olm_group_encrypt(s->s, (const uint8_t *)plaintext, ptlen,
			      (uint8_t *)buf, len);
	if (r == olm_error()) {
		wipe_free(buf, len + 1);
		return NULL;
	}
	buf[r] = '\0';
	return buf;
}

int crypto_megolm_out_unpickle(const void *key, size_t keylen,
			       const char *pickle,
			       struct crypto_megolm_out **out,
			       struct err *err)
{
	OlmOutboundGroupSession *s;
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	rc = input_check(pickle, "megolm outbound pickle", err);
	if (rc < 0)
		return rc;
	len = strlen(pickle);
	buf = copy_in(pickle, len);
	s = ogs_alloc();
	if (olm_unpickle_outbound_group_session(s, key, keylen, buf, len) ==
	    olm_error()) {
		rc = FAIL_OGS(err, "olm_unpickle_outbound_group_session", s);
		ogs_free(s);
	} else {
		*out = xmalloc(sizeof(**out));
		(*out)->s = s;
	}
	wipe_free(buf, len + 1);
	return rc;
}

char *crypto_megolm_out_pickle(struct crypto_megolm_out *s, const void *key,
			       size_t keylen)
{
	size_t len = olm_pickle_outbound_group_session_length(s->s);
	char *buf = xmalloc(len + 1);

	return pickle_done(buf, len + 1,
			   olm_pickle_outbound_group_session(s->s, key,
							     keylen, buf,
							     len));
}

void crypto_megolm_out_free(struct crypto_megolm_out *s)
{
	if (!s)
		return;
	ogs_free(s->s);
	free(s);
}

/* --- Megolm, inbound -------------------------------------------------- */

int crypto_megolm_in_new(const char *session_key, int exported,
			 struct crypto_megolm_in **out, struct err *err)
{
	OlmInboundGroupSession *s;
	char *buf;
	size_t len, r;
	int rc;

	*out = NULL;
	rc = input_check(session_key, "megolm session key", err);
	if (rc < 0)
		return rc;
	len = strlen(session_key);
	buf = copy_in(session_key, len);
	s = igs_alloc();
	if (exported)
		r = olm_import_inbound_group_session(s, (uint8_t *)buf, len);
	else
		r = olm_init_inbound_group_session(s, (uint8_t *)buf, len);
	if (r == olm_error()) {
		rc = FAIL_IGS(err, exported ?
			      "olm_import_inbound_group_session" :
			      "olm_init_inbound_group_session", s);
		igs_free(s);
	} else {
		*out = xmalloc(sizeof(**out));
		(*out)->s = s;
	}
	wipe_free(buf, len + 1);
	return rc;
}

char *crypto_megolm_in_id(struct crypto_megolm_in *s)
{
	size_t len = olm_inbound_group_session_id_length(s->s), r;
	char *id = xmalloc(len + 1);

	r = olm_inbound_group_session_id(s->s, (uint8_t *)id, len);
	if (r == olm_error()) {
		free(id);
		return NULL;
	}
	id[r] = '\0';
	return id;
}

uint32_t crypto_megolm_in_first_index(struct crypto_megolm_in *s)
{
	return olm_inbound_group_session_first_known_index(s->s);
}

char *crypto_megolm_in_export(struct crypto_megolm_in *s, uint32_t index,
			      struct err *err)
{
	size_t len = olm_export_inbound_group_session_length(s->s), r;
	char *key = xmalloc(len + 1);

	r = olm_export_inbound_group_session(s->s, (uint8_t *)key, len,
					     index);
	if (r == olm_error()) {
		FAIL_IGS(err, "olm_export_inbound_group_session", s->s);
		wipe_free(key, len + 1);
		return NULL;
	}
	key[r] = '\0';
	return key;
}

int crypto_megolm_in_decrypt(struct crypto_megolm_in *s,
			     const char *ciphertext, char **plaintext,
			     uint32_t *index, struct err *err)
{
	char *buf = NULL;
	uint8_t *pt = NULL;
	size_t len = 0, max = 0, r;
	uint32_t idx = 0;
	int rc;

	*plaintext = NULL;
	rc = input_check(ciphertext, "megolm message", err);
	if (rc < 0)
		return rc;
	len = strlen(ciphertext);
	buf = copy_in(ciphertext, len);
	max = olm_group_decrypt_max_plaintext_length(s->s, (uint8_t *)buf,
						     len);
	if (max == olm_error()) {
		rc = FAIL_IGS(err, "olm_group_decrypt_max_plaintext_length",
			      s->s);
		max = 0;
		goto out;
	}
	memcpy(buf, ciphertext, len);
	pt = xmalloc(max + 1);
	r = olm_group_decrypt(s->s, (uint8_t *)buf, len, pt, max, &idx);
	if (r == olm_error()) {
		rc = FAIL_IGS(err, "olm_group_decrypt", s->s);
		goto out;
	}
	pt[r] = '\0';
	*plaintext = (char *)pt;
	pt = NULL;
	if (index)
		*index = idx;
out:
	wipe_free(pt, max + 1);
	wipe_free(buf, len + 1);
	return rc;
}

int crypto_megolm_in_unpickle(const void *key, size_t keylen,
			      const char *pickle,
			      struct crypto_megolm_in **out,
			      struct err *err)
{
	OlmInboundGroupSession *s;
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	rc = input_check(pickle, "megolm inbound pickle", err);
	if (rc < 0)
		return rc;
	len = strlen(pickle);
	buf = copy_in(pickle, len);
	s = igs_alloc();
	if (olm_unpickle_inbound_group_session(s, key, keylen, buf, len) ==
	    olm_error()) {
		rc = FAIL_IGS(err, "olm_unpickle_inbound_group_session", s);
		igs_free(s);
	} else {
		*out = xmalloc(sizeof(**out));
		(*out)->s = s;
	}
	wipe_free(buf, len + 1);
	return rc;
}

char *crypto_megolm_in_pickle(struct crypto_megolm_in *s, const void *key,
			      size_t keylen)
{
	size_t len = olm_pickle_inbound_group_session_length(s->s);
	char *buf = xmalloc(len + 1);

	return pickle_done(buf, len + 1,
			   olm_pickle_inbound_group_session(s->s, key, keylen,
							    buf, len));
}

void crypto_megolm_in_free(struct crypto_megolm_in *s)
{
	if (!s)
		return;
	igs_free(s->s);
	free(s);
}

/* --- Ed25519 signing keys --------------------------------------------- */

/* k->s and k->pub from k->seed. */
static int signing_load(struct crypto_signing *k, struct err *err)
{
	size_t plen = olm_pk_signing_public_key_length();

	if (plen >= sizeof(k->pub)) {
		err_set(err, "olm_pk_signing_public_key_length: %zu", plen);
		return CRYPTO_EFAIL;
	}
	k->s = pks_alloc();
	if (olm_pk_signing_key_from_seed(k->s, k->pub, plen, k->seed,
					 sizeof(k->seed)) == olm_error())
		return FAIL_PKS(err, "olm_pk_signing_key_from_seed", k->s);
	k->pub[plen] = '\0';
	return 0;
}

struct crypto_signing *crypto_signing_new(void)
{
	struct crypto_signing *k = xcalloc(1, sizeof(*k));

	if (olm_pk_signing_seed_length() != sizeof(k->seed) ||
	    random_bytes(k->seed, sizeof(k->seed)) < 0 ||
	    signing_load(k, NULL) < 0) {
		crypto_signing_free(k);
		return NULL;
	}
	return k;
}

const char *crypto_signing_public(const struct crypto_signing *k)
{
	return k->pub;
}

char *crypto_signing_sign(struct crypto_signing *k, const char *msg,
			  size_t len)
{
	size_t n = olm_pk_signature_length(), r;
	char *sig = xmalloc(n + 1);

	r = olm_pk_sign(k->s, (const uint8_t *)msg, len, (uint8_t *)sig, n);
	if (r == olm_error()) {
		free(sig);
		return NULL;
	}
	sig[n] = '\0';   /* always olm_pk_signature_length() chars */
	return sig;
}

/* libolm cannot pickle an OlmPkSigning. Its whole state is the 32-byte
 * seed, and an OlmPkDecryption pickle is an encrypted, authenticated
 * container for exactly 32 private bytes: we load the seed as a
 * Curve25519 private key (olm_pk_key_from_private stores the bytes as
 * they are; the clamping happens in each scalar multiplication) and
 * pickle that. Unpickling gives the same 32 bytes back with
 * olm_pk_get_private_key, and so the same Ed25519 key. The Curve25519
 * "public key" it computes along the way is meaningless and unused. */
char *crypto_signing_pickle(struct crypto_signing *k, const void *key,
			    size_t keylen)
{
	OlmPkDecryption *d = pkd_alloc();
	size_t plen = olm_pk_key_length(), len = 0;
	char *pub = xmalloc(plen + 1), *buf = NULL;

	if (olm_pk_private_key_length() != sizeof(k->seed) ||
	    olm_pk_key_from_private(d, pub, plen, k->seed,
				    sizeof(k->seed)) == olm_error())
		goto out;
	len = olm_pickle_pk_decryption_length(d);
	buf = xmalloc(len + 1);
	buf = pickle_done(buf, len + 1,
			  olm_pickle_pk_decryption(d, key, keylen, buf, len));
out:
	free(pub);
	pkd_free(d);
	return buf;
}

int crypto_signing_unpickle(const void *key, size_t keylen,
			    const char *pickle, struct crypto_signing **out,
			    struct err *err)
{
	struct crypto_signing *k = NULL;
	OlmPkDecryption *d = NULL;
	size_t plen = olm_pk_key_length(), len = 0;
	char *pub = NULL, *buf = NULL;
	int rc;

	*out = NULL;
	rc = input_check(pickle, "signing key pickle", err);
	if (rc < 0)
		return rc;
	len = strlen(pickle);
	buf = copy_in(pickle, len);
	pub = xmalloc(plen + 1);
	d = pkd_alloc();
	if (olm_unpickle_pk_decryption(d, key, keylen, buf, len, pub, plen) ==
	    olm_error()) {
		rc = FAIL_PKD(err, "olm_unpickle_pk_decryption", d);
		goto out;
	}
	k = xcalloc(1, sizeof(*k));
	if (olm_pk_private_key_length() != sizeof(k->seed)) {
		err_set(err, "olm_pk_private_key_length: %zu",
			olm_pk_private_key_length());
		rc = CRYPTO_EFAIL;
		goto out;
	}
	if (olm_pk_get_private_key(d, k->seed, sizeof(k->seed)) ==
	    olm_error()) {
		rc = FAIL_PKD(err, "olm_pk_get_private_key", d);
		goto out;
	}
	rc = signing_load(k, err);
	if (rc < 0)
		goto out;
	*out = k;
	k = NULL;
out:
	crypto_signing_free(k);
	pkd_free(d);
	free(pub);
	wipe_free(buf, len + 1);
	return rc;
}

void crypto_signing_free(struct crypto_signing *k)
{
	if (!k)
		return;
	pks_free(k->s);
	wipe_free(k, sizeof(*k));
}

/* --- signed JSON ------------------------------------------------------ */

/* The integers canonical JSON allows: exactly representable as doubles. */
#define CANON_INT_MAX ((json_int_t)9007199254740991LL)   /* 2^53 - 1 */
#define CANON_MAX_DEPTH 64

/* 0 if j holds only integers in range as numbers (no reals), bounded
 * in depth; -1 otherwise. */
static int canon_check(const json_t *j, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > CANON_MAX_DEPTH)
		return -1;
	switch (json_typeof(j)) {
	case JSON_REAL:
		return -1;
	case JSON_INTEGER:
		if (json_integer_value(j) > CANON_INT_MAX ||
		    json_integer_value(j) < -CANON_INT_MAX)
			return -1;
		return 0;
	case JSON_OBJECT:
		json_object_foreach((json_t *)j, k, v)
			if (canon_check(v, depth + 1) < 0)
				return -1;
		return 0;
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			if (canon_check(v, depth + 1) < 0)
				return -1;
		return 0;
	default:
		return 0;
	}
}

/* jansson writes control characters as \u001F, the canonical grammar
 * wants lower-case hex (\u001f). Every backslash in jansson's output
 * starts an escape (a literal one is written "\\"), so walking escape by
 * escape finds exactly the \u sequences. */
static void canon_lower_hex(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u') {
			for (int i = 1; i <= 4 && p[i]; i++)
				if (p[i] >= 'A' && p[i] <= 'F')
					p[i] = (char)(p[i] - 'A' + 'a');
		} else if (*p == '\0') {
			break;
		}
	}
}

char *crypto_canonical(json_t *obj)
{
	json_t *c;
	char *s = NULL;

	if (!json_is_object(obj))
		return NULL;
	c = json_deep_copy(obj);
	if (!c)
		return NULL;
	json_object_del(c, "signatures");
	json_object_del(c, "unsigned");
	if (canon_check(c, 0) == 0) {
		/* JSON_COMPACT: "," and ":" without spaces. JSON_SORT_KEYS
		 * sorts bytewise, which for UTF-8 is codepoint order. No
		 * JSON_ENSURE_ASCII: UTF-8 stays UTF-8. */
		s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
		if (s)
			canon_lower_hex(s);
	}
	json_decref(c);
	return s;
}

/* Any failure of a verification (bad key, bad base64, bad signature)
 * means the same: not authentic. */
static int verify_sig(const char *ed25519_pub, const char *msg, size_t len,
		      const char *signature, struct err *err)
{
	OlmUtility *u;
	char *sig;
	size_t slen;
	int rc = 0;

	if (!ed25519_pub || !signature || strlen(signature) > 256) {
		err_set(err, "ed25519 verify: missing or oversized key or "
			"signature");
		return CRYPTO_EBADMSG;
	}
	slen = strlen(signature);
	sig = copy_in(signature, slen);   /* decoded in place */
	u = util_alloc();
	if (olm_ed25519_verify(u, ed25519_pub, strlen(ed25519_pub), msg, len,
			       sig, slen) == olm_error()) {
		FAIL_UTIL(err, "olm_ed25519_verify", u);
		rc = CRYPTO_EBADMSG;
	}
	util_free(u);
	free(sig);
	return rc;
}

int crypto_ed25519_verify(const char *ed25519_pub, const char *msg,
			  size_t len, const char *signature)
{
	return verify_sig(ed25519_pub, msg, len, signature, NULL);
}

int crypto_verify_json(json_t *obj, const char *user, const char *key_id,
		       const char *ed25519_pub, struct err *err)
{
	struct sbuf kid;
	struct err why;
	json_t *sigs;
	const char *sig;
	char *canon = NULL;
	int rc;

	sbuf_init(&kid);
	sbuf_addf(&kid, "ed25519:%s", key_id ? key_id : "");
	sigs = json_object_get(json_object_get(obj, "signatures"), user);
	sig = json_string_value(json_object_get(sigs, sbuf_str(&kid)));
	if (!sig) {
		err_set(err, "no signature %s by %s", sbuf_str(&kid),
			user ? user : "(null)");
		rc = CRYPTO_EBADMSG;
		goto out;
	}
	canon = crypto_canonical(obj);
	if (!canon) {
		err_set(err, "signed object is not canonical JSON (a real "
			"number, or too deep)");
		rc = CRYPTO_EBADMSG;
		goto out;
	}
	rc = verify_sig(ed25519_pub, canon, strlen(canon), sig, &why);
	if (rc < 0)
		err_set(err, "signature %s by %s does not verify (%s)",
			sbuf_str(&kid), user, why.msg);
out:
	free(canon);
	sbuf_release(&kid);
	return rc;
}

/* --- encrypted attachments -------------------------------------------- */

/* libolm's public API has AES only inside its ratchets, so the AES-256
 * of attachments is ours (FIPS-197; encryption only: counter mode never
 * runs the cipher backwards). It is the textbook byte-wise cipher with
 * an S-box table: the table lookups leak key-dependent memory access
 * timing to an attacker on this machine. Accepted here: what it
 * encrypts is a debrief the bot just wrote and sends to the room, each
 * under a key used once, and whoever can time our cache can read the
 * store. Not for secrets that outlive the upload. */

#define AES256_ROUNDS 14
#define AES256_KEY_LEN 32
#define AES_BLOCK 16
#define ATTACH_IV_LEN 16

static const unsigned char aes_sbox[256] = {
	0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5,
	0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
	0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0,
	0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
	0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc,
	0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
	0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a,
	0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
	0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0,
	0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
	0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b,
	0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
	0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85,
	0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
	0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5,
	0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
	0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17,
	0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
	0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88,
	0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
	0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c,
	0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
	0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9,
	0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
	0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6,
	0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
	0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e,
	0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
	0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94,
	0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
	0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68,
	0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
};

/* The expanded key: round key r is rk[16 r .. 16 r + 15], bytes in the
 * order of the state (column by column), as FIPS-197 lays out w[]. */
struct aes256 {
	unsigned char rk[AES_BLOCK * (AES256_ROUNDS + 1)];
};

/* Multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1. */
static unsigned char aes_xtime(unsigned char b)
{
	return (unsigned char)((b << 1) ^ ((b >> 7) * 0x1b));
}

/* FIPS-197 5.2 with Nk = 8: word i is word i - 8 xor a function of word
 * i - 1 (rotated, substituted and xored with Rcon every 8th word,
 * substituted only at i mod 8 = 4). */
static void aes256_expand(struct aes256 *a,
			  const unsigned char key[AES256_KEY_LEN])
{
	unsigned char t[4], rcon = 0x01;
	size_t i, nwords = sizeof(a->rk) / 4;

	memcpy(a->rk, key, AES256_KEY_LEN);
	for (i = AES256_KEY_LEN / 4; i < nwords; i++) {
		memcpy(t, a->rk + 4 * (i - 1), 4);
		if (i % 8 == 0) {
			unsigned char t0 = t[0];

			t[0] = (unsigned char)(aes_sbox[t[1]] ^ rcon);
			t[1] = aes_sbox[t[2]];
			t[2] = aes_sbox[t[3]];
			t[3] = aes_sbox[t0];
			rcon = aes_xtime(rcon);
		} else if (i % 8 == 4) {
			for (int j = 0; j < 4; j++)
				t[j] = aes_sbox[t[j]];
		}
		for (int j = 0; j < 4; j++)
			a->rk[4 * i + j] =
				(unsigned char)(a->rk[4 * (i - 8) + j] ^ t[j]);
	}
	explicit_bzero(t, sizeof(t));
}

static void aes_add_round_key(unsigned char s[AES_BLOCK],
			      const unsigned char *rk)
{
	for (int i = 0; i < AES_BLOCK; i++)
		s[i] ^= rk[i];
}

/* SubBytes and ShiftRows in one pass: byte (row r, column c) of the
 * result is the substituted byte (r, c + r mod 4); byte (r, c) sits at
 * index r + 4 c. */
static void aes_sub_shift(unsigned char s[AES_BLOCK])
{
	unsigned char t[AES_BLOCK];

	for (int c = 0; c < 4; c++)
		for (int r = 0; r < 4; r++)
			t[r + 4 * c] = aes_sbox[s[r + 4 * ((c + r) % 4)]];
	memcpy(s, t, AES_BLOCK);
	explicit_bzero(t, sizeof(t));
}

/* Each column times the fixed polynomial {03}x^3 + {01}x^2 + {01}x +
 * {02}: b_r = 2 a_r + 3 a_(r+1) + a_(r+2) + a_(r+3), written as
 * a_r + xtime(a_r + a_(r+1)) + (a0 + a1 + a2 + a3). */
static void aes_mix_columns(unsigned char s[AES_BLOCK])
{
	for (int c = 0; c < 4; c++) {
		unsigned char *a = s + 4 * c;
		unsigned char a0 = a[0], all = a[0] ^ a[1] ^ a[2] ^ a[3];

		a[0] ^= (unsigned char)(all ^ aes_xtime(a[0] ^ a[1]));
		a[1] ^= (unsigned char)(all ^ aes_xtime(a[1] ^ a[2]));
		a[2] ^= (unsigned char)(all ^ aes_xtime(a[2] ^ a[3]));
		a[3] ^= (unsigned char)(all ^ aes_xtime(a[3] ^ a0));
	}
}

/* One block, FIPS-197 5.1: out may be in. */
static void aes256_encrypt_block(const struct aes256 *a,
				 const unsigned char in[AES_BLOCK],
				 unsigned char out[AES_BLOCK])
{
	unsigned char s[AES_BLOCK];

	memcpy(s, in, AES_BLOCK);
	aes_add_round_key(s, a->rk);
	for (int r = 1; r < AES256_ROUNDS; r++) {
		aes_sub_shift(s);
		aes_mix_columns(s);
		aes_add_round_key(s, a->rk + AES_BLOCK * r);
	}
	aes_sub_shift(s);
	aes_add_round_key(s, a->rk + AES_BLOCK * AES256_ROUNDS);
	memcpy(out, s, AES_BLOCK);
	explicit_bzero(s, sizeof(s));
}

void crypto_aes256_ctr(const unsigned char key[32],
		       const unsigned char ctr[16], const void *in,
		       void *out, size_t len)
{
	struct aes256 a;
	unsigned char block[AES_BLOCK], ks[AES_BLOCK];
	const unsigned char *src = in;
	unsigned char *dst = out;

	aes256_expand(&a, key);
	memcpy(block, ctr, AES_BLOCK);
	while (len > 0) {
		size_t n = len < AES_BLOCK ? len : AES_BLOCK;

		aes256_encrypt_block(&a, block, ks);
		for (size_t i = 0; i < n; i++)
			dst[i] = (unsigned char)(src[i] ^ ks[i]);
		src += n;
		dst += n;
		len -= n;
		/* The low 64 bits count, big-endian, wrapping within
		 * themselves (bytes 0..7 are the nonce and never change). */
		for (int i = AES_BLOCK - 1; i >= AES_BLOCK / 2; i--) {
			block[i]++;
			if (block[i] != 0)
				break;
		}
	}
	explicit_bzero(&a, sizeof(a));
	explicit_bzero(block, sizeof(block));
	explicit_bzero(ks, sizeof(ks));
}

char *crypto_sha256(const void *data, size_t len)
{
	OlmUtility *u = util_alloc();
	size_t n = olm_sha256_length(u);
	char *out = xmalloc(n + 1);

	if (olm_sha256(u, data, len, out, n) == olm_error()) {
		free(out);
		out = NULL;
	} else {
		out[n] = '\0';
	}
	util_free(u);
	return out;
}

/* Unpadded base64 of n bytes: the standard alphabet, or with urlsafe
 * the URL one ('-' and '_' for '+' and '/'), as a JWK's "k" wants.
 * Caller frees (with wipe_free(s, strlen(s)) for a key). */
static char *base64_unpadded(const unsigned char *p, size_t n, int urlsafe)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *tab = urlsafe ? url : std;
	char *s = xmalloc(n / 3 * 4 + 4), *o = s;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
			     p[i + 2];

		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
		*o++ = tab[v & 63];
	}
	if (n - i == 1) {
		*o++ = tab[p[i] >> 2];
		*o++ = tab[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];

		*o++ = tab[v >> 10 & 63];
		*o++ = tab[v >> 4 & 63];
		*o++ = tab[(v & 15) << 2];
	}
	*o = '\0';
	return s;
}

int crypto_attachment_encrypt(const void *plaintext, size_t len,
			      unsigned char **ciphertext, json_t **file,
			      struct err *err)
{
	unsigned char key[AES256_KEY_LEN], iv[ATTACH_IV_LEN];
	unsigned char *ct = NULL;
	char *k = NULL, *ivs = NULL, *hash = NULL;
	int rc = CRYPTO_EFAIL;

	*ciphertext = NULL;
	*file = NULL;
	/* A fresh key for every file, and 64 random bits of nonce with a
	 * counter half of zero (v2: the most room before it wraps). */
	memset(iv, 0, sizeof(iv));
	if (random_bytes(key, sizeof(key)) < 0 ||
	    random_bytes(iv, ATTACH_IV_LEN / 2) < 0) {
		err_set(err, "getrandom: %s", strerror(errno));
		goto out;
	}
	ct = xmalloc(len ? len : 1);
	crypto_aes256_ctr(key, iv, plaintext, ct, len);
	hash = crypto_sha256(ct, len);
	if (!hash) {
		err_set(err, "olm_sha256 failed");
		goto out;
	}
	k = base64_unpadded(key, sizeof(key), 1);
	ivs = base64_unpadded(iv, sizeof(iv), 0);
	*file = json_pack("{s:s, s:{s:s, s:[s,s], s:s, s:s, s:b}, s:s, "
			  "s:{s:s}}",
			  "v", "v2",
			  "key", "kty", "oct", "key_ops", "encrypt", "decrypt",
			  "alg", "A256CTR", "k", k, "ext", 1,
			  "iv", ivs,
			  "hashes", "sha256", hash);
	if (!*file) {
		err_set(err, "json_pack of the attachment's file object");
		goto out;
	}
	*ciphertext = ct;
	ct = NULL;
	rc = 0;
out:
	free(ct);
	free(hash);
	free(ivs);
	if (k)
		wipe_free(k, strlen(k));
	explicit_bzero(key, sizeof(key));
	return rc;
}
