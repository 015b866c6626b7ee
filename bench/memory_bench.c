/*
 * memory_bench: does hotcache stay under its memory limit under churn?
 *
 * Threads (4) run Zipf(0.99) look-aside churn over 1M keys: hc_get, and on a miss
 * hc_put of the key's value, whose size is fixed per key and log-uniform from 16 B to
 * 64 KiB (mean about 7.9 KiB, so a 256 MiB cache holds ~34K of them and evicts all the
 * time). Every hit is checked: the value's length and its first 8 bytes (the key's
 * number) must match. A sampler thread reads hc_stats' accounted bytes and the process
 * RSS (/proc/self/statm) every 10 ms.
 *
 * Fixed overhead F = RSS after the bench's buffers and hc_open on an empty cache, minus
 * the RSS before them (the baseline, reported too). Targets (design): accounted bytes
 * <= limit + stats.slack_bytes at every sample; max RSS <= 1.15 x limit + F, where the
 * RSS is counted from the baseline (the program's own pages before the cache existed);
 * the check on the absolute RSS is printed beside it.
 *
 * --json prints {"bench":"memory","limit":L,"max_accounted":A,"max_rss":R,
 * "fixed_overhead":F,...} as the last line (R absolute). Exit status 1 if a hit returned
 * a wrong value; with --check, 3 if the accounted bytes or the RSS growth went over
 * (ctest's test_memory_bound runs --quick --check in `make test`).
 *
 * --rocksdb: the whole process with a store (issue 12, point 7). 2 threads write 500 MB
 * (100 MB with --quick) of values log-uniform in 16 B .. 256 KiB over 4096 keys each:
 * 80% puts (mostly overwrites, each with a new size), 10% deletes, 10% gets, into a
 * 32 MiB cache written through to a RocksDB store in a temporary directory (durability
 * wal; block cache and write buffer at their defaults, 32 MiB each). Every 10 ms the
 * sampler checks the RSS growth from the baseline (before hc_open) against the
 * documented bound limit + block_cache + write_buffer + 16 MiB, and reads RocksDB's
 * memtables and block cache through hc_metrics_foreach when the library has it.
 * --check: exit status 3 if any sample was over the bound (the README's bound on
 * resident memory, which holds when the process's allocator returns freed pages within
 * about a second: ctest runs it with jemalloc's decay at 0, test_rss_bound with
 * --quick in `make test`, soak_rss_bound whole in `make soak`).
 */
#include <dlfcn.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "hotcache.h"
#include "bench/common.h"
#include "tools/zipf.h"

enum { MAX_THREADS = 64, VMIN = 16, VMAX = 65536 };

struct options {
	double seconds;
	unsigned threads;
	uint64_t limit;
	uint64_t keys;
	double zipf_s;
	bool json;
};

struct worker {
	_Alignas(BENCH_LINE) pthread_t tid;
	unsigned id;
	hc_cache *cache;
	const struct zipf *z;
	const atomic_bool *stop;
	unsigned char *val, *buf;
	uint64_t ops, hits, misses, put_fail, wrong;
	char pad[BENCH_LINE];
};

struct sampler {
	pthread_t tid;
	hc_cache *cache;
	const atomic_bool *stop;
	uint64_t limit, slack, fixed, baseline;
	uint64_t samples, max_accounted, max_rss, max_retired, over_accounted, over_rss;
};

/* The value size of key k: log-uniform in [VMIN, VMAX], the same on every call. */
static size_t value_size(uint64_t k)
{
	uint64_t h = (k + 1) * UINT64_C(0x9E3779B97F4A7C15);
	h ^= h >> 29;
	h *= UINT64_C(0xBF58476D1CE4E5B9);
	h ^= h >> 32;
	double u = (double)(h >> 11) * 0x1.0p-53;
	size_t v = (size_t)exp(log((double)VMIN) + u * (log((double)VMAX) - log((double)VMIN)));
	return v < VMIN ? VMIN : v > VMAX ? VMAX : v;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench_rng r;
	bench_rng_seed(&r, 0x5eed0000u + w->id);
	while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
		uint64_t k = zipf_next(w->z, &r);
		unsigned char key[BENCH_KEY_LEN];
		size_t vlen = 0, want = value_size(k);
		int rc;
		bench_key16(k, key);
		rc = hc_get(w->cache, key, BENCH_KEY_LEN, w->buf, VMAX, &vlen);
		w->ops++;
		if (rc == 0) {
			uint64_t got;
			memcpy(&got, w->buf, sizeof got);
			w->hits++;
			w->wrong += vlen != want || got != k;
		} else if (rc == HC_ENOTFOUND) {
			w->misses++;
			memcpy(w->val, &k, sizeof k);
			w->put_fail += hc_put(w->cache, key, BENCH_KEY_LEN, w->val, want) != 0;
		} else {
			fprintf(stderr, "hc_get: %s: %s\n", hc_strerror(rc), hc_last_error());
			exit(1);
		}
	}
	hc_thread_detach(w->cache);
	return NULL;
}

static void sample(struct sampler *s)
{
	struct hc_stats st;
	uint64_t rss = bench_rss_bytes();
	if (hc_stats(s->cache, &st) != 0)
		return;
	s->samples++;
	s->max_accounted = st.accounted_bytes > s->max_accounted ? st.accounted_bytes
	                                                           : s->max_accounted;
	s->max_retired = st.retired_bytes > s->max_retired ? st.retired_bytes : s->max_retired;
	s->max_rss = rss > s->max_rss ? rss : s->max_rss;
	s->slack = st.slack_bytes;
	s->over_accounted += st.accounted_bytes > s->limit + st.slack_bytes;
	s->over_rss += rss - s->baseline > (uint64_t)(1.15 * (double)s->limit) + s->fixed;
}

static void *sampler_main(void *arg)
{
	struct sampler *s = arg;
	while (!atomic_load_explicit(s->stop, memory_order_relaxed)) {
		sample(s);
		bench_sleep_ns(10 * 1000 * 1000);
	}
	return NULL;
}

static double mib(uint64_t b)
{
	return (double)b / (1024.0 * 1024.0);
}

/* ---- --rocksdb: the whole process, with a store ------------------------------------- */

enum { R_THREADS = 2, R_KEYS = 4096, R_VMAX = 256 * 1024 };

struct rworker {
	_Alignas(BENCH_LINE) pthread_t tid;
	unsigned id;
	hc_cache *cache;
	uint64_t quota;  /* bytes to write */
	uint64_t written, puts, dels, gets, errors;
	unsigned char *val, *buf;
	char pad[BENCH_LINE];
};

struct rsampler {
	pthread_t tid;
	hc_cache *cache;
	const atomic_bool *stop;
	uint64_t baseline, bound;
	uint64_t samples, over, max_growth, max_accounted;
	uint64_t max_memtables, max_block_cache, max_pinned;
	/* At the sample with the largest RSS growth: jemalloc's view (0 without it). */
	uint64_t peak_allocated, peak_resident, peak_dirty, peak_memtables, peak_block_cache;
	uint64_t cur_memtables, cur_block_cache;
};

/* jemalloc's process-wide figures through mallctl, when the process runs on jemalloc:
 * allocated (live), resident, and dirty pages of all arenas (freed, not yet returned). */
static int je_figures(uint64_t *allocated, uint64_t *resident, uint64_t *dirty)
{
	static int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
	static int looked;
	if (!looked) {
		*(void **)&mallctl_fn = dlsym(RTLD_DEFAULT, "mallctl");
		looked = 1;
	}
	if (mallctl_fn == NULL)
		return -1;
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch), v, vsz = sizeof(v);
	mallctl_fn("epoch", &epoch, &sz, &epoch, sz);
	if (mallctl_fn("stats.allocated", &v, &vsz, NULL, 0) != 0)
		return -1;
	*allocated = v;
	if (mallctl_fn("stats.resident", &v, &vsz, NULL, 0) != 0)
		return -1;
	*resident = v;
	/* MALLCTL_ARENAS_ALL = 4096: the sum over arenas; pdirty is in pages. */
	if (mallctl_fn("stats.arenas.4096.pdirty", &v, &vsz, NULL, 0) != 0)
		return -1;
	*dirty = v * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

static int rmetric(const struct hc_metric *m, void *arg)
{
	struct rsampler *s = arg;
	uint64_t v = (uint64_t)m->value, *max = NULL;
	if (strcmp(m->name, "hotcache_rocksdb_memtable_bytes") == 0)
		max = &s->max_memtables;
	else if (strcmp(m->name, "hotcache_rocksdb_block_cache_usage_bytes") == 0)
		max = &s->max_block_cache;
	else if (strcmp(m->name, "hotcache_rocksdb_block_cache_pinned_bytes") == 0)
		max = &s->max_pinned;
	if (max != NULL && v > *max)
		*max = v;
	if (max == &s->max_memtables)
		s->cur_memtables = v;
	else if (max == &s->max_block_cache)
		s->cur_block_cache = v;
	return 0;
}

/* RocksDB's memory, through the public metrics. */
static void rsample_store(struct rsampler *s)
{
	(void)hc_metrics_foreach(s->cache, rmetric, s);
}

static void rreport_store(const struct rsampler *s)
{
	printf("RocksDB max: memtables %.1f MiB, block cache usage %.1f MiB (pinned %.1f MiB)\n",
	       mib(s->max_memtables), mib(s->max_block_cache), mib(s->max_pinned));
	printf("at the RSS peak: memtables %.1f MiB, block cache %.1f MiB; jemalloc allocated "
	       "%.1f MiB, resident %.1f MiB, of which dirty (freed, not returned) %.1f MiB\n",
	       mib(s->peak_memtables), mib(s->peak_block_cache), mib(s->peak_allocated),
	       mib(s->peak_resident), mib(s->peak_dirty));
}

/* Log-uniform in [VMIN, R_VMAX]. */
static size_t rvalue_size(struct bench_rng *r)
{
	double u = bench_rng_double(r);
	size_t v = (size_t)exp(log((double)VMIN) + u * (log((double)R_VMAX) - log((double)VMIN)));
	return v < VMIN ? VMIN : v > R_VMAX ? R_VMAX : v;
}

static void *rworker_main(void *arg)
{
	struct rworker *w = arg;
	struct bench_rng r;
	bench_rng_seed(&r, 0x70c45000u + w->id);
	while (w->written < w->quota) {
		uint64_t k = (uint64_t)w->id * R_KEYS + bench_rng_below(&r, R_KEYS);
		unsigned char key[BENCH_KEY_LEN];
		unsigned op = (unsigned)bench_rng_below(&r, 10);
		size_t vlen;
		bench_key16(k, key);
		if (op == 0) {
			w->dels++;
			w->errors += hc_delete(w->cache, key, BENCH_KEY_LEN) != 0;
		} else if (op == 1) {
			int rc = hc_get(w->cache, key, BENCH_KEY_LEN, w->buf, R_VMAX, &vlen);
			w->gets++;
			w->errors += rc != 0 && rc != HC_ENOTFOUND;
		} else {
			vlen = rvalue_size(&r);
			memcpy(w->val, &k, sizeof k);
			w->val[vlen - 1] = (unsigned char)w->puts;
			w->puts++;
			w->errors += hc_put(w->cache, key, BENCH_KEY_LEN, w->val, vlen) != 0;
			w->written += vlen;
		}
	}
	hc_thread_detach(w->cache);
	return NULL;
}

static void rsample(struct rsampler *s)
{
	struct hc_stats st;
	uint64_t rss = bench_rss_bytes();
	uint64_t growth = rss > s->baseline ? rss - s->baseline : 0;
	s->samples++;
	s->over += growth > s->bound;
	if (hc_stats(s->cache, &st) == 0 && st.accounted_bytes > s->max_accounted)
		s->max_accounted = st.accounted_bytes;
	rsample_store(s);
	if (growth > s->max_growth) {
		s->max_growth = growth;
		s->peak_memtables = s->cur_memtables;
		s->peak_block_cache = s->cur_block_cache;
		if (je_figures(&s->peak_allocated, &s->peak_resident, &s->peak_dirty) != 0)
			s->peak_allocated = s->peak_resident = s->peak_dirty = 0;
	}
}

static void *rsampler_main(void *arg)
{
	struct rsampler *s = arg;
	while (!atomic_load_explicit(s->stop, memory_order_relaxed)) {
		rsample(s);
		bench_sleep_ns(10 * 1000 * 1000);
	}
	return NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static int rocks_main(bool quick, bool json, bool check)
{
	uint64_t total = quick ? UINT64_C(100) << 20 : UINT64_C(500) << 20;
	char dir[] = "/tmp/hc_memory_bench.XXXXXX", path[64];
	struct rworker w[R_THREADS];
	struct rsampler s = {0};
	struct hc_config cfg;
	atomic_bool stop = false;
	hc_cache *c;
	int rc;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(path, sizeof path, "%s/db", dir);
	memset(w, 0, sizeof w);
	for (unsigned t = 0; t < R_THREADS; t++) {
		w[t].val = bench_xmalloc(R_VMAX);
		w[t].buf = bench_xmalloc(R_VMAX);
		memset(w[t].val, 0x5a, R_VMAX);
		memset(w[t].buf, 0, R_VMAX);
	}
	s.baseline = bench_rss_bytes();
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_ROCKSDB;
	snprintf(cfg.backing_path, sizeof cfg.backing_path, "%s", path);
	cfg.durability = HC_DURABILITY_WAL;
	cfg.memory_limit = UINT64_C(32) << 20;
	cfg.max_entry = R_VMAX;
	if ((rc = hc_open(&cfg, &c)) != 0) {
		fprintf(stderr, "hc_open: %s: %s\n", hc_strerror(rc), hc_last_error());
		return 2;
	}
	s.cache = c;
	s.stop = &stop;
	s.bound = cfg.memory_limit + cfg.block_cache + cfg.write_buffer + (UINT64_C(16) << 20);
	printf("memory_bench --rocksdb: %d threads write %.0f MiB of values %d B..%d KiB "
	       "(80%% puts, 10%% deletes, 10%% gets over %d keys each), limit %.0f MiB, block "
	       "cache %.0f MiB, write buffer %.0f MiB, durability wal\n", R_THREADS, mib(total),
	       VMIN, R_VMAX / 1024, R_KEYS, mib(cfg.memory_limit), mib(cfg.block_cache),
	       mib(cfg.write_buffer));
	printf("baseline RSS %.1f MiB; after hc_open %.1f MiB; bound on RSS growth: limit + "
	       "block_cache + write_buffer + 16 MiB = %.0f MiB\n", mib(s.baseline),
	       mib(bench_rss_bytes()), mib(s.bound));
	fflush(stdout);
	if (pthread_create(&s.tid, NULL, rsampler_main, &s) != 0)
		return 2;
	uint64_t t0 = bench_now_ns();
	for (unsigned t = 0; t < R_THREADS; t++) {
		w[t].id = t;
		w[t].cache = c;
		w[t].quota = total / R_THREADS;
		if (pthread_create(&w[t].tid, NULL, rworker_main, &w[t]) != 0)
			return 2;
	}
	uint64_t puts = 0, dels = 0, gets = 0, errors = 0, written = 0;
	for (unsigned t = 0; t < R_THREADS; t++) {
		pthread_join(w[t].tid, NULL);
		puts += w[t].puts, dels += w[t].dels, gets += w[t].gets;
		errors += w[t].errors, written += w[t].written;
	}
	uint64_t t1 = bench_now_ns();
	/* A second more of samples: flushes and decay finish after the last write. */
	bench_sleep_ns(UINT64_C(1000) * 1000 * 1000);
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	pthread_join(s.tid, NULL);
	uint64_t end_growth = bench_rss_bytes() - s.baseline;
	bool ok = s.over == 0;
	printf("\n%.0f MiB written in %.1f s: %llu puts, %llu deletes, %llu gets, %llu errors\n",
	       mib(written), (double)(t1 - t0) / 1e9, (unsigned long long)puts,
	       (unsigned long long)dels, (unsigned long long)gets, (unsigned long long)errors);
	printf("%llu samples every 10 ms; max accounted %.1f MiB (limit %.0f MiB)\n",
	       (unsigned long long)s.samples, mib(s.max_accounted), mib(cfg.memory_limit));
	rreport_store(&s);
	printf("max RSS growth %.1f MiB vs bound %.0f MiB: %s (%llu samples over); at the end "
	       "%.1f MiB\n", mib(s.max_growth), mib(s.bound), ok ? "ok" : "OVER",
	       (unsigned long long)s.over, mib(end_growth));
	hc_close(c);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (unsigned t = 0; t < R_THREADS; t++) {
		free(w[t].val);
		free(w[t].buf);
	}
	if (json)
		printf("{\"bench\":\"memory_rocksdb\",\"limit\":%llu,\"block_cache\":%llu,"
		       "\"write_buffer\":%llu,\"bound\":%llu,\"max_rss_growth\":%llu,"
		       "\"samples_over\":%llu,\"max_memtables\":%llu,\"rss_ok\":%s}\n",
		       (unsigned long long)cfg.memory_limit, (unsigned long long)cfg.block_cache,
		       (unsigned long long)cfg.write_buffer, (unsigned long long)s.bound,
		       (unsigned long long)s.max_growth, (unsigned long long)s.over,
		       (unsigned long long)s.max_memtables, ok ? "true" : "false");
	if (errors)
		return 1;
	return check && !ok ? 3 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: memory_bench [--quick] [--json] [--seconds S] [--threads N]\n"
	                "                    [--limit BYTES] [--keys N] [--zipf S] [--check]\n"
	                "       memory_bench --rocksdb [--quick] [--json] [--check]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct options o = { 60, 4, 256u << 20, 1u << 20, 0.99, false };
	struct worker *w;
	struct sampler s = { 0 };
	struct hc_config cfg;
	struct hc_stats st;
	struct zipf z;
	hc_cache *c;
	atomic_bool stop = false, sampler_stop = false;
	bool seconds_set = false, quick = false, rocks = false, check = false;
	uint64_t baseline, after_open, t0, t1, ops = 0, hits = 0, misses = 0, put_fail = 0,
	                                          wrong = 0;
	const char *v;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o.json = true;
		else if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--rocksdb") == 0)
			rocks = true;
		else if (strcmp(argv[i], "--check") == 0)
			check = true;
		else if ((v = bench_opt(argc, argv, &i, "--seconds")))
			o.seconds = bench_parse_double("--seconds", v), seconds_set = true;
		else if ((v = bench_opt(argc, argv, &i, "--threads")))
			o.threads = (unsigned)bench_parse_u64("--threads", v);
		else if ((v = bench_opt(argc, argv, &i, "--limit")))
			o.limit = bench_parse_u64("--limit", v);
		else if ((v = bench_opt(argc, argv, &i, "--keys")))
			o.keys = bench_parse_u64("--keys", v);
		else if ((v = bench_opt(argc, argv, &i, "--zipf")))
			o.zipf_s = bench_parse_double("--zipf", v);
		else
			usage();
	}
	if (rocks)
		return rocks_main(quick, o.json, check);
	if (quick && !seconds_set)
		o.seconds = 5;
	if (o.threads == 0 || o.threads > MAX_THREADS || o.seconds <= 0 || o.keys == 0 ||
	    zipf_init(&z, o.keys, o.zipf_s) != 0)
		usage();

	/* Baseline, then the bench's own buffers and an empty cache. */
	baseline = bench_rss_bytes();
	w = aligned_alloc(BENCH_LINE, o.threads * sizeof *w);
	if (w == NULL)
		return 2;
	memset(w, 0, o.threads * sizeof *w);
	for (unsigned t = 0; t < o.threads; t++) {
		w[t].val = bench_xmalloc(VMAX);
		w[t].buf = bench_xmalloc(VMAX);
		memset(w[t].val, 0xa5, VMAX);
		memset(w[t].buf, 0, VMAX);
	}
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = o.limit;
	cfg.max_entry = VMAX;
	cfg.expected_entries = o.limit / 8192;
	if ((rc = hc_open(&cfg, &c)) != 0) {
		fprintf(stderr, "hc_open: %s: %s\n", hc_strerror(rc), hc_last_error());
		return 2;
	}
	after_open = bench_rss_bytes();
	s.cache = c;
	s.stop = &sampler_stop;
	s.limit = o.limit;
	s.baseline = baseline;
	s.fixed = after_open > baseline ? after_open - baseline : 0;
	printf("memory_bench: %u threads, %.0f s, limit %.1f MiB, Zipf %.2f over %llu keys, "
	       "values %d B..%d KiB log-uniform\n", o.threads, o.seconds, mib(o.limit), o.zipf_s,
	       (unsigned long long)o.keys, VMIN, VMAX / 1024);
	printf("baseline RSS %.1f MiB; after buffers + hc_open %.1f MiB: fixed overhead F = "
	       "%.1f MiB\n", mib(baseline), mib(after_open), mib(s.fixed));
	fflush(stdout);

	if (pthread_create(&s.tid, NULL, sampler_main, &s) != 0)
		return 2;
	t0 = bench_now_ns();
	for (unsigned t = 0; t < o.threads; t++) {
		w[t].id = t;
		w[t].cache = c;
		w[t].z = &z;
		w[t].stop = &stop;
		if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0)
			return 2;
	}
	bench_sleep_ns((uint64_t)(o.seconds * 1e9));
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	for (unsigned t = 0; t < o.threads; t++) {
		pthread_join(w[t].tid, NULL);
		ops += w[t].ops;
		hits += w[t].hits;
		misses += w[t].misses;
		put_fail += w[t].put_fail;
		wrong += w[t].wrong;
	}
	t1 = bench_now_ns();
	atomic_store_explicit(&sampler_stop, true, memory_order_relaxed);
	pthread_join(s.tid, NULL);
	sample(&s); /* one after the churn stopped */
	if (hc_stats(c, &st) != 0)
		memset(&st, 0, sizeof st);

	uint64_t rss_bound = (uint64_t)(1.15 * (double)o.limit) + s.fixed;
	bool acc_ok = s.max_accounted <= o.limit + s.slack && s.over_accounted == 0;
	bool rss_ok = s.max_rss - baseline <= rss_bound;
	bool rss_abs_ok = s.max_rss <= rss_bound;
	printf("\n%llu ops in %.1f s (%.2f Mops), hit ratio %.3f, %llu misses put, %llu puts "
	       "refused, %llu wrong values\n", (unsigned long long)ops, (double)(t1 - t0) / 1e9,
	       (double)ops * 1e3 / (double)(t1 - t0), ops ? (double)hits / (double)ops : 0.0,
	       (unsigned long long)misses, (unsigned long long)put_fail,
	       (unsigned long long)wrong);
	printf("end: %llu entries, %llu evictions, accounted %.1f MiB (metadata %.1f MiB, "
	       "retired %.1f MiB)\n", (unsigned long long)st.entries,
	       (unsigned long long)st.evictions, mib(st.accounted_bytes), mib(st.metadata_bytes),
	       mib(st.retired_bytes));
	printf("%llu samples every 10 ms\n", (unsigned long long)s.samples);
	printf("max accounted %.2f MiB vs limit %.2f MiB + slack %.2f MiB: %s (%llu samples "
	       "over); max retired %.2f MiB\n", mib(s.max_accounted), mib(o.limit), mib(s.slack),
	       acc_ok ? "ok" : "OVER", (unsigned long long)s.over_accounted, mib(s.max_retired));
	printf("max RSS %.1f MiB, %.1f MiB above baseline, vs 1.15 x limit + F = %.1f MiB: %s "
	       "(%llu samples over); absolute RSS vs the same bound: %s\n", mib(s.max_rss),
	       mib(s.max_rss - baseline), mib(rss_bound), rss_ok ? "ok" : "OVER",
	       (unsigned long long)s.over_rss, rss_abs_ok ? "ok" : "over");
	hc_close(c);
	for (unsigned t = 0; t < o.threads; t++) {
		free(w[t].val);
		free(w[t].buf);
	}
	free(w);
	if (o.json)
		printf("{\"bench\":\"memory\",\"limit\":%llu,\"max_accounted\":%llu,\"max_rss\":%llu,"
		       "\"fixed_overhead\":%llu,\"baseline_rss\":%llu,\"slack\":%llu,"
		       "\"accounted_ok\":%s,\"rss_ok\":%s}\n",
		       (unsigned long long)o.limit, (unsigned long long)s.max_accounted,
		       (unsigned long long)s.max_rss, (unsigned long long)s.fixed,
		       (unsigned long long)baseline, (unsigned long long)s.slack,
		       acc_ok ? "true" : "false", rss_ok ? "true" : "false");
	if (wrong)
		return 1;
	return check && !(acc_ok && rss_ok) ? 3 : 0;
}
