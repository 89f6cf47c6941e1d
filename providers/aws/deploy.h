/*
 * aws-deploy.h: the Lambda, STS and S3 calls that deploying and checking
 * need beyond aws.h: a function's configuration and code, code updates,
 * the account's Lambda settings, who the credentials belong to, and
 * whether a bucket exists.
 *
 * Ownership as in aws.h: json_t ** results are new references; char **
 * results are new strings; everything passed in is borrowed.
 *
 * Every GET sends x-amz-content-sha256 with the hash of the empty body:
 * AWS accepts it as a signed header, and moto 5 checks a Lambda GET
 * without it against a wrong payload (docs/aws-credentials.md).
 */
#ifndef HT_AWS_DEPLOY_H
#define HT_AWS_DEPLOY_H

#include <jansson.h>

#include "providers/aws/aws.h"

struct ht_config;

/* The AWS options a configuration gives (aws.profile, aws.region, the
 * endpoints); o borrows from cfg. */
void ht_aws_opts_from_config(struct ht_aws_opts *o, const struct ht_config *cfg);

/* GetFunction ({"Configuration": ..., "Code": ...}). quiet: the caller
 * words the error (a function that does not exist, say). */
int ht_lambda_function_get(struct ht_aws *a, const char *name, int quiet, json_t **out,
			   struct ht_aws_error *e);
/* UpdateFunctionCode with an image URI: the new configuration in *out. */
int ht_lambda_update_image(struct ht_aws *a, const char *name, const char *image_uri, json_t **out,
			   struct ht_aws_error *e);
/* GetAccountSettings: {"AccountLimit": {...}, "AccountUsage": {...}}. */
int ht_lambda_account_settings(struct ht_aws *a, int quiet, json_t **out, struct ht_aws_error *e);
/* STS GetCallerIdentity: the account and the ARN (new strings). */
int ht_sts_caller_identity(struct ht_aws *a, int quiet, char **account, char **arn, struct ht_aws_error *e);
/* S3 HeadBucket: 0 when it exists and the credentials may use it. */
int ht_s3_head_bucket(struct ht_aws *a, const char *bucket, int quiet, struct ht_aws_error *e);

/* "amd64" for "x86_64", "arm64" for "arm64" (Lambda's names to OCI's);
 * NULL for anything else. Static strings. */
const char *ht_lambda_arch_to_oci(const char *lambda_arch);

#endif
