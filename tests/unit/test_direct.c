/*
 * The store without the cache (issue 12: what `hotcache load` needs, an embedder needs
 * too): hc_store_get, hc_store_property, hc_checkpoint, and hc_parse_size. Public header
 * only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "hotcache.h"
#include "tests/unit/testutil.h"

static char dir[256];
static char db[300], keyf[300], copy[300];

static int setup(void **state)
{
	(void)state;
	if (testutil_dir_make(dir, sizeof(dir), "hc-direct") != 0)
		return -1;
	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(keyf, sizeof(keyf), "%s/key", dir);
	snprintf(copy, sizeof(copy), "%s/copy", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return testutil_dir_remove(dir);
}

static hc_cache *open_at(const char *path)
{
	struct hc_config cfg;
	char err[256];
	hc_config_default(&cfg);
	assert_int_equal(hc_config_set(&cfg, "backing.mode", "rocksdb", err, sizeof(err)), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.path", path, err, sizeof(err)), 0);
	assert_int_equal(hc_config_set(&cfg, "crypto.key_file", keyf, err, sizeof(err)), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.durability", "wal", err, sizeof(err)), 0);
	cfg.memory_limit = 16u << 20;
	cfg.max_entry = 64u << 10;
	hc_cache *c = NULL;
	if (hc_open(&cfg, &c) != 0)
		fail_msg("hc_open %s: %s", path, hc_last_error());
	return c;
}

static void parse_size_takes_the_configs_units(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(hc_parse_size("64 MiB", &v), 0);
	assert_int_equal(v, 64u << 20);
	assert_int_equal(hc_parse_size("1.5 KiB", &v), 0);
	assert_int_equal(v, 1536);
	assert_int_equal(hc_parse_size(" 4096 ", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(hc_parse_size("2gib", &v), 0);
	assert_int_equal(v, UINT64_C(2) << 30);
	v = 7;
	assert_int_equal(hc_parse_size("2k", &v), HC_EINVAL);
	assert_int_equal(hc_parse_size("1KB", &v), HC_EINVAL);
	assert_int_equal(hc_parse_size("1.3 B", &v), HC_EINVAL);
	assert_int_equal(hc_parse_size("", &v), HC_EINVAL);
	assert_int_equal(hc_parse_size("-1", &v), HC_EINVAL);
	assert_int_equal(v, 7);
}

static void store_get_reads_the_store_and_leaves_the_cache_alone(void **state)
{
	(void)state;
	hc_cache *c = open_at(db);
	char buf[16];
	size_t n = 0;
	assert_int_equal(hc_put(c, "k", 1, "value", 5), 0);
	struct hc_stats before, after;
	assert_int_equal(hc_stats(c, &before), 0);
	assert_int_equal(hc_store_get(c, "k", 1, buf, 2, &n), HC_ERANGE);
	assert_int_equal(n, 5);
	assert_int_equal(hc_store_get(c, "k", 1, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "value", 5);
	assert_int_equal(hc_store_get(c, "absent", 6, buf, sizeof(buf), &n), HC_ENOTFOUND);
	assert_int_equal(hc_store_get(c, "k", 0, buf, sizeof(buf), &n), HC_EINVAL);
	assert_int_equal(hc_stats(c, &after), 0);
	assert_int_equal(after.hits, before.hits);
	assert_int_equal(after.misses, before.misses);
	assert_int_equal(after.loads, before.loads);
	hc_close(c);

	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	assert_int_equal(hc_open(&cfg, &c), 0);
	assert_int_equal(hc_store_get(c, "k", 1, buf, sizeof(buf), &n), HC_ENOTSUP);
	assert_int_equal(hc_store_property(c, "rocksdb.stats", buf, sizeof(buf), &n), HC_ENOTSUP);
	assert_int_equal(hc_checkpoint(c, copy, NULL), HC_ENOTSUP);
	hc_close(c);
}

static void store_property_is_rocksdbs_text(void **state)
{
	(void)state;
	hc_cache *c = open_at(db);
	char buf[64];
	size_t n = 0;
	assert_int_equal(hc_store_property(c, "rocksdb.num-running-flushes", buf, sizeof(buf), &n),
	                 0);
	assert_int_equal(strlen(buf), n);
	assert_true(n >= 1 && strspn(buf, "0123456789") == n);
	assert_int_equal(hc_store_property(c, "rocksdb.dbstats", buf, 4, &n), HC_ERANGE);
	assert_true(n > 4);
	assert_int_equal(hc_store_property(c, "rocksdb.no-such-property", buf, sizeof(buf), &n),
	                 HC_ENOTFOUND);
	hc_close(c);
}

/* A checkpoint opens as a store of its own, as of the checkpoint; later writes stay out. */
static void checkpoint_is_a_consistent_copy(void **state)
{
	(void)state;
	hc_cache *c = open_at(db);
	assert_int_equal(hc_put(c, "before", 6, "one", 3), 0);
	assert_int_equal(hc_checkpoint(c, copy, NULL), 0);
	assert_int_equal(hc_put(c, "after", 5, "two", 3), 0);
	assert_int_equal(hc_checkpoint(c, copy, NULL), HC_EEXIST); /* it exists now */
	hc_close(c);

	c = open_at(copy);
	char buf[8];
	size_t n = 0;
	assert_int_equal(hc_get(c, "before", 6, buf, sizeof(buf), &n), 0);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(hc_get(c, "after", 5, buf, sizeof(buf), &n), HC_ENOTFOUND);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_size_takes_the_configs_units),
		cmocka_unit_test_setup_teardown(store_get_reads_the_store_and_leaves_the_cache_alone,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(store_property_is_rocksdbs_text, setup, teardown),
		cmocka_unit_test_setup_teardown(checkpoint_is_a_consistent_copy, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
