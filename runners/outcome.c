/*
 * runner-outcome.c: reading a test's outcome from TAP on its stdout or from
 * the JUnit XML file it wrote. Both readers are small scanners written for
 * untrusted input: they never read past the end, never recurse, and keep at
 * most MAX_FAILURES failing cases.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ht/runner.h"
#include "ht/util.h"

#define MAX_FAILURES 50
#define MAX_FIELD 1000

/* A new, cleaned, one-line string of s[0..len), cut at MAX_FIELD bytes. */
static char *field(const char *s, size_t len)
{
	char *r;

	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len > MAX_FIELD)
		len = MAX_FIELD;
	r = ht_xmalloc(len + 1);
	memcpy(r, s, len);
	r[len] = '\0';
	return ht_utf8_clean(r, len, 1);
}

static void add_failure(json_t *arr, const char *name, const char *classname, const char *message, const char *kind)
{
	json_t *o;

	if (json_array_size(arr) >= MAX_FAILURES)
		return;
	o = json_object();
	json_object_set_new(o, "name", json_string(name));
	if (classname && *classname)
		json_object_set_new(o, "classname", json_string(classname));
	json_object_set_new(o, "message", json_string(message ? message : ""));
	if (kind)
		json_object_set_new(o, "kind", json_string(kind));
	json_array_append_new(arr, o);
}

/* --- TAP ------------------------------------------------------------------- */

void ht_tap_init(struct ht_tap *t)
{
	memset(t, 0, sizeof(*t));
	t->planned = -1;
	t->failures = json_array();
}

void ht_tap_release(struct ht_tap *t)
{
	free(t->first_failure);
	free(t->bail_reason);
	free(t->skip_reason);
	json_decref(t->failures);
	memset(t, 0, sizeof(*t));
}

/* The directive after '#' in s, if any: 1 SKIP, 2 TODO, 0 none; *reason
 * points after the word. */
static int directive(const char *hash, const char **reason)
{
	const char *p = hash + 1;

	while (*p == ' ' || *p == '\t')
		p++;
	*reason = p;
	if (strncasecmp(p, "skip", 4) == 0) {
		p += 4;
		while (isalpha((unsigned char)*p))
			p++;
		*reason = p;
		return 1;
	}
	if (strncasecmp(p, "todo", 4) == 0) {
		*reason = p + 4;
		return 2;
	}
	return 0;
}

/* The first '#' of s not escaped by a backslash, or NULL. */
static const char *find_hash(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '#')
			return s;
	}
	return NULL;
}

void ht_tap_feed(struct ht_tap *t, const char *line)
{
	const char *p = line, *hash, *reason;
	int not_ok = 0, dir = 0;
	long num = -1;
	char *desc;

	if (t->bailed)
		return;
	if (strncmp(p, "1..", 3) == 0 && isdigit((unsigned char)p[3])) {
		t->planned = strtol(p + 3, NULL, 10);
		hash = find_hash(p);
		if (t->planned == 0) {
			t->skip_all = 1;
			if (hash && directive(hash, &reason) == 1)
				t->skip_reason = field(reason, strlen(reason));
		}
		return;
	}
	if (strncasecmp(p, "Bail out!", 9) == 0) {
		t->bailed = 1;
		t->bail_reason = field(p + 9, strlen(p + 9));
		return;
	}
	if (strncmp(p, "not ok", 6) == 0 && (p[6] == '\0' || p[6] == ' ' || p[6] == '\t')) {
		not_ok = 1;
		p += 6;
	} else if (strncmp(p, "ok", 2) == 0 && (p[2] == '\0' || p[2] == ' ' || p[2] == '\t')) {
		p += 2;
	} else {
		return; /* a comment, a diagnostic, an indented subtest, noise */
	}
	t->count++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		num = strtol(p, (char **)&p, 10);
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (*p == '-')
		p++;
	hash = find_hash(p);
	if (hash)
		dir = directive(hash, &reason);
	desc = field(p, hash ? (size_t)(hash - p) : strlen(p));
	if (dir == 2) {
		t->todo++;
	} else if (dir == 1) {
		t->skipped++;
	} else if (not_ok) {
		char *msg = field(line, strlen(line));
		char *name = *desc ? ht_xstrdup(desc) : ht_xasprintf("test %ld", num >= 0 ? num : t->count);

		t->failed++;
		if (!t->first_failure)
			t->first_failure = ht_xstrdup(msg);
		add_failure(t->failures, name, NULL, msg, NULL);
		free(name);
		free(msg);
	} else {
		t->passed++;
	}
	free(desc);
}

void ht_tap_finish(struct ht_tap *t, struct ht_run_result *res)
{
	json_t *tests = json_object();

	json_object_set_new(tests, "passed", json_integer(t->passed));
	json_object_set_new(tests, "failed", json_integer(t->failed));
	json_object_set_new(tests, "skipped", json_integer(t->skipped));
	if (t->todo)
		json_object_set_new(tests, "todo", json_integer(t->todo));
	json_object_set_new(tests, "failures", json_incref(t->failures));
	json_decref(res->tests);
	res->tests = tests;

	res->status = "failed";
	if (t->bailed) {
		ht_run_result_set_message(res, "Bail out!%s%s", *t->bail_reason ? " " : "", t->bail_reason);
	} else if (t->failed) {
		if (t->failed > 1)
			ht_run_result_set_message(res, "%s (and %ld more failed)", t->first_failure, t->failed - 1);
		else
			ht_run_result_set_message(res, "%s", t->first_failure);
	} else if (t->skip_all && t->count == 0) {
		res->status = "skipped";
		ht_run_result_set_message(res, "skipped%s%s", t->skip_reason && *t->skip_reason ? ": " : "",
					  t->skip_reason ? t->skip_reason : "");
	} else if (t->planned < 0) {
		if (res->exited && res->exit_code == 77 && t->count == 0) {
			res->status = "skipped";
			ht_run_result_set_message(res, "skipped (exit code 77)");
		} else {
			ht_run_result_set_message(res, "no TAP plan (ran %ld tests, %s)", t->count,
						  res->signal ? "killed by a signal" : res->exit_code ? "exit code not 0" : "exit code 0");
		}
	} else if (t->planned != t->count) {
		ht_run_result_set_message(res, "planned %ld tests but ran %ld", t->planned, t->count);
	} else if (res->signal) {
		ht_run_result_set_message(res, "killed by signal %d", res->signal);
	} else if (!res->exited || res->exit_code != 0) {
		ht_run_result_set_message(res, "exit code %d", res->exit_code);
	} else if (t->count > 0 && t->skipped == t->count) {
		res->status = "skipped";
		ht_run_result_set_message(res, "all %ld tests skipped", t->count);
	} else {
		res->status = "passed";
		ht_run_result_set_message(res, "%ld passed, %ld skipped", t->passed, t->skipped);
	}
}

/* --- XML ------------------------------------------------------------------- */

static void put_utf8(struct ht_buf *b, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp, n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6)), u[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12)), u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18)), u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (unsigned char)(0x80 | (cp & 0x3f)), n = 4;
	}
	ht_buf_add(b, u, n);
}

char *ht_xml_unescape(const char *s, size_t len)
{
	static const struct { const char *name; char c; } ents[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' },
	};
	const char *end = s + len;
	struct ht_buf b;

	ht_buf_init(&b, 0);
	ht_buf_add(&b, "", 0);
	while (s < end) {
		size_t i, rest = (size_t)(end - s);
		int done = 0;

		if (*s == '&') {
			for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				size_t l = strlen(ents[i].name);

				if (rest > l && memcmp(s + 1, ents[i].name, l) == 0) {
					ht_buf_add(&b, &ents[i].c, 1);
					s += l + 1;
					done = 1;
					break;
				}
			}
			if (!done && rest > 3 && s[1] == '#') {
				const char *q = s + 2;
				int hex = (*q == 'x' || *q == 'X');
				unsigned long cp = 0;
				int digits = 0;

				if (hex)
					q++;
				while (q < end && (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q)) && digits < 8) {
					cp = cp * (hex ? 16 : 10) + (unsigned long)(isdigit((unsigned char)*q) ? *q - '0' : (tolower((unsigned char)*q) - 'a' + 10));
					q++, digits++;
				}
				if (digits && q < end && *q == ';' && cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
					put_utf8(&b, cp);
					s = q + 1;
					done = 1;
				}
			}
		}
		if (!done)
			ht_buf_add(&b, s++, 1);
	}
	return ht_buf_detach(&b);
}

/* --- JUnit ----------------------------------------------------------------- */

void ht_junit_init(struct ht_junit *j)
{
	memset(j, 0, sizeof(*j));
	j->failures = json_array();
}

void ht_junit_release(struct ht_junit *j)
{
	json_decref(j->failures);
	memset(j, 0, sizeof(*j));
}

/* One start or end tag, as the scanner sees it. */
struct tag {
	const char *name;
	size_t name_len;
	const char *attrs, *attrs_end;
	int end, empty;
};

static int tag_is(const struct tag *t, const char *name)
{
	return t->name_len == strlen(name) && memcmp(t->name, name, t->name_len) == 0;
}

/* The decoded value of attribute name in t (new string), or NULL. */
static char *tag_attr(const struct tag *t, const char *name)
{
	const char *p = t->attrs, *end = t->attrs_end;
	size_t nl = strlen(name);

	while (p < end) {
		const char *an, *v;
		size_t al;
		char q;

		while (p < end && isspace((unsigned char)*p))
			p++;
		an = p;
		while (p < end && !isspace((unsigned char)*p) && *p != '=' && *p != '/')
			p++;
		al = (size_t)(p - an);
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end || *p != '=') {
			if (p < end)
				p++;
			continue;
		}
		p++;
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p >= end || (*p != '"' && *p != '\''))
			return NULL;
		q = *p++;
		v = p;
		while (p < end && *p != q)
			p++;
		if (al == nl && memcmp(an, name, nl) == 0)
			return ht_xml_unescape(v, (size_t)(p - v));
		if (p < end)
			p++;
	}
	return NULL;
}

/* Finds needle in s[0..end), or NULL. */
static const char *find(const char *s, const char *end, const char *needle)
{
	size_t nl = strlen(needle);

	for (; s + nl <= end; s++)
		if (memcmp(s, needle, nl) == 0)
			return s;
	return NULL;
}

enum { CASE_PASS, CASE_SKIP, CASE_FAIL, CASE_ERROR };

int ht_junit_parse(struct ht_junit *j, const char *xml, size_t len, char *err, size_t errlen)
{
	const char *p = xml, *end = xml + len;
	int seen_root = 0, in_case = 0, in_fail = 0, state = CASE_PASS;
	char *cname = NULL, *cclass = NULL, *cmsg = NULL;
	struct ht_buf text;

	ht_buf_init(&text, 64 * 1024);
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		struct tag t;
		const char *q;

		if (!lt)
			break;
		if (in_fail && !cmsg)
			ht_buf_add(&text, p, (size_t)(lt - p)); /* over the limit: kept short */
		p = lt;
		if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
			q = find(p + 4, end, "-->");
			p = q ? q + 3 : end;
			continue;
		}
		if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
			q = find(p + 9, end, "]]>");
			if (in_fail && !cmsg)
				ht_buf_add(&text, p + 9, (size_t)((q ? q : end) - (p + 9)));
			p = q ? q + 3 : end;
			continue;
		}
		if (end - p >= 2 && (p[1] == '?' || p[1] == '!')) {
			q = find(p + 2, end, p[1] == '?' ? "?>" : ">");
			p = q ? q + (p[1] == '?' ? 2 : 1) : end;
			continue;
		}
		/* A start or end tag: find its '>' outside quoted values. */
		memset(&t, 0, sizeof(t));
		q = p + 1;
		if (q < end && *q == '/')
			t.end = 1, q++;
		t.name = q;
		while (q < end && !isspace((unsigned char)*q) && *q != '>' && *q != '/')
			q++;
		t.name_len = (size_t)(q - t.name);
		t.attrs = q;
		while (q < end && *q != '>') {
			if (*q == '"' || *q == '\'') {
				const char *c = memchr(q + 1, *q, (size_t)(end - q - 1));

				q = c ? c + 1 : end;
			} else {
				q++;
			}
		}
		if (q >= end) {
			snprintf(err, errlen, "unterminated tag at byte %zu", (size_t)(p - xml));
			goto fail;
		}
		t.attrs_end = q;
		if (q > t.attrs && q[-1] == '/')
			t.empty = 1, t.attrs_end = q - 1;
		p = q + 1;

		if (tag_is(&t, "testsuite") || tag_is(&t, "testsuites")) {
			seen_root = 1;
		} else if (tag_is(&t, "testcase")) {
			seen_root = 1;
			if (!t.end) {
				free(cname), free(cclass), free(cmsg);
				cname = tag_attr(&t, "name");
				cclass = tag_attr(&t, "classname");
				cmsg = NULL;
				state = CASE_PASS;
				in_case = 1;
			}
			if ((t.end || t.empty) && in_case) {
				char *name = field(cname ? cname : "(unnamed)", strlen(cname ? cname : "(unnamed)"));
				char *cls = cclass ? field(cclass, strlen(cclass)) : NULL;

				j->tests++;
				if (state == CASE_FAIL || state == CASE_ERROR) {
					char *m = field(cmsg ? cmsg : "", cmsg ? strlen(cmsg) : 0);

					if (state == CASE_FAIL)
						j->failed++;
					else
						j->errors++;
					add_failure(j->failures, name, cls, m, state == CASE_FAIL ? "failure" : "error");
					free(m);
				} else if (state == CASE_SKIP) {
					j->skipped++;
				}
				free(name), free(cls);
				in_case = 0;
			}
		} else if (in_case && (tag_is(&t, "failure") || tag_is(&t, "error"))) {
			if (!t.end) {
				int st = tag_is(&t, "failure") ? CASE_FAIL : CASE_ERROR;

				if (state < st)
					state = st;
				if (!cmsg)
					cmsg = tag_attr(&t, "message");
				if (!cmsg && !t.empty) {
					in_fail = 1;
					ht_buf_reset(&text);
				}
			} else if (in_fail) {
				if (!cmsg && text.data) {
					char *s = ht_xml_unescape(text.data, text.len);
					char *nl;

					/* Its first line that is not blank. */
					for (nl = s; *nl && isspace((unsigned char)*nl); nl++)
						;
					memmove(s, nl, strlen(nl) + 1);
					nl = strchr(s, '\n');
					if (nl)
						*nl = '\0';
					cmsg = s;
				}
				in_fail = 0;
			}
		} else if (in_case && tag_is(&t, "skipped") && !t.end) {
			if (state == CASE_PASS)
				state = CASE_SKIP;
		}
	}
	if (!seen_root) {
		snprintf(err, errlen, "no <testsuite> or <testcase> element");
		goto fail;
	}
	free(cname), free(cclass), free(cmsg);
	ht_buf_release(&text);
	return 0;
fail:
	free(cname), free(cclass), free(cmsg);
	ht_buf_release(&text);
	return -1;
}
