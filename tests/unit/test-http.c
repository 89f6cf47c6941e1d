/*
 * test-http.c: Retry-After parsing, backoff bounds and jitter, what is
 * retryable, header lookup, refused URLs.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ht/http.h"
#include "tap.h"

static void test_retry_after(void)
{
	/* Wed, 21 Oct 2015 07:28:00 GMT */
	int64_t t = 1445412480LL * 1000;

	is_int(ht_http_retry_after_ms("120", t), 120000, "retry-after: seconds");
	is_int(ht_http_retry_after_ms(" 0 ", t), 0, "retry-after: zero, spaces");
	is_int(ht_http_retry_after_ms("Wed, 21 Oct 2015 07:28:05 GMT", t), 5000, "retry-after: HTTP-date ahead");
	is_int(ht_http_retry_after_ms("Wednesday, 21-Oct-15 07:28:10 GMT", t), 10000, "retry-after: RFC 850 date");
	is_int(ht_http_retry_after_ms("Wed, 21 Oct 2015 07:27:00 GMT", t), 0, "retry-after: a past date is 0");
	is_int(ht_http_retry_after_ms("soon", t), -1, "retry-after: junk");
	is_int(ht_http_retry_after_ms("12abc", t), -1, "retry-after: digits then junk");
	is_int(ht_http_retry_after_ms("-5", t), -1, "retry-after: negative");
	is_int(ht_http_retry_after_ms("", t), -1, "retry-after: empty");
	is_int(ht_http_retry_after_ms(NULL, t), -1, "retry-after: NULL");
	is_int(ht_http_retry_after_ms("99999999999", t), 86400000, "retry-after: huge clamps to a day");
}

static void test_backoff(void)
{
	struct ht_http_retry p = { 10, 100, 1000, 60000 };
	int k, bad = 0;
	double u;

	is_int(ht_http_backoff_ms(&p, 0, 0.0), 0, "backoff: u=0 is 0");
	is_int(ht_http_backoff_ms(&p, 0, 0.5), 50, "backoff: first retry within base");
	is_int(ht_http_backoff_ms(&p, 2, 0.5), 200, "backoff: doubles");
	is_int(ht_http_backoff_ms(&p, 20, 0.5), 500, "backoff: capped");
	is_int(ht_http_backoff_ms(&p, 1000, 0.9999999), 999, "backoff: no overflow for large k");
	for (k = 0; k < 40; k++)
		for (u = 0; u < 1; u += 0.01) {
			int64_t d = ht_http_backoff_ms(&p, k, u);
			int64_t ceil = 100LL << (k < 20 ? k : 20);

			if (ceil > 1000)
				ceil = 1000;
			if (d < 0 || d > ceil)
				bad++;
		}
	is_int(bad, 0, "backoff: always in [0, min(cap, base * 2^k)]");
	is_int(ht_http_backoff_ms(&p, 3, 7.0), 799, "backoff: u clamps below 1");
}

static void test_wait(void)
{
	struct ht_http_retry p = { 10, 100, 1000, 60000 };
	int64_t seen[200];
	int i, j, bad = 0, distinct = 0;

	/* Drawn in a tight loop, the same millisecond: real jitter still
	 * spreads them (a clock-derived "random" would not). */
	for (i = 0; i < 200; i++) {
		seen[i] = ht_http_retry_wait_ms(&p, 3);
		if (seen[i] < 0 || seen[i] > 800)
			bad++;
		for (j = 0; j < i && seen[j] != seen[i]; j++)
			;
		distinct += j == i;
	}
	is_int(bad, 0, "wait: within [0, min(cap, base * 2^k)]");
	ok(distinct > 100, "wait: 200 draws give many values");
}

static void test_retryable(void)
{
	long yes[] = { 408, 429, 500, 502, 503, 504 };
	long no[] = { 200, 301, 400, 401, 403, 404, 409, 501, 505 };
	size_t i;
	int all = 1;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		all &= ht_http_status_retryable(yes[i]);
	ok(all, "retryable: 408 429 500 502 503 504");
	all = 1;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		all &= !ht_http_status_retryable(no[i]);
	ok(all, "retryable: not 2xx 3xx other 4xx 501 505");
	ok(ht_http_curl_retryable(CURLE_COULDNT_CONNECT), "retryable: connection refused");
	ok(ht_http_curl_retryable(CURLE_OPERATION_TIMEDOUT), "retryable: timeout");
	ok(!ht_http_curl_retryable(CURLE_PEER_FAILED_VERIFICATION), "retryable: not a TLS verification failure");
	ok(!ht_http_curl_retryable(CURLE_URL_MALFORMAT), "retryable: not a bad URL");
}

static void test_header(void)
{
	struct ht_http_resp r;
	char *v;

	ht_http_resp_init(&r);
	ht_buf_addstr(&r.headers, "HTTP/1.1 503 Slow\r\nContent-Length: 0\r\nretry-after:  7 \r\n\r\n");
	v = ht_http_header(&r, "Retry-After");
	is_str(v, "7", "header: case-insensitive, trimmed");
	free(v);
	ok(ht_http_header(&r, "Retry") == NULL, "header: no prefix match");
	ht_http_resp_release(&r);
}

static void test_refused(void)
{
	struct ht_http_retry p = { 2, 10, 10, 5000 };
	struct ht_http_req req = { .url = "http://127.0.0.1:9/", .retry = &p };
	struct ht_http_resp r;

	ht_http_resp_init(&r);
	is_int(ht_http_do(&req, &r), -1, "do: refused is -1");
	is_int(r.attempts, 2, "do: refused retried once");
	like(r.error, "after 2 attempts", "do: the error counts attempts");
	ht_http_resp_release(&r);
	req.url = "ftp://127.0.0.1:9/";
	ht_http_resp_init(&r);
	is_int(ht_http_do(&req, &r), -1, "do: a non-HTTP URL is refused");
	is_int(r.attempts, 1, "do: and not retried");
	ht_http_resp_release(&r);
	ht_http_cleanup();
}

int main(void)
{
	test_retry_after();
	test_backoff();
	test_wait();
	test_retryable();
	test_header();
	test_refused();
	return tap_done();
}
