/*
 * reclaim/: epoch-based reclamation over Concurrency Kit's ck_epoch.
 *
 * A domain (struct reclaim) protects the objects of one cache. Readers bracket every
 * access to shared objects with reclaim_enter()/reclaim_exit(); a writer that unlinks
 * an object hands it to reclaim_retire(), and the object is freed once every section
 * that could have seen it has ended (a grace period).
 *
 * Threads register implicitly: the first reclaim_enter/reclaim_self on a domain
 * allocates (or recycles) a ck_epoch record for the thread, found again through a
 * thread-local one-entry cache (domain generation + record) with pthread keys behind
 * it; the record is released at thread exit (its pending objects stay in it and are
 * freed by whichever thread recycles it, or at reclaim_destroy).
 *
 * Retirement goes to one shared ck_epoch record per domain, not to the retiring
 * thread's: a thread that retires and then goes idle or blocks would otherwise strand
 * its pending objects, whose bytes count against the cache's limit, until it ran
 * again. A retired object goes on the thread's private batch, which moves to a
 * lock-free staging stack with one CAS when it holds RECLAIM_BATCH objects or when the
 * thread polls (the cache polls at the end of every write, so no batch waits on a
 * thread between writes); the poller (one at a time, under a trylock so pollers never
 * queue; the holder looks at the stack again after its poll, for what arrived
 * meanwhile) takes the whole stack, hands it to the shared record with one
 * ck_epoch_call (the stack's first node heads the chain of all of them: one node
 * touched per poll, not each), and polls. Handing over only under the lock matters: ck_epoch_poll frees every bin
 * when it finds no active reader, which is safe only for objects retired before its
 * scan, so nothing may be added to the record while it polls. The poll only sets the
 * objects whose grace period ended aside (ck_epoch_poll_deferred), on the domain's
 * ready stack; objects taken off that stack are freed after the lock is released,
 * under the freeing thread's flush mutex (fork's prepare waits for it), so that other
 * pollers and waiting writers do not queue behind the frees (the wipe and free of each
 * entry). A paced poll (reclaim_poll) frees one step of the stack (cutting a chain
 * where the step ends) and the next writes a step each; every other poll frees it all (see reclaim_poll). Any writer polls, and
 * so does hc_stats, so whatever any thread retired is freed as soon as a grace period
 * allows and an idle cache drains. reclaim_drain() / reclaim_drain_until() poll until
 * a goal is met or a deadline passes: the synchronize fallback, bounded in time because
 * a reader stalled inside a section would make ck_epoch_synchronize wait forever. They
 * skip the poll (and its membarrier) while a scan without barrier sees a reader still
 * in a section begun before the current epoch, and yield the CPU between tries (that
 * reader is most often preempted, not blocked).
 *
 * A stalled reader: no grace period can end while a reader stays in a section, so the
 * backlog cannot shrink. The domain does not block and does not free early: drain
 * returns HC_EBUSY at its deadline. The cap that bounds memory is the caller's, not
 * the domain's: the cache gives each shard a retired allowance and admits an install
 * only when the shard's entries + retired + the new entry fit its share, waiting (via
 * reclaim_drain_until) at most a bounded time for that (cache/policy.c, hotcache.c). So
 * retired bytes stay within the shards' allowances whatever a reader does; they drain
 * once the reader leaves (tests/unit/test_reclaim, test_cache_core). The domain's own
 * backlog_cap only paces polls (reclaim_poll polls once a sixteenth of it was retired
 * since the last poll, which a writer looks at once it has retired a 64th of that) and
 * answers reclaim_over_cap for callers that use it (the map's tests).
 *
 * Read sections without a fence (asymmetric, as liburcu's membarrier flavour): a
 * reader announces itself with plain stores (active, then the epoch it saw) and a
 * compiler barrier, no xchg. The store-load reordering that ck_epoch_begin's fence
 * prevents (the announcement still in the store buffer while the section's loads run)
 * is instead prevented by the poller: before ck_epoch_poll scans the records it calls
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full barrier on every
 * thread of the process. After it returns, a reader that had already loaded a pointer
 * has its announcement visible to the scan (the barrier fell after its store, which
 * precedes its load), and a reader whose barrier fell before its store cannot reach an
 * object that was unlinked before the poller took it off the staging stack. The cost
 * moves from every read (about 20 cycles) to every poll (a few microseconds), and
 * polls happen on writes, which wait on RocksDB anyway. Without membarrier (old
 * kernels, seccomp, HC_PORTABLE builds and every non-Linux system), in TSan builds and
 * in a process started with HC_NO_MEMBARRIER in its environment (read once, at the
 * first domain's init), sections use reclaim_fenced_announce below (correct on weakly
 * ordered CPUs too). The trade, measured on a 2-core VM (README, Performance): a
 * fence costs an in-cache hit about 6 ns (-34% hits per second), a membarrier there
 * 20-35 us and an interrupt of every other running thread, which under churn of
 * 8 KiB values (a poll per ~80 writes) was most of the p99 of writes and lookups.
 *
 * Choosing the mode at run time. Where membarrier works, a domain whose owner tells it
 * how many sections run (reclaim_set_reads: the cache counts its lookups anyway)
 * chooses between the two every RECLAIM_MODE_WINDOW polls: fenced when the window's
 * barriers took longer than its sections' fences would (RECLAIM_FENCE_NS each), and
 * asymmetric again when the barriers the window would have run (at the mean time of
 * the last ones measured) cost less than a quarter of its fences. Read-mostly work keeps
 * fenceless hits; churn (a poll per hundred writes) stops paying a membarrier per poll.
 * A poll is where the choice is made, and polls stop when writes do: so a thread that
 * starts RECLAIM_MODE_READS fenced sections also checks the polls since its last check
 * (reclaim_mode_check), and a read-only phase goes back to asymmetric on its own.
 * Two fields carry the mode: `asym`, what a section starting now does (the readers'
 * one load of it, acquire), and `barrier_on`, whether a poll runs the barrier (under
 * poll_mu). The invariant: a section that may run fenceless is covered by a barrier
 * in every poll until it ends. The transitions, both made by a poller under poll_mu:
 *   - to asymmetric: barrier_on = 1, then asym = 1 (release). A section that loads 1
 *     (acquire) sees every poll before the store done and freed with nothing it can
 *     reach (their objects were unlinked before them), and every later poll barriers.
 *   - to fenced: asym = 0, and barrier_on drops only after the next successful barrier
 *     (B). A section loads the mode after its store of active = 1 (program order), so
 *     one that loaded 1 had B's barrier point after that load (else B's full barrier,
 *     which follows the store of 0, would have shown it 0), hence after its store of
 *     active: from B on, every scan sees it active until its exit (a release). Its
 *     epoch store may still be in flight, but a scan then reads the record's older
 *     epoch, which only holds the grace period back; and its loads after B's point are
 *     ordered after everything before B. So the polls after B need no barrier for it.
 *     Dropping barrier_on with the store (no B) leaves a section that loaded 1 with its
 *     announcement in its store buffer while a barrier-free scan runs: a use after
 *     free, which tests/stress/sb_reclaim.c's switch mode catches in the control built
 *     with HC_RECLAIM_BROKEN_SWITCH.
 * The load of the epoch in a fenceless section is acquire (free on x86) so that on
 * weakly ordered CPUs, with no barrier after the switch, the section's loads cannot
 * run before it.
 *
 * TSan cannot see ck's inline assembly, so in HC_TSAN builds every section exit
 * releases, and every free acquires, one sync object per domain: exactly the
 * happens-before that the grace period provides.
 */
#ifndef HC_RECLAIM_H
#define HC_RECLAIM_H

#include <ck_epoch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hotcache.h"

#ifdef HC_TSAN
#include <sanitizer/tsan_interface.h>
#endif

struct reclaim_node;
typedef void reclaim_fn(struct reclaim_node *node);

/* Embedded in every retired object. */
struct reclaim_node {
	ck_epoch_entry_t ck;
	reclaim_fn *fn;
	size_t bytes;
	/* The next node on the staging stack, then in the chain ck and the ready stack
	 * hold (see reclaim.c's invariants): written by its retire, flush or a step's cut,
	 * each before the node is handed on. */
	struct reclaim_node *stage_next;
};

/* A thread's registration with one domain. Owned by that thread while registered. */
struct reclaim_thread {
	ck_epoch_record_t rec;
	struct reclaim *dom;
	struct reclaim_thread *all_next; /* every record of the domain, never unlinked */
	/* Retired by this thread, not yet on the domain's staging stack: owner only,
	 * except that the owner pushes them onto the stack under flush_mu, which fork's
	 * prepare takes too: a fork between the push and the reset of local_head would
	 * hand the child a batch that the stack already holds (and the child's release of
	 * the record would push it again, a cycle). Rank: leaf, above every other. */
	struct reclaim_node *local_head, *local_tail;
	unsigned local_n;
	/* retired_bytes at the thread's last reclaim_poll: what it retired since sizes its
	 * step of frees; step_credit (0 or less) is what earlier steps freed beyond theirs,
	 * owed by the next ones (owner only). */
	uint64_t stepped_bytes;
	int64_t step_credit;
	/* retired_bytes and retired_objs when the thread last looked whether a poll is due
	 * (reclaim_poll), and check_now, set by reclaim_hurry: look at the next call
	 * (owner only). */
	uint64_t checked_bytes, checked_objs;
	int check_now;
	uint64_t due_checks; /* times it looked (tests; owner only) */
	/* Fenced sections this thread started, and the domain's polls and read count when
	 * it last looked (owner only): every RECLAIM_MODE_READS of them, a thread checks
	 * whether the reads since paid for the polls' barriers (reclaim_mode_check). */
	uint64_t fenced_n, fenced_polls, fenced_reads;
	/* Monotonic totals of what this thread retired: written by the owner, summed by
	 * anyone (the backlog is their sum minus the domain's freed totals). */
	_Atomic uint64_t retired_bytes, retired_objs;
	/* Per-thread counters of the layer above (cache stats), so that it needs no TLS
	 * of its own: the owner writes, readers sum. Sized by reclaim_init. */
	_Atomic uint64_t *counters;
	/* See local_head; also held while the thread frees what its poll set aside.
	 * Last, off the lines the hit path reads. */
	pthread_mutex_t flush_mu;
};

struct reclaim {
	ck_epoch_t epoch;
	uint64_t gen;              /* unique per domain in this process */
	pthread_key_t key;
	pthread_mutex_t lock;      /* registration only; rank: leaf */
	_Atomic(struct reclaim_thread *) all;
	size_t backlog_cap;        /* paces polls; reclaim_over_cap's threshold */
	size_t poll_bytes;         /* reclaim_poll's threshold: backlog_cap / RECLAIM_POLL_SHARE */
	/* The threads' retired totals when the last poll began: reclaim_poll counts what
	 * was retired since (statistics-grade pacing, relaxed). */
	_Atomic uint64_t polled_bytes, polled_objs;
	/* The read-section mode (see "Choosing the mode" at the top of this file).
	 * asym_ok: membarrier works here, so sections may go fenceless (set at init).
	 * asym: sections starting now skip the fence; written by a poller under poll_mu
	 * (release, pairs with reclaim_enter's acquire load), read by every section.
	 * barrier_on / barrier_off_next: polls run the barrier; drop it after the next
	 * barrier (the switch to fenced). Under poll_mu. */
	int asym_ok;
	_Atomic int asym;
	int barrier_on, barrier_off_next;
	/* The mode's window, under poll_mu: reads() counts the sections run so far (the
	 * owner's count, monotonic; NULL: the domain never leaves its initial mode). */
	uint64_t (*reads)(void *arg);
	void *reads_arg;
	uint64_t win_reads, win_barrier_ns, win_barriers;
	unsigned win_polls;
	/* The mean time of the last window's barriers: written under poll_mu, read by
	 * reclaim_mode_check without it (relaxed: an estimate). */
	_Atomic uint64_t barrier_mean_ns;
	_Atomic uint64_t mode_switches; /* statistics, relaxed */
	ck_epoch_record_t *shared; /* where retired objects wait; used under poll_mu */
	/* Objects whose grace period ended, not yet freed: a poll puts them here and the
	 * writers' next reclaim_poll calls free them a step at a time (see reclaim_poll).
	 * Under poll_mu; ready_any is its emptiness, read without the lock as a hint
	 * (relaxed: a stale 1 costs a trylock, a stale 0 leaves the step to the next
	 * call). */
	ck_stack_t ready;
	_Atomic int ready_any;
	/* The steps' pace, in RECLAIM_PACE_ONE units: written by paced polls under poll_mu
	 * and by reclaim_hurry, read by every reclaim_poll without it (relaxed: a rate, not
	 * a guard). */
	_Atomic unsigned free_pace;
	_Atomic(struct reclaim_node *) staging; /* retired, not yet handed to shared */
	pthread_mutex_t poll_mu;   /* one poller of the shared record at a time; leaf */
	_Atomic uint64_t freed_bytes;   /* monotonic, by the poller */
	_Atomic uint64_t freed_objs;
	/* Polls given up because the process-wide barrier failed (membarrier), and its
	 * last errno: statistics, relaxed. No grace period ends while it fails. */
	_Atomic uint64_t barrier_failures;
	_Atomic uint64_t barriers; /* polls that ran the barrier (statistics, relaxed) */
	_Atomic uint64_t polls;    /* polls of the shared record (statistics, relaxed) */
	_Atomic int barrier_errno;
	size_t ncounters;
#ifdef HC_TSAN
	char tsan_grace;           /* the sync object for the TSan annotations */
#endif
};

/*
 * Initialises a domain. backlog_cap: retired bytes above which reclaim_over_cap() is
 * true. ncounters: per-thread 64-bit counters to keep for the caller (0 for none).
 * Returns 0 or HC_ENOMEM (no thread key, out of memory). Called by one thread, before
 * any other use.
 */
HC_NODISCARD int reclaim_init(struct reclaim *r, size_t backlog_cap, size_t ncounters);
/*
 * Frees every pending object and every record. No thread may be in a section or use
 * the domain during or after the call.
 */
void reclaim_destroy(struct reclaim *r);

/* The calling thread's record (registering it on first use), or NULL when out of
 * memory. Any thread. Lock-free after the first call per thread; the first takes the
 * domain's registration mutex. */
struct reclaim_thread *reclaim_self_slow(struct reclaim *r);

/* The thread's one-entry cache that reclaim_self reads on every section start: hidden
 * and initial-exec, so a hit reads it at a fixed offset from the thread pointer. A
 * shared library's TLS is otherwise general-dynamic, one __tls_get_addr call per
 * variable (two calls, 22 of a hit's 255 instructions, measured with cachegrind). A
 * process that dlopens the library after start-up takes these 16 bytes (and the
 * dispatching domain's 8, alloc.c's 12) from glibc's static TLS surplus, as jemalloc's
 * own initial-exec TLS does. */
#if defined(__GNUC__) && defined(__ELF__)
#define RECLAIM_TLS_IE __attribute__((tls_model("initial-exec"))) /* statics: alloc.c */
#define RECLAIM_TLS_FAST __attribute__((visibility("hidden"))) RECLAIM_TLS_IE
#else
#define RECLAIM_TLS_IE
#define RECLAIM_TLS_FAST
#endif
extern _Thread_local uint64_t reclaim_tls_gen RECLAIM_TLS_FAST;
extern _Thread_local struct reclaim_thread *reclaim_tls_thread RECLAIM_TLS_FAST;

static inline struct reclaim_thread *reclaim_self(struct reclaim *r)
{
	if (__builtin_expect(reclaim_tls_gen == r->gen, 1))
		return reclaim_tls_thread;
	return reclaim_self_slow(r);
}

/*
 * The fenced section start (no membarrier: HC_PORTABLE, macOS, old kernels, seccomp;
 * and TSan builds), in place of ck 0.7.1's ck_epoch_begin, which on weakly ordered
 * CPUs (ARM, POWER) lacks a barrier that upstream ck added later (1faa673, "add
 * missing barrier for RMO architectures in begin"). The argument, as C11 fences:
 *   1. active = 1, then a seq_cst fence, then the loads of the global epoch and of
 *      everything the section reads. A poller does its own full fence between taking
 *      the retired objects (after they were unlinked) and scanning the records
 *      (ck_epoch_poll's ck_pr_fence_memory). Two seq_cst fences: either the reader's
 *      fence comes first, and the scan sees active = 1, or the poller's does, and the
 *      reader's loads see the unlink (store buffering, forbidden by the fences' total
 *      order), so it cannot reach an object that poll may free.
 *   2. record epoch = the epoch read, then a second seq_cst fence before the section's
 *      loads: on RMO a later load may otherwise be satisfied before the epoch store is
 *      visible, and a poller that sees active with the epoch of a previous section
 *      could count this reader as having seen the current epoch while its loads
 *      belong to the next; the fence keeps the announcement (active and epoch)
 *      before every load of the section. On x86 (TSO) both are one mfence each.
 * reclaim_enter runs it after its store of active = 1 and its load of the mode.
 * Owner thread; wait-free.
 */
static inline void reclaim_fenced_announce(ck_epoch_record_t *rec)
{
	/* active = 1 is stored (relaxed) before this call. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* pairs with the poller's fence (1.) */
	__atomic_store_n(&rec->epoch, __atomic_load_n(&rec->global->epoch, __ATOMIC_RELAXED),
	                 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* announcement before the section (2.) */
}

#ifdef HC_TSAN
/* TSan does not model fences: the same order by seq_cst accesses (x86 only, where the
 * exchange is the full barrier ck_epoch_begin uses). TSan builds never go fenceless. */
static inline void reclaim_enter_tsan(ck_epoch_record_t *rec)
{
	unsigned a = __atomic_load_n(&rec->active, __ATOMIC_RELAXED);
	if (a != 0) {
		__atomic_store_n(&rec->active, a + 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_exchange_n(&rec->active, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&rec->epoch, __atomic_load_n(&rec->global->epoch, __ATOMIC_SEQ_CST),
	                 __ATOMIC_SEQ_CST);
}
#endif

/* The check a thread makes every RECLAIM_MODE_READS fenced sections, since polls stop
 * when writes do and a poll is where the mode is otherwise chosen: if the domain polled
 * so little since the thread's last check that the polls' barriers (at their last
 * mean) would cost less than a quarter of the fences of the reads counted meanwhile
 * (the same test as a window's), it goes back to asymmetric (under poll_mu, taken only
 * if free, as a poller would). Reads, not this thread's sections: a write's section
 * counts for nothing in a window either, and counting them here had a put-only cache
 * switch back and forth. Cold; any thread, inside its section. */
#define RECLAIM_MODE_READS 16384u
void reclaim_mode_check(struct reclaim_thread *t);

/* A test seam (tests/stress/sb_reclaim.c widens the window with it): runs between the
 * announcement's store of active and the load of the mode. Empty elsewhere. */
#ifndef RECLAIM_TEST_ENTER_GAP
#define RECLAIM_TEST_ENTER_GAP() ((void)0)
#endif

/* Starts a read section on the calling thread's record; sections nest. Returns the
 * record (pass it to reclaim_exit) or NULL when registration ran out of memory.
 * Any thread. Wait-free after registration. Orders: in the asymmetric mode, a compiler
 * barrier here and a process-wide barrier at every poll; else reclaim_fenced_announce's
 * fences, so that no load of the section moves before the announcement. The mode is
 * loaded after the store of active = 1 (see "Choosing the mode" at the top). */
static inline struct reclaim_thread *reclaim_enter(struct reclaim *r)
{
	struct reclaim_thread *t = reclaim_self(r);
	if (t == NULL)
		return NULL;
#ifndef HC_TSAN
	ck_epoch_record_t *rec = &t->rec;
	if (rec->active == 0) {
		/* The order of these stores and the section's loads is enforced by the
		 * poller's membarrier (see the top of this file), or by the fences below;
		 * the compiler must keep program order. */
#ifndef HC_RECLAIM_BROKEN_MODE_FIRST
		ck_pr_store_uint(&rec->active, 1);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		RECLAIM_TEST_ENTER_GAP();
		/* Acquire pairs with the release store of 1 in the switch to asymmetric. */
		int fenceless = atomic_load_explicit(&r->asym, memory_order_acquire);
#else
		/* The negative control of sb_reclaim's switch mode: the mode loaded before the
		 * announcement. Never in the library or the other tests. */
		int fenceless = atomic_load_explicit(&r->asym, memory_order_acquire);
		RECLAIM_TEST_ENTER_GAP();
		ck_pr_store_uint(&rec->active, 1);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
		if (fenceless) {
			ck_pr_store_uint(&rec->epoch,
			                 __atomic_load_n(&rec->global->epoch, __ATOMIC_ACQUIRE));
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
			return t;
		}
		reclaim_fenced_announce(rec);
		if (__builtin_expect((++t->fenced_n & (RECLAIM_MODE_READS - 1)) == 0, 0))
			reclaim_mode_check(t);
		return t;
	}
	ck_pr_store_uint(&rec->active, rec->active + 1);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return t;
#else
	reclaim_enter_tsan(&t->rec);
	return t;
#endif
}

/* Ends a section begun by reclaim_enter on this thread. Wait-free. Orders: release
 * (ck), so the section's loads complete before a reclaimer can see it ended. */
static inline void reclaim_exit(struct reclaim_thread *t)
{
#ifdef HC_TSAN
	__tsan_release(&t->dom->tsan_grace);
#endif
	ck_epoch_end(&t->rec, NULL);
}

/* Objects a thread batches before it hands them to the domain's staging stack. */
#define RECLAIM_BATCH 32u

/*
 * Hands an unlinked object to the domain: fn(node) runs after a grace period. bytes
 * are counted as retired until then. The caller must have made the object unreachable
 * to new readers. May be called inside or outside a section. The owner thread of t.
 * Wait-free, except one CAS push per RECLAIM_BATCH objects; no reclamation here: call
 * reclaim_poll.
 */
void reclaim_retire(struct reclaim_thread *t, struct reclaim_node *node, size_t bytes,
                    reclaim_fn *fn);

/* Retired objects past which reclaim_poll polls whatever their bytes (bounds the list
 * a poll hands over and the objects a thread can leave pending). */
#define RECLAIM_POLL_MAX 4096u
/* The pending bytes past which reclaim_poll polls: this fraction of the backlog cap. */
#define RECLAIM_POLL_SHARE 16u
/* A thread looks whether a poll is due once it has itself retired this fraction of
 * the poll threshold (or of RECLAIM_POLL_MAX objects) since it last looked. */
#define RECLAIM_CHECK_SHARE 64u
/* What one reclaim_poll frees of the ready objects: the domain's pace times the bytes
 * its thread retired since its previous call, less what earlier steps freed beyond
 * theirs (objects are freed whole). The pace is in sixteenths, from 1x to 2x: a paced
 * poll that finds objects left from earlier releases raises it by RECLAIM_PACE_UP, one
 * that finds none lowers it by one sixteenth. */
#define RECLAIM_PACE_ONE 16u
#define RECLAIM_PACE_MAX 32u
#define RECLAIM_PACE_UP 2u
/* take_ready's step for "everything ready". */
#define RECLAIM_STEP_ALL UINT64_MAX

/* Hands the thread's batch to the domain, tries to end a grace period and frees what
 * was retired long enough ago, by any thread. Must be called outside a section. The
 * owner thread of t. Never blocks: if another thread is polling, returns at once.
 * reclaim_poll does so only once backlog_cap / RECLAIM_POLL_SHARE bytes or
 * RECLAIM_POLL_MAX objects were retired since the last poll began: a poll costs a
 * membarrier (an IPI to every CPU running the process), so polls are few and large,
 * paced by the bytes they hand over rather than by objects (with 64-byte values a fixed
 * 64 objects were 10 KiB a poll). Paced by what arrived, not by what is pending: while
 * a reader is in a section, an object needs two or three polls' epoch advances, so
 * the pending bytes stay at 2-3 polls' worth, and a threshold on them had every write
 * poll (a membarrier per write from 2 threads). So about 3 / RECLAIM_POLL_SHARE of
 * the cap stays pending in steady state, within a cache's allowance (backlog_cap is
 * the cache's total retired allowance). reclaim_poll_now always.
 * Whether a poll is due is a sum over every thread's retired counters, a line each
 * that its owner writes on every retire: a thread looks only once it has retired a
 * RECLAIM_CHECK_SHARE-th of the threshold (or of RECLAIM_POLL_MAX objects) since it
 * last looked, or after reclaim_hurry, so a poll comes at most that much per thread
 * late. Looking at every write took each of those lines from its owner's cache and
 * back once a write: cache_bench's mixed work with 64-byte values at 2 threads ran
 * 14-15% slower (2026-12-08).
 *
 * Frees: a poll sets what its grace period released aside on the domain's ready stack,
 * and each reclaim_poll (the cache calls it at the end of every write) frees one step of
 * that stack, after its poll when it polls, else with its flush under one hold of the
 * thread's flush mutex: the pace times what its thread retired since its previous call
 * (RECLAIM_PACE_ONE). A poll's release is a sixteenth of the
 * cap, 64 entries of 8 KiB in cache_bench's mixed work, and freeing it all in the write
 * that happened to poll was most of that write's time (the wipe and free of each entry:
 * 60-100 us, the p99 of inserts and erases there); a fixed step of 16 objects made the
 * p99 of erases of 64-byte values five times longer at one thread (2.5 us), a few
 * writes paying for sixteen frees each. So each write pays for about what it retired.
 * The pace keeps the frees level with the allocations: at 1x, a steady writer frees one
 * entry for each it installs, so the allocator's thread cache stays near its level. A
 * fixed 2x emptied the stack within half the writes between two polls, and the other
 * half allocated with nothing freed: jemalloc's thread cache swung by 2048 entries a
 * poll, and refilled and flushed about 6000 times each per million puts (about 25000
 * and 13000 instructions each, slow allocations and frees in the inserts' tail); paced,
 * 2688 and 2684 (callgrind over bench/put_loop). Leftovers at a poll (readers held a
 * grace period back, then it released two polls' worth; a burst of deletes) raise the
 * pace, up to 2x, and an empty stack lowers it, so nothing stays ready for long. A
 * poll's cost stays its membarrier.
 * reclaim_poll_now, reclaim_drain, reclaim_drain_until and reclaim_destroy free
 * everything ready, so an idle cache (hc_stats polls) and a waiting writer still get
 * every byte back at once. */
void reclaim_poll(struct reclaim_thread *t);
void reclaim_poll_now(struct reclaim_thread *t);
/* Frees every object on the ready stack (their grace period already ended): no poll,
 * no barrier. Waits for poll_mu, as a drain does (a trylock there sent 0.35-0.69 writes
 * per 1000 operations of cache_bench's mixed work from 8 threads to a drain, instead of
 * 0-0.21: steppers and pollers hold it often, briefly). Outside a section. The owner
 * thread of t. */
void reclaim_free_ready(struct reclaim_thread *t);
/* Sets the steps' pace to its top (RECLAIM_PACE_MAX): a caller whose retired bytes near
 * its allowance wants the ready stack emptied sooner than the steady pace would; the
 * polls that then find it empty bring the pace down again. And t's next reclaim_poll
 * looks whether a poll is due whatever t retired since it last looked. Wait-free; the
 * pace is a hint (relaxed: a poll adjusting it at the same moment may overwrite it).
 * The owner thread of t. */
void reclaim_hurry(struct reclaim_thread *t);

/*
 * The synchronize fallback: polls (yielding between tries, and not polling while a
 * reader is seen in a section begun before the current epoch, which no poll could
 * get past) until nothing retired is pending or
 * until timeout_ns passes. Returns 0 when drained, HC_EBUSY at the deadline (a reader
 * is stalled in a section, or retirement outpaces it). Outside a section. Owner of t.
 * Blocking, bounded: past the timeout it gives up only on evidence of a stall, a
 * thread holding reclamation back for a whole timeout_ns (a reader seen in one section
 * that long; or, with no reader in the way, 3 polls in a row and timeout_ns with
 * nothing freed), so that a thread preempted through its wait does not take a busy
 * reader's short section for a stall; and at 5 * timeout_ns in any case.
 */
HC_NODISCARD int reclaim_drain(struct reclaim_thread *t, uint64_t timeout_ns);
/* reclaim_drain with the caller's goal: returns 0 as soon as done(arg) holds (checked
 * before and after every poll), HC_EBUSY if it still does not at the deadline. The
 * cache waits for one shard's retired bytes, not for the whole domain's backlog, which
 * other writers keep refilling. Same contract as reclaim_drain. */
HC_NODISCARD int reclaim_drain_until(struct reclaim_thread *t, uint64_t timeout_ns,
                                     int (*done)(void *), void *arg);

/* The read-section mode's choice (see "Choosing the mode" at the top): every
 * RECLAIM_MODE_WINDOW polls, the window's barriers (measured) against its sections
 * times RECLAIM_FENCE_NS, what a fenced start costs one. Alone, an in-cache hit, it
 * adds 6 ns (12.1 -> 18.2 ns on a 2-core VM); amid writes, whose stores it waits for,
 * more: cache_bench's mixed work with 64-byte Zipf keys, about 5900 lookups per
 * barrier, ran 0.95-1.19x HyperClockCache fenced against 1.13-1.30x asymmetric with
 * 6 ns here, and 1200 lookups per barrier (uniform keys) ran the same either way, so
 * a fence there costs about what 1/1500 of a 25 us barrier does. To fenced when the barriers cost more; back to
 * asymmetric when they would cost less than a quarter (RECLAIM_MODE_HYSTERESIS), so
 * that a window near the line does not flip the mode back and forth. */
#define RECLAIM_MODE_WINDOW 16u
#define RECLAIM_FENCE_NS 15u
#define RECLAIM_MODE_HYSTERESIS 4u
/* Tells the domain how many read sections have run (a monotonic count, read by a
 * poller under poll_mu, at most once per RECLAIM_MODE_WINDOW polls), so that it
 * chooses its mode; without it (NULL) the domain stays in its initial mode. Call
 * after reclaim_init, before the domain is shared. */
void reclaim_set_reads(struct reclaim *r, uint64_t (*reads)(void *arg), void *arg);

/* Test seam: when nonzero (N), the mode follows the polls instead of the measurement:
 * asymmetric after every Nth poll, fenced after the others, so that both switches
 * happen every N polls (tests/stress/sb_reclaim.c's switch mode). Any thread; global. */
extern _Atomic unsigned reclaim_mode_cycle;

/* Test seam: nonzero makes every poller's membarrier fail (ENOSYS), as a kernel or
 * seccomp policy that starts refusing it would. Any thread; global. */
extern _Atomic int reclaim_fail_barrier;
/* Test seam: when set, a thread's flush calls it right after pushing its batch onto
 * the staging stack, before it forgets the batch (test_reclaim parks a thread there and
 * forks). Any thread; global. */
extern _Atomic(void (*)(void)) reclaim_flush_pushed;
/* Test seam: when set, a poller calls it before it frees what its poll set aside (the
 * frees run after poll_mu is released, under the poller's flush mutex). */
extern _Atomic(void (*)(void)) reclaim_frees_started;
/* Test seam: when set, a poller calls it right after its poll, poll_mu still held. */
extern _Atomic(void (*)(void)) reclaim_polled;

/* Retired-but-not-freed bytes (and objects) over all threads. Any thread; a snapshot. */
uint64_t reclaim_backlog(struct reclaim *r);
uint64_t reclaim_backlog_objs(struct reclaim *r);
/* reclaim_backlog(r) > the cap. */
int reclaim_over_cap(struct reclaim *r);

/* Releases the calling thread's record now (as thread exit would). Returns 0, or
 * HC_EBUSY inside a section (nothing done: the record stays the thread's). Any
 * thread. */
int reclaim_detach(struct reclaim *r);

/*
 * fork support, called from the cache's pthread_atfork handlers: prepare takes the
 * domain's mutexes (after the caller's own, in rank order), parent releases them, and
 * child re-initialises them and releases every record but the calling thread's (the
 * other threads do not exist in the child; a record left active would stop every
 * grace period). The forking thread only; prepare blocks for a poll or a flush in
 * progress.
 */
void reclaim_fork_prepare(struct reclaim *r);
void reclaim_fork_parent(struct reclaim *r);
void reclaim_fork_child(struct reclaim *r);

/* Inside a reclaim_fn: the domain whose object is being freed (read once for every
 * entry freed: initial-exec, as the thread cache above). */
extern _Thread_local struct reclaim *reclaim_tls_dispatching RECLAIM_TLS_FAST;
static inline struct reclaim *reclaim_dispatching(void)
{
	return reclaim_tls_dispatching;
}

/* Per-thread counters kept for the layer above: add on the owner's record, sum on
 * read. Relaxed: statistics only, no ordering. */
static inline void reclaim_count(struct reclaim_thread *t, size_t i, uint64_t n)
{
	atomic_store_explicit(&t->counters[i],
	                      atomic_load_explicit(&t->counters[i], memory_order_relaxed) + n,
	                      memory_order_relaxed);
}
uint64_t reclaim_counter_sum(struct reclaim *r, size_t i);

#endif
