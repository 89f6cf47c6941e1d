/*
 * ht-doctor: checks what hypertest needs and says what to fix; prints the
 * effective configuration and the schema of hypertest.json. See
 * docs/ht-doctor.md.
 *
 * The configuration is checked here; every other check is the
 * configured provider's (its ops' checks table, providers/NAME/doctor.c):
 * it fills a struct ht_check with ok, a message and, when not ok, a fix;
 * run_checks() writes the ht.check/1 record and the line on stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/ht.h"
#include "providers/local/settings.h"
#include "providers/aws/settings.h"
#include "ht/config.h"
#include "ht/http.h"
#include "ht/imageref.h"
#include "ht/id.h"
#include "ht/runner.h"
#include "ht/bucket.h"
#include "ht/proc.h"
#include "ht/provider.h"
#include "ht/text.h"

static const struct ht_tool tool = {
	"ht-doctor", "[OPTIONS]",
	"Check the configuration and the sandbox, and say what to fix.",
	"      --print-config    print the effective configuration (ht.config/1) and exit\n"
	"      --print-schema    print every configuration key (ht.setting/1) and exit\n"
	"      --json            ht.check/1 records on stdout even when it is a terminal\n"
	"      --try NAME        run the test NAME (or test_id) once, as ht-invoke would, and show its\n"
	"                        outcome, its output and the environment it saw\n",
};

enum { OPT_PRINT_CONFIG = 0x2000, OPT_PRINT_SCHEMA, OPT_JSON, OPT_TRY };

/* stdout is a terminal and --json was not given: the checks as a list
 * for a person on stdout, no records, no lines on stderr. */
static int for_person;
static int nchecks, nfailed;

/* The configuration, once it loaded. */
static void check_config(const struct ht_config *cfg, struct ht_check *r)
{
	/* Loading happened in run_checks(), which reports a failure itself. */
	if (cfg->path)
		ht_check_ok(r, "%s is valid (provider %s)", cfg->path, cfg->provider);
	else
		ht_check_ok(r, "no config file; using defaults, HT_* variables and --set (provider %s)",
			 cfg->provider);
}

/* Says one line on stderr about a check (unless --quiet). */
static void say(const char *level, const char *fmt, ...) HT_PRINTF(2, 3);
static void say(const char *level, const char *fmt, ...)
{
	va_list ap;

	if (ht_verbosity < 0 && strcmp(level, "error") != 0)
		return;
	va_start(ap, fmt);
	ht_vlog(level, fmt, ap);
	va_end(ap);
}

/* Writes the record and the line of one check; 1 when it failed. */
static int report(const char *name, struct ht_check *r, int quiet_error)
{
	json_t *rec;

	nchecks++;
	nfailed += !r->ok;
	if (for_person) {
		printf("  %-7s %-16s %s\n", !r->ok ? "error" : r->warning ? "warning" : "ok", name,
		       r->message ? r->message : "");
		if ((!r->ok || r->warning) && r->fix)
			printf("  %-7s %-16s fix: %s\n", "", "", r->fix);
		return !r->ok;
	}
	rec = ht_record_new("ht.check/1");
	ht_json_set_str(rec, "check", name);
	json_object_set_new(rec, "ok", json_boolean(r->ok));
	ht_json_set_str(rec, "message", r->message ? r->message : "");
	if (r->fix)
		ht_json_set_str(rec, "fix", r->fix);
	if (r->details)
		json_object_set(rec, "details", r->details);
	if (r->warning)
		json_object_set_new(rec, "warning", json_true());
	ht_record_write(stdout, rec, 1);
	json_decref(rec);
	if (r->ok && r->warning) {
		say("warning", "%s: %s", name, r->message);
		if (r->fix)
			say("info", "  fix: %s", r->fix);
		return 0;
	}
	if (r->ok) {
		say("info", "ok: %s: %s", name, r->message);
		return 0;
	}
	if (!quiet_error)
		say("error", "%s: %s", name, r->message);
	if (r->fix)
		say("info", "  fix: %s", r->fix);
	return 1;
}

/* Whether the config (its file, a variable or --set) says anything of a
 * test runner: defaults alone do not. */
static int has_runner(const struct ht_config *cfg)
{
	const char *k;
	json_t *v;

	json_object_foreach(cfg->origin, k, v)
		if (!strncmp(k, "runner.", 7))
			return 1;
	return 0;
}

/*
 * The runner's checks: the listing runs as ht-plan runs it and finds
 * tests; the program of the first test's command is on the tests' PATH
 * (runner.env.PATH, else HT_TEST_PATH), or a file of the project.
 */
static int check_runner(const struct ht_config *cfg)
{
	const struct ht_runner_ops *ops = ht_runner_find(cfg->runner.name ? cfg->runner.name : "command");
	struct ht_check r = { 0 };
	struct ht_test_list tests;
	json_t *run = NULL;
	char *id;
	int failed = 0, rc;

	if (!ops)
		return 0; /* the config check said so */
	ht_diag_clear_error();
	ht_diag_muted = for_person;
	rc = ht_config_require(cfg, "runner");
	ht_test_list_init(&tests);
	if (rc == 0)
		rc = ops->list(cfg, 60 * 1000, &tests);
	ht_diag_muted = 0;
	if (rc) {
		ht_check_fail(&r, "run ht-plan to see the listing's own output; docs/runner-command.md (listing tests)",
			      "%s", ht_diag_last_error()[0] ? ht_diag_last_error() : "the listing failed");
		failed |= report("runner_list", &r, 1);
		ht_check_release(&r);
		ht_test_list_release(&tests);
		return failed;
	}
	ht_check_ok(&r, "the %s runner lists %zu test%s (the first: %s)", ops->name, tests.n, tests.n == 1 ? "" : "s",
		    tests.v[0].name);
	failed |= report("runner_list", &r, 0);
	ht_check_release(&r);

	id = ht_test_id(tests.v[0].name);
	ht_diag_muted = for_person;
	rc = ops->plan(cfg, &tests.v[0], id, &run);
	ht_diag_muted = 0;
	free(id);
	if (rc == 0) {
		json_t *argv = json_object_get(run, "argv"), *env = json_object_get(run, "env");
		const char *prog = json_string_value(json_array_get(argv, 0));
		const char *path = json_string_value(json_object_get(env, "PATH"));
		char *envv[2] = { NULL, NULL }, *found = NULL;

		if (!prog && json_object_get(run, "shell"))
			prog = "/bin/sh";
		envv[0] = ht_xasprintf("PATH=%s", path ? path : HT_TEST_PATH);
		if (prog && strchr(prog, '/') && prog[0] != '/') {
			char *p = ht_path_join(cfg->root, prog);

			if (access(p, F_OK) == 0)
				found = ht_xstrdup(prog);
			free(p);
		} else if (prog) {
			found = ht_runner_which(envv, prog);
			if (found && prog[0] == '/' && access(prog, X_OK) != 0) {
				free(found);
				found = NULL;
			}
		}
		int in_image = !strcmp(cfg->provider, "aws") ||
			       (ht_local_settings(cfg)->root && !strcmp(ht_local_settings(cfg)->root, "image"));

		if (in_image)
			ht_check_ok(&r, "the tests' command runs '%s' in the image: not looked up on this machine",
				    prog ? prog : "?");
		else if (!prog)
			ht_check_ok(&r, "the %s runner's command has no program to look up", ops->name);
		else if (found)
			ht_check_ok(&r, "the tests' command runs '%s' (%s), on the tests' PATH", prog, found);
		else
			ht_check_fail(&r, "install it for the tests, give its full path, or add its directory to "
					  "runner.env.PATH (tests get PATH=" HT_TEST_PATH ", not yours)",
				      "the tests' command runs '%s', which is not on the tests' PATH (%s)", prog,
				      envv[0] + 5);
		if (prog && !in_image)
			r.details = json_pack("{s:s, s:s?}", "program", prog, "found", found);
		failed |= report("runner_program", &r, 0);
		ht_check_release(&r);
		free(found);
		free(envv[0]);
		json_decref(run);
	} else {
		ht_check_fail(&r, "run ht-plan to see why", "%s",
			      ht_diag_last_error()[0] ? ht_diag_last_error() : "the first test cannot be planned");
		failed |= report("runner_program", &r, 1);
		ht_check_release(&r);
	}
	ht_test_list_release(&tests);
	return failed;
}

static int run_checks(void)
{
	struct ht_config cfg;
	int loaded = ht_config_load(&cfg, ht_cli.config_path, ht_cli.sets) == 0;
	const struct ht_provider_ops *ops;
	struct ht_check r = { 0, NULL, NULL, NULL, 0 };
	int failed;
	size_t i;

	if (!loaded) {
		int code = cfg.error_code;

		/* The loader printed why already. */
		ht_check_fail(&r, "correct the configuration as the message says; "
			      "docs/configuration.md describes every key",
			      "%s", cfg.error ? cfg.error : "the configuration does not load");
		report("config", &r, 1);
		ht_check_release(&r);
		ht_config_release(&cfg);
		return code;
	}
	check_config(&cfg, &r);
	failed = report("config", &r, 0);
	ht_check_release(&r);
	ops = ht_provider_find(cfg.provider);
	for (i = 0; ops && ops->checks && ops->checks[i].name; i++) {
		ht_diag_muted = for_person; /* the check's message says it once */
		ops->checks[i].run(&cfg, &r);
		ht_diag_muted = 0;
		failed |= report(ops->checks[i].name, &r, 0);
		ht_check_release(&r);
	}
	if (has_runner(&cfg))
		failed |= check_runner(&cfg);
	ht_config_release(&cfg);
	if (for_person) {
		if (nfailed)
			printf("%d of %d checks failed\n", nfailed, nchecks);
		else
			printf("all %d checks passed\n", nchecks);
	}
	return failed ? HT_EXIT_FAILED : HT_EXIT_OK;
}

static int print_config(void)
{
	struct ht_config cfg;
	json_t *rec;

	ht_config_load_or_die(&cfg);
	rec = ht_record_new("ht.config/1");
	json_object_set_new(rec, "file", cfg.path ? json_string(cfg.path) : json_null());
	ht_json_set_str(rec, "root", cfg.root);
	json_object_update(rec, cfg.json);
	json_object_set(rec, "origin", cfg.origin);
	ht_record_write(stdout, rec, 0);
	json_decref(rec);
	ht_config_release(&cfg);
	return HT_EXIT_OK;
}

static int print_schema(void)
{
	static const char *const types[] = {
		[HT_CT_SECTION] = "section", [HT_CT_STRING] = "string", [HT_CT_ENUM] = "enum",
		[HT_CT_INT] = "integer", [HT_CT_BOOL] = "boolean",
		[HT_CT_STRLIST] = "string list", [HT_CT_STRMAP] = "string map",
		[HT_CT_GROUPS] = "group list",
	};
	const struct ht_config_key *k;
	size_t i;

	for (i = 0; (k = ht_config_key_at(i)); i++) {
		json_t *rec = ht_record_new("ht.setting/1");
		char env[128];

		ht_json_set_str(rec, "key", k->path);
		ht_json_set_str(rec, "type", types[k->type]);
		if (k->type != HT_CT_SECTION) {
			ht_config_env_name(k->path, env, sizeof(env));
			ht_json_set_str(rec, "env", env);
			json_object_set_new(rec, "default", k->dflt ? json_string(k->dflt) : json_null());
			if (k->dflt_doc)
				ht_json_set_str(rec, "default_doc", k->dflt_doc);
		}
		if (k->type == HT_CT_INT) {
			ht_json_set_int(rec, "min", k->min);
			ht_json_set_int(rec, "max", k->max);
		}
		if (k->type == HT_CT_ENUM) {
			json_t *choices = json_array();
			const char *c = k->choices;

			while (*c) {
				size_t n = strcspn(c, "|");

				json_array_append_new(choices, json_stringn(c, n));
				c += n + (c[n] == '|');
			}
			json_object_set_new(rec, "choices", choices);
		}
		ht_json_set_str(rec, "doc", k->doc);
		ht_record_write(stdout, rec, 0);
		json_decref(rec);
	}
	return HT_EXIT_OK;
}


/* --- --try NAME ---------------------------------------------------------------- */

/* A sibling tool of this one (ht-plan, ht-invoke): a new string. */
static char *sibling(const char *name)
{
	char *dir = ht_self_dir(), *p = dir ? ht_path_join(dir, name) : ht_xstrdup(name);

	free(dir);
	return p;
}

/* argv for a sibling with the caller's -c and --set, then extra (NULL-ended). */
static char **tool_argv(const char *tool_name, const char *const *extra)
{
	size_t n = 0, cap = 8 + 2 * (size_t)ht_cli.nsets, i;
	char **v = ht_xcalloc(cap + 16, sizeof(*v));

	v[n++] = sibling(tool_name);
	if (ht_cli.config_path) {
		v[n++] = ht_xstrdup("-c");
		v[n++] = ht_xstrdup(ht_cli.config_path);
	}
	for (i = 0; ht_cli.sets && ht_cli.sets[i]; i++) {
		v[n++] = ht_xstrdup("--set");
		v[n++] = ht_xstrdup(ht_cli.sets[i]);
	}
	for (i = 0; extra[i] && n < cap + 15; i++)
		v[n++] = ht_xstrdup(extra[i]);
	v[n] = NULL;
	return v;
}

/* What the test's command is wrapped in: it writes the environment the
 * test sees (values of names that look secret hidden) into its output
 * directory, then runs the command. */
#define ENV_DUMP                                                                                            \
	"(env | LC_ALL=C sort | sed -E 's/^([^=]*(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|SESSION|" \
	"RUNTIME_API)[^=]*)=.*/\\1=(hidden)/I') >\"$HT_OUTPUT_DIR/ht-try-env.txt\" 2>/dev/null"

static int wrap_run(json_t *run)
{
	json_t *argv = json_object_get(run, "argv"), *shell = json_object_get(run, "shell");

	if (json_is_array(argv) && json_array_size(argv)) {
		json_t *w = json_pack("[s, s, s, s]", "/bin/sh", "-c", ENV_DUMP "; exec \"$@\"", "sh");

		json_array_extend(w, argv);
		json_object_set_new(run, "argv", w);
		return 1;
	}
	if (json_is_string(shell)) {
		char *s = ht_xasprintf(ENV_DUMP "; %s", json_string_value(shell));

		json_object_set_new(run, "shell", json_string(s));
		free(s);
		return 1;
	}
	return 0;
}

/* Prints the file key of the run's bucket, or says it could not. */
static void show_bucket_file(const struct ht_config *cfg, const char *key, const char *title)
{
	const struct ht_provider_ops *ops = ht_provider_find(cfg->provider);
	struct ht_bucket b;
	char *data = NULL;
	size_t len = 0;

	memset(&b, 0, sizeof(b));
	printf("%s:\n", title);
	if (!ops || !ops->bucket || ops->bucket(cfg, &b) < 0 || b.ops->get(&b, key, 1 << 20, &data, &len) < 0) {
		printf("  (not kept: %s)\n", key);
	} else {
		char *line, *save = NULL;

		for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			printf("  %s\n", line);
	}
	free(data);
	ht_bucket_release(&b);
}

static int try_test(const char *name)
{
	char run_id[48], rnd[HT_UUID_LEN + 1], *plan_out = NULL, **argv, tmpl[] = "/tmp/ht-try.XXXXXX";
	const char *extra[6];
	struct ht_proc p;
	struct ht_config cfg;
	json_t *chosen = NULL, *res = NULL;
	char *line, *save = NULL, *plan_path, *res_path;
	int code = HT_EXIT_OK, wrapped, nnames = 0;
	FILE *fp;

	ht_config_load_or_die(&cfg);
	if (ht_uuid4(rnd) < 0)
		ht_die(HT_EXIT_SOFTWARE, "cannot make a run id");
	rnd[8] = '\0';
	snprintf(run_id, sizeof(run_id), "try-%s", rnd);
	extra[0] = "-q";
	extra[1] = "--run-id";
	extra[2] = run_id;
	/* One test per record, even where the runner batches by default
	 * (pytest, playwright): the test is tried alone. */
	extra[3] = "--set";
	extra[4] = "batch_target_ms=0";
	extra[5] = NULL;

	/* The plan, as ht-plan makes it; the test by its name or test_id. */
	argv = tool_argv("ht-plan", extra);
	ht_proc_init(&p, argv);
	if (ht_proc_capture(&p, 256 << 20, &plan_out) < 0 || !p.exited || p.exit_code != 0) {
		ht_error("--try: ht-plan failed (exit %d): its message is above", p.exited ? p.exit_code : 128 + p.signal);
		code = p.exited && p.exit_code ? p.exit_code : HT_EXIT_OSERR;
		goto out;
	}
	for (line = strtok_r(plan_out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *rec = json_loads(line, 0, NULL);

		if (rec && !chosen && (!strcmp(ht_json_str(rec, "name", ""), name) ||
				       !strcmp(ht_json_str(rec, "test_id", ""), name)))
			chosen = json_incref(rec);
		else if (rec && strstr(ht_json_str(rec, "name", ""), name) && nnames < 5) {
			if (!nnames++)
				fprintf(stderr, "ht-doctor: tests whose names hold '%s':\n", name);
			fprintf(stderr, "  %s\n", ht_json_str(rec, "name", ""));
		}
		json_decref(rec);
	}
	if (!chosen) {
		ht_error("--try: no test is named '%s' (nor has that test_id)%s", name,
			 nnames ? "; see the names above" : "");
		code = HT_EXIT_NOINPUT;
		goto out;
	}
	wrapped = wrap_run(json_object_get(chosen, "run"));

	/* Run it as ht-invoke runs it: once, no retries. */
	if (!mkdtemp(tmpl))
		ht_die(HT_EXIT_IOERR, "cannot make a temporary directory: %s", strerror(errno));
	plan_path = ht_path_join(tmpl, "plan.jsonl");
	res_path = ht_path_join(tmpl, "results.jsonl");
	fp = fopen(plan_path, "w");
	if (!fp || ht_record_write(fp, chosen, 0) < 0 || fclose(fp) != 0)
		ht_die(HT_EXIT_IOERR, "cannot write '%s'", plan_path);
	{
		const char *inv[] = { "-q", "--retries", "0", "--infra-retries", "0", "-o", res_path, plan_path, NULL };
		char **iargv = tool_argv("ht-invoke", inv);

		ht_strv_free(argv);
		argv = iargv;
	}
	printf("trying %s (%s), run %s, as ht-invoke runs it\n", ht_json_str(chosen, "name", ""),
	       ht_json_str(chosen, "test_id", ""), run_id);
	fflush(stdout);
	ht_proc_init(&p, argv);
	fp = NULL;
	if (ht_proc_run(&p) < 0 || !(fp = fopen(res_path, "r")) ||
	    ht_record_read_one(fp, res_path, "ht.result/1", NULL, &res) < 0) {
		ht_error("--try: ht-invoke gave no result (exit %d)", p.exited ? p.exit_code : 128 + p.signal);
		code = HT_EXIT_SOFTWARE;
	} else {
		const char *tail = ht_json_str(res, "output_tail", NULL);
		char *key;

		printf("outcome: %s in %lld ms%s%s\n", ht_json_str(res, "status", "?"), ht_json_int(res, "duration_ms", 0),
		       ht_json_str(res, "message", NULL) ? ": " : "", ht_json_str(res, "message", ""));
		if (tail && tail[0])
			printf("output (its end):\n%s%s", tail, tail[strlen(tail) - 1] == '\n' ? "" : "\n");
		if (wrapped) {
			key = ht_xasprintf("%s/%s/out/ht-try-env.txt", run_id, ht_json_str(chosen, "test_id", ""));
			show_bucket_file(&cfg, key, "the environment it saw (values of secret-looking names hidden)");
			free(key);
		}
		code = strcmp(ht_json_str(res, "status", ""), "passed") ? HT_EXIT_FAILED : HT_EXIT_OK;
	}
	if (fp)
		fclose(fp);
	unlink(plan_path);
	unlink(res_path);
	rmdir(tmpl);
	free(plan_path);
	free(res_path);
out:
	ht_strv_free(argv);
	free(plan_out);
	json_decref(chosen);
	json_decref(res);
	ht_config_release(&cfg);
	return code;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "print-config", no_argument, 0, OPT_PRINT_CONFIG },
		{ "print-schema", no_argument, 0, OPT_PRINT_SCHEMA },
		{ "json", no_argument, 0, OPT_JSON },
		{ "try", required_argument, 0, OPT_TRY },
		{ 0, 0, 0, 0 }
	};
	int mode = 0, json = 0;
	const char *try_name = NULL;
	int c;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		if (c == OPT_PRINT_CONFIG || c == OPT_PRINT_SCHEMA)
			mode = c;
		else if (c == OPT_JSON)
			json = 1;
		else if (c == OPT_TRY)
			try_name = optarg;
	}
	for_person = !json && isatty(STDOUT_FILENO);
	if (optind < argc)
		ht_usage_error(&tool, "unexpected argument '%s'", argv[optind]);
	if (try_name)
		c = try_test(try_name);
	else if (mode == OPT_PRINT_SCHEMA)
		c = print_schema();
	else if (mode == OPT_PRINT_CONFIG)
		c = print_config();
	else
		c = run_checks();
	ht_http_cleanup();
	free(ht_cli.sets);
	return ht_finish_stdout(c);
}
