/*
 * Belady's OPT with bypass (see sim.h). The cached keys map to their next use; a binary
 * max-heap of (next use, key) finds the farthest. A hit pushes a fresh pair and leaves
 * the old one in the heap; a pair is stale when the table no longer maps its key to its
 * next use, and stale pairs are dropped when they reach the top. Next uses are unique
 * positions (SIM_NEVER aside, which the key check disambiguates), so the check is exact.
 */
#include "bench/sim.h"

#include <stdio.h>
#include <stdlib.h>

struct pair {
	uint32_t next;
	uint64_t key;
};

static void heap_push(struct pair *h, size_t *n, struct pair p)
{
	size_t i = (*n)++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (h[up].next >= p.next)
			break;
		h[i] = h[up];
		i = up;
	}
	h[i] = p;
}

static void heap_pop(struct pair *h, size_t *n)
{
	struct pair last = h[--*n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1].next > h[c].next)
			c++;
		if (h[c].next <= last.next)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n > 0)
		h[i] = last;
}

void sim_opt_next(const uint64_t *keys, size_t n, uint32_t *next)
{
	struct sim_table last;
	sim_table_init(&last, n);
	for (size_t i = n; i-- > 0;) {
		uint32_t *v = sim_table_find(&last, keys[i]);
		next[i] = v ? *v : SIM_NEVER;
		sim_table_put(&last, keys[i], (uint32_t)i);
	}
	sim_table_free(&last);
}

uint64_t sim_opt(const uint64_t *keys, const uint32_t *next, size_t n, size_t cap)
{
	struct sim_table t;
	struct pair *heap;
	size_t hn = 0, used = 0;
	uint64_t hits = 0;

	if (cap == 0)
		return 0;
	heap = malloc((n + cap + 1) * sizeof *heap);
	if (!heap) {
		fprintf(stderr, "sim_opt: out of memory\n");
		abort();
	}
	sim_table_init(&t, cap);
	for (size_t i = 0; i < n; i++) {
		uint32_t *v = sim_table_find(&t, keys[i]);
		struct pair p = { next[i], keys[i] };
		if (v != NULL) {
			hits++;
			*v = p.next;
			heap_push(heap, &hn, p);
			continue;
		}
		if (used < cap) {
			used++;
		} else {
			for (;;) {
				uint32_t *cur = sim_table_find(&t, heap[0].key);
				if (cur != NULL && *cur == heap[0].next)
					break;
				heap_pop(heap, &hn);
			}
			if (p.next >= heap[0].next)
				continue; /* the newcomer is needed last: do not admit it */
			sim_table_del(&t, heap[0].key);
			heap_pop(heap, &hn);
		}
		sim_table_put(&t, p.key, p.next);
		heap_push(heap, &hn, p);
	}
	sim_table_free(&t);
	free(heap);
	return hits;
}
