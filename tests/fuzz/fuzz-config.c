/*
 * fuzz-config.c: the config loader (lib/config.c, lib/config-keys.c and,
 * for its messages, lib/config-locate.c) on any bytes as hypertest.json:
 * every key of libht, the providers and the runner plugins is checked,
 * and a config that did not load is released like one that did.
 */
#include <fcntl.h>
#include <unistd.h>

#include "ht/config.h"
#include "fuzz.h"

static char path[64];

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	fuzz_quiet();
	snprintf(path, sizeof(path), "/tmp/ht-fuzz-config-%ld.json", (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		abort();
	close(fd);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ht_config c;
	FILE *fp = fopen(path, "w");

	if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
		abort();
	if (ht_config_load(&c, path, NULL) == 0) {
		FUZZ_ASSERT(c.root && c.json);
	} else {
		FUZZ_ASSERT(c.error_code != 0);
	}
	ht_config_release(&c);
	return 0;
}
