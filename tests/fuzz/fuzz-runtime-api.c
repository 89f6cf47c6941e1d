/*
 * fuzz-runtime-api.c: the Runtime API requests the local provider serves
 * (providers/local/api.c): a request's URL and method as the handler reads
 * them, and the error body a runner posts, whose message ends up in a
 * record. Input: a byte choosing the method, the URL up to a newline, then
 * the body. What is parsed points inside the URL; the message is valid
 * UTF-8 on one line within its buffer.
 */
#include "providers/local/local.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* 1 when s is valid UTF-8 without control characters. */
static int clean_line(const char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		size_t k = ht_utf8_seq((const unsigned char *)s + i, n - i);

		if (!k || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		i += k;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "get", "" };
	struct local_api_req q;
	const char *nl;
	char *url, msg[256], small[19];
	const char *body;
	size_t blen;

	if (size == 0)
		return 0;
	nl = memchr(data + 1, '\n', size - 1);
	url = fuzz_str(data + 1, nl ? (size_t)(nl - (const char *)data - 1) : size - 1);
	body = nl ? nl + 1 : "";
	blen = nl ? size - (size_t)(nl + 1 - (const char *)data) : 0;
	if (local_api_parse(url, methods[data[0] % 5], &q) == 0) {
		size_t ulen = strlen(url);

		FUZZ_ASSERT(q.token > url && q.token + LOCAL_TOKEN_HEX <= url + ulen);
		if (q.op == LOCAL_API_RESPONSE || q.op == LOCAL_API_ERROR) {
			FUZZ_ASSERT(q.rid > q.token && q.rid + q.rid_len <= url + ulen);
			FUZZ_ASSERT(!memchr(q.rid, '/', q.rid_len));
			FUZZ_ASSERT(!strcmp(methods[data[0] % 5], "POST"));
		}
		if (q.op == LOCAL_API_NEXT)
			FUZZ_ASSERT(!strcmp(methods[data[0] % 5], "GET"));
	}
	local_api_error_message(body, blen, "the runner reported an error", msg, sizeof(msg));
	FUZZ_ASSERT(strlen(msg) < sizeof(msg) && clean_line(msg));
	local_api_error_message(body, blen, "init error", small, sizeof(small));
	FUZZ_ASSERT(strlen(small) < sizeof(small) && clean_line(small));
	free(url);
	return 0;
}
