/*
 * ht-doctor: checks what hypertest needs and says what to fix; prints the
 * effective configuration and the schema of hypertest.json. See
 * docs/ht-doctor.md.
 *
 * A check is one function and one row in checks[]: it fills a struct
 * check with ok, a message and, when not ok, a fix; main writes the
 * ht.check/1 record and the line on stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/ht.h"
#include "providers/aws/deploy.h"
#include "ht/config.h"
#include "providers/aws/ecr.h"
#include "ht/imageref.h"

static const struct ht_tool tool = {
	"ht-doctor", "[OPTIONS]",
	"Check the configuration and the sandbox, and say what to fix.",
	"      --print-config    print the effective configuration (ht.config/1) and exit\n"
	"      --print-schema    print every configuration key (ht.setting/1) and exit\n",
};

enum { OPT_PRINT_CONFIG = 0x2000, OPT_PRINT_SCHEMA };

/* What a check found. message and fix are new strings; details (may be
 * NULL) is a new reference added to the record. */
struct check {
	int ok;
	char *message;
	char *fix;
	json_t *details;
};

static void check_ok(struct check *r, const char *fmt, ...) HT_PRINTF(2, 3);
static void check_ok(struct check *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r->ok = 1;
	if (vasprintf(&r->message, fmt, ap) < 0)
		r->message = NULL;
	va_end(ap);
}

static void check_fail(struct check *r, const char *fix, const char *fmt, ...) HT_PRINTF(3, 4);
static void check_fail(struct check *r, const char *fix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r->ok = 0;
	if (vasprintf(&r->message, fmt, ap) < 0)
		r->message = NULL;
	va_end(ap);
	r->fix = fix ? ht_xstrdup(fix) : NULL;
}

/* The configuration, once it loaded. */
static void check_config(const struct ht_config *cfg, struct check *r)
{
	/* Loading happened in run_checks(), which reports a failure itself. */
	if (cfg->path)
		check_ok(r, "%s is valid (provider %s)", cfg->path, cfg->provider);
	else
		check_ok(r, "no config file; using defaults, HT_* variables and --set (provider %s)",
			 cfg->provider);
}

/* Reads at most one line of what a probe said on stderr. */
static char *first_line(FILE *fp)
{
	char line[512] = "";
	size_t n;

	rewind(fp);
	if (!fgets(line, sizeof(line), fp))
		return ht_xstrdup("no message");
	n = strcspn(line, "\n");
	line[n] = '\0';
	return ht_xstrdup(*line ? line : "no message");
}

/* The local provider's sandbox: bubblewrap present and able to run. */
static void check_sandbox(const struct ht_config *cfg, struct check *r)
{
	static const char install[] =
		"install bubblewrap (apt-get install bubblewrap) and allow unprivileged user "
		"namespaces, or set local.sandbox to \"none\"";
	char ro[] = "--ro-bind", slash[] = "/", tmpfs[] = "--tmpfs", tmp[] = "/tmp";
	char pid[] = "--unshare-pid", dashes[] = "--", prog[] = "true";
	char *argv[] = { NULL, ro, slash, slash, tmpfs, tmp, pid, dashes, prog, NULL };
	int required = strcmp(cfg->local.sandbox, "bwrap") == 0;
	struct ht_proc p;
	char *bwrap;
	char *why;
	FILE *err;

	if (strcmp(cfg->provider, "local") != 0) {
		check_ok(r, "not used by provider %s", cfg->provider);
		return;
	}
	if (strcmp(cfg->local.sandbox, "none") == 0) {
		check_ok(r, "off (local.sandbox is \"none\"): tests run as plain processes");
		return;
	}
	bwrap = ht_which("bwrap");
	if (!bwrap) {
		if (required)
			check_fail(r, install, "bwrap not found in PATH, and local.sandbox is \"bwrap\"");
		else
			check_fail(r, install, "bwrap not found in PATH: tests would run without a sandbox");
		return;
	}
	r->details = json_pack("{s:s}", "bwrap", bwrap);
	argv[0] = bwrap;
	err = tmpfile();
	ht_proc_init(&p, argv);
	p.stdout_fd = err ? fileno(err) : -1;
	p.stderr_fd = p.stdout_fd;
	p.deadline_ms = ht_now_ms() + 10000;
	if (ht_proc_run(&p) < 0) {
		check_fail(r, install, "cannot run %s", bwrap);
	} else if (p.exited && p.exit_code == 0) {
		check_ok(r, "%s can run sandboxes", bwrap);
	} else {
		why = err ? first_line(err) : ht_xstrdup("no message");
		check_fail(r, install, "%s cannot run a sandbox (%s): %s", bwrap,
			   ht_proc_describe(&p), why);
		free(why);
	}
	if (err)
		fclose(err);
	free(bwrap);
}

/* --- the aws provider ---------------------------------------------------------- */

/* 1 when the aws checks apply; else passes r saying why not. */
static int aws_used(const struct ht_config *cfg, struct check *r)
{
	if (strcmp(cfg->provider, "aws") == 0)
		return 1;
	check_ok(r, "not used by provider %s", cfg->provider);
	return 0;
}

/* A client from the configuration, quietly; on failure r fails with e's
 * message. */
static int aws_open(const struct ht_config *cfg, struct ht_aws *a, struct check *r)
{
	struct ht_aws_opts o;
	struct ht_aws_error e;

	ht_aws_opts_from_config(&o, cfg);
	if (ht_aws_init(a, &o, &e) < 0) {
		check_fail(r, e.kind == HT_AWS_E_CONFIG ? "set aws.region (or AWS_REGION), and check aws.profile and the "
			   "AWS config files; docs/aws-credentials.md" :
			   "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or set "
			   "AWS_PROFILE to a profile with keys; docs/aws-credentials.md", "%s", e.message);
		return -1;
	}
	return 0;
}

static const char fix_credentials[] =
	"the credentials are refused: renew them (temporary keys expire), check AWS_PROFILE, or "
	"see docs/aws.md for the permissions hypertest needs";

static void check_aws_credentials(const struct ht_config *cfg, struct check *r)
{
	struct ht_aws a;
	struct ht_aws_error e;
	char *account, *arn;

	if (!aws_used(cfg, r) || aws_open(cfg, &a, r) < 0)
		return;
	if (ht_sts_caller_identity(&a, 1, &account, &arn, &e) < 0) {
		check_fail(r, e.kind == HT_AWS_E_CREDENTIALS || e.kind == HT_AWS_E_DENIED ? fix_credentials :
			   "check the network and the endpoints (aws.endpoint)",
			   "credentials from the %s do not work: %s", a.creds.source, e.message);
	} else {
		check_ok(r, "%s (account %s), credentials from the %s", arn ? arn : "?", account, a.creds.source);
		r->details = json_pack("{s:s,s:s,s:s}", "account", account, "arn", arn ? arn : "",
				       "source", a.creds.source);
	}
	free(account);
	free(arn);
	ht_aws_release(&a);
}

static void check_aws_region(const struct ht_config *cfg, struct check *r)
{
	struct ht_aws a;

	if (!aws_used(cfg, r) || aws_open(cfg, &a, r) < 0)
		return;
	check_ok(r, "region %s%s", a.region, cfg->aws.region ? " (aws.region)" : "");
	r->details = json_pack("{s:s}", "region", a.region);
	ht_aws_release(&a);
}

static void check_aws_function(const struct ht_config *cfg, struct check *r)
{
	struct ht_aws a;
	struct ht_aws_error e;
	json_t *fn = NULL, *conf;
	const char *pt;

	if (!aws_used(cfg, r))
		return;
	if (!cfg->aws.function) {
		check_fail(r, "set aws.function to the Lambda function's name (docs/aws.md)", "aws.function is not set");
		return;
	}
	if (aws_open(cfg, &a, r) < 0)
		return;
	if (ht_lambda_function_get(&a, cfg->aws.function, 1, &fn, &e) < 0) {
		if (e.kind == HT_AWS_E_NOT_FOUND)
			check_fail(r, "create the function with package type Image (docs/aws.md), or correct aws.function "
				   "and aws.region", "function '%s' does not exist in region %s", cfg->aws.function,
				   a.region);
		else
			check_fail(r, e.kind == HT_AWS_E_DENIED ? "allow lambda:GetFunction (docs/aws.md)" : fix_credentials,
				   "%s", e.message);
	} else {
		conf = json_object_get(fn, "Configuration");
		pt = ht_json_str(conf, "PackageType", "Zip");
		if (strcmp(pt, "Image") != 0)
			check_fail(r, "recreate the function with package type Image: a Zip function cannot run "
				   "hypertest's image", "function '%s' has package type %s, not Image", cfg->aws.function, pt);
		else
			check_ok(r, "function '%s' (Image, %s, %lld MB, %lld s)", cfg->aws.function,
				 json_string_value(json_array_get(json_object_get(conf, "Architectures"), 0)) ?
				 json_string_value(json_array_get(json_object_get(conf, "Architectures"), 0)) : "x86_64",
				 ht_json_int(conf, "MemorySize", 0), ht_json_int(conf, "Timeout", 0));
		r->details = json_pack("{s:s,s:s}", "arn", ht_json_str(conf, "FunctionArn", ""), "package_type", pt);
	}
	json_decref(fn);
	ht_aws_release(&a);
}

static void check_aws_bucket(const struct ht_config *cfg, struct check *r)
{
	struct ht_aws a;
	struct ht_aws_error e;

	if (!aws_used(cfg, r))
		return;
	if (!cfg->aws.bucket) {
		check_fail(r, "set aws.bucket to an S3 bucket in the function's region (docs/aws.md)", "aws.bucket is not set");
		return;
	}
	if (aws_open(cfg, &a, r) < 0)
		return;
	if (ht_s3_head_bucket(&a, cfg->aws.bucket, 1, &e) == 0)
		check_ok(r, "bucket '%s' exists", cfg->aws.bucket);
	else if (e.kind == HT_AWS_E_NOT_FOUND)
		check_fail(r, "create it (aws s3 mb s3://BUCKET --region REGION), or correct aws.bucket",
			   "bucket '%s' does not exist", cfg->aws.bucket);
	else
		check_fail(r, e.kind == HT_AWS_E_DENIED ? "allow s3:ListBucket on the bucket (docs/aws.md)" : fix_credentials,
			   "bucket '%s': %s", cfg->aws.bucket, e.message);
	ht_aws_release(&a);
}

static void check_aws_repository(const struct ht_config *cfg, struct check *r)
{
	struct ht_imageref ref;
	enum ht_ecr_mode mode = HT_ECR_AUTO;
	struct ht_aws_opts o;
	struct ht_aws a;
	struct ht_aws_error e;
	char *account = NULL, *region = NULL;
	int created;

	if (!aws_used(cfg, r))
		return;
	if (!cfg->image.repository) {
		check_ok(r, "image.repository is not set: give ht-push a destination");
		return;
	}
	ht_imageref_init(&ref);
	if (ht_imageref_parse(&ref, cfg->image.repository, NULL) < 0 || ref.kind != HT_REF_REGISTRY) {
		check_fail(r, "write image.repository as ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME",
			   "image.repository '%s' is not a registry reference", cfg->image.repository);
		ht_imageref_release(&ref);
		return;
	}
	ht_ecr_mode_parse(cfg->aws.ecr, &mode);
	if (!ht_ecr_wanted(mode, ref.host)) {
		check_ok(r, "'%s' is not an ECR registry: not checked", ref.registry);
		ht_imageref_release(&ref);
		return;
	}
	ht_aws_opts_from_config(&o, cfg);
	if (ht_ecr_host_parse(ref.host, &account, &region))
		o.region = region;
	if (ht_aws_init(&a, &o, &e) < 0) {
		check_fail(r, "see the credentials check", "%s", e.message);
		goto out;
	}
	if (ht_ecr_repository_ensure(&a, account, ref.repository, 0, 1, &created, &e) == 0)
		check_ok(r, "ECR repository '%s' exists in region %s", ref.repository, a.region);
	else if (e.kind == HT_AWS_E_NOT_FOUND)
		check_fail(r, "create it (aws ecr create-repository --repository-name NAME), or let ht-push do it "
			   "(--create-repository, aws.create_repository)", "ECR repository '%s' does not exist in region %s",
			   ref.repository, a.region);
	else
		check_fail(r, e.kind == HT_AWS_E_DENIED ? "allow ecr:DescribeRepositories (docs/aws.md)" : fix_credentials,
			   "%s", e.message);
	ht_aws_release(&a);
out:
	free(account);
	free(region);
	ht_imageref_release(&ref);
}

static void check_aws_concurrency(const struct ht_config *cfg, struct check *r)
{
	struct ht_aws a;
	struct ht_aws_error e;
	json_t *s = NULL, *lim;
	long long total, unreserved;

	if (!aws_used(cfg, r) || aws_open(cfg, &a, r) < 0)
		return;
	if (ht_lambda_account_settings(&a, 1, &s, &e) < 0) {
		check_fail(r, e.kind == HT_AWS_E_DENIED ? "allow lambda:GetAccountSettings (docs/aws.md)" : fix_credentials,
			   "%s", e.message);
		goto out;
	}
	lim = json_object_get(s, "AccountLimit");
	total = ht_json_int(lim, "ConcurrentExecutions", -1);
	unreserved = ht_json_int(lim, "UnreservedConcurrentExecutions", total);
	r->details = json_pack("{s:I,s:I,s:I}", "concurrent_executions", (json_int_t)total,
			       "unreserved_concurrent_executions", (json_int_t)unreserved, "concurrency",
			       (json_int_t)cfg->concurrency);
	if (unreserved >= 0 && unreserved < cfg->concurrency)
		check_fail(r, "ask AWS for a higher \"Concurrent executions\" quota for Lambda (Service Quotas), "
			   "or lower concurrency; docs/aws.md",
			   "the account allows %lld unreserved concurrent executions (of %lld), fewer than concurrency %ld: "
			   "invocations beyond will be throttled", unreserved, total, cfg->concurrency);
	else
		check_ok(r, "%lld unreserved concurrent executions (of %lld) for concurrency %ld", unreserved, total,
			 cfg->concurrency);
out:
	json_decref(s);
	ht_aws_release(&a);
}

/* The checks, in order. needs_config: skipped when the config did not
 * load; 2: also skipped unless the provider is aws. */
static const struct {
	const char *name;
	int needs_config;
	void (*run)(const struct ht_config *cfg, struct check *r);
} checks[] = {
	{ "config", 0, check_config },
	{ "sandbox", 1, check_sandbox },
	{ "aws_credentials", 2, check_aws_credentials },
	{ "aws_region", 2, check_aws_region },
	{ "aws_function", 2, check_aws_function },
	{ "aws_bucket", 2, check_aws_bucket },
	{ "aws_repository", 2, check_aws_repository },
	{ "aws_concurrency", 2, check_aws_concurrency },
};

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

static int run_checks(void)
{
	struct ht_config cfg;
	int loaded = ht_config_load(&cfg, ht_cli.config_path, ht_cli.sets) == 0;
	int failed = 0;
	size_t i;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		struct check r = { 0, NULL, NULL, NULL };
		json_t *rec;

		if (checks[i].needs_config && !loaded)
			continue;
		if (checks[i].needs_config == 2 && strcmp(cfg.provider, "aws") != 0)
			continue;
		if (!loaded && i == 0)
			check_fail(&r, "correct the configuration as the message says; "
				   "docs/configuration.md describes every key",
				   "%s", cfg.error ? cfg.error : "the configuration does not load");
		else
			checks[i].run(&cfg, &r);
		rec = ht_record_new("ht.check/1");
		ht_json_set_str(rec, "check", checks[i].name);
		json_object_set_new(rec, "ok", json_boolean(r.ok));
		ht_json_set_str(rec, "message", r.message ? r.message : "");
		if (r.fix)
			ht_json_set_str(rec, "fix", r.fix);
		if (r.details)
			json_object_set_new(rec, "details", r.details);
		ht_record_write(stdout, rec, 1);
		json_decref(rec);
		if (r.ok) {
			say("info", "ok: %s: %s", checks[i].name, r.message);
		} else {
			failed = 1;
			if (loaded || i != 0)
				say("error", "%s: %s", checks[i].name, r.message);
			if (r.fix)
				say("info", "  fix: %s", r.fix);
		}
		free(r.message);
		free(r.fix);
	}
	if (!loaded) {
		int code = cfg.error_code;

		ht_config_release(&cfg);
		return code;
	}
	ht_config_release(&cfg);
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
	};
	const struct ht_config_key *k;

	for (k = ht_config_keys; k->path; k++) {
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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "print-config", no_argument, 0, OPT_PRINT_CONFIG },
		{ "print-schema", no_argument, 0, OPT_PRINT_SCHEMA },
		{ 0, 0, 0, 0 }
	};
	int mode = 0;
	int c;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		if (c == OPT_PRINT_CONFIG || c == OPT_PRINT_SCHEMA)
			mode = c;
	}
	if (optind < argc)
		ht_usage_error(&tool, "unexpected argument '%s'", argv[optind]);
	if (mode == OPT_PRINT_SCHEMA)
		c = print_schema();
	else if (mode == OPT_PRINT_CONFIG)
		c = print_config();
	else
		c = run_checks();
	ht_http_cleanup();
	free(ht_cli.sets);
	return ht_finish_stdout(c);
}
