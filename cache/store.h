/*
 * The cache's write-through store: chosen from backing.mode at hc_open (none: no
 * store; rocksdb: backing/), or set by a test before first use.
 */
#ifndef HC_CACHE_STORE_H
#define HC_CACHE_STORE_H

#include "cache/cache.h"

/* Opens the store c->cfg asks for into c->store. hc_open only. */
HC_NODISCARD int cache_store_open(struct hc_cache *c);
/* Fills the store_* fields of st (zeros without a store). Any thread. */
void cache_store_stats(const struct hc_cache *c, struct hc_stats *st);
/*
 * Test seam: replaces the store of a cache opened with backing.mode = none. Call
 * before any other use of the cache, from the thread that opened it.
 */
void cache_store_set(struct hc_cache *c, const struct cache_store *store);

#endif
