/*
 * Hostile keys: keys built to collide under an unkeyed version of the map's hash do not
 * flood a bucket of a cache, whose hash is keyed by a per-process secret; the same keys
 * do flood a map whose seed is known (the control); and no two processes share the
 * secret.
 *
 * The construction (map/hash.h). For a key longer than 16 bytes, each 16-byte block
 * (except the last) is folded by
 *
 *     h = mix(w0 ^ s1 ^ K2, w1 ^ h),   mix(a, b) = lo(a*b) ^ hi(a*b)
 *
 * With a known seed, choosing w0 = s1 ^ K2 makes the first factor 0, so h = 0 whatever
 * w1 and the earlier state: every 32-byte key
 *
 *     [ s1 ^ K2 (8 B, little endian) ][ any 8 B ][ a fixed 16-byte tail ]
 *
 * has the same 64-bit hash, hence the same shard, bucket and split-order key: 2^64 full
 * collisions for free, of which the test takes 2^17 (w1 = 0, 1, 2, ...). The unkeyed
 * version is seed (0, 0). Under a secret seed the first factor is the secret s1, which
 * the keys cannot cancel, and the multiply spreads w1 over the whole hash.
 *
 * Checks, with the figures printed:
 *   - keyed (a cache opened normally): over the hostile keys and over as many random
 *     32-byte keys, in two caches of the same configuration, the hc_get p99 latency
 *     (best of ROUNDS rounds, to reject noise) and the longest chain (most keys with
 *     one (shard, home group), computed from the cache's seed, shard_of and each shard
 *     index's table size, which is what a lookup probes) stay within 2x of the random
 *     keys'; the index's flood events (probe guard) stay 0;
 *   - control (unkeyed): a struct map from map_init with its seed overwritten by the
 *     known one, the hostile keys against random keys: p99 and longest chain are 10x
 *     worse or more, and the map's flood counter fires;
 *   - secrets: two fresh processes (fork + exec of this program) and this one report
 *     three different cache seeds, none zero.
 *
 *   test_hostile_keys [log2 keys [log2 control keys]]   (default 17 and 14)
 *
 * The control's keys all fall in one run, so each insert scans the whole run: building
 * it is quadratic (2^17 fully colliding inserts is ~10^10 node visits), hence the smaller
 * default for the control in `make test`; the soak form runs it at 2^17 too.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "cache/cache.h"
#include "map/hash.h"
#include "map/map.h"
#include "reclaim/reclaim.h"

#define KLEN 32
#define ROUNDS 5
#define ROUNDS_MAX 40

static unsigned log_keys = 17, log_control = 14;

/* ---- keys -------------------------------------------------------------------------- */

/* Hostile key i for the known seed: the first block's multiplier is cancelled. */
static void hostile_key(const struct map_seed *known, uint64_t i, unsigned char *k)
{
	uint64_t w0 = known->s1 ^ HASH_K2;

	memcpy(k, &w0, 8);
	memcpy(k + 8, &i, 8);
	memset(k + 16, 'T', 16);
}

static unsigned char *make_keys(size_t n, int hostile, const struct map_seed *known)
{
	unsigned char *keys = malloc(n * KLEN);

	assert_non_null(keys);
	if (hostile)
		for (size_t i = 0; i < n; i++)
			hostile_key(known, i, keys + i * KLEN);
	else
		randombytes_buf(keys, n * KLEN);
	return keys;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t p99(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n * 99 / 100];
}

/* Most keys sharing one (shard, bucket): sorts the composite labels, longest run. */
static size_t longest_run(uint64_t *labels, size_t n)
{
	size_t best = 0, run = 0;

	qsort(labels, n, sizeof(*labels), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		run = i > 0 && labels[i] == labels[i - 1] ? run + 1 : 1;
		if (run > best)
			best = run;
	}
	return best;
}

/*
 * The bucket a hash falls in: its top `order` bits (map.c's bucket_of, static there;
 * the split order sorts by the hash itself, so a bucket's run is its keys). The shard is
 * cache.h's shard_of. If map.c changes its bucket function, change this with it: the
 * chain figure is only meaningful while the two agree.
 */
static uint64_t bucket_of_hash(const struct map *m, uint64_t h)
{
	unsigned order = atomic_load(&m->order);
	return order == 0 ? 0 : h >> (64 - order);
}

/* The home group of a hash in the shard's index: its top log2(groups) bits (index.c's
 * home_of, static there). If index.c changes it, change this with it. */
static uint64_t group_of_hash(const struct index *ix, uint64_t h)
{
	struct index_stats st;
	index_stats(ix, &st);
	unsigned order = (unsigned)__builtin_ctzll(st.groups);
	return h >> (64 - order);
}

/* ---- keyed: the cache ------------------------------------------------------------------ */

static hc_cache *open_cache(size_t n)
{
	struct hc_config cfg;
	hc_cache *c;

	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = 512ull << 20; /* room for every key: no eviction */
	cfg.expected_entries = n;
	assert_int_equal(hc_open(&cfg, &c), 0);
	return c;
}

static size_t cache_longest_chain(hc_cache *c, const unsigned char *keys, size_t n)
{
	uint64_t *lab = malloc(n * sizeof(*lab));

	assert_non_null(lab);
	for (size_t i = 0; i < n; i++) {
		uint64_t h = map_hash_bytes(&c->seed, keys + i * KLEN, KLEN);
		struct shard *s = shard_of(c, h);
		lab[i] = ((uint64_t)s->index << 48) | group_of_hash(&s->ix, h);
	}
	size_t r = longest_run(lab, n);
	free(lab);
	return r;
}

static uint64_t cache_flood_events(hc_cache *c, uint64_t *buckets)
{
	uint64_t f = 0;

	*buckets = 0;
	for (unsigned i = 0; i < c->nshards; i++) {
		struct index_stats st;
		index_stats(&c->shards[i].ix, &st);
		f += st.flood_events;
		*buckets += st.groups;
	}
	return f;
}

/* One timed hc_get per key, in a shuffled order; returns the p99 in ns. */
static uint64_t cache_p99(hc_cache *c, const unsigned char *keys, size_t n, const size_t *order)
{
	uint64_t *t = malloc(n * sizeof(*t));
	char buf[16];
	size_t vlen;

	assert_non_null(t);
	for (size_t j = 0; j < n; j++) {
		const unsigned char *k = keys + order[j] * KLEN;
		uint64_t t0 = now_ns();
		int rc = hc_get(c, k, KLEN, buf, sizeof(buf), &vlen);
		t[j] = now_ns() - t0;
		assert_int_equal(rc, 0);
	}
	uint64_t r = p99(t, n);
	free(t);
	return r;
}

static size_t *shuffled(size_t n)
{
	size_t *o = malloc(n * sizeof(*o));

	assert_non_null(o);
	for (size_t i = 0; i < n; i++)
		o[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = randombytes_uniform((uint32_t)i);
		size_t x = o[i - 1];
		o[i - 1] = o[j];
		o[j] = x;
	}
	return o;
}

static void fill_cache(hc_cache *c, const unsigned char *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = i;
		assert_int_equal(hc_put(c, keys + i * KLEN, KLEN, &v, sizeof(v)), 0);
	}
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.entries, n); /* all resident: lookups measure the map */
}

static void test_keyed_cache_resists(void **state)
{
	(void)state;
	size_t n = (size_t)1 << log_keys;
	struct map_seed unkeyed = {0, 0};
	unsigned char *hk = make_keys(n, 1, &unkeyed), *rk = make_keys(n, 0, NULL);
	hc_cache *ch = open_cache(n), *cr = open_cache(n);
	size_t *order = shuffled(n);
	uint64_t ph = UINT64_MAX, pr = UINT64_MAX;

	/* The keys do collide under the unkeyed hash. */
	for (size_t i = 1; i < n; i++)
		assert_true(map_hash_bytes(&unkeyed, hk + i * KLEN, KLEN) ==
		            map_hash_bytes(&unkeyed, hk, KLEN));
	uint64_t t0 = now_ns();
	fill_cache(ch, hk, n);
	uint64_t t1 = now_ns();
	fill_cache(cr, rk, n);
	uint64_t t2 = now_ns();
	/* Best of ROUNDS; on a machine busy with other work (make test runs two tests at
	 * once on 2 cores) a preemption lands in a p99, so go on for up to ROUNDS_MAX
	 * rounds while the ratio is not met: a keyed hash meets it in any quiet round, an
	 * unkeyed one never does (its chains are the control's, 10x and more). */
	for (int r = 0; r < ROUNDS_MAX && (r < ROUNDS || ph > 2 * pr); r++) {
		uint64_t a = cache_p99(ch, hk, n, order), b = cache_p99(cr, rk, n, order);
		ph = a < ph ? a : ph;
		pr = b < pr ? b : pr;
	}
	size_t lh = cache_longest_chain(ch, hk, n), lr = cache_longest_chain(cr, rk, n);
	uint64_t bh, br, fh = cache_flood_events(ch, &bh), fr = cache_flood_events(cr, &br);

	printf("keyed cache, 2^%u keys: hc_get p99 %" PRIu64 " ns hostile vs %" PRIu64
	       " ns random (x%.2f); longest chain %zu vs %zu (x%.2f); inserts %.0f vs %.0f ns/key; "
	       "flood events %" PRIu64 " vs %" PRIu64 "; %u shards, %" PRIu64 " vs %" PRIu64
	       " index groups\n", log_keys, ph, pr, (double)ph / (double)pr, lh, lr,
	       (double)lh / (double)lr, (double)(t1 - t0) / (double)n,
	       (double)(t2 - t1) / (double)n, fh, fr, ch->nshards, bh, br);
	assert_true(ph <= 2 * pr);
	assert_true(lh <= 2 * lr);
	assert_int_equal(fh, 0);
	hc_close(ch);
	hc_close(cr);
	free(order);
	free(hk);
	free(rk);
}

/* ---- control: the unkeyed map -------------------------------------------------------- */

struct hnode {
	struct map_node mn;
	unsigned char key[KLEN];
};
_Static_assert(offsetof(struct hnode, key) == sizeof(struct map_node), "key follows node");

struct built {
	struct map m;
	struct hnode *nodes;
	uint64_t insert_ns;
};

static void build_map(struct built *b, struct reclaim *rc, const struct map_seed *seed,
                      const unsigned char *keys, size_t n)
{
	assert_int_equal(map_init(&b->m, n), 0);
	b->m.seed = *seed; /* the unkeyed build: the seed is public */
	b->nodes = calloc(n, sizeof(*b->nodes));
	assert_non_null(b->nodes);
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < n; i++) {
		struct hnode *h = &b->nodes[i];
		struct map_node *ex;
		struct reclaim_thread *t = reclaim_enter(rc);

		memcpy(h->key, keys + i * KLEN, KLEN);
		map_node_init(&h->mn, map_hash(&b->m, h->key, KLEN), KLEN);
		assert_int_equal(map_insert(&b->m, &h->mn, &ex), 0);
		reclaim_exit(t);
	}
	b->insert_ns = now_ns() - t0;
}

static uint64_t map_p99(struct built *b, struct reclaim *rc, const unsigned char *keys,
                        size_t n, size_t samples)
{
	uint64_t *t = malloc(samples * sizeof(*t));

	assert_non_null(t);
	for (size_t j = 0; j < samples; j++) {
		const unsigned char *k = keys + (size_t)randombytes_uniform((uint32_t)n) * KLEN;
		uint64_t t0 = now_ns();
		struct reclaim_thread *th = reclaim_enter(rc);
		struct map_node *mn = map_get(&b->m, map_hash(&b->m, k, KLEN), k, KLEN);
		reclaim_exit(th);
		t[j] = now_ns() - t0;
		assert_non_null(mn);
	}
	uint64_t r = p99(t, samples);
	free(t);
	return r;
}

static size_t map_longest_chain(const struct map *m, const unsigned char *keys, size_t n)
{
	uint64_t *lab = malloc(n * sizeof(*lab));

	assert_non_null(lab);
	for (size_t i = 0; i < n; i++)
		lab[i] = bucket_of_hash(m, map_hash(m, keys + i * KLEN, KLEN));
	size_t r = longest_run(lab, n);
	free(lab);
	return r;
}

static void test_unkeyed_map_floods(void **state)
{
	(void)state;
	size_t n = (size_t)1 << log_control, samples = n < 4096 ? n : 4096;
	struct map_seed known = {0, 0};
	unsigned char *hk = make_keys(n, 1, &known), *rk = make_keys(n, 0, NULL);
	struct reclaim rc;
	struct built bh, br;

	assert_int_equal(reclaim_init(&rc, 1u << 20, 0), 0);
	build_map(&bh, &rc, &known, hk, n);
	build_map(&br, &rc, &known, rk, n);
	/* The random keys' p99 is the least of three rounds: noise (another process, a
	 * preemption) only raises a p99, and one round at 12 us against the usual 0.1-0.3
	 * failed the 10x check once in a fresh-clone CI run while the chains were 2048x. */
	uint64_t ph = map_p99(&bh, &rc, hk, n, samples), pr = UINT64_MAX;
	for (int round = 0; round < 3; round++) {
		uint64_t p = map_p99(&br, &rc, rk, n, samples);
		pr = p < pr ? p : pr;
	}
	size_t lh = map_longest_chain(&bh.m, hk, n), lr = map_longest_chain(&br.m, rk, n);
	struct map_stats sh, sr;
	map_stats(&bh.m, &sh);
	map_stats(&br.m, &sr);

	printf("control, unkeyed map, 2^%u keys: map_get p99 %" PRIu64 " ns hostile vs %" PRIu64
	       " ns random (x%.1f); longest chain %zu vs %zu (x%.1f); build %.0f vs %.0f ns/key; "
	       "flood events %" PRIu64 " vs %" PRIu64 "\n", log_control, ph, pr,
	       (double)ph / (double)pr, lh, lr, (double)lh / (double)lr,
	       (double)bh.insert_ns / (double)n, (double)br.insert_ns / (double)n,
	       sh.flood_events, sr.flood_events);
	assert_true(ph >= 10 * pr);
	assert_true(lh >= 10 * lr);
	assert_true(sh.flood_events > 0);
	map_destroy(&bh.m, NULL, NULL);
	map_destroy(&br.m, NULL, NULL);
	reclaim_destroy(&rc);
	free(bh.nodes);
	free(br.nodes);
	free(hk);
	free(rk);
}

/* ---- secrets are per process ------------------------------------------------------------ */

static int print_seed(void)
{
	hc_cache *c = open_cache(1024);

	printf("%016" PRIx64 "%016" PRIx64 "\n", c->seed.s0, c->seed.s1);
	hc_close(c);
	return 0;
}

static void seed_of_child(const char *self, char out[40])
{
	int fd[2];
	pid_t pid;
	int status;

	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		execl(self, "test_hostile_keys", "--print-seed", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	memset(out, 0, 40);
	ssize_t got = 0, r;
	while (got < 39 && (r = read(fd[0], out + got, (size_t)(39 - got))) > 0)
		got += r;
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(got >= 33);
	out[32] = '\0';
}

static void test_processes_do_not_share_secret(void **state)
{
	(void)state;
	char a[40], b[40], mine[40];
	hc_cache *c = open_cache(1024);

	snprintf(mine, sizeof(mine), "%016" PRIx64 "%016" PRIx64, c->seed.s0, c->seed.s1);
	hc_close(c);
	seed_of_child("/proc/self/exe", a);
	seed_of_child("/proc/self/exe", b);
	printf("cache seeds: this process %s, child 1 %s, child 2 %s\n", mine, a, b);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, mine);
	assert_string_not_equal(b, mine);
	assert_string_not_equal(a, "00000000000000000000000000000000");
	assert_string_not_equal(b, "00000000000000000000000000000000");
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--print-seed") == 0)
		return print_seed();
	if (argc > 1)
		log_keys = (unsigned)atoi(argv[1]);
	if (argc > 2)
		log_control = (unsigned)atoi(argv[2]);
	if (log_keys < 10 || log_keys > 22)
		log_keys = 17;
	if (log_control < 12 || log_control > 17)
		log_control = 14;
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyed_cache_resists),
		cmocka_unit_test(test_unkeyed_map_floods),
		cmocka_unit_test(test_processes_do_not_share_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
