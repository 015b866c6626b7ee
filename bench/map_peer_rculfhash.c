/*
 * Peer: liburcu's rculfhash (the split-ordered table ours is modelled on) with the
 * membarrier flavour (urcu-memb: read sections without fences), inlined read-side
 * (_LGPL_SOURCE), as a performance-minded user would build it. Readers look up inside
 * rcu_read_lock; put is cds_lfht_add_replace with a fresh node, delete is lookup +
 * cds_lfht_del, both inside a read section; the unlinked node is freed by call_rcu
 * (liburcu's default call_rcu worker thread frees it after a grace period).
 *
 * The table starts at nextpow2(nkeys) buckets with CDS_LFHT_AUTO_RESIZE |
 * CDS_LFHT_ACCOUNTING; max_nr_buckets = 0 selects the "order" bucket allocator (one
 * calloc per order, together size x 16 bytes). With accounting it grows only past
 * 8 nodes per bucket and shrinks only below 1 per 8, so for nkeys keys the size stays
 * at nextpow2(nkeys).
 *
 * Entry layout: [cds_lfht_node 16][rcu_head 16][value 8][klen 4][key klen], one
 * mem_alloc. Bytes: live nodes (cds_lfht_count_nodes) x mem_charge(node) + the
 * bucket table, estimated as nextpow2(nkeys) x sizeof(struct cds_lfht_node) because
 * rculfhash allocates it internally and does not expose its size.
 */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bench/map_peer.h"
#include "map/hash.h"
#include "reclaim/alloc.h"

struct rlf_node {
	struct cds_lfht_node lfn;
	struct rcu_head rh;
	uint64_t value;
	uint32_t klen;
	unsigned char key[];
};

struct rlf {
	struct cds_lfht *ht;
	struct map_seed seed;
	uint32_t klen;
	size_t node_size;
	uint64_t buckets; /* the size the table was created with (see above) */
};

static unsigned long rlf_pow2(uint64_t n)
{
	unsigned long p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static void rlf_free_rcu(struct rcu_head *rh)
{
	struct rlf_node *n = caa_container_of(rh, struct rlf_node, rh);
	mem_free(n, sizeof(*n) + n->klen);
}

struct rlf_key {
	const void *key;
	uint32_t klen;
};

static int rlf_match(struct cds_lfht_node *lfn, const void *arg)
{
	const struct rlf_node *n = caa_container_of(lfn, struct rlf_node, lfn);
	const struct rlf_key *k = arg;
	return n->klen == k->klen && memcmp(n->key, k->key, k->klen) == 0;
}

static void *rlf_init(uint64_t nkeys, uint32_t klen)
{
	struct rlf *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->seed.s0 = (uint64_t)rand() << 32 ^ (uint64_t)rand();
	r->seed.s1 = (uint64_t)rand() << 32 ^ (uint64_t)rand() ^ 0x27d4eb2fu;
	r->klen = klen;
	r->node_size = sizeof(struct rlf_node) + klen;
	r->buckets = rlf_pow2(nkeys);
	r->ht = cds_lfht_new_flavor(r->buckets, 1, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
	                            &urcu_memb_flavor, NULL);
	if (r->ht == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

static void rlf_destroy(void *h)
{
	struct rlf *r = h;
	struct cds_lfht_iter it;
	struct rlf_node *n;
	urcu_memb_register_thread();
	urcu_memb_read_lock();
	cds_lfht_for_each_entry(r->ht, &it, n, lfn) {
		if (cds_lfht_del(r->ht, &n->lfn) == 0)
			urcu_memb_call_rcu(&n->rh, rlf_free_rcu);
	}
	urcu_memb_read_unlock();
	urcu_memb_barrier();
	urcu_memb_unregister_thread();
	(void)cds_lfht_destroy(r->ht, NULL);
	free(r);
}

static void rlf_thread_enter(void *h, unsigned tid)
{
	(void)h;
	(void)tid;
	urcu_memb_register_thread();
}

static void rlf_thread_exit(void *h, unsigned tid)
{
	(void)h;
	(void)tid;
	urcu_memb_unregister_thread();
}

static inline unsigned long rlf_hash(const struct rlf *r, const void *key)
{
	return (unsigned long)map_hash_bytes(&r->seed, key, r->klen);
}

static int rlf_get(void *h, unsigned tid, const void *key, uint64_t *val)
{
	struct rlf *r = h;
	struct rlf_key k = { key, r->klen };
	struct cds_lfht_iter it;
	int hit = 0;
	(void)tid;
	unsigned long hash = rlf_hash(r, key);
	urcu_memb_read_lock();
	cds_lfht_lookup(r->ht, hash, rlf_match, &k, &it);
	struct cds_lfht_node *lfn = cds_lfht_iter_get_node(&it);
	if (lfn != NULL) {
		*val = caa_container_of(lfn, struct rlf_node, lfn)->value;
		hit = 1;
	}
	urcu_memb_read_unlock();
	return hit;
}

static int rlf_put(void *h, unsigned tid, const void *key, uint64_t val)
{
	struct rlf *r = h;
	(void)tid;
	struct rlf_node *n = mem_alloc(r->node_size, 0);
	if (n == NULL)
		return -1;
	cds_lfht_node_init(&n->lfn);
	n->value = val;
	n->klen = r->klen;
	memcpy(n->key, key, r->klen);
	struct rlf_key k = { n->key, r->klen };
	unsigned long hash = rlf_hash(r, key);
	urcu_memb_read_lock();
	struct cds_lfht_node *old = cds_lfht_add_replace(r->ht, hash, rlf_match, &k, &n->lfn);
	urcu_memb_read_unlock();
	if (old != NULL)
		urcu_memb_call_rcu(&caa_container_of(old, struct rlf_node, lfn)->rh, rlf_free_rcu);
	return 0;
}

static int rlf_del(void *h, unsigned tid, const void *key)
{
	struct rlf *r = h;
	struct rlf_key k = { key, r->klen };
	struct cds_lfht_iter it;
	int removed = 0;
	(void)tid;
	unsigned long hash = rlf_hash(r, key);
	urcu_memb_read_lock();
	cds_lfht_lookup(r->ht, hash, rlf_match, &k, &it);
	struct cds_lfht_node *lfn = cds_lfht_iter_get_node(&it);
	if (lfn != NULL && cds_lfht_del(r->ht, lfn) == 0) {
		urcu_memb_call_rcu(&caa_container_of(lfn, struct rlf_node, lfn)->rh, rlf_free_rcu);
		removed = 1;
	}
	urcu_memb_read_unlock();
	return removed;
}

static uint64_t rlf_count(void *h)
{
	struct rlf *r = h;
	long before, after;
	unsigned long count;
	urcu_memb_register_thread();
	urcu_memb_read_lock();
	cds_lfht_count_nodes(r->ht, &before, &count, &after);
	urcu_memb_read_unlock();
	urcu_memb_unregister_thread();
	return count;
}

static uint64_t rlf_bytes(void *h)
{
	struct rlf *r = h;
	return rlf_count(h) * mem_charge(r->node_size) +
	       r->buckets * sizeof(struct cds_lfht_node);
}

const struct map_peer map_peer_rculfhash = {
	.name = "rculfhash",
	.init = rlf_init,
	.destroy = rlf_destroy,
	.thread_enter = rlf_thread_enter,
	.thread_exit = rlf_thread_exit,
	.get = rlf_get,
	.put = rlf_put,
	.del = rlf_del,
	.count = rlf_count,
	.bytes = rlf_bytes,
	.bytes_note = "live nodes x mem_charge(16 lfht node + 16 rcu_head + 8 value + 4 klen + "
	              "key) + estimated buckets: nextpow2(N) x 16 (internal, not exposed)",
};
