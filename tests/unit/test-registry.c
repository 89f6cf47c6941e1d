/*
 * test-registry.c: the WWW-Authenticate challenge parser and the exit
 * codes of transfers that got no answer.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ht/exit.h"
#include "lib/registry-int.h"
#include "tap.h"

static void challenge(const char *value, int want_rc, const char *scheme, const char *realm,
		      const char *service, const char *scope, const char *name)
{
	char *s = NULL, *r = NULL, *sv = NULL, *sc = NULL;
	int rc = ht_registry_parse_challenge(value, &s, &r, &sv, &sc);
	int good = rc == want_rc;

	if (want_rc == 0)
		good = good && s && strcmp(s, scheme) == 0 && (realm ? r && strcmp(r, realm) == 0 : !r) &&
		       (service ? sv && strcmp(sv, service) == 0 : !sv) &&
		       (scope ? sc && strcmp(sc, scope) == 0 : !sc);
	ok(good, name);
	free(s);
	free(r);
	free(sv);
	free(sc);
}

static void test_challenge(void)
{
	challenge("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		  "scope=\"repository:library/alpine:pull\"", 0, "Bearer", "https://auth.docker.io/token",
		  "registry.docker.io", "repository:library/alpine:pull", "challenge: Docker Hub's");
	challenge("Basic realm=\"Registry Realm\"", 0, "Basic", "Registry Realm", NULL, NULL,
		  "challenge: Basic with a quoted realm");
	challenge("  bearer  Realm = tok , scope=\"a b\"", 0, "bearer", "tok", NULL, "a b",
		  "challenge: spaces, case, a bare token value");
	challenge("Bearer realm=\"a\\\"b\",realm=\"second\",error=\"invalid_token\"", 0, "Bearer", "a\"b",
		  NULL, NULL, "challenge: escapes; the first realm wins; others are ignored");
	challenge("Basic", 0, "Basic", NULL, NULL, NULL, "challenge: a scheme alone");
	challenge("", -1, NULL, NULL, NULL, NULL, "challenge: empty is none");
	challenge(NULL, -1, NULL, NULL, NULL, NULL, "challenge: absent is none");
}

static void test_transport_exit(void)
{
	is_int(ht_registry_transport_exit(CURLE_COULDNT_CONNECT), HT_EXIT_UNAVAILABLE, "exit: refused");
	is_int(ht_registry_transport_exit(CURLE_COULDNT_RESOLVE_HOST), HT_EXIT_UNAVAILABLE, "exit: no such host");
	is_int(ht_registry_transport_exit(CURLE_UNSUPPORTED_PROTOCOL), HT_EXIT_PROTOCOL,
	       "exit: a redirect to another protocol");
	is_int(ht_registry_transport_exit(CURLE_WRITE_ERROR), HT_EXIT_IOERR, "exit: the store refused a write");
	is_int(ht_registry_transport_exit(CURLE_RECV_ERROR), HT_EXIT_TEMPFAIL, "exit: cut off");
	is_int(ht_registry_transport_exit(CURLE_OPERATION_TIMEDOUT), HT_EXIT_TEMPFAIL, "exit: stalled");
}

int main(void)
{
	test_challenge();
	test_transport_exit();
	return tap_done();
}
