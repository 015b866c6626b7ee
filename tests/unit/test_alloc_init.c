/*
 * alloc.c's allocator lookup (je_init, once per process) is published by a release
 * store of je_ready that have_je reads with acquire before it reads je: a thread that
 * skips pthread_once because it saw the flag must see what je_init wrote. Under TSan
 * (the concurrency label) this test fails if either side is relaxed: thread B learns of
 * A's first allocation only through a relaxed flag of its own, so nothing but je_ready
 * orders A's writes of je before B's read of it. A test program of its own, so that
 * its first allocation is A's.
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include <cmocka.h>

#include "reclaim/alloc.h"

/* Relaxed on purpose: it must not order anything (see above). */
static _Atomic int a_done;

static void *first_allocation(void *arg)
{
	(void)arg;
	void *p = mem_alloc(100, 0); /* runs je_init */
	assert_non_null(p);
	mem_free(p, 100);
	atomic_store_explicit(&a_done, 1, memory_order_relaxed);
	return NULL;
}

static void *later_allocation(void *arg)
{
	size_t *charge = arg;
	while (!atomic_load_explicit(&a_done, memory_order_relaxed))
		sched_yield();
	*charge = mem_charge(100); /* sees je_ready set: reads je without pthread_once */
	return NULL;
}

static void a_thread_that_sees_the_allocator_ready_sees_its_setup(void **state)
{
	(void)state;
	pthread_t a, b;
	size_t charge = 0;
	/* B first, so that its creation does not order A's work before it. */
	assert_int_equal(pthread_create(&b, NULL, later_allocation, &charge), 0);
	assert_int_equal(pthread_create(&a, NULL, first_allocation, NULL), 0);
	assert_int_equal(pthread_join(a, NULL), 0);
	assert_int_equal(pthread_join(b, NULL), 0);
	assert_true(charge >= 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_thread_that_sees_the_allocator_ready_sees_its_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
