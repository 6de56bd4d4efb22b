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

/* 1 if the n bytes at w are one of the nlist NUL-terminated words of
 * list, which is sorted as strcmp sorts; binary search. */
int words_sorted_has(const char *const *list, size_t nlist, const char *w,
		     size_t n);

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

/* Grow *arr (of element size elsz) so that it holds at least need
 * elements; *cap is updated. */
void xgrow(void **arr, size_t *cap, size_t need, size_t elsz);
#define XGROW(arr, cap, need) \
	xgrow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

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

/* s (valid UTF-8) fit to quote in a one-line message: at most about 60
 * bytes, cut on a character boundary, control characters and double
 * quotes shown as '?', an ellipsis when cut. Returns buf. */
const char *quote_short(const char *s, char *buf, size_t cap);

/* 1 if s is valid UTF-8 of exactly n bytes, else 0. */
int utf8_valid(const char *s, size_t n);

/* One line to stderr for whoever runs the bot: local time, the program
 * name, the message. Never pass secrets. */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Milliseconds since the Unix epoch. */
int64_t now_ms(void);
/* Milliseconds of a monotonic clock, for timers and durations. */
int64_t mono_ms(void);

#endif
