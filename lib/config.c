/*
 * config.c: loading hypertest.json with the HT_* and --set overrides; the
 * keys themselves are lib/config-keys.c.
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
#include <unistd.h>

#include <jansson.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/util.h"
#include "lib/config-int.h"

/* The largest config file read: a config is small; this is a guard. */
#define CONFIG_MAX (1024 * 1024)

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
		if (ht_cfg_is_credential(name)) {
			file_place(L->c, steps, depth + 1, 1, place, sizeof(place));
			report(L, "%s: %s: %s", place, path, ht_cfg_credentials_advice);
		} else if (!k) {
			const char *s = ht_cfg_suggest(parent, name);

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
		} else if (ht_cfg_check_value(k, v, &e) < 0) {
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
	json_t *v = ht_cfg_parse_text(k, text, &e);

	if (!v) {
		report(L, "%s: %s", where, e.msg);
		return;
	}
	if (ht_cfg_check_value(k, v, &e) < 0) {
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
	} else if (ht_cfg_is_credential(ht_cfg_last_segment(key))) {
		report(L, "%s: %s", where, ht_cfg_credentials_advice);
	} else if (k && k->type == HT_CT_SECTION) {
		report(L, "%s: a section; set its keys one by one (%s.KEY=VALUE)", where, key);
	} else if (k) {
		override(L, k, val, where);
	} else if (ht_starts_with(key, "runner.env.") && ht_cfg_is_env_name(key + 11)) {
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
		const char *s = ht_cfg_suggest(parent, ht_cfg_last_segment(key));

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
	case HT_CT_GROUPS:
		*(json_t **)(void *)field = json_incref(v);
		break;
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

		return ht_cfg_parse_text(k, k->dflt, &e);
	}
	return ht_cfg_computed_default(k, vals);
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

	for (i = 0; i < ht_cfg_n_schemas; i++)
		c->ext[i] = ht_xcalloc(1, ht_cfg_schemas[i]->size ? ht_cfg_schemas[i]->size : 1);
	ht_cfg_each_stored(c, store_one, L->vals);
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

	ht_cfg_keys_init();
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
	} else if (k->type == HT_CT_GROUPS) {
		json_decref(*(json_t **)(void *)field);
	}
}

void ht_config_release(struct ht_config *c)
{
	size_t i;

	ht_cfg_keys_init();
	ht_cfg_each_stored(c, release_one, NULL);
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
	return p ? ht_path_resolve(c->root ? c->root : ".", p) : NULL;
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
