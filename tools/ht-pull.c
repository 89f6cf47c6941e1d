/*
 * ht-pull: fetch an image from a registry or an OCI layout into the local
 * store and write its ht.image/1 record. See docs/ht-pull.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/ht.h"
#include "ht/config.h"
#include "providers/aws/ecr.h"
#include "ht/imageref.h"
#include "ht/oci.h"
#include "ht/registry.h"

static const struct ht_tool tool = {
	"ht-pull", "[OPTIONS] [REFERENCE]",
	"Fetch an image (registry/repo:tag, @sha256:..., oci:DIR[:TAG]; default: the config's image.base)\n"
	"into the local image store.",
	"  -S, --store DIR        the image store (default: the config's image.store, .hypertest/oci)\n"
	"  -p, --platform OS/ARCH[/VARIANT]  the platform to pick from an index (default linux/amd64)\n"
	"  -t, --tag NAME         tag the image in the store as NAME (default: the reference)\n"
	"      --plain-http       talk HTTP, not HTTPS, to the registry\n"
	"      --insecure         plain HTTP allowed and TLS certificates not verified\n"
	"      --ecr              log in with ECR credentials whatever the host (aws.ecr)\n"
	"  -j, --jobs N           blobs fetched at once (default 4)\n"
	"      --limit-rate BYTES per-blob transfer speed limit in bytes/s (for tests)\n",
};

struct opts {
	const char *store;
	const char *os, *arch, *variant;
	const char *tag;
	int plain_http, insecure;
	long jobs;
	long limit_rate;
};

/* The ht.image/1 record of an image in the store. New reference. */
static json_t *image_record(const struct ht_imageref *ref, const char *refstr, struct ht_oci_store *st,
			    struct ht_oci_image *img, const char *index_digest, const char *store_tag)
{
	json_t *rec = ht_record_new("ht.image/1"), *layers = json_array(), *platform = json_object();
	json_t *cfg = img->config;
	size_t i;

	json_object_set_new(rec, "ok", json_true());
	ht_json_set_str(rec, "reference", refstr);
	if (ref->kind == HT_REF_REGISTRY) {
		ht_json_set_str(rec, "registry", ref->registry);
		ht_json_set_str(rec, "repository", ref->repository);
	} else {
		ht_json_set_str(rec, "layout", ref->dir);
	}
	if (ref->tag)
		ht_json_set_str(rec, "tag", ref->tag);
	ht_json_set_str(rec, "digest", img->manifest_desc.digest);
	ht_json_set_str(rec, "media_type", img->manifest_desc.media_type);
	ht_json_set_int(rec, "size", img->manifest_desc.size);
	if (index_digest)
		ht_json_set_str(rec, "index_digest", index_digest);
	ht_json_set_str(rec, "config_digest", img->config_desc.digest);
	ht_json_set_str(rec, "config_media_type", img->config_desc.media_type);
	ht_json_set_int(rec, "config_size", img->config_desc.size);
	ht_json_set_str(platform, "os", ht_json_str(cfg, "os", "linux"));
	ht_json_set_str(platform, "architecture", ht_json_str(cfg, "architecture", ""));
	if (ht_json_str(cfg, "variant", NULL))
		ht_json_set_str(platform, "variant", ht_json_str(cfg, "variant", NULL));
	json_object_set_new(rec, "platform", platform);
	for (i = 0; i < img->nlayers; i++) {
		json_t *l = json_object();

		ht_json_set_str(l, "digest", img->layers[i].desc.digest);
		ht_json_set_int(l, "size", img->layers[i].desc.size);
		ht_json_set_str(l, "media_type", img->layers[i].desc.media_type);
		if (img->layers[i].diff_id[0])
			ht_json_set_str(l, "diff_id", img->layers[i].diff_id);
		json_array_append_new(layers, l);
	}
	json_object_set_new(rec, "layers", layers);
	ht_json_set_str(rec, "store", st->dir);
	if (store_tag)
		ht_json_set_str(rec, "store_tag", store_tag);
	return rec;
}

/* Picks the platform's manifest from an index; 0 with *d, -1 with a message. */
static int pick(json_t *index, const struct opts *o, const char *what, struct ht_oci_desc *d)
{
	int r = ht_oci_index_pick(index, o->os, o->arch, o->variant, d);

	if (r == 0)
		ht_error("%s has no manifest for %s/%s%s%s", what, o->os, o->arch,
			 o->variant ? "/" : "", o->variant ? o->variant : "");
	return r == 1 ? 0 : -1;
}

/* The descriptors of the config and the layers of img, borrowed from it. */
static struct ht_oci_desc *blob_list(struct ht_oci_image *img, size_t *n)
{
	struct ht_oci_desc *v = ht_xcalloc(img->nlayers + 1, sizeof(*v));
	size_t i;

	v[0] = img->config_desc;
	for (i = 0; i < img->nlayers; i++)
		v[i + 1] = img->layers[i].desc;
	*n = img->nlayers + 1;
	return v;
}

/* The configuration and --ecr, for registry_open(). */
static const struct ht_config *ecr_cfg;
static int ecr_force;

/* Opens the client of ref's registry, with ECR credentials when they
 * apply (an ECR host, aws.ecr, or --ecr). Returns 0, or -1 with *code. */
static int registry_open(struct ht_registry *r, const struct ht_imageref *ref, int plain_http, int insecure,
			 int *code)
{
	char *user = NULL, *password = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if (ecr_cfg && ht_ecr_registry_credentials(ecr_cfg, ref->host, ecr_force, &user, &password, code) < 0)
		return -1;
	rc = ht_registry_init(r, ref, plain_http, insecure, user, password);
	if (rc < 0)
		*code = r->exit ? r->exit : HT_EXIT_USAGE;
	free(user);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return rc;
}

static int pull_registry(const struct ht_imageref *ref, const struct opts *o, struct ht_oci_store *st,
			 struct ht_oci_image *img, char **index_digest, int *code)
{
	struct ht_registry r;
	char *body = NULL, *mt = NULL, *what;
	size_t len, nd;
	char digest[HT_DIGEST_LEN + 1], stored[HT_DIGEST_LEN + 1];
	json_t *j = NULL;
	struct ht_oci_desc *descs = NULL;
	int rc = -1;

	if (registry_open(&r, ref, o->plain_http, o->insecure, code) < 0) {
		ht_registry_release(&r);
		return -1;
	}
	r.parallel = (int)o->jobs;
	r.max_speed = o->limit_rate;
	what = ht_imageref_format(ref);
	if (ht_registry_get_manifest(&r, ref->repository, ref->digest ? ref->digest : ref->tag, &body, &len,
				     &mt, digest) < 0)
		goto out;
	j = json_loadb(body, len, 0, NULL);
	if (json_object_get(j, "manifests")) {
		struct ht_oci_desc d;

		/* Keep the index too: its digest is what the user named. */
		if (ht_oci_put_blob(st, body, len, stored) < 0)
			goto io;
		*index_digest = ht_xstrdup(digest);
		if (pick(j, o, what, &d) < 0) {
			r.exit = HT_EXIT_NOINPUT;
			goto out;
		}
		free(body);
		free(mt);
		json_decref(j);
		body = mt = NULL;
		j = NULL;
		if (ht_registry_get_manifest(&r, ref->repository, d.digest, &body, &len, &mt, digest) < 0) {
			ht_oci_desc_release(&d);
			goto out;
		}
		ht_oci_desc_release(&d);
		j = json_loadb(body, len, 0, NULL);
	}
	if (ht_oci_manifest_parse(j, what, img) < 0) {
		r.exit = HT_EXIT_PROTOCOL;
		goto out;
	}
	free(img->manifest_desc.media_type);
	img->manifest_desc.media_type = ht_xstrdup(mt);
	memcpy(img->manifest_desc.digest, digest, sizeof(digest));
	img->manifest_desc.size = (int64_t)len;
	descs = blob_list(img, &nd);
	if (ht_registry_fetch_blobs(&r, ref->repository, st, descs, nd) < 0)
		goto out;
	if (ht_oci_put_blob(st, body, len, stored) < 0)
		goto io;
	if (ht_oci_image_load_config(st, img) < 0)
		goto io;
	ht_info("%s: %d blobs fetched (%lld bytes), %d already in the store", what, r.blobs_received,
		(long long)r.bytes_received, r.blobs_cached);
	rc = 0;
	goto out;
io:
	r.exit = HT_EXIT_IOERR;
out:
	if (rc < 0)
		*code = r.exit ? r.exit : HT_EXIT_SOFTWARE;
	json_decref(j);
	free(descs);
	free(body);
	free(mt);
	free(what);
	ht_registry_release(&r);
	return rc;
}

static int pull_layout(const struct ht_imageref *ref, const struct opts *o, struct ht_oci_store *st,
		       struct ht_oci_image *img, char **index_digest, int *code)
{
	struct ht_oci_store src = { 0 };
	struct ht_oci_desc top = { 0 }, d = { 0 };
	json_t *j = NULL;
	char *body = NULL, *what = ht_imageref_format(ref);
	size_t len, i;
	int rc = -1;

	*code = HT_EXIT_NOINPUT;
	if (ht_oci_open(&src, ref->dir, 0) < 0)
		goto out;
	if (ht_oci_resolve(&src, ref->digest ? ref->digest : ref->tag ? ref->tag : "latest", &top) < 0)
		goto out;
	*code = HT_EXIT_DATAERR;
	if (ht_oci_read_json(&src, top.digest, &j) < 0)
		goto out;
	d = top;
	memset(&top, 0, sizeof(top));
	if (json_object_get(j, "manifests")) {
		if (ht_oci_copy_blob(&src, st, d.digest, d.size) < 0)
			goto out;
		*index_digest = ht_xstrdup(d.digest);
		ht_oci_desc_release(&d);
		if (pick(j, o, what, &d) < 0) {
			*code = HT_EXIT_NOINPUT;
			goto out;
		}
		json_decref(j);
		j = NULL;
		if (ht_oci_read_json(&src, d.digest, &j) < 0)
			goto out;
	}
	if (ht_oci_manifest_parse(j, what, img) < 0)
		goto out;
	if (ht_oci_read_blob(&src, d.digest, 0, &body, &len) < 0)
		goto out;
	img->manifest_desc.size = (int64_t)len;
	memcpy(img->manifest_desc.digest, d.digest, sizeof(d.digest));
	free(img->manifest_desc.media_type);
	img->manifest_desc.media_type =
		ht_xstrdup(ht_json_str(j, "mediaType", d.media_type ? d.media_type : HT_OCI_MT_MANIFEST));
	*code = HT_EXIT_IOERR;
	if (ht_oci_copy_blob(&src, st, img->config_desc.digest, img->config_desc.size) < 0)
		goto out;
	for (i = 0; i < img->nlayers; i++)
		if (ht_oci_copy_blob(&src, st, img->layers[i].desc.digest, img->layers[i].desc.size) < 0)
			goto out;
	if (ht_oci_copy_blob(&src, st, img->manifest_desc.digest, img->manifest_desc.size) < 0)
		goto out;
	if (ht_oci_image_load_config(st, img) < 0)
		goto out;
	*code = HT_EXIT_OK;
	rc = 0;
out:
	json_decref(j);
	free(body);
	free(what);
	ht_oci_desc_release(&top);
	ht_oci_desc_release(&d);
	ht_oci_close(&src);
	return rc;
}

static void parse_platform(const char *s, struct opts *o)
{
	static char buf[256];
	char *a, *v;

	if (strlen(s) >= sizeof(buf))
		ht_usage_error(&tool, "--platform: too long");
	strcpy(buf, s);
	a = strchr(buf, '/');
	if (!a || a == buf || !a[1])
		ht_usage_error(&tool, "--platform: expected OS/ARCH[/VARIANT], got '%s'", s);
	*a++ = '\0';
	v = strchr(a, '/');
	if (v)
		*v++ = '\0';
	o->os = buf;
	o->arch = a;
	o->variant = v && *v ? v : NULL;
}

int main(int argc, char **argv)
{
	enum { OPT_PLAIN = 0x2000, OPT_INSECURE, OPT_RATE, OPT_ECR };
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "store", required_argument, 0, 'S' },
		{ "platform", required_argument, 0, 'p' },
		{ "tag", required_argument, 0, 't' },
		{ "jobs", required_argument, 0, 'j' },
		{ "plain-http", no_argument, 0, OPT_PLAIN },
		{ "insecure", no_argument, 0, OPT_INSECURE },
		{ "limit-rate", required_argument, 0, OPT_RATE },
		{ "ecr", no_argument, 0, OPT_ECR },
		{ 0, 0, 0, 0 }
	};
	struct opts o = { NULL, "linux", "amd64", NULL, NULL, 0, 0, 4, 0 };
	struct ht_config cfg;
	struct ht_imageref ref;
	struct ht_oci_store st = { 0 };
	struct ht_oci_image img;
	char *refstr = NULL, *index_digest = NULL, *store_tag = NULL, *store_dir = NULL;
	json_t *rec;
	int c, code = HT_EXIT_OK, rc;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "S:p:t:j:", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': o.store = optarg; break;
		case 'p': parse_platform(optarg, &o); break;
		case 't': o.tag = optarg; break;
		case 'j':
			if (ht_parse_long(optarg, 1, 64, &o.jobs) < 0)
				ht_usage_error(&tool, "--jobs: expected 1 to 64, got '%s'", optarg);
			break;
		case OPT_PLAIN: o.plain_http = 1; break;
		case OPT_INSECURE: o.plain_http = o.insecure = 1; break;
		case OPT_ECR: ecr_force = 1; break;
		case OPT_RATE:
			if (ht_parse_long(optarg, 1, 1L << 40, &o.limit_rate) < 0)
				ht_usage_error(&tool, "--limit-rate: expected a number of bytes, got '%s'", optarg);
			break;
		default:
			ht_cli_common(&tool, c, optarg);
		}
	}
	if (argc - optind > 1)
		ht_usage_error(&tool, "expected one image reference");
	if (o.tag && !ht_oci_tag_valid(o.tag))
		ht_usage_error(&tool, "--tag: '%s' is not a valid tag", o.tag);
	ht_config_load_or_die(&cfg);
	ecr_cfg = &cfg;
	ht_imageref_init(&ref);
	if (argc - optind == 1) {
		if (ht_imageref_parse(&ref, argv[optind], "latest") < 0) {
			ht_config_release(&cfg);
			return ht_finish_stdout(HT_EXIT_USAGE);
		}
	} else {
		/* No reference given: the configured base, whose oci: path
		 * is relative to the project root like every path there. */
		if (!cfg.image.base) {
			ht_config_release(&cfg);
			ht_usage_error(&tool, "expected an image reference, or image.base in the "
				       "configuration (HT_IMAGE_BASE, --set image.base=...)");
		}
		if (ht_imageref_parse(&ref, cfg.image.base, "latest") < 0) {
			ht_config_error(&cfg, "image.base", "not an image reference");
			ht_config_release(&cfg);
			return ht_finish_stdout(HT_EXIT_CONFIG);
		}
		if (ref.kind == HT_REF_OCI && cfg.path && ref.dir[0] != '/') {
			char *dir = ht_config_path(&cfg, ref.dir);

			free(ref.dir);
			ref.dir = dir;
		}
	}
	/* Without a config file the root is the working directory: keep the
	 * store's path relative then, as the user would write it. */
	if (o.store)
		store_dir = ht_xstrdup(o.store);
	else if (cfg.path)
		store_dir = ht_config_path(&cfg, cfg.image.store);
	else
		store_dir = ht_xstrdup(cfg.image.store ? cfg.image.store : HT_OCI_DEFAULT_DIR);
	refstr = ht_imageref_format(&ref);
	ht_oci_image_init(&img);
	if (ht_oci_open(&st, store_dir, 1) < 0) {
		code = HT_EXIT_IOERR;
		goto out;
	}
	if (ref.kind == HT_REF_OCI)
		rc = pull_layout(&ref, &o, &st, &img, &index_digest, &code);
	else
		rc = pull_registry(&ref, &o, &st, &img, &index_digest, &code);
	if (rc == 0) {
		store_tag = ht_xstrdup(o.tag ? o.tag : refstr);
		if (!ht_oci_tag_valid(store_tag)) {
			ht_warning("'%s' is too long for a tag in the store; use --tag", store_tag);
			free(store_tag);
			store_tag = NULL;
		} else if (ht_oci_tag(&st, store_tag, img.manifest_desc.digest, img.manifest_desc.media_type,
				      img.manifest_desc.size, NULL) < 0) {
			rc = -1;
			code = HT_EXIT_IOERR;
		}
	}
	if (rc == 0) {
		rec = image_record(&ref, refstr, &st, &img, index_digest, store_tag);
	} else {
		json_t *err = json_object();

		rec = ht_record_new("ht.image/1");
		json_object_set_new(rec, "ok", json_false());
		ht_json_set_str(rec, "reference", refstr);
		ht_json_set_str(err, "code", code == HT_EXIT_NOPERM ? "unauthorized" :
					     code == HT_EXIT_NOINPUT ? "not_found" :
					     code == HT_EXIT_TEMPFAIL || code == HT_EXIT_UNAVAILABLE ? "unavailable" :
					     code == HT_EXIT_PROTOCOL ? "protocol" : "failed");
		ht_json_set_str(err, "message", "the pull failed; see the messages on stderr");
		json_object_set_new(rec, "error", err);
	}
	ht_record_write(stdout, rec, 1);
	json_decref(rec);
out:
	free(refstr);
	free(store_dir);
	ht_config_release(&cfg);
	free(index_digest);
	free(store_tag);
	ht_oci_image_release(&img);
	ht_oci_close(&st);
	ht_imageref_release(&ref);
	ht_ecr_cache_clear();
	return ht_finish_stdout(code);
}
