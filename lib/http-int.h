/*
 * http-int.h: what lib/http.c (one request) and lib/http-multi.c (many at
 * once) share: one request's state across its attempts, and the steps of
 * an attempt. Not for use outside those two files.
 *
 * A struct ht_http_xfer borrows its request and owns its response, its
 * easy handle only while an attempt runs, and what an attempt needs.
 */
#ifndef HT_HTTP_INT_H
#define HT_HTTP_INT_H

#include <stdint.h>

#include <curl/curl.h>

#include "ht/http.h"

struct ht_http_xfer {
	const struct ht_http_req *req;
	void *user;
	struct ht_http_resp resp;
	CURL *h;                 /* while an attempt runs */
	struct curl_slist *hdrs;
	char *userpwd;           /* secret: wiped */
	FILE *upload;
	int64_t start_ms;        /* of the first attempt */
	int64_t not_before_ms;   /* of the next attempt */
	int rc;                  /* the result, once complete */
	int sinking;             /* this body: -1 undecided, 0 resp.body, 1 req->sink */
	int sink_failed;         /* the sink aborted this attempt */
	char errbuf[CURL_ERROR_SIZE];
	struct ht_http_xfer *next;
};

/* curl_global_init and the share locks, once per process. */
void ht_http_global_init(void);
/* Frees what the last attempt held (not the handle nor the response). */
void ht_http_xfer_clear_attempt(struct ht_http_xfer *x);
/*
 * Sets up x->h (fresh or reset) for the next attempt of x->req. Returns
 * 0, or -1 with x->resp.error set (a local problem: nothing to retry).
 */
int ht_http_xfer_setup(struct ht_http_xfer *x);
/* Records the outcome of the attempt that just ended with rc. */
void ht_http_xfer_collect(struct ht_http_xfer *x, CURLcode rc);
/* After an attempt: the wait before the next one, or -1 when it was the last. */
int64_t ht_http_xfer_next_delay(struct ht_http_xfer *x);
/* The -vv line of an attempt that took ms. */
void ht_http_xfer_debug(const struct ht_http_xfer *x, int64_t ms);
/* Sets x->rc and the elapsed time once the last attempt is over. */
void ht_http_xfer_finish(struct ht_http_xfer *x);

#endif
