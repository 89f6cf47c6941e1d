/*
 * aws.c: credentials, regions and endpoints resolved as the AWS CLI does,
 * SigV4-signed calls through libcurl (http.c), error classification, and
 * the S3, Lambda, ECR and STS calls the tools make.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "providers/aws/aws.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/util.h"

#define MAX_INI_FILE (4u * 1024 * 1024)

/* --- INI ----------------------------------------------------------------- */

void ht_ini_init(struct ht_ini *ini)
{
	ini->v = NULL;
	ini->n = 0;
}

void ht_ini_release(struct ht_ini *ini)
{
	size_t i;

	for (i = 0; i < ini->n; i++) {
		free(ini->v[i].section);
		free(ini->v[i].key);
		if (ini->v[i].value) {
			/* Values may be secret keys. */
			explicit_bzero(ini->v[i].value, strlen(ini->v[i].value));
			free(ini->v[i].value);
		}
	}
	free(ini->v);
	ht_ini_init(ini);
}

static char *trim_dup(const char *s, const char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	return strndup(s, (size_t)(end - s));
}

static void ini_add(struct ht_ini *ini, const char *section, char *key, char *value)
{
	char *p;

	for (p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ini->v = ht_xrealloc(ini->v, (ini->n + 1) * sizeof(*ini->v));
	ini->v[ini->n].section = ht_xstrdup(section);
	ini->v[ini->n].key = key;
	ini->v[ini->n].value = value;
	ini->n++;
}

int ht_ini_parse(struct ht_ini *ini, const char *text, const char *name)
{
	const char *p = text;
	char *section = NULL;
	char *parent = NULL; /* the key of a nested block ("s3 =" then indented lines) */
	int lineno = 0, rc = 0;

	while (*p) {
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		const char *s = p;
		int indented;

		lineno++;
		p = eol ? eol + 1 : end;
		indented = s < end && (*s == ' ' || *s == '\t');
		while (s < end && isspace((unsigned char)*s))
			s++;
		if (s == end || *s == '#' || *s == ';')
			continue;
		if (*s == '[' && !indented) {
			const char *close = memchr(s, ']', (size_t)(end - s));

			if (!close) {
				rc = ht_error("%s:%d: expected ']' to close the section name", name, lineno);
				break;
			}
			free(section);
			section = trim_dup(s + 1, close);
			/* "[profile  dev]" is "[profile dev]". */
			if (strncmp(section, "profile", 7) == 0 && isspace((unsigned char)section[7])) {
				char *t = trim_dup(section + 8, section + strlen(section));
				char *u = ht_xasprintf("profile %s", t);

				free(t);
				free(section);
				section = u;
			}
			free(parent);
			parent = NULL;
			continue;
		}
		{
			const char *eq = memchr(s, '=', (size_t)(end - s));
			char *key, *value;

			if (!section) {
				rc = ht_error("%s:%d: a setting before any [section]", name, lineno);
				break;
			}
			if (!eq) {
				if (indented && !parent)
					continue; /* a continuation line: not used by us */
				rc = ht_error("%s:%d: expected 'key = value'", name, lineno);
				break;
			}
			key = trim_dup(s, eq);
			value = trim_dup(eq + 1, end);
			if (!*key) {
				free(key);
				free(value);
				rc = ht_error("%s:%d: expected a key before '='", name, lineno);
				break;
			}
			if (indented && parent) {
				char *k = ht_xasprintf("%s.%s", parent, key);

				free(key);
				ini_add(ini, section, k, value);
				continue;
			}
			free(parent);
			parent = NULL;
			if (!*value)
				parent = ht_xstrdup(key);
			ini_add(ini, section, key, value);
		}
	}
	free(section);
	free(parent);
	return rc;
}

int ht_ini_load(struct ht_ini *ini, const char *path)
{
	char *text;
	size_t len;
	int rc;

	if (ht_read_file(path, MAX_INI_FILE, &text, &len) < 0) {
		if (errno == ENOENT)
			return 1;
		return ht_error("cannot read '%s': %s", path, errno == EFBIG ? "file too large" : strerror(errno));
	}
	if (memchr(text, '\0', len)) {
		free(text);
		return ht_error("%s: not a text file", path);
	}
	rc = ht_ini_parse(ini, text, path);
	explicit_bzero(text, len);
	free(text);
	return rc;
}

const char *ht_ini_get(const struct ht_ini *ini, const char *section, const char *key)
{
	size_t i = ini->n;

	while (i-- > 0)
		if (strcmp(ini->v[i].section, section) == 0 && strcasecmp(ini->v[i].key, key) == 0)
			return ini->v[i].value;
	return NULL;
}

int ht_ini_has_section(const struct ht_ini *ini, const char *section)
{
	size_t i;

	for (i = 0; i < ini->n; i++)
		if (strcmp(ini->v[i].section, section) == 0)
			return 1;
	return 0;
}

/* --- errors --------------------------------------------------------------- */

void ht_aws_error_clear(struct ht_aws_error *e)
{
	memset(e, 0, sizeof(*e));
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

/* --- credentials, region, endpoints ---------------------------------------- */

static void free_secret(char **s)
{
	if (*s) {
		explicit_bzero(*s, strlen(*s));
		free(*s);
	}
	*s = NULL;
}

void ht_aws_creds_init(struct ht_aws_creds *c)
{
	memset(c, 0, sizeof(*c));
}

void ht_aws_creds_release(struct ht_aws_creds *c)
{
	free(c->access_key_id);
	free_secret(&c->secret_access_key);
	free_secret(&c->session_token);
	ht_aws_creds_init(c);
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

const char *ht_aws_profile_name(const char *caller_profile)
{
	const char *v;

	if (caller_profile && *caller_profile)
		return caller_profile;
	v = env_nonempty("AWS_PROFILE");
	return v ? v : "default";
}

static char *home_path(const char *env, const char *rel)
{
	const char *v = env_nonempty(env);
	const char *home = env_nonempty("HOME");

	if (v)
		return ht_xstrdup(v);
	return ht_xasprintf("%s/%s", home ? home : ".", rel);
}

char *ht_aws_config_path(void)
{
	return home_path("AWS_CONFIG_FILE", ".aws/config");
}

char *ht_aws_credentials_path(void)
{
	return home_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
}

int ht_aws_files_load(struct ht_aws_files *f)
{
	ht_ini_init(&f->config);
	ht_ini_init(&f->credentials);
	f->config_path = ht_aws_config_path();
	f->credentials_path = ht_aws_credentials_path();
	if (ht_ini_load(&f->config, f->config_path) < 0 || ht_ini_load(&f->credentials, f->credentials_path) < 0) {
		ht_aws_files_release(f);
		return -1;
	}
	return 0;
}

void ht_aws_files_release(struct ht_aws_files *f)
{
	ht_ini_release(&f->config);
	ht_ini_release(&f->credentials);
	free(f->config_path);
	free(f->credentials_path);
	f->config_path = f->credentials_path = NULL;
}

/* The config file's section for profile: "[profile NAME]", and for the
 * default profile "[default]" (or "[profile default]"). */
static const char *config_section(const struct ht_aws_files *f, const char *profile, char *buf, size_t cap)
{
	snprintf(buf, cap, "profile %s", profile);
	if (strcmp(profile, "default") == 0 && !ht_ini_has_section(&f->config, buf))
		return "default";
	return buf;
}

const char *ht_aws_profile_get(const struct ht_aws_files *f, const char *profile, const char *key)
{
	char buf[256];

	return ht_ini_get(&f->config, config_section(f, profile, buf, sizeof(buf)), key);
}

static int set_error(struct ht_aws_error *e, enum ht_aws_errkind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int set_error(struct ht_aws_error *e, enum ht_aws_errkind kind, const char *fmt, ...)
{
	va_list ap;

	ht_aws_error_clear(e);
	e->kind = kind;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* Takes the keys of one section of one file, when it has them. Returns 1
 * when it did, 0 when the section has no keys, -1 when half of them. */
static int creds_from_ini(struct ht_aws_creds *c, const struct ht_ini *ini, const char *section,
			  const char *path, const char *source, struct ht_aws_error *e)
{
	const char *id = ht_ini_get(ini, section, "aws_access_key_id");
	const char *secret = ht_ini_get(ini, section, "aws_secret_access_key");
	const char *token = ht_ini_get(ini, section, "aws_session_token");

	if (!id && !secret)
		return 0;
	if (!id || !*id || !secret || !*secret)
		return set_error(e, HT_AWS_E_CREDENTIALS, "'%s': [%s] needs both aws_access_key_id and aws_secret_access_key",
				 path, section);
	c->access_key_id = ht_xstrdup(id);
	c->secret_access_key = ht_xstrdup(secret);
	c->session_token = token && *token ? ht_xstrdup(token) : NULL;
	c->source = source;
	return 1;
}

int ht_aws_creds_resolve(struct ht_aws_creds *c, const struct ht_aws_files *f, const char *profile,
			 int explicit_profile, struct ht_aws_error *e)
{
	const char *id = env_nonempty("AWS_ACCESS_KEY_ID");
	const char *secret = env_nonempty("AWS_SECRET_ACCESS_KEY");
	const char *token = env_nonempty("AWS_SESSION_TOKEN");
	char buf[256];
	const char *csec;
	int r;

	ht_aws_creds_init(c);
	ht_aws_error_clear(e);
	if (id && secret) {
		c->access_key_id = ht_xstrdup(id);
		c->secret_access_key = ht_xstrdup(secret);
		c->session_token = token ? ht_xstrdup(token) : NULL;
		c->source = "environment";
		return 0;
	}
	if (id || secret)
		return set_error(e, HT_AWS_E_CREDENTIALS, "%s is set but %s is not",
				 id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
				 id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	r = creds_from_ini(c, &f->credentials, profile, f->credentials_path, "credentials file", e);
	if (r)
		return r < 0 ? -1 : 0;
	csec = config_section(f, profile, buf, sizeof(buf));
	r = creds_from_ini(c, &f->config, csec, f->config_path, "config file", e);
	if (r)
		return r < 0 ? -1 : 0;
	if (!ht_ini_has_section(&f->credentials, profile) && !ht_ini_has_section(&f->config, csec)) {
		if (explicit_profile)
			return set_error(e, HT_AWS_E_CONFIG, "profile '%s' is in neither '%s' nor '%s'", profile,
					 f->config_path, f->credentials_path);
		return set_error(e, HT_AWS_E_CREDENTIALS,
				 "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
				 "or give profile '%s' keys in '%s'", profile, f->credentials_path);
	}
	if (ht_ini_get(&f->config, csec, "role_arn") || ht_ini_get(&f->config, csec, "credential_process") ||
	    ht_ini_get(&f->config, csec, "sso_session") || ht_ini_get(&f->config, csec, "sso_start_url"))
		return set_error(e, HT_AWS_E_CREDENTIALS,
				 "profile '%s' gets its credentials by a role, a process or SSO, which hypertest does "
				 "not support: export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN "
				 "(aws configure export-credentials)", profile);
	return set_error(e, HT_AWS_E_CREDENTIALS, "profile '%s' has no aws_access_key_id and aws_secret_access_key",
			 profile);
}

char *ht_aws_region_resolve(const char *caller_region, const struct ht_aws_files *f, const char *profile)
{
	const char *v = caller_region && *caller_region ? caller_region : NULL;

	if (!v)
		v = env_nonempty("AWS_REGION");
	if (!v)
		v = env_nonempty("AWS_DEFAULT_REGION");
	if (!v && f)
		v = ht_aws_profile_get(f, profile, "region");
	return v && *v ? ht_xstrdup(v) : NULL;
}

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
	else if ((unsigned)s < HT_AWS_NSERVICES && env_nonempty(envs[s]))
		v = env_nonempty(envs[s]);
	else if (env_nonempty("AWS_ENDPOINT_URL"))
		v = env_nonempty("AWS_ENDPOINT_URL");
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
	int explicit_profile, i;

	if (!o)
		o = &none;
	memset(a, 0, sizeof(*a));
	ht_aws_error_clear(e);
	explicit_profile = (o->profile && *o->profile) || env_nonempty("AWS_PROFILE");
	profile = ht_aws_profile_name(o->profile);
	a->profile = ht_xstrdup(profile);
	a->insecure = o->insecure;
	a->retry = o->retry ? *o->retry : ht_http_retry_default;
	a->timeout_ms = o->timeout_ms;
	if (ht_aws_files_load(&f) < 0) {
		set_error(e, HT_AWS_E_CONFIG, "cannot read the AWS config files");
		ht_aws_release(a);
		return -1;
	}
	if (ht_aws_creds_resolve(&a->creds, &f, profile, explicit_profile, e) < 0)
		goto fail;
	a->region = ht_aws_region_resolve(o->region, &f, profile);
	if (!a->region) {
		set_error(e, HT_AWS_E_CONFIG,
			  "no AWS region: set aws.region in hypertest.json, AWS_REGION, or region in profile '%s'",
			  profile);
		goto fail;
	}
	if (!region_valid(a->region)) {
		set_error(e, HT_AWS_E_CONFIG, "'%s' is not a region name", a->region);
		goto fail;
	}
	for (i = 0; i < HT_AWS_NSERVICES; i++) {
		const char *mine = i == HT_AWS_S3 ? o->endpoint_s3 : i == HT_AWS_LAMBDA ? o->endpoint_lambda :
				   i == HT_AWS_ECR ? o->endpoint_ecr : NULL;

		a->endpoint[i] = ht_aws_endpoint_resolve((enum ht_aws_service)i, a->region, mine, o->endpoint,
							 ht_aws_profile_get(&f, profile, "endpoint_url"), &a->custom[i]);
		if (!endpoint_valid(a->endpoint[i])) {
			set_error(e, HT_AWS_E_CONFIG, "%s endpoint '%s' is not an http:// or https:// URL",
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

int ht_aws_do(struct ht_aws *a, const struct ht_aws_call *c, struct ht_http_resp *resp, struct ht_aws_error *e)
{
	struct ht_http_req req;
	struct ht_aws_sig sig;
	char *shown = NULL;
	char *url = call_url(a, c, &shown);
	const char *svc = ht_aws_service_name(c->service);
	int rc;

	memset(&req, 0, sizeof(req));
	sig.region = c->service == HT_AWS_IAM && !a->custom[HT_AWS_IAM] ? "us-east-1" : a->region;
	sig.service = c->service == HT_AWS_ECR ? "ecr" : svc;
	sig.access_key_id = a->creds.access_key_id;
	sig.secret_access_key = a->creds.secret_access_key;
	sig.session_token = a->creds.session_token;
	req.method = c->method;
	req.url = url;
	req.headers = c->headers;
	req.body = c->body;
	req.body_len = c->body_len;
	req.upload_path = c->upload_path;
	req.insecure = a->insecure && a->custom[c->service];
	req.retry = &a->retry;
	req.timeout_ms = a->timeout_ms;
	req.max_response = c->max_response;
	req.aws = &sig;
	ht_aws_error_clear(e);
	rc = ht_http_do(&req, resp);
	if (rc < 0) {
		e->kind = resp->curl_code == 26 /* CURLE_READ_ERROR */ ? HT_AWS_E_CONFIG : HT_AWS_E_TRANSPORT;
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

char *ht_aws_call_prepare(struct ht_aws *a, const struct ht_aws_call *c, struct ht_http_req *req,
			  struct ht_aws_sig *sig)
{
	char *shown = NULL;
	char *url = call_url(a, c, &shown);

	free(shown);
	memset(req, 0, sizeof(*req));
	sig->region = c->service == HT_AWS_IAM && !a->custom[HT_AWS_IAM] ? "us-east-1" : a->region;
	sig->service = ht_aws_service_name(c->service);
	sig->access_key_id = a->creds.access_key_id;
	sig->secret_access_key = a->creds.secret_access_key;
	sig->session_token = a->creds.session_token;
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
	req->aws = sig;
	return url;
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

/* --- S3 --------------------------------------------------------------------- */

static char *key_path(const char *key)
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

static int s3_put(struct ht_aws *a, const char *bucket, const char *key, const void *data, size_t len,
		  const char *path, const char *content_type, struct ht_aws_error *e)
{
	char *ct = ht_xasprintf("Content-Type: %s", content_type ? content_type : "application/octet-stream");
	const char *hdrs[] = { ct, NULL };
	char *kp = key_path(key);
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
	char *kp = key_path(key);
	struct ht_aws_call c = { .service = HT_AWS_S3, .method = "GET", .bucket = bucket, .path = kp,
				 .max_response = out->max };
	struct ht_http_resp resp;
	int rc;

	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	if (rc == 0 && ht_buf_add(out, resp.body.data ? resp.body.data : "", resp.body.len) < 0)
		rc = set_error(e, HT_AWS_E_PROTOCOL, "s3: GET /%s/%s: object too large", bucket, key);
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
				rc = set_error(e, HT_AWS_E_PROTOCOL, "s3: GET /%s: an empty listing", bucket);
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
				rc = set_error(e, HT_AWS_E_PROTOCOL, "s3: GET /%s: truncated listing without a token",
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

/* --- Lambda, ECR, STS ------------------------------------------------------ */

static int json_result(struct ht_http_resp *resp, json_t **out, const char *what, struct ht_aws_error *e)
{
	json_error_t je;

	*out = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &je);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		set_error(e, HT_AWS_E_PROTOCOL, "%s: the response is not a JSON object: %s", what, je.text);
		return ht_error("%s", e->message);
	}
	return 0;
}

int ht_lambda_get_function(struct ht_aws *a, const char *name, json_t **out, struct ht_aws_error *e)
{
	char *enc = ht_aws_uri_encode(name, 0);
	char *path = ht_xasprintf("/2015-03-31/functions/%s", enc);
	struct ht_aws_call c = { .service = HT_AWS_LAMBDA, .method = "GET", .path = path };
	struct ht_http_resp resp;
	int rc;

	*out = NULL;
	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	if (rc == 0)
		rc = json_result(&resp, out, "lambda: GetFunction", e);
	ht_http_resp_release(&resp);
	free(path);
	free(enc);
	return rc;
}

void ht_ecr_auth_release(struct ht_ecr_auth *x)
{
	free(x->username);
	free_secret(&x->password);
	free(x->endpoint);
	memset(x, 0, sizeof(*x));
}

/* Decodes base64 text into a new string, or NULL (also when it holds a
 * NUL byte, which no token has). */
static char *base64_decode(const char *s)
{
	size_t len;
	char *out = ht_base64_decode(s, &len);

	if (out && memchr(out, '\0', len)) {
		explicit_bzero(out, len);
		free(out);
		return NULL;
	}
	return out;
}

int ht_ecr_get_authorization_token(struct ht_aws *a, struct ht_ecr_auth *out, struct ht_aws_error *e)
{
	static const char *const hdrs[] = {
		"Content-Type: application/x-amz-json-1.1",
		"X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
		NULL
	};
	struct ht_aws_call c = { .service = HT_AWS_ECR, .method = "POST", .path = "/", .headers = hdrs,
				 .body = "{}", .body_len = 2 };
	struct ht_http_resp resp;
	json_t *j = NULL, *d;
	const char *tok, *ep;
	char *plain, *colon;
	int rc;

	memset(out, 0, sizeof(*out));
	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	if (rc == 0)
		rc = json_result(&resp, &j, "ecr: GetAuthorizationToken", e);
	/* The token is a secret: wipe the body that carried it. */
	if (resp.body.data)
		explicit_bzero(resp.body.data, resp.body.len);
	ht_http_resp_release(&resp);
	if (rc < 0)
		return -1;
	d = json_array_get(json_object_get(j, "authorizationData"), 0);
	tok = json_string_value(json_object_get(d, "authorizationToken"));
	ep = json_string_value(json_object_get(d, "proxyEndpoint"));
	plain = tok ? base64_decode(tok) : NULL;
	colon = plain ? strchr(plain, ':') : NULL;
	if (!colon) {
		if (plain) {
			explicit_bzero(plain, strlen(plain));
			free(plain);
		}
		json_decref(j);
		set_error(e, HT_AWS_E_PROTOCOL, "ecr: GetAuthorizationToken: no 'user:password' token in the response");
		return ht_error("%s", e->message);
	}
	*colon = '\0';
	out->username = ht_xstrdup(plain);
	out->password = ht_xstrdup(colon + 1);
	out->endpoint = ep ? ht_xstrdup(ep) : NULL;
	out->expires_ms = (int64_t)(json_number_value(json_object_get(d, "expiresAt")) * 1000);
	explicit_bzero(colon + 1, strlen(colon + 1));
	free(plain);
	/* Wipe the token inside the JSON tree before freeing it. */
	if (tok)
		explicit_bzero((char *)tok, strlen(tok));
	json_decref(j);
	return 0;
}

/* An STS call whose response holds <Credentials>: into out. */
static int sts_credentials(struct ht_aws *a, const char *body, const char *what, struct ht_aws_creds *out,
			   struct ht_aws_error *e)
{
	static const char *const hdrs[] = { "Content-Type: application/x-www-form-urlencoded; charset=utf-8", NULL };
	struct ht_aws_call c = { .service = HT_AWS_STS, .method = "POST", .path = "/", .headers = hdrs,
				 .body = body, .body_len = strlen(body) };
	struct ht_http_resp resp;
	int rc;

	ht_aws_creds_init(out);
	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	if (rc == 0) {
		size_t p1 = 0, p2 = 0, p3 = 0;

		out->access_key_id = ht_xml_text(resp.body.data, "AccessKeyId", &p1);
		out->secret_access_key = ht_xml_text(resp.body.data, "SecretAccessKey", &p2);
		out->session_token = ht_xml_text(resp.body.data, "SessionToken", &p3);
		out->source = "sts";
		if (!out->access_key_id || !out->secret_access_key || !out->session_token) {
			ht_aws_creds_release(out);
			set_error(e, HT_AWS_E_PROTOCOL, "sts: %s: no credentials in the response", what);
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
