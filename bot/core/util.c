/* util.c - see util.h */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/random.h>
#include <jansson.h>
#include <sys/stat.h>

static void oom(size_t n)
{
	fprintf(stderr, "oefenkamer: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

void xtrim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void jansson_use_xmalloc(void)
{
	json_set_alloc_funcs(xmalloc, free);
}

void xgrow(void **arr, size_t *cap, size_t need, size_t elsz)
{
	size_t c = *cap;

	if (need <= c)
		return;
	if (c < 8)
		c = 8;
	while (c < need) {
		if (c > SIZE_MAX / 2 / elsz)
			oom(SIZE_MAX);
		c *= 2;
	}
	*arr = xrealloc(*arr, c * elsz);
	*cap = c;
}

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;                /* bytes in data */
	max_align_t data[];
};

void arena_init(struct arena *a)
{
	memset(a, 0, sizeof(*a));
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->chunk;

	while (c) {
		struct arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	memset(a, 0, sizeof(*a));
}

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c;

	if (size > SIZE_MAX - sizeof(*c))
		oom(SIZE_MAX);
	c = xmalloc(sizeof(*c) + size);
	c->size = size;
	c->next = NULL;
	return c;
}

void *arena_alloc(struct arena *a, size_t n, size_t align)
{
	struct arena_chunk *c;
	size_t at;

	if (!n)
		n = 1;    /* every block is inside its chunk: arena_owns */
	if (!align || align > _Alignof(max_align_t) || (align & (align - 1)))
		align = _Alignof(max_align_t);
	if (n > ARENA_CHUNK / 4) {
		/* a big block: a chunk of its own, behind the one filling
		 * so that its free room is not lost */
		c = chunk_new(n);
		if (a->chunk) {
			c->next = a->chunk->next;
			a->chunk->next = c;
		} else {
			a->chunk = c;
			a->used = n;
		}
		a->bytes += n;
		return c->data;
	}
	at = (a->used + align - 1) & ~(align - 1);
	if (!a->chunk || at + n > a->chunk->size) {
		c = chunk_new(ARENA_CHUNK);
		c->next = a->chunk;
		a->chunk = c;
		at = 0;
	}
	a->used = at + n;
	a->bytes += n;
	return (char *)a->chunk->data + at;
}

void *arena_dup(struct arena *a, const void *p, size_t n, size_t align)
{
	void *q = arena_alloc(a, n, align);

	if (n)
		memcpy(q, p, n);
	return q;
}

struct pool {
	struct arena arena;
	pthread_mutex_t lock;  /* pool_lock: interning from threads */
	size_t refs;
	size_t asked;
	/* the index: open addressing, at most half full; p NULL = free */
	struct pool_ent {
		const void *p;
		uint32_t hash;
		uint32_t n;
	} *ent;
	size_t cap, nent;
};

struct pool *pool_new(void)
{
	struct pool *p = xcalloc(1, sizeof(*p));

	arena_init(&p->arena);
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		fprintf(stderr, "oefenkamer: pthread_mutex_init failed\n");
		abort();
	}
	p->refs = 1;
	return p;
}

void pool_lock(struct pool *p)
{
	if (pthread_mutex_lock(&p->lock) != 0) {
		fprintf(stderr, "oefenkamer: pthread_mutex_lock failed\n");
		abort();
	}
}

void pool_unlock(struct pool *p)
{
	pthread_mutex_unlock(&p->lock);
}

struct pool *pool_ref(struct pool *p)
{
	if (p)
		p->refs++;
	return p;
}

void pool_unref(struct pool *p)
{
	if (!p || --p->refs)
		return;
	free(p->ent);
	arena_release(&p->arena);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void pool_seal(struct pool *p)
{
	free(p->ent);
	p->ent = NULL;
	p->cap = p->nent = 0;
}

/* The pool's own hash: eight bytes a step (its values matter only to
 * the table; FNV's byte a step was a sixth of a cached load). */
static uint64_t pool_hash(const void *data, size_t n)
{
	const unsigned char *s = data;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ h >> 29;
}

static void pool_place(struct pool_ent *ent, size_t cap,
		       const struct pool_ent *e)
{
	size_t i = e->hash & (cap - 1);

	while (ent[i].p)
		i = (i + 1) & (cap - 1);
	ent[i] = *e;
}

const void *pool_intern(struct pool *p, const void *data, size_t n,
			size_t align)
{
	uint64_t h64;
	struct pool_ent e;
	size_t i;

	if (!n)
		return NULL;
	if (!align || align > _Alignof(max_align_t) || (align & (align - 1)))
		align = _Alignof(max_align_t);
	if (n > UINT32_MAX)    /* no index for such: a copy of its own */
		return arena_dup(&p->arena, data, n, align);
	p->asked += n;
	h64 = pool_hash(data, n);
	e.hash = (uint32_t)(h64 ^ h64 >> 32);
	e.n = (uint32_t)n;
	if (p->cap) {
		for (i = e.hash & (p->cap - 1); p->ent[i].p;
		     i = (i + 1) & (p->cap - 1)) {
			const struct pool_ent *x = &p->ent[i];

			/* the same bytes at an alignment as strict */
			if (x->hash == e.hash && x->n == n &&
			    ((uintptr_t)x->p & (align - 1)) == 0 &&
			    memcmp(x->p, data, n) == 0)
				return x->p;
		}
	}
	if ((p->nent + 1) * 2 > p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 1024;
		struct pool_ent *nent = xcalloc(ncap, sizeof(*nent));

		for (i = 0; i < p->cap; i++)
			if (p->ent[i].p)
				pool_place(nent, ncap, &p->ent[i]);
		free(p->ent);
		p->ent = nent;
		p->cap = ncap;
	}
	e.p = arena_dup(&p->arena, data, n, align);
	pool_place(p->ent, p->cap, &e);
	p->nent++;
	return e.p;
}

size_t pool_bytes(const struct pool *p)
{
	return p->arena.bytes;
}

size_t pool_asked(const struct pool *p)
{
	return p->asked;
}

int arena_owns(const struct arena *a, const void *p)
{
	uintptr_t u = (uintptr_t)p;

	if (!p)
		return 0;
	for (const struct arena_chunk *c = a->chunk; c; c = c->next) {
		uintptr_t b = (uintptr_t)c->data;

		if (u >= b && u < b + c->size)
			return 1;
	}
	return 0;
}

size_t xsnprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		fprintf(stderr, "oefenkamer: bug: '%s' does not fit in %zu "
			"bytes\n", fmt, cap);
		abort();
	}
	return (size_t)n;
}

int vsnprintf_cut(char *buf, size_t cap, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, cap, fmt, ap);
	size_t k;

	if (n < 0) {
		buf[0] = '\0';
		return 1;
	}
	if ((size_t)n < cap)
		return 0;
	/* room for "…" and the NUL, then back to a character's first byte */
	k = cap - 4;
	while (k > 0 && ((unsigned char)buf[k] & 0xc0) == 0x80)
		k--;
	memcpy(buf + k, "\xe2\x80\xa6", 4);  /* "…" and the NUL */
	return 1;
}

int snprintf_cut(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int cut;

	va_start(ap, fmt);
	cut = vsnprintf_cut(buf, cap, fmt, ap);
	va_end(ap);
	return cut;
}

void err_set(struct err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf_cut(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void sbuf_init(struct sbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void sbuf_release(struct sbuf *sb)
{
	free(sb->buf);
	sbuf_init(sb);
}

void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void sbuf_add(struct sbuf *sb, const char *s, size_t n)
{
	XGROW(sb->buf, sb->cap, sb->len + n + 1);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_addc(struct sbuf *sb, char c)
{
	sbuf_add(sb, &c, 1);
}

void sbuf_addu(struct sbuf *sb, uint64_t v)
{
	char d[20];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sbuf_add(sb, d + i, sizeof(d) - i);
}

void sbuf_addi(struct sbuf *sb, int64_t v)
{
	if (v < 0) {
		sbuf_addc(sb, '-');
		sbuf_addu(sb, (uint64_t)0 - (uint64_t)v);
	} else {
		sbuf_addu(sb, (uint64_t)v);
	}
}

void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	XGROW(sb->buf, sb->cap, sb->len + (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

const char *sbuf_str(const struct sbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

char *sbuf_detach(struct sbuf *sb)
{
	char *s = sb->buf ? sb->buf : xstrdup("");

	sbuf_init(sb);
	return s;
}

int read_file(const char *path, size_t max, char **out, size_t *len,
	      struct err *err)
{
	struct sbuf sb;
	char chunk[65536];
	FILE *f;
	size_t n;
	int rc = -1;

	sbuf_init(&sb);
	f = fopen(path, "rb");
	if (!f) {
		err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* a regular file: room for all of it at once, not grown by
	 * doubling (a model cache file, a corpus: megabytes) */
	{
		struct stat st;

		if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size > 0 && (uint64_t)st.st_size <= max) {
			sb.cap = (size_t)st.st_size + 2;
			sb.buf = xmalloc(sb.cap);
			sb.len = fread(sb.buf, 1, (size_t)st.st_size, f);
			sb.buf[sb.len] = '\0';
		}
	}
	for (n = fread(chunk, 1, sizeof(chunk), f); n > 0;
	     n = fread(chunk, 1, sizeof(chunk), f)) {
		if (sb.len + n > max) {
			err_set(err, "%s: file is larger than %zu bytes",
				path, max);
			goto out;
		}
		sbuf_add(&sb, chunk, n);
	}
	if (ferror(f)) {
		err_set(err, "%s: read error: %s", path, strerror(errno));
		goto out;
	}
	*len = sb.len;
	*out = sbuf_detach(&sb);
	rc = 0;
out:
	fclose(f);
	sbuf_release(&sb);
	return rc;
}

int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

const char *quote_short(const char *s, char *buf, size_t cap)
{
	struct sbuf vis, sb;
	size_t max, n;

	if (!cap)
		return buf;
	/* what cannot be seen (or would end the quotes) is shown as '?' */
	sbuf_init(&vis);
	sbuf_add(&vis, "", 0);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		sbuf_addc(&vis, c < 0x20 || c == 0x7f || c == '"' ? '?' : *s);
	}
	/* fewer characters until the bytes fit */
	sbuf_init(&sb);
	for (max = 60;; max = max * 3 / 4) {
		sbuf_reset(&sb);
		quote_add(&sb, vis.buf, max);
		if (sb.len < cap || max <= 1)
			break;
	}
	n = sb.len < cap ? sb.len : 0;
	memcpy(buf, sbuf_str(&sb), n);
	buf[n] = '\0';
	sbuf_release(&sb);
	sbuf_release(&vis);
	return buf;
}

int utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			uint64_t w;

			/* plain ASCII, eight bytes at a time */
			while (i + 8 <= n) {
				memcpy(&w, p + i, 8);
				if (w & UINT64_C(0x8080808080808080))
					break;
				i += 8;
			}
			if (i < n && p[i] < 0x80)
				i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

size_t utf8_seq(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		k = 1;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		k = 2;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		k = 3;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (k >= n)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[j] & 0x3f);
	}
	if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k + 1;
}

#define REPLACEMENT "\xef\xbf\xbd"
#define ELLIPSIS "\xe2\x80\xa6"

size_t utf8_add_char(struct sbuf *sb, const char *s, size_t n)
{
	size_t k = utf8_seq(s, n);

	if (!k) {
		sbuf_adds(sb, REPLACEMENT);
		return 1;
	}
	sbuf_add(sb, s, k);
	return k;
}

void utf8_add_clean(struct sbuf *sb, const char *s)
{
	size_t n = strlen(s), i = 0;

	sbuf_add(sb, "", 0);
	while (i < n)
		i += utf8_add_char(sb, s + i, n - i);
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

void quote_add(struct sbuf *sb, const char *s, size_t max)
{
	size_t n = strlen(s), i = 0, chars = 0, start = sb->len;
	size_t word_end = 0;   /* sb->len after the last whole word */
	int space = 0;

	sbuf_add(sb, "", 0);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (is_space(c)) {
			if (sb->len > start && !space)
				word_end = sb->len;
			space = sb->len > start;
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			i++;
			continue;
		}
		if (chars + (space ? 2 : 1) > max) {
			/* back to the last whole word, if there is one */
			if (word_end > start) {
				sb->len = word_end;
				sb->buf[sb->len] = '\0';
			}
			sbuf_adds(sb, ELLIPSIS);
			return;
		}
		if (space) {
			sbuf_addc(sb, ' ');
			chars++;
		}
		space = 0;
		i += utf8_add_char(sb, s + i, n - i);
		chars++;
	}
}

void html_escape(struct sbuf *sb, const char *s, const char *nl)
{
	size_t n = strlen(s), i = 0;

	sbuf_add(sb, "", 0);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80) {
			i += utf8_add_char(sb, s + i, n - i);
			continue;
		}
		i++;
		switch (c) {
		case '&': sbuf_adds(sb, "&amp;"); break;
		case '<': sbuf_adds(sb, "&lt;"); break;
		case '>': sbuf_adds(sb, "&gt;"); break;
		case '"': sbuf_adds(sb, "&quot;"); break;
		case '\'': sbuf_adds(sb, "&#39;"); break;
		case '\n': sbuf_adds(sb, nl); break;
		case '\t': sbuf_addc(sb, ' '); break;
		default:
			if (c >= 0x20 && c != 0x7f)
				sbuf_addc(sb, (char)c);
			break;
		}
	}
}

uint64_t hash_fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

uint32_t hash_fnv32(uint32_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 16777619u;
	}
	return h;
}

int random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

void wipe_free(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "een object { \xe2\x80\xa6 }";
	case JSON_ARRAY:
		return "een lijst [ \xe2\x80\xa6 ]";
	case JSON_STRING:
		return "een tekst";
	case JSON_INTEGER:
		return "een geheel getal";
	case JSON_REAL:
		return "een kommagetal";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "iets onbekends";
}

const char *json_text_check(const json_t *v, size_t max, int multiline,
			    struct sbuf *why)
{
	const char *s;
	size_t len;
	int blank = 1;

	if (!json_is_string(v)) {
		sbuf_addf(why, "verwacht een tekst, niet %s",
			  json_type_name(v));
		return NULL;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > max) {
		sbuf_addf(why, "te lang (%zu bytes, hooguit %zu)", len, max);
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch != ' ' && ch != '\n' && ch != '\t' && ch != '\r')
			blank = 0;
		if ((ch == '\n' || ch == '\t') && !multiline) {
			sbuf_adds(why, "mag geen regeleinde of tab bevatten");
			return NULL;
		}
		if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f) {
			sbuf_addf(why, "bevat een onzichtbaar stuurteken "
				  "(byte %zu)", i + 1);
			return NULL;
		}
	}
	if (blank) {
		sbuf_adds(why, "mag niet leeg zijn");
		return NULL;
	}
	return s;
}

void log_line(const char *fmt, ...)
{
	va_list ap;
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s oefenkamer: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A word_set's table: t[0] is the slot mask (slots: a power of two, at
 * least twice the words), the slots follow it. */
static uint16_t *word_set_build(struct word_set *ws)
{
	size_t cap = 16;
	uint16_t *t, *was = NULL;

	while (cap < 2 * ws->n)
		cap *= 2;
	t = xcalloc(cap + 1, sizeof(*t));
	t[0] = (uint16_t)(cap - 1);
	for (size_t k = 0; k < ws->n; k++) {
		size_t i = hash_fnv32(HASH_FNV32_START, ws->list[k],
				      strlen(ws->list[k])) & (cap - 1);

		while (t[1 + i])
			i = (i + 1) & (cap - 1);
		t[1 + i] = (uint16_t)(k + 1);
	}
	/* another thread may have been first: then its table stays */
	if (!atomic_compare_exchange_strong(&ws->table, &was, t)) {
		free(t);
		return was;
	}
	return t;
}

int word_set_has(struct word_set *ws, const char *w, size_t n)
{
	uint16_t *t = atomic_load_explicit(&ws->table, memory_order_acquire);
	size_t mask, i;

	if (!t)
		t = word_set_build(ws);
	mask = t[0];
	for (i = hash_fnv32(HASH_FNV32_START, w, n) & mask; t[1 + i];
	     i = (i + 1) & mask) {
		const char *f = ws->list[t[1 + i] - 1];

		if (!strncmp(f, w, n) && !f[n])
			return 1;
	}
	return 0;
}
