/*
 * template.h: the CloudFormation template of everything the aws provider
 * needs (ht-init --aws, docs/aws.md): the ECR repository, the bucket, the
 * function's execution role, its log group, the Lambda function and the
 * policy of the user who deploys and runs the tests.
 */
#ifndef HT_PROVIDERS_AWS_TEMPLATE_H
#define HT_PROVIDERS_AWS_TEMPLATE_H

#include <stdio.h>

struct ht_aws_template {
	const char *name;      /* repository, function and stack name */
	const char *bucket;    /* the bucket's name */
	long memory_mb;        /* the function's memory: 0 for the default */
	long timeout_s;        /* the function's timeout: 0 for the default */
	const char *arch;      /* "x86_64" or "arm64"; NULL for x86_64 */
};

/* Writes the YAML template to fp. Returns 0, or -1 after printing. */
int ht_aws_template_write(FILE *fp, const struct ht_aws_template *t);

#endif
