/*
 * map.pml: the update protocol of map/map.c (split-ordered list, Harris-Michael
 * deletion) for WORKERS threads each doing OPS operations, every one chosen freely
 * among insert-if-absent, replace, delete and compare-and-delete, on NKEYS keys.
 *
 * What is modelled: one list from bucket 0's dummy (HEAD), sorted by so_key; every
 * node's next word is (successor << 1) | MARK as in map.c (MAP_MARK is bit 0). Every
 * C11 atomic (load, CAS) is one indivisible Promela step; plain reads of a node's
 * immutable so_key/key are folded into the load of its next word. Spin explores the
 * sequentially consistent interleavings only: the release/acquire pairs of map.c are
 * not checked here (TSan and the stress tests cover them). With COLLIDE=1 (default)
 * both keys have one so_key, a full hash collision, so every node sits in one equal
 * run and insert's whole-run scan is exercised. Not modelled: bucket dummies other than
 * bucket 0 and their lazy initialisation, growth, counters, the flood statistic,
 * spurious failure of the weak CAS in mark() (it only adds a retry), node reuse (the
 * caller's reclaim section forbids it; reclaim.pml checks that side).
 *
 * What is checked:
 *  - at every step that changes a published next word (each is a d_step ending in check()):
 *    for each key, the reachable unmarked nodes are exactly the ghost abstract map's
 *    node amap[k] (so never two: no duplicate; never none while amap[k] is set: no lost
 *    key), the list is sorted (I1), acyclic, and no node handed back for retirement is
 *    reachable (no use after reclamation, I3);
 *  - amap[] changes only at each operation's linearisation point (its successful CAS),
 *    with insert-if-absent asserting the key was absent and delete / replace asserting
 *    that the node they mark is the live one;
 *  - at the end: no marked node is left reachable, every node ever linked is either the
 *    live node of its key or was retired exactly once (no leak, no double retire);
 *  - with READER=1, a concurrent map_get (lookup_from) returns a node that was the live
 *    node of its key at some moment during the call, or NULL only if the key was absent
 *    at some moment (so a key that stays present, e.g. across a replace, is never
 *    missed, and a deleted node is never returned).
 *
 * Negative controls (map_bad.pml, one step reordered or dropped, selected by -D):
 *   BAD_LINK_STORE   link_at publishes by a plain store: the link is not re-checked
 *   BAD_RETIRE_EARLY map_delete hands the node back before unlinking it
 *   BAD_NO_FALLBACK  unlink_marked gives up when its CAS fails (no find over the run)
 *   BAD_REPLACE_SPLIT map_replace links the new node, then marks the old one (2 CAS)
 *   BAD_SHORT_SCAN   find stops at the first node of the key's equal run (no whole-run scan)
 *   BAD_GET_NO_MARK  lookup_from returns a matching node without checking its mark
 */

#ifndef WORKERS
#define WORKERS 3
#endif
#ifndef OPS
#define OPS 1
#endif
#ifndef NKEYS
#define NKEYS 2
#endif
#ifndef COLLIDE
#define COLLIDE 1
#endif
/* Operations a worker may pick: 1 insert, 2 replace, 4 delete, 8 compare-and-delete;
 * OPMASK for all, or OPMASK0..2 per worker (a role, to keep a 2-key run small). */
#ifndef OPMASK
#define OPMASK 15
#endif
#ifndef OPMASK0
#define OPMASK0 OPMASK
#endif
#ifndef OPMASK1
#define OPMASK1 OPMASK
#endif
#ifndef OPMASK2
#define OPMASK2 OPMASK
#endif
#define MASK_OF(id) ((id) == 0 -> OPMASK0 : ((id) == 1 -> OPMASK1 : OPMASK2))
/* READER=1: one more thread runs map_get(key 1) once, checked for linearisability. */
#ifndef READER
#define READER 0
#endif
/* INIT_B=1: key 2 starts present (HEAD -> A -> B); 0: only A is there. */
#ifndef INIT_B
#define INIT_B (NKEYS >= 2)
#endif

#define NIL 0
#define HEAD 1                          /* bucket 0's dummy, so_key 0 */
#define NODE_A 2                        /* initially linked, key 1 */
#define NODE_B 3                        /* initially linked (INIT_B), key 2 */
#define FIRST_FRESH 4
#define NNODES (FIRST_FRESH + WORKERS * OPS)
#define FRESH(id, i) (FIRST_FRESH + (id) * OPS + (i))
#define SO(k) (((k) == 1 || COLLIDE) -> 1 : 3)  /* so_regular(hash) | 1 */

#define PTR(v) ((v) >> 1)               /* map.c lptr() */
#define MARKED(v) (((v) & 1) == 1)      /* v & MAP_MARK */
#define LINK(p) ((p) << 1)

byte nxt[NNODES];   /* map_link.next: (successor << 1) | MARK */
byte so[NNODES];    /* map_link.so_key, immutable once linked */
byte key[NNODES];   /* the key bytes, immutable once linked */

/* Ghost state, not in the C code. */
byte amap[NKEYS + 1];     /* the abstract map: the live node of each key, or NIL */
bool linked[NNODES];     /* the node was ever published */
bool retired[NNODES];    /* the node was handed back for retirement */

/* The lookup (READER=1): amap[RKEY] values seen while it runs, as a bit set. */
#define RKEY 1
short rseen;
bit racting;

/* amap[k] = v, at a linearisation point; a running lookup of k records v. */
inline set_amap(k, v)
{
	amap[k] = v;
	if
	:: racting && k == RKEY -> rseen = rseen | (1 << v)
	:: else -> skip
	fi
}

/* Scratch of check(): outside the state vector. */
hidden byte cw, csteps, clast, cseen1, cseen2;

/* The list invariant, evaluated inside the d_step of every write to a next word. */
inline check()
{
	cw = PTR(nxt[HEAD]); csteps = 0; clast = 0; cseen1 = 0; cseen2 = 0;
	do
	:: cw == NIL -> break
	:: else ->
		assert(!retired[cw]);                 /* no use after reclamation */
		assert(so[cw] >= clast);              /* I1: sorted by so_key */
		clast = so[cw];
		if
		:: !MARKED(nxt[cw]) ->
			assert(amap[key[cw]] == cw);   /* I2: the only live node of its key */
			if
			:: key[cw] == 1 -> cseen1++
			:: else -> cseen2++
			fi
		:: else -> skip
		fi;
		csteps++;
		assert(csteps < NNODES);              /* acyclic */
		cw = PTR(nxt[cw])
	od;
	assert(cseen1 == (amap[1] != NIL));            /* no lost key */
	assert(NKEYS < 2 || cseen2 == (amap[NKEYS] != NIL))
}

/* CAS on x's next word; ok = 1 on success. */
inline cas(x, expect, desired)
{
	if
	:: nxt[x] == expect -> nxt[x] = desired; ok = 1
	:: else -> ok = 0
	fi
}

/*
 * map.c:find. Scans the whole run of so_key sk from HEAD, unlinking every marked node
 * on the way (restart from HEAD when that CAS fails), and stops at the first node with
 * a greater so_key. Out: fprev/fcurr (insertion point), found/fpv (live node for kk and
 * its predecessor).
 */
inline find(sk, kk)
{
	do
	:: /* retry: */
		prev = HEAD;
		curr = PTR(nxt[HEAD]);                            /* load prev->next */
		fprev = NIL; fcurr = NIL; found = NIL; fpv = NIL; restart = 0;
		do
		:: curr == NIL -> break
		:: else ->
			d_step { nv = nxt[curr]; cso = so[curr]; ckey = key[curr] } /* load curr->next */
			if
			:: MARKED(nv) ->
				/* CAS(prev->next, curr, next & ~MAP_MARK): unlink curr */
				d_step {
					cas(prev, LINK(curr), nv - 1);
					if
					:: ok -> printf("EV %d: find unlinks %d (prev %d)\n", _pid, curr, prev)
					:: else -> printf("EV %d: find's unlink of %d fails: restart\n", _pid, curr)
					fi;
					check()
				}
				if
				:: ok -> curr = PTR(nv)
				:: else -> restart = 1; break     /* goto retry */
				fi
			:: else ->
				if
				:: cso > sk -> break
				:: else ->
					if
					:: cso == sk ->
						if
						:: fprev == NIL -> fprev = prev; fcurr = curr
						:: else -> skip
						fi;
						if
						:: found == NIL && ckey == kk -> found = curr; fpv = prev
						:: else -> skip
						fi
#ifdef BAD_SHORT_SCAN
						; if :: kk != 0 -> break :: else -> skip fi
#endif
					:: else -> skip
					fi;
					prev = curr; curr = PTR(nv)
				fi
			fi
		od;
		if
		:: restart -> skip
		:: else -> break
		fi
	od;
	if
	:: fprev == NIL -> fprev = prev; fcurr = curr
	:: else -> skip
	fi;
	nv = 0; cso = 0; ckey = 0
}

/* map.c:link_at: n->next = curr (unpublished, plain); CAS(prev->next, curr, n). The
 * success of that CAS is the linearisation point of an insert (and of a replace that
 * found the key absent). */
inline link_at(n, kk)
{
	nxt[n] = LINK(fcurr);
	d_step {
#ifdef BAD_LINK_STORE
		nxt[fprev] = LINK(n); ok = 1;
#else
		cas(fprev, LINK(fcurr), LINK(n));
#endif
		if
		:: ok ->
			printf("EV %d: links %d (key %d) after %d\n", _pid, n, kk, fprev);
			assert(amap[kk] == NIL); set_amap(kk, n); linked[n] = 1
		:: else -> printf("EV %d: link of %d after %d fails\n", _pid, n, fprev)
		fi;
		check()
	}
}

/* map.c:mark: CAS x->next from unmarked v to v | MAP_MARK; marked = 1 if this call
 * did it (the linearisation point of delete / compare-and-delete), succ = v. */
inline mark(x)
{
	nv = nxt[x];                                              /* load x->next */
	do
	:: MARKED(nv) -> marked = 0; break
	:: else ->
		d_step {
			if
			:: nxt[x] == nv ->
				nxt[x] = nv + 1; ok = 1;
				printf("EV %d: marks %d (key %d)\n", _pid, x, key[x]);
				assert(amap[key[x]] == x); set_amap(key[x], NIL)
			:: else -> nv = nxt[x]; ok = 0           /* CAS failure reloads */
			fi;
			check()
		}
		if
		:: ok -> marked = 1; succ = nv; break
		:: else -> skip
		fi
	od;
	nv = 0
}

/* map.c:unlink_marked: CAS(prev->next, x, succ); on failure a find over x's run. */
inline unlink_marked(p, x, s)
{
	d_step {
		cas(p, LINK(x), s);
		if
		:: ok -> printf("EV %d: unlinks %d (prev %d)\n", _pid, x, p)
		:: else -> printf("EV %d: unlink of %d after %d fails\n", _pid, x, p)
		fi;
		check()
	}
#ifndef BAD_NO_FALLBACK
	if
	:: ok -> skip
	:: else -> find(so[x], key[x])
	fi
#endif
}

/* The caller of map_delete / map_replace / map_delete_node hands x to reclaim. */
inline retire(x)
{
	d_step {
		printf("EV %d: returns %d for retirement\n", _pid, x);
		assert(!retired[x]); retired[x] = 1; check()
	}
}

/* map.c:map_insert */
inline insert(n, kk)
{
	do
	:: find(so[n], kk);
		if
		:: found != NIL -> break                   /* HC_EEXIST */
		:: else ->
			link_at(n, kk);
			if
			:: ok -> break                      /* 0 */
			:: else -> skip
			fi
		fi
	od
}

/* map.c:map_replace */
inline replace(n, kk)
{
	do
	:: find(so[n], kk);
		if
		:: found == NIL ->
			link_at(n, kk);
			if
			:: ok -> break                      /* NULL: nothing replaced */
			:: else -> skip
			fi
		:: else ->
			victim = found;
			nv = nxt[victim];                   /* load old->next */
			if
			:: MARKED(nv) -> skip               /* continue */
			:: else ->
				nxt[n] = nv;                /* n->next = next (unpublished) */
#ifdef BAD_REPLACE_SPLIT
				/* reordered: link n after old, then mark old in a second CAS */
				d_step {
					cas(victim, nv, LINK(n));
					if
					:: ok -> linked[n] = 1; printf("EV %d: links %d after %d\n", _pid, n, victim)
					:: else -> skip
					fi;
					check()
				}
				if
				:: ok ->
					d_step {
						cas(victim, LINK(n), LINK(n) + 1);
						if
						:: ok -> assert(amap[kk] == victim); set_amap(kk, n)
						:: else -> skip
						fi;
						check()
					}
				:: else -> skip
				fi;
#else
				/* CAS(old->next, next, n | MAP_MARK): marks old and publishes n */
				d_step {
					cas(victim, nv, LINK(n) + 1);
					if
					:: ok ->
						printf("EV %d: replaces %d by %d (key %d)\n", _pid, victim, n, kk);
						assert(amap[kk] == victim); set_amap(kk, n); linked[n] = 1
					:: else -> skip
					fi;
					check()
				}
#endif
				if
				:: ok ->
					nv = 0;
					unlink_marked(fpv, victim, LINK(n));
					retire(victim);
					break
				:: else -> nv = 0
				fi
			fi
		fi
	od
}

/* map.c:map_delete */
inline delete(kk)
{
	do
	:: find(SO(kk), kk);
		if
		:: found == NIL -> break                   /* NULL */
		:: else ->
			victim = found; vprev = fpv;
			mark(victim);
			if
			:: marked ->
#ifdef BAD_RETIRE_EARLY
				retire(victim);             /* reordered: returned before unlinked */
				unlink_marked(vprev, victim, succ);
#else
				unlink_marked(vprev, victim, succ);
				retire(victim);
#endif
				break
			:: else -> skip                     /* deleted or replaced: look again */
			fi
		fi
	od
}

/* map.c:map_delete_node: mark x if it is still unmarked, then a find over its run. */
inline delete_node(x)
{
	mark(x);
	if
	:: marked -> find(so[x], key[x]); retire(x)
	:: else -> skip                                    /* 0 */
	fi
}

inline pick_key()
{
	if
	:: k = 1
	:: NKEYS >= 2 -> k = 2
	fi
}

proctype worker(byte id)
{
	byte i, n, k, x;
	byte mask = MASK_OF(id);
	byte prev, curr, nv, cso, ckey, fprev, fcurr, found, fpv, victim, vprev, succ;
	bool ok, restart, marked;

	do
	:: i < OPS ->
		n = FRESH(id, i);
		if
		:: (mask & 1) -> pick_key(); key[n] = k; so[n] = SO(k); insert(n, k)
		:: (mask & 2) -> pick_key(); key[n] = k; so[n] = SO(k); replace(n, k)
		:: (mask & 4) -> pick_key(); delete(k)
		:: (mask & 8) ->
			/* a node this thread may know of: any node published so far
			 * (NODE_A always was, so the choice never blocks) */
			atomic {
				x = NNODES - 1;
				do
				:: linked[x] -> break
				:: x > NODE_A -> x--
				od
			};
			delete_node(x)
		fi;
		/* forget locals between operations (smaller state vector); the skip is
		 * the target of the operations' breaks (spin cannot jump into a d_step) */
		skip;
		d_step {
			i++; n = 0; k = 0; x = 0; prev = 0; curr = 0; fprev = 0; fcurr = 0;
			found = 0; fpv = 0; victim = 0; vprev = 0; succ = 0;
			ok = 0; restart = 0; marked = 0
		}
	:: else -> break
	od
}

/*
 * map.c:map_get -> lookup_from, for RKEY, concurrent with the workers (READER=1). It
 * must return a node that was the live node of RKEY at some moment during the call,
 * or NULL if RKEY was absent at some moment (linearisability of a lookup).
 */
proctype getter()
{
	byte l, curr, v, cso, ckey, r;

	d_step { racting = 1; rseen = 1 << amap[RKEY] }
	l = HEAD;
	do
	:: curr = PTR(nxt[l]);                             /* load l->next */
		if
		:: curr == NIL -> r = NIL; break
		:: else ->
			/* curr->so_key, node_matches, curr->next (for its mark) */
			d_step { cso = so[curr]; ckey = key[curr]; v = nxt[curr] }
			if
			:: cso > SO(RKEY) -> r = NIL; break
#ifdef BAD_GET_NO_MARK
			:: cso == SO(RKEY) && ckey == RKEY -> r = curr; break /* mark not checked */
#else
			:: cso == SO(RKEY) && ckey == RKEY && !MARKED(v) -> r = curr; break
#endif
			:: else -> l = curr
			fi
		fi
	od;
	skip;                                     /* break target (not a d_step) */
	d_step {
		printf("EV %d: map_get(key %d) returns %d\n", _pid, RKEY, r);
		racting = 0;
		assert((rseen & (1 << r)) != 0);   /* r was RKEY's live node (or NIL) meanwhile */
		l = 0; curr = 0; v = 0; cso = 0; ckey = 0; r = 0
	}
}

init
{
	byte w;
	d_step {
		/* map_init + two earlier inserts: HEAD -> A [-> B], sorted by so_key */
		so[HEAD] = 0;
		key[NODE_A] = 1; so[NODE_A] = SO(1); linked[NODE_A] = 1; amap[1] = NODE_A;
#if INIT_B
		key[NODE_B] = 2; so[NODE_B] = SO(2); linked[NODE_B] = 1; amap[2] = NODE_B;
		nxt[HEAD] = LINK(NODE_A); nxt[NODE_A] = LINK(NODE_B);
#else
		nxt[HEAD] = LINK(NODE_A);
#endif
	}
	atomic {
		w = 0;
		do
		:: w < WORKERS -> run worker(w); w++
		:: else -> break
		od;
#if READER
		run getter()
#else
		skip
#endif
	}
	/* Every worker has returned. */
	(_nr_pr == 1);
	d_step {
		check();
		w = 0;
		do
		:: w < NNODES ->
			if
			:: w >= NODE_A && linked[w] ->
				/* live exactly when not retired: unreachable => retired (no leak) */
				assert(retired[w] != (amap[key[w]] == w))
			:: else -> skip
			fi;
			if
			:: w != NIL -> assert(!MARKED(nxt[w]) || retired[w]) /* owner unlinked it */
			:: else -> skip
			fi;
			w++
		:: else -> break
		od
	}
}
