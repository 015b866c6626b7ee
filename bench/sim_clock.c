/* CLOCK with one reference bit; new entries start with the bit clear. See sim.h. */
#include "bench/sim.h"

#include <stdio.h>
#include <stdlib.h>

uint64_t sim_clock(const uint64_t *keys, size_t n, size_t cap)
{
	struct sim_table t;
	uint64_t *key, hits = 0;
	unsigned char *ref;
	size_t used = 0, hand = 0;

	if (cap == 0)
		return 0;
	key = malloc(cap * sizeof *key);
	ref = calloc(cap, 1);
	if (!key || !ref) {
		fprintf(stderr, "sim_clock: out of memory\n");
		abort();
	}
	sim_table_init(&t, cap);
	for (size_t i = 0; i < n; i++) {
		uint32_t *slot = sim_table_find(&t, keys[i]);
		size_t s;
		if (slot != NULL) {
			hits++;
			ref[*slot] = 1;
			continue;
		}
		if (used < cap) {
			s = used++;
		} else {
			while (ref[hand]) {
				ref[hand] = 0;
				hand = hand + 1 == cap ? 0 : hand + 1;
			}
			s = hand;
			hand = hand + 1 == cap ? 0 : hand + 1;
			sim_table_del(&t, key[s]);
		}
		key[s] = keys[i];
		ref[s] = 0;
		sim_table_put(&t, keys[i], (uint32_t)s);
	}
	sim_table_free(&t);
	free(key);
	free(ref);
	return hits;
}
