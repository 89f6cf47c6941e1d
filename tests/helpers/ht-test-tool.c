/*
 * ht-test-tool: exposes libht functions to the shell tests, as git's
 * test-tool does. Not installed.
 *
 *   ht-test-tool jsonl-cat [--max N] [--schema S]   records from stdin to stdout
 *   ht-test-tool sha256 FILE | uuid | atomic-write PATH (stdin to PATH)
 *   ht-test-tool run-deadline MS CMD...    run CMD with a deadline, print the outcome
 *   ht-test-tool oci-write STORE TAG       a writer of the image store caught between
 *                                          writing an image and tagging it: writes a
 *                                          layer, a config and a manifest, prints their
 *                                          digests, waits for a line on stdin, then tags
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/oci.h"

static int jsonl_cat(int argc, char **argv)
{
	struct ht_jsonl_reader r;
	size_t max = 0;
	const char *schema = NULL;
	json_t *rec;
	int rc, status = 0, i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--max") && i + 1 < argc)
			max = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--schema") && i + 1 < argc)
			schema = argv[++i];
	}
	ht_jsonl_reader_init(&r, stdin, "stdin", max);
	while ((rc = ht_jsonl_read(&r, &rec)) != 0) {
		char where[64];

		if (rc == -2) {
			status = HT_EXIT_IOERR;
			break;
		}
		if (rc < 0) {
			status = HT_EXIT_DATAERR;
			continue;
		}
		snprintf(where, sizeof(where), "stdin:%zu", r.lineno);
		if (schema && ht_record_check_schema(rec, schema, where) < 0)
			status = HT_EXIT_DATAERR;
		else if (ht_record_write(stdout, rec, 0) < 0) {
			json_decref(rec);
			break; /* ht_finish_stdout reports it */
		}
		json_decref(rec);
	}
	ht_jsonl_reader_release(&r);
	return status;
}

static int run_deadline(int argc, char **argv)
{
	struct ht_proc p;
	long ms;

	if (argc < 2 || ht_parse_long(argv[0], 0, 86400000, &ms) < 0)
		ht_die(HT_EXIT_USAGE, "usage: run-deadline MS CMD...");
	ht_proc_init(&p, argv + 1);
	p.deadline_ms = ms ? ht_now_ms() + ms : 0;
	p.grace_ms = 500;
	if (ht_proc_run(&p) < 0)
		return HT_EXIT_OSERR;
	printf("%s\n", ht_proc_describe(&p));
	return 0;
}

static int oci_write(const char *dir, const char *tag)
{
	struct ht_oci_store st = { 0 };
	char layer[HT_DIGEST_LEN + 1], cfgd[HT_DIGEST_LEN + 1], mand[HT_DIGEST_LEN + 1], line[16];
	char *data = ht_xasprintf("layer of %ld at %lld", (long)getpid(), (long long)ht_now_ms());
	json_t *cfg = NULL, *man = NULL;
	int64_t cfgsize, mansize;
	int rc = HT_EXIT_IOERR;

	if (ht_oci_open(&st, dir, 1) < 0 || ht_oci_put_blob(&st, data, strlen(data), layer) < 0)
		goto out;
	cfg = json_pack("{s:s, s:s, s:{s:s, s:[s]}}", "architecture", ht_oci_host_arch(), "os", "linux",
			"rootfs", "type", "layers", "diff_ids", layer);
	if (ht_oci_put_json(&st, cfg, cfgd, &cfgsize) < 0)
		goto out;
	man = json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType", HT_OCI_MT_MANIFEST,
			"config", ht_oci_desc_json(HT_OCI_MT_CONFIG, cfgd, cfgsize),
			"layers", ht_oci_desc_json(HT_OCI_MT_LAYER, layer, (int64_t)strlen(data)));
	if (ht_oci_put_json(&st, man, mand, &mansize) < 0)
		goto out;
	printf("%s\n%s\n%s\n", mand, cfgd, layer);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) && ferror(stdin))
		goto out;
	if (ht_oci_tag(&st, tag, mand, HT_OCI_MT_MANIFEST, mansize, NULL) == 0)
		rc = 0;
out:
	json_decref(cfg);
	json_decref(man);
	free(data);
	ht_oci_close(&st);
	return rc;
}

int main(int argc, char **argv)
{
	ht_diag_init(argv[0]);
	if (argc < 2)
		ht_die(HT_EXIT_USAGE, "usage: ht-test-tool COMMAND [ARGS]");
	if (!strcmp(argv[1], "jsonl-cat"))
		return ht_finish_stdout(jsonl_cat(argc - 2, argv + 2));
	if (!strcmp(argv[1], "run-deadline"))
		return ht_finish_stdout(run_deadline(argc - 2, argv + 2));
	if (!strcmp(argv[1], "sha256") && argc == 3) {
		char d[HT_DIGEST_LEN + 1];

		if (ht_sha256_file(argv[2], d) < 0)
			return HT_EXIT_IOERR;
		printf("%s\n", d);
		return ht_finish_stdout(0);
	}
	if (!strcmp(argv[1], "oci-write") && argc == 4)
		return ht_finish_stdout(oci_write(argv[2], argv[3]));
	if (!strcmp(argv[1], "uuid")) {
		char u[HT_UUID_LEN + 1];

		if (ht_uuid4(u) < 0)
			return HT_EXIT_SOFTWARE;
		printf("%s\n", u);
		return ht_finish_stdout(0);
	}
	if (!strcmp(argv[1], "atomic-write") && argc == 3) {
		struct ht_atomic_file af;
		char buf[4096];
		size_t n;

		if (ht_atomic_open(&af, argv[2], 0644) < 0)
			return HT_EXIT_IOERR;
		while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			fwrite(buf, 1, n, af.fp);
		if (ferror(stdin)) {
			ht_atomic_abort(&af);
			return HT_EXIT_IOERR;
		}
		return ht_atomic_commit(&af) < 0 ? HT_EXIT_IOERR : 0;
	}
	ht_die(HT_EXIT_USAGE, "unknown command '%s'", argv[1]);
}
