/*
 * Unit tests of util.c and jsonl.c accessors.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ht/ht.h"
#include "tap.h"

static void test_buf(void)
{
	struct ht_buf b;
	char *s;

	ht_buf_init(&b, 10);
	ok(ht_buf_addstr(&b, "hello") == 0, "buf: add within max");
	ok(ht_buf_addf(&b, "%d", 1234) == 0, "buf: addf within max");
	is_str(b.data, "hello1234", "buf: content");
	errno = 0;
	ok(ht_buf_addstr(&b, "xy") < 0 && errno == EFBIG, "buf: refuses to grow past max");
	is_int((long long)b.len, 9, "buf: unchanged after refusal");
	s = ht_buf_detach(&b);
	is_str(s, "hello1234", "buf: detach hands the string over");
	ok(b.data == NULL && b.len == 0 && b.max == 10, "buf: detach re-initialises");
	free(s);
	ht_buf_release(&b);
}

static void test_strings(void)
{
	long v;
	char *p;

	ok(ht_parse_long("42", 0, 100, &v) == 0 && v == 42, "parse_long: plain");
	ok(ht_parse_long("101", 0, 100, &v) < 0, "parse_long: out of range");
	ok(ht_parse_long("4x", 0, 100, &v) < 0, "parse_long: trailing junk");
	ok(ht_parse_long("", 0, 100, &v) < 0, "parse_long: empty");
	{
		int64_t sz;

		ok(ht_parse_size("10G", &sz) == 0 && sz == 10LL << 30, "parse_size: G");
		ok(ht_parse_size("3KiB", &sz) == 0 && sz == 3072, "parse_size: KiB");
		ok(ht_parse_size("512", &sz) == 0 && sz == 512, "parse_size: bytes");
		ok(ht_parse_size("1.5G", &sz) < 0 && ht_parse_size("-1", &sz) < 0 && ht_parse_size("G", &sz) < 0 &&
		   ht_parse_size("5X", &sz) < 0 && ht_parse_size("99999999999G", &sz) < 0, "parse_size: refusals");
	}
	p = ht_path_join("a/", "/b");
	is_str(p, "a/b", "path_join: one slash");
	free(p);
	p = ht_path_join("", "b");
	is_str(p, "b", "path_join: empty first part");
	free(p);
	ok(ht_starts_with("sha256:ab", "sha256:"), "starts_with");
	ok(ht_ends_with("x.jsonl", ".jsonl") && !ht_ends_with("l", ".jsonl"), "ends_with");
}

static void test_digest(void)
{
	char d[HT_DIGEST_LEN + 1], hex[HT_SHA256_HEX_LEN + 1];

	ht_sha256_digest("", 0, d);
	is_str(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 of nothing");
	ht_sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 hex of abc");
	ok(ht_digest_valid(d), "digest_valid: good");
	ok(!ht_digest_valid("sha256:E3B0"), "digest_valid: short, upper case");
	ok(!ht_digest_valid("md5:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "digest_valid: algorithm");
}

static void test_base64(void)
{
	size_t len = 0;
	char *s;

	s = ht_base64_decode("QVdTOnNlY3JldA==", &len);
	is_str(s, "AWS:secret", "base64: two pad bytes");
	is_int((long long)len, 10, "base64: length without the padding");
	free(s);
	s = ht_base64_decode("YWJj", &len);
	is_str(s, "abc", "base64: no padding");
	free(s);
	s = ht_base64_decode("YQBi", &len);
	ok(s && len == 3 && s[1] == '\0' && s[2] == 'b', "base64: a NUL byte inside is kept");
	free(s);
	ok(ht_base64_decode("abc", NULL) == NULL, "base64: a length not a multiple of 4");
	ok(ht_base64_decode("ab!=", NULL) == NULL, "base64: not base64");
	ok(ht_base64_decode("", NULL) == NULL, "base64: empty");
	s = ht_base64_encode("AWS:secret", 10);
	is_str(s, "QVdTOnNlY3JldA==", "base64: encode with padding");
	free(s);
	s = ht_base64_encode("", 0);
	is_str(s, "", "base64: encode nothing");
	free(s);
	s = ht_base64_decode_text("QVdTOnNlY3JldA==");
	is_str(s, "AWS:secret", "base64: decode text");
	free(s);
	ok(ht_base64_decode_text("YQBi") == NULL, "base64: text with a NUL byte is refused");
	ok(ht_base64_decode_text("ab!=") == NULL, "base64: text that is not base64 is refused");
}

static void test_utf8(void)
{
	char a[] = "ok \xc3\xa9 \xff\xc0\xaf\xed\xa0\x80 \x01x";

	ok(ht_utf8_seq((const unsigned char *)"\xc3\xa9", 2) == 2, "utf8_seq: two bytes");
	ok(ht_utf8_seq((const unsigned char *)"\xc3", 1) == 0, "utf8_seq: cut short");
	ht_utf8_clean(a, strlen(a), 1);
	is_str(a, "ok \xc3\xa9 ??????  x", "utf8_clean: invalid bytes and controls replaced");
}

static void test_time(void)
{
	char ts[32];

	ht_format_time(1764087898123LL, ts);
	is_str(ts, "2025-11-25T16:24:58.123Z", "format_time: RFC 3339 with ms");
	ok(ht_now_ms() > 0, "now_ms runs");
}

static void test_json(void)
{
	json_t *o = json_loads("{\"s\":\"x\",\"i\":3,\"r\":2.5,\"b\":true}", 0, NULL);

	is_str(ht_json_str(o, "s", NULL), "x", "json_str");
	is_str(ht_json_str(o, "i", "d"), "d", "json_str: wrong type gives default");
	is_int(ht_json_int(o, "i", 0), 3, "json_int");
	is_int(ht_json_int(o, "r", 0), 2, "json_int: from a real");
	ok(ht_json_num(o, "r", 0) == 2.5, "json_num");
	ok(ht_json_bool(o, "b", 0) == 1 && ht_json_bool(o, "s", 7) == 7, "json_bool");
	json_decref(o);
}

/* A real that does not fit a long long is not cast (undefined behaviour,
 * which UBSan reports): the default comes back. */
static void test_json_int_range(void)
{
	json_t *o = json_loads("{\"big\":1e300,\"neg\":-1e300,\"edge\":9223372036854775808.0,"
			       "\"fits\":-9223372036854775808.0,\"max\":9223372036854775807,\"s\":\"10\"}",
			       0, NULL);
	long long v;

	is_int(ht_json_int(o, "big", 7), 7, "json_int: 1e300 gives the default");
	is_int(ht_json_int(o, "neg", 7), 7, "json_int: -1e300 gives the default");
	is_int(ht_json_int(o, "edge", 7), 7, "json_int: 2^63 as a real gives the default");
	ok(ht_json_int(o, "fits", 7) == -9223372036854775807LL - 1, "json_int: -2^63 as a real fits");
	is_int(ht_json_int_in(o, "max", 1, 86400, 5, &v), -1, "json_int_in: out of range refused");
	is_int(v, 5, "json_int_in: and the default given");
	is_int(ht_json_int_in(o, "big", 1, 86400, 5, &v), -1, "json_int_in: a real refused");
	is_int(ht_json_int_in(o, "s", 1, 86400, 5, &v), -1, "json_int_in: a string refused");
	ok(ht_json_int_in(o, "none", 1, 86400, 5, &v) == 0 && v == 5, "json_int_in: missing: the default");
	ok(ht_json_int_in(o, "max", 1, LLONG_MAX, 5, &v) == 0 && v == LLONG_MAX, "json_int_in: in range");
	json_decref(o);
}

/* The umask belongs to the whole process: a library call that sets it,
 * even for a moment, changes the mode of files other threads create. This
 * umask() stands in for libc's (the program's own definition wins at link
 * time) and counts the calls. */
static int umask_calls;

mode_t umask(mode_t mask)
{
	umask_calls++;
	return (mode_t)syscall(SYS_umask, mask);
}

static void test_atomic_umask(void)
{
	char dir[] = "/tmp/test-util.XXXXXX";
	char *path;
	struct stat st;
	mode_t old;

	if (!ok(mkdtemp(dir) != NULL, "a scratch directory"))
		return;
	path = ht_path_join(dir, "f");
	old = (mode_t)syscall(SYS_umask, 027);
	umask_calls = 0;
	ok(ht_write_file_atomic(path, "x", 1, 0666) == 0, "write_file_atomic");
	is_int(umask_calls, 0, "atomic_open: the umask is neither read nor set");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "atomic_open: mode 0666 less umask 027 is 0640");
	syscall(SYS_umask, old);
	ht_remove_tree(dir);
	free(path);
}

static void test_which(void)
{
	char dir[] = "/tmp/test-util.XXXXXX";
	char *old = getenv("PATH") ? ht_xstrdup(getenv("PATH")) : NULL;
	char *prog, *sub, *path, *found;

	if (!ok(mkdtemp(dir) != NULL, "which: a scratch directory"))
		return;
	prog = ht_path_join(dir, "prog");
	sub = ht_path_join(dir, "sub");
	ht_write_file_atomic(prog, "#!/bin/sh\n", 10, 0755);
	ht_mkdir_p(sub, 0755);
	path = ht_xasprintf("/nonexistent:%s:%s", dir, sub);
	setenv("PATH", path, 1);
	found = ht_which("prog");
	is_str(found, prog, "which: found in the second entry of PATH");
	free(found);
	ok(ht_which("sub") == NULL, "which: a directory is not a program");
	ok(ht_which("nothere") == NULL, "which: not there");
	found = ht_which(prog);
	is_str(found, prog, "which: a path is taken as it is");
	free(found);
	if (old)
		setenv("PATH", old, 1);
	free(old);
	ht_remove_tree(dir);
	free(prog), free(sub), free(path);
}

static void test_mkdir(void)
{
	char dir[] = "/tmp/test-util.XXXXXX";
	char *deep, *file, *under, *slashes;
	struct stat st;

	ok(ht_mkdir_p("", 0755) < 0, "mkdir_p: an empty path fails (and reads nothing past it)");
	if (!ok(mkdtemp(dir) != NULL, "mkdir_p: a scratch directory"))
		return;
	deep = ht_xasprintf("%s/a/b/c/d", dir);
	ok(ht_mkdir_p(deep, 0755) == 0 && stat(deep, &st) == 0 && S_ISDIR(st.st_mode),
	   "mkdir_p: four missing levels made");
	ok(ht_mkdir_p(deep, 0755) == 0, "mkdir_p: an existing directory is fine");
	slashes = ht_xasprintf("%s/a/e/f//", dir);
	ok(ht_mkdir_p(slashes, 0755) == 0, "mkdir_p: trailing slashes");
	file = ht_xasprintf("%s/a/file", dir);
	ht_write_file_atomic(file, "x", 1, 0644);
	under = ht_xasprintf("%s/a/file/g/h", dir);
	ok(ht_mkdir_p(under, 0755) < 0 && stat(under, &st) < 0, "mkdir_p: under a file it fails");
	ok(ht_mkdir_p(file, 0755) < 0, "mkdir_p: a file is not a directory");
	ht_remove_tree(dir);
	free(deep), free(file), free(under), free(slashes);
}

int main(void)
{
	test_buf();
	test_strings();
	test_digest();
	test_base64();
	test_utf8();
	test_time();
	test_json();
	test_json_int_range();
	test_mkdir();
	test_atomic_umask();
	test_which();
	{
		char *a = ht_path_resolve("/root", "x/y"), *b = ht_path_resolve("/root", "/abs"), *d = ht_self_dir();

		is_str(a, "/root/x/y", "a relative path joins its base");
		is_str(b, "/abs", "an absolute path stays as it is");
		ok(d && d[0] == '/' && strstr(d, "tests") != NULL, "the program's own directory");
		free(a);
		free(b);
		free(d);
	}
	return tap_done();
}
