/*
 * runner.c: the table of test-runner plugins and what they share: test
 * lists, run results and the failures of their outcome readers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/config.h"
#include "ht/diag.h"
#include "ht/runner.h"
#include "ht/text.h"
#include "ht/util.h"
#include "runners/command.h"
#include "runners/outcome.h"

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

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(r->message);
	/* One line of at most 1000 bytes, valid UTF-8. */
	r->message = s ? ht_oneline(s, strlen(s), HT_OUTCOME_MAX_FIELD) : ht_xstrdup("");
	free(s);
}

/* --- failures of an outcome ------------------------------------------------ */

void ht_outcome_add_failure(json_t *failures, const char *name, const char *classname, const char *message,
			    const char *kind)
{
	json_t *o;

	if (json_array_size(failures) >= HT_OUTCOME_MAX_FAILURES)
		return;
	o = json_object();
	json_object_set_new(o, "name", json_string(name));
	if (classname && *classname)
		json_object_set_new(o, "classname", json_string(classname));
	json_object_set_new(o, "message", json_string(message ? message : ""));
	if (kind)
		json_object_set_new(o, "kind", json_string(kind));
	json_array_append_new(failures, o);
}
