/*
 * ht-build: base image + ht-runner + the project -> a new image in the OCI
 * store, without a container daemon. See docs/ht-build.md.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/ignore.h"
#include "ht/imageref.h"
#include "ht/layer.h"
#include "ht/manifest.h"
#include "ht/oci.h"

#define TASK_ROOT "/var/task"
#define RUNNER_DIR "opt/hypertest"
#define CA_BUNDLE "/opt/hypertest/etc/ssl/ca-certificates.crt"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_MAX_SIZE (10LL * 1024 * 1024 * 1024)

static const struct ht_tool tool = {
	"ht-build", "[OPTIONS] [--base FILE | --base-ref NAME | --scratch]",
	"Build the test image (base + ht-runner + the project) into the OCI store.",
	"  -b, --base FILE        read the base ht.image/1 record from FILE ('-': stdin, the default)\n"
	"  -B, --base-ref NAME    use the image tagged NAME (or a digest) in the store as the base\n"
	"      --scratch          build on no base at all\n"
	"  -S, --store DIR        the OCI image store (default: the config's image.store, ROOT/.hypertest/oci)\n"
	"  -t, --tag NAME         tag the new image NAME in the store (default: the config's\n"
	"                         image.repository with its tag or :latest, else latest)\n"
	"  -C, --root DIR         the project root, copied to /var/task (default: the config\n"
	"                         file's directory, else .)\n"
	"      --runner FILE      the ht-runner binary (default: next to ht-build)\n"
	"      --no-runner        leave the runner layer out\n"
	"      --epoch SECONDS    mtime of every file (default $SOURCE_DATE_EPOCH, else 0)\n"
	"      --max-size BYTES   refuse an image larger than this uncompressed (default 10 GiB;\n"
	"                         suffixes K, M, G)\n"
	"  -j, --jobs N           compression threads (default: the number of cores)\n"
	"      --level N          gzip level 1-9 (default 6)\n"
	"      --cache-dir DIR    where layer reuse keys live (default ROOT/.hypertest/cache/layers,\n"
	"                         under the config's dir)\n"
	"      --no-cache         build every layer again\n"
	"  -l, --label KEY=VALUE  add an image label (repeatable)\n",
};

enum {
	OPT_SCRATCH = 0x2000, OPT_RUNNER, OPT_NO_RUNNER, OPT_EPOCH, OPT_MAX_SIZE, OPT_LEVEL,
	OPT_CACHE_DIR, OPT_NO_CACHE,
};

struct opts {
	const char *base_file, *base_ref, *store, *tag, *root, *runner, *cache_dir;
	int scratch, no_runner, no_cache, jobs, level;
	int64_t epoch, max_size;
	json_t *labels;
};

/* One layer of the new image, for the output record and the manifest. */
struct out_layer {
	struct ht_oci_desc desc;
	char diff_id[HT_DIGEST_LEN + 1];
	int64_t tar_size;   /* -1 when unknown */
	const char *created_by;
	int reused;
	int64_t duration_ms;
};

/* p resolved against root: p itself when absolute. New string. */
/* ht-runner next to this program, else on PATH. */
static char *default_runner(void)
{
	char *dir = ht_self_dir();
	char *r = dir ? ht_path_join(dir, "ht-runner") : ht_xstrdup("ht-runner");

	free(dir);
	return r;
}

static json_t *layer_record(const struct out_layer *l)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b}", "digest", l->desc.digest,
			      "diff_id", l->diff_id, "media_type", l->desc.media_type,
			      "size", (json_int_t)l->desc.size, "created_by", l->created_by,
			      "reused", l->reused);

	if (l->tar_size >= 0)
		json_object_set_new(j, "uncompressed_size", json_integer(l->tar_size));
	if (!l->reused && l->duration_ms >= 0)
		json_object_set_new(j, "duration_ms", json_integer(l->duration_ms));
	return j;
}

static void fail_record(const char *code, const char *message)
{
	json_t *rec = ht_record_new("ht.image/1");

	json_object_set_new(rec, "ok", json_false());
	json_object_set_new(rec, "error", json_pack("{s:s, s:s}", "code", code, "message", message));
	ht_record_write(stdout, rec, 1);
	json_decref(rec);
}

/* What the steps of main() share; build_release() frees it. */
struct build {
	struct opts o;
	struct ht_config cfg;
	char *store_dir, *state_dir, *cache_dir, *cfg_tag;
	struct ht_oci_store store;
	json_t *base_rec;             /* the base's record, when it came as one */
	struct ht_oci_image base;
	int have_base;
	struct out_layer *layers;     /* the base's, then the new ones */
	size_t nlayers;
	struct ht_layer_opts lo;
	json_t *config;               /* the new image's config */
	json_t *entrypoint;           /* the runner's; NULL without a runner */
	json_t *platform;
	char *rev;                    /* the root's git revision, or NULL */
	char cfg_digest[HT_DIGEST_LEN + 1], man_digest[HT_DIGEST_LEN + 1];
	char tree[HT_DIGEST_LEN + 1]; /* the project's tree hash (manifest.h) */
	int64_t cfg_size, man_size;
	int64_t size, uncompressed;   /* of all blobs; of all layers uncompressed */
};

static void build_release(struct build *b)
{
	size_t i;

	json_decref(b->entrypoint);
	json_decref(b->platform);
	json_decref(b->config);
	json_decref(b->base_rec);
	json_decref(b->o.labels);
	for (i = 0; i < b->nlayers; i++)
		ht_oci_desc_release(&b->layers[i].desc);
	free(b->layers);
	free(b->rev);
	free(b->cache_dir);
	free(b->store_dir);
	free(b->state_dir);
	free(b->cfg_tag);
	ht_config_release(&b->cfg);
	ht_oci_image_release(&b->base);
	ht_oci_close(&b->store);
}

/* Step 1: the command line into o. Exits on a usage error. */
static void parse_options(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "base", required_argument, 0, 'b' },
		{ "base-ref", required_argument, 0, 'B' },
		{ "scratch", no_argument, 0, OPT_SCRATCH },
		{ "store", required_argument, 0, 'S' },
		{ "tag", required_argument, 0, 't' },
		{ "root", required_argument, 0, 'C' },
		{ "runner", required_argument, 0, OPT_RUNNER },
		{ "no-runner", no_argument, 0, OPT_NO_RUNNER },
		{ "epoch", required_argument, 0, OPT_EPOCH },
		{ "max-size", required_argument, 0, OPT_MAX_SIZE },
		{ "jobs", required_argument, 0, 'j' },
		{ "level", required_argument, 0, OPT_LEVEL },
		{ "cache-dir", required_argument, 0, OPT_CACHE_DIR },
		{ "no-cache", no_argument, 0, OPT_NO_CACHE },
		{ "label", required_argument, 0, 'l' },
		{ 0, 0, 0, 0 }
	};
	const char *eq;
	char *k;
	long v;
	int c, nsrc = 0;

	o->max_size = DEFAULT_MAX_SIZE;
	o->epoch = -1;
	o->labels = json_object();
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "b:B:S:t:C:j:l:", longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		switch (c) {
		case 'b': o->base_file = optarg; nsrc++; break;
		case 'B': o->base_ref = optarg; nsrc++; break;
		case OPT_SCRATCH: o->scratch = 1; nsrc++; break;
		case 'S': o->store = optarg; break;
		case 't': o->tag = optarg; break;
		case 'C': o->root = optarg; break;
		case OPT_RUNNER: o->runner = optarg; break;
		case OPT_NO_RUNNER: o->no_runner = 1; break;
		case OPT_EPOCH:
			if (ht_parse_long(optarg, 0, LONG_MAX, &v) < 0)
				ht_usage_error(&tool, "--epoch: expected seconds since 1970, got '%s'", optarg);
			o->epoch = v;
			break;
		case OPT_MAX_SIZE:
			if (ht_parse_size(optarg, &o->max_size) < 0)
				ht_usage_error(&tool, "--max-size: expected a size such as 10G, got '%s'", optarg);
			break;
		case 'j':
			if (ht_parse_long(optarg, 1, 64, &v) < 0)
				ht_usage_error(&tool, "--jobs: expected 1 to 64, got '%s'", optarg);
			o->jobs = (int)v;
			break;
		case OPT_LEVEL:
			if (ht_parse_long(optarg, 1, 9, &v) < 0)
				ht_usage_error(&tool, "--level: expected 1 to 9, got '%s'", optarg);
			o->level = (int)v;
			break;
		case OPT_CACHE_DIR: o->cache_dir = optarg; break;
		case OPT_NO_CACHE: o->no_cache = 1; break;
		case 'l':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				ht_usage_error(&tool, "--label: expected KEY=VALUE, got '%s'", optarg);
			k = ht_xasprintf("%.*s", (int)(eq - optarg), optarg);
			json_object_set_new(o->labels, k, json_string(eq + 1));
			free(k);
			break;
		default:
			ht_usage_error(&tool, "unknown option");
		}
	}
	if (optind < argc)
		ht_usage_error(&tool, "unexpected argument '%s'", argv[optind]);
	if (nsrc > 1)
		ht_usage_error(&tool, "--base, --base-ref and --scratch exclude one another");
	if (!nsrc)
		o->base_file = "-";
	if (o->tag && !ht_oci_tag_valid(o->tag))
		ht_usage_error(&tool, "--tag: invalid tag '%s'", o->tag);
}

/*
 * Step 2: the configuration. Flags win; then the config: its root (the
 * config file's directory), its store and state directory (relative to
 * the root), its repository as the tag. Exits on a bad configuration.
 */
static void load_config(struct build *b)
{
	struct opts *o = &b->o;
	struct ht_imageref ref;
	const char *e;
	long v;

	ht_config_load_or_die(&b->cfg);
	if (!o->root)
		o->root = b->cfg.path ? b->cfg.root : ".";
	if (!o->tag && b->cfg.image.repository) {
		ht_imageref_init(&ref);
		if (ht_imageref_parse(&ref, b->cfg.image.repository, "latest") < 0 ||
		    ref.kind != HT_REF_REGISTRY || ref.digest) {
			ht_imageref_release(&ref);
			ht_config_error(&b->cfg, "image.repository", "expected REGISTRY/REPOSITORY[:TAG]");
			exit(HT_EXIT_CONFIG);
		}
		b->cfg_tag = ht_imageref_format(&ref);
		ht_imageref_release(&ref);
		if (ht_oci_tag_valid(b->cfg_tag))
			o->tag = b->cfg_tag;
		else
			ht_warning("'%s' is too long for a tag in the store; tagging 'latest' (use --tag)",
				   b->cfg_tag);
	}
	if (!o->tag)
		o->tag = "latest";
	b->state_dir = ht_path_resolve(o->root, b->cfg.state_dir ? b->cfg.state_dir : HT_STATE_DIR_DEFAULT);
	if (o->epoch < 0) {
		e = getenv("SOURCE_DATE_EPOCH");
		o->epoch = 0;
		if (e && *e && ht_parse_long(e, 0, LONG_MAX, &v) < 0)
			ht_die(HT_EXIT_USAGE, "SOURCE_DATE_EPOCH: expected seconds since 1970, got '%s'", e);
		if (e && *e)
			o->epoch = v;
	}
	if (access(o->root, R_OK | X_OK) < 0)
		ht_die(HT_EXIT_NOINPUT, "cannot use the project root '%s': %s", o->root, strerror(errno));
}

/* Step 3: the store, opened to write (a gc waits until we are done), and
 * the layer cache. */
static int open_store(struct build *b)
{
	b->store_dir = b->o.store ? ht_xstrdup(b->o.store) :
		ht_path_resolve(b->o.root, b->cfg.image.store ? b->cfg.image.store : HT_OCI_DEFAULT_DIR);
	if (ht_oci_open(&b->store, b->store_dir, 1) < 0)
		return HT_EXIT_IOERR;
	if (!b->o.no_cache)
		b->cache_dir = b->o.cache_dir ? ht_xstrdup(b->o.cache_dir) :
			ht_path_join(b->state_dir, "cache/layers");
	b->lo.epoch = b->o.epoch;
	b->lo.level = b->o.level;
	b->lo.jobs = b->o.jobs;
	b->lo.cache_dir = b->cache_dir;
	return 0;
}

/*
 * Reads the base record of file ('-': stdin), exiting when there is none
 * or it is not the record of an image, and loads the image it names: from
 * the store the record names, its blobs copied into ours, else from ours.
 */
static int base_from_record(struct build *b, const char *file)
{
	FILE *fp = strcmp(file, "-") ? fopen(file, "r") : stdin;
	const char *name = strcmp(file, "-") ? file : "stdin", *bstore, *digest;
	struct ht_oci_store other = { 0 };
	int rc;

	if (!fp)
		ht_die(HT_EXIT_NOINPUT, "cannot open '%s': %s", file, strerror(errno));
	rc = ht_record_read_one(fp, name, "ht.image/1", "(use --scratch to build without a base)",
				&b->base_rec);
	if (fp != stdin)
		fclose(fp);
	if (rc)
		exit(rc);
	if (!ht_json_bool(b->base_rec, "ok", 1))
		ht_die(HT_EXIT_DATAERR, "%s:1: the base image record failed: %s", name,
		       ht_json_str(json_object_get(b->base_rec, "error"), "message", "no message"));
	digest = ht_json_str(b->base_rec, "digest", NULL);
	if (!ht_digest_valid(digest))
		ht_die(HT_EXIT_DATAERR, "%s:1: digest: expected the manifest's sha256 digest", name);
	bstore = ht_json_str(b->base_rec, "store", NULL);
	if (!bstore || ht_oci_open(&other, bstore, 0) < 0)
		return ht_oci_image_load(&b->store, digest, &b->base) < 0 ? HT_EXIT_DATAERR : 0;
	if (ht_oci_image_load(&other, digest, &b->base) < 0)
		rc = HT_EXIT_DATAERR;
	else if (ht_oci_copy_image(&other, &b->store, &b->base) < 0)
		rc = HT_EXIT_IOERR;
	ht_oci_close(&other);
	return rc;
}

/*
 * Step 4: the base image (a record, a tag or digest of the store, or
 * nothing), the new config as a copy of its config, and its layers as the
 * first of the new image, with their uncompressed sizes.
 */
static int resolve_base(struct build *b)
{
	struct ht_oci_image *base = &b->base;
	const char *os, *arch, *mt;
	size_t i;
	int rc = 0;

	if (b->o.base_file)
		rc = base_from_record(b, b->o.base_file);
	else if (b->o.base_ref && ht_oci_image_load(&b->store, b->o.base_ref, base) < 0)
		rc = errno == ENOENT ? HT_EXIT_NOINPUT : HT_EXIT_DATAERR;
	if (rc)
		return rc;
	b->have_base = b->o.base_file || b->o.base_ref;
	if (!b->have_base) {
		b->config = json_pack("{s:s, s:s, s:{s:s, s:[]}, s:{}}", "architecture", ht_oci_host_arch(),
				      "os", "linux", "rootfs", "type", "layers", "diff_ids", "config");
	} else {
		os = ht_json_str(base->config, "os", "linux");
		arch = ht_json_str(base->config, "architecture", ht_oci_host_arch());
		if (strcmp(os, "linux") || (!b->o.no_runner && strcmp(arch, ht_oci_host_arch())))
			ht_die(HT_EXIT_DATAERR, "the base image is %s/%s; the runner needs linux/%s", os,
			       arch, ht_oci_host_arch());
		b->config = json_deep_copy(base->config);
	}
	b->layers = ht_xcalloc(base->nlayers + 2, sizeof(*b->layers));
	for (i = 0; i < base->nlayers; i++) {
		struct out_layer *l = &b->layers[b->nlayers++];

		mt = base->layers[i].desc.media_type ? base->layers[i].desc.media_type : HT_OCI_MT_LAYER_GZIP;
		if (!strcmp(mt, HT_DOCKER_MT_LAYER_GZIP))
			mt = HT_OCI_MT_LAYER_GZIP;
		if (strcmp(mt, HT_OCI_MT_LAYER_GZIP) && strcmp(mt, HT_OCI_MT_LAYER))
			ht_die(HT_EXIT_DATAERR, "base layer %zu ('%s') is '%s': Lambda takes gzip layers only",
			       i, base->layers[i].desc.digest, mt);
		l->desc = base->layers[i].desc;
		l->desc.media_type = ht_xstrdup(mt);
		memcpy(l->diff_id, base->layers[i].diff_id, HT_DIGEST_LEN + 1);
		l->created_by = "base";
		l->reused = 1;
		l->duration_ms = -1;
		if (ht_layer_tar_size(&b->store, b->cache_dir, &base->layers[i], &l->tar_size) < 0)
			return HT_EXIT_DATAERR;
	}
	return 0;
}

/* Writes the layer of the entries l (released here) as the next layer of
 * the image. */
static int build_layer(struct build *b, struct ht_layer_list *l, const char *created_by, const char *what)
{
	struct out_layer *ol = &b->layers[b->nlayers];
	struct ht_layer_result r;
	int64_t t0 = ht_now_ms();
	int rc = ht_layer_build(&b->store, l, &b->lo, &r);

	ht_layer_list_release(l);
	if (rc < 0)
		return HT_EXIT_IOERR;
	memcpy(ol->desc.digest, r.digest, sizeof(r.digest));
	memcpy(ol->diff_id, r.diff_id, sizeof(r.diff_id));
	ol->desc.size = r.size;
	ol->desc.media_type = ht_xstrdup(HT_OCI_MT_LAYER_GZIP);
	ol->tar_size = r.tar_size;
	ol->created_by = created_by;
	ol->reused = r.reused;
	ol->duration_ms = ht_now_ms() - t0;
	b->nlayers++;
	ht_info("%s layer %s: %s (%zu entries)", what, r.reused ? "reused" : "built", r.digest, r.entries);
	return 0;
}

/*
 * Step 5a: the runner layer: ht-runner, the shared libraries and the loader
 * it needs, the CA bundle; and the entrypoint that starts it.
 */
static int build_runner_layer(struct build *b)
{
	struct ht_layer_list l;
	char *runner = b->o.runner ? ht_xstrdup(b->o.runner) : default_runner(), *loader = NULL;
	int rc = 0;

	ht_layer_list_init(&l);
	if (access(runner, X_OK) < 0)
		rc = ht_error("cannot use the runner '%s': %s", runner, strerror(errno));
	else
		rc = ht_layer_add_program(&l, RUNNER_DIR "/bin/ht-runner", runner, RUNNER_DIR "/lib", &loader);
	if (rc == 0 && loader && access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
		rc = ht_layer_add_file(&l, &CA_BUNDLE[1], "/etc/ssl/certs/ca-certificates.crt", 0);
	free(runner);
	if (rc < 0) {
		free(loader);
		ht_layer_list_release(&l);
		return HT_EXIT_NOINPUT;
	}
	b->entrypoint = loader ? json_pack("[s, s, s, s]", loader, "--library-path", "/" RUNNER_DIR "/lib",
					   "/" RUNNER_DIR "/bin/ht-runner") :
				 json_pack("[s]", "/" RUNNER_DIR "/bin/ht-runner");
	free(loader);
	return build_layer(b, &l, "ht-build: runner", "runner");
}

/*
 * Writes the manifest m to the cache as path unless it holds m already (so
 * that its file, and the project layer's reuse key, stay the same while
 * the tree does).
 */
static int save_manifest(json_t *m, const char *path)
{
	char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS), *old = NULL, *dir;
	size_t len = strlen(text), olen = 0;
	int rc = 0;

	if (ht_read_file(path, HT_MANIFEST_MAX, &old, &olen) < 0 || olen != len || memcmp(old, text, len)) {
		dir = ht_xstrdup(path);
		*strrchr(dir, '/') = '\0';
		if (ht_mkdir_p(dir, 0755) < 0 || ht_write_file_atomic(path, text, len, 0644) < 0)
			rc = ht_error("cannot write '%s': %s", path, strerror(errno));
		free(dir);
	}
	free(old);
	free(text);
	return rc;
}

/*
 * Step 5b: the project layer: the root under /var/task, less what the
 * ignore rules, the state directory and the store leave out, and its
 * manifest at /opt/hypertest/tree.json (include/ht/manifest.h).
 */
static int build_project_layer(struct build *b)
{
	struct ht_layer_list l;
	json_t *m = NULL;
	char *path;
	int rc = 0;

	ht_layer_list_init(&l);
	path = ht_path_join(b->state_dir, HT_MANIFEST_CACHE);
	if (ht_project_entries(&l, TASK_ROOT, b->o.root, b->state_dir, b->store_dir) < 0 ||
	    !(m = ht_manifest_of(&l, TASK_ROOT, b->o.no_cache ? NULL : path))) {
		free(path);
		ht_layer_list_release(&l);
		return HT_EXIT_NOINPUT;
	}
	free(path);
	path = ht_path_join(b->state_dir, "cache/tree.json");
	if (save_manifest(m, path) < 0 || ht_layer_add_file(&l, HT_MANIFEST_PATH, path, 0) < 0) {
		rc = HT_EXIT_IOERR;
	} else {
		/* The manifest follows from the other entries, whose stats are
		 * in the reuse key already: its own file's times and inode
		 * (new when it was rewritten) are left out of the key, so
		 * that a build right after the one that wrote it reuses the
		 * layer. */
		struct stat *st = &l.v[l.n - 1].st;

		memset(&st->st_mtim, 0, sizeof(st->st_mtim));
		memset(&st->st_ctim, 0, sizeof(st->st_ctim));
		st->st_ino = 0;
		st->st_dev = 0;
	}
	free(path);
	snprintf(b->tree, sizeof(b->tree), "%s", ht_manifest_tree(m));
	ht_info("project tree %s (%zu files)", b->tree, json_object_size(json_object_get(m, "files")));
	json_decref(m);
	if (rc) {
		ht_layer_list_release(&l);
		return rc;
	}
	return build_layer(b, &l, "ht-build: project", "project");
}

/* Step 6a: the config: the base's with the entrypoint, working directory,
 * environment, labels, the new layers' diff_ids and history. */
static int write_config(struct build *b)
{
	json_t *labels = ht_oci_config_get(b->config, "Labels", 0);
	json_t *cc = json_object_get(b->config, "config");
	time_t t = (time_t)b->o.epoch;
	char created[32];
	struct tm tm;
	size_t i;

	gmtime_r(&t, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (b->entrypoint)
		json_object_set(cc, "Entrypoint", b->entrypoint);
	json_object_del(cc, "Cmd");
	json_object_set_new(cc, "WorkingDir", json_string(TASK_ROOT));
	ht_oci_config_set_env(b->config, "PATH", DEFAULT_PATH, 1);
	ht_oci_config_set_env(b->config, "LAMBDA_TASK_ROOT", TASK_ROOT, 0);
	if (!b->o.no_runner)
		ht_oci_config_set_env(b->config, "HT_CA_BUNDLE", CA_BUNDLE, 0);
	/* image.writable_task: ht-runner copies /var/task into /tmp. */
	if (b->cfg.image.writable_task)
		ht_oci_config_set_env(b->config, "HT_WRITABLE_TASK", "1", 0);
	/* What the project layer holds, for ht-invoke's drift check. */
	ht_oci_config_set_env(b->config, "HT_TREE", b->tree, 0);
	json_object_set_new(labels, HT_TREE_LABEL, json_string(b->tree));
	b->rev = ht_layer_tree_revision(b->o.root);
	if (b->rev)
		json_object_set_new(labels, "org.opencontainers.image.revision", json_string(b->rev));
	json_object_update(labels, b->o.labels);
	json_object_set_new(b->config, "created", json_string(created));
	for (i = b->base.nlayers; i < b->nlayers; i++)
		ht_oci_config_add_layer(b->config, b->layers[i].diff_id, created, b->layers[i].created_by);
	if (ht_oci_put_json(&b->store, b->config, b->cfg_digest, &b->cfg_size) < 0)
		return HT_EXIT_IOERR;
	return 0;
}

/* Step 6b: the manifest, and the image's sizes (the base layers' come
 * from its manifest, untrusted: their sums are checked). */
static int write_manifest(struct build *b)
{
	json_t *mlayers = json_array(), *manifest;
	size_t i;
	int r;

	for (i = 0; i < b->nlayers; i++)
		json_array_append_new(mlayers, ht_oci_desc_json(b->layers[i].desc.media_type,
								b->layers[i].desc.digest, b->layers[i].desc.size));
	manifest = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", HT_OCI_MT_MANIFEST,
			     "config", ht_oci_desc_json(HT_OCI_MT_CONFIG, b->cfg_digest, b->cfg_size),
			     "layers", mlayers);
	r = ht_oci_put_json(&b->store, manifest, b->man_digest, &b->man_size);
	json_decref(manifest);
	if (r < 0)
		return HT_EXIT_IOERR;
	b->size = b->cfg_size + b->man_size; /* both under HT_OCI_JSON_MAX */
	for (i = 0; i < b->nlayers; i++)
		if (ht_oci_size_add(&b->size, b->layers[i].desc.size) < 0 ||
		    ht_oci_size_add(&b->uncompressed, b->layers[i].tar_size) < 0) {
			ht_error("layer %zu ('%s'): the sizes of the layers add up to more than %lld bytes",
				 i, b->layers[i].desc.digest, (long long)INT64_MAX);
			return HT_EXIT_DATAERR;
		}
	b->platform = json_pack("{s:s, s:s}", "os", ht_json_str(b->config, "os", "linux"),
				"architecture", ht_json_str(b->config, "architecture", ht_oci_host_arch()));
	return 0;
}

/* Step 7: refuses an image over the size limit (with a failure record),
 * else tags it. */
static int tag_image(struct build *b)
{
	if (b->uncompressed > b->o.max_size) {
		char *msg = ht_xasprintf("the image would be %.2f GiB uncompressed, over the limit of "
					 "%.2f GiB (Lambda takes at most 10 GB; see --max-size)",
					 b->uncompressed / 1073741824.0, b->o.max_size / 1073741824.0);

		ht_error("%s", msg);
		fail_record("too_large", msg);
		free(msg);
		return HT_EXIT_DATAERR;
	}
	if (ht_oci_tag(&b->store, b->o.tag, b->man_digest, HT_OCI_MT_MANIFEST, b->man_size, b->platform) < 0)
		return HT_EXIT_IOERR;
	return 0;
}

/* Step 8: the ht.image/1 record of the new image. */
static void print_record(struct build *b)
{
	json_t *rec = ht_record_new("ht.image/1"), *arr = json_array(), *base;
	size_t i;

	json_object_set_new(rec, "ok", json_true());
	ht_json_set_str(rec, "store", b->store_dir);
	ht_json_set_str(rec, "store_tag", b->o.tag);
	json_object_set_new(rec, "reference", json_sprintf("oci:%s:%s", b->store_dir, b->o.tag));
	ht_json_set_str(rec, "digest", b->man_digest);
	ht_json_set_str(rec, "media_type", HT_OCI_MT_MANIFEST);
	ht_json_set_str(rec, "config_digest", b->cfg_digest);
	ht_json_set_str(rec, "config_media_type", HT_OCI_MT_CONFIG);
	json_object_set(rec, "platform", b->platform);
	if (b->have_base) {
		/* Where the base came from, so that ht-push can mount its
		 * blobs instead of sending them. */
		base = json_object();
		ht_json_set_str(base, "digest", b->base.manifest_desc.digest);
		if (b->base_rec) {
			ht_json_set_str(base, "reference", ht_json_str(b->base_rec, "reference", NULL));
			ht_json_set_str(base, "registry", ht_json_str(b->base_rec, "registry", NULL));
			ht_json_set_str(base, "repository", ht_json_str(b->base_rec, "repository", NULL));
		}
		json_object_set_new(rec, "base", base);
	}
	if (b->rev)
		ht_json_set_str(rec, "revision", b->rev);
	ht_json_set_str(rec, "tree", b->tree);
	for (i = 0; i < b->nlayers; i++)
		json_array_append_new(arr, layer_record(&b->layers[i]));
	json_object_set_new(rec, "layers", arr);
	ht_json_set_int(rec, "size", b->size);
	ht_json_set_int(rec, "uncompressed_size", b->uncompressed);
	ht_record_write(stdout, rec, 1);
	json_decref(rec);
}

int main(int argc, char **argv)
{
	struct build b;
	int rc;

	ht_diag_init(argv[0]);
	memset(&b, 0, sizeof(b));
	ht_oci_image_init(&b.base);
	parse_options(&b.o, argc, argv);
	load_config(&b);
	rc = open_store(&b);
	if (!rc)
		rc = resolve_base(&b);
	if (!rc && !b.o.no_runner)
		rc = build_runner_layer(&b);
	if (!rc)
		rc = build_project_layer(&b);
	if (!rc)
		rc = write_config(&b);
	if (!rc)
		rc = write_manifest(&b);
	if (!rc)
		rc = tag_image(&b);
	if (!rc)
		print_record(&b);
	build_release(&b);
	return ht_finish_stdout(rc);
}
