/*
 * junit.c: reading the JUnit XML file a test wrote (runners/outcome.h): a
 * small scanner of tags and attributes, not an XML parser; it counts
 * testcases and keeps the names and messages of those that failed.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/text.h"
#include "ht/util.h"
#include "runners/outcome.h"

void ht_junit_init(struct ht_junit *j)
{
	memset(j, 0, sizeof(*j));
	j->failures = json_array();
}

void ht_junit_release(struct ht_junit *j)
{
	json_decref(j->failures);
	json_decref(j->cases);
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

/* The last HT_JUNIT_MAX_TEXT bytes of the text in b, decoded, as a JSON
 * string starting on a character. */
static json_t *text_tail(const struct ht_buf *b)
{
	char *s = ht_xml_unescape(b->data ? b->data : "", b->len);
	size_t n = strlen(s), from = n > HT_JUNIT_MAX_TEXT ? n - HT_JUNIT_MAX_TEXT : 0;
	json_t *v;

	while (from && from < n && ((unsigned char)s[from] & 0xc0) == 0x80)
		from++;
	ht_utf8_clean(s + from, n - from, 0);
	v = json_string(s + from);
	free(s);
	return v ? v : json_string("");
}

/* A case's child element whose text is kept (want_cases). */
static const char *const kept_children[] = { "failure", "error", "skipped", "system-out", "system-err", NULL };

static int kept_child(const struct tag *t)
{
	int i;

	for (i = 0; kept_children[i]; i++)
		if (tag_is(t, kept_children[i]))
			return 1;
	return 0;
}

/* Sets member key of o to the attribute name of t, when t has it. */
static void set_attr(json_t *o, const char *key, const struct tag *t, const char *name)
{
	char *v = tag_attr(t, name);

	if (v) {
		ht_utf8_clean(v, strlen(v), 0);
		json_object_set_new(o, key, json_string(v));
		free(v);
	}
}

/* A time attribute (seconds) in milliseconds; 0 for one that is not a
 * time that fits (1e300, nan, a negative one): their cast is undefined. */
static json_int_t time_ms(const char *s)
{
	double ms = strtod(s, NULL) * 1000 + 0.5;

	return isfinite(ms) && ms >= 0 && ms < 0x1p62 ? (json_int_t)ms : 0;
}

int ht_junit_parse(struct ht_junit *j, const char *xml, size_t len, char *err, size_t errlen)
{
	const char *p = xml, *end = xml + len;
	int seen_root = 0, in_case = 0, in_fail = 0, state = CASE_PASS;
	char *cname = NULL, *cclass = NULL, *cmsg = NULL;
	struct ht_buf text, ctext;
	json_t *ccase = NULL, *cpart = NULL; /* want_cases: the case and child being read */
	const char *cchild = NULL;

	ht_buf_init(&text, 64 * 1024);
	ht_buf_init(&ctext, 1024 * 1024);
	if (j->want_cases && !j->cases)
		j->cases = json_array();
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		struct tag t;
		const char *q;

		if (!lt)
			break;
		if (in_fail && !cmsg)
			ht_buf_add(&text, p, (size_t)(lt - p)); /* over the limit: kept short */
		if (cchild)
			ht_buf_add(&ctext, p, (size_t)(lt - p));
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
			if (cchild) {
				/* Kept as is: escape it so text_tail's unescaping
				 * gives it back. */
				const char *c;

				for (c = p + 9; c < (q ? q : end); c++)
					if (*c == '&')
						ht_buf_addstr(&ctext, "&amp;");
					else
						ht_buf_add(&ctext, c, 1);
			}
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
				if (j->want_cases && json_array_size(j->cases) < HT_JUNIT_MAX_CASES) {
					char *tm = tag_attr(&t, "time");

					ccase = json_object();
					json_object_set_new(ccase, "classname", json_string(cclass ? ht_utf8_clean(cclass, strlen(cclass), 0) : ""));
					json_object_set_new(ccase, "name", json_string(cname ? ht_utf8_clean(cname, strlen(cname), 0) : ""));
					json_object_set_new(ccase, "time_ms", json_integer(tm ? time_ms(tm) : 0));
					json_object_set_new(ccase, "parts", json_array());
					json_array_append_new(j->cases, ccase);
					free(tm);
				}
			}
			if ((t.end || t.empty) && in_case) {
				char *name = ht_oneline(cname ? cname : "(unnamed)", strlen(cname ? cname : "(unnamed)"), HT_OUTCOME_MAX_FIELD);
				char *cls = cclass ? ht_oneline(cclass, strlen(cclass), HT_OUTCOME_MAX_FIELD) : NULL;

				j->tests++;
				if (state == CASE_FAIL || state == CASE_ERROR) {
					char *m = ht_oneline(cmsg ? cmsg : "", cmsg ? strlen(cmsg) : 0, HT_OUTCOME_MAX_FIELD);

					if (state == CASE_FAIL)
						j->failed++;
					else
						j->errors++;
					ht_outcome_add_failure(j->failures, name, cls, m, state == CASE_FAIL ? "failure" : "error");
					free(m);
				} else if (state == CASE_SKIP) {
					j->skipped++;
				}
				free(name), free(cls);
				in_case = 0;
				ccase = NULL;
				cchild = NULL;
			}
		}
		if (ccase && !tag_is(&t, "testcase") && kept_child(&t)) {
			if (!t.end) {
				cchild = t.name[0] == 's' && t.name[1] == 'y' ? (t.name[7] == 'o' ? "system_out" : "system_err") : NULL;
				cpart = NULL;
				if (!cchild) {
					cpart = json_object();
					json_object_set_new(cpart, "tag", json_stringn(t.name, t.name_len));
					set_attr(cpart, "type", &t, "type");
					set_attr(cpart, "message", &t, "message");
					json_array_append_new(json_object_get(ccase, "parts"), cpart);
					cchild = "text";
				}
				ht_buf_reset(&ctext);
				if (t.empty)
					cchild = NULL;
			} else if (cchild) {
				json_t *target = cpart && !strcmp(cchild, "text") ? cpart : ccase;
				json_t *old = json_object_get(target, cchild);

				if (old && json_string_length(old)) {
					/* pytest writes system-out twice for a skip */
					char *both = ht_xasprintf("%s", json_string_value(old));
					json_t *add = text_tail(&ctext);

					if (json_string_length(add)) {
						free(both);
						both = ht_xasprintf("%s\n%s", json_string_value(old), json_string_value(add));
					}
					json_decref(add);
					json_object_set_new(target, cchild, json_string(both));
					free(both);
				} else {
					json_object_set_new(target, cchild, text_tail(&ctext));
				}
				cchild = NULL;
			}
		}
		if (tag_is(&t, "testsuite") || tag_is(&t, "testsuites") || tag_is(&t, "testcase")) {
			/* done above */
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
	ht_buf_release(&ctext);
	return 0;
fail:
	free(cname), free(cclass), free(cmsg);
	ht_buf_release(&text);
	ht_buf_release(&ctext);
	return -1;
}
