/*
 * proc-limits.c: the limits ht_proc_wait() enforces (include/ht/proc.h):
 * a child's output capped to its tail, and the memory of a session.
 *
 * The cap: the child writes into a pipe; each file is a ring of
 * output_max bytes (written with pwrite at total % output_max), so a
 * flood costs no more than output_max of the file system, whatever it
 * writes. At the end a file that wrapped is put in order in place, in
 * 64 KiB steps (bounded memory), after a one-line note of what was cut.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/util.h"
#include "proc-int.h"

#define CHUNK 65536
/* Of each file, this much is reserved (fallocate) before the child runs,
 * so that a test that fills the file system still leaves its first
 * output readable. Small: on a tmpfs the reserve is memory, allocated
 * and zeroed for every test (1 MiB cost a no-op test more than the
 * test itself). */
#define RESERVE (64 * 1024)
#define DRAIN_MAX (4 * 1024 * 1024)

static int same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int is_regular(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

int ht_proc_cap_open(struct ht_proc *p, int wr[2])
{
	int fd[2] = { p->stdout_fd, p->stderr_fd };
	struct rlimit fl;
	int i;

	wr[0] = wr[1] = -1;
	if (!p->limits || p->limits->output_max <= 0)
		return 0;
	for (i = 0; i < 2; i++) {
		int pf[2];

		p->limits->written[i] = p->limits->kept[i] = 0;
		p->limits->write_errno[i] = 0;
		if (fd[i] < 0 || !is_regular(fd[i]))
			continue;
		if (i == 1 && wr[0] >= 0 && same_file(fd[0], fd[1])) {
			wr[1] = wr[0]; /* 2>&1: one pipe, one file */
			continue;
		}
		if (pipe2(pf, O_CLOEXEC) < 0)
			return -1;
		/* The file is read back to be put in order: a descriptor of our
		 * own, open for both. */
		{
			char path[64];

			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd[i]);
			p->cap_file[i] = open(path, O_RDWR | O_CLOEXEC);
			if (p->cap_file[i] < 0) {
				close(pf[0]);
				close(pf[1]);
				continue; /* not capped */
			}
		}
		fcntl(pf[0], F_SETFL, O_NONBLOCK);
		fcntl(pf[0], F_SETPIPE_SZ, 1024 * 1024); /* fewer wake-ups; may be refused */
		p->cap_pipe[i] = pf[0];
		wr[i] = pf[1];
		/* Not under a file size limit: the reserve could pass it
		 * (SIGXFSZ) where the output would not. */
		if (getrlimit(RLIMIT_FSIZE, &fl) == 0 && fl.rlim_cur == RLIM_INFINITY)
			fallocate(p->cap_file[i], FALLOC_FL_KEEP_SIZE, 0,
				  p->limits->output_max < RESERVE ? p->limits->output_max : RESERVE);
	}
	return 0;
}

/* Writes n bytes at the ring position of stream i. */
static void sink(struct ht_proc *p, int i, const char *data, size_t n)
{
	struct ht_proc_limits *l = p->limits;
	int64_t max = l->output_max;

	while (n) {
		int64_t off = l->written[i] % max;
		size_t k = n < (size_t)(max - off) ? n : (size_t)(max - off);

		if (!l->write_errno[i]) {
			size_t done = 0;

			while (done < k) {
				ssize_t w = pwrite(p->cap_file[i], data + done, k - done, (off_t)(off + done));

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					l->write_errno[i] = w < 0 ? errno : EIO;
					break;
				}
				done += (size_t)w;
			}
		}
		l->written[i] += (int64_t)k;
		data += k;
		n -= k;
	}
}

int ht_proc_cap_drain(struct ht_proc *p)
{
	char buf[CHUNK];
	int i, open = 0;

	for (i = 0; i < 2; i++) {
		size_t got = 0;

		while (p->cap_pipe[i] >= 0 && got < DRAIN_MAX) {
			ssize_t n = read(p->cap_pipe[i], buf, sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				break;
			if (n <= 0) {
				close(p->cap_pipe[i]);
				p->cap_pipe[i] = -1;
				break;
			}
			sink(p, i, buf, (size_t)n);
			got += (size_t)n;
		}
		open |= p->cap_pipe[i] >= 0;
	}
	return open;
}

int ht_proc_cap_fds(const struct ht_proc *p, int fds[2])
{
	int n = 0, i;

	for (i = 0; i < 2; i++)
		if (p->cap_pipe[i] >= 0)
			fds[n++] = p->cap_pipe[i];
	return n;
}

/* Moves len bytes of fd from offset from to offset to (they may overlap). */
static int move_range(int fd, off_t from, off_t to, off_t len)
{
	char buf[CHUNK];
	off_t done;

	if (from == to)
		return 0;
	for (done = 0; done < len;) {
		size_t k = len - done < (off_t)sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
		/* Moving down: from the start; up: from the end. */
		off_t at = to < from ? done : len - done - (off_t)k;

		if (pread(fd, buf, k, from + at) != (ssize_t)k || pwrite(fd, buf, k, to + at) != (ssize_t)k)
			return -1;
		done += (off_t)k;
	}
	return 0;
}

/* Puts the ring of stream i in order after the note. */
static void finish(struct ht_proc *p, int i, int shared)
{
	struct ht_proc_limits *l = p->limits;
	int64_t max = l->output_max, total = l->written[i];
	int64_t pos = total % max, src = 0, keep = max;
	int fd = p->cap_file[i];
	char note[256];
	int len;

	if (total <= max) {
		l->kept[i] = total;
		return;
	}
	/* R[pos..max) is the oldest; append R[0..pos) after it. Without
	 * room for that, keep only the newest pos bytes. */
	if (pos > 0) {
		if (move_range(fd, 0, (off_t)max, (off_t)pos) == 0) {
			src = pos;
		} else {
			keep = pos;
			if (ftruncate(fd, (off_t)pos) < 0)
				return;
		}
	}
	len = snprintf(note, sizeof(note),
		       "[ht-runner: output cut: the first %lld bytes of %s are not kept; the last %lld follow "
		       "(max_output_mb %g)]\n",
		       (long long)(total - keep), shared ? "stdout and stderr" : i ? "stderr" : "stdout", (long long)keep,
		       (double)max / (1024.0 * 1024.0));
	if (move_range(fd, (off_t)src, (off_t)len, (off_t)keep) < 0 || pwrite(fd, note, (size_t)len, 0) != len)
		return;
	if (ftruncate(fd, (off_t)(len + keep)) == 0)
		l->kept[i] = keep;
}

void ht_proc_cap_close(struct ht_proc *p, int wait_ms)
{
	int64_t end = ht_now_ms() + wait_ms;
	int i, fds[2], n;

	if (!p->limits)
		return;
	while ((n = ht_proc_cap_fds(p, fds)) > 0) {
		struct pollfd pf[2];
		int64_t left = end - ht_now_ms();

		ht_proc_cap_drain(p);
		if (left <= 0)
			break;
		for (i = 0; i < n; i++) {
			pf[i].fd = fds[i];
			pf[i].events = POLLIN;
			pf[i].revents = 0;
		}
		if (!ht_proc_cap_fds(p, fds))
			break;
		poll(pf, (nfds_t)n, (int)(left < 50 ? left : 50));
	}
	for (i = 0; i < 2; i++) {
		if (p->cap_pipe[i] >= 0)
			close(p->cap_pipe[i]);
		p->cap_pipe[i] = -1;
		if (p->cap_file[i] >= 0) {
			finish(p, i, i == 0 && p->stderr_fd >= 0 && p->cap_file[1] < 0 &&
					     same_file(p->stdout_fd, p->stderr_fd));
			close(p->cap_file[i]);
		}
		p->cap_file[i] = -1;
	}
}

/* --- processes ------------------------------------------------------------ */

int ht_proc_each(int skip_zombies, int (*fn)(const struct ht_proc_info *pi, void *ud), void *ud)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long page_kb = sysconf(_SC_PAGESIZE) / 1024;
	int calls = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[64], buf[1024], *rp;
		struct ht_proc_info pi;
		long pid = strtol(e->d_name, &rp, 10), ppid, pgrp, sid, rss;
		ssize_t n;
		int fd;

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
		/* pid (comm) state ppid pgrp session ... rss (the 24th); comm
		 * may hold spaces and parentheses. */
		rp = strrchr(buf, ')');
		if (!rp || sscanf(rp + 1, " %c %ld %ld %ld %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %ld",
				  &pi.state, &ppid, &pgrp, &sid, &rss) != 5)
			continue;
		if (skip_zombies && (pi.state == 'Z' || pi.state == 'X'))
			continue;
		pi.pid = (pid_t)pid;
		pi.ppid = (pid_t)ppid;
		pi.pgrp = (pid_t)pgrp;
		pi.session = (pid_t)sid;
		pi.rss_kb = (int64_t)rss * page_kb;
		calls++;
		if (fn(&pi, ud))
			break;
	}
	closedir(d);
	return calls;
}

struct rss_sum {
	pid_t sid;
	int64_t kb;
};

static int add_rss(const struct ht_proc_info *pi, void *ud)
{
	struct rss_sum *s = ud;

	if (pi->session == s->sid)
		s->kb += pi->rss_kb;
	return 0;
}

int64_t ht_proc_session_rss_kb(pid_t sid)
{
	struct rss_sum s = { sid, 0 };

	ht_proc_each(1, add_rss, &s);
	return s.kb;
}
