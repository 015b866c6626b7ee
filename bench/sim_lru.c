/* Exact LRU: a doubly linked list of slots, most recent at the head. See sim.h. */
#include "bench/sim.h"

#include <stdio.h>
#include <stdlib.h>

uint64_t sim_lru(const uint64_t *keys, size_t n, size_t cap)
{
	struct sim_table t;
	uint32_t *prev, *next;
	uint64_t *key, hits = 0;
	uint32_t head = SIM_NEVER, tail = SIM_NEVER, used = 0;

	if (cap == 0)
		return 0;
	prev = malloc(cap * sizeof *prev);
	next = malloc(cap * sizeof *next);
	key = malloc(cap * sizeof *key);
	if (!prev || !next || !key) {
		fprintf(stderr, "sim_lru: out of memory\n");
		abort();
	}
	sim_table_init(&t, cap);
	for (size_t i = 0; i < n; i++) {
		uint32_t *slot = sim_table_find(&t, keys[i]);
		uint32_t s;
		if (slot != NULL) {
			hits++;
			s = *slot;
			if (s == head)
				continue;
			/* unlink s (not the head, so prev[s] exists) */
			next[prev[s]] = next[s];
			if (s == tail)
				tail = prev[s];
			else
				prev[next[s]] = prev[s];
		} else if (used < cap) {
			s = used++;
			if (tail == SIM_NEVER)
				tail = s;
		} else {
			s = tail;
			sim_table_del(&t, key[s]);
			tail = prev[s];
			if (tail == SIM_NEVER)
				head = SIM_NEVER;
			else
				next[tail] = SIM_NEVER;
		}
		if (slot == NULL) {
			key[s] = keys[i];
			sim_table_put(&t, keys[i], s);
		}
		/* link s at the head */
		prev[s] = SIM_NEVER;
		next[s] = head;
		if (head != SIM_NEVER)
			prev[head] = s;
		head = s;
		if (tail == SIM_NEVER)
			tail = s;
	}
	sim_table_free(&t);
	free(prev);
	free(next);
	free(key);
	return hits;
}
