/*
 * aws.h: AWS credentials, regions, endpoints, signed requests, error
 * classification, and the few S3, Lambda, ECR and STS calls the tools make.
 *
 * Ownership: structs own the strings in them and free them in their
 * _release(); const char * arguments are borrowed; functions returning
 * char * return a new string the caller frees. Secrets (the secret key,
 * the session token, ECR passwords) are wiped when freed and never reach
 * a message. docs/aws-credentials.md describes the resolution order.
 */
#ifndef HT_AWS_H
#define HT_AWS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ht/http.h"
#include "ht/util.h"

/* --- INI files (~/.aws/config, ~/.aws/credentials) ----------------------- */

struct ht_ini_entry {
	char *section; /* "default", "profile dev", "dev" */
	char *key;     /* lowercase; a nested "s3 =" block gives "s3.key" */
	char *value;
};
struct ht_ini {
	struct ht_ini_entry *v;
	size_t n;
};
void ht_ini_init(struct ht_ini *ini);
void ht_ini_release(struct ht_ini *ini);
/*
 * Parses text (name is for messages) into ini, adding to what it holds.
 * Comments start with '#' or ';'. Returns 0, or -1 after printing
 * "NAME:LINE: what is wrong".
 */
int ht_ini_parse(struct ht_ini *ini, const char *text, const char *name);
/* Reads and parses a file: 0, 1 when it does not exist, -1 on error. */
int ht_ini_load(struct ht_ini *ini, const char *path);
/* The value of key in section (the last one given), borrowed, or NULL. */
const char *ht_ini_get(const struct ht_ini *ini, const char *section, const char *key);
/* 1 when the section exists. */
int ht_ini_has_section(const struct ht_ini *ini, const char *section);

/* --- errors ------------------------------------------------------------- */

enum ht_aws_errkind {
	HT_AWS_E_NONE,
	HT_AWS_E_CREDENTIALS,   /* missing, invalid, expired; bad signature */
	HT_AWS_E_DENIED,        /* valid credentials, no permission */
	HT_AWS_E_THROTTLED,     /* slow down */
	HT_AWS_E_NOT_FOUND,     /* no such bucket, key, function, repository */
	HT_AWS_E_CONFLICT,      /* the resource is busy (an update in progress) */
	HT_AWS_E_INVALID,       /* the request was refused as malformed */
	HT_AWS_E_UNAVAILABLE,   /* 5xx after the retries */
	HT_AWS_E_TRANSPORT,     /* no response: connection, timeout, TLS */
	HT_AWS_E_PROTOCOL,      /* a response we cannot read */
	HT_AWS_E_CONFIG,        /* bad region, endpoint, profile, config file */
};

/* What went wrong with a call, for messages and exit codes. */
struct ht_aws_error {
	enum ht_aws_errkind kind;
	long status;       /* HTTP status, 0 without a response */
	char code[96];     /* "NoSuchKey", "ResourceNotFoundException", ... */
	char message[384]; /* for people; never holds a secret */
};
void ht_aws_error_clear(struct ht_aws_error *e);
/*
 * Fills e from an error response: the JSON "__type"/"code" and
 * "message"/"Message" of Lambda, ECR and STS JSON, the x-amzn-ErrorType
 * header, or the XML <Code> and <Message> of S3, IAM and STS; the status
 * alone when the body says nothing. resp is borrowed.
 */
void ht_aws_error_from_response(struct ht_aws_error *e, const struct ht_http_resp *resp);
/* The kind an error code and status fall into. */
enum ht_aws_errkind ht_aws_classify(const char *code, long status);
/* The exit code (exit.h) for an error: 77 credentials and permissions,
 * 75 throttling and conflicts, 66 not found, 65 invalid, 69 unavailable,
 * 76 protocol, 78 configuration. */
int ht_aws_error_exit(const struct ht_aws_error *e);
/* "credentials", "throttled", ...: a word for records. */
const char *ht_aws_errkind_name(enum ht_aws_errkind k);

/* --- credentials, region, endpoints ---------------------------------------- */

struct ht_aws_creds {
	char *access_key_id;
	char *secret_access_key; /* secret */
	char *session_token;     /* secret, or NULL */
	const char *source;      /* static: "environment", "credentials file", "config file", "sts" */
};
void ht_aws_creds_init(struct ht_aws_creds *c);
/* Wipes and frees the secrets. */
void ht_aws_creds_release(struct ht_aws_creds *c);

/*
 * The profile to use: the caller's (hypertest.json aws.profile, may be
 * NULL), else AWS_PROFILE, else "default". Borrowed from the argument, the
 * environment or a literal.
 */
const char *ht_aws_profile_name(const char *caller_profile);

/* The shared files: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/config and ~/.aws/credentials. New strings. */
char *ht_aws_config_path(void);
char *ht_aws_credentials_path(void);

/* The two shared files, parsed (missing files are empty). */
struct ht_aws_files {
	struct ht_ini config;
	struct ht_ini credentials;
	char *config_path, *credentials_path;
};
int ht_aws_files_load(struct ht_aws_files *f);
void ht_aws_files_release(struct ht_aws_files *f);
/* A setting of profile in the config file ("[profile NAME]", or
 * "[default]"), borrowed, or NULL. */
const char *ht_aws_profile_get(const struct ht_aws_files *f, const char *profile, const char *key);

/*
 * The standard chain: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+
 * AWS_SESSION_TOKEN) from the environment; else the profile's keys in the
 * credentials file ("[NAME]"); else in the config file. explicit_profile
 * says the profile was named (not the fallback "default"), so that a
 * missing profile is an error. Returns 0, or -1 with e filled (kind
 * CREDENTIALS or CONFIG) and nothing printed.
 */
int ht_aws_creds_resolve(struct ht_aws_creds *c, const struct ht_aws_files *f, const char *profile,
			 int explicit_profile, struct ht_aws_error *e);

/*
 * The region: the caller's (hypertest.json aws.region), else AWS_REGION,
 * else AWS_DEFAULT_REGION, else the profile's "region". New string, or
 * NULL when none is set anywhere.
 */
char *ht_aws_region_resolve(const char *caller_region, const struct ht_aws_files *f, const char *profile);

enum ht_aws_service { HT_AWS_S3, HT_AWS_LAMBDA, HT_AWS_ECR, HT_AWS_STS, HT_AWS_IAM, HT_AWS_NSERVICES };
/* "s3", "lambda", "ecr", "sts", "iam": the SigV4 service name. */
const char *ht_aws_service_name(enum ht_aws_service s);

/*
 * The endpoint (scheme://host[:port], no trailing slash) of service:
 * the caller's per-service value, else the caller's general one, else
 * AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, else the profile's
 * "endpoint_url", else AWS's public endpoint for region. New string.
 * *custom is set to 1 when the endpoint was overridden (S3 then uses
 * path-style addressing).
 */
char *ht_aws_endpoint_resolve(enum ht_aws_service s, const char *region, const char *caller_service,
			      const char *caller_any, const char *profile_endpoint, int *custom);

/* --- a client ------------------------------------------------------------- */

/* What the caller knows from its configuration (hypertest.json, HT_*,
 * --set); every field may be NULL. */
struct ht_aws_opts {
	const char *profile;
	const char *region;
	const char *endpoint;          /* all services */
	const char *endpoint_s3, *endpoint_lambda, *endpoint_ecr;
	int insecure;                  /* no TLS verification, for custom endpoints only */
	const struct ht_http_retry *retry; /* NULL: ht_http_retry_default */
	long timeout_ms;               /* per attempt; 0: 60 s */
};

/* What ht_http_do() needs to sign: all borrowed. */
struct ht_aws_sig {
	const char *region;
	const char *service;
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* or NULL */
};

struct ht_aws {
	char *profile;
	char *region;
	char *endpoint[HT_AWS_NSERVICES];
	int custom[HT_AWS_NSERVICES];
	struct ht_aws_creds creds;
	int insecure;
	struct ht_http_retry retry;
	long timeout_ms;
};

/*
 * Resolves profile, credentials, region and endpoints. Returns 0, or -1
 * with e filled (CREDENTIALS or CONFIG) and the message printed.
 */
int ht_aws_init(struct ht_aws *a, const struct ht_aws_opts *o, struct ht_aws_error *e);
void ht_aws_release(struct ht_aws *a);

/* A signed call of one service. */
struct ht_aws_call {
	enum ht_aws_service service;
	const char *method;           /* "GET", "PUT", "POST", "HEAD", "DELETE" */
	const char *bucket;           /* S3 only: addressed per the endpoint */
	const char *path;             /* encoded, from '/' ("" is "/") */
	const char *const *query;     /* name, value, name, value, ..., NULL; raw */
	const char *const *headers;   /* "Name: value", NULL-terminated */
	const void *body;
	size_t body_len;
	const char *upload_path;      /* stream a file instead of body */
	size_t max_response;          /* 0: 64 MiB */
	int quiet;                    /* do not print the error */
};

/*
 * Performs a signed call: 0 for a 2xx response, -1 otherwise with e filled
 * and (unless c->quiet) printed as "SERVICE METHOD PATH: STATUS CODE:
 * MESSAGE". resp (initialised by the caller) holds the response.
 */
int ht_aws_do(struct ht_aws *a, const struct ht_aws_call *c, struct ht_http_resp *resp, struct ht_aws_error *e);

/*
 * Prepares what ht_aws_do() would send for c, for callers that run many
 * calls at once on ht_http_multi: fills req and sig (which req points to)
 * and returns the URL (new string; req->url borrows it, so free it after
 * the request is done). req and sig borrow from a and c.
 */
char *ht_aws_call_prepare(struct ht_aws *a, const struct ht_aws_call *c, struct ht_http_req *req,
			  struct ht_aws_sig *sig);

/*
 * The canonical query string SigV4 wants, for the URL itself (libcurl
 * 7.88 signs the query as given and does not sort it): pairs sorted by
 * name then value, each URI-encoded (unreserved characters kept, all else
 * %XX, '/' too). query as in struct ht_aws_call. New string ("" for none).
 */
char *ht_aws_query_string(const char *const *query);
/* URI-encodes s (unreserved kept); keep_slash keeps '/' (S3 keys). New. */
char *ht_aws_uri_encode(const char *s, int keep_slash);

/* --- S3 ------------------------------------------------------------------- */

int ht_s3_create_bucket(struct ht_aws *a, const char *bucket, struct ht_aws_error *e);
/* Puts data (borrowed) under key. */
int ht_s3_put(struct ht_aws *a, const char *bucket, const char *key, const void *data, size_t len,
	      const char *content_type, struct ht_aws_error *e);
/* Streams the file at path to key, with its SHA-256 as payload hash. */
int ht_s3_put_file(struct ht_aws *a, const char *bucket, const char *key, const char *path,
		   const char *content_type, struct ht_aws_error *e);
/* Appends the object to out (whose max limits the size). */
int ht_s3_get(struct ht_aws *a, const char *bucket, const char *key, struct ht_buf *out, struct ht_aws_error *e);

struct ht_s3_object {
	char *key;
	long long size;
	char *etag;
};
struct ht_s3_list {
	struct ht_s3_object *v;
	size_t n;
};
void ht_s3_list_release(struct ht_s3_list *l);
/* Lists the keys under prefix (may be NULL), all pages, into l. */
int ht_s3_list(struct ht_aws *a, const char *bucket, const char *prefix, struct ht_s3_list *l,
	       struct ht_aws_error *e);

/* --- Lambda, ECR, STS ----------------------------------------------------- */

/* GetFunction: *out is a new reference to the response object. */
int ht_lambda_get_function(struct ht_aws *a, const char *name, json_t **out, struct ht_aws_error *e);

struct ht_ecr_auth {
	char *username;      /* "AWS" */
	char *password;      /* secret */
	char *endpoint;      /* "https://ACCOUNT.dkr.ecr.REGION.amazonaws.com" */
	int64_t expires_ms;  /* Unix time in ms, 0 when not given */
};
void ht_ecr_auth_release(struct ht_ecr_auth *x);
/* GetAuthorizationToken, its token decoded into username and password. */
int ht_ecr_get_authorization_token(struct ht_aws *a, struct ht_ecr_auth *out, struct ht_aws_error *e);

/* GetSessionToken: temporary credentials into out (source "sts"). */
int ht_sts_get_session_token(struct ht_aws *a, long duration_s, struct ht_aws_creds *out, struct ht_aws_error *e);

/* AssumeRole: the role's temporary credentials into out (source "sts"). */
int ht_sts_assume_role(struct ht_aws *a, const char *role_arn, const char *session_name, long duration_s,
		       struct ht_aws_creds *out, struct ht_aws_error *e);

/* The text of the first <tag>...</tag> in xml at or after *pos, entities
 * decoded, as a new string; *pos moves past it. NULL when there is none. */
char *ht_xml_text(const char *xml, const char *tag, size_t *pos);

#endif
