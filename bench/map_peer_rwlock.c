/*
 * Peer: the plain answer, one pthread_rwlock over an open-addressing table with
 * linear probing and tombstones. Readers take the lock shared and copy the value out;
 * put and delete take it exclusive. Entries live in the slots (no per-entry
 * allocation, no deferred free): a slot is [tag 8][key, rounded up to 8][value 8],
 * tag 0 = empty, 1 = tombstone, otherwise hash | 2.
 *
 * Sized for the key count: capacity = nextpow2(nkeys / 0.7), so the load stays at or
 * below 0.7. An insert reuses the first tombstone on its probe path; when live plus
 * tombstone slots pass 0.85 x capacity the table is rebuilt under the write lock (at
 * twice the size if the live keys alone pass 0.7), so probes always end at an empty
 * slot. A deleted-then-reinserted key finds its own tombstone on its path, so a
 * constant key set keeps the tombstone count constant.
 *
 * Bytes: mem_charge(capacity x slot size) of the one slot array.
 *
 * rwlock_ptr (opt-in, --impl rwlock_ptr) is the same table doing the job the other
 * maps do: a slot is [tag 8][pointer 8] to a separately allocated entry [value 8][key],
 * a put allocates a fresh entry and frees the one it replaced (after unlocking: a
 * reader only touches entries under the read lock), so a lookup costs a second cache
 * miss and a put an allocation and a free, as they do for the node-based tables.
 * Bytes: the slot array + live entries x mem_charge(entry).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench/map_peer.h"
#include "map/hash.h"
#include "reclaim/alloc.h"

enum { RW_EMPTY = 0, RW_TOMB = 1 };

struct rw_entry {
	uint64_t value;
	unsigned char key[];
};

struct rwt {
	pthread_rwlock_t lock;
	struct map_seed seed;
	int indirect;       /* rwlock_ptr: slots point to entries */
	uint32_t klen;
	size_t entry_size;  /* indirect only */
	size_t stride;      /* slot size */
	uint64_t cap;       /* power of two */
	uint64_t live, tomb;
	unsigned char *slots;
};

static inline uint64_t *rw_tag(const struct rwt *t, uint64_t i)
{
	return (uint64_t *)(t->slots + i * t->stride);
}

static inline struct rw_entry **rw_ptr(const struct rwt *t, uint64_t i)
{
	return (struct rw_entry **)(t->slots + i * t->stride + 8);
}

static inline unsigned char *rw_key(const struct rwt *t, uint64_t i)
{
	return t->indirect ? (*rw_ptr(t, i))->key : t->slots + i * t->stride + 8;
}

static inline uint64_t *rw_val(const struct rwt *t, uint64_t i)
{
	return t->indirect ? &(*rw_ptr(t, i))->value
	                   : (uint64_t *)(t->slots + (i + 1) * t->stride - 8);
}

static inline uint64_t rw_tagof(const struct rwt *t, const void *key)
{
	return map_hash_bytes(&t->seed, key, t->klen) | 2;
}

/* The slot holding key, or -1. Lock held (either mode). */
static int64_t rw_find(const struct rwt *t, uint64_t tag, const void *key)
{
	uint64_t mask = t->cap - 1;
	for (uint64_t i = tag & mask;; i = (i + 1) & mask) {
		uint64_t s = *rw_tag(t, i);
		if (s == RW_EMPTY)
			return -1;
		if (s == tag && memcmp(rw_key(t, i), key, t->klen) == 0)
			return (int64_t)i;
	}
}

/* Moves a slot's body (key and value, or the entry pointer) into a table with no
 * tombstones, where its key is known to be absent. */
static void rw_place(struct rwt *t, uint64_t tag, const unsigned char *body)
{
	uint64_t mask = t->cap - 1, i = tag & mask;
	while (*rw_tag(t, i) != RW_EMPTY)
		i = (i + 1) & mask;
	*rw_tag(t, i) = tag;
	memcpy(t->slots + i * t->stride + 8, body, t->stride - 8);
}

/* Rebuilds without tombstones, at cap slots. 0 or -1 (old table kept). Write lock. */
static int rw_rebuild(struct rwt *t, uint64_t cap)
{
	unsigned char *old = t->slots;
	uint64_t oldcap = t->cap;
	unsigned char *s = mem_alloc(cap * t->stride, 1);
	if (s == NULL)
		return -1;
	t->slots = s;
	t->cap = cap;
	for (uint64_t i = 0; i < oldcap; i++) {
		uint64_t tag = *(uint64_t *)(old + i * t->stride);
		if (tag > RW_TOMB)
			rw_place(t, tag, old + i * t->stride + 8);
	}
	t->tomb = 0;
	mem_free(old, oldcap * t->stride);
	return 0;
}

static void *rw_new(uint64_t nkeys, uint32_t klen, int indirect)
{
	struct rwt *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	if (pthread_rwlock_init(&t->lock, NULL) != 0) {
		free(t);
		return NULL;
	}
	t->seed.s0 = (uint64_t)rand() << 32 ^ (uint64_t)rand();
	t->seed.s1 = (uint64_t)rand() << 32 ^ (uint64_t)rand() ^ 0x85ebca6bu;
	t->klen = klen;
	t->indirect = indirect;
	t->entry_size = sizeof(struct rw_entry) + klen;
	t->stride = indirect ? 16 : 8 + ((klen + 7u) & ~7u) + 8;
	t->cap = 16;
	while (t->cap * 7 < nkeys * 10)
		t->cap <<= 1;
	t->slots = mem_alloc(t->cap * t->stride, 1);
	if (t->slots == NULL) {
		pthread_rwlock_destroy(&t->lock);
		free(t);
		return NULL;
	}
	return t;
}

static void *rw_init(uint64_t nkeys, uint32_t klen)
{
	return rw_new(nkeys, klen, 0);
}

static void *rw_init_ptr(uint64_t nkeys, uint32_t klen)
{
	return rw_new(nkeys, klen, 1);
}

static void rw_destroy(void *h)
{
	struct rwt *t = h;
	for (uint64_t i = 0; t->indirect && i < t->cap; i++)
		if (*rw_tag(t, i) > RW_TOMB)
			mem_free(*rw_ptr(t, i), t->entry_size);
	mem_free(t->slots, t->cap * t->stride);
	pthread_rwlock_destroy(&t->lock);
	free(t);
}

static void rw_thread_enter(void *h, unsigned tid)
{
	(void)h;
	(void)tid;
}

static void rw_thread_exit(void *h, unsigned tid)
{
	(void)h;
	(void)tid;
}

static int rw_get(void *h, unsigned tid, const void *key, uint64_t *val)
{
	struct rwt *t = h;
	uint64_t tag = rw_tagof(t, key);
	(void)tid;
	pthread_rwlock_rdlock(&t->lock);
	int64_t i = rw_find(t, tag, key);
	if (i >= 0)
		*val = *rw_val(t, (uint64_t)i);
	pthread_rwlock_unlock(&t->lock);
	return i >= 0;
}

static int rw_put(void *h, unsigned tid, const void *key, uint64_t val)
{
	struct rwt *t = h;
	uint64_t tag = rw_tagof(t, key), mask;
	int rc = 0;
	struct rw_entry *e = NULL, *old = NULL;
	(void)tid;
	if (t->indirect) {
		e = mem_alloc(t->entry_size, 0);
		if (e == NULL)
			return -1;
		e->value = val;
		memcpy(e->key, key, t->klen);
	}
	pthread_rwlock_wrlock(&t->lock);
	mask = t->cap - 1;
	int64_t slot = -1; /* first tombstone on the path */
	uint64_t i = tag & mask;
	for (;; i = (i + 1) & mask) {
		uint64_t s = *rw_tag(t, i);
		if (s == RW_EMPTY)
			break;
		if (s == RW_TOMB) {
			if (slot < 0)
				slot = (int64_t)i;
		} else if (s == tag && memcmp(rw_key(t, i), key, t->klen) == 0) {
			if (t->indirect) {
				old = *rw_ptr(t, i);
				*rw_ptr(t, i) = e;
			} else {
				*rw_val(t, i) = val;
			}
			goto out;
		}
	}
	if (slot >= 0) {
		i = (uint64_t)slot;
		t->tomb--;
	}
	*rw_tag(t, i) = tag;
	if (t->indirect) {
		*rw_ptr(t, i) = e;
	} else {
		memcpy(rw_key(t, i), key, t->klen);
		*rw_val(t, i) = val;
	}
	t->live++;
	if ((t->live + t->tomb) * 20 > t->cap * 17) {
		uint64_t cap = t->live * 10 > t->cap * 7 ? t->cap * 2 : t->cap;
		if (rw_rebuild(t, cap) != 0 && t->live + t->tomb + 1 >= t->cap)
			rc = -1; /* no empty slot may be left: say so */
	}
out:
	pthread_rwlock_unlock(&t->lock);
	if (old != NULL)
		mem_free(old, t->entry_size);
	return rc;
}

static int rw_del(void *h, unsigned tid, const void *key)
{
	struct rwt *t = h;
	uint64_t tag = rw_tagof(t, key);
	(void)tid;
	pthread_rwlock_wrlock(&t->lock);
	int64_t i = rw_find(t, tag, key);
	struct rw_entry *old = NULL;
	if (i >= 0) {
		if (t->indirect)
			old = *rw_ptr(t, (uint64_t)i);
		*rw_tag(t, (uint64_t)i) = RW_TOMB;
		t->live--;
		t->tomb++;
	}
	pthread_rwlock_unlock(&t->lock);
	if (old != NULL)
		mem_free(old, t->entry_size);
	return i >= 0;
}

static uint64_t rw_count(void *h)
{
	return ((struct rwt *)h)->live;
}

static uint64_t rw_bytes(void *h)
{
	struct rwt *t = h;
	return mem_charge(t->cap * t->stride) +
	       (t->indirect ? t->live * mem_charge(t->entry_size) : 0);
}

const struct map_peer map_peer_rwlock = {
	.name = "rwlock",
	.init = rw_init,
	.destroy = rw_destroy,
	.thread_enter = rw_thread_enter,
	.thread_exit = rw_thread_exit,
	.get = rw_get,
	.put = rw_put,
	.del = rw_del,
	.count = rw_count,
	.bytes = rw_bytes,
	.bytes_note = "mem_charge(capacity x (8 tag + key rounded to 8 + 8 value)), "
	              "capacity = nextpow2(N / 0.7)",
};

const struct map_peer map_peer_rwlock_ptr = {
	.name = "rwlock_ptr",
	.init = rw_init_ptr,
	.destroy = rw_destroy,
	.thread_enter = rw_thread_enter,
	.thread_exit = rw_thread_exit,
	.get = rw_get,
	.put = rw_put,
	.del = rw_del,
	.count = rw_count,
	.bytes = rw_bytes,
	.bytes_note = "mem_charge(capacity x (8 tag + 8 pointer)) + live entries x "
	              "mem_charge(8 value + key)",
};
