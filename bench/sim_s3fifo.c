/*
 * S3-FIFO, simulated exactly; the rules are in sim.h. Both queues are doubly linked
 * lists over one slot array (head = newest, tail = oldest); the ghost is a ring of keys
 * with a table from key to ring position, so a key pushed out of the ring is forgotten
 * only if it was not pushed again since.
 */
#include "bench/sim.h"

#include <stdio.h>
#include <stdlib.h>

enum { Q_SMALL = 0, Q_MAIN = 1, FREQ_MAX = 3 };

struct queue {
	uint32_t head, tail;
	size_t size;
};

struct s3 {
	uint64_t *key;
	uint32_t *prev, *next;
	unsigned char *freq, *q;
	struct queue qs[2];
	struct sim_table cached;
	/* ghost */
	uint64_t *ring;
	size_t gcap, gpos, glen;
	struct sim_table ghost;
};

static void q_push(struct s3 *c, int qi, uint32_t s)
{
	struct queue *q = &c->qs[qi];
	c->q[s] = (unsigned char)qi;
	c->prev[s] = SIM_NEVER;
	c->next[s] = q->head;
	if (q->head != SIM_NEVER)
		c->prev[q->head] = s;
	q->head = s;
	if (q->tail == SIM_NEVER)
		q->tail = s;
	q->size++;
}

/* Removes and returns the oldest slot of a non-empty queue. */
static uint32_t q_pop(struct s3 *c, int qi)
{
	struct queue *q = &c->qs[qi];
	uint32_t s = q->tail;
	q->tail = c->prev[s];
	if (q->tail == SIM_NEVER)
		q->head = SIM_NEVER;
	else
		c->next[q->tail] = SIM_NEVER;
	q->size--;
	return s;
}

static void ghost_add(struct s3 *c, uint64_t k)
{
	if (c->gcap == 0)
		return;
	if (c->glen == c->gcap) {
		uint64_t old = c->ring[c->gpos];
		uint32_t *v = sim_table_find(&c->ghost, old);
		if (v != NULL && *v == c->gpos)
			sim_table_del(&c->ghost, old);
	} else {
		c->glen++;
	}
	c->ring[c->gpos] = k;
	sim_table_put(&c->ghost, k, (uint32_t)c->gpos);
	c->gpos = c->gpos + 1 == c->gcap ? 0 : c->gpos + 1;
}

/* Frees one slot from main: the CLOCK hand passes entries with freq > 0. */
static uint32_t evict_main(struct s3 *c)
{
	for (;;) {
		uint32_t s = q_pop(c, Q_MAIN);
		if (c->freq[s] == 0) {
			sim_table_del(&c->cached, c->key[s]);
			return s;
		}
		c->freq[s]--;
		q_push(c, Q_MAIN, s);
	}
}

/* Frees one slot from small, promoting what was hit there; main if small runs dry. */
static uint32_t evict_small(struct s3 *c)
{
	while (c->qs[Q_SMALL].size > 0) {
		uint32_t s = q_pop(c, Q_SMALL);
		if (c->freq[s] >= 1) {
			c->freq[s] = 0;
			q_push(c, Q_MAIN, s);
			continue;
		}
		sim_table_del(&c->cached, c->key[s]);
		ghost_add(c, c->key[s]);
		return s;
	}
	return evict_main(c);
}

uint64_t sim_s3fifo(const uint64_t *keys, size_t n, size_t cap)
{
	struct s3 c;
	size_t scap = cap / 10 ? cap / 10 : 1, used = 0;
	uint64_t hits = 0;

	if (cap == 0)
		return 0;
	c.key = malloc(cap * sizeof *c.key);
	c.prev = malloc(cap * sizeof *c.prev);
	c.next = malloc(cap * sizeof *c.next);
	c.freq = calloc(cap, 1);
	c.q = calloc(cap, 1);
	c.gcap = cap - (scap < cap ? scap : cap);
	c.ring = malloc((c.gcap ? c.gcap : 1) * sizeof *c.ring);
	if (!c.key || !c.prev || !c.next || !c.freq || !c.q || !c.ring) {
		fprintf(stderr, "sim_s3fifo: out of memory\n");
		abort();
	}
	c.gpos = c.glen = 0;
	for (int i = 0; i < 2; i++) {
		c.qs[i].head = c.qs[i].tail = SIM_NEVER;
		c.qs[i].size = 0;
	}
	sim_table_init(&c.cached, cap);
	sim_table_init(&c.ghost, c.gcap);

	for (size_t i = 0; i < n; i++) {
		uint64_t k = keys[i];
		uint32_t *slot = sim_table_find(&c.cached, k);
		uint32_t s;
		if (slot != NULL) {
			hits++;
			if (c.freq[*slot] < FREQ_MAX)
				c.freq[*slot]++;
			continue;
		}
		if (used < cap)
			s = (uint32_t)used++;
		else if (c.qs[Q_SMALL].size >= scap || c.qs[Q_MAIN].size == 0)
			s = evict_small(&c);
		else
			s = evict_main(&c);
		c.key[s] = k;
		c.freq[s] = 0;
		sim_table_put(&c.cached, k, s);
		if (sim_table_del(&c.ghost, k))
			q_push(&c, Q_MAIN, s);
		else
			q_push(&c, Q_SMALL, s);
	}
	sim_table_free(&c.cached);
	sim_table_free(&c.ghost);
	free(c.key);
	free(c.prev);
	free(c.next);
	free(c.freq);
	free(c.q);
	free(c.ring);
	return hits;
}
