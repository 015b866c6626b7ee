/*
 * Store-buffering harness for the fenceless read sections (issue 11): the one test
 * that fails when the poller's membarrier is missing.
 *
 * Why the other tests cannot: with membarrier a reader announces itself with plain
 * stores (reclaim_enter), and on x86 a store can sit in the store buffer while later
 * loads run. A reader that stores active = 1 and then loads the object pointer may have
 * the load done and the store not yet visible: a poller scanning the records then sees
 * no reader, frees everything retired, and the reader uses a freed object. The
 * poller's membarrier drains every thread's store buffer before the scan; without it
 * the window is real but tens of nanoseconds wide. The spin models assume sequential
 * consistency and the TSan build compiles the fenced path, so neither can see it.
 *
 * The harness widens the window and runs it in a tight loop:
 *   - the reader, before each section, stores to 16 cold cache lines, so that its
 *     announcement waits behind them in the store buffer (stores commit in order)
 *     while its load of the pointer goes ahead; inside the section it reads the
 *     object's magic, spins ~1 us, and reads it again;
 *   - the writer replaces the pointer, retires the old object and polls at once, over
 *     and over; the free function poisons the magic and parks the object (it is reused
 *     only much later, so a late read sees poison, not a new object).
 * A poisoned read inside a section is a use after free: the program prints the count
 * and exits 1. Built twice in the release tree: sb_reclaim with reclaim/ as it is
 * (must pass) and sb_reclaim_broken, whose reclaim.c polls without the membarrier
 * (HC_RECLAIM_BROKEN_NO_BARRIER; ctest expects it to fail, like the spin models'
 * negative controls). Exits 77 (skipped) when the process cannot use membarrier, as
 * then both run the fenced path.
 *
 * Switch mode (a second argument, N): the domain changes its read-section mode on the
 * polls instead of by measurement (reclaim_mode_cycle = N: asymmetric after every Nth
 * poll, fenced after the others), so that half the sections see a switch to fenced
 * coming and some polls run without a barrier. A reader that loaded the old mode
 * (fenceless) must still be covered by a barrier after the switch: sb_reclaim_switch
 * must pass, and sb_reclaim_switch_broken, whose reclaim.c drops the barrier with the
 * switch (HC_RECLAIM_BROKEN_SWITCH), must be caught.
 *
 * A third argument (microseconds) widens the gap between a section's store of active and
 * its load of the mode (RECLAIM_TEST_ENTER_GAP) to a spin longer than a poll, then the
 * cold stores: the control that loads the mode first (HC_RECLAIM_BROKEN_MODE_FIRST,
 * sb_reclaim_mode_first) then sees a switch and its barrier land between its load and
 * its announcement, which is still in the store buffer when its loads run; the right
 * order must pass the same run. Without the gap that control is never caught (3 runs
 * of 10 s), the window being a few instructions wide; with it, the switch control is
 * too slow to be caught (sections are 60 us), hence the two settings.
 *
 * Usage: sb_reclaim [seconds [N [gap_us]]]
 *        (default: HC_STRESS_SECONDS, else 3; no switching, no gap)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The gap between a section's announcement and its load of the mode (reclaim.h):
 * switch mode widens it to a spin and the cold stores, so that the control that loads
 * the mode first (HC_RECLAIM_BROKEN_MODE_FIRST) has a switch land inside it and its
 * announcement still in the store buffer when its section's loads run. */
static _Atomic uint64_t gap_ns; /* 0: no gap */
static void enter_gap(void);
#define RECLAIM_TEST_ENTER_GAP() enter_gap()
#include "reclaim/reclaim.h"
#include "tests/stress/seconds.h"

enum { LIVE = 0x1111, DEAD = 0xdead, NOBJ = 1 << 16, COLD_LINES = 16, COLD_BYTES = 8 << 20 };

struct obj {
	struct reclaim_node node;
	_Atomic unsigned magic;
};

static struct reclaim dom;
static _Atomic(struct obj *) cur;
/* Freed objects, oldest first: a ring the poller (the writer thread, the only one that
 * polls) fills and the writer drains, so an object is reused only once it was freed
 * (never while ck still holds it) and as late as possible. */
static struct obj *ring[NOBJ];
static size_t ring_head, ring_tail;
static _Atomic int stop;
static _Atomic long sections, caught, polls;
static unsigned char *cold;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The free function: poison; the object stays mapped and waits in the ring. */
static void poison(struct reclaim_node *n)
{
	struct obj *o = (struct obj *)n;
	atomic_store_explicit(&o->magic, DEAD, memory_order_relaxed);
	ring[ring_tail++ % NOBJ] = o;
}

static void cold_stores(uint64_t *x)
{
	for (int i = 0; i < COLD_LINES; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		cold[(*x % (COLD_BYTES / 64)) * 64] = (unsigned char)i;
	}
}

static void enter_gap(void)
{
	static _Thread_local uint64_t x = 0x9e3779b97f4a7c15ull;
	uint64_t gap = atomic_load_explicit(&gap_ns, memory_order_relaxed);
	if (gap == 0)
		return;
	/* Longer than a poll with its membarrier (20-35 us here), so that a switch and
	 * the barrier after it can both fall inside. */
	uint64_t t0 = now_ns();
	while (now_ns() - t0 < gap)
		;
	cold_stores(&x);
}

static void *reader(void *arg)
{
	(void)arg;
	uint64_t x = 88172645463325252ull;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* Cold stores ahead of the announcement (see the top of the file). */
		cold_stores(&x);
		struct reclaim_thread *t = reclaim_enter(&dom);
		/* Relaxed is what the fenceless section relies on: its loads are ordered after
		 * the announcement by the poller's barrier, not by anything here. */
		struct obj *o = atomic_load_explicit(&cur, memory_order_relaxed);
		unsigned m1 = atomic_load_explicit(&o->magic, memory_order_relaxed);
		for (volatile int s = 0; s < 300; s++)
			;
		unsigned m2 = atomic_load_explicit(&o->magic, memory_order_relaxed);
		reclaim_exit(t);
		atomic_fetch_add_explicit(&sections, 1, memory_order_relaxed);
		if (m1 != LIVE || m2 != LIVE)
			atomic_fetch_add_explicit(&caught, 1, memory_order_relaxed);
	}
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	struct reclaim_thread *t = reclaim_self(&dom);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* The oldest freed object; none freed yet: poll until one is. */
		if (ring_head == ring_tail) {
			reclaim_poll_now(t);
			continue;
		}
		struct obj *n = ring[ring_head++ % NOBJ];
		atomic_store_explicit(&n->magic, LIVE, memory_order_relaxed);
		/* Release: a reader that loads n sees it LIVE (not the poison of its last
		 * life). */
		struct obj *old = atomic_exchange_explicit(&cur, n, memory_order_release);
		reclaim_retire(t, &old->node, sizeof(*old), poison);
		reclaim_poll_now(t);
		atomic_fetch_add_explicit(&polls, 1, memory_order_relaxed);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : stress_seconds(3);
	if (reclaim_init(&dom, 1u << 30, 0) != 0) {
		fprintf(stderr, "sb_reclaim: reclaim_init failed\n");
		return 2;
	}
	if (!dom.asym_ok) {
		printf("sb_reclaim: skipped: no membarrier here, sections are fenced\n");
		return 77;
	}
	if (argc > 2) {
		atomic_store(&reclaim_mode_cycle, (unsigned)atoi(argv[2]));
		if (argc > 3)
			atomic_store(&gap_ns, (uint64_t)atoi(argv[3]) * 1000u);
	}
	cold = calloc(1, COLD_BYTES);
	struct obj *objs = calloc(NOBJ, sizeof(*objs));
	if (cold == NULL || objs == NULL)
		return 2;
	for (int i = 1; i < NOBJ; i++)
		ring[ring_tail++] = &objs[i];
	atomic_store(&objs[0].magic, LIVE);
	atomic_store(&cur, &objs[0]);
	pthread_t r, w;
	uint64_t t0 = now_ns();
	pthread_create(&r, NULL, reader, NULL);
	pthread_create(&w, NULL, writer, NULL);
	long first_ms = -1;
	while (now_ns() - t0 < (uint64_t)(secs * 1e9)) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
		if (first_ms < 0 && atomic_load(&caught) > 0) {
			first_ms = (long)((now_ns() - t0) / 1000000);
			break; /* caught: no need to run on */
		}
	}
	atomic_store(&stop, 1);
	pthread_join(r, NULL);
	pthread_join(w, NULL);
	long c = atomic_load(&caught);
	printf("sb_reclaim: %ld sections, %ld polls (%llu with a barrier, %llu mode switches), "
	       "%ld used a freed object%s",
	       atomic_load(&sections), atomic_load(&polls),
	       (unsigned long long)atomic_load(&dom.barriers),
	       (unsigned long long)atomic_load(&dom.mode_switches), c, c ? "" : "\n");
	if (c)
		printf(" (first within %ld ms)\n", first_ms);
	reclaim_destroy(&dom);
	free(objs);
	free(cold);
	return c ? 1 : 0;
}
