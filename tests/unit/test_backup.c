/*
 * test_backup: hc_checkpoint under a write load (issue 13, point 2). Two writers put
 * numbered values while the main thread takes a checkpoint; the copy, opened as a
 * store of its own, holds every write acknowledged before the checkpoint began,
 * byte-exact, and the KEL imported before it verifies. The key is copied only when
 * asked, with mode 0600; an existing target is refused and left alone.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hotcache.h"
#include "tests/unit/testutil.h"
#include "tests/unit/vectors.h"

#define WRITERS 2
#define PRE01 "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL"

struct writer {
	hc_cache *c;
	int id;
	_Atomic uint64_t acked; /* values 0..acked-1 were acknowledged */
	atomic_bool *stop;
	int rc;
};

static size_t value_of(int id, uint64_t i, char *buf)
{
	size_t n = 16 + (size_t)(i * 7 + (uint64_t)id) % 200;
	for (size_t k = 0; k < n; k++)
		buf[k] = (char)('A' + (i + k * 3 + (uint64_t)id) % 26);
	return n;
}

static void *write_loop(void *arg)
{
	struct writer *w = arg;
	char key[32], val[256];
	for (uint64_t i = 0; !atomic_load(w->stop); i++) {
		int kl = snprintf(key, sizeof key, "w%d-%llu", w->id, (unsigned long long)i);
		size_t vl = value_of(w->id, i, val);
		if ((w->rc = hc_put(w->c, key, (size_t)kl, val, vl)) != 0)
			break;
		/* Release: a reader of acked sees the put done (here it is only a count
		 * the main thread snapshots; the put's durability is RocksDB's). */
		atomic_store_explicit(&w->acked, i + 1, memory_order_release);
	}
	return NULL;
}

static hc_cache *open_at(const char *path, const char *key_file, int create)
{
	struct hc_config cfg;
	char err[256];
	assert_int_equal(hc_config_default(&cfg), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.mode", "rocksdb", err, sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.path", path, err, sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "crypto.key_file", key_file, err, sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.durability", "wal", err, sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.create", create ? "true" : "false", err,
	                               sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "cache.memory_limit", "16 MiB", err, sizeof err), 0);
	hc_cache *c = NULL;
	if (hc_open(&cfg, &c) != 0)
		fail_msg("hc_open %s: %s", path, hc_last_error());
	return c;
}

static void checkpoint_under_load_holds_every_acknowledged_write(void **state)
{
	(void)state;
	char db[300], key[300], copy[300], copy_key[300];
	snprintf(db, sizeof db, "%s/db", testutil_dir);
	snprintf(key, sizeof key, "%s/db.key", testutil_dir);
	snprintf(copy, sizeof copy, "%s/copy", testutil_dir);
	snprintf(copy_key, sizeof copy_key, "%s/copy.key", testutil_dir);
	hc_cache *c = open_at(db, key, 1);
	static unsigned char kel[1 << 14];
	size_t kel_len = vectors_read("01_direct_mode_coe_icp_rot_ixn.cesr", kel, sizeof kel);
	struct hc_kel_report rep = {0};
	assert_int_equal(hc_kel_import(c, kel, kel_len, &rep), 0);
	assert_int_equal(rep.accepted, 3);

	atomic_bool stop = false;
	struct writer w[WRITERS];
	pthread_t t[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){.c = c, .id = i, .stop = &stop};
		assert_int_equal(pthread_create(&t[i], NULL, write_loop, &w[i]), 0);
	}
	while (atomic_load(&w[0].acked) < 200 || atomic_load(&w[1].acked) < 200)
		usleep(1000);
	uint64_t before[WRITERS];
	for (int i = 0; i < WRITERS; i++)
		before[i] = atomic_load_explicit(&w[i].acked, memory_order_acquire);
	int rc = hc_checkpoint(c, copy, copy_key);
	usleep(20000); /* writes go on after the checkpoint, into the original only */
	atomic_store(&stop, true);
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
	if (rc != 0)
		fail_msg("hc_checkpoint: %s", hc_last_error());
	hc_close(c);

	struct stat st;
	assert_int_equal(stat(copy_key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	hc_cache *b = open_at(copy, copy_key, 0);
	char kb[32], val[256], got[256];
	for (int id = 0; id < WRITERS; id++) {
		for (uint64_t i = 0; i < before[id]; i++) {
			int kl = snprintf(kb, sizeof kb, "w%d-%llu", id, (unsigned long long)i);
			size_t vl = value_of(id, i, val), gl = 0;
			rc = hc_get(b, kb, (size_t)kl, got, sizeof got, &gl);
			if (rc != 0)
				fail_msg("%s acknowledged before the checkpoint, missing from the "
				         "copy: %s", kb, hc_strerror(rc));
			assert_int_equal(gl, vl);
			assert_memory_equal(got, val, vl);
		}
	}
	uint64_t events = 0;
	assert_int_equal(hc_kel_verify(b, PRE01, &events), 0);
	assert_int_equal(events, 3);
	hc_close(b);
}

static void checkpoint_refuses_existing_targets_and_copies_key_only_when_asked(void **state)
{
	(void)state;
	char db[300], key[300], copy[300], other[300];
	snprintf(db, sizeof db, "%s/db", testutil_dir);
	snprintf(key, sizeof key, "%s/db.key", testutil_dir);
	snprintf(copy, sizeof copy, "%s/copy", testutil_dir);
	snprintf(other, sizeof other, "%s/other", testutil_dir);
	hc_cache *c = open_at(db, key, 1);
	assert_int_equal(hc_put(c, "k", 1, "v", 1), 0);
	assert_int_equal(hc_checkpoint(c, copy, NULL), 0);
	char probe[320];
	struct stat st;
	snprintf(probe, sizeof probe, "%s.key", copy);
	assert_int_not_equal(stat(probe, &st), 0); /* no key copied */
	assert_int_equal(hc_checkpoint(c, copy, NULL), HC_EEXIST);
	/* An existing key file target is refused before anything is written. */
	assert_int_equal(hc_checkpoint(c, other, key), HC_EEXIST);
	assert_int_not_equal(stat(other, &st), 0);
	hc_close(c);
	/* The key-less copy opens with the original key. */
	hc_cache *b = open_at(copy, key, 0);
	char v;
	size_t vl;
	assert_int_equal(hc_get(b, "k", 1, &v, 1, &vl), 0);
	assert_int_equal(v, 'v');
	hc_close(b);
}

static void checkpoint_without_store_is_enotsup(void **state)
{
	(void)state;
	struct hc_config cfg;
	char err[128], path[300];
	assert_int_equal(hc_config_default(&cfg), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.mode", "none", err, sizeof err), 0);
	hc_cache *c = NULL;
	assert_int_equal(hc_open(&cfg, &c), 0);
	snprintf(path, sizeof path, "%s/nothing", testutil_dir);
	assert_int_equal(hc_checkpoint(c, path, NULL), HC_ENOTSUP);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(checkpoint_under_load_holds_every_acknowledged_write,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(
			checkpoint_refuses_existing_targets_and_copies_key_only_when_asked, testutil_setup,
			testutil_teardown),
		cmocka_unit_test_setup_teardown(checkpoint_without_store_is_enotsup, testutil_setup,
		                                testutil_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
