/*
 * ht-gc: drop what the image store and the unpacked roots hold that no tag
 * reaches any more. See docs/ht-gc.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ht/ht.h"
#include "ht/oci.h"
#include "ht/rootfs.h"

static const struct ht_tool tool = {
	"ht-gc", "[OPTIONS]",
	"Remove the store's blobs that no tag reaches, and the unpacked roots of images no tag names.",
	"  -S, --store DIR       the image store (default: the config's image.store)\n"
	"      --rootfs DIR      the unpacked roots (default: DIR/rootfs of the config's dir)\n",
};

/* A path from the config, relative to the project root unless absolute;
 * new string. */
static char *from_root(const struct ht_config *c, const char *p)
{
	return p[0] == '/' ? ht_xstrdup(p) : ht_path_join(c->root, p);
}

int main(int argc, char **argv)
{
	enum { OPT_ROOTFS = 0x2000 };
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "store", required_argument, 0, 'S' },
		{ "rootfs", required_argument, 0, OPT_ROOTFS },
		{ 0, 0, 0, 0 },
	};
	struct ht_config cfg;
	struct ht_oci_store st;
	const char *store_opt = NULL, *rootfs_opt = NULL;
	char *store_dir, *rootfs_dir;
	const char **keep = NULL;
	size_t nkeep = 0, i;
	long blobs = 0, roots = 0;
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
	rec = ht_record_new("ht.gc/1");
	json_object_set_new(rec, "ok", json_true());
	ht_json_set_str(rec, "store", store_dir);
	ht_json_set_int(rec, "blobs_removed", blobs);
	ht_json_set_int(rec, "bytes_freed", bytes);
	ht_json_set_str(rec, "rootfs", rootfs_dir);
	ht_json_set_int(rec, "roots_removed", roots);
	ht_record_write(stdout, rec, 0);
	json_decref(rec);
	if (ht_verbosity >= 0)
		fprintf(stderr, "%s: removed %ld blobs (%lld bytes) and %ld unpacked roots\n", tool.name, blobs,
			(long long)bytes, roots);
out:
	free(keep);
	json_decref(index);
	ht_oci_close(&st);
	free(store_dir);
	free(rootfs_dir);
	ht_config_release(&cfg);
	return ht_finish_stdout(code);
}
