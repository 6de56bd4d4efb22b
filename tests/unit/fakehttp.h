/* fakehttp.h - a tiny HTTP/1.1 server for tests, run in a thread of the
 * test on 127.0.0.1 (a port the kernel picks). Included by single-file
 * tests, hence all static.
 *
 * The test's route callback answers each complete request: it appends the
 * whole response to c->out and may delay it (c->reply_at: a mono_ms()
 * time, or NEVER). Requests on one connection are answered in order, a
 * waiting reply blocking the next, as in HTTP/1.1; connections are kept
 * alive. The callback runs on the server thread: what it shares with the
 * test goes under s->mu, as do the counters of accepts and requests.
 */
#ifndef OEF_TESTS_FAKEHTTP_H
#define OEF_TESTS_FAKEHTTP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define MAX_CONNS 64
#define MAX_PATH 4096            /* longer targets are cut (sscanf below) */
#define NEVER INT64_MAX

struct conn {
	int fd;
	struct sbuf in;
	int64_t reply_at;       /* NEVER, or when to send `out` */
	struct sbuf out;
	int waiting;
	/* Set by the route (or NULL): where to store, under the server's
	 * mutex, the mono_ms() time the reply went out (taken just before
	 * it is written: the client cannot have it earlier). */
	int64_t *sent_at;
};

struct server;

/* Answer one request (see above). hdr is the request line and headers
 * through the blank line, hlen bytes; body is blen bytes. */
typedef void route_fn(struct server *s, struct conn *c, const char *method,
		      const char *path, const char *hdr, size_t hlen,
		      const char *body, size_t blen);

struct server {
	int lfd;
	int port;
	int stop[2];
	pthread_t thread;
	route_fn *route;
	void *arg;              /* the test's, for route */
	struct conn conns[MAX_CONNS];
	size_t nconns;
	pthread_mutex_t mu;     /* the counters below, the route's log */
	int accepted;
	int requests;
};

static int send_all(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The value of header name (lower case, with the colon) in the header
 * block hdr of length n, copied into v; "" when absent. */
static void header_value(const char *hdr, size_t n, const char *name,
			 char *v, size_t vlen)
{
	size_t nl = strlen(name), i = 0, a, b;

	v[0] = '\0';
	while (i < n) {
		const char *eol = memchr(hdr + i, '\n', n - i);
		size_t end = eol ? (size_t)(eol - hdr) : n;

		if (end - i > nl && strncasecmp(hdr + i, name, nl) == 0) {
			a = i + nl;
			b = end;
			while (a < b && hdr[a] == ' ')
				a++;
			while (b > a && (hdr[b - 1] == '\r' ||
					 hdr[b - 1] == ' '))
				b--;
			if (b - a >= vlen)
				b = a + vlen - 1;
			memcpy(v, hdr + a, b - a);
			v[b - a] = '\0';
			return;
		}
		i = end + 1;
	}
}

static void add_reply(struct sbuf *out, int status, const char *reason,
		      const char *extra, const char *body, size_t len)
{
	sbuf_addf(out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		  "Content-Length: %zu\r\n%s\r\n", status, reason, len, extra);
	sbuf_add(out, body, len);
}

static void conn_close(struct server *s, size_t i)
{
	close(s->conns[i].fd);
	sbuf_release(&s->conns[i].in);
	sbuf_release(&s->conns[i].out);
	s->conns[i] = s->conns[--s->nconns];
}

/* Send what is due; 0 ok, -1 to close. */
static int conn_flush(struct server *s, struct conn *c)
{
	int64_t now = mono_ms();

	if (!c->waiting || c->reply_at == NEVER || c->reply_at > now)
		return 0;
	c->waiting = 0;
	if (send_all(c->fd, c->out.buf, c->out.len) < 0)
		return -1;
	sbuf_reset(&c->out);
	if (c->sent_at) {
		pthread_mutex_lock(&s->mu);
		*c->sent_at = now;
		pthread_mutex_unlock(&s->mu);
		c->sent_at = NULL;
	}
	return 0;
}

/* The end of the header block in p[0..n), or NULL. */
static const char *header_end(const char *p, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0)
			return p + i;
	return NULL;
}

/* Handle every complete request buffered on c (one at a time: a waiting
 * reply blocks the next, as in HTTP/1.1). 0 ok, -1 to close. */
static int conn_process(struct server *s, struct conn *c)
{
	char method[16], path[MAX_PATH], clen[32];
	const char *end;
	size_t hlen, blen, total;
	int n;

	while (!c->waiting && c->in.len > 0) {
		end = header_end(c->in.buf, c->in.len);
		if (!end)
			return 0;
		hlen = (size_t)(end - c->in.buf) + 4;
		header_value(c->in.buf, hlen, "content-length:", clen,
			     sizeof(clen));
		blen = clen[0] ? (size_t)strtoul(clen, NULL, 10) : 0;
		total = hlen + blen;
		if (c->in.len < total)
			return 0;
		n = sscanf(c->in.buf, "%15s %4095s", method, path);
		if (n != 2)
			return -1;
		pthread_mutex_lock(&s->mu);
		s->requests++;
		pthread_mutex_unlock(&s->mu);
		c->reply_at = 0;
		c->sent_at = NULL;
		s->route(s, c, method, path, c->in.buf, hlen,
			 c->in.buf + hlen, blen);
		memmove(c->in.buf, c->in.buf + total, c->in.len - total);
		c->in.len -= total;
		c->in.buf[c->in.len] = '\0';
		c->waiting = 1;
		if (conn_flush(s, c) < 0)
			return -1;
	}
	return 0;
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	struct pollfd pf[MAX_CONNS + 2];
	char buf[65536];
	int64_t next, now;
	ssize_t k;
	size_t i, n;
	int timeout, fd;

	for (;;) {
		pf[0].fd = s->stop[0];
		pf[0].events = POLLIN;
		pf[1].fd = s->lfd;
		pf[1].events = POLLIN;
		n = s->nconns;
		next = NEVER;
		for (i = 0; i < n; i++) {
			pf[i + 2].fd = s->conns[i].fd;
			pf[i + 2].events = POLLIN;
			pf[i + 2].revents = 0;
			if (s->conns[i].waiting && s->conns[i].reply_at < next)
				next = s->conns[i].reply_at;
		}
		now = mono_ms();
		timeout = next == NEVER ? -1 :
			  next <= now ? 0 : (int)(next - now);
		if (poll(pf, n + 2, timeout) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		/* Back to front: conn_close moves the last one into i. */
		for (i = n; i-- > 0;) {
			struct conn *c = &s->conns[i];

			if (pf[i + 2].revents) {
				k = recv(c->fd, buf, sizeof(buf), 0);
				if (k <= 0) {
					conn_close(s, i);
					continue;
				}
				sbuf_add(&c->in, buf, (size_t)k);
			}
			if (conn_flush(s, c) < 0 || conn_process(s, c) < 0)
				conn_close(s, i);
		}
		if ((pf[1].revents & POLLIN) && s->nconns < MAX_CONNS) {
			fd = accept(s->lfd, NULL, NULL);
			if (fd >= 0) {
				memset(&s->conns[s->nconns], 0,
				       sizeof(s->conns[0]));
				s->conns[s->nconns++].fd = fd;
				pthread_mutex_lock(&s->mu);
				s->accepted++;
				pthread_mutex_unlock(&s->mu);
			}
		}
	}
	while (s->nconns > 0)
		conn_close(s, s->nconns - 1);
	return NULL;
}

/* A socket on 127.0.0.1 with a port the kernel picks; listening or not. */
static int loopback_socket(int listening, int *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	if (listening)
		assert_int_equal(listen(fd, 64), 0);
	return fd;
}

/* Listen and serve with route(s, ...), s->arg = arg (borrowed until
 * server_stop). */
static struct server *server_start(route_fn *route, void *arg)
{
	struct server *s = xcalloc(1, sizeof(*s));

	s->route = route;
	s->arg = arg;
	s->lfd = loopback_socket(1, &s->port);
	assert_int_equal(pipe(s->stop), 0);
	pthread_mutex_init(&s->mu, NULL);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
	return s;
}

static void server_stop(struct server *s)
{
	assert_int_equal(write(s->stop[1], "x", 1), 1);
	pthread_join(s->thread, NULL);
	close(s->stop[0]);
	close(s->stop[1]);
	close(s->lfd);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* An int guarded by s->mu (a counter of s, or one the route keeps). */
static int server_count(struct server *s, int *field)
{
	int v;

	pthread_mutex_lock(&s->mu);
	v = *field;
	pthread_mutex_unlock(&s->mu);
	return v;
}

#endif
