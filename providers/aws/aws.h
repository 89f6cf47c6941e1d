/*
 * aws.h: the AWS client every AWS call goes through: the options a
 * configuration gives, endpoints, SigV4-signed calls on libht's HTTP
 * client, and the classification of errors. The services' calls are
 * beside it: s3.h, lambda.h, sts.h, ecr.h; credentials in creds.h.
 *
 * Ownership: structs own the strings in them and free them in their
 * _release(); const char * arguments are borrowed; functions returning
 * char * return a new string the caller frees, json_t ** results are new
 * references. Secrets never reach a message. docs/aws-credentials.md
 * describes the resolution order.
 */
#ifndef HT_AWS_H
#define HT_AWS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ht/http.h"
#include "ht/util.h"
#include "providers/aws/creds.h"

struct ht_config;

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
	int curl_code;     /* TRANSPORT: libcurl's CURLcode of the last attempt */
	char code[96];     /* "NoSuchKey", "ResourceNotFoundException", ... */
	char message[384]; /* for people; never holds a secret */
};
void ht_aws_error_clear(struct ht_aws_error *e);
/* Clears e, sets kind and a message. Returns -1. Prints nothing. */
int ht_aws_error_set(struct ht_aws_error *e, enum ht_aws_errkind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Fills e from an error response: the JSON "__type"/"code" and
 * "message"/"Message" of Lambda, ECR and STS JSON, the x-amzn-ErrorType
 * header, or the XML <Code> and <Message> of S3, IAM and STS; the status
 * alone when the body says nothing. resp is borrowed.
 */
void ht_aws_error_from_response(struct ht_aws_error *e, const struct ht_http_resp *resp);
/* The kind an error code and status fall into. */
enum ht_aws_errkind ht_aws_classify(const char *code, long status);
/* 1 when e says the session token (or the keys) expired: ExpiredToken,
 * ExpiredTokenException, TokenRefreshRequired. Renewed credentials may
 * help where other credential errors will not. */
int ht_aws_error_expired(const struct ht_aws_error *e);
/* The exit code (exit.h) for an error: 77 credentials and permissions,
 * 75 throttling and conflicts, 66 not found, 65 invalid, 69 unavailable,
 * 76 protocol, 78 configuration. */
int ht_aws_error_exit(const struct ht_aws_error *e);
/* "credentials", "throttled", ...: a word for records. */
const char *ht_aws_errkind_name(enum ht_aws_errkind k);

/* --- endpoints ------------------------------------------------------------ */

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

/* The AWS options a configuration gives (aws.profile, aws.region, the
 * endpoints, aws.insecure); o borrows from cfg. */
void ht_aws_opts_from_config(struct ht_aws_opts *o, const struct ht_config *cfg);


struct ht_aws {
	char *profile;
	int explicit_profile;          /* named by the caller or AWS_PROFILE */
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

/*
 * Resolves a's credentials again, from the environment and the shared
 * files as ht_aws_init() did (for a profile the user's tooling refreshed
 * on disk), after a call said they expired. Returns 1 when they changed
 * (a->creds holds the new ones; pointers into the old ones are stale), 0
 * when they are the same, -1 when they no longer resolve (e filled, the
 * old ones kept). Prints nothing but debug lines.
 */
int ht_aws_creds_refresh(struct ht_aws *a, struct ht_aws_error *e);

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
	int secret;                   /* the answer holds a secret: ht_aws_do_json wipes it */
};

/*
 * Performs a signed call: 0 for a 2xx response, -1 otherwise with e filled
 * and (unless c->quiet) printed as "SERVICE METHOD PATH: STATUS CODE:
 * MESSAGE". resp (initialised by the caller) holds the response. When
 * the answer says the credentials expired and ht_aws_creds_refresh()
 * finds new ones, the call is made once more with them.
 */
int ht_aws_do(struct ht_aws *a, const struct ht_aws_call *c, struct ht_http_resp *resp, struct ht_aws_error *e);

/*
 * ht_aws_do(), then the 2xx answer parsed as a JSON object into *out (a
 * new reference; when out is not NULL). An answer that is not an object
 * is a PROTOCOL error named after what ("lambda: GetFunction"), printed
 * unless c->quiet.
 */
int ht_aws_do_json(struct ht_aws *a, const struct ht_aws_call *c, const char *what, json_t **out,
		   struct ht_aws_error *e);

/*
 * Prepares what ht_aws_do() would send for c, for callers that run many
 * calls at once on ht_http_multi: fills req and sig (which req points to)
 * and returns the URL (new string; req->url borrows it, so free it after
 * the request is done). req and sig borrow from a and c.
 */
char *ht_aws_call_prepare(struct ht_aws *a, const struct ht_aws_call *c, struct ht_http_req *req,
			  struct ht_http_sigv4 *sig);

/*
 * The canonical query string SigV4 wants, for the URL itself (libcurl
 * 7.88 signs the query as given and does not sort it): pairs sorted by
 * name then value, each URI-encoded (unreserved characters kept, all else
 * %XX, '/' too). query as in struct ht_aws_call. New string ("" for none).
 */
char *ht_aws_query_string(const char *const *query);
/* URI-encodes s (unreserved kept); keep_slash keeps '/' (S3 keys). New. */
char *ht_aws_uri_encode(const char *s, int keep_slash);

/* The text of the first <tag>...</tag> in xml at or after *pos, entities
 * decoded, as a new string; *pos moves past it. NULL when there is none. */
char *ht_xml_text(const char *xml, const char *tag, size_t *pos);

/* The hash of an empty body, for x-amz-content-sha256 on GETs: moto 5
 * checks a Lambda GET without it against a wrong payload, and AWS accepts
 * it as a signed header on every service. */
#define HT_AWS_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#endif
