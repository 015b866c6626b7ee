/*
 * I/O errors under the store, through the hc_iofail LD_PRELOAD shim (tests/shim): a
 * failed WAL write or sync is HC_EIO with RocksDB's text, every later write is
 * HC_EREADONLY while reads keep working, the failed write is never served by this
 * process, and after the failures stop a reopen has every acknowledged write. Plus a
 * fault loop (fail the Nth write/sync, N = 0, 1, ... until a put succeeds) and failures
 * while a new store is created. ctest runs it with LD_PRELOAD=libhc_iofail.so.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tests/shim/iofail.h"
#include "tests/unit/test_backing_util.h"

static hc_iofail_arm_fn *arm;
static hc_iofail_disarm_fn *disarm;
static hc_iofail_injected_fn *injected;

static struct backing *open_ok(const struct backing_opts *o)
{
	struct backing *b = NULL;
	char err[512] = "";
	int rc = backing_open(o, &b, err, sizeof(err));

	if (rc != HC_OK)
		fail_msg("backing_open: %d %s", rc, err);
	return b;
}

static void put_n(struct backing *b, int from, int to)
{
	char key[16], val[32];
	int i;

	for (i = from; i < to; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "value %d", i);
		assert_int_equal(backing_put(b, BACKING_PAYLOAD, key, strlen(key), val,
		                             strlen(val)), HC_OK);
	}
}

static void expect_n(struct backing *b, int from, int to)
{
	char key[16], val[32], buf[32];
	size_t vlen;
	int i;

	for (i = from; i < to; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "value %d", i);
		assert_int_equal(backing_get(b, BACKING_PAYLOAD, key, strlen(key), buf,
		                             sizeof(buf), &vlen), HC_OK);
		assert_int_equal(vlen, strlen(val));
		assert_memory_equal(buf, val, vlen);
	}
}

/*
 * ops: what fails. When the WAL write itself fails nothing of the write reaches the
 * file, so after a reopen it must be absent; when only the sync fails its bytes may be
 * in the page cache and a reopen may recover them (an unacknowledged write of unknown
 * outcome, as after a crash): then it must at least open as the value that was put.
 */
static void failure_then_readonly_then_recovery(unsigned ops, int err, int durability)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct backing_batch *t;
	char buf[32];
	size_t vlen;
	int rc;

	tb_dir_make(&d);
	o = tb_opts(&d, durability);
	b = open_ok(&o);
	put_n(b, 0, 20);
	arm(d.db, ops, err, 0, -1);
	rc = backing_put(b, BACKING_PAYLOAD, "failed", 6, "never acked", 11);
	assert_int_equal(rc, HC_EIO);
	/* RocksDB's own text, e.g. "IO error: While appending to file: ...: Input/output error" */
	assert_non_null(strstr(backing_last_error(), "IO error"));
	assert_non_null(strstr(backing_last_error(), strerror(err)));
	assert_int_equal(backing_failed(b), 1);
	disarm(); /* even with the disk fine again, writes stay refused until reopen */
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "later", 5, "x", 1), HC_EREADONLY);
	assert_non_null(strstr(backing_last_error(), "close and reopen"));
	assert_int_equal(backing_put_raw(b, BACKING_KEL, "later", 5, "x", 1), HC_EREADONLY);
	assert_int_equal(backing_delete(b, BACKING_PAYLOAD, "k1", 2), HC_EREADONLY);
	t = backing_batch_new(b);
	assert_int_equal(backing_batch_put_raw(t, BACKING_KEL, "e", 1, "x", 1), HC_OK);
	assert_int_equal(backing_batch_commit(t), HC_EREADONLY);
	backing_batch_free(t);
	/* reads keep working, and the failed write is not served */
	expect_n(b, 0, 20);
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "failed", 6, buf, sizeof(buf), &vlen),
	                 HC_ENOTFOUND);
	backing_close(b);

	b = open_ok(&o);
	assert_int_equal(backing_failed(b), 0);
	expect_n(b, 0, 20);
	rc = backing_get(b, BACKING_PAYLOAD, "failed", 6, buf, sizeof(buf), &vlen);
	if (!(ops & HC_IOFAIL_WRITE))
		print_message("after a failed sync, reopen %s the unacknowledged write\n",
		              rc == HC_OK ? "recovered" : "did not recover");
	if (!(ops & HC_IOFAIL_WRITE))
		assert_true(rc == HC_ENOTFOUND || (rc == HC_OK && vlen == 11 &&
		                                   memcmp(buf, "never acked", 11) == 0));
	else
		assert_int_equal(rc, HC_ENOTFOUND);
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "later", 5, buf, sizeof(buf), &vlen),
	                 HC_ENOTFOUND);
	put_n(b, 20, 30); /* writable again */
	backing_close(b);
	b = open_ok(&o);
	expect_n(b, 0, 30);
	backing_close(b);
	tb_dir_remove(&d);
}

static void failed_wal_write_sync(void **state)
{
	(void)state;
	failure_then_readonly_then_recovery(HC_IOFAIL_WRITE | HC_IOFAIL_SYNC, EIO,
	                                    HC_DURABILITY_SYNC);
}

static void failed_wal_sync_enospc(void **state)
{
	(void)state;
	failure_then_readonly_then_recovery(HC_IOFAIL_SYNC, ENOSPC, HC_DURABILITY_SYNC);
}

static void failed_wal_write_wal_mode(void **state)
{
	(void)state;
	failure_then_readonly_then_recovery(HC_IOFAIL_WRITE, ENOSPC, HC_DURABILITY_WAL);
}

/* SQLite-style fault loop: fail the Nth write or sync for N = 0, 1, ... until the put
 * succeeds; after each, a reopen has every acknowledged write. */
static void fault_loop_over_one_put(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	char buf[32];
	size_t vlen;
	long n;
	int rc = HC_EIO;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o);
	put_n(b, 0, 5);
	backing_close(b);
	for (n = 0; n < 20 && rc != HC_OK; n++) {
		long before = injected();

		b = open_ok(&o);
		arm(d.db, HC_IOFAIL_WRITE | HC_IOFAIL_SYNC, EIO, n, 1);
		rc = backing_put(b, BACKING_PAYLOAD, "p", 1, "payload", 7);
		disarm();
		if (rc == HC_OK) {
			assert_int_equal(injected(), before); /* succeeded: nothing was failed */
		} else {
			assert_int_equal(rc, HC_EIO);
			assert_int_equal(injected(), before + 1);
			assert_int_equal(backing_put(b, BACKING_PAYLOAD, "q", 1, "x", 1),
			                 HC_EREADONLY);
		}
		backing_close(b);
		b = open_ok(&o);
		expect_n(b, 0, 5);
		if (rc == HC_OK) {
			assert_int_equal(backing_get(b, BACKING_PAYLOAD, "p", 1, buf, sizeof(buf),
			                             &vlen), HC_OK);
			assert_memory_equal(buf, "payload", 7);
		}
		backing_close(b);
	}
	assert_int_equal(rc, HC_OK);
	print_message("a put succeeded once %ld write/sync calls were let through\n", n - 1);
	assert_true(n >= 2); /* at least the WAL write and its sync were failed once each */
	tb_dir_remove(&d);
}

/* Writes fail while a new store is being created: HC_EIO, nothing left open, and once
 * the disk is fine the same paths open (and the key file, if made, is the store's key). */
static void failure_while_creating_a_store(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b = NULL;
	char err[512] = "";
	long n;

	(void)state;
	for (n = 0; n < 12; n++) {
		int rc;

		tb_dir_make(&d);
		o = tb_opts(&d, HC_DURABILITY_SYNC);
		arm(d.root, HC_IOFAIL_WRITE | HC_IOFAIL_SYNC, EIO, n, 1);
		rc = backing_open(&o, &b, err, sizeof(err));
		disarm();
		if (rc != HC_OK) {
			assert_true(rc == HC_EIO || rc == HC_EKEY);
			assert_null(b);
			assert_true(err[0] != '\0');
		} else {
			backing_close(b);
		}
		b = open_ok(&o);
		put_n(b, 0, 3);
		backing_close(b);
		b = open_ok(&o);
		expect_n(b, 0, 3);
		backing_close(b);
		tb_dir_remove(&d);
	}
}

struct writer {
	struct backing *b;
	int t;
	long acked;     /* puts acknowledged */
	int saw_eio, saw_readonly, other;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char key[32], val[32];
	long i;

	for (i = 0; i < 1000000; i++) {
		int rc;

		snprintf(key, sizeof(key), "w%d/%ld", w->t, i);
		snprintf(val, sizeof(val), "v%d/%ld", w->t, i);
		rc = backing_put(w->b, BACKING_PAYLOAD, key, strlen(key), val, strlen(val));
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
		break;
	}
	return NULL;
}

/* Writers in several threads when the disk starts failing: each stops with HC_EIO or
 * HC_EREADONLY (RocksDB is never driven into writing a broken WAL again, which Debian's
 * assert-enabled build would abort on), and a reopen has every acknowledged put. */
static void concurrent_writers_when_the_disk_fails(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct writer w[4];
	pthread_t th[4];
	char key[32], val[32], buf[32];
	size_t vlen;
	long i;
	int t, eio = 0;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o);
	for (t = 0; t < 4; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].b = b;
		w[t].t = t;
		assert_int_equal(pthread_create(&th[t], NULL, writer_main, &w[t]), 0);
	}
	usleep(50000);
	arm(d.db, HC_IOFAIL_WRITE | HC_IOFAIL_SYNC, EIO, 0, -1);
	for (t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(w[t].other, 0);
		assert_int_equal(w[t].saw_eio + w[t].saw_readonly, 1);
		eio += w[t].saw_eio;
	}
	disarm();
	assert_true(eio >= 1); /* at least the first failure is HC_EIO */
	backing_close(b);
	b = open_ok(&o);
	for (t = 0; t < 4; t++) {
		for (i = 0; i < w[t].acked; i++) {
			snprintf(key, sizeof(key), "w%d/%ld", t, i);
			snprintf(val, sizeof(val), "v%d/%ld", t, i);
			assert_int_equal(backing_get(b, BACKING_PAYLOAD, key, strlen(key), buf,
			                             sizeof(buf), &vlen), HC_OK);
			assert_memory_equal(buf, val, vlen);
		}
	}
	backing_close(b);
	tb_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failed_wal_write_sync),
		cmocka_unit_test(failed_wal_sync_enospc),
		cmocka_unit_test(failed_wal_write_wal_mode),
		cmocka_unit_test(fault_loop_over_one_put),
		cmocka_unit_test(failure_while_creating_a_store),
		cmocka_unit_test(concurrent_writers_when_the_disk_fails),
	};

	arm = (hc_iofail_arm_fn *)dlsym(RTLD_DEFAULT, "hc_iofail_arm");
	disarm = (hc_iofail_disarm_fn *)dlsym(RTLD_DEFAULT, "hc_iofail_disarm");
	injected = (hc_iofail_injected_fn *)dlsym(RTLD_DEFAULT, "hc_iofail_injected");
	if (arm == NULL || disarm == NULL || injected == NULL) {
		fprintf(stderr, "test_backing_iofail needs LD_PRELOAD=libhc_iofail.so\n");
		return 1;
	}
	return cmocka_run_group_tests_name("backing_iofail", tests, NULL, NULL);
}
