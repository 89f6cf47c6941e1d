/*
 * ht-runner: the program inside the function image. It speaks the Lambda
 * Runtime API, runs one test per invocation through its test-runner plugin,
 * keeps the output and artifacts in the bucket, and answers an ht.result/1
 * record. See docs/ht-runner.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/bucket.h"
#include "ht/ht.h"
#include "ht/id.h"
#include "ht/process.h"
#include "ht/runner.h"
#include "ht/text.h"
#include "providers/aws/runtime.h"

#define EVENT_MAX (8u * 1024 * 1024)
#define TAIL_MAX 4096
#define MAX_ARTIFACTS 1000
#define DEFAULT_MARGIN_MS 1500

extern char **environ;

static const struct ht_tool tool = {
	"ht-runner", "[OPTIONS] [--once FILE]",
	"Run tests inside the function: one ht.test/1 event in, one ht.result/1 record out.",
	"      --once FILE   run the ht.test/1 record in FILE ('-' for stdin) without the\n"
	"                    Runtime API and print its ht.result/1 record\n",
};

/* What every invocation shares. */
struct runner {
	char *task_root;   /* the test's working directory */
	char *work_root;   /* where per-test work directories go ($HT_WORK_DIR) */
	struct ht_bucket bucket;
	int have_bucket;
};

/* --- the environment of a test --------------------------------------------- */

static int env_overridden(const char *kv, json_t *env)
{
	static const char *const ours[] = { "HOME", "HT_OUTPUT_DIR", "HT_RUN_ID", "HT_TEST_ID", "HT_ATTEMPT", NULL };
	const char *eq = strchr(kv, '=');
	size_t n = eq ? (size_t)(eq - kv) : strlen(kv);
	const char *key;
	json_t *v;
	int i;

	for (i = 0; ours[i]; i++)
		if (strlen(ours[i]) == n && strncmp(kv, ours[i], n) == 0)
			return 1;
	json_object_foreach(env, key, v)
		if (strlen(key) == n && strncmp(kv, key, n) == 0)
			return 1;
	return 0;
}

/* The whole environment of a test: ours, minus what it sets, plus what it
 * sets. New NULL-terminated array of new strings. */
static char **test_env(json_t *run, const char *out_dir, const char *run_id, const char *test_id, long long attempt)
{
	json_t *env = json_object_get(run, "env");
	size_t n = 0, i = 0;
	char **v, **e;
	const char *key;
	json_t *val;

	if (!json_is_object(env))
		env = NULL;
	for (e = environ; *e; e++)
		n++;
	v = ht_xcalloc(n + json_object_size(env) + 6, sizeof(*v));
	for (e = environ; *e; e++)
		if (!env_overridden(*e, env))
			v[i++] = ht_xstrdup(*e);
	/* HOME is the writable /tmp, as in Lambda; outside a sandbox the
	 * provider gives the runner a private TMPDIR, which serves instead of
	 * the machine's shared /tmp. */
	v[i++] = ht_xasprintf("HOME=%s", getenv("TMPDIR") && getenv("TMPDIR")[0] == '/' ? getenv("TMPDIR") : "/tmp");
	v[i++] = ht_xasprintf("HT_OUTPUT_DIR=%s", out_dir);
	v[i++] = ht_xasprintf("HT_RUN_ID=%s", run_id);
	v[i++] = ht_xasprintf("HT_TEST_ID=%s", test_id);
	v[i++] = ht_xasprintf("HT_ATTEMPT=%lld", attempt);
	json_object_foreach(env, key, val)
		if (json_is_string(val) && *key && !strchr(key, '='))
			v[i++] = ht_xasprintf("%s=%s", key, json_string_value(val));
	v[i] = NULL;
	return v;
}

/* --- output ---------------------------------------------------------------- */

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
static json_t *output_tail(const char *out_path, const char *err_path)
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
	add_tail(&b, out_path, want_out);
	add_tail(&b, err_path, want_err);
	ht_utf8_clean(b.data, b.len, 0);
	s = json_stringn(b.data, b.len);
	ht_buf_release(&b);
	return s ? s : json_string("");
}

/* --- artifacts ------------------------------------------------------------- */

struct upload {
	struct runner *r;
	const char *prefix;  /* "<run_id>/<test_id>/" */
	json_t *keys;
	long failed, skipped;
	char *first_failed;
	/* The files to store, all at once by upload_flush(); each item's key
	 * and path are owned here. */
	struct ht_bucket_item *items;
	size_t n;
};

static void upload_one(struct upload *u, const char *rel, const char *path)
{
	char *key = ht_xasprintf("%s%s", u->prefix, rel);
	char *clean = ht_utf8_clean(ht_xstrdup(key), strlen(key), 1);

	if (u->n >= MAX_ARTIFACTS || strcmp(clean, key) != 0 || !ht_bucket_key_valid(key)) {
		u->skipped++;
		free(key);
	} else {
		u->items = ht_xrealloc(u->items, (u->n + 1) * sizeof(*u->items));
		memset(&u->items[u->n], 0, sizeof(*u->items));
		u->items[u->n].key = key;
		u->items[u->n].path = ht_xstrdup(path);
		u->n++;
	}
	free(clean);
}

/* Stores the files gathered, in parallel where the bucket can, and keeps
 * the keys stored in order; the first failure is kept for upload_error. */
static void upload_flush(struct upload *u)
{
	size_t i;

	ht_bucket_put_files(&u->r->bucket, u->items, u->n);
	for (i = 0; i < u->n; i++) {
		if (u->items[i].ok) {
			json_array_append_new(u->keys, json_string(u->items[i].key));
		} else {
			u->failed++;
			if (!u->first_failed)
				u->first_failed = ht_xasprintf("%s': %s", u->items[i].key, u->items[i].error);
			ht_warning("cannot store '%s': %s", u->items[i].key, u->items[i].error);
		}
		free((char *)u->items[i].key);
		free((char *)u->items[i].path);
	}
	free(u->items);
	u->items = NULL;
	u->n = 0;
}

/* Uploads every regular file under dir (rel names it below the output
 * directory), in name order so the artifact list is stable. */
static void upload_tree(struct upload *u, const char *dir, const char *rel)
{
	struct dirent **names = NULL;
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		char *path, *sub;
		struct stat st;

		if (!strcmp(nm, ".") || !strcmp(nm, "..")) {
			free(names[i]);
			continue;
		}
		path = ht_path_join(dir, nm);
		sub = ht_xasprintf("%s/%s", rel, nm);
		if (lstat(path, &st) == 0) {
			if (S_ISREG(st.st_mode))
				upload_one(u, sub, path);
			else if (S_ISDIR(st.st_mode))
				upload_tree(u, path, sub);
			else
				u->skipped++; /* symbolic links, sockets, fifos */
		}
		free(path);
		free(sub);
		free(names[i]);
	}
	free(names);
}

/* --- one invocation -------------------------------------------------------- */

/* 1 when schema names ht.test/1 (any minor version). */
static int is_test_schema(const char *schema)
{
	return schema && ht_starts_with(schema, "ht.test/1") && (schema[9] == '\0' || schema[9] == '.');
}

/*
 * Runs the test of one event. Returns a new ht.result/1 record, or NULL
 * with the reason in err when the event cannot be used at all.
 */
static json_t *run_event(struct runner *r, const char *body, size_t len, int64_t deadline_wall_ms, char *err,
			 size_t errlen)
{
	json_error_t jerr;
	json_t *ev = json_loadb(body, len, 0, &jerr), *run, *rec = NULL, *tests;
	const struct ht_runner_ops *ops;
	const char *run_id, *test_id, *name;
	struct ht_run_ctx ctx;
	struct ht_run_result res;
	char *work = NULL, *out_dir = NULL, *out_path = NULL, *err_path = NULL, **envp = NULL;
	char why[256], started[32];
	long long timeout_s, attempt;
	int64_t limit_ms = 0, margin_ms = 0;
	struct upload up = { 0 };

	ht_run_result_init(&res);
	if (!ev) {
		snprintf(err, errlen, "the event is not JSON: %s at byte %d", jerr.text, jerr.position);
		return NULL;
	}
	if (!json_is_object(ev)) {
		snprintf(err, errlen, "the event is not a JSON object");
		goto bad;
	}
	if (!is_test_schema(ht_json_str(ev, "schema", NULL))) {
		snprintf(err, errlen, "the event is not an ht.test/1 record (schema '%.60s')",
			 ht_json_str(ev, "schema", "(none)"));
		goto bad;
	}
	run_id = ht_json_str(ev, "run_id", NULL);
	test_id = ht_json_str(ev, "test_id", NULL);
	if (!ht_id_safe(run_id) || !ht_id_safe(test_id)) {
		snprintf(err, errlen, "the event's run_id and test_id must be " HT_ID_RULE);
		goto bad;
	}
	name = ht_json_str(ev, "name", test_id);
	ops = ht_runner_find(ht_json_str(ev, "runner", "command"));
	if (!ops) {
		snprintf(err, errlen, "unknown runner '%.60s' (known: %s)", ht_json_str(ev, "runner", ""), ht_runner_names());
		goto bad;
	}
	run = json_object_get(ev, "run");
	if (!json_is_object(run)) {
		snprintf(err, errlen, "the event has no \"run\" object");
		goto bad;
	}
	if (ops->check(run, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "the event's run object is unusable: %s", why);
		goto bad;
	}
	if (ht_json_int_in(ev, "timeout_s", 1, HT_TIMEOUT_MAX_S, 0, &timeout_s) < 0) {
		snprintf(err, errlen, "the event's timeout_s must be an integer from 1 to %d", HT_TIMEOUT_MAX_S);
		goto bad;
	}
	attempt = ht_json_int(ev, "attempt", 1);
	if (attempt < 1)
		attempt = 1;

	/* The time the test gets: its timeout, and what the function has
	 * left less a margin to report in. */
	if (timeout_s > 0)
		limit_ms = timeout_s * 1000;
	if (deadline_wall_ms > 0) {
		int64_t left = deadline_wall_ms - ht_wall_ms();

		margin_ms = left > 10 * DEFAULT_MARGIN_MS ? DEFAULT_MARGIN_MS : left / 10;
		if (left - margin_ms < 1)
			left = margin_ms + 1;
		if (!limit_ms || left - margin_ms < limit_ms)
			limit_ms = left - margin_ms;
	}

	work = ht_xasprintf("%s/%s/%s", r->work_root, run_id, test_id);
	out_dir = ht_path_join(work, "out");
	out_path = ht_path_join(work, "stdout.txt");
	err_path = ht_path_join(work, "stderr.txt");
	if (access(work, F_OK) == 0)
		ht_remove_tree(work); /* an earlier attempt in this sandbox */
	memset(&ctx, 0, sizeof(ctx));
	if (ht_mkdir_p(out_dir, 0755) < 0) {
		res.status = "error";
		res.error_code = ht_xstrdup("io");
		ht_run_result_set_message(&res, "cannot create the work directory '%s'", out_dir);
	} else {
		envp = test_env(run, out_dir, run_id, test_id, attempt);
		ctx.cwd = r->task_root;
		ctx.out_dir = out_dir;
		ctx.stdout_path = out_path;
		ctx.stderr_path = err_path;
		ctx.envp = envp;
		ctx.limit_ms = limit_ms;
		ctx.deadline_ms = limit_ms ? ht_now_ms() + limit_ms : 0;
		ctx.grace_ms = margin_ms ? (margin_ms / 3 > 1000 ? 1000 : margin_ms / 3 + 1) : 1000;
		ctx.stop = &ht_stop_signal;
		if (ops->run(run, &ctx, &res) < 0 && !res.message)
			ht_run_result_set_message(&res, "the runner could not judge the test");
	}

	rec = ht_record_new("ht.result/1");
	ht_json_set_str(rec, "run_id", run_id);
	ht_json_set_str(rec, "test_id", test_id);
	ht_json_set_str(rec, "name", name);
	ht_json_set_str(rec, "file", ht_json_str(ev, "file", NULL));
	ht_json_set_str(rec, "runner", ops->name);
	ht_json_set_str(rec, "status", res.status);
	json_object_set_new(rec, "ok", json_boolean(!strcmp(res.status, "passed") || !strcmp(res.status, "skipped")));
	ht_json_set_int(rec, "duration_ms", res.duration_ms);
	json_object_set_new(rec, "exit_code", res.exited ? json_integer(res.exit_code) : json_null());
	json_object_set_new(rec, "signal", res.signal ? json_integer(res.signal) : json_null());
	ht_json_set_str(rec, "message", res.message ? res.message : "");
	if (res.outcome)
		ht_json_set_str(rec, "outcome", res.outcome);
	json_object_set_new(rec, "output_tail", output_tail(out_path, err_path));

	/* Keep what the test left. */
	up.r = r;
	up.keys = json_array();
	up.prefix = NULL;
	if (r->have_bucket) {
		char *prefix = ht_xasprintf("%s/%s/", run_id, test_id);

		up.prefix = prefix;
		if (access(out_path, F_OK) == 0)
			upload_one(&up, "stdout.txt", out_path);
		if (access(err_path, F_OK) == 0)
			upload_one(&up, "stderr.txt", err_path);
		upload_tree(&up, out_dir, "out");
		upload_flush(&up);
		free(prefix);
	}
	json_object_set_new(rec, "artifacts", up.keys);
	if (!r->have_bucket) {
		ht_json_set_str(rec, "upload_error", "no bucket (HT_BUCKET is not set): the output and artifacts were not kept");
	} else if (up.failed || up.skipped) {
		char *m;

		if (up.failed)
			m = ht_xasprintf("%ld artifacts could not be stored (the first: '%s)%s", up.failed, up.first_failed,
					 up.skipped ? "; some were skipped" : "");
		else
			m = ht_xasprintf("%ld files were skipped (not regular files, names that are not valid keys, or over %d)",
					 up.skipped, MAX_ARTIFACTS);
		ht_utf8_clean(m, strlen(m), 1);
		ht_json_set_str(rec, "upload_error", m);
		free(m);
	}
	free(up.first_failed);

	ht_format_time(res.start_wall_ms ? res.start_wall_ms : ht_wall_ms(), started);
	ht_json_set_str(rec, "started_at", started);
	ht_json_set_int(rec, "start_ms", res.start_wall_ms ? res.start_wall_ms : ht_wall_ms());
	ht_json_set_int(rec, "attempt", attempt);
	if (res.tests) {
		tests = res.tests;
		json_object_set(rec, "tests", tests);
	}
	if (res.cases)
		json_object_set(rec, "cases", res.cases);
	if (!strcmp(res.status, "error")) {
		json_object_set_new(rec, "error", json_pack("{s:s,s:s}", "code", res.error_code ? res.error_code : "runner",
							  "message", res.message ? res.message : ""));
	}
	if (ht_remove_tree(work) < 0) {
		ht_warning("the work directory '%s' stays behind", work);
	} else {
		/* The run's directory too, once its last test is done. */
		char *slash = strrchr(work, '/');

		*slash = '\0';
		rmdir(work);
	}

	ht_strv_free(envp);
	free(work);
	free(out_dir);
	free(out_path);
	free(err_path);
	ht_run_result_release(&res);
	json_decref(ev);
	return rec;
bad:
	json_decref(ev);
	return NULL;
}

/* --- main ------------------------------------------------------------------ */

static int run_once(struct runner *r, const char *file)
{
	char *body = NULL, err[512];
	size_t len = 0;
	json_t *rec;
	int ok;

	if (!strcmp(file, "-")) {
		struct ht_buf b;
		char chunk[65536];
		size_t n;

		ht_buf_init(&b, EVENT_MAX);
		while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
			if (ht_buf_add(&b, chunk, n) < 0) {
				ht_buf_release(&b);
				ht_die(HT_EXIT_DATAERR, "stdin: the event is larger than %u bytes", EVENT_MAX);
			}
		}
		if (ferror(stdin))
			ht_die(HT_EXIT_IOERR, "cannot read stdin: %s", strerror(errno));
		len = b.len;
		body = ht_buf_detach(&b);
		if (!body)
			body = ht_xstrdup("");
	} else if (ht_read_file(file, EVENT_MAX, &body, &len) < 0) {
		ht_die(errno == ENOENT ? HT_EXIT_NOINPUT : HT_EXIT_IOERR, "cannot read '%s': %s", file, strerror(errno));
	}
	rec = run_event(r, body, len, 0, err, sizeof(err));
	free(body);
	if (!rec) {
		ht_error("%s: %s", !strcmp(file, "-") ? "stdin" : file, err);
		return HT_EXIT_DATAERR;
	}
	ok = json_is_true(json_object_get(rec, "ok"));
	ht_record_write(stdout, rec, 1);
	json_decref(rec);
	return ok ? 0 : HT_EXIT_FAILED;
}

/*
 * Where the test ran, for the run's timeline: the function environment
 * (Lambda's log stream, which the local provider names after its
 * sandbox; else the host), the request, and whether this process had
 * served an invocation before (a warm start) or not (cold).
 */
static void add_where(json_t *rec, const char *request_id, int served)
{
	const char *w = getenv("AWS_LAMBDA_LOG_STREAM_NAME");
	char host[256];

	if (!w || !*w) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "unknown");
		host[sizeof(host) - 1] = '\0';
		w = host;
	}
	{
		json_t *s = json_string(w); /* NULL when not UTF-8: left out */

		if (s)
			json_object_set_new(rec, "worker", s);
	}
	if (request_id)
		ht_json_set_str(rec, "request_id", request_id);
	json_object_set_new(rec, "cold", json_boolean(served == 0));
}

static int run_loop(struct runner *r, struct ht_runtime *rt)
{
	int errors = 0, served = 0;

	while (!ht_stop_signal) {
		struct ht_invocation inv;
		char err[512];
		json_t *rec;
		char *body;
		int rc = ht_runtime_next(rt, &inv);

		if (rc == 0)
			return 0;
		if (rc < 0) {
			if (++errors >= 20)
				return ht_error("the Runtime API failed %d times in a row: giving up", errors), HT_EXIT_PROTOCOL;
			ht_sleep_ms(errors < 5 ? 100LL << errors : 5000);
			continue;
		}
		errors = 0;
		rec = run_event(r, inv.body, inv.len, inv.deadline_ms, err, sizeof(err));
		if (!rec) {
			ht_warning("invocation %s: %s", inv.request_id, err);
			ht_runtime_fail(rt, inv.request_id, "ht.BadEvent", err);
		} else {
			add_where(rec, inv.request_id, served++);
			body = json_dumps(rec, JSON_COMPACT);
			if (!body || ht_runtime_respond(rt, inv.request_id, body, strlen(body)) < 0)
				ht_warning("invocation %s: the result could not be delivered", inv.request_id);
			free(body);
			json_decref(rec);
		}
		ht_invocation_release(&inv);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "once", required_argument, 0, 'o' },
		{ 0, 0, 0, 0 },
	};
	const char *once = NULL, *bucket_url, *env;
	struct runner r;
	struct ht_runtime rt;
	int c, code;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		if (c == 'o')
			once = optarg;
	}
	if (optind < argc)
		ht_usage_error(&tool, "unexpected argument '%s'", argv[optind]);

	ht_stop_install();

	memset(&r, 0, sizeof(r));
	env = getenv("LAMBDA_TASK_ROOT");
	if (env && *env) {
		r.task_root = ht_xstrdup(env);
	} else if (once) {
		r.task_root = getcwd(NULL, 0);
		if (!r.task_root)
			ht_die(HT_EXIT_OSERR, "cannot find the current directory: %s", strerror(errno));
	} else {
		r.task_root = ht_xstrdup("/var/task");
	}
	/* In the function, /tmp/ht; on a shared machine (--once) one per
	 * user, so that another user's /tmp/ht is never in the way. */
	env = getenv("HT_WORK_DIR");
	if (env && *env)
		r.work_root = ht_xstrdup(env);
	else if (once)
		r.work_root = ht_xasprintf("/tmp/ht-%lu", (unsigned long)getuid());
	else
		r.work_root = ht_xstrdup("/tmp/ht");

	memset(&rt, 0, sizeof(rt));
	if (!once && ht_runtime_init(&rt, getenv("AWS_LAMBDA_RUNTIME_API")) < 0) {
		free(r.task_root);
		free(r.work_root);
		return HT_EXIT_USAGE;
	}

	bucket_url = getenv("HT_BUCKET");
	if (bucket_url && *bucket_url) {
		if (ht_bucket_open(&r.bucket, bucket_url) < 0) {
			if (!once) {
				char *m = ht_xasprintf("the bucket '%s' is not usable", bucket_url);

				ht_runtime_init_error(&rt, "ht.BadBucket", m);
				free(m);
			}
			ht_bucket_release(&r.bucket);
			ht_runtime_release(&rt);
			free(r.task_root);
			free(r.work_root);
			return HT_EXIT_UNAVAILABLE;
		}
		r.have_bucket = 1;
	} else {
		ht_debug("HT_BUCKET is not set: output and artifacts will not be kept");
	}

	code = once ? run_once(&r, once) : run_loop(&r, &rt);

	ht_bucket_release(&r.bucket);
	ht_runtime_release(&rt);
	free(r.task_root);
	free(r.work_root);
	return ht_finish_stdout(code);
}
