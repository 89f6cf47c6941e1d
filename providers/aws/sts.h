/*
 * sts.h: the STS calls: who the credentials belong to, and temporary
 * credentials (the tests use these against moto).
 *
 * Ownership as in aws.h: char ** results are new strings; credentials
 * filled in are the caller's to release (ht_aws_creds_release wipes them).
 */
#ifndef HT_AWS_STS_H
#define HT_AWS_STS_H

#include "providers/aws/aws.h"

/* GetCallerIdentity: the account and the ARN (new strings). */
int ht_sts_caller_identity(struct ht_aws *a, int quiet, char **account, char **arn, struct ht_aws_error *e);
/* GetSessionToken: temporary credentials into out (source "sts"). */
int ht_sts_get_session_token(struct ht_aws *a, long duration_s, struct ht_aws_creds *out, struct ht_aws_error *e);
/* AssumeRole: the role's temporary credentials into out (source "sts"). */
int ht_sts_assume_role(struct ht_aws *a, const char *role_arn, const char *session_name, long duration_s,
		       struct ht_aws_creds *out, struct ht_aws_error *e);

#endif
