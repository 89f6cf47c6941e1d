/*
 * aws.c: the AWS client: options from the configuration, endpoints,
 * SigV4-signed calls through libcurl (lib/http.c), the classification of
 * error answers, and the bits of XML the services answer in.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/settings.h"

/* --- errors --------------------------------------------------------------- */

void ht_aws_error_clear(struct ht_aws_error *e)
{
	memset(e, 0, sizeof(*e));
}

int ht_aws_error_set(struct ht_aws_error *e, enum ht_aws_errkind kind, const char *fmt, ...)
{
	va_list ap;

	ht_aws_error_clear(e);
	e->kind = kind;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *const credential_codes[] = {
	"SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException",
	"ExpiredToken", "ExpiredTokenException", "InvalidToken", "MissingAuthenticationToken",
	"MissingAuthenticationTokenException", "IncompleteSignature", "IncompleteSignatureException",
	"AuthFailure", "InvalidSignatureException", "TokenRefreshRequired", "RequestExpired",
	"InvalidSecurity", "AuthorizationHeaderMalformed", NULL
};
static const char *const denied_codes[] = {
	"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AllAccessDisabled",
	"NotAuthorized", "Forbidden", NULL
};
static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
	"RequestLimitExceeded", "SlowDown", "ProvisionedThroughputExceededException", "RequestThrottled",
	"RequestThrottledException", "BandwidthLimitExceeded", "LimitExceededException", NULL
};
static const char *const notfound_codes[] = {
	"NoSuchKey", "NoSuchBucket", "NoSuchUpload", "NoSuchEntity", "NotFound", "ResourceNotFoundException",
	"RepositoryNotFoundException", "ImageNotFoundException", "LayersNotFoundException",
	"FunctionNotFound", NULL
};
static const char *const conflict_codes[] = {
	"ResourceConflictException", "OperationAborted", "ConflictException", "ResourceInUseException",
	"BucketAlreadyOwnedByYou", "BucketAlreadyExists", "RepositoryAlreadyExistsException", NULL
};

static int in_list(const char *const *l, const char *code)
{
	for (; *l; l++)
		if (strcmp(*l, code) == 0)
			return 1;
	return 0;
}

enum ht_aws_errkind ht_aws_classify(const char *code, long status)
{
	if (code && *code) {
		if (in_list(credential_codes, code))
			return HT_AWS_E_CREDENTIALS;
		if (in_list(denied_codes, code))
			return HT_AWS_E_DENIED;
		if (in_list(throttle_codes, code))
			return HT_AWS_E_THROTTLED;
		if (in_list(notfound_codes, code))
			return HT_AWS_E_NOT_FOUND;
		if (in_list(conflict_codes, code))
			return HT_AWS_E_CONFLICT;
	}
	if (status == 429)
		return HT_AWS_E_THROTTLED;
	if (status == 401)
		return HT_AWS_E_CREDENTIALS;
	if (status == 403)
		return HT_AWS_E_DENIED;
	if (status == 404)
		return HT_AWS_E_NOT_FOUND;
	if (status == 409)
		return HT_AWS_E_CONFLICT;
	if (status >= 500)
		return HT_AWS_E_UNAVAILABLE;
	if (status >= 400)
		return HT_AWS_E_INVALID;
	if (status == 0)
		return HT_AWS_E_TRANSPORT;
	return HT_AWS_E_PROTOCOL;
}

int ht_aws_error_expired(const struct ht_aws_error *e)
{
	return e->kind == HT_AWS_E_CREDENTIALS && (!strcmp(e->code, "ExpiredToken") ||
		!strcmp(e->code, "ExpiredTokenException") || !strcmp(e->code, "TokenRefreshRequired"));
}

int ht_aws_error_exit(const struct ht_aws_error *e)
{
	switch (e->kind) {
	case HT_AWS_E_NONE:
		return HT_EXIT_OK;
	case HT_AWS_E_CREDENTIALS:
	case HT_AWS_E_DENIED:
		return HT_EXIT_NOPERM;
	case HT_AWS_E_THROTTLED:
	case HT_AWS_E_CONFLICT:
		return HT_EXIT_TEMPFAIL;
	case HT_AWS_E_NOT_FOUND:
		return HT_EXIT_NOINPUT;
	case HT_AWS_E_INVALID:
		return HT_EXIT_DATAERR;
	case HT_AWS_E_UNAVAILABLE:
	case HT_AWS_E_TRANSPORT:
		return HT_EXIT_UNAVAILABLE;
	case HT_AWS_E_PROTOCOL:
		return HT_EXIT_PROTOCOL;
	case HT_AWS_E_CONFIG:
		return HT_EXIT_CONFIG;
	}
	return HT_EXIT_SOFTWARE;
}

const char *ht_aws_errkind_name(enum ht_aws_errkind k)
{
	static const char *const names[] = {
		"none", "credentials", "denied", "throttled", "not_found", "conflict",
		"invalid", "unavailable", "transport", "protocol", "config",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

/* Copies s into a fixed field, printable ASCII only, whitespace folded. */
static void copy_clean(char *dst, size_t cap, const char *s)
{
	size_t n = 0;

	for (; s && *s && n + 1 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (isspace(c)) {
			if (n && dst[n - 1] != ' ')
				dst[n++] = ' ';
		} else if (c >= 0x20 && c < 0x7f) {
			dst[n++] = (char)c;
		} else if (c >= 0x80) {
			dst[n++] = (char)c; /* UTF-8 in messages is fine */
		}
	}
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

void ht_aws_error_from_response(struct ht_aws_error *e, const struct ht_http_resp *resp)
{
	char *hdr = ht_http_header(resp, "x-amzn-ErrorType");
	const char *body = resp->body.data ? resp->body.data : "";
	char *code = NULL, *msg = NULL;

	ht_aws_error_clear(e);
	e->status = resp->status;
	if (hdr) {
		hdr[strcspn(hdr, ":")] = '\0';
		code = hdr;
	}
	while (isspace((unsigned char)*body))
		body++;
	if (*body == '{') {
		json_t *j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
		const char *t = NULL, *m = NULL;

		if (json_is_object(j)) {
			t = json_string_value(json_object_get(j, "__type"));
			if (!t)
				t = json_string_value(json_object_get(j, "code"));
			if (!t)
				t = json_string_value(json_object_get(j, "Code"));
			m = json_string_value(json_object_get(j, "message"));
			if (!m)
				m = json_string_value(json_object_get(j, "Message"));
			if (!m)
				m = json_string_value(json_object_get(j, "errorMessage"));
		}
		if (t && !code) {
			const char *hash = strrchr(t, '#');

			code = ht_xstrdup(hash ? hash + 1 : t);
		}
		if (m)
			msg = ht_xstrdup(m);
		json_decref(j);
	} else if (*body == '<') {
		size_t pos = 0;
		char *c = ht_xml_text(body, "Code", &pos);

		pos = 0;
		msg = ht_xml_text(body, "Message", &pos);
		if (c && !code)
			code = c;
		else
			free(c);
	}
	copy_clean(e->code, sizeof(e->code), code);
	copy_clean(e->message, sizeof(e->message), msg);
	free(code);
	free(msg);
	e->kind = ht_aws_classify(e->code, e->status);
}

/* --- endpoints ------------------------------------------------------------ */

const char *ht_aws_service_name(enum ht_aws_service s)
{
	static const char *const names[] = { "s3", "lambda", "ecr", "sts", "iam" };

	return (unsigned)s < HT_AWS_NSERVICES ? names[s] : "?";
}

static char *strip_slash(const char *s)
{
	char *r = ht_xstrdup(s);
	size_t n = strlen(r);

	while (n > 0 && r[n - 1] == '/')
		r[--n] = '\0';
	return r;
}

char *ht_aws_endpoint_resolve(enum ht_aws_service s, const char *region, const char *caller_service,
			      const char *caller_any, const char *profile_endpoint, int *custom)
{
	static const char *const envs[] = {
		"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_ECR",
		"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM",
	};
	const char *v = NULL;
	const char *suffix;

	if (caller_service && *caller_service)
		v = caller_service;
	else if (caller_any && *caller_any)
		v = caller_any;
	else if ((unsigned)s < HT_AWS_NSERVICES && ht_aws_env(envs[s]))
		v = ht_aws_env(envs[s]);
	else if (ht_aws_env("AWS_ENDPOINT_URL"))
		v = ht_aws_env("AWS_ENDPOINT_URL");
	else if (profile_endpoint && *profile_endpoint)
		v = profile_endpoint;
	if (custom)
		*custom = v != NULL;
	if (v)
		return strip_slash(v);
	if (!region)
		region = "us-east-1";
	suffix = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
	switch (s) {
	case HT_AWS_S3:
		return ht_xasprintf("https://s3.%s.%s", region, suffix);
	case HT_AWS_LAMBDA:
		return ht_xasprintf("https://lambda.%s.%s", region, suffix);
	case HT_AWS_ECR:
		return ht_xasprintf("https://api.ecr.%s.%s", region, suffix);
	case HT_AWS_STS:
		return ht_xasprintf("https://sts.%s.%s", region, suffix);
	case HT_AWS_IAM:
	default:
		return ht_xasprintf("https://iam.%s", suffix);
	}
}

/* --- the client ---------------------------------------------------------- */

void ht_aws_opts_from_config(struct ht_aws_opts *o, const struct ht_config *cfg)
{
	const struct ht_aws_settings *s = ht_aws_settings(cfg);

	memset(o, 0, sizeof(*o));
	o->profile = s->profile;
	o->region = s->region;
	o->endpoint = s->endpoint;
	o->endpoint_s3 = s->endpoint_s3;
	o->endpoint_lambda = s->endpoint_lambda;
	o->endpoint_ecr = s->endpoint_ecr;
	o->insecure = s->insecure;
}

static int region_valid(const char *r)
{
	size_t n = 0;

	for (; r[n]; n++)
		if (!(islower((unsigned char)r[n]) || isdigit((unsigned char)r[n]) || r[n] == '-'))
			return 0;
	return n > 0 && n < 64;
}

static int endpoint_valid(const char *u)
{
	return (ht_starts_with(u, "http://") || ht_starts_with(u, "https://")) && !strpbrk(u, " \t\r\n?#@");
}

int ht_aws_init(struct ht_aws *a, const struct ht_aws_opts *o, struct ht_aws_error *e)
{
	static const struct ht_aws_opts none;
	struct ht_aws_files f;
	const char *profile;
	int i;

	if (!o)
		o = &none;
	memset(a, 0, sizeof(*a));
	ht_aws_error_clear(e);
	a->explicit_profile = (o->profile && *o->profile) || ht_aws_env("AWS_PROFILE");
	profile = ht_aws_profile_name(o->profile);
	a->profile = ht_xstrdup(profile);
	a->insecure = o->insecure;
	a->retry = o->retry ? *o->retry : ht_http_retry_default;
	a->timeout_ms = o->timeout_ms;
	if (ht_aws_files_load(&f) < 0) {
		ht_aws_error_set(e, HT_AWS_E_CONFIG, "cannot read the AWS config files");
		ht_aws_release(a);
		return -1;
	}
	if (ht_aws_creds_resolve(&a->creds, &f, profile, a->explicit_profile, e) < 0)
		goto fail;
	a->region = ht_aws_region_resolve(o->region, &f, profile);
	if (!a->region) {
		ht_aws_error_set(e, HT_AWS_E_CONFIG,
			  "no AWS region: set aws.region in hypertest.json, AWS_REGION, or region in profile '%s'",
			  profile);
		goto fail;
	}
	if (!region_valid(a->region)) {
		ht_aws_error_set(e, HT_AWS_E_CONFIG, "'%s' is not a region name", a->region);
		goto fail;
	}
	for (i = 0; i < HT_AWS_NSERVICES; i++) {
		const char *mine = i == HT_AWS_S3 ? o->endpoint_s3 : i == HT_AWS_LAMBDA ? o->endpoint_lambda :
				   i == HT_AWS_ECR ? o->endpoint_ecr : NULL;

		a->endpoint[i] = ht_aws_endpoint_resolve((enum ht_aws_service)i, a->region, mine, o->endpoint,
							 ht_aws_profile_get(&f, profile, "endpoint_url"), &a->custom[i]);
		if (!endpoint_valid(a->endpoint[i])) {
			ht_aws_error_set(e, HT_AWS_E_CONFIG, "%s endpoint '%s' is not an http:// or https:// URL",
				  ht_aws_service_name((enum ht_aws_service)i), a->endpoint[i]);
			goto fail;
		}
	}
	ht_aws_files_release(&f);
	ht_debug("aws: profile %s, credentials from %s, region %s", a->profile, a->creds.source, a->region);
	return 0;
fail:
	ht_aws_files_release(&f);
	ht_aws_release(a);
	ht_error("%s", e->message);
	return -1;
}

void ht_aws_release(struct ht_aws *a)
{
	int i;

	free(a->profile);
	free(a->region);
	for (i = 0; i < HT_AWS_NSERVICES; i++)
		free(a->endpoint[i]);
	ht_aws_creds_release(&a->creds);
	memset(a, 0, sizeof(*a));
}

char *ht_aws_uri_encode(const char *s, int keep_slash)
{
	struct ht_buf b = HT_BUF_INIT;

	ht_buf_addstr(&b, "");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/'))
			ht_buf_add(&b, s, 1);
		else
			ht_buf_addf(&b, "%%%02X", c);
	}
	return ht_buf_detach(&b);
}

struct qpair {
	char *k, *v;
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c ? c : strcmp(x->v, y->v);
}

char *ht_aws_query_string(const char *const *query)
{
	struct ht_buf b = HT_BUF_INIT;
	struct qpair *v;
	size_t n = 0, i;

	while (query && query[2 * n])
		n++;
	ht_buf_addstr(&b, "");
	if (!n)
		return ht_buf_detach(&b);
	v = ht_xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++) {
		v[i].k = ht_aws_uri_encode(query[2 * i], 0);
		v[i].v = ht_aws_uri_encode(query[2 * i + 1] ? query[2 * i + 1] : "", 0);
	}
	/* SigV4 sorts by the encoded names, byte by byte. */
	qsort(v, n, sizeof(*v), qpair_cmp);
	for (i = 0; i < n; i++) {
		ht_buf_addf(&b, "%s%s=%s", i ? "&" : "", v[i].k, v[i].v);
		free(v[i].k);
		free(v[i].v);
	}
	free(v);
	return ht_buf_detach(&b);
}

/* A bucket name usable as a host name label (virtual-hosted style). */
static int bucket_dns_ok(const char *b)
{
	size_t n = 0;

	for (; b[n]; n++)
		if (!(islower((unsigned char)b[n]) || isdigit((unsigned char)b[n]) || b[n] == '-'))
			return 0;
	return n >= 3 && n <= 63;
}

/* The URL of a call, new string; path_shown receives the part for
 * messages. */
static char *call_url(const struct ht_aws *a, const struct ht_aws_call *c, char **path_shown)
{
	const char *ep = a->endpoint[c->service];
	const char *path = c->path && *c->path ? c->path : "";
	char *q = ht_aws_query_string(c->query);
	char *base, *url;

	if (c->service == HT_AWS_S3 && c->bucket) {
		if (!a->custom[HT_AWS_S3] && bucket_dns_ok(c->bucket)) {
			const char *host = ep + (ht_starts_with(ep, "https://") ? 8 : 7);

			base = ht_xasprintf("%.*s%s.%s%s", (int)(host - ep), ep, c->bucket, host, *path ? path : "/");
			*path_shown = ht_xasprintf("/%s%s", c->bucket, path);
		} else {
			char *eb = ht_aws_uri_encode(c->bucket, 0);

			base = ht_xasprintf("%s/%s%s", ep, eb, path);
			*path_shown = ht_xasprintf("/%s%s", eb, path);
			free(eb);
		}
	} else {
		base = ht_xasprintf("%s%s", ep, *path ? path : "/");
		*path_shown = ht_xstrdup(*path ? path : "/");
	}
	url = *q ? ht_xasprintf("%s?%s", base, q) : ht_xstrdup(base);
	free(base);
	free(q);
	return url;
}

int ht_aws_creds_refresh(struct ht_aws *a, struct ht_aws_error *e)
{
	struct ht_aws_files f;
	struct ht_aws_creds c;

	if (ht_aws_files_load(&f) < 0)
		return ht_aws_error_set(e, HT_AWS_E_CONFIG, "cannot read the AWS config files");
	if (ht_aws_creds_resolve(&c, &f, a->profile, a->explicit_profile, e) < 0) {
		ht_aws_files_release(&f);
		return -1;
	}
	ht_aws_files_release(&f);
	if (ht_aws_creds_equal(&c, &a->creds)) {
		ht_debug("aws: the credentials from the %s are the same as before", c.source);
		ht_aws_creds_release(&c);
		return 0;
	}
	ht_debug("aws: new credentials from the %s", c.source);
	ht_aws_creds_release(&a->creds);
	a->creds = c;
	return 1;
}

/* Fills req and sig for c (see ht_aws_call_prepare()); the URL is url. */
static void fill_request(struct ht_aws *a, const struct ht_aws_call *c, const char *url, struct ht_http_req *req,
			 struct ht_http_sigv4 *sig)
{
	memset(req, 0, sizeof(*req));
	sig->region = c->service == HT_AWS_IAM && !a->custom[HT_AWS_IAM] ? "us-east-1" : a->region;
	sig->service = ht_aws_service_name(c->service);
	sig->access_key_id = a->creds.access_key_id;
	sig->secret_access_key = a->creds.secret_access_key;
	sig->session_token = a->creds.session_token;
	sig->payload_hash = c->service == HT_AWS_S3;
	req->method = c->method;
	req->url = url;
	req->headers = c->headers;
	req->body = c->body;
	req->body_len = c->body_len;
	req->upload_path = c->upload_path;
	req->insecure = a->insecure && a->custom[c->service];
	req->retry = &a->retry;
	req->timeout_ms = a->timeout_ms;
	req->max_response = c->max_response;
	req->sigv4 = sig;
}

char *ht_aws_call_prepare(struct ht_aws *a, const struct ht_aws_call *c, struct ht_http_req *req,
			  struct ht_http_sigv4 *sig)
{
	char *shown = NULL;
	char *url = call_url(a, c, &shown);

	free(shown);
	fill_request(a, c, url, req, sig);
	return url;
}

int ht_aws_do(struct ht_aws *a, const struct ht_aws_call *c, struct ht_http_resp *resp, struct ht_aws_error *e)
{
	struct ht_http_req req;
	struct ht_http_sigv4 sig;
	char *shown = NULL;
	char *url = call_url(a, c, &shown);
	const char *svc = ht_aws_service_name(c->service);
	int rc;

	fill_request(a, c, url, &req, &sig);
	ht_aws_error_clear(e);
	rc = ht_http_do(&req, resp);
	if (rc == 0 && resp->status >= 400 && resp->status < 500) {
		struct ht_aws_error x;

		/* Expired: the user's tooling may have renewed them on disk. */
		ht_aws_error_from_response(&x, resp);
		if (ht_aws_error_expired(&x) && ht_aws_creds_refresh(a, &x) == 1) {
			ht_info("%s: the AWS credentials expired; going on with the new ones from the %s", svc,
				a->creds.source);
			ht_http_resp_release(resp);
			ht_http_resp_init(resp);
			fill_request(a, c, url, &req, &sig);
			rc = ht_http_do(&req, resp);
		}
	}
	if (rc < 0) {
		e->kind = resp->curl_code == 26 /* CURLE_READ_ERROR */ ? HT_AWS_E_CONFIG : HT_AWS_E_TRANSPORT;
		e->curl_code = resp->curl_code;
		snprintf(e->message, sizeof(e->message), "%s: %s %s: %s", svc, c->method, shown, resp->error);
	} else if (resp->status >= 200 && resp->status < 300) {
		rc = 0;
	} else {
		char m[1024];

		ht_aws_error_from_response(e, resp);
		snprintf(m, sizeof(m), "%s: %s %s: %ld%s%s%s%s%s", svc, c->method, shown, resp->status,
			 *e->code ? " " : "", e->code, *e->message ? ": " : "", e->message,
			 e->kind == HT_AWS_E_CREDENTIALS ? " (check the credentials)" : "");
		m[sizeof(e->message) - 1] = '\0';
		memcpy(e->message, m, sizeof(e->message));
		if (e->kind == HT_AWS_E_CREDENTIALS && a->creds.source) {
			size_t n = strlen(e->message);

			snprintf(e->message + n, sizeof(e->message) - n, "; they came from the %s", a->creds.source);
		}
		rc = -1;
	}
	if (rc < 0 && !c->quiet)
		ht_error("%s", e->message);
	free(url);
	free(shown);
	return rc;
}

int ht_aws_do_json(struct ht_aws *a, const struct ht_aws_call *c, const char *what, json_t **out,
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
			rc = ht_aws_error_set(e, HT_AWS_E_PROTOCOL, "%s: the response is not a JSON object: %s", what,
					      je.text);
			e->status = resp.status;
			if (!c->quiet)
				ht_error("%s", e->message);
		}
	}
	if (c->secret && resp.body.data)
		explicit_bzero(resp.body.data, resp.body.len);
	ht_http_resp_release(&resp);
	return rc;
}

/* --- XML ------------------------------------------------------------------ */

char *ht_xml_text(const char *xml, const char *tag, size_t *pos)
{
	size_t tl = strlen(tag), len = strlen(xml);
	const char *p = xml + (*pos <= len ? *pos : len), *start, *end;
	struct ht_buf b = HT_BUF_INIT;

	for (;;) {
		p = strchr(p, '<');
		if (!p)
			return NULL;
		if (strncmp(p + 1, tag, tl) == 0 && (p[1 + tl] == '>' || p[1 + tl] == ' ' || p[1 + tl] == '/')) {
			start = strchr(p, '>');
			if (!start)
				return NULL;
			if (start[-1] == '/') { /* <Tag/> */
				*pos = (size_t)(start + 1 - xml);
				return ht_xstrdup("");
			}
			start++;
			break;
		}
		p++;
	}
	end = start;
	for (;;) {
		end = strstr(end, "</");
		if (!end)
			return NULL;
		if (strncmp(end + 2, tag, tl) == 0 && end[2 + tl] == '>')
			break;
		end += 2;
	}
	*pos = (size_t)(end + 3 + tl - xml);
	ht_buf_addstr(&b, "");
	for (p = start; p < end; p++) {
		if (*p == '&') {
			static const struct { const char *e; char c; } ents[] = {
				{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
			};
			size_t i;
			int done = 0;

			for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
				if (strncmp(p, ents[i].e, strlen(ents[i].e)) == 0) {
					ht_buf_add(&b, &ents[i].c, 1);
					p += strlen(ents[i].e) - 1;
					done = 1;
					break;
				}
			if (!done && p[1] == '#') {
				char *q;
				unsigned long cp = p[2] == 'x' ? strtoul(p + 3, &q, 16) : strtoul(p + 2, &q, 10);

				if (*q == ';' && cp > 0 && cp < 0x110000) {
					unsigned char u[4];
					size_t n;

					if (cp < 0x80) {
						u[0] = (unsigned char)cp;
						n = 1;
					} else if (cp < 0x800) {
						u[0] = (unsigned char)(0xc0 | (cp >> 6));
						u[1] = (unsigned char)(0x80 | (cp & 0x3f));
						n = 2;
					} else if (cp < 0x10000) {
						u[0] = (unsigned char)(0xe0 | (cp >> 12));
						u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
						u[2] = (unsigned char)(0x80 | (cp & 0x3f));
						n = 3;
					} else {
						u[0] = (unsigned char)(0xf0 | (cp >> 18));
						u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
						u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
						u[3] = (unsigned char)(0x80 | (cp & 0x3f));
						n = 4;
					}
					ht_buf_add(&b, u, n);
					p = q;
					done = 1;
				}
			}
			if (done)
				continue;
		}
		ht_buf_add(&b, p, 1);
	}
	return ht_buf_detach(&b);
}
