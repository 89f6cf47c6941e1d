/*
 * settings.c: the `aws` provider's configuration keys and what it needs.
 */
#include <stddef.h>

#include "ht/config.h"
#include "providers/aws/settings.h"

#define OFF(f) offsetof(struct ht_aws_settings, f)

static const struct ht_config_key keys[] = {
	{ "aws", HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, 0, "The `aws` provider. Credentials are never set here." },
	{ "aws.region", HT_CT_STRING, NULL, "from `AWS_REGION` or the profile", 0, 0, NULL, 1, OFF(region),
	  "The AWS region." },
	{ "aws.function", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(function),
	  "The Lambda function that runs the tests." },
	{ "aws.bucket", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(bucket),
	  "The S3 bucket for results and artifacts." },
	{ "aws.profile", HT_CT_STRING, NULL, "from `AWS_PROFILE`", 0, 0, NULL, 1, OFF(profile),
	  "The profile of the shared AWS config and credentials files." },
	{ "aws.endpoint", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(endpoint),
	  "One endpoint URL for every service (a local stand-in, say)." },
	{ "aws.insecure", HT_CT_BOOL, "false", NULL, 0, 0, NULL, 0, OFF(insecure),
	  "Skip TLS verification for the endpoints configured here (aws.endpoint, aws.endpoints.*) and only those: for a stand-in with a self-signed certificate. AWS's own endpoints are always verified." },
	{ "aws.min_concurrency", HT_CT_INT, "1", NULL, 1, 10000, NULL, 0, OFF(min_concurrency),
	  "The lowest the adaptive concurrency goes when Lambda throttles (throttled calls still back off): for a function whose reserved concurrency is at least this, so that throttles come from elsewhere (a shared account pool, a rate limit). At most `concurrency`." },
	{ "aws.update_timeout_s", HT_CT_INT, "600", NULL, 1, 86400, NULL, 0, OFF(update_timeout_s),
	  "Seconds ht-update waits for Lambda to finish an update before it gives up (exit 75)." },
	{ "aws.ecr", HT_CT_ENUM, "auto", NULL, 0, 0, "auto|always|never", 1, OFF(ecr),
	  "When ht-pull and ht-push log in with ECR's GetAuthorizationToken: `auto` for ECR host names, `always` (a stand-in registry), `never`." },
	{ "aws.create_repository", HT_CT_BOOL, "false", NULL, 0, 0, NULL, 0, OFF(create_repository),
	  "Whether ht-push creates a missing ECR repository instead of failing." },
	{ "aws.ecr_cache", HT_CT_BOOL, "true", NULL, 0, 0, NULL, 0, OFF(ecr_cache),
	  "Whether ECR tokens are kept (0600) under `<dir>` until shortly before they expire, for the next ht-pull and ht-push." },
	{ "aws.endpoints", HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, 0, "Endpoint URLs per service; each wins over `aws.endpoint`." },
	{ "aws.endpoints.lambda", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(endpoint_lambda),
	  "The Lambda endpoint URL." },
	{ "aws.endpoints.s3", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(endpoint_s3),
	  "The S3 endpoint URL." },
	{ "aws.endpoints.ecr", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(endpoint_ecr),
	  "The ECR endpoint URL." },
	{ NULL, HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, 0, NULL }
};

/* On aws, ht-invoke needs a function and a bucket. */
static int require(const struct ht_config *c)
{
	int rc = 0;

	if (!ht_config_is_set(c, "aws.function"))
		rc = ht_config_missing(c, "aws.function", " (provider aws)");
	if (!ht_config_is_set(c, "aws.bucket"))
		rc = ht_config_missing(c, "aws.bucket", " (provider aws)");
	return rc;
}

const struct ht_config_schema ht_aws_schema = {
	.name = "aws",
	.select = "provider",
	.keys = keys,
	.size = sizeof(struct ht_aws_settings),
	.concurrency = 50,
	.concurrency_doc = "50",
	.require = require,
};
