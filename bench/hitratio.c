/*
 * hitratio: the real hotcache (hc_open with backing mode none; look-aside: hc_get, and
 * on HC_ENOTFOUND a miss and hc_put) against exact simulations of LRU, CLOCK, S3-FIFO,
 * ARC, W-TinyLFU and Belady's OPT (bench/sim.h) over the same traces (bench/trace.h):
 *
 *   zipf0.7, zipf0.9, zipf0.99, zipf1.2   1M requests over 100K keys
 *   zipf0.9+scan, zipf0.99+scan           the same, plus every 10K requests a scan of
 *                                         5K-20K one-time keys
 *   shift5%xP                             90% of requests on a hot 5% of the keys, which
 *                                         moves P times over the trace (P = 10, 50, 250)
 *   mixZ/L                                three pools interleaved: Zipf 0.9 over half
 *                                         the keys (weight Z), a loop over a quarter
 *                                         (weight L), one-time keys (the rest)
 *   loopX                                 a loop X times the cache's capacity, X = 0.6,
 *                                         0.9, 1.1, 1.5, 2 and 10 (at least 4 laps)
 *   zigzagX                               forward then backward sweeps over X times the
 *                                         capacity, X = 1.25 and 2 (at least 4 sweeps)
 *   file:NAME                             --trace FILE, one key per line
 *
 * (--only PREFIX: only the traces whose name starts with PREFIX, e.g. --only shift) at
 * cache sizes of 1%, 5%, 10% and 50% of the trace's distinct keys (scan keys not
 * counted; --quick: 1%, 10% and 50%, 200K requests over 20K keys, under a minute).
 *
 * Sizing: hotcache has a byte limit, the simulators an entry count. Every value has one
 * fixed size, so for each target size N the limit is calibrated until the real cache,
 * filled with distinct keys, holds about N entries (hc_stats.entries); the count it
 * actually held is the capacity every simulator gets and the cache_size reported. The
 * average number of entries hotcache held while replaying (once full) is printed too.
 * The value size is chosen per N (2 MiB / N, 64 B to 8 KiB: allocations stay in the
 * allocator's slab classes) so that the limits stay near or above cache.memory_limit's
 * minimum (1 MiB; at the smallest sizes of --quick the cache then holds a little more
 * than N, and every policy is given what it held).
 *
 * Output: per trace and size every policy's hit ratio, the best of LRU, ARC, S3-FIFO and
 * W-TinyLFU, hotcache - best in points and the gap to OPT; the target: hotcache >= best
 * - 1 point on every row (and >= LRU + 5 points on the scan mixes). --json prints one
 * JSON object as the last line.
 *
 * Repeatability: the traces come from --seed (42), and the real cache's keyed hash,
 * which picks each key's shard and sketch counters, from --hash-seed (1; "random" for
 * a fresh one per hc_open, as a deployed cache has), so two runs print the same rows.
 */
#include <math.h>

#include "hotcache.h"
#include "bench/common.h"
#include "bench/sim.h"
#include "bench/trace.h"

#ifndef HCB_HAVE_HOTCACHE
#define HCB_HAVE_HOTCACHE 0
#endif
#ifndef HCB_HAVE_SEED
#define HCB_HAVE_SEED 0
#endif
#if HCB_HAVE_SEED
#include "cache/cache.h" /* cache_fix_seed */
#endif

enum { POL_HOTCACHE, POL_LRU, POL_CLOCK, POL_S3FIFO, POL_ARC, POL_WTLFU, POL_OPT, POL_COUNT };
static const char *const pol_name[POL_COUNT] = { "hotcache", "lru", "clock", "s3fifo", "arc",
	                                          "wtinylfu", "opt" };
/* The policies hotcache is held against. */
static const int pol_peers[] = { POL_LRU, POL_ARC, POL_S3FIFO, POL_WTLFU };

enum { MAX_SIZES = 8, MAX_ROWS = 1024 };

struct options {
	bool json, quick, real;
	size_t requests, universe;
	double sizes[MAX_SIZES];
	size_t nsizes;
	const char *files[4];
	size_t nfiles;
	const char *only; /* --only PREFIX: the traces whose name starts with it */
	uint64_t seed;
	uint64_t hash_seed;
	bool hash_random; /* --hash-seed random */
	unsigned shards; /* cache.shards for the real cache; 0 = its automatic choice */
};

struct row {
	char trace[64];
	bool scan;
	size_t cache_size; /* entries */
	double ratio[POL_COUNT];
	bool have[POL_COUNT];
	double held; /* hotcache's average entries once full */
	double small; /* the average share of those in its probation queue (SMALL) */
	uint64_t refused; /* hotcache puts declined */
};

/* ---- the real cache ---- */

/* A target size N resolved to a byte limit and the entries it really holds. */
struct sizing {
	size_t target;
	size_t vlen;
	uint64_t limit;
	size_t cap; /* entries held after a fill with distinct keys */
};

static size_t value_len(size_t target)
{
	size_t v = (2u << 20) / (target ? target : 1);
	v = v < 64 ? 64 : v > 8192 ? 8192 : v;
	return v & ~(size_t)7;
}

#if HCB_HAVE_HOTCACHE
static void key_bytes(uint64_t k, unsigned char out[8])
{
	memcpy(out, &k, 8);
}

static unsigned real_shards;

static int open_real(const struct sizing *sz, hc_cache **c)
{
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = sz->limit;
	cfg.max_entry = 16384;
	cfg.expected_entries = sz->target;
	cfg.shards = real_shards;
	return hc_open(&cfg, c);
}

/* Entries held after filling a fresh cache with 3N + 1000 distinct keys; -1 if the limit
 * was refused. */
static long fill_count(struct sizing *sz)
{
	hc_cache *c;
	struct hc_stats st;
	unsigned char key[8];
	unsigned char *val = bench_xcalloc(1, sz->vlen);
	if (open_real(sz, &c) != 0) {
		free(val);
		return -1;
	}
	for (uint64_t i = 0; i < 3 * (uint64_t)sz->target + 1000; i++) {
		key_bytes((UINT64_C(1) << 50) + i, key);
		(void)!hc_put(c, key, 8, val, sz->vlen);
	}
	if (hc_stats(c, &st) != 0)
		st.entries = 0;
	hc_close(c);
	free(val);
	return (long)st.entries;
}

/* Finds the limit at which the cache holds about N entries (secant steps on the two
 * latest fills; metadata makes the relation affine, not proportional). */
static void calibrate(struct sizing *sz)
{
	double l0 = 0, e0 = 0;
	sz->vlen = value_len(sz->target);
	sz->limit = (uint64_t)sz->target * (sz->vlen + 128);
	if (sz->limit < (1u << 20))
		sz->limit = 1u << 20;
	for (int it = 0; it < 8; it++) {
		long e = fill_count(sz);
		double l = (double)sz->limit, next;
		if (e <= 0) {
			sz->limit *= 2;
			continue;
		}
		sz->cap = (size_t)e;
		if (fabs((double)e - (double)sz->target) <= 0.01 * (double)sz->target + 1)
			break;
		if (l0 > 0 && (double)e != e0)
			next = l + ((double)sz->target - (double)e) * (l - l0) / ((double)e - e0);
		else
			next = l * (double)sz->target / (double)e;
		l0 = l;
		e0 = (double)e;
		if (next < (double)(1u << 20))
			next = (double)(1u << 20);
		if ((uint64_t)next == sz->limit)
			break;
		sz->limit = (uint64_t)next;
	}
}

/*
 * The real-cache driver: look-aside over the trace. Returns the hit count; *held gets
 * the average entry count over the samples taken once the cache had evicted, *refused
 * the puts the cache declined (HC_ENOMEM, HC_EBUSY).
 */
/* The probation queue's (SMALL's) share of the entries, over all shards. */
static double small_share(hc_cache *c, uint32_t shards)
{
	uint64_t small = 0, all = 0;
	for (uint32_t i = 0; i < shards; i++) {
		struct hc_shard_stats ss;
		if (hc_shard_stats(c, i, &ss) == 0) {
			small += ss.small_entries;
			all += ss.entries;
		}
	}
	return all ? (double)small / (double)all : 0.0;
}

static uint64_t run_hotcache(const struct trace *t, const struct sizing *sz, double *held,
                             double *small, uint64_t *refused)
{
	hc_cache *c;
	struct hc_stats st;
	unsigned char key[8];
	unsigned char *val = bench_xcalloc(1, sz->vlen), *buf = bench_xcalloc(1, sz->vlen);
	uint64_t hits = 0, samples = 0;
	double sum = 0, small_sum = 0;
	int rc;
	if ((rc = open_real(sz, &c)) != 0) {
		fprintf(stderr, "hc_open: %s: %s\n", hc_strerror(rc), hc_last_error());
		exit(1);
	}
	for (size_t i = 0; i < t->n; i++) {
		size_t vlen;
		key_bytes(t->keys[i], key);
		rc = hc_get(c, key, 8, buf, sz->vlen, &vlen);
		if (rc == 0) {
			hits++;
		} else if (rc == HC_ENOTFOUND) {
			memcpy(val, &t->keys[i], 8);
			rc = hc_put(c, key, 8, val, sz->vlen);
			if (rc == HC_ENOMEM || rc == HC_EBUSY) {
				/* The cache declined to store it (pressure, reclamation behind):
				 * its policy's choice, counted and reported. */
				(*refused)++;
			} else if (rc != 0) {
				fprintf(stderr, "hc_put: %s: %s\n", hc_strerror(rc), hc_last_error());
				exit(1);
			}
		} else {
			fprintf(stderr, "hc_get: %s: %s\n", hc_strerror(rc), hc_last_error());
			exit(1);
		}
		if ((i & 4095) == 4095 && hc_stats(c, &st) == 0 && st.evictions > 0) {
			sum += (double)st.entries;
			samples++;
			small_sum += small_share(c, st.shards);
		}
	}
	*held = samples ? sum / (double)samples : 0.0;
	*small = samples ? small_sum / (double)samples : 0.0;
	hc_close(c);
	free(val);
	free(buf);
	return hits;
}
#endif

/* The sizing for a target of N entries, calibrated once and reused by every trace. */
static const struct sizing *sizing_for(const struct options *o, size_t target)
{
	static struct sizing cache[64];
	static size_t n;
	for (size_t i = 0; i < n; i++)
		if (cache[i].target == target)
			return &cache[i];
	if (n == 64)
		exit(2);
	struct sizing *sz = &cache[n++];
	memset(sz, 0, sizeof *sz);
	sz->target = target;
	sz->cap = target;
	sz->vlen = value_len(target);
#if HCB_HAVE_HOTCACHE
	if (o->real) {
		calibrate(sz);
		fprintf(stderr, "  size %zu: %zu-byte values, limit %llu B holds %zu entries\n",
		        target, sz->vlen, (unsigned long long)sz->limit, sz->cap);
	}
#else
	(void)o;
#endif
	return sz;
}

/* ---- one trace at one size ---- */

static int best_peer(const struct row *r)
{
	int best = pol_peers[0];
	for (size_t i = 1; i < sizeof pol_peers / sizeof pol_peers[0]; i++)
		if (r->ratio[pol_peers[i]] > r->ratio[best])
			best = pol_peers[i];
	return best;
}

static void run_row(const struct options *o, const struct trace *t, const uint32_t *next,
                    const struct sizing *sz, struct row *r)
{
	double n = (double)t->n;
	memset(r, 0, sizeof *r);
	snprintf(r->trace, sizeof r->trace, "%s", t->name);
	r->scan = t->scan;
	r->cache_size = sz->cap;
#if HCB_HAVE_HOTCACHE
	if (o->real) {
		r->ratio[POL_HOTCACHE] =
		        (double)run_hotcache(t, sz, &r->held, &r->small, &r->refused) / n;
		r->have[POL_HOTCACHE] = true;
	}
#else
	(void)o;
#endif
	r->ratio[POL_LRU] = (double)sim_lru(t->keys, t->n, sz->cap) / n;
	r->ratio[POL_CLOCK] = (double)sim_clock(t->keys, t->n, sz->cap) / n;
	r->ratio[POL_S3FIFO] = (double)sim_s3fifo(t->keys, t->n, sz->cap) / n;
	r->ratio[POL_ARC] = (double)sim_arc(t->keys, t->n, sz->cap) / n;
	r->ratio[POL_WTLFU] = (double)sim_wtinylfu(t->keys, t->n, sz->cap) / n;
	r->ratio[POL_OPT] = (double)sim_opt(t->keys, next, t->n, sz->cap) / n;
	for (int p = POL_LRU; p < POL_COUNT; p++)
		r->have[p] = true;
	fprintf(stderr, "  %-16s %7zu: hotcache %.4f best %.4f opt %.4f (%llu puts refused; "
	        "SMALL %.0f%% of entries)\n", t->name, sz->cap, r->ratio[POL_HOTCACHE],
	        r->ratio[best_peer(r)], r->ratio[POL_OPT], (unsigned long long)r->refused,
	        100 * r->small);
}

static bool wanted(const struct options *o, const char *name)
{
	return o->only == NULL || strncmp(name, o->only, strlen(o->only)) == 0;
}

static void run_trace(const struct options *o, struct trace *t, struct row *rows,
                      size_t *nrows)
{
	if (!wanted(o, t->name))
		return;
	uint32_t *next = bench_xmalloc(t->n * sizeof *next);
	sim_opt_next(t->keys, t->n, next);
	for (size_t s = 0; s < o->nsizes && *nrows < MAX_ROWS; s++) {
		size_t target = (size_t)llround(o->sizes[s] * (double)t->universe);
		run_row(o, t, next, sizing_for(o, target ? target : 1), &rows[(*nrows)++]);
	}
	free(next);
}

/* Loops and zigzags depend on the capacity: one trace per size and length, at least
 * four laps (or sweeps) long. */
static void run_sweeps(const struct options *o, bool zigzag, const double *mult, size_t nmult,
                       struct row *rows, size_t *nrows)
{
	for (size_t s = 0; s < o->nsizes; s++) {
		size_t target = (size_t)llround(o->sizes[s] * (double)o->universe);
		const struct sizing *sz = sizing_for(o, target ? target : 1);
		for (size_t m = 0; m < nmult && *nrows < MAX_ROWS; m++) {
			struct trace t;
			uint32_t *next;
			size_t len = (size_t)ceil(mult[m] * (double)sz->cap), n = o->requests;
			if (n < 4 * len)
				n = 4 * len;
			if (zigzag)
				trace_zigzag(&t, len, n);
			else
				trace_loop(&t, len, n);
			snprintf(t.name, sizeof t.name, "%s%gx", zigzag ? "zigzag" : "loop", mult[m]);
			if (!wanted(o, t.name)) {
				trace_free(&t);
				continue;
			}
			next = bench_xmalloc(t.n * sizeof *next);
			sim_opt_next(t.keys, t.n, next);
			run_row(o, &t, next, sz, &rows[(*nrows)++]);
			free(next);
			trace_free(&t);
		}
	}
}

/* ---- report ---- */

static void report(const struct options *o, const struct row *rows, size_t n)
{
	int misses = 0, checked = 0;
	printf("\n%-14s %6s %6s %7s %7s %7s %7s %7s %7s %7s %-8s %7s %6s  %s\n", "trace", "size",
	       "held", "hotcach", "lru", "clock", "s3fifo", "arc", "wtinylf", "opt", "best",
	       "hc-best", "opt-hc", "target");
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char cells[POL_COUNT][16], d[16] = "-", g[16] = "-", held[16] = "-";
		const char *verdict = "";
		int best = best_peer(r);
		for (int p = 0; p < POL_COUNT; p++) {
			if (r->have[p])
				snprintf(cells[p], sizeof cells[p], "%.2f", 100 * r->ratio[p]);
			else
				snprintf(cells[p], sizeof cells[p], "-");
		}
		if (r->have[POL_HOTCACHE]) {
			double diff = 100 * (r->ratio[POL_HOTCACHE] - r->ratio[best]);
			double vs_lru = 100 * (r->ratio[POL_HOTCACHE] - r->ratio[POL_LRU]);
			bool ok = diff >= -1.0 && (!r->scan || vs_lru >= 5.0);
			snprintf(d, sizeof d, "%+.2f", diff);
			snprintf(g, sizeof g, "%.2f", 100 * (r->ratio[POL_OPT] - r->ratio[POL_HOTCACHE]));
			snprintf(held, sizeof held, "%.0f", r->held);
			verdict = ok ? "ok" : diff < -1.0 ? "MISS (< best-1)" : "MISS (< lru+5)";
			checked++;
			misses += !ok;
		} else {
			snprintf(g, sizeof g, "%.2f", 100 * (r->ratio[POL_OPT] - r->ratio[best]));
		}
		printf("%-14s %6zu %6s %7s %7s %7s %7s %7s %7s %7s %-8s %7s %6s  %s\n", r->trace,
		       r->cache_size, held, cells[POL_HOTCACHE], cells[POL_LRU], cells[POL_CLOCK],
		       cells[POL_S3FIFO], cells[POL_ARC], cells[POL_WTLFU], cells[POL_OPT],
		       pol_name[best], d, g, verdict);
		if (r->refused)
			printf("%-14s %6s hotcache declined %llu of its puts (HC_ENOMEM/HC_EBUSY)\n",
			       "", "", (unsigned long long)r->refused);
	}
	printf("(hit ratios in %%; size: entries, the real cache's measured capacity, given to "
	       "every simulator; held: hotcache's average entries once full; best: the best of "
	       "lru, arc, s3fifo, wtinylfu; hc-best and opt-hc in points; without hotcache "
	       "opt-hc is opt - best)\n");
	if (checked)
		printf("targets: %d of %d rows met (hotcache >= best - 1 point; >= lru + 5 on the "
		       "scan mixes)\n", checked - misses, checked);
	else
		printf("hotcache not measured (built without the library, or --sim-only)\n");
	if (o->json) {
		struct bench_buf b = { 0 };
		bench_buf_printf(&b, "{\"bench\":\"hitratio\",\"results\":[");
		bool first = true;
		for (size_t i = 0; i < n; i++)
			for (int p = 0; p < POL_COUNT; p++) {
				if (!rows[i].have[p])
					continue;
				bench_buf_printf(&b, "%s{\"trace\":\"%s\",\"policy\":\"%s\","
				                 "\"cache_size\":%zu,\"hit_ratio\":%.6f,\"scan\":%s}",
				                 first ? "" : ",", rows[i].trace, pol_name[p],
				                 rows[i].cache_size, rows[i].ratio[p],
				                 rows[i].scan ? "true" : "false");
				first = false;
			}
		bench_buf_printf(&b, "]}");
		printf("%s\n", b.s);
		bench_buf_free(&b);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: hitratio [--quick] [--json] [--sim-only] [--requests N] "
	                "[--universe N]\n                [--sizes 0.01,0.05,0.1] "
	                "[--trace FILE]... [--seed S] [--hash-seed S|random] "
	                "[--shards N] [--only PREFIX]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct row *rows = bench_xcalloc(MAX_ROWS, sizeof *rows);
	size_t nrows = 0;
	bool req_set = false, uni_set = false, sizes_set = false;
	const char *v;
	o.real = HCB_HAVE_HOTCACHE;
	o.requests = 1000000;
	o.universe = 100000;
	o.sizes[0] = 0.01;
	o.sizes[1] = 0.05;
	o.sizes[2] = 0.10;
	o.sizes[3] = 0.50;
	o.nsizes = 4;
	o.seed = 42;
	o.hash_seed = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o.json = true;
		else if (strcmp(argv[i], "--quick") == 0)
			o.quick = true;
		else if (strcmp(argv[i], "--sim-only") == 0)
			o.real = false;
		else if ((v = bench_opt(argc, argv, &i, "--requests")))
			o.requests = (size_t)bench_parse_u64("--requests", v), req_set = true;
		else if ((v = bench_opt(argc, argv, &i, "--universe")))
			o.universe = (size_t)bench_parse_u64("--universe", v), uni_set = true;
		else if ((v = bench_opt(argc, argv, &i, "--shards")))
			o.shards = (unsigned)bench_parse_u64("--shards", v);
		else if ((v = bench_opt(argc, argv, &i, "--seed")))
			o.seed = bench_parse_u64("--seed", v);
		else if ((v = bench_opt(argc, argv, &i, "--hash-seed")))
			o.hash_random = strcmp(v, "random") == 0,
			o.hash_seed = o.hash_random ? 0 : bench_parse_u64("--hash-seed", v);
		else if ((v = bench_opt(argc, argv, &i, "--sizes")))
			o.nsizes = bench_parse_list("--sizes", v, o.sizes, MAX_SIZES), sizes_set = true;
		else if ((v = bench_opt(argc, argv, &i, "--only")))
			o.only = v;
		else if ((v = bench_opt(argc, argv, &i, "--trace")) && o.nfiles < 4)
			o.files[o.nfiles++] = v;
		else
			usage();
	}
	if (o.quick) {
		if (!req_set)
			o.requests = 200000;
		if (!uni_set)
			o.universe = 20000;
		if (!sizes_set) {
			o.sizes[0] = 0.01;
			o.sizes[1] = 0.10;
			o.sizes[2] = 0.50;
			o.nsizes = 3;
		}
	}
	if (o.requests == 0 || o.requests >= SIM_NEVER / 2 || o.universe < 100 || o.nsizes == 0)
		usage();
#if HCB_HAVE_HOTCACHE
	real_shards = o.shards;
#endif
#if HCB_HAVE_SEED
	if (!o.hash_random)
		cache_fix_seed(o.hash_seed);
#else
	if (!o.hash_random && o.real)
		fprintf(stderr, "hitratio: built without the hash-seed seam: the cache's hash is "
		        "random, rows move by a point or two between runs\n");
#endif
	if (!HCB_HAVE_HOTCACHE)
		fprintf(stderr, "hitratio: built without the hotcache library: simulators only\n");

	/* Scans and phases scale with the trace: defaults give the brief's 10K / 5K-20K /
	 * 100K for 1M requests over 100K keys. */
	size_t every = o.requests / 100, smin = o.universe / 20, smax = o.universe / 5;
	static const double zipfs[] = { 0.7, 0.9, 0.99, 1.2 };
	static const double scans[] = { 0.9, 0.99 };
	uint64_t seed = o.seed;
	printf("hitratio: %zu requests over %zu keys; sizes", o.requests, o.universe);
	for (size_t s = 0; s < o.nsizes; s++)
		printf(" %g%%", 100 * o.sizes[s]);
	printf(" of distinct keys; trace seed %llu, hash seed ", (unsigned long long)o.seed);
	if (o.hash_random || !HCB_HAVE_SEED)
		printf("random\n");
	else
		printf("%llu\n", (unsigned long long)o.hash_seed);
	fflush(stdout);

	for (size_t i = 0; i < sizeof zipfs / sizeof zipfs[0]; i++) {
		struct trace t;
		trace_zipf(&t, zipfs[i], o.universe, o.requests, seed++);
		run_trace(&o, &t, rows, &nrows);
		trace_free(&t);
	}
	for (size_t i = 0; i < sizeof scans / sizeof scans[0]; i++) {
		struct trace t;
		trace_zipf_scan(&t, scans[i], o.universe, o.requests, every ? every : 1, smin, smax,
		                seed++);
		run_trace(&o, &t, rows, &nrows);
		trace_free(&t);
	}
	static const size_t shift_every[] = { 10, 50, 250 }; /* phases per trace */
	for (size_t i = 0; i < sizeof shift_every / sizeof shift_every[0]; i++) {
		struct trace t;
		size_t phase = o.requests / shift_every[i];
		trace_shift(&t, o.universe, 0.05, 0.9, phase ? phase : 1, o.requests, seed++);
		snprintf(t.name, sizeof t.name, "shift5%%x%zu", shift_every[i]);
		run_trace(&o, &t, rows, &nrows);
		trace_free(&t);
	}
	static const double mix_w[][2] = { { 0.5, 0.3 }, { 0.3, 0.6 } };
	for (size_t i = 0; i < sizeof mix_w / sizeof mix_w[0]; i++) {
		struct trace t;
		trace_mix(&t, 0.9, o.universe / 2, o.universe / 4, mix_w[i][0], mix_w[i][1],
		          o.requests, seed++);
		t.universe = o.universe * 3 / 4;
		run_trace(&o, &t, rows, &nrows);
		trace_free(&t);
	}
	static const double loops[] = { 0.6, 0.9, 1.1, 1.5, 2, 10 };
	static const double zigzags[] = { 1.25, 2 };
	run_sweeps(&o, false, loops, sizeof loops / sizeof loops[0], rows, &nrows);
	run_sweeps(&o, true, zigzags, sizeof zigzags / sizeof zigzags[0], rows, &nrows);
	for (size_t f = 0; f < o.nfiles; f++) {
		struct trace t;
		if (trace_load(&t, o.files[f]) != 0)
			return 2;
		run_trace(&o, &t, rows, &nrows);
		trace_free(&t);
	}
	report(&o, rows, nrows);
	free(rows);
	return 0;
}
