/*
 * test_abi: callers compiled against another hotcache.h keep working (hotcache.h, ABI).
 *
 * struct hc_config_0_2 and friends below are frozen copies of the first sized layout
 * (0.2.0 development; hc_config has grown since, e.g. log_fn): never edit them. Each is used
 * from a heap block of exactly its size, so that ASan (and the guard bytes in release
 * builds) catch the library writing past an older caller's struct; the static asserts
 * catch a field of the current header moved or retyped. A "newer" caller is emulated
 * by a block larger than the library's struct.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hotcache.h"
#include "tests/unit/vectors.h"

/* ---- the 0.2.0 layouts (frozen) ---- */
struct hc_config_0_2 {
	uint32_t size;
	uint64_t memory_limit;
	uint32_t shards;
	uint64_t max_entry;
	uint64_t expected_entries;
	int backing_mode;
	char backing_path[1024];
	int durability;
	uint64_t block_cache;
	uint64_t write_buffer;
	int create_if_missing;
	char key_file[1024];
};

struct hc_stats_0_2 {
	uint32_t size;
	uint64_t hits, misses, inserts, evictions, deletes, not_cached, loads, load_waits;
	uint64_t corrupt, entries, accounted_bytes, retired_bytes, metadata_bytes;
	uint64_t memory_limit, slack_bytes;
	uint32_t shards;
};

struct hc_keystate_0_2 {
	uint32_t size;
	char prefix[45];
	uint64_t sn;
	char said[45];
	char prior[45];
	char ilk[4];
	char dt[40];
	char kt[834], nt[834];
	uint32_t nkeys, nnext, nwits;
	char keys[32][45];
	char next[32][45];
	uint32_t bt;
	char wits[32][45];
	uint64_t est_sn;
	char est_said[45];
};

#define SAME(old, cur, f)                                                              \
	_Static_assert(offsetof(struct old, f) == offsetof(struct cur, f) &&              \
	               sizeof(((struct old *)0)->f) == sizeof(((struct cur *)0)->f),      \
	               #cur "." #f " moved or changed size since 0.2.0")
SAME(hc_config_0_2, hc_config, size);
SAME(hc_config_0_2, hc_config, memory_limit);
SAME(hc_config_0_2, hc_config, shards);
SAME(hc_config_0_2, hc_config, max_entry);
SAME(hc_config_0_2, hc_config, expected_entries);
SAME(hc_config_0_2, hc_config, backing_mode);
SAME(hc_config_0_2, hc_config, backing_path);
SAME(hc_config_0_2, hc_config, durability);
SAME(hc_config_0_2, hc_config, block_cache);
SAME(hc_config_0_2, hc_config, write_buffer);
SAME(hc_config_0_2, hc_config, create_if_missing);
SAME(hc_config_0_2, hc_config, key_file);
SAME(hc_stats_0_2, hc_stats, hits);
SAME(hc_stats_0_2, hc_stats, accounted_bytes);
SAME(hc_stats_0_2, hc_stats, memory_limit);
SAME(hc_stats_0_2, hc_stats, shards);
SAME(hc_keystate_0_2, hc_keystate, size);
SAME(hc_keystate_0_2, hc_keystate, prefix);
SAME(hc_keystate_0_2, hc_keystate, sn);
SAME(hc_keystate_0_2, hc_keystate, said);
SAME(hc_keystate_0_2, hc_keystate, prior);
SAME(hc_keystate_0_2, hc_keystate, ilk);
SAME(hc_keystate_0_2, hc_keystate, dt);
SAME(hc_keystate_0_2, hc_keystate, kt);
SAME(hc_keystate_0_2, hc_keystate, nt);
SAME(hc_keystate_0_2, hc_keystate, nkeys);
SAME(hc_keystate_0_2, hc_keystate, keys);
SAME(hc_keystate_0_2, hc_keystate, next);
SAME(hc_keystate_0_2, hc_keystate, bt);
SAME(hc_keystate_0_2, hc_keystate, wits);
SAME(hc_keystate_0_2, hc_keystate, est_sn);
SAME(hc_keystate_0_2, hc_keystate, est_said);
_Static_assert(offsetof(struct hc_keystate, di) >= sizeof(struct hc_keystate_0_2),
               "hc_keystate.di starts inside the first layout");
_Static_assert(sizeof(struct hc_keystate_0_2) == 6264, "the 0.2.0 hc_keystate is 6264 bytes");
_Static_assert(sizeof(struct hc_config) >= sizeof(struct hc_config_0_2), "shrank");
_Static_assert(sizeof(struct hc_stats) >= sizeof(struct hc_stats_0_2), "shrank");

#define GUARD 64
#define POISON 0xA5

/* A block of n bytes followed by GUARD poisoned bytes. */
static void *block(size_t n)
{
	unsigned char *p = malloc(n + GUARD);
	assert_non_null(p);
	memset(p, POISON, n + GUARD);
	return p;
}

static void guard_intact(const void *p, size_t n)
{
	const unsigned char *g = (const unsigned char *)p + n;
	for (size_t i = 0; i < GUARD; i++)
		assert_int_equal(g[i], POISON);
}

/* A caller with the first sized layout: default, set, open a new store (which has
 * something to log), put, get and stats through its own struct sizes. The library
 * writes nothing past them (guard bytes) and reads nothing past them either: the guard
 * bytes lie where log_fn is now, and a poisoned log_fn would be called. */
static void caller_0_2_opens_and_reads_stats(void **state)
{
	(void)state;
	char err[256];
	struct hc_config_0_2 *old = block(sizeof *old);
	struct hc_config *cfg = (struct hc_config *)old;
	assert_int_equal(hc_config_default_sized(cfg, sizeof *old), 0);
	guard_intact(old, sizeof *old);
	assert_int_equal(old->size, sizeof *old);
	assert_int_equal(old->memory_limit, 256u << 20);
	char dir[] = "/tmp/hc-abi-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/db", dir);
	assert_int_equal(hc_config_set(cfg, "backing.path", path, err, sizeof err), 0);
	assert_int_equal(hc_config_set(cfg, "backing.durability", "none", err, sizeof err), 0);
	assert_int_equal(hc_config_set(cfg, "cache.memory_limit", "8 MiB", err, sizeof err), 0);
	assert_int_equal(old->memory_limit, 8u << 20);
	guard_intact(old, sizeof *old);

	hc_cache *c = NULL;
	assert_int_equal(hc_open(cfg, &c), 0);
	assert_int_equal(hc_put(c, "k", 1, "v", 1), 0);
	char v;
	size_t vl;
	assert_int_equal(hc_get(c, "k", 1, &v, 1, &vl), 0);

	struct hc_stats_0_2 *st = block(sizeof *st);
	assert_int_equal(hc_stats_sized(c, (struct hc_stats *)st, sizeof *st), 0);
	guard_intact(st, sizeof *st);
	assert_int_equal(st->size, sizeof *st);
	assert_int_equal(st->hits, 1);
	assert_int_equal(st->memory_limit, 8u << 20);
	hc_close(c);
	free(st);
	free(old);
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Keys the library knows but an older caller's struct cannot hold are refused by name,
 * and the struct is left as it was. */
static void key_beyond_callers_struct_is_refused(void **state)
{
	(void)state;
	char err[256];
	/* A caller whose struct ends right after write_buffer: older than any release,
	 * but it exercises the rule for every key that lies past a caller's end. */
	size_t size = offsetof(struct hc_config, create_if_missing);
	struct hc_config *cfg = block(size);
	/* Sizes below 0.2.0's are refused outright. */
	assert_int_equal(hc_config_default_sized(cfg, size), HC_EINVAL);
	free(cfg);

	struct hc_config_0_2 *old = block(sizeof *old);
	assert_int_equal(hc_config_default_sized((struct hc_config *)old, sizeof *old), 0);
	/* Every key hotcache has today that 0.2.0 lacked must be refused with its name;
	 * 0.2.0's own keys must all be accepted. */
	const char *v02[] = {"cache.memory_limit=2 MiB", "cache.shards=2", "cache.max_entry=64 KiB",
	                     "cache.expected_entries=10", "backing.mode=none",
	                     "backing.path=/tmp/x", "backing.durability=wal",
	                     "backing.block_cache=1 MiB", "backing.write_buffer=2 MiB",
	                     "backing.create=false", "crypto.key_file=/tmp/k"};
	for (size_t i = 0; i < sizeof v02 / sizeof v02[0]; i++) {
		char k[64];
		const char *eq = strchr(v02[i], '=');
		snprintf(k, sizeof k, "%.*s", (int)(eq - v02[i]), v02[i]);
		if (hc_config_set((struct hc_config *)old, k, eq + 1, err, sizeof err) != 0)
			fail_msg("0.2.0 key %s refused: %s", k, err);
	}
	/* Keys added after the first sized layout: refused by name, struct untouched. */
	const char *newer[] = {"backing.open", "backing.log_level", "backing.log_dir",
	                       "crypto.key_file_permissive"};
	const char *val[] = {"read_only", "warn", "/tmp", "true"};
	for (size_t i = 0; i < sizeof newer / sizeof newer[0]; i++) {
		struct hc_config_0_2 before = *old;
		assert_int_equal(hc_config_set((struct hc_config *)old, newer[i], val[i], err,
		                               sizeof err), HC_ECONFIG);
		if (strstr(err, newer[i]) == NULL || strstr(err, "predates") == NULL)
			fail_msg("%s: unclear refusal: %s", newer[i], err);
		assert_memory_equal(&before, old, sizeof before);
		/* The same key in a file is refused the same way, with its line. */
		char path[] = "/tmp/hc-abi-ini-XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		char ini[128];
		const char *dot = strchr(newer[i], '.');
		int n = snprintf(ini, sizeof ini, "[%.*s]\n%s = %s\n", (int)(dot - newer[i]),
		                 newer[i], dot + 1, val[i]);
		assert_int_equal(write(fd, ini, (size_t)n), n);
		close(fd);
		assert_int_equal(hc_config_load((struct hc_config *)old, path, err, sizeof err),
		                 HC_ECONFIG);
		unlink(path);
		assert_non_null(strstr(err, ":2:"));
		assert_memory_equal(&before, old, sizeof before);
	}
	guard_intact(old, sizeof *old);
	free(old);
}

/* keripy's delegation vector: a caller with the 0.2.0 hc_keystate (no di) gets every
 * field it has and nothing past it; a current caller gets di. */
static void keystate_0_2_caller_gets_no_di(void **state)
{
	(void)state;
	static unsigned char vec[4096];
	size_t n = vectors_read("16_delegation_bob_del.cesr", vec, sizeof(vec));
	char dir[] = "/tmp/hc-abi-XXXXXX", path[64], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/db", dir);
	struct hc_config cfg;
	assert_int_equal(hc_config_default(&cfg), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.path", path, err, sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.durability", "none", err, sizeof err), 0);
	hc_cache *c = NULL;
	assert_int_equal(hc_open(&cfg, &c), 0);
	struct hc_kel_report r = {0};
	assert_int_equal(hc_kel_import(c, vec, n, &r), 0);
	const char *del = "EHng2fV42DdKb5TLMIs6bbjFkPNmIdQ5mSFn6BTnySJj";
	struct hc_keystate_0_2 *old = block(sizeof *old);
	assert_int_equal(hc_keystate_get_sized(c, del, (struct hc_keystate *)old, sizeof *old), 0);
	guard_intact(old, sizeof *old);
	assert_int_equal(old->size, sizeof *old);
	assert_int_equal(old->sn, 1);
	assert_string_equal(old->ilk, "drt");
	assert_string_equal(old->est_said, "EM5fj7YtOQYH3iLyWJr6HZVVxrY5t46LRL2vkNpdnPi0");
	struct hc_keystate *cur = block(sizeof *cur);
	assert_int_equal(hc_keystate_get(c, del, cur), 0);
	guard_intact(cur, sizeof *cur);
	assert_int_equal(cur->size, sizeof *cur);
	assert_string_equal(cur->di, "EA_SbBUZYwqLVlAAn14d6QUBQCSReJlZ755JqTgmRhXH");
	assert_memory_equal(cur->reserved0, "\0\0\0", 3);
	hc_close(c);
	free(old);
	free(cur);
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A caller compiled against a newer header: unknown trailing bytes at zero are fine,
 * a non-zero one is HC_ENOTSUP (never silently ignored); stats zero the tail. */
static void newer_caller_with_unknown_fields(void **state)
{
	(void)state;
	char err[256];
	size_t size = sizeof(struct hc_config) + 32;
	unsigned char *raw = block(size);
	struct hc_config *cfg = (struct hc_config *)raw;
	assert_int_equal(hc_config_default_sized(cfg, size), 0);
	assert_int_equal(cfg->size, size);
	for (size_t i = sizeof(struct hc_config); i < size; i++)
		assert_int_equal(raw[i], 0);
	assert_int_equal(hc_config_set(cfg, "backing.mode", "none", err, sizeof err), 0);
	assert_int_equal(hc_config_set(cfg, "cache.memory_limit", "4 MiB", err, sizeof err), 0);
	hc_cache *c = NULL;
	assert_int_equal(hc_open(cfg, &c), 0);

	size_t ssize = sizeof(struct hc_stats) + 16;
	unsigned char *sraw = block(ssize);
	assert_int_equal(hc_stats_sized(c, (struct hc_stats *)sraw, ssize), 0);
	guard_intact(sraw, ssize);
	assert_int_equal(((struct hc_stats *)sraw)->size, sizeof(struct hc_stats));
	for (size_t i = sizeof(struct hc_stats); i < ssize; i++)
		assert_int_equal(sraw[i], 0);
	hc_close(c);

	raw[size - 1] = 1; /* a field this library does not know */
	c = NULL;
	assert_int_equal(hc_open(cfg, &c), HC_ENOTSUP);
	assert_null(c);
	assert_non_null(strstr(hc_last_error(), "newer"));
	free(sraw);
	free(raw);
}

/* A struct nobody initialised (size garbage or zero) is refused, not misread. */
static void uninitialised_struct_is_refused(void **state)
{
	(void)state;
	struct hc_config cfg;
	memset(&cfg, 0, sizeof cfg);
	hc_cache *c = (hc_cache *)&cfg;
	assert_int_equal(hc_open(&cfg, &c), HC_EINVAL);
	assert_null(c);
	cfg.size = 0xffffffffu;
	char err[128];
	assert_int_equal(hc_config_set(&cfg, "cache.shards", "2", err, sizeof err), HC_EINVAL);
	assert_int_equal(hc_config_default_sized(NULL, sizeof cfg), HC_EINVAL);

	assert_int_equal(hc_config_default(&cfg), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.mode", "none", err, sizeof err), 0);
	assert_int_equal(hc_open(&cfg, &c), 0);
	struct hc_stats st;
	assert_int_equal(hc_stats_sized(c, &st, 3), HC_EINVAL);
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.size, sizeof st);
	hc_close(c);
}

/* A size that ends inside one of struct hc_config's fields is no header's: refused by
 * hc_config_default_sized and by hc_open (a caller setting size itself), so the library
 * never joins half a caller's field to half a default. Seen failing before the check:
 * all three sizes were accepted, and with 4 bytes into log_fn, hc_open of a store
 * called a pointer made of half the caller's and half NULL (SEGV). Every field end a
 * header could declare is accepted. */
static void size_inside_a_field_is_refused(void **state)
{
	(void)state;
	const size_t bad[] = {sizeof(struct hc_config) - 1, sizeof(struct hc_config) + 1,
	                      offsetof(struct hc_config, log_fn) + 4,
	                      offsetof(struct hc_config, store_log_dir) + 8};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unsigned char *raw = block(bad[i]);
		if (hc_config_default_sized((struct hc_config *)raw, bad[i]) != HC_EINVAL)
			fail_msg("size %zu accepted", bad[i]);
		assert_non_null(strstr(hc_last_error(), "inside a field"));
		free(raw);
	}
	struct hc_config cfg;
	assert_int_equal(hc_config_default(&cfg), 0);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.size = (uint32_t)(offsetof(struct hc_config, log_fn) + 4);
	hc_cache *c = (hc_cache *)&cfg;
	assert_int_equal(hc_open(&cfg, &c), HC_EINVAL);
	assert_null(c);
	const size_t good[] = {sizeof(struct hc_config_0_2),
	                       offsetof(struct hc_config, log_arg),
	                       offsetof(struct hc_config, open_mode),
	                       offsetof(struct hc_config, keri_escrow_limit),
	                       sizeof(struct hc_config), sizeof(struct hc_config) + 8};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		unsigned char *raw = block(good[i]);
		if (hc_config_default_sized((struct hc_config *)raw, good[i]) != 0)
			fail_msg("size %zu refused: %s", good[i], hc_last_error());
		free(raw);
	}
}

/* hc_version agrees with the header this test was compiled with. */
static void version_matches_header(void **state)
{
	(void)state;
	int ma = -1, mi = -1, pa = -1;
	const char *v = hc_version(&ma, &mi, &pa);
	assert_string_equal(v, HC_VERSION_STRING);
	assert_int_equal(ma, HC_VERSION_MAJOR);
	assert_int_equal(mi, HC_VERSION_MINOR);
	assert_int_equal(pa, HC_VERSION_PATCH);
	assert_string_equal(hc_version(NULL, NULL, NULL), v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(caller_0_2_opens_and_reads_stats),
		cmocka_unit_test(key_beyond_callers_struct_is_refused),
		cmocka_unit_test(newer_caller_with_unknown_fields),
		cmocka_unit_test(uninitialised_struct_is_refused),
		cmocka_unit_test(size_inside_a_field_is_refused),
		cmocka_unit_test(version_matches_header),
		cmocka_unit_test(keystate_0_2_caller_gets_no_di),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
