/*
 * ht-push: push an image from the local store to a registry and write an
 * ht.pushed/1 record with its digest-pinned reference. See docs/ht-push.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/ht.h"
#include "ht/config.h"
#include "providers/aws/settings.h"
#include "providers/aws/ecr.h"
#include "ht/imageref.h"
#include "ht/oci.h"
#include "ht/registry.h"

static const struct ht_tool tool = {
	"ht-push", "[OPTIONS] [[IMAGE] DESTINATION]",
	"Push an image from the local store (IMAGE: a store tag or digest, or an ht.image/1 record on stdin)\n"
	"to a registry (DESTINATION: REGISTRY/REPOSITORY[:TAG], default: the config's image.repository).",
	"  -S, --store DIR        the image store (default: the config's image.store, .hypertest/oci)\n"
	"  -t, --tag TAG          also point TAG at the pushed manifest (the destination's tag does too)\n"
	"      --mount-from REPO  mount blobs from REPO of the same registry when it has them\n"
	"      --plain-http       talk HTTP, not HTTPS, to the registry\n"
	"      --insecure         plain HTTP allowed and TLS certificates not verified\n"
	"      --ecr              log in with ECR credentials whatever the host (aws.ecr)\n"
	"      --create-repository  create a missing ECR repository (aws.create_repository)\n"
	"  -j, --jobs N           blobs pushed at once (default 4)\n"
	"      --limit-rate BYTES per-blob transfer speed limit in bytes/s (for tests)\n",
};

/* The repository to mount from: --mount-from, else where the record says
 * the image (or its base) came from, when that is the same registry. */
static const char *mount_source(json_t *rec, const char *registry)
{
	json_t *base = json_object_get(rec, "base");

	if (rec && strcmp(ht_json_str(rec, "registry", ""), registry) == 0 && ht_json_str(rec, "repository", NULL))
		return ht_json_str(rec, "repository", NULL);
	if (base && strcmp(ht_json_str(base, "registry", ""), registry) == 0 &&
	    ht_json_str(base, "repository", NULL))
		return ht_json_str(base, "repository", NULL);
	return NULL;
}

/* 1 when a reference names its registry (its first component has a '.'
 * or a ':', or is localhost), so that it cannot mean Docker Hub by
 * accident. */
static int names_registry(const char *s)
{
	size_t n;

	if (!strncmp(s, "docker://", 9))
		s += 9;
	else if (!strncmp(s, "http://", 7))
		s += 7;
	else if (!strncmp(s, "https://", 8))
		s += 8;
	n = strcspn(s, "/");
	if (!s[n])
		return 0;
	return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !strncmp(s, "localhost", 9));
}

/*
 * Opens the client of dest's registry with ECR credentials when they
 * apply (an ECR host, aws.ecr, or --ecr), after checking that the ECR
 * repository exists (or creating it). Returns 0, or -1 with *code set.
 */
static int registry_open(struct ht_registry *r, const struct ht_imageref *dest, const struct ht_config *cfg,
			 int plain_http, int insecure, int force_ecr, int create, int *code)
{
	char *user = NULL, *password = NULL;
	int ecr, rc;

	ecr = ht_ecr_registry_credentials(cfg, dest->host, force_ecr, &user, &password, code);
	if (ecr < 0)
		return -1;
	if (ecr && ht_ecr_push_check(cfg, dest->host, dest->repository, create || ht_aws_settings(cfg)->create_repository,
				     code) < 0) {
		rc = -1;
		goto out;
	}
	rc = ht_registry_init(r, dest, plain_http, insecure, user, password);
	if (rc < 0)
		*code = r->exit ? r->exit : HT_EXIT_CONFIG;
out:
	free(user);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return rc;
}

/* The image's platform, for ht-update's architecture check. */
static void add_platform(json_t *rec, const struct ht_oci_image *img)
{
	const char *arch = img->config ? ht_json_str(img->config, "architecture", NULL) : NULL;

	if (arch)
		json_object_set_new(rec, "platform", json_pack("{s:s,s:s}", "os",
							       ht_json_str(img->config, "os", "linux"),
							       "architecture", arch));
}

static const char *error_code(int code)
{
	switch (code) {
	case HT_EXIT_NOPERM: return "unauthorized";
	case HT_EXIT_NOINPUT: return "not_found";
	case HT_EXIT_TEMPFAIL:
	case HT_EXIT_UNAVAILABLE: return "unavailable";
	case HT_EXIT_PROTOCOL: return "protocol";
	default: return "failed";
	}
}

int main(int argc, char **argv)
{
	enum { OPT_PLAIN = 0x2000, OPT_INSECURE, OPT_RATE, OPT_MOUNT, OPT_ECR, OPT_CREATE };
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "store", required_argument, 0, 'S' },
		{ "tag", required_argument, 0, 't' },
		{ "jobs", required_argument, 0, 'j' },
		{ "mount-from", required_argument, 0, OPT_MOUNT },
		{ "plain-http", no_argument, 0, OPT_PLAIN },
		{ "insecure", no_argument, 0, OPT_INSECURE },
		{ "limit-rate", required_argument, 0, OPT_RATE },
		{ "ecr", no_argument, 0, OPT_ECR },
		{ "create-repository", no_argument, 0, OPT_CREATE },
		{ 0, 0, 0, 0 }
	};
	const char *store_dir = NULL, *tag = NULL, *mount = NULL, *source, *dest_str;
	struct ht_config cfg;
	char *cfg_store = NULL;
	int plain_http = 0, insecure = 0, c, code = HT_EXIT_OK, rc = -1;
	int force_ecr = 0, create_repo = 0;
	long jobs = 4, rate = 0;
	struct ht_imageref dest;
	struct ht_oci_store st = { 0 };
	struct ht_oci_image img;
	struct ht_registry r = { 0 };
	struct ht_oci_desc *descs = NULL;
	json_t *in = NULL, *rec;
	char *manifest = NULL, *pinned = NULL, *tagged = NULL, *src_copy = NULL;
	size_t mlen, i;
	int64_t t0 = ht_now_ms();

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "S:t:j:", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': store_dir = optarg; break;
		case 't': tag = optarg; break;
		case 'j':
			if (ht_parse_long(optarg, 1, 64, &jobs) < 0)
				ht_usage_error(&tool, "--jobs: expected 1 to 64, got '%s'", optarg);
			break;
		case OPT_MOUNT: mount = optarg; break;
		case OPT_PLAIN: plain_http = 1; break;
		case OPT_INSECURE: plain_http = insecure = 1; break;
		case OPT_ECR: force_ecr = 1; break;
		case OPT_CREATE: create_repo = 1; break;
		case OPT_RATE:
			if (ht_parse_long(optarg, 1, 1L << 40, &rate) < 0)
				ht_usage_error(&tool, "--limit-rate: expected a number of bytes, got '%s'", optarg);
			break;
		default:
			ht_cli_common(&tool, c, optarg);
		}
	}
	if (argc - optind > 2)
		ht_usage_error(&tool, "expected [IMAGE] DESTINATION");
	if (tag && !ht_tag_valid(tag))
		ht_usage_error(&tool, "--tag: '%s' is not a valid tag", tag);
	if (mount && !ht_repository_valid(mount))
		ht_usage_error(&tool, "--mount-from: '%s' is not a valid repository", mount);
	ht_config_load_or_die(&cfg);
	ht_imageref_init(&dest);
	ht_oci_image_init(&img);
	/* Without a config file the root is the working directory: keep the
	 * store's path relative then, as the user would write it. */
	if (store_dir)
		;
	else if (cfg.path)
		store_dir = cfg_store = ht_config_path(&cfg, cfg.image.store);
	else
		store_dir = cfg_store = ht_xstrdup(cfg.image.store ? cfg.image.store : HT_OCI_DEFAULT_DIR);
	if (argc - optind >= 1) {
		dest_str = argv[argc - 1];
	} else {
		/* The configured repository, which must name its registry:
		 * "my-tests" alone would mean Docker Hub. */
		if (!cfg.image.repository) {
			ht_config_release(&cfg);
			ht_usage_error(&tool, "expected [IMAGE] DESTINATION, or image.repository in the "
				       "configuration (HT_IMAGE_REPOSITORY, --set image.repository=...)");
		}
		dest_str = cfg.image.repository;
		if (!names_registry(dest_str)) {
			ht_config_error(&cfg, "image.repository",
					"expected REGISTRY/REPOSITORY[:TAG] with the registry's host, got '%s'",
					dest_str);
			code = HT_EXIT_CONFIG;
			goto out;
		}
	}
	if (ht_imageref_parse(&dest, dest_str, NULL) < 0) {
		if (argc - optind < 1)
			ht_config_error(&cfg, "image.repository", "not an image reference");
		code = argc - optind < 1 ? HT_EXIT_CONFIG : HT_EXIT_USAGE;
		goto out;
	}
	if (dest.kind != HT_REF_REGISTRY || dest.digest) {
		const char *why = dest.digest ? "the destination names a repository (and a tag), not a digest" :
						"the destination must be a registry reference";

		if (argc - optind >= 1)
			ht_usage_error(&tool, "%s", why);
		ht_config_error(&cfg, "image.repository", "%s", why);
		code = HT_EXIT_CONFIG;
		goto out;
	}
	if (argc - optind == 2) {
		source = argv[optind];
	} else {
		struct ht_jsonl_reader rd;
		int got;

		ht_jsonl_reader_init(&rd, stdin, "stdin", HT_RECORD_MAX);
		got = ht_jsonl_read(&rd, &in);
		ht_jsonl_reader_release(&rd);
		if (got <= 0) {
			if (got == 0)
				ht_error("stdin: expected an ht.image/1 record (or give IMAGE)");
			code = HT_EXIT_DATAERR;
			goto out;
		}
		if (ht_record_check_schema(in, "ht.image/1", "stdin:1") < 0) {
			code = HT_EXIT_DATAERR;
			goto out;
		}
		if (!ht_json_bool(in, "ok", 1)) {
			/* Pass the failure on. */
			ht_error("stdin:1: the image record is a failure; nothing to push");
			ht_record_write(stdout, in, 1);
			code = HT_EXIT_FAILED;
			goto out;
		}
		source = ht_json_str(in, "digest", NULL);
		if (!source || !ht_digest_valid(source)) {
			ht_error("stdin:1: the record has no manifest 'digest'");
			code = HT_EXIT_DATAERR;
			goto out;
		}
		if (ht_json_str(in, "store", NULL))
			store_dir = ht_json_str(in, "store", NULL);
	}
	src_copy = ht_xstrdup(source);
	if (ht_oci_open(&st, store_dir, 0) < 0) {
		code = HT_EXIT_NOINPUT;
		goto fail;
	}
	if (ht_oci_image_load(&st, source, &img) < 0) {
		code = HT_EXIT_NOINPUT;
		goto fail;
	}
	if (ht_oci_read_blob(&st, img.manifest_desc.digest, HT_REGISTRY_MANIFEST_MAX, &manifest, &mlen) < 0) {
		code = HT_EXIT_DATAERR;
		goto fail;
	}
	if (registry_open(&r, &dest, &cfg, plain_http, insecure, force_ecr, create_repo, &code) < 0)
		goto fail;
	r.parallel = (int)jobs;
	r.max_speed = rate;
	descs = ht_xcalloc(img.nlayers + 1, sizeof(*descs));
	for (i = 0; i < img.nlayers; i++)
		descs[i] = img.layers[i].desc;
	descs[img.nlayers] = img.config_desc;
	if (!mount)
		mount = mount_source(in, dest.registry);
	if (ht_registry_push_blobs(&r, dest.repository, &st, descs, img.nlayers + 1, mount) < 0 ||
	    ht_registry_put_manifest(&r, dest.repository, img.manifest_desc.digest, manifest, mlen,
				     img.manifest_desc.media_type) < 0 ||
	    (dest.tag && ht_registry_put_manifest(&r, dest.repository, dest.tag, manifest, mlen,
						  img.manifest_desc.media_type) < 0) ||
	    (tag && ht_registry_put_manifest(&r, dest.repository, tag, manifest, mlen,
					     img.manifest_desc.media_type) < 0)) {
		code = r.exit ? r.exit : HT_EXIT_SOFTWARE;
		goto fail;
	}
	rc = 0;
fail:
	rec = ht_record_new("ht.pushed/1");
	json_object_set_new(rec, "ok", rc == 0 ? json_true() : json_false());
	pinned = ht_xasprintf("%s/%s@%s", dest.registry, dest.repository,
			      img.manifest_desc.digest[0] ? img.manifest_desc.digest : "");
	if (rc == 0)
		ht_json_set_str(rec, "reference", pinned);
	ht_json_set_str(rec, "registry", dest.registry);
	ht_json_set_str(rec, "repository", dest.repository);
	if (img.manifest_desc.digest[0]) {
		ht_json_set_str(rec, "digest", img.manifest_desc.digest);
		ht_json_set_str(rec, "media_type", img.manifest_desc.media_type);
		ht_json_set_int(rec, "size", img.manifest_desc.size);
	}
	if (rc == 0 && (dest.tag || tag)) {
		json_t *tags = json_array();

		if (dest.tag)
			json_array_append_new(tags, json_string(dest.tag));
		if (tag && (!dest.tag || strcmp(tag, dest.tag) != 0))
			json_array_append_new(tags, json_string(tag));
		json_object_set_new(rec, "tags", tags);
	}
	ht_json_set_str(rec, "source", src_copy);
	add_platform(rec, &img);
	{
		json_t *b = json_object();

		ht_json_set_int(b, "total", (long long)(descs ? img.nlayers + 1 : 0));
		ht_json_set_int(b, "sent", r.blobs_sent);
		ht_json_set_int(b, "existing", r.blobs_existing);
		ht_json_set_int(b, "mounted", r.blobs_mounted);
		ht_json_set_int(b, "bytes_sent", r.bytes_sent);
		json_object_set_new(rec, "blobs", b);
	}
	if (mount)
		ht_json_set_str(rec, "mounted_from", mount);
	ht_json_set_int(rec, "duration_ms", ht_now_ms() - t0);
	if (rc < 0) {
		json_t *err = json_object();

		ht_json_set_str(err, "code", error_code(code));
		ht_json_set_str(err, "message", "the push failed; see the messages on stderr");
		json_object_set_new(rec, "error", err);
	} else {
		ht_info("pushed %s: %d blobs sent (%lld bytes), %d already there, %d mounted", pinned,
			r.blobs_sent, (long long)r.bytes_sent, r.blobs_existing, r.blobs_mounted);
	}
	ht_record_write(stdout, rec, 1);
	json_decref(rec);
out:
	free(descs);
	free(manifest);
	free(pinned);
	free(tagged);
	free(src_copy);
	json_decref(in);
	free(cfg_store);
	ht_config_release(&cfg);
	ht_registry_release(&r);
	ht_oci_image_release(&img);
	ht_oci_close(&st);
	ht_imageref_release(&dest);
	ht_ecr_cache_clear();
	return ht_finish_stdout(code);
}
