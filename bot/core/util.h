/* util.h - allocation, error reporting and growable strings.
 *
 * Out of memory is the one failure we do not propagate: the x* family
 * aborts with a message. Everything else returns an int (0 ok, <0 error)
 * and may fill a struct err for the user.
 */
#ifndef OEF_UTIL_H
#define OEF_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A fixed list of words asked about once per token (function words,
 * English words): a hash table over the list, built on the first
 * question by whichever thread asks first and never freed. Declare with
 * WORD_SET(list) at file scope. */
struct word_set {
	const char *const *list;
	size_t n;
	_Atomic(uint16_t *) table;    /* the slot mask, then list index + 1
				       * per slot (0 empty) */
};

#define WORD_SET(l) { (l), ARRAY_LEN(l), NULL }

/* 1 if the n bytes at w are one of ws's words (at most 2^15 of them). */
int word_set_has(struct word_set *ws, const char *w, size_t n);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Make jansson allocate through xmalloc, so that its out of memory
 * aborts with our message instead of surfacing as a NULL json_t that
 * reads like bad input. Call once at the very start of every program
 * (main, each test and fuzz binary), before any json_* call. */
void jansson_use_xmalloc(void);

/* Give the heap's free pages back to the system after a large
 * transient (a big /sync batch parsed and released): without it the
 * pages stay resident and count as the process's memory for good.
 * glibc only; a no-op elsewhere. */
void xtrim(void);

/* Grow *arr (of element size elsz) so that it holds at least need
 * elements; *cap is updated. */
void xgrow(void **arr, size_t *cap, size_t need, size_t elsz);
#define XGROW(arr, cap, need) \
	xgrow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* Many small blocks that live and die together (a loaded script's
 * pattern tree): handed out from chunks of ARENA_CHUNK bytes without
 * malloc's header and rounding per block, and freed all at once by
 * arena_release. Embedded: arena_init / arena_release. A block is
 * valid until arena_release and is never passed to free (arena_owns
 * tells a caller which it holds). */
#define ARENA_CHUNK 32768
struct arena_chunk;
struct arena {
	struct arena_chunk *chunk;  /* the one filling, then older ones */
	size_t used;                /* bytes of chunk handed out */
	size_t bytes;               /* handed out in all, for figures */
};
void arena_init(struct arena *a);
void arena_release(struct arena *a);
/* n bytes aligned to align (a power of two, at most that of
 * max_align_t: pass _Alignof the type); over a quarter of a chunk, a
 * chunk of their own. Aborts like xmalloc when out of memory. */
void *arena_alloc(struct arena *a, size_t n, size_t align);
/* A copy of the n bytes at p, aligned as arena_alloc. */
void *arena_dup(struct arena *a, const void *p, size_t n, size_t align);
/* 1 if p points into a block of a, else 0 (NULL: 0). */
int arena_owns(const struct arena *a, const void *p);

/* An arena shared by several owners whose blocks are unique by content
 * (hash-consing): pool_intern hands out the block the pool already
 * holds with the same bytes, or a new copy. The scripts of a catalog
 * keep their pattern trees in one (script.c), so the shared gedeeld/
 * includes and the patterns that repeat are held once. Counted
 * references: pool_new gives one, every owner takes its own with
 * pool_ref and gives it back with pool_unref; the last frees every
 * block. pool_seal frees the index of contents (most of the pool's
 * own cost) once no more sharing is expected: later blocks are still
 * interned among themselves. Threads that intern into one pool, or
 * take references to it, hold pool_lock while they do. */
struct pool;
struct pool *pool_new(void);
struct pool *pool_ref(struct pool *p);
void pool_unref(struct pool *p);
void pool_lock(struct pool *p);
void pool_unlock(struct pool *p);
/* The n bytes at data, aligned to align (as arena_alloc), valid until
 * the last pool_unref; NULL for n == 0. Never modify or free it. */
const void *pool_intern(struct pool *p, const void *data, size_t n,
			size_t align);
void pool_seal(struct pool *p);
/* Bytes of distinct blocks held, and bytes asked for in all (what the
 * blocks would have taken without sharing): for figures and tests. */
size_t pool_bytes(const struct pool *p);
size_t pool_asked(const struct pool *p);

/* snprintf whose output must fit: the format and arguments are bounded
 * by construction (numbers, hashes, names from our own tables), so a
 * cut would be a bug and aborts with a message, like running out of
 * memory. Never for text that comes from outside: use struct sbuf, or
 * snprintf_cut for a message. Returns the length written. */
size_t xsnprintf(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* vsnprintf for a human-readable message that may be cut: when the text
 * does not fit in cap bytes it is cut on a UTF-8 character boundary and
 * ends in "…". Returns 1 if it was cut, 0 if not. cap >= 4. */
int vsnprintf_cut(char *buf, size_t cap, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int snprintf_cut(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A human-readable reason for a failure. Functions that take a
 * struct err * accept NULL. A message longer than msg is cut with "…". */
struct err {
	char msg[1024];
};
void err_set(struct err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A growable NUL-terminated string. Embedded: sbuf_init/sbuf_release. */
struct sbuf {
	char *buf;  /* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
};
void sbuf_init(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);
void sbuf_reset(struct sbuf *sb);
void sbuf_add(struct sbuf *sb, const char *s, size_t n);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_addc(struct sbuf *sb, char c);
/* A decimal number, without printf (for state written on every turn). */
void sbuf_addu(struct sbuf *sb, uint64_t v);
void sbuf_addi(struct sbuf *sb, int64_t v);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The string, or "" when empty; borrowed until the next change. */
const char *sbuf_str(const struct sbuf *sb);
/* Caller frees the returned string; sb is left empty. */
char *sbuf_detach(struct sbuf *sb);

/* Read a whole file; caller frees *out. Fails on files over max bytes. */
int read_file(const char *path, size_t max, char **out, size_t *len,
	      struct err *err);

/* Strict decimal parse of the whole string into [min, max]. */
int parse_long(const char *s, long min, long max, long *out);

/* s fit to quote in a one-line error message: quote_add's text of at
 * most 60 characters (less when cap is small), with control characters
 * and double quotes shown as '?'. Returns buf. */
const char *quote_short(const char *s, char *buf, size_t cap);

/* 1 if s is valid UTF-8 of exactly n bytes, else 0. */
int utf8_valid(const char *s, size_t n);
/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0. */
size_t utf8_seq(const char *s, size_t n);
/* Copy the character at s (n > 0 bytes left) to sb, an invalid byte as
 * U+FFFD; returns the bytes consumed. */
size_t utf8_add_char(struct sbuf *sb, const char *s, size_t n);
/* s with every invalid UTF-8 byte as U+FFFD (as jansson wants it). */
void utf8_add_clean(struct sbuf *sb, const char *s);

/* The one quoter: s on one line, each run of white space one space,
 * control characters dropped, invalid UTF-8 as U+FFFD; at most max
 * characters, cut at a word boundary (inside a word only when the first
 * word alone is longer) and then ended with an ellipsis. */
void quote_add(struct sbuf *sb, const char *s, size_t max);

/* The one HTML escaper, for text and attribute values: & < > " ' as
 * entities, invalid UTF-8 as U+FFFD, tab as a space, other control
 * characters dropped, and each newline replaced by nl ("<br>", " "…). */
void html_escape(struct sbuf *sb, const char *s, const char *nl);

/* FNV-1a over n bytes from state h; start with the _START value. The
 * 64-bit one where values are stored or compared, the 32-bit one for
 * in-memory tables. */
#define HASH_FNV64_START 14695981039346656037ull
#define HASH_FNV32_START 2166136261u
uint64_t hash_fnv64(uint64_t h, const void *p, size_t n);
uint32_t hash_fnv32(uint32_t h, const void *p, size_t n);

/* Fill buf with n bytes from the kernel's CSPRNG (getrandom, retried on
 * EINTR). Returns 0, or -1 with errno set. */
int random_bytes(void *buf, size_t n);

/* Wipe len bytes at p with explicit_bzero, then free; NULL is a no-op. */
void wipe_free(void *p, size_t len);

/* jansson's name of a JSON value's type, in Dutch for messages to the
 * user ("een object { … }", "een tekst", …). */
struct json_t;
const char *json_type_name(const struct json_t *v);

/* The one check of a text value read from a file a person wrote (the
 * config, a persona): v must be a string that is not blank, at most max
 * bytes, without control characters (newline and tab only when
 * multiline). Returns the string, borrowed from v; or NULL with the
 * reason in Dutch appended to why, to follow "<where>: ". */
const char *json_text_check(const struct json_t *v, size_t max,
			    int multiline, struct sbuf *why);

/* One line to stderr for whoever runs the bot: local time, the program
 * name, the message. Never pass secrets. */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Milliseconds since the Unix epoch. */
int64_t now_ms(void);
/* Milliseconds of a monotonic clock, for timers and durations. */
int64_t mono_ms(void);

#endif
