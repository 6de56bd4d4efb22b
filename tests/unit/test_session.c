/* test_session.c - session.h's write-order promise.
 *
 * The promise: the trainee's message is committed before the engine
 * runs; the persona's answer (lines, rubric moments, engine state, the
 * ending) is committed in one transaction before the caller may show it.
 *
 * What is committed is read back through a second, raw SQLite connection
 * (it sees nothing uncommitted). Failures are injected with triggers
 * from that connection (RAISE(ABORT) on one kind of insert), so each
 * step of the order can be made to fail on its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "scenario_small.h"
#include "session.h"
#include "util.h"

struct fx {
	char dir[64];
	char path[96];
	struct script *s;
	struct store *st;
	sqlite3 *raw;        /* the second connection: reads and triggers */
	struct session *ss;
	struct match m;
	struct engine_out out;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct diag d;
	struct err err;
	struct sbuf text;

	xsnprintf(f->dir, sizeof(f->dir), "/tmp/oef-test-session-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	xsnprintf(f->path, sizeof(f->path), "%s/s.db", f->dir);
	diag_init(&d);
	sbuf_init(&text);
	scenario_small(&text, "t", 1, "p");
	if (script_load_text("t.oef", text.buf, text.len, &f->s, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
		diag_release(&d);
		return -1;
	}
	sbuf_release(&text);
	diag_release(&d);
	if (store_open(f->path, &f->st, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	if (sqlite3_open(f->path, &f->raw) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(f->raw, 5000);
	match_init(&f->m);
	engine_out_init(&f->out);
	if (session_begin(f->st, f->s, 7, "@t:localhost", "!r:localhost",
			  &f->ss, &f->out, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[128];

	session_free(f->ss);
	engine_out_release(&f->out);
	match_release(&f->m);
	sqlite3_close(f->raw);
	store_free(f->st);
	script_free(f->s);
	for (size_t i = 0; i < 4; i++) {
		static const char *const side[] = { "", "-wal", "-shm",
						    "-journal" };

		xsnprintf(p, sizeof(p), "%s%s", f->path, side[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void raw_exec(struct fx *f, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(f->raw, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
}

/* One integer from the committed data: the first column of the first
 * row of sql, with ?1 bound to the session id. */
static int64_t raw_int(struct fx *f, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(f->raw, sql, -1, &q, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(q, 1, session_id(f->ss));
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* The committed engine state of the session; caller frees. */
static char *raw_state(struct fx *f)
{
	sqlite3_stmt *q = NULL;
	char *v = NULL;

	assert_int_equal(sqlite3_prepare_v2(f->raw, "SELECT state FROM "
					    "sessions WHERE id = ?1", -1, &q,
					    NULL), SQLITE_OK);
	sqlite3_bind_int64(q, 1, session_id(f->ss));
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		v = xstrdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return v;
}

static int64_t count_speaker(struct fx *f, const char *speaker)
{
	if (strcmp(speaker, STORE_PERSONA) == 0)
		return raw_int(f, "SELECT count(*) FROM turns WHERE "
			       "session_id = ?1 AND speaker = 'persona'");
	return raw_int(f, "SELECT count(*) FROM turns WHERE session_id = ?1"
		       " AND speaker = 'trainee'");
}

static int say(struct fx *f, const char *text)
{
	struct err err;

	return session_message(f->ss, &f->m, text, strlen(text),
			       "@t:localhost", &f->out, &err);
}

/* Everything the caller is handed after a successful message is already
 * in the database, as another connection sees it. */
static void test_answer_committed_before_shown(void **state)
{
	struct fx *f = *state;
	struct sbuf saved;
	size_t nsaid;
	const int *said;
	char *db;

	assert_int_equal(say(f, "hoe gaat het"), 0);
	assert_int_equal(f->out.nmsgs, 1);
	assert_string_equal(f->out.msgs[0].buf, "Gaat wel.");
	/* the line shown is the stored line, at the seq session_said tells */
	said = session_said(f->ss, &nsaid);
	assert_int_equal(nsaid, 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM turns WHERE "
				 "session_id = ?1 AND speaker = 'persona' AND "
				 "text = 'Gaat wel.' AND seq = (SELECT max(seq)"
				 " FROM turns WHERE session_id = ?1)"), 1);
	assert_int_equal(raw_int(f, "SELECT max(seq) FROM turns WHERE "
				 "session_id = ?1"), said[0]);
	/* the trainee's turn comes before it */
	assert_int_equal(raw_int(f, "SELECT seq FROM turns WHERE session_id ="
				 " ?1 AND speaker = 'trainee'"), said[0] - 1);
	/* the moment, on the trainee's turn */
	assert_int_equal(raw_int(f, "SELECT turn_seq FROM rubric_events "
				 "WHERE session_id = ?1 AND point = "
				 "'luistert' AND shown = 1"), said[0] - 1);
	/* the state: what the engine holds now */
	sbuf_init(&saved);
	engine_save(session_engine(f->ss), &saved);
	db = raw_state(f);
	assert_non_null(db);
	assert_string_equal(db, sbuf_str(&saved));
	free(db);
	sbuf_release(&saved);
}

/* The trainee's message is stored first: when that fails, the engine
 * never ran (no turn taken, nothing to show, the stored state as it
 * was). */
static void test_trainee_first(void **state)
{
	struct fx *f = *state;
	int beurt = engine_beurt(session_engine(f->ss));
	char *before = raw_state(f), *after;

	raw_exec(f, "CREATE TRIGGER no_trainee BEFORE INSERT ON turns WHEN "
		 "NEW.speaker = 'trainee' BEGIN SELECT RAISE(ABORT, "
		 "'injected'); END");
	assert_int_equal(say(f, "hoe gaat het"), -1);
	assert_int_equal(engine_beurt(session_engine(f->ss)), beurt);
	assert_int_equal(count_speaker(f, STORE_TRAINEE), 0);
	assert_int_equal(count_speaker(f, STORE_PERSONA), 1);  /* opening */
	after = raw_state(f);
	assert_string_equal(after, before);
	free(before);
	free(after);
	/* and the same message goes through once the store works again */
	raw_exec(f, "DROP TRIGGER no_trainee");
	assert_int_equal(say(f, "hoe gaat het"), 0);
	assert_int_equal(count_speaker(f, STORE_TRAINEE), 1);
	assert_int_equal(count_speaker(f, STORE_PERSONA), 2);
}

/* The answer is one transaction: a failure on any of its rows (here the
 * rubric moment, written after the persona line) leaves no line, no
 * moment and the old state, while the trainee's message stays stored. */
static void test_answer_all_or_nothing(void **state)
{
	struct fx *f = *state;
	char *before = raw_state(f), *after;

	raw_exec(f, "CREATE TRIGGER no_moment BEFORE INSERT ON rubric_events"
		 " BEGIN SELECT RAISE(ABORT, 'injected'); END");
	assert_int_equal(say(f, "hoe gaat het"), -1);
	assert_int_equal(count_speaker(f, STORE_TRAINEE), 1);
	assert_int_equal(count_speaker(f, STORE_PERSONA), 1);  /* opening */
	assert_int_equal(raw_int(f, "SELECT count(*) FROM turns WHERE "
				 "session_id = ?1 AND text = 'Gaat wel.'"), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM rubric_events "
				 "WHERE session_id = ?1"), 0);
	/* nor is the trainee's turn marked evaluated without its answer */
	assert_int_equal(raw_int(f, "SELECT count(*) FROM turns WHERE "
				 "session_id = ?1 AND speaker = 'trainee' AND "
				 "vars_json IS NOT NULL"), 0);
	after = raw_state(f);
	assert_string_equal(after, before);
	free(before);
	free(after);
}

/* The bot's path: messages stored without an answer survive a crash
 * (the session freed, the store closed), are answered as one turn after
 * a resume, and a failed answer leaves them waiting, not lost. */
static void test_logged_survive_and_wait(void **state)
{
	struct fx *f = *state;
	int64_t id = session_id(f->ss);
	struct err err;

	assert_int_equal(session_log(f->ss, STORE_TRAINEE, "@t:localhost",
				     "hallo", "$e1", &err), 0);
	assert_int_equal(session_log(f->ss, STORE_TRAINEE, "@t:localhost",
				     "hoe gaat het", "$e2", &err), 0);
	/* the same event again: stored once */
	assert_int_equal(session_log(f->ss, STORE_TRAINEE, "@t:localhost",
				     "hoe gaat het", "$e2", &err), 1);
	/* crash and restart */
	session_free(f->ss);
	f->ss = NULL;
	store_free(f->st);
	assert_int_equal(store_open(f->path, &f->st, &err), 0);
	assert_int_equal(session_resume(f->st, f->s, id, &f->ss, &err), 0);
	assert_int_equal(session_pending(f->ss, &err), 2);
	/* the answer fails on its persona line: both still wait */
	raw_exec(f, "CREATE TRIGGER no_line BEFORE INSERT ON turns WHEN "
		 "NEW.speaker = 'persona' BEGIN SELECT RAISE(ABORT, "
		 "'injected'); END");
	assert_int_equal(session_answer(f->ss, &f->m, &f->out, &err), -1);
	assert_int_equal(session_pending(f->ss, &err), 2);
	assert_int_equal(count_speaker(f, STORE_PERSONA), 1);
	raw_exec(f, "DROP TRIGGER no_line");
	/* a resumed engine answers both at once, and stores the answer */
	session_free(f->ss);
	assert_int_equal(session_resume(f->st, f->s, id, &f->ss, &err), 0);
	assert_int_equal(session_answer(f->ss, &f->m, &f->out, &err), 0);
	assert_int_equal(f->out.nmsgs, 1);
	assert_string_equal(f->out.msgs[0].buf, "Gaat wel.");
	assert_int_equal(session_pending(f->ss, &err), 0);
	assert_int_equal(count_speaker(f, STORE_PERSONA), 2);
	/* nothing waiting: no turn, nothing stored */
	assert_int_equal(session_answer(f->ss, &f->m, &f->out, &err), 0);
	assert_int_equal(f->out.nmsgs, 0);
	assert_int_equal(count_speaker(f, STORE_PERSONA), 2);
}

/* Without a restart the session knows which trainee turn it answered
 * last and reads only the turns after it: what waits is the same as a
 * resumed session finds by walking back, and a failed answer moves
 * nothing on. */
static void test_pending_without_resume(void **state)
{
	struct fx *f = *state;
	int64_t id = session_id(f->ss);
	struct session *again;
	struct err err;

	assert_int_equal(session_pending(f->ss, &err), 0);
	assert_int_equal(session_log(f->ss, STORE_TRAINEE, "@t:localhost",
				     "hallo", "$p1", &err), 0);
	assert_int_equal(session_log(f->ss, STORE_COACH, "@c:localhost",
				     "goed zo", "$p2", &err), 0);
	assert_int_equal(session_log(f->ss, STORE_TRAINEE, "@t:localhost",
				     "hoe gaat het", "$p3", &err), 0);
	assert_int_equal(session_pending(f->ss, &err), 2);
	assert_int_equal(session_answer(f->ss, &f->m, &f->out, &err), 0);
	assert_int_equal(session_pending(f->ss, &err), 0);
	assert_int_equal(session_log(f->ss, STORE_TRAINEE, "@t:localhost",
				     "en nu?", "$p4", &err), 0);
	assert_int_equal(session_pending(f->ss, &err), 1);
	raw_exec(f, "CREATE TRIGGER no_line BEFORE INSERT ON turns WHEN "
		 "NEW.speaker = 'persona' BEGIN SELECT RAISE(ABORT, "
		 "'injected'); END");
	assert_int_equal(session_answer(f->ss, &f->m, &f->out, &err), -1);
	assert_int_equal(session_pending(f->ss, &err), 1);
	raw_exec(f, "DROP TRIGGER no_line");
	assert_int_equal(session_resume(f->st, f->s, id, &again, &err), 0);
	assert_int_equal(session_pending(again, &err), 1);
	session_free(again);
	assert_int_equal(session_answer(f->ss, &f->m, &f->out, &err), 0);
	assert_int_equal(session_pending(f->ss, &err), 0);
	assert_int_equal(session_resume(f->st, f->s, id, &again, &err), 0);
	assert_int_equal(session_pending(again, &err), 0);
	session_free(again);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM turns WHERE "
				 "session_id = ?1 AND speaker = 'trainee' AND "
				 "node IS NULL"), 0);
}

/* An ending is stored with the answer that reaches it; the session then
 * refuses more messages and stores nothing for them. */
static void test_ending_with_answer(void **state)
{
	struct fx *f = *state;

	assert_int_equal(say(f, "doei"), 0);
	assert_true(f->out.ended);
	assert_true(session_ended(f->ss));
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions WHERE id "
				 "= ?1 AND ended_ms > 0 AND ending = "
				 "'neutraal'"), 1);
	assert_int_equal(say(f, "hoe gaat het"), -1);
	assert_int_equal(count_speaker(f, STORE_TRAINEE), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_answer_committed_before_shown),
		T(test_trainee_first),
		T(test_answer_all_or_nothing),
		T(test_logged_survive_and_wait),
		T(test_pending_without_resume),
		T(test_ending_with_answer),
	};
#undef T

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
