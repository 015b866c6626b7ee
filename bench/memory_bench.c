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
 * a wrong value.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#include "hotcache.h"
#include "bench/common.h"
#include "bench/zipf.h"

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

static void usage(void)
{
	fprintf(stderr, "usage: memory_bench [--quick] [--json] [--seconds S] [--threads N]\n"
	                "                    [--limit BYTES] [--keys N] [--zipf S]\n");
	exit(2);
}

static double mib(uint64_t b)
{
	return (double)b / (1024.0 * 1024.0);
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
	bool seconds_set = false, quick = false;
	uint64_t baseline, after_open, t0, t1, ops = 0, hits = 0, misses = 0, put_fail = 0,
	                                          wrong = 0;
	const char *v;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o.json = true;
		else if (strcmp(argv[i], "--quick") == 0)
			quick = true;
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
	return wrong ? 1 : 0;
}
