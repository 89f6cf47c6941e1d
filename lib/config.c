/*
 * config.c: hypertest.json, its schema, and the HT_* and --set overrides.
 *
 * Key tables say everything about a key: libht's own (core_keys[]) and
 * one per plugin (struct ht_config_schema, listed by the plugin tables
 * outside lib/), each row its type,
 * default, range or choices, where it lands in struct ht_config, and its
 * sentence in the docs. Loading goes: read and parse the file (jansson
 * reports syntax errors with their position), walk it against the table
 * (positions of bad values come from config-locate.c), lay the HT_*
 * variables and then the --set arguments over it, and finally fill the
 * struct and the effective JSON from the table. Every problem found is
 * reported, not only the first.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <unistd.h>

#include <jansson.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/util.h"

#define OFF(f) offsetof(struct ht_config, f)
#define NO_OFF ((size_t)-1)
#define SECTION(p, d) { p, HT_CT_SECTION, NULL, NULL, 0, 0, NULL, 0, NO_OFF, d }

/* The largest config file read: a config is small; this is a guard. */
#define CONFIG_MAX (1024 * 1024)
/* At most this many steps in a key path (sections nest two deep). */
#define MAX_STEPS 8

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
	SECTION("runner", "The test-runner plugin: how tests are listed, run and judged."),
	{ "runner.name", HT_CT_ENUM, "command", NULL, 0, 0, NULL, 1, OFF(runner.name),
	  "The plugin; `command` runs any framework through a command template." },
	{ "runner.env", HT_CT_STRMAP, "{}", NULL, 0, 0, NULL, 0, OFF(runner.env),
	  "Environment variables for every test: an object of strings." },
	SECTION("image", "The container image the tests run in."),
	{ "image.base", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(image.base),
	  "The base image reference (`public.ecr.aws/lambda/provided:al2023`, or `oci:DIR`)." },
	{ "image.repository", HT_CT_STRING, NULL, NULL, 0, 0, NULL, 1, OFF(image.repository),
	  "The repository the built image is pushed to." },
	{ "image.store", HT_CT_STRING, NULL, "`<dir>/oci`", 0, 0, NULL, 1, OFF(image.store),
	  "The local OCI image layout, relative to the project root." },
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
static const struct ht_config_schema *schemas[HT_CONFIG_MAX_SCHEMAS];
static size_t n_schemas;
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;

/* The names of the schemas chosen by select, joined by sep; with
 * with_doc, "DOC on `NAME`" for each that has a concurrency_doc. New
 * string. */
static char *schema_names(const char *select, const char *sep, int with_doc)
{
	struct ht_buf b;
	size_t i;

	ht_buf_init(&b, 0);
	for (i = 0; i < n_schemas; i++) {
		if (strcmp(schemas[i]->select, select) != 0)
			continue;
		if (b.len)
			ht_buf_addstr(&b, sep);
		if (with_doc && schemas[i]->concurrency_doc)
			ht_buf_addf(&b, "%s on `%s`", schemas[i]->concurrency_doc, schemas[i]->name);
		else if (!with_doc)
			ht_buf_addstr(&b, schemas[i]->name);
	}
	return ht_buf_detach(&b);
}

static void add_schema(const struct ht_config_schema *s)
{
	if (n_schemas == HT_CONFIG_MAX_SCHEMAS) {
		fprintf(stderr, "libht: more than %d plugin schemas\n", HT_CONFIG_MAX_SCHEMAS);
		abort();
	}
	schemas[n_schemas++] = s;
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
	for (i = 0; i < n_schemas; i++)
		for (k = schemas[i]->keys; k && k->path; k++)
			add_key(k, (int)i);
	for (i = 0; i < n_keys; i++) {
		struct ht_config_key *e = &all_keys[i].k;

		if (e->type == HT_CT_ENUM && !e->choices)
			e->choices = schema_names(e->path, "|", 0);
		if (strcmp(e->path, "concurrency") == 0 && !e->dflt_doc)
			e->dflt_doc = schema_names("provider", ", ", 1);
	}
}

static void keys_init(void)
{
	pthread_once(&keys_once, build_keys);
}

const struct ht_config_key *ht_config_key_at(size_t i)
{
	keys_init();
	return i < n_keys ? &all_keys[i].k : NULL;
}

/* Key names that are credentials, compared without case and without an
 * "aws_" prefix, wherever they appear. */
static const char *const credential_names[] = {
	"access_key_id", "secret_access_key", "session_token", "secret_key",
	"access_key", "credentials", "password", NULL
};

static const char credentials_advice[] =
	"credentials do not belong in the configuration; remove it and use the AWS "
	"environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, "
	"AWS_PROFILE) or the shared files ~/.aws/credentials and ~/.aws/config";

const struct ht_config_key *ht_config_key_find(const char *path)
{
	size_t i;

	keys_init();
	for (i = 0; i < n_keys; i++)
		if (strcmp(all_keys[i].k.path, path) == 0)
			return &all_keys[i].k;
	return NULL;
}

/* Calls fn for every key of every table with the settings block it is
 * stored in (c itself for libht's keys), sections excluded. */
static void each_stored(struct ht_config *c, void (*fn)(struct ht_config *c, const struct ht_config_key *k,
							   char *base, void *ud), void *ud)
{
	const struct ht_config_key *k;
	size_t i;

	for (k = core_keys; k->path; k++)
		if (k->type != HT_CT_SECTION)
			fn(c, k, (char *)c, ud);
	for (i = 0; i < n_schemas; i++)
		for (k = schemas[i]->keys; k && k->path; k++)
			if (k->type != HT_CT_SECTION && c->ext[i])
				fn(c, k, c->ext[i], ud);
}

const void *ht_config_settings(const struct ht_config *c, const struct ht_config_schema *s)
{
	static const union { long double ld; void *p; long long ll; char pad[1024]; } zero;
	size_t i;

	keys_init();
	for (i = 0; i < n_schemas; i++)
		if (schemas[i] == s && c->ext[i])
			return c->ext[i];
	return &zero;
}

const struct ht_config_schema *ht_config_selected(const struct ht_config *c, const char *select)
{
	const char *name = strcmp(select, "provider") == 0 ? c->provider :
			   strcmp(select, "runner.name") == 0 ? c->runner.name : NULL;
	size_t i;

	keys_init();
	for (i = 0; name && i < n_schemas; i++)
		if (strcmp(schemas[i]->select, select) == 0 && strcmp(schemas[i]->name, name) == 0)
			return schemas[i];
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

static int is_credential(const char *name)
{
	int i;

	if (strncasecmp(name, "aws_", 4) == 0)
		name += 4;
	for (i = 0; credential_names[i]; i++)
		if (strcasecmp(name, credential_names[i]) == 0)
			return 1;
	return 0;
}

static int is_env_name(const char *s)
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

static const char *last_segment(const char *path)
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

/* The key to suggest for an unknown name in parent: the closest sibling,
 * else the closest key of another section. Borrowed full path, or NULL. */
static const char *suggest(const char *parent, const char *name)
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
			d = distance(name, last_segment(k->path));
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

/* What check_value found wrong, and where inside the value. */
struct verr {
	char msg[512];
	char sub[160];  /* "[2]" or ".NAME" after the key path, or "" */
	long index;     /* the element, when sub is "[N]" */
	const char *member; /* the member, when sub is ".NAME"; borrowed */
	int at_key;     /* point at the member's key rather than its value */
};

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
 * Checks a value against its key: type, range, choices, elements. Returns
 * 0, or -1 with e filled in. v is borrowed.
 */
static int check_value(const struct ht_config_key *k, json_t *v, struct verr *e)
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
			if (is_credential(name)) {
				e->at_key = 1;
				return verr_set(e, "%s", credentials_advice);
			}
			if (!is_env_name(name)) {
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
static json_t *parse_text(const struct ht_config_key *k, const char *s, struct verr *e)
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
	default:
		verr_set(e, "is a section; set its keys one by one");
		return NULL;
	}
}

/* --- loading ------------------------------------------------------------- */

struct load {
	struct ht_config *c;
	json_t *vals;   /* key path -> value, from the file and the overrides */
	int nerr;
};

/* Prints one message and keeps the first in c->error. */
static void report(struct load *L, const char *fmt, ...) HT_PRINTF(2, 3);
static void report(struct load *L, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ht_error("%s", msg);
	if (!L->c->error)
		L->c->error = ht_xstrdup(msg);
	L->nerr++;
}

/* "FILE:LINE:COL" of a place in the file, into buf; just FILE when the
 * locator cannot find it. */
static void file_place(const struct ht_config *c, const struct ht_json_step *steps, int n,
		       int at_key, char *buf, size_t size)
{
	long off = c->text ? ht_json_locate(c->text, strlen(c->text), steps, n, at_key) : -1;
	int line, col;

	if (off < 0) {
		snprintf(buf, size, "%s", c->path);
		return;
	}
	ht_json_linecol(c->text, strlen(c->text), off, &line, &col);
	snprintf(buf, size, "%s:%d:%d", c->path, line, col);
}

/* Reports a verr about the value at steps (n of them, room for one more). */
static void report_verr(struct load *L, struct ht_json_step *steps, int n,
			const char *path, const struct verr *e)
{
	char place[PATH_MAX + 32];

	if (e->sub[0]) {
		steps[n].key = e->member;
		steps[n].index = e->index;
		n++;
	}
	file_place(L->c, steps, n, e->at_key, place, sizeof(place));
	report(L, "%s: %s%s: %s", place, path, e->sub, e->msg);
}

/* Walks one object of the file against the table. */
static void walk(struct load *L, json_t *obj, const char *parent,
		 struct ht_json_step *steps, int depth)
{
	const char *name;
	json_t *v;

	json_object_foreach(obj, name, v) {
		char *path = *parent ? ht_xasprintf("%s.%s", parent, name) : ht_xstrdup(name);
		const struct ht_config_key *k = strchr(name, '.') ? NULL : ht_config_key_find(path);
		char place[PATH_MAX + 32];
		struct verr e;

		steps[depth].key = name;
		steps[depth].index = 0;
		if (is_credential(name)) {
			file_place(L->c, steps, depth + 1, 1, place, sizeof(place));
			report(L, "%s: %s: %s", place, path, credentials_advice);
		} else if (!k) {
			const char *s = suggest(parent, name);

			file_place(L->c, steps, depth + 1, 1, place, sizeof(place));
			if (strchr(name, '.') && ht_config_key_find(path))
				report(L, "%s: %s: unknown key (a key path: write it as nested "
				       "objects, {\"%.*s\": {...}})", place, path,
				       (int)strcspn(name, "."), name);
			else if (s)
				report(L, "%s: %s: unknown key (did you mean '%s'?)", place, path, s);
			else
				report(L, "%s: %s: unknown key", place, path);
		} else if (json_is_null(v)) {
			/* null: the default. */
		} else if (check_value(k, v, &e) < 0) {
			report_verr(L, steps, depth + 1, path, &e);
		} else if (k->type == HT_CT_SECTION) {
			if (depth + 2 < MAX_STEPS)
				walk(L, v, path, steps, depth + 1);
		} else {
			json_object_set(L->vals, path, v);
			json_object_set_new(L->c->origin, path, json_string("file"));
		}
		free(path);
	}
}

/* Reads and checks the file; 0 when there is none to read. */
static int load_file(struct load *L, const char *path)
{
	struct ht_config *c = L->c;
	struct ht_json_step steps[MAX_STEPS];
	json_error_t jerr;
	json_t *doc;
	size_t len;

	if (ht_read_file(path, CONFIG_MAX, &c->text, &len) < 0) {
		int e = errno;

		if (e == EFBIG) {
			report(L, "%s: larger than %d bytes; is this a config file?", path, CONFIG_MAX);
		} else {
			c->error_code = e == EIO ? HT_EXIT_IOERR : HT_EXIT_NOINPUT;
			report(L, "cannot open '%s': %s", path, strerror(e));
		}
		return -1;
	}
	if (strlen(c->text) != len) {
		report(L, "%s: contains a NUL byte; is this a config file?", path);
		return -1;
	}
	doc = json_loadb(c->text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		report(L, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(doc)) {
		char place[PATH_MAX + 32];

		file_place(c, steps, 0, 0, place, sizeof(place));
		report(L, "%s: expected an object at the top, got an array", place);
		json_decref(doc);
		return -1;
	}
	walk(L, doc, "", steps, 0);
	json_decref(doc);
	return 0;
}

/* Checks a value given as text and stores it; where names its source. */
static void override(struct load *L, const struct ht_config_key *k, const char *text,
		     const char *where)
{
	struct verr e;
	json_t *v = parse_text(k, text, &e);

	if (!v) {
		report(L, "%s: %s", where, e.msg);
		return;
	}
	if (check_value(k, v, &e) < 0) {
		if (e.sub[0])
			report(L, "%s: %s%s: %s", where, k->path, e.sub, e.msg);
		else
			report(L, "%s: %s", where, e.msg);
		json_decref(v);
		return;
	}
	json_object_set_new(L->vals, k->path, v);
	json_object_set_new(L->c->origin, k->path, json_string(where[0] == '-' ? "--set" : where));
}

static void load_env(struct load *L)
{
	const struct ht_config_key *k;
	size_t i;

	for (i = 0; (k = ht_config_key_at(i)); i++) {
		char name[128];
		const char *val;

		if (k->type == HT_CT_SECTION)
			continue;
		ht_config_env_name(k->path, name, sizeof(name));
		val = getenv(name);
		if (val && *val)
			override(L, k, val, name);
	}
}

/* One --set KEY=VALUE. runner.env.NAME=VALUE adds to runner.env. */
static void load_set(struct load *L, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *key = eq ? ht_xasprintf("%.*s", (int)(eq - arg), arg) : ht_xstrdup(arg);
	char *where = ht_xasprintf("--set %s", key);
	const struct ht_config_key *k = ht_config_key_find(key);
	const char *val = eq ? eq + 1 : "";

	if (!eq) {
		report(L, "%s: expected KEY=VALUE", where);
	} else if (is_credential(last_segment(key))) {
		report(L, "%s: %s", where, credentials_advice);
	} else if (k && k->type == HT_CT_SECTION) {
		report(L, "%s: a section; set its keys one by one (%s.KEY=VALUE)", where, key);
	} else if (k) {
		override(L, k, val, where);
	} else if (ht_starts_with(key, "runner.env.") && is_env_name(key + 11)) {
		json_t *env = json_object_get(L->vals, "runner.env");
		json_t *s = json_string(val);

		env = env ? json_deep_copy(env) : json_object();
		if (!s) {
			report(L, "%s: not valid UTF-8", where);
		} else {
			json_object_set_new(env, key + 11, s);
			s = NULL;
			json_object_set(L->vals, "runner.env", env);
			json_object_set_new(L->c->origin, "runner.env", json_string("--set"));
		}
		json_decref(env);
	} else {
		const char *dot = strrchr(key, '.');
		char *parent = dot ? ht_xasprintf("%.*s", (int)(dot - key), key) : ht_xstrdup("");
		const char *s = suggest(parent, last_segment(key));

		if (s)
			report(L, "%s: unknown key (did you mean '%s'?)", where, s);
		else
			report(L, "%s: unknown key", where);
		free(parent);
	}
	free(key);
	free(where);
}

/* Sets the member at a dotted path of obj, creating sections; steals v. */
static void set_path(json_t *obj, const char *path, json_t *v)
{
	char buf[128];
	char *p = buf, *dot;

	snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(p, '.'))) {
		json_t *sub;

		*dot = '\0';
		sub = json_object_get(obj, p);
		if (!sub) {
			sub = json_object();
			json_object_set_new(obj, p, sub);
		}
		obj = sub;
		p = dot + 1;
	}
	json_object_set_new(obj, p, v);
}

/* The value of a key with a computed default, as a new reference: the
 * provider's concurrency, image.store, or what a plugin computes. */
static json_t *computed_default(const struct ht_config_key *k, json_t *vals)
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

		for (i = 0; i < n_schemas; i++)
			if (strcmp(schemas[i]->select, "provider") == 0 && strcmp(schemas[i]->name, provider) == 0)
				n = schemas[i]->concurrency;
		if (n <= 0)
			n = sysconf(_SC_NPROCESSORS_ONLN);
		return json_integer(n < 1 ? 1 : n > k->max ? k->max : n);
	}
	if (strcmp(k->path, "image.store") == 0)
		return json_sprintf("%s/oci", dir);
	for (i = 0; i < n_schemas; i++) {
		json_t *v = schemas[i]->dflt ? schemas[i]->dflt(k->path, dir, vals) : NULL;

		if (v)
			return v;
	}
	return NULL;
}

/* Stores v (borrowed, may be NULL) into the field of k in base (struct
 * ht_config or a plugin's settings). */
static void store(const struct ht_config_key *k, char *base, json_t *v)
{
	char *field = base + k->off;

	if (!v || json_is_null(v))
		return;
	switch (k->type) {
	case HT_CT_STRING:
	case HT_CT_ENUM:
		*(char **)(void *)field = ht_xstrdup(json_string_value(v));
		break;
	case HT_CT_INT:
		*(long *)(void *)field = (long)json_integer_value(v);
		break;
	case HT_CT_BOOL:
		*(int *)(void *)field = json_is_true(v);
		break;
	case HT_CT_STRLIST:
	case HT_CT_STRMAP: {
		struct ht_strlist *l = (struct ht_strlist *)(void *)field;
		size_t n = json_is_array(v) ? json_array_size(v) : json_object_size(v);
		const char *name;
		json_t *el;
		size_t i;

		l->v = ht_xcalloc(n + 1, sizeof(char *));
		l->n = 0;
		if (k->type == HT_CT_STRLIST) {
			json_array_foreach(v, i, el)
				l->v[l->n++] = ht_xstrdup(json_string_value(el));
		} else {
			json_object_foreach(v, name, el)
				l->v[l->n++] = ht_xasprintf("%s=%s", name, json_string_value(el));
		}
		break;
	}
	default:
		break;
	}
}

/* The value of a key: set, its default, or computed; new reference or NULL. */
static json_t *value_of(const struct ht_config_key *k, json_t *vals)
{
	json_t *v = json_object_get(vals, k->path);

	if (v)
		return json_incref(v);
	if (k->dflt) {
		struct verr e;

		return parse_text(k, k->dflt, &e);
	}
	return computed_default(k, vals);
}

static void store_one(struct ht_config *c, const struct ht_config_key *k, char *base, void *vals)
{
	json_t *v = value_of(k, vals);

	store(k, base, v);
	json_decref(v);
}

/* Fills the struct, each plugin's settings and c->json from the values
 * and the defaults. */
static void fill(struct load *L)
{
	struct ht_config *c = L->c;
	const struct ht_config_key *k;
	size_t i;

	for (i = 0; i < n_schemas; i++)
		c->ext[i] = ht_xcalloc(1, schemas[i]->size ? schemas[i]->size : 1);
	each_stored(c, store_one, L->vals);
	c->json = json_object();
	for (i = 0; (k = ht_config_key_at(i)); i++) {
		if (k->type == HT_CT_SECTION) {
			set_path(c->json, k->path, json_object());
			continue;
		}
		{
			json_t *v = value_of(k, L->vals);

			set_path(c->json, k->path, v ? v : json_null());
		}
	}
}

/* The directory of path, absolute when it can be resolved; new string. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? ht_xasprintf("%.*s", (int)(slash == path ? 1 : slash - path), path)
			  : ht_xstrdup(".");
	char *abs = realpath(dir, NULL);

	if (abs) {
		free(dir);
		return abs;
	}
	return dir;
}

int ht_config_load(struct ht_config *c, const char *path, const char *const *sets)
{
	struct load L = { c, json_object(), 0 };
	int i;

	keys_init();
	memset(c, 0, sizeof(*c));
	L.c = c;
	c->origin = json_object();
	c->error_code = HT_EXIT_CONFIG;
	if (!path || !*path)
		path = getenv("HT_CONFIG");
	if (!path || !*path)
		path = access("hypertest.json", F_OK) == 0 ? "hypertest.json" : NULL;
	if (path) {
		c->path = ht_xstrdup(path);
		/* A file that cannot be read ends it; a bad one still lets the
		 * overrides be checked, so all problems show at once. */
		if (load_file(&L, path) < 0 && c->error_code != HT_EXIT_CONFIG)
			goto fail;
	}
	load_env(&L);
	for (i = 0; sets && sets[i]; i++)
		load_set(&L, sets[i]);
	if (L.nerr)
		goto fail;
	fill(&L);
	if (c->path) {
		c->root = dir_of(c->path);
	} else {
		c->root = getcwd(NULL, 0);
		if (!c->root)
			c->root = ht_xstrdup(".");
	}
	json_decref(L.vals);
	return 0;
fail:
	json_decref(L.vals);
	{
		int code = c->error_code;
		char *err = c->error;

		c->error = NULL;
		ht_config_release(c);
		c->error_code = code;
		c->error = err;
	}
	return -1;
}

void ht_config_load_or_die(struct ht_config *c)
{
	if (ht_config_load(c, ht_cli.config_path, ht_cli.sets) < 0) {
		int code = c->error_code;

		ht_config_release(c);
		exit(code);
	}
}

static void release_one(struct ht_config *c, const struct ht_config_key *k, char *base, void *ud)
{
	char *field = base + k->off;

	if (k->type == HT_CT_STRING || k->type == HT_CT_ENUM) {
		free(*(char **)(void *)field);
	} else if (k->type == HT_CT_STRLIST || k->type == HT_CT_STRMAP) {
		struct ht_strlist *l = (struct ht_strlist *)(void *)field;
		int i;

		for (i = 0; l->v && i < l->n; i++)
			free(l->v[i]);
		free(l->v);
	}
}

void ht_config_release(struct ht_config *c)
{
	size_t i;

	keys_init();
	each_stored(c, release_one, NULL);
	for (i = 0; i < HT_CONFIG_MAX_SCHEMAS; i++)
		free(c->ext[i]);
	free(c->path);
	free(c->root);
	free(c->text);
	free(c->error);
	json_decref(c->json);
	json_decref(c->origin);
	memset(c, 0, sizeof(*c));
}

char *ht_config_path(const struct ht_config *c, const char *p)
{
	if (!p)
		return NULL;
	if (*p == '/')
		return ht_xstrdup(p);
	return ht_path_join(c->root ? c->root : ".", p);
}

char *ht_config_state_path(const struct ht_config *c, const char *name)
{
	char *dir = ht_config_path(c, c->state_dir ? c->state_dir : HT_STATE_DIR_DEFAULT);
	char *p = ht_path_join(dir, name);

	free(dir);
	return p;
}

/* --- after loading ------------------------------------------------------- */

/* The effective value at a key path, borrowed, or NULL. */
static json_t *effective(const struct ht_config *c, const char *path)
{
	char buf[128];
	struct ht_json_step steps[MAX_STEPS];
	json_t *v = c->json;
	int n = ht_json_path_parse(path, buf, sizeof(buf), steps, MAX_STEPS);
	int i;

	for (i = 0; i < n && v; i++)
		v = steps[i].key ? json_object_get(v, steps[i].key) : json_array_get(v, (size_t)steps[i].index);
	return n < 0 ? NULL : v;
}

/* Where a value came from, for messages: FILE:LINE:COL, HT_FOO, "--set
 * KEY", or "" for a default. */
static void origin_place(const struct ht_config *c, const char *key, char *buf, size_t size)
{
	char tmp[128];
	char base[128];
	struct ht_json_step steps[MAX_STEPS];
	const char *o;
	int n;

	/* Origins are kept per setting: "runner.tests[1]" came from where
	 * "runner.tests" came from. */
	snprintf(base, sizeof(base), "%.*s", (int)strcspn(key, "["), key);
	o = json_string_value(json_object_get(c->origin, base));
	buf[0] = '\0';
	if (!o)
		return;
	if (strcmp(o, "--set") == 0) {
		snprintf(buf, size, "--set %s", key);
	} else if (strcmp(o, "file") != 0) {
		snprintf(buf, size, "%s", o);
	} else if (c->text && (n = ht_json_path_parse(key, tmp, sizeof(tmp), steps, MAX_STEPS)) >= 0) {
		file_place(c, steps, n, 0, buf, size);
	}
}

int ht_config_error(const struct ht_config *c, const char *key, const char *fmt, ...)
{
	char place[PATH_MAX + 32];
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	origin_place(c, key, place, sizeof(place));
	if (*place)
		return ht_error("%s: %s: %s", place, key, msg);
	return ht_error("%s: %s", key, msg);
}

int ht_config_is_set(const struct ht_config *c, const char *path)
{
	json_t *v = effective(c, path);

	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_object(v))
		return json_object_size(v) > 0;
	return 1;
}

int ht_config_missing(const struct ht_config *c, const char *key, const char *also)
{
	char env[128];
	char place[PATH_MAX + 32] = "";

	ht_config_env_name(key, env, sizeof(env));
	if (c->text) {
		/* Point at the innermost section of the key that the file has. */
		char buf[128];
		struct ht_json_step steps[MAX_STEPS];
		int n = ht_json_path_parse(key, buf, sizeof(buf), steps, MAX_STEPS);

		for (n = n - 1; n >= 0; n--)
			if (ht_json_locate(c->text, strlen(c->text), steps, n, 0) >= 0)
				break;
		file_place(c, steps, n < 0 ? 0 : n, 0, place, sizeof(place));
		strcat(place, ": ");
	}
	return ht_error("%s%s: not set%s, and %s needs it; set it in %s, with %s or with --set %s=VALUE",
			place, key, also, ht_progname, c->path ? c->path : "hypertest.json", env, key);
}

int ht_config_require(const struct ht_config *c, const char *what)
{
	char *copy = ht_xstrdup(what);
	char *save = NULL;
	char *tok;
	int rc = 0;

	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "runner") == 0 || strcmp(tok, "provider") == 0) {
			const char *select = tok[0] == 'r' ? "runner.name" : "provider";
			const struct ht_config_schema *sc = ht_config_selected(c, select);

			if (sc && sc->require && sc->require(c) < 0)
				rc = -1;
		} else if (!ht_config_key_find(tok)) {
			rc = ht_error("ht_config_require: no key '%s' (a bug)", tok);
		} else if (!ht_config_is_set(c, tok)) {
			rc = ht_config_missing(c, tok, "");
		}
	}
	free(copy);
	return rc;
}
