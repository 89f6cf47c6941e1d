/*
 * imageref.c: parsing image references the way docker and skopeo read them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ht/diag.h"
#include "ht/imageref.h"
#include "ht/util.h"

#define DOCKER_HUB "docker.io"
#define DOCKER_HUB_HOST "registry-1.docker.io"

void ht_imageref_init(struct ht_imageref *ref)
{
	memset(ref, 0, sizeof(*ref));
}

void ht_imageref_release(struct ht_imageref *ref)
{
	free(ref->registry);
	free(ref->host);
	free(ref->repository);
	free(ref->tag);
	free(ref->digest);
	free(ref->dir);
	ht_imageref_init(ref);
}

static int is_alnum_lower(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*. */
static int component_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_alnum_lower((unsigned char)s[0]) || !is_alnum_lower((unsigned char)s[n - 1]))
		return 0;
	while (i < n) {
		if (is_alnum_lower((unsigned char)s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i >= n || !is_alnum_lower((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

int ht_repository_valid(const char *s)
{
	size_t total = strlen(s);

	if (total == 0 || total > 255)
		return 0;
	while (*s) {
		const char *slash = strchr(s, '/');
		size_t n = slash ? (size_t)(slash - s) : strlen(s);

		if (!component_valid(s, n))
			return 0;
		if (!slash)
			break;
		s = slash + 1;
		if (!*s)
			return 0;
	}
	return 1;
}

int ht_tag_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 128 || !(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

/* host[:port], the host a DNS name, an IPv4 address or [IPv6]. */
static int registry_valid(const char *s)
{
	const char *p = s, *colon;

	if (*p == '[') {
		const char *end = strchr(p, ']');

		if (!end || end == p + 1)
			return 0;
		for (p++; p < end; p++)
			if (!(isxdigit((unsigned char)*p) || *p == ':' || *p == '.'))
				return 0;
		p = end + 1;
		colon = *p == ':' ? p : NULL;
		if (*p && !colon)
			return 0;
	} else {
		colon = strchr(p, ':');
		if (p == colon || !*p)
			return 0;
		for (; *p && p != colon; p++)
			if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-'))
				return 0;
	}
	if (colon) {
		long port;

		if (ht_parse_long(colon + 1, 1, 65535, &port) < 0)
			return 0;
	}
	return 1;
}

int ht_host_is_loopback(const char *hostport)
{
	size_t n;
	const char *colon;

	if (!hostport)
		return 0;
	if (ht_starts_with(hostport, "[::1]"))
		return 1;
	colon = strchr(hostport, ':');
	n = colon ? (size_t)(colon - hostport) : strlen(hostport);
	if (n == 9 && strncmp(hostport, "localhost", 9) == 0)
		return 1;
	return n >= 4 && strncmp(hostport, "127.", 4) == 0;
}

static int bad(const char *s, const char *why)
{
	return ht_error("invalid image reference '%s': %s", s, why);
}

/* oci:DIR[:TAG] or oci:DIR@DIGEST. */
static int parse_oci(struct ht_imageref *ref, const char *s, const char *rest, const char *default_tag)
{
	const char *at = strchr(rest, '@');
	const char *slash = strrchr(rest, '/');
	const char *colon = strrchr(rest, ':');

	ref->kind = HT_REF_OCI;
	if (at) {
		if (!ht_digest_valid(at + 1))
			return bad(s, "a digest is sha256: and 64 lowercase hex digits");
		ref->digest = ht_xstrdup(at + 1);
		ref->dir = strndup(rest, (size_t)(at - rest));
	} else if (colon && (!slash || colon > slash)) {
		if (!ht_tag_valid(colon + 1))
			return bad(s, "not a valid tag");
		ref->tag = ht_xstrdup(colon + 1);
		ref->dir = strndup(rest, (size_t)(colon - rest));
	} else {
		ref->dir = ht_xstrdup(rest);
		if (default_tag)
			ref->tag = ht_xstrdup(default_tag);
	}
	if (!ref->dir || !*ref->dir)
		return bad(s, "no directory after 'oci:'");
	return 0;
}

static int parse(struct ht_imageref *ref, const char *s, const char *default_tag)
{
	const char *p = s, *at, *slash, *colon, *name;
	char *path = NULL;
	size_t pathlen;

	ht_imageref_release(ref);
	if (ht_starts_with(p, "oci:"))
		return parse_oci(ref, s, p + 4, default_tag);
	if (ht_starts_with(p, "docker://")) {
		p += 9;
	} else if (ht_starts_with(p, "http://")) {
		p += 7;
		ref->scheme = HT_SCHEME_HTTP;
	} else if (ht_starts_with(p, "https://")) {
		p += 8;
		ref->scheme = HT_SCHEME_HTTPS;
	}
	if (!*p)
		return bad(s, "empty");
	if (strlen(p) > 1024)
		return bad(s, "too long");
	at = strchr(p, '@');
	if (at) {
		if (!ht_digest_valid(at + 1))
			return bad(s, "a digest is sha256: and 64 lowercase hex digits");
		ref->digest = ht_xstrdup(at + 1);
		pathlen = (size_t)(at - p);
	} else {
		pathlen = strlen(p);
	}
	path = strndup(p, pathlen);
	if (!path)
		return bad(s, "out of memory");
	slash = strrchr(path, '/');
	colon = strrchr(path, ':');
	if (colon && (!slash || colon > slash)) {
		if (!ht_tag_valid(colon + 1)) {
			free(path);
			return bad(s, "not a valid tag");
		}
		ref->tag = ht_xstrdup(colon + 1);
		path[colon - path] = '\0';
	} else if (!ref->digest && default_tag) {
		ref->tag = ht_xstrdup(default_tag);
	}
	slash = strchr(path, '/');
	name = path;
	if (slash) {
		size_t n = (size_t)(slash - path);

		if (memchr(path, '.', n) || memchr(path, ':', n) || memchr(path, '[', n) ||
		    (n == 9 && strncmp(path, "localhost", 9) == 0)) {
			ref->registry = strndup(path, n);
			name = slash + 1;
		}
	}
	if (!ref->registry) {
		if (ref->scheme != HT_SCHEME_DEFAULT) {
			free(path);
			return bad(s, "a URL needs a registry host");
		}
		ref->registry = ht_xstrdup(DOCKER_HUB);
	}
	if (!registry_valid(ref->registry)) {
		free(path);
		return bad(s, "not a valid registry host");
	}
	if (strcmp(ref->registry, "index.docker.io") == 0 || strcmp(ref->registry, DOCKER_HUB) == 0) {
		free(ref->registry);
		ref->registry = ht_xstrdup(DOCKER_HUB);
		ref->host = ht_xstrdup(DOCKER_HUB_HOST);
		if (!strchr(name, '/'))
			ref->repository = ht_xasprintf("library/%s", name);
	} else {
		ref->host = ht_xstrdup(ref->registry);
	}
	if (!ref->repository)
		ref->repository = ht_xstrdup(name);
	free(path);
	if (!ht_repository_valid(ref->repository))
		return bad(s, "a repository is lowercase letters, digits and separators");
	return 0;
}

int ht_imageref_parse(struct ht_imageref *ref, const char *s, const char *default_tag)
{
	int rc = parse(ref, s, default_tag);

	if (rc < 0)
		ht_imageref_release(ref);
	return rc;
}

char *ht_imageref_name(const struct ht_imageref *ref)
{
	if (ref->kind == HT_REF_OCI)
		return ht_xasprintf("oci:%s", ref->dir);
	return ht_xasprintf("%s/%s", ref->registry, ref->repository);
}

char *ht_imageref_format(const struct ht_imageref *ref)
{
	struct ht_buf b = HT_BUF_INIT;

	if (ref->kind == HT_REF_OCI)
		ht_buf_addf(&b, "oci:%s", ref->dir);
	else
		ht_buf_addf(&b, "%s/%s", ref->registry, ref->repository);
	if (ref->tag)
		ht_buf_addf(&b, ":%s", ref->tag);
	if (ref->digest)
		ht_buf_addf(&b, "@%s", ref->digest);
	return ht_buf_detach(&b);
}
