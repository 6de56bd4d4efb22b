/* profile.c - see profile.h. */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx.h"
#include "store.h"

/* What was uploaded last: the avatar file's hash and its mxc:// URI (in
 * the store's meta), so an unchanged avatar is not uploaded again. */
#define META_AVATAR_HASH "avatar_hash"
#define META_AVATAR_MXC "avatar_mxc"

enum { PROFILE_IDLE, PROFILE_BUSY, PROFILE_DONE };

/* Done, changed or not. A change reaches the rooms later (Synapse
 * copies it in the background): event.c puts a persona's name back
 * when the copy shows up in a room's member event. */
static void finish(struct bot *b)
{
	free(b->profile_avatar_url);
	b->profile_avatar_url = NULL;
	b->profile_state = PROFILE_DONE;
}

/* A PUT on the profile answered: a failure is logged. */
static void took(long status, const char *what)
{
	if (status != 200)
		log_line("%s niet ingesteld (HTTP %ld)", what, status);
}

static void on_avatar_set(void *ctx, long status)
{
	struct bot *b = ctx;

	if (status == MX_CANCELLED)
		return;
	took(status, "avatar");
	finish(b);
}

static void on_upload(void *ctx, long status, const char *mxc,
		      const char *error)
{
	struct bot *b = ctx;
	struct err err;

	if (status == MX_CANCELLED)
		return;
	if (status != 200 || !mxc) {
		log_line("avatar niet geüpload (HTTP %ld%s%s)", status,
			 error ? ": " : "", error ? error : "");
		finish(b);
		return;
	}
	if (store_meta_set(b->st, META_AVATAR_MXC, mxc, &err) < 0 ||
	    store_meta_set(b->st, META_AVATAR_HASH, b->profile_avatar_hash,
			   &err) < 0)
		log_line("%s", err.msg);
	if (mx_profile_set_avatar_url(b->mx, mxc, on_avatar_set, b) < 0) {
		log_line("avatar niet ingesteld: %s is geen mxc-URI", mxc);
		finish(b);
	}
}

/* The avatar file's hash, as text. */
static void file_hash(const char *data, size_t len, char *buf, size_t n)
{
	xsnprintf(buf, n, "%016llx", (unsigned long long)hash_fnv64(
		  HASH_FNV64_START, data, len));
}

/* Upload the configured avatar unless the profile already shows the
 * one uploaded from this very file. */
static void avatar_step(struct bot *b)
{
	char *data = NULL, *hash = NULL, *mxc = NULL;
	const char *have = b->profile_avatar_url;
	size_t len;
	struct err err;

	if (!b->cfg->avatar) {
		finish(b);
		return;
	}
	if (read_file(b->cfg->avatar, CONFIG_AVATAR_MAX, &data, &len,
		      &err) < 0) {
		log_line("avatar: %s", err.msg);
		finish(b);
		return;
	}
	file_hash(data, len, b->profile_avatar_hash,
		  sizeof(b->profile_avatar_hash));
	if (store_meta_get(b->st, META_AVATAR_HASH, &hash, &err) < 0 ||
	    store_meta_get(b->st, META_AVATAR_MXC, &mxc, &err) < 0)
		log_line("%s", err.msg);
	if (have && hash && mxc && !strcmp(hash, b->profile_avatar_hash) &&
	    !strcmp(mxc, have)) {
		finish(b);   /* the same file, already ours */
		goto out;
	}
	if (mx_media_upload(b->mx, "oefenkamer-avatar", b->cfg->avatar_type,
			    data, len, on_upload, b) < 0) {
		log_line("avatar niet te uploaden (%zu bytes)", len);
		finish(b);
	}
out:
	free(data);
	free(hash);
	free(mxc);
}

static void on_name_set(void *ctx, long status)
{
	struct bot *b = ctx;

	if (status == MX_CANCELLED)
		return;
	took(status, "weergavenaam");
	avatar_step(b);
}

static void on_profile(void *ctx, long status, const char *displayname,
		       const char *avatar_url)
{
	struct bot *b = ctx;

	if (status == MX_CANCELLED)
		return;
	/* 404: no profile yet; set both */
	if (status != 200 && status != 404) {
		log_line("profiel niet op te vragen (HTTP %ld); naam en avatar "
			 "blijven zoals ze zijn", status);
		finish(b);
		return;
	}
	b->profile_avatar_url = avatar_url ? xstrdup(avatar_url) : NULL;
	if (displayname && !strcmp(displayname, b->cfg->display_name)) {
		avatar_step(b);
		return;
	}
	mx_profile_set_displayname(b->mx, b->cfg->display_name, on_name_set,
				   b);
}

void profile_start(struct bot *b)
{
	if (b->profile_state != PROFILE_IDLE)
		return;
	b->profile_state = PROFILE_BUSY;
	mx_profile_get(b->mx, on_profile, b);
}

int profile_done(const struct bot *b)
{
	return b->profile_state == PROFILE_DONE;
}
