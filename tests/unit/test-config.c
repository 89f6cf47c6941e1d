/*
 * test-config.c: the JSON position locator and the configuration loader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/config.h"
#include "providers/aws/settings.h"
#include "providers/local/settings.h"
#include "runners/command.h"
#include "tap.h"

/* Where path is in text, as "LINE:COL" (or "-" when not found). */
static const char *where(const char *text, const char *path, int at_key)
{
	static char out[32];
	struct ht_json_step steps[8];
	char buf[128];
	int n = ht_json_path_parse(path, buf, sizeof(buf), steps, 8);
	long off;
	int line, col;

	if (n < 0)
		return "bad path";
	off = ht_json_locate(text, strlen(text), steps, n, at_key);
	if (off < 0)
		return "-";
	ht_json_linecol(text, strlen(text), off, &line, &col);
	snprintf(out, sizeof(out), "%d:%d", line, col);
	return out;
}

static void test_locate(void)
{
	static const char doc[] =
		"{\n"
		"  \"a\": \"x\\\"}{,[\",\n"
		"  \"b\": {\"c\": [1, {\"d\": true}, \"e\"], \"k\\u0065y\": null},\n"
		"\t\"\xc3\xa9t\xc3\xa9\": \"\xc3\xa9\", \"z\": -1.5e3,\n"
		"  \"runner\": {\n"
		"    \"concurency\": 4\n"
		"  }\n"
		"}\n";
	struct ht_json_step s[8];
	char buf[64];

	is_str(where(doc, "a", 0), "2:8", "a string value with escapes");
	is_str(where(doc, "a", 1), "2:3", "its key");
	is_str(where(doc, "b", 0), "3:8", "an object value");
	is_str(where(doc, "b.c", 0), "3:14", "a nested array");
	is_str(where(doc, "b.c[0]", 0), "3:15", "element 0");
	is_str(where(doc, "b.c[1].d", 0), "3:24", "a member of an object in an array");
	is_str(where(doc, "b.c[2]", 0), "3:31", "element 2 after a nested object");
	is_str(where(doc, "b.c[3]", 0), "-", "no element 3");
	is_str(where(doc, "b.key", 1), "3:37", "a key written with a \\u escape");
	is_str(where(doc, "z", 0), "4:19", "columns count UTF-8 characters and a tab as one");
	is_str(where(doc, "runner.concurency", 1), "6:5", "the misspelt key");
	is_str(where(doc, "runner.concurency", 0), "6:19", "its value");
	is_str(where(doc, "nope", 0), "-", "a missing key");
	is_str(where(doc, "a.b", 0), "-", "into a string");
	is_str(where(doc, "b[0]", 0), "-", "an index into an object");
	is_str(where(doc, "", 0), "1:1", "the document");
	is_str(where("{\"a\": [1, 2", "a[1]", 0), "1:11", "truncated text still finds what is there");
	is_str(where("{\"a\": [1, 2", "a[2]", 0), "-", "but not beyond");
	is_str(where("{\"a\": \"unterminated", "b", 0), "-", "an unterminated string");
	is_str(where("[", "a", 0), "-", "not an object");

	is_int(ht_json_path_parse("runner.tests[2]", buf, sizeof(buf), s, 8), 3, "path with an index");
	ok(s[2].key == NULL && s[2].index == 2, "the index step");
	is_int(ht_json_path_parse("a[1][2].b", buf, sizeof(buf), s, 8), 4, "two indexes");
	is_str(s[3].key, "b", "then a key");
	is_int(ht_json_path_parse("a..b", buf, sizeof(buf), s, 8), -1, "an empty step");
	is_int(ht_json_path_parse("a.", buf, sizeof(buf), s, 8), -1, "a trailing dot");
	is_int(ht_json_path_parse("a[x]", buf, sizeof(buf), s, 8), -1, "a bad index");
	is_int(ht_json_path_parse("a.b.c", buf, sizeof(buf), s, 2), -1, "too many steps");
}

static char dir[] = "/tmp/test-config.XXXXXX";

static void write_file(const char *name, const char *text)
{
	FILE *fp = fopen(name, "w");

	fputs(text, fp);
	fclose(fp);
}

/* Loads text as hypertest.json with sets; returns what ht_config_load did. */
static int load(struct ht_config *c, const char *text, const char *const *sets)
{
	write_file("hypertest.json", text);
	return ht_config_load(c, NULL, sets);
}

static void test_schema(void)
{
	const struct ht_config_key *k, *j;
	int dup = 0, bad_default = 0;
	size_t i, x;

	for (i = 0; (k = ht_config_key_at(i)); i++) {
		char a[128], b[128];

		ht_config_env_name(k->path, a, sizeof(a));
		for (x = i + 1; (j = ht_config_key_at(x)); x++) {
			ht_config_env_name(j->path, b, sizeof(b));
			if (strcmp(a, b) == 0 && k->type != HT_CT_SECTION)
				dup++;
		}
		if (k->type == HT_CT_INT && k->dflt && (atol(k->dflt) < k->min || atol(k->dflt) > k->max))
			bad_default++;
		if (!k->doc || !*k->doc)
			bad_default++;
	}
	is_int(dup, 0, "every key has its own HT_* variable");
	is_int(bad_default, 0, "integer defaults are in range and every key has a sentence");
	{
		char n[64];

		ht_config_env_name("aws.endpoints.s3", n, sizeof(n));
		is_str(n, "HT_AWS_ENDPOINTS_S3", "env name of a nested key");
	}
	ok(ht_config_key_find("runner.run") && !ht_config_key_find("runner.nope"), "key lookup");
}

static void test_load(void)
{
	struct ht_config c;
	char *p;

	/* No file at all: every default. */
	unlink("hypertest.json");
	is_int(ht_config_load(&c, NULL, NULL), 0, "no file loads");
	ok(c.path == NULL, "no path");
	is_str(c.provider, "local", "default provider");
	is_int(c.timeout_s, 300, "default timeout");
	is_int(c.infra_retries, 2, "default infra_retries");
	ok(c.concurrency >= 1, "default concurrency on local is the CPUs");
	is_str(c.image.store, ".hypertest/oci", "store under dir");
	is_str(ht_command_settings(&c)->artifacts, "{out}", "default artifacts");
	is_int(c.runner.env.n, 0, "no env");
	ok(c.runner.env.v && c.runner.env.v[0] == NULL, "env list is NULL-terminated");
	ok(c.root && c.root[0] == '/', "root is the working directory");
	is_int(ht_config_require(&c, "image.store"), 0, "a defaulted key counts as set");
	is_int(ht_config_require(&c, "runner"), -1, "runner settings are required by those who ask");
	is_int(ht_config_require(&c, "provider"), 0, "nothing else on local");
	ht_config_release(&c);

	is_int(load(&c, "{\"provider\": \"aws\", \"dir\": \"state\",\n"
		     " \"runner\": {\"tests\": [\"t/*.sh\", \"u/*.sh\"], \"run\": \"sh {file}\",\n"
		     "  \"env\": {\"LANG\": \"C\", \"TZ\": \"UTC\"}, \"shell\": true},\n"
		     " \"aws\": {\"region\": \"eu-central-1\", \"endpoints\": {\"s3\": \"http://127.0.0.1:1\"}},\n"
		     " \"local\": {\"bucket\": null}}\n", NULL), 0, "a full file loads");
	is_str(c.path, "hypertest.json", "path as found");
	is_int(c.concurrency, 50, "default concurrency on aws");
	is_str(c.image.store, "state/oci", "store follows dir");
	is_str(ht_local_settings(&c)->bucket, "state/bucket", "null means the default");
	is_int(ht_command_settings(&c)->tests.n, 2, "two globs");
	is_str(ht_command_settings(&c)->tests.v[1], "u/*.sh", "second glob");
	ok(ht_command_settings(&c)->tests.v[2] == NULL, "globs NULL-terminated");
	is_str(c.runner.env.v[1], "TZ=UTC", "env as KEY=VALUE, in file order");
	is_int(ht_command_settings(&c)->shell, 1, "a boolean");
	is_str(ht_aws_settings(&c)->endpoint_s3, "http://127.0.0.1:1", "endpoints.s3 lands in endpoint_s3");
	is_str(json_string_value(json_object_get(json_object_get(c.json, "aws"), "region")),
	       "eu-central-1", "the effective JSON");
	is_str(json_string_value(json_object_get(c.origin, "aws.region")), "file", "origin file");
	is_int(ht_config_require(&c, "runner"), 0, "runner complete");
	is_int(ht_config_require(&c, "provider"), -1, "aws needs a function and a bucket");
	p = ht_config_state_path(&c, "plan.jsonl");
	ok(p && p[0] == '/' && ht_ends_with(p, "/state/plan.jsonl"), "state path");
	free(p);
	ht_config_release(&c);

	/* Precedence: default < file < env < --set. */
	setenv("HT_TIMEOUT_S", "60", 1);
	setenv("HT_RETRIES", "4", 1);
	setenv("HT_RUNNER_TESTS", " a , b,,", 1);
	{
		const char *sets[] = { "retries=5", "runner.env.FOO=a=b", NULL };

		is_int(load(&c, "{\"timeout_s\": 30, \"retries\": 1, \"infra_retries\": 3}", sets), 0,
		       "overrides load");
	}
	is_int(c.infra_retries, 3, "file over default");
	is_int(c.timeout_s, 60, "env over file");
	is_int(c.retries, 5, "--set over env");
	is_int(ht_command_settings(&c)->tests.n, 2, "comma list, blanks dropped");
	is_str(ht_command_settings(&c)->tests.v[0], "a", "items trimmed");
	is_str(c.runner.env.v[0], "FOO=a=b", "--set runner.env.NAME, value up to the end");
	is_str(json_string_value(json_object_get(c.origin, "timeout_s")), "HT_TIMEOUT_S", "origin env");
	is_str(json_string_value(json_object_get(c.origin, "retries")), "--set", "origin --set");
	ht_config_release(&c);
	unsetenv("HT_TIMEOUT_S");
	unsetenv("HT_RETRIES");
	unsetenv("HT_RUNNER_TESTS");

	/* Errors: the code and the first message. */
	is_int(load(&c, "{\n  \"runner\": {\n    \"concurency\": 4\n  }\n}\n", NULL), -1, "unknown key fails");
	is_int(c.error_code, HT_EXIT_CONFIG, "config error code");
	is_str(c.error, "hypertest.json:3:5: runner.concurency: unknown key (did you mean 'concurrency'?)",
	       "unknown key message");
	ht_config_release(&c);
	is_int(load(&c, "{\"concurrency\": 10001}", NULL), -1, "out of range fails");
	is_str(c.error, "hypertest.json:1:17: concurrency: expected an integer from 1 to 10000, got 10001",
	       "range message");
	ht_config_release(&c);
	is_int(load(&c, "{\"runner\": {\"tests\": \"t/*.sh\"}}", NULL), -1, "a string for a list");
	is_str(c.error, "hypertest.json:1:22: runner.tests: expected an array of strings, got 't/*.sh'",
	       "list message");
	ht_config_release(&c);
	is_int(load(&c, "{\"retries\": 1.5}", NULL), -1, "a real for an integer");
	like(c.error, "retries: expected an integer, got 1.5", "real message");
	ht_config_release(&c);
	is_int(load(&c, "{\"runner\": {\"env\": {\"1X\": \"a\"}}}", NULL), -1, "bad env name");
	is_str(c.error, "hypertest.json:1:21: runner.env.1X: not a valid environment variable name",
	       "env name message");
	ht_config_release(&c);
	is_int(load(&c, "{\"a\": 1, \"a\": 2}", NULL), -1, "duplicate keys");
	like(c.error, "hypertest.json:1:", "duplicate keys: position");
	like(c.error, "invalid JSON: duplicate object key", "duplicate keys: jansson's words");
	ht_config_release(&c);
	is_int(load(&c, "[]", NULL), -1, "an array at the top");
	like(c.error, "expected an object at the top", "top message");
	ht_config_release(&c);
	is_int(load(&c, "{\"aws\": {\"Secret_Access_Key\": \"shh\"}}", NULL), -1, "credentials");
	ok(c.error && !strstr(c.error, "shh"), "the secret is not repeated");
	ht_config_release(&c);

	is_int(ht_config_load(&c, "missing.json", NULL), -1, "a named file that is missing");
	is_int(c.error_code, HT_EXIT_NOINPUT, "no input code");
	ht_config_release(&c);
	setenv("HT_CONFIG", "also-missing.json", 1);
	is_int(ht_config_load(&c, NULL, NULL), -1, "HT_CONFIG names a file too");
	like(c.error, "also-missing.json", "its name");
	ht_config_release(&c);
	unsetenv("HT_CONFIG");

	mkdir("sub", 0755);
	write_file("sub/ht.json", "{\"dir\": \"/abs/state\"}");
	is_int(ht_config_load(&c, "sub/ht.json", NULL), 0, "a file elsewhere");
	ok(ht_ends_with(c.root, "/sub"), "root is the file's directory");
	p = ht_config_state_path(&c, "x");
	is_str(p, "/abs/state/x", "an absolute dir is kept");
	free(p);
	ht_config_release(&c);
	unlink("sub/ht.json");
	rmdir("sub");
}

int main(void)
{
	extern char **environ;
	char **v;

	/* The loader reads HT_*: start clean. */
	for (;;) {
		char name[256];

		for (v = environ; *v && strncmp(*v, "HT_", 3) != 0; v++)
			;
		if (!*v)
			break;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(*v, "="), *v);
		unsetenv(name);
	}
	ht_diag_init("test-config");
	ht_verbosity = -1;
	if (!mkdtemp(dir) || chdir(dir) < 0)
		return 1;
	test_locate();
	test_schema();
	test_load();
	unlink("hypertest.json");
	if (chdir("/") == 0)
		rmdir(dir);
	return tap_done();
}
