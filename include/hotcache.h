/*
 * hotcache: an in-process concurrent cache of decrypted payloads and derived KERI key
 * state, written through to RocksDB.
 *
 * This is the only public header. Every function returns 0 or a negative HC_E* code;
 * hc_strerror() names a code and hc_last_error() gives the calling thread's last
 * sentence of detail (a RocksDB message, a config file:line).
 *
 * Threads: any thread may call any function at the same time as any other, except
 * hc_close(), which must be the last call on a cache and must not race with any other.
 * Threads register themselves on first use and are released at thread exit;
 * hc_thread_detach() releases one earlier.
 */
#ifndef HOTCACHE_H
#define HOTCACHE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HC_EXPORT __attribute__((visibility("default")))
#define HC_NODISCARD __attribute__((warn_unused_result))
#else
#define HC_EXPORT
#define HC_NODISCARD
#endif

/* Error codes: 0 is success, every failure is negative. */
enum {
	HC_OK = 0,
	HC_EINVAL = -1,     /* a bad argument: NULL, empty or oversize key, bad size */
	HC_ENOMEM = -2,     /* an allocation failed; nothing was changed */
	HC_ENOTFOUND = -3,  /* no value for the key */
	HC_ERANGE = -4,     /* the caller's buffer is too small; *vlen holds the size */
	HC_EIO = -5,        /* the backing store failed; hc_last_error() has its text */
	HC_ECORRUPT = -6,   /* a record at rest failed to open; nothing was served */
	HC_EKEY = -7,       /* the key file does not match the store */
	HC_ECONFIG = -8,    /* a bad config key, value or file */
	HC_EEXIST = -9,     /* already present */
	HC_EREADONLY = -10, /* a sync failed: the store refuses writes until reopened */
	HC_ENOTSUP = -11,   /* not supported by this build or mode */
	HC_EBUSY = -12      /* a resource is held by someone else (the store's lock) */
};

/* Largest key, in bytes. */
#define HC_KEY_MAX 1024u
#define HC_PATH_MAX 1024u

enum hc_backing_mode {
	HC_BACKING_NONE = 0,   /* cache only: puts install, misses are HC_ENOTFOUND */
	HC_BACKING_ROCKSDB = 1 /* write through to RocksDB */
};

enum hc_durability {
	HC_DURABILITY_SYNC = 0, /* fsync'd WAL before a write returns */
	HC_DURABILITY_WAL = 1,  /* WAL written, not synced: survives a process crash */
	HC_DURABILITY_NONE = 2  /* no WAL */
};

/*
 * Options. Fill with hc_config_default(), then change fields directly, through
 * hc_config_set() ("section.key", value) or from a file with hc_config_load().
 * The README documents every key, its units and its range. New fields go at the end.
 */
struct hc_config {
	uint64_t memory_limit;  /* cache.memory_limit: bytes for the whole cache */
	uint32_t shards;        /* cache.shards: power of two, 0 = auto */
	uint64_t max_entry;     /* cache.max_entry: larger values are not cached */
	uint64_t expected_entries; /* cache.expected_entries: initial map size hint */
	int backing_mode;       /* backing.mode: enum hc_backing_mode */
	char backing_path[HC_PATH_MAX]; /* backing.path */
	int durability;         /* backing.durability: enum hc_durability */
	uint64_t block_cache;   /* backing.block_cache: RocksDB block cache bytes */
	uint64_t write_buffer;  /* backing.write_buffer: RocksDB memtable bytes */
	int create_if_missing;  /* backing.create: create the store if absent */
	char key_file[HC_PATH_MAX]; /* crypto.key_file: 32-byte data key */
};

typedef struct hc_cache hc_cache;

/* Counters summed over every thread; a snapshot, not an atomic cut. */
struct hc_stats {
	uint64_t hits;           /* hc_get/hc_read served from memory */
	uint64_t misses;         /* not in memory */
	uint64_t inserts;        /* entries installed */
	uint64_t evictions;      /* entries evicted by the policy */
	uint64_t deletes;        /* entries removed by hc_delete or replaced */
	uint64_t not_cached;     /* values stored but not cached (oversize, pressure) */
	uint64_t loads;          /* misses loaded from the backing store */
	uint64_t load_waits;     /* misses that waited for another thread's load */
	uint64_t corrupt;        /* records at rest that failed to open */
	uint64_t entries;        /* entries in memory now */
	uint64_t accounted_bytes; /* entry bytes + metadata + retired bytes */
	uint64_t retired_bytes;  /* removed but awaiting reclamation */
	uint64_t metadata_bytes; /* map buckets and shard structures */
	uint64_t memory_limit;   /* cache.memory_limit */
	uint64_t slack_bytes;    /* documented bound on accounted - limit */
	uint32_t shards;
};

struct hc_shard_stats {
	uint64_t hits, misses, inserts, evictions;
	uint64_t entries;
	uint64_t bytes;          /* entry bytes accounted to the shard */
	uint64_t budget;         /* the shard's share of the limit */
	uint64_t small_entries;  /* entries in the probation queue */
	uint64_t main_entries;   /* entries in the protected queue */
};

/* hc_read's callback: val is valid only during the call. */
typedef void (*hc_read_fn)(const void *val, size_t vlen, void *arg);

/* The name of a code ("HC_ENOMEM: out of memory"); never NULL. */
HC_EXPORT const char *hc_strerror(int code);
/* The calling thread's last error sentence, or "" if none. */
HC_EXPORT const char *hc_last_error(void);

/* Fills cfg with defaults. Any thread. */
HC_EXPORT void hc_config_default(struct hc_config *cfg);
/*
 * Reads an INI file into cfg. Unknown keys, bad units and out-of-range values fail with
 * HC_ECONFIG and a sentence naming file:line and the allowed range (also in err when
 * err != NULL). On failure cfg is unchanged.
 */
HC_EXPORT HC_NODISCARD int hc_config_load(struct hc_config *cfg, const char *path,
                                          char *err, size_t errlen);
/* Sets one "section.key" to a value given as text, with the file's rules. */
HC_EXPORT HC_NODISCARD int hc_config_set(struct hc_config *cfg, const char *key,
                                         const char *value, char *err, size_t errlen);

/* Opens a cache. On failure *out is NULL and nothing is left open. */
HC_EXPORT HC_NODISCARD int hc_open(const struct hc_config *cfg, hc_cache **out);
/* Flushes and frees everything. No other call may run on the cache during or after. */
HC_EXPORT void hc_close(hc_cache *cache);

/*
 * Stores val under key. With a backing store the value is sealed and written with the
 * configured durability before it is installed in memory; it returns only once
 * durable. Values larger than cache.max_entry are stored but not cached.
 * Errors: HC_EINVAL (NULL, klen 0 or > HC_KEY_MAX), HC_ENOMEM, HC_EIO, HC_EREADONLY.
 */
HC_EXPORT HC_NODISCARD int hc_put(hc_cache *cache, const void *key, size_t klen,
                                  const void *val, size_t vlen);
/*
 * Copies the value into buf. HC_ERANGE with *vlen set when cap is too small (nothing
 * copied). A miss loads from the backing store; concurrent misses on one key share
 * one load. HC_ENOTFOUND when there is no value.
 */
HC_EXPORT HC_NODISCARD int hc_get(hc_cache *cache, const void *key, size_t klen,
                                  void *buf, size_t cap, size_t *vlen);
/* Zero copy: fn(val, vlen, arg) runs with a pointer valid only during the call. */
HC_EXPORT HC_NODISCARD int hc_read(hc_cache *cache, const void *key, size_t klen,
                                   hc_read_fn fn, void *arg);
/*
 * Batched zero-copy reads: for each i < n, fn(i, status, val, vlen, arg) runs once, with
 * status 0 and the value (valid only during the call), or with status < 0 (then val is
 * NULL): HC_ENOTFOUND, HC_EINVAL for a bad key, or a load's error. Hashes every key and
 * prefetches buckets and entries before comparing, which hides DRAM latency when the
 * working set is larger than the CPU caches. Returns 0 (per-key outcomes go to fn), or
 * HC_EINVAL / HC_ENOMEM for the call itself. Misses load like hc_read.
 */
typedef void (*hc_batch_fn)(size_t i, int status, const void *val, size_t vlen, void *arg);
HC_EXPORT HC_NODISCARD int hc_read_batch(hc_cache *cache, size_t n, const void *const *keys,
                                         const size_t *klens, hc_batch_fn fn, void *arg);

/* Durable delete, then removal from memory. HC_OK even if the key was absent. */
HC_EXPORT HC_NODISCARD int hc_delete(hc_cache *cache, const void *key, size_t klen);

/* Sums the counters. */
HC_EXPORT HC_NODISCARD int hc_stats(hc_cache *cache, struct hc_stats *stats);
/* One shard's figures; HC_EINVAL when shard >= stats.shards. */
HC_EXPORT HC_NODISCARD int hc_shard_stats(hc_cache *cache, unsigned shard,
                                          struct hc_shard_stats *stats);
/* Releases the calling thread's registration now instead of at thread exit. */
HC_EXPORT void hc_thread_detach(hc_cache *cache);

#ifdef __cplusplus
}
#endif
#endif /* HOTCACHE_H */
