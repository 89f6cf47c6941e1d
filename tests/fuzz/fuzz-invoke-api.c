/*
 * fuzz-invoke-api.c: the Invoke API requests ht-lambda-local serves
 * (providers/aws/invoke-api.c), read from a path, a method and the
 * X-Amz-Invocation-Type header. Input: a byte choosing the method and the
 * function served, the path up to a newline, then the header's value (no
 * newline: no header). An answered name is printable ASCII without '/'.
 */
#include "providers/aws/invoke-api.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "" };
	static const char *const functions[] = { NULL, "hypertest", "f:1" };
	struct ht_lambda_req q;
	const char *nl, *method;
	char *url, *type = NULL;
	enum ht_lambda_op op;
	size_t i;

	if (size == 0)
		return 0;
	method = methods[data[0] % 4];
	nl = memchr(data + 1, '\n', size - 1);
	url = fuzz_str(data + 1, nl ? (size_t)(nl - (const char *)data - 1) : size - 1);
	if (nl)
		type = fuzz_str((const uint8_t *)nl + 1, size - (size_t)(nl + 1 - (const char *)data));
	op = ht_lambda_parse_request(url, method, type, functions[(data[0] >> 2) % 3], &q);
	FUZZ_ASSERT(op == q.op);
	if (op != HT_LAMBDA_UNKNOWN) {
		FUZZ_ASSERT(q.name[0] && strlen(q.name) < sizeof(q.name));
		for (i = 0; q.name[i]; i++)
			FUZZ_ASSERT(q.name[i] > ' ' && q.name[i] < 0x7f && q.name[i] != '/');
		FUZZ_ASSERT(strstr(url, q.name));
	}
	if (op == HT_LAMBDA_INVOKE)
		FUZZ_ASSERT(!strcmp(method, "POST") && (!type || !strcmp(type, "RequestResponse")));
	if (op == HT_LAMBDA_GET_CONFIG || op == HT_LAMBDA_GET_FUNCTION)
		FUZZ_ASSERT(!strcmp(method, "GET"));
	if (op == HT_LAMBDA_INVOKE && functions[(data[0] >> 2) % 3])
		FUZZ_ASSERT(ht_lambda_is_function(q.name, functions[(data[0] >> 2) % 3]));
	free(url);
	free(type);
	return 0;
}
