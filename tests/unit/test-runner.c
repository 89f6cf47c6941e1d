/*
 * test-runner.c: the helpers the test-runner plugins share.
 */
#include <stdlib.h>
#include <string.h>

#include "ht/bucket.h"
#include "ht/id.h"
#include "ht/runner.h"
#include "ht/text.h"
#include "ht/util.h"
#include "runners/outcome.h"
#include "tap.h"

static void test_ids(void)
{
	char *id = ht_test_id("tests/login.sh");
	char *long_id;
	char name[200];

	ok(strncmp(id, "t-tests-login-sh-", 17) == 0 && strlen(id) == 25, "test id: slug and 8 hex digits");
	free(id);
	id = ht_test_id("!!!");
	ok(strncmp(id, "t-test-", 7) == 0, "a name without letters gets the slug 'test'");
	free(id);
	memset(name, 'A', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	long_id = ht_test_id(name);
	is_int(strlen(long_id), 2 + 40 + 1 + 8, "the slug is cut at 40");
	ok(ht_id_safe(long_id), "a test id is a safe id");
	free(long_id);
	ok(!ht_id_safe("..") && !ht_id_safe("a/b") && !ht_id_safe("") && ht_id_safe("run-1.2_x"), "safe ids");
}

static void test_words(void)
{
	char err[64];
	size_t n;
	char **v = ht_split_words(" sh -c 'a b'  \"x \\\"y\\\"\" c\\ d {file} ", &n, err, sizeof(err));

	is_int(n, 6, "six words");
	is_str(v[2], "a b", "single quotes");
	is_str(v[3], "x \"y\"", "double quotes and escapes");
	is_str(v[4], "c d", "backslash outside quotes");
	is_str(v[5], "{file}", "placeholders stay");
	ht_strv_free(v);
	ok(ht_split_words("sh 'oops", &n, err, sizeof(err)) == NULL, "an unterminated quote fails");
	like(err, "unterminated", "and says why");
}

static void test_subst(void)
{
	struct ht_subst_var vars[] = { { "file", "it's a b" }, { "out", NULL } };
	char *s = ht_subst("run {file} {out} {other}", vars, 2, 0);

	is_str(s, "run it's a b {out} {other}", "plain substitution leaves unknown and unset placeholders");
	free(s);
	s = ht_subst("sh {file}", vars, 2, 1);
	is_str(s, "sh 'it'\\''s a b'", "shell quoting");
	free(s);
}

static void test_utf8(void)
{
	char s[] = "ok \xff\xc3\xa9 \xed\xa0\x80\n";
	char t[] = "a\nb\tc";

	is_str(ht_utf8_clean(s, strlen(s), 0), "ok ?\xc3\xa9 ???\n", "bad bytes and surrogates become '?'");
	is_str(ht_utf8_clean(t, strlen(t), 1), "a b c", "one line");
}

static void test_xml(void)
{
	char *s = ht_xml_unescape("&lt;a&gt; &amp;amp; &quot;&apos; &#65;&#x263a; &bogus; &#0;", 59);

	is_str(s, "<a> &amp; \"' A\xe2\x98\xba &bogus; &#0;", "entities");
	free(s);
}

static void test_junit(void)
{
	struct ht_junit j;
	char err[128];
	const char *x = "<testsuite><testcase name='a' classname=\"k\"><failure message='m &gt; 1'/></testcase>"
			"<testcase name=\"b\"><skipped></skipped></testcase><testcase name='c'></testcase></testsuite>";

	ht_junit_init(&j);
	ok(ht_junit_parse(&j, x, strlen(x), err, sizeof(err)) == 0, "parses");
	is_int(j.tests, 3, "three cases");
	is_int(j.failed, 1, "one failure");
	is_int(j.skipped, 1, "one skipped");
	is_str(json_string_value(json_object_get(json_array_get(j.failures, 0), "message")), "m > 1", "message decoded");
	ht_junit_release(&j);
	ht_junit_init(&j);
	ok(ht_junit_parse(&j, "<testsuite><testcase name='x", 28, err, sizeof(err)) < 0, "an unterminated tag fails");
	ht_junit_release(&j);
}

/* The cases of a JUnit file, as the pytest plugin reads them. */
static void test_junit_cases(void)
{
	struct ht_junit j;
	char err[128];
	const char *x = "<testsuite><testcase classname='t.m' name='f[a b]' time='0.25'>"
			"<failure message='assert 0'>line 1\n&gt; line 2<![CDATA[ <raw> & ]]></failure>"
			"<system-out>--- Captured Out ---\nhi</system-out></testcase>"
			"<testcase classname='t.m' name='g'><skipped type='pytest.xfail' message='bug'/></testcase>"
			"<testcase classname='t.m' name='h'/></testsuite>";
	json_t *c0, *p0;

	ht_junit_init(&j);
	ok(ht_junit_parse(&j, x, strlen(x), err, sizeof(err)) == 0 && !j.cases, "no cases unless asked");
	ht_junit_release(&j);
	ht_junit_init(&j);
	j.want_cases = 1;
	ok(ht_junit_parse(&j, x, strlen(x), err, sizeof(err)) == 0, "parses with cases");
	is_int(json_array_size(j.cases), 3, "three cases, the empty one too");
	c0 = json_array_get(j.cases, 0);
	p0 = json_array_get(json_object_get(c0, "parts"), 0);
	is_str(json_string_value(json_object_get(c0, "name")), "f[a b]", "name decoded");
	is_int(json_integer_value(json_object_get(c0, "time_ms")), 250, "time in ms");
	is_str(json_string_value(json_object_get(p0, "tag")), "failure", "the failure part");
	is_str(json_string_value(json_object_get(p0, "message")), "assert 0", "its message");
	is_str(json_string_value(json_object_get(p0, "text")), "line 1\n> line 2 <raw> & ", "its text, CDATA kept as is");
	is_str(json_string_value(json_object_get(c0, "system_out")), "--- Captured Out ---\nhi", "system-out");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(json_array_get(j.cases, 1), "parts"), 0), "type")),
	       "pytest.xfail", "the skipped part's type");
	is_int(json_array_size(json_object_get(json_array_get(j.cases, 2), "parts")), 0, "a passing case has no parts");
	ht_junit_release(&j);
}

static int keep_b(const char *name, void *arg)
{
	(void)arg;
	return strchr(name, 'b') != NULL;
}

static void test_list_filter(void)
{
	struct ht_test_list l;

	ht_test_list_init(&l);
	ht_test_list_add(&l, "a", NULL);
	ht_test_list_add(&l, "b", NULL);
	ht_test_list_add(&l, "group1", "g1");
	ht_test_list_add_member(&l, 2, "g1::a");
	ht_test_list_add_member(&l, 2, "g1::b");
	ht_test_list_add(&l, "group-b", "g2");
	ht_test_list_add_member(&l, 3, "g2::c");
	ht_test_list_filter(&l, keep_b, NULL);
	is_int(l.n, 2, "filter: the plain match and the group with a match are kept");
	is_str(l.v[0].name, "b", "the plain one");
	ok(l.v[1].nmembers == 1 && !strcmp(l.v[1].members[0], "g1::b") && !l.v[1].members[1],
	   "the group keeps its matching member only");
	ht_test_list_release(&l);
}

static void test_tap(void)
{
	struct ht_tap t;
	struct ht_run_result r;

	ht_tap_init(&t);
	ht_run_result_init(&r);
	r.exited = 1;
	ht_tap_feed(&t, "1..3");
	ht_tap_feed(&t, "ok 1 - a");
	ht_tap_feed(&t, "    not ok 1 - an indented subtest is ignored");
	ht_tap_feed(&t, "not ok 2 - b \\# not a directive");
	ht_tap_feed(&t, "ok 3 # skip later");
	ht_tap_finish(&t, &r);
	is_str(r.status, "failed", "a failing case fails");
	is_str(r.message, "not ok 2 - b \\# not a directive", "the first failure is the message");
	is_int(t.skipped, 1, "skip counted");
	ht_tap_release(&t);
	ht_run_result_release(&r);
}

static void test_keys(void)
{
	ok(ht_bucket_key_valid("r/t/out/a b.png"), "a key");
	ok(!ht_bucket_key_valid("/r") && !ht_bucket_key_valid("r//t") && !ht_bucket_key_valid("r/../t") &&
	   !ht_bucket_key_valid("r/./t") && !ht_bucket_key_valid("r\n") && !ht_bucket_key_valid(""), "bad keys");
}

int main(void)
{
	test_ids();
	test_words();
	test_subst();
	test_utf8();
	test_xml();
	test_junit();
	test_junit_cases();
	test_list_filter();
	test_tap();
	test_keys();
	return tap_done();
}
