/*
 * ht-doctor: placeholder so the build has a tool; see docs/ht-doctor.md.
 */
#include <stdio.h>
#include "ht/ht.h"

static const struct ht_tool tool = {
	"ht-doctor", "[OPTIONS]", "Check the configuration and the sandbox, and say what to fix.", "",
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = { HT_COMMON_LONGOPTS, { 0, 0, 0, 0 } };
	int c;

	ht_diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, HT_COMMON_SHORTOPTS, longopts, NULL)) != -1)
		ht_cli_common(&tool, c, optarg);
	return ht_finish_stdout(0);
}
