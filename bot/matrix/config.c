/* config.c - see config.h
 *
 * The keys are one table (struct key) walked against the JSON: a key not
 * in the table is an error, and every message names the full key path
 * ("typing.min_ms", "roles.coaches[2]"). Checks stop at the first
 * problem, so the person installing the bot fixes one thing at a time.
 * Unknown keys of an object are reported before anything else in it, so
 * the message does not depend on the order of keys in the file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX (1u << 20)  /* bytes in the config file */
#define STRING_MAX 4096        /* bytes in any string value */
#define LIST_MAX 1000          /* items in any list */
#define USER_ID_MAX 255        /* the Matrix spec's limit */
#define SECRET_MAX 4096        /* bytes in a password or token */

enum kind {
	K_OBJECT,
	K_STRING,
	K_PATH,      /* a string, made absolute against the config's dir */
	K_URL,       /* homeserver */
	K_USER,      /* one Matrix user id */
	K_BOOL,
	K_INT,
	K_PATTERNS,  /* list of user-id glob patterns */
	K_USERS,     /* list of Matrix user ids */
};

struct key {
	const char *name;
	enum kind kind;
	size_t off;              /* the field in struct config */
	size_t count_off;        /* K_PATTERNS, K_USERS: the count field */
	long min, max;           /* K_INT */
	const struct key *sub;   /* K_OBJECT; tables end with a NULL name */
};

#define F(field) offsetof(struct config, field)
#define KEY(name, kind, field) { name, kind, F(field), 0, 0, 0, NULL }
#define INT(name, field, lo, hi) { name, K_INT, F(field), 0, lo, hi, NULL }
#define LIST(name, kind, field, n) { name, kind, F(field), F(n), 0, 0, NULL }
#define OBJ(name, sub) { name, K_OBJECT, 0, 0, 0, 0, sub }

static const struct key invites_keys[] = {
	LIST("allow", K_PATTERNS, invite_allow, ninvite_allow),
	{ NULL, K_OBJECT, 0, 0, 0, 0, NULL },
};

static const struct key typing_keys[] = {
	KEY("enabled", K_BOOL, typing_enabled),
	INT("chars_per_second", chars_per_second, 1, 1000),
	INT("min_ms", typing_min_ms, 0, 600000),
	INT("max_ms", typing_max_ms, 0, 600000),
	{ NULL, K_OBJECT, 0, 0, 0, 0, NULL },
};

static const struct key roles_keys[] = {
	LIST("coaches", K_USERS, coaches, ncoaches),
	LIST("trainers", K_USERS, trainers, ntrainers),
	{ NULL, K_OBJECT, 0, 0, 0, 0, NULL },
};

static const struct key encryption_keys[] = {
	KEY("pickle_key_file", K_PATH, pickle_key_file),
	INT("rotation_messages", rotation_messages, 1, 10000),
	INT("rotation_ms", rotation_ms, 60000, 604800000),
	{ NULL, K_OBJECT, 0, 0, 0, 0, NULL },
};

static const struct key top_keys[] = {
	KEY("homeserver", K_URL, homeserver),
	KEY("user_id", K_USER, user_id),
	KEY("password_file", K_PATH, password_file),
	KEY("access_token_file", K_PATH, access_token_file),
	KEY("device_name", K_STRING, device_name),
	KEY("display_name", K_STRING, display_name),
	KEY("avatar", K_PATH, avatar),
	KEY("store", K_PATH, store),
	KEY("scripts_dir", K_PATH, scripts_dir),
	KEY("personas_dir", K_PATH, personas_dir),
	OBJ("invites", invites_keys),
	OBJ("typing", typing_keys),
	INT("gather_ms", gather_ms, 0, 60000),
	OBJ("roles", roles_keys),
	INT("retention_days", retention_days, 0, 36500),
	OBJ("encryption", encryption_keys),
	{ NULL, K_OBJECT, 0, 0, 0, 0, NULL },
};

struct loader {
	const char *file;       /* as the user named it, for messages */
	char *dir;              /* absolute directory of the config file */
	struct config *c;
	struct err *err;
};

static void key_err(const struct loader *L, const char *path,
		    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void key_err(const struct loader *L, const char *path,
		    const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf_cut(what, sizeof(what), fmt, ap);
	va_end(ap);
	err_set(L->err, "%s: %s: %s", L->file, path, what);
}


static const char *kind_name(enum kind k)
{
	switch (k) {
	case K_OBJECT:
		return "een object";
	case K_BOOL:
		return "true of false";
	case K_INT:
		return "een geheel getal";
	case K_PATTERNS:
	case K_USERS:
		return "een lijst met teksten";
	default:
		return "een tekst";
	}
}

/* "@local:server": one '@', a non-empty localpart, a non-empty server
 * name, no spaces or control characters. */
static int user_id_valid(const char *s)
{
	const char *colon;
	size_t len = strlen(s);

	if (len < 4 || len > USER_ID_MAX || s[0] != '@')
		return 0;
	colon = strchr(s + 1, ':');
	if (!colon || colon == s + 1 || colon[1] == '\0')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

static int url_valid(const char *s)
{
	size_t n;

	if (strncasecmp(s, "https://", 8) == 0)
		n = 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		n = 7;
	else
		return 0;
	if (s[n] == '\0' || s[n] == '/' || strpbrk(s, "?#"))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

static char *resolve(const struct loader *L, const char *p)
{
	struct sbuf sb;

	if (p[0] == '/')
		return xstrdup(p);
	sbuf_init(&sb);
	sbuf_adds(&sb, L->dir);
	if (L->dir[strlen(L->dir) - 1] != '/')
		sbuf_addc(&sb, '/');
	sbuf_adds(&sb, p);
	return sbuf_detach(&sb);
}

/* A string value: not blank, bounded, no control characters. */
static int take_string(const struct loader *L, const char *path, json_t *v,
		       const char **out)
{
	struct sbuf why;

	sbuf_init(&why);
	*out = json_text_check(v, STRING_MAX, 0, &why);
	if (!*out)
		key_err(L, path, "%s", sbuf_str(&why));
	sbuf_release(&why);
	return *out ? 0 : -1;
}

static int take_list(const struct loader *L, const struct key *k,
		     const char *path, json_t *v)
{
	char **field = (char **)((char *)L->c + k->off);
	size_t *count = (size_t *)((char *)L->c + k->count_off);
	char ***list = (char ***)field;
	char ipath[340], q[80];
	size_t i, n = json_array_size(v);
	const char *s;

	if (n > LIST_MAX) {
		key_err(L, path, "te veel items (%zu, hooguit %d)", n,
			LIST_MAX);
		return -1;
	}
	*list = xcalloc(n ? n : 1, sizeof(char *));
	*count = 0;
	for (i = 0; i < n; i++) {
		json_t *item = json_array_get(v, i);

		xsnprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (!json_is_string(item)) {
			key_err(L, ipath, "verwacht een tekst, niet %s",
				json_type_name(item));
			return -1;
		}
		if (take_string(L, ipath, item, &s) < 0)
			return -1;
		if (k->kind == K_USERS && !user_id_valid(s)) {
			key_err(L, ipath, "verwacht een Matrix-gebruikers-ID "
				"zoals @naam:example.org, niet \"%s\"",
				quote_short(s, q, sizeof(q)));
			return -1;
		}
		if (k->kind == K_PATTERNS && strpbrk(s, " \t")) {
			key_err(L, ipath, "een patroon mag geen spaties "
				"bevatten: \"%s\"", quote_short(s, q, sizeof(q)));
			return -1;
		}
		(*list)[(*count)++] = xstrdup(s);
	}
	return 0;
}

static int walk(const struct loader *L, json_t *obj, const struct key *keys,
		const char *prefix);

/* One key's value v into its field. */
static int take(const struct loader *L, const struct key *k,
		const char *path, json_t *v)
{
	void *field = (char *)L->c + k->off;
	const char *s;
	char q[80];
	json_int_t n;
	int ok;

	switch (k->kind) {
	case K_OBJECT:
		ok = json_is_object(v);
		break;
	case K_BOOL:
		ok = json_is_boolean(v);
		break;
	case K_INT:
		ok = json_is_integer(v);
		break;
	case K_PATTERNS:
	case K_USERS:
		ok = json_is_array(v);
		break;
	default:
		ok = json_is_string(v);
		break;
	}
	if (!ok) {
		key_err(L, path, "verwacht %s, niet %s", kind_name(k->kind),
			json_type_name(v));
		return -1;
	}

	switch (k->kind) {
	case K_OBJECT:
		return walk(L, v, k->sub, path);
	case K_BOOL:
		*(int *)field = json_is_true(v);
		return 0;
	case K_INT:
		n = json_integer_value(v);
		if (n < k->min || n > k->max) {
			key_err(L, path, "moet tussen %ld en %ld liggen, "
				"niet %lld", k->min, k->max, (long long)n);
			return -1;
		}
		*(int *)field = (int)n;
		return 0;
	case K_PATTERNS:
	case K_USERS:
		return take_list(L, k, path, v);
	default:
		break;
	}

	if (take_string(L, path, v, &s) < 0)
		return -1;
	if (k->kind == K_URL && !url_valid(s)) {
		key_err(L, path, "verwacht een adres dat begint met "
			"http:// of https://, zoals "
			"https://matrix.example.org, niet \"%s\"",
			quote_short(s, q, sizeof(q)));
		return -1;
	}
	if (k->kind == K_USER && !user_id_valid(s)) {
		key_err(L, path, "verwacht een Matrix-gebruikers-ID zoals "
			"@oefenkamer:example.org, niet \"%s\"",
			quote_short(s, q, sizeof(q)));
		return -1;
	}
	free(*(char **)field);
	if (k->kind == K_PATH) {
		*(char **)field = resolve(L, s);
	} else {
		*(char **)field = xstrdup(s);
		/* the base URL goes without its trailing slashes */
		if (k->kind == K_URL) {
			char *u = *(char **)field;
			size_t len = strlen(u);

			while (len > 0 && u[len - 1] == '/')
				u[--len] = '\0';
		}
	}
	return 0;
}

static int walk(const struct loader *L, json_t *obj, const struct key *keys,
		const char *prefix)
{
	const struct key *k;
	const char *name;
	json_t *v;
	char path[320], q[80], allowed[512];

	json_object_foreach(obj, name, v) {
		for (k = keys; k->name; k++)
			if (strcmp(k->name, name) == 0)
				break;
		if (k->name)
			continue;
		allowed[0] = '\0';
		for (k = keys; k->name; k++) {
			if (k != keys)
				strncat(allowed, ", ", sizeof(allowed) -
					strlen(allowed) - 1);
			strncat(allowed, k->name,
				sizeof(allowed) - strlen(allowed) - 1);
		}
		xsnprintf(path, sizeof(path), "%s%s%s", prefix,
			 *prefix ? "." : "", quote_short(name, q, sizeof(q)));
		key_err(L, path, "onbekende sleutel; bekend zijn: %s",
			allowed);
		return -1;
	}
	for (k = keys; k->name; k++) {
		v = json_object_get(obj, k->name);
		if (!v)
			continue;
		xsnprintf(path, sizeof(path), "%s%s%s", prefix,
			 *prefix ? "." : "", k->name);
		if (take(L, k, path, v) < 0)
			return -1;
	}
	return 0;
}

/* What must be there, and what depends on more than one key. */
static int check_avatar(const struct loader *L);

static int check_whole(const struct loader *L)
{
	const struct config *c = L->c;

	if (!c->homeserver) {
		key_err(L, "homeserver", "ontbreekt; dit is het adres van de "
			"Matrix-server, zoals https://matrix.example.org");
		return -1;
	}
	if (!c->user_id) {
		key_err(L, "user_id", "ontbreekt; dit is het Matrix-account "
			"van de bot, zoals @oefenkamer:example.org");
		return -1;
	}
	if (!c->password_file && !c->access_token_file) {
		err_set(L->err, "%s: password_file of access_token_file "
			"ontbreekt; geef precies een van de twee op",
			L->file);
		return -1;
	}
	if (c->password_file && c->access_token_file) {
		err_set(L->err, "%s: password_file en access_token_file "
			"staan er allebei; geef precies een van de twee op",
			L->file);
		return -1;
	}
	if (!c->store) {
		key_err(L, "store", "ontbreekt; dit is het SQLite-bestand "
			"waarin de bot zijn gegevens bewaart");
		return -1;
	}
	if (c->typing_min_ms > c->typing_max_ms) {
		key_err(L, "typing.min_ms", "%d is groter dan typing.max_ms "
			"(%d)", c->typing_min_ms, c->typing_max_ms);
		return -1;
	}
	if (c->display_name &&
	    strlen(c->display_name) > CONFIG_DISPLAY_NAME_MAX) {
		key_err(L, "display_name", "te lang (%zu bytes, hooguit %d)",
			strlen(c->display_name), CONFIG_DISPLAY_NAME_MAX);
		return -1;
	}
	return c->avatar ? check_avatar(L) : 0;
}

/* The avatar: a regular file of at most CONFIG_AVATAR_MAX bytes that
 * starts as a PNG or a JPEG does; sets avatar_type. Read once here, so
 * that a wrong path stops the bot at the start, not at its first
 * upload. */
static int check_avatar(const struct loader *L)
{
	static const unsigned char png[8] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
	};
	static const unsigned char jpeg[3] = { 0xff, 0xd8, 0xff };
	struct config *c = L->c;
	unsigned char head[8];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	fd = open(c->avatar, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		key_err(L, "avatar", errno == ENOENT ? "dit bestand bestaat "
			"niet" : "kan dit bestand niet openen (%s)",
			strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		key_err(L, "avatar", "dit is geen gewoon bestand");
		goto out;
	}
	if (st.st_size > (off_t)CONFIG_AVATAR_MAX) {
		key_err(L, "avatar", "het bestand is groter dan %u kB; kies "
			"een kleinere afbeelding (96 bij 96 pixels is genoeg)",
			CONFIG_AVATAR_MAX >> 10);
		goto out;
	}
	n = read(fd, head, sizeof(head));
	if (n == (ssize_t)sizeof(png) && memcmp(head, png, sizeof(png)) == 0)
		c->avatar_type = "image/png";
	else if (n >= (ssize_t)sizeof(jpeg) &&
		 memcmp(head, jpeg, sizeof(jpeg)) == 0)
		c->avatar_type = "image/jpeg";
	if (!c->avatar_type) {
		key_err(L, "avatar", "dit is geen PNG- of JPEG-afbeelding");
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* The file's directory as an absolute path; caller frees. */
static char *config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *abs;

	if (!slash)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	abs = realpath(dir, NULL);
	free(dir);
	return abs;
}

int config_load(const char *path, struct config *out, struct err *err)
{
	struct loader L = { path, NULL, out, err };
	struct err ferr;
	struct stat st;
	json_error_t jerr;
	json_t *root = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->path = xstrdup(path);
	out->typing_enabled = 1;
	out->chars_per_second = 25;
	out->typing_min_ms = 800;
	out->typing_max_ms = 6000;
	out->gather_ms = 1500;
	out->retention_days = 0;
	out->rotation_messages = 100;
	out->rotation_ms = 604800000;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			err_set(err, "%s: dit configuratiebestand bestaat "
				"niet", path);
		else
			err_set(err, "%s: kan dit configuratiebestand niet "
				"lezen (%s)", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, "%s: dit is geen gewoon bestand", path);
		goto out;
	}
	if (read_file(path, CONFIG_MAX, &text, &len, &ferr) < 0) {
		err_set(err, "%s: kan dit configuratiebestand niet lezen "
			"(groter dan %u bytes, of: %s)", path, CONFIG_MAX,
			ferr.msg);
		goto out;
	}
	L.dir = config_dir(path);
	if (!L.dir) {
		err_set(err, "%s: kan de map van dit bestand niet vinden "
			"(%s)", path, strerror(errno));
		goto out;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		err_set(err, "%s:%d:%d: geen geldige JSON (%s)", path,
			jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		err_set(err, "%s: verwacht een object { … } met de "
			"instellingen, niet %s", path, json_type_name(root));
		goto out;
	}
	if (walk(&L, root, top_keys, "") < 0 || check_whole(&L) < 0)
		goto out;
	if (!out->device_name)
		out->device_name = xstrdup("Oefenkamer");
	if (!out->display_name)
		out->display_name = xstrdup("Oefenkamer");
	if (!out->scripts_dir)
		out->scripts_dir = resolve(&L, "scripts");
	if (!out->personas_dir)
		out->personas_dir = resolve(&L, "personas");
	rc = 0;
out:
	json_decref(root);
	free(text);
	free(L.dir);
	if (rc < 0)
		config_release(out);
	return rc;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void config_release(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->homeserver);
	free(c->user_id);
	free(c->password_file);
	free(c->access_token_file);
	free(c->device_name);
	free(c->display_name);
	free(c->avatar);
	free(c->store);
	free(c->scripts_dir);
	free(c->personas_dir);
	free(c->pickle_key_file);
	free_list(c->invite_allow, c->ninvite_allow);
	free_list(c->coaches, c->ncoaches);
	free_list(c->trainers, c->ntrainers);
	memset(c, 0, sizeof(*c));
}

int config_read_secret(const char *path, char **out, struct err *err)
{
	char buf[SECRET_MAX + 3];
	struct stat st;
	size_t len = 0;
	ssize_t k;
	int fd, rc = -1;

	*out = NULL;
	/* O_NONBLOCK: opening a FIFO must not hang; fstat refuses it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			err_set(err, "%s: dit bestand met het wachtwoord of "
				"token bestaat niet", path);
		else
			err_set(err, "%s: kan dit bestand met het wachtwoord "
				"of token niet openen (%s)", path,
				strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		err_set(err, "%s: kan dit bestand niet bekijken (%s)", path,
			strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, "%s: dit is geen gewoon bestand; zet het "
			"wachtwoord of token in een gewoon bestand dat alleen "
			"jij kunt lezen (chmod 600 %s)", path, path);
		goto out;
	}
	/* Checked before reading: such a secret is never read at all. */
	if (st.st_mode & 077) {
		err_set(err, "%s: dit bestand is ook voor anderen "
			"toegankelijk (rechten %03o); maak het alleen voor "
			"jezelf leesbaar met: chmod 600 %s", path,
			(unsigned)(st.st_mode & 0777), path);
		goto out;
	}
	while (len < sizeof(buf)) {
		k = read(fd, buf + len, sizeof(buf) - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err_set(err, "%s: leesfout (%s)", path,
				strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len > SECRET_MAX) {
		err_set(err, "%s: dit bestand is groter dan %d bytes; dat is "
			"geen wachtwoord of token", path, SECRET_MAX);
		goto out;
	}
	if (len == 0) {
		err_set(err, "%s: dit bestand is leeg; zet het wachtwoord of "
			"token erin", path);
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\0' || buf[i] == '\n' || buf[i] == '\r') {
			err_set(err, "%s: het wachtwoord of token moet op "
				"één regel staan, zonder lege regels erna",
				path);
			goto out;
		}
	}
	*out = xstrndup(buf, len);
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

static const char *utf8_next(const char *s)
{
	s++;
	while (((unsigned char)*s & 0xc0) == 0x80)
		s++;
	return s;
}

/* Glob match: '*' any run of characters, '?' one character (UTF-8).
 * Iterative with one backtrack point: linear in practice, never
 * exponential. */
static int glob_match(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;

	while (*s) {
		if (*p == '*') {
			star_p = ++p;
			star_s = s;
		} else if (*p == '?') {
			p++;
			s = utf8_next(s);
		} else if (*p && *p == *s) {
			p++;
			s++;
		} else if (star_p) {
			p = star_p;
			star_s = utf8_next(star_s);
			s = star_s;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int config_invite_allowed(const struct config *c, const char *user_id)
{
	for (size_t i = 0; i < c->ninvite_allow; i++)
		if (glob_match(c->invite_allow[i], user_id))
			return 1;
	return 0;
}
