/*
 * aws-deploy.c: Lambda code updates and configuration, account settings,
 * STS GetCallerIdentity and S3 HeadBucket, on ht_aws_do().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "providers/aws/deploy.h"
#include "ht/config.h"
#include "ht/diag.h"
#include "ht/util.h"
#include "providers/aws/settings.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

void ht_aws_opts_from_config(struct ht_aws_opts *o, const struct ht_config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->profile = ht_aws_settings(cfg)->profile;
	o->region = ht_aws_settings(cfg)->region;
	o->endpoint = ht_aws_settings(cfg)->endpoint;
	o->endpoint_s3 = ht_aws_settings(cfg)->endpoint_s3;
	o->endpoint_lambda = ht_aws_settings(cfg)->endpoint_lambda;
	o->endpoint_ecr = ht_aws_settings(cfg)->endpoint_ecr;
	o->insecure = ht_aws_settings(cfg)->insecure;
}

/* Performs c and parses a JSON object answer into *out (when out is not
 * NULL). A response that is not an object is a protocol error. */
static int json_call(struct ht_aws *a, const struct ht_aws_call *c, const char *what, json_t **out,
		     struct ht_aws_error *e)
{
	struct ht_http_resp resp;
	json_error_t je;
	int rc;

	if (out)
		*out = NULL;
	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, c, &resp, e);
	if (rc == 0 && out) {
		*out = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &je);
		if (!json_is_object(*out)) {
			json_decref(*out);
			*out = NULL;
			ht_aws_error_clear(e);
			e->kind = HT_AWS_E_PROTOCOL;
			e->status = resp.status;
			snprintf(e->message, sizeof(e->message), "%s: the response is not a JSON object: %s", what,
				 je.text);
			rc = ht_error("%s", e->message);
		}
	}
	ht_http_resp_release(&resp);
	return rc;
}

int ht_lambda_function_get(struct ht_aws *a, const char *name, int quiet, json_t **out, struct ht_aws_error *e)
{
	static const char *const hdrs[] = { "x-amz-content-sha256: " EMPTY_SHA256, NULL };
	char *enc = ht_aws_uri_encode(name, 0);
	char *path = ht_xasprintf("/2015-03-31/functions/%s", enc);
	struct ht_aws_call c = { .service = HT_AWS_LAMBDA, .method = "GET", .path = path, .headers = hdrs,
				 .quiet = quiet };
	int rc = json_call(a, &c, "lambda: GetFunction", out, e);

	free(path);
	free(enc);
	return rc;
}

int ht_lambda_update_image(struct ht_aws *a, const char *name, const char *image_uri, json_t **out,
			   struct ht_aws_error *e)
{
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	char *enc = ht_aws_uri_encode(name, 0);
	char *path = ht_xasprintf("/2015-03-31/functions/%s/code", enc);
	json_t *body = json_pack("{s:s}", "ImageUri", image_uri);
	char *text = json_dumps(body, JSON_COMPACT);
	struct ht_aws_call c = { .service = HT_AWS_LAMBDA, .method = "PUT", .path = path, .headers = hdrs,
				 .body = text, .body_len = strlen(text), .quiet = 1 };
	int rc = json_call(a, &c, "lambda: UpdateFunctionCode", out, e);

	free(text);
	json_decref(body);
	free(path);
	free(enc);
	return rc;
}

int ht_lambda_account_settings(struct ht_aws *a, int quiet, json_t **out, struct ht_aws_error *e)
{
	static const char *const hdrs[] = { "x-amz-content-sha256: " EMPTY_SHA256, NULL };
	struct ht_aws_call c = { .service = HT_AWS_LAMBDA, .method = "GET", .path = "/2016-08-19/account-settings/",
				 .headers = hdrs, .quiet = quiet };

	return json_call(a, &c, "lambda: GetAccountSettings", out, e);
}

int ht_sts_caller_identity(struct ht_aws *a, int quiet, char **account, char **arn, struct ht_aws_error *e)
{
	static const char *const hdrs[] = { "Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL };
	static const char body[] = "Action=GetCallerIdentity&Version=2011-06-15";
	struct ht_aws_call c = { .service = HT_AWS_STS, .method = "POST", .path = "/", .headers = hdrs,
				 .body = body, .body_len = sizeof(body) - 1, .quiet = quiet };
	struct ht_http_resp resp;
	int rc;

	*account = *arn = NULL;
	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	if (rc == 0) {
		size_t p1 = 0, p2 = 0;

		*account = ht_xml_text(resp.body.data ? resp.body.data : "", "Account", &p1);
		*arn = ht_xml_text(resp.body.data ? resp.body.data : "", "Arn", &p2);
		if (!*account) {
			free(*arn);
			*arn = NULL;
			ht_aws_error_clear(e);
			e->kind = HT_AWS_E_PROTOCOL;
			snprintf(e->message, sizeof(e->message), "sts: GetCallerIdentity: no account in the response");
			rc = quiet ? -1 : ht_error("%s", e->message);
		}
	}
	ht_http_resp_release(&resp);
	return rc;
}

int ht_s3_head_bucket(struct ht_aws *a, const char *bucket, int quiet, struct ht_aws_error *e)
{
	struct ht_aws_call c = { .service = HT_AWS_S3, .method = "HEAD", .bucket = bucket, .quiet = quiet };
	struct ht_http_resp resp;
	int rc;

	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	/* A HEAD answer has no body: name the usual causes. */
	if (rc < 0 && e->status == 404 && !*e->code) {
		snprintf(e->code, sizeof(e->code), "NoSuchBucket");
		e->kind = HT_AWS_E_NOT_FOUND;
	} else if (rc < 0 && e->status == 403 && !*e->code) {
		snprintf(e->code, sizeof(e->code), "AccessDenied");
	}
	ht_http_resp_release(&resp);
	return rc;
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
