/*
 * runner.c: the registry of test-runner plugins and the helpers they share:
 * test lists, test ids, command templates, UTF-8 cleaning.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/runner.h"
#include "ht/util.h"
#include "runners/command.h"

static const struct ht_runner_ops *const plugins[] = {
	&ht_runner_command,
};

const struct ht_config_schema *const ht_runner_schemas[] = {
	&ht_command_schema,
	NULL,
};

const struct ht_runner_ops *ht_runner_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++)
		if (name && strcmp(plugins[i]->name, name) == 0)
			return plugins[i];
	return NULL;
}

const char *ht_runner_names(void)
{
	return "command";
}

/* --- test lists ------------------------------------------------------------ */

void ht_test_list_init(struct ht_test_list *l)
{
	memset(l, 0, sizeof(*l));
}

void ht_test_list_release(struct ht_test_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].file);
	}
	free(l->v);
	ht_test_list_init(l);
}

void ht_test_list_add(struct ht_test_list *l, const char *name, const char *file)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = ht_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].name = ht_xstrdup(name);
	l->v[l->n].file = file ? ht_xstrdup(file) : NULL;
	l->n++;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct ht_test_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void ht_test_list_sort_unique(struct ht_test_list *l)
{
	size_t i, j = 0;

	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
	for (i = 1; i < l->n; i++) {
		if (strcmp(l->v[i].name, l->v[j].name) == 0) {
			free(l->v[i].name);
			free(l->v[i].file);
		} else {
			l->v[++j] = l->v[i];
		}
	}
	l->n = j + 1;
}

void ht_test_list_unique(struct ht_test_list *l)
{
	size_t i, k, j = 0;

	/* Quadratic, but lists come from people's listing commands; a hash
	 * set would only pay off for tens of thousands of tests. */
	for (i = 0; i < l->n; i++) {
		for (k = 0; k < j; k++)
			if (strcmp(l->v[k].name, l->v[i].name) == 0)
				break;
		if (k < j) {
			free(l->v[i].name);
			free(l->v[i].file);
		} else {
			l->v[j++] = l->v[i];
		}
	}
	l->n = j;
}

/* --- results --------------------------------------------------------------- */

void ht_run_result_init(struct ht_run_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = "error";
}

void ht_run_result_release(struct ht_run_result *r)
{
	free(r->message);
	free(r->error_code);
	json_decref(r->tests);
	ht_run_result_init(r);
}

void ht_run_result_set_message(struct ht_run_result *r, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	s = ht_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	/* One line of at most 1000 bytes, valid UTF-8. */
	if (strlen(s) > 1000)
		s[1000] = '\0';
	ht_utf8_clean(s, strlen(s), 1);
	free(r->message);
	r->message = s;
}

/* --- ids ------------------------------------------------------------------- */

char *ht_test_id(const char *name)
{
	char hex[HT_SHA256_HEX_LEN + 1];
	char slug[41];
	size_t n = 0;
	const unsigned char *p;
	int dash = 0;

	for (p = (const unsigned char *)name; *p && n < 40; p++) {
		if (isalnum(*p) && *p < 128) {
			if (dash && n)
				slug[n++] = '-';
			dash = 0;
			if (n < 40)
				slug[n++] = (char)tolower(*p);
		} else {
			dash = 1;
		}
	}
	while (n && slug[n - 1] == '-')
		n--;
	slug[n] = '\0';
	if (ht_sha256_hex(name, strlen(name), hex) < 0)
		memset(hex, '0', 8);
	hex[8] = '\0';
	return ht_xasprintf("t-%s-%s", n ? slug : "test", hex);
}

int ht_id_safe(const char *s)
{
	size_t n = 0;

	if (!s || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && !strchr("._-", s[n]))
			return 0;
	return n >= 1 && n <= 128;
}

/* --- command templates ----------------------------------------------------- */

void ht_strv_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

char **ht_split_words(const char *s, size_t *n, char *err, size_t errlen)
{
	char **v = NULL;
	size_t nv = 0;
	struct ht_buf w;

	ht_buf_init(&w, 0);
	for (;;) {
		int in_word = 0;

		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (!*s)
			break;
		ht_buf_reset(&w);
		ht_buf_add(&w, "", 0);
		while (*s && !(*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
			in_word = 1;
			if (*s == '\'') {
				const char *e = strchr(s + 1, '\'');

				if (!e) {
					snprintf(err, errlen, "unterminated ' quote");
					goto fail;
				}
				ht_buf_add(&w, s + 1, (size_t)(e - s - 1));
				s = e + 1;
			} else if (*s == '"') {
				for (s++; *s && *s != '"'; s++) {
					if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					ht_buf_add(&w, s, 1);
				}
				if (!*s) {
					snprintf(err, errlen, "unterminated \" quote");
					goto fail;
				}
				s++;
			} else if (*s == '\\' && s[1]) {
				ht_buf_add(&w, s + 1, 1);
				s += 2;
			} else {
				ht_buf_add(&w, s, 1);
				s++;
			}
		}
		if (in_word) {
			v = ht_xrealloc(v, (nv + 2) * sizeof(*v));
			v[nv++] = ht_xstrdup(w.data ? w.data : "");
			v[nv] = NULL;
		}
	}
	ht_buf_release(&w);
	if (!v)
		v = ht_xcalloc(1, sizeof(*v));
	*n = nv;
	return v;
fail:
	ht_buf_release(&w);
	if (v)
		v[nv] = NULL;
	ht_strv_free(v);
	return NULL;
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

char *ht_subst(const char *s, const struct ht_subst_var *vars, size_t nvars, int shell_quote)
{
	struct ht_buf b;

	ht_buf_init(&b, 0);
	ht_buf_add(&b, "", 0);
	while (*s) {
		size_t i, nl;
		int done = 0;

		if (*s == '{') {
			for (i = 0; i < nvars; i++) {
				nl = strlen(vars[i].name);
				if (vars[i].value && strncmp(s + 1, vars[i].name, nl) == 0 && s[1 + nl] == '}') {
					if (shell_quote) {
						char *q = ht_shell_quote(vars[i].value);

						ht_buf_addstr(&b, q);
						free(q);
					} else {
						ht_buf_addstr(&b, vars[i].value);
					}
					s += nl + 2;
					done = 1;
					break;
				}
			}
		}
		if (!done)
			ht_buf_add(&b, s++, 1);
	}
	return ht_buf_detach(&b);
}

