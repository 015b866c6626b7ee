/*
 * Several threads put, get, delete and batch distinct keys on one store at once (sync
 * durability, so RocksDB groups their commits), then a reopen holds exactly the last
 * value each thread wrote. Run under TSan too (label concurrency).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/test_backing_util.h"

#define THREADS 6
#define KEYS 16
#define ROUNDS 200

struct worker {
	struct backing *b;
	int id;
	int errors;
};

static void make_kv(int t, int k, int round, char *key, size_t kcap, char *val, size_t vcap)
{
	snprintf(key, kcap, "t%d/k%d", t, k);
	snprintf(val, vcap, "value of t%d/k%d in round %d, padded .........", t, k, round);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char key[32], val[80], buf[80];
	size_t vlen;
	int r, k;

	for (r = 0; r < ROUNDS; r++) {
		k = r % KEYS;
		make_kv(w->id, k, r, key, sizeof(key), val, sizeof(val));
		if (backing_put(w->b, BACKING_PAYLOAD, key, strlen(key), val, strlen(val)) != HC_OK)
			w->errors++;
		if (backing_get(w->b, BACKING_PAYLOAD, key, strlen(key), buf, sizeof(buf),
		                &vlen) != HC_OK || vlen != strlen(val) || memcmp(buf, val, vlen))
			w->errors++;
		if (r % 7 == 3) {
			struct backing_batch *t = backing_batch_new(w->b);

			if (t == NULL || backing_batch_put_raw(t, BACKING_KEL, key, strlen(key), val,
			                                       strlen(val)) != HC_OK ||
			    backing_batch_delete(t, BACKING_KEYSTATE, key, strlen(key)) != HC_OK ||
			    backing_batch_commit(t) != HC_OK)
				w->errors++;
			backing_batch_free(t);
		}
	}
	/* delete one key per thread; it must stay gone */
	make_kv(w->id, 0, 0, key, sizeof(key), val, sizeof(val));
	if (backing_delete(w->b, BACKING_PAYLOAD, key, strlen(key)) != HC_OK)
		w->errors++;
	return NULL;
}

static void threads_write_and_read_distinct_keys(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b = NULL;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	char key[32], val[80], buf[80];
	size_t vlen;
	int i, k, last;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	assert_int_equal(backing_open(&o, &b, NULL, 0), HC_OK);
	for (i = 0; i < THREADS; i++) {
		w[i].b = b;
		w[i].id = i;
		w[i].errors = 0;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	backing_close(b);
	assert_int_equal(backing_open(&o, &b, NULL, 0), HC_OK);
	for (i = 0; i < THREADS; i++) {
		for (k = 0; k < KEYS; k++) {
			last = k + KEYS * ((ROUNDS - 1 - k) / KEYS);
			make_kv(i, k, last, key, sizeof(key), val, sizeof(val));
			if (k == 0) {
				assert_int_equal(backing_get(b, BACKING_PAYLOAD, key, strlen(key), buf,
				                             sizeof(buf), &vlen), HC_ENOTFOUND);
				continue;
			}
			assert_int_equal(backing_get(b, BACKING_PAYLOAD, key, strlen(key), buf,
			                             sizeof(buf), &vlen), HC_OK);
			assert_int_equal(vlen, strlen(val));
			assert_memory_equal(buf, val, vlen);
		}
	}
	backing_close(b);
	tb_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threads_write_and_read_distinct_keys),
	};

	return cmocka_run_group_tests_name("backing_threads", tests, NULL, NULL);
}
