/* mcache.c - see mcache.h. */
#include "mcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calib.h"
#include "model.h"
#include "script.h"
#include "util.h"

#define MAGIC "OEFKMOD\n"
/* Bump when the file's layout changes (the program's own hash changes
 * with any code anyway). */
#define FORMAT 1u
#define HEADER (8 + 4 + 16 + 8 + 16)
#define MAX_FILE (64u << 20)
#define SUFFIX ".model"

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/* Two lanes over 8-byte words: about a third of a millisecond for the
 * program's own 2 MB, where byte-wise FNV-1a took three. Not meant to
 * withstand someone choosing inputs, only to tell versions apart. */
void mcache_hash(const void *p, size_t n, uint64_t seed,
		 struct mcache_key *out)
{
	const unsigned char *b = p;
	uint64_t x = seed ^ UINT64_C(0x9e3779b97f4a7c15);
	uint64_t y = ~seed ^ (uint64_t)n;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, b + i, 8);
		x = (x ^ w) * UINT64_C(0x100000001b3);
		x = (x << 29) | (x >> 35);
		y = (y + w) * UINT64_C(0x9ddfea08eb382d69);
		y ^= y >> 31;
	}
	if (i < n) {
		uint64_t w = 0;

		memcpy(&w, b + i, n - i);
		x = (x ^ w ^ 0xff) * UINT64_C(0x100000001b3);
		y = (y + w + 1) * UINT64_C(0x9ddfea08eb382d69);
	}
	out->h[0] = mix(x ^ (uint64_t)n);
	out->h[1] = mix(y + out->h[0]);
}

char *mcache_default_dir(void)
{
	const char *v = getenv("OEFENKAMER_CACHE");
	struct sbuf sb;

	if (v)
		return *v && strcmp(v, "uit") != 0 ? xstrdup(v) : NULL;
	sbuf_init(&sb);
	v = getenv("XDG_CACHE_HOME");
	if (v && *v == '/') {
		sbuf_addf(&sb, "%s/oefenkamer", v);
	} else {
		v = getenv("HOME");
		if (!v || *v != '/')
			return NULL;
		sbuf_addf(&sb, "%s/.cache/oefenkamer", v);
	}
	return sbuf_detach(&sb);
}

/* This program's bytes, hashed once (scripts may load in threads:
 * catalog.c). */
static struct mcache_key prog_key;
static int prog_state;     /* 1 known, -1 unknown */
static pthread_once_t prog_once = PTHREAD_ONCE_INIT;

static void hash_program(void)
{
	struct err err;
	char *buf;
	size_t len;

	if (read_file("/proc/self/exe", 256u << 20, &buf, &len, &err) == 0) {
		mcache_hash(buf, len, FORMAT, &prog_key);
		free(buf);
		prog_state = 1;
	} else {
		prog_state = -1;
	}
}

static int program_key(struct mcache_key *k)
{
	pthread_once(&prog_once, hash_program);
	*k = prog_key;
	return prog_state > 0 ? 0 : -1;
}

int mcache_key_of(const struct script *s, const char *train, size_t len,
		  struct mcache_key *k)
{
	struct mcache_key prog, t;
	uint64_t parts[6];

	if (program_key(&prog) < 0)
		return -1;
	mcache_hash(train, len, s->digest, &t);
	parts[0] = prog.h[0];
	parts[1] = prog.h[1];
	parts[2] = s->digest;
	parts[3] = t.h[0];
	parts[4] = t.h[1];
	parts[5] = (uint64_t)len;
	mcache_hash(parts, sizeof(parts), FORMAT, k);
	return 0;
}

/* A scenario id that is safe as the start of a file name. */
static int plain_id(const char *id)
{
	if (!id || !*id || *id == '.' || *id == '-')
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

static void file_name(const struct script *s, const struct mcache_key *k,
		      struct sbuf *sb)
{
	sbuf_addf(sb, "%s-%016llx%016llx" SUFFIX, s->id,
		  (unsigned long long)k->h[0], (unsigned long long)k->h[1]);
}

/* The payload: the model (or none), then the quiet table (or none). */
static void payload(const struct script *s, struct sbuf *sb)
{
	size_t nk = CALIB_KEYS(s);
	uint64_t v;
	size_t at;

	v = s->model ? 1 : 0;
	sbuf_add(sb, (const char *)&v, 8);
	if (s->model) {
		at = sb->len;
		v = 0;
		sbuf_add(sb, (const char *)&v, 8);
		model_write(s->model, sb);
		v = (uint64_t)(sb->len - at - 8);
		memcpy(sb->buf + at, &v, 8);
	}
	v = s->quiet ? nk : 0;
	sbuf_add(sb, (const char *)&v, 8);
	if (s->quiet) {
		sbuf_add(sb, (const char *)s->quiet, nk);
		sbuf_add(sb, (const char *)s->quiet_seen, nk * 4);
		sbuf_add(sb, (const char *)s->quiet_right, nk * 4);
	}
}

static int take(const char **p, const char *end, void *to, size_t n)
{
	if ((size_t)(end - *p) < n)
		return -1;
	memcpy(to, *p, n);
	*p += n;
	return 0;
}

int mcache_load(const char *dir, const struct mcache_key *k,
		struct script *s)
{
	struct sbuf path;
	struct err err;
	struct mcache_key sum, fk;
	char *buf = NULL;
	const char *p, *end;
	size_t len, nk = CALIB_KEYS(s);
	uint64_t plen, has, mlen, qn;
	uint32_t fmt;
	struct model *md = NULL;
	uint8_t *quiet = NULL;
	uint32_t *seen = NULL, *right = NULL;
	struct stat st;
	int rc = -1;

	if (!dir || !plain_id(s->id) || s->model || s->quiet)
		return -1;
	sbuf_init(&path);
	sbuf_addf(&path, "%s/", dir);
	file_name(s, k, &path);
	/* only a file of ours that nobody else could have written */
	if (stat(path.buf, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022))
		goto out;
	if (read_file(path.buf, MAX_FILE, &buf, &len, &err) < 0 ||
	    len < HEADER || memcmp(buf, MAGIC, 8) != 0)
		goto out;
	p = buf + 8;
	end = buf + len;
	take(&p, end, &fmt, 4);
	take(&p, end, &fk, 16);
	take(&p, end, &plen, 8);
	take(&p, end, &sum, 16);
	if (fmt != FORMAT || memcmp(&fk, k, sizeof(fk)) != 0 ||
	    plen != (uint64_t)(end - p))
		goto out;
	mcache_hash(p, (size_t)plen, FORMAT, &fk);
	if (memcmp(&fk, &sum, sizeof(sum)) != 0)
		goto out;
	if (take(&p, end, &has, 8) < 0 || has > 1)
		goto out;
	if (has) {
		if (take(&p, end, &mlen, 8) < 0 ||
		    mlen > (uint64_t)(end - p))
			goto out;
		md = model_read(s, p, (size_t)mlen);
		if (!md)
			goto out;
		p += mlen;
	}
	if (take(&p, end, &qn, 8) < 0 || (qn && qn != nk))
		goto out;
	if (qn) {
		quiet = xcalloc(nk + 1, 1);
		seen = xcalloc(nk + 1, sizeof(uint32_t));
		right = xcalloc(nk + 1, sizeof(uint32_t));
		if (take(&p, end, quiet, nk) < 0 ||
		    take(&p, end, seen, nk * 4) < 0 ||
		    take(&p, end, right, nk * 4) < 0)
			goto out;
		for (size_t i = 0; i < nk; i++)
			if (quiet[i] > 1 || right[i] > seen[i])
				goto out;
	}
	if (p != end)
		goto out;
	/* last used: prune keeps it */
	utimensat(AT_FDCWD, path.buf, NULL, 0);
	s->model = md;
	s->quiet = quiet;
	s->quiet_seen = seen;
	s->quiet_right = right;
	md = NULL;
	quiet = NULL;
	seen = right = NULL;
	rc = 0;
out:
	model_free(md);
	free(quiet);
	free(seen);
	free(right);
	free(buf);
	sbuf_release(&path);
	return rc;
}

/* dir and the folders above it, as needed. */
static int make_dir(const char *dir)
{
	char *d = xstrdup(dir);
	int rc = 0;

	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (mkdir(d, 0700) != 0 && errno != EEXIST)
		rc = -1;
	free(d);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct aged {
	char *path;
	struct timespec mtime;
};

/* Newest first. */
static int cmp_aged(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
	return strcmp(x->path, y->path);
}

/* The scenario's files beyond the MCACHE_KEEP last used go (a read
 * touches its file), so two checkouts or builds side by side do not
 * throw each other's models out, and an old version's does not stay. */
static void prune(const char *dir, const struct script *s,
		  const char *keep)
{
	DIR *dp = opendir(dir);
	size_t idl = strlen(s->id), sl = strlen(SUFFIX), n = 0, cap = 0;
	struct aged *v = NULL;
	struct dirent *de;

	if (!dp)
		return;
	while ((de = readdir(dp)) != NULL) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		struct sbuf sb;
		struct stat st;

		/* "<id>-" then 32 hex digits, then the suffix */
		if (len != idl + 1 + 32 + sl ||
		    strncmp(name, s->id, idl) != 0 || name[idl] != '-' ||
		    strcmp(name + len - sl, SUFFIX) != 0)
			continue;
		sbuf_init(&sb);
		sbuf_addf(&sb, "%s/%s", dir, name);
		if (stat(sb.buf, &st) != 0) {
			sbuf_release(&sb);
			continue;
		}
		XGROW(v, cap, n + 1);
		v[n].path = sbuf_detach(&sb);
		v[n].mtime = st.st_mtim;
		n++;
	}
	closedir(dp);
	if (n)
		qsort(v, n, sizeof(*v), cmp_aged);
	/* the file just written stays, whatever its clock says */
	for (size_t i = 0, kept = 1; i < n; i++) {
		if (strcmp(v[i].path, keep) != 0 && kept++ >= MCACHE_KEEP)
			unlink(v[i].path);
		free(v[i].path);
	}
	free(v);
}

int mcache_save(const char *dir, const struct mcache_key *k,
		const struct script *s)
{
	struct sbuf body, head, name, tmp, fin;
	struct mcache_key sum;
	uint32_t fmt = FORMAT;
	uint64_t plen;
	int fd, rc = -1;

	if (!dir || !plain_id(s->id) || make_dir(dir) < 0)
		return -1;
	sbuf_init(&body);
	sbuf_init(&head);
	sbuf_init(&name);
	sbuf_init(&tmp);
	sbuf_init(&fin);
	payload(s, &body);
	plen = body.len;
	mcache_hash(body.buf, body.len, FORMAT, &sum);
	sbuf_add(&head, MAGIC, 8);
	sbuf_add(&head, (const char *)&fmt, 4);
	sbuf_add(&head, (const char *)k, 16);
	sbuf_add(&head, (const char *)&plen, 8);
	sbuf_add(&head, (const char *)&sum, 16);
	file_name(s, k, &name);
	sbuf_addf(&fin, "%s/%s", dir, name.buf);
	sbuf_addf(&tmp, "%s/.%s.%ld.tmp", dir, name.buf, (long)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (write_all(fd, head.buf, head.len) < 0 ||
	    write_all(fd, body.buf, body.len) < 0) {
		close(fd);
		unlink(tmp.buf);
		goto out;
	}
	if (close(fd) != 0 || rename(tmp.buf, fin.buf) != 0) {
		unlink(tmp.buf);
		goto out;
	}
	prune(dir, s, fin.buf);
	rc = 0;
out:
	sbuf_release(&body);
	sbuf_release(&head);
	sbuf_release(&name);
	sbuf_release(&tmp);
	sbuf_release(&fin);
	return rc;
}
