// The C adapter over RocksDB's cache API; see rocks_cache_adapter.h. Only the packaged
// public headers (rocksdb/cache.h) and librocksdb are used.
//
// A value is one malloc'ed block [size_t len][bytes], freed by the cache's deleter when
// the entry is evicted or the cache is destroyed, so a read is Lookup + Value + the
// caller's callback + Release: the same pinned zero-copy read hotcache's hc_read gives.
#include "bench/rocks_cache_adapter.h"

#include <rocksdb/cache.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

struct rc_cache {
	std::shared_ptr<rocksdb::Cache> cache;
	enum rc_kind kind;
	size_t charge; // entry_charge given to rc_open
};

namespace {

void delete_value(const rocksdb::Slice & /*key*/, void *value)
{
	std::free(value);
}

} // namespace

extern "C" struct rc_cache *rc_open(enum rc_kind kind, size_t capacity, size_t entry_charge,
                                    int shard_bits)
{
	rc_cache *c = new (std::nothrow) rc_cache;
	if (c == nullptr)
		return nullptr;
	c->kind = kind;
	c->charge = entry_charge;
	try {
		// Capacity counts value bytes only (kDontChargeCacheMetadata). With the default
		// full charge, HyperClockCache charges 64 bytes per table slot up front, and
		// its table is sized from the capacity itself, so with small values most of
		// the capacity goes to its own slots and a cache "sized for N entries" holds
		// about half of them; counting values only sizes both peers by the same rule.
		if (kind == RC_HYPERCLOCK) {
			rocksdb::HyperClockCacheOptions opts(capacity, entry_charge, shard_bits, false,
			                                     nullptr,
			                                     rocksdb::kDontChargeCacheMetadata);
			c->cache = opts.MakeSharedCache();
		} else {
			c->cache = rocksdb::NewLRUCache(capacity, shard_bits, false, 0.5, nullptr,
			                                rocksdb::kDefaultToAdaptiveMutex,
			                                rocksdb::kDontChargeCacheMetadata);
		}
	} catch (const std::exception &e) {
		std::fprintf(stderr, "rc_open: %s\n", e.what());
	}
	if (!c->cache) {
		std::fprintf(stderr, "rc_open: could not create the %s cache\n", rc_kind_name(kind));
		delete c;
		return nullptr;
	}
	return c;
}

extern "C" int rc_put(struct rc_cache *c, const unsigned char key[RC_KEY_LEN], const void *val,
                      size_t vlen)
{
	return rc_put_charged(c, key, val, vlen, vlen);
}

extern "C" int rc_put_charged(struct rc_cache *c, const unsigned char key[RC_KEY_LEN],
                              const void *val, size_t vlen, size_t charge)
{
	char *block = static_cast<char *>(std::malloc(sizeof(size_t) + vlen));
	if (block == nullptr)
		return -1;
	std::memcpy(block, &vlen, sizeof vlen);
	std::memcpy(block + sizeof vlen, val, vlen);
	rocksdb::Slice k(reinterpret_cast<const char *>(key), RC_KEY_LEN);
	rocksdb::Status s = c->cache->Insert(k, block, charge, delete_value);
	// On failure Insert has already run the deleter on block.
	return s.ok() ? 0 : -1;
}

extern "C" int rc_read(struct rc_cache *c, const unsigned char key[RC_KEY_LEN], rc_read_fn fn,
                       void *arg)
{
	rocksdb::Slice k(reinterpret_cast<const char *>(key), RC_KEY_LEN);
	rocksdb::Cache::Handle *h = c->cache->Lookup(k);
	if (h == nullptr)
		return -1;
	const char *block = static_cast<const char *>(c->cache->Value(h));
	size_t vlen;
	std::memcpy(&vlen, block, sizeof vlen);
	fn(block + sizeof vlen, vlen, arg);
	c->cache->Release(h);
	return 0;
}

extern "C" void rc_erase(struct rc_cache *c, const unsigned char key[RC_KEY_LEN])
{
	c->cache->Erase(rocksdb::Slice(reinterpret_cast<const char *>(key), RC_KEY_LEN));
}

extern "C" size_t rc_entries(const struct rc_cache *c)
{
	/* GetOccupancyCount is not implemented by every 7.8 cache (LRU returns 0): usage over
	 * the entry charge given at open (cache_bench charges every entry alike). */
	return c->charge ? c->cache->GetUsage() / c->charge : 0;
}

extern "C" size_t rc_usage(const struct rc_cache *c)
{
	return c->cache->GetUsage();
}

extern "C" const char *rc_kind_name(enum rc_kind kind)
{
	return kind == RC_HYPERCLOCK ? "hyperclock" : "lru";
}

extern "C" void rc_close(struct rc_cache *c)
{
	delete c;
}
