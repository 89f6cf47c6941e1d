/*
 * ht-gc: drop what the image store and the unpacked roots hold that no tag
 * reaches any more. See docs/ht-gc.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ht/ht.h"
#include "ht/oci.h"
#include "ht/rootfs.h"
#include "ht/id.h"
#include "providers/local/settings.h"

static const struct ht_tool tool = {
	"ht-gc", "[OPTIONS]",
	"Remove the store's blobs that no tag reaches, and the unpacked roots of images no tag names.",
	"  -S, --store DIR       the image store (default: the config's image.store)\n"
	"      --rootfs DIR      the unpacked roots (default: DIR/rootfs of the config's dir)\n"
	"      --runs N          keep the newest N runs in the local bucket directory, remove older ones\n"
	"                        (config: local.keep_runs; 0 keeps all)\n",
};

struct run_dir {
	char *name;
	struct timespec mtime;
};

static int newest_first(const void *a, const void *b)
{
	const struct run_dir *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Keeps the newest keep runs of the bucket directory (directories named
 * by a run id, by their time of last change) and removes the others.
 * Anything else there (the duration history) stays. Returns 0 or -1.
 */
static int prune_runs(const char *bucket, long keep, long *removed)
{
	DIR *d = opendir(bucket);
	struct dirent *e;
	struct run_dir *v = NULL;
	size_t n = 0, i;
	int rc = 0;

	*removed = 0;
	if (!d)
		return errno == ENOENT ? 0 : ht_error("cannot read '%s': %s", bucket, strerror(errno));
	while ((e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] == '.' || !ht_id_safe(e->d_name) || !strcmp(e->d_name, "history"))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		v = ht_xrealloc(v, sizeof(*v) * (n + 1));
		v[n].name = ht_xstrdup(e->d_name);
		v[n].mtime = st.st_mtim;
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), newest_first);
	for (i = 0; i < n; i++) {
		if ((long)i >= keep && rc == 0) {
			char *p = ht_path_join(bucket, v[i].name);

			if (ht_remove_tree(p) < 0)
				rc = ht_error("cannot remove the run '%s': %s", p, strerror(errno));
			else
				(*removed)++;
			free(p);
		}
		free(v[i].name);
	}
	free(v);
	return rc;
}

/* A path from the config, relative to the project root unless absolute;
 * new string. */
static char *from_root(const struct ht_config *c, const char *p)
{
	return p[0] == '/' ? ht_xstrdup(p) : ht_path_join(c->root, p);
}

int main(int argc, char **argv)
{
	enum { OPT_ROOTFS = 0x2000, OPT_RUNS };
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "store", required_argument, 0, 'S' },
		{ "rootfs", required_argument, 0, OPT_ROOTFS },
		{ "runs", required_argument, 0, OPT_RUNS },
		{ 0, 0, 0, 0 },
	};
	struct ht_config cfg;
	struct ht_oci_store st;
	const char *store_opt = NULL, *rootfs_opt = NULL;
	char *store_dir, *rootfs_dir;
	const char **keep = NULL;
	size_t nkeep = 0, i;
	long blobs = 0, roots = 0, keep_runs = -1, runs = 0;
	char *bucket_dir = NULL;
	int64_t bytes = 0;
	json_t *index = NULL, *m, *rec;
	struct stat sb;
	int c, code = HT_EXIT_OK;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "S:", longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		if (c == 'S')
			store_opt = optarg;
		else if (c == OPT_ROOTFS)
			rootfs_opt = optarg;
		else if (c == OPT_RUNS && ht_parse_long(optarg, 0, 1000000, &keep_runs) < 0)
			ht_usage_error(&tool, "--runs: '%s' is not a number of runs (0 to 1000000)", optarg);
	}
	if (optind < argc)
		ht_usage_error(&tool, "unexpected argument '%s'", argv[optind]);
	ht_config_load_or_die(&cfg);
	store_dir = store_opt ? ht_xstrdup(store_opt) : from_root(&cfg, cfg.image.store);
	rootfs_dir = rootfs_opt ? ht_xstrdup(rootfs_opt) : ht_config_state_path(&cfg, "rootfs");

	memset(&st, 0, sizeof(st));
	if (stat(store_dir, &sb) < 0 && errno == ENOENT) {
		ht_info("no image store at '%s': nothing to do", store_dir);
	} else if (ht_oci_open(&st, store_dir, 0) < 0 || ht_oci_gc(&st, &blobs, &bytes) < 0 ||
		   ht_oci_read_index(&st, &index) < 0) {
		code = HT_EXIT_IOERR;
		goto out;
	}
	/* The roots to keep: those of every manifest a tag names. */
	json_array_foreach(json_object_get(index, "manifests"), i, m) {
		const char *d = ht_json_str(m, "digest", NULL);

		if (d) {
			keep = ht_xrealloc(keep, sizeof(*keep) * (nkeep + 1));
			keep[nkeep++] = d;
		}
	}
	if (stat(rootfs_dir, &sb) == 0 && ht_rootfs_gc(rootfs_dir, keep, nkeep, &roots) < 0) {
		code = HT_EXIT_IOERR;
		goto out;
	}
	if (keep_runs < 0)
		keep_runs = ht_local_settings(&cfg)->keep_runs;
	if (keep_runs > 0) {
		bucket_dir = ht_local_bucket_dir(&cfg);
		if (prune_runs(bucket_dir, keep_runs, &runs) < 0) {
			code = HT_EXIT_IOERR;
			goto out;
		}
	}
	rec = ht_record_new("ht.gc/1");
	json_object_set_new(rec, "ok", json_true());
	ht_json_set_str(rec, "store", store_dir);
	ht_json_set_int(rec, "blobs_removed", blobs);
	ht_json_set_int(rec, "bytes_freed", bytes);
	ht_json_set_str(rec, "rootfs", rootfs_dir);
	ht_json_set_int(rec, "roots_removed", roots);
	if (bucket_dir) {
		ht_json_set_str(rec, "bucket", bucket_dir);
		ht_json_set_int(rec, "runs_kept", keep_runs);
		ht_json_set_int(rec, "runs_removed", runs);
	}
	ht_record_write(stdout, rec, 0);
	json_decref(rec);
	if (ht_verbosity >= 0)
		fprintf(stderr, "%s: removed %ld blobs (%lld bytes), %ld unpacked roots and %ld old runs\n", tool.name,
			blobs, (long long)bytes, roots, runs);
out:
	free(keep);
	json_decref(index);
	ht_oci_close(&st);
	free(store_dir);
	free(rootfs_dir);
	free(bucket_dir);
	ht_config_release(&cfg);
	return ht_finish_stdout(code);
}
