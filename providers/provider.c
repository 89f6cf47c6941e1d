/*
 * provider.c: the table of built-in cloud providers, looked up by name,
 * their configuration schemas for libht's config loader, the kinds of
 * bucket they bring (for ht_bucket_open), and the helpers their ht-doctor
 * checks share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht/bucket.h"
#include "ht/config.h"
#include "ht/provider.h"
#include "ht/util.h"
#include "providers/aws/settings.h"
#include "providers/local/settings.h"

static const struct ht_provider_ops *const providers[] = {
	&ht_provider_local,
	&ht_provider_aws,
	NULL,
};

const struct ht_provider_ops *ht_provider_find(const char *name)
{
	int i;

	if (!name)
		return NULL;
	for (i = 0; providers[i]; i++)
		if (!strcmp(providers[i]->name, name))
			return providers[i];
	return NULL;
}

const struct ht_config_schema *const ht_provider_schemas[] = {
	&ht_local_schema,
	&ht_aws_schema,
	NULL,
};

const struct ht_bucket_ops *const ht_bucket_kinds[] = {
	&ht_bucket_file,
	&ht_bucket_s3,
	NULL,
};

const char *ht_provider_names(void)
{
	return "local, aws";
}

void ht_check_ok(struct ht_check *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r->ok = 1;
	free(r->message);
	if (vasprintf(&r->message, fmt, ap) < 0)
		r->message = NULL;
	va_end(ap);
}

/* Sets r's outcome, message and fix. */
__attribute__((format(printf, 5, 0)))
static void check_set(struct ht_check *r, int ok, int warning, const char *fix, const char *fmt, va_list ap)
{
	r->ok = ok;
	r->warning = warning;
	free(r->message);
	if (vasprintf(&r->message, fmt, ap) < 0)
		r->message = NULL;
	free(r->fix);
	r->fix = fix ? ht_xstrdup(fix) : NULL;
}

void ht_check_fail(struct ht_check *r, const char *fix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_set(r, 0, r->warning, fix, fmt, ap);
	va_end(ap);
}

void ht_check_warn(struct ht_check *r, const char *fix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_set(r, 1, 1, fix, fmt, ap);
	va_end(ap);
}

void ht_check_release(struct ht_check *r)
{
	free(r->message);
	free(r->fix);
	json_decref(r->details);
	memset(r, 0, sizeof(*r));
}

void ht_image_tree_release(struct ht_image_tree *it)
{
	json_decref(it->manifest);
	free(it->what);
	memset(it, 0, sizeof(*it));
}

void ht_completion_release(struct ht_completion *c)
{
	free(c->body);
	free(c->log_tail);
	c->body = NULL;
	c->log_tail = NULL;
	c->body_len = 0;
}
