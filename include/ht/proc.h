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

/*
 * Limits ht_proc_wait() enforces on a child, and what it saw of them
 * (ht-runner's caps, docs/ht-runner.md#limits). Owned by the caller, who
 * sets the first fields; ht_proc_wait() fills the rest.
 */
struct ht_proc_limits {
	/* > 0: of stdout and of stderr, each given as a regular file, keep
	 * at most this many bytes: the child writes into pipes, and the file
	 * keeps the last output_max bytes after a one-line note of what was
	 * cut ("[ht-runner: output cut: ...]"). */
	int64_t output_max;
	/* > 0: kill the child's process group (SIGKILL) once the processes
	 * of the caller's session use more than this (their RSS summed,
	 * checked every 100 ms). */
	int64_t memory_max_kb;
	/* Filled in: */
	int64_t written[2];     /* bytes the child wrote to stdout, stderr */
	int64_t kept[2];        /* of those, bytes the files keep (after the note) */
	int write_errno[2];     /* the first error writing a file (ENOSPC), else 0 */
	int64_t memory_peak_kb; /* the largest sum seen */
	int memory_killed;      /* 1 when memory_max_kb killed it */
};

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
	struct ht_proc_limits *limits; /* optional, borrowed */
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
	/* Private: with limits->output_max, the pipes' read ends and the
	 * files they go to (-1 when not captured). */
	int cap_pipe[2], cap_file[2];
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
/*
 * Makes this process the reaper of its descendants' orphans (Linux's
 * PR_SET_CHILD_SUBREAPER): a process a child leaves behind, even one in a
 * session of its own, stays this one's child, so ht_proc_kill_orphans()
 * finds it. Also makes this process non-dumpable, so that its children
 * (the same user) can neither read its memory and environment through
 * /proc nor trace it; and asks to hear of its parent's death (SIGHUP),
 * which sets ht_stop_signal to SIGTERM, as a stop (a parent killed
 * outright cannot stop it). Returns 0, or -1 when the kernel refuses.
 */
int ht_proc_guard(void);
/*
 * Kills (SIGKILL) and reaps every child of this process, and so, pass by
 * pass, every descendant an earlier pass orphaned; call it when no child
 * of its own should be alive. Returns how many it killed.
 */
int ht_proc_kill_orphans(void);
/* What ht_proc_each() reports of one process, from /proc/PID/stat. */
struct ht_proc_info {
	pid_t pid, ppid, pgrp, session;
	char state;          /* 'R', 'S', 'Z', ... */
	int64_t rss_kb;
};
/*
 * Calls fn for every process in /proc (but pid 1 and zombies when
 * skip_zombies) until it returns nonzero. Returns how many it called fn
 * for.
 */
int ht_proc_each(int skip_zombies, int (*fn)(const struct ht_proc_info *pi, void *ud), void *ud);
/* The RSS of every live process of session sid, summed, in KiB. */
int64_t ht_proc_session_rss_kb(pid_t sid);

/* A one-line description: "exit code 3", "killed by signal 9 (Killed)",
 * "timed out after 1500 ms". Static buffer. */
const char *ht_proc_describe(const struct ht_proc *p);

#endif
