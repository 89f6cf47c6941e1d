/*
 * ecr.h: Amazon ECR as a registry: which hosts are ECR, registry
 * credentials from GetAuthorizationToken (cached in memory per process and,
 * optionally, in a 0600 file under the state directory), and the
 * repositories (DescribeRepositories, CreateRepository).
 *
 * Ownership: const char * arguments are borrowed; char ** results are new
 * strings the caller frees (passwords: wipe them first, or hand them to
 * ht_registry_init(), which copies them). Passwords never reach a message.
 */
#ifndef HT_ECR_H
#define HT_ECR_H

#include <stdint.h>

#include "providers/aws/aws.h"

/* ECR's GetAuthorizationToken, its token decoded. */
struct ht_ecr_auth {
	char *username;      /* "AWS" */
	char *password;      /* secret */
	char *endpoint;      /* "https://ACCOUNT.dkr.ecr.REGION.amazonaws.com" */
	int64_t expires_ms;  /* Unix time in ms, 0 when not given */
};
void ht_ecr_auth_release(struct ht_ecr_auth *x);
/* GetAuthorizationToken, its token decoded into username and password. */
int ht_ecr_get_authorization_token(struct ht_aws *a, struct ht_ecr_auth *out, struct ht_aws_error *e);

/*
 * 1 when host ("host[:port]") is an ECR registry:
 * ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]. Then *account and
 * *region (when not NULL) receive new strings. 0 otherwise.
 */
int ht_ecr_host_parse(const char *host, char **account, char **region);

/* When to use ECR credentials for a registry (hypertest.json aws.ecr). */
enum ht_ecr_mode {
	HT_ECR_AUTO,   /* for ECR host names */
	HT_ECR_ALWAYS, /* for any registry: a stand-in for ECR in tests */
	HT_ECR_NEVER,
};
/* "auto", "always", "never" (NULL is auto): 0, or -1 for another word. */
int ht_ecr_mode_parse(const char *s, enum ht_ecr_mode *mode);
/* 1 when a registry of host gets ECR credentials in mode. */
int ht_ecr_wanted(enum ht_ecr_mode mode, const char *host);

struct ht_ecr_login {
	const struct ht_aws_opts *aws; /* profile, region, endpoints; may be NULL */
	const char *cache_dir;         /* the disk cache's directory, or NULL */
	/* Out: where the credentials came from: "GetAuthorizationToken",
	 * "memory" or "disk" (static strings); the exit code on failure. */
	const char *source;
	int exit;
};

/*
 * Registry credentials for the registry host (as in references): Basic
 * auth "AWS" and a password from GetAuthorizationToken, called in the
 * host's region (else the configured one). A token is reused until five
 * minutes before it expires: from this process's memory, else from
 * CACHE_DIR/ecr-HOST.json (written 0600, atomically, and only used for
 * the same access key). A token whose expiry is missing or already past
 * when it arrives (a stand-in's) is kept for ECR's 12 hours. Returns 0
 * with new *user and *password, or -1 after printing why (l->exit set).
 */
int ht_ecr_login(struct ht_ecr_login *l, const char *host, char **user, char **password);

/* Forgets the tokens held in memory (wiping them). */
void ht_ecr_cache_clear(void);

/*
 * Checks that repository exists in the registry of account registry_id
 * (NULL: the caller's own): DescribeRepositories. When it does not and
 * create is set, CreateRepository (scan on push off, mutable tags).
 * Returns 0 when it exists (*created says whether it was made now), or -1
 * after printing why (unless quiet); a missing repository is a message
 * (also in e->message) naming it and how to create it, with e->kind
 * HT_AWS_E_NOT_FOUND.
 */
int ht_ecr_repository_ensure(struct ht_aws *a, const char *registry_id, const char *repository, int create,
			     int quiet, int *created, struct ht_aws_error *e);

/* --- for ht-pull and ht-push ------------------------------------------------ */

struct ht_config;
/*
 * The registry credentials of host per cfg: when aws.ecr (or force) says
 * ECR, logs in (ht_ecr_login, cached under the state directory when
 * aws.ecr_cache) and returns 1 with new *user and *password; 0 when ECR
 * does not apply; -1 after printing why, with *exit set.
 */
int ht_ecr_registry_credentials(const struct ht_config *cfg, const char *host, int force, char **user,
				char **password, int *exit);
/*
 * Before a push to repository on host with ECR credentials: checks that
 * the repository exists (in the host's account and region when host is an
 * ECR name), creating it when create is set. 0, or -1 with *exit set.
 */
int ht_ecr_push_check(const struct ht_config *cfg, const char *host, const char *repository, int create, int *exit);

#endif
