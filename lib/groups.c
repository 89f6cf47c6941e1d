/*
 * groups.c: in-flight counts of capped groups of tests
 * (include/ht/groups.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ht/groups.h"
#include "ht/util.h"

void ht_groups_init(struct ht_groups *g)
{
	memset(g, 0, sizeof(*g));
}

void ht_groups_release(struct ht_groups *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->name[i]);
	free(g->name);
	free(g->max);
	free(g->inflight);
	free(g->peak);
	ht_groups_init(g);
}

int ht_groups_add(struct ht_groups *g, const char *name, long max)
{
	size_t i;

	if (!name)
		return -1;
	if (max < 1)
		max = 1;
	/* A plan has a handful of groups: a linear search is the fastest. */
	for (i = 0; i < g->n; i++) {
		if (!strcmp(g->name[i], name)) {
			if (max < g->max[i])
				g->max[i] = max;
			return (int)i;
		}
	}
	g->name = ht_xrealloc(g->name, (g->n + 1) * sizeof(*g->name));
	g->max = ht_xrealloc(g->max, (g->n + 1) * sizeof(*g->max));
	g->inflight = ht_xrealloc(g->inflight, (g->n + 1) * sizeof(*g->inflight));
	g->peak = ht_xrealloc(g->peak, (g->n + 1) * sizeof(*g->peak));
	g->name[g->n] = ht_xstrdup(name);
	g->max[g->n] = max;
	g->inflight[g->n] = 0;
	g->peak[g->n] = 0;
	return (int)g->n++;
}

int ht_groups_room(const struct ht_groups *g, int i)
{
	return i < 0 || (size_t)i >= g->n || g->inflight[i] < g->max[i];
}

void ht_groups_take(struct ht_groups *g, int i)
{
	if (i < 0 || (size_t)i >= g->n)
		return;
	if (++g->inflight[i] > g->peak[i])
		g->peak[i] = g->inflight[i];
}

void ht_groups_give(struct ht_groups *g, int i)
{
	if (i >= 0 && (size_t)i < g->n && g->inflight[i] > 0)
		g->inflight[i]--;
}
