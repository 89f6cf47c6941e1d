/*
 * ht-runner: the environment a test runs with.
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

extern char **environ;

/* 1 when the entry kv of our environment is not the test's: one we set
 * for it, one it sets (env), or the Runtime API's address, which is
 * ht-runner's alone (with the local provider it holds the sandbox's
 * token: a test that had it could take the sandbox's next invocation),
 * and ht-runner's channel to the local provider (its own descriptor). */
static int env_overridden(const char *kv, json_t *env)
{
	static const char *const ours[] = { "HOME", "HT_OUTPUT_DIR", "HT_RUN_ID", "HT_TEST_ID", "HT_ATTEMPT",
					    "AWS_LAMBDA_RUNTIME_API", "HT_RUNTIME_CHANNEL", NULL };
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
char **rn_test_env(json_t *run, const char *out_dir, const char *run_id, const char *test_id, long long attempt,
		   const char *task_copy)
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
	v = ht_xcalloc(n + json_object_size(env) + 7, sizeof(*v));
	for (e = environ; *e; e++)
		if (!env_overridden(*e, env) && !(task_copy && ht_starts_with(*e, "LAMBDA_TASK_ROOT=")))
			v[i++] = ht_xstrdup(*e);
	/* The project of a test that runs in the copy is the copy. */
	if (task_copy)
		v[i++] = ht_xasprintf("LAMBDA_TASK_ROOT=%s", task_copy);
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
