/*
 * http.c: requests on libcurl: the setup of every transfer (protocols,
 * TLS trust, timeouts, streamed bodies, AWS SigV4 signing by libcurl), the
 * retry policy, and one request at a time on a shared connection cache.
 * Many at once: http-multi.c.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sys/stat.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "ht/diag.h"
#include "ht/http.h"
#include "lib/http-int.h"

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

/* The body of the current response: to the sink when it takes it, else to
 * resp.body (bounded by max_response). */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct ht_http_xfer *x = ud;
	const struct ht_http_sink *sink = x->req->sink;

	if (sink && x->sinking < 0) {
		long status = 0;

		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		x->sinking = sink->start(sink->ud, status);
	}
	if (sink && x->sinking) {
		if (x->sinking < 0 || sink->write(sink->ud, p, size * n) < 0) {
			x->sink_failed = 1;
			return 0;
		}
		return size * n;
	}
	return ht_buf_add(&x->resp.body, p, size * n) < 0 ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct ht_http_xfer *x = ud;

	/* A new status line starts a new response (after 100 Continue or a
	 * redirect): keep only the last one's headers and body. */
	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		ht_buf_reset(&x->resp.headers);
		ht_buf_reset(&x->resp.body);
		x->sinking = -1;
	}
	return ht_buf_add(&x->resp.headers, p, size * n) < 0 ? 0 : size * n;
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

int64_t ht_http_retry_after_ms(const char *v, int64_t now_wall_ms)
{
	const char *p;
	time_t t;

	if (!v)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!*v)
		return -1;
	for (p = v; isdigit((unsigned char)*p); p++)
		;
	if (p > v) {
		const char *q = p;
		long secs;

		while (*q == ' ' || *q == '\t')
			q++;
		if (*q)
			return -1;
		/* A day is more than any client waits; larger values clamp. */
		if (p - v > 6)
			return 86400 * 1000LL;
		secs = strtol(v, NULL, 10);
		return (int64_t)secs * 1000;
	}
	/* libcurl parses HTTP dates (RFC 7231 and the obsolete forms). */
	t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	if ((int64_t)t * 1000 <= now_wall_ms)
		return 0;
	return (int64_t)t * 1000 - now_wall_ms;
}

int64_t ht_http_backoff_ms(const struct ht_http_retry *p, int k, double u)
{
	int64_t ceil = p->base_ms > 0 ? p->base_ms : 1;

	if (u < 0)
		u = 0;
	if (u >= 1)
		u = 0.999999;
	while (k-- > 0 && ceil < p->cap_ms)
		ceil *= 2;
	if (ceil > p->cap_ms)
		ceil = p->cap_ms;
	return (int64_t)(u * (double)ceil);
}

/* A uniform draw in [0, 1) from OpenSSL's generator. */
static double random_unit(void)
{
	uint64_t r;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint64_t)ht_now_ms() * 6364136223846793005ULL;
	return (double)(r >> 11) / (double)(1ULL << 53);
}

int64_t ht_http_retry_wait_ms(const struct ht_http_retry *p, int k)
{
	return ht_http_backoff_ms(p, k, random_unit());
}

/* --- the shared connection cache ------------------------------------------ */

static pthread_once_t share_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static pthread_mutex_t share_mu = PTHREAD_MUTEX_INITIALIZER;
static CURLSH *share;

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *ud)
{
	pthread_mutex_lock(&share_locks[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud)
{
	pthread_mutex_unlock(&share_locks[d]);
}

static void global_init(void)
{
	int i;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
}

void ht_http_global_init(void)
{
	pthread_once(&share_once, global_init);
}

static CURLSH *get_share(void)
{
	CURLSH *s;

	pthread_once(&share_once, global_init);
	pthread_mutex_lock(&share_mu);
	if (!share) {
		share = curl_share_init();
		if (share) {
			curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
			curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
			curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
			curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
			curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
		}
	}
	s = share;
	pthread_mutex_unlock(&share_mu);
	return s;
}

void ht_http_cleanup(void)
{
	pthread_mutex_lock(&share_mu);
	if (share)
		curl_share_cleanup(share);
	share = NULL;
	pthread_mutex_unlock(&share_mu);
}

/* --- the CA bundle ----------------------------------------------------------- */

static pthread_once_t ca_once = PTHREAD_ONCE_INIT;
static char *ca_file;

static void ca_init(void)
{
	const char *p = getenv("HT_CA_BUNDLE");

	if (!p || !*p)
		return;
	if (access(p, R_OK) == 0)
		ca_file = ht_xstrdup(p);
	else
		ht_debug("http: HT_CA_BUNDLE '%s': %s; using the system's CA store", p, strerror(errno));
}

/*
 * The CA file every transfer trusts: $HT_CA_BUNDLE when it names a
 * readable file (an image carries one for bases without a CA store of
 * their own), read once per process; NULL for libcurl's default.
 */
static const char *ca_bundle(void)
{
	pthread_once(&ca_once, ca_init);
	return ca_file;
}

/* --- one transfer ----------------------------------------------------------- */

void ht_http_xfer_clear_attempt(struct ht_http_xfer *x)
{
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	if (x->userpwd) {
		explicit_bzero(x->userpwd, strlen(x->userpwd));
		free(x->userpwd);
		x->userpwd = NULL;
	}
	if (x->upload)
		fclose(x->upload);
	x->upload = NULL;
}

static int has_header(const char *const *headers, const char *name)
{
	size_t n = strlen(name);

	for (; headers && *headers; headers++)
		if (strncasecmp(*headers, name, n) == 0 && (*headers)[n] == ':')
			return 1;
	return 0;
}

/* The hex SHA-256 of the file at path into out; -1 with a message. */
static int file_sha256_hex(const char *path, char out[HT_SHA256_HEX_LEN + 1], char *err, size_t errlen)
{
	char d[HT_DIGEST_LEN + 1];
	int saved_verbosity = ht_verbosity;

	/* ht_sha256_file prints its own message; ours goes into err. */
	ht_verbosity = -2;
	if (ht_sha256_file(path, d) < 0) {
		ht_verbosity = saved_verbosity;
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	ht_verbosity = saved_verbosity;
	memcpy(out, d + 7, HT_SHA256_HEX_LEN + 1);
	return 0;
}

/* The scheme of url ("ftp:") for a message; never the rest (a presigned
 * URL holds a signature). */
static void url_scheme(const char *url, char *out, size_t len)
{
	size_t n = url ? strcspn(url, ":/") : 0;

	if (url && url[n] == ':')
		snprintf(out, len, "%.*s:", (int)(n < 16 ? n : 16), url);
	else
		snprintf(out, len, "?");
}

int ht_http_xfer_setup(struct ht_http_xfer *x)
{
	const struct ht_http_req *req = x->req;
	CURL *h = x->h;
	const char *const *hp;
	const char *ca = ca_bundle();

	ht_http_xfer_clear_attempt(x);
	ht_buf_reset(&x->resp.body);
	ht_buf_reset(&x->resp.headers);
	x->resp.body.max = req->max_response ? req->max_response : 64u * 1024 * 1024;
	x->errbuf[0] = '\0';
	x->sinking = -1;
	x->sink_failed = 0;
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	/* http and https only, for the URL asked for and for every redirect:
	 * a server must not send us to file://, ftp://, gopher:// and co. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (ca)
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000L);
	if (req->timeout_ms >= 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 60000L);
	if (req->stall_timeout_s > 0) {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, req->stall_timeout_s);
	}
	if (req->max_speed > 0) {
		curl_easy_setopt(h, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)req->max_speed);
		curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)req->max_speed);
	}
	if (req->follow_redirects) {
		/* libcurl does not send an Authorization header of ours to
		 * another host. */
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	/* A sink stores the bytes as they come: no content decoding there. */
	if (!req->sink)
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	/* Wait for a connection that may multiplex only where one can:
	 * over TLS, ALPN tells at the handshake. Over http:// (HTTP/1.1:
	 * ht-lambda-local, stand-ins) it would hold every new call until the
	 * first connection's first answer, a long test's (t0905). */
	if (ht_starts_with(req->url, "https://"))
		curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
	if (req->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->upload_path) {
		struct stat st;

		x->upload = fopen(req->upload_path, "rb");
		if (!x->upload || fstat(fileno(x->upload), &st) < 0) {
			snprintf(x->resp.error, sizeof(x->resp.error), "cannot open '%s': %s", req->upload_path,
				 strerror(errno));
			return -1;
		}
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READDATA, x->upload);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
	} else if (req->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	if (req->method)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->method && strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	for (hp = req->headers; hp && *hp; hp++)
		x->hdrs = curl_slist_append(x->hdrs, *hp);
	if (req->sink && req->sink->offset) {
		int64_t off = req->sink->offset(req->sink->ud);
		char line[64];

		if (off > 0) {
			snprintf(line, sizeof(line), "Range: bytes=%lld-", (long long)off);
			x->hdrs = curl_slist_append(x->hdrs, line);
		}
	}
	if (req->sigv4) {
		const struct ht_http_sigv4 *sig = req->sigv4;
		char prov[128];

		snprintf(prov, sizeof(prov), "aws:amz:%s:%s", sig->region, sig->service);
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, prov);
		x->userpwd = ht_xasprintf("%s:%s", sig->access_key_id, sig->secret_access_key);
		curl_easy_setopt(h, CURLOPT_USERPWD, x->userpwd);
		if (sig->session_token) {
			char *t = ht_xasprintf("x-amz-security-token: %s", sig->session_token);

			x->hdrs = curl_slist_append(x->hdrs, t);
			explicit_bzero(t, strlen(t));
			free(t);
		}
		/* S3 wants the payload hash on every request; a streamed body
		 * needs it for any service, as libcurl only hashes POSTFIELDS.
		 * libcurl signs the value given here as the payload hash. */
		if (!has_header(req->headers, "x-amz-content-sha256") &&
		    (sig->payload_hash || req->upload_path)) {
			char hex[HT_SHA256_HEX_LEN + 1];
			char line[96];

			if (req->payload_sha256)
				snprintf(hex, sizeof(hex), "%s", req->payload_sha256);
			else if (req->upload_path) {
				if (file_sha256_hex(req->upload_path, hex, x->resp.error, sizeof(x->resp.error)) < 0)
					return -1;
			} else
				ht_sha256_hex(req->body ? req->body : "", req->body ? req->body_len : 0, hex);
			snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hex);
			x->hdrs = curl_slist_append(x->hdrs, line);
		}
	}
	/* No "Expect: 100-continue" round trip on uploads. Not when signing:
	 * libcurl 7.88 signs the empty header it then does not send, and the
	 * signature no longer matches; a signed upload may wait up to a
	 * second for the 100 (CURLOPT_EXPECT_100_TIMEOUT_MS). */
	if (!req->sigv4)
		x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	else
		curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 200L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
	return 0;
}

void ht_http_xfer_collect(struct ht_http_xfer *x, CURLcode rc)
{
	long n = 0, redirects = 0;
	curl_off_t sent = 0;
	char *eff = NULL;
	char scheme[24];

	x->resp.curl_code = (int)rc;
	x->resp.status = 0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->resp.status);
		x->resp.error[0] = '\0';
	} else if (rc == CURLE_UNSUPPORTED_PROTOCOL &&
		   curl_easy_getinfo(x->h, CURLINFO_REDIRECT_COUNT, &redirects) == CURLE_OK && redirects > 0) {
		curl_easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL, &eff);
		url_scheme(eff, scheme, sizeof(scheme));
		snprintf(x->resp.error, sizeof(x->resp.error),
			 "refused a redirect to a '%s' URL (only http and https are followed)", scheme);
	} else if (x->sink_failed) {
		snprintf(x->resp.error, sizeof(x->resp.error), "the body could not be stored");
	} else {
		snprintf(x->resp.error, sizeof(x->resp.error), "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		/* libcurl's messages may end in a newline. */
		x->resp.error[strcspn(x->resp.error, "\n")] = '\0';
	}
	curl_easy_getinfo(x->h, CURLINFO_NUM_CONNECTS, &n);
	x->resp.new_connections += n;
	if (curl_easy_getinfo(x->h, CURLINFO_SIZE_UPLOAD_T, &sent) == CURLE_OK && sent > 0)
		x->resp.bytes_sent += (int64_t)sent;
	ht_http_xfer_clear_attempt(x);
}

/* The last attempt: success, a final status, no attempts or time left. */
int64_t ht_http_xfer_next_delay(struct ht_http_xfer *x)
{
	const struct ht_http_retry *p = x->req->retry;
	int64_t delay, elapsed = ht_now_ms() - x->start_ms;
	int retryable;
	char *ra;

	if (x->resp.curl_code)
		retryable = ht_http_curl_retryable(x->resp.curl_code);
	else
		retryable = ht_http_status_retryable(x->resp.status);
	if (!retryable || !p || x->resp.attempts >= p->max_attempts)
		return -1;
	delay = ht_http_retry_wait_ms(p, x->resp.attempts - 1);
	ra = x->resp.curl_code ? NULL : ht_http_header(&x->resp, "Retry-After");
	if (ra) {
		int64_t want = ht_http_retry_after_ms(ra, ht_wall_ms());

		if (want >= 0)
			delay = want;
		free(ra);
	}
	if (elapsed + delay > p->max_total_ms)
		return -1;
	return delay;
}

void ht_http_xfer_debug(const struct ht_http_xfer *x, int64_t ms)
{
	const struct ht_http_req *req = x->req;
	const char *method = req->method ? req->method : req->upload_path ? "PUT" : req->body ? "POST" : "GET";

	if (ht_verbosity < 2)
		return;
	if (x->resp.curl_code)
		ht_debug("http: %s %s: %s (attempt %d, %lld ms)", method, req->url, x->resp.error,
			 x->resp.attempts, (long long)ms);
	else
		ht_debug("http: %s %s: %ld (attempt %d, %lld ms, %ld new connections)", method, req->url,
			 x->resp.status, x->resp.attempts, (long long)ms, x->resp.new_connections);
}

/* Adds the attempt count to a transport error once the last one failed. */
void ht_http_xfer_finish(struct ht_http_xfer *x)
{
	x->resp.elapsed_ms = ht_now_ms() - x->start_ms;
	x->rc = x->resp.curl_code || x->resp.status == 0 ? -1 : 0;
	if (x->rc < 0 && x->resp.attempts > 1) {
		size_t n = strlen(x->resp.error);

		snprintf(x->resp.error + n, sizeof(x->resp.error) - n, " (after %d attempts)", x->resp.attempts);
	}
}

int ht_http_do(const struct ht_http_req *req, struct ht_http_resp *resp)
{
	void *h = NULL;
	int rc = ht_http_do_on(&h, req, resp);

	ht_http_handle_free(&h);
	return rc;
}

void ht_http_handle_free(void **handle)
{
	curl_easy_cleanup(*handle);
	*handle = NULL;
}

int ht_http_do_on(void **handle, const struct ht_http_req *req, struct ht_http_resp *resp)
{
	struct ht_http_xfer x;
	CURLSH *sh = get_share();

	memset(&x, 0, sizeof(x));
	x.req = req;
	x.resp = *resp;
	x.resp.attempts = 0;
	x.resp.new_connections = 0;
	x.resp.bytes_sent = 0;
	x.start_ms = ht_now_ms();
	if (!*handle)
		*handle = curl_easy_init();
	x.h = *handle;
	if (!x.h || !sh) {
		snprintf(resp->error, sizeof(resp->error), "cannot start libcurl");
		return -1;
	}
	for (;;) {
		int64_t t0 = ht_now_ms(), delay;
		CURLcode rc;

		curl_easy_reset(x.h);
		curl_easy_setopt(x.h, CURLOPT_SHARE, sh);
		x.resp.attempts++;
		if (ht_http_xfer_setup(&x) < 0) {
			ht_http_xfer_clear_attempt(&x);
			x.resp.curl_code = CURLE_READ_ERROR;
			break;
		}
		rc = curl_easy_perform(x.h);
		ht_http_xfer_collect(&x, rc);
		ht_http_xfer_debug(&x, ht_now_ms() - t0);
		delay = ht_http_xfer_next_delay(&x);
		if (delay < 0)
			break;
		ht_debug("http: retrying in %lld ms", (long long)delay);
		ht_sleep_ms(delay);
	}
	ht_http_xfer_finish(&x);
	/* The handle stays with the caller: nothing in it may point at this
	 * request's buffers and lists, freed now (its connections stay). */
	curl_easy_reset(x.h);
	*resp = x.resp;
	return x.rc;
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

