/*
 * fuzz-imageref.c: image references (lib/imageref.c) on any string. A
 * reference that parses formats to a string that parses again to the same
 * parts (the canonical form is a fixed point), and its parts are valid.
 */
#include "ht/imageref.h"
#include "fuzz.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

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
	struct ht_imageref ref, again;

	ht_imageref_init(&ref);
	ht_imageref_init(&again);
	if (ht_imageref_parse(&ref, s, size & 1 ? "latest" : NULL) == 0) {
		char *canon = ht_imageref_format(&ref);

		if (ref.kind == HT_REF_REGISTRY) {
			char *name = ht_imageref_name(&ref);

			FUZZ_ASSERT(ref.registry && ref.host && ref.repository);
			FUZZ_ASSERT(ht_repository_valid(ref.repository));
			FUZZ_ASSERT(!ref.tag || ht_tag_valid(ref.tag));
			free(name);
		}
		FUZZ_ASSERT(ht_imageref_parse(&again, canon, NULL) == 0);
		FUZZ_ASSERT(again.kind == ref.kind && same(again.registry, ref.registry) &&
			    same(again.repository, ref.repository) && same(again.tag, ref.tag) &&
			    same(again.digest, ref.digest) && same(again.dir, ref.dir));
		free(canon);
	}
	(void)ht_host_is_loopback(s);
	ht_imageref_release(&ref);
	ht_imageref_release(&again);
	free(s);
	return 0;
}
