/*
 * ht-lambda-local: serves Lambda's Invoke API on 127.0.0.1 and runs each
 * invocation through the local provider (sandboxes running the real
 * ht-runner), as `sam local start-lambda` does, so that a run of ht-invoke
 * with the aws provider goes through the AWS client code and the real
 * runner. It can inject faults (throttling, function errors, hangs) and
 * answer at once without running anything (--stand-in), for tests and
 * benchmarks. See docs/ht-lambda-local.md.
 *
 * Threads: libmicrohttpd's thread reads requests, answers what needs no
 * work (GetFunctionConfiguration, throttles, refusals) and hands each
 * invocation to the main thread through a queue, suspending its
 * connection; the main thread drives the provider (or the stand-in's
 * timers) and resumes the connection with the answer. Everything they
 * share is under `lock`.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "ht/ht.h"
#include "ht/process.h"
#include "ht/config.h"
#include "ht/provider.h"
#include "providers/aws/invoke-api.h"
#include "providers/aws/settings.h"

static const struct ht_tool tool = {
	"ht-lambda-local", "[OPTIONS]",
	"Serve Lambda's Invoke API on 127.0.0.1 and run each invocation on the local provider.",
	"  -p, --port N            listen on port N (default: any free port)\n"
	"      --port-file FILE    write the port to FILE once listening\n"
	"      --function NAME     the function's name (default: aws.function, else any name)\n"
	"      --timeout S         the function's timeout (default: timeout_s)\n"
	"  -j, --concurrency N     sandboxes at most (default: concurrency)\n"
	"      --stand-in          answer a passed result without running anything\n"
	"      --delay-ms MS       with --stand-in: answer after MS milliseconds\n"
	"      --throttle-rate F   answer a fraction F of invocations with 429\n"
	"      --throttle-first N  answer the first N invocations with 429\n"
	"      --fail-function-error Handled|Unhandled\n"
	"                          answer invocations with this function error\n"
	"      --fail-rate F       the fraction that fails (default 1)\n"
	"      --hang-rate F       a fraction F of invocations never answers\n"
	"      --seed N            the seed of the fault draws\n",
};

/* Lambda's limit for a synchronous request payload. */
#define MAX_PAYLOAD (6u * 1024 * 1024)

enum { R_READING, R_QUEUED, R_ANSWERED, R_HANGING, R_DROP };

/* One request in progress (libmicrohttpd's con_cls). */
struct req {
	struct req *next;            /* in the intake or the stand-in list */
	struct req *sprev, *snext;   /* among the suspended */
	struct MHD_Connection *c;
	struct ht_buf body;
	int too_big;
	int state;
	int refs;                    /* the connection and the main thread */
	char id[HT_UUID_LEN + 1];
	int64_t received_ms;
	int64_t due_ms;              /* stand-in: when to answer */
	/* The answer, set by the main thread. */
	unsigned status;
	char *out;
	size_t out_len;
	const char *func_error;      /* "Handled", "Unhandled" or NULL */
	char *log_result;            /* base64 */
};

static struct {
	pthread_mutex_t lock;
	int evfd;
	struct req *intake, *intake_tail;
	struct req *suspended;
	const char *function;
	long timeout_s;
	int stand_in;
	long delay_ms;
	double throttle_rate, fail_rate, hang_rate;
	long throttle_first;
	const char *fail_error;
	uint64_t rng;
	/* Counts, for the log at the end. */
	long invocations, throttled, failed, hung, too_big;
} S;

static void wake(void)
{
	uint64_t one = 1;
	ssize_t r = write(S.evfd, &one, sizeof(one));

	(void)r;
}

/* A uniform draw in [0, 1) from xorshift64*. Lock held. */
static double draw(void)
{
	S.rng ^= S.rng >> 12;
	S.rng ^= S.rng << 25;
	S.rng ^= S.rng >> 27;
	return (double)((S.rng * 2685821657736338717ULL) >> 11) / (double)(1ULL << 53);
}

/* Drops a reference to r; frees it with the last. Lock held. */
static void req_unref(struct req *r)
{
	if (--r->refs > 0)
		return;
	ht_buf_release(&r->body);
	free(r->out);
	free(r->log_result);
	free(r);
}

static void suspend(struct req *r)
{
	r->sprev = NULL;
	r->snext = S.suspended;
	if (S.suspended)
		S.suspended->sprev = r;
	S.suspended = r;
	MHD_suspend_connection(r->c);
}

static void unsuspend(struct req *r)
{
	if (r->sprev)
		r->sprev->snext = r->snext;
	else
		S.suspended = r->snext;
	if (r->snext)
		r->snext->sprev = r->sprev;
	r->sprev = r->snext = NULL;
	MHD_resume_connection(r->c);
}

/* --- answers -------------------------------------------------------------------- */

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, const char *body, size_t len,
				 const char *error_type, const char *func_error, const char *log_result,
				 const char *request_id)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (request_id)
		MHD_add_response_header(resp, "x-amzn-RequestId", request_id);
	if (error_type)
		MHD_add_response_header(resp, "x-amzn-ErrorType", error_type);
	if (func_error)
		MHD_add_response_header(resp, "X-Amz-Function-Error", func_error);
	if (log_result)
		MHD_add_response_header(resp, "X-Amz-Log-Result", log_result);
	if (status == 200)
		MHD_add_response_header(resp, "X-Amz-Executed-Version", "$LATEST");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* An error of the Lambda API itself: {"Type":"User","message":...}. */
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *type, const char *msg,
				  const char *reason)
{
	json_t *j = json_object();
	char *s;
	enum MHD_Result ret;

	json_object_set_new(j, "Type", json_string(status < 500 ? "User" : "Service"));
	json_object_set_new(j, "message", json_string(msg));
	if (reason)
		json_object_set_new(j, "Reason", json_string(reason));
	s = ht_json_xdumps(j, JSON_COMPACT);
	ret = send_json(c, status, s, strlen(s), type, NULL, NULL, NULL);
	free(s);
	json_decref(j);
	return ret;
}

/* Lambda's log tail for one invocation, base64. New string. */
static char *log_result(const char *id, int64_t ms, const char *extra)
{
	char *text = ht_xasprintf("START RequestId: %s Version: $LATEST\n%s%sEND RequestId: %s\n"
				  "REPORT RequestId: %s\tDuration: %lld.00 ms\tBilled Duration: %lld ms\t"
				  "Memory Size: 3008 MB\tMax Memory Used: 0 MB\t\n",
				  id, extra ? extra : "", extra ? "\n" : "", id, id, (long long)ms, (long long)ms);
	char *out = ht_base64_encode(text, strlen(text));

	free(text);
	return out;
}

/* A function error body: {"errorType":...,"errorMessage":...}. */
static void set_function_error(struct req *r, const char *kind, const char *type, const char *msg)
{
	json_t *j = json_object();

	json_object_set_new(j, "errorType", json_string(type));
	json_object_set_new(j, "errorMessage", json_string(msg));
	free(r->out);
	r->out = ht_json_xdumps(j, JSON_COMPACT);
	r->out_len = strlen(r->out);
	r->func_error = kind;
	r->status = 200;
	json_decref(j);
}

/* Hands r's answer to its connection. Lock held. */
static void answer(struct req *r)
{
	if (!r->log_result)
		r->log_result = log_result(r->id, ht_now_ms() - r->received_ms,
					   r->func_error ? "the function failed" : NULL);
	r->state = R_ANSWERED;
	unsuspend(r);
	req_unref(r);
}

static enum MHD_Result not_found(struct MHD_Connection *c, const char *name)
{
	char msg[400];

	snprintf(msg, sizeof(msg), "Function not found: arn:aws:lambda:local:000000000000:function:%.200s", name);
	return send_error(c, 404, "ResourceNotFoundException", msg, NULL);
}

static enum MHD_Result configuration(struct MHD_Connection *c, const char *name, int wrap)
{
	json_t *cfg = json_object(), *out;
	char *s, arn[300];
	enum MHD_Result ret;

	snprintf(arn, sizeof(arn), "arn:aws:lambda:local:000000000000:function:%.200s", name);
	json_object_set_new(cfg, "FunctionName", json_string(S.function ? S.function : name));
	json_object_set_new(cfg, "FunctionArn", json_string(arn));
	json_object_set_new(cfg, "PackageType", json_string("Image"));
	json_object_set_new(cfg, "Timeout", json_integer(S.timeout_s));
	json_object_set_new(cfg, "MemorySize", json_integer(3008));
	json_object_set_new(cfg, "State", json_string("Active"));
	json_object_set_new(cfg, "LastUpdateStatus", json_string("Successful"));
	json_object_set_new(cfg, "Version", json_string("$LATEST"));
	if (wrap) {
		out = json_object();
		json_object_set_new(out, "Configuration", cfg);
	} else {
		out = cfg;
	}
	s = ht_json_xdumps(out, JSON_COMPACT);
	ret = send_json(c, 200, s, strlen(s), NULL, NULL, NULL, NULL);
	free(s);
	json_decref(out);
	return ret;
}

/* Routes a complete request. Lock held. */
static enum MHD_Result route(struct req *r, const char *url, const char *method)
{
	struct ht_lambda_req q;

	switch (ht_lambda_parse_request(url, method,
					MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "X-Amz-Invocation-Type"),
					S.function, &q)) {
	case HT_LAMBDA_UNKNOWN:
		return send_error(r->c, 404, "UnknownOperationException", "no such operation", NULL);
	case HT_LAMBDA_NO_FUNCTION:
		return not_found(r->c, q.name);
	case HT_LAMBDA_GET_CONFIG:
		return configuration(r->c, q.name, 0);
	case HT_LAMBDA_GET_FUNCTION:
		return configuration(r->c, q.name, 1);
	case HT_LAMBDA_NOT_SYNC:
		return send_error(r->c, 400, "InvalidParameterValueException",
				  "ht-lambda-local serves RequestResponse invocations only", NULL);
	case HT_LAMBDA_INVOKE:
		break;
	}
	if (r->too_big) {
		S.too_big++;
		return send_error(r->c, 413, "RequestEntityTooLargeException",
				  "Request must be smaller than 6291456 bytes for the InvokeFunction operation", NULL);
	}
	S.invocations++;
	if (S.invocations <= S.throttle_first || (S.throttle_rate > 0 && draw() < S.throttle_rate)) {
		S.throttled++;
		return send_error(r->c, 429, "TooManyRequestsException", "Rate Exceeded.",
				  "ReservedFunctionConcurrentInvocationLimitExceeded");
	}
	if (ht_uuid4(r->id) < 0)
		return send_error(r->c, 500, "ServiceException", "cannot make a request id", NULL);
	r->received_ms = ht_now_ms();
	if (S.hang_rate > 0 && draw() < S.hang_rate) {
		S.hung++;
		r->state = R_HANGING;
		suspend(r);
		return MHD_YES;
	}
	if (S.fail_error && (S.fail_rate >= 1 || draw() < S.fail_rate)) {
		S.failed++;
		set_function_error(r, S.fail_error, "Injected", "a function error injected by ht-lambda-local");
		return send_json(r->c, 200, r->out, r->out_len, NULL, r->func_error,
				 (r->log_result = log_result(r->id, 0, "injected failure")), r->id);
	}
	/* To the main thread. */
	r->state = R_QUEUED;
	r->refs++;
	r->next = NULL;
	if (S.intake_tail)
		S.intake_tail->next = r;
	else
		S.intake = r;
	S.intake_tail = r;
	suspend(r);
	wake();
	return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;
	enum MHD_Result ret;

	if (!r) {
		r = ht_xcalloc(1, sizeof(*r));
		r->c = c;
		r->refs = 1;
		ht_buf_init(&r->body, MAX_PAYLOAD);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_big && ht_buf_add(&r->body, upload, *upload_size) < 0) {
			r->too_big = 1;
			ht_buf_release(&r->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&S.lock);
	switch (r->state) {
	case R_READING:
		ret = route(r, url, method);
		break;
	case R_ANSWERED:
		ret = send_json(c, r->status, r->out ? r->out : "", r->out_len, NULL, r->func_error,
				r->log_result, r->id);
		break;
	default:
		/* Resumed to be dropped. */
		ret = MHD_NO;
		break;
	}
	pthread_mutex_unlock(&S.lock);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	if (!r)
		return;
	pthread_mutex_lock(&S.lock);
	req_unref(r);
	pthread_mutex_unlock(&S.lock);
	*con_cls = NULL;
}

/* --- the main thread ------------------------------------------------------------ */

/* Answers r from a completion of the local provider. Lock held. */
static void answer_completion(struct req *r, struct ht_completion *c)
{
	char msg[400];

	switch (c->status) {
	case HT_INVOKE_OK:
		r->status = 200;
		r->out = c->body;
		r->out_len = c->body_len;
		c->body = NULL;
		break;
	case HT_INVOKE_FUNC_ERROR: {
		json_t *j = json_loadb(c->body ? c->body : "", c->body_len, 0, NULL);

		if (json_is_object(j) && json_object_get(j, "errorMessage")) {
			r->status = 200;
			r->out = c->body;
			r->out_len = c->body_len;
			r->func_error = "Unhandled";
			c->body = NULL;
		} else {
			set_function_error(r, "Unhandled", "Runtime.Error", c->message);
		}
		json_decref(j);
		break;
	}
	case HT_INVOKE_TIMEOUT:
		snprintf(msg, sizeof(msg), "Task timed out after %ld.00 seconds", S.timeout_s);
		set_function_error(r, "Unhandled", "Sandbox.Timedout", msg);
		break;
	case HT_INVOKE_INFRA:
		set_function_error(r, "Unhandled", "Runtime.ExitError", c->message);
		break;
	default:
		r->status = 500;
		r->out = ht_xstrdup("{\"Type\":\"Service\",\"message\":\"the invocation was cancelled\"}");
		r->out_len = strlen(r->out);
		break;
	}
	if (r->func_error) {
		char *extra = ht_xasprintf("%.300s", c->status == HT_INVOKE_FUNC_ERROR && !*c->message ?
					   "the function failed" : c->message);

		r->log_result = log_result(r->id, c->finished_ms - (c->dispatched_ms ? c->dispatched_ms :
								     r->received_ms), extra);
		free(extra);
	} else {
		r->log_result = log_result(r->id, c->finished_ms - (c->dispatched_ms ? c->dispatched_ms :
								     r->received_ms), NULL);
	}
	answer(r);
}

/* The stand-in's answer: a passed ht.result/1 for the event. Lock held. */
static void answer_stand_in(struct req *r)
{
	json_t *ev = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
	json_t *res = json_object();
	static const char *const keys[] = { "run_id", "test_id", "name", "file", "attempt", NULL };
	int i;

	json_object_set_new(res, "schema", json_string("ht.result/1"));
	for (i = 0; keys[i]; i++)
		if (json_is_object(ev) && json_object_get(ev, keys[i]))
			json_object_set(res, keys[i], json_object_get(ev, keys[i]));
	json_object_set_new(res, "status", json_string("passed"));
	json_object_set_new(res, "ok", json_true());
	json_object_set_new(res, "duration_ms", json_integer(S.delay_ms));
	json_object_set_new(res, "exit_code", json_integer(0));
	json_object_set_new(res, "signal", json_null());
	json_object_set_new(res, "message", json_string(""));
	r->out = ht_json_xdumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
	r->out_len = strlen(r->out);
	r->status = 200;
	json_decref(res);
	json_decref(ev);
	answer(r);
}

static void drain_evfd(void)
{
	uint64_t n;
	ssize_t rr = read(S.evfd, &n, sizeof(n));

	(void)rr;
}

/*
 * Runs until a signal: hands queued invocations to the provider (or the
 * stand-in's list) and answers what finished.
 */
static int serve(const struct ht_provider_ops *ops, struct ht_provider *prov)
{
	struct req *wait_head = NULL, *wait_tail = NULL; /* stand-in, in due order */
	int code = 0;

	while (!ht_stop_signal) {
		struct req *in, *r;
		struct ht_completion comp[32];
		int n, k;

		pthread_mutex_lock(&S.lock);
		in = S.intake;
		S.intake = S.intake_tail = NULL;
		pthread_mutex_unlock(&S.lock);
		while ((r = in)) {
			in = r->next;
			r->next = NULL;
			if (S.stand_in) {
				r->due_ms = r->received_ms + S.delay_ms;
				if (wait_tail)
					wait_tail->next = r;
				else
					wait_head = r;
				wait_tail = r;
			} else if (ops->invoke(prov, r->body.data ? r->body.data : "{}",
					       r->body.data ? r->body.len : 2, (int64_t)S.timeout_s * 1000, r) < 0) {
				pthread_mutex_lock(&S.lock);
				r->status = 500;
				r->out = ht_xstrdup("{\"Type\":\"Service\",\"message\":\"the local provider refused "
						    "the invocation\"}");
				r->out_len = strlen(r->out);
				answer(r);
				pthread_mutex_unlock(&S.lock);
			}
		}
		if (S.stand_in) {
			int64_t now = ht_now_ms(), wait = 200;
			struct pollfd pfd = { S.evfd, POLLIN, 0 };

			pthread_mutex_lock(&S.lock);
			while ((r = wait_head) && r->due_ms <= now) {
				wait_head = r->next;
				if (!wait_head)
					wait_tail = NULL;
				answer_stand_in(r);
			}
			pthread_mutex_unlock(&S.lock);
			if (wait_head && wait_head->due_ms - now < wait)
				wait = wait_head->due_ms - now;
			if (poll(&pfd, 1, (int)(wait > 0 ? wait : 0)) > 0)
				drain_evfd();
			continue;
		}
		n = ops->poll(prov, comp, 32, 5);
		if (n < 0) {
			code = HT_EXIT_SOFTWARE;
			break;
		}
		pthread_mutex_lock(&S.lock);
		for (k = 0; k < n; k++) {
			answer_completion(comp[k].user, &comp[k]);
			ht_completion_release(&comp[k]);
		}
		pthread_mutex_unlock(&S.lock);
		drain_evfd();
	}
	/* The stand-in's waiting requests are dropped by drop_all(). */
	return code;
}

/*
 * Resumes every suspended connection to be closed, so the server can stop.
 * A queued request (in the intake, the stand-in's list or the closed
 * provider) also drops the main thread's reference.
 */
static void drop_all(void)
{
	struct req *r;

	pthread_mutex_lock(&S.lock);
	S.intake = S.intake_tail = NULL;
	while ((r = S.suspended)) {
		int queued = r->state == R_QUEUED;

		r->state = R_DROP;
		unsuspend(r);
		if (queued)
			req_unref(r);
	}
	pthread_mutex_unlock(&S.lock);
}

static double parse_rate(const char *opt, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || v < 0 || v > 1)
		ht_usage_error(&tool, "%s: expected a fraction from 0 to 1, got '%s'", opt, arg);
	return v;
}

static long parse_num(const char *opt, const char *arg, long min, long max)
{
	long v;

	if (ht_parse_long(arg, min, max, &v) < 0)
		ht_usage_error(&tool, "%s: expected a number from %ld to %ld, got '%s'", opt, min, max, arg);
	return v;
}

/*
 * Each invocation in flight holds a connection: raise the soft limit on
 * descriptors to the hard one, so a client with 1000+ in flight is served
 * (libmicrohttpd polls with epoll, so FD_SETSIZE does not matter). The
 * descriptors the local provider opens are bounded on their own.
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			ht_debug("cannot raise the limit on open files: %s", strerror(errno));
	}
}

enum {
	OPT_PORT_FILE = 0x2000, OPT_FUNCTION, OPT_TIMEOUT, OPT_STAND_IN, OPT_DELAY, OPT_THROTTLE_RATE,
	OPT_THROTTLE_FIRST, OPT_FAIL_ERROR, OPT_FAIL_RATE, OPT_HANG_RATE, OPT_SEED
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "port", required_argument, 0, 'p' },
		{ "port-file", required_argument, 0, OPT_PORT_FILE },
		{ "function", required_argument, 0, OPT_FUNCTION },
		{ "timeout", required_argument, 0, OPT_TIMEOUT },
		{ "concurrency", required_argument, 0, 'j' },
		{ "stand-in", no_argument, 0, OPT_STAND_IN },
		{ "delay-ms", required_argument, 0, OPT_DELAY },
		{ "throttle-rate", required_argument, 0, OPT_THROTTLE_RATE },
		{ "throttle-first", required_argument, 0, OPT_THROTTLE_FIRST },
		{ "fail-function-error", required_argument, 0, OPT_FAIL_ERROR },
		{ "fail-rate", required_argument, 0, OPT_FAIL_RATE },
		{ "hang-rate", required_argument, 0, OPT_HANG_RATE },
		{ "seed", required_argument, 0, OPT_SEED },
		{ 0, 0, 0, 0 }
	};
	struct ht_config cfg;
	struct ht_provider_opts popts = { 0, NULL, 1 }; /* as_lambda */
	const struct ht_provider_ops *ops = &ht_provider_local;
	struct ht_provider *prov = NULL;
	struct MHD_Daemon *mhd = NULL;
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	sigset_t block, old;
	const char *port_file = NULL, *function = NULL;
	long port = 0, timeout = 0, j = 0, seed = -1;
	int c, code = 0;

	ht_diag_init(argv[0]);
	S.fail_rate = 1;
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "p:j:", longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		switch (c) {
		case 'p':
			port = parse_num("--port", optarg, 0, 65535);
			break;
		case OPT_PORT_FILE:
			port_file = optarg;
			break;
		case OPT_FUNCTION:
			function = optarg;
			break;
		case OPT_TIMEOUT:
			timeout = parse_num("--timeout", optarg, 1, 900);
			break;
		case 'j':
			/* The configuration's limit: -j is concurrency. */
			j = parse_num("--concurrency", optarg, 1, ht_config_key_find("concurrency")->max);
			break;
		case OPT_STAND_IN:
			S.stand_in = 1;
			break;
		case OPT_DELAY:
			S.delay_ms = parse_num("--delay-ms", optarg, 0, 3600000);
			break;
		case OPT_THROTTLE_RATE:
			S.throttle_rate = parse_rate("--throttle-rate", optarg);
			break;
		case OPT_THROTTLE_FIRST:
			S.throttle_first = parse_num("--throttle-first", optarg, 0, 100000000);
			break;
		case OPT_FAIL_ERROR:
			if (strcmp(optarg, "Handled") && strcmp(optarg, "Unhandled"))
				ht_usage_error(&tool, "--fail-function-error: expected Handled or Unhandled, got '%s'",
					       optarg);
			S.fail_error = !strcmp(optarg, "Handled") ? "Handled" : "Unhandled";
			break;
		case OPT_FAIL_RATE:
			S.fail_rate = parse_rate("--fail-rate", optarg);
			break;
		case OPT_HANG_RATE:
			S.hang_rate = parse_rate("--hang-rate", optarg);
			break;
		case OPT_SEED:
			seed = parse_num("--seed", optarg, 0, 2147483647L);
			break;
		default:
			ht_usage_error(&tool, "unknown option");
		}
	}
	if (optind < argc)
		ht_usage_error(&tool, "too many arguments");
	ht_config_load_or_die(&cfg);
	raise_nofile();
	S.function = function ? function : ht_aws_settings(&cfg)->function;
	S.timeout_s = timeout ? timeout : cfg.timeout_s > 0 ? cfg.timeout_s : 300;
	S.rng = seed >= 0 ? (uint64_t)seed * 2654435761u + 1 : (uint64_t)ht_wall_ms() ^ ((uint64_t)getpid() << 32);
	pthread_mutex_init(&S.lock, NULL);
	S.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (S.evfd < 0) {
		ht_error("eventfd: %s", strerror(errno));
		code = HT_EXIT_OSERR;
		goto out;
	}

	ht_stop_install();
	/* Up to 4000 connections at once (MHD_OPTION_CONNECTION_LIMIT). */
	ht_nofile_raise();

	if (!S.stand_in) {
		popts.concurrency = j;
		if (ops->open(&prov, &cfg, &popts, &code) < 0)
			goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME,
			       0, NULL, NULL, handle, NULL,
			       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			       MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0,
			       MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4000,
			       MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)4096,
			       MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!mhd) {
		ht_error("cannot listen on 127.0.0.1:%ld: %s", port, strerror(errno));
		code = HT_EXIT_UNAVAILABLE;
		goto out;
	}
	info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port) {
		ht_error("cannot learn the port");
		code = HT_EXIT_SOFTWARE;
		goto out;
	}
	port = info->port;
	printf("{\"schema\":\"ht.endpoint/1\",\"url\":\"http://127.0.0.1:%ld\",\"port\":%ld}\n", port, port);
	fflush(stdout);
	if (port_file) {
		char buf[16];

		snprintf(buf, sizeof(buf), "%ld\n", port);
		if (ht_write_file_atomic(port_file, buf, strlen(buf), 0644) < 0) {
			code = HT_EXIT_IOERR;
			goto out;
		}
	}
	ht_info("Invoke API on http://127.0.0.1:%ld, function %s, timeout %ld s, %s", port,
		S.function ? S.function : "(any name)", S.timeout_s, S.stand_in ? "stand-in" : "local provider");
	code = serve(ops, prov);
	ht_info("%ld invocations: %ld throttled, %ld failed on purpose, %ld hung, %ld too large", S.invocations,
		S.throttled, S.failed, S.hung, S.too_big);
out:
	if (prov)
		ops->close(prov);
	if (mhd) {
		int64_t until = ht_now_ms() + 2000;

		drop_all();
		/* Resumed connections must be seen by the server before it stops. */
		for (;;) {
			int left;

			pthread_mutex_lock(&S.lock);
			left = S.suspended != NULL;
			pthread_mutex_unlock(&S.lock);
			if (!left || ht_now_ms() > until)
				break;
			ht_sleep_ms(2);
		}
		/* The server thread takes a resumed connection off its suspended
		 * list only when it handles it, and MHD_stop_daemon() aborts the
		 * process while any is still there: wait until the connections
		 * are gone (the clients were answered or dropped), at most until
		 * the deadline, rather than for a guessed moment. */
		for (;;) {
			const union MHD_DaemonInfo *di = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

			if (!di || di->num_connections == 0 || ht_now_ms() > until)
				break;
			ht_sleep_ms(5);
		}
		MHD_stop_daemon(mhd);
	}
	if (S.evfd >= 0)
		close(S.evfd);
	pthread_mutex_destroy(&S.lock);
	ht_config_release(&cfg);
	return ht_finish_stdout(code);
}
