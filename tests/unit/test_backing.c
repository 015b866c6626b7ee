/*
 * backing/ unit tests: round trips in every column family, durability modes, reopen,
 * the key file and key check value, batches, argument checks, and bad data at rest
 * (every single-bit flip of a record, records moved under another key or family,
 * truncation, and a record altered through a raw RocksDB handle).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <rocksdb/c.h>
#include <sodium.h>

#include "tests/unit/test_backing_util.h"

static struct backing *open_ok(const struct backing_opts *o)
{
	struct backing *b = NULL;
	char err[512] = "";
	int rc = backing_open(o, &b, err, sizeof(err));

	if (rc != HC_OK)
		fail_msg("backing_open: %d %s", rc, err);
	assert_non_null(b);
	return b;
}

static void write_key_file(const char *path, unsigned char fill, size_t n)
{
	unsigned char buf[64];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	memset(buf, fill, sizeof(buf));
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

static void new_store_creates_key_file_0600(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct stat st;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o);
	assert_int_equal(backing_flags(b), BACKING_CREATED_STORE | BACKING_CREATED_KEY_FILE |
	                                   BACKING_WROTE_KEY_CHECK);
	assert_int_equal(stat(d.key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	backing_close(b);
	b = open_ok(&o);
	/* nothing created the second time; the key checked with META alone open */
	assert_int_equal(backing_flags(b), BACKING_CHECKED_META);
	backing_close(b);
	tb_dir_remove(&d);
}

/*
 * The precheck of the key before a primary open opens the META family alone, when META
 * holds the key check value and the format stamp: the WAL's records of the other
 * families are skipped instead of replayed into memtables (after a crash with a large
 * WAL that replay made the precheck half of the open's time). It still refuses a wrong
 * key; when META does not decide, every family is opened as before.
 */
static void precheck_opens_meta_alone_when_meta_decides(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	char err[512] = "", key[16], buf[16];
	size_t vlen;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_WAL);
	b = open_ok(&o);
	for (int i = 0; i < 200; i++) { /* records in the WAL only: no flush before close */
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(backing_put(b, BACKING_PAYLOAD, key, strlen(key), "v", 1), HC_OK);
	}
	backing_close(b);
	b = open_ok(&o);
	assert_true(backing_flags(b) & BACKING_CHECKED_META);
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "k199", 4, buf, sizeof(buf), &vlen),
	                 HC_OK);
	/* No check value: META does not decide, the payload's first record does. */
	assert_int_equal(backing_delete(b, BACKING_META, "keycheck", 8), HC_OK);
	backing_close(b);
	b = open_ok(&o);
	assert_int_equal(backing_flags(b) & (BACKING_CHECKED_META | BACKING_WROTE_KEY_CHECK),
	                 BACKING_WROTE_KEY_CHECK);
	backing_close(b);
	/* The value is back: META decides again, and refuses a wrong key. */
	write_key_file(d.key, 0x44, 32);
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EKEY);
	assert_non_null(strstr(err, "does not match"));
	tb_dir_remove(&d);
}

static void roundtrip_every_cf(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct backing_pin pin;
	char buf[64];
	size_t vlen;
	int cf;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_WAL);
	b = open_ok(&o);
	for (cf = 0; cf < BACKING_NCF; cf++) {
		assert_int_equal(backing_put(b, cf, "k", 1, "sealed value", 12), HC_OK);
		assert_int_equal(backing_get(b, cf, "k", 1, buf, sizeof(buf), &vlen), HC_OK);
		assert_int_equal(vlen, 12);
		assert_memory_equal(buf, "sealed value", 12);
		/* the stored bytes are the record, not the value */
		assert_int_equal(backing_get_raw(b, cf, "k", 1, &pin), HC_OK);
		assert_int_equal(pin.len, 12 + BACKING_SEAL_OVERHEAD);
		assert_int_equal(pin.data[0], BACKING_FORMAT);
		assert_null(memmem(pin.data, pin.len, "sealed", 6));
		backing_pin_release(&pin);
		assert_int_equal(backing_delete(b, cf, "k", 1), HC_OK);
		assert_int_equal(backing_get(b, cf, "k", 1, buf, sizeof(buf), &vlen), HC_ENOTFOUND);
		assert_int_equal(backing_delete(b, cf, "k", 1), HC_OK); /* absent: still OK */

		assert_int_equal(backing_put_raw(b, cf, "r", 1, "raw", 3), HC_OK);
		assert_int_equal(backing_get_raw(b, cf, "r", 1, &pin), HC_OK);
		assert_int_equal(pin.len, 3);
		assert_memory_equal(pin.data, "raw", 3);
		backing_pin_release(&pin);
		backing_pin_release(&pin); /* idempotent */
		assert_int_equal(backing_delete(b, cf, "r", 1), HC_OK);
		assert_int_equal(backing_get_raw(b, cf, "r", 1, &pin), HC_ENOTFOUND);
	}
	backing_close(b);
	tb_dir_remove(&d);
}

static void sizes_and_range(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct backing_pin pin;
	size_t n = 200000, vlen, plen;
	unsigned char *big = malloc(n), *out = malloc(n);
	char small[4];

	(void)state;
	assert_non_null(big);
	assert_non_null(out);
	randombytes_buf(big, n);
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_NONE);
	b = open_ok(&o);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "empty", 5, NULL, 0), HC_OK);
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "empty", 5, NULL, 0, &vlen), HC_OK);
	assert_int_equal(vlen, 0);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "big", 3, big, n), HC_OK);
	memset(small, 0x5a, sizeof(small));
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "big", 3, small, sizeof(small), &vlen),
	                 HC_ERANGE);
	assert_int_equal(vlen, n);
	assert_memory_equal(small, "\x5a\x5a\x5a\x5a", 4); /* nothing written */
	/* the two-step path the cache uses */
	assert_int_equal(backing_get_sealed(b, BACKING_PAYLOAD, "big", 3, &pin, &plen), HC_OK);
	assert_int_equal(plen, n);
	assert_int_equal(backing_unseal_into(b, &pin, out), HC_OK);
	backing_pin_release(&pin);
	assert_memory_equal(out, big, n);
	backing_close(b);
	b = open_ok(&o); /* none durability: a clean close flushed the memtables */
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "big", 3, out, n, &vlen), HC_OK);
	assert_memory_equal(out, big, n);
	backing_close(b);
	tb_dir_remove(&d);
	free(big);
	free(out);
}

static void durability_modes_persist_across_reopen(void **state)
{
	int dur;

	(void)state;
	for (dur = HC_DURABILITY_SYNC; dur <= HC_DURABILITY_NONE; dur++) {
		struct tb_dir d;
		struct backing_opts o;
		struct backing *b;
		char key[16], val[32], buf[32];
		size_t vlen;
		int i;

		tb_dir_make(&d);
		o = tb_opts(&d, dur);
		b = open_ok(&o);
		for (i = 0; i < 50; i++) {
			snprintf(key, sizeof(key), "k%d", i);
			snprintf(val, sizeof(val), "value %d/%d", i, dur);
			assert_int_equal(backing_put(b, BACKING_PAYLOAD, key, strlen(key), val,
			                             strlen(val)), HC_OK);
		}
		assert_int_equal(backing_delete(b, BACKING_PAYLOAD, "k7", 2), HC_OK);
		backing_close(b);
		b = open_ok(&o);
		for (i = 0; i < 50; i++) {
			snprintf(key, sizeof(key), "k%d", i);
			snprintf(val, sizeof(val), "value %d/%d", i, dur);
			if (i == 7) {
				assert_int_equal(backing_get(b, BACKING_PAYLOAD, key, strlen(key), buf,
				                             sizeof(buf), &vlen), HC_ENOTFOUND);
				continue;
			}
			assert_int_equal(backing_get(b, BACKING_PAYLOAD, key, strlen(key), buf,
			                             sizeof(buf), &vlen), HC_OK);
			assert_int_equal(vlen, strlen(val));
			assert_memory_equal(buf, val, vlen);
		}
		backing_close(b);
		tb_dir_remove(&d);
	}
}

static void wrong_key_file_is_ekey_at_open(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	char err[512] = "";

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o); /* an empty store still has its check value */
	backing_close(b);
	write_key_file(d.key, 0x11, 32);
	b = (struct backing *)&d;
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EKEY);
	assert_null(b);
	assert_non_null(strstr(err, "does not match the store"));
	assert_non_null(strstr(err, d.key));
	assert_string_equal(err, backing_last_error());
	tb_dir_remove(&d);

	/* the same with records in the store */
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "a", 1, "x", 1), HC_OK);
	backing_close(b);
	write_key_file(d.key, 0x22, 32);
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EKEY);
	assert_null(b);
	assert_non_null(strstr(err, "does not match"));
	tb_dir_remove(&d);
}

static void missing_key_file_for_existing_store(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct stat st;
	char err[512] = "";

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o);
	backing_close(b);
	assert_int_equal(unlink(d.key), 0);
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EKEY);
	assert_null(b);
	assert_non_null(strstr(err, "does not exist"));
	assert_non_null(strstr(err, "restore it"));
	/* and no new key file was made in its place */
	assert_int_equal(stat(d.key, &st), -1);
	tb_dir_remove(&d);
}

static void bad_key_files(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct stat st;
	char err[512] = "";

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o); /* a store and its key, created together */
	backing_close(b);
	write_key_file(d.key, 0x33, 31);
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EKEY);
	assert_non_null(strstr(err, "exactly 32 bytes"));
	write_key_file(d.key, 0x33, 33);
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EKEY);
	tb_dir_remove(&d);

	/* a key file without its store (issue 12): refused, naming both, nothing created */
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	write_key_file(d.key, 0x33, 32);
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EKEY);
	assert_non_null(strstr(err, d.db));
	assert_non_null(strstr(err, d.key));
	assert_int_equal(stat(d.db, &st), -1);
	tb_dir_remove(&d);

	/* an absent store without create: HC_EIO, and nothing is created */
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	o.create_if_missing = 0;
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EIO);
	assert_non_null(strstr(err, "does not exist"));
	assert_int_equal(stat(d.key, &st), -1);
	assert_int_equal(stat(d.db, &st), -1);
	/* bad options */
	o.key_file = "";
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EINVAL);
	o = tb_opts(&d, 7);
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EINVAL);
	tb_dir_remove(&d);
}

static void no_check_value_is_decided_by_first_record(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	char err[512] = "", buf[8];
	size_t vlen;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "a", 1, "alpha", 5), HC_OK);
	assert_int_equal(backing_delete(b, BACKING_META, "keycheck", 8), HC_OK);
	backing_close(b);
	/* the right key opens the first record: the check value is written again */
	b = open_ok(&o);
	assert_int_equal(backing_flags(b) & BACKING_WROTE_KEY_CHECK, BACKING_WROTE_KEY_CHECK);
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "a", 1, buf, sizeof(buf), &vlen), HC_OK);
	assert_int_equal(backing_delete(b, BACKING_META, "keycheck", 8), HC_OK);
	backing_close(b);
	/* a wrong key does not */
	write_key_file(d.key, 0x44, 32);
	assert_int_equal(backing_open(&o, &b, err, sizeof(err)), HC_EKEY);
	assert_non_null(strstr(err, "no key check value"));
	tb_dir_remove(&d);
}

static void store_held_by_another_handle_is_ebusy(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b, *b2;
	char err[512] = "";

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o);
	assert_int_equal(backing_open(&o, &b2, err, sizeof(err)), HC_EBUSY);
	assert_null(b2);
	backing_close(b);
	tb_dir_remove(&d);
}

static void batch_commits_all_at_once(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct backing_batch *t;
	struct backing_pin pin;
	char buf[16];
	size_t vlen;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "gone", 4, "x", 1), HC_OK);
	t = backing_batch_new(b);
	assert_non_null(t);
	assert_int_equal(backing_batch_put_raw(t, BACKING_KEL, "E1", 2, "event", 5), HC_OK);
	assert_int_equal(backing_batch_put_raw(t, BACKING_KEYSTATE, "P", 1, "state", 5), HC_OK);
	assert_int_equal(backing_batch_put(t, BACKING_PAYLOAD, "s", 1, "secret", 6), HC_OK);
	assert_int_equal(backing_batch_delete(t, BACKING_PAYLOAD, "gone", 4), HC_OK);
	assert_int_equal(backing_batch_put_raw(t, 9, "x", 1, "y", 1), HC_EINVAL);
	assert_int_equal(backing_batch_count(t), 4);
	/* nothing is visible before the commit */
	assert_int_equal(backing_get_raw(b, BACKING_KEL, "E1", 2, &pin), HC_ENOTFOUND);
	assert_int_equal(backing_batch_commit(t), HC_OK);
	assert_int_equal(backing_batch_commit(t), HC_EINVAL);
	backing_batch_free(t);
	backing_close(b);
	b = open_ok(&o);
	assert_int_equal(backing_get_raw(b, BACKING_KEL, "E1", 2, &pin), HC_OK);
	assert_memory_equal(pin.data, "event", 5);
	backing_pin_release(&pin);
	assert_int_equal(backing_get_raw(b, BACKING_KEYSTATE, "P", 1, &pin), HC_OK);
	backing_pin_release(&pin);
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "s", 1, buf, sizeof(buf), &vlen), HC_OK);
	assert_memory_equal(buf, "secret", 6);
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "gone", 4, buf, sizeof(buf), &vlen),
	                 HC_ENOTFOUND);
	t = backing_batch_new(b);
	assert_int_equal(backing_batch_commit(t), HC_OK); /* empty */
	backing_batch_free(t);
	backing_batch_free(NULL);
	backing_close(b);
	tb_dir_remove(&d);
}

static void bad_arguments_are_einval(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	static char longkey[HC_KEY_MAX + 1];
	char buf[4];
	size_t vlen;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_NONE);
	b = open_ok(&o);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "k", 0, "v", 1), HC_EINVAL);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, NULL, 1, "v", 1), HC_EINVAL);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, longkey, sizeof(longkey), "v", 1),
	                 HC_EINVAL);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, longkey, HC_KEY_MAX, "v", 1), HC_OK);
	assert_int_equal(backing_put(b, -1, "k", 1, "v", 1), HC_EINVAL);
	assert_int_equal(backing_put(b, BACKING_NCF, "k", 1, "v", 1), HC_EINVAL);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "k", 1, NULL, 1), HC_EINVAL);
	assert_int_equal(backing_put_raw(b, BACKING_KEL, "k", 0, "v", 1), HC_EINVAL);
	assert_int_equal(backing_delete(b, 4, "k", 1), HC_EINVAL);
	assert_int_equal(backing_get(b, 4, "k", 1, buf, sizeof(buf), &vlen), HC_EINVAL);
	assert_non_null(strstr(backing_last_error(), "column family"));
	assert_null(backing_cf_name(4));
	assert_string_equal(backing_cf_name(BACKING_KEYSTATE), "keystate");
	backing_close(b);
	backing_close(NULL);
	tb_dir_remove(&d);
}

static void seal_is_pure_and_randomised(void **state)
{
	unsigned char raw[32], r1[64], r2[64], out[32];
	struct backing_key *k;
	size_t plen;

	(void)state;
	memset(raw, 7, sizeof(raw));
	k = backing_key_new(raw, BACKING_KEY_ID);
	assert_non_null(k);
	assert_int_equal(backing_seal(k, BACKING_PAYLOAD, "k", 1, "hello", 5, r1, 5 + 41),
	                 HC_EINVAL); /* one byte short */
	assert_int_equal(backing_seal(k, BACKING_PAYLOAD, "k", 1, "hello", 5, r1, sizeof(r1)),
	                 HC_OK);
	assert_int_equal(backing_seal(k, BACKING_PAYLOAD, "k", 1, "hello", 5, r2, sizeof(r2)),
	                 HC_OK);
	assert_memory_not_equal(r1 + 2, r2 + 2, BACKING_NONCE_BYTES); /* fresh nonce */
	assert_int_equal(backing_unseal(k, BACKING_PAYLOAD, "k", 1, r1, 47, out, 4, &plen),
	                 HC_ERANGE);
	assert_int_equal(plen, 5);
	assert_int_equal(backing_unseal(k, BACKING_PAYLOAD, "k", 1, r1, 47, out, sizeof(out),
	                                &plen), HC_OK);
	assert_memory_equal(out, "hello", 5);
	/* another family or key: the associated data differs */
	assert_int_equal(backing_unseal(k, BACKING_KEL, "k", 1, r1, 47, out, sizeof(out), &plen),
	                 HC_ECORRUPT);
	assert_int_equal(backing_unseal(k, BACKING_PAYLOAD, "kk", 2, r1, 47, out, sizeof(out),
	                                &plen), HC_ECORRUPT);
	backing_key_free(k);
}

static void nonce_of_seal(const struct backing_key *k, unsigned char nonce[24])
{
	unsigned char rec[64];

	assert_int_equal(backing_seal(k, BACKING_PAYLOAD, "k", 1, "v", 1, rec, sizeof(rec)),
	                 HC_OK);
	memcpy(nonce, rec + 2, 24);
}

static void *seal_in_thread(void *arg)
{
	unsigned char rec[64];
	unsigned char *nonce = arg;
	struct backing_key *k;
	unsigned char raw[32];

	memset(raw, 7, sizeof(raw));
	k = backing_key_new(raw, BACKING_KEY_ID);
	if (k != NULL && backing_seal(k, BACKING_PAYLOAD, "k", 1, "v", 1, rec, sizeof(rec)) == 0)
		memcpy(nonce, rec + 2, 24);
	backing_key_free(k);
	return NULL;
}

/*
 * Regression guard for nonce reuse: nonces are a per-thread random prefix and a
 * counter, so they must differ between consecutive seals, between threads, and between a
 * parent and a child forked after the parent's state was seeded (the state page is
 * wiped on fork; without that the child would repeat the parent's next nonce).
 */
static void nonces_never_repeat_across_seals_threads_and_fork(void **state)
{
	unsigned char raw[32], a[24], b[24], child[24], other[24] = { 0 };
	struct backing_key *k;
	pthread_t th;
	int fds[2], status;
	pid_t pid;

	(void)state;
	memset(raw, 7, sizeof(raw));
	k = backing_key_new(raw, BACKING_KEY_ID);
	nonce_of_seal(k, a);
	nonce_of_seal(k, b);
	assert_memory_not_equal(a, b, 24);
	assert_int_equal(pthread_create(&th, NULL, seal_in_thread, other), 0);
	pthread_join(th, NULL);
	assert_memory_not_equal(other, b, 24);
	assert_memory_not_equal(other, b, 16); /* another thread, another prefix */

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		nonce_of_seal(k, child);
		_exit(write(fds[1], child, 24) == 24 ? 0 : 1);
	}
	nonce_of_seal(k, a); /* the parent's next nonce */
	assert_int_equal(read(fds[0], child, 24), 24);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_memory_not_equal(child, a, 24);
	assert_memory_not_equal(child, a, 16); /* the child drew a fresh prefix */
	close(fds[0]);
	close(fds[1]);
	backing_key_free(k);
}

/* ---- bad data at rest ---- */

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* The value must not reach the caller: buf is untouched (0xA5) or wiped (0). */
static void expect_corrupt(struct backing *b, int cf, const char *key)
{
	unsigned char buf[64];
	size_t vlen = 0, plen;
	struct backing_pin pin;
	int rc;

	memset(buf, 0xA5, sizeof(buf));
	rc = backing_get(b, cf, key, strlen(key), buf, sizeof(buf), &vlen);
	assert_int_equal(rc, HC_ECORRUPT);
	assert_true(all_bytes(buf, sizeof(buf), 0xA5) || all_bytes(buf, vlen, 0));
	assert_null(memmem(buf, sizeof(buf), "tiny", 4));
	/* the two-step path too */
	memset(buf, 0xA5, sizeof(buf));
	rc = backing_get_sealed(b, cf, key, strlen(key), &pin, &plen);
	if (rc == HC_OK) {
		assert_true(plen <= sizeof(buf));
		rc = backing_unseal_into(b, &pin, buf);
		backing_pin_release(&pin);
		assert_true(all_bytes(buf, plen, 0));
	}
	assert_int_equal(rc, HC_ECORRUPT);
}

static void every_single_bit_flip_is_ecorrupt(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct backing_pin pin;
	unsigned char rec[64], bad[64];
	size_t len, bit, vlen;
	char buf[16];

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_NONE);
	b = open_ok(&o);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "k", 1, "tiny", 4), HC_OK);
	assert_int_equal(backing_get_raw(b, BACKING_PAYLOAD, "k", 1, &pin), HC_OK);
	len = pin.len;
	assert_int_equal(len, 4 + BACKING_SEAL_OVERHEAD);
	memcpy(rec, pin.data, len);
	backing_pin_release(&pin);
	for (bit = 0; bit < len * 8; bit++) {
		memcpy(bad, rec, len);
		bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		assert_int_equal(backing_put_raw(b, BACKING_PAYLOAD, "k", 1, bad, len), HC_OK);
		expect_corrupt(b, BACKING_PAYLOAD, "k");
	}
	/* the original still opens */
	assert_int_equal(backing_put_raw(b, BACKING_PAYLOAD, "k", 1, rec, len), HC_OK);
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "k", 1, buf, sizeof(buf), &vlen), HC_OK);
	assert_memory_equal(buf, "tiny", 4);
	backing_close(b);
	tb_dir_remove(&d);
}

static void moved_and_truncated_records_are_ecorrupt(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct backing_pin pin;
	unsigned char rec[64];
	size_t len, cut;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_NONE);
	b = open_ok(&o);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "a", 1, "tiny", 4), HC_OK);
	assert_int_equal(backing_get_raw(b, BACKING_PAYLOAD, "a", 1, &pin), HC_OK);
	len = pin.len;
	memcpy(rec, pin.data, len);
	backing_pin_release(&pin);
	/* under another key, and under the same key in another family */
	assert_int_equal(backing_put_raw(b, BACKING_PAYLOAD, "b", 1, rec, len), HC_OK);
	expect_corrupt(b, BACKING_PAYLOAD, "b");
	assert_int_equal(backing_put_raw(b, BACKING_KEYSTATE, "a", 1, rec, len), HC_OK);
	expect_corrupt(b, BACKING_KEYSTATE, "a");
	/* relabelled with another key id or format: the header check, then the tag */
	for (cut = 0; cut < len; cut++) {
		assert_int_equal(backing_put_raw(b, BACKING_PAYLOAD, "t", 1, rec, cut), HC_OK);
		expect_corrupt(b, BACKING_PAYLOAD, "t");
	}
	/* appended garbage */
	rec[len] = 0;
	assert_int_equal(backing_put_raw(b, BACKING_PAYLOAD, "a", 1, rec, len + 1), HC_OK);
	expect_corrupt(b, BACKING_PAYLOAD, "a");
	backing_close(b);
	tb_dir_remove(&d);
}

/* Opens the store's RocksDB directly (the way a disk error or an attacker would see it). */
static void raw_flip(const char *path, const char *key, size_t byte)
{
	const char *names[5] = { "default", "payload", "kel", "keystate", "meta" };
	const rocksdb_options_t *opts[5];
	rocksdb_column_family_handle_t *h[5];
	rocksdb_options_t *o = rocksdb_options_create();
	rocksdb_readoptions_t *r = rocksdb_readoptions_create();
	rocksdb_writeoptions_t *w = rocksdb_writeoptions_create();
	char *err = NULL, *v;
	size_t vl;
	rocksdb_t *db;
	int i;

	for (i = 0; i < 5; i++)
		opts[i] = o;
	db = rocksdb_open_column_families(o, path, 5, names, opts, h, &err);
	assert_null(err);
	v = rocksdb_get_cf(db, r, h[1], key, strlen(key), &vl, &err);
	assert_null(err);
	assert_non_null(v);
	assert_true(byte < vl);
	v[byte] ^= 0x01;
	rocksdb_writeoptions_set_sync(w, 1);
	rocksdb_put_cf(db, w, h[1], key, strlen(key), v, vl, &err);
	assert_null(err);
	rocksdb_free(v);
	for (i = 0; i < 5; i++)
		rocksdb_column_family_handle_destroy(h[i]);
	rocksdb_close(db);
	rocksdb_options_destroy(o);
	rocksdb_readoptions_destroy(r);
	rocksdb_writeoptions_destroy(w);
}

static void record_altered_at_rest_through_rocksdb_is_ecorrupt(void **state)
{
	static const size_t where[] = { 0, 1, 2, 25, 26, 29, 30, 45 }; /* header..tag */
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	char key[8];
	size_t i;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o);
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(key, sizeof(key), "r%zu", i);
		assert_int_equal(backing_put(b, BACKING_PAYLOAD, key, strlen(key), "tiny", 4), HC_OK);
	}
	backing_close(b);
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(key, sizeof(key), "r%zu", i);
		raw_flip(d.db, key, where[i]);
	}
	b = open_ok(&o);
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(key, sizeof(key), "r%zu", i);
		expect_corrupt(b, BACKING_PAYLOAD, key);
	}
	backing_close(b);
	tb_dir_remove(&d);
}

/* A family this build does not know (a newer build's) is opened and left alone. */
static void unknown_column_family_is_left_alone(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	rocksdb_options_t *ro;
	rocksdb_t *db;
	rocksdb_column_family_handle_t *h;
	char *err = NULL, buf[8];
	size_t vlen;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	ro = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(ro, 1);
	db = rocksdb_open(ro, d.db, &err);
	assert_null(err);
	h = rocksdb_create_column_family(db, ro, "future", &err);
	assert_null(err);
	rocksdb_column_family_handle_destroy(h);
	rocksdb_close(db);
	rocksdb_options_destroy(ro);
	/* an existing store without a key file: refused, not given a fresh key */
	assert_int_equal(backing_open(&o, &b, NULL, 0), HC_EKEY);
	write_key_file(d.key, 0x55, 32);
	b = open_ok(&o); /* no check value, no records: this key becomes the store's */
	assert_int_equal(backing_flags(b), BACKING_WROTE_KEY_CHECK);
	assert_int_equal(backing_put(b, BACKING_PAYLOAD, "a", 1, "x", 1), HC_OK);
	backing_close(b);
	b = open_ok(&o);
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "a", 1, buf, sizeof(buf), &vlen), HC_OK);
	backing_close(b);
	tb_dir_remove(&d);
}

static int file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	static char data[1 << 22];
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	return memmem(data, n, needle, strlen(needle)) != NULL;
}

static int plaintext_found;

static int scan_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_F && file_contains(p, "TOP-SECRET-PAYLOAD"))
		plaintext_found++;
	return 0;
}

/* Payloads never reach the disk in clear: not in the WAL, not in SST files. */
static void no_plaintext_at_rest(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	char key[16];
	int i;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_SYNC);
	b = open_ok(&o);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(backing_put(b, BACKING_PAYLOAD, key, strlen(key),
		                             "TOP-SECRET-PAYLOAD", 18), HC_OK);
	}
	/* the marker is findable when it is stored raw, so the scan itself works */
	assert_int_equal(backing_put_raw(b, BACKING_KEL, "raw", 3, "TOP-SECRET-PAYLOAD", 18),
	                 HC_OK);
	nftw(d.db, scan_one, 16, FTW_PHYS);
	assert_int_equal(plaintext_found, 1); /* the WAL holds the raw one only */
	assert_int_equal(backing_delete(b, BACKING_KEL, "raw", 3), HC_OK);
	backing_close(b);
	tb_dir_remove(&d);
}

/* RocksDB's memory is sized from the options and reported. */
static void memory_is_sized_from_the_options(void **state)
{
	struct tb_dir d;
	struct backing_opts o;
	struct backing *b;
	struct backing_memory m;
	char key[16], val[200], buf[200];
	size_t vlen;
	int i;

	(void)state;
	tb_dir_make(&d);
	o = tb_opts(&d, HC_DURABILITY_NONE);
	o.block_cache = 1u << 20;
	o.write_buffer = 1u << 20;
	b = open_ok(&o);
	memset(val, 'v', sizeof(val));
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(backing_put(b, BACKING_PAYLOAD, key, strlen(key), val,
		                             sizeof(val)), HC_OK);
	}
	for (i = 0; i < 20000; i += 7) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(backing_get(b, BACKING_PAYLOAD, key, strlen(key), buf, sizeof(buf),
		                             &vlen), HC_OK);
	}
	backing_memory(b, &m);
	print_message("rocksdb memory: memtables %llu, block cache %llu/%llu (pinned %llu), "
	              "table readers %llu\n", (unsigned long long)m.memtables,
	              (unsigned long long)m.block_cache_usage,
	              (unsigned long long)m.block_cache_capacity,
	              (unsigned long long)m.block_cache_pinned,
	              (unsigned long long)m.table_readers);
	assert_int_equal(m.block_cache_capacity, 1u << 20);
	assert_true(m.block_cache_usage <= m.block_cache_capacity + (64u << 10));
	assert_true(m.memtables > 0);
	/* ~5 MB written through 1 MiB of write buffers: memtables were flushed, and what is
	 * held stays within RocksDB's bound of about twice the setting */
	assert_true(m.memtables <= 2u * (1u << 20) + (256u << 10));
	backing_close(b);
	o.block_cache = 0;
	b = open_ok(&o);
	backing_memory(b, &m);
	assert_int_equal(m.block_cache_capacity, 0);
	assert_int_equal(backing_get(b, BACKING_PAYLOAD, "k1", 2, buf, sizeof(buf), &vlen), HC_OK);
	backing_close(b);
	tb_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_store_creates_key_file_0600),
		cmocka_unit_test(precheck_opens_meta_alone_when_meta_decides),
		cmocka_unit_test(roundtrip_every_cf),
		cmocka_unit_test(sizes_and_range),
		cmocka_unit_test(durability_modes_persist_across_reopen),
		cmocka_unit_test(wrong_key_file_is_ekey_at_open),
		cmocka_unit_test(missing_key_file_for_existing_store),
		cmocka_unit_test(bad_key_files),
		cmocka_unit_test(no_check_value_is_decided_by_first_record),
		cmocka_unit_test(store_held_by_another_handle_is_ebusy),
		cmocka_unit_test(batch_commits_all_at_once),
		cmocka_unit_test(bad_arguments_are_einval),
		cmocka_unit_test(seal_is_pure_and_randomised),
		cmocka_unit_test(nonces_never_repeat_across_seals_threads_and_fork),
		cmocka_unit_test(every_single_bit_flip_is_ecorrupt),
		cmocka_unit_test(moved_and_truncated_records_are_ecorrupt),
		cmocka_unit_test(record_altered_at_rest_through_rocksdb_is_ecorrupt),
		cmocka_unit_test(unknown_column_family_is_left_alone),
		cmocka_unit_test(no_plaintext_at_rest),
		cmocka_unit_test(memory_is_sized_from_the_options),
	};

	return cmocka_run_group_tests_name("backing", tests, NULL, NULL);
}
