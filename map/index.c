/*
 * map/index: a per-shard open-addressed index, lock-free lookups, one writer.
 *
 * Why this design. A DRAM hit in the split-ordered map (map.c) costs a bucket line,
 * one or two node lines and the entry: about 3.5 dependent misses. Here a hit costs
 * two: the group's line (tags and pointers together) and the entry's first line (its
 * key). Of the two directions issue 14 names, this is the F14 / SwissTable one rather
 * than HyperClockCache's slot array: HCC's slots hold the entry's handle and its
 * reference count inline (a hit writes the slot line, and lookups of the same hot key
 * from several threads bounce it), and HCC never resizes (the table is sized from the
 * capacity up front). Our entries are variable-size and the policy's state lives
 * elsewhere, so the index only needs key -> pointer, read-only on the hit path, and
 * must grow with the shard; a group of 7 tags + 7 pointers is the smallest thing that
 * gives one-line probes, and a pointer (8 bytes) plus a tag byte is 9.1 bytes per slot.
 *
 * Layout. A table is 2^order groups of 64 bytes. Group word ctrl: byte i (i < 7) is
 * slot i's tag, 0 when empty, 0x80 | 7 bits of the hash when full; byte 7 is the
 * group's overflow count (F14's "outbound overflow"): how many entries in the table
 * whose probe sequence passed through this group without stopping here (saturating at
 * 255; a saturated count is never decremented, a rebuild resets it). slot[i] points
 * to slot i's entry. A hash picks its home group from its top bits (the cache shards
 * on the low bits) and its tag from bits 24..30. Groups are probed in triangular
 * order, home + i(i+1)/2 mod 2^order, which visits every group in 2^order steps.
 *
 * Lookup (index_get): load the table, take its hash (the caller's fast hash, or
 * crypto_shorthash of the key when the table is keyed), then per group: load ctrl,
 * compare the 7 tags at once (SWAR, exact), and for each match load the slot and
 * compare the key inside the entry (its length and bytes at the caller's offsets). A
 * group with overflow 0 ends a miss: no entry that probed through it lives further on.
 * The hit path is inline in index.h (index_get): in a table hashed with the fast hash
 * it first tries the home group's first tag match, straight-line, and ends a miss there
 * when the home group has no tag match and overflow 0 (index_probe's own first step);
 * a lookup that try does not settle (a false match, a second match, a key further on, a
 * keyed table) calls index_get_slow here, which probes the same table from the start
 * (index_probe, the loop above). Each try is a complete lookup in the sense below, so
 * the pair is linearisable: a hit at its slot load, a miss of the first try at its ctrl
 * load, else the slow probe's answer.
 *
 * The pointers are the truth, the tags a filter: the key K is indexed with entry E
 * exactly when some slot of the current table points to E (K being E's key). A tag
 * is set whenever its slot's pointer is non-NULL, and may be set while it is NULL.
 *
 * Invariants (hold at every instant a reader can observe, for the current table):
 *   J1 every entry E in the table, at probe step k from its home group, counted +1 in
 *      the overflow of the groups at steps 0..k-1 (or that count is saturated); so a
 *      lookup for E's key never stops before reaching E;
 *   J2 at most one non-NULL slot per key (the writer checks presence before placing);
 *   J3 slot pointer non-NULL => its tag is set and is the tag of the entry's key, and
 *      the entry is initialised and not retired;
 *   J4 a table is modified only while it is current; once replaced it is immutable
 *      and retired, freed after a grace period.
 *
 * Slot states and transitions (writer only; each store one atomic step):
 *   EMPTY (tag 0, pointer NULL) -> RESERVED (tag set, pointer NULL) -> FULL: the
 *     insert stores J1's increments on the earlier groups, then ctrl with the tag,
 *     then the pointer, its linearisation point;
 *   FULL -> FULL (replace, same key, same tag): store the new pointer (linearisation);
 *   FULL -> RESERVED -> EMPTY (delete): NULL the pointer (linearisation), clear the
 *     tag, then decrement the overflow counts on the path (after, so that J1 holds
 *     throughout: the counts over-estimate in between, never under).
 * Why the pointer is the last store of an insert and the first of a delete: a reader
 * may hold a ctrl word loaded long before it loads a slot. Had the insert stored the
 * pointer first, a reader holding an older ctrl with the same key's tag in that slot
 * (the key deleted from it meanwhile) could load the new pointer and return the entry
 * before its tag is stored, while a later lookup that loads the current ctrl misses
 * it: a hit then a miss in real-time order, not linearisable. The spin model
 * (tests/model/index.pml, BAD_PTR_FIRST) finds that interleaving. With the pointer
 * as the single point of truth, a hit is linearised at the reader's load of the slot.
 * No tombstones: an empty slot is reusable at once, and the overflow counts, not the
 * slots, tell a miss where to stop. No backward shift either: entries never move
 * inside a table, only to a new table.
 *
 * Resize and rehash: the writer builds a new table from the current one (a table it
 * alone modifies), publishes it with one release store of ix->table, and retires the
 * old one through reclaim/. A reader that loaded the old table finishes on it: it is
 * immutable from then on (J4) and stays allocated until the reader's section ends.
 * Its answers are those of the instant it loaded the table, which lies inside its call.
 *
 * Memory ordering (every non-relaxed atomic, and what it pairs with):
 *   - ix->table: the release store in rebuild() pairs with the acquire load in
 *     index_get (and index_stats): the new table's header and every group are visible;
 *   - slot: a store of an entry's pointer is release and the reader's load acquire: a
 *     reader that loads the pointer sees the entry's initialised bytes. This is the
 *     publication; NULL stores are relaxed (they publish nothing);
 *   - ctrl: writer stores are release and the reader's load acquire. Entries are not
 *     published through tags; the pair keeps, for a reader that goes on to a group
 *     after seeing a count or a tag, the writer's earlier stores (increments before
 *     tag before pointer, J1 and J3) in the order the argument above assumes, and
 *     keeps the reader's slot loads after its ctrl load. Free on x86;
 *   - the writer's own loads of ctrl and slot are relaxed: the writer is the only one
 *     storing them, and successive writers are ordered by the caller's mutex.
 * Every reader load of an entry field happens inside the reader's reclaim section; the
 * caller retires entries the index hands back and reclaim/ frees them after every
 * section that could have loaded them has ended.
 *
 * Linearisability: a hit returns the entry that the slot held when the reader loaded
 * it, so the key was indexed with it at that instant; a miss happens only if the key
 * was absent at some instant of the call (the reader passed the key's slot before the
 * store that filled it, or after the one that cleared it, or stopped at a group whose
 * overflow count was loaded before the insert's increment). A key present during the
 * whole call is found: its slot's pointer, its tag and the counts on its path stay
 * while it stays (J1, J3).
 *
 * Progress: lookups are wait-free: they never retry, never wait and never help, and
 * each visits at most 2^order groups of the table it loaded (the probe guard keeps it
 * to INDEX_MAX_PROBE + 1 in a table the writer keeps within its bound).
 * Writers are blocking (the caller's mutex) and take O(probe) steps, O(table) when
 * they rebuild.
 *
 * Hostile keys: an insert that would place an entry more than INDEX_MAX_PROBE groups
 * from its home counts a flood event. If the table hashes with the fast seeded hash
 * (map/hash.h), the writer rebuilds it keyed: a fresh random crypto_shorthash
 * (SipHash-2-4) key, under which keys that collide on the fast hash scatter; a
 * keyed table then stays keyed. In a keyed table the same guard doubles the table
 * instead (an attacker cannot aim at SipHash without its key, so a long probe there
 * means a table past its load). If the rebuild fails (out of memory) the entry is
 * placed anyway, further out: the index stays correct, only slower. At the load bound
 * (4/5 of the slots) a random group is full with probability about 1/3, so 24 full
 * groups in a row from random keys happen with probability about 3e-12 per insert.
 *
 * Costs: 64 bytes per 7 slots at a load between 2/5 and 4/5 of the slots (after a
 * doubling, before the next): 11.4 to 22.9 bytes per entry, plus a 128-byte header.
 * A hit: the hash, one group line, one tag compare, one entry line; in the cache an
 * in-cache hc_read hit is about 160 instructions, hashing, epoch section and counters
 * included (cachegrind; README, Performance).
 *
 * In the cache (cache/policy.c, hotcache.c): one index per shard, its writer the
 * shard's mutex holder (install, replace, delete, evict; hc_close's destroy alone),
 * seeded with the cache's seed so the hash that picks the shard (its low bits) is the
 * hash the index takes (home group from the top bits, tag from bits 24..30); a keyed
 * table hashes keys itself and ignores it, which is why rebuild_place recomputes the
 * fast hash from ix->seed rather than keeping the callers'. Entries are cache.h's
 * items, [klen | vlen | freq | key | value], the policy's state after the value.
 */
#include "map/index.h"

#include <sodium.h>
#include <string.h>

#include "reclaim/alloc.h"

/* Tags, slots and overflow counts: the index_* helpers in index.h, which the inline
 * lookup shares. */
#define OVF_SHIFT INDEX_OVF_SHIFT
#define OVF_MAX 255u

void (*index_table_free_hook)(struct index_table *t);

/* The order of the stores that publish an entry (place, replace). The broken variant
 * INDEX_BROKEN_RELAXED_PUBLISH drops their release, which only ThreadSanitizer (or a
 * weakly ordered CPU) can see: tests/tests.cmake builds it under TSan, WILL_FAIL. */
#ifdef INDEX_BROKEN_RELAXED_PUBLISH
#define PUBLISH memory_order_relaxed
#else
#define PUBLISH memory_order_release
#endif

/* ---- hashing and groups --------------------------------------------------------- */

static inline uint64_t keyed_hash(const struct index_table *t, const void *key, uint32_t klen)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;
	crypto_shorthash(out, key, klen, t->sipkey);
	memcpy(&h, out, sizeof(h));
	return h;
}

static inline uint64_t table_hash(const struct index_table *t, uint64_t hash, const void *key,
                                  uint32_t klen)
{
	return t->keyed ? keyed_hash(t, key, klen) : hash;
}

static inline uint64_t match_empty(uint64_t ctrl)
{
	return ~ctrl & INDEX_SLOTS_HI;
}

static inline const unsigned char *entry_key(const struct index *ix, const void *e)
{
	return (const unsigned char *)e + ix->layout.key_off;
}

static inline uint32_t entry_klen(const struct index *ix, const void *e)
{
	uint32_t n;
	memcpy(&n, (const unsigned char *)e + ix->layout.klen_off, sizeof(n));
	return n;
}

/* ---- lookups -------------------------------------------------------------------- */

void *index_get_slow(const struct index *ix, const struct index_table *t, uint64_t hash,
                     const void *key, uint32_t klen)
{
	return index_probe(ix, t, table_hash(t, hash, key, klen), key, klen, NULL);
}

unsigned index_probe_length(const struct index *ix, uint64_t hash, const void *key,
                            uint32_t klen)
{
	/* Acquire pairs with the release store in rebuild(), as in index_get. */
	const struct index_table *t = atomic_load_explicit(&ix->table, memory_order_acquire);
	unsigned steps = 0;
	(void)index_probe(ix, t, table_hash(t, hash, key, klen), key, klen, &steps);
	return steps;
}

void index_prefetch(const struct index *ix, uint64_t hash, const void *key, uint32_t klen,
                    int stage, size_t tail_off, size_t tail_len)
{
	/* Acquire pairs with the release store in rebuild(), as in index_get. */
	const struct index_table *t = atomic_load_explicit(&ix->table, memory_order_acquire);
	uint64_t h = table_hash(t, hash, key, klen);
	const struct index_group *gr = &t->g[index_home_of(t, h)];
	if (stage == 0) {
		__builtin_prefetch(gr);
		return;
	}
	/* Acquire loads as in index_get: a prefetch of a stale pointer is harmless, but
	 * the loads themselves must be the reader's ordinary ones. */
	uint64_t c = atomic_load_explicit(&gr->ctrl, memory_order_acquire);
	for (uint64_t m = index_match_tag(c, index_tag_of(h)); m != 0; m &= m - 1) {
		void *p = atomic_load_explicit(&gr->slot[index_slot_of(m)], memory_order_acquire);
		__builtin_prefetch(p);
		/* Addresses, not pointers into p's object (which may be shorter than the
		 * caller guessed): a prefetch never faults. */
		if (tail_len != 0) {
			uintptr_t a = ((uintptr_t)p + tail_off) & ~(uintptr_t)63;
			for (; a < (uintptr_t)p + tail_off + tail_len; a += 64)
				__builtin_prefetch((const void *)a);
		}
	}
}

/* ---- the writer's probe --------------------------------------------------------- */

/* The current table, to the writer: relaxed, since only writers store it and the
 * caller's mutex orders them. */
static inline struct index_table *wtable(const struct index *ix)
{
	return atomic_load_explicit(&ix->table, memory_order_relaxed);
}

struct probe {
	uint64_t h, tag;
	/* The key's slot, if present. */
	int found;
	uint64_t fg;
	unsigned fslot, fstep;
	/* The first empty slot on the path, if any within the table. */
	int has_empty;
	uint64_t eg;
	unsigned eslot, estep;
};

/*
 * Walks h's probe sequence until the key's presence is settled (found, or a group with
 * overflow 0 passed) and an empty slot is known. With entry != NULL, looks for that
 * entry (compare-and-delete) instead of the key.
 */
static void wprobe(const struct index *ix, const struct index_table *t, uint64_t h,
                   const void *key, uint32_t klen, const void *entry, struct probe *p)
{
	uint64_t g = index_home_of(t, h);
	int settled = 0;
	memset(p, 0, sizeof(*p));
	p->h = h;
	p->tag = index_tag_of(h);
	for (uint64_t i = 0; i <= t->mask && !(settled && p->has_empty); i++) {
		const struct index_group *gr = &t->g[g];
		uint64_t c = atomic_load_explicit(&gr->ctrl, memory_order_relaxed);
		if (!settled) {
			for (uint64_t m = index_match_tag(c, p->tag); m != 0; m &= m - 1) {
				void *e = atomic_load_explicit(&gr->slot[index_slot_of(m)], memory_order_relaxed);
				if (entry != NULL ? e == entry : index_entry_has_key(ix, e, key, klen)) {
					p->found = 1;
					p->fg = g;
					p->fslot = index_slot_of(m);
					p->fstep = (unsigned)i;
					return;
				}
			}
			if (index_overflow_of(c) == 0)
				settled = 1;
		}
		uint64_t em = match_empty(c);
		if (!p->has_empty && em != 0) {
			p->has_empty = 1;
			p->eg = g;
			p->eslot = index_slot_of(em);
			p->estep = (unsigned)i;
		}
		g = (g + i + 1) & t->mask;
	}
}

/* Adds d (+1 or -1) to the overflow counts of the first `steps` groups of h's probe
 * sequence (J1). Saturated counts stay. Release stores: see Ordering. */
static void add_overflow(struct index_table *t, uint64_t h, unsigned steps, int d)
{
	uint64_t g = index_home_of(t, h);
	for (unsigned i = 0; i < steps; i++) {
		struct index_group *gr = &t->g[g];
		uint64_t c = atomic_load_explicit(&gr->ctrl, memory_order_relaxed);
		unsigned o = index_overflow_of(c);
		if (o != OVF_MAX) {
			o = d > 0 ? o + 1 : o - 1;
			c = (c & ~((uint64_t)0xff << OVF_SHIFT)) | ((uint64_t)o << OVF_SHIFT);
			/* Release: keeps the release sequence of the tags c carries. */
			atomic_store_explicit(&gr->ctrl, c, memory_order_release);
		}
		g = (g + i + 1) & t->mask;
	}
}

/* EMPTY -> FULL at p's empty slot: counts on the path first, then the tag, then the
 * pointer (the linearisation point; see States for why the pointer comes last). */
static void place(struct index_table *t, const struct probe *p, void *entry)
{
	add_overflow(t, p->h, p->estep, +1);
	struct index_group *gr = &t->g[p->eg];
	uint64_t c = atomic_load_explicit(&gr->ctrl, memory_order_relaxed);
	c |= p->tag << (8 * p->eslot);
	/* Release: keeps the release sequence of the other tags' stores (see Ordering). */
	atomic_store_explicit(&gr->ctrl, c, memory_order_release);
	/* Release pairs with the reader's acquire load of the slot: the entry's bytes
	 * before its pointer. */
	atomic_store_explicit(&gr->slot[p->eslot], entry, PUBLISH);
}

/* FULL -> EMPTY at p's found slot: the pointer (the linearisation point), the tag,
 * then the counts (J1 throughout). */
static void unplace(struct index_table *t, const struct probe *p)
{
	struct index_group *gr = &t->g[p->fg];
	/* A reader holding the older ctrl loads NULL from now on: it skips the slot.
	 * Relaxed: a NULL publishes nothing. */
	atomic_store_explicit(&gr->slot[p->fslot], NULL, memory_order_relaxed);
	uint64_t c = atomic_load_explicit(&gr->ctrl, memory_order_relaxed);
	c &= ~((uint64_t)0xff << (8 * p->fslot));
	/* Release: keeps the release sequence of the other tags c carries. */
	atomic_store_explicit(&gr->ctrl, c, memory_order_release);
	add_overflow(t, p->h, p->fstep, -1);
}

/* ---- tables --------------------------------------------------------------------- */

/* What a table charges: its header and its groups, two allocations so that the
 * groups' power-of-two size maps to an exact size class (a header in the same block
 * would round a 16 MiB table up to jemalloc's 20 MiB class). */
static uint64_t table_charge(const struct index_table *t)
{
	return mem_charge_line(sizeof(*t)) + mem_charge_line(t->bytes);
}

static uint64_t table_limit(const struct index_table *t)
{
	return (t->mask + 1) * INDEX_SLOTS * INDEX_LOAD_NUM / INDEX_LOAD_DEN;
}

static struct index_table *table_new(unsigned order)
{
	size_t bytes = ((size_t)1 << order) * sizeof(struct index_group);
	struct index_table *t = mem_alloc_line(sizeof(*t), 1);
	if (t == NULL)
		return NULL;
	t->g = mem_alloc_line(bytes, 1);
	if (t->g == NULL) {
		mem_free_line(t, sizeof(*t));
		return NULL;
	}
	t->bytes = bytes;
	t->order = order;
	t->mask = ((uint64_t)1 << order) - 1;
	return t;
}

void index_table_release(struct index_table *t)
{
	mem_free_line(t->g, t->bytes);
	mem_free_line(t, sizeof(*t));
}

static void table_free(struct reclaim_node *rn)
{
	struct index_table *t =
	        (struct index_table *)((char *)rn - offsetof(struct index_table, rn));
	if (t->retired != NULL)
		retired_freed(t->retired, table_charge(t));
	if (index_table_free_hook != NULL)
		index_table_free_hook(t);
	else
		index_table_release(t);
}

/* Places e into the new, unpublished table nt (rebuild's release store of ix->table
 * publishes it). */
static void rebuild_place(const struct index *ix, struct index_table *nt, void *e)
{
	const unsigned char *key = entry_key(ix, e);
	uint32_t klen = entry_klen(ix, e);
	uint64_t h = nt->keyed ? keyed_hash(nt, key, klen) : index_hash(ix, key, klen);
	struct probe p;
	memset(&p, 0, sizeof(p));
	p.h = h;
	p.tag = index_tag_of(h);
	uint64_t g = index_home_of(nt, h);
	for (uint64_t i = 0;; i++) {
		uint64_t em = match_empty(atomic_load_explicit(&nt->g[g].ctrl, memory_order_relaxed));
		if (em != 0) {
			p.eg = g;
			p.eslot = index_slot_of(em);
			p.estep = (unsigned)i;
			break;
		}
		g = (g + i + 1) & nt->mask;
	}
	place(nt, &p, e);
}

/*
 * Builds a table of 2^order groups holding every entry of the current one, hashed
 * keyed with a fresh key (keyed = 1), keeping the current hash (keyed = -1), or with
 * the fast hash (0); publishes it and retires the old one. 0 or HC_ENOMEM (nothing
 * changed). The writer.
 */
static int rebuild(struct index *ix, unsigned order, int keyed)
{
	struct index_table *old = wtable(ix);
	/* Registration first: without a record the old table could not be retired. */
	struct reclaim_thread *rt = reclaim_self(ix->rc);
	if (rt == NULL)
		return HC_ENOMEM;
	struct index_table *nt = table_new(order);
	if (nt == NULL)
		return HC_ENOMEM;
	if (keyed == 1) {
		nt->keyed = 1;
		randombytes_buf(nt->sipkey, sizeof(nt->sipkey));
	} else if (keyed == -1 && old->keyed) {
		nt->keyed = 1;
		memcpy(nt->sipkey, old->sipkey, sizeof(nt->sipkey));
	}
	for (uint64_t g = 0; g <= old->mask; g++) {
		uint64_t c = atomic_load_explicit(&old->g[g].ctrl, memory_order_relaxed);
		for (uint64_t m = ~match_empty(c) & INDEX_SLOTS_HI; m != 0; m &= m - 1)
			rebuild_place(ix, nt,
			              atomic_load_explicit(&old->g[g].slot[index_slot_of(m)],
			                                   memory_order_relaxed));
	}
	/* Release pairs with the acquire load of ix->table in index_get: every group of
	 * nt, and its header, before a reader can reach it. */
	atomic_store_explicit(&ix->table, nt, memory_order_release);
	atomic_store_explicit(&ix->table_bytes, table_charge(nt), memory_order_relaxed);
#ifdef INDEX_BROKEN_NO_GRACE
	/* The broken variant the tests must catch: no grace period for old readers. */
	table_free(&old->rn);
#else
	/* Readers that loaded old finish on it (J4); freed after their sections end. */
	old->retired = ix->retired_to;
	if (old->retired != NULL)
		retired_add(old->retired, table_charge(old));
	reclaim_retire(rt, &old->rn, table_charge(old), table_free);
#endif
	return 0;
}

/* ---- public operations ---------------------------------------------------------- */

int index_init(struct index *ix, uint64_t expected, const struct map_seed *seed,
               struct index_layout layout, struct reclaim *rc)
{
	memset(ix, 0, sizeof(*ix));
	if (rc == NULL || layout.klen_off % sizeof(uint32_t) != 0)
		return HC_EINVAL;
	if (sodium_init() < 0)
		return HC_ENOMEM;
	ix->layout = layout;
	ix->rc = rc;
	if (seed != NULL)
		ix->seed = *seed;
	else
		randombytes_buf(&ix->seed, sizeof(ix->seed));
	unsigned order = 1;
	uint64_t per_group = INDEX_SLOTS * INDEX_LOAD_NUM; /* x 1/INDEX_LOAD_DEN */
	while (order < 40 && ((uint64_t)1 << order) * per_group < expected * INDEX_LOAD_DEN)
		order++;
	struct index_table *t = table_new(order);
	if (t == NULL)
		return HC_ENOMEM;
	atomic_store_explicit(&ix->table_bytes, table_charge(t), memory_order_relaxed);
	/* Release pairs with index_get's acquire (the caller publishes ix anyway). */
	atomic_store_explicit(&ix->table, t, memory_order_release);
	return 0;
}

void index_destroy(struct index *ix, void (*fn)(void *entry, void *arg), void *arg)
{
	struct index_table *t = wtable(ix);
	if (t == NULL)
		return;
	for (uint64_t g = 0; fn != NULL && g <= t->mask; g++) {
		uint64_t c = atomic_load_explicit(&t->g[g].ctrl, memory_order_relaxed);
		for (uint64_t m = ~match_empty(c) & INDEX_SLOTS_HI; m != 0; m &= m - 1)
			fn(atomic_load_explicit(&t->g[g].slot[index_slot_of(m)], memory_order_relaxed), arg);
	}
	index_table_release(t);
	atomic_store_explicit(&ix->table, NULL, memory_order_relaxed);
}

static void note_probe(struct index *ix, unsigned steps)
{
	if (steps > atomic_load_explicit(&ix->max_probe, memory_order_relaxed))
		atomic_store_explicit(&ix->max_probe, steps, memory_order_relaxed);
}

/*
 * Insert-if-absent (replace = 0) or insert-or-replace (1). The load bound and the
 * probe guard may rebuild the table first; each at most once per call, so a call
 * takes a bounded number of rebuilds whatever the keys.
 */
static int put(struct index *ix, uint64_t hash, void *entry, int replace, void **out)
{
	const unsigned char *key = entry_key(ix, entry);
	uint32_t klen = entry_klen(ix, entry);
	int grown = 0, guarded = 0;
	for (;;) {
		struct index_table *t = wtable(ix);
		struct probe p;
		wprobe(ix, t, table_hash(t, hash, key, klen), key, klen, NULL, &p);
		if (p.found) {
			struct index_group *gr = &t->g[p.fg];
			void *cur = atomic_load_explicit(&gr->slot[p.fslot], memory_order_relaxed);
			if (!replace) {
				if (out != NULL)
					*out = cur;
				return HC_EEXIST;
			}
			/* FULL -> FULL. Release pairs with the reader's acquire load of the slot. */
			atomic_store_explicit(&gr->slot[p.fslot], entry, PUBLISH);
			*out = cur;
			return 0;
		}
		uint64_t n = atomic_load_explicit(&ix->count, memory_order_relaxed);
		if (!grown && n + 1 > table_limit(t)) {
			grown = 1;
			if (rebuild(ix, t->order + 1, -1) == 0) {
				atomic_fetch_add_explicit(&ix->grows, 1, memory_order_relaxed);
				continue;
			}
			atomic_fetch_add_explicit(&ix->grow_failures, 1, memory_order_relaxed);
		}
		if (!p.has_empty)
			return HC_ENOMEM; /* full, and it could not grow */
		if (p.estep > INDEX_MAX_PROBE && !guarded) {
			guarded = 1;
			atomic_fetch_add_explicit(&ix->flood_events, 1, memory_order_relaxed);
			int keyed = !t->keyed;
			if (rebuild(ix, keyed ? t->order : t->order + 1, keyed ? 1 : -1) == 0) {
				atomic_fetch_add_explicit(keyed ? &ix->keyed_rehashes : &ix->grows, 1,
				                          memory_order_relaxed);
				continue;
			}
			atomic_fetch_add_explicit(&ix->grow_failures, 1, memory_order_relaxed);
		}
		place(t, &p, entry);
		note_probe(ix, p.estep);
		atomic_store_explicit(&ix->count, n + 1, memory_order_relaxed);
		if (out != NULL)
			*out = NULL;
		return 0;
	}
}

void index_charge_retired(struct index *ix, struct retired_count *ctr)
{
	ix->retired_to = ctr;
}

int index_insert(struct index *ix, uint64_t hash, void *entry, void **existing)
{
	return put(ix, hash, entry, 0, existing);
}

int index_replace(struct index *ix, uint64_t hash, void *entry, void **old)
{
	return put(ix, hash, entry, 1, old);
}

static void *remove_at(struct index *ix, struct index_table *t, const struct probe *p)
{
	void *e = atomic_load_explicit(&t->g[p->fg].slot[p->fslot], memory_order_relaxed);
	unplace(t, p);
	atomic_store_explicit(&ix->count, atomic_load_explicit(&ix->count, memory_order_relaxed) - 1,
	                      memory_order_relaxed);
	return e;
}

void *index_delete(struct index *ix, uint64_t hash, const void *key, uint32_t klen)
{
	struct index_table *t = wtable(ix);
	struct probe p;
	wprobe(ix, t, table_hash(t, hash, key, klen), key, klen, NULL, &p);
	return p.found ? remove_at(ix, t, &p) : NULL;
}

int index_delete_entry(struct index *ix, uint64_t hash, void *entry)
{
	struct index_table *t = wtable(ix);
	struct probe p;
	uint64_t h = table_hash(t, hash, entry_key(ix, entry), entry_klen(ix, entry));
	wprobe(ix, t, h, NULL, 0, entry, &p);
	if (!p.found)
		return 0;
	(void)remove_at(ix, t, &p);
	return 1;
}

int index_rehash(struct index *ix, int keyed)
{
	struct index_table *t = wtable(ix);
	int rc = rebuild(ix, t->order, keyed ? 1 : -1);
	if (rc == 0 && keyed)
		atomic_fetch_add_explicit(&ix->keyed_rehashes, 1, memory_order_relaxed);
	return rc;
}

uint64_t index_growth_reserve(const struct index *ix)
{
	const struct index_table *t = wtable(ix);
	if (atomic_load_explicit(&ix->count, memory_order_relaxed) + 1 <= table_limit(t))
		return 0;
	size_t bytes = ((size_t)2 << t->order) * sizeof(struct index_group);
	return mem_charge_line(sizeof(*t)) + mem_charge_line(bytes);
}

void index_stats(const struct index *ix, struct index_stats *st)
{
	/* Acquire pairs with the release store in rebuild(): the header of the table we read. */
	const struct index_table *t = atomic_load_explicit(&ix->table, memory_order_acquire);
	st->count = atomic_load_explicit(&ix->count, memory_order_relaxed);
	st->groups = t->mask + 1;
	st->keyed = t->keyed;
	st->table_bytes = atomic_load_explicit(&ix->table_bytes, memory_order_relaxed);
	st->flood_events = atomic_load_explicit(&ix->flood_events, memory_order_relaxed);
	st->keyed_rehashes = atomic_load_explicit(&ix->keyed_rehashes, memory_order_relaxed);
	st->grows = atomic_load_explicit(&ix->grows, memory_order_relaxed);
	st->grow_failures = atomic_load_explicit(&ix->grow_failures, memory_order_relaxed);
	st->max_probe = atomic_load_explicit(&ix->max_probe, memory_order_relaxed);
}
