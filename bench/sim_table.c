/* The simulators' key -> slot table; see sim.h. */
#include "bench/sim.h"

#include <stdio.h>
#include <stdlib.h>

static void *sim_alloc(size_t n, size_t size)
{
	void *p = malloc(n * size);
	if (p == NULL) {
		fprintf(stderr, "sim: out of memory\n");
		abort();
	}
	return p;
}

static size_t slot_of(const struct sim_table *t, uint64_t key)
{
	return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> t->shift);
}

void sim_table_init(struct sim_table *t, size_t max_items)
{
	size_t size = 16;
	unsigned bits = 4;
	while (size < 2 * max_items + 2) {
		size <<= 1;
		bits++;
	}
	t->keys = sim_alloc(size, sizeof *t->keys);
	t->vals = sim_alloc(size, sizeof *t->vals);
	t->mask = size - 1;
	t->shift = 64 - bits;
	for (size_t i = 0; i < size; i++)
		t->keys[i] = SIM_EMPTY;
}

void sim_table_free(struct sim_table *t)
{
	free(t->keys);
	free(t->vals);
	t->keys = NULL;
	t->vals = NULL;
}

uint32_t *sim_table_find(const struct sim_table *t, uint64_t key)
{
	for (size_t i = slot_of(t, key);; i = (i + 1) & t->mask) {
		if (t->keys[i] == key)
			return &t->vals[i];
		if (t->keys[i] == SIM_EMPTY)
			return NULL;
	}
}

void sim_table_put(struct sim_table *t, uint64_t key, uint32_t val)
{
	size_t i = slot_of(t, key);
	while (t->keys[i] != SIM_EMPTY && t->keys[i] != key)
		i = (i + 1) & t->mask;
	t->keys[i] = key;
	t->vals[i] = val;
}

bool sim_table_del(struct sim_table *t, uint64_t key)
{
	size_t i = slot_of(t, key);
	while (t->keys[i] != key) {
		if (t->keys[i] == SIM_EMPTY)
			return false;
		i = (i + 1) & t->mask;
	}
	/* Backward shift: move later members of the run into the hole when the hole lies
	 * between their home slot and where they sit, so every key stays reachable. */
	for (size_t j = (i + 1) & t->mask; t->keys[j] != SIM_EMPTY; j = (j + 1) & t->mask) {
		size_t home = slot_of(t, t->keys[j]);
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->keys[i] = t->keys[j];
			t->vals[i] = t->vals[j];
			i = j;
		}
	}
	t->keys[i] = SIM_EMPTY;
	return true;
}

size_t sim_distinct(const uint64_t *keys, size_t n)
{
	struct sim_table t;
	size_t d = 0;
	sim_table_init(&t, n);
	for (size_t i = 0; i < n; i++) {
		if (sim_table_find(&t, keys[i]) == NULL) {
			sim_table_put(&t, keys[i], 0);
			d++;
		}
	}
	sim_table_free(&t);
	return d;
}
