/*
 * jsonl.h: JSON Lines records, the currency between hypertest's stages.
 *
 * Ownership follows jansson: ht_jsonl_read() hands out a new reference the
 * caller must json_decref(); ht_record_write() borrows the record.
 */
#ifndef HT_JSONL_H
#define HT_JSONL_H

#include <stdio.h>
#include <jansson.h>

#include "util.h"

/* Largest record accepted by default: 1 MiB. */
#define HT_RECORD_MAX (1024 * 1024)

struct ht_jsonl_reader {
	FILE *fp;
	const char *name; /* for messages: "stdin", a path; borrowed */
	size_t lineno;    /* line number of the record last read */
	size_t max;       /* maximum bytes in one line */
	struct ht_buf line;
	int eof;
};

void ht_jsonl_reader_init(struct ht_jsonl_reader *r, FILE *fp, const char *name, size_t max);
void ht_jsonl_reader_release(struct ht_jsonl_reader *r);

/*
 * Reads the next record, skipping blank lines. Returns 1 with a new
 * reference to an object in *out; 0 at end of input; -1 on a bad line after
 * printing "NAME:LINE: ..." (not JSON, not an object, larger than max,
 * invalid UTF-8, a last line with no newline that does not parse). After
 * -1 the reader can go on with the next line; -2 means the stream itself
 * failed (a read error) and nothing more can be read.
 */
int ht_jsonl_read(struct ht_jsonl_reader *r, json_t **out);

/*
 * Writes rec as one compact line (keys in insertion order) and flushes when
 * flush is set. Returns 0, or -1 when the stream failed (the caller decides
 * whether that is fatal; see ht_finish_stdout).
 */
int ht_record_write(FILE *fp, json_t *rec, int flush);
/* The same for a record already encoded as one compact line of len bytes
 * (borrowed, without the newline): a caller that writes a record to
 * several places encodes it once. */
int ht_record_write_text(FILE *fp, const char *text, size_t len, int flush);
/*
 * Writes n bytes to fp now: what stdio holds first, then buf straight to
 * the descriptor, carrying on after a signal interrupted a write (a slow
 * reader, SIGINT). Returns 0, or -1 with fp's error flag set.
 */
int ht_stream_write(FILE *fp, const void *buf, size_t n);

/*
 * Reads the one record a tool takes on a stream (an ht.image/1 on stdin,
 * say): the first record, which must have schema want. what_else names
 * the alternative for the message when there is none ("or give IMAGE").
 * Returns 0 with a new reference in *out, or an exit code after printing
 * why (65 bad or missing record, 74 a read error).
 */
int ht_record_read_one(FILE *fp, const char *name, const char *want, const char *what_else, json_t **out);

/* A new object {"schema": schema}. */
json_t *ht_record_new(const char *schema);
/*
 * Checks that rec has "schema" equal to want (same name, same major
 * version); prints "WHERE: expected a WANT record, got ..." and returns -1
 * otherwise. where is e.g. "stdin:12".
 */
int ht_record_check_schema(json_t *rec, const char *want, const char *where);
/* Accessors that return a default when the member is missing or of
 * another type. The string is borrowed from rec. ht_json_int takes a real
 * only when it fits a long long (then without its fraction); 1e300 gives
 * the default. */
const char *ht_json_str(json_t *obj, const char *key, const char *dflt);
long long ht_json_int(json_t *obj, const char *key, long long dflt);
double ht_json_num(json_t *obj, const char *key, double dflt);
int ht_json_bool(json_t *obj, const char *key, int dflt);
/*
 * obj[key], an integer in [min, max], into *out; dflt when there is no such
 * member. Returns 0, or -1 (with *out = dflt) when the member is there but
 * is not an integer in range: a real, 1e300, a string. The caller says so.
 */
int ht_json_int_in(json_t *obj, const char *key, long long min, long long max, long long dflt, long long *out);
/* The longest "timeout_s" an ht.test/1 record may ask for: one day. */
#define HT_TIMEOUT_MAX_S 86400

/* json_dumps() that cannot fail, like ht_xmalloc: a new string, or an abort
 * with a message when out of memory (or j is NULL, a failed json_pack). */
char *ht_json_xdumps(const json_t *j, size_t flags);

/* Sets obj[key] to a new string/integer; a NULL string sets nothing. */
void ht_json_set_str(json_t *obj, const char *key, const char *val);
void ht_json_set_int(json_t *obj, const char *key, long long val);

#endif
