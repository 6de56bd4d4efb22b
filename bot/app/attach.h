/* attach.h - the full HTML debrief as a file in the room.
 *
 * rehearsal.c queues an outbox row of type OUTBOX_ATTACH_TYPE after the
 * debrief message ("attach the debrief of session N"). When the row is
 * the next to go in its room, mx asks the bot's prepare hook, which
 * hands it here: the page is rendered from the store (what `oefenkamer
 * export ID --format html` writes), uploaded to the media repository
 * (in an encrypted room encrypted first, crypto_attachment_encrypt, and
 * uploaded as application/octet-stream), and the row then goes out as
 * an m.file with the row's txn id: with "url" in a plain room, with
 * "file" (the key, url added) in an encrypted one, and then only
 * through the Megolm send path, never in clear. The room's later sends
 * wait behind it, so the file follows the debrief. If the upload fails
 * for good, the same row becomes a short notice saying so (and a log
 * line): a row is sent exactly once either way. A crash before the send
 * uploads again after the restart (an unused upload is harmless) and
 * the fixed txn id keeps the post single.
 */
#ifndef OEF_ATTACH_H
#define OEF_ATTACH_H

#include "bot_int.h"

/* The prepare hook's answer for a row of type (see mx_handlers.prepare:
 * 1 send *new_type and *new_body, 0 not yet, -1 drop), or -2 when the row
 * is not an attachment (then the usual path decides). */
int attach_prepare(struct bot *b, const char *room, const char *type,
		   const char *body, char **new_type, char **new_body);

/* The m.file content for a file of size bytes named filename at mxc:
 * "url" when file is NULL, else file (the EncryptedFile object, "url"
 * is set in it) instead. Caller json_decref's. */
json_t *attach_content(const char *filename, size_t size, const char *mxc,
		       json_t *file);

/* Forget the attachments under way (after mx_free: no callback comes). */
void attach_free(struct bot *b);

#endif
