/* test_http.c - the HTTP layer against the tiny server of fakehttp.h. The
 * request path picks the answer:
 *   /echo...       200, JSON describing the request (method, headers, body)
 *   /delay/N...    the same, N milliseconds later
 *   /ratelimit     429 with Retry-After: 2
 *   /ratelimit-date 429 with Retry-After as an HTTP date 10 s ahead
 *   /error         500
 *   /big           200 with 200000 bytes (Content-Length)
 *   /big-chunked   200 with 200000 bytes (chunked, no length up front)
 *   /slow          never answers
 */
#include "fakehttp.h"

#include <time.h>

#include <jansson.h>

#include "http.h"
#include "util.h"

#define BIG_LEN 200000

/* ---- the server's answers ---- */

static void add_echo(struct sbuf *out, const char *method, const char *path,
		     const char *hdr, size_t hlen, const char *body,
		     size_t blen)
{
	char auth[256], ctype[128], expect[64];
	json_t *o;
	char *s;

	header_value(hdr, hlen, "authorization:", auth, sizeof(auth));
	header_value(hdr, hlen, "content-type:", ctype, sizeof(ctype));
	header_value(hdr, hlen, "expect:", expect, sizeof(expect));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s%, s:i}",
		      "method", method, "path", path, "auth", auth,
		      "content_type", ctype, "expect", expect,
		      "body", body, blen, "body_len", (json_int_t)blen);
	s = json_dumps(o, JSON_COMPACT);
	add_reply(out, 200, "OK", "", s, strlen(s));
	free(s);
	json_decref(o);
}

/* Answer one complete request (a route_fn). */
static void route(struct server *s, struct conn *c, const char *method,
		  const char *path, const char *hdr, size_t hlen,
		  const char *body, size_t blen)
{
	struct sbuf *out = &c->out;
	static const char limited[] =
		"{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":2000}";
	char date[64], extra[128];
	time_t t;
	struct tm tm;
	long ms;
	char *big;

	if (strncmp(path, "/echo", 5) == 0) {
		add_echo(out, method, path, hdr, hlen, body, blen);
	} else if (strncmp(path, "/delay/", 7) == 0) {
		ms = strtol(path + 7, NULL, 10);
		add_echo(out, method, path, hdr, hlen, body, blen);
		c->reply_at = mono_ms() + ms;
	} else if (strcmp(path, "/ratelimit") == 0) {
		add_reply(out, 429, "Too Many Requests", "Retry-After: 2\r\n",
			  limited, strlen(limited));
	} else if (strcmp(path, "/ratelimit-date") == 0) {
		t = time(NULL) + 10;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		snprintf(extra, sizeof(extra), "Retry-After: %s\r\n", date);
		add_reply(out, 429, "Too Many Requests", extra, limited,
			  strlen(limited));
	} else if (strcmp(path, "/error") == 0) {
		add_reply(out, 500, "Internal Server Error", "",
			  "{\"errcode\":\"M_UNKNOWN\"}", 23);
	} else if (strcmp(path, "/big") == 0) {
		big = xmalloc(BIG_LEN);
		memset(big, 'x', BIG_LEN);
		add_reply(out, 200, "OK", "", big, BIG_LEN);
		free(big);
	} else if (strcmp(path, "/big-chunked") == 0) {
		big = xmalloc(1000);
		memset(big, 'y', 1000);
		sbuf_adds(out, "HTTP/1.1 200 OK\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n");
		for (int i = 0; i < BIG_LEN / 1000; i++) {
			sbuf_adds(out, "3e8\r\n");
			sbuf_add(out, big, 1000);
			sbuf_adds(out, "\r\n");
		}
		sbuf_adds(out, "0\r\n\r\n");
		free(big);
	} else if (strcmp(path, "/slow") == 0) {
		c->reply_at = NEVER;
	} else {
		add_reply(out, 404, "Not Found", "", "{}", 2);
	}
}

/* ---- the client side ---- */

struct fx {
	struct server *srv;
	struct http *h;
	struct sbuf url;
};

struct result {
	int calls;
	long status;
	char *body;
	size_t len;
	long retry_after_ms;
	char *error;
	/* for the callbacks that act on the loop */
	struct http *h;
	uint64_t cancel_id;
	struct result *started;
	struct sbuf *url;
	int *order;
	int *norder;
	int tag;
};

static void on_done(void *arg, const struct http_response *r)
{
	struct result *res = arg;

	res->calls++;
	res->status = r->status;
	free(res->body);
	res->body = xstrndup(r->body, r->len);
	res->len = r->len;
	assert_int_equal(strlen(r->body), r->len);
	res->retry_after_ms = r->retry_after_ms;
	free(res->error);
	res->error = r->error ? xstrdup(r->error) : NULL;
	assert_true((r->status == 0) == (r->error != NULL));
	if (res->order)
		res->order[(*res->norder)++] = res->tag;
}

static void result_release(struct result *res)
{
	free(res->body);
	free(res->error);
	res->body = NULL;
	res->error = NULL;
}

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));

	fx->srv = server_start(route, NULL);
	fx->h = http_new();
	assert_non_null(fx->h);
	sbuf_init(&fx->url);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	http_free(fx->h);
	server_stop(fx->srv);
	sbuf_release(&fx->url);
	free(fx);
	return 0;
}

static const char *url(struct fx *fx, const char *path)
{
	sbuf_reset(&fx->url);
	sbuf_addf(&fx->url, "http://127.0.0.1:%d%s", fx->srv->port, path);
	return sbuf_str(&fx->url);
}

/* Poll until nothing is pending (or max_ms passed); returns elapsed ms. */
static int64_t run(struct http *h, int64_t max_ms)
{
	int64_t t0 = mono_ms();

	while (http_pending(h) > 0 && mono_ms() - t0 < max_ms)
		assert_true(http_poll(h, 50, -1) >= 0);
	assert_int_equal(http_pending(h), 0);
	return mono_ms() - t0;
}

static void get(struct fx *fx, const char *path, struct result *res)
{
	assert_true(http_request(fx->h, "GET", url(fx, path), NULL, NULL, 0,
				 10000, on_done, res) > 0);
	run(fx->h, 15000);
	assert_int_equal(res->calls, 1);
}

static json_t *body_json(const struct result *res)
{
	json_t *j = json_loadb(res->body, res->len, 0, NULL);

	assert_non_null(j);
	return j;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	assert_non_null(s);
	return s;
}

/* ---- tests ---- */

static void test_ok_json(void **state)
{
	struct fx *fx = *state;
	struct result res = { 0 };
	json_t *j;

	get(fx, "/echo/a", &res);
	assert_int_equal(res.status, 200);
	assert_null(res.error);
	assert_int_equal(res.retry_after_ms, -1);
	j = body_json(&res);
	assert_string_equal(jstr(j, "method"), "GET");
	assert_string_equal(jstr(j, "path"), "/echo/a");
	assert_string_equal(jstr(j, "auth"), "");
	assert_string_equal(jstr(j, "content_type"), "");
	json_decref(j);
	result_release(&res);
}

static void test_bearer_and_body(void **state)
{
	struct fx *fx = *state;
	struct result res = { 0 };
	char body[2001];
	json_t *j;

	/* > 1024 bytes: curl would send "Expect: 100-continue" */
	memset(body, 'a', 2000);
	memcpy(body, "{\"k\":\"", 6);
	memcpy(body + 1998, "\"}", 2);
	body[2000] = '\0';
	assert_true(http_request(fx->h, "PUT", url(fx, "/echo/put"),
				 "syt_s3cret_token", body, 2000, 10000,
				 on_done, &res) > 0);
	run(fx->h, 15000);
	assert_int_equal(res.status, 200);
	j = body_json(&res);
	assert_string_equal(jstr(j, "method"), "PUT");
	assert_string_equal(jstr(j, "auth"), "Bearer syt_s3cret_token");
	assert_string_equal(jstr(j, "content_type"), "application/json");
	assert_string_equal(jstr(j, "expect"), "");
	assert_int_equal(json_integer_value(json_object_get(j, "body_len")),
			 2000);
	assert_string_equal(jstr(j, "body"), body);
	json_decref(j);

	/* POST without a body: no form content type sneaks in */
	res.calls = 0;
	assert_true(http_request(fx->h, "POST", url(fx, "/echo/post"),
				 "tok", NULL, 0, 10000, on_done, &res) > 0);
	run(fx->h, 15000);
	assert_int_equal(res.calls, 1);
	j = body_json(&res);
	assert_string_equal(jstr(j, "method"), "POST");
	assert_string_equal(jstr(j, "content_type"), "");
	assert_int_equal(json_integer_value(json_object_get(j, "body_len")),
			 0);
	json_decref(j);
	result_release(&res);
}

static void test_bad_bearer(void **state)
{
	struct fx *fx = *state;
	struct result res = { 0 };

	assert_true(http_request(fx->h, "GET", url(fx, "/echo"),
				 "tok\r\nX-Evil: 1", NULL, 0, 10000,
				 on_done, &res) > 0);
	/* reported from http_poll, never from inside http_request */
	assert_int_equal(res.calls, 0);
	assert_int_equal(http_pending(fx->h), 1);
	run(fx->h, 5000);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.error, "invalid access token");
	assert_int_equal(server_count(fx->srv, &fx->srv->requests), 0);
	result_release(&res);
}

static void test_retry_after(void **state)
{
	struct fx *fx = *state;
	struct result res = { 0 };

	get(fx, "/ratelimit", &res);
	assert_int_equal(res.status, 429);
	assert_null(res.error);
	assert_int_equal(res.retry_after_ms, 2000);
	assert_non_null(strstr(res.body, "M_LIMIT_EXCEEDED"));

	res.calls = 0;
	get(fx, "/ratelimit-date", &res);
	assert_int_equal(res.status, 429);
	/* 10 s ahead, in whole seconds, minus the time the test took */
	assert_in_range(res.retry_after_ms, 7000, 11000);
	assert_int_equal(res.retry_after_ms % 1000, 0);
	result_release(&res);
}

static void test_server_error(void **state)
{
	struct fx *fx = *state;
	struct result res = { 0 };

	get(fx, "/error", &res);
	assert_int_equal(res.status, 500);
	assert_null(res.error);
	assert_int_equal(res.retry_after_ms, -1);
	assert_string_equal(res.body, "{\"errcode\":\"M_UNKNOWN\"}");
	result_release(&res);
}

static void test_body_cap(void **state)
{
	struct fx *fx = *state;
	struct result res = { 0 };

	http_set_max_body(fx->h, 1000);
	get(fx, "/big", &res);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.error, "body too large");
	assert_int_equal(res.len, 0);
	assert_string_equal(res.body, "");

	res.calls = 0;
	get(fx, "/big-chunked", &res);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.error, "body too large");
	assert_int_equal(res.len, 0);

	/* exactly at the cap is fine */
	http_set_max_body(fx->h, BIG_LEN);
	res.calls = 0;
	get(fx, "/big-chunked", &res);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.len, BIG_LEN);
	assert_int_equal(res.body[BIG_LEN - 1], 'y');
	res.calls = 0;
	get(fx, "/big", &res);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.len, BIG_LEN);

	http_set_max_body(fx->h, 0);
	res.calls = 0;
	get(fx, "/big", &res);
	assert_int_equal(res.status, 200);
	result_release(&res);
}

static void test_refused(void **state)
{
	struct fx *fx = *state;
	struct result res = { 0 };
	int port, fd = loopback_socket(0, &port);
	char u[64];

	close(fd);              /* nobody listens on port now */
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/echo", port);
	assert_true(http_request(fx->h, "GET", u, "tok", NULL, 0, 5000,
				 on_done, &res) > 0);
	run(fx->h, 10000);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status, 0);
	assert_non_null(res.error);
	assert_non_null(strstr(res.error, "onnect"));
	assert_null(strstr(res.error, "tok"));
	assert_int_equal(res.len, 0);
	assert_int_equal(res.retry_after_ms, -1);
	result_release(&res);
}

static void test_bad_scheme(void **state)
{
	struct fx *fx = *state;
	struct result res = { 0 };

	assert_true(http_request(fx->h, "GET", "file:///etc/passwd", NULL,
				 NULL, 0, 5000, on_done, &res) > 0);
	run(fx->h, 5000);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status, 0);
	assert_non_null(res.error);
	assert_int_equal(res.len, 0);
	result_release(&res);
}

static void test_timeout(void **state)
{
	struct fx *fx = *state;
	struct result res = { 0 };
	int64_t ms;

	assert_true(http_request(fx->h, "GET", url(fx, "/slow"), NULL, NULL,
				 0, 300, on_done, &res) > 0);
	ms = run(fx->h, 10000);
	assert_int_equal(res.calls, 1);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.error, "timeout"));
	assert_in_range(ms, 250, 5000);
	result_release(&res);
}

static void test_concurrent(void **state)
{
	struct fx *fx = *state;
	struct result res[20];
	char path[32];
	json_t *j;
	int64_t ms;

	memset(res, 0, sizeof(res));
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/delay/200?i=%d", i);
		assert_true(http_request(fx->h, "GET", url(fx, path), NULL,
					 NULL, 0, 20000, on_done,
					 &res[i]) > 0);
	}
	assert_int_equal(http_pending(fx->h), 20);
	ms = run(fx->h, 20000);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(res[i].calls, 1);
		assert_int_equal(res[i].status, 200);
		j = body_json(&res[i]);
		snprintf(path, sizeof(path), "/delay/200?i=%d", i);
		assert_string_equal(jstr(j, "path"), path);
		json_decref(j);
		result_release(&res[i]);
	}
	/* at most 8 connections at once, each reused: 3 rounds of 200 ms
	 * rather than 20 in a row */
	assert_in_range(server_count(fx->srv, &fx->srv->accepted), 1, 8);
	assert_int_equal(server_count(fx->srv, &fx->srv->requests), 20);
	assert_true(ms < 3000);
}

static void test_keepalive(void **state)
{
	struct fx *fx = *state;
	struct result res = { 0 };

	for (int i = 0; i < 3; i++) {
		res.calls = 0;
		get(fx, "/echo", &res);
		assert_int_equal(res.status, 200);
	}
	assert_int_equal(server_count(fx->srv, &fx->srv->accepted), 1);
	assert_int_equal(server_count(fx->srv, &fx->srv->requests), 3);
	result_release(&res);
}

/* A's callback cancels B (still running), starts C, and cancels itself
 * (a no-op: it is finishing). */
static void on_cancel_other(void *arg, const struct http_response *r)
{
	struct result *res = arg;

	on_done(arg, r);
	http_cancel(res->h, res->cancel_id);
	http_cancel(res->h, 1);
	assert_true(http_request(res->h, "GET", sbuf_str(res->url), NULL,
				 NULL, 0, 10000, on_done, res->started) > 0);
}

static void test_cancel_in_callback(void **state)
{
	struct fx *fx = *state;
	struct result a = { 0 }, b = { 0 }, c = { 0 };
	struct sbuf curl;
	uint64_t ida;

	sbuf_init(&curl);
	sbuf_adds(&curl, url(fx, "/echo/c"));
	a.h = fx->h;
	a.started = &c;
	a.url = &curl;
	ida = http_request(fx->h, "GET", url(fx, "/delay/100"), NULL, NULL, 0,
			   10000, on_cancel_other, &a);
	assert_int_equal(ida, 1);
	a.cancel_id = http_request(fx->h, "GET", url(fx, "/slow"), NULL,
				   NULL, 0, 10000, on_done, &b);
	assert_int_equal(http_pending(fx->h), 2);
	run(fx->h, 10000);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 200);
	assert_int_equal(b.calls, 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.status, 200);
	/* cancelling what is gone or never was is harmless */
	http_cancel(fx->h, a.cancel_id);
	http_cancel(fx->h, 9999);
	result_release(&a);
	result_release(&c);
	sbuf_release(&curl);
}

/* Both finish in the same http_poll: whichever callback runs first
 * cancels the other, whose callback must then not run. */
static void on_cancel_peer(void *arg, const struct http_response *r)
{
	struct result *res = arg;

	on_done(arg, r);
	http_cancel(res->h, res->cancel_id);
}

static void test_cancel_finished_peer(void **state)
{
	struct fx *fx = *state;
	struct result a = { 0 }, b = { 0 };
	struct timespec pause = { 0, 800 * 1000000L };
	int64_t t0 = mono_ms();

	a.h = b.h = fx->h;
	b.cancel_id = http_request(fx->h, "GET", url(fx, "/delay/500"), NULL,
				   NULL, 0, 10000, on_cancel_peer, &a);
	a.cancel_id = http_request(fx->h, "GET", url(fx, "/delay/500"), NULL,
				   NULL, 0, 10000, on_cancel_peer, &b);
	while (server_count(fx->srv, &fx->srv->requests) < 2 &&
	       mono_ms() - t0 < 10000)
		assert_true(http_poll(fx->h, 10, -1) >= 0);
	assert_int_equal(a.calls + b.calls, 0);
	/* both answers arrive while we do not look */
	nanosleep(&pause, NULL);
	assert_true(http_poll(fx->h, 1000, -1) >= 0);
	assert_int_equal(a.calls + b.calls, 1);
	assert_int_equal(http_pending(fx->h), 0);
	assert_int_equal(a.calls ? a.status : b.status, 200);
	result_release(&a);
	result_release(&b);
}

static void test_free_cancels(void **state)
{
	struct fx *fx = *state;
	struct result a = { 0 }, b = { 0 };

	http_request(fx->h, "GET", url(fx, "/slow"), NULL, NULL, 0, 10000,
		     on_done, &a);
	http_request(fx->h, "POST", url(fx, "/delay/5000"), NULL, "{}", 2,
		     10000, on_done, &b);
	assert_int_equal(http_poll(fx->h, 100, -1), 0);
	http_free(fx->h);
	fx->h = NULL;
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 0);
	assert_string_equal(a.error, "cancelled");
	assert_int_equal(b.calls, 1);
	assert_string_equal(b.error, "cancelled");
	result_release(&a);
	result_release(&b);
	http_free(NULL);
}

/* Beyond 8 at once, requests wait their turn (with their bearer and
 * body); a waiting one can be cancelled, and http_free cancels it. */
static void test_waiting(void **state)
{
	struct fx *fx = *state;
	struct result slow[8], a = { 0 }, b = { 0 };
	uint64_t first = 0, idb;
	json_t *j;

	memset(slow, 0, sizeof(slow));
	for (int i = 0; i < 8; i++) {
		uint64_t id = http_request(fx->h, "GET", url(fx, "/slow"),
					   NULL, NULL, 0, 20000, on_done,
					   &slow[i]);

		if (!first)
			first = id;
	}
	http_request(fx->h, "POST", url(fx, "/echo/a"), "tok", "{\"x\":1}",
		     7, 20000, on_done, &a);
	idb = http_request(fx->h, "GET", url(fx, "/echo/b"), NULL, NULL, 0,
			   20000, on_done, &b);
	assert_int_equal(http_pending(fx->h), 10);
	assert_int_equal(http_poll(fx->h, 200, -1), 0);
	assert_int_equal(a.calls, 0);
	http_cancel(fx->h, idb);
	http_cancel(fx->h, first);   /* a slot for a */
	for (int i = 0; i < 100 && !a.calls; i++)
		assert_true(http_poll(fx->h, 50, -1) >= 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 200);
	j = body_json(&a);
	assert_string_equal(jstr(j, "method"), "POST");
	assert_string_equal(jstr(j, "auth"), "Bearer tok");
	assert_string_equal(jstr(j, "body"), "{\"x\":1}");
	json_decref(j);
	/* 8 at once; the cancelled one's connection could not be reused */
	assert_int_equal(server_count(fx->srv, &fx->srv->accepted), 9);
	http_free(fx->h);
	fx->h = NULL;
	assert_int_equal(b.calls, 0);
	assert_int_equal(slow[0].calls, 0);
	for (int i = 1; i < 8; i++) {
		assert_int_equal(slow[i].calls, 1);
		assert_string_equal(slow[i].error, "cancelled");
		result_release(&slow[i]);
	}
	result_release(&a);
}

static void test_extra_fd(void **state)
{
	struct fx *fx = *state;
	int p[2];
	char ch;
	int64_t t0;

	assert_int_equal(pipe(p), 0);
	t0 = mono_ms();
	assert_int_equal(http_poll(fx->h, 100, p[0]), 0);
	assert_true(mono_ms() - t0 >= 90);
	assert_int_equal(write(p[1], "x", 1), 1);
	t0 = mono_ms();
	assert_int_equal(http_poll(fx->h, 5000, p[0]), 1);
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(read(p[0], &ch, 1), 1);
	assert_int_equal(http_poll(fx->h, 0, p[0]), 0);
	close(p[0]);
	close(p[1]);
}

static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "AZaz09-._~", "AZaz09-._~" },
		{ "!abc:example.org", "%21abc%3Aexample.org" },
		{ "$ev/t 1?x=y&z#f%", "%24ev%2Ft%201%3Fx%3Dy%26z%23f%25" },
		{ "@bot:ex.org", "%40bot%3Aex.org" },
		{ "m\xc3\xa9", "m%C3%A9" },
		{ "+\x01\x7f\xff", "%2B%01%7F%FF" },
	};
	struct sbuf sb;

	(void)state;
	sbuf_init(&sb);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		sbuf_reset(&sb);
		sbuf_adds(&sb, "pre/");
		http_escape(&sb, cases[i].in);
		assert_string_equal(sbuf_str(&sb) + 4, cases[i].out);
		assert_memory_equal(sbuf_str(&sb), "pre/", 4);
	}
	sbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_ok_json),
		T(test_bearer_and_body),
		T(test_bad_bearer),
		T(test_retry_after),
		T(test_server_error),
		T(test_body_cap),
		T(test_refused),
		T(test_bad_scheme),
		T(test_timeout),
		T(test_concurrent),
		T(test_keepalive),
		T(test_cancel_in_callback),
		T(test_cancel_finished_peer),
		T(test_free_cancels),
		T(test_waiting),
		T(test_extra_fd),
		cmocka_unit_test(test_escape),
#undef T
	};

	jansson_use_xmalloc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
