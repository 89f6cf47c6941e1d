/*
 * s3.h: the S3 calls the tools make: buckets, objects, listings. The
 * bucket backend (s3:// URLs behind include/ht/bucket.h) is bucket.h.
 *
 * Ownership as in aws.h: everything passed in is borrowed; a list owns
 * its objects until ht_s3_list_release().
 */
#ifndef HT_AWS_S3_H
#define HT_AWS_S3_H

#include <stddef.h>

#include "providers/aws/aws.h"

int ht_s3_create_bucket(struct ht_aws *a, const char *bucket, struct ht_aws_error *e);
/* HeadBucket: 0 when it exists and the credentials may use it; a missing
 * one is NOT_FOUND with the code NoSuchBucket. */
int ht_s3_head_bucket(struct ht_aws *a, const char *bucket, int quiet, struct ht_aws_error *e);
/* Puts data (borrowed) under key. */
int ht_s3_put(struct ht_aws *a, const char *bucket, const char *key, const void *data, size_t len,
	      const char *content_type, struct ht_aws_error *e);
/* Streams the file at path to key, with its SHA-256 as payload hash. */
int ht_s3_put_file(struct ht_aws *a, const char *bucket, const char *key, const char *path,
		   const char *content_type, struct ht_aws_error *e);
/* Appends the object to out (whose max limits the size). */
int ht_s3_get(struct ht_aws *a, const char *bucket, const char *key, struct ht_buf *out, struct ht_aws_error *e);
/* The same; with quiet, prints nothing (e says what went wrong). */
int ht_s3_get_opt(struct ht_aws *a, const char *bucket, const char *key, struct ht_buf *out, int quiet,
		  struct ht_aws_error *e);

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

/* The path of an object key: '/' and the key URI-encoded, '/' kept. New. */
char *ht_s3_key_path(const char *key);

#endif
