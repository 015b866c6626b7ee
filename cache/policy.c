/*
 * The shard policy: S3-FIFO (Yang et al., "FIFO queues are all you need for cache
 * eviction", SOSP 2023) over CLOCK-style frequency counters, under a byte budget.
 *
 * Queues (under the shard mutex): SMALL, a probation FIFO holding about 10% of the
 * budget, where every new entry starts cold (freq 0); MAIN, a CLOCK ring of entries
 * that proved themselves; GHOST, fingerprints of keys recently evicted from SMALL.
 * A hit only raises freq (at most ENTRY_FREQ_MAX, one relaxed store, none once
 * capped); it never takes the mutex or moves an entry.
 *
 * Eviction, to make room for an insert:
 *   - while SMALL is over its share (or MAIN is empty): take SMALL's oldest; if it was
 *     hit since it came in, move it to MAIN (freq reset); else evict it and remember
 *     its key in GHOST;
 *   - otherwise take MAIN's oldest: if freq > 0, age it (freq - 1) and move it to the
 *     tail (the CLOCK hand passing); else evict it.
 * A new entry whose key is in GHOST goes straight to MAIN. A stream of one-time keys
 * therefore only ever cycles through SMALL and cannot flush entries hit twice, which
 * sit in MAIN (scan resistance). Work per insert is bounded: after EVICT_STEPS moves
 * or agings without freeing enough, the oldest entry of MAIN (or SMALL) is evicted
 * whatever its freq, so an all-hot cache still admits new entries in bounded time.
 *
 * Bytes: a shard accounts its entries' real allocation sizes, its map's bucket arrays
 * and its retired-but-unfreed entries. Evictions and deletes move bytes from entries to
 * retired (the total does not change); only an install adds, and it is admitted only
 * when entries + buckets + retired + need <= budget + retire_allow, checked before it
 * evicts anything (so a refused install changes nothing), and it then evicts until
 * entries + buckets + need <= budget; so a shard's total never exceeds budget +
 * retire_allow, and the shards' sum never exceeds cache.memory_limit (see hotcache.c
 * for how the limit is split). retire_allow is at least one max_entry, so with nothing
 * retired any entry is admitted into a full shard: a refusal means reclamation is
 * behind, which after the writer's bounded wait means a reader stalled in a section.
 */
#include <sodium.h>
#include <string.h>

#include "cache/cache.h"
#include "reclaim/alloc.h"

enum { EVICT_STEPS = 64, GHOST_WAYS = 4 };

size_t entry_charge(uint32_t klen, size_t vlen)
{
	return mem_charge(sizeof(struct entry) + klen + vlen);
}

struct entry *entry_new(struct hc_cache *c, uint64_t hash, const void *key, uint32_t klen,
                        size_t vlen)
{
	size_t size = sizeof(struct entry) + klen + vlen;
	struct entry *e = mem_alloc(size, 0);
	if (e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->charge = mem_charge(size);
	e->vlen = (uint32_t)vlen;
	e->shard = (uint16_t)(shard_of(c, hash) - c->shards);
	memcpy((unsigned char *)(e + 1), key, klen);
	map_node_init(&e->node, hash, klen);
	return e;
}

void entry_free_now(struct entry *e)
{
	size_t size = sizeof(struct entry) + e->node.klen + e->vlen;
	/* Payload and key bytes never outlive the entry (design: wiped before free). */
	sodium_memzero(e + 1, size - sizeof(*e));
	mem_free(e, size);
}

/* The reclaim callback: after a grace period, uncount from the shard and wipe. */
static void entry_reclaim(struct reclaim_node *rn)
{
	struct entry *e = (struct entry *)((char *)rn - __builtin_offsetof(struct entry, u.rn));
	struct hc_cache *c = (struct hc_cache *)((char *)reclaim_dispatching() -
	                                         __builtin_offsetof(struct hc_cache, rc));
	struct shard *s = &c->shards[e->shard];
	uint64_t charge = e->charge;
	entry_free_now(e);
	atomic_fetch_sub_explicit(&s->retired, charge, memory_order_relaxed);
}

static void retire_entry(struct shard *s, struct reclaim_thread *t, struct entry *e)
{
	uint64_t charge = e->charge;
	atomic_fetch_add_explicit(&s->retired, charge, memory_order_relaxed);
	reclaim_retire(t, &e->u.rn, charge, entry_reclaim);
}

/* ---- queues (shard mutex held) ---------------------------------------------------- */

static struct queue *queue_of(struct shard *s, const struct entry *e)
{
	return e->queue == Q_SMALL ? &s->small : &s->main;
}

static void queue_push(struct shard *s, struct entry *e, int which)
{
	struct queue *q = which == Q_SMALL ? &s->small : &s->main;
	e->queue = (uint8_t)which;
	e->u.q.next = NULL;
	e->u.q.prev = q->tail;
	if (q->tail != NULL)
		q->tail->u.q.next = e;
	else
		q->head = e;
	q->tail = e;
	q->bytes += e->charge;
	q->count++;
}

static void queue_unlink(struct shard *s, struct entry *e)
{
	struct queue *q = queue_of(s, e);
	if (e->u.q.prev != NULL)
		e->u.q.prev->u.q.next = e->u.q.next;
	else
		q->head = e->u.q.next;
	if (e->u.q.next != NULL)
		e->u.q.next->u.q.prev = e->u.q.prev;
	else
		q->tail = e->u.q.prev;
	q->bytes -= e->charge;
	q->count--;
	e->queue = Q_NONE;
}

/* ---- ghost ------------------------------------------------------------------------ */

/* Keyed by the node's so_key (the hash | 1): the set from bits 12 and up (the low bits
 * pick the shard, so they are the same for every key here), the fingerprint from the
 * top 32 bits. */
static uint32_t ghost_fp(uint64_t so)
{
	return (uint32_t)(so >> 32) | 1; /* 0 marks an empty slot */
}

static uint64_t *ghost_set(struct ghost *g, uint64_t so)
{
	return &g->slot[((so >> 12) & g->mask) * GHOST_WAYS];
}

static void ghost_add(struct ghost *g, uint64_t so)
{
	uint64_t *set = ghost_set(g, so);
	uint64_t v = (uint64_t)ghost_fp(so) << 32 | ++g->seq;
	int victim = 0;
	for (int i = 0; i < GHOST_WAYS; i++) {
		if ((uint32_t)(set[i] >> 32) == ghost_fp(so) || set[i] == 0) {
			set[i] = v;
			return;
		}
		/* Otherwise the oldest of the set goes. */
		if ((uint32_t)set[i] - (uint32_t)set[victim] > (1u << 31))
			victim = i;
	}
	set[victim] = v;
}

/* Removes so's fingerprint; 1 if it was among the last `window` evictions. */
static int ghost_take(struct ghost *g, uint64_t so, uint64_t window)
{
	uint64_t *set = ghost_set(g, so);
	for (int i = 0; i < GHOST_WAYS; i++) {
		if ((uint32_t)(set[i] >> 32) == ghost_fp(so)) {
			uint32_t age = g->seq - (uint32_t)set[i];
			set[i] = 0;
			return age < window;
		}
	}
	return 0;
}

/* ---- shard ------------------------------------------------------------------------ */

static uint64_t ghost_bytes(const struct ghost *g)
{
	return ((uint64_t)g->mask + 1) * GHOST_WAYS * sizeof(uint64_t);
}

int shard_init(struct shard *s, struct hc_cache *c, unsigned index, uint64_t total,
               uint64_t expected)
{
	memset(s, 0, sizeof(*s));
	s->index = (uint16_t)index;
	/* An eighth of the shard may be retired-but-unfreed, and at least the largest
	 * entry: an install into a full shard moves its size from entries to retired (it
	 * evicts that much), so an allowance below it would refuse such installs with no
	 * reader stalled. The rest holds entries. */
	s->retire_allow = total / 8;
	if (s->retire_allow < entry_charge(HC_KEY_MAX, c->cfg.max_entry))
		s->retire_allow = entry_charge(HC_KEY_MAX, c->cfg.max_entry);
	if (s->retire_allow >= total)
		return HC_ECONFIG;
	s->budget = total - s->retire_allow;
	/* Ghost sets: about one slot per 256 bytes of budget (the window, not the table,
	 * bounds what it remembers), 16..1M sets; the ghost is the shard's metadata and
	 * comes out of its budget. */
	uint64_t sets = 16;
	while (sets < (1u << 20) && sets * GHOST_WAYS * 256 < s->budget)
		sets <<= 1;
	s->ghost.mask = (uint32_t)(sets - 1);
	if (mem_charge(ghost_bytes(&s->ghost)) >= s->budget / 2)
		return HC_ECONFIG;
	s->budget -= mem_charge(ghost_bytes(&s->ghost));
	s->ghost.slot = mem_alloc(ghost_bytes(&s->ghost), 1);
	if (s->ghost.slot == NULL)
		return HC_ENOMEM;
	if (map_init(&s->map, expected) != 0) {
		mem_free(s->ghost.slot, ghost_bytes(&s->ghost));
		return HC_ENOMEM;
	}
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		map_destroy(&s->map, NULL, NULL);
		mem_free(s->ghost.slot, ghost_bytes(&s->ghost));
		return HC_ENOMEM;
	}
	s->cache = c; /* marks the shard initialised for hc_open's unwinding */
	return 0;
}

static void free_node(struct map_node *n, void *arg)
{
	(void)arg;
	entry_free_now(entry_of(n));
}

void shard_destroy(struct shard *s)
{
	map_destroy(&s->map, free_node, NULL);
	mem_free(s->ghost.slot, ghost_bytes(&s->ghost));
	pthread_mutex_destroy(&s->mu);
}

uint64_t shard_accounted(const struct shard *s)
{
	return atomic_load_explicit(&s->bytes, memory_order_relaxed) +
	       atomic_load_explicit(&s->map.meta_bytes, memory_order_relaxed) +
	       atomic_load_explicit(&s->retired, memory_order_relaxed);
}

static uint64_t entry_bytes(const struct shard *s)
{
	return s->small.bytes + s->main.bytes;
}

static void publish_bytes(struct shard *s)
{
	atomic_store_explicit(&s->bytes, entry_bytes(s), memory_order_relaxed);
}

/* Unlinks e from the map (compare-and-delete) and its queue, and retires it. */
static void evict(struct shard *s, struct reclaim_thread *t, struct entry *e, int to_ghost)
{
	queue_unlink(s, e);
	if (map_delete_node(&s->map, &e->node)) {
		if (to_ghost)
			ghost_add(&s->ghost, e->node.link.so_key);
		retire_entry(s, t, e);
		atomic_fetch_add_explicit(&s->evictions, 1, memory_order_relaxed);
	}
}

static uint64_t shard_meta(const struct shard *s)
{
	return atomic_load_explicit(&s->map.meta_bytes, memory_order_relaxed) +
	       map_growth_reserve(&s->map);
}

/*
 * Evicts until entries + buckets + need fit the budget. Bounded: after EVICT_STEPS
 * moves and agings, the oldest entry is evicted whatever its freq. HC_ENOMEM when the
 * shard is empty and need still does not fit.
 */
static int make_room(struct shard *s, struct reclaim_thread *t, uint64_t need)
{
	unsigned steps = 0;
	uint64_t small_share = s->budget / 10;
	while (entry_bytes(s) + shard_meta(s) + need > s->budget) {
		int force = steps >= EVICT_STEPS;
		if (s->small.head != NULL &&
		    (s->small.bytes > small_share || s->main.head == NULL)) {
			struct entry *e = s->small.head;
			if (!force && atomic_load_explicit(&e->freq, memory_order_relaxed) > 0) {
				/* Hit while on probation: promote, cold again in MAIN. */
				queue_unlink(s, e);
				atomic_store_explicit(&e->freq, 0, memory_order_relaxed);
				queue_push(s, e, Q_MAIN);
				steps++;
				continue;
			}
			evict(s, t, e, 1);
		} else if (s->main.head != NULL) {
			struct entry *e = s->main.head;
			uint8_t f = atomic_load_explicit(&e->freq, memory_order_relaxed);
			if (!force && f > 0) {
				/* The hand passes a referenced entry: age it, go round again. */
				atomic_store_explicit(&e->freq, (uint8_t)(f - 1), memory_order_relaxed);
				queue_unlink(s, e);
				queue_push(s, e, Q_MAIN);
				steps++;
				continue;
			}
			evict(s, t, e, 0);
		} else {
			return HC_ENOMEM;
		}
	}
	return 0;
}

/* Whether an install of need bytes is admitted: entries + buckets + retired + need
 * within budget + allowance. Evictions and replaces move bytes from entries to retired
 * and leave that sum alone, so the answer is known before evicting anything. */
static int admits(const struct shard *s, uint64_t entries, uint64_t need)
{
	return entries + shard_meta(s) + atomic_load_explicit(&s->retired, memory_order_relaxed) +
	       need <= s->budget + s->retire_allow;
}

int shard_fits(const struct shard *s, uint64_t need)
{
	return admits(s, atomic_load_explicit(&s->bytes, memory_order_relaxed), need);
}

int shard_install_locked(struct shard *s, struct reclaim_thread *t, struct entry *e,
                         int replace)
{
	/* Admission first: a refused install must not have evicted (lost entries, and
	 * evicted bytes counted both as entries and as retired until the next install). */
	if (!admits(s, entry_bytes(s), e->charge))
		return HC_EBUSY;
	/* Writers of the shard hold its mutex, so the key cannot appear before the insert. */
	if (!replace && map_get(&s->map, e->node.link.so_key, entry_key(e), e->node.klen) != NULL)
		return HC_EEXIST;
	int rc = make_room(s, t, e->charge);
	if (rc != 0) {
		publish_bytes(s);
		return rc;
	}
	struct map_node *old = NULL;
	if (replace) {
		old = map_replace(&s->map, &e->node);
	} else {
		struct map_node *existing;
		if (map_insert(&s->map, &e->node, &existing) == HC_EEXIST) {
			publish_bytes(s);
			return HC_EEXIST;
		}
	}
	int to_main = ghost_take(&s->ghost, e->node.link.so_key, s->small.count + s->main.count);
	if (old != NULL) {
		struct entry *oe = entry_of(old);
		/* A new value of a key that proved itself keeps the key's standing. */
		if (oe->queue == Q_MAIN)
			to_main = 1;
		queue_unlink(s, oe);
		retire_entry(s, t, oe);
		atomic_fetch_add_explicit(&s->replaced, 1, memory_order_relaxed);
	}
	queue_push(s, e, to_main ? Q_MAIN : Q_SMALL);
	publish_bytes(s);
	atomic_fetch_add_explicit(&s->inserts, 1, memory_order_relaxed);
	return 0;
}

int shard_remove_locked(struct shard *s, struct reclaim_thread *t, uint64_t hash,
                        const void *key, uint32_t klen)
{
	struct map_node *n = map_delete(&s->map, hash, key, klen);
	if (n == NULL)
		return 0;
	struct entry *e = entry_of(n);
	queue_unlink(s, e);
	retire_entry(s, t, e);
	publish_bytes(s);
	return 1;
}
