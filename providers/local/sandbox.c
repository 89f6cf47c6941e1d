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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ht/chan.h"
#include "ht/diag.h"
#include "ht/jsonl.h"
#include "ht/proc.h"
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

struct kill_pass {
	pid_t sid;     /* kill the processes of this session, */
	pid_t parent;  /* or (when sid is 0) the children of this process */
	const struct ht_provider *p; /* but not its sandboxes' leaders */
	int found;
};

static int kill_one(const struct ht_proc_info *pi, void *ud)
{
	struct kill_pass *k = ud;
	long i;

	if (k->sid ? pi->session != k->sid : pi->ppid != k->parent)
		return 0;
	for (i = 0; k->p && i < k->p->concurrency; i++)
		if (k->p->sb[i].id && k->p->sb[i].pid == pi->pid)
			return 0;
	kill(pi->pid, SIGKILL);
	k->found++;
	return 0;
}

/* One pass over /proc: SIGKILL to every live process of session sid.
 * Returns how many it found. */
static int kill_session_pass(pid_t sid)
{
	struct kill_pass k = { sid, 0, NULL, 0 };

	ht_proc_each(1, kill_one, &k);
	return k.found;
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
	if (s->chan >= 0)
		close(s->chan);
	if (s->tmpdir) {
		ht_remove_tree(s->tmpdir);
		free(s->tmpdir);
	}
	local_api_drop(s);
	memset(s, 0, sizeof(*s));
	s->pidfd = -1;
	s->chan = -1;
	s->pid = -1;
}

/* --- the channel ------------------------------------------------------------ */

/*
 * Each sandbox's runner has a socket pair with us (SOCK_SEQPACKET, one
 * message per send, include/ht/chan.h) on which it does what it would do
 * with the Runtime API, where it can: 'N' asks for work (answered 'E'
 * with the request id, the deadline and the event, at once or when work
 * comes; 'H' when the event does not fit: GET .../next for it), 'R'
 * answers (the request id and the result), 'S' says a test of the
 * invocation starts. No HTTP request per test: on loopback two of them
 * cost a quick test more than the test. Lock held throughout.
 */

/* v back to the front of the queue, for whoever asks first, and s's
 * runner told to ask the Runtime API ('H'). */
static void chan_to_http(struct ht_provider *p, struct local_sandbox *s, struct local_inv *v)
{
	v->next = p->q_head;
	p->q_head = v;
	if (!p->q_tail)
		p->q_tail = v;
	if (ht_chan_send(s->chan, 'H', "", "", NULL, 0, MSG_DONTWAIT) < 0)
		ht_debug("sandbox %lu: channel: %s", s->id, strerror(errno));
}

/* Gives v to s's runner, waiting on the channel. */
static void chan_give(struct ht_provider *p, struct local_sandbox *s, struct local_inv *v)
{
	char meta[32];

	s->chan_waiting = 0;
	/* As local_assign will set it (the same digits): an event that
	 * does not fit is not assigned. */
	snprintf(meta, sizeof(meta), "%lld", (long long)(ht_wall_ms() + v->timeout_ms));
	if (!ht_chan_fits(v->id, meta, v->len)) {
		chan_to_http(p, s, v);
		return;
	}
	local_assign(s, v);
	snprintf(meta, sizeof(meta), "%lld", (long long)v->deadline_wall_ms);
	if (ht_chan_send(s->chan, 'E', v->id, meta, v->payload, v->len, MSG_DONTWAIT) == 0)
		return;
	if (errno == EMSGSIZE || errno == ENOBUFS) {
		/* The system's socket buffers are smaller than a message of
		 * HT_CHAN_MAX (net.core.wmem_max): by HTTP, as if too large. */
		s->cur = NULL;
		s->served--;
		chan_to_http(p, s, v);
		return;
	}
	ht_debug("sandbox %lu: channel: %s", s->id, strerror(errno)); /* it died: sandbox.c sees */
}

int local_chan_offer(struct ht_provider *p, struct local_inv *v)
{
	long i;

	for (i = 0; i < p->concurrency; i++) {
		struct local_sandbox *s = &p->sb[i];

		if (s->id && s->chan_waiting && !s->cur) {
			chan_give(p, s, v);
			return 1;
		}
	}
	return 0;
}

/* Takes what s's runner said on the channel. */
static void chan_read(struct ht_provider *p, struct local_sandbox *s)
{
	struct ht_chan_msg m;
	int r;

	while (s->chan >= 0 && (r = ht_chan_recv(s->chan, p->chan_buf, HT_CHAN_MAX, &m, MSG_DONTWAIT)) != 0) {
		int mine;

		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			ht_debug("sandbox %lu: channel: %s", s->id, strerror(errno));
			if (errno == EBADMSG)
				continue; /* that one is read: the next */
			break;            /* broken (ECONNRESET): as closed */
		}
		p->chan_msgs++;
		/* One for another invocation than s's current is late. */
		mine = s->cur && !strcmp(m.id, s->cur->id);
		switch (m.type) {
		case 'S':
			if (mine)
				s->test_seen = 1;
			break;
		case 'R':
			if (!mine)
				break;
			s->cur->body = ht_xmalloc(m.len + 1);
			memcpy(s->cur->body, m.body, m.len);
			s->cur->body[m.len] = 0;
			s->cur->body_len = m.len;
			local_finish(p, s->cur, HT_INVOKE_OK, NULL);
			s->cur = NULL;
			break;
		case 'N': {
			struct local_inv *v;

			if (s->cur || s->waiting)
				break; /* it holds one, or waits in /next: not two */
			v = local_queue_pop(p);
			if (v)
				chan_give(p, s, v);
			else
				s->chan_waiting = 1;
			break;
		}
		default:
			ht_debug("sandbox %lu: channel: a message of type %d", s->id, m.type);
		}
	}
	/* Closed: the runner is gone (its death is seen by its pid), or
	 * goes on with the Runtime API alone. */
	if (s->chan >= 0) {
		close(s->chan);
		s->chan = -1;
		s->chan_waiting = 0;
	}
}

/* A socket pair for a sandbox's channel: ours in *mine, the runner's
 * (numbered 10 or more, see local_box_spawn) returned; -1 when none. */
static int chan_pair(int *mine)
{
	int sv[2], theirs, size = 2 * HT_CHAN_MAX;

	*mine = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		ht_debug("socketpair: %s: the runner uses the Runtime API alone", strerror(errno));
		return -1;
	}
	theirs = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
	close(sv[1]);
	if (theirs < 0) {
		close(sv[0]);
		return -1;
	}
	/* Room for a message of HT_CHAN_MAX each way (the system may give
	 * less: what does not fit then fails, and goes by HTTP). */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(theirs, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	*mine = sv[0];
	return theirs;
}

/* The least free space of a memory file system taken for plain sandboxes'
 * directories. */
#define SHM_MIN_FREE (1024LL * 1024 * 1024)
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

/*
 * Where a plain process's private directory goes: $TMPDIR when the user
 * set it; else /dev/shm when it is a writable tmpfs with at least
 * SHM_MIN_FREE free, so that the test's temporary files and ht-runner's
 * work directory (its output, created and removed for every test) are in
 * memory, as they are in a bwrap sandbox's `--tmpfs /tmp`; else /tmp. On
 * a disk file system each test's few files cost more than the test
 * (bench/local-overhead.sh: the unsandboxed mode was the slower one).
 */
static const char *plain_tmp_base(void)
{
	const char *t = getenv("TMPDIR");
	struct statfs fs;
	struct statvfs vfs;

	if (t && *t)
		return t;
	if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC && statvfs("/dev/shm", &vfs) == 0 &&
	    (long long)vfs.f_bavail * (long long)vfs.f_frsize >= SHM_MIN_FREE && access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	return "/tmp";
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
	int i, theirs;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	s->pidfd = -1;
	s->chan = -1;
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
		const char *t = plain_tmp_base();

		snprintf(tmpl, sizeof(tmpl), "%s/ht-sandbox.XXXXXX", t);
		if (!mkdtemp(tmpl)) {
			snprintf(why, whylen, "cannot create a directory in '%s': %s", t, strerror(errno));
			free(extra[0]);
			free(extra[1]);
			memset(s, 0, sizeof(*s));
			s->pid = s->pidfd = s->chan = -1;
			return -1;
		}
		s->tmpdir = ht_xstrdup(tmpl);
		extra[2] = ht_xasprintf("TMPDIR=%s", s->tmpdir);
		extra[3] = ht_xasprintf("HOME=%s", s->tmpdir);
		extra[4] = ht_xasprintf("HT_WORK_DIR=%s", s->tmpdir);
	}
	theirs = b->as_lambda ? -1 : chan_pair(&s->chan);
	pid = local_box_spawn(b, cmd, extra, p->logfd, theirs, b->root, why, whylen);
	if (theirs >= 0)
		close(theirs);
	for (i = 0; extra[i]; i++)
		free(extra[i]);
	if (pid < 0) {
		if (s->tmpdir) {
			ht_remove_tree(s->tmpdir);
			free(s->tmpdir);
		}
		if (s->chan >= 0)
			close(s->chan);
		memset(s, 0, sizeof(*s));
		s->pid = s->pidfd = s->chan = -1;
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
		if (!p->sb[i].cur && !p->sb[i].waiting && !p->sb[i].chan_waiting)
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

/*
 * The answer for invocation v, whose runner died during the test (the
 * sandbox exited while it held v): an ht.result/1 record, status error
 * with error.code "runner_killed". A test that kills its runner (kill -9
 * $PPID) or its session is reported once as what it is, not retried as
 * an infrastructure failure. Sets v->body, or nothing when v's payload
 * is not a record (then it stays an infrastructure failure).
 */
static void runner_killed(struct ht_provider *p, struct local_sandbox *s, struct local_inv *v, const char *how)
{
	static const char *const copied[] = { "run_id", "test_id", "name", "file", "runner", "attempt", NULL };
	json_t *ev = v->payload ? json_loadb(v->payload, v->len, 0, NULL) : NULL, *rec;
	char msg[512], worker[40];
	int i;

	if (!json_is_object(ev)) {
		json_decref(ev);
		return;
	}
	snprintf(msg, sizeof(msg), "the runner died during the test (%s): the test killed its runner or its session "
		 "(or something else did: see '%s'); not retried", how, p->logpath ? p->logpath : "the sandboxes' log");
	rec = ht_record_new("ht.result/1");
	for (i = 0; copied[i]; i++)
		if (json_object_get(ev, copied[i]))
			json_object_set(rec, copied[i], json_object_get(ev, copied[i]));
	ht_json_set_str(rec, "status", "error");
	json_object_set_new(rec, "ok", json_false());
	ht_json_set_int(rec, "duration_ms", v->dispatched_ms ? ht_now_ms() - v->dispatched_ms : 0);
	json_object_set_new(rec, "exit_code", json_null());
	json_object_set_new(rec, "signal", json_null());
	ht_json_set_str(rec, "message", msg);
	ht_json_set_str(rec, "output_tail", "");
	json_object_set_new(rec, "artifacts", json_array());
	json_object_set_new(rec, "error", json_pack("{s:s,s:s}", "code", "runner_killed", "message", msg));
	snprintf(worker, sizeof(worker), "sandbox-%lu", s->id);
	ht_json_set_str(rec, "worker", worker);
	free(v->body);
	v->body = json_dumps(rec, JSON_COMPACT);
	v->body_len = v->body ? strlen(v->body) : 0;
	json_decref(rec);
	json_decref(ev);
}

/* How sandbox s ended, from its wait status st: bwrap passes on a
 * runner's death by signal N as exit code 128 + N. */
static const char *sandbox_status(const struct ht_provider *p, int st, char *how, size_t n)
{
	if (p->box.use_bwrap && WIFEXITED(st) && WEXITSTATUS(st) > 128 && WEXITSTATUS(st) < 128 + NSIG) {
		int sig = WEXITSTATUS(st) - 128;

		snprintf(how, n, "killed by signal %d (%s)", sig, strsignal(sig));
		return how;
	}
	return local_describe_status(st, how, n);
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
		/* What the runner said before it died or ran out of time. */
		chan_read(p, s);
		if (s->cur && now >= s->cur->deadline_ms) {
			snprintf(msg, sizeof(msg), "no answer from the runner within %lld ms: sandbox killed",
				 (long long)(s->cur->timeout_ms + LOCAL_DEADLINE_MARGIN_MS));
			/* A test ran to the deadline (its runner said it started):
			 * its time ran out, whatever the runner was doing after it.
			 * A runner that never started one failed on its own. */
			local_finish(p, s->cur, s->test_seen ? HT_INVOKE_TIMEOUT : HT_INVOKE_INFRA, msg);
			s->cur = NULL;
			local_sandbox_kill(s);
		}
		/* Dead? Asked without reaping, so its pid stays its own. */
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != s->pid)
			continue;
		sandbox_reap(s, &st);
		sandbox_status(p, st, how, sizeof(how));
		ht_debug("sandbox %lu exited: %s", s->id, how);
		if (s->cur) {
			snprintf(msg, sizeof(msg), "the sandbox died during the invocation (%s; see '%s')", how,
				 p->logpath ? p->logpath : "its log");
			if (s->test_seen)
				runner_killed(p, s, s->cur, how);
			local_finish(p, s->cur, s->cur->body ? HT_INVOKE_OK : HT_INVOKE_INFRA, s->cur->body ? NULL : msg);
			s->cur = NULL;
		} else if (!s->served && p->q_head) {
			struct local_inv *v = local_queue_pop(p);

			if (s->init_error[0])
				snprintf(msg, sizeof(msg), "the sandbox failed to start: %s", s->init_error);
			else
				snprintf(msg, sizeof(msg), "the sandbox exited before taking an invocation (%s; see '%s')",
					 how, p->logpath ? p->logpath : "its log");
			/* Maybe bwrap no longer works as it did: probe next time. */
			local_box_probe_forget(&p->box);
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
	/* What left a sandbox's session came to us as its subreaper: the
	 * children that are no sandbox, and theirs as they come. */
	if (p->subreaper) {
		struct kill_pass k = { 0, getpid(), p, 0 };
		int st;

		for (i = 0; i < 50; i++) {
			k.found = 0;
			ht_proc_each(0, kill_one, &k);
			if (!k.found)
				break;
			while (waitpid(-1, &st, WNOHANG) > 0)
				;
			ht_sleep_ms(10);
		}
		while (waitpid(-1, &st, WNOHANG) > 0)
			;
		prctl(PR_SET_CHILD_SUBREAPER, 0);
		p->subreaper = 0;
	}
}
