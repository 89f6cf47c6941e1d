/*
 * test-findings.c: the inputs that broke hypertest (tests/data/findings/,
 * found by fuzzing), each fed to the code it broke. A hang is caught by an
 * alarm, a leak by LeakSanitizer (make SANITIZE=1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/config.h"
#include "ht/jsonl.h"
#include "ht/runner.h"
#include "ht/util.h"
#include "providers/aws/invoke-api.h"
#include "providers/local/local.h"
#include "runners/outcome.h"
#include "tap.h"

/* The bytes of tests/data/findings/NAME (new, NUL-terminated), or NULL. */
static char *finding(const char *name, size_t *len)
{
	const char *src = getenv("HT_SRC");
	char *path = ht_xasprintf("%s/tests/data/findings/%s", src && *src ? src : ".", name);
	char *data = NULL;

	if (ht_read_file(path, 0, &data, len) < 0)
		printf("# cannot read '%s'\n", path);
	free(path);
	return data;
}

/* A plan line twice "1..0 # skip REASON": the first reason was lost. */
static void test_tap_skip_twice(void)
{
	size_t len = 0;
	char *data = finding("tap-skip-leak.bin", &len);
	char *line, *end;
	struct ht_tap t;
	struct ht_run_result r;

	if (!ok(data != NULL, "tap-skip-leak.bin is there"))
		return;
	ht_tap_init(&t);
	ht_run_result_init(&r);
	r.exited = 1;
	for (line = data; line < data + len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(data + len - line));
		if (!end)
			end = data + len;
		*end = '\0';
		ht_tap_feed(&t, line);
	}
	ht_tap_finish(&t, &r);
	is_str(r.status, "skipped", "tap-skip-leak: a skipped stream");
	is_str(r.message, "skipped: y", "tap-skip-leak: the last skip reason wins");
	ht_tap_release(&t);
	ht_run_result_release(&r);
	free(data);
}

/* A NUL byte outside a string: the locator never returned. */
static void test_locate_nul(void)
{
	size_t len = 0;
	char *data = finding("config-locate-hang.bin", &len);
	struct ht_json_step steps[8];
	char buf[256], *nl;
	int n;

	if (!ok(data != NULL, "config-locate-hang.bin is there"))
		return;
	nl = strchr(data, '\n');
	*nl = '\0';
	n = ht_json_path_parse(data, buf, sizeof(buf), steps, 8);
	is_int(n, 3, "config-locate-hang: the key path has three steps");
	alarm(10);
	is_int(ht_json_locate(nl + 1, len - (size_t)(nl + 1 - data), steps, n, 0), -1,
	       "config-locate-hang: a NUL outside a string is not JSON: -1, at once");
	alarm(0);
	/* And the same text without the NUL is found. */
	{
		char good[] = "{\"ner\":{\"tests\":[\"a\\\"b\" ,1]}}";

		is_int(ht_json_locate(good, strlen(good), steps, n, 0), 17, "the element is found without the NUL");
	}
	free(data);
}

/* A NUL byte inside a record glued it to the next line. */
static void test_jsonl_nul(void)
{
	size_t len = 0;
	char *data = finding("jsonl-nul-glue.bin", &len);
	struct ht_jsonl_reader rd;
	size_t lines[16], nlines = 0, bad[16], nbad = 0;
	json_t *rec;
	FILE *fp;
	int rc;

	if (!ok(data != NULL, "jsonl-nul-glue.bin is there"))
		return;
	fp = fmemopen(data, len, "r");
	ht_jsonl_reader_init(&rd, fp, "glue", 0);
	while ((rc = ht_jsonl_read(&rd, &rec)) != 0 && nlines < 16 && nbad < 16) {
		if (rc == 1) {
			lines[nlines++] = rd.lineno;
			json_decref(rec);
		} else {
			bad[nbad++] = rd.lineno;
		}
	}
	ht_jsonl_reader_release(&rd);
	fclose(fp);
	is_int(nlines, 2, "jsonl-nul-glue: the two good records are read");
	ok(nlines == 2 && lines[0] == 8 && lines[1] == 9, "jsonl-nul-glue: on their own lines, 8 and 9");
	is_int(nbad, 5, "jsonl-nul-glue: five bad lines");
	ok(nbad == 5 && bad[0] == 1 && bad[1] == 3 && bad[2] == 5 && bad[3] == 6 && bad[4] == 7,
	   "jsonl-nul-glue: lines 1, 3, 5, 6 and 7, none shifted");
	free(data);
}

/* 1 when s is valid UTF-8 without control characters. */
static int clean_line(const char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		size_t k = ht_utf8_seq((const unsigned char *)s + i, n - i);

		if (!k || (unsigned char)s[i] < 0x20)
			return 0;
		i += k;
	}
	return 1;
}

/* tests/fuzz/corpus/runtime-api/init-error: the message of a runner's
 * error body was cut inside a UTF-8 sequence, or kept its newlines and
 * bytes that are not UTF-8; in a record, json_string() refuses it and the
 * result lost its message. */
static void test_runtime_api_message(void)
{
	static const char body[] = "{\"errorType\":\"E\",\"errorMessage\":\"line 1\\nline 2\"}";
	char small[14], msg[256];

	local_api_error_message("\xc3\xa9\xc3\xa9", 4, "init error", small, sizeof(small));
	ok(clean_line(small), "runtime-api: a message cut inside a sequence is valid UTF-8");
	is_str(small, "init error: ?", "runtime-api: the cut sequence is one '?'");
	local_api_error_message(body, strlen(body), "error", msg, sizeof(msg));
	is_str(msg, "error: E: line 1 line 2", "runtime-api: the message is one line");
	local_api_error_message("not json \xff\xfe\n", 12, "error", msg, sizeof(msg));
	ok(clean_line(msg), "runtime-api: bytes that are not UTF-8 are replaced");
}

/* tests/fuzz/corpus/invoke-api/bad-name: a function name that is not
 * printable ASCII (a %ff in the path) was echoed in JSON answers, where
 * json_string() dropped it. */
static void test_invoke_api_name(void)
{
	struct ht_lambda_req q;

	is_int(ht_lambda_parse_request("/2015-03-31/functions/\xff\xfe/configuration/", "GET", NULL, NULL, &q),
	       HT_LAMBDA_UNKNOWN, "invoke-api: a name that is not ASCII names no function");
	is_int(ht_lambda_parse_request("/2015-03-31/functions/a b/invocations", "POST", NULL, NULL, &q),
	       HT_LAMBDA_UNKNOWN, "invoke-api: nor one with a space");
	is_int(ht_lambda_parse_request("/2015-03-31/functions/arn:aws:lambda:r:1:function:f:live/invocations",
				       "POST", "RequestResponse", "f", &q),
	       HT_LAMBDA_INVOKE, "invoke-api: an ARN with a qualifier is the function");
	is_str(q.name, "arn:aws:lambda:r:1:function:f:live", "invoke-api: its name as written");
}

/* tests/fuzz/corpus/junit/finding-time-1e300: a testcase's time="1e300"
 * was cast to an integer out of range (undefined; UBSan aborted). */
static void test_junit_time(void)
{
	static const char *const times[] = { "1e300", "-1e300", "nan", "inf", "-1", "1.5" };
	static const long long want[] = { 0, 0, 0, 0, 0, 1500 };
	size_t i;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		char *xml = ht_xasprintf("<testsuite><testcase name=\"a\" time=\"%s\"/></testsuite>", times[i]);
		struct ht_junit j;
		char err[128];

		ht_junit_init(&j);
		j.want_cases = 1;
		is_int(ht_junit_parse(&j, xml, strlen(xml), err, sizeof(err)), 0, "junit: a time parses");
		is_int(json_integer_value(json_object_get(json_array_get(j.cases, 0), "time_ms")), want[i],
		       "junit: its time_ms");
		ht_junit_release(&j);
		free(xml);
	}
}

int main(void)
{
	test_junit_time();
	test_runtime_api_message();
	test_invoke_api_name();
	test_tap_skip_twice();
	test_locate_nul();
	test_jsonl_nul();
	return tap_done();
}
