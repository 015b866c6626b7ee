/*
 * The recorded-history freshness check (see history.h): the workload, the op log, and
 * the offline per-key check.
 */
#include "tests/unit/history.h"
#include "tests/stress/seconds.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/evict.h"

_Thread_local uint64_t *history_ver_out;

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
		history_ver_out = ver_slot(h, key, w->id, seq);
		op.start = atomic_fetch_add(&h->clock, 1);
		int rc = del ? hc_delete(h->c, k, strlen(k)) : hc_put(h->c, k, strlen(k), buf, H_VLEN);
		op.end = atomic_fetch_add(&h->clock, 1);
		history_ver_out = NULL;
		if (rc != 0) {
			atomic_fetch_add(&h->errors, 1);
			continue;
		}
		record(h, &op);
		atomic_fetch_add(del ? &h->deletes : &h->writes, 1);
		/* A filler now and then (never read, so every miss counted is a hot key's). */
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
		/* Half of the reads right after forcing the key out: the fillers make the
		 * policy evict too, but it protects keys read this often (scan resistance), so
		 * on their own the hot keys almost never miss, and a miss is what races a load
		 * against the puts. */
		if (rand_r(&w->seed) % 2 == 0 && evict_force(h->c, k))
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
		/* A head no writer wrote is a bad value (and must not index ver). */
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

/* Ops of one key and kinds (mask of 1 << OP_*), sorted by cmp, with the running max of
 * their store versions in maxv. Returns how many. */
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

/* How many of ops[0..m) have a time (end or start) below t: ops are sorted by it. */
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
 * Per key, with the store's version order: floor = the newest version among puts and
 * deletes that ended before the read began. A read that returned a value must return
 * one of version >= floor; a read that returned HC_ENOTFOUND must be explained by a
 * delete of version >= floor that had started before the read ended.
 */
long history_check(struct history *h, long n)
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


struct history *history_new(hc_cache *c)
{
	struct history *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->ops = calloc(H_MAX_OPS, sizeof(*h->ops));
	h->ver = calloc((size_t)H_KEYS * H_WRITERS * H_MAX_SEQ, sizeof(*h->ver));
	assert_non_null(h->ops);
	assert_non_null(h->ver);
	h->c = c;
	unsigned char *buf = malloc(H_VLEN);
	assert_non_null(buf);
	for (uint32_t key = 0; key < H_KEYS; key++) {
		char k[16];
		hkey(k, key);
		make_hval(buf, key, 0, 0);
		struct hop op = {.key = key, .writer = 0, .seq = 0, .kind = OP_PUT};
		history_ver_out = ver_slot(h, key, 0, 0);
		op.start = atomic_fetch_add(&h->clock, 1);
		assert_int_equal(hc_put(h->c, k, strlen(k), buf, H_VLEN), 0);
		op.end = atomic_fetch_add(&h->clock, 1);
		history_ver_out = NULL;
		record(h, &op);
	}
	free(buf);
	return h;
}

void history_free(struct history *h)
{
	hc_close(h->c);
	free(h->ops);
	free(h->ver);
	free(h);
}

void history_run(struct history *h, unsigned seed)
{
	enum { NTH = H_WRITERS + H_READERS };
	pthread_t th[NTH];
	struct hworker wk[NTH];
	for (int i = 0; i < NTH; i++) {
		wk[i] = (struct hworker){.h = h, .id = (uint32_t)i, .seed = seed + (unsigned)i};
		void *(*fn)(void *) = i < H_WRITERS ? history_writer : history_reader;
		assert_int_equal(pthread_create(&th[i], NULL, fn, &wk[i]), 0);
	}
	uint64_t end = now_ns() + stress_seconds(1.0) * 1000000000ull;
	while (now_ns() < end && !atomic_load(&h->stop))
		usleep(10000);
	atomic_store(&h->stop, 1);
	for (int i = 0; i < NTH; i++)
		pthread_join(th[i], NULL);
}

long history_nops(struct history *h)
{
	long n = atomic_load(&h->nops);
	return n > H_MAX_OPS ? H_MAX_OPS : n;
}
