/*
 * fuzz-jsonl.c: the JSON Lines reader (lib/jsonl.c) on any bytes, with its
 * promise checked against the input cut at its newlines by hand: every
 * record read is the object on line rd.lineno alone (a record never spans
 * two lines, and no line is lost), line numbers only grow and skip only
 * blank lines, and a bad line is reported at its own number.
 */
#include <jansson.h>

#include "ht/jsonl.h"
#include "fuzz.h"

/* The lines of the input, as the reader should see them. */
struct line {
	const char *p;
	size_t n;
};

static int blank(const struct line *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->p[i] != ' ' && l->p[i] != '\t' && l->p[i] != '\r')
			return 0;
	return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A small maximum, so that long lines are cut too. */
	const size_t max = 256;
	struct ht_jsonl_reader rd;
	struct line *lines;
	size_t nlines = 0, i, start = 0, last = 0;
	char *buf;
	FILE *fp;
	json_t *rec;
	int rc;

	if (size == 0)
		return 0;
	lines = calloc(size + 1, sizeof(*lines));
	buf = malloc(size);
	if (!lines || !buf)
		abort();
	memcpy(buf, data, size);
	for (i = 0; i <= size; i++) {
		if (i == size || buf[i] == '\n') {
			if (i == size && start == size)
				break;
			lines[nlines].p = buf + start;
			lines[nlines++].n = i - start;
			start = i + 1;
		}
	}
	fp = fmemopen(buf, size, "r");
	if (!fp)
		abort();
	ht_jsonl_reader_init(&rd, fp, "fuzz", max);
	while ((rc = ht_jsonl_read(&rd, &rec)) != 0) {
		FUZZ_ASSERT(rc == 1 || rc == -1);
		/* The reader moved on by at least one line, over blank ones. */
		FUZZ_ASSERT(rd.lineno > last && rd.lineno <= nlines);
		for (i = last; i + 1 < rd.lineno; i++)
			FUZZ_ASSERT(blank(&lines[i]));
		if (rc == 1) {
			const struct line *l = &lines[rd.lineno - 1];
			json_t *alone = json_loadb(l->p, l->n, JSON_REJECT_DUPLICATES, NULL);

			/* The record is that line's object, all of it. */
			FUZZ_ASSERT(l->n <= max && !memchr(l->p, '\0', l->n));
			FUZZ_ASSERT(alone && json_equal(alone, rec));
			json_decref(alone);
			json_decref(rec);
		} else {
			FUZZ_ASSERT(!blank(&lines[rd.lineno - 1]) || lines[rd.lineno - 1].n > max);
		}
		last = rd.lineno;
	}
	/* What is left after the last record is blank. */
	for (i = last; i < nlines; i++)
		FUZZ_ASSERT(blank(&lines[i]));
	ht_jsonl_reader_release(&rd);
	fclose(fp);
	free(buf);
	free(lines);
	return 0;
}
