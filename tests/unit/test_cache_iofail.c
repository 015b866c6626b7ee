/*
 * I/O errors under the cache (hc_put / hc_delete over backing.mode = rocksdb), through the
 * hc_iofail LD_PRELOAD shim (tests/shim): once RocksDB's WAL writes or syncs fail, hc_put
 * is HC_EIO with RocksDB's text in hc_last_error(); every later write, by any thread, is
 * HC_EREADONLY until hc_close + hc_open, even after the disk is fine again; reads keep
 * working and never return the failed value (the old value, from memory or loaded again
 * from the store after the entry is evicted, or not found); and after the failures stop a
 * reopen has every acknowledged write and accepts writes again. Plus fault loops (fail
 * the Nth write or sync, N = 0, 1, ... until the operation succeeds) over one hc_put and
 * one hc_delete, and writers in several threads when the disk starts failing.
 *
 * ctest runs it with LD_PRELOAD=libhc_iofail.so, in builds without sanitizers only (the
 * sanitizer runtime would have to come first in the preload list).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/shim/iofail.h"
#include "tests/unit/evict.h"
#include "tests/unit/test_backing_util.h"

static hc_iofail_arm_fn *arm;
static hc_iofail_disarm_fn *disarm;
static hc_iofail_injected_fn *injected;

static hc_cache *open_cache(const struct tb_dir *d, int durability)
{
	struct hc_config cfg;
	hc_cache *c = NULL;
	int rc;

	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_ROCKSDB;
	snprintf(cfg.backing_path, sizeof(cfg.backing_path), "%s", d->db);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", d->key);
	cfg.durability = durability;
	cfg.memory_limit = 16u << 20;
	cfg.max_entry = 64u << 10;
	cfg.block_cache = 1u << 20;
	cfg.write_buffer = 4u << 20;
	rc = hc_open(&cfg, &c);
	if (rc != 0)
		fail_msg("hc_open: %s: %s", hc_strerror(rc), hc_last_error());
	return c;
}

static void put_n(hc_cache *c, int from, int to)
{
	char key[16], val[32];

	for (int i = from; i < to; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "value %d", i);
		assert_int_equal(hc_put(c, key, strlen(key), val, strlen(val)), HC_OK);
	}
}

static void expect_is(hc_cache *c, const char *key, const char *want)
{
	char buf[64];
	size_t vlen = 0;
	int rc = hc_get(c, key, strlen(key), buf, sizeof(buf), &vlen);

	if (want == NULL) {
		if (rc != HC_ENOTFOUND)
			fail_msg("%s: expected not found, got %s (%.*s)", key, hc_strerror(rc),
			         rc == 0 ? (int)vlen : 0, buf);
		return;
	}
	if (rc != HC_OK)
		fail_msg("%s: expected \"%s\", got %s: %s", key, want, hc_strerror(rc),
		         hc_last_error());
	assert_int_equal(vlen, strlen(want));
	assert_memory_equal(buf, want, vlen);
}

/* k[from, to) hold their values: from memory, and again loaded from the store. */
static void expect_n(hc_cache *c, int from, int to, int evict)
{
	char key[16], val[32];

	for (int i = from; i < to; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "value %d", i);
		if (evict)
			evict_force(c, key);
		expect_is(c, key, val);
	}
}

/* The same read from memory and then from the store. */
static void expect_both_ways(hc_cache *c, const char *key, const char *want)
{
	expect_is(c, key, want);
	evict_force(c, key);
	expect_is(c, key, want);
	expect_is(c, key, want); /* and once more, from memory again */
}

/*
 * ops: what fails. When the WAL write itself fails nothing of the write reaches the
 * file, so after a reopen the key still has its old value; when only the sync fails the
 * bytes may be in the page cache and a reopen may recover the write (an unacknowledged
 * write of unknown outcome, as after a crash): then the key holds either value.
 */
static void put_failure_then_readonly_then_recovery(unsigned ops, int err, int durability)
{
	struct tb_dir d;
	hc_cache *c;
	char buf[64];
	size_t vlen = 0;
	int rc;

	tb_dir_make(&d);
	c = open_cache(&d, durability);
	put_n(c, 0, 20);
	assert_int_equal(hc_put(c, "victim", 6, "old value", 9), HC_OK);
	assert_int_equal(hc_put(c, "doomed", 6, "keep me", 7), HC_OK);

	arm(d.db, ops, err, 0, -1);
	rc = hc_put(c, "victim", 6, "failed value", 12);
	assert_int_equal(rc, HC_EIO);
	print_message("failed hc_put: %s: %s\n", hc_strerror(rc), hc_last_error());
	/* RocksDB's own text, e.g. "IO error: While appending to file: ...: Input/output error" */
	assert_non_null(strstr(hc_last_error(), "IO error"));
	assert_non_null(strstr(hc_last_error(), strerror(err)));
	/* the failed value is not served, from memory or from the store */
	expect_both_ways(c, "victim", "old value");
	/* every later write is refused, while the disk still fails and after it is fine */
	assert_int_equal(hc_put(c, "fresh", 5, "never", 5), HC_EREADONLY);
	disarm();
	assert_int_equal(hc_put(c, "fresh", 5, "never", 5), HC_EREADONLY);
	assert_non_null(strstr(hc_last_error(), "close and reopen"));
	assert_int_equal(hc_put(c, "victim", 6, "failed again", 12), HC_EREADONLY);
	assert_int_equal(hc_delete(c, "doomed", 6), HC_EREADONLY);
	/* reads keep working and nothing refused changed memory */
	expect_both_ways(c, "victim", "old value");
	expect_both_ways(c, "doomed", "keep me");
	expect_both_ways(c, "fresh", NULL);
	expect_n(c, 0, 20, 0);
	expect_n(c, 0, 20, 1);
	hc_close(c);

	c = open_cache(&d, durability);
	expect_n(c, 0, 20, 0);
	expect_is(c, "doomed", "keep me");
	expect_is(c, "fresh", NULL);
	rc = hc_get(c, "victim", 6, buf, sizeof(buf), &vlen);
	assert_int_equal(rc, HC_OK);
	if (!(ops & HC_IOFAIL_WRITE)) {
		int recovered = vlen == 12 && memcmp(buf, "failed value", 12) == 0;
		print_message("after a failed sync, reopen %s the unacknowledged write\n",
		              recovered ? "recovered" : "did not recover");
		assert_true(recovered || (vlen == 9 && memcmp(buf, "old value", 9) == 0));
	} else {
		assert_int_equal(vlen, 9);
		assert_memory_equal(buf, "old value", 9);
	}
	put_n(c, 20, 30); /* writable again */
	assert_int_equal(hc_delete(c, "doomed", 6), HC_OK);
	hc_close(c);
	c = open_cache(&d, durability);
	expect_n(c, 0, 30, 0);
	expect_is(c, "doomed", NULL);
	hc_close(c);
	tb_dir_remove(&d);
}

static void failed_wal_write_and_sync_is_eio_then_readonly(void **state)
{
	(void)state;
	put_failure_then_readonly_then_recovery(HC_IOFAIL_WRITE | HC_IOFAIL_SYNC, EIO,
	                                        HC_DURABILITY_SYNC);
}

static void failed_wal_sync_enospc_is_eio_then_readonly(void **state)
{
	(void)state;
	put_failure_then_readonly_then_recovery(HC_IOFAIL_SYNC, ENOSPC, HC_DURABILITY_SYNC);
}

static void failed_wal_write_in_wal_mode_is_eio_then_readonly(void **state)
{
	(void)state;
	put_failure_then_readonly_then_recovery(HC_IOFAIL_WRITE, ENOSPC, HC_DURABILITY_WAL);
}

/* The first failing write is a delete: HC_EIO, the value stays readable everywhere,
 * later writes are refused, and a reopen still has it (the delete's WAL write failed). */
static void failed_delete_is_eio_and_the_value_stays(void **state)
{
	struct tb_dir d;
	hc_cache *c;
	int rc;

	(void)state;
	tb_dir_make(&d);
	c = open_cache(&d, HC_DURABILITY_SYNC);
	put_n(c, 0, 5);
	arm(d.db, HC_IOFAIL_WRITE | HC_IOFAIL_SYNC, EIO, 0, -1);
	rc = hc_delete(c, "k3", 2);
	disarm();
	assert_int_equal(rc, HC_EIO);
	assert_non_null(strstr(hc_last_error(), "IO error"));
	expect_both_ways(c, "k3", "value 3");
	assert_int_equal(hc_delete(c, "k3", 2), HC_EREADONLY);
	assert_int_equal(hc_put(c, "k3", 2, "other", 5), HC_EREADONLY);
	expect_both_ways(c, "k3", "value 3");
	hc_close(c);
	c = open_cache(&d, HC_DURABILITY_SYNC);
	expect_n(c, 0, 5, 0);
	hc_close(c);
	tb_dir_remove(&d);
}

/*
 * After a failed write and a reopen: the old value, or (when only a sync failed and the
 * WAL bytes reached the page cache) the unacknowledged write whole; nothing else.
 */
static void expect_old_or(hc_cache *c, const char *key, const char *unacked)
{
	char buf[64];
	size_t vlen = 0;
	int rc = hc_get(c, key, strlen(key), buf, sizeof(buf), &vlen);

	if (rc == HC_OK && vlen == 3 && memcmp(buf, "old", 3) == 0)
		return;
	if (unacked == NULL && rc == HC_ENOTFOUND)
		return;
	if (unacked != NULL && rc == HC_OK && vlen == strlen(unacked) &&
	    memcmp(buf, unacked, vlen) == 0)
		return;
	fail_msg("%s after a failed write and a reopen: %s", key, hc_strerror(rc));
}

/*
 * SQLite-style fault loop over one operation: fail the Nth write or sync for N = 0, 1,
 * ... until the operation succeeds. After each failure the key reads its old value (from
 * memory and from the store) and the cache refuses writes; after each reopen the earlier
 * writes are all there, and once the operation succeeded, its effect is.
 */
static void fault_loop(int is_delete)
{
	struct tb_dir d;
	hc_cache *c;
	long n;
	int rc = HC_EIO;

	tb_dir_make(&d);
	c = open_cache(&d, HC_DURABILITY_SYNC);
	put_n(c, 0, 5);
	hc_close(c);
	for (n = 0; n < 20 && rc != HC_OK; n++) {
		long before = injected();

		c = open_cache(&d, HC_DURABILITY_SYNC);
		/* A failed sync in the last round may have left its write recoverable (reopen
		 * replayed it): start every round from the old value, cached. */
		assert_int_equal(hc_put(c, "p", 1, "old", 3), HC_OK);
		expect_is(c, "p", "old");
		arm(d.db, HC_IOFAIL_WRITE | HC_IOFAIL_SYNC, EIO, n, 1);
		rc = is_delete ? hc_delete(c, "p", 1) : hc_put(c, "p", 1, "payload", 7);
		disarm();
		if (rc == HC_OK) {
			assert_int_equal(injected(), before); /* nothing was failed */
			expect_both_ways(c, "p", is_delete ? NULL : "payload");
		} else {
			assert_int_equal(rc, HC_EIO);
			assert_int_equal(injected(), before + 1);
			expect_both_ways(c, "p", "old");
			assert_int_equal(hc_put(c, "q", 1, "x", 1), HC_EREADONLY);
		}
		hc_close(c);
		c = open_cache(&d, HC_DURABILITY_SYNC);
		expect_n(c, 0, 5, 0);
		expect_is(c, "q", NULL);
		if (rc == HC_OK)
			expect_is(c, "p", is_delete ? NULL : "payload");
		else
			expect_old_or(c, "p", is_delete ? NULL : "payload");
		hc_close(c);
	}
	assert_int_equal(rc, HC_OK);
	print_message("%s succeeded once %ld write/sync calls were let through\n",
	              is_delete ? "hc_delete" : "hc_put", n - 1);
	assert_true(n >= 2); /* at least the WAL write and its sync were failed once each */
	tb_dir_remove(&d);
}

static void fault_loop_over_one_put(void **state)
{
	(void)state;
	fault_loop(0);
}

static void fault_loop_over_one_delete(void **state)
{
	(void)state;
	fault_loop(1);
}

struct writer {
	hc_cache *c;
	int t;
	long acked;     /* puts acknowledged */
	int saw_eio, saw_readonly, other, stale;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char key[32], val[32], buf[32];
	size_t vlen;

	for (long i = 0; i < 1000000; i++) {
		int rc;

		snprintf(key, sizeof(key), "w%d/%ld", w->t, i);
		snprintf(val, sizeof(val), "v%d/%ld", w->t, i);
		rc = hc_put(w->c, key, strlen(key), val, strlen(val));
		if (rc == HC_OK) {
			w->acked = i + 1;
			continue;
		}
		if (rc == HC_EIO)
			w->saw_eio++;
		else if (rc == HC_EREADONLY)
			w->saw_readonly++;
		else
			w->other++;
		/* the write that failed is not served */
		if (hc_get(w->c, key, strlen(key), buf, sizeof(buf), &vlen) != HC_ENOTFOUND)
			w->stale++;
		break;
	}
	return NULL;
}

/* Writers in several threads when the disk starts failing: each stops with HC_EIO or
 * HC_EREADONLY, none can read the value it failed to write, and a reopen has every
 * acknowledged put. */
static void concurrent_writers_when_the_disk_fails(void **state)
{
	struct tb_dir d;
	hc_cache *c;
	struct writer w[4];
	pthread_t th[4];
	char key[32], val[32];
	int eio = 0;
	long acked = 0;

	(void)state;
	tb_dir_make(&d);
	c = open_cache(&d, HC_DURABILITY_SYNC);
	for (int t = 0; t < 4; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].c = c;
		w[t].t = t;
		assert_int_equal(pthread_create(&th[t], NULL, writer_main, &w[t]), 0);
	}
	usleep(50000);
	arm(d.db, HC_IOFAIL_WRITE | HC_IOFAIL_SYNC, EIO, 0, -1);
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(w[t].other, 0);
		assert_int_equal(w[t].stale, 0);
		assert_int_equal(w[t].saw_eio + w[t].saw_readonly, 1);
		eio += w[t].saw_eio;
		acked += w[t].acked;
	}
	disarm();
	assert_true(eio >= 1); /* at least the first failure is HC_EIO */
	hc_close(c);
	c = open_cache(&d, HC_DURABILITY_SYNC);
	for (int t = 0; t < 4; t++) {
		for (long i = 0; i < w[t].acked; i++) {
			snprintf(key, sizeof(key), "w%d/%ld", t, i);
			snprintf(val, sizeof(val), "v%d/%ld", t, i);
			expect_is(c, key, val);
		}
	}
	print_message("%ld puts acknowledged before the disk failed, all there after reopen; "
	              "%d writers saw HC_EIO, %d HC_EREADONLY\n", acked, eio, 4 - eio);
	hc_close(c);
	tb_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failed_wal_write_and_sync_is_eio_then_readonly),
		cmocka_unit_test(failed_wal_sync_enospc_is_eio_then_readonly),
		cmocka_unit_test(failed_wal_write_in_wal_mode_is_eio_then_readonly),
		cmocka_unit_test(failed_delete_is_eio_and_the_value_stays),
		cmocka_unit_test(fault_loop_over_one_put),
		cmocka_unit_test(fault_loop_over_one_delete),
		cmocka_unit_test(concurrent_writers_when_the_disk_fails),
	};

	arm = (hc_iofail_arm_fn *)dlsym(RTLD_DEFAULT, "hc_iofail_arm");
	disarm = (hc_iofail_disarm_fn *)dlsym(RTLD_DEFAULT, "hc_iofail_disarm");
	injected = (hc_iofail_injected_fn *)dlsym(RTLD_DEFAULT, "hc_iofail_injected");
	if (arm == NULL || disarm == NULL || injected == NULL) {
		fprintf(stderr, "test_cache_iofail needs LD_PRELOAD=libhc_iofail.so\n");
		return 1;
	}
	return cmocka_run_group_tests_name("cache_iofail", tests, NULL, NULL);
}
