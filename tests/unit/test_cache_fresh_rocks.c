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
 * The workload and the checker are tests/unit/history.c, shared with
 * test_cache_flight.c; the wrapper writes each version to history_ver_out.
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
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache/cache.h"
#include "tests/unit/history.h"
#include "tests/unit/test_backing_util.h"

/* ---- the store wrapper: numbers each hot key's writes in the store's order -------- */

struct vstore {
	struct cache_store inner;
	_Atomic uint64_t ver[H_KEYS]; /* the last version given to each hot key */
};

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
	if (history_ver_out != NULL)
		*history_ver_out = n;
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

static void no_read_returns_a_value_older_than_an_acknowledged_write_over_rocksdb(void **state)
{
	struct tb_dir d;
	(void)state;
	tb_dir_make(&d);
	struct history *h = history_new(open_wrapped(&d));
	struct hc_stats st0, st;
	assert_int_equal(hc_stats(h->c, &st0), 0);
	history_run(h, 4242u);
	assert_int_equal(hc_stats(h->c, &st), 0);
	long n = history_nops(h);
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
	assert_int_equal(history_check(h, n), 0);
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
