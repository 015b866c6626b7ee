/* Placeholder until tools/load.c lands: says so and fails. */
#include <stdio.h>

#include "tools/cli.h"

int load_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "hotcache load: not built yet\n");
	return 2;
}
