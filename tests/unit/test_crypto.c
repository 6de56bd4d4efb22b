/* test_crypto.c - the libolm wrapper: Olm both ways, Megolm with
 * exported sessions, tampering, every pickle under the right and a wrong
 * key, signing keys, canonical JSON and signed JSON, one-time and
 * fallback keys; AES-256-CTR against the FIPS-197 and SP 800-38A
 * vectors, SHA-256, and encrypted attachments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto.h"
#include "util.h"

static const char KEY[] = "correct horse battery staple";
static const char WRONG[] = "correct horse battery stapler";
/* A binary pickle key, NUL bytes included. */
static const unsigned char BINKEY[32] = { 0, 1, 2, 0, 4, 5, 6, 7, 255 };

static size_t obj_size(json_t *j)
{
	assert_true(json_is_object(j));
	return json_object_size(j);
}

/* The value of the only member of {id: key}. */
static const char *only_key(json_t *j)
{
	const char *k;
	json_t *v;

	assert_int_equal(obj_size(j), 1);
	json_object_foreach(j, k, v)
		return json_string_value(v);
	return NULL;
}

/* Flip one base64 character in the middle of s (to another valid
 * base64 character, so the message still parses). */
static char *tamper(const char *s)
{
	char *t = xstrdup(s);
	size_t i = strlen(t) / 2;

	t[i] = t[i] == 'A' ? 'B' : 'A';
	return t;
}

/* --- Olm ---------------------------------------------------------------- */

struct pair {
	struct crypto_account *alice, *bob;
	struct crypto_olm *a, *b;   /* alice's session to bob, bob's */
};

static void olm_send(struct crypto_olm *from, struct crypto_olm *to,
		     const char *text, int want_type)
{
	char *body = NULL, *pt = NULL;
	int type = -1;
	struct err err;

	assert_int_equal(crypto_olm_encrypt(from, text, &type, &body, &err),
			 0);
	assert_int_equal(type, want_type);
	assert_int_equal(crypto_olm_decrypt(to, type, body, &pt, &err), 0);
	assert_string_equal(pt, text);
	crypto_free_secret(pt);
	free(body);
}

/* A one-time key of bob's, freshly generated and published. */
static char *bob_otk(struct crypto_account *bob)
{
	json_t *otks = crypto_account_new_otks(bob, 1);
	char *otk = xstrdup(only_key(otks));

	json_decref(otks);
	crypto_account_mark_published(bob);
	return otk;
}

static void test_olm_both_ways(void **state)
{
	struct pair p = { 0 };
	struct crypto_olm *again = NULL, *late = NULL, *third = NULL;
	struct crypto_account *carol = crypto_account_new();
	char *otk, *body = NULL, *pt = NULL, *id_a, *id_b;
	int type;
	struct err err;
	json_t *left;
	/* Who sends, and the type the message must have: pre-key messages
	 * until alice has heard from bob. */
	static const struct {
		int from_alice;
		int type;
		const char *text;
	} turns[] = {
		{ 1, 0, "{\"type\":\"m.room_key\",\"n\":2}" },
		{ 1, 0, "nog een voor het antwoord" },
		{ 0, 1, "antwoord van bob" },
		{ 0, 1, "en nog een" },
		{ 1, 1, "nu gewone berichten" },
		{ 0, 1, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
		{ 1, 1, "" },
	};

	p.alice = crypto_account_new();
	p.bob = crypto_account_new();
	assert_non_null(p.alice);
	assert_non_null(p.bob);
	assert_non_null(carol);
	assert_int_equal(strlen(crypto_account_curve25519(p.alice)), 43);
	assert_int_equal(strlen(crypto_account_ed25519(p.alice)), 43);
	assert_string_not_equal(crypto_account_curve25519(p.alice),
				crypto_account_curve25519(p.bob));
	otk = bob_otk(p.bob);
	assert_int_equal(crypto_olm_outbound(p.alice,
					     crypto_account_curve25519(p.bob),
					     otk, &p.a, &err), 0);

	/* The first message makes bob's session. */
	assert_int_equal(crypto_olm_encrypt(p.a, turns[0].text, &type, &body,
					    &err), 0);
	assert_int_equal(type, 0);
	assert_int_equal(crypto_olm_inbound(p.bob,
					    crypto_account_curve25519(p.alice),
					    body, &p.b, &err), 0);
	assert_int_equal(crypto_olm_matches(p.b,
					    crypto_account_curve25519(p.alice),
					    body), 1);
	assert_int_equal(crypto_olm_matches(p.b,
					    crypto_account_curve25519(carol),
					    body), 0);
	assert_int_equal(crypto_olm_matches(p.b,
					    crypto_account_curve25519(p.alice),
					    "niet base64!"), 0);
	assert_int_equal(crypto_olm_decrypt(p.b, type, body, &pt, &err), 0);
	assert_string_equal(pt, turns[0].text);
	crypto_free_secret(pt);
	id_a = crypto_olm_id(p.a);
	id_b = crypto_olm_id(p.b);
	assert_non_null(id_a);
	assert_string_equal(id_a, id_b);
	free(id_a);
	free(id_b);

	/* Until it is removed, the one-time key still opens a session. */
	assert_int_equal(crypto_olm_inbound(p.bob,
					    crypto_account_curve25519(p.alice),
					    body, &again, &err), 0);
	crypto_olm_free(again);
	/* ... but only for the device that sent it */
	assert_int_equal(crypto_olm_inbound(p.bob,
					    crypto_account_curve25519(p.bob),
					    body, &again, &err), CRYPTO_EBADMSG);
	assert_null(again);
	assert_non_null(strstr(err.msg, "not from"));
	assert_int_equal(crypto_account_remove_otk(p.bob, p.b, &err), 0);
	/* Now it is gone: the same pre-key message opens nothing ... */
	assert_int_equal(crypto_olm_inbound(p.bob,
					    crypto_account_curve25519(p.alice),
					    body, &late, &err), CRYPTO_EBADMSG);
	assert_null(late);
	assert_non_null(strstr(err.msg, "olm_create_inbound_session"));
	/* ... and neither does a new session of carol's on the same key. */
	assert_int_equal(crypto_olm_outbound(carol,
					     crypto_account_curve25519(p.bob),
					     otk, &third, &err), 0);
	free(body);
	body = NULL;
	assert_int_equal(crypto_olm_encrypt(third, "hoi", &type, &body, &err),
			 0);
	assert_int_equal(type, 0);
	assert_int_equal(crypto_olm_inbound(p.bob,
					    crypto_account_curve25519(carol),
					    body, &late, &err), CRYPTO_EBADMSG);
	assert_null(late);
	/* Removing it twice fails too. */
	assert_int_equal(crypto_account_remove_otk(p.bob, p.b, &err),
			 CRYPTO_EBADMSG);
	left = crypto_account_new_otks(p.bob, 0);
	assert_int_equal(obj_size(left), 0);
	json_decref(left);

	for (size_t i = 1; i < ARRAY_LEN(turns); i++) {
		if (turns[i].from_alice)
			olm_send(p.a, p.b, turns[i].text, turns[i].type);
		else
			olm_send(p.b, p.a, turns[i].text, turns[i].type);
	}
	free(body);
	free(otk);
	crypto_olm_free(third);
	crypto_olm_free(p.a);
	crypto_olm_free(p.b);
	crypto_olm_free(NULL);
	crypto_account_free(p.alice);
	crypto_account_free(p.bob);
	crypto_account_free(carol);
	crypto_account_free(NULL);
}

/* Two sessions that have talked both ways. */
static void pair_new(struct pair *p)
{
	char *otk, *body = NULL, *pt = NULL;
	int type;
	struct err err;

	p->alice = crypto_account_new();
	p->bob = crypto_account_new();
	otk = bob_otk(p->bob);
	assert_int_equal(crypto_olm_outbound(p->alice,
					     crypto_account_curve25519(p->bob),
					     otk, &p->a, &err), 0);
	assert_int_equal(crypto_olm_encrypt(p->a, "hallo", &type, &body,
					    &err), 0);
	assert_int_equal(crypto_olm_inbound(p->bob,
					    crypto_account_curve25519(p->alice),
					    body, &p->b, &err), 0);
	assert_int_equal(crypto_olm_decrypt(p->b, type, body, &pt, &err), 0);
	crypto_free_secret(pt);
	free(body);
	free(otk);
}

static void pair_free(struct pair *p)
{
	crypto_olm_free(p->a);
	crypto_olm_free(p->b);
	crypto_account_free(p->alice);
	crypto_account_free(p->bob);
}

static void test_olm_tampered(void **state)
{
	struct pair p;
	char *body = NULL, *bad, *pt = NULL;
	int type;
	struct err err;
	static const struct {
		int type;      /* -1: the message's own */
		const char *body;   /* NULL: the tampered message */
	} cases[] = {
		{ -1, NULL },
		{ -1, "niet base64!" },
		{ -1, "" },
		{ 0, NULL },
		{ 7, NULL },
	};

	pair_new(&p);
	assert_int_equal(crypto_olm_encrypt(p.b, "geheim", &type, &body,
					    &err), 0);
	assert_int_equal(type, 1);
	bad = tamper(body);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int t = cases[i].type < 0 ? type : cases[i].type;
		const char *b = cases[i].body ? cases[i].body : bad;

		err.msg[0] = '\0';
		pt = (char *)"untouched";
		assert_int_equal(crypto_olm_decrypt(p.a, t, b, &pt, &err),
				 CRYPTO_EBADMSG);
		assert_null(pt);
		assert_non_null(strstr(err.msg, "olm_decrypt"));
	}
	/* The session was not changed by the failures. */
	assert_int_equal(crypto_olm_decrypt(p.a, type, body, &pt, &err), 0);
	assert_string_equal(pt, "geheim");
	crypto_free_secret(pt);
	free(bad);
	free(body);
	pair_free(&p);
}

/* --- Megolm ------------------------------------------------------------- */

static const char *const LINES[] = {
	"{\"type\":\"m.room.message\",\"content\":{\"msgtype\":\"m.text\","
	"\"body\":\"Ik weet niet of ik dit wel mag zeggen.\"}}",
	"{\"type\":\"m.room.message\",\"content\":{\"msgtype\":\"m.text\","
	"\"body\":\"Mama zegt dat het thuis blijft.\"}}",
	"{\"type\":\"m.room.message\",\"content\":{\"msgtype\":\"m.text\","
	"\"body\":\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"}}",
};

static void test_megolm_roundtrip(void **state)
{
	struct crypto_megolm_out *out = crypto_megolm_out_new();
	struct crypto_megolm_in *in = NULL, *imp = NULL, *late = NULL;
	char *key, *ct[ARRAY_LEN(LINES)], *exp, *key2, *pt, *oid, *iid;
	uint32_t idx;
	struct err err;

	assert_non_null(out);
	assert_int_equal(crypto_megolm_out_index(out), 0);
	key = crypto_megolm_out_key(out);
	assert_int_equal(crypto_megolm_in_new(key, 0, &in, &err), 0);
	assert_int_equal(crypto_megolm_in_first_index(in), 0);
	oid = crypto_megolm_out_id(out);
	iid = crypto_megolm_in_id(in);
	assert_string_equal(oid, iid);
	for (size_t i = 0; i < ARRAY_LEN(LINES); i++) {
		ct[i] = crypto_megolm_out_encrypt(out, LINES[i]);
		assert_non_null(ct[i]);
		assert_int_equal(crypto_megolm_out_index(out), i + 1);
	}
	for (size_t i = 0; i < ARRAY_LEN(LINES); i++) {
		idx = 99;
		assert_int_equal(crypto_megolm_in_decrypt(in, ct[i], &pt,
							  &idx, &err), 0);
		assert_int_equal(idx, i);
		assert_string_equal(pt, LINES[i]);
		crypto_free_secret(pt);
	}
	/* Replays are the caller's business: index 1 decrypts again. */
	assert_int_equal(crypto_megolm_in_decrypt(in, ct[1], &pt, &idx, &err),
			 0);
	assert_int_equal(idx, 1);
	crypto_free_secret(pt);

	/* Exported at index 2: knows 2, refuses 0 and 1. */
	exp = crypto_megolm_in_export(in, 2, &err);
	assert_non_null(exp);
	assert_int_equal(crypto_megolm_in_new(exp, 1, &imp, &err), 0);
	assert_int_equal(crypto_megolm_in_first_index(imp), 2);
	free(iid);
	iid = crypto_megolm_in_id(imp);
	assert_string_equal(oid, iid);
	for (size_t i = 0; i < 2; i++) {
		pt = (char *)"untouched";
		assert_int_equal(crypto_megolm_in_decrypt(imp, ct[i], &pt,
							  &idx, &err),
				 CRYPTO_EUNKNOWN);
		assert_null(pt);
		assert_non_null(strstr(err.msg, "UNKNOWN_MESSAGE_INDEX"));
	}
	assert_int_equal(crypto_megolm_in_decrypt(imp, ct[2], &pt, &idx, &err),
			 0);
	assert_int_equal(idx, 2);
	assert_string_equal(pt, LINES[2]);
	crypto_free_secret(pt);
	/* Nor can it export what it does not know. */
	assert_null(crypto_megolm_in_export(imp, 0, &err));
	/* An exported key is not a session_key (no signature), and the
	 * other way round. */
	assert_int_equal(crypto_megolm_in_new(exp, 0, &late, &err),
			 CRYPTO_EBADMSG);
	assert_int_equal(crypto_megolm_in_new(key, 1, &late, &err),
			 CRYPTO_EBADMSG);
	assert_int_equal(crypto_megolm_in_new("!!", 0, &late, &err),
			 CRYPTO_EBADMSG);
	assert_null(late);

	/* The session key shared later starts at the current index. */
	key2 = crypto_megolm_out_key(out);
	assert_int_equal(crypto_megolm_in_new(key2, 0, &late, &err), 0);
	assert_int_equal(crypto_megolm_in_first_index(late), 3);
	assert_int_equal(crypto_megolm_in_decrypt(late, ct[2], &pt, &idx,
						  &err), CRYPTO_EUNKNOWN);

	for (size_t i = 0; i < ARRAY_LEN(LINES); i++)
		free(ct[i]);
	crypto_free_secret(key);
	crypto_free_secret(key2);
	crypto_free_secret(exp);
	crypto_free_secret(NULL);
	free(oid);
	free(iid);
	crypto_megolm_in_free(in);
	crypto_megolm_in_free(imp);
	crypto_megolm_in_free(late);
	crypto_megolm_in_free(NULL);
	crypto_megolm_out_free(out);
	crypto_megolm_out_free(NULL);
}

static void test_megolm_tampered(void **state)
{
	struct crypto_megolm_out *out = crypto_megolm_out_new();
	struct crypto_megolm_out *other = crypto_megolm_out_new();
	struct crypto_megolm_in *in = NULL;
	char *key = crypto_megolm_out_key(out);
	char *ct = crypto_megolm_out_encrypt(out, LINES[0]);
	char *foreign = crypto_megolm_out_encrypt(other, LINES[0]);
	char *bad = tamper(ct), *pt;
	uint32_t idx;
	struct err err;
	const char *cases[] = { bad, foreign, "niet base64!", "", "AAAA" };

	assert_int_equal(crypto_megolm_in_new(key, 0, &in, &err), 0);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		pt = (char *)"untouched";
		err.msg[0] = '\0';
		assert_int_equal(crypto_megolm_in_decrypt(in, cases[i], &pt,
							  &idx, &err),
				 CRYPTO_EBADMSG);
		assert_null(pt);
		assert_non_null(strstr(err.msg, "olm_group_decrypt"));
	}
	assert_int_equal(crypto_megolm_in_decrypt(in, ct, &pt, NULL, &err), 0);
	assert_string_equal(pt, LINES[0]);
	crypto_free_secret(pt);
	free(bad);
	free(ct);
	free(foreign);
	crypto_free_secret(key);
	crypto_megolm_in_free(in);
	crypto_megolm_out_free(out);
	crypto_megolm_out_free(other);
}

/* --- pickles ------------------------------------------------------------ */

/* One pickle type behind a common face: make an object, pickle it,
 * unpickle it, say what identifies it, free it. */
struct pickle_type {
	const char *name;
	void *(*make)(void);
	char *(*pickle)(void *o, const void *key, size_t keylen);
	int (*unpickle)(const void *key, size_t keylen, const char *p,
			void **out, struct err *err);
	char *(*ident)(void *o);   /* caller frees */
	void (*release)(void *o);
};

static void *acc_make(void)
{
	return crypto_account_new();
}

static char *acc_pickle(void *o, const void *key, size_t keylen)
{
	return crypto_account_pickle(o, key, keylen);
}

static int acc_unpickle(const void *key, size_t keylen, const char *p,
			void **out, struct err *err)
{
	struct crypto_account *a = NULL;
	int rc = crypto_account_unpickle(key, keylen, p, &a, err);

	*out = a;
	return rc;
}

static char *acc_ident(void *o)
{
	struct sbuf sb;

	sbuf_init(&sb);
	sbuf_addf(&sb, "%s %s", crypto_account_curve25519(o),
		  crypto_account_ed25519(o));
	return sbuf_detach(&sb);
}

static void acc_release(void *o)
{
	crypto_account_free(o);
}

static void *olm_make(void)
{
	struct pair p;
	struct crypto_olm *s;

	pair_new(&p);
	s = p.b;
	p.b = NULL;
	pair_free(&p);
	return s;
}

static char *olm_pickle(void *o, const void *key, size_t keylen)
{
	return crypto_olm_pickle(o, key, keylen);
}

static int olm_unpickle(const void *key, size_t keylen, const char *p,
			void **out, struct err *err)
{
	struct crypto_olm *s = NULL;
	int rc = crypto_olm_unpickle(key, keylen, p, &s, err);

	*out = s;
	return rc;
}

static char *olm_ident(void *o)
{
	return crypto_olm_id(o);
}

static void olm_release(void *o)
{
	crypto_olm_free(o);
}

static void *mout_make(void)
{
	struct crypto_megolm_out *s = crypto_megolm_out_new();

	free(crypto_megolm_out_encrypt(s, "een"));
	return s;
}

static char *mout_pickle(void *o, const void *key, size_t keylen)
{
	return crypto_megolm_out_pickle(o, key, keylen);
}

static int mout_unpickle(const void *key, size_t keylen, const char *p,
			 void **out, struct err *err)
{
	struct crypto_megolm_out *s = NULL;
	int rc = crypto_megolm_out_unpickle(key, keylen, p, &s, err);

	*out = s;
	return rc;
}

/* The id, the index and the session key: all of the state. */
static char *mout_ident(void *o)
{
	struct sbuf sb;
	char *id = crypto_megolm_out_id(o), *key = crypto_megolm_out_key(o);

	sbuf_init(&sb);
	sbuf_addf(&sb, "%s %u %s", id, (unsigned)crypto_megolm_out_index(o),
		  key);
	free(id);
	crypto_free_secret(key);
	return sbuf_detach(&sb);
}

static void mout_release(void *o)
{
	crypto_megolm_out_free(o);
}

static void *min_make(void)
{
	struct crypto_megolm_out *out = crypto_megolm_out_new();
	struct crypto_megolm_in *in = NULL;
	char *key;

	free(crypto_megolm_out_encrypt(out, "een"));
	key = crypto_megolm_out_key(out);
	assert_int_equal(crypto_megolm_in_new(key, 0, &in, NULL), 0);
	crypto_free_secret(key);
	crypto_megolm_out_free(out);
	return in;
}

static char *min_pickle(void *o, const void *key, size_t keylen)
{
	return crypto_megolm_in_pickle(o, key, keylen);
}

static int min_unpickle(const void *key, size_t keylen, const char *p,
			void **out, struct err *err)
{
	struct crypto_megolm_in *s = NULL;
	int rc = crypto_megolm_in_unpickle(key, keylen, p, &s, err);

	*out = s;
	return rc;
}

static char *min_ident(void *o)
{
	struct sbuf sb;
	char *id = crypto_megolm_in_id(o);
	char *exp = crypto_megolm_in_export(o,
					    crypto_megolm_in_first_index(o),
					    NULL);

	sbuf_init(&sb);
	sbuf_addf(&sb, "%s %u %s", id,
		  (unsigned)crypto_megolm_in_first_index(o), exp);
	free(id);
	crypto_free_secret(exp);
	return sbuf_detach(&sb);
}

static void min_release(void *o)
{
	crypto_megolm_in_free(o);
}

static void *sig_make(void)
{
	return crypto_signing_new();
}

static char *sig_pickle(void *o, const void *key, size_t keylen)
{
	return crypto_signing_pickle(o, key, keylen);
}

static int sig_unpickle(const void *key, size_t keylen, const char *p,
			void **out, struct err *err)
{
	struct crypto_signing *s = NULL;
	int rc = crypto_signing_unpickle(key, keylen, p, &s, err);

	*out = s;
	return rc;
}

/* The public key and a signature (Ed25519 signatures are
 * deterministic, so the same seed signs the same bytes alike). */
static char *sig_ident(void *o)
{
	struct sbuf sb;
	char *sig = crypto_signing_sign(o, "x", 1);

	sbuf_init(&sb);
	sbuf_addf(&sb, "%s %s", crypto_signing_public(o), sig);
	free(sig);
	return sbuf_detach(&sb);
}

static void sig_release(void *o)
{
	crypto_signing_free(o);
}

static const struct pickle_type pickle_types[] = {
	{ "account", acc_make, acc_pickle, acc_unpickle, acc_ident,
	  acc_release },
	{ "olm session", olm_make, olm_pickle, olm_unpickle, olm_ident,
	  olm_release },
	{ "megolm outbound", mout_make, mout_pickle, mout_unpickle,
	  mout_ident, mout_release },
	{ "megolm inbound", min_make, min_pickle, min_unpickle, min_ident,
	  min_release },
	{ "signing key", sig_make, sig_pickle, sig_unpickle, sig_ident,
	  sig_release },
};

static const struct {
	const void *key, *wrong;
	size_t keylen, wronglen;
} pickle_keys[] = {
	{ KEY, WRONG, sizeof(KEY) - 1, sizeof(WRONG) - 1 },
	{ BINKEY, KEY, sizeof(BINKEY), sizeof(KEY) - 1 },
	/* a prefix of the right key is a wrong key */
	{ BINKEY, BINKEY, sizeof(BINKEY), sizeof(BINKEY) - 1 },
};

static void test_pickles(void **state)
{
	for (size_t t = 0; t < ARRAY_LEN(pickle_types); t++) {
		const struct pickle_type *pt = &pickle_types[t];
		void *o = pt->make(), *back = NULL;
		char *id = pt->ident(o);

		for (size_t k = 0; k < ARRAY_LEN(pickle_keys); k++) {
			char *p = pt->pickle(o, pickle_keys[k].key,
					     pickle_keys[k].keylen);
			char *p2, *id2, *bad;
			struct err err;

			assert_non_null(p);
			assert_int_equal(pt->unpickle(pickle_keys[k].key,
						      pickle_keys[k].keylen,
						      p, &back, &err), 0);
			id2 = pt->ident(back);
			if (strcmp(id, id2) != 0)
				fail_msg("%s: not the same after unpickling",
					 pt->name);
			/* and it pickles again */
			p2 = pt->pickle(back, pickle_keys[k].key,
					pickle_keys[k].keylen);
			assert_non_null(p2);
			free(p2);
			free(id2);
			pt->release(back);

			back = (void *)&err;
			err.msg[0] = '\0';
			assert_int_equal(pt->unpickle(pickle_keys[k].wrong,
						      pickle_keys[k].wronglen,
						      p, &back, &err),
					 CRYPTO_EBADKEY);
			assert_null(back);
			if (!strstr(err.msg, "pickle key does not open"))
				fail_msg("%s: %s", pt->name, err.msg);
			/* the input was not harmed: the right key still
			 * works */
			assert_int_equal(pt->unpickle(pickle_keys[k].key,
						      pickle_keys[k].keylen,
						      p, &back, &err), 0);
			pt->release(back);

			bad = tamper(p);
			assert_true(pt->unpickle(pickle_keys[k].key,
						 pickle_keys[k].keylen, bad,
						 &back, &err) < 0);
			assert_null(back);
			assert_true(pt->unpickle(pickle_keys[k].key,
						 pickle_keys[k].keylen, "!!",
						 &back, &err) < 0);
			assert_true(pt->unpickle(pickle_keys[k].key,
						 pickle_keys[k].keylen, "",
						 &back, &err) < 0);
			free(bad);
			free(p);
		}
		free(id);
		pt->release(o);
	}
}

/* A pickled outbound session keeps encrypting where it was. */
static void test_megolm_out_pickle_continues(void **state)
{
	struct crypto_megolm_out *out = crypto_megolm_out_new(), *back = NULL;
	struct crypto_megolm_in *in = NULL;
	char *key = crypto_megolm_out_key(out), *p, *ct, *pt;
	uint32_t idx;

	assert_int_equal(crypto_megolm_in_new(key, 0, &in, NULL), 0);
	free(crypto_megolm_out_encrypt(out, "een"));
	p = crypto_megolm_out_pickle(out, KEY, sizeof(KEY) - 1);
	assert_int_equal(crypto_megolm_out_unpickle(KEY, sizeof(KEY) - 1, p,
						    &back, NULL), 0);
	assert_int_equal(crypto_megolm_out_index(back), 1);
	ct = crypto_megolm_out_encrypt(back, LINES[1]);
	assert_int_equal(crypto_megolm_in_decrypt(in, ct, &pt, &idx, NULL), 0);
	assert_int_equal(idx, 1);
	assert_string_equal(pt, LINES[1]);
	crypto_free_secret(pt);
	free(ct);
	free(p);
	crypto_free_secret(key);
	crypto_megolm_in_free(in);
	crypto_megolm_out_free(back);
	crypto_megolm_out_free(out);
}

/* --- signing ------------------------------------------------------------ */

static void test_signing(void **state)
{
	struct crypto_signing *k = crypto_signing_new(), *back = NULL;
	struct crypto_signing *other = crypto_signing_new();
	struct crypto_account *acc = crypto_account_new();
	static const char msg[] = "{\"a\":1}";
	char *sig, *sig2, *p, *asig;
	struct err err;

	assert_non_null(k);
	assert_int_equal(strlen(crypto_signing_public(k)), 43);
	assert_string_not_equal(crypto_signing_public(k),
				crypto_signing_public(other));
	sig = crypto_signing_sign(k, msg, strlen(msg));
	assert_int_equal(strlen(sig), 86);
	assert_int_equal(crypto_ed25519_verify(crypto_signing_public(k), msg,
					       strlen(msg), sig), 0);
	assert_int_equal(crypto_ed25519_verify(crypto_signing_public(k), msg,
					       strlen(msg) - 1, sig),
			 CRYPTO_EBADMSG);
	assert_int_equal(crypto_ed25519_verify(crypto_signing_public(other),
					       msg, strlen(msg), sig),
			 CRYPTO_EBADMSG);
	assert_int_equal(crypto_ed25519_verify("kort", msg, strlen(msg), sig),
			 CRYPTO_EBADMSG);
	assert_int_equal(crypto_ed25519_verify(crypto_signing_public(k), msg,
					       strlen(msg), "!!"),
			 CRYPTO_EBADMSG);

	p = crypto_signing_pickle(k, KEY, sizeof(KEY) - 1);
	assert_int_equal(crypto_signing_unpickle(KEY, sizeof(KEY) - 1, p,
						 &back, &err), 0);
	assert_string_equal(crypto_signing_public(back),
			    crypto_signing_public(k));
	sig2 = crypto_signing_sign(back, msg, strlen(msg));
	assert_string_equal(sig, sig2);
	assert_int_equal(crypto_ed25519_verify(crypto_signing_public(k), msg,
					       strlen(msg), sig2), 0);

	/* The device key signs too. */
	asig = crypto_account_sign(acc, msg, strlen(msg));
	assert_int_equal(crypto_ed25519_verify(crypto_account_ed25519(acc),
					       msg, strlen(msg), asig), 0);
	assert_int_equal(crypto_ed25519_verify(crypto_signing_public(k),
					       msg, strlen(msg), asig),
			 CRYPTO_EBADMSG);
	free(asig);
	free(sig);
	free(sig2);
	free(p);
	crypto_signing_free(k);
	crypto_signing_free(back);
	crypto_signing_free(other);
	crypto_signing_free(NULL);
	crypto_account_free(acc);
}

/* --- canonical JSON ----------------------------------------------------- */

static const struct {
	const char *in;
	const char *want;   /* NULL: refused */
} canon_cases[] = {
	/* the examples of the spec's appendix */
	{ "{}", "{}" },
	{ "{\"one\": 1, \"two\": \"Two\"}", "{\"one\":1,\"two\":\"Two\"}" },
	{ "{\n    \"b\": \"2\",\n    \"a\": \"1\"\n}",
	  "{\"a\":\"1\",\"b\":\"2\"}" },
	{ "{\"b\":\"2\",\"a\":\"1\"}", "{\"a\":\"1\",\"b\":\"2\"}" },
	{ "{\"auth\": {\"success\": true, \"mxid\": \"@john.doe:example.com\","
	  " \"profile\": {\"display_name\": \"John Doe\", \"three_pids\": "
	  "[{\"medium\": \"email\", \"address\": \"john.doe@example.org\"},"
	  " {\"medium\": \"msisdn\", \"address\": \"123456789\"}]}}}",
	  "{\"auth\":{\"mxid\":\"@john.doe:example.com\",\"profile\":"
	  "{\"display_name\":\"John Doe\",\"three_pids\":[{\"address\":"
	  "\"john.doe@example.org\",\"medium\":\"email\"},{\"address\":"
	  "\"123456789\",\"medium\":\"msisdn\"}]},\"success\":true}}" },
	{ "{\"a\": \"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"}",
	  "{\"a\":\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"}" },
	{ "{\"\xe6\x9c\xac\": 2, \"\xe6\x97\xa5\": 1}",
	  "{\"\xe6\x97\xa5\":1,\"\xe6\x9c\xac\":2}" },
	{ "{\"a\": \"\\u65E5\"}", "{\"a\":\"\xe6\x97\xa5\"}" },
	{ "{\"a\": null}", "{\"a\":null}" },
	{ "{\"a\": -0}", "{\"a\":0}" },
	/* The spec's last example has 1e10; jansson reads it as a real,
	 * and reals are refused (fail closed) rather than guessed. */
	{ "{\"a\": -0, \"b\": 1e10}", NULL },
	/* reals anywhere */
	{ "{\"a\": 1.5}", NULL },
	{ "{\"a\": [1, 2, {\"b\": [0.0]}]}", NULL },
	/* integers in [-(2^53)+1, 2^53-1] */
	{ "{\"a\": 9007199254740991, \"b\": -9007199254740991}",
	  "{\"a\":9007199254740991,\"b\":-9007199254740991}" },
	{ "{\"a\": 9007199254740992}", NULL },
	{ "{\"a\": -9007199254740992}", NULL },
	/* top-level signatures and unsigned go, nested ones stay */
	{ "{\"signatures\": {\"@a:b\": {}}, \"unsigned\": {\"age\": 1.5},"
	  " \"x\": {\"unsigned\": 1, \"signatures\": 2}}",
	  "{\"x\":{\"signatures\":2,\"unsigned\":1}}" },
	/* escapes: the short ones, lower-case hex for the rest, no
	 * escaping of "/" or of non-ASCII */
	{ "{\"a\": \"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u000B\\u001f/\\u00e9"
	  "\\u2028\"}",
	  "{\"a\":\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u000b\\u001f/\xc3\xa9"
	  "\xe2\x80\xa8\"}" },
	{ "{\"\\\\u00AB\": \"\\\\\\u001B\"}",
	  "{\"\\\\u00AB\":\"\\\\\\u001b\"}" },
	{ "{\"a\": [3, 1, 2], \"B\": true, \"_\": false}",
	  "{\"B\":true,\"_\":false,\"a\":[3,1,2]}" },
};

static void test_canonical(void **state)
{
	json_error_t je;

	for (size_t i = 0; i < ARRAY_LEN(canon_cases); i++) {
		json_t *j = json_loads(canon_cases[i].in, 0, &je);
		char *got, *before;

		if (!j)
			fail_msg("case %zu: %s", i, je.text);
		before = json_dumps(j, JSON_SORT_KEYS);
		got = crypto_canonical(j);
		if (!canon_cases[i].want && got)
			fail_msg("case %zu: want refusal, got %s", i, got);
		if (canon_cases[i].want && (!got ||
		    strcmp(got, canon_cases[i].want) != 0))
			fail_msg("case %zu: want %s\n got %s", i,
				 canon_cases[i].want, got ? got : "NULL");
		free(got);
		/* the object itself is not changed */
		got = json_dumps(j, JSON_SORT_KEYS);
		assert_string_equal(got, before);
		free(got);
		free(before);
		json_decref(j);
	}
	/* not an object */
	{
		json_t *a = json_pack("[i]", 1);

		assert_null(crypto_canonical(a));
		assert_null(crypto_canonical(NULL));
		json_decref(a);
	}
}

/* --- signed JSON -------------------------------------------------------- */

static void sign_json(json_t *obj, const char *user, const char *kid,
		      struct crypto_account *acc)
{
	char *canon = crypto_canonical(obj), *sig;
	json_t *sigs;

	assert_non_null(canon);
	sig = crypto_account_sign(acc, canon, strlen(canon));
	sigs = json_object_get(obj, "signatures");
	if (!sigs) {
		sigs = json_object();
		json_object_set_new(obj, "signatures", sigs);
	}
	json_object_set_new(sigs, user,
			    json_pack("{s:s}", kid, sig));
	free(sig);
	free(canon);
}

static void test_verify_json(void **state)
{
	struct crypto_account *acc = crypto_account_new();
	struct crypto_account *other = crypto_account_new();
	const char *ed = crypto_account_ed25519(acc);
	json_t *keys = json_pack("{s:s,s:s,s:[s,s],s:{s:s,s:s}}",
				 "user_id", "@oefenkamer:example.org",
				 "device_id", "OEFEN",
				 "algorithms", "m.olm.v1.curve25519-aes-sha2",
				 "m.megolm.v1.aes-sha2",
				 "keys",
				 "curve25519:OEFEN",
				 crypto_account_curve25519(acc),
				 "ed25519:OEFEN", ed);
	struct err err;
	static const struct {
		const char *user, *kid, *field, *value;
		int wrong_key;
		int want;
		const char *why;   /* in err.msg when it fails */
	} cases[] = {
		{ "@oefenkamer:example.org", "OEFEN", NULL, NULL, 0, 0, NULL },
		/* unsigned is not signed */
		{ "@oefenkamer:example.org", "OEFEN", "unsigned", "x", 0, 0,
		  NULL },
		{ "@oefenkamer:example.org", "OEFEN", "device_id", "ANDERS", 0,
		  CRYPTO_EBADMSG, "does not verify" },
		{ "@oefenkamer:example.org", "OEFEN", NULL, NULL, 1,
		  CRYPTO_EBADMSG, "does not verify" },
		{ "@oefenkamer:example.org", "ANDERS", NULL, NULL, 0,
		  CRYPTO_EBADMSG, "no signature ed25519:ANDERS" },
		{ "@iemand:example.org", "OEFEN", NULL, NULL, 0,
		  CRYPTO_EBADMSG, "no signature" },
	};

	sign_json(keys, "@oefenkamer:example.org", "ed25519:OEFEN", acc);
	/* a signature by someone else does not get in the way */
	sign_json(keys, "@iemand:example.org", "ed25519:X", other);
	/* and neither does a bogus one beside ours */
	json_object_set_new(json_object_get(json_object_get(keys,
							    "signatures"),
					    "@oefenkamer:example.org"),
			    "ed25519:ANDER", json_string("AAAA"));
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		json_t *c = json_deep_copy(keys);
		int rc;

		if (cases[i].field)
			json_object_set_new(c, cases[i].field,
					    json_string(cases[i].value));
		err.msg[0] = '\0';
		rc = crypto_verify_json(c, cases[i].user, cases[i].kid,
					cases[i].wrong_key ?
					crypto_account_ed25519(other) : ed,
					&err);
		if (rc != cases[i].want)
			fail_msg("case %zu: rc %d, want %d (%s)", i, rc,
				 cases[i].want, err.msg);
		if (cases[i].why && !strstr(err.msg, cases[i].why))
			fail_msg("case %zu: %s", i, err.msg);
		json_decref(c);
	}
	/* a real number in the signed part: refused, not verified */
	json_object_set_new(keys, "t", json_real(1.5));
	assert_int_equal(crypto_verify_json(keys, "@oefenkamer:example.org",
					    "OEFEN", ed, &err),
			 CRYPTO_EBADMSG);
	json_decref(keys);
	crypto_account_free(acc);
	crypto_account_free(other);
}

/* --- one-time and fallback keys ----------------------------------------- */

static void test_otks(void **state)
{
	struct crypto_account *a = crypto_account_new();
	size_t max = crypto_account_max_otks(a);
	json_t *k;
	const char *id;
	json_t *v;
	static const struct {
		size_t add;
		int publish_before;
		size_t want;
	} steps[] = {
		{ 0, 0, 0 },
		{ 5, 0, 5 },
		{ 3, 0, 8 },   /* unpublished ones accumulate */
		{ 0, 1, 0 },   /* published: no longer returned */
		{ 2, 0, 2 },
	};

	assert_true(max >= 50);
	for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
		if (steps[i].publish_before)
			crypto_account_mark_published(a);
		k = crypto_account_new_otks(a, steps[i].add);
		if (obj_size(k) != steps[i].want)
			fail_msg("step %zu: %zu keys, want %zu", i,
				 obj_size(k), steps[i].want);
		json_object_foreach(k, id, v) {
			assert_true(json_is_string(v));
			assert_int_equal(strlen(json_string_value(v)), 43);
		}
		json_decref(k);
	}
	/* never more than the account holds */
	crypto_account_mark_published(a);
	k = crypto_account_new_otks(a, max + 10);
	assert_int_equal(obj_size(k), max);
	json_decref(k);
	crypto_account_free(a);
}

static void test_fallback(void **state)
{
	struct crypto_account *a = crypto_account_new();
	json_t *k;
	char *first;
	struct err err;

	k = crypto_account_fallback(a);
	assert_int_equal(obj_size(k), 0);
	json_decref(k);
	assert_int_equal(crypto_account_new_fallback(a, &err), 0);
	k = crypto_account_fallback(a);
	first = xstrdup(only_key(k));
	assert_int_equal(strlen(first), 43);
	json_decref(k);
	crypto_account_mark_published(a);
	k = crypto_account_fallback(a);
	assert_int_equal(obj_size(k), 0);
	json_decref(k);
	/* the next one is a different key */
	assert_int_equal(crypto_account_new_fallback(a, &err), 0);
	k = crypto_account_fallback(a);
	assert_string_not_equal(only_key(k), first);
	json_decref(k);
	free(first);
	crypto_account_free(a);
}

/* A pre-key message on the fallback key works, even twice. */
static void test_fallback_session(void **state)
{
	struct crypto_account *alice = crypto_account_new();
	struct crypto_account *bob = crypto_account_new();
	struct crypto_olm *a = NULL, *b = NULL;
	json_t *k;
	char *fb, *body = NULL, *pt = NULL;
	int type;
	struct err err;

	assert_int_equal(crypto_account_new_fallback(bob, &err), 0);
	k = crypto_account_fallback(bob);
	fb = xstrdup(only_key(k));
	json_decref(k);
	crypto_account_mark_published(bob);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(crypto_olm_outbound(alice,
				crypto_account_curve25519(bob), fb, &a, &err),
				 0);
		assert_int_equal(crypto_olm_encrypt(a, "via fallback", &type,
						    &body, &err), 0);
		assert_int_equal(crypto_olm_inbound(bob,
				crypto_account_curve25519(alice), body, &b,
				&err), 0);
		assert_int_equal(crypto_olm_decrypt(b, type, body, &pt, &err),
				 0);
		assert_string_equal(pt, "via fallback");
		assert_int_equal(crypto_account_remove_otk(bob, b, &err), 0);
		crypto_free_secret(pt);
		free(body);
		crypto_olm_free(a);
		crypto_olm_free(b);
	}
	free(fb);
	crypto_account_free(alice);
	crypto_account_free(bob);
}

/* --- encrypted attachments ---------------------------------------------- */

/* n bytes from hex (2 n digits). */
static void unhex(const char *hex, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (unsigned char)b;
	}
}

/* Test-only decoder of unpadded base64 in one alphabet: the URL one
 * ('-', '_') when urlsafe, else the standard one ('+', '/'). Any other
 * character, padding or a length no encoder writes fails the test.
 * Returns the byte count; out holds at least strlen(s) bytes. */
static size_t unbase64(const char *s, int urlsafe, unsigned char *out)
{
	const char *tab = urlsafe ?
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" :
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len = strlen(s), n = 0;
	uint32_t acc = 0;
	int bits = 0;

	assert_int_not_equal(len % 4, 1);
	for (size_t i = 0; i < len; i++) {
		const char *c = strchr(tab, s[i]);

		assert_non_null(c);
		acc = acc << 6 | (uint32_t)(c - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	assert_int_equal(acc, 0);   /* the unused low bits are zero */
	return n;
}

/* FIPS-197 appendix C.3: the AES-256 block cipher alone. One block of
 * counter mode over zeros is the encryption of the counter block. */
static void test_aes256_fips197(void **state)
{
	unsigned char key[32], block[16], out[16], want[16];
	static const unsigned char zero[16];

	(void)state;
	unhex("000102030405060708090a0b0c0d0e0f"
	      "101112131415161718191a1b1c1d1e1f", key, 32);
	unhex("00112233445566778899aabbccddeeff", block, 16);
	unhex("8ea2b7ca516745bfeafc49904b496089", want, 16);
	crypto_aes256_ctr(key, block, zero, out, 16);
	assert_memory_equal(out, want, 16);
}

/* NIST SP 800-38A F.5.5 CTR-AES256.Encrypt: whole, in place, and cut
 * short in the middle of a block. */
static void test_aes256_ctr_nist(void **state)
{
	unsigned char key[32], ctr[16], pt[64], want[64], out[64];

	(void)state;
	unhex("603deb1015ca71be2b73aef0857d7781"
	      "1f352c073b6108d72d9810a30914dff4", key, 32);
	unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", ctr, 16);
	unhex("6bc1bee22e409f96e93d7e117393172a"
	      "ae2d8a571e03ac9c9eb76fac45af8e51"
	      "30c81c46a35ce411e5fbc1191a0a52ef"
	      "f69f2445df4f9b17ad2b417be66c3710", pt, 64);
	unhex("601ec313775789a5b7a7f504bbf3d228"
	      "f443e3ca4d62b59aca84e990cacaf5c5"
	      "2b0930daa23de94ce87017ba2d84988d"
	      "dfc9c58db67aada613c2dd08457941a6", want, 64);
	crypto_aes256_ctr(key, ctr, pt, out, 64);
	assert_memory_equal(out, want, 64);

	memset(out, 0, sizeof(out));
	crypto_aes256_ctr(key, ctr, pt, out, 37);
	assert_memory_equal(out, want, 37);
	assert_int_equal(out[37], 0);   /* nothing written past len */

	memcpy(out, pt, 64);
	crypto_aes256_ctr(key, ctr, out, out, 64);
	assert_memory_equal(out, want, 64);
	/* Decrypting is the same operation. */
	crypto_aes256_ctr(key, ctr, out, out, 64);
	assert_memory_equal(out, pt, 64);
}

/* The counter is the low 64 bits only: from ...ff ff it carries into
 * byte 14, and from all ones it wraps to zero without touching the
 * nonce half. Each keystream block is checked against the block cipher
 * (one block over zeros) at the counter block the test computes. */
static void test_aes256_ctr_counter(void **state)
{
	static const unsigned char zero[48];
	unsigned char key[32], ks[48], blk[16], want[16];
	static const char *const starts[] = {
		"0102030405060708000000000000fffe",   /* carries twice */
		"0102030405060708fffffffffffffffe",   /* wrap, nonce kept */
	};
	static const char *const seconds[] = {
		"0102030405060708000000000000ffff",
		"0102030405060708ffffffffffffffff",
	};
	static const char *const thirds[] = {
		"01020304050607080000000000010000",
		"01020304050607080000000000000000",
	};

	(void)state;
	unhex("000102030405060708090a0b0c0d0e0f"
	      "101112131415161718191a1b1c1d1e1f", key, 32);
	for (size_t i = 0; i < ARRAY_LEN(starts); i++) {
		unhex(starts[i], blk, 16);
		crypto_aes256_ctr(key, blk, zero, ks, 48);
		crypto_aes256_ctr(key, blk, zero, want, 16);
		assert_memory_equal(ks, want, 16);
		unhex(seconds[i], blk, 16);
		crypto_aes256_ctr(key, blk, zero, want, 16);
		assert_memory_equal(ks + 16, want, 16);
		unhex(thirds[i], blk, 16);
		crypto_aes256_ctr(key, blk, zero, want, 16);
		assert_memory_equal(ks + 32, want, 16);
	}
}

/* FIPS 180-2 "abc" and the empty string, as unpadded base64. */
static void test_sha256(void **state)
{
	char *h;

	(void)state;
	h = crypto_sha256("abc", 3);
	assert_string_equal(h, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
	free(h);
	h = crypto_sha256("", 0);
	assert_string_equal(h, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
	free(h);
}

/* A plaintext of n bytes: HTML with UTF-8 and every byte value. */
static unsigned char *attach_plain(size_t n)
{
	static const char html[] = "<h1>Nabespreking</h1><p>\xe2\x9c\x94 "
				   "Je vroeg naar de veiligheid.</p>";
	unsigned char *p = xmalloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		p[i] = i < sizeof(html) - 1 ? (unsigned char)html[i] :
		       (unsigned char)(i * 7 + 3);
	return p;
}

/* With OEF_ATTACH_VECTORS set to a directory, leave the case for an
 * independent decrypter (tests/integration/attach_nio.py runs matrix-nio on
 * them): N.plain, N.cipher and N.json (the file object) for N bytes. */
static void attach_write_vector(size_t n, const unsigned char *pt,
				const unsigned char *ct, json_t *file)
{
	const char *dir = getenv("OEF_ATTACH_VECTORS");
	static const char *const ext[] = { "plain", "cipher", "json" };
	char path[4096];
	char *js;

	if (!dir || !*dir)
		return;
	js = json_dumps(file, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(js);
	for (size_t i = 0; i < ARRAY_LEN(ext); i++) {
		FILE *f;
		const void *data = i == 0 ? (const void *)pt :
				   i == 1 ? (const void *)ct : js;
		size_t len = i == 2 ? strlen(js) : n;
		int w = snprintf(path, sizeof(path), "%s/%zu.%s", dir, n,
				 ext[i]);

		assert_true(w > 0 && (size_t)w < sizeof(path));
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(data, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
	}
	free(js);
}

/* The file object as the spec has it, and back to the plaintext through
 * a test-only decrypt: hash checked first, then counter mode with the
 * decoded key and counter block. Sizes around a block, and past 256
 * blocks (the counter carries out of its last byte). */
static void test_attachment_roundtrip(void **state)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 5000 };

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		size_t n = sizes[i];
		unsigned char *pt = attach_plain(n), *ct = NULL, *back;
		unsigned char key[64], iv[64], sha[64];
		json_t *file = NULL, *jwk, *ops;
		const char *k, *ivs, *hash;
		char *mine;
		struct err err;

		assert_int_equal(crypto_attachment_encrypt(pt, n, &ct, &file,
							   &err), 0);
		assert_non_null(ct);
		assert_string_equal(json_string_value(
			json_object_get(file, "v")), "v2");
		assert_null(json_object_get(file, "url"));
		assert_int_equal(json_object_size(file), 4);
		jwk = json_object_get(file, "key");
		assert_int_equal(json_object_size(jwk), 5);
		assert_string_equal(json_string_value(
			json_object_get(jwk, "kty")), "oct");
		assert_string_equal(json_string_value(
			json_object_get(jwk, "alg")), "A256CTR");
		assert_true(json_is_true(json_object_get(jwk, "ext")));
		ops = json_object_get(jwk, "key_ops");
		assert_int_equal(json_array_size(ops), 2);
		assert_string_equal(json_string_value(json_array_get(ops, 0)),
				    "encrypt");
		assert_string_equal(json_string_value(json_array_get(ops, 1)),
				    "decrypt");
		k = json_string_value(json_object_get(jwk, "k"));
		ivs = json_string_value(json_object_get(file, "iv"));
		hash = json_string_value(json_object_get(
			json_object_get(file, "hashes"), "sha256"));
		assert_non_null(k);
		assert_non_null(ivs);
		assert_non_null(hash);
		assert_int_equal(strlen(k), 43);
		assert_int_equal(unbase64(k, 1, key), 32);
		assert_int_equal(strlen(ivs), 22);
		assert_int_equal(unbase64(ivs, 0, iv), 16);
		assert_int_equal(unbase64(hash, 0, sha), 32);
		/* v2: the counter half of the IV starts at zero. */
		for (int b = 8; b < 16; b++)
			assert_int_equal(iv[b], 0);

		/* Test-only decrypt. */
		mine = crypto_sha256(ct, n);
		assert_string_equal(mine, hash);
		free(mine);
		back = xmalloc(n ? n : 1);
		crypto_aes256_ctr(key, iv, ct, back, n);
		assert_memory_equal(back, pt, n);
		if (n >= 16)
			assert_memory_not_equal(ct, pt, n);

		attach_write_vector(n, pt, ct, file);
		free(back);
		free(ct);
		free(pt);
		json_decref(file);
	}
}

/* Every file gets its own key and nonce. */
static void test_attachment_fresh(void **state)
{
	unsigned char *pt = attach_plain(100), *ct[2];
	json_t *file[2];
	struct err err;

	(void)state;
	for (int i = 0; i < 2; i++)
		assert_int_equal(crypto_attachment_encrypt(pt, 100, &ct[i],
							   &file[i], &err), 0);
	assert_string_not_equal(
		json_string_value(json_object_get(
			json_object_get(file[0], "key"), "k")),
		json_string_value(json_object_get(
			json_object_get(file[1], "key"), "k")));
	assert_string_not_equal(
		json_string_value(json_object_get(file[0], "iv")),
		json_string_value(json_object_get(file[1], "iv")));
	assert_memory_not_equal(ct[0], ct[1], 100);
	for (int i = 0; i < 2; i++) {
		free(ct[i]);
		json_decref(file[i]);
	}
	free(pt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_olm_both_ways),
		cmocka_unit_test(test_olm_tampered),
		cmocka_unit_test(test_megolm_roundtrip),
		cmocka_unit_test(test_megolm_tampered),
		cmocka_unit_test(test_pickles),
		cmocka_unit_test(test_megolm_out_pickle_continues),
		cmocka_unit_test(test_signing),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_verify_json),
		cmocka_unit_test(test_otks),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_fallback_session),
		cmocka_unit_test(test_aes256_fips197),
		cmocka_unit_test(test_aes256_ctr_nist),
		cmocka_unit_test(test_aes256_ctr_counter),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_attachment_roundtrip),
		cmocka_unit_test(test_attachment_fresh),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
