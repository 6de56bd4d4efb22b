/* http.c - see http.h. The only file that calls libcurl.
 *
 * Every running request is a curl easy handle in one multi handle, with a
 * struct req as its private pointer. A request lives on exactly one of
 * three lists: "waiting" (not started: at most MAX_HOST_CONNECTIONS run at
 * once, since more could only queue inside libcurl, each with its own
 * receive buffer), "running" (inside the multi handle) or "done"
 * (finished, callback not yet run). Finished easy handles are kept for
 * the next request (up to MAX_HOST_CONNECTIONS of them). http_poll()
 * first moves everything that finished to "done" and only then runs the
 * callbacks one at a time, so a callback may start requests or cancel any
 * other request (also one that is already on "done": it is then dropped
 * without a callback) without disturbing libcurl or the loop. The one
 * thing a callback must not do is http_free() the loop it runs in.
 *
 * The loop is libcurl's socket interface: libcurl tells us which sockets
 * to watch (on_socket) and when it next needs time (on_timer); http_poll()
 * polls exactly those and hands libcurl only the sockets that are ready.
 * (curl_multi_perform would visit every running transfer on every round,
 * each with a poll() of its own: a long-poll /sync costs a system call
 * per loop round that way.)
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

#define CONNECT_TIMEOUT_MS 10000L
#define MAX_HOST_CONNECTIONS 8L
#define MAX_RETRY_AFTER_S (7L * 24 * 3600)

#ifndef CURL_WRITEFUNC_ERROR            /* before curl 7.87 */
#define CURL_WRITEFUNC_ERROR 0          /* any short count aborts */
#endif

struct req {
	uint64_t id;
	CURL *easy;                  /* NULL while waiting */
	struct http *h;
	struct curl_slist *headers;  /* holds the bearer: wiped on free */
	char *body;                  /* our copy; wiped on free (passwords) */
	size_t body_len;
	size_t max_body;
	struct sbuf resp;
	long retry_after_ms;
	int too_large;
	const char *fail;            /* failed before it started, or NULL */
	CURLcode result;
	http_cb cb;
	void *arg;
	const char *method;          /* static string, for starting later */
	char *url;
	char *bearer;                /* wiped on free */
	char *content_type;          /* of the body, or NULL (JSON) */
	long timeout_ms;
	char errbuf[CURL_ERROR_SIZE];
	char msg[CURL_ERROR_SIZE + 16];
	struct req *prev, *next;
};

struct list {
	struct req *head, *tail;
	size_t n;
};

struct watch {
	curl_socket_t fd;
	short events;                /* POLLIN and/or POLLOUT */
};

struct http {
	CURLM *multi;
	struct watch *watch;         /* the sockets libcurl wants watched */
	size_t nwatch, watch_cap;
	struct pollfd *pfd;          /* poll()'s copy of watch, + extra_fd */
	size_t pfd_cap;
	int64_t timer_at;            /* libcurl's next timeout, or -1 */
	struct list waiting;
	struct list running;
	struct list done;
	CURL *idle[MAX_HOST_CONNECTIONS];   /* easy handles to reuse */
	size_t nidle;
	uint64_t next_id;
	size_t max_body;
	size_t body_bytes;           /* of the responses not yet freed */
};

static int global_ready;

static void list_push(struct list *l, struct req *r)
{
	r->next = NULL;
	r->prev = l->tail;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->n++;
}

static void list_remove(struct list *l, struct req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->prev = r->next = NULL;
	l->n--;
}

static struct req *list_find(const struct list *l, uint64_t id)
{
	struct req *r;

	for (r = l->head; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

/* The request must be out of the multi handle. Its easy handle is kept
 * for the next request when there is room. */
static void req_free(struct req *r)
{
	struct curl_slist *s;
	struct http *h = r->h;

	if (r->easy && h && h->nidle < MAX_HOST_CONNECTIONS) {
		curl_easy_reset(r->easy);   /* drops our pointers */
		h->idle[h->nidle++] = r->easy;
	} else if (r->easy) {
		curl_easy_cleanup(r->easy);
	}
	for (s = r->headers; s; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(r->headers);
	wipe_free(r->body, r->body_len);
	wipe_free(r->bearer, r->bearer ? strlen(r->bearer) : 0);
	free(r->url);
	free(r->content_type);
	if (h)
		h->body_bytes -= r->resp.len;
	sbuf_release(&r->resp);
	free(r);
}

/* Run the callback of a request that is on no list any more, then free
 * it. error overrides whatever happened (used for "cancelled"). */
static void req_finish(struct req *r, const char *error)
{
	struct http_response resp;
	const char *errbuf = r->errbuf;

	memset(&resp, 0, sizeof(resp));
	resp.retry_after_ms = r->retry_after_ms;
	if (!error)
		error = r->fail;
	if (error) {
		/* nothing else to decide */
	} else if (r->too_large || r->result == CURLE_FILESIZE_EXCEEDED) {
		error = "body too large";
	} else if (r->result == CURLE_OPERATION_TIMEDOUT) {
		snprintf_cut(r->msg, sizeof(r->msg), "timeout (%s)",
			 errbuf[0] ? errbuf : "no answer in time");
		error = r->msg;
	} else if (r->result != CURLE_OK) {
		error = errbuf[0] ? errbuf : curl_easy_strerror(r->result);
	} else if (curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE,
				     &resp.status) != CURLE_OK ||
		   resp.status <= 0) {
		resp.status = 0;
		error = "no HTTP status in the response";
	}
	if (error) {
		resp.status = 0;
		resp.error = error;
		resp.body = "";
		resp.len = 0;
	} else {
		resp.body = sbuf_str(&r->resp);
		resp.len = r->resp.len;
	}
	if (r->cb)
		r->cb(r->arg, &resp);
	req_free(r);
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
	struct req *r = userp;
	size_t len = size * n;

	if (len > r->max_body - r->resp.len) {
		r->too_large = 1;
		return CURL_WRITEFUNC_ERROR;
	}
	sbuf_add(&r->resp, data, len);
	r->h->body_bytes += len;
	return len;
}

/* Retry-After: delay-seconds / HTTP-date (RFC 9110 10.2.3). */
static long parse_retry_after(const char *v)
{
	long secs;
	time_t t, now;

	if (parse_long(v, 0, LONG_MAX, &secs) == 0) {
		if (secs > MAX_RETRY_AFTER_S)
			secs = MAX_RETRY_AFTER_S;
		return secs * 1000;
	}
	t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	now = time(NULL);
	if (t <= now)
		return 0;
	if (t - now > MAX_RETRY_AFTER_S)
		return MAX_RETRY_AFTER_S * 1000;
	return (long)(t - now) * 1000;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
	static const char name[] = "retry-after:";
	const size_t nlen = sizeof(name) - 1;
	struct req *r = userp;
	size_t len = size * n, a, b;
	char v[128];

	/* A new status line (after 100 Continue, say) starts over. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		r->retry_after_ms = -1;
		return len;
	}
	if (len <= nlen || strncasecmp(data, name, nlen) != 0)
		return len;
	a = nlen;
	b = len;
	while (a < b && (data[a] == ' ' || data[a] == '\t'))
		a++;
	while (b > a && (data[b - 1] == '\r' || data[b - 1] == '\n' ||
			 data[b - 1] == ' ' || data[b - 1] == '\t'))
		b--;
	if (b - a == 0 || b - a >= sizeof(v))
		return len;
	memcpy(v, data + a, b - a);
	v[b - a] = '\0';
	r->retry_after_ms = parse_retry_after(v);
	return len;
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what, or stop watching it. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp,
		     void *socketp)
{
	struct http *h = userp;
	size_t i;

	(void)e;
	(void)socketp;
	for (i = 0; i < h->nwatch && h->watch[i].fd != s; i++)
		;
	if (what == CURL_POLL_REMOVE) {
		if (i < h->nwatch)
			h->watch[i] = h->watch[--h->nwatch];
		return 0;
	}
	if (i == h->nwatch) {
		XGROW(h->watch, h->watch_cap, h->nwatch + 1);
		h->watch[h->nwatch++].fd = s;
	}
	h->watch[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
				     ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl wants control in timeout_ms (-1: no
 * timer). Acted on by http_poll, never from inside libcurl. */
static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
	struct http *h = userp;

	(void)m;
	h->timer_at = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	return 0;
}

struct http *http_new(void)
{
	struct http *h;

	if (!global_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		global_ready = 1;
	}
	h = xcalloc(1, sizeof(*h));
	h->multi = curl_multi_init();
	if (!h->multi) {
		free(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  MAX_HOST_CONNECTIONS);
	h->timer_at = -1;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, (void *)h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, (void *)h);
	h->max_body = HTTP_MAX_BODY;
	return h;
}

void http_free(struct http *h)
{
	struct req *r;

	if (!h)
		return;
	/* A callback run from here may start a request: it is cancelled
	 * in a later round of this loop. */
	for (;;) {
		if (h->done.head) {
			r = h->done.head;
			list_remove(&h->done, r);
		} else if (h->waiting.head) {
			r = h->waiting.head;
			list_remove(&h->waiting, r);
		} else {
			r = h->running.head;
			if (!r)
				break;
			list_remove(&h->running, r);
			curl_multi_remove_handle(h->multi, r->easy);
		}
		r->h = NULL;   /* no reuse of its easy handle */
		req_finish(r, "cancelled");
	}
	while (h->nidle)
		curl_easy_cleanup(h->idle[--h->nidle]);
	curl_multi_cleanup(h->multi);
	free(h->watch);
	free(h->pfd);
	free(h);
}

void http_set_max_body(struct http *h, size_t max)
{
	h->max_body = max ? max : HTTP_MAX_BODY;
}

/* The request cannot start: report it from the next http_poll(), never
 * from inside http_request() (callers do not expect re-entrancy). */
static uint64_t req_fail(struct http *h, struct req *r, const char *why)
{
	r->fail = why;
	list_push(&h->done, r);
	return r->id;
}

static CURLcode req_setup(struct req *r, const char *method,
			  const char *url, const char *bearer,
			  long timeout_ms)
{
	CURL *e = r->easy;
	CURLcode rc = CURLE_OK;
	struct curl_slist *l;
	struct sbuf auth;
	int post = strcmp(method, "POST") == 0;

#define SETOPT(opt, val) \
	do { \
		if (rc == CURLE_OK) \
			rc = curl_easy_setopt(e, (opt), (val)); \
	} while (0)

	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PRIVATE, (void *)r);
	SETOPT(CURLOPT_ERRORBUFFER, r->errbuf);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, (void *)r);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, (void *)r);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_VERBOSE, 0L);
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SETOPT(CURLOPT_USERAGENT, "Oefenkamer");
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_body);
	if (timeout_ms > 0) {
		SETOPT(CURLOPT_TIMEOUT_MS, timeout_ms);
		SETOPT(CURLOPT_CONNECTTIMEOUT_MS,
		       timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms
						       : CONNECT_TIMEOUT_MS);
	} else {
		SETOPT(CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	}

	if (r->body || post || strcmp(method, "GET") != 0) {
		if (!post)
			SETOPT(CURLOPT_CUSTOMREQUEST, method);
		SETOPT(CURLOPT_POSTFIELDS, r->body ? r->body : "");
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else {
		SETOPT(CURLOPT_HTTPGET, 1L);
	}
#undef SETOPT
	if (rc != CURLE_OK)
		return rc;

	/* "Expect:" stops the 100-continue round trip for big bodies; an
	 * empty "Content-Type:" stops curl's form content type. */
	l = curl_slist_append(NULL, "Expect:");
	if (l) {
		struct sbuf ct;

		sbuf_init(&ct);
		sbuf_adds(&ct, "Content-Type:");
		if (r->body) {
			sbuf_addc(&ct, ' ');
			sbuf_adds(&ct, r->content_type ? r->content_type :
				  "application/json");
		}
		l = curl_slist_append(l, ct.buf);
		sbuf_release(&ct);
	}
	if (l && bearer) {
		sbuf_init(&auth);
		sbuf_adds(&auth, "Authorization: Bearer ");
		sbuf_adds(&auth, bearer);
		l = curl_slist_append(l, auth.buf);
		explicit_bzero(auth.buf, auth.len);
		sbuf_release(&auth);
	}
	if (!l)
		return CURLE_OUT_OF_MEMORY;
	r->headers = l;
	return curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
}

/* Start waiting requests while fewer than MAX_HOST_CONNECTIONS run. */
static void start_waiting(struct http *h)
{
	struct req *r;
	CURLcode rc;

	while (h->running.n < MAX_HOST_CONNECTIONS && h->waiting.head) {
		r = h->waiting.head;
		list_remove(&h->waiting, r);
		r->easy = h->nidle ? h->idle[--h->nidle] : curl_easy_init();
		if (!r->easy) {
			req_fail(h, r, "cannot create a libcurl handle");
			continue;
		}
		rc = req_setup(r, r->method, r->url, r->bearer, r->timeout_ms);
		if (rc != CURLE_OK) {
			req_fail(h, r, curl_easy_strerror(rc));
			continue;
		}
		if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
			req_fail(h, r, "cannot start the request");
			continue;
		}
		list_push(&h->running, r);
	}
}

uint64_t http_request(struct http *h, const char *method, const char *url,
		      const char *bearer, const char *body, size_t len,
		      long timeout_ms, http_cb cb, void *arg)
{
	return http_request_typed(h, method, url, bearer, NULL, body, len,
				  timeout_ms, cb, arg);
}

uint64_t http_request_typed(struct http *h, const char *method,
			    const char *url, const char *bearer,
			    const char *content_type, const char *body,
			    size_t len, long timeout_ms, http_cb cb, void *arg)
{
	static const char *const methods[] = { "GET", "PUT", "POST",
					       "DELETE" };
	struct req *r = xcalloc(1, sizeof(*r));

	r->id = ++h->next_id;
	r->h = h;
	r->cb = cb;
	r->arg = arg;
	r->retry_after_ms = -1;
	r->max_body = h->max_body;
	sbuf_init(&r->resp);
	if (body) {
		r->body = xmalloc(len + 1);
		memcpy(r->body, body, len);
		r->body[len] = '\0';
		r->body_len = len;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(method, methods[i]) == 0)
			r->method = methods[i];
	if (!r->method)
		return req_fail(h, r, "unsupported HTTP method");
	/* A line break in a header value would forge headers. */
	if (bearer && strpbrk(bearer, "\r\n"))
		return req_fail(h, r, "invalid access token");
	if (content_type && (!*content_type ||
			     strpbrk(content_type, "\r\n")))
		return req_fail(h, r, "invalid content type");
	r->content_type = content_type ? xstrdup(content_type) : NULL;
	r->url = xstrdup(url);
	r->bearer = bearer ? xstrdup(bearer) : NULL;
	r->timeout_ms = timeout_ms;
	list_push(&h->waiting, r);
	start_waiting(h);
	return r->id;
}

void http_cancel(struct http *h, uint64_t id)
{
	struct req *r = list_find(&h->running, id);

	if (r) {
		list_remove(&h->running, r);
		curl_multi_remove_handle(h->multi, r->easy);
		req_free(r);
		start_waiting(h);
		return;
	}
	r = list_find(&h->waiting, id);
	if (r) {
		list_remove(&h->waiting, r);
		req_free(r);
		return;
	}
	r = list_find(&h->done, id);
	if (r) {
		list_remove(&h->done, r);
		req_free(r);
	}
}

/* Move every transfer libcurl reports as finished to the done list. */
static void collect_done(struct http *h)
{
	CURLMsg *m;
	int left;
	CURL *easy;
	CURLcode result;
	char *priv;
	struct req *r;

	for (m = curl_multi_info_read(h->multi, &left); m;
	     m = curl_multi_info_read(h->multi, &left)) {
		if (m->msg != CURLMSG_DONE)
			continue;
		/* m is invalid after remove_handle: copy first. */
		easy = m->easy_handle;
		result = m->data.result;
		priv = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		r = (struct req *)(void *)priv;
		curl_multi_remove_handle(h->multi, easy);
		if (!r)
			continue;
		r->result = result;
		list_remove(&h->running, r);
		list_push(&h->done, r);
	}
}

int http_poll(struct http *h, int timeout_ms, int extra_fd)
{
	int running = 0, ready = 0, rc = 0, n;
	size_t npolled = h->nwatch, nfd = npolled;
	int64_t now = mono_ms();
	struct req *r;

	if (timeout_ms < 0 || h->done.head)
		timeout_ms = 0;
	if (h->timer_at >= 0 && h->timer_at - now < timeout_ms)
		timeout_ms = h->timer_at <= now ? 0 :
			     (int)(h->timer_at - now);
	XGROW(h->pfd, h->pfd_cap, nfd + 1);
	for (size_t i = 0; i < nfd; i++) {
		h->pfd[i].fd = h->watch[i].fd;
		h->pfd[i].events = h->watch[i].events;
		h->pfd[i].revents = 0;
	}
	if (extra_fd >= 0) {
		h->pfd[nfd].fd = extra_fd;
		h->pfd[nfd].events = POLLIN;
		h->pfd[nfd].revents = 0;
		nfd++;
	}
	n = poll(h->pfd, (nfds_t)nfd, timeout_ms);
	if (n < 0 && errno != EINTR)
		rc = -1;
	if (extra_fd >= 0 && n > 0 && (h->pfd[nfd - 1].revents & POLLIN))
		ready = 1;
	/* Only the ready sockets; the watch list may change under us, the
	 * copy in pfd does not (libcurl ignores a socket it dropped). */
	for (size_t i = 0; n > 0 && i < npolled; i++) {
		short re = h->pfd[i].revents;
		int ev = 0;

		if (!re)
			continue;
		if (re & (POLLIN | POLLHUP))
			ev |= CURL_CSELECT_IN;
		if (re & POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (re & (POLLERR | POLLNVAL))
			ev |= CURL_CSELECT_ERR;
		if (curl_multi_socket_action(h->multi, h->pfd[i].fd, ev,
					     &running) != CURLM_OK)
			rc = -1;
	}
	if (h->timer_at >= 0 && mono_ms() >= h->timer_at) {
		h->timer_at = -1;
		if (curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
					     &running) != CURLM_OK)
			rc = -1;
	}
	collect_done(h);
	start_waiting(h);
	for (r = h->done.head; r; r = h->done.head) {
		list_remove(&h->done, r);
		req_finish(r, NULL);
	}
	return rc < 0 ? rc : ready;
}

size_t http_pending(const struct http *h)
{
	return h->waiting.n + h->running.n + h->done.n;
}

size_t http_body_bytes(const struct http *h)
{
	return h->body_bytes;
}

void http_escape(struct sbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char e[3];

	for (; *s; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			sbuf_addc(out, (char)c);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		sbuf_add(out, e, 3);
	}
}
