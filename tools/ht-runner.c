/*
 * ht-runner: the program inside the function image. It speaks the Lambda
 * Runtime API, runs one test per invocation through its test-runner plugin,
 * keeps the output and artifacts in the bucket, and answers an ht.result/1
 * record. See docs/ht-runner.md.
 *
 * This file has main, the Runtime API loop and the run of one unit; the
 * parts are in tools/ht-runner/: the test's environment (env.c), its
 * output and limits (output.c), batches (batch.c), sharing runner.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
#include "providers/aws/runtime.h"

#include "tools/ht-runner/runner.h"

static const struct ht_tool tool = {
	"ht-runner", "[OPTIONS] [--once FILE]",
	"Run tests inside the function: one ht.test/1 event in, one ht.result/1 record out.",
	"      --once FILE   run the ht.test/1 record in FILE ('-' for stdin) without the\n"
	"                    Runtime API and print its ht.result/1 record\n",
};


/* --- the writable copy of the project (HT_WRITABLE_TASK) ---------------------- */

/*
 * Makes r->copy_dir a fresh copy of the task root: copied before the first
 * test of this process (a cold start), and again only when a test changed
 * the copy (its fingerprint differs from the one taken after copying), so
 * that each test starts from the project as built. Returns 0, or -1 with
 * the reason printed.
 */
static int task_copy(struct runner *r)
{
	char fp[HT_SHA256_HEX_LEN + 1];
	struct ht_tree_stats st;
	int64_t t0;

	if (r->copied) {
		if (ht_tree_fingerprint(r->copy_dir, fp) == 0 && !strcmp(fp, r->copy_fp))
			return 0;
		ht_debug("the last test changed '%s': copying '%s' again", r->copy_dir, r->task_root);
	}
	r->copied = 0;
	if (access(r->copy_dir, F_OK) == 0 && ht_remove_tree(r->copy_dir) < 0)
		return -1;
	t0 = ht_now_ms();
	if (ht_copy_tree(r->task_root, r->copy_dir, r->copy_exclude, &st) < 0 || ht_tree_fingerprint(r->copy_dir, r->copy_fp) < 0)
		return -1;
	r->copied = 1;
	ht_debug("copied '%s' to '%s' (%lld files, %lld bytes) in %lld ms", r->task_root, r->copy_dir,
		 (long long)st.files, (long long)st.bytes, (long long)(ht_now_ms() - t0));
	return 0;
}

/* --- one invocation -------------------------------------------------------- */

/* 1 when schema names ht.test/1 (any minor version). */
static int is_test_schema(const char *schema)
{
	return schema && ht_starts_with(schema, "ht.test/1") && (schema[9] == '\0' || schema[9] == '.');
}

/* HT_RUNTIME_CHANNEL=fd:N: the socket N (SOCK_SEQPACKET), kept from the
 * tests (close-on-exec) and blocking; else -1. */
static int channel_socket(const char *v)
{
	struct stat st;
	int type = 0, fl;
	socklen_t len = sizeof(type);
	long fd;

	if (!ht_starts_with(v, "fd:") || ht_parse_long(v + 3, 3, 1024, &fd) < 0)
		return -1;
	if (fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET ||
	    fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 || (fl = fcntl((int)fd, F_GETFL)) < 0 ||
	    fcntl((int)fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		ht_debug("HT_RUNTIME_CHANNEL=%s: not a channel; the Runtime API it is", v);
		return -1;
	}
	return (int)fd;
}

/*
 * Runs one unit in its own work directory, keeps its output and artifacts
 * under "<run_id>/<test_id>/", and returns its ht.result/1 record (new).
 */
json_t *rn_run_unit(struct runner *r, const struct unit *u)
{
	struct ht_run_ctx ctx;
	struct ht_run_result res;
	struct ht_proc_limits lim;
	char *work, *out_dir, *out_path, *err_path, **envp = NULL, started[32], *m;
	struct ht_artifacts up;
	struct stat st;
	json_t *rec;

	ht_run_result_init(&res);
	work = ht_xasprintf("%s/%s/%s", r->work_root, u->run_id, u->test_id);
	out_dir = ht_path_join(work, "out");
	out_path = ht_path_join(work, "stdout.txt");
	err_path = ht_path_join(work, "stderr.txt");
	if (access(work, F_OK) == 0)
		ht_remove_tree(work); /* an earlier attempt in this sandbox */
	memset(&ctx, 0, sizeof(ctx));
	memset(&lim, 0, sizeof(lim));
	lim.output_max = u->output_max;
	lim.memory_max_kb = r->memory_mb * 1024;
	if (ht_mkdir_p(out_dir, 0755) < 0) {
		res.status = "error";
		res.error_code = ht_xstrdup("io");
		ht_run_result_set_message(&res, "cannot create the work directory '%s'", out_dir);
	} else if (r->copy_dir && task_copy(r) < 0) {
		res.status = "error";
		res.error_code = ht_xstrdup("io");
		ht_run_result_set_message(&res, "cannot copy the project '%s' to '%s' (HT_WRITABLE_TASK); see the log",
					  r->task_root, r->copy_dir);
	} else {
		envp = rn_test_env(u->run, out_dir, u->run_id, u->test_id, u->attempt, r->copy_dir);
		ctx.cwd = r->copy_dir ? r->copy_dir : r->task_root;
		ctx.out_dir = out_dir;
		ctx.stdout_path = out_path;
		ctx.stderr_path = err_path;
		ctx.envp = envp;
		ctx.limit_ms = u->limit_ms;
		ctx.deadline_ms = u->limit_ms ? ht_now_ms() + u->limit_ms : 0;
		ctx.grace_ms = u->margin_ms ? (u->margin_ms / 3 > 1000 ? 1000 : u->margin_ms / 3 + 1) : 1000;
		ctx.stop = &ht_stop_signal;
		ctx.limits = &lim;
		if (r->test_events && r->rt && r->request_id)
			ht_runtime_test_started(r->rt, r->request_id);
		if (u->ops->run(u->run, &ctx, &res) < 0 && !res.message)
			ht_run_result_set_message(&res, "the runner could not judge the test");
		/* What the test left running (a daemon in a session of its
		 * own) dies with it: the next test of this sandbox meets none. */
		int left = ht_proc_kill_orphans();

		if (left)
			ht_debug("%s: killed %d process%s the test left behind", u->name, left, left == 1 ? "" : "es");
	}

	rec = ht_record_new("ht.result/1");
	ht_json_set_str(rec, "run_id", u->run_id);
	ht_json_set_str(rec, "test_id", u->test_id);
	ht_json_set_str(rec, "name", u->name);
	ht_json_set_str(rec, "file", u->file);
	ht_json_set_str(rec, "runner", u->ops->name);
	rn_judge_limits(r, &lim, &res, rec);
	ht_json_set_str(rec, "status", res.status);
	json_object_set_new(rec, "ok", json_boolean(!strcmp(res.status, "passed") || !strcmp(res.status, "skipped") ||
									!strcmp(res.status, "flaky")));
	ht_json_set_int(rec, "duration_ms", res.duration_ms);
	json_object_set_new(rec, "exit_code", res.exited ? json_integer(res.exit_code) : json_null());
	json_object_set_new(rec, "signal", res.signal ? json_integer(res.signal) : json_null());
	ht_json_set_str(rec, "message", res.message ? res.message : "");
	if (res.outcome)
		ht_json_set_str(rec, "outcome", res.outcome);
	json_object_set_new(rec, "output_tail", rn_output_tail(out_path, err_path));

	/* Keep what the test left. */
	if (r->have_bucket) {
		char *prefix = ht_xasprintf("%s/%s/", u->run_id, u->test_id);

		ht_artifacts_init(&up, &r->bucket, prefix);
		/* An empty stream is not kept: most tests print nothing to
		 * one of them, and each object costs a request (S3) or an
		 * inode (the local bucket). */
		if (stat(out_path, &st) == 0 && st.st_size > 0)
			ht_artifacts_add(&up, "stdout.txt", out_path, 0);
		if (stat(err_path, &st) == 0 && st.st_size > 0)
			ht_artifacts_add(&up, "stderr.txt", err_path, 0);
		ht_artifacts_add_tree(&up, out_dir, "out");
		ht_artifacts_store(&up, work);
		m = ht_artifacts_error(&up);
		if (m)
			ht_json_set_str(rec, "upload_error", m);
		free(m);
		json_object_set(rec, "artifacts", up.keys);
		ht_artifacts_release(&up);
		free(prefix);
	} else {
		ht_json_set_str(rec, "upload_error", "no bucket (HT_BUCKET is not set): the output and artifacts were not kept");
		json_object_set_new(rec, "artifacts", json_array());
	}

	ht_format_time(res.start_wall_ms ? res.start_wall_ms : ht_wall_ms(), started);
	ht_json_set_str(rec, "started_at", started);
	ht_json_set_int(rec, "start_ms", res.start_wall_ms ? res.start_wall_ms : ht_wall_ms());
	ht_json_set_int(rec, "attempt", u->attempt);
	if (res.tests)
		json_object_set(rec, "tests", res.tests);
	if (res.cases)
		json_object_set(rec, "cases", res.cases);
	if (res.details)
		json_object_update_missing(rec, res.details);
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
	return rec;
}

/*
 * Runs the test of one event. Returns a new ht.result/1 record, or NULL
 * with the reason in err when the event cannot be used at all.
 */
static json_t *run_event(struct runner *r, const char *body, size_t len, int64_t deadline_wall_ms, char *err,
			 size_t errlen)
{
	json_error_t jerr;
	json_t *ev = json_loadb(body, len, 0, &jerr), *run, *rec = NULL, *members, *m;
	const struct ht_runner_ops *ops;
	const char *run_id, *test_id, *name;
	char why[256];
	long long timeout_s, attempt, output_mb;
	int64_t limit_ms = 0, margin_ms = 0;
	struct unit u;
	size_t k;

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
	members = json_object_get(ev, "batch");
	if (!json_is_object(run)) {
		snprintf(err, errlen, "the event has no \"run\" object");
		goto bad;
	}
	if (members && (!json_is_array(members) || !json_array_size(members))) {
		snprintf(err, errlen, "the event's \"batch\" is not a non-empty array");
		goto bad;
	}
	json_array_foreach(members, k, m) {
		long long to;

		if (!json_is_object(m) || !ht_id_safe(ht_json_str(m, "test_id", NULL)) ||
		    ht_json_int_in(m, "timeout_s", 1, HT_TIMEOUT_MAX_S, 300, &to) < 0 ||
		    !json_is_object(json_object_get(m, "run"))) {
			snprintf(err, errlen, "the event's batch[%zu] needs a test_id (" HT_ID_RULE "), a run and a timeout_s", k);
			goto bad;
		}
		if (ops->check(json_object_get(m, "run"), why, sizeof(why)) < 0) {
			snprintf(err, errlen, "the run object of the event's batch[%zu] is unusable: %s", k, why);
			goto bad;
		}
	}
	if (!members && ops->check(run, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "the event's run object is unusable: %s", why);
		goto bad;
	}
	if (ht_json_int_in(ev, "timeout_s", 1, HT_TIMEOUT_MAX_S, 0, &timeout_s) < 0) {
		snprintf(err, errlen, "the event's timeout_s must be an integer from 1 to %d", HT_TIMEOUT_MAX_S);
		goto bad;
	}
	if (ht_json_int_in(ev, "max_output_mb", 1, OUTPUT_MB_MAX, OUTPUT_MB_DEFAULT, &output_mb) < 0) {
		snprintf(err, errlen, "the event's max_output_mb must be an integer from 1 to %d", OUTPUT_MB_MAX);
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

	u.ops = ops;
	u.run = run;
	u.run_id = run_id;
	u.test_id = test_id;
	u.name = name;
	u.file = ht_json_str(ev, "file", NULL);
	u.attempt = attempt;
	u.limit_ms = limit_ms;
	u.margin_ms = margin_ms;
	u.output_max = output_mb * MIB;
	/* The uploads stop in time for the answer: a test that reached its
	 * deadline is answered as timed_out, whatever it left to store. */
	r->bucket.deadline_ms = deadline_wall_ms > 0 ? ht_now_ms() + (deadline_wall_ms - ht_wall_ms()) - ANSWER_MS : 0;
	rec = members ? rn_run_batch(r, &u, members) : rn_run_unit(r, &u);
	r->bucket.deadline_ms = 0;
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
 * sandbox; else the host), the request, whether this process had
 * served an invocation before (a warm start) or not (cold), and the
 * image's project tree.
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
	/* The project tree the image holds (ht-build's HT_TREE), so that a
	 * result says which files ran. */
	w = getenv("HT_TREE");
	if (w && ht_digest_valid(w))
		ht_json_set_str(rec, "tree", w);
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
		r->rt = rt;
		r->request_id = inv.request_id;
		rec = run_event(r, inv.body, inv.len, inv.deadline_ms, err, sizeof(err));
		r->request_id = NULL;
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
	int c, code, chan;

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
	/* Orphans of the tests are ours to kill; the tests cannot read our
	 * environment (the Runtime API's token) or memory. */
	if (ht_proc_guard() < 0)
		ht_warning("what a test leaves running may outlive it");

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
	env = getenv("HT_RUNTIME_TEST_EVENTS");
	r.test_events = env && !strcmp(env, "1");
	env = getenv("HT_RUNTIME_CHANNEL");
	chan = env ? channel_socket(env) : -1;
	env = getenv("HT_MEMORY_LIMIT_MB");
	if (env && *env) {
		long mb;

		if (ht_parse_long(env, 1, 1048576, &mb) < 0)
			ht_die(HT_EXIT_USAGE, "HT_MEMORY_LIMIT_MB: '%s' is not a number of MiB from 1 to 1048576", env);
		r.memory_mb = mb;
	}
	env = getenv("HT_WORK_DIR");
	if (env && *env)
		r.work_root = ht_xstrdup(env);
	else if (once)
		r.work_root = ht_xasprintf("/tmp/ht-%lu", (unsigned long)getuid());
	else
		r.work_root = ht_xstrdup("/tmp/ht");
	/* HT_WRITABLE_TASK=1 (the image asks, image.writable_task): a
	 * read-only task root is copied into /tmp and the tests run there;
	 * "always" copies a writable one too (the local provider's plain
	 * processes, whose task root is the real project). */
	env = getenv("HT_WRITABLE_TASK");
	if (env && (!strcmp(env, "always") || (!strcmp(env, "1") && access(r.task_root, W_OK) != 0))) {
		const char *t = getenv("TMPDIR");

		if (once)
			r.copy_dir = ht_xasprintf("%s-task", r.work_root);
		else
			r.copy_dir = ht_xasprintf("%s/task", t && *t == '/' ? t : "/tmp");
		/* The local provider's state directory, when it is in the
		 * project: its bucket and images are no test's business. */
		env = getenv("HT_WRITABLE_TASK_EXCLUDE");
		if (env && *env && *env != '/' && !strstr(env, ".."))
			r.copy_exclude = ht_xasprintf("%s/%s", r.task_root, env);
	}

	memset(&rt, 0, sizeof(rt));
	rt.chan = -1;
	if (!once && ht_runtime_init(&rt, getenv("AWS_LAMBDA_RUNTIME_API")) < 0) {
		free(r.task_root);
		free(r.work_root);
		free(r.copy_dir);
		free(r.copy_exclude);
		return HT_EXIT_USAGE;
	}
	if (chan >= 0 && !once)
		ht_runtime_use_channel(&rt, chan);
	else if (chan >= 0)
		close(chan);

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
			free(r.copy_dir);
			free(r.copy_exclude);
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
	free(r.copy_dir);
	free(r.copy_exclude);
	return ht_finish_stdout(code);
}
