/*
 * overlay.c: the local provider's writable places (local.writable_task,
 * local.writable_root; docs/local-provider.md, "Writable overlays").
 *
 * Debian 12's bwrap (0.8.0) has no overlay options, and a sandbox must not
 * keep CAP_SYS_ADMIN (it could remount the host's binds writable). So the
 * overlays are mounted before bwrap starts, by the process that then
 * becomes bwrap: it enters a mount namespace of its own (and, unless it is
 * root, a user namespace mapping only its own ids), mounts a tmpfs on an
 * empty scratch directory, and over each directory to make writable an
 * overlay of that directory itself (lowerdir the directory, upper and work
 * directories on the tmpfs), detaches the tmpfs (the overlays keep their
 * own references to it) and execs bwrap, whose binds then see the
 * overlays. The bucket, when it lies in an overlaid directory (the
 * project's .hypertest/bucket), is bound back over its own path first, so
 * that what the runner stores there reaches the host. The sandbox itself gets no capability (for a user, bwrap's
 * nested user namespace cannot touch mounts it did not make), no other
 * sandbox sees the namespace, and the host sees only the empty scratch
 * directory, removed as soon as bwrap runs. When the kernel refuses
 * (overlayfs in a user namespace needs Linux 5.11), ht-runner copies the
 * read-only /var/task into the sandbox's /tmp instead (HT_WRITABLE_TASK).
 *
 * Between fork() and execve() the child calls only async-signal-safe
 * functions (the process has threads): every string is made before.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ht/diag.h"
#include "providers/local/local.h"

/* The error pipe's descriptor in the child: above 0-3, which it sets. */
#define ERR_FD_MIN 10

/* What the child could not do (reported on the pipe with errno). */
enum step {
	STEP_UNSHARE = 1, STEP_SETGROUPS, STEP_UIDMAP, STEP_GIDMAP, STEP_PRIVATE, STEP_TMPFS,
	STEP_MKDIR, STEP_OVERLAY, STEP_DETACH, STEP_KEEP, STEP_EXEC,
};
static const char *const step_names[] = {
	[STEP_UNSHARE] = "unshare", [STEP_SETGROUPS] = "/proc/self/setgroups",
	[STEP_UIDMAP] = "/proc/self/uid_map", [STEP_GIDMAP] = "/proc/self/gid_map",
	[STEP_PRIVATE] = "mount --make-rslave /", [STEP_TMPFS] = "mount tmpfs",
	[STEP_MKDIR] = "mkdir", [STEP_OVERLAY] = "mount overlay", [STEP_DETACH] = "umount",
	[STEP_KEEP] = "mount --bind (the bucket)", [STEP_EXEC] = "exec",
};

/* One report from the child: a step, its errno, and the overlay's index. */
struct report {
	int step, err, index;
};

/* Everything the child needs, made before fork(). */
struct plan {
	char scratch[PATH_MAX];
	int userns;
	char uid_map[64], gid_map[64];
	size_t n;
	char **paths;      /* borrowed */
	char **upper, **work, **opts;
	/* A directory the overlays must not hide (the bucket): bound onto
	 * keep_at on the tmpfs before them, back over its own path after;
	 * or NULL. */
	const char *keep;
	char keep_at[PATH_MAX + 8];
};

/* Appends s to b with the characters overlayfs's options give meaning
 * to (',' between options, ':' between lower layers, '\') escaped. */
static void add_escaped(struct ht_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ',' || *s == ':' || *s == '\\')
			ht_buf_add(b, "\\", 1);
		ht_buf_add(b, s, 1);
	}
}

static void plan_release(struct plan *pl)
{
	size_t i;

	for (i = 0; i < pl->n; i++) {
		free(pl->upper[i]);
		free(pl->work[i]);
		free(pl->opts[i]);
	}
	free(pl->upper);
	free(pl->work);
	free(pl->opts);
	if (pl->scratch[0])
		rmdir(pl->scratch);
	memset(pl, 0, sizeof(*pl));
}

/* Makes the scratch directory and the strings for paths[0..n). */
static int plan_make(struct plan *pl, char **paths, size_t n, int userns, const char *keep, char *why,
		     size_t whylen)
{
	const char *t = getenv("TMPDIR");
	size_t i;

	memset(pl, 0, sizeof(*pl));
	snprintf(pl->scratch, sizeof(pl->scratch), "%s/ht-overlay.XXXXXX", t && *t == '/' ? t : "/tmp");
	if (!mkdtemp(pl->scratch)) {
		snprintf(why, whylen, "cannot create a directory in '%s': %s", t && *t == '/' ? t : "/tmp",
			 strerror(errno));
		pl->scratch[0] = 0;
		return -1;
	}
	for (i = 0; keep && i < n; i++) {
		size_t l = strlen(paths[i]);

		/* Only when an overlay would hide it. */
		if (!strncmp(keep, paths[i], l) && (keep[l] == '/' || !keep[l])) {
			pl->keep = keep;
			snprintf(pl->keep_at, sizeof(pl->keep_at), "%s/keep", pl->scratch);
			break;
		}
	}
	pl->userns = userns;
	snprintf(pl->uid_map, sizeof(pl->uid_map), "%lu %lu 1\n", (unsigned long)getuid(), (unsigned long)getuid());
	snprintf(pl->gid_map, sizeof(pl->gid_map), "%lu %lu 1\n", (unsigned long)getgid(), (unsigned long)getgid());
	pl->n = n;
	pl->paths = paths;
	pl->upper = ht_xcalloc(n + 1, sizeof(char *));
	pl->work = ht_xcalloc(n + 1, sizeof(char *));
	pl->opts = ht_xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		struct ht_buf o;

		pl->upper[i] = ht_xasprintf("%s/u%zu", pl->scratch, i);
		pl->work[i] = ht_xasprintf("%s/w%zu", pl->scratch, i);
		ht_buf_init(&o, 0);
		ht_buf_addstr(&o, "lowerdir=");
		add_escaped(&o, paths[i]);
		ht_buf_addstr(&o, ",upperdir=");
		add_escaped(&o, pl->upper[i]);
		ht_buf_addstr(&o, ",workdir=");
		add_escaped(&o, pl->work[i]);
		/* In a user namespace overlayfs keeps its metadata in user.*
		 * extended attributes (Linux 5.11+; older ones refuse). */
		if (userns)
			ht_buf_addstr(&o, ",userxattr");
		ht_buf_add(&o, "", 1);
		pl->opts[i] = ht_buf_detach(&o);
	}
	return 0;
}

/* --- the child (async-signal-safe only) ----------------------------------- */

static void report_to(int fd, int step, int err, int index)
{
	struct report r = { step, err, index };
	ssize_t w = write(fd, &r, sizeof(r));

	(void)w;
}

static int write_all(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, s, strlen(s));
	close(fd);
	return w == (ssize_t)strlen(s) ? 0 : -1;
}

/*
 * The namespaces and mounts. With keep_going (the probe), an overlay that
 * fails is reported and the others are still tried. Returns 0, or -1
 * after reporting the step that failed on errfd.
 */
static int child_setup(const struct plan *pl, int errfd, int keep_going)
{
	size_t i;
	int failed = 0;

	if (unshare(CLONE_NEWNS | (pl->userns ? CLONE_NEWUSER : 0)) < 0)
		return report_to(errfd, STEP_UNSHARE, errno, -1), -1;
	if (pl->userns) {
		if (write_all("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
			return report_to(errfd, STEP_SETGROUPS, errno, -1), -1;
		if (write_all("/proc/self/uid_map", pl->uid_map) < 0)
			return report_to(errfd, STEP_UIDMAP, errno, -1), -1;
		if (write_all("/proc/self/gid_map", pl->gid_map) < 0)
			return report_to(errfd, STEP_GIDMAP, errno, -1), -1;
	}
	/* Nothing mounted here may reach the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return report_to(errfd, STEP_PRIVATE, errno, -1), -1;
	if (mount("ht-overlay", pl->scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		return report_to(errfd, STEP_TMPFS, errno, -1), -1;
	if (pl->keep && (mkdir(pl->keep_at, 0700) < 0 || mount(pl->keep, pl->keep_at, NULL, MS_BIND | MS_REC, NULL) < 0))
		return report_to(errfd, STEP_KEEP, errno, -1), -1;
	for (i = 0; i < pl->n; i++) {
		struct stat st;

		if (mkdir(pl->upper[i], 0755) < 0 || mkdir(pl->work[i], 0700) < 0)
			return report_to(errfd, STEP_MKDIR, errno, (int)i), -1;
		/* The overlay's top directory is its upper one's: give it the
		 * lower one's owner (root can; a user, only its own) and mode. */
		if (stat(pl->paths[i], &st) == 0) {
			if (chown(pl->upper[i], st.st_uid, st.st_gid) < 0) {
				/* not ours to give: it stays the user's */
			}
			chmod(pl->upper[i], st.st_mode & 07777);
		}
		if (mount("overlay", pl->paths[i], "overlay", 0, pl->opts[i]) < 0) {
			report_to(errfd, STEP_OVERLAY, errno, (int)i);
			if (!keep_going)
				return -1;
			failed = 1;
		}
	}
	if (!failed && pl->keep && mount(pl->keep_at, pl->keep, NULL, MS_BIND | MS_REC, NULL) < 0)
		return report_to(errfd, STEP_KEEP, errno, -1), -1;
	if (!failed && umount2(pl->scratch, MNT_DETACH) < 0)
		return report_to(errfd, STEP_DETACH, errno, -1), -1;
	return failed ? -1 : 0;
}

/* Closes every descriptor from `from` on but keep. */
static void close_from(int from, int keep)
{
#ifdef SYS_close_range
	if (keep >= from) {
		if ((keep == from || syscall(SYS_close_range, (unsigned)from, (unsigned)keep - 1, 0) == 0) &&
		    syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0) == 0)
			return;
	} else if (syscall(SYS_close_range, (unsigned)from, ~0u, 0) == 0) {
		return;
	}
#endif
	for (int fd = from; fd < 4096; fd++)
		if (fd != keep)
			close(fd);
}

/* dup2 that also clears close-on-exec when from == to. */
static int move_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

/* --- the parent ----------------------------------------------------------- */

/*
 * Forks a child that does pl's setup. With argv, it then becomes argv
 * (the descriptors and signals of a sandbox); without, it exits (the
 * probe). Reads the child's reports (at most max into reps) until its
 * exec or exit closes the pipe. Returns the pid (reaped already for the
 * probe, and on a failure), or -1 when fork failed; *nrep reports.
 */
static pid_t run_child(const struct plan *pl, char *const *argv, char *const *envp, int out_fd, int afd,
		       int evfd, struct report *reps, int max, int *nrep)
{
	sigset_t all, old;
	int fds[2], errfd, devnull = -1, st;
	pid_t pid;

	*nrep = 0;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	errfd = fcntl(fds[1], F_DUPFD_CLOEXEC, ERR_FD_MIN);
	close(fds[1]);
	if (errfd < 0) {
		close(fds[0]);
		return -1;
	}
	if (argv)
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		struct sigaction dfl;
		int sig;

		close(fds[0]);
		if (argv) {
			memset(&dfl, 0, sizeof(dfl));
			dfl.sa_handler = SIG_DFL;
			for (sig = 1; sig < NSIG; sig++)
				if (sig != SIGKILL && sig != SIGSTOP)
					sigaction(sig, &dfl, NULL);
		}
		/* The mounts, then the descriptors of a sandbox. */
		if (child_setup(pl, errfd, !argv) < 0)
			_exit(126);
		if (!argv)
			_exit(0);
		{
			if (devnull < 0 || move_fd(devnull, 0) < 0 ||
			    move_fd(out_fd >= 0 ? out_fd : devnull, 1) < 0 ||
			    move_fd(out_fd >= 0 ? out_fd : devnull, 2) < 0 ||
			    (afd >= 0 && move_fd(afd, 3) < 0) || (evfd >= 0 && move_fd(evfd, 4) < 0)) {
				report_to(errfd, STEP_EXEC, errno, -1);
				_exit(127);
			}
			close_from(evfd >= 0 ? 5 : afd >= 0 ? 4 : 3, errfd);
			setsid();
		}
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(argv[0], argv, envp);
		report_to(errfd, STEP_EXEC, errno, -1);
		_exit(127);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(errfd);
	if (devnull >= 0)
		close(devnull);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	for (;;) {
		struct report r;
		ssize_t n = read(fds[0], &r, sizeof(r));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(r))
			break;
		if (*nrep < max)
			reps[(*nrep)++] = r;
	}
	close(fds[0]);
	if (!argv || *nrep)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	return pid;
}

/* "mount overlay on '/x': Invalid argument" for report r. */
static void describe(const struct plan *pl, const struct report *r, char *buf, size_t n)
{
	const char *step = r->step > 0 && r->step <= STEP_EXEC ? step_names[r->step] : "setup";

	if (r->index >= 0 && (size_t)r->index < pl->n)
		snprintf(buf, n, "%s on '%s': %s", step, pl->paths[r->index], strerror(r->err));
	else
		snprintf(buf, n, "%s: %s", step, strerror(r->err));
}

pid_t local_overlay_spawn(const struct local_box *b, char *const *argv, char *const *envp, int out_fd,
			  int afd, int evfd, char *why, size_t whylen)
{
	struct plan pl;
	struct report r;
	int nrep;
	pid_t pid;

	if (plan_make(&pl, b->ov_paths, b->nov, b->ov_userns, b->bucket, why, whylen) < 0)
		return -1;
	pid = run_child(&pl, argv, envp, out_fd, afd, evfd, &r, 1, &nrep);
	if (pid < 0) {
		snprintf(why, whylen, "cannot start a sandbox: %s", strerror(errno));
	} else if (nrep) {
		char d[PATH_MAX + 64];

		describe(&pl, &r, d, sizeof(d));
		if (r.step == STEP_EXEC)
			snprintf(why, whylen, "cannot run '%s': %s", argv[0], strerror(r.err));
		else
			snprintf(why, whylen, "cannot mount the sandbox's overlay: %s", d);
		pid = -1;
	}
	plan_release(&pl);
	return pid;
}

/*
 * Tries paths' overlays in a child that exits afterwards, first without a
 * user namespace when root. Sets *userns to the way that worked and
 * fails[i] to the errno of each overlay refused (0: fine). Returns 0 when
 * the namespace could be set up, else -1 with why.
 */
static int probe(char **paths, size_t n, int *userns, int *fails, char *why, size_t whylen)
{
	struct report reps[64];
	struct plan pl;
	int attempt, nrep, i;

	for (attempt = getuid() == 0 ? 0 : 1; attempt < 2; attempt++) {
		int general = 0;

		if (plan_make(&pl, paths, n, attempt, NULL, why, whylen) < 0)
			return -1;
		if (run_child(&pl, NULL, NULL, -1, -1, -1, reps, 64, &nrep) < 0) {
			snprintf(why, whylen, "fork: %s", strerror(errno));
			plan_release(&pl);
			return -1;
		}
		memset(fails, 0, n * sizeof(*fails));
		for (i = 0; i < nrep; i++) {
			if (reps[i].step == STEP_OVERLAY && reps[i].index >= 0 && (size_t)reps[i].index < n) {
				fails[reps[i].index] = reps[i].err;
			} else if (!general) {
				general = 1;
				describe(&pl, &reps[i], why, whylen);
			}
		}
		/* Every overlay refused: say why with the first. */
		if (!general && n && nrep == (int)n) {
			general = 1;
			describe(&pl, &reps[0], why, whylen);
		}
		plan_release(&pl);
		if (!general) {
			*userns = attempt;
			return 0;
		}
	}
	return -1;
}

/* --- choosing --------------------------------------------------------------- */

static void paths_add(struct local_box *b, const char *path)
{
	b->ov_paths = ht_xrealloc(b->ov_paths, sizeof(char *) * (b->nov + 2));
	b->ov_paths[b->nov++] = ht_xstrdup(path);
	b->ov_paths[b->nov] = NULL;
}

static void paths_clear(struct local_box *b)
{
	size_t i;

	for (i = 0; i < b->nov; i++)
		free(b->ov_paths[i]);
	free(b->ov_paths);
	b->ov_paths = NULL;
	b->nov = 0;
	b->ov_task = 0;
}

int local_overlay_choose(struct local_box *b, struct local_choice *c)
{
	const char *via = b->via ? b->via : "auto";
	const char *what = b->writable_root ? "local.writable_root" : "local.writable_task";
	char why[320];
	int fail = 0, userns = 0;
	char *one[2] = { b->root, NULL };

	b->copy_task = 0;
	paths_clear(b);
	if (!b->writable)
		return 0;
	if (!b->use_bwrap) {
		/* A plain process's project is the real one: a copy keeps
		 * its writes private. */
		b->copy_task = 2;
		snprintf(c->writable, sizeof(c->writable), "%s: without a sandbox, the project is copied into "
			 "each sandbox's private directory", what);
		return 0;
	}
	if (!strcmp(via, "copy")) {
		b->copy_task = 1;
		snprintf(c->writable, sizeof(c->writable), "%s: the project is copied into each sandbox's /tmp "
			 "(local.writable_via is \"copy\")%s", what,
			 b->writable_root ? "; the root stays read-only" : "");
		return 0;
	}
	if (probe(one, 1, &userns, &fail, why, sizeof(why)) == 0 && !fail) {
		b->ov_userns = userns;
		snprintf(c->writable, sizeof(c->writable), "%s: overlayfs works here (%s)", what,
			 userns ? "in a user namespace" : "as root");
		return 0;
	}
	if (fail)
		snprintf(why, sizeof(why), "mount overlay on '%.200s': %s", b->root, strerror(fail));
	if (!strcmp(via, "overlay")) {
		c->verdict = LOCAL_UNAVAILABLE;
		c->cause = LOCAL_CAUSE_OVERLAY;
		c->fix = "overlayfs in a user namespace needs Linux 5.11 or later (or run as root); "
			 "or set local.writable_via to \"auto\" or \"copy\"";
		snprintf(c->message, sizeof(c->message), "%s: overlayfs does not work here (%s), and "
			 "local.writable_via is \"overlay\"", what, why);
		snprintf(c->writable, sizeof(c->writable), "%.500s", c->message);
		return -1;
	}
	b->copy_task = 1;
	snprintf(c->note, sizeof(c->note), "%s: overlayfs does not work here (%s): the project is copied "
		 "into each sandbox's /tmp instead%s", what, why,
		 b->writable_root ? ", and the root stays read-only" : "");
	snprintf(c->writable, sizeof(c->writable), "%.500s", c->note);
	return 0;
}

int local_overlay_has(const struct local_box *b, const char *path)
{
	size_t i;

	for (i = 0; i < b->nov; i++)
		if (!strcmp(b->ov_paths[i], path))
			return 1;
	return 0;
}

/* Adds every directory of src + dir ("/" or "/var/") but skip's. */
static void add_dirs(struct local_box *b, const char *src, const char *dir, const char *const *skip)
{
	char *from = ht_xasprintf("%s%s", src, dir);
	struct dirent **names = NULL;
	int n, i, k;

	n = scandir(from, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		char *path = ht_xasprintf("%s%s", from, nm);
		struct stat st;
		int skipped = !strcmp(nm, ".") || !strcmp(nm, "..");

		for (k = 0; skip[k]; k++)
			skipped |= !strcmp(nm, skip[k]);
		/* Not /sys: sysfs is no overlay's lower layer. */
		skipped |= !strcmp(dir, "/") && !strcmp(nm, "sys");
		if (!skipped && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			paths_add(b, path);
		free(path);
		free(names[i]);
	}
	free(names);
	free(from);
}

void local_overlay_paths(struct local_box *b, const char *src, const char *const *top_skip,
			 const char *const *var_skip)
{
	char *task = b->img ? ht_xasprintf("%s%s", src, LOCAL_SANDBOX_TASK) : ht_xstrdup(b->root);
	struct ht_buf refused;
	int *fails, userns = b->ov_userns, general = 0;
	char why[PATH_MAX + 128];
	struct stat st;
	size_t i, j;

	paths_clear(b);
	if (!b->writable || b->copy_task || !b->use_bwrap) {
		free(task);
		return;
	}
	if (b->writable_root) {
		add_dirs(b, src, "/", top_skip);
		add_dirs(b, src, "/var/", var_skip);
	}
	/* The project last: in host mode it may lie in an overlaid
	 * directory, and its own overlay goes on top. An image's is one of
	 * its /var's. */
	if (!local_overlay_has(b, task) && stat(task, &st) == 0 && S_ISDIR(st.st_mode))
		paths_add(b, task);
	b->ov_task = local_overlay_has(b, task);
	if (b->writable_root && b->nov) {
		/* Every directory of the root: keep those overlayfs takes. */
		fails = ht_xcalloc(b->nov, sizeof(*fails));
		ht_buf_init(&refused, 0);
		if (probe(b->ov_paths, b->nov, &userns, fails, why, sizeof(why)) < 0) {
			ht_warning("local.writable_root: overlayfs refuses the root (%s): it stays read-only", why);
			general = 1;
			for (i = 0; i < b->nov; i++)
				fails[i] = EINVAL;
		}
		for (i = j = 0; i < b->nov; i++) {
			if (fails[i]) {
				if (!general)
					ht_buf_addf(&refused, "%s'%s' (%s)", refused.len ? ", " : "",
						    b->ov_paths[i], strerror(fails[i]));
				free(b->ov_paths[i]);
			} else {
				b->ov_paths[j++] = b->ov_paths[i];
			}
		}
		b->nov = j;
		b->ov_paths[j] = NULL;
		if (refused.len)
			ht_warning("local.writable_root: overlayfs refuses %.*s: read-only in the sandbox",
				   (int)refused.len, refused.data);
		ht_buf_release(&refused);
		free(fails);
	}
	b->ov_task = local_overlay_has(b, task);
	if (!b->ov_task)
		b->copy_task = 1; /* the project, at least, by a copy */
	free(task);
}
