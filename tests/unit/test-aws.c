/*
 * test-aws.c: the INI parser, the credential chain, region and endpoint
 * resolution, query encoding, XML text and AWS error classification; and,
 * white box, the aws provider's close (providers/aws/invoke.c is compiled
 * in here, so its own state can be set up as no tool can force it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/aws/aws.h"
#include "providers/aws/creds.h"
#include "ht/diag.h"
#include "ht/exit.h"
#include "tap.h"

/* The provider itself, for test_close(): this binary then holds
 * ht_provider_aws, and libht's copy is not linked in. */
#include "providers/aws/invoke.c"

static char dir[] = "/tmp/test-aws.XXXXXX";

static void write_file(const char *name, const char *text)
{
	char *p = ht_path_join(dir, name);
	FILE *f = fopen(p, "w");

	fputs(text, f);
	fclose(f);
	free(p);
}

static void clear_env(void)
{
	static const char *const vars[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_LAMBDA",
		"AWS_ENDPOINT_URL_ECR", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", NULL
	};
	int i;

	for (i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	setenv("HOME", dir, 1);
}

static void test_ini(void)
{
	struct ht_ini ini;
	int rc;

	ht_ini_init(&ini);
	rc = ht_ini_parse(&ini,
			  "# comment\n"
			  "[default]\n"
			  "region = eu-west-1\n"
			  "; another\n"
			  "[profile  dev]\r\n"
			  "Region=us-east-2   \r\n"
			  "s3 =\n"
			  "  addressing_style = path\n"
			  "endpoint_url = http://x:1\n"
			  "[default]\n"
			  "region = eu-west-3\n", "cfg");
	is_int(rc, 0, "ini: parses");
	is_str(ht_ini_get(&ini, "default", "region"), "eu-west-3", "ini: the last value wins");
	is_str(ht_ini_get(&ini, "profile dev", "region"), "us-east-2", "ini: keys are case-insensitive, CR and spaces trimmed");
	is_str(ht_ini_get(&ini, "profile dev", "s3.addressing_style"), "path", "ini: nested block");
	is_str(ht_ini_get(&ini, "profile dev", "endpoint_url"), "http://x:1", "ini: a key after a nested block");
	ok(ht_ini_get(&ini, "profile dev", "nope") == NULL, "ini: missing key");
	ok(ht_ini_has_section(&ini, "profile dev"), "ini: section with extra spaces normalised");
	ok(!ht_ini_has_section(&ini, "dev"), "ini: no such section");
	ht_ini_release(&ini);

	ht_ini_init(&ini);
	ok(ht_ini_parse(&ini, "[a\nk = v\n", "bad1") < 0, "ini: unclosed section is an error");
	ht_ini_release(&ini);
	ht_ini_init(&ini);
	ok(ht_ini_parse(&ini, "k = v\n", "bad2") < 0, "ini: a key before any section is an error");
	ht_ini_release(&ini);
	ht_ini_init(&ini);
	ok(ht_ini_parse(&ini, "[a]\njunk\n", "bad3") < 0, "ini: a line without '=' is an error");
	ht_ini_release(&ini);
	ht_ini_init(&ini);
	is_int(ht_ini_load(&ini, "/nonexistent/file"), 1, "ini: a missing file is 1");
	ht_ini_release(&ini);
}

static int resolve(struct ht_aws_creds *c, const char *profile, int explicit_profile, struct ht_aws_error *e)
{
	struct ht_aws_files f;
	int rc;

	if (ht_aws_files_load(&f) < 0)
		return -2;
	rc = ht_aws_creds_resolve(c, &f, profile, explicit_profile, e);
	ht_aws_files_release(&f);
	return rc;
}

static void test_creds(void)
{
	struct ht_aws_creds c;
	struct ht_aws_error e;
	char *p;

	clear_env();
	is_int(resolve(&c, "default", 0, &e), -1, "creds: none anywhere");
	is_int(e.kind, HT_AWS_E_CREDENTIALS, "creds: none is a credentials error");
	is_int(ht_aws_error_exit(&e), 77, "creds: exit 77");
	like(e.message, "no AWS credentials", "creds: says so");

	write_file("credentials", "[default]\naws_access_key_id = AKCRED\naws_secret_access_key = s1\n"
		   "[dev]\naws_access_key_id = AKDEV\naws_secret_access_key = s2\naws_session_token = tok\n"
		   "[half]\naws_access_key_id = AKHALF\n");
	write_file("config", "[default]\nregion = eu-west-1\n[profile cfg]\naws_access_key_id = AKCFG\n"
		   "aws_secret_access_key = s3\nregion = ap-south-1\n[profile dev]\nregion = us-west-2\n"
		   "[profile role]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n");
	p = ht_path_join(dir, ".aws");
	free(p);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
	p = ht_path_join(dir, "credentials");
	setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
	free(p);
	p = ht_path_join(dir, "config");
	setenv("AWS_CONFIG_FILE", p, 1);
	free(p);

	is_int(resolve(&c, "default", 0, &e), 0, "creds: default profile from the credentials file");
	is_str(c.access_key_id, "AKCRED", "creds: its key");
	is_str(c.source, "credentials file", "creds: its source");
	ok(c.session_token == NULL, "creds: no token");
	ht_aws_creds_release(&c);

	is_int(resolve(&c, "dev", 1, &e), 0, "creds: a named profile");
	is_str(c.access_key_id, "AKDEV", "creds: named profile key");
	is_str(c.session_token, "tok", "creds: named profile token");
	ht_aws_creds_release(&c);

	is_int(resolve(&c, "cfg", 1, &e), 0, "creds: keys in the config file");
	is_str(c.access_key_id, "AKCFG", "creds: config file key");
	is_str(c.source, "config file", "creds: config file source");
	ht_aws_creds_release(&c);

	is_int(resolve(&c, "half", 1, &e), -1, "creds: half a key pair is an error");
	like(e.message, "needs both", "creds: half says what is missing");
	is_int(resolve(&c, "nosuch", 1, &e), -1, "creds: a named profile that does not exist");
	is_int(e.kind, HT_AWS_E_CONFIG, "creds: missing named profile is a config error");
	is_int(resolve(&c, "role", 1, &e), -1, "creds: role profiles are refused");
	like(e.message, "not support", "creds: role profile says why");

	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
	setenv("AWS_SESSION_TOKEN", "tenv", 1);
	is_int(resolve(&c, "dev", 1, &e), 0, "creds: environment first");
	is_str(c.access_key_id, "AKENV", "creds: environment key beats the profile");
	is_str(c.session_token, "tenv", "creds: environment token");
	is_str(c.source, "environment", "creds: environment source");
	ht_aws_creds_release(&c);
	unsetenv("AWS_SECRET_ACCESS_KEY");
	is_int(resolve(&c, "default", 0, &e), -1, "creds: a key id without a secret is an error");
	like(e.message, "AWS_SECRET_ACCESS_KEY", "creds: names the missing variable");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SESSION_TOKEN");

	is_str(ht_aws_profile_name(NULL), "default", "profile: default");
	setenv("AWS_PROFILE", "dev", 1);
	is_str(ht_aws_profile_name(NULL), "dev", "profile: AWS_PROFILE");
	is_str(ht_aws_profile_name("cfg"), "cfg", "profile: the caller's beats AWS_PROFILE");
	unsetenv("AWS_PROFILE");
}

static void test_region(void)
{
	struct ht_aws_files f;
	char *r;

	ht_aws_files_load(&f);
	r = ht_aws_region_resolve(NULL, &f, "default");
	is_str(r, "eu-west-1", "region: the profile's");
	free(r);
	r = ht_aws_region_resolve(NULL, &f, "cfg");
	is_str(r, "ap-south-1", "region: a named profile's");
	free(r);
	setenv("AWS_DEFAULT_REGION", "us-east-2", 1);
	r = ht_aws_region_resolve(NULL, &f, "cfg");
	is_str(r, "us-east-2", "region: AWS_DEFAULT_REGION beats the profile");
	free(r);
	setenv("AWS_REGION", "ca-central-1", 1);
	r = ht_aws_region_resolve(NULL, &f, "cfg");
	is_str(r, "ca-central-1", "region: AWS_REGION beats AWS_DEFAULT_REGION");
	free(r);
	r = ht_aws_region_resolve("eu-central-1", &f, "cfg");
	is_str(r, "eu-central-1", "region: the caller's (hypertest.json) beats all");
	free(r);
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	r = ht_aws_region_resolve(NULL, &f, "nosuch");
	ok(r == NULL, "region: none");
	free(r);
	ht_aws_files_release(&f);
}

static void test_endpoints(void)
{
	char *u;
	int custom;

	u = ht_aws_endpoint_resolve(HT_AWS_S3, "eu-west-1", NULL, NULL, NULL, &custom);
	is_str(u, "https://s3.eu-west-1.amazonaws.com", "endpoint: S3 default");
	is_int(custom, 0, "endpoint: default is not custom");
	free(u);
	u = ht_aws_endpoint_resolve(HT_AWS_ECR, "cn-north-1", NULL, NULL, NULL, &custom);
	is_str(u, "https://api.ecr.cn-north-1.amazonaws.com.cn", "endpoint: ECR in China");
	free(u);
	u = ht_aws_endpoint_resolve(HT_AWS_LAMBDA, "us-east-1", NULL, NULL, "http://profile:1/", &custom);
	is_str(u, "http://profile:1", "endpoint: the profile's endpoint_url, slash stripped");
	is_int(custom, 1, "endpoint: an override is custom");
	free(u);
	setenv("AWS_ENDPOINT_URL", "http://all:2", 1);
	u = ht_aws_endpoint_resolve(HT_AWS_LAMBDA, "us-east-1", NULL, NULL, "http://profile:1", &custom);
	is_str(u, "http://all:2", "endpoint: AWS_ENDPOINT_URL beats the profile");
	free(u);
	setenv("AWS_ENDPOINT_URL_LAMBDA", "http://lambda:3", 1);
	u = ht_aws_endpoint_resolve(HT_AWS_LAMBDA, "us-east-1", NULL, NULL, NULL, &custom);
	is_str(u, "http://lambda:3", "endpoint: AWS_ENDPOINT_URL_LAMBDA beats AWS_ENDPOINT_URL");
	free(u);
	u = ht_aws_endpoint_resolve(HT_AWS_S3, "us-east-1", NULL, NULL, NULL, &custom);
	is_str(u, "http://all:2", "endpoint: another service keeps AWS_ENDPOINT_URL");
	free(u);
	u = ht_aws_endpoint_resolve(HT_AWS_LAMBDA, "us-east-1", NULL, "http://cfg:4", NULL, &custom);
	is_str(u, "http://cfg:4", "endpoint: the caller's general one beats the environment");
	free(u);
	u = ht_aws_endpoint_resolve(HT_AWS_LAMBDA, "us-east-1", "http://cfgl:5", "http://cfg:4", NULL, &custom);
	is_str(u, "http://cfgl:5", "endpoint: the caller's per service beats its general one");
	free(u);
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_LAMBDA");
}

static void test_init(void)
{
	struct ht_aws a;
	struct ht_aws_error e;
	struct ht_aws_opts o = { .region = "Bad Region" };

	ok(ht_aws_init(&a, &o, &e) < 0, "init: a bad region name is refused");
	is_int(ht_aws_error_exit(&e), HT_EXIT_CONFIG, "init: as a config error");
	o.region = "eu-west-1";
	o.endpoint = "ftp://x";
	ok(ht_aws_init(&a, &o, &e) < 0, "init: a non-HTTP endpoint is refused");
	o.endpoint = "http://127.0.0.1:9";
	is_int(ht_aws_init(&a, &o, &e), 0, "init: resolves");
	is_str(a.endpoint[HT_AWS_ECR], "http://127.0.0.1:9", "init: endpoint");
	is_str(a.region, "eu-west-1", "init: region");
	ht_aws_release(&a);
}

/* Credentials renewed on disk while a client holds the old ones. */
static void test_refresh(void)
{
	struct ht_aws a;
	struct ht_aws_error e;
	struct ht_aws_opts o = { .region = "us-east-1", .profile = "fresh" };
	struct ht_aws_creds c1, c2;
	char *p = ht_path_join(dir, "fresh");

	clear_env();
	setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
	write_file("fresh", "[fresh]\naws_access_key_id = AKF\naws_secret_access_key = s\naws_session_token = t1\n");
	is_int(ht_aws_init(&a, &o, &e), 0, "refresh: init");
	is_int(ht_aws_creds_refresh(&a, &e), 0, "refresh: the same ones");
	write_file("fresh", "[fresh]\naws_access_key_id = AKF\naws_secret_access_key = s\naws_session_token = t2\n");
	is_int(ht_aws_creds_refresh(&a, &e), 1, "refresh: a new session token");
	is_str(a.creds.session_token, "t2", "refresh: in use now");
	write_file("fresh", "[fresh]\naws_access_key_id = AKF\n");
	is_int(ht_aws_creds_refresh(&a, &e), -1, "refresh: no longer resolve");
	is_int(e.kind, HT_AWS_E_CREDENTIALS, "refresh: a credentials error");
	is_str(a.creds.session_token, "t2", "refresh: the old ones kept");
	ht_aws_release(&a);
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	free(p);

	ht_aws_creds_init(&c1);
	ht_aws_creds_init(&c2);
	c1.access_key_id = ht_xstrdup("A");
	c1.secret_access_key = ht_xstrdup("S");
	c2.access_key_id = ht_xstrdup("A");
	c2.secret_access_key = ht_xstrdup("S");
	ok(ht_aws_creds_equal(&c1, &c2), "equal: same keys, no token");
	c2.session_token = ht_xstrdup("T");
	ok(!ht_aws_creds_equal(&c1, &c2), "equal: a token differs");
	ht_aws_creds_release(&c1);
	ht_aws_creds_release(&c2);
}

static void test_query(void)
{
	const char *q[] = { "prefix", "a b/c~", "list-type", "2", "continuation-token", "x+y=", "a", "", NULL };
	char *s = ht_aws_query_string(q);

	is_str(s, "a=&continuation-token=x%2By%3D&list-type=2&prefix=a%20b%2Fc~", "query: sorted and encoded");
	free(s);
	s = ht_aws_query_string(NULL);
	is_str(s, "", "query: none");
	free(s);
	s = ht_aws_uri_encode("dir/a b:ü", 1);
	is_str(s, "dir/a%20b%3A%C3%BC", "uri: key keeps slashes, encodes UTF-8");
	free(s);
}

static void test_xml(void)
{
	const char *x = "<a><Key>one &amp; &lt;two&gt; &#65;&#x42;</Key><Empty/><Key attr=\"1\">three</Key></a>";
	size_t pos = 0;
	char *s;

	s = ht_xml_text(x, "Key", &pos);
	is_str(s, "one & <two> AB", "xml: entities decoded");
	free(s);
	s = ht_xml_text(x, "Key", &pos);
	is_str(s, "three", "xml: the next one, with attributes");
	free(s);
	s = ht_xml_text(x, "Key", &pos);
	ok(s == NULL, "xml: no more");
	pos = 0;
	s = ht_xml_text(x, "Empty", &pos);
	is_str(s, "", "xml: empty element");
	free(s);
	pos = 0;
	ok(ht_xml_text("<Code>unterminated", "Code", &pos) == NULL, "xml: unterminated");
}

static void fake_resp(struct ht_http_resp *r, long status, const char *headers, const char *body)
{
	ht_http_resp_init(r);
	r->status = status;
	ht_buf_addstr(&r->headers, headers);
	ht_buf_addstr(&r->body, body);
}

static void test_errors(void)
{
	struct ht_http_resp r;
	struct ht_aws_error e;

	fake_resp(&r, 404, "HTTP/1.1 404\r\nx-amzn-ErrorType: ResourceNotFoundException:http://x/\r\n",
		  "{\"Type\":\"User\",\"Message\":\"Function not found: fn\"}");
	ht_aws_error_from_response(&e, &r);
	is_str(e.code, "ResourceNotFoundException", "errors: Lambda code from x-amzn-ErrorType");
	is_str(e.message, "Function not found: fn", "errors: Lambda Message");
	is_int(e.kind, HT_AWS_E_NOT_FOUND, "errors: not found");
	is_int(ht_aws_error_exit(&e), HT_EXIT_NOINPUT, "errors: not found exits 66");
	ht_http_resp_release(&r);

	fake_resp(&r, 400, "HTTP/1.1 400\r\n",
		  "{\"__type\":\"com.amazonaws.ecr#RepositoryNotFoundException\",\"message\":\"no repo\"}");
	ht_aws_error_from_response(&e, &r);
	is_str(e.code, "RepositoryNotFoundException", "errors: ECR __type without its namespace");
	is_int(e.kind, HT_AWS_E_NOT_FOUND, "errors: ECR not found");
	ht_http_resp_release(&r);

	fake_resp(&r, 403, "HTTP/1.1 403\r\n",
		  "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>bad\n sig</Message></Error>");
	ht_aws_error_from_response(&e, &r);
	is_str(e.code, "SignatureDoesNotMatch", "errors: S3 XML Code");
	is_str(e.message, "bad sig", "errors: S3 XML Message, whitespace folded");
	is_int(ht_aws_error_exit(&e), HT_EXIT_NOPERM, "errors: credentials exit 77");
	ht_http_resp_release(&r);

	fake_resp(&r, 400, "HTTP/1.1 400\r\n",
		  "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>");
	ht_aws_error_from_response(&e, &r);
	is_int(e.kind, HT_AWS_E_THROTTLED, "errors: STS Throttling");
	is_int(ht_aws_error_exit(&e), HT_EXIT_TEMPFAIL, "errors: throttling exits 75");
	ht_http_resp_release(&r);

	fake_resp(&r, 429, "HTTP/1.1 429\r\n", "");
	ht_aws_error_from_response(&e, &r);
	is_int(e.kind, HT_AWS_E_THROTTLED, "errors: 429 with no body is throttling");
	ht_http_resp_release(&r);

	fake_resp(&r, 403, "HTTP/1.1 403\r\n", "{\"Message\":\"User is not authorized\"}");
	ht_aws_error_from_response(&e, &r);
	is_int(e.kind, HT_AWS_E_DENIED, "errors: 403 without a code is denied");
	ht_http_resp_release(&r);

	fake_resp(&r, 503, "HTTP/1.1 503\r\n", "<html>oops");
	ht_aws_error_from_response(&e, &r);
	is_int(e.kind, HT_AWS_E_UNAVAILABLE, "errors: 503 with junk is unavailable");
	is_int(ht_aws_error_exit(&e), HT_EXIT_UNAVAILABLE, "errors: unavailable exits 69");
	ht_http_resp_release(&r);

	fake_resp(&r, 409, "HTTP/1.1 409\r\n", "{\"__type\":\"ResourceConflictException\",\"message\":\"update in progress\"}");
	ht_aws_error_from_response(&e, &r);
	is_int(e.kind, HT_AWS_E_CONFLICT, "errors: Lambda conflict");
	is_str(ht_aws_errkind_name(e.kind), "conflict", "errors: kind name");
	ht_http_resp_release(&r);

	fake_resp(&r, 403, "HTTP/1.1 403\r\nx-amzn-ErrorType: ExpiredTokenException\r\n",
		  "{\"message\":\"The security token included in the request is expired\"}");
	ht_aws_error_from_response(&e, &r);
	ok(ht_aws_error_expired(&e), "errors: ExpiredTokenException is expired");
	ht_http_resp_release(&r);
	fake_resp(&r, 400, "HTTP/1.1 400\r\n", "<Error><Code>ExpiredToken</Code></Error>");
	ht_aws_error_from_response(&e, &r);
	ok(ht_aws_error_expired(&e), "errors: S3's ExpiredToken too");
	ht_http_resp_release(&r);
	fake_resp(&r, 403, "HTTP/1.1 403\r\n", "<Error><Code>SignatureDoesNotMatch</Code></Error>");
	ht_aws_error_from_response(&e, &r);
	ok(!ht_aws_error_expired(&e), "errors: a bad signature is not");
	ht_http_resp_release(&r);

	fake_resp(&r, 400, "HTTP/1.1 400\r\n", "{\"__type\":\"InvalidParameterValueException\",\"message\":\"no\"}");
	ht_aws_error_from_response(&e, &r);
	is_int(ht_aws_error_exit(&e), HT_EXIT_DATAERR, "errors: invalid exits 65");
	ht_http_resp_release(&r);
}

/*
 * aws_close() with invocations whose answers arrived in the multi handle
 * but were not taken yet (a poll that stopped before taking them). Each
 * one is on the wire list and in the multi handle's finished list; close
 * must free it once. URLs of a scheme libcurl is not allowed to use fail
 * at once, without a network.
 */
static void test_close(void)
{
	struct ht_provider *p = ht_xcalloc(1, sizeof(*p));
	int i, ready = 0;

	p->max_conc = 4;
	p->window = 4;
	p->fn_timeout_ms = p->client_timeout_ms = 1000;
	p->function = ht_xstrdup("fn");
	p->url = ht_xstrdup("file:///dev/null");
	p->host = ht_xstrdup("localhost");
	p->host_line = ht_xstrdup("Host: localhost");
	p->canon_uri = ht_xstrdup("/dev/null");
	ht_aws_signer_init(&p->signer, "us-east-1", "lambda");
	ht_aws_signer_set_creds(&p->signer, "AKIDTEST", "secret", NULL);
	p->m = ht_http_multi_new(4);
	for (i = 0; i < 3; i++)
		aws_invoke(p, "{}", 2, 1000, NULL);
	send_ready(p);
	is_int(p->sent, 3, "close: three invocations on the wire");
	for (i = 0; i < 50 && ready < 3; i++)
		ready = ht_http_multi_run(p->m, 100);
	is_int(ready, 3, "close: their answers wait in the multi handle");
	/* Under ASan a second free of one of them aborts here. */
	aws_close(p);
	ok(1, "close: each invocation freed once");
}

/*
 * SigV4 as the Invoke fan-out signs it (sigv4.c, invoke.c's sign()): AWS's
 * own "get-vanilla" example, and Invoke requests whose expected
 * Authorization lines botocore 1.43's SigV4Auth computed for the same
 * request, time and credentials. The key is kept per day: a request just
 * after midnight UTC must be signed with the new day's key, and new
 * credentials or another region must never reuse an old key.
 */
#define EX_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define AUTH_HDRS "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type;x-amz-log-type"

static void test_sigv4_vanilla(void)
{
	struct ht_aws_signer s;
	struct ht_aws_sig_header h[] = { { "host", "example.amazonaws.com" } };
	struct ht_aws_signed out;

	ok(ht_aws_signer_init(&s, "us-east-1", "service") == 0, "sigv4: a signer");
	ht_aws_signer_set_creds(&s, "AKIDEXAMPLE", EX_SECRET, NULL);
	ok(ht_aws_sign(&s, 1440938160, "GET", "/", "", h, 1, NULL, 0, &out) == 0, "sigv4: get-vanilla signed");
	is_str(out.date, "X-Amz-Date: 20150830T123600Z", "sigv4: get-vanilla's date line");
	is_str(out.authorization, "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
	       "aws4_request, SignedHeaders=host;x-amz-date, "
	       "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
	       "sigv4: get-vanilla's signature (AWS's example)");
	ht_aws_signer_set_creds(&s, NULL, NULL, NULL);
	ok(ht_aws_sign(&s, 1440938160, "GET", "/", "", h, 1, NULL, 0, &out) < 0, "sigv4: no credentials, no signature");
	ht_aws_signer_release(&s);
}

/* A provider as aws_open() leaves it for signing, at url in region. */
static struct ht_provider *sign_provider(const char *url, const char *region)
{
	struct ht_provider *p = ht_xcalloc(1, sizeof(*p));

	p->url = ht_xstrdup(url);
	p->aws.creds.access_key_id = ht_xstrdup("AKIDEXAMPLE");
	p->aws.creds.secret_access_key = ht_xstrdup(EX_SECRET);
	if (url_parts(p) < 0 || ht_aws_signer_init(&p->signer, region, "lambda") < 0)
		return NULL;
	sig_update(p);
	return p;
}

static void sign_provider_free(struct ht_provider *p)
{
	ht_aws_signer_release(&p->signer);
	free_token_line(p);
	ht_aws_creds_release(&p->aws.creds);
	free(p->host);
	free(p->host_line);
	free(p->canon_uri);
	free(p->url);
	free(p);
}

static void test_sigv4_invoke(void)
{
	static const char url[] = "http://127.0.0.1:4567/2015-03-31/functions/fn/invocations";
	static const char arn[] = "http://127.0.0.1:4567/2015-03-31/functions/"
		"arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afn/invocations";
	static const char body[] = "{\"schema\":\"ht.test/1\",\"test_id\":\"t0\",\"attempt\":1}";
	static const char cred[] = "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/";
	struct ht_provider *p = sign_provider(url, "us-east-1"), *q;
	struct inv *v = ht_xcalloc(1, sizeof(*v) + sizeof(body));
	char want[400];
	int i;

	if (!p) {
		ok(0, "sigv4: a provider to sign with");
		return;
	}
	memcpy(v->payload, body, sizeof(body));
	v->len = sizeof(body) - 1;
	is_str(p->host_line, "Host: 127.0.0.1:4567", "sigv4: Host is the URL's host and port");
	is_str(p->canon_uri, "/2015-03-31/functions/fn/invocations", "sigv4: the canonical URI is the path");
	q = sign_provider(arn, "us-east-1");
	is_str(q ? q->canon_uri : "", arn + 21, "sigv4: a path with escapes is signed as sent (as libcurl signs it)");
	if (q)
		sign_provider_free(q);

	ok(sign(p, v, 1440979199) == 0, "sigv4: 23:59:59 signed");
	snprintf(want, sizeof(want), "%s20150830/us-east-1/lambda/aws4_request, " AUTH_HDRS ", Signature="
		 "5da2eec41d574fa1ffa7a848c365290cefbf8b9931c3d182d93b58dceb6c2e50", cred);
	is_str(v->sig.authorization, want, "sigv4: 23:59:59 as botocore signs it");
	is_str(v->sig.date, "X-Amz-Date: 20150830T235959Z", "sigv4: its date line");
	for (i = 0; v->headers[i]; i++)
		;
	is_int(i, 6, "sigv4: six header lines, no token");
	is_str(v->headers[3], "Host: 127.0.0.1:4567", "sigv4: the Host line is sent");
	is_str(v->headers[4], v->sig.date, "sigv4: the date line is sent");
	is_str(v->headers[5], v->sig.authorization, "sigv4: the authorization line is sent");
	ok(sign(p, v, 1440979199) == 0 && p->signer.derivations == 1, "sigv4: the same day: the key is kept");

	/* After midnight UTC: the new day's key, not the cached one. */
	ok(sign(p, v, 1440979201) == 0, "sigv4: 00:00:01 the next day signed");
	snprintf(want, sizeof(want), "%s20150831/us-east-1/lambda/aws4_request, " AUTH_HDRS ", Signature="
		 "a17ec522460fee5e56abe7c466244abb36d64f779658e941e777bc9422ee5586", cred);
	is_str(v->sig.authorization, want, "sigv4: after midnight, the next day's key signs");
	is_int(p->signer.derivations, 2, "sigv4: a key derived for the new day");

	/* Renewed credentials with a token: a new key, the token signed. */
	free(p->aws.creds.secret_access_key);
	p->aws.creds.secret_access_key = ht_xstrdup(EX_SECRET);
	p->aws.creds.session_token = ht_xstrdup("TOKEN/with+chars==");
	sig_update(p);
	ok(sign(p, v, 1440979201) == 0, "sigv4: with a session token signed");
	snprintf(want, sizeof(want), "%s20150831/us-east-1/lambda/aws4_request, " AUTH_HDRS ";x-amz-security-token, "
		 "Signature=1be7410c1666009f410cb20f2f2e333ca1cc7236f0d755bc8b71314a4c67c43d", cred);
	is_str(v->sig.authorization, want, "sigv4: the token is signed as botocore signs it");
	is_str(v->headers[6], "X-Amz-Security-Token: TOKEN/with+chars==", "sigv4: and sent");

	/* Another secret the same day: the old day key must not be used. */
	free(p->aws.creds.secret_access_key);
	free(p->aws.creds.session_token);
	p->aws.creds.secret_access_key = ht_xstrdup("another-secret");
	p->aws.creds.session_token = NULL;
	sig_update(p);
	ok(sign(p, v, 1440979201) == 0, "sigv4: with a new secret signed");
	snprintf(want, sizeof(want), "%s20150831/us-east-1/lambda/aws4_request, " AUTH_HDRS ", Signature="
		 "e085c93cb700af7b4ce73637b5df3e472390e51d16c4eab5b168542de9ff7326", cred);
	is_str(v->sig.authorization, want, "sigv4: new credentials: a new key");
	ok(v->headers[6] == NULL, "sigv4: no token line once there is no token");

	/* Two regions in one process: each its own key. */
	q = sign_provider(url, "eu-west-1");
	ok(q && sign(q, v, 1440979201) == 0, "sigv4: eu-west-1 signed");
	snprintf(want, sizeof(want), "%s20150831/eu-west-1/lambda/aws4_request, " AUTH_HDRS ", Signature="
		 "e49ac9865d27198bc3e0ed0753e82aa60241592b70d519edc728fcbcc30701d8", cred);
	is_str(v->sig.authorization, want, "sigv4: eu-west-1's key");
	if (q)
		sign_provider_free(q);
	free(v);
	sign_provider_free(p);
}

int main(void)
{
	char *cmd;

	ht_diag_init("test-aws");
	ht_verbosity = -1; /* the error cases print; keep the TAP clean */
	if (!mkdtemp(dir))
		return 1;
	clear_env();
	test_ini();
	test_creds();
	test_region();
	test_endpoints();
	test_init();
	test_refresh();
	test_query();
	test_xml();
	test_errors();
	test_close();
	test_sigv4_vanilla();
	test_sigv4_invoke();
	cmd = ht_xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		perror("rm");
	free(cmd);
	return tap_done();
}
