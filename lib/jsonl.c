/*
 * jsonl.c: reading and writing JSON Lines records.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/diag.h"
#include "ht/jsonl.h"

void ht_jsonl_reader_init(struct ht_jsonl_reader *r, FILE *fp, const char *name, size_t max)
{
	r->fp = fp;
	r->name = name;
	r->lineno = 0;
	r->max = max ? max : HT_RECORD_MAX;
	ht_buf_init(&r->line, 0);
	r->eof = 0;
}

void ht_jsonl_reader_release(struct ht_jsonl_reader *r)
{
	ht_buf_release(&r->line);
}

/* Returns the offset of the first byte that is not valid UTF-8, or -1. */
static long utf8_invalid_at(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = ht_utf8_seq(s + i, n - i);

		if (!k)
			return (long)i;
		i += k;
	}
	return -1;
}

/*
 * Reads one line into r->line without its newline, with its real length
 * (a NUL byte is part of the line, not its end). Returns 1 for a line
 * ending in a newline, 2 for a last line without one, 0 at EOF, -2 on a
 * read error, -3 when the line is longer than max (the rest of it is
 * skipped, so the next call starts on the next line).
 */
static int read_line(struct ht_jsonl_reader *r)
{
	char chunk[8192];
	size_t n = 0, total = 0;
	int c;

	ht_buf_reset(&r->line);
	ht_buf_add(&r->line, "", 0);
	flockfile(r->fp);
	while ((c = getc_unlocked(r->fp)) != EOF && c != '\n') {
		if (++total > r->max)
			continue;
		chunk[n++] = (char)c;
		if (n == sizeof(chunk)) {
			ht_buf_add(&r->line, chunk, n);
			n = 0;
		}
	}
	funlockfile(r->fp);
	if (total <= r->max)
		ht_buf_add(&r->line, chunk, n);
	if (c == EOF) {
		if (ferror(r->fp))
			return -2;
		r->eof = 1;
		if (!total)
			return 0;
	}
	if (total > r->max)
		return -3;
	return c == EOF ? 2 : 1;
}

int ht_jsonl_read(struct ht_jsonl_reader *r, json_t **out)
{
	*out = NULL;
	for (;;) {
		json_error_t err;
		json_t *v;
		long bad;
		int kind;
		const char *p, *end, *nul;

		if (r->eof)
			return 0;
		kind = read_line(r);
		if (kind == 0)
			return 0;
		r->lineno++;
		if (kind == -2) {
			ht_error("%s:%zu: cannot read: %s", r->name, r->lineno, strerror(errno));
			return -2;
		}
		if (kind == -3)
			return ht_error("%s:%zu: record larger than %zu bytes", r->name, r->lineno, r->max);
		end = r->line.data + r->line.len;
		for (p = r->line.data; p < end && (*p == ' ' || *p == '\t' || *p == '\r'); p++)
			continue;
		if (p == end)
			continue; /* blank line */
		nul = memchr(r->line.data, '\0', r->line.len);
		if (nul)
			return ht_error("%s:%zu:%zu: NUL byte in record", r->name, r->lineno,
					(size_t)(nul - r->line.data) + 1);
		bad = utf8_invalid_at((const unsigned char *)r->line.data, r->line.len);
		if (bad >= 0)
			return ht_error("%s:%zu:%ld: invalid UTF-8", r->name, r->lineno, bad + 1);
		v = json_loadb(r->line.data, r->line.len, JSON_REJECT_DUPLICATES, &err);
		if (!v) {
			if (kind == 2)
				return ht_error("%s:%zu: truncated record (the input ends in the middle of a line): %s",
						r->name, r->lineno, err.text);
			return ht_error("%s:%zu:%d: not valid JSON: %s", r->name, r->lineno, err.column, err.text);
		}
		if (!json_is_object(v)) {
			json_decref(v);
			return ht_error("%s:%zu: expected an object", r->name, r->lineno);
		}
		*out = v;
		return 1;
	}
}

/*
 * Writes all n bytes of buf to fp's descriptor fd. A write a signal
 * interrupts (SIGINT with ht_stop_install(), which sets no SA_RESTART,
 * while a slow reader keeps the pipe full) is carried on where it stopped:
 * stdio would drop what it had not written and fail the stream. Any other
 * failure hands the rest to stdio, so that the stream's error flag is set
 * (ht_finish_stdout() turns it into exit 74) as it was before.
 */
static int write_all(FILE *fp, int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (fwrite(buf, 1, n, fp) != n || fflush(fp) != 0 || ferror(fp))
				return -1;
			return 0;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fflush() that carries on when a signal interrupted it. */
static int stream_flush(FILE *fp)
{
	int tries = 0;

	while (fflush(fp) != 0) {
		if (errno != EINTR || ++tries > 1000)
			return -1;
		clearerr(fp);
	}
	return ferror(fp) ? -1 : 0;
}

int ht_stream_write(FILE *fp, const void *buf, size_t n)
{
	int fd = fileno(fp);

	if (fd < 0)
		return fwrite(buf, 1, n, fp) != n || stream_flush(fp) != 0 ? -1 : 0;
	/* After what stdio still holds, to the descriptor itself, so that an
	 * interrupted write can be carried on. */
	if (stream_flush(fp) != 0)
		return -1;
	return write_all(fp, fd, buf, n);
}

int ht_record_write_text(FILE *fp, const char *text, size_t len, int flush)
{
	char *line;
	int r;

	if (!flush) {
		if (fwrite(text, 1, len, fp) != len || putc('\n', fp) == EOF)
			return -1;
		return ferror(fp) ? -1 : 0;
	}
	line = ht_xmalloc(len + 1);
	memcpy(line, text, len);
	line[len] = '\n';
	r = ht_stream_write(fp, line, len + 1);
	free(line);
	return r;
}

/* Encoded in memory first: json_dumpf() writes each token with its own
 * fwrite(), several times the cost for a record of a few hundred bytes. */
int ht_record_write(FILE *fp, json_t *rec, int flush)
{
	char *text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc;

	if (!text)
		return -1;
	rc = ht_record_write_text(fp, text, strlen(text), flush);
	free(text);
	return rc;
}

int ht_record_read_one(FILE *fp, const char *name, const char *want, const char *what_else, json_t **out)
{
	struct ht_jsonl_reader rd;
	char where[300];
	int got;

	*out = NULL;
	ht_jsonl_reader_init(&rd, fp, name, HT_RECORD_MAX);
	got = ht_jsonl_read(&rd, out);
	snprintf(where, sizeof(where), "%s:%zu", name, rd.lineno);
	ht_jsonl_reader_release(&rd);
	if (got == 0)
		ht_error("%s: expected an %s record%s%s", name, want, what_else ? " " : "", what_else ? what_else : "");
	if (got <= 0)
		return got == -2 ? HT_EXIT_IOERR : HT_EXIT_DATAERR;
	if (ht_record_check_schema(*out, want, where) < 0) {
		json_decref(*out);
		*out = NULL;
		return HT_EXIT_DATAERR;
	}
	return 0;
}

json_t *ht_record_new(const char *schema)
{
	json_t *o = json_object();

	json_object_set_new(o, "schema", json_string(schema));
	return o;
}

int ht_record_check_schema(json_t *rec, const char *want, const char *where)
{
	const char *got = ht_json_str(rec, "schema", NULL);
	const char *slash = strchr(want, '/');
	size_t stem = slash ? (size_t)(slash - want) : strlen(want);

	if (!got)
		return ht_error("%s: expected a %s record, got one with no \"schema\"", where, want);
	/* The same kind and major version: "ht.test/1" accepts "ht.test/1.2". */
	if (strncmp(got, want, strlen(want)) == 0 &&
	    (got[strlen(want)] == '\0' || got[strlen(want)] == '.'))
		return 0;
	if (strncmp(got, want, stem) == 0 && got[stem] == '/')
		return ht_error("%s: unsupported version '%s' (this tool reads %s)", where, got, want);
	return ht_error("%s: expected a %s record, got '%s'", where, want, got);
}

const char *ht_json_str(json_t *obj, const char *key, const char *dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : dflt;
}

long long ht_json_int(json_t *obj, const char *key, long long dflt)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v)) {
		double d = json_real_value(v);

		/* Only a real that fits: the cast of any other is undefined.
		 * 0x1p63 is 2^63, one past the largest long long. */
		if (isfinite(d) && d >= -0x1p63 && d < 0x1p63)
			return (long long)d;
	}
	return dflt;
}

int ht_json_int_in(json_t *obj, const char *key, long long min, long long max, long long dflt, long long *out)
{
	json_t *v = json_object_get(obj, key);

	*out = dflt;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

char *ht_json_xdumps(const json_t *j, size_t flags)
{
	char *s = j ? json_dumps(j, flags) : NULL;

	if (!s) {
		fprintf(stderr, "%s: fatal: cannot encode a JSON value (out of memory?)\n", ht_progname);
		abort();
	}
	return s;
}

double ht_json_num(json_t *obj, const char *key, double dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : dflt;
}

int ht_json_bool(json_t *obj, const char *key, int dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

void ht_json_set_str(json_t *obj, const char *key, const char *val)
{
	if (val)
		json_object_set_new(obj, key, json_string(val));
}

void ht_json_set_int(json_t *obj, const char *key, long long val)
{
	json_object_set_new(obj, key, json_integer(val));
}
