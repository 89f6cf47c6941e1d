/*
 * batch.h: what ht-plan does to a plan after the tests are planned and
 * their expected durations known, and what ht-invoke needs to run it:
 * groups with a concurrency cap (`groups`), and batches of tiny tests
 * packed into one invocation (`batch_target_ms`). See docs/scheduling.md
 * and docs/records.md.
 *
 * Ownership: arrays and records passed in are borrowed unless a comment
 * says "steals"; json_t results are new references.
 */
#ifndef HT_BATCH_H
#define HT_BATCH_H

#include <jansson.h>

struct ht_config;

/* A batch's timeout is the sum of its members', at most this (Lambda's
 * limit), and at least its longest member's. */
#define HT_BATCH_TIMEOUT_CAP_S 900

/*
 * Sets `group` and `group_max` on every record of records (an array of
 * ht.test/1 objects) that a group of groups (the config's "groups",
 * borrowed, may be NULL) matches: the first group whose "match" (fnmatch,
 * no flags) matches the record's file or name, or whose "tag" is one of
 * the record's `tags`.
 */
void ht_groups_assign(json_t *records, json_t *groups);

/*
 * Packs the records of a plan into batches as c asks (batch_target_ms,
 * batch_max_tests, concurrency; docs/scheduling.md#batching): tests
 * expected to take less than the target, or with no expected duration,
 * are packed in plan order, tests of one group only with each other, into
 * batch records (docs/records.md) that carry them in `batch`; a batch of
 * one stays the test itself. Returns the new plan (a new array, `index`
 * counted again); records is left as it was. With batching off, a new
 * reference to records.
 */
json_t *ht_batch_pack(json_t *records, const struct ht_config *c);

/*
 * The member of batch record test that case (an element of an answer's
 * `cases`) belongs to: its "member" index when valid, else the member
 * with the case's test_id; -1 when neither.
 */
int ht_batch_case_member(json_t *test, json_t *cs);

/* 1 when a case's outcome makes its member worth running again: failed,
 * timed out, or not run (`not_run`). */
int ht_batch_case_retry(json_t *cs);

/*
 * For a retry of batch record test after answer (an ht.result/1 with
 * `cases`): the record with only the members that have a case worth
 * running again (ht_batch_case_retry), those not run first (the others
 * after, so a member that hangs cannot keep them from running twice), as
 * a new reference, and in *keep (a new array) the cases of the other
 * members, which are final. NULL (and *keep NULL) when no member is to be
 * run again.
 */
json_t *ht_batch_retry(json_t *test, json_t *answer, json_t **keep);

/*
 * When test is a batch record and rec (an ht.result/1 about it) has no
 * `cases` (an infrastructure error, an interrupt: nothing ran), gives rec
 * one case per member with rec's status and message, so that each test
 * still gets its own final record. Otherwise leaves rec alone.
 */
void ht_batch_fill_cases(json_t *test, json_t *rec);

#endif
