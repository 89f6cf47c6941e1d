/*
 * ht-update: point the Lambda function at a pushed image (by digest) and
 * wait until the update is live; write an ht.function/1 record. See
 * docs/ht-update.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "ht/ht.h"
#include "ht/bucket.h"
#include "ht/manifest.h"
#include "ht/oci.h"
#include "ht/provider.h"
#include "providers/aws/settings.h"
#include "providers/aws/aws.h"
#include "providers/aws/lambda.h"
#include "ht/config.h"

static const struct ht_tool tool = {
	"ht-update", "[OPTIONS]",
	"Point the Lambda function at a pushed image (an ht.pushed/1 record on stdin, or --image-uri)\n"
	"and wait until the update is live.",
	"  -f, --function NAME    the function (default: aws.function)\n"
	"  -i, --image-uri URI    REGISTRY/REPOSITORY@sha256:... instead of a record on stdin\n"
	"  -a, --architecture A   the image's architecture (amd64, arm64) when no record gives it\n"
	"      --timeout S        seconds to wait for the update (default: aws.update_timeout_s, 600)\n"
	"      --poll-ms MS       first wait between two looks at the function (default 1000)\n"
	"      --force            update even when the function runs this image already\n",
};

/* What the tool learned, for the record. Strings are borrowed from the
 * JSON the function answered, from the input, or from the config. */
struct update {
	const char *function, *region, *image_uri, *digest, *arch;
	char *arn, *status, *reason, *reason_code;
	int updated, ok;
	const char *error_code;
	char *error_message;
};

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? ht_xstrdup(v) : NULL;
}

/* Takes what a function's configuration says (a GetFunction answer's
 * "Configuration", or UpdateFunctionCode's answer itself). */
static void take_config(struct update *u, json_t *conf)
{
	if (ht_json_str(conf, "FunctionArn", NULL))
		set_str(&u->arn, ht_json_str(conf, "FunctionArn", NULL));
	set_str(&u->status, ht_json_str(conf, "LastUpdateStatus", NULL));
	set_str(&u->reason, ht_json_str(conf, "LastUpdateStatusReason", NULL));
	set_str(&u->reason_code, ht_json_str(conf, "LastUpdateStatusReasonCode", NULL));
}

static int fail(struct update *u, const char *code, int exit_code, const char *fmt, ...) HT_PRINTF(4, 5);
static int fail(struct update *u, const char *code, int exit_code, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	ht_error("%s", m ? m : "out of memory");
	u->ok = 0;
	u->error_code = code;
	free(u->error_message);
	u->error_message = m;
	return exit_code;
}

/* An AWS error as the record's error, with its exit code. */
static int aws_fail(struct update *u, const struct ht_aws_error *e, const char *what)
{
	return fail(u, ht_aws_errkind_name(e->kind), ht_aws_error_exit(e), "%s: %s", what, e->message);
}

/* 1 when the function's code is already the image with this digest. */
static int image_is_live(json_t *fn, const char *image_uri, const char *digest)
{
	json_t *code = json_object_get(fn, "Code");
	const char *uri = ht_json_str(code, "ImageUri", "");
	const char *resolved = ht_json_str(code, "ResolvedImageUri", "");
	const char *sha = ht_json_str(json_object_get(fn, "Configuration"), "CodeSha256", "");
	const char *at;

	if (strcmp(uri, image_uri) == 0)
		return 1;
	at = strrchr(resolved, '@');
	if (at && strcmp(at + 1, digest) == 0)
		return 1;
	at = strrchr(uri, '@');
	if (at && strcmp(at + 1, digest) == 0)
		return 1;
	return strcmp(sha, digest + 7) == 0;
}

/*
 * Waits until LastUpdateStatus leaves InProgress, looking with backoff
 * (poll_ms, times 1.5, at most 10 s) until deadline_ms. Returns 0 when it
 * is Successful, or an exit code after filling u's error.
 */
static int wait_live(struct ht_aws *a, struct update *u, int64_t poll_ms, int64_t deadline_ms, long timeout_s)
{
	int polls = 0;

	for (;;) {
		struct ht_aws_error e;
		json_t *fn = NULL;
		int64_t now;

		if (!u->status || strcmp(u->status, "Successful") == 0)
			return 0;
		if (strcmp(u->status, "Failed") == 0)
			return fail(u, "update_failed", HT_EXIT_FAILED,
				    "the update of function '%s' failed: %s%s%s%s", u->function,
				    u->reason && *u->reason ? u->reason : "Lambda gave no reason",
				    u->reason_code && *u->reason_code ? " (" : "",
				    u->reason_code && *u->reason_code ? u->reason_code : "",
				    u->reason_code && *u->reason_code ? ")" : "");
		if (strcmp(u->status, "InProgress") != 0)
			return fail(u, "protocol", HT_EXIT_PROTOCOL, "function '%s': unknown LastUpdateStatus '%s'",
				    u->function, u->status);
		now = ht_now_ms();
		if (now >= deadline_ms)
			return fail(u, "timeout", HT_EXIT_TEMPFAIL,
				    "function '%s' is still updating after %ld s (%d looks); it may finish later: "
				    "run ht-update again, or raise aws.update_timeout_s", u->function, timeout_s, polls);
		ht_sleep_ms(poll_ms < deadline_ms - now ? poll_ms : deadline_ms - now);
		poll_ms = poll_ms * 3 / 2;
		if (poll_ms > 10000)
			poll_ms = 10000;
		polls++;
		if (ht_lambda_get_function(a, u->function, 1, &fn, &e) < 0) {
			/* Throttling is retried by the client; anything else ends the wait. */
			return aws_fail(u, &e, "lambda: GetFunction");
		}
		take_config(u, json_object_get(fn, "Configuration"));
		ht_debug("function %s: LastUpdateStatus %s after %d looks", u->function, u->status ? u->status : "?",
			 polls);
		json_decref(fn);
	}
}

/* Reads the ht.pushed/1 record on stdin into *in (new reference). Returns
 * 0, or an exit code. */
static int read_record(json_t **in)
{
	return ht_record_read_one(stdin, "stdin", "ht.pushed/1", "(or give --image-uri)", in);
}

static int update(struct ht_config *cfg, struct update *u, int force, long timeout_s, int64_t poll_ms)
{
	struct ht_aws_opts o;
	struct ht_aws a;
	struct ht_aws_error e;
	json_t *fn = NULL, *conf, *res = NULL;
	const char *ptype, *farch, *want;
	int64_t deadline = ht_now_ms() + (int64_t)timeout_s * 1000;
	int code;

	ht_aws_opts_from_config(&o, cfg);
	if (ht_aws_init(&a, &o, &e) < 0)
		return fail(u, ht_aws_errkind_name(e.kind), ht_aws_error_exit(&e), "%s", e.message);
	u->region = a.region;
	if (ht_lambda_get_function(&a, u->function, 1, &fn, &e) < 0) {
		if (e.kind == HT_AWS_E_NOT_FOUND)
			code = fail(u, "not_found", HT_EXIT_NOINPUT,
				    "function '%s' not found in region %s (%s): check aws.function and aws.region",
				    u->function, a.region, *e.code ? e.code : "404");
		else
			code = aws_fail(u, &e, "lambda: GetFunction");
		goto out;
	}
	conf = json_object_get(fn, "Configuration");
	take_config(u, conf);
	ptype = ht_json_str(conf, "PackageType", "Zip");
	if (strcmp(ptype, "Image") != 0) {
		code = fail(u, "not_image", HT_EXIT_CONFIG,
			    "function '%s' has package type %s, not Image: hypertest needs a container-image "
			    "function (create one with --package-type Image; docs/aws.md)", u->function, ptype);
		goto out;
	}
	farch = json_string_value(json_array_get(json_object_get(conf, "Architectures"), 0));
	if (!farch)
		farch = "x86_64";
	want = ht_lambda_arch_to_oci(farch);
	if (u->arch && (!want || strcmp(want, u->arch) != 0)) {
		code = fail(u, "architecture", HT_EXIT_DATAERR,
			    "function '%s' runs on %s, but the image is for %s: build the image for %s, "
			    "or recreate the function with architecture %s", u->function, farch, u->arch,
			    want ? want : farch, strcmp(u->arch, "arm64") == 0 ? "arm64" : "x86_64");
		goto out;
	}
	if (!u->arch)
		ht_warning("the image's architecture is unknown: not checked against the function's (%s)", farch);
	if (!force && image_is_live(fn, u->image_uri, u->digest) &&
	    (!u->status || strcmp(u->status, "Failed") != 0)) {
		ht_info("function '%s' runs %s already", u->function, u->image_uri);
		code = wait_live(&a, u, poll_ms, deadline, timeout_s);
		goto out;
	}
	/* An update that is still running refuses another one: wait for it. */
	for (;;) {
		if (ht_lambda_update_image(&a, u->function, u->image_uri, &res, &e) == 0)
			break;
		if (e.kind != HT_AWS_E_CONFLICT || ht_now_ms() + poll_ms >= deadline) {
			code = aws_fail(u, &e, "lambda: UpdateFunctionCode");
			goto out;
		}
		ht_debug("function %s is busy (%s): waiting", u->function, e.code);
		ht_sleep_ms(poll_ms);
	}
	u->updated = 1;
	take_config(u, res);
	if (!u->status)
		set_str(&u->status, "InProgress");
	ht_info("function '%s': updating to %s", u->function, u->image_uri);
	code = wait_live(&a, u, poll_ms, deadline, timeout_s);
out:
	u->region = u->region ? ht_xstrdup(u->region) : NULL;
	json_decref(fn);
	json_decref(res);
	ht_aws_release(&a);
	return code;
}

/*
 * Stores the tree manifest of the image with digest (ht-build wrote it
 * into the image, include/ht/manifest.h), read from the local store, in
 * aws.bucket under images/HEX/tree.json, where ht-invoke looks for it to
 * tell whether the function runs the working tree. Never fails the
 * update: a warning says what is missing. Returns the tree hash (new
 * string) or NULL.
 */
static char *store_manifest(const struct ht_config *cfg, const char *digest)
{
	char *dir = cfg->image.store ? ht_config_path(cfg, cfg->image.store) : ht_config_state_path(cfg, "oci");
	struct ht_oci_store st = { 0 };
	struct ht_oci_image img;
	struct ht_bucket b;
	char *key = NULL, *text = NULL, *tree = NULL, *where;
	json_t *m = NULL;
	struct stat sb;
	int r = 0;

	ht_oci_image_init(&img);
	if (!ht_aws_settings(cfg)->bucket) {
		ht_warning("aws.bucket is not set: the image's tree manifest is not stored, and ht-invoke cannot "
			   "tell whether the function runs the working tree");
		goto out;
	}
	if (stat(dir, &sb) < 0 || ht_oci_open(&st, dir, 0) < 0 || ht_oci_has_blob(&st, digest, NULL) != 1) {
		ht_warning("image %s is not in the store '%s': its tree manifest is not stored, and ht-invoke "
			   "cannot tell whether the function runs the working tree", digest, dir);
		goto out;
	}
	if (ht_oci_image_load(&st, digest, &img) < 0 || (r = ht_manifest_from_image(&st, &img, &m)) < 0) {
		ht_warning("the tree manifest of image %s is not stored (above)", digest);
		goto out;
	}
	if (r == 0) {
		ht_info("image %s has no tree manifest (not built by ht-build): nothing to store", digest);
		goto out;
	}
	if (ht_provider_aws.bucket(cfg, &b) == 0) {
		key = ht_manifest_bucket_key(digest);
		text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
		where = ht_bucket_where(&b, key);
		if (ht_bucket_put(&b, key, text, strlen(text)) == 0) {
			ht_info("tree manifest %s stored at %s", ht_manifest_tree(m), where);
			tree = ht_xstrdup(ht_manifest_tree(m));
		} else {
			ht_warning("the tree manifest is not stored at %s (above): ht-invoke cannot tell whether "
				   "the function runs the working tree", where);
		}
		free(where);
	}
	ht_bucket_release(&b);
out:
	free(key);
	free(text);
	json_decref(m);
	ht_oci_image_release(&img);
	if (st.dir)
		ht_oci_close(&st);
	free(dir);
	return tree;
}

int main(int argc, char **argv)
{
	enum { OPT_TIMEOUT = 0x2000, OPT_POLL, OPT_FORCE };
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "function", required_argument, 0, 'f' },
		{ "image-uri", required_argument, 0, 'i' },
		{ "architecture", required_argument, 0, 'a' },
		{ "timeout", required_argument, 0, OPT_TIMEOUT },
		{ "poll-ms", required_argument, 0, OPT_POLL },
		{ "force", no_argument, 0, OPT_FORCE },
		{ 0, 0, 0, 0 }
	};
	const char *function = NULL, *image_uri = NULL, *arch = NULL;
	long timeout_s = -1, poll_ms = 1000;
	int force = 0, c, code;
	struct ht_config cfg;
	struct update u;
	json_t *in = NULL, *rec;
	int64_t t0 = ht_now_ms();
	char *region_copy, *tree = NULL;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "f:i:a:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': function = optarg; break;
		case 'i': image_uri = optarg; break;
		case 'a':
			if (strcmp(optarg, "amd64") && strcmp(optarg, "arm64"))
				ht_usage_error(&tool, "--architecture: expected amd64 or arm64, got '%s'", optarg);
			arch = optarg;
			break;
		case OPT_TIMEOUT:
			if (ht_parse_long(optarg, 1, 86400, &timeout_s) < 0)
				ht_usage_error(&tool, "--timeout: expected 1 to 86400 seconds, got '%s'", optarg);
			break;
		case OPT_POLL:
			if (ht_parse_long(optarg, 1, 60000, &poll_ms) < 0)
				ht_usage_error(&tool, "--poll-ms: expected 1 to 60000, got '%s'", optarg);
			break;
		case OPT_FORCE: force = 1; break;
		default:
			ht_cli_common(&tool, c, optarg);
		}
	}
	if (optind < argc)
		ht_usage_error(&tool, "unexpected argument '%s'", argv[optind]);
	ht_config_load_or_die(&cfg);
	memset(&u, 0, sizeof(u));
	u.ok = 1;
	u.function = function ? function : ht_aws_settings(&cfg)->function;
	if (!u.function) {
		ht_config_release(&cfg);
		ht_usage_error(&tool, "no function: give --function, or set aws.function (HT_AWS_FUNCTION)");
	}
	if (timeout_s < 0)
		timeout_s = ht_aws_settings(&cfg)->update_timeout_s > 0 ? ht_aws_settings(&cfg)->update_timeout_s : 600;
	if (!image_uri) {
		code = read_record(&in);
		if (code) {
			json_decref(in);
			ht_config_release(&cfg);
			return ht_finish_stdout(code);
		}
		if (!ht_json_bool(in, "ok", 1)) {
			/* Pass the failure on. */
			ht_error("stdin:1: the push failed; nothing to update");
			ht_record_write(stdout, in, 1);
			json_decref(in);
			ht_config_release(&cfg);
			return ht_finish_stdout(HT_EXIT_FAILED);
		}
		image_uri = ht_json_str(in, "reference", NULL);
		if (!image_uri) {
			ht_error("stdin:1: the record has no 'reference'");
			json_decref(in);
			ht_config_release(&cfg);
			return ht_finish_stdout(HT_EXIT_DATAERR);
		}
		if (!arch)
			arch = ht_json_str(json_object_get(in, "platform"), "architecture", NULL);
	}
	u.image_uri = image_uri;
	u.digest = strrchr(image_uri, '@');
	if (!u.digest || !ht_digest_valid(u.digest + 1)) {
		ht_error("'%s' is not pinned to a digest (REGISTRY/REPOSITORY@sha256:...): Lambda would resolve "
			 "a tag once, and a later push would not reach the function", image_uri);
		json_decref(in);
		ht_config_release(&cfg);
		return ht_finish_stdout(in ? HT_EXIT_DATAERR : HT_EXIT_USAGE);
	}
	u.digest++;
	u.arch = arch;

	code = update(&cfg, &u, force, timeout_s, poll_ms);
	region_copy = (char *)u.region;
	if (code == 0)
		tree = store_manifest(&cfg, u.digest);

	rec = ht_record_new("ht.function/1");
	json_object_set_new(rec, "ok", json_boolean(code == 0));
	ht_json_set_str(rec, "function", u.function);
	if (u.arn)
		ht_json_set_str(rec, "arn", u.arn);
	if (u.region)
		ht_json_set_str(rec, "region", u.region);
	ht_json_set_str(rec, "image_uri", u.image_uri);
	ht_json_set_str(rec, "digest", u.digest);
	json_object_set_new(rec, "last_update_status", u.status ? json_string(u.status) : json_null());
	if (u.reason && *u.reason)
		ht_json_set_str(rec, "last_update_status_reason", u.reason);
	json_object_set_new(rec, "updated", json_boolean(u.updated));
	if (tree)
		ht_json_set_str(rec, "tree", tree);
	ht_json_set_int(rec, "duration_ms", ht_now_ms() - t0);
	if (code) {
		json_object_set_new(rec, "error", json_pack("{s:s,s:s}", "code", u.error_code ? u.error_code : "failed",
							   "message", u.error_message ? u.error_message : ""));
	}
	ht_record_write(stdout, rec, 1);
	json_decref(rec);

	free(region_copy);
	free(tree);
	free(u.arn);
	free(u.status);
	free(u.reason);
	free(u.reason_code);
	free(u.error_message);
	json_decref(in);
	ht_config_release(&cfg);
	ht_http_cleanup();
	return ht_finish_stdout(code);
}
