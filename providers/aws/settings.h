/*
 * settings.h: the `aws` provider's keys of hypertest.json (aws.*),
 * registered with libht's config loader through ht_aws_schema.
 * Credentials are never among them.
 *
 * Ownership: the config owns every string; ht_aws_settings() borrows.
 */
#ifndef HT_AWS_SETTINGS_H
#define HT_AWS_SETTINGS_H

#include "ht/config.h"
#include "ht/provider.h"

struct ht_aws_settings {
	char *region;
	char *function;
	char *bucket;
	char *profile;
	char *endpoint;        /* one endpoint for all services (tests, stand-ins) */
	char *endpoint_lambda, *endpoint_s3, *endpoint_ecr;
	int insecure;          /* no TLS verification for the configured endpoints */
	long min_concurrency;  /* the adaptive window's floor, default 1 */
	long update_timeout_s; /* ht-update's wait for an update, default 600 */
	char *ecr;             /* "auto" (ECR host names), "always", "never" */
	int create_repository; /* ht-push creates a missing ECR repository */
	int ecr_cache;         /* ECR tokens cached under <dir>, default 1 */
};

extern const struct ht_config_schema ht_aws_schema;
extern const struct ht_provider_check ht_aws_checks[];

/* The aws.* settings of a loaded config; borrowed. */
static inline const struct ht_aws_settings *ht_aws_settings(const struct ht_config *c)
{
	return (const struct ht_aws_settings *)ht_config_settings(c, &ht_aws_schema);
}

#endif
