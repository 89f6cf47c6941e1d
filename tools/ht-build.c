/*
 * ht-build: base image + ht-runner + the project -> a new image in the OCI
 * store, without a container daemon. See docs/ht-build.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/ignore.h"
#include "ht/imageref.h"
#include "ht/layer.h"
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

/* Fills ol with the layer r that ht_layer_build() made, started at t0. */
static void set_built_layer(struct out_layer *ol, const struct ht_layer_result *r, const char *created_by,
			    int64_t t0)
{
	memcpy(ol->desc.digest, r->digest, sizeof(r->digest));
	memcpy(ol->diff_id, r->diff_id, sizeof(r->diff_id));
	ol->desc.size = r->size;
	ol->desc.media_type = ht_xstrdup(HT_OCI_MT_LAYER_GZIP);
	ol->tar_size = r->tar_size;
	ol->created_by = created_by;
	ol->reused = r->reused;
	ol->duration_ms = ht_now_ms() - t0;
}

/* p resolved against root: p itself when absolute. New string. */
static char *resolve(const char *root, const char *p)
{
	return *p == '/' ? ht_xstrdup(p) : ht_path_join(root, p);
}

/*
 * Leaves dir (the state directory, the store) out of the project layer
 * when it lies inside root under another name than the default
 * .hypertest, which the ignore rules already leave out.
 */
static void ignore_inside(struct ht_ignore *ig, const char *root, const char *dir)
{
	char *r = realpath(root, NULL), *d = realpath(dir, NULL), *pat, *q;
	const char *rel;
	size_t n;

	if (r && d && (n = strlen(r)) && !strncmp(d, r, n) && (d[n] == '/' || (n == 1 && d[1]))) {
		rel = d + n + (n > 1);
		/* A leading '/' keeps a '!' or '#' literal; special
		 * characters are escaped. */
		pat = q = ht_xcalloc(2 * strlen(rel) + 2, 1);
		*q++ = '/';
		for (; *rel; rel++) {
			if (strchr("*?[]\\", *rel))
				*q++ = '\\';
			*q++ = *rel;
		}
		ht_ignore_add(ig, pat);
		free(pat);
	}
	free(r);
	free(d);
}

static void format_epoch(int64_t epoch, char out[32])
{
	time_t t = (time_t)epoch;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Copies a blob from another store into ours, checking its digest. */
static int copy_blob(struct ht_oci_store *from, struct ht_oci_store *to, const char *digest)
{
	struct ht_oci_blob_writer w;
	char *path, buf[65536];
	FILE *fp;
	size_t n;
	int r;

	r = ht_oci_has_blob(to, digest, NULL);
	if (r != 0)
		return r < 0 ? -1 : 0;
	path = ht_oci_blob_path(from, digest);
	if (!path)
		return -1;
	fp = fopen(path, "rb");
	if (!fp) {
		ht_error("cannot open '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	if (ht_oci_blob_begin(to, &w, digest, -1) < 0) {
		fclose(fp);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		if (ht_oci_blob_write(&w, buf, n) < 0) {
			fclose(fp);
			ht_oci_blob_abort(&w);
			return -1;
		}
	fclose(fp);
	return ht_oci_blob_commit(&w, NULL, NULL);
}

/* Reads the base record from a file or stdin; new reference. */
static json_t *read_base_record(const char *file)
{
	struct ht_jsonl_reader rd;
	FILE *fp = strcmp(file, "-") ? fopen(file, "r") : stdin;
	json_t *rec = NULL;
	char where[PATH_MAX + 32];
	int r;

	if (!fp)
		ht_die(HT_EXIT_NOINPUT, "cannot open '%s': %s", file, strerror(errno));
	ht_jsonl_reader_init(&rd, fp, strcmp(file, "-") ? file : "stdin", HT_RECORD_MAX);
	r = ht_jsonl_read(&rd, &rec);
	if (r == 0)
		ht_die(HT_EXIT_DATAERR, "%s: no ht.image/1 record (use --scratch to build without a base)",
		       rd.name);
	if (r < 0)
		exit(r == -2 ? HT_EXIT_IOERR : HT_EXIT_DATAERR);
	snprintf(where, sizeof(where), "%s:%zu", rd.name, rd.lineno);
	if (ht_record_check_schema(rec, "ht.image/1", where) < 0)
		exit(HT_EXIT_DATAERR);
	if (!ht_json_bool(rec, "ok", 1))
		ht_die(HT_EXIT_DATAERR, "%s: the base image record failed: %s", where,
		       ht_json_str(json_object_get(rec, "error"), "message", "no message"));
	if (!ht_digest_valid(ht_json_str(rec, "digest", NULL)))
		ht_die(HT_EXIT_DATAERR, "%s: digest: expected the manifest's sha256 digest", where);
	ht_jsonl_reader_release(&rd);
	if (fp != stdin)
		fclose(fp);
	return rec;
}

/* The uncompressed size of a base layer, remembered by diff_id. */
static int base_layer_size(struct ht_oci_store *s, const char *cache_dir,
			   const struct ht_oci_layer *l, int64_t *size)
{
	char *path = NULL, *buf;
	long v;

	if (cache_dir && l->diff_id[0]) {
		path = ht_xasprintf("%s/size-%s", cache_dir, l->diff_id + 7);
		if (ht_read_file(path, 64, &buf, NULL) == 0) {
			v = atol(buf);
			free(buf);
			if (v >= 0) {
				*size = v;
				free(path);
				return 0;
			}
		}
	}
	if (l->desc.media_type && !strstr(l->desc.media_type, "gzip")) {
		free(path);
		*size = l->desc.size; /* an uncompressed tar */
		return 0;
	}
	if (ht_layer_gzip_size(s, l->desc.digest, size) < 0) {
		free(path);
		return -1;
	}
	if (path) {
		char txt[32];

		snprintf(txt, sizeof(txt), "%lld\n", (long long)*size);
		if (ht_mkdir_p(cache_dir, 0755) == 0)
			(void)ht_write_file_atomic(path, txt, strlen(txt), 0644);
	}
	free(path);
	return 0;
}

/*
 * Fills l with ht-runner, the shared libraries ldd lists and the dynamic
 * loader, and the CA bundle; sets *argv0 to the entrypoint (new reference).
 */
static int runner_entries(struct ht_layer_list *l, const char *runner, json_t **entrypoint)
{
	char ldd[] = "ldd";
	char *argv[] = { ldd, (char *)runner, NULL };
	struct ht_proc p;
	char *out = NULL, *line, *save = NULL, *loader = NULL;
	int rc = 0;

	if (access(runner, X_OK) < 0)
		return ht_error("cannot use the runner '%s': %s", runner, strerror(errno));
	if (ht_layer_add_file(l, RUNNER_DIR "/bin/ht-runner", runner, 1) < 0)
		return -1;
	ht_proc_init(&p, argv);
	p.deadline_ms = ht_now_ms() + 30000;
	if (ht_proc_capture(&p, 0, &out) < 0)
		return -1;
	if (!p.exited || p.exit_code != 0 || strstr(out, "not a dynamic executable") ||
	    strstr(out, "statically linked")) {
		/* A static runner needs nothing else. */
		*entrypoint = json_pack("[s]", "/" RUNNER_DIR "/bin/ht-runner");
		free(out);
		return 0;
	}
	for (line = strtok_r(out, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		char *arrow = strstr(line, "=> "), *path, *end, *base, *name;

		while (*line == ' ' || *line == '\t')
			line++;
		if (strstr(line, "=> not found")) {
			rc = ht_error("the runner '%s' needs a library that is not found: %s", runner, line);
			break;
		}
		path = arrow ? arrow + 3 : line;
		if (*path != '/')
			continue; /* linux-vdso.so.1 and the like */
		end = strstr(path, " (");
		if (end)
			*end = '\0';
		if (arrow) {
			/* Named by its soname, the name the loader looks for. */
			arrow[0] = '\0';
			end = line + strlen(line);
			while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
				*--end = '\0';
			base = strrchr(line, '/') ? strrchr(line, '/') + 1 : line;
			name = ht_xasprintf(RUNNER_DIR "/lib/%s", base);
			rc = ht_layer_add_file(l, name, path, 0);
		} else {
			base = strrchr(path, '/') + 1;
			name = ht_xasprintf(RUNNER_DIR "/lib/%s", base);
			rc = ht_layer_add_file(l, name, path, 1);
			free(loader);
			loader = ht_xasprintf("/%s", name);
		}
		free(name);
	}
	free(out);
	if (rc == 0 && !loader)
		rc = ht_error("cannot find the dynamic loader of '%s' in what ldd says", runner);
	if (rc == 0) {
		*entrypoint = json_pack("[s, s, s, s]", loader, "--library-path", "/" RUNNER_DIR "/lib",
					"/" RUNNER_DIR "/bin/ht-runner");
		if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
			rc = ht_layer_add_file(l, CA_BUNDLE + 1, "/etc/ssl/certs/ca-certificates.crt", 0);
	}
	free(loader);
	return rc;
}

static char *default_runner(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return ht_xstrdup("ht-runner");
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	return ht_xasprintf("%s/ht-runner", self);
}

static char *git_revision(const char *root)
{
	char *gitdir = ht_path_join(root, ".git");
	char a0[] = "git", a1[] = "-C", a3[] = "rev-parse", a4[] = "HEAD";
	char *argv[] = { a0, a1, (char *)root, a3, a4, NULL };
	struct ht_proc p;
	char *out = NULL;
	int fd;

	if (access(gitdir, F_OK) < 0) {
		free(gitdir);
		return NULL;
	}
	free(gitdir);
	ht_proc_init(&p, argv);
	fd = open("/dev/null", O_WRONLY);
	p.stderr_fd = fd;
	p.deadline_ms = ht_now_ms() + 10000;
	if (ht_proc_capture(&p, 4096, &out) < 0 || !p.exited || p.exit_code != 0) {
		free(out);
		out = NULL;
	} else {
		out[strcspn(out, "\r\n")] = '\0';
		if (!*out) {
			free(out);
			out = NULL;
		}
	}
	if (fd >= 0)
		close(fd);
	return out;
}

/* Sets KEY=VALUE in an Env array, replacing an earlier KEY. */
static void env_set(json_t *env, const char *key, const char *value, int keep)
{
	size_t i, kl = strlen(key);
	json_t *e;
	char *kv = ht_xasprintf("%s=%s", key, value);

	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);

		if (s && !strncmp(s, key, kl) && s[kl] == '=') {
			if (!keep)
				json_array_set_new(env, i, json_string(kv));
			free(kv);
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
	free(kv);
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

int main(int argc, char **argv)
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
	struct opts o = { 0 };
	struct ht_config cfg;
	struct ht_oci_store store = { 0 }, other = { 0 };
	struct ht_oci_image base;
	struct ht_layer_opts lo = { 0 };
	struct ht_ignore ig;
	struct out_layer *layers = NULL;
	size_t nlayers = 0, i;
	json_t *base_rec = NULL, *config = NULL, *cc, *env, *labels, *history, *diff_ids, *entrypoint = NULL;
	json_t *manifest = NULL, *mlayers, *rec, *arr, *platform = NULL;
	char *store_dir = NULL, *cache_dir = NULL, *state_dir = NULL, *cfg_tag = NULL, *runner = NULL, *rev = NULL, created[32];
	char cfg_digest[HT_DIGEST_LEN + 1], man_digest[HT_DIGEST_LEN + 1];
	int64_t cfg_size, man_size, total, uncompressed = 0;
	long v;
	int c, have_base = 0, nsrc = 0, rc = 0;
	const char *e;

	ht_diag_init(argv[0]);
	ht_oci_image_init(&base);
	o.max_size = DEFAULT_MAX_SIZE;
	o.epoch = -1;
	o.labels = json_object();
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "b:B:S:t:C:j:l:", longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		switch (c) {
		case 'b': o.base_file = optarg; nsrc++; break;
		case 'B': o.base_ref = optarg; nsrc++; break;
		case OPT_SCRATCH: o.scratch = 1; nsrc++; break;
		case 'S': o.store = optarg; break;
		case 't': o.tag = optarg; break;
		case 'C': o.root = optarg; break;
		case OPT_RUNNER: o.runner = optarg; break;
		case OPT_NO_RUNNER: o.no_runner = 1; break;
		case OPT_EPOCH:
			if (ht_parse_long(optarg, 0, LONG_MAX, &v) < 0)
				ht_usage_error(&tool, "--epoch: expected seconds since 1970, got '%s'", optarg);
			o.epoch = v;
			break;
		case OPT_MAX_SIZE:
			if (ht_parse_size(optarg, &o.max_size) < 0)
				ht_usage_error(&tool, "--max-size: expected a size such as 10G, got '%s'", optarg);
			break;
		case 'j':
			if (ht_parse_long(optarg, 1, 64, &v) < 0)
				ht_usage_error(&tool, "--jobs: expected 1 to 64, got '%s'", optarg);
			o.jobs = (int)v;
			break;
		case OPT_LEVEL:
			if (ht_parse_long(optarg, 1, 9, &v) < 0)
				ht_usage_error(&tool, "--level: expected 1 to 9, got '%s'", optarg);
			o.level = (int)v;
			break;
		case OPT_CACHE_DIR: o.cache_dir = optarg; break;
		case OPT_NO_CACHE: o.no_cache = 1; break;
		case 'l': {
			const char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg)
				ht_usage_error(&tool, "--label: expected KEY=VALUE, got '%s'", optarg);
			{
				char *k = ht_xasprintf("%.*s", (int)(eq - optarg), optarg);

				json_object_set_new(o.labels, k, json_string(eq + 1));
				free(k);
			}
			break;
		}
		default:
			ht_usage_error(&tool, "unknown option");
		}
	}
	if (optind < argc)
		ht_usage_error(&tool, "unexpected argument '%s'", argv[optind]);
	if (nsrc > 1)
		ht_usage_error(&tool, "--base, --base-ref and --scratch exclude one another");
	if (!nsrc)
		o.base_file = "-";
	if (o.tag && !ht_oci_tag_valid(o.tag))
		ht_usage_error(&tool, "--tag: invalid tag '%s'", o.tag);
	/* Flags win; then the config: its root (the config file's directory),
	 * its store and state directory (relative to the root), and its
	 * repository as the tag. */
	ht_config_load_or_die(&cfg);
	if (!o.root)
		o.root = cfg.path ? cfg.root : ".";
	if (!o.tag && cfg.image.repository) {
		struct ht_imageref ref;

		ht_imageref_init(&ref);
		if (ht_imageref_parse(&ref, cfg.image.repository, "latest") < 0 || ref.kind != HT_REF_REGISTRY ||
		    ref.digest) {
			ht_imageref_release(&ref);
			ht_config_error(&cfg, "image.repository", "expected REGISTRY/REPOSITORY[:TAG]");
			ht_config_release(&cfg);
			exit(HT_EXIT_CONFIG);
		}
		cfg_tag = ht_imageref_format(&ref);
		ht_imageref_release(&ref);
		if (ht_oci_tag_valid(cfg_tag))
			o.tag = cfg_tag;
		else
			ht_warning("'%s' is too long for a tag in the store; tagging 'latest' (use --tag)", cfg_tag);
	}
	if (!o.tag)
		o.tag = "latest";
	state_dir = resolve(o.root, cfg.state_dir ? cfg.state_dir : ".hypertest");
	if (o.epoch < 0) {
		e = getenv("SOURCE_DATE_EPOCH");
		o.epoch = 0;
		if (e && *e && ht_parse_long(e, 0, LONG_MAX, &v) < 0)
			ht_die(HT_EXIT_USAGE, "SOURCE_DATE_EPOCH: expected seconds since 1970, got '%s'", e);
		if (e && *e)
			o.epoch = v;
	}
	if (access(o.root, R_OK | X_OK) < 0)
		ht_die(HT_EXIT_NOINPUT, "cannot use the project root '%s': %s", o.root, strerror(errno));

	store_dir = o.store ? ht_xstrdup(o.store) : resolve(o.root, cfg.image.store ? cfg.image.store : HT_OCI_DEFAULT_DIR);
	if (ht_oci_open(&store, store_dir, 1) < 0) {
		rc = HT_EXIT_IOERR;
		goto done;
	}
	if (!o.no_cache)
		cache_dir = o.cache_dir ? ht_xstrdup(o.cache_dir) : ht_path_join(state_dir, "cache/layers");

	/* The base image. */
	if (o.base_file) {
		const char *bstore;

		base_rec = read_base_record(o.base_file);
		bstore = ht_json_str(base_rec, "store", NULL);
		if (bstore && ht_oci_open(&other, bstore, 0) == 0) {
			if (ht_oci_image_load(&other, ht_json_str(base_rec, "digest", ""), &base) < 0) {
				rc = HT_EXIT_DATAERR;
				goto done;
			}
			if (copy_blob(&other, &store, base.manifest_desc.digest) < 0 ||
			    copy_blob(&other, &store, base.config_desc.digest) < 0) {
				rc = HT_EXIT_IOERR;
				goto done;
			}
			for (i = 0; i < base.nlayers; i++)
				if (copy_blob(&other, &store, base.layers[i].desc.digest) < 0) {
					rc = HT_EXIT_IOERR;
					goto done;
				}
			ht_oci_close(&other);
		} else if (ht_oci_image_load(&store, ht_json_str(base_rec, "digest", ""), &base) < 0) {
			rc = HT_EXIT_DATAERR;
			goto done;
		}
		have_base = 1;
	} else if (o.base_ref) {
		if (ht_oci_image_load(&store, o.base_ref, &base) < 0) {
			rc = errno == ENOENT ? HT_EXIT_NOINPUT : HT_EXIT_DATAERR;
			goto done;
		}
		have_base = 1;
	}
	if (have_base) {
		const char *os = ht_json_str(base.config, "os", "linux");
		const char *arch = ht_json_str(base.config, "architecture", ht_oci_host_arch());

		if (strcmp(os, "linux") || (!o.no_runner && strcmp(arch, ht_oci_host_arch())))
			ht_die(HT_EXIT_DATAERR, "the base image is %s/%s; the runner needs linux/%s", os,
			       arch, ht_oci_host_arch());
		config = json_deep_copy(base.config);
	} else {
		config = json_pack("{s:s, s:s, s:{s:s, s:[]}, s:{}}", "architecture", ht_oci_host_arch(),
				   "os", "linux", "rootfs", "type", "layers", "diff_ids", "config");
	}
	layers = ht_xcalloc(base.nlayers + 2, sizeof(*layers));
	for (i = 0; i < base.nlayers; i++) {
		struct out_layer *l = &layers[nlayers++];
		const char *mt = base.layers[i].desc.media_type ? base.layers[i].desc.media_type : HT_OCI_MT_LAYER_GZIP;

		if (!strcmp(mt, HT_DOCKER_MT_LAYER_GZIP))
			mt = HT_OCI_MT_LAYER_GZIP;
		if (strcmp(mt, HT_OCI_MT_LAYER_GZIP) && strcmp(mt, HT_OCI_MT_LAYER))
			ht_die(HT_EXIT_DATAERR, "base layer %zu ('%s') is '%s': Lambda takes gzip layers only",
			       i, base.layers[i].desc.digest, mt);
		l->desc = base.layers[i].desc;
		l->desc.media_type = ht_xstrdup(mt);
		memcpy(l->diff_id, base.layers[i].diff_id, HT_DIGEST_LEN + 1);
		l->created_by = "base";
		l->reused = 1;
		l->duration_ms = -1;
		if (base_layer_size(&store, cache_dir, &base.layers[i], &l->tar_size) < 0) {
			rc = HT_EXIT_DATAERR;
			goto done;
		}
	}

	lo.epoch = o.epoch;
	lo.level = o.level;
	lo.jobs = o.jobs;
	lo.cache_dir = cache_dir;

	/* The runner layer. */
	if (!o.no_runner) {
		struct ht_layer_list l;
		struct ht_layer_result r;
		struct out_layer *ol = &layers[nlayers];
		int64_t t0 = ht_now_ms();

		runner = o.runner ? ht_xstrdup(o.runner) : default_runner();
		ht_layer_list_init(&l);
		if (runner_entries(&l, runner, &entrypoint) < 0)
			rc = HT_EXIT_NOINPUT;
		else if (ht_layer_build(&store, &l, &lo, &r) < 0)
			rc = HT_EXIT_IOERR;
		ht_layer_list_release(&l);
		if (rc)
			goto done;
		set_built_layer(ol, &r, "ht-build: runner", t0);
		nlayers++;
		ht_info("runner layer %s: %s", r.reused ? "reused" : "built", r.digest);
	}

	/* The project layer. */
	{
		struct ht_layer_list l;
		struct ht_layer_result r;
		struct out_layer *ol = &layers[nlayers];
		int64_t t0 = ht_now_ms();
		char *used = NULL;

		ht_ignore_init(&ig);
		ht_layer_list_init(&l);
		if (ht_ignore_load(&ig, o.root, &used) < 0)
			rc = HT_EXIT_NOINPUT;
		if (used)
			ht_info("leaving out what '%s' says", used);
		free(used);
		ignore_inside(&ig, o.root, state_dir);
		ignore_inside(&ig, o.root, store_dir);
		if (!rc && ht_layer_add_tree(&l, TASK_ROOT, o.root, &ig, NULL) < 0)
			rc = HT_EXIT_NOINPUT;
		ht_ignore_release(&ig);
		if (!rc && ht_layer_build(&store, &l, &lo, &r) < 0)
			rc = HT_EXIT_IOERR;
		ht_layer_list_release(&l);
		if (rc)
			goto done;
		set_built_layer(ol, &r, "ht-build: project", t0);
		nlayers++;
		ht_info("project layer %s: %s (%zu entries)", r.reused ? "reused" : "built", r.digest, r.entries);
	}

	/* The config. */
	format_epoch(o.epoch, created);
	cc = json_object_get(config, "config");
	if (!json_is_object(cc)) {
		cc = json_object();
		json_object_set_new(config, "config", cc);
	}
	if (entrypoint)
		json_object_set(cc, "Entrypoint", entrypoint);
	json_object_del(cc, "Cmd");
	json_object_set_new(cc, "WorkingDir", json_string(TASK_ROOT));
	env = json_object_get(cc, "Env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(cc, "Env", env);
	}
	env_set(env, "PATH", DEFAULT_PATH, 1);
	env_set(env, "LAMBDA_TASK_ROOT", TASK_ROOT, 0);
	if (!o.no_runner)
		env_set(env, "HT_CA_BUNDLE", CA_BUNDLE, 0);
	labels = json_object_get(cc, "Labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(cc, "Labels", labels);
	}
	rev = git_revision(o.root);
	if (rev)
		json_object_set_new(labels, "org.opencontainers.image.revision", json_string(rev));
	json_object_update(labels, o.labels);
	json_object_set_new(config, "created", json_string(created));
	diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	history = json_object_get(config, "history");
	if (!json_is_array(history)) {
		history = json_array();
		json_object_set_new(config, "history", history);
	}
	for (i = base.nlayers; i < nlayers; i++) {
		json_array_append_new(diff_ids, json_string(layers[i].diff_id));
		json_array_append_new(history, json_pack("{s:s, s:s}", "created", created,
							 "created_by", layers[i].created_by));
	}
	if (ht_oci_put_json(&store, config, cfg_digest, &cfg_size) < 0) {
		rc = HT_EXIT_IOERR;
		goto done;
	}

	/* The manifest. */
	mlayers = json_array();
	total = cfg_size;
	for (i = 0; i < nlayers; i++) {
		json_array_append_new(mlayers, ht_oci_desc_json(layers[i].desc.media_type,
								layers[i].desc.digest, layers[i].desc.size));
		total += layers[i].desc.size;
		uncompressed += layers[i].tar_size;
	}
	manifest = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", HT_OCI_MT_MANIFEST,
			     "config", ht_oci_desc_json(HT_OCI_MT_CONFIG, cfg_digest, cfg_size),
			     "layers", mlayers);
	if (ht_oci_put_json(&store, manifest, man_digest, &man_size) < 0) {
		rc = HT_EXIT_IOERR;
		goto done;
	}
	total += man_size;
	platform = json_pack("{s:s, s:s}", "os", ht_json_str(config, "os", "linux"),
			     "architecture", ht_json_str(config, "architecture", ht_oci_host_arch()));

	if (uncompressed > o.max_size) {
		char *msg = ht_xasprintf("the image would be %.2f GiB uncompressed, over the limit of "
					 "%.2f GiB (Lambda takes at most 10 GB; see --max-size)",
					 uncompressed / 1073741824.0, o.max_size / 1073741824.0);

		ht_error("%s", msg);
		fail_record("too_large", msg);
		free(msg);
		rc = HT_EXIT_DATAERR;
		goto done;
	}
	if (ht_oci_tag(&store, o.tag, man_digest, HT_OCI_MT_MANIFEST, man_size, platform) < 0) {
		rc = HT_EXIT_IOERR;
		goto done;
	}

	rec = ht_record_new("ht.image/1");
	json_object_set_new(rec, "ok", json_true());
	ht_json_set_str(rec, "store", store_dir);
	ht_json_set_str(rec, "store_tag", o.tag);
	json_object_set_new(rec, "reference", json_sprintf("oci:%s:%s", store_dir, o.tag));
	ht_json_set_str(rec, "digest", man_digest);
	ht_json_set_str(rec, "media_type", HT_OCI_MT_MANIFEST);
	ht_json_set_str(rec, "config_digest", cfg_digest);
	ht_json_set_str(rec, "config_media_type", HT_OCI_MT_CONFIG);
	json_object_set(rec, "platform", platform);
	if (have_base) {
		/* Where the base came from, so that ht-push can mount its
		 * blobs instead of sending them. */
		json_t *b = json_object();

		ht_json_set_str(b, "digest", base.manifest_desc.digest);
		if (base_rec) {
			ht_json_set_str(b, "reference", ht_json_str(base_rec, "reference", NULL));
			ht_json_set_str(b, "registry", ht_json_str(base_rec, "registry", NULL));
			ht_json_set_str(b, "repository", ht_json_str(base_rec, "repository", NULL));
		}
		json_object_set_new(rec, "base", b);
	}
	if (rev)
		ht_json_set_str(rec, "revision", rev);
	arr = json_array();
	for (i = 0; i < nlayers; i++)
		json_array_append_new(arr, layer_record(&layers[i]));
	json_object_set_new(rec, "layers", arr);
	ht_json_set_int(rec, "size", total);
	ht_json_set_int(rec, "uncompressed_size", uncompressed);
	ht_record_write(stdout, rec, 1);
	json_decref(rec);
done:
	json_decref(entrypoint);
	json_decref(platform);
	json_decref(manifest);
	json_decref(config);
	json_decref(base_rec);
	json_decref(o.labels);
	for (i = 0; i < nlayers; i++)
		ht_oci_desc_release(&layers[i].desc);
	free(layers);
	free(rev);
	free(runner);
	free(cache_dir);
	free(store_dir);
	free(state_dir);
	free(cfg_tag);
	ht_config_release(&cfg);
	ht_oci_image_release(&base);
	ht_oci_close(&store);
	ht_oci_close(&other);
	return ht_finish_stdout(rc);
}
