/*
 * The private jemalloc arena keeps a bounded amount of freed pages (issue 12, point 7;
 * issue 14, section 3): jemalloc's default keeps dirty pages 10 s, which under churn
 * kept tens of MiB of freed entries resident beyond the cache's limit (bench/memory_bench
 * --rocksdb); decay 0 returned every freed page at once, an madvise and a TLB shootdown
 * per emptied slab and a page fault on its reuse. Now freed pages stay for reuse while
 * the arena's dirty bytes stay under mem_retain_bytes: they are checked before the
 * bytes freed since the last check could take them past it, and purged when past half.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reclaim/alloc.h"

/* Large blocks: each is its own extent, so freeing one makes its pages dirty at once
 * (no tcache for sizes this large), and what the arena keeps is easy to count. */
#define BLOCK ((size_t)256 << 10)

static void private_arena_never_decays_by_time(void **state)
{
	(void)state;
	void *p = mem_alloc(100, 0); /* the arena is made on first use */
	assert_non_null(p);
	mem_free(p, 100);
	long dirty = -2, muzzy = -2;
	if (mem_decay_ms(&dirty, &muzzy) != 0)
		skip(); /* system malloc (sanitizer builds): nothing of ours to tune */
	assert_int_equal(dirty, -1);
	assert_int_equal(muzzy, 0);
}

/* Frees below the bound stay for reuse: decay 0 returned them at once. */
static void freed_pages_are_kept_below_the_bound(void **state)
{
	(void)state;
	size_t d0;
	if (mem_dirty_bytes(&d0) != 0)
		skip();
	size_t retain = mem_retain_bytes();
	assert_true(retain >= 4 * BLOCK);
	void *b[2];
	for (int i = 0; i < 2; i++) {
		b[i] = mem_alloc(BLOCK, 1);
		assert_non_null(b[i]);
	}
	for (int i = 0; i < 2; i++)
		mem_free(b[i], BLOCK);
	size_t d1;
	assert_int_equal(mem_dirty_bytes(&d1), 0);
	assert_true(d1 >= BLOCK); /* some of what was freed is still resident for reuse */
	assert_true(d1 <= retain + mem_free_batch());
}

/* However much is freed, what the arena keeps stays under the bound (one thread here:
 * one batch in flight). */
static void freed_pages_go_back_past_the_bound(void **state)
{
	(void)state;
	size_t d;
	if (mem_dirty_bytes(&d) != 0)
		skip();
	size_t retain = mem_retain_bytes();
	size_t n = 4 * (retain / BLOCK) + 8;
	void **b = mem_alloc(n * sizeof(*b), 1);
	assert_non_null(b);
	size_t max_dirty = 0;
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < n; i++) {
			b[i] = mem_alloc(BLOCK, 1); /* touched: resident */
			assert_non_null(b[i]);
		}
		for (size_t i = 0; i < n; i++) {
			mem_free(b[i], BLOCK);
			assert_int_equal(mem_dirty_bytes(&d), 0);
			if (d > max_dirty)
				max_dirty = d;
		}
	}
	mem_free(b, n * sizeof(*b));
	assert_true(max_dirty > 0);
	assert_true(max_dirty <= retain + mem_free_batch() + BLOCK);
}

/* Frees whose pages are reused at once leave nothing dirty: churn of any volume then
 * purges nothing, so no page goes back only to fault in again (a purge per
 * mem_retain_bytes freed cost cache_bench's mixed work with 8 KiB values a quarter of
 * its throughput at 2 threads in madvise calls, TLB shootdowns and page faults). */
static void churn_that_reuses_its_pages_purges_nothing(void **state)
{
	(void)state;
	size_t d;
	if (mem_dirty_bytes(&d) != 0)
		skip();
	void *keep = mem_alloc(BLOCK, 1); /* the arena's pages stay mapped */
	assert_non_null(keep);
	unsigned long p0 = mem_purges();
	size_t freed = 0, max_dirty = 0;
	while (freed < 8 * mem_retain_bytes()) {
		void *b = mem_alloc(BLOCK, 1);
		assert_non_null(b);
		mem_free(b, BLOCK);
		freed += BLOCK;
		assert_int_equal(mem_dirty_bytes(&d), 0);
		max_dirty = d > max_dirty ? d : max_dirty;
	}
	mem_free(keep, BLOCK);
	assert_true(max_dirty <= 2 * BLOCK); /* each block reused the last one's pages */
	assert_int_equal(mem_purges() - p0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(private_arena_never_decays_by_time),
		cmocka_unit_test(freed_pages_are_kept_below_the_bound),
		cmocka_unit_test(freed_pages_go_back_past_the_bound),
		cmocka_unit_test(churn_that_reuses_its_pages_purges_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
