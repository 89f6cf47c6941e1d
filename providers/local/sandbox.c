/*
 * sandbox.c: the local provider's pool of sandboxes: started when work is
 * queued, killed at a deadline or a cancel, reaped when they die. See
 * local.h.
 *
 * Killing and reaping: a sandbox's leader is the session leader of every
 * process it started (outside bwrap; under bwrap its pid namespace holds
 * them). Its pid, which is also the session's and the process group's id,
 * stays taken until the leader is reaped, so everything that kills by that
 * id (kill(-sid), the /proc scan of the session) runs before the reap,
 * never after: a reaped pid may already be another process's. The reap
 * happens in one place, sandbox_reap().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ht/diag.h"
#include "providers/local/local.h"

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	/* pidfd_open's descriptors are always close-on-exec. */
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/*
 * One pass over /proc: SIGKILL to every process of session sid. Returns
 * how many it found alive (zombies, which are dead, do not count).
 */
static int kill_session_pass(pid_t sid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[64], buf[512], *rp;
		int fd;
		ssize_t n;
		long pid = strtol(e->d_name, &rp, 10);
		long f_sid;
		char state;

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
		if (!rp || sscanf(rp + 1, " %c %*d %*d %ld", &state, &f_sid) != 2)
			continue;
		if (f_sid != sid || state == 'Z' || state == 'X')
			continue;
		kill((pid_t)pid, SIGKILL);
		found++;
	}
	closedir(d);
	return found;
}

/*
 * Kills every process of session sid (a sandbox without bwrap leaves its
 * tests in the runner's session even after the runner died). The caller
 * has not reaped the session's leader yet, so sid is still its. A process
 * may fork while a pass reads /proc, and its child may be missed: passes
 * repeat until one finds nothing alive (bounded, for a fork bomb; the
 * killed processes cannot fork again, so this ends quickly).
 */
static void kill_session(pid_t sid)
{
	int i;

	kill(-sid, SIGKILL);
	for (i = 0; i < 50 && kill_session_pass(sid) > 0; i++)
		;
}

/*
 * Takes down what is left in sandbox s, whose leader is dead or dying,
 * and reaps the leader: waits for it to die without reaping it, kills its
 * session (what it forked meanwhile too), then reaps. *st gets its status.
 */
static void sandbox_reap(struct local_sandbox *s, int *st)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	kill_session(s->pid);
	while (waitpid(s->pid, st, 0) < 0 && errno == EINTR)
		;
}

/* Frees slot s after its process is gone (reaped). Lock held. */
static void slot_clear(struct local_sandbox *s)
{
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->tmpdir) {
		ht_remove_tree(s->tmpdir);
		free(s->tmpdir);
	}
	local_api_drop(s);
	memset(s, 0, sizeof(*s));
	s->pidfd = -1;
	s->pid = -1;
}

/*
 * Starts a sandbox in slot s. Returns 0, or -1 with a reason in why.
 * Lock held.
 */
static int sandbox_spawn(struct ht_provider *p, struct local_sandbox *s, char *why, size_t whylen)
{
	const struct local_box *b = &p->box;
	char *extra[6] = { NULL, NULL, NULL, NULL, NULL, NULL };
	static char in_sandbox[] = LOCAL_SANDBOX_RUNNER;
	char *const runner_cmd[] = { b->use_bwrap ? in_sandbox : b->runner, NULL };
	char *const *cmd = b->image_mode ? p->img.argv : runner_cmd;
	char tmpl[PATH_MAX];
	pid_t pid;
	int i;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	s->pidfd = -1;
	if (local_api_token(s->token) < 0) {
		snprintf(why, whylen, "cannot draw a random token for the sandbox");
		return -1;
	}
	s->id = ++p->next_id;
	/* The runner builds http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/...:
	 * the path prefix is this sandbox's, with its secret. */
	extra[0] = ht_xasprintf("AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d/sb/%lu/%s", p->port, s->id, s->token);
	/* Lambda names an execution environment by its log stream: so does
	 * the local provider, one per sandbox (the run's timeline shows it). */
	extra[1] = ht_xasprintf("AWS_LAMBDA_LOG_STREAM_NAME=sandbox-%lu", s->id);
	if (!b->use_bwrap) {
		const char *t = getenv("TMPDIR");

		snprintf(tmpl, sizeof(tmpl), "%s/ht-sandbox.XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmpl)) {
			snprintf(why, whylen, "cannot create a directory in '%s': %s", t && *t ? t : "/tmp",
				 strerror(errno));
			free(extra[0]);
			free(extra[1]);
			memset(s, 0, sizeof(*s));
			s->pid = s->pidfd = -1;
			return -1;
		}
		s->tmpdir = ht_xstrdup(tmpl);
		extra[2] = ht_xasprintf("TMPDIR=%s", s->tmpdir);
		extra[3] = ht_xasprintf("HOME=%s", s->tmpdir);
		extra[4] = ht_xasprintf("HT_WORK_DIR=%s", s->tmpdir);
	}
	pid = local_box_spawn(b, cmd, extra, p->logfd, b->root, why, whylen);
	for (i = 0; extra[i]; i++)
		free(extra[i]);
	if (pid < 0) {
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

void local_sandbox_kill(struct local_sandbox *s)
{
	if (s->id && s->pid > 0)
		kill_session(s->pid);
}

void local_sandboxes_fill(struct ht_provider *p)
{
	long i, live = 0, starting = 0;
	int queued = 0;
	struct local_inv *v;
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
			v = local_queue_pop(p);
			if (v)
				local_finish(p, v, HT_INVOKE_INFRA, why);
			return;
		}
		starting++;
		live++;
	}
}

void local_sandboxes_check(struct ht_provider *p)
{
	int64_t now = ht_now_ms();
	long i;

	for (i = 0; i < p->concurrency; i++) {
		struct local_sandbox *s = &p->sb[i];
		siginfo_t si;
		int st = 0;
		char msg[256], how[96];

		if (!s->id)
			continue;
		if (s->cur && now >= s->cur->deadline_ms) {
			snprintf(msg, sizeof(msg), "no answer from the runner within %lld ms: sandbox killed",
				 (long long)(s->cur->timeout_ms + LOCAL_DEADLINE_MARGIN_MS));
			local_finish(p, s->cur, HT_INVOKE_TIMEOUT, msg);
			s->cur = NULL;
			local_sandbox_kill(s);
		}
		/* Dead? Asked without reaping, so its pid stays its own. */
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != s->pid)
			continue;
		sandbox_reap(s, &st);
		local_describe_status(st, how, sizeof(how));
		ht_debug("sandbox %lu exited: %s", s->id, how);
		if (s->cur) {
			snprintf(msg, sizeof(msg), "the sandbox died during the invocation (%s; see '%s')", how,
				 p->logpath ? p->logpath : "its log");
			local_finish(p, s->cur, HT_INVOKE_INFRA, msg);
			s->cur = NULL;
		} else if (!s->served && p->q_head) {
			struct local_inv *v = local_queue_pop(p);

			if (s->init_error[0])
				snprintf(msg, sizeof(msg), "the sandbox failed to start: %s", s->init_error);
			else
				snprintf(msg, sizeof(msg), "the sandbox exited before taking an invocation (%s; see '%s')",
					 how, p->logpath ? p->logpath : "its log");
			local_finish(p, v, HT_INVOKE_INFRA, msg);
		}
		slot_clear(s);
	}
	local_sandboxes_fill(p);
}

void local_sandboxes_close(struct ht_provider *p)
{
	long i;

	/* Kill them all first, so they die together; then reap each. */
	for (i = 0; i < p->concurrency; i++) {
		struct local_sandbox *s = &p->sb[i];

		if (!s->id)
			continue;
		if (s->cur) {
			local_inv_free(s->cur);
			s->cur = NULL;
		}
		local_sandbox_kill(s);
	}
	for (i = 0; i < p->concurrency; i++) {
		struct local_sandbox *s = &p->sb[i];
		int st;

		if (!s->id)
			continue;
		sandbox_reap(s, &st);
		slot_clear(s);
	}
}
