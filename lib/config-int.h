/*
 * config-int.h: what lib/config.c (loading) and lib/config-keys.c (the
 * key tables, the plugins' schemas, checking values) share. Not API.
 */
#ifndef HT_CONFIG_INT_H
#define HT_CONFIG_INT_H

#include <stddef.h>

#include <jansson.h>

#include "ht/config.h"

/* At most this many steps in a key path (sections nest two deep). */
#define MAX_STEPS 8

/* What check_value found wrong, and where inside the value. */
struct verr {
	char msg[512];
	char sub[160];  /* "[2]" or ".NAME" after the key path, or "" */
	long index;     /* the element, when sub is "[N]" */
	const char *member; /* the member, when sub is ".NAME"; borrowed */
	int at_key;     /* point at the member's key rather than its value */
};

/* The plugins' schemas, in the order of their slots (ext[]), after
 * ht_cfg_keys_init(). */
extern const struct ht_config_schema *ht_cfg_schemas[HT_CONFIG_MAX_SCHEMAS];
extern size_t ht_cfg_n_schemas;
extern const char ht_cfg_credentials_advice[];

/* Builds the merged key table once (thread-safe). */
void ht_cfg_keys_init(void);
/* Calls fn for every stored key (sections excluded) of libht and of each
 * schema whose settings c has, with the block it is stored in. */
void ht_cfg_each_stored(struct ht_config *c, void (*fn)(struct ht_config *c, const struct ht_config_key *k,
							char *base, void *ud), void *ud);
int ht_cfg_is_credential(const char *name);
int ht_cfg_is_env_name(const char *s);
const char *ht_cfg_last_segment(const char *path);
/* The key to suggest for an unknown name in section parent, or NULL. */
const char *ht_cfg_suggest(const char *parent, const char *name);
/* Checks v (borrowed) against k: 0, or -1 with e filled in. */
int ht_cfg_check_value(const struct ht_config_key *k, json_t *v, struct verr *e);
/* A value given as text (HT_*, --set, a default), parsed by k's type: a
 * new reference, or NULL with e->msg set. */
json_t *ht_cfg_parse_text(const struct ht_config_key *k, const char *s, struct verr *e);
/* The computed default of k from the values set so far: a new reference,
 * or NULL. */
json_t *ht_cfg_computed_default(const struct ht_config_key *k, json_t *vals);

#endif
