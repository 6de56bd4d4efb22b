/* store.c - see store.h
 *
 * Durability: WAL with synchronous=NORMAL. A commit is in the WAL file
 * (handed to the kernel) before the call returns, so a crash of Oefenkamer
 * loses nothing; a power failure or kernel crash may lose the last few
 * commits but never corrupts the file.
 *
 * One struct store belongs to one thread: store_turn_add reads
 * sqlite3_last_insert_rowid of its own connection.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#define STORE_SCHEMA 5            /* PRAGMA user_version we write */
#define STORE_APP_ID 0x4f656631   /* PRAGMA application_id: "Oef1" */
/* Page cache in KiB (negative): the bot touches few pages per answer and
 * the kernel caches the file anyway; SQLite's default is 2000 KiB. */
#define STORE_CACHE_SIZE "-128"

#define STORE_BUSY_MS 5000

/* migrations[v] takes the schema from version v to v + 1. Never edit a
 * released step: add a new one (old files are migrated step by step). */
static const char *const migrations[STORE_SCHEMA] = {
	/* 0 -> 1 */
	"CREATE TABLE sessions ("
	" id INTEGER PRIMARY KEY,"
	" scenario TEXT NOT NULL,"
	" title TEXT,"
	" persona TEXT,"
	" seed INTEGER NOT NULL DEFAULT 0," /* uint64 bits as int64 */
	" trainee TEXT,"
	" room TEXT,"
	" started_ms INTEGER NOT NULL,"
	" ended_ms INTEGER NOT NULL DEFAULT 0,"
	" ending TEXT,"
	" ending_kind TEXT,"
	" state TEXT);"
	"CREATE TABLE turns ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER NOT NULL REFERENCES sessions(id),"
	" seq INTEGER NOT NULL,"
	" beurt INTEGER NOT NULL DEFAULT 0,"
	" speaker TEXT NOT NULL,"
	" author TEXT,"
	" text TEXT NOT NULL,"
	" ts_ms INTEGER NOT NULL,"
	" node TEXT,"
	" rules_json TEXT,"
	" vars_json TEXT,"
	" UNIQUE (session_id, seq));"
	/* turns: UNIQUE (session_id, seq) is the index on session_id */
	"CREATE TABLE rubric_events ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER NOT NULL REFERENCES sessions(id),"
	" turn_seq INTEGER NOT NULL,"
	" point TEXT NOT NULL,"
	" shown INTEGER NOT NULL CHECK (shown IN (0, 1)),"
	" reason TEXT);"
	"CREATE INDEX rubric_events_session ON rubric_events (session_id);"
	"CREATE TABLE annotations ("
	" id INTEGER PRIMARY KEY,"
	" session_id INTEGER NOT NULL REFERENCES sessions(id),"
	" turn_seq INTEGER NOT NULL,"
	" author TEXT,"
	" kind TEXT NOT NULL,"
	" text TEXT NOT NULL,"
	" ts_ms INTEGER NOT NULL);"
	"CREATE INDEX annotations_session ON annotations (session_id);",
	/* 1 -> 2: the Matrix bot. event_id ties a turn to the event it
	 * came from; the outbox holds answers not yet sent; meta keeps the
	 * login and the sync token; rooms the bot's rooms. */
	"ALTER TABLE turns ADD COLUMN event_id TEXT;"
	"CREATE UNIQUE INDEX turns_event ON turns (event_id)"
	" WHERE event_id IS NOT NULL;"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	/* AUTOINCREMENT: ids of sent (deleted) rows are never reused, so
	 * "everything after id N" stays a correct way to find new rows. */
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" room TEXT NOT NULL,"
	" txn TEXT NOT NULL UNIQUE,"
	" type TEXT NOT NULL,"
	" content TEXT NOT NULL,"
	" typing_ms INTEGER NOT NULL DEFAULT 0,"
	" created_ms INTEGER NOT NULL);"
	"CREATE TABLE rooms ("
	" room TEXT PRIMARY KEY,"
	" inviter TEXT,"
	" joined_ms INTEGER NOT NULL DEFAULT 0,"
	" session_id INTEGER REFERENCES sessions(id));",
	/* 2 -> 3: end-to-end encryption. One table of keyed records whose
	 * meaning belongs to e2ee.c (account, sessions, devices, ...);
	 * secrets in it are pickles encrypted with the pickle key. Absent
	 * keys are '' so that the primary key stays unique. */
	"CREATE TABLE crypto ("
	" kind TEXT NOT NULL,"
	" k1 TEXT NOT NULL DEFAULT '',"
	" k2 TEXT NOT NULL DEFAULT '',"
	" k3 TEXT NOT NULL DEFAULT '',"
	" value TEXT NOT NULL,"
	" n INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (kind, k1, k2, k3));",
	/* 3 -> 4: a rubric moment quotes the clause that earned it (NULL:
	 * the whole message, as moments stored before this did). */
	"ALTER TABLE rubric_events ADD COLUMN quote TEXT;",
	/* 4 -> 5: a moment the engine heard but did not record (a quiet
	 * one, or one only the model heard, not surely): the debrief
	 * names it under "not recognised", never as a moment */
	"ALTER TABLE rubric_events ADD COLUMN doubt INTEGER NOT NULL"
	" DEFAULT 0 CHECK (doubt IN (0, 1));",
};

enum stmt_id {
	ST_SESSION_NEW,
	ST_SESSION_END,
	ST_SESSION_STATE,
	ST_SESSION_GET,
	ST_SESSIONS_LIST,
	ST_SESSION_LATEST,
	ST_TURN_ADD,
	ST_TURN_SEQ,
	ST_TURN_EVAL,
	ST_TURNS_GET,
	ST_TURNS_PENDING,
	ST_TURNS_AFTER,
	ST_RUBRIC_ADD,
	ST_RUBRIC_GET,
	ST_DOUBTS_GET,
	ST_NOTE_ADD,
	ST_NOTES_GET,
	ST_TURN_EVENT,
	ST_TURN_SET_EVENT,
	ST_META_GET,
	ST_META_SET,
	ST_META_DEL,
	ST_OUTBOX_ADD,
	ST_OUTBOX_LIST,
	ST_OUTBOX_DONE,
	ST_OUTBOX_COUNT,
	ST_OUTBOX_DROP,
	ST_ROOM_SET,
	ST_ROOMS_LIST,
	ST_ROOM_DEL,
	ST_CRYPTO_PUT,
	ST_CRYPTO_LIST,
	ST_CRYPTO_DEL,
	ST_CRYPTO_OLDER,
	ST_CRYPTO_DEL_OLDER,
	ST_COUNT
};

#define SESSION_COLS \
	"s.id, s.scenario, s.title, s.persona, s.seed, s.trainee, s.room," \
	" s.started_ms, s.ended_ms, s.ending, s.ending_kind, s.state," \
	" (SELECT count(*) FROM turns t WHERE t.session_id = s.id)"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_SESSION_NEW] =
	"INSERT INTO sessions (scenario, title, persona, seed, trainee, room,"
	" started_ms, ended_ms, ending, ending_kind, state)"
	" VALUES (:scenario, :title, :persona, :seed, :trainee, :room,"
	" :started, :ended, :ending, :kind, :state)",
	[ST_SESSION_END] =
	"UPDATE sessions SET ended_ms = :ended, ending = :ending,"
	" ending_kind = :kind WHERE id = :id",
	[ST_SESSION_STATE] =
	"UPDATE sessions SET state = :state WHERE id = :id",
	[ST_SESSION_GET] =
	"SELECT " SESSION_COLS " FROM sessions s WHERE s.id = :id",
	[ST_SESSIONS_LIST] =
	"SELECT " SESSION_COLS " FROM sessions s"
	" ORDER BY s.started_ms DESC, s.id DESC",
	[ST_SESSION_LATEST] =
	"SELECT " SESSION_COLS " FROM sessions s WHERE s.room = :room"
	" ORDER BY s.id DESC LIMIT 1",
	/* One statement, so seq = max + 1 is atomic even in autocommit. */
	[ST_TURN_ADD] =
	"INSERT INTO turns (session_id, seq, beurt, speaker, author, text,"
	" ts_ms, node, rules_json, vars_json, event_id)"
	" VALUES (:session, (SELECT coalesce(max(seq), 0) + 1 FROM turns"
	" WHERE session_id = :session), :beurt, :speaker, :author, :text,"
	" :ts, :node, :rules, :vars, :event)",
	[ST_TURN_SEQ] =
	"SELECT seq FROM turns WHERE id = :id",
	[ST_TURN_EVAL] =
	"UPDATE turns SET node = :node, rules_json = :rules, vars_json = :vars"
	" WHERE id = :id",
	[ST_TURNS_GET] =
	"SELECT id, session_id, seq, beurt, speaker, author, text, ts_ms,"
	" node, rules_json, vars_json, event_id FROM turns"
	" WHERE session_id = :session ORDER BY seq",
	/* from the index backwards to the last answered trainee turn: a
	 * long rehearsal costs no more per answer than a short one */
	[ST_TURNS_PENDING] =
	"SELECT id, session_id, seq, beurt, speaker, author, text, ts_ms,"
	" node, rules_json, vars_json, event_id FROM turns"
	" WHERE session_id = :session AND seq > coalesce((SELECT seq FROM"
	" turns WHERE session_id = :session AND speaker = 'trainee' AND"
	" node IS NOT NULL ORDER BY seq DESC LIMIT 1), -1) ORDER BY seq",
	/* for a caller that knows where the waiting turns begin: only the
	 * index entries and rows after it, none before (issue 15) */
	[ST_TURNS_AFTER] =
	"SELECT id, session_id, seq, beurt, speaker, author, text, ts_ms,"
	" node, rules_json, vars_json, event_id FROM turns"
	" WHERE session_id = :session AND seq > :after ORDER BY seq",
	[ST_RUBRIC_ADD] =
	"INSERT INTO rubric_events (session_id, turn_seq, point, shown, reason,"
	" quote, doubt) VALUES (:session, :seq, :point, :shown, :reason,"
	" :quote, :doubt)",
	[ST_RUBRIC_GET] =
	"SELECT id, session_id, turn_seq, point, shown, reason, quote, doubt"
	" FROM rubric_events WHERE session_id = :session AND doubt = 0"
	" ORDER BY turn_seq, id",
	[ST_DOUBTS_GET] =
	"SELECT id, session_id, turn_seq, point, shown, reason, quote, doubt"
	" FROM rubric_events WHERE session_id = :session AND doubt = 1"
	" ORDER BY turn_seq, id",
	[ST_NOTE_ADD] =
	"INSERT INTO annotations (session_id, turn_seq, author, kind, text,"
	" ts_ms) VALUES (:session, :seq, :author, :kind, :text, :ts)",
	[ST_NOTES_GET] =
	"SELECT id, session_id, turn_seq, author, kind, text, ts_ms"
	" FROM annotations WHERE session_id = :session"
	" ORDER BY turn_seq, ts_ms, id",
	[ST_TURN_EVENT] =
	"SELECT session_id, seq FROM turns WHERE event_id = :event",
	[ST_TURN_SET_EVENT] =
	"UPDATE OR IGNORE turns SET event_id = :event WHERE session_id ="
	" :session AND seq = :seq AND event_id IS NULL",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = :key",
	[ST_META_SET] =
	"INSERT INTO meta (key, value) VALUES (:key, :value)"
	" ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[ST_META_DEL] = "DELETE FROM meta WHERE key = :key",
	/* A replayed answer has the same txn: keep the first. */
	[ST_OUTBOX_ADD] =
	"INSERT OR IGNORE INTO outbox (room, txn, type, content, typing_ms,"
	" created_ms) VALUES (:room, :txn, :type, :content, :typing, :ts)",
	[ST_OUTBOX_LIST] =
	"SELECT id, room, txn, type, content, typing_ms, created_ms"
	" FROM outbox WHERE id > :after ORDER BY id",
	[ST_OUTBOX_DONE] = "DELETE FROM outbox WHERE id = :id",
	[ST_OUTBOX_COUNT] =
	"SELECT count(*) FROM outbox WHERE room = :room"
	" AND substr(txn, 1, length(:prefix)) = :prefix",
	[ST_OUTBOX_DROP] =
	"DELETE FROM outbox WHERE room = :room"
	" AND substr(txn, 1, length(:prefix)) = :prefix",
	[ST_ROOM_SET] =
	"INSERT INTO rooms (room, inviter, joined_ms, session_id)"
	" VALUES (:room, :inviter, :joined, :session)"
	" ON CONFLICT (room) DO UPDATE SET inviter = excluded.inviter,"
	" joined_ms = excluded.joined_ms, session_id = excluded.session_id",
	[ST_ROOMS_LIST] =
	"SELECT room, inviter, joined_ms, session_id FROM rooms ORDER BY room",
	[ST_ROOM_DEL] = "DELETE FROM rooms WHERE room = :room",
	[ST_CRYPTO_PUT] =
	"INSERT OR REPLACE INTO crypto (kind, k1, k2, k3, value, n)"
	" VALUES (:kind, :k1, :k2, :k3, :value, :n)",
	[ST_CRYPTO_LIST] =
	"SELECT k1, k2, k3, value, n FROM crypto WHERE kind = :kind"
	" AND (:k1 IS NULL OR k1 = :k1) AND (:k2 IS NULL OR k2 = :k2)"
	" AND (:k3 IS NULL OR k3 = :k3) ORDER BY n DESC, rowid",
	[ST_CRYPTO_DEL] =
	"DELETE FROM crypto WHERE kind = :kind"
	" AND (:k1 IS NULL OR k1 = :k1) AND (:k2 IS NULL OR k2 = :k2)"
	" AND (:k3 IS NULL OR k3 = :k3)",
	[ST_CRYPTO_OLDER] =
	"SELECT k1, k2, k3, value, n FROM crypto WHERE kind = :kind"
	" AND n < :before ORDER BY n, rowid",
	[ST_CRYPTO_DEL_OLDER] =
	"DELETE FROM crypto WHERE kind = :kind AND n < :before",
};

struct store {
	sqlite3 *db;
	char *path;
	int busy_ms;
	int in_tx;                     /* between store_begin and commit */
	sqlite3_stmt *stmt[ST_COUNT];  /* prepared on first use */
};

/* Fill err with what went wrong, in words that say what to do. */
static int fail(struct store *st, struct err *err, const char *what, int rc)
{
	const char *p = st->path;
	const char *msg = st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		err_set(err, "%s: de database is in gebruik door een ander "
			"programma (%s: na %d ms wachten nog steeds bezet). "
			"Sluit het andere programma (een tweede oefenkamer, "
			"een sqlite3-venster) en probeer het opnieuw.",
			p, what, st->busy_ms);
		break;
	case SQLITE_NOTADB:
		err_set(err, "%s: dit bestand is geen database (SQLite: %s). "
			"Kijk of het pad klopt; het bestand is niet "
			"aangeraakt. Kies een ander pad voor een nieuwe "
			"database.", p, msg);
		break;
	case SQLITE_CORRUPT:
		err_set(err, "%s: de database is beschadigd (%s; SQLite: %s). "
			"Het bestand is niet aangeraakt: bewaar een kopie, zet "
			"een back-up terug of probeer 'sqlite3 %s .recover', "
			"of kies een ander pad.", p, what, msg, p);
		break;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		err_set(err, "%s: kan de database niet openen of er niet in "
			"schrijven (%s; SQLite: %s). Het bestand en de map "
			"moeten schrijfbaar zijn: SQLite zet er %s-wal en "
			"%s-shm naast.", p, what, msg, p, p);
		break;
	case SQLITE_FULL:
		err_set(err, "%s: de schijf is vol (%s; SQLite: %s). Maak "
			"ruimte vrij en probeer het opnieuw.", p, what, msg);
		break;
	case SQLITE_IOERR:
		err_set(err, "%s: lees- of schrijffout (%s; SQLite: %s). "
			"Controleer de schijf.", p, what, msg);
		break;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			err_set(err, "%s: %s: die sessie bestaat niet.", p,
				what);
		else
			err_set(err, "%s: %s geweigerd (SQLite: %s).", p,
				what, msg);
		break;
	default:
		err_set(err, "%s: %s mislukt (SQLite: %s).", p, what, msg);
		break;
	}
	return -1;
}

static int exec(struct store *st, const char *sql, const char *what,
		struct err *err)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return fail(st, err, what, rc);
	return 0;
}

static sqlite3_stmt *stmt_get(struct store *st, enum stmt_id id,
			      struct err *err)
{
	int rc;

	if (st->stmt[id])
		return st->stmt[id];
	rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
				SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
				NULL);
	if (rc != SQLITE_OK) {
		fail(st, err, "een opdracht voorbereiden", rc);
		sqlite3_finalize(st->stmt[id]);
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

/* Ready a cached statement for its next use; bound strings are dropped. */
static void stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static int stmt_fail(struct store *st, sqlite3_stmt *s, struct err *err,
		     const char *what, int rc)
{
	fail(st, err, what, rc);
	stmt_done(s);
	return -1;
}

/* A bind helper failed: SQLite set no error for an unknown name. */
static int bind_fail(struct store *st, sqlite3_stmt *s, struct err *err,
		     const char *what)
{
	int rc = sqlite3_errcode(st->db);

	return stmt_fail(st, s, err, what, rc ? rc : SQLITE_RANGE);
}

/* The bind helpers return an SQLite code, so that a run of them can be
 * chained with ||. Strings are bound SQLITE_STATIC: every caller steps
 * and clears the statement before its arguments go away. */
static int param(sqlite3_stmt *s, const char *name)
{
	return sqlite3_bind_parameter_index(s, name);
}

static int bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
	int i = param(s, name);

	if (!i)
		return SQLITE_RANGE;
	if (!v)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int bind_int64(sqlite3_stmt *s, const char *name, int64_t v)
{
	int i = param(s, name);

	if (!i)
		return SQLITE_RANGE;
	return sqlite3_bind_int64(s, i, v);
}

/* Run a statement that returns no rows and ready it again. */
static int step_done(struct store *st, sqlite3_stmt *s, const char *what,
		     struct err *err)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		return stmt_fail(st, s, err, what, rc);
	stmt_done(s);
	return 0;
}

static void oom_abort(void)
{
	fprintf(stderr, "oefenkamer: out of memory (sqlite)\n");
	abort();
}

/* Column i as a new string, or NULL for SQL NULL. */
static char *col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t;

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return NULL;
	t = sqlite3_column_text(s, i);
	if (!t)
		oom_abort();
	return xstrndup((const char *)t, (size_t)sqlite3_column_bytes(s, i));
}

static int col_int(sqlite3_stmt *s, int i)
{
	return sqlite3_column_int(s, i);
}

static int64_t col_i64(sqlite3_stmt *s, int i)
{
	return sqlite3_column_int64(s, i);
}

/* The first column of the first row of a pragma, as an int. */
static int pragma_int(struct store *st, const char *sql, int *out,
		      struct err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int(s, 0);
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK)
		fail(st, err, "de database openen", rc);
	sqlite3_finalize(s);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Create the file 0600 ourselves (SQLite would honour only the umask);
 * an existing one must be a regular file. */
static int file_prepare(const char *path, struct err *err)
{
	struct stat sb;
	int fd, rc = -1;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			err_set(err, "%s: de map bestaat niet. Maak de map "
				"aan of kies een ander pad.", path);
		else if (e == EISDIR)
			err_set(err, "%s: dat is een map, geen "
				"databasebestand.", path);
		else
			err_set(err, "%s: kan het bestand niet openen of "
				"aanmaken: %s. Het bestand en de map moeten "
				"schrijfbaar zijn (SQLite zet er %s-wal en "
				"%s-shm naast).", path, strerror(e), path,
				path);
		return -1;
	}
	if (fstat(fd, &sb) < 0) {
		err_set(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		err_set(err, "%s: geen gewoon bestand.", path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Transcripts are confidential: make our database (and the -wal and
 * -shm files SQLite gives the same mode) 0600 if we own it. Runs only
 * once the file is known to be ours. */
static int file_tighten(const char *path, struct err *err)
{
	static const char *const side[] = { "", "-wal", "-shm", "-journal" };
	struct stat sb;
	char buf[4096];

	for (size_t i = 0; i < ARRAY_LEN(side); i++) {
		int n = snprintf(buf, sizeof(buf), "%s%s", path, side[i]);

		if (n < 0 || (size_t)n >= sizeof(buf) || stat(buf, &sb) < 0 ||
		    !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
		    !(sb.st_mode & 077))
			continue;
		if (chmod(buf, S_IRUSR | S_IWUSR) < 0 && i == 0) {
			err_set(err, "%s: kan de rechten niet op 0600 zetten: "
				"%s. Gesprekken zijn vertrouwelijk: zet ze "
				"met 'chmod 600 %s'.", path, strerror(errno),
				path);
			return -1;
		}
	}
	return 0;
}

static int set_wal(struct store *st, int memory, struct err *err)
{
	sqlite3_stmt *s = NULL;
	const char *want = memory ? "memory" : "wal";
	const char *mode;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
				NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		fail(st, err, "de database openen", rc);
		sqlite3_finalize(s);
		return -1;
	}
	mode = (const char *)sqlite3_column_text(s, 0);
	if (!mode || strcmp(mode, want) != 0) {
		err_set(err, "%s: kan de database niet in WAL-modus zetten "
			"(blijft '%s'). Staat het bestand op een "
			"netwerkschijf? Kies een pad op een lokale schijf.",
			st->path, mode ? mode : "?");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

/* Refuse files we did not make or cannot read (newer schema). */
static int check_owner(struct store *st, int version, struct err *err)
{
	int app;

	if (version > STORE_SCHEMA) {
		err_set(err, "%s: deze database is gemaakt door een nieuwere "
			"Oefenkamer (schemaversie %d, deze versie kent t/m "
			"%d). Gebruik de nieuwere Oefenkamer, of kies een "
			"ander pad. Het bestand is niet aangeraakt.",
			st->path, version, STORE_SCHEMA);
		return -1;
	}
	if (pragma_int(st, "PRAGMA application_id", &app, err) < 0)
		return -1;
	if (app != 0 && app != STORE_APP_ID) {
		err_set(err, "%s: dit is een database van een ander "
			"programma. Kies een ander pad; het bestand is niet "
			"aangeraakt.", st->path);
		return -1;
	}
	return 0;
}

/* Is this a file we may use? Reads only: runs before anything (even the
 * switch to WAL) writes to a file that may be someone else's. Sets
 * *version to its schema version. */
static int check_file(struct store *st, int *version, struct err *err)
{
	int objects;

	if (pragma_int(st, "PRAGMA user_version", version, err) < 0 ||
	    check_owner(st, *version, err) < 0)
		return -1;
	if (*version != 0)
		return 0;
	if (pragma_int(st, "SELECT count(*) FROM sqlite_master WHERE "
		       "name NOT LIKE 'sqlite!_%' ESCAPE '!'", &objects,
		       err) < 0)
		return -1;
	if (objects) {
		err_set(err, "%s: dit is een database van een ander "
			"programma (er staan al tabellen in). Kies een ander "
			"pad; het bestand is niet aangeraakt.", st->path);
		return -1;
	}
	return 0;
}

static int migrate_locked(struct store *st, struct err *err)
{
	char sql[128];
	int version;

	/* Check again: another process may have migrated meanwhile. */
	if (check_file(st, &version, err) < 0)
		return -1;
	for (int v = version; v < STORE_SCHEMA; v++)
		if (exec(st, migrations[v], "de database bijwerken", err) < 0)
			return -1;
	xsnprintf(sql, sizeof(sql),
		 "PRAGMA user_version = %d; PRAGMA application_id = %d",
		 STORE_SCHEMA, STORE_APP_ID);
	return exec(st, sql, "de database bijwerken", err);
}

static int migrate(struct store *st, int version, struct err *err)
{
	if (version == STORE_SCHEMA)
		return 0;
	if (exec(st, "BEGIN IMMEDIATE", "de database bijwerken", err) < 0)
		return -1;
	if (migrate_locked(st, err) < 0) {
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return exec(st, "COMMIT", "de database bijwerken", err);
}

int store_open(const char *path, struct store **out, struct err *err)
{
	struct store *st;
	int memory, flags = SQLITE_OPEN_READWRITE;
	int rc, version;

	*out = NULL;
	if (!path || !*path) {
		err_set(err, "geen pad voor de database opgegeven");
		return -1;
	}
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	st->busy_ms = STORE_BUSY_MS;
	memory = strcmp(path, ":memory:") == 0;
	if (memory)
		flags |= SQLITE_OPEN_CREATE;
	else if (file_prepare(path, err) < 0)
		goto fail;
	rc = sqlite3_open_v2(path, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		fail(st, err, "de database openen", rc);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, st->busy_ms);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	/* no lookaside: 120 KiB held per connection for small allocations
	 * that glibc serves as well (issue 15: the bot's memory at 1,000
	 * rooms) */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0);
	if (sqlite3_db_readonly(st->db, "main") == 1) {
		err_set(err, "%s: het bestand is alleen-lezen. Maak het "
			"schrijfbaar of kies een ander pad.", path);
		goto fail;
	}
	if (check_file(st, &version, err) < 0 ||
	    (!memory && file_tighten(path, err) < 0) ||
	    set_wal(st, memory, err) < 0 ||
	    exec(st, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
		 " PRAGMA cache_size = " STORE_CACHE_SIZE,
		 "de database openen", err) < 0 ||
	    migrate(st, version, err) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_free(st);
	return -1;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	/* All statements are finalized, so close cannot be busy; an open
	 * transaction is rolled back. */
	if (st->db && sqlite3_close(st->db) != SQLITE_OK)
		fprintf(stderr, "oefenkamer: %s: sluiten mislukt: %s\n",
			st->path, sqlite3_errmsg(st->db));
	free(st->path);
	free(st);
}

int store_set_busy_timeout(struct store *st, int ms)
{
	if (ms < 0 || sqlite3_busy_timeout(st->db, ms) != SQLITE_OK)
		return -1;
	st->busy_ms = ms;
	return 0;
}

int store_begin(struct store *st, struct err *err)
{
	char sql[48];

	/* Nested: a savepoint, so an inner failure can be undone alone
	 * while the outer transaction goes on. */
	if (st->in_tx) {
		xsnprintf(sql, sizeof(sql), "SAVEPOINT sp%d", st->in_tx);
		if (exec(st, sql, "een transactie beginnen", err) < 0)
			return -1;
		st->in_tx++;
		return 0;
	}
	/* IMMEDIATE: take the write lock now, so a later write in the
	 * transaction cannot fail on a lock upgrade. */
	if (exec(st, "BEGIN IMMEDIATE", "een transactie beginnen", err) < 0)
		return -1;
	st->in_tx = 1;
	return 0;
}

int store_commit(struct store *st, struct err *err)
{
	char sql[48];

	if (!st->in_tx) {
		err_set(err, "%s: store_commit zonder store_begin", st->path);
		return -1;
	}
	if (sqlite3_get_autocommit(st->db)) {
		/* SQLite already rolled back after an earlier error. */
		st->in_tx = 0;
		err_set(err, "%s: de transactie is na een eerdere fout "
			"teruggedraaid; de wijzigingen zijn niet opgeslagen.",
			st->path);
		return -1;
	}
	if (st->in_tx > 1) {
		xsnprintf(sql, sizeof(sql), "RELEASE sp%d", st->in_tx - 1);
		if (exec(st, sql, "opslaan", err) < 0)
			return -1;
		st->in_tx--;
		return 0;
	}
	/* On failure (busy) the transaction stays open: the caller may
	 * retry store_commit or call store_rollback. */
	if (exec(st, "COMMIT", "opslaan", err) < 0)
		return -1;
	st->in_tx = 0;
	return 0;
}

int store_rollback(struct store *st)
{
	char sql[64];

	if (!st->in_tx)
		return 0;
	if (st->in_tx > 1 && !sqlite3_get_autocommit(st->db)) {
		xsnprintf(sql, sizeof(sql), "ROLLBACK TO sp%d; RELEASE sp%d",
			 st->in_tx - 1, st->in_tx - 1);
		sqlite3_exec(st->db, sql, NULL, NULL, NULL);
		st->in_tx--;
		return 0;
	}
	st->in_tx = 0;
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return 0;
}

/* The kind as stored: NULL for no kind ("" or "none"). */
static const char *kind_norm(const char *kind)
{
	if (!kind || !*kind || strcmp(kind, "none") == 0)
		return NULL;
	return kind;
}

static int kind_valid(const char *kind)
{
	static const char *const kinds[] = { "goed", "breuk", "neutraal" };

	kind = kind_norm(kind);
	if (!kind)
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return 1;
	return 0;
}

int store_session_new(struct store *st, struct store_session *s,
		      struct err *err)
{
	const char *what = "een sessie opslaan";
	sqlite3_stmt *q;
	int rc;

	if (!s->scenario) {
		err_set(err, "%s: een sessie heeft een scenario nodig",
			st->path);
		return -1;
	}
	if (!kind_valid(s->ending_kind)) {
		err_set(err, "%s: onbekende soort einde '%s'", st->path,
			s->ending_kind);
		return -1;
	}
	q = stmt_get(st, ST_SESSION_NEW, err);
	if (!q)
		return -1;
	if (!s->started_ms)
		s->started_ms = now_ms();
	rc = bind_text(q, ":scenario", s->scenario) ||
	     bind_text(q, ":title", s->title) ||
	     bind_text(q, ":persona", s->persona) ||
	     bind_int64(q, ":seed", (int64_t)s->seed) ||
	     bind_text(q, ":trainee", s->trainee) ||
	     bind_text(q, ":room", s->room) ||
	     bind_int64(q, ":started", s->started_ms) ||
	     bind_int64(q, ":ended", s->ended_ms) ||
	     bind_text(q, ":ending", s->ending) ||
	     bind_text(q, ":kind", kind_norm(s->ending_kind)) ||
	     bind_text(q, ":state", s->state);
	if (rc)
		return bind_fail(st, q, err, what);
	if (step_done(st, q, what, err) < 0)
		return -1;
	s->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* Run an UPDATE of one session; a missing session is an error. */
static int session_update(struct store *st, sqlite3_stmt *q, int64_t id,
			  const char *what, struct err *err)
{
	if (step_done(st, q, what, err) < 0)
		return -1;
	if (sqlite3_changes(st->db) != 1) {
		err_set(err, "%s: %s: sessie %lld bestaat niet", st->path,
			what, (long long)id);
		return -1;
	}
	return 0;
}

int store_session_end(struct store *st, int64_t id, const char *ending,
		      const char *kind, struct err *err)
{
	const char *what = "een sessie afsluiten";
	sqlite3_stmt *q;

	if (!kind_valid(kind)) {
		err_set(err, "%s: onbekende soort einde '%s'", st->path,
			kind);
		return -1;
	}
	q = stmt_get(st, ST_SESSION_END, err);
	if (!q)
		return -1;
	if (bind_int64(q, ":ended", now_ms()) ||
	    bind_text(q, ":ending", ending) ||
	    bind_text(q, ":kind", kind_norm(kind)) ||
	    bind_int64(q, ":id", id))
		return bind_fail(st, q, err, what);
	return session_update(st, q, id, what, err);
}

int store_session_set_state(struct store *st, int64_t id, const char *state,
			    struct err *err)
{
	const char *what = "de stand van een sessie opslaan";
	sqlite3_stmt *q = stmt_get(st, ST_SESSION_STATE, err);

	if (!q)
		return -1;
	if (bind_text(q, ":state", state) || bind_int64(q, ":id", id))
		return bind_fail(st, q, err, what);
	return session_update(st, q, id, what, err);
}

static void session_read(sqlite3_stmt *q, struct store_session *s)
{
	s->id = col_i64(q, 0);
	s->scenario = col_str(q, 1);
	s->title = col_str(q, 2);
	s->persona = col_str(q, 3);
	s->seed = (uint64_t)col_i64(q, 4);
	s->trainee = col_str(q, 5);
	s->room = col_str(q, 6);
	s->started_ms = col_i64(q, 7);
	s->ended_ms = col_i64(q, 8);
	s->ending = col_str(q, 9);
	s->ending_kind = col_str(q, 10);
	s->state = col_str(q, 11);
	s->nturns = col_int(q, 12);
}

/* Step a bound query for one session: 0 and *out filled, 1 when there
 * is none, -1 on error. */
static int session_one(struct store *st, sqlite3_stmt *q, const char *what,
		       struct store_session *out, struct err *err)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_DONE) {
		stmt_done(q);
		return 1;
	}
	if (rc != SQLITE_ROW)
		return stmt_fail(st, q, err, what, rc);
	session_read(q, out);
	stmt_done(q);
	return 0;
}

int store_session_get(struct store *st, int64_t id, struct store_session *out,
		      struct err *err)
{
	const char *what = "een sessie lezen";
	sqlite3_stmt *q;

	memset(out, 0, sizeof(*out));
	q = stmt_get(st, ST_SESSION_GET, err);
	if (!q)
		return -1;
	if (bind_int64(q, ":id", id))
		return bind_fail(st, q, err, what);
	return session_one(st, q, what, out, err);
}

int store_session_latest(struct store *st, const char *room,
			 struct store_session *out, struct err *err)
{
	const char *what = "de laatste sessie van een kamer lezen";
	sqlite3_stmt *q;

	memset(out, 0, sizeof(*out));
	q = stmt_get(st, ST_SESSION_LATEST, err);
	if (!q)
		return -1;
	if (bind_text(q, ":room", room))
		return bind_fail(st, q, err, what);
	return session_one(st, q, what, out, err);
}

void store_session_release(struct store_session *s)
{
	if (!s)
		return;
	free(s->scenario);
	free(s->title);
	free(s->persona);
	free(s->trainee);
	free(s->room);
	free(s->ending);
	free(s->ending_kind);
	free(s->state);
	memset(s, 0, sizeof(*s));
}

int store_sessions_list(struct store *st, struct store_session **out,
			size_t *n, struct err *err)
{
	const char *what = "de sessies lezen";
	struct store_session *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *q;
	int rc;

	*out = NULL;
	*n = 0;
	q = stmt_get(st, ST_SESSIONS_LIST, err);
	if (!q)
		return -1;
	for (rc = sqlite3_step(q); rc == SQLITE_ROW; rc = sqlite3_step(q)) {
		XGROW(v, cap, len + 1);
		session_read(q, &v[len++]);
	}
	if (rc != SQLITE_DONE) {
		store_sessions_free(v, len);
		return stmt_fail(st, q, err, what, rc);
	}
	stmt_done(q);
	*out = v;
	*n = len;
	return 0;
}

void store_sessions_free(struct store_session *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_session_release(&v[i]);
	free(v);
}

static int speaker_valid(const char *sp)
{
	static const char *const speakers[] = {
		STORE_TRAINEE, STORE_PERSONA, STORE_NOTICE, STORE_COACH,
		STORE_OTHER
	};

	for (size_t i = 0; sp && i < ARRAY_LEN(speakers); i++)
		if (strcmp(sp, speakers[i]) == 0)
			return 1;
	return 0;
}

int store_turn_add(struct store *st, struct store_turn *t, struct err *err)
{
	const char *what = "een beurt opslaan";
	sqlite3_stmt *q, *sq;
	int64_t ts = t->ts_ms ? t->ts_ms : now_ms();
	int rc;

	if (!speaker_valid(t->speaker) || !t->text) {
		err_set(err, "%s: %s: een beurt heeft een bekende spreker en "
			"een tekst nodig", st->path, what);
		return -1;
	}
	q = stmt_get(st, ST_TURN_ADD, err);
	sq = q ? stmt_get(st, ST_TURN_SEQ, err) : NULL;
	if (!sq)
		return -1;
	if (bind_int64(q, ":session", t->session_id) ||
	    bind_int64(q, ":beurt", t->beurt) ||
	    bind_text(q, ":speaker", t->speaker) ||
	    bind_text(q, ":author", t->author) ||
	    bind_text(q, ":text", t->text) ||
	    bind_int64(q, ":ts", ts) ||
	    bind_text(q, ":node", t->node) ||
	    bind_text(q, ":rules", t->rules_json) ||
	    bind_text(q, ":vars", t->vars_json) ||
	    bind_text(q, ":event", t->event_id))
		return bind_fail(st, q, err, what);
	if (step_done(st, q, what, err) < 0)
		return -1;
	t->id = sqlite3_last_insert_rowid(st->db);
	t->ts_ms = ts;
	if (bind_int64(sq, ":id", t->id))
		return bind_fail(st, sq, err, what);
	rc = sqlite3_step(sq);
	if (rc != SQLITE_ROW)
		return stmt_fail(st, sq, err, what,
				 rc == SQLITE_DONE ? SQLITE_ERROR : rc);
	t->seq = col_int(sq, 0);
	stmt_done(sq);
	return 0;
}

int store_turn_set_eval(struct store *st, int64_t turn_id, const char *node,
			const char *rules_json, const char *vars_json,
			struct err *err)
{
	const char *what = "een beurt bijwerken";
	sqlite3_stmt *q = stmt_get(st, ST_TURN_EVAL, err);

	if (!q)
		return -1;
	if (bind_text(q, ":node", node) ||
	    bind_text(q, ":rules", rules_json) ||
	    bind_text(q, ":vars", vars_json) ||
	    bind_int64(q, ":id", turn_id))
		return bind_fail(st, q, err, what);
	if (step_done(st, q, what, err) < 0)
		return -1;
	if (sqlite3_changes(st->db) != 1) {
		err_set(err, "%s: %s: beurt %lld bestaat niet", st->path,
			what, (long long)turn_id);
		return -1;
	}
	return 0;
}

static void turn_read(sqlite3_stmt *q, struct store_turn *t)
{
	t->id = col_i64(q, 0);
	t->session_id = col_i64(q, 1);
	t->seq = col_int(q, 2);
	t->beurt = col_int(q, 3);
	t->speaker = col_str(q, 4);
	t->author = col_str(q, 5);
	t->text = col_str(q, 6);
	t->ts_ms = col_i64(q, 7);
	t->node = col_str(q, 8);
	t->rules_json = col_str(q, 9);
	t->vars_json = col_str(q, 10);
	t->event_id = col_str(q, 11);
}

/* The turns of statement which for session_id (and :after, if the
 * statement has it). */
static int turns_get(struct store *st, int which, int64_t session_id,
		     int after, struct store_turn **out, size_t *n,
		     struct err *err)
{
	const char *what = "de beurten lezen";
	struct store_turn *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *q;
	int rc;

	*out = NULL;
	*n = 0;
	q = stmt_get(st, which, err);
	if (!q)
		return -1;
	if (bind_int64(q, ":session", session_id) ||
	    (param(q, ":after") && bind_int64(q, ":after", after)))
		return bind_fail(st, q, err, what);
	for (rc = sqlite3_step(q); rc == SQLITE_ROW; rc = sqlite3_step(q)) {
		XGROW(v, cap, len + 1);
		turn_read(q, &v[len++]);
	}
	if (rc != SQLITE_DONE) {
		store_turns_free(v, len);
		return stmt_fail(st, q, err, what, rc);
	}
	stmt_done(q);
	*out = v;
	*n = len;
	return 0;
}

int store_turns_get(struct store *st, int64_t session_id,
		    struct store_turn **out, size_t *n, struct err *err)
{
	return turns_get(st, ST_TURNS_GET, session_id, 0, out, n, err);
}

int store_turns_pending(struct store *st, int64_t session_id,
			struct store_turn **out, size_t *n, struct err *err)
{
	return turns_get(st, ST_TURNS_PENDING, session_id, 0, out, n, err);
}

int store_turns_after(struct store *st, int64_t session_id, int after,
		      struct store_turn **out, size_t *n, struct err *err)
{
	return turns_get(st, ST_TURNS_AFTER, session_id, after, out, n, err);
}

void store_turns_free(struct store_turn *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].speaker);
		free(v[i].author);
		free(v[i].text);
		free(v[i].node);
		free(v[i].rules_json);
		free(v[i].vars_json);
		free(v[i].event_id);
	}
	free(v);
}

int store_rubric_add(struct store *st, struct store_rubric *r,
		     struct err *err)
{
	const char *what = "een rubriekmoment opslaan";
	sqlite3_stmt *q;

	if (!r->point) {
		err_set(err, "%s: %s: geen rubriekpunt opgegeven", st->path,
			what);
		return -1;
	}
	q = stmt_get(st, ST_RUBRIC_ADD, err);
	if (!q)
		return -1;
	if (bind_int64(q, ":session", r->session_id) ||
	    bind_int64(q, ":seq", r->turn_seq) ||
	    bind_text(q, ":point", r->point) ||
	    bind_int64(q, ":shown", r->shown ? 1 : 0) ||
	    bind_text(q, ":reason", r->reason) ||
	    bind_text(q, ":quote", r->quote) ||
	    bind_int64(q, ":doubt", r->doubt ? 1 : 0))
		return bind_fail(st, q, err, what);
	if (step_done(st, q, what, err) < 0)
		return -1;
	r->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static int rubric_get(struct store *st, enum stmt_id id, const char *what,
		      int64_t session_id, struct store_rubric **out,
		      size_t *n, struct err *err)
{
	struct store_rubric *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *q;
	int rc;

	*out = NULL;
	*n = 0;
	q = stmt_get(st, id, err);
	if (!q)
		return -1;
	if (bind_int64(q, ":session", session_id))
		return bind_fail(st, q, err, what);
	for (rc = sqlite3_step(q); rc == SQLITE_ROW; rc = sqlite3_step(q)) {
		struct store_rubric *r;

		XGROW(v, cap, len + 1);
		r = &v[len++];
		r->id = col_i64(q, 0);
		r->session_id = col_i64(q, 1);
		r->turn_seq = col_int(q, 2);
		r->point = col_str(q, 3);
		r->shown = col_int(q, 4);
		r->reason = col_str(q, 5);
		r->quote = col_str(q, 6);
		r->doubt = col_int(q, 7);
	}
	if (rc != SQLITE_DONE) {
		store_rubric_free(v, len);
		return stmt_fail(st, q, err, what, rc);
	}
	stmt_done(q);
	*out = v;
	*n = len;
	return 0;
}

int store_rubric_get(struct store *st, int64_t session_id,
		     struct store_rubric **out, size_t *n, struct err *err)
{
	return rubric_get(st, ST_RUBRIC_GET, "de rubriekmomenten lezen",
			  session_id, out, n, err);
}

int store_doubts_get(struct store *st, int64_t session_id,
		     struct store_rubric **out, size_t *n, struct err *err)
{
	return rubric_get(st, ST_DOUBTS_GET, "de twijfelmomenten lezen",
			  session_id, out, n, err);
}

void store_rubric_free(struct store_rubric *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].point);
		free(v[i].reason);
		free(v[i].quote);
	}
	free(v);
}

int store_annotation_add(struct store *st, struct store_annotation *a,
			 struct err *err)
{
	const char *what = "een notitie opslaan";
	sqlite3_stmt *q;
	int64_t ts = a->ts_ms ? a->ts_ms : now_ms();

	if (!a->text) {
		err_set(err, "%s: %s: de notitie heeft geen tekst", st->path,
			what);
		return -1;
	}
	q = stmt_get(st, ST_NOTE_ADD, err);
	if (!q)
		return -1;
	if (bind_int64(q, ":session", a->session_id) ||
	    bind_int64(q, ":seq", a->turn_seq) ||
	    bind_text(q, ":author", a->author) ||
	    bind_text(q, ":kind", a->kind ? a->kind : "note") ||
	    bind_text(q, ":text", a->text) ||
	    bind_int64(q, ":ts", ts))
		return bind_fail(st, q, err, what);
	if (step_done(st, q, what, err) < 0)
		return -1;
	a->id = sqlite3_last_insert_rowid(st->db);
	a->ts_ms = ts;
	return 0;
}

int store_annotations_get(struct store *st, int64_t session_id,
			  struct store_annotation **out, size_t *n,
			  struct err *err)
{
	const char *what = "de notities lezen";
	struct store_annotation *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *q;
	int rc;

	*out = NULL;
	*n = 0;
	q = stmt_get(st, ST_NOTES_GET, err);
	if (!q)
		return -1;
	if (bind_int64(q, ":session", session_id))
		return bind_fail(st, q, err, what);
	for (rc = sqlite3_step(q); rc == SQLITE_ROW; rc = sqlite3_step(q)) {
		struct store_annotation *a;

		XGROW(v, cap, len + 1);
		a = &v[len++];
		a->id = col_i64(q, 0);
		a->session_id = col_i64(q, 1);
		a->turn_seq = col_int(q, 2);
		a->author = col_str(q, 3);
		a->kind = col_str(q, 4);
		a->text = col_str(q, 5);
		a->ts_ms = col_i64(q, 6);
	}
	if (rc != SQLITE_DONE) {
		store_annotations_free(v, len);
		return stmt_fail(st, q, err, what, rc);
	}
	stmt_done(q);
	*out = v;
	*n = len;
	return 0;
}

void store_annotations_free(struct store_annotation *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].author);
		free(v[i].kind);
		free(v[i].text);
	}
	free(v);
}

/* --- the Matrix bot's bookkeeping --------------------------------- */

int store_turn_by_event(struct store *st, const char *event_id,
			int64_t *session_id, int *seq, struct err *err)
{
	const char *what = "een bericht opzoeken";
	sqlite3_stmt *q = stmt_get(st, ST_TURN_EVENT, err);
	int rc;

	if (!q)
		return -1;
	if (bind_text(q, ":event", event_id))
		return bind_fail(st, q, err, what);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		stmt_done(q);
		return 1;
	}
	if (rc != SQLITE_ROW)
		return stmt_fail(st, q, err, what, rc);
	if (session_id)
		*session_id = col_i64(q, 0);
	if (seq)
		*seq = col_int(q, 1);
	stmt_done(q);
	return 0;
}

int store_meta_get(struct store *st, const char *key, char **value,
		   struct err *err)
{
	const char *what = "een instelling lezen";
	sqlite3_stmt *q = stmt_get(st, ST_META_GET, err);
	int rc;

	*value = NULL;
	if (!q)
		return -1;
	if (bind_text(q, ":key", key))
		return bind_fail(st, q, err, what);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		stmt_done(q);
		return 1;
	}
	if (rc != SQLITE_ROW)
		return stmt_fail(st, q, err, what, rc);
	*value = col_str(q, 0);
	stmt_done(q);
	return 0;
}

int store_meta_set(struct store *st, const char *key, const char *value,
		   struct err *err)
{
	const char *what = "een instelling opslaan";
	sqlite3_stmt *q = stmt_get(st, value ? ST_META_SET : ST_META_DEL,
				   err);

	if (!q)
		return -1;
	if (bind_text(q, ":key", key) ||
	    (value && bind_text(q, ":value", value)))
		return bind_fail(st, q, err, what);
	return step_done(st, q, what, err);
}

int store_outbox_add(struct store *st, struct store_outbox *o,
		     struct err *err)
{
	const char *what = "een bericht klaarzetten";
	sqlite3_stmt *q = stmt_get(st, ST_OUTBOX_ADD, err);
	int64_t ts = o->created_ms ? o->created_ms : now_ms();

	if (!q)
		return -1;
	if (bind_text(q, ":room", o->room) ||
	    bind_text(q, ":txn", o->txn) ||
	    bind_text(q, ":type", o->type) ||
	    bind_text(q, ":content", o->content) ||
	    bind_int64(q, ":typing", o->typing_ms) ||
	    bind_int64(q, ":ts", ts))
		return bind_fail(st, q, err, what);
	if (step_done(st, q, what, err) < 0)
		return -1;
	o->id = sqlite3_changes(st->db) ? sqlite3_last_insert_rowid(st->db)
					 : 0;
	o->created_ms = ts;
	return 0;
}

int store_outbox_list(struct store *st, int64_t after,
		      struct store_outbox **out, size_t *n, struct err *err)
{
	const char *what = "de uitgaande berichten lezen";
	struct store_outbox *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *q = stmt_get(st, ST_OUTBOX_LIST, err);
	int rc;

	*out = NULL;
	*n = 0;
	if (!q)
		return -1;
	if (bind_int64(q, ":after", after))
		return bind_fail(st, q, err, what);
	for (rc = sqlite3_step(q); rc == SQLITE_ROW; rc = sqlite3_step(q)) {
		XGROW(v, cap, len + 1);
		v[len].id = col_i64(q, 0);
		v[len].room = col_str(q, 1);
		v[len].txn = col_str(q, 2);
		v[len].type = col_str(q, 3);
		v[len].content = col_str(q, 4);
		v[len].typing_ms = col_int(q, 5);
		v[len].created_ms = col_i64(q, 6);
		len++;
	}
	if (rc != SQLITE_DONE) {
		store_outbox_free(v, len);
		return stmt_fail(st, q, err, what, rc);
	}
	stmt_done(q);
	*out = v;
	*n = len;
	return 0;
}

void store_outbox_free(struct store_outbox *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].room);
		free(v[i].txn);
		free(v[i].type);
		free(v[i].content);
	}
	free(v);
}

int store_outbox_count(struct store *st, const char *room,
		       const char *txn_prefix, struct err *err)
{
	const char *what = "de uitgaande berichten tellen";
	sqlite3_stmt *q = stmt_get(st, ST_OUTBOX_COUNT, err);
	int rc, n;

	if (!q)
		return -1;
	if (bind_text(q, ":room", room) || bind_text(q, ":prefix", txn_prefix))
		return bind_fail(st, q, err, what);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW)
		return stmt_fail(st, q, err, what, rc);
	n = col_int(q, 0);
	stmt_done(q);
	return n;
}

int store_outbox_drop(struct store *st, const char *room,
		      const char *txn_prefix, struct err *err)
{
	const char *what = "uitgaande berichten schrappen";
	sqlite3_stmt *q = stmt_get(st, ST_OUTBOX_DROP, err);

	if (!q)
		return -1;
	if (bind_text(q, ":room", room) || bind_text(q, ":prefix", txn_prefix))
		return bind_fail(st, q, err, what);
	if (step_done(st, q, what, err) < 0)
		return -1;
	return sqlite3_changes(st->db);
}

int store_outbox_done(struct store *st, int64_t id, struct err *err)
{
	return store_outbox_done_many(st, &id, 1, err);
}

int store_outbox_done_many(struct store *st, const int64_t *ids, size_t n,
			   struct err *err)
{
	const char *what = "een verstuurd bericht afvinken";
	sqlite3_stmt *q;

	if (n == 0)
		return 0;
	if (store_begin(st, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		q = stmt_get(st, ST_OUTBOX_DONE, err);
		if (!q)
			goto fail;
		if (bind_int64(q, ":id", ids[i])) {
			bind_fail(st, q, err, what);
			goto fail;
		}
		if (step_done(st, q, what, err) < 0)
			goto fail;
	}
	if (store_commit(st, err) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return -1;
}

int store_room_set(struct store *st, const struct store_room *r,
		   struct err *err)
{
	const char *what = "een kamer opslaan";
	sqlite3_stmt *q = stmt_get(st, ST_ROOM_SET, err);
	int rc;

	if (!q)
		return -1;
	rc = bind_text(q, ":room", r->room) ||
	     bind_text(q, ":inviter", r->inviter) ||
	     bind_int64(q, ":joined", r->joined_ms);
	if (!rc) {
		int i = param(q, ":session");

		rc = !i ? SQLITE_RANGE : r->session_id ?
		     sqlite3_bind_int64(q, i, r->session_id) :
		     sqlite3_bind_null(q, i);
	}
	if (rc)
		return bind_fail(st, q, err, what);
	return step_done(st, q, what, err);
}

int store_rooms_list(struct store *st, struct store_room **out, size_t *n,
		     struct err *err)
{
	const char *what = "de kamers lezen";
	struct store_room *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *q = stmt_get(st, ST_ROOMS_LIST, err);
	int rc;

	*out = NULL;
	*n = 0;
	if (!q)
		return -1;
	for (rc = sqlite3_step(q); rc == SQLITE_ROW; rc = sqlite3_step(q)) {
		XGROW(v, cap, len + 1);
		v[len].room = col_str(q, 0);
		v[len].inviter = col_str(q, 1);
		v[len].joined_ms = col_i64(q, 2);
		v[len].session_id = col_i64(q, 3);
		len++;
	}
	if (rc != SQLITE_DONE) {
		store_rooms_free(v, len);
		return stmt_fail(st, q, err, what, rc);
	}
	stmt_done(q);
	*out = v;
	*n = len;
	return 0;
}

void store_rooms_free(struct store_room *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].room);
		free(v[i].inviter);
	}
	free(v);
}

int store_room_delete(struct store *st, const char *room, struct err *err)
{
	const char *what = "een kamer vergeten";
	sqlite3_stmt *q = stmt_get(st, ST_ROOM_DEL, err);

	if (!q)
		return -1;
	if (bind_text(q, ":room", room))
		return bind_fail(st, q, err, what);
	return step_done(st, q, what, err);
}

/* --- end-to-end encryption records ------------------------------------ */

static int crypto_bind(sqlite3_stmt *q, const struct store_crypto *c,
		       int wild)
{
	const char *k[3] = { c->k1, c->k2, c->k3 };
	static const char *const names[3] = { ":k1", ":k2", ":k3" };

	for (int i = 0; i < 3; i++)
		if (bind_text(q, names[i], k[i] || wild ? k[i] : ""))
			return SQLITE_RANGE;
	return bind_text(q, ":kind", c->kind);
}

int store_crypto_put(struct store *st, const struct store_crypto *c,
		     struct err *err)
{
	const char *what = "versleutelingsgegevens opslaan";
	sqlite3_stmt *q = stmt_get(st, ST_CRYPTO_PUT, err);

	if (!q)
		return -1;
	if (crypto_bind(q, c, 0) || bind_text(q, ":value", c->value) ||
	    bind_int64(q, ":n", c->n))
		return bind_fail(st, q, err, what);
	return step_done(st, q, what, err);
}

/* The rows of a bound crypto SELECT (k1, k2, k3, value, n). */
static int crypto_rows(struct store *st, sqlite3_stmt *q,
		       struct store_crypto **out, size_t *n, struct err *err)
{
	const char *what = "versleutelingsgegevens lezen";
	struct store_crypto *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	for (rc = sqlite3_step(q); rc == SQLITE_ROW; rc = sqlite3_step(q)) {
		XGROW(v, cap, len + 1);
		v[len].kind = NULL;
		v[len].k1 = col_str(q, 0);
		v[len].k2 = col_str(q, 1);
		v[len].k3 = col_str(q, 2);
		v[len].value = col_str(q, 3);
		v[len].n = col_i64(q, 4);
		len++;
	}
	if (rc != SQLITE_DONE) {
		store_crypto_free(v, len);
		return stmt_fail(st, q, err, what, rc);
	}
	stmt_done(q);
	*out = v;
	*n = len;
	return 0;
}

int store_crypto_list(struct store *st, const struct store_crypto *match,
		      struct store_crypto **out, size_t *n, struct err *err)
{
	sqlite3_stmt *q = stmt_get(st, ST_CRYPTO_LIST, err);

	*out = NULL;
	*n = 0;
	if (!q)
		return -1;
	if (crypto_bind(q, match, 1))
		return bind_fail(st, q, err, "versleutelingsgegevens lezen");
	return crypto_rows(st, q, out, n, err);
}

int store_crypto_older(struct store *st, const char *kind, int64_t before,
		       struct store_crypto **out, size_t *n, struct err *err)
{
	sqlite3_stmt *q = stmt_get(st, ST_CRYPTO_OLDER, err);

	*out = NULL;
	*n = 0;
	if (!q)
		return -1;
	if (bind_text(q, ":kind", kind) || bind_int64(q, ":before", before))
		return bind_fail(st, q, err, "versleutelingsgegevens lezen");
	return crypto_rows(st, q, out, n, err);
}

int store_crypto_delete_older(struct store *st, const char *kind,
			      int64_t before, struct err *err)
{
	const char *what = "oude versleutelingsgegevens wissen";
	sqlite3_stmt *q = stmt_get(st, ST_CRYPTO_DEL_OLDER, err);

	if (!q)
		return -1;
	if (bind_text(q, ":kind", kind) || bind_int64(q, ":before", before))
		return bind_fail(st, q, err, what);
	return step_done(st, q, what, err);
}

int store_crypto_get(struct store *st, const struct store_crypto *key,
		     char **value, int64_t *nval, struct err *err)
{
	struct store_crypto m = *key, *v;
	size_t n;

	*value = NULL;
	m.k1 = key->k1 ? key->k1 : "";
	m.k2 = key->k2 ? key->k2 : "";
	m.k3 = key->k3 ? key->k3 : "";
	if (store_crypto_list(st, &m, &v, &n, err) < 0)
		return -1;
	if (!n) {
		store_crypto_free(v, n);
		return 1;
	}
	*value = v[0].value;
	v[0].value = NULL;
	if (nval)
		*nval = v[0].n;
	store_crypto_free(v, n);
	return 0;
}

int store_crypto_delete(struct store *st, const struct store_crypto *match,
			struct err *err)
{
	const char *what = "versleutelingsgegevens wissen";
	sqlite3_stmt *q = stmt_get(st, ST_CRYPTO_DEL, err);

	if (!q)
		return -1;
	if (crypto_bind(q, match, 1))
		return bind_fail(st, q, err, what);
	return step_done(st, q, what, err);
}

void store_crypto_free(struct store_crypto *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].k1);
		free(v[i].k2);
		free(v[i].k3);
		if (v[i].value) {
			explicit_bzero(v[i].value, strlen(v[i].value));
			free(v[i].value);
		}
	}
	free(v);
}

/* --- retention -------------------------------------------------------- */

int store_purge(struct store *st, int64_t before_ms,
		struct store_session **out, size_t *n, struct err *err)
{
	static const char *const del[] = {
		"DELETE FROM rubric_events WHERE session_id = :id",
		"DELETE FROM annotations WHERE session_id = :id",
		"DELETE FROM turns WHERE session_id = :id",
		"UPDATE rooms SET session_id = NULL WHERE session_id = :id",
		"DELETE FROM sessions WHERE id = :id",
	};
	const char *what = "oude sessies verwijderen";
	struct store_session *all = NULL, *v = NULL;
	size_t nall = 0, len = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (store_sessions_list(st, &all, &nall, err) < 0)
		return -1;
	if (store_begin(st, err) < 0) {
		store_sessions_free(all, nall);
		return -1;
	}
	for (size_t i = 0; i < nall; i++) {
		/* open sessions are never purged: a rehearsal may be going on */
		int64_t when = all[i].ended_ms;

		if (!when || when >= before_ms)
			continue;
		for (size_t k = 0; k < ARRAY_LEN(del); k++) {
			sqlite3_stmt *q = NULL;
			int rc = sqlite3_prepare_v2(st->db, del[k], -1, &q,
						    NULL);

			if (rc == SQLITE_OK)
				rc = sqlite3_bind_int64(q, param(q, ":id"),
							all[i].id);
			if (rc == SQLITE_OK)
				rc = sqlite3_step(q);
			sqlite3_finalize(q);
			if (rc != SQLITE_DONE) {
				fail(st, err, what, rc);
				store_rollback(st);
				store_sessions_free(all, nall);
				store_sessions_free(v, len);
				return -1;
			}
		}
		XGROW(v, cap, len + 1);
		v[len++] = all[i];
		memset(&all[i], 0, sizeof(all[i]));
	}
	store_sessions_free(all, nall);
	if (store_commit(st, err) < 0) {
		store_rollback(st);
		store_sessions_free(v, len);
		return -1;
	}
	*out = v;
	*n = len;
	return 0;
}

int store_turn_set_event(struct store *st, int64_t session_id, int seq,
			 const char *event_id, struct err *err)
{
	const char *what = "een bericht aan zijn beurt koppelen";
	/* prepared once, like the others: one per persona line */
	sqlite3_stmt *q = stmt_get(st, ST_TURN_SET_EVENT, err);

	if (!q)
		return -1;
	if (bind_text(q, ":event", event_id) ||
	    bind_int64(q, ":session", session_id) ||
	    bind_int64(q, ":seq", seq))
		return bind_fail(st, q, err, what);
	return step_done(st, q, what, err);
}
