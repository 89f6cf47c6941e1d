/*
 * runtime.h: a client of the AWS Lambda Runtime API (2018-06-01), the
 * protocol between a function's runtime (ht-runner) and Lambda, or the
 * local provider's stand-in.
 *
 * Ownership: struct ht_runtime and struct ht_invocation own their strings
 * until their _release(); bodies and messages passed in are borrowed.
 */
#ifndef HT_RUNTIME_H
#define HT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

struct ht_runtime {
	char *base; /* "http://HOST:PORT[/prefix]/2018-06-01/runtime" */
	char *shown; /* the same with a prefix as "/...", for messages */
	int refused; /* consecutive refused connections, for ht_runtime_next */
	void *http; /* the HTTP handle kept from one request to the next (ht_http_do_on) */
	int chan;   /* the local provider's channel (ht_runtime_use_channel), -1: none */
	char *chan_buf;
};

struct ht_invocation {
	char *request_id;   /* Lambda-Runtime-Aws-Request-Id */
	int64_t deadline_ms; /* Lambda-Runtime-Deadline-Ms: epoch ms, 0 when absent */
	char *body;         /* the event, NUL-terminated */
	size_t len;
};

/*
 * Sets rt up for api, the value of $AWS_LAMBDA_RUNTIME_API ("HOST:PORT",
 * possibly followed by a path prefix). Returns 0, or -1 after printing why.
 */
int ht_runtime_init(struct ht_runtime *rt, const char *api);
/*
 * The local provider's channel (HT_RUNTIME_CHANNEL=fd:N): a SOCK_SEQPACKET
 * socket of the sandbox's own, taken over by rt (closed by its release).
 * On it the runtime asks for its next invocation ('N'), gets it ('E':
 * request id, deadline, event; 'H': take it from GET .../next instead, it
 * is too large), answers ('R': request id, result) and says a test starts
 * ('S'), with no HTTP request: on a machine's loopback a request cost a
 * quick test more than the test. What does not fit in a message, and
 * errors (.../error), go through the Runtime API as on Lambda; a channel
 * that fails is dropped for the API.
 */
void ht_runtime_use_channel(struct ht_runtime *rt, int fd);
void ht_runtime_release(struct ht_runtime *rt);
void ht_invocation_release(struct ht_invocation *inv);

/*
 * Waits for the next invocation (GET .../invocation/next, no timeout).
 * Returns 1 with inv filled; 0 when the runtime should end: the API
 * answered 410 Gone (shutting down), or refused connections for about
 * five seconds in a row; -1 after printing why on any other failure
 * (the caller may try again).
 */
int ht_runtime_next(struct ht_runtime *rt, struct ht_invocation *inv);
/* POST .../invocation/ID/response with body (a JSON document). */
int ht_runtime_respond(struct ht_runtime *rt, const char *request_id, const char *body, size_t len);
/* POST .../invocation/ID/error with {"errorMessage","errorType"}. */
int ht_runtime_fail(struct ht_runtime *rt, const char *request_id, const char *type, const char *message);
/* POST .../invocation/ID/test-started: the local provider's extension
 * (HT_RUNTIME_TEST_EVENTS=1 asks for it; Lambda has no such call): a
 * test of this invocation runs now, so the runner's death from here on
 * is the test's doing (docs/local-provider.md#failures). One attempt. */
int ht_runtime_test_started(struct ht_runtime *rt, const char *request_id);
/* POST .../init/error: the runtime cannot start. */
int ht_runtime_init_error(struct ht_runtime *rt, const char *type, const char *message);

#endif
