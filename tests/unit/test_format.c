/*
 * test_format: the store's format version (issue 13, point 4; backing.h).
 *  - tests/data/store-0.2 is a store written by hotcache 0.2.0 (payloads and keripy's
 *    direct-mode KEL; made by `test_format --make-fixture DIR`): every later version
 *    must open a copy of it and read it back as written;
 *  - a store stamped with another format is refused, naming both versions, and its
 *    files are left as they were;
 *  - a store from before the stamp (no "format" key) is stamped format 1 at a primary
 *    open and reads as before.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "backing/backing.h"
#include "hotcache.h"
#include "tests/unit/testutil.h"
#include "tests/unit/vectors.h"

#define PRE01 "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL"
#define NVALUES 20

static size_t value_of(int i, char *buf)
{
	return (size_t)snprintf(buf, 128, "value %d of the 0.2.0 fixture, %.*s", i, i,
	                        "abcdefghijklmnopqrstuvwxyz");
}

static hc_cache *open_store(const char *db, int create, int expect)
{
	struct hc_config cfg;
	char err[256];
	assert_int_equal(hc_config_default(&cfg), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.path", db, err, sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.create", create ? "true" : "false", err,
	                               sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "cache.memory_limit", "8 MiB", err, sizeof err), 0);
	hc_cache *c = NULL;
	int rc = hc_open(&cfg, &c);
	if (rc != expect)
		fail_msg("hc_open %s: %s (%s)", db, hc_strerror(rc), hc_last_error());
	return c;
}

/* The backing store alone (for writing meta directly). */
static struct backing *open_backing(const char *db)
{
	char key[300], err[256];
	snprintf(key, sizeof key, "%s.key", db);
	struct backing_opts o = {.path = db, .key_file = key, .durability = HC_DURABILITY_SYNC,
	                         .block_cache = 1u << 20, .write_buffer = 4u << 20};
	struct backing *b = NULL;
	if (backing_open(&o, &b, err, sizeof err) != 0)
		fail_msg("backing_open %s: %s", db, err);
	return b;
}

static void fill(const char *db)
{
	hc_cache *c = open_store(db, 1, 0);
	char key[32], val[128];
	for (int i = 0; i < NVALUES; i++) {
		int kl = snprintf(key, sizeof key, "fixture-%d", i);
		assert_int_equal(hc_put(c, key, (size_t)kl, val, value_of(i, val)), 0);
	}
	static unsigned char kel[1 << 14];
	size_t n = vectors_read("01_direct_mode_coe_icp_rot_ixn.cesr", kel, sizeof kel);
	struct hc_kel_report r = {0};
	assert_int_equal(hc_kel_import(c, kel, n, &r), 0);
	hc_close(c);
}

static void check_contents(const char *db)
{
	hc_cache *c = open_store(db, 0, 0);
	char key[32], val[128], got[128];
	for (int i = 0; i < NVALUES; i++) {
		int kl = snprintf(key, sizeof key, "fixture-%d", i);
		size_t vl = value_of(i, val), gl = 0;
		assert_int_equal(hc_get(c, key, (size_t)kl, got, sizeof got, &gl), 0);
		assert_int_equal(gl, vl);
		assert_memory_equal(got, val, vl);
	}
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, PRE01, &ks), 0);
	assert_int_equal(ks.sn, 2);
	uint64_t events = 0;
	assert_int_equal(hc_kel_verify(c, PRE01, &events), 0);
	assert_int_equal(events, 3);
	hc_close(c);
}

static uint32_t stored_format(const char *db)
{
	struct backing *b = open_backing(db);
	struct backing_pin pin;
	assert_int_equal(backing_get_raw(b, BACKING_META, "format", 6, &pin), 0);
	assert_int_equal(pin.len, 4);
	uint32_t f = (uint32_t)pin.data[0] | (uint32_t)pin.data[1] << 8 |
	             (uint32_t)pin.data[2] << 16 | (uint32_t)pin.data[3] << 24;
	backing_pin_release(&pin);
	backing_close(b);
	return f;
}

/* A listing of names, sizes and modification times, to see that nothing changed. */
static void listing(const char *path, char *out, size_t cap)
{
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	size_t o = 0;
	out[0] = '\0';
	char names[64][256];
	int n = 0;
	while ((e = readdir(d)) != NULL && n < 64)
		snprintf(names[n++], sizeof names[0], "%s", e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
	for (int i = 0; i < n; i++) {
		char p[600];
		struct stat st;
		snprintf(p, sizeof p, "%.300s/%.255s", path, names[i]);
		if (stat(p, &st) != 0)
			continue;
		o += (size_t)snprintf(out + o, cap - o, "%s %lld %lld.%09ld\n", names[i],
		                      (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		                      st.st_mtim.tv_nsec);
	}
}

static void copy_fixture(char *db, size_t cap)
{
	const char *src = getenv("HC_SOURCE");
	char cmd[1400];
	snprintf(db, cap, "%s/db", testutil_dir);
	snprintf(cmd, sizeof cmd, "cp -r '%s/tests/data/store-0.2/db' '%s/db' && "
	         "cp '%s/tests/data/store-0.2/db.key' '%s/db.key' && chmod 600 '%s/db.key'",
	         src ? src : HC_SOURCE_DIR, testutil_dir, src ? src : HC_SOURCE_DIR, testutil_dir, testutil_dir);
	assert_int_equal(system(cmd), 0);
}

static void store_of_0_2_0_opens_and_reads_back(void **state)
{
	(void)state;
	char db[300];
	copy_fixture(db, sizeof db);
	check_contents(db);
	assert_int_equal(stored_format(db), BACKING_STORE_FORMAT);
}

static void other_format_is_refused_untouched(void **state)
{
	(void)state;
	char db[300], before[8192], after[8192];
	snprintf(db, sizeof db, "%s/db", testutil_dir);
	fill(db);
	struct backing *b = open_backing(db);
	const unsigned char v99[4] = {99, 0, 0, 0};
	assert_int_equal(backing_put_raw(b, BACKING_META, "format", 6, v99, 4), 0);
	backing_close(b);
	listing(db, before, sizeof before);
	open_store(db, 0, HC_ENOTSUP);
	listing(db, after, sizeof after);
	const char *e = hc_last_error();
	if (strstr(e, "format 99") == NULL || strstr(e, "format 1 ") == NULL)
		fail_msg("the refusal does not name both formats: %s", e);
	assert_string_equal(before, after);
}

static void unstamped_store_is_stamped_format_1(void **state)
{
	(void)state;
	char db[300];
	snprintf(db, sizeof db, "%s/db", testutil_dir);
	fill(db);
	struct backing *b = open_backing(db);
	assert_int_equal(backing_delete(b, BACKING_META, "format", 6), 0);
	struct backing_pin pin;
	assert_int_equal(backing_get_raw(b, BACKING_META, "format", 6, &pin), HC_ENOTFOUND);
	backing_close(b);
	check_contents(db); /* opens as primary: stamps */
	assert_int_equal(stored_format(db), 1);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--make-fixture") == 0) {
		/* Writes a new fixture store at argv[2] (which must not exist). */
		snprintf(testutil_dir, sizeof testutil_dir, "%s", argv[2]);
		char db[300];
		snprintf(db, sizeof db, "%s/db", argv[2]);
		fill(db);
		check_contents(db);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(store_of_0_2_0_opens_and_reads_back, testutil_setup,
		                                testutil_teardown),
		cmocka_unit_test_setup_teardown(other_format_is_refused_untouched, testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(unstamped_store_is_stamped_format_1, testutil_setup,
		                                testutil_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
