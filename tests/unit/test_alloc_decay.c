/*
 * The private jemalloc arena gives freed pages back at once (issue 12, point 7):
 * jemalloc's default keeps dirty pages 10 s, which under churn kept tens of MiB of freed
 * entries resident beyond the cache's limit (bench/memory_bench --rocksdb).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reclaim/alloc.h"

static void private_arena_returns_freed_pages_at_once(void **state)
{
	(void)state;
	void *p = mem_alloc(100, 0); /* the arena is made on first use */
	assert_non_null(p);
	mem_free(p, 100);
	long dirty = -2, muzzy = -2;
	if (mem_decay_ms(&dirty, &muzzy) != 0)
		skip(); /* system malloc (sanitizer builds): nothing of ours to tune */
	assert_int_equal(dirty, 0);
	assert_int_equal(muzzy, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(private_arena_returns_freed_pages_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
