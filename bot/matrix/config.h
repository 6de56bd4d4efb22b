/* config.h - the bot's configuration file (JSON), documented in
 * config/oefenkamer.example.json. All checks happen here: unknown keys and
 * wrong types are errors naming the key; secret files that are group- or
 * world-readable are refused. Relative paths are relative to the config
 * file's directory. */
#ifndef OEF_CONFIG_H
#define OEF_CONFIG_H

#include <stddef.h>
#include "util.h"

/* The largest avatar file, and display name (Synapse's limit). */
#define CONFIG_AVATAR_MAX (1u << 20)
#define CONFIG_DISPLAY_NAME_MAX 256

struct config {
	char *path;              /* the config file */
	char *homeserver;        /* base URL, no trailing slash */
	char *user_id;           /* @name:server */
	char *password_file;     /* absolute path or NULL */
	char *access_token_file; /* absolute path or NULL (one of the two) */
	char *device_name;       /* shown in clients' device lists */
	char *display_name;      /* the bot's own (global) display name,
				  * also between rehearsals ("Oefenkamer") */
	char *avatar;            /* absolute path of the avatar, a PNG or
				  * JPEG of at most CONFIG_AVATAR_MAX bytes
				  * (checked on load), or NULL: none */
	const char *avatar_type; /* its content type, "image/png" or
				  * "image/jpeg"; NULL without avatar */
	char *store;             /* SQLite file, absolute path */
	char *scripts_dir;       /* absolute path */
	char *personas_dir;      /* absolute path */
	char **invite_allow;     /* invites.allow: user-id glob patterns */
	size_t ninvite_allow;
	int typing_enabled;      /* typing.enabled */
	int chars_per_second;    /* typing.chars_per_second, 1..1000 */
	int typing_min_ms;       /* typing.min_ms */
	int typing_max_ms;       /* typing.max_ms >= min_ms */
	int gather_ms;           /* wait this long for more trainee messages
				  * before answering (default 1500) */
	char **coaches;          /* roles.coaches: user ids */
	size_t ncoaches;
	char **trainers;         /* roles.trainers: user ids */
	size_t ntrainers;
	int retention_days;      /* 0 = keep forever */
	char *pickle_key_file;   /* encryption.pickle_key_file: absolute
				  * path or NULL (the key itself is never in
				  * the config; OEFENKAMER_PICKLE_KEY may
				  * give it instead) */
	int rotation_messages;   /* encryption.rotation_messages (100) */
	int rotation_ms;         /* encryption.rotation_ms (one week) */
};

/* Load and check path. Errors name the file and the key, e.g.
 * "config.json: typing.min_ms: verwacht een geheel getal". */
int config_load(const char *path, struct config *out, struct err *err);
void config_release(struct config *c);

/* Read the secret (password or token) from its file: refuses a file that
 * is group- or world-readable or not a regular file; strips one trailing
 * newline. Caller wipes (explicit_bzero) and frees. */
int config_read_secret(const char *path, char **out, struct err *err);

/* 1 if user_id matches one of the invites.allow patterns ('*' matches any
 * run of characters, '?' one character). */
int config_invite_allowed(const struct config *c, const char *user_id);

#endif
