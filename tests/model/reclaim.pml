/*
 * reclaim.pml: readers versus the evicting writer versus the reclaimer, as hotcache runs
 * them (cache/hotcache.c, cache/policy.c, reclaim/reclaim.c over ck_epoch 0.7.1).
 *
 * Shard state: HEAD -> A(key 1) -> B(key 2), sorted by so_key; next words are
 * (successor << 1) | MARK as in map.c. Processes:
 *  - READERS readers (hotcache.c:lookup), each doing RLOOKUPS lookups of key 1 or 2:
 *    reclaim_enter, map_get (a walk that dereferences every node it passes), then
 *    policy_touch and the value copy on a hit, reclaim_exit;
 *  - one writer, the only updater of the shard (the shard mutex serialises installs,
 *    evictions and deletes): in one section it evicts A (policy.c:evict ->
 *    map_delete_node, retire_entry), exits and polls (hotcache.c:cache_write ends with
 *    reclaim_poll); in a second section it replaces B by C (shard_install_locked ->
 *    map_replace, retire_entry of the old entry), exits and polls;
 *  - one reclaimer: another thread's reclaim_poll (another writer, or relieve()),
 *    RPOLLS times.
 * The grace period is ck_epoch's, modelled step by step: ck_epoch_begin stores
 * active = 1, then loads the global epoch, then stores it in the record (so a scan can
 * see a stale record epoch); ck_epoch_call puts an object in bin (global epoch & 3);
 * ck_epoch_poll(_deferred) dispatches bin epoch-2, scans every record (active, then
 * epoch), frees every bin when nobody is active, else advances the epoch by CAS and
 * dispatches bin epoch-1. The domain's shared record is never active (never in a
 * section) and is left out of the scan; threads register before the run. As in
 * map.pml, every atomic is one step and spin explores sequentially consistent
 * interleavings only (ck's fences make begin store->load ordered; TSan covers the rest).
 *
 * What is checked:
 *  - no use after reclamation: every dereference of a node by a reader (each node the
 *    walk passes, the freq touch, the copy) asserts the node is not FREED;
 *  - only unreachable nodes are retired (asserted at retirement);
 *  - at the end, with the readers gone: nothing reachable was retired, nothing
 *    unreachable is left unretired (no leak), and one poll frees everything retired
 *    (what ck_epoch_poll does when no record is active; reclaim_drain relies on it).
 *
 * Negative controls (reclaim_bad.pml, one step reordered or dropped, selected by -D):
 *   BAD_ANNOUNCE_AFTER_LOAD  the reader loads the bucket's first link before
 *                            ck_epoch_begin announces it
 *   BAD_RETIRE_BEFORE_UNLINK evict retires A after marking it but before the unlink
 *   BAD_NO_POLL_MU           pollers skip the poll_mu trylock: a hand-over lands in the
 *                            shared record between another poller's scan and its
 *                            "nobody active: free every bin"
 *   BAD_ONE_EPOCH            after advancing the epoch, poll frees bin epoch instead of
 *                            epoch-1 (a one-epoch grace period)
 */

#ifndef READERS
#define READERS 2
#endif
#ifndef RLOOKUPS
#define RLOOKUPS 1
#endif
#ifndef RPOLLS
#define RPOLLS 2
#endif

#define NIL 0
#define OBJ_A 1
#define OBJ_B 2
#define OBJ_C 3
#define NOBJ 4                 /* array size: index 0 is NIL */
#define WREC READERS           /* the writer's record index */
#define NREC (READERS + 1)

#define PTR(v) ((v) >> 1)
#define MARKED(v) (((v) & 1) == 1)
#define LINK(p) ((p) << 1)
#define BIT(o) (1 << (o))

/* Reclamation state of an object. */
#define S_NONE 0               /* not retired */
#define S_STAGED 1             /* on the staging stack (reclaim_retire) */
#define S_PENDING 2            /* in a bin of the shared ck_epoch record (ck_epoch_call) */
#define S_FREED 3              /* entry_reclaim ran: wiped and freed */

/* The shard's map. */
byte head;                     /* bucket 0's dummy: next word */
byte nxt[NOBJ];
byte key[NOBJ];                /* so_key = key here: A (1) sorts before B and C (2) */

/* reclaim.h: struct reclaim and ck_epoch */
byte gepoch;                   /* ck_epoch_t.epoch */
bit act[NREC];              /* ck_epoch_record.active */
byte rec_epoch[NREC];          /* ck_epoch_record.epoch */
byte bins[4];                  /* the shared record's pending[CK_EPOCH_LENGTH], as bit sets */
byte staging;                  /* struct reclaim.staging, as a bit set */
byte retired_objs;             /* struct reclaim.retired_objs */
bit poll_mu;                   /* struct reclaim.poll_mu */

/* Ghost state. */
byte st[NOBJ];                 /* S_* */
bit reach[NOBJ];               /* reachable from head */

hidden byte dd;                /* dispatch() scratch */

/* ck_epoch_dispatch(record, b): runs dispatch -> entry_reclaim on every object of bin b. */
inline dispatch(b)
{
	d_step {
		dd = 1;
		do
		:: dd < NOBJ ->
			if
			:: (bins[b] & BIT(dd)) != 0 ->
				assert(st[dd] == S_PENDING);
				st[dd] = S_FREED; retired_objs--;
				printf("EV %d: frees obj %d (bin %d)\n", _pid, dd, b)
			:: else -> skip
			fi;
			dd++
		:: else -> break
		od;
		bins[b] = 0; dd = 0
	}
}

/* reclaim.c:poll_locked, poll_mu held (or not, under BAD_NO_POLL_MU). */
inline poll_locked()
{
	/* atomic_exchange(&r->staging, NULL) */
	d_step { taken = staging; staging = 0; printf("EV %d: takes staging %d\n", _pid, taken) }
	/* ck_epoch_call(r->shared, ...) for each: bin of the global epoch it loads */
	o = 1;
	do
	:: o < NOBJ ->
		if
		:: (taken & BIT(o)) != 0 ->
			d_step {
				bins[gepoch % 4] = bins[gepoch % 4] | BIT(o); st[o] = S_PENDING;
				printf("EV %d: ck_epoch_call obj %d -> bin %d\n", _pid, o, gepoch % 4)
			}
		:: else -> skip
		fi;
		o++
	:: else -> break
	od;
	/* ck_epoch_poll -> ck_epoch_poll_deferred */
	e = gepoch;                                /* load global->epoch */
	printf("EV %d: ck_epoch_poll sees epoch %d\n", _pid, e);
	dispatch((e + 2) % 4);                     /* bin epoch - 2 */
	/* ck_epoch_scan: for each record, load active, then (if active) its epoch */
	r = 0; af = 0; blocked = 0;
	do
	:: r < NREC ->
		a = act[r];
		af = af | a;
		if
		:: a && rec_epoch[r] != e -> blocked = 1; break
		:: else -> r++
		fi
	:: else -> break
	od;
	if
	:: blocked -> printf("EV %d: record %d active at an older epoch\n", _pid, r)
	:: !blocked && !af ->
		/* nobody active: a grace period, dispatch every bin */
		printf("EV %d: scan found nobody active\n", _pid);
		dispatch(0); dispatch(1); dispatch(2); dispatch(3)
	:: !blocked && af ->
		/* every active record saw epoch e: CAS(global->epoch, e, e + 1) */
		d_step {
			if
			:: gepoch == e -> gepoch = e + 1; printf("EV %d: epoch -> %d\n", _pid, gepoch)
			:: else -> skip
			fi
		}
#ifdef BAD_ONE_EPOCH
		dispatch(e % 4)                       /* reordered: the current epoch */
#else
		dispatch((e + 3) % 4)                 /* bin epoch - 1 */
#endif
	fi;
	taken = 0; o = 0; e = 0; r = 0; a = 0; af = 0; blocked = 0
}

/* reclaim.c:reclaim_poll: fast path, trylock, poll_locked, unlock. Outside a section. */
inline reclaim_poll()
{
	if
	:: retired_objs == 0 -> skip
	:: else ->
#ifdef BAD_NO_POLL_MU
		poll_locked()
#else
		atomic { if :: poll_mu == 0 -> poll_mu = 1; got = 1 :: else -> got = 0 fi };
		if
		:: got -> poll_locked(); poll_mu = 0; got = 0
		:: else -> skip                  /* another thread polls: return */
		fi
#endif
	fi
}

/* policy.c:retire_entry -> reclaim.c:reclaim_retire (count, then CAS push). */
inline retire(x)
{
	d_step {
		assert(st[x] == S_NONE);
#ifndef BAD_RETIRE_BEFORE_UNLINK
		assert(!reach[x]);               /* the caller unlinked it */
#endif
		retired_objs++; staging = staging | BIT(x); st[x] = S_STAGED;
		printf("EV %d: retires obj %d\n", _pid, x)
	}
}

/* reclaim.h:reclaim_enter -> ck_epoch_begin (not nested here). */
inline enter(me)
{
	act[me] = 1;                          /* store active = 1; fence */
	g = gepoch;                              /* load global->epoch */
	d_step { rec_epoch[me] = g; g = 0 }     /* store record->epoch */
	printf("EV %d: enters a section at epoch %d\n", _pid, rec_epoch[me])
}

/* reclaim.h:reclaim_exit -> ck_epoch_end */
inline leave(me)
{
	act[me] = 0;
	printf("EV %d: leaves its section\n", _pid)
}

proctype reader(byte me)
{
	byte j, want, p, v, cs, g;

	do
	:: j < RLOOKUPS ->
		if
		:: want = 1
		:: want = 2
		fi;
#ifdef BAD_ANNOUNCE_AFTER_LOAD
		p = PTR(head);                   /* reordered: the walk starts unprotected */
		printf("EV %d: loads head -> obj %d\n", _pid, p);
		enter(me);
#else
		enter(me);
		/* map.c:map_get -> lookup_from: curr = bucket->next */
		p = PTR(head);
		printf("EV %d: loads head -> obj %d\n", _pid, p);
#endif
		do
		:: p == NIL -> break
		:: else ->
			/* curr->so_key, node_matches (key), curr->next (mark) */
			d_step {
				printf("EV %d: reads obj %d\n", _pid, p);
				assert(st[p] != S_FREED); cs = key[p]; v = nxt[p]
			}
			if
			:: cs > want -> p = NIL; break   /* passed its place: miss */
			:: cs == want && !MARKED(v) -> break /* hit */
			:: else ->
				/* l = curr; curr = lptr(l->next) */
				d_step { assert(st[p] != S_FREED); p = PTR(nxt[p]) }
			fi
		od;
		if
		:: p != NIL ->
			printf("EV %d: hit obj %d: touch, copy\n", _pid, p);
			assert(st[p] != S_FREED);        /* cache.h:policy_touch: e->freq */
			assert(st[p] != S_FREED)         /* hotcache.c:lookup -> deliver: the copy */
		:: else -> skip
		fi;
		leave(me);
		d_step { j++; want = 0; p = 0; v = 0; cs = 0 }
	:: else -> break
	od
}

proctype writer()
{
	byte g, taken, o, e, r;
	bit a, af, blocked, got;

	/* hotcache.c:cache_write: shard mutex, reclaim_enter, shard_install_locked ->
	 * make_room -> policy.c:evict(A) -> map.c:map_delete_node(A) */
	enter(WREC);
	nxt[OBJ_A] = nxt[OBJ_A] | 1;             /* map.c:mark: CAS A->next |= MARK */
	printf("EV %d: marks obj 1\n", _pid);
#ifdef BAD_RETIRE_BEFORE_UNLINK
	retire(OBJ_A);                           /* reordered: before the unlink */
#endif
	/* map.c:find over A's run: CAS(head->next, A, A->next & ~MARK) */
	d_step { head = nxt[OBJ_A] - 1; reach[OBJ_A] = 0; printf("EV %d: unlinks obj 1\n", _pid) }
#ifndef BAD_RETIRE_BEFORE_UNLINK
	retire(OBJ_A);                           /* policy.c:evict -> retire_entry */
#endif
	leave(WREC);                             /* reclaim_exit, unlock */
	reclaim_poll();                          /* end of cache_write */

	/* a second hc_put: shard_install_locked(C, replace) -> map.c:map_replace(C) */
	enter(WREC);
	nxt[OBJ_C] = nxt[OBJ_B];                 /* n->next = old->next (unpublished) */
	/* CAS(old->next, next, C | MARK): B deleted, C published, in one step */
	d_step {
		nxt[OBJ_B] = LINK(OBJ_C) + 1; reach[OBJ_C] = 1;
		printf("EV %d: replaces obj 2 by obj 3 (marks 2)\n", _pid)
	}
	/* unlink_marked: CAS(prev->next, B, C), prev = head since A is gone */
	d_step {
		assert(head == LINK(OBJ_B)); head = LINK(OBJ_C); reach[OBJ_B] = 0;
		printf("EV %d: unlinks obj 2\n", _pid)
	}
	retire(OBJ_B);                           /* shard_install_locked: retire_entry(old) */
	leave(WREC);
	reclaim_poll()
}

proctype reclaimer()
{
	byte k, taken, o, e, r;
	bit a, af, blocked, got;

	do
	:: k < RPOLLS -> reclaim_poll(); k++
	:: else -> break
	od
}

init
{
	byte w, taken, o, e, r;
	bit a, af, blocked;

	d_step {
		key[OBJ_A] = 1; key[OBJ_B] = 2; key[OBJ_C] = 2;
		head = LINK(OBJ_A); nxt[OBJ_A] = LINK(OBJ_B);
		reach[OBJ_A] = 1; reach[OBJ_B] = 1
	}
	atomic {
		w = 0;
		do
		:: w < READERS -> run reader(w); w++
		:: else -> break
		od;
		run writer();
		run reclaimer()
	}
	(_nr_pr == 1);                           /* every thread has finished */
	d_step {
		w = 1;
		do
		:: w < NOBJ ->
			/* reachable => not retired; unreachable => retired (no leak) */
			assert(reach[w] == (st[w] == S_NONE));
			w++
		:: else -> break
		od
	}
	/* readers are gone: one poll (as reclaim_drain makes) frees everything retired */
	poll_locked();
	d_step {
		w = 1;
		do
		:: w < NOBJ -> assert(reach[w] || st[w] == S_FREED); w++
		:: else -> break
		od;
		assert(retired_objs == 0 && staging == 0)
	}
}
