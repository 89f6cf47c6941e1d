/*
 * fuzz-junit.c: the JUnit XML reader (runners/junit.c) on any bytes, with
 * and without every case asked for (the first byte chooses). The limits
 * of runners/outcome.h must hold, whatever the document.
 */
#include "runners/outcome.h"
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
	struct ht_junit j;
	char err[256];
	char *copy;

	if (size == 0)
		return 0;
	/* The bytes after the first, not NUL-terminated: the reader must not read
	 * past the end. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		abort();
	memcpy(copy, data + 1, size - 1);
	ht_junit_init(&j);
	j.want_cases = data[0] & 1;
	err[0] = '\0';
	if (ht_junit_parse(&j, copy, size - 1, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(json_array_size(j.failures) <= HT_OUTCOME_MAX_FAILURES);
		FUZZ_ASSERT(j.failed >= 0 && j.errors >= 0 && j.skipped >= 0 && j.tests >= 0);
		if (j.want_cases)
			FUZZ_ASSERT(json_array_size(j.cases) <= HT_JUNIT_MAX_CASES);
	} else {
		FUZZ_ASSERT(err[0] != '\0');
	}
	ht_junit_release(&j);
	free(copy);
	return 0;
}
