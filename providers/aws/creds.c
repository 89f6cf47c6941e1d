/*
 * creds.c: the INI reader of the shared AWS files, and credentials,
 * profiles and regions resolved from the environment and those files.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ht/diag.h"
#include "ht/util.h"
#include "providers/aws/aws.h"
#include "providers/aws/creds.h"

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

/* --- credentials, profiles, regions ----------------------------------------- */

void ht_aws_wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void ht_aws_creds_init(struct ht_aws_creds *c)
{
	memset(c, 0, sizeof(*c));
}

void ht_aws_creds_release(struct ht_aws_creds *c)
{
	free(c->access_key_id);
	ht_aws_wipe_free(c->secret_access_key);
	ht_aws_wipe_free(c->session_token);
	ht_aws_creds_init(c);
}

static int same(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

int ht_aws_creds_equal(const struct ht_aws_creds *a, const struct ht_aws_creds *b)
{
	return same(a->access_key_id, b->access_key_id) && same(a->secret_access_key, b->secret_access_key) &&
	       same(a->session_token, b->session_token);
}

const char *ht_aws_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

const char *ht_aws_profile_name(const char *caller_profile)
{
	const char *v;

	if (caller_profile && *caller_profile)
		return caller_profile;
	v = ht_aws_env("AWS_PROFILE");
	return v ? v : "default";
}

static char *home_path(const char *env, const char *rel)
{
	const char *v = ht_aws_env(env);
	const char *home = ht_aws_env("HOME");

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
		return ht_aws_error_set(e, HT_AWS_E_CREDENTIALS, "'%s': [%s] needs both aws_access_key_id and aws_secret_access_key",
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
	const char *id = ht_aws_env("AWS_ACCESS_KEY_ID");
	const char *secret = ht_aws_env("AWS_SECRET_ACCESS_KEY");
	const char *token = ht_aws_env("AWS_SESSION_TOKEN");
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
		return ht_aws_error_set(e, HT_AWS_E_CREDENTIALS, "%s is set but %s is not",
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
			return ht_aws_error_set(e, HT_AWS_E_CONFIG, "profile '%s' is in neither '%s' nor '%s'", profile,
					 f->config_path, f->credentials_path);
		return ht_aws_error_set(e, HT_AWS_E_CREDENTIALS,
				 "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
				 "or give profile '%s' keys in '%s'", profile, f->credentials_path);
	}
	if (ht_ini_get(&f->config, csec, "role_arn") || ht_ini_get(&f->config, csec, "credential_process") ||
	    ht_ini_get(&f->config, csec, "sso_session") || ht_ini_get(&f->config, csec, "sso_start_url"))
		return ht_aws_error_set(e, HT_AWS_E_CREDENTIALS,
				 "profile '%s' gets its credentials by a role, a process or SSO, which hypertest does "
				 "not support: export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN "
				 "(aws configure export-credentials)", profile);
	return ht_aws_error_set(e, HT_AWS_E_CREDENTIALS, "profile '%s' has no aws_access_key_id and aws_secret_access_key",
			 profile);
}

char *ht_aws_region_resolve(const char *caller_region, const struct ht_aws_files *f, const char *profile)
{
	const char *v = caller_region && *caller_region ? caller_region : NULL;

	if (!v)
		v = ht_aws_env("AWS_REGION");
	if (!v)
		v = ht_aws_env("AWS_DEFAULT_REGION");
	if (!v && f)
		v = ht_aws_profile_get(f, profile, "region");
	return v && *v ? ht_xstrdup(v) : NULL;
}
