/*
 * process.h: what a tool sets up once for its whole process: how SIGINT
 * and SIGTERM stop it, and the limit on open file descriptors.
 *
 * A tool that must write what it knows before it stops (ht-invoke, the
 * results of the tests that finished; ht-runner, the record of the test
 * it stopped) calls ht_stop_install() at start, watches ht_stop_signal,
 * and ends as every tool does, with ht_finish_stdout(): once stdout is out,
 * that re-raises the signal, so the process dies of it. Its parent then
 * knows it was interrupted: a shell running `ht-invoke ...; next` stops
 * there at Ctrl-C, as it would for any program that did not catch it
 * (docs/exit-codes.md). A second signal while it winds down ends it at
 * once.
 *
 * Nothing here allocates; there is nothing to free.
 */
#ifndef HT_PROCESS_H
#define HT_PROCESS_H

#include <signal.h>

/* The signal that asked this process to stop (SIGINT or SIGTERM), or 0.
 * Only the handler sets it. ht_proc's and ht_run_ctx's stop point here. */
extern volatile sig_atomic_t ht_stop_signal;

/*
 * Catches SIGINT and SIGTERM, also when they were ignored (a background
 * job's SIGINT): the first one sets ht_stop_signal and puts both back to
 * their default action, so the next one ends the process at once. System
 * calls it interrupts fail with EINTR, so waits wake up.
 */
void ht_stop_install(void);

/*
 * When a stop signal was caught, dies of it now: its default action back,
 * the signal unblocked in this thread, raised. Returns only when none was
 * caught, or when the signal cannot end this process (the first process
 * of a PID namespace ignores it): the caller's exit code stands then.
 * Call it once everything known is written: ht_finish_stdout() does.
 */
void ht_stop_reraise(void);

/*
 * Raises the soft limit on open file descriptors to the hard limit (the
 * soft one is often 1024, too few for a thousand connections at once).
 * Returns the soft limit in force afterwards, LONG_MAX for none.
 */
long ht_nofile_raise(void);

/*
 * How many of want items (connections, sandboxes) fit in the descriptor
 * limit after ht_nofile_raise(), when each takes per descriptors and the
 * process needs reserve more for itself. Returns want when they all fit,
 * else the number that do (at least 1); *limit, when not NULL, gets the
 * limit.
 */
long ht_nofile_fit(long want, long per, long reserve, long *limit);

#endif
