/*
 * registry.h: a client of the OCI distribution protocol (Docker Registry
 * HTTP API v2): manifests, blobs in parallel, anonymous, Basic and
 * Bearer-token authentication; on libht's HTTP client (http.h), whose
 * retry policy r->retry is.
 *
 * Ownership: struct ht_registry owns its strings, tokens and credentials
 * until ht_registry_release(); everything passed in is borrowed (copied
 * when kept); char ** and json_t ** results are new (free / json_decref).
 * Functions return 0 on success and -1 after printing the reason with
 * ht_error(); r->exit then holds the exit code (exit.h) that fits.
 */
#ifndef HT_REGISTRY_H
#define HT_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "imageref.h"
#include "oci.h"
#include "util.h"

/* The Accept header for manifests: both Docker schema 2 types and both OCI
 * types, so that every registry answers with what it holds. */
#define HT_REGISTRY_ACCEPT \
	"Accept: application/vnd.oci.image.index.v1+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json, " \
	"application/vnd.oci.image.manifest.v1+json, " \
	"application/vnd.docker.distribution.manifest.v2+json"

/* Largest manifest accepted from a registry. */
#define HT_REGISTRY_MANIFEST_MAX (4 * 1024 * 1024)

struct ht_registry_token {
	char *scope;        /* "repository:a:pull,push repository:b:pull" */
	char *value;        /* the bearer token; a secret */
	int64_t expires_ms; /* ht_now_ms() clock */
};

enum ht_registry_auth_kind { HT_AUTH_UNKNOWN, HT_AUTH_NONE, HT_AUTH_BASIC, HT_AUTH_BEARER };

struct ht_registry {
	char *registry;      /* as in references: "docker.io", "127.0.0.1:5000" */
	char *base_url;      /* "https://registry-1.docker.io" */
	int insecure;        /* TLS peer not verified */
	char *username;      /* NULL when anonymous */
	char *password;      /* a secret */
	enum ht_registry_auth_kind auth;
	char *realm, *service; /* of the Bearer challenge */
	struct ht_registry_token *tokens;
	size_t ntokens;
	int parallel;        /* blob transfers at once (default 4) */
	struct ht_http_retry retry;
	int64_t max_speed;   /* bytes/s per transfer, 0 for no limit (tests) */
	int exit;            /* exit code fitting the last error */
	/* What went over the wire (blob bodies only). */
	int64_t bytes_sent, bytes_received;
	int blobs_sent, blobs_existing, blobs_mounted, blobs_received, blobs_cached;
};

/*
 * Prepares a client of the registry of ref. Plain HTTP when ref says
 * http://, or when plain_http is set, or for loopback registries
 * (localhost, 127.x, [::1]) unless ref says https://; insecure turns TLS
 * verification off. Credentials come from ht_dockercfg_lookup() unless
 * username is given (then password too, borrowed).
 */
int ht_registry_init(struct ht_registry *r, const struct ht_imageref *ref, int plain_http,
		     int insecure, const char *username, const char *password);
void ht_registry_release(struct ht_registry *r);

/*
 * GETs the manifest repo:reference (a tag or digest). *body (new,
 * NUL-terminated), *len, *media_type (new) and digest (of the bytes; when
 * reference is a digest, the bytes must hash to it) describe it.
 */
int ht_registry_get_manifest(struct ht_registry *r, const char *repo, const char *reference,
			     char **body, size_t *len, char **media_type,
			     char digest[HT_DIGEST_LEN + 1]);
/* PUTs a manifest under reference (a tag or its digest) with its media type. */
int ht_registry_put_manifest(struct ht_registry *r, const char *repo, const char *reference,
			     const char *body, size_t len, const char *media_type);

/*
 * Downloads the blobs descs[0..n) of repo into the store, in parallel: a
 * blob already in the store is not fetched; an interrupted download
 * resumes with a Range request (in a retry, or in a later run); redirects
 * are followed to http and https only; each blob is checked against its
 * digest and size before it gets its name.
 */
int ht_registry_fetch_blobs(struct ht_registry *r, const char *repo, struct ht_oci_store *store,
			    const struct ht_oci_desc *descs, size_t n);
/*
 * Uploads the blobs descs[0..n) from the store to repo, in parallel: HEAD
 * first (what the registry has is skipped), a cross-repository mount from
 * mount_from (a repository of the same registry, may be NULL), else POST,
 * one PATCH with the whole blob, PUT ?digest=. HEAD and POST are retried
 * per r->retry; a PATCH or PUT that fails so starts a new session.
 */
int ht_registry_push_blobs(struct ht_registry *r, const char *repo, struct ht_oci_store *store,
			   const struct ht_oci_desc *descs, size_t n, const char *mount_from);

/* --- authentication pieces (exposed for tests) ----------------------------- */

/*
 * Parses a WWW-Authenticate value: the scheme ("Bearer", "Basic") into
 * *scheme and the parameters realm, service and scope (each new or NULL).
 * Returns 0, -1 (quietly) when it is not a challenge.
 */
int ht_registry_parse_challenge(const char *value, char **scheme, char **realm,
				char **service, char **scope);

/*
 * Credentials for a registry ("docker.io", "host:port") from, in order,
 * $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 * $DOCKER_CONFIG/config.json or ~/.docker/config.json: "auths" entries with
 * a base64 "auth" (user:password) or "username" and "password". Returns 1
 * with new *username and *password, 0 when none is found, -1 on a file
 * that cannot be read or parsed.
 */
int ht_dockercfg_lookup(const char *registry, char **username, char **password);

#endif
