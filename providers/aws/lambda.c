/*
 * lambda.c: GetFunction, GetFunctionConfiguration, UpdateFunctionCode and
 * GetAccountSettings on ht_aws_do_json().
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ht/jsonl.h"
#include "ht/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/lambda.h"

static const char *const get_headers[] = { "x-amz-content-sha256: " HT_AWS_EMPTY_SHA256, NULL };

/* A GET of /2015-03-31/functions/NAME + rest, as what. */
static int function_get(struct ht_aws *a, const char *name, const char *rest, const char *what, int quiet,
			json_t **out, struct ht_aws_error *e)
{
	char *enc = ht_aws_uri_encode(name, 0);
	char *path = ht_xasprintf("/2015-03-31/functions/%s%s", enc, rest);
	struct ht_aws_call c = { .service = HT_AWS_LAMBDA, .method = "GET", .path = path, .headers = get_headers,
				 .max_response = 1024 * 1024, .quiet = quiet };
	int rc = ht_aws_do_json(a, &c, what, out, e);

	free(path);
	free(enc);
	return rc;
}

int ht_lambda_get_function(struct ht_aws *a, const char *name, int quiet, json_t **out, struct ht_aws_error *e)
{
	return function_get(a, name, "", "lambda: GetFunction", quiet, out, e);
}

int ht_lambda_get_configuration(struct ht_aws *a, const char *name, int quiet, json_t **out,
				struct ht_aws_error *e)
{
	return function_get(a, name, "/configuration", "lambda: GetFunctionConfiguration", quiet, out, e);
}

int ht_lambda_update_image(struct ht_aws *a, const char *name, const char *image_uri, json_t **out,
			   struct ht_aws_error *e)
{
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	char *enc = ht_aws_uri_encode(name, 0);
	char *path = ht_xasprintf("/2015-03-31/functions/%s/code", enc);
	json_t *body = json_pack("{s:s}", "ImageUri", image_uri);
	char *text = ht_json_xdumps(body, JSON_COMPACT);
	struct ht_aws_call c = { .service = HT_AWS_LAMBDA, .method = "PUT", .path = path, .headers = hdrs,
				 .body = text, .body_len = strlen(text), .quiet = 1 };
	int rc = ht_aws_do_json(a, &c, "lambda: UpdateFunctionCode", out, e);

	free(text);
	json_decref(body);
	free(path);
	free(enc);
	return rc;
}

int ht_lambda_account_settings(struct ht_aws *a, int quiet, json_t **out, struct ht_aws_error *e)
{
	struct ht_aws_call c = { .service = HT_AWS_LAMBDA, .method = "GET", .path = "/2016-08-19/account-settings/",
				 .headers = get_headers, .quiet = quiet };

	return ht_aws_do_json(a, &c, "lambda: GetAccountSettings", out, e);
}

const char *ht_lambda_arch_to_oci(const char *lambda_arch)
{
	if (!lambda_arch)
		return NULL;
	if (strcmp(lambda_arch, "x86_64") == 0)
		return "amd64";
	if (strcmp(lambda_arch, "arm64") == 0)
		return "arm64";
	return NULL;
}
