/*
 * map_bench: our lock-free map (map/ + reclaim/) against ck_hs with a writer spinlock,
 * liburcu's rculfhash and a pthread_rwlock open-addressing table, side by side in one
 * run (bench/map_peer_*.c; the vtable is bench/map_peer.h).
 *
 * For each key count every selected table is built and prefilled with keys 0..N-1
 * (value = index << 8); then, for each workload and thread count, each table runs in
 * turn for --seconds (the starting table rotates from point to point, so none always
 * runs first). Workloads: readR = R% lookups, the rest split evenly between a put
 * that replaces the value of a random key (a fresh node for the tables that keep
 * immutable nodes) and a delete of a random key followed by its re-insert, which
 * counts as one operation; the key set therefore stays constant apart from the keys
 * in flight. Keys are drawn uniformly by an inline generator (wyrand) per thread and
 * built from the index in the loop: 16 bytes by default (bench_key16, shared with
 * cache_bench), 8 with --klen 8. With --dist zipf (or uniform,zipf) the key indices
 * are Zipf(0.99) ranks instead, read from a per-thread stream of 2^20 drawn before
 * the run (tools/zipf.h), so the draw costs a sequential load, not a sample.
 *
 * Checks while running: a hit must carry a value of its own key (index in the high
 * bits), in every workload; in read100 every lookup must hit. Any failure is printed
 * and the exit status is 1.
 *
 * Per-entry overhead = (bytes the table holds for N keys, by its own accounting, see
 * each peer's bytes_note) - N x (klen + 8)) / N, measured right after the prefill.
 *
 * Output: a table per (workload, keys), one row per thread count, one column per
 * table, and ours / best peer; with --json one JSON object as the last line. Each
 * cell also gives operations per CPU-second of the process during the run
 * (CLOCK_PROCESS_CPUTIME_ID, so helper threads such as liburcu's call_rcu worker, which
 * frees rculfhash's nodes, are charged too): on a machine shared with other jobs the
 * wall-clock rate mostly measures the scheduler's share, the CPU-second rate the table.
 * More threads than cores oversubscribe on purpose (preemption inside a lock is part
 * of what a lock costs).
 *
 * --impl rwlock_ptr adds the rwlock table with entries behind pointers (an allocation
 * per put and a second miss per lookup, like the node-based tables); it is not in the
 * default set, whose JSON names are hotcache, ck_hs_locked, rculfhash and rwlock.
 * --impl index adds the open-addressed index (map/index.c) that is to replace our map
 * on the cache's hit path; it is opt-in too and counts as a peer in "ours / best".
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/common.h"
#include "bench/map_peer.h"
#include "reclaim/alloc.h"
#include "tools/zipf.h"

#define MAX_LIST 16

static const struct map_peer *const all_impls[] = {
	&map_peer_ours, &map_peer_ckhs, &map_peer_rculfhash, &map_peer_rwlock,
	&map_peer_rwlock_ptr, &map_peer_index,
};
enum { NIMPL = sizeof(all_impls) / sizeof(all_impls[0]) };
/* The first NDEFAULT run unless --impl names others. */
enum { NDEFAULT = 4 };

static const unsigned all_workloads[] = { 100, 90, 50 };
enum { NWL = 3 };

/* Key distributions: uniform (inline generator) and Zipf(ZIPF_S) streams. */
enum { DIST_UNIFORM = 0, DIST_ZIPF = 1, NDIST = 2 };
#define ZIPF_S 0.99
#define STREAM_LEN ((size_t)1 << 20)
static const char *const dist_name[NDIST] = { "uniform", "zipf0.99" };

struct opts {
	double seconds;
	bool json;
	uint32_t klen;
	bool impl_on[NIMPL];
	size_t nthreads, nkeys, nwl, ndist;
	unsigned dist[NDIST];
	unsigned threads[MAX_LIST];
	uint64_t keys[MAX_LIST];
	unsigned wl[NWL];
};

/* ---- workers --------------------------------------------------------------------- */

static _Atomic int go, stop;
static _Atomic unsigned ready;

struct worker {
	pthread_t th;
	const struct map_peer *p;
	void *h;
	unsigned tid, read_pct;
	uint32_t klen;
	uint64_t nkeys, seed;
	const uint32_t *stream; /* Zipf ranks (STREAM_LEN), or NULL for uniform */
	uint64_t ops, misses, bad, fails;
} __attribute__((aligned(BENCH_LINE)));

/* CPU time of the whole process: the workers and any helper thread of a library. */
static inline uint64_t process_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* wyrand: one add and one 64x64->128 multiply per number. */
static inline uint64_t rng_next(uint64_t *s)
{
	*s += UINT64_C(0xa0761d6478bd642f);
	__uint128_t m = (__uint128_t)*s * (*s ^ UINT64_C(0xe7037ed1a0b428db));
	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static inline void make_key(uint64_t i, uint32_t klen, unsigned char *out)
{
	if (klen == BENCH_KEY_LEN) {
		bench_key16(i, out);
	} else {
		uint64_t a = i * UINT64_C(0x9E3779B97F4A7C15);
		memcpy(out, &a, 8);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct map_peer *p = w->p;
	void *h = w->h;
	unsigned char key[MAP_PEER_MAX_KLEN];
	uint64_t s = w->seed, ops = 0, misses = 0, bad = 0, fails = 0;
	/* sel in [0, 65536): below rd a lookup, below up a put, else delete + re-insert. */
	uint32_t rd = w->read_pct * 65536u / 100u;
	uint32_t up = rd + (65536u - rd) / 2u;
	uint64_t tagbits = (w->tid + 1) & 0xff;

	p->thread_enter(h, w->tid);
	atomic_fetch_add_explicit(&ready, 1, memory_order_acq_rel);
	while (!atomic_load_explicit(&go, memory_order_acquire))
		sched_yield();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int k = 0; k < 256; k++) {
			uint64_t r = rng_next(&s);
			uint64_t idx = w->stream != NULL ? w->stream[(ops + (uint64_t)k) & (STREAM_LEN - 1)]
			                                 : ((r >> 32) * w->nkeys) >> 32;
			uint32_t sel = (uint32_t)r & 0xffffu;
			uint64_t v;
			make_key(idx, w->klen, key);
			if (sel < rd) {
				if (p->get(h, w->tid, key, &v)) {
					if ((v >> 8) != idx)
						bad++;
				} else {
					misses++;
				}
			} else if (sel < up) {
				fails += p->put(h, w->tid, key, idx << 8 | tagbits) != 0;
			} else {
				(void)p->del(h, w->tid, key);
				fails += p->put(h, w->tid, key, idx << 8 | tagbits) != 0;
			}
		}
		ops += 256;
	}
	p->thread_exit(h, w->tid);
	w->ops = ops;
	w->misses = misses;
	w->bad = bad;
	w->fails = fails;
	return NULL;
}

struct point {
	double mops;
	double mops_cpu; /* ops per CPU-second of the process: robust to other load */
	uint64_t misses, bad, fails;
};

static struct point run_point(const struct map_peer *p, void *h, uint64_t nkeys,
                              uint32_t klen, unsigned read_pct, unsigned nthreads,
                              double seconds, uint64_t seed, uint32_t *const *streams)
{
	struct worker *w = aligned_alloc(BENCH_LINE, sizeof(*w) * nthreads);
	struct point pt = { 0, 0, 0, 0, 0 };
	if (w == NULL) {
		fprintf(stderr, "map_bench: out of memory\n");
		exit(2);
	}
	memset(w, 0, sizeof(*w) * nthreads);
	atomic_store(&go, 0);
	atomic_store(&stop, 0);
	atomic_store(&ready, 0);
	for (unsigned i = 0; i < nthreads; i++) {
		w[i].p = p;
		w[i].h = h;
		w[i].tid = i;
		w[i].read_pct = read_pct;
		w[i].klen = klen;
		w[i].nkeys = nkeys;
		w[i].stream = streams != NULL ? streams[i] : NULL;
		w[i].seed = seed * 0x9E3779B97F4A7C15ull + i * 0xD1B54A32D192ED03ull + 1;
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i]) != 0) {
			fprintf(stderr, "map_bench: pthread_create failed\n");
			exit(2);
		}
	}
	while (atomic_load_explicit(&ready, memory_order_acquire) < nthreads)
		sched_yield();
	uint64_t c0 = process_cpu_ns(), t0 = bench_now_ns();
	atomic_store_explicit(&go, 1, memory_order_release);
	bench_sleep_ns((uint64_t)(seconds * 1e9));
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	uint64_t t1 = bench_now_ns(), cpu = process_cpu_ns() - c0;
	uint64_t ops = 0;
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(w[i].th, NULL);
		ops += w[i].ops;
		pt.misses += w[i].misses;
		pt.bad += w[i].bad;
		pt.fails += w[i].fails;
	}
	/* Ops finished after t1 are at most 256 per thread: negligible against the run. */
	pt.mops = (double)ops / ((double)(t1 - t0) / 1e9) / 1e6;
	pt.mops_cpu = cpu ? (double)ops / ((double)cpu / 1e9) / 1e6 : 0;
	free(w);
	return pt;
}

/* ---- tables ---------------------------------------------------------------------- */

static const char *wl_name(unsigned read_pct)
{
	return read_pct == 100 ? "read100" : read_pct == 90 ? "read90" : "read50";
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: map_bench [--quick] [--json] [--seconds S] [--klen 8|16]\n"
	        "                 [--impl hotcache,ck_hs_locked,rculfhash,rwlock[,rwlock_ptr]]\n"
	        "                 [--threads 1,2,4,8] [--keys 10000,10000000]\n"
	        "                 [--workload read100,read90,read50] [--dist uniform,zipf]\n"
	        "  --quick: 0.2 s per point and 10^6 keys instead of 10^7\n");
}

static void parse_names(const char *v, struct opts *o)
{
	char *copy = strdup(v), *save = NULL;
	memset(o->impl_on, 0, sizeof(o->impl_on));
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int found = 0;
		for (int i = 0; i < NIMPL; i++) {
			if (strcmp(tok, all_impls[i]->name) == 0 ||
			    (strcmp(tok, "ours") == 0 && i == 0) ||
			    (strcmp(tok, "ck_hs") == 0 && i == 1)) {
				o->impl_on[i] = true;
				found = 1;
			}
		}
		if (!found) {
			fprintf(stderr, "map_bench: unknown impl %s\n", tok);
			exit(2);
		}
	}
	free(copy);
}

static void parse_workloads(const char *v, struct opts *o)
{
	char *copy = strdup(v), *save = NULL;
	o->nwl = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && o->nwl < NWL;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned pct = strcmp(tok, "read100") == 0 ? 100 :
		               strcmp(tok, "read90") == 0  ? 90 :
		               strcmp(tok, "read50") == 0  ? 50 : 0;
		if (pct == 0) {
			fprintf(stderr, "map_bench: unknown workload %s\n", tok);
			exit(2);
		}
		o->wl[o->nwl++] = pct;
	}
	free(copy);
}

static void parse_dists(const char *v, struct opts *o)
{
	char *copy = strdup(v), *save = NULL;
	o->ndist = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && o->ndist < NDIST;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "uniform") == 0) {
			o->dist[o->ndist++] = DIST_UNIFORM;
		} else if (strcmp(tok, "zipf") == 0 || strcmp(tok, "zipf0.99") == 0) {
			o->dist[o->ndist++] = DIST_ZIPF;
		} else {
			fprintf(stderr, "map_bench: unknown distribution %s\n", tok);
			exit(2);
		}
	}
	free(copy);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	bool quick = false, keys_set = false, secs_set = false;
	double list[MAX_LIST];
	const char *v;
	memset(o, 0, sizeof(*o));
	o->seconds = 1.0;
	o->klen = BENCH_KEY_LEN;
	for (int i = 0; i < NDEFAULT; i++)
		o->impl_on[i] = true;
	o->nthreads = 4;
	o->threads[0] = 1, o->threads[1] = 2, o->threads[2] = 4, o->threads[3] = 8;
	o->nwl = NWL;
	memcpy(o->wl, all_workloads, sizeof(all_workloads));
	o->ndist = 1;
	o->dist[0] = DIST_UNIFORM;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
		} else if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
		} else if ((v = bench_opt(argc, argv, &i, "--seconds"))) {
			o->seconds = bench_parse_double("--seconds", v);
			secs_set = true;
		} else if ((v = bench_opt(argc, argv, &i, "--klen"))) {
			o->klen = (uint32_t)bench_parse_u64("--klen", v);
			if (o->klen != 8 && o->klen != 16) {
				fprintf(stderr, "map_bench: --klen is 8 or 16\n");
				exit(2);
			}
		} else if ((v = bench_opt(argc, argv, &i, "--impl"))) {
			parse_names(v, o);
		} else if ((v = bench_opt(argc, argv, &i, "--workload"))) {
			parse_workloads(v, o);
		} else if ((v = bench_opt(argc, argv, &i, "--dist"))) {
			parse_dists(v, o);
		} else if ((v = bench_opt(argc, argv, &i, "--threads"))) {
			o->nthreads = bench_parse_list("--threads", v, list, MAX_LIST);
			for (size_t k = 0; k < o->nthreads; k++) {
				if (list[k] < 1 || list[k] > MAP_PEER_MAX_THREADS) {
					fprintf(stderr, "map_bench: threads in 1..%d\n",
					        MAP_PEER_MAX_THREADS);
					exit(2);
				}
				o->threads[k] = (unsigned)list[k];
			}
		} else if ((v = bench_opt(argc, argv, &i, "--keys"))) {
			o->nkeys = bench_parse_list("--keys", v, list, MAX_LIST);
			for (size_t k = 0; k < o->nkeys; k++) {
				if (list[k] < 1 || list[k] > 4e9) {
					fprintf(stderr, "map_bench: keys in 1..4e9\n");
					exit(2);
				}
				o->keys[k] = (uint64_t)list[k];
			}
			keys_set = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage();
			exit(0);
		} else {
			fprintf(stderr, "map_bench: unknown option %s\n", argv[i]);
			usage();
			exit(2);
		}
	}
	if (!keys_set) {
		o->nkeys = 2;
		o->keys[0] = 10000;
		o->keys[1] = quick ? 1000000 : 10000000;
	}
	if (quick && !secs_set)
		o->seconds = 0.2;
}

struct result {
	int impl;
	unsigned wl, threads, dist;
	uint64_t keys;
	double mops, mops_cpu;
};

/* Everything one invocation collects. */
struct run {
	struct opts o;
	struct result *res;
	size_t nres;
	double overhead[MAX_LIST][NIMPL];
	int failed, short_points, compared_points;
	struct bench_buf shortfalls;
	uint64_t point_no;
	unsigned dist;             /* of the table being run */
	uint32_t *const *streams;  /* its per-thread Zipf streams, or NULL */
};

/* Builds every selected table for n keys, fills it, and records its overhead. */
static void prefill(struct run *R, size_t ki, void *h[NIMPL])
{
	uint64_t n = R->o.keys[ki];
	unsigned char key[MAP_PEER_MAX_KLEN];
	printf("\n== %llu keys: prefill ", (unsigned long long)n);
	for (int i = 0; i < NIMPL; i++) {
		if (!R->o.impl_on[i])
			continue;
		const struct map_peer *p = all_impls[i];
		uint64_t t0 = bench_now_ns();
		h[i] = p->init(n, R->o.klen);
		if (h[i] == NULL) {
			fprintf(stderr, "map_bench: %s: init failed\n", p->name);
			exit(2);
		}
		p->thread_enter(h[i], 0);
		for (uint64_t k = 0; k < n; k++) {
			make_key(k, R->o.klen, key);
			if (p->put(h[i], 0, key, k << 8) != 0) {
				fprintf(stderr, "map_bench: %s: prefill out of memory\n", p->name);
				exit(2);
			}
		}
		p->thread_exit(h[i], 0);
		uint64_t bytes = p->bytes(h[i]);
		R->overhead[ki][i] = ((double)bytes - (double)n * (R->o.klen + 8)) / (double)n;
		printf("%s %.2fs  ", p->name, (double)(bench_now_ns() - t0) / 1e9);
		fflush(stdout);
	}
	printf("\n   per-entry overhead, bytes beyond the %u-byte key + 8-byte value:\n",
	       R->o.klen);
	for (int i = 0; i < NIMPL; i++)
		if (R->o.impl_on[i])
			printf("   %-13s %7.1f   (%s)\n", all_impls[i]->name, R->overhead[ki][i],
			       all_impls[i]->bytes_note);
}

/* One row: every selected table at one (workload, keys, threads) point. */
static void run_row(struct run *R, void *h[NIMPL], uint64_t n, unsigned wl, unsigned nt)
{
	struct point pts[NIMPL];
	memset(pts, 0, sizeof(pts));
	for (int j = 0; j < NIMPL; j++) {
		int i = (int)((R->point_no + (uint64_t)j) % NIMPL);
		if (!R->o.impl_on[i])
			continue;
		struct point pt = run_point(all_impls[i], h[i], n, R->o.klen, wl, nt, R->o.seconds,
		                            R->point_no * 131 + (uint64_t)i, R->streams);
		pts[i] = pt;
		if (pt.bad || pt.fails || (wl == 100 && pt.misses)) {
			fprintf(stderr,
			        "map_bench: FAIL %s %s %s keys=%llu threads=%u: %llu wrong values, "
			        "%llu failed puts, %llu misses\n",
			        all_impls[i]->name, wl_name(wl), dist_name[R->dist], (unsigned long long)n, nt,
			        (unsigned long long)pt.bad, (unsigned long long)pt.fails,
			        (unsigned long long)pt.misses);
			R->failed = 1;
		}
		R->res[R->nres++] = (struct result){ i, wl, nt, R->dist, n, pt.mops, pt.mops_cpu };
	}
	R->point_no++;
	printf("%7u", nt);
	int best = -1, best_cpu = -1;
	for (int i = 0; i < NIMPL; i++) {
		if (!R->o.impl_on[i])
			continue;
		printf(" %8.2f (%5.1f)", pts[i].mops, pts[i].mops_cpu);
		if (i > 0 && (best < 0 || pts[i].mops > pts[best].mops))
			best = i;
		if (i > 0 && (best_cpu < 0 || pts[i].mops_cpu > pts[best_cpu].mops_cpu))
			best_cpu = i;
	}
	if (R->o.impl_on[0] && best > 0) {
		double ratio = pts[best].mops > 0 ? pts[0].mops / pts[best].mops : 0;
		double rcpu = pts[best_cpu].mops_cpu > 0 ? pts[0].mops_cpu / pts[best_cpu].mops_cpu : 0;
		printf("   %5.2f %-12s (%4.2f)", ratio, all_impls[best]->name, rcpu);
		R->compared_points++;
		if (ratio < 1.0) {
			R->short_points++;
			bench_buf_printf(&R->shortfalls,
			                 "  %s %s %llu keys %u threads: %.2f vs %s (per CPU-s %.2f vs %s)\n",
			                 wl_name(wl), dist_name[R->dist], (unsigned long long)n, nt, ratio,
			                 all_impls[best]->name, rcpu, all_impls[best_cpu]->name);
		}
	}
	printf("\n");
	fflush(stdout);
}

static void run_table(struct run *R, void *h[NIMPL], uint64_t n, unsigned wl)
{
	printf("\n%s %s, %llu keys: Mops/s of all threads (in brackets: Mops per CPU-second of "
	       "the process)\n", wl_name(wl), dist_name[R->dist], (unsigned long long)n);
	printf("threads");
	for (int i = 0; i < NIMPL; i++)
		if (R->o.impl_on[i])
			printf(" %16s", all_impls[i]->name);
	if (R->o.impl_on[0])
		printf("   ours/best peer (per CPU-s)");
	printf("\n");
	for (size_t ti = 0; ti < R->o.nthreads; ti++)
		run_row(R, h, n, wl, R->o.threads[ti]);
}

/* Quiescent after the runs: every key present once, with its own value (above 2 x 10^6
 * keys, a sample of 10^6 of them, and the table's own count); then frees the tables. */
static void verify_and_destroy(struct run *R, void *h[NIMPL], uint64_t n)
{
	unsigned char key[MAP_PEER_MAX_KLEN];
	for (int i = 0; i < NIMPL; i++) {
		if (h[i] == NULL)
			continue;
		const struct map_peer *p = all_impls[i];
		uint64_t missing = 0, wrong = 0, v;
		uint64_t step = n > 2000000 ? n / 1000000 : 1;
		p->thread_enter(h[i], 0);
		for (uint64_t k = 0; k < n; k += step) {
			make_key(k, R->o.klen, key);
			if (!p->get(h[i], 0, key, &v))
				missing++;
			else if ((v >> 8) != k)
				wrong++;
		}
		p->thread_exit(h[i], 0);
		uint64_t cnt = p->count(h[i]);
		if (missing || wrong || cnt != n) {
			fprintf(stderr, "map_bench: FAIL %s after the runs, %llu keys: %llu missing, "
			        "%llu wrong values, count %llu\n", p->name, (unsigned long long)n,
			        (unsigned long long)missing, (unsigned long long)wrong,
			        (unsigned long long)cnt);
			R->failed = 1;
		}
		p->destroy(h[i]);
	}
	if (map_peer_ours_mismatch)
		R->failed = 1;
}

/* Per-thread streams of STREAM_LEN Zipf(ZIPF_S) ranks over [0, keys). */
static uint32_t **make_streams(uint64_t keys, unsigned nthreads, uint64_t seed)
{
	struct zipf z;
	uint32_t **st = bench_xcalloc(nthreads, sizeof(*st));
	if (zipf_init(&z, keys, ZIPF_S) != 0) {
		fprintf(stderr, "map_bench: zipf_init failed\n");
		exit(2);
	}
	for (unsigned t = 0; t < nthreads; t++) {
		struct bench_rng r;
		bench_rng_seed(&r, seed * 1000003u + t);
		st[t] = bench_xcalloc(STREAM_LEN, sizeof(**st));
		for (size_t i = 0; i < STREAM_LEN; i++)
			st[t][i] = (uint32_t)zipf_next(&z, &r);
	}
	return st;
}

static void print_json(const struct run *R)
{
	const struct opts *o = &R->o;
	struct bench_buf b = { 0 };
	bench_buf_printf(&b, "{\"bench\":\"map\",\"results\":[");
	for (size_t r = 0; r < R->nres; r++)
		bench_buf_printf(&b,
		                 "%s{\"impl\":\"%s\",\"workload\":\"%s\",\"dist\":\"%s\","
		                 "\"keys\":%llu,\"threads\":%u,\"mops\":%.3f,\"mops_cpu\":%.3f}",
		                 r ? "," : "", all_impls[R->res[r].impl]->name,
		                 wl_name(R->res[r].wl), dist_name[R->res[r].dist],
		                 (unsigned long long)R->res[r].keys,
		                 R->res[r].threads, R->res[r].mops, R->res[r].mops_cpu);
	/* overhead: at the largest key count; overhead_by_keys: at each. */
	size_t big = 0;
	for (size_t ki = 1; ki < o->nkeys; ki++)
		if (o->keys[ki] > o->keys[big])
			big = ki;
	bench_buf_printf(&b, "],\"overhead\":{");
	for (int i = 0, c = 0; i < NIMPL; i++)
		if (o->impl_on[i])
			bench_buf_printf(&b, "%s\"%s\":%.1f", c++ ? "," : "", all_impls[i]->name,
			                 R->overhead[big][i]);
	bench_buf_printf(&b, "},\"overhead_keys\":%llu,\"overhead_by_keys\":{",
	                 (unsigned long long)o->keys[big]);
	for (size_t ki = 0; ki < o->nkeys; ki++) {
		bench_buf_printf(&b, "%s\"%llu\":{", ki ? "," : "", (unsigned long long)o->keys[ki]);
		for (int i = 0, c = 0; i < NIMPL; i++)
			if (o->impl_on[i])
				bench_buf_printf(&b, "%s\"%s\":%.1f", c++ ? "," : "", all_impls[i]->name,
				                 R->overhead[ki][i]);
		bench_buf_printf(&b, "}");
	}
	bench_buf_printf(&b, "},\"klen\":%u,\"seconds\":%.3f,\"allocator\":\"%s\",\"ok\":%s}",
	                 o->klen, o->seconds, mem_allocator(), R->failed ? "false" : "true");
	fflush(stdout);
	puts(b.s);
	bench_buf_free(&b);
}

int main(int argc, char **argv)
{
	static struct run R;
	parse_args(argc, argv, &R.o);
	srand((unsigned)bench_now_ns());
	R.res = bench_xcalloc((size_t)NIMPL * NWL * NDIST * MAX_LIST * MAX_LIST, sizeof(*R.res));
	uint64_t tstart = bench_now_ns();

	printf("map_bench: %u-byte keys, 8-byte values, %.2f s per point, %ld cores online, "
	       "nodes from %s\n", R.o.klen, R.o.seconds, sysconf(_SC_NPROCESSORS_ONLN),
	       mem_allocator());
	for (size_t ki = 0; ki < R.o.nkeys; ki++) {
		void *h[NIMPL] = { 0 };
		prefill(&R, ki, h);
		for (size_t di = 0; di < R.o.ndist; di++) {
			uint32_t **streams = NULL;
			unsigned maxt = 0;
			R.dist = R.o.dist[di];
			if (R.dist == DIST_ZIPF) {
				for (size_t ti = 0; ti < R.o.nthreads; ti++)
					maxt = R.o.threads[ti] > maxt ? R.o.threads[ti] : maxt;
				streams = make_streams(R.o.keys[ki], maxt, (uint64_t)ki + 1);
			}
			R.streams = streams;
			for (size_t wi = 0; wi < R.o.nwl; wi++)
				run_table(&R, h, R.o.keys[ki], R.o.wl[wi]);
			for (unsigned t = 0; streams != NULL && t < maxt; t++)
				free(streams[t]);
			free(streams);
			R.streams = NULL;
		}
		verify_and_destroy(&R, h, R.o.keys[ki]);
	}

	if (R.compared_points > 0) {
		printf("\nours >= best peer at %d of %d points", R.compared_points - R.short_points,
		       R.compared_points);
		if (R.short_points > 0)
			printf("; short at:\n%s", R.shortfalls.s);
		else
			printf("\n");
	}
	printf("total time %.1f s%s\n", (double)(bench_now_ns() - tstart) / 1e9,
	       R.failed ? "; CORRECTNESS FAILURES (see stderr)" : "");
	if (R.o.json)
		print_json(&R);
	bench_buf_free(&R.shortfalls);
	free(R.res);
	return R.failed ? 1 : 0;
}
