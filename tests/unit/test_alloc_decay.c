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

#include "hotcache.h"
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

/* mem_alloc promises 16-byte alignment (alloc.h) without asking jemalloc for it (the
 * aligned path cost 51 instructions an allocation): sizes under 16 are raised to 16,
 * jemalloc's classes from 16 up are multiples of its quantum (16), and large extents
 * are page-aligned. Every size a cache allocates, tiny to large, is checked, with the
 * charge covering the size and a zeroed allocation zero. */
static void allocations_are_16_aligned_without_the_aligned_path(void **state)
{
	(void)state;
	static const size_t big[] = {4095, 4097, 14337, 16385, 65543, 300001};
	enum { N = 1024 + sizeof(big) / sizeof(big[0]) };
	void *keep[8];
	for (size_t i = 0; i < N; i++) {
		size_t size = i < 1024 ? i : big[i - 1024];
		/* Eight live at once, so that small classes hand out more than one region
		 * of their slab (region k of class 8 is 8 * k into it). */
		for (int k = 0; k < 8; k++) {
			unsigned char *p = mem_alloc(size, k == 0);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % 16, 0);
			size_t charge = mem_charge(size);
			assert_true(charge >= (size ? size : 1));
			if (k == 0)
				for (size_t b = 0; b < size; b++)
					assert_int_equal(p[b], 0);
			keep[k] = p;
		}
		for (int k = 0; k < 8; k++)
			mem_free(keep[k], size);
	}
}

/* mem_charge remembers, per thread, the last size class and the least size seen in
 * it, and answers sizes between the two without asking jemalloc. A size's charge must
 * not depend on the sizes asked before: sizes 0-20000 asked in ascending, descending
 * and strided order must get the same charges, each at least the size and within its
 * class's spacing above it. (Without jemalloc, sanitizer builds, there is no memo and
 * the charge models glibc's.) */
static void a_charge_does_not_depend_on_the_sizes_asked_before(void **state)
{
	(void)state;
	enum { N = 20001 };
	static size_t up[N], down[N], strided[N];
	for (size_t i = 0; i < N; i++)
		up[i] = mem_charge(i);
	for (size_t i = N; i-- > 0;)
		down[i] = mem_charge(i);
	for (size_t k = 0; k < N; k++) {
		size_t i = k * 7919 % N; /* 7919 is prime, N is not its multiple: a permutation */
		strided[i] = mem_charge(i);
	}
	size_t classes = 0;
	for (size_t i = 0; i < N; i++) {
		if (up[i] != down[i] || up[i] != strided[i])
			fail_msg("size %zu: charge %zu ascending, %zu descending, %zu strided", i,
			         up[i], down[i], strided[i]);
		/* jemalloc's classes are at most a quarter apart (16 bytes below 128); the
		 * glibc model adds at most 23 bytes. A memo answering from a larger class
		 * than the size's (left over from a larger size) would break this. */
		assert_true(up[i] >= (i ? i : 1));
		assert_true(up[i] <= i + i / 4 + 32);
		classes += i == 0 || up[i] != up[i - 1];
	}
	print_message("sizes 0-%d: %zu charges, the same in every order\n", N - 1, classes);
	assert_true(classes > 20);
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
	mem_unreserve(0); /* checks now: what the tests before left past the bound goes */
	assert_int_equal(mem_dirty_bytes(&d), 0);
	size_t d0 = d; /* what they left for reuse */
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
	print_message("dirty at the start %zu KiB, at most %zu KiB\n", d0 >> 10, max_dirty >> 10);
	assert_true(max_dirty <= d0 + 2 * BLOCK); /* each block reused the last one's pages */
	assert_int_equal(mem_purges() - p0, 0);
}

/* A cache's limit, reserved: what it frees stays for reuse while the arena's
 * allocated and dirty bytes fit in the limit (a cache at its limit frees a
 * reclamation batch and allocates as much again just after), and goes back when the
 * limit is given back. Before the reservation counted, every check past 1 MiB dirty
 * purged: cache_bench's mixed work at 8 threads made 1907 madvise calls. */
static void freed_pages_within_a_reserved_limit_stay_until_it_is_given_back(void **state)
{
	(void)state;
	size_t d;
	if (mem_dirty_bytes(&d) != 0)
		skip();
	mem_unreserve(0); /* checks now: start from what the bound lets stay */
	size_t limit = (size_t)16 << 20;
	size_t n = (limit / 2) / BLOCK; /* 8 MiB in use at most */
	void **b = mem_alloc(n * sizeof(*b), 1);
	assert_non_null(b);
	mem_reserve(limit);
	unsigned long p0 = mem_purges();
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < n; i++) {
			b[i] = mem_alloc(BLOCK, 1);
			assert_non_null(b[i]);
		}
		for (size_t i = 0; i < n; i++)
			mem_free(b[i], BLOCK);
	}
	assert_int_equal(mem_dirty_bytes(&d), 0);
	print_message("kept %zu KiB of %zu KiB freed, purges %lu\n", d >> 10,
	              (n * BLOCK) >> 10, mem_purges() - p0);
	assert_int_equal(mem_purges() - p0, 0);
	assert_true(d >= n * BLOCK - mem_retain_bytes()); /* nearly all stayed */
	mem_unreserve(limit);
	assert_true(mem_purges() - p0 >= 1);
	assert_int_equal(mem_dirty_bytes(&d), 0);
	assert_true(d <= mem_retain_bytes() / 2);
	mem_free(b, n * sizeof(*b));
}

/* alloc.c's invariant now: the arena's allocated + dirty bytes within
 * max(allocated, reserved) + slack. Returns how far past max(allocated, reserved)
 * they are (0 if not past). */
static size_t assert_within_bound(size_t reserved, size_t slack)
{
	size_t d, a;
	assert_int_equal(mem_dirty_bytes(&d), 0);
	assert_int_equal(mem_allocated_bytes(&a), 0);
	size_t base = a > reserved ? a : reserved;
	assert_true(a + d <= base + slack);
	return a + d > base ? a + d - base : 0;
}

/* Past the reservation the bound holds at every step: allocated + dirty never exceeds
 * max(allocated, reserved) + mem_retain_bytes (plus a batch not yet counted and the
 * block in hand), whatever mix of allocations and frees (alloc.c's invariant). */
static void allocated_and_dirty_stay_within_the_reserved_limit(void **state)
{
	(void)state;
	size_t d;
	if (mem_dirty_bytes(&d) != 0)
		skip();
	mem_unreserve(0);
	size_t limit = (size_t)4 << 20;
	size_t n = (size_t)(16 << 20) / BLOCK;
	void **b = mem_alloc(n * sizeof(*b), 1);
	assert_non_null(b);
	mem_reserve(limit);
	size_t slack = mem_retain_bytes() + mem_free_batch() + BLOCK, worst = 0;
	unsigned long p0 = mem_purges();
	for (int round = 0; round < 3; round++) {
		/* Allocate all, free every other one, allocate those again, free all. */
		for (int phase = 0; phase < 4; phase++) {
			for (size_t i = phase == 1 || phase == 2 ? 1 : 0; i < n;
			     i += phase == 1 || phase == 2 ? 2 : 1) {
				if (phase == 0 || phase == 2) {
					b[i] = mem_alloc(BLOCK, 1);
					assert_non_null(b[i]);
				} else {
					mem_free(b[i], BLOCK);
				}
				size_t over = assert_within_bound(limit, slack);
				worst = over > worst ? over : worst;
			}
		}
	}
	print_message("at most %zu KiB past max(allocated, reserved), purges %lu\n",
	              worst >> 10, mem_purges() - p0);
	assert_true(mem_purges() - p0 >= 1);
	mem_unreserve(limit);
	mem_free(b, n * sizeof(*b));
}

/* With room under the reserved limit, the check counts allocations, not frees: frees
 * there add dirty pages that allocations reuse, but allocations the dirty pages cannot
 * serve take allocated + dirty past the bound. Here 64 pairs of blocks are allocated
 * and one of each pair freed (8 MiB dirty, in holes the pinned blocks keep from
 * coalescing), then blocks of three times the size, which no hole can hold, until
 * allocated is near the limit: the check must come from those allocations and purge
 * the holes. With the check's kind fixed to frees (room's allowance unchanged), or with
 * allocations never counted, no check came and the bound failed (seen, both; the other
 * tests here passed with the first). */
static void allocations_the_dirty_pages_cannot_serve_bring_the_check(void **state)
{
	(void)state;
	size_t d;
	if (mem_dirty_bytes(&d) != 0)
		skip();
	enum { PAIRS = 64, BIG = 30 };
	size_t limit = (size_t)32 << 20;
	void *pair[2 * PAIRS], *big[BIG];
	mem_unreserve(0); /* no room: what the tests before left dirty goes */
	mem_reserve(limit);
	mem_unreserve(0); /* checks again, with the room the reservation leaves */
	size_t slack = mem_retain_bytes() + mem_free_batch() + 3 * BLOCK, worst = 0;
	unsigned long p0 = mem_purges();
	for (int i = 0; i < 2 * PAIRS; i++) {
		pair[i] = mem_alloc(BLOCK, 1);
		assert_non_null(pair[i]);
	}
	for (int i = 0; i < 2 * PAIRS; i += 2) {
		mem_free(pair[i], BLOCK);
		(void)assert_within_bound(limit, slack);
	}
	int nbig = 0;
	for (size_t a = 0; nbig < BIG; nbig++) {
		assert_int_equal(mem_allocated_bytes(&a), 0);
		if (a + 4 * BLOCK > limit)
			break; /* room left throughout */
		big[nbig] = mem_alloc(3 * BLOCK, 1);
		assert_non_null(big[nbig]);
		size_t over = assert_within_bound(limit, slack);
		worst = over > worst ? over : worst;
	}
	print_message("%d blocks of %zu KiB: at most %zu KiB past the reserved limit, "
	              "purges %lu\n", nbig, (3 * BLOCK) >> 10, worst >> 10, mem_purges() - p0);
	assert_true(nbig >= BIG / 2);
	assert_true(mem_purges() - p0 >= 1);
	for (int i = 0; i < nbig; i++)
		mem_free(big[i], 3 * BLOCK);
	for (int i = 1; i < 2 * PAIRS; i += 2)
		mem_free(pair[i], BLOCK);
	mem_unreserve(limit);
}

/* A cache reserves its limit while open: under churn at the limit the arena's
 * allocated and dirty bytes stay within the limit plus the retention, and hc_close
 * gives the limit back and purges (without cache_free's mem_unreserve, I saw the close
 * part fail). */
static void a_closed_cache_gives_its_freed_pages_back(void **state)
{
	(void)state;
	size_t d, a;
	if (mem_dirty_bytes(&d) != 0)
		skip();
	mem_unreserve(0);
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = (uint64_t)16 << 20;
	cfg.shards = 2;
	hc_cache *c;
	assert_int_equal(hc_open(&cfg, &c), 0);
	static unsigned char v[8192];
	unsigned long p0 = mem_purges();
	size_t slack = mem_retain_bytes() + mem_free_batch() + 2 * sizeof(v);
	/* Four times what the cache holds: it evicts (and frees) throughout. */
	for (uint32_t i = 0; i < 4 * (16u << 20) / sizeof(v); i++) {
		v[0] = (unsigned char)i;
		assert_int_equal(hc_put(c, &i, sizeof(i), v, sizeof(v)), 0);
		if (i % 64 == 0)
			(void)assert_within_bound((size_t)cfg.memory_limit, slack);
	}
	assert_int_equal(mem_dirty_bytes(&d), 0);
	assert_int_equal(mem_allocated_bytes(&a), 0);
	print_message("churn: purges %lu, at the end %zu KiB allocated, %zu KiB dirty\n",
	              mem_purges() - p0, a >> 10, d >> 10);
	hc_close(c);
	assert_true(mem_purges() - p0 >= 1);
	assert_int_equal(mem_dirty_bytes(&d), 0);
	print_message("after hc_close: %zu KiB dirty\n", d >> 10);
	assert_true(d <= mem_retain_bytes() / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(private_arena_never_decays_by_time),
		cmocka_unit_test(allocations_are_16_aligned_without_the_aligned_path),
		cmocka_unit_test(a_charge_does_not_depend_on_the_sizes_asked_before),
		cmocka_unit_test(freed_pages_are_kept_below_the_bound),
		cmocka_unit_test(freed_pages_go_back_past_the_bound),
		cmocka_unit_test(churn_that_reuses_its_pages_purges_nothing),
		cmocka_unit_test(freed_pages_within_a_reserved_limit_stay_until_it_is_given_back),
		cmocka_unit_test(allocated_and_dirty_stay_within_the_reserved_limit),
		cmocka_unit_test(allocations_the_dirty_pages_cannot_serve_bring_the_check),
		cmocka_unit_test(a_closed_cache_gives_its_freed_pages_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
