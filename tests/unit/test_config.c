/*
 * Unit tests: config defaults, files (good and bad), hc_config_set for every key, size
 * parsing edge cases, hc_config_check on fields set directly, hc_strerror and the
 * per-thread hc_last_error.
 *
 * Data files are in $HC_SOURCE/tests/data/config (ctest sets HC_SOURCE).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache/config.h"
#include "cache/error.h"
#include "hotcache.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

static char data_dir[4096];

static const char *data_path(const char *name)
{
	static char path[8192];
	snprintf(path, sizeof path, "%s/%s", data_dir, name);
	return path;
}

/* cfg filled with a non-default byte pattern in the padding too, then defaults, so a
 * memcmp against a copy catches any write at all. */
static void fresh(struct hc_config *cfg)
{
	memset(cfg, 0xa5, sizeof *cfg);
	hc_config_default(cfg);
}

static void test_defaults(void **state)
{
	struct hc_config cfg;
	char err[512];

	(void)state;
	fresh(&cfg);
	assert_int_equal(cfg.memory_limit, 256 * MIB);
	assert_int_equal(cfg.shards, 0);
	assert_int_equal(cfg.max_entry, MIB);
	assert_int_equal(cfg.expected_entries, 0);
	assert_int_equal(cfg.backing_mode, HC_BACKING_ROCKSDB);
	assert_string_equal(cfg.backing_path, ""); /* no default store (issue 12) */
	assert_int_equal(cfg.durability, HC_DURABILITY_SYNC);
	assert_int_equal(cfg.block_cache, 32 * MIB);
	assert_int_equal(cfg.write_buffer, 32 * MIB);
	assert_int_equal(cfg.create_if_missing, 1);
	assert_string_equal(cfg.key_file, "");
	assert_int_equal(cfg.open_mode, HC_OPEN_PRIMARY);
	assert_int_equal(cfg.store_log_level, HC_STORE_LOG_NONE);
	assert_string_equal(cfg.store_log_dir, "");
	assert_int_equal(cfg.key_file_permissive, 0);
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_OK);
	hc_config_default(NULL); /* a no-op, not a crash */
}

static void test_good_file_every_key(void **state)
{
	struct hc_config cfg;
	char err[512] = "";

	(void)state;
	fresh(&cfg);
	assert_int_equal(hc_config_load(&cfg, data_path("good_all.ini"), err, sizeof err),
	                 HC_OK);
	assert_int_equal(cfg.memory_limit, GIB);
	assert_int_equal(cfg.shards, 16);
	assert_int_equal(cfg.max_entry, 512 * KIB);
	assert_int_equal(cfg.expected_entries, 1000000);
	assert_int_equal(cfg.backing_mode, HC_BACKING_ROCKSDB);
	assert_string_equal(cfg.backing_path, "/var/lib/hotcache/db");
	assert_int_equal(cfg.durability, HC_DURABILITY_WAL);
	assert_int_equal(cfg.block_cache, GIB + GIB / 2);
	assert_int_equal(cfg.write_buffer, 64 * MIB);
	assert_int_equal(cfg.create_if_missing, 0);
	assert_string_equal(cfg.key_file, "/etc/hotcache/data key");
	assert_int_equal(cfg.open_mode, HC_OPEN_SECONDARY);
	assert_int_equal(cfg.store_log_level, HC_STORE_LOG_WARN);
	assert_string_equal(cfg.store_log_dir, "/var/log/hotcache");
	assert_int_equal(cfg.key_file_permissive, 1);
}

static void test_good_file_bom_crlf_and_repeated_section(void **state)
{
	struct hc_config cfg, want;
	char err[512] = "";

	(void)state;
	fresh(&cfg);
	assert_int_equal(hc_config_load(&cfg, data_path("good_bom_crlf.ini"), err,
	                                sizeof err), HC_OK);
	assert_int_equal(cfg.memory_limit, 2 * GIB);
	assert_int_equal(cfg.shards, 0);

	fresh(&cfg);
	fresh(&want);
	assert_int_equal(hc_config_load(&cfg, data_path("good_empty.ini"), err, sizeof err),
	                 HC_OK);
	assert_memory_equal(&cfg, &want, sizeof cfg);
}

/* A file loads on top of what cfg holds: keys it does not name keep their values. */
static void test_file_overlays_cfg(void **state)
{
	struct hc_config cfg;
	char err[512];

	(void)state;
	fresh(&cfg);
	assert_int_equal(hc_config_set(&cfg, "backing.durability", "none", err, sizeof err),
	                 HC_OK);
	assert_int_equal(hc_config_load(&cfg, data_path("good_bom_crlf.ini"), err,
	                                sizeof err), HC_OK);
	assert_int_equal(cfg.durability, HC_DURABILITY_NONE);
	assert_int_equal(cfg.memory_limit, 2 * GIB);
}

struct bad_case {
	const char *file;
	int line;           /* 0: the message has no line */
	const char *key;    /* must appear in the message, NULL if none */
	const char *detail; /* must appear in the message */
};

static const struct bad_case bad_cases[] = {
	{ "bad_unknown_section.ini", 4, "[cashe]", "unknown section" },
	{ "bad_unknown_key.ini", 2, "cache.memory_limt", "unknown key" },
	{ "bad_unit.ini", 3, "cache.memory_limit", "'1GB' is not a size (use B, KiB, MiB, "
	  "GiB or TiB; allowed 1 MiB..1 TiB)" },
	{ "bad_not_number.ini", 2, "cache.shards", "'four' is not a number (allowed 0 "
	  "(auto) or a power of two 1..1024)" },
	{ "bad_overflow.ini", 2, "cache.memory_limit", "'18446744073709551616' is out of "
	  "range (allowed 1 MiB..1 TiB)" },
	{ "bad_zero.ini", 2, "cache.memory_limit", "'0' is out of range" },
	{ "bad_absurd.ini", 2, "cache.memory_limit", "'2 TiB' is out of range" },
	{ "bad_duplicate.ini", 4, "cache.shards", "set twice (first on line 2)" },
	{ "bad_syntax.ini", 2, NULL, "cannot parse 'memory_limit 1GiB'" },
	{ "bad_unclosed_section.ini", 1, NULL, "cannot parse '[cache'" },
	{ "bad_outside_section.ini", 1, "memory_limit", "outside any section" },
	{ "bad_fraction.ini", 2, "cache.memory_limit", "'0.1 GiB' is not a whole number of "
	  "bytes" },
	{ "bad_shards_pow2.ini", 2, "cache.shards", "'3' is out of range (allowed 0 (auto) "
	  "or a power of two 1..1024)" },
	{ "bad_max_entry_cross.ini", 4, "cache.max_entry", "1 MiB is larger than half a "
	  "shard's share of cache.memory_limit (448 KiB with 16 shards, after the key "
	  "states' sixteenth;" },
	{ "bad_store_too_small.ini", 4, "cache.memory_limit", "1 MiB leaves nothing for "
	  "payloads with a store: 1 MiB of it for key states" },
	{ "bad_rocksdb_no_path.ini", 3, "backing.path", "must be set when backing.mode is "
	  "rocksdb" },
	{ "bad_long_line.ini", 2, NULL, "longer than 198 bytes" },
	{ "bad_bool.ini", 2, "backing.create", "'maybe' is not a boolean" },
	{ "bad_enum.ini", 2, "backing.durability", "'fsync' is not one of sync, wal or none" },
	{ "bad_open.ini", 3, "backing.open", "'readonly' is not one of primary, read_only or "
	  "secondary" },
	{ "bad_log_level.ini", 2, "backing.log_level", "'verbose' is not one of none, fatal, "
	  "error, warn, info or debug" },
	{ "bad_permissive.ini", 3, "crypto.key_file_permissive", "'sometimes' is not a "
	  "boolean" },
	{ "bad_nul.ini", 2, NULL, "NUL byte" },
	{ "bad_continuation.ini", 3, NULL, "cannot parse 'more text'" },
	{ "bad_negative.ini", 2, "cache.max_entry", "'-1' is not a size" },
	{ "bad_empty_value.ini", 2, "cache.shards", "'' is not a number" },
	{ "bad_block_cache.ini", 2, "backing.block_cache", "'65 GiB' is out of range "
	  "(allowed 0..64 GiB)" },
	{ "bad_write_buffer.ini", 2, "backing.write_buffer", "(allowed 1 MiB..16 GiB)" },
	{ "bad_expected_entries.ini", 2, "cache.expected_entries", "(allowed 0..1000000000)" },
	{ "bad_no_value.ini", 2, NULL, "cannot parse 'key_file'" },
};

static void test_bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *b = &bad_cases[i];
		struct hc_config cfg, before;
		char err[512] = "", prefix[8400];
		const char *path = data_path(b->file);

		fresh(&cfg);
		cfg.memory_limit = 3 * GIB; /* not a default, to see that it survives */
		before = cfg;
		hc_error_clear();
		int rc = hc_config_load(&cfg, path, err, sizeof err);
		print_message("%-28s %s\n", b->file, err);
		assert_int_equal(rc, HC_ECONFIG);
		assert_memory_equal(&cfg, &before, sizeof cfg);
		if (b->line > 0)
			snprintf(prefix, sizeof prefix, "%s:%d: ", path, b->line);
		else
			snprintf(prefix, sizeof prefix, "%s: ", path);
		assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
		if (b->key != NULL)
			assert_non_null(strstr(err, b->key));
		assert_non_null(strstr(err, b->detail));
		assert_string_equal(err, hc_last_error());
	}
}

static void test_file_cannot_be_opened(void **state)
{
	struct hc_config cfg, before;
	char err[512], want[9000];

	(void)state;
	fresh(&cfg);
	before = cfg;
	const char *path = data_path("no_such_file.ini");
	assert_int_equal(hc_config_load(&cfg, path, err, sizeof err), HC_ECONFIG);
	snprintf(want, sizeof want, "%s: cannot open: %s (errno %d)", path, strerror(ENOENT),
	         ENOENT);
	assert_string_equal(err, want);
	assert_string_equal(hc_last_error(), want);
	assert_memory_equal(&cfg, &before, sizeof cfg);

	assert_int_equal(hc_config_load(&cfg, data_dir, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "is a directory"));
	assert_memory_equal(&cfg, &before, sizeof cfg);
}

static void test_null_arguments(void **state)
{
	struct hc_config cfg;
	char err[512];

	(void)state;
	fresh(&cfg);
	assert_int_equal(hc_config_load(NULL, "x", err, sizeof err), HC_EINVAL);
	assert_int_equal(hc_config_load(&cfg, NULL, err, sizeof err), HC_EINVAL);
	assert_non_null(strstr(hc_last_error(), "path is NULL"));
	assert_int_equal(hc_config_set(NULL, "cache.shards", "1", NULL, 0), HC_EINVAL);
	assert_int_equal(hc_config_set(&cfg, NULL, "1", NULL, 0), HC_EINVAL);
	assert_int_equal(hc_config_set(&cfg, "cache.shards", NULL, NULL, 0), HC_EINVAL);
	assert_int_equal(hc_config_check(NULL, NULL, 0), HC_ECONFIG);
}

/* err is cut to errlen; hc_last_error keeps the whole sentence. */
static void test_err_buffer_is_cut(void **state)
{
	struct hc_config cfg;
	char err[8];

	(void)state;
	fresh(&cfg);
	assert_int_equal(hc_config_set(&cfg, "cache.shards", "5", err, sizeof err),
	                 HC_ECONFIG);
	assert_string_equal(err, "cache.s");
	assert_non_null(strstr(hc_last_error(), "'5' is out of range"));
	assert_int_equal(hc_config_set(&cfg, "cache.shards", "5", NULL, 100), HC_ECONFIG);
}

struct set_case {
	const char *key, *value;
	int rc;
	const char *detail; /* for failures: must be in the message */
};

static const struct set_case set_cases[] = {
	{ "cache.memory_limit", "512 MiB", HC_OK, NULL },
	{ "cache.memory_limit", "1 MiB", HC_OK, NULL },
	{ "cache.memory_limit", "1 TiB", HC_OK, NULL },
	{ "cache.memory_limit", "1023 KiB", HC_ECONFIG, "cache.memory_limit: '1023 KiB' is "
	  "out of range (allowed 1 MiB..1 TiB)" },
	{ "cache.memory_limit", "1099511627777", HC_ECONFIG, "out of range" },
	{ "cache.memory_limit", "lots", HC_ECONFIG, "cache.memory_limit: 'lots' is not a "
	  "size (use B, KiB, MiB, GiB or TiB; allowed 1 MiB..1 TiB)" },
	{ "cache.shards", "0", HC_OK, NULL },
	{ "cache.shards", "1", HC_OK, NULL },
	{ "cache.shards", "1024", HC_OK, NULL },
	{ "cache.shards", "2048", HC_ECONFIG, "cache.shards: '2048' is out of range" },
	{ "cache.shards", "12", HC_ECONFIG, "'12' is out of range" },
	{ "cache.shards", "4 KiB", HC_ECONFIG, "'4 KiB' is not a number" },
	{ "cache.max_entry", "64", HC_OK, NULL },
	{ "cache.max_entry", "256MiB", HC_OK, NULL },
	{ "cache.max_entry", "63", HC_ECONFIG, "'63' is out of range (allowed 64 B..256 MiB)" },
	{ "cache.max_entry", "257 MiB", HC_ECONFIG, "out of range" },
	{ "cache.expected_entries", "0", HC_OK, NULL },
	{ "cache.expected_entries", "1000000000", HC_OK, NULL },
	{ "cache.expected_entries", "1000000001", HC_ECONFIG, "out of range" },
	{ "cache.expected_entries", "1e6", HC_ECONFIG, "'1e6' is not a number" },
	{ "backing.mode", "none", HC_OK, NULL },
	{ "backing.mode", "RocksDB", HC_OK, NULL },
	{ "backing.mode", "lmdb", HC_ECONFIG, "backing.mode: 'lmdb' is not one of none or "
	  "rocksdb" },
	{ "backing.path", "/tmp/hc", HC_OK, NULL },
	{ "backing.path", "", HC_OK, NULL },
	{ "backing.durability", "sync", HC_OK, NULL },
	{ "backing.durability", "WAL", HC_OK, NULL },
	{ "backing.durability", "none", HC_OK, NULL },
	{ "backing.durability", "async", HC_ECONFIG, "'async' is not one of sync, wal or none" },
	{ "backing.block_cache", "0", HC_OK, NULL },
	{ "backing.block_cache", "64 GiB", HC_OK, NULL },
	{ "backing.block_cache", "64.5 GiB", HC_ECONFIG, "out of range (allowed 0..64 GiB)" },
	{ "backing.write_buffer", "1 MiB", HC_OK, NULL },
	{ "backing.write_buffer", "16 GiB", HC_OK, NULL },
	{ "backing.write_buffer", "0", HC_ECONFIG, "out of range (allowed 1 MiB..16 GiB)" },
	{ "backing.create", "true", HC_OK, NULL },
	{ "backing.create", "Off", HC_OK, NULL },
	{ "backing.create", "2", HC_ECONFIG, "backing.create: '2' is not a boolean" },
	{ "crypto.key_file", "/etc/hc.key", HC_OK, NULL },
	{ "crypto.key_file", "\"/etc/hc.key\"", HC_OK, NULL },
	{ "cache.memory", "1 GiB", HC_ECONFIG, "unknown key cache.memory (keys in [cache]: "
	  "memory_limit, shards, max_entry, expected_entries)" },
	{ "memory_limit", "1 GiB", HC_ECONFIG, "unknown key 'memory_limit' (use section.key" },
	{ "cachex.memory_limit", "1 GiB", HC_ECONFIG, "unknown section [cachex]" },
	{ "Cache.memory_limit", "1 GiB", HC_ECONFIG, "unknown section [Cache]" },
	{ "cache.memory_limit\n", "1 GiB", HC_ECONFIG, "unknown key cache.memory_limit\\x0a" },
};

static void test_set_every_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof set_cases / sizeof set_cases[0]; i++) {
		const struct set_case *s = &set_cases[i];
		struct hc_config cfg, before;
		char err[512] = "";

		fresh(&cfg);
		before = cfg;
		int rc = hc_config_set(&cfg, s->key, s->value, err, sizeof err);
		if (rc != s->rc)
			fail_msg("%s = '%s': rc %d, want %d (%s)", s->key, s->value, rc, s->rc, err);
		if (rc != HC_OK) {
			assert_memory_equal(&cfg, &before, sizeof cfg);
			if (strstr(err, s->detail) == NULL)
				fail_msg("%s = '%s': message '%s' lacks '%s'", s->key, s->value, err,
				         s->detail);
			assert_string_equal(err, hc_last_error());
		}
	}
}

static void test_set_writes_the_field(void **state)
{
	struct hc_config cfg;
	char err[512];
	char long_path[HC_PATH_MAX + 1];

	(void)state;
	fresh(&cfg);
	assert_int_equal(hc_config_set(&cfg, "cache.shards", " 64 ", err, sizeof err), HC_OK);
	assert_int_equal(cfg.shards, 64);
	assert_int_equal(hc_config_set(&cfg, "backing.mode", "rocksdb", err, sizeof err),
	                 HC_OK);
	assert_int_equal(cfg.backing_mode, HC_BACKING_ROCKSDB);
	assert_int_equal(hc_config_set(&cfg, "backing.create", "no", err, sizeof err), HC_OK);
	assert_int_equal(cfg.create_if_missing, 0);
	assert_int_equal(hc_config_set(&cfg, "crypto.key_file", "\"/k ey\"", err, sizeof err),
	                 HC_OK);
	assert_string_equal(cfg.key_file, "/k ey");

	/* Paths: up to HC_PATH_MAX - 1 bytes through hc_config_set. */
	memset(long_path, 'p', HC_PATH_MAX - 1);
	long_path[HC_PATH_MAX - 1] = '\0';
	assert_int_equal(hc_config_set(&cfg, "backing.path", long_path, err, sizeof err),
	                 HC_OK);
	assert_int_equal(strlen(cfg.backing_path), HC_PATH_MAX - 1);
	memset(long_path, 'q', HC_PATH_MAX);
	long_path[HC_PATH_MAX] = '\0';
	struct hc_config before = cfg;
	assert_int_equal(hc_config_set(&cfg, "backing.path", long_path, err, sizeof err),
	                 HC_ECONFIG);
	assert_non_null(strstr(err, "backing.path: the path is 1024 bytes (allowed a path "
	                            "shorter than 1024 bytes)"));
	assert_memory_equal(&cfg, &before, sizeof cfg);
}

struct size_case {
	const char *text;
	uint64_t want; /* 0 with ok == 0: must fail */
	int ok;
};

/* The size rule, on backing.block_cache (range 0..64 GiB) so that 0 is legal. */
static const struct size_case size_cases[] = {
	{ "0", 0, 1 },
	{ "0 B", 0, 1 },
	{ "1", 1, 1 },
	{ "1B", 1, 1 },
	{ "1048576", MIB, 1 },
	{ "12 MiB", 12 * MIB, 1 },      /* blanks between number and unit are fine */
	{ "12\tMiB", 12 * MIB, 1 },
	{ "12   MiB", 12 * MIB, 1 },
	{ "12MiB", 12 * MIB, 1 },
	{ "3 KiB", 3 * KIB, 1 },
	{ "1 TiB", 0, 0 },               /* out of this key's range */
	{ "1mib", MIB, 1 },              /* unit case does not matter */
	{ "1MIB", MIB, 1 },
	{ "1 gib", GIB, 1 },
	{ "1.5GiB", GIB + GIB / 2, 1 },  /* exact fractions are fine */
	{ "1.5 GiB", GIB + GIB / 2, 1 },
	{ "0.5 KiB", 512, 1 },
	{ "1.25 MiB", MIB + MIB / 4, 1 },
	{ "1.0 GiB", GIB, 1 },
	{ "2.000 MiB", 2 * MIB, 1 },
	{ "0.0009765625 MiB", KIB, 1 },
	{ "0.1 GiB", 0, 0 },             /* not a whole number of bytes */
	{ "1.5", 0, 0 },
	{ "1.5 B", 0, 0 },
	{ "1.", 0, 0 },
	{ ".5 GiB", 0, 0 },
	{ "1..5 GiB", 0, 0 },
	{ "1 GB", 0, 0 },                /* decimal or ambiguous units are refused */
	{ "1G", 0, 0 },
	{ "1K", 0, 0 },
	{ "1KB", 0, 0 },
	{ "1 kb", 0, 0 },
	{ "1 Mi", 0, 0 },
	{ "1 bytes", 0, 0 },
	{ "-1", 0, 0 },
	{ "+1", 0, 0 },
	{ "0x10", 0, 0 },
	{ "1e6", 0, 0 },
	{ "1,024", 0, 0 },
	{ "1_024", 0, 0 },
	{ "MiB", 0, 0 },
	{ "", 0, 0 },
	{ "1 MiB 2", 0, 0 },
	{ "18446744073709551615", 0, 0 },          /* 2^64 - 1: in u64, out of range */
	{ "18446744073709551616", 0, 0 },          /* 2^64: overflow */
	{ "99999999999999999999999999 TiB", 0, 0 },
	{ "16777216 TiB", 0, 0 },                  /* 2^64 bytes exactly */
	{ "0.00000000000000000001 TiB", 0, 0 },    /* more than 19 decimals */
	{ "64 GiB", 64 * GIB, 1 },
	{ "68719476736", 64 * GIB, 1 },
	{ "68719476737", 0, 0 },
};

static void test_size_rule(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof size_cases / sizeof size_cases[0]; i++) {
		const struct size_case *s = &size_cases[i];
		struct hc_config cfg;
		char err[512] = "";

		fresh(&cfg);
		int rc = hc_config_set(&cfg, "backing.block_cache", s->text, err, sizeof err);
		if (s->ok && (rc != HC_OK || cfg.block_cache != s->want))
			fail_msg("'%s': rc %d value %llu, want %llu (%s)", s->text, rc,
			         (unsigned long long)cfg.block_cache,
			         (unsigned long long)s->want, err);
		if (!s->ok && rc != HC_ECONFIG)
			fail_msg("'%s': accepted as %llu", s->text,
			         (unsigned long long)cfg.block_cache);
	}
}

/* hc_config_check catches what an embedder wrote into the struct directly. */
static void test_check_direct_fields(void **state)
{
	struct hc_config cfg;
	char err[512];

	(void)state;
	fresh(&cfg);
	cfg.memory_limit = 0;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_string_equal(err, "cache.memory_limit: 0 is out of range (allowed 1 MiB..1 TiB)");

	fresh(&cfg);
	cfg.shards = 3;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "cache.shards: 3 is out of range"));

	fresh(&cfg);
	cfg.backing_mode = 7;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "backing.mode: 7 is not one of none or rocksdb"));

	fresh(&cfg);
	cfg.durability = -1;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "backing.durability"));

	fresh(&cfg);
	cfg.create_if_missing = 2;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "backing.create"));

	fresh(&cfg);
	memset(cfg.key_file, 'k', sizeof cfg.key_file);
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "crypto.key_file: not NUL-terminated"));

	fresh(&cfg);
	cfg.memory_limit = 64 * MIB;
	cfg.shards = 128;
	cfg.max_entry = MIB;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "cache.max_entry: 1 MiB is larger than half a shard's "
	                            "share of cache.memory_limit (480 KiB with 128 shards, "
	                            "after the key states' sixteenth;"));
	/* Half a shard's share of the 60 MiB the key states leave: hc_open needs at least
	 * twice max_entry per shard (until 2026-12-07 64 shards of 1 MiB passed here and
	 * failed at open). */
	cfg.shards = 32;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	cfg.shards = 16;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_OK);
	/* Without a store the whole limit: 64 MiB / 32 shards / 2 = 1 MiB. */
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.shards = 32;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_OK);
	/* The key states' sixteenth is 1 MiB at least. */
	cfg.backing_mode = HC_BACKING_ROCKSDB;
	cfg.memory_limit = 3 * MIB;
	cfg.shards = 1;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_OK); /* 2 MiB / 2 */
	cfg.memory_limit = 3 * MIB - 1;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "after the key states' sixteenth"));

	/* rocksdb without a path is complete enough to check: hc_open refuses it
	 * (test_store_safety), since --store or hc_config_set may still give the path. */
	fresh(&cfg);
	cfg.backing_mode = HC_BACKING_ROCKSDB;
	cfg.backing_path[0] = '\0';
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_OK);

	fresh(&cfg);
	cfg.open_mode = 3;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "backing.open"));

	fresh(&cfg);
	cfg.store_log_level = -1;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "backing.log_level"));

	fresh(&cfg);
	cfg.key_file_permissive = 2;
	assert_int_equal(hc_config_check(&cfg, err, sizeof err), HC_ECONFIG);
	assert_non_null(strstr(err, "crypto.key_file_permissive"));
}

static void test_auto_shards(void **state)
{
	struct hc_config cfg;

	(void)state;
	fresh(&cfg);
	assert_int_equal(hc_config_shards(&cfg, 2), 32); /* 16 per CPU */
	assert_int_equal(hc_config_shards(&cfg, 8), 64); /* 256 MiB / (4 x 1 MiB) */
	assert_int_equal(hc_config_shards(&cfg, 1000), 64);
	assert_int_equal(hc_config_shards(&cfg, 0), 16);
	cfg.memory_limit = TIB;
	assert_int_equal(hc_config_shards(&cfg, 1000), 1024);
	cfg.memory_limit = MIB;
	assert_int_equal(hc_config_shards(&cfg, 64), 1);
	cfg.shards = 8;
	assert_int_equal(hc_config_shards(&cfg, 64), 8);
}

/* With expected_entries set, the automatic count gives each shard at least 1024 of them
 * (small shards fill unevenly); an explicit count and an unset expectation are left
 * alone. */
static void test_auto_shards_hold_1024_expected_entries(void **state)
{
	struct hc_config cfg;

	(void)state;
	fresh(&cfg);
	cfg.memory_limit = 64 * MIB;
	cfg.max_entry = 16 << 10;
	assert_int_equal(hc_config_shards(&cfg, 2), 32);
	cfg.expected_entries = 200; /* bench/hitratio's 1% rows */
	assert_int_equal(hc_config_shards(&cfg, 2), 1);
	cfg.expected_entries = 2000;
	assert_int_equal(hc_config_shards(&cfg, 2), 1); /* 2 would hold 1000 */
	cfg.expected_entries = 10000; /* bench/hitratio's 50% rows */
	assert_int_equal(hc_config_shards(&cfg, 2), 8); /* 1250 each; 16 would hold 625 */
	cfg.expected_entries = 1u << 20;
	assert_int_equal(hc_config_shards(&cfg, 64), 1024);
	cfg.expected_entries = 200;
	cfg.shards = 8;
	assert_int_equal(hc_config_shards(&cfg, 2), 8);
}

/* A parse error on one line ends the parse: later lines are not reported instead. */
static void test_first_error_wins(void **state)
{
	static const char text[] = "[cache]\nshards = 3\nbogus = 1\n[nope]\n";
	struct hc_config cfg;
	char err[512];

	(void)state;
	fresh(&cfg);
	assert_int_equal(hc_config_parse(&cfg, "mem", text, strlen(text), err, sizeof err),
	                 HC_ECONFIG);
	assert_true(strncmp(err, "mem:2: cache.shards:", 20) == 0);
}

static void test_strerror_every_code(void **state)
{
	static const struct { int code; const char *name; } codes[] = {
		{ HC_OK, "HC_OK" }, { HC_EINVAL, "HC_EINVAL" }, { HC_ENOMEM, "HC_ENOMEM" },
		{ HC_ENOTFOUND, "HC_ENOTFOUND" }, { HC_ERANGE, "HC_ERANGE" },
		{ HC_EIO, "HC_EIO" }, { HC_ECORRUPT, "HC_ECORRUPT" }, { HC_EKEY, "HC_EKEY" },
		{ HC_ECONFIG, "HC_ECONFIG" }, { HC_EEXIST, "HC_EEXIST" },
		{ HC_EREADONLY, "HC_EREADONLY" }, { HC_ENOTSUP, "HC_ENOTSUP" },
		{ HC_EBUSY, "HC_EBUSY" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		const char *s = hc_strerror(codes[i].code);
		char want[64];
		snprintf(want, sizeof want, "%s: ", codes[i].name);
		assert_non_null(s);
		assert_true(strncmp(s, want, strlen(want)) == 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(s, hc_strerror(codes[j].code));
	}
	assert_string_equal(hc_strerror(-13), "unknown error");
	assert_string_equal(hc_strerror(-1000), "unknown error");
	assert_string_equal(hc_strerror(INT32_MIN), "unknown error");
	assert_string_equal(hc_strerror(ENOENT), strerror(ENOENT));
	assert_string_equal(hc_strerror(EIO), strerror(EIO));
	assert_string_equal(hc_strerror(1000000), "unknown error");
}

static void test_error_seam(void **state)
{
	char big[1000];

	(void)state;
	hc_error_clear();
	assert_string_equal(hc_last_error(), "");
	assert_int_equal(hc_error_ret(HC_EINVAL, "key length %zu exceeds %u", (size_t)2000,
	                              HC_KEY_MAX), HC_EINVAL);
	assert_string_equal(hc_last_error(), "key length 2000 exceeds 1024");
	/* Arguments may alias the sentence. */
	hc_error_set("%s; and more", hc_last_error());
	assert_string_equal(hc_last_error(), "key length 2000 exceeds 1024; and more");
	/* Too long: cut to HC_ERROR_MAX - 1 bytes, ending in "...". */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	hc_error_set("%s", big);
	assert_int_equal(strlen(hc_last_error()), HC_ERROR_MAX - 1);
	assert_string_equal(hc_last_error() + HC_ERROR_MAX - 4, "...");
	hc_error_clear();
	assert_string_equal(hc_last_error(), "");
}

struct thread_arg {
	pthread_barrier_t *barrier;
	char seen_at_start[HC_ERROR_MAX];
	char seen_at_end[HC_ERROR_MAX];
};

static void *second_thread(void *p)
{
	struct thread_arg *a = p;
	struct hc_config cfg;

	snprintf(a->seen_at_start, sizeof a->seen_at_start, "%s", hc_last_error());
	hc_config_default(&cfg);
	(void)!hc_config_set(&cfg, "cache.shards", "7", NULL, 0);
	pthread_barrier_wait(a->barrier); /* 1: both threads have their own error */
	pthread_barrier_wait(a->barrier); /* 2: the first thread set another one */
	snprintf(a->seen_at_end, sizeof a->seen_at_end, "%s", hc_last_error());
	return NULL;
}

static void test_last_error_is_per_thread(void **state)
{
	pthread_barrier_t barrier;
	struct thread_arg arg = { .barrier = &barrier };
	struct hc_config cfg;
	pthread_t t;

	(void)state;
	hc_config_default(&cfg);
	assert_int_equal(hc_config_set(&cfg, "cache.nope", "1", NULL, 0), HC_ECONFIG);
	pthread_barrier_init(&barrier, NULL, 2);
	assert_int_equal(pthread_create(&t, NULL, second_thread, &arg), 0);
	pthread_barrier_wait(&barrier);
	assert_non_null(strstr(hc_last_error(), "unknown key cache.nope"));
	assert_int_equal(hc_config_set(&cfg, "backing.mode", "tape", NULL, 0), HC_ECONFIG);
	pthread_barrier_wait(&barrier);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&barrier);
	assert_string_equal(arg.seen_at_start, "");
	assert_non_null(strstr(arg.seen_at_end, "cache.shards: '7' is out of range"));
	assert_non_null(strstr(hc_last_error(), "backing.mode: 'tape'"));
}

int main(void)
{
	const char *src = getenv("HC_SOURCE");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_file_every_key),
		cmocka_unit_test(test_good_file_bom_crlf_and_repeated_section),
		cmocka_unit_test(test_file_overlays_cfg),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_file_cannot_be_opened),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_err_buffer_is_cut),
		cmocka_unit_test(test_set_every_key),
		cmocka_unit_test(test_set_writes_the_field),
		cmocka_unit_test(test_size_rule),
		cmocka_unit_test(test_check_direct_fields),
		cmocka_unit_test(test_auto_shards),
		cmocka_unit_test(test_auto_shards_hold_1024_expected_entries),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_strerror_every_code),
		cmocka_unit_test(test_error_seam),
		cmocka_unit_test(test_last_error_is_per_thread),
	};

	if (src == NULL) {
		fprintf(stderr, "test_config: set HC_SOURCE to the source tree (ctest does)\n");
		return 1;
	}
	snprintf(data_dir, sizeof data_dir, "%s/tests/data/config", src);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
