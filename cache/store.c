/* Chooses the cache's store from the config. */
#include "cache/store.h"

#include "cache/error.h"

#ifdef HC_HAVE_BACKING
int cache_store_rocksdb(struct hc_cache *c);
void cache_store_rocksdb_stats(const struct hc_cache *c, struct hc_stats *st);
#endif

void cache_store_stats(const struct hc_cache *c, struct hc_stats *st)
{
#ifdef HC_HAVE_BACKING
	if (c->backing != NULL)
		cache_store_rocksdb_stats(c, st);
#else
	(void)c;
	(void)st;
#endif
}

int cache_store_open(struct hc_cache *c)
{
	switch (c->cfg.backing_mode) {
	case HC_BACKING_NONE:
		return 0;
	case HC_BACKING_ROCKSDB:
		/* No default store: the library creates no file the caller did not name. */
		if (c->cfg.backing_path[0] == '\0')
			return hc_error_ret(HC_ECONFIG, "backing.path: must be set when backing.mode "
			                    "is rocksdb (or set backing.mode = none for a cache only)");
#ifdef HC_HAVE_BACKING
		return cache_store_rocksdb(c);
#else
		return hc_error_ret(HC_ENOTSUP, "backing.mode = rocksdb: this build has no backing store");
#endif
	default:
		return hc_error_ret(HC_ECONFIG, "backing.mode %d is unknown", c->cfg.backing_mode);
	}
}

void cache_store_set(struct hc_cache *c, const struct cache_store *store)
{
	c->store = *store;
}
