/*
 * registry-blob.c: blob downloads and uploads, many at once. Each blob is
 * a small state machine whose steps are requests on one ht_http_multi
 * handle (lib/http-multi.c): downloads stream into the store through a
 * sink that resumes with Range, uploads stream from the store's files.
 * Retries and their waits are the HTTP client's; a broken upload starts
 * again with a new session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ht/diag.h"
#include "ht/exit.h"
#include "lib/registry-int.h"

enum step { ST_GET, ST_HEAD, ST_MOUNT, ST_POST, ST_PATCH, ST_PUT, ST_DONE, ST_FAILED };

/* One blob on its way. It owns its request's strings while the request
 * is out; everything else is borrowed. */
struct blob {
	struct ht_registry *r;
	struct ht_oci_store *store;
	const char *repo;       /* borrowed */
	const char *scope;      /* borrowed */
	const char *mount_from; /* borrowed, may be NULL */
	const struct ht_oci_desc *desc; /* borrowed */
	enum step step;
	int authed, refused, sent_auth, restarts;
	int64_t delay_ms;       /* before the next request (a new upload session) */
	struct ht_http_req req;
	const char *hdrs[4];
	char *auth;             /* the Authorization line: a secret */
	char *url, *path, *range;
	char *location;         /* the upload session */
	/* pull */
	struct ht_http_sink sink;
	struct ht_oci_blob_writer w;
	int bad_write;
};

/* --- the download sink: into the store, resumable ------------------------ */

static int64_t sink_offset(void *ud)
{
	struct blob *b = ud;

	return b->w.size;
}

static int sink_start(void *ud, long status)
{
	struct blob *b = ud;

	if (status == 206)
		return 1;
	if (status != 200)
		return 0;
	/* A 200 to a Range request is the whole blob again. */
	if (b->w.size > 0 && ht_oci_blob_restart(&b->w) < 0) {
		b->bad_write = 1;
		return -1;
	}
	return 1;
}

static int sink_write(void *ud, const void *p, size_t n)
{
	struct blob *b = ud;

	if (ht_oci_blob_write(&b->w, p, n) < 0) {
		b->bad_write = 1;
		return -1;
	}
	b->r->bytes_received += (int64_t)n;
	return 0;
}

/* --- one step, one request -------------------------------------------------- */

static const char *step_name(enum step s)
{
	static const char *const names[] = { "GET", "HEAD", "POST (mount)", "POST", "PATCH", "PUT" };

	return s <= ST_PUT ? names[s] : "?";
}

static void blob_clear(struct blob *b)
{
	ht_registry_free_secret(b->auth);
	free(b->url);
	free(b->path);
	free(b->range);
	b->auth = b->url = b->path = b->range = NULL;
}

/*
 * Prepares b->req for b's current step. Returns 0, or -1 with a message
 * (and r->exit when it knows better than "internal error").
 */
static int blob_request(struct blob *b)
{
	struct ht_registry *r = b->r;
	struct ht_http_req *q = &b->req;
	int err, n = 0;

	blob_clear(b);
	b->auth = ht_registry_auth_header(r, b->scope, &err);
	if (err)
		return -1;
	b->sent_auth = b->auth != NULL;
	if (b->auth)
		b->hdrs[n++] = b->auth;
	memset(q, 0, sizeof(*q));
	q->insecure = r->insecure;
	q->max_response = HT_REGISTRY_ERR_BODY_MAX;
	q->timeout_ms = -1;       /* no limit for big blobs, */
	q->stall_timeout_s = 60;  /* but for one where nothing moves */
	q->max_speed = r->max_speed;
	q->retry = &r->retry;
	switch (b->step) {
	case ST_GET:
	case ST_HEAD:
		b->url = ht_xasprintf("%s/v2/%s/blobs/%s", r->base_url, b->repo, b->desc->digest);
		if (b->step == ST_HEAD) {
			q->method = "HEAD";
			break;
		}
		/* Registries redirect blobs to storage (http and https only). */
		q->follow_redirects = 1;
		q->sink = &b->sink;
		break;
	case ST_MOUNT:
	case ST_POST:
		if (b->step == ST_MOUNT)
			b->url = ht_xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", r->base_url, b->repo,
					      b->desc->digest, b->mount_from);
		else
			b->url = ht_xasprintf("%s/v2/%s/blobs/uploads/", r->base_url, b->repo);
		q->body = "";
		b->hdrs[n++] = "Content-Type:";
		break;
	case ST_PATCH:
		/* Not retried by itself: a session that got part of the blob
		 * is no use; blob_done starts a new one. */
		b->url = ht_xstrdup(b->location);
		b->path = ht_oci_blob_path(b->store, b->desc->digest);
		if (!b->path) {
			r->exit = HT_EXIT_DATAERR;
			return ht_error("blob '%s': not a digest", b->desc->digest);
		}
		q->method = "PATCH";
		q->upload_path = b->path;
		q->retry = NULL;
		b->hdrs[n++] = "Content-Type: application/octet-stream";
		if (b->desc->size > 0)
			b->hdrs[n++] = b->range = ht_xasprintf("Content-Range: 0-%lld", (long long)b->desc->size - 1);
		break;
	case ST_PUT: {
		char *d = curl_easy_escape(NULL, b->desc->digest, 0);

		b->url = ht_xasprintf("%s%sdigest=%s", b->location, strchr(b->location, '?') ? "&" : "?", d);
		curl_free(d);
		q->method = "PUT";
		q->body = "";
		q->retry = NULL;
		b->hdrs[n++] = "Content-Type: application/octet-stream";
		break;
	}
	default:
		return ht_error("internal error: blob transfer in step %d", (int)b->step);
	}
	b->hdrs[n] = NULL;
	q->url = b->url;
	q->headers = b->hdrs;
	return 0;
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

/* Takes the Location of the answer, if any, as the upload session; with
 * need set, an answer without one is an error. */
static int take_location(struct blob *b, const struct ht_http_resp *resp, int need)
{
	char *loc = ht_http_header(resp, "Location");
	char *abs;

	if (!loc) {
		if (!need)
			return 0;
		b->r->exit = HT_EXIT_PROTOCOL;
		return ht_error("blob %s: %s answer without a Location", b->desc->digest, step_name(b->step));
	}
	abs = resolve_location(b->url, loc);
	free(loc);
	if (!abs) {
		b->r->exit = HT_EXIT_PROTOCOL;
		return ht_error("blob %s: cannot read the upload Location", b->desc->digest);
	}
	free(b->location);
	b->location = abs;
	return 0;
}

/*
 * A PATCH or PUT that failed for a reason worth retrying: a new upload
 * session after the policy's wait, while attempts are left. Returns 1
 * when b starts over, 0 when not.
 */
static int restart_upload(struct blob *b, const char *why)
{
	struct ht_registry *r = b->r;

	if (b->step != ST_PATCH && b->step != ST_PUT)
		return 0;
	if (b->restarts + 1 >= r->retry.max_attempts)
		return 0;
	ht_info("blob %s: %s %s; starting the upload again", b->desc->digest, step_name(b->step), why);
	b->delay_ms = ht_http_retry_wait_ms(&r->retry, b->restarts++);
	b->step = ST_POST;
	return 1;
}

static void fail_status(struct blob *b, const struct ht_http_resp *resp)
{
	char *what = ht_xasprintf("blob %s: %s", b->desc->digest, step_name(b->step));

	ht_registry_status_error(b->r, what, resp->status, &resp->body);
	free(what);
	b->step = ST_FAILED;
}

/* What the answer to the step means: b's next step. */
static void blob_done(struct blob *b, int rc, const struct ht_http_resp *resp)
{
	struct ht_registry *r = b->r;
	long status = resp->status;
	char why[320];

	r->bytes_sent += resp->bytes_sent;
	if (b->bad_write) {
		r->exit = HT_EXIT_IOERR;
		b->step = ST_FAILED;
		return;
	}
	if (rc < 0) {
		snprintf(why, sizeof(why), "failed: %s", resp->error);
		if (ht_http_curl_retryable(resp->curl_code) && restart_upload(b, why))
			return;
		ht_error("blob %s: %s %s", b->desc->digest, step_name(b->step), why);
		r->exit = ht_registry_transport_exit(resp->curl_code);
		b->step = ST_FAILED;
		return;
	}
	if (status == 401 && b->authed < 3) {
		/* Sent before another transfer learnt how to log in: again. */
		if ((b->sent_auth || r->auth < HT_AUTH_BASIC) &&
		    ht_registry_unauthorized(r, resp, b->scope, b->sent_auth, b->refused++) < 0)
			b->step = ST_FAILED;
		b->authed++;
		return; /* the same step again, with the new credentials */
	}
	snprintf(why, sizeof(why), "answered %ld", status);
	if (ht_http_status_retryable(status) && restart_upload(b, why))
		return;
	/* The upload session is gone (BLOB_UPLOAD_UNKNOWN: a registry that
	 * restarted forgets the sessions it had): a new one. */
	if (status == 404 && restart_upload(b, "answered 404: the upload session is gone"))
		return;
	switch (b->step) {
	case ST_GET:
		if (status == 416 && b->w.size > 0) {
			/* Our partial file is no use to the server: start over. */
			if (ht_oci_blob_restart(&b->w) < 0)
				b->step = ST_FAILED;
		} else if (status != 200 && status != 206) {
			fail_status(b, resp);
		} else if (ht_oci_blob_commit(&b->w, NULL, NULL) < 0) {
			r->exit = HT_EXIT_PROTOCOL;
			b->step = ST_FAILED;
		} else {
			r->blobs_received++;
			b->step = ST_DONE;
		}
		return;
	case ST_HEAD:
		if (status == 200) {
			r->blobs_existing++;
			b->step = ST_DONE;
		} else if (status == 404) {
			b->step = b->mount_from ? ST_MOUNT : ST_POST;
		} else {
			fail_status(b, resp);
		}
		return;
	case ST_MOUNT:
		if (status == 201) {
			r->blobs_mounted++;
			b->step = ST_DONE;
		} else if (status == 202) {
			b->step = take_location(b, resp, 1) < 0 ? ST_FAILED : ST_PATCH;
		} else {
			b->step = ST_POST;
		}
		return;
	case ST_POST:
		if (status != 202)
			fail_status(b, resp);
		else
			b->step = take_location(b, resp, 1) < 0 ? ST_FAILED : ST_PATCH;
		return;
	case ST_PATCH:
		/* Some registries answer a PATCH without a new Location: keep
		 * the session's. */
		if (status != 202 && status != 204)
			fail_status(b, resp);
		else
			b->step = take_location(b, resp, 0) < 0 ? ST_FAILED : ST_PUT;
		return;
	case ST_PUT: {
		char *got;

		if (status != 201 && status != 204) {
			fail_status(b, resp);
			return;
		}
		got = ht_http_header(resp, "Docker-Content-Digest");
		if (got && strcmp(got, b->desc->digest) != 0) {
			ht_error("blob %s: the registry stored it as %s", b->desc->digest, got);
			r->exit = HT_EXIT_PROTOCOL;
			b->step = ST_FAILED;
		} else {
			r->blobs_sent++;
			b->step = ST_DONE;
		}
		free(got);
		return;
	}
	default:
		return;
	}
}

/* Sends b's next request. Returns 0, or -1 when b failed instead. */
static int blob_send(struct ht_http_multi *m, struct blob *b)
{
	if (blob_request(b) < 0 || ht_http_multi_add_after(m, &b->req, b, b->delay_ms) < 0) {
		if (!b->r->exit)
			b->r->exit = HT_EXIT_SOFTWARE;
		b->step = ST_FAILED;
		return -1;
	}
	b->delay_ms = 0;
	return 0;
}

/*
 * Runs the blobs bs[0..n) to their end, r->parallel at a time (so that
 * what the first ones learn about logging in serves the others).
 */
static int run_blobs(struct ht_registry *r, struct blob *bs, size_t n)
{
	size_t parallel = r->parallel > 0 ? (size_t)r->parallel : 4;
	struct ht_http_multi *m = ht_http_multi_new((int)parallel);
	size_t next = 0, out = 0, i;
	int failed = 0;

	if (!m) {
		r->exit = HT_EXIT_SOFTWARE;
		return ht_error("cannot start libcurl");
	}
	for (;;) {
		struct ht_http_resp resp;
		struct blob *b;
		int rc;

		while (next < n && out < parallel)
			if (blob_send(m, &bs[next++]) == 0)
				out++;
		if (!out)
			break;
		if (ht_http_multi_run(m, -1) < 0) {
			r->exit = HT_EXIT_SOFTWARE;
			failed = 1;
			break;
		}
		while ((b = ht_http_multi_next(m, &resp, &rc))) {
			out--;
			blob_done(b, rc, &resp);
			ht_http_resp_release(&resp);
			if (b->step != ST_DONE && b->step != ST_FAILED && blob_send(m, b) == 0)
				out++;
		}
	}
	ht_http_multi_free(m);
	for (i = 0; i < n; i++)
		if (bs[i].step != ST_DONE)
			failed = 1;
	return failed ? -1 : 0;
}

static void blobs_free(struct blob *bs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		blob_clear(&bs[i]);
		free(bs[i].location);
	}
	free(bs);
}

/* 1 when the digest of d is among bs[0..n). */
static int listed(const struct blob *bs, size_t n, const struct ht_oci_desc *d)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (strcmp(bs[k].desc->digest, d->digest) == 0)
			return 1;
	return 0;
}

int ht_registry_fetch_blobs(struct ht_registry *r, const char *repo, struct ht_oci_store *store,
			    const struct ht_oci_desc *descs, size_t n)
{
	struct blob *bs = ht_xcalloc(n ? n : 1, sizeof(*bs));
	char *scope = ht_xasprintf("repository:%s:pull", repo);
	size_t i, nb = 0;
	int rc, err = 0;

	for (i = 0; i < n; i++) {
		struct blob *b = &bs[nb];
		int has = ht_oci_has_blob(store, descs[i].digest, NULL);

		if (has < 0) {
			err = -1;
			r->exit = HT_EXIT_DATAERR;
			break;
		}
		if (has || listed(bs, nb, &descs[i])) {
			r->blobs_cached += has;
			continue;
		}
		b->r = r;
		b->store = store;
		b->repo = repo;
		b->scope = scope;
		b->desc = &descs[i];
		b->step = ST_GET;
		b->sink = (struct ht_http_sink){ sink_offset, sink_start, sink_write, b };
		if (ht_oci_blob_resume(store, &b->w, descs[i].digest, descs[i].size) < 0) {
			err = -1;
			r->exit = HT_EXIT_IOERR;
			break;
		}
		if (b->w.resumed && b->w.resumed == descs[i].size) {
			/* Every byte is there: an earlier run was stopped
			 * between the last one and the rename. A Range past
			 * the end would only get a 416 (docker-registry's has
			 * a Content-Length its body does not keep). */
			if (ht_oci_blob_commit(&b->w, NULL, NULL) == 0) {
				ht_info("blob %s: complete from an earlier run", descs[i].digest);
				r->blobs_received++;
				continue;
			}
			/* Not the blob after all (the commit removed it). */
			if (ht_oci_blob_resume(store, &b->w, descs[i].digest, descs[i].size) < 0) {
				err = -1;
				r->exit = HT_EXIT_IOERR;
				break;
			}
		}
		if (b->w.resumed)
			ht_info("blob %s: resuming at byte %lld", descs[i].digest, (long long)b->w.resumed);
		nb++;
	}
	rc = err ? -1 : run_blobs(r, bs, nb);
	for (i = 0; i < nb; i++)
		if (bs[i].step != ST_DONE)
			ht_oci_blob_suspend(&bs[i].w);
	blobs_free(bs, nb);
	free(scope);
	return rc;
}

int ht_registry_push_blobs(struct ht_registry *r, const char *repo, struct ht_oci_store *store,
			   const struct ht_oci_desc *descs, size_t n, const char *mount_from)
{
	struct blob *bs = ht_xcalloc(n ? n : 1, sizeof(*bs));
	char *scope;
	size_t i, nb = 0;
	int rc = 0;

	if (mount_from && strcmp(mount_from, repo) == 0)
		mount_from = NULL;
	scope = mount_from ? ht_xasprintf("repository:%s:pull,push repository:%s:pull", repo, mount_from)
			   : ht_xasprintf("repository:%s:pull,push", repo);
	for (i = 0; i < n; i++) {
		struct blob *b = &bs[nb];
		int64_t size;
		int has = ht_oci_has_blob(store, descs[i].digest, &size);

		if (listed(bs, nb, &descs[i]))
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
		b->r = r;
		b->store = store;
		b->repo = repo;
		b->scope = scope;
		b->mount_from = mount_from;
		b->desc = &descs[i];
		b->step = ST_HEAD;
		nb++;
	}
	if (rc == 0)
		rc = run_blobs(r, bs, nb);
	blobs_free(bs, nb);
	free(scope);
	return rc;
}
