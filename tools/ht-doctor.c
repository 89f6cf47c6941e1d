/*
 * ht-doctor: checks what hypertest needs and says what to fix; prints the
 * effective configuration and the schema of hypertest.json. See
 * docs/ht-doctor.md.
 *
 * The configuration is checked here; every other check is the
 * configured provider's (its ops' checks table, providers/NAME/doctor.c):
 * it fills a struct ht_check with ok, a message and, when not ok, a fix;
 * run_checks() writes the ht.check/1 record and the line on stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/ht.h"
#include "providers/local/settings.h"
#include "providers/aws/settings.h"
#include "ht/config.h"
#include "ht/http.h"
#include "ht/imageref.h"

static const struct ht_tool tool = {
	"ht-doctor", "[OPTIONS]",
	"Check the configuration and the sandbox, and say what to fix.",
	"      --print-config    print the effective configuration (ht.config/1) and exit\n"
	"      --print-schema    print every configuration key (ht.setting/1) and exit\n",
};

enum { OPT_PRINT_CONFIG = 0x2000, OPT_PRINT_SCHEMA };

/* The configuration, once it loaded. */
static void check_config(const struct ht_config *cfg, struct ht_check *r)
{
	/* Loading happened in run_checks(), which reports a failure itself. */
	if (cfg->path)
		ht_check_ok(r, "%s is valid (provider %s)", cfg->path, cfg->provider);
	else
		ht_check_ok(r, "no config file; using defaults, HT_* variables and --set (provider %s)",
			 cfg->provider);
}

/* Says one line on stderr about a check (unless --quiet). */
static void say(const char *level, const char *fmt, ...) HT_PRINTF(2, 3);
static void say(const char *level, const char *fmt, ...)
{
	va_list ap;

	if (ht_verbosity < 0 && strcmp(level, "error") != 0)
		return;
	va_start(ap, fmt);
	ht_vlog(level, fmt, ap);
	va_end(ap);
}

/* Writes the record and the line of one check; 1 when it failed. */
static int report(const char *name, struct ht_check *r, int quiet_error)
{
	json_t *rec = ht_record_new("ht.check/1");

	ht_json_set_str(rec, "check", name);
	json_object_set_new(rec, "ok", json_boolean(r->ok));
	ht_json_set_str(rec, "message", r->message ? r->message : "");
	if (r->fix)
		ht_json_set_str(rec, "fix", r->fix);
	if (r->details)
		json_object_set(rec, "details", r->details);
	ht_record_write(stdout, rec, 1);
	json_decref(rec);
	if (r->ok) {
		say("info", "ok: %s: %s", name, r->message);
		return 0;
	}
	if (!quiet_error)
		say("error", "%s: %s", name, r->message);
	if (r->fix)
		say("info", "  fix: %s", r->fix);
	return 1;
}

static int run_checks(void)
{
	struct ht_config cfg;
	int loaded = ht_config_load(&cfg, ht_cli.config_path, ht_cli.sets) == 0;
	const struct ht_provider_ops *ops;
	struct ht_check r = { 0, NULL, NULL, NULL };
	int failed;
	size_t i;

	if (!loaded) {
		int code = cfg.error_code;

		/* The loader printed why already. */
		ht_check_fail(&r, "correct the configuration as the message says; "
			      "docs/configuration.md describes every key",
			      "%s", cfg.error ? cfg.error : "the configuration does not load");
		report("config", &r, 1);
		ht_check_release(&r);
		ht_config_release(&cfg);
		return code;
	}
	check_config(&cfg, &r);
	failed = report("config", &r, 0);
	ht_check_release(&r);
	ops = ht_provider_find(cfg.provider);
	for (i = 0; ops && ops->checks && ops->checks[i].name; i++) {
		ops->checks[i].run(&cfg, &r);
		failed |= report(ops->checks[i].name, &r, 0);
		ht_check_release(&r);
	}
	ht_config_release(&cfg);
	return failed ? HT_EXIT_FAILED : HT_EXIT_OK;
}

static int print_config(void)
{
	struct ht_config cfg;
	json_t *rec;

	ht_config_load_or_die(&cfg);
	rec = ht_record_new("ht.config/1");
	json_object_set_new(rec, "file", cfg.path ? json_string(cfg.path) : json_null());
	ht_json_set_str(rec, "root", cfg.root);
	json_object_update(rec, cfg.json);
	json_object_set(rec, "origin", cfg.origin);
	ht_record_write(stdout, rec, 0);
	json_decref(rec);
	ht_config_release(&cfg);
	return HT_EXIT_OK;
}

static int print_schema(void)
{
	static const char *const types[] = {
		[HT_CT_SECTION] = "section", [HT_CT_STRING] = "string", [HT_CT_ENUM] = "enum",
		[HT_CT_INT] = "integer", [HT_CT_BOOL] = "boolean",
		[HT_CT_STRLIST] = "string list", [HT_CT_STRMAP] = "string map",
	};
	const struct ht_config_key *k;
	size_t i;

	for (i = 0; (k = ht_config_key_at(i)); i++) {
		json_t *rec = ht_record_new("ht.setting/1");
		char env[128];

		ht_json_set_str(rec, "key", k->path);
		ht_json_set_str(rec, "type", types[k->type]);
		if (k->type != HT_CT_SECTION) {
			ht_config_env_name(k->path, env, sizeof(env));
			ht_json_set_str(rec, "env", env);
			json_object_set_new(rec, "default", k->dflt ? json_string(k->dflt) : json_null());
			if (k->dflt_doc)
				ht_json_set_str(rec, "default_doc", k->dflt_doc);
		}
		if (k->type == HT_CT_INT) {
			ht_json_set_int(rec, "min", k->min);
			ht_json_set_int(rec, "max", k->max);
		}
		if (k->type == HT_CT_ENUM) {
			json_t *choices = json_array();
			const char *c = k->choices;

			while (*c) {
				size_t n = strcspn(c, "|");

				json_array_append_new(choices, json_stringn(c, n));
				c += n + (c[n] == '|');
			}
			json_object_set_new(rec, "choices", choices);
		}
		ht_json_set_str(rec, "doc", k->doc);
		ht_record_write(stdout, rec, 0);
		json_decref(rec);
	}
	return HT_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "print-config", no_argument, 0, OPT_PRINT_CONFIG },
		{ "print-schema", no_argument, 0, OPT_PRINT_SCHEMA },
		{ 0, 0, 0, 0 }
	};
	int mode = 0;
	int c;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		if (c == OPT_PRINT_CONFIG || c == OPT_PRINT_SCHEMA)
			mode = c;
	}
	if (optind < argc)
		ht_usage_error(&tool, "unexpected argument '%s'", argv[optind]);
	if (mode == OPT_PRINT_SCHEMA)
		c = print_schema();
	else if (mode == OPT_PRINT_CONFIG)
		c = print_config();
	else
		c = run_checks();
	ht_http_cleanup();
	free(ht_cli.sets);
	return ht_finish_stdout(c);
}
