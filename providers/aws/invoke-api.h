/*
 * invoke-api.h: the requests of Lambda's Invoke API as ht-lambda-local
 * serves them (GetFunction, GetFunctionConfiguration, Invoke), read from
 * a request's path, method and X-Amz-Invocation-Type alone, without a
 * socket: tools/ht-lambda-local.c answers them and
 * tests/fuzz/fuzz-invoke-api.c feeds them anything.
 *
 * Ownership: strings passed in are borrowed; the request holds copies.
 */
#ifndef HT_AWS_INVOKE_API_H
#define HT_AWS_INVOKE_API_H

enum ht_lambda_op {
	HT_LAMBDA_UNKNOWN,        /* no such operation: 404 UnknownOperationException */
	HT_LAMBDA_NO_FUNCTION,    /* another function's name: 404 ResourceNotFoundException */
	HT_LAMBDA_GET_FUNCTION,   /* GET /2015-03-31/functions/NAME */
	HT_LAMBDA_GET_CONFIG,     /* GET /2015-03-31/functions/NAME/configuration */
	HT_LAMBDA_INVOKE,         /* POST /2015-03-31/functions/NAME/invocations */
	HT_LAMBDA_NOT_SYNC        /* an Invoke that is not RequestResponse: 400 */
};

struct ht_lambda_req {
	enum ht_lambda_op op;
	char name[256];           /* the function name or ARN of the path, printable
	                             ASCII ("" for UNKNOWN) */
};

/*
 * Reads the request (url, method, the X-Amz-Invocation-Type header or
 * NULL) for the function served (its name; NULL: any name) into q.
 * Returns q->op.
 */
enum ht_lambda_op ht_lambda_parse_request(const char *url, const char *method, const char *invocation_type,
					  const char *function, struct ht_lambda_req *q);

/* 1 when name (a name or an ARN) is function (NULL: any). */
int ht_lambda_is_function(const char *name, const char *function);

#endif
