/*
 * local.c: the embedded `local` provider's operations. The function is a
 * pool of sandboxes on this machine (sandbox.c), one per concurrent
 * invocation, each running ht-runner (the image's entrypoint) under
 * bubblewrap or as a plain process (box.c), and talking to a Lambda
 * Runtime API that this provider serves on 127.0.0.1 (api.c). Here: open,
 * the invocations' queue and finished list, invoke, poll, cancel, close.
 * See local.h and docs/local-provider.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ht/chan.h"
#include "ht/jsonl.h"
#include "ht/bucket.h"
#include "ht/config.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "providers/local/local.h"
#include "providers/local/settings.h"

void local_wake(struct ht_provider *p)
{
	uint64_t one = 1;
	ssize_t r = write(p->evfd, &one, sizeof(one));

	(void)r;
}

void local_finish(struct ht_provider *p, struct local_inv *v, enum ht_invoke_status st, const char *msg)
{
	v->status = st;
	v->finished_ms = ht_now_ms();
	if (msg)
		snprintf(v->message, sizeof(v->message), "%s", msg);
	free(v->payload);
	v->payload = NULL;
	v->next = NULL;
	if (p->d_tail)
		p->d_tail->next = v;
	else
		p->d_head = v;
	p->d_tail = v;
	p->inflight--;
	local_wake(p);
}

void local_inv_free(struct local_inv *v)
{
	free(v->payload);
	free(v->body);
	free(v);
}

struct local_inv *local_queue_pop(struct ht_provider *p)
{
	struct local_inv *v = p->q_head;

	if (v) {
		p->q_head = v->next;
		if (!p->q_head)
			p->q_tail = NULL;
		v->next = NULL;
	}
	return v;
}

void local_assign(struct local_sandbox *s, struct local_inv *v)
{
	int64_t now = ht_now_ms();

	s->cur = v;
	s->test_seen = 0;
	s->served++;
	v->dispatched_ms = now;
	v->deadline_ms = now + v->timeout_ms + LOCAL_DEADLINE_MARGIN_MS;
	v->deadline_wall_ms = ht_wall_ms() + v->timeout_ms;
}

/* --- the operations ---------------------------------------------------------- */

static int local_invoke(struct ht_provider *p, const char *payload, size_t len,
			int64_t timeout_ms, void *user)
{
	struct local_inv *v = ht_xcalloc(1, sizeof(*v));
	long i;

	if (ht_uuid4(v->id) < 0) {
		free(v);
		return -1;
	}
	v->payload = ht_xmalloc(len + 1);
	memcpy(v->payload, payload, len);
	v->payload[len] = 0;
	v->len = len;
	v->timeout_ms = timeout_ms > 0 ? timeout_ms : 900000;
	v->user = user;
	pthread_mutex_lock(&p->lock);
	p->inflight++;
	for (i = 0; i < p->concurrency; i++) {
		struct local_sandbox *s = &p->sb[i];

		if (s->id && s->waiting && !s->cur) {
			local_api_give(s, v);
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
	}
	if (local_chan_offer(p, v)) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	if (p->q_tail)
		p->q_tail->next = v;
	else
		p->q_head = v;
	p->q_tail = v;
	local_sandboxes_fill(p);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int local_poll(struct ht_provider *p, struct ht_completion *out, int max, int timeout_ms)
{
	int64_t end = timeout_ms >= 0 ? ht_now_ms() + timeout_ms : INT64_MAX;

	for (;;) {
		struct pollfd pfd[2 * LOCAL_MAX_SANDBOXES + 1];
		int nfd = 1, n = 0, r;
		int64_t now, wait, next = INT64_MAX;
		long i;

		pthread_mutex_lock(&p->lock);
		local_sandboxes_check(p);
		while (n < max && p->d_head) {
			struct local_inv *v = p->d_head;

			p->d_head = v->next;
			if (!p->d_head)
				p->d_tail = NULL;
			memset(&out[n], 0, sizeof(out[n]));
			out[n].user = v->user;
			out[n].status = v->status;
			out[n].body = v->body;
			out[n].body_len = v->body_len;
			v->body = NULL;
			snprintf(out[n].message, sizeof(out[n].message), "%s", v->message);
			out[n].dispatched_ms = v->dispatched_ms;
			out[n].finished_ms = v->finished_ms;
			local_inv_free(v);
			n++;
		}
		pfd[0].fd = p->evfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < p->concurrency && nfd < 2 * LOCAL_MAX_SANDBOXES; i++) {
			if (p->sb[i].id && p->sb[i].pidfd >= 0) {
				pfd[nfd].fd = p->sb[i].pidfd;
				pfd[nfd++].events = POLLIN;
			}
			if (p->sb[i].id && p->sb[i].chan >= 0) {
				pfd[nfd].fd = p->sb[i].chan;
				pfd[nfd++].events = POLLIN;
			}
			if (p->sb[i].cur && p->sb[i].cur->deadline_ms < next)
				next = p->sb[i].cur->deadline_ms;
		}
		pthread_mutex_unlock(&p->lock);
		if (n)
			return n;
		now = ht_now_ms();
		if (now >= end)
			return 0;
		wait = end - now;
		if (next != INT64_MAX && next - now < wait)
			wait = next - now < 0 ? 0 : next - now;
		/* Look again now and then: signals, pidfd-less kernels. */
		if (wait > 250)
			wait = 250;
		r = poll(pfd, (nfds_t)nfd, (int)wait);
		if (r < 0) {
			if (errno == EINTR)
				return 0;
			return ht_error("poll: %s", strerror(errno));
		}
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			uint64_t cnt;
			ssize_t rr = read(p->evfd, &cnt, sizeof(cnt));

			(void)rr;
		}
	}
}

static int local_pending(struct ht_provider *p)
{
	int n;

	pthread_mutex_lock(&p->lock);
	n = p->inflight;
	pthread_mutex_unlock(&p->lock);
	return n;
}

static int local_cancel(struct ht_provider *p, void *user)
{
	struct local_inv **pp, *v, *prev = NULL;
	long i;
	int ret = -1;

	pthread_mutex_lock(&p->lock);
	for (pp = &p->q_head; (v = *pp); prev = v, pp = &v->next) {
		if (v->user != user)
			continue;
		*pp = v->next;
		if (p->q_tail == v)
			p->q_tail = prev;
		local_finish(p, v, HT_INVOKE_CANCELLED, "cancelled");
		ret = 0;
		goto out;
	}
	for (i = 0; i < p->concurrency; i++) {
		struct local_sandbox *s = &p->sb[i];

		if (s->id && s->cur && s->cur->user == user) {
			local_finish(p, s->cur, HT_INVOKE_CANCELLED, "cancelled");
			s->cur = NULL;
			local_sandbox_kill(s);
			ret = 0;
			break;
		}
	}
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static void local_close(struct ht_provider *p)
{
	struct local_inv *v;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closing = 1;
	while ((v = local_queue_pop(p)))
		local_inv_free(v);
	local_sandboxes_close(p);
	pthread_mutex_unlock(&p->lock);
	local_api_stop(p);
	while ((v = p->d_head)) {
		p->d_head = v->next;
		local_inv_free(v);
	}
	if (p->logfd >= 0)
		close(p->logfd);
	if (p->evfd >= 0)
		close(p->evfd);
	local_box_release(&p->box);
	local_image_release(&p->img);
	free(p->sb);
	free(p->chan_buf);
	free(p->logpath);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Opens <dir>/local/sandboxes.log, the sandboxes' stdout and stderr. */
static void open_log(struct ht_provider *p, const struct ht_config *cfg)
{
	char *dir = ht_config_state_path(cfg, "local");

	p->logpath = ht_path_join(dir, "sandboxes.log");
	if (ht_mkdir_p(dir, 0755) < 0)
		ht_warning("cannot create '%s': %s", dir, strerror(errno));
	p->logfd = open(p->logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (p->logfd < 0)
		ht_warning("cannot open '%s': %s", p->logpath, strerror(errno));
	free(dir);
}

static int local_open(struct ht_provider **out, const struct ht_config *cfg,
		      const struct ht_provider_opts *opts, int *code)
{
	struct ht_provider *p = ht_xcalloc(1, sizeof(*p));
	struct local_choice choice;
	char why[PATH_MAX + 128];
	long i, ncpu;

	*out = NULL;
	*code = HT_EXIT_SOFTWARE;
	pthread_mutex_init(&p->lock, NULL);
	p->logfd = -1;
	p->evfd = -1;
	local_box_init(&p->box);
	local_image_init(&p->img);
	p->concurrency = opts && opts->concurrency > 0 ? opts->concurrency : cfg->concurrency;
	if (p->concurrency <= 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		p->concurrency = ncpu > 0 ? ncpu : 1;
	}
	if (p->concurrency > LOCAL_MAX_SANDBOXES) {
		ht_warning("the local provider runs at most %d sandboxes at a time (concurrency %ld)",
			   LOCAL_MAX_SANDBOXES, p->concurrency);
		p->concurrency = LOCAL_MAX_SANDBOXES;
	}
	p->sb = ht_xcalloc((size_t)p->concurrency, sizeof(*p->sb));
	p->chan_buf = ht_xmalloc(HT_CHAN_MAX);
	for (i = 0; i < p->concurrency; i++)
		p->sb[i].pid = p->sb[i].pidfd = p->sb[i].chan = -1;

	if (local_box_paths(&p->box, cfg, opts, 1, code, why, sizeof(why)) < 0) {
		ht_error("%s", why);
		goto fail;
	}
	{
		/* Where the bwrap probe's answer is kept (box.c). */
		char *dir = ht_config_state_path(cfg, "local");

		if (ht_mkdir_p(dir, 0755) == 0)
			p->box.probe_cache = ht_path_join(dir, "bwrap-probe");
		free(dir);
	}
	if (local_box_choose(&p->box, cfg, &choice) < 0) {
		*code = HT_EXIT_UNAVAILABLE;
		ht_error("%s", choice.message);
		goto fail;
	}
	if (choice.verdict == LOCAL_FALLBACK)
		ht_warning("%s", choice.message);
	if (choice.note[0])
		ht_warning("%s", choice.note);
	open_log(p, cfg);
	if (p->box.image_mode) {
		if (local_image_open(&p->img, cfg, code) < 0)
			goto fail;
		p->box.img = &p->img;
	}
	if (p->box.use_bwrap && local_box_root_args(&p->box) < 0) {
		*code = p->box.image_mode ? HT_EXIT_DATAERR : HT_EXIT_IOERR;
		goto fail;
	}
	p->box.as_lambda = opts && opts->as_lambda;
	local_box_env(&p->box, cfg);

	*code = HT_EXIT_SOFTWARE;
	p->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->evfd < 0) {
		ht_error("eventfd: %s", strerror(errno));
		goto fail;
	}
	if (local_api_start(p) < 0) {
		*code = HT_EXIT_UNAVAILABLE;
		goto fail;
	}
	/* Without bwrap's pid namespace, a process a test moved out of the
	 * sandbox's session (setsid) would outlive it: as a subreaper, it
	 * comes to us when its parents die, and close kills it. */
	if (!p->box.use_bwrap && prctl(PR_SET_CHILD_SUBREAPER, 1) == 0)
		p->subreaper = 1;
	ht_debug("Runtime API on 127.0.0.1:%d, sandbox %s, runner '%s'", p->port,
		 p->box.use_bwrap ? "bwrap" : "none", p->box.image_mode ? p->img.argv[0] : p->box.runner);
	*out = p;
	*code = 0;
	return 0;
fail:
	local_close(p);
	return -1;
}

/* The bucket directory as a file:// bucket. */
static int local_bucket(const struct ht_config *cfg, struct ht_bucket *b)
{
	char *dir = ht_local_bucket_dir(cfg);
	char *url = ht_xasprintf("file://%s", dir);
	int rc = ht_bucket_open(b, url);

	free(url);
	free(dir);
	return rc;
}

/* The sandbox, the root, and in image mode the image it runs. */
static void local_about(struct ht_provider *p, json_t *obj)
{
	ht_json_set_str(obj, "sandbox", p->box.use_bwrap ? "bwrap" : "none");
	ht_json_set_str(obj, "root", p->box.image_mode ? "image" : "host");
	if (p->box.image_mode && p->img.digest[0])
		json_object_set_new(obj, "image", json_pack("{s:s,s:s?}", "digest", p->img.digest,
							    "reference", p->img.ref));
}

/* In image mode, the image and its manifest; in host mode nothing: the
 * tests run the working tree. */
static int local_image_tree_op(struct ht_provider *p, struct ht_image_tree *it)
{
	return p->box.image_mode ? local_image_tree(&p->img, it) : 0;
}

const struct ht_provider_ops ht_provider_local = {
	.name = "local",
	.schema = &ht_local_schema,
	.checks = ht_local_checks,
	.bucket = local_bucket,
	.open = local_open,
	.invoke = local_invoke,
	.poll = local_poll,
	.pending = local_pending,
	.cancel = local_cancel,
	.close = local_close,
	.about = local_about,
	.image_tree = local_image_tree_op,
};
