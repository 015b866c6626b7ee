/*
 * The freshness rule over the real RocksDB store: once hc_put (or hc_delete) returns, no
 * hc_get that starts later returns an older value. The recorded-history check of
 * test_cache_flight.c, with backing.mode = rocksdb instead of its fake store.
 *
 * Two writers put unique 4 KiB values to 4 hot keys (and now and then delete one, or put
 * a filler key that overflows the small cache) while three readers get them, half of
 * the reads right after removing the key from memory the way eviction does (so at least
 * 30% of reads miss and race a RocksDB load against the puts). Every op's span on a
 * global clock and every value read are recorded; afterwards, per key: no read returns
 * a value older than the newest put or delete acknowledged before the read began.
 *
 * The version order of one key's writes is the order the store applied them. To learn
 * it without changing what is tested, the cache's store (cache/store_rocksdb.c) is
 * wrapped after hc_open: the wrapper calls the real put/delete and, when it succeeds,
 * numbers the write with the key's next version. cache_write calls the store under the
 * key's stripe write mutex, so the numbering is the store's order. Loads go straight to
 * the real store.
 *
 * Negative control: this checker is test_cache_flight.c's, which is shown there to catch
 * a build with the freshness guard (install_loaded's write-version comparison) removed,
 * so it is not repeated in the suite. It was also run once through this file on a
 * scratch copy of the tree with that comparison forced true: every run failed with
 * stale reads ("a value of version 328, but version 329 was acknowledged before it
 * began").
 *
 *   HC_STRESS_SECONDS (default 1) sets the run's length.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "cache/cache.h"
#include "map/hash.h"
#include "tests/unit/test_backing_util.h"

enum {
	H_KEYS = 4,
	H_WRITERS = 2,
	H_READERS = 3,
	H_VLEN = 4 << 10,       /* fillers of this size overflow a 1 MiB cache */
	H_FILLERS = 1024,
	H_MAX_OPS = 1 << 20,
	H_MAX_SEQ = 1 << 18,
};

/* ---- the store wrapper: numbers each hot key's writes in the store's order -------- */

struct vstore {
	struct cache_store inner;
	_Atomic uint64_t ver[H_KEYS]; /* the last version given to each hot key */
};

/* Set by a writer before hc_put/hc_delete: where the wrapper writes the version. */
static _Thread_local uint64_t *ver_out;

static int hot_index(const void *key, size_t klen)
{
	const char *k = key;
	if (klen != 5 || memcmp(k, "hot-", 4) != 0 || k[4] < '0' || k[4] >= '0' + H_KEYS)
		return -1;
	return k[4] - '0';
}

/* Runs under the key's stripe write mutex (cache_write), after a successful write. */
static void number_write(struct vstore *v, const void *key, size_t klen)
{
	int i = hot_index(key, klen);
	if (i < 0)
		return;
	uint64_t n = atomic_fetch_add_explicit(&v->ver[i], 1, memory_order_relaxed) + 1;
	if (ver_out != NULL)
		*ver_out = n;
}

static int vs_put(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct vstore *v = ctx;
	int rc = v->inner.put(v->inner.ctx, key, klen, val, vlen);
	if (rc == 0)
		number_write(v, key, klen);
	return rc;
}

static int vs_del(void *ctx, const void *key, size_t klen)
{
	struct vstore *v = ctx;
	int rc = v->inner.del(v->inner.ctx, key, klen);
	if (rc == 0)
		number_write(v, key, klen);
	return rc;
}

static int vs_load(void *ctx, const void *key, size_t klen, struct cache_load *ld)
{
	struct vstore *v = ctx;
	return v->inner.load(v->inner.ctx, key, klen, ld);
}

static void vs_close(void *ctx)
{
	struct vstore *v = ctx;
	v->inner.close(v->inner.ctx);
	free(v);
}

static hc_cache *open_wrapped(const struct tb_dir *d)
{
	struct hc_config cfg;
	hc_cache *c = NULL;
	struct vstore *v;
	int rc;

	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_ROCKSDB;
	snprintf(cfg.backing_path, sizeof(cfg.backing_path), "%s", d->db);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", d->key);
	cfg.durability = HC_DURABILITY_WAL;
	/* 1 MiB for payloads: the key-state cache takes its 1 MiB minimum of the 2 MiB */
	cfg.memory_limit = 2u << 20;
	cfg.shards = 2;
	cfg.max_entry = 128u << 10;
	cfg.block_cache = 1u << 20;
	cfg.write_buffer = 4u << 20;
	rc = hc_open(&cfg, &c);
	if (rc != 0)
		fail_msg("hc_open: %s: %s", hc_strerror(rc), hc_last_error());
	assert_non_null(c->backing);
	v = calloc(1, sizeof(*v));
	assert_non_null(v);
	/* Before any other use of the cache, from the thread that opened it. */
	v->inner = c->store;
	c->store = (struct cache_store){.ctx = v, .put = vs_put, .del = vs_del,
	                                .load = vs_load, .close = vs_close};
	return c;
}

/* ---- the recorded history (as test_cache_flight.c) -------------------------------- */

struct hval {
	uint32_t key, writer, seq, pad;
};

enum { OP_READ, OP_PUT, OP_DEL };

struct hop {
	uint64_t start, end;
	uint32_t key, writer, seq;
	uint8_t kind;
	uint8_t found;
};

struct history {
	hc_cache *c;
	_Atomic uint64_t clock;
	_Atomic int stop;
	_Atomic long nops;
	struct hop *ops;
	uint64_t *ver; /* ver[key][writer][seq]: the store's version of each write */
	_Atomic long bad_value, errors;
	_Atomic long reads, writes, deletes, notfound, forced;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t *ver_slot(struct history *h, uint32_t key, uint32_t writer, uint32_t seq)
{
	return &h->ver[((size_t)key * H_WRITERS + writer) * H_MAX_SEQ + seq];
}

static void make_hval(unsigned char *buf, uint32_t key, uint32_t writer, uint32_t seq)
{
	struct hval hv = {key, writer, seq, 0};
	memcpy(buf, &hv, sizeof(hv));
	uint32_t x = key * 2654435761u ^ writer * 40503u ^ seq * 97u;
	for (size_t i = sizeof(hv); i < H_VLEN; i += 4) {
		x = x * 1664525u + 1013904223u;
		memcpy(buf + i, &x, 4);
	}
}

static void record(struct history *h, const struct hop *op)
{
	long i = atomic_fetch_add(&h->nops, 1);
	if (i < H_MAX_OPS)
		h->ops[i] = *op;
	else
		atomic_store(&h->stop, 1);
}

static void hkey(char *k, uint32_t key)
{
	snprintf(k, 16, "hot-%u", key);
}

struct hworker {
	struct history *h;
	uint32_t id;
	unsigned seed;
};

static void *history_writer(void *arg)
{
	struct hworker *w = arg;
	struct history *h = w->h;
	unsigned char *buf = malloc(H_VLEN);
	assert_non_null(buf);
	for (uint32_t seq = 1; seq < H_MAX_SEQ && !atomic_load(&h->stop); seq++) {
		uint32_t key = (uint32_t)rand_r(&w->seed) % H_KEYS;
		int del = rand_r(&w->seed) % 8 == 0;
		char k[16];
		hkey(k, key);
		make_hval(buf, key, w->id, seq);
		struct hop op = {.key = key, .writer = w->id, .seq = seq,
		                 .kind = del ? OP_DEL : OP_PUT};
		ver_out = ver_slot(h, key, w->id, seq);
		op.start = atomic_fetch_add(&h->clock, 1);
		int rc = del ? hc_delete(h->c, k, strlen(k)) : hc_put(h->c, k, strlen(k), buf, H_VLEN);
		op.end = atomic_fetch_add(&h->clock, 1);
		ver_out = NULL;
		if (rc != 0) {
			atomic_fetch_add(&h->errors, 1);
			continue;
		}
		record(h, &op);
		atomic_fetch_add(del ? &h->deletes : &h->writes, 1);
		if (seq % 2 == 0) {
			char fk[32];
			int fl = snprintf(fk, sizeof(fk), "filler-%u", (unsigned)rand_r(&w->seed) %
			                  H_FILLERS);
			if (hc_put(h->c, fk, (size_t)fl, buf, H_VLEN - 1) != 0)
				atomic_fetch_add(&h->errors, 1);
		}
	}
	free(buf);
	return NULL;
}

/* Removes key's entry as eviction does: shard mutex, reclaim section, no store write,
 * no version bump. Without it the policy keeps keys read this often (scan resistance)
 * and the hot keys would almost never miss. */
static int force_evict(hc_cache *c, const char *k)
{
	size_t kl = strlen(k);
	uint64_t hash = map_hash_bytes(&c->seed, k, kl);
	struct shard *s = shard_of(c, hash);
	int removed = 0;
	pthread_mutex_lock(&s->mu);
	struct reclaim_thread *t = reclaim_enter(&c->rc);
	if (t != NULL) {
		removed = shard_remove_locked(s, t, hash, k, (uint32_t)kl);
		reclaim_exit(t);
	}
	pthread_mutex_unlock(&s->mu);
	if (t != NULL)
		reclaim_poll(t);
	return removed;
}

static void *history_reader(void *arg)
{
	struct hworker *w = arg;
	struct history *h = w->h;
	unsigned char *buf = malloc(H_VLEN), *want = malloc(H_VLEN);
	assert_non_null(buf);
	assert_non_null(want);
	while (!atomic_load(&h->stop)) {
		uint32_t key = (uint32_t)rand_r(&w->seed) % H_KEYS;
		char k[16];
		hkey(k, key);
		if (rand_r(&w->seed) % 2 == 0 && force_evict(h->c, k))
			atomic_fetch_add(&h->forced, 1);
		size_t n = 0;
		struct hop op = {.key = key};
		op.start = atomic_fetch_add(&h->clock, 1);
		int rc = hc_get(h->c, k, strlen(k), buf, H_VLEN, &n);
		op.end = atomic_fetch_add(&h->clock, 1);
		if (rc == HC_ENOTFOUND) {
			record(h, &op);
			atomic_fetch_add(&h->reads, 1);
			atomic_fetch_add(&h->notfound, 1);
			continue;
		}
		if (rc != 0 || n != H_VLEN) {
			atomic_fetch_add(&h->errors, 1);
			continue;
		}
		struct hval hv;
		memcpy(&hv, buf, sizeof(hv));
		if (hv.key != key || hv.writer >= H_WRITERS || hv.seq >= H_MAX_SEQ) {
			atomic_fetch_add(&h->bad_value, 1);
			continue;
		}
		make_hval(want, hv.key, hv.writer, hv.seq);
		if (memcmp(buf, want, H_VLEN) != 0) {
			atomic_fetch_add(&h->bad_value, 1);
			continue;
		}
		op.writer = hv.writer;
		op.seq = hv.seq;
		op.found = 1;
		record(h, &op);
		atomic_fetch_add(&h->reads, 1);
	}
	free(buf);
	free(want);
	return NULL;
}

static int cmp_end(const void *a, const void *b)
{
	const struct hop *x = *(const struct hop *const *)a, *y = *(const struct hop *const *)b;
	return (x->end > y->end) - (x->end < y->end);
}

static int cmp_start(const void *a, const void *b)
{
	const struct hop *x = *(const struct hop *const *)a, *y = *(const struct hop *const *)b;
	return (x->start > y->start) - (x->start < y->start);
}

/* Ops of one key and kinds, sorted by cmp, with the running max of their versions. */
static long key_ops(struct history *h, long n, uint32_t key, unsigned kinds,
                    int (*cmp)(const void *, const void *), struct hop **out, uint64_t *maxv)
{
	long m = 0;
	for (long i = 0; i < n; i++)
		if (h->ops[i].key == key && (kinds >> h->ops[i].kind & 1))
			out[m++] = &h->ops[i];
	qsort(out, (size_t)m, sizeof(*out), cmp);
	uint64_t mx = 0;
	for (long i = 0; i < m; i++) {
		uint64_t v = *ver_slot(h, key, out[i]->writer, out[i]->seq);
		assert_true(v > 0);
		mx = v > mx ? v : mx;
		maxv[i] = mx;
	}
	return m;
}

static long count_before(struct hop **ops, long m, uint64_t t, int by_end)
{
	long lo = 0, hi = m;
	while (lo < hi) {
		long mid = (lo + hi) / 2;
		if ((by_end ? ops[mid]->end : ops[mid]->start) < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Per key, in the store's version order: floor = the newest version among writes that
 * ended before the read began. A value read must have a version >= floor; a not-found
 * must be explained by a delete of version >= floor that started before the read ended.
 * Returns the number of violations (printing the first few).
 */
static long check_history(struct history *h, long n)
{
	long bad = 0;
	struct hop **w = malloc(sizeof(*w) * (size_t)n), **d = malloc(sizeof(*d) * (size_t)n);
	uint64_t *wmax = malloc(sizeof(*wmax) * (size_t)n), *dmax = malloc(sizeof(*dmax) * (size_t)n);
	assert_true(w != NULL && d != NULL && wmax != NULL && dmax != NULL);
	for (uint32_t key = 0; key < H_KEYS; key++) {
		long nw = key_ops(h, n, key, 1u << OP_PUT | 1u << OP_DEL, cmp_end, w, wmax);
		long nd = key_ops(h, n, key, 1u << OP_DEL, cmp_start, d, dmax);
		for (long i = 0; i < n; i++) {
			const struct hop *r = &h->ops[i];
			if (r->kind != OP_READ || r->key != key)
				continue;
			long lo = count_before(w, nw, r->start, 1);
			uint64_t floor = lo > 0 ? wmax[lo - 1] : 0;
			uint64_t got;
			if (r->found) {
				got = *ver_slot(h, key, r->writer, r->seq);
			} else {
				long dl = count_before(d, nd, r->end, 0);
				got = dl > 0 ? dmax[dl - 1] : 0;
			}
			if (got < floor && bad++ < 5)
				print_message("stale read of hot-%u at [%llu,%llu]: %s version %llu, but "
				              "version %llu was acknowledged before it began\n", key,
				              (unsigned long long)r->start, (unsigned long long)r->end,
				              r->found ? "a value of" : "not found, newest delete",
				              (unsigned long long)got, (unsigned long long)floor);
		}
	}
	free(w);
	free(d);
	free(wmax);
	free(dmax);
	return bad;
}

static unsigned history_seconds(void)
{
	const char *s = getenv("HC_STRESS_SECONDS");
	int v = s != NULL ? atoi(s) : 0;
	return v > 0 ? (unsigned)v : 1;
}

static struct history *history_new(const struct tb_dir *d)
{
	struct history *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->ops = calloc(H_MAX_OPS, sizeof(*h->ops));
	h->ver = calloc((size_t)H_KEYS * H_WRITERS * H_MAX_SEQ, sizeof(*h->ver));
	assert_non_null(h->ops);
	assert_non_null(h->ver);
	h->c = open_wrapped(d);
	/* Every key's first value (writer 0, seq 0) is recorded like any put, so that
	 * every read has a floor. */
	unsigned char *buf = malloc(H_VLEN);
	assert_non_null(buf);
	for (uint32_t key = 0; key < H_KEYS; key++) {
		char k[16];
		hkey(k, key);
		make_hval(buf, key, 0, 0);
		struct hop op = {.key = key, .writer = 0, .seq = 0, .kind = OP_PUT};
		ver_out = ver_slot(h, key, 0, 0);
		op.start = atomic_fetch_add(&h->clock, 1);
		assert_int_equal(hc_put(h->c, k, strlen(k), buf, H_VLEN), 0);
		op.end = atomic_fetch_add(&h->clock, 1);
		ver_out = NULL;
		record(h, &op);
	}
	free(buf);
	return h;
}

static void history_free(struct history *h)
{
	hc_close(h->c);
	free(h->ops);
	free(h->ver);
	free(h);
}

static void history_run(struct history *h)
{
	enum { NTH = H_WRITERS + H_READERS };
	pthread_t th[NTH];
	struct hworker wk[NTH];
	for (int i = 0; i < NTH; i++) {
		wk[i] = (struct hworker){.h = h, .id = (uint32_t)i, .seed = 4242u + (unsigned)i};
		void *(*fn)(void *) = i < H_WRITERS ? history_writer : history_reader;
		assert_int_equal(pthread_create(&th[i], NULL, fn, &wk[i]), 0);
	}
	uint64_t end = now_ns() + history_seconds() * 1000000000ull;
	while (now_ns() < end && !atomic_load(&h->stop))
		usleep(10000);
	atomic_store(&h->stop, 1);
	for (int i = 0; i < NTH; i++)
		pthread_join(th[i], NULL);
}

static void no_read_returns_a_value_older_than_an_acknowledged_write_over_rocksdb(void **state)
{
	struct tb_dir d;
	(void)state;
	tb_dir_make(&d);
	struct history *h = history_new(&d);
	struct hc_stats st0, st;
	assert_int_equal(hc_stats(h->c, &st0), 0);
	history_run(h);
	assert_int_equal(hc_stats(h->c, &st), 0);
	long n = atomic_load(&h->nops);
	if (n > H_MAX_OPS)
		n = H_MAX_OPS;
	long reads = atomic_load(&h->reads), writes = atomic_load(&h->writes);
	uint64_t loads = st.loads - st0.loads;
	print_message("history over rocksdb: %ld reads (%ld not found), %ld puts, %ld deletes, "
	              "%llu misses, %llu loads (%.0f%% of reads), %llu load waits, %llu "
	              "evictions, %ld forced, %llu corrupt\n", reads, atomic_load(&h->notfound),
	              writes, atomic_load(&h->deletes),
	              (unsigned long long)(st.misses - st0.misses), (unsigned long long)loads,
	              reads ? 100.0 * (double)loads / (double)reads : 0,
	              (unsigned long long)(st.load_waits - st0.load_waits),
	              (unsigned long long)(st.evictions - st0.evictions), atomic_load(&h->forced),
	              (unsigned long long)st.corrupt);
	assert_int_equal(atomic_load(&h->errors), 0);
	assert_int_equal(atomic_load(&h->bad_value), 0);
	assert_int_equal(st.corrupt, 0);
	assert_true(reads >= 200);
	assert_true(writes >= 50);
	assert_true(st.evictions > st0.evictions); /* the fillers overflow the cache */
	/* Only the readers read, and a read loads at most once: loads bounds the reads that
	 * missed from below. At least 30% of reads missed and loaded from RocksDB. */
	assert_true(loads * 10 >= (uint64_t)reads * 3);
	assert_int_equal(check_history(h, n), 0);
	history_free(h);
	tb_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_read_returns_a_value_older_than_an_acknowledged_write_over_rocksdb),
	};
	return cmocka_run_group_tests_name("cache_fresh_rocks", tests, NULL, NULL);
}
