/*
 * A C interface over RocksDB's C++ cache API (the packaged librocksdb 7.8.3), so that
 * cache_bench can drive HyperClockCache and LRUCache exactly as it drives hotcache:
 * a 16-byte key, a value copied in at insert, and a zero-copy read through a callback
 * that runs while the entry is pinned (Lookup, Value, callback, Release).
 *
 * Threads: rc_put and rc_read may be called from any number of threads at once (the
 * RocksDB caches are thread-safe); rc_open and rc_close must not race with anything.
 */
#ifndef HC_BENCH_ROCKS_CACHE_ADAPTER_H
#define HC_BENCH_ROCKS_CACHE_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RC_KEY_LEN 16

enum rc_kind {
	RC_HYPERCLOCK = 0, /* HyperClockCacheOptions(...).MakeSharedCache() */
	RC_LRU = 1         /* NewLRUCache(...) */
};

struct rc_cache;

typedef void (*rc_read_fn)(const void *val, size_t vlen, void *arg);

/*
 * capacity: bytes of charges (each entry is charged what its put says: its vlen with
 * rc_put, the given charge with rc_put_charged; the cache's own metadata is not charged,
 * kDontChargeCacheMetadata).
 * entry_charge: the charge of one entry (HyperClockCache sizes its table from it).
 * shard_bits: 2^shard_bits shards, -1 for RocksDB's default.
 * Returns NULL on failure (the reason on stderr).
 */
struct rc_cache *rc_open(enum rc_kind kind, size_t capacity, size_t entry_charge,
                         int shard_bits);
/* Copies val into a new entry charged vlen; 0, or -1 if the cache refused it. */
int rc_put(struct rc_cache *c, const unsigned char key[RC_KEY_LEN], const void *val,
           size_t vlen);
/* As rc_put, the entry charged `charge` bytes (cache_bench's mixed workload charges
 * what hotcache charges per entry: value + key + its metadata). */
int rc_put_charged(struct rc_cache *c, const unsigned char key[RC_KEY_LEN], const void *val,
                   size_t vlen, size_t charge);
/* Cache::Erase: drops the key's entry if present (no result, as RocksDB's). */
void rc_erase(struct rc_cache *c, const unsigned char key[RC_KEY_LEN]);
/* Entries in the cache now, taking every entry to be charged rc_open's entry_charge. */
size_t rc_entries(const struct rc_cache *c);
/* 0 after fn(val, vlen, arg) ran on a pinned entry; -1 on a miss. */
int rc_read(struct rc_cache *c, const unsigned char key[RC_KEY_LEN], rc_read_fn fn,
            void *arg);
/* Charged bytes in use (Cache::GetUsage). */
size_t rc_usage(const struct rc_cache *c);
/* "hyperclock" or "lru". */
const char *rc_kind_name(enum rc_kind kind);
void rc_close(struct rc_cache *c);

#ifdef __cplusplus
}
#endif
#endif /* HC_BENCH_ROCKS_CACHE_ADAPTER_H */
