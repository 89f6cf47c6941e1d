/*
 * http.h: the one HTTP client of all tools, on libcurl.
 *
 * A request borrows everything it points to; a response owns its body and
 * headers until ht_http_resp_release(). TLS verification is always on
 * unless the request sets insecure (which a user sets for one endpoint
 * only). Proxies come from the usual variables (libcurl reads them).
 */
#ifndef HT_HTTP_H
#define HT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct ht_aws_sig; /* aws.h */

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
	const struct ht_aws_sig *aws;  /* sign with SigV4, or NULL */
	const struct ht_http_retry *retry; /* NULL: one attempt */
};

struct ht_http_resp {
	long status;          /* 0 when no response arrived */
	struct ht_buf body;
	struct ht_buf headers; /* raw header block of the final response */
	int curl_code;        /* CURLcode of the last attempt */
	int attempts;
	char error[256];      /* why it failed, for messages; never holds a secret */
};

void ht_http_resp_init(struct ht_http_resp *r);
void ht_http_resp_release(struct ht_http_resp *r);

/*
 * Performs the request (with retries per req->retry on retryable transport
 * errors and on 408, 429, 500, 502, 503, 504). Returns 0 when a response
 * arrived, whatever its status; -1 when none did (resp->error says why).
 */
int ht_http_do(const struct ht_http_req *req, struct ht_http_resp *resp);

/*
 * The value of header name (case-insensitive) in resp, as a new string, or
 * NULL when it is absent.
 */
char *ht_http_header(const struct ht_http_resp *resp, const char *name);

/* 1 when a status or CURLcode is worth retrying. */
int ht_http_status_retryable(long status);
int ht_http_curl_retryable(int curl_code);

#endif
