/*
 * proc.c: child processes in their own process group, with deadlines.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ht/diag.h"
#include "ht/proc.h"
#include "ht/process.h"
#include "ht/util.h"
#include "proc-int.h"

extern char **environ;

void ht_proc_init(struct ht_proc *p, char *const *argv)
{
	memset(p, 0, sizeof(*p));
	p->argv = argv;
	p->stdin_fd = p->stdout_fd = p->stderr_fd = -1;
	p->cap_pipe[0] = p->cap_pipe[1] = p->cap_file[0] = p->cap_file[1] = -1;
	p->pid = -1;
}

int ht_proc_spawn(struct ht_proc *p)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all; /* all: the signals to reset to default */
	int err, wr[2];

	if (ht_proc_cap_open(p, wr) < 0) {
		err = errno;
		ht_proc_cap_close(p, 0);
		errno = err;
		return ht_error("cannot create a pipe: %s", strerror(err));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (p->stdin_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, p->stdin_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (wr[0] >= 0 || p->stdout_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, wr[0] >= 0 ? wr[0] : p->stdout_fd, 1);
	if (wr[1] >= 0 || p->stderr_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, wr[1] >= 0 ? wr[1] : p->stderr_fd, 2);
	if (p->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, p->cwd);
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
	/* Nothing of ours reaches the child, close-on-exec or not: libcurl's
	 * sockets are not, and a test that had ht-runner's connection to the
	 * Runtime API could answer for it or take its next invocation. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	/* A new process group; default signal handling and an empty mask,
	 * whatever the parent had. Caught signals are reset by exec itself;
	 * only ignored ones survive it, and those are the ones set here
	 * (a reset of every signal costs 64 system calls per child). */
	sigemptyset(&none);
	sigemptyset(&all);
	{
		static const int sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGTTOU, SIGTTIN, SIGTSTP, SIGXFSZ };
		size_t i;

		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			struct sigaction sa;

			if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
				sigaddset(&all, sigs[i]);
		}
	}
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	p->start_ms = ht_now_ms();
	err = posix_spawnp(&p->pid, p->argv[0], &fa, &attr, p->argv, p->envp ? p->envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (wr[0] >= 0)
		close(wr[0]);
	if (wr[1] >= 0 && wr[1] != wr[0])
		close(wr[1]);
	if (err) {
		ht_proc_cap_close(p, 0);
		p->pid = -1;
		errno = err;
		return ht_error("cannot run '%s': %s", p->argv[0], strerror(err));
	}
	return 0;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* Waits until the child has exited (without reaping it) or timeout_ms
 * passes, moving its capped output meanwhile. Returns 1 when it exited,
 * 0 on timeout. */
static int wait_exit(struct ht_proc *p, int pidfd, int timeout_ms)
{
	int64_t end = ht_now_ms() + timeout_ms;
	siginfo_t si;

	for (;;) {
		struct pollfd pfd[3];
		int fds[2], n = 0, k, i, r;
		int64_t left = end - ht_now_ms();

		if (left < 0)
			left = 0;
		if (pidfd >= 0) {
			pfd[n].fd = pidfd;
			pfd[n++].events = POLLIN;
		}
		k = ht_proc_cap_fds(p, fds);
		for (i = 0; i < k; i++) {
			pfd[n].fd = fds[i];
			pfd[n++].events = POLLIN;
		}
		for (i = 0; i < n; i++)
			pfd[i].revents = 0;
		/* No pidfd: ask waitid every few milliseconds. */
		r = poll(pfd, (nfds_t)n, pidfd >= 0 ? (int)left : (int)(left < 5 ? left : 5));
		if (r < 0 && errno != EINTR && pidfd >= 0)
			pidfd = -1;
		if (k)
			ht_proc_cap_drain(p);
		if (pidfd >= 0 && r > 0 && pfd[0].revents)
			return 1;
		if (pidfd < 0) {
			memset(&si, 0, sizeof(si));
			if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == p->pid)
				return 1;
		}
		if (ht_now_ms() >= end)
			return 0;
	}
}

int ht_proc_wait(struct ht_proc *p)
{
	int pidfd = open_pidfd(p->pid);
	int64_t grace = p->grace_ms > 0 ? p->grace_ms : 2000;
	/* The first look at the memory after 100 ms: a test that is done
	 * sooner is never read from /proc (a scan of every process there). */
	int64_t kill_at = 0, mem_at = ht_now_ms() + 100;
	struct ht_proc_limits *l = p->limits;
	int status;

	if (l) {
		l->memory_peak_kb = 0;
		l->memory_killed = 0;
	}
	for (;;) {
		int64_t now = ht_now_ms();
		int64_t wait = 100;

		/* The memory of the session, every 100 ms: past the limit the
		 * test's group dies at once (no grace: it would only grow). */
		if (l && l->memory_max_kb > 0 && !l->memory_killed && now >= mem_at) {
			int64_t kb = ht_proc_session_rss_kb(getsid(0));

			if (kb > l->memory_peak_kb)
				l->memory_peak_kb = kb;
			if (kb > l->memory_max_kb) {
				l->memory_killed = 1;
				killpg(p->pid, SIGKILL);
			}
			mem_at = now + 100;
		}
		if (!kill_at) {
			if (p->deadline_ms && now >= p->deadline_ms) {
				p->timed_out = 1;
			} else if (p->stop && *p->stop) {
				p->stopped = 1;
			}
			if (p->timed_out || p->stopped) {
				killpg(p->pid, p->term_signal > 0 ? p->term_signal : SIGTERM);
				kill_at = now + grace;
			} else if (p->deadline_ms) {
				wait = p->deadline_ms - now;
			}
		} else if (now >= kill_at) {
			killpg(p->pid, SIGKILL);
			kill_at = now + 3600 * 1000;
		} else {
			wait = kill_at - now;
		}
		if ((p->stop || (l && l->memory_max_kb > 0)) && wait > 100)
			wait = 100;
		if (wait > 60000)
			wait = 60000;
		if (wait_exit(p, pidfd, (int)wait))
			break;
	}
	/* The leader is a zombie now, so its group id is still ours: take
	 * everything it left behind down with it. What it wrote last is
	 * still in the pipes; a process that left the group may hold them
	 * open, so they are read only a moment longer. */
	killpg(p->pid, SIGKILL);
	ht_proc_cap_close(p, 200);
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(p->pid, &status, 0) < 0) {
		if (errno != EINTR)
			return ht_error("cannot wait for '%s': %s", p->argv[0], strerror(errno));
	}
	p->duration_ms = ht_now_ms() - p->start_ms;
	if (WIFEXITED(status)) {
		p->exited = 1;
		p->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		p->signal = WTERMSIG(status);
	}
	return 0;
}

int ht_proc_run(struct ht_proc *p)
{
	if (ht_proc_spawn(p) < 0)
		return -1;
	return ht_proc_wait(p);
}

int ht_proc_capture(struct ht_proc *p, size_t max, char **out)
{
	int fds[2];
	struct ht_buf b;
	int too_big = 0;

	*out = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return ht_error("cannot create a pipe: %s", strerror(errno));
	p->stdout_fd = fds[1];
	if (ht_proc_spawn(p) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);
	p->stdout_fd = -1;
	ht_buf_init(&b, max ? max : 1024 * 1024);
	for (;;) {
		char chunk[8192];
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int64_t left = p->deadline_ms ? p->deadline_ms - ht_now_ms() : 100;
		ssize_t n;
		int r;

		if (p->deadline_ms && left <= 0)
			break; /* ht_proc_wait kills it and says timed_out */
		if (p->stop && *p->stop)
			break;
		r = poll(&pfd, 1, (int)(left > 100 ? 100 : left));
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!too_big && ht_buf_add(&b, chunk, (size_t)n) < 0) {
			too_big = 1;
			killpg(p->pid, SIGKILL);
		}
	}
	close(fds[0]);
	if (ht_proc_wait(p) < 0) {
		ht_buf_release(&b);
		return -1;
	}
	if (too_big) {
		ht_buf_release(&b);
		return ht_error("'%s' printed more than %zu bytes", p->argv[0], b.max);
	}
	*out = ht_buf_detach(&b);
	return 0;
}

const char *ht_proc_describe(const struct ht_proc *p)
{
	static char buf[128];

	if (p->timed_out)
		snprintf(buf, sizeof(buf), "timed out after %lld ms", (long long)p->duration_ms);
	else if (p->stopped)
		snprintf(buf, sizeof(buf), "stopped (interrupted)");
	else if (p->exited)
		snprintf(buf, sizeof(buf), "exit code %d", p->exit_code);
	else if (p->signal)
		snprintf(buf, sizeof(buf), "killed by signal %d (%s)", p->signal, strsignal(p->signal));
	else
		snprintf(buf, sizeof(buf), "did not run");
	return buf;
}

/* The parent died (PR_SET_PDEATHSIG): a stop, as SIGTERM would be. The
 * kernel may say so once for every thread of a parent that had several
 * (each time the child is handed to the next one), so this handler,
 * unlike SIGTERM's, stays: a second word changes nothing. */
static void on_parent_death(int sig)
{
	(void)sig;
	if (!ht_stop_signal)
		ht_stop_signal = SIGTERM;
}

int ht_proc_guard(void)
{
	struct sigaction sa;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return ht_error("cannot adopt orphans (PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return ht_error("cannot make this process non-dumpable: %s", strerror(errno));
	/* A caller killed outright (SIGKILL) cleans nothing up: its death
	 * comes to us as SIGHUP, which stops the test as SIGTERM does. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_parent_death;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a wait returns EINTR and looks */
	if (sigaction(SIGHUP, &sa, NULL) < 0 || prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0) < 0)
		return ht_error("cannot ask for the parent's death: %s", strerror(errno));
	return 0;
}

struct orphans {
	pid_t self;
	pid_t found[256];
	int n;
};

static int note_child(const struct ht_proc_info *pi, void *ud)
{
	struct orphans *o = ud;

	if (pi->ppid == o->self)
		o->found[o->n++] = pi->pid;
	return o->n == (int)(sizeof(o->found) / sizeof(o->found[0]));
}

int ht_proc_kill_orphans(void)
{
	struct orphans o;
	int killed = 0, pass, i;

	o.self = getpid();
	/* No child at all (the usual case): nothing to look for in /proc. */
	{
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD)
			return 0;
	}
	/* A pass kills the children; their children become ours, for the
	 * next pass. A fork bomb stops growing once SIGKILL lands. */
	for (pass = 0; pass < 100; pass++) {
		o.n = 0;
		ht_proc_each(0, note_child, &o);
		if (!o.n)
			break;
		for (i = 0; i < o.n; i++)
			kill(o.found[i], SIGKILL);
		for (i = 0; i < o.n; i++) {
			while (waitpid(o.found[i], NULL, 0) < 0 && errno == EINTR)
				;
			killed++;
		}
	}
	return killed;
}
