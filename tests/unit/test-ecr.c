/*
 * test-ecr: ECR host names, the ECR mode, content types of bucket keys,
 * Lambda's architecture names.
 */
#include <stdlib.h>

#include "providers/aws/lambda.h"
#include "ht/bucket.h"
#include "providers/aws/ecr.h"
#include "tap.h"

static void host(const char *h, int want, const char *account, const char *region)
{
	char *a = NULL, *r = NULL;
	int got = ht_ecr_host_parse(h, &a, &r);

	is_int(got, want, h);
	if (want) {
		is_str(a, account, "account");
		is_str(r, region, "region");
	}
	free(a);
	free(r);
}

int main(void)
{
	enum ht_ecr_mode m;

	host("123456789012.dkr.ecr.eu-central-1.amazonaws.com", 1, "123456789012", "eu-central-1");
	host("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", 1, "123456789012", "cn-north-1");
	host("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", 1, "123456789012", "us-east-1");
	host("123456789012.dkr.ecr.us-east-1.amazonaws.com:443", 1, "123456789012", "us-east-1");
	host("123456789012.dkr.ecr.us-east-1.amazonaws.com:5000", 0, NULL, NULL);
	host("12345678901.dkr.ecr.us-east-1.amazonaws.com", 0, NULL, NULL);
	host("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com", 0, NULL, NULL);
	host("123456789012.dkr.ecr.US-EAST-1.amazonaws.com", 0, NULL, NULL);
	host("public.ecr.aws", 0, NULL, NULL);
	host("127.0.0.1:5000", 0, NULL, NULL);
	host("", 0, NULL, NULL);
	ok(ht_ecr_host_parse(NULL, NULL, NULL) == 0, "NULL host");

	ok(ht_ecr_mode_parse("always", &m) == 0 && m == HT_ECR_ALWAYS, "always");
	ok(ht_ecr_mode_parse(NULL, &m) == 0 && m == HT_ECR_AUTO, "NULL is auto");
	ok(ht_ecr_mode_parse("sometimes", &m) < 0, "unknown mode");
	ok(ht_ecr_wanted(HT_ECR_AUTO, "123456789012.dkr.ecr.us-east-1.amazonaws.com"), "auto: ECR");
	ok(!ht_ecr_wanted(HT_ECR_AUTO, "127.0.0.1:5000"), "auto: not ECR");
	ok(ht_ecr_wanted(HT_ECR_ALWAYS, "127.0.0.1:5000"), "always");
	ok(!ht_ecr_wanted(HT_ECR_NEVER, "123456789012.dkr.ecr.us-east-1.amazonaws.com"), "never");

	is_str(ht_bucket_content_type("r/t/stdout.txt"), "text/plain; charset=utf-8", ".txt");
	is_str(ht_bucket_content_type("r/t/out/a.LOG"), "text/plain; charset=utf-8", ".LOG");
	is_str(ht_bucket_content_type("r/t/out/junit.xml"), "application/xml", ".xml");
	is_str(ht_bucket_content_type("r/t/out/shot.png"), "image/png", ".png");
	is_str(ht_bucket_content_type("r/t/out/x.json"), "application/json", ".json");
	is_str(ht_bucket_content_type("r/t.d/out/noext"), "application/octet-stream", "a dot in a directory");
	is_str(ht_bucket_content_type("r/t/out/.bin"), "application/octet-stream", "unknown");

	is_str(ht_lambda_arch_to_oci("x86_64"), "amd64", "x86_64");
	is_str(ht_lambda_arch_to_oci("arm64"), "arm64", "arm64");
	ok(ht_lambda_arch_to_oci("ppc") == NULL, "unknown arch");
	return tap_done();
}
