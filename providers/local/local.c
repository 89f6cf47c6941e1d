/*
 * local.c: the embedded `local` provider. The function is a pool of
 * sandboxes on this machine, one per concurrent invocation, each running
 * ht-runner (the image's entrypoint) under bubblewrap, and talking to a
 * Lambda Runtime API that this provider serves on 127.0.0.1 with
 * libmicrohttpd. See docs/local-provider.md.
 *
 * Threads: libmicrohttpd's polling thread runs the Runtime API handlers;
 * the caller's thread runs invoke(), poll(), cancel() and close(), spawns
 * and reaps sandboxes and enforces deadlines. Everything they share is
 * under p->lock. Each sandbox gets its own URL prefix (/sb/<id>), so the
 * provider always knows which sandbox holds which invocation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "ht/bucket.h"
#include "ht/config.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/provider.h"
#include "ht/util.h"
#include "providers/local/settings.h"

#include "providers/local/image.h"

/* The largest response a runner may post, as in Lambda. */
#define MAX_BODY (6 * 1024 * 1024)
/* Time after the deadline before a silent sandbox is killed. */
#define DEADLINE_MARGIN_MS 2000
/* Where the bucket directory appears inside a bwrap sandbox. */
#define SANDBOX_BUCKET "/var/bucket"
#define SANDBOX_TASK "/var/task"
/* Where ht-runner appears inside a bwrap sandbox (Lambda's custom runtime
 * directory), so that it is found wherever it lives on the host. */
#define SANDBOX_RUNNER "/var/runtime/ht-runner"

extern char **environ;

/* One invocation, from invoke() to the completion poll() hands out. */
struct inv {
	struct inv *next;
	char id[HT_UUID_LEN + 1];
	char *payload;               /* freed once sent to a runner */
	size_t len;
	int64_t timeout_ms;
	int64_t deadline_ms;         /* when the sandbox is killed (monotonic) */
	int64_t deadline_wall_ms;    /* Lambda-Runtime-Deadline-Ms */
	int64_t dispatched_ms;
	void *user;
	/* The outcome, once it is known. */
	enum ht_invoke_status status;
	char *body;
	size_t body_len;
	char message[256];
	int64_t finished_ms;
};

/* One Runtime API request in progress (MHD's con_cls). */
struct conn {
	struct ht_buf body;
	int too_big;
	int suspended;       /* waiting in /next for work */
	int drop;            /* resumed to be closed: the sandbox is gone */
	struct inv *assigned; /* work handed over while suspended */
};

struct sandbox {
	unsigned long id;    /* unique per spawn; 0: the slot is free */
	pid_t pid;
	int pidfd;
	char *tmpdir;        /* sandbox = none: its private /tmp */
	int served;          /* invocations it took */
	char init_error[160];
	struct MHD_Connection *waiting;
	struct conn *waiting_conn;
	struct inv *cur;     /* the invocation it holds */
};

struct ht_provider {
	pthread_mutex_t lock;
	struct MHD_Daemon *mhd;
	int port;
	int evfd;
	long concurrency;
	struct sandbox *sb;
	unsigned long next_id;
	struct inv *q_head, *q_tail; /* queued, not yet taken by a runner */
	struct inv *d_head, *d_tail; /* finished, not yet polled */
	int inflight;                /* queued + running */
	int suspended;               /* connections suspended in /next */
	int closing;
	/* How sandboxes are made. */
	int use_bwrap;
	char *bwrap;
	char *runner;
	char *logpath;               /* for messages */
	char *root;                  /* the project root, absolute */
	char *bucket;                /* the bucket directory, absolute */
	int logfd;
	struct ht_buf root_args;     /* bwrap arguments that build the root, NUL-separated */
	char **env;                  /* the sandbox environment, "K=V" */
	char **env_keys;             /* the names alone, for bwrap --setenv */
	int nenv;
	/* local.root "image": the unpacked image, its command and environment. */
	int image_mode;
	struct local_image img;
};

static void strlcpy0(char *dst, const char *src, size_t n)
{
	snprintf(dst, n, "%s", src);
}

static void wake(struct ht_provider *p)
{
	uint64_t one = 1;
	ssize_t r = write(p->evfd, &one, sizeof(one));

	(void)r;
}

/* Moves v to the list of finished invocations. Called with the lock held. */
static void finish(struct ht_provider *p, struct inv *v, enum ht_invoke_status st, const char *msg)
{
	v->status = st;
	v->finished_ms = ht_now_ms();
	if (msg)
		strlcpy0(v->message, msg, sizeof(v->message));
	free(v->payload);
	v->payload = NULL;
	v->next = NULL;
	if (p->d_tail)
		p->d_tail->next = v;
	else
		p->d_head = v;
	p->d_tail = v;
	wake(p);
}

static void inv_free(struct inv *v)
{
	free(v->payload);
	free(v->body);
	free(v);
}

static struct inv *queue_pop(struct ht_provider *p)
{
	struct inv *v = p->q_head;

	if (v) {
		p->q_head = v->next;
		if (!p->q_head)
			p->q_tail = NULL;
		v->next = NULL;
	}
	return v;
}

static struct sandbox *sandbox_by_id(struct ht_provider *p, unsigned long id)
{
	long i;

	for (i = 0; i < p->concurrency; i++)
		if (p->sb[i].id && p->sb[i].id == id)
			return &p->sb[i];
	return NULL;
}

/* Hands v to sandbox s: from now on its deadline runs. Lock held. */
static void assign(struct sandbox *s, struct inv *v)
{
	int64_t now = ht_now_ms();

	s->cur = v;
	s->served++;
	v->dispatched_ms = now;
	v->deadline_ms = now + v->timeout_ms + DEADLINE_MARGIN_MS;
	v->deadline_wall_ms = ht_wall_ms() + v->timeout_ms;
}

/* --- the Runtime API --------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *json)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), (void *)json,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned code, const char *type, const char *msg)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "{\"errorType\":\"%s\",\"errorMessage\":\"%s\"}", type, msg);
	return reply(c, code, buf);
}

/* Sends invocation v as the answer to /next. Lock held. */
static enum MHD_Result reply_next(struct ht_provider *p, struct MHD_Connection *c, struct inv *v)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char hdr[160];
	unsigned char rnd[12];
	char hex[25];
	int i;

	r = MHD_create_response_from_buffer(v->len, v->payload, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	free(v->payload);
	v->payload = NULL;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Lambda-Runtime-Aws-Request-Id", v->id);
	snprintf(hdr, sizeof(hdr), "%lld", (long long)v->deadline_wall_ms);
	MHD_add_response_header(r, "Lambda-Runtime-Deadline-Ms", hdr);
	MHD_add_response_header(r, "Lambda-Runtime-Invoked-Function-Arn",
				"arn:aws:lambda:local:000000000000:function:hypertest-local");
	for (i = 0; i < 12; i++)
		rnd[i] = (unsigned char)v->id[i * 3 % HT_UUID_LEN];
	for (i = 0; i < 12; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(hdr, sizeof(hdr), "Root=1-%08llx-%s;Parent=0000000000000000;Sampled=0",
		 (unsigned long long)(ht_wall_ms() / 1000), hex);
	MHD_add_response_header(r, "Lambda-Runtime-Trace-Id", hdr);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	(void)p;
	return ret;
}

/* The errorMessage of a Runtime API error body, or the body's start. */
static void error_message(const char *body, size_t len, const char *prefix, char *out, size_t n)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *m = NULL, *t = NULL;

	if (json_is_object(j)) {
		m = json_string_value(json_object_get(j, "errorMessage"));
		t = json_string_value(json_object_get(j, "errorType"));
	}
	if (m)
		snprintf(out, n, "%s: %s%s%s", prefix, t ? t : "", t ? ": " : "", m);
	else
		snprintf(out, n, "%s: %.*s", prefix, (int)(len > 120 ? 120 : len), body);
	json_decref(j);
}

/*
 * Routes one complete request. url is "/sb/<id>/2018-06-01/runtime/...".
 * Lock held.
 */
static enum MHD_Result route(struct ht_provider *p, struct MHD_Connection *c, struct conn *cn,
			     const char *url, const char *method)
{
	static const char api[] = "/2018-06-01/runtime/";
	unsigned long id;
	char *end;
	struct sandbox *s;
	const char *rest;
	char msg[256];

	if (!ht_starts_with(url, "/sb/"))
		return reply_error(c, 404, "NotFound", "no such path");
	id = strtoul(url + 4, &end, 10);
	if (!ht_starts_with(end, api))
		return reply_error(c, 404, "NotFound", "no such path");
	rest = end + strlen(api);
	s = sandbox_by_id(p, id);
	if (!s || p->closing)
		return reply_error(c, 410, "SandboxGone", "this sandbox no longer exists");

	if (!strcmp(rest, "invocation/next")) {
		struct inv *v;

		if (strcmp(method, "GET"))
			return reply_error(c, 405, "MethodNotAllowed", "use GET");
		if (s->cur) {
			/* It asks for more work without answering the last. */
			finish(p, s->cur, HT_INVOKE_FUNC_ERROR,
			       "the runner asked for the next invocation without answering this one");
			s->cur = NULL;
			p->inflight--;
		}
		if (s->waiting)
			return reply_error(c, 409, "Conflict", "already waiting for an invocation");
		v = queue_pop(p);
		if (v) {
			assign(s, v);
			return reply_next(p, c, v);
		}
		s->waiting = c;
		s->waiting_conn = cn;
		cn->suspended = 1;
		p->suspended++;
		MHD_suspend_connection(c);
		return MHD_YES;
	}
	if (!strcmp(rest, "init/error")) {
		error_message(cn->body.data ? cn->body.data : "", cn->body.len, "init error",
			      s->init_error, sizeof(s->init_error));
		return reply(c, 202, "{\"status\":\"OK\"}");
	}
	if (ht_starts_with(rest, "invocation/")) {
		const char *rid = rest + strlen("invocation/");
		const char *slash = strchr(rid, '/');
		int is_error;

		if (!slash || strcmp(method, "POST"))
			return reply_error(c, 404, "NotFound", "no such path");
		if (!strcmp(slash, "/response"))
			is_error = 0;
		else if (!strcmp(slash, "/error"))
			is_error = 1;
		else
			return reply_error(c, 404, "NotFound", "no such path");
		if (!s->cur || strlen(s->cur->id) != (size_t)(slash - rid) ||
		    strncmp(s->cur->id, rid, (size_t)(slash - rid)))
			return reply_error(c, 400, "InvalidRequestID", "no such invocation in this sandbox");
		if (cn->too_big) {
			finish(p, s->cur, HT_INVOKE_FUNC_ERROR, "the response is larger than 6 MB");
			s->cur = NULL;
			p->inflight--;
			return reply_error(c, 413, "RequestEntityTooLarge", "response larger than 6 MB");
		}
		s->cur->body_len = cn->body.len;
		s->cur->body = ht_buf_detach(&cn->body);
		if (!s->cur->body)
			s->cur->body = ht_xstrdup("");
		if (is_error)
			error_message(s->cur->body, s->cur->body_len, "the runner reported an error",
				      msg, sizeof(msg));
		finish(p, s->cur, is_error ? HT_INVOKE_FUNC_ERROR : HT_INVOKE_OK, is_error ? msg : NULL);
		s->cur = NULL;
		p->inflight--;
		return reply(c, 202, "{\"status\":\"OK\"}");
	}
	return reply_error(c, 404, "NotFound", "no such path");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct ht_provider *p = cls;
	struct conn *cn = *con_cls;
	enum MHD_Result ret;

	if (!cn) {
		cn = ht_xcalloc(1, sizeof(*cn));
		ht_buf_init(&cn->body, MAX_BODY);
		*con_cls = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cn->too_big && ht_buf_add(&cn->body, upload, *upload_size) < 0)
			cn->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&p->lock);
	if (cn->suspended) {
		/* Resumed: with work, or to be closed. */
		cn->suspended = 0;
		p->suspended--;
		if (cn->drop || !cn->assigned)
			ret = MHD_NO;
		else
			ret = reply_next(p, c, cn->assigned);
		cn->assigned = NULL;
	} else {
		ret = route(p, c, cn, url, method);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	if (!cn)
		return;
	ht_buf_release(&cn->body);
	free(cn);
	*con_cls = NULL;
}

/* --- sandboxes ----------------------------------------------------------------- */

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	return -1;
#endif
}

/* Kills every process of session sid (a sandbox without bwrap leaves its
 * tests in the runner's session even after the runner died). */
static void kill_session(pid_t sid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	kill(-sid, SIGKILL);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[64], buf[512], *rp;
		int fd;
		ssize_t n;
		long pid = strtol(e->d_name, &rp, 10);
		long f_sid;

		if (*rp || pid <= 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		/* pid (comm) state ppid pgrp session ... ; comm may hold spaces. */
		rp = strrchr(buf, ')');
		if (!rp || sscanf(rp + 1, " %*c %*d %*d %ld", &f_sid) != 1)
			continue;
		if (f_sid == sid)
			kill((pid_t)pid, SIGKILL);
	}
	closedir(d);
}

/* Frees slot s after its process is gone (reaped). Lock held. */
static void slot_clear(struct ht_provider *p, struct sandbox *s)
{
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->tmpdir) {
		ht_remove_tree(s->tmpdir);
		free(s->tmpdir);
	}
	if (s->waiting) {
		s->waiting_conn->drop = 1;
		MHD_resume_connection(s->waiting);
	}
	memset(s, 0, sizeof(*s));
	s->pidfd = -1;
	s->pid = -1;
}

static const char *describe_status(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exit code %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, n, "status %d", st);
	return buf;
}

static void argv_add(char ***v, int *n, int *cap, const char *s)
{
	if (*n + 2 > *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = ht_xrealloc(*v, sizeof(**v) * (size_t)*cap);
	}
	(*v)[(*n)++] = (char *)s;
	(*v)[*n] = NULL;
}

/*
 * Starts a sandbox in slot s. Returns 0, or -1 with a reason in why.
 * Lock held.
 */
static int sandbox_spawn(struct ht_provider *p, struct sandbox *s, char *why, size_t whylen)
{
	char **argv = NULL, **envp = NULL;
	int argc = 0, acap = 0, envc = 0, ecap = 0;
	char api[128], tmpl[PATH_MAX];
	char *extra[4] = { NULL, NULL, NULL, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid;
	int err, i;
	size_t off;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	s->pidfd = -1;
	s->id = ++p->next_id;
	snprintf(api, sizeof(api), "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d/sb/%lu", p->port, s->id);
	if (!p->use_bwrap) {
		const char *t = getenv("TMPDIR");

		snprintf(tmpl, sizeof(tmpl), "%s/ht-sandbox.XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmpl)) {
			snprintf(why, whylen, "cannot create a directory in '%s': %s", t && *t ? t : "/tmp",
				 strerror(errno));
			s->id = 0;
			return -1;
		}
		s->tmpdir = ht_xstrdup(tmpl);
	}
	if (p->use_bwrap) {
		argv_add(&argv, &argc, &acap, p->bwrap);
		for (off = 0; off < p->root_args.len; off += strlen(p->root_args.data + off) + 1)
			argv_add(&argv, &argc, &acap, p->root_args.data + off);
		for (i = 0; i < p->nenv; i++) {
			argv_add(&argv, &argc, &acap, "--setenv");
			argv_add(&argv, &argc, &acap, p->env_keys[i]);
			argv_add(&argv, &argc, &acap, strchr(p->env[i], '=') + 1);
		}
		argv_add(&argv, &argc, &acap, "--setenv");
		argv_add(&argv, &argc, &acap, "AWS_LAMBDA_RUNTIME_API");
		argv_add(&argv, &argc, &acap, api + strlen("AWS_LAMBDA_RUNTIME_API="));
		argv_add(&argv, &argc, &acap, "--");
		if (p->image_mode) {
			for (i = 0; p->img.argv[i]; i++)
				argv_add(&argv, &argc, &acap, p->img.argv[i]);
		} else {
			argv_add(&argv, &argc, &acap, SANDBOX_RUNNER);
		}
		argv_add(&envp, &envc, &ecap, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	} else {
		argv_add(&argv, &argc, &acap, p->runner);
		for (i = 0; i < p->nenv; i++)
			argv_add(&envp, &envc, &ecap, p->env[i]);
		argv_add(&envp, &envc, &ecap, api);
		extra[0] = ht_xasprintf("TMPDIR=%s", s->tmpdir);
		extra[1] = ht_xasprintf("HOME=%s", s->tmpdir);
		extra[2] = ht_xasprintf("HT_WORK_DIR=%s", s->tmpdir);
		for (i = 0; extra[i]; i++)
			argv_add(&envp, &envc, &ecap, extra[i]);
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (p->logfd >= 0) {
		posix_spawn_file_actions_adddup2(&fa, p->logfd, 1);
		posix_spawn_file_actions_adddup2(&fa, p->logfd, 2);
	}
	posix_spawn_file_actions_addchdir_np(&fa, p->root);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	err = posix_spawn(&pid, argv[0], &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	for (i = 0; extra[i]; i++)
		free(extra[i]);
	free(argv);
	free(envp);
	if (err) {
		snprintf(why, whylen, "cannot run '%s': %s", p->use_bwrap ? p->bwrap : p->runner, strerror(err));
		if (s->tmpdir) {
			ht_remove_tree(s->tmpdir);
			free(s->tmpdir);
		}
		memset(s, 0, sizeof(*s));
		s->pid = s->pidfd = -1;
		return -1;
	}
	s->pid = pid;
	s->pidfd = open_pidfd(pid);
	ht_debug("sandbox %lu started (pid %d)", s->id, (int)pid);
	return 0;
}

/* Kills sandbox s and everything in it; it is reaped by sandboxes_check()
 * or close(). Lock held. */
static void sandbox_kill(struct sandbox *s)
{
	if (s->id && s->pid > 0)
		kill_session(s->pid);
}

/* Starts sandboxes while queued invocations outnumber those starting up. */
static void sandboxes_fill(struct ht_provider *p)
{
	long i, live = 0, starting = 0;
	int queued = 0;
	struct inv *v;
	char why[256];

	for (v = p->q_head; v; v = v->next)
		queued++;
	for (i = 0; i < p->concurrency; i++) {
		if (!p->sb[i].id)
			continue;
		live++;
		if (!p->sb[i].cur && !p->sb[i].waiting)
			starting++;
	}
	for (i = 0; i < p->concurrency && queued > starting && live < p->concurrency; i++) {
		if (p->sb[i].id)
			continue;
		if (sandbox_spawn(p, &p->sb[i], why, sizeof(why)) < 0) {
			v = queue_pop(p);
			if (v) {
				p->inflight--;
				finish(p, v, HT_INVOKE_INFRA, why);
			}
			return;
		}
		starting++;
		live++;
	}
}

/* Reaps sandboxes that died and kills those past a deadline. Lock held. */
static void sandboxes_check(struct ht_provider *p)
{
	int64_t now = ht_now_ms();
	long i;

	for (i = 0; i < p->concurrency; i++) {
		struct sandbox *s = &p->sb[i];
		siginfo_t si;
		int st;
		char msg[256], how[96];

		if (!s->id)
			continue;
		if (s->cur && now >= s->cur->deadline_ms) {
			snprintf(msg, sizeof(msg), "no answer from the runner within %lld ms: sandbox killed",
				 (long long)(s->cur->timeout_ms + DEADLINE_MARGIN_MS));
			finish(p, s->cur, HT_INVOKE_TIMEOUT, msg);
			s->cur = NULL;
			p->inflight--;
			sandbox_kill(s);
		}
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != s->pid)
			continue;
		/* Dead: take down what it left in its session, then reap. */
		kill_session(s->pid);
		while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
			;
		describe_status(st, how, sizeof(how));
		ht_debug("sandbox %lu exited: %s", s->id, how);
		if (s->cur) {
			snprintf(msg, sizeof(msg), "the sandbox died during the invocation (%s; see '%s')", how,
				 p->logpath ? p->logpath : "its log");
			finish(p, s->cur, HT_INVOKE_INFRA, msg);
			s->cur = NULL;
			p->inflight--;
		} else if (!s->served && p->q_head) {
			struct inv *v = queue_pop(p);

			if (s->init_error[0])
				snprintf(msg, sizeof(msg), "the sandbox failed to start: %s", s->init_error);
			else
				snprintf(msg, sizeof(msg), "the sandbox exited before taking an invocation (%s; see '%s')",
					 how, p->logpath ? p->logpath : "its log");
			p->inflight--;
			finish(p, v, HT_INVOKE_INFRA, msg);
		}
		slot_clear(p, s);
	}
	sandboxes_fill(p);
}

/* --- the operations -------------------------------------------------------------- */

static int local_invoke(struct ht_provider *p, const char *payload, size_t len,
			int64_t timeout_ms, void *user)
{
	struct inv *v = ht_xcalloc(1, sizeof(*v));
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
		struct sandbox *s = &p->sb[i];

		if (s->id && s->waiting && !s->cur) {
			assign(s, v);
			s->waiting_conn->assigned = v;
			MHD_resume_connection(s->waiting);
			s->waiting = NULL;
			s->waiting_conn = NULL;
			pthread_mutex_unlock(&p->lock);
			return 0;
		}
	}
	if (p->q_tail)
		p->q_tail->next = v;
	else
		p->q_head = v;
	p->q_tail = v;
	sandboxes_fill(p);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int local_poll(struct ht_provider *p, struct ht_completion *out, int max, int timeout_ms)
{
	int64_t end = timeout_ms >= 0 ? ht_now_ms() + timeout_ms : INT64_MAX;

	for (;;) {
		struct pollfd pfd[65];
		int nfd = 1, n = 0, r;
		int64_t now, wait, next = INT64_MAX;
		long i;

		pthread_mutex_lock(&p->lock);
		sandboxes_check(p);
		while (n < max && p->d_head) {
			struct inv *v = p->d_head;

			p->d_head = v->next;
			if (!p->d_head)
				p->d_tail = NULL;
			memset(&out[n], 0, sizeof(out[n]));
			out[n].user = v->user;
			out[n].status = v->status;
			out[n].body = v->body;
			out[n].body_len = v->body_len;
			v->body = NULL;
			strlcpy0(out[n].message, v->message, sizeof(out[n].message));
			out[n].dispatched_ms = v->dispatched_ms;
			out[n].finished_ms = v->finished_ms;
			inv_free(v);
			n++;
		}
		pfd[0].fd = p->evfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < p->concurrency && nfd < 65; i++) {
			if (p->sb[i].id && p->sb[i].pidfd >= 0) {
				pfd[nfd].fd = p->sb[i].pidfd;
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
	struct inv **pp, *v;
	long i;
	int ret = -1;

	pthread_mutex_lock(&p->lock);
	for (pp = &p->q_head; (v = *pp); pp = &v->next) {
		if (v->user != user)
			continue;
		*pp = v->next;
		if (p->q_tail == v) {
			struct inv *t = p->q_head;

			while (t && t->next)
				t = t->next;
			p->q_tail = t;
		}
		p->inflight--;
		finish(p, v, HT_INVOKE_CANCELLED, "cancelled");
		ret = 0;
		goto out;
	}
	for (i = 0; i < p->concurrency; i++) {
		struct sandbox *s = &p->sb[i];

		if (s->id && s->cur && s->cur->user == user) {
			finish(p, s->cur, HT_INVOKE_CANCELLED, "cancelled");
			s->cur = NULL;
			p->inflight--;
			sandbox_kill(s);
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
	struct inv *v;
	long i;
	int64_t until;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closing = 1;
	while ((v = queue_pop(p)))
		inv_free(v);
	for (i = 0; i < p->concurrency; i++) {
		struct sandbox *s = &p->sb[i];

		if (!s->id)
			continue;
		if (s->cur) {
			inv_free(s->cur);
			s->cur = NULL;
		}
		sandbox_kill(s);
	}
	for (i = 0; i < p->concurrency; i++) {
		struct sandbox *s = &p->sb[i];
		int st;

		if (!s->id)
			continue;
		while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
			;
		kill_session(s->pid);
		slot_clear(p, s);
	}
	pthread_mutex_unlock(&p->lock);
	/* Resumed connections must be seen by the server before it stops. */
	until = ht_now_ms() + 2000;
	for (;;) {
		int left;

		pthread_mutex_lock(&p->lock);
		left = p->suspended;
		pthread_mutex_unlock(&p->lock);
		if (!left || ht_now_ms() > until)
			break;
		ht_sleep_ms(2);
	}
	if (p->mhd)
		MHD_stop_daemon(p->mhd);
	while ((v = p->d_head)) {
		p->d_head = v->next;
		inv_free(v);
	}
	if (p->logfd >= 0)
		close(p->logfd);
	if (p->evfd >= 0)
		close(p->evfd);
	for (i = 0; i < p->nenv; i++) {
		free(p->env[i]);
		if (p->env_keys)
			free(p->env_keys[i]);
	}
	free(p->env);
	free(p->env_keys);
	ht_buf_release(&p->root_args);
	local_image_release(&p->img);
	free(p->sb);
	free(p->bwrap);
	free(p->runner);
	free(p->logpath);
	free(p->root);
	free(p->bucket);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* --- opening ------------------------------------------------------------------------ */

/* The full path of program in $PATH, or NULL. New string. */
static char *find_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (!path || !*path)
		return NULL;
	copy = ht_xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *f = ht_xasprintf("%s/%s", *dir ? dir : ".", prog);

		if (access(f, X_OK) == 0) {
			found = f;
			break;
		}
		free(f);
	}
	free(copy);
	return found;
}

static void add_arg(struct ht_buf *b, const char *s)
{
	ht_buf_add(b, s, strlen(s) + 1);
}

/*
 * Adds to b a read-only bind of every entry of the directory src + dir
 * (dir is "/" or "/var/") at dir + name in the sandbox, or a symbolic
 * link with the same target for a link. Entries named in skip are left
 * out. A missing directory adds nothing when missing_ok.
 */
static int bind_entries(struct ht_buf *b, const char *src, const char *dir,
			const char *const *skip, int missing_ok)
{
	char *from = ht_xasprintf("%s%s", src, dir);
	DIR *d = opendir(from);
	struct dirent *e;

	if (!d) {
		int ret = missing_ok && errno == ENOENT ? 0 : ht_error("cannot read '%s': %s", from, strerror(errno));

		free(from);
		return ret;
	}
	while ((e = readdir(d))) {
		char path[PATH_MAX], to[PATH_MAX], link[PATH_MAX];
		struct stat st;
		ssize_t n;
		int k, skipped = 0;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		for (k = 0; skip[k]; k++)
			skipped |= !strcmp(e->d_name, skip[k]);
		if (skipped)
			continue;
		snprintf(path, sizeof(path), "%s%s", from, e->d_name);
		snprintf(to, sizeof(to), "%s%s", dir, e->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			n = readlink(path, link, sizeof(link) - 1);
			if (n < 0)
				continue;
			link[n] = 0;
			add_arg(b, "--symlink");
			add_arg(b, link);
		} else {
			add_arg(b, "--ro-bind");
			add_arg(b, path);
		}
		add_arg(b, to);
	}
	closedir(d);
	free(from);
	return 0;
}

/*
 * The bwrap arguments that make the sandbox's file system: the root, /tmp,
 * /proc, /dev, the bucket, and in host mode the project at /var/task and
 * the runner. This is the one place that knows where the root comes from:
 * "host", this machine's, or "image", the unpacked image p->img.tree (its
 * own /var/task holds the project). Either is read-only. bwrap cannot
 * create mount points on a read-only bind, so the root is a tmpfs holding
 * read-only binds of every entry of the root (and of its /var), made
 * read-only itself at the end.
 */
static int build_root_args(struct ht_provider *p)
{
	static const char *const top_skip[] = { "proc", "dev", "tmp", "var", NULL };
	static const char *const host_var_skip[] = { "task", "bucket", "runtime", NULL };
	static const char *const image_var_skip[] = { "bucket", NULL };
	struct ht_buf *b = &p->root_args;
	const char *src = p->image_mode ? p->img.tree : "";

	ht_buf_init(b, 0);
	if (p->image_mode) {
		char *var = ht_xasprintf("%s/var", src);
		struct stat st;

		/* A /var that is a link would let the binds below leave the tree. */
		if (lstat(var, &st) == 0 && !S_ISDIR(st.st_mode)) {
			ht_error("image '%s': /var is not a directory", p->img.ref);
			free(var);
			return -1;
		}
		free(var);
	}
	if (bind_entries(b, src, "/", top_skip, 0) < 0 ||
	    bind_entries(b, src, "/var/", p->image_mode ? image_var_skip : host_var_skip, p->image_mode) < 0)
		return -1;
	add_arg(b, "--tmpfs");
	add_arg(b, "/tmp");
	add_arg(b, "--proc");
	add_arg(b, "/proc");
	add_arg(b, "--dev");
	add_arg(b, "/dev");
	if (!p->image_mode) {
		add_arg(b, "--ro-bind");
		add_arg(b, p->root);
		add_arg(b, SANDBOX_TASK);
		add_arg(b, "--ro-bind");
		add_arg(b, p->runner);
		add_arg(b, SANDBOX_RUNNER);
	}
	add_arg(b, "--bind");
	add_arg(b, p->bucket);
	add_arg(b, SANDBOX_BUCKET);
	add_arg(b, "--remount-ro");
	add_arg(b, "/");
	add_arg(b, "--chdir");
	add_arg(b, p->image_mode ? p->img.working_dir : SANDBOX_TASK);
	add_arg(b, "--unshare-pid");
	add_arg(b, "--die-with-parent");
	add_arg(b, "--new-session");
	add_arg(b, "--clearenv");
	return 0;
}

/* Runs bwrap once with the sandbox's options; 0 when it works, else -1
 * with its first line of complaint in why. */
static int probe_bwrap(const char *bwrap, char *why, size_t whylen)
{
	const char *argv[] = { bwrap, "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--proc", "/proc",
			 "--dev", "/dev", "--unshare-pid", "--die-with-parent", "--new-session",
			 "--", "true", NULL };
	posix_spawn_file_actions_t fa;
	int fds[2], st, err;
	pid_t pid;
	ssize_t n;
	char *nl;

	why[0] = 0;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	err = posix_spawn(&pid, bwrap, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (err) {
		close(fds[0]);
		snprintf(why, whylen, "cannot run '%s': %s", bwrap, strerror(err));
		return -1;
	}
	n = read(fds[0], why, whylen - 1);
	why[n > 0 ? n : 0] = 0;
	if ((nl = strchr(why, '\n')))
		*nl = 0;
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (!why[0])
		describe_status(st, why, whylen);
	return -1;
}

/* Finds ht-runner: in opts->bin, else $HT_BIN, else next to this program. */
static char *find_runner(const struct ht_provider_opts *opts)
{
	const char *bin = opts && opts->bin ? opts->bin : getenv("HT_BIN");
	char self[PATH_MAX], *slash, *f;
	ssize_t n;

	if (bin && *bin) {
		f = ht_xasprintf("%s/ht-runner", bin);
		if (access(f, X_OK) == 0)
			return f;
		free(f);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	f = ht_xasprintf("%s/ht-runner", self);
	if (access(f, X_OK) == 0)
		return f;
	free(f);
	return NULL;
}

static void env_add(struct ht_provider *p, const char *kv)
{
	p->env = ht_xrealloc(p->env, sizeof(*p->env) * (size_t)(p->nenv + 1));
	p->env[p->nenv++] = ht_xstrdup(kv);
}

static void env_addf(struct ht_provider *p, const char *k, const char *v)
{
	char *kv = ht_xasprintf("%s=%s", k, v);

	env_add(p, kv);
	free(kv);
}

/*
 * The sandbox's environment, in order (bwrap --setenv: a later entry
 * wins): in image mode the image's Env first; then the Lambda variables
 * and the bucket; PATH, LANG and TZ defaults unless the image set them;
 * then runner.env.
 */
static void build_env(struct ht_provider *p, const struct ht_config *cfg)
{
	static const char *const pass[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL };
	char *const *ienv = p->image_mode ? p->img.env : NULL;
	const char *v;
	char num[32];
	int i;

	for (i = 0; ienv && ienv[i]; i++)
		if (strchr(ienv[i], '=') && ienv[i][0] != '=')
			env_add(p, ienv[i]);
	env_addf(p, "AWS_LAMBDA_FUNCTION_NAME", "hypertest-local");
	env_addf(p, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
	snprintf(num, sizeof(num), "%ld", ht_local_settings(cfg)->memory_mb > 0 ? ht_local_settings(cfg)->memory_mb : 3008);
	env_addf(p, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", num);
	env_addf(p, "AWS_REGION", "local");
	env_addf(p, "LAMBDA_TASK_ROOT", p->use_bwrap ? SANDBOX_TASK : p->root);
	if (p->use_bwrap)
		env_addf(p, "HOME", "/tmp");
	/* A fixed PATH, as in Lambda (runner.env may change it). */
	if (!local_image_env_has(ienv, "PATH"))
		env_addf(p, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	v = getenv("LANG");
	if (!local_image_env_has(ienv, "LANG"))
		env_addf(p, "LANG", v && *v ? v : "C.UTF-8");
	v = getenv("TZ");
	if (!local_image_env_has(ienv, "TZ"))
		env_addf(p, "TZ", v && *v ? v : ":UTC");
	{
		char *b = ht_xasprintf("file://%s", p->use_bwrap ? SANDBOX_BUCKET : p->bucket);

		env_addf(p, "HT_BUCKET", b);
		free(b);
	}
	for (i = 0; pass[i]; i++)
		if ((v = getenv(pass[i])))
			env_addf(p, pass[i], v);
	for (i = 0; i < cfg->runner.env.n; i++)
		if (strchr(cfg->runner.env.v[i], '='))
			env_add(p, cfg->runner.env.v[i]);
	p->env_keys = ht_xcalloc((size_t)p->nenv, sizeof(*p->env_keys));
	for (i = 0; i < p->nenv; i++)
		p->env_keys[i] = ht_xasprintf("%.*s", (int)(strchr(p->env[i], '=') - p->env[i]), p->env[i]);
}

/* An absolute version of path (relative to base when it is relative). */
static char *absolute(const char *base, const char *path)
{
	char *joined = path[0] == '/' ? ht_xstrdup(path) : ht_path_join(base, path);
	char *real = realpath(joined, NULL);

	if (real) {
		free(joined);
		return real;
	}
	return joined;
}

static int local_open(struct ht_provider **out, const struct ht_config *cfg,
		      const struct ht_provider_opts *opts, int *code)
{
	struct ht_provider *p = ht_xcalloc(1, sizeof(*p));
	const char *mode = ht_local_settings(cfg)->sandbox ? ht_local_settings(cfg)->sandbox : "auto";
	const char *root_kind = ht_local_settings(cfg)->root ? ht_local_settings(cfg)->root : "host";
	char why[256], *state, *logpath;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	sigset_t block, old;
	long i;

	*out = NULL;
	*code = HT_EXIT_SOFTWARE;
	pthread_mutex_init(&p->lock, NULL);
	p->logfd = -1;
	p->evfd = -1;
	local_image_init(&p->img);
	p->concurrency = opts && opts->concurrency > 0 ? opts->concurrency : cfg->concurrency;
	if (p->concurrency <= 0)
		p->concurrency = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
	if (p->concurrency > 64) {
		ht_warning("the local provider runs at most 64 sandboxes at a time (concurrency %ld)",
			   p->concurrency);
		p->concurrency = 64;
	}
	p->sb = ht_xcalloc((size_t)p->concurrency, sizeof(*p->sb));
	for (i = 0; i < p->concurrency; i++)
		p->sb[i].pid = p->sb[i].pidfd = -1;

	if (strcmp(mode, "auto") && strcmp(mode, "bwrap") && strcmp(mode, "none")) {
		*code = HT_EXIT_CONFIG;
		ht_error("local.sandbox: expected auto, bwrap or none, got '%s'", mode);
		goto fail;
	}
	if (strcmp(root_kind, "host") && strcmp(root_kind, "image")) {
		*code = HT_EXIT_CONFIG;
		ht_error("local.root: expected host or image, got '%s'", root_kind);
		goto fail;
	}
	p->image_mode = !strcmp(root_kind, "image");
	/* Only bwrap can give a sandbox another root: without it, image mode
	 * cannot run at all (a plain process would run the host's files and
	 * only pretend to run the image). */
	if (p->image_mode && !strcmp(mode, "none")) {
		*code = HT_EXIT_UNAVAILABLE;
		ht_error("local.root 'image' needs bwrap: local.sandbox 'none' cannot change the root "
			 "(use local.sandbox 'auto' or 'bwrap', or local.root 'host')");
		goto fail;
	}
	if (p->image_mode && strcmp(mode, "none")) {
		p->bwrap = find_in_path("bwrap");
		if (!p->bwrap) {
			*code = HT_EXIT_UNAVAILABLE;
			ht_error("local.root 'image' needs bwrap to change the root, and 'bwrap' is not in PATH: "
				 "install bubblewrap, or use local.root 'host'");
			goto fail;
		}
		if (probe_bwrap(p->bwrap, why, sizeof(why)) < 0) {
			*code = HT_EXIT_UNAVAILABLE;
			ht_error("local.root 'image' needs bwrap to change the root, and bwrap does not work here: %s", why);
			goto fail;
		}
		p->use_bwrap = 1;
	} else if (strcmp(mode, "none")) {
		p->bwrap = find_in_path("bwrap");
		if (!p->bwrap) {
			if (!strcmp(mode, "bwrap")) {
				*code = HT_EXIT_UNAVAILABLE;
				ht_error("cannot find 'bwrap' in PATH (local.sandbox is 'bwrap'): install bubblewrap");
				goto fail;
			}
			ht_warning("cannot find 'bwrap' in PATH: tests run as plain processes, without a sandbox");
		} else if (probe_bwrap(p->bwrap, why, sizeof(why)) < 0) {
			if (!strcmp(mode, "bwrap")) {
				*code = HT_EXIT_UNAVAILABLE;
				ht_error("bwrap does not work here: %s", why);
				goto fail;
			}
			ht_warning("bwrap does not work here (%s): tests run as plain processes, without a sandbox", why);
			free(p->bwrap);
			p->bwrap = NULL;
		}
		p->use_bwrap = p->bwrap != NULL;
	}

	p->runner = p->image_mode ? NULL : find_runner(opts);
	if (!p->runner && !p->image_mode) {
		*code = HT_EXIT_UNAVAILABLE;
		ht_error("cannot find 'ht-runner' next to this program or in $HT_BIN");
		goto fail;
	}
	p->root = absolute(".", cfg->root ? cfg->root : ".");
	state = absolute(p->root, cfg->state_dir ? cfg->state_dir : HT_STATE_DIR_DEFAULT);
	p->bucket = ht_local_bucket_dir(cfg);
	logpath = ht_path_join(state, "local");
	if (ht_mkdir_p(p->bucket, 0755) < 0 || ht_mkdir_p(logpath, 0755) < 0) {
		*code = HT_EXIT_IOERR;
		ht_error("cannot create '%s': %s", p->bucket, strerror(errno));
		free(state);
		free(logpath);
		goto fail;
	}
	{
		char *b = absolute(".", p->bucket);

		free(p->bucket);
		p->bucket = b;
	}
	free(state);
	{
		char *lf = ht_path_join(logpath, "sandboxes.log");

		p->logfd = open(lf, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (p->logfd < 0)
			ht_warning("cannot open '%s': %s", lf, strerror(errno));
		p->logpath = lf;
	}
	free(logpath);
	if (p->image_mode && local_image_open(&p->img, cfg, code) < 0)
		goto fail;
	if (p->use_bwrap && build_root_args(p) < 0) {
		*code = p->image_mode ? HT_EXIT_DATAERR : HT_EXIT_IOERR;
		goto fail;
	}
	build_env(p, cfg);

	p->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->evfd < 0) {
		ht_error("eventfd: %s", strerror(errno));
		goto fail;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The server's thread must not take the signals meant for the tool. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGPIPE);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	p->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME,
				  0, NULL, NULL, handle, p,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				  MHD_OPTION_NOTIFY_COMPLETED, completed, p,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000,
				  MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!p->mhd) {
		*code = HT_EXIT_UNAVAILABLE;
		ht_error("cannot start the Runtime API server on 127.0.0.1");
		goto fail;
	}
	info = MHD_get_daemon_info(p->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port) {
		ht_error("cannot learn the Runtime API server's port");
		goto fail;
	}
	p->port = info->port;
	ht_debug("Runtime API on 127.0.0.1:%d, sandbox %s, runner '%s'", p->port,
		 p->use_bwrap ? "bwrap" : "none", p->image_mode ? p->img.argv[0] : p->runner);
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
};
