/*
 * Issue 12, points 3-5: safe store handling through hc_open.
 *
 *  - backing.mode = rocksdb without backing.path is HC_ECONFIG and creates nothing;
 *  - opening (and creating) a store writes nothing to stderr;
 *  - RocksDB's OPTIONS file is written whole at every open (no OPTIONS-*.dbtmp left);
 *  - a store whose directory vanished while its key file remains is refused, as is a
 *    key file without its store or a store without its key, naming both paths;
 *  - a wrong key is refused before RocksDB recovery touches any file of the store;
 *  - a key file readable by group or others is refused unless
 *    crypto.key_file_permissive is set;
 *  - RocksDB checksum failures are counted in stats.store_corrupt, apart from sealing
 *    failures (stats.corrupt);
 *  - backing.open = read_only and secondary read a store another handle holds as
 *    primary, refuse writes with HC_EREADONLY, never create a store, and the secondary
 *    leaves no temporary directory behind.
 *
 * Test-only; main thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache/error.h"
#include "hotcache.h"
#include "tests/unit/testutil.h"

struct env {
	char dir[256];
	char db[300];
	char key[300];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (e == NULL || testutil_dir_make(e->dir, sizeof(e->dir), "hc_store_safety") != 0)
		return -1;
	snprintf(e->db, sizeof(e->db), "%s/db", e->dir);
	snprintf(e->key, sizeof(e->key), "%s/db.key", e->dir);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	int rc = testutil_dir_remove(e->dir);
	free(e);
	return rc;
}

static void cfg_for(struct hc_config *cfg, const char *db, const char *durability)
{
	char err[256];
	hc_config_default(cfg);
	assert_int_equal(hc_config_set(cfg, "backing.mode", "rocksdb", err, sizeof(err)), 0);
	assert_int_equal(hc_config_set(cfg, "backing.path", db, err, sizeof(err)), 0);
	assert_int_equal(hc_config_set(cfg, "backing.durability", durability, err,
	                               sizeof(err)), 0);
	cfg->memory_limit = 16u << 20;
	cfg->max_entry = 64u << 10;
	cfg->block_cache = 1u << 20;
}

static void set(struct hc_config *cfg, const char *key, const char *value)
{
	char err[256];
	if (hc_config_set(cfg, key, value, err, sizeof(err)) != 0)
		fail_msg("hc_config_set %s=%s: %s", key, value, err);
}

static hc_cache *open_ok(const struct hc_config *cfg)
{
	hc_cache *c = NULL;
	int rc = hc_open(cfg, &c);
	if (rc != 0)
		fail_msg("hc_open: %s: %s", hc_strerror(rc), hc_last_error());
	return c;
}

/* Creates the store at e->db with n values "k<i>" = "value <i>" and closes it. */
static void make_store(struct env *e, const char *durability, int n)
{
	struct hc_config cfg;
	cfg_for(&cfg, e->db, durability);
	hc_cache *c = open_ok(&cfg);
	for (int i = 0; i < n; i++) {
		char k[32], v[64];
		int kl = snprintf(k, sizeof(k), "k%d", i);
		int vl = snprintf(v, sizeof(v), "value %d", i);
		assert_int_equal(hc_put(c, k, (size_t)kl, v, (size_t)vl), 0);
	}
	hc_close(c);
}

static int count_entries(const char *dir, const char *prefix, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name), sl = suffix ? strlen(suffix) : 0;
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		if (suffix != NULL && (l < sl || strcmp(de->d_name + l - sl, suffix) != 0))
			continue;
		n++;
	}
	closedir(d);
	return n;
}

/* A listing of dir: one "name size mtime_ns ino" line per entry, sorted. */
static char *snapshot(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	assert_true(n >= 0);
	size_t cap = 256 * (size_t)(n + 1), off = 0;
	char *out = calloc(1, cap);
	assert_non_null(out);
	for (int i = 0; i < n; i++) {
		char p[1024];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]->d_name);
		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0 &&
		    lstat(p, &st) == 0)
			off += (size_t)snprintf(out + off, cap - off, "%s %lld %lld.%09ld %llu\n",
			                        names[i]->d_name, (long long)st.st_size,
			                        (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			                        (unsigned long long)st.st_ino);
		free(names[i]);
	}
	free(names);
	return out;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* Regression: the default config opened ./hotcache.db in the working directory. */
static void test_rocksdb_without_path_is_econfig(void **state)
{
	struct env *e = *state;
	char cwd[1024];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(e->dir), 0);
	struct hc_config cfg;
	hc_config_default(&cfg);
	hc_cache *c = (hc_cache *)1;
	int rc = hc_open(&cfg, &c);
	hc_close(c != (hc_cache *)1 ? c : NULL);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(cfg.backing_mode, HC_BACKING_ROCKSDB);
	assert_string_equal(cfg.backing_path, "");
	assert_int_equal(rc, HC_ECONFIG);
	assert_null(c);
	assert_non_null(strstr(hc_last_error(), "backing.path"));
	assert_int_equal(count_entries(e->dir, "", NULL), 2); /* . and .. only */
}

/* Regression: creating a store printed "created a new data key" on stderr. */
static void test_open_writes_nothing_to_stderr(void **state)
{
	struct env *e = *state;
	char out[300];
	snprintf(out, sizeof(out), "%s/stderr.txt", e->dir);
	fflush(stderr);
	int saved = dup(2), fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	make_store(e, "sync", 3);
	make_store(e, "sync", 3);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_size, 0);
}

/* Regression: every open left a truncated OPTIONS-*.dbtmp and no OPTIONS file. */
static void test_options_file_whole_after_cycles(void **state)
{
	struct env *e = *state;
	for (int i = 0; i < 5; i++)
		make_store(e, "sync", 1);
	assert_int_equal(count_entries(e->db, "OPTIONS-", ".dbtmp"), 0);
	/* RocksDB keeps the newest two OPTIONS files (kNumOptionsFilesKept). */
	int n = count_entries(e->db, "OPTIONS-", NULL);
	assert_true(n >= 1 && n <= 2);
	struct dirent **names;
	int m = scandir(e->db, &names, NULL, alphasort);
	assert_true(m > 0);
	char newest[600] = "";
	for (int i = 0; i < m; i++) {
		if (strncmp(names[i]->d_name, "OPTIONS-", 8) == 0)
			snprintf(newest, sizeof(newest), "%s/%s", e->db, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	FILE *f = fopen(newest, "r");
	assert_non_null(f);
	char line[512];
	int meta_cf = 0, meta_table = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		meta_cf |= strncmp(line, "[CFOptions \"meta\"]", 18) == 0;
		meta_table |= strncmp(line, "[TableOptions/BlockBasedTable \"meta\"]", 37) == 0;
	}
	fclose(f);
	assert_true(meta_cf && meta_table); /* the last family's sections: written whole */
}

/* hc_open of e->db is HC_EKEY naming both paths, and `absent` was not created. */
static void assert_refused_naming_both(const struct env *e, const char *absent)
{
	struct hc_config cfg;
	cfg_for(&cfg, e->db, "sync");
	hc_cache *c = NULL;
	assert_int_equal(hc_open(&cfg, &c), HC_EKEY);
	assert_null(c);
	if (strstr(hc_last_error(), e->db) == NULL || strstr(hc_last_error(), e->key) == NULL)
		fail_msg("the error does not name both %s and %s: %s", e->db, e->key,
		         hc_last_error());
	struct stat st;
	assert_int_equal(stat(absent, &st), -1);
}

/* Regression: with backing.create on, a vanished store silently reopened empty. */
static void test_vanished_store_refused(void **state)
{
	struct env *e = *state;
	make_store(e, "sync", 3);
	assert_int_equal(testutil_dir_remove(e->db), 0);
	assert_refused_naming_both(e, e->db); /* no empty store in its place */
}

/* A store whose key file is gone: refused, naming both; no new key made. */
static void test_store_without_key_refused(void **state)
{
	struct env *e = *state;
	make_store(e, "sync", 3);
	assert_int_equal(unlink(e->key), 0);
	assert_refused_naming_both(e, e->key);
}

/* Regression: a wrong key was refused only after RocksDB recovery wrote new files. */
static void test_wrong_key_leaves_store_untouched(void **state)
{
	struct env *e = *state;
	make_store(e, "wal", 50); /* the values stay in the WAL: the next open recovers */
	unsigned char other[32];
	memset(other, 0x5a, sizeof(other));
	write_file(e->key, other, sizeof(other), 0600);
	char *before = snapshot(e->db);
	struct hc_config cfg;
	cfg_for(&cfg, e->db, "wal");
	hc_cache *c = NULL;
	assert_int_equal(hc_open(&cfg, &c), HC_EKEY);
	assert_non_null(strstr(hc_last_error(), "does not match"));
	char *after = snapshot(e->db);
	if (strcmp(before, after) != 0)
		fail_msg("the store changed:\nbefore\n%s\nafter\n%s", before, after);
	free(before);
	free(after);
}

/* Regression: a key file readable by group or others was used silently. */
static void test_permissive_key_file_refused(void **state)
{
	struct env *e = *state;
	make_store(e, "sync", 3);
	assert_int_equal(chmod(e->key, 0640), 0);
	struct hc_config cfg;
	cfg_for(&cfg, e->db, "sync");
	hc_cache *c = NULL;
	assert_int_equal(hc_open(&cfg, &c), HC_EKEY);
	assert_non_null(strstr(hc_last_error(), e->key));
	assert_non_null(strstr(hc_last_error(), "crypto.key_file_permissive"));
	set(&cfg, "crypto.key_file_permissive", "true");
	c = open_ok(&cfg);
	char buf[64];
	size_t n;
	assert_int_equal(hc_get(c, "k1", 2, buf, sizeof(buf), &n), 0);
	hc_close(c);
}

/* The largest file named *.sst in dir, or "" */
static void largest_sst(const char *dir, char *out, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	off_t best = -1;
	out[0] = '\0';
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char p[600];
		struct stat st;
		if (l < 4 || strcmp(de->d_name + l - 4, ".sst") != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (stat(p, &st) == 0 && st.st_size > best) {
			best = st.st_size;
			snprintf(out, cap, "%s", p);
		}
	}
	closedir(d);
}

/* Regression: a RocksDB checksum failure was an HC_EIO nobody counted. */
static void test_store_checksum_failure_counted(void **state)
{
	struct env *e = *state;
	struct hc_config cfg;
	cfg_for(&cfg, e->db, "none"); /* a clean close flushes the memtables into SSTs */
	hc_cache *c = open_ok(&cfg);
	char big[4000];
	memset(big, 'v', sizeof(big));
	assert_int_equal(hc_put(c, "victim", 6, big, sizeof(big)), 0);
	hc_close(c);
	char sst[600];
	largest_sst(e->db, sst, sizeof(sst));
	assert_true(sst[0] != '\0');
	int fd = open(sst, O_RDWR);
	assert_true(fd >= 0);
	unsigned char b;
	assert_int_equal(pread(fd, &b, 1, 100), 1);
	b ^= 0xff;
	assert_int_equal(pwrite(fd, &b, 1, 100), 1);
	close(fd);

	c = open_ok(&cfg);
	char buf[4096];
	size_t n;
	int rc = hc_get(c, "victim", 6, buf, sizeof(buf), &n);
	assert_int_equal(rc, HC_EIO);
	assert_non_null(strstr(hc_last_error(), "Corruption"));
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.store_corrupt, 1);
	assert_int_equal(st.corrupt, 0);
	hc_close(c);
}

static int dir_is_empty(const char *dir)
{
	return count_entries(dir, "", NULL) == 2;
}

/* backing.open = read_only / secondary beside a primary in use; writes refused. */
static void reader_beside_primary(struct env *e, const char *mode)
{
	struct hc_config cfg;
	cfg_for(&cfg, e->db, "sync");
	hc_cache *primary = open_ok(&cfg);
	assert_int_equal(hc_put(primary, "live", 4, "one", 3), 0);

	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s/tmp", e->dir);
	assert_int_equal(mkdir(tmp, 0700), 0);
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;
	setenv("TMPDIR", tmp, 1);

	struct hc_config rcfg = cfg;
	set(&rcfg, "backing.open", mode);
	hc_cache *reader = open_ok(&rcfg);
	char buf[64];
	size_t n;
	assert_int_equal(hc_get(reader, "live", 4, buf, sizeof(buf), &n), 0);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(hc_put(reader, "x", 1, "y", 1), HC_EREADONLY);
	assert_non_null(strstr(hc_last_error(), mode));
	assert_int_equal(hc_delete(reader, "live", 4), HC_EREADONLY);
	hc_close(reader);
	assert_true(dir_is_empty(tmp)); /* the secondary's directory is gone */

	if (saved != NULL) {
		setenv("TMPDIR", saved, 1);
		free(saved);
	} else {
		unsetenv("TMPDIR");
	}
	/* the primary was not disturbed */
	assert_int_equal(hc_put(primary, "live", 4, "two", 3), 0);
	hc_close(primary);
}

static void test_secondary_beside_primary(void **state)
{
	reader_beside_primary(*state, "secondary");
}

static void test_read_only_beside_primary(void **state)
{
	reader_beside_primary(*state, "read_only");
}

/* A mistyped path opened for reading creates nothing. */
static void test_reader_never_creates(void **state)
{
	struct env *e = *state;
	const char *modes[] = { "read_only", "secondary" };
	for (int i = 0; i < 2; i++) {
		struct hc_config cfg;
		cfg_for(&cfg, e->db, "sync");
		set(&cfg, "backing.open", modes[i]);
		hc_cache *c = NULL;
		int rc = hc_open(&cfg, &c);
		assert_int_not_equal(rc, 0);
		assert_null(c);
		assert_non_null(strstr(hc_last_error(), "does not exist"));
		assert_true(dir_is_empty(e->dir));
	}
}

/* The info log goes where backing.log_dir says, at backing.log_level. */
static void test_rocksdb_log_routed(void **state)
{
	struct env *e = *state;
	char logs[300];
	snprintf(logs, sizeof(logs), "%s/logs", e->dir);
	struct hc_config cfg;
	cfg_for(&cfg, e->db, "sync");
	set(&cfg, "backing.log_level", "info");
	set(&cfg, "backing.log_dir", logs);
	hc_cache *c = open_ok(&cfg);
	hc_close(c);
	assert_int_equal(count_entries(logs, "", "_LOG"), 1);
	assert_int_equal(count_entries(e->db, "LOG", NULL), 0);
	assert_int_equal(count_entries(e->db, "OPTIONS-", ".dbtmp"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rocksdb_without_path_is_econfig, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_writes_nothing_to_stderr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options_file_whole_after_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vanished_store_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_without_key_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_leaves_store_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissive_key_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_checksum_failure_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secondary_beside_primary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_beside_primary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_never_creates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rocksdb_log_routed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
