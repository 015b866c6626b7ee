/*
 * backing_bench: what the write-through cache costs and saves over a bare RocksDB store,
 * side by side in one run.
 *
 *   put      hc_put: seal, write through with the store's durability, install
 *   put_raw  backing_seal of the same value + backing_put_raw of the sealed record on
 *            the cache's own store handle (the same RocksDB instance and options)
 *   get_hit  hc_get of a key in memory
 *   get_raw  backing_get on the same handle: a RocksDB get plus unseal of the same value
 *   read_hit hc_read of a key in memory (zero copy; shown in the table for reference,
 *            not in the JSON, whose ops are the five the issue names)
 *   copy     memcpy of the value into the caller's buffer from one of nkeys blocks laid
 *            out as the cache's entries are (one allocation each, the entry's size,
 *            picked as get_hit picks its key): what any copying get pays at least once
 *            it has found the value, with no hashing, index or section. copy/get_raw is
 *            the ceiling of get_hit/get_raw on this machine: where it is under 50x, so is
 *            every copying cache's (shown for reference, not in the JSON)
 *   get_miss hc_get of a key in the store but not in memory (dropped from memory just
 *            before, under the shard mutex, the way eviction does; the drop is inside
 *            the timed op, so the figure errs against the cache): the single-flight
 *            load, unseal into the new entry, and install
 *
 * Points: durability {sync, wal, none} x {1, 2, 8} threads x values of {100, 4096}
 * bytes for the writes; the reads, which durability does not touch, on the sync store.
 * Writers write keys of their own (thread t: keys = t mod T) that already exist, put
 * and put_raw in separate key ranges of the same size; readers pick keys uniformly from
 * all of them. Keys are 16 bytes (bench_key16). Each point runs three rounds; a round
 * lasts --seconds per implementation (default 1; --quick: 0.08 and a fifth of the keys,
 * the whole run under 30 s) and is cut into four slices in which the implementations
 * take turns, so that other load on a shared, noisy machine (and RocksDB's own flushes
 * and compactions) falls on all of them alike; each implementation's median round is
 * reported, in operations per wall-clock second (the measurement) and per CPU second
 * of the benchmark's threads (what an operation costs; blind to time blocked in a sync).
 *
 * Targets (design.md): put >= 0.9 x put_raw; get_hit >= 50 x get_raw; get_miss >= 0.85 x
 * get_raw. Printed per point; never asserted. With --json the last line is
 *   {"bench":"backing","results":[{"op":..,"durability":..,"threads":..,
 *    "value_bytes":..,"ops_per_s":..,"ops_per_cpu_s":..}, ...]}
 *
 *   backing_bench [--quick] [--json] [--seconds S] [--dir D]
 *                 [--durability sync|wal|none] [--size 100|4096]   (one part only)
 *                 [--reads-only] [--keys N]                         (N keys per range)
 *                 [--only put|put_raw|get_hit|get_raw|get_miss|read_hit|copy] (profiling)
 *                 [--threads 1|2|8]  (one thread count only; profiling)
 *                 [--dirty-decay-ms MS]  (a variant: every jemalloc arena's dirty
 *                                         decay, hotcache's private one included;
 *                                         see bench/decay.h)
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "backing/backing.h"
#include "bench/common.h"
#include "bench/decay.h"
#include "cache/cache.h"
#include "hotcache.h"
#include "map/hash.h"

enum op { OP_PUT, OP_PUT_RAW, OP_GET_HIT, OP_GET_RAW, OP_GET_MISS, OP_READ_HIT, OP_COPY,
           OP_COUNT };
static const char *const op_name[OP_COUNT] = {"put", "put_raw", "get_hit", "get_raw",
                                              "get_miss", "read_hit", "copy"};
static const char *const dur_name[3] = {"sync", "wal", "none"};

enum { MAX_THREADS = 8, ROUNDS = 3, BATCH_FILL = 1000 };
static const unsigned thread_counts[] = {1, 2, 8};
static const size_t value_sizes[] = {100, 4096};
#define NTHREADS (sizeof(thread_counts) / sizeof(thread_counts[0]))
#define NSIZES (sizeof(value_sizes) / sizeof(value_sizes[0]))
#define RAW_BASE (UINT64_C(1) << 40) /* put_raw's key range starts here */

struct options {
	double seconds;
	bool json, quick;
	char dir[512];
	int only_dur;     /* -1: all */
	long only_size;   /* 0: all */
	uint64_t keys;    /* keys per range; 0: 50000 for 100 B values, 10000 for 4 KiB */
	int only_op;      /* -1: all; else run just this op (for profiling) */
	bool reads_only;  /* skip the put points */
	unsigned only_threads; /* 0: 1, 2 and 8; else only this count (for profiling) */
};

struct ctx {
	hc_cache *c;
	struct backing *b;      /* the cache's own store handle */
	const struct backing_key *key;
	size_t vlen;
	uint64_t nkeys;         /* keys in each range */
	struct item **blocks;   /* copy's nkeys values, each in an entry-sized allocation */
	unsigned threads;
	enum op op;
	atomic_int go, stop;
};

struct worker {
	_Alignas(BENCH_LINE) pthread_t tid;
	struct ctx *x;
	unsigned id;
	uint64_t ops, errors, cpu_ns;
	uint64_t rng, sink;
	unsigned char *val, *buf, *sealed;
};

static uint64_t next_rng(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Drops key from memory as eviction does: shard mutex, reclaim section, no store I/O. */
static void drop_from_memory(hc_cache *c, const unsigned char *k, size_t kl)
{
	uint64_t hash = map_hash_bytes(&c->seed, k, kl);
	struct shard *s = shard_of(c, hash);
	pthread_mutex_lock(&s->mu);
	struct reclaim_thread *t = reclaim_enter(&c->rc);
	if (t != NULL) {
		(void)shard_remove_locked(s, t, hash, k, (uint32_t)kl);
		reclaim_exit(t);
	}
	pthread_mutex_unlock(&s->mu);
	if (t != NULL)
		reclaim_poll(t);
}

/* hc_read's callback: touches the first and last byte, as a consumer would. */
static void read_sink(const void *val, size_t vlen, void *arg)
{
	struct worker *w = arg;
	const unsigned char *v = val;
	if (vlen > 0)
		w->sink += v[0] + v[vlen - 1];
}

static int one_op(struct worker *w)
{
	struct ctx *x = w->x;
	unsigned char k[BENCH_KEY_LEN];
	size_t vlen = 0;
	uint64_t r = next_rng(&w->rng);

	switch (x->op) {
	case OP_PUT: {
		uint64_t i = (r % (x->nkeys / x->threads)) * x->threads + w->id;
		bench_key16(i, k);
		memcpy(w->val, &w->ops, sizeof(w->ops));
		return hc_put(x->c, k, sizeof(k), w->val, x->vlen);
	}
	case OP_PUT_RAW: {
		uint64_t i = (r % (x->nkeys / x->threads)) * x->threads + w->id;
		size_t n = backing_sealed_len(x->vlen);
		bench_key16(RAW_BASE + i, k);
		memcpy(w->val, &w->ops, sizeof(w->ops));
		int rc = backing_seal(x->key, BACKING_PAYLOAD, k, sizeof(k), w->val, x->vlen,
		                      w->sealed, n);
		return rc != 0 ? rc : backing_put_raw(x->b, BACKING_PAYLOAD, k, sizeof(k),
		                                      w->sealed, n);
	}
	case OP_GET_HIT:
		bench_key16(r % x->nkeys, k);
		return hc_get(x->c, k, sizeof(k), w->buf, x->vlen, &vlen);
	case OP_READ_HIT:
		bench_key16(r % x->nkeys, k);
		return hc_read(x->c, k, sizeof(k), read_sink, w);
	case OP_GET_RAW:
		bench_key16(r % x->nkeys, k);
		return backing_get(x->b, BACKING_PAYLOAD, k, sizeof(k), w->buf, x->vlen, &vlen);
	case OP_COPY:
		memcpy(w->buf, item_val(x->blocks[r % x->nkeys]), x->vlen);
		w->sink += w->buf[x->vlen - 1];
		return 0;
	case OP_GET_MISS:
		bench_key16(r % x->nkeys, k);
		drop_from_memory(x->c, k, sizeof(k));
		return hc_get(x->c, k, sizeof(k), w->buf, x->vlen, &vlen);
	default:
		return HC_EINVAL;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ctx *x = w->x;
	while (!atomic_load_explicit(&x->go, memory_order_acquire))
		sched_yield(); /* not a bare spin: 8 spinning threads on 2 cores starve the rest */
	uint64_t c0 = bench_thread_cpu_ns();
	while (!atomic_load_explicit(&x->stop, memory_order_relaxed)) {
		if (one_op(w) != 0)
			w->errors++;
		w->ops++;
	}
	w->cpu_ns = bench_thread_cpu_ns() - c0;
	return NULL;
}

/* One timed slice of x->op with x->threads threads: adds its operations, wall time and
 * the threads' CPU time to *acc. */
struct tally {
	uint64_t ops, wall_ns, cpu_ns;
};

static void run_slice(struct ctx *x, double seconds, struct tally *acc)
{
	static struct worker w[MAX_THREADS];
	uint64_t errors = 0;
	atomic_store(&x->go, 0);
	atomic_store(&x->stop, 0);
	for (unsigned t = 0; t < x->threads; t++) {
		w[t] = (struct worker){.x = x, .id = t, .rng = 0x9E3779B97F4A7C15u * (t + 1) +
		                       bench_now_ns()};
		w[t].val = bench_xmalloc(x->vlen);
		w[t].buf = bench_xmalloc(x->vlen);
		w[t].sealed = bench_xmalloc(backing_sealed_len(x->vlen));
		for (size_t i = 0; i < x->vlen; i++)
			w[t].val[i] = (unsigned char)(i * 131 + t);
		if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0) {
			fprintf(stderr, "backing_bench: pthread_create failed\n");
			exit(2);
		}
	}
	uint64_t t0 = bench_now_ns();
	atomic_store_explicit(&x->go, 1, memory_order_release);
	bench_sleep_ns((uint64_t)(seconds * 1e9));
	atomic_store_explicit(&x->stop, 1, memory_order_relaxed);
	for (unsigned t = 0; t < x->threads; t++) {
		pthread_join(w[t].tid, NULL);
		acc->ops += w[t].ops;
		acc->cpu_ns += w[t].cpu_ns;
		errors += w[t].errors;
		free(w[t].val);
		free(w[t].buf);
		free(w[t].sealed);
	}
	acc->wall_ns += bench_now_ns() - t0;
	if (errors != 0) {
		fprintf(stderr, "backing_bench: %s: %llu operations failed: %s\n", op_name[x->op],
		        (unsigned long long)errors, hc_last_error());
		exit(1);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* ---- results ---------------------------------------------------------------------- */

struct result {
	enum op op;
	int durability;
	unsigned threads;
	size_t vlen;
	double ops_per_s, ops_per_cpu_s;
};

static struct result results[256];
static size_t nresults;

static const struct result *result_of(enum op op, int d, unsigned t, size_t vlen)
{
	for (size_t i = 0; i < nresults; i++)
		if (results[i].op == op && results[i].durability == d && results[i].threads == t &&
		    results[i].vlen == vlen)
			return &results[i];
	return NULL;
}

/*
 * Runs ops[0..n) at one point: ROUNDS rounds, each made of SLICES slices in which every
 * op runs in turn for seconds / SLICES (fine interleaving, so that load from other
 * processes, RocksDB's flushes and compactions land on all of them alike); records
 * each op's median round.
 */
enum { SLICES = 4 };
static int g_only_op = -1;
static long g_dirty_decay_ms = -1; /* --dirty-decay-ms (bench/decay.h) */

static void measure(struct ctx *x, const enum op *all, size_t nall, int durability,
                    double seconds)
{
	enum op ops[OP_COUNT];
	size_t n = 0;
	for (size_t i = 0; i < nall; i++)
		if (g_only_op < 0 || (int)all[i] == g_only_op)
			ops[n++] = all[i];
	if (n == 0)
		return;
	double v[OP_COUNT][ROUNDS], c[OP_COUNT][ROUNDS];
	for (unsigned r = 0; r < ROUNDS; r++) {
		struct tally t[OP_COUNT] = {{0}};
		for (unsigned sl = 0; sl < SLICES; sl++)
			for (size_t i = 0; i < n; i++) {
				x->op = ops[(i + sl) % n]; /* rotate who goes first */
				run_slice(x, seconds / SLICES, &t[(i + sl) % n]);
			}
		for (size_t i = 0; i < n; i++) {
			v[i][r] = (double)t[i].ops * 1e9 / (double)t[i].wall_ns;
			c[i][r] = t[i].cpu_ns ? (double)t[i].ops * 1e9 / (double)t[i].cpu_ns : 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		qsort(v[i], ROUNDS, sizeof(double), cmp_double);
		qsort(c[i], ROUNDS, sizeof(double), cmp_double);
		results[nresults++] = (struct result){ops[i], durability, x->threads, x->vlen,
		                                      v[i][ROUNDS / 2], c[i][ROUNDS / 2]};
		fprintf(stderr, "  %-8s %-4s %u threads %4zu B: %12.0f ops/s %12.0f ops/cpu-s\n",
		        op_name[ops[i]], dur_name[durability], x->threads, x->vlen,
		        v[i][ROUNDS / 2], c[i][ROUNDS / 2]);
	}
}

/* ---- stores ------------------------------------------------------------------------ */

static void make_dir(const struct options *o, char *out, size_t cap, const char *what)
{
	snprintf(out, cap, "%s/hc_backing_bench_%s_XXXXXX", o->dir, what);
	if (mkdtemp(out) == NULL) {
		perror("backing_bench: mkdtemp");
		exit(2);
	}
}

static void remove_dir(const char *dir)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "backing_bench: could not remove %s\n", dir);
}

static hc_cache *open_cache(const char *dir, int durability)
{
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_ROCKSDB;
	snprintf(cfg.backing_path, sizeof(cfg.backing_path), "%s/db", dir);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s/data.key", dir);
	cfg.durability = durability;
	cfg.memory_limit = 512ull << 20; /* holds every key: the hits are hits */
	hc_cache *c = NULL; /* creates the store and its key together, quietly */
	int rc = hc_open(&cfg, &c);
	if (rc != 0) {
		fprintf(stderr, "backing_bench: hc_open: %s: %s\n", hc_strerror(rc), hc_last_error());
		exit(2);
	}
	return c;
}

/* Writes every key of both ranges once, sealed, in batches (one sync per batch). */
static void prefill(struct ctx *x)
{
	unsigned char k[BENCH_KEY_LEN], *val = bench_xmalloc(x->vlen);
	for (size_t i = 0; i < x->vlen; i++)
		val[i] = (unsigned char)(i * 131);
	for (int range = 0; range < 2; range++) {
		for (uint64_t i = 0; i < x->nkeys; i += BATCH_FILL) {
			struct backing_batch *t = backing_batch_new(x->b);
			if (t == NULL)
				exit(2);
			for (uint64_t j = i; j < i + BATCH_FILL && j < x->nkeys; j++) {
				bench_key16((range ? RAW_BASE : 0) + j, k);
				if (backing_batch_put(t, BACKING_PAYLOAD, k, sizeof(k), val, x->vlen) != 0)
					exit(2);
			}
			if (backing_batch_commit(t) != 0) {
				fprintf(stderr, "backing_bench: prefill: %s\n", backing_last_error());
				exit(2);
			}
			backing_batch_free(t);
		}
	}
	free(val);
}

/* copy's blocks: per key an allocation of the size the cache's entry for it has, an
 * item header at its start and the value where item_val puts it, made in key order as
 * the prefill made the entries. */
static void make_blocks(struct ctx *x)
{
	size_t size = entry_off(BENCH_KEY_LEN, x->vlen) + sizeof(struct entry);
	x->blocks = bench_xcalloc(x->nkeys, sizeof *x->blocks);
	for (uint64_t i = 0; i < x->nkeys; i++) {
		struct item *it = bench_xmalloc(size);
		memset(it, (int)(i & 0xff), size);
		it->klen = BENCH_KEY_LEN;
		it->vlen = (uint32_t)x->vlen;
		x->blocks[i] = it;
	}
}

static void free_blocks(struct ctx *x)
{
	for (uint64_t i = 0; i < x->nkeys; i++)
		free(x->blocks[i]);
	free(x->blocks);
	x->blocks = NULL;
}

/* Reads every key once through the cache, so that get_hit only hits. */
static void warm(struct ctx *x)
{
	unsigned char k[BENCH_KEY_LEN], *buf = bench_xmalloc(x->vlen);
	size_t n;
	for (uint64_t i = 0; i < x->nkeys; i++) {
		bench_key16(i, k);
		if (hc_get(x->c, k, sizeof(k), buf, x->vlen, &n) != 0) {
			fprintf(stderr, "backing_bench: warm: %s\n", hc_last_error());
			exit(2);
		}
	}
	free(buf);
}

static void run_size(const struct options *o, size_t vlen)
{
	for (int d = 0; d < 3; d++) {
		if ((o->only_dur >= 0 && d != o->only_dur) ||
		    (o->reads_only && d != HC_DURABILITY_SYNC))
			continue;
		char dir[700];
		make_dir(o, dir, sizeof(dir), dur_name[d]);
		static struct ctx x;
		memset(&x, 0, sizeof(x));
		uint64_t tp = bench_now_ns();
		x.c = open_cache(dir, d);
		bench_set_dirty_decay(g_dirty_decay_ms);
		x.b = x.c->backing;
		x.key = backing_key_of(x.b);
		x.vlen = vlen;
		x.nkeys = o->keys ? o->keys : (vlen <= 128 ? 50000 : 10000) / (o->quick ? 5 : 1);
		prefill(&x);
		fprintf(stderr, "  [%s %zu B: open and prefill %.1f s]\n", dur_name[d], vlen,
		        (double)(bench_now_ns() - tp) / 1e9);
		for (size_t ti = 0; ti < NTHREADS && !o->reads_only; ti++) {
			static const enum op w[] = {OP_PUT, OP_PUT_RAW};
			if (o->only_threads != 0 && thread_counts[ti] != o->only_threads)
				continue;
			x.threads = thread_counts[ti];
			measure(&x, w, 2, d, o->seconds);
		}
		if (d == HC_DURABILITY_SYNC) {
			tp = bench_now_ns();
			warm(&x);
			fprintf(stderr, "  [%s %zu B: warm %.1f s]\n", dur_name[d], vlen,
			        (double)(bench_now_ns() - tp) / 1e9);
			struct hc_stats st;
			if (hc_stats(x.c, &st) == 0 && st.entries < x.nkeys)
				fprintf(stderr, "backing_bench: only %llu of %llu keys in memory\n",
				        (unsigned long long)st.entries, (unsigned long long)x.nkeys);
			make_blocks(&x);
			for (size_t ti = 0; ti < NTHREADS; ti++) {
				static const enum op r[] = {OP_GET_HIT, OP_GET_RAW, OP_GET_MISS,
				                            OP_READ_HIT, OP_COPY};
				if (o->only_threads != 0 && thread_counts[ti] != o->only_threads)
					continue;
				x.threads = thread_counts[ti];
				measure(&x, r, sizeof r / sizeof r[0], d, o->seconds);
			}
			free_blocks(&x);
		}
		tp = bench_now_ns();
		hc_close(x.c);
		remove_dir(dir);
		fprintf(stderr, "  [%s %zu B: close %.1f s]\n", dur_name[d], vlen,
		        (double)(bench_now_ns() - tp) / 1e9);
	}
}

/* ---- output ------------------------------------------------------------------------ */

static void print_table(void)
{
	static const struct {
		enum op ours, base;
		double target;
	} pairs[] = {{OP_PUT, OP_PUT_RAW, 0.9}, {OP_GET_HIT, OP_GET_RAW, 50},
	             {OP_GET_MISS, OP_GET_RAW, 0.85}, {OP_READ_HIT, OP_GET_RAW, 50},
	             {OP_COPY, OP_GET_RAW, 50}};
	enum { NPAIRS = sizeof(pairs) / sizeof(pairs[0]) };
	unsigned missed = 0, points = 0;
	printf("%-17s %-4s %3s %5s %11s %11s %8s %7s %8s  %s\n", "op vs baseline", "dur",
	       "thr", "bytes", "ops/s", "baseline/s", "ratio", "target", "cpu-ratio", "");
	for (size_t p = 0; p < NPAIRS; p++)
		for (int d = 0; d < 3; d++)
			for (size_t s = 0; s < NSIZES; s++)
				for (size_t t = 0; t < NTHREADS; t++) {
					const struct result *ra = result_of(pairs[p].ours, d, thread_counts[t],
					                                    value_sizes[s]);
					const struct result *rb = result_of(pairs[p].base, d, thread_counts[t],
					                                    value_sizes[s]);
					if (ra == NULL || rb == NULL || rb->ops_per_s == 0)
						continue;
					double a = ra->ops_per_s, b = rb->ops_per_s;
					double cr = rb->ops_per_cpu_s > 0 ? ra->ops_per_cpu_s / rb->ops_per_cpu_s
					                                  : 0;
					char name[32];
					snprintf(name, sizeof(name), "%s/%s", op_name[pairs[p].ours],
					         op_name[pairs[p].base]);
					int ok = a / b >= pairs[p].target;
					/* reference only */
					int counted = pairs[p].ours != OP_READ_HIT && pairs[p].ours != OP_COPY;
					points += counted;
					missed += counted && !ok;
					printf("%-17s %-4s %3u %5zu %11.0f %11.0f %7.2fx %6.2fx %7.2fx  %s\n",
					       name, dur_name[d], thread_counts[t], value_sizes[s], a, b, a / b,
					       pairs[p].target, cr,
					       !counted ? (ok ? "(reference) met" : "(reference) missed")
					                : ok ? "met" : "MISSED");
				}
	printf("%u of %u points meet their target (ratio: wall-clock ops/s, the measurement; "
	       "cpu-ratio: the same per CPU second of the benchmark's threads)\n",
	       points - missed, points);
}

static void print_json(void)
{
	struct bench_buf j = {0};
	bench_buf_printf(&j, "{\"bench\":\"backing\",\"results\":[");
	for (size_t i = 0, first = 1; i < nresults; i++) {
		if (results[i].op == OP_READ_HIT || results[i].op == OP_COPY)
			continue;
		bench_buf_printf(&j, "%s{\"op\":\"%s\",\"durability\":\"%s\",\"threads\":%u,"
		                 "\"value_bytes\":%zu,\"ops_per_s\":%.0f,\"ops_per_cpu_s\":%.0f}",
		                 first ? "" : ",", op_name[results[i].op],
		                 dur_name[results[i].durability], results[i].threads,
		                 results[i].vlen, results[i].ops_per_s, results[i].ops_per_cpu_s);
		first = 0;
	}
	bench_buf_printf(&j, "]}");
	printf("%s\n", j.s);
	bench_buf_free(&j);
}

int main(int argc, char **argv)
{
	struct options o = {.seconds = 1.0, .only_dur = -1, .only_op = -1};
	const char *tmp = getenv("TMPDIR");
	snprintf(o.dir, sizeof(o.dir), "%s", tmp ? tmp : "/tmp");
	for (int i = 1; i < argc; i++) {
		const char *v;
		if (strcmp(argv[i], "--json") == 0) {
			o.json = true;
		} else if (strcmp(argv[i], "--quick") == 0) {
			o.quick = true;
			o.seconds = 0.08;
		} else if ((v = bench_opt(argc, argv, &i, "--seconds")) != NULL) {
			o.seconds = bench_parse_double("--seconds", v);
		} else if ((v = bench_opt(argc, argv, &i, "--durability")) != NULL) {
			o.only_dur = strcmp(v, "sync") == 0 ? 0 : strcmp(v, "wal") == 0 ? 1 : 2;
		} else if ((v = bench_opt(argc, argv, &i, "--size")) != NULL) {
			o.only_size = (long)bench_parse_u64("--size", v);
		} else if ((v = bench_opt(argc, argv, &i, "--keys")) != NULL) {
			o.keys = bench_parse_u64("--keys", v);
			if (o.keys < MAX_THREADS) {
				fprintf(stderr, "--keys: at least %d\n", MAX_THREADS);
				return 2;
			}
		} else if ((v = bench_opt(argc, argv, &i, "--only")) != NULL) {
			for (int k = 0; k < OP_COUNT; k++)
				if (strcmp(v, op_name[k]) == 0)
					o.only_op = k;
			if (o.only_op < 0) {
				fprintf(stderr, "--only: unknown op %s\n", v);
				return 2;
			}
			g_only_op = o.only_op;
		} else if ((v = bench_opt(argc, argv, &i, "--dirty-decay-ms")) != NULL) {
			g_dirty_decay_ms = (long)bench_parse_u64("--dirty-decay-ms", v);
		} else if ((v = bench_opt(argc, argv, &i, "--threads")) != NULL) {
			o.only_threads = (unsigned)bench_parse_u64("--threads", v);
			if (o.only_threads != 1 && o.only_threads != 2 && o.only_threads != 8) {
				fprintf(stderr, "--threads: 1, 2 or 8\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--reads-only") == 0) {
			o.reads_only = true;
		} else if ((v = bench_opt(argc, argv, &i, "--dir")) != NULL) {
			snprintf(o.dir, sizeof(o.dir), "%s", v);
		} else {
			fprintf(stderr, "usage: backing_bench [--quick] [--json] [--seconds S] "
			                "[--dir D] [--durability sync|wal|none] [--size 100|4096] "
			                "[--reads-only] [--keys N] [--only OP] [--threads 1|2|8] "
			                "[--dirty-decay-ms MS]\n");
			return 2;
		}
	}
	uint64_t t0 = bench_now_ns();
	for (size_t s = 0; s < NSIZES; s++)
		if (o.only_size == 0 || (size_t)o.only_size == value_sizes[s])
			run_size(&o, value_sizes[s]);
	printf("backing_bench: %.2g s per round, median of %d interleaved rounds, reads on "
	       "the sync store; run took %.0f s\n", o.seconds, ROUNDS,
	       (double)(bench_now_ns() - t0) / 1e9);
	print_table();
	if (o.json)
		print_json();
	return 0;
}
