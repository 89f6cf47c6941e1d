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

int main(void)
{
	test_tap_skip_twice();
	test_locate_nul();
	test_jsonl_nul();
	return tap_done();
}
