/*
 * sts.c: GetCallerIdentity, GetSessionToken and AssumeRole (STS answers
 * in XML) on ht_aws_do().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/diag.h"
#include "ht/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/sts.h"

static const char *const form_headers[] = { "Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL };

int ht_sts_caller_identity(struct ht_aws *a, int quiet, char **account, char **arn, struct ht_aws_error *e)
{
	static const char body[] = "Action=GetCallerIdentity&Version=2011-06-15";
	struct ht_aws_call c = { .service = HT_AWS_STS, .method = "POST", .path = "/", .headers = form_headers,
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
			rc = ht_aws_error_set(e, HT_AWS_E_PROTOCOL, "sts: GetCallerIdentity: no account in the response");
			if (!quiet)
				ht_error("%s", e->message);
		}
	}
	ht_http_resp_release(&resp);
	return rc;
}

/* An STS call whose response holds <Credentials>: into out. */
static int sts_credentials(struct ht_aws *a, const char *body, const char *what, struct ht_aws_creds *out,
			   struct ht_aws_error *e)
{
		struct ht_aws_call c = { .service = HT_AWS_STS, .method = "POST", .path = "/", .headers = form_headers,
				 .body = body, .body_len = strlen(body) };
	struct ht_http_resp resp;
	int rc;

	ht_aws_creds_init(out);
	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	if (rc == 0) {
		size_t p1 = 0, p2 = 0, p3 = 0;

		out->access_key_id = ht_xml_text(resp.body.data ? resp.body.data : "", "AccessKeyId", &p1);
		out->secret_access_key = ht_xml_text(resp.body.data ? resp.body.data : "", "SecretAccessKey", &p2);
		out->session_token = ht_xml_text(resp.body.data ? resp.body.data : "", "SessionToken", &p3);
		out->source = "sts";
		if (!out->access_key_id || !out->secret_access_key || !out->session_token) {
			ht_aws_creds_release(out);
			ht_aws_error_set(e, HT_AWS_E_PROTOCOL, "sts: %s: no credentials in the response", what);
			rc = ht_error("%s", e->message);
		}
	}
	if (resp.body.data)
		explicit_bzero(resp.body.data, resp.body.len);
	ht_http_resp_release(&resp);
	return rc;
}

int ht_sts_get_session_token(struct ht_aws *a, long duration_s, struct ht_aws_creds *out, struct ht_aws_error *e)
{
	char *body = ht_xasprintf("Action=GetSessionToken&DurationSeconds=%ld&Version=2011-06-15", duration_s);
	int rc = sts_credentials(a, body, "GetSessionToken", out, e);

	free(body);
	return rc;
}

int ht_sts_assume_role(struct ht_aws *a, const char *role_arn, const char *session_name, long duration_s,
		       struct ht_aws_creds *out, struct ht_aws_error *e)
{
	char *arn = ht_aws_uri_encode(role_arn, 0);
	char *name = ht_aws_uri_encode(session_name, 0);
	char *body = ht_xasprintf("Action=AssumeRole&DurationSeconds=%ld&RoleArn=%s&RoleSessionName=%s"
				  "&Version=2011-06-15", duration_s, arn, name);
	int rc = sts_credentials(a, body, "AssumeRole", out, e);

	free(body);
	free(arn);
	free(name);
	return rc;
}
