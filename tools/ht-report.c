/*
 * ht-report: tells a run's results to a person (the summary on stdout),
 * to CI (--junit), to a browser (--html) and to trace viewers (--trace).
 * See docs/ht-report.md; the work is lib/report*.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/report.h"

static const struct ht_tool tool = {
	"ht-report", "[OPTIONS] [FILE...] | --run RUN_ID",
	"Summarise ht.result/1 records (or a run summary) and write JUnit XML, HTML and a trace.",
	"      --run RUN_ID      read the run back from the provider's bucket\n"
	"      --junit FILE      write JUnit XML (Surefire's shape) to FILE\n"
	"      --html FILE       write one self-contained HTML report to FILE\n"
	"      --trace FILE      write the timeline as Trace Event Format JSON to FILE\n"
	"      --artifacts URL   link artifacts as URL/KEY (default: the bucket)\n"
	"      --color WHEN      colour the summary: auto (a terminal), always, never\n"
	"      --lines N         output lines shown per failure (default 10)\n"
	"      --slowest N       how many of the slowest tests to list (default 10)\n",
};

enum { OPT_RUN = 0x2000, OPT_JUNIT, OPT_HTML, OPT_TRACE, OPT_ARTIFACTS, OPT_COLOR, OPT_LINES, OPT_SLOWEST };

/* Writes one report file atomically with fn. Returns 0 or HT_EXIT_IOERR. */
static int write_file(struct ht_report *r, const char *path, int (*fn)(const struct ht_report *, FILE *))
{
	struct ht_atomic_file af;

	ht_report_link_from(r, path);
	if (ht_atomic_open(&af, path, 0644) < 0)
		return HT_EXIT_IOERR;
	if (fn(r, af.fp) < 0 || ferror((FILE *)af.fp)) {
		ht_error("cannot write '%s': %s", path, strerror(errno));
		ht_atomic_abort(&af);
		return HT_EXIT_IOERR;
	}
	if (ht_atomic_commit(&af) < 0)
		return HT_EXIT_IOERR;
	ht_info("wrote %s", path);
	return 0;
}

/* Whether any result names artifacts. Only then, and only in a project
 * (a config file, or --set as the make fragment passes), is the bucket
 * asked where they are: opening a local bucket makes its directory. */
static int has_artifacts(const struct ht_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (json_array_size(json_object_get(r->t[i].rec, "artifacts")))
			return 1;
	return 0;
}

/* Reads every input: the files named, or stdin. Returns 0 or an exit code. */
static int read_inputs(struct ht_report *r, char **files, int n)
{
	int i, rc = 0;

	if (!n)
		return ht_report_read(r, stdin, "stdin");
	for (i = 0; i < n; i++) {
		FILE *fp = strcmp(files[i], "-") ? fopen(files[i], "r") : stdin;
		int c;

		if (!fp) {
			ht_error("cannot open '%s': %s", files[i], strerror(errno));
			return HT_EXIT_NOINPUT;
		}
		c = ht_report_read(r, fp, fp == stdin ? "stdin" : files[i]);
		if (fp != stdin)
			fclose(fp);
		if (c && (!rc || c == HT_EXIT_IOERR))
			rc = c;
	}
	return rc;
}

static long parse_num(const char *opt, const char *arg, long max)
{
	long v;

	if (ht_parse_long(arg, 0, max, &v) < 0)
		ht_usage_error(&tool, "%s: expected a number from 0 to %ld, got '%s'", opt, max, arg);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "run", required_argument, 0, OPT_RUN },
		{ "junit", required_argument, 0, OPT_JUNIT },
		{ "html", required_argument, 0, OPT_HTML },
		{ "trace", required_argument, 0, OPT_TRACE },
		{ "artifacts", required_argument, 0, OPT_ARTIFACTS },
		{ "color", required_argument, 0, OPT_COLOR },
		{ "colour", required_argument, 0, OPT_COLOR },
		{ "lines", required_argument, 0, OPT_LINES },
		{ "slowest", required_argument, 0, OPT_SLOWEST },
		{ 0, 0, 0, 0 }
	};
	struct ht_report_text_opts topts = { 0, 10, 10, NULL };
	const char *run = NULL, *junit = NULL, *html = NULL, *trace = NULL, *artifacts = NULL;
	const char *color = "auto", *nc = getenv("NO_COLOR");
	struct ht_config cfg;
	struct ht_report r;
	int c, code;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		switch (c) {
		case OPT_RUN: run = optarg; break;
		case OPT_JUNIT: junit = optarg; break;
		case OPT_HTML: html = optarg; break;
		case OPT_TRACE: trace = optarg; break;
		case OPT_ARTIFACTS: artifacts = optarg; break;
		case OPT_COLOR: color = optarg; break;
		case OPT_LINES: topts.lines = (int)parse_num("--lines", optarg, 10000); break;
		case OPT_SLOWEST: topts.slowest = (int)parse_num("--slowest", optarg, 10000); break;
		default: ht_usage_error(&tool, "unknown option");
		}
	}
	if (run && optind < argc)
		ht_usage_error(&tool, "--run reads the run from the bucket: give no FILE");
	if (!strcmp(color, "always"))
		topts.color = 1;
	else if (!strcmp(color, "auto"))
		topts.color = isatty(1) && !(nc && *nc) && strcmp(getenv("TERM") ? getenv("TERM") : "", "dumb");
	else if (strcmp(color, "never"))
		ht_usage_error(&tool, "--color: expected auto, always or never, got '%s'", color);
	if (ht_config_load(&cfg, ht_cli.config_path, ht_cli.sets) < 0)
		return cfg.error_code ? cfg.error_code : HT_EXIT_CONFIG;

	ht_report_init(&r);
	code = run ? ht_report_read_run(&r, &cfg, run) : read_inputs(&r, argv + optind, argc - optind);
	if (!code && r.n == 0) {
		ht_error("no results in %s", run ? run : optind < argc ? argv[optind] : "stdin");
		code = HT_EXIT_DATAERR;
	}
	if (code)
		goto out;
	ht_report_finish(&r);
	if (artifacts)
		ht_report_set_artifacts(&r, artifacts);
	else if (!run && (cfg.path || ht_cli.nsets) && has_artifacts(&r))
		ht_report_find_bucket(&r, &cfg);

	if (junit && (code = write_file(&r, junit, ht_report_junit)))
		goto out;
	if (trace && (code = write_file(&r, trace, ht_report_trace)))
		goto out;
	if (html && (code = write_file(&r, html, ht_report_html)))
		goto out;
	topts.html = html;
	if (ht_verbosity >= 0 && ht_report_text(&r, stdout, &topts) < 0)
		code = HT_EXIT_IOERR;
	else
		code = r.ok ? HT_EXIT_OK : HT_EXIT_FAILED;
out:
	ht_report_release(&r);
	ht_config_release(&cfg);
	return ht_finish_stdout(code);
}
