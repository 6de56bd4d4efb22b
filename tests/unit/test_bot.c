/* test_bot.c - the bot on recorded /sync responses, no network: what it
 * stores and what it queues to send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach.h"
#include "bot.h"
#include "bot_int.h"
#include "command.h"
#include "event.h"
#include "mx.h"
#include "outbox.h"
#include "roles.h"
#include "room.h"
#include "util.h"

struct fx {
	char dir[64];
	char cfgpath[128];
	char db[128];
	struct config cfg;
	struct bot *b;
};

static const char *root(void)
{
	const char *r = getenv("OEF_ROOT");

	return r ? r : ".";
}

/* gather_ms of the next fixture (the default config's 1500, or 0). */
static int gather_ms = 1500;

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err err;
	FILE *fp;
	char pw[128];

	strcpy(f->dir, "/tmp/oef-test-bot-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(pw, sizeof(pw), "%s/pw", f->dir);
	fp = fopen(pw, "w");
	fputs("geheim\n", fp);
	fclose(fp);
	chmod(pw, 0600);
	snprintf(f->db, sizeof(f->db), "%s/bot.db", f->dir);
	snprintf(f->cfgpath, sizeof(f->cfgpath), "%s/config.json", f->dir);
	fp = fopen(f->cfgpath, "w");
	/* a homeserver nobody listens on: nothing leaves this test */
	fprintf(fp, "{\"homeserver\": \"http://127.0.0.1:9\","
		" \"user_id\": \"@oefenkamer:localhost\","
		" \"password_file\": \"%s\", \"store\": \"%s\","
		" \"scripts_dir\": \"%s/scripts\","
		" \"personas_dir\": \"%s/personas\","
		" \"invites\": {\"allow\": [\"@*:localhost\"]},"
		" \"typing\": {\"enabled\": true, \"chars_per_second\": 10,"
		" \"min_ms\": 500, \"max_ms\": 3000},"
		" \"roles\": {\"coaches\": [\"@coach:localhost\"]},"
		" \"gather_ms\": %d}",
		pw, f->db, root(), root(), gather_ms);
	fclose(fp);
	if (config_load(f->cfgpath, &f->cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	f->b = bot_new(&f->cfg, &err);
	if (!f->b) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	bot_free(f->b);
	config_release(&f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Feed tests/data/sync/NAME through the parser and the bot. */
static int feed(struct fx *f, const char *name)
{
	char path[512];
	char *buf;
	size_t len;
	struct err err;
	struct mx_sync s;
	int rc;

	snprintf(path, sizeof(path), "%s/tests/data/sync/%s", root(), name);
	assert_int_equal(read_file(path, 1 << 20, &buf, &len, &err), 0);
	rc = mx_sync_parse(buf, len, &s);
	free(buf);
	if (rc < 0)
		return -2;
	rc = bot_sync(f->b, &s);
	mx_sync_release(&s);
	return rc;
}

/* Feed tests/data/sync/NAME as if it happened in room instead of
 * !oefen:localhost, its event ids prefixed with tag and its trainee
 * @trainee-TAG:localhost (a trainee per room: commands are limited per
 * user). */
static int feed_in(struct fx *f, const char *name, const char *room,
		   const char *tag)
{
	char path[512];
	char *buf;
	size_t len;
	struct err err;
	struct sbuf sb;
	struct mx_sync s;
	int rc;

	snprintf(path, sizeof(path), "%s/tests/data/sync/%s", root(), name);
	assert_int_equal(read_file(path, 1 << 20, &buf, &len, &err), 0);
	sbuf_init(&sb);
	for (const char *p = buf; *p; p++) {
		if (!strncmp(p, "!oefen:localhost", 16)) {
			sbuf_adds(&sb, room);
			p += 15;
		} else if (!strncmp(p, "@trainee:", 9)) {
			sbuf_addf(&sb, "@trainee-%s:", tag);
			p += 8;
		} else if (!strncmp(p, "\"$", 2)) {
			sbuf_addf(&sb, "\"$%s-", tag);
			p++;
		} else {
			sbuf_addc(&sb, *p);
		}
	}
	free(buf);
	rc = mx_sync_parse(sb.buf, sb.len, &s);
	sbuf_release(&sb);
	if (rc < 0)
		return -2;
	rc = bot_sync(f->b, &s);
	mx_sync_release(&s);
	return rc;
}

/* One batch, next_batch token, of the given messages in !oefen:localhost:
 * sender, event id and body, n of them. */
static int feed_messages(struct fx *f, const char *token, size_t n,
			 const char *const (*msgs)[3])
{
	json_t *evs = json_array(), *root;
	struct mx_sync s;
	int rc;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(evs, json_pack(
			"{s:s, s:s, s:s, s:i, s:{s:s, s:s}}",
			"type", "m.room.message", "sender", msgs[i][0],
			"event_id", msgs[i][1], "origin_server_ts", 10,
			"content", "msgtype", "m.text", "body", msgs[i][2]));
	root = json_pack("{s:s, s:{s:{s:{s:{s:o}}}}}", "next_batch", token,
			 "rooms", "join", "!oefen:localhost", "timeline",
			 "events", evs);
	assert_int_equal(mx_sync_parse_root(root, &s), 0);
	rc = bot_sync(f->b, &s);
	mx_sync_release(&s);
	json_decref(root);
	return rc;
}

static long q(struct fx *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long v = -1;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int has(struct fx *f, const char *sql)
{
	return q(f, sql) > 0;
}

static void test_invite_join_greet(void **state)
{
	struct fx *f = *state;

	assert_int_equal(feed(f, "01-invite.json"), 0);
	/* the allowed invite is kept, the other refused */
	assert_int_equal(q(f, "SELECT count(*) FROM rooms"), 1);
	assert_true(has(f, "SELECT count(*) FROM rooms WHERE room ="
			" '!oefen:localhost' AND inviter = '@trainee:localhost'"));
	assert_true(has(f, "SELECT count(*) FROM meta WHERE key ="
			" 'sync_token' AND value = 's1'"));
	assert_int_equal(feed(f, "02-joined.json"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox"), 1);
	assert_true(has(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			" '%m.notice%!oefeningen%'"));
	/* the same batch again (a crash before the token was used) adds
	 * nothing: the greeting's txn is the same */
	assert_int_equal(feed(f, "02-joined.json"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox"), 1);
}

/* One considered answer for the two trainee messages of 04-trainee. */
static void answered_once(struct fx *f)
{
	assert_int_equal(q(f, "SELECT count(*) FROM turns WHERE speaker ="
			   " 'trainee' AND node IS NULL"), 0);
	assert_int_equal(q(f, "SELECT count(DISTINCT beurt) FROM turns WHERE"
			   " speaker = 'trainee'"), 1);
	assert_true(has(f, "SELECT count(*) FROM turns WHERE speaker ="
			" 'persona' AND beurt = 1"));
}

static void test_start_and_answer(void **state)
{
	struct fx *f = *state;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	assert_int_equal(feed(f, "03-start.json"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM sessions WHERE"
			   " scenario = 'moeder-brief' AND trainee ="
			   " '@trainee:localhost' AND room = '!oefen:localhost'"),
			 1);
	/* list, scene notice, then the persona's opening with typing */
	assert_true(has(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			" '%De brief over de natte broek%'"));
	assert_true(has(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			" '%\"msgtype\":\"m.text\"%' AND typing_ms >= 500"));
	assert_int_equal(feed(f, "04-trainee.json"), 0);
	/* both trainee lines stored, waiting; the coach logged as coach;
	 * our own echo ignored */
	assert_int_equal(q(f, "SELECT count(*) FROM turns WHERE speaker ="
			   " 'trainee' AND node IS NULL"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM turns WHERE speaker ="
			   " 'coach' AND text = 'Let op je woorden'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM turns WHERE text ="
			   " 'mijn eigen echo'"), 0);
	bot_answer_waiting(f->b);
	answered_once(f);
	/* replaying the batch does not store the messages twice */
	assert_int_equal(feed(f, "04-trainee.json"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM turns WHERE speaker ="
			   " 'trainee'"), 2);
}

static int setup_no_gather(void **state)
{
	int rc;

	gather_ms = 0;
	rc = setup(state);
	gather_ms = 1500;
	return rc;
}

/* Without gather_ms the answer is part of the batch's transaction: it
 * is stored when bot_sync returns, and a replay adds nothing. */
static void test_answer_in_batch(void **state)
{
	struct fx *f = *state;
	long outbox, turns;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	feed(f, "03-start.json");
	assert_int_equal(feed(f, "04-trainee.json"), 0);
	answered_once(f);
	assert_true(has(f, "SELECT count(*) FROM meta WHERE key ="
			" 'sync_token' AND value = 's4'"));
	outbox = q(f, "SELECT count(*) FROM outbox");
	turns = q(f, "SELECT count(*) FROM turns");
	assert_int_equal(feed(f, "04-trainee.json"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox"), outbox);
	assert_int_equal(q(f, "SELECT count(*) FROM turns"), turns);
}

/* !opnieuw after a rehearsal ended starts the same scenario again. */
static void test_opnieuw_after_end(void **state)
{
	struct fx *f = *state;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	feed(f, "03-start.json");
	assert_int_equal(feed(f, "07-stop-opnieuw.json"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM sessions WHERE"
			   " scenario = 'moeder-brief' AND ended_ms > 0"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM sessions WHERE"
			   " scenario = 'moeder-brief' AND ended_ms = 0 AND"
			   " trainee = '@trainee:localhost'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%geen oefening om opnieuw%'"), 0);
}

static void test_malformed(void **state)
{
	struct fx *f = *state;
	long before;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	feed(f, "03-start.json");
	before = q(f, "SELECT count(*) FROM turns");
	assert_int_equal(feed(f, "05-malformed.json"), 0);
	/* nothing crashed, nothing was made of the garbage, the token moved */
	assert_int_equal(q(f, "SELECT count(*) FROM turns"), before);
	assert_true(has(f, "SELECT count(*) FROM meta WHERE value = 's5'"));
	assert_int_equal(feed(f, "bad-no-batch.json"), -2);
	assert_int_equal(feed(f, "bad-truncated.json"), -2);
	/* and the room still works */
	assert_int_equal(feed(f, "04-trainee.json"), 0);
	bot_answer_waiting(f->b);
	assert_true(has(f, "SELECT count(*) FROM turns WHERE speaker ="
			" 'persona' AND beurt = 1"));
}

static void test_leave_closes_session(void **state)
{
	struct fx *f = *state;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	feed(f, "03-start.json");
	assert_int_equal(feed(f, "06-leave.json"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM rooms"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM sessions WHERE"
			   " ended_ms = 0"), 0);
}

/* Several rooms waiting for an answer, started in one order and
 * written to in the other, one of them left while its answer waits:
 * every remaining room is answered once, the left one not at all. */
static void test_many_rooms_waiting(void **state)
{
	static const char *const rooms[] = {
		"!een:localhost", "!twee:localhost", "!drie:localhost",
		"!vier:localhost", "!vijf:localhost",
	};
	struct fx *f = *state;
	char tag[8];

	for (size_t i = 0; i < ARRAY_LEN(rooms); i++) {
		snprintf(tag, sizeof(tag), "r%zu", i);
		assert_int_equal(feed_in(f, "01-invite.json", rooms[i], tag), 0);
		assert_int_equal(feed_in(f, "02-joined.json", rooms[i], tag), 0);
		assert_int_equal(feed_in(f, "03-start.json", rooms[i], tag), 0);
	}
	for (size_t i = ARRAY_LEN(rooms); i-- > 0;) {
		snprintf(tag, sizeof(tag), "r%zu", i);
		assert_int_equal(feed_in(f, "04-trainee.json", rooms[i], tag),
				 0);
	}
	assert_int_equal(q(f, "SELECT count(*) FROM turns WHERE speaker ="
			   " 'trainee' AND node IS NULL"),
			 2 * ARRAY_LEN(rooms));
	assert_int_equal(feed_in(f, "06-leave.json", rooms[2], "r2"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM rooms"),
			 ARRAY_LEN(rooms) - 1);
	bot_answer_waiting(f->b);
	assert_int_equal(q(f, "SELECT count(DISTINCT s.room) FROM turns t"
			   " JOIN sessions s ON t.session_id = s.id WHERE"
			   " t.speaker = 'persona' AND t.beurt = 1"),
			 ARRAY_LEN(rooms) - 1);
	assert_int_equal(q(f, "SELECT count(*) FROM turns t JOIN sessions s"
			   " ON t.session_id = s.id WHERE t.speaker = 'persona'"
			   " AND t.beurt = 1 AND s.room = '!drie:localhost'"),
			 0);
	assert_int_equal(q(f, "SELECT count(*) FROM turns t JOIN sessions s"
			   " ON t.session_id = s.id WHERE t.speaker = 'trainee'"
			   " AND t.node IS NULL AND s.room != '!drie:localhost'"),
			 0);
	/* nothing waits any more: a second call answers nothing */
	bot_answer_waiting(f->b);
	assert_int_equal(q(f, "SELECT count(*) FROM turns WHERE speaker ="
			   " 'persona' AND beurt = 2"), 0);
}

/* Texts too long for one event: what goes out fits (formatted_body
 * dropped first, then the body cut with "…"); the whole text stays in
 * the transcript. */
static void test_long_texts_fit(void **state)
{
	struct fx *f = *state;
	struct sbuf start, tip;   /* !zeg and !tip */
	char sql[160];

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	feed(f, "03-start.json");
	sbuf_init(&start);
	sbuf_init(&tip);
	sbuf_adds(&start, "!zeg ");
	for (int i = 0; i < 21000; i++)
		sbuf_adds(&start, "<\"");   /* 3 bytes in JSON, 10 in HTML */
	sbuf_adds(&tip, "!tip ");
	for (int i = 0; i < 30000; i++)
		sbuf_adds(&tip, "é");
	{
		const char *const msgs[][3] = {
			{ "@coach:localhost", "$big1", start.buf },
			{ "@coach:localhost", "$big2", tip.buf },
		};

		assert_int_equal(feed_messages(f, "s9", 2, msgs), 0);
	}
	snprintf(sql, sizeof(sql), "SELECT max(length(CAST(content AS BLOB)))"
		 " FROM outbox");
	assert_true(q(f, sql) <= MX_CONTENT_MAX);
	/* the puppeted line: cut, with "…", no HTML; whole in the
	 * transcript */
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%\"m.text\"%<\\\"<%…%' AND"
			   " content NOT LIKE '%formatted_body%'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM turns WHERE speaker ="
			   " 'persona' AND length(text) = 42000"), 1);
	/* the tip fits without its HTML, whole */
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%Tip van de coach: é%' AND content NOT LIKE"
			   " '%…%' AND content NOT LIKE '%formatted_body%'"),
			 1);
	assert_int_equal(q(f, "SELECT count(*) FROM turns WHERE speaker ="
			   " 'coach' AND length(text) = 18 + 30000"), 1);
	sbuf_release(&start);
	sbuf_release(&tip);
}

/* One replay per room: a second one is refused while the first waits in
 * the outbox; !stop drops the replay's lines, not the rehearsal. */
static void test_one_replay_per_room(void **state)
{
	struct fx *f = *state;
	const char *const two[][3] = {
		{ "@trainee:localhost", "$r1", "!terugkijken 1 100" },
		{ "@trainee:localhost", "$r2", "!terugkijken 1 100" },
	};
	const char *const stop[][3] = {
		{ "@trainee:localhost", "$s1", "!stop" },
	};
	long lines;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	feed(f, "03-start.json");
	assert_int_equal(feed_messages(f, "s9", 2, two), 0);
	lines = q(f, "SELECT count(*) FROM outbox WHERE txn LIKE 'oefr-%'");
	assert_true(lines >= 2);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%Terugkijken: sessie 1%'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%al een terugblik%'"), 1);
	assert_int_equal(feed_messages(f, "s10", 1, stop), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE txn LIKE"
			   " 'oefr-%'"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%terugkijken is gestopt%'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM sessions WHERE"
			   " ended_ms = 0"), 1);
}

/* A filled gap is older than the batch's state section: its events are
 * handled first, so the state (here: power levels) ends as "state"
 * says, and then the timeline after the gap moves it on. */
static void test_gap_before_state(void **state)
{
	struct fx *f = *state;
	struct mx_sync s;
	json_t *root;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	root = json_pack(
		"{s:s, s:{s:{s:{s:{s:[{s:s, s:s, s:s, s:s, s:{s:{s:i}}}]},"
		" s:{s:[{s:s, s:s, s:s, s:s, s:{s:{s:i}}}], s:i}}}}}",
		"next_batch", "s9", "rooms", "join", "!oefen:localhost",
		"state", "events",
		"type", "m.room.power_levels", "state_key", "", "sender",
		"@trainee:localhost", "event_id", "$pl2", "content", "users",
		"@x:localhost", 0,
		"timeline", "events",
		"type", "m.room.power_levels", "state_key", "", "sender",
		"@trainee:localhost", "event_id", "$pl1", "content", "users",
		"@x:localhost", 50,
		MX_GAP_FIELD, 1);
	assert_non_null(root);
	assert_int_equal(mx_sync_parse_root(root, &s), 0);
	assert_int_equal(bot_sync(f->b, &s), 0);
	mx_sync_release(&s);
	json_decref(root);
	assert_int_equal(q(f, "SELECT count(*) FROM meta WHERE key ="
			   " 'pl:!oefen:localhost' AND value ="
			   " '{\"@x:localhost\":0}'"), 1);
}

/* Power levels make a coach: level 50 from the creator does, a lower one
 * does not; the room keeps only the levels that count, and the same
 * comes back from the store after a reload (!rollen says so both
 * times). */
static void test_power_coach(void **state)
{
	static const char *const ask1[][3] = {
		{ "@trainee:localhost", "$rollen1", "!rollen" } };
	static const char *const ask2[][3] = {
		{ "@trainee:localhost", "$rollen2", "!rollen" } };
	struct fx *f = *state;
	struct mx_sync s;
	struct room *r;
	json_t *root;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	root = json_pack(
		"{s:s, s:{s:{s:{s:{s:[{s:s, s:s, s:s, s:s,"
		" s:{s:{s:i, s:i, s:i}}}]}}}}}",
		"next_batch", "s9", "rooms", "join", "!oefen:localhost",
		"timeline", "events",
		"type", "m.room.power_levels", "state_key", "", "sender",
		"@trainee:localhost", "event_id", "$pl", "content", "users",
		"@ervaring:localhost", 50, "@gewoon:localhost", 10,
		"@oefenkamer:localhost", 100);
	assert_non_null(root);
	assert_int_equal(mx_sync_parse_root(root, &s), 0);
	assert_int_equal(bot_sync(f->b, &s), 0);
	mx_sync_release(&s);
	json_decref(root);
	r = room_find(f->b, "!oefen:localhost");
	assert_non_null(r);
	assert_non_null(r->power);
	assert_int_equal(r->power->n, 2);
	assert_int_equal(room_roles(f->b, r, "@ervaring:localhost"),
			 ROLE_COACH);
	assert_int_equal(room_roles(f->b, r, "@gewoon:localhost"), 0);
	assert_int_equal(feed_messages(f, "s10", 1, ask1), 0);
	/* the store keeps every level, as it came */
	assert_int_equal(q(f, "SELECT count(*) FROM meta WHERE key ="
			   " 'pl:!oefen:localhost' AND value LIKE"
			   " '%\"@gewoon:localhost\":10%'"), 1);
	room_reload(f->b);
	r = room_find(f->b, "!oefen:localhost");
	assert_non_null(r);
	assert_int_equal(room_roles(f->b, r, "@ervaring:localhost"),
			 ROLE_COACH);
	assert_int_equal(room_roles(f->b, r, "@gewoon:localhost"), 0);
	assert_int_equal(feed_messages(f, "s11", 1, ask2), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%Coaches: @coach:localhost,"
			   " @ervaring:localhost (machtsniveau 50)%'"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%@gewoon:localhost%'"), 0);
}

/* Ten commands from one user in one batch: the burst is answered, then
 * one notice; another user is not held up. */
static void test_command_flood(void **state)
{
	struct fx *f = *state;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	assert_int_equal(feed(f, "08-command-flood.json"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%Trainee: niemand%'"), COMMAND_BURST + 1);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%Rustig aan, @trainee:localhost%'"), 1);
}

/* The README's "who" for an access rule. */
static void who_text(const struct command *c, char *buf, size_t n)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = { { ROLE_TRAINEE, "trainee" }, { ROLE_COACH, "coach" },
		      { ROLE_TRAINER, "trainer" } };

	buf[0] = '\0';
	if (c->who & ROLE_ANYONE) {
		snprintf(buf, n, "anyone");
		return;
	}
	for (size_t i = 0; i < 3; i++)
		if (c->who & names[i].bit)
			snprintf(buf + strlen(buf), n - strlen(buf), "%s%s",
				 buf[0] ? ", " : "", names[i].name);
	if (c->named)
		snprintf(buf + strlen(buf), n - strlen(buf),
			 " of that session");
}

/* Every `!name` in the first column of README.md's command table is a
 * command or alias of the access table, with the same "who"; every
 * command and alias of the table is in the README. */
static void test_readme_access_table(void **state)
{
	char path[512], *buf, *line, *next;
	size_t len, n, seen = 0;
	const struct command *t = command_table(&n);
	int *found = calloc(n, sizeof(int));
	struct err err;

	(void)state;
	snprintf(path, sizeof(path), "%s/README.md", root());
	assert_int_equal(read_file(path, 1 << 20, &buf, &len, &err), 0);
	for (line = buf; line; line = next) {
		char *col2, *end, want[128];
		const char *p;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "| `!", 4))
			continue;
		col2 = strstr(line + 1, " | ");
		assert_non_null(col2);
		*col2 = '\0';
		col2 += 3;
		end = strstr(col2, " | ");
		assert_non_null(end);
		*end = '\0';
		for (p = strstr(line, "`!"); p; p = strstr(p + 1, "`!")) {
			size_t k = strcspn(p + 2, " `");
			int hit = 0;

			for (size_t i = 0; i < n && !hit; i++) {
				const char *a = t[i].aliases;
				int match = strlen(t[i].name) == k &&
					    !strncmp(t[i].name, p + 2, k);

				while (!match && a && *a) {
					size_t m = strcspn(a, " ");

					match = m == k && !strncmp(a, p + 2, k);
					a += m;
					a += *a == ' ';
				}
				if (!match)
					continue;
				hit = 1;
				found[i] = 1;
				who_text(&t[i], want, sizeof(want));
				if (strcmp(col2, want))
					fail_msg("README: !%s is for '%s', the "
						 "table says '%s'", t[i].name,
						 col2, want);
			}
			if (!hit)
				fail_msg("README names !%.*s, which is not in "
					 "the command table", (int)k, p + 2);
			seen++;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!found[i])
			fail_msg("!%s is not in README.md's command table",
				 t[i].name);
	assert_true(seen >= n);
	free(found);
	free(buf);
}

/* Each name and alias of the command table is taken once, and each
 * handler serves one entry: every command is reached one way, from its
 * own entry (no second dispatch on the name behind the table's). */
static void test_command_reached_once(void **state)
{
	size_t n;
	const struct command *t = command_table(&n);
	char names[64][32];
	size_t nn = 0;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const char *a = t[i].aliases;

		assert_true(nn < 64);
		snprintf(names[nn++], sizeof(names[0]), "%s", t[i].name);
		while (a && *a) {
			size_t k = strcspn(a, " ");

			assert_true(nn < 64 && k < sizeof(names[0]));
			snprintf(names[nn++], sizeof(names[0]), "%.*s", (int)k,
				 a);
			a += k;
			a += *a == ' ';
		}
		for (size_t j = 0; j < i; j++)
			if (t[j].run == t[i].run)
				fail_msg("!%s and !%s share a handler",
					 t[j].name, t[i].name);
	}
	for (size_t i = 0; i < nn; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				fail_msg("!%s is in the table twice", names[i]);
}

/* !hulp is made from the table: every usage with its help line, in the
 * table's order. */
static void test_help_from_table(void **state)
{
	size_t n;
	const struct command *t = command_table(&n);
	char *help = command_help();
	const char *at = help;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		char line[256];
		const char *hit;

		snprintf(line, sizeof(line), "\n%s — %s", t[i].usage,
			 t[i].help);
		hit = strstr(at, line);
		if (!hit)
			fail_msg("!hulp lacks, or has out of order: %s",
				 line + 1);
		at = hit + strlen(line);
	}
	free(help);
}

/* A coach's !einde, !pauze and !tip without a rehearsal say so; during
 * one, !pauze pauses it and !einde ends it with the debrief. */
static void test_coach_commands(void **state)
{
	struct fx *f = *state;
	static const char *const idle[][3] = {
		{ "@coach:localhost", "$c1", "!einde" },
		{ "@coach:localhost", "$c2", "!pauze" },
		{ "@coach:localhost", "$c3", "!tip let op" },
	};
	static const char *const busy[][3] = {
		{ "@coach:localhost", "$c4", "!pauze" },
		{ "@coach:localhost", "$c5", "!einde" },
	};

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	assert_int_equal(feed_messages(f, "s10", 3, idle), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%Er loopt nu geen oefening.%'"), 3);
	assert_int_equal(feed(f, "03-start.json"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM sessions WHERE"
			   " ended_ms = 0"), 1);
	assert_int_equal(feed_messages(f, "s11", 2, busy), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%De oefening staat even stil%'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM sessions WHERE"
			   " ended_ms = 0"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%Er loopt nu geen oefening.%'"), 3);
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Ask the prepare hook for an attachment row until it answers (the
 * upload goes to a port nobody listens on). */
static int prepare_until(struct fx *f, const char *room, const char *type,
			 const char *body, char **nt, char **nb)
{
	int rc = 0;

	for (int i = 0; i < 200 && rc == 0; i++) {
		rc = attach_prepare(f->b, room, type, body, nt, nb);
		if (rc == 0)
			mx_poll(f->b->mx, 50, -1);
	}
	return rc;
}

/* One column of the outbox row picked by sql, or NULL. */
static char *col(struct fx *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *v = NULL;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* !stand and the debrief are HTML messages; the full debrief follows
 * the debrief as an attachment row of its own; a failed upload turns
 * that row into a short notice, never a half m.file. */
static void test_debrief_html_and_file(void **state)
{
	struct fx *f = *state;
	static const char *const stand[][3] = {
		{ "@trainee:localhost", "$st", "!stand" },
	};
	static const char *const stop[][3] = {
		{ "@trainee:localhost", "$sp", "!stop" },
		{ "@coach:localhost", "$nb", "!nabespreking" },
	};
	char *type, *content, *nt = NULL, *nb = NULL;
	json_t *row, *c;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	assert_int_equal(feed(f, "03-start.json"), 0);
	assert_int_equal(feed_messages(f, "s20", 1, stand), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%\"format\":\"org.matrix.custom.html\"%'"
			   " AND content LIKE '%<pre>%begin%</pre>%'"
			   " AND content LIKE '%fase%'"), 1);
	assert_int_equal(feed_messages(f, "s21", 2, stop), 0);
	/* the end's debrief and !nabespreking's: HTML, each followed by
	 * its own attachment row for the same session */
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%<h3>%Einde van de oefening%<pre>%'"), 2);
	/* out of character: the label with the given HTML too, in body
	 * and formatted_body (!stand's and both debriefs); in the HTML on
	 * the first line, inside the heading or paragraph it starts with */
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%\"body\":\"" OUTBOX_MARK_BODY "Einde van de"
			   " oefening%' AND content LIKE '%\"formatted_body\":"
			   "\"<h3>" OUTBOX_MARK_HTML "Einde van de oefening%'"),
			 2);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%\"formatted_body\":\"<p>" OUTBOX_MARK_HTML
			   "<b>Stand %'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%\"format\":\"org.matrix.custom.html\"%' AND"
			   " content LIKE '%\"msgtype\":\"m.notice\"%' AND"
			   " content NOT LIKE '%\"formatted_body\":\""
			   OUTBOX_MARK_HTML "%' AND content NOT LIKE"
			   " '%\"formatted_body\":\"<p>" OUTBOX_MARK_HTML "%'"
			   " AND content NOT LIKE '%\"formatted_body\":\"<h_>"
			   OUTBOX_MARK_HTML "%'"), 0);
	/* no label left alone before a block ("Oefenkamer ·" on a line of
	 * its own in nheko) */
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%" OUTBOX_MARK_HTML "<h_>%' OR content LIKE"
			   " '%" OUTBOX_MARK_HTML "<p>%'"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE type ="
			   " '" OUTBOX_ATTACH_TYPE "' AND content LIKE"
			   " '%\"session\":1,%'"), 2);
	assert_int_equal(q(f, "SELECT count(DISTINCT txn) FROM outbox WHERE"
			   " type = '" OUTBOX_ATTACH_TYPE "'"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox a, outbox d"
			   " WHERE a.type = '" OUTBOX_ATTACH_TYPE "' AND"
			   " d.id = a.id - 1 AND d.content LIKE"
			   " '%Einde van de oefening%'"), 2);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%oefenkamer export%'"), 0);

	/* the hook leaves other rows to the usual path */
	assert_int_equal(attach_prepare(f->b, "!oefen:localhost",
					"m.room.message", "{}", &nt, &nb), -2);
	assert_int_equal(attach_prepare(f->b, "!oefen:localhost",
					OUTBOX_ATTACH_TYPE, "{\"x\":1}", &nt,
					&nb), -1);
	/* nobody listens: after its tries the row becomes a notice */
	type = col(f, "SELECT type FROM outbox WHERE type = '"
		   OUTBOX_ATTACH_TYPE "' ORDER BY id LIMIT 1");
	content = col(f, "SELECT content FROM outbox WHERE type = '"
		      OUTBOX_ATTACH_TYPE "' ORDER BY id LIMIT 1");
	assert_non_null(content);
	assert_int_equal(attach_prepare(f->b, "!oefen:localhost", type,
					content, &nt, &nb), 0);
	assert_null(nb);
	assert_int_equal(prepare_until(f, "!oefen:localhost", type, content,
				       &nt, &nb), 1);
	assert_string_equal(nt, "m.room.message");
	c = json_loads(nb, 0, NULL);
	assert_non_null(c);
	assert_string_equal(jstr(c, "msgtype"), "m.notice");
	assert_non_null(strstr(jstr(c, "body"), "kon ik niet meesturen"));
	assert_int_equal(strncmp(jstr(c, "body"), OUTBOX_MARK_BODY,
				 strlen(OUTBOX_MARK_BODY)), 0);
	assert_null(json_object_get(c, "url"));
	assert_null(json_object_get(c, "file"));
	json_decref(c);
	free(nt);
	free(nb);
	/* the job is gone: asked again (a resend), it starts over */
	assert_int_equal(attach_prepare(f->b, "!oefen:localhost", type,
					content, &nt, &nb), 0);
	row = json_loads(content, 0, NULL);
	assert_non_null(json_object_get(row, "txn"));
	json_decref(row);
	free(type);
	free(content);
}

/* The m.file content: "url" in a plain room; in an encrypted one the
 * file object with the url inside and no "url" beside it. */
static void test_attach_content(void **state)
{
	json_t *c, *file, *fc, *info;

	(void)state;
	c = attach_content("nabespreking-7.html", 1234, "mxc://hs/abc",
			   NULL);
	info = json_object_get(c, "info");
	assert_string_equal(jstr(c, "msgtype"), "m.file");
	assert_string_equal(jstr(c, "body"), "nabespreking-7.html");
	assert_string_equal(jstr(c, "filename"), "nabespreking-7.html");
	assert_string_equal(jstr(c, "url"), "mxc://hs/abc");
	assert_int_equal(json_integer_value(json_object_get(info, "size")),
			 1234);
	assert_string_equal(jstr(info, "mimetype"), "text/html");
	assert_null(json_object_get(c, "file"));
	json_decref(c);

	file = json_pack("{s:s, s:s}", "v", "v2", "iv", "AAAA");
	c = attach_content("nabespreking-7.html", 10, "mxc://hs/def", file);
	assert_null(json_object_get(c, "url"));
	fc = json_object_get(c, "file");
	assert_string_equal(jstr(fc, "url"), "mxc://hs/def");
	assert_string_equal(jstr(fc, "v"), "v2");
	/* the caller's object is left as it was */
	assert_null(json_object_get(file, "url"));
	json_decref(c);
	json_decref(file);
}

/* One batch of raw room events in !oefen:localhost (JSON array text),
 * with to-device events (JSON array text, or NULL). */
static int feed_raw(struct fx *f, const char *token, const char *events,
		    const char *to_device)
{
	json_error_t je;
	json_t *evs = json_loads(events, 0, &je), *root;
	struct mx_sync s;
	int rc;

	assert_non_null(evs);
	root = json_pack("{s:s, s:{s:{s:{s:{s:o}}}}}", "next_batch", token,
			 "rooms", "join", "!oefen:localhost", "timeline",
			 "events", evs);
	if (to_device)
		json_object_set_new(root, "to_device", json_pack("{s:o}",
				    "events", json_loads(to_device, 0, &je)));
	assert_int_equal(mx_sync_parse_root(root, &s), 0);
	rc = bot_sync(f->b, &s);
	mx_sync_release(&s);
	json_decref(root);
	return rc;
}

#define VREQ(id, to) \
	"{\"type\":\"m.room.message\",\"event_id\":\"" id "\"," \
	"\"sender\":\"@trainee:localhost\",\"origin_server_ts\":10," \
	"\"content\":{\"msgtype\":\"m.key.verification.request\"," \
	"\"body\":\"verifieer\",\"to\":\"" to "\"," \
	"\"from_device\":\"DEV\",\"methods\":[\"m.sas.v1\"]}}"

/* Issue 14 item 4: an in-room verification request to the bot gets an
 * in-room cancel relating to it and a notice; one to someone else, a
 * step the bot cannot tell is about it, and a to-device request
 * without a direct chat get nothing in the room. Without encryption
 * nothing claims the device is cross-signed. */
static void test_verification_cancelled(void **state)
{
	struct fx *f = *state;
	long before;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	before = q(f, "SELECT count(*) FROM outbox");
	assert_int_equal(feed_raw(f, "v1", "[" VREQ("$vreq",
			 "@oefenkamer:localhost") "]", NULL), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox"), before + 2);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE type ="
			   " 'm.key.verification.cancel' AND content LIKE"
			   " '%\"code\":\"m.user\"%' AND content LIKE"
			   " '%\"rel_type\":\"m.reference\"%' AND content"
			   " LIKE '%\"event_id\":\"$vreq\"%' AND content"
			   " LIKE '%geen emoji%'"), 1);
	/* the cancel goes before the notice */
	assert_int_equal(q(f, "SELECT type = 'm.key.verification.cancel'"
			   " FROM outbox ORDER BY id DESC LIMIT 1 OFFSET 1"),
			 1);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content"
			   " LIKE '%m.notice%verifiëren%afgebroken%'"), 1);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content"
			   " LIKE '%cross-sign%'"), 0);
	/* the same batch again: nothing new */
	assert_int_equal(feed_raw(f, "v1", "[" VREQ("$vreq",
			 "@oefenkamer:localhost") "]", NULL), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox"), before + 2);
	/* a request to the coach, a start relating to it (the bot does not
	 * know this room is a direct chat), a to-device request (no direct
	 * chat known): nothing in the room */
	assert_int_equal(feed_raw(f, "v2", "[" VREQ("$other",
			 "@coach:localhost") ","
			 "{\"type\":\"m.key.verification.start\","
			 "\"event_id\":\"$st\",\"sender\":"
			 "\"@trainee:localhost\",\"content\":{"
			 "\"from_device\":\"DEV\",\"method\":\"m.sas.v1\","
			 "\"m.relates_to\":{\"rel_type\":\"m.reference\","
			 "\"event_id\":\"$other\"}}}]",
			 "[{\"type\":\"m.key.verification.request\","
			 "\"sender\":\"@trainee:localhost\",\"content\":{"
			 "\"transaction_id\":\"T1\",\"from_device\":"
			 "\"DEV\",\"methods\":[\"m.sas.v1\"]}}]"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox"), before + 2);
}

static struct room *oefen_room(struct fx *f)
{
	struct room *r = room_find(f->b, "!oefen:localhost");

	if (!r)
		fail_msg("no room !oefen:localhost");
	return r;
}

#define HINTS "SELECT count(*) FROM outbox WHERE content LIKE" \
	" '%Er loopt hier nu geen oefening%'"

/* Chatter outside a rehearsal: one hint per EVENT_HINT_MS per room,
 * none during a rehearsal. */
static void test_hint_rate_limit(void **state)
{
	struct fx *f = *state;
	static const char *const two[][3] = {
		{ "@trainee:localhost", "$h1", "hallo, ben je er nog?" },
		{ "@trainee:localhost", "$h2", "hallo??" },
	};
	static const char *const one[][3] = {
		{ "@trainee:localhost", "$h3", "iemand?" },
	};
	static const char *const later[][3] = {
		{ "@trainee:localhost", "$h4", "nu dan?" },
	};
	static const char *const turn[][3] = {
		{ "@trainee:localhost", "$h5", "Hoe gaat het met u?" },
	};

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	assert_int_equal(q(f, HINTS), 0);
	assert_int_equal(feed_messages(f, "s10", 2, two), 0);
	assert_int_equal(q(f, HINTS), 1);
	assert_int_equal(feed_messages(f, "s11", 1, one), 0);
	assert_int_equal(q(f, HINTS), 1);
	/* the interval passed */
	oefen_room(f)->hint_at -= EVENT_HINT_MS + 1;
	assert_int_equal(feed_messages(f, "s12", 1, later), 0);
	assert_int_equal(q(f, HINTS), 2);
	/* a hint is out of character: the bot's label, no persona */
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%\"body\":\"Oefenkamer · Er loopt hier%'"
			   " AND content LIKE '%\"formatted_body\":"
			   "\"<b>Oefenkamer</b> · Er loopt hier%'"), 2);
	/* in a rehearsal, trainee lines are turns: no hint */
	assert_int_equal(feed(f, "03-start.json"), 0);
	oefen_room(f)->hint_at -= EVENT_HINT_MS + 1;
	assert_int_equal(feed_messages(f, "s13", 1, turn), 0);
	assert_int_equal(q(f, HINTS), 2);
}

/* Every handled message is read: a command, chatter, a turn; one
 * receipt per room and batch, for the newest. */
static void test_receipts(void **state)
{
	struct fx *f = *state;
	static const char *const cmd[][3] = {
		{ "@trainee:localhost", "$r1", "!hulp" },
	};
	static const char *const mixed[][3] = {
		{ "@trainee:localhost", "$r2", "!oefeningen" },
		{ "@trainee:localhost", "$r3", "hallo" },
	};

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	assert_int_equal(f->b->nreceipts, 0);   /* no message yet */
	assert_int_equal(feed_messages(f, "s10", 1, cmd), 0);
	assert_int_equal(f->b->nreceipts, 2);
	assert_string_equal(f->b->receipts[0], "!oefen:localhost");
	assert_string_equal(f->b->receipts[1], "$r1");
	bot_answer_waiting(f->b);   /* sends them */
	assert_int_equal(f->b->nreceipts, 0);
	assert_int_equal(feed_messages(f, "s11", 2, mixed), 0);
	assert_int_equal(f->b->nreceipts, 2);
	assert_string_equal(f->b->receipts[1], "$r3");
	bot_answer_waiting(f->b);
	/* a trainee's turn in a rehearsal */
	assert_int_equal(feed(f, "03-start.json"), 0);
	bot_answer_waiting(f->b);
	assert_int_equal(feed(f, "04-trainee.json"), 0);
	assert_int_equal(f->b->nreceipts, 2);
	assert_string_equal(f->b->receipts[0], "!oefen:localhost");
	assert_string_equal(f->b->receipts[1], "$m2");
}

#define OWN_NAME(id, name) \
	"{\"type\":\"m.room.member\",\"event_id\":\"" id "\"," \
	"\"sender\":\"@oefenkamer:localhost\",\"origin_server_ts\":10," \
	"\"state_key\":\"@oefenkamer:localhost\",\"content\":{" \
	"\"membership\":\"join\",\"displayname\":\"" name "\"}," \
	"\"unsigned\":{\"prev_content\":{\"membership\":\"join\"}}}"

/* Synapse copies a new global name into every room in the background:
 * where it lands on a room with a persona, her name goes back (one
 * more send in that room); her own name and a room without a persona
 * are left alone. */
static void test_persona_name_back(void **state)
{
	struct fx *f = *state;
	static const char *const stop[][3] = {
		{ "@trainee:localhost", "$ps", "!stop" },
	};
	size_t n;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	/* no rehearsal yet: the bot's own name is right */
	n = mx_sends_pending(f->b->mx);
	assert_int_equal(feed_raw(f, "p1", "[" OWN_NAME("$n1", "Oefenkamer")
				  "]", NULL), 0);
	assert_int_equal(mx_sends_pending(f->b->mx), n);
	assert_int_equal(feed(f, "03-start.json"), 0);
	n = mx_sends_pending(f->b->mx);
	/* the persona's name arriving: nothing to do */
	assert_int_equal(feed_raw(f, "p2", "[" OWN_NAME("$n2",
				  "Sandra (moeder van Daan)") "]", NULL), 0);
	assert_int_equal(mx_sends_pending(f->b->mx), n);
	/* the global name over hers: put back */
	assert_int_equal(feed_raw(f, "p3", "[" OWN_NAME("$n3", "Oefenkamer")
				  "]", NULL), 0);
	assert_int_equal(mx_sends_pending(f->b->mx), n + 1);
	/* also after the end: her name stays the room's */
	assert_int_equal(feed_messages(f, "p35", 1, stop), 0);
	n = mx_sends_pending(f->b->mx);
	assert_int_equal(feed_raw(f, "p4", "[" OWN_NAME("$n4", "Oefenkamer")
				  "]", NULL), 0);
	assert_int_equal(mx_sends_pending(f->b->mx), n + 1);
}

/* Out of character is marked, the persona's words are not. */
static void test_notice_marker(void **state)
{
	struct fx *f = *state;

	feed(f, "01-invite.json");
	feed(f, "02-joined.json");
	assert_int_equal(feed(f, "03-start.json"), 0);
	assert_true(has(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			" '%\"m.text\"%'"));
	assert_true(has(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			" '%\"m.notice\"%'"));
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%\"m.notice\"%' AND content NOT LIKE"
			   " '%\"body\":\"Oefenkamer · %'"), 0);
	assert_int_equal(q(f, "SELECT count(*) FROM outbox WHERE content LIKE"
			   " '%\"m.text\"%' AND content LIKE"
			   " '%Oefenkamer · %'"), 0);
}

/* html's label: on the first line a client shows, never alone before a
 * block. */
static void test_mark_html(void **state)
{
	static const char *const cases[][2] = {
		{ "<h3>Einde</h3>\n<p>x</p>",
		  "<h3>" OUTBOX_MARK_HTML "Einde</h3>\n<p>x</p>" },
		{ "<p><b>Stand na beurt 4</b></p>",
		  "<p>" OUTBOX_MARK_HTML "<b>Stand na beurt 4</b></p>" },
		{ "<h4 class=\"a\">Rubriek</h4>",
		  "<h4 class=\"a\">" OUTBOX_MARK_HTML "Rubriek</h4>" },
		{ "<ul><li>a</li></ul>",
		  "<p>" OUTBOX_MARK_NAME "</p><ul><li>a</li></ul>" },
		{ "<pre>a</pre>", "<p>" OUTBOX_MARK_NAME "</p><pre>a</pre>" },
		/* inline: in front, as for a plain notice */
		{ "<b>kort</b> en klein", OUTBOX_MARK_HTML "<b>kort</b> en klein" },
		{ "<pa>x", OUTBOX_MARK_HTML "<pa>x" },
		{ "<p", OUTBOX_MARK_HTML "<p" },
		{ "gewoon", OUTBOX_MARK_HTML "gewoon" },
		{ "", OUTBOX_MARK_HTML },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf sb;

		sbuf_init(&sb);
		outbox_mark_html(&sb, cases[i][0]);
		assert_string_equal(sbuf_str(&sb), cases[i][1]);
		sbuf_release(&sb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verification_cancelled,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_invite_join_greet, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_start_and_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_opnieuw_after_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_answer_in_batch,
						setup_no_gather, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_rooms_waiting,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_leave_closes_session,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_texts_fit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_one_replay_per_room,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_coach, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gap_before_state, setup,
						teardown),
		cmocka_unit_test(test_readme_access_table),
		cmocka_unit_test(test_command_reached_once),
		cmocka_unit_test(test_help_from_table),
		cmocka_unit_test_setup_teardown(test_coach_commands, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_command_flood, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_debrief_html_and_file,
						setup, teardown),
		cmocka_unit_test(test_attach_content),
		cmocka_unit_test(test_mark_html),
		cmocka_unit_test_setup_teardown(test_hint_rate_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_receipts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_notice_marker, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_persona_name_back, setup,
						teardown),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
