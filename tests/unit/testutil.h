/*
 * Setup shared by the cmocka tests: a cache-only cache; a RocksDB-backed cache in a
 * scratch directory (test_kel, test_oom): the directory as the group's setup and
 * teardown, and hc_open over it; stats, a clock and a generator. Header-only (static
 * functions), so a test needs no extra source.
 *
 * Test-only; main thread (cmocka's setup, teardown and test bodies).
 */
#ifndef HC_TESTS_UNIT_TESTUTIL_H
#define HC_TESTS_UNIT_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "hotcache.h"

/* Creates dir as /tmp/<name>-XXXXXX. Returns 0, or -1 (a cmocka group setup's result). */
static inline int testutil_dir_make(char *dir, size_t cap, const char *name)
{
	snprintf(dir, cap, "/tmp/%s-XXXXXX", name);
	return mkdtemp(dir) ? 0 : -1;
}

/* Removes dir and everything in it. Returns 0, or -1 (a group teardown's result). */
static inline int testutil_dir_remove(const char *dir)
{
	char cmd[1100];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * A scratch directory for each test of a group: pass testutil_setup and
 * testutil_teardown to cmocka_unit_test_setup_teardown; the test finds the directory's
 * path in testutil_dir. (unused: not every test including this header has a group.)
 */
static char testutil_dir[256] __attribute__((unused));

static inline int testutil_setup(void **state)
{
	(void)state;
	return testutil_dir_make(testutil_dir, sizeof testutil_dir, "hc-test");
}

static inline int testutil_teardown(void **state)
{
	(void)state;
	return testutil_dir_remove(testutil_dir);
}

/* Opens a cache over the RocksDB store <dir>/db (created if missing) with the given
 * backing.durability, memory limit and 64 KiB entries; fails the test if it cannot. */
static inline hc_cache *testutil_open_rocks(const char *dir, const char *durability,
                                            uint64_t memory_limit)
{
	struct hc_config cfg;
	hc_config_default(&cfg);
	char err[256], path[1100];
	snprintf(path, sizeof(path), "%s/db", dir);
	assert_int_equal(hc_config_set(&cfg, "backing.mode", "rocksdb", err, sizeof(err)), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.path", path, err, sizeof(err)), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.durability", durability, err,
	                               sizeof(err)), 0);
	cfg.memory_limit = memory_limit;
	cfg.max_entry = 64u << 10;
	hc_cache *c = NULL;
	int rc = hc_open(&cfg, &c);
	if (rc != 0)
		fail_msg("hc_open: %s: %s", hc_strerror(rc), hc_last_error());
	return c;
}

/* Opens a cache-only cache; fails the test if it cannot. */
/* One KERI message through hc_kel_append; its return code. */
static inline int testutil_kel_append(hc_cache *c, const void *msg, size_t len)
{
	size_t consumed;
	return hc_kel_append(c, msg, len, &consumed);
}

/* Fails the running test unless rc_ is want, with the line, both codes and the
 * library's last sentence. */
#define testutil_expect(rc_, want)                                                        \
	do {                                                                              \
		int r_ = (rc_);                                                           \
		if (r_ != (want))                                                         \
			fail_msg("line %d: %s: expected %d, got %d (%s): %s", __LINE__, #rc_,  \
			         (want), r_, hc_strerror(r_), hc_last_error());           \
	} while (0)

/* A cache-only cache; expected sets cache.expected_entries (0: the default). */
static inline hc_cache *testutil_open_mem_expecting(uint64_t limit, uint32_t shards,
                                                    uint64_t max_entry, uint64_t expected)
{
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = limit;
	cfg.shards = shards;
	cfg.max_entry = max_entry;
	cfg.expected_entries = expected;
	hc_cache *c = NULL;
	int rc = hc_open(&cfg, &c);
	if (rc != 0)
		fail_msg("hc_open: %s: %s", hc_strerror(rc), hc_last_error());
	return c;
}

static inline hc_cache *testutil_open_mem(uint64_t limit, uint32_t shards, uint64_t max_entry)
{
	return testutil_open_mem_expecting(limit, shards, max_entry, 0);
}

static inline struct hc_stats testutil_stats(hc_cache *c)
{
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	return st;
}

static inline uint64_t testutil_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64: a test's cheap, seeded, reproducible generator. */
static inline uint64_t testutil_xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

#endif
