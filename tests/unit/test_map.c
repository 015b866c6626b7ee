/*
 * map/ unit tests, single threaded: what map.h promises for insert-if-absent, replace,
 * delete and compare-and-delete, for every key length and for keys whose hashes are
 * equal; growth from 16 buckets past 10^6 entries within the load bound; batched
 * lookups; and out-of-memory during map_init and during growth (an OOM loop).
 *
 * Input validation (NULL or oversize keys) is the cache layer's job, not the map's.
 * Nodes are allocated with malloc here, so that injected allocation failures
 * (mem_fail_after) hit only the map's own allocations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "map/map.h"
#include "reclaim/alloc.h"

struct tnode {
	uint64_t id;
	uint64_t version;
	struct map_node mn;
	unsigned char key[]; /* directly after the node, as map_node_key() requires */
};
_Static_assert(offsetof(struct tnode, key) == offsetof(struct tnode, mn) + sizeof(struct map_node),
               "the key bytes must follow the map node");

static struct tnode *tn(struct map_node *mn)
{
	return mn == NULL ? NULL : (struct tnode *)((char *)mn - offsetof(struct tnode, mn));
}

/* A node for key with an explicit hash (equal-hash tests pass the same one). */
static struct tnode *node_hashed(uint64_t hash, const void *key, uint32_t klen, uint64_t id)
{
	struct tnode *n = malloc(sizeof(*n) + klen);
	assert_non_null(n);
	n->id = id;
	n->version = 0;
	memcpy(n->key, key, klen);
	map_node_init(&n->mn, hash, klen);
	return n;
}

static struct tnode *node_new(const struct map *m, const void *key, uint32_t klen, uint64_t id)
{
	return node_hashed(map_hash(m, key, klen), key, klen, id);
}

static struct tnode *get(const struct map *m, const void *key, uint32_t klen)
{
	return tn(map_get(m, map_hash(m, key, klen), key, klen));
}

static void count_and_free(struct map_node *mn, void *arg)
{
	(*(uint64_t *)arg)++;
	free(tn(mn));
}

/* Destroys m, freeing its nodes; returns how many map_destroy handed back. */
static uint64_t destroy_counting(struct map *m)
{
	uint64_t n = 0;
	map_destroy(m, count_and_free, &n);
	return n;
}

static void id_key(unsigned char key[8], uint64_t id)
{
	memcpy(key, &id, 8);
}

static void insert_get_delete_follow_the_contract(void **state)
{
	(void)state;
	struct map m;
	assert_int_equal(map_init(&m, 0), 0);
	struct tnode *a = node_new(&m, "alpha", 5, 1);
	struct map_node *existing = NULL;
	assert_null(get(&m, "alpha", 5));
	assert_int_equal(map_insert(&m, &a->mn, &existing), 0);
	assert_ptr_equal(get(&m, "alpha", 5), a);
	assert_int_equal(map_count(&m), 1);
	/* A key that is a prefix or an extension of a present key is another key. */
	assert_null(get(&m, "alph", 4));
	assert_null(get(&m, "alphab", 6));
	/* Delete returns the live node, unlinked; a second delete finds nothing. */
	assert_ptr_equal(tn(map_delete(&m, map_hash(&m, "alpha", 5), "alpha", 5)), a);
	assert_null(get(&m, "alpha", 5));
	assert_int_equal(map_count(&m), 0);
	assert_null(map_delete(&m, map_hash(&m, "alpha", 5), "alpha", 5));
	free(a);
	/* Delete of a key never inserted is NULL and changes nothing. */
	assert_null(map_delete(&m, map_hash(&m, "nothing", 7), "nothing", 7));
	assert_int_equal(map_count(&m), 0);
	assert_int_equal(destroy_counting(&m), 0);
}

static void insert_of_present_key_is_eexist_with_existing(void **state)
{
	(void)state;
	struct map m;
	assert_int_equal(map_init(&m, 0), 0);
	struct tnode *a = node_new(&m, "k", 1, 1);
	struct tnode *b = node_new(&m, "k", 1, 2);
	struct map_node *existing = NULL;
	assert_int_equal(map_insert(&m, &a->mn, &existing), 0);
	assert_int_equal(map_insert(&m, &b->mn, &existing), HC_EEXIST);
	assert_ptr_equal(tn(existing), a);
	/* existing may be NULL when the caller does not want it. */
	assert_int_equal(map_insert(&m, &b->mn, NULL), HC_EEXIST);
	assert_ptr_equal(get(&m, "k", 1), a);
	assert_int_equal(map_count(&m), 1);
	free(b); /* never linked */
	assert_int_equal(destroy_counting(&m), 1);
}

static void replace_returns_the_old_node_and_installs_the_new(void **state)
{
	(void)state;
	struct map m;
	assert_int_equal(map_init(&m, 0), 0);
	/* Replace of an absent key inserts and returns NULL. */
	struct tnode *a = node_new(&m, "key", 3, 1);
	assert_null(map_replace(&m, &a->mn));
	assert_ptr_equal(get(&m, "key", 3), a);
	assert_int_equal(map_count(&m), 1);
	struct tnode *b = node_new(&m, "key", 3, 2);
	assert_ptr_equal(tn(map_replace(&m, &b->mn)), a);
	assert_ptr_equal(get(&m, "key", 3), b);
	assert_int_equal(map_count(&m), 1);
	struct tnode *c = node_new(&m, "key", 3, 3);
	assert_ptr_equal(tn(map_replace(&m, &c->mn)), b);
	assert_ptr_equal(get(&m, "key", 3), c);
	assert_int_equal(map_count(&m), 1);
	/* Compare-and-delete of a replaced node is 0 and leaves the live one. */
	assert_int_equal(map_delete_node(&m, &a->mn), 0);
	assert_int_equal(map_delete_node(&m, &b->mn), 0);
	assert_ptr_equal(get(&m, "key", 3), c);
	assert_int_equal(map_count(&m), 1);
	free(a);
	free(b);
	assert_int_equal(destroy_counting(&m), 1);
}

static void delete_node_removes_only_the_live_node(void **state)
{
	(void)state;
	struct map m;
	assert_int_equal(map_init(&m, 0), 0);
	struct tnode *a = node_new(&m, "x", 1, 1);
	struct tnode *y = node_new(&m, "y", 1, 2);
	assert_int_equal(map_insert(&m, &a->mn, NULL), 0);
	assert_int_equal(map_insert(&m, &y->mn, NULL), 0);
	assert_int_equal(map_delete_node(&m, &a->mn), 1);
	assert_null(get(&m, "x", 1));
	assert_ptr_equal(get(&m, "y", 1), y);
	assert_int_equal(map_count(&m), 1);
	/* Twice: already deleted. */
	assert_int_equal(map_delete_node(&m, &a->mn), 0);
	assert_int_equal(map_count(&m), 1);
	/* A node deleted by key is not deleted again by compare-and-delete. */
	assert_ptr_equal(tn(map_delete(&m, map_hash(&m, "y", 1), "y", 1)), y);
	assert_int_equal(map_delete_node(&m, &y->mn), 0);
	assert_int_equal(map_count(&m), 0);
	/* A new node for the key is untouched by compare-and-delete of the old one. */
	struct tnode *a2 = node_new(&m, "x", 1, 3);
	assert_int_equal(map_insert(&m, &a2->mn, NULL), 0);
	assert_int_equal(map_delete_node(&m, &a->mn), 0);
	assert_ptr_equal(get(&m, "x", 1), a2);
	free(a);
	free(y);
	assert_int_equal(destroy_counting(&m), 1);
}

/* Every key length from 1 to 1024, twice: patterned bytes with zeros in them, and all
 * zero bytes (keys that differ only by their length). */
static void keys_of_every_length_and_binary_keys_are_distinct(void **state)
{
	(void)state;
	enum { MAXLEN = 1024 };
	static unsigned char pat[MAXLEN + 1][MAXLEN], zero[MAXLEN];
	struct map m;
	assert_int_equal(map_init(&m, 0), 0);
	memset(zero, 0, sizeof(zero));
	for (uint32_t len = 1; len <= MAXLEN; len++) {
		for (uint32_t i = 0; i < len; i++)
			pat[len][i] = (unsigned char)(i % 3 == 0 ? 0 : (i * 7 + len) & 0xff);
		pat[len][len - 1] = 0xff; /* never all zeros */
		assert_int_equal(map_insert(&m, &node_new(&m, pat[len], len, len)->mn, NULL), 0);
		assert_int_equal(map_insert(&m, &node_new(&m, zero, len, MAXLEN + len)->mn, NULL), 0);
	}
	assert_int_equal(map_count(&m), 2 * MAXLEN);
	for (uint32_t len = 1; len <= MAXLEN; len++) {
		struct tnode *p = get(&m, pat[len], len);
		struct tnode *z = get(&m, zero, len);
		assert_non_null(p);
		assert_non_null(z);
		assert_int_equal(p->id, len);
		assert_int_equal(z->id, MAXLEN + len);
		assert_int_equal(p->mn.klen, len);
		assert_memory_equal(map_node_key(&p->mn), pat[len], len);
	}
	/* Deleting the zero family leaves every patterned key. */
	for (uint32_t len = 1; len <= MAXLEN; len++) {
		struct tnode *z = tn(map_delete(&m, map_hash(&m, zero, len), zero, len));
		assert_non_null(z);
		assert_int_equal(z->id, MAXLEN + len);
		free(z);
	}
	for (uint32_t len = 1; len <= MAXLEN; len++) {
		assert_null(get(&m, zero, len));
		assert_non_null(get(&m, pat[len], len));
	}
	assert_int_equal(map_count(&m), MAXLEN);
	assert_int_equal(destroy_counting(&m), MAXLEN);
}

/*
 * Keys whose hashes are equal (the same hash passed to map_node_init): they share one
 * run of equal so_key, and every operation must find exactly its own key in the run,
 * including keys that are prefixes of one another and keys with zero bytes.
 */
static void equal_hash_keys_are_told_apart_within_their_run(void **state)
{
	(void)state;
	enum { N = 100 };
	const uint64_t H = 0x5eed5eed12345678ull;
	struct map m;
	assert_int_equal(map_init(&m, 0), 0);
	struct tnode *nodes[N];
	char key[N][16];
	uint32_t klen[N];
	for (int i = 0; i < N; i++) {
		klen[i] = (uint32_t)snprintf(key[i], sizeof(key[i]), "eq-%d", i);
		nodes[i] = node_hashed(H, key[i], klen[i], (uint64_t)i);
		assert_int_equal(map_insert(&m, &nodes[i]->mn, NULL), 0);
	}
	/* Prefix keys with zeros, same hash: "p", "p\0", "p\0\0". */
	static const char pz[3] = {'p', 0, 0};
	struct tnode *p[3];
	for (uint32_t l = 1; l <= 3; l++) {
		p[l - 1] = node_hashed(H, pz, l, 1000 + l);
		assert_int_equal(map_insert(&m, &p[l - 1]->mn, NULL), 0);
	}
	/* A few ordinary keys around them. */
	for (uint64_t i = 0; i < 50; i++) {
		unsigned char k[8];
		id_key(k, i);
		assert_int_equal(map_insert(&m, &node_new(&m, k, 8, 5000 + i)->mn, NULL), 0);
	}
	assert_int_equal(map_count(&m), N + 3 + 50);
	for (int i = 0; i < N; i++)
		assert_ptr_equal(tn(map_get(&m, H, key[i], klen[i])), nodes[i]);
	for (uint32_t l = 1; l <= 3; l++)
		assert_ptr_equal(tn(map_get(&m, H, pz, l)), p[l - 1]);
	assert_null(map_get(&m, H, "eq-100", 6));
	static const char pz4[4] = {'p', 0, 0, 0};
	assert_null(map_get(&m, H, pz4, 4));

	/* A duplicate in the run is refused with the live node. */
	struct tnode *dup = node_hashed(H, key[50], klen[50], 9999);
	struct map_node *existing = NULL;
	assert_int_equal(map_insert(&m, &dup->mn, &existing), HC_EEXIST);
	assert_ptr_equal(tn(existing), nodes[50]);
	free(dup);

	/* Replace inside the run. */
	struct tnode *r10 = node_hashed(H, key[10], klen[10], 10010);
	assert_ptr_equal(tn(map_replace(&m, &r10->mn)), nodes[10]);
	assert_ptr_equal(tn(map_get(&m, H, key[10], klen[10])), r10);
	assert_int_equal(map_delete_node(&m, &nodes[10]->mn), 0);
	free(nodes[10]);
	nodes[10] = r10;

	/* Delete by key and compare-and-delete inside the run. */
	assert_ptr_equal(tn(map_delete(&m, H, key[20], klen[20])), nodes[20]);
	assert_null(map_get(&m, H, key[20], klen[20]));
	assert_null(map_delete(&m, H, key[20], klen[20]));
	assert_int_equal(map_delete_node(&m, &nodes[30]->mn), 1);
	assert_null(map_get(&m, H, key[30], klen[30]));
	assert_int_equal(map_delete_node(&m, &nodes[30]->mn), 0);
	assert_ptr_equal(tn(map_delete(&m, H, pz, 2)), p[1]);
	assert_ptr_equal(tn(map_get(&m, H, pz, 1)), p[0]);
	assert_ptr_equal(tn(map_get(&m, H, pz, 3)), p[2]);
	assert_null(map_get(&m, H, pz, 2));
	free(p[1]);
	free(nodes[20]);
	free(nodes[30]);
	/* Re-insert of a deleted key in the run. */
	nodes[20] = node_hashed(H, key[20], klen[20], 20);
	assert_int_equal(map_insert(&m, &nodes[20]->mn, NULL), 0);
	nodes[30] = NULL;
	for (int i = 0; i < N; i++) {
		if (nodes[i] == NULL)
			assert_null(map_get(&m, H, key[i], klen[i]));
		else
			assert_ptr_equal(tn(map_get(&m, H, key[i], klen[i])), nodes[i]);
	}
	/* A run longer than MAP_FLOOD_RUN is reported (map.h: hostile keys). */
	struct map_stats st;
	map_stats(&m, &st);
	assert_true(st.flood_events >= 1);
	assert_int_equal(st.count, N - 1 + 2 + 50);
	assert_int_equal(destroy_counting(&m), N - 1 + 2 + 50);
}

/* count <= MAP_MAX_LOAD * buckets up to the 15 inserts a stripe makes between checks
 * (exact when the count is a multiple of 16: one thread uses one stripe); and above
 * the initial size, count > buckets (the map doubled only when over the bound). */
static void assert_load_bound(const struct map *m, int grown_only_by_inserts)
{
	struct map_stats st;
	map_stats(m, &st);
	if (st.count % 16 == 0)
		assert_true(st.count <= MAP_MAX_LOAD * st.buckets);
	else
		assert_true(st.count <= MAP_MAX_LOAD * st.buckets + 15);
	if (grown_only_by_inserts && st.buckets > 16)
		assert_true(st.count > st.buckets);
}

static void growth_past_a_million_keeps_count_exact_and_load_bounded(void **state)
{
	(void)state;
	const uint64_t N = 1100000;
	struct map m;
	assert_int_equal(map_init(&m, 0), 0);
	struct map_stats st;
	map_stats(&m, &st);
	assert_int_equal(st.buckets, 16);
	assert_int_equal(st.count, 0);
	for (uint64_t i = 0; i < N; i++) {
		unsigned char k[8];
		id_key(k, i * 0x9e3779b97f4a7c15ull);
		assert_int_equal(map_insert(&m, &node_new(&m, k, 8, i)->mn, NULL), 0);
		assert_int_equal(map_count(&m), i + 1);
		assert_load_bound(&m, 1);
	}
	map_stats(&m, &st);
	assert_int_equal(st.count, N);
	assert_true(st.buckets * 2 >= N);
	assert_true(st.buckets >= (1u << 19));
	assert_int_equal(st.grow_failures, 0);
	assert_true(st.meta_bytes >= st.buckets * sizeof(struct map_bucket));
	print_message("growth: %llu entries, %llu buckets, %llu bytes of buckets\n",
	              (unsigned long long)st.count, (unsigned long long)st.buckets,
	              (unsigned long long)st.meta_bytes);
	/* Every key found, by map_get and by map_get_batch. */
	enum { B = 37 };
	for (uint64_t base = 0; base < N; base += B) {
		unsigned char keys[B][8];
		const void *kp[B];
		uint64_t hashes[B];
		uint32_t klens[B];
		struct map_node *out[B];
		size_t nb = N - base < B ? (size_t)(N - base) : B;
		for (size_t j = 0; j < nb; j++) {
			id_key(keys[j], (base + j) * 0x9e3779b97f4a7c15ull);
			kp[j] = keys[j];
			klens[j] = 8;
			hashes[j] = map_hash(&m, keys[j], 8);
		}
		map_get_batch(&m, nb, hashes, kp, klens, out);
		for (size_t j = 0; j < nb; j++) {
			struct tnode *g = tn(map_get(&m, hashes[j], keys[j], 8));
			assert_non_null(g);
			assert_int_equal(g->id, base + j);
			assert_ptr_equal(tn(out[j]), g);
		}
	}
	/* Half deleted: the count follows exactly and the other half is intact. */
	for (uint64_t i = 0; i < N; i += 2) {
		unsigned char k[8];
		id_key(k, i * 0x9e3779b97f4a7c15ull);
		struct tnode *d = tn(map_delete(&m, map_hash(&m, k, 8), k, 8));
		assert_non_null(d);
		assert_int_equal(d->id, i);
		free(d);
	}
	assert_int_equal(map_count(&m), N / 2);
	for (uint64_t i = 0; i < N; i++) {
		unsigned char k[8];
		id_key(k, i * 0x9e3779b97f4a7c15ull);
		struct tnode *g = get(&m, k, 8);
		if (i % 2 == 0)
			assert_null(g);
		else
			assert_true(g != NULL && g->id == i);
	}
	assert_int_equal(destroy_counting(&m), N / 2);
}

static void get_batch_equals_get_for_present_and_absent_keys(void **state)
{
	(void)state;
	struct map m;
	assert_int_equal(map_init(&m, 0), 0);
	enum { N = 3000 };
	for (uint64_t i = 0; i < N; i += 2) { /* even ids present */
		char k[24];
		uint32_t l = (uint32_t)snprintf(k, sizeof(k), "batch-key-%llu", (unsigned long long)i);
		assert_int_equal(map_insert(&m, &node_new(&m, k, l, i)->mn, NULL), 0);
	}
	/* Batch sizes across the 16-key chunking, duplicates included. */
	for (size_t nb = 0; nb <= 70; nb++) {
		char keys[70][24];
		const void *kp[70];
		uint64_t hashes[70];
		uint32_t klens[70];
		struct map_node *out[70];
		for (size_t j = 0; j < nb; j++) {
			uint64_t id = (nb * 131 + j * 17) % N;
			if (j % 9 == 8)
				id = (nb * 131) % N; /* a duplicate within the batch */
			klens[j] = (uint32_t)snprintf(keys[j], sizeof(keys[j]), "batch-key-%llu",
			                              (unsigned long long)id);
			kp[j] = keys[j];
			hashes[j] = map_hash(&m, keys[j], klens[j]);
			out[j] = (struct map_node *)(uintptr_t)1; /* must be overwritten */
		}
		map_get_batch(&m, nb, hashes, kp, klens, out);
		for (size_t j = 0; j < nb; j++)
			assert_ptr_equal(out[j], map_get(&m, hashes[j], kp[j], klens[j]));
	}
	assert_int_equal(destroy_counting(&m), N / 2);
}

/* OOM loop: the n-th allocation of map_init fails for n = 1, 2, ... until it
 * succeeds; each failure is HC_ENOMEM with nothing left allocated (LSan checks). */
static void map_init_out_of_memory_is_enomem_and_leaks_nothing(void **state)
{
	(void)state;
	long n;
	for (n = 1; n < 1000; n++) {
		struct map m;
		mem_fail_after(n);
		int rc = map_init(&m, 100000); /* several levels: several allocations */
		mem_fail_after(0);
		if (rc == 0) {
			/* The map works. */
			struct tnode *a = node_new(&m, "k", 1, 1);
			assert_int_equal(map_insert(&m, &a->mn, NULL), 0);
			assert_ptr_equal(get(&m, "k", 1), a);
			assert_int_equal(destroy_counting(&m), 1);
			break;
		}
		assert_int_equal(rc, HC_ENOMEM);
	}
	print_message("map_init succeeded once %ld allocations were allowed\n", n - 1);
	assert_true(n > 2); /* it did fail, more than once */
	assert_true(n < 1000);
}

/* OOM loop over growth: the n-th level allocation fails (and every later one). The
 * map keeps every key at a higher load and counts the failure; with injection off the
 * next inserts grow it back within the bound. */
static void growth_out_of_memory_keeps_the_map_valid_then_grows_again(void **state)
{
	(void)state;
	enum { N1 = 4096, N2 = 8192 };
	long n;
	for (n = 1; n < 100; n++) {
		struct map m;
		assert_int_equal(map_init(&m, 0), 0);
		mem_fail_after(n);
		for (uint64_t i = 0; i < N1; i++) {
			unsigned char k[8];
			id_key(k, i);
			assert_int_equal(map_insert(&m, &node_new(&m, k, 8, i)->mn, NULL), 0);
		}
		struct map_stats st;
		map_stats(&m, &st);
		assert_int_equal(st.count, N1);
		for (uint64_t i = 0; i < N1; i++) {
			unsigned char k[8];
			id_key(k, i);
			struct tnode *g = get(&m, k, 8);
			assert_true(g != NULL && g->id == i);
		}
		int failed = st.grow_failures > 0;
		if (failed) {
			/* Stuck at a level below what the count needs, still correct. */
			assert_true(st.count > MAP_MAX_LOAD * st.buckets);
			assert_int_equal(st.buckets, 16ull << (n - 1));
		}
		mem_fail_after(0);
		for (uint64_t i = N1; i < N2; i++) {
			unsigned char k[8];
			id_key(k, i);
			assert_int_equal(map_insert(&m, &node_new(&m, k, 8, i)->mn, NULL), 0);
		}
		map_stats(&m, &st);
		assert_int_equal(st.count, N2);
		assert_true(st.count <= MAP_MAX_LOAD * st.buckets); /* grown back */
		for (uint64_t i = 0; i < N2; i++) {
			unsigned char k[8];
			id_key(k, i);
			struct tnode *g = get(&m, k, 8);
			assert_true(g != NULL && g->id == i);
		}
		assert_int_equal(destroy_counting(&m), N2);
		if (!failed)
			break;
	}
	print_message("growth to %d entries needed %ld level allocations\n", N1, n - 1);
	assert_true(n > 3);
	assert_true(n < 100);
}

/* map_growth_reserve: 0 far below the load bound; the next level's charged size
 * within a stripe check (16 inserts per stripe) of it; 0 again once grown. */
static void growth_reserve_names_the_next_level_near_the_bound(void **state)
{
	(void)state;
	struct map m;
	assert_int_equal(map_init(&m, 4096), 0);
	struct map_stats st;
	map_stats(&m, &st);
	assert_int_equal(st.buckets, 4096);
	const uint64_t bound = MAP_MAX_LOAD * 4096, slack = 16 * MAP_STRIPES;
	const uint64_t level = mem_charge(4096 * sizeof(struct map_bucket));
	assert_int_equal(map_growth_reserve(&m), 0);
	uint64_t i = 0;
	for (; i < bound - slack - 1; i++) {
		unsigned char k[8];
		id_key(k, i);
		assert_int_equal(map_insert(&m, &node_new(&m, k, 8, i)->mn, NULL), 0);
	}
	assert_int_equal(map_growth_reserve(&m), 0);
	for (; i < bound - slack; i++) {
		unsigned char k[8];
		id_key(k, i);
		assert_int_equal(map_insert(&m, &node_new(&m, k, 8, i)->mn, NULL), 0);
	}
	assert_int_equal(map_growth_reserve(&m), level);
	uint64_t meta_before = (map_stats(&m, &st), st.meta_bytes);
	for (; i < bound + 16; i++) {
		unsigned char k[8];
		id_key(k, i);
		assert_int_equal(map_insert(&m, &node_new(&m, k, 8, i)->mn, NULL), 0);
	}
	map_stats(&m, &st);
	assert_int_equal(st.buckets, 8192);
	/* What was reserved is what growth charged. */
	assert_int_equal(st.meta_bytes - meta_before, level);
	assert_int_equal(map_growth_reserve(&m), 0);
	assert_int_equal(destroy_counting(&m), bound + 16);
}

struct inserter {
	struct map *m;
	uint64_t first, n;
};

static void *inserter_main(void *arg)
{
	struct inserter *in = arg;
	for (uint64_t i = in->first; i < in->first + in->n; i++) {
		unsigned char k[8];
		id_key(k, i);
		if (map_insert(in->m, &node_new(in->m, k, 8, i)->mn, NULL) != 0)
			abort();
	}
	return NULL;
}

/*
 * map.h promises a load within (MAP_MAX_LOAD/2, MAP_MAX_LOAD] from 10^3 entries up.
 * Growth is checked only when a thread's count stripe reaches a multiple of 16, so
 * 16 threads (one stripe each) inserting 15 keys apiece never trigger a check: a
 * 16-bucket map ends up holding 240 entries (load 15), and a 512-bucket map with
 * 1024 + 240 entries (load 2.47) at 10^3 entries. The threads run one after another,
 * so the result is deterministic. Fails until growth also covers the stripes' lag
 * (or the promise is changed to MAP_MAX_LOAD plus 16 * MAP_STRIPES entries).
 */
static void load_bound_holds_when_many_threads_insert_a_few_keys_each(void **state)
{
	(void)state;
	struct map m;
	assert_int_equal(map_init(&m, 0), 0);
	for (uint64_t i = 0; i < MAP_STRIPES; i++) {
		struct inserter in = {&m, i * 100, 15};
		pthread_t th;
		assert_int_equal(pthread_create(&th, NULL, inserter_main, &in), 0);
		pthread_join(th, NULL);
	}
	struct map_stats st;
	map_stats(&m, &st);
	print_message("%d threads x 15 inserts: %llu entries in %llu buckets\n", MAP_STRIPES,
	              (unsigned long long)st.count, (unsigned long long)st.buckets);
	assert_int_equal(st.count, 15 * MAP_STRIPES);
	uint64_t count = st.count;
	assert_int_equal(destroy_counting(&m), count);
	assert_true(count <= MAP_MAX_LOAD * st.buckets);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(insert_get_delete_follow_the_contract),
		cmocka_unit_test(insert_of_present_key_is_eexist_with_existing),
		cmocka_unit_test(replace_returns_the_old_node_and_installs_the_new),
		cmocka_unit_test(delete_node_removes_only_the_live_node),
		cmocka_unit_test(keys_of_every_length_and_binary_keys_are_distinct),
		cmocka_unit_test(equal_hash_keys_are_told_apart_within_their_run),
		cmocka_unit_test(growth_past_a_million_keeps_count_exact_and_load_bounded),
		cmocka_unit_test(get_batch_equals_get_for_present_and_absent_keys),
		cmocka_unit_test(map_init_out_of_memory_is_enomem_and_leaks_nothing),
		cmocka_unit_test(growth_out_of_memory_keeps_the_map_valid_then_grows_again),
		cmocka_unit_test(growth_reserve_names_the_next_level_near_the_bound),
		cmocka_unit_test(load_bound_holds_when_many_threads_insert_a_few_keys_each),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
