/*
 * fuzz-tap.c: the TAP reader (runners/tap.c) on any bytes, fed line by line
 * as the command plugin does, then judged as an exit 0, an exit 77 and a
 * signal; the counts must add up and the message must be set.
 */
#include "ht/runner.h"
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
	char *s = fuzz_str(data, size), *line, *end;
	struct ht_tap t;
	int how;

	for (how = 0; how < 3; how++) {
		struct ht_run_result r;

		ht_tap_init(&t);
		ht_run_result_init(&r);
		r.exited = how != 2;
		r.exit_code = how == 1 ? 77 : 0;
		r.signal = how == 2 ? 9 : 0;
		for (line = s; line <= s + strlen(s); line = end + 1) {
			end = strchr(line, '\n');
			if (end)
				*end = '\0';
			ht_tap_feed(&t, line);
			if (!end)
				break;
			*end = '\n';
		}
		ht_tap_finish(&t, &r);
		FUZZ_ASSERT(r.status && r.message);
		FUZZ_ASSERT(t.passed + t.failed + t.skipped + t.todo == t.count);
		FUZZ_ASSERT(json_array_size(t.failures) <= HT_OUTCOME_MAX_FAILURES);
		ht_tap_release(&t);
		ht_run_result_release(&r);
	}
	free(s);
	return 0;
}
