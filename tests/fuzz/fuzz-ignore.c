/*
 * fuzz-ignore.c: the ignore-file matcher (lib/ignore.c). The input is
 * pattern lines, then a line "%%", then paths to match, one a line. Each
 * path is matched as it is and with "/x" added: with no '!' line, what is
 * under a path left out is left out too (include/ht/ignore.h).
 */
#include "ht/ignore.h"
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
	char *s = fuzz_str(data, size), *line, *end;
	struct ht_ignore ig;
	int paths = 0, n = 0;

	ht_ignore_init(&ig);
	for (line = s; line && *line && n < 64; line = end ? end + 1 : NULL, n++) {
		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		if (!paths && strcmp(line, "%%") == 0) {
			paths = 1;
			continue;
		}
		if (!paths) {
			ht_ignore_add(&ig, line);
			continue;
		}
		{
			int m = ht_ignore_match(&ig, line);
			size_t len = strlen(line);
			char *under = malloc(len + 3);

			FUZZ_ASSERT(m == 0 || m == 1);
			memcpy(under, line, len);
			memcpy(under + len, "/x", 3);
			if (m && !ig.has_negations && len && line[len - 1] != '/')
				FUZZ_ASSERT(ht_ignore_match(&ig, under) == 1);
			(void)ht_ignore_descend(&ig, line);
			free(under);
		}
	}
	ht_ignore_release(&ig);
	free(s);
	return 0;
}
