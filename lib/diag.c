/*
 * diag.c: messages on stderr, the common command-line options, and the
 * final check that stdout really went out.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ht/diag.h"
#include "ht/process.h"
#include "ht/util.h"
#ifdef HT_HAVE_REVISION_H
#include "revision.h" /* the Makefile writes it: HT_REVISION */
#endif
#ifndef HT_REVISION
#define HT_REVISION "unknown"
#endif

int ht_verbosity;
const char *ht_progname = "hypertest";
struct ht_cli ht_cli;
static enum ht_log_format log_format = HT_LOG_TEXT;

void ht_diag_init(const char *argv0)
{
	const char *slash;
	const char *env;

	if (argv0 && *argv0) {
		slash = strrchr(argv0, '/');
		ht_progname = slash ? slash + 1 : argv0;
	}
	/* A closed stdout must become a write error we can report, not a
	 * silent death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	env = getenv("HT_LOG_FORMAT");
	if (env && strcmp(env, "json") == 0)
		log_format = HT_LOG_JSON;
	env = getenv("HT_VERBOSE");
	if (env && *env)
		ht_verbosity = atoi(env);
}

void ht_diag_set_format(enum ht_log_format fmt)
{
	log_format = fmt;
}

int ht_diag_muted;
static char last_error[1024];

const char *ht_diag_last_error(void)
{
	return last_error;
}

void ht_diag_clear_error(void)
{
	last_error[0] = '\0';
}

void ht_vlog(const char *level, const char *fmt, va_list ap)
{
	char msg[4096];
	int saved = errno;

	if (ht_diag_muted && strcmp(level, "error") != 0)
		return;
	if (strcmp(level, "error") == 0) {
		va_list copy;

		va_copy(copy, ap);
		vsnprintf(last_error, sizeof(last_error), fmt, copy);
		va_end(copy);
		if (ht_diag_muted)
			return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_format == HT_LOG_JSON) {
		char ts[32];
		json_t *rec = json_object();
		json_t *m;
		char *line;

		ht_format_time(ht_wall_ms(), ts);
		json_object_set_new(rec, "schema", json_string("ht.log/1"));
		json_object_set_new(rec, "time", json_string(ts));
		json_object_set_new(rec, "prog", json_string(ht_progname));
		json_object_set_new(rec, "level", json_string(level));
		/* A message with invalid UTF-8 (a file name, say) still logs. */
		m = json_string(msg);
		json_object_set_new(rec, "msg", m ? m : json_string("(message not UTF-8)"));
		line = json_dumps(rec, JSON_COMPACT);
		if (line)
			fprintf(stderr, "%s\n", line);
		free(line);
		json_decref(rec);
	} else if (strcmp(level, "info") == 0 || strcmp(level, "debug") == 0) {
		fprintf(stderr, "%s: %s\n", ht_progname, msg);
	} else {
		fprintf(stderr, "%s: %s: %s\n", ht_progname, level, msg);
	}
	errno = saved;
}

int ht_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ht_vlog("error", fmt, ap);
	va_end(ap);
	return -1;
}

void ht_warning(const char *fmt, ...)
{
	va_list ap;

	if (ht_verbosity < 0)
		return;
	va_start(ap, fmt);
	ht_vlog("warning", fmt, ap);
	va_end(ap);
}

void ht_info(const char *fmt, ...)
{
	va_list ap;

	if (ht_verbosity < 1)
		return;
	va_start(ap, fmt);
	ht_vlog("info", fmt, ap);
	va_end(ap);
}

void ht_debug(const char *fmt, ...)
{
	va_list ap;

	if (ht_verbosity < 2)
		return;
	va_start(ap, fmt);
	ht_vlog("debug", fmt, ap);
	va_end(ap);
}

void ht_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ht_vlog("error", fmt, ap);
	va_end(ap);
	fflush(stdout);
	exit(code);
}

int ht_finish_stdout(int code)
{
	int failed = 0;
	int err = 0;

	if (fflush(stdout) != 0) {
		failed = 1;
		err = errno;
	}
	if (ferror(stdout) && !failed) {
		failed = 1;
		err = errno ? errno : EIO;
	}
	if (fclose(stdout) != 0 && !failed) {
		failed = 1;
		err = errno;
	}
	if (failed && err == EPIPE) {
		/* The reader went away on purpose (ht-plan | head): exit 74
		 * as for any write that failed, but without a word. */
		code = HT_EXIT_IOERR;
		failed = 0;
	}
	if (failed) {
		ht_error("cannot write to stdout: %s", strerror(err ? err : EIO));
		code = HT_EXIT_IOERR;
	}
	/* Everything is out: a stop signal the tool caught ends it now. */
	ht_stop_reraise();
	return code;
}

void ht_print_help(const struct ht_tool *tool)
{
	printf("usage: %s %s\n\n%s\n\n", tool->name, tool->synopsis, tool->summary);
	if (tool->options && *tool->options)
		printf("Options:\n%s", tool->options);
	printf("Common options:\n"
	       "  -c, --config FILE     read FILE instead of ./hypertest.json ($HT_CONFIG)\n"
	       "  -s, --set KEY=VALUE   override one setting (key path, e.g. runner.run=...)\n"
	       "  -v, --verbose         say more on stderr (twice for debug)\n"
	       "  -q, --quiet           errors only\n"
	       "      --log-format FMT  text (default) or json: ht.log/1 lines on stderr\n"
	       "  -h, --help            this help\n"
	       "  -V, --version         print the version\n\n"
	       "Exit codes: 0 ok, 1 tests or records failed, 64 usage, 65 bad input,\n"
	       "66 no input, 69 unavailable, 70 internal, 71 a command failed, 74 I/O,\n"
	       "75 temporary failure, 76 protocol, 77 credentials, 78 configuration.\n"
	       "See docs/%s.md.\n", tool->name);
}

void ht_usage_error(const struct ht_tool *tool, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ht_vlog("error", fmt, ap);
	va_end(ap);
	fprintf(stderr, "usage: %s %s\n", tool->name, tool->synopsis);
	fprintf(stderr, "Try '%s --help' for more information.\n", tool->name);
	exit(HT_EXIT_USAGE);
}

int ht_cli_common(const struct ht_tool *tool, int c, const char *arg)
{
	switch (c) {
	case 'h':
		ht_print_help(tool);
		exit(ht_finish_stdout(0));
	case 'V':
		printf("%s (hypertest) %s, revision %s\n", tool->name, HT_VERSION, HT_REVISION);
		exit(ht_finish_stdout(0));
	case 'v':
		ht_verbosity++;
		return 1;
	case 'q':
		ht_verbosity = -1;
		return 1;
	case 'c':
		ht_cli.config_path = arg;
		return 1;
	case 's':
		if (!strchr(arg, '='))
			ht_usage_error(tool, "--set wants KEY=VALUE, got '%s'", arg);
		ht_cli.sets = ht_xrealloc(ht_cli.sets, sizeof(*ht_cli.sets) * (size_t)(ht_cli.nsets + 2));
		ht_cli.sets[ht_cli.nsets++] = arg;
		ht_cli.sets[ht_cli.nsets] = NULL;
		return 1;
	case HT_OPT_LOG_FORMAT:
		if (strcmp(arg, "json") == 0)
			log_format = HT_LOG_JSON;
		else if (strcmp(arg, "text") == 0)
			log_format = HT_LOG_TEXT;
		else
			ht_usage_error(tool, "--log-format wants 'text' or 'json', got '%s'", arg);
		return 1;
	case '?':
		fprintf(stderr, "usage: %s %s\n", tool->name, tool->synopsis);
		fprintf(stderr, "Try '%s --help' for more information.\n", tool->name);
		exit(HT_EXIT_USAGE);
	case ':':
		ht_usage_error(tool, "an option is missing its argument");
	default:
		return 0;
	}
}
