/*
 * registry-auth.c: how the registry client logs in: the WWW-Authenticate
 * challenge of a 401, Basic credentials, Bearer tokens fetched from the
 * realm and cached per scope. Secrets are wiped when freed and never
 * printed.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/jsonl.h"
#include "lib/registry-int.h"

#define TOKEN_MAX (1024 * 1024)

void ht_registry_free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

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

/* The longest a token is kept, whatever expires_in says: a day. */
#define TOKEN_LIFE_MAX_S 86400

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
	ht_registry_free_secret(plain);
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
	int rc = -1;

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
	req.retry = &r->retry;
	ht_http_resp_init(&resp);
	if (ht_http_do(&req, &resp) < 0) {
		ht_error("cannot reach the token server '%s': %s", r->realm, resp.error);
		r->exit = ht_registry_transport_exit(resp.curl_code);
		goto out;
	}
	if (ht_http_status_retryable(resp.status)) {
		ht_error("token server '%s' answered %ld", r->realm, resp.status);
		r->exit = HT_EXIT_TEMPFAIL;
		goto out;
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
	if (expires > TOKEN_LIFE_MAX_S)
		expires = TOKEN_LIFE_MAX_S; /* the server's word, not a reason to overflow */
	t = find_token(r, scope);
	if (!t) {
		r->tokens = ht_xrealloc(r->tokens, (r->ntokens + 1) * sizeof(*r->tokens));
		t = &r->tokens[r->ntokens++];
		t->scope = ht_xstrdup(scope);
	} else {
		ht_registry_free_secret(t->value);
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
	ht_registry_free_secret(auth);
	ht_registry_free_secret(authhdr);
	return rc;
}

char *ht_registry_auth_header(struct ht_registry *r, const char *scope, int *err)
{
	struct ht_registry_token *t;
	char *v, *line;

	*err = 0;
	if (r->auth == HT_AUTH_BASIC && r->username) {
		v = basic_value(r);
		line = ht_xasprintf("Authorization: %s", v);
		ht_registry_free_secret(v);
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

int ht_registry_unauthorized(struct ht_registry *r, const struct ht_http_resp *resp, const char *scope,
			     int sent, int refused)
{
	char *www = ht_http_header(resp, "WWW-Authenticate");
	char *scheme, *realm, *service, *cscope;
	int rc = -1;

	if (ht_registry_parse_challenge(www, &scheme, &realm, &service, &cscope) < 0) {
		free(www);
		r->exit = HT_EXIT_NOPERM;
		return ht_error("'%s' refused the request (401) without a challenge", r->registry);
	}
	free(www);
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
