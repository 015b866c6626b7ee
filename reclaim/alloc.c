/* The allocation seam: a dedicated jemalloc arena, or malloc in sanitizer builds. */
#include "reclaim/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef HC_NO_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

/* Countdown to the injected failure: 0 = off, 1 = the next call fails. */
static _Atomic long fail_countdown;
static _Atomic int fail_sticky;
static _Atomic unsigned long alloc_calls;

void mem_fail_after(long n)
{
	atomic_store_explicit(&fail_sticky, 0, memory_order_relaxed);
	atomic_store_explicit(&fail_countdown, n, memory_order_relaxed);
}

unsigned long mem_alloc_calls(void)
{
	return atomic_load_explicit(&alloc_calls, memory_order_relaxed);
}

static int injected_failure(void)
{
	atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
	if (atomic_load_explicit(&fail_sticky, memory_order_relaxed))
		return 1;
	long c = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
	while (c > 0) {
		if (atomic_compare_exchange_weak_explicit(&fail_countdown, &c, c - 1,
		                                          memory_order_relaxed,
		                                          memory_order_relaxed)) {
			if (c == 1) {
				atomic_store_explicit(&fail_sticky, 1, memory_order_relaxed);
				return 1;
			}
			return 0;
		}
	}
	return 0;
}

#ifndef HC_NO_JEMALLOC
static unsigned arena_flags;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

static void arena_init(void)
{
	unsigned ind;
	size_t sz = sizeof(ind);
	/* A private arena; if jemalloc refuses, the default arena still works. */
	if (mallctl("arenas.create", &ind, &sz, NULL, 0) == 0)
		arena_flags = (unsigned)MALLOCX_ARENA(ind);
}

void *mem_alloc(size_t size, int zero)
{
	if (injected_failure())
		return NULL;
	pthread_once(&arena_once, arena_init);
	return mallocx(size ? size : 1,
	               (int)arena_flags | MALLOCX_ALIGN(16) | (zero ? MALLOCX_ZERO : 0));
}

void mem_free(void *p, size_t size)
{
	if (p != NULL)
		sdallocx(p, size ? size : 1, (int)arena_flags | MALLOCX_ALIGN(16));
}

size_t mem_charge(size_t size)
{
	return nallocx(size ? size : 1, MALLOCX_ALIGN(16));
}
#else
void *mem_alloc(size_t size, int zero)
{
	if (injected_failure())
		return NULL;
	size_t n = mem_charge(size);
	void *p = aligned_alloc(16, n);
	if (p != NULL && zero)
		memset(p, 0, n);
	return p;
}

void mem_free(void *p, size_t size)
{
	(void)size;
	free(p);
}

size_t mem_charge(size_t size)
{
	return size == 0 ? 16 : (size + 15) & ~(size_t)15;
}
#endif
