/*
 * provider.c: the table of built-in cloud providers, looked up by name.
 */
#include <stdlib.h>
#include <string.h>

#include "ht/provider.h"

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

const char *ht_provider_names(void)
{
	return "local, aws";
}

void ht_completion_release(struct ht_completion *c)
{
	free(c->body);
	free(c->log_tail);
	c->body = NULL;
	c->log_tail = NULL;
	c->body_len = 0;
}
