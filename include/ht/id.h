/*
 * id.h: the one rule for run and test ids (docs/records.md), which name
 * directories on the host and in the sandbox and parts of bucket keys, and
 * the stable id of a test name.
 *
 * Ownership: ht_test_id returns a new string; arguments are borrowed.
 */
#ifndef HT_ID_H
#define HT_ID_H

/*
 * The longest id. ht-plan's ids are at most 51 bytes and its run ids 36;
 * 128 leaves room for the suffixes a temporary file name adds within a
 * 255-byte path component, and for the artifact's own path within an S3
 * key (1024 bytes: "<run_id>/<test_id>/out/<path>").
 */
#define HT_ID_MAX 128
/* The rule in words, for messages: "run_id: ... must be " HT_ID_RULE. */
#define HT_ID_RULE "1 to 128 of [A-Za-z0-9._-], not '.' or '..'"

/* 1 when s (may be NULL) follows HT_ID_RULE: safe as one path component
 * and as one part of a bucket key. */
int ht_id_safe(const char *s);

/*
 * The stable test id of a test name: "t-" + a slug of the name (at most
 * 40 of [a-z0-9-]) + "-" + the first 8 hex digits of the SHA-256 of the
 * name. Always passes ht_id_safe. New string.
 */
char *ht_test_id(const char *name);

#endif
