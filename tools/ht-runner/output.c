/*
 * ht-runner: what a test's output says in its result (the tail), and what
 * its limits did (the output cap, a full /tmp, the memory limit).
 */
/*
 * ht-runner: the program inside the function image. It speaks the Lambda
 * Runtime API, runs one test per invocation through its test-runner plugin,
 * keeps the output and artifacts in the bucket, and answers an ht.result/1
 * record. See docs/ht-runner.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ht/artifacts.h"
#include "ht/bucket.h"
#include "ht/ht.h"
#include "ht/id.h"
#include "ht/proc.h"
#include "ht/process.h"
#include "ht/runner.h"
#include "ht/text.h"
#include "ht/tree.h"

#include "tools/ht-runner/runner.h"

/* Appends the last want bytes of the file at path to b. */
static void add_tail(struct ht_buf *b, const char *path, off_t want)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[TAIL_MAX];
	off_t size;
	ssize_t n;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (want > size)
		want = size;
	if (want > (off_t)sizeof(buf))
		want = sizeof(buf);
	n = pread(fd, buf, (size_t)want, size - want);
	if (n > 0) {
		ssize_t skip = 0;

		/* Start on a character, not inside one. */
		while (size > want && skip < n && skip < 3 && ((unsigned char)buf[skip] & 0xc0) == 0x80)
			skip++;
		ht_buf_add(b, buf + skip, (size_t)(n - skip));
	}
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

/* The last TAIL_MAX bytes of stdout and stderr together (stdout first),
 * giving stderr at least half when both are long. New string. */
json_t *rn_output_tail(const char *out_path, const char *err_path)
{
	off_t so = file_size(out_path), se = file_size(err_path);
	off_t want_err = se, want_out;
	struct ht_buf b;
	json_t *s;

	if (so + se > TAIL_MAX) {
		want_err = se < TAIL_MAX / 2 ? se : (so < TAIL_MAX / 2 ? TAIL_MAX - so : TAIL_MAX / 2);
	}
	want_out = TAIL_MAX - want_err;
	ht_buf_init(&b, 0);
	ht_buf_add(&b, "", 0);
	if (so > 0) /* an empty file has no tail: not opened */
		add_tail(&b, out_path, want_out);
	if (se > 0)
		add_tail(&b, err_path, want_err);
	ht_utf8_clean(b.data, b.len, 0);
	s = json_stringn(b.data, b.len);
	ht_buf_release(&b);
	return s ? s : json_string("");
}

/* "6.6 MiB", "2.0 GiB", "512 bytes". */
static void human_size(char *buf, size_t n, int64_t bytes)
{
	if (bytes >= 1024 * MIB)
		snprintf(buf, n, "%.1f GiB", (double)bytes / (1024.0 * MIB));
	else if (bytes >= MIB)
		snprintf(buf, n, "%.1f MiB", (double)bytes / MIB);
	else if (bytes >= 1024)
		snprintf(buf, n, "%.1f KiB", (double)bytes / 1024.0);
	else
		snprintf(buf, n, "%lld bytes", (long long)bytes);
}

/* Appends "; " and what fmt says to res's message. */
static void add_to_message(struct ht_run_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_to_message(struct ht_run_result *res, const char *fmt, ...)
{
	char *was = ht_xstrdup(res->message ? res->message : ""), more[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(more, sizeof(more), fmt, ap);
	va_end(ap);
	ht_run_result_set_message(res, "%s%s%s", was, *was ? "; " : "", more);
	free(was);
}

/*
 * What the limits did to the test (docs/ht-runner.md#limits): killed
 * over the memory limit, output cut (rec's output_cut and the message),
 * a full /tmp named when the test did not pass.
 */
void rn_judge_limits(const struct runner *r, const struct ht_proc_limits *lim, struct ht_run_result *res,
		     json_t *rec)
{
	static const char *const names[] = { "stdout", "stderr" };
	const char *t = getenv("TMPDIR");
	const char *tmp = t && *t == '/' ? t : "/tmp";
	json_t *cut = json_object();
	struct statvfs vfs;
	int i, enospc = 0;

	if (lim->memory_killed) {
		res->status = "failed";
		free(res->error_code);
		res->error_code = NULL;
		ht_run_result_set_message(res, "killed: its processes used %lld MiB, over the memory limit of %lld MiB "
					  "(local.memory_mb)", (long long)(lim->memory_peak_kb / 1024), (long long)r->memory_mb);
	}
	for (i = 0; i < 2; i++) {
		char total[32];

		enospc |= lim->write_errno[i] == ENOSPC;
		if (lim->written[i] <= lim->output_max)
			continue;
		ht_json_set_int(cut, names[i], lim->written[i] - lim->kept[i]);
		human_size(total, sizeof(total), lim->written[i]);
		add_to_message(res, "%s cut to its last %g MiB of %s", names[i], (double)lim->output_max / MIB, total);
	}
	if (json_object_size(cut))
		json_object_set(rec, "output_cut", cut);
	json_decref(cut);
	if (strcmp(res->status, "passed") && strcmp(res->status, "skipped") && statvfs(tmp, &vfs) == 0 &&
	    (enospc || (unsigned long long)vfs.f_bavail * vfs.f_frsize < (unsigned long long)MIB))
		add_to_message(res, "%s is full (%llu MiB: local.tmp_mb on the local provider, the function's "
			       "ephemeral storage on Lambda)", tmp,
			       (unsigned long long)vfs.f_blocks * vfs.f_frsize / (unsigned long long)MIB);
}
