/* The README's embedding example: a cache-only hotcache, one put and one get. */
#include <hotcache.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct hc_config cfg;
	hc_config_default(&cfg);
	char err[256];
	/* The store's directory; its data key goes beside it (<dir>.key). */
	const char *dir = argc > 1 ? argv[1] : "hotcache.db";
	if (hc_config_set(&cfg, "cache.memory_limit", "64 MiB", err, sizeof err) != 0 ||
	    hc_config_set(&cfg, "backing.path", dir, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	hc_cache *c;
	if (hc_open(&cfg, &c) != 0) {
		fprintf(stderr, "hc_open: %s\n", hc_last_error());
		return 1;
	}
	char buf[64];
	size_t n;
	if (hc_put(c, "key", 3, "value", 5) != 0 || hc_get(c, "key", 3, buf, sizeof buf, &n) != 0) {
		fprintf(stderr, "%s\n", hc_last_error());
		return 1;
	}
	printf("%.*s\n", (int)n, buf);
	hc_close(c);
	return 0;
}
