/*
 * http.c: requests on libcurl's easy interface.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "ht/diag.h"
#include "ht/http.h"

const struct ht_http_retry ht_http_retry_default = { 4, 200, 20000, 120000 };

void ht_http_resp_init(struct ht_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	ht_buf_init(&r->body, 0);
	ht_buf_init(&r->headers, 256 * 1024);
}

void ht_http_resp_release(struct ht_http_resp *r)
{
	ht_buf_release(&r->body);
	ht_buf_release(&r->headers);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct ht_buf *b = ud;

	return ht_buf_add(b, p, size * n) < 0 ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct ht_buf *b = ud;

	/* A new status line starts a new header block (after 100 Continue or
	 * a redirect); keep only the last one. */
	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		ht_buf_reset(b);
	return ht_buf_add(b, p, size * n) < 0 ? 0 : size * n;
}

int ht_http_status_retryable(long status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

int ht_http_curl_retryable(int code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 1;
	default:
		return 0;
	}
}

static int perform_once(const struct ht_http_req *req, struct ht_http_resp *resp)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	const char *const *hp;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;

	if (!h) {
		snprintf(resp->error, sizeof(resp->error), "cannot start libcurl");
		return -1;
	}
	ht_buf_reset(&resp->body);
	ht_buf_reset(&resp->headers);
	resp->body.max = req->max_response ? req->max_response : 64u * 1024 * 1024;
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000L);
	if (req->timeout_ms >= 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 60000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp->headers);
	if (req->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	if (req->method)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->method && strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	for (hp = req->headers; hp && *hp; hp++)
		hdrs = curl_slist_append(hdrs, *hp);
	/* No "Expect: 100-continue" round trip on uploads. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(h);
	resp->curl_code = (int)rc;
	resp->status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	else
		snprintf(resp->error, sizeof(resp->error), "%s", *errbuf ? errbuf : curl_easy_strerror(rc));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return rc == CURLE_OK ? 0 : -1;
}

int ht_http_do(const struct ht_http_req *req, struct ht_http_resp *resp)
{
	resp->attempts = 1;
	return perform_once(req, resp);
}

char *ht_http_header(const struct ht_http_resp *resp, const char *name)
{
	const char *p = resp->headers.data;
	size_t nl = strlen(name);

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			const char *end = p + len;

			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && isspace((unsigned char)end[-1]))
				end--;
			return strndup(v, (size_t)(end - v));
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}
