/*
 * doctor.c: the aws provider's ht-doctor checks: credentials, region, the
 * function, the bucket, the repository, the account's concurrency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ht/config.h"
#include "ht/imageref.h"
#include "ht/jsonl.h"
#include "ht/provider.h"
#include "ht/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/ecr.h"
#include "providers/aws/lambda.h"
#include "providers/aws/s3.h"
#include "providers/aws/settings.h"
#include "providers/aws/sts.h"

/* 1 when the aws checks apply; else passes r saying why not. */
static int aws_used(const struct ht_config *cfg, struct ht_check *r)
{
	if (strcmp(cfg->provider, "aws") == 0)
		return 1;
	ht_check_ok(r, "not used by provider %s", cfg->provider);
	return 0;
}

/* A client from the configuration, quietly; on failure r fails with e's
 * message. */
static int aws_open(const struct ht_config *cfg, struct ht_aws *a, struct ht_check *r)
{
	struct ht_aws_opts o;
	struct ht_aws_error e;

	ht_aws_opts_from_config(&o, cfg);
	if (ht_aws_init(a, &o, &e) < 0) {
		ht_check_fail(r, e.kind == HT_AWS_E_CONFIG ? "set aws.region (or AWS_REGION), and check aws.profile and the "
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

/* 1 when a libcurl error is one of TLS: the handshake, the certificate. */
static int tls_error(int curl_code)
{
	static const int codes[] = {
		CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ENGINE_NOTFOUND,
		CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE,
		CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
		CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT,
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (curl_code == (int)codes[i])
			return 1;
	return 0;
}

/*
 * The fix for a call of service (at a's endpoint) that failed with e, by
 * its cause: the network and the endpoint, throttling, the service, the
 * credentials, or permission (the IAM action the check needs). Into buf;
 * returns buf. A missing resource is each check's own business.
 */
static const char *fix_for(const struct ht_aws *a, enum ht_aws_service service, const struct ht_aws_error *e,
			   const char *permission, char *buf, size_t n)
{
	const char *url = a->endpoint[service];

	switch (e->kind) {
	case HT_AWS_E_TRANSPORT:
		if (e->curl_code == CURLE_COULDNT_RESOLVE_HOST || e->curl_code == CURLE_COULDNT_RESOLVE_PROXY)
			snprintf(buf, n, "cannot resolve the host of %s: check its name (aws.endpoint, aws.endpoints.*, "
				 "AWS_ENDPOINT_URL, aws.region), DNS and the proxy settings", url);
		else if (tls_error(e->curl_code))
			snprintf(buf, n, "the TLS connection to %s failed: check its certificate and this machine's CA "
				 "certificates (a stand-in with a self-signed certificate needs aws.insecure)", url);
		else
			snprintf(buf, n, "cannot connect to %s: check the network, the proxy settings (HTTPS_PROXY) and "
				 "the endpoint (aws.endpoint, aws.endpoints.*, AWS_ENDPOINT_URL, aws.region)", url);
		break;
	case HT_AWS_E_THROTTLED:
		snprintf(buf, n, "AWS throttled the call (%s): wait a minute and run ht-doctor again",
			 *e->code ? e->code : "429");
		break;
	case HT_AWS_E_UNAVAILABLE:
		snprintf(buf, n, "%s answered %ld%s%s: a problem of the service, not of this setup; try again later "
			 "(AWS Health Dashboard)", url, e->status, *e->code ? " " : "", e->code);
		break;
	case HT_AWS_E_CREDENTIALS:
		if (ht_aws_error_expired(e))
			snprintf(buf, n, "the credentials from the %s expired: renew them (aws sso login, or your "
				 "tool's refresh) and export them again or update profile '%s'; "
				 "docs/aws-credentials.md", a->creds.source ? a->creds.source : "environment", a->profile);
		else
			snprintf(buf, n, "%s", fix_credentials);
		break;
	case HT_AWS_E_DENIED:
		snprintf(buf, n, "allow %s to the credentials' user or role (docs/aws.md)", permission);
		break;
	case HT_AWS_E_CONFLICT:
		snprintf(buf, n, "the resource is busy (an update in progress): wait and run ht-doctor again");
		break;
	case HT_AWS_E_CONFIG:
		snprintf(buf, n, "check aws.region, aws.profile, the endpoints and the AWS config files; "
			 "docs/aws-credentials.md");
		break;
	default:
		snprintf(buf, n, "%s did not answer as AWS does (%ld%s%s): check the endpoint (aws.endpoint, "
			 "aws.endpoints.*, AWS_ENDPOINT_URL)", url, e->status, *e->code ? " " : "", e->code);
		break;
	}
	return buf;
}

static void check_aws_credentials(const struct ht_config *cfg, struct ht_check *r)
{
	struct ht_aws a;
	struct ht_aws_error e;
	char fix[512];
	char *account, *arn;

	if (!aws_used(cfg, r) || aws_open(cfg, &a, r) < 0)
		return;
	if (ht_sts_caller_identity(&a, 1, &account, &arn, &e) < 0) {
		ht_check_fail(r, fix_for(&a, HT_AWS_STS, &e, "sts:GetCallerIdentity", fix, sizeof(fix)),
			   "credentials from the %s do not work: %s", a.creds.source, e.message);
	} else {
		ht_check_ok(r, "%s (account %s), credentials from the %s", arn ? arn : "?", account, a.creds.source);
		r->details = json_pack("{s:s,s:s,s:s}", "account", account, "arn", arn ? arn : "",
				       "source", a.creds.source);
	}
	free(account);
	free(arn);
	ht_aws_release(&a);
}

static void check_aws_region(const struct ht_config *cfg, struct ht_check *r)
{
	struct ht_aws a;

	if (!aws_used(cfg, r) || aws_open(cfg, &a, r) < 0)
		return;
	ht_check_ok(r, "region %s%s", a.region, ht_aws_settings(cfg)->region ? " (aws.region)" : "");
	r->details = json_pack("{s:s}", "region", a.region);
	ht_aws_release(&a);
}

static void check_aws_function(const struct ht_config *cfg, struct ht_check *r)
{
	struct ht_aws a;
	struct ht_aws_error e;
	char fix[512];
	json_t *fn = NULL, *conf;
	const char *pt;

	if (!aws_used(cfg, r))
		return;
	if (!ht_aws_settings(cfg)->function) {
		ht_check_fail(r, "set aws.function to the Lambda function's name (docs/aws.md)", "aws.function is not set");
		return;
	}
	if (aws_open(cfg, &a, r) < 0)
		return;
	if (ht_lambda_get_function(&a, ht_aws_settings(cfg)->function, 1, &fn, &e) < 0) {
		if (e.kind == HT_AWS_E_NOT_FOUND)
			ht_check_fail(r, "create the function with package type Image (docs/aws.md), or correct aws.function "
				   "and aws.region", "function '%s' does not exist in region %s", ht_aws_settings(cfg)->function,
				   a.region);
		else
			ht_check_fail(r, fix_for(&a, HT_AWS_LAMBDA, &e, "lambda:GetFunction", fix, sizeof(fix)),
				   "%s", e.message);
	} else {
		conf = json_object_get(fn, "Configuration");
		pt = ht_json_str(conf, "PackageType", "Zip");
		if (strcmp(pt, "Image") != 0)
			ht_check_fail(r, "recreate the function with package type Image: a Zip function cannot run "
				   "hypertest's image", "function '%s' has package type %s, not Image", ht_aws_settings(cfg)->function, pt);
		else
			ht_check_ok(r, "function '%s' (Image, %s, %lld MB, %lld s)", ht_aws_settings(cfg)->function,
				 json_string_value(json_array_get(json_object_get(conf, "Architectures"), 0)) ?
				 json_string_value(json_array_get(json_object_get(conf, "Architectures"), 0)) : "x86_64",
				 ht_json_int(conf, "MemorySize", 0), ht_json_int(conf, "Timeout", 0));
		r->details = json_pack("{s:s,s:s}", "arn", ht_json_str(conf, "FunctionArn", ""), "package_type", pt);
	}
	json_decref(fn);
	ht_aws_release(&a);
}

static void check_aws_bucket(const struct ht_config *cfg, struct ht_check *r)
{
	struct ht_aws a;
	struct ht_aws_error e;
	char fix[512];

	if (!aws_used(cfg, r))
		return;
	if (!ht_aws_settings(cfg)->bucket) {
		ht_check_fail(r, "set aws.bucket to an S3 bucket in the function's region (docs/aws.md)", "aws.bucket is not set");
		return;
	}
	if (aws_open(cfg, &a, r) < 0)
		return;
	if (ht_s3_head_bucket(&a, ht_aws_settings(cfg)->bucket, 1, &e) == 0)
		ht_check_ok(r, "bucket '%s' exists", ht_aws_settings(cfg)->bucket);
	else if (e.kind == HT_AWS_E_NOT_FOUND)
		ht_check_fail(r, "create it (aws s3 mb s3://BUCKET --region REGION), or correct aws.bucket",
			   "bucket '%s' does not exist", ht_aws_settings(cfg)->bucket);
	else
		ht_check_fail(r, fix_for(&a, HT_AWS_S3, &e, "s3:ListBucket on the bucket", fix, sizeof(fix)),
			   "bucket '%s': %s", ht_aws_settings(cfg)->bucket, e.message);
	ht_aws_release(&a);
}

static void check_aws_repository(const struct ht_config *cfg, struct ht_check *r)
{
	struct ht_imageref ref;
	enum ht_ecr_mode mode = HT_ECR_AUTO;
	struct ht_aws_opts o;
	struct ht_aws a;
	struct ht_aws_error e;
	char fix[512];
	char *account = NULL, *region = NULL;
	int created;

	if (!aws_used(cfg, r))
		return;
	if (!cfg->image.repository) {
		ht_check_ok(r, "image.repository is not set: give ht-push a destination");
		return;
	}
	ht_imageref_init(&ref);
	if (ht_imageref_parse(&ref, cfg->image.repository, NULL) < 0 || ref.kind != HT_REF_REGISTRY) {
		ht_check_fail(r, "write image.repository as ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME",
			   "image.repository '%s' is not a registry reference", cfg->image.repository);
		ht_imageref_release(&ref);
		return;
	}
	ht_ecr_mode_parse(ht_aws_settings(cfg)->ecr, &mode);
	if (!ht_ecr_wanted(mode, ref.host)) {
		ht_check_ok(r, "'%s' is not an ECR registry: not checked", ref.registry);
		ht_imageref_release(&ref);
		return;
	}
	ht_aws_opts_from_config(&o, cfg);
	if (ht_ecr_host_parse(ref.host, &account, &region))
		o.region = region;
	if (ht_aws_init(&a, &o, &e) < 0) {
		ht_check_fail(r, "see the credentials check", "%s", e.message);
		goto out;
	}
	if (ht_ecr_repository_ensure(&a, account, ref.repository, 0, 1, &created, &e) == 0)
		ht_check_ok(r, "ECR repository '%s' exists in region %s", ref.repository, a.region);
	else if (e.kind == HT_AWS_E_NOT_FOUND)
		ht_check_fail(r, "create it (aws ecr create-repository --repository-name NAME), or let ht-push do it "
			   "(--create-repository, aws.create_repository)", "ECR repository '%s' does not exist in region %s",
			   ref.repository, a.region);
	else
		ht_check_fail(r, fix_for(&a, HT_AWS_ECR, &e, "ecr:DescribeRepositories", fix, sizeof(fix)),
			   "%s", e.message);
	ht_aws_release(&a);
out:
	free(account);
	free(region);
	ht_imageref_release(&ref);
}

static void check_aws_concurrency(const struct ht_config *cfg, struct ht_check *r)
{
	struct ht_aws a;
	struct ht_aws_error e;
	char fix[512];
	json_t *s = NULL, *lim;
	long long total, unreserved;

	if (!aws_used(cfg, r) || aws_open(cfg, &a, r) < 0)
		return;
	if (ht_lambda_account_settings(&a, 1, &s, &e) < 0) {
		ht_check_fail(r, fix_for(&a, HT_AWS_LAMBDA, &e, "lambda:GetAccountSettings", fix, sizeof(fix)),
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
		ht_check_fail(r, "ask AWS for a higher \"Concurrent executions\" quota for Lambda (Service Quotas), "
			   "or lower concurrency; docs/aws.md",
			   "the account allows %lld unreserved concurrent executions (of %lld), fewer than concurrency %ld: "
			   "invocations beyond will be throttled", unreserved, total, cfg->concurrency);
	else
		ht_check_ok(r, "%lld unreserved concurrent executions (of %lld) for concurrency %ld", unreserved, total,
			 cfg->concurrency);
out:
	json_decref(s);
	ht_aws_release(&a);
}

const struct ht_provider_check ht_aws_checks[] = {
	{ "aws_credentials", check_aws_credentials },
	{ "aws_region", check_aws_region },
	{ "aws_function", check_aws_function },
	{ "aws_bucket", check_aws_bucket },
	{ "aws_repository", check_aws_repository },
	{ "aws_concurrency", check_aws_concurrency },
	{ NULL, NULL },
};
