/*
 * A host program as a daemon would be built: linked only through pkg-config's flags for
 * hotcache. Checks that embedding hotcache leaves the host's allocator alone (malloc
 * is still the C library's) and that the cache's accounted bytes stay within its limit
 * on that allocator, then prints the library's version for run.sh to compare.
 * Usage: host STORE_DIR
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <hotcache.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
	printf("host: %s: %s\n", what, hc_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	Dl_info di;
	if (dladdr((void *)malloc, &di) == 0 || di.dli_fname == NULL ||
	    strstr(di.dli_fname, "libc.so") == NULL) {
		printf("host: malloc comes from %s, not the C library\n",
		       di.dli_fname ? di.dli_fname : "?");
		return 1;
	}
	if (dlsym(RTLD_DEFAULT, "mallocx") != NULL) {
		printf("host: jemalloc was loaded into the process\n");
		return 1;
	}
	struct hc_config cfg;
	char err[256];
	hc_config_default(&cfg);
	if (hc_config_set(&cfg, "cache.memory_limit", "4 MiB", err, sizeof err) != 0 ||
	    hc_config_set(&cfg, "cache.max_entry", "16 KiB", err, sizeof err) != 0 ||
	    hc_config_set(&cfg, "backing.mode", "rocksdb", err, sizeof err) != 0 ||
	    hc_config_set(&cfg, "backing.path", argv[1], err, sizeof err) != 0 ||
	    hc_config_set(&cfg, "backing.durability", "none", err, sizeof err) != 0) {
		printf("host: %s\n", err);
		return 1;
	}
	hc_cache *c;
	if (hc_open(&cfg, &c) != 0)
		return fail("hc_open");
	static char val[3000];
	uint64_t max = 0;
	struct hc_stats st;
	for (int i = 0; i < 8000; i++) {
		char key[32];
		int kl = snprintf(key, sizeof key, "key-%d", i);
		memset(val, 'a' + i % 26, sizeof val);
		if (hc_put(c, key, (size_t)kl, val, 500 + (size_t)(i * 37) % 2500) != 0)
			return fail("hc_put");
		if (hc_stats(c, &st) != 0)
			return fail("hc_stats");
		if (st.accounted_bytes > max)
			max = st.accounted_bytes;
		if (st.accounted_bytes > st.memory_limit) {
			printf("host: accounted %llu > limit %llu after %d puts\n",
			       (unsigned long long)st.accounted_bytes,
			       (unsigned long long)st.memory_limit, i + 1);
			return 1;
		}
	}
	if (st.evictions == 0) {
		printf("host: no evictions: the run did not fill the cache\n");
		return 1;
	}
	hc_close(c);
	printf("%s %s %llu %llu\n", hc_version(NULL, NULL, NULL), di.dli_fname,
	       (unsigned long long)max, (unsigned long long)st.memory_limit);
	return 0;
}
