/*
 * outcome.h: reading a test's outcome, for the runner plugins: TAP on its
 * stdout (runners/tap.c) and the JUnit XML file it wrote (runners/junit.c).
 * Both readers are written for untrusted input: they never read past the
 * end, never recurse, and keep at most HT_OUTCOME_MAX_FAILURES failing
 * cases, each field one line of at most HT_OUTCOME_MAX_FIELD bytes.
 *
 * Ownership: the structs own the strings and JSON they hold and free them
 * in their _release(); arguments are borrowed.
 */
#ifndef HT_RUNNERS_OUTCOME_H
#define HT_RUNNERS_OUTCOME_H

#include <stddef.h>

#include <jansson.h>

#include "ht/runner.h"

#define HT_OUTCOME_MAX_FAILURES 50
#define HT_OUTCOME_MAX_FIELD 1000

/*
 * Appends {"name", "classname" (when set), "message", "kind" (when set)}
 * to the array failures, unless it holds HT_OUTCOME_MAX_FAILURES already.
 * The strings are copied.
 */
void ht_outcome_add_failure(json_t *failures, const char *name, const char *classname, const char *message,
			    const char *kind);

/*
 * TAP on stdout: counts of one stream. ht_tap_feed() takes one line at a
 * time (without its newline); ht_tap_finish() judges. The result's tests
 * member gets {"passed","failed","skipped","todo","failures":[...]}.
 */
struct ht_tap {
	long planned;      /* -1 until a plan line */
	long passed, failed, skipped, todo, count;
	int skip_all;      /* "1..0 # SKIP ..." */
	int bailed;
	char *first_failure; /* "not ok 3 - name" */
	char *bail_reason;
	char *skip_reason;   /* of the last "1..0 # SKIP" line */
	json_t *failures;  /* array of {"name","message"} */
};
void ht_tap_init(struct ht_tap *t);
void ht_tap_release(struct ht_tap *t);
void ht_tap_feed(struct ht_tap *t, const char *line);
/* Sets res->status, message and tests from t and the process' end. */
void ht_tap_finish(struct ht_tap *t, struct ht_run_result *res);

/*
 * JUnit XML: counts testcases, failures, errors and skipped, and collects
 * the names and messages of failing cases. Returns 0, or -1 with a reason
 * in err when xml is not a JUnit document.
 */
struct ht_junit {
	long tests, failed, errors, skipped;
	json_t *failures; /* array of {"name","classname","message","kind"} */
	/* Set before parsing to also get every case, in document order:
	 * {"classname","name","time_ms","parts":[{"tag" ("failure", "error",
	 * "skipped"),"type","message","text"}],"system_out","system_err"}
	 * (texts: their last HT_JUNIT_MAX_TEXT bytes), at most
	 * HT_JUNIT_MAX_CASES. */
	int want_cases;
	json_t *cases;
};
#define HT_JUNIT_MAX_TEXT 8192
#define HT_JUNIT_MAX_CASES 20000
void ht_junit_init(struct ht_junit *j);
void ht_junit_release(struct ht_junit *j);
int ht_junit_parse(struct ht_junit *j, const char *xml, size_t len, char *err, size_t errlen);

#endif
