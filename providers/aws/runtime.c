/*
 * runtime.c: the Lambda Runtime API client, on ht_http_do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ht/chan.h"
#include "ht/jsonl.h"
#include "ht/diag.h"
#include "ht/http.h"
#include "ht/process.h"
#include "providers/aws/runtime.h"
#include "ht/util.h"

/* How long to keep knocking on a refused port before deciding the API is
 * gone for good: REFUSED_TRIES times, REFUSED_WAIT_MS apart. */
#define REFUSED_TRIES 10
#define REFUSED_WAIT_MS 500

int ht_runtime_init(struct ht_runtime *rt, const char *api)
{
	size_t n, host;

	memset(rt, 0, sizeof(*rt));
	rt->chan = -1;
	if (!api || !*api)
		return ht_error("AWS_LAMBDA_RUNTIME_API is not set (use --once FILE to run one test without it)");
	if (strstr(api, "://"))
		return ht_error("AWS_LAMBDA_RUNTIME_API '%s' must be HOST:PORT, without a scheme", api);
	n = strlen(api);
	while (n && api[n - 1] == '/')
		n--;
	rt->base = ht_xasprintf("http://%.*s/2018-06-01/runtime", (int)n, api);
	/* A path prefix may hold a secret (the local provider's token): not
	 * in messages, which end up in logs. */
	host = strcspn(api, "/");
	rt->shown = ht_xasprintf("http://%.*s%s/2018-06-01/runtime", (int)(host < n ? host : n), api,
				 host < n ? "/..." : "");
	return 0;
}

void ht_runtime_use_channel(struct ht_runtime *rt, int fd)
{
	rt->chan = fd;
	rt->chan_buf = ht_xmalloc(HT_CHAN_MAX);
}

/* The channel failed (why): the Runtime API from here on. */
static void channel_off(struct ht_runtime *rt, const char *why)
{
	ht_warning("the local provider's channel: %s: the Runtime API from here on", why);
	close(rt->chan);
	rt->chan = -1;
}

/*
 * The next invocation from the channel: 1 with inv filled, 0 when the
 * provider closed it (done, as a 410), 2 to ask the Runtime API.
 */
static int channel_next(struct ht_runtime *rt, struct ht_invocation *inv)
{
	struct ht_chan_msg m;
	int r;

	if (ht_chan_send(rt->chan, 'N', "", "", NULL, 0, 0) < 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			return 0; /* the provider is gone: done */
		channel_off(rt, strerror(errno));
		return 2;
	}
	do
		r = ht_chan_recv(rt->chan, rt->chan_buf, HT_CHAN_MAX, &m, 0);
	while (r < 0 && errno == EINTR && !ht_stop_signal);
	if (r < 0 && errno == EINTR)
		return 0;
	if (r == 0 || (r < 0 && errno == ECONNRESET)) {
		ht_info("the local provider closed the channel: ending");
		return 0;
	}
	if (r < 0) {
		channel_off(rt, strerror(errno));
		return 2;
	}
	if (m.type == 'H')
		return 2;
	if (m.type != 'E' || !m.id[0]) {
		channel_off(rt, "a message that is not an invocation");
		return 2;
	}
	inv->request_id = ht_xstrdup(m.id);
	{
		char *end;
		long long v = strtoll(m.meta, &end, 10);

		inv->deadline_ms = (end != m.meta && *end == '\0' && v > 0) ? v : 0;
	}
	inv->body = ht_xmalloc(m.len + 1);
	memcpy(inv->body, m.body, m.len);
	inv->body[m.len] = 0;
	inv->len = m.len;
	return 1;
}

void ht_runtime_release(struct ht_runtime *rt)
{
	if (rt->chan_buf && rt->chan >= 0)
		close(rt->chan);
	rt->chan = -1;
	free(rt->chan_buf);
	rt->chan_buf = NULL;
	ht_http_handle_free(&rt->http);
	free(rt->base);
	free(rt->shown);
	rt->base = NULL;
	rt->shown = NULL;
}

void ht_invocation_release(struct ht_invocation *inv)
{
	free(inv->request_id);
	free(inv->body);
	memset(inv, 0, sizeof(*inv));
}

int ht_runtime_next(struct ht_runtime *rt, struct ht_invocation *inv)
{
	char *url = ht_xasprintf("%s/invocation/next", rt->base);
	char *shown = ht_xasprintf("%s/invocation/next", rt->shown);
	struct ht_http_req req = { 0 };
	struct ht_http_resp resp;
	char *deadline;
	int rc = -1;

	memset(inv, 0, sizeof(*inv));
	if (rt->chan >= 0) {
		rc = channel_next(rt, inv);
		if (rc != 2) {
			free(url);
			free(shown);
			return rc;
		}
		rc = -1;
	}
	req.url = url;
	req.timeout_ms = -1;
	req.max_response = 8u * 1024 * 1024; /* Lambda's payloads are at most 6 MB */
	ht_http_resp_init(&resp);
	for (;;) {
		if (ht_http_do_on(&rt->http, &req, &resp) == 0)
			break;
		if (resp.curl_code != CURLE_COULDNT_CONNECT) {
			ht_error("GET '%s': %s", shown, resp.error);
			goto out;
		}
		if (++rt->refused >= REFUSED_TRIES) {
			ht_info("the Runtime API at '%s' refuses connections: ending", rt->shown);
			rc = 0;
			goto out;
		}
		ht_sleep_ms(REFUSED_WAIT_MS);
	}
	rt->refused = 0;
	if (resp.status == 410) {
		ht_info("the Runtime API says it is shutting down");
		rc = 0;
		goto out;
	}
	if (resp.status != 200) {
		ht_error("GET '%s': HTTP %ld", shown, resp.status);
		goto out;
	}
	inv->request_id = ht_http_header(&resp, "Lambda-Runtime-Aws-Request-Id");
	if (!inv->request_id || !*inv->request_id) {
		ht_error("GET '%s': no Lambda-Runtime-Aws-Request-Id header", shown);
		ht_invocation_release(inv);
		goto out;
	}
	deadline = ht_http_header(&resp, "Lambda-Runtime-Deadline-Ms");
	if (deadline) {
		char *end;
		long long v = strtoll(deadline, &end, 10);

		inv->deadline_ms = (end != deadline && *end == '\0' && v > 0) ? v : 0;
		free(deadline);
	}
	inv->len = resp.body.len;
	inv->body = ht_buf_detach(&resp.body);
	if (!inv->body)
		inv->body = ht_xstrdup("");
	rc = 1;
out:
	ht_http_resp_release(&resp);
	free(url);
	free(shown);
	return rc;
}

/* POSTs body to base + path; 0 on a 2xx answer. */
static int post(struct ht_runtime *rt, const char *path, const char *const *headers, const char *body, size_t len)
{
	char *url = ht_xasprintf("%s%s", rt->base, path);
	char *shown = ht_xasprintf("%s%s", rt->shown, path);
	struct ht_http_req req = { 0 };
	struct ht_http_resp resp;
	int rc = 0;

	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.body_len = len;
	req.timeout_ms = 30000;
	req.retry = &ht_http_retry_default;
	ht_http_resp_init(&resp);
	if (ht_http_do_on(&rt->http, &req, &resp) < 0)
		rc = ht_error("POST '%s': %s", shown, resp.error);
	else if (resp.status < 200 || resp.status > 299)
		rc = ht_error("POST '%s': HTTP %ld: %.200s", shown, resp.status, resp.body.data ? resp.body.data : "");
	ht_http_resp_release(&resp);
	free(url);
	free(shown);
	return rc;
}

int ht_runtime_respond(struct ht_runtime *rt, const char *request_id, const char *body, size_t len)
{
	static const char *const headers[] = { "Content-Type: application/json", NULL };
	char *path;
	int rc;

	if (rt->chan >= 0 && ht_chan_fits(request_id, "", len)) {
		if (ht_chan_send(rt->chan, 'R', request_id, "", body, len, 0) == 0)
			return 0;
		/* Too large for this system's socket buffers: this one by
		 * HTTP. Anything else: the channel is broken. */
		if (errno != EMSGSIZE && errno != ENOBUFS)
			channel_off(rt, strerror(errno));
	}
	path = ht_xasprintf("/invocation/%s/response", request_id);
	rc = post(rt, path, headers, body, len);
	free(path);
	return rc;
}

int ht_runtime_test_started(struct ht_runtime *rt, const char *request_id)
{
	char *url;
	struct ht_http_req req;
	struct ht_http_resp resp;
	int rc = 0;

	/* A full channel (the provider reads it in turns): the request. */
	if (rt->chan >= 0 && ht_chan_send(rt->chan, 'S', request_id, "", NULL, 0, MSG_DONTWAIT) == 0)
		return 0;
	url = ht_xasprintf("%s/invocation/%s/test-started", rt->base, request_id);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.body = "";
	req.body_len = 0;
	req.timeout_ms = 2000;
	ht_http_resp_init(&resp);
	if (ht_http_do_on(&rt->http, &req, &resp) < 0 || resp.status < 200 || resp.status > 299) {
		ht_debug("test-started: %s", resp.error[0] ? resp.error : "refused");
		rc = -1;
	}
	ht_http_resp_release(&resp);
	free(url);
	return rc;
}

/* Posts an error document of type and message to path. */
static int post_error(struct ht_runtime *rt, const char *path, const char *type, const char *message)
{
	json_t *doc = json_pack("{s:s,s:s}", "errorMessage", message, "errorType", type);
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	char *hdr = ht_xasprintf("Lambda-Runtime-Function-Error-Type: %s", type);
	const char *headers[] = { "Content-Type: application/json", hdr, NULL };
	int rc;

	if (!body) {
		/* message was not valid UTF-8: say so rather than lose it all */
		json_decref(doc);
		doc = json_pack("{s:s,s:s}", "errorMessage", "(the message was not valid UTF-8)", "errorType", type);
		body = ht_json_xdumps(doc, JSON_COMPACT);
	}
	rc = post(rt, path, headers, body, strlen(body));
	free(body);
	free(hdr);
	json_decref(doc);
	return rc;
}

int ht_runtime_fail(struct ht_runtime *rt, const char *request_id, const char *type, const char *message)
{
	char *path = ht_xasprintf("/invocation/%s/error", request_id);
	int rc = post_error(rt, path, type, message);

	free(path);
	return rc;
}

int ht_runtime_init_error(struct ht_runtime *rt, const char *type, const char *message)
{
	return post_error(rt, "/init/error", type, message);
}
