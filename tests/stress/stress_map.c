/*
 * map/ stress test: 4 threads doing random insert, replace, delete, compare-and-delete
 * and lookups (single and batched) for HC_STRESS_SECONDS per run, on 10^4 keys and on
 * 256 keys (more contention), and on 256 keys in groups of 8 sharing one hash value
 * (updates racing inside runs of equal so_key), each node freed through reclaim/.
 *
 * What it checks:
 *   - no reader ever sees freed memory: the free function passed to reclaim_retire
 *     poisons the node (magic changed, every other byte 0xDE) and parks it in a
 *     quarantine before the real free, and every node a lookup returns is checked
 *     (magic, key id, key bytes) when found and again before its section ends;
 *   - owned mode: each key belongs to one thread, which keeps a shadow (its live node
 *     and version) and checks every result of its own operations exactly against it
 *     (no key lost, duplicated or resurrected, at every step); every thread also reads
 *     every key and checks that per reader a key's version never goes backwards and
 *     that a version it saw deleted never comes back, and across readers (real-time
 *     order) that a read never returns a version older than the last completed
 *     install, nor one that an earlier completed read found deleted; at the end the
 *     map equals the shadows;
 *   - contended mode: all threads insert-if-absent / replace / delete /
 *     compare-and-delete the same keys and count successful insertions and removals per
 *     key; a node that compare-and-delete called already deleted is never returned
 *     by a later lookup; at the end each key's net count is 0 or 1 and equals whether
 *     map_get finds it, and map_count equals the number of present keys;
 *   - a worker that does not stop within a minute is stuck: the test aborts;
 *   - at the end map_destroy hands back exactly map_count nodes, no key twice (no
 *     duplicate in the list), and the reclaim backlog drains to 0 with every retired
 *     node freed exactly once.
 *
 * Threads cannot use cmocka's asserts (they longjmp), so they record the first
 * failure and the main thread asserts that there was none.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/stress/fail_once.h"
#include "tests/stress/quarantine.h"
#include "tests/stress/seconds.h"

#include "map/map.h"
#include "reclaim/reclaim.h"

#define MAGIC_LIVE 0x4c1fe4c1fe4c1fe5ull
#define MAGIC_DEAD 0xdeadfeeddeadfeedull
#define NTHREADS 4
#define KEYMAX 16

struct snode {
	struct reclaim_node rn;
	_Atomic uint64_t magic;
	uint32_t key_id;
	uint32_t pad;
	uint64_t version;
	struct map_node mn;
	unsigned char key[KEYMAX]; /* directly after the node, as map_node_key() requires */
};
_Static_assert(offsetof(struct snode, key) == offsetof(struct snode, mn) + sizeof(struct map_node),
               "the key bytes must follow the map node");



/* ---- poisoning free with a quarantine ------------------------------------------------ */

static _Atomic uint64_t nodes_freed, nodes_retired;

static void poison_free(struct reclaim_node *rn)
{
	struct snode *n = (struct snode *)rn;
	atomic_store_explicit(&n->magic, MAGIC_DEAD, memory_order_relaxed);
	memset((char *)n + offsetof(struct snode, key_id), 0xde,
	       sizeof(*n) - offsetof(struct snode, key_id));
	atomic_fetch_add_explicit(&nodes_freed, 1, memory_order_relaxed);
	quarantine_put(n);
}


/* ---- the shared state of one run ---------------------------------------------------- */

enum mode { OWNED, CONTENDED };

struct run {
	enum mode mode;
	unsigned nkeys;
	struct map m;
	struct reclaim r;
	_Atomic int stop;
	char (*keys)[KEYMAX];
	uint32_t *klen;
	uint64_t *hash;
	/* OWNED: key k belongs to thread k % NTHREADS, which alone writes these. */
	struct snode **cur;
	uint64_t *shadow;    /* version of the live node, 0 when absent */
	uint64_t *vnext;     /* last version given out */
	_Atomic uint64_t *inst; /* version of the last completed insert or replace */
	_Atomic uint64_t *gone; /* a version some completed read found deleted */
	/* CONTENDED: successful insertions minus removals per key. */
	_Atomic int64_t *present;
	_Atomic uint64_t cversion;
};

struct worker {
	struct run *run;
	int id;
	pthread_t th;
	uint64_t rng;
	uint64_t *seen;      /* per key: highest version this thread read */
	unsigned char *gone; /* per key: read absent since seen was read */
	uint64_t ops[8];
	uint64_t drain_busy;
};

enum { OP_INSERT, OP_REPLACE, OP_DELETE, OP_DELNODE, OP_OWNGET, OP_GET, OP_BATCH, OP_N };
static const char *const op_names[OP_N] = {"insert", "replace", "delete", "delete_node",
                                           "own_get", "get", "get_batch"};

static uint64_t rnd(struct worker *w)
{
	uint64_t x = w->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static struct snode *node_new(struct run *run, uint32_t k, uint64_t version)
{
	struct snode *n = malloc(sizeof(*n));
	if (n == NULL)
		abort();
	atomic_init(&n->magic, MAGIC_LIVE);
	n->key_id = k;
	n->pad = 0;
	n->version = version;
	memcpy(n->key, run->keys[k], run->klen[k]);
	map_node_init(&n->mn, run->hash[k], run->klen[k]);
	return n;
}

static struct snode *sn(struct map_node *mn)
{
	return mn == NULL ? NULL : (struct snode *)((char *)mn - offsetof(struct snode, mn));
}

static void retire(struct reclaim_thread *t, struct snode *n)
{
	atomic_fetch_add_explicit(&nodes_retired, 1, memory_order_relaxed);
	reclaim_retire(t, &n->rn, sizeof(*n), poison_free);
}

/* A node a lookup or an update handed us must be live and be key k's. */
static void check_node(struct run *run, const struct snode *n, uint32_t k, const char *what)
{
	uint64_t magic = atomic_load_explicit(&n->magic, memory_order_relaxed);
	CHECK(magic == MAGIC_LIVE, "%s of key %u returned freed memory (magic %llx)", what, k,
	      (unsigned long long)magic);
	CHECK(n->key_id == k, "%s of key %u returned key %u", what, k, n->key_id);
	CHECK(n->mn.klen == run->klen[k] && memcmp(n->key, run->keys[k], run->klen[k]) == 0,
	      "%s of key %u returned other key bytes", what, k);
}

/* Per reader: versions of a key never go backwards, and a version read, then read
 * absent, never comes back. */
static void check_monotonic(struct worker *w, uint32_t k, const struct snode *n)
{
	if (n == NULL) {
		if (w->seen[k] != 0)
			w->gone[k] = 1;
		return;
	}
	uint64_t v = n->version;
	CHECK(v >= w->seen[k], "key %u: version went back from %llu to %llu", k,
	      (unsigned long long)w->seen[k], (unsigned long long)v);
	CHECK(!(v == w->seen[k] && w->gone[k]), "key %u: deleted version %llu resurrected", k,
	      (unsigned long long)v);
	w->seen[k] = v;
	w->gone[k] = 0;
}

/* Holds the nodes a section read until its end, then checks them again: a node must
 * not be freed while a section that reached it is still open. */
struct held {
	const struct snode *n[16];
	uint32_t k[16];
	int count;
};

static void hold(struct held *h, const struct snode *n, uint32_t k)
{
	if (n != NULL && h->count < 16) {
		h->n[h->count] = n;
		h->k[h->count] = k;
		h->count++;
	}
}

static void recheck_held(struct run *run, struct held *h)
{
	for (int i = 0; i < h->count; i++)
		check_node(run, h->n[i], h->k[i], "a node held to the end of its section");
	h->count = 0;
}

/*
 * OWNED, across readers (real-time order): a read that starts after the install of
 * version v completed sees v or a later one, or nothing; and once a read found the
 * key absent after v was installed, no read that starts later sees v or an older one.
 */
static void check_linearizable(struct run *run, uint32_t k, const struct snode *n, uint64_t g,
                               uint64_t i)
{
	if (n == NULL) {
		uint64_t cur = atomic_load_explicit(&run->gone[k], memory_order_relaxed);
		/* Release pairs with the acquire load of gone in later reads. */
		while (cur < i && !atomic_compare_exchange_weak_explicit(
		                          &run->gone[k], &cur, i, memory_order_release,
		                          memory_order_relaxed))
			;
		return;
	}
	CHECK(n->version >= i, "key %u: read version %llu after version %llu was installed", k,
	      (unsigned long long)n->version, (unsigned long long)i);
	CHECK(n->version > g, "key %u: read version %llu after another read found version "
	      "%llu deleted", k, (unsigned long long)n->version, (unsigned long long)g);
}

static void read_keys(struct worker *w, struct held *h, int batch)
{
	struct run *run = w->run;
	if (!batch) {
		uint32_t k = (uint32_t)(rnd(w) % run->nkeys);
		uint64_t g = 0, i = 0;
		if (run->mode == OWNED) {
			/* Acquire: pairs with the release stores of inst and gone. */
			g = atomic_load_explicit(&run->gone[k], memory_order_acquire);
			i = atomic_load_explicit(&run->inst[k], memory_order_acquire);
		}
		struct snode *n = sn(map_get(&run->m, run->hash[k], run->keys[k], run->klen[k]));
		if (n != NULL)
			check_node(run, n, k, "map_get");
		if (run->mode == OWNED) {
			check_monotonic(w, k, n);
			check_linearizable(run, k, n, g, i);
		}
		hold(h, n, k);
		w->ops[OP_GET]++;
		return;
	}
	enum { B = 8 };
	uint32_t ks[B];
	uint64_t hashes[B];
	const void *kp[B];
	uint32_t klens[B];
	struct map_node *out[B];
	for (int i = 0; i < B; i++) {
		ks[i] = (uint32_t)(rnd(w) % run->nkeys);
		hashes[i] = run->hash[ks[i]];
		kp[i] = run->keys[ks[i]];
		klens[i] = run->klen[ks[i]];
	}
	map_get_batch(&run->m, B, hashes, kp, klens, out);
	for (int i = 0; i < B; i++) {
		struct snode *n = sn(out[i]);
		if (n != NULL)
			check_node(run, n, ks[i], "map_get_batch");
		if (run->mode == OWNED)
			check_monotonic(w, ks[i], n);
		hold(h, n, ks[i]);
	}
	w->ops[OP_BATCH]++;
}

/* OWNED: an update of a key this thread owns, checked exactly against its shadow. */
static void owned_update(struct worker *w, struct reclaim_thread *t)
{
	struct run *run = w->run;
	unsigned per = run->nkeys / NTHREADS;
	uint32_t k = (uint32_t)((rnd(w) % per) * NTHREADS + (unsigned)w->id);
	struct snode *cur = run->cur[k];
	int op = (int)(rnd(w) % 5);
	switch (op) {
	case OP_INSERT: {
		struct snode *n = node_new(run, k, ++run->vnext[k]);
		struct map_node *ex = NULL;
		int rc = map_insert(&run->m, &n->mn, &ex);
		if (cur != NULL) {
			CHECK(rc == HC_EEXIST, "insert of present key %u returned %d", k, rc);
			CHECK(sn(ex) == cur, "insert of key %u: existing is not the live node", k);
			free(n); /* never published */
		} else {
			CHECK(rc == 0, "insert of absent key %u returned %d", k, rc);
			run->cur[k] = n;
			run->shadow[k] = n->version;
			atomic_store_explicit(&run->inst[k], n->version, memory_order_release);
		}
		break;
	}
	case OP_REPLACE: {
		struct snode *n = node_new(run, k, ++run->vnext[k]);
		struct snode *old = sn(map_replace(&run->m, &n->mn));
		CHECK(old == cur, "replace of key %u returned %p, the live node is %p", k,
		      (void *)old, (void *)cur);
		if (old != NULL) {
			check_node(run, old, k, "map_replace");
			retire(t, old);
		}
		run->cur[k] = n;
		run->shadow[k] = n->version;
		atomic_store_explicit(&run->inst[k], n->version, memory_order_release);
		break;
	}
	case OP_DELETE: {
		struct snode *d = sn(map_delete(&run->m, run->hash[k], run->keys[k], run->klen[k]));
		CHECK(d == cur, "delete of key %u returned %p, the live node is %p", k, (void *)d,
		      (void *)cur);
		if (d != NULL) {
			check_node(run, d, k, "map_delete");
			retire(t, d);
		}
		run->cur[k] = NULL;
		run->shadow[k] = 0;
		break;
	}
	case OP_DELNODE:
		if (cur != NULL) {
			int rc = map_delete_node(&run->m, &cur->mn);
			CHECK(rc == 1, "compare-and-delete of the live node of key %u returned %d", k,
			      rc);
			retire(t, cur);
			run->cur[k] = NULL;
			run->shadow[k] = 0;
		}
		break;
	default: {
		struct snode *g = sn(map_get(&run->m, run->hash[k], run->keys[k], run->klen[k]));
		CHECK(g == cur, "get of own key %u returned %p, the live node is %p", k, (void *)g,
		      (void *)cur);
		if (g != NULL)
			CHECK(g->version == run->shadow[k], "get of own key %u: version %llu != %llu",
			      k, (unsigned long long)g->version,
			      (unsigned long long)run->shadow[k]);
		break;
	}
	}
	w->ops[op]++;
}

/* CONTENDED: every thread updates every key; successes are counted per key. */
static void contended_update(struct worker *w, struct reclaim_thread *t, struct held *h)
{
	struct run *run = w->run;
	uint32_t k = (uint32_t)(rnd(w) % run->nkeys);
	int op = (int)(rnd(w) % 4);
	switch (op) {
	case OP_INSERT: {
		struct snode *n = node_new(run, k, atomic_fetch_add(&run->cversion, 1) + 1);
		struct map_node *ex = NULL;
		int rc = map_insert(&run->m, &n->mn, &ex);
		if (rc == 0) {
			atomic_fetch_add(&run->present[k], 1);
		} else {
			CHECK(rc == HC_EEXIST, "insert of key %u returned %d", k, rc);
			CHECK(ex != NULL, "insert of key %u: HC_EEXIST without existing", k);
			if (ex != NULL) {
				check_node(run, sn(ex), k, "map_insert's existing");
				hold(h, sn(ex), k);
			}
			free(n);
		}
		break;
	}
	case OP_REPLACE: {
		struct snode *n = node_new(run, k, atomic_fetch_add(&run->cversion, 1) + 1);
		struct snode *old = sn(map_replace(&run->m, &n->mn));
		if (old != NULL) {
			check_node(run, old, k, "map_replace");
			retire(t, old);
		} else {
			atomic_fetch_add(&run->present[k], 1);
		}
		break;
	}
	case OP_DELETE: {
		struct snode *d = sn(map_delete(&run->m, run->hash[k], run->keys[k], run->klen[k]));
		if (d != NULL) {
			check_node(run, d, k, "map_delete");
			retire(t, d);
			atomic_fetch_sub(&run->present[k], 1);
		}
		break;
	}
	default: {
		/* Compare-and-delete of a node we looked up: another thread may have
		 * replaced or deleted it meanwhile (then 0 and it is not ours). */
		struct snode *g = sn(map_get(&run->m, run->hash[k], run->keys[k], run->klen[k]));
		if (g != NULL) {
			check_node(run, g, k, "map_get");
			if (map_delete_node(&run->m, &g->mn) == 1) {
				retire(t, g);
				atomic_fetch_sub(&run->present[k], 1);
			} else {
				/* 0: g was deleted or replaced before the call returned, so
				 * no lookup that starts now may return it. */
				struct map_node *again = map_get(&run->m, run->hash[k], run->keys[k],
				                                 run->klen[k]);
				CHECK(sn(again) != g, "key %u: a node compare-and-delete called "
				      "deleted is still returned by map_get", k);
				hold(h, g, k);
			}
		}
		break;
	}
	}
	w->ops[op]++;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	struct reclaim_thread *t = NULL;
	while (!atomic_load_explicit(&run->stop, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++) {
			struct held h = {.count = 0};
			t = reclaim_enter(&run->r);
			if (t == NULL) {
				CHECK(0, "reclaim_enter failed");
				return NULL;
			}
			uint64_t x = rnd(w) % 100;
			if (x < 45) {
				if (run->mode == OWNED)
					owned_update(w, t);
				else
					contended_update(w, t, &h);
			} else {
				read_keys(w, &h, x >= 90);
			}
			recheck_held(run, &h);
			reclaim_exit(t);
		}
		reclaim_poll(t);
		if (reclaim_over_cap(&run->r) && reclaim_drain(t, 2000000) == HC_EBUSY)
			w->drain_busy++; /* a reader held a section past the deadline */
	}
	return NULL;
}

/* Lock-free operations finish: a worker that does not stop within a minute of being
 * told is stuck in a loop (a livelock or a cycle in the list), which is a failure,
 * not something for ctest's timeout to find much later. */
static void join_or_abort(pthread_t th, double secs)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 60 + (time_t)secs;
	if (pthread_timedjoin_np(th, NULL, &dl) != 0) {
		fprintf(stderr, "stress_map: a worker did not stop within 60 s: stuck in a map "
		        "operation (no progress); first failure: %s\n",
		        atomic_load(&failures) ? first_failure : "none");
		abort();
	}
}

static void count_destroyed(struct map_node *mn, void *arg)
{
	struct run *run = arg;
	struct snode *n = sn(mn);
	uint32_t k = n->key_id;
	CHECK(atomic_load(&n->magic) == MAGIC_LIVE, "map_destroy handed back freed memory");
	CHECK(k < run->nkeys, "map_destroy handed back a node with key id %u", k);
	if (k < run->nkeys) {
		/* reuse present[] as a seen-once mark: set to -1000 the first time */
		int64_t prev = atomic_exchange(&run->present[k], -1000);
		CHECK(prev != -1000, "key %u is in the list twice", k);
	}
	free(n);
}

/* collide: keys come in groups of 8 that share one hash value (passed to
 * map_node_init and to lookups), so updates race inside runs of equal so_key. */
static void run_stress(enum mode mode, unsigned nkeys, int collide)
{
	static struct run run; /* static: struct map is large-ish */
	memset(&run, 0, sizeof(run));
	run.mode = mode;
	run.nkeys = nkeys;
	atomic_store(&failures, 0);
	atomic_store(&nodes_freed, 0);
	atomic_store(&nodes_retired, 0);
	assert_int_equal(map_init(&run.m, 0), 0);
	assert_int_equal(reclaim_init(&run.r, 8u << 20, 0), 0);
	run.keys = calloc(nkeys, KEYMAX);
	run.klen = calloc(nkeys, sizeof(*run.klen));
	run.hash = calloc(nkeys, sizeof(*run.hash));
	run.cur = calloc(nkeys, sizeof(*run.cur));
	run.shadow = calloc(nkeys, sizeof(*run.shadow));
	run.vnext = calloc(nkeys, sizeof(*run.vnext));
	run.present = calloc(nkeys, sizeof(*run.present));
	run.inst = calloc(nkeys, sizeof(*run.inst));
	run.gone = calloc(nkeys, sizeof(*run.gone));
	assert_true(run.keys && run.klen && run.hash && run.cur && run.shadow && run.vnext &&
	            run.present && run.inst && run.gone);
	for (unsigned k = 0; k < nkeys; k++) {
		run.klen[k] = (uint32_t)snprintf(run.keys[k], KEYMAX, "k%u", k);
		uint32_t group = k / 8;
		run.hash[k] = collide ? map_hash(&run.m, &group, sizeof(group))
		                      : map_hash(&run.m, run.keys[k], run.klen[k]);
	}
	struct worker w[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].run = &run;
		w[i].id = i;
		w[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) ^ (uint64_t)time(NULL);
		w[i].seen = calloc(nkeys, sizeof(*w[i].seen));
		w[i].gone = calloc(nkeys, 1);
		assert_true(w[i].seen && w[i].gone);
		assert_int_equal(pthread_create(&w[i].th, NULL, worker_main, &w[i]), 0);
	}
	double secs = stress_seconds(2.0);
	struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
	nanosleep(&ts, NULL);
	atomic_store(&run.stop, 1);
	uint64_t ops[OP_N] = {0};
	for (int i = 0; i < NTHREADS; i++) {
		join_or_abort(w[i].th, secs);
		for (int j = 0; j < OP_N; j++)
			ops[j] += w[i].ops[j];
	}
	if (atomic_load(&failures) != 0)
		fail_msg("%ld failure(s); first: %s", atomic_load(&failures), first_failure);

	/* Quiescent: the final state against the shadows or the per-key counts. */
	struct reclaim_thread *t = reclaim_enter(&run.r);
	assert_non_null(t);
	uint64_t present = 0;
	for (unsigned k = 0; k < nkeys; k++) {
		struct snode *n = sn(map_get(&run.m, run.hash[k], run.keys[k], run.klen[k]));
		if (n != NULL)
			check_node(&run, n, k, "final map_get");
		if (mode == OWNED) {
			CHECK(n == run.cur[k], "key %u: final node %p, its owner's shadow %p", k,
			      (void *)n, (void *)run.cur[k]);
			if (n != NULL)
				CHECK(n->version == run.shadow[k], "key %u: final version %llu != %llu",
				      k, (unsigned long long)n->version,
				      (unsigned long long)run.shadow[k]);
			for (int i = 0; i < NTHREADS; i++)
				CHECK(w[i].seen[k] <= run.vnext[k], "key %u: a reader saw a version "
				      "never written", k);
		} else {
			int64_t p = atomic_load(&run.present[k]);
			CHECK(p == 0 || p == 1, "key %u: inserted minus removed = %lld", k,
			      (long long)p);
			CHECK(p == (n != NULL), "key %u: count says %lld, map_get says %s", k,
			      (long long)p, n ? "present" : "absent");
		}
		present += n != NULL;
	}
	reclaim_exit(t);
	if (atomic_load(&failures) != 0)
		fail_msg("%ld failure(s); first: %s", atomic_load(&failures), first_failure);
	struct map_stats st;
	map_stats(&run.m, &st);
	assert_int_equal(map_count(&run.m), present);
	assert_int_equal(st.count, present);

	/* Everything retired gets freed, once, when nobody is in a section. */
	assert_int_equal(reclaim_drain(t, 5000000000ull), 0);
	assert_int_equal(reclaim_backlog(&run.r), 0);
	assert_int_equal(reclaim_backlog_objs(&run.r), 0);
	assert_int_equal(atomic_load(&nodes_freed), atomic_load(&nodes_retired));

	uint64_t total = 0;
	for (int j = 0; j < OP_N; j++)
		total += ops[j];
	print_message("%s, %u keys%s, %.1f s, %d threads: %llu ops (",
	              mode == OWNED ? "owned" : "contended", nkeys,
	              collide ? " (8 per hash)" : "", secs, NTHREADS, (unsigned long long)total);
	for (int j = 0; j < OP_N; j++)
		print_message("%s%s %llu", j ? ", " : "", op_names[j], (unsigned long long)ops[j]);
	print_message("); %llu present, %llu buckets, %llu nodes retired and freed\n",
	              (unsigned long long)present, (unsigned long long)st.buckets,
	              (unsigned long long)atomic_load(&nodes_freed));
	assert_true(total > 0);

	/* map_destroy hands back each live node once: no duplicate in the list. */
	uint64_t before = map_count(&run.m);
	for (unsigned k = 0; k < nkeys; k++)
		atomic_store(&run.present[k], 0);
	map_destroy(&run.m, count_destroyed, &run);
	uint64_t destroyed = 0;
	for (unsigned k = 0; k < nkeys; k++)
		destroyed += atomic_load(&run.present[k]) == -1000;
	assert_int_equal(destroyed, before);
	if (atomic_load(&failures) != 0)
		fail_msg("%ld failure(s); first: %s", atomic_load(&failures), first_failure);

	reclaim_destroy(&run.r);
	quarantine_flush();
	for (int i = 0; i < NTHREADS; i++) {
		free(w[i].seen);
		free(w[i].gone);
	}
	free(run.keys);
	free(run.klen);
	free(run.hash);
	free(run.cur);
	free(run.shadow);
	free(run.vnext);
	free(run.present);
	free(run.inst);
	free(run.gone);
}

static void owned_keys_10k_no_loss_no_duplicate_no_resurrection_no_freed_reads(void **state)
{
	(void)state;
	run_stress(OWNED, 10000, 0);
}

static void owned_keys_256_no_loss_no_duplicate_no_resurrection_no_freed_reads(void **state)
{
	(void)state;
	run_stress(OWNED, 256, 0);
}

static void contended_keys_256_counts_match_and_no_freed_reads(void **state)
{
	(void)state;
	run_stress(CONTENDED, 256, 0);
}

static void contended_keys_10k_counts_match_and_no_freed_reads(void **state)
{
	(void)state;
	run_stress(CONTENDED, 10000, 0);
}

static void owned_equal_hash_runs_no_loss_no_duplicate_no_resurrection(void **state)
{
	(void)state;
	run_stress(OWNED, 256, 1);
}

static void contended_equal_hash_runs_counts_match_and_no_freed_reads(void **state)
{
	(void)state;
	run_stress(CONTENDED, 256, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(owned_keys_10k_no_loss_no_duplicate_no_resurrection_no_freed_reads),
		cmocka_unit_test(owned_keys_256_no_loss_no_duplicate_no_resurrection_no_freed_reads),
		cmocka_unit_test(contended_keys_256_counts_match_and_no_freed_reads),
		cmocka_unit_test(contended_keys_10k_counts_match_and_no_freed_reads),
		cmocka_unit_test(owned_equal_hash_runs_no_loss_no_duplicate_no_resurrection),
		cmocka_unit_test(contended_equal_hash_runs_counts_match_and_no_freed_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
