/*
 * ht-init: look at a project, say what test suite it holds, and write the
 * hypertest.json that runs it (and, with --aws, the CloudFormation
 * template of the AWS resources). See docs/ht-init.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht/ht.h"
#include "ht/config.h"
#include "providers/aws/aws.h"
#include "providers/aws/sts.h"
#include "providers/aws/template.h"
#include "runners/detect.h"

static const struct ht_tool tool = {
	"ht-init", "[OPTIONS] [DIR]",
	"Detect the test suite of the project in DIR (default: .) and write its hypertest.json.",
	"  -k, --kind KIND       the suite to run: playwright, pytest, go, cargo, jest, vitest,\n"
	"                        mocha, tap, shell, make (default: the one detected)\n"
	"  -p, --provider NAME   local or aws (default: local; aws with --aws)\n"
	"  -j, --concurrency N   tests at the same time (default: the provider's)\n"
	"      --aws             also write hypertest.cfn.yaml, the AWS resources as a template\n"
	"      --name NAME       the function, repository and stack name (default: DIR's name)\n"
	"      --region REGION   the AWS region (default: AWS_REGION, AWS_DEFAULT_REGION)\n"
	"  -f, --force           overwrite files that exist\n"
	"  -y, --yes             ask nothing, even on a terminal\n"
	"  -n, --dry-run         print the configuration on stdout; write nothing\n",
};

struct answers {
	int kind;
	const char *provider;
	long concurrency;       /* 0: the provider's default */
};

/* A name AWS takes for a repository, a function and a stack: lower case,
 * digits and '-', from the directory's name. New string. */
static char *default_name(const char *root)
{
	char *abs = realpath(root, NULL), *out, *o;
	const char *base = abs && strrchr(abs, '/') ? strrchr(abs, '/') + 1 : abs ? abs : "tests";

	out = o = ht_xmalloc(strlen(base) + 8);
	for (; *base && o - out < 48; base++) {
		char ch = *base;

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			*o++ = ch;
		else if (o > out && o[-1] != '-')
			*o++ = '-';
	}
	while (o > out && o[-1] == '-')
		o--;
	*o = '\0';
	if (!out[0])
		strcpy(out, "tests");
	free(abs);
	return out;
}

static int valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 48)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || (s[i] == '-' && i > 0)))
			return 0;
	return 1;
}

/* --- what was found ---------------------------------------------------------- */

static void print_found(const struct ht_detect *d, int chosen)
{
	int k;
	size_t i;
	json_t *v;

	fprintf(stderr, "ht-init: looked at %ld file%s\n", d->files, d->files == 1 ? "" : "s");
	for (k = 0; k < HT_SUITE_NKINDS; k++) {
		const struct ht_suite *s = &d->suite[k];

		if (!s->found)
			continue;
		fprintf(stderr, "  %s %s: ", k == chosen ? "*" : "-", ht_suite_name(k));
		json_array_foreach(s->reasons, i, v)
			fprintf(stderr, "%s%s", i ? "; " : "", json_string_value(v));
		fputc('\n', stderr);
	}
	if (chosen >= 0) {
		json_array_foreach(d->suite[chosen].notes, i, v)
			fprintf(stderr, "  note: %s\n", json_string_value(v));
	}
	for (k = 0; k < HT_SUITE_NKINDS; k++)
		if (d->suite[k].found && k != chosen)
			fprintf(stderr, "  not chosen: %s (ht-init --kind %s)\n", ht_suite_name(k), ht_suite_name(k));
}

/* --- questions on a terminal -------------------------------------------------- */

/* Asks question with a default; the answer is a new string (the default
 * when the line is empty), or NULL at the end of input. */
static char *ask(const char *question, const char *dflt)
{
	char line[256];
	size_t n;

	fprintf(stderr, "%s [%s]: ", question, dflt);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return NULL;
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	return ht_xstrdup(n ? line : dflt);
}

static int ask_all(struct ht_detect *d, struct answers *a)
{
	char *s, dflt[32];
	int tries;

	for (tries = 0; tries < 3; tries++) {
		int k;

		if (!(s = ask("Test suite (" "playwright, pytest, go, cargo, jest, vitest, mocha, tap, shell, make)",
			      a->kind >= 0 ? ht_suite_name(a->kind) : "none")))
			return -1;
		k = ht_suite_find(s);
		free(s);
		if (k >= 0 && d->suite[k].found) {
			a->kind = k;
			break;
		}
		fprintf(stderr, "  %s\n", k >= 0 ? "no such suite was found here" : "not a suite this knows");
	}
	if (tries == 3)
		return -1;
	for (tries = 0; tries < 3; tries++) {
		if (!(s = ask("Provider (local, aws)", a->provider)))
			return -1;
		if (!strcmp(s, "local") || !strcmp(s, "aws")) {
			a->provider = !strcmp(s, "aws") ? "aws" : "local";
			free(s);
			break;
		}
		free(s);
		fprintf(stderr, "  local or aws\n");
	}
	if (tries == 3)
		return -1;
	snprintf(dflt, sizeof(dflt), "%s", a->concurrency ? "" : "default");
	if (a->concurrency)
		snprintf(dflt, sizeof(dflt), "%ld", a->concurrency);
	for (tries = 0; tries < 3; tries++) {
		long n;

		if (!(s = ask("Concurrency (tests at once)", dflt)))
			return -1;
		if (!strcmp(s, "default")) {
			free(s);
			break;
		}
		if (ht_parse_long(s, 1, 10000, &n) == 0) {
			a->concurrency = n;
			free(s);
			break;
		}
		free(s);
		fprintf(stderr, "  a number from 1 to 10000, or default\n");
	}
	return tries == 3 ? -1 : 0;
}

/* --- the files ---------------------------------------------------------------- */

static const char *image_base(int kind)
{
	switch (kind) {
	case HT_SUITE_PYTEST:
		return "public.ecr.aws/lambda/python:3.12";
	case HT_SUITE_PLAYWRIGHT:
	case HT_SUITE_JEST:
	case HT_SUITE_VITEST:
	case HT_SUITE_MOCHA:
		return "public.ecr.aws/lambda/nodejs:20";
	default:
		return "public.ecr.aws/lambda/provided:al2023";
	}
}

/* The account of the caller's AWS credentials, or NULL (quietly). */
static char *aws_account(const char *region)
{
	struct ht_aws_opts o;
	struct ht_aws a;
	struct ht_aws_error e;
	char *account = NULL, *arn = NULL;

	memset(&o, 0, sizeof(o));
	o.region = region;
	o.endpoint = getenv("AWS_ENDPOINT_URL");
	o.timeout_ms = 10000;
	memset(&e, 0, sizeof(e));
	if (ht_aws_init(&a, &o, &e) < 0) {
		ht_aws_error_clear(&e);
		return NULL;
	}
	if (ht_sts_caller_identity(&a, 1, &account, &arn, &e) < 0)
		account = NULL;
	free(arn);
	ht_aws_error_clear(&e);
	ht_aws_release(&a);
	return account;
}

static json_t *make_config(struct ht_detect *d, const struct answers *a, const char *name, const char *bucket,
			   const char *region, const char *account)
{
	json_t *cfg = json_object(), *suite = json_deep_copy(d->suite[a->kind].config), *v;
	const char *k;

	json_object_set_new(cfg, "provider", json_string(a->provider));
	if (a->concurrency)
		json_object_set_new(cfg, "concurrency", json_integer(a->concurrency));
	json_object_foreach(suite, k, v)
		json_object_set(cfg, k, v);
	json_decref(suite);
	if (!strcmp(a->provider, "aws")) {
		json_t *aws = json_object(), *image = json_object();

		json_object_set_new(image, "base", json_string(image_base(a->kind)));
		if (account && region)
			json_object_set_new(image, "repository", json_sprintf("%s.dkr.ecr.%s.amazonaws.com/%s",
									       account, region, name));
		json_object_set_new(cfg, "image", image);
		if (region)
			json_object_set_new(aws, "region", json_string(region));
		json_object_set_new(aws, "function", json_string(name));
		json_object_set_new(aws, "bucket", json_string(bucket));
		json_object_set_new(cfg, "aws", aws);
	}
	return cfg;
}

/* Writes text to path unless it exists (without force); checks a config
 * by loading it first. Returns an exit code. */
static int write_file(const char *path, const char *text, int force, int is_config)
{
	struct stat st;

	if (!force && lstat(path, &st) == 0) {
		ht_error("'%s' exists: not overwritten (--force overwrites it)", path);
		return HT_EXIT_CANTCREAT;
	}
	if (is_config) {
		char *tmp = ht_xasprintf("%s.ht-init.%ld", path, (long)getpid());
		struct ht_config c;
		int rc;

		if (ht_write_file_atomic(tmp, text, strlen(text), 0644) < 0) {
			free(tmp);
			return HT_EXIT_CANTCREAT;
		}
		rc = ht_config_load(&c, tmp, NULL);
		if (rc == 0)
			rc = ht_config_require(&c, "runner");
		ht_config_release(&c);
		unlink(tmp);
		free(tmp);
		if (rc) {
			ht_error("the configuration made for '%s' does not load (a defect of ht-init: please report it)",
				 path);
			return HT_EXIT_SOFTWARE;
		}
	}
	if (ht_write_file_atomic(path, text, strlen(text), 0644) < 0)
		return HT_EXIT_CANTCREAT;
	fprintf(stderr, "ht-init: wrote %s\n", path);
	return HT_EXIT_OK;
}

static char *template_text(const char *name, const char *bucket, int kind)
{
	struct ht_aws_template t;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	memset(&t, 0, sizeof(t));
	t.name = name;
	t.bucket = bucket;
	t.memory_mb = kind == HT_SUITE_PLAYWRIGHT ? 3008 : 2048;
	if (!fp)
		ht_die(HT_EXIT_OSERR, "out of memory");
	if (ht_aws_template_write(fp, &t) < 0) {
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	return buf;
}

static void print_next(const struct answers *a, int aws, const char *name, const char *region)
{
	fprintf(stderr, "\nnext:\n");
	if (aws) {
		fprintf(stderr,
			"  aws cloudformation deploy --stack-name %s --template-file hypertest.cfn.yaml \\\n"
			"      --capabilities CAPABILITY_NAMED_IAM%s%s\n"
			"  ht-pull | ht-build | ht-push >pushed.json   # the image, in ECR\n"
			"  aws cloudformation deploy --stack-name %s --template-file hypertest.cfn.yaml \\\n"
			"      --capabilities CAPABILITY_NAMED_IAM \\\n"
			"      --parameter-overrides ImageUri=$(jq -r .reference pushed.json)\n",
			name, region ? " --region " : "", region ? region : "", name);
	}
	fprintf(stderr, "  ht-doctor                  # checks the setup\n"
			"  ht-plan | ht-invoke        # runs the suite%s\n",
		!strcmp(a->provider, "aws") ? " on Lambda" : " in local sandboxes");
}

int main(int argc, char **argv)
{
	enum { OPT_AWS = 0x2000, OPT_NAME, OPT_REGION };
	static const struct option longopts[] = {
		HT_COMMON_LONGOPTS,
		{ "kind", required_argument, 0, 'k' },
		{ "provider", required_argument, 0, 'p' },
		{ "concurrency", required_argument, 0, 'j' },
		{ "aws", no_argument, 0, OPT_AWS },
		{ "name", required_argument, 0, OPT_NAME },
		{ "region", required_argument, 0, OPT_REGION },
		{ "force", no_argument, 0, 'f' },
		{ "yes", no_argument, 0, 'y' },
		{ "dry-run", no_argument, 0, 'n' },
		{ 0, 0, 0, 0 },
	};
	struct answers a = { -1, NULL, 0 };
	struct ht_detect d;
	const char *root = ".", *kind_opt = NULL, *name_opt = NULL, *region = NULL;
	char *name, *bucket, *account = NULL, *text, *cfg_path, *tpl_path;
	int c, aws = 0, force = 0, yes = 0, dry = 0, rc = HT_EXIT_OK;
	json_t *cfg;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS "k:p:j:fyn", longopts, NULL)) != -1) {
		if (ht_cli_common(&tool, c, optarg))
			continue;
		switch (c) {
		case 'k':
			kind_opt = optarg;
			break;
		case 'p':
			if (strcmp(optarg, "local") && strcmp(optarg, "aws"))
				ht_usage_error(&tool, "--provider: '%s' is not local or aws", optarg);
			a.provider = optarg;
			break;
		case 'j':
			if (ht_parse_long(optarg, 1, 10000, &a.concurrency) < 0)
				ht_usage_error(&tool, "--concurrency: '%s' is not a number from 1 to 10000", optarg);
			break;
		case OPT_AWS:
			aws = 1;
			break;
		case OPT_NAME:
			name_opt = optarg;
			break;
		case OPT_REGION:
			region = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'y':
			yes = 1;
			break;
		case 'n':
			dry = 1;
			break;
		}
	}
	if (optind + 1 < argc)
		ht_usage_error(&tool, "unexpected argument '%s'", argv[optind + 1]);
	if (optind < argc)
		root = argv[optind];
	if (kind_opt && (a.kind = ht_suite_find(kind_opt)) < 0)
		ht_usage_error(&tool, "--kind: '%s' is not one of %s", kind_opt, ht_suite_names());
	if (name_opt && !valid_name(name_opt))
		ht_usage_error(&tool, "--name: '%s' must be 1 to 48 of a-z, 0-9 and '-' (not first)", name_opt);
	if (aws && a.provider && strcmp(a.provider, "aws"))
		ht_usage_error(&tool, "--aws writes the resources of the aws provider: not with --provider %s",
			       a.provider);
	if (!a.provider)
		a.provider = aws ? "aws" : "local";
	if (!region)
		region = getenv("AWS_REGION") && getenv("AWS_REGION")[0] ? getenv("AWS_REGION") :
			 getenv("AWS_DEFAULT_REGION") && getenv("AWS_DEFAULT_REGION")[0] ? getenv("AWS_DEFAULT_REGION") :
			 NULL;

	if (ht_detect(root, &d) < 0)
		return HT_EXIT_NOINPUT;
	if (a.kind < 0)
		a.kind = d.best;
	if (!yes && !dry && isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
		print_found(&d, a.kind);
		if (d.best < 0) {
			ht_error("no test suite found in '%s' (looked for: %s)", root, ht_suite_names());
			ht_detect_release(&d);
			return HT_EXIT_NOINPUT;
		}
		if (ask_all(&d, &a) < 0) {
			ht_error("no answer: nothing written");
			ht_detect_release(&d);
			return HT_EXIT_USAGE;
		}
	} else {
		print_found(&d, a.kind);
	}
	if (a.kind < 0) {
		ht_error("no test suite found in '%s' (looked for: %s); --kind names one", root, ht_suite_names());
		ht_detect_release(&d);
		return HT_EXIT_NOINPUT;
	}
	if (!d.suite[a.kind].found) {
		ht_error("no %s suite found in '%s'%s", ht_suite_name(a.kind), root,
			 d.best >= 0 ? " (see what was found above)" : "");
		ht_detect_release(&d);
		return HT_EXIT_NOINPUT;
	}

	name = name_opt ? ht_xstrdup(name_opt) : default_name(root);
	{
		char rnd[HT_UUID_LEN + 1];

		if (ht_uuid4(rnd) < 0)
			ht_die(HT_EXIT_SOFTWARE, "cannot make a random name");
		rnd[8] = '\0';
		/* S3 allows 63 characters: the name is cut to fit. */
		bucket = ht_xasprintf("%.44s-hypertest-%s", name, rnd);
	}
	if (!strcmp(a.provider, "aws") && !dry)
		account = aws_account(region);
	cfg = make_config(&d, &a, name, bucket, region, account);
	text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(cfg);
	if (!text)
		ht_die(HT_EXIT_SOFTWARE, "cannot encode the configuration");
	text = ht_xrealloc(text, strlen(text) + 2);
	strcat(text, "\n");

	cfg_path = ht_path_join(root, "hypertest.json");
	tpl_path = ht_path_join(root, "hypertest.cfn.yaml");
	if (dry) {
		fputs(text, stdout);
	} else {
		rc = write_file(cfg_path, text, force, 1);
		if (!rc && aws) {
			char *tpl = template_text(name, bucket, a.kind);

			rc = tpl ? write_file(tpl_path, tpl, force, 0) : HT_EXIT_IOERR;
			free(tpl);
		}
		if (!rc && !strcmp(a.provider, "aws") && !account)
			ht_warning("no AWS account could be read (credentials, region): set image.repository to the "
				   "stack's RepositoryUri output");
		if (!rc)
			print_next(&a, aws, name, region);
	}
	free(text);
	free(cfg_path);
	free(tpl_path);
	free(name);
	free(bucket);
	free(account);
	ht_detect_release(&d);
	return ht_finish_stdout(rc);
}
