/*
 * fuzz-www-auth.c: WWW-Authenticate challenges (lib/registry-auth.c), the
 * header value a registry sends with a 401, on any string.
 */
#include "ht/registry.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	char *scheme, *realm, *service, *scope;

	if (ht_registry_parse_challenge(s, &scheme, &realm, &service, &scope) == 0) {
		FUZZ_ASSERT(scheme && *scheme);
		/* Nothing longer than what it came from. */
		FUZZ_ASSERT(strlen(scheme) <= size && (!realm || strlen(realm) <= size) &&
			    (!service || strlen(service) <= size) && (!scope || strlen(scope) <= size));
	} else {
		FUZZ_ASSERT(!scheme && !realm && !service && !scope);
	}
	free(scheme);
	free(realm);
	free(service);
	free(scope);
	free(s);
	return 0;
}
