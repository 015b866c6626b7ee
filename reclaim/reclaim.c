/*
 * Epoch-based reclamation over ck_epoch: registration, retirement with byte counts,
 * polling, the bounded synchronize fallback. The algorithm, its invariants and the
 * stalled-reader behaviour are described at the top of reclaim.h.
 *
 * Invariants:
 *   - a record is in r->all from registration until reclaim_destroy (never unlinked),
 *     so summing counters walks a list that only grows; the push is a release CAS
 *     paired with the acquire load of r->all in the summing loops;
 *   - backlog = sum over threads of retired_bytes - r->freed_bytes: a thread counts an
 *     object when it retires it (owner-only counters, no shared line per retire), the
 *     poller counts it when it frees it; the freed totals are read first (acquire,
 *     pairing with the release add in dispatch), so the difference is never negative;
 *   - r->shared is touched only under poll_mu (ck_epoch_call and ck_epoch_poll both
 *     need a record owned by one thread); every object in it was unlinked before it
 *     was taken off the staging stack, hence before any scan that poll makes;
 *   - ck holds chains, not single objects: a poll hands all it took off the staging
 *     stack to ck_epoch_call as one entry, the first node, whose stage_next links (the
 *     ones flush made) lead through the rest to NULL; every node of a chain shares
 *     its head's grace period, which began after the last of them was unlinked. The
 *     ready stack holds such chains too, and a step that frees part of one pushes the
 *     rest back as a chain of its own (free_chain is every entry's function). So a
 *     poll touches one node, not each (the nodes were retired long ago: each was a
 *     DRAM miss under poll_mu), and each node is read once more, when it is freed;
 *   - r->ready holds only objects whose grace period ended (a poll's deferred
 *     dispatch), is pushed and popped only under poll_mu, and an object popped from it
 *     is freed under the popping thread's flush mutex; ready_any mirrors its emptiness
 *     (relaxed, a hint: a stale value costs a trylock or leaves a step to the next
 *     write), and every object on it still counts in the backlog until freed;
 *   - a thread's own record is only ever used for its read sections, is owned by one
 *     thread at a time, and is recycled by ck_epoch_recycle after the thread exits;
 *   - the read-section mode (reclaim.h, "Choosing the mode"): asym = 1 implies
 *     barrier_on = 1, and after a store of asym = 0 barrier_on stays 1 until a poll's
 *     barrier has succeeded; both change only under poll_mu (choose_mode after a poll,
 *     reclaim_mode_check from a section), so every poll sees a consistent pair.
 */
#include "reclaim/reclaim.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reclaim/alloc.h"
#include "reclaim/lockrank.h"

/* membarrier is Linux's (4.14+ for the expedited private command). Elsewhere, and in
 * HC_PORTABLE builds, the domain never reads fenceless (asym = 0) and no Linux header
 * or system call is used. */
#if defined(__linux__) && !defined(HC_PORTABLE)
#define HC_HAVE_MEMBARRIER 1
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#ifdef HC_LOCK_RANKS
#include <stdio.h>

_Thread_local unsigned lockrank_held;

void lockrank_violation(unsigned rank, unsigned held)
{
	fprintf(stderr, "hotcache: lock rank violation: taking a rank-%u mutex while holding "
	        "ranks 0x%x (ranks must increase: stripe write 1, shard 2, stripe 3, poll 4, "
	        "registry 5)\n", rank, held);
	abort();
}
#endif

_Thread_local uint64_t reclaim_tls_gen RECLAIM_TLS_FAST;
_Thread_local struct reclaim_thread *reclaim_tls_thread RECLAIM_TLS_FAST;
_Thread_local struct reclaim *reclaim_tls_dispatching RECLAIM_TLS_FAST;

/* Generations start at 1 so that a thread's zeroed TLS never matches a domain. */
static _Atomic uint64_t next_gen = 1;

static void thread_exit(void *arg);

#ifdef HC_HAVE_MEMBARRIER
static int membarrier(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}
#endif

#if defined(HC_HAVE_MEMBARRIER) && !defined(HC_TSAN)
/* Registers the process for expedited private membarriers, once; 1 if usable. */
static int asym_ok;
static pthread_once_t asym_once = PTHREAD_ONCE_INIT;
static void asym_probe(void)
{
	int q = membarrier(MEMBARRIER_CMD_QUERY);
	asym_ok = q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	          membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
	          getenv("HC_NO_MEMBARRIER") == NULL;
}
#endif

int reclaim_init(struct reclaim *r, size_t backlog_cap, size_t ncounters)
{
	memset(r, 0, sizeof(*r));
	ck_epoch_init(&r->epoch);
	r->gen = atomic_fetch_add_explicit(&next_gen, 1, memory_order_relaxed);
	r->backlog_cap = backlog_cap;
	r->poll_bytes = backlog_cap / RECLAIM_POLL_SHARE;
	r->ncounters = ncounters;
#if defined(HC_HAVE_MEMBARRIER) && !defined(HC_TSAN)
	pthread_once(&asym_once, asym_probe);
	r->asym_ok = asym_ok;
#endif
	/* Start asymmetric where it works: a cache that only reads never polls. */
	atomic_init(&r->asym, r->asym_ok);
	r->barrier_on = r->asym_ok;
	atomic_init(&r->all, NULL);
	atomic_init(&r->freed_bytes, 0);
	atomic_init(&r->freed_objs, 0);
	ck_stack_init(&r->ready);
	atomic_init(&r->ready_any, 0);
	atomic_init(&r->free_pace, RECLAIM_PACE_ONE);
	r->shared = mem_alloc_line(sizeof(*r->shared), 1);
	if (r->shared == NULL)
		return HC_ENOMEM;
	if (pthread_mutex_init(&r->lock, NULL) != 0)
		goto fail_shared;
	if (pthread_mutex_init(&r->poll_mu, NULL) != 0)
		goto fail_lock;
	if (pthread_key_create(&r->key, thread_exit) != 0)
		goto fail_poll;
	ck_epoch_register(&r->epoch, r->shared, NULL);
	return 0;
fail_poll:
	pthread_mutex_destroy(&r->poll_mu);
fail_lock:
	pthread_mutex_destroy(&r->lock);
fail_shared:
	mem_free_line(r->shared, sizeof(*r->shared));
	return HC_ENOMEM;
}

static struct reclaim_thread *record_new(struct reclaim *r)
{
	struct reclaim_thread *t = mem_alloc_line(sizeof(*t), 1);
	if (t == NULL)
		return NULL;
	if (r->ncounters > 0) {
		t->counters = mem_alloc(r->ncounters * sizeof(t->counters[0]), 1);
		if (t->counters == NULL) {
			mem_free_line(t, sizeof(*t));
			return NULL;
		}
	}
	t->dom = r;
	if (pthread_mutex_init(&t->flush_mu, NULL) != 0) {
		mem_free(t->counters, r->ncounters * sizeof(t->counters[0]));
		mem_free_line(t, sizeof(*t));
		return NULL;
	}
	ck_epoch_register(&r->epoch, &t->rec, t);
	/* Publishes the initialised record to the summing loops (acquire load of r->all). */
	struct reclaim_thread *head = atomic_load_explicit(&r->all, memory_order_relaxed);
	do {
		t->all_next = head;
	} while (!atomic_compare_exchange_weak_explicit(&r->all, &head, t, memory_order_release,
	                                                memory_order_relaxed));
	return t;
}

struct reclaim_thread *reclaim_self_slow(struct reclaim *r)
{
	struct reclaim_thread *t = pthread_getspecific(r->key);
	if (t == NULL) {
		rank_lock(&r->lock, RANK_REGISTRY);
		ck_epoch_record_t *rec = ck_epoch_recycle(&r->epoch, NULL);
		if (rec != NULL) {
			/* rec is the first member of our record. */
			t = (struct reclaim_thread *)rec;
		} else {
			t = record_new(r);
		}
		rank_unlock(&r->lock, RANK_REGISTRY);
		if (t == NULL)
			return NULL;
		if (pthread_setspecific(r->key, t) != 0) {
			ck_epoch_unregister(&t->rec);
			return NULL;
		}
	}
	reclaim_tls_gen = r->gen;
	reclaim_tls_thread = t;
	return t;
}

static void flush(struct reclaim_thread *t);

static void release_record(struct reclaim_thread *t)
{
	/* Its batch goes to the domain; nothing is pending in a thread's own ck record
	 * (retirement goes to the shared one), so releasing never waits for a reader. */
	flush(t);
	rank_lock(&t->dom->lock, RANK_REGISTRY);
	ck_epoch_unregister(&t->rec);
	rank_unlock(&t->dom->lock, RANK_REGISTRY);
}

static void thread_exit(void *arg)
{
	struct reclaim_thread *t = arg;
	if (reclaim_tls_thread == t)
		reclaim_tls_gen = 0;
	release_record(t);
}

int reclaim_detach(struct reclaim *r)
{
	struct reclaim_thread *t = pthread_getspecific(r->key);
	if (t == NULL)
		return 0;
	/* Inside a section the record must stay this thread's: released now, another
	 * thread could recycle it and the section's end would decrement that thread's
	 * count, leaving its section unprotected. */
	if (ck_pr_load_uint(&t->rec.active) != 0)
		return HC_EBUSY;
	pthread_setspecific(r->key, NULL);
	if (reclaim_tls_gen == r->gen)
		reclaim_tls_gen = 0;
	release_record(t);
	return 0;
}

/* Frees one object and uncounts it. */
static void dispatch(struct reclaim_node *n)
{
	struct reclaim *r = reclaim_tls_dispatching;
#ifdef HC_TSAN
	/* Pairs with the release in every reclaim_exit: the grace period that ck_epoch
	 * guarantees, made visible to TSan, which cannot see ck's assembly. */
	__tsan_acquire(&r->tsan_grace);
#endif
	size_t bytes = n->bytes;
	n->fn(n);
	/* Release pairs with the acquire load in backlog(): a reader that sees
	 * this free also sees the retire counted (it happened before the staging push). */
	atomic_fetch_add_explicit(&r->freed_bytes, bytes, memory_order_release);
	atomic_fetch_add_explicit(&r->freed_objs, 1, memory_order_release);
}

/* ck's callback, the function of every entry ck or the ready stack holds: frees the
 * chain that starts at e (see the invariants above). */
static void free_chain(ck_epoch_entry_t *e)
{
	struct reclaim_node *n = (struct reclaim_node *)e;
	while (n != NULL) {
		struct reclaim_node *next = n->stage_next; /* before n is freed */
		dispatch(n);
		n = next;
	}
}

void reclaim_retire(struct reclaim_thread *t, struct reclaim_node *node, size_t bytes,
                    reclaim_fn *fn)
{
	node->fn = fn;
	node->bytes = bytes;
	node->stage_next = t->local_head;
	t->local_head = node;
	if (t->local_tail == NULL)
		t->local_tail = node;
	/* Owner-only counters: a relaxed load and store, no RMW on a shared line. */
	atomic_store_explicit(&t->retired_bytes,
	                      atomic_load_explicit(&t->retired_bytes, memory_order_relaxed) + bytes,
	                      memory_order_relaxed);
	atomic_store_explicit(&t->retired_objs,
	                      atomic_load_explicit(&t->retired_objs, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
	if (++t->local_n >= RECLAIM_BATCH)
		flush(t);
}

_Atomic(void (*)(void)) reclaim_flush_pushed, reclaim_frees_started, reclaim_polled;

/* Calls a test seam's function, if one is set. */
static void seam(_Atomic(void (*)(void)) *fn)
{
	void (*f)(void) = atomic_load_explicit(fn, memory_order_relaxed);
	if (f != NULL)
		f();
}

/* Moves the thread's batch, if any, onto the domain's staging stack: one CAS. The
 * record's flush mutex held (see struct reclaim_thread). Owner of t. */
static void flush_locked(struct reclaim_thread *t)
{
	if (t->local_head == NULL)
		return;
	struct reclaim *r = t->dom;
	struct reclaim_node *head = atomic_load_explicit(&r->staging, memory_order_relaxed);
	do {
		t->local_tail->stage_next = head;
		/* Release pairs with the acquire exchange in poll_locked: the poller sees
		 * every node's fn, bytes and stage_next. */
	} while (!atomic_compare_exchange_weak_explicit(&r->staging, &head, t->local_head,
	                                                memory_order_release,
	                                                memory_order_relaxed));
	seam(&reclaim_flush_pushed);
	t->local_head = t->local_tail = NULL;
	t->local_n = 0;
}

/* flush_locked under the record's flush mutex. Owner of t. */
static void flush(struct reclaim_thread *t)
{
	if (t->local_head == NULL)
		return;
	rank_lock(&t->flush_mu, RANK_FLUSH);
	flush_locked(t);
	rank_unlock(&t->flush_mu, RANK_FLUSH);
}

_Atomic int reclaim_fail_barrier;
_Atomic unsigned reclaim_mode_cycle;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void reclaim_set_reads(struct reclaim *r, uint64_t (*reads)(void *arg), void *arg)
{
	r->reads = reads;
	r->reads_arg = arg;
	r->win_reads = reads != NULL ? reads(arg) : 0;
}

/* poll_mu held: a new window for the polls' choice, from `reads` sections counted. */
static void window_reset(struct reclaim *r, uint64_t reads)
{
	r->win_reads = reads;
	r->win_barrier_ns = 0;
	r->win_barriers = 0;
	r->win_polls = 0;
}

/* poll_mu held: sections go fenceless from now on. Barriers first, then the mode. */
static void to_asym(struct reclaim *r)
{
	r->barrier_on = 1;
	r->barrier_off_next = 0;
	/* Release pairs with reclaim_enter's acquire load of the mode. */
	atomic_store_explicit(&r->asym, 1, memory_order_release);
}

void reclaim_mode_check(struct reclaim_thread *t)
{
	struct reclaim *r = t->dom;
	if (!r->asym_ok || r->reads == NULL ||
	    atomic_load_explicit(&reclaim_mode_cycle, memory_order_relaxed))
		return;
	uint64_t polls = atomic_load_explicit(&r->polls, memory_order_relaxed);
	uint64_t reads = r->reads(r->reads_arg);
	uint64_t since = polls - t->fenced_polls, read = reads - t->fenced_reads;
	t->fenced_polls = polls;
	t->fenced_reads = reads;
	if (since * atomic_load_explicit(&r->barrier_mean_ns, memory_order_relaxed) *
	            RECLAIM_MODE_HYSTERESIS >=
	    read * RECLAIM_FENCE_NS)
		return;
	if (rank_trylock(&r->poll_mu, RANK_POLL) != 0)
		return;
	if (!atomic_load_explicit(&r->asym, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&r->mode_switches, 1, memory_order_relaxed);
		to_asym(r);
		window_reset(r, reads);
	}
	rank_unlock(&r->poll_mu, RANK_POLL);
}

/* poll_mu held, after a poll: the mode for the sections that start from now on (see
 * "Choosing the mode" in reclaim.h). barrier_ns: what this poll's barrier took (0 if it
 * ran none). */
static void choose_mode(struct reclaim *r, uint64_t barrier_ns, int barrier)
{
	if (!r->asym_ok)
		return;
	int want;
	unsigned cycle = atomic_load_explicit(&reclaim_mode_cycle, memory_order_relaxed);
	uint64_t polls = atomic_load_explicit(&r->polls, memory_order_relaxed);
	if (cycle != 0) {
		want = polls % cycle == 0;
	} else {
		if (r->reads == NULL)
			return;
		r->win_barrier_ns += barrier_ns;
		r->win_barriers += (unsigned)barrier;
		if (++r->win_polls < RECLAIM_MODE_WINDOW)
			return;
		uint64_t reads = r->reads(r->reads_arg);
		uint64_t fences_ns = (reads - r->win_reads) * RECLAIM_FENCE_NS;
		if (r->win_barriers != 0)
			atomic_store_explicit(&r->barrier_mean_ns, r->win_barrier_ns / r->win_barriers,
			                      memory_order_relaxed);
		uint64_t mean = atomic_load_explicit(&r->barrier_mean_ns, memory_order_relaxed);
		/* What the window's barriers cost, or would have at the last mean measured. */
		uint64_t barriers_ns = r->win_barriers == r->win_polls
			? r->win_barrier_ns
			: (uint64_t)r->win_polls * mean;
		int now = atomic_load_explicit(&r->asym, memory_order_relaxed);
		if (now)
			want = barriers_ns <= fences_ns;
		else
			want = barriers_ns * RECLAIM_MODE_HYSTERESIS < fences_ns;
		window_reset(r, reads);
	}
	if (want == atomic_load_explicit(&r->asym, memory_order_relaxed))
		return;
	atomic_fetch_add_explicit(&r->mode_switches, 1, memory_order_relaxed);
	if (want) {
		to_asym(r);
	} else {
		/* The next poll's barrier orders this store before every section that
		 * starts after its barrier point; barrier_on drops after it (see reclaim.h). */
		atomic_store_explicit(&r->asym, 0, memory_order_relaxed);
#ifdef HC_RECLAIM_BROKEN_SWITCH
		/* The negative control of sb_reclaim's switch mode: no barrier after the
		 * switch. Never in the library or the other tests. */
		r->barrier_on = 0;
#else
		r->barrier_off_next = 1;
#endif
	}
}

/* The poller's process-wide barrier (see reclaim.h); -1 with errno on failure. */
static int barrier_all(void)
{
#ifdef HC_RECLAIM_BROKEN_NO_BARRIER
	/* The negative control of tests/stress/sb_reclaim.c: polls without the barrier.
	 * Never in the library or the other tests. */
	return 0;
#endif
	if (atomic_load_explicit(&reclaim_fail_barrier, memory_order_relaxed)) {
		errno = ENOSYS;
		return -1;
	}
#ifdef HC_HAVE_MEMBARRIER
	return membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
#else
	return 0; /* never called: asym is 0 without membarrier */
#endif
}

/* The threads' retired totals, bytes and objects, in one pass over the records. */
static void retired_sums(struct reclaim *r, uint64_t *bytes, uint64_t *objs)
{
	uint64_t b = 0, o = 0;
	/* Acquire pairs with the release CAS in record_new: a record seen is initialised. */
	for (struct reclaim_thread *t = atomic_load_explicit(&r->all, memory_order_acquire); t;
	     t = t->all_next) {
		b += atomic_load_explicit(&t->retired_bytes, memory_order_relaxed);
		o += atomic_load_explicit(&t->retired_objs, memory_order_relaxed);
	}
	*bytes = b;
	*objs = o;
}

/* poll_mu held. The objects whose grace period ended go onto *freeable (the domain's
 * ready stack, or reclaim_destroy's own), for free_deferred to free once poll_mu is
 * released: their free functions (a wipe and a free of each entry: milliseconds for a
 * thousand 8 KiB values) then no longer hold back the other pollers and the waiting
 * writers. */
static void poll_locked(struct reclaim *r, ck_stack_t *freeable)
{
	/* What was retired up to now is what this poll covers: reclaim_poll paces the
	 * next poll by what arrives after it (a snapshot; relaxed, only pacing). */
	uint64_t bytes, objs;
	retired_sums(r, &bytes, &objs);
	atomic_store_explicit(&r->polled_bytes, bytes, memory_order_relaxed);
	atomic_store_explicit(&r->polled_objs, objs, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->polls, 1, memory_order_relaxed);
	/* Nothing is freed here (ck_epoch_call queues, the deferred poll sets aside), so
	 * reclaim_tls_dispatching is free_deferred's to set. Acquire pairs with the
	 * release CAS in reclaim_retire. */
	struct reclaim_node *n = atomic_exchange_explicit(&r->staging, NULL, memory_order_acquire);
	if (n != NULL)
		ck_epoch_call(r->shared, &n->ck, free_chain); /* the whole stack, one chain */
	/* Fenceless readers: make every thread's announcement visible before the scan
	 * (see reclaim.h). Registered at init (Linux keeps the registration across fork,
	 * resets it at exec), so it cannot fail with EPERM; any other failure leaves a
	 * barrier undone, so give up the poll rather than free early. */
	int barrier = r->barrier_on;
	uint64_t barrier_ns = 0;
	if (barrier) {
		atomic_fetch_add_explicit(&r->barriers, 1, memory_order_relaxed);
		uint64_t t0 = now_ns();
		if (barrier_all() != 0) {
			atomic_store_explicit(&r->barrier_errno, errno, memory_order_relaxed);
			atomic_fetch_add_explicit(&r->barrier_failures, 1, memory_order_relaxed);
			return;
		}
		barrier_ns = now_ns() - t0;
		if (r->barrier_off_next) {
			/* The barrier after a switch to fenced has run (see reclaim.h). */
			r->barrier_on = 0;
			r->barrier_off_next = 0;
		}
	}
	ck_epoch_poll_deferred(r->shared, freeable);
	choose_mode(r, barrier_ns, barrier);
}

/* Runs the free functions of what poll_locked set aside, poll_mu released. */
static void free_deferred(struct reclaim *r, ck_stack_t *freeable)
{
	if (CK_STACK_ISEMPTY(freeable))
		return;
	seam(&reclaim_frees_started);
	struct reclaim *saved = reclaim_tls_dispatching;
	reclaim_tls_dispatching = r;
	ck_stack_entry_t *cur = CK_STACK_FIRST(freeable);
	while (cur != NULL) {
		ck_stack_entry_t *next = CK_STACK_NEXT(cur);
		ck_epoch_entry_t *e =
			(ck_epoch_entry_t *)((char *)cur - offsetof(ck_epoch_entry_t, stack_entry));
		e->function(e); /* free_chain: frees e's chain */
		cur = next;
	}
	reclaim_tls_dispatching = saved;
}

/* poll_mu held. Moves onto *out what this caller frees of the ready stack (chains): all
 * of it when step is RECLAIM_STEP_ALL, nothing when it is 0, else objects until their
 * bytes reach step (at least one), cutting the last chain taken there and pushing its
 * rest back. Returns the bytes taken (0 for RECLAIM_STEP_ALL: not counted). Walking a chain reads each
 * object's line, which its free is about to read anyway. */
static uint64_t take_ready(struct reclaim *r, ck_stack_t *out, uint64_t step)
{
	uint64_t bytes = 0;
	if (step == RECLAIM_STEP_ALL) {
		out->head = ck_stack_batch_pop_npsc(&r->ready);
	} else {
		ck_stack_entry_t *cur;
		while (bytes < step && (cur = ck_stack_pop_npsc(&r->ready)) != NULL) {
			struct reclaim_node *n = (struct reclaim_node *)(
				(char *)cur - offsetof(ck_epoch_entry_t, stack_entry));
			ck_stack_push_spnc(out, cur);
			for (;;) {
				bytes += n->bytes;
				struct reclaim_node *rest = n->stage_next;
				if (rest == NULL)
					break;
				if (bytes >= step) {
					n->stage_next = NULL;
					rest->ck.function = free_chain;
					ck_stack_push_spnc(&r->ready, &rest->ck.stack_entry);
					break;
				}
				n = rest;
			}
		}
	}
	atomic_store_explicit(&r->ready_any, !CK_STACK_ISEMPTY(&r->ready), memory_order_relaxed);
	return bytes;
}

/* poll_mu held. A paced poll about to add its release to the ready stack adjusts the
 * free pace: objects left from earlier releases mean the steps fell behind what
 * arrives, an empty stack that they kept up (see reclaim_poll in reclaim.h). */
static void adjust_pace(struct reclaim *r)
{
	unsigned p = atomic_load_explicit(&r->free_pace, memory_order_relaxed);
	if (!CK_STACK_ISEMPTY(&r->ready))
		p = p + RECLAIM_PACE_UP < RECLAIM_PACE_MAX ? p + RECLAIM_PACE_UP : RECLAIM_PACE_MAX;
	else
		p = p > RECLAIM_PACE_ONE ? p - 1 : RECLAIM_PACE_ONE;
	atomic_store_explicit(&r->free_pace, p, memory_order_relaxed);
}

/* poll_mu held by the caller, released here: takes what to free off the ready stack
 * (after a poll, when poll is set; a paced poll also adjusts the pace), then frees it
 * under t's flush mutex instead: a fork must not copy a thread that holds objects taken
 * off the stack and not yet freed (the child would count them as retired for ever),
 * and fork's prepare takes every flush mutex. step: as take_ready's, 0 for nothing.
 * Returns the bytes taken (0 for RECLAIM_STEP_ALL). */
static uint64_t take_and_free(struct reclaim_thread *t, int poll, uint64_t step)
{
	struct reclaim *r = t->dom;
	ck_stack_t freeable = CK_STACK_INITIALIZER;
	if (poll) {
		if (step != RECLAIM_STEP_ALL)
			adjust_pace(r);
		poll_locked(r, &r->ready);
		seam(&reclaim_polled);
	}
	uint64_t taken = take_ready(r, &freeable, step);
	rank_lock(&t->flush_mu, RANK_FLUSH);
	rank_unlock(&r->poll_mu, RANK_POLL);
	free_deferred(r, &freeable);
	rank_unlock(&t->flush_mu, RANK_FLUSH);
	return taken;
}

/* A poll, then every ready object freed. */
static void poll_and_free(struct reclaim_thread *t)
{
	take_and_free(t, 1, RECLAIM_STEP_ALL);
}

/* This call's step of frees, in bytes: the pace times what t retired since its previous
 * call, plus its credit (what earlier steps took beyond theirs, as a negative number).
 * A step of 0 or less frees nothing and carries over. Owner of t. */
static int64_t step_bytes(struct reclaim_thread *t)
{
	uint64_t retired = atomic_load_explicit(&t->retired_bytes, memory_order_relaxed);
	uint64_t pace = atomic_load_explicit(&t->dom->free_pace, memory_order_relaxed);
	int64_t step = (int64_t)((retired - t->stepped_bytes) * pace / RECLAIM_PACE_ONE) +
	               t->step_credit;
	t->stepped_bytes = retired;
	t->step_credit = step < 0 ? step : 0;
	return step;
}

/* After a step of step bytes took taken: what it took beyond the step is owed by the
 * next ones; what it could not take (the stack ran out) is not carried. Owner of t. */
static void step_taken(struct reclaim_thread *t, int64_t step, uint64_t taken)
{
	if (step > 0 && taken > (uint64_t)step)
		t->step_credit = step - (int64_t)taken;
}

/* reclaim_poll when no poll is due: the thread's batch onto the staging stack, then
 * one step of the ready stack freed if it holds anything and no poller has poll_mu (a
 * poller frees a step itself), both under one hold of the flush mutex (two before
 * 2026-12-08: flush, then take_and_free's; a lock and an unlock, two locked
 * instructions, a write). poll_mu is only tried here, with the flush mutex held, where
 * take_and_free and fork's prepare take it before a flush mutex: a trylock never
 * waits, so the two orders cannot deadlock. The frees run with poll_mu released, under
 * the flush mutex, as take_and_free's. Owner of t. */
static void flush_and_step(struct reclaim_thread *t, int64_t step)
{
	struct reclaim *r = t->dom;
	int step_now = step > 0 && atomic_load_explicit(&r->ready_any, memory_order_relaxed);
	if (t->local_head == NULL && !step_now)
		return;
	rank_lock(&t->flush_mu, RANK_FLUSH);
	flush_locked(t);
	if (step_now && rank_trylock(&r->poll_mu, RANK_POLL) == 0) {
		ck_stack_t freeable = CK_STACK_INITIALIZER;
		uint64_t taken = take_ready(r, &freeable, (uint64_t)step);
		rank_unlock(&r->poll_mu, RANK_POLL);
		free_deferred(r, &freeable);
		step_taken(t, step, taken);
	}
	rank_unlock(&t->flush_mu, RANK_FLUSH);
}

void reclaim_hurry(struct reclaim_thread *t)
{
	atomic_store_explicit(&t->dom->free_pace, RECLAIM_PACE_MAX, memory_order_relaxed);
	t->check_now = 1;
}

void reclaim_free_ready(struct reclaim_thread *t)
{
	struct reclaim *r = t->dom;
	if (!atomic_load_explicit(&r->ready_any, memory_order_relaxed))
		return;
	rank_lock(&r->poll_mu, RANK_POLL);
	take_and_free(t, 0, RECLAIM_STEP_ALL);
}

/* Whether the bytes (or objects) retired since the last poll began are worth a poll's
 * membarrier (see reclaim_poll in reclaim.h). */
static int poll_due(struct reclaim *r)
{
	uint64_t bytes = 0, objs = 0;
	retired_sums(r, &bytes, &objs);
	return bytes - atomic_load_explicit(&r->polled_bytes, memory_order_relaxed) >= r->poll_bytes ||
	       objs - atomic_load_explicit(&r->polled_objs, memory_order_relaxed) >= RECLAIM_POLL_MAX;
}

/* Whether t looks now whether a poll is due: it has retired a RECLAIM_CHECK_SHARE-th
 * of the threshold's bytes or objects since it last looked, or reclaim_hurry asked
 * (see reclaim_poll in reclaim.h). Owner of t: its own counters only. */
static int check_due(struct reclaim_thread *t)
{
	uint64_t b = atomic_load_explicit(&t->retired_bytes, memory_order_relaxed);
	uint64_t o = atomic_load_explicit(&t->retired_objs, memory_order_relaxed);
	if (!t->check_now && b - t->checked_bytes < t->dom->poll_bytes / RECLAIM_CHECK_SHARE &&
	    o - t->checked_objs < RECLAIM_POLL_MAX / RECLAIM_CHECK_SHARE)
		return 0;
	t->checked_bytes = b;
	t->checked_objs = o;
	t->check_now = 0;
	t->due_checks++;
	return 1;
}

/* Polls, then frees everything ready (paced 0) or, in the first round, one step of
 * step bytes (paced: later rounds only poll). */
static void poll_rounds(struct reclaim_thread *t, int paced, int64_t step)
{
	struct reclaim *r = t->dom;
	/* A poller that finds the lock taken leaves: the holder may have taken the staging
	 * stack before this thread's flush. reclaim_poll_now's holder looks again after its
	 * poll (a bounded number of times) rather than leave those objects to the next
	 * write. A paced holder looks again only if what arrived is worth a poll by the
	 * pacing: the other writers end their writes every microsecond or so, so the stack
	 * is nearly always non-empty after a poll, and looking whenever it was made two or
	 * three membarriers of every paced poll (20-35 us each with two threads on two
	 * cores); what it leaves goes with the next poll, as anything retired does. */
	for (int round = 0; round < 3; round++) {
		if (reclaim_backlog_objs(r) == 0)
			return;
		if (rank_trylock(&r->poll_mu, RANK_POLL) != 0)
			return;
		if (!paced) {
			take_and_free(t, 1, RECLAIM_STEP_ALL);
		} else {
			uint64_t s = round == 0 && step > 0 ? (uint64_t)step : 0;
			step_taken(t, step, take_and_free(t, 1, s));
		}
		/* Acquire pairs with the release CAS in flush: nodes seen are complete (the
		 * next poll_locked exchanges again, acquire, before it reads them). */
		if (atomic_load_explicit(&r->staging, memory_order_acquire) == NULL ||
		    (paced && !poll_due(r)))
			return;
	}
}

void reclaim_poll_now(struct reclaim_thread *t)
{
	flush(t);
	/* Objects ready from earlier polls count in the backlog, so this polls and frees
	 * them too. */
	poll_rounds(t, 0, 0);
}

void reclaim_poll(struct reclaim_thread *t)
{
	struct reclaim *r = t->dom;
	/* A poll costs a membarrier (a system call and an IPI per CPU running us): wait
	 * until the pending bytes are worth it (see reclaim.h). Whether it is due does not
	 * depend on the staging stack, so the flush may come after. */
	int64_t step = step_bytes(t);
	if (!check_due(t) || !poll_due(r)) {
		flush_and_step(t, step);
		return;
	}
	flush(t);
	poll_rounds(t, 1, step);
}

static int nothing_pending(void *arg)
{
	return reclaim_backlog_objs(arg) == 0;
}

int reclaim_drain(struct reclaim_thread *t, uint64_t timeout_ns)
{
	return reclaim_drain_until(t, timeout_ns, nothing_pending, t->dom);
}

/* ck's record states (src/ck_epoch.c, not in its header). */
enum { CK_RECORD_USED = 0 };

/* Whether a poll now would be futile: a thread is in a section it began before the
 * current epoch, so no epoch can advance and nothing more can be freed. A plain scan
 * (no barrier): a stale view only delays the next poll by a pause; a poll still runs
 * its barrier before it frees anything. *epoch: the epoch the scan compared with. */
static int grace_blocked(struct reclaim *r, unsigned *epoch)
{
	unsigned e = ck_pr_load_uint(&r->epoch.epoch);
	*epoch = e;
	/* Acquire pairs with the release CAS in record_new: a record seen is initialised. */
	for (struct reclaim_thread *t = atomic_load_explicit(&r->all, memory_order_acquire); t;
	     t = t->all_next)
		/* Only registered records, as ck_epoch's own scan: a record released at a
		 * fork (reclaim_fork_child) or by its thread's exit may keep active set by a
		 * section its vanished owner never ended, and would block every drain. */
		if (ck_pr_load_uint(&t->rec.state) == CK_RECORD_USED &&
		    ck_pr_load_uint(&t->rec.active) != 0 && ck_pr_load_uint(&t->rec.epoch) != e)
			return 1;
	return 0;
}

/* Polls without a free a drain makes past its deadline before it may give up on a
 * grace period that nothing holds back (see reclaim_drain_until). */
#define DRAIN_LATE_POLLS 3
/* Past the deadline, the drain's longest wait in timeouts, whatever it sees. */
#define DRAIN_CAP 4

int reclaim_drain_until(struct reclaim_thread *t, uint64_t timeout_ns, int (*done)(void *),
                        void *arg)
{
	uint64_t start = now_ns(), deadline = start + timeout_ns;
	/*
	 * Until the deadline the drain polls and yields. Past it, it gives up (HC_EBUSY,
	 * "a reader is stalled") only on evidence of a stall, a thread that has held up
	 * reclamation for a whole timeout_ns, because the waiter may have been preempted
	 * through its wait and reach the deadline having looked once or not at all:
	 *   - the grace period held back, seen so at one epoch for timeout_ns: a record
	 *     still in a section begun before the epoch of the first look has been in
	 *     that one section all that time. One look is no evidence: a poll advances
	 *     the epoch and a busy reader is then most often in a section begun before
	 *     it, which it leaves within microseconds (seen in CI: a put refused while
	 *     its peer's operations all took under 2 ms). blocked_since: the first look
	 *     at blocked_epoch (0: the last look saw the grace period free);
	 *   - the grace period free, yet DRAIN_LATE_POLLS polls in a row and timeout_ns
	 *     without anything freed in the domain (freed_at): what the goal needs is
	 *     held by a thread that has stopped, its batch not yet staged or objects it
	 *     took off the ready stack not yet freed (seen in test_cache_core under load:
	 *     polls past the deadline found no reader in a section and freed nothing);
	 *   - DRAIN_CAP timeouts past the deadline in any case (other writers keep taking
	 *     the room reclamation makes).
	 * Waiting on a deadline in the thread's CPU time instead made writes wait 58-444
	 * ms on average instead of 40-92 in cache_bench's mixed work from 8 threads on 2
	 * cores.
	 */
	unsigned epoch, blocked_epoch = 0, idle_polls = 0;
	uint64_t blocked_since = 0, freed_at = start;
	struct reclaim *r = t->dom;
	uint64_t freed = atomic_load_explicit(&r->freed_objs, memory_order_relaxed);
	flush(t);
	reclaim_free_ready(t); /* no barrier needed for those */
	for (;;) {
		if (done(arg))
			return 0;
		/* A poll costs a membarrier: none while a reader that began before the
		 * current epoch is still in its section. */
		int blocked = grace_blocked(r, &epoch);
		if (!blocked) {
			blocked_since = 0;
			rank_lock(&r->poll_mu, RANK_POLL);
			poll_and_free(t);
			if (done(arg))
				return 0;
		}
		uint64_t now = now_ns();
		uint64_t f = atomic_load_explicit(&r->freed_objs, memory_order_relaxed);
		int progress = f != freed;
		if (progress) {
			freed = f;
			freed_at = now;
			idle_polls = 0;
		} else if (!blocked) {
			idle_polls++;
		}
		if (blocked && (blocked_since == 0 || epoch != blocked_epoch)) {
			blocked_since = now;
			blocked_epoch = epoch;
		}
		if (now >= deadline) {
			if (blocked ? now - blocked_since >= timeout_ns
			            : idle_polls >= DRAIN_LATE_POLLS && now - freed_at >= timeout_ns)
				return HC_EBUSY;
			if (now - deadline >= DRAIN_CAP * timeout_ns)
				return HC_EBUSY;
		}
		/* A poll that freed something ended a grace period: the next may end one too,
		 * at once (an object needs two or three epoch advances). */
		if (progress && !blocked)
			continue;
		/* The thread holding reclamation back is most often runnable but preempted
		 * (more threads than cores): yield the CPU to it rather than sleep, whose
		 * wake-up on a loaded machine came tens of milliseconds late. */
		sched_yield();
	}
}

/* Sum of the threads' retired totals minus the freed total (see the invariants). */
static uint64_t backlog(struct reclaim *r, _Atomic uint64_t *freed, size_t off)
{
	/* Acquire pairs with the release adds in dispatch: every retire counted before a
	 * free seen here is seen in the sum below, so the backlog never goes negative. */
	uint64_t f = atomic_load_explicit(freed, memory_order_acquire);
	uint64_t sum = 0;
	/* Acquire pairs with the release CAS in record_new: a record seen is initialised. */
	for (struct reclaim_thread *t = atomic_load_explicit(&r->all, memory_order_acquire); t;
	     t = t->all_next)
		sum += atomic_load_explicit((_Atomic uint64_t *)((char *)t + off),
		                            memory_order_relaxed);
	return sum > f ? sum - f : 0;
}

uint64_t reclaim_backlog(struct reclaim *r)
{
	return backlog(r, &r->freed_bytes, offsetof(struct reclaim_thread, retired_bytes));
}

uint64_t reclaim_backlog_objs(struct reclaim *r)
{
	return backlog(r, &r->freed_objs, offsetof(struct reclaim_thread, retired_objs));
}

int reclaim_over_cap(struct reclaim *r)
{
	return reclaim_backlog(r) > r->backlog_cap;
}

uint64_t reclaim_counter_sum(struct reclaim *r, size_t i)
{
	uint64_t sum = 0;
	/* Acquire pairs with the release CAS in record_new: a record seen is initialised. */
	for (struct reclaim_thread *t = atomic_load_explicit(&r->all, memory_order_acquire); t;
	     t = t->all_next)
		sum += atomic_load_explicit(&t->counters[i], memory_order_relaxed);
	return sum;
}

/* ---- fork ---------------------------------------------------------------------------- */

void reclaim_fork_prepare(struct reclaim *r)
{
	/* Plain locks: the fork handlers hold many mutexes of one rank at once, in the
	 * one global order (see hotcache.c), which the rank check would refuse. The
	 * registry lock first: no record is added while the flush mutexes are taken. */
	pthread_mutex_lock(&r->lock);
	pthread_mutex_lock(&r->poll_mu);
	/* Acquire pairs with the release CAS in record_new: a record seen is initialised. */
	for (struct reclaim_thread *t = atomic_load_explicit(&r->all, memory_order_acquire); t;
	     t = t->all_next)
		pthread_mutex_lock(&t->flush_mu);
}

void reclaim_fork_parent(struct reclaim *r)
{
	/* Acquire pairs with the release CAS in record_new: a record seen is initialised. */
	for (struct reclaim_thread *t = atomic_load_explicit(&r->all, memory_order_acquire); t;
	     t = t->all_next)
		pthread_mutex_unlock(&t->flush_mu);
	pthread_mutex_unlock(&r->poll_mu);
	pthread_mutex_unlock(&r->lock);
}

void reclaim_fork_child(struct reclaim *r)
{
	/* Only the forking thread exists in the child. Every other thread's record would
	 * stay registered for ever, and if that thread was inside a section at the fork,
	 * active for ever: no grace period would end again. Their private batches go to
	 * the staging stack (their owners are gone, and nothing else runs), the records
	 * are released for recycling; the forking thread keeps its own (it may even be in
	 * a section, if it forked from a read callback). */
	struct reclaim_thread *self = pthread_getspecific(r->key);
	/* Acquire pairs with the release CAS in record_new: a record seen is initialised. */
	for (struct reclaim_thread *t = atomic_load_explicit(&r->all, memory_order_acquire); t;
	     t = t->all_next) {
		/* Taken by prepare, so no batch is half pushed. */
		pthread_mutex_init(&t->flush_mu, NULL);
		if (t == self || ck_pr_load_uint(&t->rec.state) != CK_RECORD_USED)
			continue;
		flush(t);
		ck_epoch_unregister(&t->rec);
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->poll_mu, NULL);
}

void reclaim_destroy(struct reclaim *r)
{
	/* No reader remains (the caller's contract), so everything pending is safe. */
	struct reclaim *saved = reclaim_tls_dispatching;
	/* Acquire pairs with the release CAS in record_new: a record seen is initialised. */
	for (struct reclaim_thread *t = atomic_load_explicit(&r->all, memory_order_acquire); t;
	     t = t->all_next)
		flush(t); /* no thread runs any more: every batch goes to the domain */
	ck_stack_t freeable = CK_STACK_INITIALIZER;
	poll_locked(r, &r->ready); /* hands the staging stack over */
	take_ready(r, &freeable, RECLAIM_STEP_ALL);
	free_deferred(r, &freeable);
	reclaim_tls_dispatching = r;
	ck_epoch_reclaim(r->shared);
	reclaim_tls_dispatching = saved;
	mem_free_line(r->shared, sizeof(*r->shared));
	/* Acquire pairs with the release CAS in record_new: a record seen is initialised. */
	struct reclaim_thread *t = atomic_load_explicit(&r->all, memory_order_acquire);
	while (t != NULL) {
		struct reclaim_thread *next = t->all_next;
		if (t->counters != NULL)
			mem_free(t->counters, r->ncounters * sizeof(t->counters[0]));
		pthread_mutex_destroy(&t->flush_mu);
		mem_free_line(t, sizeof(*t));
		t = next;
	}
	if (reclaim_tls_gen == r->gen)
		reclaim_tls_gen = 0;
	pthread_key_delete(r->key);
	pthread_mutex_destroy(&r->poll_mu);
	pthread_mutex_destroy(&r->lock);
}
