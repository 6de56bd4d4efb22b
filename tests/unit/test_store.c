/* test_store.c - the transcript store: round trips, seq numbering, file
 * mode, migration, and every way a database file can be unusable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "util.h"

struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/oef-store-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/sessies.db", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	DIR *dir;
	struct dirent *e;
	char p[512];

	chmod(fx->dir, 0700);
	dir = opendir(fx->dir);
	while (dir && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", fx->dir, e->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static struct store *open_ok(const char *path)
{
	struct store *st = NULL;
	struct err err = { "" };

	if (store_open(path, &st, &err) != 0)
		fail_msg("store_open(%s): %s", path, err.msg);
	return st;
}

static int64_t new_session(struct store *st, const char *scenario,
			   int64_t started)
{
	struct store_session s = { 0 };
	struct err err = { "" };

	s.scenario = (char *)scenario;
	s.title = "Een titel";
	s.persona = "sandra";
	s.trainee = "terminal";
	s.started_ms = started;
	assert_int_equal(store_session_new(st, &s, &err), 0);
	assert_true(s.id > 0);
	return s.id;
}

static void add_turn(struct store *st, int64_t sid, const char *speaker,
		     const char *text, int beurt, int want_seq)
{
	struct store_turn t = { 0 };
	struct err err = { "" };

	t.session_id = sid;
	t.speaker = (char *)speaker;
	t.text = (char *)text;
	t.beurt = beurt;
	if (store_turn_add(st, &t, &err) != 0)
		fail_msg("store_turn_add: %s", err.msg);
	assert_int_equal(t.seq, want_seq);
	assert_true(t.id > 0);
	assert_true(t.ts_ms > 0);
}

/* Raw SQL on a file, as another program would. */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("raw sql: %s", msg ? msg : "?");
	sqlite3_close(db);
}

static int raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void raw_str_equal(const char *path, const char *sql,
			  const char *want)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), want);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void write_bytes(const char *path, const void *buf, size_t n,
			off_t at, int trunc)
{
	int fd = open(path, O_WRONLY | O_CREAT | (trunc ? O_TRUNC : 0), 0600);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, n, at), (ssize_t)n);
	close(fd);
}

static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	struct err err;

	assert_int_equal(read_file(path, 1 << 24, &buf, len, &err), 0);
	return buf;
}

/* store_open fails, names the file, says what (needle), and leaves the
 * file's bytes alone. */
static void open_refused(const char *path, const char *needle)
{
	struct store *st = (struct store *)1;
	struct err err = { "" };
	size_t n1, n2;
	char *before = slurp(path, &n1), *after;

	assert_int_equal(store_open(path, &st, &err), -1);
	assert_null(st);
	if (!strstr(err.msg, path) || !strstr(err.msg, needle))
		fail_msg("message lacks '%s' or the path: %s", needle,
			 err.msg);
	after = slurp(path, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	free(before);
	free(after);
}

static void test_new_file_mode(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct stat sb;
	char wal[160];

	add_turn(st, new_session(st, "s", 0), STORE_TRAINEE, "hoi", 1, 1);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", fx->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	store_free(st);
	assert_int_equal(raw_int(fx->path, "PRAGMA user_version"), 5);
	raw_str_equal(fx->path, "PRAGMA journal_mode", "wal");
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM sqlite_master"
				 " WHERE name = 'annotations'"), 1);
	/* a second open is a no-op migration */
	st = open_ok(fx->path);
	store_free(st);
}

static void test_loose_mode_tightened(void **state)
{
	struct fx *fx = *state;
	struct stat sb;
	int fd = open(fx->path, O_WRONLY | O_CREAT, 0644);

	assert_true(fd >= 0);
	fchmod(fd, 0644);
	close(fd);
	store_free(open_ok(fx->path));
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

/* A file of schema 3 (moments without a quote) keeps its moments and
 * gains the quote column. */
static void test_rubric_quote_migrated(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_rubric r = { 0 }, *rv;
	struct err err = { "" };
	size_t n;

	r.session_id = new_session(st, "s", 0);
	r.turn_seq = 1;
	r.point = "vertrouwen";
	r.shown = 1;
	assert_int_equal(store_rubric_add(st, &r, &err), 0);
	store_free(st);
	raw_exec(fx->path, "ALTER TABLE rubric_events DROP COLUMN doubt;"
		 "ALTER TABLE rubric_events DROP COLUMN quote;"
		 "PRAGMA user_version = 3");
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM"
				 " pragma_table_info('rubric_events')"
				 " WHERE name = 'quote'"), 0);
	st = open_ok(fx->path);
	assert_int_equal(store_rubric_get(st, r.session_id, &rv, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rv[0].point, "vertrouwen");
	assert_null(rv[0].quote);
	store_rubric_free(rv, n);
	store_free(st);
	assert_int_equal(raw_int(fx->path, "PRAGMA user_version"), 5);
}

/* A doubt (heard, not recorded) is stored beside the moments but read
 * apart: store_rubric_get never returns one. A file of schema 4 keeps
 * its moments as moments. */
static void test_rubric_doubts_apart(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_rubric r = { 0 }, d = { 0 }, *rv;
	struct err err = { "" };
	size_t n;

	r.session_id = new_session(st, "s", 0);
	r.turn_seq = 1;
	r.point = "vertrouwen";
	r.shown = 1;
	assert_int_equal(store_rubric_add(st, &r, &err), 0);
	d.session_id = r.session_id;
	d.turn_seq = 3;
	d.point = "kind-betrekken";
	d.shown = 1;
	d.doubt = 1;
	d.quote = "Wat vind jij zelf?";
	assert_int_equal(store_rubric_add(st, &d, &err), 0);
	assert_int_equal(store_rubric_get(st, r.session_id, &rv, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rv[0].point, "vertrouwen");
	assert_int_equal(rv[0].doubt, 0);
	store_rubric_free(rv, n);
	assert_int_equal(store_doubts_get(st, r.session_id, &rv, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rv[0].point, "kind-betrekken");
	assert_string_equal(rv[0].quote, "Wat vind jij zelf?");
	assert_int_equal(rv[0].turn_seq, 3);
	assert_int_equal(rv[0].doubt, 1);
	store_rubric_free(rv, n);
	store_free(st);
	/* back to schema 4: the doubt column goes, and with it the doubt
	 * (a file of 4 never had one); the moment stays a moment */
	raw_exec(fx->path, "DELETE FROM rubric_events WHERE doubt = 1;"
		 "ALTER TABLE rubric_events DROP COLUMN doubt;"
		 "PRAGMA user_version = 4");
	st = open_ok(fx->path);
	assert_int_equal(store_rubric_get(st, r.session_id, &rv, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rv[0].doubt, 0);
	store_rubric_free(rv, n);
	assert_int_equal(store_doubts_get(st, r.session_id, &rv, &n, &err), 0);
	assert_int_equal(n, 0);
	store_rubric_free(rv, n);
	store_free(st);
	assert_int_equal(raw_int(fx->path, "PRAGMA user_version"), 5);
}

static void test_empty_file_migrated(void **state)
{
	struct fx *fx = *state;
	struct store *st;

	write_bytes(fx->path, "", 0, 0, 1);
	st = open_ok(fx->path);
	assert_int_equal(new_session(st, "s", 5), 1);
	store_free(st);
	assert_int_equal(raw_int(fx->path, "PRAGMA user_version"), 5);
	raw_str_equal(fx->path, "PRAGMA journal_mode", "wal");
	raw_str_equal(fx->path, "PRAGMA integrity_check", "ok");
}

static void test_session_round_trip(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_session s = { 0 }, got;
	struct err err = { "" };

	s.scenario = "moeder-brief";
	s.title = "De brief over de natte broek";
	s.persona = "sandra";
	s.seed = UINT64_C(0x8000000000000005);
	s.trainee = "@jan:example.org";
	s.room = "!kamer:example.org";
	assert_int_equal(store_session_new(st, &s, &err), 0);
	assert_true(s.started_ms > 0);

	assert_int_equal(store_session_get(st, s.id, &got, &err), 0);
	assert_int_equal(got.id, s.id);
	assert_string_equal(got.scenario, "moeder-brief");
	assert_string_equal(got.title, "De brief over de natte broek");
	assert_string_equal(got.persona, "sandra");
	assert_true(got.seed == UINT64_C(0x8000000000000005));
	assert_string_equal(got.trainee, "@jan:example.org");
	assert_string_equal(got.room, "!kamer:example.org");
	assert_int_equal(got.started_ms, s.started_ms);
	assert_int_equal(got.ended_ms, 0);
	assert_null(got.ending);
	assert_null(got.ending_kind);
	assert_null(got.state);
	assert_int_equal(got.nturns, 0);
	store_session_release(&got);

	assert_int_equal(store_session_set_state(st, s.id, "{\"fase\":2}",
						 &err), 0);
	assert_int_equal(store_session_end(st, s.id, "sandra-gaat-akkoord",
					   "goed", &err), 0);
	add_turn(st, s.id, STORE_PERSONA, "Dag.", 0, 1);
	assert_int_equal(store_session_get(st, s.id, &got, &err), 0);
	assert_string_equal(got.state, "{\"fase\":2}");
	assert_string_equal(got.ending, "sandra-gaat-akkoord");
	assert_string_equal(got.ending_kind, "goed");
	assert_true(got.ended_ms >= got.started_ms);
	assert_int_equal(got.nturns, 1);
	store_session_release(&got);

	/* state can be cleared, unknown ids and kinds are errors */
	assert_int_equal(store_session_set_state(st, s.id, NULL, &err), 0);
	assert_int_equal(store_session_set_state(st, 999, "x", &err), -1);
	assert_non_null(strstr(err.msg, "999"));
	assert_int_equal(store_session_end(st, 999, "e", "goed", &err), -1);
	assert_int_equal(store_session_end(st, s.id, "e", "prima", &err), -1);
	/* stopping without an ending: "" is no kind */
	assert_int_equal(store_session_end(st, s.id, "gestopt", "", &err), 0);
	assert_int_equal(store_session_get(st, s.id, &got, &err), 0);
	assert_string_equal(got.ending, "gestopt");
	assert_null(got.ending_kind);
	store_session_release(&got);
	assert_int_equal(store_session_get(st, 999, &got, &err), 1);
	assert_null(got.scenario);
	store_free(st);
}

static void test_sessions_list(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_session *v;
	size_t n;
	struct err err;
	int64_t a = new_session(st, "a", 1000);
	int64_t b = new_session(st, "b", 3000);
	int64_t c = new_session(st, "c", 2000);

	add_turn(st, c, STORE_TRAINEE, "een", 1, 1);
	add_turn(st, c, STORE_PERSONA, "twee", 1, 2);
	assert_int_equal(store_sessions_list(st, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].id, b);
	assert_int_equal(v[1].id, c);
	assert_int_equal(v[2].id, a);
	assert_string_equal(v[1].scenario, "c");
	assert_int_equal(v[1].nturns, 2);
	assert_int_equal(v[0].nturns, 0);
	store_sessions_free(v, n);
	store_free(st);

	/* an empty store lists nothing */
	unlink(fx->path);
	st = open_ok(fx->path);
	assert_int_equal(store_sessions_list(st, &v, &n, &err), 0);
	assert_int_equal(n, 0);
	store_sessions_free(v, n);
	store_free(st);
}

static void test_turns_seq(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	int64_t a = new_session(st, "a", 0), b = new_session(st, "b", 0);
	struct store_turn t = { 0 }, *v;
	struct err err = { "" };
	size_t n;

	add_turn(st, a, STORE_NOTICE, "Welkom", 0, 1);
	add_turn(st, b, STORE_PERSONA, "Hallo", 0, 1);
	add_turn(st, a, STORE_PERSONA, "Goedemiddag.", 0, 2);
	add_turn(st, b, STORE_TRAINEE, "Dag", 1, 2);

	t.session_id = a;
	t.beurt = 1;
	t.speaker = STORE_TRAINEE;
	t.author = "@jan:example.org";
	t.text = "Hoe gaat het met u?\nEn de kinderen?";
	t.ts_ms = 1234567;
	t.node = "de-brief";
	t.rules_json = "[\"vraagt-hoe\"]";
	t.vars_json = "{\"vertrouwen\":4,\"spanning\":5}";
	assert_int_equal(store_turn_add(st, &t, &err), 0);
	assert_int_equal(t.seq, 3);
	assert_int_equal(t.ts_ms, 1234567);

	/* the engine's view is recorded after the text */
	add_turn(st, b, STORE_TRAINEE, "Wat is een OTS?", 2, 3);
	assert_int_equal(store_turns_get(st, b, &v, &n, &err), 0);
	assert_int_equal(store_turn_set_eval(st, v[2].id, "binnenkomst",
					     "[\"jargon\"]",
					     "{\"spanning\":6}", &err), 0);
	store_turns_free(v, n);
	assert_int_equal(store_turns_get(st, b, &v, &n, &err), 0);
	assert_string_equal(v[2].node, "binnenkomst");
	assert_string_equal(v[2].rules_json, "[\"jargon\"]");
	assert_string_equal(v[2].vars_json, "{\"spanning\":6}");
	assert_null(v[1].vars_json);
	store_turns_free(v, n);
	assert_int_equal(store_turn_set_eval(st, 9999, NULL, NULL, NULL, &err),
			 -1);
	assert_non_null(strstr(err.msg, "9999"));

	assert_int_equal(store_turns_get(st, a, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(v[i].seq, (int)i + 1);
		assert_int_equal(v[i].session_id, a);
	}
	assert_string_equal(v[0].speaker, STORE_NOTICE);
	assert_null(v[0].author);
	assert_null(v[0].rules_json);
	assert_null(v[0].vars_json);
	assert_null(v[0].node);
	assert_int_equal(v[2].id, t.id);
	assert_int_equal(v[2].beurt, 1);
	assert_string_equal(v[2].author, "@jan:example.org");
	assert_string_equal(v[2].text, "Hoe gaat het met u?\nEn de kinderen?");
	assert_int_equal(v[2].ts_ms, 1234567);
	assert_string_equal(v[2].node, "de-brief");
	assert_string_equal(v[2].rules_json, "[\"vraagt-hoe\"]");
	assert_string_equal(v[2].vars_json,
			    "{\"vertrouwen\":4,\"spanning\":5}");
	store_turns_free(v, n);

	/* bad input: unknown speaker, no text, no such session */
	t.speaker = "iemand";
	assert_int_equal(store_turn_add(st, &t, &err), -1);
	t.speaker = STORE_TRAINEE;
	t.text = NULL;
	assert_int_equal(store_turn_add(st, &t, &err), -1);
	t.text = "x";
	t.session_id = 4242;
	err.msg[0] = '\0';
	assert_int_equal(store_turn_add(st, &t, &err), -1);
	assert_non_null(strstr(err.msg, "sessie bestaat niet"));

	assert_int_equal(store_turns_get(st, 4242, &v, &n, &err), 0);
	assert_int_equal(n, 0);
	store_turns_free(v, n);
	store_free(st);
}

/* The seqs of store_turns_pending(sid), as "1,2,3"; with after >= 0,
 * of store_turns_after(sid, after). */
static void turns_seqs(struct store *st, int64_t sid, int after, char *out,
		       size_t n)
{
	struct store_turn *v;
	struct err err = { "" };
	size_t k, len = 0;

	if (after >= 0)
		assert_int_equal(store_turns_after(st, sid, after, &v, &k,
						   &err), 0);
	else
		assert_int_equal(store_turns_pending(st, sid, &v, &k, &err),
				 0);
	out[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		assert_int_equal(v[i].session_id, sid);
		len += (size_t)snprintf(out + len, n - len, "%s%d",
					i ? "," : "", v[i].seq);
	}
	store_turns_free(v, k);
}

/* store_turns_pending(sid), checked against store_turns_after with the
 * seq of the last answered trainee turn, which a session keeps. */
#define pending_seqs(st, sid, answered, out, n) do { \
		char after_[64]; \
		turns_seqs(st, sid, -1, out, n); \
		turns_seqs(st, sid, answered, after_, sizeof(after_)); \
		assert_string_equal(after_, out); \
	} while (0)

/* What waits for an answer: the turns after the last trainee turn the
 * engine answered (node set), persona lines included; all of them
 * before the first answer; nothing of another session. */
static void test_turns_pending(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	int64_t a = new_session(st, "a", 0), b = new_session(st, "b", 0);
	struct err err = { "" };
	struct store_turn *v;
	size_t n;
	char got[64];

	add_turn(st, a, STORE_PERSONA, "Goedemiddag.", 0, 1);
	add_turn(st, a, STORE_TRAINEE, "Dag mevrouw", 1, 2);
	add_turn(st, b, STORE_TRAINEE, "Hallo", 1, 1);
	pending_seqs(st, a, 0, got, sizeof(got));
	assert_string_equal(got, "1,2");
	pending_seqs(st, b, 0, got, sizeof(got));
	assert_string_equal(got, "1");

	/* turn 2 answered; the answer and two new trainee turns wait */
	assert_int_equal(store_turns_get(st, a, &v, &n, &err), 0);
	assert_int_equal(store_turn_set_eval(st, v[1].id, "binnenkomst",
					     "[]", "{}", &err), 0);
	store_turns_free(v, n);
	add_turn(st, a, STORE_PERSONA, "Wat komt u doen?", 1, 3);
	add_turn(st, a, STORE_TRAINEE, "Ik kom kennismaken", 2, 4);
	add_turn(st, a, STORE_TRAINEE, "En naar u luisteren", 2, 5);
	pending_seqs(st, a, 2, got, sizeof(got));
	assert_string_equal(got, "3,4,5");

	/* a persona turn with a node is no answer to wait after; the last
	 * answered trainee turn counts, not an earlier one */
	assert_int_equal(store_turns_get(st, a, &v, &n, &err), 0);
	assert_int_equal(store_turn_set_eval(st, v[2].id, "binnenkomst",
					     NULL, NULL, &err), 0);
	assert_int_equal(store_turn_set_eval(st, v[4].id, "zorg", "[]", "{}",
					     &err), 0);
	store_turns_free(v, n);
	pending_seqs(st, a, 5, got, sizeof(got));
	assert_string_equal(got, "");
	add_turn(st, a, STORE_PERSONA, "Ja?", 2, 6);
	assert_int_equal(store_turns_get(st, a, &v, &n, &err), 0);
	assert_int_equal(store_turn_set_eval(st, v[5].id, "zorg", NULL, NULL,
					     &err), 0);
	store_turns_free(v, n);
	pending_seqs(st, a, 5, got, sizeof(got));
	assert_string_equal(got, "6");
	pending_seqs(st, b, 0, got, sizeof(got));
	assert_string_equal(got, "1");
	store_free(st);
}

/* A persona line's event id, learnt when it comes back: set once on
 * its turn, found by it afterwards; a second id for the same turn, or
 * the same id for another turn, is ignored. */
static void test_turn_set_event(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	int64_t a = new_session(st, "a", 0);
	struct err err = { "" };
	int64_t sid = 0;
	int seq = 0;

	add_turn(st, a, STORE_PERSONA, "Goedemiddag.", 0, 1);
	add_turn(st, a, STORE_PERSONA, "Komt u binnen.", 0, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(store_turn_set_event(st, a, 2, "$twee", &err),
				 0);
		assert_int_equal(store_turn_by_event(st, "$twee", &sid, &seq,
						     &err), 0);
		assert_int_equal(sid, a);
		assert_int_equal(seq, 2);
	}
	assert_int_equal(store_turn_set_event(st, a, 2, "$anders", &err), 0);
	assert_int_equal(store_turn_by_event(st, "$anders", NULL, NULL, &err),
			 1);
	assert_int_equal(store_turn_set_event(st, a, 1, "$twee", &err), 0);
	assert_int_equal(store_turn_by_event(st, "$twee", &sid, &seq, &err),
			 0);
	assert_int_equal(seq, 2);
	assert_int_equal(store_turn_set_event(st, a, 1, "$een", &err), 0);
	assert_int_equal(store_turn_by_event(st, "$een", &sid, &seq, &err), 0);
	assert_int_equal(seq, 1);
	store_free(st);
}

static void test_transactions(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_session s;
	struct err err;
	int64_t id = new_session(st, "a", 0);

	assert_int_equal(store_begin(st, &err), 0);
	add_turn(st, id, STORE_TRAINEE, "een", 1, 1);
	add_turn(st, id, STORE_PERSONA, "twee", 1, 2);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(store_commit(st, &err), -1);

	/* nested: the inner begin is a savepoint that can be undone alone */
	assert_int_equal(store_begin(st, &err), 0);
	add_turn(st, id, STORE_TRAINEE, "buiten", 1, 1);
	assert_int_equal(store_begin(st, &err), 0);
	add_turn(st, id, STORE_PERSONA, "binnen", 1, 2);
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(store_begin(st, &err), 0);
	add_turn(st, id, STORE_PERSONA, "binnen2", 1, 2);
	assert_int_equal(store_commit(st, &err), 0);
	/* the outer rollback undoes the committed savepoint too */
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(store_commit(st, &err), -1);

	assert_int_equal(store_begin(st, &err), 0);
	add_turn(st, id, STORE_TRAINEE, "een", 1, 1);
	add_turn(st, id, STORE_PERSONA, "twee", 1, 2);
	assert_int_equal(store_commit(st, &err), 0);
	store_free(st);

	st = open_ok(fx->path);
	assert_int_equal(store_session_get(st, id, &s, &err), 0);
	assert_int_equal(s.nturns, 2);
	store_session_release(&s);

	/* an open transaction at close is rolled back, not committed */
	assert_int_equal(store_begin(st, &err), 0);
	add_turn(st, id, STORE_TRAINEE, "drie", 2, 3);
	store_free(st);
	st = open_ok(fx->path);
	assert_int_equal(store_session_get(st, id, &s, &err), 0);
	assert_int_equal(s.nturns, 2);
	store_session_release(&s);
	store_free(st);
}

static void test_rubric_and_annotations(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	int64_t id = new_session(st, "a", 0), other = new_session(st, "b", 0);
	struct store_rubric r = { 0 }, *rv;
	struct store_annotation a = { 0 }, *av;
	struct err err = { "" };
	size_t n;

	r.session_id = id;
	r.turn_seq = 4;
	r.point = "begrip-taal";
	r.shown = 0;
	r.reason = "afkorting zonder uitleg";
	r.quote = "Er is een OTS aangevraagd.";
	assert_int_equal(store_rubric_add(st, &r, &err), 0);
	assert_true(r.id > 0);
	r.turn_seq = 2;
	r.point = "vertrouwen";
	r.shown = 7;  /* any true value is stored as 1 */
	r.reason = NULL;
	r.quote = NULL;
	assert_int_equal(store_rubric_add(st, &r, &err), 0);
	r.session_id = other;
	assert_int_equal(store_rubric_add(st, &r, &err), 0);
	r.point = NULL;
	assert_int_equal(store_rubric_add(st, &r, &err), -1);

	assert_int_equal(store_rubric_get(st, id, &rv, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rv[0].turn_seq, 2);
	assert_string_equal(rv[0].point, "vertrouwen");
	assert_int_equal(rv[0].shown, 1);
	assert_null(rv[0].reason);
	assert_null(rv[0].quote);
	assert_string_equal(rv[1].quote, "Er is een OTS aangevraagd.");
	assert_int_equal(rv[1].turn_seq, 4);
	assert_string_equal(rv[1].point, "begrip-taal");
	assert_int_equal(rv[1].shown, 0);
	assert_string_equal(rv[1].reason, "afkorting zonder uitleg");
	assert_int_equal(rv[1].session_id, id);
	store_rubric_free(rv, n);

	a.session_id = id;
	a.turn_seq = 3;
	a.author = "@coach:example.org";
	a.kind = "tip";
	a.text = "Vraag eerst hoe de brief is aangekomen.";
	assert_int_equal(store_annotation_add(st, &a, &err), 0);
	assert_true(a.id > 0 && a.ts_ms > 0);
	a.turn_seq = 1;
	a.author = NULL;
	a.kind = NULL;
	a.ts_ms = 99;
	a.text = "eerste";
	assert_int_equal(store_annotation_add(st, &a, &err), 0);
	a.text = NULL;
	assert_int_equal(store_annotation_add(st, &a, &err), -1);
	assert_int_equal(store_annotations_get(st, id, &av, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(av[0].turn_seq, 1);
	assert_string_equal(av[0].kind, "note");
	assert_null(av[0].author);
	assert_int_equal(av[0].ts_ms, 99);
	assert_string_equal(av[1].kind, "tip");
	assert_string_equal(av[1].author, "@coach:example.org");
	assert_string_equal(av[1].text,
			    "Vraag eerst hoe de brief is aangekomen.");
	store_annotations_free(av, n);
	assert_int_equal(store_annotations_get(st, other, &av, &n, &err), 0);
	assert_int_equal(n, 0);
	store_annotations_free(av, n);
	store_free(st);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *fx = *state;

	store_free(open_ok(fx->path));
	raw_exec(fx->path, "PRAGMA user_version = 99");
	open_refused(fx->path, "nieuwere Oefenkamer");
}

static void test_not_a_database(void **state)
{
	struct fx *fx = *state;
	char junk[3000];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 13);
	write_bytes(fx->path, junk, sizeof(junk), 0, 1);
	open_refused(fx->path, "geen database");
}

static void test_corrupt_database(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	char junk[3900];

	new_session(st, "a", 0);
	store_free(st);
	/* keep the 100-byte header, destroy the schema page behind it */
	memset(junk, 0xa5, sizeof(junk));
	write_bytes(fx->path, junk, sizeof(junk), 100, 0);
	open_refused(fx->path, "beschadigd");
}

static void test_foreign_database_refused(void **state)
{
	struct fx *fx = *state;

	struct stat sb;

	raw_exec(fx->path, "CREATE TABLE boodschappen (wat TEXT);"
		 "INSERT INTO boodschappen VALUES ('melk')");
	assert_int_equal(chmod(fx->path, 0644), 0);
	open_refused(fx->path, "ander programma");
	/* not ours: not even its mode is touched */
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	assert_int_equal(raw_int(fx->path,
				 "SELECT count(*) FROM boodschappen"), 1);
	raw_exec(fx->path, "PRAGMA application_id = 1234");
	open_refused(fx->path, "ander programma");
}

static void test_v1_fixture(void **state)
{
	struct fx *fx = *state;
	const char *root = getenv("OEF_ROOT");
	char path[512];
	char *sql;
	size_t len;
	struct store *st;
	struct store_session s;
	struct store_turn *v;
	size_t n;
	struct err err;

	snprintf(path, sizeof(path), "%s/tests/data/store/v1.sql",
		 root ? root : ".");
	assert_int_equal(read_file(path, 1 << 20, &sql, &len, &err), 0);
	raw_exec(fx->path, sql);
	free(sql);
	st = open_ok(fx->path);
	assert_int_equal(store_session_get(st, 1, &s, &err), 0);
	assert_string_equal(s.scenario, "moeder-brief");
	assert_string_equal(s.ending_kind, "breuk");
	assert_int_equal(s.nturns, 3);
	store_session_release(&s);
	/* numbering continues after the stored turns */
	add_turn(st, 1, STORE_NOTICE, "Het gesprek is afgelopen.", 2, 4);
	assert_int_equal(store_turns_get(st, 1, &v, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[1].text, "Wat is een OTS?");
	store_turns_free(v, n);
	store_free(st);
}

static void test_locked(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_turn t = { 0 };
	struct err err = { "" };
	sqlite3 *other = NULL;
	int64_t id = new_session(st, "a", 0);

	assert_int_equal(store_set_busy_timeout(st, 50), 0);
	assert_int_equal(sqlite3_open(fx->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE; INSERT INTO "
				      "sessions (scenario, started_ms) "
				      "VALUES ('x', 1)", NULL, NULL, NULL),
			 SQLITE_OK);
	t.session_id = id;
	t.speaker = STORE_TRAINEE;
	t.text = "hallo?";
	assert_int_equal(store_turn_add(st, &t, &err), -1);
	assert_non_null(strstr(err.msg, "in gebruik"));
	assert_non_null(strstr(err.msg, fx->path));
	assert_int_equal(store_begin(st, &err), -1);
	assert_non_null(strstr(err.msg, "in gebruik"));
	/* reading still works in WAL mode */
	{
		struct store_session s;

		assert_int_equal(store_session_get(st, id, &s, &err), 0);
		store_session_release(&s);
	}
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(other);
	/* the same cached statement works again once the lock is gone */
	add_turn(st, id, STORE_TRAINEE, "hallo?", 1, 1);
	store_free(st);
}

/* Our database switched back to rollback mode and held EXCLUSIVE by
 * another program: even opening must wait, then fail with the message
 * (this takes the default 5 s busy timeout). */
static void test_locked_at_open(void **state)
{
	struct fx *fx = *state;
	struct store *st = (struct store *)1;
	struct err err = { "" };
	sqlite3 *other = NULL;

	store_free(open_ok(fx->path));
	raw_exec(fx->path, "PRAGMA journal_mode = DELETE");
	assert_int_equal(sqlite3_open(fx->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE;"
				      "INSERT INTO sessions (scenario,"
				      " started_ms) VALUES ('x', 1)",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_open(fx->path, &st, &err), -1);
	assert_null(st);
	assert_non_null(strstr(err.msg, "in gebruik"));
	assert_non_null(strstr(err.msg, fx->path));
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
}

static void test_unwritable_places(void **state)
{
	struct fx *fx = *state;
	struct store *st = (struct store *)1;
	struct err err = { "" };
	char path[200];

	/* a directory that does not exist */
	snprintf(path, sizeof(path), "%s/nergens/sessies.db", fx->dir);
	assert_int_equal(store_open(path, &st, &err), -1);
	assert_null(st);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "map bestaat niet"));
	/* a directory given as the database */
	assert_int_equal(store_open(fx->dir, &st, &err), -1);
	assert_non_null(strstr(err.msg, "map"));
	/* a file system nobody may write to, not even root */
	assert_int_equal(store_open("/proc/self/oefenkamer.db", &st, &err),
			 -1);
	assert_non_null(strstr(err.msg, "/proc/self/oefenkamer.db"));
	assert_int_equal(store_open("", &st, &err), -1);
}

/* Needs a user that permissions apply to: skipped when run as root. */
static void test_readonly_directory(void **state)
{
	struct fx *fx = *state;
	struct store *st = (struct store *)1;
	struct err err = { "" };
	char sub[160], path[200];

	snprintf(sub, sizeof(sub), "%s/alleen-lezen", fx->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/sessies.db", sub);
	st = open_ok(path);
	store_free(st);
	assert_int_equal(chmod(sub, 0500), 0);
	if (access(sub, W_OK) == 0) {
		chmod(sub, 0700);
		unlink(path);
		rmdir(sub);
		skip();
	}
	assert_int_equal(store_open(path, &st, &err), -1);
	assert_non_null(strstr(err.msg, "schrijfbaar"));
	snprintf(path, sizeof(path), "%s/nieuw.db", sub);
	assert_int_equal(store_open(path, &st, &err), -1);
	assert_non_null(strstr(err.msg, "schrijfbaar"));
	chmod(sub, 0700);
	snprintf(path, sizeof(path), "%s/sessies.db", sub);
	unlink(path);
	rmdir(sub);
}

static void test_memory(void **state)
{
	struct store *st = open_ok(":memory:");
	int64_t id = new_session(st, "a", 0);

	add_turn(st, id, STORE_TRAINEE, "een", 1, 1);
	add_turn(st, id, STORE_PERSONA, "twee", 1, 2);
	store_free(st);
	store_free(NULL);
}

static void test_bot_bookkeeping(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_outbox o = { 0 }, *ov;
	struct store_room r = { 0 }, *rv;
	struct store_turn t = { 0 };
	struct err err = { "" };
	int64_t sid = new_session(st, "a", 0), got_sid = 0;
	char *val;
	size_t n;
	int seq = 0;

	/* meta: set, overwrite, read, delete */
	assert_int_equal(store_meta_get(st, "sync_token", &val, &err), 1);
	assert_null(val);
	assert_int_equal(store_meta_set(st, "sync_token", "s1", &err), 0);
	assert_int_equal(store_meta_set(st, "sync_token", "s2", &err), 0);
	assert_int_equal(store_meta_get(st, "sync_token", &val, &err), 0);
	assert_string_equal(val, "s2");
	free(val);
	assert_int_equal(store_meta_set(st, "sync_token", NULL, &err), 0);
	assert_int_equal(store_meta_get(st, "sync_token", &val, &err), 1);

	/* outbox: a replayed txn is ignored, order is kept */
	o.room = "!r:x";
	o.txn = "t1";
	o.type = "m.room.message";
	o.content = "{\"body\":\"een\"}";
	o.typing_ms = 1200;
	assert_int_equal(store_outbox_add(st, &o, &err), 0);
	assert_true(o.id > 0);
	o.content = "{\"body\":\"anders\"}";
	assert_int_equal(store_outbox_add(st, &o, &err), 0);
	assert_int_equal(o.id, 0);
	o.txn = "t2";
	assert_int_equal(store_outbox_add(st, &o, &err), 0);
	assert_int_equal(store_outbox_list(st, 0, &ov, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ov[0].txn, "t1");
	assert_string_equal(ov[0].content, "{\"body\":\"een\"}");
	assert_int_equal(ov[0].typing_ms, 1200);
	assert_int_equal(store_outbox_done(st, ov[0].id, &err), 0);
	store_outbox_free(ov, n);
	assert_int_equal(store_outbox_list(st, 0, &ov, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ov[0].txn, "t2");
	store_outbox_free(ov, n);

	/* rooms: upsert and delete */
	r.room = "!r:x";
	r.inviter = "@a:x";
	r.joined_ms = 5;
	assert_int_equal(store_room_set(st, &r, &err), 0);
	r.session_id = sid;
	assert_int_equal(store_room_set(st, &r, &err), 0);
	assert_int_equal(store_rooms_list(st, &rv, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rv[0].session_id, sid);
	assert_string_equal(rv[0].inviter, "@a:x");
	store_rooms_free(rv, n);
	assert_int_equal(store_room_delete(st, "!r:x", &err), 0);
	assert_int_equal(store_rooms_list(st, &rv, &n, &err), 0);
	assert_int_equal(n, 0);
	store_rooms_free(rv, n);

	/* turns remember their event, once */
	t.session_id = sid;
	t.speaker = STORE_TRAINEE;
	t.text = "hoi";
	t.event_id = "$e1";
	assert_int_equal(store_turn_add(st, &t, &err), 0);
	assert_int_equal(store_turn_by_event(st, "$e1", &got_sid, &seq, &err),
			 0);
	assert_int_equal(got_sid, sid);
	assert_int_equal(seq, t.seq);
	assert_int_equal(store_turn_by_event(st, "$e2", NULL, NULL, &err), 1);
	assert_int_equal(store_turn_add(st, &t, &err), -1);
	store_free(st);
}

static void test_crypto_records(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_crypto c = { "olm", "curveA", "s1", NULL, "p1", 10 };
	struct store_crypto m = { "olm", "curveA", NULL, NULL, NULL, 0 };
	struct store_crypto *v;
	struct err err;
	char *val;
	int64_t n;
	size_t len;

	assert_int_equal(store_crypto_put(st, &c, &err), 0);
	c.k2 = "s2";
	c.value = "p2";
	c.n = 20;
	assert_int_equal(store_crypto_put(st, &c, &err), 0);
	c.k1 = "curveB";
	assert_int_equal(store_crypto_put(st, &c, &err), 0);
	/* replace keeps one record per key */
	c.k1 = "curveA";
	c.value = "p2b";
	assert_int_equal(store_crypto_put(st, &c, &err), 0);

	/* NULL matches any: newest (highest n) first */
	assert_int_equal(store_crypto_list(st, &m, &v, &len, &err), 0);
	assert_int_equal(len, 2);
	assert_string_equal(v[0].k2, "s2");
	assert_string_equal(v[0].value, "p2b");
	assert_string_equal(v[0].k3, "");
	assert_int_equal(v[0].n, 20);
	assert_string_equal(v[1].value, "p1");
	store_crypto_free(v, len);

	/* get: NULL keys mean "" */
	c.k2 = "s1";
	assert_int_equal(store_crypto_get(st, &c, &val, &n, &err), 0);
	assert_string_equal(val, "p1");
	assert_int_equal(n, 10);
	free(val);
	c.k2 = NULL;
	assert_int_equal(store_crypto_get(st, &c, &val, NULL, &err), 1);
	assert_null(val);

	/* survives reopening; delete by prefix */
	store_free(st);
	st = open_ok(fx->path);
	assert_int_equal(store_crypto_delete(st, &m, &err), 0);
	assert_int_equal(store_crypto_list(st, &m, &v, &len, &err), 0);
	assert_int_equal(len, 0);
	store_crypto_free(v, len);
	m.k1 = "curveB";
	assert_int_equal(store_crypto_list(st, &m, &v, &len, &err), 0);
	assert_int_equal(len, 1);
	store_crypto_free(v, len);
	store_free(st);
}

/* The newest session of a room, whether it is open or ended. */
static void test_session_latest(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_session s = { 0 }, got;
	struct err err = { "" };
	int64_t first;

	assert_int_equal(store_session_latest(st, "!a:x", &got, &err), 1);
	assert_null(got.scenario);
	s.scenario = "moeder-brief";
	s.title = "t";
	s.persona = "sandra";
	s.trainee = "@jan:x";
	s.room = "!a:x";
	assert_int_equal(store_session_new(st, &s, &err), 0);
	first = s.id;
	assert_int_equal(store_session_end(st, first, "gestopt", NULL, &err),
			 0);
	/* another room's newer session does not count */
	s.room = "!b:x";
	s.trainee = "@piet:x";
	assert_int_equal(store_session_new(st, &s, &err), 0);
	assert_int_equal(store_session_latest(st, "!a:x", &got, &err), 0);
	assert_int_equal(got.id, first);
	assert_string_equal(got.trainee, "@jan:x");
	assert_true(got.ended_ms > 0);
	store_session_release(&got);
	/* a newer one in the same room wins, open or not */
	s.room = "!a:x";
	s.trainee = "@kees:x";
	assert_int_equal(store_session_new(st, &s, &err), 0);
	assert_int_equal(store_session_latest(st, "!a:x", &got, &err), 0);
	assert_int_equal(got.id, s.id);
	assert_string_equal(got.trainee, "@kees:x");
	assert_int_equal(got.ended_ms, 0);
	store_session_release(&got);
	assert_int_equal(store_session_latest(st, "!c:x", &got, &err), 1);
	store_free(st);
}

/* Expiry lists and deletes the records of one kind below a time. */
static void test_crypto_older(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_crypto c = { "seen", "sk", "s1", "5", "$e5", 300 };
	struct store_crypto m = { "seen", NULL, NULL, NULL, NULL, 0 };
	struct store_crypto *v;
	struct err err;
	size_t len;

	assert_int_equal(store_crypto_put(st, &c, &err), 0);
	c.k3 = "2";
	c.value = "$e2";
	c.n = 100;
	assert_int_equal(store_crypto_put(st, &c, &err), 0);
	c.k3 = "9";
	c.value = "$e9";
	c.n = 900;
	assert_int_equal(store_crypto_put(st, &c, &err), 0);
	/* another kind with an old n is not touched */
	c.kind = "wait";
	c.n = 1;
	assert_int_equal(store_crypto_put(st, &c, &err), 0);

	assert_int_equal(store_crypto_older(st, "seen", 500, &v, &len, &err),
			 0);
	assert_int_equal(len, 2);
	assert_string_equal(v[0].k3, "2");     /* oldest first */
	assert_string_equal(v[0].value, "$e2");
	assert_int_equal(v[0].n, 100);
	assert_string_equal(v[1].k3, "5");
	store_crypto_free(v, len);
	assert_int_equal(store_crypto_older(st, "seen", 100, &v, &len, &err),
			 0);
	assert_int_equal(len, 0);
	store_crypto_free(v, len);

	assert_int_equal(store_crypto_delete_older(st, "seen", 500, &err), 0);
	assert_int_equal(store_crypto_list(st, &m, &v, &len, &err), 0);
	assert_int_equal(len, 1);
	assert_string_equal(v[0].k3, "9");
	store_crypto_free(v, len);
	m.kind = "wait";
	assert_int_equal(store_crypto_list(st, &m, &v, &len, &err), 0);
	assert_int_equal(len, 1);
	store_crypto_free(v, len);
	store_free(st);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_new_file_mode),
		T(test_loose_mode_tightened),
		T(test_empty_file_migrated),
		T(test_rubric_quote_migrated),
		T(test_rubric_doubts_apart),
		T(test_session_round_trip),
		T(test_sessions_list),
		T(test_turns_seq),
		T(test_turns_pending),
		T(test_turn_set_event),
		T(test_transactions),
		T(test_rubric_and_annotations),
		T(test_newer_schema_refused),
		T(test_not_a_database),
		T(test_corrupt_database),
		T(test_foreign_database_refused),
		T(test_v1_fixture),
		T(test_locked),
		T(test_locked_at_open),
		T(test_unwritable_places),
		T(test_readonly_directory),
		T(test_memory),
		T(test_bot_bookkeeping),
		T(test_crypto_records),
		T(test_session_latest),
		T(test_crypto_older),
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
