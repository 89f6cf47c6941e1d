/*
 * text.c: command templates (words, shell quoting, placeholders), XML
 * entities and one-line report fields.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/text.h"
#include "ht/util.h"

/* --- command templates ----------------------------------------------------- */

void ht_strv_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends the word at *sp (up to the next blank outside quotes) to w and
 * moves *sp past it. Returns 0, or -1 with a reason in err. */
static int one_word(const char **sp, struct ht_buf *w, char *err, size_t errlen)
{
	const char *s = *sp;

	while (*s && !is_blank(*s)) {
		if (*s == '\'') {
			const char *e = strchr(s + 1, '\'');

			if (!e) {
				snprintf(err, errlen, "unterminated ' quote");
				return -1;
			}
			ht_buf_add(w, s + 1, (size_t)(e - s - 1));
			s = e + 1;
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				ht_buf_add(w, s, 1);
			}
			if (!*s) {
				snprintf(err, errlen, "unterminated \" quote");
				return -1;
			}
			s++;
		} else if (*s == '\\' && s[1]) {
			ht_buf_add(w, s + 1, 1);
			s += 2;
		} else {
			ht_buf_add(w, s, 1);
			s++;
		}
	}
	*sp = s;
	return 0;
}

char **ht_split_words(const char *s, size_t *n, char *err, size_t errlen)
{
	char **v = ht_xcalloc(1, sizeof(*v));
	size_t nv = 0;
	struct ht_buf w;

	ht_buf_init(&w, 0);
	for (;;) {
		while (is_blank(*s))
			s++;
		if (!*s)
			break;
		ht_buf_reset(&w);
		ht_buf_add(&w, "", 0);
		if (one_word(&s, &w, err, errlen) < 0) {
			ht_buf_release(&w);
			ht_strv_free(v);
			return NULL;
		}
		v = ht_xrealloc(v, (nv + 2) * sizeof(*v));
		v[nv++] = ht_xstrdup(w.data);
		v[nv] = NULL;
	}
	ht_buf_release(&w);
	*n = nv;
	return v;
}

char *ht_shell_quote(const char *s)
{
	struct ht_buf b;

	ht_buf_init(&b, 0);
	ht_buf_addstr(&b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			ht_buf_addstr(&b, "'\\''");
		else
			ht_buf_add(&b, s, 1);
	}
	ht_buf_addstr(&b, "'");
	return ht_buf_detach(&b);
}

/* The variable whose "{NAME}" starts at s, or NULL. */
static const struct ht_subst_var *placeholder(const char *s, const struct ht_subst_var *vars, size_t nvars)
{
	size_t i;

	for (i = 0; i < nvars; i++) {
		size_t nl = strlen(vars[i].name);

		if (vars[i].value && strncmp(s + 1, vars[i].name, nl) == 0 && s[1 + nl] == '}')
			return &vars[i];
	}
	return NULL;
}

char *ht_subst(const char *s, const struct ht_subst_var *vars, size_t nvars, int shell_quote)
{
	struct ht_buf b;

	ht_buf_init(&b, 0);
	ht_buf_add(&b, "", 0);
	while (*s) {
		const struct ht_subst_var *v = *s == '{' ? placeholder(s, vars, nvars) : NULL;

		if (!v) {
			ht_buf_add(&b, s++, 1);
			continue;
		}
		if (shell_quote) {
			char *q = ht_shell_quote(v->value);

			ht_buf_addstr(&b, q);
			free(q);
		} else {
			ht_buf_addstr(&b, v->value);
		}
		s += strlen(v->name) + 2;
	}
	return ht_buf_detach(&b);
}

/* --- XML entities ---------------------------------------------------------- */

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

/* Decodes the numeric reference "&#N;" or "&#xN;" at s (before end) into b.
 * Returns the length it took, or 0 when it is not a valid one. */
static size_t char_ref(const char *s, const char *end, struct ht_buf *b)
{
	const char *q = s + 2;
	int hex = q < end && (*q == 'x' || *q == 'X');
	unsigned long cp = 0;
	int digits = 0;

	if (hex)
		q++;
	while (q < end && (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q)) && digits < 8) {
		cp = cp * (hex ? 16 : 10) +
		     (unsigned long)(isdigit((unsigned char)*q) ? *q - '0' : tolower((unsigned char)*q) - 'a' + 10);
		q++, digits++;
	}
	if (!digits || q >= end || *q != ';' || cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	put_utf8(b, cp);
	return (size_t)(q + 1 - s);
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
		size_t i, took = 0, rest = (size_t)(end - s);

		if (*s == '&') {
			for (i = 0; i < sizeof(ents) / sizeof(ents[0]) && !took; i++) {
				size_t l = strlen(ents[i].name);

				if (rest > l && memcmp(s + 1, ents[i].name, l) == 0) {
					ht_buf_add(&b, &ents[i].c, 1);
					took = l + 1;
				}
			}
			if (!took && rest > 3 && s[1] == '#')
				took = char_ref(s, end, &b);
		}
		if (!took) {
			ht_buf_add(&b, s, 1);
			took = 1;
		}
		s += took;
	}
	return ht_buf_detach(&b);
}

/* --- report fields --------------------------------------------------------- */

char *ht_oneline(const char *s, size_t len, size_t max)
{
	char *r;

	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len > max)
		len = max;
	r = ht_xmalloc(len + 1);
	memcpy(r, s, len);
	r[len] = '\0';
	return ht_utf8_clean(r, len, 1);
}
