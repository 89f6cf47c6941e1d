/*
 * diag.h: diagnostics and the command-line conventions of every tool.
 *
 * Messages go to stderr as "PROG: error: ...", "PROG: warning: ...", or,
 * with --log-format=json, as one ht.log/1 record per line. Library code
 * reports with ht_error() and returns -1; only a tool's main path calls
 * ht_die(). Strings passed in are borrowed; nothing here takes ownership.
 * Never pass a secret to these functions.
 */
#ifndef HT_DIAG_H
#define HT_DIAG_H

#include <getopt.h>
#include <stdarg.h>
#include <stdnoreturn.h>

#include "exit.h"

#define HT_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum ht_log_format { HT_LOG_TEXT, HT_LOG_JSON };

/* -1 quiet (errors only), 0 default (errors and warnings), 1 info, 2 debug. */
extern int ht_verbosity;
/* When set, no message is printed: a tool that says what went wrong its
 * own way (ht-doctor's list on a terminal) sets it around library calls. */
extern int ht_diag_muted;
/* The text of the last error message (printed or muted), "" when none
 * since ht_diag_clear_error(). Static. */
const char *ht_diag_last_error(void);
void ht_diag_clear_error(void);
extern const char *ht_progname;

/* Sets the program name used in messages (the basename of argv0). */
void ht_diag_init(const char *argv0);
void ht_diag_set_format(enum ht_log_format fmt);

/* Prints an error and returns -1, so library code can `return ht_error(...)`. */
int ht_error(const char *fmt, ...) HT_PRINTF(1, 2);
void ht_warning(const char *fmt, ...) HT_PRINTF(1, 2);
void ht_info(const char *fmt, ...) HT_PRINTF(1, 2);
void ht_debug(const char *fmt, ...) HT_PRINTF(1, 2);
/* Prints an error and exits with code. */
noreturn void ht_die(int code, const char *fmt, ...) HT_PRINTF(2, 3);
void ht_vlog(const char *level, const char *fmt, va_list ap) HT_PRINTF(2, 0);

/*
 * Flushes and closes stdout and reports a failed write (a full disk, a
 * closed pipe). Then, when the tool caught SIGINT or SIGTERM
 * (ht_stop_install in process.h), the process dies of that signal here.
 * Returns code unchanged when all went out, HT_EXIT_IOERR otherwise.
 * Every tool ends main with `return ht_finish_stdout(code);`.
 */
int ht_finish_stdout(int code);

/* --- the command line ---------------------------------------------------- */

/* A tool describes itself once; --help prints usage then options. */
struct ht_tool {
	const char *name;     /* "ht-plan" */
	const char *synopsis; /* "[OPTIONS] [--] [FILE...]" */
	const char *summary;  /* one line: what it does */
	const char *options;  /* the tool's own options, one per line, man style */
};

/* Long options every tool accepts; put HT_COMMON_LONGOPTS in the table. */
enum {
	HT_OPT_LOG_FORMAT = 0x1000,
	HT_OPT_SET,
};
#define HT_COMMON_SHORTOPTS "hVvqc:s:"
#define HT_COMMON_LONGOPTS \
	{ "help", no_argument, 0, 'h' }, \
	{ "version", no_argument, 0, 'V' }, \
	{ "verbose", no_argument, 0, 'v' }, \
	{ "quiet", no_argument, 0, 'q' }, \
	{ "config", required_argument, 0, 'c' }, \
	{ "set", required_argument, 0, 's' }, \
	{ "log-format", required_argument, 0, HT_OPT_LOG_FORMAT }

/* What the common options collected: --config FILE and --set KEY=VALUE. */
struct ht_cli {
	const char *config_path;
	const char **sets; /* NULL-terminated; each "key.path=value" */
	int nsets;
};
extern struct ht_cli ht_cli;

/*
 * Handles one getopt_long result c if it is a common option and returns 1;
 * returns 0 for anything else. Exits 0 for --help and --version, exits 64
 * for '?' (an unknown option) and a bad --log-format.
 */
int ht_cli_common(const struct ht_tool *tool, int c, const char *arg);
noreturn void ht_usage_error(const struct ht_tool *tool, const char *fmt, ...) HT_PRINTF(2, 3);
void ht_print_help(const struct ht_tool *tool);

#endif
