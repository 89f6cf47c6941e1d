/*
 * http.c: requests on libcurl, one at a time (easy interface, sharing one
 * connection cache) or many at once (multi interface), with retries and
 * AWS SigV4 signing by libcurl.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/stat.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "providers/aws/aws.h"
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

static double random_unit(void)
{
	uint64_t r;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint64_t)ht_now_ms() * 6364136223846793005ULL;
	return (double)(r >> 11) / (double)(1ULL << 53);
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

/* --- one transfer ----------------------------------------------------------- */

/* Everything one request needs while it runs or waits for a retry. */
struct xfer {
	const struct ht_http_req *req;
	void *user;
	struct ht_http_resp resp;
	CURL *h;                 /* while a transfer runs */
	struct curl_slist *hdrs;
	char *userpwd;           /* secret: wiped */
	FILE *upload;
	int64_t start_ms;        /* of the first attempt */
	int64_t not_before_ms;   /* of the next attempt */
	int rc;                  /* the result, once complete */
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *next;
};

static void xfer_clear_attempt(struct xfer *x)
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

/*
 * Sets up x->h for the next attempt of x->req. Returns 0, or -1 with
 * x->resp.error set (nothing to retry: a local problem).
 */
static int xfer_setup(struct xfer *x)
{
	const struct ht_http_req *req = x->req;
	CURL *h = x->h;
	const char *const *hp;

	xfer_clear_attempt(x);
	ht_buf_reset(&x->resp.body);
	ht_buf_reset(&x->resp.headers);
	x->resp.body.max = req->max_response ? req->max_response : 64u * 1024 * 1024;
	x->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000L);
	if (req->timeout_ms >= 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 60000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x->resp.body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x->resp.headers);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
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
	if (req->aws) {
		const struct ht_aws_sig *sig = req->aws;
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
		    (strcmp(sig->service, "s3") == 0 || req->upload_path)) {
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
	if (!req->aws)
		x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	else
		curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 200L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
	return 0;
}

/* Records the outcome of the attempt that just ended with rc. */
static void xfer_collect(struct xfer *x, CURLcode rc)
{
	long n = 0;

	x->resp.curl_code = (int)rc;
	x->resp.status = 0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->resp.status);
		x->resp.error[0] = '\0';
	} else {
		snprintf(x->resp.error, sizeof(x->resp.error), "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		/* libcurl's messages may end in a newline. */
		x->resp.error[strcspn(x->resp.error, "\n")] = '\0';
	}
	curl_easy_getinfo(x->h, CURLINFO_NUM_CONNECTS, &n);
	x->resp.new_connections += n;
	xfer_clear_attempt(x);
}

/*
 * After an attempt: the wait before the next one, or -1 when this attempt
 * is the last (success, a final status, no attempts or time left).
 */
static int64_t xfer_next_delay(struct xfer *x)
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
	delay = ht_http_backoff_ms(p, x->resp.attempts - 1, random_unit());
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

static void xfer_debug(const struct xfer *x, int64_t ms)
{
	if (ht_verbosity < 2)
		return;
	if (x->resp.curl_code)
		ht_debug("http: %s %s: %s (attempt %d, %lld ms)", x->req->method ? x->req->method : "GET",
			 x->req->url, x->resp.error, x->resp.attempts, (long long)ms);
	else
		ht_debug("http: %s %s: %ld (attempt %d, %lld ms, %ld new connections)",
			 x->req->method ? x->req->method : "GET", x->req->url, x->resp.status, x->resp.attempts,
			 (long long)ms, x->resp.new_connections);
}

/* Adds the attempt count to a transport error once the last one failed. */
static void xfer_finish(struct xfer *x)
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
	struct xfer x;
	CURLSH *sh = get_share();

	memset(&x, 0, sizeof(x));
	x.req = req;
	x.resp = *resp;
	x.resp.attempts = 0;
	x.resp.new_connections = 0;
	x.start_ms = ht_now_ms();
	x.h = curl_easy_init();
	if (!x.h || !sh) {
		curl_easy_cleanup(x.h);
		snprintf(resp->error, sizeof(resp->error), "cannot start libcurl");
		return -1;
	}
	for (;;) {
		int64_t t0 = ht_now_ms(), delay;
		CURLcode rc;

		curl_easy_reset(x.h);
		curl_easy_setopt(x.h, CURLOPT_SHARE, sh);
		x.resp.attempts++;
		if (xfer_setup(&x) < 0) {
			xfer_clear_attempt(&x);
			x.resp.curl_code = CURLE_READ_ERROR;
			break;
		}
		rc = curl_easy_perform(x.h);
		xfer_collect(&x, rc);
		xfer_debug(&x, ht_now_ms() - t0);
		delay = xfer_next_delay(&x);
		if (delay < 0)
			break;
		ht_debug("http: retrying in %lld ms", (long long)delay);
		ht_sleep_ms(delay);
	}
	xfer_finish(&x);
	curl_easy_cleanup(x.h);
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

/* --- the multi interface ------------------------------------------------- */

struct ht_http_multi {
	CURLM *cm;
	int max_active;
	int active;
	size_t pending;       /* added, not yet taken */
	struct xfer *waiting, *waiting_tail; /* FIFO; retries carry not_before */
	struct xfer *running; /* list of active ones */
	struct xfer *done, *done_tail;
	CURL **idle;          /* easy handles kept for reuse */
	int nidle;
};

struct ht_http_multi *ht_http_multi_new(int max_active)
{
	struct ht_http_multi *m;

	pthread_once(&share_once, global_init);
	m = ht_xcalloc(1, sizeof(*m));
	m->max_active = max_active > 0 ? max_active : 64;
	m->cm = curl_multi_init();
	if (!m->cm) {
		free(m);
		return NULL;
	}
	m->idle = ht_xcalloc((size_t)m->max_active, sizeof(*m->idle));
	curl_multi_setopt(m->cm, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	/* Keep as many connections as transfers may run, so that each one
	 * finds a warm connection. */
	curl_multi_setopt(m->cm, CURLMOPT_MAXCONNECTS, (long)m->max_active);
	return m;
}

static void xfer_free(struct xfer *x)
{
	xfer_clear_attempt(x);
	ht_http_resp_release(&x->resp);
	free(x);
}

void ht_http_multi_free(struct ht_http_multi *m)
{
	struct xfer *x, *n;
	int i;

	if (!m)
		return;
	for (x = m->running; x; x = n) {
		n = x->next;
		curl_multi_remove_handle(m->cm, x->h);
		curl_easy_cleanup(x->h);
		xfer_free(x);
	}
	for (x = m->waiting; x; x = n) {
		n = x->next;
		xfer_free(x);
	}
	for (x = m->done; x; x = n) {
		n = x->next;
		xfer_free(x);
	}
	for (i = 0; i < m->nidle; i++)
		curl_easy_cleanup(m->idle[i]);
	free(m->idle);
	curl_multi_cleanup(m->cm);
	free(m);
}

static void push_waiting(struct ht_http_multi *m, struct xfer *x)
{
	x->next = NULL;
	if (m->waiting_tail)
		m->waiting_tail->next = x;
	else
		m->waiting = x;
	m->waiting_tail = x;
}

static void push_done(struct ht_http_multi *m, struct xfer *x)
{
	x->next = NULL;
	if (m->done_tail)
		m->done_tail->next = x;
	else
		m->done = x;
	m->done_tail = x;
}

int ht_http_multi_add(struct ht_http_multi *m, const struct ht_http_req *req, void *user)
{
	struct xfer *x = ht_xcalloc(1, sizeof(*x));

	x->req = req;
	x->user = user;
	ht_http_resp_init(&x->resp);
	x->start_ms = ht_now_ms();
	push_waiting(m, x);
	m->pending++;
	return 0;
}

size_t ht_http_multi_pending(const struct ht_http_multi *m)
{
	return m->pending;
}

/* Starts waiting requests whose time has come, while slots are free.
 * Returns the milliseconds until the next delayed one may start (-1:
 * none waits). */
static int64_t start_ready(struct ht_http_multi *m)
{
	struct xfer **pp = &m->waiting, *x, *prev = NULL;
	int64_t now = ht_now_ms(), soonest = -1;

	while ((x = *pp) && m->active < m->max_active) {
		if (x->not_before_ms > now) {
			if (soonest < 0 || x->not_before_ms - now < soonest)
				soonest = x->not_before_ms - now;
			prev = x;
			pp = &x->next;
			continue;
		}
		*pp = x->next;
		if (m->waiting_tail == x)
			m->waiting_tail = prev;
		x->h = m->nidle ? m->idle[--m->nidle] : curl_easy_init();
		if (!x->h) {
			snprintf(x->resp.error, sizeof(x->resp.error), "cannot start libcurl");
			x->resp.curl_code = CURLE_OUT_OF_MEMORY;
			xfer_finish(x);
			push_done(m, x);
			continue;
		}
		curl_easy_reset(x->h);
		x->resp.attempts++;
		if (xfer_setup(x) < 0) {
			xfer_clear_attempt(x);
			x->resp.curl_code = CURLE_READ_ERROR;
			m->idle[m->nidle++] = x->h;
			x->h = NULL;
			xfer_finish(x);
			push_done(m, x);
			continue;
		}
		curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
		x->not_before_ms = now; /* when this attempt started */
		curl_multi_add_handle(m->cm, x->h);
		x->next = m->running;
		m->running = x;
		m->active++;
	}
	for (x = *pp; x; x = x->next)
		if (x->not_before_ms > now && (soonest < 0 || x->not_before_ms - now < soonest))
			soonest = x->not_before_ms - now;
	return soonest;
}

static void unlink_running(struct ht_http_multi *m, struct xfer *x)
{
	struct xfer **pp;

	for (pp = &m->running; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	m->active--;
}

/* Takes the finished transfers from libcurl: each is done or waits to be
 * tried again. */
static void reap(struct ht_http_multi *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->cm, &left))) {
		struct xfer *x = NULL;
		int64_t delay;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		xfer_collect(x, msg->data.result);
		xfer_debug(x, ht_now_ms() - x->not_before_ms);
		curl_multi_remove_handle(m->cm, x->h);
		unlink_running(m, x);
		if (m->nidle < m->max_active)
			m->idle[m->nidle++] = x->h;
		else
			curl_easy_cleanup(x->h);
		x->h = NULL;
		delay = xfer_next_delay(x);
		if (delay >= 0) {
			x->not_before_ms = ht_now_ms() + delay;
			push_waiting(m, x);
		} else {
			xfer_finish(x);
			push_done(m, x);
		}
	}
}

int ht_http_multi_run(struct ht_http_multi *m, long timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? ht_now_ms() + timeout_ms : INT64_MAX;

	for (;;) {
		int64_t soonest, now, wait;
		int running;
		CURLMcode mc;

		soonest = start_ready(m);
		mc = curl_multi_perform(m->cm, &running);
		if (mc != CURLM_OK)
			return ht_error("http: %s", curl_multi_strerror(mc));
		reap(m);
		if (m->done)
			break;
		if (!m->active && !m->waiting)
			break;
		now = ht_now_ms();
		if (now >= deadline)
			break;
		/* A retry that just got its time, or a slot that just freed. */
		if (m->waiting && m->active < m->max_active && soonest == 0)
			continue;
		wait = deadline - now;
		if (wait > 1000)
			wait = 1000;
		if (soonest >= 0 && soonest < wait)
			wait = soonest;
		if (m->active) {
			mc = curl_multi_poll(m->cm, NULL, 0, (int)wait, NULL);
			if (mc != CURLM_OK)
				return ht_error("http: %s", curl_multi_strerror(mc));
		} else {
			ht_sleep_ms(wait);
		}
	}
	{
		int n = 0;
		struct xfer *x;

		for (x = m->done; x; x = x->next)
			n++;
		return n;
	}
}

void *ht_http_multi_next(struct ht_http_multi *m, struct ht_http_resp *resp, int *rc)
{
	struct xfer *x = m->done;
	void *user;

	if (!x)
		return NULL;
	m->done = x->next;
	if (!m->done)
		m->done_tail = NULL;
	m->pending--;
	*resp = x->resp;
	if (rc)
		*rc = x->rc;
	user = x->user;
	free(x);
	return user;
}
