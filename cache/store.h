/*
 * The cache's write-through store: chosen from backing.mode at hc_open (none: no
 * store; rocksdb: backing/), or set by a test before first use.
 */
#ifndef HC_CACHE_STORE_H
#define HC_CACHE_STORE_H

#include "cache/cache.h"

/* Opens the store c->cfg asks for into c->store. hc_open only. */
HC_NODISCARD int cache_store_open(struct hc_cache *c);
/* RocksDB checksum failures the store has seen (0 without a store). Any thread. */
uint64_t cache_store_corrupt(const struct hc_cache *c);
/*
 * Test seam: replaces the store of a cache opened with backing.mode = none. Call
 * before any other use of the cache, from the thread that opened it.
 */
void cache_store_set(struct hc_cache *c, const struct cache_store *store);

#endif
