/*
 * sigv4.h: AWS Signature Version 4 for one kind of request sent many
 * times: the Invoke fan-out (invoke.c). libcurl signs every other AWS
 * call (CURLOPT_AWS_SIGV4, lib/http.c); it derives the signing key anew
 * for each request and formats the canonical request with its own
 * printf, which made signing the largest part of ht-invoke's CPU time
 * per invocation (bench/aws-fanout.sh, docs/aws-provider.md). A signer
 * derives the key once per day, region, service and secret, and keeps
 * its hash and HMAC contexts, so that a request costs two SHA-256 hashes
 * and one HMAC.
 *
 * A signer owns its OpenSSL contexts and its copy of the signing key
 * (wiped at release); the credentials are borrowed from the caller, who
 * calls ht_aws_signer_set_creds() again whenever they change. Secrets
 * never reach a message.
 */
#ifndef HT_AWS_SIGV4_H
#define HT_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "ht/util.h"

/* One header to sign: a lowercase name and its value, trimmed. */
struct ht_aws_sig_header {
	const char *name;
	const char *value;
};

struct ht_aws_signer {
	char region[64];
	char service[32];
	const char *access_key_id;      /* borrowed */
	const char *secret_access_key;  /* borrowed */
	const char *session_token;      /* borrowed, or NULL */
	char day[9];                    /* YYYYMMDD of the key, "" for none */
	unsigned char key[32];          /* kSigning of day/region/service */
	long derivations;               /* keys derived so far (tests) */
	EVP_MD *md;                     /* SHA-256, fetched once */
	EVP_MD_CTX *hash;               /* reused for each hash */
	EVP_MAC *mac;                   /* HMAC */
	EVP_MAC_CTX *derive;            /* for the derivation */
	EVP_MAC_CTX *sign;              /* keyed with key */
	struct ht_buf canon;            /* the canonical request, reused */
};

/* The lines a signed request adds, "Name: value" without CRLF. */
struct ht_aws_signed {
	char date[32];                  /* "X-Amz-Date: 20150830T123600Z" */
	char authorization[640];        /* "Authorization: AWS4-HMAC-SHA256 ..." */
};

/*
 * Sets up s for region and service. Returns 0, or -1 with a message
 * (OpenSSL has no SHA-256 or HMAC, a name too long).
 */
int ht_aws_signer_init(struct ht_aws_signer *s, const char *region, const char *service);
/* Frees what s holds and wipes the key (s itself is the caller's). */
void ht_aws_signer_release(struct ht_aws_signer *s);
/* Points s at these credentials (borrowed) and forgets the key. */
void ht_aws_signer_set_creds(struct ht_aws_signer *s, const char *access_key_id, const char *secret_access_key,
			     const char *session_token);

/*
 * Signs a request made at now (seconds since the epoch: the caller's
 * clock, so that tests can set it): method, its canonical URI (the path,
 * URI-encoded as SigV4 wants it for the service) and canonical query
 * string ("" for none), the n headers to sign (h, in any order; with
 * "host"; x-amz-date and, with a session token, x-amz-security-token are
 * added here) and the body (len bytes). The date and authorization lines
 * go to out; the request must send exactly these headers with these
 * values, and the token as X-Amz-Security-Token. Re-derives the key when
 * the day (UTC) changed or the credentials were set again. Returns 0, or
 * -1 with a message.
 */
int ht_aws_sign(struct ht_aws_signer *s, time_t now, const char *method, const char *uri, const char *query,
		const struct ht_aws_sig_header *h, size_t n, const void *body, size_t len,
		struct ht_aws_signed *out);

#endif
