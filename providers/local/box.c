/*
 * box.c: how the local provider makes a sandbox: where the project, the
 * bucket and ht-runner are, whether bwrap works (the one probe, which
 * ht-doctor's check runs too), the bwrap arguments that make the root, the
 * environment, and the spawn itself. See local.h and
 * docs/local-provider.md, "The sandbox".
 *
 * The environment never goes on a command line (where any user can read
 * it in /proc/PID/cmdline): a plain process gets it as its environment,
 * bwrap as `--setenv K V` arguments read from a memfd (`--args FD`) after
 * `--clearenv`, so it applies inside the sandbox only, as before, and not
 * to bwrap itself (a setuid bwrap would drop LD_* variables, a
 * LD_LIBRARY_PATH meant for the image would load the host's bwrap).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ht/diag.h"
#include "ht/exit.h"
#include "providers/local/local.h"
#include "providers/local/settings.h"

/* How long the probe may take. */
#define PROBE_TIMEOUT_MS 10000
/* The descriptor bwrap reads its environment arguments from. */
#define ARGS_FD 3

extern char **environ;

void local_box_init(struct local_box *b)
{
	memset(b, 0, sizeof(*b));
	ht_buf_init(&b->root_args, 0);
}

void local_box_release(struct local_box *b)
{
	size_t i;

	for (i = 0; i < b->nenv; i++)
		free(b->env[i]);
	free(b->env);
	ht_buf_release(&b->root_args);
	free(b->bwrap);
	free(b->runner);
	free(b->root);
	free(b->bucket);
	for (i = 0; i < b->nov; i++)
		free(b->ov_paths[i]);
	free(b->ov_paths);
	free(b->via);
	free(b->probe_cache);
	local_box_init(b);
}

/*
 * What the probe depends on, as a digest: bwrap itself (path, inode,
 * size, time), who asks, the kernel, its user-namespace switches, and
 * the arguments probed. The same digest: the same answer.
 */
static void probe_key(const struct local_box *b, char out[HT_SHA256_HEX_LEN + 1])
{
	static const char *const knobs[] = { "/proc/sys/kernel/unprivileged_userns_clone",
					     "/proc/sys/user/max_user_namespaces",
					     "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", NULL };
	struct ht_buf k;
	struct utsname u;
	struct stat st;
	char line[256];
	int i;

	ht_buf_init(&k, 0);
	memset(&st, 0, sizeof(st));
	stat(b->bwrap, &st);
	ht_buf_addf(&k, "%s %llu %llu %lld %lld.%09ld uid %u\n", b->bwrap, (unsigned long long)st.st_dev,
		    (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		    st.st_mtim.tv_nsec, (unsigned)getuid());
	if (uname(&u) == 0)
		ht_buf_addf(&k, "%s %s %s\n", u.sysname, u.release, u.version);
	for (i = 0; knobs[i]; i++) {
		FILE *f = fopen(knobs[i], "re");

		line[0] = 0;
		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = 0;
			fclose(f);
		}
		ht_buf_addf(&k, "%s=%s\n", knobs[i], line);
	}
	ht_buf_add(&k, b->root_args.data ? b->root_args.data : "", b->root_args.len);
	ht_sha256_hex(k.data ? k.data : "", k.len, out);
	ht_buf_release(&k);
}

/* 1 when the cache says the probe of this key passed. */
static int probe_known(const struct local_box *b, const char *key)
{
	char got[HT_SHA256_HEX_LEN + 2] = "";
	FILE *f;

	if (!b->probe_cache || !(f = fopen(b->probe_cache, "re")))
		return 0;
	if (!fgets(got, sizeof(got), f))
		got[0] = 0;
	fclose(f);
	return strlen(got) == HT_SHA256_HEX_LEN && !strcmp(got, key);
}

static void probe_remember(const struct local_box *b, const char *key)
{
	if (b->probe_cache && ht_write_file_atomic(b->probe_cache, key, strlen(key), 0644) < 0)
		ht_debug("cannot keep the bwrap probe's answer in '%s'", b->probe_cache);
}

void local_box_probe_forget(const struct local_box *b)
{
	if (b->probe_cache && b->use_bwrap)
		unlink(b->probe_cache);
}

const char *local_describe_status(int st, char *buf, size_t n)
{
	if (WIFEXITED(st))
		snprintf(buf, n, "exit code %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, n, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(buf, n, "status %d", st);
	return buf;
}

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

/* Finds ht-runner: in opts->bin, else $HT_BIN, else next to this program. */
static char *find_runner(const struct ht_provider_opts *opts)
{
	const char *bin = opts && opts->bin ? opts->bin : getenv("HT_BIN");
	char *self, *f;

	if (bin && *bin) {
		f = ht_xasprintf("%s/ht-runner", bin);
		if (access(f, X_OK) == 0)
			return f;
		free(f);
	}
	self = ht_self_dir();
	f = self ? ht_path_join(self, "ht-runner") : NULL;
	free(self);
	if (f && access(f, X_OK) == 0)
		return f;
	free(f);
	return NULL;
}

/* An absolute version of path (relative to base when it is relative). */
static char *absolute(const char *base, const char *path)
{
	char *joined = ht_path_resolve(base, path);
	char *real = realpath(joined, NULL);

	if (real) {
		free(joined);
		return real;
	}
	return joined;
}

int local_box_paths(struct local_box *b, const struct ht_config *cfg,
		    const struct ht_provider_opts *opts, int create, int *code, char *why, size_t whylen)
{
	const struct ht_local_settings *ls = ht_local_settings(cfg);
	const char *root_kind = ls->root ? ls->root : "host";
	char *bucket;

	b->image_mode = !strcmp(root_kind, "image");
	b->tmp_mb = ls->tmp_mb > 0 ? ls->tmp_mb : 512;
	b->writable_root = ls->writable_root;
	b->writable = ls->writable_task || ls->writable_root;
	b->task_same = ls->task_path && !strcmp(ls->task_path, "same");
	free(b->via);
	b->via = ht_xstrdup(ls->writable_via ? ls->writable_via : "auto");
	if (b->task_same && b->image_mode) {
		*code = HT_EXIT_CONFIG;
		snprintf(why, whylen, "local.task_path 'same' needs local.root 'host': an image's project "
			 "is at /var/task only");
		return -1;
	}
	if (!b->image_mode) {
		b->runner = find_runner(opts);
		if (!b->runner) {
			*code = HT_EXIT_UNAVAILABLE;
			snprintf(why, whylen, "cannot find 'ht-runner' next to this program or in $HT_BIN");
			return -1;
		}
	}
	b->root = absolute(".", cfg->root ? cfg->root : ".");
	bucket = ht_local_bucket_dir(cfg);
	if (create && ht_mkdir_p(bucket, 0755) < 0) {
		*code = HT_EXIT_IOERR;
		snprintf(why, whylen, "cannot create '%s': %s", bucket, strerror(errno));
		free(bucket);
		return -1;
	}
	b->bucket = absolute(".", bucket);
	free(bucket);
	return 0;
}

/* --- the root ------------------------------------------------------------ */

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
static int bind_entries(struct ht_buf *b, const struct local_box *box, const char *src, const char *dir,
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
			/* An overlay of the entry over itself (overlay.c) is
			 * bound writable. */
			add_arg(b, local_overlay_has(box, path) ? "--bind" : "--ro-bind");
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
 * the host's, or the unpacked image b->img (its own /var/task holds the
 * project). Either is read-only. bwrap cannot create mount points on a
 * read-only bind, so the root is a tmpfs holding read-only binds of every
 * entry of the root (and of its /var), made read-only itself at the end.
 * The writable keys turn some read-only binds into writable binds of
 * overlays (overlay.c); local.task_path "same" binds the project at its
 * host path too, as the working directory.
 */
int local_box_root_args(struct local_box *b)
{
	static const char *const top_skip[] = { "proc", "dev", "tmp", "var", NULL };
	static const char *const host_var_skip[] = { "task", "bucket", "runtime", NULL };
	static const char *const image_var_skip[] = { "bucket", NULL };
	struct ht_buf *a = &b->root_args;
	const char *src = b->img ? b->img->tree : "";

	ht_buf_release(a);
	ht_buf_init(a, 0);
	if (b->img) {
		char *var = ht_xasprintf("%s/var", src);
		struct stat st;

		/* A /var that is a link would let the binds below leave the tree. */
		if (lstat(var, &st) == 0 && !S_ISDIR(st.st_mode)) {
			ht_error("image '%s': /var is not a directory", b->img->ref);
			free(var);
			return -1;
		}
		free(var);
	}
	local_overlay_paths(b, src, top_skip, b->img ? image_var_skip : host_var_skip);
	if (bind_entries(a, b, src, "/", top_skip, 0) < 0 ||
	    bind_entries(a, b, src, "/var/", b->img ? image_var_skip : host_var_skip, b->img != NULL) < 0)
		return -1;
	/* /tmp has a size, as Lambda's ephemeral storage: a test that fills
	 * it fails (ENOSPC), not the machine's memory. */
	{
		char size[32];

		snprintf(size, sizeof(size), "%lld", (long long)(b->tmp_mb > 0 ? b->tmp_mb : 512) * 1024 * 1024);
		add_arg(a, "--size");
		add_arg(a, size);
	}
	add_arg(a, "--tmpfs");
	add_arg(a, "/tmp");
	add_arg(a, "--proc");
	add_arg(a, "/proc");
	add_arg(a, "--dev");
	add_arg(a, "/dev");
	if (!b->img) {
		add_arg(a, b->ov_task ? "--bind" : "--ro-bind");
		add_arg(a, b->root);
		add_arg(a, LOCAL_SANDBOX_TASK);
		if (b->task_same) {
			add_arg(a, b->ov_task ? "--bind" : "--ro-bind");
			add_arg(a, b->root);
			add_arg(a, b->root);
		}
		if (b->runner) {
			add_arg(a, "--ro-bind");
			add_arg(a, b->runner);
			add_arg(a, LOCAL_SANDBOX_RUNNER);
		}
	}
	add_arg(a, "--bind");
	add_arg(a, b->bucket);
	add_arg(a, LOCAL_SANDBOX_BUCKET);
	add_arg(a, "--remount-ro");
	add_arg(a, "/");
	add_arg(a, "--chdir");
	add_arg(a, b->img ? b->img->working_dir : b->task_same ? b->root : LOCAL_SANDBOX_TASK);
	add_arg(a, "--unshare-pid");
	if (geteuid() == 0) {
		/* Run as root, bwrap keeps every capability for the sandbox: a
		 * test could remount the root writable, read any process's
		 * memory or load a module. It keeps what a root process in a
		 * container has (ownership, its own files, setuid, binding low
		 * ports; the set Docker gives), nothing that reaches past it. */
		static const char *const keep[] = {
			"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
			"CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_SETFCAP",
			"CAP_AUDIT_WRITE", NULL
		};
		int k;

		add_arg(a, "--cap-drop");
		add_arg(a, "ALL");
		for (k = 0; keep[k]; k++) {
			add_arg(a, "--cap-add");
			add_arg(a, keep[k]);
		}
	}
	add_arg(a, "--die-with-parent");
	add_arg(a, "--new-session");
	add_arg(a, "--clearenv");
	return 0;
}

/* --- the environment ----------------------------------------------------- */

static void env_add(struct local_box *b, const char *kv)
{
	b->env = ht_xrealloc(b->env, sizeof(*b->env) * (b->nenv + 2));
	b->env[b->nenv++] = ht_xstrdup(kv);
	b->env[b->nenv] = NULL;
}

static void env_addf(struct local_box *b, const char *k, const char *v)
{
	char *kv = ht_xasprintf("%s=%s", k, v);

	env_add(b, kv);
	free(kv);
}

/*
 * The sandbox's environment, in order (a later entry wins): in image mode
 * the image's Env first; then the Lambda variables and the bucket; PATH,
 * LANG and TZ defaults unless the image set them; then runner.env.
 */
void local_box_env(struct local_box *b, const struct ht_config *cfg)
{
	static const char *const pass[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL };
	char *const *ienv = b->img ? b->img->env : NULL;
	long mem = ht_local_settings(cfg)->memory_mb;
	const char *v;
	char num[32], *s;
	int i;

	for (i = 0; ienv && ienv[i]; i++)
		if (strchr(ienv[i], '=') && ienv[i][0] != '=')
			env_add(b, ienv[i]);
	env_addf(b, "AWS_LAMBDA_FUNCTION_NAME", "hypertest-local");
	env_addf(b, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
	snprintf(num, sizeof(num), "%ld", mem > 0 ? mem : 3008);
	env_addf(b, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", num);
	/* ht-runner says when a test starts (test-started): a runner that
	 * dies after that was killed by its test. And it speaks on a socket
	 * of the sandbox's own (local_box_spawn's chan_fd) what it would ask
	 * the Runtime API, where it can. */
	if (!b->as_lambda) {
		char ch[16];

		env_addf(b, "HT_RUNTIME_TEST_EVENTS", "1");
		snprintf(ch, sizeof(ch), "fd:%d", local_box_chan_fd(b));
		env_addf(b, "HT_RUNTIME_CHANNEL", ch);
	}
	/* ht-runner enforces it (Lambda does its own). */
	if (mem > 0)
		env_addf(b, "HT_MEMORY_LIMIT_MB", num);
	env_addf(b, "AWS_REGION", "local");
	env_addf(b, "LAMBDA_TASK_ROOT", b->use_bwrap && !b->task_same ? LOCAL_SANDBOX_TASK : b->root);
	/* The fallback of the writable keys: ht-runner copies the project. */
	if (b->copy_task) {
		const char *sd = cfg->state_dir ? cfg->state_dir : HT_STATE_DIR_DEFAULT;
		size_t rl = strlen(b->root);

		env_addf(b, "HT_WRITABLE_TASK", b->copy_task == 2 ? "always" : "1");
		/* Not the state directory (the bucket, images) when it is in
		 * the project. */
		if (sd[0] == '/' && !strncmp(sd, b->root, rl) && sd[rl] == '/')
			sd += rl + 1;
		if (sd[0] && sd[0] != '/')
			env_addf(b, "HT_WRITABLE_TASK_EXCLUDE", sd);
	}
	if (b->use_bwrap)
		env_addf(b, "HOME", "/tmp");
	/* A fixed PATH, as in Lambda (runner.env may change it). */
	if (!local_image_env_has(ienv, "PATH"))
		env_addf(b, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	v = getenv("LANG");
	if (!local_image_env_has(ienv, "LANG"))
		env_addf(b, "LANG", v && *v ? v : "C.UTF-8");
	v = getenv("TZ");
	if (!local_image_env_has(ienv, "TZ"))
		env_addf(b, "TZ", v && *v ? v : ":UTC");
	s = ht_xasprintf("file://%s", b->use_bwrap ? LOCAL_SANDBOX_BUCKET : b->bucket);
	env_addf(b, "HT_BUCKET", s);
	free(s);
	for (i = 0; pass[i]; i++)
		if ((v = getenv(pass[i])))
			env_addf(b, pass[i], v);
	for (i = 0; i < cfg->runner.env.n; i++)
		if (strchr(cfg->runner.env.v[i], '='))
			env_add(b, cfg->runner.env.v[i]);
}

/* --- spawning ------------------------------------------------------------ */

static void argv_add(char ***v, size_t *n, const char *s)
{
	*v = ht_xrealloc(*v, sizeof(**v) * (*n + 2));
	(*v)[(*n)++] = (char *)s;
	(*v)[*n] = NULL;
}

/* Adds "--setenv K V" for each "K=V" of env to a. */
static void setenv_args(struct ht_buf *a, char *const *env)
{
	size_t i;

	for (i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');

		if (!eq || eq == env[i])
			continue;
		add_arg(a, "--setenv");
		ht_buf_add(a, env[i], (size_t)(eq - env[i]));
		ht_buf_add(a, "", 1);
		add_arg(a, eq + 1);
	}
}

/* A memfd holding the NUL-separated arguments a, at offset 0; -1 with
 * why on an error. */
static int args_fd(const struct ht_buf *a, char *why, size_t whylen)
{
	int fd = memfd_create("ht-sandbox-env", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0) {
		snprintf(why, whylen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	while (off < a->len) {
		ssize_t w = write(fd, a->data + off, a->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(why, whylen, "cannot write the sandbox's environment: %s", strerror(errno));
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(why, whylen, "lseek: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (fd == ARGS_FD) {
		/* A dup2 onto itself would leave it close-on-exec. */
		int moved = fcntl(fd, F_DUPFD_CLOEXEC, ARGS_FD + 1);

		close(fd);
		if (moved < 0)
			snprintf(why, whylen, "fcntl: %s", strerror(errno));
		fd = moved;
	}
	return fd;
}

int local_box_chan_fd(const struct local_box *b)
{
	return b->use_bwrap ? ARGS_FD + 1 : ARGS_FD;
}

pid_t local_box_spawn(const struct local_box *b, char *const *cmd, char *const *extra_env,
		      int out_fd, int chan_fd, const char *cwd, char *why, size_t whylen)
{
	static char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	static char *const bwrap_env[] = { path, NULL };
	char **argv = NULL, **envp = NULL;
	size_t argc = 0, envc = 0, off, i;
	struct ht_buf setenvs;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid = -1;
	int err, afd = -1;

	ht_buf_init(&setenvs, 0);
	if (b->use_bwrap) {
		argv_add(&argv, &argc, b->bwrap);
		for (off = 0; off < b->root_args.len; off += strlen(b->root_args.data + off) + 1)
			argv_add(&argv, &argc, b->root_args.data + off);
		/* After --clearenv (the end of the root's arguments). */
		setenv_args(&setenvs, b->env);
		setenv_args(&setenvs, extra_env);
		afd = args_fd(&setenvs, why, whylen);
		if (afd < 0)
			goto out;
		argv_add(&argv, &argc, "--args");
		argv_add(&argv, &argc, "3");
		argv_add(&argv, &argc, "--");
	}
	for (i = 0; cmd[i]; i++)
		argv_add(&argv, &argc, cmd[i]);
	if (!b->use_bwrap) {
		for (i = 0; i < b->nenv; i++)
			argv_add(&envp, &envc, b->env[i]);
		for (i = 0; extra_env && extra_env[i]; i++)
			argv_add(&envp, &envc, extra_env[i]);
		if (!envp)
			argv_add(&envp, &envc, path);
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out_fd >= 0) {
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
		posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	} else {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	if (afd >= 0)
		posix_spawn_file_actions_adddup2(&fa, afd, ARGS_FD);
	/* After the arguments' (afd may be the number it takes; chan_fd
	 * is above both, see local.h). */
	if (chan_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, chan_fd, local_box_chan_fd(b));
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
	/* Nothing else of ours (or of our caller's) leaks into a sandbox,
	 * O_CLOEXEC or not. */
	posix_spawn_file_actions_addclosefrom_np(&fa, chan_fd >= 0 ? local_box_chan_fd(b) + 1 :
						 afd >= 0 ? ARGS_FD + 1 : 3);
#endif
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (b->use_bwrap && b->nov) {
		/* The overlays are mounted before bwrap runs (overlay.c). */
		pid = local_overlay_spawn(b, argv, bwrap_env, out_fd, afd, chan_fd, why, whylen);
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&attr);
		goto out;
	}
	err = posix_spawn(&pid, argv[0], &fa, &attr, argv, b->use_bwrap ? bwrap_env : envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err) {
		snprintf(why, whylen, "cannot run '%s': %s", argv[0], strerror(err));
		pid = -1;
	}
out:
	if (afd >= 0)
		close(afd);
	ht_buf_release(&setenvs);
	free(argv);
	free(envp);
	return pid;
}

/* --- the probe ----------------------------------------------------------- */

int local_box_probe(const struct local_box *b, char *status, size_t slen, char *line, size_t llen)
{
	static char prog[] = "true", path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	static char *const cmd[] = { prog, NULL };
	static char *const env[] = { path, NULL };
	int64_t end = ht_now_ms() + PROBE_TIMEOUT_MS;
	char buf[1024], *nl;
	size_t got = 0;
	int fds[2], st = 0, done = 0;
	pid_t pid;

	line[0] = status[0] = 0;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(status, slen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = local_box_spawn(b, cmd, env, fds[1], -1, NULL, status, slen);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	/* Its output until EOF (or the deadline), then its status. */
	for (;;) {
		struct pollfd pf = { fds[0], POLLIN, 0 };
		int64_t left = end - ht_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pf, 1, (int)left) == 0)
			break;
		n = read(fds[0], buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(buf) - 1)
			break;
	}
	close(fds[0]);
	while (!done) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			done = 1;
		else if (r < 0 && errno != EINTR)
			break;
		else if (ht_now_ms() >= end)
			break;
		else
			ht_sleep_ms(1); /* bwrap ends a moment after its child closed the pipe */
	}
	if (!done) {
		/* Its whole session: bwrap's children too. */
		kill(-pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		snprintf(status, slen, "no answer within %d s", PROBE_TIMEOUT_MS / 1000);
		return -1;
	}
	buf[got] = 0;
	if ((nl = strchr(buf, '\n')))
		*nl = 0;
	snprintf(line, llen, "%s", buf);
	local_describe_status(st, status, slen);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* What to do about a probe that failed, from what bwrap said. */
static const char *broken_fix(const char *line)
{
	if (strstr(line, "Unknown option") || strstr(line, "unrecognized option"))
		return "this bwrap is too old for the sandbox's options: install bubblewrap 0.5 or later, "
		       "or set local.sandbox to \"none\"";
	if (strstr(line, "namespace") || strstr(line, "uid map") || strstr(line, "Operation not permitted") ||
	    strstr(line, "No permissions"))
		return "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on "
		       "Ubuntu, kernel.apparmor_restrict_unprivileged_userns=0), or set local.sandbox to \"none\"";
	return "see bwrap's message above; or set local.sandbox to \"none\" to run tests as plain processes";
}

int local_box_choose(struct local_box *b, const struct ht_config *cfg, struct local_choice *c)
{
	static const char install[] = "install bubblewrap (apt-get install bubblewrap), or set local.sandbox to \"none\"";
	const char *mode = ht_local_settings(cfg)->sandbox ? ht_local_settings(cfg)->sandbox : "auto";
	const char *why;
	int ok;

	memset(c, 0, sizeof(*c));
	b->use_bwrap = 0;
	free(b->bwrap);
	b->bwrap = NULL;
	if (!strcmp(mode, "none")) {
		if (b->image_mode) {
			/* Only bwrap can give a sandbox another root: plain
			 * processes would run the host's files and only pretend
			 * to run the image. */
			c->verdict = LOCAL_UNAVAILABLE;
			c->cause = LOCAL_CAUSE_IMAGE_NONE;
			c->fix = "set local.sandbox to \"auto\" or \"bwrap\", or local.root to \"host\"";
			snprintf(c->message, sizeof(c->message),
				 "local.root 'image' needs bwrap: local.sandbox 'none' cannot change the root "
				 "(use local.sandbox 'auto' or 'bwrap', or local.root 'host')");
			return -1;
		}
		c->verdict = LOCAL_PLAIN;
		return local_overlay_choose(b, c);
	}
	b->bwrap = find_in_path("bwrap");
	if (!b->bwrap) {
		c->cause = LOCAL_CAUSE_MISSING;
		c->fix = b->image_mode ? "install bubblewrap (apt-get install bubblewrap), or set local.root to \"host\"" :
			 install;
		if (b->image_mode)
			snprintf(c->message, sizeof(c->message), "local.root 'image' needs bwrap to change the "
				 "root, and 'bwrap' is not in PATH: install bubblewrap, or use local.root 'host'");
		else if (!strcmp(mode, "bwrap"))
			snprintf(c->message, sizeof(c->message),
				 "cannot find 'bwrap' in PATH (local.sandbox is 'bwrap'): install bubblewrap");
		else
			snprintf(c->message, sizeof(c->message),
				 "cannot find 'bwrap' in PATH: tests run as plain processes, without a sandbox");
		c->verdict = b->image_mode || !strcmp(mode, "bwrap") ? LOCAL_UNAVAILABLE : LOCAL_FALLBACK;
		return c->verdict == LOCAL_UNAVAILABLE ? -1 : local_overlay_choose(b, c);
	}
	snprintf(c->bwrap, sizeof(c->bwrap), "%s", b->bwrap);
	/* The probe: the real options over the host's root. */
	{
		struct local_box probe = *b;

		probe.use_bwrap = 1;
		probe.img = NULL;
		probe.env = NULL;
		probe.nenv = 0;
		probe.writable = probe.task_same = 0;
		probe.ov_paths = NULL;
		probe.nov = 0;
		ht_buf_init(&probe.root_args, 0);
		ok = local_box_root_args(&probe) == 0;
		if (ok) {
			/* Known to work (the same bwrap, kernel, user and
			 * arguments): no probe, ~15 ms of a run's start. */
			char key[HT_SHA256_HEX_LEN + 1];

			probe_key(&probe, key);
			if (probe_known(b, key)) {
				snprintf(c->status, sizeof(c->status), "exit code 0 (as before: %s)", b->probe_cache);
				ht_debug("bwrap: works, as the probe found before ('%s')", b->probe_cache);
			} else {
				ok = local_box_probe(&probe, c->status, sizeof(c->status), c->line, sizeof(c->line)) == 0;
				ht_debug("bwrap: probed: %s", c->status);
				if (ok)
					probe_remember(b, key);
				else if (b->probe_cache)
					unlink(b->probe_cache);
			}
		}
		if (!c->status[0])
			snprintf(c->status, sizeof(c->status), "cannot list the root's entries");
		ht_buf_release(&probe.root_args);
	}
	if (ok) {
		b->use_bwrap = 1;
		c->verdict = LOCAL_BWRAP;
		return local_overlay_choose(b, c);
	}
	c->cause = LOCAL_CAUSE_BROKEN;
	c->fix = broken_fix(c->line);
	why = c->line[0] ? c->line : c->status;
	if (b->image_mode)
		snprintf(c->message, sizeof(c->message),
			 "local.root 'image' needs bwrap to change the root, and bwrap does not work here: %s", why);
	else if (!strcmp(mode, "bwrap"))
		snprintf(c->message, sizeof(c->message), "bwrap does not work here: %s", why);
	else
		snprintf(c->message, sizeof(c->message),
			 "bwrap does not work here (%s): tests run as plain processes, without a sandbox", why);
	free(b->bwrap);
	b->bwrap = NULL;
	c->verdict = b->image_mode || !strcmp(mode, "bwrap") ? LOCAL_UNAVAILABLE : LOCAL_FALLBACK;
	return c->verdict == LOCAL_UNAVAILABLE ? -1 : local_overlay_choose(b, c);
}
