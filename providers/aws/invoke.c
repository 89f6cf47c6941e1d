/*
 * invoke.c: the `aws` provider. Each invocation is one call of Lambda's
 * Invoke API (POST /2015-03-31/functions/NAME/invocations, RequestResponse,
 * log tail), run on libcurl's multi interface (ht_http_multi) over a few
 * reused connections. See docs/aws-provider.md.
 *
 * The provider keeps its own admission control in front of the multi
 * handle: an AIMD window. A throttled call (429 TooManyRequestsException)
 * halves the number of calls in flight (not below aws.min_concurrency, 1
 * by default) and is sent again after a jittered exponential backoff;
 * after a quiet time without throttling, successes raise the window
 * again, additively, up to the
 * configured concurrency. Transient failures (5xx, dropped connections)
 * are sent again with backoff, without touching the window. Nothing here
 * turns into a test failure: what cannot be sent ends as HT_INVOKE_INFRA
 * with the reason, and ht-invoke decides.
 *
 * Per invocation the provider holds the payload, one request struct, its
 * signed header lines and a few counters, in one allocation; the URL, the
 * other headers and the signing key are shared. The provider signs each
 * attempt itself (sigv4.h: the key is derived once per day, not once per
 * request as libcurl does), just before it goes on the wire. Credentials
 * are resolved at open, and again when Lambda says they expired
 * (creds_expired()).
 *
 * Single-threaded: the caller's thread runs every operation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "ht/jsonl.h"
#include "ht/config.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/http.h"
#include "ht/provider.h"
#include "ht/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/bucket.h"
#include "providers/aws/lambda.h"
#include "providers/aws/settings.h"
#include "providers/aws/sigv4.h"

/* Lambda's limit for a synchronous invocation's request payload. */
#define MAX_PAYLOAD (6u * 1024 * 1024)
/* Lambda's answer is at most 6 MB too; allow some room for headers. */
#define MAX_RESPONSE (6u * 1024 * 1024 + 4096)
/* The client waits for the function's timeout plus this. */
#define DEFAULT_MARGIN_MS 10000
/* Throttled calls are sent again at most this often (each with backoff)
 * before the invocation ends as an infrastructure failure. */
#define MAX_THROTTLES 12
/* Transient failures (5xx, transport) tolerated per invocation. */
#define MAX_TRANSIENT 4
/* Backoff: full jitter over base * 2^k, capped. */
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 10000
/* No increase of the window within this time after a throttle. */
#define QUIET_MS 1000
/* At most one additive step per this interval. */
#define STEP_MS 100

struct inv {
	struct inv *next;            /* in the queue */
	struct inv *wprev, *wnext;   /* on the wire */
	size_t len;
	void *user;
	struct ht_http_req req;      /* borrowed by the multi handle while sent */
	const char *headers[8];      /* req.headers: the shared lines and sig's */
	struct ht_aws_signed sig;    /* of the attempt on the wire */
	int throttles;               /* 429s so far */
	int transient;               /* 5xx and transport failures so far */
	int sent;                    /* in the multi handle now */
	int cancelled;               /* completed as CANCELLED; drop the answer */
	int gen;                     /* the credentials it was last sent with */
	int64_t not_before_ms;       /* backoff: do not send before */
	int64_t sent_ms;             /* when the current attempt went out */
	char last_error[160];        /* why the previous attempt failed */
	char payload[];              /* len bytes and a NUL */
};

struct done {
	struct done *next;
	struct ht_completion c;
};

struct ht_provider {
	struct ht_aws aws;
	struct ht_aws_signer signer;
	char *function;
	char *url;
	char *host;                  /* the URL's host[:port], sent and signed as Host */
	char *host_line;             /* "Host: " host */
	char *canon_uri;             /* the URL's path as SigV4 signs it */
	char *token_line;            /* "X-Amz-Security-Token: ...", or NULL; secret */
	struct ht_http_multi *m;
	long max_conc;               /* configured */
	double window;               /* AIMD: calls in flight at most */
	int64_t last_decrease_ms;
	int64_t last_step_ms;
	int64_t last_throttle_ms;
	long min_window;             /* lowest the window went */
	long floor;                  /* lowest it may go: aws.min_concurrency */
	long throttled;              /* 429s in all */
	long transient;              /* 5xx and transport failures in all */
	int sent;                    /* calls in the multi handle */
	int ninv;                    /* invocations not yet completed */
	struct inv *queue, *queue_tail; /* waiting to be sent, FIFO */
	struct inv *wire;            /* in the multi handle */
	struct done *done, *done_tail;
	int64_t fn_timeout_ms;       /* the function's configured timeout */
	char *code_sha256;           /* an Image function's image digest (hex), or NULL */
	int64_t client_timeout_ms;   /* what the client waits for an answer */
	int warned_timeout;
	int gen;                     /* credentials renewed this many times */
	int gen_worked;              /* a call with the current ones got through */
	char *creds_dead;            /* why no call can go out any more, or NULL */
};

/* snprintf into a message buffer, cut where it ends. */
static void setmsg(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void setmsg(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

static double random_unit(void)
{
	uint64_t r;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint64_t)ht_now_ms() * 6364136223846793005ULL;
	return (double)(r >> 11) / (double)(1ULL << 53);
}

static int64_t backoff_ms(int k)
{
	struct ht_http_retry p = { 0, BACKOFF_BASE_MS, BACKOFF_CAP_MS, 0 };

	/* Never 0: a storm must spread out. */
	return 1 + ht_http_backoff_ms(&p, k, random_unit());
}

static void queue_push(struct ht_provider *p, struct inv *v)
{
	v->next = NULL;
	if (p->queue_tail)
		p->queue_tail->next = v;
	else
		p->queue = v;
	p->queue_tail = v;
}

static void inv_free(struct inv *v)
{
	free(v);
}

/*
 * Hands out v's completion with status st and message msg; steals body
 * (may be NULL) and log_tail. v stays.
 */
static void finish(struct ht_provider *p, struct inv *v, enum ht_invoke_status st, const char *msg,
		   char *body, size_t body_len, char *log_tail)
{
	struct done *d = ht_xcalloc(1, sizeof(*d));

	d->c.user = v->user;
	d->c.status = st;
	d->c.body = body;
	d->c.body_len = body_len;
	d->c.log_tail = log_tail;
	snprintf(d->c.message, sizeof(d->c.message), "%s", msg ? msg : "");
	d->c.dispatched_ms = v->sent_ms;
	d->c.finished_ms = ht_now_ms();
	if (p->done_tail)
		p->done_tail->next = d;
	else
		p->done = d;
	p->done_tail = d;
	p->ninv--;
}

/* finish(), then frees v. */
static void complete(struct ht_provider *p, struct inv *v, enum ht_invoke_status st, const char *msg,
		     char *body, size_t body_len, char *log_tail)
{
	finish(p, v, st, msg, body, body_len, log_tail);
	inv_free(v);
}

static void wire_add(struct ht_provider *p, struct inv *v)
{
	v->wprev = NULL;
	v->wnext = p->wire;
	if (p->wire)
		p->wire->wprev = v;
	p->wire = v;
	v->sent = 1;
	p->sent++;
}

static void wire_remove(struct ht_provider *p, struct inv *v)
{
	if (v->wprev)
		v->wprev->wnext = v->wnext;
	else
		p->wire = v->wnext;
	if (v->wnext)
		v->wnext->wprev = v->wprev;
	v->wprev = v->wnext = NULL;
	v->sent = 0;
	p->sent--;
}

/* --- the AIMD window -------------------------------------------------------- */

static void window_decrease(struct ht_provider *p, struct inv *v, const char *why)
{
	long before = (long)p->window;

	p->last_throttle_ms = ht_now_ms();
	/* One halving per round: answers to calls sent before the last
	 * halving say nothing new. */
	if (v->sent_ms < p->last_decrease_ms)
		return;
	p->window = p->window / 2 < p->floor ? (double)p->floor : p->window / 2;
	p->last_decrease_ms = p->last_throttle_ms;
	if ((long)p->window < p->min_window)
		p->min_window = (long)p->window;
	if ((long)p->window != before)
		ht_info("lambda: %s: concurrency %ld -> %ld", why, before, (long)p->window);
}

static void window_increase(struct ht_provider *p)
{
	int64_t now = ht_now_ms();
	long before = (long)p->window, step;

	if (p->window >= p->max_conc || now - p->last_throttle_ms < QUIET_MS || now - p->last_step_ms < STEP_MS)
		return;
	step = p->max_conc / 50 > 1 ? p->max_conc / 50 : 1;
	p->window += (double)step;
	if (p->window > p->max_conc)
		p->window = (double)p->max_conc;
	p->last_step_ms = now;
	if ((long)p->window == p->max_conc && before < p->max_conc)
		ht_info("lambda: no throttling for %d ms: concurrency back to %ld", QUIET_MS, p->max_conc);
	else
		ht_debug("lambda: concurrency %ld -> %ld", before, (long)p->window);
}

/* --- answers ------------------------------------------------------------------ */


/* Decodes base64 text (X-Amz-Log-Result) into a new string, valid UTF-8
 * (the tail may start in the middle of a character), or NULL. */
static char *log_tail_decode(const char *s)
{
	size_t len;
	char *out = ht_base64_decode(s, &len);

	return out ? ht_utf8_clean(out, len, 0) : NULL;
}

/* "errorType: errorMessage" of a function error body, into out. */
static void function_error_message(const char *kind, const char *body, size_t len, char *out, size_t n)
{
	json_t *j = json_loadb(body ? body : "", len, 0, NULL);
	const char *t = NULL, *m = NULL;

	if (json_is_object(j)) {
		t = json_string_value(json_object_get(j, "errorType"));
		m = json_string_value(json_object_get(j, "errorMessage"));
	}
	if (t || m)
		snprintf(out, n, "the function failed (%s): %s%s%s", kind, t ? t : "", t && m ? ": " : "",
			 m ? m : "");
	else
		snprintf(out, n, "the function failed (%s): %.*s", kind, (int)(len > 120 ? 120 : len),
			 body ? body : "");
	json_decref(j);
}

/* Sends v again after a backoff of the k-th retry. */
static void resend_later(struct ht_provider *p, struct inv *v, int k)
{
	v->not_before_ms = ht_now_ms() + backoff_ms(k);
	queue_push(p, v);
}

/* --- expired credentials ------------------------------------------------------ */

static void free_token_line(struct ht_provider *p)
{
	if (p->token_line)
		explicit_bzero(p->token_line, strlen(p->token_line));
	free(p->token_line);
	p->token_line = NULL;
}

/* Points the signer at p->aws.creds (a new key is derived). */
static void sig_update(struct ht_provider *p)
{
	const struct ht_aws_creds *c = &p->aws.creds;

	ht_aws_signer_set_creds(&p->signer, c->access_key_id, c->secret_access_key, c->session_token);
	free_token_line(p);
	if (c->session_token)
		p->token_line = ht_xasprintf("X-Amz-Security-Token: %s", c->session_token);
}

/*
 * Signs v's next attempt at now (seconds, UTC): the headers Invoke sends,
 * in v->headers (the shared lines and v's date and authorization). 0 or
 * -1 with a message.
 */
static int sign(struct ht_provider *p, struct inv *v, time_t now)
{
	static const struct ht_aws_sig_header fixed[] = {
		{ "content-type", "application/json" },
		{ "x-amz-invocation-type", "RequestResponse" },
		{ "x-amz-log-type", "Tail" },
	};
	struct ht_aws_sig_header h[4] = { fixed[0], fixed[1], fixed[2], { "host", p->host } };
	int k = 0;

	if (ht_aws_sign(&p->signer, now, "POST", p->canon_uri, "", h, 4, v->payload, v->len, &v->sig) < 0)
		return -1;
	v->headers[k++] = "Content-Type: application/json";
	v->headers[k++] = "X-Amz-Invocation-Type: RequestResponse";
	v->headers[k++] = "X-Amz-Log-Type: Tail";
	v->headers[k++] = p->host_line;
	v->headers[k++] = v->sig.date;
	v->headers[k++] = v->sig.authorization;
	if (p->token_line)
		v->headers[k++] = p->token_line;
	v->headers[k] = NULL;
	v->req.headers = v->headers;
	return 0;
}

/* No call can go out any more (why: a message): what waits to be sent
 * completes as CREDENTIALS now, later invocations at once. */
static void creds_fail(struct ht_provider *p, const char *why)
{
	struct inv *v;

	p->creds_dead = ht_xstrdup(why);
	ht_error("%s", why);
	while ((v = p->queue)) {
		p->queue = v->next;
		complete(p, v, HT_INVOKE_CREDENTIALS, why, NULL, 0, NULL);
	}
	p->queue_tail = NULL;
}

/*
 * Lambda answered v that the credentials expired (e). A call sent with
 * ones that were renewed since goes again with the new ones. Else, when
 * the current ones did get through before, they are resolved again once
 * (the environment, the shared files a user's tooling refreshes): new
 * ones are used from now on, for v first. The same ones, none, or renewed
 * ones that expired before any call got through with them end the run's
 * calls with a credentials error, not with retries.
 */
static void creds_expired(struct ht_provider *p, struct inv *v, const struct ht_aws_error *e)
{
	struct ht_aws_error x;
	char why[256];
	int r;

	if (!p->creds_dead && v->gen < p->gen) {
		queue_push(p, v);
		return;
	}
	if (!p->creds_dead && !p->gen_worked) {
		setmsg(why, sizeof(why), "lambda: the credentials expired (%s), and the renewed ones from the %s "
		       "are expired too: renew them and run again", e->code, p->aws.creds.source);
		creds_fail(p, why);
	} else if (!p->creds_dead) {
		r = ht_aws_creds_refresh(&p->aws, &x);
		if (r == 1) {
			sig_update(p);
			p->gen++;
			p->gen_worked = 0;
			ht_warning("lambda: the credentials expired (%s); going on with the new ones from the %s",
				   e->code, p->aws.creds.source);
			queue_push(p, v);
			return;
		}
		if (r == 0)
			setmsg(why, sizeof(why), "lambda: the credentials expired (%s), and the %s still has the "
			       "same ones: renew them (aws sso login, or your tool's refresh) and run again", e->code,
			       p->aws.creds.source);
		else
			setmsg(why, sizeof(why), "lambda: the credentials expired (%s), and they no longer resolve: %s",
			       e->code, x.message);
		creds_fail(p, why);
	}
	complete(p, v, HT_INVOKE_CREDENTIALS, p->creds_dead, NULL, 0, NULL);
}

/* Takes one answer (or transport failure) of the multi handle. */
static void answer(struct ht_provider *p, struct inv *v, struct ht_http_resp *resp, int rc)
{
	struct ht_aws_error e;
	char msg[256];

	wire_remove(p, v);
	if (v->cancelled) {
		/* Completed as CANCELLED already. */
		inv_free(v);
		return;
	}
	if (rc < 0) {
		if (resp->curl_code == CURLE_OPERATION_TIMEDOUT) {
			setmsg(msg, sizeof(msg), "no answer from Lambda within %.1f s (the function's timeout "
				 "of %.1f s and a margin)", p->client_timeout_ms / 1000.0, p->fn_timeout_ms / 1000.0);
			/* Lambda answers a function past its timeout itself
			 * ("Task timed out"): no answer at all is the way
			 * there, not the test. */
			complete(p, v, HT_INVOKE_INFRA, msg, NULL, 0, NULL);
			return;
		}
		p->transient++;
		setmsg(v->last_error, sizeof(v->last_error), "%s", resp->error);
		if (v->transient++ < MAX_TRANSIENT) {
			ht_debug("lambda: %s; sending again", resp->error);
			resend_later(p, v, v->transient);
			return;
		}
		setmsg(msg, sizeof(msg), "lambda: cannot invoke: %s (after %d attempts)", resp->error, v->transient);
		complete(p, v, HT_INVOKE_INFRA, msg, NULL, 0, NULL);
		return;
	}
	if (resp->status == 200) {
		char *fe = ht_http_header(resp, "X-Amz-Function-Error");
		char *lr = ht_http_header(resp, "X-Amz-Log-Result");
		char *tail = lr ? log_tail_decode(lr) : NULL;
		size_t blen = resp->body.len;
		char *body = ht_buf_detach(&resp->body);

		if (v->gen == p->gen)
			p->gen_worked = 1;
		free(lr);
		if (!body) {
			body = ht_xstrdup("");
			blen = 0;
		}
		window_increase(p);
		if (fe) {
			function_error_message(fe, body, blen, msg, sizeof(msg));
			free(fe);
			complete(p, v, HT_INVOKE_FUNC_ERROR, msg, body, blen, tail);
		} else {
			complete(p, v, HT_INVOKE_OK, NULL, body, blen, tail);
		}
		return;
	}
	ht_aws_error_from_response(&e, resp);
	if (ht_aws_error_expired(&e)) {
		creds_expired(p, v, &e);
		return;
	}
	if (v->gen == p->gen && e.kind != HT_AWS_E_CREDENTIALS)
		p->gen_worked = 1;
	if (e.kind == HT_AWS_E_THROTTLED || resp->status == 429) {
		char why[160];

		p->throttled++;
		setmsg(why, sizeof(why), "throttled (%ld %s)", resp->status, *e.code ? e.code : "");
		window_decrease(p, v, why);
		setmsg(v->last_error, sizeof(v->last_error), "%s", why);
		if (v->throttles++ < MAX_THROTTLES) {
			int64_t wait = backoff_ms(v->throttles);
			char *ra = ht_http_header(resp, "Retry-After");

			if (ra) {
				int64_t want = ht_http_retry_after_ms(ra, ht_wall_ms());

				if (want > wait && want <= 60000)
					wait = want;
				free(ra);
			}
			v->not_before_ms = ht_now_ms() + wait;
			queue_push(p, v);
			return;
		}
		setmsg(msg, sizeof(msg), "lambda: throttled %d times (%s); gave up", v->throttles,
			 *e.code ? e.code : "429");
		complete(p, v, HT_INVOKE_INFRA, msg, NULL, 0, NULL);
		return;
	}
	if (resp->status >= 500 || resp->status == 408) {
		p->transient++;
		setmsg(v->last_error, sizeof(v->last_error), "%ld %s", resp->status, e.code);
		if (v->transient++ < MAX_TRANSIENT) {
			ht_debug("lambda: %ld %s; sending again", resp->status, e.code);
			resend_later(p, v, v->transient);
			return;
		}
		setmsg(msg, sizeof(msg), "lambda: %ld %s: %s (after %d attempts)", resp->status, e.code,
			 e.message, v->transient);
		complete(p, v, HT_INVOKE_INFRA, msg, NULL, 0, NULL);
		return;
	}
	/* Credentials, permissions, a function gone: not worth sending again
	 * here; ht-invoke's infrastructure retries decide. */
	setmsg(msg, sizeof(msg), "lambda: Invoke: %ld %s%s%s", resp->status, e.code, *e.message ? ": " : "",
		 e.message);
	complete(p, v, HT_INVOKE_INFRA, msg, NULL, 0, NULL);
}

/* --- sending ------------------------------------------------------------------ */

/* Sends what is ready, while the window has room. Returns the time until
 * the next delayed one is due (-1: none waits). */
static int64_t send_ready(struct ht_provider *p)
{
	struct inv **pp = &p->queue, *v, *prev = NULL;
	int64_t now = ht_now_ms(), soonest = -1;

	while ((v = *pp) && p->sent < (int)p->window) {
		if (v->not_before_ms > now) {
			if (soonest < 0 || v->not_before_ms - now < soonest)
				soonest = v->not_before_ms - now;
			prev = v;
			pp = &v->next;
			continue;
		}
		*pp = v->next;
		if (p->queue_tail == v)
			p->queue_tail = prev;
		v->next = NULL;
		v->sent_ms = now;
		v->gen = p->gen;
		if (sign(p, v, (time_t)(ht_wall_ms() / 1000)) < 0) {
			complete(p, v, HT_INVOKE_INFRA, "lambda: cannot sign the request", NULL, 0, NULL);
			continue;
		}
		if (ht_http_multi_add(p->m, &v->req, v) < 0) {
			complete(p, v, HT_INVOKE_INFRA, "lambda: cannot queue the request", NULL, 0, NULL);
			continue;
		}
		wire_add(p, v);
	}
	for (v = *pp; v; v = v->next)
		if (v->not_before_ms > now && (soonest < 0 || v->not_before_ms - now < soonest))
			soonest = v->not_before_ms - now;
	return soonest;
}

static int aws_invoke(struct ht_provider *p, const char *payload, size_t len, int64_t timeout_ms, void *user)
{
	struct inv *v;

	if (len > MAX_PAYLOAD)
		return ht_error("the event is %zu bytes, over Lambda's limit of %u bytes for a synchronous "
				"invocation; it was not sent", len, MAX_PAYLOAD);
	if (timeout_ms > p->fn_timeout_ms && !p->warned_timeout) {
		p->warned_timeout = 1;
		ht_warning("a test may take %.0f s, longer than the function '%s' may run (Timeout %.0f s): "
			   "raise the function's timeout or lower timeout_s", timeout_ms / 1000.0, p->function,
			   p->fn_timeout_ms / 1000.0);
	}
	/* One allocation, the payload in it. */
	v = ht_xmalloc(sizeof(*v) + len + 1);
	memset(v, 0, offsetof(struct inv, payload));
	memcpy(v->payload, payload, len);
	v->payload[len] = '\0';
	v->len = len;
	v->user = user;
	v->req.method = "POST";
	v->req.url = p->url;
	v->req.body = v->payload;
	v->req.body_len = len;
	v->req.timeout_ms = p->client_timeout_ms;
	v->req.max_response = MAX_RESPONSE;
	v->req.insecure = p->aws.insecure && p->aws.custom[HT_AWS_LAMBDA];
	p->ninv++;
	if (p->creds_dead)
		complete(p, v, HT_INVOKE_CREDENTIALS, p->creds_dead, NULL, 0, NULL);
	else
		queue_push(p, v);
	return 0;
}

static int take_done(struct ht_provider *p, struct ht_completion *out, int max)
{
	int n = 0;

	while (n < max && p->done) {
		struct done *d = p->done;

		p->done = d->next;
		if (!p->done)
			p->done_tail = NULL;
		out[n++] = d->c;
		free(d);
	}
	return n;
}

static int aws_poll(struct ht_provider *p, struct ht_completion *out, int max, int timeout_ms)
{
	int64_t end = timeout_ms >= 0 ? ht_now_ms() + timeout_ms : INT64_MAX;

	for (;;) {
		int64_t soonest, now, wait;
		struct ht_http_resp resp;
		void *u;
		int rc;

		soonest = send_ready(p);
		if (p->done)
			return take_done(p, out, max);
		now = ht_now_ms();
		if (now >= end)
			return 0;
		wait = end - now;
		if (wait > 250)
			wait = 250;
		if (soonest >= 0 && soonest < wait)
			wait = soonest;
		if (p->sent) {
			if (ht_http_multi_run(p->m, (long)wait) < 0)
				return -1;
		} else if (wait > 0) {
			ht_sleep_ms(wait);
		}
		while ((u = ht_http_multi_next(p->m, &resp, &rc))) {
			answer(p, u, &resp, rc);
			ht_http_resp_release(&resp);
		}
		if (!p->sent && !p->queue && !p->done && timeout_ms < 0)
			return 0;
	}
}

static int aws_pending(struct ht_provider *p)
{
	return p->ninv;
}

static int aws_cancel(struct ht_provider *p, void *user)
{
	struct inv **pp, *v, *prev = NULL;

	for (pp = &p->queue; (v = *pp); prev = v, pp = &v->next) {
		if (v->user != user)
			continue;
		*pp = v->next;
		if (p->queue_tail == v)
			p->queue_tail = prev;
		complete(p, v, HT_INVOKE_CANCELLED, "cancelled", NULL, 0, NULL);
		return 0;
	}
	/* A call on the wire cannot be taken back (the function runs anyway):
	 * it completes now, and its answer is dropped when it comes. */
	for (v = p->wire; v; v = v->wnext) {
		if (v->user != user || v->cancelled)
			continue;
		v->cancelled = 1;
		finish(p, v, HT_INVOKE_CANCELLED, "cancelled", NULL, 0, NULL);
		return 0;
	}
	return -1;
}

static void free_done(struct ht_provider *p)
{
	struct done *d;

	while ((d = p->done)) {
		p->done = d->next;
		ht_completion_release(&d->c);
		free(d);
	}
	p->done_tail = NULL;
}

static void aws_close(struct ht_provider *p)
{
	struct inv *v;

	if (!p)
		return;
	if (p->throttled)
		ht_warning("Lambda throttled %ld invocation%s; concurrency went down to %ld (of %ld): raise the "
			   "function's concurrency limit or lower concurrency", p->throttled,
			   p->throttled == 1 ? "" : "s", p->min_window, p->max_conc);
	/* The wire list owns every invocation the multi handle has, running
	 * or finished but not yet taken (answer() takes it off the list):
	 * free the handle, which borrows their requests and frees its own
	 * answers, then each of them once. */
	ht_http_multi_free(p->m);
	while ((v = p->wire)) {
		p->wire = v->wnext;
		inv_free(v);
	}
	while ((v = p->queue)) {
		p->queue = v->next;
		inv_free(v);
	}
	free_done(p);
	ht_aws_signer_release(&p->signer);
	free_token_line(p);
	ht_aws_release(&p->aws);
	free(p->host);
	free(p->host_line);
	free(p->canon_uri);
	free(p->creds_dead);
	free(p->code_sha256);
	free(p->function);
	free(p->url);
	free(p);
}

/* --- opening -------------------------------------------------------------------- */

/*
 * GetFunctionConfiguration: checks that the function exists and learns its
 * timeout. Returns 0, or -1 after printing why with *code set.
 */
static int get_configuration(struct ht_provider *p, int *code)
{
	struct ht_aws_error e;
	json_t *j = NULL;
	const char *state;

	if (ht_lambda_get_configuration(&p->aws, p->function, 1, &j, &e) < 0) {
		*code = ht_aws_error_exit(&e);
		if (e.kind == HT_AWS_E_NOT_FOUND)
			ht_error("the function '%s' does not exist in region %s (%s): check aws.function and "
				 "aws.region", p->function, p->aws.region, e.message);
		else if (e.kind == HT_AWS_E_TRANSPORT || e.kind == HT_AWS_E_UNAVAILABLE)
			ht_error("cannot reach Lambda at %s: %s", p->aws.endpoint[HT_AWS_LAMBDA], e.message);
		else
			ht_error("%s", e.message);
		return -1;
	}
	p->fn_timeout_ms = ht_lambda_timeout_ms(json_object_get(j, "Timeout"), p->function);
	/* For a function of package type Image, CodeSha256 is the digest
	 * of the image it runs: the run summary names it. */
	if (!strcmp(ht_json_str(j, "PackageType", "Zip"), "Image") && ht_json_str(j, "CodeSha256", NULL))
		p->code_sha256 = ht_xstrdup(ht_json_str(j, "CodeSha256", NULL));
	state = json_string_value(json_object_get(j, "State"));
	if (state && strcmp(state, "Active"))
		ht_warning("the function '%s' is %s, not Active: invocations may fail or wait", p->function, state);
	json_decref(j);
	return 0;
}

/*
 * The Host header and the canonical URI of p->url: host[:port] as the URL
 * has it (sent as Host, so that what is signed is what goes out), and the
 * path as it is sent, which is what libcurl signs for the other calls
 * (GetFunctionConfiguration of the same function) and what moto checks.
 * 0 or -1 with a message.
 */
static int url_parts(struct ht_provider *p)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *path = NULL;
	int rc = -1;

	if (!u || curl_url_set(u, CURLUPART_URL, p->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		ht_error("lambda: cannot parse the endpoint URL '%s'", p->aws.endpoint[HT_AWS_LAMBDA]);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	p->host = port ? ht_xasprintf("%s:%s", host, port) : ht_xstrdup(host);
	p->host_line = ht_xasprintf("Host: %s", p->host);
	p->canon_uri = ht_xstrdup(*path ? path : "/");
	rc = 0;
out:
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

static int aws_open(struct ht_provider **out, const struct ht_config *cfg, const struct ht_provider_opts *opts,
		    int *code)
{
	struct ht_provider *p = ht_xcalloc(1, sizeof(*p));
	struct ht_aws_opts ao;
	struct ht_aws_error e;
	const char *margin;
	char *enc;

	*out = NULL;
	*code = HT_EXIT_SOFTWARE;
	if (!ht_aws_settings(cfg)->function || !*ht_aws_settings(cfg)->function) {
		free(p);
		*code = HT_EXIT_CONFIG;
		return ht_config_require(cfg, "aws.function");
	}
	ht_aws_opts_from_config(&ao, cfg);
	if (ht_aws_init(&p->aws, &ao, &e) < 0) {
		*code = ht_aws_error_exit(&e);
		free(p);
		return -1;
	}
	p->function = ht_xstrdup(ht_aws_settings(cfg)->function);
	p->max_conc = opts && opts->concurrency > 0 ? opts->concurrency : cfg->concurrency;
	if (p->max_conc <= 0)
		p->max_conc = 50;
	p->window = (double)p->max_conc;
	p->min_window = p->max_conc;
	p->floor = ht_aws_settings(cfg)->min_concurrency;
	if (p->floor < 1)
		p->floor = 1;
	if (p->floor > p->max_conc)
		p->floor = p->max_conc;
	if (get_configuration(p, code) < 0)
		goto fail;
	margin = getenv("HT_AWS_INVOKE_MARGIN_MS");
	{
		long m = DEFAULT_MARGIN_MS;

		if (margin && *margin && ht_parse_long(margin, 0, 3600000, &m) < 0) {
			*code = HT_EXIT_CONFIG;
			ht_error("HT_AWS_INVOKE_MARGIN_MS: expected milliseconds, got '%s'", margin);
			goto fail;
		}
		p->client_timeout_ms = p->fn_timeout_ms + m;
	}
	enc = ht_aws_uri_encode(p->function, 0);
	p->url = ht_xasprintf("%s/2015-03-31/functions/%s/invocations", p->aws.endpoint[HT_AWS_LAMBDA], enc);
	free(enc);
	if (url_parts(p) < 0 || ht_aws_signer_init(&p->signer, p->aws.region, "lambda") < 0)
		goto fail;
	sig_update(p);
	/* GetFunctionConfiguration got through with them. */
	p->gen_worked = 1;
	p->m = ht_http_multi_new((int)p->max_conc);
	if (!p->m) {
		ht_error("cannot start libcurl's multi interface");
		goto fail;
	}
	ht_debug("lambda: function %s in %s at %s, timeout %lld ms (client %lld ms), concurrency %ld",
		 p->function, p->aws.region, p->aws.endpoint[HT_AWS_LAMBDA], (long long)p->fn_timeout_ms,
		 (long long)p->client_timeout_ms, p->max_conc);
	*out = p;
	*code = 0;
	return 0;
fail:
	aws_close(p);
	return -1;
}

/* The function, its region, and the image it runs when Lambda said. */
static void aws_about(struct ht_provider *p, json_t *obj)
{
	ht_json_set_str(obj, "function", p->function);
	ht_json_set_str(obj, "region", p->aws.region);
	if (p->code_sha256)
		json_object_set_new(obj, "image", json_pack("{s:s+}", "digest", strchr(p->code_sha256, ':') ? "" :
							    "sha256:", p->code_sha256));
}

/*
 * The image the function runs (GetFunction: the digest of its ImageUri, as
 * ht-update compares it), for ht-invoke's drift check, which finds the
 * image's manifest in the bucket, where ht-update stored it.
 */
static int aws_image_tree(struct ht_provider *p, struct ht_image_tree *it)
{
	struct ht_aws_error e;
	json_t *fn = NULL;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = ht_lambda_get_function(&p->aws, p->function, 1, &fn, &e) == 0 &&
	     ht_lambda_image_digest(fn, it->digest) == 0;
	json_decref(fn);
	if (!rc && p->code_sha256) {
		/* No GetFunction (not allowed, say): CodeSha256 is the digest. */
		ht_debug("lambda: GetFunction: %s: the image digest from CodeSha256", e.message);
		snprintf(it->digest, sizeof(it->digest), "sha256:%s", p->code_sha256);
		rc = ht_digest_valid(it->digest);
	}
	if (!rc && !p->code_sha256)
		return 0;
	it->what = ht_xasprintf("function '%s' (image %s)", p->function, rc ? it->digest : "unknown");
	it->fix = "run make hypertest-deploy (or ht-build | ht-push | ht-update)";
	return 1;
}

const struct ht_provider_ops ht_provider_aws = {
	.name = "aws",
	.schema = &ht_aws_schema,
	.checks = ht_aws_checks,
	.bucket = ht_aws_bucket,
	.max_payload = MAX_PAYLOAD,
	.open = aws_open,
	.invoke = aws_invoke,
	.poll = aws_poll,
	.pending = aws_pending,
	.cancel = aws_cancel,
	.close = aws_close,
	.about = aws_about,
	.image_tree = aws_image_tree,
};
