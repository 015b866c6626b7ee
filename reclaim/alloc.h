/*
 * The one allocation seam for cache memory (entries, map buckets, records).
 *
 * When the process links jemalloc, entries come from a dedicated jemalloc arena, so the
 * cache's memory is apart from the embedder's and its size classes are exact
 * (nallocx): the byte accounting charges what the allocator really hands out. Without
 * it, and in sanitizer builds (HC_NO_JEMALLOC), the system malloc, charged at glibc's
 * chunk size (see alloc.c for why jemalloc is found at run time, not linked).
 *
 * Tests make the Nth allocation from now fail (mem_fail_after) to drive every
 * caller's out-of-memory path; that seam is compiled into the tests' objects only.
 */
#ifndef HC_RECLAIM_ALLOC_H
#define HC_RECLAIM_ALLOC_H

#include <stddef.h>

/*
 * Returns size bytes aligned to 16, or NULL (out of memory, or an injected failure).
 * zero != 0 clears them. Any thread; lock-free apart from the allocator's own locks.
 */
void *mem_alloc(size_t size, int zero);
/* Frees p, which mem_alloc returned for the same size. Any thread. */
void mem_free(void *p, size_t size);
/* The same three for types declared 64-byte aligned (cache-line members: the cache,
 * shards, stripes, ck_epoch records): 64-byte aligned memory, which malloc does not
 * promise. Free with mem_free_line, charge with mem_charge_line. */
void *mem_alloc_line(size_t size, int zero);
void mem_free_line(void *p, size_t size);
size_t mem_charge_line(size_t size);
/* What mem_alloc(size) really occupies: the allocator's size class. Any thread; pure. */
size_t mem_charge(size_t size);

#ifdef HC_FAULT_INJECTION
/*
 * Test seam, in the objects built for the tests only (the installed library has no
 * injection): the n-th allocation from now (1 = the next) fails, and so does every
 * later one until mem_fail_after(0) turns injection off. Any thread; global.
 */
void mem_fail_after(long n);
#endif
/* "jemalloc (private arena)" or "system malloc". Any thread. */
const char *mem_allocator(void);
/*
 * The private jemalloc arena's decay times in ms (jemalloc's arena.<i>.dirty_decay_ms
 * and muzzy_decay_ms), for tests: dirty -1 (never by time: freed pages go back by the
 * purge mem_retain_bytes bounds) and muzzy 0. Returns 0, or -1 without jemalloc or
 * without a private arena.
 */
int mem_decay_ms(long *dirty, long *muzzy);
/*
 * The bound on the freed (dirty) bytes the private arena keeps beyond the open caches'
 * unused limits (each thread adds what it allocates and frees in batches of
 * mem_free_batch bytes; a check of the arena's bytes comes before that sum can take
 * them past the bound, and purges the arena when its dirty bytes are past the room
 * plus half of it: alloc.c). 0 without a private arena.
 */
size_t mem_retain_bytes(void);
size_t mem_free_batch(void);
/*
 * For tests: the private arena's dirty (freed, not yet returned) bytes now, from
 * jemalloc's stats.arenas.<i>.pdirty after an epoch refresh. Returns 0, or -1 without
 * a private arena. Any thread; slow.
 */
int mem_dirty_bytes(size_t *bytes);
/*
 * A cache's memory limit, added to (mem_reserve, at hc_open) and taken from
 * (mem_unreserve, at hc_close, after its memory is freed) the sum the private arena
 * may keep freed pages within: it keeps them while its allocated bytes plus its dirty
 * bytes stay under that sum plus mem_retain_bytes (alloc.c). mem_unreserve checks at
 * once and purges what is past the new sum. Any thread.
 */
void mem_reserve(size_t bytes);
void mem_unreserve(size_t bytes);
/* For tests: the sum reserved now. */
size_t mem_reserved(void);
/* For tests: the private arena's allocated bytes now (jemalloc's small.allocated +
 * large.allocated after an epoch refresh). Returns 0, or -1 without a private arena. */
int mem_allocated_bytes(size_t *bytes);
/* For tests: how many times the private arena was purged since the process started. */
unsigned long mem_purges(void);

#endif
