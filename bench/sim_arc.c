/*
 * ARC (Megiddo and Modha, "ARC: a self-tuning, low overhead replacement cache", FAST
 * 2003), simulated exactly as the paper's Figure 4 gives it; the rules are in sim.h.
 * Four LRU lists over one slot array of 2 * cap slots (T1, T2 resident; B1, B2 their
 * ghosts, keys only), a table from key to slot, and the target size p of T1.
 */
#include "bench/sim.h"

#include <stdio.h>
#include <stdlib.h>

enum { T1, T2, B1, B2 };

struct lst {
	uint32_t head, tail; /* head = most recent */
	size_t size;
};

struct arc {
	uint64_t *key;
	uint32_t *prev, *next;
	unsigned char *in;
	struct lst l[4];
	struct sim_table t;
	uint32_t *free_slots;
	size_t nfree;
};

static void push(struct arc *a, int li, uint32_t s)
{
	struct lst *l = &a->l[li];
	a->in[s] = (unsigned char)li;
	a->prev[s] = SIM_NEVER;
	a->next[s] = l->head;
	if (l->head != SIM_NEVER)
		a->prev[l->head] = s;
	l->head = s;
	if (l->tail == SIM_NEVER)
		l->tail = s;
	l->size++;
}

static void unlink_slot(struct arc *a, uint32_t s)
{
	struct lst *l = &a->l[a->in[s]];
	if (a->prev[s] != SIM_NEVER)
		a->next[a->prev[s]] = a->next[s];
	else
		l->head = a->next[s];
	if (a->next[s] != SIM_NEVER)
		a->prev[a->next[s]] = a->prev[s];
	else
		l->tail = a->prev[s];
	l->size--;
}

/* Moves the LRU end of list `from` to the MRU end of `to`. */
static void demote(struct arc *a, int from, int to)
{
	uint32_t s = a->l[from].tail;
	unlink_slot(a, s);
	push(a, to, s);
}

/* Forgets the LRU end of list li (a ghost list, or T1 in case IV(A)'s else branch). */
static void drop_lru(struct arc *a, int li)
{
	uint32_t s = a->l[li].tail;
	unlink_slot(a, s);
	sim_table_del(&a->t, a->key[s]);
	a->free_slots[a->nfree++] = s;
}

/* REPLACE(x, p): frees a resident slot, its key going to the matching ghost list. */
static void replace(struct arc *a, bool in_b2, double p)
{
	size_t t1 = a->l[T1].size;
	if (t1 > 0 && ((double)t1 > p || (in_b2 && (double)t1 == p)))
		demote(a, T1, B1);
	else
		demote(a, T2, B2);
}

uint64_t sim_arc(const uint64_t *keys, size_t n, size_t cap)
{
	struct arc a;
	double p = 0, c = (double)cap;
	uint64_t hits = 0;

	if (cap == 0)
		return 0;
	a.key = malloc(2 * cap * sizeof *a.key);
	a.prev = malloc(2 * cap * sizeof *a.prev);
	a.next = malloc(2 * cap * sizeof *a.next);
	a.in = malloc(2 * cap);
	a.free_slots = malloc(2 * cap * sizeof *a.free_slots);
	if (!a.key || !a.prev || !a.next || !a.in || !a.free_slots) {
		fprintf(stderr, "sim_arc: out of memory\n");
		abort();
	}
	for (int i = 0; i < 4; i++) {
		a.l[i].head = a.l[i].tail = SIM_NEVER;
		a.l[i].size = 0;
	}
	a.nfree = 2 * cap;
	for (size_t i = 0; i < 2 * cap; i++)
		a.free_slots[i] = (uint32_t)(2 * cap - 1 - i);
	sim_table_init(&a.t, 2 * cap);

	for (size_t i = 0; i < n; i++) {
		uint64_t k = keys[i];
		uint32_t *v = sim_table_find(&a.t, k);
		if (v != NULL) {
			uint32_t s = *v;
			int li = a.in[s];
			if (li == T1 || li == T2) { /* case I */
				hits++;
				unlink_slot(&a, s);
				push(&a, T2, s);
				continue;
			}
			double b1 = (double)a.l[B1].size, b2 = (double)a.l[B2].size;
			if (li == B1) { /* case II: recency is winning, grow T1's target */
				double d = b1 >= b2 ? 1 : b2 / b1;
				p = p + d < c ? p + d : c;
			} else { /* case III */
				double d = b2 >= b1 ? 1 : b1 / b2;
				p = p - d > 0 ? p - d : 0;
			}
			unlink_slot(&a, s);
			replace(&a, li == B2, p);
			push(&a, T2, s);
			continue;
		}
		/* case IV: a key in none of the lists */
		size_t l1 = a.l[T1].size + a.l[B1].size;
		size_t total = l1 + a.l[T2].size + a.l[B2].size;
		if (l1 == cap) {
			if (a.l[T1].size < cap) {
				drop_lru(&a, B1);
				replace(&a, false, p);
			} else {
				drop_lru(&a, T1);
			}
		} else if (total >= cap) {
			if (total == 2 * cap)
				drop_lru(&a, B2);
			replace(&a, false, p);
		}
		uint32_t s = a.free_slots[--a.nfree];
		a.key[s] = k;
		sim_table_put(&a.t, k, s);
		push(&a, T1, s);
	}
	sim_table_free(&a.t);
	free(a.key);
	free(a.prev);
	free(a.next);
	free(a.in);
	free(a.free_slots);
	return hits;
}
