#!/bin/sh
# Where the AWS code is: libht (lib/, include/ht/) includes nothing of the
# aws provider, so registries, buckets and the rest know no AWS; the tools
# that speak ECR or Lambda include providers/aws/ themselves.
. "$HT_SRC/tests/lib.sh"

test_expect_success 'lib/ and include/ht/ include no providers/aws/ header' '
	(cd "$HT_SRC" && grep -l "#include \"providers/aws/" lib/*.c include/ht/*.h) >found;
	# lib/http.c takes struct ht_aws_sig until its SigV4 option is generic.
	grep -v "^lib/http.c\$" found >left;
	{ test ! -s left || { cat left >&2; false; }; }
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
