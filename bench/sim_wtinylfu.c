/*
 * W-TinyLFU (Einziger, Friedman and Manes, "TinyLFU: a highly efficient cache admission
 * policy", 2017; the shape Caffeine uses, without its hill climbing), simulated
 * exactly; the rules are in sim.h. Three LRU lists over one slot array (window,
 * probation, protected), a table from key to slot, and the frequency sketch below.
 *
 * Sketch: a count-min sketch of 4 rows of 4-bit counters (saturating at 15), each row
 * `width` counters (a power of two >= 4 * cap, at least 64), indexed by four
 * independent mixes of the key; in front of it a doorkeeper, a one-row bit set of
 * 4 * width bits indexed by two mixes (a Bloom filter). An access first sets the key's
 * doorkeeper bits; only a key already in the doorkeeper increments its counters. The
 * estimate is the minimum of the four counters, plus one when the key is in the
 * doorkeeper. Every 10 * cap accesses (the sample) all counters halve and the
 * doorkeeper is cleared, so old popularity fades.
 */
#include "bench/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { L_WINDOW, L_PROBATION, L_PROTECTED };

struct lst {
	uint32_t head, tail; /* head = most recent */
	size_t size;
};

struct wtlfu {
	uint64_t *key;
	uint32_t *prev, *next;
	unsigned char *in;
	struct lst l[3];
	struct sim_table t;
	/* sketch */
	unsigned char *cm; /* 4 rows of width counters, one byte each (4 bits used) */
	uint64_t *door;    /* 4 * width bits */
	size_t width, sample, added;
};

static uint64_t mix(uint64_t x, uint64_t seed)
{
	x ^= seed;
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

static const uint64_t seeds[4] = { UINT64_C(0x9E3779B97F4A7C15), UINT64_C(0xBF58476D1CE4E5B9),
                                   UINT64_C(0x94D049BB133111EB), UINT64_C(0x2545F4914F6CDD1D) };

static bool door_has(const struct wtlfu *w, uint64_t k)
{
	size_t bits = 4 * w->width;
	for (int i = 0; i < 2; i++) {
		size_t b = mix(k, seeds[i] + 1) & (bits - 1);
		if (!(w->door[b / 64] >> (b % 64) & 1))
			return false;
	}
	return true;
}

static void door_add(struct wtlfu *w, uint64_t k)
{
	size_t bits = 4 * w->width;
	for (int i = 0; i < 2; i++) {
		size_t b = mix(k, seeds[i] + 1) & (bits - 1);
		w->door[b / 64] |= UINT64_C(1) << (b % 64);
	}
}

static unsigned cm_min(const struct wtlfu *w, uint64_t k)
{
	unsigned m = 15;
	for (int r = 0; r < 4; r++) {
		unsigned v = w->cm[(size_t)r * w->width + (mix(k, seeds[r]) & (w->width - 1))];
		m = v < m ? v : m;
	}
	return m;
}

/* The estimate the admission compares. */
static unsigned estimate(const struct wtlfu *w, uint64_t k)
{
	return cm_min(w, k) + (door_has(w, k) ? 1 : 0);
}

static void record(struct wtlfu *w, uint64_t k)
{
	if (!door_has(w, k)) {
		door_add(w, k);
	} else {
		for (int r = 0; r < 4; r++) {
			unsigned char *c = &w->cm[(size_t)r * w->width + (mix(k, seeds[r]) & (w->width - 1))];
			if (*c < 15)
				(*c)++;
		}
	}
	if (++w->added >= w->sample) {
		for (size_t i = 0; i < 4 * w->width; i++)
			w->cm[i] >>= 1;
		memset(w->door, 0, w->width / 16 * sizeof *w->door);
		w->added = 0;
	}
}

static void push(struct wtlfu *w, int li, uint32_t s)
{
	struct lst *l = &w->l[li];
	w->in[s] = (unsigned char)li;
	w->prev[s] = SIM_NEVER;
	w->next[s] = l->head;
	if (l->head != SIM_NEVER)
		w->prev[l->head] = s;
	l->head = s;
	if (l->tail == SIM_NEVER)
		l->tail = s;
	l->size++;
}

static void unlink_slot(struct wtlfu *w, uint32_t s)
{
	struct lst *l = &w->l[w->in[s]];
	if (w->prev[s] != SIM_NEVER)
		w->next[w->prev[s]] = w->next[s];
	else
		l->head = w->next[s];
	if (w->next[s] != SIM_NEVER)
		w->prev[w->next[s]] = w->prev[s];
	else
		l->tail = w->prev[s];
	l->size--;
}

/* Demotes protected's overflow to probation's most recent end. */
static void protected_overflow(struct wtlfu *w, size_t pcap)
{
	while (w->l[L_PROTECTED].size > pcap) {
		uint32_t s = w->l[L_PROTECTED].tail;
		unlink_slot(w, s);
		push(w, L_PROBATION, s);
	}
}

uint64_t sim_wtinylfu(const uint64_t *keys, size_t n, size_t cap)
{
	struct wtlfu w;
	size_t wcap = cap / 100 ? cap / 100 : 1, mcap, pcap, nfree;
	uint32_t *free_slots;
	uint64_t hits = 0;

	if (cap == 0)
		return 0;
	mcap = cap - wcap; /* cap 1: all window */
	pcap = mcap * 8 / 10;
	/* cap + 1 slots: a new key is linked before the one it displaces is dropped. */
	w.key = malloc((cap + 1) * sizeof *w.key);
	w.prev = malloc((cap + 1) * sizeof *w.prev);
	w.next = malloc((cap + 1) * sizeof *w.next);
	w.in = malloc(cap + 1);
	free_slots = malloc((cap + 1) * sizeof *free_slots);
	for (w.width = 64; w.width < 4 * cap; w.width <<= 1)
		;
	w.cm = calloc(4 * w.width, 1);
	w.door = calloc(w.width / 16, sizeof *w.door);
	if (!w.key || !w.prev || !w.next || !w.in || !free_slots || !w.cm || !w.door) {
		fprintf(stderr, "sim_wtinylfu: out of memory\n");
		abort();
	}
	w.sample = 10 * cap;
	w.added = 0;
	for (int i = 0; i < 3; i++) {
		w.l[i].head = w.l[i].tail = SIM_NEVER;
		w.l[i].size = 0;
	}
	nfree = cap + 1;
	for (size_t i = 0; i <= cap; i++)
		free_slots[i] = (uint32_t)(cap - i);
	sim_table_init(&w.t, cap + 1);

	for (size_t i = 0; i < n; i++) {
		uint64_t k = keys[i];
		uint32_t *v = sim_table_find(&w.t, k);
		record(&w, k);
		if (v != NULL) {
			uint32_t s = *v;
			int li = w.in[s];
			hits++;
			unlink_slot(&w, s);
			push(&w, li == L_WINDOW ? L_WINDOW : L_PROTECTED, s);
			protected_overflow(&w, pcap);
			continue;
		}
		uint32_t s = free_slots[--nfree];
		w.key[s] = k;
		sim_table_put(&w.t, k, s);
		push(&w, L_WINDOW, s);
		if (w.l[L_WINDOW].size <= wcap)
			continue;
		/* The window's oldest is the candidate for main. */
		uint32_t cand = w.l[L_WINDOW].tail, loser;
		unlink_slot(&w, cand);
		if (mcap == 0) {
			loser = cand;
			sim_table_del(&w.t, w.key[loser]);
			free_slots[nfree++] = loser;
			continue;
		}
		if (w.l[L_PROBATION].size + w.l[L_PROTECTED].size < mcap) {
			push(&w, L_PROBATION, cand);
			continue;
		}
		int vl = w.l[L_PROBATION].size ? L_PROBATION : L_PROTECTED;
		uint32_t victim = w.l[vl].tail;
		if (estimate(&w, w.key[cand]) > estimate(&w, w.key[victim])) {
			unlink_slot(&w, victim);
			push(&w, L_PROBATION, cand);
			loser = victim;
		} else {
			loser = cand;
		}
		sim_table_del(&w.t, w.key[loser]);
		free_slots[nfree++] = loser;
	}
	sim_table_free(&w.t);
	free(w.key);
	free(w.prev);
	free(w.next);
	free(w.in);
	free(free_slots);
	free(w.cm);
	free(w.door);
	return hits;
}
