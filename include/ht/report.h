/*
 * report.h: a run's results read back and told four ways: a summary for a
 * person on a terminal, JUnit XML for CI, one self-contained HTML page,
 * and Trace Event Format JSON for trace viewers. ht-report is the tool;
 * docs/ht-report.md describes what each shows.
 *
 * A report is built in three steps: ht_report_init(), any number of
 * ht_report_read() / ht_report_add() / ht_report_add_summary(), then
 * ht_report_finish(), which sums the counts and lays out the timeline;
 * the writers (ht_report_text(), ht_report_junit(), ht_report_html(),
 * ht_report_trace()) only read it.
 *
 * Ownership: struct ht_report owns every record and string it holds until
 * ht_report_release(); records added are stolen; strings passed in are
 * borrowed; pointers into a test (name, message, ...) are borrowed from
 * its record and live as long as the report.
 */
#ifndef HT_REPORT_H
#define HT_REPORT_H

#include <stdio.h>
#include <jansson.h>

/* The statuses a result or an attempt can have, in the order the report
 * lists them. */
enum ht_rstatus {
	HT_RS_PASSED,
	HT_RS_FAILED,
	HT_RS_FLAKY,
	HT_RS_SKIPPED,
	HT_RS_TIMED_OUT,
	HT_RS_ERROR,
	HT_RS_INTERRUPTED,
	HT_RS_N
};

/* "passed", "timed_out", ...: the record's word. Static string. */
const char *ht_rstatus_name(enum ht_rstatus s);
/* "passed", "timed out", ...: the word for people. Static string. */
const char *ht_rstatus_label(enum ht_rstatus s);
/* The same word for a count of n tests: "1 error", "2 errors". Static. */
const char *ht_rstatus_label_n(enum ht_rstatus s, long long n);
/* The status named s; HT_RS_ERROR for an unknown word or NULL. */
enum ht_rstatus ht_rstatus_parse(const char *s);
/* Whether a test of this status failed the run (flaky: see flaky_fails). */
int ht_rstatus_bad(enum ht_rstatus s);

/* One attempt of a test, with its place on the timeline. */
struct ht_report_attempt {
	int attempt;             /* from 1 */
	enum ht_rstatus status;
	long long duration_ms;
	long long dispatch_ms;   /* wall clock, epoch ms; -1 when unknown */
	long long start_ms;      /* -1 when neither recorded nor derivable */
	long long end_ms;
	int exact;               /* start_ms and end_ms were recorded, not derived */
	int slot;                /* the concurrency slot, -1 when not recorded */
	int lane;                /* its timeline lane (0..lanes-1), -1 untimed */
	int cold;                /* 1 cold start, 0 warm, -1 unknown */
	int infra;               /* an infrastructure failure */
	const char *message;     /* borrowed from the record; never NULL */
	const char *worker;      /* sandbox or Lambda environment id, or NULL */
	const char *request_id;  /* or NULL */
	const char *retry_reason; /* why it was retried, or NULL */
};

/* Where an attempt begins on the timeline: its dispatch when recorded
 * (the slot is taken from then), else its start. */
long long ht_report_attempt_from(const struct ht_report_attempt *a);

/* The test cases a result reported: its `tests` counts, or itself. */
struct ht_report_cases {
	long long n[HT_RS_N];
};

struct ht_report_test {
	json_t *rec;             /* the ht.result/1 record; owned */
	const char *name;        /* borrowed from rec: name, else test_id, else "?" */
	const char *test_id;     /* or "" */
	const char *run_id;      /* or "" */
	const char *file;        /* or NULL */
	const char *message;     /* never NULL */
	const char *output_tail; /* or NULL */
	enum ht_rstatus status;
	int ok;                  /* the record's `ok`, else from the status */
	long long duration_ms;   /* the record's (its last attempt's) */
	long long total_ms;      /* every attempt's duration added up */
	long long started_ms;    /* the record's started_at, or -1 */
	struct ht_report_attempt *att; /* owned; at least one */
	int natt;
	struct ht_report_cases cases;
	size_t seq;              /* position in the input */
};

struct ht_report {
	struct ht_report_test *t; /* owned; in input order */
	size_t n, cap;
	json_t *index;           /* "run_id test_id" -> position in t; owned */
	json_t *summary;         /* an ht.summary/1 read, without its results; owned or NULL */
	/* After ht_report_finish(): */
	long long cases[HT_RS_N]; /* test cases by status */
	long long tests[HT_RS_N]; /* results by status */
	long long ncases;
	int ok;                  /* every record is ok */
	long long t0_ms, t1_ms;  /* the timeline's ends (epoch ms); -1 untimed */
	long long wall_ms;       /* the run's wall time, -1 unknown */
	long long sum_ms;        /* every attempt's duration added up */
	int lanes;               /* timeline lanes */
	int by_slot;             /* lanes are concurrency slots (else one per test) */
	int nattempts;
	const char *run_id;      /* when every result has the same one; else NULL */
	/* Where artifacts are (owned): set by ht_report_read_run(),
	 * ht_report_find_bucket(), ht_report_set_artifacts(); links made
	 * relative by ht_report_link_from(). */
	char *artifact_base;     /* prefix of a key in links ("../bucket/", "s3://b/p/"), or NULL */
	char *artifact_where;    /* for people: "/abs/.hypertest/bucket", "s3://b/p" */
	int artifact_dir;        /* artifact_where is a local directory */
	int artifact_fixed;      /* set by ht_report_set_artifacts(): links as given */
};

void ht_report_init(struct ht_report *r);
void ht_report_release(struct ht_report *r);

/*
 * Reads fp, named name in messages: ht.result/1 records, one per line, or
 * one ht.summary/1 object (a run summary as ht-invoke stores it). Every
 * bad line is reported ("NAME:LINE: ...") and the rest is read. Returns
 * 0, HT_EXIT_DATAERR after bad input, HT_EXIT_IOERR when reading failed.
 */
int ht_report_read(struct ht_report *r, FILE *fp, const char *name);
/* Parses buf (len bytes) as ht_report_read() does a stream. */
int ht_report_read_buf(struct ht_report *r, const char *buf, size_t len, const char *name);
/*
 * Adds one ht.result/1 record (steals rec); where names it in messages.
 * A later record of the same run_id and test_id replaces an earlier one.
 * Returns 0, or -1 after printing why it is not a result.
 */
int ht_report_add(struct ht_report *r, json_t *rec, const char *where);
/* Adds a run summary (steals sum): its results, and its times and counts
 * for the totals. Returns 0, or HT_EXIT_DATAERR after printing why. */
int ht_report_add_summary(struct ht_report *r, json_t *sum, const char *where);
/* Sums up and lays out the timeline; call once, after the last add. */
void ht_report_finish(struct ht_report *r);

/*
 * Reads the run summary <run_id>/hypertest.results.json from the bucket of
 * cfg's provider (borrowed) and sets where the artifacts are. Returns 0,
 * or the exit code after printing why: 66 no such run, 69 the bucket
 * cannot be reached, 77 refused, 65 a bad summary, 78 no such provider.
 */
struct ht_config;
int ht_report_read_run(struct ht_report *r, const struct ht_config *cfg, const char *run_id);
/* Sets where the artifacts are from the bucket of cfg's provider, which
 * it opens (a local one is made when missing). Returns 0 or an exit code
 * as ht_report_read_run(). */
int ht_report_find_bucket(struct ht_report *r, const struct ht_config *cfg);
/* Links and names artifacts as base + "/" + key (a CI artifact URL, say). */
void ht_report_set_artifacts(struct ht_report *r, const char *base);
/* Makes the links of a file written at path relative to where it is, when
 * the bucket is a local directory. */
void ht_report_link_from(struct ht_report *r, const char *path);

/* A link to the artifact key (new string): artifact_base + key, or the
 * key itself. */
char *ht_report_artifact_href(const struct ht_report *r, const char *key);
/* The positions of the tests (into r->t), slowest first by total_ms;
 * at most max (0: all). New array of *n entries. */
size_t *ht_report_slowest(const struct ht_report *r, size_t max, size_t *n);
/* "1.2s", "3m04s", "850ms" into buf. Returns buf. */
char *ht_report_fmt_ms(long long ms, char *buf, size_t n);

/* --- the writers: each returns 0, or -1 when writing to out failed ------ */

struct ht_report_text_opts {
	int color;       /* ANSI colours */
	int lines;       /* output lines shown per failure */
	int slowest;     /* how many of the slowest tests */
	const char *html; /* where the HTML report was written, or NULL */
};
int ht_report_text(const struct ht_report *r, FILE *out, const struct ht_report_text_opts *o);
/* JUnit XML, Surefire's shape (see tests/data/junit.xsd). */
int ht_report_junit(const struct ht_report *r, FILE *out);
/* One HTML page holding everything, the data as JSON. */
int ht_report_html(const struct ht_report *r, FILE *out);
/* Trace Event Format JSON: one thread per lane, one slice per attempt. */
int ht_report_trace(const struct ht_report *r, FILE *out);

#endif
