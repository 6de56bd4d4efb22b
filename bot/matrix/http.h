/* http.h - asynchronous HTTP over one libcurl multi handle. All libcurl
 * calls of Oefenkamer live in http.c.
 *
 * Requests run concurrently; http_poll() waits for network activity (or a
 * caller's file descriptor, or a timeout) and runs the callbacks of the
 * requests that finished. Single-threaded: call everything from the loop
 * thread. Bodies are copied; responses are capped (HTTP_MAX_BODY).
 */
#ifndef OEF_HTTP_H
#define OEF_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_BODY (64u << 20)

struct http;

struct http_response {
	long status;            /* HTTP status, 0 if no response at all */
	const char *body;       /* NUL-terminated; borrowed for the callback */
	size_t len;
	long retry_after_ms;    /* from a Retry-After header, or -1 */
	const char *error;      /* transport error text when status is 0
				 * (connection refused, timeout, body too
				 * large …), else NULL */
};

/* Called once per request, also when it fails or is cancelled by
 * http_free (then r->status is 0 and r->error is "cancelled"). */
typedef void (*http_cb)(void *arg, const struct http_response *r);

/* NULL if libcurl cannot be initialised. */
struct http *http_new(void);
/* Cancels what is still running (callbacks run, see above). */
void http_free(struct http *h);

/* Start a request. method "GET", "PUT", "POST"; body may be NULL (sent as
 * application/json when given); bearer is the access token or NULL (it is
 * never logged). timeout_ms bounds the whole request. Returns an id > 0. */
uint64_t http_request(struct http *h, const char *method, const char *url,
		      const char *bearer, const char *body, size_t len,
		      long timeout_ms, http_cb cb, void *arg);

/* The same with a body of content_type (NULL: application/json), e.g.
 * an upload to the media repository; the body may hold any bytes. A
 * content type that is empty or holds a line break fails the request
 * (from the next http_poll, like every failure to start). */
uint64_t http_request_typed(struct http *h, const char *method,
			    const char *url, const char *bearer,
			    const char *content_type, const char *body,
			    size_t len, long timeout_ms, http_cb cb, void *arg);

/* Cancel a running request: its callback is NOT called. */
void http_cancel(struct http *h, uint64_t id);

/* Wait up to timeout_ms for network activity or for extra_fd (if >= 0)
 * to become readable, then run the callbacks of finished requests.
 * Returns 1 if extra_fd is readable, 0 otherwise, -1 on error. */
int http_poll(struct http *h, int timeout_ms, int extra_fd);

/* Cap response bodies of requests started from now on at max bytes
 * (0: back to HTTP_MAX_BODY). For tests; larger bodies fail with
 * "body too large". */
void http_set_max_body(struct http *h, size_t max);

/* Requests still running. */
size_t http_pending(const struct http *h);

/* Bytes of response bodies received and not yet freed: a body lives
 * until its callback has returned (then the request is freed). */
size_t http_body_bytes(const struct http *h);

/* Percent-encode s for a URL path segment into out (appended). */
struct sbuf;
void http_escape(struct sbuf *out, const char *s);

#endif
