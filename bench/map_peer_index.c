/*
 * The open-addressed index (map/index.c) under our epoch domain (reclaim/), used as the
 * cache uses it (cache/policy.c, hotcache.c): lookups inside a reclaim section with no
 * lock; puts and deletes under one writer mutex (the shard mutex), each put installing
 * a fresh entry; replaced and deleted entries, and replaced tables, retired and freed
 * after a grace period; each thread polls every IX_POLL_EVERY retirements, outside the
 * lock.
 *
 * Entry layout, key first: [klen 4][pad 4][key klen][value 8][reclaim_node 40], one
 * mem_alloc. Bytes: live entries x mem_charge(entry) + the table (index_stats) +
 * reclaim_backlog() (retired entries and tables, not yet freed).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bench/map_peer.h"
#include "map/index.h"
#include "reclaim/alloc.h"
#include "reclaim/reclaim.h"

#define IX_POLL_EVERY 32
#define IX_BACKLOG_CAP ((size_t)64 << 20)
#define IX_KEY_OFF 8

struct ix_thread {
	unsigned retired;
	char pad[64 - sizeof(unsigned)];
};

struct ixp {
	struct index ix;
	struct reclaim r __attribute__((aligned(64)));
	pthread_mutex_t mu __attribute__((aligned(64))); /* the writer's */
	uint32_t klen;
	size_t entry_size, val_off, rn_off;
	struct ix_thread th[MAP_PEER_MAX_THREADS];
};

static inline struct reclaim_node *rn_of(const struct ixp *p, void *e)
{
	return (struct reclaim_node *)((char *)e + p->rn_off);
}

/* The reclaim node sits at a fixed offset for a given klen; the free function finds
 * the entry's start from it through the klen stored there. */
static void ixp_free(struct reclaim_node *rn)
{
	size_t *sz = (size_t *)(rn + 1);
	mem_free((char *)rn - (*sz - sizeof(*rn) - sizeof(size_t)), *sz);
}

static void *ixp_init(uint64_t nkeys, uint32_t klen)
{
	struct ixp *p = aligned_alloc(64, sizeof(*p));
	if (p == NULL)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->klen = klen;
	p->val_off = IX_KEY_OFF + ((klen + 7) & ~(size_t)7);
	p->rn_off = p->val_off + 8;
	p->entry_size = p->rn_off + sizeof(struct reclaim_node) + sizeof(size_t);
	pthread_mutex_init(&p->mu, NULL);
	if (reclaim_init(&p->r, IX_BACKLOG_CAP, 0) != 0) {
		free(p);
		return NULL;
	}
	struct index_layout lay = { 0, IX_KEY_OFF };
	if (index_init(&p->ix, nkeys, NULL, lay, &p->r) != 0) {
		reclaim_destroy(&p->r);
		free(p);
		return NULL;
	}
	return p;
}

static void ixp_destroy_entry(void *e, void *arg)
{
	struct ixp *p = arg;
	mem_free(e, p->entry_size);
}

static void ixp_destroy(void *h)
{
	struct ixp *p = h;
	index_destroy(&p->ix, ixp_destroy_entry, p);
	reclaim_destroy(&p->r);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static void ixp_thread_enter(void *h, unsigned tid)
{
	struct ixp *p = h;
	p->th[tid].retired = 0;
	(void)reclaim_self(&p->r);
}

static void ixp_thread_exit(void *h, unsigned tid)
{
	struct ixp *p = h;
	struct reclaim_thread *t = reclaim_self(&p->r);
	(void)tid;
	if (t != NULL)
		reclaim_poll(t);
	reclaim_detach(&p->r);
}

static int ixp_get(void *h, unsigned tid, const void *key, uint64_t *val)
{
	struct ixp *p = h;
	int hit = 0;
	(void)tid;
	struct reclaim_thread *t = reclaim_enter(&p->r);
	const unsigned char *e = index_get(&p->ix, index_hash(&p->ix, key, p->klen), key, p->klen);
	if (e != NULL) {
		memcpy(val, e + p->val_off, 8);
		hit = 1;
	}
	reclaim_exit(t);
	return hit;
}

static void ixp_retire(struct ixp *p, unsigned tid, void *old)
{
	struct reclaim_thread *t = reclaim_self(&p->r);
	reclaim_retire(t, rn_of(p, old), mem_charge(p->entry_size), ixp_free);
	if (++p->th[tid].retired % IX_POLL_EVERY == 0)
		reclaim_poll(t);
}

static int ixp_put(void *h, unsigned tid, const void *key, uint64_t val)
{
	struct ixp *p = h;
	unsigned char *e = mem_alloc(p->entry_size, 0);
	if (e == NULL)
		return -1;
	uint32_t klen = p->klen;
	memcpy(e, &klen, 4);
	memset(e + 4, 0, 4);
	memcpy(e + IX_KEY_OFF, key, klen);
	memcpy(e + p->val_off, &val, 8);
	*(size_t *)(rn_of(p, e) + 1) = p->entry_size;
	uint64_t hash = index_hash(&p->ix, key, klen);
	void *old = NULL;
	pthread_mutex_lock(&p->mu);
	int rc = index_replace(&p->ix, hash, e, &old);
	pthread_mutex_unlock(&p->mu);
	if (rc != 0) {
		mem_free(e, p->entry_size);
		return -1;
	}
	if (old != NULL)
		ixp_retire(p, tid, old);
	return 0;
}

static int ixp_del(void *h, unsigned tid, const void *key)
{
	struct ixp *p = h;
	uint64_t hash = index_hash(&p->ix, key, p->klen);
	pthread_mutex_lock(&p->mu);
	void *old = index_delete(&p->ix, hash, key, p->klen);
	pthread_mutex_unlock(&p->mu);
	if (old == NULL)
		return 0;
	ixp_retire(p, tid, old);
	return 1;
}

static uint64_t ixp_count(void *h)
{
	return index_count(&((struct ixp *)h)->ix);
}

static uint64_t ixp_bytes(void *h)
{
	struct ixp *p = h;
	struct index_stats st;
	index_stats(&p->ix, &st);
	return st.count * mem_charge(p->entry_size) + st.table_bytes + reclaim_backlog(&p->r);
}

const struct map_peer map_peer_index = {
	.name = "index",
	.init = ixp_init,
	.destroy = ixp_destroy,
	.thread_enter = ixp_thread_enter,
	.thread_exit = ixp_thread_exit,
	.get = ixp_get,
	.put = ixp_put,
	.del = ixp_del,
	.count = ixp_count,
	.bytes = ixp_bytes,
	.bytes_note = "live entries x mem_charge(8 lengths + key + 8 value + 40 reclaim + 8 "
	              "size) + index table + reclaim backlog",
};
