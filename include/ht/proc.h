/*
 * proc.h: running child processes with a deadline.
 *
 * Every child is the leader of its own process group, so a deadline or an
 * interrupt kills everything it started, not only itself. Strings and
 * arrays passed in are borrowed.
 */
#ifndef HT_PROC_H
#define HT_PROC_H

#include <stdint.h>
#include <sys/types.h>

struct ht_proc {
	char *const *argv;     /* argv[0] is looked up in PATH */
	char *const *envp;     /* NULL: inherit the environment */
	const char *cwd;       /* NULL: stay */
	int stdin_fd;          /* -1: /dev/null */
	int stdout_fd;         /* -1: inherit */
	int stderr_fd;         /* -1: inherit */
	int64_t deadline_ms;   /* absolute, on ht_now_ms()'s clock; 0 for none */
	int64_t grace_ms;      /* between SIGTERM and SIGKILL at the deadline; 0: 2000 */
	volatile int *stop;    /* optional: when *stop becomes set, kill as at a deadline */
	int term_signal;       /* sent at the deadline before SIGKILL; 0: SIGTERM (pytest
	                          writes its report on SIGINT) */
	/* Filled in by ht_proc_spawn / ht_proc_wait: */
	pid_t pid;
	int exited;            /* 1 when it exited normally */
	int exit_code;         /* its exit code when exited */
	int signal;            /* the signal that ended it, else 0 */
	int timed_out;         /* 1 when the deadline was reached */
	int stopped;           /* 1 when *stop killed it */
	int64_t duration_ms;
	int64_t start_ms;
};

/* Initialises p with the defaults above for argv. */
void ht_proc_init(struct ht_proc *p, char *const *argv);
/*
 * Starts the child in a new process group. Returns 0, or -1 after
 * printing why (no such program: errno ENOENT, exit code 127 semantics).
 */
int ht_proc_spawn(struct ht_proc *p);
/*
 * Waits for the child, enforcing the deadline and *stop: term_signal to the
 * group, then SIGKILL after grace. When the leader has exited, the rest of
 * its group is killed too, so no stray process outlives the test.
 * Returns 0 once the child is reaped (see the result fields), -1 on error.
 */
int ht_proc_wait(struct ht_proc *p);
/* ht_proc_spawn then ht_proc_wait. */
int ht_proc_run(struct ht_proc *p);
/*
 * Runs argv and captures its stdout into *out (new string, at most max
 * bytes, 0 for 1 MiB). stderr is inherited. Returns 0 when it ran (see
 * p->exit_code), -1 when it could not be started or the output was too big.
 */
int ht_proc_capture(struct ht_proc *p, size_t max, char **out);
/* A one-line description: "exit code 3", "killed by signal 9 (Killed)",
 * "timed out after 1500 ms". Static buffer. */
const char *ht_proc_describe(const struct ht_proc *p);

#endif
