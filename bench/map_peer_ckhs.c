/*
 * Peer: Concurrency Kit's ck_hs in SPMC mode with one writer spinlock, as ck intends
 * it for many readers: readers run ck_hs_get lock-free inside a ck_epoch section,
 * writers (put, delete) serialise on a ck_spinlock_t. Objects are immutable: a put
 * installs a new object (ck_hs_set) and the old one, like a removed one, is freed
 * through ck_epoch_call by the writer that unlinked it; each thread polls its own
 * epoch record every CKHS_POLL_EVERY retirements. A map that ck_hs retires when it
 * grows (free with defer) waits for a grace period the same way.
 *
 * The table is CK_HS_MODE_OBJECT | CK_HS_MODE_DELETE (probe bounds, which ck
 * recommends for delete-heavy workloads), presized to 2 x nkeys: ck_hs grows when it
 * is half full, so this is the size it would reach on its own.
 *
 * Entry layout: [ck_epoch_entry 16][value 8][klen 4][key klen], one mem_alloc.
 * Bytes: live objects x mem_charge(object) + every allocation ck_hs made through our
 * ck_malloc (its slot array and probe bounds), counted as allocated.
 */
#include <ck_epoch.h>
#include <ck_hs.h>
#include <ck_spinlock.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bench/map_peer.h"
#include "map/hash.h"
#include "reclaim/alloc.h"

#define CKHS_POLL_EVERY 32

struct ckhs_obj {
	ck_epoch_entry_t ee; /* first: the epoch callback gets this pointer */
	uint64_t value;
	uint32_t klen;
	unsigned char key[];
};

/* A ck_hs map freed with defer: waits for a grace period like an object. */
struct ckhs_deferred {
	ck_epoch_entry_t ee;
	void *p;
	size_t size;
};

struct ckhs_thread {
	ck_epoch_record_t rec;
	unsigned retired;
} __attribute__((aligned(64)));

struct ckhs {
	ck_hs_t hs;
	ck_spinlock_t lock;
	ck_epoch_t epoch;
	uint32_t klen;
	size_t obj_size;
	struct ckhs_thread th[MAP_PEER_MAX_THREADS];
};

/* ck_malloc has no context pointer: one table at a time per process. */
static struct ckhs *ckhs_cur;
static struct map_seed ckhs_seed;
static _Atomic uint64_t ckhs_table_bytes;
static _Thread_local unsigned ckhs_tid;

static void ckhs_obj_free(ck_epoch_entry_t *e)
{
	struct ckhs_obj *o = (struct ckhs_obj *)e;
	mem_free(o, sizeof(*o) + o->klen);
}

static void ckhs_deferred_free(ck_epoch_entry_t *e)
{
	struct ckhs_deferred *d = (struct ckhs_deferred *)e;
	mem_free(d->p, d->size);
	atomic_fetch_sub_explicit(&ckhs_table_bytes, mem_charge(d->size), memory_order_relaxed);
	free(d);
}

static void *ckhs_malloc(size_t size)
{
	void *p = mem_alloc(size, 0);
	if (p != NULL)
		atomic_fetch_add_explicit(&ckhs_table_bytes, mem_charge(size), memory_order_relaxed);
	return p;
}

static void ckhs_free(void *p, size_t size, bool defer)
{
	if (p == NULL)
		return;
	if (defer && ckhs_cur != NULL) {
		struct ckhs_deferred *d = malloc(sizeof(*d));
		if (d != NULL) {
			d->p = p;
			d->size = size;
			/* The caller is a writer holding the lock, on its own record. */
			ck_epoch_call(&ckhs_cur->th[ckhs_tid].rec, &d->ee, ckhs_deferred_free);
			return;
		}
		ck_epoch_synchronize(&ckhs_cur->th[ckhs_tid].rec);
	}
	mem_free(p, size);
	atomic_fetch_sub_explicit(&ckhs_table_bytes, mem_charge(size), memory_order_relaxed);
}

static struct ck_malloc ckhs_allocator = {
	.malloc = ckhs_malloc,
	.free = ckhs_free,
};

static unsigned long ckhs_hash_obj(const void *obj, unsigned long seed)
{
	const struct ckhs_obj *o = obj;
	(void)seed;
	return (unsigned long)map_hash_bytes(&ckhs_seed, o->key, o->klen);
}

static bool ckhs_compare(const void *a, const void *b)
{
	const struct ckhs_obj *x = a, *y = b;
	return x->klen == y->klen && memcmp(x->key, y->key, x->klen) == 0;
}

/* A lookup key shaped like an object (ck_hs compares objects with objects). */
struct ckhs_probe {
	struct ckhs_obj o;
	unsigned char key[MAP_PEER_MAX_KLEN];
};

static inline unsigned long ckhs_probe_init(struct ckhs *c, struct ckhs_probe *p,
                                            const void *key)
{
	p->o.klen = c->klen;
	memcpy(p->o.key, key, c->klen);
	return (unsigned long)map_hash_bytes(&ckhs_seed, key, c->klen);
}

static void *ckhs_init(uint64_t nkeys, uint32_t klen)
{
	if (ckhs_cur != NULL || klen > MAP_PEER_MAX_KLEN)
		return NULL;
	struct ckhs *c = aligned_alloc(64, sizeof(*c));
	if (c == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	ckhs_seed.s0 = (uint64_t)rand() << 32 ^ (uint64_t)rand();
	ckhs_seed.s1 = (uint64_t)rand() << 32 ^ (uint64_t)rand() ^ 0x5bd1e995u;
	c->klen = klen;
	c->obj_size = sizeof(struct ckhs_obj) + klen;
	ck_spinlock_init(&c->lock);
	ck_epoch_init(&c->epoch);
	for (unsigned i = 0; i < MAP_PEER_MAX_THREADS; i++)
		ck_epoch_register(&c->epoch, &c->th[i].rec, NULL);
	ckhs_cur = c;
	if (!ck_hs_init(&c->hs, CK_HS_MODE_SPMC | CK_HS_MODE_OBJECT | CK_HS_MODE_DELETE,
	                ckhs_hash_obj, ckhs_compare, &ckhs_allocator, 2 * nkeys + 2, 0)) {
		ckhs_cur = NULL;
		free(c);
		return NULL;
	}
	return c;
}

static void ckhs_destroy(void *h)
{
	struct ckhs *c = h;
	for (unsigned i = 0; i < MAP_PEER_MAX_THREADS; i++)
		ck_epoch_barrier(&c->th[i].rec);
	ck_hs_iterator_t it = CK_HS_ITERATOR_INITIALIZER;
	void *obj;
	while (ck_hs_next(&c->hs, &it, &obj))
		ckhs_obj_free(&((struct ckhs_obj *)obj)->ee);
	ck_hs_destroy(&c->hs);
	for (unsigned i = 0; i < MAP_PEER_MAX_THREADS; i++)
		ck_epoch_barrier(&c->th[i].rec);
	ckhs_cur = NULL;
	free(c);
}

static void ckhs_thread_enter(void *h, unsigned tid)
{
	struct ckhs *c = h;
	ckhs_tid = tid;
	c->th[tid].retired = 0;
}

static void ckhs_thread_exit(void *h, unsigned tid)
{
	struct ckhs *c = h;
	/* Nothing left pending on a record another thread will use next. */
	ck_epoch_barrier(&c->th[tid].rec);
}

static int ckhs_get(void *h, unsigned tid, const void *key, uint64_t *val)
{
	struct ckhs *c = h;
	struct ckhs_probe p;
	unsigned long hash = ckhs_probe_init(c, &p, key);
	int hit = 0;
	ck_epoch_begin(&c->th[tid].rec, NULL);
	const struct ckhs_obj *o = ck_hs_get(&c->hs, hash, &p.o);
	if (o != NULL) {
		*val = o->value;
		hit = 1;
	}
	ck_epoch_end(&c->th[tid].rec, NULL);
	return hit;
}

static void ckhs_retire(struct ckhs *c, unsigned tid, struct ckhs_obj *old)
{
	ck_epoch_call(&c->th[tid].rec, &old->ee, ckhs_obj_free);
	if (++c->th[tid].retired % CKHS_POLL_EVERY == 0)
		ck_epoch_poll(&c->th[tid].rec);
}

static int ckhs_put(void *h, unsigned tid, const void *key, uint64_t val)
{
	struct ckhs *c = h;
	struct ckhs_obj *o = mem_alloc(c->obj_size, 0);
	if (o == NULL)
		return -1;
	o->value = val;
	o->klen = c->klen;
	memcpy(o->key, key, c->klen);
	unsigned long hash = (unsigned long)map_hash_bytes(&ckhs_seed, key, c->klen);
	void *old = NULL;
	ck_spinlock_lock(&c->lock);
	bool ok = ck_hs_set(&c->hs, hash, o, &old);
	ck_spinlock_unlock(&c->lock);
	if (!ok) {
		mem_free(o, c->obj_size);
		return -1;
	}
	if (old != NULL)
		ckhs_retire(c, tid, old);
	return 0;
}

static int ckhs_del(void *h, unsigned tid, const void *key)
{
	struct ckhs *c = h;
	struct ckhs_probe p;
	unsigned long hash = ckhs_probe_init(c, &p, key);
	ck_spinlock_lock(&c->lock);
	struct ckhs_obj *old = ck_hs_remove(&c->hs, hash, &p.o);
	ck_spinlock_unlock(&c->lock);
	if (old == NULL)
		return 0;
	ckhs_retire(c, tid, old);
	return 1;
}

static uint64_t ckhs_count(void *h)
{
	return (uint64_t)ck_hs_count(&((struct ckhs *)h)->hs);
}

static uint64_t ckhs_bytes(void *h)
{
	struct ckhs *c = h;
	return (uint64_t)ck_hs_count(&c->hs) * mem_charge(c->obj_size) +
	       atomic_load_explicit(&ckhs_table_bytes, memory_order_relaxed);
}

const struct map_peer map_peer_ckhs = {
	.name = "ck_hs_locked",
	.init = ckhs_init,
	.destroy = ckhs_destroy,
	.thread_enter = ckhs_thread_enter,
	.thread_exit = ckhs_thread_exit,
	.get = ckhs_get,
	.put = ckhs_put,
	.del = ckhs_del,
	.count = ckhs_count,
	.bytes = ckhs_bytes,
	.bytes_note = "live objects x mem_charge(16 epoch entry + 8 value + 4 klen + key) + "
	              "ck_hs's own allocations (slots, probe bounds) through ck_malloc",
};
