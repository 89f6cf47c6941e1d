/*
 * registry.c: the OCI distribution protocol: the client's set up, its
 * errors, and manifests (one request at a time on ht_http_do). Logging in
 * is registry-auth.c; blobs, many at once, registry-blob.c. All of it runs
 * on the one HTTP client of lib/http.c and its retry policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/jsonl.h"
#include "lib/registry-int.h"

/* --- set up ---------------------------------------------------------------- */

int ht_registry_init(struct ht_registry *r, const struct ht_imageref *ref, int plain_http,
		     int insecure, const char *username, const char *password)
{
	int http;

	memset(r, 0, sizeof(*r));
	r->parallel = 4;
	r->retry = ht_http_retry_default;
	r->exit = HT_EXIT_OK;
	if (ref->kind != HT_REF_REGISTRY)
		return ht_error("'%s' is not a registry reference", ref->dir ? ref->dir : "");
	r->registry = ht_xstrdup(ref->registry);
	if (ref->scheme == HT_SCHEME_HTTP)
		http = 1;
	else if (ref->scheme == HT_SCHEME_HTTPS)
		http = 0;
	else
		http = plain_http || ht_host_is_loopback(ref->host);
	r->base_url = ht_xasprintf("%s://%s", http ? "http" : "https", ref->host);
	r->insecure = insecure;
	if (username) {
		r->username = ht_xstrdup(username);
		r->password = ht_xstrdup(password ? password : "");
	} else if (ht_dockercfg_lookup(ref->registry, &r->username, &r->password) < 0) {
		r->exit = HT_EXIT_CONFIG;
		return -1;
	}
	return 0;
}

void ht_registry_release(struct ht_registry *r)
{
	size_t i;

	free(r->registry);
	free(r->base_url);
	free(r->username);
	ht_registry_free_secret(r->password);
	free(r->realm);
	free(r->service);
	for (i = 0; i < r->ntokens; i++) {
		free(r->tokens[i].scope);
		ht_registry_free_secret(r->tokens[i].value);
	}
	free(r->tokens);
	memset(r, 0, sizeof(*r));
}

int ht_registry_status_error(struct ht_registry *r, const char *what, long status, const struct ht_buf *body)
{
	const char *msg = NULL;
	json_t *j = NULL;

	if (body && body->len)
		j = json_loadb(body->data, body->len, 0, NULL);
	if (j)
		msg = ht_json_str(json_array_get(json_object_get(j, "errors"), 0), "message", NULL);
	if (status == 401 || status == 403)
		r->exit = HT_EXIT_NOPERM;
	else if (status == 404)
		r->exit = HT_EXIT_NOINPUT;
	else if (status >= 500 || status == 408 || status == 429)
		r->exit = HT_EXIT_TEMPFAIL;
	else
		r->exit = HT_EXIT_PROTOCOL;
	ht_error("%s: '%s' answered %ld%s%s", what, r->registry, status, msg ? ": " : "", msg ? msg : "");
	json_decref(j);
	return -1;
}

int ht_registry_transport_exit(int curl_code)
{
	switch (curl_code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return HT_EXIT_UNAVAILABLE;
	case CURLE_UNSUPPORTED_PROTOCOL: /* a redirect to ftp:// and the like */
		return HT_EXIT_PROTOCOL;
	case CURLE_READ_ERROR:
	case CURLE_WRITE_ERROR:
		return HT_EXIT_IOERR;
	default:
		return HT_EXIT_TEMPFAIL;
	}
}

/*
 * One small request with authentication, retried per r->retry. extra is
 * a NULL-terminated list of header lines (may be NULL). The response is
 * left in resp whatever its status; returns -1 only when no answer came
 * or authentication failed.
 */
static int reg_call(struct ht_registry *r, const char *scope, const char *method, const char *url,
		    const char *const *extra, const void *body, size_t len, size_t max,
		    struct ht_http_resp *resp)
{
	const char *hdrs[16];
	struct ht_http_req req;
	int authed = 0, i, n, err;

	for (;;) {
		char *auth = ht_registry_auth_header(r, scope, &err);
		int sent = auth != NULL;

		if (err)
			return -1;
		n = 0;
		if (auth)
			hdrs[n++] = auth;
		for (i = 0; extra && extra[i] && n < 15; i++)
			hdrs[n++] = extra[i];
		hdrs[n] = NULL;
		memset(&req, 0, sizeof(req));
		req.method = method;
		req.url = url;
		req.headers = hdrs;
		req.body = body;
		req.body_len = len;
		req.insecure = r->insecure;
		req.max_response = max;
		req.retry = &r->retry;
		if (body == NULL && method && strcmp(method, "PUT") == 0)
			req.body = "";
		err = ht_http_do(&req, resp);
		ht_registry_free_secret(auth);
		if (err < 0) {
			r->exit = ht_registry_transport_exit(resp->curl_code);
			return ht_error("cannot reach '%s': %s", r->registry, resp->error);
		}
		if (resp->status != 401 || authed >= 3)
			return 0;
		if (ht_registry_unauthorized(r, resp, scope, sent, authed++) < 0)
			return -1;
	}
}

/* --- manifests ------------------------------------------------------------ */

int ht_registry_get_manifest(struct ht_registry *r, const char *repo, const char *reference,
			     char **body, size_t *len, char **media_type,
			     char digest[HT_DIGEST_LEN + 1])
{
	const char *extra[] = { HT_REGISTRY_ACCEPT, NULL };
	char *url = ht_xasprintf("%s/v2/%s/manifests/%s", r->base_url, repo, reference);
	char *scope = ht_xasprintf("repository:%s:pull", repo);
	char *what = ht_xasprintf("manifest '%s/%s:%s'", r->registry, repo, reference);
	struct ht_http_resp resp;
	char *ct = NULL, *semi;
	int rc = -1;

	*body = NULL;
	*media_type = NULL;
	ht_http_resp_init(&resp);
	if (reg_call(r, scope, "GET", url, extra, NULL, 0, HT_REGISTRY_MANIFEST_MAX, &resp) < 0)
		goto out;
	if (resp.status != 200) {
		ht_registry_status_error(r, what, resp.status, &resp.body);
		goto out;
	}
	ht_sha256_digest(resp.body.data ? resp.body.data : "", resp.body.len, digest);
	if (ht_starts_with(reference, "sha256:") && strcmp(reference, digest) != 0) {
		r->exit = HT_EXIT_PROTOCOL;
		ht_error("%s: the registry sent content that hashes to %s", what, digest);
		goto out;
	}
	ct = ht_http_header(&resp, "Content-Type");
	json_t *j = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
	const char *mt = ht_json_str(j, "mediaType", NULL);
	/* The mediaType inside the document wins over a generic Content-Type. */
	if (mt && *mt) {
		*media_type = ht_xstrdup(mt);
	} else if (ct) {
		semi = strchr(ct, ';');
		if (semi)
			*semi = '\0';
		*media_type = ht_xstrdup(ct);
	}
	if (!j) {
		r->exit = HT_EXIT_PROTOCOL;
		ht_error("%s: not JSON", what);
		free(*media_type);
		*media_type = NULL;
		goto out;
	}
	json_decref(j);
	if (!*media_type)
		*media_type = ht_xstrdup(HT_OCI_MT_MANIFEST);
	*len = resp.body.len;
	*body = ht_buf_detach(&resp.body);
	rc = 0;
out:
	free(ct);
	free(url);
	free(scope);
	free(what);
	ht_http_resp_release(&resp);
	return rc;
}

int ht_registry_put_manifest(struct ht_registry *r, const char *repo, const char *reference,
			     const char *body, size_t len, const char *media_type)
{
	char *ctype = ht_xasprintf("Content-Type: %s", media_type);
	const char *extra[] = { ctype, NULL };
	char *url = ht_xasprintf("%s/v2/%s/manifests/%s", r->base_url, repo, reference);
	char *scope = ht_xasprintf("repository:%s:pull,push", repo);
	char *what = ht_xasprintf("pushing manifest '%s/%s:%s'", r->registry, repo, reference);
	char digest[HT_DIGEST_LEN + 1];
	struct ht_http_resp resp;
	char *got = NULL;
	int rc = -1;

	ht_http_resp_init(&resp);
	if (reg_call(r, scope, "PUT", url, extra, body, len, HT_REGISTRY_ERR_BODY_MAX, &resp) < 0)
		goto out;
	if (resp.status != 201 && resp.status != 200) {
		ht_registry_status_error(r, what, resp.status, &resp.body);
		goto out;
	}
	ht_sha256_digest(body, len, digest);
	got = ht_http_header(&resp, "Docker-Content-Digest");
	if (got && strcmp(got, digest) != 0) {
		r->exit = HT_EXIT_PROTOCOL;
		ht_error("%s: the registry says its digest is %s, not %s", what, got, digest);
		goto out;
	}
	rc = 0;
out:
	free(got);
	free(ctype);
	free(url);
	free(scope);
	free(what);
	ht_http_resp_release(&resp);
	return rc;
}

