/*
 * map/: a lock-free hash map from key bytes to intrusive nodes, resized without locks.
 * Not the cache's lookup structure any more (that is map/index.h); map.c says where it
 * stays in use and why.
 *
 * Algorithm: a split-ordered list (Shalev and Shavit, "Split-ordered lists: lock-free
 * extensible hash tables", JACM 2006), as in liburcu's rculfhash, but split on the
 * hash's top bits rather than its bit-reversed low bits, which makes the sort key the
 * hash itself and saves a bit reversal per operation (map.c explains the indexing).
 * All nodes sit in one singly linked list sorted by so_key = hash | 1; at order k,
 * bucket t (the top k bits) is a dummy node with so_key = t << (64 - k) (low bit 0)
 * that marks where t's nodes start, so doubling the bucket count never moves a node:
 * the new bucket's dummy is linked into the middle of its parent's run. Deletion is Harris-Michael: a node is deleted by setting the
 * mark bit of its own next pointer (logical), then unlinked with a CAS on its
 * predecessor's next (physical), by the deleter or by any updater passing by.
 *
 * Buckets: level 0 holds bucket 0, level i >= 1 holds buckets [2^(i-1), 2^i), each level
 * one array of dummies allocated when the table first grows to it. Levels never shrink
 * and are freed at map_destroy; a bucket is initialised lazily by the first updater that
 * needs it (state UNINIT -> BUSY -> READY, claimed by one CAS); readers and updaters
 * that find a bucket not READY start from its parent, which precedes it in the list,
 * so nobody waits for an initialiser.
 *
 * Invariants:
 *   I1 the list is sorted by so_key; nodes with equal so_key (a full 63-bit hash
 *      collision) are adjacent and unordered among themselves;
 *   I2 at most one unmarked node per key is reachable (no duplicate is ever visible):
 *      insert links a new node only by a CAS on the link just before the first node
 *      with so_key >= its own, after scanning that whole equal run, so two inserts of
 *      one key CAS the same link and one fails; replace installs the new node and marks
 *      the old one in one CAS (old->next = new | MARK);
 *   I3 a marked node's next never changes again, and once physically unlinked from an
 *      unmarked predecessor it is never reachable again; the thread whose CAS marked it
 *      owns it and unlinks it (by a find) before handing it back for retirement;
 *   I4 every node is reached from bucket 0's dummy; a READY bucket's dummy precedes all
 *      nodes hashed to that bucket.
 *
 * States of a node: unlinked (new) -> live (reachable, unmarked) -> marked (deleted or
 * replaced, still reachable) -> unlinked (unreachable) -> retired -> freed after a grace
 * period (reclaim/). Callers must hold a reclaim section around every map call and
 * around any use of a node a lookup returned.
 *
 * Ordering: every link that publishes a node (insert, replace, dummy) is a release CAS,
 * and every load of a next pointer is acquire, so a reader that reaches a node sees
 * its so_key, klen and key bytes initialised. The bucket state READY is stored with
 * release after the dummy is linked and loaded with acquire. A new level array is
 * published by a release CAS before the size that uses it (release store); readers
 * load size (acquire) and then the level.
 *
 * Progress: lookups are lock-free, not wait-free: they never help, never restart and
 * take no lock, but they skip marked nodes, and a replace links its new node before it
 * unlinks the old one, so a stream of replaces of keys ahead of a reader can keep
 * lengthening the run it walks; each step it takes is some other operation's progress,
 * and without concurrent writers a lookup finishes in chain-length steps. Insert, replace, delete and
 * compare-and-delete are lock-free: a CAS fails only because another operation's CAS
 * succeeded, and the loser restarts its find from the bucket.
 *
 * Load: the count is kept in striped counters; an insert that sees more than
 * MAP_MAX_LOAD nodes per bucket doubles the bucket count (one level allocation, no
 * locks). From 10^3 to 10^8 entries the load stays in (MAP_MAX_LOAD/2, MAP_MAX_LOAD]
 * once above the initial size; if a level allocation fails, the map keeps working at a
 * higher load and retries at the next check.
 *
 * Costs: 24 bytes per node (next, so_key, klen, spare) plus the key, and 24 bytes per
 * bucket (1 to 2 buckets per 2 nodes): about 36-48 bytes of overhead per entry.
 * A hit costs the hash, one bucket line and the node lines of its run (about 1.5 on
 * average at load 1.5).
 *
 * Callers that shard over several maps must pick the shard from bits other than the
 * top ones (the cache uses the low bits), or each map would see one bucket.
 *
 * Hostile keys: hashes are seeded per map from libsodium's randombytes. Updaters
 * measure the run they scan; a run longer than MAP_FLOOD_RUN in a map within its load
 * bound can only come from a collision flood, and is counted (map_stats.flood_events)
 * so the embedder is told; with a secret seed the hostile-key test does not trigger it.
 */
#ifndef HC_MAP_H
#define HC_MAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hotcache.h"
#include "map/hash.h"

#define MAP_MAX_LOAD 2
#define MAP_FLOOD_RUN 64
#define MAP_LEVELS 48

/* The part of every list element that traversal reads. */
struct map_link {
	_Atomic uintptr_t next; /* successor | MAP_MARK when this node is deleted */
	uint64_t so_key;        /* hash | 1 for nodes; bucket << (64 - order) for dummies */
};

/*
 * Embedded in each entry; its key bytes must follow it directly in memory
 * (map_node_key). Fields other than spare are the map's.
 */
struct map_node {
	struct map_link link;
	uint32_t klen;
	uint32_t spare; /* the embedder's */
};

struct map_bucket {
	struct map_link link;
	_Atomic uint32_t state; /* MAP_B_UNINIT -> MAP_B_BUSY -> MAP_B_READY */
	uint32_t pad;
};

enum { MAP_STRIPES = 16 };

struct map_stripe {
	_Alignas(64) _Atomic int64_t n;
};

struct map {
	/* Read-mostly (every lookup): the order and the level arrays. */
	_Alignas(64) struct map_seed seed;
	_Atomic unsigned order;   /* log2 of the bucket count */
	_Atomic(struct map_bucket *) level[MAP_LEVELS];
	/* Written by updaters: on lines of their own, so lookups never share them. */
	_Alignas(64) _Atomic uint64_t meta_bytes; /* charged size of the level arrays */
	_Atomic uint64_t flood_events;   /* runs longer than MAP_FLOOD_RUN seen by updaters */
	_Atomic uint64_t grow_failures;
	struct map_stripe count[MAP_STRIPES];
};

struct map_stats {
	uint64_t count;        /* live nodes (striped sum: exact when quiescent) */
	uint64_t buckets;
	uint64_t meta_bytes;   /* bucket arrays */
	uint64_t flood_events;
	uint64_t grow_failures;
};

static inline const unsigned char *map_node_key(const struct map_node *n)
{
	return (const unsigned char *)(n + 1);
}

/*
 * Initialises an empty map sized for about `expected` entries (0: a small default),
 * with a fresh random seed. Returns 0 or HC_ENOMEM (nothing to free then). One thread,
 * before any other use.
 */
HC_NODISCARD int map_init(struct map *m, uint64_t expected);
/*
 * Calls fn(node, arg) for every node still in the map, then frees the buckets. No
 * other thread may use the map during or after.
 */
void map_destroy(struct map *m, void (*fn)(struct map_node *node, void *arg), void *arg);

/* The map's hash of key. Any thread; pure. */
static inline uint64_t map_hash(const struct map *m, const void *key, size_t klen)
{
	return map_hash_bytes(&m->seed, key, klen);
}

/*
 * Sets up a node for insertion: its key bytes must already be at map_node_key(n).
 * hash must be map_hash() of them. Owner of the unpublished node.
 */
void map_node_init(struct map_node *n, uint64_t hash, uint32_t klen);

/*
 * The live node for key, or NULL. Inside a reclaim section; the node stays valid until
 * the section ends. Any thread. Lock-free (see Progress); no stores.
 */
struct map_node *map_get(const struct map *m, uint64_t hash, const void *key, uint32_t klen);

/*
 * Batched lookup: hashes are given; prefetches every bucket, then every first node,
 * then compares. out[i] as map_get. Inside a reclaim section. Any thread. Lock-free,
 * as map_get.
 */
void map_get_batch(const struct map *m, size_t n, const uint64_t *hashes,
                   const void *const *keys, const uint32_t *klens, struct map_node **out);

/*
 * Prefetch stages for batched lookups across maps: stage 0 prefetches hash's bucket,
 * stage 1 (after the bucket arrived) the first node of its run. No stores; inside a
 * reclaim section. Any thread. Wait-free.
 */
void map_prefetch(const struct map *m, uint64_t hash, int stage);

/*
 * Inserts n if its key is absent. Returns 0, or HC_EEXIST with *existing set to the
 * live node for the key (n is not linked). Inside a reclaim section. Any thread.
 * Lock-free. Release CAS publishes n.
 */
HC_NODISCARD int map_insert(struct map *m, struct map_node *n, struct map_node **existing);

/*
 * Inserts n, atomically replacing the live node for its key if there is one. Returns
 * the replaced node, already unlinked (the caller retires it), or NULL. Inside a
 * reclaim section. Any thread. Lock-free.
 */
struct map_node *map_replace(struct map *m, struct map_node *n);

/*
 * Removes the live node for key. Returns it, unlinked (the caller retires it), or NULL
 * if absent. Inside a reclaim section. Any thread. Lock-free.
 */
struct map_node *map_delete(struct map *m, uint64_t hash, const void *key, uint32_t klen);

/*
 * Compare-and-delete: removes n only if it is still the live node for its key. Returns
 * 1 if this call removed it (unlinked: the caller retires it), 0 if it was already
 * deleted or replaced. Inside a reclaim section. Any thread. Lock-free.
 */
int map_delete_node(struct map *m, struct map_node *n);

/* Bytes the next inserts may allocate for a new bucket level: the level's charged
 * size when the count is within a stripe check of the load bound, else 0. Lets a
 * byte-budgeted caller reserve room before inserting. Any thread; a snapshot. */
uint64_t map_growth_reserve(const struct map *m);

/* Figures; a snapshot. Any thread. */
void map_stats(const struct map *m, struct map_stats *st);
/* Live nodes now (striped sum). Any thread. */
uint64_t map_count(const struct map *m);

#endif
