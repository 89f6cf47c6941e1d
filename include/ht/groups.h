/*
 * groups.h: ht-invoke's bookkeeping of the concurrency caps of groups of
 * tests (the `group` and `group_max` of ht.test/1 records, which ht-plan
 * writes from the config's "groups"; docs/scheduling.md#groups-and-caps):
 * how many attempts of each group are in flight, so that the pull queue
 * skips a test whose group is full and takes the next.
 *
 * Ownership: struct ht_groups owns its names; arguments are borrowed.
 */
#ifndef HT_GROUPS_H
#define HT_GROUPS_H

#include <stddef.h>

struct ht_groups {
	char **name;
	long *max;      /* the cap: the smallest group_max seen for the name */
	long *inflight; /* attempts running now */
	long *peak;     /* the most that ran at once */
	size_t n;
};

void ht_groups_init(struct ht_groups *g);
void ht_groups_release(struct ht_groups *g);
/* The index of the group called name (added when new, with cap max), or
 * -1 when name is NULL: no group, no cap. */
int ht_groups_add(struct ht_groups *g, const char *name, long max);
/* 1 when one more attempt of group i (-1: none) may start now. */
int ht_groups_room(const struct ht_groups *g, int i);
/* An attempt of group i starts, or ends. */
void ht_groups_take(struct ht_groups *g, int i);
void ht_groups_give(struct ht_groups *g, int i);

#endif
