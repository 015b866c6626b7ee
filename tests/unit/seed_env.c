/*
 * HC_TEST_HASH_SEED=N in a test's environment: every cache the test opens seeds its
 * keyed hash with N (cache_fix_seed) instead of randombytes, so that a failure which
 * depends on where keys land (shards, index groups, sketch counters) replays. Linked
 * into every hc_test; without the variable it does nothing and caches keep their
 * random seeds. `make seed-sweep` runs the tests over a range of seeds
 * (tests/tools/seed_sweep.sh). Not for tests that need two caches to differ in seed
 * (test_hostile_keys): the sweep leaves those out.
 *
 * cache_fix_seed is referenced weakly: a test that does not link the cache (the map's,
 * reclamation's) resolves it to NULL and the variable is ignored there.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void cache_fix_seed(uint64_t seed) __attribute__((weak));

__attribute__((constructor)) static void seed_from_env(void)
{
	const char *v = getenv("HC_TEST_HASH_SEED");
	if (v == NULL || *v == '\0' || cache_fix_seed == NULL)
		return;
	char *end;
	errno = 0;
	unsigned long long s = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0') {
		fprintf(stderr, "HC_TEST_HASH_SEED=%s: not a decimal number\n", v);
		exit(2);
	}
	fprintf(stderr, "HC_TEST_HASH_SEED=%llu: every cache opened here uses this hash seed\n",
	        s);
	cache_fix_seed((uint64_t)s);
}
