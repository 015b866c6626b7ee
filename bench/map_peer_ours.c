/*
 * Our split-ordered map (map/) under our epoch domain (reclaim/), used as the cache
 * uses it: every operation is one reclaim section, a replace installs a fresh node,
 * replaced and deleted nodes are retired and freed after a grace period, and each
 * thread polls the domain every OURS_POLL_EVERY retirements, outside a section.
 *
 * Entry layout: [reclaim_node 40][value 8][map_node 24][key klen], one mem_alloc.
 * Bytes: live nodes x mem_charge(node) + map_stats().meta_bytes (bucket levels) +
 * reclaim_backlog() (retired, not yet freed).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/map_peer.h"
#include "map/map.h"
#include "reclaim/alloc.h"
#include "reclaim/reclaim.h"

#define OURS_POLL_EVERY 32
#define OURS_BACKLOG_CAP ((size_t)64 << 20)

struct ours_node {
	struct reclaim_node rn;
	uint64_t value;
	struct map_node mn; /* key bytes follow directly (map_node_key) */
};

struct ours_thread {
	unsigned retired;
	char pad[64 - sizeof(unsigned)];
};

/* The map and the domain each start a cache line: struct map's striped counters are
 * not line-aligned, so whatever followed the map directly would share a line with its
 * last stripe (and the domain's global epoch, read by every reclaim_enter, would
 * bounce with every insert counted on that stripe). */
struct ours {
	struct map m __attribute__((aligned(64)));
	struct reclaim r __attribute__((aligned(64)));
	uint32_t klen __attribute__((aligned(64)));
	size_t node_size;
	struct ours_thread th[MAP_PEER_MAX_THREADS];
};

int map_peer_ours_mismatch;

static inline struct ours_node *ours_of(struct map_node *n)
{
	return (struct ours_node *)((char *)n - offsetof(struct ours_node, mn));
}

static void ours_free(struct reclaim_node *rn)
{
	struct ours_node *n = (struct ours_node *)rn;
	mem_free(n, sizeof(*n) + n->mn.klen);
}

static void *ours_init(uint64_t nkeys, uint32_t klen)
{
	struct ours *o = aligned_alloc(64, sizeof(*o));
	if (o == NULL)
		return NULL;
	memset(o, 0, sizeof(*o));
	o->klen = klen;
	o->node_size = sizeof(struct ours_node) + klen;
	if (map_init(&o->m, nkeys) != 0) {
		free(o);
		return NULL;
	}
	if (reclaim_init(&o->r, OURS_BACKLOG_CAP, 0) != 0) {
		map_destroy(&o->m, NULL, NULL);
		free(o);
		return NULL;
	}
	return o;
}

static void ours_destroy_node(struct map_node *n, void *arg)
{
	++*(uint64_t *)arg;
	ours_free(&ours_of(n)->rn);
}

static void ours_destroy(void *h)
{
	struct ours *o = h;
	uint64_t counted = map_count(&o->m), walked = 0;
	map_destroy(&o->m, ours_destroy_node, &walked);
	/* Quiescent: the list must hold exactly the counted nodes (no duplicate, no
	 * marked node left linked). */
	if (walked != counted) {
		fprintf(stderr, "map_bench: hotcache: map_destroy visited %llu nodes, map_count "
		        "says %llu\n", (unsigned long long)walked, (unsigned long long)counted);
		map_peer_ours_mismatch = 1;
	}
	reclaim_destroy(&o->r);
	free(o);
}

static void ours_thread_enter(void *h, unsigned tid)
{
	struct ours *o = h;
	o->th[tid].retired = 0;
	(void)reclaim_self(&o->r);
}

static void ours_thread_exit(void *h, unsigned tid)
{
	struct ours *o = h;
	struct reclaim_thread *t = reclaim_self(&o->r);
	(void)tid;
	if (t != NULL)
		reclaim_poll(t);
	reclaim_detach(&o->r);
}

static int ours_get(void *h, unsigned tid, const void *key, uint64_t *val)
{
	struct ours *o = h;
	int hit = 0;
	(void)tid;
	struct reclaim_thread *t = reclaim_enter(&o->r);
	uint64_t hash = map_hash(&o->m, key, o->klen);
	struct map_node *n = map_get(&o->m, hash, key, o->klen);
	if (n != NULL) {
		*val = ours_of(n)->value;
		hit = 1;
	}
	reclaim_exit(t);
	return hit;
}

/* Retires a node that the map handed back; polls now and then, outside a section. */
static void ours_retire(struct ours *o, unsigned tid, struct reclaim_thread *t,
                        struct map_node *old)
{
	reclaim_retire(t, &ours_of(old)->rn, mem_charge(o->node_size), ours_free);
	if (++o->th[tid].retired % OURS_POLL_EVERY == 0)
		reclaim_poll(t);
}

static int ours_put(void *h, unsigned tid, const void *key, uint64_t val)
{
	struct ours *o = h;
	struct ours_node *n = mem_alloc(o->node_size, 0);
	if (n == NULL)
		return -1;
	n->value = val;
	memcpy((unsigned char *)(&n->mn + 1), key, o->klen);
	map_node_init(&n->mn, map_hash(&o->m, key, o->klen), o->klen);
	struct reclaim_thread *t = reclaim_enter(&o->r);
	struct map_node *old = map_replace(&o->m, &n->mn);
	reclaim_exit(t);
	if (old != NULL)
		ours_retire(o, tid, t, old);
	return 0;
}

static int ours_del(void *h, unsigned tid, const void *key)
{
	struct ours *o = h;
	struct reclaim_thread *t = reclaim_enter(&o->r);
	struct map_node *old = map_delete(&o->m, map_hash(&o->m, key, o->klen), key, o->klen);
	reclaim_exit(t);
	if (old == NULL)
		return 0;
	ours_retire(o, tid, t, old);
	return 1;
}

static uint64_t ours_count(void *h)
{
	return map_count(&((struct ours *)h)->m);
}

static uint64_t ours_bytes(void *h)
{
	struct ours *o = h;
	struct map_stats st;
	map_stats(&o->m, &st);
	return st.count * mem_charge(o->node_size) + st.meta_bytes + reclaim_backlog(&o->r);
}

const struct map_peer map_peer_ours = {
	.name = "hotcache",
	.init = ours_init,
	.destroy = ours_destroy,
	.thread_enter = ours_thread_enter,
	.thread_exit = ours_thread_exit,
	.get = ours_get,
	.put = ours_put,
	.del = ours_del,
	.count = ours_count,
	.bytes = ours_bytes,
	.bytes_note = "live nodes x mem_charge(40 reclaim + 8 value + 24 map_node + key) + "
	              "map_stats.meta_bytes (bucket levels) + reclaim backlog",
};
