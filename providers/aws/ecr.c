/*
 * ecr.c: ECR registries: host names, registry credentials from
 * GetAuthorizationToken with a memory and a disk cache, repositories.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/jsonl.h"
#include "ht/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/ecr.h"
#include "providers/aws/settings.h"

/* Reused until this long before the token expires. */
#define MARGIN_MS (5 * 60 * 1000LL)
/* ECR's tokens last 12 hours. */
#define TOKEN_LIFE_MS (12 * 3600 * 1000LL)
#define CACHE_FILE_MAX (64 * 1024)

/* --- host names ------------------------------------------------------------ */

/* Takes a label of [a-z0-9-] from *p up to stop, as a new string. */
static char *label(const char **p, const char *stop, int digits_only)
{
	const char *s = *p, *q = s;

	while (q < stop && *q != '.' &&
	       (digits_only ? isdigit((unsigned char)*q) : (islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '-')))
		q++;
	if (q == s || q >= stop || *q != '.')
		return NULL;
	*p = q + 1;
	return strndup(s, (size_t)(q - s));
}

int ht_ecr_host_parse(const char *host, char **account, char **region)
{
	const char *p = host, *end;
	char *acct = NULL, *reg = NULL;
	size_t n;

	if (!host)
		return 0;
	end = host + strcspn(host, ":");
	if (*end && strcmp(end, ":443") != 0)
		return 0;
	acct = label(&p, end, 1);
	if (!acct || strlen(acct) != 12)
		goto no;
	if (ht_starts_with(p, "dkr.ecr."))
		p += 8;
	else if (ht_starts_with(p, "dkr.ecr-fips."))
		p += 13;
	else
		goto no;
	reg = label(&p, end, 0);
	if (!reg)
		goto no;
	n = (size_t)(end - p);
	if (!((n == 13 && strncmp(p, "amazonaws.com", 13) == 0) || (n == 16 && strncmp(p, "amazonaws.com.cn", 16) == 0)))
		goto no;
	if (account)
		*account = acct;
	else
		free(acct);
	if (region)
		*region = reg;
	else
		free(reg);
	return 1;
no:
	free(acct);
	free(reg);
	return 0;
}

int ht_ecr_mode_parse(const char *s, enum ht_ecr_mode *mode)
{
	if (!s || strcmp(s, "auto") == 0)
		*mode = HT_ECR_AUTO;
	else if (strcmp(s, "always") == 0)
		*mode = HT_ECR_ALWAYS;
	else if (strcmp(s, "never") == 0)
		*mode = HT_ECR_NEVER;
	else
		return -1;
	return 0;
}

int ht_ecr_wanted(enum ht_ecr_mode mode, const char *host)
{
	if (mode == HT_ECR_ALWAYS)
		return 1;
	if (mode == HT_ECR_NEVER)
		return 0;
	return ht_ecr_host_parse(host, NULL, NULL);
}

/* --- the token caches --------------------------------------------------------- */

struct cached {
	char *host, *key_id, *user, *password;
	int64_t valid_until_ms; /* wall clock */
	struct cached *next;
};
static struct cached *mem_cache;
static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;

void ht_ecr_cache_clear(void)
{
	struct cached *c, *next;

	pthread_mutex_lock(&mem_lock);
	for (c = mem_cache; c; c = next) {
		next = c->next;
		free(c->host);
		free(c->key_id);
		free(c->user);
		ht_aws_wipe_free(c->password);
		free(c);
	}
	mem_cache = NULL;
	pthread_mutex_unlock(&mem_lock);
}

static int mem_get(const char *host, const char *key_id, char **user, char **password)
{
	struct cached *c;
	int found = 0;

	pthread_mutex_lock(&mem_lock);
	for (c = mem_cache; c && !found; c = c->next)
		if (!strcmp(c->host, host) && !strcmp(c->key_id, key_id) && c->valid_until_ms > ht_wall_ms()) {
			*user = ht_xstrdup(c->user);
			*password = ht_xstrdup(c->password);
			found = 1;
		}
	pthread_mutex_unlock(&mem_lock);
	return found;
}

static void mem_put(const char *host, const char *key_id, const char *user, const char *password, int64_t until)
{
	struct cached *c = ht_xcalloc(1, sizeof(*c));

	c->host = ht_xstrdup(host);
	c->key_id = ht_xstrdup(key_id);
	c->user = ht_xstrdup(user);
	c->password = ht_xstrdup(password);
	c->valid_until_ms = until;
	pthread_mutex_lock(&mem_lock);
	c->next = mem_cache;
	mem_cache = c;
	pthread_mutex_unlock(&mem_lock);
}

/* The cache file of host under dir: "ecr-HOST.json", ':' as '_'. New. */
static char *cache_path(const char *dir, const char *host)
{
	char *name = ht_xasprintf("ecr-%s.json", host);
	char *p, *path;

	for (p = name; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-'))
			*p = '_';
	path = ht_path_join(dir, name);
	free(name);
	return path;
}

/* Reads a token from the disk cache: 1 when a usable one was found. A
 * file that is not ours (other permissions, bad JSON) is ignored. */
static int disk_get(const char *dir, const char *host, const char *key_id, char **user, char **password,
		    int64_t *until)
{
	char *path = cache_path(dir, host), *text = NULL;
	size_t len;
	struct stat st;
	json_t *j = NULL;
	int found = 0;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	if (st.st_mode & 077) {
		ht_warning("'%s' is readable by others: not using it", path);
		goto out;
	}
	if (ht_read_file(path, CACHE_FILE_MAX, &text, &len) < 0)
		goto out;
	j = json_loadb(text, len, 0, NULL);
	if (json_is_object(j) && !strcmp(ht_json_str(j, "registry", ""), host) &&
	    !strcmp(ht_json_str(j, "access_key_id", ""), key_id) && ht_json_str(j, "username", NULL) &&
	    ht_json_str(j, "password", NULL) && ht_json_int(j, "valid_until_ms", 0) > ht_wall_ms()) {
		*user = ht_xstrdup(ht_json_str(j, "username", NULL));
		*password = ht_xstrdup(ht_json_str(j, "password", NULL));
		*until = ht_json_int(j, "valid_until_ms", 0);
		found = 1;
	}
out:
	if (j) {
		const char *pw = ht_json_str(j, "password", NULL);

		if (pw)
			explicit_bzero((char *)pw, strlen(pw));
		json_decref(j);
	}
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	free(path);
	return found;
}

/* Writes the token to the disk cache, 0600; a failure is only a warning. */
static void disk_put(const char *dir, const char *host, const char *key_id, const char *user, const char *password,
		     int64_t until)
{
	char *path = cache_path(dir, host);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:I}", "registry", host, "access_key_id", key_id, "username", user,
			      "password", password, "valid_until_ms", (json_int_t)until);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (!text) {
		/* A name or token that is not UTF-8: nothing to cache. */
		ht_warning("the ECR token is not cached on disk");
		json_decref(j);
		free(path);
		return;
	}
	if (ht_mkdir_p(dir, 0700) < 0 || ht_write_file_atomic(path, text, strlen(text), 0600) < 0)
		ht_warning("the ECR token is not cached on disk");
	else
		ht_debug("ecr: token for %s cached in '%s'", host, path);
	explicit_bzero(text, strlen(text));
	free(text);
	{
		const char *pw = ht_json_str(j, "password", NULL);

		if (pw)
			explicit_bzero((char *)pw, strlen(pw));
	}
	json_decref(j);
	free(path);
}

/* --- GetAuthorizationToken ------------------------------------------------- */

void ht_ecr_auth_release(struct ht_ecr_auth *x)
{
	free(x->username);
	ht_aws_wipe_free(x->password);
	free(x->endpoint);
	memset(x, 0, sizeof(*x));
}

int ht_ecr_get_authorization_token(struct ht_aws *a, struct ht_ecr_auth *out, struct ht_aws_error *e)
{
	static const char *const hdrs[] = {
		"Content-Type: application/x-amz-json-1.1",
		"X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
		NULL
	};
	/* The token is a secret: the answer is wiped. */
	struct ht_aws_call c = { .service = HT_AWS_ECR, .method = "POST", .path = "/", .headers = hdrs,
				 .body = "{}", .body_len = 2, .secret = 1 };
	json_t *j = NULL, *d;
	const char *tok, *ep;
	char *plain = NULL, *colon = NULL;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	if (ht_aws_do_json(a, &c, "ecr: GetAuthorizationToken", &j, e) < 0)
		return -1;
	d = json_array_get(json_object_get(j, "authorizationData"), 0);
	tok = json_string_value(json_object_get(d, "authorizationToken"));
	ep = json_string_value(json_object_get(d, "proxyEndpoint"));
	if (tok)
		plain = ht_base64_decode(tok, &len);
	/* "user:password", and no NUL inside (no token has one). */
	if (plain && strlen(plain) == len)
		colon = strchr(plain, ':');
	if (!colon) {
		if (plain) {
			explicit_bzero(plain, len);
			free(plain);
		}
		if (tok)
			explicit_bzero((char *)tok, strlen(tok));
		json_decref(j);
		ht_aws_error_set(e, HT_AWS_E_PROTOCOL, "ecr: GetAuthorizationToken: no 'user:password' token in the response");
		return ht_error("%s", e->message);
	}
	*colon = '\0';
	out->username = ht_xstrdup(plain);
	out->password = ht_xstrdup(colon + 1);
	out->endpoint = ep ? ht_xstrdup(ep) : NULL;
	{
		/* Seconds since the epoch, from the answer: only a time that
		 * fits is one (the cast of any other is undefined). */
		double ms = json_number_value(json_object_get(d, "expiresAt")) * 1000;

		out->expires_ms = isfinite(ms) && ms > 0 && ms < 0x1p62 ? (int64_t)ms : 0;
	}
	explicit_bzero(plain, len);
	free(plain);
	/* Wipe the token inside the JSON tree before freeing it. */
	explicit_bzero((char *)tok, strlen(tok));
	json_decref(j);
	return 0;
}

/* --- login --------------------------------------------------------------------- */

int ht_ecr_login(struct ht_ecr_login *l, const char *host, char **user, char **password)
{
	struct ht_aws_opts o;
	struct ht_aws a;
	struct ht_aws_error e;
	struct ht_ecr_auth auth;
	char *region = NULL;
	int64_t until, now;

	*user = *password = NULL;
	l->source = NULL;
	l->exit = HT_EXIT_OK;
	if (l->aws)
		o = *l->aws;
	else
		memset(&o, 0, sizeof(o));
	/* The registry's region is in its name: ask ECR there. */
	if (ht_ecr_host_parse(host, NULL, &region))
		o.region = region;
	if (ht_aws_init(&a, &o, &e) < 0) {
		l->exit = ht_aws_error_exit(&e);
		free(region);
		return ht_error("no ECR credentials for '%s'", host);
	}
	if (mem_get(host, a.creds.access_key_id, user, password)) {
		l->source = "memory";
		goto done;
	}
	if (l->cache_dir && disk_get(l->cache_dir, host, a.creds.access_key_id, user, password, &until)) {
		l->source = "disk";
		mem_put(host, a.creds.access_key_id, *user, *password, until);
		goto done;
	}
	if (ht_ecr_get_authorization_token(&a, &auth, &e) < 0) {
		l->exit = ht_aws_error_exit(&e);
		ht_aws_release(&a);
		free(region);
		return ht_error("no ECR credentials for '%s' (ecr:GetAuthorizationToken in region %s)", host,
				o.region ? o.region : "?");
	}
	now = ht_wall_ms();
	until = auth.expires_ms > now ? auth.expires_ms : now + TOKEN_LIFE_MS;
	if (until > now + TOKEN_LIFE_MS)
		until = now + TOKEN_LIFE_MS;
	until -= MARGIN_MS;
	*user = ht_xstrdup(auth.username);
	*password = ht_xstrdup(auth.password);
	l->source = "GetAuthorizationToken";
	mem_put(host, a.creds.access_key_id, *user, *password, until);
	if (l->cache_dir)
		disk_put(l->cache_dir, host, a.creds.access_key_id, *user, *password, until);
	ht_ecr_auth_release(&auth);
done:
	ht_debug("ecr: credentials for %s from %s", host, l->source);
	ht_aws_release(&a);
	free(region);
	return 0;
}

/* --- repositories --------------------------------------------------------- */

static int ecr_json(struct ht_aws *a, const char *target, json_t *body, struct ht_aws_error *e)
{
	char *hdr = ht_xasprintf("X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.%s", target);
	const char *hdrs[] = { "Content-Type: application/x-amz-json-1.1", hdr, NULL };
	char *text = ht_json_xdumps(body, JSON_COMPACT);
	struct ht_aws_call c = { .service = HT_AWS_ECR, .method = "POST", .path = "/", .headers = hdrs,
				 .body = text, .body_len = strlen(text), .quiet = 1 };
	struct ht_http_resp resp;
	int rc;

	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	ht_http_resp_release(&resp);
	free(text);
	free(hdr);
	return rc;
}

int ht_ecr_repository_ensure(struct ht_aws *a, const char *registry_id, const char *repository, int create,
			     int quiet, int *created, struct ht_aws_error *e)
{
	json_t *body = json_pack("{s:[s]}", "repositoryNames", repository);
	int rc;

	*created = 0;
	if (registry_id)
		json_object_set_new(body, "registryId", json_string(registry_id));
	rc = ecr_json(a, "DescribeRepositories", body, e);
	json_decref(body);
	if (rc == 0)
		return 0;
	if (strcmp(e->code, "RepositoryNotFoundException") != 0)
		return quiet ? -1 : ht_error("%s", e->message);
	if (!create) {
		e->kind = HT_AWS_E_NOT_FOUND;
		snprintf(e->message, sizeof(e->message), "ECR repository '%s' does not exist in region %s%s%s: "
			 "create it (aws ecr create-repository --repository-name %s), or pass --create-repository "
			 "(aws.create_repository)", repository, a->region, registry_id ? ", registry " : "",
			 registry_id ? registry_id : "", repository);
		return quiet ? -1 : ht_error("%s", e->message);
	}
	body = json_pack("{s:s,s:{s:b},s:s}", "repositoryName", repository, "imageScanningConfiguration",
			 "scanOnPush", 0, "imageTagMutability", "MUTABLE");
	if (registry_id)
		json_object_set_new(body, "registryId", json_string(registry_id));
	rc = ecr_json(a, "CreateRepository", body, e);
	json_decref(body);
	if (rc < 0 && strcmp(e->code, "RepositoryAlreadyExistsException") != 0)
		return ht_error("cannot create ECR repository '%s': %s", repository, e->message);
	*created = rc == 0;
	if (rc == 0)
		ht_info("created ECR repository '%s' in region %s", repository, a->region);
	ht_aws_error_clear(e);
	return 0;
}

/* --- for ht-pull and ht-push ------------------------------------------------ */

int ht_ecr_registry_credentials(const struct ht_config *cfg, const char *host, int force, char **user,
				char **password, int *exit)
{
	enum ht_ecr_mode mode = HT_ECR_AUTO;
	struct ht_aws_opts o;
	struct ht_ecr_login l;
	char *dir = NULL;
	int rc;

	*exit = HT_EXIT_OK;
	if (ht_ecr_mode_parse(ht_aws_settings(cfg)->ecr, &mode) < 0)
		mode = HT_ECR_AUTO;
	if (!force && !ht_ecr_wanted(mode, host))
		return 0;
	ht_aws_opts_from_config(&o, cfg);
	memset(&l, 0, sizeof(l));
	l.aws = &o;
	if (ht_aws_settings(cfg)->ecr_cache)
		l.cache_dir = dir = ht_config_state_path(cfg, "ecr");
	rc = ht_ecr_login(&l, host, user, password);
	free(dir);
	if (rc < 0) {
		*exit = l.exit ? l.exit : HT_EXIT_NOPERM;
		return -1;
	}
	ht_info("logged in to %s with ECR credentials (token from %s)", host,
		strcmp(l.source, "GetAuthorizationToken") == 0 ? "ECR" : l.source);
	return 1;
}

int ht_ecr_push_check(const struct ht_config *cfg, const char *host, const char *repository, int create, int *exit)
{
	struct ht_aws_opts o;
	struct ht_aws a;
	struct ht_aws_error e;
	char *account = NULL, *region = NULL;
	int created, rc;

	*exit = HT_EXIT_OK;
	ht_aws_opts_from_config(&o, cfg);
	if (ht_ecr_host_parse(host, &account, &region))
		o.region = region;
	if (ht_aws_init(&a, &o, &e) < 0) {
		*exit = ht_aws_error_exit(&e);
		free(account);
		free(region);
		return -1;
	}
	rc = ht_ecr_repository_ensure(&a, account, repository, create, 0, &created, &e);
	if (rc < 0)
		*exit = ht_aws_error_exit(&e);
	ht_aws_release(&a);
	free(account);
	free(region);
	return rc;
}
