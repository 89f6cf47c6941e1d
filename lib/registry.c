/*
 * registry.c: the OCI distribution protocol. Small requests (manifests,
 * tokens) go through ht_http_do; blob transfers run as small state
 * machines side by side on one libcurl multi handle, streaming to and from
 * the store's files.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/jsonl.h"
#include "ht/registry.h"

#define ERR_BODY_MAX (64 * 1024)
#define TOKEN_MAX (1024 * 1024)

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

static void free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void ht_registry_release(struct ht_registry *r)
{
	size_t i;

	free(r->registry);
	free(r->base_url);
	free(r->username);
	free_secret(r->password);
	free(r->realm);
	free(r->service);
	for (i = 0; i < r->ntokens; i++) {
		free(r->tokens[i].scope);
		free_secret(r->tokens[i].value);
	}
	free(r->tokens);
	memset(r, 0, sizeof(*r));
}

/* Full-jitter backoff before attempt k (from 1). */
static int64_t backoff_ms(const struct ht_http_retry *rt, int k)
{
	int64_t cap = rt->base_ms;
	int i;

	for (i = 1; i < k && cap < rt->cap_ms; i++)
		cap *= 2;
	if (cap > rt->cap_ms)
		cap = rt->cap_ms;
	if (cap <= 0)
		return 0;
	return (int64_t)((uint64_t)ht_now_ms() * 2654435761u % (uint64_t)(cap + 1));
}

/* --- authentication ----------------------------------------------------------- */

/* Reads one token68-or-quoted parameter value at *pp; new string. */
static char *param_value(const char **pp)
{
	const char *p = *pp;
	struct ht_buf b = HT_BUF_INIT;

	ht_buf_init(&b, 8192);
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (ht_buf_add(&b, p, 1) < 0)
				break;
		}
		if (*p == '"')
			p++;
	} else {
		while (*p && *p != ',' && !isspace((unsigned char)*p))
			ht_buf_add(&b, p++, 1);
	}
	*pp = p;
	if (!b.data)
		return ht_xstrdup("");
	return ht_buf_detach(&b);
}

int ht_registry_parse_challenge(const char *value, char **scheme, char **realm,
				char **service, char **scope)
{
	const char *p = value;
	size_t n;

	*scheme = *realm = *service = *scope = NULL;
	if (!p)
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	n = strcspn(p, " \t");
	if (n == 0)
		return -1;
	*scheme = strndup(p, n);
	p += n;
	for (;;) {
		const char *name;
		size_t nl;
		char *v;

		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != '=' && *p != ',' && !isspace((unsigned char)*p))
			p++;
		nl = (size_t)(p - name);
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=')
			continue;
		p++;
		while (isspace((unsigned char)*p))
			p++;
		v = param_value(&p);
		if (nl == 5 && strncasecmp(name, "realm", 5) == 0 && !*realm)
			*realm = v;
		else if (nl == 7 && strncasecmp(name, "service", 7) == 0 && !*service)
			*service = v;
		else if (nl == 5 && strncasecmp(name, "scope", 5) == 0 && !*scope)
			*scope = v;
		else
			free(v);
	}
	return 0;
}

static struct ht_registry_token *find_token(struct ht_registry *r, const char *scope)
{
	size_t i;

	for (i = 0; i < r->ntokens; i++)
		if (strcmp(r->tokens[i].scope, scope) == 0)
			return &r->tokens[i];
	return NULL;
}

/* "Basic base64(user:pass)", new; a secret. */
static char *basic_value(const struct ht_registry *r)
{
	char *plain = ht_xasprintf("%s:%s", r->username, r->password);
	size_t n = strlen(plain);
	char *out = ht_xmalloc(4 * ((n + 2) / 3) + 8);

	memcpy(out, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)out + 6, (unsigned char *)plain, (int)n);
	free_secret(plain);
	return out;
}

/* Appends url-encoded s to b. */
static void add_escaped(struct ht_buf *b, const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);

	ht_buf_addstr(b, e ? e : "");
	curl_free(e);
}

/*
 * Fetches a token for scope (space-separated scopes) from the realm and
 * caches it. Returns 0, or -1 with r->exit set.
 */
static int fetch_token(struct ht_registry *r, const char *scope)
{
	struct ht_buf url = HT_BUF_INIT;
	struct ht_http_req req = { 0 };
	struct ht_http_resp resp;
	const char *hdrs[3] = { NULL, NULL, NULL };
	char *auth = NULL, *authhdr = NULL, *copy, *tok, *save = NULL;
	json_t *j = NULL;
	const char *value;
	long long expires;
	struct ht_registry_token *t;
	int rc = -1, attempt;

	ht_buf_addstr(&url, r->realm);
	ht_buf_addstr(&url, strchr(r->realm, '?') ? "&" : "?");
	if (r->service) {
		ht_buf_addstr(&url, "service=");
		add_escaped(&url, r->service);
	}
	copy = ht_xstrdup(scope);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		ht_buf_addstr(&url, "&scope=");
		add_escaped(&url, tok);
	}
	free(copy);
	if (r->username) {
		auth = basic_value(r);
		authhdr = ht_xasprintf("Authorization: %s", auth);
		hdrs[0] = authhdr;
	}
	req.url = url.data;
	req.headers = hdrs;
	req.insecure = r->insecure;
	req.max_response = TOKEN_MAX;
	ht_http_resp_init(&resp);
	for (attempt = 1;; attempt++) {
		if (ht_http_do(&req, &resp) == 0 && !ht_http_status_retryable(resp.status))
			break;
		if (attempt >= r->retry.max_attempts) {
			if (resp.status)
				ht_error("token server '%s' answered %ld", r->realm, resp.status);
			else
				ht_error("cannot reach the token server '%s': %s", r->realm, resp.error);
			r->exit = HT_EXIT_TEMPFAIL;
			goto out;
		}
		ht_sleep_ms(backoff_ms(&r->retry, attempt));
	}
	if (resp.status == 401 || resp.status == 403) {
		ht_error("the token server '%s' refused %s (%ld)", r->realm,
			 r->username ? "the credentials" : "anonymous access", resp.status);
		r->exit = HT_EXIT_NOPERM;
		goto out;
	}
	if (resp.status != 200) {
		ht_error("token server '%s' answered %ld", r->realm, resp.status);
		r->exit = HT_EXIT_PROTOCOL;
		goto out;
	}
	j = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
	value = ht_json_str(j, "token", NULL);
	if (!value || !*value)
		value = ht_json_str(j, "access_token", NULL);
	if (!value || !*value) {
		ht_error("token server '%s' answered without a token", r->realm);
		r->exit = HT_EXIT_PROTOCOL;
		goto out;
	}
	expires = ht_json_int(j, "expires_in", 60);
	if (expires < 60)
		expires = 60; /* the spec's minimum */
	t = find_token(r, scope);
	if (!t) {
		r->tokens = ht_xrealloc(r->tokens, (r->ntokens + 1) * sizeof(*r->tokens));
		t = &r->tokens[r->ntokens++];
		t->scope = ht_xstrdup(scope);
	} else {
		free_secret(t->value);
	}
	t->value = ht_xstrdup(value);
	/* Refresh a little before the server would refuse it. */
	t->expires_ms = ht_now_ms() + expires * 1000 - 5000;
	rc = 0;
out:
	json_decref(j);
	if (resp.body.data)
		OPENSSL_cleanse(resp.body.data, resp.body.len);
	ht_http_resp_release(&resp);
	ht_buf_release(&url);
	free_secret(auth);
	free_secret(authhdr);
	return rc;
}

/*
 * The Authorization header line for a request in scope, or NULL when none
 * is to be sent. Fetches a token when a Bearer realm is known and the
 * cached one is missing or expired. New string (a secret); -1 in *err on
 * failure.
 */
static char *auth_header(struct ht_registry *r, const char *scope, int *err)
{
	struct ht_registry_token *t;
	char *v, *line;

	*err = 0;
	if (r->auth == HT_AUTH_BASIC && r->username) {
		v = basic_value(r);
		line = ht_xasprintf("Authorization: %s", v);
		free_secret(v);
		return line;
	}
	if (r->auth != HT_AUTH_BEARER)
		return NULL;
	t = find_token(r, scope);
	if (!t || ht_now_ms() >= t->expires_ms) {
		if (fetch_token(r, scope) < 0) {
			*err = -1;
			return NULL;
		}
		t = find_token(r, scope);
		if (!t) {
			*err = -1;
			return NULL;
		}
	}
	return ht_xasprintf("Authorization: Bearer %s", t->value);
}

/*
 * Learns from a 401 answer how to authenticate. sent says whether the
 * request carried credentials, refused how many times they were refused
 * for this request already. Returns 0 when the request is worth
 * repeating, -1 (with a message, r->exit) when not.
 */
static int on_unauthorized(struct ht_registry *r, const char *www, const char *scope, int sent, int refused)
{
	char *scheme, *realm, *service, *cscope;
	int rc = -1;

	if (ht_registry_parse_challenge(www, &scheme, &realm, &service, &cscope) < 0) {
		r->exit = HT_EXIT_NOPERM;
		return ht_error("'%s' refused the request (401) without a challenge", r->registry);
	}
	if (strcasecmp(scheme, "Bearer") == 0 && realm) {
		if (sent && refused > 0) {
			r->exit = HT_EXIT_NOPERM;
			ht_error("'%s' refused the token for '%s'%s", r->registry, scope,
				 r->username ? "" : " (no credentials for this registry)");
		} else {
			/* A first refusal of a token may mean it expired: get
			 * a new one. */
			free(r->realm);
			free(r->service);
			r->realm = realm;
			r->service = service;
			realm = service = NULL;
			r->auth = HT_AUTH_BEARER;
			rc = fetch_token(r, scope);
		}
	} else if (strcasecmp(scheme, "Basic") == 0) {
		if (!r->username) {
			r->exit = HT_EXIT_NOPERM;
			ht_error("'%s' wants a user name and password: log in with docker login or set DOCKER_CONFIG",
				 r->registry);
		} else if (sent) {
			r->exit = HT_EXIT_NOPERM;
			ht_error("'%s' refused the credentials of user '%s'", r->registry, r->username);
		} else {
			r->auth = HT_AUTH_BASIC;
			rc = 0;
		}
	} else {
		r->exit = HT_EXIT_NOPERM;
		ht_error("'%s' asks for authentication of an unknown kind '%s'", r->registry, scheme);
	}
	free(scheme);
	free(realm);
	free(service);
	free(cscope);
	return rc;
}

/* Sets r->exit from a status and prints what the registry said. */
static int status_error(struct ht_registry *r, const char *what, long status, const struct ht_buf *body)
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

/*
 * One small request with authentication and retries. extra is a
 * NULL-terminated list of header lines (may be NULL). The response is
 * left in resp whatever its status; returns -1 only when no answer came
 * or authentication failed.
 */
static int reg_call(struct ht_registry *r, const char *scope, const char *method, const char *url,
		    const char *const *extra, const void *body, size_t len, size_t max,
		    struct ht_http_resp *resp)
{
	const char *hdrs[16];
	struct ht_http_req req = { 0 };
	int attempt = 1, authed = 0, i, n, err;

	for (;;) {
		char *auth = auth_header(r, scope, &err);
		char *www;
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
		if (body == NULL && method && strcmp(method, "PUT") == 0)
			req.body = "";
		err = ht_http_do(&req, resp);
		free_secret(auth);
		if (err == 0 && resp->status == 401 && authed < 3) {
			www = ht_http_header(resp, "WWW-Authenticate");
			err = on_unauthorized(r, www, scope, sent, authed);
			free(www);
			if (err < 0)
				return -1;
			authed++;
			continue;
		}
		if ((err == 0 && !ht_http_status_retryable(resp->status)) ||
		    (err < 0 && !ht_http_curl_retryable(resp->curl_code)) || attempt >= r->retry.max_attempts) {
			if (err < 0) {
				r->exit = resp->curl_code == CURLE_COULDNT_CONNECT ||
					  resp->curl_code == CURLE_COULDNT_RESOLVE_HOST ? HT_EXIT_UNAVAILABLE
											: HT_EXIT_TEMPFAIL;
				return ht_error("cannot reach '%s': %s", r->registry, resp->error);
			}
			return 0;
		}
		ht_sleep_ms(backoff_ms(&r->retry, attempt));
		attempt++;
	}
}

static char *pull_scope(const char *repo)
{
	return ht_xasprintf("repository:%s:pull", repo);
}

/* --- manifests ------------------------------------------------------------ */

int ht_registry_get_manifest(struct ht_registry *r, const char *repo, const char *reference,
			     char **body, size_t *len, char **media_type,
			     char digest[HT_DIGEST_LEN + 1])
{
	const char *extra[] = { HT_REGISTRY_ACCEPT, NULL };
	char *url = ht_xasprintf("%s/v2/%s/manifests/%s", r->base_url, repo, reference);
	char *scope = pull_scope(repo);
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
		status_error(r, what, resp.status, &resp.body);
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
	if (reg_call(r, scope, "PUT", url, extra, body, len, ERR_BODY_MAX, &resp) < 0)
		goto out;
	if (resp.status != 201 && resp.status != 200) {
		status_error(r, what, resp.status, &resp.body);
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

/* --- blob transfers on the multi interface ---------------------------------- */

enum step { ST_GET, ST_HEAD, ST_MOUNT, ST_POST, ST_PATCH, ST_PUT, ST_DONE, ST_FAILED };

struct xfer {
	struct ht_registry *r;
	struct ht_oci_store *store;
	const char *repo;       /* borrowed */
	const char *scope;      /* borrowed */
	const char *mount_from; /* borrowed, may be NULL */
	const struct ht_oci_desc *desc; /* borrowed */
	enum step step;
	int attempt, authed, active, sent_auth, refused;
	int64_t not_before;
	CURL *h;
	struct curl_slist *hdrs;
	char *url;
	char *location;         /* the upload session */
	struct ht_buf headers, body;
	/* pull */
	struct ht_oci_blob_writer w;
	int writing, bad_write;
	/* push */
	FILE *fp;
};

static size_t x_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;

	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		ht_buf_reset(&x->headers);
	return ht_buf_add(&x->headers, p, size * n) < 0 ? 0 : size * n;
}

static size_t x_write(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	long status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (x->step == ST_GET && (status == 200 || status == 206)) {
		if (!x->writing) {
			/* A 200 to a Range request is the whole blob again. */
			if (status == 200 && x->w.resumed > 0 && ht_oci_blob_restart(&x->w) < 0) {
				x->bad_write = 1;
				return 0;
			}
			x->writing = 1;
		}
		if (ht_oci_blob_write(&x->w, p, size * n) < 0) {
			x->bad_write = 1;
			return 0;
		}
		x->r->bytes_received += (int64_t)(size * n);
		return size * n;
	}
	return ht_buf_add(&x->body, p, size * n) < 0 ? 0 : size * n;
}

static size_t x_read(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t got = fread(p, 1, size * n, x->fp);

	if (got == 0 && ferror(x->fp))
		return CURL_READFUNC_ABORT;
	x->r->bytes_sent += (int64_t)got;
	return got;
}

/* The header value from the last response of x, new or NULL. */
static char *x_getheader(struct xfer *x, const char *name)
{
	struct ht_http_resp tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.headers = x->headers;
	return ht_http_header(&tmp, name);
}

/* Resolves an upload Location against the request's URL: absolute,
 * host-relative and path-relative ones all happen. New string. */
static char *resolve_location(const char *base, const char *loc)
{
	CURLU *u = curl_url();
	char *out = NULL, *res = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
		res = ht_xstrdup(out);
		curl_free(out);
	}
	curl_url_cleanup(u);
	return res;
}

static void x_reset(struct xfer *x)
{
	if (x->h)
		curl_easy_cleanup(x->h);
	x->h = NULL;
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	free(x->url);
	x->url = NULL;
	if (x->fp)
		fclose(x->fp);
	x->fp = NULL;
	ht_buf_reset(&x->headers);
	ht_buf_reset(&x->body);
	x->writing = 0;
	x->bad_write = 0;
}

/* Sets up the easy handle for x's current step. */
static int x_start(struct xfer *x)
{
	struct ht_registry *r = x->r;
	char *auth, *s;
	int err;

	x_reset(x);
	x->h = curl_easy_init();
	if (!x->h)
		return ht_error("cannot start libcurl");
	auth = auth_header(r, x->scope, &err);
	if (err)
		return -1;
	x->sent_auth = auth != NULL;
	if (auth) {
		x->hdrs = curl_slist_append(x->hdrs, auth);
		free_secret(auth);
	}
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	switch (x->step) {
	case ST_GET:
		x->url = ht_xasprintf("%s/v2/%s/blobs/%s", r->base_url, x->repo, x->desc->digest);
		if (x->w.size > 0) {
			s = ht_xasprintf("Range: bytes=%lld-", (long long)x->w.size);
			x->hdrs = curl_slist_append(x->hdrs, s);
			free(s);
		}
		/* Registries redirect blobs to storage; libcurl does not send
		 * our Authorization header to another host. */
		curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(x->h, CURLOPT_MAXREDIRS, 5L);
		if (r->max_speed)
			curl_easy_setopt(x->h, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)r->max_speed);
		break;
	case ST_HEAD:
		x->url = ht_xasprintf("%s/v2/%s/blobs/%s", r->base_url, x->repo, x->desc->digest);
		curl_easy_setopt(x->h, CURLOPT_NOBODY, 1L);
		break;
	case ST_MOUNT:
	case ST_POST:
		if (x->step == ST_MOUNT)
			x->url = ht_xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", r->base_url,
					      x->repo, x->desc->digest, x->mount_from);
		else
			x->url = ht_xasprintf("%s/v2/%s/blobs/uploads/", r->base_url, x->repo);
		curl_easy_setopt(x->h, CURLOPT_POST, 1L);
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE, 0L);
		x->hdrs = curl_slist_append(x->hdrs, "Content-Type:");
		break;
	case ST_PATCH: {
		char *path = ht_oci_blob_path(x->store, x->desc->digest);

		x->url = ht_xstrdup(x->location);
		x->fp = path ? fopen(path, "rb") : NULL;
		if (!x->fp) {
			ht_error("cannot open '%s': %s", path ? path : x->desc->digest, strerror(errno));
			free(path);
			r->exit = HT_EXIT_IOERR;
			return -1;
		}
		free(path);
		curl_easy_setopt(x->h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, "PATCH");
		curl_easy_setopt(x->h, CURLOPT_READFUNCTION, x_read);
		curl_easy_setopt(x->h, CURLOPT_READDATA, x);
		curl_easy_setopt(x->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->desc->size);
		x->hdrs = curl_slist_append(x->hdrs, "Content-Type: application/octet-stream");
		if (x->desc->size > 0) {
			s = ht_xasprintf("Content-Range: 0-%lld", (long long)x->desc->size - 1);
			x->hdrs = curl_slist_append(x->hdrs, s);
			free(s);
		}
		if (r->max_speed)
			curl_easy_setopt(x->h, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)r->max_speed);
		break;
	}
	case ST_PUT: {
		char *d = curl_easy_escape(NULL, x->desc->digest, 0);

		x->url = ht_xasprintf("%s%sdigest=%s", x->location, strchr(x->location, '?') ? "&" : "?", d);
		curl_free(d);
		curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE, 0L);
		x->hdrs = curl_slist_append(x->hdrs, "Content-Type: application/octet-stream");
		break;
	}
	default:
		return ht_error("internal error: blob transfer in step %d", (int)x->step);
	}
	curl_easy_setopt(x->h, CURLOPT_URL, x->url);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	/* No overall timeout for big blobs; give up when nothing moves. */
	curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(x->h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, x_header);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, x_write);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	if (r->insecure) {
		curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return 0;
}

static const char *step_name(enum step s)
{
	static const char *const names[] = { "GET", "HEAD", "POST (mount)", "POST", "PATCH", "PUT" };

	return s <= ST_PUT ? names[s] : "?";
}

/* Marks x failed, or schedules another attempt when one is left. */
static void x_retry(struct xfer *x, const char *why)
{
	struct ht_registry *r = x->r;

	if (x->attempt >= r->retry.max_attempts) {
		ht_error("blob %s: %s %s", x->desc->digest, step_name(x->step), why);
		if (!r->exit)
			r->exit = HT_EXIT_TEMPFAIL;
		x->step = ST_FAILED;
		return;
	}
	ht_info("blob %s: %s %s; trying again", x->desc->digest, step_name(x->step), why);
	x->attempt++;
	x->not_before = ht_now_ms() + backoff_ms(&r->retry, x->attempt - 1);
	/* An upload restarts with a new session. */
	if (x->step == ST_PATCH || x->step == ST_PUT)
		x->step = ST_POST;
}

static void x_fail_status(struct xfer *x, long status)
{
	char *what = ht_xasprintf("blob %s: %s", x->desc->digest, step_name(x->step));

	status_error(x->r, what, status, &x->body);
	free(what);
	x->step = ST_FAILED;
}

/* Takes the Location of the answer as the upload session. */
static int x_take_location(struct xfer *x)
{
	char *loc = x_getheader(x, "Location");
	char *abs;

	if (!loc) {
		x->r->exit = HT_EXIT_PROTOCOL;
		return ht_error("blob %s: %s answer without a Location", x->desc->digest, step_name(x->step));
	}
	abs = resolve_location(x->url, loc);
	free(loc);
	if (!abs) {
		x->r->exit = HT_EXIT_PROTOCOL;
		return ht_error("blob %s: cannot read the upload Location", x->desc->digest);
	}
	free(x->location);
	x->location = abs;
	return 0;
}

/* Moves x on after its request ended with code and status. */
static void x_done(struct xfer *x, CURLcode code)
{
	struct ht_registry *r = x->r;
	long status = 0;
	char why[300];

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (x->step == ST_GET && x->bad_write) {
		r->exit = HT_EXIT_IOERR;
		x->step = ST_FAILED;
		return;
	}
	if (code != CURLE_OK) {
		if (x->step == ST_GET && x->writing)
			x->writing = 0; /* keep the bytes; the next GET asks for the rest */
		snprintf(why, sizeof(why), "failed: %s", curl_easy_strerror(code));
		if (!ht_http_curl_retryable(code) && code != CURLE_ABORTED_BY_CALLBACK) {
			ht_error("blob %s: %s", x->desc->digest, why);
			r->exit = code == CURLE_COULDNT_CONNECT ? HT_EXIT_UNAVAILABLE : HT_EXIT_TEMPFAIL;
			x->step = ST_FAILED;
			return;
		}
		x_retry(x, why);
		return;
	}
	if (status == 401 && x->authed < 3) {
		char *www;
		int rc = 0;

		/* Sent before another transfer learnt how to log in: again. */
		if (x->sent_auth || r->auth < HT_AUTH_BASIC) {
			www = x_getheader(x, "WWW-Authenticate");
			rc = on_unauthorized(r, www, x->scope, x->sent_auth, x->refused++);
			free(www);
		}
		x->authed++;
		if (rc < 0)
			x->step = ST_FAILED;
		return; /* the same step again, with the new token */
	}
	if (ht_http_status_retryable(status)) {
		snprintf(why, sizeof(why), "answered %ld", status);
		if (x->step == ST_GET && x->writing && ht_oci_blob_restart(&x->w) < 0) {
			x->step = ST_FAILED;
			return;
		}
		x_retry(x, why);
		return;
	}
	switch (x->step) {
	case ST_GET:
		if (status == 416 && x->w.size > 0) {
			/* Our partial file is no use to the server: start over. */
			if (ht_oci_blob_restart(&x->w) < 0)
				x->step = ST_FAILED;
			return;
		}
		if (status != 200 && status != 206) {
			x_fail_status(x, status);
			return;
		}
		if (ht_oci_blob_commit(&x->w, NULL, NULL) < 0) {
			r->exit = HT_EXIT_PROTOCOL;
			x->step = ST_FAILED;
			return;
		}
		r->blobs_received++;
		x->step = ST_DONE;
		return;
	case ST_HEAD:
		if (status == 200) {
			r->blobs_existing++;
			x->step = ST_DONE;
		} else if (status == 404) {
			x->step = x->mount_from ? ST_MOUNT : ST_POST;
		} else {
			x_fail_status(x, status);
		}
		return;
	case ST_MOUNT:
		if (status == 201) {
			r->blobs_mounted++;
			x->step = ST_DONE;
		} else if (status == 202) {
			x->step = x_take_location(x) < 0 ? ST_FAILED : ST_PATCH;
		} else {
			x->step = ST_POST;
		}
		return;
	case ST_POST:
		if (status != 202) {
			x_fail_status(x, status);
			return;
		}
		x->step = x_take_location(x) < 0 ? ST_FAILED : ST_PATCH;
		return;
	case ST_PATCH:
		if (status != 202 && status != 204) {
			x_fail_status(x, status);
			return;
		}
		/* Some registries answer a PATCH without a new Location: keep
		 * the session's. */
		{
			char *loc = x_getheader(x, "Location");

			if (loc && x_take_location(x) < 0)
				x->step = ST_FAILED;
			else
				x->step = ST_PUT;
			free(loc);
		}
		return;
	case ST_PUT:
		if (status != 201 && status != 204) {
			x_fail_status(x, status);
			return;
		}
		{
			char *got = x_getheader(x, "Docker-Content-Digest");

			if (got && strcmp(got, x->desc->digest) != 0) {
				ht_error("blob %s: the registry stored it as %s", x->desc->digest, got);
				r->exit = HT_EXIT_PROTOCOL;
				x->step = ST_FAILED;
			} else {
				r->blobs_sent++;
				x->step = ST_DONE;
			}
			free(got);
		}
		return;
	default:
		return;
	}
}

/* Runs the transfers xs[0..n) to their end, r->parallel at a time. */
static int run_xfers(struct ht_registry *r, struct xfer *xs, size_t n)
{
	CURLM *m = curl_multi_init();
	size_t i, running = 0;
	int failed = 0;

	if (!m)
		return ht_error("cannot start libcurl");
	for (;;) {
		CURLMsg *msg;
		int still, left, waiting = 0;
		int64_t now = ht_now_ms(), next = 0;

		for (i = 0; i < n && (int)running < r->parallel; i++) {
			struct xfer *x = &xs[i];

			if (x->active || x->step == ST_DONE || x->step == ST_FAILED)
				continue;
			if (x->not_before > now) {
				waiting = 1;
				if (!next || x->not_before < next)
					next = x->not_before;
				continue;
			}
			if (x_start(x) < 0) {
				if (!r->exit)
					r->exit = HT_EXIT_SOFTWARE;
				x->step = ST_FAILED;
				continue;
			}
			curl_multi_add_handle(m, x->h);
			x->active = 1;
			running++;
		}
		for (i = 0; i < n; i++)
			if (!xs[i].active && xs[i].step != ST_DONE && xs[i].step != ST_FAILED)
				waiting = 1;
		if (!running && !waiting)
			break;
		if (!running) {
			ht_sleep_ms(next > now ? next - now : 10);
			continue;
		}
		curl_multi_perform(m, &still);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct xfer *x = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			curl_multi_remove_handle(m, msg->easy_handle);
			x->active = 0;
			running--;
			x_done(x, msg->data.result);
			x_reset(x);
		}
		if (running)
			curl_multi_poll(m, NULL, 0, 200, NULL);
	}
	curl_multi_cleanup(m);
	for (i = 0; i < n; i++)
		if (xs[i].step == ST_FAILED)
			failed++;
	return failed ? -1 : 0;
}

static void xfers_release(struct xfer *xs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		x_reset(&xs[i]);
		ht_buf_release(&xs[i].headers);
		ht_buf_release(&xs[i].body);
		free(xs[i].location);
	}
	free(xs);
}

int ht_registry_fetch_blobs(struct ht_registry *r, const char *repo, struct ht_oci_store *store,
			    const struct ht_oci_desc *descs, size_t n)
{
	struct xfer *xs = ht_xcalloc(n ? n : 1, sizeof(*xs));
	char *scope = pull_scope(repo);
	size_t i, nx = 0;
	int rc, err = 0;

	for (i = 0; i < n; i++) {
		struct xfer *x = &xs[nx];
		size_t k;
		int has = ht_oci_has_blob(store, descs[i].digest, NULL);

		if (has < 0) {
			err = -1;
			r->exit = HT_EXIT_DATAERR;
			break;
		}
		for (k = 0; k < nx; k++)
			if (strcmp(xs[k].desc->digest, descs[i].digest) == 0)
				break;
		if (has || k < nx) {
			r->blobs_cached += has;
			continue;
		}
		x->r = r;
		x->store = store;
		x->repo = repo;
		x->scope = scope;
		x->desc = &descs[i];
		x->step = ST_GET;
		x->attempt = 1;
		ht_buf_init(&x->headers, ERR_BODY_MAX);
		ht_buf_init(&x->body, ERR_BODY_MAX);
		if (ht_oci_blob_resume(store, &x->w, descs[i].digest, descs[i].size) < 0) {
			err = -1;
			r->exit = HT_EXIT_IOERR;
			ht_buf_release(&x->headers);
			ht_buf_release(&x->body);
			break;
		}
		if (x->w.resumed)
			ht_info("blob %s: resuming at byte %lld", descs[i].digest, (long long)x->w.resumed);
		nx++;
	}
	rc = err ? -1 : run_xfers(r, xs, nx);
	for (i = 0; i < nx; i++)
		if (xs[i].step != ST_DONE)
			ht_oci_blob_suspend(&xs[i].w);
	xfers_release(xs, nx);
	free(scope);
	return rc;
}

int ht_registry_push_blobs(struct ht_registry *r, const char *repo, struct ht_oci_store *store,
			   const struct ht_oci_desc *descs, size_t n, const char *mount_from)
{
	struct xfer *xs = ht_xcalloc(n ? n : 1, sizeof(*xs));
	char *scope;
	size_t i, nx = 0;
	int rc = 0;

	if (mount_from && strcmp(mount_from, repo) == 0)
		mount_from = NULL;
	scope = mount_from ? ht_xasprintf("repository:%s:pull,push repository:%s:pull", repo, mount_from)
			   : ht_xasprintf("repository:%s:pull,push", repo);
	for (i = 0; i < n; i++) {
		struct xfer *x = &xs[nx];
		size_t k;
		int64_t size;
		int has = ht_oci_has_blob(store, descs[i].digest, &size);

		for (k = 0; k < nx; k++)
			if (strcmp(xs[k].desc->digest, descs[i].digest) == 0)
				break;
		if (k < nx)
			continue;
		if (has <= 0) {
			if (has == 0)
				ht_error("blob %s is not in the store '%s'", descs[i].digest, store->dir);
			r->exit = HT_EXIT_DATAERR;
			rc = -1;
			break;
		}
		if (size != descs[i].size) {
			ht_error("blob %s in the store has %lld bytes, the manifest says %lld",
				 descs[i].digest, (long long)size, (long long)descs[i].size);
			r->exit = HT_EXIT_DATAERR;
			rc = -1;
			break;
		}
		x->r = r;
		x->store = store;
		x->repo = repo;
		x->scope = scope;
		x->mount_from = mount_from;
		x->desc = &descs[i];
		x->step = ST_HEAD;
		x->attempt = 1;
		ht_buf_init(&x->headers, ERR_BODY_MAX);
		ht_buf_init(&x->body, ERR_BODY_MAX);
		nx++;
	}
	if (rc == 0)
		rc = run_xfers(r, xs, nx);
	xfers_release(xs, nx);
	free(scope);
	return rc;
}
