/*
 * Forcing a key out of a cache's memory from a test, the way the policy's eviction
 * removes it: under the shard mutex, in a reclaim section, with no store write and no
 * write-version bump, so the next read misses and loads from the store. Used by
 * test_cache_flight and test_cache_fresh_rocks (through history.c) and test_cache_iofail.
 */
#ifndef HC_TESTS_UNIT_EVICT_H
#define HC_TESTS_UNIT_EVICT_H

#include "hotcache.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Removes key k's entry from c's memory. Returns whether there was one. Any thread;
 * takes the key's shard mutex, so not from inside the cache's own callbacks. */
int evict_force(hc_cache *c, const char *k);

#ifdef __cplusplus
}
#endif

#endif
