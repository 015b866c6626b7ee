/*
 * test_log: the library says nothing on stderr or stdout by itself, and what it has to
 * report reaches the embedder's hc_config.log_fn (issue 12, point 3).
 */
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

#include "hotcache.h"
#include "tests/unit/testutil.h"

struct logged {
	int n, level;
	char msg[512];
};

static void collect(int level, const char *msg, void *arg)
{
	struct logged *l = arg;
	l->n++;
	l->level = level;
	snprintf(l->msg, sizeof l->msg, "%s", msg);
}

static hc_cache *open_in(const char *name, hc_log_fn fn, void *arg)
{
	struct hc_config cfg;
	char err[256], path[300];
	assert_int_equal(hc_config_default(&cfg), 0);
	snprintf(path, sizeof path, "%s/%s", testutil_dir, name);
	assert_int_equal(hc_config_set(&cfg, "backing.mode", "rocksdb", err, sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.path", path, err, sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.durability", "none", err, sizeof err), 0);
	assert_int_equal(hc_config_set(&cfg, "cache.memory_limit", "8 MiB", err, sizeof err), 0);
	cfg.log_fn = fn;
	cfg.log_arg = arg;
	hc_cache *c = NULL;
	int rc = hc_open(&cfg, &c);
	if (rc != 0)
		fail_msg("hc_open: %s", hc_last_error());
	return c;
}

/* A new store (which creates a data key), writes, reads, a miss, close: with stdout and
 * stderr pointed at a file, the file stays empty. */
static void nothing_on_stderr_or_stdout(void **state)
{
	(void)state;
	char out[300];
	snprintf(out, sizeof out, "%s/out", testutil_dir);
	fflush(stdout);
	fflush(stderr);
	int fd = open(out, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	assert_true(fd >= 0);
	int so = dup(1), se = dup(2);
	assert_true(so >= 0 && se >= 0);
	dup2(fd, 1);
	dup2(fd, 2);
	hc_cache *c = open_in("quiet", NULL, NULL);
	char v[8];
	size_t vl;
	int put = hc_put(c, "k", 1, "v", 1);
	int get = hc_get(c, "k", 1, v, sizeof v, &vl);
	int miss = hc_get(c, "absent", 6, v, sizeof v, &vl);
	hc_close(c);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fd);
	assert_int_equal(put, 0);
	assert_int_equal(get, 0);
	assert_int_equal(miss, HC_ENOTFOUND);
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	if (st.st_size != 0) {
		char text[512] = "";
		FILE *f = fopen(out, "r");
		if (f != NULL) {
			size_t n = fread(text, 1, sizeof text - 1, f);
			text[n] = '\0';
			fclose(f);
		}
		fail_msg("the library wrote %lld bytes to stdout/stderr: %s",
		         (long long)st.st_size, text);
	}
}

/* The new data key is reported once, at INFO, naming the key file; reopening the
 * store (the key exists) reports nothing. */
static void new_key_is_reported_through_log_fn(void **state)
{
	(void)state;
	struct logged l = {0};
	hc_cache *c = open_in("told", collect, &l);
	hc_close(c);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.level, HC_LOG_INFO);
	assert_non_null(strstr(l.msg, "created a new store"));
	assert_non_null(strstr(l.msg, "data key"));
	assert_non_null(strstr(l.msg, "/told.key"));
	memset(&l, 0, sizeof l);
	c = open_in("told", collect, &l);
	hc_close(c);
	assert_int_equal(l.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(nothing_on_stderr_or_stdout, testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(new_key_is_reported_through_log_fn, testutil_setup,
		                                testutil_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
