/*
 * config-keys.c: the keys of hypertest.json. libht's own (core_keys[])
 * and each plugin's schema (struct ht_config_schema, listed by the plugin
 * tables outside lib/) merge into one table, built once; the rows say a
 * key's type, default, range or choices, where it is stored, and its
 * sentence in the docs. Here too: checking a value against its row,
 * parsing one given as text, computed defaults, and suggestions for an
 * unknown key. Loading is lib/config.c.
 */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/util.h"
#include "lib/config-int.h"

#define OFF(f) offsetof(struct ht_config, f)
#define NO_OFF ((size_t)-1)
#define SECTION(p, d) { p, HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, NO_OFF, d }


/* libht's own keys; each plugin adds its own through its schema. */
static const struct ht_config_key core_keys[] = {
	{ "provider", HT_CT_ENUM, "local", NULL, 0, 0, NULL, 1, OFF(provider),
	  "Where tests run: the provider's name (each provider's section below)." },
	{ "dir", HT_CT_STRING, HT_STATE_DIR_DEFAULT, NULL, 0, 0, NULL, 1, OFF(state_dir),
	  "The state directory (plans, results, the local image store and bucket), relative to the project root." },
	{ "concurrency", HT_CT_INT, NULL, NULL, 1, 10000, NULL, 0, OFF(concurrency),
	  "How many tests run at the same time." },
	{ "timeout_s", HT_CT_INT, "300", NULL, 1, 900, NULL, 0, OFF(timeout_s),
	  "Seconds one test may take before it is stopped (Lambda's own limit is 900)." },
	{ "retries", HT_CT_INT, "0", NULL, 0, 10, NULL, 0, OFF(retries),
	  "How many times a failed test is run again; a test that passes on a retry is flaky." },
	{ "infra_retries", HT_CT_INT, "2", NULL, 0, 10, NULL, 0, OFF(infra_retries),
	  "How many times an invocation that failed for infrastructure reasons (throttling, a crashed sandbox) is retried." },
	{ "flaky_fails", HT_CT_BOOL, "false", NULL, 0, 0, NULL, 0, OFF(flaky_fails),
	  "Whether a flaky test makes the run fail." },
	{ "drift", HT_CT_ENUM, "warn", NULL, 0, 0, "warn|error|ignore", 1, OFF(drift),
	  "What ht-invoke does when the image the tests run does not hold the working tree: `warn`, `error` (exit 79 before invoking anything) or `ignore`." },
	{ "batch_target_ms", HT_CT_INT, NULL, NULL, 0, 900000, NULL, 0, OFF(batch_target_ms),
	  "Pack tests expected to take less than this many milliseconds into one invocation, up to this much in all; 0 turns batching off." },
	{ "batch_max_tests", HT_CT_INT, NULL, NULL, 1, 10000, NULL, 0, OFF(batch_max_tests),
	  "At most this many tests in one batch (and the batch size for tests with no known duration)." },
	{ "groups", HT_CT_GROUPS, NULL, NULL, 0, 0, NULL, 0, OFF(groups),
	  "Concurrency caps for groups of tests: `[{\"name\": \"db\", \"match\": \"tests/db/*\", \"max\": 2}]`." },
	SECTION("runner", "The test-runner plugin: how tests are listed, run and judged."),
	{ "runner.name", HT_CT_ENUM, "command", NULL, 0, 0, NULL, 1, OFF(runner.name),
	  "The plugin; `command` runs any framework through a command template." },
	{ "runner.env", HT_CT_STRMAP, "{}", NULL, 0, 0, NULL, 0, OFF(runner.env),
	  "Environment variables for every test: an object of strings." },
	{ "runner.max_output_mb", HT_CT_INT, "10", NULL, 1, 10240, NULL, 0, OFF(runner.max_output_mb),
	  "MiB of each of a test's stdout and stderr that ht-runner keeps: the last ones, after a line that says what was cut." },
	SECTION("image", "The container image the tests run in."),
	{ "image.base", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(image.base),
	  "The base image reference (`public.ecr.aws/lambda/provided:al2023`, or `oci:DIR`)." },
	{ "image.repository", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(image.repository),
	  "The repository the built image is pushed to." },
	{ "image.store", HT_CT_STRING, NULL, "`<dir>/oci`", 0, 0, NULL, 1, OFF(image.store),
	  "The local OCI image layout, relative to the project root." },
	{ "image.writable_task", HT_CT_BOOL, "false", NULL, 0, 0, NULL, 0, OFF(image.writable_task),
	  "ht-build marks the image (`HT_WRITABLE_TASK=1` in its Env) so that ht-runner copies the read-only /var/task into /tmp and runs the tests there." },
	SECTION("history", "The duration history ht-invoke keeps and ht-plan schedules from (docs/scheduling.md)."),
	{ "history.enabled", HT_CT_BOOL, "true", NULL, 0, 0, NULL, 0, OFF(history.enabled),
	  "Whether ht-invoke records each test's duration and ht-plan orders, predicts and shards by them." },
	{ "history.url", HT_CT_STRING, NULL, "the provider's bucket, key `history/durations.json`", 0, 0, NULL, 1,
	  OFF(history.url),
	  "Where the history is kept instead: a bucket URL (`s3://bucket/prefix`, `file:///dir`) or a directory relative to the project root; the file is `durations.json` in it." },
	{ "history.keep_runs", HT_CT_INT, "20", NULL, 1, 10000, NULL, 0, OFF(history.keep_runs),
	  "A test not seen for this many full runs is dropped from the history." },
	{ "history.max_tests", HT_CT_INT, "50000", NULL, 10, 1000000, NULL, 0, OFF(history.max_tests),
	  "The most tests the history keeps; the least recently seen go first." },
	{ NULL, HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, 0, NULL }
};

/*
 * All keys: libht's, then each plugin's, built once. slot is -1 for
 * libht's own keys (stored in struct ht_config) and the schema's slot
 * otherwise; a path a plugin shares with an earlier one is listed once
 * (validation) but stored by every schema that has it (stores[]).
 */
struct key_entry {
	struct ht_config_key k;  /* a copy, with computed choices and docs */
	int slot;
};
static struct key_entry *all_keys;
static size_t n_keys;
const struct ht_config_schema *ht_cfg_schemas[HT_CONFIG_MAX_SCHEMAS];
size_t ht_cfg_n_schemas;
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;

/* The names of the ht_cfg_schemas chosen by select, joined by sep; with
 * with_doc, "DOC on `NAME`" for each that has a concurrency_doc. New
 * string. */
static char *schema_names(const char *select, const char *sep, int with_doc)
{
	struct ht_buf b;
	size_t i;

	ht_buf_init(&b, 0);
	for (i = 0; i < ht_cfg_n_schemas; i++) {
		if (strcmp(ht_cfg_schemas[i]->select, select) != 0)
			continue;
		if (b.len)
			ht_buf_addstr(&b, sep);
		if (with_doc && ht_cfg_schemas[i]->concurrency_doc)
			ht_buf_addf(&b, "%s on `%s`", ht_cfg_schemas[i]->concurrency_doc, ht_cfg_schemas[i]->name);
		else if (!with_doc)
			ht_buf_addstr(&b, ht_cfg_schemas[i]->name);
	}
	return ht_buf_detach(&b);
}

/* How the docs say the batch keys' defaults, which each test runner's
 * schema gives: "`2000` with `pytest`, else `0` (off)"; new string. */
static char *batch_doc(int max_tests)
{
	struct ht_buf b;
	size_t i;

	ht_buf_init(&b, 0);
	for (i = 0; i < ht_cfg_n_schemas; i++) {
		const struct ht_config_schema *s = ht_cfg_schemas[i];
		long v = max_tests ? s->batch_max_tests : s->batch_target_ms;

		if (strcmp(s->select, "runner.name") == 0 && v > 0)
			ht_buf_addf(&b, "%s`%ld` with `%s`", b.len ? ", " : "", v, s->name);
	}
	ht_buf_addf(&b, "%s%s", b.len ? ", else " : "", max_tests ? "`200`" : "`0` (off)");
	return ht_buf_detach(&b);
}

/* The largest settings struct of a plugin: ht_config_settings() hands
 * out a zeroed one of this size for a config that did not load. */
#define SETTINGS_MAX 1024

static void add_schema(const struct ht_config_schema *s)
{
	/* Both are mistakes in the plugin tables, not in anyone's input. */
	if (ht_cfg_n_schemas == HT_CONFIG_MAX_SCHEMAS || s->size > SETTINGS_MAX) {
		fprintf(stderr, "libht: plugin schema '%s': more than %d schemas, or settings over %d bytes\n",
			s->name, HT_CONFIG_MAX_SCHEMAS, SETTINGS_MAX);
		abort();
	}
	ht_cfg_schemas[ht_cfg_n_schemas++] = s;
}

static void add_key(const struct ht_config_key *k, int slot)
{
	size_t i;

	for (i = 0; i < n_keys; i++)
		if (strcmp(all_keys[i].k.path, k->path) == 0)
			return;
	all_keys = ht_xrealloc(all_keys, (n_keys + 1) * sizeof(*all_keys));
	all_keys[n_keys].k = *k;
	all_keys[n_keys].slot = slot;
	n_keys++;
}

static void build_keys(void)
{
	const struct ht_config_key *k;
	size_t i;

	for (i = 0; ht_provider_schemas[i]; i++)
		add_schema(ht_provider_schemas[i]);
	for (i = 0; ht_runner_schemas[i]; i++)
		add_schema(ht_runner_schemas[i]);
	for (k = core_keys; k->path; k++)
		add_key(k, -1);
	for (i = 0; i < ht_cfg_n_schemas; i++)
		for (k = ht_cfg_schemas[i]->keys; k && k->path; k++)
			add_key(k, (int)i);
	for (i = 0; i < n_keys; i++) {
		struct ht_config_key *e = &all_keys[i].k;

		if (e->type == HT_CT_ENUM && !e->choices)
			e->choices = schema_names(e->path, "|", 0);
		if (strcmp(e->path, "concurrency") == 0 && !e->dflt_doc)
			e->dflt_doc = schema_names("provider", ", ", 1);
		if (strcmp(e->path, "batch_target_ms") == 0 && !e->dflt_doc)
			e->dflt_doc = batch_doc(0);
		if (strcmp(e->path, "batch_max_tests") == 0 && !e->dflt_doc)
			e->dflt_doc = batch_doc(1);
	}
}

void ht_cfg_keys_init(void)
{
	pthread_once(&keys_once, build_keys);
}

const struct ht_config_key *ht_config_key_at(size_t i)
{
	ht_cfg_keys_init();
	return i < n_keys ? &all_keys[i].k : NULL;
}

/* Key names that are credentials, compared without case and without an
 * "aws_" prefix, wherever they appear. */
static const char *const credential_names[] = {
	"access_key_id", "secret_access_key", "session_token", "secret_key",
	"access_key", "credentials", "password", NULL
};

const char ht_cfg_credentials_advice[] =
	"credentials do not belong in the configuration; remove it and use the AWS "
	"environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, "
	"AWS_PROFILE) or the shared files ~/.aws/credentials and ~/.aws/config";

const struct ht_config_key *ht_config_key_find(const char *path)
{
	size_t i;

	ht_cfg_keys_init();
	for (i = 0; i < n_keys; i++)
		if (strcmp(all_keys[i].k.path, path) == 0)
			return &all_keys[i].k;
	return NULL;
}

/* Calls fn for every key of every table with the settings block it is
 * stored in (c itself for libht's keys), sections excluded. */
void ht_cfg_each_stored(struct ht_config *c, void (*fn)(struct ht_config *c, const struct ht_config_key *k,
							   char *base, void *ud), void *ud)
{
	const struct ht_config_key *k;
	size_t i;

	for (k = core_keys; k->path; k++)
		if (k->type != HT_CT_SECTION)
			fn(c, k, (char *)c, ud);
	for (i = 0; i < ht_cfg_n_schemas; i++)
		for (k = ht_cfg_schemas[i]->keys; k && k->path; k++)
			if (k->type != HT_CT_SECTION && c->ext[i])
				fn(c, k, c->ext[i], ud);
}

const void *ht_config_settings(const struct ht_config *c, const struct ht_config_schema *s)
{
	static const union { long double ld; void *p; long long ll; char pad[SETTINGS_MAX]; } zero;
	size_t i;

	ht_cfg_keys_init();
	for (i = 0; i < ht_cfg_n_schemas; i++)
		if (ht_cfg_schemas[i] == s && c->ext[i])
			return c->ext[i];
	return &zero;
}

const struct ht_config_schema *ht_config_selected(const struct ht_config *c, const char *select)
{
	const char *name = strcmp(select, "provider") == 0 ? c->provider :
			   strcmp(select, "runner.name") == 0 ? c->runner.name : NULL;
	size_t i;

	ht_cfg_keys_init();
	for (i = 0; name && i < ht_cfg_n_schemas; i++)
		if (strcmp(ht_cfg_schemas[i]->select, select) == 0 && strcmp(ht_cfg_schemas[i]->name, name) == 0)
			return ht_cfg_schemas[i];
	return NULL;
}

void ht_config_env_name(const char *path, char *buf, size_t size)
{
	size_t i = 0;

	if (!size)
		return;
	snprintf(buf, size, "HT_");
	for (i = 3; *path && i + 1 < size; path++, i++)
		buf[i] = *path == '.' ? '_' : (char)(*path >= 'a' && *path <= 'z' ? *path - 32 : *path);
	buf[i < size ? i : size - 1] = '\0';
}

int ht_cfg_is_credential(const char *name)
{
	int i;

	if (strncasecmp(name, "aws_", 4) == 0)
		name += 4;
	for (i = 0; credential_names[i]; i++)
		if (strcasecmp(name, credential_names[i]) == 0)
			return 1;
	return 0;
}

int ht_cfg_is_env_name(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* --- suggestions --------------------------------------------------------- */

/* Edit distance, without case; long strings get no suggestion. */
static int distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b);
	int row[64], i, j;

	if (la >= 63 || lb >= 63)
		return 1000;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			int up = row[j];
			int cost = (a[i - 1] | 32) == (b[j - 1] | 32) ? 0 : 1;
			int best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *ht_cfg_last_segment(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot ? dot + 1 : path;
}

/* Whether key path k sits directly in section parent ("" for the top). */
static int in_section(const char *k, const char *parent)
{
	size_t n = strlen(parent);

	if (!n)
		return !strchr(k, '.');
	return strncmp(k, parent, n) == 0 && k[n] == '.' && !strchr(k + n + 1, '.');
}

/* The key to ht_cfg_suggest for an unknown name in parent: the closest sibling,
 * else the closest key of another section. Borrowed full path, or NULL. */
const char *ht_cfg_suggest(const char *parent, const char *name)
{
	const struct ht_config_key *k;
	const char *best = NULL;
	int best_d = 1000;
	int limit = (int)strlen(name) / 3;
	int pass;

	if (limit < 2)
		limit = strlen(name) <= 3 ? 1 : 2;
	for (pass = 0; pass < 2; pass++) {
		size_t i;

		for (i = 0; (k = ht_config_key_at(i)); i++) {
			int d;

			if (in_section(k->path, parent) == (pass == 1))
				continue;
			d = distance(name, ht_cfg_last_segment(k->path));
			if (d < best_d) {
				best_d = d;
				best = k->path;
			}
		}
		if (best && best_d <= limit)
			return best;
	}
	return NULL;
}

/* --- values -------------------------------------------------------------- */

/* How a value reads in a message: 'text', 42, true, null, an array. */
static void describe(json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_STRING: {
		const char *s = json_string_value(v);

		if (strlen(s) > 40)
			snprintf(buf, size, "'%.40s...'", s);
		else
			snprintf(buf, size, "'%s'", s);
		break;
	}
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, size, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, size, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, size, "false");
		break;
	case JSON_NULL:
		snprintf(buf, size, "null");
		break;
	case JSON_ARRAY:
		snprintf(buf, size, "an array");
		break;
	default:
		snprintf(buf, size, "an object");
		break;
	}
}

static int verr_set(struct verr *e, const char *fmt, ...) HT_PRINTF(2, 3);
static int verr_set(struct verr *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int check_string(const struct ht_config_key *k, json_t *v, struct verr *e)
{
	char got[96];

	if (!json_is_string(v)) {
		describe(v, got, sizeof(got));
		return verr_set(e, "expected a string, got %s", got);
	}
	if (k->nonempty && json_string_length(v) == 0)
		return verr_set(e, "expected a string that is not empty, got ''");
	if (k->type == HT_CT_ENUM) {
		const char *s = json_string_value(v);
		const char *c = k->choices;
		char list[160] = "";

		while (*c) {
			size_t n = strcspn(c, "|");

			if (strlen(s) == n && strncmp(s, c, n) == 0)
				return 0;
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s'%.*s'",
				 *list ? ", " : "", (int)n, c);
			c += n + (c[n] == '|');
		}
		describe(v, got, sizeof(got));
		return verr_set(e, "expected one of %s, got %s", list, got);
	}
	return 0;
}

/*
 * Checks the value of "groups": an array of objects, each with a unique
 * non-empty "name", a "match" (an fnmatch pattern) or a "tag" (or both),
 * and "max" from 1 to 10000; nothing else.
 */
static int check_groups(json_t *v, struct verr *e)
{
	char got[96];
	size_t i, j;
	json_t *g;

	describe(v, got, sizeof(got));
	if (!json_is_array(v))
		return verr_set(e, "expected an array of groups ({\"name\", \"match\", \"max\"}), got %s", got);
	json_array_foreach(v, i, g) {
		const char *name = json_string_value(json_object_get(g, "name"));
		json_t *max = json_object_get(g, "max"), *m;
		const char *mk;

		e->index = (long)i;
		snprintf(e->sub, sizeof(e->sub), "[%zu]", i);
		if (!json_is_object(g)) {
			describe(g, got, sizeof(got));
			return verr_set(e, "expected an object {\"name\", \"match\", \"max\"}, got %s", got);
		}
		json_object_foreach(g, mk, m) {
			if (strcmp(mk, "name") && strcmp(mk, "match") && strcmp(mk, "tag") && strcmp(mk, "max"))
				return verr_set(e, "'%.60s': unknown member (a group has name, match, tag, max)", mk);
			if (strcmp(mk, "max") && (!json_is_string(m) || !json_string_length(m))) {
				describe(m, got, sizeof(got));
				return verr_set(e, "%s: expected a string that is not empty, got %s", mk, got);
			}
		}
		if (!name)
			return verr_set(e, "name: not set; every group needs one");
		if (!json_object_get(g, "match") && !json_object_get(g, "tag"))
			return verr_set(e, "group '%.60s' has neither match (a pattern) nor tag", name);
		if (!json_is_integer(max) || json_integer_value(max) < 1 || json_integer_value(max) > 10000) {
			describe(max ? max : json_null(), got, sizeof(got));
			return verr_set(e, "max: expected an integer from 1 to 10000, got %s", max ? got : "nothing");
		}
		for (j = 0; j < i; j++)
			if (!strcmp(name, json_string_value(json_object_get(json_array_get(v, j), "name"))))
				return verr_set(e, "name: '%.60s' is the name of groups[%zu] too", name, j);
	}
	e->sub[0] = '\0';
	e->index = 0;
	return 0;
}

/*
 * Checks a value against its key: type, range, choices, elements. Returns
 * 0, or -1 with e filled in. v is borrowed.
 */
int ht_cfg_check_value(const struct ht_config_key *k, json_t *v, struct verr *e)
{
	char got[96];

	memset(e, 0, sizeof(*e));
	describe(v, got, sizeof(got));
	switch (k->type) {
	case HT_CT_STRING:
	case HT_CT_ENUM:
		return check_string(k, v, e);
	case HT_CT_INT:
		if (!json_is_integer(v))
			return verr_set(e, "expected an integer, got %s", got);
		if (json_integer_value(v) < k->min || json_integer_value(v) > k->max)
			return verr_set(e, "expected an integer from %ld to %ld, got %s",
					k->min, k->max, got);
		return 0;
	case HT_CT_BOOL:
		if (!json_is_boolean(v))
			return verr_set(e, "expected true or false, got %s", got);
		return 0;
	case HT_CT_STRLIST: {
		size_t i;
		json_t *el;

		if (!json_is_array(v))
			return verr_set(e, "expected an array of strings, got %s", got);
		json_array_foreach(v, i, el) {
			if (check_string(k, el, e) < 0) {
				e->index = (long)i;
				snprintf(e->sub, sizeof(e->sub), "[%zu]", i);
				return -1;
			}
		}
		return 0;
	}
	case HT_CT_STRMAP: {
		const char *name;
		json_t *el;

		if (!json_is_object(v))
			return verr_set(e, "expected an object of strings, got %s", got);
		json_object_foreach(v, name, el) {
			e->member = name;
			snprintf(e->sub, sizeof(e->sub), ".%.150s", name);
			if (ht_cfg_is_credential(name)) {
				e->at_key = 1;
				return verr_set(e, "%s", ht_cfg_credentials_advice);
			}
			if (!ht_cfg_is_env_name(name)) {
				e->at_key = 1;
				return verr_set(e, "not a valid environment variable name");
			}
			if (!json_is_string(el)) {
				describe(el, got, sizeof(got));
				return verr_set(e, "expected a string, got %s", got);
			}
		}
		e->member = NULL;
		e->sub[0] = '\0';
		return 0;
	}
	case HT_CT_GROUPS:
		return check_groups(v, e);
	default:
		if (!json_is_object(v))
			return verr_set(e, "expected an object, got %s", got);
		return 0;
	}
}

/*
 * Parses a value given as text (an HT_* variable, --set, a default) by
 * the key's type. Returns a new reference, or NULL with e->msg set.
 */
json_t *ht_cfg_parse_text(const struct ht_config_key *k, const char *s, struct verr *e)
{
	json_t *v = NULL;
	long n;

	memset(e, 0, sizeof(*e));
	switch (k->type) {
	case HT_CT_STRING:
	case HT_CT_ENUM:
		v = json_string(s);
		if (!v)
			verr_set(e, "not valid UTF-8");
		return v;
	case HT_CT_INT:
		if (ht_parse_long(s, LONG_MIN, LONG_MAX, &n) < 0) {
			verr_set(e, "expected an integer, got '%.40s'", s);
			return NULL;
		}
		return json_integer(n);
	case HT_CT_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
			return json_true();
		if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
			return json_false();
		verr_set(e, "expected true, false, 1 or 0, got '%.40s'", s);
		return NULL;
	case HT_CT_STRLIST:
	case HT_CT_STRMAP: {
		const char *p = s + strspn(s, " \t\n");
		int is_map = k->type == HT_CT_STRMAP;

		if (*p == (is_map ? '{' : '[')) {
			json_error_t jerr;

			v = json_loads(s, 0, &jerr);
			if (!v)
				verr_set(e, "invalid JSON at column %d: %s", jerr.column, jerr.text);
			return v;
		}
		/* Comma-separated: "a,b" or "K=V,K2=V2"; spaces around items go. */
		v = is_map ? json_object() : json_array();
		while (*p) {
			size_t len = strcspn(p, ",");
			char *item = ht_xasprintf("%.*s", (int)len, p);
			char *b = item + strspn(item, " \t\n");
			char *end = b + strlen(b);
			json_t *str;
			char *eq;

			while (end > b && strchr(" \t\n", end[-1]))
				*--end = '\0';
			p += len + (p[len] == ',');
			if (!*b) {
				free(item);
				continue;
			}
			eq = is_map ? strchr(b, '=') : NULL;
			if (is_map && !eq) {
				verr_set(e, "expected NAME=VALUE items, got '%.40s'", b);
				free(item);
				json_decref(v);
				return NULL;
			}
			if (eq)
				*eq = '\0';
			str = json_string(eq ? eq + 1 : b);
			if (!str) {
				verr_set(e, "not valid UTF-8");
				free(item);
				json_decref(v);
				return NULL;
			}
			if (is_map)
				json_object_set_new(v, b, str);
			else
				json_array_append_new(v, str);
			free(item);
		}
		return v;
	}
	case HT_CT_GROUPS: {
		json_error_t jerr;

		v = json_loads(s, 0, &jerr);
		if (!v)
			verr_set(e, "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return v;
	}
	default:
		verr_set(e, "is a section; set its keys one by one");
		return NULL;
	}
}

/* The value of a key with a computed default, as a new reference: the
 * provider's concurrency, image.store, or what a plugin computes. */
json_t *ht_cfg_computed_default(const struct ht_config_key *k, json_t *vals)
{
	const char *dir = json_string_value(json_object_get(vals, "dir"));
	const char *provider = json_string_value(json_object_get(vals, "provider"));
	size_t i;

	if (!dir)
		dir = HT_STATE_DIR_DEFAULT;
	if (!provider)
		provider = "local";
	if (strcmp(k->path, "concurrency") == 0) {
		long n = 0;

		for (i = 0; i < ht_cfg_n_schemas; i++)
			if (strcmp(ht_cfg_schemas[i]->select, "provider") == 0 && strcmp(ht_cfg_schemas[i]->name, provider) == 0)
				n = ht_cfg_schemas[i]->concurrency;
		if (n <= 0)
			n = sysconf(_SC_NPROCESSORS_ONLN);
		return json_integer(n < 1 ? 1 : n > k->max ? k->max : n);
	}
	if (strcmp(k->path, "image.store") == 0)
		return json_sprintf("%s/oci", dir);
	if (strcmp(k->path, "batch_target_ms") == 0 || strcmp(k->path, "batch_max_tests") == 0) {
		/* The selected test runner's default (runner.name, "command"
		 * unless set). */
		const char *runner = json_string_value(json_object_get(vals, "runner.name"));
		int max_tests = k->path[6] == 'm';
		long v = 0;

		for (i = 0; i < ht_cfg_n_schemas; i++)
			if (strcmp(ht_cfg_schemas[i]->select, "runner.name") == 0 &&
			    strcmp(ht_cfg_schemas[i]->name, runner ? runner : "command") == 0)
				v = max_tests ? ht_cfg_schemas[i]->batch_max_tests : ht_cfg_schemas[i]->batch_target_ms;
		if (max_tests && v <= 0)
			v = 200;
		return json_integer(v < k->min ? k->min : v > k->max ? k->max : v);
	}
	for (i = 0; i < ht_cfg_n_schemas; i++) {
		json_t *v = ht_cfg_schemas[i]->dflt ? ht_cfg_schemas[i]->dflt(k->path, dir, vals) : NULL;

		if (v)
			return v;
	}
	return NULL;
}

