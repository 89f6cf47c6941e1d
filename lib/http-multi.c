/*
 * http-multi.c: many requests at once on one libcurl multi handle, each
 * with the setup and retry policy of http.c; a request waiting for its
 * retry holds no transfer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ht/diag.h"
#include "ht/http.h"
#include "lib/http-int.h"

struct ht_http_multi {
	CURLM *cm;
	int max_active;
	int active;
	size_t pending;       /* added, not yet taken */
	struct ht_http_xfer *waiting, *waiting_tail; /* FIFO; retries carry not_before */
	struct ht_http_xfer *running; /* list of active ones */
	struct ht_http_xfer *done, *done_tail;
	CURL **idle;          /* easy handles kept for reuse */
	int nidle;
};

struct ht_http_multi *ht_http_multi_new(int max_active)
{
	struct ht_http_multi *m;

	ht_http_global_init();
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

static void xfer_free(struct ht_http_xfer *x)
{
	ht_http_xfer_clear_attempt(x);
	ht_http_resp_release(&x->resp);
	free(x);
}

void ht_http_multi_free(struct ht_http_multi *m)
{
	struct ht_http_xfer *x, *n;
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

static void push_waiting(struct ht_http_multi *m, struct ht_http_xfer *x)
{
	x->next = NULL;
	if (m->waiting_tail)
		m->waiting_tail->next = x;
	else
		m->waiting = x;
	m->waiting_tail = x;
}

static void push_done(struct ht_http_multi *m, struct ht_http_xfer *x)
{
	x->next = NULL;
	if (m->done_tail)
		m->done_tail->next = x;
	else
		m->done = x;
	m->done_tail = x;
}

int ht_http_multi_add_after(struct ht_http_multi *m, const struct ht_http_req *req, void *user,
			    int64_t delay_ms)
{
	struct ht_http_xfer *x = ht_xcalloc(1, sizeof(*x));

	x->req = req;
	x->user = user;
	ht_http_resp_init(&x->resp);
	x->start_ms = ht_now_ms();
	if (delay_ms > 0)
		x->not_before_ms = x->start_ms + delay_ms;
	push_waiting(m, x);
	m->pending++;
	return 0;
}

int ht_http_multi_add(struct ht_http_multi *m, const struct ht_http_req *req, void *user)
{
	return ht_http_multi_add_after(m, req, user, 0);
}

size_t ht_http_multi_pending(const struct ht_http_multi *m)
{
	return m->pending;
}

/* Starts waiting requests whose time has come, while slots are free. */
static void start_ready(struct ht_http_multi *m)
{
	struct ht_http_xfer **pp = &m->waiting, *x, *prev = NULL;
	int64_t now = ht_now_ms();

	while ((x = *pp) && m->active < m->max_active) {
		if (x->not_before_ms > now) {
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
			ht_http_xfer_finish(x);
			push_done(m, x);
			continue;
		}
		curl_easy_reset(x->h);
		x->resp.attempts++;
		if (ht_http_xfer_setup(x) < 0) {
			ht_http_xfer_clear_attempt(x);
			x->resp.curl_code = CURLE_READ_ERROR;
			m->idle[m->nidle++] = x->h;
			x->h = NULL;
			ht_http_xfer_finish(x);
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
}

/* The milliseconds from now until a waiting request may start: 0 when one
 * may now, -1 when none waits. */
static int64_t soonest_start(const struct ht_http_multi *m, int64_t now)
{
	const struct ht_http_xfer *x;
	int64_t soonest = -1;

	for (x = m->waiting; x; x = x->next) {
		int64_t d = x->not_before_ms > now ? x->not_before_ms - now : 0;

		if (soonest < 0 || d < soonest)
			soonest = d;
	}
	return soonest;
}

static void unlink_running(struct ht_http_multi *m, struct ht_http_xfer *x)
{
	struct ht_http_xfer **pp;

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
		struct ht_http_xfer *x = NULL;
		int64_t delay;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		ht_http_xfer_collect(x, msg->data.result);
		ht_http_xfer_debug(x, ht_now_ms() - x->not_before_ms);
		curl_multi_remove_handle(m->cm, x->h);
		unlink_running(m, x);
		if (m->nidle < m->max_active)
			m->idle[m->nidle++] = x->h;
		else
			curl_easy_cleanup(x->h);
		x->h = NULL;
		delay = ht_http_xfer_next_delay(x);
		if (delay >= 0) {
			x->not_before_ms = ht_now_ms() + delay;
			push_waiting(m, x);
		} else {
			ht_http_xfer_finish(x);
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

		start_ready(m);
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
		/* Computed after reap(), so that a retry it just queued
		 * counts; with no free slot, only a transfer can end the wait. */
		soonest = m->active < m->max_active ? soonest_start(m, now) : -1;
		if (soonest == 0)
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
		struct ht_http_xfer *x;

		for (x = m->done; x; x = x->next)
			n++;
		return n;
	}
}

void *ht_http_multi_next(struct ht_http_multi *m, struct ht_http_resp *resp, int *rc)
{
	struct ht_http_xfer *x = m->done;
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
