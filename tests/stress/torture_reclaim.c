/*
 * reclaim/ torture test, in the style of rcutorture: writers keep replacing the
 * objects behind a small array of shared pointers and retire the old ones; readers,
 * inside read sections, load the pointers and check that every object they reached
 * stays unfreed and intact until their section ends. Runs for HC_STRESS_SECONDS.
 *
 * What it checks:
 *   - no object is freed while a section that reached it is open: the free function
 *     sets a "freed" flag, changes the magic and poisons the payload (then parks the
 *     object in a quarantine before the real free, so a late reader reads poison);
 *     readers check magic, flag, payload and checksum when they load an object and
 *     again before they leave the section;
 *   - generations are sane: every slot has one writer, so the generation a reader sees
 *     in a slot never goes backwards, is never 0 and never above the last one given out;
 *   - no object is freed twice;
 *   - one reader now and then holds its section for a while (a slow reader), so the
 *     backlog passes the cap and writers meet reclaim_drain's bounded wait (HC_EBUSY);
 *   - once writers and readers stop, reclaim_drain brings the backlog to 0 and every
 *     retired object has been freed exactly once.
 *
 * Threads record the first failure; the main thread asserts there was none.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/stress/fail_once.h"
#include "tests/stress/quarantine.h"
#include "tests/stress/seconds.h"

#include "reclaim/reclaim.h"

#define MAGIC_LIVE 0x70e7a11fe70e7a11ull
#define MAGIC_DEAD 0xdeaddeaddeaddeadull
#define NSLOTS 8
#define NWRITERS 2
#define NREADERS 2
#define PAYLOAD 64
#define CAP (256u << 10)

struct tobj {
	struct reclaim_node rn;
	_Atomic uint64_t magic;
	_Atomic int freed;
	uint32_t slot;
	uint64_t gen;
	uint64_t check;
	unsigned char payload[PAYLOAD];
};



/* ---- shared state ---------------------------------------------------------------------- */

static struct reclaim dom;
static _Atomic(struct tobj *) slots[NSLOTS];
static _Atomic uint64_t gen_given;
static _Atomic int stop_writers, stop_readers;
static _Atomic uint64_t allocated, retired, freed_count, drain_busy, max_backlog;


static uint64_t mix(uint64_t gen, uint32_t slot)
{
	uint64_t x = gen * 0x9e3779b97f4a7c15ull ^ ((uint64_t)slot << 56);
	x ^= x >> 31;
	return x * 0xbf58476d1ce4e5b9ull;
}

static struct tobj *obj_new(uint32_t slot)
{
	struct tobj *o = malloc(sizeof(*o));
	if (o == NULL)
		abort();
	atomic_init(&o->magic, MAGIC_LIVE);
	atomic_init(&o->freed, 0);
	o->slot = slot;
	o->gen = atomic_fetch_add(&gen_given, 1) + 1;
	o->check = mix(o->gen, slot);
	memset(o->payload, (int)(o->gen & 0xff), PAYLOAD);
	atomic_fetch_add_explicit(&allocated, 1, memory_order_relaxed);
	return o;
}

static void obj_free(struct reclaim_node *n)
{
	struct tobj *o = (struct tobj *)n;
	CHECK(atomic_exchange_explicit(&o->freed, 1, memory_order_relaxed) == 0,
	      "object of generation %llu freed twice", (unsigned long long)o->gen);
	atomic_store_explicit(&o->magic, MAGIC_DEAD, memory_order_relaxed);
	o->gen = 0;
	o->check = 0;
	memset(o->payload, 0xde, PAYLOAD);
	atomic_fetch_add_explicit(&freed_count, 1, memory_order_relaxed);
	quarantine_put(o);
}


static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ---- writers -------------------------------------------------------------------------- */

struct writer {
	int id;
	pthread_t th;
	uint64_t rng;
	uint64_t replaced;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct reclaim_thread *t = reclaim_self(&dom);
	if (t == NULL) {
		CHECK(0, "writer registration failed");
		return NULL;
	}
	while (!atomic_load_explicit(&stop_writers, memory_order_relaxed)) {
		for (int i = 0; i < 32; i++) {
			/* Slots s with s % NWRITERS == id are this writer's alone, so each
			 * slot's generations only grow. */
			uint32_t s = (uint32_t)(w->id + NWRITERS * (int)(xorshift(&w->rng) %
			                                                  (NSLOTS / NWRITERS)));
			struct tobj *n = obj_new(s);
			int in_section = (xorshift(&w->rng) & 1) != 0; /* retire both ways */
			if (in_section)
				reclaim_enter(&dom);
			/* acq_rel: publishes n's fields to readers' acquire loads. */
			struct tobj *old = atomic_exchange_explicit(&slots[s], n, memory_order_acq_rel);
			CHECK(old != NULL && atomic_load(&old->magic) == MAGIC_LIVE &&
			      !atomic_load(&old->freed),
			      "writer found a freed object in slot %u", s);
			atomic_fetch_add_explicit(&retired, 1, memory_order_relaxed);
			reclaim_retire(t, &old->rn, sizeof(*old), obj_free);
			if (in_section)
				reclaim_exit(t);
			w->replaced++;
		}
		uint64_t b = reclaim_backlog(&dom);
		uint64_t m = atomic_load_explicit(&max_backlog, memory_order_relaxed);
		while (b > m && !atomic_compare_exchange_weak(&max_backlog, &m, b))
			;
		reclaim_poll(t);
		if (reclaim_over_cap(&dom) && reclaim_drain(t, 1000000) == HC_EBUSY)
			atomic_fetch_add_explicit(&drain_busy, 1, memory_order_relaxed);
	}
	return NULL;
}

/* ---- readers -------------------------------------------------------------------------- */

struct reader {
	int id;
	pthread_t th;
	uint64_t rng;
	uint64_t sections, reads, slow_sections;
	uint64_t last_gen[NSLOTS];
};

static void check_obj(const struct tobj *o, uint32_t s, const char *when)
{
	uint64_t magic = atomic_load_explicit(&o->magic, memory_order_relaxed);
	int fr = atomic_load_explicit(&o->freed, memory_order_relaxed);
	CHECK(magic == MAGIC_LIVE && !fr, "%s: slot %u object freed under a reader (magic %llx, "
	      "freed %d)", when, s, (unsigned long long)magic, fr);
	CHECK(o->slot == s, "%s: slot %u holds an object of slot %u", when, s, o->slot);
	CHECK(o->check == mix(o->gen, s), "%s: slot %u object checksum broken", when, s);
	unsigned char c = (unsigned char)(o->gen & 0xff);
	for (int i = 0; i < PAYLOAD; i += 8)
		CHECK(o->payload[i] == c, "%s: slot %u payload poisoned", when, s);
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	while (!atomic_load_explicit(&stop_readers, memory_order_relaxed)) {
		struct reclaim_thread *t = reclaim_enter(&dom);
		if (t == NULL) {
			CHECK(0, "reader registration failed");
			return NULL;
		}
		const struct tobj *held[2 * NSLOTS];
		uint32_t hslot[2 * NSLOTS];
		int nh = 0;
		for (int pass = 0; pass < 2; pass++) {
			for (uint32_t s = 0; s < NSLOTS; s++) {
				/* Acquire pairs with the writers' exchange. */
				const struct tobj *o = atomic_load_explicit(&slots[s], memory_order_acquire);
				check_obj(o, s, "on load");
				uint64_t g = o->gen;
				CHECK(g != 0 && g <= atomic_load(&gen_given),
				      "slot %u: generation %llu never given out", s,
				      (unsigned long long)g);
				CHECK(g >= r->last_gen[s], "slot %u: generation went back from %llu to "
				      "%llu", s, (unsigned long long)r->last_gen[s],
				      (unsigned long long)g);
				r->last_gen[s] = g;
				held[nh] = o;
				hslot[nh] = s;
				nh++;
				r->reads++;
			}
			/* Let the writers replace and retire what we hold. */
			if (r->id == 0 && (r->sections & 511) == 511) {
				struct timespec ts = {0, 300000};
				nanosleep(&ts, NULL); /* a slow reader */
				r->slow_sections++;
			} else if ((xorshift(&r->rng) & 7) == 0) {
				sched_yield();
			}
		}
		for (int i = 0; i < nh; i++)
			check_obj(held[i], hslot[i], "at section end");
		reclaim_exit(t);
		r->sections++;
	}
	return NULL;
}

/* A thread that does not stop within a minute of being told is stuck (reclaim_drain
 * is bounded, sections are short): fail now rather than at ctest's timeout. */
static void join_or_abort(pthread_t th, double secs)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 60 + (time_t)secs;
	if (pthread_timedjoin_np(th, NULL, &dl) != 0) {
		fprintf(stderr, "torture_reclaim: a thread did not stop within 60 s; first "
		        "failure: %s\n", atomic_load(&failures) ? first_failure : "none");
		abort();
	}
}

static void readers_never_see_a_freed_object_and_the_backlog_drains(void **state)
{
	(void)state;
	assert_int_equal(reclaim_init(&dom, CAP, 0), 0);
	for (uint32_t s = 0; s < NSLOTS; s++)
		atomic_store(&slots[s], obj_new(s));
	struct writer w[NWRITERS];
	struct reader rd[NREADERS];
	uint64_t seed = (uint64_t)time(NULL);
	for (int i = 0; i < NREADERS; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].id = i;
		rd[i].rng = seed * 31 + (uint64_t)i + 1;
		assert_int_equal(pthread_create(&rd[i].th, NULL, reader_main, &rd[i]), 0);
	}
	for (int i = 0; i < NWRITERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		w[i].rng = seed * 77 + (uint64_t)i + 1;
		assert_int_equal(pthread_create(&w[i].th, NULL, writer_main, &w[i]), 0);
	}
	double secs = stress_seconds(2.0);
	struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
	nanosleep(&ts, NULL);
	atomic_store(&stop_writers, 1);
	uint64_t replaced = 0, sections = 0, reads = 0, slow = 0;
	for (int i = 0; i < NWRITERS; i++) {
		join_or_abort(w[i].th, secs);
		replaced += w[i].replaced;
	}
	/* Readers keep reading a while with the writers stopped. */
	struct timespec settle = {0, 20000000};
	nanosleep(&settle, NULL);
	atomic_store(&stop_readers, 1);
	for (int i = 0; i < NREADERS; i++) {
		join_or_abort(rd[i].th, secs);
		sections += rd[i].sections;
		reads += rd[i].reads;
		slow += rd[i].slow_sections;
	}
	if (atomic_load(&failures) != 0)
		fail_msg("%ld failure(s); first: %s", atomic_load(&failures), first_failure);

	uint64_t left = reclaim_backlog(&dom);
	struct reclaim_thread *t = reclaim_self(&dom);
	assert_non_null(t);
	assert_int_equal(reclaim_drain(t, 5000000000ull), 0);
	assert_int_equal(reclaim_backlog(&dom), 0);
	assert_int_equal(reclaim_backlog_objs(&dom), 0);
	assert_int_equal(atomic_load(&freed_count), atomic_load(&retired));
	assert_int_equal(atomic_load(&retired), replaced);
	print_message("%.1f s: %d writers replaced %llu objects, %d readers made %llu reads in "
	              "%llu sections (%llu slow); max backlog %llu bytes (cap %u), drain busy "
	              "%llu times; %llu bytes left when writers stopped, drained to 0\n",
	              secs, NWRITERS, (unsigned long long)replaced, NREADERS,
	              (unsigned long long)reads, (unsigned long long)sections,
	              (unsigned long long)slow, (unsigned long long)atomic_load(&max_backlog), CAP,
	              (unsigned long long)atomic_load(&drain_busy), (unsigned long long)left);
	assert_true(replaced > 0);
	assert_true(sections > 0);

	/* The live objects too: retire them, and every object ever made is freed once. */
	for (uint32_t s = 0; s < NSLOTS; s++) {
		struct tobj *o = atomic_exchange(&slots[s], NULL);
		atomic_fetch_add(&retired, 1);
		reclaim_retire(t, &o->rn, sizeof(*o), obj_free);
	}
	assert_int_equal(reclaim_drain(t, 5000000000ull), 0);
	assert_int_equal(atomic_load(&freed_count), atomic_load(&allocated));
	if (atomic_load(&failures) != 0)
		fail_msg("%ld failure(s); first: %s", atomic_load(&failures), first_failure);
	reclaim_destroy(&dom);
	quarantine_flush();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(readers_never_see_a_freed_object_and_the_backlog_drains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
