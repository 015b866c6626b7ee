/*
 * The split-ordered lock-free hash map. The algorithm, its invariants (I1-I4), node
 * states, memory ordering and progress are set out at the top of map.h; the comments
 * here say which of them each step keeps.
 *
 * Where it is used: no longer by the cache, whose shards look keys up in the
 * open-addressed index (map/index.c: a DRAM hit is two dependent misses there, about
 * 3.5 here), and not built into the library (map/module.cmake: hc_splitmap). It stays
 * as map_bench's reference peer, which the index is measured against, and as the
 * unkeyed control of test_hostile_keys, with its own tests (test_map, stress_map) and
 * spin models (tests/model/map.pml, map_bad.pml), so those comparisons stay honest.
 */
#include "map/map.h"

#include <sodium.h>
#include <string.h>

#include "reclaim/alloc.h"

#define MAP_MARK ((uintptr_t)1)

enum { B_UNINIT = 0, B_BUSY = 1, B_READY = 2 };

static inline struct map_link *lptr(uintptr_t v)
{
	return (struct map_link *)(v & ~MAP_MARK);
}

/*
 * Split order on the hash's top bits. At order k (2^k buckets) a hash's bucket is its
 * top k bits t; the list is sorted by the hash itself (so_key = hash | 1), so bucket
 * t's nodes lie between its dummy, key t << (64 - k), and the next bucket's. Doubling
 * splits bucket t into 2t (the same dummy) and 2t + 1 (a new dummy in the middle of
 * t's run), so no node ever moves. Compared with the textbook's bit-reversed low bits
 * this needs no bit reversal on any lookup or insert.
 *
 * A dummy is identified by its key; the level that introduced it is where it lives:
 * t = 0 in level 0; otherwise, with z = ctz(t), level k - z at index t >> (z + 1)
 * (t >> z is odd and below 2^(k-z)). Its parent is t & (t - 1): the dummy just before
 * it at a smaller order, which precedes all of t's nodes.
 */
static inline uint64_t so_regular(uint64_t hash)
{
	return hash | 1;
}

static inline uint64_t bucket_parent(uint64_t t)
{
	return t & (t - 1);
}

static inline uint64_t dummy_key(uint64_t t, unsigned k)
{
	return t == 0 ? 0 : t << (64 - k);
}

static inline size_t level_buckets(unsigned lvl)
{
	return lvl == 0 ? 1 : (size_t)1 << (lvl - 1);
}

static inline struct map_bucket *bucket_at(const struct map *m, uint64_t t, unsigned k)
{
	unsigned lvl = 0;
	uint64_t idx = 0;
	if (t != 0) {
		unsigned z = (unsigned)__builtin_ctzll(t);
		lvl = k - z;
		idx = t >> (z + 1);
	}
	/* Acquire pairs with the release CAS in level_alloc: the array is zeroed. */
	struct map_bucket *arr = atomic_load_explicit(&m->level[lvl], memory_order_acquire);
	return &arr[idx];
}

/* The current order and hash's bucket at it. */
static inline uint64_t bucket_of(const struct map *m, uint64_t hash, unsigned *k)
{
	/* Acquire pairs with the release CAS of order in grow(): its level is there. */
	unsigned order = atomic_load_explicit(&m->order, memory_order_acquire);
	*k = order;
	return hash >> (64 - order); /* order >= 4 from map_init on */
}

static inline int node_matches(const struct map_link *l, const void *key, uint32_t klen)
{
	const struct map_node *n = (const struct map_node *)l;
	return n->klen == klen && map_key_eq(map_node_key(n), key, klen);
}

/* ---- buckets ------------------------------------------------------------------- */

struct find_res {
	struct map_link *prev;       /* insertion point: prev->next == curr */
	struct map_link *curr;       /* first node with so_key >= target, or NULL */
	struct map_link *found;      /* the live node for the key, or NULL */
	struct map_link *found_prev;
	unsigned run;                /* nodes scanned from the start */
};

static void find(struct map *m, struct map_link *head, uint64_t so_key, const void *key,
                 uint32_t klen, struct find_res *fr, int full);

/* A READY bucket for b, initialising it (and its parents) if this thread can claim
 * them; otherwise the nearest READY ancestor. Lock-free; never waits. */
static struct map_bucket *bucket_ready(struct map *m, uint64_t b, unsigned k)
{
	struct map_bucket *bk = bucket_at(m, b, k);
	/* Acquire pairs with the release store of READY: the dummy is linked (I4). */
	uint32_t st = atomic_load_explicit(&bk->state, memory_order_acquire);
	if (st == B_READY)
		return bk;
	struct map_bucket *pb = bucket_ready(m, bucket_parent(b), k);
	if (st == B_UNINIT &&
	    atomic_compare_exchange_strong_explicit(&bk->state, &st, B_BUSY, memory_order_acquire,
	                                            memory_order_acquire)) {
		uint64_t so = dummy_key(b, k);
		bk->link.so_key = so;
		for (;;) {
			struct find_res fr;
			find(m, &pb->link, so, NULL, 0, &fr, 1);
			atomic_store_explicit(&bk->link.next, (uintptr_t)fr.curr, memory_order_relaxed);
			uintptr_t expect = (uintptr_t)fr.curr;
			/* Release: the dummy's fields before it is reachable. */
			if (atomic_compare_exchange_strong_explicit(&fr.prev->next, &expect,
			                                            (uintptr_t)&bk->link,
			                                            memory_order_acq_rel,
			                                            memory_order_acquire))
				break;
		}
		/* Release pairs with the acquire loads of state: dummy linked first. */
		atomic_store_explicit(&bk->state, B_READY, memory_order_release);
		return bk;
	}
	return atomic_load_explicit(&bk->state, memory_order_acquire) == B_READY ? bk : pb;
}

/* Where an updater starts for hash; *exact says whether it is the hash's own bucket. */
static struct map_link *updater_head(struct map *m, uint64_t hash, int *exact)
{
	unsigned k;
	uint64_t b = bucket_of(m, hash, &k);
	struct map_bucket *bk = bucket_ready(m, b, k);
	*exact = bk == bucket_at(m, b, k);
	return &bk->link;
}

/* Where a reader starts: the nearest READY bucket, without initialising anything. */
static inline const struct map_link *reader_head(const struct map *m, uint64_t hash)
{
	unsigned k;
	uint64_t b = bucket_of(m, hash, &k);
	for (;;) {
		const struct map_bucket *bk = bucket_at(m, b, k);
		/* Acquire pairs with the release store of B_READY in bucket_ready: the
		 * dummy is linked and its fields are set. */
		if (atomic_load_explicit(&bk->state, memory_order_acquire) == B_READY)
			return &bk->link;
		b = bucket_parent(b); /* bucket 0 is READY from map_init */
	}
}

/*
 * Harris-Michael search extended to runs of equal so_key: scans the run of so_key,
 * unlinking every marked node on the way (restarting from head when an unlink CAS
 * fails). With full, it goes on to the first node with a greater so_key, so on return
 * every node of the run that was marked when the search began is unlinked (I3), which
 * is what delete, replace and compare-and-delete rely on before handing a node back;
 * without, it stops at the live node for the key (saving the miss on the next node),
 * which is all a search that only locates the key needs. If the key is absent both
 * scan the whole run (the insertion point is its start).
 */
static void find(struct map *m, struct map_link *head, uint64_t so_key, const void *key,
                 uint32_t klen, struct find_res *fr, int full)
{
	(void)m;
retry:;
	struct map_link *prev = head;
	/* Acquire loads of next pair with the release (acq_rel) CASes that link a node
	 * (link_at, map_replace, bucket_ready's dummy) or unlink one: a node's fields are
	 * set before it is reachable. */
	struct map_link *curr = lptr(atomic_load_explicit(&prev->next, memory_order_acquire));
	fr->prev = NULL;
	fr->curr = NULL;
	fr->found = NULL;
	fr->found_prev = NULL;
	fr->run = 0;
	while (curr != NULL) {
		/* Acquire pairs with the release CAS that linked curr's successor. */
		uintptr_t next = atomic_load_explicit(&curr->next, memory_order_acquire);
		if (next & MAP_MARK) {
			uintptr_t expect = (uintptr_t)curr;
			/* Release: a reader that follows the new link sees the successor's
			 * fields (we acquired them through curr->next). Fails if prev was
			 * marked or changed: restart (lock-free: someone else progressed). */
			if (!atomic_compare_exchange_strong_explicit(&prev->next, &expect,
			                                             next & ~MAP_MARK,
			                                             memory_order_acq_rel,
			                                             memory_order_acquire))
				goto retry;
			curr = lptr(next);
			continue;
		}
		if (curr->so_key > so_key)
			break;
		if (curr->so_key == so_key) {
			if (fr->prev == NULL) {
				fr->prev = prev;
				fr->curr = curr;
			}
			if (key != NULL && fr->found == NULL && node_matches(curr, key, klen)) {
				fr->found = curr;
				fr->found_prev = prev;
				if (!full)
					return;
			}
		}
		fr->run++;
		prev = curr;
		curr = lptr(next);
	}
	if (fr->prev == NULL) {
		fr->prev = prev;
		fr->curr = curr;
	}
}

/* ---- counting and growth --------------------------------------------------------- */

static _Atomic unsigned stripe_next;
static _Thread_local unsigned stripe_mine; /* 0 = unassigned, else index + 1 */

static inline struct map_stripe *my_stripe(struct map *m)
{
	if (stripe_mine == 0)
		stripe_mine = atomic_fetch_add_explicit(&stripe_next, 1, memory_order_relaxed) %
		                      MAP_STRIPES + 1;
	return &m->count[stripe_mine - 1];
}

uint64_t map_count(const struct map *m)
{
	int64_t sum = 0;
	for (int i = 0; i < MAP_STRIPES; i++)
		sum += atomic_load_explicit(&m->count[i].n, memory_order_relaxed);
	return sum < 0 ? 0 : (uint64_t)sum;
}

static int level_alloc(struct map *m, unsigned lvl)
{
	/* Acquire pairs with the release CAS below: a level seen is zeroed. */
	if (atomic_load_explicit(&m->level[lvl], memory_order_acquire) != NULL)
		return 0;
	size_t bytes = level_buckets(lvl) * sizeof(struct map_bucket);
	struct map_bucket *arr = mem_alloc(bytes, 1);
	if (arr == NULL)
		return HC_ENOMEM;
	struct map_bucket *expect = NULL;
	/* Release pairs with the acquire in bucket_at: zeroed (UNINIT) buckets. */
	if (!atomic_compare_exchange_strong_explicit(&m->level[lvl], &expect, arr,
	                                            memory_order_release, memory_order_acquire))
		mem_free(arr, bytes);
	else
		atomic_fetch_add_explicit(&m->meta_bytes, mem_charge(bytes), memory_order_relaxed);
	return 0;
}

static void grow(struct map *m)
{
	for (;;) {
		/* Acquire pairs with the release CAS of order below (and map_init's store):
		 * the levels up to it are allocated. */
		unsigned order = atomic_load_explicit(&m->order, memory_order_acquire);
		if (order + 1 >= MAP_LEVELS || map_count(m) <= ((uint64_t)MAP_MAX_LOAD << order))
			return;
		if (level_alloc(m, order + 1) != 0) {
			atomic_fetch_add_explicit(&m->grow_failures, 1, memory_order_relaxed);
			return;
		}
		/* Release pairs with the acquire in bucket_of: the level is published. */
		atomic_compare_exchange_strong_explicit(&m->order, &order, order + 1,
		                                        memory_order_release, memory_order_relaxed);
	}
}

/*
 * Counts an insert or delete on the thread's stripe. The growth check (a sum over the
 * stripes) runs every 16th insert on a stripe and on every insert while the stripe
 * holds more than its share of the load bound: if no stripe is over its share the
 * total is within the bound, so many threads each adding a few keys cannot run the
 * load past it unnoticed (test_map: load_bound_holds_when_many_threads_insert...).
 */
static void count_add(struct map *m, int64_t d)
{
	struct map_stripe *s = my_stripe(m);
	int64_t v = atomic_fetch_add_explicit(&s->n, d, memory_order_relaxed) + d;
	if (d <= 0)
		return;
	unsigned order = atomic_load_explicit(&m->order, memory_order_relaxed);
	int64_t share = (int64_t)(((uint64_t)MAP_MAX_LOAD << order) / MAP_STRIPES);
	if ((v & 15) == 0 || v > share)
		grow(m);
}

/* ---- public operations ------------------------------------------------------------ */

int map_init(struct map *m, uint64_t expected)
{
	memset(m, 0, sizeof(*m));
	randombytes_buf(&m->seed, sizeof(m->seed));
	unsigned order = 4;
	while (order + 1 < MAP_LEVELS - 8 && (1ull << order) < expected)
		order++;
	for (unsigned lvl = 0; lvl <= order; lvl++) {
		if (level_alloc(m, lvl) != 0) {
			map_destroy(m, NULL, NULL);
			return HC_ENOMEM;
		}
	}
	struct map_bucket *b0 = bucket_at(m, 0, 0);
	b0->link.so_key = 0;
	atomic_store_explicit(&b0->state, B_READY, memory_order_relaxed);
	/* Release pairs with the acquire loads of order (bucket_of, grow): the levels and
	 * bucket 0 before the map is used (hc_open hands it to other threads after). */
	atomic_store_explicit(&m->order, order, memory_order_release);
	return 0;
}

void map_destroy(struct map *m, void (*fn)(struct map_node *node, void *arg), void *arg)
{
	/* No other thread uses the map now (the caller's contract); acquire as
	 * everywhere else, which costs nothing here and pairs with the same stores. */
	struct map_bucket *b0 = atomic_load_explicit(&m->level[0], memory_order_acquire);
	if (b0 != NULL && fn != NULL) {
		struct map_link *l = lptr(atomic_load_explicit(&b0->link.next, memory_order_acquire));
		while (l != NULL) {
			struct map_link *next = lptr(atomic_load_explicit(&l->next, memory_order_acquire));
			if (l->so_key & 1)
				fn((struct map_node *)l, arg);
			l = next;
		}
	}
	for (unsigned lvl = 0; lvl < MAP_LEVELS; lvl++) {
		struct map_bucket *arr = atomic_load_explicit(&m->level[lvl], memory_order_relaxed);
		if (arr != NULL)
			mem_free(arr, level_buckets(lvl) * sizeof(struct map_bucket));
		atomic_store_explicit(&m->level[lvl], NULL, memory_order_relaxed);
	}
}

void map_node_init(struct map_node *n, uint64_t hash, uint32_t klen)
{
	atomic_store_explicit(&n->link.next, 0, memory_order_relaxed);
	n->link.so_key = so_regular(hash);
	n->klen = klen;
}

static inline struct map_node *lookup_from(const struct map_link *l, uint64_t so,
                                           const void *key, uint32_t klen)
{
	for (;;) {
		/* Acquire pairs with the release CAS that linked the next node (I2). */
		struct map_link *curr = lptr(atomic_load_explicit(&l->next, memory_order_acquire));
		if (curr == NULL || curr->so_key > so)
			return NULL;
		if (curr->so_key == so && node_matches(curr, key, klen) &&
		    !(atomic_load_explicit(&curr->next, memory_order_acquire) & MAP_MARK))
			return (struct map_node *)curr;
		l = curr;
	}
}

struct map_node *map_get(const struct map *m, uint64_t hash, const void *key, uint32_t klen)
{
	return lookup_from(reader_head(m, hash), so_regular(hash), key, klen);
}

void map_get_batch(const struct map *m, size_t n, const uint64_t *hashes,
                   const void *const *keys, const uint32_t *klens, struct map_node **out)
{
	enum { CHUNK = 16 };
	for (size_t base = 0; base < n; base += CHUNK) {
		size_t k = n - base < CHUNK ? n - base : CHUNK;
		const struct map_link *head[CHUNK];
		for (size_t i = 0; i < k; i++) {
			unsigned ord;
			uint64_t b = bucket_of(m, hashes[base + i], &ord);
			head[i] = &bucket_at(m, b, ord)->link;
			__builtin_prefetch(head[i]);
		}
		for (size_t i = 0; i < k; i++) {
			head[i] = reader_head(m, hashes[base + i]);
			__builtin_prefetch(lptr(atomic_load_explicit(&head[i]->next, memory_order_acquire)));
		}
		for (size_t i = 0; i < k; i++)
			out[base + i] = lookup_from(head[i], so_regular(hashes[base + i]), keys[base + i],
			                            klens[base + i]);
	}
}

void map_prefetch(const struct map *m, uint64_t hash, int stage)
{
	if (stage == 0) {
		unsigned k;
		uint64_t b = bucket_of(m, hash, &k);
		__builtin_prefetch(bucket_at(m, b, k));
	}
	else
		__builtin_prefetch(
			lptr(atomic_load_explicit(&reader_head(m, hash)->next, memory_order_acquire)));
}

static inline uint64_t node_hash(const struct map_node *n)
{
	/* so_key is the hash with its low bit set: the same top (bucket) bits. */
	return n->link.so_key;
}

static void note_run(struct map *m, const struct find_res *fr, int exact)
{
	if (exact && fr->run > MAP_FLOOD_RUN)
		atomic_fetch_add_explicit(&m->flood_events, 1, memory_order_relaxed);
}

/* Links n at fr's insertion point; 1 on success. Release publishes n's fields. */
static int link_at(struct find_res *fr, struct map_node *n)
{
	atomic_store_explicit(&n->link.next, (uintptr_t)fr->curr, memory_order_relaxed);
	uintptr_t expect = (uintptr_t)fr->curr;
	return atomic_compare_exchange_strong_explicit(&fr->prev->next, &expect, (uintptr_t)n,
	                                               memory_order_acq_rel, memory_order_acquire);
}

int map_insert(struct map *m, struct map_node *n, struct map_node **existing)
{
	const void *key = map_node_key(n);
	uint64_t h = node_hash(n);
	for (;;) {
		int exact;
		struct map_link *head = updater_head(m, h, &exact);
		struct find_res fr;
		find(m, head, n->link.so_key, key, n->klen, &fr, 0);
		if (fr.found != NULL) {
			if (existing != NULL)
				*existing = (struct map_node *)fr.found;
			return HC_EEXIST;
		}
		if (link_at(&fr, n)) {
			note_run(m, &fr, exact);
			count_add(m, 1);
			return 0;
		}
	}
}

/* Makes sure the marked node x is unlinked before it is handed back (I3). */
static void unlink_marked(struct map *m, struct map_link *prev, struct map_link *x,
                          uintptr_t succ, const void *key, uint32_t klen)
{
	uintptr_t expect = (uintptr_t)x;
	/* acq_rel as find()'s unlinking CAS: release, so a reader following the new link
	 * sees succ's fields (acquired through x->next); acquire on failure pairs with
	 * the CAS that changed prev->next. */
	if (atomic_compare_exchange_strong_explicit(&prev->next, &expect, succ,
	                                            memory_order_acq_rel, memory_order_acquire))
		return;
	int exact;
	struct find_res fr;
	find(m, updater_head(m, x->so_key, &exact), x->so_key, key, klen, &fr, 1);
}

struct map_node *map_replace(struct map *m, struct map_node *n)
{
	const void *key = map_node_key(n);
	uint64_t h = node_hash(n);
	for (;;) {
		int exact;
		struct map_link *head = updater_head(m, h, &exact);
		struct find_res fr;
		find(m, head, n->link.so_key, key, n->klen, &fr, 0);
		if (fr.found == NULL) {
			if (link_at(&fr, n)) {
				note_run(m, &fr, exact);
				count_add(m, 1);
				return NULL;
			}
			continue;
		}
		struct map_link *old = fr.found;
		/* Acquire pairs with the CAS that linked old's successor: n takes it over. */
		uintptr_t next = atomic_load_explicit(&old->next, memory_order_acquire);
		if (next & MAP_MARK)
			continue;
		atomic_store_explicit(&n->link.next, next, memory_order_relaxed);
		/* One CAS deletes old and makes n reachable through it (I2). Release: n's
		 * fields before a reader can follow old->next to it. */
		if (!atomic_compare_exchange_strong_explicit(&old->next, &next,
		                                            (uintptr_t)n | MAP_MARK,
		                                            memory_order_acq_rel,
		                                            memory_order_acquire))
			continue;
		unlink_marked(m, fr.found_prev, old, (uintptr_t)n, key, n->klen);
		return (struct map_node *)old;
	}
}

/* Marks x deleted; 1 if this call did, 0 if it already was. *succ gets its successor. */
static int mark(struct map_link *x, uintptr_t *succ)
{
	/* Acquire (and the CAS's acq_rel) pair with the CAS that linked x's successor:
	 * *succ's fields are visible to the caller that unlinks x past it. */
	uintptr_t next = atomic_load_explicit(&x->next, memory_order_acquire);
	for (;;) {
		if (next & MAP_MARK)
			return 0;
		/* The CAS fails when a node was linked after x (retry with it) or x was
		 * marked by someone else (return 0). */
		if (atomic_compare_exchange_weak_explicit(&x->next, &next, next | MAP_MARK,
		                                          memory_order_acq_rel,
		                                          memory_order_acquire)) {
			*succ = next;
			return 1;
		}
	}
}

struct map_node *map_delete(struct map *m, uint64_t hash, const void *key, uint32_t klen)
{
	uint64_t so = so_regular(hash);
	for (;;) {
		int exact;
		struct map_link *head = updater_head(m, hash, &exact);
		struct find_res fr;
		find(m, head, so, key, klen, &fr, 0);
		if (fr.found == NULL)
			return NULL;
		uintptr_t succ;
		if (!mark(fr.found, &succ))
			continue; /* deleted or replaced meanwhile: look again */
		unlink_marked(m, fr.found_prev, fr.found, succ, key, klen);
		count_add(m, -1);
		return (struct map_node *)fr.found;
	}
}

int map_delete_node(struct map *m, struct map_node *n)
{
	uintptr_t succ;
	if (!mark(&n->link, &succ))
		return 0;
	/* The predecessor is unknown: a find over n's run unlinks it (I3). */
	int exact;
	struct find_res fr;
	find(m, updater_head(m, node_hash(n), &exact), n->link.so_key, map_node_key(n), n->klen,
	     &fr, 1);
	count_add(m, -1);
	return 1;
}

uint64_t map_growth_reserve(const struct map *m)
{
	/* Acquire pairs with grow()'s release CAS of order, as in bucket_of. */
	unsigned order = atomic_load_explicit(&m->order, memory_order_acquire);
	if (order + 1 >= MAP_LEVELS)
		return 0;
	/* A stripe checks every 16 inserts, so the count may run ahead by 16 per stripe. */
	if (map_count(m) + 16 * MAP_STRIPES < ((uint64_t)MAP_MAX_LOAD << order))
		return 0;
	return mem_charge(level_buckets(order + 1) * sizeof(struct map_bucket));
}

void map_stats(const struct map *m, struct map_stats *st)
{
	st->count = map_count(m);
	/* Acquire pairs with grow()'s release CAS of order, as in bucket_of. */
	st->buckets = 1ull << atomic_load_explicit(&m->order, memory_order_acquire);
	st->meta_bytes = atomic_load_explicit(&m->meta_bytes, memory_order_relaxed);
	st->flood_events = atomic_load_explicit(&m->flood_events, memory_order_relaxed);
	st->grow_failures = atomic_load_explicit(&m->grow_failures, memory_order_relaxed);
}
