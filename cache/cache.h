/*
 * cache/: shards, the S3-FIFO/TinyLFU CLOCK policy under a byte budget, single-flight loads,
 * freshness, and the public API (hotcache.c).
 *
 * Layout of one entry, one allocation from the seam in reclaim/alloc.h:
 *   [struct item: klen | vlen | freq][key bytes][value bytes][pad to 8][struct entry]
 * The item comes first and is what the shard's index (map/index.h) points to: a hit
 * reads the index group's line, then the item's first line, where the key lengths and
 * the key are, and the value follows. The item is read-only once published, but for
 * freq (see policy_touch). The writer-owned policy state (struct entry: queue links,
 * hash, charge, queue, shard, and the reclaim node once retired) sits after the value,
 * never between the item's start and its key; it is what policy.c handles.
 * A DRAM hit thus misses on the group line and the item's first line; a reader of the
 * value also on the value's first line when it starts on the next line (with 16-byte
 * keys and 64-byte values, the half of the items that start 32 bytes into a line):
 * 2.5 first-level misses per hit in cache_bench's 1M-key case (cachegrind), against
 * HyperClockCache's two (its slot, then the value it points to).
 *
 * Concurrency, in one paragraph: readers (hc_get/hc_read hits) take no lock: an epoch
 * section, an index lookup, a copy or callback, and at most one relaxed store to the
 * item's freq when it is below its cap. Writers of a shard (install, replace, delete,
 * evict) hold the shard mutex, so the shard's queues and byte counts are plain fields
 * guarded by it, and the index has the one writer its design needs (map/index.h:
 * lookups are lock-free, writes are serialised by this mutex). With a store (or a loader),
 * writers of one key additionally hold the key's stripe write mutex across the
 * write-through and the install, so the store's order of writes to a key is the
 * cache's order (see freshness in hotcache.c); with neither, the shard mutex alone
 * orders them.
 *
 * Lock ranks (reclaim/lockrank.h, checked in debug and sanitizer builds: a mutex taken
 * out of order aborts): stripe.wmu (1) before shard.mu (2) before stripe.mu (3), then
 * reclaim's poll (4) and registration (5) mutexes; no I/O under shard.mu or stripe.mu.
 * Callbacks (hc_read's, hc_read_batch's) run with no mutex held.
 */
#ifndef HC_CACHE_H
#define HC_CACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "hotcache.h"
#include "map/index.h"
#include "reclaim/reclaim.h"

enum { Q_NONE = 0, Q_SMALL = 1, Q_MAIN = 2 };
#define ENTRY_FREQ_MAX 3

/* What readers see of an entry, and what the index points to: read-only once published
 * (the index's release store of the pointer publishes it), but for freq. klen first:
 * the index reads it (uint32_t at offset 0) and the key (at offset 12) on the item's
 * first line. */
struct item {
	uint32_t klen;
	uint32_t vlen;
	/* Hits since last aged, capped at ENTRY_FREQ_MAX: written by hits (relaxed, racy by
	 * design, only while below the cap) and by the policy's aging under the shard mutex.
	 * The one byte of the item that changes: it shares the key's line, so a hit
	 * reads no other line for it, at the price of dirtying that line while a
	 * key climbs to the cap (not once it is there) and when the CLOCK hand ages it. */
	_Atomic uint8_t freq;
	uint8_t pad[3];
	/* key bytes (klen), then value bytes (vlen) */
};
_Static_assert(sizeof(struct item) == 12, "the key starts at offset 12");

/* The policy's part of an entry, at the end of its allocation (after the value, 8-byte
 * aligned): written only by the shard's writers under the shard mutex. */
struct entry {
	union {
		struct {
			struct entry *prev, *next; /* queue links, under the shard mutex */
		} q;
		struct {
			uint64_t links_[2];
			uint64_t hash;     /* key_hash of the key: the index's and the sketch's */
			/* item_of(u.q.next), set and cleared with that link (under the shard
			 * mutex): make_room prefetches the next entry's item line (its freq)
			 * together with the entry, two lines in parallel instead of one after
			 * the other. In the 16 bytes the live entry leaves of rn. */
			struct item *next_item;
		};
		struct reclaim_node rn;  /* once retired (out of the queues and the index) */
	} u;
	uint32_t charge;             /* mem_charge of the whole allocation */
	uint32_t off;                /* bytes from the item's start to this struct */
	uint16_t shard;
	uint8_t queue;               /* Q_*, under the shard mutex */
	uint8_t ghost;               /* 1: installed within the ghost's window of its eviction
	                              * from SMALL, not yet confirmed; under the mutex */
	uint32_t seen;               /* sketch clock at the key's last access the policy saw
	                              * (its install, promotion or latest aging); under the
	                              * mutex */
};
_Static_assert(sizeof(struct entry) == 56, "the policy's part of an entry");

static inline size_t entry_off(uint32_t klen, size_t vlen)
{
	return (sizeof(struct item) + klen + vlen + 7) & ~(size_t)7;
}
static inline struct item *item_of(const struct entry *e)
{
	return (struct item *)((char *)e - e->off);
}
static inline struct entry *entry_of(const struct item *it)
{
	return (struct entry *)((char *)it + entry_off(it->klen, it->vlen));
}
static inline const unsigned char *item_key(const struct item *it)
{
	return (const unsigned char *)(it + 1);
}
static inline unsigned char *item_val(struct item *it)
{
	return (unsigned char *)(it + 1) + it->klen;
}
static inline const unsigned char *entry_key(const struct entry *e)
{
	return item_key(item_of(e));
}
static inline unsigned char *entry_val(struct entry *e)
{
	return item_val(item_of(e));
}
static inline uint32_t entry_vlen(const struct entry *e)
{
	return item_of(e)->vlen;
}

struct queue {
	struct entry *head, *tail; /* head = oldest */
	struct item *head_item;    /* item_of(head), kept with it (entry.u.next_item) */
	uint64_t bytes, count;
};

/* The frequency sketch (policy.c): a count-min sketch of 4 rows of `mask + 1` 4-bit
 * counters, two to a byte, in 64-byte blocks (64-byte aligned) each holding 32
 * counters of every row, a key's four in one block; every counter halves after
 * 10 * entries additions (the clock and halved_at date the latest halving for the
 * halving's grace). Under the shard mutex. */
struct sketch {
	uint8_t *cnt;
	uint32_t mask;   /* width - 1, width a power of two */
	uint8_t bits;    /* log2(width) */
	uint64_t added;  /* additions since the last halving */
	uint32_t clock;  /* additions so far (wrapping): the entries' `seen` stamps */
	uint32_t halved_at; /* clock at the last halving */
	uint8_t halved;  /* 1 once a halving has happened */
	uint64_t halvings; /* halvings so far (tests: what the walks cost) */
};

/* SMALL's sizing (policy.c), under the shard mutex. */
struct climber {
	uint64_t hits, misses; /* the shard's counters when the sample began */
	double prev_rate;      /* the previous sample's hit ratio; < 0 before the first */
	double step;           /* the next drift down of small_target, a share of budget */
	unsigned installs;     /* installs since the counters were last read */
	unsigned grown;        /* SMALL ghost hits confirmed in this sample */
	unsigned returns;      /* installs of keys SMALL evicted within RETURN_WINDOW of the
	                        * entries' evictions from SMALL, since the sample began */
};

/* Keys evicted from SMALL lately (policy.c), under the shard mutex: buckets of
 * GHOST_WAYS slots, each fingerprint << 32 | stamp; 0 is an empty slot. */
struct ghost {
	uint64_t *slot;
	uint32_t mask;        /* buckets - 1 */
	uint8_t bits;         /* log2(buckets) */
	uint32_t evicted;     /* evictions from SMALL: the stamps' clock */
};

struct shard {
	/* Read by every lookup: kept apart from what writers change (the index aligns
	 * its read-mostly fields first and its writer's on a line of their own). */
	struct index ix;
	/* Written by the shard's writers, under mu. */
	_Alignas(64) pthread_mutex_t mu;
	struct queue small, main;
	struct sketch sketch;
	struct climber climb;
	struct ghost ghost;
	uint64_t small_target;     /* SMALL's share of budget, in bytes (ghost hits, drift) */
	uint64_t budget;           /* entry bytes + index table */
	uint64_t retire_allow;     /* retired bytes allowed on top of the budget */
	_Atomic uint64_t bytes;    /* entry bytes now: written under mu, read by stats */
	/* This shard's retired, not yet freed bytes (entries and index tables):
	 * retired_pending(&s->retired); added to under mu only. */
	struct retired_count retired;
	_Atomic uint64_t reserve;  /* index_growth_reserve, published under mu for shard_fits */
	/* Written only under mu (shard_tally: a load and a store, no locked add, which
	 * would wait for the critical section's earlier stores), read by stats. */
	_Atomic uint64_t inserts, evictions, replaced;
	/* Set at init; index is read by every lookup (its hit and miss counters): a line
	 * apart from the writers' fields above. */
	_Alignas(64) struct hc_cache *cache;
	uint16_t index;
	uint64_t policy_bytes;     /* the sketch's and the ghost's charges, off the budget */
} __attribute__((aligned(64)));

/*
 * What a loader hands to the misses that waited on its flight: allocated by the first
 * waiter, filled by the loader after it unregistered the flight (no waiter can join
 * then), published by done = 1 under the stripe mutex; read-only after that. The last
 * waiter to leave frees it.
 */
struct flight_share {
	unsigned waiters; /* under stripe.mu */
	int done;         /* under stripe.mu */
	int rc;           /* the load's outcome: 0, HC_ENOTFOUND or an error */
	void *val;        /* rc == 0: a copy of the value */
	size_t vlen;
	char err[256];    /* rc an error: the loader's hc_last_error() */
};

/* A single-flight load in progress; lives on the loader's stack, registered in its
 * stripe from before the store is read until the outcome is known. */
struct flight {
	struct flight *next;
	uint64_t hash;
	const void *key;
	size_t klen;
	/* Set (under stripe.mu) by a write of this key acknowledged after the load began:
	 * its value must not be installed, nor handed to a get that starts later. Read by
	 * the loader under the shard mutex (see freshness in hotcache.c): relaxed, the
	 * mutexes order it. */
	_Atomic int stale;
	struct flight_share *share; /* under stripe.mu; NULL until a miss waits */
};

struct stripe {
	pthread_mutex_t wmu;      /* rank 1: writers of the stripe's keys, across I/O */
	pthread_mutex_t mu;       /* rank 3: flights */
	pthread_cond_t cv;
	struct flight *flights;
} __attribute__((aligned(64)));

/* The write-through store seen by the cache: RocksDB (backing/) or a test's. */
struct cache_load {
	/* Returns where the loader writes vlen plaintext bytes, or NULL (out of memory). */
	void *(*alloc)(struct cache_load *ld, size_t vlen);
	void *arg;
};
struct cache_store {
	void *ctx;
	int (*put)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen);
	int (*del)(void *ctx, const void *key, size_t klen);
	/* HC_ENOTFOUND, or 0 after writing the value through ld->alloc; errors as HC_E*. */
	int (*load)(void *ctx, const void *key, size_t klen, struct cache_load *ld);
	void (*close)(void *ctx);
};

/* hc_stats' figures (the library's struct) without its opportunistic reclamation
 * poll: takes no lock of the cache's, allocates nothing, registers no thread (the
 * metrics' walk, hotcache.h). */
void cache_stats_quiet(struct hc_cache *c, struct hc_stats *st);

/* Per-thread counters, kept on the reclaim records (summed by hc_stats). */
enum {
	C_LOADS, C_LOAD_WAITS, C_CORRUPT, C_NOT_CACHED, C_DELETES,
	C_LOAD_NOT_FOUND, C_LOAD_FAILURES, C_LOAD_NANOS,
	/* Writers' costs (hc_stats' write_waits .. shard_lock_hold_nanos): waits for
	 * reclamation before an install, then the shard mutex taken by writers and
	 * loaders, its wait and hold times in cache_ticks. */
	C_WRITE_WAITS, C_WRITE_WAIT_TICKS, C_SHARD_LOCKS, C_SHARD_WAIT_TICKS,
	C_SHARD_HOLD_TICKS,
	C_GLOBAL_COUNT
};
enum { CS_HITS, CS_MISSES, CS_PER_SHARD };

#define STRIPES 1024u

struct hc_cache {
	struct hc_config cfg;
	struct reclaim rc;
	struct map_seed seed;
	unsigned nshards;
	struct shard *shards;
	struct stripe *stripes;
	struct cache_store store;  /* store.put == NULL: backing.mode = none */
	struct backing *backing;   /* backing.mode = rocksdb: the store (else NULL) */
	struct hc_cache *ks;       /* key states (kel.c); NULL without a backing store */
	struct kel_escrow *esc;    /* local prefixes, escrow counters (kel_escrow.c) */
	uint64_t fixed_meta;       /* shards, stripes */
	uint64_t ticks0, ns0;      /* cache_ticks and CLOCK_MONOTONIC at hc_open: the rate
	                            * hc_stats converts tick counters to ns with */
	struct hc_cache *open_next; /* the open caches, for fork (hotcache.c) */
};

/* A cheap clock for the writers' counters: the TSC on x86 (about 20 cycles; constant
 * rate on every x86 this runs on), converted to ns by hc_stats with the rate measured
 * since hc_open; CLOCK_MONOTONIC ns elsewhere. */
#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t cache_ticks(void)
{
	return __rdtsc();
}
#else
static inline uint64_t cache_ticks(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}
#endif

/* Shards take the hash's low bits (the index's home groups take its top bits, its tags
 * bits 24..30), stripes bits 24..33, so shard and group choices are independent. */
static inline struct shard *shard_of(struct hc_cache *c, uint64_t hash)
{
	return &c->shards[hash & (c->nshards - 1)];
}
static inline struct stripe *stripe_of(struct hc_cache *c, uint64_t hash)
{
	return &c->stripes[(hash >> 24) & (STRIPES - 1)];
}
static inline size_t counter_index(unsigned shard, unsigned which)
{
	return C_GLOBAL_COUNT + (size_t)shard * CS_PER_SHARD + which;
}

/*
 * The durable half of a write, run by cache_write under the key's stripe write mutex
 * (so writes of one key are ordered): returns 0 with *val and *vlen set to the value to
 * install (valid until cache_write returns), CACHE_WRITE_REMOVE to drop the key from
 * memory, CACHE_WRITE_NOOP when there was nothing to write, or a negative HC_E* code when nothing was written (nothing changes then).
 */
typedef int cache_durable_fn(void *ctx, const void **val, size_t *vlen);
#define CACHE_WRITE_REMOVE 1
#define CACHE_WRITE_NOOP 2 /* nothing written, nothing to change in memory */
/*
 * Runs durable() under the key's stripe write mutex, marks the key's flights stale
 * (fencing out loads that read the store earlier), then installs the value (or removes
 * the key) under the shard mutex. With a store, a value that cannot be cached removes
 * the key's old entry and the write still succeeds; cache-only, it fails with HC_ENOMEM
 * or HC_EBUSY and changes nothing. Any thread; blocking (the store's I/O).
 */
HC_NODISCARD int cache_write(struct hc_cache *c, const void *key, size_t klen,
                             cache_durable_fn *durable, void *ctx);

/* Bench and test seam, not in hotcache.h (the shared library does not export it): every
 * hc_open after this call seeds its keyed hash with (seed, ~seed) instead of
 * randombytes, so a replay places keys in the same shards and sketch counters on every
 * run (bench/hitratio's --hash-seed). cache_fix_seed_off restores random seeds. Call
 * from one thread, with no hc_open running. */
void cache_fix_seed(uint64_t seed);
void cache_fix_seed_off(void);

/* policy.c: the shard's S3-FIFO queues with TinyLFU admission. All but policy_touch
 * need the shard mutex. */
HC_NODISCARD int shard_init(struct shard *s, struct hc_cache *c, unsigned index,
                            uint64_t total, uint64_t expected);
void shard_destroy(struct shard *s);
/* Records a hit: a relaxed store only when freq is below its cap (the item's first
 * line, which the hit has just read). Any thread. */
static inline void policy_touch(struct item *it)
{
	uint8_t f = atomic_load_explicit(&it->freq, memory_order_relaxed);
	if (f < ENTRY_FREQ_MAX)
		atomic_store_explicit(&it->freq, (uint8_t)(f + 1), memory_order_relaxed);
}
/*
 * Admits e (HC_EBUSY, nothing changed, when retired bytes leave no room; HC_ERANGE,
 * nothing changed, when e does not fit the shard beside its index even with no other
 * entry: shard_holds), makes room for it (evicting, bounded work) and links e in the
 * index (replacing any entry of its key when replace != 0; with replace == 0 an
 * existing entry wins and HC_EEXIST is returned) and the queues. HC_ENOMEM when the
 * index cannot grow: e is not linked then. Shard mutex held; inside a reclaim section.
 */
HC_NODISCARD int shard_install_locked(struct shard *s, struct reclaim_thread *t,
                                      struct entry *e, int replace);
/* Whether an install of need bytes would be admitted now (see policy.c). Any thread;
 * a snapshot, for writers deciding whether to wait for reclamation. */
int shard_fits(const struct shard *s, uint64_t need);
/* Whether an entry charged `charge` bytes fits the shard's budget beside its index
 * table (and the table's next growth) with no other entry: hc_open checks max_entry's
 * charge with it, shard_install_locked every entry. Shard mutex held, or at init. */
int shard_holds(const struct shard *s, uint64_t charge);
/*
 * Prefetches what an install of key will touch first: its four sketch counters (one
 * line; a DRAM miss in a large sketch, taken under the shard mutex otherwise)
 * and its home index group, and with entries != 0 the entries that group's matching
 * tags point at (a put's replaced entry, whose key the install compares) and, if tail
 * is not 0, their policy parts as if they sat tail bytes from their items (the new
 * entry's own off: a put's value is usually as long as the one it replaces). Issued
 * before a store's I/O, so the lines arrive while RocksDB works. Changes nothing. Any
 * thread, inside a reclaim section (it reads the index's table).
 */
void shard_prefetch_install(const struct shard *s, uint64_t hash, const void *key,
                            uint32_t klen, int entries, uint32_t tail);
/* Unlinks the entry of key (if any) from index and queues and retires it. Shard mutex
 * held; inside a reclaim section. Returns 1 if an entry was removed. */
int shard_remove_locked(struct shard *s, struct reclaim_thread *t, uint64_t hash,
                        const void *key, uint32_t klen);
/* Bytes the shard accounts: entries, index table, retired, and its sketch and ghost.
 * Any thread; a snapshot. */
uint64_t shard_accounted(const struct shard *s);

/* Entries. */
struct entry *entry_new(struct hc_cache *c, uint64_t hash, const void *key, uint32_t klen,
                        size_t vlen);
void entry_free_now(struct entry *e);
size_t entry_charge(uint32_t klen, size_t vlen);

#endif
