/*
 * cache_bench: hits per second of hotcache's hc_read against RocksDB's HyperClockCache
 * and LRUCache (through bench/rocks_cache_adapter), side by side in one run, and the
 * three under a mixed workload with evictions (below).
 *
 * Points: {Zipf 0.99, uniform} x {a working set inside L2 (4096 keys), one far larger
 * than the last-level cache (4M keys)} x {1, 2, 8 threads}; 64-byte values. Every cache
 * is sized to hold the whole working set and prefilled, so these are hit measurements;
 * each point checks that at least 99% of its lookups hit and prints the hit count.
 * --workload misses (or all) adds the same points with every lookup missing: the
 * streams' key indices are shifted past the prefilled keys, so each lookup hashes and
 * probes for a key the cache never held (a negative lookup: a KERI node asking whether
 * it has an event yet); each such point checks that no lookup hit.
 *
 * Fairness: each thread replays its own pre-generated stream of key indices (the Zipf
 * generator stays outside the timed loop); the 16-byte key built from the index
 * (bench_key16, the same for all three) and the lookup with its hash are inside it. All
 * three read through a callback on a pinned value (hc_read; Lookup/Value/Release).
 * Each point runs for --seconds; threads check the stop flag every BLOCK lookups, so
 * every thread's op count is a multiple of BLOCK and all of them are checked for hits.
 * The three implementations run one after the other at each point, --rounds times
 * (default 3), and each keeps its best round: on a shared, noisy machine that is what
 * makes the ratios comparable.
 *
 * Output: a table with hotcache/hyperclock and hotcache/lru per point, in wall-clock
 * hits per second (the measurement) and per CPU second of the threads (the cost of a
 * hit, which other processes on a shared machine cannot distort, but which does not see
 * time blocked on a lock); with --json, one JSON object as the last line ("mops" wall,
 * "mops_cpu" per CPU second). Exit status 1 if any point had < 99% hits.
 *
 * The mixed workload (--workload mixed; both run by default): RocksDB cache_bench's
 * default mix, per operation 87% lookup and insert on a miss, 10% lookup, 2% insert, 1%
 * erase, over a key space four times what the cache holds, with 8 KiB and 64 B values
 * (--mixed-value runs one of the two), Zipf 0.99 and uniform keys (--mixed-dist
 * zipf|uniform: one), 1, 2, 8 and 16 threads: evictions and inserts run while readers
 * hit. hotcache (cache-only: hc_read, hc_put, hc_delete) gets cache.memory_limit = the
 * capacity (64 MiB for 8 KiB values and 16 MiB for 64 B with --quick, 256 and 64
 * without); HyperClockCache and LRUCache get the same capacity and charge each entry
 * what hotcache spends per entry in it (see mixed_charge), so all three hold about as
 * many entries and see about the same hit ratio, which the table prints. The words
 * (kind, key) are fresh for every run (struct mstreams): no run replays the words of an
 * earlier one, which a policy that remembers past accesses turns into hits (until
 * 2026-12-08 runs did, and hotcache's hit ratio read 2-13 points high); a run in which
 * a thread ran past its words is repeated on longer ones, and the output warns of a
 * point that still replayed. Each operation is timed on its own (the TSC) into its
 * kind's histogram (tools/hist); the table gives throughput, the hit ratio and p99 /
 * p99.9 per kind, and hotcache's throughput over each peer's measured at the same
 * point, in the same interleaved rounds. The JSON object gains a "mixed" array with the
 * same figures.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "hotcache.h"
#include "bench/common.h"
#include "bench/decay.h"
#include "bench/rocks_cache_adapter.h"
#include "tools/hist.h"
#include "tools/zipf.h"

#ifndef HCB_HAVE_HOTCACHE
#define HCB_HAVE_HOTCACHE 0
#endif
#ifndef HCB_HAVE_BATCH
#define HCB_HAVE_BATCH 0
#endif

enum impl { IMPL_HOTCACHE, IMPL_BATCH, IMPL_HYPERCLOCK, IMPL_LRU, IMPL_COUNT };
static const char *const impl_name[IMPL_COUNT] = { "hotcache", "hotcache_batch", "hyperclock",
                                                   "lru" };

enum { MAX_THREADS = 64, MAX_POINTS = 256, BLOCK = 256, BATCH = 16 };

struct options {
	double seconds;
	unsigned rounds; /* interleaved rounds per point; the best is kept */
	size_t sets[2]; /* small and large working sets, in keys */
	size_t vlen;
	unsigned threads[8];
	size_t nthreads;
	unsigned mthreads[8]; /* the mixed workload's: 1, 2, 8, 16 unless --threads */
	size_t nmthreads;
	int lru_shard_bits, hcc_shard_bits;
	bool json, quick;
	bool run[IMPL_COUNT];
	bool hits, misses, mixed; /* --workload hits|misses|mixed|all */
	bool mixed_size[2];    /* mixed: run 8 KiB values, 64 B (--mixed-value: one only) */
	bool mixed_dist[2];    /* mixed: run Zipf, uniform (--mixed-dist: one only) */
	size_t mixed_cap[2];   /* mixed: capacity in bytes with 8 KiB values, with 64 B */
};

struct worker {
	_Alignas(BENCH_LINE) pthread_t tid;
	enum impl impl;
	void *cache;
	const uint32_t *stream;
	size_t len;
	uint32_t koff; /* added to every key index: the keys count for a miss point */
	uint64_t ops, hits, sink;
	uint64_t t0, t1, cpu0, cpu1;
	pthread_barrier_t *start;
	const atomic_bool *stop;
	char pad[BENCH_LINE];
};

struct point {
	enum impl impl;
	const char *dist;
	size_t keys;
	unsigned threads;
	bool miss;       /* every lookup is of a key never inserted */
	double mops;     /* wall clock: all lookups / (last thread's end - first's start) */
	double mops_cpu; /* per CPU second of the threads, on min(threads, cores) cores */
	uint64_t ops, hits;
};

/* Touches the value so that no implementation is timed without reading it. */
static void on_value(const void *val, size_t vlen, void *arg)
{
	struct worker *w = arg;
	uint64_t first;
	memcpy(&first, val, sizeof first);
	w->sink += first + vlen;
}

/* ---- the timed loops, one per implementation (no dispatch inside the loop) ---- */

#define TIMED_LOOP(READ_ONE)                                                                \
	do {                                                                                \
		size_t pos = 0;                                                             \
		while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {              \
			for (int j = 0; j < BLOCK; j++) {                                   \
				unsigned char key[BENCH_KEY_LEN];                           \
				bench_key16(w->stream[pos] + w->koff, key);                 \
				if (++pos == w->len)                                        \
					pos = 0;                                            \
				hits += (READ_ONE) == 0;                                    \
			}                                                                   \
			ops += BLOCK;                                                       \
		}                                                                           \
	} while (0)

static void loop_rocks(struct worker *w)
{
	uint64_t ops = 0, hits = 0;
	struct rc_cache *c = w->cache;
	TIMED_LOOP(rc_read(c, key, on_value, w));
	w->ops = ops;
	w->hits = hits;
}

#if HCB_HAVE_HOTCACHE
static void loop_hotcache(struct worker *w)
{
	uint64_t ops = 0, hits = 0;
	hc_cache *c = w->cache;
	TIMED_LOOP(hc_read(c, key, BENCH_KEY_LEN, on_value, w));
	w->ops = ops;
	w->hits = hits;
}
#endif

/*
 * ---- HOOK: hotcache's batch read (rows "hotcache_batch") ----
 * bench/cache.cmake compiles a call of hc_read_batch against hotcache.h and defines
 * HCB_HAVE_BATCH=1 only if it builds; otherwise the rows are skipped. If the batch API
 * changes, change this function and the probe in bench/cache.cmake together. Keys are
 * built inside the timed loop as for the single reads; hc_read_batch hashes them all,
 * prefetches, then probes.
 */
#if HCB_HAVE_HOTCACHE && HCB_HAVE_BATCH
static void on_batch_value(size_t i, int status, const void *val, size_t vlen, void *arg)
{
	struct worker *w = arg;
	(void)i;
	if (status == 0) {
		on_value(val, vlen, w);
		w->hits++;
	}
}

static void loop_batch(struct worker *w)
{
	uint64_t ops = 0;
	hc_cache *c = w->cache;
	unsigned char keys[BATCH][BENCH_KEY_LEN];
	const void *kp[BATCH];
	size_t kl[BATCH];
	size_t pos = 0;
	for (int j = 0; j < BATCH; j++) {
		kp[j] = keys[j];
		kl[j] = BENCH_KEY_LEN;
	}
	w->hits = 0;
	while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
		for (int b = 0; b < BLOCK / BATCH; b++) {
			for (int j = 0; j < BATCH; j++) {
				bench_key16(w->stream[pos] + w->koff, keys[j]);
				if (++pos == w->len)
					pos = 0;
			}
			(void)!hc_read_batch(c, BATCH, kp, kl, on_batch_value, w);
		}
		ops += BLOCK;
	}
	w->ops = ops;
}
#endif

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	pthread_barrier_wait(w->start);
	w->t0 = bench_now_ns();
	w->cpu0 = bench_thread_cpu_ns();
	switch (w->impl) {
#if HCB_HAVE_HOTCACHE
	case IMPL_HOTCACHE:
		loop_hotcache(w);
		break;
#endif
#if HCB_HAVE_HOTCACHE && HCB_HAVE_BATCH
	case IMPL_BATCH:
		loop_batch(w);
		break;
#endif
	default:
		loop_rocks(w);
		break;
	}
	w->cpu1 = bench_thread_cpu_ns();
	w->t1 = bench_now_ns();
	return NULL;
}

/* ---- opening and prefilling each implementation ---- */

struct open_cache {
	enum impl impl;
	void *cache;
};

static void fill_value(unsigned char *val, size_t vlen, uint64_t i)
{
	memset(val, (int)(i & 0xff), vlen);
	memcpy(val, &i, sizeof i < vlen ? sizeof i : vlen);
}

static int open_impl(enum impl impl, const struct options *o, size_t keys, struct open_cache *oc)
{
	unsigned char key[BENCH_KEY_LEN];
	unsigned char *val = bench_xmalloc(o->vlen);
	size_t failed = 0;
	oc->impl = impl;
	oc->cache = NULL;
	if (impl == IMPL_HOTCACHE || impl == IMPL_BATCH) {
#if HCB_HAVE_HOTCACHE
		struct hc_config cfg;
		hc_cache *c;
		int rc;
		hc_config_default(&cfg);
		cfg.backing_mode = HC_BACKING_NONE;
		/* Generous: the whole working set must fit, whatever the per-entry overhead. */
		cfg.memory_limit = (uint64_t)keys * (o->vlen + BENCH_KEY_LEN + 256) * 2 + (64u << 20);
		cfg.max_entry = 4096;
		cfg.expected_entries = keys;
		if ((rc = hc_open(&cfg, &c)) != 0) {
			fprintf(stderr, "hc_open: %s: %s\n", hc_strerror(rc), hc_last_error());
			free(val);
			return -1;
		}
		for (size_t i = 0; i < keys; i++) {
			bench_key16(i, key);
			fill_value(val, o->vlen, i);
			failed += hc_put(c, key, BENCH_KEY_LEN, val, o->vlen) != 0;
		}
		oc->cache = c;
#endif
	} else {
		/*
		 * Both peers are charged value bytes only (see the adapter) and get 1.5x the
		 * working set: room for uneven shards. HyperClockCache sizes its fixed table
		 * from capacity / entry charge / 0.7, so a larger capacity would only spread
		 * its table over more memory.
		 */
		bool hcc = impl == IMPL_HYPERCLOCK;
		size_t cap = keys * o->vlen * 3 / 2 + (1u << 16);
		struct rc_cache *c = rc_open(hcc ? RC_HYPERCLOCK : RC_LRU, cap, o->vlen,
		                             hcc ? o->hcc_shard_bits : o->lru_shard_bits);
		if (c == NULL) {
			free(val);
			return -1;
		}
		for (size_t i = 0; i < keys; i++) {
			bench_key16(i, key);
			fill_value(val, o->vlen, i);
			failed += rc_put(c, key, val, o->vlen) != 0;
		}
		oc->cache = c;
	}
	if (failed)
		fprintf(stderr, "%s: %zu of %zu prefill inserts failed\n", impl_name[impl], failed,
		        keys);
	free(val);
	return 0;
}

static void close_impl(struct open_cache *oc)
{
	if (oc->impl == IMPL_HOTCACHE || oc->impl == IMPL_BATCH) {
#if HCB_HAVE_HOTCACHE
		hc_close(oc->cache);
#endif
	} else {
		rc_close(oc->cache);
	}
}

/* ---- one measured point ---- */

static void run_point(const struct options *o, struct open_cache *oc, uint32_t *const *streams,
                      size_t len, unsigned nthreads, struct point *p)
{
	struct worker *w = aligned_alloc(BENCH_LINE, nthreads * sizeof *w);
	pthread_barrier_t start;
	atomic_bool stop = false;
	uint64_t t0 = UINT64_MAX, t1 = 0;

	if (w == NULL)
		exit(2);
	memset(w, 0, nthreads * sizeof *w);
	pthread_barrier_init(&start, NULL, nthreads + 1);
	for (unsigned t = 0; t < nthreads; t++) {
		w[t].impl = oc->impl;
		w[t].cache = oc->cache;
		w[t].stream = streams[t];
		w[t].len = len;
		w[t].koff = p->miss ? (uint32_t)p->keys : 0;
		w[t].start = &start;
		w[t].stop = &stop;
		if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			exit(2);
		}
	}
	pthread_barrier_wait(&start);
	bench_sleep_ns((uint64_t)(o->seconds * 1e9));
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	p->ops = p->hits = 0;
	for (unsigned t = 0; t < nthreads; t++) {
		pthread_join(w[t].tid, NULL);
		p->ops += w[t].ops;
		p->hits += w[t].hits;
		t0 = w[t].t0 < t0 ? w[t].t0 : t0;
		t1 = w[t].t1 > t1 ? w[t].t1 : t1;
	}
	pthread_barrier_destroy(&start);
	p->mops = t1 > t0 ? (double)p->ops * 1e3 / (double)(t1 - t0) : 0.0;
	/* What the threads did per CPU second they got, scaled to the cores they could
	 * have had: immune to other processes taking the CPU, which on a shared machine
	 * would otherwise decide the thread-count columns. */
	double rate = 0, cpu = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	for (unsigned t = 0; t < nthreads; t++) {
		rate += (double)w[t].ops;
		cpu += (double)(w[t].cpu1 - w[t].cpu0);
	}
	unsigned cores = ncpu > 0 && (unsigned)ncpu < nthreads ? (unsigned)ncpu : nthreads;
	p->mops_cpu = cpu > 0 ? rate * 1e3 / cpu * cores : 0.0;
	free(w);
}

/* ---- the mixed workload (--workload mixed): RocksDB cache_bench's default ---- */

/*
 * Per operation, drawn at random when the streams are generated (outside the timed
 * loop): 87% lookup-and-insert-on-miss, 10% lookup, 2% insert, 1% erase, RocksDB
 * cache_bench's defaults (lookup_insert_percent, lookup_percent, insert_percent,
 * erase_percent). The kind sits in a stream word's top two bits, the key index below.
 */
enum mop { MOP_LOOKUP_INSERT, MOP_LOOKUP, MOP_INSERT, MOP_ERASE, MOP_COUNT };
static const char *const mop_name[MOP_COUNT] = { "lookup_insert", "lookup", "insert",
                                                 "erase" };
#define MOP_SHIFT 30
#define MOP_KEY_MASK ((UINT32_C(1) << MOP_SHIFT) - 1)

/* Latency clock: the TSC on x86 (constant rate on every machine this runs on; about
 * 10 ns a pair where clock_gettime costs 40), converted to ns with a rate measured
 * against CLOCK_MONOTONIC at startup; clock_gettime elsewhere. Every implementation
 * pays the same two reads per operation. */
#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t mticks(void)
{
	return __rdtsc();
}
#else
static inline uint64_t mticks(void)
{
	return bench_now_ns();
}
#endif
static double ticks_per_ns = 1.0;

static void calibrate_ticks(void)
{
	uint64_t n0 = bench_now_ns(), t0 = mticks();
	bench_sleep_ns(50000000);
	uint64_t n1 = bench_now_ns(), t1 = mticks();
	if (n1 > n0 && t1 > t0)
		ticks_per_ns = (double)(t1 - t0) / (double)(n1 - n0);
}

struct mworker {
	_Alignas(BENCH_LINE) pthread_t tid;
	enum impl impl;
	void *cache;
	const uint32_t *stream;
	size_t len; /* the words this run may use; a thread past them wraps (replays) */
	size_t vlen, charge;
	unsigned char *val;
	uint64_t ops, lookups, hits, errors, sink;
	uint64_t t0, t1, cpu0, cpu1;
	pthread_barrier_t *start;
	const atomic_bool *stop;
	struct hist *h; /* MOP_COUNT histograms, in ticks */
	char pad[BENCH_LINE];
};

struct mpoint {
	enum impl impl;
	size_t vlen;
	const char *dist;
	unsigned threads;
	double mops, mops_cpu;
	uint64_t ops, lookups, hits, errors;
	uint64_t replayed; /* operations past a thread's fresh words (0 when fine) */
	uint64_t most_ops; /* the most operations one thread ran (sizes the next run) */
	size_t entries; /* resident at the end of the best round */
	struct hist *h; /* MOP_COUNT, merged over the threads of the best round (ticks) */
	/* hotcache only: its writers' costs over the round (hc_stats' differences) */
	uint64_t barriers, wwaits, wwait_ns, locks, lock_wait_ns, lock_hold_ns;
	double thr_ns;  /* the threads' wall time over the round (threads x elapsed) */
};

static void on_mvalue(const void *val, size_t vlen, void *arg)
{
	struct mworker *w = arg;
	uint64_t first;
	memcpy(&first, val, sizeof first);
	w->sink += first + vlen;
}

/*
 * The timed loop: one stream word per operation, the key built from it, each operation
 * timed on its own (two clock reads) into its kind's histogram. READ is 0 on a hit;
 * PUT 0 when stored; ERASE has no result. The value written carries its key index in
 * its first bytes (the rest was filled once per thread).
 */
#define MIXED_LOOP(READ, PUT, ERASE)                                                        \
	do {                                                                                \
		size_t pos = 0;                                                             \
		while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {              \
			for (int j = 0; j < BLOCK; j++) {                                   \
				unsigned char key[BENCH_KEY_LEN];                           \
				uint32_t word = w->stream[pos];                             \
				uint32_t idx = word & MOP_KEY_MASK;                         \
				unsigned kind = word >> MOP_SHIFT;                          \
				if (++pos == w->len)                                        \
					pos = 0;                                            \
				bench_key16(idx, key);                                      \
				uint64_t a = mticks();                                      \
				switch (kind) {                                             \
				case MOP_LOOKUP_INSERT:                                     \
					lookups++;                                          \
					if ((READ) == 0) {                                  \
						hits++;                                     \
					} else {                                            \
						memcpy(w->val, &idx, sizeof idx);           \
						errors += (PUT) != 0;                       \
					}                                                   \
					break;                                              \
				case MOP_LOOKUP:                                            \
					lookups++;                                          \
					hits += (READ) == 0;                                \
					break;                                              \
				case MOP_INSERT:                                            \
					memcpy(w->val, &idx, sizeof idx);                   \
					errors += (PUT) != 0;                               \
					break;                                              \
				default:                                                    \
					ERASE;                                              \
					break;                                              \
				}                                                           \
				hist_record(&w->h[kind], mticks() - a);                     \
			}                                                                   \
			ops += BLOCK;                                                       \
		}                                                                           \
	} while (0)

static void mloop_rocks(struct mworker *w)
{
	uint64_t ops = 0, lookups = 0, hits = 0, errors = 0;
	struct rc_cache *c = w->cache;
	MIXED_LOOP(rc_read(c, key, on_mvalue, w), rc_put_charged(c, key, w->val, w->vlen, w->charge),
	           rc_erase(c, key));
	w->ops = ops;
	w->lookups = lookups;
	w->hits = hits;
	w->errors = errors;
}

#if HCB_HAVE_HOTCACHE
static void mloop_hotcache(struct mworker *w)
{
	uint64_t ops = 0, lookups = 0, hits = 0, errors = 0;
	hc_cache *c = w->cache;
	MIXED_LOOP(hc_read(c, key, BENCH_KEY_LEN, on_mvalue, w),
	           hc_put(c, key, BENCH_KEY_LEN, w->val, w->vlen),
	           (void)!hc_delete(c, key, BENCH_KEY_LEN));
	w->ops = ops;
	w->lookups = lookups;
	w->hits = hits;
	w->errors = errors;
}
#endif

static void *mworker_main(void *arg)
{
	struct mworker *w = arg;
	pthread_barrier_wait(w->start);
	w->t0 = bench_now_ns();
	w->cpu0 = bench_thread_cpu_ns();
#if HCB_HAVE_HOTCACHE
	if (w->impl == IMPL_HOTCACHE)
		mloop_hotcache(w);
	else
#endif
		mloop_rocks(w);
	w->cpu1 = bench_thread_cpu_ns();
	w->t1 = bench_now_ns();
#if HCB_HAVE_HOTCACHE
	if (w->impl == IMPL_HOTCACHE)
		hc_thread_detach(w->cache);
#endif
	return NULL;
}

static size_t impl_entries(enum impl impl, void *cache)
{
#if HCB_HAVE_HOTCACHE
	if (impl == IMPL_HOTCACHE) {
		struct hc_stats st;
		return hc_stats(cache, &st) == 0 ? (size_t)st.entries : 0;
	}
#endif
	return impl == IMPL_HOTCACHE ? 0 : rc_entries(cache);
}

/* a - b, 0 if b > a: hc_stats converts tick counters at the rate measured so far,
 * which moves a little between two calls. */
static inline uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/*
 * The words of a run. Every run (a round of one thread count, or a warm-up) gets fresh
 * words, generated before it from a seed of (distribution, thread, run), so the three
 * implementations run on the same words in a round (unless a run is repeated, see
 * run_mixed_size) and no run reuses a word of an earlier one. Until 2026-12-08 each thread had one stream of 2^20 words that every
 * run went on with and wrapped: a uniform run of 1 s then saw each key about three
 * times in the same order, a loop that hotcache's policy (a sketch of ~10x its entries'
 * accesses, a ghost) turned into hits where CLOCK and LRU cannot, 31-38% against
 * HyperClockCache's 25%, and hotcache did fewer inserts for it.
 */
struct mstreams {
	struct zipf z;
	uint64_t seed;
	unsigned nthreads;   /* buffers allocated */
	uint32_t **buf;      /* per thread, cap[t] words */
	size_t *cap;
	size_t len;          /* words filled for the next run, in each of its threads */
};

/* Fills the first nthreads buffers with len fresh words each for run `run`: kinds drawn
 * 87/10/2/1, keys from Zipf(s) over the key space (s = 0: uniform). */
static void mstreams_fill(struct mstreams *ms, unsigned nthreads, uint64_t run, size_t len)
{
	len = (len + BLOCK - 1) / BLOCK * BLOCK;
	for (unsigned t = 0; t < nthreads; t++) {
		struct bench_rng r;
		if (ms->cap[t] < len) {
			free(ms->buf[t]);
			ms->buf[t] = bench_xmalloc(len * sizeof **ms->buf);
			ms->cap[t] = len;
		}
		bench_rng_seed(&r, ms->seed * 1000003u + t + run * MAX_THREADS);
		for (size_t i = 0; i < len; i++) {
			uint64_t pct = bench_rng_below(&r, 100);
			uint32_t kind = pct < 87   ? MOP_LOOKUP_INSERT
			                : pct < 97 ? MOP_LOOKUP
			                : pct < 99 ? MOP_INSERT
			                           : MOP_ERASE;
			ms->buf[t][i] = kind << MOP_SHIFT | (uint32_t)zipf_next(&ms->z, &r);
		}
	}
	ms->len = len;
}

static void mstreams_init(struct mstreams *ms, size_t nkeys, double s, unsigned nthreads,
                          uint64_t seed)
{
	memset(ms, 0, sizeof *ms);
	if (zipf_init(&ms->z, nkeys, s) != 0)
		exit(2);
	ms->seed = seed;
	ms->nthreads = nthreads;
	ms->buf = bench_xcalloc(nthreads, sizeof *ms->buf);
	ms->cap = bench_xcalloc(nthreads, sizeof *ms->cap);
}

static void mstreams_free(struct mstreams *ms)
{
	for (unsigned t = 0; t < ms->nthreads; t++)
		free(ms->buf[t]);
	free(ms->buf);
	free(ms->cap);
}

/* The words each thread gets for the first run at nthreads threads, before any run
 * there was measured: 16M operations a second (7-8M is the most seen, one thread, 64 B
 * Zipf) for the threads' fair share of the CPUs, at least 64K words. Later rounds take
 * twice the most any one thread ran there, and a run that ran past its words runs
 * again on longer ones (run_mixed_size). */
static size_t mixed_first_need(const struct options *o, unsigned nthreads)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	double share = ncpu > 0 && nthreads > (unsigned)ncpu ? (double)ncpu / nthreads : 1.0;
	double words = o->seconds * 16e6 * share;
	return words < 65536 ? 65536 : (size_t)words;
}

static void run_mpoint(const struct options *o, enum impl impl, void *cache, size_t charge,
                       const struct mstreams *ms, unsigned nthreads, struct mpoint *p)
{
	struct mworker *w = aligned_alloc(BENCH_LINE, nthreads * sizeof *w);
	pthread_barrier_t start;
	atomic_bool stop = false;
	uint64_t t0 = UINT64_MAX, t1 = 0;
	double cpu = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (w == NULL)
		exit(2);
	memset(w, 0, nthreads * sizeof *w);
	pthread_barrier_init(&start, NULL, nthreads + 1);
#if HCB_HAVE_HOTCACHE
	struct hc_stats st0;
	memset(&st0, 0, sizeof st0);
	if (impl == IMPL_HOTCACHE)
		(void)!hc_stats(cache, &st0);
#endif
	for (unsigned t = 0; t < nthreads; t++) {
		w[t].impl = impl;
		w[t].cache = cache;
		w[t].stream = ms->buf[t];
		w[t].len = ms->len;
		w[t].vlen = p->vlen;
		w[t].charge = charge;
		w[t].val = bench_xmalloc(p->vlen);
		fill_value(w[t].val, p->vlen, t);
		w[t].h = bench_xcalloc(MOP_COUNT, sizeof(struct hist));
		w[t].start = &start;
		w[t].stop = &stop;
		if (pthread_create(&w[t].tid, NULL, mworker_main, &w[t]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			exit(2);
		}
		/* Named, so a profile can keep the timed threads apart from the main
		 * thread's prefill and close (perf report --comm mixed-<value size>). */
		char name[16];
		snprintf(name, sizeof name, "mixed-%zu", p->vlen);
		(void)pthread_setname_np(w[t].tid, name);
	}
	pthread_barrier_wait(&start);
	bench_sleep_ns((uint64_t)(o->seconds * 1e9));
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	p->ops = p->lookups = p->hits = p->errors = p->replayed = p->most_ops = 0;
	for (int k = 0; k < MOP_COUNT; k++)
		hist_reset(&p->h[k]);
	for (unsigned t = 0; t < nthreads; t++) {
		pthread_join(w[t].tid, NULL);
		p->replayed += w[t].ops > w[t].len ? w[t].ops - w[t].len : 0;
		p->most_ops = w[t].ops > p->most_ops ? w[t].ops : p->most_ops;
		p->ops += w[t].ops;
		p->lookups += w[t].lookups;
		p->hits += w[t].hits;
		p->errors += w[t].errors;
		cpu += (double)(w[t].cpu1 - w[t].cpu0);
		t0 = w[t].t0 < t0 ? w[t].t0 : t0;
		t1 = w[t].t1 > t1 ? w[t].t1 : t1;
		for (int k = 0; k < MOP_COUNT; k++)
			hist_merge(&p->h[k], &w[t].h[k]);
		free(w[t].h);
		free(w[t].val);
	}
	pthread_barrier_destroy(&start);
	p->mops = t1 > t0 ? (double)p->ops * 1e3 / (double)(t1 - t0) : 0.0;
	unsigned cores = ncpu > 0 && (unsigned)ncpu < nthreads ? (unsigned)ncpu : nthreads;
	p->mops_cpu = cpu > 0 ? (double)p->ops * 1e3 / cpu * cores : 0.0;
	p->entries = impl_entries(impl, cache);
	p->thr_ns = t1 > t0 ? (double)(t1 - t0) * nthreads : 0.0;
#if HCB_HAVE_HOTCACHE
	struct hc_stats st1;
	if (impl == IMPL_HOTCACHE && hc_stats(cache, &st1) == 0) {
		p->barriers = sub0(st1.reclaim_barriers, st0.reclaim_barriers);
		p->wwaits = sub0(st1.write_waits, st0.write_waits);
		p->wwait_ns = sub0(st1.write_wait_nanos, st0.write_wait_nanos);
		p->locks = sub0(st1.shard_locks, st0.shard_locks);
		p->lock_wait_ns = sub0(st1.shard_lock_wait_nanos, st0.shard_lock_wait_nanos);
		p->lock_hold_ns = sub0(st1.shard_lock_hold_nanos, st0.shard_lock_hold_nanos);
	}
#endif
	free(w);
}

/* --dirty-decay-ms (bench/decay.h); -1: jemalloc's settings as they are. */
static long dirty_decay_ms = -1;
/* --hc-shards N: hotcache's cache.shards in the mixed workload (0: its default), a
 * variant to see what contention on the shard mutexes costs. */
static unsigned mixed_hc_shards;

#if HCB_HAVE_HOTCACHE
static hc_cache *open_mixed_hotcache(size_t capacity, size_t vlen)
{
	struct hc_config cfg;
	hc_cache *c;
	int rc;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = capacity;
	cfg.max_entry = vlen;
	cfg.shards = mixed_hc_shards;
	if ((rc = hc_open(&cfg, &c)) != 0) {
		fprintf(stderr, "hc_open: %s: %s\n", hc_strerror(rc), hc_last_error());
		return NULL;
	}
	bench_set_dirty_decay(dirty_decay_ms);
	return c;
}
#endif

/*
 * The charge: hotcache is opened with cache.memory_limit = capacity and filled with
 * more distinct keys than it can hold; what it then holds, E entries, sets the charge
 * of one entry for the peers: capacity / E, i.e. the value, the key and every byte of
 * metadata hotcache counts against its limit (entry header, allocator rounding, map
 * buckets, ghost, the retired allowance), spread over its entries. The peers get the
 * same capacity and that charge (their own metadata uncharged), so all three hold about
 * E entries and see about the same hit ratio; the key space is 4 E (resident ratio
 * 0.25). Without hotcache, the charge is the value + key + 64 bytes.
 */
static size_t mixed_charge(size_t capacity, size_t vlen, size_t *resident)
{
	size_t charge = vlen + BENCH_KEY_LEN + 64;
#if HCB_HAVE_HOTCACHE
	hc_cache *c = open_mixed_hotcache(capacity, vlen);
	unsigned char key[BENCH_KEY_LEN];
	unsigned char *val = bench_xmalloc(vlen);
	struct hc_stats st;
	size_t n = capacity / (vlen + BENCH_KEY_LEN) * 2;
	if (c != NULL) {
		for (size_t i = 0; i < n; i++) {
			bench_key16(i, key);
			fill_value(val, vlen, i);
			(void)!hc_put(c, key, BENCH_KEY_LEN, val, vlen);
		}
		if (hc_stats(c, &st) == 0 && st.entries > 0)
			charge = capacity / st.entries;
		hc_close(c);
	}
	free(val);
#endif
	*resident = capacity / charge;
	return charge;
}

static size_t mixed_capacity(const struct options *o, size_t vlen)
{
	return vlen >= 1024 ? o->mixed_cap[0] : o->mixed_cap[1];
}

static void run_mixed_size(const struct options *o, size_t vlen, unsigned maxthr,
                           struct mpoint *pts, size_t *npts)
{
	static const char *const dists[2] = { "zipf0.99", "uniform" };
	static const double exps[2] = { 0.99, 0.0 };
	size_t capacity = mixed_capacity(o, vlen), resident;
	size_t charge = mixed_charge(capacity, vlen, &resident);
	size_t nkeys = resident * 4;
	void *cache[IMPL_COUNT] = { NULL };
	unsigned char key[BENCH_KEY_LEN];
	unsigned char *val = bench_xmalloc(vlen);

	printf("\nmixed, %zu-byte values: capacity %.1f MiB for each; hotcache holds %zu entries "
	       "in it = %zu B per entry\n  (value %zu + key %d + %zu of metadata): the peers' "
	       "charge per entry; key space %zu keys (resident ratio 0.25)\n",
	       vlen, (double)capacity / 1048576.0, resident, charge, vlen, BENCH_KEY_LEN,
	       charge - vlen - BENCH_KEY_LEN, nkeys);
	for (int k = 0; k < IMPL_COUNT; k++) {
		if (!o->run[k] || k == IMPL_BATCH)
			continue;
#if HCB_HAVE_HOTCACHE
		if (k == IMPL_HOTCACHE)
			cache[k] = open_mixed_hotcache(capacity, vlen);
		else
#endif
			cache[k] = rc_open(k == IMPL_HYPERCLOCK ? RC_HYPERCLOCK : RC_LRU, capacity,
			                   charge, k == IMPL_HYPERCLOCK ? o->hcc_shard_bits
			                                                : o->lru_shard_bits);
		if (cache[k] == NULL) {
			fprintf(stderr, "%s: could not open; skipped\n", impl_name[k]);
			continue;
		}
		/* Prefill, as RocksDB's cache_bench populates: every key once, in order. */
		for (size_t i = 0; i < nkeys; i++) {
			bench_key16(i, key);
			fill_value(val, vlen, i);
#if HCB_HAVE_HOTCACHE
			if (k == IMPL_HOTCACHE)
				(void)!hc_put(cache[k], key, BENCH_KEY_LEN, val, vlen);
			else
#endif
				(void)rc_put_charged(cache[k], key, val, vlen, charge);
		}
	}
	free(val);
	for (int d = 0; d < 2; d++) {
		if (!o->mixed_dist[d])
			continue;
		struct mstreams ms;
		struct options warm = *o;
		warm.seconds = o->seconds / 2;
		mstreams_init(&ms, nkeys, exps[d], maxthr, (uint64_t)vlen * 4 + (uint64_t)d + 7);
		/* Discarded warm-up (run 0): the distribution's working set into each cache. */
		mstreams_fill(&ms, 1, 0, mixed_first_need(&warm, 1));
		for (int k = 0; k < IMPL_COUNT; k++) {
			struct mpoint scratch = { .impl = (enum impl)k, .vlen = vlen };
			struct hist hs[MOP_COUNT];
			scratch.h = hs;
			if (cache[k] != NULL)
				run_mpoint(&warm, (enum impl)k, cache[k], charge, &ms, 1, &scratch);
		}
		for (size_t t = 0; t < o->nmthreads; t++) {
			struct mpoint *row[IMPL_COUNT] = { NULL };
			uint64_t most = 0; /* the most operations a thread ran here so far */
			for (int k = 0; k < IMPL_COUNT; k++) {
				if (cache[k] == NULL || *npts >= MAX_POINTS)
					continue;
				row[k] = &pts[(*npts)++];
				*row[k] = (struct mpoint){ .impl = (enum impl)k, .vlen = vlen,
				                           .dist = dists[d], .threads = o->mthreads[t] };
				row[k]->h = bench_xcalloc(MOP_COUNT, sizeof(struct hist));
			}
			for (unsigned r = 0; r < o->rounds; r++) {
				/* One fill per round, the same words for every implementation. */
				uint64_t run = 1 + t * o->rounds + r;
				mstreams_fill(&ms, o->mthreads[t], run,
				              most ? 2 * most : mixed_first_need(o, o->mthreads[t]));
				for (int k = 0; k < IMPL_COUNT; k++) {
					struct mpoint p;
					struct hist hs[MOP_COUNT];
					if (!row[k])
						continue;
					/* A thread that ran past its words (one scheduled far more than
					 * the others) makes the run repeat, at most twice, on longer
					 * words of another seed: the cache has just seen the first
					 * ones. The next implementation takes those new words, fresh
					 * to it, and the next round fills its own. */
					for (uint64_t again = 0; again < 3; again++) {
						p = *row[k];
						p.h = hs;
						run_mpoint(o, (enum impl)k, cache[k], charge, &ms,
						           o->mthreads[t], &p);
						most = p.most_ops > most ? p.most_ops : most;
						if (p.replayed == 0 || again == 2)
							break;
						mstreams_fill(&ms, o->mthreads[t], run | (again + 1) << 32,
						              2 * most);
					}
					/* The best round by wall clock, with its own histograms. */
					if (p.mops > row[k]->mops) {
						double best_cpu = row[k]->mops_cpu;
						struct hist *keep = row[k]->h;
						memcpy(keep, hs, sizeof hs);
						*row[k] = p;
						row[k]->h = keep;
						row[k]->mops_cpu = best_cpu;
					}
					if (p.mops_cpu > row[k]->mops_cpu)
						row[k]->mops_cpu = p.mops_cpu;
				}
			}
			for (int k = 0; k < IMPL_COUNT; k++)
				if (row[k])
					fprintf(stderr, "  mixed %-10s %5zu B %-9s %2u thr: %8.2f Mops\n",
					        impl_name[k], vlen, dists[d], o->mthreads[t], row[k]->mops);
		}
		mstreams_free(&ms);
	}
	for (int k = 0; k < IMPL_COUNT; k++) {
		if (cache[k] == NULL)
			continue;
#if HCB_HAVE_HOTCACHE
		if (k == IMPL_HOTCACHE)
			hc_close(cache[k]);
		else
#endif
			rc_close(cache[k]);
	}
}

static const struct mpoint *mfind(const struct mpoint *pts, size_t n, enum impl impl,
                                  size_t vlen, const char *dist, unsigned threads)
{
	for (size_t i = 0; i < n; i++)
		if (pts[i].impl == impl && pts[i].vlen == vlen && pts[i].threads == threads &&
		    strcmp(pts[i].dist, dist) == 0)
			return &pts[i];
	return NULL;
}

static double mpct_ns(const struct mpoint *p, int kind, double q)
{
	return (double)hist_percentile(&p->h[kind], q) / ticks_per_ns;
}

static void mixed_report(const struct options *o, const struct mpoint *pts, size_t n,
                         struct bench_buf *json)
{
	static const char *const dists[2] = { "zipf0.99", "uniform" };
	static const size_t sizes[2] = { 8192, 64 };
	printf("\nMixed work with evictions (RocksDB cache_bench's default mix: 87%% lookup + "
	       "insert on miss, 10%% lookup,\n2%% insert, 1%% erase; key space 4x what the "
	       "cache holds). Mops wall clock (per CPU second in\nparentheses); hit%% of the "
	       "lookups; p99 / p99.9 latency per operation kind in ns (li = lookup +\ninsert "
	       "on miss, lk = lookup, in = insert, er = erase); x hcc / x lru: hotcache's "
	       "throughput over\nthe peer's (target >= 1.5x HyperClockCache, p99 no worse):\n");
	printf("%-5s %-8s %3s %-10s %14s %5s %13s %13s %13s %13s %7s %7s\n", "value", "dist",
	       "thr", "impl", "Mops (cpu)", "hit%", "li p99/p99.9", "lk p99/p99.9",
	       "in p99/p99.9", "er p99/p99.9", "x hcc", "x lru");
	for (int s = 0; s < 2; s++)
		for (int d = 0; d < 2; d++)
			for (size_t t = 0; t < o->nmthreads; t++) {
				const struct mpoint *hc = mfind(pts, n, IMPL_HOTCACHE, sizes[s], dists[d],
				                                o->mthreads[t]);
				for (int k = 0; k < IMPL_COUNT; k++) {
					const struct mpoint *p = mfind(pts, n, (enum impl)k, sizes[s],
					                               dists[d], o->mthreads[t]);
					char cell[MOP_COUNT][24], mops[24], r[2][16];
					if (p == NULL)
						continue;
					for (int m = 0; m < MOP_COUNT; m++)
						snprintf(cell[m], sizeof cell[m], "%.0f/%.0f",
						         mpct_ns(p, m, 0.99), mpct_ns(p, m, 0.999));
					snprintf(mops, sizeof mops, "%.2f (%.2f)", p->mops, p->mops_cpu);
					for (int j = 0; j < 2; j++) {
						const struct mpoint *q = mfind(
							pts, n, j ? IMPL_LRU : IMPL_HYPERCLOCK, sizes[s],
							dists[d], o->mthreads[t]);
						if (k == IMPL_HOTCACHE && q && q->mops > 0)
							snprintf(r[j], sizeof r[j], "%.2fx",
							         hc->mops / q->mops);
						else
							snprintf(r[j], sizeof r[j], "%s", "");
					}
					printf("%-5zu %-8s %3u %-10s %14s %5.1f %13s %13s %13s %13s %7s "
					       "%7s\n", sizes[s], dists[d], o->mthreads[t], impl_name[k],
					       mops,
					       p->lookups ? 100.0 * (double)p->hits / (double)p->lookups
					                  : 0.0,
					       cell[0], cell[1], cell[2], cell[3], r[0], r[1]);
				}
			}
	printf("hotcache's writers (hc_stats over the best round): barriers = reclamation polls "
	       "that ran membarrier,\nper 1000 operations; waits = writes that waited for "
	       "reclamation, per 1000 operations, and their\nmean wait in us; shard mutex: "
	       "acquisitions per operation, mean wait and hold in ns per acquisition,\nand the "
	       "share of the threads' wall time spent holding it (wall times: they include time "
	       "preempted):\n");
	printf("%-5s %-8s %3s %10s %10s %9s %8s %9s %9s %7s\n", "value", "dist", "thr",
	       "barr/kop", "waits/kop", "wait us", "lock/op", "wait ns", "hold ns", "hold%");
	for (size_t i = 0; i < n; i++) {
		const struct mpoint *p = &pts[i];
		if (p->impl != IMPL_HOTCACHE || p->ops == 0)
			continue;
		double kop = (double)p->ops / 1000.0;
		printf("%-5zu %-8s %3u %10.2f %10.2f %9.1f %8.2f %9.0f %9.0f %6.1f%%\n", p->vlen,
		       p->dist, p->threads, (double)p->barriers / kop, (double)p->wwaits / kop,
		       p->wwaits ? (double)p->wwait_ns / (double)p->wwaits / 1e3 : 0.0,
		       (double)p->locks / (double)p->ops,
		       p->locks ? (double)p->lock_wait_ns / (double)p->locks : 0.0,
		       p->locks ? (double)p->lock_hold_ns / (double)p->locks : 0.0,
		       p->thr_ns > 0 ? 100.0 * (double)p->lock_hold_ns / p->thr_ns : 0.0);
	}
	printf("failed inserts (refused; hotcache: HC_EBUSY/HC_ENOMEM) and entries at the end:\n");
	for (size_t i = 0; i < n; i++)
		if (pts[i].errors > 0 || pts[i].threads == o->mthreads[0])
			printf("  %-10s %5zu B %-9s %2u thr: %llu failed of %llu ops, %zu entries\n",
			       impl_name[pts[i].impl], pts[i].vlen, pts[i].dist, pts[i].threads,
			       (unsigned long long)pts[i].errors, (unsigned long long)pts[i].ops,
			       pts[i].entries);
	for (size_t i = 0; i < n; i++)
		if (pts[i].replayed > 0)
			printf("  WARNING: %s %zu B %s %u thr replayed %llu of %llu operations' words "
			       "(a thread ran past its fresh words): its figures are not comparable\n",
			       impl_name[pts[i].impl], pts[i].vlen, pts[i].dist, pts[i].threads,
			       (unsigned long long)pts[i].replayed, (unsigned long long)pts[i].ops);
	if (json != NULL) {
		bench_buf_printf(json, ",\"mixed\":[");
		for (size_t i = 0; i < n; i++) {
			const struct mpoint *p = &pts[i];
			bench_buf_printf(json, "%s{\"impl\":\"%s\",\"value_bytes\":%zu,\"dist\":\"%s\","
			                 "\"threads\":%u,\"mops\":%.3f,\"mops_cpu\":%.3f,"
			                 "\"hit_ratio\":%.4f,\"entries\":%zu,\"replayed_ops\":%llu",
			                 i ? "," : "", impl_name[p->impl], p->vlen, p->dist,
			                 p->threads, p->mops, p->mops_cpu,
			                 p->lookups ? (double)p->hits / (double)p->lookups : 0.0,
			                 p->entries, (unsigned long long)p->replayed);
			for (int m = 0; m < MOP_COUNT; m++)
				bench_buf_printf(json, ",\"%s_p99_ns\":%.0f,\"%s_p999_ns\":%.0f",
				                 mop_name[m], mpct_ns(p, m, 0.99), mop_name[m],
				                 mpct_ns(p, m, 0.999));
			if (p->impl == IMPL_HOTCACHE)
				bench_buf_printf(json, ",\"barriers\":%llu,\"write_waits\":%llu,"
				                 "\"write_wait_ns\":%llu,\"shard_locks\":%llu,"
				                 "\"lock_wait_ns\":%llu,\"lock_hold_ns\":%llu",
				                 (unsigned long long)p->barriers,
				                 (unsigned long long)p->wwaits,
				                 (unsigned long long)p->wwait_ns,
				                 (unsigned long long)p->locks,
				                 (unsigned long long)p->lock_wait_ns,
				                 (unsigned long long)p->lock_hold_ns);
			bench_buf_printf(json, "}");
		}
		bench_buf_printf(json, "]");
	}
}

/* ---- driver ---- */

static void usage(void)
{
	fprintf(stderr,
	        "usage: cache_bench [--quick] [--json] [--seconds S] [--rounds R] [--threads 1,2,8]\n"
	        "                   [--small-keys N] [--large-keys N] [--value BYTES]\n"
	        "                   [--lru-shard-bits B] [--hcc-shard-bits B]\n"
	        "                   [--impl hotcache,hotcache_batch,hyperclock,lru]\n"
	        "                   [--workload hits|misses|mixed|all] [--mixed-mib-8k M]\n"
	        "                   [--mixed-mib-64 M] [--mixed-value 8192|64]\n"
	        "                   [--mixed-dist zipf|uniform]\n"
	        "                   [--dirty-decay-ms MS] [--hc-shards N]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct options *o)
{
	const char *v;
	bool seconds_set = false, large_set = false;
	o->seconds = 0.5;
	o->rounds = 3;
	o->sets[0] = 4096;
	o->sets[1] = 4u << 20;
	o->vlen = 64;
	o->threads[0] = 1;
	o->threads[1] = 2;
	o->threads[2] = 8;
	o->nthreads = 3;
	o->mthreads[0] = 1;
	o->mthreads[1] = 2;
	o->mthreads[2] = 8;
	o->mthreads[3] = 16;
	o->nmthreads = 4;
	/* RocksDB's own default for block caches of 32 MiB and up (64 shards); its
	 * automatic choice for a small capacity is one shard, one mutex. */
	o->lru_shard_bits = 6;
	o->hcc_shard_bits = -1;
	o->hits = o->mixed = true;
	o->mixed_cap[0] = 0;
	o->mixed_cap[1] = 0;
	o->mixed_size[0] = o->mixed_size[1] = true;
	o->mixed_dist[0] = o->mixed_dist[1] = true;
	for (int i = 0; i < IMPL_COUNT; i++)
		o->run[i] = true;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			o->quick = true;
		} else if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
		} else if ((v = bench_opt(argc, argv, &i, "--seconds"))) {
			o->seconds = bench_parse_double("--seconds", v);
			seconds_set = true;
		} else if ((v = bench_opt(argc, argv, &i, "--rounds"))) {
			o->rounds = (unsigned)bench_parse_u64("--rounds", v);
		} else if ((v = bench_opt(argc, argv, &i, "--small-keys"))) {
			o->sets[0] = (size_t)bench_parse_u64("--small-keys", v);
		} else if ((v = bench_opt(argc, argv, &i, "--large-keys"))) {
			o->sets[1] = (size_t)bench_parse_u64("--large-keys", v);
			large_set = true;
		} else if ((v = bench_opt(argc, argv, &i, "--value"))) {
			o->vlen = (size_t)bench_parse_u64("--value", v);
		} else if ((v = bench_opt(argc, argv, &i, "--lru-shard-bits"))) {
			o->lru_shard_bits = (int)bench_parse_double("--lru-shard-bits", v);
		} else if ((v = bench_opt(argc, argv, &i, "--hcc-shard-bits"))) {
			o->hcc_shard_bits = (int)bench_parse_double("--hcc-shard-bits", v);
		} else if ((v = bench_opt(argc, argv, &i, "--threads"))) {
			double t[8];
			o->nthreads = bench_parse_list("--threads", v, t, 8);
			for (size_t k = 0; k < o->nthreads; k++) {
				if (t[k] < 1 || t[k] > MAX_THREADS)
					usage();
				o->threads[k] = (unsigned)t[k];
				o->mthreads[k] = (unsigned)t[k];
			}
			o->nmthreads = o->nthreads;
		} else if ((v = bench_opt(argc, argv, &i, "--workload"))) {
			o->hits = strcmp(v, "hits") == 0 || strcmp(v, "all") == 0;
			o->misses = strcmp(v, "misses") == 0 || strcmp(v, "all") == 0;
			o->mixed = strcmp(v, "mixed") == 0 || strcmp(v, "all") == 0;
			if (!o->hits && !o->misses && !o->mixed)
				usage();
		} else if ((v = bench_opt(argc, argv, &i, "--hc-shards"))) {
			mixed_hc_shards = (unsigned)bench_parse_u64("--hc-shards", v);
		} else if ((v = bench_opt(argc, argv, &i, "--dirty-decay-ms"))) {
			dirty_decay_ms = (long)bench_parse_u64("--dirty-decay-ms", v);
		} else if ((v = bench_opt(argc, argv, &i, "--mixed-mib-8k"))) {
			o->mixed_cap[0] = (size_t)bench_parse_u64("--mixed-mib-8k", v) << 20;
		} else if ((v = bench_opt(argc, argv, &i, "--mixed-mib-64"))) {
			o->mixed_cap[1] = (size_t)bench_parse_u64("--mixed-mib-64", v) << 20;
		} else if ((v = bench_opt(argc, argv, &i, "--mixed-value"))) {
			uint64_t b = bench_parse_u64("--mixed-value", v);
			if (b != 8192 && b != 64)
				usage();
			o->mixed_size[0] = b == 8192;
			o->mixed_size[1] = b == 64;
		} else if ((v = bench_opt(argc, argv, &i, "--mixed-dist"))) {
			if (strcmp(v, "zipf") != 0 && strcmp(v, "uniform") != 0)
				usage();
			o->mixed_dist[0] = strcmp(v, "zipf") == 0;
			o->mixed_dist[1] = strcmp(v, "uniform") == 0;
		} else if ((v = bench_opt(argc, argv, &i, "--impl"))) {
			for (int k = 0; k < IMPL_COUNT; k++)
				o->run[k] = false;
			for (int k = 0; k < IMPL_COUNT; k++) {
				const char *s = strstr(v, impl_name[k]);
				size_t n = strlen(impl_name[k]);
				/* "hotcache" must not match inside "hotcache_batch" */
				while (s && ((s != v && s[-1] != ',') || (s[n] != ',' && s[n] != '\0')))
					s = strstr(s + 1, impl_name[k]);
				o->run[k] = s != NULL;
			}
		} else {
			usage();
		}
	}
	if (o->quick) {
		if (!seconds_set)
			o->seconds = 0.1;
		if (!large_set)
			o->sets[1] = 1u << 20; /* 1M keys, 100+ MiB with overheads: still >> LLC */
	}
	/* RocksDB's cache_bench defaults to 1 GiB of 8 KiB values; a quarter of that (a
	 * sixteenth with --quick) keeps three caches and their prefill within a shared
	 * machine's means while still far larger than the last-level cache. */
	if (o->mixed_cap[0] == 0)
		o->mixed_cap[0] = o->quick ? 64u << 20 : 256u << 20;
	if (o->mixed_cap[1] == 0)
		o->mixed_cap[1] = o->quick ? 16u << 20 : 64u << 20;
	if (o->vlen < 8 || o->seconds <= 0 || o->rounds == 0 || o->sets[0] == 0 || o->sets[1] == 0 ||
	    o->sets[0] > UINT32_MAX || o->sets[1] > UINT32_MAX)
		usage();
#if !HCB_HAVE_HOTCACHE
	o->run[IMPL_HOTCACHE] = false;
	fprintf(stderr, "cache_bench: built without the hotcache library: peers only\n");
#endif
#if !HCB_HAVE_BATCH
	o->run[IMPL_BATCH] = false;
#endif
}

static uint32_t **make_streams(size_t keys, double s, unsigned nthreads, size_t len,
                               uint64_t seed)
{
	struct zipf z;
	uint32_t **st = bench_xcalloc(nthreads, sizeof *st);
	if (zipf_init(&z, keys, s) != 0)
		exit(2);
	for (unsigned t = 0; t < nthreads; t++) {
		struct bench_rng r;
		bench_rng_seed(&r, seed * 1000003u + t);
		st[t] = bench_xmalloc(len * sizeof **st);
		for (size_t i = 0; i < len; i++)
			st[t][i] = (uint32_t)zipf_next(&z, &r);
	}
	return st;
}

static const struct point *find(const struct point *pts, size_t n, enum impl impl,
                                const char *dist, size_t keys, unsigned threads, bool miss)
{
	for (size_t i = 0; i < n; i++)
		if (pts[i].impl == impl && pts[i].keys == keys && pts[i].threads == threads &&
		    pts[i].miss == miss && strcmp(pts[i].dist, dist) == 0)
			return &pts[i];
	return NULL;
}

static double rate_of(const struct point *p, bool cpu)
{
	return p == NULL ? 0.0 : cpu ? p->mops_cpu : p->mops;
}

static void ratio(char *out, size_t cap, const struct point *a, const struct point *b, bool cpu)
{
	if (a && b && rate_of(b, cpu) > 0)
		snprintf(out, cap, "%.2fx", rate_of(a, cpu) / rate_of(b, cpu));
	else
		snprintf(out, cap, "-");
}

static void print_table(const struct options *o, const struct point *pts, size_t n, bool cpu,
                        bool miss)
{
	static const char *const dists[2] = { "zipf0.99", "uniform" };
	printf("\n%s%s\n", miss ? "MISSES, every lookup of a key never inserted. " : "",
	       cpu ? "Per CPU second (ops / thread CPU time x min(threads, cores)): "
	             "the CPU cost of a lookup, immune to other\nprocesses on the "
	             "machine; time blocked on a lock is not counted, so it flatters "
	             "LRUCache under contention:"
	           : "Wall clock (ops / elapsed): the measurement, \"mops\" in the JSON:");
	printf("%-9s %9s %3s %10s %10s %10s %10s %8s %8s %8s %8s %7s\n", "dist", "keys",
	       "thr", "hotcache", "hc_batch", "hyperclock", "lru", "hc/hcc", "hc/lru", "bat/hcc",
	       "bat/lru", "lru_tgt");
	for (int s = 0; s < 2; s++)
		for (int d = 0; d < 2; d++)
			for (size_t t = 0; t < o->nthreads; t++) {
				const struct point *p[IMPL_COUNT];
				char cell[IMPL_COUNT][16], r1[16], r2[16], r3[16], r4[16], tgt[16];
				for (int k = 0; k < IMPL_COUNT; k++) {
					p[k] = find(pts, n, (enum impl)k, dists[d], o->sets[s],
					            o->threads[t], miss);
					if (p[k])
						snprintf(cell[k], sizeof cell[k], "%.2f", rate_of(p[k], cpu));
					else
						snprintf(cell[k], sizeof cell[k], "-");
				}
				ratio(r1, sizeof r1, p[IMPL_HOTCACHE], p[IMPL_HYPERCLOCK], cpu);
				ratio(r2, sizeof r2, p[IMPL_HOTCACHE], p[IMPL_LRU], cpu);
				ratio(r3, sizeof r3, p[IMPL_BATCH], p[IMPL_HYPERCLOCK], cpu);
				ratio(r4, sizeof r4, p[IMPL_BATCH], p[IMPL_LRU], cpu);
				snprintf(tgt, sizeof tgt, "%s",
				         miss ? "-" : o->threads[t] >= 2 ? ">=5x" : ">=3x");
				printf("%-9s %9zu %3u %10s %10s %10s %10s %8s %8s %8s %8s %7s\n",
				       dists[d], o->sets[s], o->threads[t], cell[IMPL_HOTCACHE],
				       cell[IMPL_BATCH], cell[IMPL_HYPERCLOCK], cell[IMPL_LRU], r1, r2,
				       r3, r4, tgt);
			}
	if (miss)
		printf("(Mops = million misses per second, all threads; hc = hc_read, bat = "
		       "hc_read_batch of %d keys; no target: for reference)\n", BATCH);
	else
		printf("(Mops = million hits per second, all threads; hc = hc_read, bat = "
		       "hc_read_batch of %d keys;\n targets: hc/hcc >= 2x everywhere, hc/lru as "
		       "in lru_tgt)\n", BATCH);
}

static void print_loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	char line[128] = "?\n";
	if (f) {
		if (!fgets(line, sizeof line, f))
			line[0] = '\0';
		fclose(f);
	}
	printf("\nload average at the end: %s", line);
}

/* The hit tables and check; appends the hit results to json (when given). */
static int report(const struct options *o, const struct point *pts, size_t n,
                  struct bench_buf *json)
{
	int low = 0;
	for (int miss = 0; miss < 2; miss++)
		for (size_t i = 0; i < n; i++)
			if (pts[i].miss == miss) {
				print_table(o, pts, n, false, miss);
				print_table(o, pts, n, true, miss);
				break;
			}
	printf("\nhit check (>= 99%% of lookups must hit; at a miss point, none):\n");
	for (size_t i = 0; i < n; i++) {
		double hr = pts[i].ops ? (double)pts[i].hits / (double)pts[i].ops : 0.0;
		bool ok = pts[i].miss ? pts[i].ops > 0 && pts[i].hits == 0 : hr >= 0.99;
		low |= !ok;
		printf("  %-14s %-9s %9zu keys %2u thr%s: %llu of %llu hits (%.3f%%)%s\n",
		       impl_name[pts[i].impl], pts[i].dist, pts[i].keys, pts[i].threads,
		       pts[i].miss ? ", misses" : "", (unsigned long long)pts[i].hits,
		       (unsigned long long)pts[i].ops, hr * 100,
		       ok ? "" : pts[i].miss ? "  HIT: not a miss measurement"
		                             : "  LOW: not a hit measurement");
	}
	if (json != NULL)
		for (size_t i = 0; i < n; i++)
			bench_buf_printf(json, "%s{\"impl\":\"%s\",\"lookup\":\"%s\",\"dist\":\"%s\","
			                 "\"keys\":%zu,\"threads\":%u,\"mops\":%.3f,\"mops_cpu\":%.3f}",
			                 i ? "," : "", impl_name[pts[i].impl],
			                 pts[i].miss ? "miss" : "hit", pts[i].dist, pts[i].keys,
			                 pts[i].threads, pts[i].mops, pts[i].mops_cpu);
	return low;
}

/*
 * One working set: every implementation is opened and prefilled, then each point runs
 * the implementations back to back, --rounds times, keeping each one's best round.
 * Interleaving and best-of make the ratios robust to a machine whose load changes while
 * the bench runs (other processes, frequency changes): a slow round hits one impl once,
 * not all its points.
 */
static void run_set(const struct options *o, size_t keys, int set, unsigned maxthr,
                    struct point *pts, size_t *npts, bool miss)
{
	static const char *const dists[2] = { "zipf0.99", "uniform" };
	static const double exps[2] = { 0.99, 0.0 };
	/* Long enough to sample the distribution, short enough not to crowd L2 when the
	 * working set is small. */
	size_t len = keys <= 65536 ? 65536 : 1u << 20;
	struct open_cache oc[IMPL_COUNT];
	bool open[IMPL_COUNT] = { false };
	uint32_t **streams[2];

	for (int d = 0; d < 2; d++)
		streams[d] = make_streams(keys, exps[d], maxthr, len, (uint64_t)set * 2 + (uint64_t)d + 1);
	for (int k = 0; k < IMPL_COUNT; k++) {
		uint64_t t0 = bench_now_ns(), rss0 = bench_rss_bytes(), rss1;
		if (!o->run[k])
			continue;
		if (open_impl((enum impl)k, o, keys, &oc[k]) != 0) {
			fprintf(stderr, "%s: could not open; skipped\n", impl_name[k]);
			continue;
		}
		open[k] = true;
		rss1 = bench_rss_bytes();
		/* The caches opened before stay open, so the growth is this one's memory. */
		printf("  %-14s %8zu keys prefilled in %5.2f s; RSS +%.1f MiB = %.0f B per entry "
		       "(%zu B key + %zu B value)\n", impl_name[k], keys,
		       (double)(bench_now_ns() - t0) / 1e9, (double)(rss1 - rss0) / 1048576.0,
		       (double)(rss1 - rss0) / (double)keys, (size_t)BENCH_KEY_LEN, o->vlen);
		fflush(stdout);
	}
	for (int d = 0; d < 2; d++) {
		for (int k = 0; k < IMPL_COUNT; k++) {
			/* Discarded warm-up: faults the streams in, trains the caches. */
			struct options warm = *o;
			struct point scratch = { .keys = keys, .miss = miss };
			warm.seconds = o->seconds / 4;
			if (open[k])
				run_point(&warm, &oc[k], streams[d], len, 1, &scratch);
		}
		for (size_t t = 0; t < o->nthreads; t++) {
			struct point *row[IMPL_COUNT] = { NULL };
			for (int k = 0; k < IMPL_COUNT; k++) {
				if (!open[k] || *npts >= MAX_POINTS)
					continue;
				row[k] = &pts[(*npts)++];
				row[k]->impl = (enum impl)k;
				row[k]->dist = dists[d];
				row[k]->keys = keys;
				row[k]->threads = o->threads[t];
				row[k]->miss = miss;
			}
			for (unsigned r = 0; r < o->rounds; r++)
				for (int k = 0; k < IMPL_COUNT; k++) {
					struct point p;
					if (!row[k])
						continue;
					p = *row[k];
					run_point(o, &oc[k], streams[d], len, o->threads[t], &p);
					if (p.mops > row[k]->mops) {
						double best_cpu = row[k]->mops_cpu;
						*row[k] = p;
						row[k]->mops_cpu = best_cpu;
					}
					if (p.mops_cpu > row[k]->mops_cpu)
						row[k]->mops_cpu = p.mops_cpu;
				}
			for (int k = 0; k < IMPL_COUNT; k++)
				if (row[k])
					fprintf(stderr, "  %-14s %-9s %8zu keys %u thr: %8.2f Mops%s\n",
					        impl_name[k], dists[d], keys, o->threads[t], row[k]->mops,
					        miss ? " (misses)" : "");
		}
	}
	for (int k = 0; k < IMPL_COUNT; k++)
		if (open[k])
			close_impl(&oc[k]);
	for (int d = 0; d < 2; d++) {
		for (unsigned t = 0; t < maxthr; t++)
			free(streams[d][t]);
		free(streams[d]);
	}
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct point *pts;
	struct mpoint *mpts;
	size_t npts = 0, nmpts = 0;
	unsigned maxthr = 1, maxmthr = 1;
	struct bench_buf json = { 0 };
	int low = 0;

	parse(argc, argv, &o);
	pts = bench_xcalloc(MAX_POINTS, sizeof *pts);
	mpts = bench_xcalloc(MAX_POINTS, sizeof *mpts);
	for (size_t t = 0; t < o.nthreads; t++)
		maxthr = o.threads[t] > maxthr ? o.threads[t] : maxthr;
	for (size_t t = 0; t < o.nmthreads; t++)
		maxmthr = o.mthreads[t] > maxmthr ? o.mthreads[t] : maxmthr;
	printf("cache_bench: %.2f s per point, best of %u interleaved rounds, "
	       "16-byte keys built in the loop\n", o.seconds, o.rounds);
	if (o.hits) {
		printf("\nhits: %zu-byte values\n", o.vlen);
		for (int s = 0; s < 2; s++)
			run_set(&o, o.sets[s], s, maxthr, pts, &npts, false);
	}
	if (o.misses) {
		printf("\nmisses: %zu-byte values; the same caches, every lookup of a key never "
		       "inserted\n", o.vlen);
		for (int s = 0; s < 2; s++)
			run_set(&o, o.sets[s], s, maxthr, pts, &npts, true);
	}
	if (o.mixed) {
		static const size_t sizes[2] = { 8192, 64 };
		calibrate_ticks();
		for (int s = 0; s < 2; s++)
			if (o.mixed_size[s])
				run_mixed_size(&o, sizes[s], maxmthr, mpts, &nmpts);
	}
	print_loadavg();
	bench_buf_printf(&json, "{\"bench\":\"cache\",\"results\":[");
	if (o.hits || o.misses)
		low = report(&o, pts, npts, &json);
	bench_buf_printf(&json, "]");
	if (o.mixed)
		mixed_report(&o, mpts, nmpts, &json);
	bench_buf_printf(&json, "}");
	if (o.json)
		printf("%s\n", json.s);
	bench_buf_free(&json);
	for (size_t i = 0; i < nmpts; i++)
		free(mpts[i].h);
	free(mpts);
	free(pts);
	return low ? 1 : 0;
}
