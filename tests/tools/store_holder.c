/*
 * Test helper for test_cli.sh: holds a store open as primary, as a daemon would.
 * usage: store_holder DIR — opens DIR (which must exist) as primary, writes one payload
 * ("held" = "yes"), prints "ready" and waits for end of input on stdin, then closes.
 * Exit status 0, or 1 after a line on stderr.
 */
#include <stdio.h>
#include <string.h>

#include "hotcache.h"

int main(int argc, char **argv)
{
	struct hc_config cfg;
	char err[512];
	hc_cache *c = NULL;

	if (argc != 2) {
		fprintf(stderr, "usage: store_holder DIR\n");
		return 1;
	}
	hc_config_default(&cfg);
	if (hc_config_set(&cfg, "backing.path", argv[1], err, sizeof(err)) != 0 ||
	    hc_config_set(&cfg, "backing.create", "false", err, sizeof(err)) != 0) {
		fprintf(stderr, "store_holder: %s\n", err);
		return 1;
	}
	if (hc_open(&cfg, &c) != 0 || hc_put(c, "held", 4, "yes", 3) != 0) {
		fprintf(stderr, "store_holder: %s\n", hc_last_error());
		hc_close(c);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (getchar() != EOF)
		;
	hc_close(c);
	return 0;
}
