/*
 * s3.c: S3 buckets, objects and listings on ht_aws_do().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/diag.h"
#include "ht/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/s3.h"

char *ht_s3_key_path(const char *key)
{
	char *enc = ht_aws_uri_encode(key, 1);
	char *p = ht_xasprintf("/%s", enc);

	free(enc);
	return p;
}

int ht_s3_create_bucket(struct ht_aws *a, const char *bucket, struct ht_aws_error *e)
{
	struct ht_aws_call c = { .service = HT_AWS_S3, .method = "PUT", .bucket = bucket };
	struct ht_http_resp resp;
	char *body = NULL;
	int rc;

	if (strcmp(a->region, "us-east-1") != 0) {
		body = ht_xasprintf("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
				    "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>",
				    a->region);
		c.body = body;
		c.body_len = strlen(body);
	}
	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	ht_http_resp_release(&resp);
	free(body);
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

static int s3_put(struct ht_aws *a, const char *bucket, const char *key, const void *data, size_t len,
		  const char *path, const char *content_type, struct ht_aws_error *e)
{
	char *ct = ht_xasprintf("Content-Type: %s", content_type ? content_type : "application/octet-stream");
	const char *hdrs[] = { ct, NULL };
	char *kp = ht_s3_key_path(key);
	struct ht_aws_call c = { .service = HT_AWS_S3, .method = "PUT", .bucket = bucket, .path = kp,
				 .headers = hdrs, .body = data ? data : "", .body_len = len, .upload_path = path };
	struct ht_http_resp resp;
	int rc;

	if (path)
		c.body = NULL;
	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	ht_http_resp_release(&resp);
	free(kp);
	free(ct);
	return rc;
}

int ht_s3_put(struct ht_aws *a, const char *bucket, const char *key, const void *data, size_t len,
	      const char *content_type, struct ht_aws_error *e)
{
	return s3_put(a, bucket, key, data, len, NULL, content_type, e);
}

int ht_s3_put_file(struct ht_aws *a, const char *bucket, const char *key, const char *path,
		   const char *content_type, struct ht_aws_error *e)
{
	return s3_put(a, bucket, key, NULL, 0, path, content_type, e);
}

int ht_s3_get(struct ht_aws *a, const char *bucket, const char *key, struct ht_buf *out, struct ht_aws_error *e)
{
	return ht_s3_get_opt(a, bucket, key, out, 0, e);
}

int ht_s3_get_opt(struct ht_aws *a, const char *bucket, const char *key, struct ht_buf *out, int quiet,
		  struct ht_aws_error *e)
{
	char *kp = ht_s3_key_path(key);
	struct ht_aws_call c = { .service = HT_AWS_S3, .method = "GET", .bucket = bucket, .path = kp,
				 .max_response = out->max, .quiet = quiet };
	struct ht_http_resp resp;
	int rc;

	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	if (rc == 0 && ht_buf_add(out, resp.body.data ? resp.body.data : "", resp.body.len) < 0)
		rc = ht_aws_error_set(e, HT_AWS_E_PROTOCOL, "s3: GET /%s/%s: object too large", bucket, key);
	ht_http_resp_release(&resp);
	free(kp);
	return rc;
}

void ht_s3_list_release(struct ht_s3_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].etag);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int ht_s3_list(struct ht_aws *a, const char *bucket, const char *prefix, struct ht_s3_list *l,
	       struct ht_aws_error *e)
{
	char *token = NULL;
	int rc = 0;

	do {
		const char *q[8];
		int nq = 0;
		struct ht_aws_call c = { .service = HT_AWS_S3, .method = "GET", .bucket = bucket, .query = q };
		struct ht_http_resp resp;
		size_t pos = 0;
		char *block, *trunc;

		q[nq++] = "list-type";
		q[nq++] = "2";
		if (prefix && *prefix) {
			q[nq++] = "prefix";
			q[nq++] = prefix;
		}
		if (token) {
			q[nq++] = "continuation-token";
			q[nq++] = token;
		}
		q[nq] = NULL;
		ht_http_resp_init(&resp);
		rc = ht_aws_do(a, &c, &resp, e);
		free(token);
		token = NULL;
		if (rc < 0 || !resp.body.data) {
			if (rc == 0)
				rc = ht_aws_error_set(e, HT_AWS_E_PROTOCOL, "s3: GET /%s: an empty listing", bucket);
			ht_http_resp_release(&resp);
			break;
		}
		while ((block = ht_xml_text(resp.body.data, "Contents", &pos))) {
			size_t bp = 0;
			char *key = ht_xml_text(block, "Key", &bp);
			char *size, *etag;

			bp = 0;
			size = ht_xml_text(block, "Size", &bp);
			bp = 0;
			etag = ht_xml_text(block, "ETag", &bp);
			if (key) {
				l->v = ht_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
				l->v[l->n].key = key;
				l->v[l->n].size = size ? strtoll(size, NULL, 10) : 0;
				l->v[l->n].etag = etag;
				l->n++;
				etag = NULL;
			}
			free(size);
			free(etag);
			free(block);
		}
		pos = 0;
		trunc = ht_xml_text(resp.body.data, "IsTruncated", &pos);
		if (trunc && strcmp(trunc, "true") == 0) {
			pos = 0;
			token = ht_xml_text(resp.body.data, "NextContinuationToken", &pos);
			if (!token || !*token) {
				free(token);
				token = NULL;
				rc = ht_aws_error_set(e, HT_AWS_E_PROTOCOL, "s3: GET /%s: truncated listing without a token",
					       bucket);
			}
		}
		free(trunc);
		ht_http_resp_release(&resp);
	} while (token);
	if (rc < 0 && e->kind == HT_AWS_E_PROTOCOL)
		ht_error("%s", e->message);
	return rc;
}
