/*
 * http.h: the one HTTP client of all tools, on libcurl.
 *
 * A request borrows everything it points to; a response owns its body and
 * headers until ht_http_resp_release(). TLS verification is always on
 * unless the request sets insecure (which a user sets for one endpoint
 * only), against $HT_CA_BUNDLE when that file exists, else the system's
 * CA store. Only http and https are spoken, redirects included. Proxies
 * come from the usual variables (libcurl reads them).
 *
 * Connections are reused: ht_http_do() shares one connection cache (and
 * DNS and TLS session caches) between all its calls in the process, from
 * any thread; a multi handle keeps its own cache for its transfers.
 * docs/http.md describes timeouts, retries, TLS and proxies.
 */
#ifndef HT_HTTP_H
#define HT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* A request signed with SigV4 by libcurl (CURLOPT_AWS_SIGV4, provider
 * "aws:amz"): the scope and the keys, all borrowed. A session token goes
 * in x-amz-security-token; with payload_hash (S3 wants it) the body's
 * SHA-256 is signed as x-amz-content-sha256 on every request, as it is
 * for any streamed body. */
struct ht_http_sigv4 {
	const char *region;
	const char *service;
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* or NULL */
	int payload_hash;
};

/* Exponential backoff with full jitter: attempt k waits a random time in
 * [0, min(cap_ms, base_ms * 2^k)]; Retry-After, when given, is honoured. */
struct ht_http_retry {
	int max_attempts;     /* in all, first one included; 1 = no retry */
	int64_t base_ms;
	int64_t cap_ms;
	int64_t max_total_ms; /* give up when the next try would start later */
};
/* 4 attempts, base 200 ms, cap 20 s, 120 s in all. */
extern const struct ht_http_retry ht_http_retry_default;

/*
 * A sink takes a response body as it arrives instead of resp->body: a
 * download into a file. Its functions get ud. Before each attempt,
 * offset() (may be NULL) says how many bytes the sink holds already: when
 * more than 0 the request asks for the rest ("Range: bytes=N-"), so that a
 * retry goes on where a broken attempt stopped. When a body begins,
 * start() sees its status and answers 1 to take it, 0 to leave it to
 * resp->body (an error document, a redirect's), -1 to abort the attempt;
 * write() gets the bytes and returns 0, or -1 to abort. An aborted
 * attempt is not retried (resp->curl_code is CURLE_WRITE_ERROR).
 */
struct ht_http_sink {
	int64_t (*offset)(void *ud);
	int (*start)(void *ud, long status);
	int (*write)(void *ud, const void *p, size_t n);
	void *ud;
};

struct ht_http_req {
	const char *method;            /* NULL: GET, or POST with a body */
	const char *url;
	const char *const *headers;    /* "Name: value", NULL-terminated, or NULL */
	const void *body;              /* NULL for none */
	size_t body_len;
	long connect_timeout_ms;       /* 0: 10 s */
	long timeout_ms;               /* 0: 60 s; -1: none (long polls) */
	size_t max_response;           /* 0: 64 MiB */
	int insecure;                  /* do not verify TLS peer (one endpoint) */
	const struct ht_http_sigv4 *sigv4; /* sign with SigV4, or NULL */
	const struct ht_http_retry *retry; /* NULL: one attempt */
	/* Streams this file as the body (PUT unless method says otherwise)
	 * instead of body; it is opened again for each attempt. */
	const char *upload_path;
	/* Lowercase hex SHA-256 of the body, sent as x-amz-content-sha256
	 * when signing; NULL: computed when needed (S3, streamed bodies). */
	const char *payload_sha256;
	const struct ht_http_sink *sink; /* NULL: the body goes to resp->body */
	int follow_redirects;          /* follow up to 5 (to http and https only) */
	long stall_timeout_s;          /* give up an attempt moving under 1 byte/s
	                                * this long (big bodies); 0: no check */
	int64_t max_speed;             /* bytes/s each way, 0: no limit (tests) */
};

struct ht_http_resp {
	long status;          /* 0 when no response arrived */
	struct ht_buf body;
	struct ht_buf headers; /* raw header block of the final response */
	int curl_code;        /* CURLcode of the last attempt */
	int attempts;
	long new_connections; /* TCP connections opened, all attempts together */
	int64_t bytes_sent;   /* request body bytes sent, all attempts together */
	int64_t elapsed_ms;   /* from the first attempt to the end of the last */
	char error[256];      /* why it failed, for messages; never holds a secret */
};

void ht_http_resp_init(struct ht_http_resp *r);
void ht_http_resp_release(struct ht_http_resp *r);

/*
 * Performs the request (with retries per req->retry on retryable transport
 * errors and on 408, 429, 500, 502, 503, 504). Returns 0 when a response
 * arrived, whatever its status; -1 when none did (resp->error says why).
 * Prints nothing but debug lines (-vv): the caller words the error.
 */
int ht_http_do(const struct ht_http_req *req, struct ht_http_resp *resp);

/*
 * The same on a handle the caller keeps between requests (*handle: NULL
 * at first, made here; freed by ht_http_handle_free()), for a client
 * that makes one request after another for long (ht-runner's Runtime API
 * loop): libcurl's easy handle, and the internal multi handle that each
 * new one makes (a socket pair, its buffers), are made once, not per
 * request. Not for two threads at once.
 */
int ht_http_do_on(void **handle, const struct ht_http_req *req, struct ht_http_resp *resp);
void ht_http_handle_free(void **handle);

/*
 * The value of header name (case-insensitive) in resp, as a new string, or
 * NULL when it is absent.
 */
char *ht_http_header(const struct ht_http_resp *resp, const char *name);

/* 1 when a status or CURLcode is worth retrying. */
int ht_http_status_retryable(long status);
int ht_http_curl_retryable(int curl_code);

/*
 * The wait a Retry-After value asks for, in milliseconds: delta-seconds
 * ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", compared with
 * now_wall_ms; a date in the past is 0). -1 when value is neither.
 */
int64_t ht_http_retry_after_ms(const char *value, int64_t now_wall_ms);

/*
 * The full-jitter backoff before retry number k (0 for the first retry):
 * u * min(cap_ms, base_ms * 2^k), for u in [0, 1) (a random draw).
 */
int64_t ht_http_backoff_ms(const struct ht_http_retry *p, int k, double u);
/* The same with a fresh random draw: the wait the client makes itself. */
int64_t ht_http_retry_wait_ms(const struct ht_http_retry *p, int k);

/*
 * Frees the shared connection cache. Optional, at the end of main; later
 * requests start a new one.
 */
void ht_http_cleanup(void);

/* --- many requests at once: the multi interface ------------------------ */

/*
 * A multi handle runs many requests concurrently over few connections
 * (HTTP/1.1 keep-alive, or HTTP/2 streams where the server speaks it),
 * at most max_active transfers at a time; the rest wait in a queue and
 * cost a small struct each. Retries wait without holding a transfer.
 *
 *   struct ht_http_multi *m = ht_http_multi_new(64);
 *   ht_http_multi_add(m, &req, user);            (for each request)
 *   while (ht_http_multi_pending(m)) {
 *           ht_http_multi_run(m, -1);
 *           while ((user = ht_http_multi_next(m, &resp, &rc)))
 *                   ... use resp, then ht_http_resp_release(&resp);
 *   }
 *   ht_http_multi_free(m);
 *
 * Not thread-safe: one thread drives a multi handle.
 */
struct ht_http_multi;

/* A new multi handle; max_active <= 0 means 64. */
struct ht_http_multi *ht_http_multi_new(int max_active);
/* Cancels what is still queued or running and frees m (NULL is fine). */
void ht_http_multi_free(struct ht_http_multi *m);
/*
 * Queues req with the caller's pointer user. req and everything it points
 * to are borrowed until the request comes back from ht_http_multi_next().
 * Returns 0, or -1 when the request cannot be queued.
 */
int ht_http_multi_add(struct ht_http_multi *m, const struct ht_http_req *req, void *user);
/* The same, but the first attempt starts delay_ms from now at the soonest
 * (a caller starting a sequence of requests over after a failure). */
int ht_http_multi_add_after(struct ht_http_multi *m, const struct ht_http_req *req, void *user,
			    int64_t delay_ms);
/*
 * Runs transfers until at least one request is complete (with its
 * retries) or timeout_ms passes (-1: no limit; 0: do what can be done
 * without waiting). Returns the number of completed requests waiting to
 * be taken, or -1 on an internal error.
 */
int ht_http_multi_run(struct ht_http_multi *m, long timeout_ms);
/*
 * Takes one completed request: returns its user pointer, moves its
 * response into *resp (initialised here; the caller releases it) and sets
 * *rc to what ht_http_do() would have returned. NULL when none is ready.
 */
void *ht_http_multi_next(struct ht_http_multi *m, struct ht_http_resp *resp, int *rc);
/* Requests added and not yet taken with ht_http_multi_next(). */
size_t ht_http_multi_pending(const struct ht_http_multi *m);

#endif
