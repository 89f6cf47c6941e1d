/*
 * api.c: the Lambda Runtime API the local provider serves on 127.0.0.1
 * with libmicrohttpd, one path prefix per sandbox:
 *
 *   /sb/ID/TOKEN/2018-06-01/runtime/...
 *
 * ID is the sandbox's number, TOKEN 128 random bits in hex drawn for it
 * (RAND_bytes), given only to that sandbox (in its AWS_LAMBDA_RUNTIME_API)
 * and compared in constant time on every request. Any local process can
 * connect to the port; without the token it can neither take another
 * sandbox's invocation (its payload) nor answer or fail one: a request
 * whose ID and TOKEN do not name a live sandbox is refused with 403 before
 * it changes anything, and the answer is the same whichever part is wrong.
 * See local.h for the threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ht/diag.h"
#include "providers/local/local.h"

/* One Runtime API request in progress (MHD's con_cls). */
struct local_conn {
	struct ht_buf body;
	int too_big;
	int suspended;               /* waiting in /next for work */
	int drop;                    /* resumed to be closed: the sandbox is gone */
	struct local_inv *assigned;  /* work handed over while suspended */
};

int local_api_token(char token[LOCAL_TOKEN_HEX + 1])
{
	unsigned char rnd[LOCAL_TOKEN_HEX / 2];
	size_t i;

	if (RAND_bytes(rnd, (int)sizeof(rnd)) != 1)
		return -1;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *json)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), (void *)json,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned code, const char *type, const char *msg)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "{\"errorType\":\"%s\",\"errorMessage\":\"%s\"}", type, msg);
	return reply(c, code, buf);
}

/* Sends invocation v as the answer to /next. Lock held. */
static enum MHD_Result reply_next(struct MHD_Connection *c, struct local_inv *v)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char hdr[160];
	char hex[25];
	int i;

	/* The payload stays until v finishes: a runner that dies during
	 * the test is answered for from it (sandbox.c). */
	r = MHD_create_response_from_buffer(v->len, v->payload, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Lambda-Runtime-Aws-Request-Id", v->id);
	snprintf(hdr, sizeof(hdr), "%lld", (long long)v->deadline_wall_ms);
	MHD_add_response_header(r, "Lambda-Runtime-Deadline-Ms", hdr);
	MHD_add_response_header(r, "Lambda-Runtime-Invoked-Function-Arn",
				"arn:aws:lambda:local:000000000000:function:hypertest-local");
	for (i = 0; i < 12; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)v->id[i * 3 % HT_UUID_LEN]);
	snprintf(hdr, sizeof(hdr), "Root=1-%08llx-%s;Parent=0000000000000000;Sampled=0",
		 (unsigned long long)(ht_wall_ms() / 1000), hex);
	MHD_add_response_header(r, "Lambda-Runtime-Trace-Id", hdr);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

void local_api_error_message(const char *body, size_t len, const char *prefix, char *out, size_t n)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *m = NULL, *t = NULL;

	if (json_is_object(j)) {
		m = json_string_value(json_object_get(j, "errorMessage"));
		t = json_string_value(json_object_get(j, "errorType"));
	}
	if (m)
		snprintf(out, n, "%s: %s%s%s", prefix, t ? t : "", t ? ": " : "", m);
	else
		snprintf(out, n, "%s: %.*s", prefix, (int)(len > 120 ? 120 : len), body);
	/* It ends up in a record: a cut sequence, a byte that is not UTF-8 or
	 * a newline in what the runner sent must not lose the message. */
	ht_utf8_clean(out, strlen(out), 1);
	json_decref(j);
}

int local_api_parse(const char *url, const char *method, struct local_api_req *q)
{
	static const char api[] = "/2018-06-01/runtime/";
	const char *tok, *rest;
	char *end;

	memset(q, 0, sizeof(*q));
	if (!ht_starts_with(url, "/sb/") || url[4] < '0' || url[4] > '9')
		return -1;
	q->id = strtoul(url + 4, &end, 10);
	if (*end != '/')
		return -1;
	tok = end + 1;
	if (strlen(tok) < LOCAL_TOKEN_HEX || !ht_starts_with(tok + LOCAL_TOKEN_HEX, api))
		return -1;
	q->token = tok;
	rest = tok + LOCAL_TOKEN_HEX + strlen(api);
	q->op = LOCAL_API_NOT_FOUND;
	if (!strcmp(rest, "invocation/next")) {
		q->op = strcmp(method, "GET") ? LOCAL_API_WRONG_METHOD : LOCAL_API_NEXT;
	} else if (!strcmp(rest, "init/error")) {
		q->op = LOCAL_API_INIT_ERROR;
	} else if (ht_starts_with(rest, "invocation/") && !strcmp(method, "POST")) {
		const char *rid = rest + strlen("invocation/");
		const char *slash = strchr(rid, '/');

		if (slash && (!strcmp(slash, "/response") || !strcmp(slash, "/error") || !strcmp(slash, "/test-started"))) {
			q->op = !strcmp(slash, "/error") ? LOCAL_API_ERROR :
				!strcmp(slash, "/test-started") ? LOCAL_API_TEST_STARTED : LOCAL_API_RESPONSE;
			q->rid = rid;
			q->rid_len = (size_t)(slash - rid);
		}
	}
	return 0;
}

/*
 * The live sandbox that q's ID and TOKEN name, or NULL. Every live
 * sandbox's token is compared, in constant time, so the time taken says
 * nothing about which part is wrong. Lock held.
 */
static struct local_sandbox *authorize(struct ht_provider *p, const struct local_api_req *q)
{
	struct local_sandbox *found = NULL;
	long i;

	for (i = 0; i < p->concurrency; i++) {
		struct local_sandbox *s = &p->sb[i];
		int same = CRYPTO_memcmp(s->token, q->token, LOCAL_TOKEN_HEX) == 0;

		if (s->id && s->id == q->id && same)
			found = s;
	}
	return found;
}

/* Answers one complete request q of sandbox s. Lock held. */
static enum MHD_Result route(struct ht_provider *p, struct MHD_Connection *c, struct local_conn *cn,
			     struct local_sandbox *s, const struct local_api_req *q)
{
	char msg[256];

	switch (q->op) {
	case LOCAL_API_WRONG_METHOD:
		return reply_error(c, 405, "MethodNotAllowed", "use GET");
	case LOCAL_API_NOT_FOUND:
		return reply_error(c, 404, "NotFound", "no such path");
	case LOCAL_API_NEXT: {
		struct local_inv *v;

		if (s->cur) {
			/* It asks for more work without answering the last. */
			local_finish(p, s->cur, HT_INVOKE_FUNC_ERROR,
				     "the runner asked for the next invocation without answering this one");
			s->cur = NULL;
		}
		if (s->waiting)
			return reply_error(c, 409, "Conflict", "already waiting for an invocation");
		v = local_queue_pop(p);
		if (v) {
			local_assign(s, v);
			return reply_next(c, v);
		}
		s->waiting = c;
		s->waiting_conn = cn;
		cn->suspended = 1;
		p->suspended++;
		MHD_suspend_connection(c);
		return MHD_YES;
	}
	case LOCAL_API_INIT_ERROR:
		local_api_error_message(cn->body.data ? cn->body.data : "", cn->body.len, "init error",
					s->init_error, sizeof(s->init_error));
		return reply(c, 202, "{\"status\":\"OK\"}");
	case LOCAL_API_RESPONSE:
	case LOCAL_API_ERROR:
	case LOCAL_API_TEST_STARTED:
		break;
	}
	if (!s->cur || strlen(s->cur->id) != q->rid_len || strncmp(s->cur->id, q->rid, q->rid_len))
		return reply_error(c, 400, "InvalidRequestID", "no such invocation in this sandbox");
	if (q->op == LOCAL_API_TEST_STARTED) {
		/* From now on the runner's death is the test's doing. */
		s->test_seen = 1;
		return reply(c, 202, "{\"status\":\"OK\"}");
	}
	if (cn->too_big) {
		local_finish(p, s->cur, HT_INVOKE_FUNC_ERROR, "the response is larger than 6 MB");
		s->cur = NULL;
		return reply_error(c, 413, "RequestEntityTooLarge", "response larger than 6 MB");
	}
	s->cur->body_len = cn->body.len;
	s->cur->body = ht_buf_detach(&cn->body);
	if (!s->cur->body)
		s->cur->body = ht_xstrdup("");
	if (q->op == LOCAL_API_ERROR)
		local_api_error_message(s->cur->body, s->cur->body_len, "the runner reported an error", msg,
					sizeof(msg));
	local_finish(p, s->cur, q->op == LOCAL_API_ERROR ? HT_INVOKE_FUNC_ERROR : HT_INVOKE_OK,
		     q->op == LOCAL_API_ERROR ? msg : NULL);
	s->cur = NULL;
	return reply(c, 202, "{\"status\":\"OK\"}");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct ht_provider *p = cls;
	struct local_conn *cn = *con_cls;
	struct local_sandbox *s;
	struct local_api_req q;
	enum MHD_Result ret;

	(void)version;
	if (!cn) {
		cn = ht_xcalloc(1, sizeof(*cn));
		ht_buf_init(&cn->body, LOCAL_MAX_BODY);
		*con_cls = cn;
		pthread_mutex_lock(&p->lock);
		p->requests++;
		pthread_mutex_unlock(&p->lock);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!cn->too_big && ht_buf_add(&cn->body, upload, *upload_size) < 0)
			cn->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&p->lock);
	if (cn->suspended) {
		/* Resumed: with work, or to be closed. */
		cn->suspended = 0;
		p->suspended--;
		if (cn->drop || !cn->assigned)
			ret = MHD_NO;
		else
			ret = reply_next(c, cn->assigned);
		cn->assigned = NULL;
	} else if (p->closing) {
		ret = reply_error(c, 410, "SandboxGone", "the provider is closing");
	} else if (local_api_parse(url, method, &q) < 0 || !(s = authorize(p, &q))) {
		ret = reply_error(c, 403, "AccessDenied", "no such sandbox, or not its token");
	} else {
		ret = route(p, c, cn, s, &q);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct ht_provider *p = cls;
	struct local_conn *cn = *con_cls;

	(void)c;
	(void)toe;
	if (!cn)
		return;
	/* A suspended connection whose sandbox went away (its socket closed)
	 * ends here without the handler seeing it resumed: it is no longer
	 * waiting, or local_api_stop() would wait its 2 s for it. */
	if (cn->suspended) {
		pthread_mutex_lock(&p->lock);
		cn->suspended = 0;
		p->suspended--;
		pthread_mutex_unlock(&p->lock);
	}
	ht_buf_release(&cn->body);
	free(cn);
	*con_cls = NULL;
}

/* Counts the connections opened to the server. */
static void connection_seen(void *cls, struct MHD_Connection *c, void **socket_context,
			    enum MHD_ConnectionNotificationCode toe)
{
	struct ht_provider *p = cls;

	(void)c;
	(void)socket_context;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&p->lock);
	p->connections++;
	pthread_mutex_unlock(&p->lock);
}

void local_api_give(struct local_sandbox *s, struct local_inv *v)
{
	local_assign(s, v);
	s->waiting_conn->assigned = v;
	MHD_resume_connection(s->waiting);
	s->waiting = NULL;
	s->waiting_conn = NULL;
}

void local_api_drop(struct local_sandbox *s)
{
	if (!s->waiting)
		return;
	s->waiting_conn->drop = 1;
	MHD_resume_connection(s->waiting);
	s->waiting = NULL;
	s->waiting_conn = NULL;
}

int local_api_start(struct ht_provider *p)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	sigset_t block, old;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The server's thread must not take the signals meant for the tool. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGPIPE);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	/* A runner uses one connection at a time (two while curl replaces
	 * one): a bound on the descriptors, whatever connects to the port. */
	p->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME,
				  0, NULL, NULL, handle, p,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				  MHD_OPTION_NOTIFY_COMPLETED, completed, p,
				  MHD_OPTION_NOTIFY_CONNECTION, connection_seen, p,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(4 * p->concurrency + 16),
				  MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!p->mhd)
		return ht_error("cannot start the Runtime API server on 127.0.0.1");
	info = MHD_get_daemon_info(p->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		return ht_error("cannot learn the Runtime API server's port");
	p->port = info->port;
	return 0;
}

void local_api_stop(struct ht_provider *p)
{
	int64_t start = ht_now_ms(), until = start + 2000;
	int left;

	if (!p->mhd)
		return;
	/* Resumed connections must be seen by the server before it stops. */
	for (;;) {
		pthread_mutex_lock(&p->lock);
		left = p->suspended;
		pthread_mutex_unlock(&p->lock);
		if (!left || ht_now_ms() > until)
			break;
		ht_sleep_ms(2);
	}
	ht_debug("local: Runtime API stopped after %lld ms, %d connections still suspended",
		 (long long)(ht_now_ms() - start), left);
	MHD_stop_daemon(p->mhd);
	p->mhd = NULL;
	/* Its thread is gone: the counts are final. */
	ht_debug("local: Runtime API served %lu requests on %lu connection%s; the runners' channels carried %lu messages",
		 p->requests, p->connections, p->connections == 1 ? "" : "s", p->chan_msgs);
}
