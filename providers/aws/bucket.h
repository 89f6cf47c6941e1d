/*
 * bucket.h: the s3:// kind of bucket (include/ht/bucket.h). Opened by
 * URL through ht_bucket_open() it takes the AWS environment's defaults;
 * the aws provider opens aws.bucket with the configuration's profile,
 * region, endpoints and aws.insecure through ht_s3_bucket_open().
 *
 * Ownership as in include/ht/bucket.h; the options are borrowed for the
 * call.
 */
#ifndef HT_AWS_BUCKET_H
#define HT_AWS_BUCKET_H

#include "ht/bucket.h"
#include "providers/aws/aws.h"

/* Opens url (s3://NAME[/PREFIX]) with the AWS options o (may be NULL).
 * Makes no request. Returns 0, or -1 after printing why; release b in
 * both cases. */
int ht_s3_bucket_open(struct ht_bucket *b, const char *url, const struct ht_aws_opts *o);

struct ht_config;
/* The aws provider's bucket (its ops->bucket): aws.bucket as an s3://
 * bucket, with the configuration's profile, region, endpoints and
 * aws.insecure. 0, or -1 after printing why; release b in both cases. */
int ht_aws_bucket(const struct ht_config *cfg, struct ht_bucket *b);

#endif
