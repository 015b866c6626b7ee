/*
 * map/index: a per-shard open-addressed index from keys to the caller's entries, read
 * without locks, written by one writer at a time. The algorithm (groups, states,
 * invariants, memory ordering, progress, resize, hostile keys) is set out at the top
 * of map/index.c; this header gives the contract.
 *
 * In one line: 64-byte groups of 7 slots, each slot a 7-bit tag (from the hash) and a
 * pointer to the caller's entry, probed group by group (F14-style, with per-group
 * overflow counts instead of tombstones); a hit reads the group's line and then the
 * entry's first line, where the caller keeps the key. index_get is inline (below):
 * the home group's first tag match straight-line, the rest out of line (index.c).
 *
 * Threads: lookups (index_get) run on any thread, inside a reclaim section, wait-free
 * (so lock-free: no lock, no retry; see Progress in index.c).
 * Writers (index_insert, index_replace, index_delete, index_delete_entry, index_rehash)
 * must be serialised by the caller, per index: the cache holds the shard mutex around
 * them. Lookups race only with that one writer.
 *
 * Entries: the index stores pointers; the caller owns the entries. Each entry holds
 * its key length as a uint32_t at layout.klen_off and the key bytes at layout.key_off
 * (put both first, so a hit reads one entry line). An entry that an index call hands
 * back (replaced or deleted) is unreachable for lookups that start afterwards, and the
 * caller retires it through reclaim/ (a lookup in progress may still hold it).
 */
#ifndef HC_MAP_INDEX_H
#define HC_MAP_INDEX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hotcache.h"
#include "map/hash.h"
#include "reclaim/reclaim.h"

/* Slots per 64-byte group: one 8-byte control word and 7 entry pointers. */
#define INDEX_SLOTS 7
/* Load bound: a table holds at most INDEX_LOAD_NUM/INDEX_LOAD_DEN of its slots
 * before an insert doubles it. */
#define INDEX_LOAD_NUM 4
#define INDEX_LOAD_DEN 5
/* Probe-length guard, in groups: an insert that would place an entry further than
 * this from its home group counts a flood event and rebuilds the table with a keyed
 * hash (crypto_shorthash); see index.c, "Hostile keys". */
#define INDEX_MAX_PROBE 24

/* One group: ctrl holds slot i's tag in byte i (0 = empty, 0x80 | 7 hash bits =
 * full) and, in byte 7, the group's overflow count; slot[i] is the entry of slot i. */
struct index_group {
	_Alignas(64) _Atomic uint64_t ctrl;
	_Atomic(void *) slot[INDEX_SLOTS];
};
_Static_assert(sizeof(struct index_group) == 64, "a group is one cache line");

/* Bytes retired and not yet freed, as two monotonic totals, so that the holder of the
 * writers' lock counts a retirement with a load and a store, not a locked add (a full
 * barrier on x86, which waited there for the writer's earlier stores): `in` is added
 * to by the lock's holder only (retirements), `out` by whichever thread frees (release,
 * an atomic add). Pending = out (acquire, so the retirements of what it counts are
 * seen), then in, minus: never negative (retired_pending). */
struct retired_count {
	_Atomic uint64_t in, out;
};

static inline uint64_t retired_pending(const struct retired_count *r)
{
	uint64_t out = atomic_load_explicit(&r->out, memory_order_acquire);
	return atomic_load_explicit(&r->in, memory_order_relaxed) - out;
}

/* The lock holder's retirement of bytes (see struct retired_count). */
static inline void retired_add(struct retired_count *r, uint64_t bytes)
{
	atomic_store_explicit(&r->in, atomic_load_explicit(&r->in, memory_order_relaxed) + bytes,
	                      memory_order_relaxed);
}

/* Any thread's free of bytes retired before. Release pairs with retired_pending. */
static inline void retired_freed(struct retired_count *r, uint64_t bytes)
{
	atomic_fetch_add_explicit(&r->out, bytes, memory_order_release);
}

/* One table: an immutable header (one line, hot in every lookup) and its groups.
 * Replaced whole on resize and rehash. */
struct index_table {
	_Alignas(64) struct index_group *g; /* 2^order groups, one allocation */
	uint64_t mask;          /* groups - 1 */
	unsigned order;         /* log2(groups), >= 1 */
	int keyed;              /* 1: hashes are crypto_shorthash(key, sipkey) */
	unsigned char sipkey[16];
	size_t bytes;           /* the groups' allocation size (mem_alloc_line) */
	struct reclaim_node rn; /* retirement of a replaced table */
	struct retired_count *retired; /* once retired: where its charge is, or NULL */
};

struct index_layout {
	uint32_t klen_off; /* uint32_t key length */
	uint32_t key_off;  /* key bytes */
};

struct index {
	/* Read by every lookup. */
	_Alignas(64) _Atomic(struct index_table *) table;
	struct index_layout layout;
	struct map_seed seed;   /* the fast hash's seed (index_hash) */
	int weak_hash;          /* test seam: index_hash returns 0 for every key */
	/* The writer's (under the caller's mutex); statistics read relaxed by anyone. */
	_Alignas(64) struct reclaim *rc;
	struct retired_count *retired_to; /* index_charge_retired's counter, or NULL */
	_Atomic uint64_t count;
	_Atomic uint64_t table_bytes;     /* charged size of the current table */
	_Atomic uint64_t flood_events;    /* inserts past INDEX_MAX_PROBE groups */
	_Atomic uint64_t keyed_rehashes;  /* switches to the keyed hash */
	_Atomic uint64_t grows;
	_Atomic uint64_t grow_failures;   /* out of memory while growing or rehashing */
	_Atomic uint64_t max_probe;       /* longest insert probe seen, in groups */
};

struct index_stats {
	uint64_t count;
	uint64_t groups;
	uint64_t table_bytes;
	uint64_t flood_events;
	uint64_t keyed_rehashes;
	uint64_t grows;
	uint64_t grow_failures;
	uint64_t max_probe;
	int keyed;
};

/*
 * Initialises an empty index sized for about `expected` entries (0: a small table).
 * seed: the fast hash's seed (the caller's, so that one hash serves its sharding and
 * the index; NULL: a random one). rc: the domain that retires replaced tables (the
 * one whose sections the readers hold). Returns 0, HC_EINVAL (rc NULL, or klen_off
 * not a multiple of 4), or HC_ENOMEM; nothing to free on failure. One thread,
 * before any other use.
 */
HC_NODISCARD int index_init(struct index *ix, uint64_t expected, const struct map_seed *seed,
                            struct index_layout layout, struct reclaim *rc);
/*
 * Calls fn(entry, arg) for every entry in the index, then frees the table. No other
 * thread may use the index during or after; tables retired earlier are freed by the
 * domain (reclaim_drain or reclaim_destroy).
 */
void index_destroy(struct index *ix, void (*fn)(void *entry, void *arg), void *arg);

/* The hash every index call takes: map_hash_bytes with the index's seed. Any thread;
 * pure. */
static inline uint64_t index_hash(const struct index *ix, const void *key, size_t klen)
{
	return ix->weak_hash ? 0 : map_hash_bytes(&ix->seed, key, klen);
}

/* ---- the lookup, inline: it is the hit path (algorithm and ordering: index.c) ---- */

#define INDEX_BYTES_LO UINT64_C(0x0101010101010101)
#define INDEX_BYTES_7F UINT64_C(0x7f7f7f7f7f7f7f7f)
#define INDEX_SLOTS_HI UINT64_C(0x0080808080808080) /* the high bit of bytes 0..6 */
#define INDEX_OVF_SHIFT 56

static inline uint64_t index_tag_of(uint64_t h)
{
	return 0x80u | ((h >> 24) & 0x7fu);
}

static inline uint64_t index_home_of(const struct index_table *t, uint64_t h)
{
	return h >> (64 - t->order);
}

/* High bit of byte i (i < 7) set exactly where slot i holds tag. */
static inline uint64_t index_match_tag(uint64_t ctrl, uint64_t tag)
{
	uint64_t x = ctrl ^ (INDEX_BYTES_LO * tag);
	return ~(((x & INDEX_BYTES_7F) + INDEX_BYTES_7F) | x | INDEX_BYTES_7F) & INDEX_SLOTS_HI;
}

static inline unsigned index_slot_of(uint64_t bits)
{
	return (unsigned)__builtin_ctzll(bits) >> 3;
}

static inline unsigned index_overflow_of(uint64_t ctrl)
{
	return (unsigned)(ctrl >> INDEX_OVF_SHIFT);
}

static inline int index_entry_has_key(const struct index *ix, const void *e, const void *key,
                                      uint32_t klen)
{
	uint32_t n;
	memcpy(&n, (const unsigned char *)e + ix->layout.klen_off, sizeof(n));
	return n == klen &&
	       map_key_eq((const unsigned char *)e + ix->layout.key_off, key, klen);
}

/* The probe of table t for key, whose hash in t is h (the fast hash, or the keyed one
 * in a keyed table); *steps (if not NULL) gets the groups visited. index_get with steps
 * NULL, so the hit path pays nothing for the count. */
static inline __attribute__((always_inline)) void *
index_probe(const struct index *ix, const struct index_table *t, uint64_t h, const void *key,
            uint32_t klen, unsigned *steps)
{
	uint64_t tag = index_tag_of(h), g = index_home_of(t, h);
	for (uint64_t i = 0; i <= t->mask; i++) {
		const struct index_group *gr = &t->g[g];
		if (steps != NULL)
			*steps = (unsigned)i + 1;
		/* Acquire pairs with the writer's release stores of ctrl: the group's
		 * slot loads below come after this load (see Ordering). */
		uint64_t c = atomic_load_explicit(&gr->ctrl, memory_order_acquire);
		for (uint64_t m = index_match_tag(c, tag); m != 0; m &= m - 1) {
			/* Acquire pairs with the release store of the pointer (place, replace):
			 * the entry's bytes are visible. The linearisation point of a hit. */
			void *e = atomic_load_explicit(&gr->slot[index_slot_of(m)],
			                               memory_order_acquire);
			if (e != NULL && index_entry_has_key(ix, e, key, klen))
				return e;
		}
		if (index_overflow_of(c) == 0)
			return NULL; /* J1: nothing for this key lies further on */
		g = (g + i + 1) & t->mask;
	}
	return NULL;
}

/* index_get's whole probe of table t, out of line: for a keyed table (after the
 * probe-length guard fired: it hashes key with the table's crypto_shorthash key), and
 * for every lookup the inline first try does not settle. As index_get. */
void *index_get_slow(const struct index *ix, const struct index_table *t, uint64_t hash,
                     const void *key, uint32_t klen);

/*
 * The entry for key, or NULL. hash = index_hash(key). Inside a reclaim section of the
 * index's domain; the entry stays valid until the section ends. Any thread. Wait-free
 * (bounded: at most one pass over the table's groups); no stores. Acquire loads of
 * the table, the group's control word and the slot (see index.c, Ordering). Inline:
 * the call and its register saves were a sixth of an in-cache hit's instructions.
 */
static inline void *index_get(const struct index *ix, uint64_t hash, const void *key,
                              uint32_t klen)
{
	/* Acquire pairs with the release store in rebuild() (or index_init): the table is
	 * initialised. */
	const struct index_table *t = atomic_load_explicit(&ix->table, memory_order_acquire);
	if (__builtin_expect(!t->keyed, 1)) {
		/* The first try, straight-line: the home group's first tag match. It settles
		 * nearly every hit (a second match in a group is a 1-in-128 event per other
		 * full slot), and a miss whose home group has no tag match and overflow 0;
		 * anything else (a false match, a key further on, no match with overflow)
		 * probes again from the start in index_get_slow, on the same table. All are
		 * lookups of index_probe's kind: a hit returned here is linearised at its
		 * slot load, a miss at its ctrl load, and a return of the slow probe within
		 * its own call. Until 2026-12-07 every miss took the slow call: 47-75 ns an
		 * in-cache miss against 17-23 ns now (100K keys, one thread). */
		const struct index_group *gr = &t->g[index_home_of(t, hash)];
		/* Acquire: as in index_probe (the ctrl load, then the slot load). */
		uint64_t c = atomic_load_explicit(&gr->ctrl, memory_order_acquire);
		uint64_t m = index_match_tag(c, index_tag_of(hash));
		if (__builtin_expect(m != 0, 1)) {
			void *e = atomic_load_explicit(&gr->slot[index_slot_of(m)],
			                               memory_order_acquire);
			if (__builtin_expect(e != NULL && index_entry_has_key(ix, e, key, klen), 1))
				return e;
		} else if (index_overflow_of(c) == 0) {
			/* No tag match and nothing further on: the miss index_probe would
			 * return from this group (J1), without its call and second look. */
			return NULL;
		}
	}
	return index_get_slow(ix, t, hash, key, klen);
}

/* Groups index_get(hash, key) visits now, hit or miss: what the probe-length guard
 * bounds (tests, statistics). As index_get. */
unsigned index_probe_length(const struct index *ix, uint64_t hash, const void *key,
                            uint32_t klen);

/* Prefetch stages for batched lookups: stage 0 prefetches key's home group, stage 1
 * (once it has arrived) the entries whose tags match there: the line each slot points
 * at and, when tail_len > 0, the lines of the tail_len bytes tail_off past it as well
 * (for a caller that will write there: hotcache's queue links sit after the value).
 * No stores. Inside a reclaim section (it reads the table: unlike map_prefetch's
 * stage 0, not before the section). Any thread. Wait-free. */
void index_prefetch(const struct index *ix, uint64_t hash, const void *key, uint32_t klen,
                    int stage, size_t tail_off, size_t tail_len);

/* Bytes the next insert may allocate for a bigger table: the doubled table's charge
 * when the count is at the load bound, else 0 (a byte-budgeted caller reserves it
 * before inserting, as with map_growth_reserve; the retired table stays charged to
 * the domain until its grace period ends). Not covered: the one keyed rehash the
 * probe guard may do, a table of the current size. The writer. */
uint64_t index_growth_reserve(const struct index *ix);

/* Counts the charge of every table the index retires in *ctr from the retirement until
 * the table is freed (retired_add by the writer, retired_freed by the freeing thread),
 * so a byte-budgeted caller counts it as retired; NULL: none. The writer, or before any
 * use. */
void index_charge_retired(struct index *ix, struct retired_count *ctr);

/*
 * Inserts entry if its key is absent. Returns 0; HC_EEXIST with *existing (if not
 * NULL) set to the present entry (entry is not linked); or HC_ENOMEM when the table is
 * full and cannot grow (nothing changed). The writer (caller's mutex held), inside or
 * outside a reclaim section. Release stores publish the entry.
 */
HC_NODISCARD int index_insert(struct index *ix, uint64_t hash, void *entry, void **existing);

/*
 * Inserts entry, replacing the entry of its key if there is one. Returns 0 and sets
 * *old to the replaced entry (the caller retires it) or NULL; or HC_ENOMEM as
 * index_insert (nothing changed). The writer.
 */
HC_NODISCARD int index_replace(struct index *ix, uint64_t hash, void *entry, void **old);

/* Removes the entry of key; returns it (the caller retires it) or NULL. The writer. */
void *index_delete(struct index *ix, uint64_t hash, const void *key, uint32_t klen);

/* Compare-and-delete: removes entry only if it is the one indexed for its key.
 * Returns 1 if removed (the caller retires it), else 0. The writer. */
int index_delete_entry(struct index *ix, uint64_t hash, void *entry);

/*
 * Rebuilds the table at its size (keyed != 0: switching to a fresh crypto_shorthash
 * key, as the probe-length guard does; 0: keeping the hash). Publishes the new table
 * with a release store and retires the old one. Returns 0 or HC_ENOMEM (nothing
 * changed). The writer.
 */
HC_NODISCARD int index_rehash(struct index *ix, int keyed);

/* Figures; a snapshot. The writer, or any thread inside a reclaim section (it reads
 * the current table's header). */
void index_stats(const struct index *ix, struct index_stats *st);
static inline uint64_t index_count(const struct index *ix)
{
	return atomic_load_explicit(&ix->count, memory_order_relaxed);
}

/* Test seam: when set, called instead of index_table_release to free a replaced table
 * after its grace period (tests poison it there and release it later). Global; set
 * before use. */
extern void (*index_table_free_hook)(struct index_table *t);
/* Frees a table (its groups and header) at once. The hook's; no reader may hold t. */
void index_table_release(struct index_table *t);

#endif
