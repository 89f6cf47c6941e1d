/*
 * plan.h: reading a plan, the ht.test/1 records ht-plan writes
 * (docs/records.md), as ht-invoke does: every record checked before
 * anything runs, so that a bad plan costs nothing.
 *
 * Ownership: the record handed to the callback is borrowed for the call.
 */
#ifndef HT_PLAN_H
#define HT_PLAN_H

#include <stdio.h>

#include <jansson.h>

/* The longest plan line: larger than any provider's payload limit, so
 * that an event too large for a provider is that test's error. */
#define HT_PLAN_LINE_MAX (16u * 1024 * 1024)

/* Called for each valid record with its line ("NAME:LINE") and its
 * timeout in seconds; returns 0, or -1 after printing why it is refused. */
typedef int (*ht_plan_fn)(json_t *rec, const char *where, long timeout_s, void *ud);

/*
 * Reads every record of fp (named name in messages) and checks each: the
 * schema, test_id and run_id (include/ht/id.h), a test_id no earlier
 * record has, a `run` object, and timeout_s (1..HT_TIMEOUT_MAX_S,
 * default_timeout when absent); hands the good ones to fn. Every problem
 * is printed with its line. Returns 0, HT_EXIT_DATAERR when a record was
 * bad or there was none (an empty plan), or HT_EXIT_IOERR.
 */
int ht_plan_read(FILE *fp, const char *name, long default_timeout, ht_plan_fn fn, void *ud);

#endif
