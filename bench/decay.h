/*
 * --dirty-decay-ms MS, a diagnostic variant shared by cache_bench and backing_bench.
 *
 * hotcache's private jemalloc arena never returns freed pages by time (dirty decay -1)
 * but purges them once the bytes freed since the last purge pass a small bound
 * (reclaim/alloc.c; decay 0 before): an madvise, and with it a TLB shootdown (an IPI to
 * every CPU that ran the process), per emptied slab or extent, and a page fault when
 * the page is used again, to keep resident memory near cache.memory_limit. The RocksDB
 * peers allocate from jemalloc's default arenas, which keep freed pages 10 s.
 * bench_set_dirty_decay sets the dirty decay of the arenas whose decay is 0 or -1
 * (hotcache's; call it after hc_open), leaving the others alone, to show what the
 * bounded return still costs on the miss, put and eviction paths. Header only.
 */
#ifndef HC_BENCH_DECAY_H
#define HC_BENCH_DECAY_H

#include <dlfcn.h>
#include <stdio.h>
#include <sys/types.h>

/* ms < 0: leaves the arenas alone. */
static inline void bench_set_dirty_decay(long ms)
{
	typedef int mallctl_fn(const char *, void *, size_t *, void *, size_t);
	mallctl_fn *mallctl;
	unsigned narenas;
	size_t sz = sizeof narenas;
	if (ms < 0)
		return;
	*(void **)&mallctl = dlsym(RTLD_DEFAULT, "mallctl");
	if (mallctl == NULL || mallctl("arenas.narenas", &narenas, &sz, NULL, 0) != 0) {
		fprintf(stderr, "--dirty-decay-ms: no jemalloc in this process\n");
		return;
	}
	for (unsigned i = 0; i < narenas; i++) {
		char name[64];
		ssize_t now, v = ms;
		size_t vs = sizeof now;
		snprintf(name, sizeof name, "arena.%u.dirty_decay_ms", i);
		if (mallctl(name, &now, &vs, NULL, 0) == 0 && now <= 0)
			(void)mallctl(name, NULL, NULL, &v, sizeof v);
	}
}

#endif
