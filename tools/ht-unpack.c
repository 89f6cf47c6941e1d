/*
 * ht-unpack: unpack an image of the store into a root file system in a
 * cache directory (once per manifest digest), as the local provider does,
 * and write an ht.rootfs/1 record. See docs/ht-unpack.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/ht.h"
#include "ht/oci.h"
#include "ht/rootfs.h"

static const struct ht_tool tool = {
	"ht-unpack", "[OPTIONS] [IMAGE] DEST",
	"Unpack an image of the store (IMAGE: a tag or digest, or an ht.image/1 record on stdin) "
	"into DEST/HEX/rootfs, once per digest.",
	"  -S, --store DIR        the image store (default .hypertest/oci)\n"
	"      --max-size BYTES   refuse layers larger than this uncompressed, all together\n"
	"                         (default 10G; suffixes K, M, G)\n"
	"      --max-entries N    refuse layers with more entries than this, all together\n"
	"                         (default 4000000)\n"
	"      --same-owner       apply the layers' uid/gid (when running as root)\n"
	"      --prune            then remove the other roots in DEST\n",
};

/* A JSON array of the strings of a NULL-terminated vector: new reference. */
static json_t *strv_json(char **v)
{
	json_t *a = json_array();

	while (v && *v)
		json_array_append_new(a, json_string(*v++));
	return a;
}

/* Reads the IMAGE from an ht.image/1 record on stdin; *store_dir is
 * set from it when it names one. Returns the exit code (0: fine). */
static int read_record(json_t **in, const char **source, const char **store_dir)
{
	int rc = ht_record_read_one(stdin, "stdin", "ht.image/1", "(or give IMAGE)", in);

	if (rc)
		return rc;
	if (!ht_json_bool(*in, "ok", 1)) {
		ht_error("stdin:1: the image record is a failure; nothing to unpack");
		return HT_EXIT_DATAERR;
	}
	*source = ht_json_str(*in, "digest", NULL);
	if (!*source || !ht_digest_valid(*source)) {
		ht_error("stdin:1: the record has no manifest 'digest'");
		return HT_EXIT_DATAERR;
	}
	if (ht_json_str(*in, "store", NULL))
		*store_dir = ht_json_str(*in, "store", NULL);
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_MAX_SIZE = 0x2000, OPT_MAX_ENTRIES, OPT_SAME_OWNER, OPT_PRUNE };
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "store", required_argument, 0, 'S' },
		{ "max-size", required_argument, 0, OPT_MAX_SIZE },
		{ "max-entries", required_argument, 0, OPT_MAX_ENTRIES },
		{ "same-owner", no_argument, 0, OPT_SAME_OWNER },
		{ "prune", no_argument, 0, OPT_PRUNE },
		{ 0, 0, 0, 0 }
	};
	const char *store_dir = HT_OCI_DEFAULT_DIR, *source = NULL, *dest;
	struct ht_rootfs_opts opts = { 0, 0, 0 };
	struct ht_oci_store st = { 0 };
	struct ht_rootfs r;
	struct ht_rootfs_exec x;
	json_t *in = NULL, *rec;
	int64_t v;
	long n;
	int c, prune = 0, code = HT_EXIT_OK;
	int64_t t0 = ht_now_ms();

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "S:", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': store_dir = optarg; break;
		case OPT_MAX_SIZE:
			if (ht_parse_size(optarg, &v) < 0 || v == 0)
				ht_usage_error(&tool, "--max-size: expected a number of bytes, got '%s'", optarg);
			opts.max_size = v;
			break;
		case OPT_MAX_ENTRIES:
			if (ht_parse_long(optarg, 1, 1L << 40, &n) < 0)
				ht_usage_error(&tool, "--max-entries: expected a positive number, got '%s'", optarg);
			opts.max_entries = n;
			break;
		case OPT_SAME_OWNER: opts.same_owner = 1; break;
		case OPT_PRUNE: prune = 1; break;
		default:
			ht_cli_common(&tool, c, optarg);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		ht_usage_error(&tool, "expected [IMAGE] DEST");
	dest = argv[argc - 1];
	ht_rootfs_init(&r);
	ht_rootfs_exec_init(&x);
	if (argc - optind == 2)
		source = argv[optind];
	else if ((code = read_record(&in, &source, &store_dir)) != 0)
		goto out;
	if (ht_oci_open(&st, store_dir, 0) < 0) {
		r.error_code = "not_found";
		r.exit_code = HT_EXIT_NOINPUT;
	} else if (ht_rootfs_prepare_opts(&st, source, dest, &opts, &r) == 0 &&
		   ht_rootfs_exec_load(&st, r.digest, &x) < 0) {
		r.error_code = "bad_layer";
		r.exit_code = HT_EXIT_DATAERR;
	}
	if (r.error_code == NULL && prune) {
		const char *keep[1] = { r.digest };

		if (ht_rootfs_gc(dest, keep, 1, &n) < 0) {
			r.error_code = "io";
			r.exit_code = HT_EXIT_IOERR;
		} else if (n) {
			ht_info("removed %ld other root%s from '%s'", n, n == 1 ? "" : "s", dest);
		}
	}
	rec = ht_record_new("ht.rootfs/1");
	json_object_set_new(rec, "ok", json_boolean(r.error_code == NULL));
	ht_json_set_str(rec, "source", source);
	if (r.digest[0])
		ht_json_set_str(rec, "digest", r.digest);
	if (r.error_code == NULL) {
		ht_json_set_str(rec, "path", r.path);
		ht_json_set_int(rec, "size", r.size);
		ht_json_set_int(rec, "files", r.files);
		ht_json_set_int(rec, "entries", r.entries);
		ht_json_set_int(rec, "layers", (long long)r.layers);
		json_object_set_new(rec, "reused", json_boolean(r.reused));
		json_object_set_new(rec, "entrypoint", strv_json(x.entrypoint));
		json_object_set_new(rec, "cmd", strv_json(x.cmd));
		json_object_set_new(rec, "env", strv_json(x.env));
		ht_json_set_str(rec, "working_dir", x.working_dir);
		ht_json_set_str(rec, "user", x.user);
		ht_info("%s %s: %lld files, %lld bytes", r.reused ? "reused" : "unpacked", r.path,
			(long long)r.files, (long long)r.size);
	} else {
		json_t *err = json_object();

		ht_json_set_str(err, "code", r.error_code);
		ht_json_set_str(err, "message", "the unpack failed; see the messages on stderr");
		json_object_set_new(rec, "error", err);
		code = r.exit_code ? r.exit_code : HT_EXIT_SOFTWARE;
	}
	ht_json_set_int(rec, "duration_ms", ht_now_ms() - t0);
	ht_record_write(stdout, rec, 1);
	json_decref(rec);
out:
	json_decref(in);
	ht_rootfs_exec_release(&x);
	ht_rootfs_release(&r);
	ht_oci_close(&st);
	return ht_finish_stdout(code);
}
