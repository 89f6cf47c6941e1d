/*
 * lambda.h: the Lambda control-plane calls: a function's configuration
 * and code, code updates, the account's settings. Invocations are the
 * provider's (invoke.c).
 *
 * Ownership as in aws.h: json_t ** results are new references; everything
 * passed in is borrowed. quiet: the caller words the error (a function
 * that does not exist, say); else it is printed.
 *
 * Every GET sends x-amz-content-sha256 with the hash of the empty body
 * (HT_AWS_EMPTY_SHA256).
 */
#ifndef HT_AWS_LAMBDA_H
#define HT_AWS_LAMBDA_H

#include <stdint.h>

#include <jansson.h>

#include "providers/aws/aws.h"

/* GetFunction: {"Configuration": ..., "Code": ...}. */
int ht_lambda_get_function(struct ht_aws *a, const char *name, int quiet, json_t **out, struct ht_aws_error *e);
/* GetFunctionConfiguration: {"FunctionName", "Timeout", "State", ...}. */
int ht_lambda_get_configuration(struct ht_aws *a, const char *name, int quiet, json_t **out,
				struct ht_aws_error *e);
/* UpdateFunctionCode with an image URI: the new configuration in *out. */
int ht_lambda_update_image(struct ht_aws *a, const char *name, const char *image_uri, json_t **out,
			   struct ht_aws_error *e);
/* GetAccountSettings: {"AccountLimit": {...}, "AccountUsage": {...}}. */
int ht_lambda_account_settings(struct ht_aws *a, int quiet, json_t **out, struct ht_aws_error *e);

/*
 * A function's timeout in milliseconds from its configuration's Timeout
 * (t, seconds; NULL when absent), for the function named name. Lambda's
 * are whole seconds from 1 to 900; an answer outside them (a stand-in's,
 * a broken proxy's) is not multiplied as it is: more than 900 is 900 s,
 * anything else that is not a number from 1 is Lambda's default of 3 s,
 * with a warning.
 */
int64_t ht_lambda_timeout_ms(json_t *t, const char *name);

/*
 * The digest of the image a GetFunction answer (fn, borrowed) says the
 * function runs: the digest of Code.ImageUri, else of
 * Code.ResolvedImageUri, else Configuration.CodeSha256, as "sha256:HEX"
 * into out. Returns 0, or -1 when it says none (a Zip function).
 */
int ht_lambda_image_digest(json_t *fn, char out[72]);

/* "amd64" for "x86_64", "arm64" for "arm64" (Lambda's names to OCI's);
 * NULL for anything else. Static strings. */
const char *ht_lambda_arch_to_oci(const char *lambda_arch);

#endif
