/*
 * imageref.h: image references as people write them.
 *
 *   alpine                       docker.io/library/alpine:latest
 *   ghcr.io/o/r:v1               registry ghcr.io, repository o/r, tag v1
 *   127.0.0.1:5000/r@sha256:...  by digest (a tag may come before the @)
 *   docker://alpine              the same, skopeo style
 *   http://127.0.0.1:5000/r:t    plain HTTP forced (https:// forces TLS)
 *   oci:DIR[:TAG]                an OCI image layout on disk
 *
 * A first path component with a '.', a ':' or equal to "localhost" names a
 * registry; otherwise the registry is Docker Hub ("docker.io", contacted as
 * registry-1.docker.io), where one-component names live under "library/".
 *
 * Ownership: a parsed reference owns its strings until
 * ht_imageref_release(); functions returning char * return new strings.
 */
#ifndef HT_IMAGEREF_H
#define HT_IMAGEREF_H

enum ht_imageref_kind { HT_REF_REGISTRY, HT_REF_OCI };

enum ht_imageref_scheme {
	HT_SCHEME_DEFAULT, /* https, except loopback registries: http */
	HT_SCHEME_HTTP,    /* http:// written */
	HT_SCHEME_HTTPS    /* https:// written */
};

struct ht_imageref {
	enum ht_imageref_kind kind;
	enum ht_imageref_scheme scheme;
	char *registry;   /* "docker.io", "127.0.0.1:5000"; NULL for oci: */
	char *host;       /* host[:port] to contact: "registry-1.docker.io" */
	char *repository; /* "library/alpine"; NULL for oci: */
	char *tag;        /* "latest" when neither tag nor digest was given; may be NULL */
	char *digest;     /* "sha256:<hex>" or NULL */
	char *dir;        /* oci: the layout directory; NULL otherwise */
};

void ht_imageref_init(struct ht_imageref *ref);
void ht_imageref_release(struct ht_imageref *ref);

/*
 * Parses s into ref (which must be initialised, and is released first).
 * Returns 0, or -1 after printing "invalid image reference 'S': why"
 * (ref is then empty).
 * default_tag is the tag to assume when neither a tag nor a digest is given
 * ("latest"), or NULL to assume none.
 */
int ht_imageref_parse(struct ht_imageref *ref, const char *s, const char *default_tag);

/*
 * The canonical string: "docker.io/library/alpine:latest",
 * "reg/repo@sha256:...", "reg/repo:tag@sha256:...", "oci:DIR:TAG". New.
 */
char *ht_imageref_format(const struct ht_imageref *ref);
/* "registry/repository", new. */
char *ht_imageref_name(const struct ht_imageref *ref);

/* 1 when host[:port] is a loopback name or address (localhost, 127.x, ::1). */
int ht_host_is_loopback(const char *hostport);
/* 1 when s is a valid repository path, tag. */
int ht_repository_valid(const char *s);
int ht_tag_valid(const char *s);

#endif
