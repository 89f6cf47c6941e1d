/*
 * Unit tests of image reference parsing (imageref.c).
 */
#include <stdlib.h>
#include <string.h>

#include "ht/ht.h"
#include "ht/imageref.h"
#include "tap.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Parses s and checks the canonical form, registry host and repository. */
static void check(const char *s, const char *canon, const char *host, const char *repo)
{
	struct ht_imageref r;
	char *f = NULL;
	char name[256];

	ht_imageref_init(&r);
	snprintf(name, sizeof(name), "parse '%s'", s);
	ok(ht_imageref_parse(&r, s, "latest") == 0, name);
	f = ht_imageref_format(&r);
	is_str(f, canon, name);
	is_str(r.host, host, name);
	is_str(r.repository, repo, name);
	free(f);
	ht_imageref_release(&r);
}

static void check_bad(const char *s)
{
	struct ht_imageref r;
	char name[256];

	ht_imageref_init(&r);
	snprintf(name, sizeof(name), "refuse '%s'", s);
	ok(ht_imageref_parse(&r, s, "latest") < 0, name);
	ht_imageref_release(&r);
}

int main(void)
{
	struct ht_imageref r;

	ht_verbosity = -2;
	check("alpine", "docker.io/library/alpine:latest", "registry-1.docker.io", "library/alpine");
	check("alpine:3.19", "docker.io/library/alpine:3.19", "registry-1.docker.io", "library/alpine");
	check("docker.io/alpine", "docker.io/library/alpine:latest", "registry-1.docker.io", "library/alpine");
	check("index.docker.io/library/alpine", "docker.io/library/alpine:latest", "registry-1.docker.io", "library/alpine");
	check("bitnami/redis:7", "docker.io/bitnami/redis:7", "registry-1.docker.io", "bitnami/redis");
	check("docker://alpine", "docker.io/library/alpine:latest", "registry-1.docker.io", "library/alpine");
	check("ghcr.io/o/r/sub:v1.2-x", "ghcr.io/o/r/sub:v1.2-x", "ghcr.io", "o/r/sub");
	check("localhost/app", "localhost/app:latest", "localhost", "app");
	check("localhost:5000/a_b/c--d", "localhost:5000/a_b/c--d:latest", "localhost:5000", "a_b/c--d");
	check("127.0.0.1:5000/r@sha256:" D64, "127.0.0.1:5000/r@sha256:" D64, "127.0.0.1:5000", "r");
	check("127.0.0.1:5000/r:t@sha256:" D64, "127.0.0.1:5000/r:t@sha256:" D64, "127.0.0.1:5000", "r");
	check("[::1]:5000/r", "[::1]:5000/r:latest", "[::1]:5000", "r");
	check("public.ecr.aws/lambda/provided:al2023", "public.ecr.aws/lambda/provided:al2023", "public.ecr.aws", "lambda/provided");

	ht_imageref_init(&r);
	ok(ht_imageref_parse(&r, "http://127.0.0.1:80/x:y", "latest") == 0 && r.scheme == HT_SCHEME_HTTP, "http:// forces plain HTTP");
	ok(ht_imageref_parse(&r, "oci:some/dir:v2", "latest") == 0 && r.kind == HT_REF_OCI, "oci: layout");
	is_str(r.dir, "some/dir", "oci: directory");
	is_str(r.tag, "v2", "oci: tag");
	ok(ht_imageref_parse(&r, "oci:/a.b/dir", "latest") == 0, "oci: no tag");
	is_str(r.dir, "/a.b/dir", "oci: directory with a dot");
	is_str(r.tag, "latest", "oci: default tag");
	ok(ht_imageref_parse(&r, "oci:d@sha256:" D64, NULL) == 0 && r.digest && !r.tag, "oci: by digest");
	ok(ht_imageref_parse(&r, "reg.io/x@sha256:" D64, "latest") == 0 && !r.tag, "no default tag with a digest");
	ht_imageref_release(&r);
	ok(ht_host_is_loopback("127.0.0.1:5000") && ht_host_is_loopback("localhost") &&
	   ht_host_is_loopback("[::1]:1") && !ht_host_is_loopback("10.0.0.1:5000") &&
	   !ht_host_is_loopback("localhost.example.com"), "loopback hosts");

	check_bad("");
	check_bad("Alpine");
	check_bad("alpine:");
	check_bad("alpine:-x");
	check_bad("alpine@sha256:abc");
	check_bad("alpine@md5:" D64);
	check_bad("reg.io/");
	check_bad("reg.io//x");
	check_bad("reg.io/x-/y");
	check_bad("reg.io:99999/x");
	check_bad("http://alpine");
	check_bad("oci:");
	check_bad("a b");
	return tap_done();
}
