/*
 * Unit tests of lib/rootfs.c: the image config helper, the garbage
 * collector of the cache, and prepare on an image made with libht's own
 * layer writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/layer.h"
#include "ht/oci.h"
#include "ht/rootfs.h"
#include "tap.h"

static char *tmpdir;

static void test_exec(void)
{
	struct ht_rootfs_exec x;
	json_t *cfg = json_pack("{s:{s:[s,s], s:[s], s:[s,s], s:s, s:s}}", "config",
				"Entrypoint", "/lib/ld.so", "/bin/runner", "Cmd", "arg",
				"Env", "PATH=/bin", "A=b", "WorkingDir", "/var/task", "User", "1000");

	ht_rootfs_exec_init(&x);
	ok(ht_rootfs_exec_from_config(cfg, &x) == 0, "exec: a full config");
	is_str(x.entrypoint[1], "/bin/runner", "exec: entrypoint");
	ok(x.entrypoint[2] == NULL, "exec: entrypoint is NULL-terminated");
	is_str(x.cmd[0], "arg", "exec: cmd");
	is_str(x.env[1], "A=b", "exec: env");
	is_str(x.working_dir, "/var/task", "exec: working dir");
	is_str(x.user, "1000", "exec: user");
	ht_rootfs_exec_release(&x);
	json_decref(cfg);

	cfg = json_pack("{s:{s:n}}", "config", "Cmd");
	ok(ht_rootfs_exec_from_config(cfg, &x) == 0, "exec: an empty config");
	ok(x.entrypoint[0] == NULL && x.cmd[0] == NULL && x.env[0] == NULL, "exec: empty arrays");
	is_str(x.working_dir, "/", "exec: working dir defaults to /");
	ht_rootfs_exec_release(&x);
	json_decref(cfg);

	cfg = json_pack("{s:{s:s}}", "config", "Entrypoint", "/bin/sh -c x");
	ok(ht_rootfs_exec_from_config(cfg, &x) < 0, "exec: a string Entrypoint is refused");
	ht_rootfs_exec_release(&x);
	json_decref(cfg);
	cfg = json_pack("{s:{s:[i]}}", "config", "Env", 3);
	ok(ht_rootfs_exec_from_config(cfg, &x) < 0, "exec: a number in Env is refused");
	ht_rootfs_exec_release(&x);
	json_decref(cfg);
}

static void mkdirf(const char *dir, const char *name)
{
	char *p = ht_path_join(dir, name);

	ht_mkdir_p(p, 0755);
	free(p);
}

static int exists(const char *dir, const char *name)
{
	char *p = ht_path_join(dir, name);
	struct stat st;
	int r = lstat(p, &st) == 0;

	free(p);
	return r;
}

static void test_gc(void)
{
	char *cache = ht_path_join(tmpdir, "gc");
	char a[65], b[65], c[65], keep[HT_DIGEST_LEN + 1], *stale, *live, *lockpath;
	const char *keepv[2];
	long removed = -1;
	int lock;

	memset(a, 'a', 64);
	memset(b, 'b', 64);
	memset(c, 'c', 64);
	a[64] = b[64] = c[64] = '\0';
	mkdirf(cache, a);
	mkdirf(cache, b);
	mkdirf(cache, c);
	mkdirf(cache, "b/rootfs/deep/er");
	mkdirf(cache, "other");
	stale = ht_xasprintf(".tmp-%s-999999999-0", a);
	live = ht_xasprintf(".tmp-%s-%ld-0", a, (long)getpid());
	mkdirf(cache, stale);
	mkdirf(cache, live);
	/* c is being prepared: its lock is held. */
	lockpath = ht_xasprintf("%s/%s.lock", cache, c);
	lock = open(lockpath, O_RDWR | O_CREAT, 0644);
	ok(lock >= 0 && flock(lock, LOCK_EX) == 0, "gc: hold the lock of c");

	snprintf(keep, sizeof(keep), "sha256:%s", a);
	keepv[0] = keep;
	keepv[1] = NULL;
	ok(ht_rootfs_gc(cache, keepv, 2, &removed) == 0, "gc: runs");
	is_int(removed, 1, "gc: one root removed");
	ok(exists(cache, a), "gc: a root kept");
	ok(!exists(cache, b), "gc: b removed");
	ok(exists(cache, c), "gc: c, being prepared, left alone");
	ok(exists(cache, "other"), "gc: other names left alone");
	ok(!exists(cache, stale), "gc: a dead process's temporary directory removed");
	ok(exists(cache, live), "gc: a live process's temporary directory kept");
	close(lock);
	ok(ht_rootfs_gc(cache, NULL, 0, &removed) == 0 && removed == 2, "gc: keep nothing");
	ok(!exists(cache, a) && !exists(cache, c), "gc: all roots gone");
	ok(ht_rootfs_gc("/nonexistent/cache", NULL, 0, &removed) == 0 && removed == 0,
	   "gc: a missing cache is empty");
	free(stale);
	free(live);
	free(lockpath);
	free(cache);
}

static void test_prepare(void)
{
	struct ht_oci_store s = { 0 };
	struct ht_layer_list l;
	struct ht_layer_opts lo = { 0, 1, 1, NULL };
	struct ht_layer_result lr;
	struct ht_rootfs r;
	char *dir = ht_path_join(tmpdir, "store");
	char *cache = ht_path_join(tmpdir, "cache");
	char *src = ht_path_join(tmpdir, "hello.txt");
	char *path = NULL, *p;
	char cfgd[HT_DIGEST_LEN + 1], mand[HT_DIGEST_LEN + 1];
	int64_t cfgsize, mansize;
	json_t *cfg, *man;
	struct ht_rootfs_opts small = { 10, 0, 0 };

	ok(ht_oci_open(&s, dir, 1) == 0, "prepare: a store");
	ht_write_file_atomic(src, "hello\n", 6, 0644);
	ht_layer_list_init(&l);
	ht_layer_add_file(&l, "var/task/hello.txt", src, 0);
	ok(ht_layer_build(&s, &l, &lo, &lr) == 0, "prepare: a layer");
	ht_layer_list_release(&l);
	cfg = json_pack("{s:s, s:s, s:{s:[s]}, s:{s:s, s:[s]}}", "architecture", ht_oci_host_arch(),
			"os", "linux", "config", "Entrypoint", "/bin/true",
			"rootfs", "type", "layers", "diff_ids", lr.diff_id);
	ht_oci_put_json(&s, cfg, cfgd, &cfgsize);
	man = json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType", HT_OCI_MT_MANIFEST,
			"config", ht_oci_desc_json(HT_OCI_MT_CONFIG, cfgd, cfgsize),
			"layers", ht_oci_desc_json(HT_OCI_MT_LAYER_GZIP, lr.digest, lr.size));
	ht_oci_put_json(&s, man, mand, &mansize);

	ok(ht_rootfs_prepare(&s, mand, cache, &path) == 0, "prepare: unpacks");
	p = ht_xasprintf("%s/%s/rootfs", cache, mand + 7);
	is_str(path, p, "prepare: the path is CACHE/HEX/rootfs");
	free(p);
	p = ht_xasprintf("%s/var/task/hello.txt", path);
	{
		char *text = NULL;

		ok(ht_read_file(p, 0, &text, NULL) == 0 && !strcmp(text, "hello\n"), "prepare: the file is there");
		free(text);
	}
	free(p);
	free(path);

	ht_rootfs_init(&r);
	ok(ht_rootfs_prepare_opts(&s, mand, cache, NULL, &r) == 0 && r.reused, "prepare: reused");
	is_int(r.files, 1, "prepare: one file");
	is_int(r.entries, 3, "prepare: three entries (var, var/task, the file)");
	is_int(r.size, 6, "prepare: six bytes");
	ok(r.mark >= 0, "prepare: holds the in-use mark");
	{
		long removed = -1;
		char *root = ht_path_join(cache, mand + 7);
		char *mark = ht_xasprintf("%s.inuse", root);
		char *orphan = ht_xasprintf("%s/%064d.inuse", cache, 0);
		struct ht_rootfs r2;
		struct stat st;
		int fd;

		ht_write_file_atomic(orphan, "", 0, 0644);
		ok(ht_rootfs_gc(cache, NULL, 0, &removed) == 0 && removed == 0,
		   "gc: a root whose mark a prepared struct holds is kept");
		ok(stat(root, &st) == 0 && stat(mark, &st) == 0, "gc: the root and its mark are there");
		ok(stat(orphan, &st) < 0 && errno == ENOENT, "gc: a mark without its root is removed");
		/* Two holders: the first release keeps the file, the last drops it. */
		ht_rootfs_init(&r2);
		ok(ht_rootfs_prepare_opts(&s, mand, cache, NULL, &r2) == 0 && r2.reused, "prepare: a second user");
		ht_rootfs_release(&r);
		ok(r.mark == -1 && stat(mark, &st) == 0, "release: the mark stays while another holds it");
		ht_rootfs_release(&r2);
		ok(stat(mark, &st) < 0 && errno == ENOENT, "release: the last holder unlinks the mark");
		/* Someone else (a sandbox runner) holds it shared now. */
		fd = ht_rootfs_lock(cache, mand + 7, ".inuse", LOCK_SH);
		ok(fd >= 0, "lock: the mark shared");
		ok(ht_rootfs_lock(cache, mand + 7, ".inuse", LOCK_EX | LOCK_NB) == -2,
		   "lock: an exclusive try while it is shared: -2");
		ok(ht_rootfs_gc(cache, NULL, 0, &removed) == 0 && removed == 0, "gc: a held mark keeps the root");
		close(fd);
		ok(ht_rootfs_gc(cache, NULL, 0, &removed) == 0 && removed == 1, "gc: an unused root is removed");
		ok(stat(root, &st) < 0 && stat(mark, &st) < 0, "gc: with its mark");
		free(root);
		free(mark);
		free(orphan);
	}
	ht_rootfs_release(&r);
	ok(ht_rootfs_prepare_opts(&s, mand, cache, NULL, &r) == 0 && !r.reused, "prepare: unpacks it again");
	ht_rootfs_release(&r);

	ht_rootfs_init(&r);
	ok(ht_rootfs_prepare_opts(&s, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
				  cache, NULL, &r) < 0, "prepare: an unknown digest");
	is_str(r.error_code, "not_found", "prepare: not_found");
	ht_rootfs_release(&r);

	{
		char *other = ht_path_join(tmpdir, "cache2");

		ht_rootfs_init(&r);
		ok(ht_rootfs_prepare_opts(&s, mand, other, &small, &r) < 0, "prepare: over the size limit");
		is_str(r.error_code, "too_large", "prepare: too_large");
		is_int(r.exit_code, HT_EXIT_DATAERR, "prepare: exit 65");
		ht_rootfs_release(&r);
		free(other);
	}

	json_decref(cfg);
	json_decref(man);
	ht_oci_close(&s);
	free(src);
	free(cache);
	free(dir);
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/test-rootfs.XXXXXX";

	ht_diag_init(argc > 0 ? argv[0] : "test-rootfs");
	ht_verbosity = -1;
	tmpdir = mkdtemp(tmpl);
	if (!tmpdir)
		return 1;
	test_exec();
	test_gc();
	test_prepare();
	ht_remove_tree(tmpdir);
	return tap_done();
}
