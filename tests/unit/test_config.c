/* test_config.c - the bot's configuration file: the shipped example loads
 * with every value, defaults fill what is left out, every kind of mistake
 * gives a Dutch message naming file and key path, secret files are refused
 * unless only their owner can read them, and invite patterns match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

struct fx {
	char dir[64];      /* a fresh temporary directory */
	char *realdir;     /* the same, with symlinks resolved */
	char *root;        /* the checkout, absolute */
	char cwd[PATH_MAX];
};

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	const char *root = getenv("OEF_ROOT");

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/oef-config-XXXXXX");
	if (!mkdtemp(fx->dir) || !getcwd(fx->cwd, sizeof(fx->cwd))) {
		free(fx);
		return -1;
	}
	fx->realdir = realpath(fx->dir, NULL);
	fx->root = realpath(root && *root ? root : ".", NULL);
	if (!fx->realdir || !fx->root)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	DIR *dir;
	struct dirent *e;
	char p[512];

	if (chdir(fx->cwd) < 0)
		return -1;
	dir = opendir(fx->dir);
	while (dir && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", fx->dir, e->d_name);
		if (unlink(p) < 0)
			rmdir(p);
	}
	if (dir)
		closedir(dir);
	rmdir(fx->dir);
	free(fx->realdir);
	free(fx->root);
	free(fx);
	return 0;
}

/* Write name in the temporary directory with exactly mode. */
static const char *put(struct fx *fx, struct sbuf *path, const char *name,
		       const char *data, size_t len, mode_t mode)
{
	int fd;

	sbuf_reset(path);
	sbuf_addf(path, "%s/%s", fx->dir, name);
	unlink(sbuf_str(path));
	fd = open(sbuf_str(path), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return sbuf_str(path);
}

static void assert_released(const struct config *c)
{
	assert_null(c->path);
	assert_null(c->homeserver);
	assert_null(c->invite_allow);
	assert_int_equal(c->ninvite_allow, 0);
	assert_null(c->coaches);
}

static void assert_path(const char *got, const char *base, const char *rel)
{
	struct sbuf want;

	sbuf_init(&want);
	sbuf_addf(&want, "%s/%s", base, rel);
	assert_non_null(got);
	assert_string_equal(got, sbuf_str(&want));
	sbuf_release(&want);
}

static void test_example(void **state)
{
	struct fx *fx = *state;
	struct sbuf path, dir;
	struct config c;
	struct err err = { "" };
	struct stat st;

	sbuf_init(&path);
	sbuf_init(&dir);
	sbuf_addf(&path, "%s/config/oefenkamer.example.json", fx->root);
	sbuf_addf(&dir, "%s/config", fx->root);
	assert_int_equal(config_load(sbuf_str(&path), &c, &err), 0);
	assert_string_equal(err.msg, "");
	assert_string_equal(c.path, sbuf_str(&path));
	assert_string_equal(c.homeserver, "https://matrix.example.org");
	assert_string_equal(c.user_id, "@oefenkamer:example.org");
	assert_path(c.password_file, sbuf_str(&dir), "wachtwoord.txt");
	assert_null(c.access_token_file);
	assert_string_equal(c.device_name, "Oefenkamer");
	assert_string_equal(c.display_name, "Oefenkamer");
	/* the avatar shipped beside it */
	assert_path(c.avatar, sbuf_str(&dir), "avatar.png");
	assert_string_equal(c.avatar_type, "image/png");
	assert_path(c.store, sbuf_str(&dir), "oefenkamer.db");
	assert_path(c.scripts_dir, sbuf_str(&dir), "../scripts");
	assert_path(c.personas_dir, sbuf_str(&dir), "../personas");
	/* the example works from the checkout as it is */
	assert_int_equal(stat(c.scripts_dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(stat(c.personas_dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(c.ninvite_allow, 2);
	assert_string_equal(c.invite_allow[0], "@*:example.org");
	assert_string_equal(c.invite_allow[1], "@trainer:andere-server.nl");
	assert_int_equal(c.typing_enabled, 1);
	assert_int_equal(c.chars_per_second, 25);
	assert_int_equal(c.typing_min_ms, 800);
	assert_int_equal(c.typing_max_ms, 6000);
	assert_int_equal(c.gather_ms, 1500);
	assert_int_equal(c.ncoaches, 1);
	assert_string_equal(c.coaches[0], "@coach:example.org");
	assert_int_equal(c.ntrainers, 1);
	assert_string_equal(c.trainers[0], "@trainer:example.org");
	assert_int_equal(c.retention_days, 0);
	assert_true(config_invite_allowed(&c, "@anna:example.org"));
	assert_true(config_invite_allowed(&c, "@trainer:andere-server.nl"));
	assert_false(config_invite_allowed(&c, "@anna:andere-server.nl"));
	assert_false(config_invite_allowed(&c, "@anna:example.org.evil"));
	config_release(&c);
	assert_released(&c);
	config_release(NULL);
	sbuf_release(&path);
	sbuf_release(&dir);
}

static void test_defaults(void **state)
{
	struct fx *fx = *state;
	struct sbuf path, dir;
	struct config c;
	struct err err = { "" };

	sbuf_init(&path);
	sbuf_init(&dir);
	sbuf_addf(&dir, "%s/tests/data/config", fx->root);
	sbuf_addf(&path, "%s/minimal.json", sbuf_str(&dir));
	assert_int_equal(config_load(sbuf_str(&path), &c, &err), 0);
	assert_string_equal(c.homeserver, "http://127.0.0.1:8008");
	assert_string_equal(c.user_id, "@bot:localhost");
	assert_null(c.password_file);
	assert_string_equal(c.access_token_file,
			    "/run/secrets/oefenkamer-token");
	assert_string_equal(c.store, "/var/lib/oefenkamer/oefenkamer.db");
	assert_string_equal(c.device_name, "Oefenkamer");
	assert_string_equal(c.display_name, "Oefenkamer");
	assert_null(c.avatar);
	assert_null(c.avatar_type);
	assert_path(c.scripts_dir, sbuf_str(&dir), "scripts");
	assert_path(c.personas_dir, sbuf_str(&dir), "personas");
	assert_int_equal(c.ninvite_allow, 0);
	assert_int_equal(c.typing_enabled, 1);
	assert_int_equal(c.chars_per_second, 25);
	assert_int_equal(c.typing_min_ms, 800);
	assert_int_equal(c.typing_max_ms, 6000);
	assert_int_equal(c.gather_ms, 1500);
	assert_int_equal(c.ncoaches, 0);
	assert_int_equal(c.ntrainers, 0);
	assert_int_equal(c.retention_days, 0);
	assert_null(c.pickle_key_file);
	assert_int_equal(c.rotation_messages, 100);
	assert_int_equal(c.rotation_ms, 604800000);
	/* nobody may invite when invites.allow is empty */
	assert_false(config_invite_allowed(&c, "@bot:localhost"));
	assert_false(config_invite_allowed(&c, ""));
	config_release(&c);
	sbuf_release(&path);
	sbuf_release(&dir);
}

/* Relative paths follow the config file, not the working directory. */
static void test_relative(void **state)
{
	struct fx *fx = *state;
	static const char json[] =
		"{\"homeserver\": \"https://m.example.org\", "
		"\"user_id\": \"@bot:example.org\", "
		"\"password_file\": \"geheim/pw\", \"store\": \"data.db\", "
		"\"scripts_dir\": \"/abs/scripts\", "
		"\"typing\": {\"enabled\": false, \"min_ms\": 0, "
		"\"max_ms\": 0}, \"gather_ms\": 0, \"retention_days\": 36500, "
		"\"invites\": {}, \"roles\": {\"trainers\": []}, "
		"\"encryption\": {\"pickle_key_file\": \"geheim/pk\", "
		"\"rotation_messages\": 5, \"rotation_ms\": 60000}}";
	struct sbuf path;
	struct config c;
	struct err err = { "" };

	sbuf_init(&path);
	put(fx, &path, "bot.json", json, strlen(json), 0644);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(config_load(sbuf_str(&path), &c, &err), 0);
	assert_path(c.password_file, fx->realdir, "geheim/pw");
	assert_path(c.store, fx->realdir, "data.db");
	assert_string_equal(c.scripts_dir, "/abs/scripts");
	assert_path(c.personas_dir, fx->realdir, "personas");
	assert_int_equal(c.typing_enabled, 0);
	assert_int_equal(c.typing_min_ms, 0);
	assert_int_equal(c.typing_max_ms, 0);
	assert_int_equal(c.gather_ms, 0);
	assert_int_equal(c.retention_days, 36500);
	assert_int_equal(c.ntrainers, 0);
	assert_path(c.pickle_key_file, fx->realdir, "geheim/pk");
	assert_int_equal(c.rotation_messages, 5);
	assert_int_equal(c.rotation_ms, 60000);
	config_release(&c);

	/* a bare file name: relative to the working directory */
	assert_int_equal(chdir(fx->dir), 0);
	assert_int_equal(config_load("bot.json", &c, &err), 0);
	assert_string_equal(c.path, "bot.json");
	assert_path(c.store, fx->realdir, "data.db");
	config_release(&c);
	sbuf_release(&path);
}

#define BASE "\"homeserver\": \"https://m.example.org\", " \
	"\"user_id\": \"@bot:example.org\", \"password_file\": \"pw\", " \
	"\"store\": \"s.db\""

struct bad_case {
	const char *json;  /* "{…}" as is, else BASE plus this */
	const char *msg;   /* the whole message */
};

static const struct bad_case bad_cases[] = {
	{ "\"typing\": {\"min_ms\": \"800\"}",
	  "config.json: typing.min_ms: verwacht een geheel getal, niet een "
	  "tekst" },
	{ "\"typing\": {\"max_ms\": 1.5e3}",
	  "config.json: typing.max_ms: verwacht een geheel getal, niet een "
	  "kommagetal" },
	{ "\"typing\": {\"enabled\": \"ja\"}",
	  "config.json: typing.enabled: verwacht true of false, niet een "
	  "tekst" },
	{ "\"typing\": {\"enabled\": 1}",
	  "config.json: typing.enabled: verwacht true of false, niet een "
	  "geheel getal" },
	{ "\"typing\": {\"speed\": 10}",
	  "config.json: typing.speed: onbekende sleutel; bekend zijn: "
	  "enabled, chars_per_second, min_ms, max_ms" },
	{ "\"colour\": \"blauw\"",
	  "config.json: colour: onbekende sleutel; bekend zijn: homeserver, "
	  "user_id, password_file, access_token_file, device_name, "
	  "display_name, avatar, store, scripts_dir, personas_dir, invites, "
	  "typing, gather_ms, roles, retention_days, encryption" },
	{ "\"we\\\"ird\\n\": 1",
	  "config.json: we?ird?: onbekende sleutel; bekend zijn: homeserver, "
	  "user_id, password_file, access_token_file, device_name, "
	  "display_name, avatar, store, scripts_dir, personas_dir, invites, "
	  "typing, gather_ms, roles, retention_days, encryption" },
	/* an unknown key is reported before a wrong value next to it */
	{ "\"typing\": {\"min_ms\": \"x\", \"maxms\": 1}",
	  "config.json: typing.maxms: onbekende sleutel; bekend zijn: "
	  "enabled, chars_per_second, min_ms, max_ms" },
	{ "\"typing\": {\"chars_per_second\": 0}",
	  "config.json: typing.chars_per_second: moet tussen 1 en 1000 "
	  "liggen, niet 0" },
	{ "\"typing\": {\"chars_per_second\": 1001}",
	  "config.json: typing.chars_per_second: moet tussen 1 en 1000 "
	  "liggen, niet 1001" },
	{ "\"typing\": {\"min_ms\": -1}",
	  "config.json: typing.min_ms: moet tussen 0 en 600000 liggen, "
	  "niet -1" },
	{ "\"typing\": {\"min_ms\": 7000}",
	  "config.json: typing.min_ms: 7000 is groter dan typing.max_ms "
	  "(6000)" },
	{ "\"typing\": {\"min_ms\": 500, \"max_ms\": 499}",
	  "config.json: typing.min_ms: 500 is groter dan typing.max_ms "
	  "(499)" },
	{ "\"typing\": true",
	  "config.json: typing: verwacht een object, niet true" },
	{ "\"gather_ms\": 60001",
	  "config.json: gather_ms: moet tussen 0 en 60000 liggen, niet "
	  "60001" },
	{ "\"gather_ms\": 99999999999999999",
	  "config.json: gather_ms: moet tussen 0 en 60000 liggen, niet "
	  "99999999999999999" },
	{ "\"retention_days\": 36501",
	  "config.json: retention_days: moet tussen 0 en 36500 liggen, niet "
	  "36501" },
	{ "\"encryption\": {\"pickle_key\": \"geheim\"}",
	  "config.json: encryption.pickle_key: onbekende sleutel; bekend "
	  "zijn: pickle_key_file, rotation_messages, rotation_ms" },
	{ "\"encryption\": {\"rotation_messages\": 0}",
	  "config.json: encryption.rotation_messages: moet tussen 1 en "
	  "10000 liggen, niet 0" },
	{ "\"encryption\": {\"rotation_ms\": 604800001}",
	  "config.json: encryption.rotation_ms: moet tussen 60000 en "
	  "604800000 liggen, niet 604800001" },
	{ "\"retention_days\": null",
	  "config.json: retention_days: verwacht een geheel getal, niet "
	  "null" },
	{ "\"invites\": {\"allow\": \"@*:example.org\"}",
	  "config.json: invites.allow: verwacht een lijst met teksten, niet "
	  "een tekst" },
	{ "\"invites\": {\"allow\": [\"@*:example.org\", 3]}",
	  "config.json: invites.allow[1]: verwacht een tekst, niet een "
	  "geheel getal" },
	{ "\"invites\": {\"allow\": [\"\"]}",
	  "config.json: invites.allow[0]: mag niet leeg zijn" },
	{ "\"invites\": {\"allow\": [\"@jan :x\"]}",
	  "config.json: invites.allow[0]: een patroon mag geen spaties "
	  "bevatten: \"@jan :x\"" },
	{ "\"invites\": [\"@*:x\"]",
	  "config.json: invites: verwacht een object, niet een lijst "
	  "[ \xe2\x80\xa6 ]" },
	{ "\"roles\": {\"coaches\": [\"coach\"]}",
	  "config.json: roles.coaches[0]: verwacht een Matrix-gebruikers-ID "
	  "zoals @naam:example.org, niet \"coach\"" },
	{ "\"roles\": {\"trainers\": [\"@t:x\", \"@u\"]}",
	  "config.json: roles.trainers[1]: verwacht een Matrix-gebruikers-ID "
	  "zoals @naam:example.org, niet \"@u\"" },
	{ "\"roles\": {\"trainers\": [], \"admins\": []}",
	  "config.json: roles.admins: onbekende sleutel; bekend zijn: "
	  "coaches, trainers" },
	{ "\"device_name\": null",
	  "config.json: device_name: verwacht een tekst, niet null" },
	{ "\"device_name\": \"\"",
	  "config.json: device_name: mag niet leeg zijn" },
	{ "\"device_name\": \"a\\u0007b\"",
	  "config.json: device_name: bevat een onzichtbaar stuurteken "
	  "(byte 2)" },
	{ "\"display_name\": \"\"",
	  "config.json: display_name: mag niet leeg zijn" },
	{ "\"display_name\": 3",
	  "config.json: display_name: verwacht een tekst, niet een geheel "
	  "getal" },
	{ "\"avatar\": \"geen.png\"",
	  "config.json: avatar: dit bestand bestaat niet" },
	{ "\"avatar\": \".\"",
	  "config.json: avatar: dit is geen gewoon bestand" },
	{ "\"avatar\": \"config.json\"",
	  "config.json: avatar: dit is geen PNG- of JPEG-afbeelding" },
	{ "\"personas_dir\": {}",
	  "config.json: personas_dir: verwacht een tekst, niet een object "
	  "{ \xe2\x80\xa6 }" },
	{ "{\"user_id\": \"@bot:x\", \"password_file\": \"pw\", "
	  "\"store\": \"s\"}",
	  "config.json: homeserver: ontbreekt; dit is het adres van de "
	  "Matrix-server, zoals https://matrix.example.org" },
	{ "{\"homeserver\": \"matrix.example.org\"}",
	  "config.json: homeserver: verwacht een adres dat begint met "
	  "http:// of https://, zoals https://matrix.example.org, niet "
	  "\"matrix.example.org\"" },
	{ "{\"homeserver\": \"ftp://matrix.example.org\"}",
	  "config.json: homeserver: verwacht een adres dat begint met "
	  "http:// of https://, zoals https://matrix.example.org, niet "
	  "\"ftp://matrix.example.org\"" },
	{ "{\"homeserver\": \"https://\"}",
	  "config.json: homeserver: verwacht een adres dat begint met "
	  "http:// of https://, zoals https://matrix.example.org, niet "
	  "\"https://\"" },
	{ "{\"homeserver\": \"https://m.example.org\"}",
	  "config.json: user_id: ontbreekt; dit is het Matrix-account van de "
	  "bot, zoals @oefenkamer:example.org" },
	{ "{\"homeserver\": \"https://m.example.org\", "
	  "\"user_id\": \"bot:example.org\"}",
	  "config.json: user_id: verwacht een Matrix-gebruikers-ID zoals "
	  "@oefenkamer:example.org, niet \"bot:example.org\"" },
	{ "{\"homeserver\": \"https://m\", \"user_id\": \"@bot:\"}",
	  "config.json: user_id: verwacht een Matrix-gebruikers-ID zoals "
	  "@oefenkamer:example.org, niet \"@bot:\"" },
	{ "{\"homeserver\": \"https://m\", \"user_id\": \"@:x\"}",
	  "config.json: user_id: verwacht een Matrix-gebruikers-ID zoals "
	  "@oefenkamer:example.org, niet \"@:x\"" },
	{ "{\"homeserver\": \"https://m\", \"user_id\": \"@b c:x\"}",
	  "config.json: user_id: verwacht een Matrix-gebruikers-ID zoals "
	  "@oefenkamer:example.org, niet \"@b c:x\"" },
	{ "{\"homeserver\": \"https://m\", \"user_id\": \"@b:x\", "
	  "\"store\": \"s\"}",
	  "config.json: password_file of access_token_file ontbreekt; geef "
	  "precies een van de twee op" },
	{ "\"access_token_file\": \"tok\"",
	  "config.json: password_file en access_token_file staan er allebei; "
	  "geef precies een van de twee op" },
	{ "{\"homeserver\": \"https://m\", \"user_id\": \"@b:x\", "
	  "\"password_file\": \"pw\"}",
	  "config.json: store: ontbreekt; dit is het SQLite-bestand waarin "
	  "de bot zijn gegevens bewaart" },
	{ "{\"homeserver\": \"https://m\", \"user_id\": \"@b:x\", "
	  "\"password_file\": \"\", \"store\": \"s\"}",
	  "config.json: password_file: mag niet leeg zijn" },
	{ "[]",
	  "config.json: verwacht een object { … } met de instellingen, niet "
	  "een lijst [ … ]" },
	{ "{\"gather_ms\": 1, \"gather_ms\": 2}",
	  "config.json:1:28: geen geldige JSON (duplicate object key near "
	  "'\"gather_ms\"')" },
	{ "{\n  \"store\": \"s\",\n}",
	  "config.json:3:1: geen geldige JSON (string or '}' expected near "
	  "'}')" },
	{ "",
	  "config.json:1:0: geen geldige JSON ('[' or '{' expected near end "
	  "of file)" },
};

static void test_bad(void **state)
{
	struct fx *fx = *state;
	struct sbuf path, json;
	struct config c;
	struct err err;

	sbuf_init(&path);
	sbuf_init(&json);
	assert_int_equal(chdir(fx->dir), 0);
	for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *bc = &bad_cases[i];

		sbuf_reset(&json);
		if (bc->json[0] == '{' || bc->json[0] == '[' || !*bc->json)
			sbuf_adds(&json, bc->json);
		else
			sbuf_addf(&json, "{" BASE ", %s}", bc->json);
		put(fx, &path, "config.json", json.buf ? json.buf : "",
		    json.len, 0644);
		memset(&c, 0x5a, sizeof(c));
		snprintf(err.msg, sizeof(err.msg), "(geen melding)");
		if (config_load("config.json", &c, &err) == 0) {
			print_error("case %zu loaded: %s\n", i, bc->json);
			config_release(&c);
			fail();
		}
		if (strcmp(err.msg, bc->msg) != 0)
			print_error("case %zu: %s\n", i, bc->json);
		assert_string_equal(err.msg, bc->msg);
		assert_released(&c);
		/* without an err it fails the same way, quietly */
		assert_int_equal(config_load("config.json", &c, NULL), -1);
	}
	sbuf_release(&path);
	sbuf_release(&json);
}

/* Load config.json written as BASE plus extra (in the current
 * directory); returns config_load's result. */
static int load_with(struct fx *fx, const char *extra, struct config *c,
		     struct err *err)
{
	struct sbuf path, json;
	int rc;

	sbuf_init(&path);
	sbuf_init(&json);
	sbuf_addf(&json, "{" BASE ", %s}", extra);
	put(fx, &path, "config.json", json.buf, json.len, 0644);
	rc = config_load("config.json", c, err);
	sbuf_release(&path);
	sbuf_release(&json);
	return rc;
}

/* A display name up to Synapse's limit and no longer; an avatar is a
 * PNG or a JPEG (by its first bytes) of at most CONFIG_AVATAR_MAX
 * bytes, its content type set. */
static void test_profile(void **state)
{
	struct fx *fx = *state;
	static const char png[] = "\x89PNG\r\n\x1a\n....";
	static const char jpeg[] = "\xff\xd8\xff\xe0....";
	static const struct {
		const char *extra, *msg;
	} bad[] = {
		{ "\"avatar\": \"big.png\"",
		  "config.json: avatar: het bestand is groter dan 1024 kB; "
		  "kies een kleinere afbeelding (96 bij 96 pixels is genoeg)" },
		{ "\"avatar\": \"short.png\"",
		  "config.json: avatar: dit is geen PNG- of JPEG-afbeelding" },
	};
	struct sbuf path, extra, name;
	struct config c;
	struct err err = { "" };
	char *big = xcalloc(1, CONFIG_AVATAR_MAX + 1);

	sbuf_init(&path);
	sbuf_init(&extra);
	sbuf_init(&name);
	assert_int_equal(chdir(fx->dir), 0);
	for (int i = 0; i < CONFIG_DISPLAY_NAME_MAX; i++)
		sbuf_addc(&name, 'a');
	put(fx, &path, "a.png", png, sizeof(png) - 1, 0644);
	put(fx, &path, "a.jpg", jpeg, sizeof(jpeg) - 1, 0644);
	memcpy(big, png, sizeof(png) - 1);
	put(fx, &path, "big.png", big, CONFIG_AVATAR_MAX + 1, 0644);
	put(fx, &path, "short.png", png, 4, 0644);

	sbuf_addf(&extra, "\"display_name\": \"%s\", \"avatar\": \"a.png\"",
		  name.buf);
	assert_int_equal(load_with(fx, extra.buf, &c, &err), 0);
	assert_string_equal(c.display_name, name.buf);
	assert_path(c.avatar, fx->realdir, "a.png");
	assert_string_equal(c.avatar_type, "image/png");
	config_release(&c);
	assert_int_equal(load_with(fx, "\"avatar\": \"a.jpg\"", &c, &err), 0);
	assert_string_equal(c.avatar_type, "image/jpeg");
	config_release(&c);

	sbuf_reset(&extra);
	sbuf_addf(&extra, "\"display_name\": \"%sa\"", name.buf);
	assert_int_equal(load_with(fx, extra.buf, &c, &err), -1);
	assert_string_equal(err.msg, "config.json: display_name: te lang "
			    "(257 bytes, hooguit 256)");
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(load_with(fx, bad[i].extra, &c, &err), -1);
		assert_string_equal(err.msg, bad[i].msg);
	}
	free(big);
	sbuf_release(&path);
	sbuf_release(&extra);
	sbuf_release(&name);
}

static void test_bad_files(void **state)
{
	struct fx *fx = *state;
	struct sbuf path, want;
	struct config c;
	struct err err;

	sbuf_init(&path);
	sbuf_init(&want);
	assert_int_equal(chdir(fx->dir), 0);
	assert_int_equal(config_load("nergens.json", &c, &err), -1);
	assert_string_equal(err.msg, "nergens.json: dit configuratiebestand "
			    "bestaat niet");
	assert_released(&c);

	assert_int_equal(mkdir("map.json", 0700), 0);
	assert_int_equal(config_load("map.json", &c, &err), -1);
	assert_string_equal(err.msg, "map.json: dit is geen gewoon bestand");

	/* a fixture file, named with its full path */
	sbuf_addf(&path, "%s/tests/data/config/invalid.json", fx->root);
	assert_int_equal(config_load(sbuf_str(&path), &c, &err), -1);
	sbuf_addf(&want, "%s:3:36: geen geldige JSON (':' expected)",
		  sbuf_str(&path));
	assert_string_equal(err.msg, sbuf_str(&want));
	sbuf_release(&path);
	sbuf_release(&want);
}

struct secret_case {
	const char *data;
	size_t len;        /* 0: strlen(data) */
	mode_t mode;
	const char *want;  /* the secret, or NULL when refused */
	const char *msg;   /* when refused: the message after "<path>: " */
};

#define REFUSED_644 "dit bestand is ook voor anderen toegankelijk " \
	"(rechten 644); maak het alleen voor jezelf leesbaar met: chmod 600 "
#define ONE_LINE "het wachtwoord of token moet op één regel staan, " \
	"zonder lege regels erna"

static const struct secret_case secret_cases[] = {
	{ "syt_abc\n", 0, 0600, "syt_abc", NULL },
	{ "syt_abc", 0, 0400, "syt_abc", NULL },
	{ "syt_abc\r\n", 0, 0600, "syt_abc", NULL },
	{ "een wachtwoord met spaties\n", 0, 0700,
	  "een wachtwoord met spaties", NULL },
	{ "geheim-123\n", 0, 0644, NULL, REFUSED_644 },
	{ "geheim-123\n", 0, 0640, NULL, "dit bestand is ook voor anderen "
	  "toegankelijk (rechten 640); maak het alleen voor jezelf leesbaar "
	  "met: chmod 600 " },
	{ "geheim-123\n", 0, 0604, NULL, "dit bestand is ook voor anderen "
	  "toegankelijk (rechten 604); maak het alleen voor jezelf leesbaar "
	  "met: chmod 600 " },
	{ "geheim-123\n", 0, 0620, NULL, "dit bestand is ook voor anderen "
	  "toegankelijk (rechten 620); maak het alleen voor jezelf leesbaar "
	  "met: chmod 600 " },
	{ "", 0, 0600, NULL, "dit bestand is leeg; zet het wachtwoord of "
	  "token erin" },
	{ "\n", 0, 0600, NULL, "dit bestand is leeg; zet het wachtwoord of "
	  "token erin" },
	{ "geheim-123\n\n", 0, 0600, NULL, ONE_LINE },
	{ "geheim\n123", 0, 0600, NULL, ONE_LINE },
	{ "geheim\0" "123", 10, 0600, NULL, ONE_LINE },
};

/* Does msg hold word anywhere but inside the occurrences of path? */
static int outside_path(const char *msg, const char *path, const char *word)
{
	size_t plen = strlen(path), wlen = strlen(word);

	while (*msg) {
		if (plen && !strncmp(msg, path, plen)) {
			msg += plen;
			continue;
		}
		if (!strncmp(msg, word, wlen))
			return 1;
		msg++;
	}
	return 0;
}

static void test_secret(void **state)
{
	struct fx *fx = *state;
	struct sbuf path, want;
	struct err err;
	char *s;

	sbuf_init(&path);
	sbuf_init(&want);
	for (size_t i = 0; i < ARRAY_LEN(secret_cases); i++) {
		const struct secret_case *sc = &secret_cases[i];
		size_t len = sc->len ? sc->len : strlen(sc->data);

		put(fx, &path, "secret", sc->data, len, sc->mode);
		s = (char *)"unchanged";
		err.msg[0] = '\0';
		if (sc->want) {
			assert_int_equal(config_read_secret(sbuf_str(&path),
							    &s, &err), 0);
			assert_string_equal(s, sc->want);
			explicit_bzero(s, strlen(s));
			free(s);
			continue;
		}
		assert_int_equal(config_read_secret(sbuf_str(&path), &s,
						    &err), -1);
		assert_null(s);
		sbuf_reset(&want);
		sbuf_addf(&want, "%s: %s", sbuf_str(&path), sc->msg);
		if (strstr(sc->msg, "chmod 600 "))
			sbuf_adds(&want, sbuf_str(&path));
		assert_string_equal(err.msg, sbuf_str(&want));
		/* the secret never shows up in a message (looked for
		 * outside the file's path, whose random folder name may
		 * hold any three digits) */
		assert_false(outside_path(err.msg, sbuf_str(&path), "geheim"));
		assert_false(outside_path(err.msg, sbuf_str(&path), "123"));
	}
	sbuf_release(&path);
	sbuf_release(&want);
}

static void test_secret_sizes(void **state)
{
	struct fx *fx = *state;
	struct sbuf path;
	struct err err;
	char buf[4098], *s = NULL;

	sbuf_init(&path);
	memset(buf, 'k', sizeof(buf));
	buf[4096] = '\n';
	put(fx, &path, "secret", buf, 4097, 0600);
	assert_int_equal(config_read_secret(sbuf_str(&path), &s, &err), 0);
	assert_int_equal(strlen(s), 4096);
	free(s);

	memset(buf, 'k', sizeof(buf));
	put(fx, &path, "secret", buf, 4097, 0600);
	assert_int_equal(config_read_secret(sbuf_str(&path), &s, &err), -1);
	assert_null(s);
	assert_non_null(strstr(err.msg, "groter dan 4096 bytes"));
	assert_null(strstr(err.msg, "kkk"));
	put(fx, &path, "secret", buf, sizeof(buf), 0600);
	assert_int_equal(config_read_secret(sbuf_str(&path), &s, &err), -1);
	sbuf_release(&path);
}

static void test_secret_not_a_file(void **state)
{
	struct fx *fx = *state;
	struct sbuf path, want, link;
	struct err err;
	char *s = NULL;

	sbuf_init(&path);
	sbuf_init(&want);
	sbuf_init(&link);

	sbuf_addf(&path, "%s/nergens", fx->dir);
	assert_int_equal(config_read_secret(sbuf_str(&path), &s, &err), -1);
	sbuf_addf(&want, "%s: dit bestand met het wachtwoord of token bestaat "
		  "niet", sbuf_str(&path));
	assert_string_equal(err.msg, sbuf_str(&want));

	/* a directory, and a FIFO (which must not hang the bot) */
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/map", fx->dir);
	assert_int_equal(mkdir(sbuf_str(&path), 0700), 0);
	assert_int_equal(config_read_secret(sbuf_str(&path), &s, &err), -1);
	sbuf_reset(&want);
	sbuf_addf(&want, "%s: dit is geen gewoon bestand; zet het wachtwoord "
		  "of token in een gewoon bestand dat alleen jij kunt lezen "
		  "(chmod 600 %s)", sbuf_str(&path), sbuf_str(&path));
	assert_string_equal(err.msg, sbuf_str(&want));
	sbuf_reset(&path);
	sbuf_addf(&path, "%s/fifo", fx->dir);
	assert_int_equal(mkfifo(sbuf_str(&path), 0600), 0);
	assert_int_equal(config_read_secret(sbuf_str(&path), &s, &err), -1);
	assert_non_null(strstr(err.msg, "geen gewoon bestand"));
	assert_null(s);

	/* a symlink is judged by what it points to */
	put(fx, &path, "echt", "tok\n", 4, 0600);
	sbuf_addf(&link, "%s/link", fx->dir);
	assert_int_equal(symlink(sbuf_str(&path), sbuf_str(&link)), 0);
	assert_int_equal(config_read_secret(sbuf_str(&link), &s, &err), 0);
	assert_string_equal(s, "tok");
	free(s);
	assert_int_equal(chmod(sbuf_str(&path), 0644), 0);
	assert_int_equal(config_read_secret(sbuf_str(&link), &s, &err), -1);
	assert_non_null(strstr(err.msg, "rechten 644"));

	sbuf_release(&path);
	sbuf_release(&want);
	sbuf_release(&link);
}

struct glob_case {
	const char *pattern;
	const char *user;
	int match;
};

static const struct glob_case glob_cases[] = {
	{ "@jan:example.org", "@jan:example.org", 1 },
	{ "@jan:example.org", "@jan:example.org2", 0 },
	{ "@jan:example.org", "@jan:example.or", 0 },
	{ "@jan:example.org", "@Jan:example.org", 0 },
	{ "@*:example.org", "@anna:example.org", 1 },
	{ "@*:example.org", "@:example.org", 1 },
	{ "@*:example.org", "@anna:example.org.evil.com", 0 },
	{ "@*:example.org", "@anna:evil.com", 0 },
	{ "@*:example.org", "@anna:evil.com#:example.org", 1 },
	{ "*", "@wie:dan:ook", 1 },
	{ "*", "", 1 },
	{ "**", "@x:y", 1 },
	{ "@?nna:x", "@anna:x", 1 },
	{ "@?nna:x", "@nna:x", 0 },
	{ "@?nna:x", "@aanna:x", 0 },
	{ "@?:x", "@\xc3\xa9:x", 1 },          /* ? is one character */
	{ "@??:x", "@\xc3\xa9:x", 0 },
	{ "@a*b*c:x", "@aXXbYYbZZc:x", 1 },
	{ "@a*b*c:x", "@aXXcYYb:x", 0 },
	{ "@*-trainer:*", "@piet-trainer:school.nl", 1 },
	{ "@*-trainer:*", "@piet-trainer", 0 },
	{ "@*a*a*a*a*a*a*b:x", "@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:x", 0 },
};

static void test_invite_glob(void **state)
{
	struct config c;
	char *one[1];

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_false(config_invite_allowed(&c, "@jan:example.org"));
	c.invite_allow = one;
	c.ninvite_allow = 1;
	for (size_t i = 0; i < ARRAY_LEN(glob_cases); i++) {
		one[0] = (char *)glob_cases[i].pattern;
		if (config_invite_allowed(&c, glob_cases[i].user) !=
		    glob_cases[i].match)
			print_error("pattern %s, user %s\n",
				    glob_cases[i].pattern,
				    glob_cases[i].user);
		assert_int_equal(config_invite_allowed(&c,
						       glob_cases[i].user),
				 glob_cases[i].match);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_example),
		T(test_defaults),
		T(test_relative),
		T(test_bad),
		T(test_bad_files),
		T(test_profile),
		T(test_secret),
		T(test_secret_sizes),
		T(test_secret_not_a_file),
		cmocka_unit_test(test_invite_glob),
#undef T
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
