/*
 * ht-fire-standin: a loopback stand-in for Lambda's Invoke API under fire,
 * for t0851 and bench/invoke-fire.sh. It answers GetFunctionConfiguration
 * with the Timeout given as JSON text (any number, to see what the aws
 * provider makes of absurd ones), and each Invoke at once with a passed
 * ht.result/1 for its event, unless the request's draw makes it one of
 * the faults:
 *
 *   throttle  429 TooManyRequestsException
 *   error     500 ServiceException or 503 ServiceUnavailable (every other)
 *   drop      the connection closed without an answer
 *   stall     the request held --stall-ms, then the connection closed
 *
 * The draw is a hash of the seed, the event's test_id and attempt, and
 * how many Invoke requests with that test_id and attempt came before: it
 * does not depend on the order in which requests arrive, and each retry
 * of a test (by the provider or by ht-invoke) draws afresh. The rates are
 * cumulative bands of one draw, so they add up (0.30 + 0.05 + ...).
 *
 * With --log FILE, one line per Invoke: "TEST_ID ATTEMPT N FATE" (N from
 * 1), written when the request is taken. At SIGTERM or SIGINT it prints
 * the counts to stderr and exits 0.
 *
 * Threads: libmicrohttpd's, one per connection (a stall sleeps in its
 * own); the counts and the table of test ids are under `lock`.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <jansson.h>
#include <microhttpd.h>

#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/jsonl.h"
#include "ht/process.h"
#include "ht/util.h"
#include "providers/aws/invoke-api.h"

static const char usage[] =
	"usage: ht-fire-standin [--port-file FILE] [--function NAME] [--timeout JSON] [--seed N]\n"
	"                       [--throttle F] [--error F] [--drop F] [--stall F] [--stall-ms MS]\n"
	"                       [--log FILE]\n";

enum fate { F_PASS, F_THROTTLE, F_ERROR, F_DROP, F_STALL, F_N };
static const char *const fate_name[F_N] = { "pass", "throttle", "error", "drop", "stall" };

/* One request (libmicrohttpd's con_cls): its body. */
struct req {
	struct ht_buf body;
};

/* How many Invoke requests came with one test_id and attempt. */
struct seen {
	char *key;
	long n;
};

static struct {
	pthread_mutex_t lock;
	const char *function;
	const char *timeout;          /* JSON text */
	uint64_t seed;
	double band[F_N];             /* cumulative upper bounds, F_THROTTLE.. */
	long stall_ms;
	FILE *log;
	struct seen *tab;
	size_t cap, used;
	long count[F_N], other;
} S;

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* The number of key's request, from 1: counted in S.tab. Lock held. */
static long next_n(const char *key)
{
	size_t i, mask;

	if (2 * (S.used + 1) > S.cap) {
		struct seen *old = S.tab;
		size_t oc = S.cap, k;

		S.cap = oc ? 2 * oc : 4096;
		S.tab = ht_xcalloc(S.cap, sizeof(*S.tab));
		for (k = 0; k < oc; k++) {
			if (!old[k].key)
				continue;
			for (i = hash_str(old[k].key) & (S.cap - 1); S.tab[i].key; i = (i + 1) & (S.cap - 1))
				;
			S.tab[i] = old[k];
		}
		free(old);
	}
	mask = S.cap - 1;
	for (i = hash_str(key) & mask; S.tab[i].key; i = (i + 1) & mask)
		if (!strcmp(S.tab[i].key, key))
			return ++S.tab[i].n;
	S.tab[i].key = ht_xstrdup(key);
	S.used++;
	return S.tab[i].n = 1;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *body, const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (type)
		MHD_add_response_header(resp, "x-amzn-ErrorType", type);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A passed ht.result/1 for the event ev (its identity copied). */
static enum MHD_Result pass(struct MHD_Connection *c, json_t *ev)
{
	static const char *const keys[] = { "run_id", "test_id", "name", "file", "attempt", NULL };
	json_t *res = json_pack("{s:s}", "schema", "ht.result/1");
	enum MHD_Result ret;
	char *s;
	int i;

	for (i = 0; keys[i]; i++)
		if (json_object_get(ev, keys[i]))
			json_object_set(res, keys[i], json_object_get(ev, keys[i]));
	json_object_set_new(res, "status", json_string("passed"));
	json_object_set_new(res, "ok", json_true());
	json_object_set_new(res, "duration_ms", json_integer(0));
	json_object_set_new(res, "exit_code", json_integer(0));
	json_object_set_new(res, "message", json_string(""));
	s = ht_json_xdumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ret = send_text(c, 200, s, NULL);
	free(s);
	json_decref(res);
	return ret;
}

static enum MHD_Result invoke(struct MHD_Connection *c, struct req *r)
{
	json_t *ev = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
	const char *id = json_string_value(json_object_get(ev, "test_id"));
	long attempt = (long)json_integer_value(json_object_get(ev, "attempt")), n;
	enum fate f = F_PASS;
	enum MHD_Result ret;
	char *key;
	double u;
	int k;

	if (!json_is_object(ev) || !id) {
		json_decref(ev);
		return send_text(c, 400, "{\"Type\":\"User\",\"message\":\"not an event with a test_id\"}",
				 "InvalidRequestContentException");
	}
	key = ht_xasprintf("%s %ld", id, attempt);
	pthread_mutex_lock(&S.lock);
	n = next_n(key);
	u = (double)(mix(S.seed ^ mix(hash_str(key) ^ mix((uint64_t)n))) >> 11) / (double)(1ULL << 53);
	for (k = F_THROTTLE; k < F_N; k++)
		if (u < S.band[k]) {
			f = (enum fate)k;
			break;
		}
	S.count[f]++;
	if (S.log)
		fprintf(S.log, "%s %ld %s\n", key, n, fate_name[f]);
	pthread_mutex_unlock(&S.lock);
	free(key);
	switch (f) {
	case F_THROTTLE:
		ret = send_text(c, 429, "{\"Type\":\"User\",\"message\":\"Rate Exceeded.\",\"Reason\":"
				"\"ReservedFunctionConcurrentInvocationLimitExceeded\"}", "TooManyRequestsException");
		break;
	case F_ERROR:
		ret = n % 2 ? send_text(c, 500, "{\"Type\":\"Service\",\"message\":\"injected\"}", "ServiceException")
			    : send_text(c, 503, "{\"Type\":\"Service\",\"message\":\"injected\"}",
					"ServiceUnavailableException");
		break;
	case F_STALL: {
		int64_t until = ht_now_ms() + S.stall_ms;

		while (!ht_stop_signal && ht_now_ms() < until)
			ht_sleep_ms(20);
		ret = MHD_NO;
		break;
	}
	case F_DROP:
		ret = MHD_NO;
		break;
	default:
		ret = pass(c, ev);
	}
	json_decref(ev);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;
	struct ht_lambda_req q;
	char *s;
	enum MHD_Result ret;

	if (!r) {
		r = ht_xcalloc(1, sizeof(*r));
		ht_buf_init(&r->body, 6u * 1024 * 1024);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (ht_buf_add(&r->body, upload, *upload_size) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	switch (ht_lambda_parse_request(url, method, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
										     "X-Amz-Invocation-Type"),
					S.function, &q)) {
	case HT_LAMBDA_GET_CONFIG:
		s = ht_xasprintf("{\"FunctionName\":\"%s\",\"Timeout\":%s,\"State\":\"Active\","
				 "\"PackageType\":\"Image\"}", q.name, S.timeout);
		ret = send_text(c, 200, s, NULL);
		free(s);
		return ret;
	case HT_LAMBDA_INVOKE:
		return invoke(c, r);
	case HT_LAMBDA_NO_FUNCTION:
		return send_text(c, 404, "{\"Type\":\"User\",\"message\":\"Function not found\"}",
				 "ResourceNotFoundException");
	default:
		pthread_mutex_lock(&S.lock);
		S.other++;
		pthread_mutex_unlock(&S.lock);
		return send_text(c, 404, "{\"Type\":\"User\",\"message\":\"no such operation\"}",
				 "UnknownOperationException");
	}
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	if (!r)
		return;
	ht_buf_release(&r->body);
	free(r);
	*con_cls = NULL;
}

static double rate(const char *opt, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || v < 0 || v > 1)
		ht_die(HT_EXIT_USAGE, "%s: expected a fraction from 0 to 1, got '%s'", opt, arg);
	return v;
}

static long num(const char *opt, const char *arg, long max)
{
	long v;

	if (ht_parse_long(arg, 0, max, &v) < 0)
		ht_die(HT_EXIT_USAGE, "%s: expected a number from 0 to %ld, got '%s'", opt, max, arg);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port-file", required_argument, 0, 'P' }, { "function", required_argument, 0, 'f' },
		{ "timeout", required_argument, 0, 't' }, { "seed", required_argument, 0, 's' },
		{ "throttle", required_argument, 0, 'T' }, { "error", required_argument, 0, 'E' },
		{ "drop", required_argument, 0, 'D' }, { "stall", required_argument, 0, 'S' },
		{ "stall-ms", required_argument, 0, 'M' }, { "log", required_argument, 0, 'L' },
		{ 0, 0, 0, 0 }
	};
	double r[F_N] = { 0 };
	const char *port_file = NULL, *log_path = NULL;
	struct MHD_Daemon *mhd;
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	sigset_t block, old;
	char buf[32];
	int c, k;

	ht_diag_init(argv[0]);
	S.timeout = "1";
	S.stall_ms = 2000;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'P': port_file = optarg; break;
		case 'f': S.function = optarg; break;
		case 't': S.timeout = optarg; break;
		case 's': S.seed = mix((uint64_t)num("--seed", optarg, 2147483647L)); break;
		case 'T': r[F_THROTTLE] = rate("--throttle", optarg); break;
		case 'E': r[F_ERROR] = rate("--error", optarg); break;
		case 'D': r[F_DROP] = rate("--drop", optarg); break;
		case 'S': r[F_STALL] = rate("--stall", optarg); break;
		case 'M': S.stall_ms = num("--stall-ms", optarg, 3600000); break;
		case 'L': log_path = optarg; break;
		default: fputs(usage, stderr); return HT_EXIT_USAGE;
		}
	}
	if (optind < argc || !port_file) {
		fputs(usage, stderr);
		return HT_EXIT_USAGE;
	}
	for (k = F_THROTTLE; k < F_N; k++)
		S.band[k] = S.band[k - 1] + r[k];
	if (S.band[F_N - 1] > 1)
		ht_die(HT_EXIT_USAGE, "the rates add up to more than 1");
	if (log_path && !(S.log = fopen(log_path, "w")))
		ht_die(HT_EXIT_CANTCREAT, "'%s': %s", log_path, strerror(errno));
	pthread_mutex_init(&S.lock, NULL);
	ht_stop_install();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* libmicrohttpd's threads take no signal: the main thread waits for it. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO,
			       0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			       MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0,
			       MHD_OPTION_CONNECTION_LIMIT, (unsigned int)2000,
			       MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!mhd)
		ht_die(HT_EXIT_UNAVAILABLE, "cannot listen on 127.0.0.1: %s", strerror(errno));
	info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		ht_die(HT_EXIT_SOFTWARE, "cannot learn the port");
	snprintf(buf, sizeof(buf), "%u\n", (unsigned)info->port);
	if (ht_write_file_atomic(port_file, buf, strlen(buf), 0644) < 0)
		return HT_EXIT_IOERR;
	while (!ht_stop_signal)
		pause();
	MHD_stop_daemon(mhd);
	if (S.log)
		fclose(S.log);
	fprintf(stderr, "ht-fire-standin: %ld invocations: %ld passed, %ld throttled, %ld errors, %ld dropped, "
		"%ld stalled; %ld other requests\n", S.count[F_PASS] + S.count[F_THROTTLE] + S.count[F_ERROR] +
		S.count[F_DROP] + S.count[F_STALL], S.count[F_PASS], S.count[F_THROTTLE], S.count[F_ERROR],
		S.count[F_DROP], S.count[F_STALL], S.other);
	for (k = 0; k < (int)S.cap; k++)
		free(S.tab[k].key);
	free(S.tab);
	pthread_mutex_destroy(&S.lock);
	return 0;
}
