/* attach.c - see attach.h. */
#include "attach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "e2ee.h"
#include "mx.h"
#include "outbox.h"
#include "rehearsal.h"
#include "store.h"

/* Uploads tried for one row before the notice says it failed. */
#define ATTACH_TRIES 3

enum attach_state {
	ATTACH_NEW,        /* nothing uploaded yet */
	ATTACH_UPLOADING,  /* the upload is under way */
	ATTACH_READY,      /* content is the m.file */
	ATTACH_FAILED      /* content is the notice */
};

/* One attachment row under way, known by its txn id. */
struct attach {
	struct bot *b;
	char *txn, *room;
	enum attach_state state;
	int encrypted;            /* uploaded as ciphertext */
	int tries;
	char *filename;
	size_t size;              /* of the page, not the ciphertext */
	json_t *file;             /* EncryptedFile (holds the key), or NULL */
	json_t *content;          /* READY, FAILED: what to send */
	struct attach *next;
};

static void job_free(struct attach *a)
{
	free(a->txn);
	free(a->room);
	free(a->filename);
	json_decref(a->file);
	json_decref(a->content);
	free(a);
}

static struct attach *job_get(struct bot *b, const char *room,
			      const char *txn)
{
	struct attach *a;

	for (a = b->attach; a; a = a->next)
		if (!strcmp(a->txn, txn) && !strcmp(a->room, room))
			return a;
	a = xcalloc(1, sizeof(*a));
	a->b = b;
	a->txn = xstrdup(txn);
	a->room = xstrdup(room);
	a->next = b->attach;
	b->attach = a;
	return a;
}

static void job_drop(struct bot *b, struct attach *a)
{
	struct attach **p = &b->attach;

	while (*p && *p != a)
		p = &(*p)->next;
	if (*p)
		*p = a->next;
	job_free(a);
}

json_t *attach_content(const char *filename, size_t size, const char *mxc,
		       json_t *file)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:{s:s, s:I}}",
			      "msgtype", "m.file", "body", filename,
			      "filename", filename, "info",
			      "mimetype", "text/html",
			      "size", (json_int_t)size);

	if (!c)
		return NULL;
	if (file) {
		json_t *f = json_deep_copy(file);

		json_object_set_new(f, "url", json_string(mxc));
		json_object_set_new(c, "file", f);
	} else {
		json_object_set_new(c, "url", json_string(mxc));
	}
	return c;
}

static void job_fail(struct attach *a, const char *why)
{
	/* a notice like every other: the bot's label first */
	static const char text[] = OUTBOX_MARK_BODY "Het bestand met de hele "
		"nabespreking kon ik niet meesturen; de nabespreking "
		"hierboven staat er wel.";

	log_line("nabespreking als bestand in %s niet verstuurd: %s",
		 a->room, why);
	json_decref(a->content);
	a->content = json_pack("{s:s, s:s}", "msgtype", "m.notice",
			       "body", text);
	a->state = ATTACH_FAILED;
}

static void uploaded(void *ctx, long status, const char *mxc,
		     const char *error)
{
	struct attach *a = ctx;
	char why[160];

	if (status == MX_CANCELLED)   /* the bot is going: attach_free */
		return;
	if (status == 200 && mxc) {
		json_decref(a->content);
		a->content = attach_content(a->filename, a->size, mxc,
					    a->file);
		if (a->content) {
			a->state = ATTACH_READY;
			return;
		}
	}
	xsnprintf(why, sizeof(why), "upload: HTTP %ld%s%.100s", status,
		  error ? " " : "", error ? error : "");
	/* no answer, or the server's trouble: try again; else give up */
	if (++a->tries < ATTACH_TRIES && (status == 0 || status == 429 ||
					  status >= 500)) {
		log_line("nabespreking als bestand in %s: %s; opnieuw",
			 a->room, why);
		a->state = ATTACH_NEW;
		return;
	}
	job_fail(a, why);
}

/* Render session sid's page and upload it (encrypted when the room
 * is). */
static void job_start(struct bot *b, struct attach *a, int64_t sid,
		      int encrypted)
{
	struct store_session rec;
	const struct script *s = NULL;
	unsigned char *ct = NULL;
	const void *data;
	struct sbuf page;
	struct err err;
	char name[64];

	sbuf_init(&page);
	memset(&rec, 0, sizeof(rec));
	json_decref(a->file);
	a->file = NULL;
	a->encrypted = encrypted;
	if (store_session_get(b->st, sid, &rec, &err) == 0)
		s = catalog_find(&b->cat, rec.scenario);
	if (!s) {
		job_fail(a, "sessie of scenario niet gevonden");
		goto out;
	}
	if (rehearsal_debrief_page(b, sid, s, &page, &err) < 0) {
		job_fail(a, err.msg);
		goto out;
	}
	xsnprintf(name, sizeof(name), "nabespreking-%lld.html",
		  (long long)sid);
	free(a->filename);
	a->filename = xstrdup(name);
	a->size = page.len;
	data = page.buf;
	if (encrypted) {
		if (crypto_attachment_encrypt(page.buf, page.len, &ct,
					      &a->file, &err) < 0) {
			job_fail(a, err.msg);
			goto out;
		}
		data = ct;
	}
	a->state = ATTACH_UPLOADING;
	if (mx_media_upload(b->mx, name, encrypted ?
			    "application/octet-stream" : "text/html",
			    data, page.len, uploaded, a) < 0)
		job_fail(a, "te groot om te uploaden");
out:
	free(ct);
	store_session_release(&rec);
	sbuf_release(&page);
}

/* Hand the finished content over: through the Megolm path in an
 * encrypted room (an m.file with "file" never goes in clear), as is in
 * a plain one. 1 ready, 0 not yet. */
static int job_send(struct bot *b, struct attach *a, int encrypted,
		    char **new_type, char **new_body)
{
	char *body = json_dumps(a->content, JSON_COMPACT);
	int rc = 1;

	if (!body)
		return -1;
	if (encrypted) {
		rc = e2ee_prepare(b->e2ee, a->room, "m.room.message", body,
				  new_type, new_body);
		if (rc == 1 && !*new_body) {   /* not encrypted after all */
			free(*new_type);
			*new_type = NULL;
			rc = -1;
		}
		crypto_free_secret(body);
		return rc;
	}
	*new_type = xstrdup("m.room.message");
	*new_body = body;
	return 1;
}

int attach_prepare(struct bot *b, const char *room, const char *type,
		   const char *body, char **new_type, char **new_body)
{
	json_t *row;
	json_int_t sid;
	const char *txn;
	struct attach *a;
	int encrypted, rc;

	if (strcmp(type, OUTBOX_ATTACH_TYPE))
		return -2;
	*new_type = *new_body = NULL;
	row = json_loads(body, 0, NULL);
	if (!row || json_unpack(row, "{s:I, s:s}", "session", &sid,
				"txn", &txn) < 0) {
		log_line("bijlage in %s: onleesbare rij", room);
		json_decref(row);
		return -1;
	}
	a = job_get(b, room, txn);
	json_decref(row);
	encrypted = b->e2ee && e2ee_room_encrypted(b->e2ee, room);
	if (a->state == ATTACH_READY && encrypted != a->encrypted) {
		if (encrypted)   /* turned encrypted: the file must be too */
			a->state = ATTACH_NEW;
		else             /* a key must never go in clear */
			job_fail(a, "de kamer is niet meer versleuteld");
	}
	if (a->state == ATTACH_NEW)
		job_start(b, a, sid, encrypted);
	if (a->state == ATTACH_UPLOADING)
		return 0;
	rc = job_send(b, a, encrypted, new_type, new_body);
	if (rc != 0)
		job_drop(b, a);
	return rc;
}

void attach_free(struct bot *b)
{
	while (b->attach) {
		struct attach *a = b->attach;

		b->attach = a->next;
		job_free(a);
	}
}
