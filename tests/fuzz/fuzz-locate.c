/*
 * fuzz-locate.c: the config key locator (lib/config-locate.c), the scanner
 * that finds where a value sits in a config's text for messages. The input
 * is a key path on the first line ("runner.tests[0]"), then JSON text, as
 * tests/data/findings/config-locate-hang.bin. It must return at once on
 * anything; on text jansson accepts it must find each value jansson finds
 * on that path, where that value's text starts. Text with a NUL byte is
 * left out of that: jansson takes one after a number ("6\0,"), but the
 * loader refuses a config with a NUL before it parses (lib/config.c).
 */
#include <jansson.h>

#include "ht/config.h"
#include "fuzz.h"

#define MAX_STEPS 16

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* The value at the path in v (borrowed), or NULL. */
static json_t *walk(json_t *v, const struct ht_json_step *steps, int n)
{
	int i;

	for (i = 0; v && i < n; i++)
		v = steps[i].key ? json_object_get(v, steps[i].key)
				 : json_array_get(v, (size_t)steps[i].index);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	struct ht_json_step steps[MAX_STEPS];
	char path[256], buf[256];
	const char *text;
	size_t len;
	json_t *doc;
	long off, koff;
	int n;

	if (!nl || (size_t)(nl - (const char *)data) >= sizeof(path))
		return 0;
	memcpy(path, data, (size_t)(nl - (const char *)data));
	path[nl - (const char *)data] = '\0';
	text = nl + 1;
	len = size - (size_t)(text - (const char *)data);
	n = ht_json_path_parse(path, buf, sizeof(buf), steps, MAX_STEPS);
	if (n < 0)
		return 0;
	off = ht_json_locate(text, len, steps, n, 0);
	koff = ht_json_locate(text, len, steps, n, 1);
	FUZZ_ASSERT(off < (long)len && koff < (long)len);
	if (off >= 0) {
		int line, col;

		ht_json_linecol(text, len, off, &line, &col);
		FUZZ_ASSERT(line >= 1 && col >= 1);
	}
	doc = memchr(text, '\0', len) ? NULL : json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	if (doc) {
		json_t *want = walk(doc, steps, n);

		if (want) {
			json_t *at;

			FUZZ_ASSERT(off >= 0);
			at = json_loadb(text + off, len - (size_t)off, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, NULL);
			FUZZ_ASSERT(at && json_equal(at, want));
			json_decref(at);
		}
		json_decref(doc);
	}
	return 0;
}
