/*
 * Bad data at rest, seen through the cache (hc_get / hc_read over backing.mode = rocksdb).
 *
 * Records are written with hc_put, the cache is closed, the records are damaged through
 * a raw backing handle (backing_open of the same path and key file, backing_get_raw of
 * the sealed record, backing_put_raw of the damaged bytes), and the cache is opened
 * again. For every damaged record: hc_get and hc_read are HC_ECORRUPT, no byte reaches
 * the caller's buffer (it keeps its sentinel) or callback, stats.corrupt counts every
 * failed open, and a second read is HC_ECORRUPT again (nothing was cached). Damage
 * covers every bit of every byte of a record (header, nonce, ciphertext, tag), a valid
 * record moved under another key, truncations at every boundary of the layout and an
 * appended byte. A wrong key file is HC_EKEY at hc_open, with a sentence naming it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/test_backing_util.h"

enum { VLEN = 37 };                   /* plaintext bytes of every damaged record */
#define RECLEN (VLEN + BACKING_SEAL_OVERHEAD) /* 79: 26 header + 37 + 16 tag */
#define SENTINEL 0xEE

static hc_cache *open_cache(const struct tb_dir *d, const char *key_file, int expect)
{
	struct hc_config cfg;
	hc_cache *c = NULL;
	int rc;

	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_ROCKSDB;
	snprintf(cfg.backing_path, sizeof(cfg.backing_path), "%s", d->db);
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s", key_file);
	cfg.durability = HC_DURABILITY_WAL;
	cfg.memory_limit = 16u << 20;
	cfg.max_entry = 64u << 10;
	cfg.block_cache = 1u << 20;
	cfg.write_buffer = 1u << 20;
	rc = hc_open(&cfg, &c);
	if (rc != expect)
		fail_msg("hc_open: expected %d, got %s: %s", expect, hc_strerror(rc),
		         hc_last_error());
	return c;
}

static struct backing *open_raw(const struct tb_dir *d)
{
	struct backing_opts o = tb_opts(d, HC_DURABILITY_WAL);
	struct backing *b = NULL;
	char err[512] = "";

	o.create_if_missing = 0;
	if (backing_open(&o, &b, err, sizeof(err)) != HC_OK)
		fail_msg("backing_open: %s", err);
	return b;
}

static void value_of(int i, unsigned char *v, size_t n)
{
	for (size_t j = 0; j < n; j++)
		v[j] = (unsigned char)(i * 31 + (int)j * 7 + 1);
}

static void key_of(int i, char *k, size_t cap)
{
	snprintf(k, cap, "rec-%04d", i);
}

/* The sealed record of key, copied out of a raw handle. */
static size_t raw_record(struct backing *b, const char *key, unsigned char *out, size_t cap)
{
	struct backing_pin pin;
	size_t n;

	assert_int_equal(backing_get_raw(b, BACKING_PAYLOAD, key, strlen(key), &pin), HC_OK);
	n = pin.len;
	assert_true(n <= cap);
	memcpy(out, pin.data, n);
	backing_pin_release(&pin);
	return n;
}

static void put_raw(struct backing *b, const char *key, const void *rec, size_t n)
{
	assert_int_equal(backing_put_raw(b, BACKING_PAYLOAD, key, strlen(key), rec, n), HC_OK);
}

static uint64_t corrupt_count(hc_cache *c)
{
	struct hc_stats s;

	assert_int_equal(hc_stats(c, &s), 0);
	return s.corrupt;
}

static void must_not_be_called(const void *val, size_t vlen, void *arg)
{
	(void)val;
	(void)vlen;
	(void)arg;
	fail_msg("hc_read served bytes of a corrupt record");
}

/*
 * key's record is damaged: hc_get twice and hc_read once, each HC_ECORRUPT with nothing
 * served and one more corrupt event counted each; the key has no entry afterwards.
 */
static void expect_corrupt(hc_cache *c, const char *key)
{
	unsigned char buf[VLEN + 64];
	size_t vlen;
	uint64_t before = corrupt_count(c);

	for (int pass = 0; pass < 2; pass++) {
		memset(buf, SENTINEL, sizeof(buf));
		vlen = 12345;
		int rc = hc_get(c, key, strlen(key), buf, sizeof(buf), &vlen);
		if (rc != HC_ECORRUPT)
			fail_msg("%s (pass %d): expected HC_ECORRUPT, got %s", key, pass,
			         hc_strerror(rc));
		for (size_t j = 0; j < sizeof(buf); j++)
			assert_int_equal(buf[j], SENTINEL);
		assert_int_equal(corrupt_count(c), before + 1 + (uint64_t)pass);
	}
	assert_int_equal(hc_read(c, key, strlen(key), must_not_be_called, NULL), HC_ECORRUPT);
	assert_int_equal(corrupt_count(c), before + 3);
}

static void expect_stored(hc_cache *c, const char *key, const unsigned char *want, size_t n)
{
	unsigned char buf[VLEN + 64];
	size_t vlen = 0;

	assert_int_equal(hc_get(c, key, strlen(key), buf, sizeof(buf), &vlen), HC_OK);
	assert_int_equal(vlen, n);
	assert_memory_equal(buf, want, n);
}

static uint64_t entries(hc_cache *c)
{
	struct hc_stats s;

	assert_int_equal(hc_stats(c, &s), 0);
	return s.entries;
}

/*
 * Every bit of every byte of a sealed record, one flip per record (RECLEN * 8 records):
 * the format byte, the key id, the 24 nonce bytes, the ciphertext and the 16 tag bytes.
 */
static void every_single_bit_flip_is_ecorrupt_and_never_cached(void **state)
{
	struct tb_dir d;
	unsigned char v[VLEN], rec[RECLEN + 8];
	char key[32];
	hc_cache *c;
	struct backing *b;
	int n = RECLEN * 8;

	(void)state;
	tb_dir_make(&d);
	c = open_cache(&d, d.key, 0);
	for (int i = 0; i < n; i++) {
		key_of(i, key, sizeof(key));
		value_of(i, v, VLEN);
		assert_int_equal(hc_put(c, key, strlen(key), v, VLEN), 0);
	}
	assert_int_equal(hc_put(c, "intact", 6, "still here", 10), 0);
	hc_close(c);

	b = open_raw(&d);
	for (int i = 0; i < n; i++) {
		key_of(i, key, sizeof(key));
		assert_int_equal(raw_record(b, key, rec, sizeof(rec)), RECLEN);
		rec[i / 8] ^= (unsigned char)(1u << (i % 8));
		put_raw(b, key, rec, RECLEN);
	}
	backing_close(b);

	c = open_cache(&d, d.key, 0);
	for (int i = 0; i < n; i++) {
		key_of(i, key, sizeof(key));
		expect_corrupt(c, key);
	}
	assert_int_equal(corrupt_count(c), (uint64_t)n * 3);
	assert_int_equal(entries(c), 0); /* nothing from a damaged record was installed */
	/* an undamaged neighbour still loads, and is cached */
	expect_stored(c, "intact", (const unsigned char *)"still here", 10);
	assert_int_equal(entries(c), 1);
	print_message("%d single-bit flips over %u header, %d ciphertext and %u tag bytes: all "
	              "HC_ECORRUPT, %llu corrupt events counted\n", n, BACKING_HEADER_BYTES,
	              VLEN, BACKING_TAG_BYTES, (unsigned long long)corrupt_count(c));
	hc_close(c);
	tb_dir_remove(&d);
}

/* A record that opens under its own key, moved under another key (same length), fails
 * to open there: the key is bound into the associated data. The original still opens. */
static void record_moved_under_another_key_is_ecorrupt(void **state)
{
	struct tb_dir d;
	unsigned char va[VLEN], vb[VLEN], rec[RECLEN + 8];
	hc_cache *c;
	struct backing *b;
	size_t n;

	(void)state;
	tb_dir_make(&d);
	c = open_cache(&d, d.key, 0);
	value_of(1, va, VLEN);
	value_of(2, vb, VLEN);
	assert_int_equal(hc_put(c, "key-a", 5, va, VLEN), 0);
	assert_int_equal(hc_put(c, "key-b", 5, vb, VLEN), 0);
	hc_close(c);

	b = open_raw(&d);
	n = raw_record(b, "key-a", rec, sizeof(rec));
	put_raw(b, "key-b", rec, n);          /* a's record under b */
	put_raw(b, "key-c", rec, n);          /* and under a key that never had a value */
	backing_close(b);

	c = open_cache(&d, d.key, 0);
	expect_corrupt(c, "key-b");
	expect_corrupt(c, "key-c");
	expect_stored(c, "key-a", va, VLEN);
	hc_close(c);
	tb_dir_remove(&d);
}

/* Truncations at every boundary of the layout, and one byte appended. */
static void truncated_or_extended_record_is_ecorrupt(void **state)
{
	static const size_t cuts[] = {0, 1, 2, BACKING_HEADER_BYTES - 1, BACKING_HEADER_BYTES,
	                              BACKING_SEAL_OVERHEAD - 1, BACKING_SEAL_OVERHEAD,
	                              BACKING_SEAL_OVERHEAD + 1, RECLEN - BACKING_TAG_BYTES,
	                              RECLEN - 1};
	enum { NCUTS = sizeof(cuts) / sizeof(cuts[0]) };
	struct tb_dir d;
	unsigned char v[VLEN], rec[RECLEN + 8];
	char key[32];
	hc_cache *c;
	struct backing *b;

	(void)state;
	tb_dir_make(&d);
	c = open_cache(&d, d.key, 0);
	for (int i = 0; i <= NCUTS; i++) {
		key_of(i, key, sizeof(key));
		value_of(i, v, VLEN);
		assert_int_equal(hc_put(c, key, strlen(key), v, VLEN), 0);
	}
	hc_close(c);

	b = open_raw(&d);
	for (int i = 0; i <= NCUTS; i++) {
		key_of(i, key, sizeof(key));
		assert_int_equal(raw_record(b, key, rec, sizeof(rec)), RECLEN);
		if (i < NCUTS) {
			put_raw(b, key, rec, cuts[i]);
		} else {
			rec[RECLEN] = 0;
			put_raw(b, key, rec, RECLEN + 1);
		}
	}
	backing_close(b);

	c = open_cache(&d, d.key, 0);
	for (int i = 0; i <= NCUTS; i++) {
		key_of(i, key, sizeof(key));
		expect_corrupt(c, key);
	}
	assert_int_equal(entries(c), 0);
	hc_close(c);
	tb_dir_remove(&d);
}

/* Another 32-byte key file: HC_EKEY at hc_open (not per-record corruption), with a
 * sentence that names the key file; the right key still opens and reads. */
static void wrong_key_file_is_ekey_at_open_naming_the_file(void **state)
{
	struct tb_dir d;
	char other[320];
	unsigned char raw[32];
	FILE *f;
	hc_cache *c;

	(void)state;
	tb_dir_make(&d);
	c = open_cache(&d, d.key, 0);
	assert_int_equal(hc_put(c, "k", 1, "value", 5), 0);
	hc_close(c);

	snprintf(other, sizeof(other), "%s/other.key", d.root);
	f = fopen(other, "wb");
	assert_non_null(f);
	memset(raw, 0x5a, sizeof(raw));
	assert_int_equal(fwrite(raw, 1, sizeof(raw), f), sizeof(raw));
	fclose(f);
	assert_int_equal(chmod(other, 0600), 0); /* group/others access is refused first */
	assert_null(open_cache(&d, other, HC_EKEY));
	print_message("hc_open with another key file: %s\n", hc_last_error());
	assert_non_null(strstr(hc_last_error(), other));
	assert_non_null(strstr(hc_last_error(), "does not match"));

	c = open_cache(&d, d.key, 0);
	expect_stored(c, "k", (const unsigned char *)"value", 5);
	assert_int_equal(corrupt_count(c), 0);
	hc_close(c);
	tb_dir_remove(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_single_bit_flip_is_ecorrupt_and_never_cached),
		cmocka_unit_test(record_moved_under_another_key_is_ecorrupt),
		cmocka_unit_test(truncated_or_extended_record_is_ecorrupt),
		cmocka_unit_test(wrong_key_file_is_ekey_at_open_naming_the_file),
	};

	return cmocka_run_group_tests_name("cache_corrupt", tests, NULL, NULL);
}
