/* crypto.h - the cryptographic primitives of Matrix end-to-end encryption.
 *
 * The one place that calls libolm (deprecated upstream: swapping it for
 * another implementation should touch crypto.c only). It knows keys,
 * sessions, signatures, pickles and attachment encryption (AES-256-CTR,
 * our own: libolm has none); it knows nothing of HTTP, rooms,
 * devices lists or SQL: e2ee.c decides what to encrypt for whom and
 * store.c keeps the pickles.
 *
 * Conventions:
 * - Keys, signatures and ciphertexts are unpadded base64 strings, as on
 *   the wire.
 * - Pickles are encrypted and authenticated with the pickle key (any
 *   length; the caller reads it from a 0600 file or the environment).
 *   Unpickling with the wrong key fails with CRYPTO_EBADKEY and a
 *   message saying so; nothing is ever silently recreated.
 * - Every function that returns char * returns a string the caller frees
 *   with free(); secrets among them (plaintexts, session keys) should be
 *   wiped by the caller with crypto_free_secret().
 * - Functions returning int give 0 on success and a negative CRYPTO_E*
 *   value on failure, with the reason in err (English is fine: these
 *   reach the log, not a trainee). Key material is wiped on every path.
 */
#ifndef OEF_CRYPTO_H
#define OEF_CRYPTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "util.h"

#define CRYPTO_EFAIL    (-1)   /* anything else */
#define CRYPTO_EBADKEY  (-2)   /* pickle key does not open this pickle */
#define CRYPTO_EBADMSG  (-3)   /* ciphertext not authentic / malformed */
#define CRYPTO_EUNKNOWN (-4)   /* message index before the session's first */

/* Wipe and free a secret string (NULL is fine). */
void crypto_free_secret(char *s);

/* --- our device account (Olm identity keys and one-time keys) ------- */

struct crypto_account;

/* A new account with fresh identity keys. */
struct crypto_account *crypto_account_new(void);
int crypto_account_unpickle(const void *key, size_t keylen,
			    const char *pickle,
			    struct crypto_account **out, struct err *err);
char *crypto_account_pickle(struct crypto_account *a, const void *key,
			    size_t keylen);
void crypto_account_free(struct crypto_account *a);

/* Identity keys; borrowed, valid until the account is freed. */
const char *crypto_account_curve25519(const struct crypto_account *a);
const char *crypto_account_ed25519(const struct crypto_account *a);
/* Ed25519 signature of len bytes of msg with the device key. */
char *crypto_account_sign(struct crypto_account *a, const char *msg,
			  size_t len);

/* How many one-time keys the account can hold. */
size_t crypto_account_max_otks(const struct crypto_account *a);
/* Generate n new one-time keys and return every unpublished one as an
 * object {key id: curve25519 key} (caller json_decref's). */
json_t *crypto_account_new_otks(struct crypto_account *a, size_t n);
/* Generate a new fallback key (the previous one is kept until the next
 * generation, so late pre-key messages still work). */
int crypto_account_new_fallback(struct crypto_account *a, struct err *err);
/* The unpublished fallback key as {key id: curve25519 key}, empty object
 * when it was published. Caller json_decref's. */
json_t *crypto_account_fallback(struct crypto_account *a);
/* Call after a successful /keys/upload of both. */
void crypto_account_mark_published(struct crypto_account *a);

/* --- Olm: one-to-one sessions with another device ------------------- */

struct crypto_olm;

/* Start a session to a device from its identity key and a one-time key
 * claimed with /keys/claim. */
int crypto_olm_outbound(struct crypto_account *a, const char *their_curve,
			const char *their_otk, struct crypto_olm **out,
			struct err *err);
/* Does a pre-key message (type 0) belong to this session? 1 yes, 0 no. */
int crypto_olm_matches(struct crypto_olm *s, const char *their_curve,
		       const char *prekey_body);
/* A new session from a pre-key message sent to us. The one-time key it
 * used is NOT removed from the account: call crypto_account_remove_otk
 * only after the first message decrypted (so a forged pre-key message
 * cannot burn our keys). */
int crypto_olm_inbound(struct crypto_account *a, const char *their_curve,
		       const char *prekey_body, struct crypto_olm **out,
		       struct err *err);
int crypto_account_remove_otk(struct crypto_account *a,
			      struct crypto_olm *s, struct err *err);
/* Encrypt: *type is 0 (pre-key) or 1 (normal); caller frees *body. */
int crypto_olm_encrypt(struct crypto_olm *s, const char *plaintext,
		       int *type, char **body, struct err *err);
/* Decrypt a message of type 0 or 1; caller frees *plaintext with
 * crypto_free_secret. Fails with CRYPTO_EBADMSG when it does not decrypt
 * with this session (the session is unchanged then). */
int crypto_olm_decrypt(struct crypto_olm *s, int type, const char *body,
		       char **plaintext, struct err *err);
/* Session id; caller frees. */
char *crypto_olm_id(struct crypto_olm *s);
int crypto_olm_unpickle(const void *key, size_t keylen, const char *pickle,
			struct crypto_olm **out, struct err *err);
char *crypto_olm_pickle(struct crypto_olm *s, const void *key,
			size_t keylen);
void crypto_olm_free(struct crypto_olm *s);

/* --- Megolm: group sessions for rooms ------------------------------- */

struct crypto_megolm_out;    /* ours, to encrypt a room's messages */
struct crypto_megolm_in;     /* anyone's, to decrypt them */

struct crypto_megolm_out *crypto_megolm_out_new(void);
char *crypto_megolm_out_id(struct crypto_megolm_out *s);
/* The session key to share (at the current index); a secret. */
char *crypto_megolm_out_key(struct crypto_megolm_out *s);
/* Index the next message will get (= messages encrypted so far). */
uint32_t crypto_megolm_out_index(struct crypto_megolm_out *s);
/* Encrypt a plaintext; caller frees the ciphertext. Advances the index:
 * pickle and store the session before the ciphertext leaves. */
char *crypto_megolm_out_encrypt(struct crypto_megolm_out *s,
				const char *plaintext);
int crypto_megolm_out_unpickle(const void *key, size_t keylen,
			       const char *pickle,
			       struct crypto_megolm_out **out,
			       struct err *err);
char *crypto_megolm_out_pickle(struct crypto_megolm_out *s, const void *key,
			       size_t keylen);
void crypto_megolm_out_free(struct crypto_megolm_out *s);

/* From an m.room_key session_key (exported = 0) or an
 * m.forwarded_room_key / exported session_key (exported = 1). */
int crypto_megolm_in_new(const char *session_key, int exported,
			 struct crypto_megolm_in **out, struct err *err);
char *crypto_megolm_in_id(struct crypto_megolm_in *s);
uint32_t crypto_megolm_in_first_index(struct crypto_megolm_in *s);
/* The session as an exported session_key starting at index (for
 * m.forwarded_room_key and key export; import with exported = 1). A
 * secret: caller frees with crypto_free_secret. NULL (reason in err)
 * when index is before the first known one. (Added with crypto.c; also
 * how the tests reach the exported = 1 path.) */
char *crypto_megolm_in_export(struct crypto_megolm_in *s, uint32_t index,
			      struct err *err);
/* Decrypt; *index is the message index (for replay checks, which are the
 * caller's: the session itself accepts an index twice). CRYPTO_EBADMSG
 * for a tampered or foreign ciphertext, CRYPTO_EUNKNOWN for an index
 * before the first known one. Caller frees *plaintext with
 * crypto_free_secret. */
int crypto_megolm_in_decrypt(struct crypto_megolm_in *s,
			     const char *ciphertext, char **plaintext,
			     uint32_t *index, struct err *err);
int crypto_megolm_in_unpickle(const void *key, size_t keylen,
			      const char *pickle,
			      struct crypto_megolm_in **out,
			      struct err *err);
char *crypto_megolm_in_pickle(struct crypto_megolm_in *s, const void *key,
			      size_t keylen);
void crypto_megolm_in_free(struct crypto_megolm_in *s);

/* --- Ed25519 signing keys (cross-signing) --------------------------- */

struct crypto_signing;

/* A new key from a random seed. */
struct crypto_signing *crypto_signing_new(void);
/* Public key; borrowed, valid until freed. */
const char *crypto_signing_public(const struct crypto_signing *k);
char *crypto_signing_sign(struct crypto_signing *k, const char *msg,
			  size_t len);
/* The seed, encrypted and authenticated with the pickle key. */
char *crypto_signing_pickle(struct crypto_signing *k, const void *key,
			    size_t keylen);
int crypto_signing_unpickle(const void *key, size_t keylen,
			    const char *pickle, struct crypto_signing **out,
			    struct err *err);
void crypto_signing_free(struct crypto_signing *k);

/* --- signed JSON ---------------------------------------------------- */

/* The Matrix canonical JSON of obj without its "signatures" and
 * "unsigned" members: the bytes that are signed. Caller frees; NULL if
 * obj is not an object or holds a non-integer number. */
char *crypto_canonical(json_t *obj);
/* Check obj's signature signatures[user]["ed25519:" key_id] against
 * ed25519_pub. 0 valid, CRYPTO_EBADMSG missing or invalid. */
int crypto_verify_json(json_t *obj, const char *user, const char *key_id,
		       const char *ed25519_pub, struct err *err);
/* Verify a detached signature. 0 valid, CRYPTO_EBADMSG invalid. */
int crypto_ed25519_verify(const char *ed25519_pub, const char *msg,
			  size_t len, const char *signature);

/* --- encrypted attachments ------------------------------------------ */

/* Encrypt a file for an encrypted room, as the client-server spec's
 * "Sending encrypted attachments" (v2) describes: AES-256-CTR under a
 * fresh random key, a 128-bit counter block of 64 random bits followed
 * by a counter of 64 zero bits, and the SHA-256 of the ciphertext.
 * *ciphertext gets len bytes (caller frees with free(); not a secret);
 * *file the EncryptedFile object without "url" (caller json_decref's):
 *   {"v": "v2",
 *    "key": {"kty": "oct", "key_ops": ["encrypt", "decrypt"],
 *            "alg": "A256CTR", "k": <key, unpadded base64url>,
 *            "ext": true},
 *    "iv": <unpadded base64>, "hashes": {"sha256": <unpadded base64>}}
 * The caller uploads the ciphertext (as application/octet-stream), sets
 * "url" to its mxc URI, and puts the object in the content's "file"
 * member (instead of "url") of an event that is only ever sent
 * encrypted: "k" opens the file. */
int crypto_attachment_encrypt(const void *plaintext, size_t len,
			      unsigned char **ciphertext, json_t **file,
			      struct err *err);

/* AES-256 in counter mode over len bytes from in to out (the same
 * buffer is fine): encrypting and decrypting are the same operation.
 * ctr is the initial counter block; its low 64 bits (bytes 8..15,
 * big-endian) count and wrap within themselves, as for Matrix
 * attachments and WebCrypto's AES-CTR with length 64. The primitive
 * under crypto_attachment_encrypt, public for the known-answer tests. */
void crypto_aes256_ctr(const unsigned char key[32],
		       const unsigned char ctr[16], const void *in,
		       void *out, size_t len);

/* SHA-256 of len bytes as unpadded base64 (43 characters); caller
 * frees. NULL only if libolm fails. */
char *crypto_sha256(const void *data, size_t len);

#endif
