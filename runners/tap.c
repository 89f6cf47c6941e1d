/*
 * tap.c: judging a test by the TAP it printed on stdout (runners/outcome.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ht/text.h"
#include "ht/util.h"
#include "runners/outcome.h"

void ht_tap_init(struct ht_tap *t)
{
	memset(t, 0, sizeof(*t));
	t->planned = -1;
	t->failures = json_array();
}

void ht_tap_release(struct ht_tap *t)
{
	free(t->first_failure);
	free(t->bail_reason);
	free(t->skip_reason);
	json_decref(t->failures);
	memset(t, 0, sizeof(*t));
}

/* The directive after '#' in s, if any: 1 SKIP, 2 TODO, 0 none; *reason
 * points after the word. */
static int directive(const char *hash, const char **reason)
{
	const char *p = hash + 1;

	while (*p == ' ' || *p == '\t')
		p++;
	*reason = p;
	if (strncasecmp(p, "skip", 4) == 0) {
		p += 4;
		while (isalpha((unsigned char)*p))
			p++;
		*reason = p;
		return 1;
	}
	if (strncasecmp(p, "todo", 4) == 0) {
		*reason = p + 4;
		return 2;
	}
	return 0;
}

/* The first '#' of s not escaped by a backslash, or NULL. */
static const char *find_hash(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '#')
			return s;
	}
	return NULL;
}

void ht_tap_feed(struct ht_tap *t, const char *line)
{
	const char *p = line, *hash, *reason;
	int not_ok = 0, dir = 0;
	long num = -1;
	char *desc;

	if (t->bailed)
		return;
	if (strncmp(p, "1..", 3) == 0 && isdigit((unsigned char)p[3])) {
		t->planned = strtol(p + 3, NULL, 10);
		hash = find_hash(p);
		if (t->planned == 0) {
			t->skip_all = 1;
			if (hash && directive(hash, &reason) == 1) {
				/* A second plan line: its reason replaces the first. */
				free(t->skip_reason);
				t->skip_reason = ht_oneline(reason, strlen(reason), HT_OUTCOME_MAX_FIELD);
			}
		}
		return;
	}
	if (strncasecmp(p, "Bail out!", 9) == 0) {
		t->bailed = 1;
		t->bail_reason = ht_oneline(p + 9, strlen(p + 9), HT_OUTCOME_MAX_FIELD);
		return;
	}
	if (strncmp(p, "not ok", 6) == 0 && (p[6] == '\0' || p[6] == ' ' || p[6] == '\t')) {
		not_ok = 1;
		p += 6;
	} else if (strncmp(p, "ok", 2) == 0 && (p[2] == '\0' || p[2] == ' ' || p[2] == '\t')) {
		p += 2;
	} else {
		return; /* a comment, a diagnostic, an indented subtest, noise */
	}
	t->count++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		num = strtol(p, (char **)&p, 10);
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (*p == '-')
		p++;
	hash = find_hash(p);
	if (hash)
		dir = directive(hash, &reason);
	desc = ht_oneline(p, hash ? (size_t)(hash - p) : strlen(p), HT_OUTCOME_MAX_FIELD);
	if (dir == 2) {
		t->todo++;
	} else if (dir == 1) {
		t->skipped++;
	} else if (not_ok) {
		char *msg = ht_oneline(line, strlen(line), HT_OUTCOME_MAX_FIELD);
		char *name = *desc ? ht_xstrdup(desc) : ht_xasprintf("test %ld", num >= 0 ? num : t->count);

		t->failed++;
		if (!t->first_failure)
			t->first_failure = ht_xstrdup(msg);
		ht_outcome_add_failure(t->failures, name, NULL, msg, NULL);
		free(name);
		free(msg);
	} else {
		t->passed++;
	}
	free(desc);
}

void ht_tap_finish(struct ht_tap *t, struct ht_run_result *res)
{
	json_t *tests = json_object();

	json_object_set_new(tests, "passed", json_integer(t->passed));
	json_object_set_new(tests, "failed", json_integer(t->failed));
	json_object_set_new(tests, "skipped", json_integer(t->skipped));
	if (t->todo)
		json_object_set_new(tests, "todo", json_integer(t->todo));
	json_object_set_new(tests, "failures", json_incref(t->failures));
	json_decref(res->tests);
	res->tests = tests;

	res->status = "failed";
	if (t->bailed) {
		ht_run_result_set_message(res, "Bail out!%s%s", *t->bail_reason ? " " : "", t->bail_reason);
	} else if (t->failed) {
		if (t->failed > 1)
			ht_run_result_set_message(res, "%s (and %ld more failed)", t->first_failure, t->failed - 1);
		else
			ht_run_result_set_message(res, "%s", t->first_failure);
	} else if (t->skip_all && t->count == 0) {
		res->status = "skipped";
		ht_run_result_set_message(res, "skipped%s%s", t->skip_reason && *t->skip_reason ? ": " : "",
					  t->skip_reason ? t->skip_reason : "");
	} else if (t->planned < 0) {
		if (res->exited && res->exit_code == 77 && t->count == 0) {
			res->status = "skipped";
			ht_run_result_set_message(res, "skipped (exit code 77)");
		} else {
			char how[40];

			if (res->signal)
				snprintf(how, sizeof(how), "killed by signal %d", res->signal);
			else
				snprintf(how, sizeof(how), "exit code %d", res->exit_code);
			ht_run_result_set_message(res, "no TAP plan (ran %ld tests, %s)", t->count, how);
		}
	} else if (t->planned != t->count) {
		ht_run_result_set_message(res, "planned %ld tests but ran %ld", t->planned, t->count);
	} else if (res->signal) {
		ht_run_result_set_message(res, "killed by signal %d", res->signal);
	} else if (!res->exited || res->exit_code != 0) {
		ht_run_result_set_message(res, "exit code %d", res->exit_code);
	} else if (t->count > 0 && t->skipped == t->count) {
		res->status = "skipped";
		ht_run_result_set_message(res, "all %ld tests skipped", t->count);
	} else {
		res->status = "passed";
		ht_run_result_set_message(res, "%ld passed, %ld skipped", t->passed, t->skipped);
	}
}

