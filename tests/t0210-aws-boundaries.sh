#!/bin/sh
# Where the AWS code is: libht (lib/, include/ht/) includes nothing of the
# aws provider, so registries, buckets and the rest know no AWS; the tools
# that speak ECR or Lambda include providers/aws/ themselves.
. "$HT_SRC/tests/lib.sh"

test_expect_success 'lib/ and include/ht/ include nothing of a provider or a runner plugin' '
	(cd "$HT_SRC" && grep -n "#include \"\(providers\|runners\)/" lib/*.c lib/*.h include/ht/*.h) >found;
	{ test ! -s found || { cat found >&2; false; }; }
'

test_expect_success 'lib/ names no provider in code: no aws.* or local.* key, no Lambda, no bwrap' '
	(cd "$HT_SRC" && grep -n "\"\(aws\|local\)\.[a-z_]*\"\|bwrap\|ht_aws_\|ht_local_\|ht_lambda_" lib/*.c lib/*.h include/ht/*.h) >found;
	{ test ! -s found || { cat found >&2; false; }; }
'

test_expect_success 'lib/registry.c in particular: ECR credentials come from the tools' '
	! grep -n "aws\|ecr" "$HT_SRC/lib/registry.c" | grep -i "#include" &&
	grep -q "#include \"providers/aws/ecr.h\"" "$HT_SRC/tools/ht-pull.c" &&
	grep -q "#include \"providers/aws/ecr.h\"" "$HT_SRC/tools/ht-push.c"
'

test_expect_success 'lib/bucket.c names no kind of bucket: they come from ht_bucket_kinds[]' '
	! grep -n "ht_bucket_file\|ht_bucket_s3\|ht_aws\|ht_s3_" "$HT_SRC/lib/bucket.c" &&
	grep -q "&ht_bucket_file," "$HT_SRC/providers/provider.c" &&
	grep -q "&ht_bucket_s3," "$HT_SRC/providers/provider.c"
'

test_done
