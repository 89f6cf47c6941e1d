/*
 * registry-int.h: what the files of the registry client share:
 * registry.c (set up, manifests, errors), registry-auth.c (challenges,
 * tokens) and registry-blob.c (blob transfers). Not for use elsewhere.
 *
 * Strings returned are new; those marked a secret are freed with
 * ht_registry_free_secret().
 */
#ifndef HT_REGISTRY_INT_H
#define HT_REGISTRY_INT_H

#include "ht/http.h"
#include "ht/registry.h"

/* Largest error document or header block kept from an answer. */
#define HT_REGISTRY_ERR_BODY_MAX (64 * 1024)

/* Wipes and frees s (NULL is fine). */
void ht_registry_free_secret(char *s);

/*
 * The Authorization header line for a request in scope, or NULL when none
 * is to be sent; fetches a token when a Bearer realm is known and the
 * cached one is missing or expired. New string, a secret. *err is -1 (the
 * reason printed, r->exit set) when a token was needed and not had.
 */
char *ht_registry_auth_header(struct ht_registry *r, const char *scope, int *err);

/*
 * Learns from a 401 answer (its WWW-Authenticate) how to authenticate.
 * sent says whether the request carried credentials, refused how many
 * times they were refused for this request already. Returns 0 when the
 * request is worth repeating, -1 (with a message, r->exit) when not.
 */
int ht_registry_unauthorized(struct ht_registry *r, const struct ht_http_resp *resp, const char *scope,
			     int sent, int refused);

/* Sets r->exit from status and prints "WHAT: 'REGISTRY' answered STATUS:
 * what the registry said". Returns -1. */
int ht_registry_status_error(struct ht_registry *r, const char *what, long status, const struct ht_buf *body);

/* The exit code fitting a request that got no answer (its CURLcode). */
int ht_registry_transport_exit(int curl_code);

#endif
