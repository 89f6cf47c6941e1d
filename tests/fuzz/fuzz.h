/*
 * fuzz.h: what the libFuzzer harnesses of tests/fuzz/ share (docs/fuzzing.md).
 *
 * Each harness defines LLVMFuzzerTestOneInput() and calls fuzz_quiet() once
 * from LLVMFuzzerInitialize(). Strings it returns are new (free them).
 */
#ifndef HT_FUZZ_H
#define HT_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libht's messages go to a sink: the parsers under test print an error
 * for most inputs, and a sanitizer's report goes to descriptor 2, not
 * through stdio, so it still shows. HT_FUZZ_VERBOSE=1 keeps them. */
static inline void fuzz_quiet(void)
{
	const char *v = getenv("HT_FUZZ_VERBOSE");

	if (!v || strcmp(v, "1") != 0) {
		FILE *null = fopen("/dev/null", "w");

		if (null)
			stderr = null;
	}
}

/* data as a NUL-terminated string (a NUL inside ends it early). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A property the harness checks failed: a crash libFuzzer keeps. */
#define FUZZ_ASSERT(cond)                                                               \
	do {                                                                            \
		if (!(cond)) {                                                          \
			dprintf(2, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                 \
			abort();                                                        \
		}                                                                       \
	} while (0)

#endif
