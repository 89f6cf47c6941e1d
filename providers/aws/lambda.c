/*
 * lambda.c: GetFunction, GetFunctionConfiguration, UpdateFunctionCode and
 * GetAccountSettings on ht_aws_do_json().
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ht/diag.h"
#include "ht/jsonl.h"
#include "ht/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/lambda.h"

/* Lambda's limits for a function's Timeout, and its default. */
#define MAX_TIMEOUT_S 900
#define DEFAULT_TIMEOUT_S 3

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

int64_t ht_lambda_timeout_ms(json_t *t, const char *name)
{
	double s = json_is_number(t) ? json_number_value(t) : 0;

	if (!t)
		return DEFAULT_TIMEOUT_S * 1000;
	if (!(s >= 1 && s <= MAX_TIMEOUT_S)) {
		char *text = json_is_integer(t) ? ht_xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(t)) :
			     json_is_real(t) ? ht_xasprintf("%g", s) : json_dumps(t, JSON_ENCODE_ANY);

		s = s > MAX_TIMEOUT_S ? MAX_TIMEOUT_S : DEFAULT_TIMEOUT_S;
		ht_warning("the function '%s' has a Timeout of %.40s, not seconds from 1 to %d: taking %.0f s", name,
			   text ? text : "?", MAX_TIMEOUT_S, s);
		free(text);
	}
	return (int64_t)(s * 1000 + 0.5);
}

int ht_lambda_image_digest(json_t *fn, char out[72])
{
	json_t *code = json_object_get(fn, "Code");
	const char *uris[2] = { ht_json_str(code, "ImageUri", ""), ht_json_str(code, "ResolvedImageUri", "") };
	const char *sha = ht_json_str(json_object_get(fn, "Configuration"), "CodeSha256", ""), *at;
	char *d;
	int i;

	for (i = 0; i < 2; i++) {
		at = strrchr(uris[i], '@');
		if (at && ht_digest_valid(at + 1)) {
			snprintf(out, 72, "%s", at + 1);
			return 0;
		}
	}
	d = ht_xasprintf("sha256:%s", sha);
	i = ht_digest_valid(d);
	if (i)
		snprintf(out, 72, "%s", d);
	free(d);
	return i ? 0 : -1;
}
