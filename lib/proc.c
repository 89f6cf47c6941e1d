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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ht/diag.h"
#include "ht/proc.h"
#include "ht/util.h"

extern char **environ;

void ht_proc_init(struct ht_proc *p, char *const *argv)
{
	memset(p, 0, sizeof(*p));
	p->argv = argv;
	p->stdin_fd = p->stdout_fd = p->stderr_fd = -1;
	p->pid = -1;
}

int ht_proc_spawn(struct ht_proc *p)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all; /* all: the signals to reset to default */
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (p->stdin_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, p->stdin_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (p->stdout_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, p->stdout_fd, 1);
	if (p->stderr_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, p->stderr_fd, 2);
	if (p->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, p->cwd);
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
	if (err) {
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
 * passes. Returns 1 when it exited, 0 on timeout. */
static int wait_exit(pid_t pid, int pidfd, int timeout_ms)
{
	siginfo_t si;

	if (pidfd >= 0) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		int r = poll(&pfd, 1, timeout_ms);

		if (r > 0)
			return 1;
		if (r == 0 || errno == EINTR)
			return 0;
	}
	/* No pidfd: poll waitid every few milliseconds. */
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			return 1;
		if (timeout_ms <= 0)
			return 0;
		ht_sleep_ms(timeout_ms < 5 ? timeout_ms : 5);
		timeout_ms -= 5;
	}
}

int ht_proc_wait(struct ht_proc *p)
{
	int pidfd = open_pidfd(p->pid);
	int64_t grace = p->grace_ms > 0 ? p->grace_ms : 2000;
	int64_t kill_at = 0;
	int status;

	for (;;) {
		int64_t now = ht_now_ms();
		int64_t wait = 100;

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
		if (p->stop && wait > 100)
			wait = 100;
		if (wait > 60000)
			wait = 60000;
		if (wait_exit(p->pid, pidfd, (int)wait))
			break;
	}
	/* The leader is a zombie now, so its group id is still ours: take
	 * everything it left behind down with it. */
	killpg(p->pid, SIGKILL);
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
