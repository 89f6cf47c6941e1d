/*
 * process.c: stop signals and the descriptor limit (include/ht/process.h).
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "ht/process.h"

volatile sig_atomic_t ht_stop_signal;

/* The default action, made before any signal can come: the handler only
 * passes it to sigaction(), which is async-signal-safe. */
static struct sigaction default_action;

static void on_stop(int sig)
{
	ht_stop_signal = sig;
	sigaction(SIGINT, &default_action, NULL);
	sigaction(SIGTERM, &default_action, NULL);
}

void ht_stop_install(void)
{
	struct sigaction sa;

	memset(&default_action, 0, sizeof(default_action));
	default_action.sa_handler = SIG_DFL;
	sigemptyset(&default_action.sa_mask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sa.sa_flags = 0; /* no SA_RESTART: a wait returns EINTR and looks */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void ht_stop_reraise(void)
{
	int sig = ht_stop_signal;
	struct sigaction dfl;
	sigset_t set;

	if (!sig)
		return;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

long ht_nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;

		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 1024;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LONG_MAX)
		return LONG_MAX;
	return (long)rl.rlim_cur;
}

long ht_nofile_fit(long want, long per, long reserve, long *limit)
{
	long lim = ht_nofile_raise();
	long fit;

	if (limit)
		*limit = lim;
	if (per < 1)
		per = 1;
	if (lim == LONG_MAX || want <= (lim - reserve) / per)
		return want;
	fit = (lim - reserve) / per;
	return fit > 0 ? fit : 1;
}
