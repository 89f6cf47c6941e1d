/*
 * test-contain.c: the limits of a runaway test at the library's level:
 * ht_proc's output cap keeps exactly the tail after its note, whatever
 * the size (under, at, just over, many times over the cap, stdout and
 * stderr into one file); the session's RSS; and the file bucket leaves no
 * file, named or not, when a put stops at its deadline.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/bucket.h"
#include "ht/proc.h"
#include "ht/util.h"
#include "tap.h"

static char dir[] = "/tmp/ht-test-contain.XXXXXX";

/* Runs sh -c script with both streams into files capped at max; returns
 * the stdout file's contents (new) and fills lim. */
static char *run_capped(const char *script, int64_t max, int shared, struct ht_proc_limits *lim, char **err)
{
	static char sh[] = "/bin/sh", c[] = "-c";
	char *argv[] = { sh, c, (char *)script, NULL };
	char *out_path = ht_path_join(dir, "out"), *err_path = ht_path_join(dir, "err"), *out = NULL;
	int ofd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int efd = shared ? ofd : open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	struct ht_proc p;
	size_t len;

	memset(lim, 0, sizeof(*lim));
	lim->output_max = max;
	ht_proc_init(&p, argv);
	p.stdout_fd = ofd;
	p.stderr_fd = efd;
	p.limits = lim;
	ok(ht_proc_run(&p) == 0 && p.exited && p.exit_code == 0, script);
	close(ofd);
	if (!shared)
		close(efd);
	if (ht_read_file(out_path, 0, &out, &len) < 0)
		out = NULL;
	*err = NULL;
	if (!shared && ht_read_file(err_path, 0, err, &len) < 0)
		*err = NULL;
	free(out_path);
	free(err_path);
	return out;
}

/* seq 1 n as a string (new). */
static char *seq(long n)
{
	struct ht_buf b;
	long i;

	ht_buf_init(&b, 0);
	for (i = 1; i <= n; i++)
		ht_buf_addf(&b, "%ld\n", i);
	if (!b.data)
		ht_buf_add(&b, "", 0);
	return ht_buf_detach(&b);
}

static void check_tail(long n, int64_t max)
{
	char script[64], name[128], *want = seq(n), *got, *err, note[256];
	struct ht_proc_limits lim;
	size_t wl = strlen(want);

	snprintf(script, sizeof(script), "seq %ld", n);
	got = run_capped(script, max, 0, &lim, &err);
	is_int(lim.written[0], (long long)wl, "every byte was read");
	if ((int64_t)wl <= max) {
		snprintf(name, sizeof(name), "seq %ld, cap %lld: kept whole", n, (long long)max);
		ok(got && !strcmp(got, want), name);
		is_int(lim.kept[0], (long long)wl, "kept all");
	} else {
		snprintf(note, sizeof(note), "[ht-runner: output cut: the first %lld bytes of stdout are not kept; the last "
			 "%lld follow (max_output_mb %g)]\n", (long long)(wl - (size_t)max), (long long)max,
			 (double)max / 1048576.0);
		snprintf(name, sizeof(name), "seq %ld, cap %lld: the note, then exactly the tail", n, (long long)max);
		ok(got && !strncmp(got, note, strlen(note)) && !strcmp(got + strlen(note), want + wl - (size_t)max), name);
		is_int(lim.kept[0], max, "kept the cap");
	}
	ok(err && !*err, "stderr empty");
	free(want);
	free(got);
	free(err);
}

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

int main(void)
{
	struct ht_proc_limits lim;
	struct ht_bucket b;
	char *got, *err, *url, *big, *bdir;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	/* seq 1000 is 3893 bytes. */
	check_tail(1000, 100000);
	check_tail(1000, 3893);
	check_tail(1000, 3892);
	check_tail(1000, 1000);
	check_tail(1000, 1024);
	check_tail(200000, 4096);

	got = run_capped("seq 3000; seq 3000 >&2", 1000, 1, &lim, &err);
	like(got, "bytes of stdout and stderr are not kept; the last 1000 follow", "2>&1: one note for both");
	ok(got && strlen(strchr(got, '\n') + 1) == 1000 && !strcmp(got + strlen(got) - 10, "2999\n3000\n"),
	   "2>&1: the last 1000 bytes");
	free(got);
	free(err);

	ok(ht_proc_session_rss_kb(getsid(0)) > 0, "the session's RSS is counted");

	/* A file bucket put that stops at its deadline leaves nothing. */
	bdir = ht_path_join(dir, "bucket");
	url = ht_xasprintf("file://%s", bdir);
	big = ht_path_join(dir, "big");
	{
		int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		static char zeros[65536];
		int i;

		for (i = 0; i < 64; i++)
			if (write(fd, zeros, sizeof(zeros)) < 0)
				break;
		close(fd);
	}
	ok(ht_bucket_open(&b, url) == 0, "file bucket opens");
	b.deadline_ms = ht_now_ms() - 1;
	ok(ht_bucket_put_file(&b, "r/t/big", big) < 0, "a put after the deadline fails");
	{
		char *d = ht_path_join(bdir, "r/t");

		is_int(count_entries(d), 0, "and leaves no file, named or temporary");
		free(d);
	}
	b.deadline_ms = 0;
	ok(ht_bucket_put_file(&b, "r/t/big", big) == 0, "without one it is stored");
	ok(ht_bucket_put_file(&b, "r/t/big", big) == 0, "and stored again over itself");
	{
		char *d = ht_path_join(bdir, "r/t"), *f = ht_path_join(d, "big");
		struct stat st;

		is_int(count_entries(d), 1, "one file, no temporary one");
		ok(stat(f, &st) == 0 && st.st_size == 64 * 65536 && (st.st_mode & 0777) == 0644, "whole, mode 0644");
		free(d);
		free(f);
	}
	ht_bucket_release(&b);
	free(url);
	free(big);
	free(bdir);
	ht_remove_tree(dir);
	return tap_done();
}
