/*
 * ht-aws-probe: a test-only CLI over libht's HTTP client and AWS calls, for
 * the shell tests (tests/t02*.sh). The logic lives in lib/http.c and
 * providers/aws/; this is only argument parsing and printing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/aws/aws.h"
#include "providers/aws/ecr.h"
#include "providers/aws/lambda.h"
#include "providers/aws/s3.h"
#include "providers/aws/sts.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "ht/http.h"
#include "ht/util.h"

static const char usage[] =
	"usage: ht-aws-probe [-v] [--region R] [--profile P] [--endpoint URL] [--insecure]\n"
	"                    [--attempts N] [--base-ms MS] [--cap-ms MS] [--total-ms MS]\n"
	"                    [--timeout-ms MS] [-H 'Name: value'] COMMAND ARGS...\n"
	"commands: env | s3-mb B | s3-put B KEY FILE | s3-put-data B KEY TEXT | s3-get B KEY\n"
	"          s3-list B [PREFIX] | lambda-get-function NAME | ecr-auth | sts-session [SECS]\n"
	"          sts-assume-role ARN\n"
	"          call SERVICE METHOD PATH [BODYFILE] | http-get URL [N] | http-multi URL N [ACTIVE]\n";

static struct ht_aws_opts opts;
static struct ht_http_retry retry = { 1, 200, 20000, 120000 };
static const char *headers[16];
static int nheaders;

static enum ht_aws_service service_named(const char *s)
{
	int i;

	for (i = 0; i < HT_AWS_NSERVICES; i++)
		if (strcmp(ht_aws_service_name((enum ht_aws_service)i), s) == 0)
			return (enum ht_aws_service)i;
	ht_die(HT_EXIT_USAGE, "no service named '%s'", s);
}

static int http_get(const char *url, int n)
{
	int i, code = 0;

	for (i = 0; i < n; i++) {
		struct ht_http_req req = { .url = url, .headers = headers, .retry = &retry,
					   .timeout_ms = opts.timeout_ms };
		struct ht_http_resp resp;

		ht_http_resp_init(&resp);
		if (ht_http_do(&req, &resp) < 0) {
			printf("error attempts=%d ms=%lld\n", resp.attempts, (long long)resp.elapsed_ms);
			ht_error("GET %s: %s", url, resp.error);
			code = HT_EXIT_UNAVAILABLE;
		} else {
			printf("%ld attempts=%d ms=%lld connections=%ld\n", resp.status, resp.attempts,
			       (long long)resp.elapsed_ms, resp.new_connections);
			if (resp.status >= 300 && !code)
				code = HT_EXIT_FAILED;
		}
		ht_http_resp_release(&resp);
	}
	return code;
}

static int http_multi(const char *url, int n, int active)
{
	struct ht_http_multi *m = ht_http_multi_new(active);
	struct ht_http_req req = { .url = url, .headers = headers, .retry = &retry, .timeout_ms = opts.timeout_ms };
	long conns = 0;
	int i, ok = 0, failed = 0, seen = 0;
	char *done = ht_xcalloc((size_t)n, 1);

	if (!m)
		return ht_error("cannot start a multi handle"), HT_EXIT_SOFTWARE;
	/* The user pointer is the request's index. */
	for (i = 0; i < n; i++)
		ht_http_multi_add(m, &req, (void *)(intptr_t)(i + 1));
	while (ht_http_multi_pending(m)) {
		struct ht_http_resp resp;
		void *u;
		int rc;

		if (ht_http_multi_run(m, -1) < 0)
			break;
		while ((u = ht_http_multi_next(m, &resp, &rc))) {
			int idx = (int)(intptr_t)u - 1;

			if (idx >= 0 && idx < n && !done[idx]) {
				done[idx] = 1;
				seen++;
			}
			conns += resp.new_connections;
			if (rc == 0 && resp.status == 200)
				ok++;
			else
				failed++;
			ht_http_resp_release(&resp);
		}
	}
	printf("done=%d ok=%d failed=%d connections=%ld\n", seen, ok, failed, conns);
	free(done);
	ht_http_multi_free(m);
	return failed ? HT_EXIT_FAILED : 0;
}

static int call(struct ht_aws *a, char **argv, int argc, struct ht_aws_error *e)
{
	struct ht_aws_call c = { .service = service_named(argv[0]), .method = argv[1], .path = argv[2],
				 .headers = headers };
	struct ht_http_resp resp;
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (argc > 3) {
		if (ht_read_file(argv[3], 64u << 20, &body, &len) < 0)
			return ht_error("cannot read '%s'", argv[3]), HT_EXIT_NOINPUT;
		c.body = body;
		c.body_len = len;
	}
	ht_http_resp_init(&resp);
	rc = ht_aws_do(a, &c, &resp, e);
	printf("%ld\n%s\n", resp.status, resp.body.data ? resp.body.data : "");
	ht_http_resp_release(&resp);
	free(body);
	return rc;
}

static int aws_command(int argc, char **argv)
{
	struct ht_aws a;
	struct ht_aws_error e;
	const char *cmd = argv[0];
	int rc = -1, i;

	if (ht_aws_init(&a, &opts, &e) < 0)
		return ht_aws_error_exit(&e);
	argc--;
	argv++;
	if (strcmp(cmd, "env") == 0) {
		printf("profile=%s\nregion=%s\ncredentials=%s\naccess_key_id=%s\nsession_token=%s\n", a.profile,
		       a.region, a.creds.source, a.creds.access_key_id, a.creds.session_token ? "yes" : "no");
		for (i = 0; i < HT_AWS_NSERVICES; i++)
			printf("endpoint_%s=%s\n", ht_aws_service_name((enum ht_aws_service)i), a.endpoint[i]);
		rc = 0;
	} else if (strcmp(cmd, "s3-mb") == 0 && argc == 1) {
		rc = ht_s3_create_bucket(&a, argv[0], &e);
	} else if (strcmp(cmd, "s3-put") == 0 && argc == 3) {
		rc = ht_s3_put_file(&a, argv[0], argv[1], argv[2], NULL, &e);
	} else if (strcmp(cmd, "s3-put-data") == 0 && argc == 3) {
		rc = ht_s3_put(&a, argv[0], argv[1], argv[2], strlen(argv[2]), "text/plain", &e);
	} else if (strcmp(cmd, "s3-get") == 0 && argc == 2) {
		struct ht_buf b;

		ht_buf_init(&b, 64u << 20);
		rc = ht_s3_get(&a, argv[0], argv[1], &b, &e);
		if (rc == 0)
			fwrite(b.data ? b.data : "", 1, b.len, stdout);
		ht_buf_release(&b);
	} else if (strcmp(cmd, "s3-list") == 0 && (argc == 1 || argc == 2)) {
		struct ht_s3_list l = { NULL, 0 };
		size_t k;

		rc = ht_s3_list(&a, argv[0], argc == 2 ? argv[1] : NULL, &l, &e);
		for (k = 0; rc == 0 && k < l.n; k++)
			printf("%s\t%lld\n", l.v[k].key, l.v[k].size);
		ht_s3_list_release(&l);
	} else if (strcmp(cmd, "lambda-get-function") == 0 && argc == 1) {
		json_t *j;

		rc = ht_lambda_get_function(&a, argv[0], 0, &j, &e);
		if (rc == 0) {
			json_dumpf(j, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(j);
		}
	} else if (strcmp(cmd, "ecr-auth") == 0 && argc == 0) {
		struct ht_ecr_auth x;

		rc = ht_ecr_get_authorization_token(&a, &x, &e);
		if (rc == 0) {
			/* The password is a secret: only its length. */
			printf("username=%s\nendpoint=%s\npassword_length=%zu\nexpires_ms=%lld\n", x.username,
			       x.endpoint ? x.endpoint : "", strlen(x.password), (long long)x.expires_ms);
			ht_ecr_auth_release(&x);
		}
	} else if (strcmp(cmd, "sts-session") == 0 && argc <= 1) {
		struct ht_aws_creds c;

		rc = ht_sts_get_session_token(&a, argc ? atol(argv[0]) : 3600, &c, &e);
		if (rc == 0) {
			/* Test-only: the shell tests need the temporary keys. */
			printf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_SESSION_TOKEN=%s\n",
			       c.access_key_id, c.secret_access_key, c.session_token);
			ht_aws_creds_release(&c);
		}
	} else if (strcmp(cmd, "sts-assume-role") == 0 && argc == 1) {
		struct ht_aws_creds c;

		rc = ht_sts_assume_role(&a, argv[0], "ht-aws-probe", 900, &c, &e);
		if (rc == 0) {
			printf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_SESSION_TOKEN=%s\n",
			       c.access_key_id, c.secret_access_key, c.session_token);
			ht_aws_creds_release(&c);
		}
	} else if (strcmp(cmd, "call") == 0 && (argc == 3 || argc == 4)) {
		rc = call(&a, argv, argc, &e);
	} else {
		ht_aws_release(&a);
		fputs(usage, stderr);
		return HT_EXIT_USAGE;
	}
	ht_aws_release(&a);
	return rc == 0 ? 0 : ht_aws_error_exit(&e);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, 0, 'v' },
		{ "region", required_argument, 0, 'r' },
		{ "profile", required_argument, 0, 'p' },
		{ "endpoint", required_argument, 0, 'e' },
		{ "insecure", no_argument, 0, 'k' },
		{ "attempts", required_argument, 0, 'A' },
		{ "base-ms", required_argument, 0, 'B' },
		{ "cap-ms", required_argument, 0, 'C' },
		{ "total-ms", required_argument, 0, 'T' },
		{ "timeout-ms", required_argument, 0, 't' },
		{ "header", required_argument, 0, 'H' },
		{ 0, 0, 0, 0 }
	};
	int c, code;
	long v;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "+vH:", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			ht_verbosity++;
			break;
		case 'r':
			opts.region = optarg;
			break;
		case 'p':
			opts.profile = optarg;
			break;
		case 'e':
			opts.endpoint = optarg;
			break;
		case 'k':
			opts.insecure = 1;
			break;
		case 'H':
			if (nheaders + 1 >= (int)(sizeof(headers) / sizeof(headers[0])))
				ht_die(HT_EXIT_USAGE, "too many headers");
			headers[nheaders++] = optarg;
			break;
		case 'A': case 'B': case 'C': case 'T': case 't':
			if (ht_parse_long(optarg, 0, 100000000, &v) < 0)
				ht_die(HT_EXIT_USAGE, "'%s' is not a number", optarg);
			if (c == 'A')
				retry.max_attempts = (int)v;
			else if (c == 'B')
				retry.base_ms = v;
			else if (c == 'C')
				retry.cap_ms = v;
			else if (c == 'T')
				retry.max_total_ms = v;
			else
				opts.timeout_ms = v;
			break;
		default:
			fputs(usage, stderr);
			return HT_EXIT_USAGE;
		}
	}
	opts.retry = &retry;
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fputs(usage, stderr);
		return HT_EXIT_USAGE;
	}
	if (strcmp(argv[0], "http-get") == 0 && (argc == 2 || argc == 3))
		code = http_get(argv[1], argc == 3 ? atoi(argv[2]) : 1);
	else if (strcmp(argv[0], "http-multi") == 0 && (argc == 3 || argc == 4))
		code = http_multi(argv[1], atoi(argv[2]), argc == 4 ? atoi(argv[3]) : 8);
	else
		code = aws_command(argc, argv);
	ht_http_cleanup();
	return ht_finish_stdout(code);
}
