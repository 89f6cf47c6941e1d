/*
 * sigv4.c: SigV4 with a signing key kept per day, region, service and
 * secret, and OpenSSL contexts kept between requests. See sigv4.h; the
 * algorithm is AWS's "Signature Version 4 signing process": a canonical
 * request, its SHA-256 in the string to sign, an HMAC-SHA256 of that with
 * the key HMAC(HMAC(HMAC(HMAC("AWS4" secret, day), region), service),
 * "aws4_request").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ht/diag.h"
#include "ht/util.h"
#include "providers/aws/sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
/* Headers signed at most: the caller's and the two added here. */
#define MAX_HEADERS 16

int ht_aws_signer_init(struct ht_aws_signer *s, const char *region, const char *service)
{
	OSSL_PARAM params[2];

	memset(s, 0, sizeof(*s));
	ht_buf_init(&s->canon, 0);
	if (snprintf(s->region, sizeof(s->region), "%s", region) >= (int)sizeof(s->region) ||
	    snprintf(s->service, sizeof(s->service), "%s", service) >= (int)sizeof(s->service))
		return ht_error("sigv4: the region or service name is too long");
	s->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	s->hash = EVP_MD_CTX_new();
	s->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	s->derive = s->mac ? EVP_MAC_CTX_new(s->mac) : NULL;
	s->sign = s->mac ? EVP_MAC_CTX_new(s->mac) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!s->md || !s->hash || !s->derive || !s->sign || EVP_MAC_CTX_set_params(s->derive, params) != 1 ||
	    EVP_MAC_CTX_set_params(s->sign, params) != 1) {
		ht_aws_signer_release(s);
		return ht_error("sigv4: OpenSSL has no SHA-256 or HMAC");
	}
	return 0;
}

void ht_aws_signer_release(struct ht_aws_signer *s)
{
	EVP_MAC_CTX_free(s->sign);
	EVP_MAC_CTX_free(s->derive);
	EVP_MAC_free(s->mac);
	EVP_MD_CTX_free(s->hash);
	EVP_MD_free(s->md);
	explicit_bzero(s->key, sizeof(s->key));
	ht_buf_release(&s->canon);
	memset(s, 0, sizeof(*s));
}

void ht_aws_signer_set_creds(struct ht_aws_signer *s, const char *access_key_id, const char *secret_access_key,
			     const char *session_token)
{
	s->access_key_id = access_key_id;
	s->secret_access_key = secret_access_key;
	s->session_token = session_token;
	s->day[0] = '\0';
}

/* out = HMAC-SHA256(key, data), 32 bytes. 0 or -1. */
static int hmac(struct ht_aws_signer *s, const void *key, size_t klen, const char *data, unsigned char out[32])
{
	size_t n = 0;

	if (EVP_MAC_init(s->derive, key, klen, NULL) != 1 ||
	    EVP_MAC_update(s->derive, (const unsigned char *)data, strlen(data)) != 1 ||
	    EVP_MAC_final(s->derive, out, &n, 32) != 1 || n != 32)
		return -1;
	return 0;
}

/* Derives the key of day (and keys the signing context with it). */
static int derive(struct ht_aws_signer *s, const char *day)
{
	unsigned char k[32];
	size_t n = strlen(s->secret_access_key) + 5;
	char *first = ht_xmalloc(n);
	int rc;

	snprintf(first, n, "AWS4%s", s->secret_access_key);
	rc = hmac(s, first, n - 1, day, k) < 0 || hmac(s, k, 32, s->region, k) < 0 ||
	     hmac(s, k, 32, s->service, k) < 0 || hmac(s, k, 32, "aws4_request", s->key) < 0 ||
	     EVP_MAC_init(s->sign, s->key, 32, NULL) != 1 ? -1 : 0;
	explicit_bzero(first, n);
	free(first);
	explicit_bzero(k, sizeof(k));
	if (rc < 0) {
		s->day[0] = '\0';
		return ht_error("sigv4: cannot derive the signing key (OpenSSL)");
	}
	memcpy(s->day, day, 9);
	s->derivations++;
	return 0;
}

/* The hex SHA-256 of p (n bytes) into out (65 bytes). 0 or -1. */
static int sha256_hex(struct ht_aws_signer *s, const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	if (EVP_DigestInit_ex2(s->hash, s->md, NULL) != 1 || EVP_DigestUpdate(s->hash, p, n) != 1 ||
	    EVP_DigestFinal_ex(s->hash, md, &len) != 1 || len != 32)
		return -1;
	ht_hex(md, 32, out);
	return 0;
}

static int cmp_header(const void *a, const void *b)
{
	return strcmp(((const struct ht_aws_sig_header *)a)->name, ((const struct ht_aws_sig_header *)b)->name);
}

int ht_aws_sign(struct ht_aws_signer *s, time_t now, const char *method, const char *uri, const char *query,
		const struct ht_aws_sig_header *h, size_t n, const void *body, size_t len,
		struct ht_aws_signed *out)
{
	struct ht_aws_sig_header all[MAX_HEADERS];
	char amz_date[17], day[9], body_hex[65], canon_hex[65], sig_hex[65], sts[256];
	unsigned char sig[32];
	size_t i, k = 0, siglen = 0, mark;
	struct tm tm;
	int w;

	if (!s->access_key_id || !s->secret_access_key)
		return ht_error("sigv4: no credentials to sign with");
	if (n + 2 > MAX_HEADERS)
		return ht_error("sigv4: too many headers to sign");
	if (!gmtime_r(&now, &tm) || strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm) != 16)
		return ht_error("sigv4: the clock is out of range");
	memcpy(day, amz_date, 8);
	day[8] = '\0';
	if (strcmp(day, s->day) && derive(s, day) < 0)
		return -1;
	for (i = 0; i < n; i++)
		all[k++] = h[i];
	all[k].name = "x-amz-date";
	all[k++].value = amz_date;
	if (s->session_token) {
		all[k].name = "x-amz-security-token";
		all[k++].value = s->session_token;
	}
	qsort(all, k, sizeof(all[0]), cmp_header);

	if (sha256_hex(s, body ? body : "", body ? len : 0, body_hex) < 0)
		return ht_error("sigv4: cannot hash the body (OpenSSL)");
	ht_buf_reset(&s->canon);
	ht_buf_addstr(&s->canon, method);
	ht_buf_add(&s->canon, "\n", 1);
	ht_buf_addstr(&s->canon, uri);
	ht_buf_add(&s->canon, "\n", 1);
	ht_buf_addstr(&s->canon, query ? query : "");
	ht_buf_add(&s->canon, "\n", 1);
	for (i = 0; i < k; i++) {
		ht_buf_addstr(&s->canon, all[i].name);
		ht_buf_add(&s->canon, ":", 1);
		ht_buf_addstr(&s->canon, all[i].value);
		ht_buf_add(&s->canon, "\n", 1);
	}
	ht_buf_add(&s->canon, "\n", 1);
	/* The signed headers' names: in the canonical request, and again in
	 * the authorization line. */
	mark = s->canon.len;
	for (i = 0; i < k; i++) {
		if (i)
			ht_buf_add(&s->canon, ";", 1);
		ht_buf_addstr(&s->canon, all[i].name);
	}
	ht_buf_add(&s->canon, "\n", 1);
	ht_buf_add(&s->canon, body_hex, 64);
	if (sha256_hex(s, s->canon.data, s->canon.len, canon_hex) < 0)
		return ht_error("sigv4: cannot hash the request (OpenSSL)");

	w = snprintf(sts, sizeof(sts), ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, day, s->region,
		     s->service, canon_hex);
	if (w < 0 || w >= (int)sizeof(sts))
		return ht_error("sigv4: the string to sign is too long");
	/* Re-initialised without a key: HMAC goes on with the one derive()
	 * set. */
	if (EVP_MAC_init(s->sign, NULL, 0, NULL) != 1 || EVP_MAC_update(s->sign, (unsigned char *)sts, (size_t)w) != 1 ||
	    EVP_MAC_final(s->sign, sig, &siglen, sizeof(sig)) != 1 || siglen != 32)
		return ht_error("sigv4: cannot sign (OpenSSL)");
	ht_hex(sig, 32, sig_hex);
	snprintf(out->date, sizeof(out->date), "X-Amz-Date: %s", amz_date);
	w = snprintf(out->authorization, sizeof(out->authorization),
		     "Authorization: " ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%.*s, "
		     "Signature=%s", s->access_key_id, day, s->region, s->service,
		     (int)(s->canon.len - mark - 65), s->canon.data + mark, sig_hex);
	if (w < 0 || w >= (int)sizeof(out->authorization))
		return ht_error("sigv4: the access key id is too long");
	return 0;
}
