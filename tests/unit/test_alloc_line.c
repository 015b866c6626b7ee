/*
 * Regression (issue 11, defect 10): types declared 64-byte aligned (ck_epoch records,
 * so every reclaim record; the cache's shards and stripes) came from malloc with its
 * 16-byte alignment. Built without jemalloc on purpose (glibc's malloc is where the
 * alignment was missing; jemalloc's size classes hid it), so not through hc_test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "reclaim/alloc.h"
#include "reclaim/reclaim.h"

static void reclaim_records_are_cache_line_aligned(void **state)
{
	(void)state;
	for (int i = 0; i < 16; i++) {
		struct reclaim r;
		assert_int_equal(reclaim_init(&r, 1 << 20, (size_t)i), 0);
		struct reclaim_thread *t = reclaim_self(&r);
		assert_non_null(t);
		print_message("record %p, shared record %p\n", (void *)t, (void *)r.shared);
		assert_int_equal((uintptr_t)t % 64, 0);
		assert_int_equal((uintptr_t)r.shared % 64, 0);
		reclaim_destroy(&r);
	}
}

static void line_allocations_are_aligned_and_charged_at_least_their_size(void **state)
{
	(void)state;
	for (size_t size = 1; size < 70000; size = size * 3 + 1) {
		void *p = mem_alloc_line(size, 1);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 64, 0);
		assert_true(mem_charge_line(size) >= size);
		mem_free_line(p, size);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reclaim_records_are_cache_line_aligned),
		cmocka_unit_test(line_allocations_are_aligned_and_charged_at_least_their_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
