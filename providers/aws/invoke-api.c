/*
 * invoke-api.c: reading the requests of Lambda's Invoke API that
 * ht-lambda-local serves (providers/aws/invoke-api.h).
 */
#include <string.h>

#include "ht/util.h"
#include "providers/aws/invoke-api.h"

/* The function name in a path like /2015-03-31/functions/NAME/REST, into
 * name; returns REST ("" when there is none) or NULL. */
static const char *split_path(const char *url, char *name, size_t n)
{
	static const char pre[] = "/2015-03-31/functions/";
	const char *p, *q, *slash;

	if (!ht_starts_with(url, pre))
		return NULL;
	p = url + strlen(pre);
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	if (slash == p || (size_t)(slash - p) >= n)
		return NULL;
	/* Names and ARNs are printable ASCII, and the name is echoed in
	 * JSON answers: anything else (a %ff in the path) names nothing. */
	for (q = p; q < slash; q++)
		if (*q <= ' ' || *q >= 0x7f)
			return NULL;
	memcpy(name, p, (size_t)(slash - p));
	name[slash - p] = '\0';
	return *slash ? slash + 1 : slash;
}

int ht_lambda_is_function(const char *name, const char *function)
{
	const char *colon;

	if (!function)
		return 1;
	if (!strcmp(name, function))
		return 1;
	colon = strstr(name, ":function:");
	if (colon) {
		const char *n = colon + strlen(":function:");
		size_t len = strcspn(n, ":");

		return strlen(function) == len && !strncmp(n, function, len);
	}
	return 0;
}

enum ht_lambda_op ht_lambda_parse_request(const char *url, const char *method, const char *invocation_type,
					  const char *function, struct ht_lambda_req *q)
{
	const char *rest = split_path(url, q->name, sizeof(q->name));

	if (!rest) {
		q->name[0] = '\0';
		return q->op = HT_LAMBDA_UNKNOWN;
	}
	if (!ht_lambda_is_function(q->name, function))
		return q->op = HT_LAMBDA_NO_FUNCTION;
	if (!strcmp(method, "GET") && (!strcmp(rest, "configuration") || !strcmp(rest, "configuration/")))
		return q->op = HT_LAMBDA_GET_CONFIG;
	if (!strcmp(method, "GET") && !*rest)
		return q->op = HT_LAMBDA_GET_FUNCTION;
	if (strcmp(method, "POST") || (strcmp(rest, "invocations") && strcmp(rest, "invocations/")))
		return q->op = HT_LAMBDA_UNKNOWN;
	if (invocation_type && strcmp(invocation_type, "RequestResponse"))
		return q->op = HT_LAMBDA_NOT_SYNC;
	return q->op = HT_LAMBDA_INVOKE;
}
