/* The allocation seam: a dedicated jemalloc arena, or malloc in sanitizer builds. */
#include "reclaim/alloc.h"
#include "reclaim/reclaim.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include <dlfcn.h>

#ifdef HC_FAULT_INJECTION
/*
 * The test seam (objects built for the tests; the installed library has none): 0 off,
 * n > 0 the n-th allocation from now fails, -1 every allocation fails. Relaxed: tests
 * arm it between operations. One load per allocation of a line nobody writes unless a
 * test arms it, so it costs nothing shared.
 */
static _Atomic long fail_state;

void mem_fail_after(long n)
{
	atomic_store_explicit(&fail_state, n, memory_order_relaxed);
}

static int injected_failure(void)
{
	long c = atomic_load_explicit(&fail_state, memory_order_relaxed);
	while (c != 0) {
		if (c < 0)
			return 1;
		/* The n-th call fails and so does every later one (-1). */
		long next = c == 1 ? -1 : c - 1;
		if (atomic_compare_exchange_weak_explicit(&fail_state, &c, next,
		                                          memory_order_relaxed,
		                                          memory_order_relaxed))
			return c == 1;
	}
	return 0;
}
#else
static inline int injected_failure(void)
{
	return 0;
}
#endif

/*
 * Which allocator: jemalloc when the process has it (the embedder links -ljemalloc,
 * as hotcache.pc does, or preloads it), found once with dlsym so that libhotcache
 * itself never pulls jemalloc in (a jemalloc loaded behind libc interposes operator
 * new but not malloc, and RocksDB's initialisers then free across the two). Entries
 * then come from a private arena with exact size classes (nallocx). Without jemalloc,
 * and in sanitizer builds, the system malloc; the charge is glibc's chunk size.
 */
struct jemalloc_api {
	void *(*mallocx)(size_t, int);
	void (*sdallocx)(void *, size_t, int);
	size_t (*nallocx)(size_t, int);
	int (*mallctl)(const char *, void *, size_t *, void *, size_t);
	int flags;
	int arena; /* the private arena's index, -1 if none */
};
/* jemalloc's flag encodings (jemalloc/jemalloc_macros.h): lg(align), arena + 1 << 20,
 * and "no thread cache" (tcache id -1 + 2, << 8). Without the last, mallocx with an
 * arena still serves from the thread's cache, which holds regions of arena 0: the
 * cache's memory would mix with the embedder's after all. */
#define JE_ALIGN16 4
/*
 * 16-byte alignment without asking for it: with jemalloc's quantum at 16 (x86-64's and
 * aarch64's), every size class from 16 bytes up is a multiple of 16 and slabs and
 * large extents are page-aligned, so every region of 16 bytes or more is 16-aligned.
 * je_init reads arenas.quantum and asks (JE_ALIGN16) only if it is smaller; sizes under
 * 16 are raised to 16 (je_size). Asking sent every mallocx down jemalloc's aligned
 * path: 51 more instructions an allocation (callgrind over bench/put_loop, 64-byte
 * values: 2580 instructions a put with the flag, 2512 without).
 */
#define JE_MIN_SIZE 16u

static inline size_t je_size(size_t size)
{
	return size < JE_MIN_SIZE ? JE_MIN_SIZE : size;
}
#define JE_ARENA(a) ((int)(((unsigned)(a) + 1) << 20))
#define JE_TCACHE(t) ((int)(((unsigned)(t) + 2) << 8))
#define JE_TCACHE_NONE ((int)(1u << 8))

/*
 * Bounded retention of freed pages. The private arena never returns pages by time
 * (dirty decay -1); our purge returns them (arena.<i>.purge: every dirty page back to
 * the system, one pass), and only when they are past what the open caches' limits
 * leave room for. The invariant, between the arena's allocated bytes A and its dirty
 * (freed, still resident) bytes D, both from jemalloc's stats:
 *
 *     A + D <= max(A, reserved) + HC_ARENA_RETAIN_BYTES
 *
 * where reserved is the sum of the open caches' cache.memory_limit (mem_reserve). What
 * a cache holds is within its limit, so the pages kept for reuse are the caches'
 * unused limit (reserved - A) plus HC_ARENA_RETAIN_BYTES, inside the bound README
 * states (Memory). Fragmentation inside partly used slabs is in neither term.
 *
 * How it is kept: a check reads A and D (an epoch refresh: 26-46 us here). With
 * room = reserved - A (0 if negative): past room + RETAIN/2 dirty it purges; the next
 * check comes after room + RETAIN - D more bytes of one kind: freed when room is 0,
 * allocated otherwise (check_frees). Every thread counts the bytes of that kind it
 * allocates or frees and adds them to a shared count in batches of HC_FREE_BATCH; the
 * thread whose batch takes the count past check_at resets it and checks. Why one kind
 * is enough: with a bytes allocated and f freed since the check, a free adds at most
 * its size to D, so D <= D_check + f, and A = A_check + a - f. With room 0 and
 * f <= RETAIN - D_check: A + D <= A + D_check + f <= A + RETAIN. With room > 0 and
 * a <= room + RETAIN - D_check: A + D <= A_check + a + D_check <= A_check + room +
 * RETAIN = reserved + RETAIN, whatever was freed. (Plus the batches not yet counted,
 * HC_FREE_BATCH per thread, a batch counted under the kind before a check changed it,
 * and what other threads do during a check's refresh; a slab emptied now also turns
 * its regions freed before dirty, as decay 0 did.) Counting both kinds, as until
 * 2026-12-07, checked twice as often under churn (allocations and frees alike): a
 * check about every hundred inserts of 8 KiB values, the p99 of cache_bench's mixed
 * inserts (10.7-28.8 us at 2 threads; 8.1-9.3 us with checks four times rarer).
 * mem_unreserve checks at once: a closed cache's freed entries go back then.
 *
 * Why the room: a cache at its limit frees in bursts (a reclamation batch released
 * after a grace period, up to an eighth of its limit) and allocates the same bytes
 * again just after. With 2 MiB alone (until 2026-12-06) those bursts crossed the
 * purge line: each purge was hundreds of one-page madvise calls, each a TLB-shootdown
 * IPI to every CPU running the process, and a page fault per page on reuse (cache_bench
 * mixed work, 8 KiB values, 8 threads: 1907 madvise calls in the timed threads, and
 * 0.52-0.57x HyperClockCache; the room: see README, Performance). Why not purge at every
 * HC_ARENA_RETAIN_BYTES freed, as first: under churn most freed regions are reused
 * before a slab empties, so such a purge found about 130 KiB dirty of every 2 MiB
 * freed, the pages the next allocations were about to reuse.
 */
#define HC_ARENA_DIRTY_DECAY_MS (-1)
#ifndef HC_ARENA_RETAIN_BYTES
#define HC_ARENA_RETAIN_BYTES ((size_t)2 << 20)
#endif
#define HC_FREE_BATCH ((size_t)64 << 10)

static struct jemalloc_api je;
/* Initial-exec, as reclaim's thread cache (RECLAIM_TLS_IE, reclaim.h): every
 * allocation and free reads both of these, and a shared library's TLS is otherwise
 * general-dynamic, a __tls_get_addr call each (three a cache-only put: 57 of its 2660
 * instructions in callgrind over bench/put_loop, until 2026-12-07). */
/* Bytes of the kind check_frees names, moved by this thread and not yet counted. */
static _Thread_local size_t tl_moved RECLAIM_TLS_IE;
/* Bytes of the kind check_frees names (1: freed, 0: allocated) since the last check, in
 * batches; relaxed: a count, it orders nothing (the check reads jemalloc's stats, the
 * purge takes its locks), and the kind is a bound the checking thread sets. */
static _Atomic size_t moved_shared;
static _Atomic int check_frees;
/* The sum of the open caches' memory limits (mem_reserve); relaxed: a bound the check
 * reads, nothing else depends on its order. */
static _Atomic size_t reserved;
/* When moved_shared reaches this, the next check (see above); relaxed: it is a bound
 * the checking thread sets from what it measured, and nothing else depends on it. */
static _Atomic size_t check_at = HC_ARENA_RETAIN_BYTES;
static char purge_name[64];
/* The private arena's dirty-pages statistic and jemalloc's page size, looked up once
 * (je_init): mem_dirty_bytes runs on the freeing path, once per check. 0: unknown. */
static char pdirty_name[64], small_name[64], large_name[64];
static size_t je_page;
/* Purges so far (mem_purges, for tests); relaxed: a count. */
static _Atomic unsigned long purges;
static pthread_once_t je_once = PTHREAD_ONCE_INIT;
/* Set by je_init's last store (release), read first by have_je (acquire): a thread that
 * sees 1 sees je and the names je_init filled, and skips pthread_once, a call of ~15
 * instructions on each of a put's two or three allocations and frees. */
static _Atomic int je_ready;

/*
 * A thread cache of our own per thread (jemalloc's explicit tcaches): the default
 * thread cache would hand out arena 0's regions, and no cache at all takes the arena's
 * lock on every allocation. Created on a thread's first allocation, destroyed at its
 * exit; -1 not yet, -2 none (creation failed, or the thread is exiting).
 */
static _Thread_local int tc_id RECLAIM_TLS_IE = -1;
static pthread_key_t tc_key;
static int tc_ok;

#ifndef HC_NO_JEMALLOC
static void tc_destroy(void *v)
{
	unsigned id = (unsigned)((uintptr_t)v - 1);
	tc_id = -2; /* later allocations of this exiting thread go uncached */
	je.mallctl("tcache.destroy", NULL, NULL, &id, sizeof(id));
}
#endif

static int je_flags(void)
{
	if (tc_id >= 0)
		return je.flags | JE_TCACHE(tc_id);
	if (tc_id == -1) {
		unsigned id;
		size_t sz = sizeof(id);
		tc_id = -2;
		if (tc_ok && je.mallctl("tcache.create", &id, &sz, NULL, 0) == 0) {
			if (pthread_setspecific(tc_key, (void *)((uintptr_t)id + 1)) == 0) {
				tc_id = (int)id;
				return je.flags | JE_TCACHE(id);
			}
			je.mallctl("tcache.destroy", NULL, NULL, &id, sizeof(id));
		}
	}
	return je.flags | JE_TCACHE_NONE;
}



static void je_setup(void)
{
	/* Written in every build, jemalloc or not: what have_je reads after je_ready. */
	je = (struct jemalloc_api){.arena = -1};
#ifndef HC_NO_JEMALLOC
	struct jemalloc_api j;
	*(void **)&j.mallocx = dlsym(RTLD_DEFAULT, "mallocx");
	*(void **)&j.sdallocx = dlsym(RTLD_DEFAULT, "sdallocx");
	*(void **)&j.nallocx = dlsym(RTLD_DEFAULT, "nallocx");
	*(void **)&j.mallctl = dlsym(RTLD_DEFAULT, "mallctl");
	if (j.mallocx == NULL || j.sdallocx == NULL || j.nallocx == NULL || j.mallctl == NULL)
		return;
	unsigned ind;
	size_t sz = sizeof(ind);
	size_t quantum = 0, qsz = sizeof(quantum);
	int aligned = j.mallctl("arenas.quantum", &quantum, &qsz, NULL, 0) == 0 &&
	              quantum >= JE_MIN_SIZE; /* every region of 16 bytes up: see je_size */
	j.flags = aligned ? 0 : JE_ALIGN16;
	j.arena = -1;
	/* A private arena; if jemalloc refuses, its default arenas still work. */
	if (j.mallctl("arenas.create", &ind, &sz, NULL, 0) == 0) {
		j.flags |= JE_ARENA(ind);
		j.arena = (int)ind;
		/* Freed pages go back to the system by our purge (HC_ARENA_RETAIN_BYTES
		 * above), never by time, and straight (no muzzy stage, whose MADV_FREE pages
		 * RSS still counts). jemalloc's default keeps dirty pages 10 s, and decays
		 * only while the arena is used: under churn that held tens of MiB of freed
		 * entries resident beyond the limit. memory_bench --rocksdb, max RSS growth:
		 * 107-117 MiB at 10 s, 104-116 at 1 s or 100 ms, 92-106 at 0. Decay 0 cost
		 * an madvise (and a TLB-shootdown IPI) per freed extent or emptied slab and
		 * a page fault when its pages are reused (the miss-and-put path; hits are
		 * untouched). Only our arena: the host's arenas keep the host's settings. */
		char name[64];
		ssize_t dirty = HC_ARENA_DIRTY_DECAY_MS, muzzy = 0;
		snprintf(name, sizeof(name), "arena.%u.dirty_decay_ms", ind);
		(void)j.mallctl(name, NULL, NULL, &dirty, sizeof(dirty));
		snprintf(name, sizeof(name), "arena.%u.muzzy_decay_ms", ind);
		(void)j.mallctl(name, NULL, NULL, &muzzy, sizeof(muzzy));
		snprintf(purge_name, sizeof(purge_name), "arena.%u.purge", ind);
		snprintf(pdirty_name, sizeof(pdirty_name), "stats.arenas.%u.pdirty", ind);
		snprintf(small_name, sizeof(small_name), "stats.arenas.%u.small.allocated", ind);
		snprintf(large_name, sizeof(large_name), "stats.arenas.%u.large.allocated", ind);
		size_t psz = sizeof(je_page);
		if (j.mallctl("arenas.page", &je_page, &psz, NULL, 0) != 0)
			je_page = 0;
	}
	je = j;
	tc_ok = pthread_key_create(&tc_key, tc_destroy) == 0;
#endif
}

static void je_init(void)
{
	je_setup();
	atomic_store_explicit(&je_ready, 1, memory_order_release); /* pairs: have_je */
}

static inline int have_je(void)
{
	if (__builtin_expect(!atomic_load_explicit(&je_ready, memory_order_acquire), 0))
		pthread_once(&je_once, je_init);
	return je.mallocx != NULL;
}

int mem_decay_ms(long *dirty, long *muzzy)
{
	if (!have_je() || je.arena < 0)
		return -1;
	char name[64];
	ssize_t v;
	size_t sz = sizeof(v);
	snprintf(name, sizeof(name), "arena.%d.dirty_decay_ms", je.arena);
	if (je.mallctl(name, &v, &sz, NULL, 0) != 0)
		return -1;
	*dirty = (long)v;
	snprintf(name, sizeof(name), "arena.%d.muzzy_decay_ms", je.arena);
	if (je.mallctl(name, &v, &sz, NULL, 0) != 0)
		return -1;
	*muzzy = (long)v;
	return 0;
}

size_t mem_retain_bytes(void)
{
	return have_je() && je.arena >= 0 ? HC_ARENA_RETAIN_BYTES : 0;
}

size_t mem_free_batch(void)
{
	return HC_FREE_BATCH;
}

/* Refreshes jemalloc's stats (its "epoch") and reads the private arena's dirty bytes,
 * and its allocated bytes when allocated is not NULL. Returns 0, or -1. */
static int arena_bytes(size_t *dirty, size_t *allocated)
{
	if (!have_je() || je.arena < 0 || je_page == 0)
		return -1;
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	if (je.mallctl("epoch", &epoch, &sz, &epoch, sz) != 0)
		return -1;
	size_t pdirty;
	sz = sizeof(pdirty);
	if (je.mallctl(pdirty_name, &pdirty, &sz, NULL, 0) != 0)
		return -1;
	*dirty = pdirty * je_page;
	if (allocated != NULL) {
		size_t small, large;
		sz = sizeof(small);
		if (je.mallctl(small_name, &small, &sz, NULL, 0) != 0)
			return -1;
		sz = sizeof(large);
		if (je.mallctl(large_name, &large, &sz, NULL, 0) != 0)
			return -1;
		*allocated = small + large;
	}
	return 0;
}

int mem_dirty_bytes(size_t *bytes)
{
	return arena_bytes(bytes, NULL);
}

int mem_allocated_bytes(size_t *bytes)
{
	size_t dirty;
	return arena_bytes(&dirty, bytes);
}

const char *mem_allocator(void)
{
	return have_je() ? "jemalloc (private arena)" : "system malloc";
}

static void count_moved(size_t size, int freeing);

void *mem_alloc(size_t size, int zero)
{
	if (injected_failure())
		return NULL;
	if (have_je()) {
		void *p = je.mallocx(je_size(size), je_flags());
		if (p != NULL) {
			if (zero)
				memset(p, 0, je.nallocx(je_size(size), je.flags));
			count_moved(size, 0);
		}
		return p;
	}
	return zero ? calloc(1, size ? size : 1) : malloc(size ? size : 1);
}

/* The check (see "Bounded retention" above): purges past the room the open caches'
 * limits leave, and sets when the next check comes. */
static void check_arena(void)
{
	size_t dirty, allocated;
	if (arena_bytes(&dirty, &allocated) != 0) {
		dirty = SIZE_MAX; /* unknown: purge, as decay 0 would */
		allocated = 0;
	}
	size_t res = atomic_load_explicit(&reserved, memory_order_relaxed);
	size_t room = res > allocated ? res - allocated : 0;
	if (dirty > room + HC_ARENA_RETAIN_BYTES / 2) {
		(void)je.mallctl(purge_name, NULL, NULL, NULL, 0);
		atomic_fetch_add_explicit(&purges, 1, memory_order_relaxed);
		dirty = 0;
	}
	atomic_store_explicit(&check_at, room + HC_ARENA_RETAIN_BYTES - dirty,
	                      memory_order_relaxed);
	atomic_store_explicit(&check_frees, room == 0, memory_order_relaxed);
}

/* Counts size bytes allocated (freeing 0) or freed (1) towards the next check. */
static void count_moved(size_t size, int freeing)
{
	if (je.arena < 0)
		return;
	/* The other kind cannot take the arena past its bound before the next check. */
	if (freeing != atomic_load_explicit(&check_frees, memory_order_relaxed))
		return;
	tl_moved += size;
	if (tl_moved < HC_FREE_BATCH)
		return;
	size_t batch = tl_moved;
	tl_moved = 0;
	size_t now = atomic_fetch_add_explicit(&moved_shared, batch, memory_order_relaxed) + batch;
	if (now < atomic_load_explicit(&check_at, memory_order_relaxed))
		return;
	/* Only the thread that takes the count back to 0 checks. */
	if (!atomic_compare_exchange_strong_explicit(&moved_shared, &now, 0,
	                                             memory_order_relaxed,
	                                             memory_order_relaxed))
		return;
	check_arena();
}

void mem_reserve(size_t bytes)
{
	atomic_fetch_add_explicit(&reserved, bytes, memory_order_relaxed);
}

size_t mem_reserved(void)
{
	return atomic_load_explicit(&reserved, memory_order_relaxed);
}

void mem_unreserve(size_t bytes)
{
	atomic_fetch_sub_explicit(&reserved, bytes, memory_order_relaxed);
	if (have_je() && je.arena >= 0) {
		atomic_store_explicit(&moved_shared, 0, memory_order_relaxed);
		check_arena();
	}
}

unsigned long mem_purges(void)
{
	return atomic_load_explicit(&purges, memory_order_relaxed);
}

/* 64-byte alignment: lg 6 in jemalloc's flags, in place of any JE_ALIGN16. */
#define JE_ALIGN64 6
#define JE_ALIGN_MASK 0x3f
#define LINE 64u

static size_t line_round(size_t size)
{
	return (size + LINE - 1) & ~(size_t)(LINE - 1);
}

void *mem_alloc_line(size_t size, int zero)
{
	if (injected_failure())
		return NULL;
	size = line_round(size ? size : 1);
	void *p;
	if (have_je()) {
		p = je.mallocx(size, (je_flags() & ~JE_ALIGN_MASK) | JE_ALIGN64);
		if (p != NULL)
			count_moved(size, 0);
	} else {
		p = aligned_alloc(LINE, size);
	}
	if (p != NULL && zero)
		memset(p, 0, size);
	return p;
}

void mem_free_line(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (have_je()) {
		size = line_round(size ? size : 1);
		je.sdallocx(p, size, (je_flags() & ~JE_ALIGN_MASK) | JE_ALIGN64);
		count_moved(size, 1);
	} else {
		free(p);
	}
}

size_t mem_charge_line(size_t size)
{
	size = line_round(size ? size : 1);
	if (have_je())
		return je.nallocx(size, (je.flags & ~JE_ALIGN_MASK) | JE_ALIGN64);
	/* glibc's memalign carves the aligned chunk out of a larger one and frees the
	 * rest: the chunk kept is the plain charge. */
	return mem_charge(size);
}


void mem_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (have_je()) {
		je.sdallocx(p, je_size(size), je_flags());
		count_moved(size ? size : 1, 1);
	} else {
		free(p);
	}
}

/* mem_charge's memo, per thread: every size from charge_lo to charge_class has the
 * size class charge_class (size classes are monotonic in the size, so all sizes
 * between two of one class are of that class too). A cache's entries are mostly of a
 * few sizes, keys and values of one kind varying by a few bytes, and nallocx costs
 * about 35 instructions (callgrind over bench/put_loop: 2328 -> 2310 instructions a
 * cache-only put of 64 B). charge_class 0: nothing known yet. */
static _Thread_local size_t charge_lo RECLAIM_TLS_IE, charge_class RECLAIM_TLS_IE;

size_t mem_charge(size_t size)
{
	if (have_je()) {
		size = je_size(size);
		if (size <= charge_class && size >= charge_lo)
			return charge_class;
		size_t c = je.nallocx(size, je.flags);
		if (c != charge_class) {
			charge_class = c;
			charge_lo = size;
		} else if (size < charge_lo) {
			charge_lo = size;
		}
		return c;
	}
	/* glibc: an 8-byte header, 16-byte granules, 32 bytes at least; requests past the
	 * mmap threshold (128 KiB unless tuned) take whole pages plus the header. */
	if (size >= (128u << 10))
		return (size + 16 + 4095) & ~(size_t)4095;
	size_t c = (size + 8 + 15) & ~(size_t)15;
	return c < 32 ? 32 : c;
}
