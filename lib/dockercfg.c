/*
 * dockercfg.c: registry credentials from docker's config.json and the
 * containers auth.json (podman, skopeo), the files people already have.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "ht/diag.h"
#include "ht/jsonl.h"
#include "ht/registry.h"
#include "ht/util.h"

#define CFG_MAX (1024 * 1024)

/* Decodes base64 "user:password" into two new strings. */
static int split_auth(const char *b64, const char *file, char **user, char **pass)
{
	size_t n = strlen(b64), len;
	char *out, *colon;

	if (n == 0 || n > 8192)
		return ht_error("%s: an 'auth' entry is empty or too long", file);
	out = ht_base64_decode(b64, &len);
	if (!out)
		return ht_error("%s: an 'auth' entry is not base64", file);
	colon = strchr(out, ':');
	if (!colon || memchr(out, '\0', len)) {
		OPENSSL_cleanse(out, len);
		free(out);
		return ht_error("%s: an 'auth' entry is not user:password", file);
	}
	*colon = '\0';
	*user = ht_xstrdup(out);
	*pass = ht_xstrdup(colon + 1);
	OPENSSL_cleanse(out, len);
	free(out);
	return 0;
}

/* The registry name a config key means: "https://index.docker.io/v1/" ->
 * "docker.io", "http://host:5000/x" -> "host:5000". New string. */
static char *key_registry(const char *key)
{
	const char *p = key;
	size_t n;

	if (ht_starts_with(p, "https://"))
		p += 8;
	else if (ht_starts_with(p, "http://"))
		p += 7;
	n = strcspn(p, "/");
	if ((n == 15 && strncmp(p, "index.docker.io", n) == 0) ||
	    (n == 20 && strncmp(p, "registry-1.docker.io", n) == 0))
		return ht_xstrdup("docker.io");
	return strndup(p, n);
}

/* Looks registry up in one file: 1 found, 0 not (or no file), -1 error. */
static int lookup_file(const char *file, const char *registry, char **user, char **pass)
{
	char *text = NULL;
	size_t len;
	json_t *root, *auths, *v;
	json_error_t jerr;
	const char *key;
	int found = 0;

	if (ht_read_file(file, CFG_MAX, &text, &len) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return ht_error("cannot read '%s': %s", file, strerror(errno));
	}
	root = json_loadb(text, len, 0, &jerr);
	OPENSSL_cleanse(text, len);
	free(text);
	if (!root)
		return ht_error("%s:%d: %s", file, jerr.line, jerr.text);
	auths = json_object_get(root, "auths");
	json_object_foreach(auths, key, v) {
		char *reg = key_registry(key);
		const char *a = ht_json_str(v, "auth", NULL);
		const char *u = ht_json_str(v, "username", NULL);
		const char *p = ht_json_str(v, "password", NULL);
		int match = reg && strcmp(reg, registry) == 0;

		free(reg);
		if (!match)
			continue;
		if (a && *a) {
			found = split_auth(a, file, user, pass) < 0 ? -1 : 1;
		} else if (u && p) {
			*user = ht_xstrdup(u);
			*pass = ht_xstrdup(p);
			found = 1;
		} else {
			continue;
		}
		break;
	}
	json_decref(root);
	return found;
}

int ht_dockercfg_lookup(const char *registry, char **username, char **password)
{
	const char *env;
	char *path;
	int rc;

	*username = *password = NULL;
	env = getenv("REGISTRY_AUTH_FILE");
	if (env && *env) {
		rc = lookup_file(env, registry, username, password);
		if (rc)
			return rc;
	}
	env = getenv("XDG_RUNTIME_DIR");
	if (env && *env) {
		path = ht_xasprintf("%s/containers/auth.json", env);
		rc = lookup_file(path, registry, username, password);
		free(path);
		if (rc)
			return rc;
	}
	env = getenv("DOCKER_CONFIG");
	if (env && *env) {
		path = ht_xasprintf("%s/config.json", env);
	} else {
		env = getenv("HOME");
		if (!env || !*env)
			return 0;
		path = ht_xasprintf("%s/.docker/config.json", env);
	}
	rc = lookup_file(path, registry, username, password);
	free(path);
	return rc;
}
